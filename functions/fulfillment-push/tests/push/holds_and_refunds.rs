//! Both directions, continued: vendor statuses held under review, mirrors held and released with their
//! channel, line cancellations and refunds with their reasons and amounts.

use super::*;
use orderbridge::channels::genstore::wire as gw;

/// Zonos moves the order `id` to `status`.
pub fn set_zonos_status(s: &Setup, id: &str, status: &str) {
    let mut st = s.sandbox.lock();
    let idx = st.zonos.find(999, id).expect("on the sandbox");
    st.zonos.set_status(idx, status);
}

fn zonos_status(s: &Setup, id: &str) -> String {
    let st = s.sandbox.lock();
    let i = st.zonos.find(999, id).unwrap();
    st.zonos.orders[i].status().to_owned()
}

/// A mirrored Zonos order under fraud review, cancelled in Genstore: the Zonos order and the
/// cancellation's push.
async fn cancelled_under_review(s: &Setup) -> (String, SyncJob) {
    let z = zonos_order(s, 1).await;
    let gid = mirror(s, Channel::Zonos, &z).await;
    set_zonos_status(s, &z, "IGLOBAL_FRAUD_REVIEW");
    save_zonos(s, &z).await;
    s.sandbox
        .lock()
        .genstore
        .cancel_order(&gid, "fraud")
        .unwrap();
    sync_genstore(s, &gid).await;
    let cancel = SyncJob::from(Job::PushCancellation {
        from: Channel::Genstore,
        to: Channel::Zonos,
        order_id: z.as_str().into(),
        genstore_order_id: gid.as_str().into(),
    });
    (z, cancel)
}

/// A Genstore cancellation during Zonos fraud review waits (acknowledged, kept on the order, recorded
/// as waiting) and is sent once Zonos releases the order; so is the end-of-day status of a shipment
/// made during the review. Each write once.
pub async fn a_blocked_vendor_status_waits_for_the_review_and_is_sent_once_released(aws: bool) {
    let s = setup(aws).await;
    // A cancellation.
    let (z, cancel) = cancelled_under_review(&s).await;
    let out = handle_record(&s.deps, &cancel.to_body()).await;
    assert!(matches!(out, Outcome::Waiting(_)), "{out:?}");
    assert!(
        handle_batch(&s.deps, vec![Record::new("c", cancel.to_body())])
            .await
            .is_empty(),
        "a waiting job is not handed back to the queue"
    );
    assert_eq!(executed(&s, "zonos.updateVendorOrderStatus"), 0);
    let waiting = orderbridge::sync::waiting(&*s.store, Channel::Zonos, &z)
        .await
        .unwrap();
    assert_eq!(waiting, vec![cancel.clone()]);
    assert!(trail_of(&s, Channel::Zonos, &z).await.iter().any(|e| matches!(
        &e.outcome,
        AuditOutcome::Skipped { reason } if reason.starts_with("waiting:") && reason.contains("IGLOBAL_FRAUD_REVIEW")
    )));
    // A state still under review queues nothing; the release queues the cancellation.
    set_zonos_status(&s, &z, "IGLOBAL_ORDER_ON_HOLD");
    assert!(!save_zonos(&s, &z).await.contains(&cancel));
    set_zonos_status(&s, &z, "IGLOBAL_ORDER_IN_PROCESS");
    let jobs = save_zonos(&s, &z).await;
    assert!(jobs.contains(&cancel), "{jobs:?}");
    for _ in 0..2 {
        let records = jobs.iter().map(|j| Record::new("r", j.to_body())).collect();
        assert!(handle_batch(&s.deps, records).await.is_empty());
    }
    assert_eq!(zonos_status(&s, &z), "VENDOR_CANCELLATION_REQUEST");
    assert_eq!(executed(&s, "zonos.updateVendorOrderStatus"), 1);
    assert_eq!(
        s.store
            .read(&orderbridge::store::RecordName::Waiting(Channel::Zonos, &z).to_string())
            .await
            .unwrap(),
        None,
        "the order's waiting record went with its last job"
    );

    // A shipment's end-of-day status.
    let z2 = zonos_order(&s, 1).await;
    let gid2 = mirror(&s, Channel::Zonos, &z2).await;
    set_zonos_status(&s, &z2, "IGLOBAL_FRAUD_REVIEW");
    save_zonos(&s, &z2).await;
    fulfill(&s, &gid2, 1, "1Z-R", "UPS");
    sync_genstore(&s, &gid2).await;
    let out = handle_record(&s.deps, &to_channel_job(Channel::Zonos, &z2, &gid2).body).await;
    assert!(matches!(out, Outcome::Waiting(_)), "{out:?}");
    set_zonos_status(&s, &z2, "IGLOBAL_ORDER_IN_PROCESS");
    let jobs = save_zonos(&s, &z2).await;
    let records = jobs.iter().map(|j| Record::new("r", j.to_body())).collect();
    assert!(handle_batch(&s.deps, records).await.is_empty());
    assert_eq!(zonos_status(&s, &z2), "VENDOR_END_OF_DAY_COMPLETE");
    assert_eq!(executed(&s, "zonos.updateVendorOrderStatus"), 2);
}

