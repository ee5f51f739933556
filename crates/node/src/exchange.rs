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

use crate::http::{self, HttpError};
use crate::tiles::{self, TilePath, TILE_WIDTH};
use accord_log::merkle::{self, decomposition, Compact, Hash, NodeSource};
use accord_log::witness::{decode_hashes, encode_hashes, ConsistencyProofJson};
use accord_log::{canonical_entry, open_checkpoint, Evidence, LogStore, Note, Signer, Verifier};
use accord_registry::notification::parse_one;
use accord_registry::{Finding, FindingKind, Meta, Notification, Store};
use accord_treaty::Treaty;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
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
}

/// A witness this node pushes its checkpoints to.
#[derive(Debug, Clone)]
pub struct WitnessConfig {
    /// Its URL, e.g. `http://127.0.0.1:7103`.
    pub url: String,
    /// Its cosigner key (type 0x04): cosignatures are verified with it.
    pub vkey: Verifier,
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

/// What a pull found wrong with a peer, kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorEvidence {
    /// `split_view` (the peer signed a checkpoint that does not extend one it
    /// signed before), `bad_entries` (the entries it served do not make the
    /// tree it signed) or `invalid_entry` (it logged something that is not
    /// a valid notification of its own).
    pub kind: String,
    /// The peer.
    pub party: String,
    /// When it was found (Unix seconds).
    pub found_at: u64,
    /// Plain words.
    pub reason: String,
    /// For a split view: both signed notes and the failing proof, checkable
    /// with `accord witness evidence verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// For a bad or invalid entry: its index in the peer's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The peer's signed checkpoint it came with.
    pub checkpoint: String,
}

/// Why a pull round did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The peer could not be reached, or answered 5xx: retried with backoff.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The peer refused or sent something unusable: retried with backoff.
    #[error("{0}")]
    Refused(String),
    /// The peer misbehaved; the evidence is kept and nothing is applied.
    #[error("inconsistent: {}", .0.reason)]
    Inconsistent(Box<MirrorEvidence>),
    /// This node's own store failed.
    #[error("local store: {0}")]
    Local(String),
}

/// A wake-up signal for a loop that otherwise sleeps until a deadline.
#[derive(Debug, Default)]
pub(crate) struct Wake {
    flag: Mutex<bool>,
    cv: Condvar,
}

impl Wake {
    pub(crate) fn signal(&self) {
        if let Ok(mut f) = self.flag.lock() {
            *f = true;
            self.cv.notify_all();
        }
    }

    /// Sleeps until signalled or `timeout`.
    pub(crate) fn wait(&self, timeout: Duration) {
        let Ok(mut f) = self.flag.lock() else { return };
        if !*f {
            if let Ok((g, _)) = self.cv.wait_timeout(f, timeout) {
                f = g;
            } else {
                return;
            }
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
}

/// How a link to a peer stands (for `/status` and the dashboard).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkStatus {
    /// Last successful round (Unix seconds).
    pub last_ok: Option<u64>,
    /// The last error, if the last round failed.
    pub last_error: Option<String>,
    /// Consecutive failures.
    pub failures: u32,
    /// Milliseconds until the next attempt after a failure.
    pub retry_in_ms: u64,
}

/// One peer: configuration, mirror and loop state.
pub(crate) struct Link {
    pub(crate) cfg: PeerConfig,
    pub(crate) origin: String,
    pub(crate) mirror: Mutex<Mirror>,
    pub(crate) status: Mutex<LinkStatus>,
    pub(crate) wake: Wake,
}

impl Link {
    /// The mirror, locked, for the pull loop.
    fn mirror_for_sync(&self) -> Result<std::sync::MutexGuard<'_, Mirror>, SyncError> {
        self.mirror
            .lock()
            .map_err(|_| SyncError::Local("the mirror's lock is poisoned".into()))
    }
}

