//! Simulated Google Content API v2.1 Orders (`/google/content/v2.1/{merchantId}`): list with
//! `acknowledged` / `statuses` / date filters and `pageToken`, get, getbymerchantorderid, acknowledge,
//! updateMerchantOrderId (unique per merchant), shipLineItems (never more than ordered − shipped −
//! cancelled; `partiallyShipped` / `shipped`), updateShipment (`delivered` → the order is `delivered` when
//! everything is), cancelLineItem, refunditem; `operationId` dedupe answering `duplicate`; the test-order
//! calls; a bearer-token check, and a token endpoint (`/google/token`) for service-account keys.
//!
//! **Decision** (the reference is silent): a shipLineItems request with several `shipmentInfos` records
//! one shipment per package; the request's line quantities ride on its first package, so they count once
//! when shipped and once when that package is delivered.

use crate::{platform_error, Sandbox};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use orderbridge::channel::Channel;
use orderbridge::channels::google::wire as g;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A Google order with what the sandbox keeps beside it.
#[derive(Debug, Clone)]
pub struct GoogleOrder {
    /// The order.
    pub order: g::Order,
    /// Operation ids applied to it.
    pub operations: HashSet<String>,
    /// Placement order.
    pub seq: u64,
}

/// Google's orders.
#[derive(Debug, Default)]
pub struct GoogleState {
    /// Orders by id.
    pub orders: BTreeMap<String, GoogleOrder>,
    next: u64,
    tokens: HashSet<String>,
}

