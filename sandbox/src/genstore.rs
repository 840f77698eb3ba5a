//! Simulated Genstore (`/genstore/api/202412`): orders and fulfillments, the access-token header, the
//! 40-token bucket refilling 2/s (429 when empty), `Link` / `pageToken` pagination (limit ≤ 250; a
//! request with `pageToken` may carry nothing else but `limit`), `{"error": …}` bodies, and a webhook
//! on every order change.

use crate::{now_seconds, platform_error, Sandbox};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::ACCESS_TOKEN_HEADER;
use orderbridge::channels::genstore::wire as gw;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock>;

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
    page_tokens: HashMap<String, (Filter, u64)>,
    limiter: Limiter,
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

fn refuse(status: StatusCode, m: impl Into<String>) -> Refusal {
    (status, m.into())
}

fn respond(r: Refusal) -> Response {
    platform_error(Channel::Genstore, r.0, &r.1)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Filter {
    since_id: Option<u64>,
    financial_status: Option<String>,
    fulfillment_status: Option<String>,
}

/// A line and quantity of a fulfillment to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineQty {
    /// Line id.
    pub id: String,
    /// Quantity.
    pub quantity: u32,
}

fn line_quantity(l: &gw::LineItem) -> u32 {
    l.current_quantity.or(l.quantity).unwrap_or(0)
}

fn live(f: &gw::Fulfillment) -> bool {
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

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// An order as the sandbox sends it (answers and webhook bodies), checked against the documented order
/// shape first ([`check_order_answer`](crate::genstore_requests::check_order_answer)). A name the
/// documents do not have is the sandbox's fault: the order is replaced by `{"sandboxFault": …}`, which
/// no client reads as an order, and the fault is printed, so the test that met it fails there.
///
/// The sandbox keeps an order's refunds beside it (its financial status follows them), but the
/// documented order has no `refunds`: a refund reaches a client as `refunds/create` only.
fn order_json(o: &gw::Order) -> Value {
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

/// The Genstore routes, below `/genstore/api/202412`.
pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/orders", get(list_orders).post(create_order))
        .route("/orders/{id}", get(get_order).put(update_order))
        .route("/orders/{id}/fulfillments", get(list_fulfillments))
        .route("/orders/{id}/cancel", post(cancel_order))
        .route("/fulfillments", post(create_fulfillment))
        .route("/fulfillments/{id}/update_tracking", put(update_tracking))
        .route("/fulfillments/{id}/cancel", put(cancel_fulfillment))
}

/// Checks the token and takes one token from the bucket.
fn gate(sb: &Sandbox, headers: &HeaderMap) -> Result<(), Response> {
    let token = headers
        .get(ACCESS_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if token != sb.config.genstore_token {
        return Err(respond(refuse(
            StatusCode::UNAUTHORIZED,
            "[API] Invalid API key or access token (unrecognized login or wrong password)",
        )));
    }
    let refused = {
        let mut st = sb.lock();
        let refused = st.genstore.limiter.check().is_err();
        if refused {
            *st.counters
                .rate_limited
                .entry("genstore".into())
                .or_default() += 1;
        }
        refused
    };
    if refused {
        return Err(respond(refuse(StatusCode::TOO_MANY_REQUESTS, "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.")));
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        respond(refuse(
            StatusCode::BAD_REQUEST,
            format!("body is not valid JSON: {e}"),
        ))
    })?;
    serde_path_to(v).map_err(|m| respond(refuse(StatusCode::BAD_REQUEST, m)))
}

fn serde_path_to<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| e.to_string())
}

