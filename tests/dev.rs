//! The whole pipeline on one machine (embedded store and queue, in-process sandbox): an order placed on
//! Zonos and one on Google are polled in, mirrored into Genstore, linked, their merchant ids written
//! back, and the mirrors' Genstore webhooks come back through the local endpoint; the second shop `dev`
//! serves does the same with its own sandbox, in its own part of the table.

use orderbridge::channel::Channel;
use orderbridge::store::OrderKey;
use orderbridge_cli::{start, DevConfig};
use orderbridge_e2e::stored;
use orderbridge_sandbox::scenario::{self, ZonosPlacing};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_orders_are_imported_mirrored_linked_and_written_back() {
    let dir = std::env::temp_dir().join(format!("obdev-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let running = start(DevConfig {
        data_dir: dir.clone(),
        port: 0,
        poll_interval: Duration::from_secs(1),
        seed: false,
        ..DevConfig::default()
    })
    .await
    .unwrap();
    let (sb, _) = running.sandbox.as_ref().unwrap();
    let placing = ZonosPlacing {
        placed_hours_ago: 1,
        ..ZonosPlacing::default()
    };
    let zonos_id = scenario::zonos_order(sb, 999, scenario::MUG, 2, placing);
    // The second shop, `outlet`: its own Genstore, Zonos store and Google merchant.
    let (outlet, osb, _) = running
        .sandboxes
        .get(1)
        .cloned()
        .expect("dev serves two shops");
    assert_eq!(outlet, orderbridge_cli::second_shop());
    let outlet_store = orderbridge::store::ShopStore::scoped(running.store.clone(), &outlet);
    let outlet_zonos = osb.config.zonos_store;
    assert_ne!(outlet_zonos, 999);
    let outlet_id = scenario::zonos_order(&osb, outlet_zonos, scenario::MUG, 1, placing);
    let google_id = scenario::google_order(sb, "123456789", "template1", None, false).unwrap();

    let mut linked = (None, None);
    for _ in 0..120 {
        let z = stored(&*running.store, Channel::Zonos, zonos_id.as_str()).await;
        let g = stored(&*running.store, Channel::Google, google_id.as_str()).await;
        linked = (
            z.and_then(|o| o.merchant_order_id.map(|m| m.to_string())),
            g.and_then(|o| o.merchant_order_id.map(|m| m.to_string())),
        );
        if linked.0.is_some() && linked.1.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (Some(zg), Some(gg)) = linked else {
        panic!("not mirrored and written back in time: {linked:?}");
    };
    {
        let st = sb.lock();
        let mirror = st.genstore.order(&zg).unwrap();
        assert_eq!(mirror.source_identifier.as_deref(), Some(zonos_id.as_str()));
        assert_eq!(
            st.zonos.orders[st.zonos.find(999, &zonos_id).unwrap()].merchant_order_id(),
            Some(zg.as_str())
        );
        assert_eq!(
            st.google.orders[&google_id]
                .order
                .merchant_order_id
                .as_deref(),
            Some(gg.as_str())
        );
        assert!(st.google.orders[&google_id].order.acknowledged);
    }
    assert_eq!(
        sb.counters().executed_count("genstore.createOrder"),
        2,
        "one mirror each"
    );
    // The mirrors' orders/create webhooks came back signed and were stored (the counters read afresh
    // each time round).
    for _ in 0..40 {
        if stored(&*running.store, Channel::Genstore, zg.as_str())
            .await
            .is_some()
            && sb.counters().webhooks_ok >= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(sb.counters().webhooks_ok >= 2, "{:?}", sb.counters());
    assert!(stored(&*running.store, Channel::Genstore, gg.as_str())
        .await
        .is_some());

    // The outlet's order: mirrored into the outlet's Genstore only, kept in the outlet's part, and its
    // mirror's webhook (signed with the outlet's secret) stored there too.
    let outlet_key = OrderKey::new(Channel::Zonos, outlet_id.as_str());
    let mut outlet_mirror = None;
    for _ in 0..120 {
        outlet_mirror = outlet_store
            .get(&outlet_key)
            .await
            .unwrap()
            .and_then(|s| s.order.merchant_order_id.map(|m| m.to_string()));
        let webhook_back = match &outlet_mirror {
            Some(m) => stored(&*outlet_store, Channel::Genstore, m.as_str())
                .await
                .is_some(),
            None => false,
        };
        if webhook_back {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let om = outlet_mirror.expect("the outlet's order is mirrored and linked");
    assert!(
        stored(&*outlet_store, Channel::Genstore, om.as_str())
            .await
            .is_some(),
        "the outlet's mirror came back by webhook into the outlet's part"
    );
    assert!(osb.lock().genstore.order(&om).is_some());
    assert_eq!(osb.counters().executed_count("genstore.createOrder"), 1);
    assert_eq!(
        sb.counters().executed_count("genstore.createOrder"),
        2,
        "nothing of the outlet's in the first shop's Genstore"
    );
    assert!(
        running.store.get(&outlet_key).await.unwrap().is_none(),
        "nor in the default shop's part"
    );
    running.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn dead_letters_are_listed_and_replayed() {
    use orderbridge::clock::{Clock, SystemClock};
    use orderbridge::jobs::{Job, SyncJob};
    use orderbridge::store::embedded::{Db, EmbeddedQueue, EmbeddedStore};
    use orderbridge::store::{Claim, IdempotencyStore, IdempotencyTtl, SyncQueue, WorkResult};
    use std::sync::Arc;
    let db = Db::in_memory().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = EmbeddedStore::new(db.clone(), clock.clone());
    let queue = EmbeddedQueue::new(db.clone(), "sync", None, clock.clone());
    let dlq = EmbeddedQueue::new(db, "sync-dlq", None, clock);
    let job = SyncJob::from(Job::MirrorOrder {
        channel: Channel::Zonos,
        order_id: "999-1".into(),
    });
    let done = SyncJob::from(Job::MirrorOrder {
        channel: Channel::Zonos,
        order_id: "999-2".into(),
    });
    // The first failed for good (the platform refused it); the second was done.
    let ttl = IdempotencyTtl::default();
    for (key, result) in [
        (
            "mirror:zonos:999-1",
            WorkResult::Failed("Genstore said 422".into()),
        ),
        (
            "mirror:zonos:999-2",
            WorkResult::Done("mirror_order".into()),
        ),
    ] {
        let Claim::Acquired { owner } = store.claim(key, "h", ttl).await.unwrap() else {
            panic!("{key} is claimed already")
        };
        assert!(store.complete(key, &owner, &result, ttl).await.unwrap());
    }
    dlq.send(&[job, done]).await.unwrap();
    dlq.send_raw(&["not a job".to_owned()]).await.unwrap();
    let listed = orderbridge::dead_letters::list(&dlq).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().any(|l| l.job == "mirror_order"));
    assert!(listed.iter().any(|l| l.job.starts_with("unreadable")));
    // Listing leaves them in place, ready for a replay at once.
    assert_eq!(dlq.depth().await.unwrap(), 3);
    let store: std::sync::Arc<dyn orderbridge::store::Storage> = std::sync::Arc::new(store);
    let replayed = orderbridge::dead_letters::replay(&store, &dlq, &queue, None)
        .await
        .unwrap();
    assert_eq!(replayed.sent, 3);
    assert_eq!(replayed.forgotten, 1, "only the failure is forgotten");
    assert_eq!(dlq.depth().await.unwrap(), 0);
    assert_eq!(queue.depth().await.unwrap(), 3);
    let failed = store.claim("mirror:zonos:999-1", "h", ttl).await.unwrap();
    assert!(
        matches!(failed, Claim::Acquired { .. }),
        "the failed job runs again"
    );
    let done = store.claim("mirror:zonos:999-2", "h", ttl).await.unwrap();
    assert!(
        matches!(done, Claim::Completed(_)),
        "a job that succeeded stays done"
    );
}
