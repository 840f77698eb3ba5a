//! One tracking push per order at a time, deployment-wide.
//!
//! Two pushes of one order's tracking can run at once: a correction lands while the push of the number
//! before it is still writing, on another instance or in the same batch. Going round again when the
//! order moved ([`crate::audit::moved`]) makes the last write the latest, but only after the slower push
//! has written its older number over the newer one: the customer would see the older number for a
//! moment, and the channel would get one write more. So a tracking push takes a lease on its order in
//! the table first (`push:{channel}:{order}`); a second push of that order waits for it, briefly, then
//! goes back to the queue and runs after it, from the state the first one left.
//!
//! Decisions: the lease lasts [`PUSH_LEASE`] as deployed, fulfillment-push's 60 s Lambda timeout (a push
//! is cut off before it, and its idempotency claim lasts as long), so a push that crashed holds up its
//! order for at most that long; a push waits for a held lease for at most [`WAIT`] before it is
//! retried with the queue's backoff. Should a push outlive its lease (one machine, no deadline), going
//! round again still makes its last write the latest.

use crate::{Deps, Outcome};
use orderbridge::channel::Channel;
use orderbridge::ids::ChannelOrderId;
use orderbridge::store::Lease;
use std::future::Future;

/// How long a push holds its order at most, as deployed ([`Deps::push_lease`]).
pub const PUSH_LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// How long a push waits for another push of the same order before it goes back to the queue.
const WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// How often a waiting push looks again.
const POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// Runs `push` holding the order's tracking lease; `Retry` when another push keeps it past [`WAIT`].
pub(crate) async fn one_at_a_time<F, Fut>(
    deps: &Deps,
    channel: Channel,
    order_id: &ChannelOrderId,
    push: F,
) -> Outcome
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Outcome>,
{
    // One name for an order's tracking, both ways.
    let name = orderbridge::store::RecordName::PushLease(channel, order_id.as_str()).to_string();
    // Each run is its own owner: two deliveries in one process must not share the lease.
    let owner = format!("push-{:016x}", fastrand::u64(..));
    let started = std::time::Instant::now();
    loop {
        match deps
            .store
            .acquire_lease(&name, &owner, deps.push_lease)
            .await
        {
            Ok(Lease::Acquired { .. }) => break,
            Ok(Lease::Held { until, .. }) if started.elapsed() >= WAIT => {
                return Outcome::Retry(format!(
                    "another tracking push of this order is running (its lease ends by {until})"
                ));
            }
            Ok(Lease::Held { .. }) => tokio::time::sleep(POLL).await,
            Err(e) => return Outcome::Retry(format!("tracking lease: {e}")),
        }
    }
    let outcome = push().await;
    if let Err(e) = deps.store.release_lease(&name, &owner).await {
        tracing::warn!(error = %e, "tracking lease not released; it expires by itself");
    }
    outcome
}
