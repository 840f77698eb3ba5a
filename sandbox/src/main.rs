//! `orderbridge-sandbox`: serves simulated Genstore, Zonos and Google on one port, seeded with a few orders.
//!
//! ```text
//! cargo run -p orderbridge-sandbox -- --port 8787 [--no-seed]
//! ```

use orderbridge_sandbox::{control, Sandbox, SandboxConfig};
use std::net::SocketAddr;

fn usage() -> ! {
    eprintln!("usage: orderbridge-sandbox [--port PORT] [--no-seed]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let mut port: u16 = 8787;
    let mut seed = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--no-seed" => seed = false,
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    let config = SandboxConfig::default();
    let sandbox = Sandbox::new(config.clone());
    if seed {
        control::seed(&sandbox);
    }
    let (addr, task) = match sandbox
        .serve(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("orderbridge-sandbox: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1)
        }
    };
    println!("orderbridge sandbox on http://{addr}");
    println!(
        "  GENSTORE_API_URL=http://{addr}/genstore   GENSTORE_ACCESS_TOKEN={}",
        config.genstore_token
    );
    println!(
        "  ZONOS_API_URL=http://{addr}/zonos   ZONOS_STORE_ID={}   ZONOS_SECRET={}",
        config.zonos_store, config.zonos_secret
    );
    println!(
        "  GOOGLE_API_URL=http://{addr}/google/content/v2.1   GOOGLE_MERCHANT_ID={}   GOOGLE_ACCESS_TOKEN={}",
        config.google_merchant_id, config.google_token
    );
    println!("  control API: http://{addr}/_sandbox/counters");
    let _ = task.await;
}
