//! The chaos run: many orders across the three channels through the whole pipeline while every
//! platform fails a fifth of its calls (5xx, 429, timeouts, and writes applied with the answer lost),
//! webhooks arrive twice and out of order, two fulfillment-push consumers work at once, one is killed
//! mid-batch and the pipeline restarted, and Google is down for a stretch; packages already on Google
//! have their number corrected twice in a row, mostly within one second; Genstore-native orders are
//! refunded as they are placed, each refund announced before its order. Then every write the sandbox
//! counts equals what the scenario calls for (each exactly once; a corrected package's updates are one
//! or two), nothing is dead-lettered, and every order ends in the state the scenario implies, each
//! corrected package with its last number, each early refund on its order once with nothing left
//! parked. It prints a table and the number of checks held.
//!
//! One deployment serves three shops at once, each with its own sandbox (Genstore shop, Zonos store,
//! Google merchant) and its share of the orders: every figure is checked per shop, in that shop's part
//! of the table, no shop's orders are found in another's, and each shop's Genstore never answered 429
//! from its own rate limit.
//!
//! `CHAOS_ORDERS` sets the size across all shops (default 60, what CI runs); `CHAOS_SHOPS` the number
//! of shops (default 3); `scripts/chaos` runs 1,050.

use orderbridge::channel::Channel;
use orderbridge::shop::ShopId;
use orderbridge::status::UnifiedStatus;
use orderbridge::store::{OrderKey, ShopStore, Storage};
use orderbridge_cli::{start, DevConfig, Running};
use orderbridge_e2e::{config, dir, first_line, ship, until_for};
use orderbridge_sandbox::webhooks::WebhookMode;
use orderbridge_sandbox::{scenario, Faults, Sandbox};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A fifth of all calls fail, in every way a platform fails.
fn a_fifth_faulty() -> Faults {
    Faults {
        error_rate: 0.06,
        throttle_rate: 0.04,
        timeout_rate: 0.04,
        slow_after_apply_rate: 0.06,
        hang_ms: 1200,
        ..Faults::default()
    }
}

/// The shops of the run: `default` and, for `CHAOS_SHOPS` above one, `shop-2`, `shop-3`, ….
fn chaos_shops() -> Vec<ShopId> {
    let n: usize = std::env::var("CHAOS_SHOPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    (1..=n.max(1))
        .map(|i| match i {
            1 => ShopId::default_shop(),
            i => format!("shop-{i}").parse().unwrap(),
        })
        .collect()
}

fn chaos_config(d: std::path::PathBuf) -> DevConfig {
    DevConfig {
        shops: chaos_shops(),
        consumers: 2,
        // Platform limits fifty times faster, so a thousand orders take minutes, not hours.
        rate_scale: 50,
        // A hang of 1.2 s is a timeout.
        http_timeout: Duration::from_millis(800),
        poll_interval: Duration::from_millis(400),
        ..config(d)
    }
}

/// One shop of the run: its sandbox and what the scenario did to its orders.
struct Shop {
    id: ShopId,
    sb: Sandbox,
    plan: Plan,
}

impl Shop {
    /// Its part of the table, through the pipeline's current handle (a restart makes a new one).
    fn store(&self, r: &Running) -> Arc<dyn Storage> {
        ShopStore::scoped(r.store.clone(), &self.id)
    }

    fn zonos_order(&self) -> String {
        let store = self.sb.config.zonos_store;
        scenario::zonos_order(&self.sb, store, scenario::LAMP, 1, Default::default())
    }

    /// A Google order ready to ship whose first line is ordered twice.
    fn google_order(&self) -> String {
        let merchant = self.sb.config.google_merchant_id.clone();
        scenario::google_order(&self.sb, &merchant, "template1a", Some(2), false).unwrap()
    }
}

/// What the scenario did to each order of one shop.
#[derive(Default)]
struct Plan {
    zonos: Vec<String>,
    google: Vec<String>,
    zm: Vec<(String, String)>,
    gm: Vec<(String, String)>,
    zonos_shipped: Vec<(String, String)>,
    zonos_cancelled: Vec<(String, String)>,
    google_shipped: Vec<(String, String)>,
    google_delivered: Vec<(String, String)>,
    google_refunded: Vec<(String, String)>,
    /// Shipped, then the package's number corrected twice in a row (the Google order, the number it
    /// must end with).
    google_corrected: Vec<(String, String)>,
    natives: Vec<String>,
    /// Genstore-native orders refunded as they were placed (the order, the refund).
    refunded_at_birth: Vec<(String, String)>,
    /// Packages to deliver.
    fulfillments: Vec<String>,
    /// Packages to correct: (index, Google order, its mirror, the fulfillment).
    to_correct: Vec<(usize, String, String, String)>,
    same_second: usize,
}

#[derive(Default)]
struct Checks {
    held: usize,
    failed: Vec<String>,
    rows: Vec<(String, u64, u64)>,
}

impl Checks {
    fn count(&mut self, what: &str, expected: u64, actual: u64) {
        self.rows.push((what.to_owned(), expected, actual));
        self.check(expected == actual, || {
            format!("{what}: expected {expected}, got {actual}")
        });
    }

    fn check(&mut self, ok: bool, why: impl FnOnce() -> String) {
        if ok {
            self.held += 1;
        } else {
            self.failed.push(why());
        }
    }
}

fn native_order(sb: &Sandbox, i: usize) -> String {
    let sku = format!("{}-{i}", scenario::TEAPOT.sku);
    scenario::genstore_order(sb, scenario::TEAPOT, &sku).unwrap()
}

async fn mirrors(
    store: &dyn Storage,
    channel: Channel,
    ids: &[String],
) -> Option<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let mirror = store
            .get(&OrderKey::new(channel, id.as_str()))
            .await
            .ok()
            .flatten()
            .and_then(|s| s.order.merchant_order_id.map(|m| m.to_string()))?;
        out.push((id.clone(), mirror));
    }
    Some(out)
}

