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
    Completed(WorkResult),
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

/// Idempotency records for outbound writes, with AWS Powertools' semantics. Written once, here, for
/// every backend: a backend only reads and conditionally writes records ([`IdempotencyRecords`]).
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
        result: &WorkResult,
        ttl: IdempotencyTtl,
    ) -> Result<bool, StoreError>;
    /// Gives up `owner`'s claim after a failure, so a retry can claim at once. No effect on a claim
    /// that is no longer `owner`'s, or on a completed record.
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError>;
    /// Deletes a completed record whose result says the work failed for good ([`WorkResult::Failed`]),
    /// so the work can be claimed again once its cause is fixed (a replay from the DLQ). True if one
    /// was deleted; a record in progress, one that succeeded, or none at all is left alone.
    async fn forget_failure(&self, key: &str) -> Result<bool, StoreError>;
}

crate::named_enum! {
    /// Where an idempotency record stands; its name is the one stored.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RecordState {
        /// Claimed; the work is under way (or its run died, and the claim lapses).
        InProgress => "IN_PROGRESS",
        /// Done, with its result.
        Completed => "COMPLETED",
    }
}

impl RecordState {
    /// From what is stored; an unknown state reads as in progress, which lapses by itself.
    pub fn parse(stored: &str) -> RecordState {
        RecordState::from_name(stored).unwrap_or(RecordState::InProgress)
    }
}

/// One idempotency record, as every backend keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Where it stands.
    pub state: RecordState,
    /// The hash of the payload it was claimed for.
    pub payload_hash: String,
    /// The claim's token; none on a record made before claims had owners.
    pub owner: Option<String>,
    /// A completed record's result, as stored ([`WorkResult`] JSON).
    pub result: Option<String>,
    /// When an in-progress claim lapses.
    pub in_progress_until: DateTime<Utc>,
    /// When the record itself expires.
    pub until: DateTime<Utc>,
}

/// A backend's part of idempotency: reading one record and writing it on conditions, nothing decided.
/// [`IdempotencyStore`] is built on it for every backend.
#[async_trait]
pub trait IdempotencyRecords: Send + Sync {
    /// Now, by the store's clock.
    fn idempotency_now(&self) -> DateTime<Utc>;
    /// The record under `key`, read consistently.
    async fn read_record(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError>;
    /// Writes `record` under `key` if what is there is still `replacing`: no record, or that record
    /// (the same state, owner and expiry). False if it changed meanwhile; nothing is written.
    async fn swap_record(
        &self,
        key: &str,
        replacing: Option<&IdempotencyRecord>,
        record: &IdempotencyRecord,
    ) -> Result<bool, StoreError>;
    /// Marks the record completed with `result`, kept until `until`, if its owner is `owner`. False
    /// if it is not; nothing is written.
    async fn complete_record(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Deletes the record if it is in `state` and its owner is `owner` (none: a record without one).
    /// False if it is not; nothing is deleted.
    async fn delete_record(
        &self,
        key: &str,
        state: RecordState,
        owner: Option<&str>,
    ) -> Result<bool, StoreError>;
}

/// What a claim finds in the record there now.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// Nothing that holds: no record, an expired one or a lapsed claim. It may be claimed.
    Free,
    /// A record that holds: the claim's answer.
    Held(Result<Claim, IdempotencyError>),
}

/// The claim's decision on the record `current`, at `now`.
fn found(
    current: Option<&IdempotencyRecord>,
    key: &str,
    payload_hash: &str,
    now: DateTime<Utc>,
) -> Found {
    let Some(r) = current else {
        return Found::Free;
    };
    if r.until < now || (r.state == RecordState::InProgress && r.in_progress_until < now) {
        return Found::Free;
    }
    if r.payload_hash != payload_hash {
        return Found::Held(Err(IdempotencyError::PayloadMismatch {
            key: key.to_owned(),
        }));
    }
    Found::Held(Ok(match r.state {
        RecordState::Completed => Claim::Completed(WorkResult::read(r.result.as_deref())),
        RecordState::InProgress => Claim::InProgress {
            until: r.in_progress_until,
        },
    }))
}

#[async_trait]
impl<T: IdempotencyRecords + ?Sized> IdempotencyStore for T {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        ttl: IdempotencyTtl,
    ) -> Result<Claim, IdempotencyError> {
        let owner = uuid::Uuid::new_v4().simple().to_string();
        let claim_at = |now| IdempotencyRecord {
            state: RecordState::InProgress,
            payload_hash: payload_hash.to_owned(),
            owner: Some(owner.clone()),
            result: None,
            in_progress_until: crate::clock::shifted(now, ttl.in_progress),
            until: crate::clock::shifted(now, ttl.record),
        };
        // Most work is claimed once, where there is no record yet: one conditional write, no read.
        if self
            .swap_record(key, None, &claim_at(self.idempotency_now()))
            .await?
        {
            return Ok(Claim::Acquired { owner });
        }
        // A record is there: decide on it. One that changes between the read and the write was
        // claimed or completed by another run: read it again. Three changes in a row is contention to
        // report, not to spin on.
        for _ in 0..3 {
            let now = self.idempotency_now();
            let current = self.read_record(key).await?;
            if let Found::Held(answer) = found(current.as_ref(), key, payload_hash, now) {
                return answer;
            }
            if self
                .swap_record(key, current.as_ref(), &claim_at(now))
                .await?
            {
                return Ok(Claim::Acquired { owner });
            }
        }
        Err(StoreError::Unavailable(format!("idempotency record {key} kept changing")).into())
    }

    async fn complete(
        &self,
        key: &str,
        owner: &str,
        result: &WorkResult,
        ttl: IdempotencyTtl,
    ) -> Result<bool, StoreError> {
        let until = crate::clock::shifted(self.idempotency_now(), ttl.record);
        self.complete_record(key, owner, &result.to_json().to_string(), until)
            .await
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.delete_record(key, RecordState::InProgress, Some(owner))
            .await
            .map(|_| ())
    }

    async fn forget_failure(&self, key: &str) -> Result<bool, StoreError> {
        let Some(r) = self.read_record(key).await? else {
            return Ok(false);
        };
        let failed = r.state == RecordState::Completed
            && matches!(WorkResult::read(r.result.as_deref()), WorkResult::Failed(_));
        if !failed {
            return Ok(false);
        }
        // Deleted only as read: a record claimed again meanwhile has another owner.
        self.delete_record(key, RecordState::Completed, r.owner.as_deref())
            .await
    }
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

    /// A completed record's result as stored. Decision: a result this version cannot read (none, or
    /// another shape) counts as done, with its text as what was done: the work was completed, and
    /// doing it again is what the record exists to prevent.
    pub fn read(stored: Option<&str>) -> WorkResult {
        let text = stored.unwrap_or_default();
        serde_json::from_str(text).unwrap_or_else(|_| WorkResult::Done(text.to_owned()))
    }
}

#[cfg(test)]
#[path = "idempotency_tests.rs"]
mod tests;
