//! A neutral witness's node: only the C2SP tlog-witness `add-checkpoint`
//! endpoint and a status page. It holds no party's entries; it cosigns each
//! log's checkpoints that are consistent with the last one it cosigned, and
//! keeps evidence of any that are not (`accord witness evidence verify`).

use crate::{internal, parse_add_checkpoint, witness_answer, ApiError};
use accord_log::Witness;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::{Arc, Mutex};

/// A witness and the logs it follows.
#[derive(Debug)]
pub struct WitnessNode {
    witness: Mutex<Witness>,
    follows: Vec<String>,
}

impl WitnessNode {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Witness>, ApiError> {
        self.witness
            .lock()
            .map_err(|_| internal("the witness's lock is poisoned"))
    }

    /// A witness node over an opened witness state; `follows` are the
    /// origins it was configured with (for its status).
    pub fn new(witness: Witness, follows: Vec<String>) -> WitnessNode {
        WitnessNode {
            witness: Mutex::new(witness),
            follows,
        }
    }
}

/// The witness node's routes: `POST /add-checkpoint`, `GET /status`,
/// `GET /openapi.json`.
pub fn router(node: Arc<WitnessNode>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/status", get(status))
        .route("/openapi.json", get(crate::openapi))
        .layer(DefaultBodyLimit::max(crate::MAX_BODY))
        .with_state(node)
}

async fn add_checkpoint(
    State(node): State<Arc<WitnessNode>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let text = String::from_utf8(body.to_vec()).map_err(|_| ApiError::BadRequest {
        message: "the body is not UTF-8".into(),
        field: None,
    })?;
    let (old, proof, note) = parse_add_checkpoint(&text).map_err(|m| ApiError::BadRequest {
        message: m,
        field: None,
    })?;
    let now = crate::exchange::unix_now();
    crate::blocking(move || witness_answer(&*node.lock()?, &note, old, &proof, now)).await
}

/// `GET /status`: the witness's key, each followed log's latest cosigned
/// checkpoint, and the evidence kept.
async fn status(State(node): State<Arc<WitnessNode>>) -> Result<Response, ApiError> {
    crate::blocking(move || {
        let w = node.lock()?;
        let mut logs = vec![];
        for origin in &node.follows {
            let (size, note) = w.latest(origin).map_err(internal)?.unwrap_or((0, None));
            logs.push(serde_json::json!({"origin": origin, "size": size, "checkpoint": note}));
        }
        let evidence = w.evidence().map_err(internal)?;
        Ok((
            [(header::CACHE_CONTROL, "no-cache")],
            Json(serde_json::json!({
                "witness": w.verifier().to_string(),
                "logs": logs,
                "evidence": evidence,
            })),
        )
            .into_response())
    })
    .await
}

/// Serves a witness node until `shutdown` completes.
pub async fn serve_until(
    node: Arc<WitnessNode>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(node))
        .with_graceful_shutdown(shutdown)
        .await
}
