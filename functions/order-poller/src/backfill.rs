//! A backfill: one channel's history over a date range, imported without touching the live cursor,
//! paced by the same deployment-wide budget as the live poll (the clients a backfill is given leave
//! [`BACKFILL_RESERVE`] of each platform's bucket to live work), and resumable.
//!
//! Resumable: a backfill records how far it got (`backfill:{channel}:{since}:{through}`, every
//! [`SAVE_EVERY`] orders and where it stops), so the same backfill run again, after a deadline stopped
//! it or a crash killed it, continues from there instead of starting over; the orders between the last
//! record and the stop are imported again, which changes nothing (newer-wins saves, idempotent jobs).
//! A completed backfill clears its record, so running it again later starts afresh. An order that
//! fails to import is parked on the sync queue as an import job (as the live poll does), so moving
//! the position past it loses nothing.
//!
//! Each channel is walked in an order its own API gives, and the position is a place in that order:
//!
//! - **Zonos**: `orderNumbers` with `sinceDate`/`throughDate` (the documented date selector), taken in
//!   order-id order (ids of one store have one shape, `999-12345`, so a longer id is a later one); the
//!   position is the last order id done.
//! - **Google**: `orders.list` with `placedDateStart`/`placedDateEnd`, `orderBy=placedDateAsc`; the
//!   position is the last order's placement time, and a resumed run starts at that time (inclusive).
//! - **Genstore**: the documented list filters name no dates (`financialStatus`, `fulfillmentStatus`,
//!   `sinceId`), so the backfill walks `sinceId` pages, keeps the orders created in the range and stops
//!   at the first one created after it (ids grow with creation: `sinceId` paging rests on that). Decision:
//!   no undocumented date parameter is sent. The position is the last order id read.

use super::{leased, out_of_time, Backfill, Deadline, Deps, Run};
use crate::item::{count, enqueue, jobs_of, park_by_id, Imported};
use crate::summary::ChannelSummary;
use crate::PollError;
use chrono::{DateTime, NaiveDate, Utc};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::{self, client::OrderQuery};
use orderbridge::channels::google::client::ListQuery;
use orderbridge::channels::http::Paging;
use orderbridge::channels::zonos::wire::OrderNumber;
use orderbridge::channels::zonos::wire::OrderSelector;

/// The share of each platform's bucket a backfill leaves to live work.
pub const BACKFILL_RESERVE: f64 = 0.5;

/// How often (in orders) a backfill records its position.
pub const SAVE_EVERY: usize = 25;

/// Where a backfill's position is kept.
pub fn progress_name(b: &Backfill, through: NaiveDate) -> String {
    format!("backfill:{}:{}:{through}", b.channel, b.since)
}

/// The position record of one backfill run.
struct Progress<'a> {
    deps: &'a Deps,
    name: String,
    stored: Option<String>,
    position: Option<String>,
    since_save: usize,
}

