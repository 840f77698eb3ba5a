//! order-poller against the platform sandbox, on the DynamoDB/SQS adapters (moto, started by
//! `scripts/test`) and on the embedded SQLite twin.

use order_poller::{Backfill, Deadline, Deps, PollRequest, RunSummary, Settings};
use orderbridge::caller::Function;
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::{GenstoreClient, GenstoreSettings};
use orderbridge::channels::google::auth::GoogleCredentials;
use orderbridge::channels::google::client::{GoogleClient, GoogleSettings};
use orderbridge::channels::http::{HttpSettings, RateLimit};
use orderbridge::channels::zonos::client::{ZonosClient, ZonosSettings};
use orderbridge::channels::zonos::wire::Credentials;
use orderbridge::clock::{Clock, SystemClock};
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::secrets::Secret;
use orderbridge::store::{OrderKey, Storage, SyncQueue};
use orderbridge_sandbox::genstore_model as gw;
use orderbridge_sandbox::zonos::NewZonosItem;
use orderbridge_sandbox::zonos::NewZonosOrder;
use orderbridge_sandbox::{spawn, Faults, Sandbox, SandboxConfig};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

struct Forever;
impl Deadline for Forever {
    fn remaining(&self) -> Duration {
        Duration::from_secs(3600)
    }
}

/// Out of time after `n` checks.
struct After(AtomicUsize);
impl Deadline for After {
    fn remaining(&self) -> Duration {
        match self.0.fetch_sub(1, Ordering::SeqCst) {
            0 => {
                self.0.store(0, Ordering::SeqCst);
                Duration::ZERO
            }
            _ => Duration::from_secs(3600),
        }
    }
}

struct Setup {
    sandbox: Sandbox,
    /// The sandbox's base URL.
    base: String,
    /// What the function is given.
    deps: Deps,
    /// The test's own view of the same table and queue, for set-up and checks: on moto, clients that
    /// do not send as order-poller, so the role test counts only the function's own requests.
    store: Arc<dyn Storage>,
    queue: Arc<dyn SyncQueue>,
    _dir: Option<std::path::PathBuf>,
}

fn http() -> HttpSettings {
    HttpSettings {
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..HttpSettings::with_rate(RateLimit::new(2000, 2000))
    }
}

/// Clients of every platform of the sandbox at `base`, quick to retry.
fn clients_of(base: &str) -> orderbridge::config::Clients {
    let c = SandboxConfig::default();
    let mut z = ZonosSettings::new(
        format!("{base}/zonos"),
        Credentials {
            store: c.zonos_store,
            secret: Secret::new(c.zonos_secret.clone()),
        },
    );
    z.http = http();
    let mut g = GoogleSettings::new(
        format!("{base}/google/content/v2.1"),
        c.google_merchant_id.clone(),
        GoogleCredentials::AccessToken(Secret::new(c.google_token.clone())),
    );
    g.http = http();
    let mut s = GenstoreSettings::new(
        format!("{base}/genstore"),
        Secret::new(c.genstore_token.clone()),
    );
    s.http = HttpSettings {
        rate: orderbridge::channels::genstore::client::rate_limit(),
        ..http()
    };
    orderbridge::config::Clients {
        zonos: Some(ZonosClient::new(z).unwrap()),
        google: Some(GoogleClient::new(g).unwrap()),
        genstore: Some(GenstoreClient::new(s).unwrap()),
    }
}

/// `s`'s poller serving two shops: the default one on `s`'s sandbox, `eu` on the sandbox at `other`.
fn two_shops(s: &Setup, other: &str) -> Deps {
    use orderbridge::config::ShopClients;
    use orderbridge::shop::ShopId;
    Deps {
        shops: Arc::new(vec![
            ShopClients {
                id: ShopId::default_shop(),
                clients: clients_of(&s.base),
            },
            ShopClients {
                id: "eu".parse().unwrap(),
                clients: clients_of(other),
            },
        ]),
        ..s.deps.clone()
    }
}

