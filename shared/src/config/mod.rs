//! The platform half of the configuration contract (`architecture.md`): which channels are enabled and
//! how to reach them. A channel whose settings are absent is disabled, and [`Platforms::describe`] says so
//! once at start. Secret values may be `ssm:` / `secretsmanager:` references, resolved once here.
//!
//! | variable | meaning |
//! |---|---|
//! | `GENSTORE_API_URL`, `GENSTORE_ACCESS_TOKEN` | Genstore (both needed) |
//! | `ZONOS_API_URL` (default production), `ZONOS_STORE_ID`, `ZONOS_SECRET` | Zonos |
//! | `ZONOS_RATE_PER_SECOND` | Zonos pacing (default 5) |
//! | `ZONOS_CURRENCY` | the store's currency, for answers that name none (default USD) |
//! | `GOOGLE_API_URL` (default production), `GOOGLE_MERCHANT_ID`, `GOOGLE_SERVICE_ACCOUNT` or `GOOGLE_ACCESS_TOKEN` | Google |
//! | `GOOGLE_RATE_PER_SECOND` | Google pacing (default 10) |

use crate::channels::genstore::client::{GenstoreClient, GenstoreSettings};
use crate::channels::google::auth::{GoogleCredentials, ServiceAccountKey};
use crate::channels::google::client::{
    GoogleClient, GoogleSettings, DEFAULT_API_URL as GOOGLE_DEFAULT,
};
use crate::channels::http::RateLimit;
use crate::channels::zonos::client::{
    ZonosClient, ZonosSettings, DEFAULT_API_URL as ZONOS_DEFAULT,
};
use crate::channels::zonos::wire::Credentials;
use crate::secrets::SecretResolver;

mod shops;
pub use shops::{
    clients_of, reload_every, shop_domain, shops_from_env, shops_from_json, Needs, Reloading, Shop,
    ShopClients, SHOP_SETTINGS,
};

/// A setting that is present but unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Reads one variable: set and not blank.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Reads a required variable.
pub fn required(name: &str) -> Result<String, ConfigError> {
    var(name).ok_or_else(|| ConfigError(format!("{name} is not set")))
}

/// Reads an optional number.
pub fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ConfigError(format!("{name} must be a number, not {v:?}"))),
    }
}

/// The enabled platforms' settings.
#[derive(Debug, Clone, Default)]
pub struct Platforms {
    /// Genstore, when configured.
    pub genstore: Option<GenstoreSettings>,
    /// Zonos, when configured.
    pub zonos: Option<ZonosSettings>,
    /// Google, when configured.
    pub google: Option<GoogleSettings>,
}

/// The clients of the enabled platforms, built once.
#[derive(Clone, Default)]
pub struct Clients {
    /// Genstore.
    pub genstore: Option<GenstoreClient>,
    /// Zonos.
    pub zonos: Option<ZonosClient>,
    /// Google.
    pub google: Option<GoogleClient>,
}

impl Clients {
    /// The same clients, each paced by the deployment's shared budget for its platform, so every
    /// function and instance together keeps to each platform's limit. `reserve_share` of each bucket
    /// is left for others: 0 for live work, a share (say half) for a backfill.
    pub fn sharing(
        self,
        budget: std::sync::Arc<dyn crate::store::RateBudget>,
        reserve_share: f64,
    ) -> Clients {
        Clients {
            genstore: self
                .genstore
                .map(|c| c.with_budget(budget.clone(), reserve_share)),
            zonos: self
                .zonos
                .map(|c| c.with_budget(budget.clone(), reserve_share)),
            google: self.google.map(|c| c.with_budget(budget, reserve_share)),
        }
    }
}

