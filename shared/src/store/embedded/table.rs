//! The order table on SQLite: orders, claims, idempotency records, audit trails, cursors, leases and
//! rate budgets.

use super::{sql, ts, Db};
use crate::channel::Channel;
use crate::clock::Clock;
use crate::ids::{CustomerId, GenstoreOrderId};
use crate::order::ChannelOrder;
use crate::status::UnifiedStatus;
use crate::store::{
    AuditEntry, AuditLog, Batch, Claim, Cursor, CursorStore, DedupeStore, Expected, Found,
    IdempotencyError, IdempotencyStore, IdempotencyTtl, ItemKey, Lease, OrderKey, OrderStore, Page,
    PageRequest, StoreError, StoredOrder, Update, Upsert, Write,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::sync::Arc;

/// The order table on SQLite.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl EmbeddedStore {
    /// The table in `db`, telling time by `clock`.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        EmbeddedStore { db, clock }
    }
}

fn order_pk(key: &OrderKey) -> String {
    format!("ORDER#{}#{}", key.channel, key.order_id)
}

fn read_doc(pk: &str, doc: &str, version: i64) -> Result<StoredOrder, StoreError> {
    let order: ChannelOrder =
        serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("{pk}: {e}")))?;
    let version = u64::try_from(version)
        .map_err(|_| StoreError::Corrupt(format!("{pk}: version {version}")))?;
    Ok(StoredOrder { order, version })
}

struct OrderRow {
    pk: String,
    doc: String,
    sv: String,
    status: String,
    updated_at: String,
    genstore: Option<String>,
    customer: Option<String>,
}

fn order_row(order: &ChannelOrder) -> Result<OrderRow, StoreError> {
    let key = OrderKey::of(order);
    Ok(OrderRow {
        pk: order_pk(&key),
        doc: serde_json::to_string(order)
            .map_err(|e| StoreError::Corrupt(format!("order {key}: {e}")))?,
        sv: order.source_version().sort_key(),
        status: order.status.as_str().to_owned(),
        updated_at: ts(order.updated_at),
        genstore: order
            .genstore_order_id
            .as_ref()
            .map(|g| g.as_str().to_owned()),
        customer: order
            .customer_id
            .as_ref()
            .map(|c| format!("{}#{c}", order.channel)),
    })
}

fn write_order(
    conn: &Connection,
    row: &OrderRow,
    key: &OrderKey,
    version: u64,
    insert: bool,
) -> Result<(), StoreError> {
    let sql_text = if insert {
        "INSERT INTO orders (pk, channel, order_id, version, source_version, doc, status, updated_at, genstore_id, customer_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    } else {
        "UPDATE orders SET channel = ?2, order_id = ?3, version = ?4, source_version = ?5, doc = ?6, status = ?7,
         updated_at = ?8, genstore_id = ?9, customer_key = ?10 WHERE pk = ?1"
    };
    conn.execute(
        sql_text,
        params![
            row.pk,
            key.channel.as_str(),
            key.order_id.as_str(),
            i64::try_from(version).unwrap_or(i64::MAX),
            row.sv,
            row.doc,
            row.status,
            row.updated_at,
            row.genstore,
            row.customer
        ],
    )
    .map_err(sql)?;
    Ok(())
}

