//! The sales channels orderbridge keeps in step.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A platform that holds orders: the merchant's store or an external channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The merchant's store and system of record.
    Genstore,
    /// Cross-border checkout (Zonos Classic, formerly iGlobal).
    Zonos,
    /// Google marketplace orders (Content API for Shopping, Orders v2.1).
    Google,
}

impl Channel {
    /// Every channel, in a fixed order.
    pub const ALL: [Channel; 3] = [Channel::Genstore, Channel::Zonos, Channel::Google];

    /// The lower-case name used in keys, logs and Genstore's `sourceName`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Genstore => "genstore",
            Channel::Zonos => "zonos",
            Channel::Google => "google",
        }
    }

    /// True for the channels whose orders are mirrored into Genstore.
    pub fn is_external(self) -> bool {
        !matches!(self, Channel::Genstore)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
