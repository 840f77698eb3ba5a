//! The pipeline under stress on one machine: duplicate and reordered webhooks, platform faults, and a
//! consumer restart in the middle. Nothing is lost and nothing is executed twice: the sandbox's counters
//! say how often each write was applied.

use orderbridge::channel::Channel;
use orderbridge_cli::{start, DevConfig};
use orderbridge_e2e::{
    all_mirrored, config, config_for, dir, google_order, mirror_of, mirrored, on_moto, ship,
    stored, until, zonos_order,
};
use orderbridge_sandbox::webhooks::WebhookMode;
use orderbridge_sandbox::Faults;
use std::time::Duration;

async fn duplicate_and_reordered_webhooks_apply_each_write_once(aws: bool) {
    let (d, cfg) = config_for("webhooks", aws);
    let r = start(cfg).await.unwrap();
    let sb = r.sandbox.clone().unwrap().0;
    sb.webhooks.set_mode(WebhookMode {
        duplicate: true,
        ..WebhookMode::default()
    });
    let g = google_order(&sb);
    let mirror = mirrored(&r, Channel::Google, &g).await;
    let f1 = ship(&sb, &mirror, 1, "1Z-DUP-1");
    let f2 = ship(&sb, &mirror, 1, "1Z-DUP-2");
    until("shipped on Google", || async {
        sb.lock().google.orders[&g].order.status == "shipped"
    })
    .await;
    // Deliveries arrive newest first.
    sb.webhooks.set_mode(WebhookMode {
        reorder: true,
        duplicate: true,
        ..WebhookMode::default()
    });
    for f in [&f1, &f2] {
        let (_, events) = sb.lock().genstore.deliver(f).unwrap();
        sb.webhooks.emit_all(events);
    }
    assert_eq!(sb.webhooks.flush(), 2);
    until("delivered on Google", || async {
        sb.lock().google.orders[&g].order.status == "delivered"
    })
    .await;
    let c = sb.counters();
    assert_eq!(c.executed_count("genstore.createOrder"), 1);
    assert_eq!(
        c.executed_count("google.shipLineItems"),
        2,
        "one per package despite every webhook arriving twice"
    );
    assert_eq!(c.executed_count("google.updateShipment"), 2);
    // Six events (create, paid, two packages, two deliveries), each delivered twice.
    // The second copy of the last delivery may still be in flight when Google already
    // shows the effect of the first, so wait for it instead of sampling once.
    until("every webhook delivered twice", || async {
        sb.counters().webhooks_ok >= 12
    })
    .await;
    let c = sb.counters();
    assert_eq!(
        c.executed_count("google.updateShipment"),
        2,
        "late duplicates changed nothing"
    );
    r.stop().await;
    let _ = std::fs::remove_dir_all(&d);
}

async fn platform_faults_are_survived_without_double_writes(aws: bool) {
    let (d, cfg) = config_for("faults", aws);
    let r = start(cfg).await.unwrap();
    let sb = r.sandbox.clone().unwrap().0;
    let flaky = Faults {
        error_rate: 0.15,
        throttle_rate: 0.1,
        ..Faults::default()
    };
    for p in [Channel::Genstore, Channel::Zonos, Channel::Google] {
        sb.set_faults(p, flaky.clone());
    }
    let zonos: Vec<String> = (0..4).map(|_| zonos_order(&sb, 1)).collect();
    let google = google_order(&sb);
    until("every order mirrored and written back", || {
        all_mirrored(&r, &zonos, std::slice::from_ref(&google))
    })
    .await;
    let c = sb.counters();
    assert!(
        c.faults.values().sum::<u64>() > 0,
        "faults were injected: {:?}",
        c.faults
    );
    assert_eq!(
        c.executed_count("genstore.createOrder"),
        5,
        "one mirror per order, however often a call failed"
    );
    r.stop().await;
    let _ = std::fs::remove_dir_all(&d);
}

