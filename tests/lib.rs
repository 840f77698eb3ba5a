//! The harness the end-to-end tests share (`e2e.rs`, `dev.rs`, `hostile.rs`): a pipeline on a fresh
//! data folder, on SQLite or on moto, orders placed on the sandbox, and waiting for an outcome.

#[path = "support/iam.rs"]
pub mod iam;

use orderbridge::channel::Channel;
use orderbridge::order::ChannelOrder;
use orderbridge::store::{AuditEntry, OrderKey, Storage};
use orderbridge_cli::{DevConfig, Running, StorageChoice};
use orderbridge_sandbox::genstore::model as gw;
use orderbridge_sandbox::genstore::LineQty;
use orderbridge_sandbox::scenario::{self, ZonosPlacing};
use orderbridge_sandbox::Sandbox;
use std::time::Duration;

pub fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("obe2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

pub fn config(data_dir: std::path::PathBuf) -> DevConfig {
    DevConfig {
        data_dir,
        port: 0,
        poll_interval: Duration::from_millis(500),
        seed: false,
        // A crash's leftovers (hidden messages, in-progress claims) clear in seconds, not a minute.
        visibility: Duration::from_secs(2),
        in_progress_ttl: Duration::from_secs(3),
        // The deployed backoff (30 s doubling to 30 min) and breaker (30 s), on a faster clock.
        backoff: fulfillment_push::Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            min_time_left: Duration::from_millis(100),
        },
        breaker: (5, Duration::from_millis(500)),
        // One shop: the tests of several shops say so.
        shops: vec![orderbridge::shop::ShopId::default_shop()],
        ..DevConfig::default()
    }
}

/// A runner in its own folder named after `name`: on the embedded backend, or on moto (`aws`).
pub fn config_for(name: &str, aws: bool) -> (std::path::PathBuf, DevConfig) {
    let d = dir(&if aws {
        format!("{name}-moto")
    } else {
        name.to_owned()
    });
    let cfg = if aws {
        on_moto(config(d.clone()), name)
    } else {
        config(d.clone())
    };
    (d, cfg)
}

/// Waits for the channel's order `id` to be mirrored; its Genstore mirror.
pub async fn mirrored(r: &Running, channel: Channel, id: &str) -> String {
    until("mirrored", || async {
        mirror_of(r, channel, id).await.is_some()
    })
    .await;
    mirror_of(r, channel, id).await.unwrap_or_default()
}

/// Fails the test unless moto runs (`scripts/test` starts it and sets `AWS_ENDPOINT_URL`).
pub fn needs_moto() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL");
    assert!(endpoint.is_ok(), "run scripts/test, which starts moto");
}

/// DynamoDB and SQS clients on moto.
pub async fn moto_clients() -> (aws_sdk_dynamodb::Client, aws_sdk_sqs::Client) {
    needs_moto();
    let conf = orderbridge::store::dynamo::sdk_config().await;
    (
        aws_sdk_dynamodb::Client::new(&conf),
        aws_sdk_sqs::Client::new(&conf),
    )
}

/// The same pipeline on DynamoDB and SQS (moto, started by `scripts/test`), with fresh names.
pub fn on_moto(cfg: DevConfig, name: &str) -> DevConfig {
    needs_moto();
    let suffix = format!("{name}-{}", std::process::id());
    DevConfig {
        storage: StorageChoice::Aws {
            table: format!("e2e-{suffix}"),
            queue: format!("e2e-{suffix}"),
        },
        ..cfg
    }
}

pub fn zonos_order(sb: &Sandbox, qty: u32) -> String {
    scenario::zonos_order(sb, 999, scenario::LAMP, qty, ZonosPlacing::default())
}

/// A Google order ready to ship whose first line is ordered twice.
pub fn google_order(sb: &Sandbox) -> String {
    scenario::google_order(sb, "123456789", "template1a", Some(2), false).unwrap()
}

pub async fn until<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    until_for(what, 30, check).await
}

/// Waits up to `secs` seconds for `check` to hold, looking every 100 ms; panics naming `what` if not.
pub async fn until_for<F, Fut>(what: &str, secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..(secs * 10) {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not reached in time: {what}");
}

pub async fn mirror_of(r: &Running, channel: Channel, id: &str) -> Option<String> {
    r.mirror_of(channel, id).await
}

/// True once every Zonos order of `zonos` and every Google order of `google` has a mirror.
pub async fn all_mirrored(r: &Running, zonos: &[String], google: &[String]) -> bool {
    let orders = zonos
        .iter()
        .map(|z| (Channel::Zonos, z.as_str()))
        .chain(google.iter().map(|g| (Channel::Google, g.as_str())));
    for (channel, id) in orders {
        if mirror_of(r, channel, id).await.is_none() {
            return false;
        }
    }
    true
}

/// The order `id` of `channel` as `store` holds it now.
pub async fn stored(store: &dyn Storage, channel: Channel, id: &str) -> Option<ChannelOrder> {
    let key = OrderKey::new(channel, id);
    store.get(&key).await.unwrap().map(|s| s.order)
}

/// The audit trail of the order `id` of `channel`.
pub async fn trail(store: &dyn Storage, channel: Channel, id: &str) -> Vec<AuditEntry> {
    store.entries(&OrderKey::new(channel, id)).await.unwrap()
}

/// `quantity` of the first line of the Genstore order `order`.
pub fn first_line(sb: &Sandbox, order: &str, quantity: u32) -> LineQty {
    let id = sb.lock().genstore.order(order).unwrap().line_items[0]
        .id
        .clone();
    LineQty { id, quantity }
}

pub fn ship(sb: &Sandbox, order: &str, qty: u32, number: &str) -> String {
    let lines = vec![first_line(sb, order, qty)];
    let (f, events) = sb
        .lock()
        .genstore
        .create_fulfillment(
            order,
            Some(lines),
            Some(gw::TrackingInfo {
                number: Some(number.into()),
                company: Some("UPS".into()),
                url: None,
            }),
            Some("inTransit".into()),
        )
        .unwrap();
    sb.webhooks.emit_all(events);
    f.fulfill_id
}

/// Every log line of the test binary, as the functions would write them (JSON, with the current span),
/// from the first call on.
pub fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let _ = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,orderbridge=debug,webhook_ingest=debug,order_poller=debug,fulfillment_push=debug",
            ))
            .with_writer(move || LogSink(sink.clone()))
            .try_init();
        buf
    })
    .clone()
}

struct LogSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
