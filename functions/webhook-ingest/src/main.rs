//! webhook-ingest on AWS Lambda: wiring only. The handler is [`webhook_ingest::handle`].

use lambda_http::{run, service_fn, Error, Request};
use orderbridge::caller::Function;
use orderbridge::secrets::SecretResolver;
use orderbridge::store::dynamo::AwsBackends;
use std::sync::Arc;
use webhook_ingest::config::Config;
use webhook_ingest::{handle, lambda, Deps};

#[tokio::main]
async fn main() -> Result<(), Error> {
    orderbridge::telemetry::start_lambda("webhook-ingest");
    let config = Config::from_env(&SecretResolver::for_function(Function::WebhookIngest)).await?;
    let aws =
        AwsBackends::connect(Some(Function::WebhookIngest), config.orders_table.clone()).await;
    let deps = Deps {
        store: aws.store.clone(),
        queue: Arc::new(aws.queue(config.sync_queue_url.clone())),
        shops: config.shops.clone(),
        max_body_bytes: config.max_body_bytes,
        dedupe_ttl: chrono::Duration::days(7),
        arrivals: Default::default(),
    };
    for shop in config.shops.iter().filter(|s| s.shop_domain.is_none()) {
        tracing::warn!(shop = %shop.id, "GENSTORE_SHOP_DOMAIN and GENSTORE_API_URL are unset: the shop's compliance webhooks will be refused");
    }
    // Several shops: the list is read again every few minutes (a fresh resolver, so a changed list or
    // secret is seen), so a shop added to the parameter is served without a redeploy.
    let several = orderbridge::config::var("SHOPS").is_some();
    let shops = Arc::new(orderbridge::config::Reloading::new(
        config.shops.clone(),
        orderbridge::config::reload_every()?,
    ));
    run(service_fn(|req: Request| {
        let mut deps = deps.clone();
        let shops = shops.clone();
        async move {
            if several {
                let fresh = shops.get(webhook_ingest::config::reload_shops).await;
                deps.shops = (*fresh).clone();
            }
            let out = handle(&deps, lambda::inbound(req)).await;
            orderbridge::metrics::flush();
            Ok::<_, Error>(lambda::response(out))
        }
    }))
    .await
}
