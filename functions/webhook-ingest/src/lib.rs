//! webhook-ingest: Genstore webhooks in through API Gateway (HTTP API, payload 2.0).
//!
//! Genstore disables a subscription after 8 failed deliveries and redelivers slow ones, so this answers
//! fast and never loses or double-applies an event. In order:
//!
//! 1. route: `POST /webhooks/genstore` (other paths 404, other methods 405);
//! 2. size: over the limit (1 MiB) → 413;
//! 3. signature on the raw body, current or previous secret → 401 if missing or wrong;
//! 4. topic and shop headers, then the body → 400 naming what is wrong: the shop must be this
//!    deployment's, and the body must have its topic's shape and no other's (Genstore signs only the
//!    body, so a captured order body resent as `shop/redact` must not erase anything);
//! 5. dedupe on the webhook id: already processed → 200, nothing changes;
//! 6. the topic's effect on the order table (newer source state wins, whatever the arrival order); a
//!    compliance request is queued as a job (carried out by fulfillment-push, not in the webhook's time);
//! 7. follow-up jobs on the sync queue, only when there is work for another channel;
//! 8. the webhook id is claimed, then 200.
//!
//! The id is claimed only after the effect and the jobs are safe: a run that dies half-way is redone by
//! Genstore's redelivery rather than swallowed as a duplicate. Redoing is harmless — the upsert is
//! newer-wins and every job is idempotent. Every non-2xx answer is `{"error": "…"}` without internals.
//! One JSON log line per event: topic, order id, outcome, latency; never personal data or bodies.

pub mod config;
pub mod held;
pub mod lambda;
mod outcome;
mod prepare;
mod topics;

pub use outcome::Outcome;
pub use prepare::{prepare, Prepared, Rejection};
use topics::{compliance_job, refund_event};

use bytes::Bytes;
use orderbridge::channels::genstore::webhook::{Topic, WebhookBody};
use orderbridge::jobs::SyncJob;
use orderbridge::secrets::Secret;
use orderbridge::shop::ShopId;
use orderbridge::store::{Storage, StoreError, SyncQueue, Write};
use orderbridge::sync::WebhookPlan;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// The one route this function serves.
pub const ROUTE: &str = "/webhooks/genstore";
/// The default body limit, 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// How long a compliance request's claim lasts: for good (a century). A redaction resent after a week
/// must not erase the customer's orders placed since.
pub const COMPLIANCE_CLAIM: chrono::Duration = chrono::Duration::days(36_500);

/// What the handler works with, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// The order table.
    pub store: Arc<dyn Storage>,
    /// The sync queue.
    pub queue: Arc<dyn SyncQueue>,
    /// The shops whose webhooks this deployment takes: a delivery belongs to the shop whose secret
    /// verifies its signature.
    pub shops: Vec<ShopKeys>,
    /// The largest body accepted.
    pub max_body_bytes: usize,
    /// How long a processed webhook id is remembered.
    pub dedupe_ttl: chrono::Duration,
    /// When this instance last recorded a webhook's arrival (for `orderbridge status`).
    pub arrivals: orderbridge::store::Arrivals,
}

impl Deps {
    /// webhook-ingest put together, in the one place both ways of running it use: the Lambda's `main`
    /// and `orderbridge dev`. A processed delivery's id is remembered for 7 days (Genstore retries for
    /// 48 hours).
    pub fn build(
        store: Arc<dyn Storage>,
        queue: Arc<dyn SyncQueue>,
        shops: Vec<ShopKeys>,
        max_body_bytes: usize,
    ) -> Deps {
        Deps {
            store,
            queue,
            shops,
            max_body_bytes,
            dedupe_ttl: chrono::Duration::days(7),
            arrivals: Default::default(),
        }
    }
}

/// A shop whose webhooks this deployment takes: the secrets its deliveries are signed with (the current
/// one and, while rotating, the previous one) and its Genstore shop domain.
#[derive(Debug, Clone)]
pub struct ShopKeys {
    /// The shop.
    pub id: ShopId,
    /// Its webhook secrets.
    pub secrets: Vec<Secret>,
    /// Its shop domain (`GENSTORE_SHOP_DOMAIN`, or the host of its `GENSTORE_API_URL`). A delivery
    /// naming another is refused; without it, the shop's compliance requests are refused, since whose
    /// data they erase cannot be checked.
    pub shop_domain: Option<String>,
}