/// A push target: a peer's or a neutral witness's `add-checkpoint`.
pub(crate) struct Target {
    pub(crate) url: String,
    /// The cosigner key, when known (always for witnesses).
    pub(crate) vkey: Option<Verifier>,
    pub(crate) status: Mutex<PushStatus>,
    pub(crate) wake: Wake,
}

/// How pushing to a target stands.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PushStatus {
    /// The size the target acknowledged last.
    pub acknowledged: u64,
    /// The cosignature line it returned for that size (verified when its
    /// key is known).
    pub cosignature: Option<String>,
    /// Whether the cosignature verified with a configured key.
    pub verified: bool,
    /// When (Unix seconds).
    pub last_ok: Option<u64>,
    /// The last error.
    pub last_error: Option<String>,
    /// Consecutive failures.
    pub failures: u32,
}

/// `origin` of a party's log in `treaty`.
pub fn origin(treaty: &str, party: &str) -> String {
    format!("accord/{treaty}/{party}")
}

/// Opens (or creates) the mirror of `peer` under `dir/peers/PARTY/`.
pub(crate) fn open_mirror(
    dir: &Path,
    treaty: &Treaty,
    peer: &PeerConfig,
) -> Result<(String, Mirror), String> {
    let pdir = dir.join("peers").join(&peer.party);
    std::fs::create_dir_all(&pdir).map_err(|e| format!("{}: {e}", pdir.display()))?;
    let origin = origin(&treaty.id, &peer.party);
    let log_path = pdir.join("log.sqlite");
    let log = LogStore::open_or_init(&log_path, &origin, &peer.vkey)
        .map_err(|e| format!("{}: the mirror of {}: {e}", log_path.display(), peer.party))?;
    let mut registry = Store::open_or_create(
        &pdir.join("registry"),
        Meta {
            party: peer.party.clone(),
            treaty: treaty.id.clone(),
            synthetic: false,
            provenance: format!("mirrored from {} ({origin})", peer.url),
        },
    )
    .map_err(|e| e.to_string())?;
    crate::catch_up(&log, &mut registry, treaty).map_err(|e| e.to_string())?;
    let evidence_path = pdir.join("evidence.jsonl");
    let mut evidence = vec![];
    if let Ok(text) = std::fs::read_to_string(&evidence_path) {
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
            evidence.push(
                serde_json::from_str(line)
                    .map_err(|e| format!("{}:{}: {e}", evidence_path.display(), i + 1))?,
            );
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
        },
    ))
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
        let line = serde_json::to_string(&e).map_err(|x| SyncError::Local(x.to_string()))?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.evidence_path)
            .map_err(|x| SyncError::Local(x.to_string()))?;
        writeln!(f, "{line}")
            .and_then(|()| f.sync_all())
            .map_err(|x| SyncError::Local(x.to_string()))?;
        self.evidence.push(e);
        Ok(())
    }
}

/// The value of `Authorization` with which a node reads its peer's entries:
/// `Accord-Peer TS NAME SIG`, an Ed25519 signature by the node's log key
/// over [`peer_request_text`].
pub fn peer_authorization(signer: &Signer, method: &str, path: &str, ts: u64) -> String {
    let line = signer.sign_line(&peer_request_text(method, path, ts));
    let rest = line.split_once(' ').map_or("", |(_, r)| r);
    format!("Accord-Peer {ts} {rest}")
}

/// What a peer signs to read: the method, the path with its query, and the
/// time, so a captured header is useless elsewhere and after five minutes.
pub fn peer_request_text(method: &str, path: &str, ts: u64) -> String {
    format!("accord peer request v1\n{ts}\n{method} {path}\n")
}