/// An error in Google's shape.
pub fn error(status: StatusCode, reason: &str, message: &str) -> Response {
    (
        status,
        Json(
            json!({"error": {"code": status.as_u16(), "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}]}}),
        ),
    )
        .into_response()
}

fn bad(message: impl AsRef<str>) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid", message.as_ref())
}

fn price(v: Decimal, currency: &str) -> g::Price {
    g::Price {
        value: Some(v),
        currency: Some(currency.to_owned()),
    }
}

/// A line of a test order template: offer id, title, unit price, quantity.
type TemplateLine = (&'static str, &'static str, i64, u32);

fn template(name: &str) -> Option<Vec<TemplateLine>> {
    Some(match name {
        "template1" => vec![("SKU-MUG", "Mug", 1000, 2), ("SKU-PLATE", "Plate", 500, 1)],
        "template1a" => vec![("SKU-MUG", "Mug", 1000, 1)],
        "template1b" => vec![("SKU-LAMP", "Lamp", 4000, 1), ("SKU-BULB", "Bulb", 250, 4)],
        "template2" => vec![("SKU-CHAIR", "Chair", 12000, 2)],
        "template3" => vec![
            ("SKU-RUG", "Rug", 9900, 1),
            ("SKU-MUG", "Mug", 1000, 3),
            ("SKU-PLATE", "Plate", 500, 2),
        ],
        _ => return None,
    })
}

impl GoogleState {
    /// Creates a test order from a template, `inProgress` and unacknowledged; returns its id.
    pub fn create_test_order(
        &mut self,
        merchant_id: &str,
        template_name: &str,
        placed: DateTime<Utc>,
    ) -> Option<String> {
        let lines = template(template_name)?;
        self.next += 1;
        let n = self.next;
        let id = format!("TEST-{n:06}");
        let currency = "USD";
        let line_items: Vec<g::LineItem> = lines
            .iter()
            .enumerate()
            .map(|(i, (offer, title, cents, qty))| {
                let unit = Decimal::new(*cents, 2);
                g::LineItem {
                    id: Some(format!("{id}-L{}", i + 1)),
                    product: Some(g::Product {
                        id: Some(format!("online:en:US:{offer}")),
                        offer_id: Some((*offer).to_owned()),
                        title: Some((*title).to_owned()),
                        price: Some(price(unit, currency)),
                        ..g::Product::default()
                    }),
                    price: Some(price(unit * Decimal::from(*qty), currency)),
                    quantity_ordered: Some(*qty),
                    quantity_pending: Some(*qty),
                    quantity_shipped: Some(0),
                    quantity_delivered: Some(0),
                    quantity_canceled: Some(0),
                    ..g::LineItem::default()
                }
            })
            .collect();
        let net: Decimal = line_items
            .iter()
            .filter_map(|l| l.price.as_ref()?.value)
            .sum();
        let order = g::Order {
            kind: Some("content#order".into()),
            id: Some(id.clone()),
            merchant_id: Some(merchant_id.to_owned()),
            acknowledged: Some(false),
            status: Some("inProgress".into()),
            payment_status: Some("paymentSecured".into()),
            placed_date: Some(placed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            customer: Some(g::Customer {
                full_name: Some(orderbridge::Personal::new(format!("Sandbox Shopper {n}"))),
                invoice_receiving_email: Some(orderbridge::Personal::new(format!(
                    "shopper{n}@example.com"
                ))),
            }),
            delivery_details: Some(orderbridge::Personal::new(g::DeliveryDetails {
                address: Some(g::Address {
                    recipient_name: Some(format!("Sandbox Shopper {n}")),
                    street_address: vec![format!("{n} Market St")],
                    locality: Some("San Francisco".into()),
                    region: Some("CA".into()),
                    postal_code: Some("94105".into()),
                    country: Some("US".into()),
                    ..g::Address::default()
                }),
                phone_number: Some("+1 415-555-0100".into()),
            })),
            line_items,
            net_price_amount: Some(price(net, currency)),
            net_tax_amount: Some(price(Decimal::ZERO, currency)),
            shipping_cost: Some(price(Decimal::new(499, 2), currency)),
            ..g::Order::default()
        };
        self.orders.insert(
            id.clone(),
            GoogleOrder {
                order,
                operations: HashSet::new(),
                seq: n,
            },
        );
        Some(id)
    }

    /// Recomputes an order's status from its lines (keeps `inProgress` / `canceled` as they are).
    fn recompute(order: &mut g::Order) {
        if matches!(order.status.as_deref(), Some("inProgress")) {
            return;
        }
        let mut ordered = 0;
        let mut shipped = 0;
        let mut delivered = 0;
        let mut cancelled = 0;
        for l in &mut order.line_items {
            let o = l.quantity_ordered.unwrap_or(0);
            let s = l.quantity_shipped.unwrap_or(0);
            let c = l.quantity_canceled.unwrap_or(0);
            l.quantity_pending = Some(o.saturating_sub(s).saturating_sub(c));
            ordered += o;
            shipped += s;
            delivered += l.quantity_delivered.unwrap_or(0);
            cancelled += c;
        }
        let live = ordered.saturating_sub(cancelled);
        order.status = Some(
            if live == 0 {
                "canceled"
            } else if delivered >= live {
                "delivered"
            } else if delivered > 0 {
                "partiallyDelivered"
            } else if shipped >= live {
                "shipped"
            } else if shipped > 0 {
                "partiallyShipped"
            } else {
                "pendingShipment"
            }
            .into(),
        );
    }
}

/// The Google routes, below `/google`.
pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/token", post(token))
        .route("/content/v2.1/{merchant}/orders", get(list))
        .route("/content/v2.1/{merchant}/orders/{id}", get(get_order))
        .route(
            "/content/v2.1/{merchant}/ordersbymerchantid/{mid}",
            get(get_by_merchant_id),
        )
        .route("/content/v2.1/{merchant}/orders/{id}/{action}", post(write))
        .route(
            "/content/v2.1/{merchant}/testorders",
            post(create_test_order),
        )
        .route(
            "/content/v2.1/{merchant}/testorders/{id}/{action}",
            post(test_order_action),
        )
}

async fn token(State(sb): State<Sandbox>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url_form(&body);
    let grant_ok = form.get("grant_type").map(String::as_str)
        == Some("urn:ietf:params:oauth:grant-type:jwt-bearer");
    let assertion_ok = form
        .get("assertion")
        .is_some_and(|a| a.split('.').count() == 3 && a.len() > 20);
    if !grant_ok || !assertion_ok {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "Invalid JWT assertion"})),
        )
            .into_response();
    }
    let t = format!("sandbox-{}", uuid::Uuid::new_v4().simple());
    sb.lock().google.tokens.insert(t.clone());
    Json(json!({"access_token": t, "expires_in": 3600, "token_type": "Bearer"})).into_response()
}