fn deliver(sb: &Sandbox, fulfill_id: &str) {
    let (_, events) = sb.lock().genstore.deliver(fulfill_id).unwrap();
    sb.webhooks.emit_all(events);
}

/// The merchant refunds one unit of a Genstore order's first line; the refund's id.
fn refund_first_line(sb: &Sandbox, genstore_id: &str) -> String {
    let line = first_line(sb, genstore_id, 1);
    let (refund, events) = sb
        .lock()
        .genstore
        .refund(genstore_id, &[line], "damaged")
        .unwrap();
    sb.webhooks.emit_all(events);
    refund.refund_id
}

/// A change to a package's tracking number, as the merchant makes it in Genstore.
fn renumber(
    number: String,
) -> impl FnOnce(
    &mut orderbridge_sandbox::genstore::model::Fulfillment,
) -> Result<(), orderbridge_sandbox::genstore::Refusal> {
    move |f| {
        if let Some(t) = f.tracking_info.as_mut() {
            t.number = Some(number);
        }
        Ok(())
    }
}

async fn stored_status(store: &dyn Storage, channel: Channel, id: &str) -> Option<UnifiedStatus> {
    store
        .get(&OrderKey::new(channel, id))
        .await
        .ok()
        .flatten()
        .map(|s| s.order.status)
}

