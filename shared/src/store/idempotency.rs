//! The idempotency port: one record per job, claimed before the work and completed with its result
//! ([`WorkResult`]), so a job delivered again is not done twice.

use super::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The state of an idempotency record after [`IdempotencyStore::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This caller holds the claim: do the work, then complete or release it, naming `owner`.
    Acquired {
        /// This claim's own token: completing or releasing it takes effect only while the claim is
        /// still this one (a run slower than the claim's lifetime, whose record another run claimed
        /// since, neither completes nor deletes that run's claim).
        owner: String,
    },
    /// Another run holds an unexpired claim: try later.
    InProgress {
        /// When that claim expires.
        until: DateTime<Utc>,
    },
    /// Already done: the stored result.
    Completed(serde_json::Value),
}

/// Errors of idempotency claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyError {
    /// The key was claimed with a different payload: the same key must mean the same work.
    #[error("idempotency key {key} was used for a different payload")]
    PayloadMismatch {
        /// The key.
        key: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long idempotency records and their in-progress claims live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyTtl {
    /// An in-progress claim expires after this, so a crashed run does not block retries for long.
    pub in_progress: Duration,
    /// A completed record is kept this long.
    pub record: Duration,
}

impl Default for IdempotencyTtl {
    fn default() -> Self {
        IdempotencyTtl {
            in_progress: Duration::seconds(60),
            record: Duration::days(7),
        }
    }
}

/// Idempotency records for outbound writes, with AWS Powertools' semantics.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a payload with hash `payload_hash`.
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        ttl: IdempotencyTtl,
    ) -> Result<Claim, IdempotencyError>;
    /// Marks the claim done and stores its result, if the claim is still `owner`'s. False if it is not
    /// (it lapsed and another run claimed the record): nothing is written.
    async fn complete(
        &self,
        key: &str,
        owner: &str,
        result: &serde_json::Value,
        ttl: IdempotencyTtl,
    ) -> Result<bool, StoreError>;
    /// Gives up `owner`'s claim after a failure, so a retry can claim at once. No effect on a claim
    /// that is no longer `owner`'s, or on a completed record.
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError>;
    /// Deletes a completed record whose result says the work failed for good (a result object with a
    /// `failed` member), so the work can be claimed again once its cause is fixed (a replay from the DLQ).
    /// True if one was deleted; a record in progress, one that succeeded, or none at all is left alone.
    async fn forget_failure(&self, key: &str) -> Result<bool, StoreError>;
}

/// What a completed idempotency record says the work came to: the one contract between the job runner
/// that writes it and [`IdempotencyStore::forget_failure`] that reads it. Stored as `{"done": "…"}` or
/// `{"failed": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkResult {
    /// Done; what was done.
    Done(String),
    /// Failed for good; why.
    Failed(String),
}

impl WorkResult {
    /// As the record stores it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Whether a completed record's result (as stored) says the work failed; see
/// [`IdempotencyStore::forget_failure`].
pub fn is_failure_result(stored: &str) -> bool {
    matches!(
        serde_json::from_str::<WorkResult>(stored),
        Ok(WorkResult::Failed(_))
    )
}
