//! The control and inspection API under `/_sandbox`, for tests, the local runner and the demo:
//!
//! | call | what it does |
//! |---|---|
//! | `GET /_sandbox/counters` | requests per endpoint; writes executed vs duplicate; faults; webhooks |
//! | `POST /_sandbox/reset` | forgets every order and counter (subscriptions stay) |
//! | `PUT /_sandbox/faults/{platform}` | [`Faults`] for `genstore`, `zonos` or `google` |
//! | `POST /_sandbox/genstore/webhooks` | subscribe `{address, secret}` |
//! | `PUT /_sandbox/genstore/webhook-mode` | [`WebhookMode`]: duplicate, delay, reorder, suppress |
//! | `POST /_sandbox/genstore/webhooks/flush` | send held (reordered) deliveries, newest first |
//! | `GET/POST /_sandbox/genstore/orders` | list; create a merchant-native order (`NewOrder` body) |
//! | `POST /_sandbox/genstore/orders/{id}/fulfill` | the merchant fulfills: `{lineItems?, tracking?}` |
//! | `POST /_sandbox/genstore/fulfillments/{id}/deliver` | the carrier delivers a package |
//! | `POST /_sandbox/genstore/orders/{id}/cancel` / `.../refund` | cancel; refund `{lineItems, note}` |
//! | `GET/POST /_sandbox/zonos/orders` | list; create `{items, testOrder?, status?, count?}` |
//! | `POST /_sandbox/zonos/orders/{id}/status` | Zonos changes an order's status `{status}` |
//! | `GET/POST /_sandbox/google/orders` | list; create `{template?, count?, advance?}` test orders |
//! | `POST /_sandbox/google/orders/{id}/advance` / `.../cancel-by-customer` | move a test order on |

use crate::genstore::model as gw;
use crate::genstore::LineQty;
use crate::webhooks::{Subscription, WebhookMode};
use crate::zonos::NewZonosOrder;
use crate::{Counters, Faults, Sandbox};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use orderbridge::channel::Channel;
use serde::Deserialize;
use serde_json::{json, Value};

/// The control routes, below `/_sandbox`.
pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/counters", get(counters))
        .route("/reset", post(reset))
        .route("/faults/{platform}", put(set_faults))
        .route("/genstore/webhooks", post(subscribe))
        .route("/genstore/webhook-mode", put(webhook_mode))
        .route("/genstore/webhooks/flush", post(flush))
        .route(
            "/genstore/orders",
            get(genstore_orders).post(genstore_create),
        )
        .route("/genstore/orders/{id}/fulfill", post(genstore_fulfill))
        .route(
            "/genstore/fulfillments/{id}/deliver",
            post(genstore_deliver),
        )
        .route("/genstore/orders/{id}/cancel", post(genstore_cancel))
        .route("/genstore/orders/{id}/refund", post(genstore_refund))
        .route("/zonos/orders", get(zonos_orders).post(zonos_create))
        .route("/zonos/orders/{id}/status", post(zonos_status))
        .route("/google/orders", get(google_orders).post(google_create))
        .route("/google/orders/{id}/{action}", post(google_action))
}

