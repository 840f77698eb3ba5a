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

#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod backfill;
pub mod config;
mod genstore_reconcile;
mod google_poll;
mod zonos_poll;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::GenstoreClient;
use orderbridge::channels::google::client::GoogleClient;
use orderbridge::channels::zonos::client::ZonosClient;
use orderbridge::channels::zonos::wire::OrderNumber;
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::order::ChannelOrder;
use orderbridge::sync::Outcome;

use genstore_reconcile::reconcile_genstore;
use google_poll::{import_google, poll_google};
use orderbridge::store::{Lease, Storage, SyncQueue};
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
}

/// A history import for one channel (in the schedule event's `detail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backfill {
    /// Which channel.
    pub channel: Channel,
    /// First day (UTC).
    pub since: NaiveDate,
    /// Last day (UTC), inclusive; default today.
    #[serde(default)]
    pub through: Option<NaiveDate>,
}

/// What a run was asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollRequest {
    /// A backfill instead of the regular poll.
    #[serde(default)]
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

/// One channel's part of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSummary {
    /// The channel.
    pub channel: String,
    /// Orders looked at.
    pub seen: usize,
    /// Orders imported.
    pub new: usize,
    /// Known orders whose state changed.
    pub changed: usize,
    /// Known orders already up to date.
    pub unchanged: usize,
    /// Test orders skipped.
    pub skipped: usize,
    /// Orders that failed (left for the next run).
    pub failed: usize,
    /// Orders that kept failing, handed to the sync queue as import jobs (retried there, then
    /// dead-lettered) so the cursor could move past them.
    pub parked: usize,
    /// Genstore orders the webhooks had missed.
    pub missed: usize,
    /// Open Genstore mirrors read again in rotation (see [`Settings::genstore_recheck`]).
    pub rechecked: usize,
    /// Jobs queued.
    pub jobs: usize,
    /// The cursor before the run.
    pub cursor_before: Option<String>,
    /// The cursor after the run.
    pub cursor_after: Option<String>,
    /// The run stopped early to respect the deadline.
    pub stopped_at_deadline: bool,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// Seconds since a run last made progress on the channel (0: this one did); none before the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behind_secs: Option<u64>,
    /// The channel failed and has made no progress for longer than [`Settings::stall_after`]: someone
    /// must look. Only this fails the invocation.
    #[serde(default)]
    pub stalled: bool,
}

impl ChannelSummary {
    fn new(channel: &str) -> Self {
        ChannelSummary {
            channel: channel.into(),
            ..ChannelSummary::default()
        }
    }

    /// True when the channel's run ended without an error or a failed order.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.failed == 0
    }
}

/// A whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// One entry per enabled channel.
    pub channels: Vec<ChannelSummary>,
}

impl RunSummary {
    /// The entry of a channel.
    pub fn channel(&self, name: &str) -> Option<&ChannelSummary> {
        self.channels.iter().find(|c| c.channel == name)
    }

    /// True when every channel ended cleanly.
    pub fn ok(&self) -> bool {
        self.channels.iter().all(ChannelSummary::ok)
    }

    /// The channels that failed and made no progress for longer than [`Settings::stall_after`]. A run
    /// fails (and the alarm on failed runs fires) only for these: a transient fault the next run gets
    /// past is counted in the summary and the metrics, and neither retries the run nor pages anyone.
    pub fn stalled(&self) -> Vec<&ChannelSummary> {
        self.channels.iter().filter(|c| c.stalled).collect()
    }
}

/// Polls every enabled channel (or runs a backfill), concurrently.
pub async fn run(deps: &Deps, req: PollRequest, deadline: &dyn Deadline) -> RunSummary {
    // One cause per run: every job it queues, and every log line of the run and of those jobs, says it.
    let cause = format!("poll:{}", uuid::Uuid::new_v4().simple());
    orderbridge::telemetry::with_cause(cause, run_caused(deps, req, deadline)).await
}