/// Checks an `Accord-Peer` authorization against the peers' keys; returns
/// the peer's key name.
pub fn check_peer_authorization(
    value: &str,
    method: &str,
    path: &str,
    peers: &[Verifier],
    now: u64,
) -> Result<String, String> {
    let rest = value
        .strip_prefix("Accord-Peer ")
        .ok_or("not an Accord-Peer authorization")?;
    let mut parts = rest.splitn(3, ' ');
    let (Some(ts), Some(name), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected `Accord-Peer TS NAME SIGNATURE`".into());
    };
    let ts: u64 = ts.parse().map_err(|_| "the timestamp is not a number")?;
    if ts.abs_diff(now) > PEER_SKEW_SECONDS {
        return Err(format!(
            "the request was signed at {ts}, more than {PEER_SKEW_SECONDS} s from this node's clock ({now})"
        ));
    }
    let text = peer_request_text(method, path, ts);
    let note =
        Note::parse(&format!("{text}\n\u{2014} {name} {sig}\n")).map_err(|e| e.to_string())?;
    let ok = note.verify(peers).map_err(|e| e.to_string())?;
    ok.first()
        .map(|c| c.name.clone())
        .ok_or_else(|| "no peer signature".to_string())
}

fn get(url: &str, path: &str, signer: Option<&Signer>) -> Result<Vec<u8>, SyncError> {
    let auth = signer.map(|s| peer_authorization(s, "GET", path, unix_now()));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let (status, body) = http::request(url, "GET", path, &headers, b"", Duration::from_secs(30))
        .map_err(|e: HttpError| SyncError::Unreachable(e.to_string()))?;
    match status {
        200 => Ok(body),
        s if s >= 500 => Err(SyncError::Unreachable(format!(
            "{path}: {s} {}",
            String::from_utf8_lossy(&body[..body.len().min(200)]).trim()
        ))),
        s => Err(SyncError::Refused(format!(
            "{path}: {s} {}",
            String::from_utf8_lossy(&body).trim()
        ))),
    }
}

/// The consistency proof `old → new` the peer serves.
fn fetch_proof(url: &str, signer: &Signer, old: u64, new: u64) -> Result<Vec<Hash>, SyncError> {
    let body = get(
        url,
        &format!("/proof/consistency?old={old}&new={new}"),
        Some(signer),
    )?;
    let p: ConsistencyProofJson = serde_json::from_slice(&body)
        .map_err(|e| SyncError::Refused(format!("consistency proof: {e}")))?;
    decode_hashes(&p.hashes).map_err(|e| SyncError::Refused(format!("consistency proof: {e}")))
}

/// Splits an entry bundle into its entries.
pub fn parse_bundle(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = vec![];
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err("a truncated length prefix".into());
        }
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        if rest.len() < 2 + n {
            return Err(format!("entry {} is cut short", out.len()));
        }
        out.push(rest[2..2 + n].to_vec());
        rest = &rest[2 + n..];
    }
    Ok(out)
}

