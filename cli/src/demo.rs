//! `orderbridge demo`: the pipeline through a scripted scenario, checked as it goes.
//!
//! A Google test order and two Zonos orders are placed; the poller brings them in and fulfillment-push
//! mirrors them into Genstore and writes the merchant order ids back. A Genstore-native order arrives by
//! webhook. The merchant ships the Google order in two packages and one Zonos order in full; the tracking
//! reaches Google and Zonos; the carrier delivers the Google packages; the merchant cancels the other Zonos
//! order; a refund made on Google's side reaches the Genstore mirror. A second shop of the same
//! deployment, the outlet, gets a Zonos order of its own store, mirrored into its own Genstore and kept in
//! its own part of the table. The demo prints each order's unified status and every channel's view, then
//! each shop's sandbox counters, and succeeds only if every side ends consistent.

use crate::{start, DevConfig, Running};
use orderbridge::channel::Channel;
use orderbridge::status;
use orderbridge::store::OrderKey;
use orderbridge_sandbox::genstore::model as gw;
use orderbridge_sandbox::genstore::LineQty;
use orderbridge_sandbox::scenario::{self, ZonosPlacing, LAMP, TEAPOT};
use orderbridge_sandbox::Sandbox;
use std::future::Future;
use std::time::{Duration, Instant};

/// Waits until `check` holds (up to a minute), printing the step.
async fn step<F, Fut>(label: &str, mut check: F) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    print!("  {label} ... ");
    while started.elapsed() < Duration::from_secs(60) {
        if check().await {
            println!("ok ({:.1}s)", started.elapsed().as_secs_f64());
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("NOT REACHED");
    Err(format!("step not reached: {label}"))
}

fn fulfill(
    sb: &Sandbox,
    order: &str,
    qty: Option<u32>,
    number: &str,
    carrier: &str,
) -> Result<String, String> {
    let lines = qty.map(|q| {
        let line = sb
            .lock()
            .genstore
            .order(order)
            .map(|o| o.line_items[0].id.clone())
            .unwrap_or_default();
        vec![LineQty {
            id: line,
            quantity: q,
        }]
    });
    let (f, events) = sb
        .lock()
        .genstore
        .create_fulfillment(
            order,
            lines,
            Some(gw::TrackingInfo {
                number: Some(number.into()),
                company: Some(carrier.into()),
                url: None,
            }),
            Some("inTransit".into()),
        )
        .map_err(|(_, m)| m)?;
    sb.webhooks.emit_all(events);
    Ok(f.fulfill_id)
}

/// Runs the scenario on the embedded backend under `data_dir`; `Ok` only if everything ended consistent.
/// The data stays there, and the last lines say which commands to try on it (as `program`, the path
/// the demo was started by, so they work as printed).
pub async fn run(data_dir: std::path::PathBuf, program: &str) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(&data_dir);
    let google = run_with(DevConfig {
        data_dir: data_dir.clone(),
        ..DevConfig::default()
    })
    .await?;
    let dir = data_dir.display();
    println!();
    println!("The demo's data is kept in {dir}. Try:");
    println!("  {program} orders list --data-dir {dir}");
    println!("  {program} orders show google:{google} --data-dir {dir}");
    println!("  {program} dlq list --data-dir {dir}");
    println!(
        "  {program} orders list --shop {} --data-dir {dir}",
        crate::second_shop()
    );
    Ok(())
}

/// Runs the scenario with a pipeline configured as given (the sandbox is always fresh and unseeded);
/// the Google order's id when everything ended consistent.
pub async fn run_with(cfg: DevConfig) -> Result<String, String> {
    let r = start(DevConfig {
        port: 0,
        poll_interval: Duration::from_secs(1),
        seed: false,
        sandbox: true,
        existing_sandboxes: Vec::new(),
        ..cfg
    })
    .await?;
    let result = scenario(&r).await;
    r.stop().await;
    result
}

