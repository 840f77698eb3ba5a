//! The order table on DynamoDB (`aws-sdk-dynamodb`). Item shapes and keys: see [`super::provision`].
//!
//! Every write carries a condition; a failed condition is read back to tell a stale write from a
//! conflict. Reads that decide a write are strongly consistent. Clients get explicit operation and
//! attempt timeouts from [`sdk_config`].

use super::provision::{BY_CUSTOMER, BY_GENSTORE, BY_STATUS, PK, SK, TTL_ATTRIBUTE};
use super::{
    AuditEntry, AuditLog, Batch, Claim, Cursor, CursorStore, DedupeStore, Expected, Found,
    IdempotencyError, IdempotencyStore, IdempotencyTtl, ItemKey, Lease, OrderKey, OrderStore, Page,
    PageRequest, StoreError, StoredOrder, Update, Upsert, Write,
};
use crate::channel::Channel;
use crate::clock::Clock;
use crate::ids::{CustomerId, GenstoreOrderId};
use crate::order::ChannelOrder;
use crate::status::UnifiedStatus;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// DynamoDB's item size limit.
pub const ITEM_LIMIT: usize = 400 * 1024;

type Item = HashMap<String, AttributeValue>;

/// Loads the AWS SDK configuration once (per cold start) with explicit timeouts. `AWS_ENDPOINT_URL`
/// points it at an emulator.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(2))
        .operation_attempt_timeout(std::time::Duration::from_secs(3))
        .operation_timeout(std::time::Duration::from_secs(10))
        .build();
    let loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(timeouts);
    // The SDK's requests go through the process's one HTTPS stack (crate::https); failing to build it
    // (which only a broken TLS configuration can do) leaves the SDK without a client, and its first
    // request says so.
    let loader = match crate::https::SdkHttp::new(std::time::Duration::from_secs(2)) {
        Ok(http) => loader.http_client(http.shared()),
        Err(e) => {
            tracing::error!(error = %e, "no HTTPS client for the AWS SDK");
            loader
        }
    };
    loader.load().await
}

/// The order table on DynamoDB.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl DynamoStore {
    /// A store over `table`, telling time by `clock`.
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            clock,
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

/// Maps an SDK error: throttling, timeouts and transport failures can be retried; the rest cannot.
fn classify<E, R>(op: &str, e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(format!(
                "{op}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&e)
            ))
        }
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown");
            let message = se.err().message().unwrap_or_default();
            let retryable = matches!(
                code,
                "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "ThrottlingException"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "TransactionConflictException"
            );
            let text = format!("{op}: {code}: {message}");
            if retryable {
                StoreError::Unavailable(text)
            } else {
                StoreError::Refused(text)
            }
        }
        _ => StoreError::Unavailable(format!(
            "{op}: {}",
            aws_sdk_dynamodb::error::DisplayErrorContext(&e)
        )),
    }
}

fn is_condition_failure<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::ServiceError(se) if se.err().code() == Some("ConditionalCheckFailedException"))
}

fn order_pk(key: &OrderKey) -> String {
    format!("ORDER#{}#{}", key.channel, key.order_id)
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(k, v)| {
            k.len().saturating_add(match v {
                AttributeValue::S(x) | AttributeValue::N(x) => x.len(),
                _ => 16,
            })
        })
        .fold(0, usize::saturating_add)
}

