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

mod audit;
mod batch;
mod budget;
mod cursors;
mod idempotency;
mod names;
mod queue;
mod shop;

pub use audit::{AuditEntry, AuditLog, AuditOutcome, REDACTED};
pub use batch::{Batch, Found, ItemKey, Write};
pub use budget::{
    bucket_take, count_throttled, throttled_recent, BucketShape, Grant, RateBudget, Taken,
};
pub use cursors::{
    count_in_slot, last_webhook, note_webhook, sum_slots, update_json, update_record,
    webhooks_last_hour, Arrivals, Cursor, CursorStore, Lease, ARRIVAL_EVERY_SECS,
};
pub use idempotency::{
    Claim, IdempotencyError, IdempotencyRecord, IdempotencyRecords, IdempotencyStore,
    IdempotencyTtl, RecordState, WorkResult,
};
pub use names::RecordName;
pub use queue::{FailedSend, ReceivedMessage, SendReport, SyncQueue, SQS_BATCH_LIMIT};
pub use shop::{shop_of, split as split_shop, ShopQueue, ShopStore};

use crate::channel::Channel;
use crate::ids::{ChannelOrderId, CustomerId, GenstoreOrderId};
use crate::order::ChannelOrder;
use crate::status::UnifiedStatus;
use async_trait::async_trait;
use chrono::Duration;
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

/// Everything the functions need from storage, in one handle.
pub trait Storage:
    OrderStore
    + DedupeStore
    + IdempotencyRecords
    + IdempotencyStore
    + AuditLog
    + CursorStore
    + RateBudget
    + Batch
{
}

impl<
        T: OrderStore
            + DedupeStore
            + IdempotencyRecords
            + IdempotencyStore
            + AuditLog
            + CursorStore
            + RateBudget
            + Batch,
    > Storage for T
{
}
