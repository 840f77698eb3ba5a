//! A local sandbox of the three order platforms orderbridge talks to — Genstore, Zonos and Google — that
//! enforces their documented contracts, so tests, the local runner and the demo (and merchants rehearsing)
//! exercise orderbridge against something strict. A request the real platform would reject, the sandbox
//! rejects the same way.
//!
//! One port, one prefix per platform, paths below each prefix as on the real platform:
//! `/genstore/api/202412/…`, `/zonos/v1/…` and `/zonos/v2/…`, `/google/content/v2.1/{merchantId}/…`;
//! the control and inspection API under `/_sandbox` (see [`control`]).
//!
//! Every write is counted as *executed* or answered as *duplicate*: the figure that proves nothing was
//! applied twice. Faults (5xx, 429, timeouts, latency, and "applied, then too slow to answer") can be
//! injected per platform at a rate, drawn from a seeded generator so runs are reproducible.
//!
//! **Independent of the clients.** The sandbox is a second reading of the same documents: it keeps its
//! orders in its own types ([`genstore::model`], [`google::model`], and Zonos' orders as the JSON
//! [`zonos`] writes), reads request bodies against its own tables of the documented names
//! ([`genstore::requests`], [`google::schema`], [`zonos::requests`]), signs webhooks with its own HMAC, and
//! checks every answer against those tables before it leaves. Nothing of `orderbridge::channels` is used
//! (only `orderbridge::channel::Channel`, to name which platform's error shape to answer in), so a field
//! a client misspells is refused here, not agreed with.

// Handler helpers return `Result<_, Response>` to answer early with the platform's own error shape (the
// axum idiom); the size of a `Response` on that path does not matter in a test server.
#![allow(clippy::result_large_err)]

pub mod control;
pub mod genstore;
pub mod google;
pub mod scenario;
pub mod webhooks;
pub mod zonos;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use orderbridge::channel::Channel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Credentials and identities the sandbox accepts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxConfig {
    /// Genstore's `X-Genstore-Access-Token`.
    pub genstore_token: String,
    /// The shop domain webhooks name.
    pub genstore_shop: String,
    /// Zonos store id.
    pub zonos_store: u64,
    /// Zonos secret.
    pub zonos_secret: String,
    /// Google merchant id.
    pub google_merchant_id: String,
    /// A static Google bearer token (tokens from the token endpoint are accepted too).
    pub google_token: String,
    /// Seed of the fault generator.
    pub seed: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            genstore_token: "sandbox-genstore-token".into(),
            genstore_shop: "sandbox.genmystore.com".into(),
            zonos_store: 999,
            zonos_secret: "f5bde245-f55e-414d-b722-80b25161c12c".into(),
            google_merchant_id: "123456789".into(),
            google_token: "sandbox-google-token".into(),
            seed: 7,
        }
    }
}

impl SandboxConfig {
    /// The sandbox of a deployment's `n`-th shop (0: [`SandboxConfig::default`]): its own Genstore shop
    /// (token and domain), Zonos store and Google merchant, so several shops run side by side, one
    /// sandbox each, as separate merchants' accounts would.
    pub fn for_shop(n: u32) -> Self {
        let first = SandboxConfig::default();
        if n == 0 {
            return first;
        }
        SandboxConfig {
            genstore_token: format!("{}-{n}", first.genstore_token),
            genstore_shop: format!("shop{n}.sandbox.genmystore.com"),
            zonos_store: first.zonos_store.saturating_sub(u64::from(n)),
            zonos_secret: format!("{}-{n}", first.zonos_secret),
            google_merchant_id: format!("{}{n}", first.google_merchant_id),
            google_token: format!("{}-{n}", first.google_token),
            seed: first.seed.saturating_add(u64::from(n)),
        }
    }
}

/// Faults to inject on one platform; each rate is a probability per request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Answer 503 without acting.
    pub error_rate: f64,
    /// Answer 429 without acting.
    pub throttle_rate: f64,
    /// Hold the request `hang_ms` without acting (the client times out).
    pub timeout_rate: f64,
    /// Act, then hold the answer `hang_ms` (the client times out after the write was applied).
    pub slow_after_apply_rate: f64,
    /// Added to every request.
    pub latency_ms: u64,
    /// How long a timeout holds a request.
    pub hang_ms: u64,
    /// Refuse the request without acting, as the platform refuses an invalid one (Genstore and Google:
    /// 400 with their error body; Zonos: 200 with `{"error": …}`), saying `reject_message`. Platforms
    /// quote what they were sent in such messages, customers' names and addresses included.
    pub reject_rate: f64,
    /// What a refusal says.
    pub reject_message: Option<String>,
    /// Draw faults for writes only (any method but `GET`); reads are answered normally.
    pub writes_only: bool,
}

