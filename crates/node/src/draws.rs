//! The draw protocol between two parties' nodes (`accord_draw`): a draw
//! of sites (and items within them) that neither party controls, for an
//! inspection or a freeze challenge.
//!
//! - `POST /draws` (the checking party's operator): the node commits to a
//!   fresh secret (kept in `DATA/draws/secrets/`, mode 0600, until the
//!   reveal), logs the commitment, has the neutral witness cosign it, and
//!   posts it to the checked party's node (`POST /draw/commitment`).
//! - The checked party's node verifies it with the keys of its
//!   configuration (the peer's log key, the neutral witnesses' cosigner
//!   keys). For an inspection it fixes the population from its registry on
//!   its date (every declared facility with its deployed missiles), logs
//!   it, has the same witness cosign it (strictly after the commitment),
//!   seals it, and answers with it. For a freeze challenge it answers
//!   `awaiting`: its operator gives the declaration's sites
//!   (`POST /draws/population`) and the node posts the sealed population to
//!   the checking party's node (`POST /draw/population`).
//! - The checking party's node verifies the sealed population, logs the
//!   reveal, has it cosigned, and posts it (`POST /draw/reveal`, or as the
//!   answer to `POST /draw/population`); both nodes assemble and verify the
//!   transcript.
//! - `GET /draws` and `GET /draws/transcript?draw=ID` (operators, readers,
//!   the peer) show them; `POST /draws/refusal` records a refused drawn
//!   site.
//!
//! The peer's posts are authenticated by their content: every step is a
//! log entry under a checkpoint signed by the peer's log key and cosigned
//! by a witness this node pins, and a key in a body is never used. Every
//! step is idempotent: a step posted again gets the same answer, and an
//! operator request made again resumes the draw (a step already in the log
//! is found there, not logged twice). No lock is held across the network.

use crate::error::{internal, ApiError};
use crate::exchange::{unix_now, Target};
use crate::{blocking, Node};
use accord_api::draws::{
    CommitmentAnswer, DrawFinding, DrawView, Draws as DrawsView, GivePopulation, PickView,
    RecordRefusal, StartDraw,
};
use accord_draw::{
    commit, population_entry, seal, verify_commitment, verify_population, BuildError, Canonical,
    CommitmentEntry, Cosigner, DrawError, DrawKind, DrawLog, Keys, Logged, PartyLog, Population,
    Purpose, RevealEntry, Secret,
};
use accord_log::merkle::Hash;
use accord_log::witness::encode_hashes;
use accord_log::{Checkpoint, Note, NoteError, Signer, Verifier};
use accord_regime::draws::{self as regime_draws, DrawFile, DrawRecord, Populated, Stage};
use accord_regime::{parse_entry, LogEntry};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The draws a node takes part in, and the neutral witnesses that time them.
#[derive(Default)]
pub(crate) struct Draws {
    /// `DATA/draws` (none: a node without a data directory keeps them in
    /// memory only).
    dir: Option<PathBuf>,
    /// The neutral witnesses of the configuration: a draw this node starts
    /// is cosigned by the first; one it is checked in by whichever the
    /// commitment's checkpoint carries.
    witnesses: Vec<Arc<Target>>,
    state: Mutex<DrawState>,
}

#[derive(Default)]
struct DrawState {
    held: BTreeMap<String, Held>,
    /// Draws with a step in progress.
    busy: HashSet<String>,
}

#[derive(Clone)]
struct Held {
    record: DrawRecord,
    /// The last failure to reach the peer with the draw's next step.
    peer_error: Option<String>,
}

/// A step in progress: cleared when dropped.
struct Busy<'a> {
    draws: &'a Draws,
    id: String,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.draws.state.lock() {
            s.busy.remove(&self.id);
        }
    }
}

/// Why a step of a draw could not be logged and cosigned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    /// The node's lock was poisoned.
    #[error("the node's state is poisoned")]
    Poisoned,
    /// The entry is not one this node's log may hold.
    #[error("the step cannot be logged: {0}")]
    Entry(accord_regime::EntryProblem),
    /// The log holds another entry of this kind for the draw.
    #[error("the log holds another {kind} for draw {draw}")]
    Conflict {
        /// The kind.
        kind: String,
        /// The draw.
        draw: String,
    },
    /// The log or the registry failed.
    #[error(transparent)]
    Regime(#[from] accord_regime::RegimeError),
    /// The witness could not be reached.
    #[error("the witness at {url}: {source}")]
    Unreachable {
        /// Its URL.
        url: String,
        /// The client's error.
        source: accord_net::ClientError,
    },
    /// The witness refused.
    #[error("the witness at {url} answered {status}: {body}")]
    Refused {
        /// Its URL.
        url: String,
        /// The status.
        status: u16,
        /// The start of its answer.
        body: String,
    },
    /// The witness holds a later checkpoint than the one shown: sign again.
    #[error("the witness at {url} holds size {held}, above {size}")]
    Stale {
        /// Its URL.
        url: String,
        /// What it holds.
        held: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The witness kept answering other sizes.
    #[error("the witness at {url} kept answering other sizes")]
    Unsettled {
        /// Its URL.
        url: String,
    },
    /// The cosignature returned does not verify with the pinned key.
    #[error("the witness's cosignature does not verify: {0}")]
    BadCosignature(NoteError),
}

fn remote(e: StepError) -> BuildError {
    BuildError::Remote(Box::new(e))
}

/// The node's own log, as the protocol appends to it: each call takes the
/// node's lock for itself only, so the witness is asked with no lock held.
/// A step is fed to the registry with the log (the registry holds a prefix
/// of the log), and a step the registry holds already is not appended
/// again.
struct NodeLog<'a> {
    node: &'a Node,
}

