//! Shops: one deployment serves several Genstore shops (regional stores, brands, an agency's merchants).
//!
//! A shop is named by a short id of its own (`eu`, `brand-b`). Everything orderbridge keeps is kept per
//! shop ([`crate::store::ShopStore`]), every job names its shop ([`crate::jobs::SyncJob::shop`]), and
//! every function works one shop's orders with that shop's Genstore and channels.
//!
//! **Decision (upgrading a one-shop deployment):** the shop a deployment served before shops existed is
//! the *default* shop, and its records keep exactly the keys they had: a one-shop table is a
//! several-shop table whose only shop is the default one, with nothing to migrate. Other shops' records
//! carry their shop in every key.

use serde::{Deserialize, Serialize};

/// A shop's id: 1 to 32 of `a-z`, `0-9` and `-`, starting with a letter or digit. The default shop's
/// is [`ShopId::DEFAULT`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShopId(String);

/// A shop id that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a shop id (1 to 32 of a-z, 0-9 and -, starting with a letter or digit)")]
pub struct InvalidShopId(pub String);

impl ShopId {
    /// The default shop's id: the shop of a one-shop deployment.
    pub const DEFAULT: &'static str = "default";

    /// The default shop.
    pub fn default_shop() -> Self {
        ShopId(Self::DEFAULT.to_owned())
    }

    /// True for the default shop, whose records keep the keys of a one-shop deployment.
    pub fn is_default(&self) -> bool {
        self.0 == Self::DEFAULT
    }

    /// What the shop's keys start with: nothing for the default shop, `@{id}/` for any other (no order
    /// id, record name or key orderbridge makes starts with `@`).
    pub fn key_prefix(&self) -> String {
        if self.is_default() {
            String::new()
        } else {
            format!("@{}/", self.0)
        }
    }
}

impl Default for ShopId {
    fn default() -> Self {
        ShopId::default_shop()
    }
}

impl std::str::FromStr for ShopId {
    type Err = InvalidShopId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if ok {
            Ok(ShopId(s.to_owned()))
        } else {
            Err(InvalidShopId(s.to_owned()))
        }
    }
}

crate::checked_text!(ShopId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_ids_are_short_plain_names() {
        for good in ["default", "eu", "brand-b", "shop1"] {
            assert_eq!(good.parse::<ShopId>().unwrap().as_str(), good);
        }
        for bad in ["", "EU", "a/b", "-x", "é", &"x".repeat(33), "a b", "@eu"] {
            assert!(bad.parse::<ShopId>().is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<ShopId>("\"a/b\"").is_err());
        assert_eq!(ShopId::default().key_prefix(), "");
        assert_eq!("eu".parse::<ShopId>().unwrap().key_prefix(), "@eu/");
    }
}
