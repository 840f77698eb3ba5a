//! orderbridge on one machine: the three functions' handlers in one process, over the embedded store and
//! queue, against the in-process platform sandbox (or real endpoints).
//!
//! [`start`] hosts webhook-ingest behind a local HTTP endpoint (the same handler API Gateway calls),
//! runs order-poller on an interval, and feeds the sync queue to fulfillment-push with SQS semantics:
//! batches of ten, a visibility timeout, failed records left to reappear, dead-lettering after five
//! receives.

pub mod demo;
pub mod ops;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use orderbridge::caller::Function;
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::{GenstoreClient, GenstoreSettings};
use orderbridge::channels::google::auth::GoogleCredentials;
use orderbridge::channels::google::client::{GoogleClient, GoogleSettings};
use orderbridge::channels::zonos::client::{ZonosClient, ZonosSettings};
use orderbridge::channels::zonos::wire::Credentials;
use orderbridge::clock::{Clock, SystemClock};
use orderbridge::config::{Clients, ShopClients};
use orderbridge::secrets::Secret;
use orderbridge::shop::ShopId;
use orderbridge::store::embedded::{Db, DeadLetter, EmbeddedQueue, EmbeddedStore};
use orderbridge::store::{IdempotencyTtl, OrderKey, Storage, SyncQueue};
use orderbridge_sandbox::webhooks::Subscription;
use orderbridge_sandbox::{Sandbox, SandboxConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How to run.
#[derive(Clone)]
pub struct DevConfig {
    /// Where the embedded database lives.
    pub data_dir: PathBuf,
    /// The webhook endpoint's port (0: any free port).
    pub port: u16,
    /// Time between poller runs.
    pub poll_interval: Duration,
    /// The webhook secret the endpoint verifies (and the sandbox signs with).
    pub webhook_secret: String,
    /// Serve the platform sandbox in-process (else the platform settings come from the environment).
    pub sandbox: bool,
    /// Seed the sandbox with a few orders.
    pub seed: bool,
    /// The shops served with the in-process sandbox, one sandbox each ([`SandboxConfig::for_shop`]),
    /// the first with the default shop's settings. With real platforms, the shops are `SHOPS` (or the
    /// environment's one shop), as deployed.
    pub shops: Vec<ShopId>,
    /// Reuse sandboxes that are already serving, one per shop in order (a restarted pipeline keeps
    /// its platforms).
    pub existing_sandboxes: Vec<(Sandbox, String)>,
    /// How long a received job stays hidden (SQS's visibility timeout).
    pub visibility: Duration,
    /// How long a job's in-progress claim, and a tracking push's lease on its order, block a retry
    /// after a crash.
    pub in_progress_ttl: Duration,
    /// The order table and queues: the embedded database under `data_dir`, or DynamoDB and SQS.
    pub storage: StorageChoice,
    /// How long a failed job waits before it is tried again (deployed: 30 s doubling to 30 min).
    pub backoff: fulfillment_push::Backoff,
    /// Calls in a row a platform fails before its breaker opens, and for how long (0: never).
    pub breaker: (u32, Duration),
    /// fulfillment-push consumers at once (Lambda runs several instances).
    pub consumers: usize,
    /// Each platform's rate limit multiplied by this, in the sandbox and in the clients (a faster
    /// clock for load runs; 1 is the platforms' real limits).
    pub rate_scale: u32,
    /// How long one platform call may take before it is a timeout.
    pub http_timeout: Duration,
}

/// Where the order table and the queues live.
#[derive(Clone, Debug, Default)]
pub enum StorageChoice {
    /// SQLite under the data directory.
    #[default]
    Embedded,
    /// DynamoDB and SQS (at `AWS_ENDPOINT_URL`, or the account), provisioned with these names first.
    Aws {
        /// The table's name.
        table: String,
        /// The sync queue's name.
        queue: String,
    },
}

impl Default for DevConfig {
    fn default() -> Self {
        DevConfig {
            data_dir: PathBuf::from(".data"),
            port: 8080,
            poll_interval: Duration::from_secs(10),
            webhook_secret: "dev-webhook-secret".into(),
            sandbox: true,
            seed: true,
            shops: vec![ShopId::default_shop(), second_shop()],
            existing_sandboxes: Vec::new(),
            visibility: Duration::from_secs(30),
            in_progress_ttl: Duration::from_secs(60),
            storage: StorageChoice::Embedded,
            backoff: fulfillment_push::Backoff::default(),
            breaker: (5, Duration::from_secs(30)),
            consumers: 1,
            rate_scale: 1,
            http_timeout: Duration::from_secs(10),
        }
    }
}

/// The second shop `dev` and the demo serve: `outlet`.
pub fn second_shop() -> ShopId {
    "outlet".parse().unwrap_or_default()
}

/// A running pipeline.
pub struct Running {
    /// Where webhooks go.
    pub webhook_url: String,
    /// The first shop's sandbox and its base URL, when in-process.
    pub sandbox: Option<(Sandbox, String)>,
    /// Every shop's sandbox and its base URL, in the order of [`DevConfig::shops`], when in-process.
    pub sandboxes: Vec<(ShopId, Sandbox, String)>,
    /// The order table.
    pub store: Arc<dyn Storage>,
    /// The sync queue.
    pub queue: Arc<dyn SyncQueue>,
    /// Its dead-letter queue.
    pub dead_letters: Arc<dyn SyncQueue>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// The merchant order id the channel's order `id` carries: its Genstore mirror's, once written back.
    pub async fn mirror_of(&self, channel: Channel, id: &str) -> Option<String> {
        self.store
            .get(&OrderKey::new(channel, id))
            .await
            .ok()
            .flatten()
            .and_then(|s| s.order.merchant_order_id.map(|m| m.to_string()))
    }

    /// Stops every loop and the endpoint, and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            t.abort();
            let _ = t.await;
        }
    }
}

