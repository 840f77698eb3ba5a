//! fulfillment-push: performs every outbound write, one sync-queue job at a time.
//!
//! The queue delivers at least once, platforms time out after applying a write, and the same job can
//! arrive three times; the merchant must see each effect once. So:
//!
//! - each record is parsed on its own (a bad body fails only that record) and records run concurrently
//!   with a bound; the failed message ids go back to SQS (`ReportBatchItemFailures`);
//! - each job claims an idempotency record keyed by what it does (a tracking push: by the Genstore order's
//!   source version, so new packages push again); a completed job is not done twice;
//! - Google operation ids derive from the same facts, so a retry after a timeout is answered `duplicate`;
//!   Genstore does not deduplicate creates, so before creating anything twice the job looks for it first;
//! - every write appends to the order's audit trail, and the channel's fresh state is saved afterwards;
//! - a retryable failure goes back to the queue and waits there, longer each time (its visibility is
//!   set to an exponential backoff by its receive count, up to [`Backoff::cap`]); a platform failing every
//!   call opens its breaker, so its jobs wait without calling it. An outage is ridden out, not
//!   dead-lettered: see [`Backoff`] for the figures;
//! - a permanent failure (the platform says the request is invalid) completes the idempotency record as
//!   failed, is audited and logged, and is moved to the DLQ at once (the DLQ holds only what will not
//!   pass by itself). A replay from the DLQ ([`forget_failure`](orderbridge::idempotency::forget_failure)) forgets that record, so the job runs
//!   again once its cause is fixed;
//! - near the Lambda deadline no record is started, and a running one is cut off with the time left:
//!   what was not finished goes back to the queue, visible again at once;
//! - an order the poller could not read arrives as an `import_order` job: read, saved newer-wins, and its
//!   follow-up jobs queued, exactly as the poll would have (a read and an upsert, safe to repeat as is).

#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod inbound;
mod mirror;
mod outbound;
mod reversals;

use futures::stream::{self, StreamExt};
use mirror::{import, mirror, refresh, refresh_google, sync_hold, write_merchant_id};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::GenstoreClient;
use orderbridge::channels::google::client::GoogleClient;
use orderbridge::channels::google::wire as g;
use orderbridge::channels::http::{ClientError, ErrorKind};
use orderbridge::channels::zonos::client::ZonosClient;
use orderbridge::compliance;
use orderbridge::idempotency::{idempotency_key, stored, Lookup};
use orderbridge::ids::ChannelOrderId;
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::order::ChannelOrder;
use orderbridge::store::{
    AuditEntry, AuditOutcome, Claim, IdempotencyError, IdempotencyTtl, OrderKey, Storage,
    SyncQueue, WorkResult,
};
use outbound::{google_line, tracking_to_google, tracking_to_zonos};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// What the function works with, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// The order table (and idempotency, audit, cursors).
    pub store: Arc<dyn Storage>,
    /// The sync queue, for the follow-up jobs of a parked import.
    pub queue: Arc<dyn SyncQueue>,
    /// Genstore, when enabled.
    pub genstore: Option<GenstoreClient>,
    /// Zonos, when enabled.
    pub zonos: Option<ZonosClient>,
    /// Google, when enabled.
    pub google: Option<GoogleClient>,
    /// Records processed at once.
    pub concurrency: usize,
    /// Idempotency lifetimes.
    pub idempotency: IdempotencyTtl,
    /// Where a job that failed for good goes at once; without it, it stays for the queue's redrive.
    pub dead_letters: Option<Arc<dyn SyncQueue>>,
    /// How long a failed job waits before it is tried again.
    pub backoff: Backoff,
}

