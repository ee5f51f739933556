//! A neutral witness's node: only the C2SP tlog-witness `add-checkpoint`
//! endpoint and a status page. It holds no party's entries; it cosigns each
//! log's checkpoints that are consistent with the last one it cosigned, and
//! keeps evidence of any that are not (`accord witness evidence verify`).

use crate::error::{internal, ApiError};
use crate::witness::{read_add_checkpoint, witness_answer};
use accord_api::{WitnessNodeStatus, WitnessedLog};
use accord_log::Witness;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use std::sync::{Arc, Mutex};

/// A witness and the logs it follows.
#[derive(Debug)]
pub struct WitnessNode {
    witness: Mutex<Witness>,
    follows: Vec<String>,
    net: crate::net::Net,
}

impl WitnessNode {
    /// The witness, locked (never fails: the witness's state is in SQLite
    /// transactions, whole after a panic, so a poisoned lock is recovered).
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Witness>, ApiError> {
        Ok(crate::relock(&self.witness))
    }

    /// A witness node over an opened witness state; `follows` are the
    /// origins it was configured with (for its status).
    pub fn new(witness: Witness, follows: Vec<String>) -> WitnessNode {
        WitnessNode {
            witness: Mutex::new(witness),
            follows,
            net: crate::net::Net::insecure_plaintext(),
        }
    }

    /// Speaks TLS (or plain HTTP on loopback) as `net` says; the default
    /// is plain HTTP on loopback.
    pub fn with_net(mut self, net: crate::net::Net) -> WitnessNode {
        self.net = net;
        self
    }

    /// The TLS key's pin, when the node speaks TLS.
    pub fn pin(&self) -> Option<accord_net::Pin> {
        self.net.pin()
    }
}

/// The witness node's routes: `POST /add-checkpoint`, `GET /status`,
/// `GET /openapi.json`.
pub fn router(node: Arc<WitnessNode>) -> Router {
    crate::openapi::witness_routes().build(node)
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
        (status = 404, description = "Not a log this witness follows", body = accord_api::ErrorBody),
        (status = 409, description = "The witness holds another size, or the same size with another root", body = String, content_type = "text/x.tlog.size"),
        (status = 422, description = "The consistency proof fails: evidence kept", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn add_checkpoint(
    State(node): State<Arc<WitnessNode>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (old, proof, note) = read_add_checkpoint(&body)?;
    let now = crate::exchange::unix_now();
    crate::blocking(move || witness_answer(&*node.lock()?, &note, old, &proof, now)).await
}

/// The witness's key, each followed log's latest cosigned checkpoint, and
/// the evidence kept.
#[utoipa::path(
    get,
    path = "/status",
    tag = "witness",
    responses((status = 200, body = WitnessNodeStatus))
)]
pub(crate) async fn status(State(node): State<Arc<WitnessNode>>) -> Result<Response, ApiError> {
    crate::blocking(move || {
        let w = node.lock()?;
        let mut logs = vec![];
        for origin in &node.follows {
            let (size, checkpoint) = w.latest(origin).map_err(internal)?.unwrap_or((0, None));
            logs.push(WitnessedLog {
                origin: origin.clone(),
                size,
                checkpoint,
            });
        }
        let evidence = w.evidence().map_err(internal)?;
        Ok((
            [(header::CACHE_CONTROL, "no-cache")],
            Json(WitnessNodeStatus {
                mode: "witness".into(),
                witness: w.verifier().to_string(),
                logs,
                evidence,
            }),
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
    // Anyone may post a checkpoint (it is authenticated by the log's
    // signature): no client key is pinned.
    let transport = node
        .net
        .transport(accord_net::PinSet::new())
        .map_err(std::io::Error::other)?;
    let limits = node.net.limits().clone();
    let app = router(node).layer(accord_net::RequestLogLayer);
    accord_net::serve(listener, app, limits, transport, shutdown)
        .await
        .map_err(std::io::Error::other)
}
