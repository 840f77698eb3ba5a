//! Secrets (API tokens, webhook keys, the Zonos secret) that must never reach a log.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret value: serialised as itself where a platform needs it, printed as `<secret>`.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret, for the code that must send or check it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("f5bde245-f55e-414d-b722-80b25161c12c");
        assert_eq!(format!("{s:?}"), "<secret>");
        assert_eq!(s.expose(), "f5bde245-f55e-414d-b722-80b25161c12c");
    }
}
