//! Genstore orders into the domain (the mirror's body, the other way, is [`super::mirror`]).
//!
//! Quantities: `ordered` is the line's `quantity`; `cancelled` is `quantity - currentQuantity`;
//! `shipped` and `delivered` are summed from the live fulfillments that list the line. The unified status
//! comes from `financialStatus`, `fulfillmentStatus`, `cancelledAt` and what the fulfillments say of
//! delivery. `updatedAt` falls back to `createdAt` (an order never changed since it was made).

use super::wire::{self, Order};
use crate::carrier::Carrier;
use crate::channel::Channel;
use crate::error::MappingError;
use crate::ids::{GenstoreOrderId, LineItemId, RefundId, ShipmentId};
use crate::money::{CurrencyCode, Money};
use crate::order::{
    Address, CancelReason, ChannelOrder, Contact, LineItem, OrderSource, Quantities, Refund,
    Shipment, ShipmentLine, ShipmentStatus, Totals,
};
use crate::personal::Personal;
use crate::status::{self, Deliveries};
use rust_decimal::Decimal;

/// Reads a fulfillment's status and carrier-reported shipment status as one shipment status.
pub fn shipment_status(
    status: Option<&str>,
    shipment_status: Option<&str>,
) -> Result<ShipmentStatus, String> {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect::<String>()
    };
    let base = match status.map(norm).as_deref() {
        None | Some("pending" | "open") => ShipmentStatus::Pending,
        Some("success") => ShipmentStatus::Shipped,
        Some("cancelled" | "canceled") => ShipmentStatus::Cancelled,
        Some("failure" | "error") => ShipmentStatus::Failed,
        Some(_) => {
            return Err(format!(
                "unknown fulfillment status {:?} (expected pending, open, success, cancelled, error or failure)",
                status.unwrap_or_default()
            ))
        }
    };
    if !base.is_live() {
        return Ok(base);
    }
    Ok(match shipment_status.map(norm).as_deref() {
        Some("delivered") => ShipmentStatus::Delivered,
        Some("failure") => ShipmentStatus::Failed,
        Some("labelprinted" | "labelpurchased" | "confirmed")
            if base == ShipmentStatus::Pending =>
        {
            ShipmentStatus::Pending
        }
        Some(_) => ShipmentStatus::Shipped,
        None => base,
    })
}

struct Ctx<'a> {
    order: &'a str,
}

impl Ctx<'_> {
    fn missing(&self, field: impl Into<String>) -> MappingError {
        MappingError::missing(Channel::Genstore, self.order, field)
    }
    fn invalid(&self, field: impl Into<String>, reason: impl Into<String>) -> MappingError {
        MappingError::new(Channel::Genstore, self.order, field, reason)
    }
    /// The value, or the error naming the field (`field` is only written out when it is missing).
    fn required<T>(
        &self,
        value: Option<T>,
        field: impl FnOnce() -> String,
    ) -> Result<T, MappingError> {
        value.ok_or_else(|| self.missing(field()))
    }
}

