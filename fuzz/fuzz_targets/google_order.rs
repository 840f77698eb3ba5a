//! A Google order and a page of orders, parsed and mapped into the domain.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderbridge::channel::Channel;
use orderbridge::channels::google::{self, wire};
use orderbridge::error::parse_body;

fuzz_target!(|data: &[u8]| {
    if let Ok(o) = parse_body::<wire::Order>(Channel::Google, "id", data) {
        let _ = google::to_channel_order(&o);
    }
    if let Ok(page) = serde_json::from_slice::<wire::OrdersListResponse>(data) {
        for o in &page.resources {
            let _ = google::to_channel_order(o);
        }
    }
});
