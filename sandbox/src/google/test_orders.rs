//! Google's test orders (`testorders`): created from the documented templates, advanced, and
//! cancelled by the customer.

use super::answers::{bad, error, json_body, Gated};
use super::model as g;
use crate::{platform_error, Sandbox};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use orderbridge::channel::Channel;
use serde_json::{json, Value};

pub(crate) async fn create_test_order(
    State(sb): State<Sandbox>,
    _: Gated,
    Path(merchant): Path<String>,
    body: Bytes,
) -> Response {
    // Read in the reference's own terms: its keys, then `templateName` (a string; template1 if absent).
    let req = match body_checked(&body, "OrdersCreateTestOrderRequest") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let name = match req.get("templateName") {
        None | Some(Value::Null) => "template1".to_owned(),
        Some(Value::String(t)) => t.clone(),
        Some(_) => return bad("templateName must be a string"),
    };
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

pub(crate) async fn test_order_action(
    State(sb): State<Sandbox>,
    _: Gated,
    Path((_, id, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    // `advance` takes no body; `cancelByCustomer` an `OrdersCancelTestOrderByCustomerRequest`.
    if action == "cancelByCustomer" && !body.is_empty() {
        if let Err(r) = body_checked(&body, "OrdersCancelTestOrderByCustomerRequest") {
            return r;
        }
    }
    let mut st = sb.lock();
    if action == "advance" && st.google.orders.contains_key(&id) {
        return match st.google.advance_test_order(&id) {
            Ok(()) => {
                Json(json!({"kind": "content#ordersAdvanceTestOrderResponse"})).into_response()
            }
            Err(refusal) => bad(refusal),
        };
    }
    let Some(rec) = st.google.orders.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "notFound", "Order not found");
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match action.as_str() {
        "cancelByCustomer" => {
            if rec.order.line_items.iter().any(|l| l.quantity_shipped > 0) {
                return bad("Shipped orders cannot be cancelled by the customer");
            }
            for l in &mut rec.order.line_items {
                let left = l.quantity_ordered.saturating_sub(l.quantity_canceled);
                if left > 0 {
                    l.quantity_canceled = l.quantity_ordered;
                    l.quantity_pending = 0;
                    l.cancellations.push(g::Cancellation {
                        actor: "customer".into(),
                        creation_date: now.clone(),
                        quantity: left,
                        reason: "customerInitiatedCancel".into(),
                        reason_text: "changed mind".into(),
                    });
                }
            }
            rec.order.status = "canceled".into();
            Json(json!({"kind": "content#ordersCancelTestOrderByCustomerResponse"})).into_response()
        }
        _ => platform_error(Channel::Google, StatusCode::NOT_FOUND, "Unknown method"),
    }
}

/// A JSON object body whose keys the reference's schema `schema` has (Google's refusal otherwise).
fn body_checked(body: &Bytes, schema: &str) -> Result<Value, Response> {
    let v = json_body(body, Some(schema))?;
    if !v.is_object() {
        return Err(bad("Invalid JSON payload"));
    }
    Ok(v)
}
