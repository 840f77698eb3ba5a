//! webhook-ingest on AWS Lambda: wiring only. The handler is [`webhook_ingest::handle`].

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

use lambda_http::{run, service_fn, Error, Request};
use orderbridge::clock::SystemClock;
use orderbridge::secrets::SecretResolver;
use orderbridge::store::dynamo::{sdk_config, DynamoStore};
use orderbridge::store::sqs::SqsQueue;
use std::sync::Arc;
use webhook_ingest::config::Config;
use webhook_ingest::{handle, lambda, Deps};

#[tokio::main]
async fn main() -> Result<(), Error> {
    orderbridge::telemetry::init_lambda_logging();
    orderbridge::metrics::init("webhook-ingest");
    let config = Config::from_env(&SecretResolver::from_env()).await?;
    let aws = sdk_config().await;
    let deps = Deps {
        store: Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            config.orders_table.clone(),
            Arc::new(SystemClock),
        )),
        queue: Arc::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            config.sync_queue_url.clone(),
        )),
        secrets: config.webhook_secrets.clone(),
        max_body_bytes: config.max_body_bytes,
        dedupe_ttl: chrono::Duration::days(7),
        shop_domain: config.shop_domain.clone(),
    };
    if config.shop_domain.is_none() {
        tracing::warn!("GENSTORE_SHOP_DOMAIN and GENSTORE_API_URL are unset: compliance webhooks will be refused");
    }
    run(service_fn(|req: Request| {
        let deps = deps.clone();
        async move {
            let out = handle(&deps, lambda::inbound(req)).await;
            orderbridge::metrics::flush();
            Ok::<_, Error>(lambda::response(out))
        }
    }))
    .await
}