fn url_form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Checks the merchant id and the bearer token.
fn gate(sb: &Sandbox, headers: &HeaderMap, merchant: &str) -> Result<(), Response> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let known = bearer == sb.config.google_token || sb.lock().google.tokens.contains(bearer);
    if bearer.is_empty() || !known {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "authError",
            "Invalid Credentials",
        ));
    }
    if merchant != sb.config.google_merchant_id {
        return Err(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "User cannot access account",
        ));
    }
    Ok(())
}

const STATUS_GROUPS: &[(&str, &[&str])] = &[
    ("ACTIVE", &["pendingShipment", "partiallyShipped"]),
    (
        "COMPLETED",
        &[
            "shipped",
            "partiallyDelivered",
            "delivered",
            "partiallyReturned",
            "returned",
            "canceled",
        ],
    ),
    ("CANCELED", &["canceled"]),
    ("IN_PROGRESS", &["inProgress"]),
    ("PENDING_SHIPMENT", &["pendingShipment"]),
    ("PARTIALLY_SHIPPED", &["partiallyShipped"]),
    ("SHIPPED", &["shipped"]),
    ("PARTIALLY_DELIVERED", &["partiallyDelivered"]),
    ("DELIVERED", &["delivered"]),
    ("PARTIALLY_RETURNED", &["partiallyReturned"]),
    ("RETURNED", &["returned"]),
];

async fn list(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(merchant): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = gate(&sb, &headers, &merchant) {
        return r;
    }
    let one = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let max = match one("maxResults").map(|m| m.parse::<usize>()) {
        None => 25,
        Some(Ok(n)) if (1..=250).contains(&n) => n,
        Some(_) => return bad("maxResults must be between 1 and 250"),
    };
    let acknowledged = match one("acknowledged").as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return bad("acknowledged must be true or false"),
    };
    let mut allowed: Option<HashSet<&str>> = None;
    for (_, s) in q.iter().filter(|(k, _)| k == "statuses") {
        let Some((_, members)) = STATUS_GROUPS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
        else {
            return bad(format!("unknown status {s}"));
        };
        allowed
            .get_or_insert_with(HashSet::new)
            .extend(members.iter().copied());
    }
    let parse_date = |k: &str| -> Result<Option<DateTime<Utc>>, Response> {
        one(k)
            .map(|v| {
                orderbridge::channels::google::mapping::parse_date(&v)
                    .map_err(|_| bad(format!("{k} must be an ISO 8601 date")))
            })
            .transpose()
    };
    let (start, end) = match (parse_date("placedDateStart"), parse_date("placedDateEnd")) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let offset = match one("pageToken") {
        None => 0,
        Some(t) => match t
            .strip_prefix("offset-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => return bad("Invalid page token"),
        },
    };
    let st = sb.lock();
    let mut matching: Vec<&GoogleOrder> = st
        .google
        .orders
        .values()
        .filter(|o| acknowledged.is_none_or(|a| o.order.acknowledged == Some(a)))
        .filter(|o| {
            allowed
                .as_ref()
                .is_none_or(|set| o.order.status.as_deref().is_some_and(|s| set.contains(s)))
        })
        .filter(|o| {
            let placed = o
                .order
                .placed_date
                .as_deref()
                .and_then(|d| orderbridge::channels::google::mapping::parse_date(d).ok());
            start.is_none_or(|s| placed.is_some_and(|p| p >= s))
                && end.is_none_or(|e| placed.is_some_and(|p| p < e))
        })
        .collect();
    matching.sort_by_key(|o| o.seq);
    if one("orderBy").as_deref() == Some("placedDateDesc") {
        matching.reverse();
    }
    let page: Vec<&g::Order> = matching
        .iter()
        .skip(offset)
        .take(max)
        .map(|o| &o.order)
        .collect();
    let next = (offset + max < matching.len()).then(|| format!("offset-{}", offset + max));
    let body = g::OrdersListResponse {
        kind: Some("content#ordersListResponse".into()),
        next_page_token: next,
        resources: page.into_iter().cloned().collect(),
    };
    answer("OrdersListResponse", &body)
}

async fn get_order(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((merchant, id)): Path<(String, String)>,
) -> Response {
    if let Err(r) = gate(&sb, &headers, &merchant) {
        return r;
    }
    match sb.lock().google.orders.get(&id) {
        Some(o) => answer("Order", &o.order),
        None => error(StatusCode::NOT_FOUND, "notFound", "Order not found"),
    }
}

