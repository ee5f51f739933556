//! A node's clients (`accord notify`, `accord status`, the demo, the
//! benchmarks): one request at a time, answers read as the types of
//! `accord_api`, strictly.

use crate::http::{self, HttpError};
use accord_api::ReadError;
use std::time::Duration;

/// How long a client waits for one answer.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Why a request to a node failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The node could not be reached (or the URL is not one).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// It answered an error: the documented JSON body, read.
    #[error("{method} {path}: {status}: {message}{}", .field.as_ref().map(|f| format!(" (field `{f}`)")).unwrap_or_default())]
    Refused {
        /// The method.
        method: String,
        /// The path.
        path: String,
        /// The status.
        status: u16,
        /// The node's message.
        message: String,
        /// The field it named.
        field: Option<String>,
    },
    /// Its answer is not the documented shape.
    #[error(transparent)]
    Unreadable(#[from] ReadError),
}

/// One request with an optional bearer token; the status and the body.
pub fn request(
    url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<(u16, Vec<u8>), HttpError> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| ("Authorization", a))
        .into_iter()
        .collect();
    http::request(url, method, path, &headers, body, TIMEOUT)
}

/// One request whose 2xx answer is read as `T`; an error answer is read as
/// the documented error body.
pub fn call<T: serde::de::DeserializeOwned>(
    url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<T, ClientError> {
    let (status, bytes) = request(url, method, path, token, body)?;
    let what = format!("{method} {path}");
    if (200..300).contains(&status) {
        return Ok(accord_api::read(&what, &bytes)?);
    }
    let e: accord_api::ErrorBody = accord_api::read(&what, &bytes)?;
    Err(ClientError::Refused {
        method: method.to_string(),
        path: path.to_string(),
        status,
        message: e.error.message,
        field: e.error.field,
    })
}
