//! `orderbridge`: the whole pipeline on one machine, and the operator's commands.
//!
//! ```text
//! orderbridge demo
//! orderbridge dev [--port 8080] [--data-dir .data] [--poll-seconds 10] [--real-platforms] [--aws]
//! orderbridge orders list [--status shipped] [--json]      orderbridge orders show zonos:999-10001 [--json]
//! orderbridge dlq list [--json]                            orderbridge dlq replay
//! orderbridge backfill --channel zonos --since 2026-11-01 [--through 2026-11-15]
//! orderbridge provision [--table orderbridge-orders] [--queue orderbridge-sync]
//! orderbridge customer-data --customer 207119551 [--order 1001] [--request wh-1] [--out data.json]
//! ```
//! The operator commands read the embedded database under `--data-dir`, or with `--aws` the deployed
//! table and queues (`ORDERS_TABLE`, `SYNC_QUEUE_URL`, `SYNC_DLQ_URL`; `AWS_ENDPOINT_URL` for an emulator).

use clap::Parser;
use orderbridge::clock::{Clock, SystemClock};
use orderbridge::status::UnifiedStatus;
use orderbridge::store::embedded::{Db, EmbeddedStore};
use orderbridge::store::{Storage, SyncQueue};
use orderbridge_cli::{ops, start, DevConfig};
use std::sync::Arc;
use std::time::Duration;

mod args;

use args::{Backend, Cli, Command, DlqCommand, OrdersCommand};

struct Handles {
    /// The shop's part of the table (`--shop`, else the default shop).
    store: Arc<dyn Storage>,
    /// The whole table, for what works every shop's records (a DLQ replay).
    root: Arc<dyn Storage>,
    queue: Arc<dyn SyncQueue>,
    dlq: Arc<dyn SyncQueue>,
    /// The shop looked at.
    shop: orderbridge::shop::ShopId,
}

/// The table and queues the command works on, in the shop `--shop` names. `create`: a command that
/// writes (a backfill) may start the embedded database; the others look at one `dev` or `demo` left and
/// refuse a folder without one.
async fn handles(b: &Backend, create: bool) -> Result<Handles, String> {
    let shop: orderbridge::shop::ShopId = match &b.shop {
        Some(s) => s
            .parse()
            .map_err(|e: orderbridge::shop::InvalidShopId| e.to_string())?,
        None => orderbridge::shop::ShopId::default_shop(),
    };
    let mut h = table_and_queues(b, create).await?;
    h.store = orderbridge::store::ShopStore::scoped(h.root.clone(), &shop);
    h.queue = orderbridge::store::ShopQueue::scoped(h.queue.clone(), &shop);
    h.shop = shop;
    Ok(h)
}

async fn table_and_queues(b: &Backend, create: bool) -> Result<Handles, String> {
    if b.aws {
        use orderbridge::config::required;
        let setting = |name: &str| required(name).map_err(|e| e.to_string());
        let (table, sync, dlq) = (
            setting("ORDERS_TABLE")?,
            setting("SYNC_QUEUE_URL")?,
            setting("SYNC_DLQ_URL")?,
        );
        let aws = orderbridge::store::dynamo::AwsBackends::connect(None, table).await;
        return Ok(Handles {
            store: aws.store.clone(),
            root: aws.store.clone(),
            queue: Arc::new(aws.queue(sync)),
            dlq: Arc::new(aws.queue(dlq)),
            shop: Default::default(),
        });
    }
    // An empty database made on the spot would answer "nothing there" for a mistyped folder.
    let file = b.data_dir.join("orderbridge.sqlite3");
    if !create && !file.is_file() {
        return Err(format!(
            "no orderbridge data in {}: run `orderbridge dev` or `orderbridge demo` first, or pass \
             --data-dir (or --aws for the deployed table)",
            b.data_dir.display()
        ));
    }
    let db = Db::open(file).map_err(|e| e.to_string())?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (queue, dlq) = orderbridge_cli::embedded_queues(&db, &clock);
    let store: Arc<dyn Storage> = Arc::new(EmbeddedStore::new(db, clock));
    Ok(Handles {
        store: store.clone(),
        root: store,
        queue,
        dlq,
        shop: Default::default(),
    })
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("orderbridge: {e}");
    std::process::exit(1)
}

fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // `dev` is watched through its logs; the demo prints its own progress, and the operator commands
    // their answers, so they log only what went wrong. RUST_LOG overrides.
    let default_level = match cli.command {
        Command::Dev { .. } => "info",
        Command::Demo { .. } => "error",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Dev {
            port,
            data_dir,
            poll_seconds,
            real_platforms,
            aws,
            table,
            queue,
        } => {
            let cfg = DevConfig {
                data_dir,
                port,
                poll_interval: Duration::from_secs(poll_seconds.max(1)),
                sandbox: !real_platforms,
                storage: if aws {
                    orderbridge_cli::StorageChoice::Aws { table, queue }
                } else {
                    orderbridge_cli::StorageChoice::Embedded
                },
                ..DevConfig::default()
            };
            let running = start(cfg).await.unwrap_or_else(|e| fail(e));
            println!("orderbridge dev: webhooks on {}", running.webhook_url);
            for (shop, _, base) in &running.sandboxes {
                println!("orderbridge dev: shop {shop}: platform sandbox on {base} (counters: {base}/_sandbox/counters)");
            }
            println!("orderbridge dev: polling every {poll_seconds}s; Ctrl-C stops");
            let _ = tokio::signal::ctrl_c().await;
            running.stop().await;
            println!("orderbridge dev: stopped");
        }
        Command::Demo { data_dir } => {
            let program = std::env::args()
                .next()
                .unwrap_or_else(|| "orderbridge".into());
            if let Err(e) = orderbridge_cli::demo::run(data_dir, &program).await {
                fail(e);
            }
        }
        Command::Status { backend } => {
            let h = handles(&backend, false).await.unwrap_or_else(|e| fail(e));
            let deployed = backend.aws.then(orderbridge::secrets::Direct::from_env);
            let v = ops::status(&*h.store, &*h.root, &*h.queue, &*h.dlq, deployed.as_ref())
                .await
                .unwrap_or_else(|e| fail(e));
            if backend.json {
                print_json(&v);
            } else {
                print!("{}", ops::render_status(&v));
            }
        }
        Command::Orders { command, backend } => {
            let h = handles(&backend, false).await.unwrap_or_else(|e| fail(e));
            match command {
                OrdersCommand::List {
                    status,
                    channel,
                    stuck,
                    limit,
                    after,
                } => {
                    let status = status
                        .map(|s| {
                            serde_json::from_value::<UnifiedStatus>(serde_json::Value::String(
                                s.clone(),
                            ))
                            .map_err(|_| format!("unknown status {s:?}"))
                        })
                        .transpose()
                        .unwrap_or_else(|e| fail(e));
                    let channel = channel
                        .map(|c| {
                            c.parse::<orderbridge::channel::Channel>()
                                .map_err(|e| e.to_string())
                        })
                        .transpose()
                        .unwrap_or_else(|e| fail(e));
                    let filter = ops::ListFilter {
                        channel,
                        status,
                        stuck,
                        shop: Some(h.shop.clone()),
                    };
                    let (rows, next) =
                        ops::order_rows(&*h.store, Some(&*h.dlq), &filter, limit, after)
                            .await
                            .unwrap_or_else(|e| fail(e));
                    if backend.json {
                        print_json(&serde_json::json!({"orders": rows, "next": next}));
                    } else {
                        println!(
                            "{:<28} {:<10} {:<20} {:<36} stuck",
                            "order", "genstore", "unified status", "last write"
                        );
                        for r in &rows {
                            println!("{}", ops::render_row(r));
                        }
                        if let Some(n) = next {
                            println!("(more: --after {n})");
                        }
                    }
                }
                OrdersCommand::Show { order } => {
                    let key = ops::parse_key(&order).unwrap_or_else(|e| fail(e));
                    match ops::order_view(&*h.store, &key)
                        .await
                        .unwrap_or_else(|e| fail(e))
                    {
                        Some(v) if backend.json => print_json(&v),
                        Some(v) => print!("{}", ops::render_order(&v)),
                        None => fail(format!("no order {order}")),
                    }
                }
            }
        }
        Command::CustomerData {
            customer,
            orders,
            request,
            out,
            backend,
        } => {
            if customer.is_none() && orders.is_empty() {
                fail("name the customer (--customer) or the orders (--order) of the request");
            }
            let h = handles(&backend, false).await.unwrap_or_else(|e| fail(e));
            let scope = orderbridge::compliance::Scope {
                customer_id: customer.map(Into::into),
                genstore_order_ids: orders.into_iter().map(Into::into).collect(),
                whole_shop: false,
                arrived_at: None,
            };
            let data = orderbridge::compliance::export_customer_data(&*h.store, &scope, &request)
                .await
                .unwrap_or_else(|e| fail(e));
            let text = serde_json::to_string_pretty(&data).unwrap_or_else(|e| fail(e));
            match out {
                Some(path) => {
                    write_private(&path, &(text + "\n")).unwrap_or_else(|e| fail(e));
                    eprintln!(
                        "orderbridge: {} orders' data written to {}",
                        data.orders.len(),
                        path.display()
                    );
                }
                None => println!("{text}"),
            }
        }
        Command::Dlq { command, backend } => {
            let h = handles(&backend, false).await.unwrap_or_else(|e| fail(e));
            match command {
                DlqCommand::List => {
                    let mut rows = orderbridge::dead_letters::list(&*h.dlq)
                        .await
                        .unwrap_or_else(|e| fail(e));
                    // The shop's dead letters (and those whose body names no shop at all).
                    rows.retain(|r| r.shop.as_ref().is_none_or(|s| s == &h.shop));
                    let held = webhook_ingest::held::list(&*h.store)
                        .await
                        .unwrap_or_else(|e| fail(e.to_string()));
                    if backend.json {
                        print_json(
                            &serde_json::json!({"dead_letters": rows, "held_webhooks": held}),
                        );
                    } else {
                        if rows.is_empty() {
                            println!("no dead letters");
                        } else {
                            println!("{:<38} {:<26} order", "message", "job");
                            for r in rows {
                                println!(
                                    "{:<38} {:<26} {}",
                                    r.message_id,
                                    r.job,
                                    r.order.as_deref().unwrap_or("-")
                                );
                            }
                            println!("(a write's platform answer: orderbridge orders show <order>; the rest: the logs)");
                        }
                        if !held.is_empty() {
                            println!("\nheld webhooks (answered 2xx, never applied: they could not be as they were)");
                            println!("{:<38} {:<26} {:<12} reason", "webhook", "topic", "order");
                            for w in held {
                                println!(
                                    "{:<38} {:<26} {:<12} {}",
                                    w.key,
                                    w.topic,
                                    w.order_id.as_deref().unwrap_or("-"),
                                    w.reason
                                );
                            }
                        }
                    }
                }
                DlqCommand::Replay => {
                    // One shop's, as every command: its dead letters and its held webhooks.
                    let r = orderbridge::dead_letters::replay(
                        &h.root,
                        &*h.dlq,
                        &*h.queue,
                        Some(&h.shop),
                    )
                    .await
                    .unwrap_or_else(|e| fail(e));
                    let held = ops::replay_held(h.store.clone(), h.queue.clone())
                        .await
                        .unwrap_or_else(|e| fail(e));
                    if backend.json {
                        print_json(&serde_json::json!({
                            "sent": r.sent, "forgotten": r.forgotten, "other_shops": r.other_shops,
                            "held_applied": held.applied, "still_held": held.still_held,
                        }));
                    } else {
                        println!("{} dead letters sent back to the sync queue", r.sent);
                        if r.forgotten > 0 {
                            println!(
                                "{} of them had failed for good; that failure is forgotten, so they run again",
                                r.forgotten
                            );
                        }
                        if r.other_shops > 0 {
                            println!(
                                "{} dead letters of other shops left in the queue (replay them with --shop)",
                                r.other_shops
                            );
                        }
                        if held.applied > 0 || held.still_held > 0 {
                            println!(
                                "{} held webhooks applied, {} still held (dlq list says why)",
                                held.applied, held.still_held
                            );
                        }
                    }
                }
            }
        }
        Command::Backfill {
            channel,
            since,
            through,
            backend,
        } => {
            let h = handles(&backend, true).await.unwrap_or_else(|e| fail(e));
            let request: order_poller::PollRequest = serde_json::from_value(serde_json::json!({
                "backfill": {"channel": channel, "since": since, "through": through}
            }))
            .unwrap_or_else(|e| fail(format!("invalid backfill: {e}")));
            // The shop's own platforms (`SHOPS`, else the environment's one shop), paced by the same
            // budgets as the live poll, leaving it its share.
            let shops = orderbridge::config::shops_from_env(
                &orderbridge::secrets::SecretResolver::from_env(),
                orderbridge::config::Needs::Platforms,
            )
            .await
            .unwrap_or_else(|e| fail(e));
            let Some(shop) = shops.iter().find(|s| s.id == h.shop) else {
                let listed: Vec<&str> = shops.iter().map(|s| s.id.as_str()).collect();
                fail(format!(
                    "shop {} is not one this deployment serves ({})",
                    h.shop,
                    listed.join(", ")
                ))
            };
            let clients = shop
                .clients(&h.root, order_poller::backfill::BACKFILL_RESERVE)
                .unwrap_or_else(|e| fail(e))
                .clients;
            let deps = order_poller::Deps::build(
                h.store,
                h.queue,
                clients,
                order_poller::Settings::default(),
                Default::default(),
            );
            let deadline =
                order_poller::Until(std::time::Instant::now() + Duration::from_secs(3600));
            let summary = order_poller::run(&deps, request, &deadline).await;
            print_json(&serde_json::to_value(&summary).unwrap_or_default());
            if !summary.ok() {
                std::process::exit(1);
            }
        }
        Command::Provision { table, queue } => {
            let conf = orderbridge::store::dynamo::sdk_config().await;
            let p = orderbridge::store::provision::provision(
                &aws_sdk_dynamodb::Client::new(&conf),
                &aws_sdk_sqs::Client::new(&conf),
                &table,
                &queue,
            )
            .await
            .unwrap_or_else(|e| fail(e));
            println!(
                "table       {}\nqueue       {}\ndead letters {}",
                p.table, p.queue_url, p.dlq_url
            );
        }
    }
}

/// Writes a file only its owner may read (mode 0600, also when it was there with wider rights before):
/// what `customer-data` writes is a customer's personal data.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}
