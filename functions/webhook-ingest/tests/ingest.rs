//! webhook-ingest driven with real API Gateway HTTP API (v2) events, against the DynamoDB/SQS adapters
//! on moto (`scripts/test` starts it) and the embedded SQLite twin: every topic's effect on the table and
//! the queue, signatures, redelivery, arrival order, and every way a request is refused.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use chrono::{Duration, TimeZone, Utc};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::signature;
use orderbridge::clock::{Clock, ManualClock};
use orderbridge::compliance::{self, Scope};
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::order::{ChannelOrder, Totals};
use orderbridge::secrets::Secret;
use orderbridge::status::UnifiedStatus;
use orderbridge::store::orders;
use orderbridge::store::tally::Tally;
use orderbridge::store::{OrderKey, PageRequest, RecordName, Storage, SyncQueue};
use orderbridge::sync::{plan_genstore_webhook, WebhookPlan};
use serde_json::{json, Value};
use std::sync::Arc;
use webhook_ingest::{handle, held, lambda, Deps, Inbound, Outbound};

const SECRET: &str = "current-secret";
const OLD_SECRET: &str = "previous-secret";

struct Backend {
    /// What the function is given.
    deps: Deps,
    /// The test's own view of the same table and queue, for set-up and checks: on moto, clients that
    /// do not send as webhook-ingest, so the role test counts only the function's own requests.
    store: Arc<dyn Storage>,
    queue: Arc<dyn SyncQueue>,
    /// The embedded backend's clock, to move time on (moto's runs on the system's).
    clock: Option<ManualClock>,
    _dir: Option<TempDir>,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn deps(store: Arc<dyn Storage>, queue: Arc<dyn SyncQueue>) -> Deps {
    let secrets = vec![Secret::new(SECRET), Secret::new(OLD_SECRET)];
    let shops = webhook_ingest::ShopKeys::single(secrets, Some(SHOP.into()));
    Deps::build(store, queue, shops, webhook_ingest::DEFAULT_MAX_BODY)
}

/// The shop the tests' deployment serves (the fixture's `x-genstore-shop-domain`).
const SHOP: &str = "demo.genmystore.com";

async fn embedded() -> Backend {
    use orderbridge::store::embedded::{Db, EmbeddedQueue, EmbeddedStore};
    let dir = std::env::temp_dir().join(format!("ingest-{}", uuid::Uuid::new_v4()));
    let db = Db::open(dir.join("db.sqlite3")).unwrap();
    let manual = ManualClock::at(Utc::now());
    let clock: Arc<dyn Clock> = Arc::new(manual.clone());
    let store: Arc<dyn Storage> = Arc::new(EmbeddedStore::new(db.clone(), clock.clone()));
    let queue: Arc<dyn SyncQueue> = Arc::new(EmbeddedQueue::new(db, "sync", None, clock));
    Backend {
        deps: deps(store.clone(), queue.clone()),
        store,
        queue,
        clock: Some(manual),
        _dir: Some(TempDir(dir)),
    }
}

async fn aws() -> Backend {
    aws_counted(&Tally::new()).await
}

/// The DynamoDB/SQS backend, its requests counted in `tally`.
async fn aws_counted(tally: &Tally) -> Backend {
    use orderbridge::store::dynamo::{sdk_config, sdk_config_for, DynamoStore};
    use orderbridge::store::sqs::SqsQueue;
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "run scripts/test, which starts moto"
    );
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let table = format!("ingest-{suffix}");
    let operator = sdk_config().await;
    let p = orderbridge::store::provision::provision(
        &aws_sdk_dynamodb::Client::new(&operator),
        &aws_sdk_sqs::Client::new(&operator),
        &table,
        &format!("ingest-{suffix}"),
    )
    .await
    .unwrap();
    let conf = sdk_config_for(Some(orderbridge::caller::Function::WebhookIngest)).await;
    let (ddb, sqs) = tally.clients(&conf);
    let clock: Arc<dyn Clock> = Arc::new(orderbridge::clock::SystemClock);
    Backend {
        deps: deps(
            Arc::new(DynamoStore::new(ddb, table.clone(), clock.clone())),
            Arc::new(SqsQueue::new(sqs, p.queue_url.clone())),
        ),
        store: Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&operator),
            table,
            clock,
        )),
        queue: Arc::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&operator),
            p.queue_url,
        )),
        clock: None,
        _dir: None,
    }
}

