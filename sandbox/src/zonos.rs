//! Simulated Zonos Classic (`/zonos`): the five endpoints, `Accept` / `Content-Type` enforcement (406 /
//! 415 with HTML bodies), credentials in the body, HTTP 200 with `{"error": …}` for every documented
//! error, `orderNumbers` selector rules (two selectors → error; `missingMerchantOrderId` covers two
//! weeks), statuses, test orders, vendor-status blocking, and tracking numbers stored.
//!
//! The orders are kept as the JSON `orderDetail` answers, written here from `platforms.md` §2 and the
//! seed documents; nothing of the client's (`orderbridge::channels::zonos`) is used, so a name the
//! client gets wrong is not agreed with.

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
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// The statuses a vendor may set (`platforms.md` §2).
const VENDOR_STATUSES: &[&str] = &[
    "VENDOR_PREPARING_ORDER",
    "VENDOR_SHIPMENT_READY",
    "VENDOR_LABELS_PRINTED_DATE",
    "VENDOR_CANCELLATION_REQUEST",
    "VENDOR_END_OF_DAY_COMPLETE",
];

/// The statuses during which the vendor status cannot be changed (`platforms.md` §2; both spellings of
/// the cancelled status, as some plugins write it with one L).
const BLOCKING_STATUSES: &[&str] = &[
    "IGLOBAL_LABELS_PROCESSING",
    "IGLOBAL_ORDER_ON_HOLD",
    "IGLOBAL_FRAUD_REVIEW",
    "IGLOBAL_ORDER_CANCELLED",
    "IGLOBAL_ORDER_CANCELED",
    "VENDOR_CANCELLATION_REQUEST",
    "VENDOR_END_OF_DAY_COMPLETE",
];

/// Zonos' timestamp form, `2015-01-01 00:33:14.0` (the seed's `orderDate`), in UTC.
fn zonos_time(t: DateTime<Utc>) -> String {
    let millis = t.timestamp_subsec_millis();
    let fraction = if millis == 0 {
        "0".to_owned()
    } else {
        format!("{millis:03}").trim_end_matches('0').to_owned()
    };
    format!("{}.{fraction}", t.format("%Y-%m-%d %H:%M:%S"))
}

/// A Zonos order with the times the sandbox keeps.
#[derive(Debug, Clone)]
pub struct ZonosOrder {
    /// The order as `orderDetail` returns it.
    pub order: Map<String, Value>,
    /// When it was placed.
    pub placed_at: DateTime<Utc>,
    /// When its status last changed.
    pub status_at: DateTime<Utc>,
    /// `orderDetail` answers this order with a body that is not JSON (a platform answering garbage),
    /// for tests of what orderbridge does with one order it cannot read.
    pub garbled: bool,
}

impl ZonosOrder {
    fn text(&self, key: &str) -> Option<&str> {
        self.order.get(key).and_then(Value::as_str)
    }

    /// `999-12345`.
    pub fn id(&self) -> &str {
        self.text("id").unwrap_or_default()
    }

    /// `orderStatus`.
    pub fn status(&self) -> &str {
        self.text("orderStatus").unwrap_or_default()
    }

    /// `merchantOrderId`, once the merchant has set one.
    pub fn merchant_order_id(&self) -> Option<&str> {
        self.text("merchantOrderId")
    }

    /// `testOrder`.
    pub fn test_order(&self) -> bool {
        self.order.get("testOrder").and_then(Value::as_bool) == Some(true)
    }

