//! The README's commands, as printed: every line of its `sh` blocks is run here the way a newcomer runs
//! it (the binary `cargo run -p orderbridge-cli --` builds, with the printed arguments, in a fresh
//! folder), except `scripts/test`, the test command itself, which CI runs (`.ci/run`). A command this
//! test does not know fails it, so the README cannot print one nothing runs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_orderbridge");
const CARGO_RUN: &str = "cargo run -p orderbridge-cli -- ";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The command lines of the README's `sh` blocks, comments left out.
fn commands(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = !in_sh && t == "```sh";
            continue;
        }
        if in_sh {
            let command = t.split(" #").next().unwrap_or(t).trim();
            if !command.is_empty() && !command.starts_with('#') {
                out.push(command.to_owned());
            }
        }
    }
    out
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ob-readme-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `orderbridge dev`: it serves until stopped, so it runs until it says where its webhooks are and
/// that it polls, then is stopped.
fn run_dev(args: &[&str]) {
    let dir = fresh_dir("dev");
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(&dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("polling every")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let all = seen.join("\n");
    assert!(
        all.contains("webhooks on http://127.0.0.1:8080/webhooks/genstore"),
        "dev serves the webhook route the README names:\n{all}"
    );
    assert!(all.contains("polling every 10s"), "{all}");
}

#[test]
fn every_command_the_readme_prints_runs_as_printed() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let commands = commands(&readme);
    assert!(
        commands.iter().any(|c| c == "scripts/test"),
        "the README names the test command: {commands:?}"
    );
    for command in &commands {
        if command == "scripts/test" {
            // The test command is what runs this test; CI runs it as the README prints it.
            let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
            assert!(
                ci.lines().any(|l| l.trim() == "scripts/test"),
                "CI runs scripts/test"
            );
            continue;
        }
        let Some(args) = command.strip_prefix(CARGO_RUN) else {
            panic!("a README command no test runs: {command}");
        };
        let args: Vec<&str> = args.split_whitespace().collect();
        match args.first().copied() {
            Some("dev") => run_dev(&args),
            Some("demo") => {
                let dir = fresh_dir("demo");
                let out = Command::new(BIN)
                    .args(&args)
                    .current_dir(&dir)
                    .env_remove("RUST_LOG")
                    .output()
                    .unwrap();
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success(),
                    "{command}\n{stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(
                    dir.join(".data/demo").is_dir(),
                    "the demo keeps its data in .data/demo, as the README says"
                );
                let _ = std::fs::remove_dir_all(&dir);
            }
            _ => panic!("a README command no test runs: {command}"),
        }
    }
}

#[test]
fn the_command_lines_are_read_from_sh_blocks_only() {
    let text =
        "x\n```sh\na --b   # note\n# only a comment\n\nscripts/test\n```\n```json\n{}\n```\n";
    assert_eq!(commands(text), ["a --b", "scripts/test"]);
}