fn order_item(order: &ChannelOrder, version: u64) -> Result<Item, StoreError> {
    let key = OrderKey::of(order);
    let pk = order_pk(&key);
    let doc = serde_json::to_string(order)
        .map_err(|e| StoreError::Corrupt(format!("order {key}: {e}")))?;
    let mut item: Item = HashMap::from([
        (PK.to_owned(), s(&pk)),
        (SK.to_owned(), s("ORDER")),
        ("version".to_owned(), n(version)),
        (
            "source_version".to_owned(),
            s(order.source_version().sort_key()),
        ),
        ("doc".to_owned(), s(doc)),
        ("channel".to_owned(), s(order.channel.as_str())),
        ("order_id".to_owned(), s(order.order_id.as_str())),
        ("status".to_owned(), s(order.status.as_str())),
        ("updated_at".to_owned(), s(ts(order.updated_at))),
        (
            BY_STATUS.pk.to_owned(),
            s(format!("STATUS#{}", order.status)),
        ),
        (
            BY_STATUS.sk.to_owned(),
            s(format!("{}#{pk}", ts(order.updated_at))),
        ),
    ]);
    if let Some(g) = &order.genstore_order_id {
        item.insert(BY_GENSTORE.pk.to_owned(), s(format!("GENSTORE#{g}")));
        item.insert(BY_GENSTORE.sk.to_owned(), s(&pk));
    }
    if let Some(c) = &order.customer_id {
        item.insert(
            BY_CUSTOMER.pk.to_owned(),
            s(format!("CUSTOMER#{}#{c}", order.channel)),
        );
        item.insert(BY_CUSTOMER.sk.to_owned(), s(&pk));
    }
    let bytes = item_size(&item);
    if bytes > ITEM_LIMIT {
        return Err(StoreError::TooLarge {
            bytes,
            limit: ITEM_LIMIT,
        });
    }
    Ok(item)
}

fn read_order(item: &Item) -> Result<StoredOrder, StoreError> {
    let pk = get_s(item, PK).unwrap_or("?");
    let doc = get_s(item, "doc").ok_or_else(|| StoreError::Corrupt(format!("{pk}: no doc")))?;
    let order: ChannelOrder =
        serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("{pk}: {e}")))?;
    let version = get_n(item, "version")
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("{pk}: no version")))?;
    Ok(StoredOrder { order, version })
}

fn encode_token(key: &Item) -> String {
    let map: HashMap<&str, &str> = key
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.as_str(), v.as_str())))
        .collect();
    serde_json::to_string(&map).unwrap_or_default()
}

fn decode_token(token: &str) -> Result<Item, StoreError> {
    let map: HashMap<String, String> = serde_json::from_str(token)
        .map_err(|_| StoreError::Refused("the page token is not one this store issued".into()))?;
    Ok(map.into_iter().map(|(k, v)| (k, s(v))).collect())
}

