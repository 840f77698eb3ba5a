//! fulfillment-push against the platform sandbox, on moto (DynamoDB; `scripts/test` starts it) and on
//! the embedded SQLite twin: each job's effect, each write executed once however often the job arrives.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use fulfillment_push::{handle_batch, handle_record, Deps, Outcome, Record, Tuning};
use orderbridge::caller::Function;
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::{GenstoreClient, GenstoreSettings};
use orderbridge::channels::google::auth::GoogleCredentials;
use orderbridge::channels::google::client::{GoogleClient, GoogleSettings};
use orderbridge::channels::http::{HttpSettings, RateLimit};
use orderbridge::channels::zonos::client::{ZonosClient, ZonosSettings};
use orderbridge::channels::zonos::wire::Credentials;
use orderbridge::channels::{genstore, google, zonos};
use orderbridge::clock::{Clock, SystemClock};
use orderbridge::config::Clients;
use orderbridge::idempotency::forget_failure;
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::secrets::Secret;
use orderbridge::store::orders;
use orderbridge::store::{AuditOutcome, OrderKey, Storage, SyncQueue};
use orderbridge_sandbox::genstore::LineQty;
use orderbridge_sandbox::zonos::{NewZonosItem, NewZonosOrder};
use orderbridge_sandbox::{spawn, Faults, Sandbox, SandboxConfig};
use std::sync::Arc;
use std::time::Duration;

struct Setup {
    sandbox: Sandbox,
    /// What the function is given.
    deps: Deps,
    /// The test's own view of the same table and queue, for set-up and checks: on moto, clients that
    /// do not send as fulfillment-push, so the role test counts only the function's own requests.
    store: Arc<dyn Storage>,
    queue: Arc<dyn SyncQueue>,
    /// The dead-letter queue: as the function sees it (for the tests that give it one), and as the
    /// test does.
    dead_letters: (Arc<dyn SyncQueue>, Arc<dyn SyncQueue>),
    base: String,
}

/// A table and queue as the function sees them, and as the test does.
type Backends = (Arc<dyn Storage>, Arc<dyn SyncQueue>);

fn http(timeout_ms: u64) -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_millis(timeout_ms),
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..HttpSettings::with_rate(RateLimit::new(2000, 2000))
    }
}

/// A fresh order table and sync queue, for the function and for the test: on moto, or in a new SQLite
/// file.
async fn stores(aws: bool) -> (Backends, Backends, (Arc<dyn SyncQueue>, Arc<dyn SyncQueue>)) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if aws {
        use orderbridge::store::dynamo::AwsBackends;
        assert!(
            std::env::var("AWS_ENDPOINT_URL").is_ok(),
            "run scripts/test, which starts moto"
        );
        let name = format!("push-{}", uuid::Uuid::new_v4().simple());
        let (aws, p) = AwsBackends::provisioned(Some(Function::FulfillmentPush), &name, &name)
            .await
            .unwrap();
        let watch = AwsBackends::connect(None, p.table.clone()).await;
        (
            (aws.store.clone(), Arc::new(aws.queue(p.queue_url.clone()))),
            (watch.store.clone(), Arc::new(watch.queue(p.queue_url))),
            (
                Arc::new(aws.queue(p.dlq_url.clone())),
                Arc::new(watch.queue(p.dlq_url)),
            ),
        )
    } else {
        use orderbridge::store::embedded::{Db, EmbeddedQueue, EmbeddedStore};
        let dir = std::env::temp_dir().join(format!("push-{}", uuid::Uuid::new_v4()));
        let db = Db::open(dir.join("db.sqlite3")).unwrap();
        let both: Backends = (
            Arc::new(EmbeddedStore::new(db.clone(), clock.clone())),
            Arc::new(EmbeddedQueue::new(db.clone(), "sync", None, clock.clone())),
        );
        let dlq: Arc<dyn SyncQueue> = Arc::new(EmbeddedQueue::new(db, "sync-dlq", None, clock));
        (both.clone(), both, (dlq.clone(), dlq))
    }
}

