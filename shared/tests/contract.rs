//! One contract for the order table and the sync queue, run against both adapter pairs: DynamoDB + SQS on
//! moto (`AWS_ENDPOINT_URL`, started by `scripts/test`) and the embedded SQLite twin.
//!
//! Each case gets its own table and queues, so cases run in parallel.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use chrono::{Duration, TimeZone, Utc};
use orderbridge::channel::Channel;
use orderbridge::clock::{Clock, ManualClock};
use orderbridge::compliance::{self, Scope};
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::order::{ChannelOrder, Contact, LineItem, Quantities, Totals};
use orderbridge::personal::Personal;
use orderbridge::status::UnifiedStatus;
use orderbridge::store::orders::{self, Link, Saved};
use orderbridge::store::provision::QUEUE;
use orderbridge::store::{
    AuditEntry, AuditOutcome, BucketShape, Claim, Expected, IdempotencyError, IdempotencyRecord,
    IdempotencyTtl, Lease, OrderKey, PageRequest, RecordName, RecordState, Storage, StoreError,
    SyncQueue, Update, Upsert, WorkResult, REDACTED,
};
use rust_decimal::Decimal;
use std::sync::Arc;

struct Backend {
    store: Arc<dyn Storage>,
    queue: Arc<dyn SyncQueue>,
    dlq: Arc<dyn SyncQueue>,
    clock: ManualClock,
    /// SQS hides messages on its own clock: waiting there means sleeping.
    real_time_queue: bool,
    /// Requests the queue adapter actually sent, where the backend can count them.
    requests: Option<orderbridge::store::tally::Tally>,
    _dir: Option<tempdir::TempDir>,
}

impl Backend {
    async fn pass(&self, d: Duration) {
        self.clock.advance(d);
        if self.real_time_queue {
            tokio::time::sleep(d.to_std().unwrap_or_default()).await;
        }
    }

    /// What `queue` hands out within `tries` receives 200 ms apart (none: an empty batch).
    async fn received(
        &self,
        queue: &dyn SyncQueue,
        tries: usize,
    ) -> Vec<orderbridge::store::ReceivedMessage> {
        for _ in 1..tries {
            let batch = queue.receive(10, Duration::seconds(30)).await.unwrap();
            if !batch.is_empty() {
                return batch;
            }
            self.pass(Duration::milliseconds(200)).await;
        }
        queue.receive(10, Duration::seconds(30)).await.unwrap()
    }
}