/// A platform's base URL from the setting `name`: https only, since every request carries a credential;
/// plain http only to this machine (the sandbox, a local emulator).
pub fn platform_url(name: &str, value: &str) -> Result<String, ConfigError> {
    let url =
        url::Url::parse(value.trim()).map_err(|_| ConfigError(format!("{name} is not a URL")))?;
    let local = matches!(
        url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    match url.scheme() {
        "https" => Ok(value.trim().to_owned()),
        "http" if local => Ok(value.trim().to_owned()),
        _ => Err(ConfigError(format!(
            "{name} must be an https:// URL (plain http only to localhost)"
        ))),
    }
}

impl Platforms {
    /// Reads the environment, resolving secret references.
    pub async fn from_env(resolver: &SecretResolver) -> Result<Platforms, ConfigError> {
        Platforms::from_source(resolver, &var).await
    }

    /// Reads the platform settings from `source` (the environment, or one shop's entry of `SHOPS`:
    /// the same names either way), resolving secret references.
    pub async fn from_source(
        resolver: &SecretResolver,
        source: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Result<Platforms, ConfigError> {
        let var = |name: &str| source(name);
        let number = |name: &str, default: u32| -> Result<u32, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| ConfigError(format!("{name} must be a number, not {v:?}"))),
            }
        };
        let secret = |name: &'static str| async move {
            match var(name) {
                None => Ok(None),
                Some(v) => resolver
                    .resolve(&v)
                    .await
                    .map(Some)
                    .map_err(|e| ConfigError(e.to_string())),
            }
        };
        let genstore = match (
            var("GENSTORE_API_URL"),
            secret("GENSTORE_ACCESS_TOKEN").await?,
        ) {
            (Some(url), Some(token)) => Some(GenstoreSettings::new(
                platform_url("GENSTORE_API_URL", &url)?,
                token,
            )),
            _ => None,
        };
        let zonos = match (var("ZONOS_STORE_ID"), secret("ZONOS_SECRET").await?) {
            (Some(store), Some(s)) => {
                let store: u64 = store
                    .parse()
                    .map_err(|_| ConfigError("ZONOS_STORE_ID must be a number".into()))?;
                let mut z = ZonosSettings::new(
                    platform_url(
                        "ZONOS_API_URL",
                        &var("ZONOS_API_URL").unwrap_or_else(|| ZONOS_DEFAULT.into()),
                    )?,
                    Credentials { store, secret: s },
                );
                let rate = number("ZONOS_RATE_PER_SECOND", 5)?;
                z.http.rate = RateLimit::new(rate, rate);
                if let Some(c) = var("ZONOS_CURRENCY") {
                    z.currency = c.parse().map_err(|e: crate::money::InvalidCurrency| {
                        ConfigError(format!("ZONOS_CURRENCY: {e}"))
                    })?;
                }
                Some(z)
            }
            _ => None,
        };
        let credentials = match (
            secret("GOOGLE_SERVICE_ACCOUNT").await?,
            secret("GOOGLE_ACCESS_TOKEN").await?,
        ) {
            (Some(key), _) => Some(GoogleCredentials::ServiceAccount(
                ServiceAccountKey::from_json(key.expose())
                    .map_err(|e| ConfigError(e.to_string()))?,
            )),
            (None, Some(token)) => Some(GoogleCredentials::AccessToken(token)),
            (None, None) => None,
        };
        let google = match (var("GOOGLE_MERCHANT_ID"), credentials) {
            (Some(merchant), Some(creds)) => {
                let mut g = GoogleSettings::new(
                    platform_url(
                        "GOOGLE_API_URL",
                        &var("GOOGLE_API_URL").unwrap_or_else(|| GOOGLE_DEFAULT.into()),
                    )?,
                    merchant,
                    creds,
                );
                let rate = number("GOOGLE_RATE_PER_SECOND", 10)?;
                g.http.rate = RateLimit::new(rate, rate);
                Some(g)
            }
            _ => None,
        };
        Ok(Platforms {
            genstore,
            zonos,
            google,
        })
    }

    /// One line saying which channels are enabled and which are not (never a secret).
    pub fn describe(&self) -> String {
        let state = |on: bool| {
            if on {
                "enabled"
            } else {
                "disabled (settings absent)"
            }
        };
        format!(
            "genstore {}, zonos {}, google {}",
            state(self.genstore.is_some()),
            state(self.zonos.is_some()),
            state(self.google.is_some())
        )
    }

    /// Builds the clients, once.
    pub fn clients(&self) -> Result<Clients, ConfigError> {
        let err = |e: crate::channels::http::ClientError| ConfigError(e.to_string());
        Ok(Clients {
            genstore: self
                .genstore
                .clone()
                .map(GenstoreClient::new)
                .transpose()
                .map_err(err)?,
            zonos: self
                .zonos
                .clone()
                .map(ZonosClient::new)
                .transpose()
                .map_err(err)?,
            google: self
                .google
                .clone()
                .map(GoogleClient::new)
                .transpose()
                .map_err(err)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::platform_url;

    #[test]
    fn platform_urls_are_https_except_to_this_machine() {
        for ok in [
            "https://shop.genmystore.com",
            "https://api.iglobalstores.com/",
            "http://127.0.0.1:8080/genstore",
            "http://localhost:9000",
        ] {
            assert!(platform_url("X_API_URL", ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://shop.genmystore.com",
            "http://10.0.0.5/zonos",
            "ftp://api.iglobalstores.com",
            "not a url",
            "http://127.0.0.1.evil.example",
        ] {
            let e = platform_url("X_API_URL", refused).unwrap_err().to_string();
            assert!(e.contains("X_API_URL"), "{refused}: {e}");
        }
    }
}
