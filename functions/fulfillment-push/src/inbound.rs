//! Channel packages into Genstore: each package a channel reports becomes its own Genstore fulfillment.
//!
//! - What a package is sent as (its lines, the Zonos no-lines decision, its tracking) is decided in
//!   `orderbridge::channels::genstore::fulfillments`.
//! - Which Genstore fulfillment a package became is kept in the order table (a record per package,
//!   `package:{channel}:{order}:{shipment}`), so a later package adds a fulfillment, and a corrected
//!   tracking number on the same package updates the one it became (`update_tracking`) instead of making
//!   another.
//! - A package whose number Genstore already has (one the merchant made, or one orderbridge pushed out to
//!   the channel and that came back, or one the merchant cancelled since) is that fulfillment: nothing is
//!   created. Google shipments orderbridge made itself (`gs-…`) are Genstore's own and are skipped.
//! - One claim per package across every job and instance keeps two jobs for two versions of the order
//!   from both creating it (and notifying the customer twice).
//!
//! Decision (Genstore keeps one tracking number per fulfillment, and a fulfillment must carry at least
//! one unit): a package arriving when every line it could carry is already fulfilled completes
//! a fulfillment that has no tracking yet if there is one; otherwise its number cannot be a Genstore
//! fulfillment, and it is kept on the order's trail (`addPackage`, skipped, with the reason) and in the
//! channel's order in the table, where `orderbridge orders show` lists it.

use super::{refresh, Deps, Outcome};
use crate::audit::{audit, audited, client, failure, load, moved, SETTLE_ROUNDS};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::{self, client::GenstoreClient, fulfillments, wire as gw};
use orderbridge::channels::google::requests;
use orderbridge::ids::{ChannelOrderId, GenstoreOrderId};
use orderbridge::order::{ChannelOrder, Shipment};
use orderbridge::store::{AuditOutcome, Claim, OrderKey, RecordName, WorkResult};
use serde::{Deserialize, Serialize};

/// What a channel package became in Genstore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PackageRecord {
    /// The Genstore fulfillment (none: kept on the trail only).
    fulfillment: Option<String>,
    /// The tracking number it carries there.
    number: Option<String>,
}

impl PackageRecord {
    /// The package is Genstore's fulfillment `fulfillment`, carrying `number`.
    fn of(fulfillment: &str, number: Option<&str>) -> PackageRecord {
        PackageRecord {
            fulfillment: Some(fulfillment.to_owned()),
            number: number.map(str::to_owned),
        }
    }
}

/// Puts `tracking` on Genstore's fulfillment `fulfillment` (on the order's trail as `op`).
async fn retrack(
    deps: &Deps,
    gs: &GenstoreClient,
    key: &OrderKey,
    op: &str,
    fulfillment: &str,
    tracking: gw::TrackingInfo,
) -> Result<(), Outcome> {
    let update = fulfillments::tracking_update(tracking);
    let sent = gs.update_tracking(fulfillment, &update).await;
    audited(
        deps,
        key,
        op,
        Channel::Genstore,
        "updateTracking",
        sent,
        |_| false,
    )
    .await
    .map(|_| ())
}

fn record_name(channel: Channel, order_id: &ChannelOrderId, shipment: &Shipment) -> String {
    RecordName::Package(channel, order_id.as_str(), shipment.id.as_str()).to_string()
}

/// Pushes the channel's packages into Genstore. When the stored order's packages changed while this ran
/// (a number corrected on the channel meanwhile), it goes round again with them, so a slower job's
/// write cannot undo a newer one's ([`moved`], as [`crate::outbound`] does the other way).
pub(crate) async fn tracking_to_genstore(
    deps: &Deps,
    channel: Channel,
    order_id: &ChannelOrderId,
    genstore_id: &GenstoreOrderId,
) -> Outcome {
    let gs = match client(&deps.genstore, Channel::Genstore) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let mut external = match load(deps, channel, order_id.as_str()).await {
        Ok(o) => o,
        Err(o) => return o,
    };
    let mut outcome = Outcome::Done("nothing new to push".into());
    for round in 0..SETTLE_ROUNDS {
        // After the first round, what Genstore holds decides, not the package records: a slower job's
        // write may have landed after the write a record names.
        let trust_records = round == 0;
        outcome = push_packages(
            deps,
            gs,
            (channel, order_id, genstore_id),
            &external,
            trust_records,
        )
        .await;
        if !matches!(outcome, Outcome::Done(_)) {
            return outcome;
        }
        match moved(deps, channel, order_id.as_str(), &external).await {
            Some(now) => external = now,
            None => break,
        }
    }
    outcome
}

