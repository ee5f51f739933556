//! The exchange between parties: what the risk-reduction centres' link did.
//!
//! Each node runs two kinds of background loop:
//!
//! - **push**, one per peer and per witness: when its log grows it signs a
//!   checkpoint and posts it to the target's C2SP `add-checkpoint` with a
//!   consistency proof from the size the target last acknowledged (a 409
//!   tells it that size); the cosignature that comes back is verified and
//!   served with the node's checkpoint. For a peer, the post also wakes the
//!   peer's pull loop.
//! - **pull**, one per peer: it fetches the peer's signed checkpoint,
//!   verifies the signature, proves it consistent with the last checkpoint
//!   it holds (a consistency proof the peer serves), fetches the new entries
//!   as C2SP entry bundles, recomputes the tree over them and checks it
//!   against the signed root, parses every entry as one of the peer's
//!   notifications in canonical form, and checks the batch against the
//!   mirror of the peer's registry. Only then does it append the entries to
//!   the mirror log, then the mirror registry, and then log a **receipt** (a
//!   signed entry in the node's own receipts log) saying what arrived when.
//!
//! A delivery after a notification's deadline is a `late_delivery` finding
//! against the peer. A peer whose checkpoint does not extend what the node
//! holds is **flagged**: the evidence (both signed notes and the proof it
//! served) is kept in `peers/PARTY/evidence.jsonl` and nothing is applied.
//! A peer that cannot be reached is retried with exponential backoff; since
//! the mirror is the peer's log, byte for byte, nothing is lost or
//! duplicated when it returns.

use crate::error::ApiError;
use crate::{relock, Node};
use accord_api::{EvidenceKind, LinkStatus, MirrorEvidence, PushStatus, WitnessStatus};
use accord_log::merkle::{self, decomposition, Compact, Hash, NodeSource};
use accord_log::tiles::{self, parse_bundle, TilePath, TILE_WIDTH};
use accord_log::witness::{decode_hashes, encode_hashes, ConsistencyProofJson};
use accord_log::{open_checkpoint, Evidence, LogError, LogStore, Note, Signer, Verifier};
use accord_net::Endpoint;
use accord_regime::receipts::{self, Receipt};
use accord_regime::{parse_entry, LogEntry, RegimeError};
use accord_registry::{Finding, Meta, Notification, Store, StoreError};
use accord_treaty::Treaty;
use chrono::NaiveDate;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Entries fetched per pull round (16 entry bundles).
pub const PULL_BATCH: u64 = 16 * TILE_WIDTH;

/// How far a peer's request timestamp may be from the node's clock.
pub const PEER_SKEW_SECONDS: u64 = 300;

/// The date the node lives on: the system's, or a simulated one (exercises,
/// the demo and tests drive a year of notifications in seconds).
#[derive(Debug, Clone)]
pub struct Clock(Arc<AtomicI64>);

const SYSTEM: i64 = i64::MIN;

impl Clock {
    /// The system clock (UTC).
    pub fn system() -> Clock {
        Clock(Arc::new(AtomicI64::new(SYSTEM)))
    }

    /// A simulated clock standing at `date` until [`Clock::set`].
    pub fn fixed(date: NaiveDate) -> Clock {
        let c = Clock::system();
        c.set(date);
        c
    }

    /// Moves a simulated clock (every holder of a clone sees it).
    pub fn set(&self, date: NaiveDate) {
        let days =
            (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)).num_days();
        self.0.store(days, Ordering::SeqCst);
    }

    /// Today on this clock.
    pub fn today(&self) -> NaiveDate {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
        match self.0.load(Ordering::SeqCst) {
            SYSTEM => epoch + chrono::Days::new(unix_now() / 86_400),
            d => epoch + chrono::Duration::days(d),
        }
    }
}

/// Seconds since the Unix epoch on the system clock (timestamps of
/// cosignatures and requests are always real time).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The other party, as this node knows it.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// Its party code.
    pub party: String,
    /// Its node, e.g. `http://127.0.0.1:7102`.
    pub url: String,
    /// Its log's verifier key (the checkpoint signer; also how it
    /// authenticates when it reads this node's entries).
    pub vkey: Verifier,
    /// Its witness's cosigner key, if its node witnesses this log: the
    /// cosignatures it returns are verified and served with the checkpoint.
    pub witness_vkey: Option<Verifier>,
    /// The pin of its TLS key: its node is reached only if it shows this
    /// key, and a client showing it is this peer (`None`: plain HTTP on
    /// loopback, when the node allows it).
    pub tls_pin: Option<accord_net::Pin>,
}

/// A witness this node pushes its checkpoints to.
#[derive(Debug, Clone)]
pub struct WitnessConfig {
    /// Its URL, e.g. `http://127.0.0.1:7103`.
    pub url: String,
    /// Its cosigner key (type 0x04): cosignatures are verified with it.
    pub vkey: Verifier,
    /// The pin of its TLS key.
    pub tls_pin: Option<accord_net::Pin>,
}

/// The exchange part of a node's configuration.
#[derive(Debug, Clone)]
pub struct ExchangeConfig {
    /// The data directory (mirrors go in `peers/PARTY/`, receipts in
    /// `receipts.sqlite`).
    pub dir: PathBuf,
    /// Peers.
    pub peers: Vec<PeerConfig>,
    /// Witnesses.
    pub witnesses: Vec<WitnessConfig>,
    /// The polling interval, which is also the first retry delay; retries
    /// double it up to 32 times it (at most 30 s).
    pub interval: Duration,
}

