//! Genstore: the reconciliation by `sinceId` and the recheck of open mirrors.

use super::{out_of_time, Deadline, Deps};
use crate::item::{enqueue, park_by_id};
use crate::summary::{begin, ChannelSummary};
use crate::PollError;
use orderbridge::channel::Channel;
use orderbridge::channels::genstore;
use orderbridge::channels::genstore::client::{GenstoreClient, OrderQuery};

use orderbridge::status::UnifiedStatus;
use orderbridge::store::{PageRequest, RecordName};
use serde::{Deserialize, Serialize};

pub(crate) async fn reconcile_genstore(
    deps: &Deps,
    client: &GenstoreClient,
    deadline: &dyn Deadline,
) -> ChannelSummary {
    let (mut s, cursor) = match begin(deps, Channel::Genstore).await {
        Ok(begun) => begun,
        Err(failed) => return failed,
    };
    let query = OrderQuery {
        since_id: cursor.clone(),
        ..OrderQuery::default()
    };
    let mut seen_ids: Vec<String> = Vec::new();
    let mut first_failure: Option<usize> = None;
    let mut token: Option<String> = None;
    let mut paging = orderbridge::channels::http::Paging::new();
    loop {
        if out_of_time(deps, deadline) {
            s.stopped_at_deadline = true;
            break;
        }
        let page = match client.list_orders_page(&query, token.as_deref()).await {
            Ok(p) => p,
            Err(e) => {
                s.error = Some(e.to_string());
                break;
            }
        };
        let mut jobs = Vec::new();
        let mut markers = Vec::new();
        for o in &page.orders {
            s.seen = s.seen.saturating_add(1);
            let id = o.order_id.clone().unwrap_or_default();
            let order = match genstore::to_channel_order(o) {
                Ok(order) => order,
                // An order whose data does not map holds nothing up: the sync queue retries it, and
                // its DLQ keeps it for a look. Without an id there is nothing to retry by.
                Err(e) => {
                    let why = e.to_string();
                    jobs.extend(park_by_id(&mut s, Channel::Genstore, Some(&id), None, &why));
                    seen_ids.push(id);
                    continue;
                }
            };
            match orderbridge::sync::apply_genstore_read(&*deps.store, order).await {
                Ok(a) => {
                    if a.outcome.changed() {
                        s.missed = s.missed.saturating_add(1);
                    } else {
                        s.unchanged = s.unchanged.saturating_add(1);
                    }
                    jobs.extend(a.jobs);
                    markers.extend(a.queued_marker);
                }
                // A write the table refuses for good (too large, corrupt, refused) would pin the
                // cursor on this order forever: it is parked like an order that does not map, and its
                // import job ends in the DLQ for a look. A passing failure holds the cursor here.
                Err(e) if !e.retryable() => {
                    jobs.extend(park_by_id(
                        &mut s,
                        Channel::Genstore,
                        Some(&id),
                        None,
                        &e.to_string(),
                    ));
                }
                Err(e) => {
                    s.failed = s.failed.saturating_add(1);
                    s.error = Some(format!("order {id}: {e}"));
                    first_failure.get_or_insert(seen_ids.len());
                }
            }
            seen_ids.push(id);
        }
        if let Err(e) = enqueue(deps, &jobs, &mut s).await {
            s.error = Some(e.to_string());
            first_failure.get_or_insert(0);
            break;
        }
        for m in &markers {
            orderbridge::sync::mark_queued(&*deps.store, m).await;
        }
        match paging.next(Channel::Genstore, "listOrders", page.links.next) {
            Ok(Some(next)) => token = Some(next),
            Ok(None) => break,
            Err(e) => {
                s.error = Some(e.to_string());
                break;
            }
        }
    }
    // The next window starts `overlap` orders back from the newest complete one, and never past a failure.
    let complete = first_failure.unwrap_or(seen_ids.len());
    let keep = complete.saturating_sub(deps.settings.genstore_overlap);
    if keep > 0 {
        let new_cursor = seen_ids
            .get(keep.saturating_sub(1))
            .cloned()
            .unwrap_or_default();
        let newer = match (&cursor, new_cursor.parse::<u64>()) {
            (Some(c), Ok(n)) => c.parse::<u64>().map_or(true, |old| n > old),
            _ => true,
        };
        if newer {
            let name = RecordName::PollCursor(Channel::Genstore).to_string();
            match deps
                .store
                .advance(&name, cursor.as_deref(), &new_cursor)
                .await
            {
                Ok(true) => s.cursor_after = Some(new_cursor),
                Ok(false) => s.error = Some("the cursor moved under this run".into()),
                Err(e) => s.error = Some(format!("cursor: {e}")),
            }
        }
    }
    if s.error.is_none() && !out_of_time(deps, deadline) {
        if let Err(e) = recheck_open_mirrors(deps, client, deadline, &mut s).await {
            s.error = Some(format!("recheck: {e}"));
        }
    }
    s
}

