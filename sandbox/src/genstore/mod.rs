//! Simulated Genstore (`/genstore/api/202412`): orders and fulfillments, the access-token header, the
//! 40-token bucket refilling 2/s (429 when empty), `Link` / `pageToken` pagination (limit ≤ 250; a
//! request with `pageToken` may carry nothing else but `limit`), `{"error": …}` bodies, and a webhook
//! on every order change.

pub mod model;
pub mod requests;
mod routes;

use crate::{now_seconds, platform_error};
use axum::http::StatusCode;
use axum::response::Response;
use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use model as gw;
use orderbridge::channel::Channel;
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

/// The line `id` of `order`.
fn line_of<'a>(order: &'a gw::Order, id: &str) -> Option<&'a gw::LineItem> {
    order.line_items.iter().find(|l| l.id == id)
}

/// The order with an id in `orders`, to change, with its key; Genstore's 404 when there is none.
fn order_in<'a>(
    orders: &'a mut std::collections::BTreeMap<u64, gw::Order>,
    id: &str,
) -> Result<(u64, &'a mut gw::Order), Refusal> {
    let key = id.parse::<u64>().ok();
    let found = key.and_then(|k| orders.get_mut(&k).map(|o| (k, o)));
    found.ok_or_else(|| refuse(StatusCode::NOT_FOUND, "Not Found"))
}