async fn list_orders(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = gate(&sb, &headers) {
        return r;
    }
    let params: HashMap<&str, &str> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        None => 50,
        Some(Ok(n)) if (1..=250).contains(&n) => n,
        Some(_) => {
            return respond(refuse(
                StatusCode::BAD_REQUEST,
                "limit must be between 1 and 250",
            ))
        }
    };
    let mut st = sb.lock();
    let (filter, after) = match params.get("pageToken") {
        Some(token) => {
            if params.keys().any(|k| *k != "pageToken" && *k != "limit") {
                return respond(refuse(
                    StatusCode::BAD_REQUEST,
                    "pageToken cannot be passed with any parameter other than limit",
                ));
            }
            match st.genstore.page_tokens.get(*token) {
                Some(f) => f.clone(),
                None => {
                    return respond(refuse(
                        StatusCode::BAD_REQUEST,
                        "pageToken is invalid or expired",
                    ))
                }
            }
        }
        None => {
            let since_id = match params.get("sinceId").map(|s| s.parse::<u64>()) {
                None => None,
                Some(Ok(n)) => Some(n),
                Some(Err(_)) => {
                    return respond(refuse(
                        StatusCode::BAD_REQUEST,
                        "sinceId must be an order id",
                    ))
                }
            };
            let f = Filter {
                since_id,
                financial_status: params.get("financialStatus").map(|s| s.to_string()),
                fulfillment_status: params.get("fulfillmentStatus").map(|s| s.to_string()),
            };
            (f.clone(), f.since_id.unwrap_or(0))
        }
    };
    let matching: Vec<(u64, gw::Order)> = st
        .genstore
        .orders
        .range(after + 1..)
        .filter(|(_, o)| {
            filter
                .financial_status
                .as_ref()
                .is_none_or(|s| o.financial_status.as_ref() == Some(s))
        })
        .filter(|(_, o)| {
            filter
                .fulfillment_status
                .as_ref()
                .is_none_or(|s| match s.as_str() {
                    "unfulfilled" => o.fulfillment_status.is_none(),
                    other => o.fulfillment_status.as_deref() == Some(other),
                })
        })
        .take(limit + 1)
        .map(|(k, o)| (*k, o.clone()))
        .collect();
    let more = matching.len() > limit;
    let page: Vec<(u64, gw::Order)> = matching.into_iter().take(limit).collect();
    let mut resp =
        Json(json!({ "orders": page.iter().map(|(_, o)| order_json(o)).collect::<Vec<_>>() }))
            .into_response();
    if more {
        if let Some((last, _)) = page.last() {
            let token = uuid::Uuid::new_v4().simple().to_string();
            st.genstore
                .page_tokens
                .insert(token.clone(), (filter, *last));
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1");
            let link = format!("<http://{host}/genstore/api/202412/orders?limit={limit}&pageToken={token}>; rel=\"next\"");
            if let Ok(v) = link.parse() {
                resp.headers_mut().insert("link", v);
            }
        }
    }
    resp
}

async fn get_order(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = gate(&sb, &headers) {
        return r;
    }
    match sb.lock().genstore.order(&id) {
        Some(o) => Json(json!({ "order": order_json(o) })).into_response(),
        None => respond(refuse(StatusCode::NOT_FOUND, "Not Found")),
    }
}

async fn create_order(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = gate(&sb, &headers) {
        return r;
    }
    // The keys against the sandbox's own table of the documented order shape first; then the values.
    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
        if let Err(m) = crate::genstore_requests::check_order_keys(&v) {
            return respond(refuse(StatusCode::BAD_REQUEST, m));
        }
    }
    let req: gw::CreateOrderRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let outcome = {
        let mut st = sb.lock();
        let out = st.genstore.create_order(&req.order);
        if out.is_ok() {
            st.counters.executed("genstore.createOrder");
        }
        out
    };
    match outcome {
        Ok((order, events)) => {
            sb.webhooks.emit_all(events);
            (
                StatusCode::CREATED,
                Json(json!({ "order": order_json(&order) })),
            )
                .into_response()
        }
        Err(r) => respond(r),
    }
}

/// `PUT /orders/{orderId}`: `{"order": {...}}` changing the payment state, tags or note. Read on its
/// own terms, not through the clients' types: any other key, or a value of the wrong kind, is a 400.
async fn update_order(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&sb, &headers) {
        return r;
    }
    const STATUSES: [&str; 7] = [
        "pending",
        "authorized",
        "partially_paid",
        "paid",
        "partially_refunded",
        "refunded",
        "voided",
    ];
    let bad = |m: String| respond(refuse(StatusCode::BAD_REQUEST, m));
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad(format!("body is not JSON: {e}")),
    };
    let Some(change) = v.get("order").and_then(Value::as_object) else {
        return bad("body must be {\"order\": {...}}".into());
    };
    if v.as_object().map(|o| o.len()) != Some(1) {
        return bad("body must hold only \"order\"".into());
    }
    for (k, val) in change {
        if !matches!(k.as_str(), "financialStatus" | "tags" | "note") {
            return bad(format!("order.{k} cannot be changed"));
        }
        if !val.is_string() {
            return bad(format!("order.{k} must be a string"));
        }
    }
    let text = |k: &str| change.get(k).and_then(Value::as_str).map(str::to_owned);
    let financial = text("financialStatus");
    if let Some(f) = &financial {
        if !STATUSES.contains(&f.as_str()) {
            return bad(format!("order.financialStatus {f} is not a payment state"));
        }
    }
    let outcome = {
        let mut st = sb.lock();
        let key = id.parse::<u64>().ok();
        let Some(order) = key.and_then(|k| st.genstore.orders.get_mut(&k)) else {
            return respond(refuse(StatusCode::NOT_FOUND, "Not Found"));
        };
        let was_paid = order.financial_status.as_deref() == Some("paid");
        if let Some(f) = financial {
            order.financial_status = Some(f);
        }
        if let Some(t) = text("tags") {
            order.tags = Some(t);
        }
        if let Some(n) = text("note") {
            order.note = Some(orderbridge::Personal::new(n));
        }
        order.updated_at = Some(now_seconds());
        let mut events = vec![("orders/update", order_json(order))];
        if !was_paid && order.financial_status.as_deref() == Some("paid") {
            events.push(("orders/paid", order_json(order)));
        }
        let order = order.clone();
        st.counters.executed("genstore.updateOrder");
        (order, events)
    };
    sb.webhooks.emit_all(outcome.1);
    Json(json!({ "order": order_json(&outcome.0) })).into_response()
}

