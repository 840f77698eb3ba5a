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
mod reversals;

use futures::stream::{self, StreamExt};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::GenstoreClient;
use orderbridge::channels::genstore::{self, wire as gw};
use orderbridge::channels::google::client::{operation_id, GoogleClient};
use orderbridge::channels::google::wire as g;
use orderbridge::channels::http::{ClientError, ErrorKind};
use orderbridge::channels::zonos::client::ZonosClient;
use orderbridge::channels::zonos::ZonosStatus;
use orderbridge::channels::{google, zonos};
use orderbridge::compliance;
use orderbridge::idempotency::{idempotency_key, stored, Lookup};
use orderbridge::ids::{ChannelOrderId, GenstoreOrderId};
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::order::{ChannelOrder, ShipmentStatus};
use orderbridge::store::orders::{self, Link};
use orderbridge::store::{
    AuditEntry, AuditOutcome, Claim, IdempotencyError, IdempotencyTtl, OrderKey, Storage,
    SyncQueue, WorkResult,
};
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

/// A parked import: reads the order from its channel, saves it newer-wins, and queues what its state
/// calls for (its mirror, usually), exactly as the poll would have.
async fn import(
    deps: &Deps,
    channel: Channel,
    order_id: &ChannelOrderId,
    listing: Option<&zonos::wire::OrderNumber>,
) -> Outcome {
    let unreadable = |e: orderbridge::error::MappingError| Outcome::Permanent(e.to_string());
    let gone = || Outcome::Permanent(format!("{channel} has no order {order_id}"));
    let order = match channel {
        Channel::Zonos => {
            let c = attempt!(client(&deps.zonos, "zonos"));
            let detail = attempt!(c.order_detail(order_id.as_str()).await.map_err(failure));
            attempt!(zonos::to_channel_order(&detail, listing).map_err(unreadable))
        }
        Channel::Google => {
            let c = attempt!(client(&deps.google, "google"));
            let o = attempt!(c.get_order(order_id.as_str()).await.map_err(failure));
            attempt!(google::to_channel_order(&attempt!(o.ok_or_else(gone))).map_err(unreadable))
        }
        Channel::Genstore => {
            let c = attempt!(client(&deps.genstore, "genstore"));
            let o = attempt!(c.get_order(order_id.as_str()).await.map_err(failure));
            attempt!(genstore::to_channel_order(&attempt!(o.ok_or_else(gone))).map_err(unreadable))
        }
    };
    let applied = match channel {
        Channel::Genstore => orderbridge::sync::apply_genstore_order(&*deps.store, order).await,
        _ => orderbridge::sync::apply_external_order(&*deps.store, order).await,
    };
    let applied = attempt!(applied.map_err(|e| Outcome::Retry(e.to_string())));
    if applied.outcome == orderbridge::sync::Outcome::Created {
        orderbridge::metrics::count("OrdersImported", &[("Channel", channel.as_str())], 1);
    }
    let kinds: Vec<&str> = applied.jobs.iter().map(|j| j.job.kind()).collect();
    if !applied.jobs.is_empty() {
        let report = attempt!(deps
            .queue
            .send(&SyncJob::stamp(&applied.jobs))
            .await
            .map_err(|e| Outcome::Retry(e.to_string())));
        if !report.all_sent() {
            // Saved; a retry finds it stored and queues its jobs again (they are idempotent).
            return Outcome::Retry(format!(
                "{channel} order {order_id} saved, but {} of its jobs could not be queued",
                report.failed.len()
            ));
        }
        if let Some(m) = &applied.queued_marker {
            orderbridge::sync::mark_queued(&*deps.store, m).await;
        }
    }
    Outcome::Done(format!(
        "imported {channel} order {order_id} ({}); queued [{}]",
        applied.outcome.as_str(),
        kinds.join(", ")
    ))
}

