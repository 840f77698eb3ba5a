//! The Google sandbox: tokens, merchants and page sizes checked, listing and acknowledging, shipping
//! in parts, merchant order ids, cancellations and refunds, service-account tokens.

use super::*;

#[tokio::test]
async fn google_refuses_missing_tokens_other_merchants_and_oversized_pages() {
    let (_, base) = sandbox().await;
    let url = |m: &str, q: &str| format!("{base}/google/content/v2.1/{m}/orders{q}");
    assert_eq!(
        http()
            .get(url("123456789", ""))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let r = http()
        .get(url("123456789", ""))
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], 401);
    for (merchant, query, want) in [
        ("999", "", 403),
        ("123456789", "?maxResults=251", 400),
        ("123456789", "?statuses=SOMETIMES", 400),
    ] {
        let request = http()
            .get(url(merchant, query))
            .bearer_auth("sandbox-google-token");
        assert_eq!(status_of(request).await, want, "{merchant}{query}");
    }
}

#[tokio::test]
async fn google_lists_unacknowledged_orders_over_pages_and_acknowledge_takes_them_off() {
    let (sb, base) = sandbox().await;
    let ids: Vec<String> = (0..30)
        .map(|_| {
            sb.lock()
                .google
                .create_test_order("123456789", "template1", chrono::Utc::now())
                .unwrap()
        })
        .collect();
    let c = google(&base);
    let q = ListQuery {
        acknowledged: Some(false),
        max_results: Some(25),
        ..ListQuery::default()
    };
    let all = c.list_all_orders(&q).await.unwrap();
    assert_eq!(all.len(), 30);
    assert_eq!(
        sb.counters().requests["GET /google/content/v2.1/{merchant}/orders"],
        2
    );
    for id in &ids[..10] {
        assert_eq!(
            c.acknowledge(id, &format!("ack-{id}")).await.unwrap(),
            g::ExecutionStatus::Executed
        );
    }
    assert_eq!(c.list_all_orders(&q).await.unwrap().len(), 20);
    let active = ListQuery {
        statuses: vec!["IN_PROGRESS".into()],
        ..ListQuery::default()
    };
    assert_eq!(c.list_all_orders(&active).await.unwrap().len(), 30);
    let future = ListQuery {
        placed_date_start: Some("2100-01-01T00:00:00Z".into()),
        ..ListQuery::default()
    };
    assert!(c.list_all_orders(&future).await.unwrap().is_empty());
}

pub(crate) fn ship(op: &str, line: &str, qty: u32, packages: &[&str]) -> g::ShipLineItemsRequest {
    g::ShipLineItemsRequest {
        operation_id: op.into(),
        line_items: vec![g::LineItemShipment {
            line_item_id: Some(line.into()),
            product_id: None,
            quantity: qty,
        }],
        shipment_group_id: None,
        shipment_infos: packages
            .iter()
            .map(|p| g::ShipmentInfo {
                shipment_id: (*p).into(),
                carrier: Some("ups".into()),
                tracking_id: Some(format!("1Z-{p}")),
            })
            .collect(),
    }
}

#[tokio::test]
async fn google_ships_partially_then_fully_refuses_overshipping_and_dedupes_operations() {
    let (sb, base) = sandbox().await;
    let c = google(&base);
    let template = g::CreateTestOrderRequest {
        template_name: Some("template1a".into()),
        country: None,
    };
    let id = c.create_test_order(&template).await.unwrap();
    let line = format!("{id}-L1");
    let early = c
        .ship_line_items(&id, &ship("op-0", &line, 1, &["s0"]))
        .await
        .unwrap_err();
    assert_eq!(early.status, Some(400), "an inProgress order cannot ship");
    c.advance_test_order(&id).await.unwrap();
    // template1a is one line of one unit: widen it to three for the partial path.
    {
        let mut st = sb.lock();
        let o = &mut st.google.orders.get_mut(&id).unwrap().order;
        o.line_items[0].quantity_ordered = 3;
    }
    let over = c
        .ship_line_items(&id, &ship("op-1", &line, 4, &["s1"]))
        .await
        .unwrap_err();
    assert_eq!(over.status, Some(400));
    assert_eq!(
        c.ship_line_items(&id, &ship("op-2", &line, 1, &["s1"]))
            .await
            .unwrap(),
        g::ExecutionStatus::Executed
    );
    assert_eq!(
        c.get_order(&id).await.unwrap().unwrap().status.as_deref(),
        Some("partiallyShipped")
    );
    assert_eq!(
        c.ship_line_items(&id, &ship("op-2", &line, 1, &["s1"]))
            .await
            .unwrap(),
        g::ExecutionStatus::Duplicate
    );
    let reused = c
        .ship_line_items(&id, &ship("op-3", &line, 1, &["s1"]))
        .await
        .unwrap_err();
    assert_eq!(reused.status, Some(400), "a shipment id is used once");
    assert_eq!(
        c.ship_line_items(&id, &ship("op-4", &line, 2, &["s2", "s3"]))
            .await
            .unwrap(),
        g::ExecutionStatus::Executed
    );
    let shipped = c.get_order(&id).await.unwrap().unwrap();
    assert_eq!(shipped.status.as_deref(), Some("shipped"));
    assert_eq!(shipped.shipments.len(), 3, "one shipment per package");
    assert_eq!(shipped.line_items[0].quantity_shipped, Some(3));
    let counters = sb.counters();
    assert_eq!(
        counters.writes["google.shipLineItems"],
        orderbridge_sandbox::WriteCount {
            executed: 2,
            duplicate: 1
        }
    );

    for s in ["s1", "s2"] {
        let upd = g::UpdateShipmentRequest {
            operation_id: format!("deliver-{s}"),
            shipment_id: s.into(),
            status: Some("delivered".into()),
            carrier: None,
            tracking_id: None,
            delivery_date: None,
        };
        c.update_shipment(&id, &upd).await.unwrap();
    }
    assert_eq!(
        c.get_order(&id).await.unwrap().unwrap().status.as_deref(),
        Some("delivered")
    );
    let bad = g::UpdateShipmentRequest {
        operation_id: "deliver-nope".into(),
        shipment_id: "nope".into(),
        status: Some("delivered".into()),
        carrier: None,
        tracking_id: None,
        delivery_date: None,
    };
    assert_eq!(
        c.update_shipment(&id, &bad).await.unwrap_err().status,
        Some(400)
    );
}

