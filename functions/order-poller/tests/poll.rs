//! order-poller against the platform sandbox, on the DynamoDB/SQS adapters (moto, started by
//! `scripts/test`) and on the embedded SQLite twin.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

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
use orderbridge::store::{OrderKey, RecordName, Storage, SyncQueue};
use orderbridge_sandbox::genstore::model as gw;
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
    let settings = Settings {
        concurrency: 8,
        genstore_overlap: 3,
        ..Settings::default()
    };
    let deps = Deps::build(store, queue, clients, settings, Default::default());
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
        test_order,
        ..NewZonosOrder::of(NewZonosItem {
            product_id: Some("p1".into()),
            ..NewZonosItem::mug("SKU-1", 2, rust_decimal::Decimal::new(1000, 2))
        })
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
        .create_order(&paid_mug(source, external_id))
        .unwrap();
    o.order_id
}

/// A paid Genstore order of one mug from `source`.
fn paid_mug(source: &str, source_identifier: &str) -> gw::NewOrder {
    gw::NewOrder {
        source_name: source.into(),
        source_identifier: source_identifier.into(),
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
    }
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
        st.genstore
            .create_order(&paid_mug("web", &format!("w{i}")))
            .unwrap();
    }
}

fn add_google(sb: &Sandbox, n: usize) -> Vec<String> {
    let mut st = sb.lock();
    (0..n)
        .map(|_| {
            st.google
                .create_advanced_test_order("123456789", "template1", chrono::Utc::now())
                .unwrap()
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

/// One channel's part of a run's summary.
async fn polled(s: &Setup, channel: &str) -> order_poller::ChannelSummary {
    let run = poll(s).await;
    run.channel(channel).cloned().expect("the channel ran")
}

/// The order as the table holds it.
async fn order_of(s: &Setup, channel: Channel, id: &str) -> orderbridge::order::ChannelOrder {
    let key = OrderKey::new(channel, id);
    s.store.get(&key).await.unwrap().expect("stored").order
}

/// True when all the Google orders the sandbox has are acknowledged.
fn all_acknowledged(s: &Setup) -> bool {
    let st = s.sandbox.lock();
    st.google.orders.values().all(|o| o.order.acknowledged)
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
        assert!(all_acknowledged(&s));
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
        for ch in [Channel::Zonos, Channel::Google, Channel::Genstore] {
            s.store
                .release_lease(
                    &RecordName::PollLease(ch).to_string(),
                    &s.deps.settings.owner,
                )
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
        assert!(all_acknowledged(&s));
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
        assert!(all_acknowledged(&s));
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
        let z = polled(&s, "zonos").await;
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
        let g = polled(&s, "google").await;
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
        let g = polled(&s, "genstore").await;
        assert_eq!((g.seen, g.missed), (7, 7), "{g:?}");
        assert_eq!(
            g.cursor_after.as_deref(),
            Some("1004"),
            "the window trails the newest by the overlap"
        );
        assert!(stored(&s, Channel::Genstore, "1007").await);
        let g2 = polled(&s, "genstore").await;
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

#[path = "poll/changes.rs"]
mod more_cases;

#[path = "poll/parking.rs"]
mod parking_cases;

macro_rules! suite {
    ($name:ident, $aws:expr) => {
        mod $name {
            use super::*;
            macro_rules! case {
                ($module:ident :: $case:ident) => {
                    #[tokio::test]
                    async fn $case() {
                        $module::$case($aws).await
                    }
                };
            }
            case!(cases::a_run_stopped_at_the_deadline_and_resumed_ends_the_same);
            case!(cases::a_killed_run_run_again_misses_nothing);
            case!(cases::throttling_and_server_errors_are_survived);
            case!(cases::a_zonos_error_answer_is_reported_and_the_cursor_holds);
            case!(cases::a_google_order_is_acknowledged_only_once_stored);
            case!(cases::genstore_orders_whose_webhooks_never_came_are_found);
            case!(cases::a_second_run_cannot_work_a_leased_channel);
            case!(more_cases::the_sweep_rewrites_merchant_ids_zonos_still_lacks);
            case!(more_cases::a_zonos_status_change_of_a_known_order_is_picked_up_and_pushed);
            case!(more_cases::a_refund_and_a_return_on_google_are_picked_up);
            case!(more_cases::a_customer_cancellation_on_google_is_picked_up_and_pushed);
            case!(parking_cases::a_zonos_order_that_cannot_be_read_is_parked_and_the_cursor_moves_on);
            case!(parking_cases::an_order_failing_alone_holds_the_cursor_a_few_runs_then_is_parked);
            case!(parking_cases::reconciliation_queues_a_missed_push_once_not_on_every_overlap);
            case!(parking_cases::a_late_change_to_an_order_older_than_the_window_is_found_by_the_recheck);
            case!(parking_cases::a_genstore_order_that_does_not_map_is_parked);
            case!(cases::a_vanished_zonos_cursor_past_every_order_holds_without_error);
            case!(parking_cases::a_one_shop_deployment_upgrades_to_several_shops_losing_nothing);
            case!(parking_cases::two_shops_poll_into_their_own_parts_of_the_table);
            case!(parking_cases::bare_zonos_answers_import_and_a_status_change_is_picked_up);
            case!(parking_cases::the_zonos_cursor_follows_the_ids_whatever_the_listing_order);
            case!(parking_cases::a_zonos_cursor_whose_order_vanished_falls_back_to_a_date);
            case!(parking_cases::a_genstore_order_the_table_refuses_for_good_is_parked);
            case!(more_cases::a_stopped_backfill_resumes_where_it_stopped_on_every_channel);
            case!(more_cases::only_a_channel_without_progress_past_the_configured_time_fails_the_run);
            case!(cases::a_backfill_imports_a_date_range_without_moving_the_cursor);
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