impl ShopKeys {
    /// The one shop of a one-shop deployment.
    pub fn single(secrets: Vec<Secret>, shop_domain: Option<String>) -> Vec<ShopKeys> {
        vec![ShopKeys {
            id: ShopId::default_shop(),
            secrets,
            shop_domain,
        }]
    }
}

impl From<&orderbridge::config::Shop> for ShopKeys {
    fn from(s: &orderbridge::config::Shop) -> Self {
        ShopKeys {
            id: s.id.clone(),
            secrets: s.webhook_secrets.clone(),
            shop_domain: s.shop_domain.clone(),
        }
    }
}

impl Deps {
    /// The same, working `shop`'s part of the table, its jobs naming it.
    pub fn in_shop(&self, shop: &ShopId) -> Deps {
        Deps {
            store: orderbridge::store::ShopStore::scoped(self.store.clone(), shop),
            queue: orderbridge::store::ShopQueue::scoped(self.queue.clone(), shop),
            ..self.clone()
        }
    }
}

/// An HTTP request as the handler sees it, whoever hosts it (API Gateway, the local runner).
#[derive(Debug, Clone)]
pub struct Inbound {
    /// `POST`, `GET`, ….
    pub method: String,
    /// The path.
    pub path: String,
    /// Header names (any case) and values.
    pub headers: Vec<(String, String)>,
    /// The raw body, exactly as signed.
    pub body: Bytes,
}

impl Inbound {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: serde_json::Value,
}

impl Outbound {
    /// The outcome the delivery is counted under: a 2xx answer's `outcome`, `rejected` for a 4xx and
    /// `failed` for the rest.
    pub fn outcome(&self) -> Outcome {
        match self.status {
            200..=299 => self
                .body
                .get("outcome")
                .and_then(serde_json::Value::as_str)
                .and_then(Outcome::from_name)
                .unwrap_or(Outcome::Ignored),
            400..=499 => Outcome::Rejected,
            _ => Outcome::Failed,
        }
    }

    fn ok(outcome: Outcome) -> Self {
        Outbound {
            status: 200,
            body: json!({ "outcome": outcome.as_str() }),
        }
    }

    fn error(status: u16, message: impl Into<String>) -> Self {
        Outbound {
            status,
            body: json!({ "error": message.into() }),
        }
    }
}

/// A failure after the request was verified.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Passing (the table or queue unavailable, throttling): Genstore should redeliver.
    Retry(String),
    /// Redelivering the same body can never succeed: the delivery is held ([`held`]).
    Permanent(String),
    /// The webhook id was claimed by a delivery of another topic or body: refused (409), never taken
    /// for a duplicate nor for new.
    IdReused,
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        if e.retryable() {
            Failure::Retry(e.to_string())
        } else {
            Failure::Permanent(e.to_string())
        }
    }
}

/// What is kept of a verified delivery while it is applied, in case it must be held: a few names and the
/// body's shared bytes (no copy of the parsed delivery on the way of every webhook).
struct Received {
    key: String,
    topic: String,
    shop_domain: String,
    webhook_id: Option<String>,
    triggered_at: Option<String>,
    order_id: Option<String>,
    body: Bytes,
}

impl Received {
    fn held(&self, reason: String) -> held::HeldWebhook {
        held::HeldWebhook {
            key: self.key.clone(),
            topic: self.topic.clone(),
            shop_domain: self.shop_domain.clone(),
            webhook_id: self.webhook_id.clone(),
            triggered_at: self.triggered_at.clone(),
            order_id: self.order_id.clone(),
            reason,
            held_at: chrono::Utc::now(),
            body: held::kept_body(&self.body),
            body_bytes: self.body.len(),
        }
    }
}

/// Handles one delivery.
pub async fn handle(deps: &Deps, req: Inbound) -> Outbound {
    let started = Instant::now();
    let prepared = match prepare(&req, &deps.shops, deps.max_body_bytes) {
        Ok(p) => p,
        Err(r) => {
            let out = r.respond();
            tracing::warn!(status = out.status, reason = ?rejection_kind(&r), latency_ms = ms(started), "webhook rejected");
            // The topic of a refused delivery is the sender's word: not a dimension (unbounded).
            measure("-", Outcome::Rejected, started);
            return out;
        }
    };
    // From here on, the shop whose secret signed it: its part of the table, its jobs, its metrics.
    let shop = prepared.shop.clone();
    let deps = deps.in_shop(&shop);
    orderbridge::metrics::in_shop(
        &shop,
        Box::pin(handle_signed(&deps, &req, prepared, started)),
    )
    .await
}

