//! Jobs per second against the sandbox with 20 ms of added latency per request
//! (`cargo bench -p fulfillment-push --all-features --bench jobs`). Each job is a mirror: create the
//! Genstore order, write the merchant id back to the channel, with the idempotency claim, audit entries
//! and table writes around them (embedded store).

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use fulfillment_push::{handle_batch, Deps, Record, Tuning};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::{GenstoreClient, GenstoreSettings};
use orderbridge::channels::http::{HttpSettings, RateLimit};
use orderbridge::channels::zonos::client::{ZonosClient, ZonosSettings};
use orderbridge::channels::zonos::wire::Credentials;
use orderbridge::clock::{Clock, SystemClock};
use orderbridge::config::Clients;
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::secrets::Secret;
use orderbridge::store::orders;
use orderbridge_sandbox::zonos::{NewZonosItem, NewZonosOrder};
use orderbridge_sandbox::{spawn, Faults, SandboxConfig};
use std::sync::Arc;
use std::time::Instant;

const N: usize = 60;

#[tokio::main]
async fn main() {
    let (sandbox, base) = spawn(SandboxConfig::default()).await.expect("sandbox");
    let c = SandboxConfig::default();
    let dir = std::env::temp_dir().join(format!("push-bench-{}", uuid::Uuid::new_v4()));
    let db = orderbridge::store::embedded::Db::open(dir.join("db.sqlite3")).expect("db");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(orderbridge::store::embedded::EmbeddedStore::new(
        db.clone(),
        clock.clone(),
    ));
    let queue = Arc::new(orderbridge::store::embedded::EmbeddedQueue::new(
        db, "sync", None, clock,
    ));
    let fast = HttpSettings::with_rate(RateLimit::new(1000, 1000));
    let mut z = ZonosSettings::new(
        format!("{base}/zonos"),
        Credentials {
            store: c.zonos_store,
            secret: Secret::new(c.zonos_secret.clone()),
        },
    );
    z.http = fast;
    let mut g = GenstoreSettings::new(
        format!("{base}/genstore"),
        Secret::new(c.genstore_token.clone()),
    );
    g.http = fast;
    let zonos = ZonosClient::new(z).expect("client");
    println!(
        "fulfillment-push, sandbox with 20 ms latency per request, {N} mirror jobs (create + write-back), Genstore paced as \
         the platform allows (40 at once, then 2 requests/s):"
    );
    for concurrency in [1usize, 4] {
        // Fresh orders for every round, so no round finds the previous one's work already done.
        // The sandbox's Genstore bucket refills while the next round's orders are prepared.
        tokio::time::sleep(std::time::Duration::from_secs(20)).await;
        let mut ids = Vec::new();
        for _ in 0..N {
            let id = sandbox.lock().zonos.create(
                999,
                &NewZonosOrder::of(NewZonosItem::mug("SKU", 1, rust_decimal::Decimal::ONE)),
            );
            let detail = zonos.order_detail(&id).await.expect("detail");
            orders::save_newer(
                &*store,
                orderbridge::channels::zonos::to_channel_order(&detail, None).expect("map"),
            )
            .await
            .expect("save");
            ids.push(id);
        }
        for p in [Channel::Genstore, Channel::Zonos] {
            sandbox.set_faults(
                p,
                Faults {
                    latency_ms: 20,
                    ..Faults::default()
                },
            );
        }
        let clients = Clients {
            genstore: Some(GenstoreClient::new(g.clone()).expect("client")),
            zonos: Some(zonos.clone()),
            google: None,
        };
        let tuning = Tuning {
            concurrency,
            ..Tuning::default()
        };
        let deps = Deps::build(
            store.clone(),
            queue.clone(),
            clients,
            Default::default(),
            None,
            tuning,
        );
        let batch: Vec<Record> = ids
            .iter()
            .map(|id| {
                Record::new(
                    format!("m-{id}"),
                    SyncJob::from(Job::MirrorOrder {
                        channel: Channel::Zonos,
                        order_id: id.as_str().into(),
                    })
                    .to_body(),
                )
            })
            .collect();
        let started = Instant::now();
        let mut failed = 0;
        for chunk in batch.chunks(10) {
            failed += handle_batch(&deps, chunk.to_vec()).await.len();
        }
        let secs = started.elapsed().as_secs_f64();
        let created = sandbox.counters().executed_count("genstore.createOrder");
        println!(
            "  concurrency {concurrency:>2}: {N} jobs in {secs:>6.2}s = {:>6.1} jobs/s ({failed} returned to the queue for a retry; Genstore orders created so far: {created})",
            N as f64 / secs
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
