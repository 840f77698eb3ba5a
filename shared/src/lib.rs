//! orderbridge's common crate: the domain model, the unified status, carriers, and each platform's wire
//! format with its mapping into the domain.
//!
//! Its outline is the architecture, layer by layer:
//!
//! - **Domain** — [`order`], [`status`], [`carrier`], [`money`], [`ids`], [`channel`], [`personal`].
//! - **Channels** — [`channels`]: one module per platform (`genstore`, `zonos`, `google`) with its wire
//!   types, its rules (what it is sent, as pure functions), its client and the conversion of its orders
//!   into [`order::ChannelOrder`]; platform quirks are absorbed there ([`lenient`], [`error`]).
//! - **Application** — [`sync`], [`idempotency`], [`jobs`], [`compliance`]: what the functions decide;
//!   [`dead_letters`]: the operator's actions on what failed for good.
//! - **Store** — [`store`]: the ports and their DynamoDB/SQS and embedded adapters.
//! - **Runtime** — [`caller`], [`config`], [`secrets`], [`clock`], [`https`], [`telemetry`], [`metrics`].

#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

// Domain: orderbridge's own terms, no platform and no I/O.
pub mod carrier;
pub mod channel;
pub mod ids;
pub mod money;
pub mod order;
pub mod personal;
pub mod shop;
pub mod status;

// Channels: each platform's wire format, rules, client and mapping into the domain.
pub mod channels;
pub mod error;
pub mod lenient;

// Application: the jobs, and the decisions shared by the functions (what a new state means, which key
// a job is done under, what a compliance request erases).
pub mod compliance;
pub mod dead_letters;
pub mod idempotency;
pub mod jobs;
pub mod sync;

// Store: the ports (traits) and their adapters (DynamoDB and SQS, embedded SQLite).
pub mod store;

// Runtime: configuration, secrets, time, HTTPS, logs and metrics.
pub mod caller;
pub mod clock;
pub mod config;
pub mod https;
pub mod metrics;
pub mod secrets;
pub mod telemetry;

pub use carrier::Carrier;
pub use channel::Channel;
pub use error::MappingError;
pub use order::ChannelOrder;
pub use personal::Personal;
pub use status::UnifiedStatus;
