//! fulfillment-push on AWS Lambda (SQS trigger, `ReportBatchItemFailures`): wiring only. The work is
//! [`fulfillment_push::handle_batch`]; the function is put together by [`Deps::build`], and
//! [`fulfillment_push::lambda`] is its edge to Lambda.

use aws_lambda_events::event::sqs::SqsEvent;
use fulfillment_push::config::reload_shops;
use fulfillment_push::{handle_batch_until, lambda, Deps, Tuning};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use orderbridge::caller::Function;
use orderbridge::config::{clients_of, number, required, Needs, Reloading};
use orderbridge::secrets::SecretResolver;
use orderbridge::store::dynamo::AwsBackends;
use orderbridge::store::{Storage, SyncQueue};
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
    let queue = Arc::new(aws.queue(required("SYNC_QUEUE_URL")?));
    let dead_letters: Option<Arc<dyn SyncQueue>> = match std::env::var("SYNC_DLQ_URL") {
        Ok(url) if !url.trim().is_empty() => Some(Arc::new(aws.queue(url))),
        _ => None,
    };
    let root: Arc<dyn Storage> = aws.store;
    // Every platform call draws on the deployment's shared budget (with the poller and every other
    // instance of this function): each shop's Genstore on its own, a channel account on its own.
    let shop_clients = clients_of(&shops, &root, 0.0)?;
    let tuning = Tuning {
        concurrency: number("PUSH_CONCURRENCY", 4usize)?,
        ..Tuning::default()
    };
    let clients = shop_clients
        .iter()
        .find(|s| s.id.is_default())
        .map(|s| s.clients.clone())
        .unwrap_or_default();
    let several = orderbridge::config::var("SHOPS").is_some();
    let shops = Arc::new(if several { shop_clients } else { Vec::new() });
    let deps = Deps::build(root.clone(), queue, clients, shops, dead_letters, tuning);
    // Several shops: the list is read again every few minutes (a fresh resolver, so a changed list or
    // secret is seen), so a shop added to the parameter is worked without a redeploy.
    let reloading = Arc::new(Reloading::new(
        (*deps.shops).clone(),
        orderbridge::config::reload_every()?,
    ));
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let mut deps = deps.clone();
        let reloading = reloading.clone();
        let root = root.clone();
        async move {
            if several {
                deps.shops = Arc::new((*reloading.get(|| reload_shops(root)).await).clone());
            }
            let deadline = lambda::deadline(&event.context);
            let failed =
                handle_batch_until(&deps, lambda::records(event.payload), Some(deadline)).await;
            orderbridge::metrics::flush();
            Ok::<_, Error>(lambda::response(failed))
        }
    }))
    .await
}
