//! One order of a poll: saved newer-wins, counted, its jobs queued; or, when it keeps failing, parked
//! on the sync queue as an import job so the cursor can move past it.

use crate::summary::ChannelSummary;
use crate::{Deps, PollError};
use orderbridge::channel::Channel;
use orderbridge::channels::zonos::wire::OrderNumber;
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::order::ChannelOrder;
use orderbridge::sync::Outcome;

/// Sends jobs; an error if any could not be sent.
pub(crate) async fn enqueue(
    deps: &Deps,
    jobs: &[SyncJob],
    summary: &mut ChannelSummary,
) -> Result<(), PollError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let report = deps.queue.send(&SyncJob::stamp(jobs)).await?;
    summary.jobs = summary.jobs.saturating_add(report.sent);
    if report.all_sent() {
        Ok(())
    } else {
        Err(PollError::Queue {
            failed: report.failed.len(),
            reason: report
                .failed
                .first()
                .map(|f| f.reason.clone())
                .unwrap_or_default(),
        })
    }
}

pub(crate) enum Imported {
    New(Vec<SyncJob>),
    Changed(Vec<SyncJob>),
    /// Already stored as it is; the jobs its state calls for (usually none) are queued again.
    Unchanged(Vec<SyncJob>),
    Skipped,
}

/// Saves an external order's state and works out its jobs.
pub(crate) async fn save_external(deps: &Deps, order: ChannelOrder) -> Result<Imported, PollError> {
    let applied = orderbridge::sync::apply_external_order(&*deps.store, order).await?;
    Ok(match applied.outcome {
        Outcome::Created => Imported::New(applied.jobs),
        Outcome::Updated => Imported::Changed(applied.jobs),
        Outcome::Stale | Outcome::Conflict => Imported::Unchanged(applied.jobs),
    })
}

pub(crate) fn count(summary: &mut ChannelSummary, imported: &Imported) {
    match imported {
        Imported::New(_) => summary.new = summary.new.saturating_add(1),
        Imported::Changed(_) => summary.changed = summary.changed.saturating_add(1),
        Imported::Unchanged(_) => summary.unchanged = summary.unchanged.saturating_add(1),
        Imported::Skipped => summary.skipped = summary.skipped.saturating_add(1),
    }
}

/// Counts a known order read again for changes: a change, with its jobs, or a failure (the error
/// said in the summary); an order unchanged counts for nothing.
pub(crate) fn note_reread<E: std::fmt::Display>(
    summary: &mut ChannelSummary,
    jobs: &mut Vec<SyncJob>,
    id: &str,
    result: Result<Imported, E>,
) {
    match result {
        Ok(Imported::Changed(j)) => {
            summary.changed = summary.changed.saturating_add(1);
            jobs.extend(j);
        }
        Ok(_) => {}
        Err(e) => {
            summary.failed = summary.failed.saturating_add(1);
            summary.error = Some(format!("order {id}: {e}"));
        }
    }
}

pub(crate) fn jobs_of(imported: Imported) -> Vec<SyncJob> {
    match imported {
        Imported::New(j) | Imported::Changed(j) | Imported::Unchanged(j) => j,
        Imported::Skipped => Vec::new(),
    }
}

/// Why one order could not be imported.
#[derive(Debug)]
pub(crate) struct ItemError {
    pub(crate) message: String,
    /// The order itself is at fault (its data does not map, or the platform refused it for good); not
    /// the platform's or the table's passing trouble.
    pub(crate) order_at_fault: bool,
}

impl ItemError {
    pub(crate) fn store(e: impl std::fmt::Display) -> Self {
        ItemError {
            message: e.to_string(),
            order_at_fault: false,
        }
    }
}

impl std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// An order that failed: parked by its id ([`park`]), or, without one, counted as failed, since there is
/// nothing to read it again by.
pub(crate) fn park_by_id(
    s: &mut ChannelSummary,
    channel: Channel,
    order_id: Option<&str>,
    listing: Option<OrderNumber>,
    why: &str,
) -> Option<SyncJob> {
    match order_id.filter(|id| !id.is_empty()) {
        Some(id) => Some(park(s, channel, id, listing, why)),
        None => {
            s.failed = s.failed.saturating_add(1);
            s.error = Some(format!("an order without an id: {why}"));
            None
        }
    }
}

/// The import job that takes a failing order off the poll's path.
pub(crate) fn park(
    s: &mut ChannelSummary,
    channel: Channel,
    order_id: &str,
    listing: Option<OrderNumber>,
    why: &str,
) -> SyncJob {
    s.parked = s.parked.saturating_add(1);
    tracing::warn!(
        channel = %channel,
        order_id,
        why,
        "order parked on the sync queue as an import job; the cursor moves past it"
    );
    SyncJob::from(Job::ImportOrder {
        channel,
        order_id: order_id.into(),
        listing: listing.map(Into::into),
    })
}
