//! The verified warhead freeze.
//!
//! A party commits to its complete stockpile declaration at once (a salted
//! Merkle tree of records plus Pedersen commitments to per-site, per-category
//! counts), proves in zero knowledge that its total is within a cap and has
//! not grown since a baseline (Bulletproofs), and discloses sites, categories
//! or identifiers step by step, each disclosure checkable against the original
//! commitment and proven complete where it is a site or a category. Which
//! sites must be disclosed is drawn by the commit-reveal protocol of
//! `accord-draw`. See the private `notes` module for the construction and the
//! security goals.
//!
//! Verified things are types: [`VerifiedDeclaration`] is made only by
//! [`verify`], [`VerifiedDisclosure`] only by [`verify_disclosure`], and the
//! functions that need one take one.
#![forbid(unsafe_code)]

/// The construction and its security goals.
#[doc = include_str!("notes.md")]
mod notes {}

pub mod challenge;
pub mod declaration;
pub mod disclosure;
pub mod files;
pub mod records;

pub use challenge::{challenge_from_checkpoint, challenge_population, challenge_sites, Challenge};
pub use declaration::{
    declare, parse_public, verify, Declaration, DeclareInput, Public, Secret, VerifiedDeclaration,
};
pub use disclosure::{
    disclose, parse_disclosure, verify_disclosure, Disclosure, Kind, Selector, VerifiedDisclosure,
};
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
    Refused(Refusal),
    /// A file of another format version.
    #[error("{}", version_message(found))]
    Version {
        /// The version the file names.
        found: String,
    },
    /// A proof or check failed, naming which.
    #[error("verification failed: {check}: {detail}")]
    Verification {
        /// Which check.
        check: Check,
        /// Evidence, in words with the numbers.
        detail: String,
    },
}

fn version_message(found: &str) -> String {
    if found == "accord-freeze/v1" {
        format!(
            "format `{found}` was written by an older accord, before per-category commitments; \
             this accord reads {}: declare again",
            declaration::VERSION
        )
    } else {
        format!(
            "format `{found}` is not one this accord reads (it reads {})",
            declaration::VERSION
        )
    }
}

/// Why a declaration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The total exceeds the cap.
    #[error("the total {total} exceeds the cap {cap}")]
    OverCap {
        /// Records declared.
        total: u64,
        /// The cap.
        cap: u64,
    },
    /// The total exceeds the baseline's.
    #[error("the total {total} exceeds the baseline's {baseline}: a freeze cannot be proven")]
    AboveBaseline {
        /// Records declared.
        total: u64,
        /// The baseline's total.
        baseline: u64,
    },
}

/// Which check of a declaration, disclosure or challenge failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check {
    /// The format version.
    Version,
    /// The Merkle root.
    Root,
    /// Sizes and site list.
    Structure,
    /// The site list's order.
    Sites,
    /// A site's commitments.
    Commitment {
        /// The site.
        site: String,
    },
    /// The cap proof.
    CapProof,
    /// One commitment of the cap proof.
    CapProofCommitment {
        /// Its position.
        index: usize,
    },
    /// The freeze proof.
    FreezeProof,
    /// The declaration a disclosure or challenge refers to.
    Declaration,
    /// A disclosed record.
    Record {
        /// Its identifier.
        id: String,
    },
    /// An identifier disclosed twice.
    DuplicateIdentifier,
    /// An opened count (a site, or a category at a site).
    Opening {
        /// The site.
        site: String,
        /// The category, for a category's count.
        category: Option<Category>,
    },
    /// A leaf just outside an opened range.
    Boundary {
        /// The site.
        site: String,
        /// The category, for a category's range.
        category: Option<Category>,
        /// The leaf.
        index: u64,
    },
    /// The kind of disclosure and its parts.
    Kind,
    /// Agreement with earlier disclosures.
    Consistency,
    /// A challenge draw.
    Challenge,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let range = |f: &mut std::fmt::Formatter<'_>, site: &str, c: &Option<Category>| match c {
            None => write!(f, "site {site}"),
            Some(c) => write!(f, "site {site}, category {}", c.as_str()),
        };
        match self {
            Check::Version => f.write_str("version"),
            Check::Root => f.write_str("root"),
            Check::Structure => f.write_str("structure"),
            Check::Sites => f.write_str("sites"),
            Check::Commitment { site } => write!(f, "commitment of {site}"),
            Check::CapProof => f.write_str("cap proof"),
            Check::CapProofCommitment { index } => write!(f, "cap proof commitment {index}"),
            Check::FreezeProof => f.write_str("freeze proof"),
            Check::Declaration => f.write_str("declaration"),
            Check::Record { id } => write!(f, "record {id}"),
            Check::DuplicateIdentifier => f.write_str("duplicate identifier"),
            Check::Opening { site, category } => range(f, site, category),
            Check::Boundary {
                site,
                category,
                index,
            } => {
                range(f, site, category)?;
                write!(f, ", boundary leaf {index}")
            }
            Check::Kind => f.write_str("kind"),
            Check::Consistency => f.write_str("consistency"),
            Check::Challenge => f.write_str("challenge"),
        }
    }
}

pub(crate) fn fail(check: Check, detail: impl Into<String>) -> FreezeError {
    FreezeError::Verification {
        check,
        detail: detail.into(),
    }
}
