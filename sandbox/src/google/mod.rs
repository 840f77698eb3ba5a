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

mod answers;
pub mod model;
pub mod schema;
mod state;
mod test_orders;
mod writes;

pub use answers::error;
pub use state::{GoogleOrder, GoogleState};

use crate::Sandbox;
use answers::{answer, bad, Gated};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use model as g;
use serde_json::json;
use state::rfc3339;
use std::collections::{HashMap, HashSet};
use test_orders::{create_test_order, test_order_action};
use writes::write;

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

pub(crate) fn url_form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
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
    _: Gated,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
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
    _: Gated,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    match sb.lock().google.orders.get(&id) {
        Some(o) => answer("Order", &o.order),
        None => error(StatusCode::NOT_FOUND, "notFound", "Order not found"),
    }
}

async fn get_by_merchant_id(
    State(sb): State<Sandbox>,
    _: Gated,
    Path((_, mid)): Path<(String, String)>,
) -> Response {
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
