//! What a party's log holds: its notifications, and the records it logged
//! (inspections it made or received).
//!
//! Every entry is the RFC 8785 canonical form of one JSON object. An object
//! with a `record` field is a record of that kind (`"record": "inspection"`);
//! any other object is a notification. An entry that is neither, or that is
//! not in canonical form, is not something an honest party logs: the
//! exchange flags the peer that served it.

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
}

impl LogEntry {
    /// The canonical bytes of this entry.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EntryError> {
        match self {
            LogEntry::Notification(n) => canonical_entry(&n.to_json()),
            LogEntry::Inspection(r) => canonical_entry(&inspection_json(r)),
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
    let entry = match record_kind(text)? {
        Some(kind) if kind == RECORD_KIND => {
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
        Some(kind) => return Err(EntryProblem::UnknownRecord(kind)),
        None => {
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

/// The `record` field of a JSON object, if it has one.
fn record_kind(text: &str) -> Result<Option<String>, EntryProblem> {
    // A notification has no `record` key: skip the probe for the common case.
    if !text.contains("\"record\"") {
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        record: Option<serde_json::Value>,
    }
    match serde_json::from_str::<Probe>(text) {
        Ok(Probe { record: None }) => Ok(None),
        Ok(Probe {
            record: Some(serde_json::Value::String(s)),
        }) => Ok(Some(s)),
        Ok(Probe { record: Some(v) }) => Err(EntryProblem::UnknownRecord(v.to_string())),
        // Not an object: the notification parser names what is wrong.
        Err(_) => Ok(None),
    }
}
