//! What the clients' HTTP tests share.

// Each test crate that includes this uses only some of it.
#![allow(dead_code)]

use wiremock::{MockBuilder, MockServer, ResponseTemplate};

/// Has `server` answer the request `given` matches with `status` and the JSON `body`, and expects it
/// exactly once.
pub async fn answer_once(
    server: &MockServer,
    given: MockBuilder,
    status: u16,
    body: serde_json::Value,
) {
    given
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .expect(1)
        .mount(server)
        .await;
}

/// Has `server` answer every request `given` matches with `status` and the JSON `body`.
pub async fn answer(server: &MockServer, given: MockBuilder, status: u16, body: serde_json::Value) {
    given
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

/// Has `server` answer the first `times` `verb` requests with `response`, ahead of its other mocks.
pub async fn first_answers(
    server: &MockServer,
    verb: &str,
    times: u64,
    response: ResponseTemplate,
) {
    wiremock::Mock::given(wiremock::matchers::method(verb))
        .respond_with(response)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
}

/// Has `server` answer every `verb` request with `response`.
pub async fn every_answer(server: &MockServer, verb: &str, response: ResponseTemplate) {
    wiremock::Mock::given(wiremock::matchers::method(verb))
        .respond_with(response)
        .mount(server)
        .await;
}

/// Has `server` answer the first `verb` request with 429 (`Retry-After: 0`), ahead of its other mocks.
pub async fn throttle_first(server: &MockServer, verb: &str) {
    let throttled = ResponseTemplate::new(429).insert_header("Retry-After", "0");
    first_answers(server, verb, 1, throttled).await;
}