/// Executed versus duplicate for one kind of write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteCount {
    /// Applied.
    pub executed: u64,
    /// Answered as already done.
    pub duplicate: u64,
}

/// What the sandbox has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Requests per `METHOD /route`.
    pub requests: BTreeMap<String, u64>,
    /// Writes per `platform.call`.
    pub writes: BTreeMap<String, WriteCount>,
    /// Faults injected per platform and kind.
    pub faults: BTreeMap<String, u64>,
    /// Webhook deliveries attempted, and how many got a 2xx.
    pub webhooks_sent: u64,
    /// Webhook deliveries answered 2xx.
    pub webhooks_ok: u64,
    /// Requests a platform's own rate limit refused (429), per platform: not injected faults.
    #[serde(default)]
    pub rate_limited: BTreeMap<String, u64>,
}

impl Counters {
    /// Counts an applied write.
    pub fn executed(&mut self, write: &str) {
        self.writes.entry(write.to_owned()).or_default().executed += 1;
    }

    /// Counts a write answered as already done.
    pub fn duplicate(&mut self, write: &str) {
        self.writes.entry(write.to_owned()).or_default().duplicate += 1;
    }

    /// Executed count of a write.
    pub fn executed_count(&self, write: &str) -> u64 {
        self.writes.get(write).map_or(0, |w| w.executed)
    }
}

/// Everything the sandbox holds.
pub struct State0 {
    /// Genstore's orders and fulfillments.
    pub genstore: genstore::GenstoreState,
    /// Zonos' orders.
    pub zonos: zonos::ZonosState,
    /// Google's orders.
    pub google: google::GoogleState,
    /// Faults per platform.
    pub faults: BTreeMap<Channel, Faults>,
    /// Counters.
    pub counters: Counters,
    rng: fastrand::Rng,
}

/// The sandbox: state behind a lock, configuration, and the webhook sender. Cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    state: Arc<Mutex<State0>>,
    /// Credentials and identities.
    pub config: Arc<SandboxConfig>,
    /// Genstore's webhook sender.
    pub webhooks: webhooks::WebhookSender,
}

impl Sandbox {
    /// An empty sandbox.
    pub fn new(config: SandboxConfig) -> Self {
        let rng = fastrand::Rng::with_seed(config.seed);
        let state = State0 {
            genstore: genstore::GenstoreState::default(),
            zonos: zonos::ZonosState::default(),
            google: google::GoogleState::default(),
            faults: BTreeMap::new(),
            counters: Counters::default(),
            rng,
        };
        let state = Arc::new(Mutex::new(state));
        let webhooks = webhooks::WebhookSender::new(state.clone(), config.genstore_shop.clone());
        Sandbox {
            state,
            config: Arc::new(config),
            webhooks,
        }
    }

    /// The state, locked. Never held across an await.
    pub fn lock(&self) -> MutexGuard<'_, State0> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the counters.
    pub fn counters(&self) -> Counters {
        self.lock().counters.clone()
    }

    /// Sets a platform's faults.
    pub fn set_faults(&self, platform: Channel, faults: Faults) {
        self.lock().faults.insert(platform, faults);
    }

    /// The router serving all three platforms and the control API.
    pub fn router(&self) -> Router {
        let platform = |p: Channel, r: Router<Sandbox>| {
            r.layer(axum::middleware::from_fn_with_state(
                (self.clone(), p),
                inject_faults,
            ))
        };
        Router::new()
            .nest(
                "/genstore/api/202412",
                platform(Channel::Genstore, genstore::routes()),
            )
            .nest("/zonos", platform(Channel::Zonos, zonos::routes()))
            .nest("/google", platform(Channel::Google, google::routes()))
            .nest("/_sandbox", control::routes())
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                count_requests,
            ))
            .with_state(self.clone())
    }

    /// Serves on `addr` (port 0 for an ephemeral port); returns the bound address and the server task.
    pub async fn serve(
        &self,
        addr: SocketAddr,
    ) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let app = self.router();
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "sandbox server stopped");
            }
        });
        Ok((bound, task))
    }
}

