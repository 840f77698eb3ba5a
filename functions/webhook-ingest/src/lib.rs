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

#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod config;
pub mod lambda;

use bytes::Bytes;
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::signature::{self, SignatureError};
use orderbridge::channels::genstore::webhook::{
    Topic, Webhook, WebhookBody, WebhookError, WebhookHeaders, HMAC_HEADER, SHOP_DOMAIN_HEADER,
    TOPIC_HEADER, TRIGGERED_AT_HEADER, WEBHOOK_ID_HEADER,
};
use orderbridge::channels::genstore::{self, wire as gw};
use orderbridge::compliance::Scope;
use orderbridge::ids::{GenstoreOrderId, RefundId};
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::order::ChannelOrder;
use orderbridge::secrets::Secret;
use orderbridge::store::orders::{self, Modified};
use orderbridge::store::{OrderKey, Storage, StoreError, SyncQueue};
use orderbridge::sync::WebhookPlan;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// The one route this function serves.
pub const ROUTE: &str = "/webhooks/genstore";
/// The default body limit, 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// What the handler works with, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// The order table.
    pub store: Arc<dyn Storage>,
    /// The sync queue.
    pub queue: Arc<dyn SyncQueue>,
    /// The webhook secrets: the current one and, while rotating, the previous one.
    pub secrets: Vec<Secret>,
    /// The largest body accepted.
    pub max_body_bytes: usize,
    /// How long a processed webhook id is remembered.
    pub dedupe_ttl: chrono::Duration,
    /// The shop this deployment serves (`GENSTORE_SHOP_DOMAIN`, or the host of `GENSTORE_API_URL`).
    /// A delivery for another shop is refused; without it, compliance requests are refused, since
    /// whose data they erase cannot be checked.
    pub shop_domain: Option<String>,
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

/// Every outcome a delivery is counted under (the `Outcome` of the `Webhooks` metric): what an order's
/// state came to, what a refund or compliance request came to, a duplicate, a delivery turned away
/// (`rejected`, 4xx) and one that failed after it was accepted (`failed`, 503).
pub const OUTCOMES: &[&str] = &[
    "created",
    "updated",
    "stale",
    "conflict",
    "duplicate",
    "recorded",
    "unchanged",
    "parked",
    "queued",
    "ignored",
    "rejected",
    "failed",
];

impl Outbound {
    /// The outcome the delivery is counted under (see [`OUTCOMES`]).
    pub fn outcome(&self) -> &str {
        match self.status {
            200..=299 => self
                .body
                .get("outcome")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("ignored"),
            400..=499 => "rejected",
            _ => "failed",
        }
    }

    fn ok(outcome: &str) -> Self {
        Outbound {
            status: 200,
            body: json!({ "outcome": outcome }),
        }
    }

    fn error(status: u16, message: impl Into<String>) -> Self {
        Outbound {
            status,
            body: json!({ "error": message.into() }),
        }
    }
}

/// Why a request was turned away before any state was touched.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// Not `/webhooks/genstore`.
    NotFound,
    /// Not `POST`.
    MethodNotAllowed,
    /// Over the body limit.
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Signature missing or wrong.
    Signature(SignatureError),
    /// Headers or body unreadable.
    Invalid(String),
}

impl Rejection {
    fn respond(&self) -> Outbound {
        match self {
            Rejection::NotFound => Outbound::error(404, "not found"),
            Rejection::MethodNotAllowed => Outbound::error(405, "method not allowed: use POST"),
            Rejection::TooLarge { limit } => {
                Outbound::error(413, format!("body is larger than {limit} bytes"))
            }
            Rejection::Signature(SignatureError::NoSecret) => {
                Outbound::error(401, "webhook signatures cannot be checked")
            }
            Rejection::Signature(e) => Outbound::error(401, e.to_string()),
            Rejection::Invalid(m) => Outbound::error(400, m.clone()),
        }
    }
}

/// A verified, parsed delivery, its order already mapped into the domain: everything the handler does
/// before any I/O.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The delivery.
    pub webhook: Webhook,
    /// For `orders/*` topics, the order in orderbridge's terms.
    pub order: Option<ChannelOrder>,
}

