//! Google orders into the domain.
//!
//! Google orders carry no `updatedAt`: the order's time is the latest of its dated events (placement,
//! shipments created and delivered, cancellations, refunds). A line's SKU is the product's `offerId` (the
//! merchant's own id); its unit price is the product price, or the line total divided by the quantity.

use super::wire::{self, Order};
use crate::carrier::Carrier;
use crate::channel::Channel;
use crate::error::MappingError;
use crate::ids::{LineItemId, RefundId, ShipmentId};
use crate::money::{CurrencyCode, Money};
use crate::order::{
    Address, CancelReason, ChannelOrder, Contact, LineItem, Quantities, Refund, Shipment,
    ShipmentLine, ShipmentStatus, Totals,
};
use crate::personal::Personal;
use crate::status;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

/// Reads Google's ISO 8601 dates: a full timestamp, or a date alone (midnight UTC).
pub fn parse_date(raw: &str) -> Result<DateTime<Utc>, String> {
    let t = raw.trim();
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| format!("{raw:?} is not an ISO 8601 date"))
}

/// A Google shipment status as a shipment status.
pub fn shipment_status(raw: Option<&str>) -> Result<ShipmentStatus, String> {
    match raw.map(str::trim) {
        None | Some("shipped") | Some("readyForPickup") => Ok(ShipmentStatus::Shipped),
        Some("delivered") => Ok(ShipmentStatus::Delivered),
        Some("undeliverable") => Ok(ShipmentStatus::Failed),
        Some(other) => Err(format!(
            "unknown shipment status {other:?} (expected shipped, delivered, undeliverable or readyForPickup)"
        )),
    }
}

