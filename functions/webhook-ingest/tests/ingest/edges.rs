//! The edges an attacker or a second shop reaches: shops kept apart by their secrets, compliance
//! requests, a webhook id or signed body reused under another id or topic, another shop's delivery.

use super::*;

/// Two shops in one deployment: a webhook belongs to the shop whose secret signed it, and touches
/// only that shop's rows, even under an order id the other shop has too; the shop-domain header
/// cannot move a signed delivery to another shop; a shop's redaction erases nothing of the other.
pub async fn each_shops_webhooks_touch_only_its_own_rows(b: &Backend) {
    const EU_SECRET: &str = "eu-secret";
    const EU: &str = "eu.genmystore.com";
    let eu: orderbridge::shop::ShopId = "eu".parse().unwrap();
    let mut shops = b.deps.shops.clone();
    shops.push(webhook_ingest::ShopKeys {
        id: eu.clone(),
        secrets: vec![Secret::new(EU_SECRET)],
        shop_domain: Some(EU.into()),
    });
    let two = Backend {
        deps: Deps {
            shops,
            ..b.deps.clone()
        },
        store: b.store.clone(),
        queue: b.queue.clone(),
        clock: None,
        _dir: None,
    };
    let signed_for_eu = |topic: &str, body: &Value| {
        let mut d = Delivery::new(topic, body);
        d.signature = Some(signature::sign(&d.body, &Secret::new(EU_SECRET)));
        d.shop = Some(EU.into());
        d
    };
    let default_store = b.store.clone();
    let eu_store = orderbridge::store::ShopStore::scoped(b.store.clone(), &eu);
    let get = |s: Arc<dyn Storage>| async move {
        s.get(&OrderKey::new(Channel::Genstore, "7101"))
            .await
            .unwrap()
            .map(|o| o.order)
    };

    // The same order id in both shops, each by its own shop's signed webhook.
    let ours = gs_order("7101", 0, "paid", json!({"totalPrice": "10.00"}));
    assert_eq!(
        deliver(&two, &Delivery::new("orders/create", &ours))
            .await
            .status,
        200
    );
    assert!(
        get(eu_store.clone()).await.is_none(),
        "not in the other shop"
    );
    let theirs = gs_order("7101", 0, "paid", json!({"totalPrice": "99.00"}));
    assert_eq!(
        deliver(&two, &signed_for_eu("orders/create", &theirs))
            .await
            .status,
        200
    );
    let (a, e) = (
        get(default_store.clone()).await.unwrap(),
        get(eu_store.clone()).await.unwrap(),
    );
    assert_eq!(a.totals.total.to_string(), "10.00");
    assert_eq!(e.totals.total.to_string(), "99.00");

    // A signed delivery cannot be moved to another shop by its unsigned header, either way.
    let mut moved = signed_for_eu(
        "orders/update",
        &gs_order("7101", 5, "refunded", json!({"totalPrice": "99.00"})),
    );
    moved.shop = Some(SHOP.into());
    assert_eq!(deliver(&two, &moved).await.status, 400);
    let mut moved = Delivery::new("orders/update", &gs_order("7101", 5, "refunded", json!({})));
    moved.shop = Some(EU.into());
    assert_eq!(deliver(&two, &moved).await.status, 400);
    assert_eq!(get(default_store.clone()).await.unwrap(), a);
    assert_eq!(get(eu_store.clone()).await.unwrap(), e);

    // The other shop's redaction is queued as that shop's job, and erases only its rows.
    let _ = jobs(&two).await;
    let redact = signed_for_eu("shop/redact", &json!({"shopDomain": EU}));
    assert_eq!(
        deliver(&two, &redact).await.body,
        json!({"outcome": "queued"})
    );
    let queued = jobs(&two).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].shop, eu);
    let Job::RedactPersonalData { request_id, scope } = &queued[0].job else {
        panic!("{queued:?}")
    };
    compliance::redact(&*eu_store, scope, request_id)
        .await
        .unwrap();
    assert!(get(eu_store.clone()).await.unwrap().personal_data_erased);
    let kept = get(default_store.clone()).await.unwrap();
    assert!(
        !kept.personal_data_erased,
        "the other shop's order keeps its data"
    );
    assert!(kept.customer.is_some());
}

