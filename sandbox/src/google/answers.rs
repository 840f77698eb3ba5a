//! The simulated Google's edge, shared by its reads and writes: errors in Google's shape, the
//! merchant and bearer-token gate, and request and answer bodies held to the v2.1 reference's schema.

use crate::Sandbox;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// An error in Google's shape.
pub fn error(status: StatusCode, reason: &str, message: &str) -> Response {
    (
        status,
        Json(
            json!({"error": {"code": status.as_u16(), "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}]}}),
        ),
    )
        .into_response()
}

pub(crate) fn bad(message: impl AsRef<str>) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid", message.as_ref())
}

/// A request to a merchant's resources that passed [`gate`] (its bearer token and the `{merchant}` of
/// its path); Google's refusal otherwise.
pub(crate) struct Gated;

impl axum::extract::FromRequestParts<Sandbox> for Gated {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        sb: &Sandbox,
    ) -> Result<Self, Response> {
        use axum::extract::Path;
        use axum::response::IntoResponse;
        let Path(params) =
            Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, sb)
                .await
                .map_err(IntoResponse::into_response)?;
        let merchant = params
            .get("merchant")
            .map(String::as_str)
            .unwrap_or_default();
        gate(sb, &parts.headers, merchant).map(|()| Gated)
    }
}

/// Checks the merchant id and the bearer token.
fn gate(sb: &Sandbox, headers: &HeaderMap, merchant: &str) -> Result<(), Response> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let known = bearer == sb.config.google_token || sb.lock().google.tokens.contains(bearer);
    if bearer.is_empty() || !known {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "authError",
            "Invalid Credentials",
        ));
    }
    if merchant != sb.config.google_merchant_id {
        return Err(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "User cannot access account",
        ));
    }
    Ok(())
}

/// A JSON body whose keys the reference's schema `schema` has, if the call has one (Google's refusal
/// otherwise): every body is read on the reference's terms before anything in it is.
pub(crate) fn json_body(body: &Bytes, schema: Option<&str>) -> Result<Value, Response> {
    let v: Value = serde_json::from_slice(body).map_err(|_| bad("Invalid JSON payload"))?;
    match schema.and_then(|s| super::schema::unknown_field(&v, s)) {
        Some(refused) => Err(bad(refused)),
        None => Ok(v),
    }
}

/// An answer, checked against the reference's schema `schema` before it leaves, so a slip in the
/// sandbox's own names ([`super::model`]) is caught rather than taught to the client. A name the
/// reference does not have is the sandbox's fault: a 500 that says which, so the test that met it fails
/// there.
pub(crate) fn answer<T: serde::Serialize>(schema: &str, body: &T) -> Response {
    let value = match serde_json::to_value(body) {
        Ok(v) => v,
        Err(e) => return sandbox_fault(format!("answer not serialisable: {e}")),
    };
    match super::schema::unknown_field(&value, schema) {
        None => Json(value).into_response(),
        Some(why) => sandbox_fault(format!(
            "its {schema} answer does not match the v2.1 reference: {why}"
        )),
    }
}

pub(crate) fn sandbox_fault(message: String) -> Response {
    eprintln!("sandbox (google): {message}");
    error(StatusCode::INTERNAL_SERVER_ERROR, "sandboxFault", &message)
}
