//! The jobs on the sync queue: every outbound write orderbridge performs, as typed messages, and the
//! imports a poll parked.
//!
//! One job is one JSON body: `{"v": 1, "kind": "mirror_order", "channel": "zonos", "order_id": "999-1"}`.
//! `v` is the schema version; a consumer refuses a version it does not know instead of guessing.
//! Jobs name orders, not their content: the consumer reads the current state from the order table, so a
//! job delivered late or twice acts on the newest facts.

use crate::channel::Channel;
use crate::ids::{ChannelOrderId, CustomerId, GenstoreOrderId, RefundId};
use crate::shop::ShopId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A job on the sync queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncJob {
    /// Schema version of the body.
    pub v: u32,
    /// What caused it (the correlation id: `webhook:<id>`, `poll:<run>`), carried to its logs and its
    /// audit entries. Not part of what the job does: two jobs that differ only here are the same job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The shop whose order it is: the job works that shop's part of the table with that shop's
    /// Genstore and channels. Left out for the default shop, so a one-shop deployment's messages are
    /// what they always were.
    #[serde(default, skip_serializing_if = "ShopId::is_default")]
    pub shop: ShopId,
    /// What to do.
    #[serde(flatten)]
    pub job: Job,
}

/// What a job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Create the external order's mirror in Genstore (never twice) and store the link.
    MirrorOrder {
        /// The external channel.
        channel: Channel,
        /// Its order id.
        order_id: ChannelOrderId,
    },
    /// Write the Genstore order id back as the channel's merchant order id.
    WriteMerchantOrderId {
        /// The external channel.
        channel: Channel,
        /// Its order id.
        order_id: ChannelOrderId,
        /// The Genstore order it is mirrored as.
        genstore_order_id: GenstoreOrderId,
    },
    /// Push Genstore's shipments and tracking to the external channel.
    PushTrackingToChannel {
        /// The external channel.
        channel: Channel,
        /// Its order id.
        order_id: ChannelOrderId,
        /// The Genstore order whose fulfillments to push.
        genstore_order_id: GenstoreOrderId,
    },
    /// Push the external channel's tracking into Genstore as fulfillments.
    PushTrackingToGenstore {
        /// The external channel.
        channel: Channel,
        /// Its order id.
        order_id: ChannelOrderId,
        /// The Genstore order to fulfill.
        genstore_order_id: GenstoreOrderId,
    },
    /// Push a cancellation to the side that does not know yet.
    PushCancellation {
        /// The channel whose order was cancelled.
        from: Channel,
        /// The channel to tell.
        to: Channel,
        /// The external order of the linked pair.
        order_id: ChannelOrderId,
        /// The Genstore order of the linked pair.
        genstore_order_id: GenstoreOrderId,
    },
    /// Read an order again that a poll could not (its detail failed while the rest of the listing did
    /// not), save it, then do what its state calls for, usually mirroring it. The poller parks such an
    /// order here instead of letting it hold the channel's cursor: the queue retries it, and its DLQ
    /// keeps it if it keeps failing.
    ImportOrder {
        /// The channel.
        channel: Channel,
        /// Its order id.
        order_id: ChannelOrderId,
        /// Zonos: the order's `orderNumbers` entry, which fills in what `orderDetail` leaves out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        listing: Option<Listing>,
    },
    /// Make the Genstore mirror held or released as its channel's order now is (a fraud review, a
    /// hold, and their release): see [`crate::channels::genstore::mapping::held`].
    SyncHold {
        /// The external channel.
        channel: Channel,
        /// Its order id.
        order_id: ChannelOrderId,
        /// The Genstore mirror.
        genstore_order_id: GenstoreOrderId,
    },
    /// Bring what the external channel did to an order's money and goods since it was mirrored — its
    /// own refunds, returns asked for and received — to the Genstore mirror (payment state, tags, note,
    /// and one trail entry each): see [`crate::channels::genstore::mapping::mirror_update`].
    RecordReversals {
        /// The external channel.
        channel: Channel,
        /// Its order id.
        order_id: ChannelOrderId,
        /// The Genstore mirror.
        genstore_order_id: GenstoreOrderId,
    },
    /// Push a Genstore refund to the external channel.
    PushRefund {
        /// The external channel.
        channel: Channel,
        /// Its order id.
        order_id: ChannelOrderId,
        /// The Genstore order refunded.
        genstore_order_id: GenstoreOrderId,
        /// The Genstore refund.
        refund_id: RefundId,
    },
    /// Erase the personal data a compliance request (`customers/redact`, `shop/redact`) names,
    /// everywhere orderbridge keeps it ([`crate::compliance::redact`]).
    RedactPersonalData {
        /// The request's id (its webhook's), for the trail and the idempotency record.
        request_id: String,
        /// Whose data.
        #[serde(flatten)]
        scope: Scope,
    },
    /// Record a customer's data request (`customers/data_request`) on their orders' trails; the data
    /// itself is produced by `orderbridge customer-data`.
    RecordDataRequest {
        /// The request's id (its webhook's).
        request_id: String,
        /// Whose data.
        #[serde(flatten)]
        scope: Scope,
    },
}

