//! Marks personal data (names, emails, phones, addresses) so it cannot reach a log by accident.
//!
//! `Personal<T>` serialises as `T` (the table and the platforms need the value) but its `Debug` and
//! `Display` print `<redacted>`, so `tracing` fields and `{:?}` of a whole order stay clean. Erasing a
//! customer for a compliance webhook drops these values from the order.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value that is personal data: serialised as itself, never printed.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Personal<T>(T);

impl<T> Personal<T> {
    /// Wraps a value that is personal data.
    pub fn new(value: T) -> Self {
        Personal(value)
    }

    /// The value, for code that must send or store it (never for logs).
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value, for code that must send or store it.
    pub fn into_inner(self) -> T {
        self.0
    }

    /// Applies `f` to the value, keeping it marked as personal.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Personal<U> {
        Personal(f(self.0))
    }
}

impl<T> fmt::Debug for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_never_prints_but_serialises() {
        let email = Personal::new("bob@example.com".to_string());
        assert_eq!(format!("{email:?}"), "<redacted>");
        assert_eq!(format!("{email}"), "<redacted>");
        assert_eq!(
            serde_json::to_string(&email).unwrap(),
            "\"bob@example.com\""
        );
        let back: Personal<String> = serde_json::from_str("\"bob@example.com\"").unwrap();
        assert_eq!(back, email);
    }
}
