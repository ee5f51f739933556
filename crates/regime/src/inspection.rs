//! Recording inspections: checked against the inspected party's registry on
//! the inspection's date, as the treaty allows it; then logged (canonical
//! JSON, in the log of the party that accepted it) and stored in the
//! registry that log feeds. The same steps for `accord inspect record` and a
//! node's `POST /inspections`.

use crate::entry::{inspection_json, LogEntry};
use crate::error::RegimeError;
use accord_inspect::record::{validate, InspectionRecord, Refusal, RECORD_KIND};
use accord_log::LogStore;
use accord_registry::{Store, StoreError};
use accord_treaty::Treaty;
use std::collections::HashSet;

/// Longest inspection id accepted.
pub const MAX_ID_LEN: usize = 64;
/// Most items an inspection may select (far above any site's holdings).
pub const MAX_ITEMS_SELECTED: usize = 1_000;

/// Why an inspection is not recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectionError {
    /// A field is malformed or out of bounds.
    #[error("inspection record: field `{field}`: {message}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The treaty or the registry does not allow it.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// An inspection with this id is already recorded.
    #[error("inspection {0} is already recorded")]
    Duplicate(String),
    /// Reading or writing a store failed.
    #[error(transparent)]
    Regime(#[from] RegimeError),
}

impl From<StoreError> for InspectionError {
    fn from(e: StoreError) -> Self {
        InspectionError::Regime(e.into())
    }
}

/// Checks the record's form: a short plain id, a bounded list of distinct
/// items, every one an item the inspected party's registry knows.
/// With `known_items`, also that every selected item is one of them.
fn check_form(
    rec: &InspectionRecord,
    known_items: Option<&HashSet<&str>>,
) -> Result<(), InspectionError> {
    let field = |field, message: String| InspectionError::Field { field, message };
    if rec.id.is_empty()
        || rec.id.len() > MAX_ID_LEN
        || !rec
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(field(
            "id",
            format!("1 to {MAX_ID_LEN} characters of A-Z, a-z, 0-9, '-', '_' or '.'"),
        ));
    }
    if rec.items_selected.len() > MAX_ITEMS_SELECTED {
        return Err(field(
            "items_selected",
            format!(
                "{} items; at most {MAX_ITEMS_SELECTED}",
                rec.items_selected.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    for item in &rec.items_selected {
        if !seen.insert(item.as_str()) {
            return Err(field("items_selected", format!("{item} is selected twice")));
        }
        if known_items.is_some_and(|k| !k.contains(item.as_str())) {
            return Err(field(
                "items_selected",
                format!("{item} is not an item of {}", rec.inspected_party),
            ));
        }
    }
    if rec.results.len() > rec.items_selected.len() {
        return Err(field(
            "results",
            "more results than items selected".to_string(),
        ));
    }
    if rec.ambiguities.len() > MAX_ITEMS_SELECTED {
        return Err(field("ambiguities", "too many".to_string()));
    }
    Ok(())
}

/// Checks an inspection against the inspected party's registry on its date
/// and the treaty, and that its id is new among `recorded`.
pub fn check(
    treaty: &Treaty,
    inspected: &Store,
    recorded: &[InspectionRecord],
    rec: &InspectionRecord,
) -> Result<(), InspectionError> {
    check_form(rec, None)?;
    let state = inspected.state_on(treaty, rec.date)?;
    validate(treaty, &state, rec)?;
    let known: HashSet<&str> = state.items().iter().map(|i| &*i.id).collect();
    check_form(rec, Some(&known))?;
    if recorded.iter().any(|r| r.id == rec.id) {
        return Err(InspectionError::Duplicate(rec.id.clone()));
    }
    Ok(())
}

/// Appends a checked record to `log` (if given) and stores it in
/// `registry`. The log is the record: it is durable before the registry is
/// written. Returns the log index.
pub fn log_and_store(
    log: Option<&mut LogStore>,
    registry: &Store,
    rec: &InspectionRecord,
) -> Result<Option<u64>, InspectionError> {
    let index = match log {
        Some(l) => {
            let bytes = LogEntry::Inspection(Box::new(rec.clone()))
                .to_bytes()
                .map_err(|e| InspectionError::Field {
                    field: "record",
                    message: e.to_string(),
                })?;
            Some(l.append(&[bytes]).map_err(RegimeError::from)?.start)
        }
        None => None,
    };
    store(registry, rec)?;
    Ok(index)
}

/// Stores a record in a registry's records.
pub(crate) fn store(registry: &Store, rec: &InspectionRecord) -> Result<(), StoreError> {
    registry.put_record(RECORD_KIND, &rec.id, rec.date, &inspection_json(rec))
}

/// The inspection records a registry holds.
pub fn recorded(registry: &Store) -> Result<Vec<InspectionRecord>, RegimeError> {
    registry
        .records(RECORD_KIND)?
        .into_iter()
        .map(|(id, body)| {
            serde_json::from_str(&body).map_err(|e| RegimeError::StoredInspection {
                path: registry.path().display().to_string(),
                id,
                message: e.to_string(),
            })
        })
        .collect()
}

/// The records of several registries, each id once (the first seen).
pub fn union(sets: impl IntoIterator<Item = Vec<InspectionRecord>>) -> Vec<InspectionRecord> {
    let mut seen = HashSet::new();
    let mut out = vec![];
    for r in sets.into_iter().flatten() {
        if seen.insert(r.id.clone()) {
            out.push(r);
        }
    }
    out.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    out
}
