//! Jobs that wait on a Zonos order's status (fraud review, on hold, labels processing): kept on the
//! order ([`orderbridge::sync::park_waiting`]) and queued again by the first state the poller saves that
//! no longer blocks them ([`orderbridge::sync::apply_external_order`]).
//!
//! Keeping a job races that save: the job reads Zonos (blocked), Zonos releases the order, the poller
//! saves the release and finds nothing waiting, and only then is the job kept. Nothing would queue it
//! again, and the order would wait for a write that never comes. So the stored order's version is read
//! before the job runs, and again once it is kept: if the poller saved a state meanwhile that does not
//! block, the job goes back to the queue instead (it stays on the list until it runs, so nothing is
//! lost either way).
//!
//! Decision: the stored state counts only when it changed while the job ran. A stored state that never
//! showed the block (the poller has not seen it yet) will: the poller saves the block, then the
//! release, and the release queues the job.

use crate::{Deps, Outcome};
use orderbridge::channel::Channel;
use orderbridge::ids::ChannelOrderId;
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::store::OrderKey;

/// The order a job may wait on: a write to Zonos, whose vendor status can be blocked for a while, and a
/// tracking push to a channel that holds the order.
pub(crate) fn waits_on(job: &Job) -> Option<(Channel, &ChannelOrderId)> {
    match job {
        Job::PushTrackingToChannel {
            channel, order_id, ..
        } => Some((*channel, order_id)),
        Job::PushCancellation {
            to: Channel::Zonos,
            order_id,
            ..
        } => Some((Channel::Zonos, order_id)),
        _ => None,
    }
}

/// The stored version of the order a job may wait on, before it runs (`None`: the job waits on
/// nothing, or the order is not stored, or the read failed: then a kept job stays kept, as before).
pub(crate) async fn version_before(deps: &Deps, job: &Job) -> Option<u64> {
    let (channel, order_id) = waits_on(job)?;
    let key = OrderKey::new(channel, order_id.as_str());
    deps.store.get(&key).await.ok().flatten().map(|s| s.version)
}

/// Keeps a job that waits (or forgets one that ran), and decides what the queue does with it.
pub(crate) async fn settle(
    deps: &Deps,
    job: &SyncJob,
    outcome: Outcome,
    before: Option<u64>,
) -> Outcome {
    let Some((channel, order_id)) = waits_on(&job.job) else {
        return outcome;
    };
    let store = &*deps.store;
    match outcome {
        Outcome::Waiting(why) => {
            if let Err(e) =
                orderbridge::sync::park_waiting(store, channel, order_id.as_str(), job).await
            {
                // Not kept: the queue must keep it instead.
                return Outcome::Retry(format!("waiting job not kept: {e}"));
            }
            let key = OrderKey::new(channel, order_id.as_str());
            match store.get(&key).await {
                Ok(Some(now))
                    if before.is_some_and(|v| v != now.version)
                        && !orderbridge::sync::blocks_for_now(&now.order) =>
                {
                    Outcome::Retry(format!(
                        "{why}; the order moved on while it was being kept, so it runs again"
                    ))
                }
                _ => Outcome::Waiting(why),
            }
        }
        Outcome::Done(_) | Outcome::Permanent(_) => {
            if let Err(e) =
                orderbridge::sync::unpark_waiting(store, channel, order_id.as_str(), job).await
            {
                tracing::warn!(error = %e, "waiting job not forgotten; it runs once more and finds its work done");
            }
            outcome
        }
        Outcome::Retry(_) => outcome,
    }
}