/// Entries `from..to` of a log whose signed size is `size`, from its bundles.
fn fetch_entries(
    url: &str,
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
        let bundle = parse_bundle(&get(url, &format!("/{p}"), Some(signer))?)
            .map_err(|e| SyncError::Refused(format!("{p}: {e}")))?;
        if bundle.len() as u64 != width {
            return Err(SyncError::Refused(format!(
                "{p}: {} entries, expected {width}",
                bundle.len()
            )));
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

/// The latest signed checkpoint of the mirror as (size, note).
fn latest_note(m: &Mirror) -> Result<Option<(u64, String)>, SyncError> {
    m.log
        .latest_checkpoint()
        .map_err(|e| SyncError::Local(e.to_string()))
}

fn split_view(
    link: &Link,
    older: Option<String>,
    note: &str,
    reason: String,
    proof: Option<ConsistencyProofJson>,
) -> MirrorEvidence {
    MirrorEvidence {
        kind: "split_view".into(),
        party: link.cfg.party.clone(),
        found_at: unix_now(),
        reason: reason.clone(),
        evidence: Some(Evidence {
            origin: link.origin.clone(),
            older: older.unwrap_or_default(),
            newer: note.to_string(),
            proof,
            reason,
        }),
        index: None,
        checkpoint: note.to_string(),
    }
}

/// Keeps the evidence and returns the error that flags the peer.
fn flag(link: &Link, e: MirrorEvidence) -> SyncError {
    match link.mirror_for_sync().and_then(|mut m| m.keep(e.clone())) {
        Ok(()) => SyncError::Inconsistent(Box::new(e)),
        Err(x) => x,
    }
}

/// What a pull round needs to know of the mirror, read under its lock.
struct Held {
    size: u64,
    /// The last checkpoint of the peer's the mirror holds: (size, root, note).
    last: Option<(u64, Hash, String)>,
    /// The root at `size`, and the compact range to extend it.
    root: Hash,
    compact: Compact,
}

fn held(link: &Link, treaty: &Treaty) -> Result<Held, SyncError> {
    let mut guard = link.mirror_for_sync()?;
    let m = &mut *guard;
    // A registry write that failed after its log append is caught up first.
    crate::catch_up(&m.log, &mut m.registry, treaty)
        .map_err(|e| SyncError::Local(e.to_string()))?;
    let size = m.log.size();
    let last = match latest_note(m)? {
        Some((s, note)) => {
            let cp = open_checkpoint(&note, &link.cfg.vkey, &[])
                .map_err(|e| SyncError::Local(e.to_string()))?
                .checkpoint;
            Some((s, cp.hash, note))
        }
        None => None,
    };
    let parts: Vec<Hash> = decomposition(size)
        .into_iter()
        .map(|(l, i)| m.log.node(l, i))
        .collect::<Result<_, _>>()
        .map_err(|e| SyncError::Local(e.to_string()))?;
    let compact = Compact::from_parts(size, &parts)
        .ok_or_else(|| SyncError::Local("the mirror's tree state is unreadable".into()))?;
    Ok(Held {
        size,
        last,
        // The compact range of the tree's right edge gives its root.
        root: compact.root(),
        compact,
    })
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
    let url = &link.cfg.url;
    let body = get(url, "/checkpoint", None)?;
    let note = String::from_utf8(body)
        .map_err(|_| SyncError::Refused("the checkpoint is not UTF-8".into()))?;
    let vc = open_checkpoint(&note, &link.cfg.vkey, &[])
        .map_err(|e| SyncError::Refused(format!("the peer's checkpoint does not verify: {e}")))?;
    let cp = vc.checkpoint;
    if cp.origin != link.origin {
        return Err(SyncError::Refused(format!(
            "the peer's checkpoint is for `{}`, not `{}`",
            cp.origin, link.origin
        )));
    }
    let h = held(link, treaty)?;
    let have = h.size;
    let n = cp.size;
    let older = h.last.as_ref().map(|(_, _, note)| note.clone());
    if n <= have {
        // Nothing new; but the peer's tree at n must be the one held.
        let root_n = if n == have {
            h.root
        } else {
            let m = link.mirror_for_sync()?;
            m.log.root(n).map_err(|e| SyncError::Local(e.to_string()))?
        };
        if n > 0 && root_n != cp.hash {
            return Err(flag(
                link,
                split_view(
                    link,
                    older,
                    &note,
                    format!("the peer signed a root for size {n} that differs from the tree of the entries it served before"),
                    None,
                ),
            ));
        }
        if n == have {
            let m = link.mirror_for_sync()?;
            m.log
                .record_checkpoint(&note)
                .map_err(|e| SyncError::Local(e.to_string()))?;
        }
        return Ok(None);
    }
    // 1. The new checkpoint extends the last one the peer signed and this
    //    node verified.
    if let Some((s, old_root, _)) = h.last.as_ref().filter(|(s, _, _)| *s > 0) {
        let proof = fetch_proof(url, signer, *s, n)?;
        if let Err(e) = merkle::verify_consistency(*s, n, old_root, &cp.hash, &proof) {
            return Err(flag(
                link,
                split_view(
                    link,
                    older,
                    &note,
                    format!("the peer's checkpoint at size {n} is not consistent with the one it signed at size {s}: {e}"),
                    Some(ConsistencyProofJson {
                        old_size: *s,
                        new_size: n,
                        hashes: encode_hashes(&proof),
                    }),
                ),
            ));
        }
    }
    // 2. The entries make the signed tree.
    let end = n.min((have / TILE_WIDTH) * TILE_WIDTH + PULL_BATCH);
    let entries = fetch_entries(url, signer, have, end, n)?;
    let mut compact = h.compact;
    for e in &entries {
        compact.push(merkle::leaf_hash(e), |_, _, _| {});
    }
    let root = compact.root();
    let fits = if end == n {
        root == cp.hash
    } else {
        let proof = fetch_proof(url, signer, end, n)?;
        merkle::verify_consistency(end, n, &root, &cp.hash, &proof).is_ok()
    };
    if !fits {
        return Err(flag(
            link,
            MirrorEvidence {
                kind: "bad_entries".into(),
                party: link.cfg.party.clone(),
                found_at: unix_now(),
                reason: format!(
                    "entries {have}..{end} served by the peer do not make the tree it signed at size {n}"
                ),
                evidence: None,
                index: Some(have),
                checkpoint: note.clone(),
            },
        ));
    }
    // 3. Every entry is one of the peer's notifications, in canonical form.
    let invalid = |index: u64, reason: String| MirrorEvidence {
        kind: "invalid_entry".into(),
        party: link.cfg.party.clone(),
        found_at: unix_now(),
        reason,
        evidence: None,
        index: Some(index),
        checkpoint: note.clone(),
    };
    let mut batch: Vec<(String, Notification)> = Vec::with_capacity(entries.len());
    for (k, bytes) in entries.iter().enumerate() {
        let index = have + k as u64;
        let at = format!("{} entry {index}", link.origin);
        let parsed = std::str::from_utf8(bytes)
            .map_err(|_| "not UTF-8".to_string())
            .and_then(|t| parse_one(t, &at).map_err(|e| e.to_string()))
            .and_then(|x| {
                if x.party != link.cfg.party {
                    return Err(format!(
                        "a notification of {}, not {}",
                        x.party, link.cfg.party
                    ));
                }
                match canonical_entry(&x.to_json()) {
                    Ok(c) if &c == bytes => Ok(x),
                    _ => Err("not in canonical form (RFC 8785)".into()),
                }
            });
        match parsed {
            Ok(x) => batch.push((at, x)),
            Err(reason) => {
                return Err(flag(
                    link,
                    invalid(index, format!("entry {index}: {reason}")),
                ))
            }
        }
    }
    // 4. The registry accepts them; then apply: mirror log (durable), its
    //    checkpoint, the registry.
    let mut guard = link.mirror_for_sync()?;
    let m = &mut *guard;
    let local = |e: accord_log::LogError| SyncError::Local(e.to_string());
    if m.log.size() != have {
        return Ok(None); // Changed under us (it cannot, with one pull loop): retry.
    }
    let staged = match m.registry.stage(treaty, &batch) {
        Ok(s) => s,
        Err(accord_registry::StoreError::Input(e)) => {
            let ev = invalid(have, format!("the batch {have}..{end} is refused: {e}"));
            m.keep(ev.clone())?;
            return Err(SyncError::Inconsistent(Box::new(ev)));
        }
        Err(e) => return Err(SyncError::Local(e.to_string())),
    };
    if let Err(e) = m.log.append(&entries) {
        m.registry.abort();
        return Err(local(e));
    }
    if end == n {
        m.log.record_checkpoint(&note).map_err(local)?;
    }
    if let Err(e) = m.registry.commit(treaty, staged) {
        // Caught up from the mirror log next round.
        eprintln!("accord-node: mirror registry write failed (will catch up): {e}");
    }
    let received = clock.today();
    let mut late = vec![];
    for (_, x) in &batch {
        if received > accord_registry::compliance::deadline(treaty, x) {
            late.push(x.number);
            m.late.push(late_finding(treaty, x, received));
        }
    }
    Ok(Some(Applied {
        party: link.cfg.party.clone(),
        first: have,
        end,
        checkpoint_size: n,
        root: merkle::hex(&root),
        received,
        late,
    }))
}

/// The finding for a notification delivered after its deadline.
pub(crate) fn late_finding(treaty: &Treaty, n: &Notification, received: NaiveDate) -> Finding {
    let due = accord_registry::compliance::deadline(treaty, n);
    Finding {
        kind: FindingKind::LateDelivery,
        message: format!(
            "{} notification {} ({}) was due by {due} and reached this node on {received}",
            n.party,
            n.number,
            n.event.kind()
        ),
        date: received,
        notification: Some(n.number),
        item: None,
        differences: vec![],
    }
}

/// A receipt: what the node logs for each batch it applies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always `receipt`.
    pub kind: String,
    /// The peer's log.
    pub origin: String,
    /// First index received.
    pub first: u64,
    /// One past the last.
    pub end: u64,
    /// The mirror's root at `end` (hex).
    pub root: String,
    /// The peer's signed size it was checked against.
    pub checkpoint_size: u64,
    /// The date received, on the node's clock.
    pub received: NaiveDate,
    /// When, in Unix seconds (system clock).
    pub received_unix: u64,
    /// Numbers delivered after their deadline.
    pub late: Vec<u64>,
    /// Logged at start for entries mirrored just before the node stopped
    /// (their `received` is the restart's date, an upper bound).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovered: bool,
}

/// Appends a receipt to the receipts log (canonical JSON, durable) and
/// signs the log's new checkpoint.
pub(crate) fn append_receipt(
    log: &mut LogStore,
    signer: &Signer,
    r: &Receipt,
) -> Result<(), String> {
    let json = serde_json::to_string(r).map_err(|e| e.to_string())?;
    log.append(&[canonical_entry(&json)?])
        .map_err(|e| e.to_string())?;
    log.checkpoint(signer).map_err(|e| e.to_string())?;
    Ok(())
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
    fn a_peer_signature_verifies_only_for_its_request_and_time() {
        let s = Signer::from_seed("accord/t/RU", [7; 32]).expect("test");
        let v = s.verifier();
        let a = peer_authorization(&s, "GET", "/tile/entries/000", 1000);
        assert_eq!(
            check_peer_authorization(
                &a,
                "GET",
                "/tile/entries/000",
                std::slice::from_ref(&v),
                1100
            )
            .expect("test"),
            "accord/t/RU"
        );
        // Another path, a stale clock, an unknown key: refused.
        assert!(check_peer_authorization(
            &a,
            "GET",
            "/tile/entries/001",
            std::slice::from_ref(&v),
            1000
        )
        .is_err());
        assert!(
            check_peer_authorization(&a, "GET", "/tile/entries/000", &[v], 1000 + 301).is_err()
        );
        let other = Signer::from_seed("accord/t/RU", [8; 32])
            .expect("test")
            .verifier();
        assert!(check_peer_authorization(&a, "GET", "/tile/entries/000", &[other], 1000).is_err());
    }

    #[test]
    fn bundles_split_and_refuse_truncation() {
        let b = [0u8, 2, b'h', b'i', 0, 1, b'!'];
        assert_eq!(
            parse_bundle(&b).expect("test"),
            vec![b"hi".to_vec(), b"!".to_vec()]
        );
        assert!(parse_bundle(&b[..5]).is_err());
        assert!(parse_bundle(&b[..1]).is_err());
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