/// One round of [`tracking_to_genstore`], from the channel's order as `external` holds it.
async fn push_packages(
    deps: &Deps,
    gs: &GenstoreClient,
    (channel, order_id, genstore_id): (Channel, &ChannelOrderId, &GenstoreOrderId),
    external: &ChannelOrder,
    trust_records: bool,
) -> Outcome {
    let packages: Vec<&Shipment> = external
        .shipments
        .iter()
        .filter(|s| s.status.is_live())
        // A Google shipment orderbridge made from a Genstore fulfillment is Genstore's own.
        .filter(|s| !(channel == Channel::Google && requests::is_from_genstore(s.id.as_str())))
        .collect();
    // Which line-less packages are new (not recorded, number not in Genstore), to share units among.
    let mut new_lineless = Vec::new();
    if packages.iter().any(|p| p.line_items.is_empty()) {
        let mirror = match fetch_mirror(gs, genstore_id).await {
            Ok(m) => m,
            Err(o) => return o,
        };
        for p in &packages {
            let name = record_name(channel, order_id, p);
            let recorded = match read_record(deps, &name).await {
                Ok(r) => r.is_some(),
                Err(o) => return o,
            };
            let known = p.tracking_numbers.first().is_some_and(|n| {
                mirror
                    .fulfillments
                    .iter()
                    .any(|f| fulfillments::number_of(f) == Some(n.as_str()))
            });
            new_lineless.push(p.line_items.is_empty() && !recorded && !known);
        }
    }
    let mut done = Vec::new();
    for (i, package) in packages.iter().enumerate() {
        let later = new_lineless.get(i.saturating_add(1)..).unwrap_or_default();
        let reserve = u32::try_from(later.iter().filter(|n| **n).count()).unwrap_or(u32::MAX);
        match push_package(
            deps,
            gs,
            external,
            genstore_id,
            package,
            reserve,
            trust_records,
        )
        .await
        {
            Ok(Some(what)) => done.push(what),
            Ok(None) => {}
            Err(o) => return o,
        }
    }
    refresh(
        deps,
        gs.get_order(genstore_id.as_str())
            .await
            .map_err(|e| e.to_string())
            .and_then(|o| o.ok_or_else(|| "order gone".to_owned()))
            .and_then(|o| genstore::to_channel_order(&o).map_err(|e| e.to_string())),
    )
    .await;
    Outcome::Done(if done.is_empty() {
        "nothing new to push".into()
    } else {
        done.join(", ")
    })
}

async fn read_record(deps: &Deps, name: &str) -> Result<Option<(String, PackageRecord)>, Outcome> {
    let raw = deps
        .store
        .read(name)
        .await
        .map_err(|e| Outcome::Retry(e.to_string()))?;
    Ok(raw.and_then(|c| {
        let r = serde_json::from_str::<PackageRecord>(&c.value).ok()?;
        Some((c.value, r))
    }))
}

async fn write_record(
    deps: &Deps,
    name: &str,
    previous: Option<&str>,
    record: &PackageRecord,
) -> Result<(), Outcome> {
    let value = serde_json::to_string(record).map_err(|e| Outcome::Retry(e.to_string()))?;
    if previous == Some(value.as_str()) {
        return Ok(());
    }
    // A lost race means another job recorded this package meanwhile; its record is as good.
    deps.store
        .advance(name, previous, &value)
        .await
        .map(|_| ())
        .map_err(|e| Outcome::Retry(e.to_string()))
}

/// One package: recorded already (a correction updates it), already in Genstore, or created. Returns
/// what it wrote.
async fn push_package(
    deps: &Deps,
    gs: &GenstoreClient,
    external: &ChannelOrder,
    genstore_id: &GenstoreOrderId,
    package: &Shipment,
    reserve: u32,
    trust_record: bool,
) -> Result<Option<String>, Outcome> {
    let name = record_name(external.channel, &external.order_id, package);
    let number = package.tracking_numbers.first().map(String::as_str);
    let recorded = read_record(deps, &name).await?;
    if let Some((_, r)) = &recorded {
        let same = r.number.as_deref() == number || (number.is_none() && r.fulfillment.is_some());
        if same && trust_record {
            return Ok(None);
        }
    }
    let mirror = fetch_mirror(gs, genstore_id).await?;
    let previous = recorded.as_ref().map(|(v, _)| v.as_str());
    if adopt_known(deps, &name, previous, &mirror, number).await? {
        return Ok(None);
    }
    let key = OrderKey::new(Channel::Genstore, genstore_id.as_str());
    if let Some((raw, r)) = &recorded {
        if let Some(fid) = &r.fulfillment {
            // The channel corrected the package's tracking number: the fulfillment it became follows.
            let Some(tracking) = fulfillments::tracking_info(package, number) else {
                return Ok(None);
            };
            let op = format!("retrack:{genstore_id}:{fid}:{}", number.unwrap_or("-"));
            retrack(deps, gs, &key, &op, fid, tracking).await?;
            let r = PackageRecord::of(fid, number);
            write_record(deps, &name, Some(raw), &r).await?;
            return Ok(Some(format!(
                "package {} corrected to {}",
                package.id,
                number.unwrap_or("no number")
            )));
        }
    }
    // New: one claim per package, so two jobs cannot both create it.
    let claim = format!("fulfill:{genstore_id}:{}:{}", external.channel, package.id);
    let owner = match deps
        .store
        .claim(&claim, package.id.as_str(), deps.idempotency)
        .await
    {
        Ok(Claim::Acquired { owner }) => owner,
        Ok(Claim::Completed(_)) => return Ok(None),
        Ok(Claim::InProgress { .. }) => {
            return Err(Outcome::Retry(format!(
                "package {} is being pushed by another job",
                package.id
            )))
        }
        Err(e) => return Err(Outcome::Retry(e.to_string())),
    };
    let created = create_package(deps, gs, external, genstore_id, package, &name, reserve).await;
    let settled = match &created {
        Ok(_) => deps
            .store
            .complete(
                &claim,
                &owner,
                &WorkResult::Done(package.id.as_str().to_owned()),
                deps.idempotency,
            )
            .await
            .map(|_| ()),
        Err(_) => deps.store.release(&claim, &owner).await,
    };
    if let Err(e) = settled {
        tracing::warn!(error = %e, "package claim not settled; it expires by itself");
    }
    created
}

