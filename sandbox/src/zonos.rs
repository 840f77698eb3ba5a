//! Simulated Zonos Classic (`/zonos`): the five endpoints, `Accept` / `Content-Type` enforcement (406 /
//! 415 with HTML bodies), credentials in the body, HTTP 200 with `{"error": …}` for every documented
//! error, `orderNumbers` selector rules (two selectors → error; `missingMerchantOrderId` covers two
//! weeks), statuses, test orders, vendor-status blocking, and tracking numbers stored.

use crate::zonos_requests::{self as read, Refused, Selector};
use crate::{now_seconds, platform_error, Sandbox};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use orderbridge::channel::Channel;
use orderbridge::channels::zonos::wire::{
    self as zw, format_timestamp, OrderNumber, OrderNumberStatus,
};
use orderbridge::channels::zonos::ZonosStatus;
use serde_json::{json, Value};

/// A Zonos order with the times the sandbox keeps.
#[derive(Debug, Clone)]
pub struct ZonosOrder {
    /// The order as `orderDetail` returns it.
    pub order: zw::Order,
    /// When it was placed.
    pub placed_at: DateTime<Utc>,
    /// When its status last changed.
    pub status_at: DateTime<Utc>,
    /// `orderDetail` answers this order with a body that is not JSON (a platform answering garbage),
    /// for tests of what orderbridge does with one order it cannot read.
    pub garbled: bool,
}

/// Zonos' orders, in placement order.
#[derive(Debug, Default)]
pub struct ZonosState {
    /// The orders.
    pub orders: Vec<ZonosOrder>,
    next: u64,
}

/// An order to create through the control API.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewZonosOrder {
    /// Lines.
    pub items: Vec<zw::Item>,
    /// A test order.
    #[serde(default)]
    pub test_order: bool,
    /// Initial status (default `IGLOBAL_ORDER_IN_PROCESS`).
    #[serde(default)]
    pub status: Option<String>,
    /// Carrier and service, e.g. `UPS_EXPEDITED`.
    #[serde(default)]
    pub shipping_carrier_service_level: Option<String>,
    /// Placed this many hours ago (default 0).
    #[serde(default)]
    pub placed_hours_ago: i64,
}

impl ZonosState {
    /// Index of an order by `999-12345` or `12345`.
    pub fn find(&self, store: u64, id: &str) -> Option<usize> {
        let full = if id.contains('-') {
            id.to_owned()
        } else {
            format!("{store}-{id}")
        };
        self.orders
            .iter()
            .position(|o| o.order.id.as_deref() == Some(full.as_str()))
    }

    /// Creates an order; returns its id.
    pub fn create(&mut self, store: u64, new: &NewZonosOrder) -> String {
        if self.next == 0 {
            self.next = 10_001;
        }
        let id = format!("{store}-{}", self.next);
        self.next += 1;
        let placed_at = now_seconds() - Duration::hours(new.placed_hours_ago);
        let items_total: rust_decimal::Decimal = new
            .items
            .iter()
            .map(|i| {
                i.unit_price.unwrap_or_default()
                    * rust_decimal::Decimal::from(i.quantity.unwrap_or(0))
            })
            .sum();
        let shipping = rust_decimal::Decimal::new(1500, 2);
        let duties = (items_total * rust_decimal::Decimal::new(10, 2)).round_dp(2);
        let n = self.next;
        let order = zw::Order {
            id: Some(id.clone()),
            order_date: Some(format_timestamp(placed_at)),
            order_status: Some(
                new.status
                    .clone()
                    .unwrap_or_else(|| "IGLOBAL_ORDER_IN_PROCESS".into()),
            ),
            order_status_date: Some(placed_at.timestamp_millis()),
            merchant_order_id: None,
            test_order: Some(new.test_order),
            currency_code: Some("USD".into()),
            items: new.items.clone(),
            shipping_carrier_service_level: Some(
                new.shipping_carrier_service_level
                    .clone()
                    .unwrap_or_else(|| "UPS_EXPEDITED".into()),
            ),
            shipping_name: Some(orderbridge::Personal::new(format!("Sandbox Buyer {n}"))),
            shipping_address1: Some(orderbridge::Personal::new(format!("{n} Rue de la Paix"))),
            shipping_city: Some(orderbridge::Personal::new("Paris".into())),
            shipping_zip: Some(orderbridge::Personal::new("75002".into())),
            shipping_country: Some("FR".into()),
            email: Some(orderbridge::Personal::new(format!("buyer{n}@example.com"))),
            items_total: Some(items_total),
            shipping_total: Some(shipping),
            duty_taxes_total: Some(duties),
            grand_total: Some(items_total + shipping + duties),
            ..zw::Order::default()
        };
        self.orders.push(ZonosOrder {
            order,
            placed_at,
            status_at: placed_at,
            garbled: false,
        });
        id
    }

