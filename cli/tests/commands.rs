//! The `orderbridge` binary as a newcomer runs it: the demo, then each command the demo printed, as
//! printed; the operator commands' errors for a folder without data or an unknown order; a backfill; the
//! dead-letter queue listed and replayed.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_orderbridge");

/// A fresh, empty folder for one test's data.
fn fresh_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ob-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A week ago, as the CLI's dates are written.
fn a_week_ago() -> String {
    let day = chrono::Utc::now() - chrono::Duration::days(7);
    day.format("%Y-%m-%d").to_string()
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_demo_then_every_command_it_prints_works_as_printed() {
    let dir = std::env::temp_dir().join(format!("ob-cli-demo-{}", std::process::id()));
    let data = dir.to_str().unwrap();
    let (ok, out, err) = run(&["demo", "--data-dir", data]);
    assert!(ok, "the demo succeeds:\n{out}\n{err}");
    assert!(out.contains("consistent"), "{out}");
    let tries: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.contains("Try:"))
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(tries.len(), 4, "{out}");
    let mut outputs = Vec::new();
    for line in &tries {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            words[0], BIN,
            "printed with the program it was started as: {line}"
        );
        let (ok, out, err) = run(&words[1..]);
        assert!(ok, "`{line}` succeeds:\n{out}\n{err}");
        outputs.push(out);
    }
    // `orders list`: the demo's orders; `orders show`: the Google order, delivered, with its writes;
    // `dlq list`: nothing failed for good; `orders list --shop outlet`: the second shop's order alone.
    assert!(outputs[0].contains("google:TEST-"), "{}", outputs[0]);
    assert!(outputs[0].contains("zonos:"), "{}", outputs[0]);
    assert!(outputs[1].contains("delivered"), "{}", outputs[1]);
    assert!(outputs[1].contains("shipLineItems"), "{}", outputs[1]);
    assert!(
        outputs[2].to_lowercase().contains("no dead letters") || outputs[2].trim().is_empty(),
        "{}",
        outputs[2]
    );
    assert_eq!(outputs[3].matches("zonos:").count(), 1, "{}", outputs[3]);
    assert!(!outputs[3].contains("google:"), "{}", outputs[3]);
    // On that data: an unknown order and an unknown channel are errors that say so.
    let (ok, _, err) = run(&["orders", "show", "google:NOPE", "--data-dir", data]);
    assert!(!ok, "an unknown order is an error");
    assert!(
        err.to_lowercase().contains("no order") || err.contains("NOPE"),
        "{err}"
    );
    let (ok, _, err) = run(&["orders", "show", "ebay:1", "--data-dir", data]);
    assert!(!ok);
    assert!(err.contains("ebay"), "an unknown channel is named: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn operator_commands_refuse_a_folder_without_data_and_name_it() {
    let dir = std::env::temp_dir().join(format!("ob-cli-none-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_str().unwrap();
    for args in [
        vec!["orders", "list"],
        vec!["orders", "show", "google:1"],
        vec!["dlq", "list"],
        vec!["status"],
    ] {
        let (ok, _, err) = run(&[args.as_slice(), &["--data-dir", data]].concat());
        assert!(!ok, "{args:?} on a folder without data is an error");
        assert!(err.contains("no orderbridge data"), "{args:?}: {err}");
        assert!(err.contains(data), "{args:?} names the folder: {err}");
    }
    assert!(!dir.exists(), "nothing was made in the folder");
}

/// A backfill against the sandbox's Zonos (the platform URLs from the environment, as deployed):
/// the range's orders are imported into a data folder the backfill may start, and a second run of the
/// same range imports nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_imports_a_range_once() {
    use orderbridge_sandbox::{spawn, SandboxConfig};
    let cfg = SandboxConfig::default();
    let (sb, base) = spawn(cfg.clone()).await.unwrap();
    let new: orderbridge_sandbox::zonos::NewZonosOrder = serde_json::from_value(serde_json::json!({
        "items": [{"sku": "SKU-LAMP", "description": "Lamp", "quantity": 1, "unitPrice": "40.00"}],
        "placed_hours_ago": 48
    }))
    .unwrap();
    for _ in 0..3 {
        sb.lock().zonos.create(cfg.zonos_store, &new);
    }
    let dir = std::env::temp_dir().join(format!("ob-cli-backfill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_str().unwrap().to_owned();
    let since = a_week_ago();
    let backfill = move || {
        let out = Command::new(BIN)
            .args([
                "backfill",
                "--channel",
                "zonos",
                "--since",
                &since,
                "--data-dir",
                &data,
            ])
            .env_remove("RUST_LOG")
            .env("ZONOS_API_URL", format!("{base}/zonos"))
            .env("ZONOS_STORE_ID", cfg.zonos_store.to_string())
            .env("ZONOS_SECRET", &cfg.zonos_secret)
            .output()
            .expect("the binary runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stdout}\n{stderr}");
        let summary: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON summary");
        summary["channels"][0].clone()
    };
    let first = tokio::task::spawn_blocking(backfill.clone()).await.unwrap();
    assert_eq!(first["channel"], "zonos", "{first}");
    assert_eq!(first["new"], 3, "{first}");
    let again = tokio::task::spawn_blocking(backfill).await.unwrap();
    assert_eq!(again["new"], 0, "nothing imported twice: {again}");
    let (ok, out, err) = run(&["orders", "list", "--data-dir", dir.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(out.matches("zonos:").count(), 3, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `backfill --shop` reads that shop's channels from `SHOPS` and imports into that shop's part of the
/// table only; a shop the deployment does not serve is an error naming those it does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_of_one_shop_uses_its_channels_and_its_part() {
    use orderbridge_sandbox::{spawn, SandboxConfig};
    let cfg = SandboxConfig::default();
    let (sa, base_a) = spawn(cfg.clone()).await.unwrap();
    let (sb, base_b) = spawn(cfg.clone()).await.unwrap();
    let new: orderbridge_sandbox::zonos::NewZonosOrder = serde_json::from_value(serde_json::json!({
        "items": [{"sku": "SKU-LAMP", "description": "Lamp", "quantity": 1, "unitPrice": "40.00"}],
        "placed_hours_ago": 48
    }))
    .unwrap();
    sa.lock().zonos.create(cfg.zonos_store, &new);
    for _ in 0..2 {
        sb.lock().zonos.create(cfg.zonos_store, &new);
    }
    let shops = serde_json::json!([
        {"id": "a", "ZONOS_API_URL": format!("{base_a}/zonos"), "ZONOS_STORE_ID": cfg.zonos_store,
         "ZONOS_SECRET": cfg.zonos_secret},
        {"id": "b", "ZONOS_API_URL": format!("{base_b}/zonos"), "ZONOS_STORE_ID": cfg.zonos_store,
         "ZONOS_SECRET": cfg.zonos_secret},
    ])
    .to_string();
    let dir = std::env::temp_dir().join(format!("ob-cli-backfill-shop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_str().unwrap().to_owned();
    let since = a_week_ago();
    let backfill = move |shop: &'static str| {
        let (shops, data, since) = (shops.clone(), data.clone(), since.clone());
        tokio::task::spawn_blocking(move || {
            let out = Command::new(BIN)
                .args(["backfill", "--channel", "zonos", "--since", &since])
                .args(["--shop", shop, "--data-dir", &data, "--json"])
                .env_remove("RUST_LOG")
                .env("SHOPS", &shops)
                .output()
                .expect("the binary runs");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
    };
    let (ok, out, err) = backfill("b").await.unwrap();
    assert!(ok, "{out}\n{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).expect("a JSON summary");
    assert_eq!(summary["channels"][0]["new"], 2, "b's Zonos: {summary}");
    let listed = |shop: &str| {
        let (ok, out, err) = run(&[
            "orders",
            "list",
            "--shop",
            shop,
            "--data-dir",
            dir.to_str().unwrap(),
        ]);
        assert!(ok, "{err}");
        out.matches("zonos:").count()
    };
    assert_eq!(listed("b"), 2);
    assert_eq!(listed("a"), 0, "nothing of b's in a's part");
    assert_eq!(listed("default"), 0);
    let (ok, _, err) = backfill("c").await.unwrap();
    assert!(!ok, "an unserved shop is an error");
    assert!(
        err.contains("shop c is not one this deployment serves (a, b)"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `dlq list` names what failed for good, `dlq replay` sends it back to the sync queue, and after it the
/// dead-letter queue is empty: on a data folder holding one dead letter, as `dev` would leave it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_lists_a_dead_letter_and_replays_it_onto_the_sync_queue() {
    use orderbridge::channel::Channel;
    use orderbridge::clock::SystemClock;
    use orderbridge::jobs::{Job, SyncJob};
    use orderbridge::store::embedded::{Db, EmbeddedQueue};
    use orderbridge::store::SyncQueue;
    use std::sync::Arc;

    let dir = fresh_dir("dlq");
    let file = dir.join("orderbridge.sqlite3");
    let queue = |name: &str| {
        EmbeddedQueue::new(Db::open(&file).unwrap(), name, None, Arc::new(SystemClock))
    };
    let job = SyncJob::from(Job::ImportOrder {
        channel: Channel::Google,
        order_id: "TEST-DLQ-1".into(),
        listing: None,
    });
    let sent = queue("sync-dlq").send(&[job]).await.unwrap();
    assert!(sent.all_sent());
    let data = dir.to_str().unwrap().to_owned();

    let cli = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&args)
        })
    };
    let args = |words: &[&str]| {
        let mut v: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        v.extend(["--data-dir".to_owned(), data.clone()]);
        v
    };
    let (ok, out, err) = cli(args(&["dlq", "list"])).await.unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("import_order"), "{out}");
    assert!(out.contains("google:TEST-DLQ-1"), "{out}");
    let (ok, out, err) = cli(args(&["dlq", "replay", "--json"])).await.unwrap();
    assert!(ok, "{err}");
    let replayed: serde_json::Value = serde_json::from_str(&out).expect("a JSON answer");
    assert_eq!(replayed["sent"], 1, "{out}");
    let (ok, out, err) = cli(args(&["dlq", "list"])).await.unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("no dead letters"), "{out}");
    let waiting = queue("sync")
        .receive(10, chrono::Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1, "the job is back on the sync queue");
    assert!(
        waiting[0].body.contains("TEST-DLQ-1"),
        "{}",
        waiting[0].body
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `customer-data --out` writes a customer's personal data: the file is readable by its owner only
/// (0600), also when a file with wider rights was there before.
#[test]
fn customer_data_is_written_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fresh_dir("pii");
    drop(orderbridge::store::embedded::Db::open(dir.join("orderbridge.sqlite3")).unwrap());
    let out = dir.join("export.json");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, _, err) = run(&[
        "customer-data",
        "--customer",
        "c-1",
        "--out",
        out.to_str().unwrap(),
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(
        written["orders"].as_array().unwrap().is_empty(),
        "{written}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A webhook webhook-ingest held (answered 2xx, never applied) is shown by `dlq list` and by
/// `orders list --stuck` (a row of its own: its order is not in the table), and `dlq replay` applies it
/// again, keeping it held with its reason while it still cannot be applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_webhooks_are_listed_as_stuck_and_replayed() {
    use orderbridge::channels::genstore::webhook::{Webhook, WebhookHeaders};
    use orderbridge::store::embedded::{Db, EmbeddedStore};
    use std::sync::Arc;
    use webhook_ingest::held;

    let dir = fresh_dir("held");
    let db = Db::open(dir.join("orderbridge.sqlite3")).unwrap();
    let store = EmbeddedStore::new(db, Arc::new(orderbridge::clock::SystemClock));
    // A signed order without a currency: it does not map.
    let body = br#"{"orderId": "7001", "totalPrice": "1.00", "createdAt": "2026-12-01T10:00:00Z"}"#;
    let webhook = Webhook::parse(
        WebhookHeaders {
            topic: Some("orders/create"),
            shop_domain: Some("demo.genmystore.com"),
            webhook_id: Some("wh-held-1"),
            triggered_at: None,
        },
        body,
    )
    .unwrap();
    let kept = held::HeldWebhook::of(
        &webhook,
        None,
        body,
        Some("7001".into()),
        "the order does not map: currency".into(),
        chrono::Utc::now(),
    );
    held::hold(&store, &kept).await.unwrap();
    let data = dir.to_str().unwrap().to_owned();
    let cli = |words: &[&str]| {
        let mut args: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        args.extend(["--data-dir".to_owned(), data.clone()]);
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&args)
        })
    };
    let (ok, out, err) = cli(&["dlq", "list"]).await.unwrap();
    assert!(ok, "{err}");
    assert!(
        out.contains("held webhooks") && out.contains("orders/create"),
        "{out}"
    );
    assert!(out.contains("7001") && out.contains("currency"), "{out}");
    let (ok, out, err) = cli(&["orders", "list", "--stuck"]).await.unwrap();
    assert!(ok, "{err}");
    assert!(
        out.contains("genstore:7001") && out.contains("held webhook"),
        "{out}"
    );
    let (ok, out, err) = cli(&["dlq", "replay", "--json"]).await.unwrap();
    assert!(ok, "{err}");
    let replayed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            replayed["held_applied"].as_u64(),
            replayed["still_held"].as_u64()
        ),
        (Some(0), Some(1)),
        "{out}"
    );
    assert_eq!(held::list(&store).await.unwrap().len(), 1, "still held");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--shop` shows one shop of a deployment serving several: `orders list` its orders only (the same
/// order id in another shop is that shop's), `dlq list` its dead letters; without it, the default shop.
#[tokio::test]
async fn operator_commands_show_the_shop_named() {
    use orderbridge::channel::Channel;
    use orderbridge::clock::SystemClock;
    use orderbridge::jobs::{Job, SyncJob};
    use orderbridge::store::embedded::{Db, EmbeddedQueue, EmbeddedStore};
    use orderbridge::store::{ShopStore, Storage, SyncQueue};
    use std::sync::Arc;

    let dir = fresh_dir("shops");
    let file = dir.join("orderbridge.sqlite3");
    let root: Arc<dyn Storage> = Arc::new(EmbeddedStore::new(
        Db::open(&file).unwrap(),
        Arc::new(SystemClock),
    ));
    let eu = "eu".parse().unwrap();
    let sample = |id: &str, total: i64| {
        let mut o: orderbridge::order::ChannelOrder = serde_json::from_value(serde_json::json!({
            "channel": "zonos", "order_id": id, "genstore_order_id": null, "merchant_order_id": null,
            "source": null, "customer_id": null, "customer": null, "shipping_address": null,
            "billing_address": null, "line_items": [],
            "totals": {"currency": "USD", "subtotal": null, "shipping": null, "tax": null,
                       "discounts": null, "total": "1"},
            "raw_status": "IGLOBAL_ORDER_IN_PROCESS", "status": "paid", "shipments": [], "refunds": [],
            "test_order": false, "tags": [], "placed_at": "2026-12-01T10:00:00Z",
            "updated_at": "2026-12-01T10:00:00Z", "cancelled_at": null
        }))
        .unwrap();
        o.totals.total = rust_decimal::Decimal::from(total);
        // Placed just now: not yet overdue for its mirror.
        o.placed_at = chrono::Utc::now();
        o.updated_at = o.placed_at;
        o
    };
    orderbridge::store::orders::save_newer(&*root, sample("999-1", 10))
        .await
        .unwrap();
    let eu_store = ShopStore::scoped(root.clone(), &eu);
    orderbridge::store::orders::save_newer(&*eu_store, sample("999-1", 20))
        .await
        .unwrap();
    orderbridge::store::orders::save_newer(&*eu_store, sample("999-2", 30))
        .await
        .unwrap();
    let dlq = EmbeddedQueue::new(
        Db::open(&file).unwrap(),
        "sync-dlq",
        None,
        Arc::new(SystemClock),
    );
    let job = SyncJob::from(Job::MirrorOrder {
        channel: Channel::Zonos,
        order_id: "999-2".into(),
    })
    .in_shop(&eu);
    assert!(dlq.send(&[job]).await.unwrap().all_sent());
    let data = dir.to_str().unwrap().to_owned();
    let cli = |words: &[&str]| {
        let mut v: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        v.extend(["--data-dir".to_owned(), data.clone(), "--json".to_owned()]);
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = v.iter().map(String::as_str).collect();
            run(&args)
        })
    };
    let orders = |out: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(out).expect("JSON");
        let mut keys: Vec<String> = v["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["order"].as_str().unwrap().to_owned())
            .collect();
        keys.sort();
        keys
    };
    let (ok, out, err) = cli(&["orders", "list"]).await.unwrap();
    assert!(ok, "{err}");
    assert_eq!(orders(&out), ["zonos:999-1"], "the default shop's");
    let (ok, out, err) = cli(&["orders", "list", "--shop", "eu"]).await.unwrap();
    assert!(ok, "{err}");
    assert_eq!(
        orders(&out),
        ["zonos:999-1", "zonos:999-2"],
        "eu's, unprefixed"
    );
    let (ok, out, err) = cli(&["orders", "list", "--shop", "eu", "--stuck"])
        .await
        .unwrap();
    assert!(ok, "{err}");
    assert_eq!(
        orders(&out),
        ["zonos:999-2"],
        "its dead letter marks its row"
    );
    let (ok, out, _) = cli(&["orders", "show", "zonos:999-1", "--shop", "eu"])
        .await
        .unwrap();
    assert!(ok && out.contains("\"20 USD\""), "the eu order: {out}");
    let letters = |out: &str| -> usize {
        let v: serde_json::Value = serde_json::from_str(out).expect("JSON");
        v["dead_letters"].as_array().unwrap().len()
    };
    let (ok, out, _) = cli(&["dlq", "list"]).await.unwrap();
    assert!(ok);
    assert_eq!(letters(&out), 0, "not the default shop's");
    let (ok, out, _) = cli(&["dlq", "list", "--shop", "eu"]).await.unwrap();
    assert!(ok);
    assert_eq!(letters(&out), 1);
    // A replay is one shop's too: the default shop's leaves eu's dead letter where it is.
    let replayed = |out: &str| -> (u64, u64) {
        let v: serde_json::Value = serde_json::from_str(out).expect("JSON");
        (
            v["sent"].as_u64().unwrap(),
            v["other_shops"].as_u64().unwrap(),
        )
    };
    let (ok, out, err) = cli(&["dlq", "replay"]).await.unwrap();
    assert!(ok, "{err}");
    assert_eq!(replayed(&out), (0, 1));
    let (ok, out, _) = cli(&["dlq", "list", "--shop", "eu"]).await.unwrap();
    assert!(ok);
    assert_eq!(letters(&out), 1, "still there, and visible");
    let (ok, out, err) = cli(&["dlq", "replay", "--shop", "eu"]).await.unwrap();
    assert!(ok, "{err}");
    assert_eq!(replayed(&out), (1, 0));
    let (ok, out, _) = cli(&["dlq", "list", "--shop", "eu"]).await.unwrap();
    assert!(ok);
    assert_eq!(letters(&out), 0);
    let sync = EmbeddedQueue::new(
        Db::open(&file).unwrap(),
        "sync",
        None,
        Arc::new(SystemClock),
    );
    let back = sync
        .receive(10, chrono::Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(
        back[0].job().unwrap().shop,
        eu,
        "back in the sync queue, still eu's"
    );
    let (ok, _, err) = cli(&["orders", "list", "--shop", "E/U"]).await.unwrap();
    assert!(!ok && err.contains("not a shop id"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
