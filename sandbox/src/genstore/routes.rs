//! Genstore's REST routes (`/api/202412`): the access token and rate bucket at the gate, each body read
//! on its own terms (`genstore::requests`), the order state changed, its webhooks emitted.

use super::model as gw;
use super::{fulfillment_json, order_json, refuse, respond, Filter, LineQty};
use crate::{now_seconds, Sandbox};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;

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

/// The access-token header (`platforms.md` §1, seed 000).
const ACCESS_TOKEN_HEADER: &str = "X-Genstore-Access-Token";

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
                .is_none_or(|s| &o.financial_status == s)
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
        if let Err(m) = super::requests::check_order_keys(&v) {
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
            count_write(&mut st.counters, "genstore.createOrder", false);
        }
        out
    };
    answer_write(&sb, outcome, StatusCode::CREATED, "order", order_json)
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
        let was_paid = order.financial_status == "paid";
        if let Some(f) = financial {
            order.financial_status = f;
        }
        if let Some(t) = text("tags") {
            order.tags = Some(t);
        }
        if let Some(n) = text("note") {
            order.note = Some(n);
        }
        order.updated_at = now_seconds();
        let mut events = vec![("orders/update", order_json(order))];
        if !was_paid && order.financial_status == "paid" {
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
        Some(o) => Json(json!({ "fulfillments": o.fulfillments.iter().map(fulfillment_json).collect::<Vec<_>>() })).into_response(),
        None => respond(refuse(StatusCode::NOT_FOUND, "Not Found")),
    }
}

/// The sandbox's tracking as the order it keeps holds it.
/// Counts a write that took: executed, or a duplicate when it changed nothing.
fn count_write(counters: &mut crate::Counters, call: &str, repeated: bool) {
    if repeated {
        counters.duplicate(call);
    } else {
        counters.executed(call);
    }
}

/// A write's answer: its webhooks sent and `{key: ...}` with `status`, or Genstore's refusal.
fn answer_write<T>(
    sb: &Sandbox,
    outcome: Result<(T, Vec<super::Event>), super::Refusal>,
    status: StatusCode,
    key: &str,
    json_of: impl FnOnce(&T) -> Value,
) -> Response {
    match outcome {
        Ok((written, events)) => {
            sb.webhooks.emit_all(events);
            let body = serde_json::Map::from_iter([(key.to_owned(), json_of(&written))]);
            (status, Json(Value::Object(body))).into_response()
        }
        Err(r) => respond(r),
    }
}

fn tracking_info(t: super::requests::Tracking) -> gw::TrackingInfo {
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
    let req = match super::requests::new_fulfillment(&body) {
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
            count_write(&mut st.counters, "genstore.createFulfillment", false);
        }
        out
    };
    answer_write(
        &sb,
        outcome,
        StatusCode::CREATED,
        "fulfillment",
        fulfillment_json,
    )
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
    let req = match super::requests::tracking_change(&body) {
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
    change_fulfillment(&sb, &id, "genstore.updateTracking", |f| {
        let same = f.tracking_info.as_ref() == Some(&tracking);
        f.tracking_info = Some(tracking.clone());
        same
    })
}

async fn cancel_fulfillment(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = gate(&sb, &headers) {
        return r;
    }
    change_fulfillment(&sb, &id, "genstore.cancelFulfillment", |f| {
        let already = f.status == "cancelled";
        f.status = "cancelled".into();
        already
    })
}

/// Changes the fulfillment `id` with `change` (which says whether it was already so: a duplicate
/// write), counts the write as `write`, and answers with the fulfillment and its webhooks.
fn change_fulfillment(
    sb: &Sandbox,
    id: &str,
    write: &str,
    change: impl FnOnce(&mut gw::Fulfillment) -> bool,
) -> Response {
    let outcome = {
        let mut st = sb.lock();
        let mut same = false;
        let out = st.genstore.change_fulfillment(id, |f| {
            same = change(f);
            Ok(())
        });
        if out.is_ok() {
            count_write(&mut st.counters, write, same);
        }
        out
    };
    answer_write(sb, outcome, StatusCode::OK, "fulfillment", fulfillment_json)
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
            count_write(&mut st.counters, "genstore.cancelOrder", already);
        }
        out.map(|(o, events)| (o, if already { Vec::new() } else { events }))
    };
    answer_write(&sb, outcome, StatusCode::OK, "order", order_json)
}