/// Whose data a compliance request names (its erasure: [`crate::compliance`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// The Genstore customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// Genstore orders named by the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub genstore_order_ids: Vec<GenstoreOrderId>,
    /// `shop/redact`: every order of the shop.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub whole_shop: bool,
    /// When the request first arrived: it reaches only orders placed by then (an order placed since is
    /// not the request's, however late the job runs or is replayed), and its trail entries carry this
    /// time, so a retried job writes each entry once. None: an operator's request, now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrived_at: Option<DateTime<Utc>>,
}

/// What a channel's listing said of an order that its detail may leave out: Zonos' `orderNumbers`
/// entry, carried by [`Job::ImportOrder`]. The queue's format, owned here: its names are pinned (a
/// test checks the JSON), so a change to the Zonos wire types does not change what is on the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The order's id.
    pub id: String,
    /// A test order.
    #[serde(rename = "testOrder", default)]
    pub test_order: bool,
    /// When it was placed, as the channel wrote it.
    pub timestamp: String,
    /// The status the listing showed, with the merchant order id and when it last changed.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ListedStatus>,
}

/// The status part of a [`Listing`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedStatus {
    /// The merchant order id the listing showed (null until set).
    #[serde(rename = "merchantOrderId")]
    pub merchant_order_id: Option<String>,
    /// The status, verbatim.
    #[serde(rename = "orderStatus")]
    pub status: String,
    /// When it last changed, epoch milliseconds.
    #[serde(rename = "orderStatusDate")]
    pub changed_at_ms: i64,
    /// The same as the channel's text.
    #[serde(rename = "orderStatusDateString")]
    pub changed_at_text: String,
}

impl Job {
    /// The order the job is about, as `channel:order-id` (what `orderbridge orders show` takes): the
    /// external order of a linked pair.
    pub fn order(&self) -> String {
        match self {
            Job::MirrorOrder { channel, order_id }
            | Job::WriteMerchantOrderId {
                channel, order_id, ..
            }
            | Job::PushTrackingToChannel {
                channel, order_id, ..
            }
            | Job::PushTrackingToGenstore {
                channel, order_id, ..
            }
            | Job::PushRefund {
                channel, order_id, ..
            }
            | Job::SyncHold {
                channel, order_id, ..
            }
            | Job::RecordReversals {
                channel, order_id, ..
            }
            | Job::ImportOrder {
                channel, order_id, ..
            } => format!("{channel}:{order_id}"),
            Job::PushCancellation {
                from, to, order_id, ..
            } => {
                let external = if *from == Channel::Genstore { to } else { from };
                format!("{external}:{order_id}")
            }
            Job::RedactPersonalData { request_id, .. }
            | Job::RecordDataRequest { request_id, .. } => format!("compliance:{request_id}"),
        }
    }