async fn list_fulfillments(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = gate(&sb, &headers) {
        return r;
    }
    match sb.lock().genstore.order(&id) {
        Some(o) => Json(json!({ "fulfillments": to_json(&o.fulfillments) })).into_response(),
        None => respond(refuse(StatusCode::NOT_FOUND, "Not Found")),
    }
}

/// The sandbox's tracking as the order it keeps holds it.
fn tracking_info(t: crate::genstore_requests::Tracking) -> gw::TrackingInfo {
    gw::TrackingInfo {
        number: t.number,
        company: t.company,
        url: t.url,
    }
}

async fn create_fulfillment(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&sb, &headers) {
        return r;
    }
    let req = match crate::genstore_requests::new_fulfillment(&body) {
        Ok(r) => r,
        Err(m) => return respond(refuse(StatusCode::BAD_REQUEST, m)),
    };
    let mut lines = Vec::new();
    for (i, l) in req.line_items.iter().enumerate() {
        match (&l.id, l.units()) {
            (Some(id), Some(q)) => lines.push(LineQty {
                id: id.clone(),
                quantity: q,
            }),
            _ => {
                return respond(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("lineItems[{i}] needs id and quantity"),
                ))
            }
        }
    }
    let outcome = {
        let mut st = sb.lock();
        let out = st.genstore.create_fulfillment(
            &req.order_id,
            Some(lines),
            req.tracking_info.clone().map(tracking_info),
            None,
        );
        if out.is_ok() {
            st.counters.executed("genstore.createFulfillment");
        }
        out
    };
    match outcome {
        Ok((f, events)) => {
            sb.webhooks.emit_all(events);
            (
                StatusCode::CREATED,
                Json(json!({ "fulfillment": to_json(&f) })),
            )
                .into_response()
        }
        Err(r) => respond(r),
    }
}

async fn update_tracking(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&sb, &headers) {
        return r;
    }
    let req = match crate::genstore_requests::tracking_change(&body) {
        Ok(r) => r,
        Err(m) => return respond(refuse(StatusCode::BAD_REQUEST, m)),
    };
    let tracking = tracking_info(req.tracking_info);
    if tracking.number.as_deref().is_none_or(str::is_empty) {
        return respond(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "trackingInfo.number is required",
        ));
    }
    let outcome = {
        let mut st = sb.lock();
        let mut same = false;
        let out = st.genstore.change_fulfillment(&id, |f| {
            same = f.tracking_info.as_ref() == Some(&tracking);
            f.tracking_info = Some(tracking.clone());
            Ok(())
        });
        if out.is_ok() {
            if same {
                st.counters.duplicate("genstore.updateTracking");
            } else {
                st.counters.executed("genstore.updateTracking");
            }
        }
        out
    };
    match outcome {
        Ok((f, events)) => {
            sb.webhooks.emit_all(events);
            Json(json!({ "fulfillment": to_json(&f) })).into_response()
        }
        Err(r) => respond(r),
    }
}

async fn cancel_fulfillment(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = gate(&sb, &headers) {
        return r;
    }
    let outcome = {
        let mut st = sb.lock();
        let mut already = false;
        let out = st.genstore.change_fulfillment(&id, |f| {
            already = f.status.as_deref() == Some("cancelled");
            f.status = Some("cancelled".into());
            Ok(())
        });
        if out.is_ok() {
            if already {
                st.counters.duplicate("genstore.cancelFulfillment");
            } else {
                st.counters.executed("genstore.cancelFulfillment");
            }
        }
        out
    };
    match outcome {
        Ok((f, events)) => {
            sb.webhooks.emit_all(events);
            Json(json!({ "fulfillment": to_json(&f) })).into_response()
        }
        Err(r) => respond(r),
    }
}

async fn cancel_order(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&sb, &headers) {
        return r;
    }
    let reason = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("reason").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "other".into());
    let outcome = {
        let mut st = sb.lock();
        let already = st
            .genstore
            .order(&id)
            .is_some_and(|o| o.cancelled_at.is_some());
        let out = st.genstore.cancel_order(&id, &reason);
        if out.is_ok() {
            if already {
                st.counters.duplicate("genstore.cancelOrder");
            } else {
                st.counters.executed("genstore.cancelOrder");
            }
        }
        out.map(|(o, events)| (o, if already { Vec::new() } else { events }))
    };
    match outcome {
        Ok((order, events)) => {
            sb.webhooks.emit_all(events);
            Json(json!({ "order": order_json(&order) })).into_response()
        }
        Err(r) => respond(r),
    }
}