/// The unified statuses of mirrors that may still change in ways another channel must hear of.
pub(crate) const OPEN: [UnifiedStatus; 9] = [
    UnifiedStatus::Placed,
    UnifiedStatus::Paid,
    UnifiedStatus::InProgress,
    UnifiedStatus::OnHold,
    UnifiedStatus::PartiallyShipped,
    UnifiedStatus::Shipped,
    UnifiedStatus::PartiallyDelivered,
    UnifiedStatus::PartiallyRefunded,
    UnifiedStatus::Unknown,
];

/// Where the rotation through open mirrors stands: an index into [`OPEN`] and the table's page token.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct RecheckPosition {
    status: usize,
    token: Option<String>,
}

/// Reads a few open Genstore mirrors again each run, in rotation through the table, and applies what
/// changed as a webhook would have. The window re-reads only the newest orders; this catches a late
/// fulfillment or cancellation of an older order whose webhooks were lost.
pub(crate) async fn recheck_open_mirrors(
    deps: &Deps,
    client: &GenstoreClient,
    deadline: &dyn Deadline,
    s: &mut ChannelSummary,
) -> Result<(), PollError> {
    let budget = deps.settings.genstore_recheck;
    if budget == 0 {
        return Ok(());
    }
    let stored = deps
        .store
        .read(&RecordName::GenstoreRecheck.to_string())
        .await?
        .map(|c| c.value);
    let mut at: RecheckPosition = stored
        .as_deref()
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or_default();
    if at.status >= OPEN.len() {
        at = RecheckPosition::default();
    }
    let status_at = |i: usize| OPEN.get(i).copied().unwrap_or(UnifiedStatus::Placed);
    let (mut jobs, mut markers) = (Vec::new(), Vec::new());
    // An order read here may move to a status later in the lap: read each once per run.
    let mut visited = std::collections::HashSet::new();
    // At most one lap through the statuses per run, so a small table ends the run at once.
    let mut statuses_left = OPEN.len();
    while s.rechecked < budget && statuses_left > 0 && !out_of_time(deps, deadline) {
        let listed = deps
            .store
            .list_by_status(
                status_at(at.status),
                PageRequest {
                    token: at.token.clone(),
                    limit: budget,
                },
            )
            .await;
        let page = match listed {
            Ok(p) => p,
            // A position the table no longer takes (another backend, a store upgrade): start that
            // status over rather than stick.
            Err(e) if at.token.is_some() => {
                tracing::warn!(error = %e, "mirror rotation restarts its status");
                at.token = None;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        for stored in page.items {
            let o = stored.order;
            let mirror = o.source.as_ref().and_then(|x| x.external_order()).is_some();
            if o.channel != Channel::Genstore || !mirror || !visited.insert(o.order_id.clone()) {
                continue;
            }
            s.rechecked = s.rechecked.saturating_add(1);
            let Some(fresh) = client.get_order(o.order_id.as_str()).await? else {
                continue; // Past Genstore's 60 days: nothing more will come.
            };
            let order = match genstore::to_channel_order(&fresh) {
                Ok(order) => order,
                Err(e) => {
                    // Stored before, unreadable now: reported every lap until someone looks.
                    s.failed = s.failed.saturating_add(1);
                    s.error = Some(format!("order {}: {e}", o.order_id));
                    continue;
                }
            };
            let a = orderbridge::sync::apply_genstore_read(&*deps.store, order).await?;
            if a.outcome.changed() {
                s.missed = s.missed.saturating_add(1);
            }
            jobs.extend(a.jobs);
            markers.extend(a.queued_marker);
        }
        at = match page.next {
            Some(token) => RecheckPosition {
                status: at.status,
                token: Some(token),
            },
            None => {
                statuses_left = statuses_left.saturating_sub(1);
                RecheckPosition {
                    status: at
                        .status
                        .saturating_add(1)
                        .checked_rem(OPEN.len())
                        .unwrap_or(0),
                    token: None,
                }
            }
        };
    }
    enqueue(deps, &jobs, s).await?;
    for m in &markers {
        orderbridge::sync::mark_queued(&*deps.store, m).await;
    }
    let next = serde_json::to_string(&at).map_err(|e| PollError::Encoding(e.to_string()))?;
    let name = RecordName::GenstoreRecheck.to_string();
    match deps.store.advance(&name, stored.as_deref(), &next).await {
        Ok(_) => Ok(()),
        Err(source) => Err(PollError::Position {
            what: "cursor",
            source,
        }),
    }
}
