//! The batch port: one read of several items and one all-or-nothing write of several, for the
//! webhook's fast path.

use super::{Cursor, Expected, OrderKey, StoreError, StoredOrder};
use crate::order::ChannelOrder;
use async_trait::async_trait;
use chrono::Duration;

/// An item of the table, for [`Batch`]: an order, a claimed key ([`DedupeStore`](super::DedupeStore)) or a record of the
/// [`CursorStore`](super::CursorStore).
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
    /// Claims a key for a time, unless an unexpired claim exists ([`DedupeStore::claim_once`](super::DedupeStore::claim_once)).
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
    /// Writes nothing: fails the batch if the cursor-store record exists (DynamoDB `ConditionCheck`),
    /// so what the writer decided on reading it absent still holds.
    NoRecord {
        /// The record's name.
        name: String,
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