async fn run_caused(deps: &Deps, req: PollRequest, deadline: &dyn Deadline) -> RunSummary {
    let started = std::time::Instant::now();
    let mut channels = Vec::new();
    let live = req.backfill.is_none();
    if let Some(b) = req.backfill {
        channels.push(backfill::backfill(deps, &b, deadline).await);
    } else {
        let zonos = async {
            match &deps.zonos {
                Some(c) => Some(leased(deps, "zonos", || poll_zonos(deps, c, deadline)).await),
                None => None,
            }
        };
        let google = async {
            match &deps.google {
                Some(c) => Some(leased(deps, "google", || poll_google(deps, c, deadline)).await),
                None => None,
            }
        };
        let genstore = async {
            match &deps.genstore {
                Some(c) => {
                    Some(leased(deps, "genstore", || reconcile_genstore(deps, c, deadline)).await)
                }
                None => None,
            }
        };
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

/// Where the outcome of the last run on a channel is kept (for `orderbridge status`).
pub fn last_run_name(channel: &str) -> String {
    format!("poll-last:{channel}")
}

/// Keeps how the run ended on a channel: when, its counts, its error and whether the channel is stalled.
async fn record_last_run(deps: &Deps, c: &ChannelSummary) {
    let name = last_run_name(&c.channel);
    let value = serde_json::json!({
        "at": Utc::now(), "new": c.new, "changed": c.changed, "failed": c.failed, "parked": c.parked,
        "missed": c.missed, "stopped_at_deadline": c.stopped_at_deadline, "error": c.error,
        "stalled": c.stalled,
    })
    .to_string();
    let before = match deps.store.read(&name).await {
        Ok(v) => v.map(|c| c.value),
        Err(e) => {
            tracing::warn!(channel = c.channel, error = %e, "could not read the last run's record");
            return;
        }
    };
    if let Err(e) = deps.store.advance(&name, before.as_deref(), &value).await {
        tracing::warn!(channel = c.channel, error = %e, "could not record how the run ended");
    }
}

/// Where the time a run last made progress on a channel is kept.
pub fn completed_name(channel: &str) -> String {
    format!("poll-completed:{channel}")
}

/// True when the run moved the channel on: it completed, or moved its cursor, or brought orders in.
fn progressed(c: &ChannelSummary) -> bool {
    (c.error.is_none() && !c.stopped_at_deadline)
        || c.cursor_after != c.cursor_before
        || c.new > 0
        || c.changed > 0
        || c.missed > 0
}

/// How far the poller is behind a channel, in seconds: 0 when this run made progress on it, else the
/// time since a run last did (unknown before the first). Records this run's progress.
async fn lag_behind(deps: &Deps, c: &ChannelSummary) -> Option<u64> {
    let name = completed_name(&c.channel);
    let now = Utc::now();
    let before = match deps.store.read(&name).await {
        Ok(v) => v.map(|c| c.value),
        Err(e) => {
            tracing::warn!(channel = c.channel, error = %e, "could not read when the channel last completed");
            return None;
        }
    };
    if progressed(c) {
        let stamp = now.to_rfc3339();
        if let Err(e) = deps.store.advance(&name, before.as_deref(), &stamp).await {
            tracing::warn!(channel = c.channel, error = %e, "could not record the channel's progress");
        }
        return Some(0);
    }
    let last = DateTime::parse_from_rfc3339(before.as_deref()?).ok()?;
    let secs = now
        .signed_duration_since(last.with_timezone(&Utc))
        .num_seconds()
        .max(0);
    u64::try_from(secs).ok()
}

/// Runs `work` under the channel's lease.
async fn leased<F, Fut>(deps: &Deps, channel: &str, work: F) -> ChannelSummary
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ChannelSummary>,
{
    let lease = format!("poll:{channel}");
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

/// Sends jobs; an error if any could not be sent.
async fn enqueue(
    deps: &Deps,
    jobs: &[SyncJob],
    summary: &mut ChannelSummary,
) -> Result<(), String> {
    if jobs.is_empty() {
        return Ok(());
    }
    let report = deps
        .queue
        .send(&SyncJob::stamp(jobs))
        .await
        .map_err(|e| e.to_string())?;
    summary.jobs = summary.jobs.saturating_add(report.sent);
    if report.all_sent() {
        Ok(())
    } else {
        Err(format!(
            "{} jobs could not be queued: {}",
            report.failed.len(),
            report
                .failed
                .first()
                .map(|f| f.reason.as_str())
                .unwrap_or_default()
        ))
    }
}

enum Imported {
    New(Vec<SyncJob>),
    Changed(Vec<SyncJob>),
    /// Already stored as it is; the jobs its state calls for (usually none) are queued again.
    Unchanged(Vec<SyncJob>),
    Skipped,
}

/// Saves an external order's state and works out its jobs.
async fn save_external(deps: &Deps, order: ChannelOrder) -> Result<Imported, String> {
    let applied = orderbridge::sync::apply_external_order(&*deps.store, order)
        .await
        .map_err(|e| e.to_string())?;
    Ok(match applied.outcome {
        Outcome::Created => Imported::New(applied.jobs),
        Outcome::Updated => Imported::Changed(applied.jobs),
        Outcome::Stale | Outcome::Conflict => Imported::Unchanged(applied.jobs),
    })
}

fn count(summary: &mut ChannelSummary, imported: &Imported) {
    match imported {
        Imported::New(_) => summary.new = summary.new.saturating_add(1),
        Imported::Changed(_) => summary.changed = summary.changed.saturating_add(1),
        Imported::Unchanged(_) => summary.unchanged = summary.unchanged.saturating_add(1),
        Imported::Skipped => summary.skipped = summary.skipped.saturating_add(1),
    }
}

fn jobs_of(imported: Imported) -> Vec<SyncJob> {
    match imported {
        Imported::New(j) | Imported::Changed(j) | Imported::Unchanged(j) => j,
        Imported::Skipped => Vec::new(),
    }
}

/// Why one order could not be imported.
#[derive(Debug)]
struct ItemError {
    message: String,
    /// The order itself is at fault (its data does not map, or the platform refused it for good); not
    /// the platform's or the table's passing trouble.
    order_at_fault: bool,
}

impl ItemError {
    fn store(e: impl std::fmt::Display) -> Self {
        ItemError {
            message: e.to_string(),
            order_at_fault: false,
        }
    }
}

impl std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The import job that takes a failing order off the poll's path.
fn park(
    s: &mut ChannelSummary,
    channel: Channel,
    order_id: &str,
    listing: Option<OrderNumber>,
    why: &str,
) -> SyncJob {
    s.parked = s.parked.saturating_add(1);
    tracing::warn!(
        channel = %channel,
        order_id,
        why,
        "order parked on the sync queue as an import job; the cursor moves past it"
    );
    SyncJob::from(Job::ImportOrder {
        channel,
        order_id: order_id.into(),
        listing,
    })
}

/// The moment `days` days before now; a lookback too long for the calendar reads as its start.
pub(crate) fn days_ago(days: i64) -> chrono::DateTime<Utc> {
    chrono::TimeDelta::try_days(days)
        .and_then(|d| Utc::now().checked_sub_signed(d))
        .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC)
}
