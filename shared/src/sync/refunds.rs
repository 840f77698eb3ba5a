//! Refunds that arrive before their Genstore order: parked in the cursor table, folded into the order
//! when it arrives, and the parked record removed then. Genstore's order carries no refunds, so the
//! parked record is the only place such a refund waits.

use crate::channels::genstore::{mapping as genstore_mapping, wire as gw};
use crate::order::ChannelOrder;
use crate::store::orders::{self};
use crate::store::{CursorStore, OrderKey, RecordName, Storage, StoreError};

/// Keeps a `refunds/create` whose order orderbridge has not seen yet, so the refund joins the order
/// when it arrives (by webhook or reconciliation) instead of being lost. The refund's note is not kept
/// (it is free text and may name the customer; the order's own copy of the refund brings it back).
pub async fn park_refund(store: &dyn CursorStore, refund: &gw::Refund) -> Result<(), StoreError> {
    let order_id = refund.order_id.clone().unwrap_or_default();
    let name = RecordName::ParkedRefunds(&order_id).to_string();
    let mut kept = gw::Refund {
        note: None,
        ..refund.clone()
    };
    kept.order_id = Some(order_id);
    crate::store::update_json(store, &name, 5, |list: &mut Vec<gw::Refund>| {
        if list
            .iter()
            .any(|r| r.refund_id.is_some() && r.refund_id == kept.refund_id)
        {
            return false;
        }
        list.push(kept.clone());
        true
    })
    .await
    .map(drop)
}

/// Adds the refunds of a parked list (as [`park_refund`] keeps it) that `order` lacks; true when any
/// joined.
fn fold_parked_refunds(order: &mut ChannelOrder, parked: &str) -> bool {
    let list: Vec<gw::Refund> = serde_json::from_str(parked).unwrap_or_default();
    let mut changed = false;
    for r in list
        .iter()
        .filter_map(|r| genstore_mapping::to_refund(r, &order.totals.currency).ok())
    {
        if !order.refunds.iter().any(|x| x.id.is_some() && x.id == r.id) {
            order.refunds.push(r);
            changed = true;
        }
    }
    changed
}

/// Adds an order's parked refunds to it, then removes the parked record: only if it still holds what
/// was read, so a refund parked meanwhile stays for the next join (see `refund_event` in
/// webhook-ingest, which looks for the order again after parking). The stored state after, when any
/// refund joined.
pub async fn join_parked_refunds(
    store: &dyn Storage,
    order: &ChannelOrder,
) -> Result<Option<ChannelOrder>, StoreError> {
    let name = RecordName::ParkedRefunds(order.order_id.as_str()).to_string();
    let Some(parked) = store.read(&name).await? else {
        return Ok(None);
    };
    let joined = match orders::modify(store, &OrderKey::of(order), |o| {
        fold_parked_refunds(o, &parked.value)
    })
    .await?
    {
        orders::Modified::Applied(s) => Some(s.order),
        orders::Modified::Unchanged(_) => None,
        orders::Modified::NotFound => return Ok(None),
    };
    // The stored order holds every parked refund now (one that does not map never will).
    store.remove(&name, &parked.value).await?;
    Ok(joined)
}
