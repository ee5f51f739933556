//! Verification, step by step and whole: the only makers of
//! [`VerifiedCommitment`], [`VerifiedPopulation`] and [`VerifiedDraw`].

use crate::entry::{
    commitment, Canonical, CommitmentEntry, EntryKind, Population, PopulationEntry, Purpose,
    RevealEntry, Secret, VERSION,
};
use crate::finding::{self, Finding};
use crate::sample::{self, Pick};
use crate::transcript::{Draw, Keys, Logged, Transcript};
use crate::{hex, unhex32, DrawError, Role, Step};
use accord_log::merkle::{self, leaf_hash, Hash};
use accord_log::witness::decode_hashes;
use accord_log::{open_checkpoint, Note, Signer, Verifier};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The seed of a draw:
///
/// ```text
/// SHA-256( "accord-draw/v1/seed" 0x00
///          ‖ commitment                       32 bytes
///          ‖ secret                           32 bytes
///          ‖ u32be(|T|) ‖ T                   T = the checked party's checkpoint
///                                             note text (origin, size, root lines)
///          ‖ u32be(|L|) ‖ L )                 L = the witness's cosignature line
///                                             on it, as written ("— name base64…")
/// ```
pub fn seed(
    commitment: &[u8; 32],
    secret: &Secret,
    checkpoint_text: &str,
    cosignature: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"accord-draw/v1/seed\0");
    h.update(commitment);
    h.update(secret.as_bytes());
    h.update((checkpoint_text.len() as u32).to_be_bytes());
    h.update(checkpoint_text.as_bytes());
    h.update((cosignature.len() as u32).to_be_bytes());
    h.update(cosignature.as_bytes());
    h.finalize().into()
}

/// A checkpoint whose log signature and witness cosignatures verified.
struct Opened {
    text: String,
    size: u64,
    root: Hash,
    /// The witness's cosignature lines, with their timestamps.
    cosignatures: Vec<(u64, String)>,
}

impl Opened {
    fn earliest(&self) -> u64 {
        self.cosignatures.iter().map(|c| c.0).min().unwrap_or(0)
    }
}

fn open(
    step: Step,
    note: &str,
    log: &Verifier,
    origin: &str,
    witness: &Verifier,
) -> Result<Opened, DrawError> {
    let vc = open_checkpoint(note, log, std::slice::from_ref(witness))
        .map_err(|error| DrawError::Checkpoint { step, error })?;
    let cp = vc.checkpoint();
    if cp.origin != origin {
        return Err(DrawError::WrongLog {
            step,
            expected: origin.to_string(),
            found: cp.origin.clone(),
        });
    }
    // Every line under the witness's name and key ID verified (a note with
    // a failing signature from a known key does not open at all).
    let cosignatures: Vec<(u64, String)> = vc
        .note()
        .signatures
        .iter()
        .filter(|s| s.name == witness.name() && s.key_id == witness.key_id())
        .filter_map(|s| {
            let t: [u8; 8] = s.signature.get(..8)?.try_into().ok()?;
            Some((u64::from_be_bytes(t), s.line.clone()))
        })
        .collect();
    if cosignatures.is_empty() || vc.cosigned_by().is_empty() {
        return Err(DrawError::NotCosigned {
            step,
            witness: witness.name().to_string(),
        });
    }
    Ok(Opened {
        text: vc.note().text.clone(),
        size: cp.size,
        root: cp.hash,
        cosignatures,
    })
}

fn included<E: Canonical>(step: Step, l: &Logged<E>, at: &Opened) -> Result<Hash, DrawError> {
    let leaf = leaf_hash(&l.entry.canonical());
    let proof = decode_hashes(&l.proof).map_err(|_| DrawError::Malformed {
        step,
        field: "proof",
        expected: "a list of base64 32-byte hashes",
    })?;
    merkle::verify_inclusion(l.index, at.size, &leaf, &proof, &at.root).map_err(|error| {
        DrawError::Inclusion {
            step,
            index: l.index,
            size: at.size,
            error,
        }
    })?;
    Ok(leaf)
}

fn mismatch(
    step: Step,
    field: &'static str,
    expected: impl ToString,
    found: impl ToString,
) -> DrawError {
    DrawError::Mismatch {
        step,
        field,
        expected: expected.to_string(),
        found: found.to_string(),
    }
}

/// A commitment whose entry is in the checking party's log under a
/// checkpoint the witness cosigned. Only [`verify_commitment`] makes one.
///
/// ```compile_fail,E0451
/// let v = accord_draw::VerifiedCommitment { purpose: todo!(), commitment: [0; 32], cosigned_at: 0, index: 0 };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCommitment {
    purpose: Purpose,
    commitment: [u8; 32],
    cosigned_at: u64,
    index: u64,
}

