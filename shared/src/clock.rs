//! Time as a dependency, so expiry logic (dedupe, idempotency, leases, visibility) can be tested by
//! moving a clock instead of sleeping.

use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

/// Tells the time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to (tests, simulations).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn at(at: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(at)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t = t.checked_add_signed(by).unwrap_or(*t);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A deadline on the wall clock (a Lambda's `Context::deadline()`) as an instant of the monotonic clock:
/// now plus what is left of it. A deadline already past is now.
pub fn instant_of(deadline: SystemTime) -> Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    let now = Instant::now();
    now.checked_add(left).unwrap_or(now)
}

/// `t` moved by `by`, held at the edge of the calendar instead of overflowing (a configured lifetime
/// or a platform's date can be anything).
pub fn shifted(t: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    t.checked_add_signed(by)
        .unwrap_or(if by < Duration::zero() {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration as StdDuration;

    #[test]
    fn a_deadline_on_the_wall_clock_is_as_far_off_on_the_monotonic_one() {
        let before = Instant::now();
        let at = instant_of(SystemTime::now() + StdDuration::from_secs(30));
        let left = at.duration_since(before);
        assert!(
            left > StdDuration::from_secs(29) && left < StdDuration::from_secs(31),
            "{left:?}"
        );
    }

    #[test]
    fn a_deadline_already_past_is_now() {
        let before = Instant::now();
        let at = instant_of(SystemTime::now() - StdDuration::from_secs(30));
        assert!(at >= before && at.duration_since(before) < StdDuration::from_secs(1));
        assert_eq!(
            instant_of(SystemTime::UNIX_EPOCH)
                .duration_since(before)
                .as_secs(),
            0
        );
    }
}
