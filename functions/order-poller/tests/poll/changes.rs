//! Backfills resumed, stalled channels, the merchant-id sweep, and changes made on a channel (Zonos
//! status, Google refunds, returns and cancellations) picked up.

use super::*;

/// A backfill stopped by the deadline, run again, continues where it stopped (each order imported
/// once over the two runs); once complete, its position is cleared and a new run starts afresh.
/// On every channel, each walked in its own API's order.
pub async fn a_stopped_backfill_resumes_where_it_stopped_on_every_channel(aws: bool) {
    let s = setup(aws).await;
    let now = chrono::Utc::now();
    {
        let mut st = s.sandbox.lock();
        for _ in 0..5 {
            st.zonos.create(
                999,
                &NewZonosOrder {
                    placed_hours_ago: 24 * 40,
                    ..zonos_order(false)
                },
            );
        }
        for i in 0..5 {
            let at = now - chrono::Duration::days(40) + chrono::Duration::minutes(i);
            st.google
                .create_advanced_test_order("123456789", "template1", at)
                .unwrap();
        }
    }
    add_genstore(&s.sandbox, 5);
    let today = now.date_naive();
    for (channel, since) in [
        (Channel::Zonos, today - chrono::Duration::days(45)),
        (Channel::Google, today - chrono::Duration::days(45)),
        (Channel::Genstore, today),
    ] {
        let req = || PollRequest {
            backfill: Some(Backfill {
                channel,
                since,
                through: None,
            }),
        };
        let name = channel.as_str();
        let first = order_poller::run(&s.deps, req(), &After(AtomicUsize::new(2))).await;
        let a = first.channel(name).unwrap().clone();
        assert!(a.stopped_at_deadline, "{channel}: {a:?}");
        assert!(a.seen >= 1 && a.seen < 5, "{channel}: {a:?}");
        let stopped_at = a.cursor_after.clone().expect("a position is kept");
        let second = order_poller::run(&s.deps, req(), &Forever).await;
        let b = second.channel(name).unwrap().clone();
        assert!(
            !b.stopped_at_deadline && b.error.is_none(),
            "{channel}: {b:?}"
        );
        assert_eq!(
            b.cursor_before.as_deref(),
            Some(stopped_at.as_str()),
            "{channel}"
        );
        let imported = |c: &order_poller::ChannelSummary| c.new + c.missed;
        assert_eq!(
            imported(&a) + imported(&b),
            5,
            "{channel}: {a:?} then {b:?}"
        );
        // Google resumes at the last placement time, inclusive: that order is seen again, unchanged.
        let again = if channel == Channel::Google { 1 } else { 0 };
        assert_eq!(a.seen + b.seen, 5 + again, "{channel}: {a:?} then {b:?}");
        let third = order_poller::run(&s.deps, req(), &Forever).await;
        let c = third.channel(name).unwrap().clone();
        assert_eq!(c.cursor_before, None, "{channel}: complete, so afresh");
        assert_eq!((c.seen, c.unchanged), (5, 5), "{channel}: {c:?}");
    }
    assert!(s.store.read("zonos").await.unwrap().is_none());
    assert!(s.store.read("genstore").await.unwrap().is_none());
}

