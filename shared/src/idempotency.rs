//! A job's idempotency key — what it does and, for a push of changing state, which state — derived from
//! the job and the order it acts on. Shared by fulfillment-push, which claims the key before it writes,
//! and the operator's DLQ replay, which forgets a failure kept under it ([`forget_failure`]).

use crate::channel::Channel;
use crate::jobs::{Job, SyncJob};
use crate::order::ChannelOrder;
use crate::store::{OrderKey, OrderStore, Storage, StoreError};
use sha2::{Digest, Sha256};

/// Lets a dead-lettered job run again: forgets the failure its idempotency record keeps, so the replayed
/// job calls the platform instead of answering "failed before". True if there was one; work that
/// succeeded stays done. A body that is not a job, or names an order the table lacks, has no record.
/// An error only if the store could not be read or written.
pub async fn forget_failure(store: &dyn Storage, body: &str) -> Result<bool, String> {
    let Ok(job) = SyncJob::from_body(body) else {
        return Ok(false);
    };
    if matches!(job.job, Job::ImportOrder { .. }) {
        return Ok(false);
    }
    let key = match idempotency_key(store, &job.job).await {
        Ok(k) => k,
        Err(Lookup::Missing(_)) => return Ok(false),
        Err(Lookup::Store(e)) => return Err(e.to_string()),
    };
    store.forget_failure(&key).await.map_err(|e| e.to_string())
}

/// The idempotency key of a job: what it does, and for pushes of changing state, which state.
pub async fn idempotency_key(store: &dyn OrderStore, job: &Job) -> Result<String, Lookup> {
    Ok(match job {
        Job::MirrorOrder { channel, order_id } => format!("mirror:{channel}:{order_id}"),
        Job::WriteMerchantOrderId {
            channel,
            order_id,
            genstore_order_id,
        } => {
            format!("merchant-id:{channel}:{order_id}:{genstore_order_id}")
        }
        Job::PushTrackingToChannel {
            channel,
            order_id,
            genstore_order_id,
        } => {
            // By version and by packages: two corrections within one second of Genstore's `updatedAt`
            // tie on the version, and are still two pushes.
            let mirror = stored(store, Channel::Genstore, genstore_order_id.as_str()).await?;
            format!(
                "tracking-to:{channel}:{order_id}:{}",
                packages_state(&mirror)
            )
        }
        Job::PushTrackingToGenstore {
            channel, order_id, ..
        } => {
            // By version and by packages: a corrected number leaves Google's and Zonos' version as it was.
            let order = stored(store, *channel, order_id.as_str()).await?;
            format!(
                "tracking-from:{channel}:{order_id}:{}",
                packages_state(&order)
            )
        }
        Job::PushCancellation {
            from,
            to,
            order_id,
            genstore_order_id,
        } => {
            // By how much is cancelled on the side it comes from: a later partial cancellation, or
            // the whole order after part of it, pushes again.
            let source = if *from == Channel::Genstore {
                genstore_order_id.as_str()
            } else {
                order_id.as_str()
            };
            let o = stored(store, *from, source).await?;
            let whole = if o.wholly_cancelled() { "all" } else { "part" };
            format!(
                "cancel:{from}:{to}:{order_id}:{whole}:{}",
                crate::sync::cancelled_units(&o)
            )
        }
        Job::PushRefund {
            channel,
            order_id,
            refund_id,
            ..
        } => format!("refund:{channel}:{order_id}:{refund_id}"),
        Job::SyncHold {
            channel, order_id, ..
        } => {
            let v = version_of(store, *channel, order_id.as_str()).await?;
            format!("hold:{channel}:{order_id}:{v}")
        }
        Job::RecordReversals {
            channel, order_id, ..
        } => {
            let v = version_of(store, *channel, order_id.as_str()).await?;
            format!("reversals:{channel}:{order_id}:{v}")
        }
        Job::ImportOrder {
            channel, order_id, ..
        } => format!("import:{channel}:{order_id}"),
        Job::RedactPersonalData { request_id, .. } => format!("redact:{request_id}"),
        Job::RecordDataRequest { request_id, .. } => format!("data-request:{request_id}"),
    })
}

/// An order's packages as a key part: its source version and a digest of its packages, since a package's
/// number can change while the version stays (see the two tracking pushes above).
fn packages_state(order: &ChannelOrder) -> String {
    let packages = serde_json::to_vec(&order.shipments).unwrap_or_default();
    let digest = hex::encode(Sha256::digest(&packages));
    format!(
        "{}:{}",
        order.source_version().sort_key(),
        digest.get(..16).unwrap_or(&digest)
    )
}

async fn version_of(store: &dyn OrderStore, channel: Channel, id: &str) -> Result<String, Lookup> {
    Ok(stored(store, channel, id)
        .await?
        .source_version()
        .sort_key())
}

/// Why an order a job needs could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Lookup {
    /// Not in the table (yet: its import or webhook may still come).
    #[error("order {0} is not in the table yet")]
    Missing(OrderKey),
    /// The table could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The order as the table holds it.
pub async fn stored(
    store: &dyn OrderStore,
    channel: Channel,
    id: &str,
) -> Result<ChannelOrder, Lookup> {
    let key = OrderKey::new(channel, id);
    match store.get(&key).await {
        Ok(Some(s)) => Ok(s.order),
        Ok(None) => Err(Lookup::Missing(key)),
        Err(e) => Err(Lookup::Store(e)),
    }
}