/// Mirrors an external order into Genstore, never twice; links it; writes the merchant id back.
async fn mirror(deps: &Deps, channel: Channel, order_id: &ChannelOrderId) -> Outcome {
    let key = OrderKey::new(channel, order_id.clone());
    let external = attempt!(load(deps, channel, order_id.as_str()).await);
    if external.genstore_order_id.is_none()
        && external.status == orderbridge::status::UnifiedStatus::Cancelled
    {
        // Cancelled on its channel before it was mirrored (after this job was queued): nobody is to
        // ship it, so it is not mirrored.
        return Outcome::Done(format!(
            "{channel} order {order_id} was cancelled before it was mirrored; not mirrored"
        ));
    }
    let gs = attempt!(client(&deps.genstore, "genstore"));
    let mut mirror_held = false;
    let genstore_id = match &external.genstore_order_id {
        Some(id) => id.clone(),
        None => {
            // Genstore does not deduplicate creates, so look before every create: a previous attempt
            // may have created it and timed out, another job may have, or the table may have been
            // restored from a backup older than the mirror. The search starts at the Genstore order
            // id the first attempt recorded, else at the reconciliation cursor (older than any mirror
            // this table has not seen); with neither, at the first order.
            let marker = format!("mirror-attempt:{channel}:{order_id}");
            let attempted = attempt!(deps
                .store
                .read(&marker)
                .await
                .map_err(|e| Outcome::Retry(e.to_string())));
            let since = match &attempted {
                Some(a) => a.value.clone(),
                None => attempt!(deps
                    .store
                    .read(orderbridge::store::poll_cursor(Channel::Genstore))
                    .await
                    .map_err(|e| Outcome::Retry(e.to_string())))
                .map(|c| c.value)
                .unwrap_or_else(|| "0".into()),
            };
            let found = attempt!(find_mirror(gs, channel, order_id, &since).await);
            let created = match found {
                Some(o) => o,
                None => {
                    if attempted.is_none() {
                        attempt!(deps
                            .store
                            .advance(&marker, None, &since)
                            .await
                            .map_err(|e| Outcome::Retry(e.to_string())));
                    }
                    let body = genstore::mirror_request(&external).order;
                    let op = format!("mirror:{channel}:{order_id}");
                    let made = attempt!(
                        audited(
                            deps,
                            &key,
                            &op,
                            Channel::Genstore,
                            "createOrder",
                            gs.create_order(&body).await,
                            |_| false
                        )
                        .await
                    );
                    orderbridge::metrics::count(
                        "OrdersMirrored",
                        &[("Channel", channel.as_str())],
                        1,
                    );
                    made
                }
            };
            mirror_held = genstore::mapping::is_held(&created);
            let Some(id) = created.order_id.clone() else {
                return Outcome::Retry("Genstore answered without an order id".into());
            };
            let id = GenstoreOrderId::new(id);
            if let Ok(o) = genstore::to_channel_order(&created) {
                if let Err(e) = orders::save_newer(&*deps.store, o).await {
                    return Outcome::Retry(e.to_string());
                }
            }
            match orders::link_to_genstore(&*deps.store, &key, &id).await {
                Ok(Link::Linked | Link::AlreadyLinked) => {}
                Ok(Link::LinkedElsewhere(other)) => {
                    return Outcome::Permanent(format!(
                        "{key} is already linked to Genstore order {other}"
                    ))
                }
                Ok(Link::NotFound) => return Outcome::Retry(format!("{key} vanished")),
                Err(e) => return Outcome::Retry(e.to_string()),
            }
            id
        }
    };
    attempt!(write_merchant_id(deps, &key, &genstore_id).await);
    let latest = attempt!(load(deps, channel, order_id.as_str()).await);
    if mirror_held || genstore::mapping::held(&latest) {
        // Held when mirrored (by this attempt or an earlier one), or held since: a hold put on or
        // lifted while the order had no mirror yet queued nothing for it, so the mirror follows now.
        if let Outcome::Retry(why) | Outcome::Permanent(why) =
            sync_hold(deps, channel, order_id, &genstore_id).await
        {
            return Outcome::Retry(format!("mirrored held; the release check failed: {why}"));
        }
        return Outcome::Done(format!("mirrored held as Genstore order {genstore_id}"));
    }
    Outcome::Done(format!("mirrored as Genstore order {genstore_id}"))
}