async fn setup(aws: bool) -> Setup {
    setup_with(aws, 5000).await
}

async fn setup_with(aws: bool, timeout_ms: u64) -> Setup {
    let (sandbox, base) = spawn(SandboxConfig::default()).await.unwrap();
    let c = SandboxConfig::default();
    let ((store, queue), watch, dead_letters) = stores(aws).await;
    let mut z = ZonosSettings::new(
        format!("{base}/zonos"),
        Credentials {
            store: c.zonos_store,
            secret: Secret::new(c.zonos_secret.clone()),
        },
    );
    z.http = http(timeout_ms);
    let mut g = GoogleSettings::new(
        format!("{base}/google/content/v2.1"),
        c.google_merchant_id.clone(),
        GoogleCredentials::AccessToken(Secret::new(c.google_token.clone())),
    );
    g.http = http(timeout_ms);
    let mut s = GenstoreSettings::new(
        format!("{base}/genstore"),
        Secret::new(c.genstore_token.clone()),
    );
    s.http = HttpSettings {
        rate: RateLimit::new(2000, 2000),
        ..http(timeout_ms)
    };
    let clients = Clients {
        genstore: Some(GenstoreClient::new(s).unwrap()),
        zonos: Some(ZonosClient::new(z).unwrap()),
        google: Some(GoogleClient::new(g).unwrap()),
    };
    let deps = Deps::build(
        store,
        queue,
        clients,
        Default::default(),
        None,
        Tuning::default(),
    );
    Setup {
        sandbox,
        deps,
        store: watch.0,
        queue: watch.1,
        dead_letters,
        base,
    }
}

fn record(id: &str, job: Job) -> Record {
    Record::new(id, SyncJob::from(job).to_body())
}

/// A Google order as Google now shows it (through the client, as orderbridge reads it).
async fn google_view(s: &Setup, id: &str) -> orderbridge::channels::google::wire::Order {
    google_client(s).get_order(id).await.unwrap().unwrap()
}

/// The order's audit trail.
async fn trail_of(s: &Setup, channel: Channel, id: &str) -> Vec<orderbridge::store::AuditEntry> {
    s.store.entries(&OrderKey::new(channel, id)).await.unwrap()
}

/// Why each `action` on the order's trail was skipped.
async fn skipped(s: &Setup, channel: Channel, id: &str, action: &str) -> Vec<String> {
    let trail = trail_of(s, channel, id).await.into_iter();
    trail
        .filter(|e| e.action == action)
        .map(|e| match e.outcome {
            AuditOutcome::Skipped { reason } => reason,
            other => panic!("{action} was not skipped: {other:?}"),
        })
        .collect()
}

/// How many times the order's trail says `action` was executed.
async fn executed_on_trail(s: &Setup, channel: Channel, id: &str, action: &str) -> usize {
    let trail = trail_of(s, channel, id).await.into_iter();
    trail
        .filter(|e| e.action == action && e.outcome == AuditOutcome::Executed)
        .count()
}

/// The push's Google client.
fn google_client(s: &Setup) -> &orderbridge::channels::google::client::GoogleClient {
    s.deps.google.as_ref().expect("Google is configured")
}

/// The push's Zonos client.
fn zonos_client(s: &Setup) -> &orderbridge::channels::zonos::client::ZonosClient {
    s.deps.zonos.as_ref().expect("Zonos is configured")
}

/// A Zonos order as the client reads it from the sandbox.
async fn zonos_detail(s: &Setup, id: &str) -> orderbridge::channels::zonos::wire::Order {
    zonos_client(s).order_detail(id).await.unwrap()
}

/// Reads a Zonos order from the sandbox and saves it, newer wins (no jobs).
async fn store_zonos(s: &Setup, id: &str) {
    let detail = zonos_detail(s, id).await;
    orders::save_newer(&*s.store, zonos::to_channel_order(&detail, None).unwrap())
        .await
        .unwrap();
}