/// A Google order in orderbridge's terms.
pub fn to_channel_order(o: &Order) -> Result<ChannelOrder, MappingError> {
    let id =
        o.id.clone()
            .ok_or_else(|| MappingError::missing(Channel::Google, "?", "id"))?;
    let err = |field: String, reason: String| {
        MappingError::new(Channel::Google, id.clone(), field, reason)
    };
    let missing = |field: String| MappingError::missing(Channel::Google, id.clone(), field);
    let date =
        |field: String, raw: &Option<String>| -> Result<Option<DateTime<Utc>>, MappingError> {
            raw.as_deref()
                .map(|r| parse_date(r).map_err(|e| err(field, e)))
                .transpose()
        };

    let placed_at =
        date("placedDate".into(), &o.placed_date)?.ok_or_else(|| missing("placedDate".into()))?;
    let raw_status = o.status.clone().ok_or_else(|| missing("status".into()))?;

    let currency_text = o
        .net_price_amount
        .as_ref()
        .and_then(|p| p.currency.clone())
        .or_else(|| {
            o.line_items
                .iter()
                .find_map(|l| l.price.as_ref()?.currency.clone())
        })
        .ok_or_else(|| missing("netPriceAmount.currency".into()))?;
    let currency: CurrencyCode =
        currency_text
            .parse()
            .map_err(|e: crate::money::InvalidCurrency| {
                err("netPriceAmount.currency".into(), e.to_string())
            })?;

    let mut latest = placed_at;
    let mut cancel_reason: Option<(Option<DateTime<Utc>>, CancelReason)> = None;
    let mut line_items = Vec::with_capacity(o.line_items.len());
    for (i, l) in o.line_items.iter().enumerate() {
        let line_id =
            l.id.clone()
                .ok_or_else(|| missing(format!("lineItems[{i}].id")))?;
        let ordered = l
            .quantity_ordered
            .ok_or_else(|| missing(format!("lineItems[{i}].quantityOrdered")))?;
        let product = l.product.clone().unwrap_or_default();
        let unit_price = match (
            product.price.as_ref().and_then(|p| p.value),
            l.price.as_ref().and_then(|p| p.value),
        ) {
            (Some(unit), _) => unit,
            (None, Some(total)) if ordered > 0 => {
                total.checked_div(Decimal::from(ordered)).ok_or_else(|| {
                    MappingError::new(
                        Channel::Google,
                        id.clone(),
                        format!("lineItems[{i}].price"),
                        crate::money::OVERFLOW,
                    )
                })?
            }
            _ => return Err(missing(format!("lineItems[{i}].product.price"))),
        };
        for (j, c) in l.cancellations.iter().enumerate() {
            let at = date(
                format!("lineItems[{i}].cancellations[{j}].creationDate"),
                &c.creation_date,
            )?;
            latest = at.map_or(latest, |t| latest.max(t));
            // The reason of the latest cancellation (undated ones count as earliest).
            if let Some(r) = c.reason.as_deref() {
                if cancel_reason.as_ref().is_none_or(|(when, _)| at >= *when) {
                    cancel_reason = Some((at, CancelReason::from_google(r)));
                }
            }
        }
        let mut return_requested = 0u32;
        for (j, r) in l.returns.iter().enumerate() {
            let field = format!("lineItems[{i}].returns[{j}].creationDate");
            let at = date(field, &r.creation_date)?;
            latest = at.map_or(latest, |t| latest.max(t));
            return_requested = return_requested.saturating_add(r.quantity.unwrap_or(0));
        }
        let returned = l.quantity_returned.unwrap_or(0);
        line_items.push(LineItem {
            id: LineItemId::new(line_id),
            sku: product.offer_id.clone().map(Into::into),
            product_id: product.id.clone().map(Into::into),
            title: product.title.clone().unwrap_or_default(),
            quantities: Quantities {
                ordered,
                shipped: l.quantity_shipped.unwrap_or(0),
                cancelled: l.quantity_canceled.unwrap_or(0),
                delivered: l.quantity_delivered.unwrap_or(0),
                returned,
                // A unit received back was asked for, whether or not its return is listed.
                return_requested: return_requested.max(returned),
            },
            unit_price,
        });
    }

    let mut shipments = Vec::with_capacity(o.shipments.len());
    for (i, s) in o.shipments.iter().enumerate() {
        let sid =
            s.id.clone()
                .ok_or_else(|| missing(format!("shipments[{i}].id")))?;
        let status = shipment_status(s.status.as_deref())
            .map_err(|e| err(format!("shipments[{i}].status"), e))?;
        let shipped_at = date(format!("shipments[{i}].creationDate"), &s.creation_date)?;
        let delivered_at = date(format!("shipments[{i}].deliveryDate"), &s.delivery_date)?;
        latest = [Some(latest), shipped_at, delivered_at]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(latest);
        let carrier = s.carrier.as_deref().and_then(Carrier::from_google_code);
        let tracking_numbers: Vec<String> = s.tracking_id.iter().cloned().collect();
        let mut lines = Vec::with_capacity(s.line_items.len());
        for (j, sl) in s.line_items.iter().enumerate() {
            let line = sl
                .line_item_id
                .clone()
                .or_else(|| {
                    let pid = sl.product_id.as_deref()?;
                    line_items
                        .iter()
                        .find(|l| l.product_id.as_ref().is_some_and(|p| p.as_str() == pid))
                        .map(|l| l.id.as_str().to_owned())
                })
                .ok_or_else(|| missing(format!("shipments[{i}].lineItems[{j}].lineItemId")))?;
            lines.push(ShipmentLine::new(line, sl.quantity));
        }
        shipments.push(Shipment {
            id: ShipmentId::new(sid),
            tracking_url: carrier
                .as_ref()
                .zip(tracking_numbers.first())
                .and_then(|(c, n)| c.tracking_url(n)),
            carrier,
            tracking_numbers,
            line_items: lines,
            status,
            shipped_at,
            delivered_at,
        });
    }

    let mut refunds = Vec::with_capacity(o.refunds.len());
    for (i, r) in o.refunds.iter().enumerate() {
        let created_at = date(format!("refunds[{i}].creationDate"), &r.creation_date)?;
        if let Some(t) = created_at {
            latest = latest.max(t);
        }
        let amount = match r.amount.as_ref() {
            Some(wire::Price {
                value: Some(v),
                currency: c,
            }) => {
                let cur: CurrencyCode = match c {
                    Some(c) => c.parse().map_err(|e: crate::money::InvalidCurrency| {
                        err(format!("refunds[{i}].amount.currency"), e.to_string())
                    })?,
                    None => currency.clone(),
                };
                Some(Money::new(*v, cur))
            }
            _ => None,
        };
        refunds.push(Refund {
            // Google's refunds carry no id; they are only ever added to, so a refund's place on the
            // list names it.
            id: Some(RefundId::new(format!("google-{}", i.saturating_add(1)))),
            amount,
            line_items: Vec::new(),
            reason: r.reason.clone().map(crate::personal::Personal::new),
            created_at,
            echo_of: r.reason_text.as_deref().and_then(echo_of),
        });
    }

    let price = |p: &Option<wire::Price>| p.as_ref().and_then(|p| p.value);
    let net_price = price(&o.net_price_amount);
    let net_tax = price(&o.net_tax_amount);
    let overflow =
        |field: &str| MappingError::new(Channel::Google, id.clone(), field, crate::money::OVERFLOW);
    let line_prices = o
        .line_items
        .iter()
        .map(|l| l.price.as_ref().and_then(|p| p.value))
        .collect::<Option<Vec<Decimal>>>();
    let subtotal = match line_prices {
        Some(prices) => {
            Some(crate::money::checked_sum(prices).ok_or_else(|| overflow("lineItems.price"))?)
        }
        None => None,
    };
    // Decision (the reference describes none of these amounts): `netPriceAmount` is the lines' price
    // part less promotions and less what was refunded since, `shippingCost` and its
    // `shippingCostTax` come on top. What the customer paid is the net price with the refunds added
    // back, plus tax and shipping; promotions (their objects are not in the reference) show as the
    // difference between the lines' prices and that net price.
    let Some(net_price) = net_price else {
        return Err(missing("netPriceAmount.value".into()));
    };
    let refunded = crate::money::checked_sum(
        refunds
            .iter()
            .filter_map(|r| r.amount.as_ref())
            .filter(|m| m.currency == currency)
            .map(|m| m.amount),
    )
    .ok_or_else(|| overflow("refunds.amount"))?;
    let paid_price = net_price
        .checked_add(refunded)
        .ok_or_else(|| overflow("netPriceAmount.value"))?;
    let shipping = price(&o.shipping_cost);
    let tax = match (net_tax, price(&o.shipping_cost_tax)) {
        (None, None) => None,
        (a, b) => Some(
            a.unwrap_or_default()
                .checked_add(b.unwrap_or_default())
                .ok_or_else(|| overflow("shippingCostTax.value"))?,
        ),
    };
    let discounts = subtotal
        .and_then(|s| s.checked_sub(paid_price))
        .filter(|d| *d > Decimal::ZERO);
    let total = crate::money::checked_sum([
        paid_price,
        tax.unwrap_or_default(),
        shipping.unwrap_or_default(),
    ])
    .ok_or_else(|| overflow("netPriceAmount.value"))?;

    let delivery = o.delivery_details.as_ref().map(|d| d.expose());
    let address = delivery.and_then(|d| d.address.as_ref()).map(to_address);
    let customer = o.customer.as_ref();
    let contact = Contact {
        name: customer
            .and_then(|c| c.full_name.as_ref())
            .map(|n| n.expose().clone())
            .or_else(|| address.as_ref().and_then(|a| a.name.clone())),
        email: customer
            .and_then(|c| c.invoice_receiving_email.as_ref())
            .map(|e| e.expose().clone()),
        phone: delivery.and_then(|d| d.phone_number.clone()),
    };
    let has_contact = contact.name.is_some() || contact.email.is_some() || contact.phone.is_some();
    let unified = status::from_google(&raw_status);

    Ok(ChannelOrder {
        channel: Channel::Google,
        order_id: id.clone().into(),
        genstore_order_id: None,
        merchant_order_id: o.merchant_order_id.clone().map(Into::into),
        source: None,
        customer_id: None,
        customer: has_contact.then(|| Personal::new(contact)),
        shipping_address: address.map(Personal::new),
        billing_address: o
            .billing_address
            .as_ref()
            .map(|a| Personal::new(to_address(a.expose()))),
        line_items,
        totals: Totals {
            currency,
            subtotal,
            shipping,
            tax,
            discounts,
            total,
        },
        raw_status,
        status: unified,
        shipments,
        refunds,
        test_order: false,
        tags: Vec::new(),
        placed_at,
        updated_at: latest,
        cancelled_at: (unified == crate::UnifiedStatus::Cancelled).then_some(latest),
        cancel_reason: cancel_reason.map(|(_, r)| r),
        personal_data_erased: false,
    })
}

/// How a refund orderbridge pushed to Google names the Genstore refund it came from, at the start of its
/// `reasonText` (see [`super::requests::refund`]).
pub const ECHO_PREFIX: &str = "Genstore refund ";

/// The Genstore refund a Google refund's `reasonText` says it was pushed from.
fn echo_of(reason_text: &str) -> Option<RefundId> {
    let rest = reason_text.strip_prefix(ECHO_PREFIX)?;
    let id = rest.split(|c: char| c == ':' || c.is_whitespace()).next()?;
    (!id.is_empty()).then(|| RefundId::new(id))
}

fn to_address(a: &wire::Address) -> Address {
    Address {
        name: a.recipient_name.clone(),
        lines: a.street_address.clone(),
        city: a.locality.clone(),
        region: a.region.clone(),
        region_code: None,
        postal_code: a.postal_code.clone(),
        country: None,
        country_code: a.country.clone(),
        phone: None,
    }
}
