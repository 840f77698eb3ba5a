//! Why a channel's run (or a part of it) stopped: what the summary's `error` says, typed until then.

use orderbridge::channels::http::ClientError;
use orderbridge::error::MappingError;
use orderbridge::store::StoreError;

/// A poll's failure, by where it came from.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The order table or the queue.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The platform.
    #[error(transparent)]
    Platform(#[from] ClientError),
    /// An order that does not map into the domain.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// Jobs the queue did not take (the first one's reason).
    #[error("{failed} jobs could not be queued: {reason}")]
    Queue {
        /// How many.
        failed: usize,
        /// Why the first did not go.
        reason: String,
    },
    /// A position record (the poll cursor, a backfill's position) could not be read or written.
    #[error("{what}: {source}")]
    Position {
        /// Which (`cursor`, `backfill position`).
        what: &'static str,
        /// Why.
        source: StoreError,
    },
    /// The channel the work needs is not configured.
    #[error("{0} is not configured")]
    NotConfigured(orderbridge::channel::Channel),
    /// A position written by this run that cannot be encoded.
    #[error("{0}")]
    Encoding(String),
}
