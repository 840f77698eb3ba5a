//! webhook-ingest's costs per event:
//! - handler time excluding I/O (verify + parse + map: [`webhook_ingest::prepare`]), with criterion;
//! - AWS requests per event, counted on the wire against moto (run through `scripts/with-moto`):
//!   `scripts/with-moto cargo bench -p webhook-ingest --all-features --bench ingest`.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use criterion::{black_box, Criterion};
use orderbridge::channels::genstore::signature;
use orderbridge::secrets::Secret;
use orderbridge::store::tally::Tally;
use serde_json::{json, Value};
use std::sync::Arc;
use webhook_ingest::{handle, prepare, Deps, Inbound};

const SECRET: &str = "bench-secret";
const SHOP: &str = "demo.genmystore.com";

fn order(id: &str, extra: Value) -> Value {
    let mut o = json!({
        "orderId": id, "currency": "USD", "totalPrice": "30.00", "financialStatus": "paid",
        "createdAt": "2026-11-22T10:00:00Z", "updatedAt": "2026-11-22T10:00:00Z",
        "lineItems": [{"id": "l1", "sku": "SKU-A", "title": "Mug", "quantity": "3", "price": "10.00"}]
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        o[k] = v.clone();
    }
    o
}

fn inbound(topic: &str, body: &Value, webhook_id: &str) -> Inbound {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    Inbound {
        method: "POST".into(),
        path: "/webhooks/genstore".into(),
        headers: vec![
            ("x-genstore-topic".into(), topic.into()),
            ("x-genstore-shop-domain".into(), SHOP.into()),
            ("x-genstore-webhook-id".into(), webhook_id.into()),
            (
                "x-genstore-hmac-sha256".into(),
                signature::sign(&bytes, &Secret::new(SECRET)),
            ),
        ],
        body: bytes.into(),
    }
}

fn seed_order() -> Value {
    let text = include_str!("../../../shared/tests/fixtures/genstore/order-seed-001.json");
    serde_json::from_str::<Value>(text)
        .map(|v| v["order"].clone())
        .unwrap_or_default()
}

fn cpu(c: &mut Criterion) {
    let shops = webhook_ingest::ShopKeys::single(vec![Secret::new(SECRET)], Some(SHOP.into()));
    let create = inbound("orders/create", &order("1001", json!({})), "wh-1");
    let seed = inbound("orders/update", &seed_order(), "wh-2");
    let fulfilled = inbound(
        "orders/partiallyFulfilled",
        &order(
            "1001",
            json!({"fulfillmentStatus": "partial", "fulfillments": [{"fulfillId": "f1", "status": "success",
                "lineItems": [{"id": "l1", "quantity": 1}], "trackingInfo": {"number": "1Z1", "company": "UPS"}}]}),
        ),
        "wh-3",
    );
    let mut g = c.benchmark_group("webhook-ingest prepare (verify + parse + map, no I/O)");
    g.bench_function("orders/create, small order", |b| {
        b.iter(|| prepare(black_box(&create), &shops, webhook_ingest::DEFAULT_MAX_BODY).is_ok())
    });
    g.bench_function("orders/update, seed 001 order", |b| {
        b.iter(|| prepare(black_box(&seed), &shops, webhook_ingest::DEFAULT_MAX_BODY).is_ok())
    });
    g.bench_function("orders/partiallyFulfilled", |b| {
        b.iter(|| {
            prepare(
                black_box(&fulfilled),
                &shops,
                webhook_ingest::DEFAULT_MAX_BODY,
            )
            .is_ok()
        })
    });
    g.finish();
}

/// Builds the `i`th event of a scenario.
type MakeEvent = Box<dyn Fn(usize) -> Inbound>;

/// An imported Zonos order for the `i`th mirror to link to (seeded straight into the table).
fn imported_zonos(i: usize) -> orderbridge::ChannelOrder {
    let wire: orderbridge::channels::genstore::wire::Order =
        serde_json::from_value(order(&format!("z{i}"), json!({})))
            .unwrap_or_else(|e| panic!("seed order: {e}"));
    let mut c = orderbridge::channels::genstore::to_channel_order(&wire)
        .unwrap_or_else(|e| panic!("seed order: {e}"));
    c.channel = orderbridge::Channel::Zonos;
    c.genstore_order_id = None;
    c.order_id = format!("999-{}", 20_000 + i).into();
    c
}

async fn requests_per_event() {
    if std::env::var("AWS_ENDPOINT_URL").is_err() {
        println!("AWS requests per event: skipped (run through scripts/with-moto to count them)");
        return;
    }
    let conf = orderbridge::store::dynamo::sdk_config().await;
    let tally = Tally::new();
    let (ddb, sqs) = tally.clients(&conf);
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let p = orderbridge::store::provision::provision(
        &ddb,
        &sqs,
        &format!("bench-{suffix}"),
        &format!("bench-{suffix}"),
    )
    .await
    .unwrap_or_else(|e| panic!("provisioning on moto failed: {e}"));
    let clock: Arc<dyn orderbridge::clock::Clock> = Arc::new(orderbridge::clock::SystemClock);
    let deps = Deps::build(
        Arc::new(orderbridge::store::dynamo::DynamoStore::new(
            ddb,
            p.table.clone(),
            clock,
        )),
        Arc::new(orderbridge::store::sqs::SqsQueue::new(
            sqs,
            p.queue_url.clone(),
        )),
        webhook_ingest::ShopKeys::single(vec![Secret::new(SECRET)], Some(SHOP.into())),
        webhook_ingest::DEFAULT_MAX_BODY,
    );
    let n = 20;
    for i in 0..n {
        orderbridge::store::orders::save_newer(&*deps.store, imported_zonos(i))
            .await
            .unwrap_or_else(|e| panic!("seeding: {e}"));
    }
    let mirror = |i: usize| {
        order(
            &format!("{}", 30_000 + i),
            json!({"sourceName": "zonos", "sourceIdentifier": format!("999-{}", 20_000 + i)}),
        )
    };
    let native = |i: usize| {
        let body = order(&format!("{}", 10_000 + i), json!({}));
        inbound("orders/create", &body, &format!("a{i}"))
    };
    let scenarios: Vec<(&str, MakeEvent)> = vec![
        ("orders/create, native order (new)", Box::new(native)),
        ("the same webhook again (redelivery)", Box::new(native)),
        (
            "orders/update, newer state",
            Box::new(|i| {
                let newer =
                    json!({"updatedAt": "2026-11-22T11:00:00Z", "financialStatus": "refunded"});
                let body = order(&format!("{}", 10_000 + i), newer);
                inbound("orders/update", &body, &format!("b{i}"))
            }),
        ),
        (
            "orders/update, older state (stale)",
            Box::new(|i| {
                inbound(
                    "orders/update",
                    &order(
                        &format!("{}", 10_000 + i),
                        json!({"updatedAt": "2026-11-22T09:00:00Z"}),
                    ),
                    &format!("c{i}"),
                )
            }),
        ),
        (
            "orders/create, mirror of a Zonos order (new)",
            Box::new(move |i| inbound("orders/create", &mirror(i), &format!("d{i}"))),
        ),
        (
            "orders/paid, same mirror state (marker)",
            Box::new(move |i| inbound("orders/paid", &mirror(i), &format!("e{i}"))),
        ),
    ];
    println!("AWS requests per event (moto), mean of {n} events each:");
    println!(
        "  {:<46} {:>14} {:>15} {:>5}",
        "event", "DynamoDB reads", "DynamoDB writes", "SQS"
    );
    for (name, make) in scenarios {
        tally.reset();
        for i in 0..n {
            let out = handle(&deps, make(i)).await;
            assert_eq!(out.status, 200, "{name}: {out:?}");
        }
        #[allow(clippy::cast_precision_loss)]
        let per = |x: u64| x as f64 / n as f64;
        println!(
            "  {name:<46} {:>14.1} {:>15.1} {:>5.1}",
            per(tally.reads()),
            per(tally.writes()),
            per(tally.queue())
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    cpu(&mut c);
    c.final_summary();
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("no runtime: {e}"));
    rt.block_on(requests_per_event());
}
