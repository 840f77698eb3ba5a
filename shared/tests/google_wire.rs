//! Google's wire format against the v2.1 reference schema: fixtures use only the schema's properties,
//! orders and every request and response round-trip, `duplicate` reads as a success, and orders map.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use orderbridge::carrier::Carrier;
use orderbridge::channels::google::{self, wire};
use orderbridge::order::ShipmentStatus;
use orderbridge::{Channel, UnifiedStatus};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::str::FromStr;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/google/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&bytes).unwrap()
}

fn schema() -> Value {
    fixture("reference-v2.1.json")["schemas"].clone()
}

/// Every key of `value` is a property of `schema_name`, recursively through `$ref`s and arrays.
fn assert_keys_in_schema(value: &Value, schema_name: &str, schemas: &Value, path: &str) {
    let props = &schemas[schema_name]["properties"];
    assert!(
        props.is_object(),
        "{path}: schema {schema_name} has properties"
    );
    let Some(obj) = value.as_object() else { return };
    for (k, v) in obj {
        let prop = &props[k];
        assert!(
            !prop.is_null(),
            "{path}.{k} is not a property of {schema_name}"
        );
        let target = prop["$ref"]
            .as_str()
            .or_else(|| prop["items"]["$ref"].as_str());
        // The condensed reference names some nested types without spelling out their properties.
        if let Some(t) = target.filter(|t| schemas[*t]["properties"].is_object()) {
            match v {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        assert_keys_in_schema(item, t, schemas, &format!("{path}.{k}[{i}]"));
                    }
                }
                other => assert_keys_in_schema(other, t, schemas, &format!("{path}.{k}")),
            }
        }
    }
}

fn round_trip<T: Serialize + DeserializeOwned>(name: &str) -> T {
    let json = fixture(name);
    let parsed: T = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        serde_json::to_value(&parsed).unwrap(),
        json,
        "{name} serialises back exactly"
    );
    parsed
}

#[test]
fn fixtures_use_only_the_reference_schemas_properties() {
    let s = schema();
    let cases = [
        ("order-two-shipments.json", "Order"),
        ("list-page-1.json", "OrdersListResponse"),
        ("list-page-2.json", "OrdersListResponse"),
        ("request-acknowledge.json", "OrdersAcknowledgeRequest"),
        (
            "request-update-merchant-order-id.json",
            "OrdersUpdateMerchantOrderIdRequest",
        ),
        ("request-ship-line-items.json", "OrdersShipLineItemsRequest"),
        (
            "request-update-shipment.json",
            "OrdersUpdateShipmentRequest",
        ),
        (
            "request-cancel-line-item.json",
            "OrdersCancelLineItemRequest",
        ),
        ("request-refund-item.json", "OrdersRefundItemRequest"),
        (
            "request-create-test-order.json",
            "OrdersCreateTestOrderRequest",
        ),
        (
            "request-cancel-test-order-by-customer.json",
            "OrdersCancelTestOrderByCustomerRequest",
        ),
        (
            "response-acknowledge-executed.json",
            "OrdersAcknowledgeResponse",
        ),
        (
            "response-ship-line-items-duplicate.json",
            "OrdersShipLineItemsResponse",
        ),
        (
            "response-create-test-order.json",
            "OrdersCreateTestOrderResponse",
        ),
        (
            "response-get-by-merchant-order-id.json",
            "OrdersGetByMerchantOrderIdResponse",
        ),
    ];
    for (name, schema_name) in cases {
        assert_keys_in_schema(&fixture(name), schema_name, &s, name);
    }
    assert_keys_in_schema(
        &fixture("error-400.json")["error"],
        "Errors (v2sandbox)",
        &s,
        "error-400",
    );
}

#[test]
fn orders_and_list_pages_round_trip() {
    let order: wire::Order = round_trip("order-two-shipments.json");
    assert_eq!(order.shipments.len(), 2);
    assert_eq!(order.line_items[0].quantity_shipped, Some(2));
    let page1: wire::OrdersListResponse = round_trip("list-page-1.json");
    assert_eq!(page1.next_page_token.as_deref(), Some("page-2"));
    let page2: wire::OrdersListResponse = round_trip("list-page-2.json");
    assert_eq!(page2.next_page_token, None);
    assert_eq!(page2.resources[0].acknowledged, Some(false));
    let by_id: wire::GetByMerchantOrderIdResponse =
        round_trip("response-get-by-merchant-order-id.json");
    assert_eq!(by_id.order.id.as_deref(), Some("TEST-1001"));
}

