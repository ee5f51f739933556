//! Draws an observer holds, and the findings of the draw protocol
//! (`accord_draw`) against the party at fault.
//!
//! Each party's node keeps every draw it takes part in as a [`DrawFile`]
//! in `DATA/draws/` (one JSON file per draw, named by the SHA-256 of the
//! draw's identifier): the logged commitment with its cosigned
//! checkpoint, then the sealed population, then the logged reveal, and any
//! refusal of a drawn site. The log entries alone do not carry the
//! witness's times (they are in the cosignatures on the checkpoints), so
//! it is these files, not the registries, that say when a deadline passed.
//!
//! A file is only used once its steps verify ([`DrawRecord::verify`]):
//! the commitment, the population against it, the whole transcript once
//! revealed. Its [`DrawRecord::findings`] on a date are the protocol's:
//!
//! | where the draw stands at the end of the date (UTC) | finding | against |
//! |---|---|---|
//! | committed, no sealed population past `populate_within` | `population_withheld` | the checked party |
//! | sealed, no reveal past `reveal_within` | `reveal_withheld` | the checking party |
//! | revealed after `reveal_within` | `reveal_late` | the checking party |
//! | drawn, and a drawn site refused | `drawn_site_refused` | the checked party |
//!
//! A withheld step that is taken late turns `…_withheld` into nothing
//! (population) or into `reveal_late` (reveal): the report on a date says
//! what the record shows for that date. The findings are dated by the
//! deadline missed, or by the refusal.

use crate::error::RegimeError;
use accord_draw::{
    population_withheld, reveal_withheld, site_refused, verify_commitment, verify_population,
    CommitmentEntry, DrawError, FindingKind as DrawKind, Keys, Logged, Population, PopulationEntry,
    RevealEntry, Transcript, TranscriptKeys, VerifiedCommitment, VerifiedDraw, VerifiedPopulation,
};
use accord_log::Verifier;
use accord_registry::{Finding, FindingKind};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The directory of a node's draws, under its data directory.
pub const DRAWS_DIR: &str = "draws";

/// The format of a [`DrawFile`].
pub const STATE_VERSION: &str = "accord-draw-state/v1";

/// Largest draw file read, in bytes (a population of 10,000,000 items is
/// about 200 MB).
pub const MAX_DRAW_FILE: u64 = 256 * 1024 * 1024;

/// The checked party's answer to a commitment: its logged population
/// entry, the population, and its seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Populated {
    /// The population entry, in the checked party's log, cosigned.
    pub population_entry: Logged<PopulationEntry>,
    /// The population (its digest is in the entry).
    pub population: Population,
    /// The seal: the checked party's signed note naming the entry, its
    /// checkpoint and the witness cosignature the draw uses.
    pub seal: String,
}

/// A drawn site the checked party refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// The site.
    pub site: String,
    /// When it was refused.
    pub date: NaiveDate,
}

/// A draw as one of its parties' nodes holds it (`DATA/draws/*.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawFile {
    /// [`STATE_VERSION`].
    pub version: String,
    /// The three keys, as the node had them from its configuration.
    pub keys: TranscriptKeys,
    /// The checking party's commitment, logged and cosigned.
    pub commitment_entry: Logged<CommitmentEntry>,
    /// The checked party's sealed population, once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub populated: Option<Populated>,
    /// The checking party's reveal, once logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reveal_entry: Option<Logged<RevealEntry>>,
    /// Drawn sites refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<Refusal>,
}

impl DrawFile {
    /// A new file: a commitment, logged.
    pub fn new(keys: &Keys, commitment_entry: Logged<CommitmentEntry>) -> DrawFile {
        DrawFile {
            version: STATE_VERSION.to_string(),
            keys: keys.named(),
            commitment_entry,
            populated: None,
            reveal_entry: None,
            refusals: vec![],
        }
    }

    /// The draw's identifier.
    pub fn id(&self) -> &str {
        &self.commitment_entry.entry.purpose.draw
    }
}

/// Where a verified draw stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Committed; no sealed population yet.
    Committed(VerifiedCommitment),
    /// Sealed; no reveal yet.
    Sealed(VerifiedPopulation),
    /// Revealed and drawn: the whole transcript verified.
    Drawn {
        /// The draw.
        draw: Box<VerifiedDraw>,
        /// Its transcript.
        transcript: Box<Transcript>,
    },
}

