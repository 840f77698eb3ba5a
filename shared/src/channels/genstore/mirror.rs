//! An external order as Genstore is sent it: the mirror's create body (lines, totals with shipping,
//! addresses, the source), and the hold a channel puts on it (pure; no I/O).

use super::wire;
use crate::order::{Address, ChannelOrder};
use crate::personal::Personal;

fn from_address(a: &Address) -> wire::Address {
    let mut lines = a.lines.iter().cloned();
    wire::Address {
        name: a.name.clone(),
        address1: lines.next(),
        address2: {
            let rest: Vec<String> = lines.collect();
            (!rest.is_empty()).then(|| rest.join(", "))
        },
        city: a.city.clone(),
        province: a.region.clone(),
        province_code: a.region_code.clone(),
        country: a.country.clone(),
        country_code: a.country_code.clone(),
        zip: a.postal_code.clone(),
        phone: a.phone.clone(),
        ..wire::Address::default()
    }
}

/// The tag on a mirror its channel holds (fraud review, a hold).
pub const HOLD_TAG: &str = "orderbridge-hold";

/// Decision (how Genstore shows an order its channel holds): the mirror is created unpaid
/// (`financialStatus: pending`, not `paid`), tagged [`HOLD_TAG`], with a note saying not to ship it, so
/// no paid-orders view or fulfillment flow picks it up. When the channel releases the order, the mirror
/// becomes `paid`, loses the tag and the note says it was released ([`hold_update`]); an order held
/// after it was mirrored is put on hold the same way. Genstore has no documented hold of its own.
pub fn held(order: &ChannelOrder) -> bool {
    order.status == crate::status::UnifiedStatus::OnHold
}

fn mirror_tags(order: &ChannelOrder, held: bool) -> String {
    if held {
        format!("orderbridge, {}, {HOLD_TAG}", order.channel)
    } else {
        format!("orderbridge, {}", order.channel)
    }
}

fn mirror_note(order: &ChannelOrder, held: bool) -> String {
    if held {
        format!(
            "Imported by orderbridge from {} order {}. ON HOLD on {} ({}): do not ship; orderbridge releases it when {} does.",
            order.channel, order.order_id, order.channel, order.raw_status, order.channel
        )
    } else {
        format!(
            "Imported by orderbridge from {} order {}",
            order.channel, order.order_id
        )
    }
}

/// True when a Genstore order carries [`HOLD_TAG`].
pub fn is_held(order: &wire::Order) -> bool {
    order
        .tags
        .as_deref()
        .is_some_and(|t| t.split(',').any(|x| x.trim() == HOLD_TAG))
}

/// The change that makes a mirror held or released, as its channel's order now is.
pub fn hold_update(order: &ChannelOrder) -> wire::OrderUpdate {
    let h = held(order);
    wire::OrderUpdate {
        financial_status: Some(if h { "pending" } else { "paid" }.to_owned()),
        tags: Some(mirror_tags(order, h)),
        note: Some(if h {
            mirror_note(order, true)
        } else {
            format!(
                "Imported by orderbridge from {} order {}; released by {} ({}).",
                order.channel, order.order_id, order.channel, order.raw_status
            )
        }),
    }
}

/// The body that creates an external order's mirror in Genstore: `sourceName` = the channel,
/// `sourceIdentifier` = its order id, its lines, shipping address and totals.
///
/// Decision: Genstore's order create names no shipping field (the order shape of seed 001 has none),
/// so none is sent: `totalPrice` is the channel's total, shipping included, and the shipping itself is
/// not itemised on the mirror.
pub fn mirror_request(order: &ChannelOrder) -> wire::CreateOrderRequest {
    wire::CreateOrderRequest {
        order: wire::NewOrder {
            source_name: order.channel.as_str().to_owned(),
            source_identifier: order.order_id.as_str().to_owned(),
            currency: order.totals.currency.as_str().to_owned(),
            line_items: order
                .line_items
                .iter()
                .map(|l| wire::NewLineItem {
                    title: l.title.clone(),
                    sku: l.sku.as_ref().map(|s| s.as_str().to_owned()),
                    product_id: l.product_id.as_ref().map(|p| p.as_str().to_owned()),
                    quantity: l.quantities.ordered.saturating_sub(l.quantities.cancelled),
                    price: l.unit_price,
                })
                .filter(|l| l.quantity > 0)
                .collect(),
            financial_status: Some(if held(order) { "pending" } else { "paid" }.to_owned()),
            total_price: Some(order.totals.total),
            total_tax: order.totals.tax,
            email: order
                .customer
                .as_ref()
                .and_then(|c| c.expose().email.clone())
                .map(Personal::new),
            shipping_address: order
                .shipping_address
                .as_ref()
                .map(|a| Personal::new(from_address(a.expose()))),
            tags: Some(mirror_tags(order, held(order))),
            note: Some(mirror_note(order, held(order))),
        },
    }
}
