//! webhook-ingest's settings, from the environment (the configuration contract).

use crate::ShopKeys;
use orderbridge::config::Needs;
use orderbridge::secrets::SecretResolver;

pub use orderbridge::config::shop_domain;

/// Settings of one deployment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ORDERS_TABLE`.
    pub orders_table: String,
    /// `SYNC_QUEUE_URL`.
    pub sync_queue_url: String,
    /// The shops whose webhooks are taken: `SHOPS` (see [`orderbridge::config::shops_from_env`]), else
    /// the one shop of `GENSTORE_WEBHOOK_SECRETS` (one or two, comma-separated; each may be an `ssm:` /
    /// `secretsmanager:` reference) and `GENSTORE_SHOP_DOMAIN` (else the host of `GENSTORE_API_URL`;
    /// neither set: its compliance requests are refused).
    pub shops: Vec<ShopKeys>,
    /// `WEBHOOK_MAX_BODY_BYTES` (default 1 MiB).
    pub max_body_bytes: usize,
}

/// A setting that is missing or unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn required(name: &str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ConfigError(format!("{name} is not set")))
}

impl Config {
    /// Reads the environment, resolving secret references once (this cold start).
    pub async fn from_env(resolver: &SecretResolver) -> Result<Config, ConfigError> {
        let shops: Vec<ShopKeys> =
            orderbridge::config::shops_from_env(resolver, Needs::WebhookSecrets)
                .await
                .map_err(|e| ConfigError(e.0))?
                .iter()
                .map(ShopKeys::from)
                .collect();
        if let Some(s) = shops.iter().find(|s| s.secrets.is_empty()) {
            return Err(ConfigError(if s.id.is_default() && shops.len() == 1 {
                "GENSTORE_WEBHOOK_SECRETS is not set".into()
            } else {
                format!("shop {} has no GENSTORE_WEBHOOK_SECRETS", s.id)
            }));
        }
        let max_body_bytes = match std::env::var("WEBHOOK_MAX_BODY_BYTES") {
            Ok(v) => v.trim().parse().map_err(|_| {
                ConfigError("WEBHOOK_MAX_BODY_BYTES must be a number of bytes".into())
            })?,
            Err(_) => crate::DEFAULT_MAX_BODY,
        };
        for shop in shops.iter().filter(|s| s.shop_domain.is_none()) {
            tracing::warn!(shop = %shop.id, "GENSTORE_SHOP_DOMAIN and GENSTORE_API_URL are unset: the shop's compliance webhooks will be refused");
        }
        Ok(Config {
            orders_table: required("ORDERS_TABLE")?,
            sync_queue_url: required("SYNC_QUEUE_URL")?,
            shops,
            max_body_bytes,
        })
    }
}

/// The shops' keys read again while the function runs (`SHOPS` with a fresh resolver, so a changed
/// list or secret is seen): what the Lambda's `main` reloads every `SHOPS_RELOAD_SECONDS`.
pub async fn reload_shops() -> Result<Vec<ShopKeys>, ConfigError> {
    let resolver = SecretResolver::for_function(orderbridge::caller::Function::WebhookIngest);
    Config::from_env(&resolver).await.map(|c| c.shops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shop_is_named_or_read_from_the_api_url() {
        assert_eq!(
            shop_domain(
                Some(" Demo.genmystore.com "),
                Some("https://x.genmystore.com")
            )
            .as_deref(),
            Some("demo.genmystore.com")
        );
        assert_eq!(
            shop_domain(None, Some("https://acme.genmystore.com/")).as_deref(),
            Some("acme.genmystore.com")
        );
        assert_eq!(shop_domain(Some(""), Some("not a url")), None);
        assert_eq!(shop_domain(None, None), None);
    }
}
