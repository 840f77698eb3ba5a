//! The cursor-store port and the small records kept in it: poll positions, leases, run reports,
//! webhook counts; one compare-and-set update for all of them ([`update_record`]).

use super::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// A stored cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Its value.
    pub value: String,
    /// When it last moved.
    pub updated_at: DateTime<Utc>,
}

/// The outcome of a lease request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// The caller holds the lease until then.
    Acquired {
        /// Expiry.
        until: DateTime<Utc>,
    },
    /// Someone else holds it.
    Held {
        /// Who.
        owner: String,
        /// Until when.
        until: DateTime<Utc>,
    },
}

/// Per-channel cursors and the leases that keep two poller runs off one channel.
#[async_trait]
pub trait CursorStore: Send + Sync {
    /// A cursor's value.
    async fn read(&self, name: &str) -> Result<Option<Cursor>, StoreError>;
    /// Moves a cursor to `new` only if it still holds `expected` (none: not yet set). False if it moved.
    async fn advance(
        &self,
        name: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<bool, StoreError>;
    /// Takes the lease `name` for `ttl`, unless another owner holds an unexpired one. The same owner
    /// may renew its own lease.
    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError>;
    /// Gives up a lease the owner holds (no effect otherwise).
    async fn release_lease(&self, name: &str, owner: &str) -> Result<(), StoreError>;
    /// Deletes a record only if it still holds `expected` (no effect otherwise): a record whose work
    /// is done goes, unless someone added to it meanwhile.
    async fn remove(&self, name: &str, expected: &str) -> Result<(), StoreError>;
}

/// Counts kept by time slot in one record: slot to key to count. Slots are fixed-width text (`2026112709`
/// and more digits), so text order is time order. Each count drops the slots before the window its
/// reader sums, so the record stays small and nothing is left behind.
type Slots = std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>;

/// Adds one to `key`'s count in `slot` of the record `name`, dropping the slots before `oldest`
/// (compare-and-set, retried).
pub async fn count_in_slot(
    store: &dyn CursorStore,
    name: &str,
    slot: &str,
    oldest: &str,
    key: &str,
) -> Result<(), StoreError> {
    update_json(store, name, 8, |slots: &mut Slots| {
        slots.retain(|s, _| s.as_str() >= oldest);
        let n = slots
            .entry(slot.to_owned())
            .or_default()
            .entry(key.to_owned())
            .or_insert(0);
        *n = n.saturating_add(1);
        true
    })
    .await
    .map(drop)
}

/// The counts by key of the record's slots from `oldest` to `newest`, summed.
pub async fn sum_slots(
    store: &dyn CursorStore,
    name: &str,
    oldest: &str,
    newest: &str,
) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
    let mut total = std::collections::BTreeMap::new();
    let Some(c) = store.read(name).await? else {
        return Ok(total);
    };
    let slots: Slots = serde_json::from_str(&c.value).unwrap_or_default();
    for (_, counts) in slots
        .into_iter()
        .filter(|(s, _)| s.as_str() >= oldest && s.as_str() <= newest)
    {
        for (k, v) in counts {
            let n = total.entry(k).or_insert(0u64);
            *n = n.saturating_add(v);
        }
    }
    Ok(total)
}

/// A ten-minute slot: `2026112709` and the tens of minutes.
fn webhook_slot(at: DateTime<Utc>) -> String {
    use chrono::Timelike;
    format!("{}{}", at.format("%Y%m%d%H"), at.minute() / 10)
}

/// The oldest slot of the hour before `at` (the current one and the six before it: the hour, to
/// within ten minutes).
fn oldest_slot(at: DateTime<Utc>) -> String {
    webhook_slot(crate::clock::shifted(at, Duration::minutes(-60)))
}

/// Counts one webhook's outcome in the slot of `at`, dropping slots older than an hour before `at`.
pub async fn note_webhook(
    store: &dyn CursorStore,
    outcome: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    count_in_slot(
        store,
        &super::RecordName::WebhookCounts.to_string(),
        &webhook_slot(at),
        &oldest_slot(at),
        outcome,
    )
    .await
}

/// Webhooks by outcome over the hour before `now` (to within ten minutes), from [`note_webhook`]'s
/// counts.
pub async fn webhooks_last_hour(
    store: &dyn CursorStore,
    now: DateTime<Utc>,
) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
    sum_slots(
        store,
        &super::RecordName::WebhookCounts.to_string(),
        &oldest_slot(now),
        &webhook_slot(now),
    )
    .await
}

/// How often one process records a webhook's arrival at most: a busy shop costs the table one write a
/// minute per instance, not one per webhook.
pub const ARRIVAL_EVERY_SECS: i64 = 60;

/// When this process last recorded a webhook's arrival ([`RecordName::LastWebhook`](super::RecordName)).
#[derive(Debug, Clone, Default)]
pub struct Arrivals(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl Arrivals {
    /// Records that a signed webhook arrived at `at`, unless this process did so less than
    /// [`ARRIVAL_EVERY_SECS`] ago. Best effort: a failure is logged, the webhook goes on.
    pub async fn note(&self, store: &dyn CursorStore, at: DateTime<Utc>) {
        use std::sync::atomic::Ordering;
        let now = at.timestamp();
        let last = self.0.load(Ordering::Relaxed);
        if now.saturating_sub(last) < ARRIVAL_EVERY_SECS
            || self
                .0
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let value = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let newer = |current: Option<&str>| {
            Ok(current
                .is_none_or(|c| c < value.as_str())
                .then(|| value.clone()))
        };
        if let Err(e) =
            update_record(store, &super::RecordName::LastWebhook.to_string(), 3, newer).await
        {
            tracing::warn!(error = %e, "could not record the webhook's arrival");
        }
    }
}

/// When a signed webhook last arrived, as [`Arrivals::note`] recorded it.
pub async fn last_webhook(store: &dyn CursorStore) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(store
        .read(&super::RecordName::LastWebhook.to_string())
        .await?
        .and_then(|c| DateTime::parse_from_rfc3339(&c.value).ok())
        .map(|t| t.with_timezone(&Utc)))
}

/// Changes a cursor-store record by compare-and-set: reads it, asks `change` for its new value from the
/// current one (`None`: leave it as it is), and writes that only if nobody changed the record meanwhile;
/// reads again and retries, `attempts` times in all. The value written, if any.
pub async fn update_record(
    store: &dyn CursorStore,
    name: &str,
    attempts: usize,
    change: impl Fn(Option<&str>) -> Result<Option<String>, StoreError>,
) -> Result<Option<String>, StoreError> {
    for _ in 0..attempts {
        let current = store.read(name).await?.map(|c| c.value);
        let Some(value) = change(current.as_deref())? else {
            return Ok(None);
        };
        if store.advance(name, current.as_deref(), &value).await? {
            return Ok(Some(value));
        }
    }
    Err(StoreError::Unavailable(format!("{name} kept changing")))
}

/// [`update_record`] for a record holding JSON: `change` edits the value read (the default when there is
/// none, or when it does not read) and returns false when there is nothing to write. The JSON written,
/// if any.
pub async fn update_json<T>(
    store: &dyn CursorStore,
    name: &str,
    attempts: usize,
    change: impl Fn(&mut T) -> bool,
) -> Result<Option<String>, StoreError>
where
    T: Default + Serialize + serde::de::DeserializeOwned,
{
    update_record(store, name, attempts, |current| {
        let mut value: T = current
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or_default();
        if !change(&mut value) {
            return Ok(None);
        }
        serde_json::to_string(&value)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    })
    .await
}
