//! One correlation id per cause, followed end to end: a Genstore webhook's id is on the job it queues,
//! in webhook-ingest's log line, in fulfillment-push's log lines for that job, in the audit entry of the
//! write it caused, and in `orderbridge orders show`; a poll run's id likewise for the mirror it queued.

use orderbridge::channel::Channel;
use orderbridge::store::OrderKey;
use orderbridge_cli::start;
use orderbridge_e2e::{captured_logs, config, dir, google_order, mirrored, ship, trail, until};

#[tokio::test]
async fn a_webhooks_correlation_id_follows_its_work_through_logs_and_the_audit_trail() {
    let logs = captured_logs();
    let d = dir("correlation");
    let r = start(config(d.clone())).await.unwrap();
    let sb = r.sandbox.clone().unwrap().0;
    let g = google_order(&sb);
    let gid = mirrored(&r, Channel::Google, &g).await;
    ship(&sb, &gid, 1, "1ZCAUSE");
    until("the package reached Google", || async {
        sb.counters().executed_count("google.shipLineItems") == 1
    })
    .await;
    let trail = trail(&*r.store, Channel::Google, &g).await;
    let cause_of = |action: &str| {
        let entry = trail.iter().find(|e| e.action == action);
        entry.and_then(|e| e.cause.clone()).unwrap_or_default()
    };
    let cause = cause_of("shipLineItems");
    assert!(
        cause.starts_with("webhook:"),
        "the shipment's cause: {cause:?}"
    );
    let poll = cause_of("updateMerchantOrderId");
    assert!(
        poll.starts_with("poll:"),
        "the merchant id write's cause: {poll:?}"
    );

    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let with_cause = |target: &str, cause: &str| -> usize {
        lines
            .iter()
            .filter(|l| l["target"].as_str().is_some_and(|t| t.starts_with(target)))
            .filter(|l| {
                l["fields"]["cause"].as_str() == Some(cause)
                    || l["span"]["cause"].as_str() == Some(cause)
            })
            .count()
    };
    for (target, id, what) in [
        ("webhook_ingest", &cause, "webhook-ingest logs the cause"),
        (
            "fulfillment_push",
            &cause,
            "fulfillment-push logs the cause on the job's lines",
        ),
        ("order_poller", &poll, "the poll run logs its cause"),
        (
            "fulfillment_push",
            &poll,
            "and so does the mirror job it queued",
        ),
    ] {
        assert!(with_cause(target, id) >= 1, "{what}");
    }

    let key = OrderKey::new(Channel::Google, g.as_str());
    let view = orderbridge_cli::ops::order_view(&*r.store, &key)
        .await
        .unwrap()
        .unwrap();
    let shown = orderbridge_cli::ops::render_order(&view);
    assert!(shown.contains(&cause), "orders show shows it:\n{shown}");
    r.stop().await;
    let _ = std::fs::remove_dir_all(&d);
}
