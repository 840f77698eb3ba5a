//! The handler's edge to API Gateway: `lambda_http` requests in, `lambda_http` responses out.

use crate::{Inbound, Outbound};
use lambda_http::{Body, Request, Response};

/// An API Gateway request as an [`Inbound`]. The body stays the raw bytes the signature covers.
pub fn inbound(req: Request) -> Inbound {
    let (parts, body) = req.into_parts();
    let headers = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = match body {
        Body::Empty => bytes::Bytes::new(),
        Body::Text(t) => bytes::Bytes::from(t),
        Body::Binary(b) => bytes::Bytes::from(b),
        _ => bytes::Bytes::new(),
    };
    Inbound {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        headers,
        body,
    }
}

/// An [`Outbound`] as an API Gateway response.
pub fn response(out: Outbound) -> Response<Body> {
    let mut resp = Response::new(Body::Text(out.body.to_string()));
    *resp.status_mut() = lambda_http::http::StatusCode::from_u16(out.status)
        .unwrap_or(lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        lambda_http::http::header::CONTENT_TYPE,
        lambda_http::http::HeaderValue::from_static("application/json"),
    );
    resp
}