impl NodeLog<'_> {
    /// Appends a step (or finds it, if the log holds it already); its index.
    fn append_step(&self, bytes: Vec<u8>) -> Result<u64, BuildError> {
        let node = self.node;
        let parsed = parse_entry(&bytes, &node.party, "a draw step", true)
            .map_err(|e| remote(StepError::Entry(e)))?;
        let LogEntry::Draw(step) = &parsed else {
            return Err(remote(StepError::Entry(
                accord_regime::EntryProblem::UnknownEntry("not a draw step".into()),
            )));
        };
        let (kind, id) = (step.kind().to_string(), step.draw().to_string());
        let mut inner = node.inner.lock().map_err(|_| remote(StepError::Poisoned))?;
        if inner.lagging {
            let crate::Inner {
                log,
                registry,
                treaty,
                ..
            } = &mut *inner;
            accord_regime::feed::catch_up(log, registry, treaty, &node.party)
                .map_err(|e| remote(StepError::Regime(e)))?;
            inner.lagging = false;
        }
        if inner
            .registry
            .has_record(&kind, &id)
            .map_err(|e| remote(StepError::Regime(e.into())))?
        {
            // Logged before (a step resumed): it must be these bytes.
            let size = inner.log.size();
            let mut found = None;
            inner
                .log
                .for_each_entry(|i, data| {
                    if data == bytes.as_slice() {
                        found = Some(i);
                    }
                    found.is_none() && i + 1 < size
                })
                .map_err(BuildError::Log)?;
            return found.ok_or_else(|| remote(StepError::Conflict { kind, draw: id }));
        }
        let index = inner.log.append(&[bytes]).map_err(BuildError::Log)?.start;
        let crate::Inner {
            registry,
            treaty,
            lagging,
            ..
        } = &mut *inner;
        if let Err(e) =
            accord_regime::feed::apply(registry, treaty, &node.origin, index, vec![parsed])
        {
            *lagging = true;
            tracing::error!(error = %e, "registry write after a draw step failed (will catch up)");
        }
        Ok(index)
    }
}

impl DrawLog for NodeLog<'_> {
    fn origin(&self) -> &str {
        &self.node.origin
    }
    fn append_entry(&mut self, entry: Vec<u8>) -> Result<u64, BuildError> {
        self.append_step(entry)
    }
    fn sign_checkpoint(&mut self, signer: &Signer) -> Result<String, BuildError> {
        let mut inner = self
            .node
            .inner
            .lock()
            .map_err(|_| remote(StepError::Poisoned))?;
        Ok(inner.log.checkpoint(signer)?)
    }
    fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, BuildError> {
        let inner = self
            .node
            .inner
            .lock()
            .map_err(|_| remote(StepError::Poisoned))?;
        Ok(inner.log.inclusion_proof(index, size)?)
    }
    fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, BuildError> {
        let inner = self
            .node
            .inner
            .lock()
            .map_err(|_| remote(StepError::Poisoned))?;
        Ok(inner.log.consistency_proof(old, new)?)
    }
}

/// A neutral witness, over the node's client: the C2SP `add-checkpoint`
/// with the consistency proof from the size it last acknowledged (a 409
/// tells it that size). Its own clock times the cosignature; the `now`
/// the protocol passes is not used.
struct HttpWitness<'a> {
    target: &'a Target,
    /// Its cosigner key, from the configuration.
    key: Verifier,
}

impl Cosigner for HttpWitness<'_> {
    fn cosign(&mut self, log: &dyn DrawLog, note: &str, _now: u64) -> Result<String, BuildError> {
        let t = self.target;
        let url = t.url.clone();
        let size = Checkpoint::parse(&Note::parse(note)?.text)?.size;
        let mut old = t.status().acknowledged.min(size);
        for _ in 0..4 {
            let proof = if old == 0 || old >= size {
                vec![]
            } else {
                log.consistency(old, size)?
            };
            let mut body = format!("old {old}\n");
            for h in encode_hashes(&proof) {
                body.push_str(&h);
                body.push('\n');
            }
            body.push('\n');
            body.push_str(note);
            let reply = t
                .endpoint
                .post(
                    "/add-checkpoint",
                    &[("Content-Type", "text/plain; charset=utf-8")],
                    body.into_bytes(),
                )
                .map_err(|source| {
                    remote(StepError::Unreachable {
                        url: url.clone(),
                        source,
                    })
                })?;
            let text = reply.text().trim().to_string();
            match reply.status {
                200 => {
                    let mut n = Note::parse(note)?;
                    n.add_line(text.clone())
                        .map_err(|e| remote(StepError::BadCosignature(e)))?;
                    n.verify(std::slice::from_ref(&self.key))
                        .map_err(|e| remote(StepError::BadCosignature(e)))?;
                    return Ok(text);
                }
                409 => {
                    let held: u64 = text.parse().map_err(|_| {
                        remote(StepError::Refused {
                            url: url.clone(),
                            status: 409,
                            body: text.chars().take(200).collect(),
                        })
                    })?;
                    if held > size {
                        return Err(remote(StepError::Stale { url, held, size }));
                    }
                    old = held;
                }
                status => {
                    return Err(remote(StepError::Refused {
                        url,
                        status,
                        body: text.chars().take(200).collect(),
                    }))
                }
            }
        }
        Err(remote(StepError::Unsettled { url }))
    }

    fn cosigner(&self) -> Verifier {
        self.key.clone()
    }
}

/// The time (Unix seconds) of `witness`'s cosignature in a note.
fn cosigned_at(note: &Note, witness: &Verifier) -> Option<u64> {
    note.signatures
        .iter()
        .filter(|s| s.name == witness.name() && s.key_id == witness.key_id())
        .filter_map(|s| {
            let t: [u8; 8] = s.signature.get(..8)?.try_into().ok()?;
            Some(u64::from_be_bytes(t))
        })
        .max()
}

/// A draw error, as the node answers it: 422 naming the failed check.
fn refused(e: DrawError) -> ApiError {
    ApiError::Unprocessable {
        message: format!("FAILED {}: {e}", e.check()),
        field: None,
    }
}

