//! webhook-ingest on AWS Lambda: wiring only. The handler is [`webhook_ingest::handle`]; the function is
//! put together by [`Deps::build`], and [`lambda`] turns API Gateway's requests and responses.

use lambda_http::{run, service_fn, Error, Request};
use orderbridge::caller::Function;
use orderbridge::config::Reloading;
use orderbridge::secrets::SecretResolver;
use orderbridge::store::dynamo::AwsBackends;
use std::sync::Arc;
use webhook_ingest::config::{reload_shops, Config};
use webhook_ingest::{handle, lambda, Deps};

#[tokio::main]
async fn main() -> Result<(), Error> {
    orderbridge::telemetry::start_lambda("webhook-ingest");
    let config = Config::from_env(&SecretResolver::for_function(Function::WebhookIngest)).await?;
    let aws =
        AwsBackends::connect(Some(Function::WebhookIngest), config.orders_table.clone()).await;
    let queue = Arc::new(aws.queue(config.sync_queue_url.clone()));
    let deps = Deps::build(
        aws.store,
        queue,
        config.shops.clone(),
        config.max_body_bytes,
    );
    // Several shops: the list is read again every few minutes (a fresh resolver, so a changed list or
    // secret is seen), so a shop added to the parameter is served without a redeploy.
    let several = orderbridge::config::var("SHOPS").is_some();
    let shops = Arc::new(Reloading::new(
        config.shops,
        orderbridge::config::reload_every()?,
    ));
    run(service_fn(|req: Request| {
        let mut deps = deps.clone();
        let shops = shops.clone();
        async move {
            if several {
                deps.shops = (*shops.get(reload_shops).await).clone();
            }
            let out = handle(&deps, lambda::inbound(req)).await;
            orderbridge::metrics::flush();
            Ok::<_, Error>(lambda::response(out))
        }
    }))
    .await
}