async fn get_by_merchant_id(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((merchant, mid)): Path<(String, String)>,
) -> Response {
    if let Err(r) = gate(&sb, &headers, &merchant) {
        return r;
    }
    let st = sb.lock();
    match st
        .google
        .orders
        .values()
        .find(|o| o.order.merchant_order_id.as_deref() == Some(mid.as_str()))
    {
        Some(o) => answer(
            "OrdersGetByMerchantOrderIdResponse",
            &json!({"kind": "content#ordersGetByMerchantOrderIdResponse", "order": o.order}),
        ),
        None => error(StatusCode::NOT_FOUND, "notFound", "Order not found"),
    }
}

/// An answer, checked against the reference's schema `schema` before it leaves: the orders the sandbox
/// keeps are written with the client's types, so a name the client got wrong would otherwise come back
/// to it as if Google used it. A name the reference does not have is the sandbox's fault: a 500 that
/// says which, so the test that met it fails there.
fn answer<T: serde::Serialize>(schema: &str, body: &T) -> Response {
    let value = match serde_json::to_value(body) {
        Ok(v) => v,
        Err(e) => return sandbox_fault(format!("answer not serialisable: {e}")),
    };
    match crate::google_schema::unknown_field(&value, schema) {
        None => Json(value).into_response(),
        Some(why) => sandbox_fault(format!(
            "its {schema} answer does not match the v2.1 reference: {why}"
        )),
    }
}

fn sandbox_fault(message: String) -> Response {
    eprintln!("sandbox (google): {message}");
    error(StatusCode::INTERNAL_SERVER_ERROR, "sandboxFault", &message)
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad(format!("Invalid request body: {e}")))
}

fn executed(kind: &str, status: &str) -> Response {
    Json(json!({"kind": format!("content#orders{kind}Response"), "executionStatus": status}))
        .into_response()
}

/// Finds a line by `lineItemId` or `productId`.
fn line_index(
    order: &g::Order,
    line_item_id: Option<&str>,
    product_id: Option<&str>,
) -> Result<usize, Response> {
    let found = order
        .line_items
        .iter()
        .position(|l| match (line_item_id, product_id) {
            (Some(id), _) => l.id.as_deref() == Some(id),
            (None, Some(pid)) => l.product.as_ref().and_then(|p| p.id.as_deref()) == Some(pid),
            (None, None) => false,
        });
    found.ok_or_else(|| bad("Either lineItemId or productId must name a line item of the order"))
}

async fn write(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((merchant, id, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&sb, &headers, &merchant) {
        return r;
    }
    let op: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return bad("Invalid JSON payload"),
    };
    // Every key against the reference's own request schema, before anything else is read.
    if let Some(refused) = crate::google_schema::request_schema(&action)
        .and_then(|schema| crate::google_schema::unknown_field(&op, schema))
    {
        return bad(refused);
    }
    let Some(op_id) = op
        .get("operationId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
    else {
        return bad("operationId is required");
    };
    let (kind, counter) = match action.as_str() {
        "acknowledge" => ("Acknowledge", "google.acknowledge"),
        "updateMerchantOrderId" => ("UpdateMerchantOrderId", "google.updateMerchantOrderId"),
        "shipLineItems" => ("ShipLineItems", "google.shipLineItems"),
        "updateShipment" => ("UpdateShipment", "google.updateShipment"),
        "cancelLineItem" => ("CancelLineItem", "google.cancelLineItem"),
        "refunditem" => ("RefundItem", "google.refunditem"),
        "cancel" => ("Cancel", "google.cancel"),
        "refundorder" => ("RefundOrder", "google.refundorder"),
        _ => return error(StatusCode::NOT_FOUND, "notFound", "Unknown method"),
    };
    let mut guard = sb.lock();
    let st = &mut *guard;
    let taken_merchant_ids: HashMap<String, String> = st
        .google
        .orders
        .values()
        .filter_map(|o| Some((o.order.merchant_order_id.clone()?, o.order.id.clone()?)))
        .collect();
    let Some(rec) = st.google.orders.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "notFound", "Order not found");
    };
    if rec.operations.contains(&op_id) {
        st.counters.duplicate(counter);
        return executed(kind, "duplicate");
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let order = &mut rec.order;
    let result: Result<(), Response> = match action.as_str() {
        "acknowledge" => {
            order.acknowledged = Some(true);
            Ok(())
        }
        "updateMerchantOrderId" => match parse::<g::UpdateMerchantOrderIdRequest>(&body) {
            Err(r) => Err(r),
            Ok(req) => match taken_merchant_ids.get(&req.merchant_order_id) {
                Some(other) if other != &id => Err(bad(format!(
                    "merchantOrderId {} is already used by another order",
                    req.merchant_order_id
                ))),
                _ => {
                    order.merchant_order_id = Some(req.merchant_order_id);
                    Ok(())
                }
            },
        },
        "shipLineItems" => {
            parse::<g::ShipLineItemsRequest>(&body).and_then(|req| ship(order, req, &now))
        }
        "updateShipment" => parse::<g::UpdateShipmentRequest>(&body)
            .and_then(|req| update_shipment(order, req, &now)),
        "cancelLineItem" => reason_in(&op, CANCEL_REASONS)
            .and_then(|()| parse::<g::CancelLineItemRequest>(&body))
            .and_then(|req| cancel_line(order, req, &now)),
        "refunditem" => reason_in(&op, REFUND_ITEM_REASONS)
            .and_then(|()| parse::<g::RefundItemRequest>(&body))
            .and_then(|req| refund(order, req, &now)),
        "cancel" => cancel_whole(order, &op, &now),
        "refundorder" => refund_whole(order, &op, &now),
        _ => Err(error(StatusCode::NOT_FOUND, "notFound", "Unknown method")),
    };
    match result {
        Ok(()) => {
            rec.operations.insert(op_id);
            st.counters.executed(counter);
            executed(kind, "executed")
        }
        Err(r) => r,
    }
}