/// When Genstore already has the package's number (on a live or a cancelled fulfillment), that
/// fulfillment is the package: records it and says so.
async fn adopt_known(
    deps: &Deps,
    name: &str,
    previous: Option<&str>,
    mirror: &gw::Order,
    number: Option<&str>,
) -> Result<bool, Outcome> {
    let Some(n) = number else { return Ok(false) };
    let Some(f) = mirror
        .fulfillments
        .iter()
        .find(|f| fulfillments::number_of(f) == Some(n))
    else {
        return Ok(false);
    };
    let r = PackageRecord {
        fulfillment: f.fulfill_id.clone(),
        number: Some(n.to_owned()),
    };
    write_record(deps, name, previous, &r).await?;
    Ok(true)
}

async fn fetch_mirror(
    gs: &GenstoreClient,
    genstore_id: &GenstoreOrderId,
) -> Result<gw::Order, Outcome> {
    match gs.get_order(genstore_id.as_str()).await {
        Ok(Some(o)) => Ok(o),
        Ok(None) => Err(Outcome::Permanent(format!(
            "Genstore does not know order {genstore_id}"
        ))),
        Err(e) => Err(failure(e)),
    }
}

/// Creates the package's fulfillment, the claim for it held. Reads the mirror afresh: another job may
/// have made it between the caller's read and its claim.
async fn create_package(
    deps: &Deps,
    gs: &GenstoreClient,
    external: &ChannelOrder,
    genstore_id: &GenstoreOrderId,
    package: &Shipment,
    name: &str,
    reserve: u32,
) -> Result<Option<String>, Outcome> {
    let number = package.tracking_numbers.first().map(String::as_str);
    let mirror = fetch_mirror(gs, genstore_id).await?;
    let recorded = read_record(deps, name).await?;
    if recorded
        .as_ref()
        .is_some_and(|(_, r)| r.number.as_deref() == number)
    {
        return Ok(None);
    }
    let previous = recorded.as_ref().map(|(v, _)| v.clone());
    if adopt_known(deps, name, previous.as_deref(), &mirror, number).await? {
        return Ok(None);
    }
    let key = OrderKey::new(Channel::Genstore, genstore_id.as_str());
    let op = format!("fulfill:{genstore_id}:{}:{}", external.channel, package.id);
    let lines = fulfillments::package_lines(external, package, &mirror, reserve);
    let anything_left = !lines.is_empty();
    let tracking = fulfillments::tracking_info(package, number);
    if !anything_left {
        // Every line is fulfilled already. A fulfillment without tracking (the merchant shipped it and
        // left the number out) is this package; otherwise the number is kept on the trail.
        if let (Some(f), Some(t)) = (fulfillments::untracked(&mirror), tracking) {
            retrack(deps, gs, &key, &op, &f, t).await?;
            let r = PackageRecord::of(&f, number);
            write_record(deps, name, previous.as_deref(), &r).await?;
            return Ok(Some(format!("package {} tracked", package.id)));
        }
        audit(
            deps,
            &key,
            &op,
            Channel::Genstore,
            "addPackage",
            AuditOutcome::Skipped {
                reason: format!(
                    "every line is fulfilled and Genstore keeps one tracking number per fulfillment: {} package {} is kept here",
                    external.channel, package.id
                ),
            },
        )
        .await;
        let r = PackageRecord {
            fulfillment: None,
            number: number.map(str::to_owned),
        };
        write_record(deps, name, previous.as_deref(), &r).await?;
        return Ok(None);
    }
    let new = fulfillments::new_fulfillment(genstore_id.as_str(), lines, tracking);
    let made = audited(
        deps,
        &key,
        &op,
        Channel::Genstore,
        "createFulfillment",
        gs.create_fulfillment(&new).await,
        |_| false,
    )
    .await?;
    let r = PackageRecord {
        fulfillment: made.fulfill_id.clone(),
        number: number.map(str::to_owned),
    };
    write_record(deps, name, previous.as_deref(), &r).await?;
    Ok(Some(format!(
        "package {} as fulfillment {}",
        package.id,
        made.fulfill_id.as_deref().unwrap_or("?")
    )))
}
