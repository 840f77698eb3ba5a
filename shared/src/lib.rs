//! orderbridge's common crate: the domain model, the unified status, carriers, and each platform's wire
//! format with its mapping into the domain.
//!
//! - [`order`], [`status`], [`carrier`], [`money`], [`ids`], [`channel`], [`personal`]: the domain.
//! - [`channels`]: one module per platform (`genstore`, `zonos`, `google`) with its wire types and the
//!   conversion of its orders into [`order::ChannelOrder`]. Platform quirks are absorbed there.
//! - [`lenient`]: the scalar parsing those wire types share.

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

pub mod carrier;
pub mod channel;
pub mod channels;
pub mod clock;
pub mod compliance;
pub mod config;
pub mod error;
pub mod https;
pub mod idempotency;
pub mod ids;
pub mod jobs;
pub mod lenient;
pub mod metrics;
pub mod money;
pub mod order;
pub mod personal;
pub mod secrets;
pub mod status;
pub mod store;
pub mod sync;
pub mod telemetry;

pub use carrier::Carrier;
pub use channel::Channel;
pub use error::MappingError;
pub use order::ChannelOrder;
pub use personal::Personal;
pub use status::UnifiedStatus;
