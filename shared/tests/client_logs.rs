//! The platform clients' log lines: one per attempt, naming platform, call, status, latency and attempt,
//! never the token. In its own test binary: tracing caches each log callsite's interest process-wide, and
//! a sibling test reaching the callsite first without a subscriber would silence it here.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use orderbridge::channels::genstore::client::{GenstoreClient, GenstoreSettings};
use orderbridge::secrets::Secret;
use serde_json::json;
use std::sync::{Arc, Mutex};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};
mod support;
use support::throttle_first;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn log_lines_name_the_call_and_never_the_token() {
    const TOKEN: &str = "shpat_test_token_123";
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let server = MockServer::start().await;
    throttle_first(&server, "GET").await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"order": {"orderId": "1001"}})),
        )
        .mount(&server)
        .await;
    let client =
        GenstoreClient::new(GenstoreSettings::new(server.uri(), Secret::new(TOKEN))).unwrap();
    client.get_order("1001").await.unwrap();

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "one line per attempt: {logs}");
    for (line, (attempt, status)) in lines.iter().zip([(1, 429), (2, 200)]) {
        let f = &line["fields"];
        assert_eq!(f["platform"], "genstore");
        assert_eq!(f["call"], "getOrder");
        assert_eq!(f["attempt"], attempt);
        assert_eq!(f["status"], status);
        assert!(f["latency_ms"].is_u64());
    }
    assert!(!logs.contains(TOKEN), "{logs}");
}
