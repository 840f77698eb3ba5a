//! Genstore, the merchant's store and system of record (`/api/202412`).
//!
//! - [`wire`]: the JSON as it travels, quirks absorbed.
//! - [`webhook`]: the webhook envelope and topics.
//! - [`link`]: the `Link` pagination header.
//! - [`mapping`]: Genstore orders into the domain.
//! - [`mirror`]: an external order into the mirror's body, and its hold (pure).
//! - [`fulfillments`]: channel packages into fulfillment bodies (pure).

pub mod client;
pub mod fulfillments;
pub mod link;
pub mod mapping;
pub mod mirror;
pub mod signature;
pub mod webhook;
pub mod wire;

pub use mapping::{mirror_request, to_channel_order};
pub use wire::Order;

use crate::channel::Channel;
use crate::error::{parse_body, MappingError};

/// Parses `GET /orders/{orderId}`'s body, `{"order": …}`.
pub fn parse_order_envelope(body: &[u8]) -> Result<Order, MappingError> {
    parse_body::<wire::OrderEnvelope>(Channel::Genstore, "orderId", body).map(|e| e.order)
}

/// Parses an order object on its own (an `orders/*` webhook body).
pub fn parse_order(body: &[u8]) -> Result<Order, MappingError> {
    parse_body(Channel::Genstore, "orderId", body)
}
