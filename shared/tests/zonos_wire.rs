//! Zonos' wire format against seed 002: requests hold exactly one selector, responses with and without
//! statuses round-trip, every documented 200-with-error is a distinct outcome, and orders map.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use chrono::NaiveDate;
use orderbridge::carrier::Carrier;
use orderbridge::channels::zonos::wire::{
    self, Credentials, OrderDetailRequest, OrderDetailResponse, OrderNumbersRequest,
    OrderNumbersResponse, RequestError, SetShipmentTrackingRequest, SuccessReply,
    UpdateMerchantOrderIdRequest, UpdateVendorOrderStatusRequest, ZonosErrorKind,
};
use orderbridge::channels::zonos::{self, OrderSelector, Reply};
use orderbridge::order::ShipmentStatus;
use orderbridge::secrets::Secret;
use orderbridge::{Channel, UnifiedStatus};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/zonos/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json_fixture(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

fn creds() -> Credentials {
    Credentials {
        store: 999,
        secret: Secret::new("f5bde245-f55e-414d-b722-80b25161c12c"),
    }
}

/// Seed requests send `store` as a string; the field table says integer, which is what we send.
fn with_integer_store(mut v: Value) -> Value {
    v["store"] = json!(999);
    v
}

/// A request fixture read into `T`; it writes back as the same JSON.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(name: &str) -> T {
    let read: T = serde_json::from_value(json_fixture(name)).unwrap();
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        json_fixture(name),
        "{name}"
    );
    read
}

/// An `orderDetail` fixture in orderbridge's terms.
fn detail(name: &str) -> orderbridge::order::ChannelOrder {
    let Reply::Ok(resp) = zonos::parse_reply::<OrderDetailResponse>(&fixture(name)).unwrap() else {
        panic!("{name}: an error reply")
    };
    zonos::to_channel_order(&resp.order, None).unwrap()
}

#[test]
fn every_seed_request_parses_to_one_selector_and_serialises_back() {
    let cases = [
        (
            "request-since-order-id.json",
            OrderSelector::SinceOrderId("999-99999".into()),
            false,
        ),
        (
            "request-since-date.json",
            OrderSelector::SinceDate {
                since: NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
                through: None,
            },
            false,
        ),
        (
            "request-since-date-through-date.json",
            OrderSelector::SinceDate {
                since: NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
                through: NaiveDate::from_ymd_opt(2015, 6, 1),
            },
            false,
        ),
        (
            "request-missing-merchant-order-id.json",
            OrderSelector::MissingMerchantOrderId,
            false,
        ),
        (
            "request-statuses.json",
            OrderSelector::SinceDate {
                since: NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
                through: None,
            },
            true,
        ),
    ];
    for (name, selector, statuses) in cases {
        let seed = json_fixture(name);
        let req: OrderNumbersRequest = serde_json::from_value(seed.clone()).unwrap();
        assert_eq!(req.credentials, creds(), "{name}");
        assert_eq!(req.selector, selector, "{name}");
        assert_eq!(req.statuses, statuses, "{name}");
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            with_integer_store(seed),
            "{name}"
        );
    }
}

