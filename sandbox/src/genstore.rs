//! Simulated Genstore (`/genstore/api/202412`): orders and fulfillments, the access-token header, the
//! 40-token bucket refilling 2/s (429 when empty), `Link` / `pageToken` pagination (limit ≤ 250; a
//! request with `pageToken` may carry nothing else but `limit`), `{"error": …}` bodies, and a webhook
//! on every order change.

use crate::{now_seconds, platform_error};
use axum::http::StatusCode;
use axum::response::Response;
use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::wire as gw;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;

pub(crate) type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock>;

/// A webhook to send after the state lock is released.
pub type Event = (&'static str, Value);

/// Genstore's orders and fulfillments.
pub struct GenstoreState {
    /// Orders by numeric id.
    pub orders: BTreeMap<u64, gw::Order>,
    next_order: u64,
    next_line: u64,
    next_fulfillment: u64,
    next_refund: u64,
    fulfillment_order: HashMap<String, u64>,
    pub(crate) page_tokens: HashMap<String, (Filter, u64)>,
    pub(crate) limiter: Limiter,
}

impl GenstoreState {
    /// Replaces the app's rate limit (Genstore's is 40 tokens refilling 2 a second), e.g. to run a test
    /// at a faster clock; the bucket starts full.
    pub fn set_rate_limit(&mut self, per_second: u32, burst: u32) {
        let quota = Quota::per_second(NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        self.limiter = RateLimiter::direct(quota);
    }
}

impl Default for GenstoreState {
    fn default() -> Self {
        let quota = Quota::per_second(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(40).unwrap_or(NonZeroU32::MIN));
        GenstoreState {
            orders: BTreeMap::new(),
            next_order: 1001,
            next_line: 10_001,
            next_fulfillment: 50_001,
            next_refund: 70_001,
            fulfillment_order: HashMap::new(),
            page_tokens: HashMap::new(),
            limiter: RateLimiter::direct(quota),
        }
    }
}

/// A Genstore refusal: status and message.
pub type Refusal = (StatusCode, String);

pub(crate) fn refuse(status: StatusCode, m: impl Into<String>) -> Refusal {
    (status, m.into())
}

pub(crate) fn respond(r: Refusal) -> Response {
    platform_error(Channel::Genstore, r.0, &r.1)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) since_id: Option<u64>,
    pub(crate) financial_status: Option<String>,
    pub(crate) fulfillment_status: Option<String>,
}

/// A line and quantity of a fulfillment to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineQty {
    /// Line id.
    pub id: String,
    /// Quantity.
    pub quantity: u32,
}

pub(crate) fn line_quantity(l: &gw::LineItem) -> u32 {
    l.current_quantity.or(l.quantity).unwrap_or(0)
}

pub(crate) fn live(f: &gw::Fulfillment) -> bool {
    !matches!(f.status.as_deref(), Some("cancelled" | "failure" | "error"))
}

impl GenstoreState {
    /// The order with an id.
    pub fn order(&self, id: &str) -> Option<&gw::Order> {
        id.parse::<u64>().ok().and_then(|n| self.orders.get(&n))
    }

    fn shipped(order: &gw::Order, line_id: &str) -> u32 {
        order
            .fulfillments
            .iter()
            .filter(|f| live(f))
            .flat_map(|f| &f.line_items)
            .filter(|l| l.id.as_deref() == Some(line_id))
            .map(|l| l.quantity.unwrap_or(0))
            .sum()
    }

    /// Recomputes fulfillable quantities and the order's fulfillment status.
    fn recompute(order: &mut gw::Order) {
        let snapshot = order.clone();
        let mut any = false;
        let mut all = !order.line_items.is_empty();
        for l in &mut order.line_items {
            let id = l.id.clone().unwrap_or_default();
            let shipped = Self::shipped(&snapshot, &id);
            let remaining = line_quantity(l).saturating_sub(shipped);
            l.fulfillable_quantity = Some(remaining);
            l.fulfillment_status = Some(
                if remaining == 0 {
                    "fulfilled"
                } else if shipped > 0 {
                    "partial"
                } else {
                    "unfulfilled"
                }
                .into(),
            );
            any |= shipped > 0;
            all &= remaining == 0;
        }
        order.fulfillment_status = match (any, all) {
            (_, true) => Some("fulfilled".into()),
            (true, false) => Some("partial".into()),
            (false, false) => None,
        };
    }

