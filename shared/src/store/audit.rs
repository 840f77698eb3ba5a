//! The audit trail port: what was done to an order on which platform, appended, never rewritten
//! (personal data in an entry is redacted on request).

use super::{OrderKey, StoreError};
use crate::channel::Channel;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an outbound write came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Applied now.
    Executed,
    /// Applied before (the platform said duplicate, or orderbridge found it done).
    Duplicate,
    /// Deliberately not done.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Failed.
    Failed {
        /// Why.
        reason: String,
        /// Whether it will be retried.
        retryable: bool,
    },
}

/// One entry of an order's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The operation's idempotency key / platform operation id.
    pub operation_id: String,
    /// The platform written to.
    pub target: Channel,
    /// What was done, e.g. `shipLineItems`.
    pub action: String,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// When.
    pub at: DateTime<Utc>,
    /// What caused it (the correlation id of the webhook or poll run behind the job).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// Each order's trail of outbound writes.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends an entry to an order's trail.
    async fn append(&self, key: &OrderKey, entry: &AuditEntry) -> Result<(), StoreError>;
    /// An order's trail, oldest first.
    async fn entries(&self, key: &OrderKey) -> Result<Vec<AuditEntry>, StoreError>;
    /// Rewrites an order's trail for a redaction request: every free-text reason becomes
    /// [`REDACTED`] (ids, actions, outcomes and times stay). Returns how many entries changed;
    /// a second call changes none.
    async fn redact(&self, key: &OrderKey) -> Result<usize, StoreError>;
}

/// What a redacted audit reason reads.
pub const REDACTED: &str = "[redacted]";

impl AuditEntry {
    /// The entry with its free text replaced by [`REDACTED`]; `None` when it has none left to redact.
    pub fn redacted(&self) -> Option<AuditEntry> {
        let outcome = match &self.outcome {
            AuditOutcome::Skipped { reason } if reason != REDACTED => AuditOutcome::Skipped {
                reason: REDACTED.to_owned(),
            },
            AuditOutcome::Failed { reason, retryable } if reason != REDACTED => {
                AuditOutcome::Failed {
                    reason: REDACTED.to_owned(),
                    retryable: *retryable,
                }
            }
            _ => return None,
        };
        Some(AuditEntry {
            outcome,
            ..self.clone()
        })
    }
}
