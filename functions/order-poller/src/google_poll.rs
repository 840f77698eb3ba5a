//! Google: unacknowledged orders imported, and the status changes of known ones.

use super::{days_ago, out_of_time, Deadline, Deps};
use crate::item::{count, enqueue, jobs_of, note_reread, save_external, Imported};
use crate::summary::ChannelSummary;
use crate::PollError;
use futures::stream::{self, StreamExt};
use orderbridge::channel::Channel;
use orderbridge::channels::google;
use orderbridge::channels::google::client::{operation_id, GoogleClient, ListQuery};

use orderbridge::store::OrderKey;

/// One Google order: stored, its jobs returned; acknowledged by the caller once the jobs are queued.
pub(crate) async fn import_google(
    deps: &Deps,
    order: &google::Order,
) -> Result<Imported, PollError> {
    let order = google::to_channel_order(order)?;
    save_external(deps, order).await
}

pub(crate) async fn poll_google(
    deps: &Deps,
    client: &GoogleClient,
    deadline: &dyn Deadline,
) -> ChannelSummary {
    let mut s = ChannelSummary::new(Channel::Google.as_str());
    let unacknowledged = ListQuery {
        acknowledged: Some(false),
        ..ListQuery::default()
    };
    let orders = match client.list_all_orders(&unacknowledged).await {
        Ok(o) => o,
        Err(e) => {
            s.error = Some(e.to_string());
            return s;
        }
    };
    for chunk in orders.chunks(deps.settings.concurrency.max(1).saturating_mul(4)) {
        if out_of_time(deps, deadline) {
            s.stopped_at_deadline = true;
            return s;
        }
        let results: Vec<Result<Imported, PollError>> = stream::iter(chunk.iter().cloned())
            .map(|o| async move { import_google(deps, &o).await })
            .buffered(deps.settings.concurrency.max(1))
            .collect()
            .await;
        let mut jobs = Vec::new();
        let mut stored = Vec::new();
        for (o, r) in chunk.iter().zip(results) {
            s.seen = s.seen.saturating_add(1);
            match r {
                Ok(imported) => {
                    count(&mut s, &imported);
                    jobs.extend(jobs_of(imported));
                    stored.extend(o.id.clone());
                }
                Err(e) => {
                    // Not acknowledged: Google lists it again next run.
                    s.failed = s.failed.saturating_add(1);
                    s.error = Some(format!("order {}: {e}", o.id.as_deref().unwrap_or("?")));
                }
            }
        }
        if let Err(e) = enqueue(deps, &jobs, &mut s).await {
            s.error = Some(e.to_string());
            return s;
        }
        // Stored and queued: now, and only now, acknowledge.
        let acks: Vec<Result<(), String>> = stream::iter(stored)
            .map(|id| async move {
                client
                    .acknowledge(&id, &operation_id(&id, "acknowledge", ""))
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("acknowledge {id}: {e}"))
            })
            .buffered(deps.settings.concurrency.max(1))
            .collect()
            .await;
        for a in acks {
            if let Err(e) = a {
                s.error = Some(e.to_string());
            }
        }
    }
    if !out_of_time(deps, deadline) {
        if let Err(e) = google_changes(deps, client, &mut s).await {
            s.error = Some(format!("changes: {e}"));
        }
    } else {
        s.stopped_at_deadline = true;
    }
    s
}

/// Acknowledged orders of the look-back window, compared with the table: a customer cancellation (or any
/// other change Google made) is saved and pushed, nothing is imported twice.
pub(crate) async fn google_changes(
    deps: &Deps,
    client: &GoogleClient,
    s: &mut ChannelSummary,
) -> Result<(), PollError> {
    let since =
        days_ago(deps.settings.lookback_days).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let recent = ListQuery {
        acknowledged: Some(true),
        placed_date_start: Some(since),
        ..ListQuery::default()
    };
    let orders = client.list_all_orders(&recent).await?;
    let mut jobs = Vec::new();
    for o in &orders {
        let Some(id) = o.id.as_deref() else { continue };
        let Some(stored) = deps.store.get(&OrderKey::new(Channel::Google, id)).await? else {
            continue;
        };
        // Unchanged when Google's order says what the stored one does: its status, packages, refunds
        // and returns (a refund or a return can leave the status as it was).
        let same = match google::to_channel_order(o) {
            Ok(now) => {
                now.raw_status == stored.order.raw_status
                    && now.shipments.len() == stored.order.shipments.len()
                    && now.refunds.len() == stored.order.refunds.len()
                    && now.returns() == stored.order.returns()
            }
            // Read by the import, which reports what does not map.
            Err(_) => false,
        };
        if same {
            continue;
        }
        let reread = import_google(deps, o).await;
        note_reread(s, &mut jobs, id, reread);
    }
    enqueue(deps, &jobs, s).await
}