fn step_failed(e: BuildError) -> ApiError {
    match e {
        BuildError::Draw(d) => refused(d),
        BuildError::Remote(r) => match r.downcast::<StepError>() {
            Ok(s) => match *s {
                StepError::Conflict { .. } => ApiError::Conflict(s.to_string()),
                StepError::Entry(_) => ApiError::Unprocessable {
                    message: s.to_string(),
                    field: None,
                },
                StepError::Unreachable { .. }
                | StepError::Refused { .. }
                | StepError::Stale { .. }
                | StepError::Unsettled { .. }
                | StepError::BadCosignature(_) => ApiError::BadGateway(s.to_string()),
                other => internal(other),
            },
            Err(other) => internal(other),
        },
        other => internal(other),
    }
}

fn read_body<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ApiError> {
    accord_api::read(what, body).map_err(|e| ApiError::BadRequest {
        message: format!("{what}: {}", e.message),
        field: Some(e.field),
    })
}

impl Draws {
    /// Opens `dir/draws`, verifying every draw file with the configured
    /// keys: `own` (this node's log key), the peers' log keys by party, and
    /// the neutral witnesses.
    pub(crate) fn open(
        dir: &Path,
        own: (&str, &Verifier),
        peers: &[(String, Verifier)],
        witnesses: Vec<Arc<Target>>,
    ) -> Result<Draws, accord_regime::RegimeError> {
        let dir = dir.join(regime_draws::DRAWS_DIR);
        let keys = |f: &DrawFile| -> Result<Keys, DrawError> {
            let p = &f.commitment_entry.entry.purpose;
            let key_of = |party: &str| -> Result<Verifier, DrawError> {
                if party == own.0 {
                    return Ok(own.1.clone());
                }
                peers
                    .iter()
                    .find(|(q, _)| q == party)
                    .map(|(_, k)| k.clone())
                    .ok_or_else(|| DrawError::KeyNotPinned {
                        role: accord_draw::Role::Checked,
                        key: party.to_string(),
                    })
            };
            let witness = witnesses
                .iter()
                .filter_map(|t| t.vkey.as_ref().map(Verifier::as_cosigner))
                .find(|w| w.to_string() == f.keys.witness)
                .ok_or_else(|| DrawError::KeyNotPinned {
                    role: accord_draw::Role::Witness,
                    key: f.keys.witness.chars().take(300).collect(),
                })?;
            Keys::new(
                key_of(&p.checking.party)?,
                key_of(&p.checked.party)?,
                witness,
            )
        };
        let records = regime_draws::load(&dir, |f| {
            let k = keys(&f)?;
            DrawRecord::verify(f, &k)
        })?;
        let held = records
            .into_iter()
            .map(|r| {
                (
                    r.id().to_string(),
                    Held {
                        record: r,
                        peer_error: None,
                    },
                )
            })
            .collect();
        Ok(Draws {
            dir: Some(dir),
            witnesses,
            state: Mutex::new(DrawState {
                held,
                busy: HashSet::new(),
            }),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, DrawState>, ApiError> {
        self.state
            .lock()
            .map_err(|_| internal("the draws' lock is poisoned"))
    }

    /// Every draw record, verified (for compliance).
    pub(crate) fn records(&self) -> Result<Vec<DrawRecord>, ApiError> {
        Ok(self
            .lock()?
            .held
            .values()
            .map(|h| h.record.clone())
            .collect())
    }

    /// Marks `id` busy (409 if a step of it is in progress) and returns
    /// what is held of it.
    fn begin(&self, id: &str) -> Result<(Busy<'_>, Option<Held>), ApiError> {
        let mut s = self.lock()?;
        if !s.busy.insert(id.to_string()) {
            return Err(ApiError::Conflict(format!(
                "a step of draw {id} is in progress"
            )));
        }
        let held = s.held.get(id).cloned();
        Ok((
            Busy {
                draws: self,
                id: id.to_string(),
            },
            held,
        ))
    }

    /// Saves a record (durably, before it is shown) and holds it.
    fn keep(&self, record: DrawRecord, peer_error: Option<String>) -> Result<Held, ApiError> {
        if let Some(dir) = &self.dir {
            regime_draws::save(dir, record.file()).map_err(internal)?;
        }
        let h = Held { record, peer_error };
        self.lock()?
            .held
            .insert(h.record.id().to_string(), h.clone());
        Ok(h)
    }

    fn secret_path(&self, id: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| {
            d.join("secrets")
                .join(regime_draws::file_name(id).replace(".json", ".secret"))
        })
    }
}

impl Node {
    /// This node's log key.
    fn own_key(&self) -> Verifier {
        self.peer_signer.verifier()
    }

    /// The keys of a draw between this node and a peer, from the
    /// configuration only.
    fn draw_keys(&self, purpose: &Purpose, witness: &Verifier) -> Result<Keys, ApiError> {
        let key_of = |party: &str, log: &str| -> Result<Verifier, ApiError> {
            if party == self.party && log == self.origin {
                return Ok(self.own_key());
            }
            match self.link(party) {
                Some(l) if l.origin == log => Ok(l.cfg.vkey.clone()),
                _ => Err(ApiError::Forbidden(format!(
                    "{party} ({log}) is neither this node's party nor a peer"
                ))),
            }
        };
        Keys::new(
            key_of(&purpose.checking.party, &purpose.checking.log)?,
            key_of(&purpose.checked.party, &purpose.checked.log)?,
            witness.clone(),
        )
        .map_err(refused)
    }

    /// The neutral witness whose cosigner key is `key`.
    fn witness_target(&self, key: &Verifier) -> Result<&Arc<Target>, ApiError> {
        self.draws
            .witnesses
            .iter()
            .find(|t| t.vkey.as_ref().map(Verifier::as_cosigner).as_ref() == Some(key))
            .ok_or_else(|| ApiError::Unprocessable {
                message: format!(
                    "the witness {} is not one this node is configured with",
                    key.name()
                ),
                field: None,
            })
    }

    /// Logs a step: appends it (or finds it, when resumed), signs a
    /// checkpoint, has `witness` cosign it (strictly after `after`, when
    /// given), and returns it with its inclusion proof.
    fn log_step<E: Canonical>(
        &self,
        witness: &Target,
        key: &Verifier,
        entry: E,
        after: Option<u64>,
    ) -> Result<Logged<E>, BuildError> {
        let mut log = NodeLog { node: self };
        let index = log.append_step(entry.canonical())?;
        let mut w = HttpWitness {
            target: witness,
            key: key.clone(),
        };
        let key = key.clone();
        if let Some(a) = after {
            // The witness's clock must pass `a`: wait for ours to (at most
            // a few seconds; the witness refuses nothing by waiting).
            let mut waited = 0;
            while unix_now() <= a && waited < 5 {
                std::thread::sleep(Duration::from_millis(250));
                waited += 1;
            }
        }
        let mut last = None;
        for _ in 0..5 {
            let note = log.sign_checkpoint(&self.peer_signer)?;
            let line = match w.cosign(&log, &note, unix_now()) {
                Ok(l) => l,
                Err(BuildError::Remote(r)) if r.is::<StepError>() => {
                    match r.downcast::<StepError>() {
                        Ok(s) if matches!(*s, StepError::Stale { .. }) => {
                            last = Some(BuildError::Remote(s));
                            continue;
                        }
                        Ok(s) => return Err(BuildError::Remote(s)),
                        Err(other) => return Err(BuildError::Remote(other)),
                    }
                }
                Err(e) => return Err(e),
            };
            let mut cosigned = Note::parse(&note)?;
            cosigned.add_line(line)?;
            if let Some(a) = after {
                if cosigned_at(&cosigned, &key).is_some_and(|t| t <= a) {
                    // The witness's clock is behind: ask again a second later.
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            }
            let size = Checkpoint::parse(&cosigned.text)?.size;
            let proof = encode_hashes(&log.inclusion(index, size)?);
            return Ok(Logged {
                entry,
                index,
                proof,
                checkpoint: cosigned.to_text(),
            });
        }
        Err(last.unwrap_or_else(|| {
            remote(StepError::Unsettled {
                url: witness.url.clone(),
            })
        }))
    }

    /// The view of a held draw.
    fn draw_view(&self, h: &Held) -> DrawView {
        let r = &h.record;
        let p = r.purpose();
        let witness = r
            .file()
            .keys
            .witness
            .split('+')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut v = DrawView {
            draw: p.draw.clone(),
            kind: p.kind.as_str().to_string(),
            role: if p.checking.party == self.party {
                "checking"
            } else {
                "checked"
            }
            .to_string(),
            checking: p.checking.party.clone(),
            checked: p.checked.party.clone(),
            stage: r.stage().as_str().to_string(),
            witness,
            commitment_cosigned_at: 0,
            population_cosigned_at: None,
            revealed_at: None,
            sites: None,
            subject: None,
            seed: None,
            picks: vec![],
            findings: r
                .findings(unix_now())
                .into_iter()
                .map(|f| DrawFinding {
                    kind: f.kind.as_str().to_string(),
                    date: f.date,
                    against: f.against,
                    message: f.message,
                })
                .collect(),
            peer_error: h.peer_error.clone(),
        };
        match r.stage() {
            Stage::Committed(c) => v.commitment_cosigned_at = c.cosigned_at(),
            Stage::Sealed(s) => {
                v.commitment_cosigned_at = s.commitment().cosigned_at();
                v.population_cosigned_at = Some(s.cosigned_at());
                v.sites = Some(s.sites().len() as u64);
                v.subject = s.subject().map(str::to_string);
            }
            Stage::Drawn { draw, .. } => {
                v.commitment_cosigned_at = draw.commitment_cosigned_at();
                v.population_cosigned_at = Some(draw.population_cosigned_at());
                v.revealed_at = Some(draw.revealed_at());
                v.sites = Some(draw.population_sites().len() as u64);
                v.subject = draw.subject().map(str::to_string);
                v.seed = Some(draw.seed());
                v.picks = draw
                    .picks()
                    .iter()
                    .map(|p| PickView {
                        site: p.site.clone(),
                        items: p.items.clone(),
                    })
                    .collect();
            }
        }
        v
    }

    /// Every draw this node holds, as shown.
    pub(crate) fn draw_views(&self) -> Result<Vec<(DrawView, serde_json::Value)>, ApiError> {
        let held: Vec<Held> = self.draws.lock()?.held.values().cloned().collect();
        held.iter()
            .map(|h| {
                let t = match h.record.stage() {
                    Stage::Drawn { transcript, .. } => {
                        serde_json::to_value(transcript).map_err(internal)?
                    }
                    _ => serde_json::Value::Null,
                };
                Ok((self.draw_view(h), t))
            })
            .collect()
    }

    /// Posts `body` to the peer's `path`; its 2xx answer, read as `T`.
    fn post_peer<T: serde::de::DeserializeOwned>(
        &self,
        party: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<T, String> {
        let link = self
            .link(party)
            .ok_or_else(|| format!("{party} is not a peer"))?;
        let reply = link
            .endpoint
            .post(path, &[("Content-Type", "application/json")], body)
            .map_err(|e| format!("POST {path} to {}: {e}", link.cfg.url))?;
        if !(200..300).contains(&reply.status) {
            let message = accord_api::read::<accord_api::ErrorBody>(path, &reply.body)
                .map(|e| e.error.message)
                .unwrap_or_else(|_| reply.text().chars().take(200).collect());
            return Err(format!(
                "POST {path} to {}: {}: {message}",
                link.cfg.url, reply.status
            ));
        }
        accord_api::read(path, &reply.body)
            .map_err(|e| format!("POST {path} to {}: {e}", link.cfg.url))
    }

    // ------------------------------------------------------------------
    // The checking party.

    /// `POST /draws`: commit, log, cosign, post to the checked party; with
    /// its population, reveal and post the reveal.
    fn start_draw(&self, req: StartDraw) -> Result<DrawView, ApiError> {
        accord_draw::check_draw_id(&req.draw).map_err(|e| ApiError::bad("draw", e.to_string()))?;
        let link = self
            .link(&req.checked)
            .ok_or_else(|| ApiError::Unprocessable {
                message: format!("{} is not a peer of this node", req.checked),
                field: Some("checked".into()),
            })?;
        let witness = self
            .draws
            .witnesses
            .first()
            .ok_or_else(|| ApiError::Unprocessable {
                message:
                    "this node has no neutral witness configured (`[[witnesses]]`) to time a draw"
                        .into(),
                field: None,
            })?;
        let wkey = witness
            .vkey
            .as_ref()
            .map(Verifier::as_cosigner)
            .ok_or_else(|| internal("a neutral witness without a key"))?;
        let purpose = Purpose {
            draw: req.draw.clone(),
            kind: req.kind,
            checking: PartyLog {
                party: self.party.clone(),
                log: self.origin.clone(),
            },
            checked: PartyLog {
                party: link.cfg.party.clone(),
                log: link.origin.clone(),
            },
            rule: req.rule,
        };
        purpose
            .check()
            .map_err(|e| ApiError::bad("rule", e.to_string()))?;
        let keys = self.draw_keys(&purpose, &wkey)?;
        let (_busy, held) = self.draws.begin(&purpose.draw)?;
        let held = match held {
            Some(h) if h.record.purpose() == &purpose => h,
            Some(_) => {
                return Err(ApiError::Conflict(format!(
                    "draw {} exists with another purpose",
                    purpose.draw
                )))
            }
            None => self.commit_new(&purpose, witness, &keys)?,
        };
        self.advance_checking(held, &keys)
    }

    /// Commits to a fresh secret (or the one kept from an interrupted
    /// start), logs the commitment and keeps the draw.
    fn commit_new(
        &self,
        purpose: &Purpose,
        witness: &Target,
        keys: &Keys,
    ) -> Result<Held, ApiError> {
        let secret_path = self.draws.secret_path(&purpose.draw);
        let kept = match &secret_path {
            Some(p) if p.is_file() => {
                let text = std::fs::read_to_string(p).map_err(internal)?;
                Some(
                    Secret::from_hex(text.trim())
                        .ok_or_else(|| internal(format!("{}: not a secret", p.display())))?,
                )
            }
            _ => None,
        };
        let (secret, entry) = match kept {
            Some(s) => {
                let c = accord_draw::commitment(purpose, &s).map_err(refused)?;
                let entry = CommitmentEntry {
                    entry: accord_draw::entry::EntryKind::Commitment,
                    purpose: purpose.clone(),
                    commitment: c.iter().map(|b| format!("{b:02x}")).collect(),
                };
                (s, entry)
            }
            None => commit(purpose.clone(), &mut rand::rngs::OsRng).map_err(refused)?,
        };
        // The secret is kept before the commitment is logged: a node that
        // stops in between can still reveal.
        if let Some(p) = &secret_path {
            if !p.is_file() {
                if let Some(d) = p.parent() {
                    accord_log::keys::create_private_dir(d).map_err(internal)?;
                }
                accord_log::keys::write_secret(p, &format!("{}\n", secret.to_hex()))
                    .map_err(internal)?;
            }
        }
        let logged = self
            .log_step(witness, keys.witness(), entry, None)
            .map_err(step_failed)?;
        let file = DrawFile::new(keys, logged);
        let record = DrawRecord::verify(file, keys).map_err(refused)?;
        self.log_grew();
        self.draws.keep(record, None)
    }

    /// Takes the checking party's draw as far as it can go: posts the
    /// commitment (and, with the population, reveals and posts the reveal).
    fn advance_checking(&self, mut held: Held, keys: &Keys) -> Result<DrawView, ApiError> {
        let checked = held.record.purpose().checked.party.clone();
        if let Stage::Committed(_) = held.record.stage() {
            let body =
                serde_json::to_vec(&held.record.file().commitment_entry).map_err(internal)?;
            match self.post_peer::<CommitmentAnswer>(&checked, "/draw/commitment", body) {
                Ok(CommitmentAnswer::Populated(p)) => {
                    held = self.reveal(held, *p, keys)?.0;
                }
                Ok(CommitmentAnswer::Awaiting { .. }) => {
                    held = self.draws.keep(held.record, None)?;
                }
                Err(e) => {
                    held = self.draws.keep(held.record, Some(e))?;
                }
            }
        }
        if let Stage::Drawn { .. } = held.record.stage() {
            if let Some(r) = &held.record.file().reveal_entry {
                let body = serde_json::to_vec(r).map_err(internal)?;
                let peer_error = self
                    .post_peer::<DrawView>(&checked, "/draw/reveal", body)
                    .err();
                held = self.draws.keep(held.record, peer_error)?;
            }
        }
        Ok(self.draw_view(&held))
    }

    /// Verifies the sealed population against the commitment, logs the
    /// reveal (the secret is then forgotten) and keeps the drawn draw.
    fn reveal(
        &self,
        held: Held,
        p: Populated,
        keys: &Keys,
    ) -> Result<(Held, Logged<RevealEntry>), ApiError> {
        let vc = match held.record.stage() {
            Stage::Committed(c) => c.clone(),
            _ => {
                return Err(ApiError::Conflict(format!(
                    "draw {} has a sealed population already",
                    held.record.id()
                )))
            }
        };
        let vp = verify_population(&vc, &p.population_entry, &p.population, &p.seal, keys)
            .map_err(refused)?;
        let id = held.record.id().to_string();
        let secret_path = self
            .draws
            .secret_path(&id)
            .ok_or_else(|| internal("no data directory for the draw's secret"))?;
        let text = std::fs::read_to_string(&secret_path).map_err(internal)?;
        let secret = Secret::from_hex(text.trim())
            .ok_or_else(|| internal(format!("{}: not a secret", secret_path.display())))?;
        // The sealed population is kept first: a node that stops before
        // the reveal is logged keeps what it verified.
        let mut file = held.record.file().clone();
        file.populated = Some(p);
        let sealed = DrawRecord::verify(file.clone(), keys).map_err(refused)?;
        self.draws.keep(sealed, None)?;
        let witness = self.witness_target(keys.witness())?;
        let r = self
            .log_step(
                witness,
                keys.witness(),
                vp.reveal(&secret),
                Some(vp.cosigned_at().saturating_sub(1)),
            )
            .map_err(step_failed)?;
        file.reveal_entry = Some(r.clone());
        let record = DrawRecord::verify(file, keys).map_err(refused)?;
        self.log_grew();
        let held = self.draws.keep(record, None)?;
        let _ = std::fs::remove_file(&secret_path);
        Ok((held, r))
    }

    // ------------------------------------------------------------------
    // The checked party.

    /// `POST /draw/commitment` (from the peer).
    fn receive_commitment(
        &self,
        c: Logged<CommitmentEntry>,
    ) -> Result<(StatusCode, CommitmentAnswer), ApiError> {
        let purpose = c.entry.purpose.clone();
        if purpose.checked.party != self.party || purpose.checked.log != self.origin {
            return Err(ApiError::Forbidden(format!(
                "draw {} checks {} ({}), not this node's party",
                purpose.draw, purpose.checked.party, purpose.checked.log
            )));
        }
        // The keys: the peer's from the configuration, and whichever
        // configured neutral witness cosigned the commitment.
        let mut first_error = None;
        let mut found = None;
        for t in &self.draws.witnesses {
            let Some(w) = t.vkey.as_ref().map(Verifier::as_cosigner) else {
                continue;
            };
            let keys = self.draw_keys(&purpose, &w)?;
            match verify_commitment(&c, &keys) {
                Ok(_) => {
                    found = Some(keys);
                    break;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let keys = match (found, first_error) {
            (Some(k), _) => k,
            (None, Some(e)) => return Err(refused(e)),
            (None, None) => {
                return Err(ApiError::Unprocessable {
                    message: "this node has no neutral witness configured to time a draw".into(),
                    field: None,
                })
            }
        };
        let (_busy, held) = self.draws.begin(&purpose.draw)?;
        let held = match held {
            Some(h) if h.record.file().commitment_entry == c => h,
            Some(_) => {
                return Err(ApiError::Conflict(format!(
                    "draw {} exists with another commitment",
                    purpose.draw
                )))
            }
            None => {
                let record = DrawRecord::verify(DrawFile::new(&keys, c), &keys).map_err(refused)?;
                self.draws.keep(record, None)?
            }
        };
        if let Some(p) = &held.record.file().populated {
            return Ok((
                StatusCode::OK,
                CommitmentAnswer::Populated(Box::new(p.clone())),
            ));
        }
        if purpose.kind != DrawKind::Inspection {
            return Ok((
                StatusCode::ACCEPTED,
                CommitmentAnswer::Awaiting {
                    draw: purpose.draw.clone(),
                },
            ));
        }
        let population = self.registry_population()?;
        let (held, p) = self.populate(held, population, None, &keys)?;
        drop(held);
        Ok((StatusCode::OK, CommitmentAnswer::Populated(Box::new(p))))
    }

    /// An inspection's population from this party's registry on the node's
    /// date: every declared facility, sorted, with its deployed missiles.
    fn registry_population(&self) -> Result<Population, ApiError> {
        let state = {
            let inner = self.lock()?;
            inner
                .registry
                .state_on(&self.treaty, self.clock.today())
                .map_err(internal)?
        };
        Ok(Population::of_items(state.facilities().iter().map(|f| {
            (
                f.id.to_string(),
                accord_inspect::record::deployed_missiles(&self.treaty, &state, &f.id),
            )
        })))
    }

    /// Logs and seals the population of a committed draw.
    fn populate(
        &self,
        held: Held,
        population: Population,
        subject: Option<String>,
        keys: &Keys,
    ) -> Result<(Held, Populated), ApiError> {
        let vc = match held.record.stage() {
            Stage::Committed(c) => c.clone(),
            _ => {
                return Err(ApiError::Conflict(format!(
                    "draw {} has a sealed population already",
                    held.record.id()
                )))
            }
        };
        let entry = population_entry(&vc, &population, subject).map_err(refused)?;
        let witness = self.witness_target(keys.witness())?;
        let logged = self
            .log_step(witness, keys.witness(), entry, Some(vc.cosigned_at()))
            .map_err(step_failed)?;
        let sealed = seal(&self.peer_signer, &logged, keys.witness()).map_err(refused)?;
        let p = Populated {
            population_entry: logged,
            population,
            seal: sealed,
        };
        let mut file = held.record.file().clone();
        file.populated = Some(p.clone());
        let record = DrawRecord::verify(file, keys).map_err(refused)?;
        self.log_grew();
        Ok((self.draws.keep(record, None)?, p))
    }

    /// The keys a held draw was verified with (from the configuration).
    fn held_keys(&self, h: &Held) -> Result<Keys, ApiError> {
        let w = Verifier::parse(&h.record.file().keys.witness).map_err(internal)?;
        let keys = self.draw_keys(h.record.purpose(), &w.as_cosigner())?;
        self.witness_target(keys.witness())?;
        Ok(keys)
    }

    /// `POST /draws/population` (the checked party's operator).
    fn give_population(&self, req: GivePopulation) -> Result<DrawView, ApiError> {
        let (_busy, held) = self.draws.begin(&req.draw)?;
        let held = held.ok_or_else(|| ApiError::NotFound(format!("no draw {}", req.draw)))?;
        if held.record.purpose().checked.party != self.party {
            return Err(ApiError::Forbidden(format!(
                "{} is checked in draw {}, not this node's party",
                held.record.purpose().checked.party,
                req.draw
            )));
        }
        let keys = self.held_keys(&held)?;
        let (mut held, p) = match &held.record.file().populated {
            Some(p) => {
                let p = p.clone();
                (held, p)
            }
            None => self.populate(held, req.population, req.subject, &keys)?,
        };
        if let Stage::Sealed(_) = held.record.stage() {
            let checking = held.record.purpose().checking.party.clone();
            let body = serde_json::to_vec(&p).map_err(internal)?;
            match self.post_peer::<Logged<RevealEntry>>(&checking, "/draw/population", body) {
                Ok(r) => {
                    held = self.take_reveal(held, r, &keys)?;
                }
                Err(e) => {
                    held = self.draws.keep(held.record, Some(e))?;
                }
            }
        }
        Ok(self.draw_view(&held))
    }

    /// The checked party takes the reveal: the transcript must verify.
    fn take_reveal(
        &self,
        held: Held,
        r: Logged<RevealEntry>,
        keys: &Keys,
    ) -> Result<Held, ApiError> {
        match held.record.stage() {
            Stage::Sealed(_) => {}
            Stage::Drawn { .. } if held.record.file().reveal_entry.as_ref() == Some(&r) => {
                return Ok(held)
            }
            Stage::Drawn { .. } => {
                return Err(ApiError::Conflict(format!(
                    "draw {} was revealed with another entry",
                    held.record.id()
                )))
            }
            Stage::Committed(_) => {
                return Err(ApiError::Conflict(format!(
                    "draw {} has no sealed population yet",
                    held.record.id()
                )))
            }
        }
        let mut file = held.record.file().clone();
        file.reveal_entry = Some(r);
        let record = DrawRecord::verify(file, keys).map_err(refused)?;
        self.draws.keep(record, None)
    }

    /// `POST /draw/population` (from the peer): the checking party reveals.
    fn receive_population(&self, p: Populated) -> Result<Logged<RevealEntry>, ApiError> {
        let id = p.population_entry.entry.draw.clone();
        let (_busy, held) = self.draws.begin(&id)?;
        let held = held.ok_or_else(|| ApiError::NotFound(format!("no draw {id}")))?;
        if held.record.purpose().checking.party != self.party {
            return Err(ApiError::Forbidden(format!(
                "this node's party does not check in draw {id}"
            )));
        }
        let keys = self.held_keys(&held)?;
        if let (Some(q), Some(r)) = (
            &held.record.file().populated,
            &held.record.file().reveal_entry,
        ) {
            if q == &p {
                return Ok(r.clone());
            }
            return Err(ApiError::Conflict(format!(
                "draw {id} was revealed for another population"
            )));
        }
        Ok(self.reveal(held, p, &keys)?.1)
    }

    /// `POST /draw/reveal` (from the peer).
    fn receive_reveal(&self, r: Logged<RevealEntry>) -> Result<DrawView, ApiError> {
        let id = r.entry.draw.clone();
        let (_busy, held) = self.draws.begin(&id)?;
        let held = held.ok_or_else(|| ApiError::NotFound(format!("no draw {id}")))?;
        if held.record.purpose().checked.party != self.party {
            return Err(ApiError::Forbidden(format!(
                "this node's party is not checked in draw {id}"
            )));
        }
        let keys = self.held_keys(&held)?;
        let held = self.take_reveal(held, r, &keys)?;
        Ok(self.draw_view(&held))
    }

    /// `POST /draws/refusal` (an operator).
    fn refuse(&self, req: RecordRefusal) -> Result<DrawView, ApiError> {
        let (_busy, held) = self.draws.begin(&req.draw)?;
        let held = held.ok_or_else(|| ApiError::NotFound(format!("no draw {}", req.draw)))?;
        let record =
            held.record
                .with_refusal(&req.site, req.date)
                .map_err(|e| ApiError::Unprocessable {
                    message: format!("FAILED {}: {e}", e.check()),
                    field: Some("site".into()),
                })?;
        let held = self.draws.keep(record, held.peer_error)?;
        Ok(self.draw_view(&held))
    }
}

/// Starts a draw as the checking party: commits to a fresh secret, logs
/// the commitment, has the neutral witness cosign it and posts it to the
/// checked party's node; an inspection's population comes back at once and
/// the node reveals. Posting the same request again resumes the draw.
#[utoipa::path(
    post,
    path = "/draws",
    tag = "draws",
    request_body(content = StartDraw, content_type = "application/json"),
    security(("operator" = [])),
    responses(
        (status = 201, description = "Committed (and, if the peer answered, drawn); `peer_error` says why the peer was not reached", body = DrawView),
        (status = 400, description = "Malformed; `field` names it", body = accord_api::ErrorBody),
        (status = 401, description = "No operator token", body = accord_api::ErrorBody),
        (status = 409, description = "A draw with this identifier and another purpose, or a step in progress", body = accord_api::ErrorBody),
        (status = 422, description = "Not a peer, no witness, or a step the protocol refuses (`FAILED <check>`)", body = accord_api::ErrorBody),
        (status = 502, description = "The witness failed", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn post_draws(
    State(node): State<Arc<Node>>,
    body: Bytes,
) -> Result<(StatusCode, Json<DrawView>), ApiError> {
    let req: StartDraw = read_body("draw", &body)?;
    let v = blocking(move || node.start_draw(req)).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// The checked party gives the population of a draw awaiting it (a freeze
/// challenge's sites); the node logs and seals it, posts it to the
/// checking party's node, and takes the reveal it answers with.
#[utoipa::path(
    post,
    path = "/draws/population",
    tag = "draws",
    request_body(content = GivePopulation, content_type = "application/json"),
    security(("operator" = [])),
    responses(
        (status = 200, description = "Sealed (and, if the peer answered, drawn)", body = DrawView),
        (status = 400, description = "Malformed; `field` names it", body = accord_api::ErrorBody),
        (status = 401, description = "No operator token", body = accord_api::ErrorBody),
        (status = 403, description = "This node's party is not checked in the draw", body = accord_api::ErrorBody),
        (status = 404, description = "No such draw", body = accord_api::ErrorBody),
        (status = 409, description = "Sealed already, or a step in progress", body = accord_api::ErrorBody),
        (status = 422, description = "A population the protocol refuses (`FAILED <check>`)", body = accord_api::ErrorBody),
        (status = 502, description = "The witness failed", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn post_population(
    State(node): State<Arc<Node>>,
    body: Bytes,
) -> Result<Json<DrawView>, ApiError> {
    let req: GivePopulation = read_body("population", &body)?;
    Ok(Json(blocking(move || node.give_population(req)).await?))
}

/// Records that the checked party refused a drawn site: a
/// `drawn_site_refused` finding against it.
#[utoipa::path(
    post,
    path = "/draws/refusal",
    tag = "draws",
    request_body(content = RecordRefusal, content_type = "application/json"),
    security(("operator" = [])),
    responses(
        (status = 200, description = "Recorded", body = DrawView),
        (status = 400, description = "Malformed; `field` names it", body = accord_api::ErrorBody),
        (status = 401, description = "No operator token", body = accord_api::ErrorBody),
        (status = 404, description = "No such draw", body = accord_api::ErrorBody),
        (status = 422, description = "Not drawn, or the site was not drawn", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn post_refusal(
    State(node): State<Arc<Node>>,
    body: Bytes,
) -> Result<Json<DrawView>, ApiError> {
    let req: RecordRefusal = read_body("refusal", &body)?;
    Ok(Json(blocking(move || node.refuse(req)).await?))
}

/// The checking party's commitment (from its node). Verified with the
/// keys of this node's configuration; an inspection is answered with the
/// population sealed from this node's registry, a freeze challenge with
/// `awaiting`.
#[utoipa::path(
    post,
    path = "/draw/commitment",
    tag = "draws",
    request_body(content = Object, description = "`Logged<CommitmentEntry>`: `{entry, index, proof, checkpoint}`", content_type = "application/json"),
    responses(
        (status = 200, description = "`{answer: \"populated\", population_entry, population, seal}`", body = Object),
        (status = 202, description = "`{answer: \"awaiting\", draw}`", body = Object),
        (status = 400, description = "Malformed; `field` names it", body = accord_api::ErrorBody),
        (status = 403, description = "Not a draw of this node's party by a peer", body = accord_api::ErrorBody),
        (status = 409, description = "Another commitment for this draw, or a step in progress", body = accord_api::ErrorBody),
        (status = 422, description = "It does not verify (`FAILED <check>`)", body = accord_api::ErrorBody),
        (status = 502, description = "The witness failed", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn post_commitment(
    State(node): State<Arc<Node>>,
    body: Bytes,
) -> Result<(StatusCode, Json<CommitmentAnswer>), ApiError> {
    let c: Logged<CommitmentEntry> = read_body("commitment", &body)?;
    let (status, a) = blocking(move || node.receive_commitment(c)).await?;
    Ok((status, Json(a)))
}

/// The checked party's sealed population (from its node): verified against
/// the commitment; the answer is the logged reveal.
#[utoipa::path(
    post,
    path = "/draw/population",
    tag = "draws",
    request_body(content = Object, description = "`{population_entry, population, seal}`", content_type = "application/json"),
    responses(
        (status = 200, description = "The logged reveal, `Logged<RevealEntry>`", body = Object),
        (status = 400, description = "Malformed; `field` names it", body = accord_api::ErrorBody),
        (status = 403, description = "This node's party does not check in the draw", body = accord_api::ErrorBody),
        (status = 404, description = "No such draw", body = accord_api::ErrorBody),
        (status = 409, description = "Revealed for another population, or a step in progress", body = accord_api::ErrorBody),
        (status = 422, description = "It does not verify (`FAILED <check>`)", body = accord_api::ErrorBody),
        (status = 502, description = "The witness failed", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn post_peer_population(
    State(node): State<Arc<Node>>,
    body: Bytes,
) -> Result<Json<Logged<RevealEntry>>, ApiError> {
    let p: Populated = read_body("population", &body)?;
    Ok(Json(blocking(move || node.receive_population(p)).await?))
}

/// The checking party's reveal (from its node): the transcript is
/// assembled and must verify.
#[utoipa::path(
    post,
    path = "/draw/reveal",
    tag = "draws",
    request_body(content = Object, description = "`Logged<RevealEntry>`", content_type = "application/json"),
    responses(
        (status = 200, description = "Drawn", body = DrawView),
        (status = 400, description = "Malformed; `field` names it", body = accord_api::ErrorBody),
        (status = 403, description = "This node's party is not checked in the draw", body = accord_api::ErrorBody),
        (status = 404, description = "No such draw", body = accord_api::ErrorBody),
        (status = 409, description = "Not sealed yet, revealed otherwise, or a step in progress", body = accord_api::ErrorBody),
        (status = 422, description = "The transcript does not verify (`FAILED <check>`, e.g. `reveal_does_not_open`)", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn post_reveal(
    State(node): State<Arc<Node>>,
    body: Bytes,
) -> Result<Json<DrawView>, ApiError> {
    let r: Logged<RevealEntry> = read_body("reveal", &body)?;
    Ok(Json(blocking(move || node.receive_reveal(r)).await?))
}

/// Every draw this node takes part in, each verified with its configured
/// keys, with the protocol's findings now.
#[utoipa::path(
    get,
    path = "/draws",
    tag = "draws",
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, body = DrawsView),
        (status = 401, description = "No credentials", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn get_draws(State(node): State<Arc<Node>>) -> Result<Json<DrawsView>, ApiError> {
    let n = node.clone();
    let draws = blocking(move || n.draw_views()).await?;
    Ok(Json(DrawsView {
        party: node.party.clone(),
        draws: draws.into_iter().map(|(v, _)| v).collect(),
    }))
}

/// `?draw=ID`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TranscriptQuery {
    /// The draw's identifier.
    draw: String,
}

/// A drawn draw's transcript (`accord-draw/v1`): what `accord draw verify`
/// takes.
#[utoipa::path(
    get,
    path = "/draws/transcript",
    tag = "draws",
    params(TranscriptQuery),
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, description = "The transcript", body = Object),
        (status = 400, description = "No `draw`", body = accord_api::ErrorBody),
        (status = 401, description = "No credentials", body = accord_api::ErrorBody),
        (status = 404, description = "No such draw, or not drawn yet", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn get_transcript(
    State(node): State<Arc<Node>>,
    crate::reads::Q(q): crate::reads::Q<TranscriptQuery>,
) -> Result<Json<accord_draw::Transcript>, ApiError> {
    let s = node.draws.lock()?;
    match s.held.get(&q.draw).map(|h| h.record.stage()) {
        Some(Stage::Drawn { transcript, .. }) => Ok(Json((**transcript).clone())),
        Some(_) => Err(ApiError::NotFound(format!(
            "draw {} is not drawn yet",
            q.draw
        ))),
        None => Err(ApiError::NotFound(format!("no draw {}", q.draw))),
    }
}