#[test]
fn invalid_selector_combinations_are_refused() {
    let err =
        OrderNumbersRequest::from_json(&json_fixture("request-two-selectors.json")).unwrap_err();
    assert_eq!(err, RequestError::TwoSelectors);
    let base = json!({"store": 999, "secret": "s"});
    let with = |extra: Value| {
        let mut v = base.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        OrderNumbersRequest::from_json(&v)
    };
    assert_eq!(with(json!({})).unwrap_err(), RequestError::NoSelector);
    assert_eq!(
        with(json!({"sinceOrderId": "1", "missingMerchantOrderId": true})).unwrap_err(),
        RequestError::TwoSelectors
    );
    assert_eq!(
        with(json!({"throughDate": "20150601", "sinceOrderId": "1"})).unwrap_err(),
        RequestError::ThroughDateAlone
    );
    assert!(matches!(
        with(json!({"sinceDate": "2015-01-01"})).unwrap_err(),
        RequestError::InvalidDate(_)
    ));
    assert!(matches!(
        with(json!({"sinceDate": "20150601", "throughDate": "20150101"})).unwrap_err(),
        RequestError::InvalidDate(_)
    ));
    assert!(matches!(
        with(json!({"sinceOrderId": "abc"})).unwrap_err(),
        RequestError::InvalidOrderId(_)
    ));
    assert_eq!(
        OrderNumbersRequest::from_json(&json!({"secret": "s", "sinceOrderId": "1"})).unwrap_err(),
        RequestError::InvalidCredentials
    );
    assert!(OrderSelector::since_date(
        NaiveDate::from_ymd_opt(2015, 6, 1).unwrap(),
        NaiveDate::from_ymd_opt(2015, 1, 1)
    )
    .is_err());
    assert!(OrderSelector::since_order_id("999-12345").is_ok());
    assert!(OrderSelector::since_order_id("12345").is_ok());
    assert!(OrderSelector::since_order_id("999-").is_err());
}

#[test]
fn seed_responses_parse_and_serialise_back_exactly() {
    for name in [
        "order-numbers-response.json",
        "order-numbers-response-with-statuses.json",
    ] {
        let seed = json_fixture(name);
        let reply = zonos::parse_reply::<OrderNumbersResponse>(&fixture(name)).unwrap();
        let Reply::Ok(resp) = reply else {
            panic!("{name} is a success")
        };
        assert_eq!(serde_json::to_value(&resp).unwrap(), seed, "{name}");
    }
    let Reply::Ok(plain) =
        zonos::parse_reply::<OrderNumbersResponse>(&fixture("order-numbers-response.json"))
            .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (plain.total_count, plain.order_count, plain.test_order_count),
        (6, 5, 1)
    );
    assert_eq!(plain.orders.len(), 6);
    assert!(plain.orders[1].test_order);
    assert!(plain.orders.iter().all(|o| o.status.is_none()));
    assert_eq!(
        plain.orders[0].placed_at().unwrap().to_rfc3339(),
        "2015-01-01T00:33:14+00:00"
    );
    let Reply::Ok(with) = zonos::parse_reply::<OrderNumbersResponse>(&fixture(
        "order-numbers-response-with-statuses.json",
    ))
    .unwrap() else {
        panic!()
    };
    let s0 = with.orders[0].status.as_ref().unwrap();
    assert_eq!(s0.merchant_order_id, None);
    assert_eq!(s0.order_status, "IGLOBAL_FRAUD_REVIEW");
    assert_eq!(s0.order_status_date, 1_420_097_594_000);
    assert_eq!(
        with.orders[1]
            .status
            .as_ref()
            .unwrap()
            .merchant_order_id
            .as_deref(),
        Some("abc123")
    );
}

#[test]
fn every_documented_200_error_is_a_distinct_outcome() {
    let cases = [
        (
            "error-couldnt-find-order.json",
            ZonosErrorKind::OrderNotFound,
            false,
        ),
        (
            "error-could-not-parse-input.json",
            ZonosErrorKind::CouldNotParseInput,
            false,
        ),
        (
            "error-invalid-order-id.json",
            ZonosErrorKind::InvalidOrderId,
            false,
        ),
        (
            "error-order-id-required.json",
            ZonosErrorKind::OrderIdRequired,
            false,
        ),
        (
            "error-order-id-and-reference-id.json",
            ZonosErrorKind::OrderIdAndReferenceId,
            false,
        ),
        (
            "error-cannot-process-order-detail.json",
            ZonosErrorKind::CannotProcessOrderDetail,
            true,
        ),
        (
            "error-invalid-credentials.json",
            ZonosErrorKind::InvalidCredentials,
            false,
        ),
    ];
    for (name, kind, retryable) in cases {
        match zonos::parse_reply::<OrderNumbersResponse>(&fixture(name)).unwrap() {
            Reply::Error(e) => {
                assert_eq!(e.kind(), kind, "{name}: {e}");
                assert_eq!(e.retryable(), retryable, "{name}");
                assert_eq!(json!({"error": e.message}), json_fixture(name));
            }
            Reply::Ok(_) => panic!("{name} must be an error"),
        }
    }
}

