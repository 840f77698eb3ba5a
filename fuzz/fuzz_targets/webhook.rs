//! webhook-ingest's whole preparation (route, size, signature, headers, topic shape, body, mapping) on
//! any body under any topic, correctly signed so the parsers behind the signature are reached.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderbridge::channels::genstore::signature;
use orderbridge::secrets::Secret;
use webhook_ingest::{prepare, Inbound, DEFAULT_MAX_BODY};

const TOPICS: [&str; 12] = [
    "orders/create",
    "orders/paid",
    "orders/update",
    "orders/fulfilled",
    "orders/partiallyFulfilled",
    "orders/cancelled",
    "refunds/create",
    "customers/data_request",
    "customers/redact",
    "shop/redact",
    "products/update",
    "",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let secret = Secret::new("fuzz-secret");
    let topic = TOPICS[usize::from(selector) % TOPICS.len()];
    let shop = if selector & 0x80 == 0 {
        "fuzz.genmystore.com"
    } else {
        "other.genmystore.com"
    };
    let req = Inbound {
        method: "POST".into(),
        path: "/webhooks/genstore".into(),
        headers: vec![
            ("x-genstore-topic".into(), topic.into()),
            ("x-genstore-shop-domain".into(), shop.into()),
            ("x-genstore-webhook-id".into(), "wh-fuzz".into()),
            (
                "x-genstore-hmac-sha256".into(),
                signature::sign(body, &secret),
            ),
        ],
        body: bytes::Bytes::copy_from_slice(body),
    };
    let shops = webhook_ingest::ShopKeys::single(vec![secret], Some("fuzz.genmystore.com".into()));
    let _ = prepare(&req, &shops, DEFAULT_MAX_BODY);
});
