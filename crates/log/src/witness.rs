//! A witness: cosigns a log's checkpoints only when they extend, consistently,
//! the last checkpoint it cosigned for that origin (C2SP tlog-witness
//! semantics). Shown an inconsistent checkpoint (a split view) it refuses and
//! keeps the evidence: both signed checkpoints and the failing proof.

use crate::merkle::{self, Hash, ProofError};
use crate::note::{open_checkpoint, NoteError, Signer, Verifier};
use accord_sqlite::{FileError, Schema, Synchronous};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Why a witness did not cosign. The HTTP status each maps to (C2SP
/// tlog-witness) is given by [`WitnessError::status`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The origin is not a log this witness follows.
    #[error("unknown log origin `{0}`")]
    UnknownLog(String),
    /// The checkpoint's signature does not verify with the log's key.
    #[error("checkpoint signature: {0}")]
    BadSignature(NoteError),
    /// The request's old size is not the witness's latest size for the log.
    #[error("old size {given} does not match the witness's latest size {latest}")]
    OldSizeMismatch {
        /// The size the request claimed.
        given: u64,
        /// The witness's latest size.
        latest: u64,
    },
    /// The checkpoint is not consistent with the last one cosigned.
    #[error("split view: {reason}; evidence kept")]
    Inconsistent {
        /// Why.
        reason: String,
        /// The evidence.
        evidence: Box<Evidence>,
    },
    /// Malformed input.
    #[error("{0}")]
    Malformed(String),
    /// The state file is not one this binary can open (empty, not SQLite,
    /// another kind of store, or a newer schema); nothing was changed.
    #[error(transparent)]
    File(#[from] FileError),
    /// The state store failed.
    #[error("witness state {path}: {source}")]
    State {
        /// The path.
        path: String,
        /// The error.
        source: rusqlite::Error,
    },
}

/// A proof as exchanged in JSON: `{"old_size", "new_size", "hashes": [base64…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProofJson {
    /// Older size.
    pub old_size: u64,
    /// Newer size.
    pub new_size: u64,
    /// The hashes, base64.
    pub hashes: Vec<String>,
}

/// An inclusion proof as exchanged in JSON: `{"leaf_index", "tree_size", "hashes"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InclusionProofJson {
    /// The leaf's index.
    pub leaf_index: u64,
    /// Tree size.
    pub tree_size: u64,
    /// The hashes, base64.
    pub hashes: Vec<String>,
}

/// Decodes base64 hashes, naming the one at fault.
pub fn decode_hashes(hashes: &[String]) -> Result<Vec<Hash>, String> {
    hashes
        .iter()
        .enumerate()
        .map(|(i, h)| {
            B64.decode(h)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| format!("hashes[{i}] is not a base64 32-byte hash"))
        })
        .collect()
}

/// Encodes hashes as base64.
pub fn encode_hashes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// Evidence of a split view, checkable by anyone with the log's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The log.
    pub origin: String,
    /// The checkpoint the witness had cosigned (signed note).
    pub older: String,
    /// The checkpoint it was shown (signed note).
    pub newer: String,
    /// The proof offered, which fails (absent when the sizes are equal).
    pub proof: Option<ConsistencyProofJson>,
    /// Why they cannot both be honest.
    pub reason: String,
}

/// What an evidence check concludes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceVerdict {
    /// Both notes are signed by the log's key.
    pub both_signed: bool,
    /// Same size, different roots: the log signed two histories (conclusive).
    pub same_size_different_roots: bool,
    /// The offered proof fails against the two signed roots.
    pub proof_fails: bool,
    /// The log is shown to have misbehaved.
    pub misbehaviour: bool,
    /// Plain words.
    pub summary: String,
}

