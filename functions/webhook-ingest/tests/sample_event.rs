//! The sample event in `infra/events/` (for `cargo lambda invoke --data-file`) is accepted.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use orderbridge::clock::{Clock, SystemClock};
use orderbridge::secrets::Secret;
use orderbridge::store::embedded::{Db, EmbeddedQueue, EmbeddedStore};
use std::sync::Arc;
use webhook_ingest::{handle, lambda, Deps};

#[tokio::test]
async fn the_sample_webhook_event_is_accepted() {
    let event = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/events/webhook-orders-create.json"
    ))
    .unwrap();
    let db = Db::in_memory().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let shops = webhook_ingest::ShopKeys::single(
        vec![Secret::new("sample-webhook-secret")],
        Some("demo.genmystore.com".into()),
    );
    let deps = Deps::build(
        Arc::new(EmbeddedStore::new(db.clone(), clock.clone())),
        Arc::new(EmbeddedQueue::new(db, "sync", None, clock)),
        shops,
        webhook_ingest::DEFAULT_MAX_BODY,
    );
    let req = lambda_http::request::from_str(&event).unwrap();
    let out = handle(&deps, lambda::inbound(req)).await;
    assert_eq!(out.status, 200, "{out:?}");
    assert_eq!(out.body["outcome"], "created");
}