/// The queue's dead-lettering, as deployed (the template's redrive): a job that may still succeed is
/// received at most this often (about 12 hours with the deployed backoff) before the queue keeps it.
pub const MAX_RECEIVES: u32 = orderbridge::store::provision::QUEUE.max_receive_count;

/// Clients for the in-process sandbox, with each platform's real pacing (times `cfg.rate_scale`) and
/// the pipeline's breaker and timeout.
pub fn sandbox_clients(
    base: &str,
    config: &SandboxConfig,
    cfg: &DevConfig,
) -> Result<Clients, String> {
    let e = |e: orderbridge::channels::http::ClientError| e.to_string();
    let scale = cfg.rate_scale.max(1);
    let with_breaker = |mut h: orderbridge::channels::http::HttpSettings| {
        h.breaker_after = cfg.breaker.0;
        h.breaker_open = cfg.breaker.1;
        h.timeout = cfg.http_timeout;
        h.rate = orderbridge::channels::http::RateLimit::new(
            h.rate.per_second.get().saturating_mul(scale),
            h.rate.burst.get().saturating_mul(scale),
        );
        h
    };
    let mut genstore = GenstoreSettings::new(
        format!("{base}/genstore"),
        Secret::new(config.genstore_token.clone()),
    );
    genstore.http = with_breaker(genstore.http);
    let credentials = Credentials {
        store: config.zonos_store,
        secret: Secret::new(config.zonos_secret.clone()),
    };
    let mut zonos = ZonosSettings::new(format!("{base}/zonos"), credentials);
    zonos.http = with_breaker(zonos.http);
    let token = GoogleCredentials::AccessToken(Secret::new(config.google_token.clone()));
    let google_base = format!("{base}/google/content/v2.1");
    let mut google = GoogleSettings::new(google_base, config.google_merchant_id.clone(), token);
    google.http = with_breaker(google.http);
    Ok(Clients {
        genstore: Some(GenstoreClient::new(genstore).map_err(e)?),
        zonos: Some(ZonosClient::new(zonos).map_err(e)?),
        google: Some(GoogleClient::new(google).map_err(e)?),
    })
}

/// The order table and the two queues, as one party sees them.
#[derive(Clone)]
struct Backends {
    store: Arc<dyn Storage>,
    queue: Arc<dyn SyncQueue>,
    dead_letters: Arc<dyn SyncQueue>,
}