    /// Creates an order (from the API or the control API); returns it and its webhooks.
    pub fn create_order(&mut self, new: &gw::NewOrder) -> Result<(gw::Order, Vec<Event>), Refusal> {
        if new.line_items.is_empty() {
            return Err(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "lineItems must not be empty",
            ));
        }
        if new
            .currency
            .parse::<orderbridge::money::CurrencyCode>()
            .is_err()
        {
            return Err(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "currency is not a currency code",
            ));
        }
        let mut lines = Vec::new();
        for (i, l) in new.line_items.iter().enumerate() {
            if l.quantity == 0 {
                return Err(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("lineItems[{i}].quantity must be at least 1"),
                ));
            }
            if l.price < Decimal::ZERO {
                return Err(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("lineItems[{i}].price must not be negative"),
                ));
            }
            let id = self.next_line;
            self.next_line += 1;
            lines.push(gw::LineItem {
                id: Some(id.to_string()),
                title: Some(l.title.clone()),
                sku: l.sku.clone(),
                product_id: l.product_id.clone(),
                quantity: Some(l.quantity),
                current_quantity: Some(l.quantity),
                fulfillable_quantity: Some(l.quantity),
                fulfillment_status: Some("unfulfilled".into()),
                price: Some(l.price),
                requires_shipping: Some(true),
                ..gw::LineItem::default()
            });
        }
        let subtotal: Decimal = new
            .line_items
            .iter()
            .map(|l| l.price * Decimal::from(l.quantity))
            .sum();
        let total = new
            .total_price
            .unwrap_or(subtotal + new.total_tax.unwrap_or_default());
        let id = self.next_order;
        self.next_order += 1;
        let now = now_seconds();
        let order = gw::Order {
            order_id: Some(id.to_string()),
            note: new.note.clone().map(orderbridge::Personal::new),
            source_name: Some(new.source_name.clone()).filter(|s| !s.is_empty()),
            source_identifier: Some(new.source_identifier.clone()).filter(|s| !s.is_empty()),
            financial_status: Some(
                new.financial_status
                    .clone()
                    .unwrap_or_else(|| "pending".into()),
            ),
            currency: Some(new.currency.clone()),
            total_price: Some(total),
            subtotal_price: Some(subtotal),
            total_line_items_price: Some(subtotal),
            total_tax: new.total_tax,
            tags: new.tags.clone(),
            email: new.email.clone(),
            shipping_address: new.shipping_address.clone(),
            line_items: lines,
            created_at: Some(now),
            updated_at: Some(now),
            ..gw::Order::default()
        };
        self.orders.insert(id, order.clone());
        let mut events = vec![("orders/create", order_json(&order))];
        if order.financial_status.as_deref() == Some("paid") {
            events.push(("orders/paid", order_json(&order)));
        }
        Ok((order, events))
    }

    /// Creates a fulfillment; `lines` none means everything still fulfillable.
    pub fn create_fulfillment(
        &mut self,
        order_id: &str,
        lines: Option<Vec<LineQty>>,
        tracking: Option<gw::TrackingInfo>,
        shipment_status: Option<String>,
    ) -> Result<(gw::Fulfillment, Vec<Event>), Refusal> {
        let key = order_id
            .parse::<u64>()
            .map_err(|_| refuse(StatusCode::NOT_FOUND, "Not Found"))?;
        let order = self
            .orders
            .get_mut(&key)
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "Not Found"))?;
        if order.cancelled_at.is_some() {
            return Err(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "order is cancelled",
            ));
        }
        let wanted: Vec<LineQty> = match lines {
            Some(l) if !l.is_empty() => l,
            _ => order
                .line_items
                .iter()
                .filter_map(|l| {
                    let q = l.fulfillable_quantity.unwrap_or(0);
                    (q > 0).then(|| LineQty {
                        id: l.id.clone().unwrap_or_default(),
                        quantity: q,
                    })
                })
                .collect(),
        };
        if wanted.is_empty() {
            return Err(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "nothing left to fulfill",
            ));
        }
        for (i, w) in wanted.iter().enumerate() {
            let line = order
                .line_items
                .iter()
                .find(|l| l.id.as_deref() == Some(w.id.as_str()))
                .ok_or_else(|| {
                    refuse(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("lineItems[{i}].id {} is not a line of this order", w.id),
                    )
                })?;
            let fulfillable = line.fulfillable_quantity.unwrap_or(0);
            if w.quantity == 0 || w.quantity > fulfillable {
                return Err(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "lineItems[{i}].quantity {} exceeds the fulfillable quantity {fulfillable}",
                        w.quantity
                    ),
                ));
            }
        }
        let fid = self.next_fulfillment.to_string();
        self.next_fulfillment += 1;
        let now = now_seconds();
        let fulfillment = gw::Fulfillment {
            fulfill_id: Some(fid.clone()),
            order_id: Some(order_id.to_owned()),
            status: Some("success".into()),
            shipment_status,
            line_items: wanted
                .iter()
                .map(|w| gw::LineQuantity {
                    id: Some(w.id.clone()),
                    quantity: Some(w.quantity),
                })
                .collect(),
            tracking_info: tracking,
            created_at: Some(now),
            updated_at: Some(now),
        };
        order.fulfillments.push(fulfillment.clone());
        Self::recompute(order);
        order.updated_at = Some(now);
        let topic = if order.fulfillment_status.as_deref() == Some("fulfilled") {
            "orders/fulfilled"
        } else {
            "orders/partiallyFulfilled"
        };
        let events = vec![(topic, order_json(order))];
        self.fulfillment_order.insert(fid, key);
        Ok((fulfillment, events))
    }

    fn fulfillment_mut(&mut self, fid: &str) -> Result<(&mut gw::Order, usize), Refusal> {
        let key = *self
            .fulfillment_order
            .get(fid)
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "Not Found"))?;
        let order = self
            .orders
            .get_mut(&key)
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "Not Found"))?;
        let idx = order
            .fulfillments
            .iter()
            .position(|f| f.fulfill_id.as_deref() == Some(fid))
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "Not Found"))?;
        Ok((order, idx))
    }

    /// Changes a fulfillment with `change`; stamps the order and returns `orders/update`.
    pub fn change_fulfillment(
        &mut self,
        fid: &str,
        change: impl FnOnce(&mut gw::Fulfillment) -> Result<(), Refusal>,
    ) -> Result<(gw::Fulfillment, Vec<Event>), Refusal> {
        let (order, idx) = self.fulfillment_mut(fid)?;
        change(&mut order.fulfillments[idx])?;
        let now = now_seconds();
        order.fulfillments[idx].updated_at = Some(now);
        Self::recompute(order);
        order.updated_at = Some(now);
        Ok((
            order.fulfillments[idx].clone(),
            vec![("orders/update", order_json(order))],
        ))
    }

    /// Cancels an order.
    pub fn cancel_order(
        &mut self,
        id: &str,
        reason: &str,
    ) -> Result<(gw::Order, Vec<Event>), Refusal> {
        let key = id
            .parse::<u64>()
            .map_err(|_| refuse(StatusCode::NOT_FOUND, "Not Found"))?;
        let order = self
            .orders
            .get_mut(&key)
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "Not Found"))?;
        if order.cancelled_at.is_none() {
            let now = now_seconds();
            order.cancelled_at = Some(now);
            order.cancel_reason = Some(reason.to_owned());
            order.updated_at = Some(now);
        }
        Ok((order.clone(), vec![("orders/cancelled", order_json(order))]))
    }

    /// Refunds lines of an order.
    pub fn refund(
        &mut self,
        id: &str,
        lines: &[LineQty],
        note: &str,
    ) -> Result<(gw::Refund, Vec<Event>), Refusal> {
        let key = id
            .parse::<u64>()
            .map_err(|_| refuse(StatusCode::NOT_FOUND, "Not Found"))?;
        let refund_id = self.next_refund.to_string();
        let order = self
            .orders
            .get_mut(&key)
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "Not Found"))?;
        let mut refund_lines = Vec::new();
        let mut amount = Decimal::ZERO;
        for l in lines {
            let line = order
                .line_items
                .iter()
                .find(|x| x.id.as_deref() == Some(l.id.as_str()))
                .ok_or_else(|| {
                    refuse(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("line {} is not on this order", l.id),
                    )
                })?;
            let subtotal = line.price.unwrap_or_default() * Decimal::from(l.quantity);
            amount += subtotal;
            refund_lines.push(gw::RefundLineItem {
                line_item_id: Some(l.id.clone()),
                quantity: Some(l.quantity),
                subtotal: Some(subtotal),
            });
        }
        let now = now_seconds();
        let refund = gw::Refund {
            refund_id: Some(refund_id),
            order_id: Some(id.to_owned()),
            created_at: Some(now),
            note: Some(orderbridge::Personal::new(note.to_owned())),
            refund_line_items: refund_lines,
            transactions: vec![gw::RefundTransaction {
                amount: Some(amount),
                currency: order.currency.clone(),
            }],
        };
        self.next_refund += 1;
        order.refunds.push(refund.clone());
        let total = order.total_price.unwrap_or_default();
        let refunded: Decimal = order
            .refunds
            .iter()
            .flat_map(|r| &r.transactions)
            .filter_map(|t| t.amount)
            .sum();
        order.financial_status = Some(
            if refunded >= total {
                "refunded"
            } else {
                "partially_refunded"
            }
            .into(),
        );
        order.updated_at = Some(now);
        Ok((
            refund.clone(),
            vec![
                ("refunds/create", to_json(&refund)),
                ("orders/update", order_json(order)),
            ],
        ))
    }
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// An order as the sandbox sends it (answers and webhook bodies), checked against the documented order
/// shape first ([`check_order_answer`](crate::genstore_requests::check_order_answer)). A name the
/// documents do not have is the sandbox's fault: the order is replaced by `{"sandboxFault": …}`, which
/// no client reads as an order, and the fault is printed, so the test that met it fails there.
///
/// The sandbox keeps an order's refunds beside it (its financial status follows them), but the
/// documented order has no `refunds`: a refund reaches a client as `refunds/create` only.
pub(crate) fn order_json(o: &gw::Order) -> Value {
    let mut v = to_json(o);
    if let Some(obj) = v.as_object_mut() {
        obj.remove("refunds");
    }
    match crate::genstore_requests::check_order_answer(&v) {
        Ok(()) => v,
        Err(why) => {
            eprintln!("sandbox (genstore): an order it sends does not match the documents: {why}");
            json!({ "sandboxFault": why })
        }
    }
}

pub use crate::genstore_routes::routes;
