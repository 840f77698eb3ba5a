//! Platforms answering what no document allows: a `Retry-After` of 10^300 seconds, a token that lives
//! for ever, an answer claiming 2 GiB or never ending, page tokens that loop, amounts that overflow.
//! Each is a clear error for that call or that order, never a panic and never a hang.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::{GenstoreClient, GenstoreSettings, OrderQuery};
use orderbridge::channels::genstore::{self, wire as gw};
use orderbridge::channels::google::auth::{GoogleCredentials, ServiceAccountKey};
use orderbridge::channels::google::client::{GoogleClient, GoogleSettings, ListQuery};
use orderbridge::channels::google::{self as google, wire as ggw};
use orderbridge::channels::http::{parse_retry_after, ErrorKind, HttpSettings, RateLimit};
use orderbridge::secrets::Secret;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
mod support;
use support::{answer, every_answer, first_answers};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BASE: &str = "/content/v2.1/123";
const CAP: usize = 64 * 1024;

fn fast() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_secs(5),
        max_attempts: 3,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
        rate: RateLimit::new(1000, 1000),
        max_response_bytes: CAP,
        breaker_after: 0,
        breaker_open: Duration::from_secs(1),
    }
}

fn genstore(url: &str) -> GenstoreClient {
    let mut s = GenstoreSettings::new(url.to_owned(), Secret::new("t"));
    s.http = fast();
    GenstoreClient::new(s).unwrap()
}

fn google(url: &str, credentials: GoogleCredentials) -> GoogleClient {
    let mut s = GoogleSettings::new(format!("{url}/content/v2.1"), "123".to_owned(), credentials);
    s.http = fast();
    GoogleClient::new(s).unwrap()
}