/// A delivery, as Genstore would send it through API Gateway.
struct Delivery {
    topic: String,
    body: Vec<u8>,
    webhook_id: Option<String>,
    signature: Option<String>,
    drop_headers: Vec<&'static str>,
    shop: Option<String>,
    method: &'static str,
    path: &'static str,
}

impl Delivery {
    fn new(topic: &str, body: &Value) -> Self {
        let body = serde_json::to_vec(body).unwrap();
        Delivery {
            topic: topic.into(),
            signature: Some(signature::sign(&body, &Secret::new(SECRET))),
            body,
            webhook_id: Some(uuid::Uuid::new_v4().to_string()),
            drop_headers: vec![],
            shop: None,
            method: "POST",
            path: "/webhooks/genstore",
        }
    }

    fn raw(topic: &str, body: Vec<u8>) -> Self {
        let mut d = Delivery::new(topic, &json!({}));
        d.signature = Some(signature::sign(&body, &Secret::new(SECRET)));
        d.body = body;
        d
    }

    /// The API Gateway v2 event, from the fixture file.
    fn event(&self) -> String {
        let template = include_str!("fixtures/apigw-v2-webhook.json");
        let mut e: Value = serde_json::from_str(template).unwrap();
        let h = e["headers"].as_object_mut().unwrap();
        h.insert("x-genstore-topic".into(), json!(self.topic));
        h.insert("content-length".into(), json!(self.body.len().to_string()));
        match &self.signature {
            Some(s) => h.insert("x-genstore-hmac-sha256".into(), json!(s)),
            None => h.remove("x-genstore-hmac-sha256"),
        };
        match &self.webhook_id {
            Some(id) => h.insert("x-genstore-webhook-id".into(), json!(id)),
            None => h.remove("x-genstore-webhook-id"),
        };
        if let Some(shop) = &self.shop {
            h.insert("x-genstore-shop-domain".into(), json!(shop));
        }
        for name in &self.drop_headers {
            h.remove(*name);
        }
        e["rawPath"] = json!(self.path);
        e["requestContext"]["http"]["path"] = json!(self.path);
        e["requestContext"]["http"]["method"] = json!(self.method);
        match std::str::from_utf8(&self.body) {
            Ok(text) => {
                e["body"] = json!(text);
                e["isBase64Encoded"] = json!(false);
            }
            Err(_) => {
                use std::io::Write;
                let mut enc = Vec::new();
                write!(enc, "{}", base64_encode(&self.body)).unwrap();
                e["body"] = json!(String::from_utf8(enc).unwrap());
                e["isBase64Encoded"] = json!(true);
            }
        }
        e.to_string()
    }
}

