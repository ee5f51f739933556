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

use accord_log::{canonical_entry, LogStore, Signer, Verifier, Witness, WitnessError};
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

pub mod exchange;
pub mod http;
pub mod tiles;
pub mod witness_node;

use exchange::{Clock, ExchangeConfig, Link, Receipt, Stop, Target};

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
    /// The party whose node this is.
    party: String,
    /// The treaty (a copy for the exchange loops).
    treaty: Treaty,
    /// The peers and their mirrors.
    links: Vec<Arc<Link>>,
    /// Where checkpoints are pushed: peers' and witnesses' `add-checkpoint`.
    targets: Vec<Arc<Target>>,
    /// The peers' log keys: they authenticate the peers' reads.
    peer_keys: Vec<Verifier>,
    /// The node's date.
    clock: Clock,
    /// Poll interval and first retry delay of the exchange loops.
    interval: std::time::Duration,
    /// A copy of the log key, with which the pull loops sign their reads.
    peer_signer: Signer,
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
    /// Receipts of what the peers delivered (a log of its own, signed with
    /// the node's key), when the node exchanges with peers.
    receipts: Option<LogStore>,
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
    /// The exchange (peers, mirrors, receipts) could not be set up.
    #[error("exchange: {0}")]
    Exchange(String),
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
        let peer_signer = signer.clone();
        let party = registry.meta().party.clone();
        Node {
            inner: Mutex::new(Inner {
                log,
                registry,
                treaty: treaty.clone(),
                signer,
                witness,
                lagging: false,
                receipts: None,
            }),
            queue: Mutex::new(vec![]),
            tokens,
            readers: vec![],
            party,
            treaty,
            links: vec![],
            targets: vec![],
            peer_keys: vec![],
            clock: Clock::system(),
            interval: std::time::Duration::from_secs(1),
            peer_signer,
        }
    }

    /// Runs the node on `clock` (a simulated date for exercises and tests).
    pub fn with_clock(mut self, clock: Clock) -> Node {
        self.clock = clock;
        self
    }

    /// Adds peers (mirrored) and witnesses (pushed to); opens the mirrors
    /// under `cfg.dir/peers/` and the receipts log `cfg.dir/receipts.sqlite`.
    /// The loops start with [`start_exchange`] (which [`serve_until`] calls).
    pub fn with_exchange(mut self, cfg: ExchangeConfig) -> Result<Node, StartError> {
        let bad = |message: String| StartError::Exchange(message);
        let (own_origin, vkey) = {
            let inner = self
                .inner
                .get_mut()
                .map_err(|_| bad("the node's lock is poisoned".into()))?;
            (inner.log.origin().to_string(), inner.log.verifier().clone())
        };
        let rpath = cfg.dir.join("receipts.sqlite");
        let receipts = LogStore::open_or_init(&rpath, &format!("{own_origin}/receipts"), &vkey)?;
        // Late deliveries, from the receipts (signed, so the findings are
        // reproducible from what the node logged).
        let mut all: Vec<Receipt> = vec![];
        let mut broken = None;
        receipts.for_each_entry(|i, bytes| match serde_json::from_slice::<Receipt>(bytes) {
            Ok(r) => {
                all.push(r);
                true
            }
            Err(e) => {
                broken = Some(format!("{} entry {i}: {e}", rpath.display()));
                false
            }
        })?;
        if let Some(b) = broken {
            return Err(bad(b));
        }
        let mut gaps = vec![];
        for peer in &cfg.peers {
            if self.treaty.party(&peer.party).is_none() {
                return Err(bad(format!(
                    "peer `{}` is not a party to {}",
                    peer.party, self.treaty.id
                )));
            }
            let (origin, mut mirror) =
                exchange::open_mirror(&cfg.dir, &self.treaty, peer).map_err(bad)?;
            let notes = mirror.registry.notifications()?;
            let by_number: std::collections::HashMap<u64, &Notification> =
                notes.iter().map(|n| (n.number, n)).collect();
            for r in all.iter().filter(|r| r.origin == origin) {
                for k in &r.late {
                    if let Some(n) = by_number.get(k) {
                        mirror
                            .late
                            .push(exchange::late_finding(&self.treaty, n, r.received));
                    }
                }
            }
            // Stopped between a mirror append and its receipt: the receipt
            // for the gap is logged now (marked recovered), so the receipts
            // always cover the mirror.
            let covered = all
                .iter()
                .filter(|r| r.origin == origin)
                .map(|r| r.end)
                .max()
                .unwrap_or(0);
            let size = mirror.log.size();
            if size > covered {
                let received = self.clock.today();
                let gap = notes.get(covered as usize..size as usize).unwrap_or(&[]);
                let late: Vec<&Notification> = gap
                    .iter()
                    .filter(|n| received > accord_registry::compliance::deadline(&self.treaty, n))
                    .collect();
                for n in &late {
                    mirror
                        .late
                        .push(exchange::late_finding(&self.treaty, n, received));
                }
                let checkpoint_size = mirror
                    .log
                    .latest_checkpoint()?
                    .map_or(size, |(s, _)| s.max(size));
                gaps.push(Receipt {
                    kind: "receipt".into(),
                    origin: origin.clone(),
                    first: covered,
                    end: size,
                    root: accord_log::merkle::hex(&mirror.log.root(size)?),
                    checkpoint_size,
                    received,
                    received_unix: exchange::unix_now(),
                    late: late.iter().map(|n| n.number).collect(),
                    recovered: true,
                });
            }
            self.peer_keys.push(peer.vkey.clone());
            self.targets.push(Arc::new(Target {
                url: peer.url.clone(),
                vkey: peer.witness_vkey.clone(),
                status: Mutex::default(),
                wake: exchange::Wake::default(),
            }));
            self.links.push(Arc::new(Link {
                cfg: peer.clone(),
                origin,
                mirror: Mutex::new(mirror),
                status: Mutex::default(),
                wake: exchange::Wake::default(),
            }));
        }
        for w in &cfg.witnesses {
            self.targets.push(Arc::new(Target {
                url: w.url.clone(),
                vkey: Some(w.vkey.clone()),
                status: Mutex::default(),
                wake: exchange::Wake::default(),
            }));
        }
        self.interval = cfg.interval;
        let inner = self
            .inner
            .get_mut()
            .map_err(|_| bad("the node's lock is poisoned".into()))?;
        let mut receipts = receipts;
        for r in gaps {
            exchange::append_receipt(&mut receipts, &inner.signer, &r).map_err(bad)?;
        }
        inner.receipts = Some(receipts);
        Ok(self)
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

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
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
        .route("/inspections", post(post_inspection))
        .route("/proof/consistency", get(get_consistency))
        .route("/proof/inclusion", get(get_inclusion))
        .route("/receipts", get(get_receipts))
        .route("/tile/{*path}", get(get_tile))
        .route("/checkpoint", get(get_checkpoint))
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/status", get(get_status))
        .route("/exchange", get(get_exchange))
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

impl Node {
    /// The node's state, locked (a poisoned lock is an internal error).
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, ApiError> {
        self.inner
            .lock()
            .map_err(|_| internal("the node's lock is poisoned"))
    }
}

impl Link {
    /// The mirror, locked (a poisoned lock is an internal error).
    fn lock_mirror(&self) -> Result<std::sync::MutexGuard<'_, exchange::Mirror>, ApiError> {
        self.mirror
            .lock()
            .map_err(|_| internal("a mirror's lock is poisoned"))
    }
}

