//! Genstore's fulfillments out to the channels: Google `shipLineItems` / `updateShipment`, Zonos'
//! tracking list and vendor status.

use super::mirror::{refresh_google, refresh_zonos};
use super::{Deps, Outcome};
use crate::audit::{
    attempt, audited, client, failure, google_write, load, moved, record_once, zonos_status,
    SETTLE_ROUNDS,
};
use orderbridge::channel::Channel;
use orderbridge::channels::google::requests;
use orderbridge::channels::zonos;
use orderbridge::ids::{ChannelOrderId, GenstoreOrderId};
use orderbridge::order::ChannelOrder;
use orderbridge::store::OrderKey;

/// Keeps a Genstore fulfillment from reaching a channel that holds the order (a Zonos fraud review or
/// hold, a Google order not yet confirmed): the mirror was marked not to ship, so a fulfillment on it is
/// a mistake someone must look at. It is recorded on the order's trail once, the order shows as stuck
/// (`orders list --stuck`), and the push waits: if the channel releases the order it goes out then; if
/// the channel cancels it, it never does.
async fn not_while_held(
    deps: &Deps,
    channel: Channel,
    order_id: &ChannelOrderId,
    source: &ChannelOrder,
) -> Result<(), Outcome> {
    let external = load(deps, channel, order_id.as_str()).await?;
    if !orderbridge::channels::genstore::mapping::held(&external)
        || !source.shipments.iter().any(|s| s.status.is_live())
    {
        return Ok(());
    }
    let key = OrderKey::new(channel, order_id.clone());
    let reason = format!(
        "Genstore order {} was fulfilled while {channel} holds order {order_id} ({}): not pushed; it goes out only if {channel} releases the order",
        source.order_id, external.raw_status
    );
    let what = format!("held-fulfilled:{order_id}:{}", external.raw_status);
    record_once(deps, &key, &what, channel, "pushTracking", reason).await?;
    Err(Outcome::Waiting(format!(
        "{channel} holds order {order_id}: fulfillment not pushed"
    )))
}

/// The channel order's key and its Genstore mirror, whose tracking is to be pushed to `channel`,
/// unless the channel holds the order.
async fn mirror_to_push(
    deps: &Deps,
    channel: Channel,
    order_id: &ChannelOrderId,
    genstore_id: &GenstoreOrderId,
) -> Result<(OrderKey, ChannelOrder), Outcome> {
    let source = load(deps, Channel::Genstore, genstore_id.as_str()).await?;
    not_while_held(deps, channel, order_id, &source).await?;
    Ok((OrderKey::new(channel, order_id.clone()), source))
}

/// Genstore's live fulfillments to Google as shipments (`shipLineItems`), their corrections and
/// deliveries (`updateShipment`); a cancelled one Google has is recorded, once. What is sent is decided
/// by [`requests`]; this reads, writes, audits and reads again.
pub(crate) async fn tracking_to_google(
    deps: &Deps,
    order_id: &ChannelOrderId,
    genstore_id: &GenstoreOrderId,
) -> Outcome {
    let gc = attempt!(client(&deps.google, Channel::Google));
    let (key, mut source) =
        attempt!(mirror_to_push(deps, Channel::Google, order_id, genstore_id).await);
    let oid = order_id.as_str();
    let mut done = Vec::new();
    for _ in 0..SETTLE_ROUNDS {
        let Some(mut google) = attempt!(gc.get_order(oid).await.map_err(failure)) else {
            return Outcome::Permanent(format!("Google does not know order {order_id}"));
        };
        for s in source.shipments.iter().filter(|s| s.status.is_live()) {
            if !requests::has_shipment(&google, s) {
                let req = match requests::ship(oid, &source, s, &google) {
                    Ok(Some(req)) => req,
                    Ok(None) => continue,
                    Err(why) => return Outcome::Permanent(why),
                };
                let op = req.operation_id.clone();
                let sent = gc.ship_line_items(oid, &req).await;
                attempt!(google_write(deps, &key, &op, "shipLineItems", sent).await);
                done.push(format!("shipped {}", s.id));
                google = match gc.get_order(oid).await {
                    Ok(Some(o)) => o,
                    Ok(None) => return Outcome::Retry("Google lost the order".into()),
                    Err(e) => return failure(e),
                };
            } else if let Some(req) = requests::correction(oid, s, &google) {
                let op = req.operation_id.clone();
                let sent = gc.update_shipment(oid, &req).await;
                attempt!(google_write(deps, &key, &op, "updateShipment", sent).await);
                done.push(format!("corrected {}", s.id));
            }
            if let Some(req) = requests::delivery(oid, s, &google) {
                let op = req.operation_id.clone();
                let sent = gc.update_shipment(oid, &req).await;
                attempt!(google_write(deps, &key, &op, "updateShipment", sent).await);
                done.push(format!("delivered {}", s.id));
            }
        }
        for s in source
            .shipments
            .iter()
            .filter(|s| requests::withdrawn(s, &google))
        {
            let reason = format!(
                "Genstore fulfillment {} was cancelled; Google has no call to withdraw its shipment",
                s.id
            );
            let what = requests::shipment_id(s);
            let recorded = record_once(
                deps,
                &key,
                &what,
                Channel::Google,
                "withdrawShipment",
                reason,
            );
            attempt!(recorded.await);
        }
        match moved(deps, Channel::Genstore, genstore_id.as_str(), &source).await {
            Some(now) => source = now,
            None => break,
        }
    }
    refresh_google(deps, gc, order_id).await;
    Outcome::Done(if done.is_empty() {
        "nothing new to push".into()
    } else {
        done.join(", ")
    })
}

pub(crate) async fn tracking_to_zonos(
    deps: &Deps,
    order_id: &ChannelOrderId,
    genstore_id: &GenstoreOrderId,
) -> Outcome {
    let (key, mut source) =
        attempt!(mirror_to_push(deps, Channel::Zonos, order_id, genstore_id).await);
    let z = attempt!(client(&deps.zonos, Channel::Zonos));
    let mut done = Vec::new();
    for _ in 0..SETTLE_ROUNDS {
        let numbers = zonos::requests::tracking_numbers(&source);
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
        match moved(deps, Channel::Genstore, genstore_id.as_str(), &source).await {
            Some(now) => source = now,
            None => break,
        }
    }
    if let Some(status) = zonos::requests::vendor_status(&source) {
        match zonos_status(deps, z, &key, &status).await {
            Ok(_) => done.push(format!("status {status}")),
            Err(Outcome::Done(skipped)) => done.push(skipped),
            Err(other) => return other,
        }
    }
    refresh_zonos(deps, z, order_id).await;
    Outcome::Done(if done.is_empty() {
        "nothing to push".into()
    } else {
        done.join(", ")
    })
}
