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
//!   Test orders are skipped unless configured otherwise.
//! - **Google**: `orders.list?acknowledged=false`, every page; each order is stored and its mirror job
//!   queued, and only then acknowledged (with a deterministic operation id). Recent acknowledged orders
//!   are listed too, to pick up changes such as customer cancellations without importing them again.
//! - **Genstore**: orders since the cursor (`sinceId`), in overlapping windows (the cursor trails the
//!   newest order by a few, so late changes to recent orders are seen again); whatever the webhooks
//!   missed is applied as a webhook would have, and counted.
//!
//! A backfill (a date range for one channel, in the event) imports history without touching the live
//! cursor.

pub mod config;

use chrono::{Duration, NaiveDate, Utc};
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
use orderbridge::status::UnifiedStatus;
use orderbridge::store::orders::{self, Saved};
use orderbridge::store::{Lease, OrderKey, Storage, SyncQueue};
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
    /// This run's name, for leases.
    pub owner: String,
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
            owner: format!("poller-{}", uuid::Uuid::new_v4().simple()),
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
    /// Genstore orders the webhooks had missed.
    pub missed: usize,
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
}

/// Polls every enabled channel (or runs a backfill), concurrently.
pub async fn run(deps: &Deps, req: PollRequest, deadline: &dyn Deadline) -> RunSummary {
    let mut channels = Vec::new();
    if let Some(b) = req.backfill {
        channels.push(backfill(deps, &b, deadline).await);
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
    for c in &channels {
        tracing::info!(
            channel = c.channel,
            seen = c.seen,
            new = c.new,
            changed = c.changed,
            unchanged = c.unchanged,
            skipped = c.skipped,
            failed = c.failed,
            missed = c.missed,
            jobs = c.jobs,
            cursor_before = c.cursor_before.as_deref().unwrap_or(""),
            cursor_after = c.cursor_after.as_deref().unwrap_or(""),
            stopped_at_deadline = c.stopped_at_deadline,
            error = c.error.as_deref().unwrap_or(""),
            "poll"
        );
    }
    RunSummary { channels }
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
    let report = deps.queue.send(jobs).await.map_err(|e| e.to_string())?;
    summary.jobs += report.sent;
    if report.all_sent() {
        Ok(())
    } else {
        Err(format!(
            "{} jobs could not be queued: {}",
            report.failed.len(),
            report.failed[0].reason
        ))
    }
}

/// The jobs an external order's state calls for. Derived from the state, not only from what changed, so
/// a run killed between saving an order and queuing its jobs queues them on the next run; the jobs are
/// idempotent, so a repeat costs nothing.
fn external_jobs(saved: &Saved, now: &ChannelOrder) -> Vec<SyncJob> {
    let Some(g) = now.genstore_order_id.clone() else {
        return vec![SyncJob::from(Job::MirrorOrder {
            channel: now.channel,
            order_id: now.order_id.clone(),
        })];
    };
    let previous = match saved {
        Saved::Updated { previous, .. } => Some(previous.as_ref()),
        _ => None,
    };
    let mut jobs = Vec::new();
    if now.status == UnifiedStatus::Cancelled
        && previous.is_none_or(|p| p.status != UnifiedStatus::Cancelled)
    {
        jobs.push(Job::PushCancellation {
            from: now.channel,
            to: Channel::Genstore,
            order_id: now.order_id.clone(),
            genstore_order_id: g.clone(),
        });
    }
    if !now.shipments.is_empty() && previous.is_none_or(|p| p.shipments != now.shipments) {
        jobs.push(Job::PushTrackingToGenstore {
            channel: now.channel,
            order_id: now.order_id.clone(),
            genstore_order_id: g,
        });
    }
    jobs.into_iter().map(SyncJob::from).collect()
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
    let key = OrderKey::of(&order);
    let saved = orders::save_newer(&*deps.store, order)
        .await
        .map_err(|e| e.to_string())?;
    let now = deps
        .store
        .get(&key)
        .await
        .map_err(|e| e.to_string())?
        .map(|s| s.order)
        .ok_or_else(|| format!("order {key} vanished"))?;
    let jobs = external_jobs(&saved, &now);
    Ok(match saved {
        Saved::Created { .. } => Imported::New(jobs),
        Saved::Updated { .. } => Imported::Changed(jobs),
        Saved::Unchanged => Imported::Unchanged(jobs),
    })
}

fn count(summary: &mut ChannelSummary, imported: &Imported) {
    match imported {
        Imported::New(_) => summary.new += 1,
        Imported::Changed(_) => summary.changed += 1,
        Imported::Unchanged(_) => summary.unchanged += 1,
        Imported::Skipped => summary.skipped += 1,
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
) -> Result<Imported, String> {
    if entry.test_order && !deps.settings.include_test_orders {
        return Ok(Imported::Skipped);
    }
    let key = OrderKey::new(Channel::Zonos, entry.id.as_str());
    if let (Some(stored), Some(status)) = (
        deps.store.get(&key).await.map_err(|e| e.to_string())?,
        &entry.status,
    ) {
        let same_status = stored.order.raw_status == status.order_status;
        let same_merchant_id = stored.order.merchant_order_id.as_ref().map(|m| m.as_str())
            == status.merchant_order_id.as_deref();
        if same_status && same_merchant_id {
            return Ok(Imported::Unchanged(external_jobs(
                &Saved::Unchanged,
                &stored.order,
            )));
        }
    }
    let detail = client
        .order_detail(&entry.id)
        .await
        .map_err(|e| e.to_string())?;
    let order = zonos::to_channel_order(&detail, Some(entry)).map_err(|e| e.to_string())?;
    save_external(deps, order).await
}

async fn poll_zonos(deps: &Deps, client: &ZonosClient, deadline: &dyn Deadline) -> ChannelSummary {
    let mut s = ChannelSummary::new("zonos");
    let cursor = match deps.store.read("zonos").await {
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
            since: (Utc::now() - Duration::days(deps.settings.lookback_days)).date_naive(),
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
    let mut at = cursor;
    'chunks: for chunk in listing.chunks(deps.settings.concurrency.max(1) * 4) {
        if out_of_time(deps, deadline) {
            s.stopped_at_deadline = true;
            break;
        }
        let results: Vec<Result<Imported, String>> = stream::iter(chunk.iter().cloned())
            .map(|e| async move { import_zonos(deps, client, &e).await })
            .buffered(deps.settings.concurrency.max(1))
            .collect()
            .await;
        let mut jobs = Vec::new();
        let mut done = None;
        let mut failure = None;
        for (entry, r) in chunk.iter().zip(results) {
            s.seen += 1;
            match r {
                Ok(imported) => {
                    count(&mut s, &imported);
                    jobs.extend(jobs_of(imported));
                    done = Some(entry.id.clone());
                }
                Err(e) => {
                    s.failed += 1;
                    failure = Some(format!("order {}: {e}", entry.id));
                    break;
                }
            }
        }
        if let Err(e) = enqueue(deps, &jobs, &mut s).await {
            s.error = Some(e);
            break;
        }
        if let Some(id) = done {
            match deps.store.advance("zonos", at.as_deref(), &id).await {
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
        if let Some(f) = failure {
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
    let since = (Utc::now() - Duration::days(deps.settings.lookback_days)).date_naive();
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
                s.changed += 1;
                jobs.extend(j);
            }
            Ok(_) => {}
            Err(e) => {
                s.failed += 1;
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
    for chunk in orders.chunks(deps.settings.concurrency.max(1) * 4) {
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
            s.seen += 1;
            match r {
                Ok(imported) => {
                    count(&mut s, &imported);
                    jobs.extend(jobs_of(imported));
                    stored.extend(o.id.clone());
                }
                Err(e) => {
                    // Not acknowledged: Google lists it again next run.
                    s.failed += 1;
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
    let since = (Utc::now() - Duration::days(deps.settings.lookback_days))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
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
                s.changed += 1;
                jobs.extend(j);
            }
            Ok(_) => {}
            Err(e) => {
                s.failed += 1;
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
    let cursor = match deps.store.read("genstore").await {
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
        for o in &page.orders {
            s.seen += 1;
            let id = o.order_id.clone().unwrap_or_default();
            let applied = match genstore::to_channel_order(o) {
                Ok(order) => orderbridge::sync::apply_genstore_order(&*deps.store, order)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match applied {
                Ok(a) => {
                    match a.outcome {
                        "created" | "updated" => s.missed += 1,
                        _ => s.unchanged += 1,
                    }
                    jobs.extend(a.jobs);
                }
                Err(e) => {
                    s.failed += 1;
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
        match page.links.next {
            Some(next) if Some(&next) != token.as_ref() => token = Some(next),
            _ => break,
        }
    }
    // The next window starts `overlap` orders back from the newest complete one, and never past a failure.
    let complete = first_failure.unwrap_or(seen_ids.len());
    let keep = complete.saturating_sub(deps.settings.genstore_overlap);
    if keep > 0 {
        let new_cursor = seen_ids[keep - 1].clone();
        let newer = match (&cursor, new_cursor.parse::<u64>()) {
            (Some(c), Ok(n)) => c.parse::<u64>().map_or(true, |old| n > old),
            _ => true,
        };
        if newer {
            match deps
                .store
                .advance("genstore", cursor.as_deref(), &new_cursor)
                .await
            {
                Ok(true) => s.cursor_after = Some(new_cursor),
                Ok(false) => s.error = Some("the cursor moved under this run".into()),
                Err(e) => s.error = Some(format!("cursor: {e}")),
            }
        }
    }
    s
}

async fn backfill(deps: &Deps, b: &Backfill, deadline: &dyn Deadline) -> ChannelSummary {
    let name = b.channel.as_str();
    let through = b.through.unwrap_or_else(|| Utc::now().date_naive());
    leased(deps, &format!("backfill-{name}"), || async move {
        let mut s = ChannelSummary::new(name);
        if through < b.since {
            s.error = Some("backfill: through is before since".into());
            return s;
        }
        match b.channel {
            Channel::Zonos => {
                let Some(client) = &deps.zonos else {
                    s.error = Some("zonos is not configured".into());
                    return s;
                };
                let listing = match client
                    .order_numbers(
                        OrderSelector::SinceDate {
                            since: b.since,
                            through: Some(through),
                        },
                        true,
                    )
                    .await
                {
                    Ok(l) => l.orders,
                    Err(e) => {
                        s.error = Some(e.to_string());
                        return s;
                    }
                };
                for entry in &listing {
                    if out_of_time(deps, deadline) {
                        s.stopped_at_deadline = true;
                        break;
                    }
                    s.seen += 1;
                    match import_zonos(deps, client, entry).await {
                        Ok(i) => {
                            count(&mut s, &i);
                            let jobs = jobs_of(i);
                            if let Err(e) = enqueue(deps, &jobs, &mut s).await {
                                s.error = Some(e);
                                break;
                            }
                        }
                        Err(e) => {
                            s.failed += 1;
                            s.error = Some(format!("order {}: {e}", entry.id));
                        }
                    }
                }
            }
            Channel::Google => {
                let Some(client) = &deps.google else {
                    s.error = Some("google is not configured".into());
                    return s;
                };
                let q = ListQuery {
                    placed_date_start: Some(format!("{}T00:00:00Z", b.since)),
                    placed_date_end: Some(format!("{}T00:00:00Z", through + Duration::days(1))),
                    ..ListQuery::default()
                };
                let orders = match client.list_all_orders(&q).await {
                    Ok(o) => o,
                    Err(e) => {
                        s.error = Some(e.to_string());
                        return s;
                    }
                };
                for o in &orders {
                    if out_of_time(deps, deadline) {
                        s.stopped_at_deadline = true;
                        break;
                    }
                    s.seen += 1;
                    match import_google(deps, o).await {
                        Ok(i) => {
                            count(&mut s, &i);
                            let jobs = jobs_of(i);
                            if let Err(e) = enqueue(deps, &jobs, &mut s).await {
                                s.error = Some(e);
                                break;
                            }
                        }
                        Err(e) => {
                            s.failed += 1;
                            s.error =
                                Some(format!("order {}: {e}", o.id.as_deref().unwrap_or("?")));
                        }
                    }
                }
            }
            Channel::Genstore => {
                let Some(client) = &deps.genstore else {
                    s.error = Some("genstore is not configured".into());
                    return s;
                };
                let orders = match client.list_all_orders(&OrderQuery::default()).await {
                    Ok(o) => o,
                    Err(e) => {
                        s.error = Some(e.to_string());
                        return s;
                    }
                };
                for o in &orders {
                    let placed = o.created_at.map(|t| t.date_naive());
                    if placed.is_none_or(|d| d < b.since || d > through) {
                        continue;
                    }
                    s.seen += 1;
                    let applied = match genstore::to_channel_order(o) {
                        Ok(order) => orderbridge::sync::apply_genstore_order(&*deps.store, order)
                            .await
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    match applied {
                        Ok(a) => {
                            match a.outcome {
                                "created" | "updated" => s.missed += 1,
                                _ => s.unchanged += 1,
                            }
                            if let Err(e) = enqueue(deps, &a.jobs, &mut s).await {
                                s.error = Some(e);
                                break;
                            }
                        }
                        Err(e) => {
                            s.failed += 1;
                            s.error = Some(e);
                        }
                    }
                }
            }
        }
        s
    })
    .await
}