/// `OrdersCancelRequest.reason` and `OrdersCancelLineItemRequest.reason`, as the reference lists them.
const CANCEL_REASONS: &[&str] = &[
    "customerInitiatedCancel",
    "invalidCoupon",
    "malformedShippingAddress",
    "noInventory",
    "other",
    "priceError",
    "shippingPriceError",
    "taxError",
    "undeliverableShippingAddress",
    "unsupportedPoBoxAddress",
    "failedToCaptureFunds",
];

/// `OrdersRefundItemRequest.reason`.
const REFUND_ITEM_REASONS: &[&str] = &[
    "shippingCostAdjustment",
    "priceAdjustment",
    "taxAdjustment",
    "feeAdjustment",
    "courtesyAdjustment",
    "adjustment",
    "customerCancelled",
    "noInventory",
    "productNotAsDescribed",
    "undeliverableShippingAddress",
    "wrongProductShipped",
    "lateShipmentCredit",
    "deliveredLateByCarrier",
    "productArrivedDamaged",
];

/// `OrdersRefundOrderRequest.reason`.
const REFUND_ORDER_REASONS: &[&str] = &["courtesyAdjustment", "other"];

/// The body's `reason` is one of `allowed`.
fn reason_in(body: &Value, allowed: &[&str]) -> Result<(), Response> {
    match body.get("reason").and_then(Value::as_str) {
        Some(r) if allowed.contains(&r) => Ok(()),
        Some(r) => Err(bad(format!("Invalid reason {r}"))),
        None => Err(bad("reason is required")),
    }
}

/// Only these keys in the body (read here on the reference's terms, not through the client's types).
fn only_keys(body: &Value, allowed: &[&str]) -> Result<(), Response> {
    let Some(o) = body.as_object() else {
        return Err(bad("Invalid JSON payload"));
    };
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad(format!(
            "Invalid JSON payload received. Unknown name \"{k}\""
        ))),
        None => Ok(()),
    }
}

