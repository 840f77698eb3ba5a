//! The order table's rules, over any [`OrderStore`]: save a newer source state without losing
//! orderbridge's own facts, link an external order to its Genstore order (erasure: [`crate::compliance`]).
//!
//! orderbridge's own facts on an order are the Genstore link and an erasure. A channel's update never
//! carries them, so saving keeps them: the link stays, and erased personal data does not come back.
//! Every change is a conditional write; a conflict means another writer got there first, so the helper
//! reads again and retries (a bounded number of times).

use super::{Expected, OrderKey, OrderStore, StoreError, StoredOrder, Update, Upsert};
use crate::ids::GenstoreOrderId;
use crate::order::ChannelOrder;

/// How often a helper retries after a conflict before giving up with [`StoreError::Unavailable`].
pub const MAX_CONFLICT_RETRIES: usize = 16;

/// What saving an order did.
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    /// A new order was stored.
    Created {
        /// Its store version.
        version: u64,
    },
    /// A newer state replaced the stored one.
    Updated {
        /// The new store version.
        version: u64,
        /// The state it replaced.
        previous: Box<ChannelOrder>,
    },
    /// The stored state is as new or newer: nothing changed (a replay or an out-of-order delivery).
    Unchanged,
}

impl Saved {
    /// True when something was written.
    pub fn changed(&self) -> bool {
        !matches!(self, Saved::Unchanged)
    }
}

/// Carries orderbridge's own facts from the stored order into an incoming channel state: the link to
/// the Genstore order, an erasure, and the refunds recorded on it.
///
/// Refunds are events that never un-happen, and Genstore's order object does not carry them: a refund
/// reaches orderbridge as `refunds/create` and is added to the stored order, so the order's next state
/// (its `orders/update`, a reconciliation read) would otherwise drop it, and the refund's push would
/// find nothing to push. A recorded refund (one with an id) the incoming state does not name is kept.
pub fn keep_own_facts(stored: &ChannelOrder, incoming: &mut ChannelOrder) {
    if incoming.genstore_order_id.is_none() {
        incoming.genstore_order_id = stored.genstore_order_id.clone();
    }
    for r in &stored.refunds {
        if r.id.is_some() && !incoming.refunds.iter().any(|x| x.id == r.id) {
            incoming.refunds.push(r.clone());
        }
    }
    if stored.personal_data_erased {
        incoming.erase_personal_data();
    }
}

/// Stores `incoming` if it is newer than what the table holds (by source version), keeping the stored
/// link and erasure. Safe to call with replays and out-of-order deliveries.
pub async fn save_newer(
    store: &dyn OrderStore,
    incoming: ChannelOrder,
) -> Result<Saved, StoreError> {
    save_newer_state(store, incoming)
        .await
        .map(|(saved, _)| saved)
}

/// [`save_newer`], also answering the state the table now holds for the order (what was written, or the
/// newer state that was kept), so a caller that goes on with it need not read it again.
pub async fn save_newer_state(
    store: &dyn OrderStore,
    incoming: ChannelOrder,
) -> Result<(Saved, ChannelOrder), StoreError> {
    let key = OrderKey::of(&incoming);
    for _ in 0..MAX_CONFLICT_RETRIES {
        let stored = store.get(&key).await?;
        let mut order = incoming.clone();
        if let Some(s) = stored.as_ref() {
            // Compared with the facts the table keeps (its refunds, say) carried over, so they do not
            // make the stored state look further along than the incoming one.
            keep_own_facts(&s.order, &mut order);
            // Already as new or newer: the conditional write would only fail; spare the request.
            if s.order.source_version() >= order.source_version() {
                return Ok((Saved::Unchanged, s.order.clone()));
            }
        }
        match store
            .upsert_if_newer(&order, Expected::from_read(stored.as_ref()))
            .await?
        {
            Upsert::Applied { version } => {
                let saved = match stored {
                    None => Saved::Created { version },
                    Some(s) => Saved::Updated {
                        version,
                        previous: Box::new(s.order),
                    },
                };
                return Ok((saved, order));
            }
            // A newer state landed between the read and the write: that one is what the table holds.
            Upsert::Stale => {
                if let Some(now) = store.get(&key).await? {
                    return Ok((Saved::Unchanged, now.order));
                }
            }
            Upsert::Conflict => continue,
        }
    }
    Err(StoreError::Unavailable(format!(
        "order {key} kept changing under concurrent writers"
    )))
}

