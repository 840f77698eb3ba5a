//! One contract for the order table and the sync queue, run against both adapter pairs: DynamoDB + SQS on
//! moto (`AWS_ENDPOINT_URL`, started by `scripts/test`) and the embedded SQLite twin.
//!
//! Each case gets its own table and queues, so cases run in parallel.

use chrono::{Duration, TimeZone, Utc};
use orderbridge::channel::Channel;
use orderbridge::clock::ManualClock;
use orderbridge::compliance::{self, Scope};
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::order::{ChannelOrder, Contact, LineItem, Quantities, Totals};
use orderbridge::personal::Personal;
use orderbridge::status::UnifiedStatus;
use orderbridge::store::orders::{self, Link, Saved};
use orderbridge::store::provision::QUEUE;
use orderbridge::store::{
    AuditEntry, AuditOutcome, BucketShape, Claim, Expected, IdempotencyError, IdempotencyTtl,
    Lease, OrderKey, PageRequest, Storage, StoreError, SyncQueue, Update, Upsert, REDACTED,
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
    requests: Option<Arc<std::sync::atomic::AtomicUsize>>,
    _dir: Option<tempdir::TempDir>,
}

impl Backend {
    async fn pass(&self, d: Duration) {
        self.clock.advance(d);
        if self.real_time_queue {
            tokio::time::sleep(d.to_std().unwrap_or_default()).await;
        }
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

#[derive(Debug)]
struct CountRequests(Arc<std::sync::atomic::AtomicUsize>);

impl aws_sdk_sqs::config::Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "CountRequests"
    }
    fn read_before_transmit(
        &self,
        _ctx: &aws_sdk_sqs::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _rc: &aws_sdk_sqs::config::RuntimeComponents,
        _cfg: &mut aws_sdk_sqs::config::ConfigBag,
    ) -> Result<(), aws_sdk_sqs::error::BoxError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
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
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sqs_conf = aws_sdk_sqs::config::Builder::from(&conf)
        .interceptor(CountRequests(counter.clone()))
        .build();
    let sqs = aws_sdk_sqs::Client::from_conf(sqs_conf);
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let table = format!("orders-{suffix}");
    let p = provision::provision(&ddb, &sqs, &table, &format!("sync-{suffix}"))
        .await
        .unwrap();
    let clock = start_clock();
    let c: Arc<dyn orderbridge::clock::Clock> = Arc::new(clock.clone());
    counter.store(0, std::sync::atomic::Ordering::SeqCst);
    Backend {
        store: Arc::new(DynamoStore::new(ddb, table, c)),
        queue: Arc::new(SqsQueue::new(sqs.clone(), p.queue_url)),
        dlq: Arc::new(SqsQueue::new(sqs, p.dlq_url)),
        clock,
        real_time_queue: true,
        requests: Some(counter),
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
        totals: Totals {
            currency: "USD".parse().unwrap(),
            subtotal: None,
            shipping: None,
            tax: None,
            discounts: None,
            total: Decimal::new(2000, 2),
        },
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

mod cases {
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

    pub async fn a_dedupe_key_is_claimed_once_until_it_expires(b: &Backend) {
        let s = &*b.store;
        let hour = Duration::hours(1);
        assert!(!s.seen("wh-1").await.unwrap());
        assert!(s.claim_once("wh-1", hour).await.unwrap());
        assert!(s.seen("wh-1").await.unwrap(), "a claim is seen");
        assert!(!s.claim_once("wh-1", hour).await.unwrap());
        assert!(s.claim_once("wh-2", hour).await.unwrap());
        b.clock.advance(Duration::hours(2));
        assert!(
            !s.seen("wh-1").await.unwrap(),
            "an expired claim is not seen"
        );
        assert!(
            s.claim_once("wh-1", hour).await.unwrap(),
            "an expired key can be claimed again"
        );
        let (x, y) = tokio::join!(s.claim_once("wh-3", hour), s.claim_once("wh-3", hour));
        assert_eq!([x.unwrap(), y.unwrap()].iter().filter(|w| **w).count(), 1);
    }

    pub async fn a_batch_reads_in_one_go_and_writes_all_or_nothing(b: &Backend) {
        use orderbridge::store::{Found, ItemKey, Write};
        let s = &*b.store;
        let hour = Duration::hours(1);
        let a = order(Channel::Genstore, "b-1", UnifiedStatus::Paid, 0);
        let x = order(Channel::Zonos, "b-x", UnifiedStatus::Paid, 0);
        orders::save_newer(s, x.clone()).await.unwrap();
        s.claim_once("old", hour).await.unwrap();
        s.advance("rec", None, "v1").await.unwrap();
        b.clock.advance(Duration::hours(2));
        s.claim_once("fresh", hour).await.unwrap();
        let keys = [
            ItemKey::Claim("fresh".into()),
            ItemKey::Order(OrderKey::of(&a)),
            ItemKey::Claim("old".into()),
            ItemKey::Order(OrderKey::of(&x)),
            ItemKey::Record("rec".into()),
            ItemKey::Claim("fresh".into()),
        ];
        let got = s.read_batch(&keys).await.unwrap();
        assert_eq!(got.len(), keys.len(), "one answer per key, in order");
        assert_eq!(got[0], Some(Found::Claim));
        assert_eq!(got[1], None, "absent order");
        assert_eq!(got[2], None, "an expired claim reads as absent");
        assert!(matches!(&got[3], Some(Found::Order(o)) if o.order == x && o.version == 1));
        assert!(matches!(&got[4], Some(Found::Record(c)) if c.value == "v1"));
        assert_eq!(
            got[5],
            Some(Found::Claim),
            "a key asked twice is answered twice"
        );

        // One stale expectation fails the whole batch: nothing of it is written.
        let mut linked = x.clone();
        linked.genstore_order_id = Some("b-1".into());
        let stale = [
            Write::Order {
                order: Box::new(a.clone()),
                expected: Expected::Absent,
            },
            Write::Claim {
                key: "wh-b".into(),
                ttl: hour,
            },
            Write::Order {
                order: Box::new(linked.clone()),
                expected: Expected::Version(7),
            },
        ];
        assert!(!s.write_batch(&stale).await.unwrap());
        assert!(s.get(&OrderKey::of(&a)).await.unwrap().is_none());
        assert!(!s.seen("wh-b").await.unwrap());
        // A claim held by another fails it too; an expired one does not.
        let held = [
            Write::Order {
                order: Box::new(a.clone()),
                expected: Expected::Absent,
            },
            Write::Claim {
                key: "fresh".into(),
                ttl: hour,
            },
        ];
        assert!(!s.write_batch(&held).await.unwrap());
        assert!(s.get(&OrderKey::of(&a)).await.unwrap().is_none());
        // So does a record that must be absent and is there ("rec"); it is left as it was.
        let recorded = [
            Write::Order {
                order: Box::new(a.clone()),
                expected: Expected::Absent,
            },
            Write::NoRecord { name: "rec".into() },
        ];
        assert!(!s.write_batch(&recorded).await.unwrap());
        assert!(s.get(&OrderKey::of(&a)).await.unwrap().is_none());
        assert_eq!(s.read("rec").await.unwrap().unwrap().value, "v1");
        let good = [
            Write::Order {
                order: Box::new(a.clone()),
                expected: Expected::Absent,
            },
            Write::Claim {
                key: "old".into(),
                ttl: hour,
            },
            Write::Order {
                order: Box::new(linked.clone()),
                expected: Expected::Version(1),
            },
            Write::Mark {
                key: "fresh".into(),
                ttl: Duration::days(2),
            },
            Write::NoRecord {
                name: "no-such-record".into(),
            },
        ];
        assert!(s.write_batch(&good).await.unwrap());
        assert_eq!(
            s.read("no-such-record").await.unwrap(),
            None,
            "a check writes nothing"
        );
        let stored_a = s.get(&OrderKey::of(&a)).await.unwrap().unwrap();
        assert_eq!((stored_a.order, stored_a.version), (a.clone(), 1));
        let stored_x = s.get(&OrderKey::of(&x)).await.unwrap().unwrap();
        assert_eq!((stored_x.order, stored_x.version), (linked, 2));
        assert_eq!(
            s.find_by_genstore_id(&"b-1".into()).await.unwrap().len(),
            1,
            "the index follows a batch write"
        );
        assert!(s.seen("old").await.unwrap());
        b.clock.advance(Duration::hours(3));
        assert!(s.seen("fresh").await.unwrap(), "a mark rewrites the expiry");
        // Written again on a stale read: refused, the stored version stays.
        assert!(!s.write_batch(&good[..1]).await.unwrap());
        assert_eq!(s.get(&OrderKey::of(&a)).await.unwrap().unwrap().version, 1);
        assert!(
            s.write_batch(&[]).await.unwrap(),
            "an empty batch writes nothing"
        );
    }

    pub async fn webhook_outcomes_are_summed_over_the_last_hour(b: &Backend) {
        use orderbridge::store::{note_webhook, webhooks_last_hour};
        let s = &*b.store;
        let t0 = b.clock.now_utc();
        let at = |mins: i64| t0 + Duration::minutes(mins);
        note_webhook(s, "created", at(0)).await.unwrap();
        note_webhook(s, "created", at(5)).await.unwrap();
        note_webhook(s, "duplicate", at(30)).await.unwrap();
        let hour = webhooks_last_hour(s, at(40)).await.unwrap();
        assert_eq!(hour.get("created"), Some(&2));
        assert_eq!(hour.get("duplicate"), Some(&1));
        assert_eq!(hour.get("rejected"), None, "not yet");
        note_webhook(s, "rejected", at(80)).await.unwrap();
        let (x, y) = tokio::join!(
            note_webhook(s, "stale", at(81)),
            note_webhook(s, "stale", at(81))
        );
        x.unwrap();
        y.unwrap();
        let later = webhooks_last_hour(s, at(85)).await.unwrap();
        assert_eq!(later.get("created"), None, "more than an hour ago");
        assert_eq!(later.get("duplicate"), Some(&1));
        assert_eq!(later.get("rejected"), Some(&1));
        assert_eq!(later.get("stale"), Some(&2), "concurrent counts both land");
        // One record, holding only the last hour's slots: a day of webhooks leaves nothing behind.
        let slots = || async {
            let kept = s.read(orderbridge::store::WEBHOOK_COUNTS).await.unwrap();
            let text = kept.map(|c| c.value).unwrap_or_default();
            let map: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&text).unwrap();
            (map.len(), text)
        };
        let (n, text) = slots().await;
        assert!((2..=3).contains(&n) && !text.contains("created"), "{text}");
        for hour in 2..26 {
            note_webhook(s, "created", at(hour * 60)).await.unwrap();
        }
        let (n, text) = slots().await;
        assert_eq!(n, 2, "{text}");
    }

    pub async fn throttled_calls_are_summed_over_two_hours_in_one_small_record(b: &Backend) {
        use orderbridge::store::{count_throttled, throttled_name, throttled_recent};
        let s = &*b.store;
        let t0 = b.clock.now_utc();
        let at = |hours: i64| t0 + Duration::hours(hours);
        count_throttled(s, "google", at(0)).await.unwrap();
        let (x, y) = tokio::join!(
            count_throttled(s, "google", at(0)),
            count_throttled(s, "google", at(0))
        );
        x.unwrap();
        y.unwrap();
        count_throttled(s, "google", at(1)).await.unwrap();
        count_throttled(s, "zonos", at(1)).await.unwrap();
        assert_eq!(throttled_recent(s, "google", at(1)).await.unwrap(), 4);
        assert_eq!(throttled_recent(s, "google", at(2)).await.unwrap(), 1);
        assert_eq!(throttled_recent(s, "zonos", at(1)).await.unwrap(), 1);
        assert_eq!(throttled_recent(s, "genstore", at(1)).await.unwrap(), 0);
        // A day of throttling keeps two hours.
        for hour in 2..26 {
            count_throttled(s, "google", at(hour)).await.unwrap();
        }
        let kept = s.read(&throttled_name("google")).await.unwrap().unwrap();
        let hours: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&kept.value).unwrap();
        assert_eq!(hours.len(), 2, "{}", kept.value);
        assert_eq!(throttled_recent(s, "google", at(25)).await.unwrap(), 2);
    }

