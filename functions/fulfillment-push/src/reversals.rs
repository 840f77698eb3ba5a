//! Cancellations and refunds, both directions, at the level the platforms can take them.
//!
//! - **Cancellations.** A whole order cancelled on one side is cancelled on the other with the reason
//!   mapped ([`CancelReason`]): Genstore's `cancel` with its `cancelReason`; Google's order-level
//!   `cancel` while nothing has shipped, else `cancelLineItem` for what is left of each line; Zonos'
//!   `VENDOR_CANCELLATION_REQUEST`. A line cancelled in part is pushed to Google as `cancelLineItem` for
//!   the difference between the two sides; Genstore and Zonos have no call to cancel part of an order,
//!   so there it is recorded on the order's trail, once.
//! - **Refunds** (Genstore → Google). Each refunded line goes with the amount the refund states for it
//!   (its `subtotal`; unit price × quantity only where the refund states none). What the refund's
//!   transactions moved beyond its lines is refunded as shipping. Decision: Genstore's refund does not
//!   split tax from shipping, and Google's item amounts are pre-tax where tax is separate, so the rest is
//!   the shipping part. A refund that names no line goes as Google's `refundorder` with its amount.
//!   The reason is mapped from the order: `customerCancelled` for a cancelled order, `noInventory` when
//!   it was cancelled for stock, `adjustment` otherwise (Genstore's refund carries no reason code; its
//!   note goes along as the reason text). Zonos has no refund call: recorded on the trail.

use super::mirror::refresh_zonos;
use super::{refresh_genstore, refresh_google, Deps, Outcome};
use crate::audit::{
    attempt, audit, audited, client, failure, google_write, load, record_once, zonos_status,
};
use orderbridge::channel::Channel;
use orderbridge::channels::google::requests::{self, RefundRequest};
use orderbridge::channels::zonos::ZonosStatus;
use orderbridge::ids::{ChannelOrderId, GenstoreOrderId, RefundId};
use orderbridge::order::{CancelReason, ChannelOrder};
use orderbridge::store::{AuditOutcome, OrderKey};

fn reason_of(o: &ChannelOrder) -> CancelReason {
    o.cancel_reason
        .clone()
        .unwrap_or_else(|| CancelReason::Other(String::new()))
}

