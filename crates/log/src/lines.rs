//! Appending JSON Lines: each line canonicalised (RFC 8785) into an entry,
//! committed in durable batches, each index reported once its batch is.

use crate::{canonical_entry, EntryError, LogError, LogStore};
use std::io::BufRead;

/// Why [`append_lines`] stopped. Batches committed before it stay.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinesError {
    /// A line is not an entry; nothing of its batch was appended.
    #[error("{input}:{line}: {problem}")]
    Entry {
        /// The input's name.
        input: String,
        /// Its line (from 1).
        line: usize,
        /// Why.
        problem: EntryError,
    },
    /// The input could not be read.
    #[error("{input}: {source}")]
    Read {
        /// The input's name.
        input: String,
        /// What the reader said.
        source: std::io::Error,
    },
    /// The log refused or failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Reporting an index failed (a closed pipe, say).
    #[error("reporting an appended index: {0}")]
    Report(std::io::Error),
}

/// Appends every non-blank line of `input` (named `name` in errors) to
/// `log`, `batch` entries to a durable transaction; `durable` is told each
/// index once its batch is committed. Returns how many were appended.
pub fn append_lines(
    log: &mut LogStore,
    name: &str,
    input: impl BufRead,
    batch: usize,
    mut durable: impl FnMut(u64) -> std::io::Result<()>,
) -> Result<u64, LinesError> {
    let batch = batch.max(1);
    let mut pending: Vec<Vec<u8>> = vec![];
    let mut appended = 0;
    let mut commit = |log: &mut LogStore, pending: &mut Vec<Vec<u8>>| {
        if pending.is_empty() {
            return Ok(());
        }
        let r = log.append(pending)?;
        pending.clear();
        appended += r.end - r.start;
        r.into_iter()
            .try_for_each(&mut durable)
            .map_err(LinesError::Report)
    };
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|source| LinesError::Read {
            input: name.to_string(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let entry = canonical_entry(&line).map_err(|problem| LinesError::Entry {
            input: name.to_string(),
            line: n + 1,
            problem,
        })?;
        pending.push(entry);
        if pending.len() >= batch {
            commit(log, &mut pending)?;
        }
    }
    commit(log, &mut pending)?;
    Ok(appended)
}