/// Makes the Genstore mirror held or released as the channel's order now is; nothing when it already is.
async fn sync_hold(
    deps: &Deps,
    channel: Channel,
    order_id: &ChannelOrderId,
    genstore_id: &GenstoreOrderId,
) -> Outcome {
    let gs = attempt!(client(&deps.genstore, "genstore"));
    let external = attempt!(load(deps, channel, order_id.as_str()).await);
    let held = genstore::mapping::held(&external);
    let Some(mirror) = attempt!(gs.get_order(genstore_id.as_str()).await.map_err(failure)) else {
        return Outcome::Permanent(format!("Genstore does not know order {genstore_id}"));
    };
    if mirror.cancelled_at.is_some() {
        return Outcome::Done("the mirror is cancelled: no hold to change".into());
    }
    if genstore::mapping::is_held(&mirror) == held {
        return Outcome::Done(format!(
            "mirror already {}",
            if held { "held" } else { "released" }
        ));
    }
    let key = OrderKey::new(Channel::Genstore, genstore_id.as_str());
    let what = if held { "hold" } else { "release" };
    let op = format!(
        "{what}:{genstore_id}:{}",
        external.source_version().sort_key()
    );
    let updated = attempt!(
        audited(
            deps,
            &key,
            &op,
            Channel::Genstore,
            "updateOrder",
            gs.update_order(
                genstore_id.as_str(),
                &genstore::mapping::hold_update(&external)
            )
            .await,
            |_| false
        )
        .await
    );
    refresh(
        deps,
        genstore::to_channel_order(&updated).map_err(|e| e.to_string()),
    )
    .await;
    Outcome::Done(format!("mirror {genstore_id}: {what}"))
}

/// Finds a Genstore order created for an external order since a Genstore order id.
async fn find_mirror(
    gs: &GenstoreClient,
    channel: Channel,
    order_id: &ChannelOrderId,
    since: &str,
) -> Result<Option<gw::Order>, Outcome> {
    let query = orderbridge::channels::genstore::client::OrderQuery {
        since_id: Some(since.to_owned()).filter(|s| s != "0"),
        ..Default::default()
    };
    let all = gs.list_all_orders(&query).await.map_err(failure)?;
    Ok(all.into_iter().find(|o| {
        o.source_name.as_deref() == Some(channel.as_str())
            && o.source_identifier.as_deref() == Some(order_id.as_str())
    }))
}

/// Writes the Genstore order id as the channel's merchant order id, then records it.
async fn write_merchant_id(
    deps: &Deps,
    key: &OrderKey,
    genstore_id: &GenstoreOrderId,
) -> Result<(), Outcome> {
    let id = key.order_id.as_str();
    match key.channel {
        Channel::Zonos => {
            let z = client(&deps.zonos, "zonos")?;
            let op = format!("merchant-id:{id}:{genstore_id}");
            audited(
                deps,
                key,
                &op,
                Channel::Zonos,
                "updateMerchantOrderId",
                z.update_merchant_order_id(id, genstore_id.as_str()).await,
                |_| false,
            )
            .await?;
        }
        Channel::Google => {
            let gc = client(&deps.google, "google")?;
            let op = operation_id(id, "merchant-id", genstore_id.as_str());
            audited(
                deps,
                key,
                &op,
                Channel::Google,
                "updateMerchantOrderId",
                gc.update_merchant_order_id(id, &op, genstore_id.as_str())
                    .await,
                |s| *s == g::ExecutionStatus::Duplicate,
            )
            .await?;
        }
        Channel::Genstore => {
            return Err(Outcome::Permanent(
                "Genstore orders have no merchant order id to write".into(),
            ))
        }
    }
    orders::modify(&*deps.store, key, |o| {
        if o.merchant_order_id.as_ref().map(|m| m.as_str()) == Some(genstore_id.as_str()) {
            return false;
        }
        o.merchant_order_id = Some(genstore_id.as_str().into());
        true
    })
    .await
    .map_err(|e| Outcome::Retry(e.to_string()))?;
    Ok(())
}