async fn a_consumer_restart_in_the_middle_loses_nothing_and_repeats_nothing(aws: bool) {
    let (d, cfg) = config_for("restart", aws);
    let first = start(cfg.clone()).await.unwrap();
    let (sb, base) = first.sandbox.clone().unwrap();
    // Genstore answers slowly, so the six mirrors cannot all be done when the import is: the restart
    // lands while work is in flight.
    sb.set_faults(
        Channel::Genstore,
        Faults {
            latency_ms: 300,
            ..Faults::default()
        },
    );
    let zonos: Vec<String> = (0..6).map(|_| zonos_order(&sb, 1)).collect();
    until("the poller imported them", || async {
        let mut n = 0;
        for z in &zonos {
            if stored(&*first.store, Channel::Zonos, z.as_str())
                .await
                .is_some()
            {
                n += 1;
            }
        }
        n == zonos.len()
    })
    .await;
    first.stop().await;
    let mid = sb.counters().executed_count("genstore.createOrder");
    assert!(mid < 6, "the restart lands mid-way ({mid} mirrors done)");

    let second = start(DevConfig {
        existing_sandboxes: vec![(sb.clone(), base)],
        ..config(d.clone())
    })
    .await
    .unwrap();
    until("every order mirrored after the restart", || async {
        let mut all = true;
        for z in &zonos {
            all &= mirror_of(&second, Channel::Zonos, z).await.is_some();
        }
        all
    })
    .await;
    let c = sb.counters();
    assert_eq!(
        c.executed_count("genstore.createOrder"),
        6,
        "each order mirrored exactly once across the restart"
    );
    assert_eq!(c.executed_count("zonos.updateMerchantOrderId"), 6);
    second.stop().await;
    let _ = std::fs::remove_dir_all(&d);
}

async fn an_order_zonos_cannot_read_is_parked_dead_lettered_and_replayed(aws: bool) {
    let d = dir(if aws { "parked-moto" } else { "parked" });
    // Garbage from Zonos may pass by itself, so the import is retried, backing off, until the queue's
    // receive limit; a short backoff gets there within the test.
    let fast = DevConfig {
        backoff: fulfillment_push::Backoff {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(150),
            min_time_left: Duration::from_millis(100),
        },
        ..config(d.clone())
    };
    let cfg = if aws { on_moto(fast, "parked") } else { fast };
    let r = start(cfg).await.unwrap();
    let sb = r.sandbox.clone().unwrap().0;
    let zonos: Vec<String> = (0..3).map(|_| zonos_order(&sb, 1)).collect();
    let garbled = sb.lock().zonos.find(999, &zonos[1]).unwrap();
    sb.lock().zonos.orders[garbled].garbled = true;
    // The orders around the unreadable one are not kept waiting behind it.
    until("the readable orders mirrored", || async {
        mirror_of(&r, Channel::Zonos, &zonos[0]).await.is_some()
            && mirror_of(&r, Channel::Zonos, &zonos[2]).await.is_some()
    })
    .await;
    // Its import job is retried until the queue gives up and dead-letters it, where the operator sees it.
    until("the parked import dead-lettered", || async {
        r.dead_letters.depth().await.unwrap_or(0) > 0
    })
    .await;
    let letters = orderbridge::dead_letters::list(&*r.dead_letters)
        .await
        .unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].job, "import_order");
    assert_eq!(letters[0].order, Some(format!("zonos:{}", zonos[1])));
    assert!(stored(&*r.store, Channel::Zonos, zonos[1].as_str())
        .await
        .is_none());
    // Zonos is fixed; the operator replays; the order arrives like any other.
    sb.lock().zonos.orders[garbled].garbled = false;
    let replayed = orderbridge::dead_letters::replay(&r.store, &*r.dead_letters, &*r.queue, None)
        .await
        .unwrap();
    assert_eq!(replayed.sent, 1);
    until("the replayed order mirrored and written back", || async {
        mirror_of(&r, Channel::Zonos, &zonos[1]).await.is_some()
    })
    .await;
    let c = sb.counters();
    assert_eq!(c.executed_count("genstore.createOrder"), 3);
    assert_eq!(c.executed_count("zonos.updateMerchantOrderId"), 3);
    r.stop().await;
    let _ = std::fs::remove_dir_all(&d);
}

