//! Randomness neither side controls.
//!
//! Verification by sampling is only as good as the draw. Here a draw is
//! fixed only after both sides have committed, can be recomputed by anyone,
//! and gives neither party a choice:
//!
//! 1. the **checking party** commits to a fresh 256-bit secret
//!    ([`commitment`]) in a [`CommitmentEntry`] of its own log, cosigned by a
//!    neutral witness;
//! 2. the **checked party** fixes the population (sites, then the items
//!    within a site) in a [`PopulationEntry`] of its own log that quotes the
//!    commitment, gets that checkpoint cosigned by the same witness, and
//!    **seals** it: a note signed with its log key that names the population
//!    entry, the checkpoint and the one witness cosignature the draw will use
//!    ([`seal`]);
//! 3. the checking party **reveals** the secret in a [`RevealEntry`] of its
//!    log that names the seal, cosigned by the witness;
//! 4. the seed is [`seed`]`(commitment, secret, checkpoint, cosignature)`,
//!    and the draw is [`sample::draw`] (ChaCha20, rejection sampling).
//!
//! A [`Transcript`] holds all of it; [`verify`] checks every signature,
//! proof, order and hash and recomputes the draw, and is the only way to
//! make a [`VerifiedDraw`]. The steps are also verified one at a time
//! ([`verify_commitment`], [`verify_population`]) for the nodes that run the
//! protocol; [`build`] makes honest transcripts from real logs and
//! witnesses; [`finding`] says who a late reveal or a refused site is
//! against. See the private `notes` module for the protocol, the exact
//! bytes and what each party can and cannot do.
#![forbid(unsafe_code)]

/// The protocol, its exact bytes, and its security argument.
#[doc = include_str!("notes.md")]
mod notes {}

pub mod bench;
pub mod build;
pub mod entry;
pub mod finding;
pub mod sample;
pub mod transcript;
mod verify;

pub use build::{
    commit, honest_draw, log_entry, population_entry, BuildError, Clock, Cosigner, DrawLog,
    MemoryLog, Side, StatelessWitness,
};
pub use entry::{
    check_draw_id, commitment, Canonical, CommitmentEntry, DrawKind, PartyLog, Population,
    PopulationEntry, PopulationSite, Purpose, RevealEntry, Rule, Secret, DAY, VERSION,
};
pub use finding::{population_withheld, reveal_withheld, site_refused, Finding, FindingKind};
pub use sample::Pick;
pub use transcript::{
    parse_transcript, Draw, Keys, Logged, ParseError, Transcript, TranscriptKeys,
};
pub use verify::{
    seal, seed, verify, verify_commitment, verify_population, VerifiedCommitment, VerifiedDraw,
    VerifiedPopulation,
};

use accord_log::merkle::ProofError;
use accord_log::NoteError;

/// A step of the protocol: which logged entry, or the seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The checking party's commitment.
    Commitment,
    /// The checked party's population.
    Population,
    /// The checked party's seal.
    Seal,
    /// The checking party's reveal.
    Reveal,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Commitment => "commitment",
            Step::Population => "population",
            Step::Seal => "seal",
            Step::Reveal => "reveal",
        })
    }
}

/// A key's role in a draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The checking party's log key.
    Checking,
    /// The checked party's log key.
    Checked,
    /// The witness's cosigning key.
    Witness,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Checking => "checking party",
            Role::Checked => "checked party",
            Role::Witness => "witness",
        })
    }
}

/// Why a rule cannot be applied to a population.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Undrawable {
    /// Every site weighs 0.
    #[error("every site of the population weighs 0")]
    NoWeight,
    /// More distinct sites asked than have weight.
    #[error("{asked} distinct sites asked of {available} with weight")]
    TooFewSites {
        /// Asked.
        asked: u32,
        /// Sites with positive weight.
        available: u64,
    },
    /// The weights sum past 2^63.
    #[error("the weights sum past 2^63")]
    WeightsTooLarge,
    /// More draws than a verifier does.
    #[error("{sites} site draws of {items_per_site} items each: over 1,000,000 draws")]
    TooManyDraws {
        /// Site draws asked.
        sites: u32,
        /// Items per site asked.
        items_per_site: u32,
    },
}

