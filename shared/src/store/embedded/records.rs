//! The table's other records on SQLite: webhook claims, idempotency records, audit trails, cursors,
//! leases and rate budgets.

use super::table::{order_pk, read_cursor_row, EmbeddedStore};
use super::{sql, ts};
use crate::store::{
    AuditEntry, AuditLog, Cursor, CursorStore, DedupeStore, IdempotencyRecord, IdempotencyRecords,
    Lease, OrderKey, RecordState, StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

#[async_trait]
impl DedupeStore for EmbeddedStore {
    async fn claim_once(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let until = crate::clock::shifted(now, ttl);
        let changed = self.db
            .execute(
                "INSERT INTO dedupe (key, until_ms) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET until_ms = excluded.until_ms WHERE dedupe.until_ms < ?3",
                vec![
                    key.to_owned().into(),
                    until.timestamp_millis().into(),
                    now.timestamp_millis().into(),
                ],
            )
            .await?;
        Ok(changed == 1)
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

/// Milliseconds as a time; a stored value out of range is corrupt.
fn time_of(key: &str, ms: i64) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_millis(ms).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Integer,
            format!("idempotency {key}: time {ms} out of range").into(),
        )
    })
}

#[async_trait]
impl IdempotencyRecords for EmbeddedStore {
    fn idempotency_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn read_record(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let key = key.to_owned();
        self.db
            .run(move |c| {
                c.query_row(
                    "SELECT state, payload_hash, owner, result, in_progress_until_ms, until_ms FROM idempotency WHERE key = ?1",
                    params![key],
                    |r| {
                        Ok(IdempotencyRecord {
                            state: RecordState::parse(&r.get::<_, String>(0)?),
                            payload_hash: r.get(1)?,
                            owner: r.get(2)?,
                            result: r.get(3)?,
                            in_progress_until: time_of(&key, r.get(4)?)?,
                            until: time_of(&key, r.get(5)?)?,
                        })
                    },
                )
                .optional()
                .map_err(sql)
            })
            .await
    }

    async fn swap_record(
        &self,
        key: &str,
        replacing: Option<&IdempotencyRecord>,
        record: &IdempotencyRecord,
    ) -> Result<bool, StoreError> {
        let mut values: Vec<rusqlite::types::Value> = vec![
            key.to_owned().into(),
            record.state.as_str().to_owned().into(),
            record.payload_hash.clone().into(),
            record.result.clone().into(),
            record.in_progress_until.timestamp_millis().into(),
            record.until.timestamp_millis().into(),
            record.owner.clone().into(),
        ];
        let statement = match replacing {
            None => {
                "INSERT INTO idempotency (key, state, payload_hash, result, in_progress_until_ms, until_ms, owner)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(key) DO NOTHING"
            }
            Some(was) => {
                values.extend([
                    was.state.as_str().to_owned().into(),
                    was.until.timestamp_millis().into(),
                    was.owner.clone().into(),
                ]);
                "UPDATE idempotency SET state = ?2, payload_hash = ?3, result = ?4, in_progress_until_ms = ?5, until_ms = ?6, owner = ?7
                 WHERE key = ?1 AND state = ?8 AND until_ms = ?9 AND owner IS ?10"
            }
        };
        Ok(self.db.execute(statement, values).await? == 1)
    }

    async fn complete_record(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let values = vec![
            key.to_owned().into(),
            RecordState::Completed.as_str().to_owned().into(),
            result.to_owned().into(),
            until.timestamp_millis().into(),
            owner.to_owned().into(),
        ];
        self.db.execute(
            "UPDATE idempotency SET state = ?2, result = ?3, until_ms = ?4 WHERE key = ?1 AND owner = ?5",
            values,
        )
        .await
        .map(|changed| changed > 0)
    }

    async fn delete_record(
        &self,
        key: &str,
        state: RecordState,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        let values = vec![
            key.to_owned().into(),
            state.as_str().to_owned().into(),
            owner.map(str::to_owned).into(),
        ];
        self.db
            .execute(
                "DELETE FROM idempotency WHERE key = ?1 AND state = ?2 AND owner IS ?3",
                values,
            )
            .await
            .map(|changed| changed > 0)
    }
}

#[async_trait]
impl AuditLog for EmbeddedStore {
    async fn append(&self, key: &OrderKey, entry: &AuditEntry) -> Result<(), StoreError> {
        let pk = order_pk(key);
        let sk = format!("AUDIT#{}#{}", ts(entry.at), entry.operation_id);
        let body = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let values = vec![pk.into(), sk.into(), body.into()];
        self.db
            .execute(
                "INSERT INTO audit (pk, sk, entry) VALUES (?1, ?2, ?3) ON CONFLICT(pk, sk) DO NOTHING",
                values,
            )
            .await
            .map(|_| ())
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
        let values = vec![name.to_owned().into(), owner.to_owned().into()];
        self.db
            .execute("DELETE FROM leases WHERE name = ?1 AND owner = ?2", values)
            .await
            .map(drop)
    }

    async fn remove(&self, name: &str, expected: &str) -> Result<(), StoreError> {
        let values = vec![name.to_owned().into(), expected.to_owned().into()];
        self.db
            .execute("DELETE FROM cursors WHERE name = ?1 AND value = ?2", values)
            .await
            .map(drop)
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
                let taken = crate::store::bucket_take(level, at_ms, now_ms, shape, want, reserve);
                if taken.grant.tokens > 0 {
                    tx.execute(
                        "INSERT INTO budgets (name, level, at_ms) VALUES (?1, ?2, ?3)
                         ON CONFLICT(name) DO UPDATE SET level = ?2, at_ms = ?3",
                        params![name, taken.level, taken.at_ms],
                    )
                    .map_err(sql)?;
                }
                tx.commit().map_err(sql)?;
                Ok(taken.grant)
            })
            .await
    }

    async fn note_throttled(&self, bucket: &str) -> Result<(), StoreError> {
        crate::store::count_throttled(self, bucket, chrono::Utc::now()).await
    }
}
