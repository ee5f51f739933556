//! Builders: the protocol's steps on real logs ([`accord_log::LogStore`])
//! and witnesses ([`accord_log::Witness`]), or on in-memory ones for tests
//! and benchmarks, and a one-call honest draw.
//!
//! The steps, as a node runs them:
//!
//! ```text
//! checking party                         checked party
//! --------------                         -------------
//! (secret, entry) = commit(purpose)
//! c = log_entry(own log, entry, t₁)  ──► verify_commitment(c)
//!                                        e = population_entry(c, population, subject)
//!                                        p = log_entry(own log, e, t₂ > t₁)
//! verify_population(c, p, pop, seal) ◄── seal(signer, p, witness)
//! r = log_entry(own log, reveal, t₃)  ──► Transcript::assemble(c, p, pop, seal, r)
//! ```

use crate::entry::{
    commitment, Canonical, CommitmentEntry, EntryKind, Population, PopulationEntry, Purpose, Secret,
};
use crate::transcript::{Keys, Logged, Transcript};
use crate::verify::{self, VerifiedCommitment, VerifiedDraw};
use crate::{hex, DrawError};
use accord_log::merkle::{self, Hash, MemoryTree, ProofError};
use accord_log::witness::encode_hashes;
use accord_log::{
    Checkpoint, LogError, LogStore, Note, NoteError, Signer, Verifier, Witness, WitnessError,
};
use rand::{CryptoRng, RngCore};

/// Why a builder failed (the log, the witness, or the draw itself).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The log store.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The witness refused or failed.
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// A note or key.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// A proof.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// The draw's own checks.
    #[error(transparent)]
    Draw(#[from] DrawError),
    /// A witness reached over the network, or a log shared with other
    /// writers, failed: the implementor's own error, with its evidence.
    #[error(transparent)]
    Remote(Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// A log the protocol appends to: the checking party's or the checked
/// party's own.
pub trait DrawLog {
    /// Its origin (the name of its key).
    fn origin(&self) -> &str;
    /// Appends one entry; returns its index.
    fn append_entry(&mut self, entry: Vec<u8>) -> Result<u64, BuildError>;
    /// Signs a checkpoint of the current tree; returns the signed note.
    fn sign_checkpoint(&mut self, signer: &Signer) -> Result<String, BuildError>;
    /// An inclusion proof of `index` in the tree of `size`.
    fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, BuildError>;
    /// A consistency proof from `old` to `new`.
    fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, BuildError>;
}

impl DrawLog for LogStore {
    fn origin(&self) -> &str {
        LogStore::origin(self)
    }
    fn append_entry(&mut self, entry: Vec<u8>) -> Result<u64, BuildError> {
        Ok(self.append(&[entry])?.start)
    }
    fn sign_checkpoint(&mut self, signer: &Signer) -> Result<String, BuildError> {
        Ok(self.checkpoint(signer)?)
    }
    fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, BuildError> {
        Ok(self.inclusion_proof(index, size)?)
    }
    fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, BuildError> {
        Ok(self.consistency_proof(old, new)?)
    }
}

/// An in-memory log (tests, benchmarks, simulations).
#[derive(Debug)]
pub struct MemoryLog {
    origin: String,
    tree: MemoryTree,
}

impl MemoryLog {
    /// An empty log.
    pub fn new(origin: &str) -> MemoryLog {
        MemoryLog {
            origin: origin.to_string(),
            tree: MemoryTree::new(),
        }
    }

    /// Its size.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }
}

impl DrawLog for MemoryLog {
    fn origin(&self) -> &str {
        &self.origin
    }
    fn append_entry(&mut self, entry: Vec<u8>) -> Result<u64, BuildError> {
        self.tree.append(&entry);
        Ok(self.tree.size() - 1)
    }
    fn sign_checkpoint(&mut self, signer: &Signer) -> Result<String, BuildError> {
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size: self.tree.size(),
            hash: self.tree.root(),
            extensions: vec![],
        };
        Ok(signer.sign(&cp.to_text())?)
    }
    fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, BuildError> {
        Ok(merkle::inclusion_proof(&self.tree, index, size)?)
    }
    fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, BuildError> {
        Ok(merkle::consistency_proof(&self.tree, old, new)?)
    }
}

/// A witness the protocol asks to cosign a checkpoint at a time.
pub trait Cosigner {
    /// Cosigns `note` (a checkpoint of `log`) at Unix time `now`; returns the
    /// `cosignature/v1` line.
    fn cosign(&mut self, log: &dyn DrawLog, note: &str, now: u64) -> Result<String, BuildError>;
    /// Its cosigner key (type 0x04).
    fn cosigner(&self) -> Verifier;
}

impl Cosigner for Witness {
    /// The C2SP `add-checkpoint` step, with the consistency proof from the
    /// size the witness last cosigned for this log. The witness must follow
    /// the log (`Witness::add_log`).
    fn cosign(&mut self, log: &dyn DrawLog, note: &str, now: u64) -> Result<String, BuildError> {
        let size = Checkpoint::parse(&Note::parse(note)?.text)?.size;
        let last = self.latest(log.origin())?.map_or(0, |x| x.0);
        let proof = if last == 0 || last >= size {
            vec![]
        } else {
            log.consistency(last, size)?
        };
        Ok(self.add_checkpoint(note, last, &proof, now)?)
    }
    fn cosigner(&self) -> Verifier {
        self.verifier()
    }
}

/// A witness that keeps no state and cosigns whatever it is shown (tests
/// and benchmarks only: a real witness checks consistency, see
/// [`accord_log::Witness`]).
#[derive(Debug, Clone)]
pub struct StatelessWitness(pub Signer);

impl Cosigner for StatelessWitness {
    fn cosign(&mut self, _log: &dyn DrawLog, note: &str, now: u64) -> Result<String, BuildError> {
        Ok(self.0.cosign_line(&Note::parse(note)?.text, now))
    }
    fn cosigner(&self) -> Verifier {
        self.0.cosigner_verifier()
    }
}

/// Logs an entry: appends its RFC 8785 bytes, signs a checkpoint, has the
/// witness cosign it at `now`, and returns the entry with its inclusion
/// proof and the cosigned checkpoint.
pub fn log_entry<E: Canonical, L: DrawLog, W: Cosigner + ?Sized>(
    log: &mut L,
    signer: &Signer,
    witness: &mut W,
    entry: E,
    now: u64,
) -> Result<Logged<E>, BuildError> {
    let bytes = entry.canonical();
    let index = log.append_entry(bytes)?;
    let note = log.sign_checkpoint(signer)?;
    let line = witness.cosign(&*log, &note, now)?;
    let mut cosigned = Note::parse(&note)?;
    cosigned.add_line(line)?;
    let size = Checkpoint::parse(&cosigned.text)?.size;
    let proof = encode_hashes(&log.inclusion(index, size)?);
    Ok(Logged {
        entry,
        index,
        proof,
        checkpoint: cosigned.to_text(),
    })
}

/// Step 1 (checking party): a fresh secret and the commitment entry to log.
/// Keep the secret until the reveal, and never show it before.
pub fn commit<R: RngCore + CryptoRng>(
    purpose: Purpose,
    rng: &mut R,
) -> Result<(Secret, CommitmentEntry), DrawError> {
    purpose.check()?;
    let secret = Secret::generate(rng);
    let c = commitment(&purpose, &secret)?;
    Ok((
        secret,
        CommitmentEntry {
            entry: EntryKind::Commitment,
            purpose,
            commitment: hex(&c),
        },
    ))
}

/// Step 2 (checked party): the population entry answering a verified
/// commitment. `subject` says what the population is of (for a freeze
/// challenge: the declaration's digest).
pub fn population_entry(
    c: &VerifiedCommitment,
    population: &Population,
    subject: Option<String>,
) -> Result<PopulationEntry, DrawError> {
    let digest = population.checked_digest()?;
    Ok(PopulationEntry {
        entry: EntryKind::Population,
        draw: c.purpose().draw.clone(),
        commitment: c.commitment(),
        population: hex(&digest),
        sites: population.sites.len() as u64,
        items: population.items(),
        subject,
    })
}

impl Transcript {
    /// Step 4 (either party): the transcript from the logged commitment,
    /// the logged and sealed population, and the logged reveal; the draw is
    /// computed and the whole verified.
    pub fn assemble(
        commitment_entry: Logged<CommitmentEntry>,
        population_entry: Logged<PopulationEntry>,
        population: Population,
        seal: String,
        reveal_entry: Logged<crate::RevealEntry>,
        keys: &Keys,
    ) -> Result<(Transcript, VerifiedDraw), DrawError> {
        verify::assemble(
            commitment_entry,
            population_entry,
            population,
            seal,
            reveal_entry,
            keys,
        )
    }
}

/// One party's log and signer.
#[derive(Debug)]
pub struct Side<'a, L: ?Sized> {
    /// Its log.
    pub log: &'a mut L,
    /// Its log's signer.
    pub signer: &'a Signer,
}