/// Serves a new sandbox on an ephemeral loopback port; for tests and the local runner.
pub async fn spawn(config: SandboxConfig) -> std::io::Result<(Sandbox, String)> {
    let sandbox = Sandbox::new(config);
    let (addr, _task) = sandbox.serve(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    Ok((sandbox, format!("http://{addr}")))
}

async fn count_requests(State(sb): State<Sandbox>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".into());
    let key = format!("{} {route}", req.method());
    *sb.lock().counters.requests.entry(key).or_default() += 1;
    next.run(req).await
}

/// The fault a request draws.
enum Draw {
    None,
    Error,
    Throttle,
    Timeout,
    SlowAfterApply,
    Reject,
}

async fn inject_faults(
    State((sb, platform)): State<(Sandbox, Channel)>,
    req: Request,
    next: Next,
) -> Response {
    let read = req.method() == axum::http::Method::GET;
    let (faults, draw) = {
        let mut st = sb.lock();
        let faults = st.faults.get(&platform).cloned().unwrap_or_default();
        let faults = if faults.writes_only && read {
            Faults {
                latency_ms: faults.latency_ms,
                ..Faults::default()
            }
        } else {
            faults
        };
        let r = st.rng.f64();
        let mut edge = 0.0;
        let mut pick = |rate: f64| {
            edge += rate;
            r < edge
        };
        let draw = if pick(faults.error_rate) {
            Draw::Error
        } else if pick(faults.throttle_rate) {
            Draw::Throttle
        } else if pick(faults.timeout_rate) {
            Draw::Timeout
        } else if pick(faults.slow_after_apply_rate) {
            Draw::SlowAfterApply
        } else if pick(faults.reject_rate) {
            Draw::Reject
        } else {
            Draw::None
        };
        let name = match draw {
            Draw::None => None,
            Draw::Error => Some("error"),
            Draw::Throttle => Some("throttle"),
            Draw::Timeout => Some("timeout"),
            Draw::SlowAfterApply => Some("slow_after_apply"),
            Draw::Reject => Some("reject"),
        };
        if let Some(n) = name {
            *st.counters
                .faults
                .entry(format!("{platform}.{n}"))
                .or_default() += 1;
        }
        (faults, draw)
    };
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let hang = Duration::from_millis(if faults.hang_ms == 0 {
        15_000
    } else {
        faults.hang_ms
    });
    match draw {
        Draw::None => next.run(req).await,
        Draw::Error => platform_error(
            platform,
            StatusCode::SERVICE_UNAVAILABLE,
            "injected fault: service unavailable",
        ),
        Draw::Throttle => platform_error(
            platform,
            StatusCode::TOO_MANY_REQUESTS,
            "injected fault: rate limited",
        ),
        Draw::Timeout => {
            tokio::time::sleep(hang).await;
            platform_error(
                platform,
                StatusCode::GATEWAY_TIMEOUT,
                "injected fault: timed out",
            )
        }
        Draw::SlowAfterApply => {
            let resp = next.run(req).await;
            tokio::time::sleep(hang).await;
            resp
        }
        Draw::Reject => {
            let message = faults
                .reject_message
                .as_deref()
                .unwrap_or("injected fault: invalid request");
            match platform {
                Channel::Zonos => {
                    axum::Json(serde_json::json!({ "error": message })).into_response()
                }
                _ => platform_error(platform, StatusCode::BAD_REQUEST, message),
            }
        }
    }
}

/// An error answer in the platform's own shape: Genstore `{"error": "…"}`, Google's error object,
/// Zonos' HTML for HTTP-level failures.
pub fn platform_error(platform: Channel, status: StatusCode, message: &str) -> Response {
    match platform {
        Channel::Genstore => {
            (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
        }
        Channel::Google => google::error(status, "backendError", message),
        Channel::Zonos => {
            let mut resp = (
                status,
                format!(
                    "<html><body><h2>HTTP ERROR {}</h2><p>{message}</p></body></html>",
                    status.as_u16()
                ),
            )
                .into_response();
            resp.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/html"),
            );
            resp
        }
    }
}

/// Seconds-resolution "now", as Genstore stamps orders.
pub fn now_seconds() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}
