//! A service-account key file and a sync-queue body: read, never quoted back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderbridge::channels::google::auth::ServiceAccountKey;
use orderbridge::jobs::SyncJob;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = ServiceAccountKey::from_json(&text) {
        // The key's text never comes back in the error (a long input cannot hide in a short message).
        if text.len() > 24 {
            assert!(!e.message.contains(text.as_ref()));
        }
    }
    if let Ok(job) = SyncJob::from_body(&text) {
        let again = SyncJob::from_body(&job.to_body());
        assert_eq!(again.ok(), Some(job), "a job reads back as itself");
    }
});