impl DynamoStore {
    async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        Ok(out.item)
    }

    async fn query_index(
        &self,
        index: &str,
        pk_attr: &str,
        pk: &str,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#k = :k")
                .expression_attribute_names("#k", pk_attr)
                .expression_attribute_values(":k", s(pk))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            for item in page.items() {
                out.push(read_order(item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn put_conditional(
        &self,
        item: Item,
        condition: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition);
        for (k, v) in names {
            req = req.expression_attribute_names(*k, *v);
        }
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(classify("PutItem", e)),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

#[async_trait]
impl OrderStore for DynamoStore {
    async fn get(&self, key: &OrderKey) -> Result<Option<StoredOrder>, StoreError> {
        self.get_item(&order_pk(key), "ORDER")
            .await?
            .map(|i| read_order(&i))
            .transpose()
    }

    async fn upsert_if_newer(
        &self,
        order: &ChannelOrder,
        expected: Expected,
    ) -> Result<Upsert, StoreError> {
        let sv = order.source_version().sort_key();
        let (version, written) = match expected {
            Expected::Absent => (
                1,
                self.put_conditional(
                    order_item(order, 1)?,
                    "attribute_not_exists(#pk)",
                    &[("#pk", PK)],
                    vec![],
                )
                .await?,
            ),
            Expected::Version(v) => (
                v.saturating_add(1),
                self.put_conditional(
                    order_item(order, v.saturating_add(1))?,
                    "#version = :expected AND #sv < :sv",
                    &[("#version", "version"), ("#sv", "source_version")],
                    vec![(":expected", n(v)), (":sv", s(&sv))],
                )
                .await?,
            ),
        };
        if written {
            return Ok(Upsert::Applied { version });
        }
        let current = self
            .get_item(&order_pk(&OrderKey::of(order)), "ORDER")
            .await?;
        let stored_sv = current
            .as_ref()
            .and_then(|i| get_s(i, "source_version").map(str::to_owned));
        Ok(match stored_sv {
            Some(stored) if stored >= sv => Upsert::Stale,
            _ => Upsert::Conflict,
        })
    }

    async fn update(&self, order: &ChannelOrder, expected: u64) -> Result<Update, StoreError> {
        let written = self
            .put_conditional(
                order_item(order, expected.saturating_add(1))?,
                "#version = :expected",
                &[("#version", "version")],
                vec![(":expected", n(expected))],
            )
            .await?;
        Ok(if written {
            Update::Applied {
                version: expected.saturating_add(1),
            }
        } else {
            Update::Conflict
        })
    }

    async fn find_by_genstore_id(
        &self,
        id: &GenstoreOrderId,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        self.query_index(BY_GENSTORE.name, BY_GENSTORE.pk, &format!("GENSTORE#{id}"))
            .await
    }

    async fn find_by_customer(
        &self,
        channel: Channel,
        id: &CustomerId,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        self.query_index(
            BY_CUSTOMER.name,
            BY_CUSTOMER.pk,
            &format!("CUSTOMER#{channel}#{id}"),
        )
        .await
    }

    async fn list_by_status(
        &self,
        status: UnifiedStatus,
        page: PageRequest,
    ) -> Result<Page<StoredOrder>, StoreError> {
        let start = page.token.as_deref().map(decode_token).transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_STATUS.name)
            .key_condition_expression("#k = :k")
            .expression_attribute_names("#k", BY_STATUS.pk)
            .expression_attribute_values(":k", s(format!("STATUS#{status}")))
            .scan_index_forward(false)
            .limit(i32::try_from(page.effective_limit()).unwrap_or(50))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| classify("Query", e))?;
        let items = out
            .items()
            .iter()
            .map(read_order)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next: out
                .last_evaluated_key
                .as_ref()
                .filter(|k| !k.is_empty())
                .map(encode_token),
        })
    }

    async fn scan(&self, page: PageRequest) -> Result<Page<StoredOrder>, StoreError> {
        let start = page.token.as_deref().map(decode_token).transpose()?;
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("#sk = :order")
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":order", s("ORDER"))
            .limit(i32::try_from(page.effective_limit()).unwrap_or(50))
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("Scan", e))?;
        let items = out
            .items()
            .iter()
            .map(read_order)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next: out
                .last_evaluated_key
                .as_ref()
                .filter(|k| !k.is_empty())
                .map(encode_token),
        })
    }
}

fn expiry_attrs(until: DateTime<Utc>) -> [(String, AttributeValue); 2] {
    [
        ("until".to_owned(), n(until.timestamp_millis())),
        (TTL_ATTRIBUTE.to_owned(), n(until.timestamp())),
    ]
}

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

