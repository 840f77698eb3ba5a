//! order-poller on AWS Lambda (EventBridge Scheduler): wiring only. The work is [`order_poller::run`];
//! the function is put together by [`Deps::build`], and [`order_poller::lambda`] is its edge to Lambda.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use order_poller::backfill::BACKFILL_RESERVE;
use order_poller::config::{clients_of, reload_shops, Config};
use order_poller::{lambda, Deps, PollRequest};
use orderbridge::caller::Function;
use orderbridge::config::Reloading;
use orderbridge::secrets::SecretResolver;
use orderbridge::store::dynamo::AwsBackends;
use orderbridge::store::Storage;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    orderbridge::telemetry::start_lambda("order-poller");
    let config = Config::from_env(&SecretResolver::for_function(Function::OrderPoller)).await?;
    tracing::info!(
        channels = config.platforms.describe(),
        "order-poller starting"
    );
    let aws = AwsBackends::connect(Some(Function::OrderPoller), config.orders_table.clone()).await;
    let queue = Arc::new(aws.queue(config.sync_queue_url.clone()));
    let root: Arc<dyn Storage> = aws.store;
    // Every platform call draws on the deployment's shared budget; a backfill leaves part of each
    // bucket to the live poll and the pushes. One client per enabled platform, shared by both: the
    // connections and the TLS stack are built once.
    let clients = config.platforms.clients()?;
    let live = clients.clone().sharing(root.clone(), 0.0);
    let deps = Deps::build(root.clone(), queue, live, config.settings, Arc::default());
    let backfill_deps = deps.with_clients(clients.sharing(root.clone(), BACKFILL_RESERVE));
    // Several shops: each shop's clients, live and for a backfill, its Genstore paced in its own part
    // of the table. The list is read again every few minutes (a fresh resolver, so a changed list or
    // secret is seen), so a shop added to the parameter is polled without a redeploy.
    let several = !config.shops.is_empty();
    let reloading = Arc::new(Reloading::new(
        clients_of(&config.shops, &root)?,
        orderbridge::config::reload_every()?,
    ));
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let request = PollRequest::from_event(&event.payload);
        let backfilling = matches!(&request, Ok(r) if r.backfill.is_some());
        let mut deps = if backfilling {
            backfill_deps.clone()
        } else {
            deps.clone()
        };
        let reloading = reloading.clone();
        let root = root.clone();
        async move {
            if several {
                let shops = reloading.get(|| reload_shops(root)).await;
                deps.shops = Arc::new(if backfilling {
                    shops.1.clone()
                } else {
                    shops.0.clone()
                });
            }
            let summary =
                order_poller::run(&deps, request?, &lambda::deadline(&event.context)).await;
            orderbridge::metrics::flush();
            lambda::answer(summary)
        }
    }))
    .await
}