impl VerifiedCommitment {
    /// What is drawn, and how.
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }

    /// The commitment, hex.
    pub fn commitment(&self) -> String {
        hex(&self.commitment)
    }

    /// The witness's (earliest) time on the commitment's checkpoint.
    pub fn cosigned_at(&self) -> u64 {
        self.cosigned_at
    }

    /// The commitment's leaf index in the checking party's log.
    pub fn index(&self) -> u64 {
        self.index
    }
}

/// Verifies a logged commitment: its purpose names the keys' logs, its
/// checkpoint verifies with the checking party's key and carries the
/// witness's cosignature, and the entry is in it.
pub fn verify_commitment(
    c: &Logged<CommitmentEntry>,
    keys: &Keys,
) -> Result<VerifiedCommitment, DrawError> {
    let step = Step::Commitment;
    if c.entry.entry != EntryKind::Commitment {
        return Err(mismatch(
            step,
            "entry",
            "accord-draw/v1/commitment",
            format!("{:?}", c.entry.entry),
        ));
    }
    let purpose = &c.entry.purpose;
    purpose.check()?;
    for (role, k, log) in [
        (Role::Checking, keys.checking(), &purpose.checking.log),
        (Role::Checked, keys.checked(), &purpose.checked.log),
    ] {
        if k.name() != log {
            return Err(DrawError::KeyRole {
                role,
                key: k.to_string(),
                problem: "its name is not the log the purpose names",
            });
        }
    }
    let commitment = unhex32(&c.entry.commitment).ok_or(DrawError::Malformed {
        step,
        field: "commitment",
        expected: "64 lower-case hex digits",
    })?;
    let at = open(
        step,
        &c.checkpoint,
        keys.checking(),
        &purpose.checking.log,
        keys.witness(),
    )?;
    included(step, c, &at)?;
    Ok(VerifiedCommitment {
        purpose: purpose.clone(),
        commitment,
        cosigned_at: at.earliest(),
        index: c.index,
    })
}

/// What a verified population and seal establish (without a copy of the
/// population).
struct Sealed {
    checkpoint_text: String,
    cosignature: String,
    cosigned_at: u64,
    seal_digest: [u8; 32],
}

/// The text of a seal:
///
/// ```text
/// accord-draw/v1/seal
/// draw <draw identifier>
/// population <leaf index> <hex leaf hash of the population entry>
/// checkpoint <hex SHA-256 of the checkpoint's note text>
/// cosignature <the witness's cosignature line, as written>
/// ```
fn seal_text(draw: &str, index: u64, leaf: &Hash, checkpoint_text: &str, line: &str) -> String {
    format!(
        "accord-draw/v1/seal\ndraw {draw}\npopulation {index} {}\ncheckpoint {}\ncosignature {line}\n",
        hex(leaf),
        hex(&Sha256::digest(checkpoint_text.as_bytes()))
    )
}

/// Seals a logged population: the checked party signs, with its log key,
/// which population entry, checkpoint and witness cosignature (the first
/// one in the note) the draw is to use. Done once, before the reveal; the
/// checking party's reveal then names this seal.
pub fn seal(
    signer: &Signer,
    p: &Logged<PopulationEntry>,
    witness: &Verifier,
) -> Result<String, DrawError> {
    let step = Step::Seal;
    let witness = witness.as_cosigner();
    let at = open(
        step,
        &p.checkpoint,
        &signer.verifier(),
        signer.name(),
        &witness,
    )?;
    let leaf = included(step, p, &at)?;
    let line = &at.cosignatures[0].1;
    let text = seal_text(&p.entry.draw, p.index, &leaf, &at.text, line);
    signer
        .sign(&text)
        .map_err(|error| DrawError::Checkpoint { step, error })
}

