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
use super::{refresh, refresh_google, Deps, Outcome};
use crate::audit::{
    attempt, audit, audited, client, failure, google_write, load, record_once, zonos_status,
};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore;
use orderbridge::channels::google::client::operation_id;
use orderbridge::channels::google::requests;
use orderbridge::channels::google::wire as g;
use orderbridge::channels::zonos::ZonosStatus;
use orderbridge::ids::{ChannelOrderId, GenstoreOrderId, RefundId};
use orderbridge::order::{CancelReason, ChannelOrder};
use orderbridge::store::{AuditOutcome, OrderKey};
use rust_decimal::Decimal;

pub(crate) use orderbridge::idempotency::wholly_cancelled;

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
    let whole = wholly_cancelled(&source);
    let units = orderbridge::sync::cancelled_units(&source);
    match to {
        Channel::Genstore => {
            let key = OrderKey::new(Channel::Genstore, genstore_id.as_str());
            if !whole {
                let reason = format!(
                    "{from} cancelled {} of order {order_id}; Genstore has no call to cancel part of an order",
                    cancelled_lines(&source)
                );
                let what = format!("partial-cancel:{from}:{order_id}:{units}");
                attempt!(record_once(deps, &key, &what, to, "cancelLineItems", reason).await);
                return Outcome::Done("partial cancellation recorded".into());
            }
            let gs = attempt!(client(&deps.genstore, "genstore"));
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
            refresh(
                deps,
                genstore::to_channel_order(&o).map_err(|e| e.to_string()),
            )
            .await;
            Outcome::Done(format!("cancelled Genstore order {genstore_id} ({code})"))
        }
        Channel::Google => cancel_on_google(deps, &source, whole, order_id).await,
        Channel::Zonos => {
            let key = OrderKey::new(Channel::Zonos, order_id.clone());
            if !whole {
                let reason = format!(
                    "Genstore cancelled {}; Zonos has no call to cancel part of an order",
                    cancelled_lines(&source)
                );
                let what = format!("partial-cancel:{order_id}:{units}");
                attempt!(record_once(deps, &key, &what, to, "cancelLineItems", reason).await);
                return Outcome::Done("partial cancellation recorded".into());
            }
            let z = attempt!(client(&deps.zonos, "zonos"));
            let status = ZonosStatus::VendorCancellationRequest;
            attempt!(zonos_status(deps, z, &key, &status).await);
            refresh_zonos(deps, z, order_id).await;
            Outcome::Done(format!("cancellation requested on Zonos {order_id}"))
        }
    }
}

/// Genstore → Google: the whole order while nothing shipped, else line by line what Google has not
/// cancelled yet.
async fn cancel_on_google(
    deps: &Deps,
    source: &ChannelOrder,
    whole: bool,
    order_id: &ChannelOrderId,
) -> Outcome {
    let gc = attempt!(client(&deps.google, "google"));
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

/// The refund reason Google's `refunditem` takes, from the order's state.
fn refund_reason(source: &ChannelOrder) -> &'static str {
    match (&source.cancel_reason, wholly_cancelled(source)) {
        (Some(CancelReason::Inventory), _) => "noInventory",
        (_, true) => "customerCancelled",
        _ => "adjustment",
    }
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
    let gc = attempt!(client(&deps.google, "google"));
    let Some(order) = attempt!(gc.get_order(order_id.as_str()).await.map_err(failure)) else {
        return Outcome::Permanent(format!("Google does not know order {order_id}"));
    };
    let currency = source.totals.currency.as_str().to_owned();
    let price = |v: Decimal| g::Price {
        value: Some(v),
        currency: Some(currency.clone()),
    };
    let reason_text = r
        .reason
        .clone()
        .map(orderbridge::personal::Personal::into_inner)
        .unwrap_or_else(|| "Refunded in the merchant's store".into());
    let stated = r
        .amount
        .as_ref()
        .filter(|m| m.currency.as_str() == currency)
        .map(|m| m.amount);
    let mut items = Vec::new();
    let mut lines_total = Decimal::ZERO;
    for rl in &r.line_items {
        let Some(gl) = source.line_item(&rl.line_item_id) else {
            continue;
        };
        let Some(target) = requests::line_for(&order, gl) else {
            return Outcome::Permanent(format!(
                "no Google line for Genstore line {}",
                rl.line_item_id
            ));
        };
        let amount = match rl.amount {
            Some(a) => Some(a),
            None => gl.unit_price.checked_mul(Decimal::from(rl.quantity)),
        };
        let Some(amount) = amount else {
            return Outcome::Permanent(format!(
                "refund of Genstore line {}: {}",
                rl.line_item_id,
                orderbridge::money::OVERFLOW
            ));
        };
        lines_total = lines_total.checked_add(amount).unwrap_or(lines_total);
        items.push(g::RefundItem {
            line_item_id: target.id.clone(),
            product_id: None,
            quantity: rl.quantity,
            amount: Some(g::MonetaryAmount {
                price_amount: price(amount),
                tax_amount: None,
            }),
            full_refund: None,
        });
    }
    let op_id = |what: &str| operation_id(order_id.as_str(), what, refund_id.as_str());
    if items.is_empty() {
        // No line named: the order as a whole, by the amount the refund moved.
        let Some(amount) = stated.filter(|a| *a > Decimal::ZERO) else {
            audit(
                deps,
                &key,
                refund_id.as_str(),
                Channel::Google,
                "refundorder",
                AuditOutcome::Skipped {
                    reason: "the refund names no line and no amount in the order's currency".into(),
                },
            )
            .await;
            return Outcome::Done("refund without lines or amount: nothing to push".into());
        };
        let op = op_id("refundorder");
        let req = g::RefundOrderRequest {
            operation_id: op.clone(),
            amount: Some(g::MonetaryAmount {
                price_amount: price(amount),
                tax_amount: None,
            }),
            full_refund: None,
            reason: if wholly_cancelled(&source) {
                "other"
            } else {
                "courtesyAdjustment"
            }
            .into(),
            reason_text,
        };
        attempt!(
            google_write(
                deps,
                &key,
                &op,
                "refundorder",
                gc.refund_order(order_id.as_str(), &req).await
            )
            .await
        );
        refresh_google(deps, gc, order_id).await;
        return Outcome::Done(format!("refund {refund_id} of {amount} pushed to Google"));
    }
    let rest = stated
        .and_then(|s| s.checked_sub(lines_total))
        .filter(|d| *d > Decimal::ZERO);
    let op = op_id("refund");
    let req = g::RefundItemRequest {
        operation_id: op.clone(),
        items,
        shipping: rest.map(|d| g::RefundShipping {
            amount: Some(price(d)),
            full_refund: None,
        }),
        reason: refund_reason(&source).into(),
        reason_text,
    };
    attempt!(
        google_write(
            deps,
            &key,
            &op,
            "refunditem",
            gc.refund_item(order_id.as_str(), &req).await
        )
        .await
    );
    refresh_google(deps, gc, order_id).await;
    Outcome::Done(format!("refund {refund_id} pushed to Google"))
}
