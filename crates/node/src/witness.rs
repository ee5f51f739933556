//! The C2SP tlog-witness `add-checkpoint` endpoint, shared by a party's node
//! (when it runs a witness) and a neutral witness node.

use crate::error::{error_response, internal, witness_status, ApiError};
use crate::{blocking, exchange, Node};
use accord_log::merkle::Hash;
use accord_log::{Witness, WitnessError};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// What is wrong with an `add-checkpoint` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddCheckpointError {
    /// No empty line between the head and the checkpoint.
    #[error("expected an old size line, proof lines, an empty line and a checkpoint")]
    Shape,
    /// The first line is not `old <size>`.
    #[error("the first line must be `old <size>`")]
    OldSize,
    /// A proof line is not a base64 hash.
    #[error("proof: {0}")]
    Proof(String),
}

/// Parses a C2SP tlog-witness `add-checkpoint` body.
pub fn parse_add_checkpoint(body: &str) -> Result<(u64, Vec<Hash>, String), AddCheckpointError> {
    let (head, note) = body.split_once("\n\n").ok_or(AddCheckpointError::Shape)?;
    let mut lines = head.lines();
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .filter(|n| {
            !n.is_empty()
                && (n == &"0" || !n.starts_with('0'))
                && n.bytes().all(|b| b.is_ascii_digit())
        })
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or(AddCheckpointError::OldSize)?;
    let proof: Vec<String> = lines.map(str::to_string).collect();
    let hashes = accord_log::witness::decode_hashes(&proof).map_err(AddCheckpointError::Proof)?;
    Ok((old, hashes, note.to_string()))
}

/// Parses the body of a request to `add-checkpoint`.
pub(crate) fn read_add_checkpoint(body: &Bytes) -> Result<(u64, Vec<Hash>, String), ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::BadRequest {
        message: "the body is not UTF-8".into(),
        field: None,
    })?;
    parse_add_checkpoint(text).map_err(|m| ApiError::BadRequest {
        message: m.to_string(),
        field: None,
    })
}

/// The C2SP tlog-witness answer to an `add-checkpoint`: 200 with the
/// cosignature line, 409 with `text/x.tlog.size`, or 400/403/404/422 with
/// the documented JSON error.
pub(crate) fn witness_answer(
    w: &Witness,
    note: &str,
    old: u64,
    proof: &[Hash],
    now: u64,
) -> Result<Response, ApiError> {
    match w.add_checkpoint(note, old, proof, now) {
        Ok(line) => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{line}\n"),
        )
            .into_response()),
        Err(WitnessError::OldSizeMismatch { latest, .. }) => Ok((
            StatusCode::CONFLICT,
            [(header::CONTENT_TYPE, "text/x.tlog.size")],
            format!("{latest}\n"),
        )
            .into_response()),
        Err(e) => {
            let status = witness_status(&e);
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                return Err(internal(e));
            }
            Ok(error_response(status, e.to_string(), None))
        }
    }
}

/// C2SP tlog-witness: cosign a checkpoint consistent with the last one
/// cosigned for its origin.
#[utoipa::path(
    post,
    path = "/add-checkpoint",
    tag = "witness",
    request_body(
        content = String,
        description = "`old N`, the consistency proof lines (base64), an empty line, the signed checkpoint",
        content_type = "text/plain"
    ),
    responses(
        (status = 200, description = "The cosignature line", body = String, content_type = "text/plain"),
        (status = 400, description = "Malformed", body = accord_api::ErrorBody),
        (status = 403, description = "Not signed by the log's key", body = accord_api::ErrorBody),
        (status = 404, description = "Not a log this witness follows, or no witness here", body = accord_api::ErrorBody),
        (status = 409, description = "The witness holds another size (`text/x.tlog.size`), or the same size with another root", body = String, content_type = "text/x.tlog.size"),
        (status = 422, description = "The consistency proof fails: evidence kept", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn add_checkpoint(
    State(node): State<Arc<Node>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (old, proof, note) = read_add_checkpoint(&body)?;
    let now = exchange::unix_now();
    // A peer's new checkpoint, signed by the peer: its entries are waiting,
    // so pull now (a pull loop in backoff keeps its backoff; an unsigned
    // poke, or one no larger than the mirror, wakes nothing).
    if let Some(origin) = note.lines().next() {
        for l in node.links.iter().filter(|l| l.origin == origin) {
            if let Ok(cp) = accord_log::open_checkpoint(&note, &l.cfg.vkey, &[]) {
                l.poke(cp.into_checkpoint().size);
            }
        }
    }
    blocking(move || {
        let inner = node.lock()?;
        let Some(w) = &inner.witness else {
            return Err(ApiError::NotFound("this node runs no witness".into()));
        };
        witness_answer(w, &note, old, &proof, now)
    })
    .await
}