    pub async fn idempotency_claim_complete_release_expiry_and_mismatch(b: &Backend) {
        let ttl = IdempotencyTtl {
            in_progress: Duration::seconds(30),
            record: Duration::days(1),
        };
        let s = &*b.store;
        let acquired = |c: Claim| match c {
            Claim::Acquired { owner } => owner,
            other => panic!("not acquired: {other:?}"),
        };
        let owner = acquired(s.claim("op-1", "h1", ttl).await.unwrap());
        assert!(matches!(
            s.claim("op-1", "h1", ttl).await.unwrap(),
            Claim::InProgress { .. }
        ));
        assert!(matches!(
            s.claim("op-1", "other", ttl).await,
            Err(IdempotencyError::PayloadMismatch { .. })
        ));
        let result = serde_json::json!({"genstore_order_id": "5001"});
        assert!(s.complete("op-1", &owner, &result, ttl).await.unwrap());
        assert_eq!(
            s.claim("op-1", "h1", ttl).await.unwrap(),
            Claim::Completed(result.clone())
        );
        s.release("op-1", &owner).await.unwrap();
        assert_eq!(
            s.claim("op-1", "h1", ttl).await.unwrap(),
            Claim::Completed(result.clone()),
            "release keeps done work"
        );

        // A run slower than its claim's lifetime: its record is claimed again by another run, and the
        // slow run's complete or release touches nothing of that claim.
        let slow = acquired(s.claim("op-5", "h5", ttl).await.unwrap());
        b.clock.advance(Duration::seconds(31));
        let fresh = acquired(s.claim("op-5", "h5", ttl).await.unwrap());
        assert_ne!(slow, fresh);
        s.release("op-5", &slow).await.unwrap();
        assert!(
            matches!(
                s.claim("op-5", "h5", ttl).await.unwrap(),
                Claim::InProgress { .. }
            ),
            "the slow run's release left the new claim"
        );
        assert!(!s.complete("op-5", &slow, &result, ttl).await.unwrap());
        assert!(matches!(
            s.claim("op-5", "h5", ttl).await.unwrap(),
            Claim::InProgress { .. }
        ));
        let done = serde_json::json!({"done": "by the new run"});
        assert!(s.complete("op-5", &fresh, &done, ttl).await.unwrap());
        assert_eq!(
            s.claim("op-5", "h5", ttl).await.unwrap(),
            Claim::Completed(done)
        );

        // A failure recorded for good is forgotten on request (a replay), and only a failure.
        assert!(!s.forget_failure("op-1").await.unwrap(), "a success stays");
        assert_eq!(
            s.claim("op-1", "h1", ttl).await.unwrap(),
            Claim::Completed(serde_json::json!({"genstore_order_id": "5001"}))
        );
        let owner4 = acquired(s.claim("op-4", "h4", ttl).await.unwrap());
        assert!(
            !s.forget_failure("op-4").await.unwrap(),
            "work in progress stays"
        );
        assert!(matches!(
            s.claim("op-4", "h4", ttl).await.unwrap(),
            Claim::InProgress { .. }
        ));
        let failed = serde_json::json!({"failed": "Google said 400"});
        assert!(s.complete("op-4", &owner4, &failed, ttl).await.unwrap());
        assert_eq!(
            s.claim("op-4", "h4", ttl).await.unwrap(),
            Claim::Completed(failed)
        );
        assert!(s.forget_failure("op-4").await.unwrap());
        acquired(s.claim("op-4", "h4", ttl).await.unwrap());
        assert!(!s.forget_failure("no-such-op").await.unwrap());

        // A failed run releases: the retry claims at once.
        let owner2 = acquired(s.claim("op-2", "h2", ttl).await.unwrap());
        s.release("op-2", &owner2).await.unwrap();
        acquired(s.claim("op-2", "h2", ttl).await.unwrap());

        // A crashed run never releases: its claim expires after the in-progress TTL, not the record's.
        b.clock.advance(Duration::seconds(31));
        let owner2 = acquired(s.claim("op-2", "h2", ttl).await.unwrap());

        // A completed record expires after its own TTL.
        assert!(s
            .complete("op-2", &owner2, &serde_json::Value::Null, ttl)
            .await
            .unwrap());
        b.clock.advance(Duration::days(2));
        acquired(s.claim("op-2", "h2", ttl).await.unwrap());

        // Two racing claims: one acquires.
        let (x, y) = tokio::join!(s.claim("op-3", "h", ttl), s.claim("op-3", "h", ttl));
        let acquired = [x.unwrap(), y.unwrap()]
            .iter()
            .filter(|c| matches!(c, Claim::Acquired { .. }))
            .count();
        assert_eq!(acquired, 1);
    }