impl Stage {
    /// `committed`, `sealed` or `drawn`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Stage::Committed(_) => "committed",
            Stage::Sealed(_) => "sealed",
            Stage::Drawn { .. } => "drawn",
        }
    }
}

/// A draw file whose steps verified with the keys given. Only
/// [`DrawRecord::verify`] makes one.
///
/// ```compile_fail,E0451
/// fn forge(f: accord_regime::draws::DrawFile, s: accord_regime::draws::Stage) -> accord_regime::draws::DrawRecord {
///     accord_regime::draws::DrawRecord { file: f, stage: s }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawRecord {
    file: DrawFile,
    stage: Stage,
}

impl DrawRecord {
    /// Verifies every step the file holds with `keys` (the node's
    /// configured keys): the commitment; the population and its seal
    /// against it; once revealed, the whole transcript. Each refusal must
    /// name a drawn site.
    pub fn verify(file: DrawFile, keys: &Keys) -> Result<DrawRecord, DrawError> {
        if file.version != STATE_VERSION {
            return Err(DrawError::Version {
                found: file.version.clone(),
            });
        }
        let vc = verify_commitment(&file.commitment_entry, keys)?;
        let stage = match (&file.populated, &file.reveal_entry) {
            (None, None) => Stage::Committed(vc),
            (Some(p), None) => Stage::Sealed(verify_population(
                &vc,
                &p.population_entry,
                &p.population,
                &p.seal,
                keys,
            )?),
            (Some(p), Some(r)) => {
                let (t, d) = Transcript::assemble(
                    file.commitment_entry.clone(),
                    p.population_entry.clone(),
                    p.population.clone(),
                    p.seal.clone(),
                    r.clone(),
                    keys,
                )?;
                Stage::Drawn {
                    draw: Box::new(d),
                    transcript: Box::new(t),
                }
            }
            (None, Some(_)) => {
                return Err(DrawError::Mismatch {
                    step: accord_draw::Step::Reveal,
                    field: "populated",
                    expected: "a sealed population before the reveal".into(),
                    found: "none".into(),
                })
            }
        };
        let record = DrawRecord { file, stage };
        for r in &record.file.refusals {
            record.refusal(&r.site, r.date)?;
        }
        Ok(record)
    }

    /// Verifies a file with the log keys an observer holds (`pinned`: its
    /// own log's and each mirror's) and the witness the file names, which
    /// must be neither party's key. The node wrote the file after verifying
    /// each step with the witness of its configuration.
    pub fn pin(file: DrawFile, pinned: &[Verifier]) -> Result<DrawRecord, DrawError> {
        let mut keys: Vec<Verifier> = pinned.to_vec();
        let witness = Verifier::parse(&file.keys.witness).map_err(|_| DrawError::KeyNotPinned {
            role: accord_draw::Role::Witness,
            key: file.keys.witness.chars().take(300).collect(),
        })?;
        keys.push(witness);
        let keys = Keys::pin(&file.keys, &keys)?;
        DrawRecord::verify(file, &keys)
    }

    /// The file.
    pub fn file(&self) -> &DrawFile {
        &self.file
    }

    /// Where it stands.
    pub fn stage(&self) -> &Stage {
        &self.stage
    }

    /// The draw's identifier.
    pub fn id(&self) -> &str {
        self.file.id()
    }

    /// What is drawn, by whom, of whom, and how.
    pub fn purpose(&self) -> &accord_draw::Purpose {
        &self.file.commitment_entry.entry.purpose
    }

    /// The finding for refusing `site` on `date` (an error if the draw is
    /// not drawn, or did not draw the site).
    pub fn refusal(&self, site: &str, date: NaiveDate) -> Result<accord_draw::Finding, DrawError> {
        match &self.stage {
            Stage::Drawn { draw, .. } => site_refused(draw, site, date),
            _ => Err(DrawError::NotDrawn {
                draw: self.id().to_string(),
                site: site.to_string(),
            }),
        }
    }

    /// The record with a refusal of a drawn site added (refused once per
    /// site and date).
    pub fn with_refusal(mut self, site: &str, date: NaiveDate) -> Result<DrawRecord, DrawError> {
        self.refusal(site, date)?;
        let r = Refusal {
            site: site.to_string(),
            date,
        };
        if !self.file.refusals.contains(&r) {
            self.file.refusals.push(r);
        }
        Ok(self)
    }