/// Creates a Zonos order in the sandbox and stores it as the poller would.
async fn zonos_order(s: &Setup, qty: u32) -> String {
    let id = s.sandbox.lock().zonos.create(
        999,
        &NewZonosOrder {
            shipping_carrier_service_level: Some("UPS_EXPEDITED".into()),
            ..NewZonosOrder::of(NewZonosItem {
                product_id: Some("p-mug".into()),
                ..NewZonosItem::mug("SKU-MUG", qty, rust_decimal::Decimal::new(1000, 2))
            })
        },
    );
    store_zonos(s, &id).await;
    id
}

/// Hands `job` to the function twice, as a redelivery would: neither run hands it back.
async fn twice(s: &Setup, job: Record) {
    for _ in 0..2 {
        let back = handle_batch(&s.deps, vec![job.clone()]).await;
        assert!(back.is_empty(), "{back:?}");
    }
}

/// The Genstore order `id` as the sandbox holds it now.
fn genstore_order(s: &Setup, id: &str) -> orderbridge_sandbox::genstore::model::Order {
    s.sandbox
        .lock()
        .genstore
        .order(id)
        .cloned()
        .expect("on the sandbox")
}

/// Creates a Google order (template1a widened to three mugs), ready to ship, stored as the poller would.
async fn google_order(s: &Setup) -> String {
    let id = both_ways::google_sandbox_order(s, "template1a", |o| {
        o.line_items[0].quantity_ordered = 3;
        o.line_items[0].quantity_pending = 3;
        // The line's price is its total (2 × $10 = $20): three units cost three times the one.
        let unit = o.line_items[0].product.price.value;
        o.line_items[0].price.value = unit * rust_decimal::Decimal::from(3);
        o.net_price_amount.value = o.line_items.iter().map(|l| l.price.value).sum();
    });
    let o = google_view(s, &id).await;
    orders::save_newer(&*s.store, google::to_channel_order(&o).unwrap())
        .await
        .unwrap();
    id
}

/// Stores Genstore's current state of an order, as its webhook would.
async fn sync_genstore(s: &Setup, id: &str) -> orderbridge::order::ChannelOrder {
    let o = s
        .deps
        .genstore
        .as_ref()
        .unwrap()
        .get_order(id)
        .await
        .unwrap()
        .unwrap();
    let domain = genstore::to_channel_order(&o).unwrap();
    orderbridge::sync::apply_genstore_order(&*s.store, domain.clone())
        .await
        .unwrap();
    s.store
        .get(&OrderKey::new(Channel::Genstore, id))
        .await
        .unwrap()
        .unwrap()
        .order
}

async fn stored(s: &Setup, channel: Channel, id: &str) -> orderbridge::order::ChannelOrder {
    s.store
        .get(&OrderKey::new(channel, id))
        .await
        .unwrap()
        .unwrap()
        .order
}

/// Makes `channel` answer every call `ms` late (its other faults off).
fn answer_after(s: &Setup, channel: Channel, ms: u64) {
    s.sandbox.set_faults(
        channel,
        Faults {
            latency_ms: ms,
            ..Faults::default()
        },
    );
}

fn executed(s: &Setup, write: &str) -> u64 {
    s.sandbox.counters().executed_count(write)
}

async fn mirror(s: &Setup, channel: Channel, id: &str) -> String {
    let out = handle_record(
        &s.deps,
        &SyncJob::from(Job::MirrorOrder {
            channel,
            order_id: id.into(),
        })
        .to_body(),
    )
    .await;
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    stored(s, channel, id)
        .await
        .genstore_order_id
        .unwrap()
        .to_string()
}

