//! The table's other records on DynamoDB: webhook claims, idempotency, the audit trail, cursors and
//! leases, and the shared rate budgets.

use super::super::provision::{PK, SK, TTL_ATTRIBUTE};
use super::{
    classify, expiry_attrs, get_n, get_s, is_condition_failure, n, order_pk, s, ts, DynamoStore,
    Item,
};
use crate::store::{
    AuditEntry, AuditLog, Cursor, CursorStore, DedupeStore, IdempotencyRecord, IdempotencyRecords,
    Lease, OrderKey, RecordState, StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

#[async_trait]
impl DedupeStore for DynamoStore {
    async fn claim_once(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = self.now();
        let mut item: Item = HashMap::from([
            (PK.to_owned(), s(format!("DEDUPE#{key}"))),
            (SK.to_owned(), s("DEDUPE")),
        ]);
        item.extend(expiry_attrs(crate::clock::shifted(now, ttl)));
        self.put_conditional(
            item,
            "attribute_not_exists(#pk) OR #until < :now",
            &[("#pk", PK), ("#until", "until")],
            vec![(":now", n(now.timestamp_millis()))],
        )
        .await
    }

    async fn seen(&self, key: &str) -> Result<bool, StoreError> {
        let now = self.now().timestamp_millis();
        Ok(self
            .get_item(&format!("DEDUPE#{key}"), "DEDUPE")
            .await?
            .and_then(|item| get_n(&item, "until"))
            .is_some_and(|until| until >= now))
    }
}

/// The record's key.
fn idempotency_pk(key: &str) -> String {
    format!("IDEMPOTENCY#{key}")
}

#[async_trait]
impl IdempotencyRecords for DynamoStore {
    fn idempotency_now(&self) -> DateTime<Utc> {
        self.now()
    }

    async fn read_record(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let pk = idempotency_pk(key);
        let Some(item) = self.get_item(&pk, "IDEMPOTENCY").await? else {
            return Ok(None);
        };
        let time = |name: &str| {
            get_n(&item, name)
                .and_then(DateTime::<Utc>::from_timestamp_millis)
                .ok_or_else(|| StoreError::Corrupt(format!("{pk}: {name}")))
        };
        Ok(Some(IdempotencyRecord {
            state: RecordState::parse(get_s(&item, "state").unwrap_or_default()),
            payload_hash: get_s(&item, "payload_hash").unwrap_or_default().to_owned(),
            owner: get_s(&item, "owner").map(str::to_owned),
            result: get_s(&item, "result").map(str::to_owned),
            in_progress_until: time("in_progress_until")?,
            until: time("until")?,
        }))
    }

    async fn swap_record(
        &self,
        key: &str,
        replacing: Option<&IdempotencyRecord>,
        record: &IdempotencyRecord,
    ) -> Result<bool, StoreError> {
        let mut item: Item = HashMap::from([
            (PK.to_owned(), s(idempotency_pk(key))),
            (SK.to_owned(), s("IDEMPOTENCY")),
            ("state".to_owned(), s(record.state.as_str())),
            ("payload_hash".to_owned(), s(&record.payload_hash)),
            (
                "in_progress_until".to_owned(),
                n(record.in_progress_until.timestamp_millis()),
            ),
        ]);
        if let Some(owner) = &record.owner {
            item.insert("owner".to_owned(), s(owner));
        }
        if let Some(result) = &record.result {
            item.insert("result".to_owned(), s(result));
        }
        item.extend(expiry_attrs(record.until));
        let Some(was) = replacing else {
            return self
                .put_conditional(item, "attribute_not_exists(#pk)", &[("#pk", PK)], vec![])
                .await;
        };
        let (owner_condition, mut values) = match &was.owner {
            Some(owner) => ("#owner = :owner", vec![(":owner", s(owner))]),
            None => ("attribute_not_exists(#owner)", Vec::new()),
        };
        values.push((":state", s(was.state.as_str())));
        values.push((":until", n(was.until.timestamp_millis())));
        self.put_conditional(
            item,
            &format!("#state = :state AND #until = :until AND {owner_condition}"),
            &[
                ("#state", "state"),
                ("#until", "until"),
                ("#owner", "owner"),
            ],
            values,
        )
        .await
    }

    async fn complete_record(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(idempotency_pk(key)))
            .key(SK, s("IDEMPOTENCY"))
            .update_expression(
                "SET #state = :completed, #result = :result, #until = :until, #exp = :exp",
            )
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#result", "result")
            .expression_attribute_names("#until", "until")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":completed", s(RecordState::Completed.as_str()))
            .expression_attribute_values(":result", s(result))
            .expression_attribute_values(":until", n(until.timestamp_millis()))
            .expression_attribute_values(":exp", n(until.timestamp()))
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    async fn delete_record(
        &self,
        key: &str,
        state: RecordState,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        let (owner_condition, owner_value) = match owner {
            Some(o) => ("#owner = :owner", Some(s(o))),
            None => ("attribute_not_exists(#owner)", None),
        };
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(idempotency_pk(key)))
            .key(SK, s("IDEMPOTENCY"))
            .condition_expression(format!("#state = :state AND {owner_condition}"))
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#owner", "owner")
            .set_expression_attribute_values(Some(
                [(":state".to_owned(), s(state.as_str()))]
                    .into_iter()
                    .chain(owner_value.map(|v| (":owner".to_owned(), v)))
                    .collect(),
            ))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(classify("DeleteItem", e)),
        }
    }
}