    /// The numbers on `trackingList`, in order.
    pub fn tracking_numbers(&self) -> Vec<&str> {
        self.order
            .get("trackingList")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|t| t.get("number").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Zonos' orders, in placement order.
#[derive(Debug, Default)]
pub struct ZonosState {
    /// The orders.
    pub orders: Vec<ZonosOrder>,
    next: u64,
}

/// A line of an order to create through the control API (the control API's own form).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewZonosItem {
    /// SKU.
    pub sku: String,
    /// Product id.
    #[serde(default)]
    pub product_id: Option<String>,
    /// Title.
    #[serde(default)]
    pub description: Option<String>,
    /// Quantity.
    pub quantity: u32,
    /// Unit price.
    pub unit_price: Decimal,
}

/// An order to create through the control API.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewZonosOrder {
    /// Lines.
    pub items: Vec<NewZonosItem>,
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
        self.orders.iter().position(|o| o.id() == full)
    }

    /// Creates an order; returns its id.
    pub fn create(&mut self, store: u64, new: &NewZonosOrder) -> String {
        if self.next == 0 {
            self.next = 10_001;
        }
        let id = format!("{store}-{}", self.next);
        self.next += 1;
        let placed_at = now_seconds() - Duration::hours(new.placed_hours_ago);
        let items_total: Decimal = new
            .items
            .iter()
            .map(|i| i.unit_price * Decimal::from(i.quantity))
            .sum();
        let shipping = Decimal::new(1500, 2);
        let duties = (items_total * Decimal::new(10, 2)).round_dp(2);
        let n = self.next;
        let items: Vec<Value> = new
            .items
            .iter()
            .map(|i| {
                let mut item = json!({
                    "sku": i.sku,
                    "quantity": i.quantity,
                    "unitPrice": i.unit_price.to_string(),
                });
                if let Some(p) = &i.product_id {
                    item["productId"] = json!(p);
                }
                if let Some(d) = &i.description {
                    item["description"] = json!(d);
                }
                item
            })
            .collect();
        let order = json!({
            "id": id,
            "orderDate": zonos_time(placed_at),
            "orderStatus": new.status.as_deref().unwrap_or("IGLOBAL_ORDER_IN_PROCESS"),
            "orderStatusDate": placed_at.timestamp_millis(),
            "merchantOrderId": null,
            "testOrder": new.test_order,
            "currencyCode": "USD",
            "items": items,
            "shippingCarrierServiceLevel":
                new.shipping_carrier_service_level.as_deref().unwrap_or("UPS_EXPEDITED"),
            "shippingName": format!("Sandbox Buyer {n}"),
            "shippingAddress1": format!("{n} Rue de la Paix"),
            "shippingCity": "Paris",
            "shippingZip": "75002",
            "shippingCountry": "FR",
            "email": format!("buyer{n}@example.com"),
            "itemsTotal": items_total.to_string(),
            "shippingTotal": shipping.to_string(),
            "dutyTaxesTotal": duties.to_string(),
            "grandTotal": (items_total + shipping + duties).to_string(),
        });
        let Value::Object(order) = order else {
            return id;
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
        o.order.insert("orderStatus".into(), json!(status));
        o.order
            .insert("orderStatusDate".into(), json!(now.timestamp_millis()));
        o.status_at = now;
    }

    /// An `orderNumbers` entry, with its `status` fields when asked for them.
    fn listing(o: &ZonosOrder, statuses: bool) -> Value {
        let mut entry = json!({
            "id": o.id(),
            "testOrder": o.test_order(),
            "timestamp": zonos_time(o.placed_at),
        });
        if statuses {
            entry["merchantOrderId"] = json!(o.merchant_order_id());
            entry["orderStatus"] = json!(o.status());
            entry["orderStatusDate"] = json!(o.status_at.timestamp_millis());
            entry["orderStatusDateString"] = json!(zonos_time(o.status_at));
        }
        entry
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
                .filter(|o| o.placed_at >= cutoff && o.merchant_order_id().is_none())
                .collect()
        }
    };
    let test = picked.iter().filter(|o| o.test_order()).count();
    let resp = json!({
        "totalCount": picked.len(),
        "orderCount": picked.len() - test,
        "testOrderCount": test,
        "orders": picked
            .iter()
            .map(|o| ZonosState::listing(o, req.statuses))
            .collect::<Vec<_>>(),
    });
    match checked(resp, read::check_numbers_answer) {
        Ok(v) => Json(v).into_response(),
        Err(fault) => fault,
    }
}

/// An answer, checked against the documents' names before it leaves ([`read`]), so a slip in the
/// sandbox's own JSON is caught here rather than agreed with. A name the documents do not have is the
/// sandbox's fault: a 500 that says which.
fn checked(v: Value, check: fn(&Value) -> Result<(), String>) -> Result<Value, Response> {
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
        Some(i) => match checked(
            Value::Object(st.zonos.orders[i].order.clone()),
            read::check_detail_answer,
        ) {
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
            let id = st.zonos.orders[i].id().to_owned();
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
            let o = &mut st.zonos.orders[i];
            let changed = o.merchant_order_id() != Some(req.value.as_str());
            o.order.insert("merchantOrderId".into(), json!(req.value));
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
        let o = &mut st.zonos.orders[i];
        let changed = o.tracking_numbers() != req.numbers;
        let list: Vec<Value> = req.numbers.iter().map(|n| json!({ "number": n })).collect();
        o.order.insert("trackingList".into(), Value::Array(list));
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
    let wanted = req.value.as_str();
    if !VENDOR_STATUSES.contains(&wanted) {
        return zonos_error(format!("Invalid order status: {}", req.value));
    }
    write(
        &sb,
        "zonos.updateVendorOrderStatus",
        &req.order_id,
        |st, i| {
            let current = st.zonos.orders[i].status().to_owned();
            if current == wanted {
                return Ok(false);
            }
            if BLOCKING_STATUSES.contains(&current.as_str()) {
                return Err(format!(
                    "Order status cannot be changed while the order is in {current}"
                ));
            }
            st.zonos.set_status(i, wanted);
            Ok(true)
        },
    )
}
