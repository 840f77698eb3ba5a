//! What orderbridge asks of Google, decided from the domain and Google's current order: pure functions
//! from values to request bodies (no I/O), so each rule is tested here on its own.
//!
//! - **Shipments.** A Genstore fulfillment ships on Google as shipment `gs-{fulfillment id}` (its
//!   second and later tracking numbers as `gs-{id}-1`, `gs-{id}-2`, … : Google takes one number per
//!   shipment info). A shipment id starting `gs-` is therefore Genstore's own and never comes back to
//!   Genstore as a new fulfillment.
//! - **Lines.** A Genstore line ships, cancels and refunds as the Google line of the same SKU (Google's
//!   `offerId`), else of the same product id; never more than Google has left to ship.
//! - **Operation ids** are [`operation_id`]s of the facts, so a request sent again after a timeout is
//!   answered `duplicate`.

use super::client::operation_id;
use super::wire as g;
use crate::order::{
    CancelReason, ChannelOrder, LineItem, Quantities, Refund, Shipment, ShipmentStatus,
};
use rust_decimal::Decimal;

/// The status Google gives a delivered shipment, and orderbridge asks for.
pub const DELIVERED: &str = "delivered";

/// What begins the id of every shipment orderbridge makes on Google.
const OURS: &str = "gs-";

/// The Google shipment id of a Genstore fulfillment.
pub fn shipment_id(s: &Shipment) -> String {
    format!("{OURS}{}", s.id)
}

/// True for a shipment orderbridge made from a Genstore fulfillment.
pub fn is_from_genstore(shipment_id: &str) -> bool {
    shipment_id.starts_with(OURS)
}

/// Google's shipment of a Genstore fulfillment (its first, `gs-{id}`).
pub fn shipment_of<'a>(google: &'a g::Order, s: &Shipment) -> Option<&'a g::Shipment> {
    let base = shipment_id(s);
    google
        .shipments
        .iter()
        .find(|x| x.id.as_deref() == Some(base.as_str()))
}

/// True when Google has any shipment of the fulfillment (`gs-{id}` or `gs-{id}-n`).
pub fn has_shipment(google: &g::Order, s: &Shipment) -> bool {
    let base = shipment_id(s);
    let more = format!("{base}-");
    google.shipments.iter().any(|x| {
        x.id.as_deref()
            .is_some_and(|i| i == base || i.starts_with(&more))
    })
}

/// A Google line's quantities (absent counts read as none).
pub fn quantities(l: &g::LineItem) -> Quantities {
    Quantities {
        ordered: l.quantity_ordered.unwrap_or(0),
        shipped: l.quantity_shipped.unwrap_or(0),
        cancelled: l.quantity_canceled.unwrap_or(0),
        delivered: l.quantity_delivered.unwrap_or(0),
        returned: l.quantity_returned.unwrap_or(0),
        ..Quantities::default()
    }
}

fn same_product(l: &g::LineItem, line: &LineItem) -> bool {
    let product = l.product.as_ref();
    let offer = product.and_then(|p| p.offer_id.as_deref());
    let id = product.and_then(|p| p.id.as_deref());
    let sku = line.sku.as_ref().map(|x| x.as_str());
    let product_id = line.product_id.as_ref().map(|x| x.as_str());
    (sku.is_some() && offer == sku) || (product_id.is_some() && id == product_id)
}

/// The Google line a domain line ships as: same SKU (Google's offer id), else same product id.
pub fn line_for<'a>(google: &'a g::Order, line: &LineItem) -> Option<&'a g::LineItem> {
    google.line_items.iter().find(|l| same_product(l, line))
}

/// The line `id` of `source` with the Google line it is mirrored as. `Ok(None)`: `source` has no such
/// line. `Err`: Google has no line for it, which no retry mends.
fn google_pair<'a, 'g>(
    source: &'a ChannelOrder,
    google: &'g g::Order,
    id: &crate::ids::LineItemId,
) -> Result<Option<(&'a LineItem, &'g g::LineItem)>, String> {
    let Some(line) = source.line_item(id) else {
        return Ok(None);
    };
    match line_for(google, line) {
        Some(target) => Ok(Some((line, target))),
        None => Err(format!(
            "no Google line for Genstore line {id} (sku {:?})",
            line.sku
        )),
    }
}

/// The domain line a Google line is mirrored as (the same match, the other way).
pub fn mirrored_line<'a>(source: &'a ChannelOrder, l: &g::LineItem) -> Option<&'a LineItem> {
    source.line_items.iter().find(|line| same_product(l, line))
}

