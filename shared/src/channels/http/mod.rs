//! HTTP plumbing shared by the platform clients: one `reqwest` client per platform (rustls), connect and
//! total timeouts, a token-bucket rate limiter (`governor`), retries with exponential backoff and jitter
//! (`backon`) that honour `Retry-After`, typed errors, and one log line per attempt.
//!
//! A call is retried only where repeating it is safe: reads, PUTs and writes that carry an operation id
//! ([`Repeat::Safe`]) on 429, 5xx and timeouts; a plain create ([`Repeat::OnlyIfUnprocessed`]) only on
//! 429 and failed connections, where the platform certainly did not act.

/// A platform client's `with_budget`: paces it by the deployment's shared budget for the account it
/// calls (see [`PlatformHttp::with_budget`]). For an `impl` of a client with an `http: PlatformHttp`
/// field and a `fn budget_bucket(&self) -> String` naming the account's bucket.
macro_rules! with_shared_budget {
    () => {
        /// Paces this client by the deployment's shared budget for the account it calls (see
        /// [`PlatformHttp::with_budget`](crate::channels::http::PlatformHttp::with_budget)).
        pub fn with_budget(
            mut self,
            budget: std::sync::Arc<dyn crate::store::RateBudget>,
            reserve_share: f64,
        ) -> Self {
            let bucket = self.budget_bucket();
            self.http = self.http.with_budget(budget, &bucket, reserve_share);
            self
        }
    };
}
pub(crate) use with_shared_budget;

mod error;
mod pacing;
mod settings;

pub use error::{ClientError, ErrorKind};
use pacing::{Breaker, Pacer, SharedPacer};
pub use settings::{
    HttpSettings, Paging, RateLimit, Repeat, DEFAULT_MAX_RESPONSE_BYTES, MAX_PAGES,
    RETRY_AFTER_CEILING,
};

use crate::channel::Channel;
use crate::store::RateBudget;
use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use governor::{Quota, RateLimiter};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        let shared = SharedPacer::new(budget, bucket, self.settings.rate, reserve_share);
        self.pacer = Pacer::Shared(Arc::new(shared));
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
                            if let Err(e) = s.budget.note_throttled(self.platform.as_str()).await {
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