const IN_PROGRESS: &str = "IN_PROGRESS";
const COMPLETED: &str = "COMPLETED";

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        ttl: IdempotencyTtl,
    ) -> Result<Claim, IdempotencyError> {
        let pk = format!("IDEMPOTENCY#{key}");
        for _ in 0..3 {
            let now = self.now();
            let mut item: Item = HashMap::from([
                (PK.to_owned(), s(&pk)),
                (SK.to_owned(), s("IDEMPOTENCY")),
                ("state".to_owned(), s(IN_PROGRESS)),
                ("payload_hash".to_owned(), s(payload_hash)),
                (
                    "in_progress_until".to_owned(),
                    n(crate::clock::shifted(now, ttl.in_progress).timestamp_millis()),
                ),
            ]);
            item.extend(expiry_attrs(crate::clock::shifted(now, ttl.record)));
            let won = self
                .put_conditional(
                    item,
                    "attribute_not_exists(#pk) OR #until < :now OR (#state = :in_progress AND #ipu < :now)",
                    &[("#pk", PK), ("#until", "until"), ("#state", "state"), ("#ipu", "in_progress_until")],
                    vec![(":now", n(now.timestamp_millis())), (":in_progress", s(IN_PROGRESS))],
                )
                .await?;
            if won {
                return Ok(Claim::Acquired);
            }
            let Some(current) = self.get_item(&pk, "IDEMPOTENCY").await? else {
                continue;
            };
            if get_s(&current, "payload_hash") != Some(payload_hash) {
                return Err(IdempotencyError::PayloadMismatch {
                    key: key.to_owned(),
                });
            }
            if get_s(&current, "state") == Some(COMPLETED) {
                let result = get_s(&current, "result")
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(format!("{pk}: result: {e}")))?
                    .unwrap_or(serde_json::Value::Null);
                return Ok(Claim::Completed(result));
            }
            let until = get_n(&current, "in_progress_until")
                .and_then(DateTime::<Utc>::from_timestamp_millis)
                .unwrap_or(now);
            return Ok(Claim::InProgress { until });
        }
        Err(StoreError::Unavailable(format!("idempotency record {key} kept changing")).into())
    }

    async fn complete(
        &self,
        key: &str,
        result: &serde_json::Value,
        ttl: IdempotencyTtl,
    ) -> Result<(), StoreError> {
        let until = self.now() + ttl.record;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(format!("IDEMPOTENCY#{key}")))
            .key(SK, s("IDEMPOTENCY"))
            .update_expression(
                "SET #state = :completed, #result = :result, #until = :until, #exp = :exp",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#result", "result")
            .expression_attribute_names("#until", "until")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":result", s(result.to_string()))
            .expression_attribute_values(":until", n(until.timestamp_millis()))
            .expression_attribute_values(":exp", n(until.timestamp()))
            .send()
            .await
            .map_err(|e| classify("UpdateItem", e))?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(format!("IDEMPOTENCY#{key}")))
            .key(SK, s("IDEMPOTENCY"))
            .condition_expression("#state = :in_progress")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify("DeleteItem", e)),
        }
    }

    async fn forget_failure(&self, key: &str) -> Result<bool, StoreError> {
        let pk = format!("IDEMPOTENCY#{key}");
        let Some(current) = self.get_item(&pk, "IDEMPOTENCY").await? else {
            return Ok(false);
        };
        let Some(result) = get_s(&current, "result") else {
            return Ok(false);
        };
        if get_s(&current, "state") != Some(COMPLETED) || !super::is_failure_result(result) {
            return Ok(false);
        }
        // Deleted only as read: a record that changed meanwhile is someone else's.
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(&pk))
            .key(SK, s("IDEMPOTENCY"))
            .condition_expression("#state = :completed AND #result = :result")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#result", "result")
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":result", s(result))
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
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :audit)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(order_pk(key)))
                .expression_attribute_values(":audit", s("AUDIT#"))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            for item in page.items() {
                let body = get_s(item, "entry")
                    .ok_or_else(|| StoreError::Corrupt("audit entry without body".into()))?;
                out.push(
                    serde_json::from_str(body)
                        .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))?,
                );
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
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

fn read_cursor(name: &str, item: &Item) -> Result<Cursor, StoreError> {
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
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
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
            };
            let put = put
                .build()
                .map_err(|e| StoreError::Refused(format!("TransactWriteItems: {e}")))?;
            items.push(TransactWriteItem::builder().put(put).build());
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
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(format!("LEASE#{name}")))
            .key(SK, s("LEASE"))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify("DeleteItem", e)),
        }
    }
}

/// A bucket's level is stored in millionths of a token (a whole number; DynamoDB numbers are exact).
const MICRO: f64 = 1_000_000.0;

#[async_trait]
impl super::RateBudget for DynamoStore {
    async fn take(
        &self,
        bucket: &str,
        shape: super::BucketShape,
        want: u32,
        reserve: f64,
    ) -> Result<super::Grant, StoreError> {
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
            let (left, grant) = super::bucket_take(level, at_ms, now_ms, shape, want, reserve);
            if grant.tokens == 0 {
                return Ok(grant);
            }
            let next = HashMap::from([
                (PK.to_owned(), s(&pk)),
                (SK.to_owned(), s("BUDGET")),
                ("level".to_owned(), n((left * MICRO).round() as i64)),
                ("at_ms".to_owned(), n(now_ms)),
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
        super::increment(self, &super::throttled_name(bucket, chrono::Utc::now())).await
    }
}