/// Fulfills lines of a Genstore order in the sandbox, as the merchant would.
fn fulfill(s: &Setup, genstore_id: &str, qty: u32, number: &str, carrier: &str) {
    let line = genstore_order(s, genstore_id).line_items[0].id.clone();
    s.sandbox
        .lock()
        .genstore
        .create_fulfillment(
            genstore_id,
            Some(vec![LineQty {
                id: line,
                quantity: qty,
            }]),
            Some(orderbridge_sandbox::genstore::model::TrackingInfo {
                number: Some(number.into()),
                company: Some(carrier.into()),
                url: None,
            }),
            Some("inTransit".into()),
        )
        .unwrap();
}

#[path = "push/tracking.rs"]
mod tracking;

mod cases {
    pub use super::tracking::*;
    use super::*;

    pub async fn a_mirror_is_created_once_linked_and_written_back_even_if_delivered_three_times(
        aws: bool,
    ) {
        let s = setup(aws).await;
        let z = zonos_order(&s, 2).await;
        let g = google_order(&s).await;
        let batch = || {
            vec![
                record(
                    "m1",
                    Job::MirrorOrder {
                        channel: Channel::Zonos,
                        order_id: z.as_str().into(),
                    },
                ),
                record(
                    "m2",
                    Job::MirrorOrder {
                        channel: Channel::Google,
                        order_id: g.as_str().into(),
                    },
                ),
            ]
        };
        for _ in 0..3 {
            assert!(handle_batch(&s.deps, batch()).await.is_empty());
        }
        assert_eq!(
            executed(&s, "genstore.createOrder"),
            2,
            "one Genstore order per external order"
        );
        assert_eq!(executed(&s, "zonos.updateMerchantOrderId"), 1);
        assert_eq!(executed(&s, "google.updateMerchantOrderId"), 1);
        let zg = stored(&s, Channel::Zonos, &z)
            .await
            .genstore_order_id
            .unwrap();
        let mirror_order = genstore_order(&s, zg.as_str());
        assert_eq!(mirror_order.source_name.as_deref(), Some("zonos"));
        assert_eq!(mirror_order.source_identifier.as_deref(), Some(z.as_str()));
        assert_eq!(mirror_order.line_items[0].quantity, 2);
        let zonos_side = zonos_detail(&s, &z).await;
        assert_eq!(zonos_side.merchant_order_id.as_deref(), Some(zg.as_str()));
        assert_eq!(
            stored(&s, Channel::Zonos, &z)
                .await
                .merchant_order_id
                .unwrap()
                .as_str(),
            zg.as_str()
        );
        let gg = stored(&s, Channel::Google, &g)
            .await
            .genstore_order_id
            .unwrap();
        let google_side = s
            .deps
            .google
            .as_ref()
            .unwrap()
            .get_by_merchant_order_id(gg.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(google_side.id.as_deref(), Some(g.as_str()));
        let trail = trail_of(&s, Channel::Zonos, &z).await;
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["createOrder", "updateMerchantOrderId"],
            "each write audited once"
        );
    }

    pub async fn a_create_that_timed_out_after_genstore_applied_it_is_not_repeated(aws: bool) {
        let s = setup_with(aws, 400).await;
        let z = zonos_order(&s, 1).await;
        s.sandbox.set_faults(
            Channel::Genstore,
            Faults {
                slow_after_apply_rate: 1.0,
                hang_ms: 1500,
                writes_only: true,
                ..Faults::default()
            },
        );
        let job = SyncJob::from(Job::MirrorOrder {
            channel: Channel::Zonos,
            order_id: z.as_str().into(),
        })
        .to_body();
        let first = handle_record(&s.deps, &job).await;
        assert!(
            matches!(first, Outcome::Retry(_)),
            "the create timed out: {first:?}"
        );
        assert_eq!(
            executed(&s, "genstore.createOrder"),
            1,
            "yet Genstore applied it"
        );
        let marker = format!("mirror-attempt:zonos:{z}");
        assert!(
            s.store.read(&marker).await.unwrap().is_some(),
            "the attempt is marked, so the next one searches from there"
        );
        s.sandbox.set_faults(Channel::Genstore, Faults::default());
        let second = handle_record(&s.deps, &job).await;
        assert!(matches!(second, Outcome::Done(_)), "{second:?}");
        assert_eq!(
            executed(&s, "genstore.createOrder"),
            1,
            "found, not created again"
        );
        assert!(stored(&s, Channel::Zonos, &z)
            .await
            .genstore_order_id
            .is_some());
        assert_eq!(
            s.store.read(&marker).await.unwrap(),
            None,
            "once linked, the marker is gone"
        );
    }