    /// The job's kind, as in its body.
    pub fn kind(&self) -> &'static str {
        match self {
            Job::MirrorOrder { .. } => "mirror_order",
            Job::WriteMerchantOrderId { .. } => "write_merchant_order_id",
            Job::PushTrackingToChannel { .. } => "push_tracking_to_channel",
            Job::PushTrackingToGenstore { .. } => "push_tracking_to_genstore",
            Job::PushCancellation { .. } => "push_cancellation",
            Job::PushRefund { .. } => "push_refund",
            Job::SyncHold { .. } => "sync_hold",
            Job::RecordReversals { .. } => "record_reversals",
            Job::ImportOrder { .. } => "import_order",
            Job::RedactPersonalData { .. } => "redact_personal_data",
            Job::RecordDataRequest { .. } => "record_data_request",
        }
    }
}

impl From<Job> for SyncJob {
    fn from(job: Job) -> Self {
        SyncJob {
            v: SCHEMA_VERSION,
            cause: None,
            shop: ShopId::default_shop(),
            job,
        }
    }
}

/// A queue body that is not a job this build can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Not JSON, or not a known job's shape.
    #[error("not a sync job: {0}")]
    Malformed(String),
    /// A schema version this build does not know.
    #[error("sync job schema version {0} is not supported (this build reads {SCHEMA_VERSION})")]
    UnsupportedVersion(u32),
}

impl SyncJob {
    /// Stamps jobs without a cause with the cause of the work in hand
    /// ([`crate::telemetry::current_cause`]).
    pub fn stamp(jobs: &[SyncJob]) -> Vec<SyncJob> {
        let cause = crate::telemetry::current_cause();
        jobs.iter()
            .cloned()
            .map(|mut j| {
                if j.cause.is_none() {
                    j.cause.clone_from(&cause);
                }
                j
            })
            .collect()
    }

    /// The job for `shop`'s order.
    pub fn in_shop(mut self, shop: &ShopId) -> SyncJob {
        self.shop = shop.clone();
        self
    }

    /// The job without its cause: what it does, for identity (idempotency, waiting lists).
    pub fn without_cause(&self) -> SyncJob {
        SyncJob {
            cause: None,
            ..self.clone()
        }
    }