/// What a partial cancellation took, for the trail: `2 × SKU-MUG, 1 × SKU-PLATE`.
fn cancelled_lines(o: &ChannelOrder) -> String {
    o.line_items
        .iter()
        .filter(|l| l.quantities.cancelled > 0)
        .map(|l| {
            let name = l
                .sku
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| l.id.as_str().to_owned());
            format!("{} × {name}", l.quantities.cancelled)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn cancellation(
    deps: &Deps,
    from: Channel,
    to: Channel,
    order_id: &ChannelOrderId,
    genstore_id: &GenstoreOrderId,
) -> Outcome {
    let source_id = if from == Channel::Genstore {
        genstore_id.as_str()
    } else {
        order_id.as_str()
    };
    let source = attempt!(load(deps, from, source_id).await);
    let whole = source.wholly_cancelled();
    let units = orderbridge::sync::cancelled_units(&source);
    match to {
        Channel::Genstore => {
            let key = OrderKey::new(Channel::Genstore, genstore_id.as_str());
            if !whole {
                let what = format!("partial-cancel:{from}:{order_id}:{units}");
                let cancelled = format!(
                    "{from} cancelled {} of order {order_id}",
                    cancelled_lines(&source)
                );
                return record_partial(deps, &key, "Genstore", &what, cancelled).await;
            }
            let gs = attempt!(client(&deps.genstore, Channel::Genstore));
            let op = format!("cancel:{from}:{order_id}");
            let code = reason_of(&source).genstore_code();
            let o = attempt!(
                audited(
                    deps,
                    &key,
                    &op,
                    Channel::Genstore,
                    "cancelOrder",
                    gs.cancel_order(genstore_id.as_str(), code).await,
                    |_| false
                )
                .await
            );
            refresh_genstore(deps, &o).await;
            Outcome::Done(format!("cancelled Genstore order {genstore_id} ({code})"))
        }
        Channel::Google => cancel_on_google(deps, &source, whole, order_id).await,
        Channel::Zonos => {
            let key = OrderKey::new(Channel::Zonos, order_id.clone());
            if !whole {
                let what = format!("partial-cancel:{order_id}:{units}");
                let cancelled = format!("Genstore cancelled {}", cancelled_lines(&source));
                return record_partial(deps, &key, "Zonos", &what, cancelled).await;
            }
            let z = attempt!(client(&deps.zonos, Channel::Zonos));
            let status = ZonosStatus::VendorCancellationRequest;
            attempt!(zonos_status(deps, z, &key, &status).await);
            refresh_zonos(deps, z, order_id).await;
            Outcome::Done(format!("cancellation requested on Zonos {order_id}"))
        }
    }
}

/// A partial cancellation on a platform (`platform`, as the trail names it) that has no call to cancel
/// part of an order: recorded on the order's trail once per `what` (the cancelled amount).
async fn record_partial(
    deps: &Deps,
    key: &OrderKey,
    platform: &str,
    what: &str,
    cancelled: String,
) -> Outcome {
    let reason = format!("{cancelled}; {platform} has no call to cancel part of an order");
    attempt!(record_once(deps, key, what, key.channel, "cancelLineItems", reason).await);
    Outcome::Done("partial cancellation recorded".into())
}

/// Genstore → Google: the whole order while nothing shipped, else line by line what Google has not
/// cancelled yet.
async fn cancel_on_google(
    deps: &Deps,
    source: &ChannelOrder,
    whole: bool,
    order_id: &ChannelOrderId,
) -> Outcome {
    let gc = attempt!(client(&deps.google, Channel::Google));
    let key = OrderKey::new(Channel::Google, order_id.clone());
    let Some(order) = attempt!(gc.get_order(order_id.as_str()).await.map_err(failure)) else {
        return Outcome::Permanent(format!("Google does not know order {order_id}"));
    };
    let oid = order_id.as_str();
    let reason = reason_of(source);
    if whole {
        if let Some(req) = requests::cancel_order(oid, &reason, &order) {
            let op = req.operation_id.clone();
            let sent = gc.cancel_order(oid, &req).await;
            attempt!(google_write(deps, &key, &op, "cancel", sent).await);
            refresh_google(deps, gc, order_id).await;
            return Outcome::Done(format!("cancelled Google order {order_id}"));
        }
    }
    let mut cancelled = Vec::new();
    for req in requests::cancel_lines(oid, source, whole, &reason, &order) {
        let op = req.operation_id.clone();
        let sent = gc.cancel_line_item(oid, &req).await;
        attempt!(google_write(deps, &key, &op, "cancelLineItem", sent).await);
        let line = req.line_item_id.unwrap_or_default();
        cancelled.push(format!("{} of line {line}", req.quantity));
    }
    refresh_google(deps, gc, order_id).await;
    Outcome::Done(if cancelled.is_empty() {
        "nothing left to cancel on Google".into()
    } else {
        format!("cancelled on Google: {}", cancelled.join(", "))
    })
}

pub(crate) async fn refund(
    deps: &Deps,
    channel: Channel,
    order_id: &ChannelOrderId,
    genstore_id: &GenstoreOrderId,
    refund_id: &RefundId,
) -> Outcome {
    let source = attempt!(load(deps, Channel::Genstore, genstore_id.as_str()).await);
    let Some(r) = source
        .refunds
        .iter()
        .find(|r| r.id.as_ref() == Some(refund_id))
    else {
        return Outcome::Retry(format!("refund {refund_id} is not recorded yet"));
    };
    let key = OrderKey::new(channel, order_id.clone());
    match channel {
        Channel::Google => {}
        Channel::Zonos => {
            audit(
                deps,
                &key,
                refund_id.as_str(),
                Channel::Zonos,
                "refund",
                AuditOutcome::Skipped {
                    reason: "Zonos has no refund call".into(),
                },
            )
            .await;
            return Outcome::Done("Zonos has no refund call: recorded".into());
        }
        Channel::Genstore => {
            return Outcome::Permanent("refunds are pushed from Genstore, not to it".into())
        }
    }
    let gc = attempt!(client(&deps.google, Channel::Google));
    let Some(order) = attempt!(gc.get_order(order_id.as_str()).await.map_err(failure)) else {
        return Outcome::Permanent(format!("Google does not know order {order_id}"));
    };
    let oid = order_id.as_str();
    let done = match requests::refund(oid, refund_id.as_str(), &source, r, &order) {
        Err(why) => return Outcome::Permanent(why),
        Ok(RefundRequest::Nothing) => {
            let reason = "the refund names no line and no amount in the order's currency";
            let skipped = AuditOutcome::Skipped {
                reason: reason.into(),
            };
            let id = refund_id.as_str();
            audit(deps, &key, id, Channel::Google, "refundorder", skipped).await;
            return Outcome::Done("refund without lines or amount: nothing to push".into());
        }
        Ok(RefundRequest::Order(req, amount)) => {
            let sent = gc.refund_order(oid, &req).await;
            let op = req.operation_id;
            attempt!(google_write(deps, &key, &op, "refundorder", sent).await);
            format!("refund {refund_id} of {amount} pushed to Google")
        }
        Ok(RefundRequest::Items(req)) => {
            let sent = gc.refund_item(oid, &req).await;
            let op = req.operation_id;
            attempt!(google_write(deps, &key, &op, "refunditem", sent).await);
            format!("refund {refund_id} pushed to Google")
        }
    };
    refresh_google(deps, gc, order_id).await;
    Outcome::Done(done)
}