    pub async fn the_audit_trail_reads_back_in_order(b: &Backend) {
        let key = OrderKey::new(Channel::Google, "G-PLA-1");
        let t0 = b.clock.now_utc();
        for (i, outcome) in [
            AuditOutcome::Failed {
                reason: "timeout".into(),
                retryable: true,
            },
            AuditOutcome::Executed,
            AuditOutcome::Duplicate,
            AuditOutcome::Skipped {
                reason: "IGLOBAL_FRAUD_REVIEW blocks vendor updates".into(),
            },
        ]
        .into_iter()
        .enumerate()
        {
            let entry = AuditEntry {
                operation_id: format!("ob-ship-{i}"),
                target: Channel::Google,
                action: "shipLineItems".into(),
                outcome,
                at: t0 + Duration::seconds(i64::try_from(i).unwrap()),
                cause: Some(format!("webhook:test-{i}")),
            };
            b.store.append(&key, &entry).await.unwrap();
        }
        let entries = b.store.entries(&key).await.unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(
            entries[0].outcome,
            AuditOutcome::Failed {
                reason: "timeout".into(),
                retryable: true
            }
        );
        assert_eq!(entries[3].operation_id, "ob-ship-3");
        assert!(b
            .store
            .entries(&OrderKey::new(Channel::Google, "other"))
            .await
            .unwrap()
            .is_empty());

        // A redaction rewrites the free text, and only that; a second one finds nothing left.
        assert_eq!(b.store.redact(&key).await.unwrap(), 2);
        assert_eq!(b.store.redact(&key).await.unwrap(), 0);
        let redacted = b.store.entries(&key).await.unwrap();
        assert_eq!(redacted.len(), 4);
        assert_eq!(
            redacted[0].outcome,
            AuditOutcome::Failed {
                reason: REDACTED.into(),
                retryable: true
            }
        );
        assert_eq!(redacted[1].outcome, AuditOutcome::Executed);
        assert_eq!(
            redacted[3].outcome,
            AuditOutcome::Skipped {
                reason: REDACTED.into()
            }
        );
        assert_eq!(redacted[3].operation_id, "ob-ship-3");
    }

