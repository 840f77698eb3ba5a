//! Jobs that wait on an order's state: kept on the order while its channel blocks them (a Zonos fraud
//! review, a hold), queued again by the first state that no longer does.

use crate::channel::Channel;
use crate::jobs::SyncJob;
use crate::order::ChannelOrder;
use crate::store::{CursorStore, StoreError};

/// True while the order's channel status holds back the writes that wait on it (Zonos: fraud review,
/// on hold, labels processing; any channel: an order it holds, such as a Google order not yet
/// confirmed, whose mirror's fulfillments wait for its release).
pub fn blocks_for_now(order: &ChannelOrder) -> bool {
    crate::channels::genstore::mapping::held(order)
        || (order.channel == Channel::Zonos
            && crate::channels::zonos::ZonosStatus::parse(&order.raw_status)
                .blocks_vendor_updates_for_now())
}

/// The jobs waiting on an order.
pub async fn waiting(
    store: &dyn CursorStore,
    channel: Channel,
    order_id: &str,
) -> Result<Vec<SyncJob>, StoreError> {
    let Some(c) = store
        .read(&crate::store::RecordName::Waiting(channel, order_id).to_string())
        .await?
    else {
        return Ok(Vec::new());
    };
    let bodies: Vec<String> = serde_json::from_str(&c.value).unwrap_or_default();
    Ok(bodies
        .iter()
        .filter_map(|b| SyncJob::from_body(b).ok())
        .collect())
}

/// Changes the list of jobs waiting on an order with `change` (compare-and-set, retried).
pub(super) async fn change_waiting(
    store: &dyn CursorStore,
    channel: Channel,
    order_id: &str,
    change: impl Fn(&mut Vec<String>) -> bool,
) -> Result<Option<String>, StoreError> {
    crate::store::update_json(
        store,
        &crate::store::RecordName::Waiting(channel, order_id).to_string(),
        5,
        change,
    )
    .await
}

/// Keeps a job that the order's channel status blocks for now (a Zonos vendor status during fraud
/// review): the next state of the order that no longer blocks it queues it again
/// ([`apply_external_order`](super::apply_external_order)), instead of the job being dropped or retried blindly for days.
pub async fn park_waiting(
    store: &dyn CursorStore,
    channel: Channel,
    order_id: &str,
    job: &SyncJob,
) -> Result<(), StoreError> {
    let body = job.without_cause().to_body();
    change_waiting(store, channel, order_id, |list| {
        if list.contains(&body) {
            return false;
        }
        list.push(body.clone());
        true
    })
    .await
    .map(drop)
}

/// Forgets a waiting job once it ran (done, or failed for good); the order's record goes with its
/// last job (only if still empty: a job kept meanwhile stays).
pub async fn unpark_waiting(
    store: &dyn CursorStore,
    channel: Channel,
    order_id: &str,
    job: &SyncJob,
) -> Result<(), StoreError> {
    let body = job.without_cause().to_body();
    let written = change_waiting(store, channel, order_id, |list| {
        let before = list.len();
        list.retain(|b| b != &body);
        list.len() != before
    })
    .await?;
    if let Some(empty) = written.filter(|w| w.as_str() == "[]") {
        store
            .remove(
                &crate::store::RecordName::Waiting(channel, order_id).to_string(),
                &empty,
            )
            .await?;
    }
    Ok(())
}