/// Why a pull round did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The peer could not be reached: retried with backoff.
    #[error("unreachable: {0}")]
    Unreachable(#[from] accord_net::ClientError),
    /// The peer answered an error status: retried with backoff.
    #[error("{path}: {status} {body}")]
    Status {
        /// What was asked.
        path: String,
        /// The status.
        status: u16,
        /// The start of its answer.
        body: String,
    },
    /// The peer sent something unusable (not misbehaviour that can be
    /// proven, such as a malformed proof): retried with backoff.
    #[error("{what}: {reason}")]
    Unusable {
        /// What it sent.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The peer misbehaved; the evidence is kept and nothing is applied.
    #[error("inconsistent: {}", .0.reason)]
    Inconsistent(Box<MirrorEvidence>),
    /// This node's mirror log failed.
    #[error("local log: {0}")]
    Log(#[from] LogError),
    /// This node's mirror registry failed.
    #[error("local registry: {0}")]
    Store(#[from] StoreError),
    /// Feeding the mirror registry failed.
    #[error("local registry: {0}")]
    Regime(#[from] RegimeError),
    /// Keeping evidence on disk failed.
    #[error("{path}: {source}")]
    Evidence {
        /// The evidence file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A lock was poisoned (a thread panicked holding it).
    #[error("the {0} lock is poisoned")]
    Poisoned(&'static str),
}

/// Why a push to a target failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The target could not be reached.
    #[error("unreachable: {0}")]
    Unreachable(#[from] accord_net::ClientError),
    /// The target refused the checkpoint.
    #[error("add-checkpoint: {status} {body}")]
    Refused {
        /// Its status.
        status: u16,
        /// The start of its answer.
        body: String,
    },
    /// A 409 without a size.
    #[error("409 without a size: {0}")]
    NoSize(String),
    /// The cosignature it returned does not verify.
    #[error("the cosignature returned does not verify: {0}")]
    BadCosignature(accord_log::NoteError),
    /// It claims a size this log never had.
    #[error("the target acknowledges size {acked} but this log holds {size}")]
    AheadOfLog {
        /// What it acknowledged.
        acked: u64,
        /// This log's size.
        size: u64,
    },
    /// It kept answering with other sizes.
    #[error("the target's size kept changing")]
    Unsettled,
    /// This node's log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A lock was poisoned.
    #[error("the {0} lock is poisoned")]
    Poisoned(&'static str),
}

/// A wake-up signal for a loop that otherwise sleeps until a deadline.
#[derive(Debug, Default)]
pub(crate) struct Wake {
    flag: Mutex<bool>,
    cv: Condvar,
}

impl Wake {
    pub(crate) fn signal(&self) {
        *relock(&self.flag) = true;
        self.cv.notify_all();
    }

    /// Sleeps until signalled or `timeout`.
    pub(crate) fn wait(&self, timeout: Duration) {
        let mut f = relock(&self.flag);
        if !*f {
            f = match self.cv.wait_timeout(f, timeout) {
                Ok((g, _)) => g,
                Err(poisoned) => {
                    self.flag.clear_poison();
                    poisoned.into_inner().0
                }
            };
        }
        *f = false;
    }
}

/// A mirror of a peer's log and registry.
pub(crate) struct Mirror {
    pub(crate) log: LogStore,
    pub(crate) registry: Store,
    evidence_path: PathBuf,
    pub(crate) evidence: Vec<MirrorEvidence>,
    /// `late_delivery` findings, from the receipts.
    pub(crate) late: Vec<Finding>,
    /// The peer's compliance, kept folded (opened at the first report).
    tracker: Option<accord_regime::tracker::Tracker>,
}

impl Mirror {
    /// The peer's compliance on `date` from its notifications alone.
    pub(crate) fn report(
        &mut self,
        treaty: &Treaty,
        date: NaiveDate,
    ) -> Result<accord_registry::Report, RegimeError> {
        self.tracker(treaty)?.report(date)
    }

    /// The tracker, opened on first use.
    pub(crate) fn tracker(
        &mut self,
        treaty: &Treaty,
    ) -> Result<&mut accord_regime::tracker::Tracker, RegimeError> {
        if self.tracker.is_none() {
            let dir = self
                .registry
                .path()
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            self.tracker = Some(accord_regime::tracker::Tracker::open(treaty, &dir)?);
        }
        match self.tracker.as_mut() {
            Some(t) => Ok(t),
            None => Err(RegimeError::Unsigned {
                path: "tracker".into(),
            }),
        }
    }

    fn track(&mut self, batch: &[Notification], folds_onto_the_tip: bool) {
        if let Some(t) = self.tracker.as_mut() {
            t.push(batch, folds_onto_the_tip);
        }
    }

    fn untrack(&mut self) {
        if let Some(t) = self.tracker.as_mut() {
            t.invalidate();
        }
    }
}

/// One peer: configuration, mirror and loop state.
pub(crate) struct Link {
    pub(crate) cfg: PeerConfig,
    pub(crate) origin: String,
    /// The peer's node, reached over its pinned key.
    endpoint: Endpoint,
    pub(crate) mirror: Mutex<Mirror>,
    pub(crate) status: Mutex<LinkStatus>,
    pub(crate) wake: Wake,
    /// A signed checkpoint announced new entries (woken by `poke`).
    poked: AtomicBool,
    /// The size of the latest checkpoint of the peer's verified (metrics).
    signed: AtomicU64,
    /// The mirror's size as last seen by the pull loop (read without the
    /// mirror's lock).
    mirrored: AtomicU64,
    /// The largest size a poke announced.
    announced: AtomicU64,
}

impl Link {
    pub(crate) fn new(cfg: PeerConfig, origin: String, mirror: Mirror, endpoint: Endpoint) -> Link {
        let size = mirror.log.size();
        Link {
            cfg,
            origin,
            endpoint,
            mirror: Mutex::new(mirror),
            status: Mutex::default(),
            wake: Wake::default(),
            poked: AtomicBool::new(false),
            signed: AtomicU64::new(size),
            mirrored: AtomicU64::new(size),
            announced: AtomicU64::new(size),
        }
    }

    /// The size of the latest checkpoint of the peer's this node verified.
    pub(crate) fn signed_size(&self) -> u64 {
        self.signed.load(Ordering::Relaxed)
    }

    /// The mirror, locked, for the pull loop (never fails: see
    /// [`Link::mirror`]).
    fn mirror_for_sync(&self) -> Result<MutexGuard<'_, Mirror>, SyncError> {
        Ok(self.mirror())
    }

    /// The mirror, locked, for a handler (never fails: see
    /// [`Link::mirror`]).
    pub(crate) fn lock_mirror(&self) -> Result<MutexGuard<'_, Mirror>, ApiError> {
        Ok(self.mirror())
    }

    /// The mirror, locked; a lock poisoned by a panic while it was held is
    /// recovered. The mirror's log and registry write in SQLite
    /// transactions (rolled back by the unwinding); the registry's
    /// in-memory tip is dropped and its tracker refolds, and the next pull
    /// round catches the registry up with the mirror log before anything
    /// else (`held`).
    pub(crate) fn mirror(&self) -> MutexGuard<'_, Mirror> {
        self.mirror.lock().unwrap_or_else(|poisoned| {
            let mut m = poisoned.into_inner();
            m.registry.abort();
            m.untrack();
            self.mirror.clear_poison();
            tracing::error!(peer = %self.cfg.party, "a mirror's lock was poisoned by a panic; recovered");
            m
        })
    }

    /// The pull loop's state.
    pub(crate) fn status(&self) -> LinkStatus {
        relock(&self.status).clone()
    }

    /// A signed checkpoint of the peer's arrived, for `size` entries: pull
    /// now, if it is more than the mirror holds and than any checkpoint
    /// announced before, and the loop is not backing off after failures.
    /// An announcement never shortens a backoff, and a checkpoint replayed
    /// by anyone wakes at most one pull, so no one can make this node pull
    /// faster than it chooses (only the peer, by signing new checkpoints).
    pub(crate) fn poke(&self, size: u64) {
        if size > self.mirrored.load(Ordering::Relaxed)
            && self.status().failures == 0
            && self.announced.fetch_max(size, Ordering::SeqCst) < size
        {
            self.poked.store(true, Ordering::SeqCst);
            self.wake.signal();
        }
    }
}

/// A push target: a peer's or a neutral witness's `add-checkpoint`.
pub(crate) struct Target {
    pub(crate) url: String,
    endpoint: Endpoint,
    /// The cosigner key, when known (always for witnesses).
    pub(crate) vkey: Option<Verifier>,
    pub(crate) status: Mutex<PushStatus>,
    pub(crate) wake: Wake,
}

impl Target {
    pub(crate) fn new(url: String, vkey: Option<Verifier>, endpoint: Endpoint) -> Target {
        Target {
            url,
            endpoint,
            vkey,
            status: Mutex::default(),
            wake: Wake::default(),
        }
    }

    /// How pushing stands.
    pub(crate) fn status(&self) -> PushStatus {
        relock(&self.status).clone()
    }

    /// The target as `/status` shows it.
    pub(crate) fn witness_status(&self) -> WitnessStatus {
        let st = self.status();
        WitnessStatus {
            url: self.url.clone(),
            cosigner: self.vkey.as_ref().map(|v| v.name().to_string()),
            acknowledged: st.acknowledged,
            cosignature: st.cosignature,
            verified: st.verified,
            last_ok: st.last_ok,
            last_error: st.last_error,
            failures: st.failures,
        }
    }
}

/// Opens (or creates) the mirror of `peer` under `dir/peers/PARTY/`. A new
/// mirror is labelled SYNTHETIC when the node's own registry is: both
/// parties of an exercise run on generated data.
pub(crate) fn open_mirror(
    dir: &Path,
    treaty: &Treaty,
    peer: &PeerConfig,
    synthetic: bool,
) -> Result<(String, Mirror), SyncError> {
    let pdir = dir.join("peers").join(&peer.party);
    std::fs::create_dir_all(&pdir).map_err(|source| SyncError::Evidence {
        path: pdir.clone(),
        source,
    })?;
    let origin = accord_log::origin(&treaty.id, &peer.party);
    let log = LogStore::open_or_init(&pdir.join("log.sqlite"), &origin, &peer.vkey)?;
    let mut registry = Store::open_or_create(
        &pdir.join("registry"),
        Meta {
            party: peer.party.clone(),
            treaty: treaty.id.clone(),
            synthetic,
            provenance: format!("mirrored from {} ({origin})", peer.url),
        },
    )?;
    accord_regime::feed::catch_up(&log, &mut registry, treaty, &peer.party)?;
    let evidence_path = pdir.join("evidence.jsonl");
    let mut evidence = vec![];
    if let Ok(text) = std::fs::read_to_string(&evidence_path) {
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
            evidence.push(serde_json::from_str(line).map_err(|e| SyncError::Unusable {
                what: format!("{}:{}", evidence_path.display(), i + 1),
                reason: e.to_string(),
            })?);
        }
    }
    Ok((
        origin,
        Mirror {
            log,
            registry,
            evidence_path,
            evidence,
            late: vec![],
            tracker: None,
        },
    ))
}

/// The notifications of a mirror's log in `from..to`.
pub(crate) fn notifications_in(
    m: &Mirror,
    from: u64,
    to: u64,
) -> Result<Vec<Notification>, RegimeError> {
    let party = m.registry.meta().party.clone();
    let mut out = vec![];
    for i in from..to {
        let bytes = m.log.entry(i)?;
        match parse_entry(
            &bytes,
            &party,
            &format!("{} entry {i}", m.log.origin()),
            false,
        ) {
            Ok(LogEntry::Notification(n)) => out.push(n),
            Ok(_) => {}
            Err(problem) => return Err(RegimeError::Entry { index: i, problem }),
        }
    }
    Ok(out)
}

impl Mirror {
    fn keep(&mut self, e: MirrorEvidence) -> Result<(), SyncError> {
        // The same misbehaviour seen again (the loop retries) is kept once.
        if self
            .evidence
            .iter()
            .any(|x| x.kind == e.kind && x.checkpoint == e.checkpoint && x.index == e.index)
        {
            return Ok(());
        }
        use std::io::Write;
        let io = |source| SyncError::Evidence {
            path: self.evidence_path.clone(),
            source,
        };
        // Plain data: serialising cannot fail.
        let line = serde_json::to_string(&e).unwrap_or_default();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.evidence_path)
            .map_err(io)?;
        writeln!(f, "{line}")
            .and_then(|()| f.sync_all())
            .map_err(io)?;
        self.evidence.push(e);
        Ok(())
    }
}

/// The value of `Authorization` with which a node reads its peer's entries:
/// `Accord-Peer TS NONCE NAME SIG`, an Ed25519 signature by the node's log
/// key over [`peer_request_text`].
pub fn peer_authorization(
    signer: &Signer,
    target: &PeerTarget<'_>,
    ts: u64,
    nonce: &str,
) -> String {
    let line = signer.sign_line(&peer_request_text(target, ts, nonce));
    let rest = line.split_once(' ').map_or("", |(_, r)| r);
    format!("Accord-Peer {ts} {nonce} {rest}")
}

/// What a peer's signed read is bound to: the log it reads (the target
/// node's origin), the node it sent it to (its TLS key's pin, and the
/// host), and the request.
#[derive(Debug, Clone, Copy)]
pub struct PeerTarget<'a> {
    /// The origin of the log read (the target node's own).
    pub origin: &'a str,
    /// The pin of the target node's TLS key (`plaintext` without TLS).
    pub key: &'a str,
    /// The `Host` the request goes to.
    pub host: &'a str,
    /// The method.
    pub method: &'a str,
    /// The path with its query.
    pub path: &'a str,
}

/// What a peer signs to read: the target's origin, TLS key and host, the
/// time, a fresh nonce, the method and the path with its query. A captured
/// header is useless at another node (another origin, key or host), for
/// another request, a second time (the nonce is remembered), and after
/// five minutes.
pub fn peer_request_text(t: &PeerTarget<'_>, ts: u64, nonce: &str) -> String {
    format!(
        "accord peer request v2\n{}\n{}\n{}\n{ts}\n{nonce}\n{} {}\n",
        t.origin, t.key, t.host, t.method, t.path
    )
}

/// How a node's TLS key appears in a peer's signed read.
pub fn key_text(pin: Option<accord_net::Pin>) -> String {
    pin.map_or_else(|| "plaintext".to_string(), |p| p.to_string())
}

/// The nonces of peer requests seen within the validity window.
#[derive(Debug, Default)]
pub struct Nonces(pub(crate) Mutex<std::collections::HashMap<String, u64>>);

/// Most nonces remembered at once; past it, new requests wait for the old
/// ones to expire (a peer reads at most a few hundred times a minute).
pub const MAX_NONCES: usize = 200_000;

impl Nonces {
    /// Remembers `nonce` (signed at `ts`); false if it was seen already or
    /// the cache is full of live nonces.
    fn fresh(&self, nonce: &str, ts: u64, now: u64) -> bool {
        let mut seen = relock(&self.0);
        if seen.len() >= MAX_NONCES / 2 {
            seen.retain(|_, t| t.abs_diff(now) <= PEER_SKEW_SECONDS);
        }
        if seen.len() >= MAX_NONCES || seen.contains_key(nonce) {
            return false;
        }
        seen.insert(nonce.to_string(), ts);
        true
    }
}

/// Why a peer's signed read is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerAuthError {
    /// Not `Accord-Peer TS NONCE NAME SIG`.
    #[error("expected `Accord-Peer TS NONCE NAME SIGNATURE`")]
    Malformed,
    /// Signed too long ago, or in the future.
    #[error("the request was signed at {ts}, more than {PEER_SKEW_SECONDS} s from this node's clock ({now})")]
    Stale {
        /// When it says it was signed.
        ts: u64,
        /// This node's clock.
        now: u64,
    },
    /// The nonce is not 16 to 64 hex digits.
    #[error("the nonce must be 16 to 64 hexadecimal digits")]
    Nonce,
    /// No peer's key signed exactly this request for this node.
    #[error("no peer signed this request for this node: {0}")]
    Signature(String),
    /// The same signed request again.
    #[error("a replayed request (its nonce was seen)")]
    Replayed,
}

