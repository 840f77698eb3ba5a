//! What the channels do after an order is mirrored comes back to Genstore (issue 27): Google refunds
//! and returns reach the mirror once each, Genstore's own refunds echoed by Google are not brought
//! back, an order Google has not confirmed stays held and unshipped, and a mirror's money adds up to
//! the channel's.

use super::both_ways::{
    genstore_jobs, google_line, google_template_order, kinds, mirror_payment, run_all, run_twice,
    save_google, set_zonos_status, ship_on_google,
};
use super::*;
use orderbridge::channels::genstore::mapping::{
    HOLD_TAG, REFUNDED_TAG, RETURNED_TAG, RETURN_OPEN_TAG,
};
use rust_decimal::Decimal;

fn on_google<T>(
    s: &Setup,
    id: &str,
    change: impl FnOnce(&mut orderbridge_sandbox::google::GoogleOrder) -> T,
) -> T {
    let mut st = s.sandbox.lock();
    change(st.google.orders.get_mut(id).unwrap())
}

/// A Google test order not yet advanced (`inProgress`: Google has not confirmed it).
fn unconfirmed_google_order(s: &Setup) -> String {
    let mut st = s.sandbox.lock();
    let id = st
        .google
        .create_test_order("123456789", "template1a", chrono::Utc::now());
    id.expect("a template")
}

fn tags(s: &Setup, gid: &str) -> String {
    let st = s.sandbox.lock();
    st.genstore
        .order(gid)
        .unwrap()
        .tags
        .clone()
        .unwrap_or_default()
}

async fn entries(s: &Setup, gid: &str, action: &str) -> usize {
    trail_of(s, Channel::Genstore, gid)
        .await
        .iter()
        .filter(|e| e.action == action)
        .count()
}

/// A refund made in Merchant Center and a return asked for then received reach the Genstore mirror:
/// its payment state, tags and note, and one trail entry each, however often the jobs run. Genstore's
/// webhook for that change queues nothing back to Google, and a Genstore refund pushed to Google comes
/// back as an echo that is not recorded again.
pub async fn google_refunds_and_returns_reach_the_mirror_once(aws: bool) {
    let s = setup(aws).await;
    let g = google_template_order(&s, "template1").await;
    let gid = mirror(&s, Channel::Google, &g).await;
    assert_eq!(mirror_payment(&s, &gid).0, "paid");

    on_google(&s, &g, |o| {
        o.refund_on_google(Decimal::new(500, 2), "priceAdjustment")
    })
    .unwrap();
    let jobs = save_google(&s, &g).await;
    assert!(kinds(&jobs).contains(&"record_reversals"), "{jobs:?}");
    run_twice(&s, &jobs).await;
    let (paid, held, note) = mirror_payment(&s, &gid);
    assert_eq!((paid.as_str(), held), ("partially_refunded", false));
    assert!(note.contains("Refunded on google: 5.00 USD"), "{note}");
    assert!(tags(&s, &gid).contains(REFUNDED_TAG));
    assert_eq!(executed(&s, "genstore.updateOrder"), 1, "written once");
    assert_eq!(
        entries(&s, &gid, "recordRefund").await,
        1,
        "one trail entry"
    );
    // Re-reading the same Google state (an overlapping poll) may queue its jobs again: they change
    // nothing more.
    run_all(&s, &save_google(&s, &g).await).await;
    assert_eq!(executed(&s, "genstore.updateOrder"), 1);
    assert_eq!(entries(&s, &gid, "recordRefund").await, 1);

    // Genstore's webhook for the change: no refund of Genstore's own, so nothing goes back to Google.
    let back = genstore_jobs(&s, &gid).await;
    assert!(!kinds(&back).contains(&"push_refund"), "{back:?}");
    assert_eq!(
        stored(&s, Channel::Genstore, &gid).await.status,
        orderbridge::UnifiedStatus::PartiallyRefunded
    );

    // A refund made in Genstore goes to Google; Google's listing of it is its echo, not a new refund.
    let mug = genstore_order(&s, &gid).line_items[0].id.clone();
    super::both_ways::add_refund(&s, &gid, "gs-r1", &[(&mug, 1, "10.00")], None).await;
    run_all(&s, &[super::both_ways::refund_job(&g, &gid, "gs-r1")]).await;
    assert_eq!(executed(&s, "google.refunditem"), 1);
    run_all(&s, &save_google(&s, &g).await).await;
    let google_side = stored(&s, Channel::Google, &g).await;
    assert_eq!(google_side.refunds.len(), 2);
    assert_eq!(google_side.own_refunds().count(), 1, "the echo is known");
    assert_eq!(
        executed(&s, "genstore.updateOrder"),
        1,
        "the echo changes nothing"
    );

    // The warehouse ships; the customer asks to return one mug, then it arrives.
    let lines = [("SKU-MUG", 2), ("SKU-PLATE", 1)];
    ship_on_google(&s, &g, "pkg-1", &lines, "1ZRET").await;
    let line = google_line(&s, &g, "SKU-MUG");
    on_google(&s, &g, |o| o.ask_return(&line, 1)).unwrap();
    let jobs = save_google(&s, &g).await;
    assert!(kinds(&jobs).contains(&"record_reversals"), "{jobs:?}");
    run_twice(&s, &jobs).await;
    let t = tags(&s, &gid);
    assert!(
        t.contains(RETURN_OPEN_TAG) && !t.contains(RETURNED_TAG),
        "{t}"
    );
    assert!(mirror_payment(&s, &gid)
        .2
        .contains("1 of 2 × SKU-MUG asked back, 0 received"));
    on_google(&s, &g, |o| o.receive_return(&line, 1)).unwrap();
    let jobs = save_google(&s, &g).await;
    run_twice(&s, &jobs).await;
    let t = tags(&s, &gid);
    assert!(
        t.contains(RETURNED_TAG) && !t.contains(RETURN_OPEN_TAG),
        "{t}"
    );
    assert_eq!(
        stored(&s, Channel::Google, &g).await.status,
        orderbridge::UnifiedStatus::PartiallyReturned
    );
    assert_eq!(
        entries(&s, &gid, "recordReturn").await,
        2,
        "asked, then received"
    );
    assert_eq!(
        entries(&s, &gid, "recordRefund").await,
        1,
        "still one refund"
    );
}

