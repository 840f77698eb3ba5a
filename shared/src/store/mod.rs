//! Ports: what the functions need from storage and queues, as small traits. Handlers never name AWS.
//!
//! Adapters: [`dynamo`] and [`sqs`] (feature `aws`), [`embedded`] (feature `embedded`, SQLite), with
//! the same semantics, proven by one contract suite (`shared/tests/contract.rs`).
//!
//! Every write is conditional. Orders carry a store `version` (bumped by every write, for optimistic
//! concurrency) and the source's [`SourceVersion`](crate::order::SourceVersion) (an older source update
//! never overwrites a newer one). Expiry of dedupe keys, idempotency records and leases is checked in code
//! against the injected [`Clock`](crate::clock::Clock); TTL only cleans up.

pub mod orders;
pub mod provision;

#[cfg(feature = "aws")]
pub mod dynamo;
#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "aws")]
pub mod sqs;
#[cfg(feature = "aws")]
pub mod tally;

use crate::channel::Channel;
use crate::ids::{ChannelOrderId, CustomerId, GenstoreOrderId};
use crate::jobs::{JobError, SyncJob};
use crate::order::ChannelOrder;
use crate::status::UnifiedStatus;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A storage or queue failure, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend is unreachable, throttling, or timed out: try again later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// An item would exceed the backend's size limit (DynamoDB: 400 KB).
    #[error("item too large: {bytes} bytes (limit {limit})")]
    TooLarge {
        /// The item's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Stored data that does not read back (a bug or a manual edit): not retryable.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The backend refused the request for a reason retrying will not fix.
    #[error("storage refused the request: {0}")]
    Refused(String),
}

impl StoreError {
    /// Whether the same call may succeed later.
    pub fn retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// An order's key in the table: channel and the channel's order id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrderKey {
    /// The channel.
    pub channel: Channel,
    /// The order's id there.
    pub order_id: ChannelOrderId,
}

impl OrderKey {
    /// The key of an order.
    pub fn new(channel: Channel, order_id: impl Into<ChannelOrderId>) -> Self {
        OrderKey {
            channel,
            order_id: order_id.into(),
        }
    }

    /// The key of this order.
    pub fn of(order: &ChannelOrder) -> Self {
        OrderKey::new(order.channel, order.order_id.clone())
    }
}

impl fmt::Display for OrderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.channel, self.order_id)
    }
}

/// An order as stored, with its store version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOrder {
    /// The order.
    pub order: ChannelOrder,
    /// The store's version: 1 on creation, bumped by every write.
    pub version: u64,
}

/// What a conditional write expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// No order under the key.
    Absent,
    /// The order at this store version.
    Version(u64),
}

impl Expected {
    /// What a writer that read `stored` expects.
    pub fn from_read(stored: Option<&StoredOrder>) -> Self {
        stored.map_or(Expected::Absent, |s| Expected::Version(s.version))
    }
}

/// The outcome of [`OrderStore::upsert_if_newer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// Written; the order is now at this store version.
    Applied {
        /// The new store version.
        version: u64,
    },
    /// The stored order is as new or newer (by source version): nothing written.
    Stale,
    /// Another writer changed the order since it was read: read again and retry.
    Conflict,
}

/// The outcome of [`OrderStore::update`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Written; the order is now at this store version.
    Applied {
        /// The new store version.
        version: u64,
    },
    /// The order is not at the expected version: read again and retry.
    Conflict,
}

/// A page request for listings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// The token from the previous page.
    pub token: Option<String>,
    /// At most this many (0 means the backend's default, 50).
    pub limit: usize,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: usize) -> Self {
        PageRequest { token: None, limit }
    }

    /// The page size to use.
    pub fn effective_limit(&self) -> usize {
        match self.limit {
            0 => 50,
            n => n.min(1000),
        }
    }
}

/// A page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The token of the next page, if there is one.
    pub next: Option<String>,
}

/// The order table.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// The order under a key.
    async fn get(&self, key: &OrderKey) -> Result<Option<StoredOrder>, StoreError>;

    /// Writes `order` if the store still holds what the caller read (`expected`) and the order's source
    /// version is newer than the stored one.
    async fn upsert_if_newer(
        &self,
        order: &ChannelOrder,
        expected: Expected,
    ) -> Result<Upsert, StoreError>;

    /// Writes `order` if the store holds version `expected` (for changes that are orderbridge's own, such
    /// as the Genstore link or an erasure, which do not change the source version).
    async fn update(&self, order: &ChannelOrder, expected: u64) -> Result<Update, StoreError>;

    /// Every order linked to a Genstore order: the Genstore order itself and the external orders it
    /// mirrors.
    async fn find_by_genstore_id(
        &self,
        id: &GenstoreOrderId,
    ) -> Result<Vec<StoredOrder>, StoreError>;

    /// Every order of a customer on a channel.
    async fn find_by_customer(
        &self,
        channel: Channel,
        id: &CustomerId,
    ) -> Result<Vec<StoredOrder>, StoreError>;

    /// Orders with a unified status, most recently updated first.
    async fn list_by_status(
        &self,
        status: UnifiedStatus,
        page: PageRequest,
    ) -> Result<Page<StoredOrder>, StoreError>;

    /// Every order, in no particular order (for a shop-wide erasure and for operators).
    async fn scan(&self, page: PageRequest) -> Result<Page<StoredOrder>, StoreError>;
}

