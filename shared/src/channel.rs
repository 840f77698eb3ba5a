//! The sales channels orderbridge keeps in step.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

crate::named_enum! {
    /// A platform that holds orders: the merchant's store or an external channel. Its name (lower
    /// case) is the one used in keys, logs and Genstore's `sourceName`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Channel {
        /// The merchant's store and system of record.
        Genstore => "genstore",
        /// Cross-border checkout (Zonos Classic, formerly iGlobal).
        Zonos => "zonos",
        /// Google marketplace orders (Content API for Shopping, Orders v2.1).
        Google => "google",
    }
}

impl Channel {
    /// True for the channels whose orders are mirrored into Genstore.
    pub fn is_external(self) -> bool {
        !matches!(self, Channel::Genstore)
    }
}

/// The text named no channel orderbridge knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel {0:?}: expected genstore, zonos or google")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "genstore" => Ok(Channel::Genstore),
            "zonos" | "iglobal" => Ok(Channel::Zonos),
            "google" => Ok(Channel::Google),
            _ => Err(UnknownChannel(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>().unwrap(), c);
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
        assert_eq!("IGlobal".parse::<Channel>().unwrap(), Channel::Zonos);
        assert!("instagram".parse::<Channel>().is_err());
    }
}
