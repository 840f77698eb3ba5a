//! `orderbridge`: run the whole pipeline on one machine.
//!
//! ```text
//! orderbridge dev [--port 8080] [--data-dir .data] [--poll-seconds 10] [--real-platforms]
//! ```

use clap::{Parser, Subcommand};
use orderbridge_cli::{start, DevConfig};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "orderbridge", about = "orderbridge on one machine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs webhook-ingest, order-poller and fulfillment-push in one process, against the platform
    /// sandbox (or, with --real-platforms, the platforms the environment names).
    Dev {
        /// Port of the local webhook endpoint.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Where the embedded database lives.
        #[arg(long, default_value = ".data")]
        data_dir: PathBuf,
        /// Seconds between poller runs.
        #[arg(long, default_value_t = 10)]
        poll_seconds: u64,
        /// Use the platform settings of the environment instead of the in-process sandbox.
        #[arg(long)]
        real_platforms: bool,
    },
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .init();
    match Cli::parse().command {
        Command::Dev {
            port,
            data_dir,
            poll_seconds,
            real_platforms,
        } => {
            let cfg = DevConfig {
                data_dir,
                port,
                poll_interval: Duration::from_secs(poll_seconds.max(1)),
                sandbox: !real_platforms,
                ..DevConfig::default()
            };
            let running = match start(cfg).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("orderbridge dev: {e}");
                    std::process::exit(1);
                }
            };
            println!("orderbridge dev: webhooks on {}", running.webhook_url);
            if let Some((_, base)) = &running.sandbox {
                println!("orderbridge dev: platform sandbox on {base} (counters: {base}/_sandbox/counters)");
            }
            println!("orderbridge dev: polling every {poll_seconds}s; Ctrl-C stops");
            let _ = tokio::signal::ctrl_c().await;
            running.stop().await;
            println!("orderbridge dev: stopped");
        }
    }
}
