//! Applying a channel's new state of an order, and deciding what follow-up work it creates. Shared by
//! webhook-ingest (Genstore's webhooks) and order-poller (reconciliation and imports), so an order reaches
//! the same end state whichever way it arrives.

use crate::channel::Channel;
use crate::channels::genstore::{mapping as genstore_mapping, wire as gw};
use crate::ids::{GenstoreOrderId, RefundId};
use crate::jobs::{Job, SyncJob};
use crate::order::ChannelOrder;
use crate::status::UnifiedStatus;
use crate::store::orders::{self, Link, Saved};
#[cfg(doc)]
use crate::store::Batch;
use crate::store::{
    CursorStore, DedupeStore, Expected, Found, ItemKey, OrderKey, Storage, StoreError, Write,
};
use chrono::Duration;

/// What saving an order's state came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The order was new.
    Created,
    /// A newer state replaced the stored one.
    Updated,
    /// The stored state was as new or newer (a replay, or an out-of-order delivery).
    Stale,
    /// A Genstore mirror names an external order that is linked to another mirror: nothing was done.
    Conflict,
}

impl Outcome {
    /// The outcome as webhook-ingest answers it and logs say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Stale => "stale",
            Outcome::Conflict => "conflict",
        }
    }

    /// True when the store took a new state.
    pub fn changed(self) -> bool {
        matches!(self, Outcome::Created | Outcome::Updated)
    }
}

impl From<&Saved> for Outcome {
    fn from(saved: &Saved) -> Self {
        match saved {
            Saved::Created { .. } => Outcome::Created,
            Saved::Updated { .. } => Outcome::Updated,
            Saved::Unchanged => Outcome::Stale,
        }
    }
}

/// What applying an order did.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// What the save came to.
    pub outcome: Outcome,
    /// Jobs to enqueue for other channels.
    pub jobs: Vec<SyncJob>,
    /// Once `jobs` are on the queue, hand this to [`mark_queued`]: a later delivery of the same state
    /// (a second webhook topic for one change, a reconciliation re-reading it) then queues nothing again.
    pub queued_marker: Option<String>,
}

impl Applied {
    fn nothing(outcome: Outcome) -> Self {
        Applied {
            outcome,
            jobs: Vec::new(),
            queued_marker: None,
        }
    }
}

/// How long a "this state's jobs are queued" marker is kept. Past it, a re-read of the same state queues
/// its jobs once more, which the consumer's idempotency absorbs.
pub const QUEUED_MARKER_TTL_DAYS: i64 = 14;

/// The marker of an order state whose jobs are queued.
fn queued_marker(order: &ChannelOrder) -> String {
    format!(
        "jobs-queued:{}:{}:{}",
        order.channel,
        order.order_id,
        order.source_version().sort_key()
    )
}

/// Records that an applied state's jobs are on the queue. Best effort: without the marker the next
/// delivery of that state queues them again, and the consumer finds them done.
pub async fn mark_queued(store: &dyn DedupeStore, marker: &str) {
    if let Err(e) = store
        .claim_once(marker, Duration::days(QUEUED_MARKER_TTL_DAYS))
        .await
    {
        tracing::warn!(error = %e, "could not record that an order's jobs are queued");
    }
}

/// Saves a Genstore order newer-wins; if it mirrors an external order orderbridge knows, links the two
/// (queuing the merchant-id write-back the first time) and queues the push of new shipments or a new
/// cancellation to that channel. A state seen before whose jobs were not recorded as queued (a run that
/// died between saving and queuing) queues them now.
pub async fn apply_genstore_order(
    store: &dyn Storage,
    order: ChannelOrder,
) -> Result<Applied, StoreError> {
    let genstore_id = GenstoreOrderId::new(order.order_id.as_str());
    let external = order.source.as_ref().and_then(|s| s.external_order());
    let (saved, mut now) = orders::save_newer_state(store, order).await?;
    if matches!(saved, Saved::Created { .. }) {
        // Refunds Genstore announced before the order itself join it now.
        if let Some(joined) = join_parked_refunds(store, &now).await? {
            now = joined;
        }
    }
    let outcome = Outcome::from(&saved);
    let Some((channel, external_id)) = external else {
        return Ok(Applied::nothing(outcome));
    };
    let link = orders::link_to_genstore(
        store,
        &OrderKey::new(channel, external_id.clone()),
        &genstore_id,
    )
    .await?;
    let mut jobs = match link_jobs(link, outcome, channel, &external_id, &genstore_id) {
        Ok(jobs) => jobs,
        Err(answer) => return Ok(Applied::nothing(answer)),
    };
    let marker = queued_marker(&now);
    let previous = match &saved {
        Saved::Updated { previous, .. } => Some(previous.as_ref()),
        Saved::Unchanged if store.seen(&marker).await? => Some(&now),
        _ => None,
    };
    jobs.extend(mirror_follow_ups(
        channel,
        &external_id,
        &genstore_id,
        previous,
        &now,
    ));
    Ok(Applied {
        outcome,
        queued_marker: (!jobs.is_empty()).then_some(marker),
        jobs: jobs.into_iter().map(SyncJob::from).collect(),
    })
}