    pub async fn a_malformed_record_fails_only_itself(aws: bool) {
        let s = setup(aws).await;
        let z = zonos_order(&s, 1).await;
        // The same job twice in one batch: one runs, the other finds it in progress and comes back later.
        let job = Job::MirrorOrder {
            channel: Channel::Zonos,
            order_id: z.as_str().into(),
        };
        let twice = vec![record("a", job.clone()), record("b", job)];
        assert_eq!(handle_batch(&s.deps, twice).await.len(), 1);
        let failed = handle_batch(
            &s.deps,
            vec![
                record(
                    "good",
                    Job::MirrorOrder {
                        channel: Channel::Zonos,
                        order_id: z.as_str().into(),
                    },
                ),
                Record::new("bad", "{\"v\": 1, \"kind\": \"launch\""),
                Record::new("old", "{\"v\": 9, \"kind\": \"mirror_order\"}"),
            ],
        )
        .await;
        let mut failed = failed;
        failed.sort();
        assert_eq!(failed, ["bad", "old"]);
        assert_eq!(executed(&s, "genstore.createOrder"), 1);
    }

    pub async fn a_permanent_error_is_audited_and_not_retried_against_the_platform(aws: bool) {
        let s = setup(aws).await;
        let g = google_order(&s).await;
        // Another Google order already holds this merchant order id: Google refuses the write (400).
        let other = google_order(&s).await;
        let c = s.deps.google.as_ref().unwrap();
        c.update_merchant_order_id(&other, "op-x", "5555")
            .await
            .unwrap();
        let job = SyncJob::from(Job::WriteMerchantOrderId {
            channel: Channel::Google,
            order_id: g.as_str().into(),
            genstore_order_id: "5555".into(),
        })
        .to_body();
        let first = handle_record(&s.deps, &job).await;
        assert!(matches!(first, Outcome::Permanent(_)), "{first:?}");
        let requests_after_first = s.sandbox.counters().requests.values().sum::<u64>();
        for _ in 0..3 {
            assert!(matches!(
                handle_record(&s.deps, &job).await,
                Outcome::Permanent(_)
            ));
        }
        assert_eq!(
            s.sandbox.counters().requests.values().sum::<u64>(),
            requests_after_first,
            "Google is not asked again"
        );
        let trail = trail_of(&s, Channel::Google, &g).await;
        assert!(
            matches!(
                trail[0].outcome,
                AuditOutcome::Failed {
                    retryable: false,
                    ..
                }
            ),
            "{trail:?}"
        );
        let failed = handle_batch(&s.deps, vec![Record::new("p", job.clone())]).await;
        assert_eq!(
            failed,
            ["p"],
            "reported, so the redrive moves it to the DLQ"
        );

        // The merchant frees the id; a replay from the DLQ forgets the failure and the write happens.
        c.update_merchant_order_id(&other, "op-y", "6666")
            .await
            .unwrap();
        assert!(forget_failure(&*s.store, &job).await.unwrap());
        assert!(
            !forget_failure(&*s.store, &job).await.unwrap(),
            "nothing left to forget"
        );
        let replayed = handle_record(&s.deps, &job).await;
        assert!(matches!(replayed, Outcome::Done(_)), "{replayed:?}");
        assert_eq!(
            s.sandbox
                .lock()
                .google
                .orders
                .get(g.as_str())
                .and_then(|o| o.order.merchant_order_id.clone())
                .as_deref(),
            Some("5555")
        );
        assert!(
            !forget_failure(&*s.store, &job).await.unwrap(),
            "a success is never forgotten"
        );
        assert!(matches!(
            handle_record(&s.deps, &job).await,
            Outcome::Done(ref what) if what.contains("done before")
        ));
    }

