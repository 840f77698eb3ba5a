//! One shop's part of the table: [`ShopStore`] wraps the deployment's [`Storage`] so that everything a
//! shop's work reads and writes — orders and their indexes, the audit trail, dedupe keys, idempotency
//! records, cursors, leases, rate budgets — is that shop's alone, on either backend, without the
//! adapters knowing shops exist.
//!
//! How: every name and key the shop's code uses is given the shop's prefix ([`ShopId::key_prefix`],
//! `@eu/`) on the way in and loses it on the way out. An order's id, its Genstore order id and its
//! customer id are stored prefixed, so the order's item, its trail and its entries in the Genstore and
//! customer indexes are the shop's own; the status index and a scan, which every shop shares, are
//! filtered to the shop's orders. The default shop's prefix is empty: a one-shop table is read and
//! written exactly as before (see [`crate::shop`]).

use super::{
    AuditEntry, AuditLog, Batch, BucketShape, Cursor, CursorStore, DedupeStore, Expected, Found,
    Grant, IdempotencyRecord, IdempotencyRecords, ItemKey, Lease, OrderKey, OrderStore, Page,
    PageRequest, RateBudget, ReceivedMessage, RecordState, SendReport, Storage, StoreError,
    StoredOrder, SyncQueue, Update, Upsert, Write,
};
use crate::channel::Channel;
use crate::ids::{ChannelOrderId, CustomerId, GenstoreOrderId};
use crate::jobs::SyncJob;
use crate::order::ChannelOrder;
use crate::shop::ShopId;
use crate::status::UnifiedStatus;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// A shop's view of the deployment's storage (see the module's notes).
#[derive(Clone)]
pub struct ShopStore {
    inner: Arc<dyn Storage>,
    shop: ShopId,
    prefix: String,
}

impl ShopStore {
    /// `shop`'s part of `inner`.
    pub fn new(inner: Arc<dyn Storage>, shop: ShopId) -> Self {
        let prefix = shop.key_prefix();
        ShopStore {
            inner,
            shop,
            prefix,
        }
    }

    /// `shop`'s part of `inner`, as the handle the functions take.
    pub fn scoped(inner: Arc<dyn Storage>, shop: &ShopId) -> Arc<dyn Storage> {
        Arc::new(ShopStore::new(inner, shop.clone()))
    }

    /// The shop.
    pub fn shop(&self) -> &ShopId {
        &self.shop
    }

    fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn key(&self, key: &OrderKey) -> OrderKey {
        OrderKey::new(key.channel, self.name(key.order_id.as_str()))
    }

    fn inward(&self, order: &ChannelOrder) -> ChannelOrder {
        let mut o = order.clone();
        if self.prefix.is_empty() {
            return o;
        }
        o.order_id = ChannelOrderId::new(self.name(o.order_id.as_str()));
        o.genstore_order_id = o
            .genstore_order_id
            .map(|g| GenstoreOrderId::new(self.name(g.as_str())));
        o.customer_id = o
            .customer_id
            .map(|c| CustomerId::new(self.name(c.as_str())));
        o
    }

    /// The shop's order as its code knows it, or `None` when the stored order is another shop's.
    fn outward(&self, mut stored: StoredOrder) -> Option<StoredOrder> {
        let (shop, order) = split(stored.order);
        if shop != self.shop {
            return None;
        }
        stored.order = order;
        Some(stored)
    }

    fn outward_all(&self, found: Vec<StoredOrder>) -> Vec<StoredOrder> {
        found.into_iter().filter_map(|s| self.outward(s)).collect()
    }
}

/// The shop a stored order belongs to, and the order as that shop's code knows it (ids without the
/// shop's prefix). For operators reading the whole table.
pub fn split(mut order: ChannelOrder) -> (ShopId, ChannelOrder) {
    let Some((shop, _)) = shop_of(order.order_id.as_str()) else {
        return (ShopId::default_shop(), order);
    };
    let prefix = shop.key_prefix();
    let strip = |s: &str| s.strip_prefix(prefix.as_str()).unwrap_or(s).to_owned();
    order.order_id = ChannelOrderId::new(strip(order.order_id.as_str()));
    order.genstore_order_id = order
        .genstore_order_id
        .map(|g| GenstoreOrderId::new(strip(g.as_str())));
    order.customer_id = order
        .customer_id
        .map(|c| CustomerId::new(strip(c.as_str())));
    (shop, order)
}

