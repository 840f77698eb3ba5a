//! Platform error text: the scrubber and the parser-message masker on any text, and each platform's
//! error body readers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderbridge::scrub::{parser_message, platform_code, platform_text, MAX_LEN};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let scrubbed = platform_text(&text);
    assert!(scrubbed.chars().count() <= MAX_LEN + 1);
    assert!(!scrubbed.contains('@'), "an email-like token survived");
    assert!(
        !scrubbed.chars().any(|c| c.is_ascii_digit()),
        "a digit survived"
    );
    let _ = parser_message(&text);
    let _ = platform_code(&text);
    let _ = serde_json::from_slice::<orderbridge::channels::genstore::wire::ErrorBody>(data)
        .map(|b| platform_text(&b.message()));
    let _ = orderbridge::channels::zonos::parse_reply::<serde_json::Value>(data);
});
