//! The verified warhead freeze.
//!
//! A party commits to its complete stockpile declaration at once (a salted
//! Merkle tree of records plus Pedersen commitments to per-site counts),
//! proves in zero knowledge that its total is within a cap and has not grown
//! since a baseline (Bulletproofs), and discloses sites, categories or
//! identifiers step by step, each disclosure checkable against the original
//! commitment. See the private `notes` module for the construction and the
//! security goals.
#![forbid(unsafe_code)]

/// The construction and its security goals.
#[doc = include_str!("notes.md")]
mod notes {}

pub mod challenge;
pub mod declaration;
pub mod disclosure;
pub mod files;
pub mod records;

pub use challenge::challenge_sites;
pub use declaration::{
    declare, verify, Declaration, DeclareInput, Public, Secret, VerifiedDeclaration,
};
pub use disclosure::{disclose, verify_disclosure, Disclosure, Selector};
pub use records::{parse_records, Category, Record};

/// Errors of the freeze.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FreezeError {
    /// Bad input: records, files, arguments.
    #[error("{0}")]
    Input(String),
    /// The declaration would break the cap or the freeze: refused.
    #[error("refused: {0}")]
    Refused(String),
    /// A proof or check failed, naming which.
    #[error("verification failed: {check}: {detail}")]
    Verification {
        /// Which check.
        check: String,
        /// Evidence.
        detail: String,
    },
}

pub(crate) fn fail(check: &str, detail: impl Into<String>) -> FreezeError {
    FreezeError::Verification {
        check: check.to_string(),
        detail: detail.into(),
    }
}
