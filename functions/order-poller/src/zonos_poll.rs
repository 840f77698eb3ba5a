//! Zonos: the poll by order number (cursor, held-cursor parking, status changes) and the sweep of
//! merchant ids Zonos still lacks.

use super::{days_ago, out_of_time, Deadline, Deps};
use crate::backfill::zonos_order_key;
use crate::item::{count, enqueue, jobs_of, note_reread, park, save_external, Imported, ItemError};
use crate::summary::{begin, ChannelSummary};
use crate::PollError;
use futures::stream::{self, StreamExt};
use orderbridge::channel::Channel;
use orderbridge::channels::zonos;
use orderbridge::channels::zonos::client::ZonosClient;
use orderbridge::channels::zonos::wire::OrderNumber;
use orderbridge::channels::zonos::OrderSelector;
use orderbridge::jobs::{Job, SyncJob};

use orderbridge::store::{OrderKey, RecordName};

/// The listing when the cursor's order is gone: the orders since the day before the cursor last moved
/// (UTC), by date.
async fn vanished_cursor_listing(
    deps: &Deps,
    client: &ZonosClient,
) -> Result<Vec<OrderNumber>, String> {
    let moved = deps
        .store
        .read(&RecordName::PollCursor(Channel::Zonos).to_string())
        .await
        .map_err(|e| format!("cursor: {e}"))?
        .map(|c| c.updated_at)
        .unwrap_or_else(|| days_ago(deps.settings.lookback_days));
    let since = orderbridge::clock::shifted(moved, chrono::Duration::days(-1)).date_naive();
    tracing::warn!(%since, "the Zonos cursor's order is gone; listing by date instead");
    client
        .order_numbers(
            OrderSelector::SinceDate {
                since,
                through: None,
            },
            true,
        )
        .await
        .map(|l| l.orders)
        .map_err(|e| e.to_string())
}

/// One Zonos order of a listing: fetched and saved if new or changed.
pub(crate) async fn import_zonos(
    deps: &Deps,
    client: &ZonosClient,
    entry: &OrderNumber,
) -> Result<Imported, ItemError> {
    if entry.test_order && !deps.settings.include_test_orders {
        return Ok(Imported::Skipped);
    }
    let key = OrderKey::new(Channel::Zonos, entry.id.as_str());
    if let (Some(stored), Some(status)) = (
        deps.store.get(&key).await.map_err(ItemError::store)?,
        &entry.status,
    ) {
        let same_status = stored.order.raw_status == status.order_status;
        let same_merchant_id = stored.order.merchant_order_id.as_ref().map(|m| m.as_str())
            == status.merchant_order_id.as_deref();
        if same_status && same_merchant_id {
            return Ok(Imported::Unchanged(orderbridge::sync::external_jobs(
                None,
                &stored.order,
            )));
        }
    }
    let detail = client
        .order_detail(&entry.id)
        .await
        .map_err(|e| ItemError {
            order_at_fault: !e.retryable,
            message: e.to_string(),
        })?;
    let order = zonos::to_channel_order(&detail, Some(entry)).map_err(|e| ItemError {
        message: e.to_string(),
        order_at_fault: true,
    })?;
    save_external(deps, order).await.map_err(ItemError::store)
}

/// Reads `"<order id> <runs>"`.
pub(crate) fn parse_held(value: &str) -> Option<(&str, u32)> {
    let (id, runs) = value.rsplit_once(' ')?;
    Some((id, runs.parse().ok()?))
}

/// Records that `order_id` held the cursor on one more run. Best effort: losing it only delays parking.
pub(crate) async fn note_held(deps: &Deps, channel: Channel, before: Option<&str>, order_id: &str) {
    let runs = match before.and_then(parse_held) {
        Some((id, runs)) if id == order_id => runs.saturating_add(1),
        _ => 1,
    };
    let now = format!("{order_id} {runs}");
    if let Err(e) = deps
        .store
        .advance(&RecordName::CursorHeld(channel).to_string(), before, &now)
        .await
    {
        tracing::warn!(channel = channel.as_str(), error = %e, "could not record which order holds the cursor");
    }
}

