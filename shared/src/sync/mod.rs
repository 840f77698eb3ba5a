//! Applying a channel's new state of an order, and deciding what follow-up work it creates. Shared by
//! webhook-ingest (Genstore's webhooks) and order-poller (reconciliation and imports), so an order reaches
//! the same end state whichever way it arrives.

use crate::channel::Channel;
use crate::ids::{GenstoreOrderId, RefundId};
use crate::jobs::{Job, SyncJob};
use crate::order::ChannelOrder;
use crate::status::UnifiedStatus;
use crate::store::orders::{self, Link, Saved};
#[cfg(doc)]
use crate::store::Batch;
use crate::store::{DedupeStore, OrderKey, Storage, StoreError};
use chrono::Duration;

mod refunds;
mod waiting;
mod webhook;

pub use refunds::{join_parked_refunds, park_refund};
pub use waiting::{blocks_for_now, park_waiting, unpark_waiting, waiting};
pub use webhook::{plan_genstore_webhook, WebhookPlan};

crate::named_enum! {
    /// What saving an order's state came to; its name is the one webhook-ingest answers and logs say.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Outcome {
        /// The order was new.
        Created => "created",
        /// A newer state replaced the stored one.
        Updated => "updated",
        /// The stored state was as new or newer (a replay, or an out-of-order delivery).
        Stale => "stale",
        /// A Genstore mirror names an external order that is linked to another mirror: nothing was done.
        Conflict => "conflict",
    }
}

impl Outcome {
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
    /// `outcome` with `jobs` and no queued-jobs marker.
    fn unmarked(outcome: Outcome, jobs: impl IntoIterator<Item = SyncJob>) -> Self {
        Applied {
            outcome,
            jobs: jobs.into_iter().collect(),
            queued_marker: None,
        }
    }
}

/// How long a "this state's jobs are queued" marker is kept. Past it, a re-read of the same state queues
/// its jobs once more, which the consumer's idempotency absorbs.
pub const QUEUED_MARKER_TTL_DAYS: i64 = 14;

/// The marker of an order state whose jobs are queued.
pub(super) fn queued_marker(order: &ChannelOrder) -> String {
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

/// Saves a Genstore order state a webhook delivered, newer-wins; if it mirrors an external order
/// orderbridge knows, links the two (queuing the merchant-id write-back the first time) and queues the
/// push of new shipments or a new cancellation to that channel. A state seen before whose jobs were not
/// recorded as queued (a run that died between saving and queuing) queues them now. A state that ties
/// the stored one with other facts (two changes in one second: [`orders::ties_with_other_facts`])
/// queues a read of the order from Genstore (`import_order`), which decides.
pub async fn apply_genstore_order(
    store: &dyn Storage,
    order: ChannelOrder,
) -> Result<Applied, StoreError> {
    apply_genstore(store, order, false).await
}

/// [`apply_genstore_order`] for a state just read from Genstore (reconciliation, a backfill, a re-read
/// job): on a tie with other facts, the read is taken ([`orders::save_genstore_state`]).
pub async fn apply_genstore_read(
    store: &dyn Storage,
    order: ChannelOrder,
) -> Result<Applied, StoreError> {
    apply_genstore(store, order, true).await
}

async fn apply_genstore(
    store: &dyn Storage,
    order: ChannelOrder,
    fresh_read: bool,
) -> Result<Applied, StoreError> {
    let order_id = order.order_id.clone();
    let mirror = Mirror::of(&order);
    let orders::GenstoreSave {
        saved,
        mut now,
        undecided_tie,
    } = orders::save_genstore_state(store, order, fresh_read).await?;
    if matches!(saved, Saved::Created { .. }) {
        // Refunds Genstore announced before the order itself join it now.
        if let Some(joined) = join_parked_refunds(store, &now).await? {
            now = joined;
        }
    }
    let outcome = Outcome::from(&saved);
    let reread = undecided_tie.then(|| {
        SyncJob::from(Job::ImportOrder {
            channel: Channel::Genstore,
            order_id,
            listing: None,
        })
    });
    let Some(mirror) = mirror else {
        return Ok(Applied::unmarked(outcome, reread));
    };
    let link = orders::link_to_genstore(store, &mirror.external(), &mirror.genstore_id).await?;
    let marker = queued_marker(&now);
    let before = match &saved {
        Saved::Updated { previous, .. } => Before::Replaced(previous),
        Saved::Unchanged if store.seen(&marker).await? => Before::Queued,
        _ => Before::Unknown,
    };
    let (outcome, jobs) = mirror_decision(outcome, link, before, &now, &mirror);
    Ok(Applied {
        outcome,
        queued_marker: (!jobs.is_empty()).then_some(marker),
        jobs: jobs.into_iter().map(SyncJob::from).chain(reread).collect(),
    })
}

/// What is known of the jobs of the state a mirror's save found stored.
#[derive(Debug, Clone, Copy)]
pub(super) enum Before<'a> {
    /// The save replaced this state: what follows is what changed since.
    Replaced(&'a ChannelOrder),
    /// The state was stored already and its jobs are known to be queued: nothing new follows.
    Queued,
    /// Nothing is known (a new order, or a stored state whose jobs may not have been queued):
    /// everything the state shows follows.
    Unknown,
}

/// A Genstore order that mirrors an external order, and that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mirror {
    /// The external order's channel.
    pub channel: Channel,
    /// The external order.
    pub external_id: crate::ids::ChannelOrderId,
    /// The mirror.
    pub genstore_id: GenstoreOrderId,
}

