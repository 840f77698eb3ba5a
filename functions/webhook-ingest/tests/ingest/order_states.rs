//! Orders as Genstore's webhooks tell them: native orders and mirrors, fulfillments and cancellations,
//! redeliveries and deliveries out of order, a state that does not map, and the queued-jobs marker.

use super::*;

pub async fn a_native_order_is_stored_and_needs_no_follow_up(b: &Backend) {
    let out = deliver(
        b,
        &Delivery::new("orders/create", &gs_order("1001", 0, "pending", json!({}))),
    )
    .await;
    assert_eq!(out, answered(200, json!({"outcome": "created"})));
    let o = stored(b, Channel::Genstore, "1001").await.unwrap();
    assert_eq!(o.status, UnifiedStatus::Placed);
    assert!(jobs(b).await.is_empty());
}

pub async fn a_mirror_links_its_external_order_and_writes_the_merchant_id_back(b: &Backend) {
    external(b, Channel::Zonos, "999-10001").await;
    let body = gs_order(
        "5001",
        0,
        "paid",
        json!({"sourceName": "zonos", "sourceIdentifier": "999-10001"}),
    );
    assert_eq!(
        deliver(b, &Delivery::new("orders/create", &body))
            .await
            .status,
        200
    );
    let z = stored(b, Channel::Zonos, "999-10001").await.unwrap();
    assert_eq!(
        z.genstore_order_id.as_ref().map(|g| g.as_str()),
        Some("5001")
    );
    assert_eq!(
        jobs(b).await,
        vec![SyncJob::from(Job::WriteMerchantOrderId {
            channel: Channel::Zonos,
            order_id: "999-10001".into(),
            genstore_order_id: "5001".into()
        })]
    );
    // orders/paid for the same mirror: already linked, nothing more to do.
    let paid = gs_order(
        "5001",
        5,
        "paid",
        json!({"sourceName": "zonos", "sourceIdentifier": "999-10001", "note": "paid"}),
    );
    assert_eq!(
        deliver(b, &Delivery::new("orders/paid", &paid))
            .await
            .status,
        200
    );
    assert!(jobs(b).await.is_empty());
}

pub async fn fulfillments_record_tracking_per_line_and_push_it_to_the_channel(b: &Backend) {
    external(b, Channel::Google, "G-1").await;
    let base = json!({"sourceName": "google", "sourceIdentifier": "G-1"});
    deliver(
        b,
        &Delivery::new("orders/create", &gs_order("5002", 0, "paid", base.clone())),
    )
    .await;
    jobs(b).await;
    let mut partial = base.clone();
    partial["fulfillmentStatus"] = json!("partial");
    partial["fulfillments"] = json!([{"fulfillId": "f1", "status": "success", "lineItems": [{"id": "l1", "quantity": 2}],
        "trackingInfo": {"number": "1Z999", "company": "UPS"}, "createdAt": at(10), "updatedAt": at(10)}]);
    let out = deliver(
        b,
        &Delivery::new(
            "orders/partiallyFulfilled",
            &gs_order("5002", 10, "paid", partial),
        ),
    )
    .await;
    assert_eq!(out.body, json!({"outcome": "updated"}));
    let o = stored(b, Channel::Genstore, "5002").await.unwrap();
    assert_eq!(o.status, UnifiedStatus::PartiallyShipped);
    assert_eq!(
        o.line_items[0].quantities.shipped, 2,
        "partial quantities kept"
    );
    assert_eq!(o.shipments[0].tracking_numbers, vec!["1Z999"]);
    assert_eq!(o.shipments[0].carrier, Some(orderbridge::Carrier::Ups));
    let push = SyncJob::from(Job::PushTrackingToChannel {
        channel: Channel::Google,
        order_id: "G-1".into(),
        genstore_order_id: "5002".into(),
    });
    assert_eq!(jobs(b).await, vec![push.clone()]);

    // The rest ships in a second package: orders/fulfilled.
    let mut full = json!({"sourceName": "google", "sourceIdentifier": "G-1", "fulfillmentStatus": "fulfilled"});
    full["fulfillments"] = json!([
        {"fulfillId": "f1", "status": "success", "lineItems": [{"id": "l1", "quantity": 2}],
         "trackingInfo": {"number": "1Z999", "company": "UPS"}, "createdAt": at(10), "updatedAt": at(10)},
        {"fulfillId": "f2", "status": "success", "lineItems": [{"id": "l1", "quantity": 1}],
         "trackingInfo": {"number": "9400111", "company": "USPS"}, "createdAt": at(40), "updatedAt": at(40)}]);
    deliver(
        b,
        &Delivery::new("orders/fulfilled", &gs_order("5002", 40, "paid", full)),
    )
    .await;
    let o = stored(b, Channel::Genstore, "5002").await.unwrap();
    assert_eq!(o.status, UnifiedStatus::Shipped);
    assert_eq!(o.line_items[0].quantities.shipped, 3);
    assert_eq!(o.shipments[1].carrier, Some(orderbridge::Carrier::Usps));
    assert_eq!(jobs(b).await, vec![push]);
}

