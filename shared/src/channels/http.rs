//! HTTP plumbing shared by the platform clients: one `reqwest` client per platform (rustls), connect and
//! total timeouts, a token-bucket rate limiter (`governor`), retries with exponential backoff and jitter
//! (`backon`) that honour `Retry-After`, typed errors, and one log line per attempt.
//!
//! A call is retried only where repeating it is safe: reads, PUTs and writes that carry an operation id
//! ([`Repeat::Safe`]) on 429, 5xx and timeouts; a plain create ([`Repeat::OnlyIfUnprocessed`]) only on
//! 429 and failed connections, where the platform certainly did not act.

use crate::channel::Channel;
use crate::store::{BucketShape, RateBudget};
use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
                crate::channels::scrub::parser_message(&e.to_string())
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

/// A platform's answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Response {
    /// The body as JSON of type `T`, or a decode error for `call`.
    pub fn json<T: serde::de::DeserializeOwned>(
        &self,
        platform: Channel,
        call: &'static str,
    ) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ClientError::decode(platform, call, self.status.as_u16(), e))
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock>;

/// The share of a platform's refill rate the shared budget uses.
const BUDGET_MARGIN: f64 = 0.95;

/// How far apart, at most, calls reach the platform after taking their tokens from the shared budget
/// in the order they took them: the burst the budget grants is kept this much refill inside the
/// platform's. Genstore (2 a second) and Zonos keep one token back, Google two.
const ARRIVAL_SPREAD: Duration = Duration::from_millis(150);

/// How long leased tokens stay spendable: a lease is for calls about to be made, not a reserve.
const LEASE_LIFETIME: Duration = Duration::from_secs(1);

/// A platform's circuit breaker, shared by the clones of one client: after `threshold` calls in a row
/// that got no usable answer, calls fail at once for a while instead of waiting on a platform that is
/// down (its jobs back off through the queue meanwhile); the first call after that tries again.
struct Breaker {
    threshold: u32,
    open_for: Duration,
    state: std::sync::Mutex<BreakerState>,
}

#[derive(Default)]
struct BreakerState {
    failures: u32,
    opened: u32,
    open_until: Option<Instant>,
}

impl Breaker {
    fn new(threshold: u32, open_for: Duration) -> Self {
        Breaker {
            threshold,
            open_for,
            state: std::sync::Mutex::new(BreakerState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long it stays open, if it is.
    fn open_for_now(&self) -> Option<Duration> {
        let until = self.lock().open_until?;
        until.checked_duration_since(Instant::now())
    }

    fn succeeded(&self) {
        *self.lock() = BreakerState::default();
    }

    fn failed(&self) -> bool {
        if self.threshold == 0 {
            return false;
        }
        let mut st = self.lock();
        st.failures = st.failures.saturating_add(1);
        if st.failures < self.threshold {
            return false;
        }
        let factor = 1u32.checked_shl(st.opened.min(5)).unwrap_or(32);
        let open_for = self.open_for.saturating_mul(factor);
        let now = Instant::now();
        st.open_until = Some(now.checked_add(open_for).unwrap_or(now));
        st.opened = st.opened.saturating_add(1);
        // Half-open afterwards: one more failure opens it again.
        st.failures = self.threshold.saturating_sub(1);
        true
    }
}

/// What paces a client's calls: its own limiter, or the deployment's shared budget.
#[derive(Clone)]
enum Pacer {
    Local(Arc<Limiter>),
    Shared(Arc<SharedPacer>),
}

struct Held {
    tokens: u32,
    taken: Instant,
}

struct SharedPacer {
    budget: Arc<dyn RateBudget>,
    bucket: String,
    shape: BucketShape,
    lease: u32,
    reserve: f64,
    held: tokio::sync::Mutex<Held>,
    /// Local pacing while the budget's table cannot be reached (each instance then keeps to the limit
    /// on its own: more than the platform allows in total, but calls go on and a 429 is retried).
    fallback: Arc<Limiter>,
}

impl Pacer {
    /// Waits until one call may go.
    async fn ready(&self) {
        match self {
            Pacer::Local(l) => l.until_ready().await,
            Pacer::Shared(s) => s.ready().await,
        }
    }
}

impl SharedPacer {
    async fn ready(&self) {
        // One task of this instance asks the table at a time; the others wait for its lease.
        let mut held = self.held.lock().await;
        loop {
            if held.tokens > 0 && held.taken.elapsed() < LEASE_LIFETIME {
                held.tokens = held.tokens.saturating_sub(1);
                return;
            }
            match self
                .budget
                .take(&self.bucket, self.shape, self.lease, self.reserve)
                .await
            {
                Ok(g) if g.tokens > 0 => {
                    *held = Held {
                        tokens: g.tokens.saturating_sub(1),
                        taken: Instant::now(),
                    };
                    return;
                }
                Ok(g) => tokio::time::sleep(g.retry_in).await,
                Err(e) => {
                    tracing::warn!(bucket = %self.bucket, error = %e, "rate budget unreachable; pacing locally");
                    drop(held);
                    self.fallback.until_ready().await;
                    return;
                }
            }
        }
    }
}

/// One platform's HTTP client, limiter and retry policy; cheap to clone.
#[derive(Clone)]
pub struct PlatformHttp {
    platform: Channel,
    client: reqwest::Client,
    pacer: Pacer,
    breaker: Arc<Breaker>,
    settings: HttpSettings,
}

/// Why one attempt failed, whether to send it again now, and how long the platform asked us to wait.
///
/// `retry_now` is this call's own decision (never for an unclear create); `error.retryable` says whether
/// the *work* may succeed later (a timed-out create may, once the caller has looked for what it made).
#[derive(Debug)]
struct Attempt {
    error: ClientError,
    retry_now: bool,
    retry_after: Option<Duration>,
}

/// Reads `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return None;
        }
        // Infinite or past the ceiling reads as the ceiling (never a panic on a huge value).
        return Some(
            Duration::try_from_secs_f64(secs)
                .unwrap_or(RETRY_AFTER_CEILING)
                .min(RETRY_AFTER_CEILING),
        );
    }
    let at = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let wait = at
        .with_timezone(&chrono::Utc)
        .signed_duration_since(chrono::Utc::now());
    Some(
        wait.to_std()
            .unwrap_or(Duration::ZERO)
            .min(RETRY_AFTER_CEILING),
    )
}

