//! Genstore's fulfillments out to the channels: Google `shipLineItems` / `updateShipment`, Zonos'
//! tracking list and vendor status.

use super::mirror::{refresh, refresh_google};
use super::{Deps, Outcome};
use crate::audit::{attempt, audited, client, failure, google_write, load, record_once};
use orderbridge::channel::Channel;
use orderbridge::channels::google::client::operation_id;
use orderbridge::channels::google::wire as g;
use orderbridge::channels::zonos;
use orderbridge::channels::zonos::ZonosStatus;
use orderbridge::ids::{ChannelOrderId, GenstoreOrderId};
use orderbridge::order::ShipmentStatus;
use orderbridge::store::OrderKey;

/// The Google line a Genstore line ships as: same SKU (Google's offer id), else same product id.
pub(crate) fn google_line<'a>(
    google: &'a g::Order,
    sku: Option<&str>,
    product: Option<&str>,
) -> Option<&'a g::LineItem> {
    google.line_items.iter().find(|l| {
        let p = l.product.as_ref();
        let offer = p.and_then(|p| p.offer_id.as_deref());
        let pid = p.and_then(|p| p.id.as_deref());
        (sku.is_some() && offer == sku) || (product.is_some() && pid == product)
    })
}

pub(crate) async fn tracking_to_google(
    deps: &Deps,
    order_id: &ChannelOrderId,
    genstore_id: &GenstoreOrderId,
) -> Outcome {
    let gc = attempt!(client(&deps.google, "google"));
    let key = OrderKey::new(Channel::Google, order_id.clone());
    let source = attempt!(load(deps, Channel::Genstore, genstore_id.as_str()).await);
    let Some(current) = attempt!(gc.get_order(order_id.as_str()).await.map_err(failure)) else {
        return Outcome::Permanent(format!("Google does not know order {order_id}"));
    };
    let mut google = current;
    let mut done = Vec::new();
    for s in source.shipments.iter().filter(|s| s.status.is_live()) {
        let base = format!("gs-{}", s.id);
        let already = google.shipments.iter().any(|x| {
            x.id.as_deref()
                .is_some_and(|i| i == base || i.starts_with(&format!("{base}-")))
        });
        if !already {
            let mut lines = Vec::new();
            for sl in &s.line_items {
                let Some(gl) = source.line_item(&sl.line_item_id) else {
                    continue;
                };
                let Some(target) = google_line(
                    &google,
                    gl.sku.as_ref().map(|x| x.as_str()),
                    gl.product_id.as_ref().map(|x| x.as_str()),
                ) else {
                    return Outcome::Permanent(format!(
                        "no Google line for Genstore line {} (sku {:?})",
                        sl.line_item_id, gl.sku
                    ));
                };
                let left = target
                    .quantity_ordered
                    .unwrap_or(0)
                    .saturating_sub(target.quantity_shipped.unwrap_or(0))
                    .saturating_sub(target.quantity_canceled.unwrap_or(0));
                let quantity = sl.quantity.min(left);
                if quantity > 0 {
                    lines.push(g::LineItemShipment {
                        line_item_id: target.id.clone(),
                        product_id: None,
                        quantity,
                    });
                }
            }
            if lines.is_empty() {
                continue;
            }
            let numbers: Vec<&String> = s.tracking_numbers.iter().collect();
            let infos: Vec<g::ShipmentInfo> = if numbers.len() <= 1 {
                vec![g::ShipmentInfo {
                    shipment_id: base.clone(),
                    carrier: s.carrier.as_ref().map(|c| c.google_code().to_owned()),
                    tracking_id: numbers.first().map(|n| (*n).clone()),
                }]
            } else {
                numbers
                    .iter()
                    .enumerate()
                    .map(|(i, n)| g::ShipmentInfo {
                        shipment_id: if i == 0 {
                            base.clone()
                        } else {
                            format!("{base}-{i}")
                        },
                        carrier: s.carrier.as_ref().map(|c| c.google_code().to_owned()),
                        tracking_id: Some((*n).clone()),
                    })
                    .collect()
            };
            let op = operation_id(order_id.as_str(), "ship", s.id.as_str());
            let req = g::ShipLineItemsRequest {
                operation_id: op.clone(),
                line_items: lines,
                shipment_group_id: None,
                shipment_infos: infos,
            };
            attempt!(
                google_write(
                    deps,
                    &key,
                    &op,
                    "shipLineItems",
                    gc.ship_line_items(order_id.as_str(), &req).await
                )
                .await
            );
            done.push(format!("shipped {}", s.id));
            google = match gc.get_order(order_id.as_str()).await {
                Ok(Some(o)) => o,
                Ok(None) => return Outcome::Retry("Google lost the order".into()),
                Err(e) => return failure(e),
            };
        }
        if already {
            // A number or carrier corrected in Genstore: Google's shipment follows (`updateShipment`
            // changes only what it names).
            let number = s.tracking_numbers.first();
            let carrier = s.carrier.as_ref().map(|c| c.google_code().to_owned());
            let theirs = google
                .shipments
                .iter()
                .find(|x| x.id.as_deref() == Some(base.as_str()));
            if let (Some(x), Some(n)) = (theirs, number) {
                let stale_number = x.tracking_id.as_deref() != Some(n.as_str());
                let stale_carrier = carrier.is_some() && x.carrier != carrier;
                if stale_number || stale_carrier {
                    let op = operation_id(
                        order_id.as_str(),
                        "retrack",
                        &format!("{}:{n}:{}", s.id, carrier.as_deref().unwrap_or("")),
                    );
                    let req = g::UpdateShipmentRequest {
                        operation_id: op.clone(),
                        shipment_id: base.clone(),
                        status: None,
                        carrier: carrier.clone(),
                        tracking_id: Some(n.clone()),
                        delivery_date: None,
                    };
                    attempt!(
                        google_write(
                            deps,
                            &key,
                            &op,
                            "updateShipment",
                            gc.update_shipment(order_id.as_str(), &req).await
                        )
                        .await
                    );
                    done.push(format!("corrected {}", s.id));
                }
            }
        }
        if s.status == ShipmentStatus::Delivered {
            let delivered = google.shipments.iter().any(|x| {
                x.id.as_deref() == Some(base.as_str()) && x.status.as_deref() == Some("delivered")
            });
            let exists = google
                .shipments
                .iter()
                .any(|x| x.id.as_deref() == Some(base.as_str()));
            if exists && !delivered {
                let op = operation_id(order_id.as_str(), "deliver", s.id.as_str());
                let req = g::UpdateShipmentRequest {
                    operation_id: op.clone(),
                    shipment_id: base.clone(),
                    status: Some("delivered".into()),
                    carrier: None,
                    tracking_id: None,
                    delivery_date: s.delivered_at.map(|t| t.format("%Y-%m-%d").to_string()),
                };
                attempt!(
                    google_write(
                        deps,
                        &key,
                        &op,
                        "updateShipment",
                        gc.update_shipment(order_id.as_str(), &req).await
                    )
                    .await
                );
                done.push(format!("delivered {}", s.id));
            }
        }
    }
    for s in source
        .shipments
        .iter()
        .filter(|s| s.status == ShipmentStatus::Cancelled)
    {
        let base = format!("gs-{}", s.id);
        if google
            .shipments
            .iter()
            .any(|x| x.id.as_deref() == Some(base.as_str()))
        {
            let reason = format!(
                "Genstore fulfillment {} was cancelled; Google has no call to withdraw its shipment",
                s.id
            );
            attempt!(
                record_once(
                    deps,
                    &key,
                    &base,
                    Channel::Google,
                    "withdrawShipment",
                    reason
                )
                .await
            );
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
    let z = attempt!(client(&deps.zonos, "zonos"));
    let key = OrderKey::new(Channel::Zonos, order_id.clone());
    let source = attempt!(load(deps, Channel::Genstore, genstore_id.as_str()).await);
    let mut numbers: Vec<String> = Vec::new();
    for s in source.shipments.iter().filter(|s| s.status.is_live()) {
        for n in &s.tracking_numbers {
            if !numbers.contains(n) {
                numbers.push(n.clone());
            }
        }
    }
    let mut done = Vec::new();
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
    if source.fully_shipped() {
        let status = ZonosStatus::VendorEndOfDayComplete;
        let op = format!("vendor-status:{order_id}:{status}");
        match audited(
            deps,
            &key,
            &op,
            Channel::Zonos,
            "updateVendorOrderStatus",
            z.update_vendor_order_status(order_id.as_str(), &status)
                .await,
            |_| false,
        )
        .await
        {
            Ok(_) => done.push(format!("status {status}")),
            Err(Outcome::Done(skipped)) => done.push(skipped),
            Err(other) => return other,
        }
    }
    refresh(
        deps,
        z.order_detail(order_id.as_str())
            .await
            .map_err(|e| e.to_string())
            .and_then(|o| zonos::to_channel_order(&o, None).map_err(|e| e.to_string())),
    )
    .await;
    Outcome::Done(if done.is_empty() {
        "nothing to push".into()
    } else {
        done.join(", ")
    })
}