pub async fn a_cancellation_is_recorded_and_pushed(b: &Backend) {
    external(b, Channel::Zonos, "999-3").await;
    let base = json!({"sourceName": "zonos", "sourceIdentifier": "999-3"});
    deliver(
        b,
        &Delivery::new("orders/create", &gs_order("5003", 0, "paid", base.clone())),
    )
    .await;
    jobs(b).await;
    let mut cancelled = base;
    cancelled["cancelledAt"] = json!(at(20));
    cancelled["cancelReason"] = json!("customer");
    deliver(
        b,
        &Delivery::new(
            "orders/cancelled",
            &gs_order("5003", 20, "voided", cancelled),
        ),
    )
    .await;
    assert_eq!(
        stored(b, Channel::Genstore, "5003").await.unwrap().status,
        UnifiedStatus::Cancelled
    );
    assert_eq!(
        jobs(b).await,
        vec![SyncJob::from(Job::PushCancellation {
            from: Channel::Genstore,
            to: Channel::Zonos,
            order_id: "999-3".into(),
            genstore_order_id: "5003".into()
        })]
    );
}

pub async fn the_same_webhook_three_times_has_one_effect(b: &Backend) {
    external(b, Channel::Zonos, "999-8").await;
    let d = Delivery::new(
        "orders/create",
        &gs_order(
            "8001",
            0,
            "paid",
            json!({"sourceName": "zonos", "sourceIdentifier": "999-8"}),
        ),
    );
    let outcomes: Vec<Value> = [
        deliver(b, &d).await,
        deliver(b, &d).await,
        deliver(b, &d).await,
    ]
    .into_iter()
    .map(|o| o.body)
    .collect();
    assert_eq!(
        outcomes,
        vec![
            json!({"outcome": "created"}),
            json!({"outcome": "duplicate"}),
            json!({"outcome": "duplicate"})
        ]
    );
    assert_eq!(jobs(b).await.len(), 1, "one merchant-id job");
    assert_eq!(
        b.store
            .get(&OrderKey::new(Channel::Genstore, "8001"))
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
    // Without a webhook id, the topic and body hash dedupe.
    let mut anon = Delivery::new("orders/update", &gs_order("8001", 9, "paid", json!({})));
    anon.webhook_id = None;
    assert_eq!(deliver(b, &anon).await.body, json!({"outcome": "updated"}));
    assert_eq!(
        deliver(b, &anon).await.body,
        json!({"outcome": "duplicate"})
    );
}

pub async fn paid_before_create_ends_in_the_right_state(b: &Backend) {
    let paid = gs_order("9001", 5, "paid", json!({}));
    let create = gs_order("9001", 0, "pending", json!({}));
    assert_eq!(said(b, "orders/paid", &paid).await, "created");
    assert_eq!(said(b, "orders/create", &create).await, "stale");
    assert_eq!(
        stored(b, Channel::Genstore, "9001").await.unwrap().status,
        UnifiedStatus::Paid
    );
}

pub async fn an_older_update_after_a_newer_one_is_ignored(b: &Backend) {
    let newer = gs_order("9101", 60, "paid", json!({"note": "newer"}));
    let older = gs_order("9101", 30, "pending", json!({"note": "older"}));
    deliver(b, &Delivery::new("orders/update", &newer)).await;
    let before = table_dump(b).await;
    assert_eq!(said(b, "orders/update", &older).await, "stale");
    assert_eq!(table_dump(b).await, before);
    assert_eq!(
        stored(b, Channel::Genstore, "9101").await.unwrap().status,
        UnifiedStatus::Paid
    );
}

/// A signed order that does not map can never be applied as it is: answered 2xx (so Genstore keeps
/// the subscription), held with its body for the operator, counted as `held`; a replay applies what
/// now goes through and keeps the rest, with its reason.
pub async fn a_signed_order_that_does_not_map_is_held_and_answered_2xx(b: &Backend) {
    let before = table_dump(b).await;
    let no_currency = Delivery::new(
        "orders/create",
        &json!({"orderId": "4", "totalPrice": "1", "createdAt": at(0)}),
    );
    let out = deliver(b, &no_currency).await;
    assert_eq!(out, answered(200, json!({"outcome": "held"})));
    assert_eq!(out.outcome(), webhook_ingest::Outcome::Held);
    // Redelivered (Genstore's retry, or a duplicate): held once.
    assert_eq!(deliver(b, &no_currency).await.body["outcome"], "held");
    let listed = held::list(&*b.store).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let h = &listed[0];
    assert_eq!(
        (h.topic.as_str(), h.order_id.as_deref()),
        ("orders/create", Some("4"))
    );
    assert!(h.reason.contains("currency"), "{h:?}");
    assert!(h.body.is_none(), "the list carries no bodies");
    let kept = held_record(b, &h.key).await.unwrap();
    assert_eq!(
        kept.body.as_deref().map(str::as_bytes),
        Some(no_currency.body.as_slice())
    );
    assert_eq!(table_dump(b).await, before, "nothing of it was applied");
    assert!(jobs(b).await.is_empty());

    // A delivery held for a cause since fixed (here: held by hand) is applied by the replay; the
    // one that still does not map stays held.
    let by_hand = hold_by_hand(b, "held-by-hand", "4401").await;
    assert_eq!(held::list(&*b.store).await.unwrap().len(), 2);
    let replayed = held::replay(&b.deps).await.unwrap();
    assert_eq!(
        replayed,
        held::Replayed {
            applied: 1,
            still_held: 1
        }
    );
    assert!(
        stored(b, Channel::Genstore, "4401").await.is_some(),
        "the fixed one is applied"
    );
    let left = held::list(&*b.store).await.unwrap();
    assert_eq!(
        left.iter()
            .map(|h| h.order_id.as_deref())
            .collect::<Vec<_>>(),
        [Some("4")]
    );
    assert!(held_record(b, &by_hand.key).await.is_none());

    // A redaction naming the order erases the held body (personal data) too; the delivery stays
    // listed, and can no longer be replayed.
    let scope = Scope {
        genstore_order_ids: vec!["4".into()],
        ..Scope::default()
    };
    let done = compliance::redact(&*b.store, &scope, "cr-held")
        .await
        .unwrap();
    assert_eq!(done.held_bodies, 1, "{done:?}");
    let kept = held_record(b, &h.key).await.unwrap();
    assert_eq!(kept.body, None);
    assert_eq!(held::list(&*b.store).await.unwrap().len(), 1);
    assert_eq!(
        held::replay(&b.deps).await.unwrap(),
        held::Replayed {
            applied: 0,
            still_held: 1
        }
    );
    // One naming the customer in its body is reached by a redaction of that customer.
    let kept_held = hold_by_hand(b, "held-customer", "4402").await;
    let customer = Scope {
        customer_id: Some("c-77".into()),
        ..Scope::default()
    };
    let done = compliance::redact(&*b.store, &customer, "cr-c77")
        .await
        .unwrap();
    assert_eq!(done.held_bodies, 1, "{done:?}");
    let kept = held_record(b, &kept_held.key).await.unwrap();
    assert_eq!(kept.body, None);
}

pub async fn one_change_announced_by_two_topics_queues_its_push_once(b: &Backend) {
    external(b, Channel::Google, "G-9").await;
    let base = json!({"sourceName": "google", "sourceIdentifier": "G-9"});
    deliver(
        b,
        &Delivery::new("orders/create", &gs_order("5009", 0, "paid", base.clone())),
    )
    .await;
    jobs(b).await;
    let mut shipped = base.clone();
    shipped["fulfillmentStatus"] = json!("fulfilled");
    shipped["fulfillments"] = json!([{"fulfillId": "f9", "status": "success", "lineItems": [{"id": "l1", "quantity": 3}],
        "trackingInfo": {"number": "1Z9", "company": "UPS"}, "createdAt": at(20), "updatedAt": at(20)}]);
    let state = gs_order("5009", 20, "paid", shipped);
    // Genstore announces one change under two topics, each its own delivery.
    let first = deliver(b, &Delivery::new("orders/fulfilled", &state)).await;
    let second = deliver(b, &Delivery::new("orders/update", &state)).await;
    assert_eq!(first.body, json!({"outcome": "updated"}));
    assert_eq!(second.body, json!({"outcome": "stale"}));
    assert_eq!(
        jobs(b).await,
        vec![SyncJob::from(Job::PushTrackingToChannel {
            channel: Channel::Google,
            order_id: "G-9".into(),
            genstore_order_id: "5009".into(),
        })],
        "queued once"
    );
    // A second change in the same second, as far along (the number corrected): the bodies tie on
    // the version and cannot say which came last, so Genstore is asked (a read of the order).
    let mut corrected = state.clone();
    corrected["fulfillments"][0]["trackingInfo"]["number"] = json!("1Z9-FIXED");
    let tied = deliver(b, &Delivery::new("orders/update", &corrected)).await;
    assert_eq!(tied.body, json!({"outcome": "stale"}));
    assert_eq!(
        jobs(b).await,
        vec![SyncJob::from(Job::ImportOrder {
            channel: Channel::Genstore,
            order_id: "5009".into(),
            listing: None,
        })],
        "the order is read again"
    );
    let o = stored(b, Channel::Genstore, "5009").await.unwrap();
    assert_eq!(
        o.shipments[0].tracking_numbers,
        vec!["1Z9"],
        "a tied body is not taken as the newer"
    );
}

pub async fn a_state_saved_by_a_run_that_died_before_queuing_is_queued_by_the_next_delivery(
    b: &Backend,
) {
    external(b, Channel::Zonos, "999-9").await;
    let mut cancelled = json!({"sourceName": "zonos", "sourceIdentifier": "999-9"});
    cancelled["cancelledAt"] = json!(at(30));
    let state = gs_order("5010", 30, "paid", cancelled);
    // The run saved the order and linked it, then died: nothing queued, nothing marked.
    let order = orderbridge::channels::genstore::to_channel_order(
        &orderbridge::channels::genstore::parse_order(&serde_json::to_vec(&state).unwrap())
            .unwrap(),
    )
    .unwrap();
    orders::save_newer(&*b.store, order).await.unwrap();
    let out = deliver(b, &Delivery::new("orders/cancelled", &state)).await;
    assert_eq!(out.body, json!({"outcome": "stale"}));
    let queued = jobs(b).await;
    assert!(
        queued.iter().any(|j| matches!(
            &j.job,
            Job::PushCancellation { to: Channel::Zonos, order_id, .. } if order_id.as_str() == "999-9"
        )),
        "{queued:?}"
    );
    // Once queued, a further delivery of that state queues nothing more.
    deliver(b, &Delivery::new("orders/update", &state)).await;
    assert!(jobs(b).await.is_empty());
}
