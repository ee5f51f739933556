//! The regime: a party's notifications go into its signed log; its registry
//! is fed from that log; the other party witnesses. The registry knows no
//! log and the log knows no treaty: this glue is where they meet.

use accord_log::merkle;
use accord_log::note::{open_checkpoint, Note, Signer};
use accord_log::{canonical_entry, LogStore, Witness};
use accord_registry::notification::parse_one;
use accord_registry::{Event, Notification};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// The log origin of a party under a treaty (one definition, the node's).
pub(crate) use accord_node::exchange::origin;

/// A party's log, after its notifications were appended and checkpointed.
pub(crate) struct PartyLog {
    pub(crate) store: LogStore,
    pub(crate) signer: Signer,
    /// Entry index of each notification number.
    pub(crate) index_of: std::collections::HashMap<u64, u64>,
    /// Signed checkpoint notes, in order.
    pub(crate) checkpoints: Vec<String>,
}

/// Appends notifications (in number order) to a new log: one durable batch
/// per day sent, a checkpoint after each data exchange and at the end.
pub(crate) fn log_notifications(
    path: &Path,
    origin: &str,
    signer: Signer,
    all: &[Notification],
) -> Result<PartyLog> {
    let mut store = LogStore::init(path, origin, &signer.verifier())?;
    let mut sorted: Vec<&Notification> = all.iter().collect();
    sorted.sort_by_key(|n| n.number);
    let mut index_of = std::collections::HashMap::new();
    let mut checkpoints = vec![];
    let mut batch: Vec<Vec<u8>> = vec![];
    let mut batch_numbers: Vec<u64> = vec![];
    let mut day = sorted.first().map(|n| n.sent);
    for (k, n) in sorted.iter().enumerate() {
        let entry = canonical_entry(&n.to_json()).map_err(anyhow::Error::msg)?;
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

/// Reads every notification back out of a log, after checking that the
/// entries recompute the log's latest signed checkpoint.
pub(crate) fn notifications_from_log(log: &LogStore) -> Result<Vec<Notification>> {
    let Some((_, note)) = log.latest_checkpoint()? else {
        bail!(
            "{}: no signed checkpoint to verify against",
            log.path().display()
        );
    };
    let cp = open_checkpoint(&note, log.verifier(), &[])?.checkpoint;
    let mut tree = merkle::MemoryTree::new();
    let mut out = vec![];
    let mut failed = None;
    log.for_each_entry(|i, data| {
        tree.append(data);
        if i < cp.size {
            match std::str::from_utf8(data)
                .map_err(|e| e.to_string())
                .and_then(|t| {
                    parse_one(t, &format!("{} entry {i}", log.origin())).map_err(|e| e.to_string())
                }) {
                Ok(n) => out.push(n),
                Err(e) => {
                    failed = Some(e);
                    return false;
                }
            }
        }
        tree.size() < cp.size
    })?;
    if let Some(e) = failed {
        bail!("{e}");
    }
    if tree.size() != cp.size || tree.root() != cp.hash {
        bail!(
            "{}: the entries do not recompute the signed checkpoint at size {}",
            log.path().display(),
            cp.size
        );
    }
    Ok(out)
}

/// The other party cosigns every checkpoint of a log, in order, each with
/// the consistency proof from the last one it cosigned. Returns the latest
/// checkpoint with its cosignature.
pub(crate) fn witness_all(w: &Witness, log: &PartyLog, now: u64) -> Result<String> {
    w.add_log(log.store.origin(), &log.signer.verifier())?;
    let mut last = 0u64;
    let mut cosigned = String::new();
    for note in &log.checkpoints {
        let cp = open_checkpoint(note, &log.signer.verifier(), &[])?.checkpoint;
        let proof = if last == 0 || last == cp.size {
            vec![]
        } else {
            log.store.consistency_proof(last, cp.size)?
        };
        let line = w
            .add_checkpoint(note, last, &proof, now)
            .with_context(|| format!("witnessing {} at size {}", cp.origin, cp.size))?;
        let mut n = Note::parse(note)?;
        n.add_line(line)?;
        cosigned = n.to_text();
        last = cp.size;
    }
    Ok(cosigned)
}
