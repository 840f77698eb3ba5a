//! Header values from platforms: Genstore's `Link`, any platform's `Retry-After`, and the webhook
//! signature header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderbridge::channels::genstore::{link, signature};
use orderbridge::channels::http::{parse_retry_after, RETRY_AFTER_CEILING};
use orderbridge::secrets::Secret;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = link::parse_link_header(&text);
    if let Ok(v) = reqwest::header::HeaderValue::from_bytes(data) {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, v);
        if let Some(wait) = parse_retry_after(&h) {
            assert!(wait <= RETRY_AFTER_CEILING);
        }
    }
    let _ = signature::verify(b"{}", Some(&text), &[Secret::new("s")]);
});