/// `shipLineItems` for a live Genstore fulfillment Google does not have yet: each of its lines as the
/// matching Google line, at most what is left to ship there. `Ok(None)`: nothing to send (Google has
/// it, or nothing of it is left to ship). `Err`: a line Google does not have, which no retry mends.
pub fn ship(
    order_id: &str,
    source: &ChannelOrder,
    s: &Shipment,
    google: &g::Order,
) -> Result<Option<g::ShipLineItemsRequest>, String> {
    if !s.status.is_live() || has_shipment(google, s) {
        return Ok(None);
    }
    let mut lines = Vec::new();
    for sl in &s.line_items {
        let Some((_, target)) = google_pair(source, google, &sl.line_item_id)? else {
            continue;
        };
        let quantity = sl.quantity.min(quantities(target).left_to_ship());
        if quantity > 0 {
            lines.push(g::LineItemShipment {
                line_item_id: target.id.clone(),
                product_id: None,
                quantity,
            });
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    let base = shipment_id(s);
    let carrier = s.carrier.as_ref().map(|c| c.google_code().to_owned());
    let shipment_infos = match s.tracking_numbers.as_slice() {
        [] | [_] => vec![g::ShipmentInfo {
            shipment_id: base,
            carrier,
            tracking_id: s.tracking_numbers.first().cloned(),
        }],
        numbers => numbers
            .iter()
            .enumerate()
            .map(|(i, n)| g::ShipmentInfo {
                shipment_id: if i == 0 {
                    base.clone()
                } else {
                    format!("{base}-{i}")
                },
                carrier: carrier.clone(),
                tracking_id: Some(n.clone()),
            })
            .collect(),
    };
    Ok(Some(g::ShipLineItemsRequest {
        operation_id: operation_id(order_id, "ship", s.id.as_str()),
        line_items: lines,
        shipment_group_id: None,
        shipment_infos,
    }))
}

/// `updateShipment` for a number or carrier corrected in Genstore after Google got the shipment (it
/// changes only what it names). None when Google's shipment already says the same.
pub fn correction(
    order_id: &str,
    s: &Shipment,
    google: &g::Order,
) -> Option<g::UpdateShipmentRequest> {
    let theirs = shipment_of(google, s)?;
    let number = s.tracking_numbers.first()?;
    let carrier = s.carrier.as_ref().map(|c| c.google_code().to_owned());
    let stale_number = theirs.tracking_id.as_deref() != Some(number.as_str());
    let stale_carrier = carrier.is_some() && theirs.carrier != carrier;
    if !(stale_number || stale_carrier) {
        return None;
    }
    // The operation names the change from what Google has, so a retry of it is one operation, and a
    // later change back to a number Google had before (a slower push undone, see fulfillment-push's
    // `outbound`) is a new one rather than a duplicate Google would ignore.
    let detail = format!(
        "{}:{}->{number}:{}",
        s.id,
        theirs.tracking_id.as_deref().unwrap_or(""),
        carrier.as_deref().unwrap_or("")
    );
    Some(g::UpdateShipmentRequest {
        operation_id: operation_id(order_id, "retrack", &detail),
        shipment_id: shipment_id(s),
        status: None,
        carrier,
        tracking_id: Some(number.clone()),
        delivery_date: None,
    })
}

/// `updateShipment` to `delivered` for a fulfillment Genstore reports delivered, once Google has the
/// shipment and does not say so yet.
pub fn delivery(
    order_id: &str,
    s: &Shipment,
    google: &g::Order,
) -> Option<g::UpdateShipmentRequest> {
    if s.status != ShipmentStatus::Delivered {
        return None;
    }
    let theirs = shipment_of(google, s)?;
    if theirs.status.as_deref() == Some(DELIVERED) {
        return None;
    }
    Some(g::UpdateShipmentRequest {
        operation_id: operation_id(order_id, "deliver", s.id.as_str()),
        shipment_id: shipment_id(s),
        status: Some(DELIVERED.into()),
        carrier: None,
        tracking_id: None,
        delivery_date: s.delivered_at.map(|t| t.format("%Y-%m-%d").to_string()),
    })
}

/// True for a Genstore fulfillment cancelled after Google got its shipment: Google has no call to
/// withdraw a shipment, so it can only be recorded.
pub fn withdrawn(s: &Shipment, google: &g::Order) -> bool {
    s.status == ShipmentStatus::Cancelled && shipment_of(google, s).is_some()
}

/// The order-level `cancel` for a whole cancellation while nothing has shipped and something is left;
/// None when it must go line by line ([`cancel_lines`]).
pub fn cancel_order(
    order_id: &str,
    reason: &CancelReason,
    google: &g::Order,
) -> Option<g::CancelOrderRequest> {
    let lines = || google.line_items.iter().map(quantities);
    let nothing_shipped = lines().all(|q| q.shipped == 0);
    let anything_left = lines().any(|q| q.left_to_ship() > 0);
    (nothing_shipped && anything_left).then(|| g::CancelOrderRequest {
        operation_id: operation_id(order_id, "cancel", "order"),
        reason: reason.google_code().to_owned(),
        reason_text: reason_text(reason),
    })
}

/// The reason text Google is given with a cancellation.
fn reason_text(reason: &CancelReason) -> String {
    format!("Cancelled in the merchant's store: {}", reason.describe())
}

/// `cancelLineItem` for each Google line with something to cancel: a whole cancellation takes what is
/// left of every line; a partial one what the mirrored line has cancelled beyond Google's count. The
/// operation id names the line's cancelled total, so a later, larger cancellation goes again.
pub fn cancel_lines(
    order_id: &str,
    source: &ChannelOrder,
    whole: bool,
    reason: &CancelReason,
    google: &g::Order,
) -> Vec<g::CancelLineItemRequest> {
    let mut out = Vec::new();
    for l in &google.line_items {
        let Some(line) = l.id.clone() else { continue };
        let q = quantities(l);
        let quantity = if whole {
            q.left_to_ship()
        } else {
            mirrored_line(source, l)
                .map(|m| m.quantities.cancelled.saturating_sub(q.cancelled))
                .unwrap_or(0)
                .min(q.left_to_ship())
        };
        if quantity == 0 {
            continue;
        }
        let total = q.cancelled.saturating_add(quantity);
        out.push(g::CancelLineItemRequest {
            operation_id: operation_id(order_id, "cancel", &format!("{line}:{total}")),
            line_item_id: Some(line),
            product_id: None,
            quantity,
            reason: reason.google_code().to_owned(),
            reason_text: reason_text(reason),
        });
    }
    out
}

/// What Google is sent for a Genstore refund.
#[derive(Debug, Clone, PartialEq)]
pub enum RefundRequest {
    /// Lines named: `refunditem`, each line at the amount the refund states for it (unit price ×
    /// quantity where it states none), and what the refund moved beyond its lines as shipping.
    Items(g::RefundItemRequest),
    /// No line named: `refundorder` for the amount the refund moved (that amount beside it).
    Order(g::RefundOrderRequest, Decimal),
    /// Neither a line nor an amount in the order's currency: nothing Google could take.
    Nothing,
}

/// The refund reason `refunditem` takes, from the order's state: `noInventory` for an order cancelled
/// for stock, `customerCancelled` for one cancelled whole, `adjustment` otherwise (Genstore's refund
/// carries no reason code).
pub fn refund_reason(source: &ChannelOrder) -> &'static str {
    match (&source.cancel_reason, source.wholly_cancelled()) {
        (Some(CancelReason::Inventory), _) => "noInventory",
        (_, true) => "customerCancelled",
        _ => "adjustment",
    }
}

/// Genstore's refund `r` of `source` (refund id `refund_id`) as Google's request. Decision: Genstore's
/// refund does not split tax from shipping, and Google's item amounts are pre-tax where tax is
/// separate, so what the transactions moved beyond the lines goes as shipping. `Err`: a line Google
/// does not have, or an amount past what a decimal holds; no retry mends either.
pub fn refund(
    order_id: &str,
    refund_id: &str,
    source: &ChannelOrder,
    r: &Refund,
    google: &g::Order,
) -> Result<RefundRequest, String> {
    let currency = source.totals.currency.as_str().to_owned();
    let price = |v: Decimal| g::Price {
        value: Some(v),
        currency: Some(currency.clone()),
    };
    // The text names the Genstore refund first, so the refund Google then lists is known as this one's
    // echo and never brought back to Genstore ([`super::mapping::ECHO_PREFIX`]).
    let reason_text = match r.reason.as_ref().map(|n| n.expose().trim()) {
        Some(note) if !note.is_empty() => {
            format!("{}{refund_id}: {note}", super::mapping::ECHO_PREFIX)
        }
        _ => format!(
            "{}{refund_id}: refunded in the merchant's store",
            super::mapping::ECHO_PREFIX
        ),
    };
    let stated = r
        .amount
        .as_ref()
        .filter(|m| m.currency.as_str() == currency)
        .map(|m| m.amount);
    let mut items = Vec::new();
    let mut lines_total = Decimal::ZERO;
    for rl in &r.line_items {
        let Some((line, target)) = google_pair(source, google, &rl.line_item_id)? else {
            continue;
        };
        let amount = rl
            .amount
            .or_else(|| line.unit_price.checked_mul(Decimal::from(rl.quantity)))
            .ok_or_else(|| {
                format!(
                    "refund of Genstore line {}: {}",
                    rl.line_item_id,
                    crate::money::OVERFLOW
                )
            })?;
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
    if items.is_empty() {
        let Some(amount) = stated.filter(|a| *a > Decimal::ZERO) else {
            return Ok(RefundRequest::Nothing);
        };
        let reason = if source.wholly_cancelled() {
            "other"
        } else {
            "courtesyAdjustment"
        };
        return Ok(RefundRequest::Order(
            g::RefundOrderRequest {
                operation_id: operation_id(order_id, "refundorder", refund_id),
                amount: Some(g::MonetaryAmount {
                    price_amount: price(amount),
                    tax_amount: None,
                }),
                full_refund: None,
                reason: reason.into(),
                reason_text,
            },
            amount,
        ));
    }
    let rest = stated
        .and_then(|s| s.checked_sub(lines_total))
        .filter(|d| *d > Decimal::ZERO);
    Ok(RefundRequest::Items(g::RefundItemRequest {
        operation_id: operation_id(order_id, "refund", refund_id),
        items,
        shipping: rest.map(|d| g::RefundShipping {
            amount: Some(price(d)),
            full_refund: None,
        }),
        reason: refund_reason(source).into(),
        reason_text,
    }))
}
