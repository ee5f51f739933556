//! Errors of the registry: bad input (rejected, nothing stored) and store faults.

use crate::Finding;

/// Input that cannot be accepted. Names the place (`file:line`) and field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Not valid JSON, or a field missing, unknown or of the wrong type.
    #[error("{at}: field `{field}`: {message}")]
    Json {
        /// `file:line`.
        at: String,
        /// The field path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Well-formed but not acceptable under the treaty.
    #[error("{at}: field `{field}`: {message}")]
    Invalid {
        /// `file:line` or a notification number.
        at: String,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Longer than a log entry can be: it could never be logged.
    #[error(
        "{at}: the notification is {bytes} bytes as a log entry (RFC 8785 canonical JSON); a log entry is at most {max} bytes",
        max = crate::notification::MAX_ENTRY_BYTES
    )]
    TooLarge {
        /// `file:line`.
        at: String,
        /// Its canonical length.
        bytes: usize,
    },
    /// A notification would be an impossible transition in the registry.
    #[error("{at}: field `{}`: rejected, {}", .finding.item.as_ref().map_or("event", |_| "event.item"), .finding.message)]
    Rejected {
        /// Where it came from.
        at: String,
        /// Its number.
        number: u64,
        /// The finding it would have caused.
        finding: Box<Finding>,
    },
}

/// A fault of the SQLite store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite said no.
    #[error("{path}: {source}")]
    Sqlite {
        /// The store's path.
        path: String,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The directory holds no store.
    #[error("{path}: no accord registry here (expected {path}/registry.sqlite; make one with `accord generate` or `accord registry init`)")]
    Missing {
        /// The directory.
        path: String,
    },
    /// `registry.sqlite` is not a registry this binary can open (empty, not
    /// SQLite, another kind of store, or a newer schema); nothing was changed.
    #[error(transparent)]
    File(#[from] accord_sqlite::FileError),
    /// The registry lacks a meta key every registry is made with.
    #[error("{path}: not a whole registry: its meta `{key}` is missing")]
    MissingMeta {
        /// The store.
        path: String,
        /// The key.
        key: &'static str,
    },
    /// A stored row could not be read back.
    #[error("{path}: stored notification {number} is corrupt: {message}")]
    Corrupt {
        /// The store.
        path: String,
        /// The notification number.
        number: i64,
        /// Why.
        message: String,
    },
    /// Input was rejected; nothing was stored.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A chained batch needs the full refold, which cannot see batches
    /// staged but not yet committed: commit the chain, then stage it again.
    #[error("this batch must wait for the staged batches to be committed")]
    Deferred,
    /// File-system fault.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}