/// A Genstore order in orderbridge's terms.
pub fn to_channel_order(o: &Order) -> Result<ChannelOrder, MappingError> {
    let order_id = o
        .order_id
        .clone()
        .ok_or_else(|| MappingError::missing(Channel::Genstore, "?", "orderId"))?;
    let cx = Ctx { order: &order_id };

    let currency: CurrencyCode = o
        .currency
        .as_deref()
        .ok_or_else(|| cx.missing("currency"))?
        .parse()
        .map_err(|e: crate::money::InvalidCurrency| cx.invalid("currency", e.to_string()))?;
    let total = o.total_price.ok_or_else(|| cx.missing("totalPrice"))?;
    let placed_at = o.created_at.ok_or_else(|| cx.missing("createdAt"))?;
    let updated_at = o.updated_at.unwrap_or(placed_at);

    let mut shipments = Vec::with_capacity(o.fulfillments.len());
    for (i, f) in o.fulfillments.iter().enumerate() {
        shipments.push(to_shipment(&cx, i, f)?);
    }

    let mut line_items = Vec::with_capacity(o.line_items.len());
    for (i, l) in o.line_items.iter().enumerate() {
        let id = cx.required(l.id.clone(), || format!("lineItems[{i}].id"))?;
        let ordered = cx.required(l.quantity, || format!("lineItems[{i}].quantity"))?;
        let unit_price = cx.required(l.price, || format!("lineItems[{i}].price"))?;
        let cancelled = l.current_quantity.map_or(0, |c| ordered.saturating_sub(c));
        let id = LineItemId::new(id);
        let count = |wanted: fn(ShipmentStatus) -> bool| {
            shipments
                .iter()
                .filter(|s| wanted(s.status))
                .flat_map(|s| &s.line_items)
                .filter(|sl| sl.line_item_id == id)
                .fold(0u32, |acc, sl| acc.saturating_add(sl.quantity))
        };
        let shipped = count(|s| matches!(s, ShipmentStatus::Shipped | ShipmentStatus::Delivered));
        let delivered = count(|s| s == ShipmentStatus::Delivered);
        line_items.push(LineItem {
            id,
            sku: l.sku.clone().map(Into::into),
            product_id: l.product_id.clone().map(Into::into),
            title: l.title.clone().unwrap_or_default(),
            quantities: Quantities {
                ordered,
                shipped,
                cancelled,
                delivered,
                ..Quantities::default()
            },
            unit_price,
        });
    }

    let live: Vec<&Shipment> = shipments
        .iter()
        .filter(|s| {
            matches!(
                s.status,
                ShipmentStatus::Shipped | ShipmentStatus::Delivered
            )
        })
        .collect();
    let delivered = live
        .iter()
        .filter(|s| s.status == ShipmentStatus::Delivered)
        .count();
    let deliveries = match delivered {
        0 => Deliveries::None,
        n if n == live.len() => Deliveries::All,
        _ => Deliveries::Some,
    };
    let status = status::from_genstore(
        o.financial_status.as_deref(),
        o.fulfillment_status.as_deref(),
        o.cancelled_at.is_some(),
        deliveries,
    );
    let raw_status = format!(
        "financialStatus={}; fulfillmentStatus={}{}",
        o.financial_status.as_deref().unwrap_or("null"),
        o.fulfillment_status.as_deref().unwrap_or("null"),
        if o.cancelled_at.is_some() {
            "; cancelled"
        } else {
            ""
        }
    );

    let mut refunds = Vec::with_capacity(o.refunds.len());
    for (i, r) in o.refunds.iter().enumerate() {
        refunds.push(to_refund(r, &currency).map_err(|e| MappingError {
            field: format!("refunds[{i}].{}", e.field),
            ..e
        })?);
    }

    let shipping = if o.shipping_lines.is_empty() {
        None
    } else {
        Some(
            crate::money::checked_sum(o.shipping_lines.iter().filter_map(|s| s.price))
                .ok_or_else(|| cx.invalid("shippingLines.price", crate::money::OVERFLOW))?,
        )
    };

    Ok(ChannelOrder {
        channel: Channel::Genstore,
        order_id: order_id.clone().into(),
        genstore_order_id: Some(GenstoreOrderId::new(order_id.clone())),
        merchant_order_id: None,
        source: o.source_name.as_ref().map(|name| OrderSource {
            name: name.clone(),
            identifier: o.source_identifier.clone(),
        }),
        customer_id: o
            .customer
            .as_ref()
            .and_then(|c| c.id.clone())
            .map(Into::into),
        customer: contact(o),
        shipping_address: o
            .shipping_address
            .as_ref()
            .map(|a| a.clone().map(to_address)),
        billing_address: o
            .billing_address
            .as_ref()
            .map(|a| a.clone().map(to_address)),
        line_items,
        totals: Totals {
            currency,
            subtotal: o.subtotal_price,
            shipping,
            tax: o.total_tax,
            discounts: o.total_discounts,
            total,
        },
        raw_status,
        status,
        shipments,
        refunds,
        test_order: false,
        tags: super::mirror::tags_of(o.tags.as_deref())
            .map(str::to_owned)
            .collect(),
        placed_at,
        updated_at,
        cancelled_at: o.cancelled_at,
        cancel_reason: o
            .cancel_reason
            .as_deref()
            .filter(|_| o.cancelled_at.is_some())
            .map(CancelReason::from_genstore),
        personal_data_erased: false,
    })
}

