//! Zonos orders into the domain.
//!
//! Zonos items carry no line id, so a line's id is its 1-based position (`1`, `2`, …): `orderDetail`
//! lists items in a fixed order. Zonos has no per-line shipping counts: once tracking is set the order has
//! one shipment carrying every line; `VENDOR_END_OF_DAY_COMPLETE` means everything shipped.

use super::status::ZonosStatus;
use super::wire::{self, Order, OrderNumber};
use crate::carrier::Carrier;
use crate::channel::Channel;
use crate::error::MappingError;
use crate::ids::{LineItemId, ShipmentId};
use crate::money::CurrencyCode;
use crate::order::{
    Address, ChannelOrder, Contact, LineItem, Quantities, Shipment, ShipmentStatus, Totals,
};
use crate::personal::Personal;
use crate::status::UnifiedStatus;
use chrono::{DateTime, Utc};

/// What `orderNumbers` (with `statuses`) said of an order when it was last stored: the listing to read
/// an `orderDetail` answer with when none is at hand (a read after a write). The documents do not
/// promise `orderDetail` a placement time or a status time, so without a listing a bare answer has
/// neither; the stored order's stand in (a changed status then ties on time with the stored one, and
/// a fresh read wins a tie with other facts).
pub fn listing_of(stored: &ChannelOrder) -> OrderNumber {
    OrderNumber {
        id: stored.order_id.as_str().to_owned(),
        test_order: stored.test_order,
        timestamp: wire::format_timestamp(stored.placed_at),
        status: Some(wire::OrderNumberStatus {
            merchant_order_id: stored
                .merchant_order_id
                .as_ref()
                .map(|m| m.as_str().to_owned()),
            order_status: stored.raw_status.clone(),
            order_status_date: stored.updated_at.timestamp_millis(),
            order_status_date_string: wire::format_timestamp(stored.updated_at),
        }),
    }
}

