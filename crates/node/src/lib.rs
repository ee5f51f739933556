//! A party's node over HTTP (first part of issue #6).
//!
//! - `POST /notifications` (operator bearer token): a notification, or an
//!   array of them, validated against the registry and the treaty before
//!   anything is written; then appended durably to the party's log (the
//!   record) and applied to its registry. A bad one gets a 4xx naming the
//!   field, and nothing is stored.
//! - `GET /checkpoint`: the latest signed checkpoint (public), signing a new
//!   one first if the log grew.
//! - `POST /add-checkpoint`: the C2SP tlog-witness endpoint, when the node
//!   runs a witness (404, 403, 400, 409 with `text/x.tlog.size`, 422, as the
//!   spec says).
//! - `GET /status`: tree size, checkpoint, and compliance today or `?date=`.
//! - `GET /openapi.json`: this interface as OpenAPI 3.1.
//!
//! Errors are JSON `{"error": {"status", "message", "field"}}`; internal
//! faults are logged to standard error, never sent to the client.
#![forbid(unsafe_code)]

use accord_log::{canonical_entry, LogStore, Signer, Witness, WitnessError};
use accord_registry::notification::parse_one;
use accord_registry::{InputError, Notification, Store, StoreError};
use accord_treaty::Treaty;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

pub mod tiles;

/// Largest request body accepted, in bytes.
pub const MAX_BODY: usize = 1 << 20;

/// A node's state: its log, registry, treaty, signer, optional witness.
pub struct Node {
    inner: Mutex<Inner>,
    /// Notification batches waiting for the next group commit.
    queue: Mutex<Vec<Job>>,
    tokens: Vec<String>,
    /// Bearer tokens that may read entries (tiles, the feed) but not write:
    /// the peer's and observers'.
    readers: Vec<String>,
}

struct Inner {
    log: LogStore,
    registry: Store,
    treaty: Treaty,
    signer: Signer,
    witness: Option<Witness>,
    /// The log holds entries the registry lacks (a registry write failed
    /// after the log's): caught up before the next write.
    lagging: bool,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Node({} operator tokens, {} reader tokens, secrets withheld)",
            self.tokens.len(),
            self.readers.len()
        )
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The registry holds more notifications than the log: it was not fed
    /// by this log, and the node will not guess which is right.
    #[error("the registry holds {registry} notifications but the log only {log}: they are not one record")]
    Diverged {
        /// Notifications in the registry.
        registry: u64,
        /// Entries in the log.
        log: u64,
    },
    /// A log entry the registry lacks could not be applied.
    #[error("log entry {index}: {message}")]
    Entry {
        /// Its index in the log.
        index: u64,
        /// Why.
        message: String,
    },
    /// The log could not be read.
    #[error(transparent)]
    Log(#[from] accord_log::LogError),
    /// The registry could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Brings the registry level with the log. The log is acknowledged before
/// the registry is written, so a node stopped between the two (kill -9,
/// power loss) restarts with log entries the registry lacks; they are
/// applied here, in order, before the node takes any request.
/// Returns how many were applied.
pub fn catch_up(log: &LogStore, registry: &mut Store, treaty: &Treaty) -> Result<u64, StartError> {
    let (have, size) = (registry.len()?, log.size());
    if have > size {
        return Err(StartError::Diverged {
            registry: have,
            log: size,
        });
    }
    for index in have..size {
        let bytes = log.entry(index)?;
        let at = format!("log entry {index}");
        let text = String::from_utf8(bytes).map_err(|_| StartError::Entry {
            index,
            message: "not UTF-8".into(),
        })?;
        let n = parse_one(&text, &at).map_err(|e| StartError::Entry {
            index,
            message: e.to_string(),
        })?;
        registry
            .append(treaty, &[(at, n)])
            .map_err(|e| StartError::Entry {
                index,
                message: e.to_string(),
            })?;
    }
    Ok(size - have)
}

impl Node {
    /// A node over an opened log and registry of the same party.
    pub fn new(
        log: LogStore,
        registry: Store,
        treaty: Treaty,
        signer: Signer,
        witness: Option<Witness>,
        tokens: Vec<String>,
    ) -> Node {
        Node {
            inner: Mutex::new(Inner {
                log,
                registry,
                treaty,
                signer,
                witness,
                lagging: false,
            }),
            queue: Mutex::new(vec![]),
            tokens,
            readers: vec![],
        }
    }
}

impl Node {
    /// Adds tokens that may read the log's entries (tiles and the feed) but
    /// never write: the other party's and neutral observers'.
    pub fn with_readers(mut self, readers: Vec<String>) -> Node {
        self.readers = readers;
        self
    }
}

/// An API error, mapped to a status and a JSON body in one place.
#[derive(Debug)]
pub enum ApiError {
    /// 400: malformed input, naming the field.
    BadRequest {
        /// What is wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// 401: no operator token.
    Unauthorized,
    /// 403: a wrong token, or another party's notification.
    Forbidden(String),
    /// 404: nothing here (yet).
    NotFound(String),
    /// 409: a replayed notification number.
    Conflict(String),
    /// 422: well-formed but impossible under the treaty or the registry.
    Unprocessable {
        /// What is wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// 500: logged, never detailed to the client.
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize)]
struct ErrorDetail {
    status: u16,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message, field) = match self {
            ApiError::BadRequest { message, field } => (StatusCode::BAD_REQUEST, message, field),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "an operator bearer token is required".to_string(),
                None,
            ),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m, None),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m, None),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, m, None),
            ApiError::Unprocessable { message, field } => {
                (StatusCode::UNPROCESSABLE_ENTITY, message, field)
            }
            ApiError::Internal(detail) => {
                eprintln!("accord-node: internal error: {detail}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_string(),
                    None,
                )
            }
        };
        let body = ErrorBody {
            error: ErrorDetail {
                status: status.as_u16(),
                message,
                field,
            },
        };
        (status, Json(body)).into_response()
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

