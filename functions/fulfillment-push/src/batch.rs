//! A batch of sync-queue records: run concurrently with a bound, none started near the Lambda deadline,
//! each settled by its outcome — a retry hidden for its backoff and handed back, a permanent failure
//! moved to the dead-letter queue, the rest acknowledged.

use crate::{handle_record, Deps, Outcome};
use futures::stream::{self, StreamExt};
use orderbridge::jobs::SyncJob;

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
        if settle(deps, &record, &outcome, ran).await && !record.message_id.trim().is_empty() {
            failed.push(record.message_id);
        }
    }
    orderbridge::metrics::handler_latency(started);
    failed
}

/// Counts and logs how a record's job ended and settles the message: true when it goes back to the
/// queue. A job that ran and may succeed later is hidden for its backoff first (one the deadline stopped
/// comes back at once); one that failed for good goes to the dead-letter queue, or back to the queue
/// for its redrive when there is none or the move failed.
async fn settle(deps: &Deps, record: &Record, outcome: &Outcome, ran: bool) -> bool {
    let id = record.message_id.as_str();
    let parsed = SyncJob::from_body(&record.body).ok();
    let kind = parsed.as_ref().map_or("unreadable", |j| j.job.kind());
    let shop = parsed.as_ref().map(|j| j.shop.to_string());
    let cause = parsed
        .and_then(|j| j.cause)
        .map(|c| orderbridge::telemetry::clean_cause(&c))
        .unwrap_or_default();
    let (result, why) = match outcome {
        Outcome::Done(w) => ("done", w),
        Outcome::Retry(w) => ("retry", w),
        Outcome::Permanent(w) => ("failed", w),
        Outcome::Waiting(w) => ("waiting", w),
    };
    // Counted by the job's shop too (an unreadable body names none).
    match &shop {
        Some(shop) => orderbridge::metrics::count(
            "Jobs",
            &[("Kind", kind), ("Outcome", result), ("Shop", shop)],
            1,
        ),
        None => orderbridge::metrics::count("Jobs", &[("Kind", kind), ("Outcome", result)], 1),
    }
    match outcome {
        Outcome::Done(_) => {
            tracing::info!(
                message_id = id,
                kind,
                cause,
                outcome = result,
                what = why,
                "job"
            );
            false
        }
        Outcome::Waiting(_) => {
            tracing::info!(message_id = id, kind, cause, outcome = result, why, "job");
            false
        }
        Outcome::Retry(_) => {
            let wait = if ran {
                deps.backoff.delay(record.receive_count)
            } else {
                std::time::Duration::ZERO
            };
            tracing::warn!(
                message_id = id,
                kind,
                cause,
                outcome = result,
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
        Outcome::Permanent(_) => {
            tracing::error!(
                message_id = id,
                kind,
                cause,
                outcome = "permanent",
                why,
                "job"
            );
            let Some(dlq) = &deps.dead_letters else {
                return true;
            };
            match dlq.send_raw(std::slice::from_ref(&record.body)).await {
                Ok(1) => false,
                Ok(_) | Err(_) => {
                    tracing::warn!(
                        message_id = id,
                        "could not move the job to the DLQ; the queue's redrive will"
                    );
                    true
                }
            }
        }
    }
}
