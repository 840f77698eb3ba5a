//! zonos
