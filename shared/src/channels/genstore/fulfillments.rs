//! What a channel's package becomes in Genstore: pure functions from the domain and the mirror as
//! Genstore has it to fulfillment bodies (no I/O).
//!
//! - A package carries the lines and quantities its channel names (Google's shipment line items),
//!   matched to the mirror's lines by SKU, then product id, then title, and capped at what Genstore
//!   still has to fulfill.
//! - Decision: a package that names no lines (Zonos, which never says what is in which package) takes
//!   what is still to fulfill, less one unit for each later new package of the same kind (`reserve`),
//!   so that every number Zonos lists becomes a Genstore fulfillment the customer is told about (two
//!   mugs and two numbers: one mug each; five mugs and two numbers: four and one).
//! - Genstore keeps one tracking number per fulfillment; every fulfillment orderbridge makes or
//!   retracks notifies the customer.

use super::wire;
use crate::carrier::Carrier;
use crate::order::{ChannelOrder, Shipment};

/// The status of a fulfillment the merchant cancelled.
pub const CANCELLED: &str = "cancelled";

/// The external line's counterpart in the mirror: same SKU, else same product id, else same title.
pub fn mirror_line<'a>(
    external: &ChannelOrder,
    line_id: &crate::ids::LineItemId,
    mirror: &'a wire::Order,
) -> Option<&'a wire::LineItem> {
    let l = external.line_item(line_id)?;
    let sku = l.sku.as_ref().map(|s| s.as_str());
    let product = l.product_id.as_ref().map(|p| p.as_str());
    let by = |f: &dyn Fn(&wire::LineItem) -> bool| mirror.line_items.iter().find(|g| f(g));
    sku.and_then(|s| by(&|g| g.sku.as_deref() == Some(s)))
        .or_else(|| product.and_then(|p| by(&|g| g.product_id.as_deref() == Some(p))))
        .or_else(|| by(&|g| g.title.as_deref() == Some(l.title.as_str())))
}

/// The Genstore lines a package carries, capped at what is still to fulfill. A package that names no
/// lines takes what is left less `reserve` units (one for each later new package), at least one unit.
pub fn package_lines(
    external: &ChannelOrder,
    package: &Shipment,
    mirror: &wire::Order,
    reserve: u32,
) -> Vec<wire::LineQuantity> {
    if package.line_items.is_empty() {
        let left: u32 = mirror
            .line_items
            .iter()
            .map(|l| l.fulfillable_quantity.unwrap_or(0))
            .fold(0u32, u32::saturating_add);
        let mut take = left.saturating_sub(reserve).max(1).min(left);
        let mut out = Vec::new();
        for l in &mirror.line_items {
            let q = l.fulfillable_quantity.unwrap_or(0).min(take);
            if let (Some(id), true) = (l.id.clone(), q > 0) {
                out.push(wire::LineQuantity {
                    id: Some(id),
                    quantity: Some(q),
                });
                take = take.saturating_sub(q);
            }
        }
        return out;
    }
    let mut out: Vec<wire::LineQuantity> = Vec::new();
    for sl in &package.line_items {
        let Some(g) = mirror_line(external, &sl.line_item_id, mirror) else {
            continue;
        };
        let Some(id) = g.id.clone() else { continue };
        let taken: u32 = out
            .iter()
            .filter(|q| q.id.as_deref() == Some(id.as_str()))
            .filter_map(|q| q.quantity)
            .fold(0u32, u32::saturating_add);
        let left = g.fulfillable_quantity.unwrap_or(0).saturating_sub(taken);
        let quantity = sl.quantity.min(left);
        if quantity > 0 {
            out.push(wire::LineQuantity {
                id: Some(id),
                quantity: Some(quantity),
            });
        }
    }
    out
}

/// How Genstore is told a package's tracking: its number, the carrier as Genstore names it (`Other`
/// when unknown) and a tracking page (the package's own, else the carrier's). None with neither a
/// number nor a carrier.
pub fn tracking_info(package: &Shipment, number: Option<&str>) -> Option<wire::TrackingInfo> {
    let carrier = package.carrier.clone();
    if number.is_none() && carrier.is_none() {
        return None;
    }
    let carrier = carrier.unwrap_or_else(|| Carrier::Other("Other".into()));
    Some(wire::TrackingInfo {
        number: number.map(str::to_owned),
        company: Some(carrier.genstore_company().to_owned()),
        url: package
            .tracking_url
            .clone()
            .or_else(|| number.and_then(|n| carrier.tracking_url(n))),
    })
}

/// The tracking number a Genstore fulfillment carries.
pub fn number_of(f: &wire::Fulfillment) -> Option<&str> {
    f.tracking_info.as_ref()?.number.as_deref()
}

/// A live fulfillment with no tracking number (the merchant shipped and left the number out): where a
/// package's number goes when every line is fulfilled already.
pub fn untracked(mirror: &wire::Order) -> Option<String> {
    mirror
        .fulfillments
        .iter()
        .find(|f| number_of(f).is_none() && f.status.as_deref() != Some(CANCELLED))
        .and_then(|f| f.fulfill_id.clone())
}

/// A new fulfillment of `lines` on the Genstore order, the customer notified.
pub fn new_fulfillment(
    genstore_order_id: &str,
    lines: Vec<wire::LineQuantity>,
    tracking: Option<wire::TrackingInfo>,
) -> wire::NewFulfillment {
    wire::NewFulfillment {
        order_id: genstore_order_id.to_owned(),
        line_items: lines,
        tracking_info: tracking,
        notify_customer: true,
    }
}

/// New tracking for an existing fulfillment, the customer notified.
pub fn tracking_update(tracking: wire::TrackingInfo) -> wire::TrackingUpdate {
    wire::TrackingUpdate {
        tracking_info: tracking,
        notify_customer: true,
    }
}