fn to_shipment(cx: &Ctx<'_>, i: usize, f: &wire::Fulfillment) -> Result<Shipment, MappingError> {
    let id = cx.required(f.fulfill_id.clone(), || {
        format!("fulfillments[{i}].fulfillId")
    })?;
    let status = shipment_status(f.status.as_deref(), f.shipment_status.as_deref())
        .map_err(|e| cx.invalid(format!("fulfillments[{i}].status"), e))?;
    let mut lines = Vec::with_capacity(f.line_items.len());
    for (j, l) in f.line_items.iter().enumerate() {
        let at = || format!("fulfillments[{i}].lineItems[{j}]");
        let line_item_id = cx.required(l.id.clone(), || format!("{}.id", at()))?;
        let quantity = cx.required(l.quantity, || format!("{}.quantity", at()))?;
        lines.push(ShipmentLine::new(line_item_id, quantity));
    }
    let tracking = f.tracking_info.clone().unwrap_or_default();
    let carrier = tracking
        .company
        .as_deref()
        .and_then(Carrier::from_genstore_company);
    let tracking_numbers: Vec<String> = tracking.number.into_iter().collect();
    let tracking_url = tracking.url.or_else(|| {
        let c = carrier.as_ref()?;
        c.tracking_url(tracking_numbers.first()?)
    });
    Ok(Shipment {
        id: ShipmentId::new(id),
        carrier,
        tracking_numbers,
        tracking_url,
        line_items: lines,
        status,
        shipped_at: f.created_at,
        delivered_at: (status == ShipmentStatus::Delivered)
            .then_some(f.updated_at)
            .flatten(),
    })
}

/// A Genstore refund in orderbridge's terms; `currency` is the order's, used where a transaction names
/// none.
pub fn to_refund(r: &wire::Refund, currency: &CurrencyCode) -> Result<Refund, MappingError> {
    let order = r.order_id.clone().unwrap_or_else(|| "?".to_owned());
    let mut amount: Option<Decimal> = None;
    let mut refund_currency = currency.clone();
    for (i, t) in r.transactions.iter().enumerate() {
        if let Some(a) = t.amount {
            amount = Some(amount.unwrap_or_default().checked_add(a).ok_or_else(|| {
                MappingError::new(
                    Channel::Genstore,
                    order.clone(),
                    format!("transactions[{i}].amount"),
                    crate::money::OVERFLOW,
                )
            })?);
        }
        if let Some(c) = t.currency.as_deref() {
            refund_currency = c.parse().map_err(|e: crate::money::InvalidCurrency| {
                MappingError::new(
                    Channel::Genstore,
                    order.clone(),
                    format!("transactions[{i}].currency"),
                    e.to_string(),
                )
            })?;
        }
    }
    let mut lines = Vec::with_capacity(r.refund_line_items.len());
    for (i, l) in r.refund_line_items.iter().enumerate() {
        let id = l.line_item_id.clone().ok_or_else(|| {
            MappingError::missing(
                Channel::Genstore,
                order.clone(),
                format!("refundLineItems[{i}].lineItemId"),
            )
        })?;
        lines.push(ShipmentLine {
            line_item_id: id.into(),
            quantity: l.quantity.unwrap_or(0),
            amount: l.subtotal,
        });
    }
    Ok(Refund {
        id: r.refund_id.clone().map(RefundId::new),
        amount: amount.map(|a| Money::new(a, refund_currency)),
        line_items: lines,
        reason: r.note.clone(),
        created_at: r.created_at,
        echo_of: None,
    })
}

fn contact(o: &Order) -> Option<Personal<Contact>> {
    let customer = o.customer.as_ref();
    let first = customer
        .and_then(|c| c.first_name.as_ref())
        .map(|p| p.expose().as_str());
    let last = customer
        .and_then(|c| c.last_name.as_ref())
        .map(|p| p.expose().as_str());
    let name = match (first, last) {
        (None, None) => o
            .shipping_address
            .as_ref()
            .and_then(|a| a.expose().name.clone()),
        (f, l) => Some([f, l].into_iter().flatten().collect::<Vec<_>>().join(" ")),
    };
    let email = o
        .email
        .as_ref()
        .or_else(|| customer.and_then(|c| c.email.as_ref()))
        .map(|p| p.expose().clone());
    let phone = o
        .phone
        .as_ref()
        .or_else(|| customer.and_then(|c| c.phone.as_ref()))
        .map(|p| p.expose().clone());
    (name.is_some() || email.is_some() || phone.is_some())
        .then(|| Personal::new(Contact { name, email, phone }))
}

fn to_address(a: wire::Address) -> Address {
    let name = a.name.or_else(|| {
        let joined = [a.first_name, a.last_name]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!joined.is_empty()).then_some(joined)
    });
    Address {
        name,
        lines: [a.address1, a.address2].into_iter().flatten().collect(),
        city: a.city,
        region: a.province,
        region_code: a.province_code,
        postal_code: a.zip,
        country: a.country,
        country_code: a.country_code,
        phone: a.phone,
    }
}

pub use super::mirror::{
    held, is_held, mirror_request, mirror_update, HOLD_TAG, REFUNDED_TAG, RETURNED_TAG,
    RETURN_OPEN_TAG,
};