#[test]
fn garbage_answers_are_errors_not_successes() {
    assert!(zonos::parse_reply::<OrderNumbersResponse>(&fixture("error-406.html")).is_err());
    assert!(zonos::parse_reply::<OrderNumbersResponse>(b"{\"totalCount\": \"many\"}").is_err());
    assert!(zonos::parse_reply::<SuccessReply>(b"[]").is_err());
    let e = zonos::parse_reply::<OrderDetailResponse>(&fixture("order-detail-garbage-price.json"))
        .unwrap_err();
    assert_eq!(e.platform, Channel::Zonos);
    assert_eq!(e.order, "999-99991");
    assert_eq!(e.field, "order.items[1].unitPrice");
}

#[test]
fn write_requests_round_trip_and_refuse_bad_bodies() {
    let umo: UpdateMerchantOrderIdRequest = round_trip("request-update-merchant-order-id.json");
    assert_eq!(umo.merchant_order_id, "5001");

    let sst: SetShipmentTrackingRequest = round_trip("request-set-shipment-tracking.json");
    assert_eq!(
        sst.tracking_numbers,
        vec!["1Z999AA10123456784", "1Z999AA10123456785"]
    );

    let uvs: UpdateVendorOrderStatusRequest = round_trip("request-update-vendor-order-status.json");
    assert_eq!(uvs.order_status, "VENDOR_SHIPMENT_READY");

    round_trip::<OrderDetailRequest>("request-order-detail.json");
    let by_store_id = json!({"storeId": "999", "secret": "s", "orderId": "999-1"});
    assert_eq!(
        OrderDetailRequest::from_json(&by_store_id)
            .unwrap()
            .credentials
            .store,
        999
    );

    assert_eq!(
        SetShipmentTrackingRequest::from_json(
            &json!({"store": 1, "secret": "s", "orderId": "1-2", "trackingList": []})
        )
        .unwrap_err(),
        RequestError::CouldNotParseInput
    );
    assert!(matches!(
        OrderDetailRequest::from_json(&json!({"store": 1, "secret": "s", "orderId": "x-y"}))
            .unwrap_err(),
        RequestError::InvalidOrderId(_)
    ));
    assert_eq!(
        UpdateMerchantOrderIdRequest::from_json(
            &json!({"store": 1, "secret": "s", "orderId": "1-2"})
        )
        .unwrap_err(),
        RequestError::CouldNotParseInput
    );
    let Reply::Ok(ok) = zonos::parse_reply::<SuccessReply>(&fixture("success.json")).unwrap()
    else {
        panic!()
    };
    assert_eq!(ok.success, "Updated Order: 999-99991");
}

#[test]
fn order_detail_maps_into_the_domain() {
    let d = detail("order-detail.json");
    assert_eq!(d.channel, Channel::Zonos);
    assert_eq!(d.order_id.as_str(), "999-99991");
    assert_eq!(d.status, UnifiedStatus::Paid);
    assert_eq!(d.raw_status, "IGLOBAL_ORDER_IN_PROCESS");
    assert_eq!(d.totals.total, Decimal::from_str("518.68").unwrap());
    assert_eq!(d.totals.tax, Some(Decimal::from_str("61.20").unwrap()));
    assert_eq!(d.line_items.len(), 2);
    assert_eq!(d.line_items[0].id.as_str(), "1");
    assert_eq!(d.line_items[0].quantities.ordered, 2);
    assert_eq!(
        d.line_items[1].unit_price,
        Decimal::from_str("15.5").unwrap()
    );
    assert_eq!(d.updated_at.timestamp_millis(), 1_420_097_594_000);
    assert!(d.shipments.is_empty());
    assert!(!d.test_order);
    assert_eq!(d.merchant_order_id, None);
    assert_eq!(
        d.shipping_address
            .as_ref()
            .and_then(|a| a.expose().country_code.as_deref()),
        Some("BR")
    );
    assert!(
        !format!("{d:?}").contains("Ana Souza"),
        "personal data stays out of Debug"
    );
}

