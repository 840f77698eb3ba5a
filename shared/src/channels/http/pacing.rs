//! What paces a client's calls — its own token bucket or the deployment's shared budget — and its
//! circuit breaker.

use super::RateLimit;
use crate::store::{BucketShape, RateBudget};
use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::RateLimiter;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock>;

/// The share of a platform's refill rate the shared budget uses.
const BUDGET_MARGIN: f64 = 0.95;

/// How far apart, at most, calls reach the platform after taking their tokens from the shared budget
/// in the order they took them: the burst the budget grants is kept this much refill inside the
/// platform's. Genstore (2 a second) and Zonos keep one token back, Google two.
const ARRIVAL_SPREAD: Duration = Duration::from_millis(150);

/// While the shared budget cannot be had (its table unreachable, or too busy to grant), each instance
/// paces itself at this fraction of the platform's rate and burst: the deployment runs at most three
/// instances that call platforms at once (order-poller alone, fulfillment-push two), so together they
/// stay under the limit instead of each spending all of it.
pub(super) const FALLBACK_SHARE: u32 = 4;

/// How long leased tokens stay spendable: a lease is for calls about to be made, not a reserve.
const LEASE_LIFETIME: Duration = Duration::from_secs(1);

/// A platform's circuit breaker, shared by the clones of one client: after `threshold` calls in a row
/// that got no usable answer, calls fail at once for a while instead of waiting on a platform that is
/// down (its jobs back off through the queue meanwhile); the first call after that tries again.
pub(super) struct Breaker {
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
    pub(super) fn new(threshold: u32, open_for: Duration) -> Self {
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
    pub(super) fn open_for_now(&self) -> Option<Duration> {
        let until = self.lock().open_until?;
        until.checked_duration_since(Instant::now())
    }

    pub(super) fn succeeded(&self) {
        *self.lock() = BreakerState::default();
    }

    pub(super) fn failed(&self) -> bool {
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
pub(super) enum Pacer {
    Local(Arc<Limiter>),
    Shared(Arc<SharedPacer>),
}

struct Held {
    tokens: u32,
    taken: Instant,
}

pub(super) struct SharedPacer {
    pub(super) budget: Arc<dyn RateBudget>,
    pub(super) bucket: String,
    shape: BucketShape,
    lease: u32,
    reserve: f64,
    held: tokio::sync::Mutex<Held>,
    /// Local pacing while the budget cannot be had: [`FALLBACK_SHARE`] of the platform's limit.
    pub(super) fallback: Arc<Limiter>,
}

impl Pacer {
    /// Waits until one call may go.
    pub(super) async fn ready(&self) {
        match self {
            Pacer::Local(l) => l.until_ready().await,
            Pacer::Shared(s) => s.ready().await,
        }
    }
}

/// One instance's pace while the shared budget cannot be had: [`FALLBACK_SHARE`] of the platform's
/// refill rate (one call every so many seconds for a slow platform: Genstore's 2 a second becomes one
/// every 2 s) and of its burst (at least one).
pub(super) fn fallback_limiter(rate: RateLimit) -> Limiter {
    let per_second = rate.per_second.get();
    let period = Duration::from_secs(u64::from(FALLBACK_SHARE))
        .checked_div(per_second)
        .unwrap_or(Duration::from_secs(1))
        .max(Duration::from_millis(1));
    let burst = std::num::NonZeroU32::new(rate.burst.get() / FALLBACK_SHARE)
        .unwrap_or(std::num::NonZeroU32::MIN);
    let quota = governor::Quota::with_period(period)
        .unwrap_or_else(|| governor::Quota::per_second(std::num::NonZeroU32::MIN))
        .allow_burst(burst);
    RateLimiter::direct(quota)
}

impl SharedPacer {
    /// Paces by `budget`'s bucket `bucket`, shaped from the platform's `rate`, leaving `reserve_share`
    /// of it to others; while the budget cannot be had, by [`fallback_limiter`].
    pub(super) fn new(
        budget: Arc<dyn RateBudget>,
        bucket: &str,
        rate: RateLimit,
        reserve_share: f64,
    ) -> Self {
        let fallback = Arc::new(fallback_limiter(rate));
        // Decision: the shared bucket runs a little inside the platform's (5 % of rate, and the burst
        // less what the rate refills in [`ARRIVAL_SPREAD`], at least one token): calls reach the
        // platform a moment after their tokens are taken — a table write, the network, a busy core —
        // and not all by the same moment, while its bucket counts arrivals by its own clock.
        let headroom = (f64::from(rate.per_second.get()) * ARRIVAL_SPREAD.as_secs_f64())
            .ceil()
            .max(1.0);
        let burst = (f64::from(rate.burst.get()) - headroom).max(1.0);
        SharedPacer {
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
        }
    }

    pub(super) async fn ready(&self) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Grant, StoreError};

    /// A budget that cannot be had (its table unreachable, or too busy).
    struct Unreachable;

    #[async_trait::async_trait]
    impl RateBudget for Unreachable {
        async fn take(&self, _: &str, _: BucketShape, _: u32, _: f64) -> Result<Grant, StoreError> {
            Err(StoreError::Unavailable("too much contention".into()))
        }
    }

    /// Without the shared budget an instance keeps to a quarter of the platform's limit, so the three
    /// that may call at once stay under it together (Genstore: 40 burst, 2 a second).
    #[tokio::test]
    async fn without_the_shared_budget_an_instance_keeps_to_a_share_of_the_limit() {
        let rate = RateLimit::new(2, 40);
        let pacer = SharedPacer::new(Arc::new(Unreachable), "genstore", rate, 0.0);
        // Its burst: a quarter of the platform's, taken at once.
        for _ in 0..10 {
            pacer.ready().await;
        }
        assert!(
            pacer.fallback.check().is_err(),
            "an eleventh call waits: the burst is 10, not 40"
        );
        // Its refill: one call per 2 s (a quarter of 2 a second), three instances making 1.5 a second.
        let limiter = fallback_limiter(rate);
        assert!(limiter
            .check_n(std::num::NonZeroU32::new(10).unwrap())
            .is_ok());
        match limiter.check() {
            Err(not_yet) => {
                let wait = not_yet.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                assert!(
                    wait > Duration::from_millis(1500) && wait <= Duration::from_secs(2),
                    "{wait:?}"
                );
            }
            Ok(()) => panic!("the burst is spent"),
        }
    }
}