pub(crate) async fn poll_zonos(
    deps: &Deps,
    client: &ZonosClient,
    deadline: &dyn Deadline,
) -> ChannelSummary {
    let (mut s, cursor) = match begin(deps, Channel::Zonos).await {
        Ok(begun) => begun,
        Err(failed) => return failed,
    };
    let selector = match &cursor {
        Some(id) => OrderSelector::SinceOrderId(id.clone()),
        None => OrderSelector::SinceDate {
            since: days_ago(deps.settings.lookback_days).date_naive(),
            through: None,
        },
    };
    let mut listing = match client.order_numbers(selector, true).await {
        Ok(l) => l.orders,
        // The cursor's order is gone from Zonos (deleted, or a test order purged): `sinceOrderId` can
        // never answer again, so the orders since the day before the cursor last moved are listed by
        // date instead, and those after the cursor's id taken.
        Err(e)
            if e.kind == orderbridge::channels::http::ErrorKind::NotFound && cursor.is_some() =>
        {
            match vanished_cursor_listing(deps, client).await {
                Ok(l) => l,
                Err(e) => {
                    s.error = Some(e);
                    return s;
                }
            }
        }
        Err(e) => {
            s.error = Some(e.to_string());
            return s;
        }
    };
    // Zonos promises no order for the listing: the cursor follows the ids' own order (as the backfill
    // does), so it never moves back to a lower id than one already imported, and only later ids count.
    listing.sort_by(|a, b| zonos_order_key(&a.id).cmp(&zonos_order_key(&b.id)));
    if let Some(c) = &cursor {
        listing.retain(|e| zonos_order_key(&e.id) > zonos_order_key(c));
    }
    let held = match deps
        .store
        .read(&RecordName::CursorHeld(Channel::Zonos).to_string())
        .await
    {
        Ok(h) => h.map(|h| h.value),
        Err(e) => {
            s.error = Some(format!("cursor: {e}"));
            return s;
        }
    };
    let held_runs = |id: &str| match held.as_deref().and_then(parse_held) {
        Some((held_id, runs)) if held_id == id => runs,
        _ => 0,
    };
    let mut at = cursor;
    'chunks: for chunk in listing.chunks(deps.settings.concurrency.max(1).saturating_mul(4)) {
        if out_of_time(deps, deadline) {
            s.stopped_at_deadline = true;
            break;
        }
        let results: Vec<Result<Imported, ItemError>> = stream::iter(chunk.iter().cloned())
            .map(|e| async move { import_zonos(deps, client, &e).await })
            .buffered(deps.settings.concurrency.max(1))
            .collect()
            .await;
        // Whether an order after each one was imported: then Zonos and the table work, and a failure
        // before it is that order's own.
        let mut later_ok = vec![false; results.len()];
        let mut any_later = false;
        for (slot, r) in later_ok.iter_mut().zip(&results).rev() {
            *slot = any_later;
            any_later = any_later || r.is_ok();
        }
        let mut jobs = Vec::new();
        let mut done = None;
        let mut failure = None;
        for (i, (entry, r)) in chunk.iter().zip(results).enumerate() {
            s.seen = s.seen.saturating_add(1);
            match r {
                Ok(imported) => {
                    count(&mut s, &imported);
                    jobs.extend(jobs_of(imported));
                    done = Some(entry.id.clone());
                }
                Err(e)
                    if e.order_at_fault
                        || later_ok.get(i).copied().unwrap_or(false)
                        || held_runs(&entry.id) >= deps.settings.park_after_runs =>
                {
                    jobs.push(park(
                        &mut s,
                        Channel::Zonos,
                        &entry.id,
                        Some(entry.clone()),
                        &e.message,
                    ));
                    done = Some(entry.id.clone());
                }
                Err(e) => {
                    s.failed = s.failed.saturating_add(1);
                    failure = Some((entry.id.clone(), format!("order {}: {e}", entry.id)));
                    break;
                }
            }
        }
        if let Err(e) = enqueue(deps, &jobs, &mut s).await {
            s.error = Some(e.to_string());
            break;
        }
        if let Some(id) = done {
            let cursor = RecordName::PollCursor(Channel::Zonos).to_string();
            match deps.store.advance(&cursor, at.as_deref(), &id).await {
                Ok(true) => at = Some(id),
                Ok(false) => {
                    s.error = Some("the cursor moved under this run".into());
                    break 'chunks;
                }
                Err(e) => {
                    s.error = Some(format!("cursor: {e}"));
                    break 'chunks;
                }
            }
        }
        if let Some((id, f)) = failure {
            note_held(deps, Channel::Zonos, held.as_deref(), &id).await;
            s.error = Some(f);
            break;
        }
    }
    s.cursor_after = at;
    if s.error.is_none() && !s.stopped_at_deadline {
        if let Err(e) = zonos_changes(deps, client, deadline, &mut s).await {
            s.error = Some(format!("status changes: {e}"));
        }
    }
    if s.error.is_none() && !s.stopped_at_deadline {
        if let Err(e) = sweep_missing_merchant_ids(deps, client, &mut s).await {
            s.error = Some(format!("missingMerchantOrderId sweep: {e}"));
        }
    }
    s
}

/// Known orders of the look-back window whose status (or merchant id) Zonos changed — a fraud review
/// ending, a cancellation — are read again and saved; their jobs (a cancellation's push) are queued.
/// Orders the table does not know are left to the cursor.
pub(crate) async fn zonos_changes(
    deps: &Deps,
    client: &ZonosClient,
    deadline: &dyn Deadline,
    s: &mut ChannelSummary,
) -> Result<(), PollError> {
    let since = days_ago(deps.settings.lookback_days).date_naive();
    let listing = client
        .order_numbers(
            OrderSelector::SinceDate {
                since,
                through: None,
            },
            true,
        )
        .await?;
    let mut jobs = Vec::new();
    for entry in &listing.orders {
        if out_of_time(deps, deadline) {
            s.stopped_at_deadline = true;
            break;
        }
        let key = OrderKey::new(Channel::Zonos, entry.id.as_str());
        if deps.store.get(&key).await?.is_none() {
            continue;
        }
        let reread = import_zonos(deps, client, entry).await;
        note_reread(s, &mut jobs, entry.id.as_str(), reread);
    }
    enqueue(deps, &jobs, s).await
}

/// Re-queues the merchant-id write for mirrored Zonos orders Zonos still lists without one.
pub(crate) async fn sweep_missing_merchant_ids(
    deps: &Deps,
    client: &ZonosClient,
    s: &mut ChannelSummary,
) -> Result<(), PollError> {
    let listing = client
        .order_numbers(OrderSelector::MissingMerchantOrderId, true)
        .await?;
    let mut jobs = Vec::new();
    for entry in &listing.orders {
        let key = OrderKey::new(Channel::Zonos, entry.id.as_str());
        if let Some(stored) = deps.store.get(&key).await? {
            if let Some(g) = stored.order.genstore_order_id {
                jobs.push(SyncJob::from(Job::WriteMerchantOrderId {
                    channel: Channel::Zonos,
                    order_id: key.order_id.clone(),
                    genstore_order_id: g,
                }));
            }
        }
    }
    enqueue(deps, &jobs, s).await
}
