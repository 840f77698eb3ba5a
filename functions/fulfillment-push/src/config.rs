//! fulfillment-push's shops, read again while it runs.

use orderbridge::config::{ConfigError, Needs, ShopClients};
use orderbridge::secrets::SecretResolver;

/// The shops read again while the function runs (`SHOPS` with a fresh resolver, so a changed list or
/// secret is seen), each with its clients paced in `root`, the deployment's table: what the Lambda's
/// `main` reloads every `SHOPS_RELOAD_SECONDS`.
pub async fn reload_shops(
    root: std::sync::Arc<dyn orderbridge::store::Storage>,
) -> Result<Vec<ShopClients>, ConfigError> {
    let resolver = SecretResolver::for_function(orderbridge::caller::Function::FulfillmentPush);
    let shops = orderbridge::config::shops_from_env(&resolver, Needs::Platforms).await?;
    orderbridge::config::clients_of(&shops, &root, 0.0)
}
