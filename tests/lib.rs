//! End-to-end tests for orderbridge live in this package's test targets (`e2e.rs`, `dev.rs`); this
//! library is empty and exists only so Cargo accepts the package.