/// The jobs a mirror's link calls for — the merchant-id write-back when it is linked now — or, when
/// nothing is to follow, the outcome to answer: the external order is not in the table yet (the poller
/// imports it and links it then), or it is linked to another mirror (someone must look).
fn link_jobs(
    link: Link,
    outcome: Outcome,
    channel: Channel,
    external_id: &crate::ids::ChannelOrderId,
    genstore_id: &GenstoreOrderId,
) -> Result<Vec<Job>, Outcome> {
    match link {
        Link::Linked => Ok(vec![Job::WriteMerchantOrderId {
            channel,
            order_id: external_id.clone(),
            genstore_order_id: genstore_id.clone(),
        }]),
        Link::AlreadyLinked => Ok(Vec::new()),
        Link::NotFound => {
            tracing::warn!(channel = %channel, "mirror of an external order orderbridge has not imported");
            Err(outcome)
        }
        Link::LinkedElsewhere(other) => {
            tracing::error!(channel = %channel, linked_to = %other, "external order is linked to another Genstore order");
            Err(Outcome::Conflict)
        }
    }
}

/// The pushes a Genstore mirror's state calls for on its channel: new shipments, a new (or wider)
/// cancellation, and every refund `previous` (the state before this one, if its jobs are known to be
/// queued) did not show.
fn mirror_follow_ups(
    channel: Channel,
    external_id: &crate::ids::ChannelOrderId,
    genstore_id: &GenstoreOrderId,
    previous: Option<&ChannelOrder>,
    now: &ChannelOrder,
) -> Vec<Job> {
    let mut jobs = Vec::new();
    if !now.shipments.is_empty() && previous.is_none_or(|p| p.shipments != now.shipments) {
        jobs.push(Job::PushTrackingToChannel {
            channel,
            order_id: external_id.clone(),
            genstore_order_id: genstore_id.clone(),
        });
    }
    let newly_cancelled =
        now.cancelled_at.is_some() && previous.is_none_or(|p| p.cancelled_at.is_none());
    if newly_cancelled || cancelled_units(now) > previous.map_or(0, cancelled_units) {
        jobs.push(Job::PushCancellation {
            from: Channel::Genstore,
            to: channel,
            order_id: external_id.clone(),
            genstore_order_id: genstore_id.clone(),
        });
    }
    // Every refund this state shows that the previous one did not: whether it came by `refunds/create`
    // or only by reconciliation, it reaches the channel (each refund's push is idempotent by its id).
    let known: Vec<&RefundId> = previous
        .map(|p| p.refunds.iter().filter_map(|r| r.id.as_ref()).collect())
        .unwrap_or_default();
    for id in now.refunds.iter().filter_map(|r| r.id.as_ref()) {
        if !known.contains(&id) {
            jobs.push(Job::PushRefund {
                channel,
                order_id: external_id.clone(),
                genstore_order_id: genstore_id.clone(),
                refund_id: id.clone(),
            });
        }
    }
    jobs
}

/// What a Genstore order webhook comes to on the fast path ([`plan_genstore_webhook`]).
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookPlan {
    /// The webhook id is claimed already: a redelivery, nothing to do.
    Duplicate,
    /// Queue `applied.jobs`, then make `writes` in one request ([`Batch::write_batch`]): the order, the
    /// external order's link, the webhook id's claim and the queued-jobs marker, all or none. If the
    /// write finds another writer got there first, nothing is written: take the slow path.
    Ready {
        /// What the delivery comes to, and the jobs to queue first.
        applied: Applied,
        /// The writes, all or none.
        writes: Vec<Write>,
    },
    /// The one read does not settle it (an older state of a mirror arriving after a newer one, whose
    /// queued-jobs marker was not read): [`apply_genstore_order`].
    Slow,
}

