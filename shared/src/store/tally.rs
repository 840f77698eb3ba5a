//! Counts the requests the AWS clients send, by kind: how the ingest bench and the cost tests measure
//! what one event costs (issue 17). Attach [`Tally::dynamodb`] / [`Tally::sqs`] as interceptors of the
//! clients' configs; nothing is counted on clients built without them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Requests seen, by operation name (`GetItem`, `SendMessageBatch`, …).
#[derive(Debug, Clone, Default)]
pub struct Tally {
    seen: Arc<Mutex<BTreeMap<String, u64>>>,
}

/// DynamoDB operations that only read.
const READS: &[&str] = &[
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "TransactGetItems",
];

impl Tally {
    /// A new, empty tally.
    pub fn new() -> Self {
        Tally::default()
    }

    /// A DynamoDB and an SQS client on `conf` whose every request this tally counts.
    pub fn clients(
        &self,
        conf: &aws_config::SdkConfig,
    ) -> (aws_sdk_dynamodb::Client, aws_sdk_sqs::Client) {
        let ddb = aws_sdk_dynamodb::config::Builder::from(conf).interceptor(self.interceptor());
        let sqs = aws_sdk_sqs::config::Builder::from(conf).interceptor(self.interceptor());
        (
            aws_sdk_dynamodb::Client::from_conf(ddb.build()),
            aws_sdk_sqs::Client::from_conf(sqs.build()),
        )
    }

    /// An interceptor for a DynamoDB or SQS client config (both SDKs share the Smithy runtime's
    /// `Intercept`).
    pub fn interceptor(&self) -> Interceptor {
        Interceptor(self.clone())
    }

    fn note(&self, target: Option<&str>) {
        // `X-Amz-Target: DynamoDB_20120810.GetItem` / `AmazonSQS.SendMessageBatch`.
        let op = target
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("unknown")
            .to_owned();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let n = seen.entry(op).or_insert(0);
        *n = n.saturating_add(1);
    }

    /// Requests per operation since the last [`Tally::reset`].
    pub fn by_operation(&self) -> BTreeMap<String, u64> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// DynamoDB requests that read.
    pub fn reads(&self) -> u64 {
        self.sum(|op| READS.contains(&op))
    }

    /// DynamoDB requests that write (anything that is not a read nor an SQS operation).
    pub fn writes(&self) -> u64 {
        self.sum(|op| !READS.contains(&op) && !op.contains("Message") && !op.contains("Queue"))
    }

    /// SQS requests.
    pub fn queue(&self) -> u64 {
        self.sum(|op| op.contains("Message") || op.contains("Queue"))
    }

    fn sum(&self, pick: impl Fn(&str) -> bool) -> u64 {
        self.by_operation()
            .iter()
            .filter(|(op, _)| pick(op))
            .fold(0, |a, (_, n)| a.saturating_add(*n))
    }

    /// Forgets what was counted.
    pub fn reset(&self) {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// [`Tally`]'s interceptor: notes each request's operation before it is sent.
#[derive(Debug)]
pub struct Interceptor(Tally);

impl aws_sdk_dynamodb::config::Intercept for Interceptor {
    fn name(&self) -> &'static str {
        "Tally"
    }

    fn read_before_transmit(
        &self,
        ctx: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.0.note(ctx.request().headers().get("x-amz-target"));
        Ok(())
    }
}