/// Two changes to a mirror's package within one second (Genstore's `updatedAt` resolution), equal in
/// progress: the tracking number corrected twice. Their webhooks tie on the order's version, so the
/// second cannot be told newer from its body; orderbridge has Genstore read the order, and Google ends
/// with the number the merchant left.
async fn a_package_corrected_twice_in_one_second_ends_with_the_last_number(aws: bool) {
    let d = dir(if aws {
        "same-second-moto"
    } else {
        "same-second"
    });
    let cfg = if aws {
        on_moto(config(d.clone()), "same-second")
    } else {
        config(d.clone())
    };
    let r = start(cfg).await.unwrap();
    let sb = r.sandbox.clone().unwrap().0;
    let g = google_order(&sb);
    let mirror = mirrored(&r, Channel::Google, &g).await;
    let f = ship(&sb, &mirror, 1, "1Z-FIRST");
    let shipped = |number: &'static str| {
        let sb = sb.clone();
        let g = g.clone();
        move || {
            let sb = sb.clone();
            let g = g.clone();
            async move {
                sb.lock().google.orders[&g]
                    .order
                    .shipments
                    .iter()
                    .any(|s| s.tracking_id.as_deref() == Some(number))
            }
        }
    };
    until("the first number on Google", shipped("1Z-FIRST")).await;
    // Let the second turn, so the two corrections share a second that the first package does not.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let renumber = |number: &str| {
        let number = number.to_owned();
        move |x: &mut orderbridge_sandbox::genstore::model::Fulfillment| {
            if let Some(t) = x.tracking_info.as_mut() {
                t.number = Some(number);
            }
            Ok(())
        }
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (a, b) = (format!("1Z-A{attempt}"), format!("1Z-B{attempt}"));
        let (first, second, same_second) = {
            let mut st = sb.lock();
            let (_, first) = st.genstore.change_fulfillment(&f, renumber(&a)).unwrap();
            let at = st.genstore.order(&mirror).unwrap().updated_at;
            let (_, second) = st.genstore.change_fulfillment(&f, renumber(&b)).unwrap();
            let same = st.genstore.order(&mirror).unwrap().updated_at == at;
            (first, second, same)
        };
        // Delivered in the order they happened: the tie is the second's.
        sb.webhooks.emit_all(first);
        sb.webhooks.emit_all(second);
        if same_second || attempt == 5 {
            assert!(
                same_second,
                "two changes in a row kept landing in different seconds"
            );
            until("the last number on Google", || {
                let sb = sb.clone();
                let g = g.clone();
                let b = b.clone();
                async move {
                    sb.lock().google.orders[&g]
                        .order
                        .shipments
                        .iter()
                        .any(|s| s.tracking_id.as_deref() == Some(b.as_str()))
                }
            })
            .await;
            break;
        }
    }
    let stored = stored(&*r.store, Channel::Genstore, mirror.as_str())
        .await
        .unwrap();
    assert_eq!(
        stored.shipments[0].tracking_numbers,
        vec![format!("1Z-B{attempt}")],
        "the table holds what Genstore holds"
    );
    let google = sb.lock().google.orders[&g].order.shipments.clone();
    assert_eq!(
        google.len(),
        1,
        "one package, corrected in place: {google:?}"
    );
    r.stop().await;
    let _ = std::fs::remove_dir_all(d);
}

async fn the_demo_scenario(aws: bool) {
    let d = dir(if aws { "demo-moto" } else { "demo" });
    let cfg = DevConfig {
        data_dir: d.clone(),
        ..DevConfig::default()
    };
    let cfg = if aws { on_moto(cfg, "demo") } else { cfg };
    let google = orderbridge_cli::demo::run_with(cfg).await;
    assert!(
        google.as_ref().is_ok_and(|g| g.starts_with("TEST-")),
        "{google:?}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

macro_rules! backend {
    ($name:ident, $aws:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_demo_scenario_ends_consistent() {
                super::the_demo_scenario($aws).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn duplicate_and_reordered_webhooks_apply_each_write_once() {
                super::duplicate_and_reordered_webhooks_apply_each_write_once($aws).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_package_corrected_twice_in_one_second_ends_with_the_last_number() {
                super::a_package_corrected_twice_in_one_second_ends_with_the_last_number($aws).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn platform_faults_are_survived_without_double_writes() {
                super::platform_faults_are_survived_without_double_writes($aws).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn an_order_zonos_cannot_read_is_parked_dead_lettered_and_replayed() {
                super::an_order_zonos_cannot_read_is_parked_dead_lettered_and_replayed($aws).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_consumer_restart_in_the_middle_loses_nothing_and_repeats_nothing() {
                super::a_consumer_restart_in_the_middle_loses_nothing_and_repeats_nothing($aws)
                    .await
            }
        }
    };
}

backend!(embedded, false);
backend!(dynamodb_sqs, true);