/// Checks an `Accord-Peer` authorization against the peers' keys; returns
/// the peer's key name.
pub fn check_peer_authorization(
    value: &str,
    target: &PeerTarget<'_>,
    peers: &[Verifier],
    now: u64,
    nonces: &Nonces,
) -> Result<String, PeerAuthError> {
    let rest = value
        .strip_prefix("Accord-Peer ")
        .ok_or(PeerAuthError::Malformed)?;
    let mut parts = rest.splitn(4, ' ');
    let (Some(ts), Some(nonce), Some(name), Some(sig)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PeerAuthError::Malformed);
    };
    let ts: u64 = ts.parse().map_err(|_| PeerAuthError::Malformed)?;
    if ts.abs_diff(now) > PEER_SKEW_SECONDS {
        return Err(PeerAuthError::Stale { ts, now });
    }
    if !(16..=64).contains(&nonce.len()) || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PeerAuthError::Nonce);
    }
    let text = peer_request_text(target, ts, nonce);
    let note = Note::parse(&format!("{text}\n\u{2014} {name} {sig}\n"))
        .map_err(|e| PeerAuthError::Signature(e.to_string()))?;
    let ok = note
        .verify(peers)
        .map_err(|e| PeerAuthError::Signature(e.to_string()))?;
    let who = ok
        .first()
        .map(|c| c.name.clone())
        .ok_or_else(|| PeerAuthError::Signature("no peer signature".into()))?;
    // Only a verified request spends a nonce.
    if !nonces.fresh(nonce, ts, now) {
        return Err(PeerAuthError::Replayed);
    }
    Ok(who)
}