async fn setup(aws: bool) -> Setup {
    let (sandbox, base) = spawn(SandboxConfig::default()).await.unwrap();
    type Backends = (Arc<dyn Storage>, Arc<dyn SyncQueue>);
    let ((store, queue), watch, dir): (Backends, Backends, _) = if aws {
        use orderbridge::store::dynamo::AwsBackends;
        assert!(
            std::env::var("AWS_ENDPOINT_URL").is_ok(),
            "run scripts/test, which starts moto"
        );
        let name = format!("poll-{}", uuid::Uuid::new_v4().simple());
        let (aws, p) = AwsBackends::provisioned(Some(Function::OrderPoller), &name, &name)
            .await
            .unwrap();
        let watch = AwsBackends::connect(None, p.table.clone()).await;
        (
            (aws.store.clone(), Arc::new(aws.queue(p.queue_url.clone()))),
            (watch.store.clone(), Arc::new(watch.queue(p.queue_url))),
            None,
        )
    } else {
        use orderbridge::store::embedded::{Db, EmbeddedQueue, EmbeddedStore};
        let dir = std::env::temp_dir().join(format!("poll-{}", uuid::Uuid::new_v4()));
        let db = Db::open(dir.join("db.sqlite3")).unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let both: Backends = (
            Arc::new(EmbeddedStore::new(db.clone(), clock.clone())),
            Arc::new(EmbeddedQueue::new(db, "sync", None, clock)),
        );
        (both.clone(), both, Some(dir))
    };
    let clients = clients_of(&base);
    let deps = Deps {
        store,
        queue,
        zonos: clients.zonos,
        google: clients.google,
        genstore: clients.genstore,
        settings: Settings {
            concurrency: 8,
            genstore_overlap: 3,
            ..Settings::default()
        },
        shops: Default::default(),
    };
    Setup {
        sandbox,
        base,
        deps,
        store: watch.0,
        queue: watch.1,
        _dir: dir,
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some(d) = &self._dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn zonos_order(test_order: bool) -> NewZonosOrder {
    NewZonosOrder {
        items: vec![NewZonosItem {
            sku: "SKU-1".into(),
            product_id: Some("p1".into()),
            description: Some("Mug".into()),
            quantity: 2,
            unit_price: rust_decimal::Decimal::new(1000, 2),
        }],
        test_order,
        status: None,
        shipping_carrier_service_level: None,
        placed_hours_ago: 1,
    }
}

fn add_zonos(sb: &Sandbox, n: usize) -> Vec<String> {
    let mut st = sb.lock();
    (0..n)
        .map(|_| st.zonos.create(999, &zonos_order(false)))
        .collect()
}

/// The Genstore mirror of an external order, as fulfillment-push creates it (no webhook sent).
fn add_mirror(sb: &Sandbox, source: &str, external_id: &str) -> String {
    let (o, _) = sb
        .lock()
        .genstore
        .create_order(&gw::NewOrder {
            source_name: source.into(),
            source_identifier: external_id.into(),
            currency: "USD".into(),
            line_items: vec![gw::NewLineItem {
                title: "Mug".into(),
                sku: Some("SKU".into()),
                product_id: None,
                quantity: 1,
                price: rust_decimal::Decimal::ONE,
            }],
            financial_status: Some("paid".into()),
            ..gw::NewOrder::default()
        })
        .unwrap();
    o.order_id
}

/// The merchant ships a Genstore order in full (no webhook sent).
fn ship_all(sb: &Sandbox, order_id: &str) {
    sb.lock()
        .genstore
        .create_fulfillment(
            order_id,
            None,
            Some(gw::TrackingInfo {
                number: Some("1Z1".into()),
                company: Some("UPS".into()),
                url: None,
            }),
            Some("inTransit".into()),
        )
        .unwrap();
}

/// Merchant-native Genstore orders (no webhook sent), ids from 1001.
fn add_genstore(sb: &Sandbox, n: usize) {
    let mut st = sb.lock();
    for i in 0..n {
        let new = gw::NewOrder {
            source_name: "web".into(),
            source_identifier: format!("w{i}"),
            currency: "USD".into(),
            line_items: vec![gw::NewLineItem {
                title: "Mug".into(),
                sku: Some("SKU".into()),
                product_id: None,
                quantity: 1,
                price: rust_decimal::Decimal::ONE,
            }],
            financial_status: Some("paid".into()),
            ..gw::NewOrder::default()
        };
        st.genstore.create_order(&new).unwrap();
    }
}

fn add_google(sb: &Sandbox, n: usize) -> Vec<String> {
    let mut st = sb.lock();
    (0..n)
        .map(|_| {
            let id = st
                .google
                .create_test_order("123456789", "template1", chrono::Utc::now())
                .unwrap();
            st.google.orders.get_mut(&id).unwrap().order.status = "pendingShipment".into();
            id
        })
        .collect()
}

/// Every job on the queue, as what it does (each must carry its poll run's cause, checked here).
async fn drain(q: &dyn SyncQueue) -> Vec<SyncJob> {
    let mut out = Vec::new();
    loop {
        let batch = q.receive(10, chrono::Duration::seconds(300)).await.unwrap();
        if batch.is_empty() {
            return out;
        }
        for m in batch {
            let job = m.job().unwrap();
            assert!(
                job.cause.as_deref().is_some_and(|c| c.starts_with("poll:")),
                "a polled job carries its run's cause: {job:?}"
            );
            out.push(job.without_cause());
            q.delete(&m.receipt).await.unwrap();
        }
    }
}

/// Mirror jobs per order.
fn mirrors(jobs: &[SyncJob]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for j in jobs {
        if let Job::MirrorOrder { channel, order_id } = &j.job {
            *m.entry(format!("{channel}:{order_id}")).or_default() += 1;
        }
    }
    m
}

async fn poll(s: &Setup) -> RunSummary {
    order_poller::run(&s.deps, PollRequest::default(), &Forever).await
}

async fn stored(s: &Setup, channel: Channel, id: &str) -> bool {
    s.store
        .get(&OrderKey::new(channel, id))
        .await
        .unwrap()
        .is_some()
}

mod cases {
    use super::*;

    pub async fn many_orders_over_several_pages_import_exactly_once(aws: bool, n: usize) {
        let s = setup(aws).await;
        let zonos_ids = add_zonos(&s.sandbox, n);
        let google_ids = add_google(&s.sandbox, n);
        s.sandbox.lock().zonos.create(999, &zonos_order(true));
        let first = poll(&s).await;
        assert!(first.ok(), "{first:?}");
        let (z, g) = (
            first.channel("zonos").unwrap(),
            first.channel("google").unwrap(),
        );
        assert_eq!((z.new, z.skipped, z.failed), (n, 1, 0), "{z:?}");
        assert_eq!((g.new, g.failed), (n, 0), "{g:?}");
        assert_eq!(
            z.cursor_after.as_deref(),
            Some(format!("999-{}", 10_001 + n).as_str()),
            "past the skipped test order too"
        );
        let jobs = drain(&*s.queue).await;
        let m = mirrors(&jobs);
        assert_eq!(m.len(), 2 * n);
        assert!(m.values().all(|c| *c == 1), "one mirror job each");
        for id in zonos_ids.iter().chain(&google_ids).step_by(97) {
            let channel = if id.starts_with("TEST") {
                Channel::Google
            } else {
                Channel::Zonos
            };
            assert!(stored(&s, channel, id).await, "{id}");
        }
        assert!(s
            .sandbox
            .lock()
            .google
            .orders
            .values()
            .all(|o| o.order.acknowledged));
        assert!(
            s.sandbox.counters().requests["GET /google/content/v2.1/{merchant}/orders"] >= 3,
            "several pages"
        );

        let second = poll(&s).await;
        assert!(second.ok(), "{second:?}");
        assert_eq!(second.channel("zonos").unwrap().new, 0);
        assert_eq!(second.channel("google").unwrap().new, 0);
        assert!(
            mirrors(&drain(&*s.queue).await).is_empty(),
            "a second run imports nothing"
        );
    }

    pub async fn a_run_stopped_at_the_deadline_and_resumed_ends_the_same(aws: bool) {
        let s = setup(aws).await;
        add_zonos(&s.sandbox, 100);
        add_google(&s.sandbox, 100);
        let first =
            order_poller::run(&s.deps, PollRequest::default(), &After(AtomicUsize::new(2))).await;
        let z = first.channel("zonos").unwrap();
        assert!(
            first.channels.iter().any(|c| c.stopped_at_deadline),
            "{first:?}"
        );
        assert!(z.new < 100, "{z:?}");
        let cursor = s.store.read("zonos").await.unwrap().map(|c| c.value);
        assert_eq!(
            cursor, z.cursor_after,
            "the cursor sits at the last complete item"
        );
        let second = poll(&s).await;
        assert!(second.ok(), "{second:?}");
        let total_z = z.new + second.channel("zonos").unwrap().new;
        let total_g = first.channel("google").unwrap().new + second.channel("google").unwrap().new;
        assert_eq!((total_z, total_g), (100, 100));
        let m = mirrors(&drain(&*s.queue).await);
        assert_eq!(m.len(), 200);
        assert!(m.values().all(|c| *c == 1));
    }

    pub async fn a_killed_run_run_again_misses_nothing(aws: bool) {
        let s = setup(aws).await;
        add_zonos(&s.sandbox, 60);
        add_google(&s.sandbox, 60);
        s.sandbox.set_faults(
            Channel::Zonos,
            Faults {
                latency_ms: 5,
                ..Faults::default()
            },
        );
        s.sandbox.set_faults(
            Channel::Google,
            Faults {
                latency_ms: 5,
                ..Faults::default()
            },
        );
        let deps = s.deps.clone();
        let task = tokio::spawn(async move {
            order_poller::run(&deps, PollRequest::default(), &Forever).await
        });
        tokio::time::sleep(Duration::from_millis(120)).await;
        task.abort();
        let _ = task.await;
        // The killed run's leases are still held; they expire. Here a new owner takes over at once.
        let mut deps = s.deps.clone();
        deps.settings.lease_ttl = chrono::Duration::minutes(15);
        for ch in ["zonos", "google", "genstore"] {
            s.store
                .release_lease(&format!("poll:{ch}"), &s.deps.settings.owner)
                .await
                .unwrap();
        }
        let again = order_poller::run(&deps, PollRequest::default(), &Forever).await;
        assert!(again.ok(), "{again:?}");
        let m = mirrors(&drain(&*s.queue).await);
        assert_eq!(m.len(), 120, "every order has its mirror job");
        for ch in ["zonos", "google"] {
            let c = again.channel(ch).unwrap();
            assert!(c.new + c.unchanged >= 1 || c.seen == 0, "{c:?}");
        }
        assert!(s
            .sandbox
            .lock()
            .google
            .orders
            .values()
            .all(|o| o.order.acknowledged));
    }

    pub async fn throttling_and_server_errors_are_survived(aws: bool) {
        let s = setup(aws).await;
        add_zonos(&s.sandbox, 80);
        add_google(&s.sandbox, 80);
        let flaky = Faults {
            error_rate: 0.15,
            throttle_rate: 0.15,
            ..Faults::default()
        };
        s.sandbox.set_faults(Channel::Zonos, flaky.clone());
        s.sandbox.set_faults(Channel::Google, flaky);
        let mut jobs = Vec::new();
        let mut runs = 0;
        loop {
            runs += 1;
            let r = poll(&s).await;
            jobs.extend(drain(&*s.queue).await);
            if r.ok() || runs == 8 {
                assert!(r.ok(), "still failing after {runs} runs: {r:?}");
                break;
            }
        }
        let counters = s.sandbox.counters();
        assert!(
            counters.faults.values().sum::<u64>() > 10,
            "faults were injected: {:?}",
            counters.faults
        );
        // Every order is imported (its mirror queued), or, when its own detail failed while later
        // ones read fine, parked on the queue as an import job; none is lost.
        let mut m = mirrors(&jobs);
        for j in &jobs {
            if let Job::ImportOrder {
                channel, order_id, ..
            } = &j.job
            {
                assert!(
                    !stored(&s, *channel, order_id.as_str()).await,
                    "parked, so not imported by the poll"
                );
                *m.entry(format!("{channel}:{order_id}")).or_default() += 1;
            }
        }
        assert_eq!(m.len(), 160, "every order imported or parked");
        assert!(s
            .sandbox
            .lock()
            .google
            .orders
            .values()
            .all(|o| o.order.acknowledged));
    }

    pub async fn a_zonos_error_answer_is_reported_and_the_cursor_holds(aws: bool) {
        let mut s = setup(aws).await;
        add_zonos(&s.sandbox, 3);
        assert!(s.store.advance("zonos", None, "999-10002").await.unwrap());
        // Zonos answers 200 with an error (here: the credentials are wrong).
        let c = SandboxConfig::default();
        let mut z = ZonosSettings::new(
            format!("{}/zonos", s.base),
            Credentials {
                store: c.zonos_store,
                secret: Secret::new("00000000-0000-0000-0000-000000000000"),
            },
        );
        z.http = http();
        s.deps.zonos = Some(ZonosClient::new(z).unwrap());
        let r = poll(&s).await;
        let z = r.channel("zonos").unwrap();
        assert!(
            z.error
                .as_deref()
                .unwrap()
                .contains("Invalid security credentials"),
            "{z:?}"
        );
        assert_eq!(
            s.store.read("zonos").await.unwrap().unwrap().value,
            "999-10002"
        );
        assert!(
            r.channel("google").unwrap().ok(),
            "a failing channel does not stop the others"
        );
    }

    /// A cursor on an order Zonos no longer has, past every order it has: the poll falls back to a date,
    /// finds nothing after the cursor, and keeps it, without an error.
    pub async fn a_vanished_zonos_cursor_past_every_order_holds_without_error(aws: bool) {
        let s = setup(aws).await;
        add_zonos(&s.sandbox, 3);
        assert!(s.store.advance("zonos", None, "999-55555").await.unwrap());
        let r = poll(&s).await;
        let z = r.channel("zonos").unwrap();
        assert_eq!((z.new, z.error.as_deref()), (0, None), "{z:?}");
        assert_eq!(
            s.store.read("zonos").await.unwrap().unwrap().value,
            "999-55555"
        );
    }

    pub async fn a_google_order_is_acknowledged_only_once_stored(aws: bool) {
        let s = setup(aws).await;
        let ids = add_google(&s.sandbox, 5);
        // One order Google sends without a placement date cannot be stored.
        s.sandbox
            .lock()
            .google
            .orders
            .get_mut(&ids[2])
            .unwrap()
            .order
            .placed_date = None;
        let r = poll(&s).await;
        let g = r.channel("google").unwrap();
        assert_eq!((g.new, g.failed), (4, 1), "{g:?}");
        assert!(!stored(&s, Channel::Google, &ids[2]).await);
        let st = s.sandbox.lock();
        for id in &ids {
            let acked = st.google.orders[id].order.acknowledged;
            assert_eq!(acked, id != &ids[2], "{id}: acknowledged only when stored");
        }
    }

    pub async fn genstore_orders_whose_webhooks_never_came_are_found(aws: bool) {
        let s = setup(aws).await;
        add_genstore(&s.sandbox, 7);
        let r = poll(&s).await;
        let g = r.channel("genstore").unwrap();
        assert_eq!((g.seen, g.missed), (7, 7), "{g:?}");
        assert_eq!(
            g.cursor_after.as_deref(),
            Some("1004"),
            "the window trails the newest by the overlap"
        );
        assert!(stored(&s, Channel::Genstore, "1007").await);
        let again = poll(&s).await;
        let g2 = again.channel("genstore").unwrap();
        assert_eq!(
            (g2.seen, g2.missed),
            (3, 0),
            "the overlap is re-read, nothing is missed twice"
        );
    }

    pub async fn a_second_run_cannot_work_a_leased_channel(aws: bool) {
        let s = setup(aws).await;
        s.store
            .acquire_lease("poll:zonos", "someone-else", chrono::Duration::minutes(5))
            .await
            .unwrap();
        let r = poll(&s).await;
        assert!(r
            .channel("zonos")
            .unwrap()
            .error
            .as_deref()
            .unwrap()
            .contains("someone-else"));
        assert!(r.channel("google").unwrap().ok());
    }

    pub async fn a_backfill_imports_a_date_range_without_moving_the_cursor(aws: bool) {
        let s = setup(aws).await;
        {
            let mut st = s.sandbox.lock();
            st.zonos.create(
                999,
                &NewZonosOrder {
                    placed_hours_ago: 24 * 40,
                    ..zonos_order(false)
                },
            );
            st.zonos.create(
                999,
                &NewZonosOrder {
                    placed_hours_ago: 24 * 39,
                    ..zonos_order(false)
                },
            );
            st.zonos.create(999, &zonos_order(false));
        }
        let today = chrono::Utc::now().date_naive();
        let req = PollRequest {
            backfill: Some(Backfill {
                channel: Channel::Zonos,
                since: today - chrono::Duration::days(45),
                through: Some(today - chrono::Duration::days(30)),
            }),
        };
        let r = order_poller::run(&s.deps, req, &Forever).await;
        assert_eq!(r.channel("zonos").unwrap().new, 2, "{r:?}");
        assert!(
            s.store.read("zonos").await.unwrap().is_none(),
            "the live cursor is untouched"
        );
        let parsed = PollRequest::from_event(
            &serde_json::json!({"detail-type": "Scheduled Event", "detail": {}}),
        )
        .unwrap();
        assert_eq!(parsed, PollRequest::default());
        let bf = PollRequest::from_event(&serde_json::json!({"detail": {"backfill": {"channel": "google", "since": "2026-01-01"}}})).unwrap();
        assert_eq!(bf.backfill.unwrap().channel, Channel::Google);
        assert!(PollRequest::from_event(
            &serde_json::json!({"detail": {"backfill": {"channel": "ebay"}}})
        )
        .is_err());
    }
}

mod more_cases {
    use super::*;

    /// A backfill stopped by the deadline, run again, continues where it stopped (each order imported
    /// once over the two runs); once complete, its position is cleared and a new run starts afresh.
    /// On every channel, each walked in its own API's order.
    pub async fn a_stopped_backfill_resumes_where_it_stopped_on_every_channel(aws: bool) {
        let s = setup(aws).await;
        let now = chrono::Utc::now();
        {
            let mut st = s.sandbox.lock();
            for _ in 0..5 {
                st.zonos.create(
                    999,
                    &NewZonosOrder {
                        placed_hours_ago: 24 * 40,
                        ..zonos_order(false)
                    },
                );
            }
            for i in 0..5 {
                let at = now - chrono::Duration::days(40) + chrono::Duration::minutes(i);
                let id = st
                    .google
                    .create_test_order("123456789", "template1", at)
                    .unwrap();
                st.google.orders.get_mut(&id).unwrap().order.status = "pendingShipment".into();
            }
        }
        add_genstore(&s.sandbox, 5);
        let today = now.date_naive();
        for (channel, since) in [
            (Channel::Zonos, today - chrono::Duration::days(45)),
            (Channel::Google, today - chrono::Duration::days(45)),
            (Channel::Genstore, today),
        ] {
            let req = || PollRequest {
                backfill: Some(Backfill {
                    channel,
                    since,
                    through: None,
                }),
            };
            let name = channel.as_str();
            let first = order_poller::run(&s.deps, req(), &After(AtomicUsize::new(2))).await;
            let a = first.channel(name).unwrap().clone();
            assert!(a.stopped_at_deadline, "{channel}: {a:?}");
            assert!(a.seen >= 1 && a.seen < 5, "{channel}: {a:?}");
            let stopped_at = a.cursor_after.clone().expect("a position is kept");
            let second = order_poller::run(&s.deps, req(), &Forever).await;
            let b = second.channel(name).unwrap().clone();
            assert!(
                !b.stopped_at_deadline && b.error.is_none(),
                "{channel}: {b:?}"
            );
            assert_eq!(
                b.cursor_before.as_deref(),
                Some(stopped_at.as_str()),
                "{channel}"
            );
            let imported = |c: &order_poller::ChannelSummary| c.new + c.missed;
            assert_eq!(
                imported(&a) + imported(&b),
                5,
                "{channel}: {a:?} then {b:?}"
            );
            // Google resumes at the last placement time, inclusive: that order is seen again, unchanged.
            let again = if channel == Channel::Google { 1 } else { 0 };
            assert_eq!(a.seen + b.seen, 5 + again, "{channel}: {a:?} then {b:?}");
            let third = order_poller::run(&s.deps, req(), &Forever).await;
            let c = third.channel(name).unwrap().clone();
            assert_eq!(c.cursor_before, None, "{channel}: complete, so afresh");
            assert_eq!((c.seen, c.unchanged), (5, 5), "{channel}: {c:?}");
        }
        assert!(s.store.read("zonos").await.unwrap().is_none());
        assert!(s.store.read("genstore").await.unwrap().is_none());
    }

    /// A run that hits a transient fault succeeds: the failure is in its summary (and metrics), the
    /// channel is not stalled. Only a channel failing with no progress for longer than the configured
    /// time stalls, and that is what fails the invocation (the first run shows a run with progress is
    /// 0 behind).
    pub async fn only_a_channel_without_progress_past_the_configured_time_fails_the_run(aws: bool) {
        let s = setup(aws).await;
        add_zonos(&s.sandbox, 2);
        let first = poll(&s).await;
        let z = first.channel("zonos").unwrap();
        assert!(first.ok() && first.stalled().is_empty(), "{first:?}");
        assert_eq!(z.behind_secs, Some(0));

        // Zonos fails every call for a while: the run ends with Zonos' error counted, and succeeds.
        s.sandbox.set_faults(
            Channel::Zonos,
            Faults {
                error_rate: 1.0,
                ..Faults::default()
            },
        );
        add_zonos(&s.sandbox, 1);
        let transient = poll(&s).await;
        let z = transient.channel("zonos").unwrap();
        assert!(z.error.is_some(), "{z:?}");
        assert!(!z.stalled, "{z:?}");
        assert!(transient.stalled().is_empty());
        assert!(z.behind_secs.is_some_and(|b| b < 60), "{z:?}");
        assert!(
            transient.channel("google").unwrap().ok(),
            "the other channels go on"
        );

        // Still down, and the last progress was two hours ago: the channel is stalled.
        let name = order_poller::completed_name("zonos");
        let before = s.store.read(&name).await.unwrap().map(|c| c.value);
        let long_ago = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
        assert!(s
            .store
            .advance(&name, before.as_deref(), &long_ago)
            .await
            .unwrap());
        let down = poll(&s).await;
        let z = down.channel("zonos").unwrap();
        assert!(z.stalled, "{z:?}");
        assert!(z.behind_secs.is_some_and(|b| b >= 7200), "{z:?}");
        assert_eq!(
            down.stalled()
                .iter()
                .map(|c| c.channel.as_str())
                .collect::<Vec<_>>(),
            ["zonos"]
        );
    }

    pub async fn the_sweep_rewrites_merchant_ids_zonos_still_lacks(aws: bool) {
        let s = setup(aws).await;
        let ids = add_zonos(&s.sandbox, 2);
        poll(&s).await;
        drain(&*s.queue).await;
        // One order was mirrored (linked) but its merchant-id write never reached Zonos.
        orderbridge::store::orders::link_to_genstore(
            &*s.store,
            &OrderKey::new(Channel::Zonos, ids[0].as_str()),
            &"5001".into(),
        )
        .await
        .unwrap();
        let r = poll(&s).await;
        assert!(r.ok(), "{r:?}");
        let jobs = drain(&*s.queue).await;
        assert_eq!(
            jobs,
            vec![SyncJob::from(Job::WriteMerchantOrderId {
                channel: Channel::Zonos,
                order_id: ids[0].as_str().into(),
                genstore_order_id: "5001".into()
            })],
            "only the mirrored order, once"
        );
    }

    pub async fn a_zonos_status_change_of_a_known_order_is_picked_up_and_pushed(aws: bool) {
        let s = setup(aws).await;
        let ids = add_zonos(&s.sandbox, 3);
        poll(&s).await;
        drain(&*s.queue).await;
        orderbridge::store::orders::link_to_genstore(
            &*s.store,
            &OrderKey::new(Channel::Zonos, ids[0].as_str()),
            &"7001".into(),
        )
        .await
        .unwrap();
        let idx = s.sandbox.lock().zonos.find(999, &ids[0]).unwrap();
        // As fulfillment-push leaves it: mirrored, and the merchant id written back to Zonos.
        s.sandbox.lock().zonos.orders[idx]
            .order
            .insert("merchantOrderId".into(), "7001".into());
        s.sandbox
            .lock()
            .zonos
            .set_status(idx, "IGLOBAL_ORDER_CANCELLED");
        let r = poll(&s).await;
        let z = r.channel("zonos").unwrap();
        assert_eq!((z.new, z.changed), (0, 1), "{z:?}");
        let stored = s
            .store
            .get(&OrderKey::new(Channel::Zonos, ids[0].as_str()))
            .await
            .unwrap()
            .unwrap()
            .order;
        assert_eq!(stored.raw_status, "IGLOBAL_ORDER_CANCELLED");
        assert_eq!(
            stored.genstore_order_id,
            Some("7001".into()),
            "the link stays"
        );
        assert_eq!(
            drain(&*s.queue).await,
            vec![SyncJob::from(Job::PushCancellation {
                from: Channel::Zonos,
                to: Channel::Genstore,
                order_id: ids[0].as_str().into(),
                genstore_order_id: "7001".into()
            })]
        );
        let again = poll(&s).await;
        assert_eq!(
            again.channel("zonos").unwrap().changed,
            0,
            "a change is taken once"
        );
    }

    /// A refund made in Merchant Center and a return received, on a known order whose status the first
    /// leaves as it was: each is picked up and brought to the mirror.
    pub async fn a_refund_and_a_return_on_google_are_picked_up(aws: bool) {
        let s = setup(aws).await;
        let ids = add_google(&s.sandbox, 1);
        poll(&s).await;
        drain(&*s.queue).await;
        orderbridge::store::orders::link_to_genstore(
            &*s.store,
            &OrderKey::new(Channel::Google, ids[0].as_str()),
            &"6002".into(),
        )
        .await
        .unwrap();
        let reversals = || {
            vec![SyncJob::from(Job::RecordReversals {
                channel: Channel::Google,
                order_id: ids[0].as_str().into(),
                genstore_order_id: "6002".into(),
            })]
        };
        s.sandbox
            .lock()
            .google
            .orders
            .get_mut(&ids[0])
            .unwrap()
            .refund_on_google(rust_decimal::Decimal::new(200, 2), "priceAdjustment")
            .unwrap();
        let r = poll(&s).await;
        assert_eq!(r.channel("google").unwrap().changed, 1, "{r:?}");
        assert_eq!(drain(&*s.queue).await, reversals());
        {
            let mut st = s.sandbox.lock();
            let o = st.google.orders.get_mut(&ids[0]).unwrap();
            let line = o.order.line_items[0].id.clone();
            o.order.line_items[0].quantity_shipped = 1;
            o.ask_return(&line, 1).unwrap();
            o.receive_return(&line, 1).unwrap();
        }
        let r = poll(&s).await;
        assert_eq!(r.channel("google").unwrap().changed, 1, "{r:?}");
        let jobs = drain(&*s.queue).await;
        assert!(jobs.contains(&reversals()[0]), "{jobs:?}");
        let again = poll(&s).await;
        assert_eq!(again.channel("google").unwrap().changed, 0, "taken once");
    }

    pub async fn a_customer_cancellation_on_google_is_picked_up_and_pushed(aws: bool) {
        let s = setup(aws).await;
        let ids = add_google(&s.sandbox, 2);
        poll(&s).await;
        drain(&*s.queue).await;
        orderbridge::store::orders::link_to_genstore(
            &*s.store,
            &OrderKey::new(Channel::Google, ids[1].as_str()),
            &"6001".into(),
        )
        .await
        .unwrap();
        {
            let mut st = s.sandbox.lock();
            let o = &mut st.google.orders.get_mut(&ids[1]).unwrap().order;
            o.status = "canceled".into();
            for l in &mut o.line_items {
                l.quantity_canceled = l.quantity_ordered;
                l.cancellations
                    .push(orderbridge_sandbox::google_model::Cancellation {
                        actor: "customer".into(),
                        creation_date: chrono::Utc::now().to_rfc3339(),
                        quantity: l.quantity_ordered,
                        reason: "customerInitiatedCancel".into(),
                        reason_text: String::new(),
                    });
            }
        }
        let r = poll(&s).await;
        let g = r.channel("google").unwrap();
        assert_eq!((g.new, g.changed), (0, 1), "{g:?}");
        let stored = s
            .store
            .get(&OrderKey::new(Channel::Google, ids[1].as_str()))
            .await
            .unwrap()
            .unwrap()
            .order;
        assert_eq!(stored.status, orderbridge::UnifiedStatus::Cancelled);
        assert_eq!(
            stored.genstore_order_id,
            Some("6001".into()),
            "the link stays"
        );
        assert_eq!(
            drain(&*s.queue).await,
            vec![SyncJob::from(Job::PushCancellation {
                from: Channel::Google,
                to: Channel::Genstore,
                order_id: ids[1].as_str().into(),
                genstore_order_id: "6001".into()
            })]
        );
    }
}

mod parking_cases {
    use super::*;

    fn imports(jobs: &[SyncJob]) -> Vec<(Channel, String, bool)> {
        jobs.iter()
            .filter_map(|j| match &j.job {
                Job::ImportOrder {
                    channel,
                    order_id,
                    listing,
                } => Some((*channel, order_id.to_string(), listing.is_some())),
                _ => None,
            })
            .collect()
    }

    fn zonos_index(s: &Setup, id: &str) -> usize {
        s.sandbox.lock().zonos.find(999, id).unwrap()
    }

    pub async fn a_zonos_order_that_cannot_be_read_is_parked_and_the_cursor_moves_on(aws: bool) {
        let s = setup(aws).await;
        let ids = add_zonos(&s.sandbox, 4);
        {
            let (garbled, unmappable) = (zonos_index(&s, &ids[1]), zonos_index(&s, &ids[3]));
            let mut st = s.sandbox.lock();
            // Garbage from Zonos for one order, while the orders after it read fine.
            st.zonos.orders[garbled].garbled = true;
            // And one whose detail can never map (an item without its quantity), last in the listing.
            st.zonos.orders[unmappable].order["items"][0]
                .as_object_mut()
                .unwrap()
                .remove("quantity");
        }
        let r = poll(&s).await;
        let z = r.channel("zonos").unwrap();
        assert_eq!((z.new, z.parked, z.failed), (2, 2, 0), "{z:?}");
        assert_eq!(z.cursor_after.as_deref(), Some(ids[3].as_str()), "{z:?}");
        assert!(z.error.is_none(), "{z:?}");
        let jobs = drain(&*s.queue).await;
        assert_eq!(
            imports(&jobs),
            vec![
                (Channel::Zonos, ids[1].clone(), true),
                (Channel::Zonos, ids[3].clone(), true)
            ]
        );
        let m = mirrors(&jobs);
        assert_eq!(m.get(&format!("zonos:{}", ids[0])), Some(&1));
        assert_eq!(m.get(&format!("zonos:{}", ids[2])), Some(&1));
        assert!(!stored(&s, Channel::Zonos, &ids[1]).await);

        // The next run starts after them: nothing is parked or imported twice.
        let again = poll(&s).await;
        let z2 = again.channel("zonos").unwrap();
        assert_eq!((z2.new, z2.parked, z2.failed), (0, 0, 0), "{z2:?}");
        assert!(imports(&drain(&*s.queue).await).is_empty());
    }

    pub async fn an_order_failing_alone_holds_the_cursor_a_few_runs_then_is_parked(aws: bool) {
        let s = setup(aws).await;
        let ids = add_zonos(&s.sandbox, 2);
        let last = zonos_index(&s, &ids[1]);
        s.sandbox.lock().zonos.orders[last].garbled = true;
        // Nothing after it succeeds: it may be Zonos' passing trouble, so the cursor waits for it...
        for run in 1..=3 {
            let r = poll(&s).await;
            let z = r.channel("zonos").unwrap();
            assert_eq!((z.failed, z.parked), (1, 0), "run {run}: {z:?}");
            assert_eq!(z.cursor_after.as_deref(), Some(ids[0].as_str()));
        }
        // ...for `park_after_runs` runs; then it is parked and the cursor moves past it.
        let r = poll(&s).await;
        let z = r.channel("zonos").unwrap();
        assert_eq!((z.failed, z.parked), (0, 1), "{z:?}");
        assert_eq!(z.cursor_after.as_deref(), Some(ids[1].as_str()));
        let parked = imports(&drain(&*s.queue).await);
        assert_eq!(parked, vec![(Channel::Zonos, ids[1].clone(), true)]);
    }

    pub async fn reconciliation_queues_a_missed_push_once_not_on_every_overlap(aws: bool) {
        let s = setup(aws).await;
        let ids = add_zonos(&s.sandbox, 1);
        poll(&s).await;
        drain(&*s.queue).await;
        // The mirror is created and shipped in Genstore, and every webhook about it is lost.
        let gid = add_mirror(&s.sandbox, "zonos", &ids[0]);
        ship_all(&s.sandbox, &gid);
        let r = poll(&s).await;
        let g = r.channel("genstore").unwrap();
        assert_eq!(
            (g.missed, g.jobs),
            (1, 2),
            "link written back, tracking pushed: {g:?}"
        );
        let pushes = |jobs: &[SyncJob]| {
            jobs.iter()
                .filter(|j| j.job.kind() == "push_tracking_to_channel")
                .count()
        };
        assert_eq!(pushes(&drain(&*s.queue).await), 1);
        // The overlap re-reads it on every run; its jobs are on the queue already. (Zonos' own sweep
        // keeps asking for the merchant id until the consumer writes it; no consumer runs here.)
        for _ in 0..2 {
            let again = poll(&s).await;
            let g = again.channel("genstore").unwrap();
            assert_eq!((g.unchanged, g.jobs), (1, 0), "{g:?}");
        }
        assert_eq!(pushes(&drain(&*s.queue).await), 0);
    }

    pub async fn a_late_change_to_an_order_older_than_the_window_is_found_by_the_recheck(
        aws: bool,
    ) {
        let s = setup(aws).await;
        let ids = add_zonos(&s.sandbox, 1);
        let gid = add_mirror(&s.sandbox, "zonos", &ids[0]);
        add_genstore(&s.sandbox, 6);
        poll(&s).await;
        let first = poll(&s).await;
        let g = first.channel("genstore").unwrap();
        let behind = |c: &Option<String>| {
            c.as_deref()
                .and_then(|c| c.parse::<u64>().ok())
                .is_some_and(|c| c > gid.parse::<u64>().unwrap())
        };
        assert!(
            behind(&g.cursor_after),
            "the window moved past the mirror: {g:?}"
        );
        drain(&*s.queue).await;

        // A rotation position the table does not take (say, from another backend) is started over.
        let position = s.store.read("genstore-recheck").await.unwrap();
        assert!(s
            .store
            .advance(
                "genstore-recheck",
                position.as_ref().map(|p| p.value.as_str()),
                r#"{"status": 1, "token": "not-a-token"}"#,
            )
            .await
            .unwrap());

        // Days later the merchant ships it, and the webhooks are lost.
        ship_all(&s.sandbox, &gid);
        let r = poll(&s).await;
        let g = r.channel("genstore").unwrap();
        assert!(g.rechecked >= 1, "{g:?}");
        assert_eq!(g.missed, 1, "{g:?}");
        let push = SyncJob::from(Job::PushTrackingToChannel {
            channel: Channel::Zonos,
            order_id: ids[0].as_str().into(),
            genstore_order_id: gid.as_str().into(),
        });
        let queued = drain(&*s.queue).await;
        assert_eq!(
            queued.iter().filter(|j| **j == push).count(),
            1,
            "{queued:?}"
        );

        // Later laps read it again and queue nothing more.
        for _ in 0..2 {
            poll(&s).await;
        }
        assert!(!drain(&*s.queue).await.contains(&push));
    }

    pub async fn a_genstore_order_that_does_not_map_is_parked(aws: bool) {
        let s = setup(aws).await;
        add_genstore(&s.sandbox, 3);
        s.sandbox
            .lock()
            .genstore
            .orders
            .get_mut(&1002)
            .unwrap()
            .currency = None;
        let r = poll(&s).await;
        let g = r.channel("genstore").unwrap();
        assert_eq!(
            (g.seen, g.missed, g.parked, g.failed),
            (3, 2, 1, 0),
            "{g:?}"
        );
        assert!(stored(&s, Channel::Genstore, "1003").await);
        assert_eq!(
            imports(&drain(&*s.queue).await),
            vec![(Channel::Genstore, "1002".to_owned(), false)]
        );
    }

    /// Zonos promises no order for its listing: listed newest first, the cursor still ends on the
    /// newest id (not on the oldest, the last one listed), and a second run imports nothing again.
    /// Two shops, each fed by its own Zonos store that numbers orders the same way: one run polls both,
    /// each shop's orders, cursor and jobs its own, even under the same order ids.
    pub async fn two_shops_poll_into_their_own_parts_of_the_table(aws: bool) {
        use orderbridge::shop::ShopId;
        let s = setup(aws).await;
        let (other, other_base) = spawn(SandboxConfig::default()).await.unwrap();
        let eu: ShopId = "eu".parse().unwrap();
        let deps = two_shops(&s, &other_base);
        let ours = add_zonos(&s.sandbox, 2);
        let theirs = add_zonos(&other, 3);
        assert_eq!(ours[0], theirs[0], "the same id in both stores");
        let r = order_poller::run(&deps, PollRequest::default(), &Forever).await;
        let zonos = |shop: &str| {
            r.channels
                .iter()
                .find(|c| c.channel == "zonos" && c.shop.as_deref() == Some(shop))
                .unwrap_or_else(|| panic!("{r:?}"))
                .new
        };
        assert_eq!((zonos("default"), zonos("eu")), (2, 3));
        let eu_store = orderbridge::store::ShopStore::scoped(s.store.clone(), &eu);
        let placed = |sb: &Sandbox, id: &str| {
            let st = sb.lock();
            st.zonos.orders[st.zonos.find(999, id).unwrap()].placed_at
        };
        let key = OrderKey::new(Channel::Zonos, ours[0].as_str());
        let a = s.store.get(&key).await.unwrap().unwrap().order;
        let b = eu_store.get(&key).await.unwrap().unwrap().order;
        assert_eq!(a.placed_at, placed(&s.sandbox, &ours[0]));
        assert_eq!(b.placed_at, placed(&other, &theirs[0]));
        let only_theirs = OrderKey::new(Channel::Zonos, theirs[2].as_str());
        assert!(s.store.get(&only_theirs).await.unwrap().is_none());
        assert!(eu_store.get(&only_theirs).await.unwrap().is_some());
        assert_eq!(s.store.read("zonos").await.unwrap().unwrap().value, ours[1]);
        assert_eq!(
            eu_store.read("zonos").await.unwrap().unwrap().value,
            theirs[2]
        );
        let jobs = drain(&*s.queue).await;
        let mirrors = |shop: &ShopId| {
            jobs.iter()
                .filter(|j| &j.shop == shop && j.job.kind() == "mirror_order")
                .count()
        };
        assert_eq!((mirrors(&ShopId::default_shop()), mirrors(&eu)), (2, 3));
    }

    /// A one-shop deployment upgraded to several shops, its shop listed as `default`: what it stored
    /// is still its shop's (nothing imported again, the cursor goes on from where it was), and a new
    /// shop starts from nothing beside it.
    pub async fn a_one_shop_deployment_upgrades_to_several_shops_losing_nothing(aws: bool) {
        let s = setup(aws).await;
        let before = add_zonos(&s.sandbox, 3);
        let r = poll(&s).await;
        assert_eq!(r.channel("zonos").unwrap().new, 3);
        drain(&*s.queue).await;
        let (other, other_base) = spawn(SandboxConfig::default()).await.unwrap();
        let upgraded = two_shops(&s, &other_base);
        let after = add_zonos(&s.sandbox, 1);
        add_zonos(&other, 2);
        let r = order_poller::run(&upgraded, PollRequest::default(), &Forever).await;
        let new = |shop: &str| {
            r.channels
                .iter()
                .find(|c| c.channel == "zonos" && c.shop.as_deref() == Some(shop))
                .unwrap()
                .new
        };
        assert_eq!((new("default"), new("eu")), (1, 2), "{r:?}");
        for id in before.iter().chain(&after) {
            assert!(stored(&s, Channel::Zonos, id).await, "{id}");
        }
        assert_eq!(
            s.store.read("zonos").await.unwrap().unwrap().value,
            after[0],
            "the one-shop cursor went on"
        );
        let jobs = drain(&*s.queue).await;
        let default_mirrors: Vec<&SyncJob> = jobs
            .iter()
            .filter(|j| j.shop.is_default() && j.job.kind() == "mirror_order")
            .collect();
        assert_eq!(default_mirrors.len(), 1, "only the new order: {jobs:?}");
    }

    /// Zonos answering only what the documents promise (no id, dates, currency or email in
    /// `orderDetail`): every order is imported with the listing's dates and the store's currency, and a
    /// status change is picked up all the same.
    pub async fn bare_zonos_answers_import_and_a_status_change_is_picked_up(aws: bool) {
        let s = setup(aws).await;
        s.sandbox.lock().zonos.bare = true;
        let ids = add_zonos(&s.sandbox, 3);
        let r = poll(&s).await;
        let z = r.channel("zonos").unwrap();
        assert_eq!((z.new, z.failed, z.error.as_deref()), (3, 0, None), "{z:?}");
        let idx = s.sandbox.lock().zonos.find(999, &ids[0]).unwrap();
        let placed = s.sandbox.lock().zonos.orders[idx].placed_at;
        let order = s
            .store
            .get(&OrderKey::new(Channel::Zonos, ids[0].as_str()))
            .await
            .unwrap()
            .unwrap()
            .order;
        assert_eq!(order.order_id.as_str(), ids[0], "the id asked for");
        assert_eq!(
            order.totals.currency.as_str(),
            "USD",
            "the store's currency"
        );
        assert_eq!(order.placed_at, placed, "the listing's timestamp");
        assert!(order
            .customer
            .as_ref()
            .is_none_or(|c| c.expose().email.is_none()));
        s.sandbox
            .lock()
            .zonos
            .set_status(idx, "IGLOBAL_ORDER_CANCELLED");
        let r = poll(&s).await;
        assert_eq!(r.channel("zonos").unwrap().changed, 1, "{r:?}");
        let order = s
            .store
            .get(&OrderKey::new(Channel::Zonos, ids[0].as_str()))
            .await
            .unwrap()
            .unwrap()
            .order;
        assert_eq!(order.status, orderbridge::UnifiedStatus::Cancelled);
    }

    pub async fn the_zonos_cursor_follows_the_ids_whatever_the_listing_order(aws: bool) {
        let s = setup(aws).await;
        s.sandbox.lock().zonos.list_newest_first = true;
        let ids: Vec<String> = (0..4)
            .map(|_| s.sandbox.lock().zonos.create(999, &zonos_order(false)))
            .collect();
        let r = poll(&s).await;
        let z = r.channel("zonos").unwrap();
        assert_eq!((z.new, z.error.as_deref()), (4, None), "{z:?}");
        let newest = ids.iter().max_by_key(|id| (id.len(), id.as_str())).unwrap();
        assert_eq!(z.cursor_after.as_deref(), Some(newest.as_str()));
        let again = poll(&s).await;
        let z = again.channel("zonos").unwrap();
        assert_eq!((z.seen, z.new), (0, 0), "{z:?}");
    }

    /// The cursor's order gone from Zonos ("Couldn't find order for sinceOrderId") does not stall the
    /// poll for good: the orders since the cursor last moved are listed by date, and those after the
    /// cursor imported.
    pub async fn a_zonos_cursor_whose_order_vanished_falls_back_to_a_date(aws: bool) {
        let s = setup(aws).await;
        let first: Vec<String> = (0..2)
            .map(|_| s.sandbox.lock().zonos.create(999, &zonos_order(false)))
            .collect();
        poll(&s).await;
        assert_eq!(
            s.store
                .read("zonos")
                .await
                .unwrap()
                .map(|c| c.value)
                .as_deref(),
            Some(first[1].as_str())
        );
        {
            let mut sb = s.sandbox.lock();
            let at = sb.zonos.find(999, &first[1]).unwrap();
            sb.zonos.orders.remove(at);
        }
        let later: Vec<String> = (0..2)
            .map(|_| s.sandbox.lock().zonos.create(999, &zonos_order(false)))
            .collect();
        let r = poll(&s).await;
        let z = r.channel("zonos").unwrap();
        assert_eq!((z.new, z.error.as_deref()), (2, None), "{z:?}");
        assert_eq!(z.cursor_after.as_deref(), Some(later[1].as_str()));
        for id in &later {
            assert!(stored(&s, Channel::Zonos, id).await);
        }
    }

    /// A write the table refuses for good (on DynamoDB, an order over the 400 KB item limit) would hold
    /// the reconciliation's cursor on that order forever: the order is parked instead (its import job
    /// ends in the DLQ for a look) and the orders after it are stored. The embedded table has no such
    /// limit and stores it.
    pub async fn a_genstore_order_the_table_refuses_for_good_is_parked(aws: bool) {
        let s = setup(aws).await;
        add_genstore(&s.sandbox, 3);
        {
            let mut sb = s.sandbox.lock();
            let o = sb.genstore.orders.get_mut(&1002).unwrap();
            let line = o.line_items[0].clone();
            o.line_items = (0..3000)
                .map(|i| gw::LineItem {
                    id: format!("{}-{i}", line.id),
                    ..line.clone()
                })
                .collect();
        }
        let r = poll(&s).await;
        let g = r.channel("genstore").unwrap();
        assert!(stored(&s, Channel::Genstore, "1003").await, "{g:?}");
        assert_eq!(g.failed, 0, "{g:?}");
        if aws {
            assert_eq!((g.seen, g.missed, g.parked), (3, 2, 1), "{g:?}");
            assert!(!stored(&s, Channel::Genstore, "1002").await);
            assert_eq!(
                imports(&drain(&*s.queue).await),
                vec![(Channel::Genstore, "1002".to_owned(), false)]
            );
        } else {
            assert_eq!((g.seen, g.missed, g.parked), (3, 3, 0), "{g:?}");
        }
    }
}

macro_rules! suite {
    ($name:ident, $aws:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn a_run_stopped_at_the_deadline_and_resumed_ends_the_same() {
                cases::a_run_stopped_at_the_deadline_and_resumed_ends_the_same($aws).await
            }
            #[tokio::test]
            async fn a_killed_run_run_again_misses_nothing() {
                cases::a_killed_run_run_again_misses_nothing($aws).await
            }
            #[tokio::test]
            async fn throttling_and_server_errors_are_survived() {
                cases::throttling_and_server_errors_are_survived($aws).await
            }
            #[tokio::test]
            async fn a_zonos_error_answer_is_reported_and_the_cursor_holds() {
                cases::a_zonos_error_answer_is_reported_and_the_cursor_holds($aws).await
            }
            #[tokio::test]
            async fn a_google_order_is_acknowledged_only_once_stored() {
                cases::a_google_order_is_acknowledged_only_once_stored($aws).await
            }
            #[tokio::test]
            async fn genstore_orders_whose_webhooks_never_came_are_found() {
                cases::genstore_orders_whose_webhooks_never_came_are_found($aws).await
            }
            #[tokio::test]
            async fn a_second_run_cannot_work_a_leased_channel() {
                cases::a_second_run_cannot_work_a_leased_channel($aws).await
            }
            #[tokio::test]
            async fn the_sweep_rewrites_merchant_ids_zonos_still_lacks() {
                more_cases::the_sweep_rewrites_merchant_ids_zonos_still_lacks($aws).await
            }
            #[tokio::test]
            async fn a_zonos_status_change_of_a_known_order_is_picked_up_and_pushed() {
                more_cases::a_zonos_status_change_of_a_known_order_is_picked_up_and_pushed($aws)
                    .await
            }
            #[tokio::test]
            async fn a_refund_and_a_return_on_google_are_picked_up() {
                more_cases::a_refund_and_a_return_on_google_are_picked_up($aws).await
            }
            #[tokio::test]
            async fn a_customer_cancellation_on_google_is_picked_up_and_pushed() {
                more_cases::a_customer_cancellation_on_google_is_picked_up_and_pushed($aws).await
            }
            #[tokio::test]
            async fn a_zonos_order_that_cannot_be_read_is_parked_and_the_cursor_moves_on() {
                parking_cases::a_zonos_order_that_cannot_be_read_is_parked_and_the_cursor_moves_on(
                    $aws,
                )
                .await
            }
            #[tokio::test]
            async fn an_order_failing_alone_holds_the_cursor_a_few_runs_then_is_parked() {
                parking_cases::an_order_failing_alone_holds_the_cursor_a_few_runs_then_is_parked(
                    $aws,
                )
                .await
            }
            #[tokio::test]
            async fn reconciliation_queues_a_missed_push_once_not_on_every_overlap() {
                parking_cases::reconciliation_queues_a_missed_push_once_not_on_every_overlap($aws)
                    .await
            }
            #[tokio::test]
            async fn a_late_change_to_an_order_older_than_the_window_is_found_by_the_recheck() {
                parking_cases::a_late_change_to_an_order_older_than_the_window_is_found_by_the_recheck(
                    $aws,
                )
                .await
            }
            #[tokio::test]
            async fn a_genstore_order_that_does_not_map_is_parked() {
                parking_cases::a_genstore_order_that_does_not_map_is_parked($aws).await
            }
            #[tokio::test]
            async fn a_vanished_zonos_cursor_past_every_order_holds_without_error() {
                cases::a_vanished_zonos_cursor_past_every_order_holds_without_error($aws).await
            }
            #[tokio::test]
            async fn a_one_shop_deployment_upgrades_to_several_shops_losing_nothing() {
                parking_cases::a_one_shop_deployment_upgrades_to_several_shops_losing_nothing($aws).await
            }
            #[tokio::test]
            async fn two_shops_poll_into_their_own_parts_of_the_table() {
                parking_cases::two_shops_poll_into_their_own_parts_of_the_table($aws).await
            }
            #[tokio::test]
            async fn bare_zonos_answers_import_and_a_status_change_is_picked_up() {
                parking_cases::bare_zonos_answers_import_and_a_status_change_is_picked_up($aws).await
            }
            #[tokio::test]
            async fn the_zonos_cursor_follows_the_ids_whatever_the_listing_order() {
                parking_cases::the_zonos_cursor_follows_the_ids_whatever_the_listing_order($aws).await
            }
            #[tokio::test]
            async fn a_zonos_cursor_whose_order_vanished_falls_back_to_a_date() {
                parking_cases::a_zonos_cursor_whose_order_vanished_falls_back_to_a_date($aws).await
            }
            #[tokio::test]
            async fn a_genstore_order_the_table_refuses_for_good_is_parked() {
                parking_cases::a_genstore_order_the_table_refuses_for_good_is_parked($aws).await
            }
            #[tokio::test]
            async fn a_stopped_backfill_resumes_where_it_stopped_on_every_channel() {
                more_cases::a_stopped_backfill_resumes_where_it_stopped_on_every_channel($aws).await
            }
            #[tokio::test]
            async fn only_a_channel_without_progress_past_the_configured_time_fails_the_run() {
                more_cases::only_a_channel_without_progress_past_the_configured_time_fails_the_run($aws).await
            }
            #[tokio::test]
            async fn a_backfill_imports_a_date_range_without_moving_the_cursor() {
                cases::a_backfill_imports_a_date_range_without_moving_the_cursor($aws).await
            }
        }
    };
}

suite!(embedded, false);
suite!(dynamodb_sqs, true);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_zonos_and_six_hundred_google_orders_import_exactly_once_on_moto() {
    cases::many_orders_over_several_pages_import_exactly_once(true, 600).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_zonos_and_six_hundred_google_orders_import_exactly_once_embedded() {
    cases::many_orders_over_several_pages_import_exactly_once(false, 600).await
}

/// A loopback server that answers every request with `answer` (a whole HTTP response), for platforms
/// that misbehave in ways the sandbox does not.
async fn misbehaving(answer: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

/// Google's listing loops on one page token and Genstore claims a 2 GiB answer; Zonos still
/// completes its poll in the same run, and the two others report a clear error.
#[tokio::test]
async fn a_hostile_platform_fails_its_own_poll_and_the_others_complete() {
    let mut s = setup(false).await;
    let zonos_ids = add_zonos(&s.sandbox, 3);
    let page = r#"{"resources": [], "nextPageToken": "again"}"#;
    let google_url = misbehaving(format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{page}",
        page.len()
    ))
    .await;
    let genstore_url = misbehaving(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2147483648\r\n\r\n{"
            .into(),
    )
    .await;
    let mut g = GoogleSettings::new(
        format!("{google_url}/content/v2.1"),
        "123456789".to_owned(),
        GoogleCredentials::AccessToken(Secret::new("t")),
    );
    g.http = http();
    s.deps.google = Some(GoogleClient::new(g).unwrap());
    let mut gs = GenstoreSettings::new(genstore_url, Secret::new("t"));
    gs.http = http();
    s.deps.genstore = Some(GenstoreClient::new(gs).unwrap());

    let run = poll(&s).await;
    let z = run.channel("zonos").unwrap();
    assert!(z.ok(), "{z:?}");
    assert_eq!(z.new, zonos_ids.len());
    let google = run.channel("google").unwrap();
    let error = google.error.clone().unwrap_or_default();
    assert!(error.contains("loops"), "{google:?}");
    let genstore = run.channel("genstore").unwrap();
    let error = genstore.error.clone().unwrap_or_default();
    assert!(error.contains("larger than"), "{genstore:?}");
}

/// An order cancelled on its channel before orderbridge mirrored it is stored, and not mirrored.
#[tokio::test]
async fn an_order_cancelled_before_it_is_mirrored_is_not_mirrored() {
    let s = setup(false).await;
    let live = s.sandbox.lock().zonos.create(999, &zonos_order(false));
    let cancelled = s.sandbox.lock().zonos.create(
        999,
        &NewZonosOrder {
            status: Some("IGLOBAL_ORDER_CANCELLED".into()),
            ..zonos_order(false)
        },
    );
    let r = poll(&s).await;
    assert!(r.ok(), "{r:?}");
    assert!(stored(&s, Channel::Zonos, &cancelled).await);
    let m = mirrors(&drain(&*s.queue).await);
    assert_eq!(m.get(&format!("zonos:{live}")), Some(&1));
    assert_eq!(m.get(&format!("zonos:{cancelled}")), None, "{m:?}");
}
