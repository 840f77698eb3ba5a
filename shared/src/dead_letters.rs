//! The operator's dead-letter actions, for the CLI and anything else that operates a deployment:
//! listing what failed for good without taking it away, and replaying it — a job that failed for good
//! has that failure forgotten first ([`forget_failure`](crate::idempotency::forget_failure)), so it
//! runs again once its cause is fixed, while work that succeeded stays done.

use crate::store::{ReceivedMessage, Storage, SyncQueue};
use serde::Serialize;

/// A dead letter as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    /// The queue's message id.
    pub message_id: String,
    /// The job's kind (`mirror_order`, …), or why the body is unreadable.
    pub job: String,
    /// The order it is for (`zonos:999-1`), when the body is a job.
    pub order: Option<String>,
    /// The shop of that order, when the body is a job.
    pub shop: Option<crate::shop::ShopId>,
    /// The message body as queued.
    pub body: String,
}

/// The dead letters, left where they are: each is read once, then made visible again, so a replay can
/// follow at once.
pub async fn list(dlq: &dyn SyncQueue) -> Result<Vec<DeadLetter>, String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut receipts = Vec::new();
    let listed = loop {
        let batch: Vec<ReceivedMessage> = match dlq.receive(10, chrono::Duration::seconds(30)).await
        {
            Ok(b) => b,
            Err(e) => break Err(e.to_string()),
        };
        let fresh: Vec<ReceivedMessage> = batch
            .into_iter()
            .filter(|m| seen.insert(m.message_id.clone()))
            .collect();
        if fresh.is_empty() {
            break Ok(());
        }
        for m in fresh {
            let (job, order, shop) = match m.job() {
                Ok(j) => (j.to_string(), Some(j.job.order()), Some(j.shop)),
                Err(e) => (format!("unreadable: {e}"), None, None),
            };
            out.push(DeadLetter {
                message_id: m.message_id,
                job,
                order,
                shop,
                body: m.body,
            });
            receipts.push(m.receipt);
        }
    };
    for r in &receipts {
        // Should this fail, the letter reappears by itself when its 30 s are up.
        if let Err(e) = dlq.unhide(r).await {
            tracing::warn!(error = %e, "a listed dead letter stays hidden until its visibility timeout");
        }
    }
    listed.map(|()| out)
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Replayed {
    /// Dead letters sent back to the sync queue.
    pub sent: usize,
    /// Of those, jobs whose failure was recorded for good and was forgotten, so they run again.
    pub forgotten: usize,
    /// Dead letters of other shops, left in the dead-letter queue.
    pub other_shops: usize,
}

/// Moves the dead letters of the shop `only` (none: of every shop) back to the sync queue. A job that
/// failed for good (the platform refused it) has that failure forgotten first, in its shop's part of
/// the table, so it runs again now that its cause is presumably fixed; work that succeeded stays done.
/// Other shops' dead letters stay where they are (hidden while the replay runs, then visible again).
pub async fn replay(
    store: &std::sync::Arc<dyn Storage>,
    dlq: &dyn SyncQueue,
    queue: &dyn SyncQueue,
    only: Option<&crate::shop::ShopId>,
) -> Result<Replayed, String> {
    let mut done = Replayed::default();
    let mut left = Vec::new();
    let result = replay_into(store, dlq, queue, only, &mut done, &mut left).await;
    for r in &left {
        if let Err(e) = dlq.unhide(r).await {
            tracing::warn!(error = %e, "another shop's dead letter stays hidden until its visibility timeout");
        }
    }
    result.map(|()| done)
}

async fn replay_into(
    store: &std::sync::Arc<dyn Storage>,
    dlq: &dyn SyncQueue,
    queue: &dyn SyncQueue,
    only: Option<&crate::shop::ShopId>,
    done: &mut Replayed,
    left: &mut Vec<String>,
) -> Result<(), String> {
    loop {
        let received = dlq
            .receive(10, chrono::Duration::seconds(60))
            .await
            .map_err(|e| e.to_string())?;
        if received.is_empty() {
            return Ok(());
        }
        let mut batch = Vec::with_capacity(received.len());
        for m in received {
            // Each job's failure is kept in its shop's part of the table.
            let shop = m.job().map(|j| j.shop).unwrap_or_default();
            if only.is_some_and(|o| *o != shop) {
                done.other_shops = done.other_shops.saturating_add(1);
                left.push(m.receipt);
                continue;
            }
            let in_shop = crate::store::ShopStore::scoped(store.clone(), &shop);
            if crate::idempotency::forget_failure(&*in_shop, &m.body).await? {
                done.forgotten = done.forgotten.saturating_add(1);
            }
            batch.push(m);
        }
        if batch.is_empty() {
            continue;
        }
        let bodies: Vec<String> = batch.iter().map(|m| m.body.clone()).collect();
        let sent = queue.send_raw(&bodies).await.map_err(|e| e.to_string())?;
        if sent != bodies.len() {
            return Err(format!(
                "only {sent} of {} dead letters could be sent back; the rest stay",
                bodies.len()
            ));
        }
        for m in &batch {
            dlq.delete(&m.receipt).await.map_err(|e| e.to_string())?;
        }
        done.sent = done.sent.saturating_add(batch.len());
    }
}