#[async_trait]
impl AuditLog for DynamoStore {
    async fn append(&self, key: &OrderKey, entry: &AuditEntry) -> Result<(), StoreError> {
        let body = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let item: Item = HashMap::from([
            (PK.to_owned(), s(order_pk(key))),
            (
                SK.to_owned(),
                s(format!("AUDIT#{}#{}", ts(entry.at), entry.operation_id)),
            ),
            ("entry".to_owned(), s(body)),
        ]);
        // An entry is written once; the same entry written again (a retried append) is already there.
        self.put_conditional(item, "attribute_not_exists(#sk)", &[("#sk", SK)], vec![])
            .await
            .map(|_| ())
    }

    async fn entries(&self, key: &OrderKey) -> Result<Vec<AuditEntry>, StoreError> {
        let items = self
            .query_all(|q| {
                q.key_condition_expression("#pk = :pk AND begins_with(#sk, :audit)")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#sk", SK)
                    .expression_attribute_values(":pk", s(order_pk(key)))
                    .expression_attribute_values(":audit", s("AUDIT#"))
                    .consistent_read(true)
            })
            .await?;
        items
            .iter()
            .map(|item| {
                let body = get_s(item, "entry")
                    .ok_or_else(|| StoreError::Corrupt("audit entry without body".into()))?;
                serde_json::from_str(body)
                    .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))
            })
            .collect()
    }

    async fn redact(&self, key: &OrderKey) -> Result<usize, StoreError> {
        let mut changed: usize = 0;
        for entry in self.entries(key).await? {
            let Some(redacted) = entry.redacted() else {
                continue;
            };
            let body =
                serde_json::to_string(&redacted).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            // The same item, its text replaced: the entry must exist (a concurrent erase is harmless).
            self.client
                .update_item()
                .table_name(&self.table)
                .key(PK, s(order_pk(key)))
                .key(
                    SK,
                    s(format!("AUDIT#{}#{}", ts(entry.at), entry.operation_id)),
                )
                .update_expression("SET #entry = :entry")
                .expression_attribute_names("#entry", "entry")
                .expression_attribute_values(":entry", s(body))
                .send()
                .await
                .map_err(|e| classify("UpdateItem", e))?;
            changed = changed.saturating_add(1);
        }
        Ok(changed)
    }
}

pub(super) fn read_cursor(name: &str, item: &Item) -> Result<Cursor, StoreError> {
    let value = get_s(item, "value")
        .ok_or_else(|| StoreError::Corrupt(format!("cursor {name}: no value")))?;
    let updated_at = get_s(item, "updated_at")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| StoreError::Corrupt(format!("cursor {name}: no time")))?;
    Ok(Cursor {
        value: value.to_owned(),
        updated_at,
    })
}

#[async_trait]
impl CursorStore for DynamoStore {
    async fn read(&self, name: &str) -> Result<Option<Cursor>, StoreError> {
        self.get_item(&format!("CURSOR#{name}"), "CURSOR")
            .await?
            .map(|item| read_cursor(name, &item))
            .transpose()
    }

