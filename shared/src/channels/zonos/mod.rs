//! Zonos Classic (iGlobal), cross-border checkout: no order webhooks, JSON both ways, credentials in the
//! body, errors as HTTP 200 with `{"error": …}`.
//!
//! - [`wire`]: request and response bodies; [`wire::parse_reply`] for every answer.
//! - [`status`]: the order statuses and the vendor-update blocking rule.
//! - [`mapping`]: Zonos orders into the domain.
//! - [`requests`]: what Zonos is told of a Genstore order's fulfillments (pure).

pub mod client;
pub mod mapping;
pub mod requests;
pub mod status;
pub mod wire;

pub use mapping::{listing_of, to_channel_order};
pub use status::ZonosStatus;
pub use wire::{parse_reply, OrderSelector, Reply};