/// Saves a fresh read of an external channel (Google, Zonos): as [`save_newer_state`], and also when the
/// read ties the stored version but its packages differ.
///
/// Decision: neither Google nor Zonos dates a tracking change (Google orders have no update time, and
/// a Zonos tracking list changes without its status date), so a corrected tracking number leaves the
/// order's source version as it was. Every state of those channels is read from the channel itself at
/// the time of the save (they send no webhooks), so on a tie the read in hand is the newer one.
pub async fn save_fresh_read(
    store: &dyn OrderStore,
    incoming: ChannelOrder,
) -> Result<(Saved, ChannelOrder), StoreError> {
    // Boxed, here and below: the store's futures are large, and these nest inside the callers' own.
    let (saved, now) = Box::pin(save_newer_state(store, incoming.clone())).await?;
    let version = incoming.source_version();
    let other_packages = |stored: &ChannelOrder| {
        stored.source_version() == version && stored.shipments != incoming.shipments
    };
    if saved.changed() || !other_packages(&now) {
        return Ok((saved, now));
    }
    Box::pin(take_on_tie(store, &incoming, other_packages, now)).await
}

/// True when `incoming`, with the table's own facts carried over ([`keep_own_facts`]), is exactly as far
/// along as `stored` (the same source version) and yet says something else: two changes made within
/// the one second Genstore's `updatedAt` resolves, equal in progress (a tracking number corrected, a
/// tag or note changed). Which of the two is newer cannot be told from the states themselves.
pub fn ties_with_other_facts(stored: &ChannelOrder, incoming: &ChannelOrder) -> bool {
    let mut next = incoming.clone();
    keep_own_facts(stored, &mut next);
    ties_as_kept(stored, &next)
}

/// [`ties_with_other_facts`] for an incoming state that already carries the table's own facts (as the
/// webhook fast path's does), so it is not copied and merged a second time.
pub fn ties_as_kept(stored: &ChannelOrder, kept: &ChannelOrder) -> bool {
    kept.source_version() == stored.source_version() && kept != stored
}

/// What a Genstore state's save did, and whether it met a tie it could not decide.
#[derive(Debug, Clone, PartialEq)]
pub struct GenstoreSave {
    /// What was written.
    pub saved: Saved,
    /// The state the table holds now.
    pub now: ChannelOrder,
    /// A delivered state tied the stored one with other facts ([`ties_with_other_facts`]) and was not
    /// taken: the caller asks Genstore for the order (a fresh read decides).
    pub undecided_tie: bool,
}

/// Saves a Genstore order state newer-wins ([`save_newer_state`]). On a tie with other facts
/// ([`ties_with_other_facts`]), a `fresh_read` (the order just read from Genstore: reconciliation, a
/// backfill, a re-read job) is taken, as the state Genstore holds now; a delivered state (a webhook's
/// body, which may be the older of the two) is not, and the answer says so, so the caller can have the
/// order read.
///
/// Decision: a read in flight while the order changes twice within one second can still be the older
/// state when it is saved; the next change or reconciliation corrects it. Without this, the second of two
/// same-second changes was never applied.
pub async fn save_genstore_state(
    store: &dyn OrderStore,
    incoming: ChannelOrder,
    fresh_read: bool,
) -> Result<GenstoreSave, StoreError> {
    // Boxed, here and below: the store's futures are large, and these nest inside the callers' own.
    let (saved, now) = Box::pin(save_newer_state(store, incoming.clone())).await?;
    let tie = |stored: &ChannelOrder| ties_with_other_facts(stored, &incoming);
    let (saved, now, undecided_tie) = if saved.changed() || !tie(&now) {
        (saved, now, false)
    } else if fresh_read {
        let (saved, now) = Box::pin(take_on_tie(store, &incoming, tie, now)).await?;
        (saved, now, false)
    } else {
        (saved, now, true)
    };
    Ok(GenstoreSave {
        saved,
        now,
        undecided_tie,
    })
}

