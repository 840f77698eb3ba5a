//! Google's order writes (`orders/{id}/{action}`): each body checked against the v2.1 reference, its
//! operation id remembered (the same id again is answered `duplicate`), then applied to the order as
//! Google would — shipments, corrections, cancellations and refunds with their quantities kept true.

use super::answers::{bad, error, json_body, Gated};
use super::model as g;
use super::schema::{CANCEL_REASONS, REFUND_ITEM_REASONS, REFUND_ORDER_REASONS};
use super::state::{price, GoogleState};
use crate::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad(format!("Invalid request body: {e}")))
}

fn executed(kind: &str, status: &str) -> Response {
    Json(json!({"kind": format!("content#orders{kind}Response"), "executionStatus": status}))
        .into_response()
}

/// Finds the line a write names, by `lineItemId` or else `productId`.
fn line_index(order: &g::Order, line: &g::LineRef) -> Result<usize, Response> {
    let found =
        order
            .line_items
            .iter()
            .position(|l| match (&line.line_item_id, &line.product_id) {
                (Some(id), _) => &l.id == id,
                (None, Some(pid)) => &l.product.id == pid,
                (None, None) => false,
            });
    found.ok_or_else(|| bad("Either lineItemId or productId must name a line item of the order"))
}

pub(crate) async fn write(
    State(sb): State<Sandbox>,
    _: Gated,
    Path((_, id, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let op = match json_body(&body, super::schema::request_schema(&action)) {
        Ok(v) => v,
        Err(r) => return r,
    };
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
        .filter_map(|o| Some((o.order.merchant_order_id.clone()?, o.order.id.clone())))
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
            order.acknowledged = true;
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
        "shipLineItems" => parse::<g::ShipRequest>(&body).and_then(|req| ship(order, req, &now)),
        "updateShipment" => parse::<g::UpdateShipmentRequest>(&body)
            .and_then(|req| update_shipment(order, req, &now)),
        "cancelLineItem" => reason_in(&op, CANCEL_REASONS)
            .and_then(|()| parse::<g::CancelLineRequest>(&body))
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

/// The body's `reason` is one of `allowed`.
fn reason_in(body: &Value, allowed: &[&str]) -> Result<(), Response> {
    match body.get("reason").and_then(Value::as_str) {
        Some(r) if allowed.contains(&r) => Ok(()),
        Some(r) => Err(bad(format!("Invalid reason {r}"))),
        None => Err(bad("reason is required")),
    }
}

/// `cancel`: every line's cancellable quantity, one reason.
fn cancel_whole(order: &mut g::Order, body: &Value, now: &str) -> Result<(), Response> {
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
        let left = l.left();
        if left == 0 {
            continue;
        }
        any = true;
        l.quantity_canceled += left;
        l.cancellations
            .push(cancellation(now, left, reason, text.to_owned()));
    }
    if !any {
        return Err(bad("Nothing left to cancel"));
    }
    if order.status == "inProgress" {
        order.status = "pendingShipment".into();
    }
    GoogleState::recompute(order);
    Ok(())
}

fn cancellation(now: &str, quantity: u32, reason: &str, text: String) -> g::Cancellation {
    g::Cancellation {
        actor: "merchant".into(),
        creation_date: now.to_owned(),
        quantity,
        reason: reason.to_owned(),
        reason_text: text,
    }
}

/// A refund of `total` by the merchant, taken off the order's net amount.
fn refunded(order: &mut g::Order, total: Decimal, now: &str, reason: &str, text: Option<String>) {
    let currency = order.currency();
    order.refunds.push(g::Refund {
        actor: "merchant".into(),
        amount: price(total, &currency),
        creation_date: now.to_owned(),
        reason: reason.to_owned(),
        reason_text: text,
    });
    order.net_price_amount.value -= total;
}

/// `refundorder`: an amount (or everything) of the order, no lines.
fn refund_whole(order: &mut g::Order, body: &Value, now: &str) -> Result<(), Response> {
    reason_in(body, REFUND_ORDER_REASONS)?;
    let currency = order.currency();
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
        order.net_price_amount.value
    } else {
        if body.get("amount").is_none() {
            return Err(bad("Either amount or fullRefund must be provided"));
        }
        money("priceAmount")? + money("taxAmount")?
    };
    if total <= Decimal::ZERO {
        return Err(bad("The amount to refund must be positive"));
    }
    let text = body
        .get("reasonText")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let reason = body
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default();
    refunded(order, total, now, reason, text);
    Ok(())
}

fn ship(order: &mut g::Order, req: g::ShipRequest, now: &str) -> Result<(), Response> {
    if !matches!(
        order.status.as_str(),
        "pendingShipment" | "partiallyShipped" | "shipped" | "partiallyDelivered"
    ) {
        return Err(bad(format!(
            "Order in status {} cannot be shipped",
            order.status
        )));
    }
    if req.line_items.is_empty() {
        return Err(bad("lineItems must not be empty"));
    }
    if req.shipment_infos.is_empty() {
        return Err(bad("shipmentInfos must not be empty"));
    }
    let existing: HashSet<&str> = order.shipments.iter().map(|s| s.id.as_str()).collect();
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
        let i = line_index(order, item)?;
        let l = &order.line_items[i];
        let left = l.left();
        let already: u32 = plan.iter().filter(|(j, _)| *j == i).map(|(_, q)| *q).sum();
        if item.quantity == 0 || item.quantity + already > left {
            return Err(bad(format!(
                "Invalid quantity for line item {}: {} requested, {left} left to ship",
                l.id, item.quantity
            )));
        }
        plan.push((i, item.quantity));
    }
    let lines: Vec<g::ShipmentLine> = plan
        .iter()
        .map(|(i, q)| g::ShipmentLine {
            line_item_id: order.line_items[*i].id.clone(),
            quantity: *q,
        })
        .collect();
    for (i, q) in &plan {
        order.line_items[*i].quantity_shipped += q;
    }
    for (n, info) in req.shipment_infos.into_iter().enumerate() {
        order.shipments.push(g::Shipment {
            id: info.shipment_id,
            carrier: info.carrier,
            tracking_id: info.tracking_id,
            status: "shipped".into(),
            creation_date: now.to_owned(),
            delivery_date: None,
            shipment_group_id: req.shipment_group_id.clone(),
            line_items: if n == 0 { lines.clone() } else { Vec::new() },
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
        .position(|s| s.id == req.shipment_id)
        .ok_or_else(|| bad(format!("shipmentId {} not found", req.shipment_id)))?;
    if let Some(status) = req.status.as_deref() {
        if !matches!(status, "delivered" | "undeliverable" | "readyForPickup") {
            return Err(bad(format!("Invalid shipment status {status}")));
        }
    }
    let was_delivered = order.shipments[idx].status == "delivered";
    let shipment = &mut order.shipments[idx];
    if let Some(c) = req.carrier {
        shipment.carrier = Some(c);
    }
    if let Some(t) = req.tracking_id {
        shipment.tracking_id = Some(t);
    }
    if let Some(status) = req.status {
        shipment.status = status.clone();
        if status == "delivered" {
            shipment.delivery_date = Some(req.delivery_date.unwrap_or_else(|| now.to_owned()));
        }
    }
    let now_delivered = order.shipments[idx].status == "delivered";
    if now_delivered && !was_delivered {
        let lines = order.shipments[idx].line_items.clone();
        for sl in lines {
            if let Some(l) = order
                .line_items
                .iter_mut()
                .find(|l| l.id == sl.line_item_id)
            {
                l.quantity_delivered += sl.quantity;
            }
        }
    }
    GoogleState::recompute(order);
    Ok(())
}

fn cancel_line(order: &mut g::Order, req: g::CancelLineRequest, now: &str) -> Result<(), Response> {
    let i = line_index(order, &req.line)?;
    let l = &mut order.line_items[i];
    let left = l.left();
    let quantity = req.line.quantity;
    if quantity == 0 || quantity > left {
        return Err(bad(format!(
            "Invalid quantity to cancel: {quantity} requested, {left} cancellable"
        )));
    }
    l.quantity_canceled += quantity;
    l.cancellations
        .push(cancellation(now, quantity, &req.reason, req.reason_text));
    if order.status == "inProgress" {
        order.status = "pendingShipment".into();
    }
    GoogleState::recompute(order);
    Ok(())
}

fn refund(order: &mut g::Order, req: g::RefundItemRequest, now: &str) -> Result<(), Response> {
    if req.items.is_empty() && req.shipping.is_none() {
        return Err(bad("Either items or shipping must be provided"));
    }
    let mut total = Decimal::ZERO;
    for item in &req.items {
        let l = &order.line_items[line_index(order, &item.line)?];
        let quantity = item.line.quantity;
        if quantity == 0 || quantity > l.quantity_ordered {
            return Err(bad("Invalid quantity to refund"));
        }
        total += match (item.full_refund, &item.amount) {
            (Some(true), _) | (_, None) => l.product.price.value * Decimal::from(quantity),
            (_, Some(a)) => {
                a.price_amount.value + a.tax_amount.as_ref().map(|t| t.value).unwrap_or_default()
            }
        };
    }
    if let Some(s) = &req.shipping {
        total += s.amount.as_ref().map(|a| a.value).unwrap_or_default();
    }
    refunded(order, total, now, &req.reason, Some(req.reason_text));
    Ok(())
}
