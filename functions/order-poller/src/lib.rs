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

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::stream::{self, StreamExt};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::{GenstoreClient, OrderQuery};
use orderbridge::channels::google::client::{operation_id, GoogleClient, ListQuery};
use orderbridge::channels::zonos::client::ZonosClient;
use orderbridge::channels::zonos::wire::OrderNumber;
use orderbridge::channels::zonos::OrderSelector;
use orderbridge::channels::{genstore, google, zonos};
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::order::ChannelOrder;
use orderbridge::sync::Outcome;

use orderbridge::status::UnifiedStatus;
use orderbridge::store::{
    poll_cursor, Lease, OrderKey, PageRequest, Storage, SyncQueue, GENSTORE_RECHECK,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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

/// One Zonos order of a listing: fetched and saved if new or changed.
async fn import_zonos(
    deps: &Deps,
    client: &ZonosClient,
    entry: &OrderNumber,
) -> Result<Imported, ItemError> {
    if entry.test_order && !deps.settings.include_test_orders {
        return Ok(Imported::Skipped);
    }
    let key = OrderKey::new(Channel::Zonos, entry.id.as_str());
    if let (Some(stored), Some(status)) = (
        deps.store.get(&key).await.map_err(ItemError::store)?,
        &entry.status,
    ) {
        let same_status = stored.order.raw_status == status.order_status;
        let same_merchant_id = stored.order.merchant_order_id.as_ref().map(|m| m.as_str())
            == status.merchant_order_id.as_deref();
        if same_status && same_merchant_id {
            return Ok(Imported::Unchanged(orderbridge::sync::external_jobs(
                None,
                &stored.order,
            )));
        }
    }
    let detail = client
        .order_detail(&entry.id)
        .await
        .map_err(|e| ItemError {
            order_at_fault: !e.retryable,
            message: e.to_string(),
        })?;
    let order = zonos::to_channel_order(&detail, Some(entry)).map_err(|e| ItemError {
        message: e.to_string(),
        order_at_fault: true,
    })?;
    save_external(deps, order).await.map_err(ItemError::store)
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

/// The cursor-store entry that remembers which order held a channel's cursor, and on how many runs.
fn held_name(channel: &str) -> String {
    format!("{channel}:held")
}

/// Reads `"<order id> <runs>"`.
fn parse_held(value: &str) -> Option<(&str, u32)> {
    let (id, runs) = value.rsplit_once(' ')?;
    Some((id, runs.parse().ok()?))
}

/// Records that `order_id` held the cursor on one more run. Best effort: losing it only delays parking.
async fn note_held(deps: &Deps, channel: &str, before: Option<&str>, order_id: &str) {
    let runs = match before.and_then(parse_held) {
        Some((id, runs)) if id == order_id => runs.saturating_add(1),
        _ => 1,
    };
    let now = format!("{order_id} {runs}");
    if let Err(e) = deps.store.advance(&held_name(channel), before, &now).await {
        tracing::warn!(channel, error = %e, "could not record which order holds the cursor");
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

async fn poll_zonos(deps: &Deps, client: &ZonosClient, deadline: &dyn Deadline) -> ChannelSummary {
    let mut s = ChannelSummary::new("zonos");
    let cursor = match deps.store.read(poll_cursor(Channel::Zonos)).await {
        Ok(c) => c.map(|c| c.value),
        Err(e) => {
            s.error = Some(format!("cursor: {e}"));
            return s;
        }
    };
    s.cursor_before = cursor.clone();
    s.cursor_after = cursor.clone();
    let selector = match &cursor {
        Some(id) => OrderSelector::SinceOrderId(id.clone()),
        None => OrderSelector::SinceDate {
            since: days_ago(deps.settings.lookback_days).date_naive(),
            through: None,
        },
    };
    let listing = match client.order_numbers(selector, true).await {
        Ok(l) => l.orders,
        Err(e) => {
            s.error = Some(e.to_string());
            return s;
        }
    };
    let held = match deps.store.read(&held_name("zonos")).await {
        Ok(h) => h.map(|h| h.value),
        Err(e) => {
            s.error = Some(format!("cursor: {e}"));
            return s;
        }
    };
    let held_runs = |id: &str| match held.as_deref().and_then(parse_held) {
        Some((held_id, runs)) if held_id == id => runs,
        _ => 0,
    };
    let mut at = cursor;
    'chunks: for chunk in listing.chunks(deps.settings.concurrency.max(1).saturating_mul(4)) {
        if out_of_time(deps, deadline) {
            s.stopped_at_deadline = true;
            break;
        }
        let results: Vec<Result<Imported, ItemError>> = stream::iter(chunk.iter().cloned())
            .map(|e| async move { import_zonos(deps, client, &e).await })
            .buffered(deps.settings.concurrency.max(1))
            .collect()
            .await;
        // Whether an order after each one was imported: then Zonos and the table work, and a failure
        // before it is that order's own.
        let mut later_ok = vec![false; results.len()];
        let mut any_later = false;
        for (slot, r) in later_ok.iter_mut().zip(&results).rev() {
            *slot = any_later;
            any_later = any_later || r.is_ok();
        }
        let mut jobs = Vec::new();
        let mut done = None;
        let mut failure = None;
        for (i, (entry, r)) in chunk.iter().zip(results).enumerate() {
            s.seen = s.seen.saturating_add(1);
            match r {
                Ok(imported) => {
                    count(&mut s, &imported);
                    jobs.extend(jobs_of(imported));
                    done = Some(entry.id.clone());
                }
                Err(e)
                    if e.order_at_fault
                        || later_ok.get(i).copied().unwrap_or(false)
                        || held_runs(&entry.id) >= deps.settings.park_after_runs =>
                {
                    jobs.push(park(
                        &mut s,
                        Channel::Zonos,
                        &entry.id,
                        Some(entry.clone()),
                        &e.message,
                    ));
                    done = Some(entry.id.clone());
                }
                Err(e) => {
                    s.failed = s.failed.saturating_add(1);
                    failure = Some((entry.id.clone(), format!("order {}: {e}", entry.id)));
                    break;
                }
            }
        }
        if let Err(e) = enqueue(deps, &jobs, &mut s).await {
            s.error = Some(e);
            break;
        }
        if let Some(id) = done {
            match deps
                .store
                .advance(poll_cursor(Channel::Zonos), at.as_deref(), &id)
                .await
            {
                Ok(true) => at = Some(id),
                Ok(false) => {
                    s.error = Some("the cursor moved under this run".into());
                    break 'chunks;
                }
                Err(e) => {
                    s.error = Some(format!("cursor: {e}"));
                    break 'chunks;
                }
            }
        }
        if let Some((id, f)) = failure {
            note_held(deps, "zonos", held.as_deref(), &id).await;
            s.error = Some(f);
            break;
        }
    }
    s.cursor_after = at;
    if s.error.is_none() && !s.stopped_at_deadline {
        if let Err(e) = zonos_changes(deps, client, deadline, &mut s).await {
            s.error = Some(format!("status changes: {e}"));
        }
    }
    if s.error.is_none() && !s.stopped_at_deadline {
        if let Err(e) = sweep_missing_merchant_ids(deps, client, &mut s).await {
            s.error = Some(format!("missingMerchantOrderId sweep: {e}"));
        }
    }
    s
}

/// Known orders of the look-back window whose status (or merchant id) Zonos changed — a fraud review
/// ending, a cancellation — are read again and saved; their jobs (a cancellation's push) are queued.
/// Orders the table does not know are left to the cursor.
async fn zonos_changes(
    deps: &Deps,
    client: &ZonosClient,
    deadline: &dyn Deadline,
    s: &mut ChannelSummary,
) -> Result<(), String> {
    let since = days_ago(deps.settings.lookback_days).date_naive();
    let listing = client
        .order_numbers(
            OrderSelector::SinceDate {
                since,
                through: None,
            },
            true,
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut jobs = Vec::new();
    for entry in &listing.orders {
        if out_of_time(deps, deadline) {
            s.stopped_at_deadline = true;
            break;
        }
        let key = OrderKey::new(Channel::Zonos, entry.id.as_str());
        if deps
            .store
            .get(&key)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            continue;
        }
        match import_zonos(deps, client, entry).await {
            Ok(Imported::Changed(j)) => {
                s.changed = s.changed.saturating_add(1);
                jobs.extend(j);
            }
            Ok(_) => {}
            Err(e) => {
                s.failed = s.failed.saturating_add(1);
                s.error = Some(format!("order {}: {e}", entry.id));
            }
        }
    }
    enqueue(deps, &jobs, s).await
}

/// Re-queues the merchant-id write for mirrored Zonos orders Zonos still lists without one.
async fn sweep_missing_merchant_ids(
    deps: &Deps,
    client: &ZonosClient,
    s: &mut ChannelSummary,
) -> Result<(), String> {
    let listing = client
        .order_numbers(OrderSelector::MissingMerchantOrderId, true)
        .await
        .map_err(|e| e.to_string())?;
    let mut jobs = Vec::new();
    for entry in &listing.orders {
        let key = OrderKey::new(Channel::Zonos, entry.id.as_str());
        if let Some(stored) = deps.store.get(&key).await.map_err(|e| e.to_string())? {
            if let Some(g) = stored.order.genstore_order_id {
                jobs.push(SyncJob::from(Job::WriteMerchantOrderId {
                    channel: Channel::Zonos,
                    order_id: key.order_id.clone(),
                    genstore_order_id: g,
                }));
            }
        }
    }
    enqueue(deps, &jobs, s).await
}

/// One Google order: stored, its jobs returned; acknowledged by the caller once the jobs are queued.
async fn import_google(deps: &Deps, order: &google::Order) -> Result<Imported, String> {
    let order = google::to_channel_order(order).map_err(|e| e.to_string())?;
    save_external(deps, order).await
}

async fn poll_google(
    deps: &Deps,
    client: &GoogleClient,
    deadline: &dyn Deadline,
) -> ChannelSummary {
    let mut s = ChannelSummary::new("google");
    let unacknowledged = ListQuery {
        acknowledged: Some(false),
        ..ListQuery::default()
    };
    let orders = match client.list_all_orders(&unacknowledged).await {
        Ok(o) => o,
        Err(e) => {
            s.error = Some(e.to_string());
            return s;
        }
    };
    for chunk in orders.chunks(deps.settings.concurrency.max(1).saturating_mul(4)) {
        if out_of_time(deps, deadline) {
            s.stopped_at_deadline = true;
            return s;
        }
        let results: Vec<Result<Imported, String>> = stream::iter(chunk.iter().cloned())
            .map(|o| async move { import_google(deps, &o).await })
            .buffered(deps.settings.concurrency.max(1))
            .collect()
            .await;
        let mut jobs = Vec::new();
        let mut stored = Vec::new();
        for (o, r) in chunk.iter().zip(results) {
            s.seen = s.seen.saturating_add(1);
            match r {
                Ok(imported) => {
                    count(&mut s, &imported);
                    jobs.extend(jobs_of(imported));
                    stored.extend(o.id.clone());
                }
                Err(e) => {
                    // Not acknowledged: Google lists it again next run.
                    s.failed = s.failed.saturating_add(1);
                    s.error = Some(format!("order {}: {e}", o.id.as_deref().unwrap_or("?")));
                }
            }
        }
        if let Err(e) = enqueue(deps, &jobs, &mut s).await {
            s.error = Some(e);
            return s;
        }
        // Stored and queued: now, and only now, acknowledge.
        let acks: Vec<Result<(), String>> = stream::iter(stored)
            .map(|id| async move {
                client
                    .acknowledge(&id, &operation_id(&id, "acknowledge", ""))
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("acknowledge {id}: {e}"))
            })
            .buffered(deps.settings.concurrency.max(1))
            .collect()
            .await;
        for a in acks {
            if let Err(e) = a {
                s.error = Some(e);
            }
        }
    }
    if !out_of_time(deps, deadline) {
        if let Err(e) = google_changes(deps, client, &mut s).await {
            s.error = Some(format!("changes: {e}"));
        }
    } else {
        s.stopped_at_deadline = true;
    }
    s
}

/// Acknowledged orders of the look-back window, compared with the table: a customer cancellation (or any
/// other change Google made) is saved and pushed, nothing is imported twice.
async fn google_changes(
    deps: &Deps,
    client: &GoogleClient,
    s: &mut ChannelSummary,
) -> Result<(), String> {
    let since =
        days_ago(deps.settings.lookback_days).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let recent = ListQuery {
        acknowledged: Some(true),
        placed_date_start: Some(since),
        ..ListQuery::default()
    };
    let orders = client
        .list_all_orders(&recent)
        .await
        .map_err(|e| e.to_string())?;
    let mut jobs = Vec::new();
    for o in &orders {
        let Some(id) = o.id.as_deref() else { continue };
        let Some(stored) = deps
            .store
            .get(&OrderKey::new(Channel::Google, id))
            .await
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        if stored.order.raw_status == o.status.clone().unwrap_or_default()
            && stored.order.shipments.len() == o.shipments.len()
        {
            continue;
        }
        match import_google(deps, o).await {
            Ok(Imported::Changed(j)) => {
                s.changed = s.changed.saturating_add(1);
                jobs.extend(j);
            }
            Ok(_) => {}
            Err(e) => {
                s.failed = s.failed.saturating_add(1);
                s.error = Some(format!("order {id}: {e}"));
            }
        }
    }
    enqueue(deps, &jobs, s).await
}

async fn reconcile_genstore(
    deps: &Deps,
    client: &GenstoreClient,
    deadline: &dyn Deadline,
) -> ChannelSummary {
    let mut s = ChannelSummary::new("genstore");
    let cursor = match deps.store.read(poll_cursor(Channel::Genstore)).await {
        Ok(c) => c.map(|c| c.value),
        Err(e) => {
            s.error = Some(format!("cursor: {e}"));
            return s;
        }
    };
    s.cursor_before = cursor.clone();
    s.cursor_after = cursor.clone();
    let query = OrderQuery {
        since_id: cursor.clone(),
        ..OrderQuery::default()
    };
    let mut seen_ids: Vec<String> = Vec::new();
    let mut first_failure: Option<usize> = None;
    let mut token: Option<String> = None;
    let mut paging = orderbridge::channels::http::Paging::new();
    loop {
        if out_of_time(deps, deadline) {
            s.stopped_at_deadline = true;
            break;
        }
        let page = match client.list_orders_page(&query, token.as_deref()).await {
            Ok(p) => p,
            Err(e) => {
                s.error = Some(e.to_string());
                break;
            }
        };
        let mut jobs = Vec::new();
        let mut markers = Vec::new();
        for o in &page.orders {
            s.seen = s.seen.saturating_add(1);
            let id = o.order_id.clone().unwrap_or_default();
            let order = match genstore::to_channel_order(o) {
                Ok(order) => order,
                // An order whose data does not map holds nothing up: the sync queue retries it, and
                // its DLQ keeps it for a look. Without an id there is nothing to retry by.
                Err(e) if !id.is_empty() => {
                    jobs.push(park(&mut s, Channel::Genstore, &id, None, &e.to_string()));
                    seen_ids.push(id);
                    continue;
                }
                Err(e) => {
                    s.failed = s.failed.saturating_add(1);
                    s.error = Some(format!("an order without an id: {e}"));
                    seen_ids.push(id);
                    continue;
                }
            };
            match orderbridge::sync::apply_genstore_order(&*deps.store, order).await {
                Ok(a) => {
                    if a.outcome.changed() {
                        s.missed = s.missed.saturating_add(1);
                    } else {
                        s.unchanged = s.unchanged.saturating_add(1);
                    }
                    jobs.extend(a.jobs);
                    markers.extend(a.queued_marker);
                }
                Err(e) => {
                    s.failed = s.failed.saturating_add(1);
                    s.error = Some(format!("order {id}: {e}"));
                    first_failure.get_or_insert(seen_ids.len());
                }
            }
            seen_ids.push(id);
        }
        if let Err(e) = enqueue(deps, &jobs, &mut s).await {
            s.error = Some(e);
            first_failure.get_or_insert(0);
            break;
        }
        for m in &markers {
            orderbridge::sync::mark_queued(&*deps.store, m).await;
        }
        match paging.next(Channel::Genstore, "listOrders", page.links.next) {
            Ok(Some(next)) => token = Some(next),
            Ok(None) => break,
            Err(e) => {
                s.error = Some(e.to_string());
                break;
            }
        }
    }
    // The next window starts `overlap` orders back from the newest complete one, and never past a failure.
    let complete = first_failure.unwrap_or(seen_ids.len());
    let keep = complete.saturating_sub(deps.settings.genstore_overlap);
    if keep > 0 {
        let new_cursor = seen_ids
            .get(keep.saturating_sub(1))
            .cloned()
            .unwrap_or_default();
        let newer = match (&cursor, new_cursor.parse::<u64>()) {
            (Some(c), Ok(n)) => c.parse::<u64>().map_or(true, |old| n > old),
            _ => true,
        };
        if newer {
            match deps
                .store
                .advance(
                    poll_cursor(Channel::Genstore),
                    cursor.as_deref(),
                    &new_cursor,
                )
                .await
            {
                Ok(true) => s.cursor_after = Some(new_cursor),
                Ok(false) => s.error = Some("the cursor moved under this run".into()),
                Err(e) => s.error = Some(format!("cursor: {e}")),
            }
        }
    }
    if s.error.is_none() && !out_of_time(deps, deadline) {
        if let Err(e) = recheck_open_mirrors(deps, client, deadline, &mut s).await {
            s.error = Some(format!("recheck: {e}"));
        }
    }
    s
}

/// The moment `days` days before now; a lookback too long for the calendar reads as its start.
fn days_ago(days: i64) -> chrono::DateTime<Utc> {
    chrono::TimeDelta::try_days(days)
        .and_then(|d| Utc::now().checked_sub_signed(d))
        .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC)
}

/// The unified statuses of mirrors that may still change in ways another channel must hear of.
const OPEN: [UnifiedStatus; 9] = [
    UnifiedStatus::Placed,
    UnifiedStatus::Paid,
    UnifiedStatus::InProgress,
    UnifiedStatus::OnHold,
    UnifiedStatus::PartiallyShipped,
    UnifiedStatus::Shipped,
    UnifiedStatus::PartiallyDelivered,
    UnifiedStatus::PartiallyRefunded,
    UnifiedStatus::Unknown,
];

/// Where the rotation through open mirrors stands: an index into [`OPEN`] and the table's page token.
#[derive(Debug, Default, Serialize, Deserialize)]
struct RecheckPosition {
    status: usize,
    token: Option<String>,
}

/// Reads a few open Genstore mirrors again each run, in rotation through the table, and applies what
/// changed as a webhook would have. The window re-reads only the newest orders; this catches a late
/// fulfillment or cancellation of an older order whose webhooks were lost.
async fn recheck_open_mirrors(
    deps: &Deps,
    client: &GenstoreClient,
    deadline: &dyn Deadline,
    s: &mut ChannelSummary,
) -> Result<(), String> {
    let budget = deps.settings.genstore_recheck;
    if budget == 0 {
        return Ok(());
    }
    let stored = deps
        .store
        .read(GENSTORE_RECHECK)
        .await
        .map_err(|e| e.to_string())?
        .map(|c| c.value);
    let mut at: RecheckPosition = stored
        .as_deref()
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or_default();
    if at.status >= OPEN.len() {
        at = RecheckPosition::default();
    }
    let status_at = |i: usize| OPEN.get(i).copied().unwrap_or(UnifiedStatus::Placed);
    let (mut jobs, mut markers) = (Vec::new(), Vec::new());
    // An order read here may move to a status later in the lap: read each once per run.
    let mut visited = std::collections::HashSet::new();
    // At most one lap through the statuses per run, so a small table ends the run at once.
    let mut statuses_left = OPEN.len();
    while s.rechecked < budget && statuses_left > 0 && !out_of_time(deps, deadline) {
        let listed = deps
            .store
            .list_by_status(
                status_at(at.status),
                PageRequest {
                    token: at.token.clone(),
                    limit: budget,
                },
            )
            .await;
        let page = match listed {
            Ok(p) => p,
            // A position the table no longer takes (another backend, a store upgrade): start that
            // status over rather than stick.
            Err(e) if at.token.is_some() => {
                tracing::warn!(error = %e, "mirror rotation restarts its status");
                at.token = None;
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        for stored in page.items {
            let o = stored.order;
            let mirror = o.source.as_ref().and_then(|x| x.external_order()).is_some();
            if o.channel != Channel::Genstore || !mirror || !visited.insert(o.order_id.clone()) {
                continue;
            }
            s.rechecked = s.rechecked.saturating_add(1);
            let Some(fresh) = client
                .get_order(o.order_id.as_str())
                .await
                .map_err(|e| e.to_string())?
            else {
                continue; // Past Genstore's 60 days: nothing more will come.
            };
            let order = match genstore::to_channel_order(&fresh) {
                Ok(order) => order,
                Err(e) => {
                    // Stored before, unreadable now: reported every lap until someone looks.
                    s.failed = s.failed.saturating_add(1);
                    s.error = Some(format!("order {}: {e}", o.order_id));
                    continue;
                }
            };
            let a = orderbridge::sync::apply_genstore_order(&*deps.store, order)
                .await
                .map_err(|e| e.to_string())?;
            if a.outcome.changed() {
                s.missed = s.missed.saturating_add(1);
            }
            jobs.extend(a.jobs);
            markers.extend(a.queued_marker);
        }
        at = match page.next {
            Some(token) => RecheckPosition {
                status: at.status,
                token: Some(token),
            },
            None => {
                statuses_left = statuses_left.saturating_sub(1);
                RecheckPosition {
                    status: at
                        .status
                        .saturating_add(1)
                        .checked_rem(OPEN.len())
                        .unwrap_or(0),
                    token: None,
                }
            }
        };
    }
    enqueue(deps, &jobs, s).await?;
    for m in &markers {
        orderbridge::sync::mark_queued(&*deps.store, m).await;
    }
    let next = serde_json::to_string(&at).map_err(|e| e.to_string())?;
    match deps
        .store
        .advance(GENSTORE_RECHECK, stored.as_deref(), &next)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("cursor: {e}")),
    }
}
