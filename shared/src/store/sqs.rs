//! The sync queue on SQS (`aws-sdk-sqs`): `SendMessageBatch` in batches of ten, failed entries retried,
//! what still fails reported to the caller (never dropped). Dead-lettering after N receives is the
//! queue's redrive policy (see [`super::provision`]).

use super::{FailedSend, ReceivedMessage, SendReport, StoreError, SyncQueue, SQS_BATCH_LIMIT};
use crate::jobs::SyncJob;
use async_trait::async_trait;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;
use chrono::Duration;

/// How many times a batch entry is tried before it is reported as failed.
const SEND_ATTEMPTS: u32 = 3;

/// A queue on SQS, addressed by URL.
#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    /// The queue at `url`.
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
        }
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends bodies in batches; returns (requests made, bodies that failed with the reason).
    async fn send_bodies(
        &self,
        bodies: &[String],
    ) -> Result<(usize, Vec<(usize, String)>), StoreError> {
        let mut requests: usize = 0;
        let mut failed = Vec::new();
        for (chunk_no, chunk) in bodies.chunks(SQS_BATCH_LIMIT).enumerate() {
            let base = chunk_no.saturating_mul(SQS_BATCH_LIMIT);
            let mut pending: Vec<usize> = (0..chunk.len()).collect();
            let mut last_reason: std::collections::HashMap<usize, String> =
                std::collections::HashMap::new();
            let reason_of = |reasons: &std::collections::HashMap<usize, String>, i: usize| {
                reasons.get(&i).cloned().unwrap_or_default()
            };
            for attempt in 1..=SEND_ATTEMPTS {
                if pending.is_empty() {
                    break;
                }
                if attempt > 1 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 * u64::from(attempt)))
                        .await;
                }
                let entries = pending
                    .iter()
                    .filter_map(|i| chunk.get(*i).map(|body| (i, body)))
                    .map(|(i, body)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message_body(body)
                            .build()
                            .map_err(|e| StoreError::Refused(e.to_string()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                requests = requests.saturating_add(1);
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.url)
                    .set_entries(Some(entries))
                    .send()
                    .await;
                match out {
                    Ok(out) => {
                        let mut retry = Vec::new();
                        for f in out.failed() {
                            let Ok(i) = f.id().parse::<usize>() else {
                                continue;
                            };
                            if i >= chunk.len() {
                                continue;
                            }
                            let reason =
                                format!("{}: {}", f.code(), f.message().unwrap_or_default());
                            last_reason.insert(i, reason.clone());
                            if f.sender_fault() {
                                failed.push((base.saturating_add(i), reason));
                            } else {
                                retry.push(i);
                            }
                        }
                        pending = retry;
                    }
                    Err(e) => {
                        let err = classify("SendMessageBatch", e);
                        for i in &pending {
                            last_reason.insert(*i, err.to_string());
                        }
                        if !err.retryable() {
                            // This batch was refused whole; the others still go, and the caller learns
                            // exactly which jobs did not.
                            break;
                        }
                    }
                }
            }
            failed.extend(
                pending
                    .into_iter()
                    .map(|i| (base.saturating_add(i), reason_of(&last_reason, i))),
            );
        }
        failed.sort_by_key(|(i, _)| *i);
        Ok((requests, failed))
    }
}

fn classify<E, R>(op: &str, e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match &e {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown");
            let text = format!("{op}: {code}: {}", se.err().message().unwrap_or_default());
            if matches!(
                code,
                "RequestThrottled" | "ThrottlingException" | "InternalError" | "ServiceUnavailable"
            ) {
                StoreError::Unavailable(text)
            } else {
                StoreError::Refused(text)
            }
        }
        _ => StoreError::Unavailable(format!(
            "{op}: {}",
            aws_sdk_sqs::error::DisplayErrorContext(&e)
        )),
    }
}

#[async_trait]
impl SyncQueue for SqsQueue {
    async fn send(&self, jobs: &[SyncJob]) -> Result<SendReport, StoreError> {
        let bodies: Vec<String> = jobs.iter().map(SyncJob::to_body).collect();
        let (requests, failed) = self.send_bodies(&bodies).await?;
        Ok(SendReport {
            sent: jobs.len().saturating_sub(failed.len()),
            requests,
            failed: failed
                .into_iter()
                .filter_map(|(i, reason)| {
                    jobs.get(i).map(|job| FailedSend {
                        job: job.clone(),
                        reason,
                    })
                })
                .collect(),
        })
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, StoreError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(i32::try_from(max.clamp(1, SQS_BATCH_LIMIT)).unwrap_or(10))
            .visibility_timeout(i32::try_from(visibility.num_seconds().max(0)).unwrap_or(30))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(|e| classify("ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                Some(ReceivedMessage {
                    message_id: m.message_id()?.to_owned(),
                    receipt: m.receipt_handle()?.to_owned(),
                    receive_count: m
                        .attributes()
                        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1),
                    body: m.body().unwrap_or_default().to_owned(),
                })
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> Result<(), StoreError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| classify("DeleteMessage", e))?;
        Ok(())
    }

    async fn hide_for(&self, receipt: &str, for_: std::time::Duration) -> Result<(), StoreError> {
        // SQS takes whole seconds, 0 to 43,200 (12 hours).
        let secs = i32::try_from(for_.as_secs().min(43_200)).unwrap_or(43_200);
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(|e| classify("ChangeMessageVisibility", e))?;
        Ok(())
    }

    async fn send_raw(&self, bodies: &[String]) -> Result<usize, StoreError> {
        let (_, failed) = self.send_bodies(bodies).await?;
        Ok(bodies.len().saturating_sub(failed.len()))
    }

    async fn depth(&self) -> Result<u64, StoreError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| classify("GetQueueAttributes", e))?;
        Ok(out
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
}
