//! Refunds by webhook: recorded once and pushed, parked until their order arrives, joined when it
//! does, however the two race.

use super::*;

/// Delivers `topic` for the Genstore mirror (`id`, minute, financial status) of the Google order
/// `google`.
async fn google_mirror(
    b: &Backend,
    topic: &str,
    mirror: (&str, i64, &str),
    google: &str,
) -> Outbound {
    let (id, minute, financial) = mirror;
    let linked = json!({"sourceName": "google", "sourceIdentifier": google});
    deliver(
        b,
        &Delivery::new(topic, &gs_order(id, minute, financial, linked)),
    )
    .await
}

pub async fn a_refund_is_recorded_once_and_pushed(b: &Backend) {
    external(b, Channel::Google, "G-4").await;
    google_mirror(b, "orders/create", ("5004", 0, "paid"), "G-4").await;
    jobs(b).await;
    let refund = json!({"refundId": "r1", "orderId": "5004", "createdAt": at(30), "note": "dented",
        "refundLineItems": [{"lineItemId": "l1", "quantity": 1, "subtotal": "10.00"}],
        "transactions": [{"amount": "10.00", "currency": "USD"}]});
    let out = deliver(b, &Delivery::new("refunds/create", &refund)).await;
    assert_eq!(out.body, json!({"outcome": "recorded"}));
    let o = stored(b, Channel::Genstore, "5004").await.unwrap();
    assert_eq!(o.refunds.len(), 1);
    assert_eq!(
        o.refunds[0].amount.as_ref().unwrap().amount,
        rust_decimal::Decimal::new(1000, 2)
    );
    assert_eq!(
        jobs(b).await,
        vec![SyncJob::from(Job::PushRefund {
            channel: Channel::Google,
            order_id: "G-4".into(),
            genstore_order_id: "5004".into(),
            refund_id: "r1".into()
        })]
    );
    // Genstore follows a refund with `orders/update` (the order's payment state moves on). The
    // documented order carries no refunds, so the newer state keeps the refund it did not repeat.
    let after = google_mirror(
        b,
        "orders/update",
        ("5004", 31, "partially_refunded"),
        "G-4",
    )
    .await;
    assert_eq!(after.body, json!({"outcome": "updated"}));
    let o = stored(b, Channel::Genstore, "5004").await.unwrap();
    assert_eq!(
        o.refunds.len(),
        1,
        "the recorded refund outlives the next state"
    );
    assert_eq!(o.refunds[0].id.as_ref().map(|r| r.as_str()), Some("r1"));
    jobs(b).await;
    // The same refund under a new webhook id (Genstore re-sent the event): recorded once.
    let again = deliver(b, &Delivery::new("refunds/create", &refund)).await;
    assert_eq!(again.body, json!({"outcome": "unchanged"}));
    assert_eq!(
        stored(b, Channel::Genstore, "5004")
            .await
            .unwrap()
            .refunds
            .len(),
        1
    );
    // A refund for an order not yet seen waits for it, and is pushed once the mirror arrives.
    external(b, Channel::Google, "G-7").await;
    jobs(b).await;
    let early = json!({"refundId": "r9", "orderId": "7777", "createdAt": at(40), "note": "Pat's parcel",
        "refundLineItems": [{"lineItemId": "l1", "quantity": 1, "subtotal": "10.00"}],
        "transactions": [{"amount": "10.00", "currency": "USD"}]});
    assert_eq!(said(b, "refunds/create", &early).await, "parked");
    assert!(stored(b, Channel::Genstore, "7777").await.is_none());
    assert!(jobs(b).await.is_empty());
    google_mirror(b, "orders/create", ("7777", 0, "paid"), "G-7").await;
    let o = stored(b, Channel::Genstore, "7777").await.unwrap();
    assert_eq!(o.refunds.len(), 1, "the parked refund joined its order");
    assert!(o.refunds[0].reason.is_none(), "its note was not kept");
    assert_eq!(
        b.store
            .read(&RecordName::ParkedRefunds("7777").to_string())
            .await
            .unwrap(),
        None,
        "the parked record is gone once its refunds joined"
    );
    let queued = jobs(b).await;
    assert!(
        queued.contains(&SyncJob::from(Job::PushRefund {
            channel: Channel::Google,
            order_id: "G-7".into(),
            genstore_order_id: "7777".into(),
            refund_id: "r9".into()
        })),
        "{queued:?}"
    );
}