/// A Google order not yet confirmed (`inProgress`) is mirrored held; a fulfillment made on that mirror
/// is not pushed to Google but flagged on the trail and kept; Google's confirmation releases the mirror
/// and the kept push goes out. An order cancelled before its release is never shippable.
pub async fn a_google_order_not_yet_confirmed_is_held_and_its_fulfillment_waits(aws: bool) {
    let s = setup(aws).await;
    let g = unconfirmed_google_order(&s);
    let jobs = save_google(&s, &g).await;
    assert_eq!(kinds(&jobs), ["mirror_order"]);
    assert_eq!(
        stored(&s, Channel::Google, &g).await.status,
        orderbridge::UnifiedStatus::OnHold
    );
    let gid = mirror(&s, Channel::Google, &g).await;
    let (paid, held, note) = mirror_payment(&s, &gid);
    assert_eq!((paid.as_str(), held), ("pending", true));
    assert!(note.contains("do not ship"), "{note}");
    assert!(tags(&s, &gid).contains(HOLD_TAG));

    // The merchant fulfills the held mirror anyway: not pushed, flagged once, kept.
    fulfill(&s, &gid, 1, "1ZHELD", "UPS");
    let push = genstore_jobs(&s, &gid).await;
    assert!(
        kinds(&push).contains(&"push_tracking_to_channel"),
        "{push:?}"
    );
    run_twice(&s, &push).await;
    assert_eq!(
        executed(&s, "google.shipLineItems"),
        0,
        "not pushed while held"
    );
    let flagged = trail_of(&s, Channel::Google, &g)
        .await
        .into_iter()
        .filter(|e| e.action == "pushTracking")
        .count();
    assert_eq!(flagged, 1, "flagged once");
    let kept = orderbridge::sync::waiting(&*s.store, Channel::Google, &g)
        .await
        .unwrap();
    assert_eq!(kinds(&kept), ["push_tracking_to_channel"]);

    // Google confirms the order: the mirror is released and the kept push goes out.
    on_google(&s, &g, |o| o.order.status = "pendingShipment".into());
    let jobs = save_google(&s, &g).await;
    assert!(kinds(&jobs).contains(&"sync_hold"), "{jobs:?}");
    assert!(
        kinds(&jobs).contains(&"push_tracking_to_channel"),
        "{jobs:?}"
    );
    run_all(&s, &jobs).await;
    let (paid, held, _) = mirror_payment(&s, &gid);
    assert_eq!((paid.as_str(), held), ("paid", false));
    assert_eq!(
        executed(&s, "google.shipLineItems"),
        1,
        "pushed once released"
    );

    // Another order cancelled on Google before its release: the mirror is cancelled, never released.
    let c = unconfirmed_google_order(&s);
    save_google(&s, &c).await;
    let cid = mirror(&s, Channel::Google, &c).await;
    on_google(&s, &c, |o| {
        for l in &mut o.order.line_items {
            l.quantity_canceled = l.quantity_ordered;
            l.quantity_pending = 0;
        }
        o.order.status = "canceled".into();
    });
    let jobs = save_google(&s, &c).await;
    assert_eq!(kinds(&jobs), ["push_cancellation"], "no release");
    run_all(&s, &jobs).await;
    let mirror_now = genstore_order(&s, &cid);
    assert!(mirror_now.cancelled_at.is_some());
    assert_eq!(
        mirror_now.financial_status, "pending",
        "never paid, never shippable"
    );
}