#[test]
fn every_write_request_round_trips() {
    let _: wire::AcknowledgeRequest = round_trip("request-acknowledge.json");
    let _: wire::UpdateMerchantOrderIdRequest = round_trip("request-update-merchant-order-id.json");
    let ship: wire::ShipLineItemsRequest = round_trip("request-ship-line-items.json");
    assert_eq!(
        ship.shipment_infos.len(),
        2,
        "one line shipped in two packages"
    );
    let upd: wire::UpdateShipmentRequest = round_trip("request-update-shipment.json");
    assert_eq!(upd.status.as_deref(), Some("delivered"));
    let _: wire::CancelLineItemRequest = round_trip("request-cancel-line-item.json");
    let refund: wire::RefundItemRequest = round_trip("request-refund-item.json");
    assert_eq!(
        refund.items[0].amount.as_ref().unwrap().price_amount.value,
        Some(Decimal::from_str("10.00").unwrap())
    );
    let _: wire::CreateTestOrderRequest = round_trip("request-create-test-order.json");
    let _: wire::CancelTestOrderByCustomerRequest =
        round_trip("request-cancel-test-order-by-customer.json");
    let created: wire::CreateTestOrderResponse = round_trip("response-create-test-order.json");
    assert_eq!(created.order_id, "G-PLA-7877-86-2240");
}