/// Remembers keys (webhook ids) so an event is acted on once.
#[async_trait]
pub trait DedupeStore: Send + Sync {
    /// Claims `key` for `ttl`. True the first time (or once an earlier claim expired); false for a
    /// duplicate.
    async fn claim_once(&self, key: &str, ttl: Duration) -> Result<bool, StoreError>;
    /// True while an unexpired claim on `key` exists (a read; claims nothing).
    async fn seen(&self, key: &str) -> Result<bool, StoreError>;
}

/// The state of an idempotency record after [`IdempotencyStore::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This caller holds the claim: do the work, then complete or release.
    Acquired,
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
    /// Marks the claim done and stores its result.
    async fn complete(
        &self,
        key: &str,
        result: &serde_json::Value,
        ttl: IdempotencyTtl,
    ) -> Result<(), StoreError>;
    /// Gives up the claim after a failure, so a retry can claim at once.
    async fn release(&self, key: &str) -> Result<(), StoreError>;
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

/// What an outbound write came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Applied now.
    Executed,
    /// Applied before (the platform said duplicate, or orderbridge found it done).
    Duplicate,
    /// Deliberately not done.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Failed.
    Failed {
        /// Why.
        reason: String,
        /// Whether it will be retried.
        retryable: bool,
    },
}

/// One entry of an order's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The operation's idempotency key / platform operation id.
    pub operation_id: String,
    /// The platform written to.
    pub target: Channel,
    /// What was done, e.g. `shipLineItems`.
    pub action: String,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// When.
    pub at: DateTime<Utc>,
    /// What caused it (the correlation id of the webhook or poll run behind the job).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// Each order's trail of outbound writes.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends an entry to an order's trail.
    async fn append(&self, key: &OrderKey, entry: &AuditEntry) -> Result<(), StoreError>;
    /// An order's trail, oldest first.
    async fn entries(&self, key: &OrderKey) -> Result<Vec<AuditEntry>, StoreError>;
    /// Rewrites an order's trail for a redaction request: every free-text reason becomes
    /// [`REDACTED`] (ids, actions, outcomes and times stay). Returns how many entries changed;
    /// a second call changes none.
    async fn redact(&self, key: &OrderKey) -> Result<usize, StoreError>;
}

/// What a redacted audit reason reads.
pub const REDACTED: &str = "[redacted]";

impl AuditEntry {
    /// The entry with its free text replaced by [`REDACTED`]; `None` when it has none left to redact.
    pub fn redacted(&self) -> Option<AuditEntry> {
        let outcome = match &self.outcome {
            AuditOutcome::Skipped { reason } if reason != REDACTED => AuditOutcome::Skipped {
                reason: REDACTED.to_owned(),
            },
            AuditOutcome::Failed { reason, retryable } if reason != REDACTED => {
                AuditOutcome::Failed {
                    reason: REDACTED.to_owned(),
                    retryable: *retryable,
                }
            }
            _ => return None,
        };
        Some(AuditEntry {
            outcome,
            ..self.clone()
        })
    }
}

/// A stored cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Its value.
    pub value: String,
    /// When it last moved.
    pub updated_at: DateTime<Utc>,
}

/// The outcome of a lease request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// The caller holds the lease until then.
    Acquired {
        /// Expiry.
        until: DateTime<Utc>,
    },
    /// Someone else holds it.
    Held {
        /// Who.
        owner: String,
        /// Until when.
        until: DateTime<Utc>,
    },
}

/// Per-channel cursors and the leases that keep two poller runs off one channel.
#[async_trait]
pub trait CursorStore: Send + Sync {
    /// A cursor's value.
    async fn read(&self, name: &str) -> Result<Option<Cursor>, StoreError>;
    /// Moves a cursor to `new` only if it still holds `expected` (none: not yet set). False if it moved.
    async fn advance(
        &self,
        name: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<bool, StoreError>;
    /// Takes the lease `name` for `ttl`, unless another owner holds an unexpired one. The same owner
    /// may renew its own lease.
    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError>;
    /// Gives up a lease the owner holds (no effect otherwise).
    async fn release_lease(&self, name: &str, owner: &str) -> Result<(), StoreError>;
}

/// A job that could not be sent, kept so it is not lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedSend {
    /// The job.
    pub job: SyncJob,
    /// Why it failed.
    pub reason: String,
}

