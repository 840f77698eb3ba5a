//! Orders imported per second against the sandbox with 20 ms of added latency per request, next to the
//! bound the default rate limits allow (`cargo bench -p order-poller --all-features --bench import`).
//!
//! Each new Zonos order costs one `orderDetail` call (default pace 5/s), each Google order one
//! `acknowledge` (default pace 10/s), so those paces bound the import rates; listing pages costs little.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use order_poller::{Deadline, Deps, PollRequest, Settings};
use orderbridge::channel::Channel;
use orderbridge::channels::google::auth::GoogleCredentials;
use orderbridge::channels::google::client::{GoogleClient, GoogleSettings};
use orderbridge::channels::zonos::client::{ZonosClient, ZonosSettings};
use orderbridge::channels::zonos::wire::Credentials;
use orderbridge::clock::{Clock, SystemClock};
use orderbridge::secrets::Secret;
use orderbridge::store::embedded::{Db, EmbeddedQueue, EmbeddedStore};
use orderbridge_sandbox::zonos::{NewZonosItem, NewZonosOrder};
use orderbridge_sandbox::{spawn, Faults, SandboxConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Forever;
impl Deadline for Forever {
    fn remaining(&self) -> Duration {
        Duration::from_secs(3600)
    }
}

const N: usize = 40;

#[tokio::main]
async fn main() {
    let (sandbox, base) = spawn(SandboxConfig::default()).await.expect("sandbox");
    let c = SandboxConfig::default();
    for p in [Channel::Zonos, Channel::Google] {
        sandbox.set_faults(
            p,
            Faults {
                latency_ms: 20,
                ..Faults::default()
            },
        );
    }
    {
        let mut st = sandbox.lock();
        for _ in 0..N {
            st.zonos.create(
                999,
                &NewZonosOrder::of(NewZonosItem::mug("SKU", 1, rust_decimal::Decimal::ONE)),
            );
            st.google
                .create_advanced_test_order("123456789", "template1", chrono::Utc::now())
                .expect("template");
        }
    }
    let dir = std::env::temp_dir().join(format!("poll-bench-{}", uuid::Uuid::new_v4()));
    let db = Db::open(dir.join("db.sqlite3")).expect("db");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let zonos = ZonosSettings::new(
        format!("{base}/zonos"),
        Credentials {
            store: c.zonos_store,
            secret: Secret::new(c.zonos_secret.clone()),
        },
    );
    let google = GoogleSettings::new(
        format!("{base}/google/content/v2.1"),
        c.google_merchant_id.clone(),
        GoogleCredentials::AccessToken(Secret::new(c.google_token.clone())),
    );
    let bounds = (
        zonos.http.rate.per_second.get(),
        google.http.rate.per_second.get(),
    );
    let base_deps = Deps::build(
        Arc::new(EmbeddedStore::new(db.clone(), clock.clone())),
        Arc::new(EmbeddedQueue::new(db, "sync", None, clock)),
        Default::default(),
        Settings::default(),
        Default::default(),
    );
    println!("order-poller import rate, sandbox with 20 ms latency per request, default pacing, {N} orders per channel:");
    let zonos_only = Deps {
        zonos: Some(ZonosClient::new(zonos).expect("client")),
        ..base_deps.clone()
    };
    let started = Instant::now();
    let r = order_poller::run(&zonos_only, PollRequest::default(), &Forever).await;
    let z = r.channel("zonos").map_or(0, |c| c.new);
    let secs = started.elapsed().as_secs_f64();
    println!("  zonos   {z:>4} orders in {secs:>6.2}s = {:>6.2} orders/s   (bound: {} orderDetail calls/s)", z as f64 / secs, bounds.0);
    let google_only = Deps {
        google: Some(GoogleClient::new(google).expect("client")),
        ..base_deps
    };
    let started = Instant::now();
    let r = order_poller::run(&google_only, PollRequest::default(), &Forever).await;
    let g = r.channel("google").map_or(0, |c| c.new);
    let secs = started.elapsed().as_secs_f64();
    println!("  google  {g:>4} orders in {secs:>6.2}s = {:>6.2} orders/s   (bound: {} acknowledge calls/s)", g as f64 / secs, bounds.1);
    let _ = std::fs::remove_dir_all(&dir);
}