/// How long a job that failed, but may succeed later, waits before it is tried again: `base` after the
/// first receive, doubling with each receive, at most `cap`, plus up to a tenth more at random so jobs
/// that failed together do not return together.
///
/// Decision (the figures the template is sized by): 30 s doubling to 30 min means a job is received
/// 7 times in its first hour and twice an hour after that; with the redrive at 30 receives, a job keeps
/// trying for about 12 hours before the queue dead-letters it. A 6-hour outage of any platform costs
/// about 18 receives and dead-letters nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first wait.
    pub base: std::time::Duration,
    /// The longest wait.
    pub cap: std::time::Duration,
    /// No record is started with less time than this before the deadline.
    pub min_time_left: std::time::Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: std::time::Duration::from_secs(30),
            cap: std::time::Duration::from_secs(30 * 60),
            min_time_left: std::time::Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The wait after the `receive_count`-th receive failed.
    pub fn delay(&self, receive_count: u32) -> std::time::Duration {
        let doublings = receive_count.saturating_sub(1).min(20);
        let wait = self
            .base
            .saturating_mul(1u32.checked_shl(doublings).unwrap_or(u32::MAX))
            .min(self.cap);
        let jitter = wait
            .checked_div(10)
            .unwrap_or_default()
            .mul_f64(fastrand::f64());
        wait.saturating_add(jitter)
    }
}

/// One SQS record.
#[derive(Debug, Clone)]
pub struct Record {
    /// The message id (what a failure reports).
    pub message_id: String,
    /// The body.
    pub body: String,
    /// The receipt handle, to hide the message for its backoff (none: it reappears after the queue's
    /// visibility timeout).
    pub receipt: Option<String>,
    /// How often it was received, this time included (SQS `ApproximateReceiveCount`).
    pub receive_count: u32,
}

