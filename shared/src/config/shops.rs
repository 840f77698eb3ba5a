//! The shops a deployment serves (`SHOPS`), each with its Genstore, its webhook secrets and the channels
//! that feed it.
//!
//! `SHOPS` holds a JSON list, inline or (deployed) as an `ssm:` / `secretsmanager:` reference, so a shop
//! is added by changing one parameter, without a redeploy. Each entry is a shop's `id` and the very
//! settings a one-shop deployment reads from its environment ([`SHOP_SETTINGS`]), secret values as
//! references:
//!
//! ```json
//! [{"id": "default", "GENSTORE_API_URL": "https://eu.genmystore.com/api/202412",
//!   "GENSTORE_ACCESS_TOKEN": "ssm:/orderbridge/eu/genstore-token",
//!   "GENSTORE_WEBHOOK_SECRETS": "ssm:/orderbridge/eu/webhook-secret",
//!   "ZONOS_STORE_ID": "999", "ZONOS_SECRET": "ssm:/orderbridge/eu/zonos-secret"},
//!  {"id": "us", "GENSTORE_API_URL": "https://us.genmystore.com/api/202412", ...}]
//! ```
//!
//! Without `SHOPS` the deployment serves one shop, the default one, from its environment as before.
//!
//! Rules, checked at load (a list that breaks one is refused whole, naming the rule): ids are unique;
//! every shop has at least one webhook secret and no secret is shared by two shops — the secret that
//! verifies a webhook's signature is what tells the shops apart, never an unsigned header; shop domains
//! are unique; a Zonos store or Google merchant feeds one shop (see [`check`]). Decision: the shop a one-shop deployment served keeps its records only as the shop with
//! id `default` (see [`crate::shop`]); an upgrade lists it under that id.

use super::{var, ConfigError, Platforms};
use crate::secrets::{Secret, SecretResolver};
use crate::shop::ShopId;
use serde_json::Value;
use std::collections::BTreeMap;

/// The settings a shop's entry may hold: those of a one-shop deployment's environment.
pub const SHOP_SETTINGS: &[&str] = &[
    "GENSTORE_API_URL",
    "GENSTORE_ACCESS_TOKEN",
    "GENSTORE_SHOP_DOMAIN",
    "GENSTORE_WEBHOOK_SECRETS",
    "ZONOS_API_URL",
    "ZONOS_STORE_ID",
    "ZONOS_SECRET",
    "ZONOS_RATE_PER_SECOND",
    "ZONOS_CURRENCY",
    "GOOGLE_API_URL",
    "GOOGLE_MERCHANT_ID",
    "GOOGLE_SERVICE_ACCOUNT",
    "GOOGLE_ACCESS_TOKEN",
    "GOOGLE_RATE_PER_SECOND",
];

/// One shop, its settings resolved.
#[derive(Debug, Clone)]
pub struct Shop {
    /// Its id.
    pub id: ShopId,
    /// Its Genstore and the channels that feed it.
    pub platforms: Platforms,
    /// The secrets its webhooks are signed with: the current one and, while rotating, the previous one.
    pub webhook_secrets: Vec<Secret>,
    /// Its Genstore shop domain (`GENSTORE_SHOP_DOMAIN`, else the host of `GENSTORE_API_URL`).
    pub shop_domain: Option<String>,
}

/// Every shop's clients ([`Shop::clients`]), paced in `root` with `reserve_share` of each budget left
/// to the rest.
pub fn clients_of(
    shops: &[Shop],
    root: &std::sync::Arc<dyn crate::store::Storage>,
    reserve_share: f64,
) -> Result<Vec<ShopClients>, ConfigError> {
    shops
        .iter()
        .map(|s| s.clients(root, reserve_share))
        .collect()
}

impl Shop {
    /// The shop's clients, each paced by its budget ([`ShopClients::paced`]).
    pub fn clients(
        &self,
        root: &std::sync::Arc<dyn crate::store::Storage>,
        reserve_share: f64,
    ) -> Result<ShopClients, ConfigError> {
        Ok(ShopClients::paced(
            self.id.clone(),
            self.platforms.clients()?,
            root,
            reserve_share,
        ))
    }
}

