//! The sandbox's own controls: faults injected at the rates asked (errors, timeouts, answers too slow
//! after applying, latency), webhook delays, the control API's moves on Genstore orders, the seed.

use super::*;

async fn observed(base: &str, platform: &str, faults: Faults, n: usize) -> Vec<u16> {
    http()
        .put(format!("{base}/_sandbox/faults/{platform}"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    let mut statuses = Vec::with_capacity(n);
    for _ in 0..n {
        let r = http()
            .get(format!("{base}/google/content/v2.1/123456789/orders/none"))
            .bearer_auth("sandbox-google-token")
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn injected_fault_rates_are_observed_within_tolerance() {
    let (sb, base) = sandbox().await;
    let n = 600;
    let statuses = observed(
        &base,
        "google",
        Faults {
            error_rate: 0.2,
            throttle_rate: 0.1,
            ..Faults::default()
        },
        n,
    )
    .await;
    let rate = |code: u16| statuses.iter().filter(|s| **s == code).count() as f64 / n as f64;
    assert!((0.14..=0.26).contains(&rate(503)), "5xx rate {}", rate(503));
    assert!((0.05..=0.15).contains(&rate(429)), "429 rate {}", rate(429));
    assert!(
        (0.6..=0.8).contains(&rate(404)),
        "served rate {}",
        rate(404)
    );
    let c = sb.counters();
    assert_eq!(
        c.faults["google.error"] as usize,
        statuses.iter().filter(|s| **s == 503).count()
    );
}

#[tokio::test]
async fn timeouts_and_slow_answers_after_applying_are_injected() {
    let (sb, base) = sandbox().await;
    let faults = Faults {
        slow_after_apply_rate: 1.0,
        hang_ms: 1500,
        ..Faults::default()
    };
    sb.set_faults(orderbridge::channel::Channel::Zonos, faults);
    let id = sb.lock().zonos.create(999, &zonos_order(false));
    let mut s = ZonosSettings::new(
        format!("{base}/zonos"),
        Credentials {
            store: 999,
            secret: Secret::new("f5bde245-f55e-414d-b722-80b25161c12c"),
        },
    );
    s.http = HttpSettings {
        timeout: Duration::from_millis(300),
        ..settings()
    };
    let err = ZonosClient::new(s)
        .unwrap()
        .update_merchant_order_id(&id, "5001")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport, "the client timed out");
    let idx = sb.lock().zonos.find(999, &id).unwrap();
    assert_eq!(
        sb.lock().zonos.orders[idx].merchant_order_id(),
        Some("5001"),
        "yet the write was applied"
    );
    let faults = Faults {
        timeout_rate: 1.0,
        hang_ms: 1500,
        ..Faults::default()
    };
    sb.set_faults(orderbridge::channel::Channel::Zonos, faults);
    let r = http()
        .post(format!("{base}/zonos/v1/orderNumbers"))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    let (url, rate) = (format!("{base}/_sandbox/faults/google"), 1.5);
    let out_of_range = http().put(url).json(&json!({ "error_rate": rate }));
    assert_eq!(status_of(out_of_range).await, 400, "a rate above 1");
}

// ------------------------------------------------------------------ Control API

#[tokio::test]
async fn the_control_api_fulfills_delivers_cancels_and_refunds_genstore_orders_with_webhooks() {
    let (_, base) = sandbox().await;
    let rx = Received::default();
    subscribe(&base, &rx.serve().await).await;
    let post = |path: String, body: Value| {
        http()
            .post(format!("{base}/_sandbox{path}"))
            .json(&body)
            .send()
    };
    let order: gw::Order = post(
        "/genstore/orders".into(),
        serde_json::to_value(new_order("web", "", &[("A", 2)])).unwrap(),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = order.order_id.clone().unwrap();
    let line = order.line_items[0].id.clone().unwrap();
    let f: gw::Fulfillment = post(
        format!("/genstore/orders/{id}/fulfill"),
        json!({"lineItems": [{"id": line, "quantity": 2}], "tracking": {"number": "1Z9", "company": "UPS"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let fid = f.fulfill_id.unwrap();
    post(format!("/genstore/fulfillments/{fid}/deliver"), json!({}))
        .await
        .unwrap();
    let refund = post(
        format!("/genstore/orders/{id}/refund"),
        json!({"lineItems": [{"id": line, "quantity": 1}], "note": "dented"}),
    )
    .await
    .unwrap();
    assert!(refund.status().is_success());
    post(
        format!("/genstore/orders/{id}/cancel"),
        json!({"reason": "fraud"}),
    )
    .await
    .unwrap();
    rx.wait_for(7).await;
    assert_eq!(
        rx.topics(),
        [
            "orders/create",
            "orders/paid",
            "orders/fulfilled",
            "orders/update",
            "refunds/create",
            "orders/update",
            "orders/cancelled"
        ]
    );
    let latest = rx.0.lock().unwrap().last().unwrap().1.clone();
    let domain = orderbridge::channels::genstore::to_channel_order(
        &orderbridge::channels::genstore::parse_order(&latest).unwrap(),
    )
    .unwrap();
    assert_eq!(domain.status, orderbridge::UnifiedStatus::Cancelled);
    assert_eq!(
        domain.shipments[0].status,
        orderbridge::order::ShipmentStatus::Delivered
    );
    // The documented order has no refunds: the refund came as its own body.
    assert!(domain.refunds.is_empty());
    let events = rx.0.lock().unwrap().clone();
    let refund: serde_json::Value = events
        .iter()
        .find(|(h, _)| h["x-genstore-topic"] == "refunds/create")
        .map(|(_, body)| serde_json::from_slice(body).unwrap())
        .unwrap();
    assert!(refund["refundId"].is_string(), "{refund}");
    assert!(refund.get("refunds").is_none() && latest_has_no_refunds(&latest));
    let missing = post("/genstore/orders/9999/fulfill".into(), json!({}))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn webhook_delay_holds_each_delivery_back() {
    let (_, base) = sandbox().await;
    let rx = Received::default();
    subscribe(&base, &rx.serve().await).await;
    http()
        .put(format!("{base}/_sandbox/genstore/webhook-mode"))
        .json(&WebhookMode {
            delay_ms: 400,
            ..WebhookMode::default()
        })
        .send()
        .await
        .unwrap();
    http()
        .post(format!("{base}/_sandbox/genstore/orders"))
        .json(&new_order("web", "", &[("A", 1)]))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(rx.0.lock().unwrap().is_empty(), "not yet delivered");
    assert_eq!(rx.wait_for(2).await.len(), 2);
}

#[tokio::test]
async fn injected_latency_delays_every_request() {
    let (sb, base) = sandbox().await;
    let faults = Faults {
        latency_ms: 250,
        ..Faults::default()
    };
    sb.set_faults(orderbridge::channel::Channel::Genstore, faults);
    let started = std::time::Instant::now();
    let request = http()
        .get(format!("{base}/genstore/api/202412/orders"))
        .header("X-Genstore-Access-Token", "sandbox-genstore-token");
    assert_eq!(status_of(request).await, 200);
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn the_seed_gives_every_platform_orders_and_the_counters_start_clean() {
    let (sb, base) = sandbox().await;
    orderbridge_sandbox::control::seed(&sb);
    let zonos_orders = zonos(&base)
        .order_numbers(OrderSelector::MissingMerchantOrderId, true)
        .await
        .unwrap();
    assert_eq!(
        (zonos_orders.order_count, zonos_orders.test_order_count),
        (1, 1)
    );
    let google_orders = google(&base)
        .list_all_orders(&ListQuery::default())
        .await
        .unwrap();
    assert_eq!(google_orders.len(), 2);
    assert!(google_orders
        .iter()
        .all(|o| o.status.as_deref() == Some("pendingShipment")));
    assert_eq!(
        genstore(&base)
            .list_all_orders(&OrderQuery::default())
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        sb.counters().writes.is_empty(),
        "seeding writes nothing through the API"
    );
    http()
        .post(format!("{base}/_sandbox/reset"))
        .send()
        .await
        .unwrap();
    assert!(genstore(&base)
        .list_all_orders(&OrderQuery::default())
        .await
        .unwrap()
        .is_empty());
}
