//! The sandbox's contract rules: one test per rejection it must make, the happy paths (driven through
//! orderbridge's own clients where they exist), the webhook sender, and fault rates over many requests.

use axum::body::Bytes;
use axum::http::HeaderMap;
use orderbridge::channels::genstore::client::{GenstoreClient, GenstoreSettings, OrderQuery};
use orderbridge::channels::genstore::signature;
use orderbridge::channels::genstore::wire as gw;
use orderbridge::channels::google::auth::{GoogleCredentials, ServiceAccountKey};
use orderbridge::channels::google::client::{GoogleClient, GoogleSettings, ListQuery};
use orderbridge::channels::google::wire as g;
use orderbridge::channels::http::{ErrorKind, HttpSettings, RateLimit};
use orderbridge::channels::zonos::client::{ZonosClient, ZonosSettings};
use orderbridge::channels::zonos::wire::Credentials;
use orderbridge::channels::zonos::{OrderSelector, ZonosStatus};
use orderbridge::secrets::Secret;
use orderbridge_sandbox::webhooks::WebhookMode;
use orderbridge_sandbox::{spawn, Faults, Sandbox, SandboxConfig};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn sandbox() -> (Sandbox, String) {
    spawn(SandboxConfig::default()).await.unwrap()
}

/// The status a request is answered with.
async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn settings() -> HttpSettings {
    HttpSettings {
        max_attempts: 1,
        ..HttpSettings::with_rate(RateLimit::new(1000, 1000))
    }
}

fn genstore(base: &str) -> GenstoreClient {
    let mut s = GenstoreSettings::new(
        format!("{base}/genstore"),
        Secret::new(SandboxConfig::default().genstore_token),
    );
    s.http = HttpSettings {
        rate: orderbridge::channels::genstore::client::rate_limit(),
        ..settings()
    };
    GenstoreClient::new(s).unwrap()
}

fn zonos(base: &str) -> ZonosClient {
    let c = SandboxConfig::default();
    let mut s = ZonosSettings::new(
        format!("{base}/zonos"),
        Credentials {
            store: c.zonos_store,
            secret: Secret::new(c.zonos_secret),
        },
    );
    s.http = settings();
    ZonosClient::new(s).unwrap()
}

fn google(base: &str) -> GoogleClient {
    let c = SandboxConfig::default();
    let mut s = GoogleSettings::new(
        format!("{base}/google/content/v2.1"),
        c.google_merchant_id,
        GoogleCredentials::AccessToken(Secret::new(c.google_token)),
    );
    s.http = settings();
    GoogleClient::new(s).unwrap()
}

fn new_order(source: &str, id: &str, lines: &[(&str, u32)]) -> gw::NewOrder {
    gw::NewOrder {
        source_name: source.into(),
        source_identifier: id.into(),
        currency: "USD".into(),
        line_items: lines
            .iter()
            .map(|(sku, q)| gw::NewLineItem {
                title: (*sku).into(),
                sku: Some((*sku).into()),
                product_id: None,
                quantity: *q,
                price: Decimal::new(1000, 2),
            })
            .collect(),
        financial_status: Some("paid".into()),
        ..gw::NewOrder::default()
    }
}

/// The same order in the sandbox's own terms, for creating it there directly: through its JSON, as a
/// request would carry it.
fn in_sandbox(o: gw::NewOrder) -> orderbridge_sandbox::genstore::model::NewOrder {
    serde_json::from_value(serde_json::to_value(o).unwrap()).unwrap()
}

/// A local webhook receiver that records every delivery.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

impl Received {
    async fn serve(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let me = me.clone();
                async move {
                    me.0.lock().unwrap().push((headers, body));
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/hooks")
    }

    async fn wait_for(&self, n: usize) -> Vec<(HeaderMap, Bytes)> {
        for _ in 0..100 {
            if self.0.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.0.lock().unwrap().clone()
    }

    fn topics(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(h, _)| h["x-genstore-topic"].to_str().unwrap().to_owned())
            .collect()
    }
}

async fn subscribe(base: &str, address: &str) {
    http()
        .post(format!("{base}/_sandbox/genstore/webhooks"))
        .json(&json!({"address": address, "secret": "hook-secret"}))
        .send()
        .await
        .unwrap();
}

// ------------------------------------------------------------------ Genstore

#[tokio::test]
async fn genstore_refuses_a_missing_or_wrong_token() {
    let (_, base) = sandbox().await;
    for token in [None, Some("wrong")] {
        let mut req = http().get(format!("{base}/genstore/api/202412/orders"));
        if let Some(t) = token {
            req = req.header("X-Genstore-Access-Token", t);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401);
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"].is_string());
    }
}

#[tokio::test]
async fn genstore_refuses_a_limit_over_250_and_a_page_token_with_other_parameters() {
    let (_, base) = sandbox().await;
    let get = |q: &str| {
        http()
            .get(format!("{base}/genstore/api/202412/orders?{q}"))
            .header("X-Genstore-Access-Token", "sandbox-genstore-token")
            .send()
    };
    assert_eq!(get("limit=251").await.unwrap().status(), 400);
    assert_eq!(get("limit=0").await.unwrap().status(), 400);
    assert_eq!(get("limit=250").await.unwrap().status(), 200);
    let resp = get("limit=10&pageToken=abc&sinceId=5").await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("pageToken"));
    assert_eq!(
        get("pageToken=unknown").await.unwrap().status(),
        400,
        "tokens are the sandbox's own"
    );
}

