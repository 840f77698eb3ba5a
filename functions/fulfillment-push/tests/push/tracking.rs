//! Tracking and cancellations pushed out: Google shipped in parts then delivered, every Zonos number
//! and vendor status, concurrent jobs creating each fulfillment once, and a cancellation, refund and
//! channel tracking reaching the other side.

use super::*;
use crate::both_ways::set_zonos_status;

pub async fn google_ships_partially_then_fully_in_two_shipments_and_is_delivered(aws: bool) {
    let s = setup(aws).await;
    let g = google_order(&s).await;
    let gid = mirror(&s, Channel::Google, &g).await;
    fulfill(&s, &gid, 1, "1Z001", "UPS");
    sync_genstore(&s, &gid).await;
    let push = || {
        record(
            "t",
            Job::PushTrackingToChannel {
                channel: Channel::Google,
                order_id: g.as_str().into(),
                genstore_order_id: gid.as_str().into(),
            },
        )
    };
    for _ in 0..3 {
        assert!(handle_batch(&s.deps, vec![push()]).await.is_empty());
    }
    let after_first = google_view(&s, &g).await;
    assert_eq!(after_first.status.as_deref(), Some("partiallyShipped"));
    assert_eq!(
        stored(&s, Channel::Google, &g).await.status,
        orderbridge::UnifiedStatus::PartiallyShipped,
        "the table follows"
    );
    fulfill(&s, &gid, 2, "9400111", "USPS");
    sync_genstore(&s, &gid).await;
    twice(&s, push()).await;
    let shipped = google_view(&s, &g).await;
    assert_eq!(shipped.status.as_deref(), Some("shipped"));
    assert_eq!(shipped.shipments.len(), 2);
    assert_eq!(shipped.shipments[1].carrier.as_deref(), Some("usps"));
    assert_eq!(shipped.shipments[1].tracking_id.as_deref(), Some("9400111"));
    assert_eq!(
        executed(&s, "google.shipLineItems"),
        2,
        "one per package, whatever the redeliveries"
    );
    // The carrier delivers both packages; Genstore reports it; Google hears it.
    let fids: Vec<String> = genstore_order(&s, &gid)
        .fulfillments
        .iter()
        .map(|f| f.fulfill_id.clone())
        .collect();
    for fid in &fids {
        s.sandbox.lock().genstore.deliver(fid).unwrap();
    }
    sync_genstore(&s, &gid).await;
    assert!(handle_batch(&s.deps, vec![push()]).await.is_empty());
    let delivered = google_view(&s, &g).await;
    assert_eq!(delivered.status.as_deref(), Some("delivered"));
    assert_eq!(
        stored(&s, Channel::Google, &g).await.status,
        orderbridge::UnifiedStatus::Delivered
    );
}

pub async fn zonos_gets_every_tracking_number_and_a_blocked_vendor_status_is_skipped_and_recorded(
    aws: bool,
) {
    let s = setup(aws).await;
    let z = zonos_order(&s, 2).await;
    let gid = mirror(&s, Channel::Zonos, &z).await;
    set_zonos_status(&s, &z, "IGLOBAL_FRAUD_REVIEW");
    fulfill(&s, &gid, 1, "1Z-A", "UPS");
    fulfill(&s, &gid, 1, "1Z-B", "UPS");
    sync_genstore(&s, &gid).await;
    let job = record(
        "t",
        Job::PushTrackingToChannel {
            channel: Channel::Zonos,
            order_id: z.as_str().into(),
            genstore_order_id: gid.as_str().into(),
        },
    );
    assert!(handle_batch(&s.deps, vec![job]).await.is_empty());
    let detail = zonos_detail(&s, &z).await;
    let numbers: Vec<&str> = detail
        .tracking_list
        .iter()
        .map(|t| t.number.as_str())
        .collect();
    assert_eq!(numbers, ["1Z-A", "1Z-B"]);
    assert_eq!(
        detail.order_status.as_deref(),
        Some("IGLOBAL_FRAUD_REVIEW"),
        "the vendor status was not touched"
    );
    assert_eq!(executed(&s, "zonos.updateVendorOrderStatus"), 0);
    let trail = trail_of(&s, Channel::Zonos, &z).await;
    let skipped = trail
        .iter()
        .find(|e| e.action == "updateVendorOrderStatus")
        .unwrap();
    match &skipped.outcome {
        AuditOutcome::Skipped { reason } => {
            assert!(reason.contains("IGLOBAL_FRAUD_REVIEW"), "{reason}")
        }
        other => panic!("expected a skip, got {other:?}"),
    }
}