/// A fresh 128-bit nonce in hex.
fn nonce() -> String {
    use rand::RngCore as _;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The most of an error's text kept in a status or a log line: errors
/// quote what the other end sent (a malformed note's line), and a hostile
/// peer or witness chooses that.
const MAX_ERROR_CHARS: usize = 400;

/// `e`'s text, cut at [`MAX_ERROR_CHARS`] characters.
fn bounded_error(e: &impl std::fmt::Display) -> String {
    let text = e.to_string();
    match text.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => format!("{}… ({} bytes in all)", &text[..cut], text.len()),
        None => text,
    }
}

/// A GET to the peer's node; with `signer`, signed for the peer's log.
fn get(link: &Link, path: &str, signer: Option<&Signer>) -> Result<Vec<u8>, SyncError> {
    let ep = &link.endpoint;
    let key = key_text(link.cfg.tls_pin);
    let auth = signer.map(|s| {
        let t = PeerTarget {
            origin: &link.origin,
            key: &key,
            host: ep.authority(),
            method: "GET",
            path,
        };
        peer_authorization(s, &t, unix_now(), &nonce())
    });
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let reply = ep.get(path, &headers)?;
    match reply.status {
        200 => Ok(reply.body.to_vec()),
        s => Err(SyncError::Status {
            path: path.to_string(),
            status: s,
            body: reply
                .text()
                .chars()
                .take(200)
                .collect::<String>()
                .trim()
                .to_string(),
        }),
    }
}