#[test]
fn each_number_of_a_shipped_zonos_order_is_its_own_package() {
    let d = detail("order-detail-shipped.json");
    assert_eq!(d.status, UnifiedStatus::Shipped);
    assert_eq!(d.merchant_order_id.as_ref().unwrap().as_str(), "5001");
    assert_eq!(d.shipments.len(), 2, "one package per number");
    for (i, s) in d.shipments.iter().enumerate() {
        assert_eq!(s.id.as_str(), format!("{}-p{}", d.order_id, i + 1));
        assert_eq!(s.carrier, Some(Carrier::Ups));
        assert_eq!(s.tracking_numbers.len(), 1);
        assert_eq!(s.status, ShipmentStatus::Shipped);
        assert!(
            s.line_items.is_empty(),
            "Zonos does not say what is in which package"
        );
    }
    assert_ne!(
        d.shipments[0].tracking_numbers,
        d.shipments[1].tracking_numbers
    );
    assert!(d
        .line_items
        .iter()
        .all(|l| l.quantities.shipped == l.quantities.ordered));
}

#[test]
fn an_unknown_status_is_kept_verbatim_and_maps_to_unknown() {
    let Reply::Ok(resp) =
        zonos::parse_reply::<OrderDetailResponse>(&fixture("order-detail-unknown-status.json"))
            .unwrap()
    else {
        panic!()
    };
    let d = zonos::to_channel_order(&resp.order, None).unwrap();
    assert_eq!(d.status, UnifiedStatus::Unknown);
    assert_eq!(d.raw_status, "IGLOBAL_SOMETHING_NEW");
    assert!(d.test_order, "\"true\" as text is a test order");
}

#[test]
fn the_listing_fills_in_what_order_detail_left_out() {
    let Reply::Ok(list) = zonos::parse_reply::<OrderNumbersResponse>(&fixture(
        "order-numbers-response-with-statuses.json",
    ))
    .unwrap() else {
        panic!()
    };
    let order = wire::Order {
        id: Some("999-99992".into()),
        currency_code: Some("USD".into()),
        grand_total: Some(Decimal::ONE),
        ..wire::Order::default()
    };
    let d = zonos::to_channel_order(&order, Some(&list.orders[1])).unwrap();
    assert_eq!(d.raw_status, "IGLOBAL_ORDER_IN_PROCESS");
    assert_eq!(d.merchant_order_id.as_ref().unwrap().as_str(), "abc123");
    assert!(d.test_order);
    assert_eq!(d.placed_at.to_rfc3339(), "2015-01-01T05:12:46+00:00");
    let e = zonos::to_channel_order(&order, None).unwrap_err();
    assert_eq!(
        (e.order.as_str(), e.field.as_str()),
        ("999-99992", "orderDate")
    );
}

#[test]
fn timestamps_are_written_as_zonos_writes_them() {
    let t = wire::parse_timestamp("2015-01-01 00:33:14.0").unwrap();
    assert_eq!(wire::format_timestamp(t), "2015-01-01 00:33:14.0");
    let t = wire::parse_timestamp("2015-01-01 00:33:14.25").unwrap();
    assert_eq!(wire::format_timestamp(t), "2015-01-01 00:33:14.25");
    assert!(wire::parse_timestamp("yesterday").is_err());
}
