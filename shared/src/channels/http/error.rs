//! A platform call's failure: what kind it is and whether the work may succeed later.

use crate::channel::Channel;

/// What went wrong with a platform call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No answer: connection failed or timed out.
    Transport,
    /// A non-2xx answer.
    Status,
    /// A 2xx answer whose body says it failed (Zonos' 200 with `error`).
    Platform,
    /// An answer that does not parse as the call's response.
    Decode,
    /// orderbridge refused to send it, for good (for example a Zonos status that blocks vendor updates
    /// and never moves on: cancelled, end of day complete).
    Refused,
    /// orderbridge did not send it yet: the order's state on the platform blocks the call until the
    /// platform moves it on (Zonos fraud review, a hold, labels processing).
    Blocked,
    /// Configuration or credentials are wrong.
    Config,
    /// Not called: the platform failed every recent call, and its breaker is open for a while.
    Unavailable,
    /// The platform says what the call names does not exist (Zonos: "Couldn't find order for
    /// sinceOrderId").
    NotFound,
}

/// A failed platform call: which platform, which call, the status, the platform's own message, and
/// whether trying again can help. Never carries tokens, secrets or personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{platform} {call}: {}{message}", status.map(|s| format!("HTTP {s}: ")).unwrap_or_default())]
pub struct ClientError {
    /// The platform.
    pub platform: Channel,
    /// The call, e.g. `shipLineItems`.
    pub call: &'static str,
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The HTTP status, where there was one.
    pub status: Option<u16>,
    /// The platform's message, or what orderbridge saw.
    pub message: String,
    /// Whether the same call may succeed later.
    pub retryable: bool,
}

impl ClientError {
    /// An error of a call.
    pub fn new(
        platform: Channel,
        call: &'static str,
        kind: ErrorKind,
        message: impl Into<String>,
        retryable: bool,
    ) -> Self {
        ClientError {
            platform,
            call,
            kind,
            status: None,
            message: message.into(),
            retryable,
        }
    }

    /// The same error with an HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// A body that did not parse as the call's response; retried, then dead-lettered. The parser's
    /// message keeps its shape (what was expected, where) but not the values it quotes, which may be a
    /// customer's name or email: this message goes to logs and audit trails.
    pub fn decode(
        platform: Channel,
        call: &'static str,
        status: u16,
        e: impl std::fmt::Display,
    ) -> Self {
        ClientError::new(
            platform,
            call,
            ErrorKind::Decode,
            format!(
                "unexpected response: {}",
                crate::scrub::parser_message(&e.to_string())
            ),
            true,
        )
        .with_status(status)
    }
}

#[cfg(test)]
mod decode_tests {
    use super::*;

    #[test]
    fn a_decode_error_names_the_problem_but_not_the_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Shape {
            count: u32,
            name: String,
        }
        let e = serde_json::from_str::<Shape>(r#"{"count": "pat@example.com", "name": "x"}"#)
            .unwrap_err();
        assert!(
            e.to_string().contains("pat@example.com"),
            "the raw error quotes it"
        );
        let c = ClientError::decode(Channel::Google, "get", 200, e);
        assert!(!c.message.contains("pat@example.com"), "{}", c.message);
        assert!(c.message.contains("invalid type"), "{}", c.message);
        let missing = serde_json::from_str::<Shape>(r#"{"count": 1}"#).unwrap_err();
        let c = ClientError::decode(Channel::Google, "get", 200, missing);
        assert!(
            c.message.contains("`name`"),
            "field names stay: {}",
            c.message
        );
    }
}
