//! order-poller on AWS Lambda (EventBridge Scheduler): wiring only. The work is [`order_poller::run`].

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use order_poller::config::Config;
use order_poller::{Deps, PollRequest, RunSummary, Until};
use orderbridge::caller::Function;
use orderbridge::secrets::SecretResolver;
use orderbridge::store::dynamo::AwsBackends;
use std::sync::Arc;

use order_poller::backfill::BACKFILL_RESERVE;

#[tokio::main]
async fn main() -> Result<(), Error> {
    orderbridge::telemetry::start_lambda("order-poller");
    let config = Config::from_env(&SecretResolver::for_function(Function::OrderPoller)).await?;
    tracing::info!(
        channels = config.platforms.describe(),
        "order-poller starting"
    );
    let aws = AwsBackends::connect(Some(Function::OrderPoller), config.orders_table.clone()).await;
    let store = aws.store.clone();
    // Every platform call draws on the deployment's shared budget; a backfill leaves half of each
    // bucket to the live poll and the pushes.
    // One client per enabled platform (none for a disabled one), shared by both: the connections and
    // the TLS stack are built once.
    let clients = config.platforms.clients()?;
    let live = clients.clone().sharing(store.clone(), 0.0);
    let backfill = clients.sharing(store.clone(), BACKFILL_RESERVE);
    // Several shops: each shop's clients, live and for a backfill, its Genstore paced in its own part
    // of the table; built once per reading of the list.
    let root: Arc<dyn orderbridge::store::Storage> = store.clone();
    let deps = Deps {
        store,
        queue: Arc::new(aws.queue(config.sync_queue_url.clone())),
        zonos: live.zonos,
        google: live.google,
        genstore: live.genstore,
        settings: config.settings,
        shops: Arc::new(Vec::new()),
    };
    let backfill_deps = Deps {
        zonos: backfill.zonos,
        google: backfill.google,
        genstore: backfill.genstore,
        ..deps.clone()
    };
    // The list is read again every few minutes (a fresh resolver, so a changed list or secret is seen),
    // so a shop added to the parameter is polled without a redeploy.
    let several = !config.shops.is_empty();
    let reloading = Arc::new(orderbridge::config::Reloading::new(
        order_poller::config::clients_of(&config.shops, &root)?,
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
                let shops = reloading
                    .get(|| order_poller::config::reload_shops(root))
                    .await;
                deps.shops = Arc::new(if backfilling {
                    shops.1.clone()
                } else {
                    shops.0.clone()
                });
            }
            let request = request.map_err(Error::from)?;
            let now = std::time::Instant::now();
            let deadline = Until(now.checked_add(remaining(&event.context)).unwrap_or(now));
            let summary: RunSummary = order_poller::run(&deps, request, &deadline).await;
            orderbridge::metrics::flush();
            if !summary.stalled().is_empty() {
                // Only a channel failing without progress for longer than POLL_STALL_AFTER_MINUTES fails
                // the invocation (and the alarm on failed runs); the summary says which and why. A
                // transient fault is in the summary and the metrics, and the next run gets past it.
                return Err(Error::from(
                    serde_json::to_string(&summary).unwrap_or_default(),
                ));
            }
            Ok::<_, Error>(summary)
        }
    }))
    .await
}

/// Time left before the invocation's deadline.
fn remaining(context: &lambda_runtime::Context) -> std::time::Duration {
    let deadline_ms = context.deadline;
    let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    std::time::Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}
