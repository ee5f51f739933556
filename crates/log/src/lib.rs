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
    let bytes =
        serde_json_canonicalizer::to_vec(&v).map_err(|e| EntryError::Canonical(e.to_string()))?;
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(EntryError::TooLong { len: bytes.len() });
    }
    Ok(bytes)
}