fn from_input(e: InputError) -> ApiError {
    match e {
        InputError::Json { field, message, .. } => ApiError::BadRequest {
            message,
            field: Some(field),
        },
        InputError::Invalid { field, message, .. } if field == "number" => {
            ApiError::Conflict(message)
        }
        InputError::Invalid { field, message, .. } => ApiError::Unprocessable {
            message,
            field: Some(field),
        },
        InputError::Rejected { finding, .. } => ApiError::Unprocessable {
            message: finding.message,
            field: Some("event".into()),
        },
        other => ApiError::BadRequest {
            message: other.to_string(),
            field: None,
        },
    }
}

/// The router (tests call it directly, without a server).
pub fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route(
            "/notifications",
            post(post_notifications).get(get_notifications),
        )
        .route("/history", get(get_history))
        .route("/tile/{*path}", get(get_tile))
        .route("/checkpoint", get(get_checkpoint))
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/status", get(get_status))
        .route("/openapi.json", get(openapi))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(node)
}

/// Whether `token` equals one of `tokens`, comparing every byte of every
/// token (no early exit that would time the secret).
fn token_in(tokens: &[String], token: &str) -> bool {
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

/// Operators or readers: the log's entries (tiles, the feed).
fn authorize_read(node: &Node, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = bearer(headers)?;
    if token_in(&node.tokens, token) | token_in(&node.readers, token) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "the token may not read this node's entries".into(),
        ))
    }
}

/// What `POST /notifications` answers.
#[derive(Debug, Serialize, Deserialize)]
pub struct Accepted {
    /// The notification numbers accepted.
    pub numbers: Vec<u64>,
    /// Their log indexes.
    pub indexes: Vec<u64>,
    /// The log's size now.
    pub tree_size: u64,
}

