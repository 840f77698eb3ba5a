//! The Google client against a mock of the Content API: listing, reads, writes with their operation
//! ids, error bodies, and the service-account token cached, refreshed and refused.

use super::*;

fn google_with(server: &MockServer, credentials: GoogleCredentials) -> GoogleClient {
    let mut s = GoogleSettings::new(
        format!("{}/content/v2.1", server.uri()),
        "123456789",
        credentials,
    );
    s.http = fast(RateLimit::new(50, 50));
    GoogleClient::new(s).unwrap()
}

fn google(server: &MockServer) -> GoogleClient {
    google_with(
        server,
        GoogleCredentials::AccessToken(Secret::new("ya29.static")),
    )
}

const BASE: &str = "/content/v2.1/123456789";

#[tokio::test]
async fn google_lists_every_page_of_unacknowledged_orders() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/orders")))
        .and(query_param("acknowledged", "false"))
        .and(query_param("maxResults", "250"))
        .and(query_param("pageToken", "page-2"))
        .and(header("Authorization", "Bearer ya29.static"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("google", "list-page-2.json")),
        )
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/orders")))
        .and(query_param("acknowledged", "false"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("google", "list-page-1.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let query = ListQuery {
        acknowledged: Some(false),
        ..ListQuery::default()
    };
    let orders = google(&server).list_all_orders(&query).await.unwrap();
    let ids: Vec<_> = orders.iter().map(|o| o.id.clone().unwrap()).collect();
    assert_eq!(ids, ["G-PLA-7877-86-2240", "TEST-1001"]);
}

#[tokio::test]
async fn google_gets_by_id_and_merchant_order_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/orders/G-PLA-7877-86-2240")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("google", "order-two-shipments.json")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/ordersbymerchantid/5001")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("google", "response-get-by-merchant-order-id.json")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/ordersbymerchantid/none")))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": {"code": 404, "message": "not found"}})),
        )
        .mount(&server)
        .await;
    let c = google(&server);
    assert_eq!(
        c.get_order("G-PLA-7877-86-2240")
            .await
            .unwrap()
            .unwrap()
            .shipments
            .len(),
        2
    );
    assert_eq!(
        c.get_by_merchant_order_id("5001")
            .await
            .unwrap()
            .unwrap()
            .id
            .as_deref(),
        Some("TEST-1001")
    );
    assert_eq!(c.get_by_merchant_order_id("none").await.unwrap(), None);
}

#[tokio::test]
async fn every_google_write_sends_its_operation_id_and_duplicate_is_success() {
    let server = MockServer::start().await;
    let cases: Vec<(&str, &str)> = vec![
        ("acknowledge", "request-acknowledge.json"),
        (
            "updateMerchantOrderId",
            "request-update-merchant-order-id.json",
        ),
        ("shipLineItems", "request-ship-line-items.json"),
        ("updateShipment", "request-update-shipment.json"),
        ("cancelLineItem", "request-cancel-line-item.json"),
        ("refunditem", "request-refund-item.json"),
    ];
    for (call, file) in &cases {
        Mock::given(method("POST"))
            .and(path(format!("{BASE}/orders/G-1/{call}")))
            .and(body_json(fixture("google", file)))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"executionStatus": "executed"})),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("{BASE}/orders/G-1/{call}")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"executionStatus": "duplicate"})),
            )
            .mount(&server)
            .await;
    }
    let c = google(&server);
    let ship: ggw::ShipLineItemsRequest =
        serde_json::from_value(fixture("google", "request-ship-line-items.json")).unwrap();
    let upd: ggw::UpdateShipmentRequest =
        serde_json::from_value(fixture("google", "request-update-shipment.json")).unwrap();
    let cancel: ggw::CancelLineItemRequest =
        serde_json::from_value(fixture("google", "request-cancel-line-item.json")).unwrap();
    let refund: ggw::RefundItemRequest =
        serde_json::from_value(fixture("google", "request-refund-item.json")).unwrap();
    for expected in [
        ggw::ExecutionStatus::Executed,
        ggw::ExecutionStatus::Duplicate,
    ] {
        assert_eq!(c.acknowledge("G-1", "operation-1").await.unwrap(), expected);
        assert_eq!(
            c.update_merchant_order_id("G-1", "operation-2", "unique_value_within_mc_account")
                .await
                .unwrap(),
            expected
        );
        assert_eq!(c.ship_line_items("G-1", &ship).await.unwrap(), expected);
        assert_eq!(c.update_shipment("G-1", &upd).await.unwrap(), expected);
        assert_eq!(c.cancel_line_item("G-1", &cancel).await.unwrap(), expected);
        assert_eq!(c.refund_item("G-1", &refund).await.unwrap(), expected);
    }
}

#[tokio::test]
async fn a_google_error_body_is_parsed_and_a_write_is_retried_on_5xx() {
    let server = MockServer::start().await;
    answer(
        &server,
        Mock::given(method("POST")).and(path(format!("{BASE}/orders/G-1/shipLineItems"))),
        400,
        fixture("google", "error-400.json"),
    )
    .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/orders/G-1/acknowledge")))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/orders/G-1/acknowledge")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"executionStatus": "executed"})),
        )
        .mount(&server)
        .await;
    let c = google(&server);
    let ship: ggw::ShipLineItemsRequest =
        serde_json::from_value(fixture("google", "request-ship-line-items.json")).unwrap();
    let err = c.ship_line_items("G-1", &ship).await.unwrap_err();
    assert_eq!((err.status, err.retryable), (Some(400), false));
    assert!(
        err.message.contains("shipping more than ordered") && err.message.contains("invalid"),
        "{err}"
    );
    assert_eq!(
        c.acknowledge("G-1", "op").await.unwrap(),
        ggw::ExecutionStatus::Executed,
        "same operation id, safe to repeat"
    );
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        requests_to(&reqs, &format!("{BASE}/orders/G-1/shipLineItems")),
        1
    );
    assert_eq!(
        requests_to(&reqs, &format!("{BASE}/orders/G-1/acknowledge")),
        2
    );
}