/// A loopback server that answers every request with `head` and then, if `endless`, chunks of
/// bytes until the client hangs up (at most 256 MiB, so the test ends whatever happens).
async fn raw_server(head: &'static str, endless: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = s.read(&mut buf).await;
                if s.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
                for _ in 0..4096 {
                    let bytes = if endless {
                        chunk.as_bytes()
                    } else {
                        &chunk.as_bytes()[8..8 + 0x10000]
                    };
                    if s.write_all(bytes).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn retry_after_of_any_size_or_shape_reads_without_panic() {
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    let read = |v: &str| {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        parse_retry_after(&h)
    };
    let day = Some(Duration::from_secs(24 * 3600));
    assert_eq!(read("1e300"), day);
    assert_eq!(read("inf"), day);
    assert_eq!(read("18446744073709551616"), day);
    assert_eq!(read("Fri, 31 Dec 9999 23:59:59 GMT"), day);
    assert_eq!(read("2.5"), Some(Duration::from_millis(2500)));
    assert_eq!(read("-1"), None);
    assert_eq!(read("NaN"), None);
    assert_eq!(read("soon"), None);
}

#[tokio::test]
async fn a_huge_retry_after_ends_the_call_with_a_retryable_error_at_once() {
    let server = MockServer::start().await;
    let throttled = ResponseTemplate::new(429).insert_header("Retry-After", "1e300");
    every_answer(&server, "GET", throttled).await;
    let started = Instant::now();
    let err = genstore(&server.uri()).get_order("1").await.unwrap_err();
    assert!(err.retryable && err.status == Some(429), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it did not wait"
    );
}

#[tokio::test]
async fn a_token_that_claims_to_live_for_ever_is_used_and_refreshed_within_a_day() {
    let server = MockServer::start().await;
    let for_ever = json!({"access_token": "tok", "expires_in": u64::MAX, "token_type": "Bearer"});
    let token = Mock::given(method("POST")).and(path("/token"));
    answer(&server, token, 200, for_ever).await;
    let order = Mock::given(method("GET")).and(path(format!("{BASE}/orders/G-1")));
    answer(&server, order, 200, json!({"id": "G-1"})).await;
    let mut key: Value = serde_json::from_slice(
        &std::fs::read(format!(
            "{}/tests/fixtures/google/test-service-account.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    key["token_uri"] = json!(format!("{}/token", server.uri()));
    let key = ServiceAccountKey::from_json(&key.to_string()).unwrap();
    let c = google(&server.uri(), GoogleCredentials::ServiceAccount(key));
    assert!(c.get_order("G-1").await.unwrap().is_some());
    assert!(c.get_order("G-1").await.unwrap().is_some());
}

/// A 200 JSON answer's head announcing a body of 2 GiB.
const TWO_GIB_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2147483648\r\n\r\n";

/// A 200 JSON answer's head announcing a chunked body.
const CHUNKED_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";

#[tokio::test]
async fn an_answer_claiming_two_gibibytes_is_refused_unread() {
    let url = raw_server(TWO_GIB_HEAD, false).await;
    let err = genstore(&url).get_order("1").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Decode, "{err}");
    assert!(err.message.contains("larger than"), "{err}");
}

#[tokio::test]
async fn an_endless_answer_is_cut_off_at_the_cap() {
    let url = raw_server(CHUNKED_HEAD, true).await;
    let started = Instant::now();
    let err = google(&url, GoogleCredentials::AccessToken(Secret::new("t")))
        .get_order("G-1")
        .await
        .unwrap_err();
    assert!(err.message.contains("larger than"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn page_tokens_that_loop_end_the_listing_with_an_error() {
    let server = MockServer::start().await;
    // Genstore: page A links to B, B links back to A.
    for (from, to) in [("A", "B"), ("B", "A")] {
        let link = format!(
            "<{}/api/202412/orders?limit=250&pageToken={to}>; rel=\"next\"",
            server.uri()
        );
        Mock::given(method("GET"))
            .and(path("/api/202412/orders"))
            .and(wiremock::matchers::query_param("pageToken", from))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"orders": []}))
                    .insert_header("Link", link.as_str()),
            )
            .mount(&server)
            .await;
    }
    let first = format!(
        "<{}/api/202412/orders?limit=250&pageToken=A>; rel=\"next\"",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/api/202412/orders"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"orders": []}))
                .insert_header("Link", first.as_str()),
        )
        .with_priority(10)
        .mount(&server)
        .await;
    let err = genstore(&server.uri())
        .list_all_orders(&OrderQuery::default())
        .await
        .unwrap_err();
    assert!(err.message.contains("loops"), "{err}");

    // Google: the same token for ever.
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/orders")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"resources": [], "nextPageToken": "same"})),
        )
        .mount(&server)
        .await;
    let err = google(
        &server.uri(),
        GoogleCredentials::AccessToken(Secret::new("t")),
    )
    .list_all_orders(&ListQuery::default())
    .await
    .unwrap_err();
    assert!(err.message.contains("loops"), "{err}");
}

#[test]
fn amounts_that_overflow_are_an_error_for_that_order() {
    let huge = "79228162514264337593543950335"; // Decimal::MAX
    let refund: gw::Refund = serde_json::from_value(json!({
        "refundId": "r-1", "orderId": "1001",
        "transactions": [{"amount": huge, "currency": "USD"}, {"amount": huge, "currency": "USD"}]
    }))
    .unwrap();
    let err = genstore::mapping::to_refund(&refund, &"USD".parse().unwrap()).unwrap_err();
    assert_eq!(err.platform, Channel::Genstore);
    assert!(err.field.starts_with("transactions["), "{err}");
    assert_eq!(err.reason, orderbridge::money::OVERFLOW);

    let order: gw::Order = serde_json::from_value(json!({
        "orderId": "1001", "currency": "USD", "financialStatus": "paid", "totalPrice": "1.00",
        "createdAt": "2026-11-01T10:00:00Z", "updatedAt": "2026-11-01T10:00:00Z",
        "shippingLines": [{"price": huge}, {"price": huge}]
    }))
    .unwrap();
    let err = genstore::to_channel_order(&order).unwrap_err();
    assert!(err.field.contains("shippingLines"), "{err}");
    assert_eq!(err.reason, orderbridge::money::OVERFLOW);

    let price = |v: &str| json!({"value": v, "currency": "USD"});
    let g: ggw::Order = serde_json::from_value(json!({
        "id": "G-1", "status": "pendingShipment", "placedDate": "2026-11-01T10:00:00Z",
        "netPriceAmount": price(huge), "netTaxAmount": price(huge),
        "lineItems": [
            {"id": "l1", "quantityOrdered": 1, "price": price(huge), "product": {"price": price("1.00")}},
            {"id": "l2", "quantityOrdered": 1, "price": price(huge), "product": {"price": price("1.00")}}
        ]
    }))
    .unwrap();
    let err = google::to_channel_order(&g).unwrap_err();
    assert_eq!(err.platform, Channel::Google);
    assert_eq!(err.reason, orderbridge::money::OVERFLOW, "{err}");
}

#[tokio::test]
async fn a_platform_failing_every_call_opens_its_breaker_until_it_recovers() {
    let server = MockServer::start().await;
    first_answers(&server, "GET", 3, ResponseTemplate::new(503)).await;
    every_answer(&server, "GET", ResponseTemplate::new(404)).await;
    let mut s = GenstoreSettings::new(server.uri(), Secret::new("t"));
    s.http = HttpSettings {
        max_attempts: 1,
        breaker_after: 3,
        breaker_open: Duration::from_millis(300),
        ..fast()
    };
    let c = GenstoreClient::new(s).unwrap();
    for _ in 0..3 {
        let e = c.get_order("1").await.unwrap_err();
        assert_eq!(e.status, Some(503));
    }
    // Open: the call fails at once without reaching the platform.
    let e = c.get_order("1").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
    assert!(e.retryable);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    // After the open period the next call goes through, and a good answer closes the breaker.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(c.get_order("1").await.unwrap(), None);
    assert_eq!(c.get_order("1").await.unwrap(), None);
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
}