/// The shop a prefixed id or name names, and the rest of it; `None` for the default shop's.
pub fn shop_of(id: &str) -> Option<(ShopId, &str)> {
    let rest = id.strip_prefix('@')?;
    let (shop, rest) = rest.split_once('/')?;
    Some((shop.parse().ok()?, rest))
}

#[async_trait]
impl OrderStore for ShopStore {
    async fn get(&self, key: &OrderKey) -> Result<Option<StoredOrder>, StoreError> {
        Ok(self
            .inner
            .get(&self.key(key))
            .await?
            .and_then(|s| self.outward(s)))
    }

    async fn upsert_if_newer(
        &self,
        order: &ChannelOrder,
        expected: Expected,
    ) -> Result<Upsert, StoreError> {
        self.inner
            .upsert_if_newer(&self.inward(order), expected)
            .await
    }

    async fn update(&self, order: &ChannelOrder, expected: u64) -> Result<Update, StoreError> {
        self.inner.update(&self.inward(order), expected).await
    }

    async fn find_by_genstore_id(
        &self,
        id: &GenstoreOrderId,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        let id = GenstoreOrderId::new(self.name(id.as_str()));
        Ok(self.outward_all(self.inner.find_by_genstore_id(&id).await?))
    }

    async fn find_by_customer(
        &self,
        channel: Channel,
        id: &CustomerId,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        let id = CustomerId::new(self.name(id.as_str()));
        Ok(self.outward_all(self.inner.find_by_customer(channel, &id).await?))
    }

    /// The shop's orders of a page of the shared status index: a page may hold fewer than asked, or
    /// none, and still have a next one.
    async fn list_by_status(
        &self,
        status: UnifiedStatus,
        page: PageRequest,
    ) -> Result<Page<StoredOrder>, StoreError> {
        let p = self.inner.list_by_status(status, page).await?;
        Ok(Page {
            items: self.outward_all(p.items),
            next: p.next,
        })
    }

    /// The shop's orders of a page of the table (as [`Self::list_by_status`], pages may be short).
    async fn scan(&self, page: PageRequest) -> Result<Page<StoredOrder>, StoreError> {
        let p = self.inner.scan(page).await?;
        Ok(Page {
            items: self.outward_all(p.items),
            next: p.next,
        })
    }
}

#[async_trait]
impl DedupeStore for ShopStore {
    async fn claim_once(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.inner.claim_once(&self.name(key), ttl).await
    }

    async fn seen(&self, key: &str) -> Result<bool, StoreError> {
        self.inner.seen(&self.name(key)).await
    }
}

#[async_trait]
impl IdempotencyRecords for ShopStore {
    fn idempotency_now(&self) -> DateTime<Utc> {
        self.inner.idempotency_now()
    }

    async fn read_record(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.inner.read_record(&self.name(key)).await
    }

    async fn swap_record(
        &self,
        key: &str,
        replacing: Option<&IdempotencyRecord>,
        record: &IdempotencyRecord,
    ) -> Result<bool, StoreError> {
        self.inner
            .swap_record(&self.name(key), replacing, record)
            .await
    }

    async fn complete_record(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.inner
            .complete_record(&self.name(key), owner, result, until)
            .await
    }

    async fn delete_record(
        &self,
        key: &str,
        state: RecordState,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.inner
            .delete_record(&self.name(key), state, owner)
            .await
    }
}

#[async_trait]
impl AuditLog for ShopStore {
    async fn append(&self, key: &OrderKey, entry: &AuditEntry) -> Result<(), StoreError> {
        self.inner.append(&self.key(key), entry).await
    }

    async fn entries(&self, key: &OrderKey) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.entries(&self.key(key)).await
    }

    async fn redact(&self, key: &OrderKey) -> Result<usize, StoreError> {
        self.inner.redact(&self.key(key)).await
    }
}

#[async_trait]
impl CursorStore for ShopStore {
    async fn read(&self, name: &str) -> Result<Option<Cursor>, StoreError> {
        self.inner.read(&self.name(name)).await
    }

