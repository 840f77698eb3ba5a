//! Every record of the cursor store (and every lease) by what it keeps, named in one place. The names
//! are persisted: a name changed is a record lost (a cursor read as absent starts a poll over, a held
//! delivery is never replayed), so a test pins each one.

use crate::channel::Channel;
use std::fmt;

/// A cursor-store record or a lease, by what it keeps. Its [`fmt::Display`] is its stored name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordName<'a> {
    /// A channel's poll position: Zonos' last order id, Genstore's reconciliation position
    /// (`sinceId`); Google has none, it lists unacknowledged orders. Moved by order-poller, read by
    /// fulfillment-push (where a mirror search starts) and the CLI.
    PollCursor(Channel),
    /// How far the reconciliation's recheck of older Genstore orders got.
    GenstoreRecheck,
    /// Which order held a channel's poll cursor, and on how many runs (`"<order id> <runs>"`).
    CursorHeld(Channel),
    /// How the last poll run on a channel ended (for `orderbridge status`); the channel as the run's
    /// summary names it.
    LastRun(&'a str),
    /// When a poll run last made progress on a channel.
    PollCompleted(&'a str),
    /// The lease one poll run holds on a channel.
    PollLease(Channel),
    /// The lease a backfill holds on a channel (beside the live poll's).
    BackfillLease(Channel),
    /// Webhooks counted by outcome per ten-minute slot over the last hour, kept by the one-machine
    /// runner only: deployed, the counts are CloudWatch metrics and cost a webhook no table write.
    WebhookCounts,
    /// When a signed webhook last arrived (RFC 3339).
    LastWebhook,
    /// A platform's 429 answers counted by UTC hour (the hour before the current one kept), by its
    /// budget bucket.
    Throttled(&'a str),
    /// How far a shop's redaction got, by its request id.
    RedactionCheckpoint(&'a str),
    /// The list of deliveries webhook-ingest holds.
    HeldWebhooks,
    /// One held delivery, by its key.
    HeldWebhook(&'a str),
    /// Refunds that arrived before their Genstore order, by the Genstore order id.
    ParkedRefunds(&'a str),
    /// The jobs waiting for an order's status to move on.
    Waiting(Channel, &'a str),
    /// The lease a tracking push holds on an order, both ways.
    PushLease(Channel, &'a str),
    /// A mirror attempt's marker: where its search for the order in Genstore starts.
    MirrorAttempt(Channel, &'a str),
    /// Where a channel's package went in Genstore: order, then shipment.
    Package(Channel, &'a str, &'a str),
}

impl fmt::Display for RecordName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordName::PollCursor(channel) => write!(f, "{channel}"),
            RecordName::GenstoreRecheck => f.write_str("genstore-recheck"),
            RecordName::CursorHeld(channel) => write!(f, "{channel}:held"),
            RecordName::LastRun(channel) => write!(f, "poll-last:{channel}"),
            RecordName::PollCompleted(channel) => write!(f, "poll-completed:{channel}"),
            RecordName::PollLease(channel) => write!(f, "poll:{channel}"),
            RecordName::BackfillLease(channel) => write!(f, "poll:backfill-{channel}"),
            RecordName::WebhookCounts => f.write_str("webhooks"),
            RecordName::LastWebhook => f.write_str("webhook-last-arrival"),
            RecordName::Throttled(bucket) => write!(f, "throttled:{bucket}"),
            RecordName::RedactionCheckpoint(request) => write!(f, "redact-progress:{request}"),
            RecordName::HeldWebhooks => f.write_str("held-webhooks"),
            RecordName::HeldWebhook(key) => write!(f, "held-webhook:{key}"),
            RecordName::ParkedRefunds(order) => write!(f, "parked-refunds:{order}"),
            RecordName::Waiting(channel, order) => write!(f, "waiting:{channel}:{order}"),
            RecordName::PushLease(channel, order) => write!(f, "push:{channel}:{order}"),
            RecordName::MirrorAttempt(channel, order) => {
                write!(f, "mirror-attempt:{channel}:{order}")
            }
            RecordName::Package(channel, order, shipment) => {
                write!(f, "package:{channel}:{order}:{shipment}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_names_are_pinned() {
        use Channel::{Genstore, Google, Zonos};
        let pinned = [
            (RecordName::PollCursor(Zonos), "zonos"),
            (RecordName::PollCursor(Genstore), "genstore"),
            (RecordName::PollCursor(Google), "google"),
            (RecordName::GenstoreRecheck, "genstore-recheck"),
            (RecordName::CursorHeld(Zonos), "zonos:held"),
            (RecordName::LastRun("google"), "poll-last:google"),
            (RecordName::PollCompleted("zonos"), "poll-completed:zonos"),
            (RecordName::PollLease(Genstore), "poll:genstore"),
            (RecordName::BackfillLease(Zonos), "poll:backfill-zonos"),
            (RecordName::WebhookCounts, "webhooks"),
            (RecordName::LastWebhook, "webhook-last-arrival"),
            (
                RecordName::Throttled("genstore:shop"),
                "throttled:genstore:shop",
            ),
            (
                RecordName::RedactionCheckpoint("r-1"),
                "redact-progress:r-1",
            ),
            (RecordName::HeldWebhooks, "held-webhooks"),
            (RecordName::HeldWebhook("k-1"), "held-webhook:k-1"),
            (RecordName::ParkedRefunds("5001"), "parked-refunds:5001"),
            (RecordName::Waiting(Zonos, "999-1"), "waiting:zonos:999-1"),
            (RecordName::PushLease(Google, "G-1"), "push:google:G-1"),
            (
                RecordName::MirrorAttempt(Zonos, "999-1"),
                "mirror-attempt:zonos:999-1",
            ),
            (
                RecordName::Package(Google, "G-1", "s-1"),
                "package:google:G-1:s-1",
            ),
        ];
        for (name, stored) in pinned {
            assert_eq!(name.to_string(), stored, "{name:?}");
        }
    }
}
