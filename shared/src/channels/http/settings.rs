//! How a platform client is configured: its rate limit, timeouts, retries, paging and response caps.

use super::{ClientError, ErrorKind};
use crate::channel::Channel;
use std::num::NonZeroU32;
use std::time::Duration;

/// A platform's request budget: a bucket of `burst` tokens refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Tokens refilled per second.
    pub per_second: NonZeroU32,
    /// Bucket size.
    pub burst: NonZeroU32,
}

impl RateLimit {
    /// `per_second` requests a second, bursting to `burst`. Zero is read as one.
    pub fn new(per_second: u32, burst: u32) -> Self {
        RateLimit {
            per_second: NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// The time one token takes to refill.
    pub fn refill_interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / f64::from(self.per_second.get()))
    }
}

/// The default cap on one answer: 16 MiB, about 60 times the largest page the platforms document
/// (250 orders).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// The longest wait a `Retry-After` is read as; a longer one (or a far-future date) is read as this.
pub const RETRY_AFTER_CEILING: Duration = Duration::from_secs(24 * 3600);

/// The most pages one listing follows before it stops with an error: 250 orders a page makes this
/// 250,000 orders, beyond any window orderbridge reads in one go.
pub const MAX_PAGES: usize = 1000;

/// Guards a paging loop: a token seen before (a loop, however long) or more than [`MAX_PAGES`] pages
/// ends the listing with an error rather than running until the Lambda's deadline.
#[derive(Debug, Default)]
pub struct Paging {
    seen: std::collections::HashSet<String>,
    pages: usize,
}

impl Paging {
    /// A fresh guard.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one page fetched and reads the next token it gave: `Ok(None)` at the end (no token or an
    /// empty one), `Ok(Some(token))` to go on, an error for a repeated token or too many pages.
    pub fn next(
        &mut self,
        platform: Channel,
        call: &'static str,
        token: Option<String>,
    ) -> Result<Option<String>, ClientError> {
        self.pages = self.pages.saturating_add(1);
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if self.pages >= MAX_PAGES {
            return Err(ClientError::new(
                platform,
                call,
                ErrorKind::Decode,
                format!("more than {MAX_PAGES} pages: the listing was stopped"),
                true,
            ));
        }
        if !self.seen.insert(token.clone()) {
            return Err(ClientError::new(
                platform,
                call,
                ErrorKind::Decode,
                format!(
                    "the platform gave a page token it had given before (after {} pages): the listing loops",
                    self.pages
                ),
                true,
            ));
        }
        Ok(Some(token))
    }
}

/// How a platform is called.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HttpSettings {
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Timeout of one attempt, from sending to the last byte.
    pub timeout: Duration,
    /// Attempts per call, the first included.
    pub max_attempts: usize,
    /// First backoff delay.
    pub min_delay: Duration,
    /// Longest backoff delay (a `Retry-After` may ask for longer, up to [`HttpSettings::max_retry_after`]).
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one ends the call with a retryable error instead.
    pub max_retry_after: Duration,
    /// The request budget.
    pub rate: RateLimit,
    /// The largest answer read; a larger one (by its `Content-Length` or as it streams in) fails the
    /// call with a clear error instead of filling memory.
    pub max_response_bytes: usize,
    /// Calls in a row that failed for want of the platform (no answer, 5xx) before its breaker opens
    /// and calls fail at once without reaching it; 0 never opens it.
    pub breaker_after: u32,
    /// How long an opened breaker stays open (doubling, up to 32 times, while the platform stays down).
    pub breaker_open: Duration,
}

impl HttpSettings {
    /// Defaults with a platform's rate limit.
    pub fn with_rate(rate: RateLimit) -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
            max_attempts: 4,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            rate,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            breaker_after: 5,
            breaker_open: Duration::from_secs(30),
        }
    }
}

/// Whether a call may be sent again after an unclear outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Repeating changes nothing (reads, PUTs, writes with an operation id): retry 429, 5xx, timeouts.
    Safe,
    /// Repeating could apply it twice: retry only 429 and failed connections.
    OnlyIfUnprocessed,
}
