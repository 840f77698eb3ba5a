//! What a run reports: a summary per channel, how the last run on each ended and how far the poller is
//! behind it (kept in the cursor table for `orderbridge status`).

use crate::Deps;
use chrono::{DateTime, Utc};
use orderbridge::channel::Channel;
use orderbridge::store::RecordName;
use serde::{Deserialize, Serialize};

/// One channel's part of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSummary {
    /// The shop, when the deployment serves several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop: Option<String>,
    /// The channel.
    pub channel: String,
    /// Orders looked at.
    pub seen: usize,
    /// Orders imported.
    pub new: usize,
    /// Known orders whose state changed.
    pub changed: usize,
    /// Known orders already up to date.
    pub unchanged: usize,
    /// Test orders skipped.
    pub skipped: usize,
    /// Orders that failed (left for the next run).
    pub failed: usize,
    /// Orders that kept failing, handed to the sync queue as import jobs (retried there, then
    /// dead-lettered) so the cursor could move past them.
    pub parked: usize,
    /// Genstore orders the webhooks had missed.
    pub missed: usize,
    /// Open Genstore mirrors read again in rotation (see [`Settings::genstore_recheck`]).
    pub rechecked: usize,
    /// Jobs queued.
    pub jobs: usize,
    /// The cursor before the run.
    pub cursor_before: Option<String>,
    /// The cursor after the run.
    pub cursor_after: Option<String>,
    /// The run stopped early to respect the deadline.
    pub stopped_at_deadline: bool,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// Seconds since a run last made progress on the channel (0: this one did); none before the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behind_secs: Option<u64>,
    /// The channel failed and has made no progress for longer than [`Settings::stall_after`]: someone
    /// must look. Only this fails the invocation.
    #[serde(default)]
    pub stalled: bool,
}

impl ChannelSummary {
    pub(crate) fn new(channel: &str) -> Self {
        ChannelSummary {
            channel: channel.into(),
            ..ChannelSummary::default()
        }
    }

    /// True when the channel's run ended without an error or a failed order.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.failed == 0
    }
}

/// A whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// One entry per enabled channel.
    pub channels: Vec<ChannelSummary>,
}

impl RunSummary {
    /// The entry of a channel.
    pub fn channel(&self, name: &str) -> Option<&ChannelSummary> {
        self.channels.iter().find(|c| c.channel == name)
    }

    /// True when every channel ended cleanly.
    pub fn ok(&self) -> bool {
        self.channels.iter().all(ChannelSummary::ok)
    }

    /// The channels that failed and made no progress for longer than [`Settings::stall_after`]. A run
    /// fails (and the alarm on failed runs fires) only for these: a transient fault the next run gets
    /// past is counted in the summary and the metrics, and neither retries the run nor pages anyone.
    pub fn stalled(&self) -> Vec<&ChannelSummary> {
        self.channels.iter().filter(|c| c.stalled).collect()
    }
}

/// Keeps how the run ended on a channel: when, its counts, its error and whether the channel is stalled.
pub(crate) async fn record_last_run(deps: &Deps, c: &ChannelSummary) {
    let name = RecordName::LastRun(&c.channel).to_string();
    let value = serde_json::json!({
        "at": Utc::now(), "new": c.new, "changed": c.changed, "failed": c.failed, "parked": c.parked,
        "missed": c.missed, "stopped_at_deadline": c.stopped_at_deadline, "error": c.error,
        "stalled": c.stalled,
    })
    .to_string();
    let before = match deps.store.read(&name).await {
        Ok(v) => v.map(|c| c.value),
        Err(e) => {
            tracing::warn!(channel = c.channel, error = %e, "could not read the last run's record");
            return;
        }
    };
    if let Err(e) = deps.store.advance(&name, before.as_deref(), &value).await {
        tracing::warn!(channel = c.channel, error = %e, "could not record how the run ended");
    }
}

/// True when the run moved the channel on: it completed, or moved its cursor, or brought orders in.
pub(crate) fn progressed(c: &ChannelSummary) -> bool {
    (c.error.is_none() && !c.stopped_at_deadline)
        || c.cursor_after != c.cursor_before
        || c.new > 0
        || c.changed > 0
        || c.missed > 0
}

/// How far the poller is behind a channel, in seconds: 0 when this run made progress on it, else the
/// time since a run last did (unknown before the first). Records this run's progress.
pub(crate) async fn lag_behind(deps: &Deps, c: &ChannelSummary) -> Option<u64> {
    let name = RecordName::PollCompleted(&c.channel).to_string();
    let now = Utc::now();
    let before = match deps.store.read(&name).await {
        Ok(v) => v.map(|c| c.value),
        Err(e) => {
            tracing::warn!(channel = c.channel, error = %e, "could not read when the channel last completed");
            return None;
        }
    };
    if progressed(c) {
        let stamp = now.to_rfc3339();
        if let Err(e) = deps.store.advance(&name, before.as_deref(), &stamp).await {
            tracing::warn!(channel = c.channel, error = %e, "could not record the channel's progress");
        }
        return Some(0);
    }
    let last = DateTime::parse_from_rfc3339(before.as_deref()?).ok()?;
    let secs = now
        .signed_duration_since(last.with_timezone(&Utc))
        .num_seconds()
        .max(0);
    u64::try_from(secs).ok()
}

/// A channel's run begins: its summary, with the channel's poll cursor read and set as where the run
/// starts and (until it moves) ends. `Err`: the summary saying the cursor could not be read.
pub(crate) async fn begin(
    deps: &Deps,
    channel: Channel,
) -> Result<(ChannelSummary, Option<String>), ChannelSummary> {
    let mut s = ChannelSummary::new(channel.as_str());
    match deps
        .store
        .read(&RecordName::PollCursor(channel).to_string())
        .await
    {
        Ok(c) => {
            let cursor = c.map(|c| c.value);
            s.cursor_before = cursor.clone();
            s.cursor_after = cursor.clone();
            Ok((s, cursor))
        }
        Err(e) => {
            s.error = Some(format!("cursor: {e}"));
            Err(s)
        }
    }
}