/// Runs blocking store work off the async threads.
pub(crate) async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
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

/// Operators, readers, or a peer signing with its log key (`Accord-Peer`):
/// the log's entries (tiles, the feed, proofs, receipts).
fn authorize_read(node: &Node, headers: &HeaderMap, uri: &axum::http::Uri) -> Result<(), ApiError> {
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
            self.log_grew();
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
    let note = blocking(move || {
        let mut inner = node.lock()?;
        let Inner { log, signer, .. } = &mut *inner;
        let note = log.checkpoint(signer).map_err(internal)?;
        // With the cosignatures the witnesses returned for this size.
        let size = log.size();
        let mut n = accord_log::Note::parse(&note).map_err(internal)?;
        for t in &node.targets {
            let st = t.status.lock().map(|s| s.clone()).unwrap_or_default();
            if let (true, Some(line)) = (st.verified && st.acknowledged == size, st.cosignature) {
                if n.add_line(line).is_err() {
                    eprintln!("accord-node: a stored cosignature is malformed; not served");
                }
            }
        }
        Ok(n.to_text())
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

/// Parses a C2SP tlog-witness `add-checkpoint` body.
pub(crate) fn parse_add_checkpoint(
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
    let now = exchange::unix_now();
    // A peer's new checkpoint: its entries are waiting, so pull now.
    if let Some(origin) = note.lines().next() {
        for l in node.links.iter().filter(|l| l.origin == origin) {
            l.wake.signal();
        }
    }
    blocking(move || {
        let inner = node.lock()?;
        let Some(w) = &inner.witness else {
            return Ok((StatusCode::NOT_FOUND, "this node runs no witness\n").into_response());
        };
        witness_answer(w, &note, old, &proof, now)
    })
    .await
}

/// The C2SP tlog-witness answer to an `add-checkpoint`: 200 with the
/// cosignature line, 409 with `text/x.tlog.size`, or 400/403/404/422.
pub(crate) fn witness_answer(
    w: &Witness,
    note: &str,
    old: u64,
    proof: &[accord_log::merkle::Hash],
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
        Err(WitnessError::State { .. }) => Err(internal("witness state")),
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            Ok((status, format!("{e}\n")).into_response())
        }
    }
}

/// `GET /status?date=YYYY-MM-DD`.
#[derive(Debug, Deserialize)]
pub struct StatusQuery {
    /// The date for compliance (default: today on the node's clock).
    pub date: Option<chrono::NaiveDate>,
}

/// A party's compliance on `date` from its registry, with the findings of
/// the inspections it received and the late deliveries seen by this node.
fn compliance(
    treaty: &Treaty,
    registry: &Store,
    inspections: &[accord_inspect::record::InspectionRecord],
    late: &[accord_registry::Finding],
    date: chrono::NaiveDate,
) -> Result<accord_registry::Report, ApiError> {
    let mut report = registry
        .evaluate(treaty, &[date])
        .map_err(internal)?
        .remove(0);
    let party = &registry.meta().party;
    let received: Vec<_> = inspections
        .iter()
        .filter(|r| &r.inspected_party == party)
        .cloned()
        .collect();
    let mut extra: Vec<accord_registry::Finding> =
        accord_inspect::record::findings(treaty, &received, date)
            .into_iter()
            .filter(|f| f.kind != accord_registry::FindingKind::InspectionQuotaExceeded)
            .collect();
    // Quotas bind the inspecting party.
    let made: Vec<_> = inspections
        .iter()
        .filter(|r| &r.inspecting_party == party)
        .cloned()
        .collect();
    extra.extend(
        accord_inspect::record::findings(treaty, &made, date)
            .into_iter()
            .filter(|f| f.kind == accord_registry::FindingKind::InspectionQuotaExceeded),
    );
    extra.extend(late.iter().filter(|f| f.date <= date).cloned());
    report.findings.extend(extra);
    report.findings.sort_by_key(|f| f.date);
    Ok(report)
}

/// The inspection records a registry holds.
fn inspections_of(
    registry: &Store,
) -> Result<Vec<accord_inspect::record::InspectionRecord>, ApiError> {
    registry
        .records(accord_inspect::record::RECORD_KIND)
        .map_err(internal)?
        .into_iter()
        .map(|(id, body)| {
            serde_json::from_str(&body)
                .map_err(|e| internal(format!("stored inspection {id}: {e}")))
        })
        .collect()
}

/// Inspections used against each type's quota in the treaty year of `date`.
fn quota_use(
    treaty: &Treaty,
    parties: &[String],
    inspections: &[accord_inspect::record::InspectionRecord],
    date: chrono::NaiveDate,
) -> serde_json::Value {
    let Some((year, start, end)) = treaty.treaty_year(date) else {
        return serde_json::json!({"treaty_year": null, "parties": []});
    };
    let rows: Vec<serde_json::Value> = parties
        .iter()
        .map(|p| {
            let types: Vec<serde_json::Value> = treaty
                .inspections
                .iter()
                .map(|t| {
                    let used = inspections
                        .iter()
                        .filter(|r| {
                            &r.inspecting_party == p
                                && r.inspection_type == t.id
                                && r.date >= start
                                && r.date < end
                                && r.date <= date
                        })
                        .count();
                    serde_json::json!({"type": t.id, "name": t.name, "used": used, "quota": t.per_treaty_year})
                })
                .collect();
            serde_json::json!({"inspecting_party": p, "types": types})
        })
        .collect();
    // Treaty years are counted from 1; `to` is the year's last day.
    let last = end.pred_opt().unwrap_or(end);
    serde_json::json!({"treaty_year": year + 1, "from": start, "to": last, "parties": rows})
}

async fn get_status(
    State(node): State<Arc<Node>>,
    Query(q): Query<StatusQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let date = q.date.unwrap_or_else(|| node.clock.today());
    blocking(move || {
        let inner = node.lock()?;
        // Inspections bear on the inspected party and on the inspecting
        // party's quota: all of them first, from every registry.
        let mut inspections = inspections_of(&inner.registry)?;
        for link in &node.links {
            inspections.extend(inspections_of(&link.lock_mirror()?.registry)?);
        }
        let own = compliance(&inner.treaty, &inner.registry, &inspections, &[], date)?;
        let mut peers = vec![];
        for link in &node.links {
            let m = link.lock_mirror()?;
            let report = compliance(&inner.treaty, &m.registry, &inspections, &m.late, date)?;
            let st = link
                .status
                .lock()
                .map_err(|_| internal("a link's lock is poisoned"))?
                .clone();
            peers.push(serde_json::json!({
                "party": link.cfg.party,
                "origin": link.origin,
                "url": link.cfg.url,
                "tree_size": m.log.size(),
                "checkpoint": m.log.latest_checkpoint().map_err(internal)?.map(|(_, n)| n),
                "link": st,
                "flagged": !m.evidence.is_empty(),
                "evidence": m.evidence,
                "late_deliveries": m.late.len(),
                "compliance": report,
            }));
        }
        let witnesses: Vec<serde_json::Value> = node
            .targets
            .iter()
            .map(|t| {
                let st = t.status.lock().map(|s| s.clone()).unwrap_or_default();
                serde_json::json!({
                    "url": t.url,
                    "cosigner": t.vkey.as_ref().map(|v| v.name().to_string()),
                    "acknowledged": st.acknowledged,
                    "cosignature": st.cosignature,
                    "verified": st.verified,
                    "last_ok": st.last_ok,
                    "last_error": st.last_error,
                    "failures": st.failures,
                })
            })
            .collect();
        let mut parties = vec![node.party.clone()];
        parties.extend(node.links.iter().map(|l| l.cfg.party.clone()));
        let receipts = match &inner.receipts {
            Some(r) => serde_json::json!({
                "tree_size": r.size(),
                "checkpoint": r.latest_checkpoint().map_err(internal)?.map(|(_, n)| n),
            }),
            None => serde_json::Value::Null,
        };
        let latest = inner.log.latest_checkpoint().map_err(internal)?;
        Ok(Json(serde_json::json!({
            "party": node.party,
            "treaty": inner.treaty.id,
            "date": date,
            "origin": inner.log.origin(),
            "tree_size": inner.log.size(),
            "checkpoint": latest.map(|(_, n)| n),
            "witness": inner.witness.as_ref().map(|w| w.verifier().to_string()),
            "compliance": own,
            "peers": peers,
            "witnesses": witnesses,
            "receipts": receipts,
            "quota": quota_use(&inner.treaty, &parties, &inspections, date),
        })))
    })
    .await
}

/// `GET /exchange`: the exchange alone, cheaply (no compliance folds): own
/// size, each mirror's size, link state and flag, each push target's state.
async fn get_exchange(State(node): State<Arc<Node>>) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(move || {
        let size = node.lock()?
            .log
            .size();
        let mut peers = vec![];
        for link in &node.links {
            let (tree_size, flagged, late) = {
                let m = link.lock_mirror()?;
                (m.log.size(), !m.evidence.is_empty(), m.late.len())
            };
            let st = link.status.lock().map(|s| s.clone()).unwrap_or_default();
            peers.push(serde_json::json!({
                "party": link.cfg.party,
                "tree_size": tree_size,
                "flagged": flagged,
                "late_deliveries": late,
                "link": st,
            }));
        }
        let targets: Vec<serde_json::Value> = node
            .targets
            .iter()
            .map(|t| {
                let st = t.status.lock().map(|s| s.clone()).unwrap_or_default();
                serde_json::json!({"url": t.url, "acknowledged": st.acknowledged, "verified": st.verified, "last_error": st.last_error})
            })
            .collect();
        Ok(Json(serde_json::json!({
            "party": node.party,
            "tree_size": size,
            "peers": peers,
            "witnesses": targets,
        })))
    }).await
}