fn service_account(server: &MockServer) -> ServiceAccountKey {
    let mut key = fixture("google", "test-service-account.json");
    key["token_uri"] = json!(format!("{}/token", server.uri()));
    ServiceAccountKey::from_json(&key.to_string()).unwrap()
}

fn assertion_claims(req: &Request, token_uri: &str) -> Value {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect();
    let grant = form.iter().find(|(k, _)| k == "grant_type").unwrap();
    assert_eq!(grant.1, "urn:ietf:params:oauth:grant-type:jwt-bearer");
    let assertion = &form.iter().find(|(k, _)| k == "assertion").unwrap().1;
    let public = std::fs::read(format!(
        "{}/tests/fixtures/google/test-service-account-public.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[token_uri]);
    let data = jsonwebtoken::decode::<Value>(
        assertion,
        &jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap(),
        &validation,
    )
    .unwrap_or_else(|e| {
        let payload = assertion.split('.').nth(1).unwrap_or_default();
        panic!("the assertion is signed with the service account's key: {e}; payload {payload}")
    });
    assert_eq!(data.header.kid.as_deref(), Some("test-key-1"));
    data.claims
}

#[tokio::test]
async fn a_service_account_token_is_fetched_once_cached_and_refreshed_on_expiry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "tok-1", "expires_in": 2, "token_type": "Bearer"}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    answer(
        &server,
        Mock::given(method("POST")).and(path("/token")),
        200,
        json!({"access_token": "tok-2", "expires_in": 3600, "token_type": "Bearer"}),
    )
    .await;
    answer(
        &server,
        Mock::given(method("GET")).and(path(format!("{BASE}/orders/G-1"))),
        200,
        json!({"id": "G-1"}),
    )
    .await;
    let c = google_with(
        &server,
        GoogleCredentials::ServiceAccount(service_account(&server)),
    );
    c.get_order("G-1").await.unwrap();
    c.get_order("G-1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.get_order("G-1").await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    let tokens: Vec<&Request> = reqs.iter().filter(|r| r.url.path() == "/token").collect();
    assert_eq!(
        tokens.len(),
        2,
        "cached for the first two calls, refreshed before expiry for the third"
    );
    let claims = assertion_claims(tokens[0], &format!("{}/token", server.uri()));
    assert_eq!(
        claims["iss"],
        "orderbridge-test@orderbridge-test.iam.gserviceaccount.com"
    );
    assert_eq!(claims["scope"], "https://www.googleapis.com/auth/content");
    let bearers: Vec<String> = reqs
        .iter()
        .filter(|r| r.url.path().ends_with("/orders/G-1"))
        .map(|r| {
            r.headers
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(bearers, ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]);
}

#[tokio::test]
async fn a_401_drops_the_token_and_tries_once_more_with_a_fresh_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "tok-revoked", "expires_in": 3600})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "tok-good", "expires_in": 3600})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("Authorization", "Bearer tok-revoked"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"code": 401, "message": "Invalid Credentials"}})),
        )
        .mount(&server)
        .await;
    answer(
        &server,
        Mock::given(method("GET")).and(header("Authorization", "Bearer tok-good")),
        200,
        json!({"id": "G-1"}),
    )
    .await;
    let c = google_with(
        &server,
        GoogleCredentials::ServiceAccount(service_account(&server)),
    );
    assert!(c.get_order("G-1").await.unwrap().is_some());
}

#[tokio::test]
async fn a_refused_token_exchange_is_a_configuration_error() {
    let server = MockServer::start().await;
    answer(
        &server,
        Mock::given(method("POST")).and(path("/token")),
        400,
        json!({"error": "invalid_grant"}),
    )
    .await;
    let c = google_with(
        &server,
        GoogleCredentials::ServiceAccount(service_account(&server)),
    );
    let err = c.get_order("G-1").await.unwrap_err();
    assert_eq!(
        (err.kind, err.retryable, err.call),
        (ErrorKind::Config, false, "token")
    );
    assert!(ServiceAccountKey::from_json("{\"client_email\": 1}").is_err());
}

#[tokio::test]
async fn google_test_order_calls() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/testorders")))
        .and(body_json(json!({"templateName": "template1"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("google", "seed003-createtestorder-response.json")),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "{BASE}/testorders/G-PLA-7877-86-2240/advance"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"kind": "content#ordersAdvanceTestOrderResponse"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    answer_once(
        &server,
        Mock::given(method("POST"))
            .and(path(format!(
                "{BASE}/testorders/G-PLA-7877-86-2240/cancelByCustomer"
            )))
            .and(body_json(json!({"reason": "changedMind"}))),
        200,
        json!({}),
    )
    .await;
    let c = google(&server);
    let id = c
        .create_test_order(&ggw::CreateTestOrderRequest {
            template_name: Some("template1".into()),
            country: None,
        })
        .await
        .unwrap();
    assert_eq!(id, "G-PLA-7877-86-2240");
    c.advance_test_order(&id).await.unwrap();
    c.cancel_test_order_by_customer(&id, "changedMind")
        .await
        .unwrap();
}
