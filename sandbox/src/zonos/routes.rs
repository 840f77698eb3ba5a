//! Zonos' five calls over the orders [`crate::zonos`] keeps: headers, JSON and credentials checked as
//! Zonos checks them, each body read in the sandbox's own terms ([`super::requests`]), and each
//! answer checked against the documented names before it leaves.

use super::requests::{self as read, Refused, Selector};
use super::{ZonosOrder, ZonosState, BLOCKING_STATUSES, VENDOR_STATUSES};
use crate::{platform_error, Sandbox};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{Duration, Utc};
use orderbridge::channel::Channel;
use serde_json::{json, Value};

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

/// A call admitted ([`admit`]) and its body read in the sandbox's own terms: the request, or Zonos'
/// answer refusing it.
fn request<T>(
    sb: &Sandbox,
    headers: &HeaderMap,
    body: &Bytes,
    read: impl FnOnce(&serde_json::Map<String, Value>) -> Result<T, Refused>,
) -> Result<T, Response> {
    let v = admit(sb, headers, body)?;
    read(&v).map_err(refused)
}

async fn order_numbers(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let req = match request(&sb, &headers, &body, read::order_numbers) {
        Ok(r) => r,
        Err(r) => return r,
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
    let mut picked = picked;
    if z.list_newest_first {
        picked.reverse();
    }
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
            Value::Object(if st.zonos.bare {
                super::bare_detail(&st.zonos.orders[i].order)
            } else {
                st.zonos.orders[i].order.clone()
            }),
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
    let req = match request(&sb, &headers, &body, |v| {
        read::order_value(v, "merchantOrderId")
    }) {
        Ok(r) => r,
        Err(r) => return r,
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
    let req = match request(&sb, &headers, &body, read::tracking) {
        Ok(r) => r,
        Err(r) => return r,
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
    let req = match request(&sb, &headers, &body, |v| {
        read::order_value(v, "orderStatus")
    }) {
        Ok(r) => r,
        Err(r) => return r,
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