/// `POST /inspections` (operator): an inspection this party made of a peer,
/// or one a peer made of it. It is checked against the inspected party's
/// registry (the mirror, for a peer) on its date, as the treaty allows it,
/// and stored there; its findings join that party's compliance, and it
/// counts against the inspecting party's quota.
async fn post_inspection(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    authorize(&node, &headers)?;
    let rec: accord_inspect::record::InspectionRecord =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest {
            message: format!("inspection record: {e}"),
            field: serde_field(&e.to_string()),
        })?;
    let parties = [rec.inspecting_party.as_str(), rec.inspected_party.as_str()];
    if !parties.contains(&node.party.as_str()) {
        return Err(ApiError::Forbidden(format!(
            "this node records inspections made by or of {}",
            node.party
        )));
    }
    blocking(move || {
        let store_in = |registry: &Store| -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
            let state = registry.state_on(&node.treaty, rec.date).map_err(internal)?;
            accord_inspect::record::validate(&node.treaty, &state, &rec).map_err(|r| {
                ApiError::Unprocessable {
                    message: r.to_string(),
                    field: None,
                }
            })?;
            if registry
                .records(accord_inspect::record::RECORD_KIND)
                .map_err(internal)?
                .iter()
                .any(|(id, _)| id == &rec.id)
            {
                return Err(ApiError::Conflict(format!(
                    "inspection {} is already recorded",
                    rec.id
                )));
            }
            let json = serde_json::to_string(&rec).map_err(internal)?;
            registry
                .put_record(accord_inspect::record::RECORD_KIND, &rec.id, rec.date, &json)
                .map_err(internal)?;
            Ok((
                StatusCode::CREATED,
                Json(serde_json::json!({"recorded": rec.id, "inspected_party": rec.inspected_party})),
            ))
        };
        if rec.inspected_party == node.party {
            let inner = node.lock()?;
            store_in(&inner.registry)
        } else {
            let link = node
                .links
                .iter()
                .find(|l| l.cfg.party == rec.inspected_party)
                .ok_or_else(|| ApiError::Unprocessable {
                    message: format!("{} is not a peer of this node", rec.inspected_party),
                    field: Some("inspected_party".into()),
                })?;
            let m = link.lock_mirror()?;
            store_in(&m.registry)
        }
    }).await
}

