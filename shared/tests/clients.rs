//! The platform clients against HTTP mocks (wiremock): every call, pagination, pacing and retries,
//! Zonos' 200-with-error answers, Google duplicates and token refresh, secret references.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::{GenstoreClient, GenstoreSettings, OrderQuery};
use orderbridge::channels::genstore::wire as gw;
use orderbridge::channels::google::auth::{GoogleCredentials, ServiceAccountKey};
use orderbridge::channels::google::client::{GoogleClient, GoogleSettings, ListQuery};
use orderbridge::channels::google::wire as ggw;
use orderbridge::channels::http::{ErrorKind, HttpSettings, RateLimit};
use orderbridge::channels::zonos::client::{ZonosClient, ZonosSettings};
use orderbridge::channels::zonos::wire::Credentials;
use orderbridge::channels::zonos::{OrderSelector, ZonosStatus};
use orderbridge::secrets::Secret;
use orderbridge::secrets::SecretResolver;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
mod support;
use support::{answer, answer_once, every_answer, first_answers, throttle_first};
use wiremock::matchers::{body_json, body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn fixture(platform: &str, name: &str) -> Value {
    let p = format!(
        "{}/tests/fixtures/{platform}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))).unwrap()
}

fn fast(rate: RateLimit) -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_millis(800),
        max_attempts: 4,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(5),
        rate,
        max_response_bytes: 64 * 1024,
        breaker_after: 0,
        breaker_open: Duration::from_secs(1),
    }
}

fn requests_to(reqs: &[Request], p: &str) -> usize {
    reqs.iter().filter(|r| r.url.path() == p).count()
}

// ---------------------------------------------------------------- Genstore

const TOKEN: &str = "shpat_test_token_123";

fn genstore(server: &MockServer) -> GenstoreClient {
    let mut s = GenstoreSettings::new(server.uri(), Secret::new(TOKEN));
    s.http = fast(orderbridge::channels::genstore::client::rate_limit());
    GenstoreClient::new(s).unwrap()
}

fn g_order(id: &str) -> Value {
    json!({"orderId": id, "currency": "USD", "totalPrice": "10.00", "createdAt": "2024-05-01T00:00:00Z"})
}

