//! orderbridge's common crate: the domain model, the unified status, carriers, and each platform's wire
//! format with its mapping into the domain.
//!
//! Its outline is the architecture, layer by layer, from the inside out. A module uses its own layer
//! and the layers declared before it, never one after it; `tests/layers.rs` reads the `// layer:`
//! lines below and checks every `crate::` path of every module against them.
//!
//! - **Domain** — [`order`], [`status`], [`carrier`], [`money`], [`ids`], [`channel`], [`personal`],
//!   [`shop`], [`scrub`]: orderbridge's own terms, no platform and no I/O.
//! - **Runtime** — [`caller`], [`clock`], [`https`], [`telemetry`], [`metrics`], [`secrets`]: time, HTTPS,
//!   logs, metrics and secrets, which every layer above may use.
//! - **Contracts** — [`jobs`]: the queue's message format, in domain terms only.
//! - **Store** — [`store`]: the ports (traits) and their DynamoDB/SQS and embedded adapters.
//! - **Channels** — [`channels`]: one module per platform (`genstore`, `zonos`, `google`) with its wire
//!   types, its rules (what it is sent, as pure functions), its client and the conversion of its orders
//!   into [`order::ChannelOrder`]; platform quirks are absorbed there ([`lenient`], [`error`]).
//! - **Application** — [`sync`], [`idempotency`], [`compliance`], [`dead_letters`]: what the functions
//!   decide, and the operator's actions on what failed for good.
//! - **Wiring** — [`config`]: a deployment's settings and shops, turned into clients and stores.

// layer: Domain — orderbridge's own terms, no platform and no I/O.
pub mod carrier;
pub mod channel;
pub mod ids;
pub mod money;
pub mod named;
pub mod order;
pub mod personal;
pub mod scrub;
pub mod shop;
pub mod status;

// layer: Runtime — time, HTTPS, logs, metrics and secrets.
pub mod caller;
pub mod clock;
pub mod https;
pub mod metrics;
pub mod secrets;
pub mod telemetry;

// layer: Contracts — the jobs on the sync queue.
pub mod jobs;

// layer: Store — the ports (traits) and their adapters (DynamoDB and SQS, embedded SQLite).
pub mod store;

// layer: Channels — each platform's wire format, rules, client and mapping into the domain.
pub mod channels;
pub mod error;
pub mod lenient;

// layer: Application — what a new state means, which key a job is done under, what a compliance
// request erases, and the operator's actions on dead letters.
pub mod compliance;
pub mod dead_letters;
pub mod idempotency;
pub mod sync;

// layer: Wiring — configuration: a deployment's shops, clients and stores.
pub mod config;

pub use carrier::Carrier;
pub use channel::Channel;
pub use error::MappingError;
pub use order::ChannelOrder;
pub use personal::Personal;
pub use status::UnifiedStatus;
