//! A platform call's result, recorded: every write appends to its order's audit trail, and its error
//! becomes the job's outcome (waiting, skipped, retried or failed for good).

use crate::{Deps, Outcome};
use orderbridge::channel::Channel;
use orderbridge::channels::google::wire as g;
use orderbridge::channels::http::{ClientError, ErrorKind};
use orderbridge::channels::zonos::client::ZonosClient;
use orderbridge::channels::zonos::ZonosStatus;
use orderbridge::idempotency::stored;
use orderbridge::order::ChannelOrder;
use orderbridge::store::{AuditEntry, AuditOutcome, OrderKey};

/// A platform failure as an outcome: permanent when retrying cannot help.
pub(crate) fn failure(e: ClientError) -> Outcome {
    if e.retryable {
        Outcome::Retry(e.to_string())
    } else {
        Outcome::Permanent(e.to_string())
    }
}

macro_rules! attempt {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(o) => return o,
        }
    };
}
pub(crate) use attempt;

pub(crate) async fn load(deps: &Deps, channel: Channel, id: &str) -> Result<ChannelOrder, Outcome> {
    Ok(stored(&*deps.store, channel, id).await?)
}

/// How many times a tracking push goes round when the order it pushes from keeps changing under it
/// (see [`moved`]).
pub(crate) const SETTLE_ROUNDS: usize = 3;

/// The stored order, when its packages are no longer those `pushed` had. A tracking push (either way)
/// reads the order it pushes from, then the other side, then writes: when the order changed meanwhile
/// (a correction; a same-second tie decided by a re-read), another job may already have written the
/// newer state, and this write, made from the older one, would undo it. So a push whose order moved goes
/// round again with the newer state, and the last write is the latest. (Unreadable now: nothing to go
/// round with; the job that changed it pushes it.)
pub(crate) async fn moved(
    deps: &Deps,
    channel: Channel,
    id: &str,
    pushed: &ChannelOrder,
) -> Option<ChannelOrder> {
    load(deps, channel, id)
        .await
        .ok()
        .filter(|now| now.shipments != pushed.shipments)
}

pub(crate) async fn audit(
    deps: &Deps,
    key: &OrderKey,
    operation_id: &str,
    target: Channel,
    action: &str,
    outcome: AuditOutcome,
) {
    let entry = AuditEntry {
        operation_id: operation_id.to_owned(),
        target,
        action: action.to_owned(),
        outcome,
        at: chrono::Utc::now(),
        cause: orderbridge::telemetry::current_cause(),
    };
    if let Err(e) = deps.store.append(key, &entry).await {
        tracing::warn!(error = %e, action, "audit entry not written");
    }
}

/// A Google write, audited: a duplicate when Google answers that the operation was done before.
pub(crate) async fn google_write(
    deps: &Deps,
    key: &OrderKey,
    op: &str,
    action: &str,
    result: Result<g::ExecutionStatus, ClientError>,
) -> Result<g::ExecutionStatus, Outcome> {
    audited(deps, key, op, Channel::Google, action, result, |x| {
        *x == g::ExecutionStatus::Duplicate
    })
    .await
}

/// Audits a write's result and turns it into a `Result` for `?`.
pub(crate) async fn audited<T>(
    deps: &Deps,
    key: &OrderKey,
    op: &str,
    target: Channel,
    action: &str,
    result: Result<T, ClientError>,
    duplicate: impl Fn(&T) -> bool,
) -> Result<T, Outcome> {
    let (entry, result) = match result {
        Ok(v) if duplicate(&v) => (AuditOutcome::Duplicate, Ok(v)),
        Ok(v) => (AuditOutcome::Executed, Ok(v)),
        Err(e) if e.kind == ErrorKind::Blocked => (
            AuditOutcome::Skipped {
                reason: format!("waiting: {}", e.message),
            },
            Err(Outcome::Waiting(format!("{action} waits: {}", e.message))),
        ),
        Err(e) if e.kind == ErrorKind::Refused => (
            AuditOutcome::Skipped {
                reason: e.message.clone(),
            },
            Err(Outcome::Done(format!("{action} skipped: {}", e.message))),
        ),
        Err(e) => (
            AuditOutcome::Failed {
                reason: e.to_string(),
                retryable: e.retryable,
            },
            Err(failure(e)),
        ),
    };
    audit(deps, key, op, target, action, entry).await;
    result
}

/// Records on the order's trail, once per `what`, that a change cannot be pushed because the platform
/// has no call for it.
pub(crate) async fn record_once(
    deps: &Deps,
    key: &OrderKey,
    what: &str,
    target: Channel,
    action: &str,
    reason: String,
) -> Result<(), Outcome> {
    let marker = format!("no-call:{key}:{action}:{what}");
    let first = deps
        .store
        .claim_once(&marker, chrono::Duration::days(365))
        .await
        .map_err(|e| Outcome::Retry(e.to_string()))?;
    if first {
        audit(
            deps,
            key,
            what,
            target,
            action,
            AuditOutcome::Skipped { reason },
        )
        .await;
    }
    Ok(())
}

pub(crate) fn client<T>(c: &Option<T>, name: Channel) -> Result<&T, Outcome> {
    c.as_ref()
        .ok_or_else(|| Outcome::Retry(format!("{name} is not configured")))
}

/// Sets a Zonos order's vendor status, audited under an operation id of the order and the status.
pub(crate) async fn zonos_status(
    deps: &Deps,
    z: &ZonosClient,
    key: &OrderKey,
    status: &ZonosStatus,
) -> Result<(), Outcome> {
    let order_id = key.order_id.as_str();
    let op = format!("vendor-status:{order_id}:{status}");
    let sent = z.update_vendor_order_status(order_id, status).await;
    let action = "updateVendorOrderStatus";
    audited(deps, key, &op, Channel::Zonos, action, sent, |_| false)
        .await
        .map(|_| ())
}