/// Genstore's 422 with `message`.
fn unprocessable(message: impl Into<String>) -> Refusal {
    refuse(StatusCode::UNPROCESSABLE_ENTITY, message)
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

impl GenstoreState {
    /// The order with an id.
    pub fn order(&self, id: &str) -> Option<&gw::Order> {
        id.parse::<u64>().ok().and_then(|n| self.orders.get(&n))
    }

    fn shipped(order: &gw::Order, line_id: &str) -> u32 {
        order
            .fulfillments
            .iter()
            .filter(|f| f.live())
            .flat_map(|f| &f.line_items)
            .filter(|l| l.id == line_id)
            .map(|l| l.quantity)
            .sum()
    }

    /// Recomputes fulfillable quantities and the order's fulfillment status.
    fn recompute(order: &mut gw::Order) {
        let snapshot = order.clone();
        let mut any = false;
        let mut all = !order.line_items.is_empty();
        for l in &mut order.line_items {
            let shipped = Self::shipped(&snapshot, &l.id);
            let remaining = l.current_quantity.saturating_sub(shipped);
            l.fulfillable_quantity = remaining;
            l.fulfillment_status = if remaining == 0 {
                "fulfilled"
            } else if shipped > 0 {
                "partial"
            } else {
                "unfulfilled"
            }
            .into();
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
            return Err(unprocessable("lineItems must not be empty"));
        }
        let code = new.currency.as_bytes();
        if code.len() != 3 || !code.iter().all(u8::is_ascii_uppercase) {
            return Err(unprocessable("currency is not a currency code"));
        }
        let mut lines = Vec::new();
        for (i, l) in new.line_items.iter().enumerate() {
            if l.quantity == 0 {
                return Err(unprocessable(format!(
                    "lineItems[{i}].quantity must be at least 1"
                )));
            }
            if l.price < Decimal::ZERO {
                return Err(unprocessable(format!(
                    "lineItems[{i}].price must not be negative"
                )));
            }
            let id = self.next_line;
            self.next_line += 1;
            lines.push(gw::LineItem {
                id: id.to_string(),
                title: l.title.clone(),
                sku: l.sku.clone(),
                product_id: l.product_id.clone(),
                quantity: l.quantity,
                current_quantity: l.quantity,
                fulfillable_quantity: l.quantity,
                fulfillment_status: "unfulfilled".into(),
                price: l.price,
                requires_shipping: true,
            });
        }
        let lines_price: Decimal = new
            .line_items
            .iter()
            .map(|l| l.price * Decimal::from(l.quantity))
            .sum();
        let subtotal = money_of(new, lines_price)?;
        let total = new
            .total_price
            .unwrap_or(subtotal + new.total_tax.unwrap_or_default());

        let id = self.next_order;
        self.next_order += 1;
        let now = now_seconds();
        let order = gw::Order {
            order_id: id.to_string(),
            note: new.note.clone(),
            source_name: Some(new.source_name.clone()).filter(|s| !s.is_empty()),
            source_identifier: Some(new.source_identifier.clone()).filter(|s| !s.is_empty()),
            financial_status: new
                .financial_status
                .clone()
                .unwrap_or_else(|| "pending".into()),
            fulfillment_status: None,
            currency: Some(new.currency.clone()),
            total_price: total,
            subtotal_price: subtotal,
            total_line_items_price: lines_price,
            total_tax: new.total_tax,
            total_discounts: new.total_discounts,
            discount_codes: new.discount_codes.clone(),
            duties_included: new.duties_included,
            tags: new.tags.clone(),
            cancel_reason: None,
            created_at: now,
            updated_at: now,
            cancelled_at: None,
            email: new.email.clone(),
            line_items: lines,
            fulfillments: Vec::new(),
            shipping_address: new.shipping_address.clone(),
            refunds: Vec::new(),
        };
        self.orders.insert(id, order.clone());
        let mut events = vec![("orders/create", order_json(&order))];
        if order.financial_status == "paid" {
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
        let (key, order) = order_in(&mut self.orders, order_id)?;
        if order.cancelled_at.is_some() {
            return Err(unprocessable("order is cancelled"));
        }
        let wanted: Vec<LineQty> = match lines {
            Some(l) if !l.is_empty() => l,
            _ => order
                .line_items
                .iter()
                .filter(|l| l.fulfillable_quantity > 0)
                .map(|l| LineQty {
                    id: l.id.clone(),
                    quantity: l.fulfillable_quantity,
                })
                .collect(),
        };
        if wanted.is_empty() {
            return Err(unprocessable("nothing left to fulfill"));
        }
        for (i, w) in wanted.iter().enumerate() {
            let line = line_of(order, &w.id).ok_or_else(|| {
                unprocessable(format!(
                    "lineItems[{i}].id {} is not a line of this order",
                    w.id
                ))
            })?;
            let fulfillable = line.fulfillable_quantity;
            if w.quantity == 0 || w.quantity > fulfillable {
                return Err(unprocessable(format!(
                    "lineItems[{i}].quantity {} exceeds the fulfillable quantity {fulfillable}",
                    w.quantity
                )));
            }
        }
        let fid = self.next_fulfillment.to_string();
        self.next_fulfillment += 1;
        let now = now_seconds();
        let fulfillment = gw::Fulfillment {
            fulfill_id: fid.clone(),
            order_id: order_id.to_owned(),
            status: "success".into(),
            shipment_status,
            line_items: wanted
                .iter()
                .map(|w| gw::LineQuantity {
                    id: w.id.clone(),
                    quantity: w.quantity,
                })
                .collect(),
            tracking_info: tracking,
            created_at: now,
            updated_at: now,
        };
        order.fulfillments.push(fulfillment.clone());
        Self::recompute(order);
        order.updated_at = now;
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
            .position(|f| f.fulfill_id == fid)
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "Not Found"))?;
        Ok((order, idx))
    }

    /// The carrier delivers a fulfillment's package: its shipment status becomes `delivered`
    /// ([`GenstoreState::change_fulfillment`]).
    pub fn deliver(&mut self, fid: &str) -> Result<(gw::Fulfillment, Vec<Event>), Refusal> {
        self.change_fulfillment(fid, |f| {
            f.shipment_status = Some("delivered".into());
            Ok(())
        })
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
        order.fulfillments[idx].updated_at = now;
        Self::recompute(order);
        order.updated_at = now;
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
        let (_, order) = order_in(&mut self.orders, id)?;
        if order.cancelled_at.is_none() {
            let now = now_seconds();
            order.cancelled_at = Some(now);
            order.cancel_reason = Some(reason.to_owned());
            order.updated_at = now;
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
        let refund_id = self.next_refund.to_string();
        let (_, order) = order_in(&mut self.orders, id)?;
        let mut refund_lines = Vec::new();
        let mut amount = Decimal::ZERO;
        for l in lines {
            let line = line_of(order, &l.id)
                .ok_or_else(|| unprocessable(format!("line {} is not on this order", l.id)))?;
            let subtotal = line.price * Decimal::from(l.quantity);
            amount += subtotal;
            refund_lines.push(gw::RefundLine {
                line_item_id: l.id.clone(),
                quantity: l.quantity,
                subtotal,
            });
        }
        let now = now_seconds();
        let refund = gw::Refund {
            refund_id,
            order_id: id.to_owned(),
            created_at: now,
            note: note.to_owned(),
            refund_line_items: refund_lines,
            transactions: vec![gw::RefundTransaction {
                amount,
                currency: order.currency.clone(),
            }],
        };
        self.next_refund += 1;
        order.refunds.push(refund.clone());
        let refunded: Decimal = order
            .refunds
            .iter()
            .flat_map(|r| &r.transactions)
            .map(|t| t.amount)
            .sum();
        order.financial_status = if refunded >= order.total_price {
            "refunded"
        } else {
            "partially_refunded"
        }
        .into();
        order.updated_at = now;
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
/// shape first ([`check_order_answer`](requests::check_order_answer)). A name the
/// documents do not have is the sandbox's fault: the order is replaced by `{"sandboxFault": …}`, which
/// no client reads as an order, and the fault is printed, so the test that met it fails there.
pub(crate) fn order_json(o: &gw::Order) -> Value {
    checked(to_json(o), "an order", requests::check_order_answer)
}

/// A fulfillment as the sandbox answers it, checked as [`order_json`] checks an order.
pub(crate) fn fulfillment_json(f: &gw::Fulfillment) -> Value {
    checked(
        to_json(f),
        "a fulfillment",
        requests::check_fulfillment_answer,
    )
}

fn checked(v: Value, what: &str, check: fn(&Value) -> Result<(), String>) -> Value {
    match check(&v) {
        Ok(()) => v,
        Err(why) => {
            eprintln!("sandbox (genstore): {what} it sends does not match the documents: {why}");
            json!({ "sandboxFault": why })
        }
    }
}

pub use routes::routes;

/// An order's subtotal from a create body: the lines less its discounts. Each money field sent must
/// agree with the others (seed 001's order: `totalLineItemsPrice` is the lines, `subtotalPrice` the
/// lines less `totalDiscounts`, `totalDiscounts` the `discountCodes` together), or the create is refused,
/// as a store refuses an order whose sums do not add up.
fn money_of(new: &gw::NewOrder, lines: Decimal) -> Result<Decimal, Refusal> {
    let bad = |m: String| unprocessable(m);
    if let Some(t) = new.total_line_items_price {
        if t != lines {
            return Err(bad(format!(
                "totalLineItemsPrice {t} is not the lines' sum {lines}"
            )));
        }
    }
    let mut codes = Decimal::ZERO;
    for (i, c) in new.discount_codes.iter().enumerate() {
        let amount = c.get("amount").and_then(model::numeric::<Decimal>);
        match amount {
            Some(a) if a >= Decimal::ZERO => codes += a,
            _ => return Err(bad(format!("discountCodes[{i}].amount must be a decimal"))),
        }
    }
    let discounts = new.total_discounts.unwrap_or(codes);
    if !new.discount_codes.is_empty() && discounts != codes {
        return Err(bad(format!(
            "totalDiscounts {discounts} is not the discount codes' sum {codes}"
        )));
    }
    if discounts < Decimal::ZERO || discounts > lines {
        return Err(bad(format!("totalDiscounts {discounts} is out of range")));
    }
    let subtotal = lines - discounts;
    if let Some(s) = new.subtotal_price {
        if s != subtotal {
            return Err(bad(format!(
                "subtotalPrice {s} is not the lines less discounts {subtotal}"
            )));
        }
    }
    Ok(subtotal)
}