async fn post_notifications(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    authorize(&node, &headers)?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest {
        message: "the body is not UTF-8".into(),
        field: None,
    })?;
    // Split an array into its elements' raw text (no re-serialising): each
    // is then parsed strictly, once, by `parse_one`.
    let not_json = |e: serde_json::Error| ApiError::BadRequest {
        message: format!("not JSON: {e}"),
        field: None,
    };
    let items: Vec<&serde_json::value::RawValue> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(not_json)?
    } else {
        vec![serde_json::from_str(text).map_err(not_json)?]
    };
    if items.is_empty() {
        return Err(ApiError::BadRequest {
            message: "no notifications".into(),
            field: None,
        });
    }
    let mut batch: Vec<(String, Notification)> = vec![];
    for (i, v) in items.iter().enumerate() {
        let at = format!("notification {i}");
        let n = parse_one(v.get(), &at).map_err(from_input)?;
        batch.push((at, n));
    }
    // Group commit: the request joins the queue; whichever request holds the
    // node's lock takes everything queued, checks each batch on its own,
    // appends all that pass to the log in one durable write, and answers
    // each. SQLite work is blocking: off the async threads.
    let (reply, answer) = tokio::sync::oneshot::channel();
    node.queue
        .lock()
        .map_err(|_| internal("the node's queue lock is poisoned"))?
        .push(Job { batch, reply });
    let node2 = node.clone();
    tokio::task::spawn_blocking(move || node2.drain())
        .await
        .map_err(internal)?;
    answer
        .await
        .map_err(|_| internal("the request was dropped unanswered"))?
        .map(|a| (StatusCode::CREATED, Json(a)))
}

/// A batch of notifications waiting for the group commit, and where to send
/// its answer.
struct Job {
    batch: Vec<(String, Notification)>,
    reply: tokio::sync::oneshot::Sender<Result<Accepted, ApiError>>,
}

impl Node {
    /// Takes the queue's jobs under the node's lock until it is empty.
    fn drain(&self) {
        let Ok(mut inner) = self.inner.lock() else {
            eprintln!("accord-node: internal error: the node's lock is poisoned");
            return;
        };
        loop {
            let jobs = match self.queue.lock() {
                Ok(mut q) => std::mem::take(&mut *q),
                Err(_) => return,
            };
            if jobs.is_empty() {
                return;
            }
            inner.commit_group(jobs);
        }
    }
}

impl Inner {
    /// Checks, logs (one durable append) and applies a group of jobs,
    /// answering each. A refused batch is answered alone and changes nothing.
    fn commit_group(&mut self, jobs: Vec<Job>) {
        let mut jobs: std::collections::VecDeque<Job> = jobs.into();
        while !jobs.is_empty() {
            let Inner {
                registry,
                treaty,
                log,
                lagging,
                ..
            } = self;
            if *lagging {
                if let Err(e) = catch_up(log, registry, treaty) {
                    for j in jobs.drain(..) {
                        let _ = j.reply.send(Err(internal(&e)));
                    }
                    return;
                }
                *lagging = false;
            }
            let party = registry.meta().party.clone();
            // 1. Everything the registry would refuse is refused before any
            //    write (in time proportional to the batch: `Store::stage`).
            let mut staged = vec![];
            let mut passed = vec![];
            while let Some(job) = jobs.pop_front() {
                if let Some((_, n)) = job.batch.iter().find(|(_, n)| n.party != party) {
                    let e = ApiError::Forbidden(format!(
                        "this node takes {party}'s notifications, not {}'s",
                        n.party
                    ));
                    let _ = job.reply.send(Err(e));
                    continue;
                }
                match registry.stage_chained(treaty, &job.batch) {
                    Ok(s) => {
                        staged.push(s);
                        passed.push(job);
                    }
                    // Needs the full refold: after this group is committed.
                    Err(StoreError::Deferred) if !staged.is_empty() => {
                        jobs.push_front(job);
                        break;
                    }
                    Err(StoreError::Input(i)) => {
                        let _ = job.reply.send(Err(from_input(i)));
                    }
                    Err(other) => {
                        let _ = job.reply.send(Err(internal(other)));
                    }
                }
            }
            if passed.is_empty() {
                continue;
            }
            // 2. The log is the record: durable before it is acknowledged.
            let entries: Result<Vec<Vec<u8>>, _> = passed
                .iter()
                .flat_map(|j| j.batch.iter())
                .map(|(_, n)| canonical_entry(&n.to_json()))
                .collect();
            let range = match entries.and_then(|e| log.append(&e).map_err(|e| e.to_string())) {
                Ok(r) => r,
                Err(e) => {
                    registry.abort();
                    for j in passed {
                        let _ = j.reply.send(Err(internal(&e)));
                    }
                    continue;
                }
            };
            // 3. The registry follows (it can always be rebuilt from the log,
            //    and is caught up from it when the node starts).
            if let Err(e) = registry.commit_all(treaty, staged) {
                *lagging = true;
                eprintln!(
                    "accord-node: registry write after log append failed (will catch up): {e}"
                );
            }
            let tree_size = log.size();
            let mut index = range.start;
            for j in passed {
                let k = j.batch.len() as u64;
                let _ = j.reply.send(Ok(Accepted {
                    numbers: j.batch.iter().map(|(_, n)| n.number).collect(),
                    indexes: (index..index + k).collect(),
                    tree_size,
                }));
                index += k;
            }
        }
    }
}