impl ShopClients {
    /// `built`, the clients of shop `id`, each paced by its budget in `root` (the deployment's table):
    /// Genstore's in the shop's part (each shop's Genstore has its own limit), Zonos' and Google's in
    /// the deployment's, per account (a store or merchant is paced once). `reserve_share` as
    /// [`super::Clients::sharing`].
    pub fn paced(
        id: ShopId,
        built: super::Clients,
        root: &std::sync::Arc<dyn crate::store::Storage>,
        reserve_share: f64,
    ) -> ShopClients {
        let shop_budget: std::sync::Arc<dyn crate::store::RateBudget> =
            crate::store::ShopStore::scoped(root.clone(), &id);
        let deployment: std::sync::Arc<dyn crate::store::RateBudget> = root.clone();
        ShopClients {
            id,
            clients: super::Clients {
                genstore: built
                    .genstore
                    .map(|c| c.with_budget(shop_budget, reserve_share)),
                zonos: built
                    .zonos
                    .map(|c| c.with_budget(deployment.clone(), reserve_share)),
                google: built
                    .google
                    .map(|c| c.with_budget(deployment, reserve_share)),
            },
        }
    }
}

/// A shop's clients (see [`Shop::clients`]).
#[derive(Clone)]
pub struct ShopClients {
    /// The shop.
    pub id: ShopId,
    /// Its Genstore and channels.
    pub clients: super::Clients,
}

/// The shop's domain from its settings: explicit, else the host of its Genstore URL.
pub fn shop_domain(explicit: Option<&str>, api_url: Option<&str>) -> Option<String> {
    if let Some(d) = explicit.map(str::trim).filter(|d| !d.is_empty()) {
        return Some(d.to_ascii_lowercase());
    }
    let url = url::Url::parse(api_url?.trim()).ok()?;
    url.host_str().map(str::to_ascii_lowercase)
}

/// Resolves `GENSTORE_WEBHOOK_SECRETS`: one or two, comma-separated, each maybe a reference.
pub async fn webhook_secrets(
    raw: Option<&str>,
    resolver: &SecretResolver,
) -> Result<Vec<Secret>, ConfigError> {
    let mut out = Vec::new();
    for part in raw
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .take(2)
    {
        out.push(
            resolver
                .resolve(part)
                .await
                .map_err(|e| ConfigError(e.to_string()))?,
        );
    }
    Ok(out)
}

/// What of a shop's settings a function resolves: each reads only the secrets it uses (its role
/// grants no others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// The webhook secrets and the shop domain (webhook-ingest).
    WebhookSecrets,
    /// The platforms: Genstore and the channels (order-poller, fulfillment-push, the CLI).
    Platforms,
    /// Both (the one-machine runner, which hosts all three functions).
    Everything,
}

/// One shop from a source of settings (the environment, or an entry of `SHOPS`).
async fn shop(
    id: ShopId,
    resolver: &SecretResolver,
    source: &(dyn Fn(&str) -> Option<String> + Sync),
    needs: Needs,
) -> Result<Shop, ConfigError> {
    let platforms = match needs {
        Needs::WebhookSecrets => Platforms::default(),
        Needs::Platforms | Needs::Everything => Platforms::from_source(resolver, source).await?,
    };
    let webhook_secrets = match needs {
        Needs::Platforms => Vec::new(),
        Needs::WebhookSecrets | Needs::Everything => {
            webhook_secrets(source("GENSTORE_WEBHOOK_SECRETS").as_deref(), resolver).await?
        }
    };
    let shop_domain = shop_domain(
        source("GENSTORE_SHOP_DOMAIN").as_deref(),
        source("GENSTORE_API_URL").as_deref(),
    );
    Ok(Shop {
        id,
        platforms,
        webhook_secrets,
        shop_domain,
    })
}

/// Reads one entry of `SHOPS`: its id, and settings only of [`SHOP_SETTINGS`] (strings or numbers).
fn entry(i: usize, v: &Value) -> Result<(ShopId, BTreeMap<String, String>), ConfigError> {
    let err = |m: String| ConfigError(format!("SHOPS[{i}]: {m}"));
    let obj = v
        .as_object()
        .ok_or_else(|| err("expected an object".into()))?;
    let id: ShopId = obj
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| err("\"id\" is missing".into()))?
        .parse()
        .map_err(|e: crate::shop::InvalidShopId| err(e.to_string()))?;
    let mut settings = BTreeMap::new();
    for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "id") {
        if !SHOP_SETTINGS.contains(&k.as_str()) {
            return Err(err(format!("{k:?} is not a shop setting")));
        }
        let text = match v {
            Value::String(s) => s.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            Value::Null => continue,
            _ => return Err(err(format!("{k} must be text or a number"))),
        };
        if !text.is_empty() {
            settings.insert(k.clone(), text);
        }
    }
    Ok((id, settings))
}

