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

use crate::google_model as g;
use crate::google_test_orders::{create_test_order, test_order_action};
use crate::google_writes::write;
use crate::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
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

pub(crate) fn bad(message: impl AsRef<str>) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid", message.as_ref())
}

pub(crate) fn price(v: Decimal, currency: &str) -> g::Price {
    g::Price::new(v, currency)
}

/// A line of a test order template: offer id, title, unit price, quantity.
pub(crate) type TemplateLine = (&'static str, &'static str, i64, u32);

pub(crate) fn template(name: &str) -> Option<Vec<TemplateLine>> {
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
                    id: format!("{id}-L{}", i + 1),
                    product: g::Product {
                        id: format!("online:en:US:{offer}"),
                        offer_id: (*offer).to_owned(),
                        title: (*title).to_owned(),
                        price: price(unit, currency),
                    },
                    price: price(unit * Decimal::from(*qty), currency),
                    quantity_ordered: *qty,
                    quantity_pending: *qty,
                    quantity_shipped: 0,
                    quantity_delivered: 0,
                    quantity_canceled: 0,
                    cancellations: Vec::new(),
                    quantity_returned: 0,
                    returns: Vec::new(),
                }
            })
            .collect();
        let net: Decimal = line_items.iter().map(|l| l.price.value).sum();
        let order = g::Order {
            kind: "content#order",
            id: id.clone(),
            merchant_id: merchant_id.to_owned(),
            merchant_order_id: None,
            acknowledged: false,
            status: "inProgress".into(),
            payment_status: "paymentSecured".into(),
            placed_date: Some(placed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            customer: g::Customer {
                full_name: format!("Sandbox Shopper {n}"),
                invoice_receiving_email: format!("shopper{n}@example.com"),
            },
            delivery_details: g::DeliveryDetails {
                address: g::Address {
                    recipient_name: format!("Sandbox Shopper {n}"),
                    street_address: vec![format!("{n} Market St")],
                    locality: "San Francisco".into(),
                    region: "CA".into(),
                    postal_code: "94105".into(),
                    country: "US".into(),
                },
                phone_number: "+1 415-555-0100".into(),
            },
            line_items,
            shipments: Vec::new(),
            refunds: Vec::new(),
            net_price_amount: price(net, currency),
            net_tax_amount: price(Decimal::ZERO, currency),
            shipping_cost: price(Decimal::new(499, 2), currency),
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
    pub(crate) fn recompute(order: &mut g::Order) {
        if order.status == "inProgress" {
            return;
        }
        let mut ordered = 0;
        let mut shipped = 0;
        let mut delivered = 0;
        let mut cancelled = 0;
        for l in &mut order.line_items {
            l.quantity_pending = l.left();
            ordered += l.quantity_ordered;
            shipped += l.quantity_shipped;
            delivered += l.quantity_delivered;
            cancelled += l.quantity_canceled;
        }
        let live = ordered.saturating_sub(cancelled);
        let returned: u32 = order.line_items.iter().map(|l| l.quantity_returned).sum();
        order.status = if live == 0 {
            "canceled"
        } else if returned >= live {
            "returned"
        } else if returned > 0 {
            "partiallyReturned"
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
        .into();
    }
}

impl GoogleOrder {
    /// A refund the merchant makes on Google's side (in Merchant Center), taken off the net amount.
    pub fn refund_on_google(&mut self, amount: Decimal, reason: &str) -> Result<(), String> {
        if amount <= Decimal::ZERO {
            return Err("amount must be positive".into());
        }
        if amount > self.order.net_price_amount.value {
            return Err("amount is more than the order's net amount".into());
        }
        let currency = self.order.currency();
        self.order.refunds.push(g::Refund {
            actor: "merchant".into(),
            amount: price(amount, &currency),
            creation_date: now_text(),
            reason: reason.to_owned(),
            reason_text: None,
        });
        self.order.net_price_amount.value -= amount;
        Ok(())
    }

    /// The customer asks to send `quantity` units of a line back (an `OrderReturn`).
    pub fn ask_return(&mut self, line: &str, quantity: u32) -> Result<(), String> {
        let l = self.line_mut(line, quantity)?;
        let asked: u32 = l.returns.iter().map(|r| r.quantity).sum();
        if asked + quantity > l.quantity_shipped {
            return Err("more asked back than shipped".into());
        }
        l.returns.push(g::Return {
            actor: "customer".into(),
            creation_date: now_text(),
            quantity,
            reason: "customerDiscretionaryReturn".into(),
        });
        Ok(())
    }

    /// Units asked back arrive: `quantityReturned` grows and the order's status follows.
    pub fn receive_return(&mut self, line: &str, quantity: u32) -> Result<(), String> {
        let l = self.line_mut(line, quantity)?;
        let asked: u32 = l.returns.iter().map(|r| r.quantity).sum();
        if l.quantity_returned + quantity > asked {
            return Err("more received than asked back".into());
        }
        l.quantity_returned += quantity;
        GoogleState::recompute(&mut self.order);
        Ok(())
    }

    fn line_mut(&mut self, line: &str, quantity: u32) -> Result<&mut g::LineItem, String> {
        if quantity == 0 {
            return Err("quantity must be at least 1".into());
        }
        self.order
            .line_items
            .iter_mut()
            .find(|l| l.id == line)
            .ok_or_else(|| "lineItemId names no line".into())
    }
}

/// Now, as Google writes dates.
fn now_text() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
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

/// An RFC 3339 date-time, as the reference writes `placedDate` and the list's date filters; a bare date
/// is read as its midnight UTC.
pub(crate) fn rfc3339(v: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

pub(crate) fn url_form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Checks the merchant id and the bearer token.
pub(crate) fn gate(sb: &Sandbox, headers: &HeaderMap, merchant: &str) -> Result<(), Response> {
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

pub(crate) const STATUS_GROUPS: &[(&str, &[&str])] = &[
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
            .map(|v| rfc3339(&v).ok_or_else(|| bad(format!("{k} must be an ISO 8601 date"))))
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
        .filter(|o| acknowledged.is_none_or(|a| o.order.acknowledged == a))
        .filter(|o| {
            allowed
                .as_ref()
                .is_none_or(|set| set.contains(o.order.status.as_str()))
        })
        .filter(|o| {
            let placed = o.order.placed_date.as_deref().and_then(rfc3339);
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
    let mut body = json!({"kind": "content#ordersListResponse", "resources": page});
    if let Some(next) = next {
        body["nextPageToken"] = json!(next);
    }
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

/// A JSON body whose keys the reference's schema `schema` has, if the call has one (Google's refusal
/// otherwise): every body is read on the reference's terms before anything in it is.
pub(crate) fn json_body(body: &Bytes, schema: Option<&str>) -> Result<Value, Response> {
    let v: Value = serde_json::from_slice(body).map_err(|_| bad("Invalid JSON payload"))?;
    match schema.and_then(|s| crate::google_schema::unknown_field(&v, s)) {
        Some(refused) => Err(bad(refused)),
        None => Ok(v),
    }
}

/// An answer, checked against the reference's schema `schema` before it leaves, so a slip in the
/// sandbox's own names ([`crate::google_model`]) is caught rather than taught to the client. A name the
/// reference does not have is the sandbox's fault: a 500 that says which, so the test that met it fails
/// there.
pub(crate) fn answer<T: serde::Serialize>(schema: &str, body: &T) -> Response {
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

pub(crate) fn sandbox_fault(message: String) -> Response {
    eprintln!("sandbox (google): {message}");
    error(StatusCode::INTERNAL_SERVER_ERROR, "sandboxFault", &message)
}
