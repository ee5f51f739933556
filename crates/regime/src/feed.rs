//! Feeding a registry from a log: the log is the record, the registry its
//! fold.
//!
//! A party's notifications go into its signed log first; its registry (and
//! every mirror of it at the other parties' nodes) is fed from the log, in
//! log order: notifications are appended to the registry's notifications,
//! inspection records and the steps of draws to its records (a draw step
//! as a record of its kind, `accord-draw/v1/commitment` …, with the draw's
//! identifier as its id and no date of its own: its times are the witness's
//! cosignatures, which are not in the entry, so it is filed under
//! [`UNDATED`]). The registry is therefore always the
//! fold of a *prefix* of the log: [`catch_up`] finds where that prefix ends
//! (by bisection: an entry is applied when its notification number or
//! record id is stored) and applies the rest, so a node killed between its
//! log append and its registry write loses nothing and doubles nothing.

use crate::entry::{parse_entry, DrawEntry, EntryProblem, LogEntry};
use crate::error::RegimeError;
use accord_inspect::record::RECORD_KIND;
use accord_log::merkle;
use accord_log::note::{open_checkpoint, Signer};
use accord_log::LogStore;
use accord_registry::{Event, Notification, Store};
use accord_treaty::Treaty;
use std::collections::HashMap;
use std::path::Path;

/// A party's log, after its notifications were appended and checkpointed.
pub struct PartyLog {
    /// The log.
    pub store: LogStore,
    /// Its signer.
    pub signer: Signer,
    /// Entry index of each notification number.
    pub index_of: HashMap<u64, u64>,
    /// Signed checkpoint notes, in order.
    pub checkpoints: Vec<String>,
}

impl std::fmt::Debug for PartyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PartyLog({:?}, {} checkpoints)",
            self.store,
            self.checkpoints.len()
        )
    }
}

/// Appends notifications (in number order) to a new log at `path`: one
/// durable batch per day sent, a checkpoint after each data exchange and at
/// the end.
pub fn log_notifications(
    path: &Path,
    origin: &str,
    signer: Signer,
    all: &[Notification],
) -> Result<PartyLog, RegimeError> {
    let mut store = LogStore::init(path, origin, &signer.verifier())?;
    let mut sorted: Vec<&Notification> = all.iter().collect();
    sorted.sort_by_key(|n| n.number);
    let mut index_of = HashMap::new();
    let mut checkpoints = vec![];
    let mut batch: Vec<Vec<u8>> = vec![];
    let mut batch_numbers: Vec<u64> = vec![];
    let mut day = sorted.first().map(|n| n.sent);
    for (k, n) in sorted.iter().enumerate() {
        let entry =
            accord_log::canonical_entry(&n.to_json()).map_err(|e| RegimeError::Unloggable {
                number: n.number,
                problem: e,
            })?;
        batch.push(entry);
        batch_numbers.push(n.number);
        let last = k + 1 == sorted.len();
        let next_day = sorted.get(k + 1).map(|m| m.sent);
        let exchange = matches!(n.event, Event::DataExchange { .. });
        if last || exchange || next_day != day {
            let range = store.append(&batch)?;
            for (i, num) in range.zip(batch_numbers.drain(..)) {
                index_of.insert(num, i);
            }
            batch.clear();
            day = next_day;
            if exchange || last {
                checkpoints.push(store.checkpoint(&signer)?);
            }
        }
    }
    Ok(PartyLog {
        store,
        signer,
        index_of,
        checkpoints,
    })
}

