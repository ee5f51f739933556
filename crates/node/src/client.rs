//! A node's clients (`accord notify`, `accord status`, the demo, the
//! benchmarks): one request at a time over `accord-net`'s bounded client
//! (TLS to the node's pinned key, or plain HTTP on loopback when asked),
//! answers read as the types of `accord_api`, strictly.

use accord_api::ReadError;
use accord_net::{Client, ClientLimits, Endpoint, Pin, Security};

/// How a client reaches a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// TLS, accepting only the node whose key has this pin.
    Pinned(Pin),
    /// Plain HTTP on loopback (`--insecure-plaintext`).
    InsecurePlaintext,
}

impl Reach {
    fn security(&self) -> Security {
        match self {
            Reach::Pinned(p) => Security::Pinned((*p).into()),
            Reach::InsecurePlaintext => Security::InsecurePlaintext,
        }
    }
}

/// Why a request to a node failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The node could not be reached (or the URL is not one).
    #[error(transparent)]
    Net(#[from] accord_net::ClientError),
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

/// An endpoint for `url`, reached as `reach` says (kept-alive connections
/// are reused across the requests made on it).
pub fn endpoint(url: &str, reach: &Reach) -> Result<Endpoint, accord_net::ClientError> {
    Client::new(ClientLimits::default(), None)?.endpoint(url, reach.security())
}

/// One request with an optional bearer token; the status and the body.
pub fn request(
    url: &str,
    reach: &Reach,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<(u16, Vec<u8>), accord_net::ClientError> {
    request_on(&endpoint(url, reach)?, method, path, token, body)
}

/// [`request`] on an endpoint already made.
pub fn request_on(
    ep: &Endpoint,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<(u16, Vec<u8>), accord_net::ClientError> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| ("Authorization", a))
        .into_iter()
        .collect();
    let method = accord_net::client::Method::from_bytes(method.as_bytes())
        .unwrap_or(accord_net::client::Method::GET);
    let r = ep.request(method, path, &headers, body.to_vec().into())?;
    Ok((r.status, r.body.to_vec()))
}

/// One request whose 2xx answer is read as `T`; an error answer is read as
/// the documented error body.
pub fn call<T: serde::de::DeserializeOwned>(
    url: &str,
    reach: &Reach,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<T, ClientError> {
    call_on(&endpoint(url, reach)?, method, path, token, body)
}

/// [`call`] on an endpoint already made.
pub fn call_on<T: serde::de::DeserializeOwned>(
    ep: &Endpoint,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<T, ClientError> {
    let (status, bytes) = request_on(ep, method, path, token, body)?;
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
