//! The `orderbridge` binary as a newcomer runs it: the demo, then each command the demo printed, as
//! printed; and the operator commands' errors for a missing data folder or an unknown order.

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
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn operator_commands_say_what_is_wrong() {
    let dir = std::env::temp_dir().join(format!("ob-cli-none-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_str().unwrap();
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