fn query_orders(
    conn: &Connection,
    sql_text: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<(String, StoredOrder)>, StoreError> {
    let mut stmt = conn.prepare(sql_text).map_err(sql)?;
    let rows = stmt
        .query_map(args, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (pk, doc, version, updated_at) = row.map_err(sql)?;
        let stored = read_doc(&pk, &doc, version)?;
        out.push((format!("{updated_at}|{pk}"), stored));
    }
    Ok(out)
}

#[async_trait]
impl OrderStore for EmbeddedStore {
    async fn get(&self, key: &OrderKey) -> Result<Option<StoredOrder>, StoreError> {
        let pk = order_pk(key);
        self.db.run(move |c| read_order_row(c, &pk)).await
    }

    async fn upsert_if_newer(
        &self,
        order: &ChannelOrder,
        expected: Expected,
    ) -> Result<Upsert, StoreError> {
        let row = order_row(order)?;
        let key = OrderKey::of(order);
        self.db
            .run(move |c| {
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sql)?;
                let current: Option<(i64, String)> = tx
                    .query_row(
                        "SELECT version, source_version FROM orders WHERE pk = ?1",
                        params![row.pk],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(sql)?;
                let outcome = match (expected, current) {
                    (_, Some((_, stored_sv))) if stored_sv >= row.sv => Upsert::Stale,
                    (Expected::Absent, None) => {
                        write_order(&tx, &row, &key, 1, true)?;
                        Upsert::Applied { version: 1 }
                    }
                    (Expected::Version(v), Some((stored, _)))
                        if u64::try_from(stored).ok() == Some(v) =>
                    {
                        write_order(&tx, &row, &key, v.saturating_add(1), false)?;
                        Upsert::Applied {
                            version: v.saturating_add(1),
                        }
                    }
                    _ => Upsert::Conflict,
                };
                tx.commit().map_err(sql)?;
                Ok(outcome)
            })
            .await
    }

    async fn update(&self, order: &ChannelOrder, expected: u64) -> Result<Update, StoreError> {
        let row = order_row(order)?;
        let key = OrderKey::of(order);
        self.db
            .run(move |c| {
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sql)?;
                let stored: Option<i64> = tx
                    .query_row(
                        "SELECT version FROM orders WHERE pk = ?1",
                        params![row.pk],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                let outcome = if stored.and_then(|v| u64::try_from(v).ok()) == Some(expected) {
                    write_order(&tx, &row, &key, expected.saturating_add(1), false)?;
                    Update::Applied {
                        version: expected.saturating_add(1),
                    }
                } else {
                    Update::Conflict
                };
                tx.commit().map_err(sql)?;
                Ok(outcome)
            })
            .await
    }

    async fn find_by_genstore_id(
        &self,
        id: &GenstoreOrderId,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        let id = id.as_str().to_owned();
        self.db
            .run(move |c| {
                let rows = query_orders(
                    c,
                    "SELECT pk, doc, version, updated_at FROM orders WHERE genstore_id = ?1 ORDER BY pk",
                    &[&id],
                )?;
                Ok(rows.into_iter().map(|(_, o)| o).collect())
            })
            .await
    }

    async fn find_by_customer(
        &self,
        channel: Channel,
        id: &CustomerId,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        let key = format!("{channel}#{id}");
        self.db
            .run(move |c| {
                let rows = query_orders(
                    c,
                    "SELECT pk, doc, version, updated_at FROM orders WHERE customer_key = ?1 ORDER BY pk",
                    &[&key],
                )?;
                Ok(rows.into_iter().map(|(_, o)| o).collect())
            })
            .await
    }

    async fn list_by_status(
        &self,
        status: UnifiedStatus,
        page: PageRequest,
    ) -> Result<Page<StoredOrder>, StoreError> {
        let limit = page.effective_limit();
        let status = status.as_str().to_owned();
        let (after_t, after_pk) = match page.token.as_deref() {
            None => (None, None),
            Some(t) => match t.split_once('|') {
                Some((a, b)) => (Some(a.to_owned()), Some(b.to_owned())),
                None => {
                    return Err(StoreError::Refused(
                        "the page token is not one this store issued".into(),
                    ))
                }
            },
        };
        self.db
            .run(move |c| {
                let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
                let mut rows = match (&after_t, &after_pk) {
                    (Some(t), Some(pk)) => query_orders(
                        c,
                        "SELECT pk, doc, version, updated_at FROM orders
                         WHERE status = ?1 AND (updated_at, pk) < (?2, ?3)
                         ORDER BY updated_at DESC, pk DESC LIMIT ?4",
                        &[&status, t, pk, &fetch],
                    )?,
                    _ => query_orders(
                        c,
                        "SELECT pk, doc, version, updated_at FROM orders WHERE status = ?1
                         ORDER BY updated_at DESC, pk DESC LIMIT ?2",
                        &[&status, &fetch],
                    )?,
                };
                let next = (rows.len() > limit).then(|| {
                    rows.truncate(limit);
                    rows.last().map(|(t, _)| t.clone())
                });
                Ok(Page {
                    items: rows.into_iter().map(|(_, o)| o).collect(),
                    next: next.flatten(),
                })
            })
            .await
    }

    async fn scan(&self, page: PageRequest) -> Result<Page<StoredOrder>, StoreError> {
        let limit = page.effective_limit();
        let after = page.token.unwrap_or_default();
        self.db
            .run(move |c| {
                let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
                let mut rows = query_orders(
                    c,
                    "SELECT pk, doc, version, pk FROM orders WHERE pk > ?1 ORDER BY pk LIMIT ?2",
                    &[&after, &fetch],
                )?;
                let next = (rows.len() > limit).then(|| {
                    rows.truncate(limit);
                    rows.last().map(|(_, o)| order_pk(&OrderKey::of(&o.order)))
                });
                Ok(Page {
                    items: rows.into_iter().map(|(_, o)| o).collect(),
                    next: next.flatten(),
                })
            })
            .await
    }
}

#[async_trait]
impl DedupeStore for EmbeddedStore {
    async fn claim_once(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let (key, now_ms, until_ms) = (
            key.to_owned(),
            now.timestamp_millis(),
            crate::clock::shifted(now, ttl).timestamp_millis(),
        );
        self.db
            .run(move |c| {
                let changed = c
                    .execute(
                        "INSERT INTO dedupe (key, until_ms) VALUES (?1, ?2)
                         ON CONFLICT(key) DO UPDATE SET until_ms = excluded.until_ms WHERE dedupe.until_ms < ?3",
                        params![key, until_ms, now_ms],
                    )
                    .map_err(sql)?;
                Ok(changed == 1)
            })
            .await
    }

    async fn seen(&self, key: &str) -> Result<bool, StoreError> {
        let (key, now_ms) = (key.to_owned(), self.clock.now().timestamp_millis());
        self.db
            .run(move |c| {
                let until: Option<i64> = c
                    .query_row(
                        "SELECT until_ms FROM dedupe WHERE key = ?1",
                        params![key],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                Ok(until.is_some_and(|u| u >= now_ms))
            })
            .await
    }
}

const IN_PROGRESS: &str = "IN_PROGRESS";
const COMPLETED: &str = "COMPLETED";

#[async_trait]
impl IdempotencyStore for EmbeddedStore {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        ttl: IdempotencyTtl,
    ) -> Result<Claim, IdempotencyError> {
        let now = self.clock.now();
        let (key, hash) = (key.to_owned(), payload_hash.to_owned());
        let now_ms = now.timestamp_millis();
        let ipu = crate::clock::shifted(now, ttl.in_progress).timestamp_millis();
        let until = crate::clock::shifted(now, ttl.record).timestamp_millis();
        self.db
            .run(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
                let current: Option<(String, String, Option<String>, i64, i64)> = tx
                    .query_row(
                        "SELECT state, payload_hash, result, in_progress_until_ms, until_ms FROM idempotency WHERE key = ?1",
                        params![key],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                    )
                    .optional()
                    .map_err(sql)?;
                let claimable = match &current {
                    None => true,
                    Some((state, _, _, in_progress_until, record_until)) => {
                        *record_until < now_ms || (state == IN_PROGRESS && *in_progress_until < now_ms)
                    }
                };
                if claimable {
                    tx.execute(
                        "INSERT OR REPLACE INTO idempotency (key, state, payload_hash, result, in_progress_until_ms, until_ms)
                         VALUES (?1, ?2, ?3, NULL, ?4, ?5)",
                        params![key, IN_PROGRESS, hash, ipu, until],
                    )
                    .map_err(sql)?;
                    tx.commit().map_err(sql)?;
                    return Ok(Ok(Claim::Acquired));
                }
                tx.commit().map_err(sql)?;
                let Some((state, stored_hash, result, in_progress_until, _)) = current else {
                    return Ok(Ok(Claim::Acquired));
                };
                if stored_hash != hash {
                    return Ok(Err(IdempotencyError::PayloadMismatch { key }));
                }
                if state == COMPLETED {
                    let value = result
                        .map(|r| serde_json::from_str(&r))
                        .transpose()
                        .map_err(|e| StoreError::Corrupt(format!("idempotency {key}: {e}")))?
                        .unwrap_or(serde_json::Value::Null);
                    return Ok(Ok(Claim::Completed(value)));
                }
                let until = DateTime::<Utc>::from_timestamp_millis(in_progress_until).unwrap_or(now);
                Ok(Ok(Claim::InProgress { until }))
            })
            .await?
    }

    async fn complete(
        &self,
        key: &str,
        result: &serde_json::Value,
        ttl: IdempotencyTtl,
    ) -> Result<(), StoreError> {
        let until = (self.clock.now() + ttl.record).timestamp_millis();
        let (key, result) = (key.to_owned(), result.to_string());
        self.db
            .run(move |c| {
                c.execute(
                    "UPDATE idempotency SET state = ?2, result = ?3, until_ms = ?4 WHERE key = ?1",
                    params![key, COMPLETED, result, until],
                )
                .map_err(sql)?;
                Ok(())
            })
            .await
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.db
            .run(move |c| {
                c.execute(
                    "DELETE FROM idempotency WHERE key = ?1 AND state = ?2",
                    params![key, IN_PROGRESS],
                )
                .map_err(sql)?;
                Ok(())
            })
            .await
    }

    async fn forget_failure(&self, key: &str) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.db
            .run(move |c| {
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sql)?;
                let result: Option<Option<String>> = tx
                    .query_row(
                        "SELECT result FROM idempotency WHERE key = ?1 AND state = ?2",
                        params![key, COMPLETED],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                let failed = result
                    .flatten()
                    .is_some_and(|r| crate::store::is_failure_result(&r));
                if failed {
                    tx.execute("DELETE FROM idempotency WHERE key = ?1", params![key])
                        .map_err(sql)?;
                }
                tx.commit().map_err(sql)?;
                Ok(failed)
            })
            .await
    }
}