/// What is wrong with a population.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PopulationProblem {
    /// No sites.
    #[error("it has no sites")]
    Empty,
    /// Over 10,000,000 sites or items.
    #[error("it has over 10,000,000 sites or items")]
    TooLarge,
    /// Sites not strictly increasing.
    #[error("site `{site}` is out of order or repeated (sites are sorted and unique)")]
    SitesNotSorted {
        /// The site.
        site: String,
    },
    /// Items of a site not strictly increasing.
    #[error("item `{item}` of site `{site}` is out of order or repeated")]
    ItemsNotSorted {
        /// The site.
        site: String,
        /// The item.
        item: String,
    },
}

/// Which check of a draw failed, with its evidence.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DrawError {
    /// A transcript or entry of another version.
    #[error("version `{found}`, expected {VERSION}")]
    Version {
        /// What the file says.
        found: String,
    },
    /// A key the transcript names is not one the verifier pinned.
    #[error("the {role}'s key `{key}` is not among the pinned keys")]
    KeyNotPinned {
        /// Its role.
        role: Role,
        /// The key the transcript names.
        key: String,
    },
    /// A key cannot serve in its role.
    #[error("the {role}'s key `{key}`: {problem}")]
    KeyRole {
        /// Its role.
        role: Role,
        /// The key.
        key: String,
        /// Why.
        problem: &'static str,
    },
    /// A name that is empty, too long or has whitespace.
    #[error("{what} `{name}` must be 1 to 200 bytes with no whitespace")]
    Name {
        /// What it names.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// The checking and checked parties are the same.
    #[error("{party} cannot draw on itself")]
    SameParty {
        /// The party.
        party: String,
    },
    /// A hex or base64 field is malformed.
    #[error("{step}: field `{field}` is not {expected}")]
    Malformed {
        /// The step.
        step: Step,
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// A checkpoint note does not parse or its log signature fails.
    #[error("{step} checkpoint: {error}")]
    Checkpoint {
        /// The step.
        step: Step,
        /// The note error.
        error: NoteError,
    },
    /// A checkpoint of the wrong log.
    #[error("{step} checkpoint is of log `{found}`, expected `{expected}`")]
    WrongLog {
        /// The step.
        step: Step,
        /// The log the purpose names.
        expected: String,
        /// The checkpoint's origin.
        found: String,
    },
    /// A checkpoint without the witness's cosignature.
    #[error("{step} checkpoint is not cosigned by the witness {witness}")]
    NotCosigned {
        /// The step.
        step: Step,
        /// The witness.
        witness: String,
    },
    /// An entry is not in its checkpoint's tree.
    #[error("{step} entry {index} is not in the checkpoint of size {size}: {error}")]
    Inclusion {
        /// The step.
        step: Step,
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
        /// The proof's failure.
        error: ProofError,
    },
    /// A field that must equal another part of the transcript does not.
    #[error("{step}: `{field}` is `{found}`, expected `{expected}`")]
    Mismatch {
        /// The step.
        step: Step,
        /// The field.
        field: &'static str,
        /// What the rest of the transcript requires.
        expected: String,
        /// What it says.
        found: String,
    },
    /// The commitment was cosigned at or after the population's checkpoint.
    #[error(
        "the commitment was cosigned at {commitment_cosigned}, not before the population's checkpoint at {population_cosigned}"
    )]
    CommitmentAfterCheckpoint {
        /// The witness's time on the commitment's checkpoint.
        commitment_cosigned: u64,
        /// The witness's time on the population's checkpoint.
        population_cosigned: u64,
    },
    /// The reveal was cosigned before the population's checkpoint.
    #[error(
        "the reveal was cosigned at {reveal_cosigned}, before the population's checkpoint at {population_cosigned}"
    )]
    RevealBeforePopulation {
        /// The witness's time on the population's checkpoint.
        population_cosigned: u64,
        /// The witness's time on the reveal's checkpoint.
        reveal_cosigned: u64,
    },
    /// The seal is not a note signed by the checked party, or not a seal.
    #[error("seal: {problem}")]
    Seal {
        /// Why.
        problem: String,
    },
    /// The revealed secret does not open the commitment.
    #[error("the reveal does not open the commitment: committed {committed}, the revealed secret gives {opened}")]
    RevealDoesNotOpen {
        /// The logged commitment.
        committed: String,
        /// What the revealed secret commits to.
        opened: String,
    },
    /// The population is malformed.
    #[error("population: {problem}")]
    Population {
        /// Why.
        problem: PopulationProblem,
    },
    /// The population given is not the one logged.
    #[error("the population is not the logged one: the checkpoint's entry has digest {logged} ({logged_sites} sites, {logged_items} items), the transcript's population {computed} ({sites} sites, {items} items)")]
    PopulationMismatch {
        /// Digest in the population entry.
        logged: String,
        /// Sites the entry says.
        logged_sites: u64,
        /// Items the entry says.
        logged_items: u64,
        /// Digest of the transcript's population.
        computed: String,
        /// Its sites.
        sites: u64,
        /// Its items.
        items: u64,
    },
    /// The rule cannot be applied.
    #[error("undrawable: {problem}")]
    Undrawable {
        /// Why.
        problem: Undrawable,
    },
    /// The seed is not the one the inputs give.
    #[error("the seed is {found}, but the secret, checkpoint and cosignature give {expected}")]
    SeedMismatch {
        /// The recomputed seed.
        expected: String,
        /// The transcript's.
        found: String,
    },
    /// The draw is not the one the seed gives.
    #[error("draw {index} is {found:?}, but the seed gives {expected:?}")]
    DrawMismatch {
        /// The first draw that differs.
        index: usize,
        /// What the seed gives (`None`: fewer draws).
        expected: Option<Pick>,
        /// What the transcript says (`None`: fewer draws).
        found: Option<Pick>,
    },
    /// A site that was not drawn.
    #[error("site `{site}` was not drawn in {draw}")]
    NotDrawn {
        /// The draw.
        draw: String,
        /// The site.
        site: String,
    },
}