/// The fast path of a Genstore order webhook (issue 17): one read request for everything the delivery
/// needs to know — its webhook id's claim, the stored order, refunds parked for it and, for a mirror,
/// the external order and the state's queued-jobs marker — and the decisions of
/// [`apply_genstore_order`] made on it, to be written in one request after the jobs are queued. The
/// jobs go first, which is safe because every job is idempotent: if the write then fails, the
/// delivery is answered 503 (or redone on the slow path) and the jobs find their work done or do it
/// once.
pub async fn plan_genstore_webhook(
    store: &dyn Storage,
    order: ChannelOrder,
    webhook_key: &str,
    ttl: Duration,
) -> Result<WebhookPlan, StoreError> {
    let genstore_id = GenstoreOrderId::new(order.order_id.as_str());
    let external = order.source.as_ref().and_then(|s| s.external_order());
    let marker = queued_marker(&order);
    let mut keys = vec![
        ItemKey::Claim(webhook_key.to_owned()),
        ItemKey::Order(OrderKey::of(&order)),
        ItemKey::Record(parked_refunds_name(order.order_id.as_str())),
    ];
    if let Some((channel, id)) = &external {
        keys.push(ItemKey::Order(OrderKey::new(*channel, id.clone())));
        keys.push(ItemKey::Claim(marker.clone()));
    }
    let mut found = store.read_batch(&keys).await?.into_iter();
    if matches!(found.next().flatten(), Some(Found::Claim)) {
        return Ok(WebhookPlan::Duplicate);
    }
    let stored = match found.next().flatten() {
        Some(Found::Order(s)) => Some(*s),
        _ => None,
    };
    let parked = match found.next().flatten() {
        Some(Found::Record(c)) => Some(c),
        _ => None,
    };
    let linked_order = match found.next().flatten() {
        Some(Found::Order(s)) => Some(*s),
        _ => None,
    };
    let marker_seen = matches!(found.next().flatten(), Some(Found::Claim));

    let mut writes = Vec::new();
    let (outcome, previous, now) = match stored {
        Some(s) if s.order.source_version() >= order.source_version() => {
            if external.is_some() && s.order.source_version() != order.source_version() {
                return Ok(WebhookPlan::Slow);
            }
            (Outcome::Stale, None, s.order)
        }
        Some(s) => {
            let mut next = order;
            orders::keep_own_facts(&s.order, &mut next);
            writes.push(Write::Order {
                order: Box::new(next.clone()),
                expected: Expected::Version(s.version),
            });
            (Outcome::Updated, Some(s.order), next)
        }
        None => {
            let mut next = order;
            if let Some(p) = &parked {
                fold_parked_refunds(&mut next, &p.value);
            }
            writes.push(Write::Order {
                order: Box::new(next.clone()),
                expected: Expected::Absent,
            });
            (Outcome::Created, None, next)
        }
    };
    writes.push(Write::Claim {
        key: webhook_key.to_owned(),
        ttl,
    });
    let ready = |outcome, jobs: Vec<Job>, writes| WebhookPlan::Ready {
        applied: Applied {
            outcome,
            jobs: jobs.into_iter().map(SyncJob::from).collect(),
            queued_marker: None,
        },
        writes,
    };
    let Some((channel, external_id)) = external else {
        return Ok(ready(outcome, Vec::new(), writes));
    };
    let link = linked_order.as_ref().map_or(Link::NotFound, |ext| {
        orders::link_decision(ext.order.genstore_order_id.as_ref(), &genstore_id)
    });
    if let (Link::Linked, Some(ext)) = (&link, linked_order) {
        let mut linked = ext.order;
        linked.genstore_order_id = Some(genstore_id.clone());
        writes.push(Write::Order {
            order: Box::new(linked),
            expected: Expected::Version(ext.version),
        });
    }
    let mut jobs = match link_jobs(link, outcome, channel, &external_id, &genstore_id) {
        Ok(jobs) => jobs,
        Err(answer) => return Ok(ready(answer, Vec::new(), writes)),
    };
    let previous = match outcome {
        Outcome::Updated => previous.as_ref(),
        Outcome::Stale if marker_seen => Some(&now),
        _ => None,
    };
    jobs.extend(mirror_follow_ups(
        channel,
        &external_id,
        &genstore_id,
        previous,
        &now,
    ));
    if !jobs.is_empty() {
        writes.push(Write::Mark {
            key: marker,
            ttl: Duration::days(QUEUED_MARKER_TTL_DAYS),
        });
    }
    Ok(ready(outcome, jobs, writes))
}