    /// Sets an order's status (Zonos' side, e.g. a fraud review or a cancellation).
    pub fn set_status(&mut self, idx: usize, status: &str) {
        let now = now_seconds().max(self.orders[idx].status_at + Duration::seconds(1));
        let o = &mut self.orders[idx];
        o.order.order_status = Some(status.to_owned());
        o.order.order_status_date = Some(now.timestamp_millis());
        o.status_at = now;
    }

    fn listing(o: &ZonosOrder, statuses: bool) -> OrderNumber {
        OrderNumber {
            id: o.order.id.clone().unwrap_or_default(),
            test_order: o.order.test_order.unwrap_or(false),
            timestamp: format_timestamp(o.placed_at),
            status: statuses.then(|| OrderNumberStatus {
                merchant_order_id: o.order.merchant_order_id.clone(),
                order_status: o.order.order_status.clone().unwrap_or_default(),
                order_status_date: o.status_at.timestamp_millis(),
                order_status_date_string: format_timestamp(o.status_at),
            }),
        }
    }
}

/// The Zonos routes, below `/zonos`.
pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v1/orderNumbers", post(order_numbers))
        .route("/v2/orderDetail", post(order_detail))
        .route("/v1/updateMerchantOrderId", post(update_merchant_order_id))
        .route("/v2/setShipmentTracking", post(set_shipment_tracking))
        .route(
            "/v1/updateVendorOrderStatus",
            post(update_vendor_order_status),
        )
}

fn zonos_error(message: impl Into<String>) -> Response {
    (StatusCode::OK, Json(json!({ "error": message.into() }))).into_response()
}

fn is_json(v: Option<&axum::http::HeaderValue>) -> bool {
    v.and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false)
}

/// Headers, JSON and credentials, as Zonos checks them; the body's object on success.
fn admit(
    sb: &Sandbox,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<serde_json::Map<String, Value>, Response> {
    if !is_json(headers.get(header::CONTENT_TYPE)) {
        return Err(platform_error(
            Channel::Zonos,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
        ));
    }
    if !is_json(headers.get(header::ACCEPT)) {
        return Err(platform_error(
            Channel::Zonos,
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable",
        ));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|_| zonos_error("could not parse input"))?;
    let Value::Object(obj) = v else {
        return Err(zonos_error("could not parse input"));
    };
    let store = match obj.get("store").or_else(|| obj.get("storeId")) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let secret = obj.get("secret").and_then(Value::as_str);
    if store != Some(sb.config.zonos_store) || secret != Some(sb.config.zonos_secret.as_str()) {
        return Err(zonos_error("Invalid security credentials"));
    }
    Ok(obj)
}

fn refused(e: Refused) -> Response {
    zonos_error(e.0)
}

async fn order_numbers(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let v = match admit(&sb, &headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let req = match read::order_numbers(&v) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let st = sb.lock();
    let z = &st.zonos;
    let store = sb.config.zonos_store;
    let picked: Vec<&ZonosOrder> = match &req.selector {
        Selector::SinceOrderId(id) => match z.find(store, id) {
            Some(i) => z.orders[i + 1..].iter().collect(),
            None => return zonos_error(format!("Couldn't find order for sinceOrderId: {id}")),
        },
        Selector::SinceDate { since, through } => z
            .orders
            .iter()
            .filter(|o| {
                let day = o.placed_at.date_naive();
                day >= *since && through.is_none_or(|t| day <= t)
            })
            .collect(),
        Selector::MissingMerchantOrderId => {
            let cutoff = Utc::now() - Duration::days(14);
            z.orders
                .iter()
                .filter(|o| o.placed_at >= cutoff && o.order.merchant_order_id.is_none())
                .collect()
        }
    };
    let orders: Vec<OrderNumber> = picked
        .iter()
        .map(|o| ZonosState::listing(o, req.statuses))
        .collect();
    let test = orders.iter().filter(|o| o.test_order).count();
    let resp = zw::OrderNumbersResponse {
        total_count: u32::try_from(orders.len()).unwrap_or(u32::MAX),
        order_count: u32::try_from(orders.len() - test).unwrap_or(u32::MAX),
        test_order_count: u32::try_from(test).unwrap_or(u32::MAX),
        orders,
    };
    match checked(&resp, read::check_numbers_answer) {
        Ok(v) => Json(v).into_response(),
        Err(fault) => fault,
    }
}

/// An answer, checked in the sandbox's own terms before it leaves ([`read`]): the orders it keeps are
/// written with the client's types, so a name the client got wrong would otherwise come back to it as
/// Zonos'. A name the documents do not have is the sandbox's fault: a 500 that says which.
fn checked<T: serde::Serialize>(
    body: &T,
    check: fn(&Value) -> Result<(), String>,
) -> Result<Value, Response> {
    let v = serde_json::to_value(body).unwrap_or(Value::Null);
    check(&v).map(|()| v).map_err(|why| {
        eprintln!("sandbox (zonos): an answer does not match the documents: {why}");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": format!("sandbox fault: {why}") })),
        )
            .into_response()
    })
}

fn order_id_rules(v: &serde_json::Map<String, Value>) -> Result<(), Response> {
    let has_order = v.get("orderId").is_some_and(|x| !x.is_null());
    let has_reference = v.get("referenceId").is_some_and(|x| !x.is_null());
    match (has_order, has_reference) {
        (true, true) => Err(zonos_error(
            "Cannot specify both orderId and referenceId parameters.",
        )),
        (false, _) => Err(zonos_error("orderId or referenceId parameter is required.")),
        _ => Ok(()),
    }
}

async fn order_detail(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let v = match admit(&sb, &headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = order_id_rules(&v) {
        return r;
    }
    let req = match read::order_detail(&v) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let st = sb.lock();
    match st.zonos.find(sb.config.zonos_store, &req.order_id) {
        Some(i) if st.zonos.orders[i].garbled => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            "<html>502 Bad Gateway</html>",
        )
            .into_response(),
        Some(i) => match checked(&st.zonos.orders[i].order, read::check_detail_answer) {
            Ok(order) => Json(json!({ "order": order })).into_response(),
            Err(fault) => fault,
        },
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "Unable to process order detail." })),
        )
            .into_response(),
    }
}