/// The ids of the refunds on the stored Genstore order (none when it is not stored).
async fn stored_refunds(store: &dyn Storage, genstore_id: &str) -> Vec<String> {
    store
        .get(&OrderKey::new(Channel::Genstore, genstore_id))
        .await
        .ok()
        .flatten()
        .map(|s| {
            s.order
                .refunds
                .iter()
                .filter_map(|x| x.id.as_ref().map(|id| id.as_str().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos() {
    let total: usize = std::env::var("CHAOS_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let started = Instant::now();
    let d = dir("chaos");
    let r = start(chaos_config(d.clone())).await.unwrap();
    let mut shops: Vec<Shop> = r
        .sandboxes
        .iter()
        .map(|(id, sb, _)| Shop {
            id: id.clone(),
            sb: sb.clone(),
            plan: Plan::default(),
        })
        .collect();
    // Each shop its share of the orders.
    let per_shop = (total / shops.len()).max(1);
    let (nz, ng) = (per_shop * 2 / 5, per_shop * 3 / 10);
    let nn = per_shop - nz - ng;
    for shop in &shops {
        for p in [Channel::Genstore, Channel::Zonos, Channel::Google] {
            shop.sb.set_faults(p, a_fifth_faulty());
        }
        shop.sb.webhooks.set_mode(WebhookMode {
            duplicate: true,
            ..WebhookMode::default()
        });
    }

    // Phase 1: orders arrive on every channel of every shop.
    for shop in &mut shops {
        shop.plan.zonos = (0..nz).map(|_| shop.zonos_order()).collect();
        shop.plan.google = (0..ng).map(|_| shop.google_order()).collect();
        shop.plan.natives = (0..nn).map(|i| native_order(&shop.sb, i)).collect();
    }
    let wait = 60 + u64::try_from(total).unwrap_or(0) / 2;
    until_for("every external order mirrored and linked", wait, || async {
        for shop in &shops {
            let store = shop.store(&r);
            if mirrors(&*store, Channel::Zonos, &shop.plan.zonos)
                .await
                .is_none()
                || mirrors(&*store, Channel::Google, &shop.plan.google)
                    .await
                    .is_none()
            {
                return false;
            }
        }
        true
    })
    .await;
    for shop in &mut shops {
        let store = shop.store(&r);
        shop.plan.zm = mirrors(&*store, Channel::Zonos, &shop.plan.zonos)
            .await
            .unwrap();
        shop.plan.gm = mirrors(&*store, Channel::Google, &shop.plan.google)
            .await
            .unwrap();
    }
    let imported = started.elapsed();

    // Phase 2: the merchants work the orders, webhooks now also reordered; one consumer is killed
    // mid-batch half-way; Google goes down for a stretch.
    for shop in &mut shops {
        let sb = &shop.sb;
        sb.webhooks.set_mode(WebhookMode {
            duplicate: true,
            reorder: true,
            ..WebhookMode::default()
        });
        let plan = &mut shop.plan;
        for (i, (z, g)) in plan.zm.clone().iter().enumerate() {
            if i % 5 == 0 {
                let (_, events) = sb.lock().genstore.cancel_order(g, "customer").unwrap();
                sb.webhooks.emit_all(events);
                plan.zonos_cancelled.push((z.clone(), g.clone()));
            } else {
                ship(sb, g, 1, &format!("1ZCHAOSZ{i:06}"));
                plan.zonos_shipped.push((z.clone(), g.clone()));
            }
        }
        sb.webhooks.flush();
    }
    // The pipeline dies mid-batch and comes back on the same data.
    tokio::time::sleep(Duration::from_millis(700)).await;
    // It comes back at the same address, as a deployed endpoint would; Genstore redelivers what
    // failed meanwhile.
    let port = r
        .webhook_url
        .rsplit(':')
        .next()
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
    let cfg = DevConfig {
        existing_sandboxes: r
            .sandboxes
            .iter()
            .map(|(_, sb, base)| (sb.clone(), base.clone()))
            .collect(),
        port,
        ..chaos_config(d.clone())
    };
    r.stop().await;
    let r = start(cfg).await.unwrap();
    for shop in &mut shops {
        let sb = &shop.sb;
        sb.set_faults(
            Channel::Google,
            Faults {
                error_rate: 1.0,
                ..Faults::default()
            },
        );
        let plan = &mut shop.plan;
        // Genstore-native orders refunded as soon as they are placed: deliveries are reordered
        // (newest first), so each refund is announced before its order and must wait for it, then
        // join it.
        plan.refunded_at_birth = (0..per_shop / 20)
            .map(|i| {
                let gid = native_order(sb, nn + i);
                let refund = refund_first_line(sb, &gid);
                (gid, refund)
            })
            .collect();
        for (i, (g, gid)) in plan.gm.clone().iter().enumerate() {
            if i % 5 == 1 {
                refund_first_line(sb, gid);
                plan.google_refunded.push((g.clone(), gid.clone()));
            } else {
                let f = ship(sb, gid, 2, &format!("1ZCHAOSG{i:06}"));
                plan.google_shipped.push((g.clone(), gid.clone()));
                if i % 2 == 0 {
                    plan.fulfillments.push(f);
                    plan.google_delivered.push((g.clone(), gid.clone()));
                } else {
                    plan.to_correct.push((i, g.clone(), gid.clone(), f));
                }
            }
        }
        sb.webhooks.flush();
    }
    // Google is down for three seconds, then fails a fifth of its calls again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for shop in &shops {
        shop.sb.set_faults(Channel::Google, a_fifth_faulty());
        for f in &shop.plan.fulfillments {
            deliver(&shop.sb, f);
        }
        shop.sb.webhooks.flush();
    }
    until_for("the packages to correct on Google", wait, || async {
        shops.iter().all(|shop| {
            shop.plan
                .to_correct
                .iter()
                .all(|(_, g, _, _)| !shop.sb.lock().google.orders[g].order.shipments.is_empty())
        })
    })
    .await;
    // The merchants correct the other packages' numbers twice in a row: mostly within one second
    // (Genstore's `updatedAt` resolution), where the two states tie and only Genstore can say which
    // is last. Delivered in the order they happened (twice each): the later of two tied states comes
    // last.
    for shop in &mut shops {
        let sb = &shop.sb;
        sb.webhooks.set_mode(WebhookMode {
            duplicate: true,
            ..WebhookMode::default()
        });
        let plan = &mut shop.plan;
        for (i, g, gid, f) in &plan.to_correct {
            let last = format!("1ZCHAOSC{i:06}");
            let (first, second, tied) = {
                let mut st = sb.lock();
                let before = st.genstore.order(gid).map(|o| o.updated_at);
                let (_, first) = st
                    .genstore
                    .change_fulfillment(f, renumber(format!("1ZCHAOSX{i:06}")))
                    .unwrap();
                let between = st.genstore.order(gid).map(|o| o.updated_at);
                let (_, second) = st
                    .genstore
                    .change_fulfillment(f, renumber(last.clone()))
                    .unwrap();
                let after = st.genstore.order(gid).map(|o| o.updated_at);
                (first, second, between == after && before != between)
            };
            plan.same_second += usize::from(tied);
            sb.webhooks.emit_all(first);
            sb.webhooks.emit_all(second);
            plan.google_corrected.push((g.clone(), last));
        }
        sb.webhooks.set_mode(WebhookMode {
            duplicate: true,
            reorder: true,
            ..WebhookMode::default()
        });
        sb.webhooks.flush();
    }
    // Deliveries of held webhooks keep coming in the background while the pipeline catches up.
    let flusher = {
        let sandboxes: Vec<Sandbox> = shops.iter().map(|s| s.sb.clone()).collect();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                for sb in &sandboxes {
                    sb.webhooks.flush();
                }
            }
        })
    };

    let google_numbers = |sb: &Sandbox, g: &str| -> Vec<String> {
        sb.lock().google.orders[g]
            .order
            .shipments
            .iter()
            .filter_map(|s| s.tracking_id.clone())
            .collect()
    };
    let expected = |plan: &Plan| -> Vec<(&'static str, u64)> {
        vec![
            ("genstore.createOrder", (nz + ng) as u64),
            ("zonos.updateMerchantOrderId", nz as u64),
            ("google.updateMerchantOrderId", ng as u64),
            ("google.acknowledge", ng as u64),
            ("zonos.setShipmentTracking", plan.zonos_shipped.len() as u64),
            (
                "zonos.updateVendorOrderStatus",
                (plan.zonos_shipped.len() + plan.zonos_cancelled.len()) as u64,
            ),
            ("google.shipLineItems", plan.google_shipped.len() as u64),
            ("google.refunditem", plan.google_refunded.len() as u64),
        ]
    };
    until_for(
        "every refund announced before its order joined it",
        wait,
        || async {
            for shop in &shops {
                let store = shop.store(&r);
                for (gid, _) in &shop.plan.refunded_at_birth {
                    if stored_refunds(&*store, gid).await.is_empty() {
                        return false;
                    }
                }
            }
            true
        },
    )
    .await;
    until_for("every write the scenario calls for", wait * 3, || async {
        shops.iter().all(|shop| {
            let c = shop.sb.counters();
            let plan = &shop.plan;
            expected(plan)
                .iter()
                .all(|(w, n)| c.executed_count(w) >= *n)
                && c.executed_count("google.updateShipment") >= plan.google_delivered.len() as u64
                && plan
                    .google_corrected
                    .iter()
                    .all(|(g, last)| google_numbers(&shop.sb, g) == [last.clone()])
        })
    })
    .await;
    // Let anything that would write twice do so before counting.
    tokio::time::sleep(Duration::from_secs(3)).await;
    flusher.abort();

    let mut checks = Checks::default();
    let dead = r.dead_letters.depth().await.unwrap();
    checks.count("dead letters (all shops)", 0, dead);
    let (mut requests, mut faults, mut webhooks) = (0u64, 0u64, 0u64);
    let mut update_rows = Vec::new();
    for shop in &shops {
        let (sb, plan, id) = (&shop.sb, &shop.plan, &shop.id);
        let store = shop.store(&r);
        let c = sb.counters();
        requests += c.requests.values().sum::<u64>();
        faults += c.faults.values().sum::<u64>();
        webhooks += c.webhooks_sent;
        for (w, n) in expected(plan) {
            checks.count(&format!("{id}: {w}"), n, c.executed_count(w));
        }
        // Each shop's Genstore kept within its own limit: its rate limit never answered 429.
        let limited = c.rate_limited.get("genstore").copied().unwrap_or(0);
        checks.count(&format!("{id}: genstore 429s from its limit"), 0, limited);
        // A delivery is one shipment update; a corrected package (already on Google) is one or two:
        // both numbers, or only the last when the first was never pushed. So that row is a range.
        let deliveries = plan.google_delivered.len() as u64;
        let corrected = plan.google_corrected.len() as u64;
        let updates = c.executed_count("google.updateShipment");
        let range = deliveries + corrected..=deliveries + 2 * corrected;
        checks.check(range.contains(&updates), || {
            format!("{id}: google.updateShipment: {updates}, not {range:?}")
        });
        update_rows.push((id.clone(), range, updates));
        for (g, last) in &plan.google_corrected {
            let numbers = google_numbers(sb, g);
            checks.check(numbers == [last.clone()], || {
                format!("{id}: google {g}: {numbers:?}, not [{last}]")
            });
        }
        {
            let st = sb.lock();
            let zonos_status = |z: &str| {
                st.zonos
                    .find(sb.config.zonos_store, z)
                    .map(|i| st.zonos.orders[i].status().to_owned())
                    .unwrap_or_default()
            };
            for (z, _) in &plan.zonos_shipped {
                let s = zonos_status(z);
                checks.check(s == "VENDOR_END_OF_DAY_COMPLETE", || {
                    format!("{id}: zonos {z}: {s}, not shipped")
                });
            }
            for (z, _) in &plan.zonos_cancelled {
                let s = zonos_status(z);
                checks.check(s == "VENDOR_CANCELLATION_REQUEST", || {
                    format!("{id}: zonos {z}: {s}, no cancellation request")
                });
            }
            let google_status = |g: &str| st.google.orders[g].order.status.clone();
            for (g, _) in &plan.google_shipped {
                let s = google_status(g);
                let want = if plan.google_delivered.iter().any(|(d, _)| d == g) {
                    "delivered"
                } else {
                    "shipped"
                };
                checks.check(s == want, || format!("{id}: google {g}: {s}, not {want}"));
            }
            for (g, _) in &plan.google_refunded {
                let n = st.google.orders[g].order.refunds.len();
                checks.check(n == 1, || format!("{id}: google {g}: {n} refunds"));
            }
        }
        for (_, gid) in &plan.zonos_shipped {
            let s = stored_status(&*store, Channel::Genstore, gid).await;
            checks.check(s == Some(UnifiedStatus::Shipped), || {
                format!("{id}: genstore {gid}: {s:?}, not shipped")
            });
        }
        for (_, gid) in &plan.zonos_cancelled {
            let s = stored_status(&*store, Channel::Genstore, gid).await;
            checks.check(s == Some(UnifiedStatus::Cancelled), || {
                format!("{id}: genstore {gid}: {s:?}, not cancelled")
            });
        }
        for (g, gid) in &plan.google_shipped {
            let delivered = plan.google_delivered.iter().any(|(d, _)| d == g);
            let want = if delivered {
                UnifiedStatus::Delivered
            } else {
                UnifiedStatus::Shipped
            };
            let s = stored_status(&*store, Channel::Genstore, gid).await;
            checks.check(s == Some(want), || {
                format!("{id}: genstore {gid}: {s:?}, not {want:?}")
            });
        }
        for n in &plan.natives {
            let s = stored_status(&*store, Channel::Genstore, n).await;
            checks.check(s == Some(UnifiedStatus::Paid), || {
                format!("{id}: native {n}: {s:?}, not paid")
            });
        }
        for (gid, refund) in &plan.refunded_at_birth {
            let ids = stored_refunds(&*store, gid).await;
            checks.check(ids == [refund.clone()], || {
                format!("{id}: native {gid}: refunds {ids:?}, not [{refund}]")
            });
            let parked = store
                .read(&orderbridge::store::RecordName::ParkedRefunds(gid).to_string())
                .await
                .unwrap();
            checks.check(parked.is_none(), || {
                format!("{id}: native {gid}: a parked refund record is left")
            });
        }
        // Nothing of this shop's in another's part: its external orders are in its own part only.
        for other in shops.iter().filter(|o| o.id != *id) {
            let theirs = other.store(&r);
            let mut leaked = 0;
            for z in &plan.zonos {
                let key = OrderKey::new(Channel::Zonos, z.as_str());
                leaked += usize::from(theirs.get(&key).await.unwrap().is_some());
            }
            checks.check(leaked == 0, || {
                format!(
                    "{id}: {leaked} of its Zonos orders in shop {}'s part",
                    other.id
                )
            });
        }
    }
    r.stop().await;
    let _ = std::fs::remove_dir_all(&d);

    println!(
        "\nchaos: {total} orders over {} shops, each {nz} Zonos, {ng} Google, {nn} Genstore-native",
        shops.len()
    );
    println!(
        "  {requests} platform requests, {faults} faults injected ({:.0} %), {webhooks} webhook deliveries",
        100.0 * faults as f64 / requests.max(1) as f64,
    );
    println!(
        "  imported and mirrored in {:.0?}, all done in {:.0?}",
        imported,
        started.elapsed()
    );
    println!("  {:<44} {:>9} {:>9}", "write", "expected", "executed");
    for (w, e, a) in &checks.rows {
        println!("  {w:<44} {e:>9} {a:>9}");
    }
    for (id, range, updates) in &update_rows {
        println!(
            "  {:<44} {:>9} {:>9}",
            format!("{id}: google.updateShipment"),
            format!("{}-{}", range.start(), range.end()),
            updates
        );
    }
    for shop in &shops {
        println!(
            "  {}: {} native orders refunded as they were placed, each refund announced first: each joined its order once, nothing left parked",
            shop.id,
            shop.plan.refunded_at_birth.len()
        );
        println!(
            "  {}: {} packages corrected twice in a row ({} within one second), each ending with its last number on Google",
            shop.id,
            shop.plan.google_corrected.len(),
            shop.plan.same_second
        );
    }
    println!(
        "  {} checks held, {} failed",
        checks.held,
        checks.failed.len()
    );
    assert!(
        checks.failed.is_empty(),
        "{} checks failed: {:#?}",
        checks.failed.len(),
        checks.failed.iter().take(20).collect::<Vec<_>>()
    );
    assert!(
        faults * 100 >= requests * 15,
        "faults were injected into at least a sixth of the calls"
    );
}