/// `cancel`: every line's cancellable quantity, one reason.
fn cancel_whole(order: &mut g::Order, body: &Value, now: &str) -> Result<(), Response> {
    only_keys(body, &["operationId", "reason", "reasonText"])?;
    reason_in(body, CANCEL_REASONS)?;
    let reason = body
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let text = body
        .get("reasonText")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut any = false;
    for l in &mut order.line_items {
        let left = l
            .quantity_ordered
            .unwrap_or(0)
            .saturating_sub(l.quantity_shipped.unwrap_or(0))
            .saturating_sub(l.quantity_canceled.unwrap_or(0));
        if left == 0 {
            continue;
        }
        any = true;
        l.quantity_canceled = Some(l.quantity_canceled.unwrap_or(0) + left);
        l.cancellations.push(g::Cancellation {
            actor: Some("merchant".into()),
            creation_date: Some(now.to_owned()),
            quantity: Some(left),
            reason: Some(reason.to_owned()),
            reason_text: Some(text.to_owned()),
        });
    }
    if !any {
        return Err(bad("Nothing left to cancel"));
    }
    if order.status.as_deref() == Some("inProgress") {
        order.status = Some("pendingShipment".into());
    }
    GoogleState::recompute(order);
    Ok(())
}

/// `refundorder`: an amount (or everything) of the order, no lines.
fn refund_whole(order: &mut g::Order, body: &Value, now: &str) -> Result<(), Response> {
    only_keys(
        body,
        &[
            "operationId",
            "amount",
            "fullRefund",
            "reason",
            "reasonText",
        ],
    )?;
    reason_in(body, REFUND_ORDER_REASONS)?;
    let currency = order
        .net_price_amount
        .as_ref()
        .and_then(|p| p.currency.clone())
        .unwrap_or_else(|| "USD".into());
    let full = body.get("fullRefund").and_then(Value::as_bool) == Some(true);
    let money = |part: &str| -> Result<Decimal, Response> {
        match body.get("amount").and_then(|a| a.get(part)) {
            None => Ok(Decimal::ZERO),
            Some(p) => {
                if p.get("currency").and_then(Value::as_str) != Some(currency.as_str()) {
                    return Err(bad(format!("amount.{part}.currency must be {currency}")));
                }
                p.get("value")
                    .and_then(Value::as_str)
                    .and_then(|v| v.parse::<Decimal>().ok())
                    .ok_or_else(|| bad(format!("amount.{part}.value must be a decimal string")))
            }
        }
    };
    let total = if full {
        order
            .net_price_amount
            .as_ref()
            .and_then(|p| p.value)
            .unwrap_or_default()
    } else {
        if body.get("amount").is_none() {
            return Err(bad("Either amount or fullRefund must be provided"));
        }
        money("priceAmount")? + money("taxAmount")?
    };
    if total <= Decimal::ZERO {
        return Err(bad("The amount to refund must be positive"));
    }
    order.refunds.push(g::Refund {
        actor: Some("merchant".into()),
        amount: Some(price(total, &currency)),
        creation_date: Some(now.to_owned()),
        reason: body
            .get("reason")
            .and_then(Value::as_str)
            .map(str::to_owned),
        reason_text: body
            .get("reasonText")
            .and_then(Value::as_str)
            .map(str::to_owned),
    });
    if let Some(net) = order.net_price_amount.as_mut() {
        net.value = Some(net.value.unwrap_or_default() - total);
    }
    Ok(())
}