/// Applies a write to an order by id; `apply` returns true when it changed something.
fn write(
    sb: &Sandbox,
    counter: &str,
    order_id: &str,
    apply: impl FnOnce(&mut crate::State0, usize) -> Result<bool, String>,
) -> Response {
    let mut st = sb.lock();
    let Some(i) = st.zonos.find(sb.config.zonos_store, order_id) else {
        return zonos_error(format!("orderId: {order_id} is not a valid orderId"));
    };
    match apply(&mut st, i) {
        Ok(changed) => {
            if changed {
                st.counters.executed(counter);
            } else {
                st.counters.duplicate(counter);
            }
            let id = st.zonos.orders[i].order.id.clone().unwrap_or_default();
            Json(json!({ "success": format!("Updated Order: {id}") })).into_response()
        }
        Err(m) => zonos_error(m),
    }
}

async fn update_merchant_order_id(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let v = match admit(&sb, &headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let req = match read::order_value(&v, "merchantOrderId") {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    write(
        &sb,
        "zonos.updateMerchantOrderId",
        &req.order_id,
        |st, i| {
            let o = &mut st.zonos.orders[i].order;
            let changed = o.merchant_order_id.as_deref() != Some(req.value.as_str());
            o.merchant_order_id = Some(req.value.clone());
            Ok(changed)
        },
    )
}

async fn set_shipment_tracking(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let v = match admit(&sb, &headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let req = match read::tracking(&v) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    write(&sb, "zonos.setShipmentTracking", &req.order_id, |st, i| {
        let o = &mut st.zonos.orders[i].order;
        let list: Vec<zw::TrackingNumber> = req
            .numbers
            .iter()
            .map(|n| zw::TrackingNumber { number: n.clone() })
            .collect();
        let changed = o.tracking_list != list;
        o.tracking_list = list;
        Ok(changed)
    })
}

async fn update_vendor_order_status(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let v = match admit(&sb, &headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let req = match read::order_value(&v, "orderStatus") {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let wanted = ZonosStatus::parse(&req.value);
    if !wanted.is_vendor_status() {
        return zonos_error(format!("Invalid order status: {}", req.value));
    }
    write(
        &sb,
        "zonos.updateVendorOrderStatus",
        &req.order_id,
        |st, i| {
            let current = ZonosStatus::parse(
                st.zonos.orders[i]
                    .order
                    .order_status
                    .as_deref()
                    .unwrap_or_default(),
            );
            if current == wanted {
                return Ok(false);
            }
            if current.blocks_vendor_updates() {
                return Err(format!(
                    "Order status cannot be changed while the order is in {current}"
                ));
            }
            st.zonos.set_status(i, wanted.as_str());
            Ok(true)
        },
    )
}
