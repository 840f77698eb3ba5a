//! Upserts per second on each order-table backend: `scripts/with-moto cargo bench -p orderbridge
//! --all-features --bench store_upserts` (without AWS_ENDPOINT_URL only the embedded backend runs).
//!
//! Each round saves N new orders, then N newer states of them, through `save_newer` (read, merge,
//! conditional write), one writer and eight concurrent writers.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use chrono::{Duration, TimeZone, Utc};
use orderbridge::channel::Channel;
use orderbridge::clock::{Clock, SystemClock};
use orderbridge::order::{ChannelOrder, LineItem, Quantities, Totals};
use orderbridge::status::UnifiedStatus;
use orderbridge::store::{orders, OrderStore};
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Instant;

const N: usize = 400;

fn order(id: usize, step: i64) -> ChannelOrder {
    let at = Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap();
    ChannelOrder {
        channel: Channel::Zonos,
        order_id: format!("999-{id}").into(),
        genstore_order_id: None,
        merchant_order_id: None,
        source: None,
        customer_id: None,
        customer: None,
        shipping_address: None,
        billing_address: None,
        line_items: (0..3)
            .map(|i| LineItem {
                id: i.to_string().into(),
                sku: Some(format!("SKU-{i}").into()),
                product_id: None,
                title: "Item".into(),
                quantities: Quantities {
                    ordered: 2,
                    ..Quantities::default()
                },
                unit_price: Decimal::new(1999, 2),
            })
            .collect(),
        totals: Totals::whole("USD".parse().unwrap(), Decimal::new(11994, 2)),
        raw_status: "IGLOBAL_ORDER_IN_PROCESS".into(),
        status: UnifiedStatus::Paid,
        shipments: vec![],
        refunds: vec![],
        test_order: false,
        tags: vec![],
        placed_at: at,
        updated_at: at + Duration::seconds(step),
        cancelled_at: None,
        cancel_reason: None,
        personal_data_erased: false,
    }
}

async fn measure(name: &str, store: Arc<dyn OrderStore>, writers: usize, offset: usize) {
    let start = Instant::now();
    for step in 0..2 {
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in (w..N).step_by(writers) {
                    orders::save_newer(&*store, order(offset + i, step))
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let upserts = 2 * N;
    println!(
        "{name:<28} writers={writers}  {upserts} upserts in {secs:>6.2}s  = {:>8.0} upserts/s",
        upserts as f64 / secs
    );
}

#[tokio::main]
async fn main() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let dir = std::env::temp_dir().join(format!("orderbridge-bench-{}", uuid::Uuid::new_v4()));
    let db = orderbridge::store::embedded::Db::open(dir.join("bench.sqlite3")).unwrap();
    let embedded: Arc<dyn OrderStore> = Arc::new(orderbridge::store::embedded::EmbeddedStore::new(
        db,
        clock.clone(),
    ));
    measure("embedded (SQLite, WAL)", embedded.clone(), 1, 0).await;
    measure("embedded (SQLite, WAL)", embedded, 8, N).await;
    let _ = std::fs::remove_dir_all(&dir);

    if std::env::var("AWS_ENDPOINT_URL").is_err() {
        println!("dynamodb: skipped (set AWS_ENDPOINT_URL, e.g. run through scripts/with-moto)");
        return;
    }
    let conf = orderbridge::store::dynamo::sdk_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let table = format!("bench-{}", uuid::Uuid::new_v4().simple());
    orderbridge::store::provision::provision_table(&ddb, &table)
        .await
        .unwrap();
    let dynamo: Arc<dyn OrderStore> = Arc::new(orderbridge::store::dynamo::DynamoStore::new(
        ddb, table, clock,
    ));
    measure("dynamodb (moto)", dynamo.clone(), 1, 0).await;
    measure("dynamodb (moto)", dynamo, 8, N).await;
}