    async fn advance(
        &self,
        name: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<bool, StoreError> {
        let item: Item = HashMap::from([
            (PK.to_owned(), s(format!("CURSOR#{name}"))),
            (SK.to_owned(), s("CURSOR")),
            ("value".to_owned(), s(new)),
            ("updated_at".to_owned(), s(ts(self.now()))),
        ]);
        match expected {
            None => {
                self.put_conditional(item, "attribute_not_exists(#pk)", &[("#pk", PK)], vec![])
                    .await
            }
            Some(v) => {
                self.put_conditional(
                    item,
                    "#value = :expected",
                    &[("#value", "value")],
                    vec![(":expected", s(v))],
                )
                .await
            }
        }
    }

    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        let pk = format!("LEASE#{name}");
        let now = self.now();
        let until = crate::clock::shifted(now, ttl);
        let mut item: Item = HashMap::from([
            (PK.to_owned(), s(&pk)),
            (SK.to_owned(), s("LEASE")),
            ("owner".to_owned(), s(owner)),
        ]);
        item.extend(expiry_attrs(until));
        let won = self
            .put_conditional(
                item,
                "attribute_not_exists(#pk) OR #until < :now OR #owner = :owner",
                &[("#pk", PK), ("#until", "until"), ("#owner", "owner")],
                vec![(":now", n(now.timestamp_millis())), (":owner", s(owner))],
            )
            .await?;
        if won {
            return Ok(Lease::Acquired { until });
        }
        let current = self.get_item(&pk, "LEASE").await?.unwrap_or_default();
        Ok(Lease::Held {
            owner: get_s(&current, "owner").unwrap_or("?").to_owned(),
            until: get_n(&current, "until")
                .and_then(DateTime::<Utc>::from_timestamp_millis)
                .unwrap_or(until),
        })
    }

    async fn release_lease(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        self.delete_if(&format!("LEASE#{name}"), "LEASE", &[("owner", owner)])
            .await
    }

    async fn remove(&self, name: &str, expected: &str) -> Result<(), StoreError> {
        self.delete_if(&format!("CURSOR#{name}"), "CURSOR", &[("value", expected)])
            .await
    }
}

/// A bucket's level is stored in millionths of a token (a whole number; DynamoDB numbers are exact).
const MICRO: f64 = 1_000_000.0;

#[async_trait]
impl crate::store::RateBudget for DynamoStore {
    async fn take(
        &self,
        bucket: &str,
        shape: crate::store::BucketShape,
        want: u32,
        reserve: f64,
    ) -> Result<crate::store::Grant, StoreError> {
        let pk = format!("BUDGET#{bucket}");
        for _ in 0..20 {
            let now_ms = self.now().timestamp_millis();
            let item = self.get_item(&pk, "BUDGET").await?;
            let (level, at_ms, version) = match &item {
                Some(i) => (
                    get_n(i, "level").map_or(shape.burst, |l| l as f64 / MICRO),
                    get_n(i, "at_ms").unwrap_or(now_ms),
                    get_n(i, "v"),
                ),
                None => (shape.burst, now_ms, None),
            };
            let taken = crate::store::bucket_take(level, at_ms, now_ms, shape, want, reserve);
            let grant = taken.grant;
            if grant.tokens == 0 {
                return Ok(grant);
            }
            let next = HashMap::from([
                (PK.to_owned(), s(&pk)),
                (SK.to_owned(), s("BUDGET")),
                ("level".to_owned(), n((taken.level * MICRO).round() as i64)),
                ("at_ms".to_owned(), n(taken.at_ms)),
                ("v".to_owned(), n(version.unwrap_or(0).saturating_add(1))),
            ]);
            let written = match version {
                Some(v) => {
                    self.put_conditional(next, "#v = :v", &[("#v", "v")], vec![(":v", n(v))])
                        .await?
                }
                None => {
                    self.put_conditional(next, "attribute_not_exists(#pk)", &[("#pk", PK)], vec![])
                        .await?
                }
            };
            if written {
                return Ok(grant);
            }
            // Another instance took tokens between our read and write: read again.
        }
        Err(StoreError::Unavailable(format!(
            "rate budget {bucket}: too much contention"
        )))
    }

    async fn note_throttled(&self, bucket: &str) -> Result<(), StoreError> {
        crate::store::count_throttled(self, bucket, chrono::Utc::now()).await
    }
}