/// The witness's times for the three cosignatures (Unix seconds; they must
/// increase: commitment < population ≤ reveal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The commitment's checkpoint.
    pub commit: u64,
    /// The population's checkpoint.
    pub populate: u64,
    /// The reveal's checkpoint.
    pub reveal: u64,
}

impl Clock {
    /// `t`, `t + 60`, `t + 120`.
    pub fn starting(t: u64) -> Clock {
        Clock {
            commit: t,
            populate: t + 60,
            reveal: t + 120,
        }
    }
}

/// An honest draw, every step in order: the checking party commits in its
/// log, the checked party logs and seals `population`, the checking party
/// reveals; returns the transcript and its verification.
#[allow(clippy::too_many_arguments)]
pub fn honest_draw<R, L1, L2, W>(
    purpose: Purpose,
    population: Population,
    subject: Option<String>,
    checking: Side<'_, L1>,
    checked: Side<'_, L2>,
    witness: &mut W,
    clock: Clock,
    rng: &mut R,
) -> Result<(Transcript, VerifiedDraw), BuildError>
where
    R: RngCore + CryptoRng,
    L1: DrawLog,
    L2: DrawLog,
    W: Cosigner + ?Sized,
{
    let keys = Keys::new(
        checking.signer.verifier(),
        checked.signer.verifier(),
        witness.cosigner(),
    )?;
    let (secret, entry) = commit(purpose, rng)?;
    let c = log_entry(checking.log, checking.signer, witness, entry, clock.commit)?;
    let vc = verify::verify_commitment(&c, &keys)?;
    let e = population_entry(&vc, &population, subject)?;
    let p = log_entry(checked.log, checked.signer, witness, e, clock.populate)?;
    let sealed = verify::seal(checked.signer, &p, keys.witness())?;
    let vp = verify::verify_population(&vc, &p, &population, &sealed, &keys)?;
    let r = log_entry(
        checking.log,
        checking.signer,
        witness,
        vp.reveal(&secret),
        clock.reveal,
    )?;
    Ok(Transcript::assemble(c, p, population, sealed, r, &keys)?)
}