impl Evidence {
    /// Checks the evidence with the log's verifier key.
    pub fn verify(&self, log: &Verifier) -> Result<EvidenceVerdict, String> {
        let a = open_checkpoint(&self.older, log, &[])
            .map_err(|e| format!("older checkpoint: {e}"))?
            .into_checkpoint();
        let b = open_checkpoint(&self.newer, log, &[])
            .map_err(|e| format!("newer checkpoint: {e}"))?
            .into_checkpoint();
        if a.origin != b.origin || a.origin != self.origin {
            return Err("the checkpoints are for different origins".into());
        }
        let same = a.size == b.size && a.hash != b.hash;
        let fails = if same {
            true
        } else {
            match &self.proof {
                Some(p) if p.old_size == a.size.min(b.size) && p.new_size == a.size.max(b.size) => {
                    let (lo, hi) = if a.size <= b.size { (&a, &b) } else { (&b, &a) };
                    let hashes = decode_hashes(&p.hashes)?;
                    merkle::verify_consistency(lo.size, hi.size, &lo.hash, &hi.hash, &hashes)
                        .is_err()
                }
                Some(_) => return Err("the proof's sizes are not the checkpoints' sizes".into()),
                None => return Err("different sizes need the failing proof".into()),
            }
        };
        let summary = if same {
            format!(
                "{} signed two different trees of size {}: conclusive",
                a.origin, a.size
            )
        } else if fails {
            format!(
                "{} signed sizes {} and {}, and the consistency proof it offered fails: the log must produce a valid proof or stands accused",
                a.origin, a.size, b.size
            )
        } else {
            "the proof verifies: no misbehaviour shown".to_string()
        };
        Ok(EvidenceVerdict {
            both_signed: true,
            same_size_different_roots: same,
            proof_fails: fails,
            misbehaviour: fails,
            summary,
        })
    }
}

/// A witness with its state in SQLite.
pub struct Witness {
    conn: Connection,
    path: PathBuf,
    signer: Signer,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Witness({}, {:?})", self.path.display(), self.signer)
    }
}

