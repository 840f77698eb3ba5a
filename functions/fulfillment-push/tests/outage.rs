//! Six hours of Genstore outage, receive by receive, with the deployed figures unscaled: the queue's
//! 360 s visibility timeout, its redrive after 30 receives, and fulfillment-push's backoff (30 s doubling
//! to 30 min). A manual clock moves the queue through the six hours in 30-second steps, as Lambda's
//! poller would meet the job. The job is never dead-lettered, its receive count stays within the
//! redrive, and when Genstore returns the mirror is created once. Without the backoff, the same outage
//! dead-letters the job.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use chrono::Utc;
use fulfillment_push::{handle_batch_until, Backoff, Deps, Record, Tuning};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::{GenstoreClient, GenstoreSettings};
use orderbridge::channels::http::{HttpSettings, RateLimit};
use orderbridge::channels::zonos::client::{ZonosClient, ZonosSettings};
use orderbridge::channels::zonos::wire::Credentials;
use orderbridge::clock::{Clock, ManualClock};
use orderbridge::config::Clients;
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::secrets::Secret;
use orderbridge::store::embedded::{Db, DeadLetter, EmbeddedQueue, EmbeddedStore};
use orderbridge::store::provision::QUEUE;
use orderbridge::store::{orders, SyncQueue};
use orderbridge_sandbox::zonos::{NewZonosItem, NewZonosOrder};
use orderbridge_sandbox::{spawn, Faults, SandboxConfig};
use std::sync::Arc;

const SIX_HOURS: i64 = 6 * 3600;
const STEP: i64 = 30;

struct Run {
    /// The most often the job was received.
    most_receives: u32,
    /// Letters in the DLQ after the outage.
    dead_lettered: u64,
    /// Genstore orders created, once Genstore was back.
    created: u64,
}

async fn six_hours_of_genstore_outage(backoff: Option<Backoff>) -> Run {
    let (sb, base) = spawn(SandboxConfig::default()).await.unwrap();
    let c = SandboxConfig::default();
    let start = Utc::now();
    let manual = ManualClock::at(start);
    let clock: Arc<dyn Clock> = Arc::new(manual.clone());
    let dir = std::env::temp_dir().join(format!("outage-{}", uuid::Uuid::new_v4()));
    let db = Db::open(dir.join("db.sqlite3")).unwrap();
    let store = Arc::new(EmbeddedStore::new(db.clone(), clock.clone()));
    let queue: Arc<dyn SyncQueue> = Arc::new(EmbeddedQueue::new(
        db.clone(),
        "sync",
        Some(DeadLetter {
            queue: "sync-dlq".into(),
            max_receives: QUEUE.max_receive_count,
        }),
        clock.clone(),
    ));
    let dlq = EmbeddedQueue::new(db, "sync-dlq", None, clock);
    // One attempt a receive, and no breaker: this is about the queue's side of an outage.
    let http = HttpSettings {
        max_attempts: 1,
        breaker_after: 0,
        ..HttpSettings::with_rate(RateLimit::new(1000, 1000))
    };
    let mut gs = GenstoreSettings::new(format!("{base}/genstore"), Secret::new(c.genstore_token));
    gs.http = http;
    let mut zs = ZonosSettings::new(
        format!("{base}/zonos"),
        Credentials {
            store: c.zonos_store,
            secret: Secret::new(c.zonos_secret),
        },
    );
    zs.http = http;
    let clients = Clients {
        genstore: Some(GenstoreClient::new(gs).unwrap()),
        zonos: Some(ZonosClient::new(zs).unwrap()),
        google: None,
    };
    let (shops, dead_letters) = (Default::default(), None);
    let mut deps = Deps::build(
        store.clone(),
        queue.clone(),
        clients,
        shops,
        dead_letters,
        Tuning::default(),
    );
    deps.backoff = backoff.unwrap_or_default();
    let z = sb.lock().zonos.create(
        999,
        &NewZonosOrder::of(NewZonosItem::mug(
            "SKU-MUG",
            1,
            rust_decimal::Decimal::new(1000, 2),
        )),
    );
    let detail = deps.zonos.as_ref().unwrap().order_detail(&z).await.unwrap();
    orders::save_newer(
        &*store,
        orderbridge::channels::zonos::to_channel_order(&detail, None).unwrap(),
    )
    .await
    .unwrap();
    queue
        .send(&[SyncJob::from(Job::MirrorOrder {
            channel: Channel::Zonos,
            order_id: z.as_str().into(),
        })])
        .await
        .unwrap();
    sb.set_faults(
        Channel::Genstore,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let visibility = chrono::Duration::seconds(i64::from(QUEUE.visibility_timeout_secs));
    let mut most_receives = 0;
    let mut done = false;
    let mut elapsed = 0;
    // Six hours of outage, then up to an hour for the job's next try once Genstore is back.
    while !done && elapsed < SIX_HOURS + 3600 {
        if elapsed >= SIX_HOURS {
            sb.set_faults(Channel::Genstore, Faults::default());
        }
        let batch = queue.receive(10, visibility).await.unwrap();
        for m in batch {
            most_receives = most_receives.max(m.receive_count);
            let record = Record {
                message_id: m.message_id.clone(),
                body: m.body.clone(),
                // Without the backoff, as before: the job waits out the queue's visibility timeout.
                receipt: backoff.map(|_| m.receipt.clone()),
                receive_count: m.receive_count,
            };
            if handle_batch_until(&deps, vec![record], None)
                .await
                .is_empty()
            {
                queue.delete(&m.receipt).await.unwrap();
                done = true;
            }
        }
        manual.advance(chrono::Duration::seconds(STEP));
        elapsed += STEP;
    }
    let run = Run {
        most_receives,
        dead_lettered: dlq.depth().await.unwrap(),
        created: sb.counters().executed_count("genstore.createOrder"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_six_hour_genstore_outage_is_ridden_out_and_the_mirror_is_created_once() {
    let run = six_hours_of_genstore_outage(Some(Backoff::default())).await;
    println!(
        "six-hour outage with the backoff: received {} times at most (redrive after {}), {} dead-lettered",
        run.most_receives, QUEUE.max_receive_count, run.dead_lettered
    );
    assert_eq!(run.dead_lettered, 0);
    assert!(run.most_receives < QUEUE.max_receive_count);
    assert_eq!(run.created, 1, "created once when Genstore was back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_backoff_the_same_outage_dead_letters_the_job() {
    let run = six_hours_of_genstore_outage(None).await;
    println!(
        "six-hour outage without the backoff: {} dead-lettered",
        run.dead_lettered
    );
    assert_eq!(run.dead_lettered, 1);
    assert_eq!(run.created, 0);
}