/// Steps 1 to 4: route, size, signature, headers and body. Pure: no I/O.
pub fn prepare(
    req: &Inbound,
    secrets: &[Secret],
    max_body: usize,
    shop_domain: Option<&str>,
) -> Result<Prepared, Rejection> {
    let path = req.path.trim_end_matches('/');
    if path != ROUTE && !path.ends_with(ROUTE) {
        return Err(Rejection::NotFound);
    }
    if !req.method.eq_ignore_ascii_case("POST") {
        return Err(Rejection::MethodNotAllowed);
    }
    if req.body.len() > max_body {
        return Err(Rejection::TooLarge { limit: max_body });
    }
    signature::verify(&req.body, req.header(HMAC_HEADER), secrets).map_err(Rejection::Signature)?;
    let headers = WebhookHeaders {
        topic: req.header(TOPIC_HEADER),
        shop_domain: req.header(SHOP_DOMAIN_HEADER),
        webhook_id: req.header(WEBHOOK_ID_HEADER),
        triggered_at: req.header(TRIGGERED_AT_HEADER),
    };
    let webhook = Webhook::parse(headers, &req.body).map_err(|e| match e {
        WebhookError::InvalidBody(m) => Rejection::Invalid(format!("invalid body: {m}")),
        other => Rejection::Invalid(other.to_string()),
    })?;
    match shop_domain.map(str::trim) {
        Some(ours) if !ours.eq_ignore_ascii_case(&webhook.shop_domain) => {
            return Err(Rejection::Invalid(format!(
                "{SHOP_DOMAIN_HEADER} names another shop than this deployment's"
            )));
        }
        None if matches!(webhook.body, WebhookBody::Compliance(_)) => {
            return Err(Rejection::Invalid(
                "compliance requests are refused: this deployment's shop is not configured \
                 (GENSTORE_SHOP_DOMAIN)"
                    .into(),
            ));
        }
        _ => {}
    }
    let order = match &webhook.body {
        WebhookBody::Order(o) => Some(
            genstore::to_channel_order(o)
                .map_err(|e| Rejection::Invalid(format!("invalid body: {e}")))?,
        ),
        _ => None,
    };
    Ok(Prepared { webhook, order })
}

/// A failure after the request was accepted: Genstore should redeliver.
#[derive(Debug)]
struct Failure(String);

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure(e.to_string())
    }
}

/// Handles one delivery.
pub async fn handle(deps: &Deps, req: Inbound) -> Outbound {
    let started = Instant::now();
    let prepared = match prepare(
        &req,
        &deps.secrets,
        deps.max_body_bytes,
        deps.shop_domain.as_deref(),
    ) {
        Ok(p) => p,
        Err(r) => {
            let out = r.respond();
            tracing::warn!(status = out.status, reason = ?rejection_kind(&r), latency_ms = ms(started), "webhook rejected");
            // The topic of a refused delivery is the sender's word: not a dimension (unbounded).
            measure("-", "rejected", started);
            return out;
        }
    };
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
    let result = orderbridge::telemetry::with_cause(cause.clone(), process(deps, prepared)).await;
    match result {
        Ok(outcome) => {
            tracing::info!(
                topic,
                order_id,
                outcome,
                cause,
                latency_ms = ms(started),
                "webhook"
            );
            measure(&topic, outcome, started);
            Outbound::ok(outcome)
        }
        Err(Failure(reason)) => {
            tracing::error!(
                topic,
                order_id,
                cause,
                outcome = "failed",
                reason,
                latency_ms = ms(started),
                "webhook"
            );
            measure(&topic, "failed", started);
            Outbound::error(
                503,
                "temporarily unable to process the webhook; it will be redelivered",
            )
        }
    }
}