/// Two tracking jobs for two versions of one order run at once (Genstore slow enough that both
/// list before either creates): one fulfillment per tracking number, not two.
pub async fn concurrent_tracking_jobs_create_each_fulfillment_once(aws: bool) {
    let mut s = setup(aws).await;
    // With the order's tracking lease lapsed (see `a_slow_push_…_when_the_lease_lapsed`), as when a
    // push outlives it: the claims below must hold without it.
    s.deps.push_lease = chrono::Duration::zero();
    let z = zonos_order(&s, 1).await;
    let zg = mirror(&s, Channel::Zonos, &z).await;
    let zc = s.deps.zonos.as_ref().unwrap();
    zc.set_shipment_tracking(&z, &["1ZRACE".into()])
        .await
        .unwrap();
    let detail = zc.order_detail(&z).await.unwrap();
    orders::save_newer(&*s.store, zonos::to_channel_order(&detail, None).unwrap())
        .await
        .unwrap();
    answer_after(&s, Channel::Genstore, 300);
    let body = SyncJob::from(Job::PushTrackingToGenstore {
        channel: Channel::Zonos,
        order_id: z.as_str().into(),
        genstore_order_id: zg.as_str().into(),
    })
    .to_body();
    let first = handle_record(&s.deps, &body);
    let second = async {
        // A newer version of the order arrives while the first job waits on Genstore: the second
        // job is keyed by it, so only the per-number claim can keep them apart.
        tokio::time::sleep(Duration::from_millis(100)).await;
        orders::modify(&*s.store, &OrderKey::new(Channel::Zonos, z.as_str()), |o| {
            o.updated_at += chrono::Duration::seconds(5);
            true
        })
        .await
        .unwrap();
        handle_record(&s.deps, &body).await
    };
    let (a, b) = tokio::join!(first, second);
    assert!(matches!(a, Outcome::Done(_)), "{a:?}");
    // The second either saw the first's claim in progress (and will be redelivered) or found it done.
    if !matches!(b, Outcome::Done(_)) {
        assert!(matches!(b, Outcome::Retry(_)), "{b:?}");
        let again = handle_record(&s.deps, &body).await;
        assert!(matches!(again, Outcome::Done(_)), "{again:?}");
    }
    assert_eq!(executed(&s, "genstore.createFulfillment"), 1);
    assert_eq!(
        s.sandbox
            .lock()
            .genstore
            .order(&zg)
            .unwrap()
            .fulfillments
            .len(),
        1
    );
}