    async fn advance(
        &self,
        name: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<bool, StoreError> {
        self.inner.advance(&self.name(name), expected, new).await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        self.inner.acquire_lease(&self.name(name), owner, ttl).await
    }

    async fn release_lease(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        self.inner.release_lease(&self.name(name), owner).await
    }

    async fn remove(&self, name: &str, expected: &str) -> Result<(), StoreError> {
        self.inner.remove(&self.name(name), expected).await
    }
}

/// A shop's rate budgets are its own: Genstore's limit is per shop. (A Zonos store or Google merchant
/// shared by several shops is paced once: its client takes the deployment's budget, not a shop's.)
#[async_trait]
impl RateBudget for ShopStore {
    async fn take(
        &self,
        bucket: &str,
        shape: BucketShape,
        want: u32,
        reserve: f64,
    ) -> Result<Grant, StoreError> {
        self.inner
            .take(&self.name(bucket), shape, want, reserve)
            .await
    }

    async fn note_throttled(&self, bucket: &str) -> Result<(), StoreError> {
        self.inner.note_throttled(&self.name(bucket)).await
    }
}

#[async_trait]
impl Batch for ShopStore {
    async fn read_batch(&self, keys: &[ItemKey]) -> Result<Vec<Option<Found>>, StoreError> {
        let keys: Vec<ItemKey> = keys
            .iter()
            .map(|k| match k {
                ItemKey::Order(key) => ItemKey::Order(self.key(key)),
                ItemKey::Claim(c) => ItemKey::Claim(self.name(c)),
                ItemKey::Record(r) => ItemKey::Record(self.name(r)),
            })
            .collect();
        Ok(self
            .inner
            .read_batch(&keys)
            .await?
            .into_iter()
            .map(|f| match f {
                Some(Found::Order(stored)) => {
                    self.outward(*stored).map(|s| Found::Order(Box::new(s)))
                }
                other => other,
            })
            .collect())
    }

    async fn write_batch(&self, writes: &[Write]) -> Result<bool, StoreError> {
        let writes: Vec<Write> = writes
            .iter()
            .map(|w| match w {
                Write::Order { order, expected } => Write::Order {
                    order: Box::new(self.inward(order)),
                    expected: *expected,
                },
                Write::Claim { key, ttl } => Write::Claim {
                    key: self.name(key),
                    ttl: *ttl,
                },
                Write::Mark { key, ttl } => Write::Mark {
                    key: self.name(key),
                    ttl: *ttl,
                },
                Write::NoRecord { name } => Write::NoRecord {
                    name: self.name(name),
                },
            })
            .collect();
        self.inner.write_batch(&writes).await
    }
}

/// A shop's view of the sync queue: every job it sends names the shop ([`SyncJob::shop`]), so the job
/// is worked in that shop's part of the table with that shop's platforms.
#[derive(Clone)]
pub struct ShopQueue {
    inner: Arc<dyn SyncQueue>,
    shop: ShopId,
}

impl ShopQueue {
    /// `shop`'s sends to `inner`, as the handle the functions take.
    pub fn scoped(inner: Arc<dyn SyncQueue>, shop: &ShopId) -> Arc<dyn SyncQueue> {
        Arc::new(ShopQueue {
            inner,
            shop: shop.clone(),
        })
    }
}

#[async_trait]
impl SyncQueue for ShopQueue {
    async fn send(&self, jobs: &[SyncJob]) -> Result<SendReport, StoreError> {
        let jobs: Vec<SyncJob> = jobs.iter().map(|j| j.clone().in_shop(&self.shop)).collect();
        self.inner.send(&jobs).await
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, StoreError> {
        self.inner.receive(max, visibility).await
    }

    async fn delete(&self, receipt: &str) -> Result<(), StoreError> {
        self.inner.delete(receipt).await
    }

    async fn hide_for(&self, receipt: &str, for_: std::time::Duration) -> Result<(), StoreError> {
        self.inner.hide_for(receipt, for_).await
    }

    async fn send_raw(&self, bodies: &[String]) -> Result<usize, StoreError> {
        self.inner.send_raw(bodies).await
    }

    async fn depth(&self) -> Result<u64, StoreError> {
        self.inner.depth().await
    }
}
