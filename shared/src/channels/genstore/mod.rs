//! genstore
