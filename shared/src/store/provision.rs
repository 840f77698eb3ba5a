//! The shapes of the order table and the sync queue, in one place: the provisioning code creates exactly
//! these, and the SAM template must declare exactly these (a test compares them).
//!
//! ## Table (single-table design)
//!
//! | item | `pk` | `sk` | other attributes |
//! |---|---|---|---|
//! | order | `ORDER#{channel}#{order_id}` | `ORDER` | `version` (N), `source_version` (S, sortable), `doc` (S, the order as JSON), `status`, `updated_at`, GSI keys |
//! | audit entry | the order's `pk` | `AUDIT#{at}#{operation_id}` | `entry` (S, JSON) |
//! | dedupe key | `DEDUPE#{key}` | `DEDUPE` | `expires_at` |
//! | idempotency record | `IDEMPOTENCY#{key}` | `IDEMPOTENCY` | `state`, `payload_hash`, `result`, `in_progress_until`, `expires_at` |
//! | cursor | `CURSOR#{name}` | `CURSOR` | `value`, `updated_at` |
//! | lease | `LEASE#{name}` | `LEASE` | `owner`, `until`, `expires_at` |
//!
//! GSIs (all projecting every attribute): `by-genstore` (`gsi1pk` = `GENSTORE#{genstore_order_id}`,
//! `gsi1sk` = `pk`), `by-status` (`gsi2pk` = `STATUS#{unified_status}`, `gsi2sk` =
//! `{updated_at}#{pk}`, queried newest first), `by-customer` (`gsi3pk` =
//! `CUSTOMER#{channel}#{customer_id}`, `gsi3sk` = `pk`). `expires_at` (epoch seconds) is the TTL
//! attribute; code checks expiry itself against its clock.

/// Partition key attribute.
pub const PK: &str = "pk";
/// Sort key attribute.
pub const SK: &str = "sk";
/// TTL attribute (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// A global secondary index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gsi {
    /// Index name.
    pub name: &'static str,
    /// Its partition key attribute.
    pub pk: &'static str,
    /// Its sort key attribute.
    pub sk: &'static str,
}

/// Orders by the Genstore order they are (or are linked to).
pub const BY_GENSTORE: Gsi = Gsi {
    name: "by-genstore",
    pk: "gsi1pk",
    sk: "gsi1sk",
};
/// Orders by unified status, by update time.
pub const BY_STATUS: Gsi = Gsi {
    name: "by-status",
    pk: "gsi2pk",
    sk: "gsi2sk",
};
/// Orders by channel customer.
pub const BY_CUSTOMER: Gsi = Gsi {
    name: "by-customer",
    pk: "gsi3pk",
    sk: "gsi3sk",
};
/// Every GSI of the table.
pub const GSIS: [Gsi; 3] = [BY_GENSTORE, BY_STATUS, BY_CUSTOMER];

/// Default table name (the SAM template names it per stack).
pub const DEFAULT_TABLE: &str = "orderbridge-orders";
/// Default sync queue name.
pub const DEFAULT_QUEUE: &str = "orderbridge-sync";

/// The sync queue's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSpec {
    /// A message is dead-lettered after this many receives.
    pub max_receive_count: u32,
    /// Visibility timeout: at least six times fulfillment-push's timeout.
    pub visibility_timeout_secs: u32,
    /// How long the dead-letter queue keeps messages (14 days, SQS's maximum).
    pub dlq_retention_secs: u32,
    /// How long the sync queue keeps a message (14 days: an outage's backlog waits).
    pub retention_secs: u32,
    /// The largest message body (SQS's maximum, 256 KiB; set explicitly so every endpoint enforces it).
    pub max_message_bytes: u32,
}

/// The sync queue as deployed: thirty receives (about 12 hours of fulfillment-push's backoff; a job
/// that failed for good goes to the DLQ at once), 6 × fulfillment-push's 60 s timeout, 14 days kept.
pub const QUEUE: QueueSpec = QueueSpec {
    max_receive_count: 30,
    visibility_timeout_secs: 360,
    dlq_retention_secs: 14 * 24 * 3600,
    retention_secs: 14 * 24 * 3600,
    max_message_bytes: 256 * 1024,
};

/// The dead-letter queue's name for a queue.
pub fn dlq_name(queue: &str) -> String {
    format!("{queue}-dlq")
}

/// What provisioning created (or found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// The table's name.
    pub table: String,
    /// The sync queue's URL.
    pub queue_url: String,
    /// The dead-letter queue's URL.
    pub dlq_url: String,
}