    pub async fn the_rate_budget_grants_its_burst_then_its_refill_and_keeps_a_reserve(b: &Backend) {
        let shape = BucketShape {
            per_second: 2.0,
            burst: 10.0,
        };
        let s = &*b.store;
        let mut taken = 0;
        for _ in 0..5 {
            taken += s.take("genstore", shape, 4, 0.0).await.unwrap().tokens;
        }
        assert_eq!(taken, 10, "a full bucket grants its burst, no more");
        let empty = s.take("genstore", shape, 4, 0.0).await.unwrap();
        assert_eq!(empty.tokens, 0);
        assert!(empty.retry_in > std::time::Duration::ZERO);
        assert!(
            empty.retry_in <= std::time::Duration::from_millis(500),
            "{empty:?}"
        );
        // Another bucket is another platform's.
        assert_eq!(s.take("zonos", shape, 1, 0.0).await.unwrap().tokens, 1);
        // Two seconds refill four tokens.
        b.clock.advance(Duration::seconds(2));
        assert_eq!(s.take("genstore", shape, 10, 0.0).await.unwrap().tokens, 4);
        // A lower-priority taker leaves the reserve alone.
        b.clock.advance(Duration::seconds(3));
        assert_eq!(s.take("genstore", shape, 10, 5.0).await.unwrap().tokens, 1);
        assert_eq!(s.take("genstore", shape, 10, 5.0).await.unwrap().tokens, 0);
        assert_eq!(s.take("genstore", shape, 10, 0.0).await.unwrap().tokens, 5);
    }