/// Writes `incoming` over the stored order while `ties` still holds for it (retrying on conflict),
/// keeping the table's own facts; `now` is the state read before, answered when nothing is written.
async fn take_on_tie(
    store: &dyn OrderStore,
    incoming: &ChannelOrder,
    ties: impl Fn(&ChannelOrder) -> bool + Send + Sync,
    now: ChannelOrder,
) -> Result<(Saved, ChannelOrder), StoreError> {
    let key = OrderKey::of(incoming);
    let mut previous = None;
    let changed = Box::pin(modify(store, &key, |o| {
        if !ties(o) {
            return false;
        }
        previous = Some(o.clone());
        let mut next = incoming.clone();
        keep_own_facts(o, &mut next);
        *o = next;
        true
    }))
    .await?;
    Ok(match (changed, previous) {
        (Modified::Applied(s), Some(p)) => (
            Saved::Updated {
                version: s.version,
                previous: Box::new(p),
            },
            s.order,
        ),
        (Modified::Applied(s) | Modified::Unchanged(s), _) => (Saved::Unchanged, s.order),
        (Modified::NotFound, _) => (Saved::Unchanged, now),
    })
}

/// What [`modify`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Modified {
    /// The change was written.
    Applied(StoredOrder),
    /// The change had nothing to do.
    Unchanged(StoredOrder),
    /// No such order.
    NotFound,
}

/// Applies `change` to the stored order and writes it back conditionally, retrying on conflict.
/// `change` returns false when there is nothing to change.
pub async fn modify<F>(
    store: &dyn OrderStore,
    key: &OrderKey,
    mut change: F,
) -> Result<Modified, StoreError>
where
    F: FnMut(&mut ChannelOrder) -> bool + Send,
{
    for _ in 0..MAX_CONFLICT_RETRIES {
        let Some(stored) = store.get(key).await? else {
            return Ok(Modified::NotFound);
        };
        let mut order = stored.order.clone();
        if !change(&mut order) {
            return Ok(Modified::Unchanged(stored));
        }
        match store.update(&order, stored.version).await? {
            Update::Applied { version } => {
                return Ok(Modified::Applied(StoredOrder { order, version }))
            }
            Update::Conflict => continue,
        }
    }
    Err(StoreError::Unavailable(format!(
        "order {key} kept changing under concurrent writers"
    )))
}

/// What linking an external order to a Genstore order came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Linked now.
    Linked,
    /// Already linked to the same Genstore order.
    AlreadyLinked,
    /// Linked to another Genstore order; nothing changed. Someone must look.
    LinkedElsewhere(GenstoreOrderId),
    /// No such order.
    NotFound,
}

/// What linking an external order whose link is `existing` to `genstore_id` comes to: `Linked` means
/// the link is to be written now (a link never moves).
pub fn link_decision(existing: Option<&GenstoreOrderId>, genstore_id: &GenstoreOrderId) -> Link {
    match existing {
        Some(e) if e == genstore_id => Link::AlreadyLinked,
        Some(e) => Link::LinkedElsewhere(e.clone()),
        None => Link::Linked,
    }
}

/// Links an external order to the Genstore order that mirrors it ([`link_decision`]).
pub async fn link_to_genstore(
    store: &dyn OrderStore,
    key: &OrderKey,
    genstore_id: &GenstoreOrderId,
) -> Result<Link, StoreError> {
    let mut decided = Link::NotFound;
    modify(store, key, |o| {
        decided = link_decision(o.genstore_order_id.as_ref(), genstore_id);
        if decided != Link::Linked {
            return false;
        }
        o.genstore_order_id = Some(genstore_id.clone());
        true
    })
    .await?;
    Ok(decided)
}
