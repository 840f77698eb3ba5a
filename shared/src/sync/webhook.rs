//! A Genstore order webhook's fast path: one read of everything it decides on, one all-or-nothing
//! write ([`plan_genstore_webhook`]).

use super::{
    mirror_decision, queued_marker, Applied, Before, Mirror, Outcome, QUEUED_MARKER_TTL_DAYS,
};
use crate::jobs::{Job, SyncJob};
use crate::order::ChannelOrder;
use crate::store::orders::{self, Link};
use crate::store::{Expected, Found, ItemKey, OrderKey, RecordName, Storage, StoreError, Write};
use chrono::Duration;

/// What a Genstore order webhook comes to on the fast path ([`plan_genstore_webhook`]).
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookPlan {
    /// The webhook id is claimed already: a redelivery, nothing to do.
    Duplicate,
    /// Queue `applied.jobs`, then make `writes` in one request ([`Batch::write_batch`](crate::store::Batch::write_batch)): the order, the
    /// external order's link, the webhook id's claim and the queued-jobs marker, all or none. If the
    /// write finds another writer got there first, nothing is written: take the slow path.
    Ready {
        /// What the delivery comes to, and the jobs to queue first.
        applied: Applied,
        /// The writes, all or none.
        writes: Vec<Write>,
    },
    /// The one read does not settle it (an older state of a mirror arriving after a newer one, whose
    /// queued-jobs marker was not read; a same-second tie; a new order with refunds parked for it):
    /// [`apply_genstore_order`](super::apply_genstore_order).
    Slow,
}

/// The fast path of a Genstore order webhook (issue 17): one read request for everything the delivery
/// needs to know — its webhook id's claim, the stored order, refunds parked for it and, for a mirror,
/// the external order and the state's queued-jobs marker — and the decisions of
/// [`apply_genstore_order`](super::apply_genstore_order) made on it, to be written in one request after the jobs are queued. The
/// jobs go first, which is safe because every job is idempotent: if the write then fails, the
/// delivery is answered 503 (or redone on the slow path) and the jobs find their work done or do it
/// once.
pub async fn plan_genstore_webhook(
    store: &dyn Storage,
    order: ChannelOrder,
    webhook_key: &str,
    ttl: Duration,
) -> Result<WebhookPlan, StoreError> {
    let mirror = Mirror::of(&order);
    let marker = queued_marker(&order);
    let mut keys = vec![
        ItemKey::Claim(webhook_key.to_owned()),
        ItemKey::Order(OrderKey::of(&order)),
        ItemKey::Record(RecordName::ParkedRefunds(order.order_id.as_str()).to_string()),
    ];
    if let Some(m) = &mirror {
        keys.push(ItemKey::Order(m.external()));
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
    let parked = matches!(found.next().flatten(), Some(Found::Record(_)));
    let linked_order = match found.next().flatten() {
        Some(Found::Order(s)) => Some(*s),
        _ => None,
    };
    let marker_seen = matches!(found.next().flatten(), Some(Found::Claim));

    let mut writes = Vec::new();
    let mut order = order;
    if let Some(s) = &stored {
        // Compared with the table's own facts carried over, as `orders::save_newer_state` does.
        orders::keep_own_facts(&s.order, &mut order);
    }
    let (outcome, previous, now) = match stored {
        Some(s) if s.order.source_version() >= order.source_version() => {
            if mirror.is_some() && s.order.source_version() != order.source_version() {
                return Ok(WebhookPlan::Slow);
            }
            if orders::ties_as_kept(&s.order, &order) {
                // Two changes in one second: the slow path has Genstore read the order.
                return Ok(WebhookPlan::Slow);
            }
            (Outcome::Stale, None, s.order)
        }
        Some(s) => {
            writes.push(Write::Order {
                order: Box::new(order.clone()),
                expected: Expected::Version(s.version),
            });
            (Outcome::Updated, Some(s.order), order)
        }
        None if parked => {
            // Refunds wait for this order: the slow path joins them and removes the parked record
            // (rare: a refund announced before its order).
            return Ok(WebhookPlan::Slow);
        }
        None => {
            writes.push(Write::Order {
                order: Box::new(order.clone()),
                expected: Expected::Absent,
            });
            // A refund parked after the read above, its webhook's second look for the order also
            // before this write, would wait for good: the write fails then, and the slow path joins it.
            writes.push(Write::NoRecord {
                name: RecordName::ParkedRefunds(order.order_id.as_str()).to_string(),
            });
            (Outcome::Created, None, order)
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
    let Some(mirror) = mirror else {
        return Ok(ready(outcome, Vec::new(), writes));
    };
    let link = linked_order.as_ref().map_or(Link::NotFound, |ext| {
        orders::link_decision(ext.order.genstore_order_id.as_ref(), &mirror.genstore_id)
    });
    if let (Link::Linked, Some(ext)) = (&link, linked_order) {
        let mut linked = ext.order;
        linked.genstore_order_id = Some(mirror.genstore_id.clone());
        writes.push(Write::Order {
            order: Box::new(linked),
            expected: Expected::Version(ext.version),
        });
    }
    let before = match (outcome, previous.as_ref()) {
        (Outcome::Updated, Some(p)) => Before::Replaced(p),
        (Outcome::Stale, _) if marker_seen => Before::Queued,
        _ => Before::Unknown,
    };
    let (outcome, jobs) = mirror_decision(outcome, link, before, &now, &mirror);
    if !jobs.is_empty() {
        writes.push(Write::Mark {
            key: marker,
            ttl: Duration::days(QUEUED_MARKER_TTL_DAYS),
        });
    }
    Ok(ready(outcome, jobs, writes))
}