    /// The protocol's findings at Unix time `now` (see the module docs),
    /// against either party.
    pub fn findings(&self, now: u64) -> Vec<accord_draw::Finding> {
        match &self.stage {
            Stage::Committed(c) => population_withheld(c, now).into_iter().collect(),
            Stage::Sealed(p) => reveal_withheld(p, now).into_iter().collect(),
            Stage::Drawn { draw, .. } => {
                let mut out = draw.findings().to_vec();
                for r in &self.file.refusals {
                    if let Ok(f) = site_refused(draw, &r.site, r.date) {
                        out.push(f);
                    }
                }
                out
            }
        }
    }
}

/// The last second of `date`, UTC, as Unix time (0 before 1970).
pub fn end_of(date: NaiveDate) -> u64 {
    date.and_hms_opt(23, 59, 59)
        .map(|t| t.and_utc().timestamp())
        .and_then(|t| u64::try_from(t).ok())
        .unwrap_or(0)
}

/// A finding of the protocol as a compliance finding.
pub fn to_finding(f: accord_draw::Finding) -> Finding {
    Finding {
        kind: match f.kind {
            DrawKind::RevealLate => FindingKind::RevealLate,
            DrawKind::RevealWithheld => FindingKind::RevealWithheld,
            DrawKind::PopulationWithheld => FindingKind::PopulationWithheld,
            DrawKind::DrawnSiteRefused => FindingKind::DrawnSiteRefused,
        },
        message: f.message,
        date: f.date,
        notification: None,
        item: None,
        differences: vec![],
    }
}

/// The protocol's findings against `party` in `draws` on `date`: each
/// draw as it stands at the end of that day, the findings dated on or
/// before it.
pub fn findings(draws: &[DrawRecord], party: &str, date: NaiveDate) -> Vec<Finding> {
    let now = end_of(date);
    draws
        .iter()
        .flat_map(|d| d.findings(now))
        .filter(|f| f.against == party && f.date <= date)
        .map(to_finding)
        .collect()
}

/// The file name of a draw: the hex SHA-256 of its identifier, `.json`
/// (an identifier may hold `/`).
pub fn file_name(id: &str) -> String {
    let h = Sha256::digest(id.as_bytes());
    let mut s = String::with_capacity(69);
    for b in h {
        s.push_str(&format!("{b:02x}"));
    }
    s.push_str(".json");
    s
}

/// Writes a draw file into `dir` (atomically: a temporary file, synced,
/// renamed over the old one).
pub fn save(dir: &Path, file: &DrawFile) -> Result<PathBuf, RegimeError> {
    use std::io::Write as _;
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| RegimeError::DrawIo { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(file_name(file.id()));
    let tmp = path.with_extension("json.tmp");
    // Plain data with string keys: serialising cannot fail.
    let text = serde_json::to_vec_pretty(file).unwrap_or_default();
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(&text)
        .and_then(|()| f.sync_all())
        .map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(path)
}

/// Reads one draw file (bounded), naming the field at fault.
pub fn read(path: &Path) -> Result<DrawFile, RegimeError> {
    let name = path.display().to_string();
    let io = |source| RegimeError::DrawIo {
        path: name.clone(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_DRAW_FILE + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_DRAW_FILE {
        return Err(RegimeError::DrawFile {
            path: name,
            field: ".".into(),
            message: format!("over {MAX_DRAW_FILE} bytes"),
        });
    }
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| RegimeError::DrawFile {
        path: name,
        field: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Every draw file in `dir` (none if it does not exist), each verified
/// by `verify` (with the node's configured keys, or with the keys an
/// observer pins: [`DrawRecord::pin`]), in file-name order.
pub fn load(
    dir: &Path,
    mut verify: impl FnMut(DrawFile) -> Result<DrawRecord, DrawError>,
) -> Result<Vec<DrawRecord>, RegimeError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(source) => {
            return Err(RegimeError::DrawIo {
                path: dir.display().to_string(),
                source,
            })
        }
    };
    let mut paths: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut out = vec![];
    for p in paths {
        let file = read(&p)?;
        let record = verify(file).map_err(|source| RegimeError::DrawUnverified {
            path: p.display().to_string(),
            source: Box::new(source),
        })?;
        out.push(record);
    }
    Ok(out)
}
