//! The sync-queue port: jobs sent in batches (each job's failure reported on its own), received,
//! hidden for their backoff and deleted.

use super::StoreError;
use crate::jobs::{JobError, SyncJob};
use async_trait::async_trait;
use chrono::Duration;

/// A job that could not be sent, kept so it is not lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedSend {
    /// The job.
    pub job: SyncJob,
    /// Why it failed.
    pub reason: String,
}

/// What a send did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Jobs sent.
    pub sent: usize,
    /// Batch requests made (SQS takes at most 10 messages a request).
    pub requests: usize,
    /// Jobs that could not be sent after retries.
    pub failed: Vec<FailedSend>,
}

impl SendReport {
    /// True when every job was sent.
    pub fn all_sent(&self) -> bool {
        self.failed.is_empty()
    }
}

/// A message taken from a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The message's id.
    pub message_id: String,
    /// The handle to delete it with.
    pub receipt: String,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
    /// The raw body.
    pub body: String,
}

impl ReceivedMessage {
    /// The body as a job.
    pub fn job(&self) -> Result<SyncJob, JobError> {
        SyncJob::from_body(&self.body)
    }
}

/// The most messages one SQS batch request carries.
pub const SQS_BATCH_LIMIT: usize = 10;

/// The sync queue (and, with another address, its dead-letter queue).
#[async_trait]
pub trait SyncQueue: Send + Sync {
    /// Sends jobs, in batches of at most ten; failed entries are retried, and what still fails is
    /// reported, never dropped.
    async fn send(&self, jobs: &[SyncJob]) -> Result<SendReport, StoreError>;
    /// Takes up to `max` messages, hiding them for `visibility`.
    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, StoreError>;
    /// Deletes a received message.
    async fn delete(&self, receipt: &str) -> Result<(), StoreError>;
    /// Hides a received message for `for_` from now (SQS `ChangeMessageVisibility`, at most 12 hours):
    /// how a job backs off before it is tried again.
    async fn hide_for(&self, receipt: &str, for_: std::time::Duration) -> Result<(), StoreError>;
    /// Makes a received message visible again at once (hidden for no time), for a reader that only
    /// looked.
    async fn unhide(&self, receipt: &str) -> Result<(), StoreError> {
        self.hide_for(receipt, std::time::Duration::ZERO).await
    }
    /// Sends raw bodies as they are (replaying dead letters), reporting how many were sent.
    async fn send_raw(&self, bodies: &[String]) -> Result<usize, StoreError>;
    /// How many messages wait (approximately, on SQS).
    async fn depth(&self) -> Result<u64, StoreError>;
}