/// A mirror's money is the channel's: its total, its tax (Zonos' duties included, and said so), its
/// discounts; the lines less discounts, tax and shipping add up to the total.
pub async fn a_mirrors_money_adds_up_to_the_channels_total(aws: bool) {
    let s = setup(aws).await;
    // Zonos: the sandbox's order carries shipping 15.00 and duties and taxes of a tenth of the lines.
    let z = zonos_order(&s, 2).await;
    let zid = mirror(&s, Channel::Zonos, &z).await;
    let zonos_side = stored(&s, Channel::Zonos, &z).await;
    // Google: template1 (2 mugs at 10.00, a plate at 5.00, shipping 4.99) with a 3.00 promotion.
    let g = super::both_ways::google_sandbox_order(&s, "template1", |o| {
        o.net_price_amount.value -= Decimal::new(300, 2);
        o.net_tax_amount.value = Decimal::new(176, 2);
    });
    save_google(&s, &g).await;
    let gid = mirror(&s, Channel::Google, &g).await;
    let google_side = stored(&s, Channel::Google, &g).await;
    assert_eq!(google_side.totals.discounts, Some(Decimal::new(300, 2)));
    assert_eq!(
        google_side.totals.total,
        Decimal::new(2875, 2),
        "22.00 + 1.76 + 4.99"
    );

    for (id, channel_side) in [(&zid, &zonos_side), (&gid, &google_side)] {
        let m = genstore_order(&s, id);
        let t = &channel_side.totals;
        assert_eq!(m.total_price, t.total, "{id}: the channel's total");
        assert_eq!(m.total_tax, t.tax, "{id}");
        assert_eq!(
            m.total_discounts, t.discounts,
            "{id}: discounts carried as they are"
        );
        let shipping = t.shipping.unwrap_or_default();
        assert_eq!(
            m.subtotal_price + m.total_tax.unwrap_or_default() + shipping,
            m.total_price,
            "{id}: lines less discounts, tax and shipping make the total"
        );
        let note = m.note.clone().unwrap_or_default();
        assert!(
            note.contains(&format!("shipping {} USD", shipping.round_dp(2))),
            "{note}"
        );
    }
    let zm = genstore_order(&s, &zid);
    assert_eq!(
        zm.duties_included,
        Some(true),
        "Zonos' duties are in its tax"
    );
    assert!(zm.note.unwrap().contains("duties and taxes"));
    let gm = genstore_order(&s, &gid);
    assert_eq!(gm.discount_codes.len(), 1);
    assert_eq!(gm.duties_included, None);
}

/// Zonos answering only what the documents promise: a mirror, a tracking push and the fresh read after
/// it, and a re-read job without the poll's listing all work from the stored order's dates.
pub async fn bare_zonos_answers_are_enough_to_mirror_push_and_reread(aws: bool) {
    let s = setup(aws).await;
    let z = zonos_order(&s, 1).await;
    s.sandbox.lock().zonos.bare = true;
    let zid = mirror(&s, Channel::Zonos, &z).await;
    fulfill(&s, &zid, 1, "1ZBARE", "UPS");
    sync_genstore(&s, &zid).await;
    let push = SyncJob::from(Job::PushTrackingToChannel {
        channel: Channel::Zonos,
        order_id: z.as_str().into(),
        genstore_order_id: zid.as_str().into(),
    });
    run_all(&s, &[push]).await;
    assert_eq!(executed(&s, "zonos.setShipmentTracking"), 1);
    let before = stored(&s, Channel::Zonos, &z).await;
    set_zonos_status(&s, &z, "IGLOBAL_ORDER_CANCELLED");
    let reread = SyncJob::from(Job::ImportOrder {
        channel: Channel::Zonos,
        order_id: z.as_str().into(),
        listing: None,
    });
    let out = handle_record(&s.deps, &reread.to_body()).await;
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    let after = stored(&s, Channel::Zonos, &z).await;
    assert_eq!(after.raw_status, "IGLOBAL_ORDER_CANCELLED");
    assert_eq!(
        after.placed_at, before.placed_at,
        "the stored placement time"
    );
    assert_eq!(after.totals.currency.as_str(), "USD");
}