#[async_trait]
impl AuditLog for EmbeddedStore {
    async fn append(&self, key: &OrderKey, entry: &AuditEntry) -> Result<(), StoreError> {
        let pk = order_pk(key);
        let sk = format!("AUDIT#{}#{}", ts(entry.at), entry.operation_id);
        let body = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.db
            .run(move |c| {
                c.execute(
                    "INSERT INTO audit (pk, sk, entry) VALUES (?1, ?2, ?3) ON CONFLICT(pk, sk) DO NOTHING",
                    params![pk, sk, body],
                )
                .map_err(sql)?;
                Ok(())
            })
            .await
    }

    async fn entries(&self, key: &OrderKey) -> Result<Vec<AuditEntry>, StoreError> {
        let pk = order_pk(key);
        self.db
            .run(move |c| {
                let mut stmt = c
                    .prepare("SELECT entry FROM audit WHERE pk = ?1 ORDER BY sk")
                    .map_err(sql)?;
                let rows = stmt
                    .query_map(params![pk], |r| r.get::<_, String>(0))
                    .map_err(sql)?;
                let mut out = Vec::new();
                for row in rows {
                    let body = row.map_err(sql)?;
                    out.push(
                        serde_json::from_str(&body)
                            .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))?,
                    );
                }
                Ok(out)
            })
            .await
    }

    async fn redact(&self, key: &OrderKey) -> Result<usize, StoreError> {
        let pk = order_pk(key);
        self.db
            .run(move |c| {
                let tx = c.transaction().map_err(sql)?;
                let rows: Vec<(String, String)> = {
                    let mut stmt = tx
                        .prepare("SELECT sk, entry FROM audit WHERE pk = ?1")
                        .map_err(sql)?;
                    let mapped = stmt
                        .query_map(params![pk], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map_err(sql)?;
                    mapped.collect::<Result<_, _>>().map_err(sql)?
                };
                let mut changed: usize = 0;
                for (sk, body) in rows {
                    let entry: crate::store::AuditEntry = serde_json::from_str(&body)
                        .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))?;
                    let Some(redacted) = entry.redacted() else {
                        continue;
                    };
                    let body = serde_json::to_string(&redacted)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    tx.execute(
                        "UPDATE audit SET entry = ?3 WHERE pk = ?1 AND sk = ?2",
                        params![pk, sk, body],
                    )
                    .map_err(sql)?;
                    changed = changed.saturating_add(1);
                }
                tx.commit().map_err(sql)?;
                Ok(changed)
            })
            .await
    }
}