/// Every entry of `party`'s log below its latest signed checkpoint, after
/// checking that the entries recompute that checkpoint's root.
pub fn read_verified(log: &LogStore, party: &str) -> Result<Vec<LogEntry>, RegimeError> {
    let Some((_, note)) = log.latest_checkpoint()? else {
        return Err(RegimeError::Unsigned {
            path: log.path().display().to_string(),
        });
    };
    let cp = open_checkpoint(&note, log.verifier(), &[])?.into_checkpoint();
    let mut tree = merkle::MemoryTree::new();
    let mut out = vec![];
    let mut failed = None;
    log.for_each_entry(|i, data| {
        tree.append(data);
        if i < cp.size {
            match parse_entry(data, party, &format!("{} entry {i}", log.origin()), false) {
                Ok(e) => out.push(e),
                Err(problem) => {
                    failed = Some(RegimeError::Entry { index: i, problem });
                    return false;
                }
            }
        }
        tree.size() < cp.size
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    if tree.size() != cp.size || tree.root() != cp.hash {
        return Err(RegimeError::Unverified {
            path: log.path().display().to_string(),
            size: cp.size,
        });
    }
    Ok(out)
}

/// The notifications of a verified log (its records left out).
pub fn notifications_of(entries: Vec<LogEntry>) -> Vec<Notification> {
    entries
        .into_iter()
        .filter_map(|e| match e {
            LogEntry::Notification(n) => Some(n),
            LogEntry::Inspection(_) | LogEntry::Draw(_) => None,
        })
        .collect()
}

/// The date a draw step is filed under in a registry's records
/// (1970-01-01: the entry has no date).
pub const UNDATED: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => chrono::NaiveDate::MIN,
};

/// Stores a draw step in a registry's records.
fn store_draw(registry: &Store, d: &DrawEntry) -> Result<(), accord_registry::StoreError> {
    let body = String::from_utf8_lossy(&d.canonical()).into_owned();
    registry.put_record(d.kind(), d.draw(), UNDATED, &body)
}

/// The first draw step in `entries` (at log indexes from `first`) that the
/// registry holds already or that repeats an earlier one of `entries`, with
/// its index: a party logs each step of a draw once, so a log that repeats
/// one is not an honest party's (the exchange flags the peer).
pub fn repeated_step(
    registry: &Store,
    first: u64,
    entries: &[LogEntry],
) -> Result<Option<(u64, EntryProblem)>, RegimeError> {
    let mut seen = std::collections::HashSet::new();
    for (k, e) in entries.iter().enumerate() {
        let LogEntry::Draw(d) = e else { continue };
        if !seen.insert((d.kind(), d.draw())) || registry.has_record(d.kind(), d.draw())? {
            return Ok(Some((
                first + k as u64,
                EntryProblem::RepeatedStep {
                    kind: d.kind().to_string(),
                    draw: d.draw().to_string(),
                },
            )));
        }
    }
    Ok(None)
}

/// Applies entries to a registry in order: each run of notifications as one
/// all-or-nothing append, each record on its own, so the registry always
/// holds a prefix of what was given. `first` is the log index of the first
/// entry (for messages). Returns how many were applied.
pub fn apply(
    registry: &mut Store,
    treaty: &Treaty,
    origin: &str,
    first: u64,
    entries: Vec<LogEntry>,
) -> Result<u64, RegimeError> {
    let total = entries.len() as u64;
    let mut run: Vec<(String, Notification)> = vec![];
    let mut run_start = first;
    let flush = |registry: &mut Store,
                 run: &mut Vec<(String, Notification)>,
                 start: u64|
     -> Result<(), RegimeError> {
        if run.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(run);
        registry
            .append(treaty, &batch)
            .map_err(|source| RegimeError::Feed {
                index: start,
                source,
            })?;
        Ok(())
    };
    for (k, e) in entries.into_iter().enumerate() {
        let index = first + k as u64;
        match e {
            LogEntry::Notification(n) => {
                if run.is_empty() {
                    run_start = index;
                }
                run.push((format!("{origin} entry {index}"), n));
            }
            LogEntry::Inspection(r) => {
                flush(registry, &mut run, run_start)?;
                crate::inspection::store(registry, &r)
                    .map_err(|source| RegimeError::Feed { index, source })?;
            }
            LogEntry::Draw(d) => {
                flush(registry, &mut run, run_start)?;
                store_draw(registry, &d).map_err(|source| RegimeError::Feed { index, source })?;
            }
        }
    }
    flush(registry, &mut run, run_start)?;
    Ok(total)
}

/// Whether the registry holds entry `e` already.
fn holds(registry: &Store, e: &LogEntry) -> Result<bool, RegimeError> {
    Ok(match e {
        LogEntry::Notification(n) => registry.has_notification(n.number)?,
        LogEntry::Inspection(r) => registry.has_record(RECORD_KIND, &r.id)?,
        LogEntry::Draw(d) => registry.has_record(d.kind(), d.draw())?,
    })
}

/// Brings `registry` level with `party`'s `log`: the log is acknowledged
/// before the registry is written, so a process stopped between the two
/// restarts with log entries the registry lacks; they are applied here, in
/// order. Returns how many were applied.
///
/// The registry holds a prefix of the log ([`apply`] keeps it so), so the
/// first entry it lacks is found by bisection in O(log n) entry reads.
pub fn catch_up(
    log: &LogStore,
    registry: &mut Store,
    treaty: &Treaty,
    party: &str,
) -> Result<u64, RegimeError> {
    let size = log.size();
    let stored = registry.len()?;
    if stored > size {
        return Err(RegimeError::Diverged {
            registry: stored,
            log: size,
        });
    }
    let entry = |i: u64| -> Result<LogEntry, RegimeError> {
        let bytes = log.entry(i)?;
        parse_entry(&bytes, party, &format!("{} entry {i}", log.origin()), false)
            .map_err(|problem| RegimeError::Entry { index: i, problem })
    };
    if size == 0 || holds(registry, &entry(size - 1)?)? {
        return Ok(0);
    }
    // The first index the registry lacks is in [lo, hi]; hi is lacking.
    let (mut lo, mut hi) = (0u64, size - 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if holds(registry, &entry(mid)?)? {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    // In chunks: memory stays bounded however far behind the registry is.
    let mut applied = 0;
    let mut start = lo;
    while start < size {
        let end = size.min(start + CATCH_UP_CHUNK);
        let chunk = (start..end).map(entry).collect::<Result<Vec<_>, _>>()?;
        applied += apply(registry, treaty, log.origin(), start, chunk)?;
        start = end;
    }
    Ok(applied)
}

/// Entries read and applied at a time by [`catch_up`].
const CATCH_UP_CHUNK: u64 = 10_000;

/// A witness cosigns every checkpoint of a log, in order, each with the
/// consistency proof from the last one it cosigned. Returns the latest
/// checkpoint with its cosignature.
pub fn witness_all(
    w: &accord_log::Witness,
    log: &PartyLog,
    now: u64,
) -> Result<String, WitnessAllError> {
    let vkey = log.signer.verifier();
    w.add_log(log.store.origin(), &vkey)?;
    let mut last = 0u64;
    let mut cosigned = String::new();
    for note in &log.checkpoints {
        let cp = open_checkpoint(note, &vkey, &[])?.into_checkpoint();
        let proof = if last == 0 || last == cp.size {
            vec![]
        } else {
            log.store.consistency_proof(last, cp.size)?
        };
        let line = w.add_checkpoint(note, last, &proof, now)?;
        let mut n = accord_log::Note::parse(note)?;
        n.add_line(line)?;
        cosigned = n.to_text();
        last = cp.size;
    }
    Ok(cosigned)
}

/// Why a witness did not cosign a log's checkpoints.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessAllError {
    /// The witness refused one.
    #[error(transparent)]
    Witness(#[from] accord_log::WitnessError),
    /// A checkpoint did not verify.
    #[error(transparent)]
    Note(#[from] accord_log::NoteError),
    /// The log could not make a proof.
    #[error(transparent)]
    Log(#[from] accord_log::LogError),
}
