//! The function's edge to Lambda: an SQS event in as [`Record`]s, the failed message ids out as a
//! partial batch response (`ReportBatchItemFailures`), and the invocation's deadline.

use crate::Record;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

/// The event's messages. A message without a body is an empty body (it fails as malformed JSON and is
/// dead-lettered like any); a missing or unreadable `ApproximateReceiveCount` counts as a first receive.
pub fn records(event: SqsEvent) -> Vec<Record> {
    event
        .records
        .into_iter()
        .map(|r| Record {
            receive_count: r
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1),
            receipt: r.receipt_handle,
            message_id: r.message_id.unwrap_or_default(),
            body: r.body.unwrap_or_default(),
        })
        .collect()
}

/// The messages to be delivered again: every other message of the batch is deleted by Lambda.
pub fn response(failed: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

/// The invocation's deadline ([`lambda_runtime::Context::deadline`]) as an instant.
pub fn deadline(context: &lambda_runtime::Context) -> std::time::Instant {
    orderbridge::clock::instant_of(context.deadline())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sqs_event_becomes_records_with_their_receive_counts() {
        let event: SqsEvent = serde_json::from_value(serde_json::json!({"Records": [
            {"messageId": "m1", "receiptHandle": "r1", "body": "{}",
             "attributes": {"ApproximateReceiveCount": "3"}, "messageAttributes": {}},
            {"messageId": "m2", "attributes": {"ApproximateReceiveCount": "many"},
             "messageAttributes": {}}
        ]}))
        .unwrap();
        let records = records(event);
        assert_eq!(records.len(), 2);
        assert_eq!(
            (records[0].message_id.as_str(), records[0].body.as_str()),
            ("m1", "{}")
        );
        assert_eq!(records[0].receipt.as_deref(), Some("r1"));
        assert_eq!(records[0].receive_count, 3);
        // No body, no receipt, an unreadable count: an empty body received for the first time.
        assert_eq!(records[1].body, "");
        assert_eq!(records[1].receipt, None);
        assert_eq!(records[1].receive_count, 1);
    }

    #[test]
    fn the_failed_ids_are_the_batch_item_failures() {
        let out = serde_json::to_value(response(vec!["m2".into(), "m7".into()])).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"batchItemFailures": [
                {"itemIdentifier": "m2"}, {"itemIdentifier": "m7"}
            ]})
        );
        let none = serde_json::to_value(response(Vec::new())).unwrap();
        assert_eq!(none, serde_json::json!({"batchItemFailures": []}));
    }

    #[test]
    fn the_deadline_is_the_contexts() {
        let mut context = lambda_runtime::Context::default();
        let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap();
        context.deadline = now_ms + 20_000;
        let left = deadline(&context).duration_since(std::time::Instant::now());
        assert!(left.as_secs() >= 18 && left.as_secs() <= 20, "{left:?}");
    }
}