/// Zonos releases the order while a blocked job is on its way to being kept: the job read the review,
/// then the poller saved the release and found nothing waiting, then the job was kept. Nothing would
/// queue it again; so it goes back to the queue instead, and the cancellation reaches Zonos once.
pub async fn a_release_saved_while_a_blocked_job_is_kept_still_sends_it(aws: bool) {
    let s = setup(aws).await;
    let (z, cancel) = cancelled_under_review(&s).await;
    // Zonos answers the job's read (under review) late; meanwhile it releases the order and the
    // poller saves the release, quickly.
    s.sandbox.set_faults(
        Channel::Zonos,
        Faults {
            slow_after_apply_rate: 1.0,
            hang_ms: 800,
            ..Faults::default()
        },
    );
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        s.sandbox.set_faults(Channel::Zonos, Faults::default());
        set_zonos_status(&s, &z, "IGLOBAL_ORDER_IN_PROCESS");
        save_zonos(&s, &z).await
    };
    let body = cancel.to_body();
    let (out, queued) = tokio::join!(handle_record(&s.deps, &body), release);
    assert!(
        !queued.contains(&cancel),
        "the release was saved before the job was kept: {queued:?}"
    );
    assert!(matches!(out, Outcome::Retry(_)), "{out:?}");
    assert_eq!(executed(&s, "zonos.updateVendorOrderStatus"), 0);
    // The queue runs it again.
    let out = handle_record(&s.deps, &cancel.to_body()).await;
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    assert_eq!(zonos_status(&s, &z), "VENDOR_CANCELLATION_REQUEST");
    assert_eq!(executed(&s, "zonos.updateVendorOrderStatus"), 1);
    assert!(
        orderbridge::sync::waiting(&*s.store, Channel::Zonos, &z)
            .await
            .unwrap()
            .is_empty(),
        "the job is off the list once it ran"
    );
}

pub fn mirror_payment(s: &Setup, gid: &str) -> (String, bool, String) {
    let st = s.sandbox.lock();
    let o = st.genstore.order(gid).unwrap();
    // The hold is read the way orderbridge reads it, from the order's JSON.
    let read: orderbridge::channels::genstore::wire::Order =
        serde_json::from_value(serde_json::to_value(o).unwrap()).unwrap();
    (
        o.financial_status.clone(),
        orderbridge::channels::genstore::mapping::is_held(&read),
        o.note.clone().unwrap_or_default(),
    )
}

pub async fn run_all(s: &Setup, jobs: &[SyncJob]) {
    let records = jobs.iter().map(|j| Record::new("r", j.to_body())).collect();
    assert!(handle_batch(&s.deps, records).await.is_empty());
}

/// The jobs delivered twice, as SQS may.
pub async fn run_twice(s: &Setup, jobs: &[SyncJob]) {
    run_all(s, jobs).await;
    run_all(s, jobs).await;
}