/// What a send did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Jobs sent.
    pub sent: usize,
    /// Batch requests made (SQS takes at most 10 messages a request).
    pub requests: usize,
    /// Jobs that could not be sent after retries.
    pub failed: Vec<FailedSend>,
}

impl SendReport {
    /// True when every job was sent.
    pub fn all_sent(&self) -> bool {
        self.failed.is_empty()
    }
}

/// A message taken from a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The message's id.
    pub message_id: String,
    /// The handle to delete it with.
    pub receipt: String,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
    /// The raw body.
    pub body: String,
}

impl ReceivedMessage {
    /// The body as a job.
    pub fn job(&self) -> Result<SyncJob, JobError> {
        SyncJob::from_body(&self.body)
    }
}

/// The most messages one SQS batch request carries.
pub const SQS_BATCH_LIMIT: usize = 10;

/// The sync queue (and, with another address, its dead-letter queue).
#[async_trait]
pub trait SyncQueue: Send + Sync {
    /// Sends jobs, in batches of at most ten; failed entries are retried, and what still fails is
    /// reported, never dropped.
    async fn send(&self, jobs: &[SyncJob]) -> Result<SendReport, StoreError>;
    /// Takes up to `max` messages, hiding them for `visibility`.
    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, StoreError>;
    /// Deletes a received message.
    async fn delete(&self, receipt: &str) -> Result<(), StoreError>;
    /// Hides a received message for `for_` from now (SQS `ChangeMessageVisibility`, at most 12 hours):
    /// how a job backs off before it is tried again.
    async fn hide_for(&self, receipt: &str, for_: std::time::Duration) -> Result<(), StoreError>;
    /// Makes a received message visible again at once (hidden for no time), for a reader that only
    /// looked.
    async fn unhide(&self, receipt: &str) -> Result<(), StoreError> {
        self.hide_for(receipt, std::time::Duration::ZERO).await
    }
    /// Sends raw bodies as they are (replaying dead letters), reporting how many were sent.
    async fn send_raw(&self, bodies: &[String]) -> Result<usize, StoreError>;
    /// How many messages wait (approximately, on SQS).
    async fn depth(&self) -> Result<u64, StoreError>;
}

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

    /// Counts one answer 429 from the platform of `bucket`, in the current UTC hour's record
    /// ([`throttled_name`]), for `orderbridge status`. Only on a 429, so it costs nothing otherwise.
    async fn note_throttled(&self, _bucket: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The cursor-store record holding a channel's poll position — Zonos' last order id, Genstore's
/// reconciliation position (`sinceId`); Google has none, it lists unacknowledged orders. Read by
/// order-poller, which moves it, and by fulfillment-push (where a mirror search starts) and the CLI.
pub fn poll_cursor(channel: Channel) -> &'static str {
    channel.as_str()
}

/// The cursor-store record of how far the reconciliation's recheck of older Genstore orders got.
pub const GENSTORE_RECHECK: &str = "genstore-recheck";

/// The record counting a platform's 429 answers in one UTC hour (`2026112717`).
pub fn throttled_name(bucket: &str, hour: DateTime<Utc>) -> String {
    format!("throttled:{bucket}:{}", hour.format("%Y%m%d%H"))
}

/// The record counting webhooks by outcome in one ten-minute slot (`webhooks:202611271` + tens of
/// minutes), kept by the one-machine runner only: deployed, the counts are CloudWatch metrics
/// (`Webhooks` by `Outcome`) and cost the webhook no table write.
pub fn webhooks_name(at: DateTime<Utc>) -> String {
    use chrono::Timelike;
    format!("webhooks:{}{}", at.format("%Y%m%d%H"), at.minute() / 10)
}

/// Counts one webhook's outcome in the slot of `at` (a JSON object of counts; compare-and-set).
pub async fn note_webhook(
    store: &dyn CursorStore,
    outcome: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    update_json(
        store,
        &webhooks_name(at),
        8,
        |counts: &mut std::collections::BTreeMap<String, u64>| {
            let n = counts.entry(outcome.to_owned()).or_insert(0);
            *n = n.saturating_add(1);
            true
        },
    )
    .await
}