/// Steps 5 to 8 of a verified delivery, in its shop.
async fn handle_signed(
    deps: &Deps,
    req: &Inbound,
    prepared: Prepared,
    started: Instant,
) -> Outbound {
    // A signed delivery arrived: the health screen shows when the last one did.
    deps.arrivals.note(&*deps.store, chrono::Utc::now()).await;
    let topic = prepared.webhook.topic.as_str().to_owned();
    let order_id = event_order_id(&prepared);
    // The delivery's correlation id: its webhook id (or body hash), on every job it queues.
    let cause = orderbridge::telemetry::clean_cause(&format!(
        "webhook:{}",
        prepared
            .webhook
            .webhook_id
            .clone()
            .unwrap_or_else(|| prepared.webhook.dedupe_key().to_owned())
    ));
    let received = Received {
        key: prepared.webhook.dedupe_key().to_owned(),
        topic: topic.clone(),
        shop_domain: prepared.webhook.shop_domain.clone(),
        webhook_id: prepared.webhook.webhook_id.clone(),
        triggered_at: req
            .header(orderbridge::channels::genstore::webhook::TRIGGERED_AT_HEADER)
            .map(str::to_owned),
        order_id: Some(order_id.clone()).filter(|id| !id.is_empty()),
        body: req.body.clone(),
    };
    let result = orderbridge::telemetry::with_cause(cause.clone(), process(deps, prepared)).await;
    let reason = match result {
        Ok(outcome) => {
            tracing::info!(
                topic,
                order_id,
                outcome = outcome.as_str(),
                cause,
                latency_ms = ms(started),
                "webhook"
            );
            measure(&topic, outcome, started);
            return Outbound::ok(outcome);
        }
        Err(Failure::Permanent(reason)) => {
            match held::hold(&*deps.store, &received.held(reason.clone())).await {
                Ok(()) => {
                    let outcome = Outcome::Held;
                    let why =
                        "webhook can never be applied as it is: held for the operator (dlq list)";
                    not_applied(&topic, &order_id, &cause, outcome, &reason, why, started);
                    return Outbound::ok(outcome);
                }
                Err(e) => format!("{reason}; holding it failed too: {e}"),
            }
        }
        Err(Failure::Retry(reason)) => reason,
        Err(Failure::IdReused) => {
            tracing::warn!(
                topic,
                order_id,
                cause,
                outcome = Outcome::Rejected.as_str(),
                latency_ms = ms(started),
                "webhook id already used by another delivery: refused"
            );
            measure(&topic, Outcome::Rejected, started);
            return Outbound::error(
                409,
                "this webhook id was already used for a delivery of another topic or body",
            );
        }
    };
    not_applied(
        &topic,
        &order_id,
        &cause,
        Outcome::Failed,
        &reason,
        "webhook",
        started,
    );
    Outbound::error(
        503,
        "temporarily unable to process the webhook; it will be redelivered",
    )
}

/// Logs and counts a verified delivery that was not applied: held (2xx) or failed (503).
fn not_applied(
    topic: &str,
    order_id: &str,
    cause: &str,
    outcome: Outcome,
    reason: &str,
    message: &str,
    started: Instant,
) {
    tracing::error!(
        topic,
        order_id,
        cause,
        outcome = outcome.as_str(),
        reason,
        latency_ms = ms(started),
        "{message}"
    );
    measure(topic, outcome, started);
}

/// Applies a delivery verified earlier (a held one, replayed): steps 5 to 8, its order mapped again.
pub(crate) async fn apply_verified(
    deps: &Deps,
    shop: &ShopId,
    webhook: orderbridge::channels::genstore::webhook::Webhook,
) -> Result<Outcome, Failure> {
    process(deps, Prepared::of(shop.clone(), webhook)).await
}

/// Counts the delivery by topic and outcome, and records the handler's latency (EMF, flushed per
/// invocation by the Lambda wiring).
fn measure(topic: &str, outcome: Outcome, started: Instant) {
    orderbridge::metrics::count(
        "Webhooks",
        &[("Topic", topic), ("Outcome", outcome.as_str())],
        1,
    );
    orderbridge::metrics::handler_latency(started);
}

fn ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn rejection_kind(r: &Rejection) -> &'static str {
    match r {
        Rejection::NotFound => "not_found",
        Rejection::MethodNotAllowed => "method",
        Rejection::TooLarge { .. } => "too_large",
        Rejection::Signature(_) => "signature",
        Rejection::Invalid(_) => "invalid",
    }
}