fn read_cursor_row(c: &Connection, name: &str) -> Result<Option<Cursor>, StoreError> {
    let row: Option<(String, String)> = c
        .query_row(
            "SELECT value, updated_at FROM cursors WHERE name = ?1",
            params![name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql)?;
    row.map(|(value, t)| {
        let updated_at = DateTime::parse_from_rfc3339(&t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| StoreError::Corrupt(format!("cursor {name}: {e}")))?;
        Ok(Cursor { value, updated_at })
    })
    .transpose()
}

fn read_order_row(c: &Connection, pk: &str) -> Result<Option<StoredOrder>, StoreError> {
    let row: Option<(String, i64)> = c
        .query_row(
            "SELECT doc, version FROM orders WHERE pk = ?1",
            params![pk],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql)?;
    row.map(|(doc, v)| read_doc(pk, &doc, v)).transpose()
}

fn claim_until(c: &Connection, key: &str) -> Result<Option<i64>, StoreError> {
    c.query_row(
        "SELECT until_ms FROM dedupe WHERE key = ?1",
        params![key],
        |r| r.get(0),
    )
    .optional()
    .map_err(sql)
}

/// A [`Write`] made ready outside the connection's lock.
enum Prepared {
    Order {
        row: OrderRow,
        key: OrderKey,
        expected: Expected,
    },
    Claim {
        key: String,
        until_ms: i64,
        conditional: bool,
    },
}

#[async_trait]
impl Batch for EmbeddedStore {
    async fn read_batch(&self, keys: &[ItemKey]) -> Result<Vec<Option<Found>>, StoreError> {
        let keys = keys.to_vec();
        let now_ms = self.clock.now().timestamp_millis();
        self.db
            .run(move |c| {
                keys.iter()
                    .map(|k| match k {
                        ItemKey::Order(key) => {
                            Ok(read_order_row(c, &order_pk(key))?
                                .map(|o| Found::Order(Box::new(o))))
                        }
                        ItemKey::Claim(key) => Ok(claim_until(c, key)?
                            .is_some_and(|u| u >= now_ms)
                            .then_some(Found::Claim)),
                        ItemKey::Record(name) => Ok(read_cursor_row(c, name)?.map(Found::Record)),
                    })
                    .collect()
            })
            .await
    }

    async fn write_batch(&self, writes: &[Write]) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let now_ms = now.timestamp_millis();
        let mut prepared = Vec::with_capacity(writes.len());
        for w in writes {
            prepared.push(match w {
                Write::Order { order, expected } => Prepared::Order {
                    row: order_row(order)?,
                    key: OrderKey::of(order),
                    expected: *expected,
                },
                Write::Claim { key, ttl } | Write::Mark { key, ttl } => Prepared::Claim {
                    key: key.clone(),
                    until_ms: crate::clock::shifted(now, *ttl).timestamp_millis(),
                    conditional: matches!(w, Write::Claim { .. }),
                },
            });
        }
        self.db
            .run(move |c| {
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sql)?;
                for p in &prepared {
                    match p {
                        Prepared::Order { row, key, expected } => {
                            let stored: Option<i64> = tx
                                .query_row(
                                    "SELECT version FROM orders WHERE pk = ?1",
                                    params![row.pk],
                                    |r| r.get(0),
                                )
                                .optional()
                                .map_err(sql)?;
                            match (expected, stored.and_then(|v| u64::try_from(v).ok())) {
                                (Expected::Absent, None) => write_order(&tx, row, key, 1, true)?,
                                (Expected::Version(v), Some(s)) if s == *v => {
                                    write_order(&tx, row, key, v.saturating_add(1), false)?;
                                }
                                // Dropping the transaction rolls back what was written so far.
                                _ => return Ok(false),
                            }
                        }
                        Prepared::Claim {
                            key,
                            until_ms,
                            conditional,
                        } => {
                            if *conditional && claim_until(&tx, key)?.is_some_and(|u| u >= now_ms) {
                                return Ok(false);
                            }
                            tx.execute(
                                "INSERT INTO dedupe (key, until_ms) VALUES (?1, ?2)
                                 ON CONFLICT(key) DO UPDATE SET until_ms = excluded.until_ms",
                                params![key, until_ms],
                            )
                            .map_err(sql)?;
                        }
                    }
                }
                tx.commit().map_err(sql)?;
                Ok(true)
            })
            .await
    }
}