/// A Zonos order under fraud review is mirrored held (unpaid, tagged, "do not ship"), released when
/// Zonos releases it, and held again when Zonos puts it on hold; each change written once.
pub async fn a_held_order_is_mirrored_held_and_follows_its_channel(aws: bool) {
    let s = setup(aws).await;
    let z = zonos_order(&s, 1).await;
    set_zonos_status(&s, &z, "IGLOBAL_FRAUD_REVIEW");
    save_zonos(&s, &z).await;
    let gid = mirror(&s, Channel::Zonos, &z).await;
    let (paid, held, note) = mirror_payment(&s, &gid);
    assert_eq!((paid.as_str(), held), ("pending", true));
    assert!(note.contains("do not ship"), "{note}");
    let genstore = sync_genstore(&s, &gid).await;
    assert_ne!(genstore.status, orderbridge::UnifiedStatus::Paid);
    assert_eq!(
        stored(&s, Channel::Zonos, &z).await.status,
        orderbridge::UnifiedStatus::OnHold
    );

    // From one hold to another: nothing to change.
    set_zonos_status(&s, &z, "IGLOBAL_ORDER_ON_HOLD");
    let jobs = save_zonos(&s, &z).await;
    assert!(
        !jobs.iter().any(|j| j.job.kind() == "sync_hold"),
        "{jobs:?}"
    );

    set_zonos_status(&s, &z, "IGLOBAL_ORDER_IN_PROCESS");
    let jobs = save_zonos(&s, &z).await;
    assert!(jobs.iter().any(|j| j.job.kind() == "sync_hold"), "{jobs:?}");
    run_twice(&s, &jobs).await;
    let (paid, held, note) = mirror_payment(&s, &gid);
    assert_eq!((paid.as_str(), held), ("paid", false));
    assert!(note.contains("released"), "{note}");
    assert_eq!(executed(&s, "genstore.updateOrder"), 1);
    assert_eq!(
        stored(&s, Channel::Genstore, &gid).await.status,
        orderbridge::UnifiedStatus::Paid
    );

    set_zonos_status(&s, &z, "IGLOBAL_ORDER_ON_HOLD");
    let jobs = save_zonos(&s, &z).await;
    run_all(&s, &jobs).await;
    assert!(mirror_payment(&s, &gid).1, "held again");
    assert_eq!(executed(&s, "genstore.updateOrder"), 2);
    let updates = executed_on_trail(&s, Channel::Genstore, &gid, "updateOrder").await;
    assert_eq!(updates, 2);
}

/// An order released while its mirror job waited in the queue is mirrored held, then released by the
/// same job: nobody is left with a held mirror of a released order.
pub async fn an_order_released_before_its_mirror_is_released_by_the_mirror_job(aws: bool) {
    let s = setup(aws).await;
    let z = zonos_order(&s, 1).await;
    set_zonos_status(&s, &z, "IGLOBAL_FRAUD_REVIEW");
    let jobs = save_zonos(&s, &z).await;
    assert!(jobs.iter().any(|j| j.job.kind() == "mirror_order"));
    // The release lands in the table while the mirror job is creating the mirror: simulated by the
    // order being released after the job loaded it, i.e. the held state is what it creates from.
    let held_state = stored(&s, Channel::Zonos, &z).await;
    let gs = s.deps.genstore.as_ref().unwrap();
    let created = gs
        .create_order(&orderbridge::channels::genstore::mirror_request(&held_state).order)
        .await
        .unwrap();
    let gid = created.order_id.clone().unwrap();
    set_zonos_status(&s, &z, "IGLOBAL_ORDER_IN_PROCESS");
    save_zonos(&s, &z).await;
    // The mirror job finds the order it created (held) and releases it.
    assert_eq!(mirror(&s, Channel::Zonos, &z).await, gid);
    assert_eq!(executed(&s, "genstore.createOrder"), 1);
    let (paid, held, _) = mirror_payment(&s, &gid);
    assert_eq!((paid.as_str(), held), ("paid", false));
}

async fn cancel_on_google(s: &Setup, order: &str, offer: &str, quantity: u32, reason: &str) {
    let line = google_line(s, order, offer);
    let req = g::CancelLineItemRequest {
        operation_id: format!("customer-{line}-{quantity}-{reason}"),
        line_item_id: Some(line),
        product_id: None,
        quantity,
        reason: reason.into(),
        reason_text: "asked by the customer".into(),
    };
    google_client(s)
        .cancel_line_item(order, &req)
        .await
        .unwrap();
}