    /// Instances' clocks differ: a take by a clock that is behind never sets the bucket back in time,
    /// or the next take by a clock that is not would refill it again for the same seconds.
    pub async fn a_clock_behind_never_sets_the_rate_budget_back(b: &Backend) {
        let shape = BucketShape {
            per_second: 1.0,
            burst: 3.0,
        };
        let s = &*b.store;
        assert_eq!(s.take("genstore", shape, 1, 0.0).await.unwrap().tokens, 1);
        // Another instance, its clock a minute behind, takes the rest.
        b.clock.advance(Duration::seconds(-60));
        assert_eq!(s.take("genstore", shape, 2, 0.0).await.unwrap().tokens, 2);
        // Back at the true time, nothing has refilled: three tokens in all, the burst.
        b.clock.advance(Duration::seconds(60));
        assert_eq!(s.take("genstore", shape, 3, 0.0).await.unwrap().tokens, 0);
        b.clock.advance(Duration::seconds(1));
        assert_eq!(s.take("genstore", shape, 3, 0.0).await.unwrap().tokens, 1);
    }

    /// Times are added checked: a record kept "for good" (chrono's largest span) is completed without
    /// a panic, and read back as completed.
    pub async fn an_idempotency_record_kept_for_good_completes_without_overflow(b: &Backend) {
        let s = &*b.store;
        let ttl = IdempotencyTtl {
            in_progress: Duration::seconds(60),
            record: Duration::MAX,
        };
        let Claim::Acquired { owner } = s.claim("op-max", "h", ttl).await.unwrap() else {
            panic!("op-max is claimed already")
        };
        assert!(s
            .complete("op-max", &owner, &serde_json::json!({"done": true}), ttl)
            .await
            .unwrap());
        assert!(matches!(
            s.claim("op-max", "h", ttl).await.unwrap(),
            Claim::Completed(_)
        ));
    }