/// Webhooks by outcome over the hour before `now`, from [`note_webhook`]'s slots (the current one and
/// the six before it: the hour, to within ten minutes).
pub async fn webhooks_last_hour(
    store: &dyn CursorStore,
    now: DateTime<Utc>,
) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
    let mut total = std::collections::BTreeMap::new();
    for back in [0, -10, -20, -30, -40, -50, -60] {
        let at = crate::clock::shifted(now, Duration::minutes(back));
        let Some(c) = store.read(&webhooks_name(at)).await? else {
            continue;
        };
        let counts: std::collections::BTreeMap<String, u64> =
            serde_json::from_str(&c.value).unwrap_or_default();
        for (k, v) in counts {
            let n = total.entry(k).or_insert(0u64);
            *n = n.saturating_add(v);
        }
    }
    Ok(total)
}

/// Changes a cursor-store record by compare-and-set: reads it, asks `change` for its new value from the
/// current one (`None`: leave it as it is), and writes that only if nobody changed the record meanwhile;
/// reads again and retries, `attempts` times in all.
pub async fn update_record(
    store: &dyn CursorStore,
    name: &str,
    attempts: usize,
    change: impl Fn(Option<&str>) -> Result<Option<String>, StoreError>,
) -> Result<(), StoreError> {
    for _ in 0..attempts {
        let current = store.read(name).await?.map(|c| c.value);
        let Some(value) = change(current.as_deref())? else {
            return Ok(());
        };
        if store.advance(name, current.as_deref(), &value).await? {
            return Ok(());
        }
    }
    Err(StoreError::Unavailable(format!("{name} kept changing")))
}

/// [`update_record`] for a record holding JSON: `change` edits the value read (the default when there is
/// none, or when it does not read) and returns false when there is nothing to write.
pub async fn update_json<T>(
    store: &dyn CursorStore,
    name: &str,
    attempts: usize,
    change: impl Fn(&mut T) -> bool,
) -> Result<(), StoreError>
where
    T: Default + Serialize + serde::de::DeserializeOwned,
{
    update_record(store, name, attempts, |current| {
        let mut value: T = current
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or_default();
        if !change(&mut value) {
            return Ok(None);
        }
        serde_json::to_string(&value)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    })
    .await
}

/// Adds one to the count kept in a cursor-store record (compare-and-set, retried a few times).
pub async fn increment(store: &dyn CursorStore, name: &str) -> Result<(), StoreError> {
    update_record(store, name, 5, |current| {
        let n: u64 = current.and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(Some(n.saturating_add(1).to_string()))
    })
    .await
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
) -> (f64, Grant) {
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
    if granted > 0 {
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
    }
}

/// An item of the table, for [`Batch`]: an order, a claimed key ([`DedupeStore`]) or a record of the
/// [`CursorStore`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemKey {
    /// An order.
    Order(OrderKey),
    /// A claimed key (a webhook id, a queued-jobs marker).
    Claim(String),
    /// A cursor-store record.
    Record(String),
}

/// What [`Batch::read_batch`] found under an [`ItemKey`].
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// The order.
    Order(Box<StoredOrder>),
    /// An unexpired claim (an expired one reads as absent).
    Claim,
    /// The record.
    Record(Cursor),
}

/// One write of a [`Batch::write_batch`].
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Stores the order if the table holds what the writer read: no order (store version 1), or the
    /// order at that version (which is then bumped). The writer compared source versions on its read.
    Order {
        /// The order.
        order: Box<ChannelOrder>,
        /// What the writer read.
        expected: Expected,
    },
    /// Claims a key for a time, unless an unexpired claim exists ([`DedupeStore::claim_once`]).
    Claim {
        /// The key.
        key: String,
        /// For how long.
        ttl: Duration,
    },
    /// Records a key for a time whether or not it exists (a marker; never fails the batch).
    Mark {
        /// The key.
        key: String,
        /// For how long.
        ttl: Duration,
    },
}

/// Several items in one request each way, for the hot path of a webhook (issue 17: a new order costs at
/// most one read and one write request).
#[async_trait]
pub trait Batch: Send + Sync {
    /// Reads the items (strongly consistent; DynamoDB `BatchGetItem`, one request unless DynamoDB leaves
    /// some unprocessed). Answers in the order asked, `None` for an absent item.
    async fn read_batch(&self, keys: &[ItemKey]) -> Result<Vec<Option<Found>>, StoreError>;

    /// Writes all or nothing (DynamoDB `TransactWriteItems`, one request; at most 100 writes, each item
    /// once). True when written; false when a condition failed or another transaction held the items
    /// (another writer got there first), in which case nothing was written.
    async fn write_batch(&self, writes: &[Write]) -> Result<bool, StoreError>;
}

/// Everything the functions need from storage, in one handle.
pub trait Storage:
    OrderStore + DedupeStore + IdempotencyStore + AuditLog + CursorStore + RateBudget + Batch
{
}

impl<
        T: OrderStore + DedupeStore + IdempotencyStore + AuditLog + CursorStore + RateBudget + Batch,
    > Storage for T
{
}

#[cfg(test)]
mod work_result_tests;