enum ReadError {
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads an answer's body, refusing one larger than `max` bytes: at once when its `Content-Length`
/// says so, else as soon as the chunks read pass it.
async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Bytes, ReadError> {
    if resp
        .content_length()
        .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > max))
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Transport)? {
        if body.len().saturating_add(chunk.len()) > max {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

impl PlatformHttp {
    /// A client for `platform`, built once (per cold start).
    pub fn new(platform: Channel, settings: HttpSettings) -> Result<Self, ClientError> {
        let client = crate::https::client_builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("orderbridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ClientError::new(platform, "client", ErrorKind::Config, e.to_string(), false)
            })?;
        let quota = Quota::per_second(settings.rate.per_second).allow_burst(settings.rate.burst);
        Ok(PlatformHttp {
            platform,
            client,
            pacer: Pacer::Local(Arc::new(RateLimiter::direct(quota))),
            breaker: Arc::new(Breaker::new(settings.breaker_after, settings.breaker_open)),
            settings,
        })
    }

    /// Paces this client by the deployment's shared budget for its platform (the `bucket` in the
    /// table) instead of by itself: every function and instance then stays within one limit together.
    /// `reserve_share` of the bucket (0 to 1) is left for others: a backfill leaves room for the live
    /// poll and the pushes.
    pub fn with_budget(
        mut self,
        budget: Arc<dyn RateBudget>,
        bucket: &str,
        reserve_share: f64,
    ) -> Self {
        let fallback = match &self.pacer {
            Pacer::Local(l) => l.clone(),
            Pacer::Shared(s) => s.fallback.clone(),
        };
        let rate = self.settings.rate;
        // Decision: the shared bucket runs a little inside the platform's (5 % of rate, and the burst
        // less what the rate refills in [`ARRIVAL_SPREAD`], at least one token): calls reach the
        // platform a moment after their tokens are taken — a table write, the network, a busy core —
        // and not all by the same moment, while its bucket counts arrivals by its own clock.
        let headroom = (f64::from(rate.per_second.get()) * ARRIVAL_SPREAD.as_secs_f64())
            .ceil()
            .max(1.0);
        let burst = (f64::from(rate.burst.get()) - headroom).max(1.0);
        self.pacer = Pacer::Shared(Arc::new(SharedPacer {
            budget,
            bucket: bucket.to_owned(),
            shape: BucketShape {
                per_second: f64::from(rate.per_second.get()) * BUDGET_MARGIN,
                burst,
            },
            // A lease of about a tenth of the bucket (1 to 4 tokens): a table read and write per lease,
            // well under one per call, and little left unspent when a run ends.
            lease: (rate.burst.get() / 10).clamp(1, 4),
            reserve: (reserve_share.clamp(0.0, 1.0) * burst).min((burst - 1.0).max(0.0)),
            held: tokio::sync::Mutex::new(Held {
                tokens: 0,
                taken: Instant::now(),
            }),
            fallback,
        }));
        self
    }

    /// The platform.
    pub fn platform(&self) -> Channel {
        self.platform
    }

    /// The settings.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Sends a request built by `build` (called once per attempt), paced by the rate limit and retried
    /// per `repeat`. Any status comes back as a [`Response`] unless it is retryable and attempts remain;
    /// the caller decides what a non-2xx means for its call.
    pub async fn send<F>(
        &self,
        call: &'static str,
        repeat: Repeat,
        build: F,
    ) -> Result<Response, ClientError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        if let Some(left) = self.breaker.open_for_now() {
            return Err(ClientError::new(
                self.platform,
                call,
                ErrorKind::Unavailable,
                format!(
                    "not called: the platform failed every recent call (breaker open {} s more)",
                    left.as_secs().saturating_add(1)
                ),
                true,
            ));
        }
        let attempt_no = AtomicU32::new(0);
        let once = || async {
            let attempt = attempt_no.fetch_add(1, Ordering::SeqCst).saturating_add(1);
            self.pacer.ready().await;
            let started = Instant::now();
            let result = build(&self.client).send().await;
            let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            match result {
                Err(e) => {
                    if self.breaker.failed() {
                        tracing::warn!(platform = %self.platform, "platform breaker opened");
                    }
                    let timeout = e.is_timeout();
                    let unsent = e.is_connect();
                    crate::metrics::count(
                        "PlatformCalls",
                        &[("Platform", self.platform.as_str())],
                        1,
                    );
                    tracing::warn!(platform = %self.platform, call, attempt, latency_ms, timeout, "platform call failed");
                    let retry_now =
                        unsent || (repeat == Repeat::Safe && (timeout || e.is_request()));
                    let what = if timeout {
                        "timed out"
                    } else if unsent {
                        "could not connect"
                    } else {
                        "transport error"
                    };
                    Err(Attempt {
                        error: ClientError::new(
                            self.platform,
                            call,
                            ErrorKind::Transport,
                            what,
                            true,
                        ),
                        retry_now,
                        retry_after: None,
                    })
                }
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let body = read_capped(resp, self.settings.max_response_bytes)
                        .await
                        .map_err(|e| match e {
                            ReadError::TooLarge => Attempt {
                                error: ClientError::new(
                                    self.platform,
                                    call,
                                    ErrorKind::Decode,
                                    format!(
                                        "the answer is larger than {} bytes",
                                        self.settings.max_response_bytes
                                    ),
                                    true,
                                )
                                .with_status(status.as_u16()),
                                retry_now: false,
                                retry_after: None,
                            },
                            ReadError::Transport(e) => Attempt {
                                error: ClientError::new(
                                    self.platform,
                                    call,
                                    ErrorKind::Transport,
                                    format!(
                                        "reading the answer failed: {}",
                                        if e.is_timeout() {
                                            "timed out"
                                        } else {
                                            "transport error"
                                        }
                                    ),
                                    true,
                                )
                                .with_status(status.as_u16()),
                                retry_now: repeat == Repeat::Safe,
                                retry_after: None,
                            },
                        })?;
                    tracing::info!(platform = %self.platform, call, status = status.as_u16(), attempt, latency_ms, "platform call");
                    let platform = [("Platform", self.platform.as_str())];
                    crate::metrics::count("PlatformCalls", &platform, 1);
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        crate::metrics::count("PlatformThrottled", &platform, 1);
                        if let Pacer::Shared(s) = &self.pacer {
                            if let Err(e) = s.budget.note_throttled(&s.bucket).await {
                                tracing::debug!(error = %e, "the 429 was not counted in the table");
                            }
                        }
                    } else if status.is_server_error() {
                        crate::metrics::count("PlatformServerErrors", &platform, 1);
                    }
                    if status.is_server_error() {
                        if self.breaker.failed() {
                            tracing::warn!(platform = %self.platform, "platform breaker opened");
                        }
                    } else {
                        self.breaker.succeeded();
                    }
                    let throttled = status == StatusCode::TOO_MANY_REQUESTS;
                    let retry = throttled || (status.is_server_error() && repeat == Repeat::Safe);
                    if retry {
                        let retry_after = parse_retry_after(&headers)
                            .or_else(|| throttled.then(|| self.settings.rate.refill_interval()));
                        return Err(Attempt {
                            error: ClientError::new(
                                self.platform,
                                call,
                                ErrorKind::Status,
                                if throttled {
                                    "rate limited"
                                } else {
                                    "server error"
                                },
                                true,
                            )
                            .with_status(status.as_u16()),
                            retry_now: true,
                            retry_after,
                        });
                    }
                    Ok(Response {
                        status,
                        headers,
                        body,
                    })
                }
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.settings.min_delay)
            .with_max_delay(self.settings.max_delay)
            .with_max_times(self.settings.max_attempts.saturating_sub(1))
            .with_jitter();
        let max_retry_after = self.settings.max_retry_after;
        once.retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|a: &Attempt| a.retry_now && a.retry_after.is_none_or(|d| d <= max_retry_after))
            .adjust(|a: &Attempt, planned| match (a.retry_after, planned) {
                // The platform said when: wait at least that long. No planned delay means the attempts
                // are used up, and that stays final.
                (Some(wait), Some(p)) => Some(wait.max(p)),
                (_, p) => p,
            })
            .await
            .map_err(|a| a.error)
    }
}