/// A run that hits a transient fault succeeds: the failure is in its summary (and metrics), the
/// channel is not stalled. Only a channel failing with no progress for longer than the configured
/// time stalls, and that is what fails the invocation (the first run shows a run with progress is
/// 0 behind).
pub async fn only_a_channel_without_progress_past_the_configured_time_fails_the_run(aws: bool) {
    let s = setup(aws).await;
    add_zonos(&s.sandbox, 2);
    let first = poll(&s).await;
    let z = first.channel("zonos").unwrap();
    assert!(first.ok() && first.stalled().is_empty(), "{first:?}");
    assert_eq!(z.behind_secs, Some(0));

    // Zonos fails every call for a while: the run ends with Zonos' error counted, and succeeds.
    s.sandbox.set_faults(
        Channel::Zonos,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    add_zonos(&s.sandbox, 1);
    let transient = poll(&s).await;
    let z = transient.channel("zonos").unwrap();
    assert!(z.error.is_some(), "{z:?}");
    assert!(!z.stalled, "{z:?}");
    assert!(transient.stalled().is_empty());
    assert!(z.behind_secs.is_some_and(|b| b < 60), "{z:?}");
    assert!(
        transient.channel("google").unwrap().ok(),
        "the other channels go on"
    );

    // Still down, and the last progress was two hours ago: the channel is stalled.
    let name = RecordName::PollCompleted("zonos").to_string();
    let before = s.store.read(&name).await.unwrap().map(|c| c.value);
    let long_ago = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
    assert!(s
        .store
        .advance(&name, before.as_deref(), &long_ago)
        .await
        .unwrap());
    let down = poll(&s).await;
    let z = down.channel("zonos").unwrap();
    assert!(z.stalled, "{z:?}");
    assert!(z.behind_secs.is_some_and(|b| b >= 7200), "{z:?}");
    assert_eq!(
        down.stalled()
            .iter()
            .map(|c| c.channel.as_str())
            .collect::<Vec<_>>(),
        ["zonos"]
    );
}

pub async fn the_sweep_rewrites_merchant_ids_zonos_still_lacks(aws: bool) {
    let s = setup(aws).await;
    let ids = add_zonos(&s.sandbox, 2);
    poll(&s).await;
    drain(&*s.queue).await;
    // One order was mirrored (linked) but its merchant-id write never reached Zonos.
    orderbridge::store::orders::link_to_genstore(
        &*s.store,
        &OrderKey::new(Channel::Zonos, ids[0].as_str()),
        &"5001".into(),
    )
    .await
    .unwrap();
    let r = poll(&s).await;
    assert!(r.ok(), "{r:?}");
    let jobs = drain(&*s.queue).await;
    assert_eq!(
        jobs,
        vec![SyncJob::from(Job::WriteMerchantOrderId {
            channel: Channel::Zonos,
            order_id: ids[0].as_str().into(),
            genstore_order_id: "5001".into()
        })],
        "only the mirrored order, once"
    );
}

pub async fn a_zonos_status_change_of_a_known_order_is_picked_up_and_pushed(aws: bool) {
    let s = setup(aws).await;
    let ids = add_zonos(&s.sandbox, 3);
    poll(&s).await;
    drain(&*s.queue).await;
    orderbridge::store::orders::link_to_genstore(
        &*s.store,
        &OrderKey::new(Channel::Zonos, ids[0].as_str()),
        &"7001".into(),
    )
    .await
    .unwrap();
    let idx = s.sandbox.lock().zonos.find(999, &ids[0]).unwrap();
    // As fulfillment-push leaves it: mirrored, and the merchant id written back to Zonos.
    s.sandbox.lock().zonos.orders[idx]
        .order
        .insert("merchantOrderId".into(), "7001".into());
    s.sandbox
        .lock()
        .zonos
        .set_status(idx, "IGLOBAL_ORDER_CANCELLED");
    let z = polled(&s, "zonos").await;
    assert_eq!((z.new, z.changed), (0, 1), "{z:?}");
    let stored = order_of(&s, Channel::Zonos, ids[0].as_str()).await;
    assert_eq!(stored.raw_status, "IGLOBAL_ORDER_CANCELLED");
    assert_eq!(
        stored.genstore_order_id,
        Some("7001".into()),
        "the link stays"
    );
    assert_eq!(
        drain(&*s.queue).await,
        vec![SyncJob::from(Job::PushCancellation {
            from: Channel::Zonos,
            to: Channel::Genstore,
            order_id: ids[0].as_str().into(),
            genstore_order_id: "7001".into()
        })]
    );
    let again = poll(&s).await;
    assert_eq!(
        again.channel("zonos").unwrap().changed,
        0,
        "a change is taken once"
    );
}

/// A refund made in Merchant Center and a return received, on a known order whose status the first
/// leaves as it was: each is picked up and brought to the mirror.
pub async fn a_refund_and_a_return_on_google_are_picked_up(aws: bool) {
    let s = setup(aws).await;
    let ids = add_google(&s.sandbox, 1);
    poll(&s).await;
    drain(&*s.queue).await;
    orderbridge::store::orders::link_to_genstore(
        &*s.store,
        &OrderKey::new(Channel::Google, ids[0].as_str()),
        &"6002".into(),
    )
    .await
    .unwrap();
    let reversals = || {
        vec![SyncJob::from(Job::RecordReversals {
            channel: Channel::Google,
            order_id: ids[0].as_str().into(),
            genstore_order_id: "6002".into(),
        })]
    };
    s.sandbox
        .lock()
        .google
        .orders
        .get_mut(&ids[0])
        .unwrap()
        .refund_on_google(rust_decimal::Decimal::new(200, 2), "priceAdjustment")
        .unwrap();
    let r = poll(&s).await;
    assert_eq!(r.channel("google").unwrap().changed, 1, "{r:?}");
    assert_eq!(drain(&*s.queue).await, reversals());
    {
        let mut st = s.sandbox.lock();
        let o = st.google.orders.get_mut(&ids[0]).unwrap();
        let line = o.order.line_items[0].id.clone();
        o.order.line_items[0].quantity_shipped = 1;
        o.ask_return(&line, 1).unwrap();
        o.receive_return(&line, 1).unwrap();
    }
    let r = poll(&s).await;
    assert_eq!(r.channel("google").unwrap().changed, 1, "{r:?}");
    let jobs = drain(&*s.queue).await;
    assert!(jobs.contains(&reversals()[0]), "{jobs:?}");
    let again = poll(&s).await;
    assert_eq!(again.channel("google").unwrap().changed, 0, "taken once");
}

pub async fn a_customer_cancellation_on_google_is_picked_up_and_pushed(aws: bool) {
    let s = setup(aws).await;
    let ids = add_google(&s.sandbox, 2);
    poll(&s).await;
    drain(&*s.queue).await;
    orderbridge::store::orders::link_to_genstore(
        &*s.store,
        &OrderKey::new(Channel::Google, ids[1].as_str()),
        &"6001".into(),
    )
    .await
    .unwrap();
    {
        let mut st = s.sandbox.lock();
        let o = &mut st.google.orders.get_mut(&ids[1]).unwrap().order;
        o.status = "canceled".into();
        for l in &mut o.line_items {
            l.quantity_canceled = l.quantity_ordered;
            l.cancellations
                .push(orderbridge_sandbox::google::model::Cancellation {
                    actor: "customer".into(),
                    creation_date: chrono::Utc::now().to_rfc3339(),
                    quantity: l.quantity_ordered,
                    reason: "customerInitiatedCancel".into(),
                    reason_text: String::new(),
                });
        }
    }
    let g = polled(&s, "google").await;
    assert_eq!((g.new, g.changed), (0, 1), "{g:?}");
    let stored = order_of(&s, Channel::Google, ids[1].as_str()).await;
    assert_eq!(stored.status, orderbridge::UnifiedStatus::Cancelled);
    assert_eq!(
        stored.genstore_order_id,
        Some("6001".into()),
        "the link stays"
    );
    assert_eq!(
        drain(&*s.queue).await,
        vec![SyncJob::from(Job::PushCancellation {
            from: Channel::Google,
            to: Channel::Genstore,
            order_id: ids[1].as_str().into(),
            genstore_order_id: "6001".into()
        })]
    );
}
