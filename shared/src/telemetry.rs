//! Logging, set up in one place: one JSON object per line (CloudWatch reads it), the level from
//! `RUST_LOG` (default `info`), no timestamps (Lambda adds its own).

/// Installs the JSON log subscriber for a Lambda function. Call once, first thing in `main`.
pub fn init_lambda_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second call (tests hosting several functions) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time()
        .try_init();
}
