//! The whole pipeline while a platform is down and orders keep arriving, with the deployed backoff,
//! breaker and redrive on a clock 3,600 times faster (30 s doubling to 30 min → 8 ms doubling to 0.5 s;
//! the breaker's 30 s → 10 ms): nothing is dead-lettered, and once the platform is back every write
//! lands exactly once. (The receive-by-receive proof over six simulated hours, with the deployed
//! figures unscaled, is fulfillment-push's `outage` test. This one runs on the embedded queue: SQS
//! counts visibility in whole seconds, too coarse for this clock.)

use orderbridge::channel::Channel;
use orderbridge_cli::{start, DevConfig};
use orderbridge_e2e::{config, dir, google_order, mirror_of, until_for, zonos_order};
use orderbridge_sandbox::Faults;
use std::time::Duration;

/// Six hours at 3,600 times.
const OUTAGE: Duration = Duration::from_secs(6);

fn scaled(cfg: DevConfig) -> DevConfig {
    DevConfig {
        // The queue's 360 s visibility timeout, scaled.
        visibility: Duration::from_millis(100),
        backoff: fulfillment_push::Backoff {
            base: Duration::from_millis(8),
            cap: Duration::from_millis(500),
            min_time_left: Duration::from_millis(100),
        },
        breaker: (5, Duration::from_millis(10)),
        ..cfg
    }
}

async fn a_six_hour_outage_dead_letters_nothing_and_every_write_lands_once(down: Channel) {
    let d = dir(&format!("outage-{down}"));
    let r = start(scaled(config(d.clone()))).await.unwrap();
    let sb = r.sandbox.clone().unwrap().0;
    // The platform goes down first; then the orders arrive.
    sb.set_faults(
        down,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let zonos: Vec<String> = (0..8).map(|_| zonos_order(&sb, 1)).collect();
    let google: Vec<String> = (0..4).map(|_| google_order(&sb)).collect();
    let started = std::time::Instant::now();
    while started.elapsed() < OUTAGE {
        assert_eq!(
            r.dead_letters.depth().await.unwrap(),
            0,
            "dead-lettered during the outage"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        sb.counters()
            .faults
            .get(&format!("{down}.error"))
            .copied()
            .unwrap_or(0)
            > 0,
        "the outage was met"
    );
    sb.set_faults(down, Faults::default());
    until_for("every order mirrored and written back", 60, || async {
        let mut all = true;
        for z in &zonos {
            all &= mirror_of(&r, Channel::Zonos, z).await.is_some();
        }
        for g in &google {
            all &= mirror_of(&r, Channel::Google, g).await.is_some();
        }
        all
    })
    .await;
    // The last write-back may still be in flight when the link is stored.
    until_for("every merchant id written", 30, || async {
        let c = sb.counters();
        c.executed_count("zonos.updateMerchantOrderId") >= 8
            && c.executed_count("google.updateMerchantOrderId") >= 4
    })
    .await;
    let c = sb.counters();
    assert_eq!(
        c.executed_count("genstore.createOrder"),
        12,
        "each mirror once"
    );
    assert_eq!(c.executed_count("zonos.updateMerchantOrderId"), 8);
    assert_eq!(c.executed_count("google.updateMerchantOrderId"), 4);
    assert_eq!(c.executed_count("google.acknowledge"), 4);
    assert_eq!(
        r.dead_letters.depth().await.unwrap(),
        0,
        "nothing dead-lettered"
    );
    r.stop().await;
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genstore_down_for_six_hours() {
    a_six_hour_outage_dead_letters_nothing_and_every_write_lands_once(Channel::Genstore).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zonos_down_for_six_hours() {
    a_six_hour_outage_dead_letters_nothing_and_every_write_lands_once(Channel::Zonos).await;
}