/// Saves an external channel's order newer-wins (a fresh read that ties the stored version with other
/// packages wins too: [`orders::save_fresh_read`]) and works out the jobs its state calls for. A new
/// state that no longer blocks the jobs waiting on the order ([`park_waiting`]) queues them again.
pub async fn apply_external_order(
    store: &dyn Storage,
    order: ChannelOrder,
) -> Result<Applied, StoreError> {
    let (saved, now) = orders::save_fresh_read(store, order).await?;
    let previous = match &saved {
        Saved::Updated { previous, .. } => Some(previous.as_ref()),
        _ => None,
    };
    let mut jobs = external_jobs(previous, &now);
    if saved.changed() && !blocks_for_now(&now) {
        for job in waiting(store, now.channel, now.order_id.as_str()).await? {
            if !jobs.contains(&job) {
                jobs.push(job);
            }
        }
    }
    Ok(Applied {
        outcome: Outcome::from(&saved),
        jobs,
        queued_marker: None,
    })
}

/// True while the order's channel status holds back the writes that wait on it (Zonos: fraud review,
/// on hold, labels processing).
fn blocks_for_now(order: &ChannelOrder) -> bool {
    order.channel == Channel::Zonos
        && crate::channels::zonos::ZonosStatus::parse(&order.raw_status)
            .blocks_vendor_updates_for_now()
}

/// Where the jobs that wait for an order's status to move on are kept (a cursor-store record).
pub fn waiting_name(channel: Channel, order_id: &str) -> String {
    format!("waiting:{channel}:{order_id}")
}

/// The jobs waiting on an order.
pub async fn waiting(
    store: &dyn CursorStore,
    channel: Channel,
    order_id: &str,
) -> Result<Vec<SyncJob>, StoreError> {
    let Some(c) = store.read(&waiting_name(channel, order_id)).await? else {
        return Ok(Vec::new());
    };
    let bodies: Vec<String> = serde_json::from_str(&c.value).unwrap_or_default();
    Ok(bodies
        .iter()
        .filter_map(|b| SyncJob::from_body(b).ok())
        .collect())
}

/// Changes the list of jobs waiting on an order with `change` (compare-and-set, retried).
async fn change_waiting(
    store: &dyn CursorStore,
    channel: Channel,
    order_id: &str,
    change: impl Fn(&mut Vec<String>) -> bool,
) -> Result<(), StoreError> {
    crate::store::update_json(store, &waiting_name(channel, order_id), 5, change).await
}

/// Keeps a job that the order's channel status blocks for now (a Zonos vendor status during fraud
/// review): the next state of the order that no longer blocks it queues it again
/// ([`apply_external_order`]), instead of the job being dropped or retried blindly for days.
pub async fn park_waiting(
    store: &dyn CursorStore,
    channel: Channel,
    order_id: &str,
    job: &SyncJob,
) -> Result<(), StoreError> {
    let body = job.without_cause().to_body();
    change_waiting(store, channel, order_id, |list| {
        if list.contains(&body) {
            return false;
        }
        list.push(body.clone());
        true
    })
    .await
}

/// Forgets a waiting job once it ran (done, or failed for good).
pub async fn unpark_waiting(
    store: &dyn CursorStore,
    channel: Channel,
    order_id: &str,
    job: &SyncJob,
) -> Result<(), StoreError> {
    let body = job.without_cause().to_body();
    change_waiting(store, channel, order_id, |list| {
        let before = list.len();
        list.retain(|b| b != &body);
        list.len() != before
    })
    .await
}

