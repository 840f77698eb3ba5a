//! The Zonos sandbox: its headers, every documented error answered 200, the order-number selectors,
//! writes counted as duplicates, vendor updates refused while the status blocks them.

use super::*;

pub(crate) async fn zonos_raw(
    base: &str,
    path: &str,
    accept: &str,
    content_type: &str,
    body: Value,
) -> (u16, String) {
    let r = http()
        .post(format!("{base}/zonos{path}"))
        .header("Accept", accept)
        .header("Content-Type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

pub(crate) fn creds(extra: Value) -> Value {
    let mut v = json!({"store": 999, "secret": "f5bde245-f55e-414d-b722-80b25161c12c"});
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    v
}

#[tokio::test]
async fn zonos_refuses_wrong_accept_with_406_and_wrong_content_type_with_415_in_html() {
    let (_, base) = sandbox().await;
    let body = creds(json!({"sinceDate": "20200101"}));
    let (s, text) = zonos_raw(
        &base,
        "/v1/orderNumbers",
        "text/html",
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(s, 406);
    assert!(text.starts_with("<html>"));
    let (s, text) = zonos_raw(
        &base,
        "/v1/orderNumbers",
        "application/json",
        "text/plain",
        body.clone(),
    )
    .await;
    assert_eq!(s, 415);
    assert!(text.starts_with("<html>"));
    let (s, _) = zonos_raw(
        &base,
        "/v1/orderNumbers",
        "application/json",
        "application/json",
        body,
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn zonos_answers_every_documented_error_as_200_with_error() {
    let (sb, base) = sandbox().await;
    sb.lock().zonos.create(999, &zonos_order(false));
    let j = "application/json";
    let cases = [
        (
            "/v1/orderNumbers",
            json!({"store": 999, "secret": "nope", "sinceDate": "20200101"}),
            "Invalid security credentials",
        ),
        (
            "/v1/orderNumbers",
            creds(json!({"sinceDate": "20200101", "sinceOrderId": "999-1"})),
            "cannot be sent together",
        ),
        (
            "/v1/orderNumbers",
            creds(json!({"sinceOrderId": "999-55555"})),
            "Couldn't find order for sinceOrderId: 999-55555",
        ),
        (
            "/v1/orderNumbers",
            creds(json!({"throughDate": "20200101"})),
            "throughDate must be sent with sinceDate",
        ),
        (
            "/v2/orderDetail",
            creds(json!({})),
            "orderId or referenceId parameter is required.",
        ),
        (
            "/v2/orderDetail",
            creds(json!({"orderId": "999-10001", "referenceId": "x"})),
            "Cannot specify both orderId and referenceId parameters.",
        ),
        (
            "/v2/orderDetail",
            creds(json!({"orderId": "abc"})),
            "orderId: abc is not a valid orderId",
        ),
        (
            "/v1/updateMerchantOrderId",
            creds(json!({"orderId": "999-77777", "merchantOrderId": "1"})),
            "orderId: 999-77777 is not a valid orderId",
        ),
    ];
    for (path, body, want) in cases {
        let (status, text) = zonos_raw(&base, path, j, j, body).await;
        assert_eq!(status, 200, "{path} {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(
            v["error"].as_str().unwrap().contains(want),
            "{path}: {text}"
        );
    }
    let r = http()
        .post(format!("{base}/zonos/v1/orderNumbers"))
        .header("Accept", j)
        .header("Content-Type", j)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "could not parse input"
    );
    let (status, text) = zonos_raw(
        &base,
        "/v2/orderDetail",
        j,
        j,
        creds(json!({"orderId": "999-44444"})),
    )
    .await;
    assert_eq!(
        status, 400,
        "orderDetail's documented errors are 400: {text}"
    );
}

pub(crate) fn zonos_order(test_order: bool) -> orderbridge_sandbox::zonos::NewZonosOrder {
    serde_json::from_value(json!({
        "items": [{"sku": "SKU-1", "productId": "p1", "description": "Mug", "quantity": 2, "unitPrice": "10.00"}],
        "test_order": test_order,
    }))
    .unwrap()
}

#[tokio::test]
async fn zonos_order_numbers_follow_each_selector_with_and_without_statuses() {
    let (sb, base) = sandbox().await;
    {
        let mut st = sb.lock();
        let old = orderbridge_sandbox::zonos::NewZonosOrder {
            placed_hours_ago: 24 * 20,
            ..zonos_order(false)
        };
        st.zonos.create(999, &old);
        st.zonos.create(999, &zonos_order(false));
        st.zonos.create(999, &zonos_order(true));
        st.zonos.create(999, &zonos_order(false));
    }
    let c = zonos(&base);
    let since = c
        .order_numbers(OrderSelector::since_order_id("999-10002").unwrap(), false)
        .await
        .unwrap();
    assert_eq!(
        since
            .orders
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>(),
        ["999-10003", "999-10004"]
    );
    assert_eq!(
        (since.total_count, since.order_count, since.test_order_count),
        (2, 1, 1)
    );
    assert!(since.orders.iter().all(|o| o.status.is_none()));
    let short = c
        .order_numbers(OrderSelector::since_order_id("10002").unwrap(), true)
        .await
        .unwrap();
    assert_eq!(
        short.orders.len(),
        2,
        "the id works without its store prefix"
    );
    assert!(short.orders.iter().all(|o| o.status.is_some()));

    c.update_merchant_order_id("999-10002", "5001")
        .await
        .unwrap();
    let missing = c
        .order_numbers(OrderSelector::MissingMerchantOrderId, true)
        .await
        .unwrap();
    let ids: Vec<&str> = missing.orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        ids,
        ["999-10003", "999-10004"],
        "two weeks only, and not those with a merchant order id"
    );

    let today = chrono::Utc::now().date_naive();
    let recent = c
        .order_numbers(
            OrderSelector::since_date(today - chrono::Duration::days(1), Some(today)).unwrap(),
            false,
        )
        .await
        .unwrap();
    assert_eq!(recent.orders.len(), 3);
}

#[tokio::test]
async fn zonos_writes_store_tracking_and_count_repeats_as_duplicates() {
    let (sb, base) = sandbox().await;
    let id = sb.lock().zonos.create(999, &zonos_order(false));
    let c = zonos(&base);
    for _ in 0..2 {
        c.update_merchant_order_id(&id, "5001").await.unwrap();
        c.set_shipment_tracking(&id, &["1Z1".into(), "1Z2".into()])
            .await
            .unwrap();
    }
    let detail = c.order_detail(&id).await.unwrap();
    assert_eq!(detail.merchant_order_id.as_deref(), Some("5001"));
    assert_eq!(detail.tracking_list.len(), 2);
    let counters = sb.counters();
    assert_eq!(
        counters.writes["zonos.updateMerchantOrderId"],
        orderbridge_sandbox::WriteCount {
            executed: 1,
            duplicate: 1
        }
    );
    assert_eq!(
        counters.writes["zonos.setShipmentTracking"],
        orderbridge_sandbox::WriteCount {
            executed: 1,
            duplicate: 1
        }
    );
}

#[tokio::test]
async fn zonos_refuses_vendor_updates_while_the_status_blocks_them() {
    let (sb, base) = sandbox().await;
    let id = sb.lock().zonos.create(999, &zonos_order(false));
    let c = zonos(&base);
    c.update_vendor_order_status(&id, &ZonosStatus::VendorPreparingOrder)
        .await
        .unwrap();
    for blocking in [
        "IGLOBAL_FRAUD_REVIEW",
        "IGLOBAL_ORDER_ON_HOLD",
        "IGLOBAL_ORDER_CANCELLED",
        "IGLOBAL_LABELS_PROCESSING",
    ] {
        let idx = sb.lock().zonos.find(999, &id).unwrap();
        sb.lock().zonos.set_status(idx, blocking);
        // The sandbox refuses it as Zonos does...
        let (status, text) = zonos_raw(
            &base,
            "/v1/updateVendorOrderStatus",
            "application/json",
            "application/json",
            creds(json!({"orderId": id, "orderStatus": "VENDOR_SHIPMENT_READY"})),
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            text.contains("cannot be changed") && text.contains(blocking),
            "{text}"
        );
        // ...and the client refuses before asking: for now while Zonos will move on from it, for
        // good once cancelled.
        let err = c
            .update_vendor_order_status(&id, &ZonosStatus::VendorShipmentReady)
            .await
            .unwrap_err();
        let expected = if blocking == "IGLOBAL_ORDER_CANCELLED" {
            ErrorKind::Refused
        } else {
            ErrorKind::Blocked
        };
        assert_eq!(err.kind, expected, "{blocking}");
    }
    let (_, text) = zonos_raw(
        &base,
        "/v1/updateVendorOrderStatus",
        "application/json",
        "application/json",
        creds(json!({"orderId": id, "orderStatus": "IGLOBAL_ORDER_IN_PROCESS"})),
    )
    .await;
    assert!(text.contains("Invalid order status"), "{text}");
}
