//! The node's documented error body, `{"error": {"status", "message",
//! "field"?}}`, for every error the transport answers itself and for every
//! error response a router produces in another form (axum's plain-text
//! rejections: 400, 404, 405, 413, 415, 422).

use axum::body::Body;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::BodyExt as _;

/// The largest non-JSON error body read to turn it into a message (axum's
/// rejections are a line of text).
const MAX_TEXT_ERROR: usize = 1024;

/// The longest message kept from such a body.
const MAX_MESSAGE_CHARS: usize = 300;

/// A JSON error response: `{"error": {"status": N, "message": "...",
/// "field": "..."}}` (`field` only when given), `Content-Type:
/// application/json`.
pub fn json_error(status: StatusCode, message: &str, field: Option<&str>) -> Response<Body> {
    let mut detail = serde_json::Map::new();
    detail.insert("status".into(), status.as_u16().into());
    detail.insert("message".into(), message.into());
    if let Some(f) = field {
        detail.insert("field".into(), f.into());
    }
    let body = serde_json::json!({ "error": detail }).to_string();
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// [`json_error`] with `Connection: close`: for answers given before the
/// request's body was read, after which the connection cannot carry
/// another request.
pub(crate) fn json_error_close(status: StatusCode, message: &str) -> Response<Body> {
    let mut r = json_error(status, message, None);
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// Whether an error body is already in a documented form: JSON, or
/// C2SP tlog-witness's 409 `text/x.tlog.size` (the witness's latest size,
/// which the protocol's clients parse as a number).
fn is_json(r: &Response<Body>) -> bool {
    r.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.trim_start().to_ascii_lowercase();
            v.starts_with("application/json")
                || v.starts_with("application/problem+json")
                || v.starts_with("text/x.tlog.size")
        })
}

/// Rewrites an error response (status ≥ 400) that is not JSON into the
/// JSON body, keeping its status and other headers (`Allow`,
/// `WWW-Authenticate`) and using its text (at most 1 KiB read, 300
/// characters kept) or else the status's reason as the message. Other
/// responses pass unchanged.
pub async fn jsonify_error(r: Response<Body>) -> Response<Body> {
    if r.status().as_u16() < 400 || is_json(&r) {
        return r;
    }
    let (mut parts, body) = r.into_parts();
    let text = http_body_util::Limited::new(body, MAX_TEXT_ERROR)
        .collect()
        .await
        .ok()
        .and_then(|c| String::from_utf8(c.to_bytes().to_vec()).ok());
    let message = text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(MAX_MESSAGE_CHARS).collect::<String>())
        .unwrap_or_else(|| {
            parts
                .status
                .canonical_reason()
                .unwrap_or("error")
                .to_string()
        });
    let fresh = json_error(parts.status, &message, None);
    let (fresh_parts, body) = fresh.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Some(ct) = fresh_parts.headers.get(header::CONTENT_TYPE) {
        parts.headers.insert(header::CONTENT_TYPE, ct.clone());
    }
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(r: Response<Body>) -> serde_json::Value {
        let b = r.into_body().collect().await.expect("test").to_bytes();
        serde_json::from_slice(&b).expect("json")
    }

    #[tokio::test]
    async fn a_witness_409_keeps_its_tlog_size_body() {
        let mut r = Response::new(Body::from("2\n"));
        *r.status_mut() = StatusCode::CONFLICT;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/x.tlog.size"),
        );
        let r = jsonify_error(r).await;
        assert_eq!(r.status(), 409);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/x.tlog.size");
        let b = r.into_body().collect().await.expect("test").to_bytes();
        assert_eq!(&b[..], b"2\n");
    }

    #[tokio::test]
    async fn a_plain_text_405_becomes_the_json_body_and_keeps_allow() {
        let mut r = Response::new(Body::from("Method Not Allowed"));
        *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        let r = jsonify_error(r).await;
        assert_eq!(r.status(), 405);
        assert_eq!(r.headers()[header::ALLOW], "GET,HEAD");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            body_json(r).await,
            serde_json::json!({"error": {"status": 405, "message": "Method Not Allowed"}})
        );
    }

    #[tokio::test]
    async fn an_empty_404_gets_the_reason_and_json_passes_unchanged() {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_FOUND;
        assert_eq!(
            body_json(jsonify_error(r).await).await,
            serde_json::json!({"error": {"status": 404, "message": "Not Found"}})
        );
        let j = json_error(StatusCode::BAD_REQUEST, "bad", Some("date"));
        assert_eq!(
            body_json(jsonify_error(j).await).await,
            serde_json::json!({"error": {"status": 400, "message": "bad", "field": "date"}})
        );
    }
}