fn base64_encode(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, x)| acc | (u32::from(*x) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The answer with `status` and JSON `body`.
fn answered(status: u16, body: Value) -> Outbound {
    Outbound { status, body }
}

/// The reason a refused delivery's answer gives (empty when it gives none).
fn reason(out: &Outbound) -> &str {
    out.body["error"].as_str().unwrap_or_default()
}

/// The outcome a signed delivery of `topic` with `body` is answered with.
async fn said(b: &Backend, topic: &str, body: &Value) -> Value {
    deliver(b, &Delivery::new(topic, body)).await.body["outcome"].clone()
}

async fn deliver(b: &Backend, d: &Delivery) -> Outbound {
    let req = lambda_http::request::from_str(&d.event()).expect("a valid API Gateway v2 event");
    handle(&b.deps, lambda::inbound(req)).await
}

fn at(secs: i64) -> String {
    (Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap() + Duration::seconds(secs)).to_rfc3339()
}

/// A Genstore order body.
fn gs_order(id: &str, updated: i64, financial: &str, extra: Value) -> Value {
    let mut o = json!({
        "orderId": id, "currency": "USD", "totalPrice": "30.00", "financialStatus": financial,
        "createdAt": at(0), "updatedAt": at(updated),
        "email": "buyer@example.com",
        "customer": {"id": "c-77", "firstName": "Pat", "lastName": "Doe", "email": "buyer@example.com"},
        "shippingAddress": {"name": "Pat Doe", "address1": "1 Main St", "city": "Ottawa", "countryCode": "CA"},
        "lineItems": [{"id": "l1", "sku": "SKU-A", "title": "Mug", "quantity": "3", "currentQuantity": "3", "price": "10.00"}]
    });
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

/// Holds a delivery of a mappable order as if the table had refused it (a cause since fixed): what
/// webhook-ingest would have kept.
async fn hold_by_hand(b: &Backend, webhook_id: &str, order_id: &str) -> held::HeldWebhook {
    let d = Delivery::new("orders/create", &gs_order(order_id, 0, "paid", json!({})));
    let webhook = orderbridge::channels::genstore::webhook::Webhook::parse(
        orderbridge::channels::genstore::webhook::WebhookHeaders {
            topic: Some("orders/create"),
            shop_domain: Some(SHOP),
            webhook_id: Some(webhook_id),
            triggered_at: None,
        },
        &d.body,
    )
    .unwrap();
    let kept = held::HeldWebhook::of(
        &webhook,
        None,
        &d.body,
        Some(order_id.into()),
        "the table refused it".into(),
        Utc::now(),
    );
    held::hold(&*b.store, &kept).await.unwrap();
    kept
}

/// A held delivery's record, as kept.
async fn held_record(b: &Backend, key: &str) -> Option<held::HeldWebhook> {
    b.store
        .read(&RecordName::HeldWebhook(key).to_string())
        .await
        .unwrap()
        .map(|r| serde_json::from_str(&r.value).unwrap())
}

async fn jobs(b: &Backend) -> Vec<SyncJob> {
    let mut out = Vec::new();
    for _ in 0..5 {
        let batch = b.queue.receive(10, Duration::seconds(60)).await.unwrap();
        if batch.is_empty() {
            break;
        }
        for m in batch {
            let job = m.job().unwrap();
            // Every job carries the delivery that caused it; the tests compare what jobs do.
            assert!(
                job.cause
                    .as_deref()
                    .is_some_and(|c| c.starts_with("webhook:")),
                "a queued job carries its webhook's cause: {job:?}"
            );
            out.push(job.without_cause());
        }
    }
    out
}

async fn stored(b: &Backend, channel: Channel, id: &str) -> Option<ChannelOrder> {
    b.store
        .get(&OrderKey::new(channel, id))
        .await
        .unwrap()
        .map(|s| s.order)
}

/// An external order as the poller would have stored it.
async fn external(b: &Backend, channel: Channel, id: &str) {
    let mut o = orderbridge::channels::genstore::to_channel_order(
        &orderbridge::channels::genstore::parse_order(
            &serde_json::to_vec(&gs_order("x", 0, "paid", json!({}))).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    o.channel = channel;
    o.order_id = id.into();
    o.genstore_order_id = None;
    o.totals = Totals { ..o.totals };
    orders::save_newer(&*b.store, o).await.unwrap();
}

async fn table_dump(b: &Backend) -> Vec<(String, u64)> {
    let page = b.store.scan(PageRequest::first(1000)).await.unwrap();
    let mut v: Vec<(String, u64)> = page
        .items
        .iter()
        .map(|s| {
            (
                format!("{}:{}", s.order.channel, s.order.order_id),
                s.version,
            )
        })
        .collect();
    v.sort();
    v
}

#[path = "ingest/edges.rs"]
mod edges;
#[path = "ingest/refunds.rs"]
mod refunds;

#[path = "ingest/requests.rs"]
mod requests;

#[path = "ingest/order_states.rs"]
mod order_states;

mod cases {
    pub use super::edges::*;
    pub use super::order_states::*;
    pub use super::refunds::*;
    pub use super::requests::*;
}

macro_rules! suite {
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
            case!(a_native_order_is_stored_and_needs_no_follow_up);
            case!(a_mirror_links_its_external_order_and_writes_the_merchant_id_back);
            case!(fulfillments_record_tracking_per_line_and_push_it_to_the_channel);
            case!(a_cancellation_is_recorded_and_pushed);
            case!(a_refund_is_recorded_once_and_pushed);
            case!(a_refund_seen_only_in_the_order_state_is_pushed);
            case!(a_refund_parked_while_its_order_is_written_joins_it);
            case!(refunds_racing_their_orders_all_join_and_leave_nothing_parked);
            case!(compliance_topics_are_queued_for_fulfillment_push);
            case!(each_shops_webhooks_touch_only_its_own_rows);
            case!(a_signed_body_resent_under_another_topic_is_refused);
            case!(a_delivery_for_another_shop_is_refused);
            case!(an_unknown_topic_is_acknowledged_and_stores_nothing);
            case!(signatures_forged_missing_and_rotated);
            case!(the_same_webhook_three_times_has_one_effect);
            case!(paid_before_create_ends_in_the_right_state);
            case!(an_older_update_after_a_newer_one_is_ignored);
            case!(bad_requests_get_a_json_reason_and_change_nothing);
            case!(a_signed_order_that_does_not_map_is_held_and_answered_2xx);
            case!(a_webhook_id_reused_for_another_body_is_refused);
            case!(one_change_announced_by_two_topics_queues_its_push_once);
            case!(a_state_saved_by_a_run_that_died_before_queuing_is_queued_by_the_next_delivery);
        }
    };
}

suite!(embedded_backend, embedded);
suite!(dynamodb_sqs, aws);

/// What one delivery costs in AWS requests (issue 17): a new order, native or a mirror, at most one
/// DynamoDB read and one write and at most one SQS request; a redelivery one read and nothing else.
#[tokio::test]
async fn a_new_order_costs_one_read_one_write_and_at_most_one_send() {
    let tally = Tally::new();
    let b = aws_counted(&tally).await;
    external(&b, Channel::Google, "G-77").await;
    let cost = |what: &str| {
        let c = (tally.reads(), tally.writes(), tally.queue());
        tally.reset();
        println!("{what}: {c:?} {:?}", tally.by_operation());
        c
    };
    tally.reset();
    // The first signed delivery of a minute also records when a webhook last arrived (for
    // `orderbridge status`): one read and one write more, once a minute per instance.
    let first = Delivery::new("orders/create", &gs_order("7000", 0, "paid", json!({})));
    assert_eq!(deliver(&b, &first).await.status, 200);
    assert_eq!(cost("first order of the minute"), (2, 2, 0));
    assert!(orderbridge::store::last_webhook(&*b.store)
        .await
        .unwrap()
        .is_some());
    let native = Delivery::new("orders/create", &gs_order("7001", 0, "paid", json!({})));
    assert_eq!(deliver(&b, &native).await.status, 200);
    assert_eq!(cost("native order"), (1, 1, 0));
    assert_eq!(deliver(&b, &native).await.body["outcome"], "duplicate");
    assert_eq!(cost("redelivery"), (1, 0, 0));
    let mirror = gs_order(
        "7002",
        0,
        "paid",
        json!({"sourceName": "google", "sourceIdentifier": "G-77"}),
    );
    assert_eq!(
        deliver(&b, &Delivery::new("orders/create", &mirror))
            .await
            .body["outcome"],
        "created"
    );
    assert_eq!(cost("mirror"), (1, 1, 1));
    // What the one write did: the mirror, the link, the job.
    assert_eq!(
        stored(&b, Channel::Google, "G-77")
            .await
            .and_then(|o| o.genstore_order_id)
            .map(|g| g.as_str().to_owned())
            .as_deref(),
        Some("7002")
    );
    assert!(stored(&b, Channel::Genstore, "7002").await.is_some());
    assert_eq!(jobs(&b).await.len(), 1);
    tally.reset();
    // The same state under a second topic: its jobs are marked queued, so nothing is sent again.
    let paid = Delivery::new("orders/paid", &mirror);
    assert_eq!(deliver(&b, &paid).await.body["outcome"], "stale");
    assert_eq!(cost("second topic"), (1, 1, 0));
}

/// Deliveries racing on one order — the same webhook twice, and two topics for two states — end as if
/// they came one after the other: the order created once, the newest state kept, the link made, every
/// job queued at least once. (Run it many times with `RACE_ROUNDS`.)
#[tokio::test]
async fn racing_deliveries_of_one_order_end_as_if_in_turn() {
    let rounds: usize = std::env::var("RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    for round in 0..rounds.saturating_mul(2) {
        let b = if round % 2 == 0 {
            embedded().await
        } else {
            aws().await
        };
        external(&b, Channel::Zonos, "999-555").await;
        let src = json!({"sourceName": "zonos", "sourceIdentifier": "999-555"});
        let create = Delivery::new("orders/create", &gs_order("8001", 0, "paid", src.clone()));
        let mut shipped = src.clone();
        shipped["fulfillmentStatus"] = json!("fulfilled");
        shipped["fulfillments"] = json!([{"fulfillId": "f1", "status": "success", "lineItems": [{"id": "l1", "quantity": 3}],
            "trackingInfo": {"number": "1Z1", "company": "UPS"}, "createdAt": at(10), "updatedAt": at(10)}]);
        let fulfilled = Delivery::new("orders/fulfilled", &gs_order("8001", 10, "paid", shipped));
        let outs = futures_join(&b, &[&create, &create, &fulfilled, &fulfilled]).await;
        for out in &outs {
            assert_eq!(out.status, 200, "{out:?}");
        }
        let said: Vec<&str> = outs
            .iter()
            .filter_map(|o| o.body["outcome"].as_str())
            .collect();
        // Exactly one write creates the order, whichever delivery it was; the rest are a duplicate, an
        // update or a state already held (a same-id delivery that read before the first one's claim
        // landed is redone, harmlessly: newer-wins and idempotent jobs).
        assert_eq!(
            said.iter().filter(|o| **o == "created").count(),
            1,
            "{said:?}"
        );
        assert!(
            said.iter()
                .all(|o| ["created", "updated", "stale", "duplicate"].contains(o)),
            "{said:?}"
        );
        let mirror = stored(&b, Channel::Genstore, "8001").await.unwrap();
        assert_eq!(mirror.shipments.len(), 1, "the newest state is kept");
        let z = stored(&b, Channel::Zonos, "999-555").await.unwrap();
        assert_eq!(
            z.genstore_order_id
                .map(|g| g.as_str().to_owned())
                .as_deref(),
            Some("8001")
        );
        let queued = jobs(&b).await;
        assert!(
            queued
                .iter()
                .any(|j| matches!(j.job, Job::WriteMerchantOrderId { .. })),
            "{queued:?}"
        );
        assert!(
            queued
                .iter()
                .any(|j| matches!(j.job, Job::PushTrackingToChannel { .. })),
            "{queued:?}"
        );
    }
}

/// Delivers all at once.
async fn futures_join(b: &Backend, ds: &[&Delivery]) -> Vec<Outbound> {
    let mut set = tokio::task::JoinSet::new();
    for (i, d) in ds.iter().enumerate() {
        let deps = b.deps.clone();
        let req = lambda_http::request::from_str(&d.event()).expect("a valid event");
        set.spawn(async move { (i, handle(&deps, lambda::inbound(req)).await) });
    }
    let mut outs: Vec<(usize, Outbound)> = Vec::new();
    while let Some(r) = set.join_next().await {
        outs.push(r.unwrap());
    }
    outs.sort_by_key(|(i, _)| *i);
    outs.into_iter().map(|(_, o)| o).collect()
}

mod arbitrary_input {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn any_body_and_headers_get_a_2xx_or_4xx_and_never_a_panic(
            body in proptest::collection::vec(any::<u8>(), 0..512),
            topic in "(orders/create|orders/update|refunds/create|customers/redact|shop/redact|\\PC{0,20})",
            sign in any::<bool>(),
            shop in proptest::option::of("\\PC{0,20}"),
            extra in proptest::collection::vec(("[a-zA-Z-]{1,20}", "\\PC{0,30}"), 0..4),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let b = embedded().await;
                let mut headers: Vec<(String, String)> = extra;
                headers.push(("x-genstore-topic".into(), topic));
                if let Some(s) = shop {
                    headers.push(("x-genstore-shop-domain".into(), s));
                }
                if sign {
                    headers.push(("x-genstore-hmac-sha256".into(), signature::sign(&body, &Secret::new(SECRET))));
                }
                let req = Inbound { method: "POST".into(), path: "/webhooks/genstore".into(), headers, body: body.into() };
                let out = handle(&b.deps, req).await;
                prop_assert!((200..500).contains(&out.status), "{out:?}");
                if out.status >= 400 {
                    prop_assert!(out.body["error"].is_string());
                }
                Ok(())
            })?;
        }
    }
}