    /// The table is restored from a backup older than a mirror: the order is unlinked and the attempt
    /// marker gone. The mirror job finds the Genstore order it made instead of creating another.
    pub async fn a_mirror_after_a_table_restore_finds_its_order_instead_of_creating_it_again(
        aws: bool,
    ) {
        let mut s = setup(aws).await;
        let z = zonos_order(&s, 1).await;
        let zg = mirror(&s, Channel::Zonos, &z).await;
        assert_eq!(executed(&s, "genstore.createOrder"), 1);
        let unlinked = stored(&s, Channel::Zonos, &z).await;
        let ((store, queue), watch, _) = stores(aws).await;
        (s.deps.store, s.deps.queue) = (store, queue);
        (s.store, s.queue) = watch;
        orders::save_newer(
            &*s.store,
            orderbridge::order::ChannelOrder {
                genstore_order_id: None,
                ..unlinked
            },
        )
        .await
        .unwrap();
        assert_eq!(mirror(&s, Channel::Zonos, &z).await, zg);
        assert_eq!(executed(&s, "genstore.createOrder"), 1, "not created twice");
    }
}

#[path = "push/imports.rs"]
mod import_cases;

#[path = "push/both_ways.rs"]
mod both_ways;
#[path = "push/channel_changes.rs"]
mod channel_changes;
#[path = "push/shops.rs"]
mod shops;

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
                // A case run with one more argument, under its own name.
                ($module:ident :: $case:ident($arg:expr) as $test:ident) => {
                    #[tokio::test]
                    async fn $test() {
                        $module::$case($aws, $arg).await
                    }
                };
            }
            case!(cases::a_mirror_is_created_once_linked_and_written_back_even_if_delivered_three_times);
            case!(cases::a_create_that_timed_out_after_genstore_applied_it_is_not_repeated);
            case!(cases::a_malformed_record_fails_only_itself);
            case!(cases::google_ships_partially_then_fully_in_two_shipments_and_is_delivered);
            case!(cases::zonos_gets_every_tracking_number_and_a_blocked_vendor_status_is_skipped_and_recorded);
            case!(cases::a_permanent_error_is_audited_and_not_retried_against_the_platform);
            case!(import_cases::a_parked_import_is_read_saved_and_its_mirror_queued);
            case!(import_cases::an_import_that_can_never_succeed_fails_for_good);
            case!(import_cases::compliance_jobs_are_carried_out_on_every_linked_order);
            case!(cases::concurrent_tracking_jobs_create_each_fulfillment_once);
            case!(cases::a_mirror_after_a_table_restore_finds_its_order_instead_of_creating_it_again);
            case!(both_ways::google_packages_become_their_own_fulfillments_and_a_correction_follows);
            case!(both_ways::every_zonos_number_reaches_genstore_and_a_correction_follows);
            case!(both_ways::a_genstore_correction_reaches_google_and_a_cancelled_fulfillment_is_recorded);
            case!(both_ways::a_slow_push_does_not_undo_a_newer_correction(false)
                as a_slow_push_does_not_undo_a_newer_correction);
            case!(both_ways::a_slow_push_does_not_undo_a_newer_correction(true)
                as a_slow_push_does_not_undo_a_newer_correction_when_the_lease_lapsed);
            case!(both_ways::a_slow_inbound_push_does_not_undo_a_newer_correction(false)
                as a_slow_inbound_push_does_not_undo_a_newer_correction);
            case!(both_ways::a_slow_inbound_push_does_not_undo_a_newer_correction(true)
                as a_slow_inbound_push_does_not_undo_a_newer_correction_when_the_lease_lapsed);
            case!(both_ways::a_push_of_a_leased_order_waits_then_goes_back_to_the_queue);
            case!(both_ways::a_genstore_correction_and_cancellation_reach_zonos);
            case!(both_ways::a_blocked_vendor_status_waits_for_the_review_and_is_sent_once_released);
            case!(both_ways::a_release_saved_while_a_blocked_job_is_kept_still_sends_it);
            case!(both_ways::a_held_order_is_mirrored_held_and_follows_its_channel);
            case!(both_ways::an_order_released_before_its_mirror_is_released_by_the_mirror_job);
            case!(both_ways::line_cancellations_reach_the_other_side_with_their_reasons);
            case!(both_ways::refunds_carry_their_stated_amounts_and_a_refund_without_lines_refunds_the_order);
            case!(channel_changes::google_refunds_and_returns_reach_the_mirror_once);
            case!(channel_changes::a_google_order_not_yet_confirmed_is_held_and_its_fulfillment_waits);
            case!(shops::a_shops_job_uses_its_shops_table_part_and_platforms);
            case!(channel_changes::bare_zonos_answers_are_enough_to_mirror_push_and_reread);
            case!(channel_changes::a_mirrors_money_adds_up_to_the_channels_total);
            case!(cases::cancellations_refunds_and_channel_tracking_reach_the_other_side);
        }
    };
}

