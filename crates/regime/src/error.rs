//! Errors of the regime, each with its evidence.

use crate::entry::EntryProblem;
use accord_log::{EntryError, LogError, NoteError};
use accord_registry::StoreError;

/// What went wrong where the parts meet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegimeError {
    /// The log store failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A registry store failed or refused input.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A signed note did not verify.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The log has no signed checkpoint to verify its entries against.
    #[error("{path}: no signed checkpoint to verify against")]
    Unsigned {
        /// The log.
        path: String,
    },
    /// The entries do not recompute the log's signed root.
    #[error("{path}: the entries do not recompute the signed checkpoint at size {size}")]
    Unverified {
        /// The log.
        path: String,
        /// The signed size.
        size: u64,
    },
    /// A log entry is not one the party could have logged.
    #[error("log entry {index}: {problem}")]
    Entry {
        /// Its index in the log.
        index: u64,
        /// What is wrong with it.
        problem: EntryProblem,
    },
    /// A log entry could not be applied to the registry.
    #[error("log entry {index}: {source}")]
    Feed {
        /// The index of the entry (or of the first of its run).
        index: u64,
        /// What the registry said.
        source: StoreError,
    },
    /// The registry holds more than its log: it was not fed by this log.
    #[error("the registry holds {registry} notifications but the log only {log}: they are not one record")]
    Diverged {
        /// Notifications in the registry.
        registry: u64,
        /// Entries in the log.
        log: u64,
    },
    /// A notification cannot be a log entry.
    #[error("notification {number} cannot be logged: {problem}")]
    Unloggable {
        /// Its number.
        number: u64,
        /// Why.
        problem: EntryError,
    },
    /// A receipt cannot be a log entry (cannot happen: receipts are small).
    #[error("the receipt for {origin} from {first} cannot be logged: {problem}")]
    UnloggableReceipt {
        /// The peer's log.
        origin: String,
        /// Its first index.
        first: u64,
        /// Why.
        problem: EntryError,
    },
    /// A stored receipt does not parse.
    #[error("{path} entry {index}: not a receipt: {message}")]
    Receipt {
        /// The receipts log.
        path: String,
        /// The entry.
        index: u64,
        /// What serde said.
        message: String,
    },
    /// A stored inspection record does not parse.
    #[error("{path}: stored inspection {id}: {message}")]
    StoredInspection {
        /// The registry.
        path: String,
        /// Its id.
        id: String,
        /// What serde said.
        message: String,
    },
    /// The odds or the game refused their numbers.
    #[error(transparent)]
    Odds(#[from] accord_inspect::OddsError),
    /// No site where the violation could be made.
    #[error(transparent)]
    NoSite(#[from] accord_inspect::model::NoSite),
    /// A violation that is not one the game knows.
    #[error("--violation: {message}")]
    Violation {
        /// As given.
        given: String,
        /// Why it is refused.
        message: String,
    },
    /// A simulation of no trials.
    #[error("--trials: at least 1")]
    NoTrials,
}
