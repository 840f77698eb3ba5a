//! The order table on SQLite: the orders themselves, and the batched reads and writes of the webhook's
//! fast path. The table's other records are in `records.rs`.

use super::{sql, ts, Db};
use crate::channel::Channel;
use crate::clock::Clock;
use crate::ids::{CustomerId, GenstoreOrderId};
use crate::order::ChannelOrder;
use crate::status::UnifiedStatus;
use crate::store::{
    Batch, Cursor, Expected, Found, ItemKey, OrderKey, OrderStore, Page, PageRequest, StoreError,
    StoredOrder, Update, Upsert, Write,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::sync::Arc;
/// The order table on SQLite.
#[derive(Clone)]
pub struct EmbeddedStore {
    pub(super) db: Db,
    pub(super) clock: Arc<dyn Clock>,
}

impl EmbeddedStore {
    /// The table in `db`, telling time by `clock`.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        EmbeddedStore { db, clock }
    }

    /// Every order `statement` selects with `value` bound to `?1`, in the statement's order.
    async fn orders_where(
        &self,
        statement: &'static str,
        value: String,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        self.db
            .run(move |c| {
                let rows = query_orders(c, statement, &[&value])?;
                Ok(rows.into_iter().map(|(_, o)| o).collect())
            })
            .await
    }
}

pub(super) fn order_pk(key: &OrderKey) -> String {
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
        let statement =
            "SELECT pk, doc, version, updated_at FROM orders WHERE genstore_id = ?1 ORDER BY pk";
        self.orders_where(statement, id.as_str().to_owned()).await
    }

    async fn find_by_customer(
        &self,
        channel: Channel,
        id: &CustomerId,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        let statement =
            "SELECT pk, doc, version, updated_at FROM orders WHERE customer_key = ?1 ORDER BY pk";
        self.orders_where(statement, format!("{channel}#{id}"))
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

pub(super) fn read_cursor_row(c: &Connection, name: &str) -> Result<Option<Cursor>, StoreError> {
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

pub(super) fn claim_until(c: &Connection, key: &str) -> Result<Option<i64>, StoreError> {
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
    NoRecord {
        name: String,
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
                Write::NoRecord { name } => Prepared::NoRecord { name: name.clone() },
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
                        Prepared::NoRecord { name } => {
                            if read_cursor_row(&tx, name)?.is_some() {
                                return Ok(false);
                            }
                        }
                    }
                }
                tx.commit().map_err(sql)?;
                Ok(true)
            })
            .await
    }
}