fn check_population(
    c: &VerifiedCommitment,
    p: &Logged<PopulationEntry>,
    population: &Population,
    seal: &str,
    keys: &Keys,
) -> Result<Sealed, DrawError> {
    let step = Step::Population;
    let e = &p.entry;
    if e.entry != EntryKind::Population {
        return Err(mismatch(
            step,
            "entry",
            "accord-draw/v1/population",
            format!("{:?}", e.entry),
        ));
    }
    if e.draw != c.purpose.draw {
        return Err(mismatch(step, "draw", &c.purpose.draw, &e.draw));
    }
    let quoted = c.commitment();
    if e.commitment != quoted {
        return Err(mismatch(step, "commitment", quoted, &e.commitment));
    }
    let digest = hex(&population.checked_digest()?);
    let (sites, items) = (population.sites.len() as u64, population.items());
    if digest != e.population || sites != e.sites || items != e.items {
        return Err(DrawError::PopulationMismatch {
            logged: e.population.clone(),
            logged_sites: e.sites,
            logged_items: e.items,
            computed: digest,
            sites,
            items,
        });
    }
    let at = open(
        step,
        &p.checkpoint,
        keys.checked(),
        &c.purpose.checked.log,
        keys.witness(),
    )?;
    let leaf = included(step, p, &at)?;
    // The seal: signed by the checked party, naming this entry, this
    // checkpoint and one of its witness cosignatures.
    let bad = |problem: String| DrawError::Seal { problem };
    if seal.len() > accord_log::note::MAX_NOTE_BYTES {
        return Err(bad("over 64 KiB".into()));
    }
    let note = Note::parse(seal).map_err(|e| bad(e.to_string()))?;
    note.verify(std::slice::from_ref(keys.checked()))
        .map_err(|e| bad(format!("not signed by the checked party: {e}")))?;
    let line = note
        .text
        .lines()
        .nth(4)
        .and_then(|l| l.strip_prefix("cosignature "))
        .ok_or_else(|| bad("no cosignature line".into()))?;
    let (cosigned_at, cosignature) = at
        .cosignatures
        .iter()
        .find(|(_, l)| l == line)
        .cloned()
        .ok_or_else(|| {
            bad(
                "the cosignature it names is not the witness's on the population's checkpoint"
                    .into(),
            )
        })?;
    let want = seal_text(&e.draw, p.index, &leaf, &at.text, &cosignature);
    if note.text != want {
        return Err(bad(format!(
            "it does not name this draw, population entry and checkpoint: expected the text {want:?}, found {:?}",
            note.text
        )));
    }
    if c.cosigned_at >= cosigned_at {
        return Err(DrawError::CommitmentAfterCheckpoint {
            commitment_cosigned: c.cosigned_at,
            population_cosigned: cosigned_at,
        });
    }
    Ok(Sealed {
        checkpoint_text: at.text,
        cosignature,
        cosigned_at,
        seal_digest: Sha256::digest(seal.as_bytes()).into(),
    })
}

/// A population fixed under the checked party's cosigned checkpoint after
/// the commitment, and sealed. Only [`verify_population`] makes one.
///
/// ```compile_fail,E0451
/// let v = accord_draw::VerifiedPopulation { commitment: todo!(), sites: vec![], cosigned_at: 0, seal: [0; 32], subject: None };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPopulation {
    commitment: VerifiedCommitment,
    sites: Vec<String>,
    cosigned_at: u64,
    seal: [u8; 32],
    subject: Option<String>,
}

impl VerifiedPopulation {
    /// The commitment it answers.
    pub fn commitment(&self) -> &VerifiedCommitment {
        &self.commitment
    }

    /// The population's sites.
    pub fn sites(&self) -> &[String] {
        &self.sites
    }

    /// The witness's time on the sealed cosignature.
    pub fn cosigned_at(&self) -> u64 {
        self.cosigned_at
    }

    /// SHA-256 of the seal, hex (what the reveal names).
    pub fn seal(&self) -> String {
        hex(&self.seal)
    }

    /// What the population is of, if the entry says.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The reveal entry for this population (the checking party logs it).
    pub fn reveal(&self, secret: &Secret) -> RevealEntry {
        RevealEntry {
            entry: EntryKind::Reveal,
            draw: self.commitment.purpose.draw.clone(),
            secret: secret.to_hex(),
            seal: self.seal(),
        }
    }
}

/// Verifies a logged population and its seal against a verified
/// commitment: the entry quotes the commitment and the population's digest,
/// its checkpoint verifies with the checked party's key and carries the
/// witness's cosignature, the witness cosigned the commitment first, and the
/// seal, signed by the checked party, names exactly this entry, checkpoint
/// and cosignature.
pub fn verify_population(
    c: &VerifiedCommitment,
    p: &Logged<PopulationEntry>,
    population: &Population,
    seal: &str,
    keys: &Keys,
) -> Result<VerifiedPopulation, DrawError> {
    let s = check_population(c, p, population, seal, keys)?;
    Ok(VerifiedPopulation {
        commitment: c.clone(),
        sites: population.sites.iter().map(|s| s.site.clone()).collect(),
        cosigned_at: s.cosigned_at,
        seal: s.seal_digest,
        subject: p.entry.subject.clone(),
    })
}