fn refused(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

async fn counters(State(sb): State<Sandbox>) -> Json<Counters> {
    Json(sb.counters())
}

async fn reset(State(sb): State<Sandbox>) -> StatusCode {
    let mut st = sb.lock();
    st.genstore = Default::default();
    st.zonos = Default::default();
    st.google = Default::default();
    st.faults.clear();
    st.counters = Counters::default();
    StatusCode::NO_CONTENT
}

async fn set_faults(
    State(sb): State<Sandbox>,
    Path(platform): Path<String>,
    Json(f): Json<Faults>,
) -> Response {
    let Ok(channel) = platform.parse::<Channel>() else {
        return refused(StatusCode::NOT_FOUND, format!("no platform {platform}"));
    };
    let rates = [
        f.error_rate,
        f.throttle_rate,
        f.timeout_rate,
        f.slow_after_apply_rate,
        f.reject_rate,
    ];
    if rates.iter().any(|r| !(0.0..=1.0).contains(r)) || rates.iter().sum::<f64>() > 1.0 {
        return refused(
            StatusCode::BAD_REQUEST,
            "rates are probabilities and may add up to 1 at most",
        );
    }
    sb.set_faults(channel, f);
    StatusCode::NO_CONTENT.into_response()
}

async fn subscribe(State(sb): State<Sandbox>, Json(s): Json<Subscription>) -> StatusCode {
    sb.webhooks.subscribe(s);
    StatusCode::NO_CONTENT
}

async fn webhook_mode(State(sb): State<Sandbox>, Json(m): Json<WebhookMode>) -> StatusCode {
    sb.webhooks.set_mode(m);
    StatusCode::NO_CONTENT
}

async fn flush(State(sb): State<Sandbox>) -> Json<Value> {
    Json(json!({"sent": sb.webhooks.flush()}))
}

fn outcome<T: serde::Serialize>(
    sb: &Sandbox,
    result: Result<(T, Vec<crate::genstore::Event>), crate::genstore::Refusal>,
) -> Response {
    match result {
        Ok((v, events)) => {
            sb.webhooks.emit_all(events);
            Json(v).into_response()
        }
        Err((status, m)) => refused(status, m),
    }
}

async fn genstore_orders(State(sb): State<Sandbox>) -> Json<Vec<gw::Order>> {
    Json(sb.lock().genstore.orders.values().cloned().collect())
}

async fn genstore_create(State(sb): State<Sandbox>, Json(new): Json<gw::NewOrder>) -> Response {
    let r = sb.lock().genstore.create_order(&new);
    outcome(&sb, r)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Fulfill {
    line_items: Vec<LineQtyBody>,
    tracking: Option<gw::TrackingInfo>,
    shipment_status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LineQtyBody {
    id: String,
    quantity: u32,
}

/// The lines a control call names, as Genstore's state takes them.
fn line_qtys(lines: Vec<LineQtyBody>) -> Vec<LineQty> {
    lines
        .into_iter()
        .map(|l| LineQty {
            id: l.id,
            quantity: l.quantity,
        })
        .collect()
}

async fn genstore_fulfill(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    body: Option<Json<Fulfill>>,
) -> Response {
    let f = body.map(|Json(f)| f).unwrap_or_default();
    let lines = line_qtys(f.line_items);
    let r = sb.lock().genstore.create_fulfillment(
        &id,
        Some(lines),
        f.tracking,
        f.shipment_status.or_else(|| Some("inTransit".into())),
    );
    outcome(&sb, r)
}

async fn genstore_deliver(State(sb): State<Sandbox>, Path(id): Path<String>) -> Response {
    let r = sb.lock().genstore.deliver(&id);
    outcome(&sb, r)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Cancel {
    reason: Option<String>,
}

async fn genstore_cancel(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    body: Option<Json<Cancel>>,
) -> Response {
    let reason = body
        .and_then(|Json(c)| c.reason)
        .unwrap_or_else(|| "customer".into());
    let r = sb.lock().genstore.cancel_order(&id, &reason);
    outcome(&sb, r)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RefundBody {
    line_items: Vec<LineQtyBody>,
    note: Option<String>,
}

async fn genstore_refund(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    Json(b): Json<RefundBody>,
) -> Response {
    let lines = line_qtys(b.line_items);
    let r = sb
        .lock()
        .genstore
        .refund(&id, &lines, b.note.as_deref().unwrap_or("refund"));
    outcome(&sb, r)
}

async fn zonos_orders(State(sb): State<Sandbox>) -> Json<Vec<Value>> {
    Json(
        sb.lock()
            .zonos
            .orders
            .iter()
            .map(|o| Value::Object(o.order.clone()))
            .collect(),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateZonos {
    #[serde(flatten)]
    order: NewZonosOrder,
    count: Option<usize>,
}

async fn zonos_create(State(sb): State<Sandbox>, Json(c): Json<CreateZonos>) -> Json<Value> {
    let store = sb.config.zonos_store;
    let mut st = sb.lock();
    let ids: Vec<String> = (0..c.count.unwrap_or(1).max(1))
        .map(|_| st.zonos.create(store, &c.order))
        .collect();
    Json(json!({"orderIds": ids}))
}

#[derive(Debug, Deserialize)]
struct StatusBody {
    status: String,
}

async fn zonos_status(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    Json(b): Json<StatusBody>,
) -> Response {
    let store = sb.config.zonos_store;
    let mut st = sb.lock();
    match st.zonos.find(store, &id) {
        Some(i) => {
            st.zonos.set_status(i, &b.status);
            Json(json!({"order": st.zonos.orders[i].order})).into_response()
        }
        None => refused(StatusCode::NOT_FOUND, "no such order"),
    }
}

async fn google_orders(State(sb): State<Sandbox>) -> Json<Vec<crate::google::model::Order>> {
    Json(
        sb.lock()
            .google
            .orders
            .values()
            .map(|o| o.order.clone())
            .collect(),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CreateGoogle {
    template: Option<String>,
    count: Option<usize>,
    advance: bool,
}

async fn google_create(State(sb): State<Sandbox>, body: Option<Json<CreateGoogle>>) -> Response {
    let c = body.map(|Json(c)| c).unwrap_or_default();
    let template = c.template.unwrap_or_else(|| "template1".into());
    let merchant = sb.config.google_merchant_id.clone();
    let mut st = sb.lock();
    let mut ids = Vec::new();
    for _ in 0..c.count.unwrap_or(1).max(1) {
        let Some(id) = st
            .google
            .create_test_order(&merchant, &template, chrono::Utc::now())
        else {
            return refused(
                StatusCode::BAD_REQUEST,
                format!("unknown template {template}"),
            );
        };
        if c.advance {
            if let Some(o) = st.google.orders.get_mut(&id) {
                o.order.status = "pendingShipment".into();
            }
        }
        ids.push(id);
    }
    Json(json!({"orderIds": ids})).into_response()
}

/// What a Google-side action on an order takes: a refund's amount, a return's line and quantity.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct GoogleChange {
    amount: Option<rust_decimal::Decimal>,
    reason: Option<String>,
    line_item_id: Option<String>,
    quantity: Option<u32>,
}

/// What the merchant or the customer does on Google's side: `advance` (Google confirms the order),
/// `cancel-by-customer`, `refund` (`{"amount", "reason"}`: a refund made in Merchant Center),
/// `return` (`{"lineItemId", "quantity"}`: the customer asks to send units back) and `receive-return`
/// (the same: the units arrive, `quantityReturned` grows and the status follows).
async fn google_action(
    State(sb): State<Sandbox>,
    Path((id, action)): Path<(String, String)>,
    body: Option<Json<GoogleChange>>,
) -> Response {
    let change = body.map(|Json(c)| c).unwrap_or_default();
    let mut st = sb.lock();
    let Some(o) = st.google.orders.get_mut(&id) else {
        return refused(StatusCode::NOT_FOUND, "no such order");
    };
    let line = change.line_item_id.as_deref().unwrap_or_default();
    let quantity = change.quantity.unwrap_or(0);
    let done = match action.as_str() {
        "refund" => o.refund_on_google(
            change.amount.unwrap_or_default(),
            change.reason.as_deref().unwrap_or("courtesyAdjustment"),
        ),
        "return" => o.ask_return(line, quantity),
        "receive-return" => o.receive_return(line, quantity),
        "advance" if o.order.status == "inProgress" => {
            o.order.status = "pendingShipment".into();
            Ok(())
        }
        "advance" => Err("only inProgress orders advance".into()),
        "cancel-by-customer" => {
            for l in &mut o.order.line_items {
                l.quantity_canceled = l.quantity_ordered.saturating_sub(l.quantity_shipped);
                l.quantity_pending = 0;
            }
            o.order.status = "canceled".into();
            Ok(())
        }
        _ => return refused(StatusCode::NOT_FOUND, format!("no action {action}")),
    };
    match done {
        Ok(()) => Json(json!({"order": o.order})).into_response(),
        Err(e) => refused(StatusCode::BAD_REQUEST, e),
    }
}

/// Fills a fresh sandbox with a few orders on every platform, so a standalone sandbox has something to
/// show: two Zonos orders (one a test order), two Google test orders ready to ship, one Genstore order.
pub fn seed(sb: &Sandbox) {
    use crate::scenario::{self, ZonosPlacing, MUG, TEAPOT};
    let store = sb.config.zonos_store;
    let merchant = sb.config.google_merchant_id.clone();
    for test_order in [false, true] {
        let placing = ZonosPlacing {
            test_order,
            service_level: "DHL_EXPRESS_WORLDWIDE",
            placed_hours_ago: 2,
        };
        scenario::zonos_order(sb, store, MUG, 2, placing);
    }
    for _ in 0..2 {
        scenario::google_order(sb, &merchant, "template1", None, false);
    }
    // A seed that cannot place it simply has one order fewer.
    let _ = scenario::genstore_order(sb, TEAPOT, TEAPOT.sku);
}
