//! Who may do what: operators write (bearer tokens), readers and peers read
//! the log's entries (reader tokens, or a peer's signature with its log
//! key), and anyone reads the public state (checkpoints, status).

use crate::error::ApiError;
use crate::{exchange, Node};
use axum::http::{header, HeaderMap, Uri};

/// Whether `token` equals one of `tokens`, comparing every byte of every
/// token (no early exit that would time the secret).
pub(crate) fn token_in(tokens: &[String], token: &str) -> bool {
    tokens.iter().fold(false, |acc, t| {
        let eq = t.len() == token.len()
            && t.bytes()
                .zip(token.bytes())
                .fold(0u8, |d, (a, b)| d | (a ^ b))
                == 0;
        acc | eq
    })
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthorized)
}

/// Operators only: writes.
pub(crate) fn authorize(node: &Node, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = bearer(headers)?;
    if token_in(&node.tokens, token) {
        Ok(())
    } else if token_in(&node.readers, token) {
        Err(ApiError::Forbidden(
            "a reader token may read entries but not write".into(),
        ))
    } else {
        Err(ApiError::Forbidden(
            "the token is not an operator token of this node".into(),
        ))
    }
}

/// Operators, readers, or a peer signing with its log key (`Accord-Peer`):
/// the log's entries (tiles, the feed, proofs, receipts).
pub(crate) fn authorize_read(node: &Node, headers: &HeaderMap, uri: &Uri) -> Result<(), ApiError> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("Accord-Peer "))
    {
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        return exchange::check_peer_authorization(
            value,
            "GET",
            path,
            &node.peer_keys,
            exchange::unix_now(),
        )
        .map(|_| ())
        .map_err(|m| ApiError::Forbidden(format!("peer authentication failed: {m}")));
    }
    let token = bearer(headers)?;
    if token_in(&node.tokens, token) | token_in(&node.readers, token) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "the token may not read this node's entries".into(),
        ))
    }
}
