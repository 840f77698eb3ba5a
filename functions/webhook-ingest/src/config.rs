//! webhook-ingest's settings, from the environment (the configuration contract).

use orderbridge::secrets::Secret;
use orderbridge::secrets::SecretResolver;

/// Settings of one deployment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ORDERS_TABLE`.
    pub orders_table: String,
    /// `SYNC_QUEUE_URL`.
    pub sync_queue_url: String,
    /// `GENSTORE_WEBHOOK_SECRETS`: one or two, comma-separated; each may be an `ssm:` /
    /// `secretsmanager:` reference.
    pub webhook_secrets: Vec<Secret>,
    /// `WEBHOOK_MAX_BODY_BYTES` (default 1 MiB).
    pub max_body_bytes: usize,
    /// The shop served: `GENSTORE_SHOP_DOMAIN`, else the host of `GENSTORE_API_URL`
    /// (`https://{shop}.genmystore.com`). Neither set: compliance requests are refused.
    pub shop_domain: Option<String>,
}

/// The shop a deployment serves, from its settings (see [`Config::shop_domain`]).
pub fn shop_domain(explicit: Option<&str>, api_url: Option<&str>) -> Option<String> {
    if let Some(d) = explicit.map(str::trim).filter(|d| !d.is_empty()) {
        return Some(d.to_ascii_lowercase());
    }
    let url = url::Url::parse(api_url?.trim()).ok()?;
    url.host_str().map(str::to_ascii_lowercase)
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
        let raw = required("GENSTORE_WEBHOOK_SECRETS")?;
        let mut webhook_secrets = Vec::new();
        for part in raw
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .take(2)
        {
            webhook_secrets.push(
                resolver
                    .resolve(part)
                    .await
                    .map_err(|e| ConfigError(e.to_string()))?,
            );
        }
        if webhook_secrets.is_empty() {
            return Err(ConfigError(
                "GENSTORE_WEBHOOK_SECRETS holds no secret".into(),
            ));
        }
        let max_body_bytes = match std::env::var("WEBHOOK_MAX_BODY_BYTES") {
            Ok(v) => v.trim().parse().map_err(|_| {
                ConfigError("WEBHOOK_MAX_BODY_BYTES must be a number of bytes".into())
            })?,
            Err(_) => crate::DEFAULT_MAX_BODY,
        };
        Ok(Config {
            orders_table: required("ORDERS_TABLE")?,
            sync_queue_url: required("SYNC_QUEUE_URL")?,
            webhook_secrets,
            max_body_bytes,
            shop_domain: shop_domain(
                std::env::var("GENSTORE_SHOP_DOMAIN").ok().as_deref(),
                std::env::var("GENSTORE_API_URL").ok().as_deref(),
            ),
        })
    }
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