/// Saves a channel's fresh state of an order (after a write), keeping the link.
async fn refresh(deps: &Deps, order: Result<ChannelOrder, String>) {
    match order {
        Ok(o) => {
            let saved = if o.channel == Channel::Genstore {
                orders::save_newer(&*deps.store, o).await.map(|_| ())
            } else {
                orders::save_fresh_read(&*deps.store, o).await.map(|_| ())
            };
            if let Err(e) = saved {
                tracing::warn!(error = %e, "fresh state not saved; the poller will bring it");
            }
        }
        Err(e) => tracing::warn!(error = %e, "fresh state not read; the poller will bring it"),
    }
}

/// Saves Google's fresh state of an order after a write.
async fn refresh_google(deps: &Deps, gc: &GoogleClient, order_id: &ChannelOrderId) {
    let fresh = match gc.get_order(order_id.as_str()).await {
        Ok(Some(o)) => google::to_channel_order(&o).map_err(|e| e.to_string()),
        Ok(None) => Err("order gone".into()),
        Err(e) => Err(e.to_string()),
    };
    refresh(deps, fresh).await;
}

/// The Google line a Genstore line ships as: same SKU (Google's offer id), else same product id.
fn google_line<'a>(
    google: &'a g::Order,
    sku: Option<&str>,
    product: Option<&str>,
) -> Option<&'a g::LineItem> {
    google.line_items.iter().find(|l| {
        let p = l.product.as_ref();
        let offer = p.and_then(|p| p.offer_id.as_deref());
        let pid = p.and_then(|p| p.id.as_deref());
        (sku.is_some() && offer == sku) || (product.is_some() && pid == product)
    })
}

