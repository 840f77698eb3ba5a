//! Deliveries that can never be applied as they are: a signed order whose data does not map, or a write
//! the table refuses for good (too large, corrupt data, a refused request).
//!
//! Answering such a delivery with an error would have Genstore redeliver the same body until it gives up
//! and disables the subscription (8 failures), taking every later webhook with it. So the delivery is
//! answered 2xx (`{"outcome": "held"}`), and **held**: its topic, headers and body (as signed) are kept
//! in the table, counted (`Webhooks` with `Outcome=held`, which an alarm watches) and shown to the
//! operator (`orderbridge orders list --stuck`, `orderbridge dlq list`). Once the cause is fixed,
//! `orderbridge dlq replay` applies them ([`replay`]); one that still fails stays held, with its new
//! reason.
//!
//! Kept: one record per delivery (`held-webhook:{dedupe key}`) and a list of them (`held-webhooks`, the
//! newest [`MAX_LISTED`]). A body over [`MAX_KEPT_BODY`] is not kept (its size is): the order it names
//! is then brought back by the reconciliation poll, which reads it from Genstore.

use crate::{Deps, Failure};
use chrono::{DateTime, Utc};
use orderbridge::channels::genstore::webhook::{Webhook, WebhookHeaders};
use orderbridge::shop::ShopId;
use orderbridge::store::{
    update_json, update_record, CursorStore, RecordName, Storage, StoreError,
};
use serde::{Deserialize, Serialize};

/// The largest body kept (a table record holds 400 KB at most, with the rest of the record).
pub const MAX_KEPT_BODY: usize = 300 * 1024;
/// How many held deliveries the list names (the newest); an older one's record stays.
pub const MAX_LISTED: usize = 500;

/// What of a body is kept: all of it, up to [`MAX_KEPT_BODY`]. (Only a body that was parsed is held,
/// and the parse reads UTF-8 JSON.)
pub fn kept_body(body: &[u8]) -> Option<String> {
    std::str::from_utf8(body)
        .ok()
        .filter(|b| b.len() <= MAX_KEPT_BODY)
        .map(str::to_owned)
}

/// A delivery kept for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldWebhook {
    /// Its dedupe key (the webhook id, or a digest of topic and body).
    pub key: String,
    /// `X-Genstore-Topic`.
    pub topic: String,
    /// `X-Genstore-Shop-Domain`.
    pub shop_domain: String,
    /// `X-Genstore-Webhook-Id`.
    pub webhook_id: Option<String>,
    /// `X-Genstore-Triggered-At`, as sent.
    pub triggered_at: Option<String>,
    /// The order it is about, when it names one.
    pub order_id: Option<String>,
    /// Why it could not be applied (never a customer's value: mapping and store errors name fields).
    pub reason: String,
    /// When it was first held.
    pub held_at: DateTime<Utc>,
    /// The body as signed; none in the list, and none when it was too large to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body's size.
    pub body_bytes: usize,
}

impl HeldWebhook {
    /// A delivery to hold for `reason`.
    pub fn of(
        webhook: &Webhook,
        triggered_at: Option<&str>,
        body: &[u8],
        order_id: Option<String>,
        reason: String,
        now: DateTime<Utc>,
    ) -> HeldWebhook {
        HeldWebhook {
            key: webhook.dedupe_key().to_owned(),
            topic: webhook.topic.as_str().to_owned(),
            shop_domain: webhook.shop_domain.clone(),
            webhook_id: webhook.webhook_id.clone(),
            triggered_at: triggered_at.map(str::to_owned),
            order_id,
            reason,
            held_at: now,
            body: kept_body(body),
            body_bytes: body.len(),
        }
    }

    /// The delivery again, as it was verified.
    pub fn webhook(&self) -> Result<(Webhook, &str), String> {
        let body = self.body.as_deref().ok_or_else(|| {
            format!(
                "its body ({} bytes) was not kept: too large, or erased by a redaction",
                self.body_bytes
            )
        })?;
        let headers = WebhookHeaders {
            topic: Some(&self.topic),
            shop_domain: Some(&self.shop_domain),
            webhook_id: self.webhook_id.as_deref(),
            triggered_at: self.triggered_at.as_deref(),
        };
        Webhook::parse(headers, body.as_bytes())
            .map(|w| (w, body))
            .map_err(|e| e.to_string())
    }
}

