//! What an engineer on call reads: `orders list` shows one row per order (its external side and its
//! Genstore mirror together), `--stuck` exactly the orders that need someone, and `status` a stalled
//! channel and a dead letter — on both backends.

use orderbridge::channel::Channel;
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::store::orders;
use orderbridge::store::{OrderKey, RecordName};
use orderbridge_cli::ops::{order_rows, ListFilter};
use orderbridge_cli::start;
use orderbridge_e2e::{config_for, google_order, mirror_of, until, zonos_order};

async fn one_row_per_order_stuck_orders_and_the_health_screen(aws: bool) {
    let (d, cfg) = config_for("operator", aws);
    let r = start(cfg).await.unwrap();
    let sb = r.sandbox.clone().unwrap().0;
    let g = google_order(&sb);
    let z_dead = zonos_order(&sb, 1);
    let z_unlinked = zonos_order(&sb, 1);
    until("every order mirrored", || async {
        mirror_of(&r, Channel::Google, &g).await.is_some()
            && mirror_of(&r, Channel::Zonos, &z_dead).await.is_some()
            && mirror_of(&r, Channel::Zonos, &z_unlinked).await.is_some()
    })
    .await;
    // Zonos goes down, and the poller last made progress on it two hours ago: the next run finds it
    // stalled.
    sb.set_faults(
        Channel::Zonos,
        orderbridge_sandbox::Faults {
            error_rate: 1.0,
            ..orderbridge_sandbox::Faults::default()
        },
    );
    // Google throttles a third of its calls meanwhile.
    sb.set_faults(
        Channel::Google,
        orderbridge_sandbox::Faults {
            throttle_rate: 0.34,
            ..orderbridge_sandbox::Faults::default()
        },
    );
    let progress = RecordName::PollCompleted("zonos").to_string();
    let long_ago = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
    until("the poller finds Zonos stalled", || async {
        let before = r.store.read(&progress).await.unwrap().map(|c| c.value);
        if before.as_deref() != Some(long_ago.as_str()) {
            let _ = r
                .store
                .advance(&progress, before.as_deref(), &long_ago)
                .await;
        }
        r.store
            .read(&RecordName::LastRun("zonos").to_string())
            .await
            .unwrap()
            .is_some_and(|c| c.value.contains("\"stalled\":true"))
            && r.store
                .read(&RecordName::Throttled("google").to_string())
                .await
                .unwrap()
                .is_some()
    })
    .await;
    let (store, queue, dlq) = (r.store.clone(), r.queue.clone(), r.dead_letters.clone());
    r.stop().await;
    let throttled_by_sandbox = sb
        .counters()
        .faults
        .get("google.throttle")
        .copied()
        .unwrap_or(0);
    let g_mirror = {
        let o = store
            .get(&OrderKey::new(Channel::Google, g.as_str()))
            .await
            .unwrap()
            .unwrap()
            .order;
        o.genstore_order_id.unwrap().to_string()
    };

    // A job for one Zonos order failed for good; another lost its mirror long ago.
    let job = SyncJob::from(Job::MirrorOrder {
        channel: Channel::Zonos,
        order_id: z_dead.as_str().into(),
    });
    dlq.send_raw(&[job.to_body()]).await.unwrap();
    orders::modify(
        &*store,
        &OrderKey::new(Channel::Zonos, z_unlinked.as_str()),
        |o| {
            o.genstore_order_id = None;
            o.placed_at -= chrono::Duration::hours(2);
            o.updated_at -= chrono::Duration::hours(2);
            true
        },
    )
    .await
    .unwrap();

    // The Google order is held on Google again, and its mirror was fulfilled all the same.
    orders::modify(&*store, &OrderKey::new(Channel::Google, g.as_str()), |o| {
        o.status = orderbridge::UnifiedStatus::OnHold;
        o.raw_status = "inProgress".into();
        true
    })
    .await
    .unwrap();
    orders::modify(
        &*store,
        &OrderKey::new(Channel::Genstore, g_mirror.as_str()),
        |o| {
            o.shipments.push(orderbridge::order::Shipment {
                id: "f-held".into(),
                carrier: None,
                tracking_numbers: vec!["1ZHELD".into()],
                tracking_url: None,
                line_items: Vec::new(),
                status: orderbridge::order::ShipmentStatus::Shipped,
                shipped_at: None,
                delivered_at: None,
            });
            true
        },
    )
    .await
    .unwrap();

    let (all, _) = order_rows(&*store, Some(&*dlq), &ListFilter::default(), 100, None)
        .await
        .unwrap();
    let keys: Vec<&str> = all.iter().filter_map(|r| r["order"].as_str()).collect();
    assert_eq!(
        keys.iter().filter(|k| **k == format!("google:{g}")).count(),
        1,
        "{keys:?}"
    );
    assert!(
        !keys.contains(&format!("genstore:{g_mirror}").as_str()),
        "the mirror is in its order's row, not a row of its own: {keys:?}"
    );
    let google_row = all
        .iter()
        .find(|r| r["order"] == format!("google:{g}"))
        .unwrap();
    assert_eq!(google_row["genstore_order_id"], g_mirror.as_str());
    assert_eq!(google_row["sides"].as_array().unwrap().len(), 2);
    assert!(google_row["last_write"].is_object(), "{google_row}");

    let stuck = ListFilter {
        stuck: true,
        ..ListFilter::default()
    };
    let (rows, _) = order_rows(&*store, Some(&*dlq), &stuck, 100, None)
        .await
        .unwrap();
    let mut got: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["order"].as_str().unwrap().to_owned(),
                r["stuck"][0].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        (
            format!("google:{g}"),
            "fulfilled in Genstore while google holds it".to_owned(),
        ),
        (format!("zonos:{z_dead}"), "dead letter".to_owned()),
        (
            format!("zonos:{z_unlinked}"),
            "no Genstore mirror".to_owned(),
        ),
    ];
    want.sort();
    assert_eq!(got, want);

    // Filters and paging.
    let google_only = ListFilter {
        channel: Some(Channel::Google),
        ..ListFilter::default()
    };
    let (rows, _) = order_rows(&*store, None, &google_only, 100, None)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let (rows, next) = order_rows(&*store, None, &ListFilter::default(), 2, after)
            .await
            .unwrap();
        seen.extend(
            rows.into_iter()
                .map(|r| r["order"].as_str().unwrap().to_owned()),
        );
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    seen.sort();
    let mut every: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    every.sort();
    assert_eq!(seen, every, "page by page, every row once");

    // Deployed, webhook outcomes are CloudWatch metrics: two deliveries turned away, as webhook-ingest's
    // EMF lines would have published them, on moto's CloudWatch.
    let deployed = aws.then(orderbridge::secrets::Direct::from_env);
    if let Some(direct) = &deployed {
        let put = serde_json::json!({
            "Namespace": orderbridge::metrics::NAMESPACE,
            "MetricData": [{
                "MetricName": "Webhooks",
                "Dimensions": [{"Name": "Outcome", "Value": "rejected"}],
                "Value": 2.0, "Unit": "Count",
                "Timestamp": chrono::Utc::now().timestamp() - 60,
            }],
        });
        let (status, _) = direct
            .post_json(
                &reqwest::Client::new(),
                "monitoring",
                "GraniteServiceVersion20100801.PutMetricData",
                "application/x-amz-json-1.0",
                put.to_string(),
            )
            .await
            .unwrap();
        assert!(status.is_success());
    }

    // The health screen: Zonos behind and stalled, the others current, one dead letter.
    let v = orderbridge_cli::ops::status(&*store, &*store, &*queue, &*dlq, deployed.as_ref())
        .await
        .unwrap();
    // Webhooks by outcome: every delivery the sandbox got a 2xx for is counted, and none it did not
    // send; deployed, CloudWatch's are added.
    let hooks = &v["webhooks_last_hour"];
    assert!(hooks["cloudwatch_unavailable"].is_null(), "{hooks}");
    let outcome = |k: &str| hooks["outcomes"][k].as_u64().unwrap_or(0);
    let counted: u64 = hooks["outcomes"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    let from_cloudwatch = if aws { 2 } else { 0 };
    assert_eq!(outcome("rejected"), from_cloudwatch, "{hooks}");
    let delivered = sb.counters();
    assert!(
        counted - from_cloudwatch >= delivered.webhooks_ok
            && counted - from_cloudwatch <= delivered.webhooks_sent,
        "{hooks}: sandbox sent {}, {} answered 2xx",
        delivered.webhooks_sent,
        delivered.webhooks_ok
    );
    assert!(outcome("created") + outcome("stale") >= 3, "{hooks}");
    // When the last signed webhook arrived: within the run, and (recorded once a minute at most) no
    // later than now.
    let last: chrono::DateTime<chrono::Utc> = v["last_webhook"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("the last webhook's time: {v}"));
    assert!(last <= chrono::Utc::now(), "{v}");
    assert!(
        chrono::Utc::now() - last < chrono::Duration::minutes(10),
        "{v}"
    );
    assert!(orderbridge_cli::ops::render_status(&v).contains("last webhook: 20"));
    let channel = |name: &str| {
        v["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["channel"] == name)
            .unwrap()
            .clone()
    };
    let z = channel("zonos");
    assert!(z["behind_secs"].as_i64().unwrap() >= 7200, "{z}");
    assert_eq!(z["last_run"]["stalled"], true, "{z}");
    assert!(z["last_run"]["error"].is_string(), "{z}");
    let g = channel("google");
    assert!(g["behind_secs"].as_i64().unwrap() < 600, "{g}");
    assert_eq!(g["last_run"]["stalled"], false, "{g}");
    assert_eq!(v["dead_letters"], 1, "{v}");
    let counted = g["throttled_recent"].as_u64().unwrap();
    // Each 429 is counted once (a run stopped between an answer and its count may miss the last).
    assert!(
        counted >= 1 && counted <= throttled_by_sandbox,
        "{counted} counted, {throttled_by_sandbox} sent: {g}"
    );
    let screen = orderbridge_cli::ops::render_status(&v);
    assert!(screen.contains("STALLED"), "{screen}");
    assert!(screen.contains("dead letters: 1"), "{screen}");
    assert!(screen.contains("webhooks, last hour: "), "{screen}");
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test]
async fn one_row_per_order_stuck_orders_and_the_health_screen_embedded() {
    one_row_per_order_stuck_orders_and_the_health_screen(false).await;
}

#[tokio::test]
async fn one_row_per_order_stuck_orders_and_the_health_screen_on_moto() {
    one_row_per_order_stuck_orders_and_the_health_screen(true).await;
}