/// Where the pipeline keeps its table and queues.
enum Opened {
    /// One embedded database, shared by all.
    Embedded(Backends),
    /// DynamoDB and SQS (provisioned), each function with clients of its own.
    Aws {
        table: String,
        queue_url: String,
        dlq_url: String,
    },
}

/// The one-machine sync queue, whose messages go to its dead letters after [`MAX_RECEIVES`] receives
/// (as the deployed queue's redrive), and that dead-letter queue, both in `db`.
pub fn embedded_queues(
    db: &Db,
    clock: &Arc<dyn Clock>,
) -> (Arc<EmbeddedQueue>, Arc<EmbeddedQueue>) {
    let dead_letter = DeadLetter {
        queue: "sync-dlq".into(),
        max_receives: MAX_RECEIVES,
    };
    (
        Arc::new(EmbeddedQueue::new(
            db.clone(),
            "sync",
            Some(dead_letter),
            clock.clone(),
        )),
        Arc::new(EmbeddedQueue::new(
            db.clone(),
            "sync-dlq",
            None,
            clock.clone(),
        )),
    )
}

impl Opened {
    async fn open(storage: &StorageChoice, data_dir: &std::path::Path) -> Result<Opened, String> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        match storage {
            StorageChoice::Embedded => {
                let db =
                    Db::open(data_dir.join("orderbridge.sqlite3")).map_err(|e| e.to_string())?;
                let (queue, dead_letters) = embedded_queues(&db, &clock);
                Ok(Opened::Embedded(Backends {
                    store: Arc::new(EmbeddedStore::new(db, clock)),
                    queue,
                    dead_letters,
                }))
            }
            StorageChoice::Aws { table, queue } => {
                let conf = orderbridge::store::dynamo::sdk_config().await;
                let p = orderbridge::store::provision::provision(
                    &aws_sdk_dynamodb::Client::new(&conf),
                    &aws_sdk_sqs::Client::new(&conf),
                    table,
                    queue,
                )
                .await
                .map_err(|e| e.to_string())?;
                Ok(Opened::Aws {
                    table: p.table,
                    queue_url: p.queue_url,
                    dlq_url: p.dlq_url,
                })
            }
        }
    }

    /// The table and queues for `function` (none: the operator): deployed, each function sends its own
    /// requests under its own role, and names itself on them (see [`orderbridge::caller`]); so here.
    async fn backends(&self, function: Option<Function>) -> Backends {
        match self {
            Opened::Embedded(b) => b.clone(),
            Opened::Aws {
                table,
                queue_url,
                dlq_url,
            } => {
                let conf = orderbridge::store::dynamo::sdk_config_for(function).await;
                let sqs = aws_sdk_sqs::Client::new(&conf);
                Backends {
                    store: Arc::new(orderbridge::store::dynamo::DynamoStore::new(
                        aws_sdk_dynamodb::Client::new(&conf),
                        table.clone(),
                        Arc::new(SystemClock),
                    )),
                    queue: Arc::new(orderbridge::store::sqs::SqsQueue::new(
                        sqs.clone(),
                        queue_url.clone(),
                    )),
                    dead_letters: Arc::new(orderbridge::store::sqs::SqsQueue::new(
                        sqs,
                        dlq_url.clone(),
                    )),
                }
            }
        }
    }
}

/// One shop as the pipeline serves it: its clients (not yet paced), how its webhooks are told apart,
/// and its sandbox when in-process.
struct DevShop {
    id: ShopId,
    clients: Clients,
    keys: webhook_ingest::ShopKeys,
    /// The sandbox, its base URL, and the secret it signs webhooks with.
    sandbox: Option<(Sandbox, String, String)>,
}

