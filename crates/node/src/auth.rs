//! Who may do what, decided from a request's head before its body is read:
//! operators write (bearer tokens); readers and peers read the log's
//! entries (reader tokens; a peer by the TLS key it presented, pinned in
//! the configuration, or by a signature with its log key bound to this
//! node, this request and a fresh nonce); anyone reads the public state
//! (checkpoints, status, the workbench). The peer's steps of a draw
//! (`/draw/…`) are, like `add-checkpoint`, authenticated by their signed
//! and cosigned content.

use crate::error::ApiError;
use crate::{exchange, Node};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// Whether `token` is one of `tokens`. Both sides are hashed first and the
/// digests compared in constant time, over every token: neither the
/// token's bytes nor its length shows in the timing.
pub(crate) fn token_in(tokens: &[String], token: &str) -> bool {
    let t = Sha256::digest(token.as_bytes());
    tokens.iter().fold(0u8, |acc, k| {
        acc | Sha256::digest(k.as_bytes()).ct_eq(&t).unwrap_u8()
    }) == 1
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthorized)
}

/// Operators only: writes.
fn authorize(node: &Node, headers: &HeaderMap) -> Result<(), ApiError> {
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

/// Whether the request carries one of the node's operator tokens: an
/// operator's report reads are never queued behind the public's.
pub(crate) fn is_operator(node: &Node, headers: &HeaderMap) -> bool {
    authorize(node, headers).is_ok()
}

/// Operators, readers, or a peer: the log's entries (tiles, the feed,
/// proofs, receipts).
fn authorize_read(node: &Node, parts: &Parts) -> Result<(), ApiError> {
    // A peer by its pinned TLS key (the handshake proved it holds it).
    if let Some(pin) = parts
        .extensions
        .get::<accord_net::Peer>()
        .and_then(|p| p.pin())
    {
        if node.links.iter().any(|l| l.cfg.tls_pin == Some(pin)) {
            return Ok(());
        }
    }
    let headers = &parts.headers;
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("Accord-Peer "))
    {
        let uri = &parts.uri;
        let key = exchange::key_text(node.net.pin());
        let target = exchange::PeerTarget {
            origin: &node.origin,
            key: &key,
            host: headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default(),
            method: parts.method.as_str(),
            path: uri.path_and_query().map_or(uri.path(), |p| p.as_str()),
        };
        return exchange::check_peer_authorization(
            value,
            &target,
            &node.peer_keys,
            exchange::unix_now(),
            &node.nonces,
        )
        .map(|_| ())
        .map_err(|e| ApiError::Forbidden(format!("peer authentication failed: {e}")));
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

/// The one decision, from the request's head: writes need an operator,
/// entries a reader or a peer, the rest is public.
pub(crate) fn before_body(node: &Node, parts: &Parts) -> Result<(), ApiError> {
    let path = parts.uri.path();
    let entries = path == "/notifications"
        || path == "/receipts"
        || path == "/draws"
        || path.starts_with("/draws/")
        || path.starts_with("/tile/")
        || path.starts_with("/proof/")
        || path.starts_with("/workbench/api/");
    match parts.method {
        Method::POST
            if path == "/notifications"
                || path == "/inspections"
                || path == "/draws"
                || path.starts_with("/draws/") =>
        {
            authorize(node, &parts.headers)
        }
        Method::GET if entries => authorize_read(node, parts),
        _ => Ok(()),
    }
}