/// A write the table refuses for good (on DynamoDB an order over the 400 KB item limit) is not answered
/// 503 for Genstore to redeliver until it disables the subscription: the delivery is held and answered
/// 2xx. The embedded table has no such limit and stores it.
#[tokio::test]
async fn an_order_the_table_refuses_for_good_is_held_not_retried_forever() {
    let lines: Vec<Value> = (0..3000)
        .map(|i| json!({"id": format!("l{i}"), "sku": "SKU-A", "title": "Mug", "quantity": "1", "currentQuantity": "1", "price": "0.01"}))
        .collect();
    let big = gs_order("9901", 0, "paid", json!({ "lineItems": lines }));
    let d = Delivery::new("orders/create", &big);
    assert!(
        d.body.len() < webhook_ingest::DEFAULT_MAX_BODY,
        "{}",
        d.body.len()
    );

    let on_moto = aws().await;
    let out = deliver(&on_moto, &d).await;
    assert_eq!(out, answered(200, json!({"outcome": "held"})));
    let held = held::list(&*on_moto.store).await.unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert!(held[0].reason.contains("too large"), "{:?}", held[0].reason);
    assert!(stored(&on_moto, Channel::Genstore, "9901").await.is_none());

    let on_disk = embedded().await;
    assert_eq!(deliver(&on_disk, &d).await.body["outcome"], "created");
    assert!(held::list(&*on_disk.store).await.unwrap().is_empty());
}
