//! The sample SQS batch in `infra/events/` (for `cargo lambda invoke --data-file`) is accepted.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use aws_lambda_events::event::sqs::SqsEvent;
use fulfillment_push::{handle_batch, Deps, Record, Tuning};
use orderbridge::clock::{Clock, SystemClock};
use orderbridge::config::Clients;
use orderbridge::jobs::SyncJob;
use orderbridge::store::embedded::{Db, EmbeddedQueue, EmbeddedStore};
use std::sync::Arc;

#[tokio::test]
async fn the_sample_sqs_batch_is_accepted() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/events/sqs-batch.json"
    ))
    .unwrap();
    let event: SqsEvent = serde_json::from_str(&text).unwrap();
    let records: Vec<Record> = event
        .records
        .into_iter()
        .map(|r| Record::new(r.message_id.unwrap(), r.body.unwrap()))
        .collect();
    assert_eq!(records.len(), 2);
    for r in &records {
        SyncJob::from_body(&r.body).unwrap();
    }
    let db = Db::in_memory().unwrap();
    let clock = Arc::new(SystemClock) as Arc<dyn Clock>;
    let deps = Deps::build(
        Arc::new(EmbeddedStore::new(db.clone(), clock.clone())),
        Arc::new(EmbeddedQueue::new(db, "sync", None, clock)),
        Clients::default(),
        Default::default(),
        None,
        Tuning::default(),
    );
    // The orders are not in this empty table: both jobs are handed back for a retry, by their ids.
    let mut failed = handle_batch(&deps, records.clone()).await;
    failed.sort();
    let mut ids: Vec<String> = records.iter().map(|r| r.message_id.clone()).collect();
    ids.sort();
    assert_eq!(failed, ids);
}
