//! The effects of the topics that carry no order: a refund recorded on its Genstore order (or parked
//! until the order arrives), a compliance request turned into its job.

use crate::{Deps, Failure, Outcome};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::{self, webhook::Topic, wire as gw};
use orderbridge::compliance::Scope;
use orderbridge::ids::{GenstoreOrderId, RefundId};
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::store::orders::{self, Modified};
use orderbridge::store::OrderKey;

/// `refunds/create`: record the refund on the Genstore order; push it to a linked channel.
pub(crate) async fn refund_event(
    deps: &Deps,
    refund: &gw::Refund,
) -> Result<(Outcome, Vec<SyncJob>), Failure> {
    let order_id = refund.order_id.clone().unwrap_or_default();
    let key = OrderKey::new(Channel::Genstore, order_id.as_str());
    let mut joined = false;
    let stored = match deps.store.get(&key).await? {
        Some(stored) => stored,
        None => {
            // The order has not arrived yet: the refund waits for it and joins it when it does (by
            // webhook or reconciliation), and its push is queued then.
            orderbridge::sync::park_refund(&*deps.store, refund).await?;
            // Unless the order arrived between that read and the parking, its own join finding
            // nothing parked yet: Genstore's order carries no refunds, so the refund would wait for
            // good. Look once more, and join it here if so.
            let Some(stored) = deps.store.get(&key).await? else {
                return Ok((Outcome::Parked, Vec::new()));
            };
            joined = orderbridge::sync::join_parked_refunds(&*deps.store, &stored.order)
                .await?
                .is_some();
            stored
        }
    };
    let domain = match genstore::mapping::to_refund(refund, &stored.order.totals.currency) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "refund could not be read; ignored");
            return Ok((Outcome::Ignored, Vec::new()));
        }
    };
    let refund_id = domain.id.clone();
    let modified = orders::modify(&*deps.store, &key, |o| {
        if o.refunds
            .iter()
            .any(|r| r.id.is_some() && r.id == domain.id)
        {
            return false;
        }
        o.refunds.push(domain.clone());
        true
    })
    .await?;
    let outcome = match modified {
        Modified::Applied(_) => Outcome::Recorded,
        _ if joined => Outcome::Recorded,
        _ => Outcome::Unchanged,
    };
    let external = stored
        .order
        .source
        .as_ref()
        .and_then(|s| s.external_order());
    let jobs = match (external, refund_id) {
        (Some((channel, order_id)), Some(refund_id)) => vec![SyncJob::from(Job::PushRefund {
            channel,
            order_id,
            genstore_order_id: GenstoreOrderId::new(key.order_id.as_str()),
            refund_id: RefundId::new(refund_id.as_str()),
        })],
        _ => Vec::new(),
    };
    Ok((outcome, jobs))
}

/// A compliance request as its job: the webhook's dedupe key is the request's id.
pub(crate) fn compliance_job(
    topic: &Topic,
    request_id: &str,
    c: &gw::ComplianceRequest,
) -> SyncJob {
    let ids = |v: &[String]| -> Vec<GenstoreOrderId> {
        v.iter().map(|o| GenstoreOrderId::new(o.as_str())).collect()
    };
    let customer_id = c
        .customer
        .as_ref()
        .and_then(|x| x.id.clone())
        .map(Into::into);
    let request_id = request_id.to_owned();
    // It reaches the orders placed by now, however late its job runs (see `Scope::arrived_at`).
    let arrived_at = Some(chrono::Utc::now());
    SyncJob::from(match topic {
        Topic::ShopRedact => Job::RedactPersonalData {
            request_id,
            scope: Scope {
                whole_shop: true,
                arrived_at,
                ..Scope::default()
            },
        },
        Topic::CustomersDataRequest => Job::RecordDataRequest {
            request_id,
            scope: Scope {
                customer_id,
                genstore_order_ids: ids(&c.orders_requested),
                whole_shop: false,
                arrived_at,
            },
        },
        _ => Job::RedactPersonalData {
            request_id,
            scope: Scope {
                customer_id,
                genstore_order_ids: ids(&c.orders_to_redact),
                whole_shop: false,
                arrived_at,
            },
        },
    })
}