async fn get_checkpoint(State(node): State<Arc<Node>>) -> Result<Response, ApiError> {
    let note = tokio::task::spawn_blocking(move || -> Result<String, ApiError> {
        let mut inner = node
            .inner
            .lock()
            .map_err(|_| internal("the node's lock is poisoned"))?;
        let Inner { log, signer, .. } = &mut *inner;
        log.checkpoint(signer).map_err(internal)
    })
    .await
    .map_err(internal)??;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

/// Parses a C2SP tlog-witness `add-checkpoint` body.
fn parse_add_checkpoint(
    body: &str,
) -> Result<(u64, Vec<accord_log::merkle::Hash>, String), String> {
    let (head, note) = body
        .split_once("\n\n")
        .ok_or("expected an old size line, proof lines, an empty line and a checkpoint")?;
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
        .ok_or("the first line must be `old <size>`")?;
    let proof: Vec<String> = lines.map(str::to_string).collect();
    let hashes = accord_log::witness::decode_hashes(&proof)?;
    Ok((old, hashes, note.to_string()))
}

async fn add_checkpoint(State(node): State<Arc<Node>>, body: Bytes) -> Result<Response, ApiError> {
    let text = String::from_utf8(body.to_vec()).map_err(|_| ApiError::BadRequest {
        message: "the body is not UTF-8".into(),
        field: None,
    })?;
    let (old, proof, note) = parse_add_checkpoint(&text).map_err(|m| ApiError::BadRequest {
        message: m,
        field: None,
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    tokio::task::spawn_blocking(move || -> Result<Response, ApiError> {
        let inner = node
            .inner
            .lock()
            .map_err(|_| internal("the node's lock is poisoned"))?;
        let Some(w) = &inner.witness else {
            return Ok((StatusCode::NOT_FOUND, "this node runs no witness\n").into_response());
        };
        match w.add_checkpoint(&note, old, &proof, now) {
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
            Err(WitnessError::State { .. }) => Err(internal("witness state")),
            Err(e) => {
                let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
                Ok((status, format!("{e}\n")).into_response())
            }
        }
    })
    .await
    .map_err(internal)?
}

/// `GET /status?date=YYYY-MM-DD`.
#[derive(Debug, Deserialize)]
pub struct StatusQuery {
    /// The date for compliance (default: today).
    pub date: Option<chrono::NaiveDate>,
}

async fn get_status(
    State(node): State<Arc<Node>>,
    Query(q): Query<StatusQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let date = q.date.unwrap_or_else(today);
    tokio::task::spawn_blocking(move || -> Result<Json<serde_json::Value>, ApiError> {
        let inner = node
            .inner
            .lock()
            .map_err(|_| internal("the node's lock is poisoned"))?;
        let report = inner
            .registry
            .evaluate(&inner.treaty, &[date])
            .map_err(internal)?
            .remove(0);
        let latest = inner.log.latest_checkpoint().map_err(internal)?;
        Ok(Json(serde_json::json!({
            "party": inner.registry.meta().party,
            "treaty": inner.treaty.id,
            "origin": inner.log.origin(),
            "tree_size": inner.log.size(),
            "checkpoint": latest.map(|(_, n)| n),
            "witness": inner.witness.as_ref().map(|w| w.verifier().to_string()),
            "compliance": report,
        })))
    })
    .await
    .map_err(internal)?
}

/// The dashboard: one self-contained page (no external scripts, styles or
/// fonts) that polls `/status`, `/history` and, given an operator token,
/// `GET /notifications`.
pub const DASHBOARD: &str = include_str!("dashboard.html");

async fn dashboard() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
            ),
        ],
        DASHBOARD,
    )
        .into_response()
}