/// Reads a `SHOPS` list (its JSON text): every shop, what `needs` of its settings resolved, the rules
/// checked.
pub async fn shops_from_json(
    text: &str,
    resolver: &SecretResolver,
    needs: Needs,
) -> Result<Vec<Shop>, ConfigError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| ConfigError(format!("SHOPS is not a JSON list of shops: {e}")))?;
    let list = v
        .as_array()
        .ok_or_else(|| ConfigError("SHOPS must be a JSON list of shops".into()))?;
    if list.is_empty() {
        return Err(ConfigError("SHOPS lists no shop".into()));
    }
    let mut shops: Vec<Shop> = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let (id, settings) = entry(i, item)?;
        if shops.iter().any(|s| s.id == id) {
            return Err(ConfigError(format!("SHOPS: shop {id} is listed twice")));
        }
        let source = |name: &str| settings.get(name).cloned();
        shops.push(shop(id, resolver, &source, needs).await?);
    }
    check(&shops, needs)?;
    Ok(shops)
}

/// The Zonos store and the Google merchant feeding a shop, each as `(platform, API URL, account)`.
fn accounts(p: &Platforms) -> Vec<(&'static str, String, String)> {
    let url = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
    let mut out = Vec::new();
    if let Some(z) = &p.zonos {
        out.push((
            "Zonos store",
            url(&z.api_url),
            z.credentials.store.to_string(),
        ));
    }
    if let Some(g) = &p.google {
        out.push(("Google merchant", url(&g.api_url), g.merchant_id.clone()));
    }
    out
}

/// The rules a list of shops keeps (see the module's notes), those of the settings `needs` read.
///
/// Decision: a Zonos store or Google merchant feeds one shop. Neither platform's orders name a Genstore
/// shop, so two shops fed by one account would each import every order of it (one order mirrored
/// twice); such a list is refused, naming both shops.
pub fn check(shops: &[Shop], needs: Needs) -> Result<(), ConfigError> {
    let secrets_read = needs != Needs::Platforms;
    for (i, a) in shops.iter().enumerate() {
        if secrets_read && shops.len() > 1 && a.webhook_secrets.is_empty() {
            return Err(ConfigError(format!(
                "SHOPS: shop {} has no GENSTORE_WEBHOOK_SECRETS: its webhooks could not be told apart",
                a.id
            )));
        }
        for b in shops.iter().skip(i.saturating_add(1)) {
            let shared = a
                .webhook_secrets
                .iter()
                .any(|s| b.webhook_secrets.iter().any(|t| t.expose() == s.expose()));
            if shared {
                return Err(ConfigError(format!(
                    "SHOPS: shops {} and {} share a webhook secret: the secret is what tells their webhooks apart",
                    a.id, b.id
                )));
            }
            if a.shop_domain.is_some() && a.shop_domain == b.shop_domain {
                return Err(ConfigError(format!(
                    "SHOPS: shops {} and {} have the same shop domain",
                    a.id, b.id
                )));
            }
            let theirs = accounts(&b.platforms);
            if let Some((what, _, account)) = accounts(&a.platforms)
                .into_iter()
                .find(|acc| theirs.contains(acc))
            {
                return Err(ConfigError(format!(
                    "SHOPS: shops {} and {} are both fed by {what} {account}: each of its orders would be imported into both; an account feeds one shop",
                    a.id, b.id
                )));
            }
        }
    }
    Ok(())
}