    /// The message body.
    pub fn to_body(&self) -> String {
        // A job holds only strings and enums: serialising it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a message body.
    pub fn from_body(body: &str) -> Result<SyncJob, JobError> {
        #[derive(Deserialize)]
        struct Version {
            v: Option<u32>,
        }
        let malformed = |e: serde_json::Error| {
            JobError::Malformed(crate::scrub::parser_message(&e.to_string()))
        };
        let version: Version = serde_json::from_str(body).map_err(malformed)?;
        match version.v {
            Some(SCHEMA_VERSION) => {}
            Some(other) => return Err(JobError::UnsupportedVersion(other)),
            None => return Err(JobError::Malformed("missing schema version `v`".into())),
        }
        serde_json::from_str(body).map_err(malformed)
    }
}

impl fmt::Display for SyncJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.job.kind())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_one_versioned_json_body() {
        let job = SyncJob::from(Job::MirrorOrder {
            channel: Channel::Zonos,
            order_id: "999-1".into(),
        });
        let body = job.to_body();
        assert_eq!(
            body,
            r#"{"v":1,"kind":"mirror_order","channel":"zonos","order_id":"999-1"}"#
        );
        assert_eq!(SyncJob::from_body(&body).unwrap(), job);
    }

    /// Every kind's body, as queued today: a message sent by this build is read by the next one, and
    /// a rename in a platform's wire types (the Zonos listing) must not change it.
    #[test]
    fn the_bodies_on_the_queue_are_pinned() {
        let listed = Listing {
            id: "999-1".into(),
            test_order: false,
            timestamp: "2026-01-01 00:00:00.0".into(),
            status: Some(ListedStatus {
                merchant_order_id: None,
                status: "processing".into(),
                changed_at_ms: 1_767_225_600_000,
                changed_at_text: "2026-01-01 00:00:00.0".into(),
            }),
        };
        let pinned = [
            (
                Job::ImportOrder {
                    channel: Channel::Zonos,
                    order_id: "999-1".into(),
                    listing: Some(listed),
                },
                r#"{"v":1,"kind":"import_order","channel":"zonos","order_id":"999-1","listing":{"id":"999-1","testOrder":false,"timestamp":"2026-01-01 00:00:00.0","merchantOrderId":null,"orderStatus":"processing","orderStatusDate":1767225600000,"orderStatusDateString":"2026-01-01 00:00:00.0"}}"#,
            ),
            (
                Job::ImportOrder {
                    channel: Channel::Google,
                    order_id: "G-1".into(),
                    listing: None,
                },
                r#"{"v":1,"kind":"import_order","channel":"google","order_id":"G-1"}"#,
            ),
            (
                Job::PushCancellation {
                    from: Channel::Genstore,
                    to: Channel::Zonos,
                    order_id: "999-1".into(),
                    genstore_order_id: "1001".into(),
                },
                r#"{"v":1,"kind":"push_cancellation","from":"genstore","to":"zonos","order_id":"999-1","genstore_order_id":"1001"}"#,
            ),
            (
                Job::PushRefund {
                    channel: Channel::Google,
                    order_id: "G-1".into(),
                    genstore_order_id: "1001".into(),
                    refund_id: "r1".into(),
                },
                r#"{"v":1,"kind":"push_refund","channel":"google","order_id":"G-1","genstore_order_id":"1001","refund_id":"r1"}"#,
            ),
            (
                Job::RedactPersonalData {
                    request_id: "w1".into(),
                    scope: Scope {
                        customer_id: Some("c1".into()),
                        genstore_order_ids: vec!["1001".into()],
                        whole_shop: false,
                        arrived_at: None,
                    },
                },
                r#"{"v":1,"kind":"redact_personal_data","request_id":"w1","customer_id":"c1","genstore_order_ids":["1001"]}"#,
            ),
        ];
        for (job, body) in pinned {
            let job = SyncJob::from(job);
            assert_eq!(job.to_body(), body);
            assert_eq!(SyncJob::from_body(body).unwrap(), job);
        }
    }

    #[test]
    fn a_shops_job_names_its_shop_and_the_default_shops_does_not() {
        let job = SyncJob::from(Job::MirrorOrder {
            channel: Channel::Zonos,
            order_id: "999-1".into(),
        });
        let eu = job.clone().in_shop(&"eu".parse().unwrap());
        let body = eu.to_body();
        assert_eq!(
            body,
            r#"{"v":1,"shop":"eu","kind":"mirror_order","channel":"zonos","order_id":"999-1"}"#
        );
        assert_eq!(SyncJob::from_body(&body).unwrap(), eu);
        assert!(!job.to_body().contains("shop"), "a one-shop body as before");
        assert!(SyncJob::from_body(
            r#"{"v":1,"shop":"E/U","kind":"mirror_order","channel":"zonos","order_id":"1"}"#
        )
        .is_err());
    }

    #[test]
    fn a_job_names_its_external_order() {
        let cancel = |from, to| Job::PushCancellation {
            from,
            to,
            order_id: "999-1".into(),
            genstore_order_id: "1001".into(),
        };
        assert_eq!(
            cancel(Channel::Genstore, Channel::Zonos).order(),
            "zonos:999-1"
        );
        assert_eq!(
            cancel(Channel::Google, Channel::Genstore).order(),
            "google:999-1"
        );
        let import = Job::ImportOrder {
            channel: Channel::Genstore,
            order_id: "1002".into(),
            listing: None,
        };
        assert_eq!(import.order(), "genstore:1002");
    }

    #[test]
    fn unknown_versions_and_shapes_are_refused() {
        assert_eq!(
            SyncJob::from_body(r#"{"v":2,"kind":"mirror_order"}"#),
            Err(JobError::UnsupportedVersion(2))
        );
        assert!(matches!(
            SyncJob::from_body(r#"{"kind":"mirror_order"}"#),
            Err(JobError::Malformed(_))
        ));
        assert!(matches!(
            SyncJob::from_body(r#"{"v":1,"kind":"launch_rockets"}"#),
            Err(JobError::Malformed(_))
        ));
        assert!(matches!(
            SyncJob::from_body("not json"),
            Err(JobError::Malformed(_))
        ));
    }
}
