//! The `orderbridge` binary as a newcomer runs it: the demo, then each command the demo printed, as
//! printed; the operator commands' errors for a folder without data or an unknown order; a backfill.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_orderbridge");

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
    assert_eq!(tries.len(), 3, "{out}");
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
    // `dlq list`: nothing failed for good.
    assert!(outputs[0].contains("google:TEST-"), "{}", outputs[0]);
    assert!(outputs[0].contains("zonos:"), "{}", outputs[0]);
    assert!(outputs[1].contains("delivered"), "{}", outputs[1]);
    assert!(outputs[1].contains("shipLineItems"), "{}", outputs[1]);
    assert!(
        outputs[2].to_lowercase().contains("no dead letters") || outputs[2].trim().is_empty(),
        "{}",
        outputs[2]
    );
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
    let since = (chrono::Utc::now() - chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
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