/// A Zonos order in orderbridge's terms. `listing`, the order's `orderNumbers` entry when there is one,
/// fills in the placement time and status where `orderDetail` left them out.
pub fn to_channel_order(
    o: &Order,
    listing: Option<&OrderNumber>,
) -> Result<ChannelOrder, MappingError> {
    let id =
        o.id.clone()
            .or_else(|| listing.map(|l| l.id.clone()))
            .ok_or_else(|| MappingError::missing(Channel::Zonos, "?", "id"))?;
    let err =
        |field: &str, reason: String| MappingError::new(Channel::Zonos, id.clone(), field, reason);
    let missing = |field: &str| MappingError::missing(Channel::Zonos, id.clone(), field);

    let status_date = o.order_status_date.or_else(|| {
        listing
            .and_then(|l| l.status.as_ref())
            .map(|s| s.order_status_date)
    });
    let status_at = status_date
        .map(|ms| {
            DateTime::<Utc>::from_timestamp_millis(ms).ok_or_else(|| {
                err(
                    "orderStatusDate",
                    format!("{ms} is not a time in epoch milliseconds"),
                )
            })
        })
        .transpose()?;
    // Decision: `orderDetail`'s documented fields name no placement time; the order's own `orderDate`
    // where it has one, else its `orderNumbers` timestamp, else the time of its status.
    let placed_at = match (&o.order_date, listing, status_at) {
        (Some(d), _, _) => wire::parse_timestamp(d).map_err(|e| err("orderDate", e))?,
        (None, Some(l), _) => l.placed_at().map_err(|e| err("timestamp", e))?,
        (None, None, Some(t)) => t,
        (None, None, None) => return Err(missing("orderDate")),
    };
    let updated_at = status_at.unwrap_or(placed_at).max(placed_at);
    let raw_status = o
        .order_status
        .clone()
        .or_else(|| {
            listing
                .and_then(|l| l.status.as_ref())
                .map(|s| s.order_status.clone())
        })
        .ok_or_else(|| missing("orderStatus"))?;
    let zonos_status = ZonosStatus::parse(&raw_status);
    let currency: CurrencyCode = o
        .currency_code
        .as_deref()
        .ok_or_else(|| missing("currencyCode"))?
        .parse()
        .map_err(|e: crate::money::InvalidCurrency| err("currencyCode", e.to_string()))?;
    let total = o.grand_total.ok_or_else(|| missing("grandTotal"))?;

    let all_shipped = zonos_status == ZonosStatus::VendorEndOfDayComplete;
    let cancelled = zonos_status.unified() == UnifiedStatus::Cancelled;
    let mut line_items = Vec::with_capacity(o.items.len());
    for (i, item) in o.items.iter().enumerate() {
        let ordered = item
            .quantity
            .ok_or_else(|| missing(&format!("items[{i}].quantity")))?;
        let unit_price = item
            .unit_price
            .ok_or_else(|| missing(&format!("items[{i}].unitPrice")))?;
        line_items.push(LineItem {
            id: LineItemId::new(i.saturating_add(1).to_string()),
            sku: item.sku.clone().map(Into::into),
            product_id: item.product_id.clone().map(Into::into),
            title: item.description.clone().unwrap_or_default(),
            quantities: Quantities {
                ordered,
                shipped: if all_shipped { ordered } else { 0 },
                cancelled: if cancelled { ordered } else { 0 },
                delivered: 0,
                ..Quantities::default()
            },
            unit_price,
        });
    }

    let carrier = o
        .shipping_carrier_service_level
        .as_deref()
        .and_then(Carrier::from_zonos_service_level);
    let tracking_numbers: Vec<String> = o
        .tracking_list
        .iter()
        .map(|t| t.number.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    // Each number on the tracking list is one package. Zonos does not say which lines a package
    // carries, so a package names none; its id is its place on the list (`{order}-p1`, …), so a
    // number corrected in place is the same package with a new number.
    let shipments: Vec<Shipment> = tracking_numbers
        .into_iter()
        .enumerate()
        .map(|(i, number)| Shipment {
            id: ShipmentId::new(format!("{id}-p{}", i.saturating_add(1))),
            tracking_url: carrier.as_ref().and_then(|c| c.tracking_url(&number)),
            carrier: carrier.clone(),
            tracking_numbers: vec![number],
            line_items: Vec::new(),
            status: ShipmentStatus::Shipped,
            shipped_at: Some(updated_at),
            delivered_at: None,
        })
        .collect();

    let contact = Contact {
        name: o.shipping_name.as_ref().map(|n| n.expose().clone()),
        email: o.email.as_ref().map(|e| e.expose().clone()),
        phone: o.shipping_phone.as_ref().map(|p| p.expose().clone()),
    };
    let has_contact = contact.name.is_some() || contact.email.is_some() || contact.phone.is_some();
    let text = |v: &Option<Personal<String>>| v.as_ref().map(|p| p.expose().clone());
    let address = Address {
        name: text(&o.shipping_name),
        lines: [text(&o.shipping_address1), text(&o.shipping_address2)]
            .into_iter()
            .flatten()
            .collect(),
        city: text(&o.shipping_city),
        region: text(&o.shipping_state),
        region_code: None,
        postal_code: text(&o.shipping_zip),
        country: None,
        country_code: o.shipping_country.clone(),
        phone: text(&o.shipping_phone),
    };
    let has_address =
        !address.lines.is_empty() || address.city.is_some() || address.country_code.is_some();

    Ok(ChannelOrder {
        channel: Channel::Zonos,
        order_id: id.clone().into(),
        genstore_order_id: None,
        merchant_order_id: o
            .merchant_order_id
            .clone()
            .or_else(|| listing.and_then(|l| l.status.as_ref()?.merchant_order_id.clone()))
            .map(Into::into),
        source: None,
        customer_id: None,
        customer: has_contact.then(|| Personal::new(contact)),
        shipping_address: has_address.then(|| Personal::new(address)),
        billing_address: None,
        line_items,
        totals: Totals {
            currency,
            subtotal: o.items_total,
            shipping: o.shipping_total,
            tax: o.duty_taxes_total,
            discounts: None,
            total,
        },
        raw_status,
        status: zonos_status.unified(),
        shipments,
        refunds: Vec::new(),
        test_order: o
            .test_order
            .or_else(|| listing.map(|l| l.test_order))
            .unwrap_or(false),
        tags: Vec::new(),
        placed_at,
        updated_at,
        cancelled_at: cancelled.then_some(updated_at),
        cancel_reason: None,
        personal_data_erased: false,
    })
}
