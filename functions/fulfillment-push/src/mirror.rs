//! Bringing an external order into Genstore: a parked import, its mirror (found again if an earlier
//! attempt made it), the hold that follows the channel's review, and the merchant-id write-back.

use super::{Deps, Outcome};
use crate::audit::{attempt, audited, client, failure, google_write, load, record_once};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::GenstoreClient;
use orderbridge::channels::genstore::{self, wire as gw};
use orderbridge::channels::google::client::{operation_id, GoogleClient};
use orderbridge::channels::zonos::client::ZonosClient;
use orderbridge::channels::{google, zonos};
use orderbridge::ids::{ChannelOrderId, GenstoreOrderId};
use orderbridge::jobs::SyncJob;
use orderbridge::order::ChannelOrder;
use orderbridge::store::orders::{self, Link};
use orderbridge::store::{OrderKey, RecordName};

/// A parked import: reads the order from its channel, saves it newer-wins, and queues what its state
/// calls for (its mirror, usually), exactly as the poll would have.
pub(crate) async fn import(
    deps: &Deps,
    channel: Channel,
    order_id: &ChannelOrderId,
    listing: Option<&orderbridge::jobs::Listing>,
) -> Outcome {
    let listing = listing.cloned().map(zonos::wire::OrderNumber::from);
    let listing = listing.as_ref();
    let unreadable = |e: orderbridge::error::MappingError| Outcome::Permanent(e.to_string());
    let gone = || Outcome::Permanent(format!("{channel} has no order {order_id}"));
    let order = match channel {
        Channel::Zonos => {
            let c = attempt!(client(&deps.zonos, Channel::Zonos));
            let detail = attempt!(c.order_detail(order_id.as_str()).await.map_err(failure));
            // Without the poll's listing, the stored order's stands in for the dates `orderDetail`
            // does not promise.
            let stored = match listing {
                Some(_) => None,
                None => load(deps, channel, order_id.as_str())
                    .await
                    .ok()
                    .map(|o| zonos::listing_of(&o)),
            };
            attempt!(
                zonos::to_channel_order(&detail, listing.or(stored.as_ref())).map_err(unreadable)
            )
        }
        Channel::Google => {
            let c = attempt!(client(&deps.google, Channel::Google));
            let o = attempt!(c.get_order(order_id.as_str()).await.map_err(failure));
            attempt!(google::to_channel_order(&attempt!(o.ok_or_else(gone))).map_err(unreadable))
        }
        Channel::Genstore => {
            let c = attempt!(client(&deps.genstore, Channel::Genstore));
            let o = attempt!(c.get_order(order_id.as_str()).await.map_err(failure));
            attempt!(genstore::to_channel_order(&attempt!(o.ok_or_else(gone))).map_err(unreadable))
        }
    };
    let applied = match channel {
        Channel::Genstore => orderbridge::sync::apply_genstore_read(&*deps.store, order).await,
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
pub(crate) async fn mirror(deps: &Deps, channel: Channel, order_id: &ChannelOrderId) -> Outcome {
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
    let gs = attempt!(client(&deps.genstore, Channel::Genstore));
    let mut mirror_held = false;
    let genstore_id = match &external.genstore_order_id {
        Some(id) => id.clone(),
        None => {
            // Genstore does not deduplicate creates, so look before every create: a previous attempt
            // may have created it and timed out, another job may have, or the table may have been
            // restored from a backup older than the mirror. The search starts at the Genstore order
            // id the first attempt recorded, else at the reconciliation cursor (older than any mirror
            // this table has not seen); with neither, at the first order.
            let marker = RecordName::MirrorAttempt(channel, order_id.as_str()).to_string();
            let attempted = attempt!(deps
                .store
                .read(&marker)
                .await
                .map_err(|e| Outcome::Retry(e.to_string())));
            let since = match &attempted {
                Some(a) => a.value.clone(),
                None => attempt!(deps
                    .store
                    .read(&RecordName::PollCursor(Channel::Genstore).to_string())
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
                Ok(Link::Linked | Link::AlreadyLinked) => {
                    // Linked: the table says where the mirror is, so the attempt's marker has done
                    // its work (one record per mirrored order otherwise, kept for good).
                    if let Err(e) = deps.store.remove(&marker, &since).await {
                        tracing::warn!(error = %e, "mirror attempt marker not removed; it is harmless");
                    }
                }
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
    if mirror_held || genstore::mapping::held(&latest) || orderbridge::sync::has_reversals(&latest)
    {
        // Held when mirrored (by this attempt or an earlier one), or held since, or refunded or
        // returned: a change made while the order had no mirror yet queued nothing for it, so the
        // mirror follows now (and the trail records each refund and return).
        let held = mirror_held || genstore::mapping::held(&latest);
        if let Outcome::Retry(why) | Outcome::Permanent(why) =
            sync_mirror(deps, channel, order_id, &genstore_id).await
        {
            return Outcome::Retry(format!(
                "mirrored; bringing the mirror up to {channel}'s state failed: {why}"
            ));
        }
        if held {
            return Outcome::Done(format!("mirrored held as Genstore order {genstore_id}"));
        }
    }
    Outcome::Done(format!("mirrored as Genstore order {genstore_id}"))
}

/// Makes the Genstore mirror show what its channel's order now is: held or released, and the refunds
/// and returns made on the channel ([`genstore::mapping::mirror_update`]); each refund and each return
/// is also recorded once on the mirror's trail. Nothing is written when the mirror already shows it
/// all, so a repeat (a second delivery, a re-read of the same state) changes nothing.
pub(crate) async fn sync_mirror(
    deps: &Deps,
    channel: Channel,
    order_id: &ChannelOrderId,
    genstore_id: &GenstoreOrderId,
) -> Outcome {
    let gs = attempt!(client(&deps.genstore, Channel::Genstore));
    let external = attempt!(load(deps, channel, order_id.as_str()).await);
    let Some(mirror) = attempt!(gs.get_order(genstore_id.as_str()).await.map_err(failure)) else {
        return Outcome::Permanent(format!("Genstore does not know order {genstore_id}"));
    };
    let key = OrderKey::new(Channel::Genstore, genstore_id.as_str());
    attempt!(record_reversals(deps, &key, &external).await);
    if mirror.cancelled_at.is_some() {
        return Outcome::Done("the mirror is cancelled: nothing to change".into());
    }
    let Some(update) = genstore::mapping::mirror_update(&external, &mirror) else {
        return Outcome::Done(format!(
            "mirror {genstore_id} already shows {channel}'s state"
        ));
    };
    let what = match (
        genstore::mapping::held(&external),
        genstore::mapping::is_held(&mirror),
    ) {
        (true, false) => "hold",
        (false, true) => "release",
        _ => "record",
    };
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
            gs.update_order(genstore_id.as_str(), &update).await,
            |_| false
        )
        .await
    );
    refresh_genstore(deps, &updated).await;
    Outcome::Done(format!("mirror {genstore_id}: {what}"))
}

/// Records on the mirror's trail, once each, every refund the channel made and every change in a
/// line's returns: Genstore has no call that takes them, so the note and tags carry them there.
async fn record_reversals(
    deps: &Deps,
    key: &OrderKey,
    external: &ChannelOrder,
) -> Result<(), Outcome> {
    let (channel, order_id) = (external.channel, &external.order_id);
    for r in external.own_refunds() {
        let Some(id) = &r.id else { continue };
        let amount = r
            .amount
            .as_ref()
            .map_or_else(|| "an unstated amount".to_owned(), ToString::to_string);
        let reason = format!(
            "{channel} refunded {amount} of order {order_id}; Genstore has no call to record a refund made elsewhere: the mirror's payment state, tags and note show it"
        );
        let what = format!("{channel}-refund:{order_id}:{id}");
        record_once(deps, key, &what, Channel::Genstore, "recordRefund", reason).await?;
    }
    for l in &external.line_items {
        let q = &l.quantities;
        if q.return_requested == 0 {
            continue;
        }
        let reason = format!(
            "{channel} order {order_id} line {}: {} asked back, {} received; shown on the mirror's tags and note",
            l.id, q.return_requested, q.returned
        );
        let what = format!(
            "{channel}-return:{order_id}:{}:{}:{}",
            l.id, q.return_requested, q.returned
        );
        record_once(deps, key, &what, Channel::Genstore, "recordReturn", reason).await?;
    }
    Ok(())
}

/// Finds a Genstore order created for an external order since a Genstore order id.
pub(crate) async fn find_mirror(
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
pub(crate) async fn write_merchant_id(
    deps: &Deps,
    key: &OrderKey,
    genstore_id: &GenstoreOrderId,
) -> Result<(), Outcome> {
    let id = key.order_id.as_str();
    match key.channel {
        Channel::Zonos => {
            let z = client(&deps.zonos, Channel::Zonos)?;
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
            let gc = client(&deps.google, Channel::Google)?;
            let op = operation_id(id, "merchant-id", genstore_id.as_str());
            google_write(
                deps,
                key,
                &op,
                "updateMerchantOrderId",
                gc.update_merchant_order_id(id, &op, genstore_id.as_str())
                    .await,
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
pub(crate) async fn refresh(deps: &Deps, order: Result<ChannelOrder, String>) {
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

/// Saves the Genstore order a write answered with.
pub(crate) async fn refresh_genstore(deps: &Deps, order: &genstore::wire::Order) {
    refresh(
        deps,
        genstore::to_channel_order(order).map_err(|e| e.to_string()),
    )
    .await;
}

/// Saves Google's fresh state of an order after a write.
pub(crate) async fn refresh_google(deps: &Deps, gc: &GoogleClient, order_id: &ChannelOrderId) {
    let fresh = match gc.get_order(order_id.as_str()).await {
        Ok(Some(o)) => google::to_channel_order(&o).map_err(|e| e.to_string()),
        Ok(None) => Err("order gone".into()),
        Err(e) => Err(e.to_string()),
    };
    refresh(deps, fresh).await;
}

/// Saves Zonos' fresh state of an order after a write (read with the stored order's listing, for the
/// dates `orderDetail` does not promise: [`zonos::listing_of`]).
pub(crate) async fn refresh_zonos(deps: &Deps, z: &ZonosClient, order_id: &ChannelOrderId) {
    let listing = match load(deps, Channel::Zonos, order_id.as_str()).await {
        Ok(stored) => Some(zonos::listing_of(&stored)),
        Err(_) => None,
    };
    let fresh = z
        .order_detail(order_id.as_str())
        .await
        .map_err(|e| e.to_string())
        .and_then(|o| zonos::to_channel_order(&o, listing.as_ref()).map_err(|e| e.to_string()));
    refresh(deps, fresh).await;
}
