//! The shared rate budget port: one token bucket per platform for the whole deployment, and the
//! arithmetic every adapter uses to take from it ([`bucket_take`]).

use super::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A shared token bucket's shape: how fast it refills and how much it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketShape {
    /// Tokens added per second.
    pub per_second: f64,
    /// The most it holds.
    pub burst: f64,
}

/// What a [`RateBudget::take`] got: tokens to spend now, or when to ask again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grant {
    /// Tokens taken (spend each on one request, soon).
    pub tokens: u32,
    /// With no tokens: how long until one is there.
    pub retry_in: std::time::Duration,
}

/// One request budget per platform for the whole deployment: every function and instance takes its
/// tokens from the same bucket in the table, so together they stay within the platform's limit.
#[async_trait]
pub trait RateBudget: Send + Sync {
    /// Takes up to `want` tokens from `bucket` (refilled and capped as `shape` says), leaving at least
    /// `reserve` in it (for lower-priority work such as a backfill). Grants what is there, at most
    /// `want`; none with the wait until one is.
    async fn take(
        &self,
        bucket: &str,
        shape: BucketShape,
        want: u32,
        reserve: f64,
    ) -> Result<Grant, StoreError>;

    /// Counts one answer 429 from `platform` in the current UTC hour ([`count_throttled`]), for
    /// `orderbridge status`: by platform, in the part of the table the budget is in (a shop's for its
    /// Genstore, the deployment's for Zonos and Google). Only on a 429, so it costs nothing otherwise.
    async fn note_throttled(&self, _platform: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The key a 429 is counted under in its hour.
const THROTTLED: &str = "429";

fn hour_slot(at: DateTime<Utc>) -> String {
    at.format("%Y%m%d%H").to_string()
}

fn previous_hour(at: DateTime<Utc>) -> String {
    hour_slot(crate::clock::shifted(at, chrono::Duration::hours(-1)))
}

/// Counts one 429 from the platform of `bucket` in the UTC hour of `at`.
pub async fn count_throttled(
    store: &dyn super::CursorStore,
    bucket: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let name = super::RecordName::Throttled(bucket).to_string();
    super::count_in_slot(store, &name, &hour_slot(at), &previous_hour(at), THROTTLED).await
}

/// The 429s from the platform of `bucket` in the UTC hour of `now` and the one before.
pub async fn throttled_recent(
    store: &dyn super::CursorStore,
    bucket: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let name = super::RecordName::Throttled(bucket).to_string();
    let counts = super::sum_slots(store, &name, &previous_hour(now), &hour_slot(now)).await?;
    Ok(counts.get(THROTTLED).copied().unwrap_or(0))
}

/// What a take leaves: the bucket's level, the time that level is as of, and the grant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Taken {
    /// The level to store.
    pub level: f64,
    /// The time to store it as of: never earlier than the time it was as of. Instances' clocks differ;
    /// a bucket set back by a clock that is behind would be refilled again, for the same time, by the
    /// next clock that is not.
    pub at_ms: i64,
    /// What the caller got.
    pub grant: Grant,
}

/// The arithmetic of a bucket, shared by both adapters so they agree to the token: the level after
/// refilling since `at_ms` and taking what a call may, and the grant.
pub fn bucket_take(
    level: f64,
    at_ms: i64,
    now_ms: i64,
    shape: BucketShape,
    want: u32,
    reserve: f64,
) -> Taken {
    let elapsed_ms = now_ms.saturating_sub(at_ms).max(0);
    #[allow(clippy::cast_precision_loss)] // milliseconds since the last take: far below 2^52
    let elapsed = elapsed_ms as f64 / 1000.0;
    let refilled = elapsed
        .mul_add(shape.per_second, level)
        .min(shape.burst)
        .max(0.0);
    let spendable = (refilled - reserve).floor().clamp(0.0, f64::from(want));
    // `spendable` is a whole number between 0 and `want`.
    let granted = (0..=want)
        .rev()
        .find(|n| f64::from(*n) <= spendable)
        .unwrap_or(0);
    let (level, grant) = if granted > 0 {
        (
            refilled - f64::from(granted),
            Grant {
                tokens: granted,
                retry_in: std::time::Duration::ZERO,
            },
        )
    } else {
        let missing = (reserve + 1.0 - refilled).max(0.0);
        let wait = if shape.per_second > 0.0 {
            missing / shape.per_second
        } else {
            1.0
        };
        (
            refilled,
            Grant {
                tokens: 0,
                retry_in: std::time::Duration::try_from_secs_f64(wait)
                    .unwrap_or(std::time::Duration::from_secs(1))
                    .max(std::time::Duration::from_millis(5)),
            },
        )
    };
    Taken {
        level,
        at_ms: at_ms.max(now_ms),
        grant,
    }
}