/// The shops to serve: one sandbox per shop of `cfg.shops` (spawned, or reused), or the shops of the
/// environment with real platforms.
async fn dev_shops(cfg: &DevConfig) -> Result<Vec<DevShop>, String> {
    if !cfg.sandbox && cfg.existing_sandboxes.is_empty() {
        let shops = orderbridge::config::shops_from_env(
            &orderbridge::secrets::SecretResolver::from_env(),
            orderbridge::config::Needs::Everything,
        )
        .await
        .map_err(|e| e.to_string())?;
        let only = shops.len() == 1;
        let mut out = Vec::with_capacity(shops.len());
        for s in shops {
            tracing::info!(shop = %s.id, channels = s.platforms.describe(), "platforms");
            let mut secrets = s.webhook_secrets.clone();
            if secrets.is_empty() && only {
                secrets.push(Secret::new(cfg.webhook_secret.clone()));
            }
            out.push(DevShop {
                id: s.id.clone(),
                clients: s.platforms.clients().map_err(|e| e.to_string())?,
                keys: webhook_ingest::ShopKeys {
                    id: s.id,
                    secrets,
                    shop_domain: s.shop_domain,
                },
                sandbox: None,
            });
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(cfg.shops.len());
    for (i, id) in cfg.shops.iter().enumerate() {
        let sc = SandboxConfig::for_shop(u32::try_from(i).unwrap_or(u32::MAX));
        let (sb, base) = match cfg.existing_sandboxes.get(i) {
            Some(existing) => existing.clone(),
            None => {
                let (sb, base) = orderbridge_sandbox::spawn(sc.clone())
                    .await
                    .map_err(|e| format!("sandbox of shop {id}: {e}"))?;
                if cfg.seed {
                    orderbridge_sandbox::control::seed(&sb);
                }
                sb.lock()
                    .genstore
                    .set_rate_limit(2 * cfg.rate_scale.max(1), 40 * cfg.rate_scale.max(1));
                (sb, base)
            }
        };
        // Each shop's webhooks are signed with a secret of its own: that is what tells them apart.
        let secret = if i == 0 {
            cfg.webhook_secret.clone()
        } else {
            format!("{}-{id}", cfg.webhook_secret)
        };
        out.push(DevShop {
            id: id.clone(),
            clients: sandbox_clients(&base, &sc, cfg)?,
            keys: webhook_ingest::ShopKeys {
                id: id.clone(),
                secrets: vec![Secret::new(secret.clone())],
                shop_domain: Some(sc.genstore_shop.clone()),
            },
            sandbox: Some((sb, base, secret)),
        });
    }
    Ok(out)
}

/// Starts the pipeline.
pub async fn start(cfg: DevConfig) -> Result<Running, String> {
    let opened = Opened::open(&cfg.storage, &cfg.data_dir).await?;
    let operator = opened.backends(None).await;
    let ingest_backends = opened.backends(Some(Function::WebhookIngest)).await;
    let poller_backends = opened.backends(Some(Function::OrderPoller)).await;
    let push_backends = opened.backends(Some(Function::FulfillmentPush)).await;

    let shops = dev_shops(&cfg).await?;
    // Each shop's budgets for the poller and the consumer together, as deployed (each function
    // reaching them through its own table client).
    let paced = |store: &Arc<dyn Storage>| -> Vec<ShopClients> {
        shops
            .iter()
            .map(|s| ShopClients::paced(s.id.clone(), s.clients.clone(), store, 0.0))
            .collect()
    };
    let poller_shops = Arc::new(paced(&poller_backends.store));
    let push_shops = paced(&push_backends.store);

    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();

    // webhook-ingest behind a local endpoint.
    let ingest = webhook_ingest::Deps::build(
        ingest_backends.store.clone(),
        ingest_backends.queue.clone(),
        shops.iter().map(|s| s.keys.clone()).collect(),
        webhook_ingest::DEFAULT_MAX_BODY,
    );
    // The one-machine count of outcomes is the host's, not the function's (deployed, a metric).
    let counts = operator.store.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let deps = ingest.clone();
            let counts = counts.clone();
            async move {
                let req = webhook_ingest::Inbound {
                    method: method.as_str().to_owned(),
                    path: uri.path().to_owned(),
                    headers: headers
                        .iter()
                        .filter_map(|(k, v)| {
                            Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))
                        })
                        .collect(),
                    body,
                };
                let out = webhook_ingest::handle(&deps, req).await;
                // Deployed, the count is a CloudWatch metric; on one machine the table keeps it for
                // `orderbridge status`.
                if let Err(e) = orderbridge::store::note_webhook(
                    &*counts,
                    out.outcome().as_str(),
                    chrono::Utc::now(),
                )
                .await
                {
                    tracing::warn!(error = %e, "could not count the webhook's outcome");
                }
                let status =
                    StatusCode::from_u16(out.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, axum::Json(out.body)).into_response()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], cfg.port)))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", cfg.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let webhook_url = format!("http://{addr}{}", webhook_ingest::ROUTE);
    tasks.push(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "webhook endpoint stopped");
        }
    }));
    let mut sandboxes = Vec::new();
    for shop in &shops {
        if let Some((sb, base, secret)) = &shop.sandbox {
            sb.webhooks.subscribe(Subscription {
                address: webhook_url.clone(),
                secret: secret.clone(),
            });
            sandboxes.push((shop.id.clone(), sb.clone(), base.clone()));
        }
    }

    // order-poller on an interval.
    // Every shop's platforms are in `shops`.
    let poller = order_poller::Deps::build(
        poller_backends.store.clone(),
        poller_backends.queue.clone(),
        Clients::default(),
        order_poller::Settings {
            // A stable owner: a restarted `dev` takes its own leases back at once instead of waiting.
            owner: "orderbridge-dev".into(),
            include_test_orders: true,
            genstore_overlap: 5,
            // Deployed, 20 mirrors every 10 minutes; polling far more often here, keep that pace so
            // the rotation does not spend Genstore's 2 requests a second.
            genstore_recheck: usize::try_from(cfg.poll_interval.as_secs() * 20 / 600)
                .unwrap_or(20)
                .clamp(1, 20),
            ..order_poller::Settings::default()
        },
        poller_shops,
    );
    let interval = cfg.poll_interval;
    let mut poll_stop = stopped.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            let deadline = order_poller::Until(std::time::Instant::now() + Duration::from_secs(60));
            // The run logs its own summary, one line per channel.
            order_poller::run(&poller, order_poller::PollRequest::default(), &deadline).await;
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = poll_stop.changed() => return,
            }
        }
    }));

    // fulfillment-push fed from the queue with SQS semantics.
    let in_progress =
        chrono::Duration::from_std(cfg.in_progress_ttl).unwrap_or(chrono::Duration::seconds(60));
    let push = fulfillment_push::Deps::build(
        push_backends.store.clone(),
        push_backends.queue.clone(),
        // Every shop's platforms are in `shops`.
        Clients::default(),
        Arc::new(push_shops),
        Some(push_backends.dead_letters.clone()),
        fulfillment_push::Tuning {
            idempotency: IdempotencyTtl {
                in_progress,
                ..IdempotencyTtl::default()
            },
            // A crashed push's lease clears as its claim does.
            push_lease: in_progress,
            backoff: cfg.backoff,
            ..fulfillment_push::Tuning::default()
        },
    );
    let visibility =
        chrono::Duration::from_std(cfg.visibility).unwrap_or(chrono::Duration::seconds(30));
    // fulfillment-push consumers, each like one Lambda instance polling the queue.
    for _ in 0..cfg.consumers.max(1) {
        let push = push.clone();
        let consumer_queue = push_backends.queue.clone();
        let mut push_stop = stopped.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let batch = match consumer_queue.receive(10, visibility).await {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::warn!(error = %e, "queue receive failed");
                        Vec::new()
                    }
                };
                if batch.is_empty() {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(250)) => continue,
                        _ = push_stop.changed() => return,
                    }
                }
                let records: Vec<fulfillment_push::Record> = batch
                    .iter()
                    .map(|m| fulfillment_push::Record {
                        message_id: m.message_id.clone(),
                        body: m.body.clone(),
                        receipt: Some(m.receipt.clone()),
                        receive_count: m.receive_count,
                    })
                    .collect();
                let failed = fulfillment_push::handle_batch(&push, records).await;
                for m in &batch {
                    if !failed.contains(&m.message_id) {
                        if let Err(e) = consumer_queue.delete(&m.receipt).await {
                            tracing::warn!(error = %e, "delete failed; the job will run again, harmlessly");
                        }
                    }
                }
            }
        }));
    }

    Ok(Running {
        webhook_url,
        sandbox: sandboxes
            .first()
            .map(|(_, sb, base)| (sb.clone(), base.clone())),
        sandboxes,
        store: operator.store,
        queue: operator.queue,
        dead_letters: operator.dead_letters,
        stop,
        tasks,
    })
}
