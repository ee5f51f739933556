//! What a party's log holds: its notifications, the records it logged
//! (inspections it made or received), and its steps of the draw protocol.
//!
//! Every entry is the RFC 8785 canonical form of one JSON object:
//!
//! - an object with a `record` field is a record of that kind
//!   (`"record": "inspection"`);
//! - an object whose `entry` field names a step of the draw protocol
//!   (`"entry": "accord-draw/v1/commitment"`, `…/population`, `…/reveal`,
//!   see `accord_draw`) is that step, logged by the party that took it: a
//!   commitment by the checking party (its purpose must name the log's
//!   party as the checking party), a population by the checked party, a
//!   reveal by the checking party;
//! - any other object is a notification.
//!
//! An entry that is none of these, or that is not in canonical form, is not
//! something an honest party logs: the exchange flags the peer that served
//! it.

use accord_draw::{Canonical, CommitmentEntry, PopulationEntry, RevealEntry};
use accord_inspect::record::{InspectionRecord, RECORD_KIND};
use accord_log::{canonical_entry, EntryError};
use accord_registry::notification::parse_one;
use accord_registry::{InputError, Notification};

/// One log entry, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEntry {
    /// A notification of the log's party.
    Notification(Notification),
    /// An inspection record the log's party logged.
    Inspection(Box<InspectionRecord>),
    /// A step of the draw protocol the log's party took.
    Draw(Box<DrawEntry>),
}

/// A step of the draw protocol, as a party logs it (`accord_draw`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrawEntry {
    /// The checking party's commitment.
    Commitment(CommitmentEntry),
    /// The checked party's population.
    Population(PopulationEntry),
    /// The checking party's reveal.
    Reveal(RevealEntry),
}

/// The prefix of the `entry` field of every step of the draw protocol.
pub const DRAW_ENTRY_PREFIX: &str = "accord-draw/";

impl DrawEntry {
    /// Its kind, as logged (`accord-draw/v1/commitment`, …): also the kind
    /// of the registry record it is fed to.
    pub fn kind(&self) -> &'static str {
        match self {
            DrawEntry::Commitment(e) => e.entry.as_str(),
            DrawEntry::Population(e) => e.entry.as_str(),
            DrawEntry::Reveal(e) => e.entry.as_str(),
        }
    }

    /// The draw it is a step of (the registry record's id).
    pub fn draw(&self) -> &str {
        match self {
            DrawEntry::Commitment(e) => &e.purpose.draw,
            DrawEntry::Population(e) => &e.draw,
            DrawEntry::Reveal(e) => &e.draw,
        }
    }

    /// Its RFC 8785 bytes (the leaf).
    pub fn canonical(&self) -> Vec<u8> {
        match self {
            DrawEntry::Commitment(e) => e.canonical(),
            DrawEntry::Population(e) => e.canonical(),
            DrawEntry::Reveal(e) => e.canonical(),
        }
    }

    /// Parses a step from its JSON text, checking its shape: the names, the
    /// rule's bounds and every hex field; a commitment must be the log
    /// party's own (it is the checking party).
    fn parse(text: &str, kind: &str, party: &str) -> Result<DrawEntry, EntryProblem> {
        let json = |source| EntryProblem::DrawJson {
            kind: kind.to_string(),
            source,
        };
        let hex = |field: &'static str, v: &str| {
            let ok = v.len() == 64 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if ok {
                Ok(())
            } else {
                Err(EntryProblem::DrawField {
                    kind: kind.to_string(),
                    field,
                })
            }
        };
        let e = match kind {
            "accord-draw/v1/commitment" => {
                let c: CommitmentEntry = serde_json::from_str(text).map_err(json)?;
                c.purpose.check().map_err(EntryProblem::Draw)?;
                hex("commitment", &c.commitment)?;
                if c.purpose.checking.party != party {
                    return Err(EntryProblem::NotItsDraw {
                        party: party.to_string(),
                        checking: c.purpose.checking.party,
                        draw: c.purpose.draw,
                    });
                }
                DrawEntry::Commitment(c)
            }
            "accord-draw/v1/population" => {
                let p: PopulationEntry = serde_json::from_str(text).map_err(json)?;
                hex("commitment", &p.commitment)?;
                hex("population", &p.population)?;
                DrawEntry::Population(p)
            }
            "accord-draw/v1/reveal" => {
                let r: RevealEntry = serde_json::from_str(text).map_err(json)?;
                hex("secret", &r.secret)?;
                hex("seal", &r.seal)?;
                DrawEntry::Reveal(r)
            }
            other => return Err(EntryProblem::UnknownEntry(other.to_string())),
        };
        // The identifier is checked as the protocol checks it.
        if let Err(e) = accord_draw::check_draw_id(e.draw()) {
            return Err(EntryProblem::Draw(e));
        }
        Ok(e)
    }
}