fn ship(order: &mut g::Order, req: g::ShipLineItemsRequest, now: &str) -> Result<(), Response> {
    if !matches!(
        order.status.as_deref(),
        Some("pendingShipment" | "partiallyShipped" | "shipped" | "partiallyDelivered")
    ) {
        return Err(bad(format!(
            "Order in status {} cannot be shipped",
            order.status.as_deref().unwrap_or("?")
        )));
    }
    if req.line_items.is_empty() {
        return Err(bad("lineItems must not be empty"));
    }
    if req.shipment_infos.is_empty() {
        return Err(bad("shipmentInfos must not be empty"));
    }
    let existing: HashSet<&str> = order
        .shipments
        .iter()
        .filter_map(|s| s.id.as_deref())
        .collect();
    let mut seen = HashSet::new();
    for info in &req.shipment_infos {
        if info.shipment_id.is_empty()
            || existing.contains(info.shipment_id.as_str())
            || !seen.insert(info.shipment_id.clone())
        {
            return Err(bad(format!(
                "shipmentId {} is missing or already used",
                info.shipment_id
            )));
        }
    }
    let mut plan = Vec::new();
    for item in &req.line_items {
        let i = line_index(
            order,
            item.line_item_id.as_deref(),
            item.product_id.as_deref(),
        )?;
        let l = &order.line_items[i];
        let left = l
            .quantity_ordered
            .unwrap_or(0)
            .saturating_sub(l.quantity_shipped.unwrap_or(0))
            .saturating_sub(l.quantity_canceled.unwrap_or(0));
        let already: u32 = plan.iter().filter(|(j, _)| *j == i).map(|(_, q)| *q).sum();
        if item.quantity == 0 || item.quantity + already > left {
            return Err(bad(format!(
                "Invalid quantity for line item {}: {} requested, {left} left to ship",
                l.id.as_deref().unwrap_or("?"),
                item.quantity
            )));
        }
        plan.push((i, item.quantity));
    }
    let lines: Vec<g::LineItemShipment> = plan
        .iter()
        .map(|(i, q)| g::LineItemShipment {
            line_item_id: order.line_items[*i].id.clone(),
            product_id: None,
            quantity: *q,
        })
        .collect();
    for (i, q) in &plan {
        let l = &mut order.line_items[*i];
        l.quantity_shipped = Some(l.quantity_shipped.unwrap_or(0) + q);
    }
    for (n, info) in req.shipment_infos.into_iter().enumerate() {
        order.shipments.push(g::Shipment {
            id: Some(info.shipment_id),
            carrier: info.carrier,
            tracking_id: info.tracking_id,
            status: Some("shipped".into()),
            creation_date: Some(now.to_owned()),
            shipment_group_id: req.shipment_group_id.clone(),
            line_items: if n == 0 { lines.clone() } else { Vec::new() },
            ..g::Shipment::default()
        });
    }
    GoogleState::recompute(order);
    Ok(())
}

fn update_shipment(
    order: &mut g::Order,
    req: g::UpdateShipmentRequest,
    now: &str,
) -> Result<(), Response> {
    let idx = order
        .shipments
        .iter()
        .position(|s| s.id.as_deref() == Some(req.shipment_id.as_str()))
        .ok_or_else(|| bad(format!("shipmentId {} not found", req.shipment_id)))?;
    if let Some(status) = req.status.as_deref() {
        if !matches!(status, "delivered" | "undeliverable" | "readyForPickup") {
            return Err(bad(format!("Invalid shipment status {status}")));
        }
    }
    let was_delivered = order.shipments[idx].status.as_deref() == Some("delivered");
    let shipment = &mut order.shipments[idx];
    if let Some(c) = req.carrier {
        shipment.carrier = Some(c);
    }
    if let Some(t) = req.tracking_id {
        shipment.tracking_id = Some(t);
    }
    if let Some(status) = req.status {
        shipment.status = Some(status.clone());
        if status == "delivered" {
            shipment.delivery_date = Some(req.delivery_date.unwrap_or_else(|| now.to_owned()));
        }
    }
    let now_delivered = order.shipments[idx].status.as_deref() == Some("delivered");
    if now_delivered && !was_delivered {
        let lines = order.shipments[idx].line_items.clone();
        for sl in lines {
            if let Ok(i) = line_index(order, sl.line_item_id.as_deref(), sl.product_id.as_deref()) {
                let l = &mut order.line_items[i];
                l.quantity_delivered = Some(l.quantity_delivered.unwrap_or(0) + sl.quantity);
            }
        }
    }
    GoogleState::recompute(order);
    Ok(())
}

fn cancel_line(
    order: &mut g::Order,
    req: g::CancelLineItemRequest,
    now: &str,
) -> Result<(), Response> {
    let i = line_index(
        order,
        req.line_item_id.as_deref(),
        req.product_id.as_deref(),
    )?;
    let l = &mut order.line_items[i];
    let left = l
        .quantity_ordered
        .unwrap_or(0)
        .saturating_sub(l.quantity_shipped.unwrap_or(0))
        .saturating_sub(l.quantity_canceled.unwrap_or(0));
    if req.quantity == 0 || req.quantity > left {
        return Err(bad(format!(
            "Invalid quantity to cancel: {} requested, {left} cancellable",
            req.quantity
        )));
    }
    l.quantity_canceled = Some(l.quantity_canceled.unwrap_or(0) + req.quantity);
    l.cancellations.push(g::Cancellation {
        actor: Some("merchant".into()),
        creation_date: Some(now.to_owned()),
        quantity: Some(req.quantity),
        reason: Some(req.reason),
        reason_text: Some(req.reason_text),
    });
    if order.status.as_deref() == Some("inProgress") {
        order.status = Some("pendingShipment".into());
    }
    GoogleState::recompute(order);
    Ok(())
}

