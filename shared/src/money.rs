//! Money: a decimal amount in a named currency. Never `f64`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CurrencyCode(String);

/// Text that is not a three-letter currency code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a three-letter currency code")]
pub struct InvalidCurrency(pub String);

impl CurrencyCode {
    /// US dollars, the default where a platform names no currency and none is configured.
    pub fn usd() -> Self {
        CurrencyCode("USD".to_owned())
    }
}

crate::checked_text!(CurrencyCode);

impl FromStr for CurrencyCode {
    type Err = InvalidCurrency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.len() == 3 && t.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(CurrencyCode(t.to_ascii_uppercase()))
        } else {
            Err(InvalidCurrency(s.to_owned()))
        }
    }
}

/// The sum of `amounts`, or `None` when it leaves the decimal range (platform amounts are outside
/// data: their sum is an error for that order, never a panic).
pub fn checked_sum(amounts: impl IntoIterator<Item = Decimal>) -> Option<Decimal> {
    amounts
        .into_iter()
        .try_fold(Decimal::ZERO, |acc, a| acc.checked_add(a))
}

/// The error text for an amount that leaves the decimal range.
pub const OVERFLOW: &str = "is too large: the amounts overflow";

/// An amount of money in a currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// The exact amount.
    pub amount: Decimal,
    /// Its currency.
    pub currency: CurrencyCode,
}

impl Money {
    /// An amount in a currency.
    pub fn new(amount: Decimal, currency: CurrencyCode) -> Self {
        Money { amount, currency }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_are_checked_and_upper_cased() {
        assert_eq!("usd".parse::<CurrencyCode>().unwrap().as_str(), "USD");
        assert!("US".parse::<CurrencyCode>().is_err());
        assert!("U$D".parse::<CurrencyCode>().is_err());
        assert!(serde_json::from_str::<CurrencyCode>("\"EURO\"").is_err());
    }

    #[test]
    fn money_serialises_amount_as_exact_text() {
        let m = Money::new(Decimal::new(40994, 2), "USD".parse().unwrap());
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"amount":"409.94","currency":"USD"}"#
        );
    }
}