    pub async fn a_cursor_advances_only_from_the_value_read(b: &Backend) {
        let s = &*b.store;
        assert_eq!(s.read("zonos").await.unwrap(), None);
        assert!(s.advance("zonos", None, "999-100").await.unwrap());
        assert!(
            !s.advance("zonos", None, "999-101").await.unwrap(),
            "it was set already"
        );
        assert!(
            !s.advance("zonos", Some("999-050"), "999-101")
                .await
                .unwrap(),
            "stale expected value"
        );
        assert_eq!(s.read("zonos").await.unwrap().unwrap().value, "999-100");
        assert!(s
            .advance("zonos", Some("999-100"), "999-200")
            .await
            .unwrap());
        assert_eq!(s.read("zonos").await.unwrap().unwrap().value, "999-200");
    }

    pub async fn a_record_is_removed_only_while_it_holds_what_was_read(b: &Backend) {
        let s = &*b.store;
        assert!(s.advance("parked", None, "[1]").await.unwrap());
        // Someone added to it after it was read: the stale removal leaves it.
        assert!(s.advance("parked", Some("[1]"), "[1,2]").await.unwrap());
        s.remove("parked", "[1]").await.unwrap();
        assert_eq!(s.read("parked").await.unwrap().unwrap().value, "[1,2]");
        s.remove("parked", "[1,2]").await.unwrap();
        assert_eq!(s.read("parked").await.unwrap(), None);
        // Gone already: no effect, no error; and it can be set afresh.
        s.remove("parked", "[1,2]").await.unwrap();
        assert!(s.advance("parked", None, "[3]").await.unwrap());
    }