/// Holds a delivery: its record, then its entry in the list. An error when it could not be kept: the
/// delivery is then answered 503 and Genstore redelivers it.
pub async fn hold(store: &dyn CursorStore, held: &HeldWebhook) -> Result<(), StoreError> {
    let text = serde_json::to_string(held).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    update_record(
        store,
        &RecordName::HeldWebhook(&held.key).to_string(),
        3,
        |_| Ok(Some(text.clone())),
    )
    .await?;
    let entry = HeldWebhook {
        body: None,
        ..held.clone()
    };
    update_json(
        store,
        &RecordName::HeldWebhooks.to_string(),
        5,
        |list: &mut Vec<HeldWebhook>| {
            list.retain(|h| h.key != entry.key);
            list.push(entry.clone());
            let over = list.len().saturating_sub(MAX_LISTED);
            list.drain(..over);
            true
        },
    )
    .await?;
    Ok(())
}

/// The held deliveries, oldest first (without their bodies).
pub async fn list(store: &dyn CursorStore) -> Result<Vec<HeldWebhook>, StoreError> {
    Ok(store
        .read(&RecordName::HeldWebhooks.to_string())
        .await?
        .and_then(|c| serde_json::from_str(&c.value).ok())
        .unwrap_or_default())
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Replayed {
    /// Held deliveries now applied (and no longer held).
    pub applied: usize,
    /// Still held: they failed again (their reason updated), or their body was not kept.
    pub still_held: usize,
}

/// Applies every held delivery again, as webhook-ingest would have: the ones that now go through are
/// released; the ones that fail again stay held with their new reason. A passing failure (the table
/// unavailable) stops the replay with an error; run it again.
pub async fn replay(deps: &Deps) -> Result<Replayed, String> {
    let mut done = Replayed::default();
    for shop in &deps.shops {
        let of_shop = replay_shop(&deps.in_shop(&shop.id), &shop.id).await?;
        done.applied = done.applied.saturating_add(of_shop.applied);
        done.still_held = done.still_held.saturating_add(of_shop.still_held);
    }
    Ok(done)
}

/// [`replay`] of one shop's held deliveries (`deps` in that shop).
async fn replay_shop(deps: &Deps, shop: &ShopId) -> Result<Replayed, String> {
    let mut done = Replayed::default();
    for entry in list(&*deps.store).await.map_err(|e| e.to_string())? {
        let name = RecordName::HeldWebhook(&entry.key).to_string();
        let Some(record) = deps.store.read(&name).await.map_err(|e| e.to_string())? else {
            release(&*deps.store, &entry.key, None).await?;
            continue;
        };
        let held: HeldWebhook =
            serde_json::from_str(&record.value).map_err(|e| format!("{name}: {e}"))?;
        let outcome = match held.webhook() {
            Ok((webhook, _)) => crate::apply_verified(deps, shop, webhook).await,
            Err(why) => Err(Failure::Permanent(why)),
        };
        match outcome {
            Ok(result) => {
                tracing::info!(key = %held.key, topic = %held.topic, outcome = result.as_str(), "held webhook applied");
                release(&*deps.store, &held.key, Some(&record.value)).await?;
                done.applied = done.applied.saturating_add(1);
            }
            Err(Failure::Permanent(reason)) => {
                hold_again(deps, &held, reason).await?;
                done.still_held = done.still_held.saturating_add(1);
            }
            Err(Failure::IdReused) => {
                let reason = "its webhook id was used since by another delivery".to_owned();
                hold_again(deps, &held, reason).await?;
                done.still_held = done.still_held.saturating_add(1);
            }
            Err(Failure::Retry(reason)) => return Err(reason),
        }
    }
    Ok(done)
}

/// Keeps a held delivery held, with the reason its replay failed.
async fn hold_again(deps: &Deps, held: &HeldWebhook, reason: String) -> Result<(), String> {
    hold(
        &*deps.store,
        &HeldWebhook {
            reason,
            ..held.clone()
        },
    )
    .await
    .map_err(|e| e.to_string())
}

/// Forgets a held delivery: its list entry, and its record if it still holds `record`.
async fn release(store: &dyn Storage, key: &str, record: Option<&str>) -> Result<(), String> {
    update_json(
        store,
        &RecordName::HeldWebhooks.to_string(),
        5,
        |list: &mut Vec<HeldWebhook>| {
            let before = list.len();
            list.retain(|h| h.key != key);
            list.len() != before
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    if let Some(value) = record {
        store
            .remove(&RecordName::HeldWebhook(key).to_string(), value)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
