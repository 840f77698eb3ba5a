//! order-poller: on a schedule, imports what Zonos and Google have (neither pushes orders), and catches
//! what Genstore's webhooks missed.
//!
//! Each enabled channel runs under its own lease, so two runs never work one channel at once, and a
//! channel that fails does not stop the others. The cursor of a channel moves only after every order
//! before it is stored and its jobs are on the queue, so a run killed at any point and run again imports
//! nothing twice and misses nothing. Near the Lambda deadline a run stops taking new work and leaves the
//! cursor at the last complete item; the next run continues from there.
//!
//! - **Zonos**: `orderNumbers` since the cursor (an order id; the first run looks back a configurable
//!   number of days), `orderDetail` for each new or changed order, upsert, and the mirror job for new
//!   ones; a changed status of a known order is upserted (a cancellation queues its push to Genstore).
//!   Then a `missingMerchantOrderId` sweep re-queues the merchant-id write for orders already mirrored.
//!   Test orders are skipped unless configured otherwise. An order whose detail keeps failing while the
//!   orders after it import (or that can never map) is parked: queued as an import job, which the sync
//!   queue retries and finally dead-letters, so the cursor moves on instead of every later order waiting.
//! - **Google**: `orders.list?acknowledged=false`, every page; each order is stored and its mirror job
//!   queued, and only then acknowledged (with a deterministic operation id). Recent acknowledged orders
//!   are listed too, to pick up changes such as customer cancellations without importing them again.
//! - **Genstore**: orders since the cursor (`sinceId`), in overlapping windows (the cursor trails the
//!   newest order by a few, so late changes to recent orders are seen again); whatever the webhooks
//!   missed is applied as a webhook would have, and counted. An order that does not map is parked like a
//!   Zonos one. Then a few open mirrors older than the window are read again, in rotation through the
//!   table, so a late fulfillment or cancellation whose webhooks were lost still reaches its channel.
//!
//! A backfill (a date range for one channel, in the event) imports history without touching the live
//! cursor.

pub mod backfill;
pub mod config;
mod error;
mod genstore_reconcile;
mod google_poll;
mod item;
pub mod lambda;
mod summary;

pub use error::PollError;

use summary::{lag_behind, record_last_run};
pub use summary::{ChannelSummary, RunSummary};
mod zonos_poll;

use chrono::{Duration, NaiveDate, Utc};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::GenstoreClient;
use orderbridge::channels::google::client::GoogleClient;
use orderbridge::channels::zonos::client::ZonosClient;

use genstore_reconcile::reconcile_genstore;
use google_poll::{import_google, poll_google};
use orderbridge::config::ShopClients;
use orderbridge::store::{Lease, RecordName, Storage, SyncQueue};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use zonos_poll::{import_zonos, poll_zonos};

/// How much time the Lambda has left.
pub trait Deadline: Send + Sync {
    /// Time left.
    fn remaining(&self) -> std::time::Duration;
}

/// A deadline at an instant.
pub struct Until(pub std::time::Instant);

impl Deadline for Until {
    fn remaining(&self) -> std::time::Duration {
        self.0.saturating_duration_since(std::time::Instant::now())
    }
}

/// The poller's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How far back the first Zonos run (and Google's change scan) looks.
    pub lookback_days: i64,
    /// Import Zonos test orders.
    pub include_test_orders: bool,
    /// How long a channel's lease lasts (longer than a run).
    pub lease_ttl: Duration,
    /// Stop taking new work when less than this is left.
    pub deadline_margin: std::time::Duration,
    /// Platform calls in flight at once per channel (the clients still pace to their rate limits).
    pub concurrency: usize,
    /// How many of the newest Genstore orders each reconciliation window re-reads.
    pub genstore_overlap: usize,
    /// How many open Genstore mirrors each run reads again, in rotation, to catch changes to orders
    /// older than the window whose webhooks were lost (Genstore stops delivering after 8 failures).
    pub genstore_recheck: usize,
    /// After holding the Zonos cursor on this many runs in a row, an order that keeps failing for
    /// reasons that may pass (timeouts, garbled answers) is parked on the sync queue, so the orders after
    /// it are not kept waiting. One that can never succeed as it is parks at once.
    pub park_after_runs: u32,
    /// This run's name, for leases.
    pub owner: String,
    /// How long a failing channel may go without progress before a run fails for it.
    pub stall_after: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lookback_days: 7,
            include_test_orders: false,
            lease_ttl: Duration::minutes(15),
            deadline_margin: std::time::Duration::from_secs(20),
            concurrency: 4,
            genstore_overlap: 50,
            genstore_recheck: 20,
            park_after_runs: 3,
            owner: format!("poller-{}", uuid::Uuid::new_v4().simple()),
            stall_after: Duration::minutes(30),
        }
    }
}

