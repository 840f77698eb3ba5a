//! Requests refused or ignored before anything is stored: forged, missing and rotated signatures,
//! malformed requests answered with a JSON reason, and an unknown topic acknowledged.

use super::*;

pub async fn an_unknown_topic_is_acknowledged_and_stores_nothing(b: &Backend) {
    let out = deliver(
        b,
        &Delivery::raw("products/update", b"{\"id\": 1}".to_vec()),
    )
    .await;
    assert_eq!(out, answered(200, json!({"outcome": "ignored"})));
    assert!(table_dump(b).await.is_empty());
}

pub async fn signatures_forged_missing_and_rotated(b: &Backend) {
    let body = gs_order("7001", 0, "paid", json!({}));
    let mut forged = Delivery::new("orders/create", &body);
    forged.signature = Some(signature::sign(&forged.body, &Secret::new("attacker")));
    let out = deliver(b, &forged).await;
    assert_eq!(out, answered(401, json!({"error": "invalid signature"})));
    let mut missing = Delivery::new("orders/create", &body);
    missing.signature = None;
    assert_eq!(
        deliver(b, &missing).await,
        answered(401, json!({"error": "missing signature"}))
    );
    assert!(
        table_dump(b).await.is_empty(),
        "nothing stored from a refused delivery"
    );
    let mut rotated = Delivery::new("orders/create", &body);
    rotated.signature = Some(signature::sign(&rotated.body, &Secret::new(OLD_SECRET)));
    assert_eq!(
        deliver(b, &rotated).await.status,
        200,
        "the previous secret still works while rotating"
    );
    let mut hex = Delivery::new("orders/update", &gs_order("7001", 1, "paid", json!({})));
    hex.signature = Some(signature::sign_hex(&hex.body, &Secret::new(SECRET)));
    assert_eq!(deliver(b, &hex).await.status, 200);
}

pub async fn bad_requests_get_a_json_reason_and_change_nothing(b: &Backend) {
    deliver(
        b,
        &Delivery::new("orders/create", &gs_order("1", 0, "paid", json!({}))),
    )
    .await;
    let before = table_dump(b).await;
    let big = Delivery::raw("orders/create", vec![b' '; 2 * 1024 * 1024]);
    assert_eq!(
        deliver(b, &big).await,
        answered(413, json!({"error": "body is larger than 1048576 bytes"}))
    );
    let malformed = Delivery::raw("orders/create", b"{\"orderId\": \"2\", ".to_vec());
    let out = deliver(b, &malformed).await;
    assert_eq!(out.status, 400);
    assert!(reason(&out).contains("not valid JSON"), "{out:?}");
    let wrong_type = Delivery::new(
        "orders/create",
        &gs_order(
            "3",
            0,
            "paid",
            json!({"lineItems": [{"id": "l1", "quantity": "three", "price": "1"}]}),
        ),
    );
    let out = deliver(b, &wrong_type).await;
    assert_eq!(out.status, 400);
    assert!(reason(&out).contains("lineItems[0].quantity"), "{out:?}");
    for header in ["x-genstore-topic", "x-genstore-shop-domain"] {
        let mut d = Delivery::new("orders/create", &gs_order("5", 0, "paid", json!({})));
        d.drop_headers.push(header);
        let out = deliver(b, &d).await;
        assert_eq!(out.status, 400);
        assert!(reason(&out).contains(header), "{out:?}");
    }
    let mut get = Delivery::new("orders/create", &gs_order("6", 0, "paid", json!({})));
    get.method = "GET";
    assert_eq!(deliver(b, &get).await.status, 405);
    let mut elsewhere = Delivery::new("orders/create", &gs_order("7", 0, "paid", json!({})));
    elsewhere.path = "/webhooks/shopify";
    assert_eq!(deliver(b, &elsewhere).await.status, 404);
    assert_eq!(
        table_dump(b).await,
        before,
        "no refused request changed the table"
    );
    assert!(jobs(b).await.is_empty());
}