impl Record {
    /// A record as first received.
    pub fn new(message_id: impl Into<String>, body: impl Into<String>) -> Self {
        Record {
            message_id: message_id.into(),
            body: body.into(),
            receipt: None,
            receive_count: 1,
        }
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done (now or before).
    Done(String),
    /// Failed; may succeed later.
    Retry(String),
    /// Failed; the same job will fail again.
    Permanent(String),
    /// Not done yet: the order's state on its channel blocks it until the channel moves it on (a Zonos
    /// vendor status during fraud review). The job is kept on the order and queued again by the first
    /// state that no longer blocks it ([`orderbridge::sync::park_waiting`]).
    Waiting(String),
}

/// Processes a batch with no deadline; returns the ids of the records that failed (never an empty id).
pub async fn handle_batch(deps: &Deps, records: Vec<Record>) -> Vec<String> {
    handle_batch_until(deps, records, None).await
}

/// Processes a batch before `deadline`: no record starts with less than [`Backoff::min_time_left`]
/// left, and a running one is cut off at the deadline less that margin. Returns the ids of the
/// records to hand back to the queue. A job that may succeed later is hidden for its backoff first; a
/// job that failed for good is moved to the dead-letter queue and not handed back.
pub async fn handle_batch_until(
    deps: &Deps,
    records: Vec<Record>,
    deadline: Option<std::time::Instant>,
) -> Vec<String> {
    let started = std::time::Instant::now();
    let margin = deps.backoff.min_time_left;
    let time_left =
        move || deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
    let outcomes: Vec<(Record, Outcome, bool)> = stream::iter(records)
        .map(|r| async move {
            match time_left() {
                Some(left) if left <= margin => (
                    r,
                    Outcome::Retry("not started: the deadline is near".into()),
                    false,
                ),
                Some(left) => {
                    let budget = left.saturating_sub(margin);
                    match tokio::time::timeout(budget, handle_record(deps, &r.body)).await {
                        Ok(o) => (r, o, true),
                        Err(_) => (r, Outcome::Retry("cut off at the deadline".into()), false),
                    }
                }
                None => {
                    let o = handle_record(deps, &r.body).await;
                    (r, o, true)
                }
            }
        })
        .buffer_unordered(deps.concurrency.max(1))
        .collect()
        .await;
    let mut failed = Vec::new();
    for (record, outcome, ran) in outcomes {
        let id = record.message_id.clone();
        let parsed = SyncJob::from_body(&record.body).ok();
        let kind = parsed.as_ref().map_or("unreadable", |j| j.job.kind());
        let cause = parsed
            .and_then(|j| j.cause)
            .map(|c| orderbridge::telemetry::clean_cause(&c))
            .unwrap_or_default();
        let result = match &outcome {
            Outcome::Done(_) => "done",
            Outcome::Retry(_) => "retry",
            Outcome::Permanent(_) => "failed",
            Outcome::Waiting(_) => "waiting",
        };
        orderbridge::metrics::count("Jobs", &[("Kind", kind), ("Outcome", result)], 1);
        let hand_back = match &outcome {
            Outcome::Done(what) => {
                tracing::info!(message_id = id, kind, cause, outcome = "done", what, "job");
                false
            }
            Outcome::Waiting(why) => {
                tracing::info!(
                    message_id = id,
                    kind,
                    cause,
                    outcome = "waiting",
                    why,
                    "job"
                );
                false
            }
            Outcome::Retry(why) => {
                // A job that ran and failed waits its backoff; one the deadline stopped comes back at once.
                let wait = if ran {
                    deps.backoff.delay(record.receive_count)
                } else {
                    std::time::Duration::ZERO
                };
                tracing::warn!(
                    message_id = id,
                    kind,
                    cause,
                    outcome = "retry",
                    why,
                    receive_count = record.receive_count,
                    wait_s = wait.as_secs(),
                    "job"
                );
                if let Some(receipt) = &record.receipt {
                    if let Err(e) = deps.queue.hide_for(receipt, wait).await {
                        tracing::warn!(error = %e, "could not set the job's backoff; it returns after the queue's visibility timeout");
                    }
                }
                true
            }
            Outcome::Permanent(why) => {
                tracing::error!(
                    message_id = id,
                    kind,
                    cause,
                    outcome = "permanent",
                    why,
                    "job"
                );
                match &deps.dead_letters {
                    Some(dlq) => match dlq.send_raw(std::slice::from_ref(&record.body)).await {
                        Ok(1) => false,
                        Ok(_) | Err(_) => {
                            tracing::warn!(
                                message_id = id,
                                "could not move the job to the DLQ; the queue's redrive will"
                            );
                            true
                        }
                    },
                    None => true,
                }
            }
        };
        if hand_back && !id.trim().is_empty() {
            failed.push(id);
        }
    }
    orderbridge::metrics::handler_latency(started);
    failed
}

/// Processes one record's body, under the cause it carries (its logs and audit entries say it).
pub async fn handle_record(deps: &Deps, body: &str) -> Outcome {
    let job = match SyncJob::from_body(body) {
        Ok(j) => j,
        Err(e) => return Outcome::Permanent(e.to_string()),
    };
    match job.cause.clone() {
        Some(cause) => {
            orderbridge::telemetry::with_cause(
                orderbridge::telemetry::clean_cause(&cause),
                handle_job(deps, job),
            )
            .await
        }
        None => handle_job(deps, job).await,
    }
}

async fn handle_job(deps: &Deps, job: SyncJob) -> Outcome {
    if let Job::ImportOrder {
        channel,
        order_id,
        listing,
    } = &job.job
    {
        // A read and a newer-wins save, then jobs with their own idempotency: safe to repeat as is.
        return import(deps, *channel, order_id, listing.as_ref()).await;
    }
    let key = match idempotency_key(&*deps.store, &job.job).await {
        Ok(k) => k,
        Err(l) => return l.into(),
    };
    // What the job does, not what caused it: the same job from a webhook and from a poll is one job.
    let hash = hex::encode(Sha256::digest(job.without_cause().to_body().as_bytes()));
    match deps.store.claim(&key, &hash, deps.idempotency).await {
        Ok(Claim::Acquired) => {}
        Ok(Claim::Completed(result)) => {
            return match serde_json::from_value::<WorkResult>(result) {
                Ok(WorkResult::Failed(reason)) => {
                    Outcome::Permanent(format!("failed before: {reason}"))
                }
                _ => Outcome::Done(format!("{} (done before)", job.job.kind())),
            }
        }
        Ok(Claim::InProgress { .. }) => {
            return Outcome::Retry("another delivery of this job is in progress".into())
        }
        Err(IdempotencyError::PayloadMismatch { key }) => {
            return Outcome::Permanent(format!("idempotency key {key} reused for different work"))
        }
        Err(IdempotencyError::Store(e)) => return Outcome::Retry(e.to_string()),
    }
    let mut outcome = run_job(deps, &job.job).await;
    if let Some((channel, order_id)) = waits_on(&job.job) {
        let kept = match &outcome {
            Outcome::Waiting(_) => {
                orderbridge::sync::park_waiting(&*deps.store, channel, order_id.as_str(), &job)
                    .await
            }
            Outcome::Done(_) | Outcome::Permanent(_) => {
                orderbridge::sync::unpark_waiting(&*deps.store, channel, order_id.as_str(), &job)
                    .await
            }
            Outcome::Retry(_) => Ok(()),
        };
        if let Err(e) = kept {
            if matches!(outcome, Outcome::Waiting(_)) {
                // Not kept: the queue must keep it instead.
                outcome = Outcome::Retry(format!("waiting job not kept: {e}"));
            } else {
                tracing::warn!(error = %e, "waiting job not forgotten; it runs once more and finds its work done");
            }
        }
    }
    let settled = match &outcome {
        Outcome::Done(what) => {
            deps.store
                .complete(
                    &key,
                    &WorkResult::Done(what.clone()).to_json(),
                    deps.idempotency,
                )
                .await
        }
        Outcome::Permanent(why) => {
            deps.store
                .complete(
                    &key,
                    &WorkResult::Failed(why.clone()).to_json(),
                    deps.idempotency,
                )
                .await
        }
        Outcome::Retry(_) | Outcome::Waiting(_) => deps.store.release(&key).await,
    };
    if let Err(e) = settled {
        tracing::warn!(error = %e, "idempotency record not settled; it expires by itself");
    }
    outcome
}

/// The order a job may wait on: a write to Zonos, whose vendor status can be blocked for a while.
fn waits_on(job: &Job) -> Option<(Channel, &ChannelOrderId)> {
    match job {
        Job::PushTrackingToChannel {
            channel: Channel::Zonos,
            order_id,
            ..
        }
        | Job::PushCancellation {
            to: Channel::Zonos,
            order_id,
            ..
        } => Some((Channel::Zonos, order_id)),
        _ => None,
    }
}

/// A job whose order could not be read is worth a retry, whichever way.
impl From<Lookup> for Outcome {
    fn from(l: Lookup) -> Self {
        Outcome::Retry(l.to_string())
    }
}

/// A platform failure as an outcome: permanent when retrying cannot help.
fn failure(e: ClientError) -> Outcome {
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

async fn load(deps: &Deps, channel: Channel, id: &str) -> Result<ChannelOrder, Outcome> {
    Ok(stored(&*deps.store, channel, id).await?)
}

async fn audit(
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

/// Audits a write's result and turns it into a `Result` for `?`.
/// A Google write, audited: a duplicate when Google answers that the operation was done before.
async fn google_write(
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

async fn audited<T>(
    deps: &Deps,
    key: &OrderKey,
    op: &str,
    target: Channel,
    action: &str,
    result: Result<T, ClientError>,
    duplicate: impl Fn(&T) -> bool,
) -> Result<T, Outcome> {
    match result {
        Ok(v) => {
            let outcome = if duplicate(&v) {
                AuditOutcome::Duplicate
            } else {
                AuditOutcome::Executed
            };
            audit(deps, key, op, target, action, outcome).await;
            Ok(v)
        }
        Err(e) if e.kind == ErrorKind::Blocked => {
            audit(
                deps,
                key,
                op,
                target,
                action,
                AuditOutcome::Skipped {
                    reason: format!("waiting: {}", e.message),
                },
            )
            .await;
            Err(Outcome::Waiting(format!("{action} waits: {}", e.message)))
        }
        Err(e) if e.kind == ErrorKind::Refused => {
            audit(
                deps,
                key,
                op,
                target,
                action,
                AuditOutcome::Skipped {
                    reason: e.message.clone(),
                },
            )
            .await;
            Err(Outcome::Done(format!("{action} skipped: {}", e.message)))
        }
        Err(e) => {
            audit(
                deps,
                key,
                op,
                target,
                action,
                AuditOutcome::Failed {
                    reason: e.to_string(),
                    retryable: e.retryable,
                },
            )
            .await;
            Err(failure(e))
        }
    }
}

/// Records on the order's trail, once per `what`, that a change cannot be pushed because the platform
/// has no call for it.
async fn record_once(
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

fn client<'a, T>(c: &'a Option<T>, name: &str) -> Result<&'a T, Outcome> {
    c.as_ref()
        .ok_or_else(|| Outcome::Retry(format!("{name} is not configured")))
}

async fn run_job(deps: &Deps, job: &Job) -> Outcome {
    match job {
        Job::MirrorOrder { channel, order_id } => mirror(deps, *channel, order_id).await,
        Job::WriteMerchantOrderId {
            channel,
            order_id,
            genstore_order_id,
        } => {
            let key = OrderKey::new(*channel, order_id.clone());
            attempt!(write_merchant_id(deps, &key, genstore_order_id).await);
            Outcome::Done("merchant order id written".into())
        }
        Job::PushTrackingToChannel {
            channel,
            order_id,
            genstore_order_id,
        } => match channel {
            Channel::Google => tracking_to_google(deps, order_id, genstore_order_id).await,
            Channel::Zonos => tracking_to_zonos(deps, order_id, genstore_order_id).await,
            Channel::Genstore => Outcome::Permanent(
                "tracking is pushed to an external channel, not to Genstore".into(),
            ),
        },
        Job::PushTrackingToGenstore {
            channel,
            order_id,
            genstore_order_id,
        } => inbound::tracking_to_genstore(deps, *channel, order_id, genstore_order_id).await,
        Job::PushCancellation {
            from,
            to,
            order_id,
            genstore_order_id,
        } => reversals::cancellation(deps, *from, *to, order_id, genstore_order_id).await,
        Job::PushRefund {
            channel,
            order_id,
            genstore_order_id,
            refund_id,
        } => reversals::refund(deps, *channel, order_id, genstore_order_id, refund_id).await,
        Job::SyncHold {
            channel,
            order_id,
            genstore_order_id,
        } => sync_hold(deps, *channel, order_id, genstore_order_id).await,
        Job::ImportOrder {
            channel,
            order_id,
            listing,
        } => import(deps, *channel, order_id, listing.as_ref()).await,
        Job::RedactPersonalData { request_id, scope } => {
            match compliance::redact(&*deps.store, scope, request_id).await {
                Ok(r) => Outcome::Done(format!(
                    "personal data erased: {} of {} orders, {} audit entries",
                    r.erased, r.orders, r.audit_entries
                )),
                Err(e) => Outcome::Retry(e.to_string()),
            }
        }
        Job::RecordDataRequest { request_id, scope } => {
            match compliance::record_data_request(&*deps.store, scope, request_id).await {
                Ok(n) => Outcome::Done(format!(
                    "data request recorded on {n} orders; `orderbridge customer-data` produces it"
                )),
                Err(e) => Outcome::Retry(e.to_string()),
            }
        }
    }
}
