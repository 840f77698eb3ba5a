//! A Genstore order (list, detail or webhook body) and a refund, parsed and mapped into the domain.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::{self, wire};
use orderbridge::error::parse_body;

fuzz_target!(|data: &[u8]| {
    if let Ok(o) = parse_body::<wire::Order>(Channel::Genstore, "orderId", data) {
        let _ = genstore::to_channel_order(&o);
    }
    if let Ok(list) = parse_body::<wire::OrderList>(Channel::Genstore, "orderId", data) {
        for o in &list.orders {
            let _ = genstore::to_channel_order(o);
        }
    }
    if let Ok(r) = parse_body::<wire::Refund>(Channel::Genstore, "orderId", data) {
        if let Ok(usd) = "USD".parse() {
            let _ = genstore::mapping::to_refund(&r, &usd);
        }
    }
});
