//! One read (`BatchGetItem`) and one all-or-nothing write (`TransactWriteItems`) for the webhook's
//! fast path.

use super::super::provision::{PK, SK};
use super::records::read_cursor;
use super::{
    classify, expiry_attrs, get_n, get_s, n, order_item, order_pk, read_order, s, DynamoStore, Item,
};
use crate::store::{Batch, Expected, Found, ItemKey, StoreError, Write};
use async_trait::async_trait;
use std::collections::HashMap;

/// The table key of an [`ItemKey`].
fn item_key(key: &ItemKey) -> (String, &'static str) {
    match key {
        ItemKey::Order(k) => (order_pk(k), "ORDER"),
        ItemKey::Claim(k) => (format!("DEDUPE#{k}"), "DEDUPE"),
        ItemKey::Record(name) => (format!("CURSOR#{name}"), "CURSOR"),
    }
}

/// DynamoDB's limits: 100 keys per `BatchGetItem`, 100 writes per `TransactWriteItems`.
const BATCH_LIMIT: usize = 100;

#[async_trait]
impl Batch for DynamoStore {
    async fn read_batch(&self, keys: &[ItemKey]) -> Result<Vec<Option<Found>>, StoreError> {
        if keys.len() > BATCH_LIMIT {
            return Err(StoreError::Refused(format!(
                "a batch read takes at most {BATCH_LIMIT} keys"
            )));
        }
        // BatchGetItem refuses a key asked twice: ask each once, answer each place.
        let mut wanted: Vec<(String, &'static str)> = Vec::new();
        for k in keys {
            let tk = item_key(k);
            if !wanted.contains(&tk) {
                wanted.push(tk);
            }
        }
        let mut found: HashMap<String, Item> = HashMap::new();
        let mut pending: Vec<Item> = wanted
            .iter()
            .map(|(pk, sk)| HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(*sk))]))
            .collect();
        // Unprocessed keys (throttling, the response size limit) are asked again, a bounded number of
        // times.
        for attempt in 0..5u32 {
            if pending.is_empty() {
                break;
            }
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(
                    20u64.saturating_mul(2u64.saturating_pow(attempt)),
                ))
                .await;
            }
            let request = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Refused(format!("BatchGetItem: {e}")))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| classify("BatchGetItem", e))?;
            for item in out
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                if let Some(pk) = get_s(&item, PK).map(str::to_owned) {
                    found.insert(pk, item);
                }
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        if !pending.is_empty() {
            return Err(StoreError::Unavailable(
                "BatchGetItem: keys left unprocessed after retries".into(),
            ));
        }
        let now = self.now().timestamp_millis();
        keys.iter()
            .map(|k| {
                let (pk, _) = item_key(k);
                let Some(item) = found.get(&pk) else {
                    return Ok(None);
                };
                Ok(match k {
                    ItemKey::Order(_) => Some(Found::Order(Box::new(read_order(item)?))),
                    ItemKey::Claim(_) => get_n(item, "until")
                        .is_some_and(|until| until >= now)
                        .then_some(Found::Claim),
                    ItemKey::Record(name) => Some(Found::Record(read_cursor(name, item)?)),
                })
            })
            .collect()
    }

    async fn write_batch(&self, writes: &[Write]) -> Result<bool, StoreError> {
        use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};
        if writes.is_empty() {
            return Ok(true);
        }
        if writes.len() > BATCH_LIMIT {
            return Err(StoreError::Refused(format!(
                "a transaction takes at most {BATCH_LIMIT} writes"
            )));
        }
        let now = self.now();
        let mut items = Vec::with_capacity(writes.len());
        let refused = |e: aws_sdk_dynamodb::error::BuildError| {
            StoreError::Refused(format!("TransactWriteItems: {e}"))
        };
        for w in writes {
            let put = match w {
                Write::Order { order, expected } => {
                    let (version, condition) = match expected {
                        Expected::Absent => (1, None),
                        Expected::Version(v) => (v.saturating_add(1), Some(*v)),
                    };
                    let put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(order_item(order, version)?));
                    match condition {
                        None => put
                            .condition_expression("attribute_not_exists(#pk)")
                            .expression_attribute_names("#pk", PK),
                        Some(v) => put
                            .condition_expression("#version = :expected")
                            .expression_attribute_names("#version", "version")
                            .expression_attribute_values(":expected", n(v)),
                    }
                }
                Write::Claim { key, ttl } | Write::Mark { key, ttl } => {
                    let mut item: Item = HashMap::from([
                        (PK.to_owned(), s(format!("DEDUPE#{key}"))),
                        (SK.to_owned(), s("DEDUPE")),
                    ]);
                    item.extend(expiry_attrs(crate::clock::shifted(now, *ttl)));
                    let put = Put::builder().table_name(&self.table).set_item(Some(item));
                    if matches!(w, Write::Claim { .. }) {
                        put.condition_expression("attribute_not_exists(#pk) OR #until < :now")
                            .expression_attribute_names("#pk", PK)
                            .expression_attribute_names("#until", "until")
                            .expression_attribute_values(":now", n(now.timestamp_millis()))
                    } else {
                        put
                    }
                }
                Write::NoRecord { name } => {
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .key(PK, s(format!("CURSOR#{name}")))
                        .key(SK, s("CURSOR"))
                        .condition_expression("attribute_not_exists(#pk)")
                        .expression_attribute_names("#pk", PK)
                        .build()
                        .map_err(refused)?;
                    items.push(TransactWriteItem::builder().condition_check(check).build());
                    continue;
                }
            };
            items.push(
                TransactWriteItem::builder()
                    .put(put.build().map_err(refused)?)
                    .build(),
            );
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                // A failed condition, or another transaction on the same items at that moment: either
                // way another writer got there first, and the caller reads again.
                let condition_failed = e.as_service_error().is_some_and(|se| {
                    matches!(
                        se,
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)
                            if c.cancellation_reasons().iter().any(|r| {
                                matches!(r.code(), Some("ConditionalCheckFailed" | "TransactionConflict"))
                            })
                    )
                });
                if condition_failed {
                    Ok(false)
                } else {
                    Err(classify("TransactWriteItems", e))
                }
            }
        }
    }
}