pub async fn compliance_topics_are_queued_for_fulfillment_push(b: &Backend) {
    deliver(
        b,
        &Delivery::new("orders/create", &gs_order("6001", 0, "paid", json!({}))),
    )
    .await;
    let before = table_dump(b).await;
    let data_request = json!({"shopDomain": SHOP, "customer": {"id": "c-77", "email": "buyer@example.com"}, "ordersRequested": ["6001"]});
    let d = Delivery::new("customers/data_request", &data_request);
    assert_eq!(deliver(b, &d).await.body, json!({"outcome": "queued"}));
    let redact = json!({"shopDomain": SHOP, "customer": {"id": "c-77", "email": "buyer@example.com"}, "ordersToRedact": ["6001"]});
    let r = Delivery::new("customers/redact", &redact);
    assert_eq!(deliver(b, &r).await.body, json!({"outcome": "queued"}));
    let s = Delivery::new("shop/redact", &json!({"shopDomain": SHOP}));
    assert_eq!(deliver(b, &s).await.body, json!({"outcome": "queued"}));
    assert_eq!(
        table_dump(b).await,
        before,
        "nothing is erased inside the webhook's time"
    );
    let queued: Vec<Job> = jobs(b).await.into_iter().map(|j| j.job).collect();
    // Each request is keyed by what was signed (topic and body), never by its unsigned id, and
    // reaches only the orders placed by the time it arrived.
    let mut request_ids = Vec::new();
    let unkeyed: Vec<Job> = queued
        .iter()
        .map(|job| {
            let (Job::RecordDataRequest { request_id, scope }
            | Job::RedactPersonalData { request_id, scope }) = job
            else {
                panic!("{job:?}")
            };
            assert!(
                request_id.starts_with("genstore-compliance#"),
                "{request_id}"
            );
            let arrived = scope.arrived_at.expect("the time it arrived");
            assert!((Utc::now() - arrived).num_seconds() < 60, "{arrived}");
            request_ids.push(request_id.clone());
            let scope = Scope {
                arrived_at: None,
                ..scope.clone()
            };
            match job {
                Job::RecordDataRequest { .. } => Job::RecordDataRequest {
                    request_id: String::new(),
                    scope,
                },
                _ => Job::RedactPersonalData {
                    request_id: String::new(),
                    scope,
                },
            }
        })
        .collect();
    request_ids.dedup();
    assert_eq!(request_ids.len(), 3, "{request_ids:?}");
    let scope = |customer: Option<&str>, orders: &[&str], whole_shop| Scope {
        customer_id: customer.map(Into::into),
        genstore_order_ids: orders.iter().map(|o| (*o).into()).collect(),
        whole_shop,
        arrived_at: None,
    };
    assert_eq!(
        unkeyed,
        vec![
            Job::RecordDataRequest {
                request_id: String::new(),
                scope: scope(Some("c-77"), &["6001"], false),
            },
            Job::RedactPersonalData {
                request_id: String::new(),
                scope: scope(Some("c-77"), &["6001"], false),
            },
            Job::RedactPersonalData {
                request_id: String::new(),
                scope: scope(None, &[], true),
            },
        ]
    );
    // Resent under a new id, and (where the test moves time) eight days later, when an ordinary
    // claim would have lapsed: still the same request, done once; nothing is queued again.
    if let Some(clock) = &b.clock {
        clock.advance(Duration::days(8));
    }
    let mut again = Delivery::new("customers/redact", &redact);
    again.webhook_id = Some("a-fresh-id".into());
    assert_eq!(
        deliver(b, &again).await.body,
        json!({"outcome": "duplicate"})
    );
    // (Eight days on, the jobs received above are visible again; a second redaction would be a
    // new job, arriving now.)
    let after: Vec<Job> = jobs(b).await.into_iter().map(|j| j.job).collect();
    assert!(
        after.iter().all(|j| queued.contains(j)),
        "a compliance request is carried out once: {after:?}"
    );
    // What fulfillment-push does with the redaction job erases the customer's order.
    let Job::RedactPersonalData { request_id, scope } = &queued[1] else {
        unreachable!()
    };
    compliance::redact(&*b.store, scope, request_id)
        .await
        .unwrap();
    let erased = stored(b, Channel::Genstore, "6001").await.unwrap();
    assert!(erased.customer.is_none() && erased.personal_data_erased);
}

/// The webhook id is not signed: a delivery whose id was used by another topic or body is refused
/// (409) and changes nothing, instead of passing for a duplicate or for new; the same delivery again
/// is still a duplicate.
pub async fn a_webhook_id_reused_for_another_body_is_refused(b: &Backend) {
    let first = Delivery::new("orders/create", &gs_order("7301", 0, "paid", json!({})));
    assert_eq!(deliver(b, &first).await.body["outcome"], "created");
    let before = table_dump(b).await;
    for (topic, body) in [
        ("orders/update", gs_order("7301", 0, "paid", json!({}))),
        (
            "orders/create",
            gs_order("7301", 5, "paid", json!({"note": "changed"})),
        ),
        ("orders/create", gs_order("7302", 0, "paid", json!({}))),
    ] {
        let mut reused = Delivery::new(topic, &body);
        reused.webhook_id = first.webhook_id.clone();
        let out = deliver(b, &reused).await;
        assert_eq!(out.status, 409, "{topic}: {out:?}");
        assert_eq!(out.outcome(), webhook_ingest::Outcome::Rejected);
        assert!(reason(&out).contains("webhook id"), "{out:?}");
    }
    assert_eq!(
        table_dump(b).await,
        before,
        "a refused delivery changes nothing"
    );
    assert_eq!(deliver(b, &first).await.body["outcome"], "duplicate");
}