impl<'a> Progress<'a> {
    async fn load(deps: &'a Deps, name: String) -> Result<Progress<'a>, PollError> {
        let stored = deps
            .store
            .read(&name)
            .await
            .map_err(|source| PollError::Position {
                what: "backfill position",
                source,
            })?
            .map(|c| c.value);
        let position = stored.clone().filter(|v| !v.is_empty());
        Ok(Progress {
            deps,
            name,
            stored,
            position,
            since_save: 0,
        })
    }

    /// Records `position` as done; saves every [`SAVE_EVERY`] orders.
    async fn done(&mut self, position: String) -> Result<(), PollError> {
        self.position = Some(position);
        self.since_save = self.since_save.saturating_add(1);
        if self.since_save >= SAVE_EVERY {
            self.save().await?;
        }
        Ok(())
    }

    async fn save(&mut self) -> Result<(), PollError> {
        let value = self.position.clone().unwrap_or_default();
        self.write(&value).await
    }

    async fn finish(&mut self) -> Result<(), PollError> {
        self.write("").await
    }

    async fn write(&mut self, value: &str) -> Result<(), PollError> {
        if self.stored.as_deref() == Some(value) || (self.stored.is_none() && value.is_empty()) {
            self.since_save = 0;
            return Ok(());
        }
        // One backfill per channel runs at a time (its lease), so a lost race is a stale read only.
        self.deps
            .store
            .advance(&self.name, self.stored.as_deref(), value)
            .await
            .map_err(|source| PollError::Position {
                what: "backfill position",
                source,
            })?;
        self.stored = Some(value.to_owned());
        self.since_save = 0;
        Ok(())
    }
}

/// Zonos order ids in the order they were issued: `999-9` before `999-10`.
pub(crate) fn zonos_order_key(id: &str) -> (usize, &str) {
    (id.len(), id)
}

/// One channel's walk through a range: what each step reads, and where it counts and records how far
/// it got.
struct Walk<'a, 'p> {
    deps: &'a Deps,
    range: &'a Backfill,
    through: NaiveDate,
    deadline: &'a dyn Deadline,
    summary: &'a mut ChannelSummary,
    progress: &'a mut Progress<'p>,
}

pub(crate) async fn backfill(deps: &Deps, b: &Backfill, deadline: &dyn Deadline) -> ChannelSummary {
    let name = b.channel.as_str();
    let through = b.through.unwrap_or_else(|| Utc::now().date_naive());
    leased(deps, Run::Backfill(b.channel), || async move {
        let mut s = ChannelSummary::new(name);
        if through < b.since {
            s.error = Some("backfill: through is before since".into());
            return s;
        }
        let mut progress = match Progress::load(deps, progress_name(b, through)).await {
            Ok(p) => p,
            Err(e) => {
                s.error = Some(e.to_string());
                return s;
            }
        };
        s.cursor_before = progress.position.clone();
        let walk = Walk {
            deps,
            range: b,
            through,
            deadline,
            summary: &mut s,
            progress: &mut progress,
        };
        let walked = match b.channel {
            Channel::Zonos => zonos(walk).await,
            Channel::Google => google(walk).await,
            Channel::Genstore => genstore(walk).await,
        };
        if let Err(e) = walked {
            s.error = Some(e.to_string());
        }
        let saved = if s.stopped_at_deadline || s.error.is_some() {
            progress.save().await
        } else {
            progress.finish().await
        };
        if let Err(e) = saved {
            s.error.get_or_insert(e.to_string());
        }
        s.cursor_after = progress.position.clone();
        s
    })
    .await
}

async fn zonos(mut w: Walk<'_, '_>) -> Result<(), PollError> {
    let client = w
        .deps
        .zonos
        .as_ref()
        .ok_or(PollError::NotConfigured(Channel::Zonos))?;
    let mut listing = client
        .order_numbers(
            OrderSelector::SinceDate {
                since: w.range.since,
                through: Some(w.through),
            },
            true,
        )
        .await?
        .orders;
    listing.sort_by(|a, b| zonos_order_key(&a.id).cmp(&zonos_order_key(&b.id)));
    let after = w.progress.position.clone();
    for entry in listing.iter().filter(|e| {
        after
            .as_deref()
            .is_none_or(|p| zonos_order_key(&e.id) > zonos_order_key(p))
    }) {
        if w.late() {
            return Ok(());
        }
        w.summary.seen = w.summary.seen.saturating_add(1);
        let imported = super::import_zonos(w.deps, client, entry).await;
        let listing = Some(entry.clone());
        w.settle(Channel::Zonos, Some(&entry.id), listing, imported)
            .await?;
        w.progress.done(entry.id.clone()).await?;
    }
    Ok(())
}

async fn google(mut w: Walk<'_, '_>) -> Result<(), PollError> {
    let client = w
        .deps
        .google
        .as_ref()
        .ok_or(PollError::NotConfigured(Channel::Google))?;
    let start = w
        .progress
        .position
        .clone()
        .unwrap_or_else(|| format!("{}T00:00:00Z", w.range.since));
    let q = ListQuery {
        placed_date_start: Some(start),
        placed_date_end: Some(format!(
            "{}T00:00:00Z",
            w.through.succ_opt().unwrap_or(w.through)
        )),
        order_by: Some("placedDateAsc".into()),
        ..ListQuery::default()
    };
    let mut token: Option<String> = None;
    let mut paging = Paging::new();
    loop {
        let page = client.list_orders_page(&q, token.as_deref()).await?;
        for o in &page.resources {
            if w.late() {
                return Ok(());
            }
            w.summary.seen = w.summary.seen.saturating_add(1);
            let imported = super::import_google(w.deps, o).await;
            w.settle(Channel::Google, o.id.as_deref(), None, imported)
                .await?;
            if let Some(placed) = o.placed_date.as_deref() {
                w.progress.done(placed.to_owned()).await?;
            }
        }
        token = paging.next(Channel::Google, "listOrders", page.next_page_token)?;
        if token.is_none() {
            return Ok(());
        }
    }
}

async fn genstore(mut w: Walk<'_, '_>) -> Result<(), PollError> {
    let client = w
        .deps
        .genstore
        .as_ref()
        .ok_or(PollError::NotConfigured(Channel::Genstore))?;
    let q = OrderQuery {
        since_id: w.progress.position.clone(),
        ..OrderQuery::default()
    };
    let mut token: Option<String> = None;
    let mut paging = Paging::new();
    loop {
        let page = client.list_orders_page(&q, token.as_deref()).await?;
        for o in &page.orders {
            if w.late() {
                return Ok(());
            }
            let created: Option<DateTime<Utc>> = o.created_at;
            let day = created.map(|t| t.date_naive());
            if day.is_some_and(|d| d > w.through) {
                return Ok(()); // ids grow with creation: nothing later is in the range
            }
            if day.is_some_and(|d| d >= w.range.since) {
                w.summary.seen = w.summary.seen.saturating_add(1);
                let applied = match genstore::to_channel_order(o) {
                    Ok(order) => orderbridge::sync::apply_genstore_read(&*w.deps.store, order)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match applied {
                    Ok(a) => {
                        if a.outcome.changed() {
                            w.summary.missed = w.summary.missed.saturating_add(1);
                        } else {
                            w.summary.unchanged = w.summary.unchanged.saturating_add(1);
                        }
                        enqueue(w.deps, &a.jobs, w.summary).await?;
                        if let Some(m) = &a.queued_marker {
                            orderbridge::sync::mark_queued(&*w.deps.store, m).await;
                        }
                    }
                    Err(e) => {
                        let parked = park_by_id(
                            w.summary,
                            Channel::Genstore,
                            o.order_id.as_deref(),
                            None,
                            &e,
                        );
                        enqueue(w.deps, &Vec::from_iter(parked), w.summary).await?;
                    }
                }
            }
            if let Some(id) = &o.order_id {
                w.progress.done(id.clone()).await?;
            }
        }
        token = paging.next(Channel::Genstore, "listOrders", page.links.next)?;
        if token.is_none() {
            return Ok(());
        }
    }
}

impl Walk<'_, '_> {
    /// Before each order: true, and the summary says the walk stopped there, when the deadline is near.
    fn late(&mut self) -> bool {
        let late = out_of_time(self.deps, self.deadline);
        if late {
            self.summary.stopped_at_deadline = true;
        }
        late
    }

    /// One external order the walk read: counted and its jobs queued, or parked on the queue by its id
    /// ([`park_by_id`]), so moving the position past it loses nothing.
    async fn settle<E: std::fmt::Display>(
        &mut self,
        channel: Channel,
        order_id: Option<&str>,
        listing: Option<OrderNumber>,
        imported: Result<Imported, E>,
    ) -> Result<(), PollError> {
        let s = &mut *self.summary;
        let jobs = match imported {
            Ok(i) => {
                count(s, &i);
                jobs_of(i)
            }
            Err(e) => Vec::from_iter(park_by_id(s, channel, order_id, listing, &e.to_string())),
        };
        enqueue(self.deps, &jobs, s).await
    }
}
