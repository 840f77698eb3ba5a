//! A service-account key file and a sync-queue body: read, never quoted back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderbridge::channels::google::auth::ServiceAccountKey;
use orderbridge::jobs::SyncJob;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = ServiceAccountKey::from_json(&text) {
        // The message is one of a few fixed templates with a position: nothing of the key's text.
        assert!(
            orderbridge::channels::google::auth::is_key_error_template(&e.message),
            "{}",
            e.message
        );
    }
    if let Ok(job) = SyncJob::from_body(&text) {
        let again = SyncJob::from_body(&job.to_body());
        assert_eq!(again.ok(), Some(job), "a job reads back as itself");
    }
});