/// What the poller works with, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// The order table.
    pub store: Arc<dyn Storage>,
    /// The sync queue.
    pub queue: Arc<dyn SyncQueue>,
    /// Zonos, when enabled.
    pub zonos: Option<ZonosClient>,
    /// Google, when enabled.
    pub google: Option<GoogleClient>,
    /// Genstore, when enabled.
    pub genstore: Option<GenstoreClient>,
    /// Settings.
    pub settings: Settings,
    /// Every shop's platforms, when the deployment serves several (`SHOPS`); empty for a one-shop
    /// deployment, whose platforms are the fields above.
    pub shops: Arc<Vec<ShopClients>>,
}

impl Deps {
    /// order-poller put together, in the one place every way of running it uses: the Lambda's `main`,
    /// `orderbridge dev` and `orderbridge backfill`. `clients` are a one-shop deployment's platforms
    /// (none when every shop's are in `shops`); `shops` is empty for a one-shop deployment.
    pub fn build(
        store: Arc<dyn Storage>,
        queue: Arc<dyn SyncQueue>,
        clients: orderbridge::config::Clients,
        settings: Settings,
        shops: Arc<Vec<ShopClients>>,
    ) -> Deps {
        Deps {
            store,
            queue,
            zonos: clients.zonos,
            google: clients.google,
            genstore: clients.genstore,
            settings,
            shops,
        }
    }

    /// The same with other clients for the one-shop deployment's platforms (a backfill's, which leave
    /// part of each budget to the live poll).
    pub fn with_clients(&self, clients: orderbridge::config::Clients) -> Deps {
        Deps {
            zonos: clients.zonos,
            google: clients.google,
            genstore: clients.genstore,
            ..self.clone()
        }
    }

    /// The same, polling for `shop`: its part of the table (cursors, leases, orders), its jobs naming
    /// it, its Genstore and the channels that feed it.
    pub fn in_shop(&self, shop: &ShopClients) -> Deps {
        Deps {
            store: orderbridge::store::ShopStore::scoped(self.store.clone(), &shop.id),
            queue: orderbridge::store::ShopQueue::scoped(self.queue.clone(), &shop.id),
            genstore: shop.clients.genstore.clone(),
            zonos: shop.clients.zonos.clone(),
            google: shop.clients.google.clone(),
            ..self.clone()
        }
    }
}

/// A history import for one channel (in the schedule event's `detail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backfill {
    /// Which channel.
    pub channel: Channel,
    /// First day (UTC).
    pub since: NaiveDate,
    /// Last day (UTC), inclusive; default today.
    pub through: Option<NaiveDate>,
}

/// What a run was asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollRequest {
    /// A backfill instead of the regular poll.
    pub backfill: Option<Backfill>,
}

impl PollRequest {
    /// Reads an EventBridge event: the request is its `detail` (an empty or foreign detail is a plain
    /// poll).
    pub fn from_event(event: &serde_json::Value) -> Result<PollRequest, String> {
        match event.get("detail") {
            None | Some(serde_json::Value::Null) => Ok(PollRequest::default()),
            Some(d) if d.get("backfill").is_none() => Ok(PollRequest::default()),
            Some(d) => serde_json::from_value(d.clone())
                .map_err(|e| format!("invalid backfill request: {e}")),
        }
    }
}

/// Polls every enabled channel (or runs a backfill), concurrently.
pub async fn run(deps: &Deps, req: PollRequest, deadline: &dyn Deadline) -> RunSummary {
    // One cause per run: every job it queues, and every log line of the run and of those jobs, says it.
    let cause = format!("poll:{}", uuid::Uuid::new_v4().simple());
    orderbridge::telemetry::with_cause(cause, run_caused(deps, req, deadline)).await
}

/// A run over every shop, one after the other (each under its own leases and cursors); a one-shop
/// deployment's run is its one shop's.
async fn run_caused(deps: &Deps, req: PollRequest, deadline: &dyn Deadline) -> RunSummary {
    if deps.shops.is_empty() {
        let shop = orderbridge::shop::ShopId::default_shop();
        return orderbridge::metrics::in_shop(&shop, Box::pin(run_shop(deps, req, deadline))).await;
    }
    let mut all = RunSummary::default();
    for shop in deps.shops.iter() {
        let in_shop = deps.in_shop(shop);
        let work = run_shop(&in_shop, req.clone(), deadline);
        let summary = orderbridge::metrics::in_shop(&shop.id, Box::pin(work)).await;
        all.channels
            .extend(summary.channels.into_iter().map(|c| ChannelSummary {
                shop: Some(shop.id.to_string()),
                ..c
            }));
    }
    all
}