/// Applies Genstore's current state of an order as its webhook would; the jobs it calls for.
pub async fn genstore_jobs(s: &Setup, gid: &str) -> Vec<SyncJob> {
    let o = s
        .deps
        .genstore
        .as_ref()
        .unwrap()
        .get_order(gid)
        .await
        .unwrap()
        .unwrap();
    orderbridge::sync::apply_genstore_order(&*s.store, genstore::to_channel_order(&o).unwrap())
        .await
        .unwrap()
        .jobs
}

pub fn kinds(jobs: &[SyncJob]) -> Vec<&'static str> {
    jobs.iter().map(|j| j.job.kind()).collect()
}

/// Line cancellations both ways: Google cancels a mug (Genstore has no call: recorded once), then the
/// rest (the mirror is cancelled, reason mapped); Genstore cancels one unit of a line (Google's
/// `cancelLineItem` for that one); each write once.
pub async fn line_cancellations_reach_the_other_side_with_their_reasons(aws: bool) {
    let s = setup(aws).await;
    let g = google_template_order(&s, "template1").await; // 2 mugs, 1 plate
    let gid = mirror(&s, Channel::Google, &g).await;
    cancel_on_google(&s, &g, "SKU-MUG", 1, "noInventory").await;
    let before = stored(&s, Channel::Google, &g).await;
    save_google(&s, &g).await;
    let now = stored(&s, Channel::Google, &g).await;
    let jobs = orderbridge::sync::external_jobs(Some(&before), &now);
    assert_eq!(kinds(&jobs), ["push_cancellation"]);
    run_twice(&s, &jobs).await;
    let recorded: Vec<String> = skipped(&s, Channel::Genstore, &gid, "cancelLineItems").await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert!(recorded[0].contains("1 × SKU-MUG"), "{}", recorded[0]);
    assert_eq!(executed(&s, "genstore.cancelOrder"), 0);

    cancel_on_google(&s, &g, "SKU-MUG", 1, "customerInitiatedCancel").await;
    cancel_on_google(&s, &g, "SKU-PLATE", 1, "customerInitiatedCancel").await;
    let before = stored(&s, Channel::Google, &g).await;
    save_google(&s, &g).await;
    let now = stored(&s, Channel::Google, &g).await;
    let jobs = orderbridge::sync::external_jobs(Some(&before), &now);
    assert!(kinds(&jobs).contains(&"push_cancellation"), "{jobs:?}");
    run_twice(&s, &jobs).await;
    assert_eq!(executed(&s, "genstore.cancelOrder"), 1);
    let mirror_side = genstore_order(&s, &gid);
    assert!(mirror_side.cancelled_at.is_some());
    assert_eq!(mirror_side.cancel_reason.as_deref(), Some("customer"));

    // Genstore → Google: the merchant takes one mug off a mirror (its current quantity drops).
    let g2 = google_template_order(&s, "template1").await;
    let gid2 = mirror(&s, Channel::Google, &g2).await;
    let by_customer = executed(&s, "google.cancelLineItem"); // the three above, made on Google itself
    tokio::time::sleep(Duration::from_millis(1100)).await;
    {
        let mut st = s.sandbox.lock();
        let o = st
            .genstore
            .orders
            .get_mut(&gid2.parse::<u64>().unwrap())
            .unwrap();
        let mug = o
            .line_items
            .iter_mut()
            .find(|l| l.sku.as_deref() == Some("SKU-MUG"))
            .unwrap();
        mug.current_quantity = 1;
        o.updated_at = orderbridge_sandbox::now_seconds();
    }
    let jobs = genstore_jobs(&s, &gid2).await;
    assert!(kinds(&jobs).contains(&"push_cancellation"), "{jobs:?}");
    run_twice(&s, &jobs).await;
    let google_side = google_view(&s, &g2).await;
    let cancelled: Vec<(Option<String>, u32)> = google_side
        .line_items
        .iter()
        .map(|l| {
            (
                l.product.as_ref().and_then(|p| p.offer_id.clone()),
                l.quantity_canceled.unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        cancelled,
        [(Some("SKU-MUG".into()), 1), (Some("SKU-PLATE".into()), 0)]
    );
    assert_eq!(executed(&s, "google.cancelLineItem"), by_customer + 1);
    assert_eq!(executed(&s, "google.cancel"), 0);
}

/// Puts the Genstore refund `id` on the stored mirror `gid`, as `refunds/create` would: its lines as
/// (line id, quantity, subtotal), and what its transactions moved (USD), if anything.
pub async fn add_refund(
    s: &Setup,
    gid: &str,
    id: &str,
    lines: &[(&str, u32, &str)],
    moved: Option<&str>,
) {
    let dec = |v: &str| v.parse::<rust_decimal::Decimal>().unwrap();
    let refund = gw::Refund {
        refund_id: Some(id.into()),
        order_id: Some(gid.into()),
        created_at: None,
        note: None,
        refund_line_items: lines
            .iter()
            .map(|(line, quantity, subtotal)| gw::RefundLineItem {
                line_item_id: Some((*line).into()),
                quantity: Some(*quantity),
                subtotal: Some(dec(subtotal)),
            })
            .collect(),
        transactions: moved
            .map(|amount| gw::RefundTransaction {
                amount: Some(dec(amount)),
                currency: Some("USD".into()),
            })
            .into_iter()
            .collect(),
    };
    orders::modify(&*s.store, &OrderKey::new(Channel::Genstore, gid), |o| {
        let r = orderbridge::channels::genstore::mapping::to_refund(&refund, &o.totals.currency)
            .unwrap();
        o.refunds.push(r);
        true
    })
    .await
    .unwrap();
}

pub fn refund_job(g: &str, gid: &str, id: &str) -> SyncJob {
    SyncJob::from(Job::PushRefund {
        channel: Channel::Google,
        order_id: g.into(),
        genstore_order_id: gid.into(),
        refund_id: id.into(),
    })
}

/// A refund goes with the amounts it states (a discounted line, the rest as shipping), and one that
/// names no line refunds the order as a whole; each once.
pub async fn refunds_carry_their_stated_amounts_and_a_refund_without_lines_refunds_the_order(
    aws: bool,
) {
    let s = setup(aws).await;
    let g = google_template_order(&s, "template1").await;
    let gid = mirror(&s, Channel::Google, &g).await;
    let mug = genstore_order(&s, &gid)
        .line_items
        .iter()
        .find(|l| l.sku.as_deref() == Some("SKU-MUG"))
        .map(|l| l.id.clone())
        .unwrap();
    let dec = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
    add_refund(&s, &gid, "r-lines", &[(&mug, 1, "8.00")], Some("12.50")).await;
    add_refund(&s, &gid, "r-order", &[], Some("5.00")).await;
    let jobs = [
        refund_job(&g, &gid, "r-lines"),
        refund_job(&g, &gid, "r-order"),
    ];
    run_twice(&s, &jobs).await;
    assert_eq!(executed(&s, "google.refunditem"), 1);
    assert_eq!(executed(&s, "google.refundorder"), 1);
    let google_side = google_view(&s, &g).await;
    let mut refunds: Vec<(Option<rust_decimal::Decimal>, Option<String>)> = google_side
        .refunds
        .iter()
        .map(|r| (r.amount.as_ref().and_then(|a| a.value), r.reason.clone()))
        .collect();
    refunds.sort_by_key(|r| std::cmp::Reverse(r.0)); // the two jobs ran at once: largest first
    assert_eq!(
        refunds,
        [
            (Some(dec("12.50")), Some("adjustment".into())),
            (Some(dec("5.00")), Some("courtesyAdjustment".into())),
        ],
        "8.00 for the mug and 4.50 of shipping, then 5.00 on the order"
    );
    let pushed = trail_of(&s, Channel::Google, &g)
        .await
        .into_iter()
        .filter(|e| matches!(e.action.as_str(), "refunditem" | "refundorder"))
        .filter(|e| e.outcome == AuditOutcome::Executed)
        .count();
    assert_eq!(pushed, 2);
}