/// The consistency proof `old → new` the peer serves.
fn fetch_proof(link: &Link, signer: &Signer, old: u64, new: u64) -> Result<Vec<Hash>, SyncError> {
    let what = format!("/proof/consistency?old={old}&new={new}");
    let body = get(link, &what, Some(signer))?;
    let unusable = |reason: String| SyncError::Unusable {
        what: what.clone(),
        reason,
    };
    let p: ConsistencyProofJson =
        serde_json::from_slice(&body).map_err(|e| unusable(e.to_string()))?;
    decode_hashes(&p.hashes).map_err(unusable)
}

/// Entries `from..to` of a log whose signed size is `size`, from its bundles.
fn fetch_entries(
    link: &Link,
    signer: &Signer,
    from: u64,
    to: u64,
    size: u64,
) -> Result<Vec<Vec<u8>>, SyncError> {
    let mut out = vec![];
    for n in from / TILE_WIDTH..to.div_ceil(TILE_WIDTH) {
        let width = (size - n * TILE_WIDTH).min(TILE_WIDTH);
        let p = tiles::path(TilePath {
            level: None,
            index: n,
            width,
        });
        let bundle = parse_bundle(&get(link, &format!("/{p}"), Some(signer))?).map_err(|e| {
            SyncError::Unusable {
                what: p.clone(),
                reason: e.to_string(),
            }
        })?;
        if bundle.len() as u64 != width {
            return Err(SyncError::Unusable {
                what: p,
                reason: format!("{} entries, expected {width}", bundle.len()),
            });
        }
        for (k, e) in bundle.into_iter().enumerate() {
            let i = n * TILE_WIDTH + k as u64;
            if (from..to).contains(&i) {
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// What one pull round applied.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// The peer.
    pub party: String,
    /// First index applied.
    pub first: u64,
    /// One past the last.
    pub end: u64,
    /// The peer's signed size the entries were checked against.
    pub checkpoint_size: u64,
    /// The mirror's root at `end`.
    pub root: String,
    /// The date received (the node's clock).
    pub received: NaiveDate,
    /// Notification numbers delivered after their deadline.
    pub late: Vec<u64>,
}

/// What a pull round needs to know of the mirror, read under its lock.
pub struct Held {
    size: u64,
    /// The last checkpoint of the peer's the mirror holds: (size, root, note).
    last: Option<(u64, Hash, String)>,
    /// The compact range of the mirror's tree, to extend it.
    compact: Compact,
}

fn held(link: &Link, treaty: &Treaty) -> Result<Held, SyncError> {
    let mut guard = link.mirror_for_sync()?;
    let m = &mut *guard;
    // A registry write that failed after its log append is caught up first.
    if accord_regime::feed::catch_up(&m.log, &mut m.registry, treaty, &link.cfg.party)? > 0 {
        m.untrack();
    }
    let size = m.log.size();
    let last = match m.log.latest_checkpoint()? {
        Some((s, note)) => {
            let cp = open_checkpoint(&note, &link.cfg.vkey, &[])
                .map_err(LogError::from)?
                .into_checkpoint();
            Some((s, cp.hash, note))
        }
        None => None,
    };
    let parts: Vec<Hash> = decomposition(size)
        .into_iter()
        .map(|(l, i)| m.log.node(l, i))
        .collect::<Result<_, _>>()
        .map_err(LogError::from)?;
    let compact = Compact::from_parts(size, &parts).ok_or_else(|| SyncError::Unusable {
        what: "the mirror's tree".into(),
        reason: "its right edge does not make a compact range".into(),
    })?;
    Ok(Held {
        size,
        last,
        compact,
    })
}

/// Entries of a peer's log that passed every check a node makes before it
/// writes anything: the peer's signature on its checkpoint, consistency
/// with the last checkpoint the mirror holds, the entries against the signed
/// root, and each entry as one the peer could log, in canonical form. Only
/// [`verify_batch`] makes one, and only a verified batch is applied to a
/// mirror:
///
/// ```compile_fail
/// # use accord_node::exchange::VerifiedBatch;
/// fn forge() -> VerifiedBatch {
///     VerifiedBatch { first: 0, end: 1, entries: vec![] } // private fields
/// }
/// ```
#[derive(Debug)]
pub struct VerifiedBatch {
    first: u64,
    end: u64,
    /// The peer's signed size and note the entries were checked against.
    checkpoint_size: u64,
    note: String,
    root: Hash,
    entries: Vec<Vec<u8>>,
    parsed: Vec<LogEntry>,
}

impl VerifiedBatch {
    /// The first index.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// One past the last index.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The entries, parsed.
    pub fn entries(&self) -> &[LogEntry] {
        &self.parsed
    }
}

/// What the peer served in one round, before any check.
pub struct Served<'a> {
    /// Its signed checkpoint note.
    pub note: &'a str,
    /// The consistency proof from the mirror's last checkpoint to the note's
    /// size (when the mirror holds one).
    pub consistency: Option<&'a [Hash]>,
    /// Entries from the mirror's size.
    pub entries: Vec<Vec<u8>>,
    /// When the entries stop short of the note's size: the consistency proof
    /// from where they stop to it.
    pub rest: Option<&'a [Hash]>,
}

/// Why a batch is not verified. A `Refused` peer is retried; the others
/// are evidence of misbehaviour and flag it.
#[derive(Debug)]
pub enum BatchError {
    /// The checkpoint does not verify, or is for another log.
    Refused(String),
    /// Evidence against the peer.
    Evidence(Box<MirrorEvidence>),
}

/// Verifies what `peer` served against what the mirror holds.
pub fn verify_batch(
    peer: &PeerConfig,
    origin: &str,
    held: Held,
    served: Served<'_>,
) -> Result<VerifiedBatch, BatchError> {
    let note = served.note;
    let cp = open_checkpoint(note, &peer.vkey, &[])
        .map_err(|e| BatchError::Refused(format!("the peer's checkpoint does not verify: {e}")))?
        .into_checkpoint();
    if cp.origin != origin {
        return Err(BatchError::Refused(format!(
            "the peer's checkpoint is for `{}`, not `{origin}`",
            cp.origin
        )));
    }
    let (have, n) = (held.size, cp.size);
    let older = held.last.as_ref().map(|(_, _, note)| note.clone());
    let evidence = |kind, reason: String, index| MirrorEvidence {
        kind,
        party: peer.party.clone(),
        found_at: unix_now(),
        reason,
        evidence: None,
        index,
        checkpoint: note.to_string(),
    };
    // 1. The new checkpoint extends the last one the peer signed and this
    //    node verified.
    if let Some((s, old_root, _)) = held.last.as_ref().filter(|(s, _, _)| *s > 0 && n > have) {
        let proof = served.consistency.unwrap_or(&[]);
        if let Err(e) = merkle::verify_consistency(*s, n, old_root, &cp.hash, proof) {
            let reason = format!(
                "the peer's checkpoint at size {n} is not consistent with the one it signed at size {s}: {e}"
            );
            let mut ev = evidence(EvidenceKind::SplitView, reason.clone(), None);
            ev.evidence = Some(Evidence {
                origin: origin.to_string(),
                older: older.unwrap_or_default(),
                newer: note.to_string(),
                proof: Some(ConsistencyProofJson {
                    old_size: *s,
                    new_size: n,
                    hashes: encode_hashes(proof),
                }),
                reason,
            });
            return Err(BatchError::Evidence(Box::new(ev)));
        }
    }
    // 2. The entries make the signed tree.
    let end = have + served.entries.len() as u64;
    let mut compact = held.compact;
    for e in &served.entries {
        compact.push(merkle::leaf_hash(e), |_, _, _| {});
    }
    let root = compact.root();
    let fits = if end == n {
        root == cp.hash
    } else {
        end < n
            && merkle::verify_consistency(end, n, &root, &cp.hash, served.rest.unwrap_or(&[]))
                .is_ok()
    };
    if !fits {
        return Err(BatchError::Evidence(Box::new(evidence(
            EvidenceKind::BadEntries,
            format!(
                "entries {have}..{end} served by the peer do not make the tree it signed at size {n}"
            ),
            Some(have),
        ))));
    }
    // 3. Every entry is one the peer could log, in canonical form.
    let mut parsed = Vec::with_capacity(served.entries.len());
    for (k, bytes) in served.entries.iter().enumerate() {
        let index = have + k as u64;
        match parse_entry(bytes, &peer.party, &format!("{origin} entry {index}"), true) {
            Ok(e) => parsed.push(e),
            Err(problem) => {
                return Err(BatchError::Evidence(Box::new(evidence(
                    EvidenceKind::InvalidEntry,
                    format!("entry {index}: {problem}"),
                    Some(index),
                ))))
            }
        }
    }
    Ok(VerifiedBatch {
        first: have,
        end,
        checkpoint_size: n,
        note: note.to_string(),
        root,
        entries: served.entries,
        parsed,
    })
}

/// Applies a verified batch to the mirror: the registry must accept it
/// (else the peer is flagged); then the mirror log (durable), its
/// checkpoint, the registry. Returns what was applied.
fn apply_batch(
    m: &mut Mirror,
    treaty: &Treaty,
    batch: VerifiedBatch,
    received: NaiveDate,
) -> Result<Option<Applied>, SyncError> {
    if m.log.size() != batch.first {
        return Ok(None); // Changed under us (it cannot, with one pull loop): retry.
    }
    let party = m.registry.meta().party.clone();
    let origin = m.log.origin().to_string();
    let notes: Vec<(String, Notification)> = batch
        .parsed
        .iter()
        .enumerate()
        .filter_map(|(k, e)| match e {
            LogEntry::Notification(n) => Some((
                format!("{origin} entry {}", batch.first + k as u64),
                n.clone(),
            )),
            _ => None,
        })
        .collect();
    let has_records = notes.len() < batch.parsed.len();
    let batch_notes: Vec<Notification> = notes.iter().map(|(_, n)| n.clone()).collect();
    let staged = match m.registry.stage(treaty, &notes) {
        Ok(s) => s,
        Err(StoreError::Input(e)) => {
            let ev = MirrorEvidence {
                kind: EvidenceKind::InvalidEntry,
                party: party.clone(),
                found_at: unix_now(),
                reason: format!("the batch {}..{} is refused: {e}", batch.first, batch.end),
                evidence: None,
                index: Some(batch.first),
                checkpoint: batch.note.clone(),
            };
            m.keep(ev.clone())?;
            return Err(SyncError::Inconsistent(Box::new(ev)));
        }
        Err(e) => return Err(e.into()),
    };
    if let Err(e) = m.log.append(&batch.entries) {
        m.registry.abort();
        return Err(e.into());
    }
    if batch.end == batch.checkpoint_size {
        m.log.record_checkpoint(&batch.note)?;
    }
    // The registry follows the log. With records in the batch, it is fed in
    // log order so that it always holds a prefix of the log.
    let onto = staged.folds_onto_the_tip() && !has_records;
    let fed = if has_records {
        m.registry.abort();
        accord_regime::feed::apply(
            &mut m.registry,
            treaty,
            &origin,
            batch.first,
            batch.parsed.clone(),
        )
        .map(|_| ())
    } else {
        m.registry
            .commit(treaty, staged)
            .map(|_| ())
            .map_err(RegimeError::from)
    };
    match fed {
        Ok(()) => m.track(&batch_notes, onto),
        Err(e) => {
            // Caught up from the mirror log next round.
            m.untrack();
            tracing::error!(error = %e, "mirror registry write failed (will catch up)");
        }
    }
    let mut late = vec![];
    for (_, x) in &notes {
        if receipts::is_late(treaty, x, received) {
            late.push(x.number);
            m.late.push(receipts::late_finding(treaty, x, received));
        }
    }
    Ok(Some(Applied {
        party,
        first: batch.first,
        end: batch.end,
        checkpoint_size: batch.checkpoint_size,
        root: merkle::hex(&batch.root),
        received,
        late,
    }))
}

/// Keeps the evidence and returns the error that flags the peer.
fn flag(link: &Link, e: MirrorEvidence) -> SyncError {
    match link.mirror_for_sync().and_then(|mut m| m.keep(e.clone())) {
        Ok(()) => SyncError::Inconsistent(Box::new(e)),
        Err(x) => x,
    }
}

/// One pull round from a peer: at most [`PULL_BATCH`] entries, verified
/// and applied. `Ok(None)`: nothing new. The mirror is locked only to read
/// its state and to apply a verified batch, never across the network.
pub(crate) fn pull_once(
    link: &Link,
    treaty: &Treaty,
    signer: &Signer,
    clock: &Clock,
) -> Result<Option<Applied>, SyncError> {
    let body = get(link, "/checkpoint", None)?;
    let note = String::from_utf8(body).map_err(|_| SyncError::Unusable {
        what: "/checkpoint".into(),
        reason: "not UTF-8".into(),
    })?;
    let cp = open_checkpoint(&note, &link.cfg.vkey, &[])
        .map_err(|e| SyncError::Unusable {
            what: "/checkpoint".into(),
            reason: format!("the peer's checkpoint does not verify: {e}"),
        })?
        .into_checkpoint();
    link.signed.fetch_max(cp.size, Ordering::Relaxed);
    let h = held(link, treaty)?;
    link.mirrored.store(h.size, Ordering::Relaxed);
    let (have, n) = (h.size, cp.size);
    if n <= have {
        // Nothing new; but the peer's tree at n must be the one held.
        let m = link.mirror_for_sync()?;
        let root_n = m.log.root(n)?;
        if n > 0 && root_n != cp.hash {
            let reason = format!("the peer signed a root for size {n} that differs from the tree of the entries it served before");
            drop(m);
            return Err(flag(
                link,
                MirrorEvidence {
                    kind: EvidenceKind::SplitView,
                    party: link.cfg.party.clone(),
                    found_at: unix_now(),
                    reason: reason.clone(),
                    evidence: Some(Evidence {
                        origin: link.origin.clone(),
                        older: h.last.map(|(_, _, n)| n).unwrap_or_default(),
                        newer: note.clone(),
                        proof: None,
                        reason,
                    }),
                    index: None,
                    checkpoint: note,
                },
            ));
        }
        if n == have {
            m.log.record_checkpoint(&note)?;
        }
        return Ok(None);
    }
    let consistency = match h.last.as_ref().filter(|(s, _, _)| *s > 0) {
        Some((s, _, _)) => Some(fetch_proof(link, signer, *s, n)?),
        None => None,
    };
    let end = n.min((have / TILE_WIDTH) * TILE_WIDTH + PULL_BATCH);
    let entries = fetch_entries(link, signer, have, end, n)?;
    let rest = if end < n {
        Some(fetch_proof(link, signer, end, n)?)
    } else {
        None
    };
    let served = Served {
        note: &note,
        consistency: consistency.as_deref(),
        entries,
        rest: rest.as_deref(),
    };
    let batch = match verify_batch(&link.cfg, &link.origin, h, served) {
        Ok(b) => b,
        Err(BatchError::Refused(reason)) => {
            return Err(SyncError::Unusable {
                what: "/checkpoint".into(),
                reason,
            })
        }
        Err(BatchError::Evidence(e)) => return Err(flag(link, *e)),
    };
    let mut m = link.mirror_for_sync()?;
    let applied = apply_batch(&mut m, treaty, batch, clock.today());
    link.mirrored.store(m.log.size(), Ordering::Relaxed);
    applied
}

impl Node {
    pub(crate) fn pull_loop(&self, i: usize, stop: &Stop) {
        let Some(link) = self.links.get(i) else {
            return;
        };
        while !stop.is_set() {
            link.poked.store(false, Ordering::SeqCst);
            let result =
                pull_once(link, &self.treaty, &self.peer_signer, &self.clock).and_then(|applied| {
                    match applied {
                        Some(a) => self.log_receipt(link, &a).map(|()| true),
                        None => Ok(false),
                    }
                });
            let wait = {
                let mut st = relock(&link.status);
                match result {
                    Ok(more) => {
                        st.last_ok = Some(unix_now());
                        st.last_error = None;
                        st.failures = 0;
                        st.retry_in_ms = 0;
                        // More may be waiting: go straight on.
                        (!more).then_some(self.interval)
                    }
                    Err(e) => {
                        st.failures += 1;
                        let wait = match &e {
                            SyncError::Inconsistent(_) => backoff(self.interval, 16),
                            _ => backoff(self.interval, st.failures - 1),
                        };
                        let e = bounded_error(&e);
                        tracing::warn!(
                            peer = %link.cfg.party,
                            url = %link.cfg.url,
                            failures = st.failures,
                            retry_in_ms = wait.as_millis() as u64,
                            error = %e,
                            "pull failed"
                        );
                        st.last_error = Some(e);
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
    fn log_receipt(&self, link: &Link, a: &Applied) -> Result<(), SyncError> {
        let r = Receipt {
            kind: "receipt".into(),
            origin: link.origin.clone(),
            first: a.first,
            end: a.end,
            root: a.root.clone(),
            checkpoint_size: a.checkpoint_size,
            received: a.received,
            received_unix: unix_now(),
            late: a.late.clone(),
            recovered: false,
        };
        let mut inner = self.state();
        let crate::Inner {
            receipts, signer, ..
        } = &mut *inner;
        match receipts {
            Some(log) => receipts::append(log, signer, &r).map_err(SyncError::from),
            None => Ok(()),
        }
    }

    pub(crate) fn push_loop(&self, i: usize, stop: &Stop) {
        let Some(target) = self.targets.get(i) else {
            return;
        };
        let mut wait = Duration::ZERO;
        while !stop.is_set() {
            target.wake.wait(wait);
            if stop.is_set() {
                return;
            }
            let result = self.push_once(target);
            let mut st = relock(&target.status);
            match result {
                Ok(()) => {
                    st.failures = 0;
                    st.last_error = None;
                    wait = self.interval;
                }
                Err(e) => {
                    let e = bounded_error(&e);
                    tracing::warn!(target_url = %target.url, failures = st.failures + 1, error = %e, "push failed");
                    st.failures += 1;
                    st.last_error = Some(e);
                    wait = backoff(self.interval, st.failures - 1);
                }
            }
        }
    }

    /// Posts the latest checkpoint to one target if it has not cosigned it.
    fn push_once(&self, target: &Target) -> Result<(), PushError> {
        for _ in 0..3 {
            let acked = relock(&target.status).acknowledged;
            let (note, size, proof) = {
                let mut inner = self.state();
                let crate::Inner { log, signer, .. } = &mut *inner;
                let note = log.checkpoint(signer)?;
                let size = log.size();
                let proof = if acked > 0 && acked < size {
                    log.consistency_proof(acked, size)?
                } else {
                    vec![]
                };
                (note, size, proof)
            };
            let have_cosig = relock(&target.status).cosignature.is_some();
            if size == 0 || (acked == size && have_cosig) {
                return Ok(());
            }
            if acked > size {
                return Err(PushError::AheadOfLog { acked, size });
            }
            let mut body = format!("old {acked}\n");
            for h in encode_hashes(&proof) {
                body.push_str(&h);
                body.push('\n');
            }
            body.push('\n');
            body.push_str(&note);
            let reply = target.endpoint.post(
                "/add-checkpoint",
                &[("Content-Type", "text/plain; charset=utf-8")],
                body.into_bytes(),
            )?;
            let status = reply.status;
            let text = reply.text().trim().to_string();
            let mut st = relock(&target.status);
            match status {
                200 => {
                    let verified = match &target.vkey {
                        Some(v) => {
                            let mut n = Note::parse(&note).map_err(PushError::BadCosignature)?;
                            n.add_line(text.clone())
                                .map_err(PushError::BadCosignature)?;
                            n.verify(std::slice::from_ref(v))
                                .map_err(PushError::BadCosignature)?;
                            true
                        }
                        None => false,
                    };
                    st.acknowledged = size;
                    st.cosignature = Some(text);
                    st.verified = verified;
                    st.last_ok = Some(unix_now());
                    return Ok(());
                }
                409 => {
                    // The target holds another size: start from it.
                    st.acknowledged = text.parse().map_err(|_| PushError::NoSize(text))?;
                    st.cosignature = None;
                }
                s => {
                    return Err(PushError::Refused {
                        status: s,
                        body: text.chars().take(200).collect(),
                    })
                }
            }
        }
        Err(PushError::Unsettled)
    }
}

/// How long to wait after `failures` consecutive failures.
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    let cap = (interval * 32).min(Duration::from_secs(30));
    interval
        .checked_mul(1u32 << failures.min(16))
        .unwrap_or(cap)
        .min(cap)
}

/// The stop signal shared by a node's loops.
#[derive(Debug, Default)]
pub struct Stop(AtomicBool);

impl Stop {
    /// Whether to stop.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Asks every loop to stop.
    pub fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap() {
        let i = Duration::from_millis(100);
        assert_eq!(backoff(i, 0), i);
        assert_eq!(backoff(i, 3), Duration::from_millis(800));
        assert_eq!(backoff(i, 5), Duration::from_millis(3200));
        assert_eq!(backoff(i, 6), Duration::from_millis(3200));
        assert_eq!(backoff(Duration::from_secs(2), 9), Duration::from_secs(30));
    }

    #[test]
    fn a_peer_signature_verifies_only_for_its_node_request_time_and_once() {
        let s = Signer::from_seed("accord/t/RU", [7; 32]).expect("test");
        let v = s.verifier();
        let t = PeerTarget {
            origin: "accord/t/US",
            key: "plaintext",
            host: "us.example:7101",
            method: "GET",
            path: "/tile/entries/000",
        };
        let n = "00112233445566778899aabbccddeeff";
        let a = peer_authorization(&s, &t, 1000, n);
        let keys = std::slice::from_ref(&v);
        let check = |t: &PeerTarget<'_>, keys: &[Verifier], now: u64, nonces: &Nonces| {
            check_peer_authorization(&a, t, keys, now, nonces)
        };
        assert_eq!(
            check(&t, keys, 1100, &Nonces::default()).expect("ok"),
            "accord/t/RU"
        );
        // The same request again at the same node: a replay.
        let seen = Nonces::default();
        assert!(check(&t, keys, 1100, &seen).is_ok());
        assert_eq!(check(&t, keys, 1100, &seen), Err(PeerAuthError::Replayed));
        // Another node (origin or host), another path, a stale clock, an
        // unknown key: refused.
        for other in [
            PeerTarget {
                origin: "accord/t/CN",
                ..t
            },
            PeerTarget {
                key: "sha256/another",
                ..t
            },
            PeerTarget {
                host: "cn.example:7101",
                ..t
            },
            PeerTarget {
                path: "/tile/entries/001",
                ..t
            },
        ] {
            assert!(matches!(
                check(&other, keys, 1000, &Nonces::default()),
                Err(PeerAuthError::Signature(_))
            ));
        }
        assert!(matches!(
            check(&t, keys, 1000 + 301, &Nonces::default()),
            Err(PeerAuthError::Stale { .. })
        ));
        let other = Signer::from_seed("accord/t/RU", [8; 32])
            .expect("test")
            .verifier();
        assert!(check(&t, &[other], 1000, &Nonces::default()).is_err());
    }

    #[test]
    fn a_simulated_clock_moves_for_every_clone() {
        let c = Clock::fixed(NaiveDate::from_ymd_opt(2021, 2, 5).expect("test"));
        let d = c.clone();
        c.set(NaiveDate::from_ymd_opt(2021, 3, 1).expect("test"));
        assert_eq!(
            d.today(),
            NaiveDate::from_ymd_opt(2021, 3, 1).expect("test")
        );
        assert!(Clock::system().today() > NaiveDate::from_ymd_opt(2026, 1, 1).expect("test"));
    }
}
