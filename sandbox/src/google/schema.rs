//! Google's request bodies checked against the Content API v2.1 reference itself (`data/`, a copy of
//! the project's condensed discovery document), not the client's types: a property the reference does
//! not name, at any depth, is refused as Google refuses one —
//! `400 Invalid JSON payload received. Unknown name "x" at 'path': Cannot find field.` (issue 18).
//! The sandbox's own answers (orders, lists) are checked against the same reference before they leave.

use serde_json::Value;
use std::sync::OnceLock;

static REFERENCE: &str = include_str!("../../data/google-content-orders-v2.1.json");

fn schemas() -> &'static Value {
    static PARSED: OnceLock<Value> = OnceLock::new();
    PARSED.get_or_init(|| {
        serde_json::from_str::<Value>(REFERENCE)
            .ok()
            .and_then(|v| v.get("schemas").cloned())
            .unwrap_or(Value::Null)
    })
}

/// The reference's request schema of an `orders/{id}/{action}` call.
pub fn request_schema(action: &str) -> Option<&'static str> {
    Some(match action {
        "acknowledge" => "OrdersAcknowledgeRequest",
        "updateMerchantOrderId" => "OrdersUpdateMerchantOrderIdRequest",
        "shipLineItems" => "OrdersShipLineItemsRequest",
        "updateShipment" => "OrdersUpdateShipmentRequest",
        "cancel" => "OrdersCancelRequest",
        "cancelLineItem" => "OrdersCancelLineItemRequest",
        "refunditem" => "OrdersRefundItemRequest",
        "refundorder" => "OrdersRefundOrderRequest",
        _ => return None,
    })
}

/// The first property of `body` that schema `name` does not have, as Google words the refusal.
pub fn unknown_field(body: &Value, name: &str) -> Option<String> {
    walk(body, schemas().get(name)?, "")
}

fn walk(value: &Value, schema: &Value, at: &str) -> Option<String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return walk(value, schemas().get(r)?, at);
    }
    match value {
        Value::Object(obj) => {
            let props = schema.get("properties")?.as_object()?;
            for (k, v) in obj {
                let Some(p) = props.get(k) else {
                    return Some(format!(
                        "Invalid JSON payload received. Unknown name \"{k}\" at '{}': Cannot find field.",
                        if at.is_empty() { "" } else { at }
                    ));
                };
                let next = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                if let Some(found) = walk(v, p, &next) {
                    return Some(found);
                }
            }
            None
        }
        Value::Array(items) => {
            let item = schema.get("items")?;
            items
                .iter()
                .enumerate()
                .find_map(|(i, v)| walk(v, item, &format!("{at}[{i}]")))
        }
        _ => None,
    }
}

/// `OrdersCancelRequest.reason` and `OrdersCancelLineItemRequest.reason`, as the reference lists them.
pub const CANCEL_REASONS: &[&str] = &[
    "customerInitiatedCancel",
    "invalidCoupon",
    "malformedShippingAddress",
    "noInventory",
    "other",
    "priceError",
    "shippingPriceError",
    "taxError",
    "undeliverableShippingAddress",
    "unsupportedPoBoxAddress",
    "failedToCaptureFunds",
];

/// `OrdersRefundItemRequest.reason`.
pub const REFUND_ITEM_REASONS: &[&str] = &[
    "shippingCostAdjustment",
    "priceAdjustment",
    "taxAdjustment",
    "feeAdjustment",
    "courtesyAdjustment",
    "adjustment",
    "customerCancelled",
    "noInventory",
    "productNotAsDescribed",
    "undeliverableShippingAddress",
    "wrongProductShipped",
    "lateShipmentCredit",
    "deliveredLateByCarrier",
    "productArrivedDamaged",
];

/// `OrdersRefundOrderRequest.reason`.
pub const REFUND_ORDER_REASONS: &[&str] = &["courtesyAdjustment", "other"];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_reference_names_every_key_of_a_good_body_and_finds_a_wrong_one() {
        let good = json!({"operationId": "o1", "shipmentGroupId": "g",
            "lineItems": [{"lineItemId": "l1", "quantity": 1}],
            "shipmentInfos": [{"shipmentId": "s1", "carrier": "ups", "trackingId": "1Z"}]});
        assert_eq!(unknown_field(&good, "OrdersShipLineItemsRequest"), None);
        let mut bad = good.clone();
        bad["shipmentInfos"][0]["trackingNumber"] = json!("1Z");
        assert_eq!(
            unknown_field(&bad, "OrdersShipLineItemsRequest").as_deref(),
            Some("Invalid JSON payload received. Unknown name \"trackingNumber\" at 'shipmentInfos[0]': Cannot find field.")
        );
        let refund = json!({"operationId": "o", "reason": "adjustment", "reasonText": "x",
            "items": [{"lineItemId": "l1", "quantity": 1, "amount": {"priceAmount": {"value": "1", "currency": "USD"},
            "taxAmount": {"value": "0", "currency": "USD"}}}],
            "shipping": {"fullRefund": false, "amount": {"value": "1", "currency": "USD"}}});
        assert_eq!(
            unknown_field(&refund, "OrdersRefundItemRequest"),
            None,
            "{refund}"
        );
        // The same walk reads the sandbox's answers: an order with a name the reference lacks.
        let order = json!({"id": "G-1", "lineItems": [{"id": "l1", "quantityOrdered": 1}],
            "shipments": [{"id": "gs-1", "trackingId": "1Z", "carrier": "ups"}]});
        assert_eq!(unknown_field(&order, "Order"), None);
        let mut misspelt = order.clone();
        misspelt["shipments"][0]["trackingID"] = json!("1Z");
        assert!(unknown_field(&misspelt, "Order")
            .is_some_and(|m| m.contains("trackingID") && m.contains("shipments[0]")));
        for action in [
            "acknowledge",
            "updateMerchantOrderId",
            "shipLineItems",
            "updateShipment",
            "cancel",
            "cancelLineItem",
            "refunditem",
            "refundorder",
        ] {
            let name = request_schema(action).unwrap();
            assert!(schemas().get(name).is_some(), "{name} is in the reference");
        }
    }
}