#[cfg(feature = "aws")]
mod aws {
    use super::*;
    use crate::store::StoreError;
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
    };
    use aws_sdk_sqs::types::QueueAttributeName;

    fn err(op: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Unavailable(format!("{op}: {e}"))
    }

    fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| err("KeySchemaElement", e))
    }

    /// Creates the order table (keys, GSIs, on-demand billing, TTL) unless it exists; waits until it is
    /// active. Safe to run again.
    pub async fn provision_table(
        client: &aws_sdk_dynamodb::Client,
        table: &str,
    ) -> Result<(), StoreError> {
        let mut attrs = vec![PK, SK];
        for g in GSIS {
            attrs.push(g.pk);
            attrs.push(g.sk);
        }
        let definitions = attrs
            .into_iter()
            .map(|a| {
                AttributeDefinition::builder()
                    .attribute_name(a)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| err("AttributeDefinition", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut indexes = Vec::new();
        for g in GSIS {
            indexes.push(
                GlobalSecondaryIndex::builder()
                    .index_name(g.name)
                    .key_schema(key(g.pk, KeyType::Hash)?)
                    .key_schema(key(g.sk, KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(|e| err("GlobalSecondaryIndex", e))?,
            );
        }
        let created = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(definitions))
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            .set_global_secondary_indexes(Some(indexes))
            .send()
            .await;
        if let Err(e) = created {
            let exists = e
                .as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception());
            if !exists {
                return Err(err(
                    "CreateTable",
                    aws_sdk_dynamodb::error::DisplayErrorContext(&e),
                ));
            }
        }
        for _ in 0..120 {
            let d = client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| {
                    err(
                        "DescribeTable",
                        aws_sdk_dynamodb::error::DisplayErrorContext(&e),
                    )
                })?;
            if d.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        let ttl = client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .map_err(|e| err("TimeToLiveSpecification", e))?,
            )
            .send()
            .await;
        if let Err(e) = ttl {
            // Enabling TTL twice is refused with a validation error: that is "already done".
            let already = e
                .as_service_error()
                .map(|s| {
                    aws_sdk_dynamodb::error::ProvideErrorMetadata::code(s)
                        == Some("ValidationException")
                })
                .unwrap_or(false);
            if !already {
                return Err(err(
                    "UpdateTimeToLive",
                    aws_sdk_dynamodb::error::DisplayErrorContext(&e),
                ));
            }
        }
        Ok(())
    }

    async fn create_queue(
        client: &aws_sdk_sqs::Client,
        name: &str,
        attributes: Vec<(QueueAttributeName, String)>,
    ) -> Result<String, StoreError> {
        let mut req = client.create_queue().queue_name(name);
        for (k, v) in &attributes {
            req = req.attributes(k.clone(), v);
        }
        match req.send().await {
            Ok(out) => out
                .queue_url()
                .map(str::to_owned)
                .ok_or_else(|| err("CreateQueue", "no queue URL in the answer")),
            Err(e) => {
                // The queue exists with other attributes: find it and bring its attributes up to date.
                let url = client
                    .get_queue_url()
                    .queue_name(name)
                    .send()
                    .await
                    .map_err(|_| err("CreateQueue", aws_sdk_sqs::error::DisplayErrorContext(&e)))?
                    .queue_url()
                    .map(str::to_owned)
                    .ok_or_else(|| err("GetQueueUrl", "no queue URL in the answer"))?;
                let mut set = client.set_queue_attributes().queue_url(&url);
                for (k, v) in attributes {
                    set = set.attributes(k, v);
                }
                set.send().await.map_err(|e| {
                    err(
                        "SetQueueAttributes",
                        aws_sdk_sqs::error::DisplayErrorContext(&e),
                    )
                })?;
                Ok(url)
            }
        }
    }

    /// Creates the sync queue and its dead-letter queue with the redrive policy of [`QUEUE`], unless
    /// they exist. Safe to run again.
    pub async fn provision_queue(
        client: &aws_sdk_sqs::Client,
        queue: &str,
    ) -> Result<(String, String), StoreError> {
        let dlq_url = create_queue(
            client,
            &dlq_name(queue),
            vec![(
                QueueAttributeName::MessageRetentionPeriod,
                QUEUE.dlq_retention_secs.to_string(),
            )],
        )
        .await?;
        let arn = client
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| {
                err(
                    "GetQueueAttributes",
                    aws_sdk_sqs::error::DisplayErrorContext(&e),
                )
            })?
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .ok_or_else(|| err("GetQueueAttributes", "no QueueArn"))?;
        let redrive = serde_json::json!({
            "deadLetterTargetArn": arn,
            "maxReceiveCount": QUEUE.max_receive_count.to_string(),
        })
        .to_string();
        let url = create_queue(
            client,
            queue,
            vec![
                (
                    QueueAttributeName::VisibilityTimeout,
                    QUEUE.visibility_timeout_secs.to_string(),
                ),
                (
                    QueueAttributeName::MaximumMessageSize,
                    QUEUE.max_message_bytes.to_string(),
                ),
                (
                    QueueAttributeName::MessageRetentionPeriod,
                    QUEUE.retention_secs.to_string(),
                ),
                (QueueAttributeName::RedrivePolicy, redrive),
            ],
        )
        .await?;
        Ok((url, dlq_url))
    }

    /// Creates the table and the queues. Safe to run again.
    pub async fn provision(
        ddb: &aws_sdk_dynamodb::Client,
        sqs: &aws_sdk_sqs::Client,
        table: &str,
        queue: &str,
    ) -> Result<Provisioned, StoreError> {
        provision_table(ddb, table).await?;
        let (queue_url, dlq_url) = provision_queue(sqs, queue).await?;
        Ok(Provisioned {
            table: table.to_owned(),
            queue_url,
            dlq_url,
        })
    }
}

#[cfg(feature = "aws")]
pub use aws::{provision, provision_queue, provision_table};