async fn run_shop(deps: &Deps, req: PollRequest, deadline: &dyn Deadline) -> RunSummary {
    let started = std::time::Instant::now();
    let mut channels = Vec::new();
    let live = req.backfill.is_none();
    if let Some(b) = req.backfill {
        channels.push(backfill::backfill(deps, &b, deadline).await);
    } else {
        let zonos = live_run(deps, Channel::Zonos, &deps.zonos, |c| {
            poll_zonos(deps, c, deadline)
        });
        let google = live_run(deps, Channel::Google, &deps.google, |c| {
            poll_google(deps, c, deadline)
        });
        let genstore = live_run(deps, Channel::Genstore, &deps.genstore, |c| {
            reconcile_genstore(deps, c, deadline)
        });
        let (z, g, s) = tokio::join!(zonos, google, genstore);
        channels.extend([z, g, s].into_iter().flatten());
    }
    for c in &mut channels {
        tracing::info!(
            channel = c.channel,
            seen = c.seen,
            new = c.new,
            changed = c.changed,
            unchanged = c.unchanged,
            skipped = c.skipped,
            failed = c.failed,
            parked = c.parked,
            missed = c.missed,
            rechecked = c.rechecked,
            jobs = c.jobs,
            cursor_before = c.cursor_before.as_deref().unwrap_or(""),
            cursor_after = c.cursor_after.as_deref().unwrap_or(""),
            stopped_at_deadline = c.stopped_at_deadline,
            error = c.error.as_deref().unwrap_or(""),
            "poll"
        );
        let channel = [("Channel", c.channel.as_str())];
        orderbridge::metrics::count(
            "OrdersImported",
            &channel,
            u64::try_from(c.new).unwrap_or(u64::MAX),
        );
        if c.channel == Channel::Genstore.as_str() {
            // Genstore orders reconciliation found that no webhook had delivered: a few an hour
            // mean the webhooks stopped arriving (`WebhooksMissedAlarm`).
            orderbridge::metrics::count(
                "WebhooksMissed",
                &channel,
                u64::try_from(c.missed).unwrap_or(u64::MAX),
            );
        }
        if live {
            let behind = lag_behind(deps, c).await;
            c.behind_secs = behind;
            // Never having made progress counts as stalled: a first deployment with wrong credentials
            // must be seen.
            c.stalled = c.error.is_some()
                && behind.is_none_or(|b| {
                    i64::try_from(b).unwrap_or(i64::MAX) > deps.settings.stall_after.num_seconds()
                });
            if let Some(lag) = behind {
                #[allow(clippy::cast_precision_loss)]
                orderbridge::metrics::record(
                    "PollLag",
                    orderbridge::metrics::Unit::Seconds,
                    &channel,
                    lag as f64,
                );
            }
            record_last_run(deps, c).await;
        }
    }
    orderbridge::metrics::handler_latency(started);
    RunSummary { channels }
}

/// What a lease guards: a channel's live poll, or a backfill of it (which runs beside the live poll).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Run {
    /// The live poll.
    Live(Channel),
    /// A backfill.
    Backfill(Channel),
}

impl Run {
    fn lease(self) -> RecordName<'static> {
        match self {
            Run::Live(c) => RecordName::PollLease(c),
            Run::Backfill(c) => RecordName::BackfillLease(c),
        }
    }

    /// How a summary of a run that could not start names it: `zonos`, `backfill-zonos`.
    fn label(self) -> String {
        match self {
            Run::Live(c) => c.as_str().to_owned(),
            Run::Backfill(c) => format!("backfill-{c}"),
        }
    }
}

/// A live run of `channel` under its lease, when the shop has the channel (`client`).
async fn live_run<'a, C, F, Fut>(
    deps: &Deps,
    channel: Channel,
    client: &'a Option<C>,
    poll: F,
) -> Option<ChannelSummary>
where
    F: FnOnce(&'a C) -> Fut,
    Fut: std::future::Future<Output = ChannelSummary>,
{
    let c = client.as_ref()?;
    Some(leased(deps, Run::Live(channel), || poll(c)).await)
}

/// Runs `work` under the lease of `run`.
async fn leased<F, Fut>(deps: &Deps, run: Run, work: F) -> ChannelSummary
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ChannelSummary>,
{
    let lease = run.lease().to_string();
    let label = run.label();
    let channel = label.as_str();
    match deps
        .store
        .acquire_lease(&lease, &deps.settings.owner, deps.settings.lease_ttl)
        .await
    {
        Ok(Lease::Acquired { .. }) => {
            let summary = work().await;
            if let Err(e) = deps.store.release_lease(&lease, &deps.settings.owner).await {
                tracing::warn!(channel, error = %e, "lease not released; it expires by itself");
            }
            summary
        }
        Ok(Lease::Held { owner, until }) => ChannelSummary {
            error: Some(format!(
                "another run ({owner}) holds the lease until {until}"
            )),
            ..ChannelSummary::new(channel)
        },
        Err(e) => ChannelSummary {
            error: Some(format!("lease: {e}")),
            ..ChannelSummary::new(channel)
        },
    }
}

fn out_of_time(deps: &Deps, deadline: &dyn Deadline) -> bool {
    deadline.remaining() < deps.settings.deadline_margin
}

/// The moment `days` days before now; a lookback too long for the calendar reads as its start.
pub(crate) fn days_ago(days: i64) -> chrono::DateTime<Utc> {
    chrono::TimeDelta::try_days(days)
        .and_then(|d| Utc::now().checked_sub_signed(d))
        .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC)
}
