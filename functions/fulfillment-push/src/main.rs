//! fulfillment-push on AWS Lambda (SQS trigger, `ReportBatchItemFailures`): wiring only. The work is
//! [`fulfillment_push::handle_batch`].

#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use fulfillment_push::{handle_batch, Deps, Record};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use orderbridge::clock::SystemClock;
use orderbridge::config::{number, required, Platforms};
use orderbridge::secrets::SecretResolver;
use orderbridge::store::dynamo::{sdk_config, DynamoStore};
use orderbridge::store::sqs::SqsQueue;
use orderbridge::store::IdempotencyTtl;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    orderbridge::telemetry::init_lambda_logging();
    let platforms = Platforms::from_env(&SecretResolver::from_env()).await?;
    tracing::info!(channels = platforms.describe(), "fulfillment-push starting");
    let aws = sdk_config().await;
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        required("ORDERS_TABLE")?,
        Arc::new(SystemClock),
    ));
    // Every platform call draws on the deployment's shared budget (with the poller and every other
    // instance of this function).
    let clients = platforms.clients()?.sharing(store.clone(), 0.0);
    let deps = Deps {
        store,
        queue: Arc::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            required("SYNC_QUEUE_URL")?,
        )),
        genstore: clients.genstore,
        zonos: clients.zonos,
        google: clients.google,
        concurrency: number("PUSH_CONCURRENCY", 4usize)?,
        idempotency: IdempotencyTtl::default(),
    };
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let deps = deps.clone();
        async move {
            let records: Vec<Record> = event
                .payload
                .records
                .into_iter()
                .map(|r| Record {
                    message_id: r.message_id.unwrap_or_default(),
                    body: r.body.unwrap_or_default(),
                })
                .collect();
            let failed = handle_batch(&deps, records).await;
            let mut response = SqsBatchResponse::default();
            response.batch_item_failures = failed
                .into_iter()
                .map(|id| {
                    let mut f = BatchItemFailure::default();
                    f.item_identifier = id;
                    f
                })
                .collect();
            Ok::<_, Error>(response)
        }
    }))
    .await
}
