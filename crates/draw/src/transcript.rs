//! The transcript: everything needed to recompute and check a draw, as
//! versioned JSON (`deny_unknown_fields` everywhere), and the keys a
//! verifier pins.

use crate::entry::{CommitmentEntry, Population, PopulationEntry, RevealEntry, VERSION};
use crate::sample::Pick;
use crate::{DrawError, Role};
use accord_log::note::ALG_ED25519;
use accord_log::Verifier;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// A log entry with its inclusion proof and the cosigned checkpoint that
/// covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logged<E> {
    /// The entry (its leaf is the RFC 8785 form of this JSON).
    pub entry: E,
    /// Its leaf index.
    pub index: u64,
    /// RFC 9162 inclusion proof up to the checkpoint's size, base64 hashes.
    pub proof: Vec<String>,
    /// The checkpoint: the log's signed note with the witness's
    /// `cosignature/v1` line.
    pub checkpoint: String,
}

/// The verifier keys a transcript names: shown for convenience, trusted
/// only when the verifier pins the same keys ([`Keys::pin`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptKeys {
    /// The checking party's log key (`name+id+key`, type 0x01).
    pub checking: String,
    /// The checked party's log key (type 0x01).
    pub checked: String,
    /// The witness's cosigner key (type 0x04).
    pub witness: String,
}

/// The seed and the draw made from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draw {
    /// The seed, hex.
    pub seed: String,
    /// The draws, in order.
    pub picks: Vec<Pick>,
}

/// A draw's transcript. `accord draw verify` takes this file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transcript {
    /// `accord-draw/v1`.
    pub version: String,
    /// The keys it names (pinned by the verifier, never trusted from here).
    pub keys: TranscriptKeys,
    /// The checking party's commitment, in its log.
    pub commitment_entry: Logged<CommitmentEntry>,
    /// The checked party's population entry, in its log.
    pub population_entry: Logged<PopulationEntry>,
    /// The population itself (its digest is in the population entry).
    pub population: Population,
    /// The checked party's seal: a note signed with its log key naming the
    /// population entry, its checkpoint and the witness cosignature used.
    pub seal: String,
    /// The checking party's reveal, in its log.
    pub reveal_entry: Logged<RevealEntry>,
    /// The seed and the draw.
    pub draw: Draw,
}

/// A transcript that does not parse: the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {problem}")]
pub struct ParseError {
    /// The path of the field, e.g. `population_entry.entry.sites`.
    pub field: String,
    /// Why.
    pub problem: String,
}

/// Parses a transcript, reading its `version` first and naming the field
/// at fault (as a path, e.g. `reveal_entry.entry.secret`) otherwise.
pub fn parse_transcript(text: &str) -> Result<Transcript, ParseError> {
    #[derive(Deserialize)]
    struct Versioned {
        version: Option<serde_json::Value>,
    }
    let v: Versioned = serde_json::from_str(text).map_err(|e| ParseError {
        field: ".".into(),
        problem: format!("not JSON: {e}"),
    })?;
    match v.version {
        Some(serde_json::Value::String(s)) if s == VERSION => {}
        Some(other) => {
            return Err(ParseError {
                field: "version".into(),
                problem: format!("{other}, expected \"{VERSION}\""),
            })
        }
        None => {
            return Err(ParseError {
                field: "version".into(),
                problem: "missing".into(),
            })
        }
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| ParseError {
        field: e.path().to_string(),
        problem: e.inner().to_string(),
    })
}

/// The raw Ed25519 public key of a verifier key.
pub(crate) fn raw_key(v: &Verifier) -> [u8; 32] {
    // `name+hexid+base64(type ‖ key)`; a name has no '+', base64 may.
    let s = v.to_string();
    let b64 = s.splitn(3, '+').nth(2).unwrap_or("");
    let raw = B64.decode(b64).unwrap_or_default();
    let mut k = [0u8; 32];
    if raw.len() == 33 {
        k.copy_from_slice(&raw[1..]);
    }
    k
}

/// The three keys a draw is verified with, as the verifier trusts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    checking: Verifier,
    checked: Verifier,
    witness: Verifier,
}

impl Keys {
    /// The checking party's and the checked party's log keys (type 0x01)
    /// and the witness's key (either form; used as its cosigner key, type
    /// 0x04). The witness must be neither party's key.
    pub fn new(
        checking: Verifier,
        checked: Verifier,
        witness: Verifier,
    ) -> Result<Keys, DrawError> {
        for (role, k) in [(Role::Checking, &checking), (Role::Checked, &checked)] {
            if k.alg() != ALG_ED25519 {
                return Err(DrawError::KeyRole {
                    role,
                    key: k.to_string(),
                    problem: "a log key is of type 0x01",
                });
            }
        }
        let witness = witness.as_cosigner();
        let w = raw_key(&witness);
        if w == raw_key(&checking) || w == raw_key(&checked) {
            return Err(DrawError::KeyRole {
                role: Role::Witness,
                key: witness.to_string(),
                problem: "the witness must not be one of the parties",
            });
        }
        if raw_key(&checking) == raw_key(&checked) {
            return Err(DrawError::KeyRole {
                role: Role::Checked,
                key: checked.to_string(),
                problem: "the two parties have the same key",
            });
        }
        Ok(Keys {
            checking,
            checked,
            witness,
        })
    }

    /// The keys a transcript names, each matched against the keys the
    /// verifier pinned (by key, name and type; a witness may be pinned in
    /// either form). A key that is not pinned is [`DrawError::KeyNotPinned`].
    pub fn pin(named: &TranscriptKeys, pinned: &[Verifier]) -> Result<Keys, DrawError> {
        let find = |role: Role, s: &str| -> Result<Verifier, DrawError> {
            let not_pinned = || DrawError::KeyNotPinned {
                role,
                key: s.chars().take(300).collect(),
            };
            let v = Verifier::parse(s).map_err(|_| not_pinned())?;
            pinned
                .iter()
                .find(|p| {
                    if role == Role::Witness {
                        p.as_cosigner() == v.as_cosigner()
                    } else {
                        **p == v
                    }
                })
                .cloned()
                .ok_or_else(not_pinned)
        };
        Keys::new(
            find(Role::Checking, &named.checking)?,
            find(Role::Checked, &named.checked)?,
            find(Role::Witness, &named.witness)?,
        )
    }

    /// The checking party's log key.
    pub fn checking(&self) -> &Verifier {
        &self.checking
    }

    /// The checked party's log key.
    pub fn checked(&self) -> &Verifier {
        &self.checked
    }

    /// The witness's cosigner key (type 0x04).
    pub fn witness(&self) -> &Verifier {
        &self.witness
    }

    /// The keys as a transcript names them.
    pub fn named(&self) -> TranscriptKeys {
        TranscriptKeys {
            checking: self.checking.to_string(),
            checked: self.checked.to_string(),
            witness: self.witness.to_string(),
        }
    }
}

/// A witness timestamp (Unix seconds) as `YYYY-MM-DD HH:MM:SS UTC` (the
/// number itself when no date holds it).
pub fn utc(t: u64) -> String {
    i64::try_from(t)
        .ok()
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map_or_else(
            || t.to_string(),
            |d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
}