/// Genstore signs only the body: a captured order body, resent under each compliance topic (or as
/// a refund) with a fresh webhook id, is refused and erases nothing.
pub async fn a_signed_body_resent_under_another_topic_is_refused(b: &Backend) {
    let order = gs_order("6101", 0, "paid", json!({}));
    deliver(b, &Delivery::new("orders/create", &order)).await;
    let refund = json!({"refundId": "r-1", "orderId": "6101", "createdAt": at(5),
        "refundLineItems": [{"lineItemId": "l1", "quantity": "1", "subtotal": "10.00"}]});
    let before = table_dump(b).await;
    let cases: Vec<(&str, &Value)> = vec![
        ("shop/redact", &order),
        ("customers/redact", &order),
        ("customers/data_request", &order),
        ("refunds/create", &order),
        ("shop/redact", &refund),
        ("customers/redact", &refund),
        ("orders/update", &refund),
    ];
    for (topic, body) in cases {
        let out = deliver(b, &Delivery::new(topic, body)).await;
        assert_eq!(out.status, 400, "{topic}: {out:?}");
        let reason = reason(&out);
        assert!(reason.contains("is not a"), "{topic}: {reason}");
    }
    // A compliance body of another topic's shape, or for another shop, is refused too.
    let refusals = [
        (
            "shop/redact",
            json!({"shopDomain": SHOP, "customer": {"id": "c-77"}, "ordersToRedact": ["6101"]}),
        ),
        ("customers/redact", json!({"shopDomain": SHOP})),
        (
            "customers/redact",
            json!({"shopDomain": "other.genmystore.com", "customer": {"id": "c-77"}}),
        ),
        ("shop/redact", json!({"shopDomain": "other.genmystore.com"})),
        // Each compliance topic's own body, resent under another: a data request never erases.
        (
            "customers/redact",
            json!({"shopDomain": SHOP, "customer": {"id": "c-77"}, "ordersRequested": ["6101"]}),
        ),
        (
            "shop/redact",
            json!({"shopDomain": SHOP, "ordersRequested": ["6101"]}),
        ),
        (
            "shop/redact",
            json!({"shopDomain": SHOP, "ordersToRedact": []}),
        ),
        (
            "customers/data_request",
            json!({"shopDomain": SHOP, "customer": {"id": "c-77"}, "ordersToRedact": ["6101"]}),
        ),
        // customers/redact needs its own list, even when it names the customer.
        (
            "customers/redact",
            json!({"shopDomain": SHOP, "customer": {"id": "c-77"}}),
        ),
    ];
    for (topic, body) in refusals {
        let out = deliver(b, &Delivery::new(topic, &body)).await;
        assert_eq!(out.status, 400, "{topic} {body}: {out:?}");
    }
    assert_eq!(table_dump(b).await, before);
    assert!(jobs(b).await.is_empty(), "nothing was queued");
    assert!(stored(b, Channel::Genstore, "6101")
        .await
        .unwrap()
        .customer
        .is_some());
}

/// A delivery naming another shop in its header is not this deployment's.
pub async fn a_delivery_for_another_shop_is_refused(b: &Backend) {
    let mut d = Delivery::new("orders/create", &gs_order("6201", 0, "paid", json!({})));
    d.shop = Some("other.genmystore.com".into());
    let out = deliver(b, &d).await;
    assert_eq!(out.status, 400, "{out:?}");
    assert!(stored(b, Channel::Genstore, "6201").await.is_none());
    // Without a configured shop, orders still flow but compliance requests are refused.
    let unconfigured = Backend {
        deps: Deps {
            shops: webhook_ingest::ShopKeys::single(
                vec![Secret::new(SECRET), Secret::new(OLD_SECRET)],
                None,
            ),
            ..b.deps.clone()
        },
        store: b.store.clone(),
        queue: b.queue.clone(),
        clock: None,
        _dir: None,
    };
    let out = deliver(
        &unconfigured,
        &Delivery::new("orders/create", &gs_order("6202", 0, "paid", json!({}))),
    )
    .await;
    assert_eq!(out.status, 200, "{out:?}");
    let out = deliver(
        &unconfigured,
        &Delivery::new("shop/redact", &json!({"shopDomain": SHOP})),
    )
    .await;
    assert_eq!(out.status, 400, "{out:?}");
    assert!(jobs(b).await.is_empty());
}
