//! Checking what a log's operator hands over: a proof against signed
//! checkpoints. What anyone holding the log's verifier key runs (`accord
//! log verify …`). A malformed input is [`VerifyError::Input`]; a proof or
//! signature that does not hold is [`VerifyError::Failed`].

use crate::merkle::{self, Hash};
use crate::note::{open_checkpoint, Checkpoint, NoteError, Verifier};
use crate::witness::{decode_hashes, ConsistencyProofJson, InclusionProofJson};

/// Why a verification did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The input is malformed: nothing was verified (exit 2).
    #[error("{what}: {message}")]
    Input {
        /// Which input.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// The signature or the proof does not hold (exit 1).
    #[error("{what}: {message}")]
    Failed {
        /// What failed.
        what: String,
        /// Why.
        message: String,
    },
}

fn input(what: &str, message: impl ToString) -> VerifyError {
    VerifyError::Input {
        what: what.to_string(),
        message: message.to_string(),
    }
}

fn failed(what: &str, message: impl ToString) -> VerifyError {
    VerifyError::Failed {
        what: what.to_string(),
        message: message.to_string(),
    }
}

/// Opens a signed checkpoint note named `what`: malformed is input, a bad
/// or missing signature is a failure.
pub fn checkpoint(what: &str, note: &str, log: &Verifier) -> Result<Checkpoint, VerifyError> {
    match open_checkpoint(note, log, &[]) {
        Ok(c) => Ok(c.into_checkpoint()),
        Err(e @ (NoteError::BadSignature { .. } | NoteError::NoKnownSignature { .. })) => {
            Err(failed(what, e))
        }
        Err(e) => Err(input(what, e)),
    }
}

/// Verifies that the entry with leaf hash `leaf` is in the signed tree.
pub fn inclusion(
    cp: &Checkpoint,
    proof_name: &str,
    p: &InclusionProofJson,
    leaf: &Hash,
) -> Result<(), VerifyError> {
    let hs = decode_hashes(&p.hashes).map_err(|e| input(proof_name, e))?;
    if p.tree_size != cp.size {
        return Err(failed(
            proof_name,
            format!(
                "the proof is for size {}, the checkpoint for size {}",
                p.tree_size, cp.size
            ),
        ));
    }
    merkle::verify_inclusion(p.leaf_index, p.tree_size, leaf, &hs, &cp.hash)
        .map_err(|e| failed(proof_name, e))
}

/// Verifies that the `new` signed tree extends the `old` one.
pub fn consistency(
    old: &Checkpoint,
    new: &Checkpoint,
    proof_name: &str,
    p: &ConsistencyProofJson,
) -> Result<(), VerifyError> {
    let hs = decode_hashes(&p.hashes).map_err(|e| input(proof_name, e))?;
    if (p.old_size, p.new_size) != (old.size, new.size) {
        return Err(failed(
            proof_name,
            format!(
                "the proof is for sizes {} to {}, the checkpoints are {} and {}",
                p.old_size, p.new_size, old.size, new.size
            ),
        ));
    }
    merkle::verify_consistency(old.size, new.size, &old.hash, &new.hash, &hs)
        .map_err(|e| failed(proof_name, e))
}
