//! The platforms: each module holds its wire types and the mapping of its orders into the domain.

pub mod genstore;
pub mod google;
pub mod http;
pub mod zonos;