    pub async fn a_second_lease_is_refused_until_the_first_expires(b: &Backend) {
        let s = &*b.store;
        let ttl = Duration::minutes(5);
        assert!(matches!(
            s.acquire_lease("poll:zonos", "run-a", ttl).await.unwrap(),
            Lease::Acquired { .. }
        ));
        match s.acquire_lease("poll:zonos", "run-b", ttl).await.unwrap() {
            Lease::Held { owner, .. } => assert_eq!(owner, "run-a"),
            other => panic!("expected held, got {other:?}"),
        }
        assert!(
            matches!(
                s.acquire_lease("poll:zonos", "run-a", ttl).await.unwrap(),
                Lease::Acquired { .. }
            ),
            "renewal"
        );
        assert!(matches!(
            s.acquire_lease("poll:google", "run-b", ttl).await.unwrap(),
            Lease::Acquired { .. }
        ));
        b.clock.advance(Duration::minutes(6));
        assert!(matches!(
            s.acquire_lease("poll:zonos", "run-b", ttl).await.unwrap(),
            Lease::Acquired { .. }
        ));
        s.release_lease("poll:zonos", "run-a").await.unwrap();
        assert!(
            matches!(
                s.acquire_lease("poll:zonos", "run-a", ttl).await.unwrap(),
                Lease::Held { .. }
            ),
            "only the owner releases"
        );
        s.release_lease("poll:zonos", "run-b").await.unwrap();
        assert!(matches!(
            s.acquire_lease("poll:zonos", "run-a", ttl).await.unwrap(),
            Lease::Acquired { .. }
        ));
    }

    pub async fn too_large_an_order_is_refused_with_a_clear_error(b: &Backend) {
        let mut o = order(Channel::Google, "G-big", UnifiedStatus::Paid, 0);
        o.tags = (0..5000)
            .map(|i| format!("tag-{i:04}-{}", "x".repeat(80)))
            .collect();
        match orders::save_newer(&*b.store, o).await {
            Err(StoreError::TooLarge { bytes, limit }) => assert!(bytes > limit),
            // SQLite holds it; the table adapters guard DynamoDB's 400 KB limit.
            Ok(_) if !b.real_time_queue => {}
            other => panic!("expected too large, got {other:?}"),
        }
    }

    pub async fn a_send_of_25_jobs_goes_out_as_3_requests(b: &Backend) {
        let jobs: Vec<SyncJob> = (0..25).map(job).collect();
        let before = b
            .requests
            .as_ref()
            .map(|c| c.load(std::sync::atomic::Ordering::SeqCst));
        let report = b.queue.send(&jobs).await.unwrap();
        assert_eq!((report.sent, report.requests), (25, 3));
        assert!(report.all_sent());
        if let (Some(counter), Some(before)) = (&b.requests, before) {
            assert_eq!(
                counter.load(std::sync::atomic::Ordering::SeqCst) - before,
                3,
                "requests on the wire"
            );
        }
    }

    pub async fn a_job_the_queue_refuses_is_reported_and_the_rest_are_sent(b: &Backend) {
        let mut jobs: Vec<SyncJob> = (0..25).map(job).collect();
        jobs[12] = SyncJob::from(Job::MirrorOrder {
            channel: Channel::Zonos,
            order_id: "9".repeat(300 * 1024).into(),
        });
        let report = b.queue.send(&jobs).await.unwrap();
        // The queue refuses a message over 256 KiB (SQS refuses the batch carrying it); whatever it
        // refuses is named, and every other batch still goes out.
        assert!(
            report.failed.iter().any(|f| f.job == jobs[12]),
            "{} failed",
            report.failed.len()
        );
        assert!(
            report.failed.len() <= 10,
            "only the batch with the oversized job"
        );
        assert_eq!(report.sent + report.failed.len(), 25);
        let depth = b.queue.depth().await.unwrap();
        assert_eq!(
            usize::try_from(depth).unwrap(),
            report.sent,
            "sent means on the queue"
        );
    }