async fn tracking_to_google(
    deps: &Deps,
    order_id: &ChannelOrderId,
    genstore_id: &GenstoreOrderId,
) -> Outcome {
    let gc = attempt!(client(&deps.google, "google"));
    let key = OrderKey::new(Channel::Google, order_id.clone());
    let source = attempt!(load(deps, Channel::Genstore, genstore_id.as_str()).await);
    let Some(current) = attempt!(gc.get_order(order_id.as_str()).await.map_err(failure)) else {
        return Outcome::Permanent(format!("Google does not know order {order_id}"));
    };
    let mut google = current;
    let mut done = Vec::new();
    for s in source.shipments.iter().filter(|s| s.status.is_live()) {
        let base = format!("gs-{}", s.id);
        let already = google.shipments.iter().any(|x| {
            x.id.as_deref()
                .is_some_and(|i| i == base || i.starts_with(&format!("{base}-")))
        });
        if !already {
            let mut lines = Vec::new();
            for sl in &s.line_items {
                let Some(gl) = source.line_item(&sl.line_item_id) else {
                    continue;
                };
                let Some(target) = google_line(
                    &google,
                    gl.sku.as_ref().map(|x| x.as_str()),
                    gl.product_id.as_ref().map(|x| x.as_str()),
                ) else {
                    return Outcome::Permanent(format!(
                        "no Google line for Genstore line {} (sku {:?})",
                        sl.line_item_id, gl.sku
                    ));
                };
                let left = target
                    .quantity_ordered
                    .unwrap_or(0)
                    .saturating_sub(target.quantity_shipped.unwrap_or(0))
                    .saturating_sub(target.quantity_canceled.unwrap_or(0));
                let quantity = sl.quantity.min(left);
                if quantity > 0 {
                    lines.push(g::LineItemShipment {
                        line_item_id: target.id.clone(),
                        product_id: None,
                        quantity,
                    });
                }
            }
            if lines.is_empty() {
                continue;
            }
            let numbers: Vec<&String> = s.tracking_numbers.iter().collect();
            let infos: Vec<g::ShipmentInfo> = if numbers.len() <= 1 {
                vec![g::ShipmentInfo {
                    shipment_id: base.clone(),
                    carrier: s.carrier.as_ref().map(|c| c.google_code().to_owned()),
                    tracking_id: numbers.first().map(|n| (*n).clone()),
                }]
            } else {
                numbers
                    .iter()
                    .enumerate()
                    .map(|(i, n)| g::ShipmentInfo {
                        shipment_id: if i == 0 {
                            base.clone()
                        } else {
                            format!("{base}-{i}")
                        },
                        carrier: s.carrier.as_ref().map(|c| c.google_code().to_owned()),
                        tracking_id: Some((*n).clone()),
                    })
                    .collect()
            };
            let op = operation_id(order_id.as_str(), "ship", s.id.as_str());
            let req = g::ShipLineItemsRequest {
                operation_id: op.clone(),
                line_items: lines,
                shipment_group_id: None,
                shipment_infos: infos,
            };
            attempt!(
                audited(
                    deps,
                    &key,
                    &op,
                    Channel::Google,
                    "shipLineItems",
                    gc.ship_line_items(order_id.as_str(), &req).await,
                    |x| *x == g::ExecutionStatus::Duplicate
                )
                .await
            );
            done.push(format!("shipped {}", s.id));
            google = match gc.get_order(order_id.as_str()).await {
                Ok(Some(o)) => o,
                Ok(None) => return Outcome::Retry("Google lost the order".into()),
                Err(e) => return failure(e),
            };
        }
        if already {
            // A number or carrier corrected in Genstore: Google's shipment follows (`updateShipment`
            // changes only what it names).
            let number = s.tracking_numbers.first();
            let carrier = s.carrier.as_ref().map(|c| c.google_code().to_owned());
            let theirs = google
                .shipments
                .iter()
                .find(|x| x.id.as_deref() == Some(base.as_str()));
            if let (Some(x), Some(n)) = (theirs, number) {
                let stale_number = x.tracking_id.as_deref() != Some(n.as_str());
                let stale_carrier = carrier.is_some() && x.carrier != carrier;
                if stale_number || stale_carrier {
                    let op = operation_id(
                        order_id.as_str(),
                        "retrack",
                        &format!("{}:{n}:{}", s.id, carrier.as_deref().unwrap_or("")),
                    );
                    let req = g::UpdateShipmentRequest {
                        operation_id: op.clone(),
                        shipment_id: base.clone(),
                        status: None,
                        carrier: carrier.clone(),
                        tracking_id: Some(n.clone()),
                        delivery_date: None,
                    };
                    attempt!(
                        audited(
                            deps,
                            &key,
                            &op,
                            Channel::Google,
                            "updateShipment",
                            gc.update_shipment(order_id.as_str(), &req).await,
                            |x| *x == g::ExecutionStatus::Duplicate
                        )
                        .await
                    );
                    done.push(format!("corrected {}", s.id));
                }
            }
        }
        if s.status == ShipmentStatus::Delivered {
            let delivered = google.shipments.iter().any(|x| {
                x.id.as_deref() == Some(base.as_str()) && x.status.as_deref() == Some("delivered")
            });
            let exists = google
                .shipments
                .iter()
                .any(|x| x.id.as_deref() == Some(base.as_str()));
            if exists && !delivered {
                let op = operation_id(order_id.as_str(), "deliver", s.id.as_str());
                let req = g::UpdateShipmentRequest {
                    operation_id: op.clone(),
                    shipment_id: base.clone(),
                    status: Some("delivered".into()),
                    carrier: None,
                    tracking_id: None,
                    delivery_date: s.delivered_at.map(|t| t.format("%Y-%m-%d").to_string()),
                };
                attempt!(
                    audited(
                        deps,
                        &key,
                        &op,
                        Channel::Google,
                        "updateShipment",
                        gc.update_shipment(order_id.as_str(), &req).await,
                        |x| *x == g::ExecutionStatus::Duplicate
                    )
                    .await
                );
                done.push(format!("delivered {}", s.id));
            }
        }
    }
    for s in source
        .shipments
        .iter()
        .filter(|s| s.status == ShipmentStatus::Cancelled)
    {
        let base = format!("gs-{}", s.id);
        if google
            .shipments
            .iter()
            .any(|x| x.id.as_deref() == Some(base.as_str()))
        {
            let reason = format!(
                "Genstore fulfillment {} was cancelled; Google has no call to withdraw its shipment",
                s.id
            );
            attempt!(
                record_once(
                    deps,
                    &key,
                    &base,
                    Channel::Google,
                    "withdrawShipment",
                    reason
                )
                .await
            );
        }
    }
    refresh_google(deps, gc, order_id).await;
    Outcome::Done(if done.is_empty() {
        "nothing new to push".into()
    } else {
        done.join(", ")
    })
}