#[derive(Deserialize)]
struct FeedQuery {
    limit: Option<u64>,
}

/// The latest notifications, newest first (operators only: entries are
/// confidential between the parties).
async fn get_notifications(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Query(q): Query<FeedQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize_read(&node, &headers)?;
    let limit = q.limit.unwrap_or(20).min(1000);
    tokio::task::spawn_blocking(move || -> Result<Json<serde_json::Value>, ApiError> {
        let inner = node
            .inner
            .lock()
            .map_err(|_| internal("the node's lock is poisoned"))?;
        let size = inner.log.size();
        let mut out = vec![];
        for index in (size.saturating_sub(limit)..size).rev() {
            let bytes = inner.log.entry(index).map_err(internal)?;
            let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(internal)?;
            out.push(serde_json::json!({"index": index, "notification": v}));
        }
        Ok(Json(serde_json::json!({"tree_size": size, "entries": out})))
    })
    .await
    .map_err(internal)?
}

#[derive(Deserialize)]
struct HistoryQuery {
    to: Option<chrono::NaiveDate>,
}

/// The three central limits on the first of every month from the earliest
/// notification to `to` (default: today), and on `to`.
async fn get_history(
    State(node): State<Arc<Node>>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let to = q.to.unwrap_or_else(today);
    tokio::task::spawn_blocking(move || -> Result<Json<serde_json::Value>, ApiError> {
        use chrono::Datelike;
        let inner = node
            .inner
            .lock()
            .map_err(|_| internal("the node's lock is poisoned"))?;
        let first = inner
            .registry
            .notifications()
            .map_err(internal)?
            .iter()
            .map(|n| n.date)
            .min();
        let mut dates = vec![];
        if let Some(first) = first.filter(|f| *f <= to) {
            let mut d =
                chrono::NaiveDate::from_ymd_opt(first.year(), first.month(), 1).unwrap_or(first);
            // At most 240 monthly points: the last twenty years.
            while d < to {
                if d >= first {
                    dates.push(d);
                }
                d = d + chrono::Months::new(1);
            }
            let keep = dates.len().saturating_sub(240);
            dates.drain(..keep);
        }
        dates.push(to);
        let reports = inner
            .registry
            .evaluate(&inner.treaty, &dates)
            .map_err(internal)?;
        // The limits as they stand on `to` (id, name, max, binding).
        let limits = reports.last().map(|r| &r.limits);
        let points: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| serde_json::json!({"date": r.date, "values": r.aggregates}))
            .collect();
        Ok(Json(serde_json::json!({
            "party": inner.registry.meta().party,
            "limits": limits,
            "points": points,
        })))
    })
    .await
    .map_err(internal)?
}

/// Today, in UTC, from the system clock.
fn today() -> chrono::NaiveDate {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(chrono::NaiveDate::MIN)
        + chrono::Days::new(days)
}

/// A C2SP tlog-tiles tile or entry bundle (operators; see [`tiles`]).
async fn get_tile(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    authorize_read(&node, &headers)?;
    let t = tiles::parse(&path).map_err(|message| ApiError::BadRequest {
        message: format!("tile/{path}: {message}"),
        field: Some("path".into()),
    })?;
    let bytes = tokio::task::spawn_blocking(move || {
        let inner = node
            .inner
            .lock()
            .map_err(|_| internal("the node's lock is poisoned"))?;
        tiles::read(&inner.log, t).map_err(|e| match e {
            tiles::TileError::NotYet => ApiError::NotFound(format!(
                "{} is not in the log at size {}",
                tiles::path(t),
                inner.log.size()
            )),
            tiles::TileError::Store(m) => internal(m),
        })
    })
    .await
    .map_err(internal)??;
    // A full tile never changes; a partial one is replaced as the log grows.
    let cache = if t.width == tiles::TILE_WIDTH {
        "private, max-age=31536000, immutable"
    } else {
        "private, no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

/// The OpenAPI 3.1 document of this interface.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Serves on a listener already bound until `shutdown` completes (tests and
/// benchmarks bind port 0 and read the port back).
pub async fn serve_until(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(node))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Runs the node on `listen` until Ctrl-C.
pub async fn serve(node: Arc<Node>, listen: &str) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("accord node listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router(node))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