    pub async fn the_queue_delivers_every_job_and_redelivers_after_the_visibility_timeout(
        b: &Backend,
    ) {
        let jobs: Vec<SyncJob> = (0..12).map(job).collect();
        b.queue.send(&jobs).await.unwrap();
        let mut got = Vec::new();
        for _ in 0..20 {
            let batch = b.queue.receive(10, Duration::seconds(30)).await.unwrap();
            if batch.is_empty() && got.len() >= 12 {
                break;
            }
            for m in batch {
                assert_eq!(m.receive_count, 1);
                got.push(m.job().unwrap());
                b.queue.delete(&m.receipt).await.unwrap();
            }
        }
        got.sort_by_key(|j| j.to_body());
        let mut want = jobs.clone();
        want.sort_by_key(|j| j.to_body());
        assert_eq!(got, want, "every job, once each here");

        b.queue.send(&[job(99)]).await.unwrap();
        let first = b.queue.receive(10, Duration::seconds(1)).await.unwrap();
        assert_eq!(first.len(), 1);
        assert!(
            b.queue
                .receive(10, Duration::seconds(1))
                .await
                .unwrap()
                .is_empty(),
            "hidden while in flight"
        );
        b.pass(Duration::milliseconds(1500)).await;
        let mut again = Vec::new();
        for _ in 0..10 {
            again = b.queue.receive(10, Duration::seconds(30)).await.unwrap();
            if !again.is_empty() {
                break;
            }
            b.pass(Duration::milliseconds(200)).await;
        }
        assert_eq!(again.len(), 1, "redelivered after the visibility timeout");
        assert_eq!(again[0].message_id, first[0].message_id);
        assert_eq!(again[0].receive_count, 2);

        // A reader that only looked hands the message back at once.
        b.queue.unhide(&again[0].receipt).await.unwrap();
        let back = b.queue.receive(10, Duration::seconds(30)).await.unwrap();
        assert_eq!(
            back.len(),
            1,
            "visible again without waiting out the timeout"
        );
        assert_eq!(back[0].message_id, first[0].message_id);
        b.queue.delete(&back[0].receipt).await.unwrap();
    }

    pub async fn a_message_is_dead_lettered_after_its_receive_limit(b: &Backend) {
        b.queue.send(&[job(7)]).await.unwrap();
        let mut receives = 0;
        let limit = usize::try_from(QUEUE.max_receive_count).unwrap();
        for _ in 0..(limit * 4) {
            let batch = b.queue.receive(10, Duration::seconds(0)).await.unwrap();
            receives += batch.len();
            if batch.is_empty() && receives >= limit {
                break;
            }
            if b.real_time_queue {
                b.pass(Duration::milliseconds(100)).await;
            }
        }
        assert_eq!(receives, limit, "received up to the limit, then moved");
        let mut dead = Vec::new();
        for _ in 0..20 {
            dead = b.dlq.receive(10, Duration::seconds(30)).await.unwrap();
            if !dead.is_empty() {
                break;
            }
            b.pass(Duration::milliseconds(200)).await;
        }
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].job().unwrap(), job(7));
        // Replay: back to the main queue.
        assert_eq!(b.queue.send_raw(&[dead[0].body.clone()]).await.unwrap(), 1);
        b.dlq.delete(&dead[0].receipt).await.unwrap();
        let back = b.queue.receive(10, Duration::seconds(30)).await.unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].job().unwrap(), job(7));
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

    let t = ddb
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
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
    let ttl = ddb
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
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