#[test]
fn executed_and_duplicate_are_both_answers_and_garbage_is_not() {
    let ack: wire::ExecutionResponse = round_trip("response-acknowledge-executed.json");
    assert_eq!(ack.execution_status, wire::ExecutionStatus::Executed);
    let dup: wire::ExecutionResponse = round_trip("response-ship-line-items-duplicate.json");
    assert_eq!(dup.execution_status, wire::ExecutionStatus::Duplicate);
    assert!(
        serde_json::from_str::<wire::ExecutionResponse>(r#"{"executionStatus":"maybe"}"#).is_err()
    );
    assert!(serde_json::from_str::<wire::ExecutionResponse>("{}").is_err());
}

#[test]
fn the_error_body_parses() {
    let e: wire::ErrorBody = round_trip("error-400.json");
    assert_eq!(e.error.code, 400);
    assert_eq!(e.error.errors[0].reason, "invalid");
    let rate: wire::ErrorBody = round_trip("error-429.json");
    assert_eq!(rate.error.errors[0].reason, "rateLimitExceeded");
}

#[test]
fn an_order_with_two_shipments_and_a_partially_shipped_line_maps() {
    let order: wire::Order = serde_json::from_value(fixture("order-two-shipments.json")).unwrap();
    let d = google::to_channel_order(&order).unwrap();
    assert_eq!(d.channel, Channel::Google);
    assert_eq!(d.order_id.as_str(), "G-PLA-7877-86-2240");
    assert_eq!(d.status, UnifiedStatus::PartiallyShipped);
    assert_eq!(d.raw_status, "partiallyShipped");
    let mug = &d.line_items[0];
    assert_eq!(mug.sku.as_ref().unwrap().as_str(), "MUG-1");
    assert_eq!(mug.unit_price, Decimal::from_str("10.00").unwrap());
    let q = mug.quantities;
    assert_eq!(
        (q.ordered, q.shipped, q.delivered, q.cancelled),
        (3, 2, 1, 0)
    );
    assert_eq!(q.left_to_ship(), 1);
    let plate = d.line_items[1].quantities;
    assert_eq!(
        (plate.ordered, plate.cancelled, plate.left_to_ship()),
        (2, 1, 1)
    );
    assert_eq!(d.shipments.len(), 2);
    assert_eq!(d.shipments[0].carrier, Some(Carrier::Ups));
    assert_eq!(d.shipments[0].status, ShipmentStatus::Delivered);
    assert!(d.shipments[0]
        .tracking_url
        .as_deref()
        .unwrap()
        .contains("ups.com"));
    assert_eq!(d.shipments[1].carrier, Some(Carrier::Fedex));
    assert_eq!(d.shipments[1].status, ShipmentStatus::Shipped);
    // What the customer paid: the net price with its refund added back (35.00 + 5.00), tax on the
    // lines and on shipping (2.80 + 0.40), and shipping (4.99).
    assert_eq!(d.totals.total, Decimal::from_str("48.19").unwrap());
    assert_eq!(d.totals.subtotal, Some(Decimal::from_str("40.00").unwrap()));
    assert_eq!(d.totals.shipping, Some(Decimal::from_str("4.99").unwrap()));
    assert_eq!(d.totals.tax, Some(Decimal::from_str("3.20").unwrap()));
    assert_eq!(
        d.totals.discounts, None,
        "the lines cost what was paid for them"
    );
    assert_eq!(d.refunds.len(), 1);
    assert_eq!(d.refunds[0].id.as_ref().unwrap().as_str(), "google-1");
    assert_eq!(
        d.refunds[0].echo_of, None,
        "made on Google, not pushed there"
    );
    assert_eq!(
        d.updated_at.to_rfc3339(),
        "2024-05-04T15:00:00+00:00",
        "the latest dated event"
    );
    assert_eq!(
        d.shipping_address
            .as_ref()
            .and_then(|a| a.expose().country_code.as_deref()),
        Some("US")
    );
    assert!(!format!("{d:?}").contains("Pat Doe"));
}

#[test]
fn unknown_statuses_are_kept_and_unknown_fields_ignored() {
    let order: wire::Order =
        serde_json::from_value(fixture("order-unknown-status-and-fields.json")).unwrap();
    let d = google::to_channel_order(&order).unwrap();
    assert_eq!(d.status, UnifiedStatus::Unknown);
    assert_eq!(d.raw_status, "pendingReturn");
}

#[test]
fn garbage_is_reported_with_the_field() {
    let bytes = serde_json::to_vec(&fixture("order-garbage-quantity.json")).unwrap();
    let e =
        orderbridge::error::parse_body::<wire::Order>(Channel::Google, "id", &bytes).unwrap_err();
    assert_eq!(e.order, "G-PLA-7877-86-2240");
    assert_eq!(e.field, "lineItems[0].quantityOrdered");
    let mut order: wire::Order =
        serde_json::from_value(fixture("order-two-shipments.json")).unwrap();
    order.placed_date = Some("last tuesday".into());
    let e = google::to_channel_order(&order).unwrap_err();
    assert_eq!(e.field, "placedDate");
    order.placed_date = Some("2024-05-01".into());
    order.shipments[1].status = Some("teleported".into());
    assert_eq!(
        google::to_channel_order(&order).unwrap_err().field,
        "shipments[1].status"
    );
}

#[test]
fn every_seed_003_example_parses_under_v2_1_except_the_v2_ship_body() {
    let _: wire::CreateTestOrderRequest = round_trip("seed003-createtestorder-request.json");
    let created: wire::CreateTestOrderResponse =
        round_trip("seed003-createtestorder-response.json");
    assert_eq!(created.order_id, "G-PLA-7877-86-2240");
    assert_eq!(
        fixture("seed003-advancetestorder-request.json")["orderId"],
        "G-PLA-7877-86-2240"
    );
    let ack: wire::AcknowledgeRequest = round_trip("seed003-acknowledge-request.json");
    assert_eq!(ack.operation_id, "operation-1");
    let umo: wire::UpdateMerchantOrderIdRequest =
        round_trip("seed003-updatemerchantorderid-request.json");
    assert_eq!(umo.merchant_order_id, "unique_value_within_mc_account");
    let upd: wire::UpdateShipmentRequest = round_trip("seed003-updateshipment-request.json");
    assert_eq!(
        (upd.shipment_id.as_str(), upd.status.as_deref()),
        ("shipment-1", Some("delivered"))
    );
    // The seed walks through v2, whose shipLineItems put carrier and trackingId at the top. v2.1 moved
    // them into shipmentInfos[], so the v2 body is not a v2.1 request.
    let v2 = fixture("seed003-shiplineitems-request-v2.json");
    assert!(v2["carrier"].is_string());
    assert!(serde_json::from_value::<wire::ShipLineItemsRequest>(v2).is_err());
}

#[test]
fn promotions_returns_and_echoed_refunds_map() {
    let mut v = fixture("order-two-shipments.json");
    // A promotion of 6.00 on the lines: Google's net price is that much below the lines' prices.
    v["netPriceAmount"]["value"] = serde_json::json!("29.00");
    v["lineItems"][0]["quantityReturned"] = serde_json::json!(1);
    v["lineItems"][0]["returns"] = serde_json::json!([
        {"actor": "customer", "creationDate": "2024-05-06T10:00:00Z", "quantity": 1,
         "reason": "productArrivedDamaged"},
        {"actor": "customer", "creationDate": "2024-05-07T10:00:00Z", "quantity": 1,
         "reason": "customerDiscretionaryReturn"}
    ]);
    v["refunds"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
        "actor": "merchant", "amount": {"value": "3.00", "currency": "USD"},
        "creationDate": "2024-05-02T09:05:00Z", "reason": "adjustment",
        "reasonText": "Genstore refund 7001: refunded in the merchant's store"}));
    let order: wire::Order = serde_json::from_value(v).unwrap();
    let d = google::to_channel_order(&order).unwrap();
    let q = d.line_items[0].quantities;
    assert_eq!(
        (q.return_requested, q.returned, q.returns_open()),
        (2, 1, 1)
    );
    assert_eq!(d.returns(), (1, 1));
    assert_eq!(d.updated_at.to_rfc3339(), "2024-05-07T10:00:00+00:00");
    assert_eq!(d.refunds[1].id.as_ref().unwrap().as_str(), "google-2");
    assert_eq!(d.refunds[1].echo_of.as_ref().unwrap().as_str(), "7001");
    assert_eq!(
        d.own_refunds().count(),
        1,
        "the echo is not Google's own refund"
    );
    // Paid: 29.00 + 5.00 + 3.00 refunded back = 37.00 for lines of 40.00, so 3.00 of promotions.
    assert_eq!(d.totals.discounts, Some(Decimal::from_str("3.00").unwrap()));
    assert_eq!(d.totals.total, Decimal::from_str("45.19").unwrap());
}