#[tokio::test]
async fn google_keeps_merchant_order_ids_unique_cancels_lines_and_refunds() {
    let (sb, base) = sandbox().await;
    let [a, b] = [(); 2].map(|()| {
        sb.lock()
            .google
            .create_advanced_test_order("123456789", "template1", chrono::Utc::now())
            .unwrap()
    });
    let c = google(&base);
    c.update_merchant_order_id(&a, "op-m1", "5001")
        .await
        .unwrap();
    let taken = c
        .update_merchant_order_id(&b, "op-m2", "5001")
        .await
        .unwrap_err();
    assert_eq!(taken.status, Some(400));
    let holder = c.get_by_merchant_order_id("5001").await.unwrap();
    assert_eq!(holder.and_then(|o| o.id), Some(a.clone()));
    let cancel = g::CancelLineItemRequest {
        operation_id: "op-c1".into(),
        line_item_id: Some(format!("{b}-L2")),
        product_id: None,
        quantity: 1,
        reason: "noInventory".into(),
        reason_text: "out of stock".into(),
    };
    c.cancel_line_item(&b, &cancel).await.unwrap();
    let too_many = g::CancelLineItemRequest {
        operation_id: "op-c2".into(),
        quantity: 1,
        ..cancel.clone()
    };
    assert_eq!(
        c.cancel_line_item(&b, &too_many).await.unwrap_err().status,
        Some(400)
    );
    let refund = g::RefundItemRequest {
        operation_id: "op-r1".into(),
        items: vec![g::RefundItem {
            line_item_id: Some(format!("{b}-L1")),
            product_id: None,
            quantity: 1,
            amount: None,
            full_refund: Some(true),
        }],
        shipping: None,
        reason: "productArrivedDamaged".into(),
        reason_text: "broken".into(),
    };
    c.refund_item(&b, &refund).await.unwrap();
    let order = c.get_order(&b).await.unwrap().unwrap();
    assert_eq!(order.line_items[1].quantity_canceled, Some(1));
    assert_eq!(order.refunds.len(), 1);
    c.cancel_test_order_by_customer(&a, "changedMind")
        .await
        .unwrap();
    assert_eq!(
        c.get_order(&a).await.unwrap().unwrap().status.as_deref(),
        Some("canceled")
    );
}

#[tokio::test]
async fn google_issues_tokens_for_service_account_keys() {
    let (_, base) = sandbox().await;
    let mut key: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/tests/fixtures/google/test-service-account.json"
        ))
        .unwrap(),
    )
    .unwrap();
    key["token_uri"] = json!(format!("{base}/google/token"));
    let mut s = GoogleSettings::new(
        format!("{base}/google/content/v2.1"),
        "123456789",
        GoogleCredentials::ServiceAccount(ServiceAccountKey::from_json(&key.to_string()).unwrap()),
    );
    s.http = settings();
    let c = GoogleClient::new(s).unwrap();
    assert!(c
        .list_all_orders(&ListQuery::default())
        .await
        .unwrap()
        .is_empty());
    let request = http()
        .post(format!("{base}/google/token"))
        .form(&[("grant_type", "password")]);
    assert_eq!(status_of(request).await, 400);
}