/// A draw whose transcript verified. Only [`verify`] makes one; the
/// functions that act on a draw (a freeze challenge, a refusal finding) take
/// one.
///
/// ```compile_fail,E0451
/// let v = accord_draw::VerifiedDraw {
///     purpose: todo!(), subject: None, sites: vec![], seed: [0; 32], picks: vec![],
///     commitment_cosigned_at: 0, population_cosigned_at: 0, revealed_at: 0,
///     witness: String::new(), findings: vec![],
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDraw {
    purpose: Purpose,
    subject: Option<String>,
    sites: Vec<String>,
    seed: [u8; 32],
    picks: Vec<Pick>,
    commitment_cosigned_at: u64,
    population_cosigned_at: u64,
    revealed_at: u64,
    witness: String,
    findings: Vec<Finding>,
}

impl VerifiedDraw {
    /// What was drawn, and how.
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }

    /// The draw identifier.
    pub fn id(&self) -> &str {
        &self.purpose.draw
    }

    /// What the population is of (e.g. a declaration's digest), if said.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The population's sites, sorted.
    pub fn population_sites(&self) -> &[String] {
        &self.sites
    }

    /// The seed, hex.
    pub fn seed(&self) -> String {
        hex(&self.seed)
    }

    /// The draws, in order.
    pub fn picks(&self) -> &[Pick] {
        &self.picks
    }

    /// The sites drawn, in draw order.
    pub fn sites(&self) -> impl Iterator<Item = &str> {
        self.picks.iter().map(|p| p.site.as_str())
    }

    /// The witness's time on the commitment's checkpoint.
    pub fn commitment_cosigned_at(&self) -> u64 {
        self.commitment_cosigned_at
    }

    /// The witness's time on the sealed population checkpoint.
    pub fn population_cosigned_at(&self) -> u64 {
        self.population_cosigned_at
    }

    /// The witness's time on the reveal's checkpoint.
    pub fn revealed_at(&self) -> u64 {
        self.revealed_at
    }

    /// The witness.
    pub fn witness(&self) -> &str {
        &self.witness
    }

    /// Findings the transcript itself shows (a reveal past its deadline).
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

impl Serialize for VerifiedDraw {
    /// `{verified, draw, kind, checking, checked, witness, subject, seed,
    /// picks, commitment_cosigned_at, population_cosigned_at, revealed_at,
    /// findings}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            verified: bool,
            draw: &'a str,
            kind: &'a str,
            checking: &'a str,
            checked: &'a str,
            witness: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            subject: Option<&'a str>,
            seed: String,
            picks: &'a [Pick],
            commitment_cosigned_at: u64,
            population_cosigned_at: u64,
            revealed_at: u64,
            findings: &'a [Finding],
        }
        View {
            verified: true,
            draw: &self.purpose.draw,
            kind: self.purpose.kind.as_str(),
            checking: &self.purpose.checking.party,
            checked: &self.purpose.checked.party,
            witness: &self.witness,
            subject: self.subject.as_deref(),
            seed: self.seed(),
            picks: &self.picks,
            commitment_cosigned_at: self.commitment_cosigned_at,
            population_cosigned_at: self.population_cosigned_at,
            revealed_at: self.revealed_at,
            findings: &self.findings,
        }
        .serialize(s)
    }
}