/// The jobs an external order's state calls for: its mirror while it has none; then a cancellation's
/// push, a hold put on or lifted (the mirror follows), and new shipments' push to Genstore. Derived from the state, not only from what changed
/// (`previous` is the state before this save, if it changed), so a run killed between saving an order
/// and queuing its jobs queues them on the next run; the jobs are idempotent, so a repeat costs nothing.
pub fn external_jobs(previous: Option<&ChannelOrder>, now: &ChannelOrder) -> Vec<SyncJob> {
    let Some(g) = now.genstore_order_id.clone() else {
        // An order cancelled before it was mirrored is not mirrored: nobody is to ship it.
        if now.status == UnifiedStatus::Cancelled {
            return Vec::new();
        }
        return vec![SyncJob::from(Job::MirrorOrder {
            channel: now.channel,
            order_id: now.order_id.clone(),
        })];
    };
    let mut jobs = Vec::new();
    let newly_cancelled = now.status == UnifiedStatus::Cancelled
        && previous.is_none_or(|p| p.status != UnifiedStatus::Cancelled);
    // A line cancelled in part (Google `cancelLineItem`) is pushed too: the other side records it.
    let more_lines_cancelled = previous.is_some_and(|p| cancelled_units(now) > cancelled_units(p));
    if newly_cancelled || more_lines_cancelled {
        jobs.push(Job::PushCancellation {
            from: now.channel,
            to: Channel::Genstore,
            order_id: now.order_id.clone(),
            genstore_order_id: g.clone(),
        });
    }
    let held = |o: &ChannelOrder| o.status == UnifiedStatus::OnHold;
    if now.status != UnifiedStatus::Cancelled && previous.is_some_and(|p| held(p) != held(now)) {
        jobs.push(Job::SyncHold {
            channel: now.channel,
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

/// Units cancelled across an order's lines.
pub fn cancelled_units(order: &ChannelOrder) -> u32 {
    order
        .line_items
        .iter()
        .fold(0u32, |acc, l| acc.saturating_add(l.quantities.cancelled))
}

/// Where refunds that arrived before their Genstore order wait for it (a cursor-store record).
pub fn parked_refunds_name(genstore_order_id: &str) -> String {
    format!("parked-refunds:{genstore_order_id}")
}

/// Keeps a `refunds/create` whose order orderbridge has not seen yet, so the refund joins the order
/// when it arrives (by webhook or reconciliation) instead of being lost. The refund's note is not kept
/// (it is free text and may name the customer; the order's own copy of the refund brings it back).
pub async fn park_refund(store: &dyn CursorStore, refund: &gw::Refund) -> Result<(), StoreError> {
    let order_id = refund.order_id.clone().unwrap_or_default();
    let name = parked_refunds_name(&order_id);
    let mut kept = gw::Refund {
        note: None,
        ..refund.clone()
    };
    kept.order_id = Some(order_id);
    crate::store::update_json(store, &name, 5, |list: &mut Vec<gw::Refund>| {
        if list
            .iter()
            .any(|r| r.refund_id.is_some() && r.refund_id == kept.refund_id)
        {
            return false;
        }
        list.push(kept.clone());
        true
    })
    .await
}

/// Adds the refunds of a parked list (as [`park_refund`] keeps it) that `order` lacks; true when any
/// joined.
fn fold_parked_refunds(order: &mut ChannelOrder, parked: &str) -> bool {
    let list: Vec<gw::Refund> = serde_json::from_str(parked).unwrap_or_default();
    let mut changed = false;
    for r in list
        .iter()
        .filter_map(|r| genstore_mapping::to_refund(r, &order.totals.currency).ok())
    {
        if !order.refunds.iter().any(|x| x.id.is_some() && x.id == r.id) {
            order.refunds.push(r);
            changed = true;
        }
    }
    changed
}

/// Adds an order's parked refunds to it; the stored state after, when any joined.
async fn join_parked_refunds(
    store: &dyn Storage,
    order: &ChannelOrder,
) -> Result<Option<ChannelOrder>, StoreError> {
    let Some(parked) = store
        .read(&parked_refunds_name(order.order_id.as_str()))
        .await?
    else {
        return Ok(None);
    };
    let modified = orders::modify(store, &OrderKey::of(order), |o| {
        fold_parked_refunds(o, &parked.value)
    })
    .await?;
    Ok(match modified {
        orders::Modified::Applied(s) => Some(s.order),
        _ => None,
    })
}