impl DrawError {
    /// A short name of the failed check, for `--json` and exit messages:
    /// `commitment_after_checkpoint`, `reveal_does_not_open`, ….
    pub fn check(&self) -> &'static str {
        match self {
            DrawError::Version { .. } => "version",
            DrawError::KeyNotPinned { .. } => "key_not_pinned",
            DrawError::KeyRole { .. } => "key_role",
            DrawError::Name { .. } => "name",
            DrawError::SameParty { .. } => "same_party",
            DrawError::Malformed { .. } => "malformed",
            DrawError::Checkpoint { .. } => "checkpoint_signature",
            DrawError::WrongLog { .. } => "wrong_log",
            DrawError::NotCosigned { .. } => "not_cosigned",
            DrawError::Inclusion { .. } => "inclusion",
            DrawError::Mismatch { .. } => "mismatch",
            DrawError::CommitmentAfterCheckpoint { .. } => "commitment_after_checkpoint",
            DrawError::RevealBeforePopulation { .. } => "reveal_before_population",
            DrawError::Seal { .. } => "seal",
            DrawError::RevealDoesNotOpen { .. } => "reveal_does_not_open",
            DrawError::Population { .. } => "population",
            DrawError::PopulationMismatch { .. } => "population_mismatch",
            DrawError::Undrawable { .. } => "undrawable",
            DrawError::SeedMismatch { .. } => "seed_mismatch",
            DrawError::DrawMismatch { .. } => "draw_mismatch",
            DrawError::NotDrawn { .. } => "not_drawn",
        }
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

/// 64 lower-case hex digits (the only spelling accepted, so that every
/// value has one).
pub(crate) fn unhex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = digit(b[2 * i])? << 4 | digit(b[2 * i + 1])?;
    }
    Some(out)
}