/// Verifies a transcript with keys the verifier trusts (see [`Keys::pin`]):
///
/// 1. the version, and the keys it names are the verifier's;
/// 2. the commitment entry is in the checking party's log under a checkpoint
///    signed by it and cosigned by the witness;
/// 3. the population entry quotes that commitment and the population's
///    digest, and is in the checked party's log under a checkpoint signed by
///    it and cosigned by the witness, **later** than the commitment's;
/// 4. the seal is signed by the checked party and names that entry,
///    checkpoint and cosignature;
/// 5. the reveal entry names the seal and is in the checking party's log,
///    after the commitment, under a checkpoint the witness cosigned no
///    earlier than the population's;
/// 6. the revealed secret opens the commitment;
/// 7. the seed is [`seed`] of those inputs, and the draw is
///    [`sample::draw`] of the seed.
///
/// A reveal cosigned past the rule's deadline still verifies (the draw is
/// sound) and carries a finding against the checking party.
pub fn verify(t: &Transcript, keys: &Keys) -> Result<VerifiedDraw, DrawError> {
    if t.version != VERSION {
        return Err(DrawError::Version {
            found: t.version.clone(),
        });
    }
    let named = keys.named();
    for (role, ours, theirs) in [
        (Role::Checking, &named.checking, &t.keys.checking),
        (Role::Checked, &named.checked, &t.keys.checked),
        (Role::Witness, &named.witness, &t.keys.witness),
    ] {
        if ours != theirs {
            return Err(DrawError::KeyNotPinned {
                role,
                key: theirs.chars().take(300).collect(),
            });
        }
    }
    let c = verify_commitment(&t.commitment_entry, keys)?;
    let s = check_population(&c, &t.population_entry, &t.population, &t.seal, keys)?;
    // The reveal.
    let step = Step::Reveal;
    let r = &t.reveal_entry;
    let purpose = &c.purpose;
    if r.entry.entry != EntryKind::Reveal {
        return Err(mismatch(
            step,
            "entry",
            "accord-draw/v1/reveal",
            format!("{:?}", r.entry.entry),
        ));
    }
    if r.entry.draw != purpose.draw {
        return Err(mismatch(step, "draw", &purpose.draw, &r.entry.draw));
    }
    let seal_digest = hex(&s.seal_digest);
    if r.entry.seal != seal_digest {
        return Err(mismatch(step, "seal", seal_digest, &r.entry.seal));
    }
    if r.index <= c.index {
        return Err(mismatch(
            step,
            "index",
            format!("after the commitment's leaf {}", c.index),
            r.index,
        ));
    }
    let at = open(
        step,
        &r.checkpoint,
        keys.checking(),
        &purpose.checking.log,
        keys.witness(),
    )?;
    included(step, r, &at)?;
    let revealed_at = at.earliest();
    if revealed_at < s.cosigned_at {
        return Err(DrawError::RevealBeforePopulation {
            population_cosigned: s.cosigned_at,
            reveal_cosigned: revealed_at,
        });
    }
    let secret = Secret::from_hex(&r.entry.secret).ok_or(DrawError::Malformed {
        step,
        field: "secret",
        expected: "64 lower-case hex digits",
    })?;
    let opened = commitment(purpose, &secret)?;
    if opened != c.commitment {
        return Err(DrawError::RevealDoesNotOpen {
            committed: c.commitment(),
            opened: hex(&opened),
        });
    }
    // The seed and the draw.
    let sd = seed(&c.commitment, &secret, &s.checkpoint_text, &s.cosignature);
    if t.draw.seed != hex(&sd) {
        return Err(DrawError::SeedMismatch {
            expected: hex(&sd),
            found: t.draw.seed.chars().take(100).collect(),
        });
    }
    let picks = sample::draw(&sd, &t.population, &purpose.rule)?;
    if picks != t.draw.picks {
        let index = picks
            .iter()
            .zip(&t.draw.picks)
            .position(|(a, b)| a != b)
            .unwrap_or(picks.len().min(t.draw.picks.len()));
        return Err(DrawError::DrawMismatch {
            index,
            expected: picks.get(index).cloned(),
            found: t.draw.picks.get(index).cloned(),
        });
    }
    let findings = finding::reveal_late(purpose, s.cosigned_at, revealed_at)
        .into_iter()
        .collect();
    Ok(VerifiedDraw {
        purpose: purpose.clone(),
        subject: t.population_entry.entry.subject.clone(),
        sites: t.population.sites.iter().map(|s| s.site.clone()).collect(),
        seed: sd,
        picks,
        commitment_cosigned_at: c.cosigned_at,
        population_cosigned_at: s.cosigned_at,
        revealed_at,
        witness: keys.witness().name().to_string(),
        findings,
    })
}

/// Assembles the transcript of a draw from its verified parts and the
/// reveal, computes the draw, and verifies the whole.
pub(crate) fn assemble(
    commitment_entry: Logged<CommitmentEntry>,
    population_entry: Logged<PopulationEntry>,
    population: Population,
    seal: String,
    reveal_entry: Logged<RevealEntry>,
    keys: &Keys,
) -> Result<(Transcript, VerifiedDraw), DrawError> {
    let c = verify_commitment(&commitment_entry, keys)?;
    let s = check_population(&c, &population_entry, &population, &seal, keys)?;
    let secret = Secret::from_hex(&reveal_entry.entry.secret).ok_or(DrawError::Malformed {
        step: Step::Reveal,
        field: "secret",
        expected: "64 lower-case hex digits",
    })?;
    let sd = seed(&c.commitment, &secret, &s.checkpoint_text, &s.cosignature);
    let picks = sample::draw(&sd, &population, &c.purpose.rule)?;
    let t = Transcript {
        version: VERSION.to_string(),
        keys: keys.named(),
        commitment_entry,
        population_entry,
        population,
        seal,
        reveal_entry,
        draw: Draw {
            seed: hex(&sd),
            picks,
        },
    };
    let v = verify(&t, keys)?;
    Ok((t, v))
}