pub async fn cancellations_refunds_and_channel_tracking_reach_the_other_side(aws: bool) {
    let s = setup(aws).await;
    // Genstore → Google: a refund, then a cancellation of what is left.
    let g = google_order(&s).await;
    let gid = mirror(&s, Channel::Google, &g).await;
    let line = genstore_order(&s, &gid).line_items[0].id.clone();
    let (refund, _) = s
        .sandbox
        .lock()
        .genstore
        .refund(
            &gid,
            &[LineQty {
                id: line,
                quantity: 1,
            }],
            "dented",
        )
        .unwrap();
    // The merchant cancels what is left, for lack of stock.
    s.sandbox
        .lock()
        .genstore
        .cancel_order(&gid, "inventory")
        .unwrap();
    sync_genstore(&s, &gid).await;
    orders::modify(
        &*s.store,
        &OrderKey::new(Channel::Genstore, gid.as_str()),
        |o| {
            // As `refunds/create` carries it.
            let sent: orderbridge::channels::genstore::wire::Refund =
                serde_json::from_value(serde_json::to_value(&refund).unwrap()).unwrap();
            let r = orderbridge::channels::genstore::mapping::to_refund(&sent, &o.totals.currency)
                .unwrap();
            if o.refunds.iter().any(|x| x.id == r.id) {
                return false;
            }
            o.refunds.push(r);
            true
        },
    )
    .await
    .unwrap();
    let rid = refund.refund_id.clone();
    let jobs = vec![
        record(
            "r",
            Job::PushRefund {
                channel: Channel::Google,
                order_id: g.as_str().into(),
                genstore_order_id: gid.as_str().into(),
                refund_id: rid.as_str().into(),
            },
        ),
        record(
            "c",
            Job::PushCancellation {
                from: Channel::Genstore,
                to: Channel::Google,
                order_id: g.as_str().into(),
                genstore_order_id: gid.as_str().into(),
            },
        ),
    ];
    assert!(handle_batch(&s.deps, jobs.clone()).await.is_empty());
    assert!(handle_batch(&s.deps, jobs).await.is_empty());
    let google_side = google_view(&s, &g).await;
    assert_eq!(google_side.refunds.len(), 1);
    assert_eq!(
        google_side.refunds[0].reason.as_deref(),
        Some("noInventory")
    );
    assert_eq!(google_side.status.as_deref(), Some("canceled"));
    let why = &google_side.line_items[0].cancellations[0];
    assert_eq!(why.reason.as_deref(), Some("noInventory"), "reason mapped");
    assert_eq!(executed(&s, "google.refunditem"), 1);
    assert_eq!(
        executed(&s, "google.cancel"),
        1,
        "nothing shipped: the order-level call"
    );
    assert_eq!(executed(&s, "google.cancelLineItem"), 0);

    // Zonos → Genstore: Zonos cancels; the mirror is cancelled in Genstore once.
    let z = zonos_order(&s, 1).await;
    let zg = mirror(&s, Channel::Zonos, &z).await;
    set_zonos_status(&s, &z, "IGLOBAL_ORDER_CANCELLED");
    store_zonos(&s, &z).await;
    let cancel = record(
        "zc",
        Job::PushCancellation {
            from: Channel::Zonos,
            to: Channel::Genstore,
            order_id: z.as_str().into(),
            genstore_order_id: zg.as_str().into(),
        },
    );
    twice(&s, cancel.clone()).await;
    assert!(genstore_order(&s, &zg).cancelled_at.is_some());
    assert_eq!(executed(&s, "genstore.cancelOrder"), 1);
    assert_eq!(
        stored(&s, Channel::Genstore, &zg).await.status,
        orderbridge::UnifiedStatus::Cancelled
    );

    // Zonos tracking (set by Zonos' labels) → a Genstore fulfillment, once.
    let z2 = zonos_order(&s, 1).await;
    let zg2 = mirror(&s, Channel::Zonos, &z2).await;
    zonos_client(&s)
        .set_shipment_tracking(&z2, &["1ZZONOS".into()])
        .await
        .unwrap();
    store_zonos(&s, &z2).await;
    let to_genstore = record(
        "tg",
        Job::PushTrackingToGenstore {
            channel: Channel::Zonos,
            order_id: z2.as_str().into(),
            genstore_order_id: zg2.as_str().into(),
        },
    );
    assert!(handle_batch(&s.deps, vec![to_genstore.clone()])
        .await
        .is_empty());
    assert!(handle_batch(&s.deps, vec![to_genstore]).await.is_empty());
    let gs_order = genstore_order(&s, &zg2);
    assert_eq!(gs_order.fulfillments.len(), 1);
    let t = gs_order.fulfillments[0].tracking_info.clone().unwrap();
    assert_eq!(
        (t.number.as_deref(), t.company.as_deref()),
        (Some("1ZZONOS"), Some("UPS"))
    );
    assert!(t.url.unwrap().contains("ups.com"));
    let _ = &s.base;
}