/// A refund parked between the fast path's read of a new order and its write (the refund's webhook
/// looked for the order twice, both times before the write): the write is refused, and the
/// delivery's slow path joins the refund and removes the parked record.
pub async fn a_refund_parked_while_its_order_is_written_joins_it(b: &Backend) {
    let store = &*b.store;
    let order = orderbridge::channels::genstore::to_channel_order(
        &orderbridge::channels::genstore::parse_order(
            &serde_json::to_vec(&gs_order("8801", 0, "paid", json!({}))).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let WebhookPlan::Ready { writes, .. } =
        plan_genstore_webhook(store, order, "wh-8801", Duration::hours(1))
            .await
            .unwrap()
    else {
        panic!("a new order with nothing parked takes the fast path");
    };
    let refund = json!({"refundId": "r-8801", "orderId": "8801", "createdAt": at(5),
        "refundLineItems": [{"lineItemId": "l1", "quantity": 1, "subtotal": "10.00"}]});
    assert_eq!(said(b, "refunds/create", &refund).await, "parked");
    assert!(
        !store.write_batch(&writes).await.unwrap(),
        "the write planned before the parking is refused"
    );
    assert!(stored(b, Channel::Genstore, "8801").await.is_none());
    // The delivery then goes round again (here: Genstore's next attempt of it).
    let out = deliver(
        b,
        &Delivery::new("orders/create", &gs_order("8801", 0, "paid", json!({}))),
    )
    .await;
    assert_eq!(out.body, json!({"outcome": "created"}));
    let o = stored(b, Channel::Genstore, "8801").await.unwrap();
    let ids: Vec<_> = o.refunds.iter().filter_map(|r| r.id.as_ref()).collect();
    assert_eq!(ids.len(), 1, "the parked refund joined: {ids:?}");
    assert_eq!(ids[0].as_str(), "r-8801");
    assert_eq!(
        store
            .read(&RecordName::ParkedRefunds("8801").to_string())
            .await
            .unwrap(),
        None
    );
}

/// Refunds and their orders announced at the same moment, many at once: whichever comes first and
/// however they interleave, every refund ends on its order and no parked record is left behind.
pub async fn refunds_racing_their_orders_all_join_and_leave_nothing_parked(b: &Backend) {
    const N: usize = 40;
    let ids: Vec<String> = (0..N).map(|i| format!("{}", 8900 + i)).collect();
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let refund = json!({"refundId": format!("r-{id}"), "orderId": id, "createdAt": at(5),
            "refundLineItems": [{"lineItemId": "l1", "quantity": 1, "subtotal": "10.00"}]});
        let order = gs_order(id, 0, "paid", json!({}));
        let refund_first = i % 2 == 0;
        tasks.push(async move {
            let r = Delivery::new("refunds/create", &refund);
            let o = Delivery::new("orders/create", &order);
            if refund_first {
                tokio::join!(deliver(b, &r), deliver(b, &o))
            } else {
                let (c, a) = tokio::join!(deliver(b, &o), deliver(b, &r));
                (a, c)
            }
        });
    }
    let answers = futures::future::join_all(tasks).await;
    let mut by_outcome = std::collections::BTreeMap::<String, usize>::new();
    for (refund_answer, order_answer) in &answers {
        assert_eq!(order_answer.status, 200, "{:?}", order_answer.body);
        assert_eq!(refund_answer.status, 200, "{:?}", refund_answer.body);
        *by_outcome
            .entry(refund_answer.body["outcome"].to_string())
            .or_default() += 1;
        *by_outcome
            .entry(format!("order {}", order_answer.body["outcome"]))
            .or_default() += 1;
    }
    let held_now = held::list(&*b.store).await.unwrap();
    assert!(
        held_now.is_empty(),
        "no delivery of the race is held: {held_now:?}"
    );
    for id in &ids {
        let o = stored(b, Channel::Genstore, id)
            .await
            .unwrap_or_else(|| panic!("order {id} not stored ({by_outcome:?})"));
        let refunds: Vec<_> = o.refunds.iter().filter_map(|r| r.id.as_ref()).collect();
        assert_eq!(
            refunds.len(),
            1,
            "order {id}: {refunds:?} (refund outcomes {by_outcome:?})"
        );
        assert_eq!(
            b.store
                .read(&RecordName::ParkedRefunds(id).to_string())
                .await
                .unwrap(),
            None,
            "order {id}: a parked record is left (refund outcomes {by_outcome:?})"
        );
    }
}

/// Reconciliation (or any order state) showing a refund that was never pushed queues its push.
pub async fn a_refund_seen_only_in_the_order_state_is_pushed(b: &Backend) {
    external(b, Channel::Google, "G-8").await;
    let linked = json!({"sourceName": "google", "sourceIdentifier": "G-8"});
    deliver(
        b,
        &Delivery::new(
            "orders/create",
            &gs_order("5008", 0, "paid", linked.clone()),
        ),
    )
    .await;
    jobs(b).await;
    let mut with_refund = gs_order("5008", 60, "partially_refunded", linked);
    with_refund["refunds"] = json!([{"refundId": "r5", "orderId": "5008", "createdAt": at(50),
        "refundLineItems": [{"lineItemId": "l1", "quantity": 1, "subtotal": "10.00"}],
        "transactions": [{"amount": "10.00", "currency": "USD"}]}]);
    deliver(b, &Delivery::new("orders/update", &with_refund)).await;
    assert_eq!(
        jobs(b).await,
        vec![SyncJob::from(Job::PushRefund {
            channel: Channel::Google,
            order_id: "G-8".into(),
            genstore_order_id: "5008".into(),
            refund_id: "r5".into()
        })]
    );
    // The same state again queues nothing more.
    deliver(b, &Delivery::new("orders/update", &with_refund)).await;
    assert!(jobs(b).await.is_empty());
}
