//! The sample schedule events in `infra/events/` (for `cargo lambda invoke --data-file`) are accepted.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use order_poller::{Deadline, Deps, PollRequest, Settings};
use orderbridge::channel::Channel;
use orderbridge::clock::{Clock, SystemClock};
use orderbridge::store::embedded::{Db, EmbeddedQueue, EmbeddedStore};
use std::sync::Arc;

struct Forever;
impl Deadline for Forever {
    fn remaining(&self) -> std::time::Duration {
        std::time::Duration::from_secs(60)
    }
}

fn event(name: &str) -> serde_json::Value {
    let p = format!("{}/../../infra/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[tokio::test]
async fn the_sample_schedule_events_are_accepted() {
    assert_eq!(
        PollRequest::from_event(&event("schedule.json")).unwrap(),
        PollRequest::default()
    );
    let backfill = PollRequest::from_event(&event("schedule-backfill.json"))
        .unwrap()
        .backfill
        .unwrap();
    assert_eq!(backfill.channel, Channel::Zonos);
    let db = Db::in_memory().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(EmbeddedStore::new(db.clone(), clock.clone()));
    let queue = Arc::new(EmbeddedQueue::new(db, "sync", None, clock));
    // No platform is configured: there is nothing to poll.
    let (clients, settings, shops) = (Default::default(), Settings::default(), Arc::default());
    let deps = Deps::build(store, queue, clients, settings, shops);
    let summary = order_poller::run(
        &deps,
        PollRequest::from_event(&event("schedule.json")).unwrap(),
        &Forever,
    )
    .await;
    assert!(
        summary.ok() && summary.channels.is_empty(),
        "no channel configured, nothing to do: {summary:?}"
    );
}
