//! fulfillment-push on AWS Lambda (SQS trigger, `ReportBatchItemFailures`): wiring only. The work is
//! [`fulfillment_push::handle_batch`].

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use fulfillment_push::{handle_batch_until, Backoff, Deps, Record, PUSH_LEASE};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use orderbridge::caller::Function;
use orderbridge::config::{number, required, Needs};
use orderbridge::secrets::SecretResolver;
use orderbridge::store::dynamo::AwsBackends;
use orderbridge::store::IdempotencyTtl;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    orderbridge::telemetry::start_lambda("fulfillment-push");
    let resolver = SecretResolver::for_function(Function::FulfillmentPush);
    let shops = orderbridge::config::shops_from_env(&resolver, Needs::Platforms).await?;
    for shop in &shops {
        tracing::info!(shop = %shop.id, channels = shop.platforms.describe(), "fulfillment-push starting");
    }
    let aws =
        AwsBackends::connect(Some(Function::FulfillmentPush), required("ORDERS_TABLE")?).await;
    let store: Arc<dyn orderbridge::store::Storage> = aws.store.clone();
    // Every platform call draws on the deployment's shared budget (with the poller and every other
    // instance of this function): each shop's Genstore on its own, a channel account on its own.
    let shop_clients = orderbridge::config::clients_of(&shops, &store, 0.0)?;
    let clients = shop_clients
        .iter()
        .find(|s| s.id.is_default())
        .map(|s| s.clients.clone())
        .unwrap_or_default();
    let several = orderbridge::config::var("SHOPS").is_some();
    let dead_letters: Option<Arc<dyn orderbridge::store::SyncQueue>> =
        match std::env::var("SYNC_DLQ_URL") {
            Ok(url) if !url.trim().is_empty() => Some(Arc::new(aws.queue(url))),
            _ => None,
        };
    let deps = Deps {
        store,
        queue: Arc::new(aws.queue(required("SYNC_QUEUE_URL")?)),
        genstore: clients.genstore,
        zonos: clients.zonos,
        google: clients.google,
        concurrency: number("PUSH_CONCURRENCY", 4usize)?,
        idempotency: IdempotencyTtl::default(),
        dead_letters,
        push_lease: PUSH_LEASE,
        backoff: Backoff::default(),
        shops: Arc::new(if several { shop_clients } else { Vec::new() }),
    };
    // Several shops: the list is read again every few minutes (a fresh resolver, so a changed list or
    // secret is seen), so a shop added to the parameter is worked without a redeploy.
    let reloading = Arc::new(orderbridge::config::Reloading::new(
        (*deps.shops).clone(),
        orderbridge::config::reload_every()?,
    ));
    let root = deps.store.clone();
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let mut deps = deps.clone();
        let reloading = reloading.clone();
        let root = root.clone();
        async move {
            if several {
                let fresh = reloading
                    .get(|| fulfillment_push::config::reload_shops(root))
                    .await;
                deps.shops = Arc::new((*fresh).clone());
            }
            let deadline = deadline_of(&event.context);
            let records: Vec<Record> = event
                .payload
                .records
                .into_iter()
                .map(|r| Record {
                    receive_count: r
                        .attributes
                        .get("ApproximateReceiveCount")
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1),
                    receipt: r.receipt_handle,
                    message_id: r.message_id.unwrap_or_default(),
                    body: r.body.unwrap_or_default(),
                })
                .collect();
            let failed = handle_batch_until(&deps, records, Some(deadline)).await;
            orderbridge::metrics::flush();
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

/// The invocation's deadline as an instant (the context gives epoch milliseconds).
fn deadline_of(context: &lambda_runtime::Context) -> std::time::Instant {
    let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let left = std::time::Duration::from_millis(context.deadline.saturating_sub(now_ms));
    let now = std::time::Instant::now();
    now.checked_add(left).unwrap_or(now)
}