impl Mirror {
    /// The mirror `order` is, when it names the external order it mirrors.
    pub(super) fn of(order: &ChannelOrder) -> Option<Mirror> {
        let (channel, external_id) = order.source.as_ref()?.external_order()?;
        Some(Mirror {
            channel,
            external_id,
            genstore_id: GenstoreOrderId::new(order.order_id.as_str()),
        })
    }

    /// The external order's key.
    pub(super) fn external(&self) -> OrderKey {
        OrderKey::new(self.channel, self.external_id.clone())
    }
}

/// The one decision on a Genstore mirror's saved state, for both ways a state is applied (a
/// webhook's one-read fast path, [`plan_genstore_webhook`], and [`apply_genstore_order`]): the answer,
/// and the jobs that follow — the merchant-id write-back when the mirror is linked now
/// ([`link_jobs`]) and the pushes its state calls for ([`mirror_follow_ups`]). Nothing follows an
/// external order not imported yet or linked to another mirror. Pure: each path reads the facts its
/// own way and writes what this decides.
pub(super) fn mirror_decision(
    outcome: Outcome,
    link: Link,
    before: Before<'_>,
    now: &ChannelOrder,
    mirror: &Mirror,
) -> (Outcome, Vec<Job>) {
    let (channel, external_id, genstore_id) =
        (mirror.channel, &mirror.external_id, &mirror.genstore_id);
    let mut jobs = match link_jobs(link, outcome, channel, external_id, genstore_id) {
        Ok(jobs) => jobs,
        Err(answer) => return (answer, Vec::new()),
    };
    let previous = match before {
        Before::Replaced(p) => Some(p),
        Before::Queued => Some(now),
        Before::Unknown => None,
    };
    jobs.extend(mirror_follow_ups(
        channel,
        external_id,
        genstore_id,
        previous,
        now,
    ));
    (outcome, jobs)
}

/// The jobs a mirror's link calls for — the merchant-id write-back when it is linked now — or, when
/// nothing is to follow, the outcome to answer: the external order is not in the table yet (the poller
/// imports it and links it then), or it is linked to another mirror (someone must look).
pub(super) fn link_jobs(
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
pub(super) fn mirror_follow_ups(
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

/// The jobs an external order's state calls for: its mirror while it has none; then a cancellation's
/// push, a hold put on or lifted (the mirror follows), refunds and returns made on the channel (the
/// mirror records them), and new shipments' push to Genstore. Derived from the state, not only from what changed
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
    if now.status != UnifiedStatus::Cancelled
        && has_reversals(now)
        && previous.is_none_or(|p| reversals(p) != reversals(now))
    {
        jobs.push(Job::RecordReversals {
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

/// What the channel did to an order's money and goods that its mirror shows: its own refunds (echoes
/// of Genstore's left out) and, line by line, the units asked back and received.
fn reversals(order: &ChannelOrder) -> (Vec<&crate::order::Refund>, Vec<(u32, u32)>) {
    (
        order.own_refunds().collect(),
        order
            .line_items
            .iter()
            .map(|l| (l.quantities.return_requested, l.quantities.returned))
            .collect(),
    )
}

/// True when the channel refunded money of the order or has units of it coming or come back.
pub fn has_reversals(order: &ChannelOrder) -> bool {
    let (returned, open) = order.returns();
    order.own_refunds().next().is_some() || returned > 0 || open > 0
}

/// Units cancelled across an order's lines.
pub fn cancelled_units(order: &ChannelOrder) -> u32 {
    order
        .line_items
        .iter()
        .fold(0u32, |acc, l| acc.saturating_add(l.quantities.cancelled))
}

#[cfg(test)]
#[path = "decision_tests.rs"]
mod decision_tests;