/// The field a serde error names (`unknown field `x``, `missing field `x``).
fn serde_field(message: &str) -> Option<String> {
    ["unknown field `", "missing field `"].iter().find_map(|p| {
        message
            .split_once(p)
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(f, _)| f.to_string())
    })
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    old: u64,
    new: u64,
}

/// `GET /proof/consistency?old=&new=` (readers, operators, peers).
async fn get_consistency(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<accord_log::witness::ConsistencyProofJson>, ApiError> {
    authorize_read(&node, &headers, &uri)?;
    blocking(move || {
        let inner = node.lock()?;
        let size = inner.log.size();
        if q.old > q.new || q.new > size {
            return Err(ApiError::BadRequest {
                message: format!(
                    "need old ≤ new ≤ {size} (the log's size); got {} and {}",
                    q.old, q.new
                ),
                field: Some(if q.new > size { "new" } else { "old" }.into()),
            });
        }
        let hashes = if q.old == 0 || q.old == q.new {
            vec![]
        } else {
            inner
                .log
                .consistency_proof(q.old, q.new)
                .map_err(internal)?
        };
        Ok(Json(accord_log::witness::ConsistencyProofJson {
            old_size: q.old,
            new_size: q.new,
            hashes: accord_log::witness::encode_hashes(&hashes),
        }))
    })
    .await
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    size: u64,
}

/// `GET /proof/inclusion?index=&size=` (readers, operators, peers).
async fn get_inclusion(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<InclusionQuery>,
) -> Result<Json<accord_log::witness::InclusionProofJson>, ApiError> {
    authorize_read(&node, &headers, &uri)?;
    blocking(move || {
        let inner = node.lock()?;
        let size = inner.log.size();
        if q.index >= q.size || q.size > size {
            return Err(ApiError::BadRequest {
                message: format!(
                    "need index < size ≤ {size} (the log's size); got {} and {}",
                    q.index, q.size
                ),
                field: Some(if q.size > size { "size" } else { "index" }.into()),
            });
        }
        let hashes = inner
            .log
            .inclusion_proof(q.index, q.size)
            .map_err(internal)?;
        Ok(Json(accord_log::witness::InclusionProofJson {
            leaf_index: q.index,
            tree_size: q.size,
            hashes: accord_log::witness::encode_hashes(&hashes),
        }))
    })
    .await
}

/// `GET /receipts?limit=` (readers, operators, peers): the latest receipts
/// this node logged for what its peers delivered, newest first, with the
/// signed checkpoint of the receipts log.
async fn get_receipts(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<FeedQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize_read(&node, &headers, &uri)?;
    let limit = q.limit.unwrap_or(20).min(1000);
    blocking(move || {
        let inner = node.lock()?;
        let Some(log) = &inner.receipts else {
            return Err(ApiError::NotFound(
                "this node exchanges with no peer".into(),
            ));
        };
        let size = log.size();
        let mut out = vec![];
        for index in (size.saturating_sub(limit)..size).rev() {
            let v: serde_json::Value =
                serde_json::from_slice(&log.entry(index).map_err(internal)?).map_err(internal)?;
            out.push(serde_json::json!({"index": index, "receipt": v}));
        }
        Ok(Json(serde_json::json!({
            "origin": log.origin(),
            "tree_size": size,
            "checkpoint": log.latest_checkpoint().map_err(internal)?.map(|(_, n)| n),
            "receipts": out,
        })))
    })
    .await
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
    /// A peer's party: its mirrored log instead of the node's own.
    party: Option<String>,
}

impl Node {
    /// Runs `f` on the log and registry of `party`: the node's own (`None`
    /// or its party) or a peer's mirror.
    fn with_party<R>(
        &self,
        party: Option<&str>,
        f: impl FnOnce(&LogStore, &Store) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        match party.filter(|p| *p != self.party) {
            None => {
                let inner = self.lock()?;
                f(&inner.log, &inner.registry)
            }
            Some(p) => {
                let link = self
                    .links
                    .iter()
                    .find(|l| l.cfg.party == p)
                    .ok_or_else(|| ApiError::BadRequest {
                        message: format!("`{p}` is neither this node's party nor a peer"),
                        field: Some("party".into()),
                    })?;
                let m = link.lock_mirror()?;
                f(&m.log, &m.registry)
            }
        }
    }
}

/// The latest notifications, newest first (operators only: entries are
/// confidential between the parties).
async fn get_notifications(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<FeedQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize_read(&node, &headers, &uri)?;
    let limit = q.limit.unwrap_or(20).min(1000);
    blocking(move || {
        node.with_party(q.party.as_deref(), |log, registry| {
            let size = log.size();
            let mut out = vec![];
            for index in (size.saturating_sub(limit)..size).rev() {
                let bytes = log.entry(index).map_err(internal)?;
                let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(internal)?;
                out.push(serde_json::json!({"index": index, "notification": v}));
            }
            Ok(Json(serde_json::json!({
                "party": registry.meta().party,
                "tree_size": size,
                "entries": out,
            })))
        })
    })
    .await
}

#[derive(Deserialize)]
struct HistoryQuery {
    to: Option<chrono::NaiveDate>,
    /// A peer's party: its mirrored registry.
    party: Option<String>,
}

/// The three central limits on the first of every month from the earliest
/// notification to `to` (default: today), and on `to`.
async fn get_history(
    State(node): State<Arc<Node>>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let to = q.to.unwrap_or_else(|| node.clock.today());
    blocking(move || {
        let treaty = node.treaty.clone();
        node.with_party(q.party.as_deref(), |_, registry| {
            history(&treaty, registry, to)
        })
    })
    .await
}

/// The three central limits on the first of every month from the earliest
/// notification to `to`, and on `to`.
fn history(
    treaty: &Treaty,
    registry: &Store,
    to: chrono::NaiveDate,
) -> Result<Json<serde_json::Value>, ApiError> {
    use chrono::Datelike;
    let first = registry
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
    let reports = registry.evaluate(treaty, &dates).map_err(internal)?;
    // The limits as they stand on `to` (id, name, max, binding).
    let limits = reports.last().map(|r| &r.limits);
    let points: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| serde_json::json!({"date": r.date, "values": r.aggregates}))
        .collect();
    Ok(Json(serde_json::json!({
        "party": registry.meta().party,
        "limits": limits,
        "points": points,
    })))
}