async fn scenario(r: &Running) -> Result<String, String> {
    let (sb, base) = r
        .sandbox
        .clone()
        .ok_or("the demo runs against the sandbox")?;
    println!(
        "orderbridge demo — sandbox on {base}, webhooks on {}",
        r.webhook_url
    );
    println!("(the functions' own logs: RUST_LOG=info)");

    println!("1. Orders are placed on Google and Zonos");
    let google = scenario::google_order(&sb, "123456789", "template1", Some(3), true)
        .ok_or("no template")?;
    let placing = ZonosPlacing {
        test_order: true,
        service_level: "DHL_EXPRESS_WORLDWIDE",
        placed_hours_ago: 0,
    };
    let zonos_ship = scenario::zonos_order(&sb, 999, LAMP, 1, placing);
    let zonos_cancel = scenario::zonos_order(&sb, 999, LAMP, 2, placing);
    println!("   google {google}, zonos {zonos_ship} and {zonos_cancel}");
    step(
        "polled in, mirrored into Genstore, merchant ids written back",
        || async {
            r.mirror_of(Channel::Google, &google).await.is_some()
                && r.mirror_of(Channel::Zonos, &zonos_ship).await.is_some()
                && r.mirror_of(Channel::Zonos, &zonos_cancel).await.is_some()
        },
    )
    .await?;
    let mirror_of = |channel: Channel, id: String| async move {
        r.mirror_of(channel, &id)
            .await
            .ok_or_else(|| format!("{channel}:{id} lost its link"))
    };
    let g_mirror = mirror_of(Channel::Google, google.clone()).await?;
    let z_mirror = mirror_of(Channel::Zonos, zonos_ship.clone()).await?;
    let zc_mirror = mirror_of(Channel::Zonos, zonos_cancel.clone()).await?;

    println!("2. A Genstore order is placed in the store itself");
    let native = scenario::genstore_order(&sb, TEAPOT, TEAPOT.sku).map_err(|(_, m)| m)?;
    step(
        &format!("Genstore order {native} arrived by webhook"),
        || async {
            r.store
                .get(&OrderKey::new(Channel::Genstore, native.as_str()))
                .await
                .ok()
                .flatten()
                .is_some()
        },
    )
    .await?;

    println!("3. The merchant ships: Google in two packages, one Zonos order in full");
    let f1 = fulfill(&sb, &g_mirror, Some(1), "1Z999AA10000000001", "UPS")?;
    let google_status = || {
        let st = sb.lock();
        st.google
            .orders
            .get(&google)
            .map(|o| o.order.status.clone())
    };
    step(
        "Google shows the first package (partiallyShipped)",
        || async { google_status().as_deref() == Some("partiallyShipped") },
    )
    .await?;
    let f2 = fulfill(&sb, &g_mirror, Some(2), "1Z999AA10000000002", "UPS")?;
    fulfill(&sb, &z_mirror, None, "JD014600003828291", "DHL Express")?;
    step("Google shows both packages (shipped)", || async {
        let st = sb.lock();
        let o = st.google.orders.get(&google);
        o.map(|o| o.order.status.clone()).as_deref() == Some("shipped")
            && o.is_some_and(|o| o.order.shipments.len() == 2)
    })
    .await?;
    step(
        "Zonos has the tracking number and the shipped status",
        || async {
            let st = sb.lock();
            st.zonos.find(999, &zonos_ship).is_some_and(|i| {
                let o = &st.zonos.orders[i];
                o.tracking_numbers().contains(&"JD014600003828291")
                    && o.status() == "VENDOR_END_OF_DAY_COMPLETE"
            })
        },
    )
    .await?;

    println!("4. The carrier delivers the Google packages");
    for f in [&f1, &f2] {
        let (_, events) = sb.lock().genstore.deliver(f).map_err(|(_, m)| m)?;
        sb.webhooks.emit_all(events);
    }
    step("Google marks the order delivered", || async {
        google_status().as_deref() == Some("delivered")
    })
    .await?;

    println!("5. The merchant cancels the other Zonos order");
    let (_, events) = sb
        .lock()
        .genstore
        .cancel_order(&zc_mirror, "customer")
        .map_err(|(_, m)| m)?;
    sb.webhooks.emit_all(events);
    step("Zonos hears the cancellation", || async {
        let st = sb.lock();
        st.zonos
            .find(999, &zonos_cancel)
            .is_some_and(|i| st.zonos.orders[i].status() == "VENDOR_CANCELLATION_REQUEST")
    })
    .await?;

    println!("6. The merchant refunds 5.00 of the Google order in Google's Merchant Center");
    sb.lock()
        .google
        .orders
        .get_mut(&google)
        .ok_or("the Google order is gone")?
        .refund_on_google(rust_decimal::Decimal::new(500, 2), "priceAdjustment")?;
    step(
        "the Genstore mirror shows it (partially_refunded, tagged, noted)",
        || async {
            sb.lock().genstore.order(&g_mirror).is_some_and(|o| {
                o.financial_status == "partially_refunded"
                    && o.tags.as_deref().is_some_and(|t| {
                        t.contains(orderbridge::channels::genstore::mapping::REFUNDED_TAG)
                    })
                    && o.note
                        .as_deref()
                        .is_some_and(|n| n.contains("Refunded on google: 5.00 USD"))
            })
        },
    )
    .await?;
    println!("7. The outlet, a second shop of the same deployment, sells on its own Zonos store");
    let (outlet, osb, _) = r
        .sandboxes
        .get(1)
        .cloned()
        .ok_or("the demo serves two shops")?;
    let outlet_store = orderbridge::store::ShopStore::scoped(r.store.clone(), &outlet);
    let outlet_order = scenario::zonos_order(&osb, osb.config.zonos_store, TEAPOT, 1, placing);
    let outlet_key = OrderKey::new(Channel::Zonos, outlet_order.as_str());
    step(
        &format!(
            "outlet order {outlet_order} mirrored into the outlet's Genstore, in the outlet's rows"
        ),
        || async {
            outlet_store
                .get(&outlet_key)
                .await
                .ok()
                .flatten()
                .and_then(|s| s.order.merchant_order_id)
                .is_some_and(|m| osb.lock().genstore.order(&m.to_string()).is_some())
        },
    )
    .await?;
    // Let the last status reads settle into the table.
    tokio::time::sleep(Duration::from_secs(2)).await;

    println!();
    println!("{:<24} {:<20} channel views", "order", "unified status");
    let mut consistent = true;
    use status::UnifiedStatus as S;
    for (channel, id, want) in [
        (Channel::Google, google.as_str(), S::Delivered),
        (Channel::Zonos, zonos_ship.as_str(), S::Shipped),
        (Channel::Zonos, zonos_cancel.as_str(), S::Cancelled),
        (Channel::Genstore, native.as_str(), S::Paid),
    ] {
        let view = crate::ops::order_view(&*r.store, &OrderKey::new(channel, id))
            .await?
            .ok_or("order missing")?;
        let unified = view["unified_status"].as_str().unwrap_or("?").to_owned();
        let views: Vec<String> = view["channels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                format!(
                    "{} {}={}",
                    c["channel"].as_str().unwrap_or(""),
                    c["order_id"].as_str().unwrap_or(""),
                    c["raw_status"].as_str().unwrap_or("")
                )
            })
            .collect();
        let ok = unified == want.as_str();
        consistent &= ok;
        println!(
            "{:<24} {:<20} {}{}",
            format!("{channel}:{id}"),
            unified,
            views.join(" | "),
            if ok { "" } else { "   <- expected different" }
        );
    }
    if r.store.get(&outlet_key).await.ok().flatten().is_some() {
        consistent = false;
        println!("the outlet's order is in the default shop's rows");
    }
    // Each shop's Genstore got its own mirrors, each written once.
    for ((shop, sandbox, _), want) in r.sandboxes.iter().zip([3, 1]) {
        let counters = sandbox.counters();
        println!();
        println!(
            "{:<36} {:>9} {:>10}",
            format!("shop {shop}: sandbox writes"),
            "executed",
            "duplicate"
        );
        for (write, c) in &counters.writes {
            println!("{write:<36} {:>9} {:>10}", c.executed, c.duplicate);
        }
        println!(
            "webhooks delivered: {} of {}",
            counters.webhooks_ok, counters.webhooks_sent
        );
        let created = counters.executed_count("genstore.createOrder");
        if created != want {
            consistent = false;
            println!("expected {want} mirrors in shop {shop}'s Genstore, found {created}");
        }
    }
    if consistent {
        println!("\nconsistent: every channel agrees, and every write was executed once");
        Ok(google)
    } else {
        Err("the channels do not agree".into())
    }
}