#[tokio::test]
async fn genstore_pagination_follows_link_across_three_pages_with_only_limit_and_token() {
    let server = MockServer::start().await;
    let link = |t: &str| {
        format!(
            "<{}/api/202412/orders?limit=2&pageToken={t}>; rel=\"next\"",
            server.uri()
        )
    };
    Mock::given(method("GET"))
        .and(path("/api/202412/orders"))
        .and(query_param("sinceId", "1000"))
        .and(header("X-Genstore-Access-Token", TOKEN))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", link("p2").as_str())
                .set_body_json(json!({"orders": [g_order("1001"), g_order("1002")]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/202412/orders"))
        .and(query_param("pageToken", "p2"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", link("p3").as_str())
                .set_body_json(json!({"orders": [g_order("1003"), g_order("1004")]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/202412/orders"))
        .and(query_param("pageToken", "p3"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"orders": [g_order("1005")]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let query = OrderQuery {
        limit: Some(2),
        since_id: Some("1000".into()),
        ..OrderQuery::default()
    };
    let orders = genstore(&server).list_all_orders(&query).await.unwrap();
    let ids: Vec<_> = orders.iter().map(|o| o.order_id.clone().unwrap()).collect();
    assert_eq!(ids, ["1001", "1002", "1003", "1004", "1005"]);
    for r in server.received_requests().await.unwrap() {
        let keys: Vec<String> = r.url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        if keys.contains(&"pageToken".to_string()) {
            let mut keys = keys.clone();
            keys.sort();
            assert_eq!(
                keys,
                ["limit", "pageToken"],
                "a page request carries nothing else"
            );
        }
    }
}

#[tokio::test]
async fn genstore_get_create_and_fulfillment_calls() {
    let server = MockServer::start().await;
    let mut full = g_order("1001");
    full["fulfillments"] = json!([{"fulfillId": "f1", "status": "success"}]);
    answer(
        &server,
        Mock::given(method("GET"))
            .and(path("/api/202412/orders/1001"))
            .and(header("X-Genstore-Access-Token", TOKEN)),
        200,
        json!({"order": full}),
    )
    .await;
    answer(
        &server,
        Mock::given(method("GET")).and(path("/api/202412/orders/404")),
        404,
        json!({"error": "Not Found"}),
    )
    .await;
    answer_once(
        &server,
        Mock::given(method("POST"))
            .and(path("/api/202412/orders"))
            .and(body_partial_json(
                json!({"order": {"sourceName": "zonos", "sourceIdentifier": "999-1"}}),
            )),
        201,
        json!({"order": g_order("5001")}),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/202412/orders/1001/fulfillments"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"fulfillments": [{"fulfillId": "f1"}]})),
        )
        .mount(&server)
        .await;
    answer_once(&server, Mock::given(method("POST")).and(path("/api/202412/fulfillments")).and(body_partial_json(json!({"fulfillment": {"orderId": "1001", "trackingInfo": {"number": "1Z1", "company": "UPS"}}}))), 201, json!({"fulfillment": {"fulfillId": "f2", "status": "success"}})).await;
    Mock::given(method("PUT"))
        .and(path("/api/202412/fulfillments/f2/update_tracking"))
        .and(body_partial_json(
            json!({"fulfillment": {"trackingInfo": {"number": "1Z2"}}}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"fulfillment": {"fulfillId": "f2"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/202412/fulfillments/f2/cancel"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"fulfillment": {"fulfillId": "f2", "status": "cancelled"}})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let c = genstore(&server);
    let got = c.get_order("1001").await.unwrap().unwrap();
    assert_eq!(got.fulfillments[0].fulfill_id.as_deref(), Some("f1"));
    assert_eq!(c.get_order("404").await.unwrap(), None);
    let created = c
        .create_order(&gw::NewOrder {
            source_name: "zonos".into(),
            source_identifier: "999-1".into(),
            currency: "USD".into(),
            ..gw::NewOrder::default()
        })
        .await
        .unwrap();
    assert_eq!(created.order_id.as_deref(), Some("5001"));
    assert_eq!(c.list_fulfillments("1001").await.unwrap().len(), 1);
    let f = c
        .create_fulfillment(&gw::NewFulfillment {
            order_id: "1001".into(),
            tracking_info: Some(gw::TrackingInfo {
                number: Some("1Z1".into()),
                company: Some("UPS".into()),
                url: None,
            }),
            ..gw::NewFulfillment::default()
        })
        .await
        .unwrap();
    assert_eq!(f.fulfill_id.as_deref(), Some("f2"));
    c.update_tracking(
        "f2",
        &gw::TrackingUpdate {
            tracking_info: gw::TrackingInfo {
                number: Some("1Z2".into()),
                ..gw::TrackingInfo::default()
            },
            notify_customer: false,
        },
    )
    .await
    .unwrap();
    let cancelled = c.cancel_fulfillment("f2").await.unwrap();
    assert_eq!(cancelled.status.as_deref(), Some("cancelled"));
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_retried_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"error": "slow down"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    answer(
        &server,
        Mock::given(method("GET")),
        200,
        json!({"order": g_order("1001")}),
    )
    .await;
    let started = Instant::now();
    let got = genstore(&server).get_order("1001").await.unwrap();
    assert!(got.is_some());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as told: {:?}",
        started.elapsed()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_429_without_retry_after_is_paced_at_the_refill_rate() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(json!({"error": "Too Many Requests"})),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    answer(
        &server,
        Mock::given(method("GET")),
        200,
        json!({"order": g_order("1001")}),
    )
    .await;
    let started = Instant::now();
    assert!(genstore(&server).get_order("1001").await.unwrap().is_some());
    // Genstore refills 2 tokens a second: each retry waits at least half a second.
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_429_that_never_ends_gives_up_with_a_retryable_error() {
    let server = MockServer::start().await;
    let throttled = ResponseTemplate::new(429).insert_header("Retry-After", "0");
    every_answer(&server, "GET", throttled).await;
    let err = genstore(&server).get_order("1").await.unwrap_err();
    assert_eq!(
        (err.status, err.retryable, err.platform),
        (Some(429), true, Channel::Genstore)
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        4,
        "max_attempts, then stop"
    );
}

#[tokio::test]
async fn a_5xx_then_success_is_retried() {
    let server = MockServer::start().await;
    first_answers(&server, "GET", 1, ResponseTemplate::new(503)).await;
    answer(
        &server,
        Mock::given(method("GET")),
        200,
        json!({"orders": []}),
    )
    .await;
    let orders = genstore(&server)
        .list_all_orders(&OrderQuery::default())
        .await
        .unwrap();
    assert!(orders.is_empty());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_timeout_then_success_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(3))
                .set_body_json(json!({"orders": []})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    answer(
        &server,
        Mock::given(method("GET")),
        200,
        json!({"orders": [g_order("7")]}),
    )
    .await;
    let orders = genstore(&server)
        .list_all_orders(&OrderQuery::default())
        .await
        .unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_400_is_not_retried_and_carries_genstores_message() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "trackingInfo.number is required"})),
        )
        .mount(&server)
        .await;
    let err = genstore(&server)
        .update_tracking("f1", &gw::TrackingUpdate::default())
        .await
        .unwrap_err();
    assert_eq!(
        (err.status, err.retryable, err.kind),
        (Some(400), false, ErrorKind::Status)
    );
    assert_eq!(err.call, "updateTracking");
    assert!(
        err.to_string().contains("trackingInfo.number is required"),
        "{err}"
    );
    assert!(!err.to_string().contains(TOKEN));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_create_is_not_repeated_after_a_server_error() {
    let server = MockServer::start().await;
    every_answer(&server, "POST", ResponseTemplate::new(500)).await;
    let err = genstore(&server)
        .create_order(&gw::NewOrder::default())
        .await
        .unwrap_err();
    assert_eq!(err.status, Some(500));
    assert!(
        err.retryable,
        "the job may be retried later, after looking for the order"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "never sent twice blindly"
    );
}

#[tokio::test]
async fn a_create_is_repeated_after_a_429_because_genstore_did_not_act() {
    let server = MockServer::start().await;
    throttle_first(&server, "POST").await;
    answer(
        &server,
        Mock::given(method("POST")),
        201,
        json!({"order": g_order("5001")}),
    )
    .await;
    assert!(genstore(&server)
        .create_order(&gw::NewOrder::default())
        .await
        .is_ok());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

// ---------------------------------------------------------------- Zonos

fn zonos(server: &MockServer) -> ZonosClient {
    let mut s = ZonosSettings::new(
        server.uri(),
        Credentials {
            store: 999,
            secret: Secret::new("f5bde245-f55e-414d-b722-80b25161c12c"),
        },
    );
    s.http = fast(RateLimit::new(50, 50));
    ZonosClient::new(s).unwrap()
}

async fn zonos_mock(server: &MockServer, p: &str, body: Value) {
    answer(
        server,
        Mock::given(method("POST"))
            .and(path(p))
            .and(header("Accept", "application/json"))
            .and(header("Content-Type", "application/json")),
        200,
        body,
    )
    .await;
}

#[tokio::test]
async fn zonos_order_numbers_sends_each_selector_with_credentials_and_both_headers() {
    let server = MockServer::start().await;
    zonos_mock(
        &server,
        "/v1/orderNumbers",
        fixture("zonos", "order-numbers-response-with-statuses.json"),
    )
    .await;
    let c = zonos(&server);
    let selectors = [
        (
            OrderSelector::since_order_id("999-99990").unwrap(),
            json!({"sinceOrderId": "999-99990"}),
        ),
        (
            OrderSelector::since_date(
                chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
                chrono::NaiveDate::from_ymd_opt(2015, 6, 1),
            )
            .unwrap(),
            json!({"sinceDate": "20150101", "throughDate": "20150601"}),
        ),
        (
            OrderSelector::MissingMerchantOrderId,
            json!({"missingMerchantOrderId": true}),
        ),
    ];
    for (selector, _) in &selectors {
        let resp = c.order_numbers(selector.clone(), true).await.unwrap();
        assert_eq!(resp.orders.len(), 2);
    }
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 3);
    for (r, (_, want)) in reqs.iter().zip(&selectors) {
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["store"], 999);
        assert_eq!(body["secret"], "f5bde245-f55e-414d-b722-80b25161c12c");
        assert_eq!(body["statuses"], true);
        for (k, v) in want.as_object().unwrap() {
            assert_eq!(&body[k], v, "{k}");
        }
        let selectors_sent = ["sinceOrderId", "sinceDate", "missingMerchantOrderId"]
            .iter()
            .filter(|k| body.get(**k).is_some())
            .count();
        assert_eq!(selectors_sent, 1);
    }
}

#[tokio::test]
async fn zonos_detail_and_writes() {
    let server = MockServer::start().await;
    zonos_mock(
        &server,
        "/v2/orderDetail",
        fixture("zonos", "order-detail.json"),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/v1/updateMerchantOrderId"))
        .and(body_partial_json(
            json!({"orderId": "999-99991", "merchantOrderId": "5001", "store": 999}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": "Updated Order: 999-99991"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    answer_once(
        &server,
        Mock::given(method("POST"))
            .and(path("/v2/setShipmentTracking"))
            .and(body_partial_json(
                json!({"trackingList": [{"number": "1Z1"}, {"number": "1Z2"}]}),
            )),
        200,
        json!({"success": "ok"}),
    )
    .await;
    answer_once(
        &server,
        Mock::given(method("POST"))
            .and(path("/v1/updateVendorOrderStatus"))
            .and(body_partial_json(
                json!({"orderStatus": "VENDOR_SHIPMENT_READY"}),
            )),
        200,
        json!({"success": "ok"}),
    )
    .await;
    let c = zonos(&server);
    let detail = c.order_detail("999-99991").await.unwrap();
    assert_eq!(
        detail.order_status.as_deref(),
        Some("IGLOBAL_ORDER_IN_PROCESS")
    );
    c.update_merchant_order_id("999-99991", "5001")
        .await
        .unwrap();
    c.set_shipment_tracking("999-99991", &["1Z1".into(), " ".into(), "1Z2".into()])
        .await
        .unwrap();
    c.update_vendor_order_status("999-99991", &ZonosStatus::VendorShipmentReady)
        .await
        .unwrap();
    assert!(
        c.set_shipment_tracking("999-99991", &[]).await.is_err(),
        "nothing to send is refused here"
    );
}

#[tokio::test]
async fn zonos_vendor_status_is_refused_locally_when_the_current_status_blocks_it() {
    let server = MockServer::start().await;
    let mut detail = fixture("zonos", "order-detail.json");
    detail["order"]["orderStatus"] = json!("IGLOBAL_FRAUD_REVIEW");
    zonos_mock(&server, "/v2/orderDetail", detail).await;
    Mock::given(method("POST"))
        .and(path("/v1/updateVendorOrderStatus"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": "ok"})))
        .expect(0)
        .mount(&server)
        .await;
    let c = zonos(&server);
    let err = c
        .update_vendor_order_status("999-99991", &ZonosStatus::VendorShipmentReady)
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.retryable), (ErrorKind::Blocked, false));
    assert!(err.message.contains("IGLOBAL_FRAUD_REVIEW"), "{err}");
    let err = c
        .update_vendor_order_status("999-99991", &ZonosStatus::OrderOnHold)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("not a status a vendor may set"),
        "{err}"
    );
}

#[tokio::test]
async fn every_zonos_200_with_error_is_an_error_with_zonos_message() {
    let cases = [
        ("error-couldnt-find-order.json", ErrorKind::NotFound, false),
        (
            "error-could-not-parse-input.json",
            ErrorKind::Platform,
            false,
        ),
        ("error-invalid-order-id.json", ErrorKind::Platform, false),
        ("error-order-id-required.json", ErrorKind::Platform, false),
        (
            "error-order-id-and-reference-id.json",
            ErrorKind::Platform,
            false,
        ),
        (
            "error-cannot-process-order-detail.json",
            ErrorKind::Platform,
            true,
        ),
        ("error-invalid-credentials.json", ErrorKind::Config, false),
    ];
    for (name, kind, retryable) in cases {
        let server = MockServer::start().await;
        let body = fixture("zonos", name);
        zonos_mock(&server, "/v2/orderDetail", body.clone()).await;
        let err = zonos(&server).order_detail("999-1").await.unwrap_err();
        assert_eq!(
            (err.kind, err.retryable, err.status),
            (kind, retryable, Some(200)),
            "{name}"
        );
        // Zonos' own words, scrubbed of any value (the id it could not find, a customer's name).
        let said = body["error"].as_str().unwrap();
        assert_eq!(
            err.message,
            orderbridge::scrub::platform_text(said),
            "{name}"
        );
        assert!(!err.message.is_empty() && !err.message.chars().any(|c| c.is_ascii_digit()));
        let expected_requests = if retryable { 4 } else { 1 };
        assert!(
            server.received_requests().await.unwrap().len() <= expected_requests,
            "{name}"
        );
    }
}

#[tokio::test]
async fn zonos_406_and_415_are_explained_as_header_problems() {
    for (status, file, word) in [
        (406, "error-406.html", "Accept"),
        (415, "error-415.html", "Content-Type"),
    ] {
        let server = MockServer::start().await;
        let html = std::fs::read_to_string(format!(
            "{}/tests/fixtures/zonos/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        every_answer(
            &server,
            "POST",
            ResponseTemplate::new(status).set_body_raw(html, "text/html"),
        )
        .await;
        let err = zonos(&server).order_detail("999-1").await.unwrap_err();
        assert_eq!(
            (err.kind, err.retryable, err.status),
            (ErrorKind::Config, false, Some(status))
        );
        assert!(err.message.contains(word), "{err}");
    }
}

#[tokio::test]
async fn a_zonos_answer_that_is_not_json_fails_that_call_retryably() {
    let server = MockServer::start().await;
    every_answer(
        &server,
        "POST",
        ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"),
    )
    .await;
    let err = zonos(&server).order_detail("999-1").await.unwrap_err();
    assert_eq!((err.kind, err.retryable), (ErrorKind::Decode, true));
}

#[path = "clients/google.rs"]
mod google;
#[path = "clients/secrets.rs"]
mod secrets;

/// `orderDetail` answering only what the documents promise (items, shipping name and address, the
/// carrier service level, totals, merchant order id, test flag, status): no id, no currency, no dates.
/// The client fills in the order asked for and the store's currency; with the `orderNumbers` entry the
/// order maps.
#[tokio::test]
async fn a_zonos_order_with_only_the_documented_fields_maps_in_the_store_currency() {
    let server = MockServer::start().await;
    zonos_mock(
        &server,
        "/v2/orderDetail",
        json!({"order": {
            "orderStatus": "IGLOBAL_ORDER_IN_PROCESS",
            "merchantOrderId": null,
            "testOrder": false,
            "items": [{"sku": "MUG-1", "productId": "p1", "quantity": 2, "unitPrice": "12.50"}],
            "shippingCarrierServiceLevel": "UPS_EXPEDITED",
            "shippingName": "Ana Souza",
            "shippingAddress1": "Rua Um 10",
            "shippingCity": "Sao Paulo",
            "shippingCountry": "BR",
            "itemsTotal": "25.00",
            "grandTotal": "25.00"
        }}),
    )
    .await;
    let listing: orderbridge::channels::zonos::wire::OrderNumber = serde_json::from_value(
        json!({"id": "999-7", "testOrder": false, "timestamp": "2026-11-01 10:00:00.0"}),
    )
    .unwrap();
    let detail = zonos(&server).order_detail("999-7").await.unwrap();
    assert_eq!(detail.id.as_deref(), Some("999-7"));
    let o = orderbridge::channels::zonos::to_channel_order(&detail, Some(&listing)).unwrap();
    assert_eq!(o.order_id.as_str(), "999-7");
    assert_eq!(o.totals.currency.as_str(), "USD");
    assert_eq!(o.line_items.len(), 1);

    // A store in euros says so once, in its settings.
    let mut s = ZonosSettings::new(
        server.uri(),
        Credentials {
            store: 999,
            secret: Secret::new("f5bde245-f55e-414d-b722-80b25161c12c"),
        },
    );
    s.http = fast(RateLimit::new(50, 50));
    s.currency = "EUR".parse().unwrap();
    let detail = ZonosClient::new(s)
        .unwrap()
        .order_detail("999-7")
        .await
        .unwrap();
    let o = orderbridge::channels::zonos::to_channel_order(&detail, Some(&listing)).unwrap();
    assert_eq!(o.totals.currency.as_str(), "EUR");
}

/// A platform answering with a redirect is not followed: the request, which carries the shop's token, is
/// never sent where the answer points; the call fails instead.
#[tokio::test]
async fn a_redirect_is_not_followed_with_the_credentials() {
    let elsewhere = MockServer::start().await;
    answer(
        &elsewhere,
        Mock::given(method("GET")),
        200,
        json!({"order": g_order("1")}),
    )
    .await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/api/202412/orders/1", elsewhere.uri()),
        ))
        .mount(&server)
        .await;
    let result = genstore(&server).get_order("1").await;
    assert!(result.is_err(), "{result:?}");
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "nothing reached the redirect's target"
    );
}