async fn tracking_to_zonos(
    deps: &Deps,
    order_id: &ChannelOrderId,
    genstore_id: &GenstoreOrderId,
) -> Outcome {
    let z = attempt!(client(&deps.zonos, "zonos"));
    let key = OrderKey::new(Channel::Zonos, order_id.clone());
    let source = attempt!(load(deps, Channel::Genstore, genstore_id.as_str()).await);
    let mut numbers: Vec<String> = Vec::new();
    for s in source.shipments.iter().filter(|s| s.status.is_live()) {
        for n in &s.tracking_numbers {
            if !numbers.contains(n) {
                numbers.push(n.clone());
            }
        }
    }
    let mut done = Vec::new();
    let theirs = attempt!(load(deps, Channel::Zonos, order_id.as_str()).await);
    if numbers.is_empty() && !theirs.shipments.is_empty() {
        // Every fulfillment that carried a number was cancelled in Genstore.
        let reason = "every Genstore fulfillment with tracking was cancelled; Zonos has no call to withdraw tracking".to_owned();
        let what = format!("withdraw:{order_id}:{}", source.source_version().sort_key());
        attempt!(
            record_once(
                deps,
                &key,
                &what,
                Channel::Zonos,
                "setShipmentTracking",
                reason
            )
            .await
        );
    }
    if !numbers.is_empty() {
        let op = format!("tracking:{order_id}:{}", numbers.join(","));
        attempt!(
            audited(
                deps,
                &key,
                &op,
                Channel::Zonos,
                "setShipmentTracking",
                z.set_shipment_tracking(order_id.as_str(), &numbers).await,
                |_| false
            )
            .await
        );
        done.push(format!("{} tracking numbers", numbers.len()));
    }
    if source.fully_shipped() {
        let status = ZonosStatus::VendorEndOfDayComplete;
        let op = format!("vendor-status:{order_id}:{status}");
        match audited(
            deps,
            &key,
            &op,
            Channel::Zonos,
            "updateVendorOrderStatus",
            z.update_vendor_order_status(order_id.as_str(), &status)
                .await,
            |_| false,
        )
        .await
        {
            Ok(_) => done.push(format!("status {status}")),
            Err(Outcome::Done(skipped)) => done.push(skipped),
            Err(other) => return other,
        }
    }
    refresh(
        deps,
        z.order_detail(order_id.as_str())
            .await
            .map_err(|e| e.to_string())
            .and_then(|o| zonos::to_channel_order(&o, None).map_err(|e| e.to_string())),
    )
    .await;
    Outcome::Done(if done.is_empty() {
        "nothing to push".into()
    } else {
        done.join(", ")
    })
}