/// A C2SP tlog-tiles tile or entry bundle (operators; see [`tiles`]).
async fn get_tile(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    authorize_read(&node, &headers, &uri)?;
    let t = tiles::parse(&path).map_err(|message| ApiError::BadRequest {
        message: format!("tile/{path}: {message}"),
        field: Some("path".into()),
    })?;
    let bytes = blocking(move || {
        let inner = node.lock()?;
        tiles::read(&inner.log, t).map_err(|e| match e {
            tiles::TileError::NotYet => ApiError::NotFound(format!(
                "{} is not in the log at size {}",
                tiles::path(t),
                inner.log.size()
            )),
            tiles::TileError::Store(m) => internal(m),
        })
    })
    .await?;
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

pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Serves on a listener already bound until `shutdown` completes (tests and
/// benchmarks bind port 0 and read the port back).
pub async fn serve_until(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let exchange = start_exchange(&node);
    let served = axum::serve(listener, router(node))
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = tokio::task::spawn_blocking(move || exchange.stop()).await;
    served
}

/// Runs the node on `listen` until Ctrl-C.
pub async fn serve(node: Arc<Node>, listen: &str) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("accord node listening on http://{}", listener.local_addr()?);
    serve_until(node, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// The exchange loops of a running node; [`Exchange::stop`] ends them.
#[derive(Debug)]
pub struct Exchange {
    stop: Arc<Stop>,
    node: Arc<Node>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Exchange {
    /// Stops the loops and waits for them (a pull in flight finishes first).
    pub fn stop(self) {
        self.stop.set();
        for l in &self.node.links {
            l.wake.signal();
        }
        for t in &self.node.targets {
            t.wake.signal();
        }
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Starts one pull loop per peer and one push loop per peer and witness.
pub fn start_exchange(node: &Arc<Node>) -> Exchange {
    let stop = Arc::new(Stop::default());
    let mut threads = vec![];
    for (i, _) in node.links.iter().enumerate() {
        let (n, s) = (node.clone(), stop.clone());
        threads.push(std::thread::spawn(move || n.pull_loop(i, &s)));
    }
    for (i, _) in node.targets.iter().enumerate() {
        let (n, s) = (node.clone(), stop.clone());
        threads.push(std::thread::spawn(move || n.push_loop(i, &s)));
    }
    Exchange {
        stop,
        node: node.clone(),
        threads,
    }
}

impl Node {
    fn pull_loop(&self, i: usize, stop: &Stop) {
        let link = &self.links[i];
        while !stop.is_set() {
            let result = exchange::pull_once(link, &self.treaty, &self.peer_signer, &self.clock)
                .and_then(|applied| match applied {
                    Some(a) => self.log_receipt(link, &a).map(|()| true),
                    None => Ok(false),
                });
            let wait = {
                let Ok(mut st) = link.status.lock() else {
                    return;
                };
                match result {
                    Ok(more) => {
                        st.last_ok = Some(exchange::unix_now());
                        st.last_error = None;
                        st.failures = 0;
                        st.retry_in_ms = 0;
                        // More may be waiting: go straight on.
                        (!more).then_some(self.interval)
                    }
                    Err(e) => {
                        st.failures += 1;
                        let wait = match &e {
                            exchange::SyncError::Inconsistent(_) => {
                                exchange::backoff(self.interval, 16)
                            }
                            _ => exchange::backoff(self.interval, st.failures - 1),
                        };
                        st.last_error = Some(e.to_string());
                        st.retry_in_ms = wait.as_millis() as u64;
                        Some(wait)
                    }
                }
            };
            if let Some(w) = wait {
                link.wake.wait(w);
            }
        }
    }

    /// Logs a receipt for an applied batch and signs the receipts log.
    fn log_receipt(&self, link: &Link, a: &exchange::Applied) -> Result<(), exchange::SyncError> {
        let local = |e: String| exchange::SyncError::Local(e);
        let r = Receipt {
            kind: "receipt".into(),
            origin: link.origin.clone(),
            first: a.first,
            end: a.end,
            root: a.root.clone(),
            checkpoint_size: a.checkpoint_size,
            received: a.received,
            received_unix: exchange::unix_now(),
            late: a.late.clone(),
            recovered: false,
        };
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| local("the node's lock is poisoned".into()))?;
        let Inner {
            receipts, signer, ..
        } = &mut *inner;
        match receipts {
            Some(log) => exchange::append_receipt(log, signer, &r).map_err(local),
            None => Ok(()),
        }
    }

    fn push_loop(&self, i: usize, stop: &Stop) {
        let target = &self.targets[i];
        let mut wait = std::time::Duration::ZERO;
        while !stop.is_set() {
            target.wake.wait(wait);
            if stop.is_set() {
                return;
            }
            let result = self.push_once(target);
            let Ok(mut st) = target.status.lock() else {
                return;
            };
            match result {
                Ok(()) => {
                    st.failures = 0;
                    st.last_error = None;
                    wait = self.interval;
                }
                Err(e) => {
                    st.failures += 1;
                    st.last_error = Some(e);
                    wait = exchange::backoff(self.interval, st.failures - 1);
                }
            }
        }
    }

    /// Posts the latest checkpoint to one target if it has not cosigned it.
    fn push_once(&self, target: &Target) -> Result<(), String> {
        for _ in 0..3 {
            let acked = target
                .status
                .lock()
                .map_err(|_| "poisoned".to_string())?
                .acknowledged;
            let (note, size, proof) = {
                let mut inner = self.inner.lock().map_err(|_| "poisoned".to_string())?;
                let Inner { log, signer, .. } = &mut *inner;
                let note = log.checkpoint(signer).map_err(|e| e.to_string())?;
                let size = log.size();
                let proof = if acked > 0 && acked < size {
                    log.consistency_proof(acked, size)
                        .map_err(|e| e.to_string())?
                } else {
                    vec![]
                };
                (note, size, proof)
            };
            let have_cosig = target
                .status
                .lock()
                .map_err(|_| "poisoned".to_string())?
                .cosignature
                .is_some();
            if size == 0 || (acked == size && have_cosig) {
                return Ok(());
            }
            if acked > size {
                return Err(format!(
                    "the target acknowledges size {acked} but this log holds {size}"
                ));
            }
            let mut body = format!("old {acked}\n");
            for h in accord_log::witness::encode_hashes(&proof) {
                body.push_str(&h);
                body.push('\n');
            }
            body.push('\n');
            body.push_str(&note);
            let (status, answer) = http::request(
                &target.url,
                "POST",
                "/add-checkpoint",
                &[],
                body.as_bytes(),
                std::time::Duration::from_secs(30),
            )
            .map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&answer).trim().to_string();
            let mut st = target.status.lock().map_err(|_| "poisoned".to_string())?;
            match status {
                200 => {
                    let parsed = accord_log::Note::parse(&note).map_err(|e| e.to_string())?;
                    let verified = match &target.vkey {
                        Some(v) => {
                            let mut n = parsed.clone();
                            n.add_line(text.clone()).map_err(|e| e.to_string())?;
                            n.verify(std::slice::from_ref(v)).map_err(|e| {
                                format!("the cosignature returned does not verify: {e}")
                            })?;
                            true
                        }
                        None => false,
                    };
                    st.acknowledged = size;
                    st.cosignature = Some(text);
                    st.verified = verified;
                    st.last_ok = Some(exchange::unix_now());
                    return Ok(());
                }
                409 => {
                    // The target holds another size: start from it.
                    st.acknowledged = text
                        .parse()
                        .map_err(|_| format!("409 without a size: {text}"))?;
                    st.cosignature = None;
                }
                s => return Err(format!("add-checkpoint: {s} {text}")),
            }
        }
        Err("the target's size kept changing".into())
    }

    /// Wakes every push loop (the log grew).
    fn log_grew(&self) {
        for t in &self.targets {
            t.wake.signal();
        }
    }
}
