//! Zonos answers: `orderDetail` (with and without its `orderNumbers` entry) and `orderNumbers`, each
//! through the 200-with-error reader, then mapped into the domain.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderbridge::channels::zonos::{self, parse_reply, wire, Reply};

fuzz_target!(|data: &[u8]| {
    if let Ok(Reply::Ok(d)) = parse_reply::<wire::OrderDetailResponse>(data) {
        let _ = zonos::to_channel_order(&d.order, None);
        let listing: Option<wire::OrderNumber> = serde_json::from_slice(data).ok();
        let _ = zonos::to_channel_order(&d.order, listing.as_ref());
    }
    if let Ok(Reply::Ok(list)) = parse_reply::<wire::OrderNumbersResponse>(data) {
        for n in &list.orders {
            let _ = n.placed_at();
            if let Some(st) = &n.status {
                let _ = zonos::ZonosStatus::parse(&st.order_status);
            }
        }
    }
});