suite!(embedded, false);
suite!(dynamodb, true);

/// Near the Lambda deadline nothing starts, and what runs is cut off with the time left: both go back
/// to the queue at once instead of the invocation timing out with the whole batch.
#[tokio::test]
async fn near_the_deadline_nothing_starts_and_a_slow_job_is_cut_off() {
    use fulfillment_push::handle_batch_until;
    use std::time::Instant;
    let s = setup(false).await;
    let z = zonos_order(&s, 1).await;
    let job = record(
        "m",
        Job::MirrorOrder {
            channel: Channel::Zonos,
            order_id: z.as_str().into(),
        },
    );
    let before = s.sandbox.counters().requests.values().sum::<u64>();
    // 5 s left, 10 s needed to start: handed back untouched.
    let started = Instant::now();
    let failed = handle_batch_until(
        &s.deps,
        vec![job.clone()],
        Some(Instant::now() + Duration::from_secs(5)),
    )
    .await;
    assert_eq!(failed, vec!["m".to_owned()]);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        s.sandbox.counters().requests.values().sum::<u64>(),
        before,
        "no platform was called"
    );
    // 11 s left with Genstore taking 5 s an answer: cut off after about a second.
    answer_after(&s, Channel::Genstore, 5000);
    let started = Instant::now();
    let failed = handle_batch_until(
        &s.deps,
        vec![job],
        Some(Instant::now() + Duration::from_secs(11)),
    )
    .await;
    assert_eq!(failed, vec!["m".to_owned()]);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(executed(&s, "genstore.createOrder"), 0);
}

/// A mirror job for an order cancelled on its channel since the job was queued creates nothing.
#[tokio::test]
async fn a_mirror_job_for_an_order_cancelled_meanwhile_creates_nothing() {
    let s = setup(false).await;
    let z = zonos_order(&s, 1).await;
    orders::modify(&*s.store, &OrderKey::new(Channel::Zonos, z.as_str()), |o| {
        o.status = orderbridge::UnifiedStatus::Cancelled;
        true
    })
    .await
    .unwrap();
    let out = handle_record(
        &s.deps,
        &SyncJob::from(Job::MirrorOrder {
            channel: Channel::Zonos,
            order_id: z.as_str().into(),
        })
        .to_body(),
    )
    .await;
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    assert_eq!(executed(&s, "genstore.createOrder"), 0);
    assert!(stored(&s, Channel::Zonos, &z)
        .await
        .genstore_order_id
        .is_none());
}