/// Why bytes are not an entry of a party's log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EntryProblem {
    /// Not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// Not a JSON object, or not representable canonically.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// A `record` of a kind this regime does not know.
    #[error("a record of unknown kind `{0}`")]
    UnknownRecord(String),
    /// A notification that does not parse (field named).
    #[error(transparent)]
    Notification(#[from] InputError),
    /// An inspection record that does not parse.
    #[error("inspection record: {0}")]
    Inspection(String),
    /// A notification of another party than the log's.
    #[error("a notification of {found}, not {expected}")]
    WrongParty {
        /// The log's party.
        expected: String,
        /// The notification's.
        found: String,
    },
    /// An inspection record the log's party neither made nor received.
    #[error(
        "an inspection of {inspected} by {inspecting}, which {party} neither made nor received"
    )]
    NotItsInspection {
        /// The log's party.
        party: String,
        /// Who inspected.
        inspecting: String,
        /// Who was inspected.
        inspected: String,
    },
    /// Valid, but not the canonical bytes of its value.
    #[error("not in canonical form (RFC 8785)")]
    NotCanonical,
    /// An `entry` of a kind this regime does not know.
    #[error("an entry of unknown kind `{0}`")]
    UnknownEntry(String),
    /// A step of the draw protocol that does not parse.
    #[error("{kind}: {source}")]
    DrawJson {
        /// Its kind.
        kind: String,
        /// What serde said (the field is named in it).
        source: serde_json::Error,
    },
    /// A hex field of a draw step that is not 64 lower-case hex digits.
    #[error("{kind}: field `{field}` is not 64 lower-case hex digits")]
    DrawField {
        /// Its kind.
        kind: String,
        /// The field.
        field: &'static str,
    },
    /// A draw step the protocol itself refuses (a name, a rule's bounds).
    #[error("draw: {0}")]
    Draw(accord_draw::DrawError),
    /// A step of a draw the log already holds (a party logs each step of a
    /// draw once).
    #[error("a second {kind} for draw {draw}")]
    RepeatedStep {
        /// Its kind.
        kind: String,
        /// The draw.
        draw: String,
    },
    /// A commitment in the log of a party that is not its checking party.
    #[error("a commitment to draw {draw} by {checking}, in the log of {party}")]
    NotItsDraw {
        /// The log's party.
        party: String,
        /// The checking party the purpose names.
        checking: String,
        /// The draw.
        draw: String,
    },
}

impl LogEntry {
    /// The canonical bytes of this entry.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EntryError> {
        match self {
            LogEntry::Notification(n) => canonical_entry(&n.to_json()),
            LogEntry::Inspection(r) => canonical_entry(&inspection_json(r)),
            LogEntry::Draw(d) => Ok(d.canonical()),
        }
    }
}

/// The JSON text of an inspection record.
pub fn inspection_json(r: &InspectionRecord) -> String {
    // Serialising plain data with string keys cannot fail.
    serde_json::to_string(r).unwrap_or_default()
}

/// Parses an entry of `party`'s log (at `at`, for messages). With
/// `canonical`, the bytes must also be exactly the canonical form of what
/// they parse to (as the exchange requires of a peer's entries).
pub fn parse_entry(
    bytes: &[u8],
    party: &str,
    at: &str,
    canonical: bool,
) -> Result<LogEntry, EntryProblem> {
    let text = std::str::from_utf8(bytes).map_err(|_| EntryProblem::NotUtf8)?;
    let (record, step) = probe(text)?;
    let entry = match (record, step) {
        (None, Some(kind)) => LogEntry::Draw(Box::new(DrawEntry::parse(text, &kind, party)?)),
        (Some(_), Some(kind)) => return Err(EntryProblem::UnknownEntry(kind)),
        (Some(kind), None) if kind == RECORD_KIND => {
            let r: InspectionRecord =
                serde_json::from_str(text).map_err(|e| EntryProblem::Inspection(e.to_string()))?;
            if r.inspecting_party != party && r.inspected_party != party {
                return Err(EntryProblem::NotItsInspection {
                    party: party.to_string(),
                    inspecting: r.inspecting_party,
                    inspected: r.inspected_party,
                });
            }
            LogEntry::Inspection(Box::new(r))
        }
        (Some(kind), None) => return Err(EntryProblem::UnknownRecord(kind)),
        (None, None) => {
            let n = parse_one(text, at)?;
            if n.party != party {
                return Err(EntryProblem::WrongParty {
                    expected: party.to_string(),
                    found: n.party,
                });
            }
            LogEntry::Notification(n)
        }
    };
    if canonical && entry.to_bytes()? != bytes {
        return Err(EntryProblem::NotCanonical);
    }
    Ok(entry)
}

/// The `record` field of a JSON object, and its `entry` field, if it has
/// them.
fn probe(text: &str) -> Result<(Option<String>, Option<String>), EntryProblem> {
    // A notification has neither key: skip the probe for the common case.
    if !text.contains("\"record\"") && !text.contains("\"entry\"") {
        return Ok((None, None));
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        record: Option<serde_json::Value>,
        entry: Option<serde_json::Value>,
    }
    let Ok(p) = serde_json::from_str::<Probe>(text) else {
        // Not an object: the notification parser names what is wrong.
        return Ok((None, None));
    };
    let record = match p.record {
        None => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(v) => return Err(EntryProblem::UnknownRecord(v.to_string())),
    };
    let entry = match p.entry {
        None => None,
        Some(serde_json::Value::String(s)) if s.starts_with(DRAW_ENTRY_PREFIX) => Some(s),
        Some(v) => return Err(EntryProblem::UnknownEntry(v.to_string())),
    };
    Ok((record, entry))
}
