//! Logging, set up in one place: one JSON object per line (CloudWatch reads it), the level from
//! `RUST_LOG` (default `info`), no timestamps (Lambda adds its own).

/// A Lambda function's first lines: its JSON logs, and its name on every metric.
pub fn start_lambda(function: &str) {
    init_lambda_logging();
    crate::metrics::init(function);
}

/// Installs the JSON log subscriber for a Lambda function. Call once, first thing in `main`.
pub fn init_lambda_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second call (tests hosting several functions) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        // The current span carries the cause (correlation id) of the work in hand: see [`with_cause`].
        .with_current_span(true)
        .with_span_list(false)
        .without_time()
        .try_init();
}

tokio::task_local! {
    static CAUSE: String;
}

/// Runs `work` as caused by `cause`, orderbridge's correlation id: `webhook:<id>` for a Genstore
/// delivery, `poll:<run id>` for a poll run. Every log line inside carries it (a `cause` span), every job
/// queued inside is stamped with it ([`crate::jobs::SyncJob::stamp`]), fulfillment-push runs each job
/// under the cause it carries, and every audit entry written meanwhile records it.
pub async fn with_cause<F: std::future::Future>(cause: String, work: F) -> F::Output {
    use tracing::Instrument;
    let span = tracing::info_span!("cause", cause = %cause);
    CAUSE.scope(cause, work.instrument(span)).await
}

/// The cause of the work in hand, if it runs under one.
pub fn current_cause() -> Option<String> {
    CAUSE.try_with(Clone::clone).ok()
}

/// A cause made safe to log and store: at most 120 characters of `[A-Za-z0-9:_.#/-]` (a webhook id is
/// the sender's text).
pub fn clean_cause(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.' | '#' | '/' | '-'))
        .take(120)
        .collect()
}