fn event_order_id(p: &Prepared) -> String {
    match &p.webhook.body {
        WebhookBody::Order(o) => o.order_id.clone().unwrap_or_default(),
        WebhookBody::Refund(r) => r.order_id.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Steps 5 to 8. An order's delivery takes the fast path first: one read and one write request to the
/// table (and at most one to the queue); the slow path below is for what that read cannot settle and
/// for a write another writer beat.
async fn process(deps: &Deps, p: Prepared) -> Result<Outcome, Failure> {
    // A signed order that does not map: no redelivery can change that.
    if let Some(why) = p.unmappable {
        return Err(Failure::Permanent(why));
    }
    let key = p.webhook.dedupe_key().to_owned();
    let id_key = p.webhook.id_key();
    // A compliance request is carried out once, ever: its claim does not lapse.
    let ttl = if p.webhook.topic.is_compliance() {
        COMPLIANCE_CLAIM
    } else {
        deps.dedupe_ttl
    };
    if let (true, Some(order)) = (p.webhook.topic.carries_order(), &p.order) {
        match orderbridge::sync::plan_genstore_webhook(&*deps.store, order.clone(), &key, ttl)
            .await?
        {
            WebhookPlan::Duplicate => return Ok(Outcome::Duplicate),
            WebhookPlan::Ready {
                applied,
                mut writes,
            } => {
                enqueue(deps, &applied.jobs).await?;
                // The id's own claim, in the same write: an id another delivery claimed fails it, and
                // the slow path below refuses the delivery.
                writes.extend(id_key.clone().map(|key| Write::Claim { key, ttl }));
                if deps.store.write_batch(&writes).await? {
                    return Ok(applied.outcome.into());
                }
                tracing::info!("the order changed between read and write; applying it again");
            }
            WebhookPlan::Slow => {}
        }
    }
    // The id is looked at before the delivery's own key: a delivery claims its key before its id (below),
    // so an id found claimed by this very delivery's twin racing it has its key claimed already, and the
    // twin is a duplicate, not a reuse. Only an id claimed under another key is refused.
    let id_taken = match &id_key {
        Some(id_key) => deps.store.seen(id_key).await?,
        None => false,
    };
    if deps.store.seen(&key).await? {
        return Ok(Outcome::Duplicate);
    }
    if id_taken {
        return Err(Failure::IdReused);
    }
    let mut marker = None;
    let (outcome, jobs) = match (&p.webhook.topic, p.order) {
        (t, Some(order)) if t.carries_order() => {
            let applied = orderbridge::sync::apply_genstore_order(&*deps.store, order).await?;
            marker = applied.queued_marker;
            (applied.outcome.into(), applied.jobs)
        }
        (Topic::RefundsCreate, _) => match &p.webhook.body {
            WebhookBody::Refund(r) => refund_event(deps, r).await?,
            _ => (Outcome::Ignored, Vec::new()),
        },
        (topic, _) if matches!(p.webhook.body, WebhookBody::Compliance(_)) => {
            let WebhookBody::Compliance(c) = &p.webhook.body else {
                return Ok(Outcome::Ignored);
            };
            (Outcome::Queued, vec![compliance_job(topic, &key, c)])
        }
        (other, _) => {
            tracing::warn!(
                topic = other.as_str(),
                "unhandled webhook topic; acknowledged and ignored"
            );
            (Outcome::Ignored, Vec::new())
        }
    };
    enqueue(deps, &jobs).await?;
    if let Some(m) = &marker {
        orderbridge::sync::mark_queued(&*deps.store, m).await;
    }
    // The key first, then the id: see the order of the checks above.
    deps.store.claim_once(&key, ttl).await?;
    if let Some(id_key) = &id_key {
        deps.store.claim_once(id_key, ttl).await?;
    }
    Ok(outcome)
}

/// Puts jobs on the sync queue (one request for up to ten), stamped with the delivery's cause; any job
/// not sent fails the delivery, so Genstore redelivers it.
async fn enqueue(deps: &Deps, jobs: &[SyncJob]) -> Result<(), Failure> {
    if jobs.is_empty() {
        return Ok(());
    }
    let report = deps.queue.send(&SyncJob::stamp(jobs)).await?;
    if report.all_sent() {
        return Ok(());
    }
    let reasons: Vec<String> = report
        .failed
        .iter()
        .map(|f| format!("{}: {}", f.job, f.reason))
        .collect();
    Err(Failure::Retry(format!(
        "could not enqueue {}",
        reasons.join("; ")
    )))
}
