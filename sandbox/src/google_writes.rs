//! Google's order writes (`orders/{id}/{action}`): each body checked against the v2.1 reference, its
//! operation id remembered (the same id again is answered `duplicate`), then applied to the order as
//! Google would — shipments, corrections, cancellations and refunds with their quantities kept true.

use crate::google::{bad, error, gate, json_body, price, GoogleState};
use crate::google_schema::{CANCEL_REASONS, REFUND_ITEM_REASONS, REFUND_ORDER_REASONS};
use crate::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use orderbridge::channels::google::wire as g;
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

pub(crate) async fn write(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((merchant, id, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&sb, &headers, &merchant) {
        return r;
    }
    let op = match json_body(&body, crate::google_schema::request_schema(&action)) {
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