/// A witness state's tables, versioned (see [`accord_sqlite`]): the file's
/// `application_id` is `ACWT` and its `user_version` the schema version.
///
/// - `logs(origin, vkey, size, note)`: each log followed, with the latest
///   checkpoint cosigned;
/// - `evidence(id, origin, json)`: every split view shown, as [`Evidence`];
/// - `meta(key, value)`: where the signer key is (`key_path`).
///
/// Version 1 is that layout, as every release has written it; a state with
/// no version recorded and the `logs` and `evidence` tables is version 1.
pub static SCHEMA: Schema = Schema {
    what: "an accord witness state",
    application_id: accord_sqlite::id::WITNESS,
    v1: "
CREATE TABLE IF NOT EXISTS logs (origin TEXT PRIMARY KEY, vkey TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0, note TEXT);
CREATE TABLE IF NOT EXISTS evidence (id INTEGER PRIMARY KEY, origin TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
",
    migrations: &[],
    legacy_tables: &["logs", "evidence"],
    synchronous: Synchronous::Full,
};

impl Witness {
    /// Opens a witness state, or creates it (0600, its directories 0700)
    /// if there is no file at `path`, cosigning with `signer`. An existing
    /// file is migrated to the current [`SCHEMA`], or refused unchanged
    /// ([`WitnessError::File`]) if it is empty, not SQLite, another kind of
    /// store or of a newer schema.
    pub fn open(path: &Path, signer: Signer) -> Result<Witness, WitnessError> {
        let conn = accord_sqlite::open_or_create(path, &SCHEMA, |_| Ok(()))?;
        Ok(Witness {
            conn,
            path: path.to_path_buf(),
            signer,
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> WitnessError + '_ {
        move |source| WitnessError::State {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Records where the witness's signer key file is (the path, never the key).
    pub fn set_key_path(&self, path: &str) -> Result<(), WitnessError> {
        self.conn
            .execute("INSERT INTO meta (key, value) VALUES ('key_path', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [path])
            .map_err(self.err())?;
        Ok(())
    }

    /// The signer key path recorded in a witness state, if any.
    /// The state must exist (it is never created here).
    pub fn key_path(state: &Path) -> Result<Option<String>, WitnessError> {
        let err = |source| WitnessError::State {
            path: state.display().to_string(),
            source,
        };
        let conn = accord_sqlite::open(state, &SCHEMA)?;
        conn.query_row("SELECT value FROM meta WHERE key = 'key_path'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(err)
    }

    /// The witness's cosigner verifier key (type 0x04).
    pub fn verifier(&self) -> Verifier {
        self.signer.cosigner_verifier()
    }

    /// Follows a log: its origin and verifier key.
    pub fn add_log(&self, origin: &str, vkey: &Verifier) -> Result<(), WitnessError> {
        self.conn
            .execute(
                "INSERT INTO logs (origin, vkey) VALUES (?1, ?2) ON CONFLICT(origin) DO UPDATE SET vkey = excluded.vkey",
                params![origin, vkey.to_string()],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// The latest size and note cosigned for an origin.
    pub fn latest(&self, origin: &str) -> Result<Option<(u64, Option<String>)>, WitnessError> {
        self.conn
            .query_row(
                "SELECT size, note FROM logs WHERE origin = ?1",
                [origin],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()
            .map_err(self.err())
    }

    /// Evidence kept so far.
    pub fn evidence(&self) -> Result<Vec<Evidence>, WitnessError> {
        let mut st = self
            .conn
            .prepare("SELECT json FROM evidence ORDER BY id")
            .map_err(self.err())?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(self.err())?;
        let mut out = vec![];
        for r in rows {
            let j = r.map_err(self.err())?;
            out.push(serde_json::from_str(&j).map_err(|e| WitnessError::Malformed(e.to_string()))?);
        }
        Ok(out)
    }

    /// The C2SP tlog-witness `add-checkpoint` step: `old_size` is the size the
    /// caller believes the witness holds, `proof` the consistency proof from
    /// it to the new checkpoint. Returns the cosignature line.
    pub fn add_checkpoint(
        &self,
        note: &str,
        old_size: u64,
        proof: &[Hash],
        now: u64,
    ) -> Result<String, WitnessError> {
        let parsed =
            crate::note::Note::parse(note).map_err(|e| WitnessError::Malformed(e.to_string()))?;
        let cp = crate::note::Checkpoint::parse(&parsed.text)
            .map_err(|e| WitnessError::Malformed(e.to_string()))?;
        let row: Option<(String, i64, Option<String>)> = self
            .conn
            .query_row(
                "SELECT vkey, size, note FROM logs WHERE origin = ?1",
                [&cp.origin],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(self.err())?;
        let Some((vkey, latest, last_note)) = row else {
            return Err(WitnessError::UnknownLog(cp.origin));
        };
        let latest = latest.max(0) as u64;
        let vkey = Verifier::parse(&vkey).map_err(|e| WitnessError::Malformed(e.to_string()))?;
        let new = open_checkpoint(note, &vkey, &[])
            .map_err(WitnessError::BadSignature)?
            .into_checkpoint();
        // C2SP tlog-witness order: 404, 403, then 400 (old above new), then
        // 409 (old is not the latest), then 422 or 409 (inconsistency).
        if old_size > new.size {
            return Err(WitnessError::Malformed(format!(
                "old size {old_size} is above the checkpoint's size {}",
                new.size
            )));
        }
        if proof.len() > 63 {
            return Err(WitnessError::Malformed(
                "more than 63 consistency proof lines".into(),
            ));
        }
        if old_size != latest {
            return Err(WitnessError::OldSizeMismatch {
                given: old_size,
                latest,
            });
        }
        if let Some(last) = &last_note {
            let old = open_checkpoint(last, &vkey, &[])
                .map_err(WitnessError::BadSignature)?
                .into_checkpoint();
            let failure = if new.size < old.size {
                Some(format!(
                    "size {} is smaller than the size {} already cosigned",
                    new.size, old.size
                ))
            } else if new.size == old.size && new.hash != old.hash {
                Some(format!("two different roots for size {}", new.size))
            } else if new.size > old.size {
                merkle::verify_consistency(old.size, new.size, &old.hash, &new.hash, proof)
                    .err()
                    .map(|e: ProofError| {
                        format!(
                            "the consistency proof from {} to {} fails: {e}",
                            old.size, new.size
                        )
                    })
            } else {
                None
            };
            if let Some(reason) = failure {
                let evidence = Evidence {
                    origin: cp.origin.clone(),
                    older: last.clone(),
                    newer: note.to_string(),
                    proof: (new.size != old.size).then(|| ConsistencyProofJson {
                        old_size: old.size.min(new.size),
                        new_size: old.size.max(new.size),
                        hashes: encode_hashes(proof),
                    }),
                    reason: reason.clone(),
                };
                let json = serde_json::to_string(&evidence)
                    .map_err(|e| WitnessError::Malformed(e.to_string()))?;
                self.conn
                    .execute(
                        "INSERT INTO evidence (origin, json) VALUES (?1, ?2)",
                        params![cp.origin, json],
                    )
                    .map_err(self.err())?;
                return Err(WitnessError::Inconsistent {
                    reason,
                    evidence: Box::new(evidence),
                });
            }
        } else if !proof.is_empty() && old_size == 0 {
            return Err(WitnessError::Malformed(
                "no proof is expected from size 0".into(),
            ));
        }
        let text = parsed.text.clone();
        let line = self.signer.cosign_line(&text, now);
        self.conn
            .execute(
                "UPDATE logs SET size = ?1, note = ?2 WHERE origin = ?3",
                params![new.size as i64, note, cp.origin],
            )
            .map_err(self.err())?;
        Ok(line)
    }
}
