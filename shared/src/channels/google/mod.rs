//! Google marketplace orders, Content API for Shopping Orders v2.1.
//!
//! Google retired the Orders service upstream (writes stopped 2023-10-31, reads 2024-10-30); orderbridge
//! implements the v2.1 contract exactly and exercises it against the sandbox.
//!
//! - [`wire`]: request and response bodies.
//! - [`mapping`]: Google orders into the domain.
//! - [`requests`]: what orderbridge sends Google, decided from the domain (pure).

pub mod auth;
pub mod client;
pub mod mapping;
pub mod requests;
pub mod wire;

pub use client::operation_id;
pub use mapping::to_channel_order;
pub use wire::Order;