fn refund(order: &mut g::Order, req: g::RefundItemRequest, now: &str) -> Result<(), Response> {
    if req.items.is_empty() && req.shipping.is_none() {
        return Err(bad("Either items or shipping must be provided"));
    }
    let currency = order
        .net_price_amount
        .as_ref()
        .and_then(|p| p.currency.clone())
        .unwrap_or_else(|| "USD".into());
    let mut total = Decimal::ZERO;
    for item in &req.items {
        let i = line_index(
            order,
            item.line_item_id.as_deref(),
            item.product_id.as_deref(),
        )?;
        let l = &order.line_items[i];
        if item.quantity == 0 || item.quantity > l.quantity_ordered.unwrap_or(0) {
            return Err(bad("Invalid quantity to refund"));
        }
        let amount = match (item.full_refund, &item.amount) {
            (Some(true), _) | (_, None) => {
                let unit = l
                    .product
                    .as_ref()
                    .and_then(|p| p.price.as_ref()?.value)
                    .unwrap_or_default();
                unit * Decimal::from(item.quantity)
            }
            (_, Some(a)) => {
                a.price_amount.value.unwrap_or_default()
                    + a.tax_amount
                        .as_ref()
                        .and_then(|t| t.value)
                        .unwrap_or_default()
            }
        };
        total += amount;
    }
    if let Some(s) = &req.shipping {
        total += s.amount.as_ref().and_then(|a| a.value).unwrap_or_default();
    }
    order.refunds.push(g::Refund {
        actor: Some("merchant".into()),
        amount: Some(price(total, &currency)),
        creation_date: Some(now.to_owned()),
        reason: Some(req.reason),
        reason_text: Some(req.reason_text),
    });
    if let Some(net) = order.net_price_amount.as_mut() {
        net.value = Some(net.value.unwrap_or_default() - total);
    }
    Ok(())
}

async fn create_test_order(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(merchant): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&sb, &headers, &merchant) {
        return r;
    }
    let req: g::CreateTestOrderRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let name = req.template_name.unwrap_or_else(|| "template1".into());
    let mut st = sb.lock();
    match st
        .google
        .create_test_order(&merchant, &name, chrono::Utc::now())
    {
        Some(id) => {
            st.counters.executed("google.createTestOrder");
            Json(json!({"kind": "content#ordersCreateTestOrderResponse", "orderId": id}))
                .into_response()
        }
        None => bad(format!("Unknown template {name}")),
    }
}

async fn test_order_action(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((merchant, id, action)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = gate(&sb, &headers, &merchant) {
        return r;
    }
    let mut st = sb.lock();
    let Some(rec) = st.google.orders.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "notFound", "Order not found");
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match action.as_str() {
        "advance" => {
            if rec.order.status.as_deref() != Some("inProgress") {
                return bad("Only orders in inProgress can be advanced");
            }
            rec.order.status = Some("pendingShipment".into());
            Json(json!({"kind": "content#ordersAdvanceTestOrderResponse"})).into_response()
        }
        "cancelByCustomer" => {
            if rec
                .order
                .line_items
                .iter()
                .any(|l| l.quantity_shipped.unwrap_or(0) > 0)
            {
                return bad("Shipped orders cannot be cancelled by the customer");
            }
            for l in &mut rec.order.line_items {
                let left = l
                    .quantity_ordered
                    .unwrap_or(0)
                    .saturating_sub(l.quantity_canceled.unwrap_or(0));
                if left > 0 {
                    l.quantity_canceled = Some(l.quantity_ordered.unwrap_or(0));
                    l.quantity_pending = Some(0);
                    l.cancellations.push(g::Cancellation {
                        actor: Some("customer".into()),
                        creation_date: Some(now.clone()),
                        quantity: Some(left),
                        reason: Some("customerInitiatedCancel".into()),
                        reason_text: Some("changed mind".into()),
                    });
                }
            }
            rec.order.status = Some("canceled".into());
            Json(json!({"kind": "content#ordersCancelTestOrderByCustomerResponse"})).into_response()
        }
        _ => platform_error(Channel::Google, StatusCode::NOT_FOUND, "Unknown method"),
    }
}
