//! The tamper-evident log: every notification a party makes, in an
//! append-only RFC 9162 Merkle tree whose state the party signs (C2SP
//! checkpoints as Ed25519 signed notes) and witnesses cosign (C2SP
//! `cosignature/v1`). Proofs let the other party, or anyone holding the
//! key, check what was said and when, and that nothing was rewritten.
//!
//! ```
//! use accord_log::merkle::{MemoryTree, inclusion_proof, verify_inclusion, leaf_hash};
//! let mut t = MemoryTree::new();
//! for e in [b"a".as_slice(), b"b", b"c"] { t.append(e); }
//! let proof = inclusion_proof(&t, 1, 3)?;
//! verify_inclusion(1, 3, &leaf_hash(b"b"), &proof, &t.root())?;
//! # Ok::<(), accord_log::merkle::ProofError>(())
//! ```
#![forbid(unsafe_code)]

pub mod audit;
pub mod keys;
pub mod lines;
pub mod merkle;
pub mod note;
pub mod store;
pub mod tiles;
pub mod verify;
pub mod witness;

pub use audit::{audit, AuditReport, Problem};
pub use keys::{origin, KeyError};
pub use note::{
    open_checkpoint, Checkpoint, Note, NoteError, Signer, VerifiedCheckpoint, Verifier,
};
pub use store::{LogError, LogStore, MAX_ENTRY_BYTES};
pub use witness::{Evidence, Witness, WitnessError};

/// Why a JSON text cannot be a log entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object.
    #[error("an entry must be a JSON object")]
    NotAnObject,
    /// The canonicaliser refused it (a number it cannot represent).
    #[error("cannot canonicalise: {0}")]
    Canonical(String),
    /// An integer the canonical form cannot carry exactly: RFC 8785 writes
    /// every number as the nearest IEEE 754 double, so integers beyond
    /// ±(2^53 − 1) would be silently changed (I-JSON, RFC 7493 §2.2).
    #[error("{path}: {value} is beyond ±9007199254740991 (2^53 − 1), the largest integer an entry carries exactly")]
    InexactInteger {
        /// Where it is (a JSON Pointer).
        path: String,
        /// The integer as given.
        value: String,
    },
    /// Longer than a tlog-tiles entry bundle can carry.
    #[error("{len} bytes; an entry is at most {MAX_ENTRY_BYTES} bytes")]
    TooLong {
        /// The canonical length.
        len: usize,
    },
}

/// An entry's bytes: the RFC 8785 canonical form of a JSON value.
///
/// The same notification always gives the same bytes, whatever the key
/// order or number formatting it arrived in, so its leaf hash is stable.
pub fn canonical_entry(json_text: &str) -> Result<Vec<u8>, EntryError> {
    let v: serde_json::Value =
        serde_json::from_str(json_text).map_err(|e| EntryError::NotJson(e.to_string()))?;
    if !v.is_object() {
        return Err(EntryError::NotAnObject);
    }
    exact_integers(&v, &mut String::new())?;
    let bytes =
        serde_json_canonicalizer::to_vec(&v).map_err(|e| EntryError::Canonical(e.to_string()))?;
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(EntryError::TooLong { len: bytes.len() });
    }
    Ok(bytes)
}

/// The largest integer every integer up to which an IEEE 754 double holds exactly.
const MAX_EXACT_INTEGER: u64 = (1 << 53) - 1;

/// Refuses any integer the canonical form would change (see
/// [`EntryError::InexactInteger`]); `path` is the JSON Pointer so far.
fn exact_integers(v: &serde_json::Value, path: &mut String) -> Result<(), EntryError> {
    use serde_json::Value;
    match v {
        Value::Number(n) => {
            let beyond = match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => u > MAX_EXACT_INTEGER,
                (None, Some(i)) => i.unsigned_abs() > MAX_EXACT_INTEGER,
                // A float: written as the double it parsed to, as given.
                (None, None) => false,
            };
            if beyond {
                return Err(EntryError::InexactInteger {
                    path: if path.is_empty() {
                        "/".into()
                    } else {
                        path.clone()
                    },
                    value: n.to_string(),
                });
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                exact_integers(x, path)?;
                path.truncate(len);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                exact_integers(x, path)?;
                path.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}
