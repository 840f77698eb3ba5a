//! The order table on DynamoDB (`aws-sdk-dynamodb`). Item shapes and keys: see [`super::provision`].
//!
//! Every write carries a condition; a failed condition is read back to tell a stale write from a
//! conflict. Reads that decide a write are strongly consistent. Clients get explicit operation and
//! attempt timeouts from [`sdk_config`].

use super::provision::{BY_CUSTOMER, BY_GENSTORE, BY_STATUS, PK, SK, TTL_ATTRIBUTE};
use super::{OrderKey, StoreError, StoredOrder};
use crate::clock::Clock;
use crate::order::ChannelOrder;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// DynamoDB's item size limit.
pub const ITEM_LIMIT: usize = 400 * 1024;

pub(super) type Item = HashMap<String, AttributeValue>;

/// The deployment's order table and its SQS client, opened from the Lambda's environment: what every
/// function's `main` (and the CLI's `--aws`) opens first.
pub struct AwsBackends {
    /// The order table.
    pub store: Arc<DynamoStore>,
    sqs: aws_sdk_sqs::Client,
}

impl AwsBackends {
    /// Opens the table `table` for `function` (its requests name it, see [`crate::caller`]; none for
    /// an operator) with [`sdk_config_for`] and the system clock.
    pub async fn connect(
        function: Option<crate::caller::Function>,
        table: impl Into<String>,
    ) -> Self {
        let aws = sdk_config_for(function).await;
        AwsBackends {
            store: Arc::new(DynamoStore::new(
                Client::new(&aws),
                table.into(),
                Arc::new(crate::clock::SystemClock),
            )),
            sqs: aws_sdk_sqs::Client::new(&aws),
        }
    }

    /// Creates (or finds) the table `table` and the queue `queue` with its dead-letter queue, with an
    /// operator's clients, then opens them for `function`: how the tests and the one-machine runner
    /// stand a deployment up on an emulator, each function's requests naming it as deployed.
    pub async fn provisioned(
        function: Option<crate::caller::Function>,
        table: &str,
        queue: &str,
    ) -> Result<(Self, super::provision::Provisioned), super::StoreError> {
        let operator = sdk_config().await;
        let p = super::provision::provision(
            &Client::new(&operator),
            &aws_sdk_sqs::Client::new(&operator),
            table,
            queue,
        )
        .await?;
        Ok((AwsBackends::connect(function, p.table.clone()).await, p))
    }

    /// The queue at `url`.
    pub fn queue(&self, url: impl Into<String>) -> crate::store::sqs::SqsQueue {
        crate::store::sqs::SqsQueue::new(self.sqs.clone(), url)
    }
}

/// Loads the AWS SDK configuration once (per cold start) with explicit timeouts, for no function (an
/// operator, a test's set-up). `AWS_ENDPOINT_URL` points it at an emulator.
pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_for(None).await
}

/// [`sdk_config`] for `function`: its requests carry `app/{name}` in their user agent.
pub async fn sdk_config_for(function: Option<crate::caller::Function>) -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(2))
        .operation_attempt_timeout(std::time::Duration::from_secs(3))
        .operation_timeout(std::time::Duration::from_secs(10))
        .build();
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(timeouts);
    // The names are fixed and valid (letters and dashes); a refusal would only lose the tag.
    if let Some(app) = function.and_then(|f| aws_config::AppName::new(f.as_str()).ok()) {
        loader = loader.app_name(app);
    }
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

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub(super) fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

/// Maps an SDK error: throttling, timeouts and transport failures can be retried; the rest cannot.
pub(super) fn classify<E>(
    op: &str,
    e: SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(format!(
                "{op}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&e)
            ))
        }
        // A 5xx is the service's own failure, whatever its body says (or fails to): retryable, as AWS
        // advises, never taken for a refusal.
        SdkError::ServiceError(se) if se.raw().status().is_server_error() => {
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

pub(super) fn is_condition_failure<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::ServiceError(se) if se.err().code() == Some("ConditionalCheckFailedException"))
}

pub(super) fn order_pk(key: &OrderKey) -> String {
    format!("ORDER#{}#{}", key.channel, key.order_id)
}

pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(super) fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(k, v)| {
            k.len().saturating_add(match v {
                AttributeValue::S(x) | AttributeValue::N(x) => x.len(),
                _ => 16,
            })
        })
        .fold(0, usize::saturating_add)
}

pub(super) fn order_item(order: &ChannelOrder, version: u64) -> Result<Item, StoreError> {
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

pub(super) fn read_order(item: &Item) -> Result<StoredOrder, StoreError> {
    let pk = get_s(item, PK).unwrap_or("?");
    let doc = get_s(item, "doc").ok_or_else(|| StoreError::Corrupt(format!("{pk}: no doc")))?;
    let order: ChannelOrder =
        serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("{pk}: {e}")))?;
    let version = get_n(item, "version")
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("{pk}: no version")))?;
    Ok(StoredOrder { order, version })
}

pub(super) fn encode_token(key: &Item) -> String {
    let map: HashMap<&str, &str> = key
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.as_str(), v.as_str())))
        .collect();
    serde_json::to_string(&map).unwrap_or_default()
}

pub(super) fn decode_token(token: &str) -> Result<Item, StoreError> {
    let map: HashMap<String, String> = serde_json::from_str(token)
        .map_err(|_| StoreError::Refused("the page token is not one this store issued".into()))?;
    Ok(map.into_iter().map(|(k, v)| (k, s(v))).collect())
}

pub(super) fn expiry_attrs(until: DateTime<Utc>) -> [(String, AttributeValue); 2] {
    [
        ("until".to_owned(), n(until.timestamp_millis())),
        (TTL_ATTRIBUTE.to_owned(), n(until.timestamp())),
    ]
}

/// The table requests every record kind shares.
impl DynamoStore {
    /// Deletes an item while its `attribute` still holds `value`; done already (or taken by another)
    /// when it does not.
    /// Deletes an item only if each named attribute holds its value (no effect otherwise).
    pub(super) async fn delete_if(
        &self,
        pk: &str,
        sk: &str,
        holding: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        let mut req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk));
        let mut condition = Vec::new();
        for (i, (attribute, value)) in holding.iter().enumerate() {
            condition.push(format!("#a{i} = :v{i}"));
            req = req
                .expression_attribute_names(format!("#a{i}"), *attribute)
                .expression_attribute_values(format!(":v{i}"), s(*value));
        }
        match req
            .condition_expression(condition.join(" AND "))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify("DeleteItem", e)),
        }
    }

    pub(super) async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
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

    pub(super) async fn query_index(
        &self,
        index: &str,
        pk_attr: &str,
        pk: &str,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        let items = self
            .query_all(|q| {
                q.index_name(index)
                    .key_condition_expression("#k = :k")
                    .expression_attribute_names("#k", pk_attr)
                    .expression_attribute_values(":k", s(pk))
            })
            .await?;
        items.iter().map(read_order).collect()
    }

    /// Every item a query matches, page after page; `query` says what it asks, on this table.
    pub(super) async fn query_all(
        &self,
        query: impl Fn(QueryFluentBuilder) -> QueryFluentBuilder,
    ) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = query(self.client.query().table_name(&self.table))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            out.extend(page.items().iter().cloned());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }

    pub(super) async fn put_conditional(
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

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

mod batch;
mod orders;
mod records;

#[cfg(test)]
mod tests {
    use super::{classify, StoreError};
    use aws_sdk_dynamodb::error::SdkError;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn answer(status: u16, code: Option<&str>) -> SdkError<GetItemError, HttpResponse> {
        let mut meta = ErrorMetadata::builder();
        if let Some(c) = code {
            meta = meta.code(c);
        }
        let err = GetItemError::generic(meta.build());
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    /// A 5xx is the service's failure, retryable even when its body names no error (an emulator's HTML
    /// page, a proxy's); a 4xx that names no retryable error is a refusal.
    #[test]
    fn a_server_error_is_retryable_whatever_its_body() {
        assert!(matches!(
            classify("GetItem", answer(500, None)),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            classify("GetItem", answer(400, Some("ValidationException"))),
            StoreError::Refused(_)
        ));
        assert!(matches!(
            classify("GetItem", answer(400, Some("ThrottlingException"))),
            StoreError::Unavailable(_)
        ));
    }
}
