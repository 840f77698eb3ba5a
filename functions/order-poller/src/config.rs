//! order-poller's settings, from the environment (the configuration contract, plus the poller's own).
//!
//! | variable | meaning |
//! |---|---|
//! | `ORDERS_TABLE`, `SYNC_QUEUE_URL` | the table and the queue |
//! | platform settings | see `orderbridge::config` (absent settings disable a channel) |
//! | `SHOPS` | several shops, each with its platform settings (see `orderbridge::config::shops_from_env`) |
//! | `POLL_LOOKBACK_DAYS` | first Zonos run and Google change scan (default 7) |
//! | `POLL_INCLUDE_TEST_ORDERS` | `true` imports Zonos test orders (default false) |
//! | `POLL_CONCURRENCY` | platform calls in flight per channel (default 4) |
//! | `POLL_GENSTORE_RECHECK` | open Genstore mirrors read again per run, in rotation (default 20) |
//! | `POLL_PARK_AFTER_RUNS` | runs a Zonos order failing alone may hold the cursor before it is parked (default 3) |
//! | `POLL_STALL_AFTER_MINUTES` | a failing channel without progress for longer fails the run (default 30) |

use crate::Settings;
use orderbridge::config::{
    number, required, var, ConfigError, Needs, Platforms, Shop, ShopClients,
};
use orderbridge::secrets::SecretResolver;

/// Settings of one deployment.
pub struct Config {
    /// `ORDERS_TABLE`.
    pub orders_table: String,
    /// `SYNC_QUEUE_URL`.
    pub sync_queue_url: String,
    /// The enabled platforms (of the default shop).
    pub platforms: Platforms,
    /// Every shop, when `SHOPS` lists them; empty for a one-shop deployment (its platforms above).
    pub shops: Vec<Shop>,
    /// The poller's settings.
    pub settings: Settings,
}

impl Config {
    /// Reads the environment, resolving secret references once.
    pub async fn from_env(resolver: &SecretResolver) -> Result<Config, ConfigError> {
        let settings = Settings {
            lookback_days: number("POLL_LOOKBACK_DAYS", 7i64)?,
            include_test_orders: var("POLL_INCLUDE_TEST_ORDERS")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            concurrency: number("POLL_CONCURRENCY", 4usize)?,
            park_after_runs: number("POLL_PARK_AFTER_RUNS", 3u32)?,
            genstore_recheck: number("POLL_GENSTORE_RECHECK", 20usize)?,
            stall_after: chrono::Duration::minutes(number("POLL_STALL_AFTER_MINUTES", 30i64)?),
            ..Settings::default()
        };
        let shops = orderbridge::config::shops_from_env(resolver, Needs::Platforms).await?;
        let platforms = shops
            .iter()
            .find(|s| s.id.is_default())
            .map(|s| s.platforms.clone())
            .unwrap_or_default();
        Ok(Config {
            orders_table: required("ORDERS_TABLE")?,
            sync_queue_url: required("SYNC_QUEUE_URL")?,
            platforms,
            shops: if var("SHOPS").is_some() {
                shops
            } else {
                Vec::new()
            },
            settings,
        })
    }
}

/// Each shop's clients for the live poll and for a backfill (which leaves
/// [`crate::backfill::BACKFILL_RESERVE`] of each budget to the rest), paced in `root`, the
/// deployment's table.
pub fn clients_of(
    shops: &[Shop],
    root: &std::sync::Arc<dyn orderbridge::store::Storage>,
) -> Result<(Vec<ShopClients>, Vec<ShopClients>), ConfigError> {
    let at = |reserve| orderbridge::config::clients_of(shops, root, reserve);
    Ok((at(0.0)?, at(crate::backfill::BACKFILL_RESERVE)?))
}

/// The shops read again while the function runs (`SHOPS` with a fresh resolver, so a changed list or
/// secret is seen), with their clients: what the Lambda's `main` reloads every `SHOPS_RELOAD_SECONDS`.
pub async fn reload_shops(
    root: std::sync::Arc<dyn orderbridge::store::Storage>,
) -> Result<(Vec<ShopClients>, Vec<ShopClients>), ConfigError> {
    let resolver = SecretResolver::for_function(orderbridge::caller::Function::OrderPoller);
    let shops = orderbridge::config::shops_from_env(&resolver, Needs::Platforms).await?;
    clients_of(&shops, &root)
}
