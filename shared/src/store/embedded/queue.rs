//! The sync queue and its dead-letter queue on SQLite, with SQS's semantics.

use super::{sql, Db};
use crate::clock::Clock;
use crate::jobs::SyncJob;
use crate::store::{
    FailedSend, ReceivedMessage, SendReport, StoreError, SyncQueue, SQS_BATCH_LIMIT,
};
use async_trait::async_trait;
use chrono::Duration;
use rusqlite::{params, TransactionBehavior};
use std::sync::Arc;

/// The largest message body, as on SQS (256 KiB).
pub const MAX_MESSAGE_BYTES: usize = crate::store::provision::QUEUE.max_message_bytes as usize;

/// Where a queue's messages go after too many receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The dead-letter queue's name.
    pub queue: String,
    /// A message is moved there when it would be received more often than this.
    pub max_receives: u32,
}

/// A queue in the SQLite database, with SQS's semantics.
#[derive(Clone)]
pub struct EmbeddedQueue {
    db: Db,
    name: String,
    dead_letter: Option<DeadLetter>,
    clock: Arc<dyn Clock>,
}

impl EmbeddedQueue {
    /// The queue `name` in `db`; with `dead_letter`, messages received too often move there.
    pub fn new(
        db: Db,
        name: impl Into<String>,
        dead_letter: Option<DeadLetter>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        EmbeddedQueue {
            db,
            name: name.into(),
            dead_letter,
            clock,
        }
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    async fn insert(&self, bodies: Vec<String>) -> Result<usize, StoreError> {
        let now = self.clock.now().timestamp_millis();
        let queue = self.name.clone();
        self.db
            .run(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
                for body in &bodies {
                    tx.execute(
                        "INSERT INTO messages (queue, message_id, body, receive_count, visible_at_ms, sent_at_ms)
                         VALUES (?1, ?2, ?3, 0, ?4, ?4)",
                        params![queue, uuid::Uuid::new_v4().to_string(), body, now],
                    )
                    .map_err(sql)?;
                }
                tx.commit().map_err(sql)?;
                Ok(bodies.len())
            })
            .await
    }
}

#[async_trait]
impl SyncQueue for EmbeddedQueue {
    async fn send(&self, jobs: &[SyncJob]) -> Result<SendReport, StoreError> {
        let requests = jobs.len().div_ceil(SQS_BATCH_LIMIT);
        let mut failed = Vec::new();
        let mut accepted = Vec::with_capacity(jobs.len());
        for job in jobs {
            let body = job.to_body();
            if body.len() > MAX_MESSAGE_BYTES {
                failed.push(FailedSend {
                    job: job.clone(),
                    reason: format!(
                        "message of {} bytes is over the {MAX_MESSAGE_BYTES}-byte limit",
                        body.len()
                    ),
                });
            } else {
                accepted.push((job, body));
            }
        }
        let (ok_jobs, ok_bodies): (Vec<&SyncJob>, Vec<String>) = accepted.into_iter().unzip();
        match self.insert(ok_bodies).await {
            Ok(sent) => Ok(SendReport {
                sent,
                requests,
                failed,
            }),
            Err(e) if e.retryable() => {
                failed.extend(ok_jobs.into_iter().map(|j| FailedSend {
                    job: j.clone(),
                    reason: e.to_string(),
                }));
                Ok(SendReport {
                    sent: 0,
                    requests,
                    failed,
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, StoreError> {
        let now = self.clock.now();
        let now_ms = now.timestamp_millis();
        let hidden_until = crate::clock::shifted(now, visibility).timestamp_millis();
        let queue = self.name.clone();
        let dead_letter = self.dead_letter.clone();
        let max = i64::try_from(max.clamp(1, SQS_BATCH_LIMIT)).unwrap_or(10);
        self.db
            .run(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
                let mut out = Vec::new();
                loop {
                    let candidates: Vec<(i64, String, String, i64)> = {
                        let mut stmt = tx
                            .prepare(
                                "SELECT seq, message_id, body, receive_count FROM messages
                                 WHERE queue = ?1 AND visible_at_ms <= ?2 ORDER BY seq LIMIT ?3",
                            )
                            .map_err(sql)?;
                        let rows = stmt
                            .query_map(params![queue, now_ms, max.saturating_sub(i64::try_from(out.len()).unwrap_or(0))], |r| {
                                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                            })
                            .map_err(sql)?;
                        rows.collect::<Result<_, _>>().map_err(sql)?
                    };
                    if candidates.is_empty() {
                        break;
                    }
                    for (seq, message_id, body, count) in candidates {
                        let count = u32::try_from(count.saturating_add(1)).unwrap_or(u32::MAX);
                        match &dead_letter {
                            Some(dl) if count > dl.max_receives => {
                                tx.execute(
                                    "UPDATE messages SET queue = ?2, receive_count = 0, visible_at_ms = ?3, receipt = NULL
                                     WHERE seq = ?1",
                                    params![seq, dl.queue, now_ms],
                                )
                                .map_err(sql)?;
                            }
                            _ => {
                                let receipt = uuid::Uuid::new_v4().to_string();
                                tx.execute(
                                    "UPDATE messages SET receive_count = ?2, visible_at_ms = ?3, receipt = ?4 WHERE seq = ?1",
                                    params![seq, count, hidden_until, receipt],
                                )
                                .map_err(sql)?;
                                out.push(ReceivedMessage {
                                    message_id,
                                    receipt,
                                    receive_count: count,
                                    body,
                                });
                            }
                        }
                    }
                    if i64::try_from(out.len()).unwrap_or(max) >= max {
                        break;
                    }
                }
                tx.commit().map_err(sql)?;
                Ok(out)
            })
            .await
    }

    async fn delete(&self, receipt: &str) -> Result<(), StoreError> {
        let (queue, receipt) = (self.name.clone(), receipt.to_owned());
        let values = vec![queue.into(), receipt.into()];
        let statement = "DELETE FROM messages WHERE queue = ?1 AND receipt = ?2";
        self.db.execute(statement, values).await.map(|_| ())
    }

    async fn hide_for(&self, receipt: &str, for_: std::time::Duration) -> Result<(), StoreError> {
        let (queue, receipt) = (self.name.clone(), receipt.to_owned());
        let hidden = chrono::Duration::from_std(for_.min(std::time::Duration::from_secs(43_200)))
            .unwrap_or(chrono::Duration::hours(12));
        let until = crate::clock::shifted(self.clock.now(), hidden).timestamp_millis();
        let values = vec![queue.into(), receipt.into(), until.into()];
        let statement = "UPDATE messages SET visible_at_ms = ?3 WHERE queue = ?1 AND receipt = ?2";
        self.db.execute(statement, values).await.map(|_| ())
    }

    async fn send_raw(&self, bodies: &[String]) -> Result<usize, StoreError> {
        self.insert(bodies.to_vec()).await
    }

    async fn depth(&self) -> Result<u64, StoreError> {
        let queue = self.name.clone();
        self.db
            .run(move |c| {
                let n: i64 = c
                    .query_row(
                        "SELECT COUNT(*) FROM messages WHERE queue = ?1",
                        params![queue],
                        |r| r.get(0),
                    )
                    .map_err(sql)?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
            .await
    }
}
