//! Genstore's webhook sender: on every order change it signs the topic's payload (HMAC-SHA256, base64)
//! and POSTs it to every registered address, one delivery after another.
//!
//! Switches ([`WebhookMode`]) make delivery as unreliable as the real thing: deliver twice (the same
//! webhook id), delay, hold deliveries and send them newest first on flush (reorder), or drop them
//! (suppress: the events reconciliation must find).

use crate::State0;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;

// The webhook headers `platforms.md` §1 names, written here rather than taken from the client.
const TOPIC_HEADER: &str = "X-Genstore-Topic";
const HMAC_HEADER: &str = "X-Genstore-Hmac-Sha256";
const SHOP_DOMAIN_HEADER: &str = "X-Genstore-Shop-Domain";
const WEBHOOK_ID_HEADER: &str = "X-Genstore-Webhook-Id";
const TRIGGERED_AT_HEADER: &str = "X-Genstore-Triggered-At";

/// The body's HMAC-SHA256 under the subscription's secret, base64 (`platforms.md` §1): the sandbox's own
/// signing, so a client that verifies some other way fails against it.
pub fn sign(body: &[u8], secret: &str) -> String {
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes keys of any length.
        return String::new();
    };
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A registered webhook address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Where deliveries go.
    pub address: String,
    /// The secret they are signed with.
    pub secret: String,
}

/// How deliveries misbehave.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookMode {
    /// Deliver every event twice, with the same webhook id.
    pub duplicate: bool,
    /// Wait this long before each delivery.
    pub delay_ms: u64,
    /// Hold deliveries until flushed, then send them newest first.
    pub reorder: bool,
    /// Drop deliveries (they never arrive).
    pub suppress: bool,
}

/// One event to deliver.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Topic.
    pub topic: String,
    /// The exact body signed and sent.
    pub body: Vec<u8>,
    /// The event's id (the same on every redelivery).
    pub webhook_id: String,
    /// When the event happened.
    pub triggered_at: String,
}

#[derive(Default)]
struct Hooks {
    subscriptions: Vec<Subscription>,
    mode: WebhookMode,
    held: Vec<Delivery>,
    suppressed: u64,
}

/// Sends Genstore's webhooks.
#[derive(Clone)]
pub struct WebhookSender {
    hooks: Arc<Mutex<Hooks>>,
    state: Arc<Mutex<State0>>,
    shop: String,
    queue: Arc<OnceLock<mpsc::UnboundedSender<Delivery>>>,
}

impl WebhookSender {
    pub(crate) fn new(state: Arc<Mutex<State0>>, shop: String) -> Self {
        WebhookSender {
            hooks: Arc::new(Mutex::new(Hooks::default())),
            state,
            shop,
            queue: Arc::new(OnceLock::new()),
        }
    }

    fn hooks(&self) -> std::sync::MutexGuard<'_, Hooks> {
        self.hooks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers an address.
    pub fn subscribe(&self, s: Subscription) {
        let mut h = self.hooks();
        if !h.subscriptions.contains(&s) {
            h.subscriptions.push(s);
        }
    }

    /// Sets how deliveries misbehave.
    pub fn set_mode(&self, mode: WebhookMode) {
        self.hooks().mode = mode;
    }

    /// Deliveries dropped by `suppress`.
    pub fn suppressed(&self) -> u64 {
        self.hooks().suppressed
    }

    /// Queues the webhooks of a change. Call with the state lock released.
    pub fn emit_all(&self, events: Vec<(&'static str, Value)>) {
        for (topic, body) in events {
            let delivery = Delivery {
                topic: topic.to_owned(),
                body: serde_json::to_vec(&body).unwrap_or_default(),
                webhook_id: uuid::Uuid::new_v4().to_string(),
                triggered_at: chrono::Utc::now()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            };
            let mut h = self.hooks();
            if h.subscriptions.is_empty() {
                continue;
            }
            if h.mode.suppress {
                h.suppressed += 1;
                continue;
            }
            if h.mode.reorder {
                h.held.push(delivery);
                continue;
            }
            drop(h);
            self.enqueue(delivery);
        }
    }

    /// Sends held deliveries, newest first.
    pub fn flush(&self) -> usize {
        let held: Vec<Delivery> = std::mem::take(&mut self.hooks().held);
        let n = held.len();
        for d in held.into_iter().rev() {
            self.enqueue(d);
        }
        n
    }

    fn enqueue(&self, d: Delivery) {
        let tx = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(self.clone().worker(rx));
            tx
        });
        let _ = tx.send(d);
    }

    async fn worker(self, mut rx: mpsc::UnboundedReceiver<Delivery>) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        while let Some(d) = rx.recv().await {
            let (subs, mode) = {
                let h = self.hooks();
                (h.subscriptions.clone(), h.mode.clone())
            };
            let times = if mode.duplicate { 2 } else { 1 };
            for _ in 0..times {
                if mode.delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(mode.delay_ms)).await;
                }
                for s in &subs {
                    if !self.deliver(&client, s, &d).await {
                        // Genstore redelivers a failed webhook, backing off, and gives up after 8
                        // failures in a row.
                        let (this, client, s, d) =
                            (self.clone(), client.clone(), s.clone(), d.clone());
                        tokio::spawn(async move {
                            for attempt in 2..=MAX_ATTEMPTS {
                                tokio::time::sleep(RETRY_STEP * attempt).await;
                                if this.deliver(&client, &s, &d).await {
                                    return;
                                }
                            }
                        });
                    }
                }
            }
        }
    }

    /// One delivery attempt to one subscription; true on a 2xx.
    async fn deliver(&self, client: &reqwest::Client, s: &Subscription, d: &Delivery) -> bool {
        let sig = sign(&d.body, &s.secret);
        let result = client
            .post(&s.address)
            .header("content-type", "application/json")
            .header(TOPIC_HEADER, &d.topic)
            .header(HMAC_HEADER, sig)
            .header(SHOP_DOMAIN_HEADER, &self.shop)
            .header(WEBHOOK_ID_HEADER, &d.webhook_id)
            .header(TRIGGERED_AT_HEADER, &d.triggered_at)
            .body(d.body.clone())
            .send()
            .await;
        let ok = result.map(|r| r.status().is_success()).unwrap_or(false);
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.counters.webhooks_sent += 1;
        if ok {
            st.counters.webhooks_ok += 1;
        }
        ok
    }
}

/// Attempts per delivery, the first included (Genstore gives up after 8 failures).
const MAX_ATTEMPTS: u32 = 8;
/// The wait before a redelivery grows by this much each attempt (time-scaled: Genstore waits minutes).
const RETRY_STEP: Duration = Duration::from_millis(250);
