//! The metrics a run publishes, read back from its EMF lines: each metric the dashboard and alarms use is
//! there, with the counts the sandbox saw. Alone in its binary: one process has one metrics registry.

use orderbridge::channel::Channel;
use orderbridge::metrics;
use orderbridge_cli::start;
use orderbridge_e2e::{
    all_mirrored, config, dir, google_order, mirror_of, ship, until, zonos_order,
};
use orderbridge_sandbox::Faults;

#[tokio::test]
async fn a_run_publishes_every_metric_with_the_counts_the_sandbox_saw() {
    let captured = metrics::capture();
    let d = dir("metrics");
    let r = start(config(d.clone())).await.unwrap();
    let sb = r.sandbox.clone().unwrap().0;
    // Zonos throttles a fifth of its calls: the throttled count must match what the sandbox injected.
    sb.set_faults(
        Channel::Zonos,
        Faults {
            throttle_rate: 0.2,
            ..Faults::default()
        },
    );
    // An order placed while Genstore's webhooks do not arrive: reconciliation finds it, and counts it
    // as missed (`WebhooksMissed`, what "webhooks stopped arriving" alarms on).
    sb.webhooks
        .set_mode(orderbridge_sandbox::webhooks::WebhookMode {
            suppress: true,
            ..Default::default()
        });
    let unannounced = orderbridge_sandbox::scenario::genstore_order(
        &sb,
        orderbridge_sandbox::scenario::TEAPOT,
        orderbridge_sandbox::scenario::TEAPOT.sku,
    )
    .unwrap();
    until("reconciliation found the unannounced order", || async {
        r.store
            .get(&orderbridge::store::OrderKey::new(
                Channel::Genstore,
                unannounced.as_str(),
            ))
            .await
            .unwrap()
            .is_some()
    })
    .await;
    sb.webhooks.set_mode(Default::default());
    let zonos: Vec<String> = (0..2).map(|_| zonos_order(&sb, 1)).collect();
    let google = google_order(&sb);
    until("every order mirrored", || {
        all_mirrored(&r, &zonos, std::slice::from_ref(&google))
    })
    .await;
    let gid = mirror_of(&r, Channel::Google, &google).await.unwrap();
    ship(&sb, &gid, 1, "1ZMETRICS");
    until("the package reached Google", || async {
        sb.counters().executed_count("google.shipLineItems") == 1
    })
    .await;
    // The poller counts its imports when its whole run ends (all three channels), which can be after
    // the mirrors are made: wait for the counts (flushing adds to the captured lines).
    until("the poller counted its imports", || async {
        metrics::flush();
        let lines = captured.lock().unwrap().clone();
        metrics::sum(&lines, "OrdersImported", &[("Channel", "zonos")]) >= 2.0
            && metrics::sum(&lines, "OrdersImported", &[("Channel", "google")]) >= 1.0
    })
    .await;
    // Let the last webhook answers and queue receipts settle, then stop everything before reading.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    r.stop().await;
    metrics::flush();
    let lines = captured.lock().unwrap().clone();
    let c = sb.counters();
    let sum = |metric: &str, dims: &[(&str, &str)]| metrics::sum(&lines, metric, dims);

    // Webhooks: every delivery Genstore saw answered 2xx is one count, by its outcome.
    let failed =
        sum("Webhooks", &[("Outcome", "failed")]) + sum("Webhooks", &[("Outcome", "rejected")]);
    assert_eq!(failed, 0.0);
    assert_eq!(sum("Webhooks", &[]), c.webhooks_ok as f64, "{lines:#?}");
    assert!(sum("Webhooks", &[("Topic", "orders/create")]) >= 3.0);
    // Every signed delivery and every job is its shop's: the one shop here is the default one.
    assert_eq!(
        sum("Webhooks", &[("Shop", "default")]),
        sum("Webhooks", &[]) - sum("Webhooks", &[("Outcome", "rejected")])
    );
    assert_eq!(sum("Jobs", &[("Shop", "default")]), sum("Jobs", &[]));
    assert!(
        lines.iter().any(|l| l.contains(r#"["Shop","Outcome"]"#)),
        "published by shop and outcome"
    );
    // Imports and mirrors per channel.
    assert_eq!(sum("OrdersImported", &[("Channel", "zonos")]), 2.0);
    assert_eq!(sum("OrdersImported", &[("Channel", "google")]), 1.0);
    assert_eq!(sum("OrdersMirrored", &[("Channel", "zonos")]), 2.0);
    assert_eq!(sum("OrdersMirrored", &[("Channel", "google")]), 1.0);
    assert_eq!(
        sum("OrdersMirrored", &[]),
        c.executed_count("genstore.createOrder") as f64
    );
    // Jobs by kind and outcome.
    assert!(sum("Jobs", &[("Kind", "mirror_order"), ("Outcome", "done")]) >= 3.0);
    assert!(
        sum(
            "Jobs",
            &[("Kind", "push_tracking_to_channel"), ("Outcome", "done")]
        ) >= 1.0
    );
    assert_eq!(sum("Jobs", &[("Outcome", "failed")]), 0.0);
    // Platform calls, 429s and 5xx per platform, as the sandbox counted them.
    let requests = |prefix: &str| -> f64 {
        c.requests
            .iter()
            .filter(|(k, _)| k.contains(&format!(" /{prefix}/")))
            .map(|(_, n)| *n as f64)
            .sum()
    };
    for p in ["zonos", "google", "genstore"] {
        assert_eq!(
            sum("PlatformCalls", &[("Platform", p)]),
            requests(p),
            "{p}: {:?}",
            c.requests
        );
    }
    let zonos_throttled = c.faults.get("zonos.throttle").copied().unwrap_or(0) as f64;
    assert!(zonos_throttled > 0.0, "throttling was injected");
    assert_eq!(
        sum("PlatformThrottled", &[("Platform", "zonos")]),
        zonos_throttled
    );
    assert_eq!(sum("PlatformServerErrors", &[]), 0.0);
    assert!(
        sum("WebhooksMissed", &[("Channel", "genstore")]) >= 1.0,
        "the order no webhook delivered is counted"
    );
    // Latency of every handler, and the poller's lag per channel (0: each run completed it).
    assert!(lines.iter().any(|l| l.contains("\"HandlerLatency\"")));
    for ch in ["zonos", "google", "genstore"] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains("\"PollLag\"") && l.contains(&format!("\"Channel\":\"{ch}\""))),
            "PollLag for {ch}"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}