mod tempdir {
    /// A directory removed on drop.
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new() -> Self {
            let p = std::env::temp_dir().join(format!("orderbridge-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn start_clock() -> ManualClock {
    ManualClock::at(Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap())
}

async fn embedded_backend() -> Backend {
    use orderbridge::store::embedded::{Db, DeadLetter, EmbeddedQueue, EmbeddedStore};
    let dir = tempdir::TempDir::new();
    let db = Db::open(dir.0.join("orderbridge.sqlite3")).unwrap();
    let clock = start_clock();
    let c: Arc<dyn orderbridge::clock::Clock> = Arc::new(clock.clone());
    let queue = EmbeddedQueue::new(
        db.clone(),
        "sync",
        Some(DeadLetter {
            queue: "sync-dlq".into(),
            max_receives: QUEUE.max_receive_count,
        }),
        c.clone(),
    );
    let dlq = EmbeddedQueue::new(db.clone(), "sync-dlq", None, c.clone());
    Backend {
        store: Arc::new(EmbeddedStore::new(db, c)),
        queue: Arc::new(queue),
        dlq: Arc::new(dlq),
        clock,
        real_time_queue: false,
        requests: None,
        _dir: Some(dir),
    }
}

async fn aws_backend() -> Backend {
    use orderbridge::store::dynamo::{sdk_config, DynamoStore};
    use orderbridge::store::provision;
    use orderbridge::store::sqs::SqsQueue;
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "the DynamoDB/SQS contract runs against moto: run scripts/test, which starts it and sets AWS_ENDPOINT_URL"
    );
    let conf = sdk_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let tally = orderbridge::store::tally::Tally::new();
    let sqs_conf = aws_sdk_sqs::config::Builder::from(&conf)
        .interceptor(tally.interceptor())
        .build();
    let sqs = aws_sdk_sqs::Client::from_conf(sqs_conf);
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let table = format!("orders-{suffix}");
    let p = provision::provision(&ddb, &sqs, &table, &format!("sync-{suffix}"))
        .await
        .unwrap();
    let clock = start_clock();
    let c: Arc<dyn orderbridge::clock::Clock> = Arc::new(clock.clone());
    tally.reset();
    Backend {
        store: Arc::new(DynamoStore::new(ddb, table, c)),
        queue: Arc::new(SqsQueue::new(sqs.clone(), p.queue_url)),
        dlq: Arc::new(SqsQueue::new(sqs, p.dlq_url)),
        clock,
        real_time_queue: true,
        requests: Some(tally),
        _dir: None,
    }
}

fn order(channel: Channel, id: &str, status: UnifiedStatus, updated_secs: i64) -> ChannelOrder {
    let at = Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap();
    ChannelOrder {
        channel,
        order_id: id.into(),
        genstore_order_id: None,
        merchant_order_id: None,
        source: None,
        customer_id: None,
        customer: Some(Personal::new(Contact {
            name: Some("Pat Doe".into()),
            email: Some("pat@example.com".into()),
            phone: None,
        })),
        shipping_address: None,
        billing_address: None,
        line_items: vec![LineItem {
            id: "1".into(),
            sku: Some("SKU-1".into()),
            product_id: None,
            title: "Mug".into(),
            quantities: Quantities {
                ordered: 2,
                ..Quantities::default()
            },
            unit_price: Decimal::new(1000, 2),
        }],
        totals: Totals::whole("USD".parse().unwrap(), Decimal::new(2000, 2)),
        raw_status: status.as_str().into(),
        status,
        shipments: vec![],
        refunds: vec![],
        test_order: false,
        tags: vec![],
        placed_at: at,
        updated_at: at + Duration::seconds(updated_secs),
        cancelled_at: None,
        cancel_reason: None,
        personal_data_erased: false,
    }
}

fn job(n: usize) -> SyncJob {
    SyncJob::from(Job::MirrorOrder {
        channel: Channel::Zonos,
        order_id: format!("999-{n}").into(),
    })
}

#[path = "contract/records.rs"]
mod records;

#[path = "contract/queue.rs"]
mod queue;

mod cases {
    pub use super::queue::*;
    pub use super::records::*;
    use super::*;

    pub async fn stale_update_loses_to_newer_in_either_order(b: &Backend) {
        let older = order(Channel::Genstore, "1001", UnifiedStatus::Paid, 0);
        let newer = order(Channel::Genstore, "1001", UnifiedStatus::Shipped, 60);
        let key = OrderKey::of(&older);

        // Newer first, then the older one arrives late.
        assert!(matches!(
            orders::save_newer(&*b.store, newer.clone()).await.unwrap(),
            Saved::Created { .. }
        ));
        assert_eq!(
            orders::save_newer(&*b.store, older.clone()).await.unwrap(),
            Saved::Unchanged
        );
        assert_eq!(
            b.store.get(&key).await.unwrap().unwrap().order.status,
            UnifiedStatus::Shipped
        );

        // Older first, then newer: newer replaces it.
        let key2 = OrderKey::new(Channel::Genstore, "1002");
        let mut o2 = older.clone();
        o2.order_id = "1002".into();
        let mut n2 = newer.clone();
        n2.order_id = "1002".into();
        orders::save_newer(&*b.store, o2).await.unwrap();
        let saved = orders::save_newer(&*b.store, n2).await.unwrap();
        assert!(
            matches!(saved, Saved::Updated { version: 2, .. }),
            "{saved:?}"
        );
        let stored = b.store.get(&key2).await.unwrap().unwrap();
        assert_eq!(
            (stored.order.status, stored.version),
            (UnifiedStatus::Shipped, 2)
        );

        // A replay of the same state is a no-op.
        assert_eq!(
            orders::save_newer(&*b.store, newer).await.unwrap(),
            Saved::Unchanged
        );
        assert_eq!(b.store.get(&key).await.unwrap().unwrap().version, 1);

        // Saving answers the state the table now holds: the newer one kept, or the one written.
        let mut late = older.clone();
        late.order_id = "1001".into();
        let (saved, now) = orders::save_newer_state(&*b.store, late).await.unwrap();
        assert_eq!(saved, Saved::Unchanged);
        assert_eq!(now, b.store.get(&key).await.unwrap().unwrap().order);
        let mut fresh = older.clone();
        fresh.order_id = "1003".into();
        let (saved, now) = orders::save_newer_state(&*b.store, fresh).await.unwrap();
        assert!(matches!(saved, Saved::Created { .. }));
        assert_eq!(
            now,
            b.store
                .get(&OrderKey::new(Channel::Genstore, "1003"))
                .await
                .unwrap()
                .unwrap()
                .order
        );
    }

    pub async fn two_concurrent_writers_one_wins_the_other_conflicts(b: &Backend) {
        let base = order(Channel::Zonos, "999-1", UnifiedStatus::Paid, 0);
        orders::save_newer(&*b.store, base.clone()).await.unwrap();
        let read = b.store.get(&OrderKey::of(&base)).await.unwrap().unwrap();
        let a = order(Channel::Zonos, "999-1", UnifiedStatus::InProgress, 10);
        let c = order(Channel::Zonos, "999-1", UnifiedStatus::InProgress, 20);
        let (ra, rc) = tokio::join!(
            b.store.upsert_if_newer(&a, Expected::Version(read.version)),
            b.store.upsert_if_newer(&c, Expected::Version(read.version))
        );
        let outcomes = [ra.unwrap(), rc.unwrap()];
        let wins = outcomes
            .iter()
            .filter(|o| matches!(o, Upsert::Applied { .. }))
            .count();
        let losses = outcomes
            .iter()
            .filter(|o| matches!(o, Upsert::Conflict | Upsert::Stale))
            .count();
        assert_eq!((wins, losses), (1, 1), "{outcomes:?}");
        // Creation races the same way.
        let fresh = order(Channel::Zonos, "999-2", UnifiedStatus::Paid, 0);
        let fresh_newer = order(Channel::Zonos, "999-2", UnifiedStatus::Paid, 5);
        let (x, y) = tokio::join!(
            b.store.upsert_if_newer(&fresh, Expected::Absent),
            b.store.upsert_if_newer(&fresh_newer, Expected::Absent)
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        let stored = b.store.get(&OrderKey::of(&fresh)).await.unwrap().unwrap();
        if stored.order.updated_at == fresh_newer.updated_at {
            // The newer creation won: the older one is stale, not worth a retry.
            assert_eq!((x, y), (Upsert::Stale, Upsert::Applied { version: 1 }));
        } else {
            // The older creation won: the newer one conflicts, and a retry will apply it.
            assert_eq!((x, y), (Upsert::Applied { version: 1 }, Upsert::Conflict));
        }
        // A plain update with a stale version conflicts.
        let now = b.store.get(&OrderKey::of(&base)).await.unwrap().unwrap();
        assert_eq!(
            b.store.update(&now.order, now.version + 7).await.unwrap(),
            Update::Conflict
        );
    }

    pub async fn many_concurrent_savers_converge_on_the_newest(b: &Backend) {
        let mut tasks = Vec::new();
        for i in 0..8i64 {
            let store = b.store.clone();
            tasks.push(tokio::spawn(async move {
                orders::save_newer(
                    &*store,
                    order(Channel::Google, "G-1", UnifiedStatus::Paid, i),
                )
                .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let stored = b
            .store
            .get(&OrderKey::new(Channel::Google, "G-1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.order.updated_at,
            order(Channel::Google, "G-1", UnifiedStatus::Paid, 7).updated_at
        );
    }

    pub async fn saving_keeps_the_link_and_the_erasure(b: &Backend) {
        let o = order(Channel::Zonos, "999-5", UnifiedStatus::Paid, 0);
        let key = OrderKey::of(&o);
        orders::save_newer(&*b.store, o).await.unwrap();
        assert_eq!(
            orders::link_to_genstore(&*b.store, &key, &"5001".into())
                .await
                .unwrap(),
            Link::Linked
        );
        assert_eq!(
            orders::link_to_genstore(&*b.store, &key, &"5001".into())
                .await
                .unwrap(),
            Link::AlreadyLinked
        );
        assert_eq!(
            orders::link_to_genstore(&*b.store, &key, &"5002".into())
                .await
                .unwrap(),
            Link::LinkedElsewhere("5001".into())
        );
        assert_eq!(
            orders::link_to_genstore(
                &*b.store,
                &OrderKey::new(Channel::Zonos, "nope"),
                &"1".into()
            )
            .await
            .unwrap(),
            Link::NotFound
        );
        let target = Scope {
            genstore_order_ids: vec!["5001".into()],
            ..Scope::default()
        };
        assert_eq!(
            compliance::redact(&*b.store, &target, "r-1")
                .await
                .unwrap()
                .erased,
            1
        );
        assert_eq!(
            compliance::redact(&*b.store, &target, "r-1")
                .await
                .unwrap()
                .erased,
            0,
            "erasing twice changes nothing"
        );
        // The channel sends a newer state carrying the customer again, and no link.
        orders::save_newer(
            &*b.store,
            order(Channel::Zonos, "999-5", UnifiedStatus::Shipped, 30),
        )
        .await
        .unwrap();
        let stored = b.store.get(&key).await.unwrap().unwrap().order;
        assert_eq!(stored.status, UnifiedStatus::Shipped);
        assert_eq!(
            stored.genstore_order_id,
            Some("5001".into()),
            "the link stays"
        );
        assert!(
            stored.customer.is_none() && stored.personal_data_erased,
            "erased data does not come back"
        );
    }

    pub async fn secondary_lookups_find_linked_customer_and_status_orders(b: &Backend) {
        let mut g = order(Channel::Genstore, "7001", UnifiedStatus::Paid, 0);
        g.genstore_order_id = Some("7001".into());
        g.customer_id = Some("c-9".into());
        orders::save_newer(&*b.store, g).await.unwrap();
        let mut z = order(Channel::Zonos, "999-7", UnifiedStatus::Paid, 1);
        z.genstore_order_id = Some("7001".into());
        orders::save_newer(&*b.store, z).await.unwrap();
        let linked = b.store.find_by_genstore_id(&"7001".into()).await.unwrap();
        let mut channels: Vec<Channel> = linked.iter().map(|s| s.order.channel).collect();
        channels.sort();
        assert_eq!(channels, vec![Channel::Genstore, Channel::Zonos]);
        assert_eq!(
            b.store
                .find_by_customer(Channel::Genstore, &"c-9".into())
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(b
            .store
            .find_by_customer(Channel::Zonos, &"c-9".into())
            .await
            .unwrap()
            .is_empty());

        for i in 0..5 {
            orders::save_newer(
                &*b.store,
                order(
                    Channel::Google,
                    &format!("G-{i}"),
                    UnifiedStatus::Shipped,
                    100 + i,
                ),
            )
            .await
            .unwrap();
        }
        let mut seen = Vec::new();
        let mut page = PageRequest::first(2);
        loop {
            let p = b
                .store
                .list_by_status(UnifiedStatus::Shipped, page.clone())
                .await
                .unwrap();
            assert!(p.items.len() <= 2);
            seen.extend(p.items.into_iter().map(|s| s.order.order_id.to_string()));
            match p.next {
                Some(t) => page.token = Some(t),
                None => break,
            }
        }
        assert_eq!(
            seen,
            vec!["G-4", "G-3", "G-2", "G-1", "G-0"],
            "newest first, every one once"
        );
        let paid = b
            .store
            .list_by_status(UnifiedStatus::Paid, PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(paid.items.len(), 2);

        let shop = Scope {
            whole_shop: true,
            ..Scope::default()
        };
        let erased = compliance::redact(&*b.store, &shop, "r-shop")
            .await
            .unwrap()
            .erased;
        assert_eq!(erased, 7);
        let mut page = PageRequest::first(3);
        loop {
            let p = b.store.scan(page.clone()).await.unwrap();
            assert!(p.items.iter().all(|s| s.order.customer.is_none()));
            match p.next {
                Some(t) => page.token = Some(t),
                None => break,
            }
        }
    }
}

trait NowUtc {
    fn now_utc(&self) -> chrono::DateTime<Utc>;
}

impl NowUtc for ManualClock {
    fn now_utc(&self) -> chrono::DateTime<Utc> {
        orderbridge::clock::Clock::now(self)
    }
}

macro_rules! contract {
    ($backend:ident, $make:path) => {
        mod $backend {
            use super::*;

            macro_rules! case {
                ($name:ident) => {
                    #[tokio::test]
                    async fn $name() {
                        let b = $make().await;
                        cases::$name(&b).await;
                    }
                };
            }

            case!(stale_update_loses_to_newer_in_either_order);
            case!(two_concurrent_writers_one_wins_the_other_conflicts);
            case!(many_concurrent_savers_converge_on_the_newest);
            case!(saving_keeps_the_link_and_the_erasure);
            case!(secondary_lookups_find_linked_customer_and_status_orders);
            case!(a_dedupe_key_is_claimed_once_until_it_expires);
            case!(a_batch_reads_in_one_go_and_writes_all_or_nothing);
            case!(webhook_outcomes_are_summed_over_the_last_hour);
            case!(idempotency_claim_complete_release_expiry_and_mismatch);
            case!(the_audit_trail_reads_back_in_order);
            case!(a_cursor_advances_only_from_the_value_read);
            case!(a_record_is_removed_only_while_it_holds_what_was_read);
            case!(throttled_calls_are_summed_over_two_hours_in_one_small_record);
            case!(the_rate_budget_grants_its_burst_then_its_refill_and_keeps_a_reserve);
            case!(a_clock_behind_never_sets_the_rate_budget_back);
            case!(an_idempotency_record_kept_for_good_completes_without_overflow);
            case!(a_second_lease_is_refused_until_the_first_expires);
            case!(too_large_an_order_is_refused_with_a_clear_error);
            case!(a_send_of_25_jobs_goes_out_as_3_requests);
            case!(a_job_the_queue_refuses_is_reported_and_the_rest_are_sent);
            case!(the_queue_delivers_every_job_and_redelivers_after_the_visibility_timeout);
            case!(a_message_is_dead_lettered_after_its_receive_limit);
        }
    };
}

contract!(embedded, embedded_backend);
contract!(dynamodb_sqs, aws_backend);

/// `backend`'s store as one shop's part of it: the same contract holds for a shop's records.
fn in_shop(mut b: Backend, shop: &str) -> Backend {
    b.store = orderbridge::store::ShopStore::scoped(b.store.clone(), &shop.parse().unwrap());
    b
}

async fn embedded_shop_backend() -> Backend {
    in_shop(embedded_backend().await, "eu")
}

async fn aws_shop_backend() -> Backend {
    in_shop(aws_backend().await, "eu")
}

contract!(embedded_in_a_shop, embedded_shop_backend);
contract!(dynamodb_sqs_in_a_shop, aws_shop_backend);

/// Three shops in one table, each with the same order ids, dedupe keys, idempotency keys, cursors,
/// leases and budgets: none sees or changes another's; the table as a whole holds all three, each
/// order telling its shop.
async fn shops_in_one_table_never_see_each_other(b: &Backend) {
    use orderbridge::store::{split_shop, ShopStore};
    let root = b.store.clone();
    let shops: Vec<orderbridge::shop::ShopId> = ["default", "eu", "us"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let stores: Vec<Arc<dyn Storage>> = shops
        .iter()
        .map(|s| ShopStore::scoped(root.clone(), s))
        .collect();
    for (i, s) in stores.iter().enumerate() {
        let mut o = order(Channel::Zonos, "999-1", UnifiedStatus::Paid, i as i64);
        o.customer_id = Some("c-1".into());
        o.genstore_order_id = Some("1001".into());
        orders::save_newer(&**s, o).await.unwrap();
        let mut g = order(Channel::Genstore, "1001", UnifiedStatus::Paid, i as i64);
        g.genstore_order_id = Some("1001".into());
        orders::save_newer(&**s, g).await.unwrap();
    }
    let key = OrderKey::new(Channel::Zonos, "999-1");
    for (i, s) in stores.iter().enumerate() {
        let got = s.get(&key).await.unwrap().unwrap().order;
        assert_eq!(
            got.order_id.as_str(),
            "999-1",
            "the shop's own id, unprefixed"
        );
        assert_eq!(got.updated_at.timestamp() % 60, i as i64, "its own version");
        assert_eq!(
            s.find_by_genstore_id(&"1001".into()).await.unwrap().len(),
            2
        );
        assert_eq!(
            s.find_by_customer(Channel::Zonos, &"c-1".into())
                .await
                .unwrap()
                .len(),
            1
        );
        let paid = s
            .list_by_status(UnifiedStatus::Paid, PageRequest::first(100))
            .await
            .unwrap();
        assert_eq!(
            paid.items.len(),
            2,
            "only its own in the shared status index"
        );
        assert!(s.claim_once("webhook-1", Duration::days(1)).await.unwrap());
        assert!(s
            .advance("zonos", None, &format!("cursor-{i}"))
            .await
            .unwrap());
        assert_eq!(
            s.read("zonos").await.unwrap().unwrap().value,
            format!("cursor-{i}")
        );
        assert!(matches!(
            s.claim("job-1", "h", IdempotencyTtl::default())
                .await
                .unwrap(),
            Claim::Acquired { .. }
        ));
        assert!(matches!(
            s.acquire_lease("poll", "me", Duration::minutes(1))
                .await
                .unwrap(),
            Lease::Acquired { .. }
        ));
        s.append(
            &key,
            &AuditEntry {
                operation_id: format!("e{i}"),
                target: Channel::Genstore,
                action: "createOrder".into(),
                outcome: AuditOutcome::Executed,
                at: Utc::now(),
                cause: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(s.entries(&key).await.unwrap().len(), 1, "its own trail");
    }
    // Every shop's rows are in the table, and each tells its shop.
    let mut seen = std::collections::BTreeMap::new();
    let mut token = None;
    loop {
        let page = root.scan(PageRequest { token, limit: 50 }).await.unwrap();
        for stored in page.items {
            let (shop, o) = split_shop(stored.order);
            assert!(!o.order_id.as_str().starts_with('@'));
            *seen.entry(shop.to_string()).or_insert(0) += 1;
        }
        match page.next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [("default", 2), ("eu", 2), ("us", 2)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    );
}

#[tokio::test]
async fn shops_in_one_table_never_see_each_other_embedded() {
    shops_in_one_table_never_see_each_other(&embedded_backend().await).await;
}

#[tokio::test]
async fn shops_in_one_table_never_see_each_other_on_dynamodb() {
    shops_in_one_table_never_see_each_other(&aws_backend().await).await;
}

#[tokio::test]
async fn the_embedded_store_survives_a_restart() {
    use orderbridge::store::embedded::{Db, EmbeddedQueue, EmbeddedStore};
    let dir = tempdir::TempDir::new();
    let path = dir.0.join("db.sqlite3");
    let clock: Arc<dyn orderbridge::clock::Clock> = Arc::new(start_clock());
    {
        let db = Db::open(&path).unwrap();
        let store = EmbeddedStore::new(db.clone(), clock.clone());
        orders::save_newer(
            &store,
            order(Channel::Zonos, "999-1", UnifiedStatus::Paid, 0),
        )
        .await
        .unwrap();
        EmbeddedQueue::new(db, "sync", None, clock.clone())
            .send(&[job(1)])
            .await
            .unwrap();
    }
    let db = Db::open(&path).unwrap();
    let store = EmbeddedStore::new(db.clone(), clock.clone());
    use orderbridge::store::OrderStore;
    assert!(store
        .get(&OrderKey::new(Channel::Zonos, "999-1"))
        .await
        .unwrap()
        .is_some());
    let q = EmbeddedQueue::new(db, "sync", None, clock);
    assert_eq!(q.depth().await.unwrap(), 1);
}

#[tokio::test]
async fn provisioning_twice_is_harmless_and_creates_the_declared_shapes() {
    use orderbridge::store::dynamo::sdk_config;
    use orderbridge::store::provision::{self, GSIS, PK, SK, TTL_ATTRIBUTE};
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "run scripts/test, which starts moto"
    );
    let conf = sdk_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (table, queue) = (format!("orders-{suffix}"), format!("sync-{suffix}"));
    let first = provision::provision(&ddb, &sqs, &table, &queue)
        .await
        .unwrap();
    let second = provision::provision(&ddb, &sqs, &table, &queue)
        .await
        .unwrap();
    assert_eq!(first, second);

    let described = ddb.describe_table().table_name(&table).send();
    let t = described.await.unwrap();
    let t = t.table().unwrap();
    let keys: Vec<&str> = t.key_schema().iter().map(|k| k.attribute_name()).collect();
    assert_eq!(keys, vec![PK, SK]);
    let mut indexes: Vec<(&str, Vec<&str>)> = t
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            (
                g.index_name().unwrap(),
                g.key_schema().iter().map(|k| k.attribute_name()).collect(),
            )
        })
        .collect();
    indexes.sort();
    let mut want: Vec<(&str, Vec<&str>)> =
        GSIS.iter().map(|g| (g.name, vec![g.pk, g.sk])).collect();
    want.sort();
    assert_eq!(indexes, want);
    let ttl = ddb.describe_time_to_live().table_name(&table).send();
    let ttl = ttl.await.unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some(TTL_ATTRIBUTE)
    );

    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&first.queue_url)
        .attribute_names(A::All)
        .send()
        .await
        .unwrap();
    let attrs = attrs.attributes().unwrap();
    assert_eq!(
        attrs[&A::VisibilityTimeout],
        QUEUE.visibility_timeout_secs.to_string()
    );
    let redrive: serde_json::Value = serde_json::from_str(&attrs[&A::RedrivePolicy]).unwrap();
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        QUEUE.max_receive_count.to_string()
    );
    assert!(redrive["deadLetterTargetArn"]
        .as_str()
        .unwrap()
        .ends_with(&format!("sync-{suffix}-dlq")));
}