#[tokio::test]
async fn genstore_paginates_by_link_and_every_order_comes_once() {
    let (sb, base) = sandbox().await;
    for i in 0..7 {
        sb.lock()
            .genstore
            .create_order(&in_sandbox(new_order("web", &format!("w{i}"), &[("A", 1)])))
            .unwrap();
    }
    let c = genstore(&base);
    let all = c
        .list_all_orders(&OrderQuery {
            limit: Some(3),
            ..OrderQuery::default()
        })
        .await
        .unwrap();
    let ids: Vec<String> = all.iter().map(|o| o.order_id.clone().unwrap()).collect();
    assert_eq!(
        ids,
        ["1001", "1002", "1003", "1004", "1005", "1006", "1007"]
    );
    let since = c
        .list_all_orders(&OrderQuery {
            limit: Some(2),
            since_id: Some("1005".into()),
            ..OrderQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(since.len(), 2);
    assert_eq!(
        sb.counters().requests["GET /genstore/api/202412/orders"],
        3 + 1
    );
}

#[tokio::test]
async fn genstore_answers_429_once_the_40_token_bucket_is_empty() {
    let (_, base) = sandbox().await;
    let mut statuses = Vec::new();
    let started = std::time::Instant::now();
    for _ in 0..60 {
        let r = http()
            .get(format!("{base}/genstore/api/202412/orders/1"))
            .header("X-Genstore-Access-Token", "sandbox-genstore-token")
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    // The bucket refills 2 a second while the requests go out: a slow machine earns a few more.
    let refilled = (2.0 * started.elapsed().as_secs_f64()).ceil() as usize;
    let served = statuses.iter().filter(|s| **s == 404).count();
    assert!(
        statuses[..40].iter().all(|s| *s == 404),
        "the first 40 are served"
    );
    assert!(
        served <= 40 + refilled,
        "no more than the bucket and its refill: {statuses:?}"
    );
    assert!(statuses.contains(&429), "then 429: {statuses:?}");
}

#[tokio::test]
async fn genstore_creates_orders_with_their_source_and_signs_the_webhook() {
    let (_, base) = sandbox().await;
    let rx = Received::default();
    subscribe(&base, &rx.serve().await).await;
    let created = genstore(&base)
        .create_order(&new_order("zonos", "999-10001", &[("A", 2)]))
        .await
        .unwrap();
    assert_eq!(created.source_name.as_deref(), Some("zonos"));
    assert_eq!(created.source_identifier.as_deref(), Some("999-10001"));
    let got = genstore(&base)
        .get_order(created.order_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.line_items[0].quantity, Some(2));
    let deliveries = rx.wait_for(2).await;
    assert_eq!(rx.topics(), ["orders/create", "orders/paid"]);
    for (h, body) in &deliveries {
        let sig = h["x-genstore-hmac-sha256"].to_str().unwrap();
        assert_eq!(
            signature::verify(body, Some(sig), &[Secret::new("hook-secret")]),
            Ok(())
        );
        assert_eq!(h["x-genstore-shop-domain"], "sandbox.genmystore.com");
        assert!(
            h.contains_key("x-genstore-webhook-id") && h.contains_key("x-genstore-triggered-at")
        );
        let order = orderbridge::channels::genstore::parse_order(body).unwrap();
        assert_eq!(order.order_id, created.order_id);
    }
}

#[tokio::test]
async fn genstore_refuses_an_empty_or_malformed_order() {
    let (_, base) = sandbox().await;
    let err = genstore(&base)
        .create_order(&new_order("zonos", "1", &[]))
        .await
        .unwrap_err();
    assert_eq!(err.status, Some(422));
    let request = http()
        .post(format!("{base}/genstore/api/202412/orders"))
        .header("X-Genstore-Access-Token", "sandbox-genstore-token")
        .body("{\"order\": {\"lineItems\": \"lots\"}}");
    assert_eq!(status_of(request).await, 400);
}

#[tokio::test]
async fn genstore_fulfillments_move_the_order_to_partial_then_fulfilled_and_refuse_overshipping() {
    let (_, base) = sandbox().await;
    let rx = Received::default();
    subscribe(&base, &rx.serve().await).await;
    let c = genstore(&base);
    let o = c
        .create_order(&new_order("google", "G-1", &[("A", 2), ("B", 1)]))
        .await
        .unwrap();
    let id = o.order_id.clone().unwrap();
    let a = o.line_items[0].id.clone().unwrap();
    let b = o.line_items[1].id.clone().unwrap();
    let fulfill = |lines: Vec<(String, u32)>| gw::NewFulfillment {
        order_id: id.clone(),
        line_items: lines
            .into_iter()
            .map(|(id, q)| gw::LineQuantity {
                id: Some(id),
                quantity: Some(q),
            })
            .collect(),
        tracking_info: Some(gw::TrackingInfo {
            number: Some("1Z1".into()),
            company: Some("UPS".into()),
            url: None,
        }),
        notify_customer: false,
    };
    let over = c
        .create_fulfillment(&fulfill(vec![(a.clone(), 3)]))
        .await
        .unwrap_err();
    assert_eq!(over.status, Some(422));
    let unknown = c
        .create_fulfillment(&fulfill(vec![("nope".into(), 1)]))
        .await
        .unwrap_err();
    assert_eq!(unknown.status, Some(422));
    c.create_fulfillment(&fulfill(vec![(a.clone(), 1)]))
        .await
        .unwrap();
    assert_eq!(
        c.get_order(&id)
            .await
            .unwrap()
            .unwrap()
            .fulfillment_status
            .as_deref(),
        Some("partial")
    );
    let f2 = c
        .create_fulfillment(&fulfill(vec![(a.clone(), 1), (b.clone(), 1)]))
        .await
        .unwrap();
    let after = c.get_order(&id).await.unwrap().unwrap();
    assert_eq!(after.fulfillment_status.as_deref(), Some("fulfilled"));
    assert_eq!(after.fulfillments.len(), 2);
    assert_eq!(c.list_fulfillments(&id).await.unwrap().len(), 2);
    let f2_id = f2.fulfill_id.unwrap();
    c.update_tracking(
        &f2_id,
        &gw::TrackingUpdate {
            tracking_info: gw::TrackingInfo {
                number: Some("1Z2".into()),
                company: Some("UPS".into()),
                url: None,
            },
            notify_customer: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        c.cancel_fulfillment(&f2_id)
            .await
            .unwrap()
            .status
            .as_deref(),
        Some("cancelled")
    );
    assert_eq!(
        c.get_order(&id)
            .await
            .unwrap()
            .unwrap()
            .fulfillment_status
            .as_deref(),
        Some("partial")
    );
    rx.wait_for(6).await;
    assert_eq!(
        rx.topics(),
        [
            "orders/create",
            "orders/paid",
            "orders/partiallyFulfilled",
            "orders/fulfilled",
            "orders/update",
            "orders/update"
        ]
    );
}

#[tokio::test]
async fn webhooks_can_be_duplicated_suppressed_and_reordered() {
    let (_, base) = sandbox().await;
    let rx = Received::default();
    subscribe(&base, &rx.serve().await).await;
    let mode = |m: WebhookMode| {
        http()
            .put(format!("{base}/_sandbox/genstore/webhook-mode"))
            .json(&m)
            .send()
    };
    let control_order = |sku: &str| {
        http()
            .post(format!("{base}/_sandbox/genstore/orders"))
            .json(&new_order("web", sku, &[(sku, 1)]))
            .send()
    };

    mode(WebhookMode {
        duplicate: true,
        ..WebhookMode::default()
    })
    .await
    .unwrap();
    control_order("D").await.unwrap();
    let got = rx.wait_for(4).await;
    assert_eq!(got.len(), 4, "create and paid, twice each");
    assert_eq!(
        got[0].0["x-genstore-webhook-id"], got[1].0["x-genstore-webhook-id"],
        "a redelivery keeps its id"
    );

    mode(WebhookMode {
        suppress: true,
        ..WebhookMode::default()
    })
    .await
    .unwrap();
    control_order("S").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        rx.0.lock().unwrap().len(),
        4,
        "suppressed deliveries never arrive"
    );

    rx.0.lock().unwrap().clear();
    mode(WebhookMode {
        reorder: true,
        ..WebhookMode::default()
    })
    .await
    .unwrap();
    control_order("R").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(rx.0.lock().unwrap().is_empty(), "held until flushed");
    let flushed: Value = http()
        .post(format!("{base}/_sandbox/genstore/webhooks/flush"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flushed["sent"], 2);
    rx.wait_for(2).await;
    assert_eq!(
        rx.topics(),
        ["orders/paid", "orders/create"],
        "newest first"
    );
}

#[path = "sandbox/google.rs"]
mod google;
#[path = "sandbox/zonos.rs"]
mod zonos;
use zonos::{creds, zonos_order, zonos_raw};

#[path = "sandbox/faults.rs"]
mod faults;

/// `cancel` and `refundorder`, read on the reference's terms: reasons from their own lists, no key the
/// reference does not name, the whole order cancelled once, a refund needing an amount or fullRefund.
#[tokio::test]
async fn google_cancels_and_refunds_whole_orders_and_refuses_reasons_and_keys_it_does_not_know() {
    let (sb, base) = sandbox().await;
    let id = sb
        .lock()
        .google
        .create_advanced_test_order("123456789", "template1", chrono::Utc::now())
        .unwrap();
    let token = SandboxConfig::default().google_token;
    let post = |action: &str, body: Value| {
        let url = format!("{base}/google/content/v2.1/123456789/orders/{id}/{action}");
        let token = token.clone();
        async move {
            let r = http()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };
    let (status, text) = post(
        "cancel",
        json!({"operationId": "c1", "reason": "customerCanceled", "reasonText": "x"}),
    )
    .await;
    assert_eq!(
        status, 400,
        "a cancellation's reason, not a cancel request's: {text}"
    );
    let (status, text) = post(
        "cancel",
        json!({"operationId": "c1", "reason": "other", "reasonText": "x", "lineItems": []}),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("lineItems"), "{text}");
    let (status, text) = post(
        "refundorder",
        json!({"operationId": "r0", "reason": "other", "reasonText": "x"}),
    )
    .await;
    assert_eq!(status, 400, "neither amount nor fullRefund: {text}");
    let (status, text) = post(
        "refundorder",
        json!({"operationId": "r1", "reason": "adjustment", "reasonText": "x",
               "amount": {"priceAmount": {"value": "5.00", "currency": "USD"}}}),
    )
    .await;
    assert_eq!(
        status, 400,
        "adjustment is a refunditem reason only: {text}"
    );
    let (status, text) = post(
        "refundorder",
        json!({"operationId": "r2", "reason": "courtesyAdjustment", "reasonText": "x",
               "amount": {"priceAmount": {"value": "5.00", "currency": "USD"}}}),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    for _ in 0..2 {
        let (status, text) = post(
            "cancel",
            json!({"operationId": "c2", "reason": "noInventory", "reasonText": "out"}),
        )
        .await;
        assert_eq!(status, 200, "{text}");
    }
    let st = sb.lock();
    let o = &st.google.orders.get(&id).unwrap().order;
    assert_eq!(o.status, "canceled");
    assert!(o
        .line_items
        .iter()
        .all(|l| l.quantity_canceled == l.quantity_ordered));
    assert_eq!(o.refunds.len(), 1);
    assert_eq!(st.counters.executed_count("google.cancel"), 1);
    assert_eq!(st.counters.executed_count("google.refundorder"), 1);
}

/// The sandbox reads Zonos' requests in its own terms (issue 18): a misspelt optional field, which the
/// client's own request types would read past (so a client misspelling it would never notice), is
/// refused here. Each call's documented keys still pass.
#[tokio::test]
async fn zonos_refuses_a_misspelt_field_the_clients_types_would_have_accepted() {
    use orderbridge::channels::zonos::wire::{OrderNumbersRequest, SetShipmentTrackingRequest};
    let (sb, base) = sandbox().await;
    let id = sb.lock().zonos.create(999, &zonos_order(false));
    let j = "application/json";
    let misspelt = [
        (
            "/v1/orderNumbers",
            creds(json!({"sinceDate": "20200101", "statusses": true})),
            "statusses",
        ),
        (
            "/v2/setShipmentTracking",
            creds(json!({"orderId": id, "trackingList": [{"number": "1Z1"}], "carier": "UPS"})),
            "carier",
        ),
    ];
    // The old shared reading takes both without a word.
    let old = OrderNumbersRequest::from_json(&misspelt[0].1).unwrap();
    assert!(!old.statuses, "the misspelt flag is silently dropped");
    assert!(SetShipmentTrackingRequest::from_json(&misspelt[1].1).is_ok());
    for (path, body, field) in misspelt {
        let (status, text) = zonos_raw(&base, path, j, j, body).await;
        assert_eq!(status, 200, "{path} {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["error"].as_str().unwrap(),
            format!("unknown field {field:?}"),
            "{path}"
        );
    }
    assert_eq!(sb.counters().writes.get("zonos.setShipmentTracking"), None);
    // Spelt as documented, both go through.
    let (_, text) = zonos_raw(
        &base,
        "/v1/orderNumbers",
        j,
        j,
        creds(json!({"sinceDate": "20200101", "statuses": true})),
    )
    .await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["orders"][0]["orderStatus"].is_string(), "{text}");
    let (_, text) = zonos_raw(
        &base,
        "/v2/setShipmentTracking",
        j,
        j,
        creds(json!({"orderId": id, "trackingList": [{"number": "1Z1"}]})),
    )
    .await;
    assert!(text.contains("success"), "{text}");
}

/// Genstore's fulfillment bodies are read in the sandbox's own terms too: a misspelt key, which the
/// client's `NewFulfillment` would read past (its tracking silently dropped), is a 400 naming it.
#[tokio::test]
async fn genstore_refuses_a_misspelt_fulfillment_field_the_clients_types_would_have_accepted() {
    let (sb, base) = sandbox().await;
    let order = genstore(&base)
        .create_order(&new_order("zonos", "999-1", &[("SKU-A", 2)]))
        .await
        .unwrap();
    let order_id = order.order_id.clone().unwrap();
    let body = json!({"fulfillment": {"orderId": order_id, "trackingInfos": {"number": "1Z1"}}});
    let old: gw::CreateFulfillmentRequest = serde_json::from_value(body.clone()).unwrap();
    assert!(
        old.fulfillment.tracking_info.is_none(),
        "the client's type drops it"
    );
    let url = format!("{base}/genstore/api/202412/fulfillments");
    let token = SandboxConfig::default().genstore_token;
    let r = http()
        .post(&url)
        .header("X-Genstore-Access-Token", &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"].as_str().unwrap().contains("trackingInfos"),
        "{v}"
    );
    assert_eq!(sb.counters().writes.get("genstore.createFulfillment"), None);
    let good = json!({"fulfillment": {"orderId": order_id, "trackingInfo": {"number": "1Z1"}}});
    let request = http()
        .post(&url)
        .header("X-Genstore-Access-Token", &token)
        .json(&good);
    assert_eq!(status_of(request).await, 201);
}

/// Google's bodies are checked against the reference's own request schemas: a misspelt property, which
/// the client's `ShipLineItemsRequest` would read past (the tracking number lost), is a 400 in Google's
/// words, and nothing ships.
#[tokio::test]
async fn google_refuses_a_misspelt_property_the_clients_types_would_have_accepted() {
    let (sb, base) = sandbox().await;
    let id = sb
        .lock()
        .google
        .create_advanced_test_order("123456789", "template1", chrono::Utc::now())
        .unwrap();
    let line = sb.lock().google.orders[&id].order.line_items[0].id.clone();
    let body = json!({"operationId": "op-1", "lineItems": [{"lineItemId": line, "quantity": 1}],
        "shipmentInfos": [{"shipmentId": "s1", "carrier": "ups", "trackingNumber": "1Z1"}]});
    let old: g::ShipLineItemsRequest = serde_json::from_value(body.clone()).unwrap();
    assert!(
        old.shipment_infos[0].tracking_id.is_none(),
        "the client's type drops it"
    );
    let url = format!("{base}/google/content/v2.1/123456789/orders/{id}/shipLineItems");
    let r = http()
        .post(&url)
        .bearer_auth(SandboxConfig::default().google_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("Unknown name \\\"trackingNumber\\\" at 'shipmentInfos[0]'"),
        "{text}"
    );
    assert_eq!(sb.counters().writes.get("google.shipLineItems"), None);
    // The test-order calls too: `templateNam` is no property of OrdersCreateTestOrderRequest.
    let url = format!("{base}/google/content/v2.1/123456789/testorders");
    let r = http()
        .post(&url)
        .bearer_auth(SandboxConfig::default().google_token)
        .json(&json!({"templateNam": "template2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("templateNam"));
    let request = http()
        .post(&url)
        .bearer_auth(SandboxConfig::default().google_token)
        .json(&json!({"templateName": "template2"}));
    assert_eq!(status_of(request).await, 200);
}

fn latest_has_no_refunds(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| v.get("refunds").is_none())
        .unwrap_or(false)
}