#[async_trait]
impl CursorStore for EmbeddedStore {
    async fn read(&self, name: &str) -> Result<Option<Cursor>, StoreError> {
        let name = name.to_owned();
        self.db.run(move |c| read_cursor_row(c, &name)).await
    }

    async fn advance(
        &self,
        name: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<bool, StoreError> {
        let (name, expected, new, now) = (
            name.to_owned(),
            expected.map(str::to_owned),
            new.to_owned(),
            ts(self.clock.now()),
        );
        self.db
            .run(move |c| {
                let changed = match expected {
                    None => c
                        .execute(
                            "INSERT INTO cursors (name, value, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO NOTHING",
                            params![name, new, now],
                        )
                        .map_err(sql)?,
                    Some(exp) => c
                        .execute(
                            "UPDATE cursors SET value = ?2, updated_at = ?3 WHERE name = ?1 AND value = ?4",
                            params![name, new, now, exp],
                        )
                        .map_err(sql)?,
                };
                Ok(changed == 1)
            })
            .await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        let now = self.clock.now();
        let until = crate::clock::shifted(now, ttl);
        let (name, owner) = (name.to_owned(), owner.to_owned());
        let (now_ms, until_ms) = (now.timestamp_millis(), until.timestamp_millis());
        self.db
            .run(move |c| {
                let changed = c
                    .execute(
                        "INSERT INTO leases (name, owner, until_ms) VALUES (?1, ?2, ?3)
                         ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms
                         WHERE leases.until_ms < ?4 OR leases.owner = excluded.owner",
                        params![name, owner, until_ms, now_ms],
                    )
                    .map_err(sql)?;
                if changed == 1 {
                    return Ok(Lease::Acquired { until });
                }
                let (holder, held_until): (String, i64) = c
                    .query_row("SELECT owner, until_ms FROM leases WHERE name = ?1", params![name], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .map_err(sql)?;
                Ok(Lease::Held {
                    owner: holder,
                    until: DateTime::<Utc>::from_timestamp_millis(held_until).unwrap_or(until),
                })
            })
            .await
    }

    async fn release_lease(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        let (name, owner) = (name.to_owned(), owner.to_owned());
        self.db
            .run(move |c| {
                c.execute(
                    "DELETE FROM leases WHERE name = ?1 AND owner = ?2",
                    params![name, owner],
                )
                .map_err(sql)?;
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl crate::store::RateBudget for EmbeddedStore {
    async fn take(
        &self,
        bucket: &str,
        shape: crate::store::BucketShape,
        want: u32,
        reserve: f64,
    ) -> Result<crate::store::Grant, StoreError> {
        let name = bucket.to_owned();
        let now_ms = self.clock.now().timestamp_millis();
        self.db
            .run(move |c| {
                // One writer at a time: the read and the write are one transaction.
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sql)?;
                let current: Option<(f64, i64)> = tx
                    .query_row(
                        "SELECT level, at_ms FROM budgets WHERE name = ?1",
                        params![name],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(sql)?;
                let (level, at_ms) = current.unwrap_or((shape.burst, now_ms));
                let (left, grant) =
                    crate::store::bucket_take(level, at_ms, now_ms, shape, want, reserve);
                if grant.tokens > 0 {
                    tx.execute(
                        "INSERT INTO budgets (name, level, at_ms) VALUES (?1, ?2, ?3)
                         ON CONFLICT(name) DO UPDATE SET level = ?2, at_ms = ?3",
                        params![name, left, now_ms],
                    )
                    .map_err(sql)?;
                }
                tx.commit().map_err(sql)?;
                Ok(grant)
            })
            .await
    }

    async fn note_throttled(&self, bucket: &str) -> Result<(), StoreError> {
        crate::store::increment(
            self,
            &crate::store::throttled_name(bucket, chrono::Utc::now()),
        )
        .await
    }
}