/// Counts the delivery by topic and outcome, and records the handler's latency (EMF, flushed per
/// invocation by the Lambda wiring).
fn measure(topic: &str, outcome: &str, started: Instant) {
    orderbridge::metrics::count("Webhooks", &[("Topic", topic), ("Outcome", outcome)], 1);
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
async fn process(deps: &Deps, p: Prepared) -> Result<&'static str, Failure> {
    let key = p.webhook.dedupe_key().to_owned();
    if let (true, Some(order)) = (p.webhook.topic.carries_order(), &p.order) {
        match orderbridge::sync::plan_genstore_webhook(
            &*deps.store,
            order.clone(),
            &key,
            deps.dedupe_ttl,
        )
        .await?
        {
            WebhookPlan::Duplicate => return Ok("duplicate"),
            WebhookPlan::Ready { applied, writes } => {
                enqueue(deps, &applied.jobs).await?;
                if deps.store.write_batch(&writes).await? {
                    return Ok(applied.outcome.as_str());
                }
                tracing::info!("the order changed between read and write; applying it again");
            }
            WebhookPlan::Slow => {}
        }
    }
    if deps.store.seen(&key).await? {
        return Ok("duplicate");
    }
    let mut marker = None;
    let (outcome, jobs) = match (&p.webhook.topic, p.order) {
        (t, Some(order)) if t.carries_order() => {
            let applied = orderbridge::sync::apply_genstore_order(&*deps.store, order).await?;
            marker = applied.queued_marker;
            (applied.outcome.as_str(), applied.jobs)
        }
        (Topic::RefundsCreate, _) => match &p.webhook.body {
            WebhookBody::Refund(r) => refund_event(deps, r).await?,
            _ => ("ignored", Vec::new()),
        },
        (topic, _) if matches!(p.webhook.body, WebhookBody::Compliance(_)) => {
            let WebhookBody::Compliance(c) = &p.webhook.body else {
                return Ok("ignored");
            };
            ("queued", vec![compliance_job(topic, &key, c)])
        }
        (other, _) => {
            tracing::warn!(
                topic = other.as_str(),
                "unhandled webhook topic; acknowledged and ignored"
            );
            ("ignored", Vec::new())
        }
    };
    enqueue(deps, &jobs).await?;
    if let Some(m) = &marker {
        orderbridge::sync::mark_queued(&*deps.store, m).await;
    }
    deps.store.claim_once(&key, deps.dedupe_ttl).await?;
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
    Err(Failure(format!("could not enqueue {}", reasons.join("; "))))
}

/// `refunds/create`: record the refund on the Genstore order; push it to a linked channel.
async fn refund_event(
    deps: &Deps,
    refund: &gw::Refund,
) -> Result<(&'static str, Vec<SyncJob>), Failure> {
    let order_id = refund.order_id.clone().unwrap_or_default();
    let key = OrderKey::new(Channel::Genstore, order_id.as_str());
    let Some(stored) = deps.store.get(&key).await? else {
        // The order has not arrived yet: the refund waits for it and joins it when it does (by webhook
        // or reconciliation), and its push is queued then.
        orderbridge::sync::park_refund(&*deps.store, refund).await?;
        return Ok(("parked", Vec::new()));
    };
    let domain = match genstore::mapping::to_refund(refund, &stored.order.totals.currency) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "refund could not be read; ignored");
            return Ok(("ignored", Vec::new()));
        }
    };
    let refund_id = domain.id.clone();
    let modified = orders::modify(&*deps.store, &key, |o| {
        if o.refunds
            .iter()
            .any(|r| r.id.is_some() && r.id == domain.id)
        {
            return false;
        }
        o.refunds.push(domain.clone());
        true
    })
    .await?;
    let outcome = match modified {
        Modified::Applied(_) => "recorded",
        _ => "unchanged",
    };
    let external = stored
        .order
        .source
        .as_ref()
        .and_then(|s| s.external_order());
    let jobs = match (external, refund_id) {
        (Some((channel, order_id)), Some(refund_id)) => vec![SyncJob::from(Job::PushRefund {
            channel,
            order_id,
            genstore_order_id: GenstoreOrderId::new(key.order_id.as_str()),
            refund_id: RefundId::new(refund_id.as_str()),
        })],
        _ => Vec::new(),
    };
    Ok((outcome, jobs))
}

/// A compliance request as its job: the webhook's dedupe key is the request's id.
fn compliance_job(topic: &Topic, request_id: &str, c: &gw::ComplianceRequest) -> SyncJob {
    let ids = |v: &[String]| -> Vec<GenstoreOrderId> {
        v.iter().map(|o| GenstoreOrderId::new(o.as_str())).collect()
    };
    let customer_id = c
        .customer
        .as_ref()
        .and_then(|x| x.id.clone())
        .map(Into::into);
    let request_id = request_id.to_owned();
    SyncJob::from(match topic {
        Topic::ShopRedact => Job::RedactPersonalData {
            request_id,
            scope: Scope {
                whole_shop: true,
                ..Scope::default()
            },
        },
        Topic::CustomersDataRequest => Job::RecordDataRequest {
            request_id,
            scope: Scope {
                customer_id,
                genstore_order_ids: ids(&c.orders_requested),
                whole_shop: false,
            },
        },
        _ => Job::RedactPersonalData {
            request_id,
            scope: Scope {
                customer_id,
                genstore_order_ids: ids(&c.orders_to_redact),
                whole_shop: false,
            },
        },
    })
}