/// The shops this deployment serves: `SHOPS` (inline JSON, or a reference to it), else the one default
/// shop of the environment.
pub async fn shops_from_env(
    resolver: &SecretResolver,
    needs: Needs,
) -> Result<Vec<Shop>, ConfigError> {
    match var("SHOPS") {
        None => Ok(vec![
            shop(ShopId::default_shop(), resolver, &var, needs).await?,
        ]),
        Some(v) if v.starts_with('[') => shops_from_json(&v, resolver, needs).await,
        Some(reference) => {
            let text = resolver
                .resolve(&reference)
                .await
                .map_err(|e| ConfigError(format!("SHOPS: {e}")))?;
            shops_from_json(text.expose(), resolver, needs).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain values only: nothing to look up.
    fn resolver() -> SecretResolver {
        SecretResolver::new("http://127.0.0.1:9", None)
    }

    #[tokio::test]
    async fn a_list_of_shops_reads_each_shops_settings() {
        let shops = shops_from_json(
            r#"[{"id": "default", "GENSTORE_API_URL": "https://eu.genmystore.com/api/202412",
                 "GENSTORE_ACCESS_TOKEN": "t1", "GENSTORE_WEBHOOK_SECRETS": "s1,s0",
                 "ZONOS_STORE_ID": 999, "ZONOS_SECRET": "z"},
                {"id": "us", "GENSTORE_API_URL": "https://us.genmystore.com/api/202412",
                 "GENSTORE_ACCESS_TOKEN": "t2", "GENSTORE_WEBHOOK_SECRETS": "s2",
                 "GOOGLE_MERCHANT_ID": "123", "GOOGLE_ACCESS_TOKEN": "g"}]"#,
            &resolver(),
            Needs::Everything,
        )
        .await
        .unwrap();
        assert_eq!(shops.len(), 2);
        assert!(shops[0].id.is_default());
        assert_eq!(shops[0].webhook_secrets.len(), 2);
        assert_eq!(shops[0].shop_domain.as_deref(), Some("eu.genmystore.com"));
        assert!(shops[0].platforms.zonos.is_some() && shops[0].platforms.google.is_none());
        assert_eq!(shops[1].id.as_str(), "us");
        assert!(shops[1].platforms.google.is_some() && shops[1].platforms.zonos.is_none());
    }

    #[tokio::test]
    async fn a_list_breaking_a_rule_is_refused_naming_it() {
        let two = |a: &str, b: &str| {
            format!(
                r#"[{{"id": "a", "GENSTORE_API_URL": "https://a.genmystore.com", "GENSTORE_ACCESS_TOKEN": "t", {a}}},
                    {{"id": "b", "GENSTORE_API_URL": "https://b.genmystore.com", "GENSTORE_ACCESS_TOKEN": "t", {b}}}]"#
            )
        };
        for (text, says) in [
            (
                two(
                    r#""GENSTORE_WEBHOOK_SECRETS": "same""#,
                    r#""GENSTORE_WEBHOOK_SECRETS": "x,same""#,
                ),
                "share a webhook secret",
            ),
            (
                two(
                    r#""GENSTORE_WEBHOOK_SECRETS": "1""#,
                    r#""ZONOS_STORE_ID": "1""#,
                ),
                "no GENSTORE_WEBHOOK_SECRETS",
            ),
            (
                two(
                    r#""GENSTORE_WEBHOOK_SECRETS": "1""#,
                    r#""GENSTORE_WEBHOOK_SECRETS": "2", "SHOP_DOMAIN": "x""#,
                ),
                "is not a shop setting",
            ),
            (
                two(
                    r#""GENSTORE_WEBHOOK_SECRETS": "1", "GENSTORE_SHOP_DOMAIN": "x.genmystore.com""#,
                    r#""GENSTORE_WEBHOOK_SECRETS": "2", "GENSTORE_SHOP_DOMAIN": "X.genmystore.com""#,
                ),
                "same shop domain",
            ),
            (
                two(
                    r#""GENSTORE_WEBHOOK_SECRETS": "1", "ZONOS_STORE_ID": 7, "ZONOS_SECRET": "z""#,
                    r#""GENSTORE_WEBHOOK_SECRETS": "2", "ZONOS_STORE_ID": "7", "ZONOS_SECRET": "y""#,
                ),
                "both fed by Zonos store 7",
            ),
            (
                two(
                    r#""GENSTORE_WEBHOOK_SECRETS": "1", "GOOGLE_MERCHANT_ID": "55", "GOOGLE_ACCESS_TOKEN": "g""#,
                    r#""GENSTORE_WEBHOOK_SECRETS": "2", "GOOGLE_MERCHANT_ID": "55", "GOOGLE_ACCESS_TOKEN": "h""#,
                ),
                "both fed by Google merchant 55",
            ),
            (r#"[{"id": "a"}, {"id": "a"}]"#.to_owned(), "listed twice"),
            (r#"[{"id": "E U"}]"#.to_owned(), "not a shop id"),
            (r#"[]"#.to_owned(), "no shop"),
            (r#"{"id": "a"}"#.to_owned(), "JSON list"),
        ] {
            let e = shops_from_json(&text, &resolver(), Needs::Everything)
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
        // The functions reading only the platforms refuse a shared account too, and the one reading only
        // webhook secrets is not stopped by it.
        let shared = two(
            r#""GENSTORE_WEBHOOK_SECRETS": "1", "ZONOS_STORE_ID": 7, "ZONOS_SECRET": "z""#,
            r#""GENSTORE_WEBHOOK_SECRETS": "2", "ZONOS_STORE_ID": 7, "ZONOS_SECRET": "z""#,
        );
        assert!(shops_from_json(&shared, &resolver(), Needs::Platforms)
            .await
            .is_err());
        assert!(shops_from_json(&shared, &resolver(), Needs::WebhookSecrets)
            .await
            .is_ok());
        // The same store id at another Zonos (a sandbox per shop) is another account.
        let elsewhere = two(
            r#""GENSTORE_WEBHOOK_SECRETS": "1", "ZONOS_STORE_ID": 7, "ZONOS_SECRET": "z""#,
            r#""GENSTORE_WEBHOOK_SECRETS": "2", "ZONOS_STORE_ID": 7, "ZONOS_SECRET": "z", "ZONOS_API_URL": "http://127.0.0.1:9/zonos""#,
        );
        assert!(shops_from_json(&elsewhere, &resolver(), Needs::Everything)
            .await
            .is_ok());
    }
}

/// A value read from configuration that can change while the function runs (the list of shops: a shop
/// is added by editing one parameter, with no redeploy): read again at most once every `every`, on the
/// first use after that. A read that fails keeps the last good value (and is tried again after
/// another `every`), so a typo in the parameter never stops a running deployment.
pub struct Reloading<T> {
    state: std::sync::Mutex<(std::sync::Arc<T>, std::time::Instant)>,
    every: std::time::Duration,
}

impl<T> Reloading<T> {
    /// Starts with `value`, read just now.
    pub fn new(value: T, every: std::time::Duration) -> Self {
        Reloading {
            state: std::sync::Mutex::new((std::sync::Arc::new(value), std::time::Instant::now())),
            every,
        }
    }

    /// The current value, read again first with `load` if it is older than `every`.
    pub async fn get<F, Fut, E>(&self, load: F) -> std::sync::Arc<T>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
        E: std::fmt::Display,
    {
        let due = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.1.elapsed() < self.every {
                return state.0.clone();
            }
            // Whoever finds it due reads it; the others go on with the current value meanwhile.
            state.1 = std::time::Instant::now();
            state.0.clone()
        };
        match load().await {
            Ok(fresh) => {
                let fresh = std::sync::Arc::new(fresh);
                let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                state.0 = fresh.clone();
                fresh
            }
            Err(e) => {
                tracing::error!(error = %e, "configuration not read again: the last good one stays");
                due
            }
        }
    }
}

/// How often the functions read `SHOPS` again (`SHOPS_RELOAD_SECONDS`, default 300).
pub fn reload_every() -> Result<std::time::Duration, ConfigError> {
    Ok(std::time::Duration::from_secs(super::number(
        "SHOPS_RELOAD_SECONDS",
        300u64,
    )?))
}

#[cfg(test)]
mod reloading_tests {
    use super::Reloading;
    use std::time::Duration;

    #[tokio::test]
    async fn a_value_is_read_again_once_due_and_a_failed_read_keeps_the_last_good_one() {
        let r = Reloading::new(1, Duration::from_millis(30));
        let never = || async { Err::<i32, &str>("not yet due: not called") };
        assert_eq!(*r.get(never).await, 1, "not due yet");
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(*r.get(|| async { Ok::<_, &str>(2) }).await, 2, "read again");
        assert_eq!(*r.get(never).await, 2);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(
            *r.get(|| async { Err::<i32, _>("a typo") }).await,
            2,
            "kept"
        );
        assert_eq!(*r.get(never).await, 2, "and not read again at once");
    }
}
