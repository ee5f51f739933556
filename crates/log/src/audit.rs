//! The full audit: recompute everything from the entries alone.
//!
//! One pass over the entries, in order, keeps only the tree's right edge
//! (`O(log n)` hashes) and a cursor into the stored nodes, so memory stays
//! flat however long the log. For each entry it recomputes the leaf hash and
//! every subtree the entry completes, and compares each with the stored node
//! of the same postorder number. At each signed checkpoint's size it compares
//! the recomputed root with the signed one and verifies the signature.
//!
//! A changed entry shows as a leaf that no longer matches; the mismatches of
//! the subtrees above it are its consequences and are not reported again. A
//! changed stored node shows as that node alone. An entry changed together
//! with every node above it (a rewritten history) still shows at the first
//! checkpoint signed over it.

use crate::merkle::{self, node_count, Compact, Hash};
use crate::note::{open_checkpoint, Verifier};
use crate::store::{LogError, LogStore, NODES_PER_CHUNK};
use serde::Serialize;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// One thing the audit found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Problem {
    /// An entry no longer hashes to its stored leaf.
    EntryAltered {
        /// The entry's index.
        index: u64,
    },
    /// An entry index is missing from the sequence.
    EntryMissing {
        /// The missing index.
        index: u64,
    },
    /// A stored interior node differs from the one recomputed.
    NodeAltered {
        /// Level.
        level: u32,
        /// Index at that level.
        index: u64,
    },
    /// The stored nodes end early, or run past the entries.
    NodesIncomplete {
        /// Nodes expected.
        expected: u64,
        /// Nodes found.
        found: u64,
    },
    /// A checkpoint's signature does not verify with the log's key.
    CheckpointSignature {
        /// Its size.
        size: u64,
        /// Why.
        error: String,
    },
    /// A checkpoint's root is not the root recomputed from the entries.
    CheckpointRoot {
        /// Its size.
        size: u64,
        /// The signed root (base64).
        signed: String,
        /// The recomputed root (base64).
        recomputed: String,
    },
    /// A checkpoint is for another origin, or its recorded size differs from its body.
    CheckpointMismatch {
        /// Its size.
        size: u64,
        /// Why.
        error: String,
    },
    /// A checkpoint is for more entries than the log holds.
    CheckpointBeyondLog {
        /// Its size.
        size: u64,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::EntryAltered { index } => write!(
                f,
                "entry {index} was altered: it no longer hashes to its leaf in the tree"
            ),
            Problem::EntryMissing { index } => write!(f, "entry {index} is missing"),
            Problem::NodeAltered { level, index } => {
                write!(f, "stored node (level {level}, index {index}) was altered")
            }
            Problem::NodesIncomplete { expected, found } => {
                write!(f, "expected {expected} stored nodes, found {found}")
            }
            Problem::CheckpointSignature { size, error } => {
                write!(f, "checkpoint at size {size}: {error}")
            }
            Problem::CheckpointRoot {
                size,
                signed,
                recomputed,
            } => {
                write!(f, "checkpoint at size {size}: signed root {signed} but the entries give {recomputed}")
            }
            Problem::CheckpointMismatch { size, error } => {
                write!(f, "checkpoint at size {size}: {error}")
            }
            Problem::CheckpointBeyondLog { size } => {
                write!(f, "checkpoint at size {size} is beyond the log's entries")
            }
        }
    }
}

/// What the audit did and found.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// The log's origin.
    pub origin: String,
    /// Entries read.
    pub entries: u64,
    /// Nodes compared.
    pub nodes: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// The recomputed root of the whole log (base64).
    pub root: String,
    /// Problems, in the order found.
    pub problems: Vec<Problem>,
}

/// What the audit read, then clean or every problem, a line each.
impl std::fmt::Display for AuditReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "audited {}: {} entries, {} nodes, {} checkpoints; root {}",
            self.origin, self.entries, self.nodes, self.checkpoints, self.root
        )?;
        if self.is_clean() {
            return writeln!(
                f,
                "clean: every leaf, node and checkpoint recomputes from the entries"
            );
        }
        writeln!(f, "TAMPERING FOUND ({} problems):", self.problems.len())?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl AuditReport {
    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

fn b64(h: &Hash) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(h)
}

/// A batch of `(integer, blob)` rows in one buffer: row `k` is
/// `bytes[ends[k-1]..ends[k]]`.
#[derive(Default)]
struct Rows {
    keys: Vec<u64>,
    ends: Vec<usize>,
    bytes: Vec<u8>,
}

impl Rows {
    fn row(&self, k: usize) -> &[u8] {
        let lo = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.bytes[lo..self.ends[k]]
    }
}

type Batch = Result<Rows, String>;

/// Streams `(integer, blob)` rows in batches over a bounded channel until
/// done, the receiver hangs up, or an error (sent as a message).
fn stream(path: &Path, sql: &str, batch: usize, tx: SyncSender<Batch>) {
    let run = || -> Result<(), String> {
        let conn =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(|e| e.to_string())?;
        let mut st = conn.prepare(sql).map_err(|e| e.to_string())?;
        let mut rows = st.query([]).map_err(|e| e.to_string())?;
        let mut buf = Rows::default();
        while let Some(r) = rows.next().map_err(|e| e.to_string())? {
            let k: i64 = r.get(0).map_err(|e| e.to_string())?;
            let v = r
                .get_ref(1)
                .map_err(|e| e.to_string())?
                .as_blob()
                .map_err(|e| e.to_string())?;
            buf.keys.push(k.max(0) as u64);
            buf.bytes.extend_from_slice(v);
            buf.ends.push(buf.bytes.len());
            if buf.keys.len() == batch && tx.send(Ok(std::mem::take(&mut buf))).is_err() {
                return Ok(());
            }
        }
        if !buf.keys.is_empty() {
            let _ = tx.send(Ok(buf));
        }
        Ok(())
    };
    if let Err(e) = run() {
        let _ = tx.send(Err(e));
    }
}

/// The stored nodes, one at a time, from chunk rows (chunk `k` holds ids
/// `256k`, `256k + 1`, …).
struct NodeCursor {
    rx: Receiver<Batch>,
    rows: Rows,
    row: usize,
    at: usize,
    done: bool,
}

impl NodeCursor {
    fn next(&mut self) -> Result<Option<(u64, Hash)>, String> {
        loop {
            if self.row < self.rows.keys.len() {
                let blob = self.rows.row(self.row);
                if self.at + 32 <= blob.len() {
                    let id = self.rows.keys[self.row] * NODES_PER_CHUNK + (self.at / 32) as u64;
                    let mut h = [0u8; 32];
                    h.copy_from_slice(&blob[self.at..self.at + 32]);
                    self.at += 32;
                    return Ok(Some((id, h)));
                }
                self.row += 1;
                self.at = 0;
                continue;
            }
            if self.done {
                return Ok(None);
            }
            match self.rx.recv() {
                Ok(Ok(r)) => {
                    self.rows = r;
                    self.row = 0;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => self.done = true,
            }
        }
    }
}

/// Audits a log against its verifier key.
pub fn audit(store: &LogStore, vkey: &Verifier) -> Result<AuditReport, LogError> {
    let mut problems = vec![];
    let path = store.path().to_path_buf();
    let fail = |m: String| LogError::NotALog {
        path: path.display().to_string(),
        message: m,
    };
    let sql = |source| LogError::Sqlite {
        path: path.display().to_string(),
        source,
    };
    // Checkpoints are few: load, check signatures and bodies up front.
    let mut checkpoints: Vec<(u64, Hash)> = vec![];
    let stored = store.checkpoints()?;
    for (size, note) in &stored {
        match open_checkpoint(note, vkey, &[]) {
            Ok(v) if v.checkpoint().origin != store.origin() => {
                problems.push(Problem::CheckpointMismatch {
                    size: *size,
                    error: format!(
                        "origin `{}` is not this log's `{}`",
                        v.checkpoint().origin,
                        store.origin()
                    ),
                })
            }
            Ok(v) if v.checkpoint().size != *size => problems.push(Problem::CheckpointMismatch {
                size: *size,
                error: format!(
                    "stored under size {size} but signs size {}",
                    v.checkpoint().size
                ),
            }),
            Ok(v) => checkpoints.push((*size, v.checkpoint().hash)),
            Err(e) => problems.push(Problem::CheckpointSignature {
                size: *size,
                error: e.to_string(),
            }),
        }
    }
    let mut next_cp = 0usize;

    // Two reader threads stream entries and node chunks from their own
    // read-only connections through bounded channels; this thread hashes.
    // Reading and hashing overlap, and memory stays bounded.
    let (etx, erx) = sync_channel::<Batch>(4);
    let (ntx, nrx) = sync_channel::<Batch>(4);
    let mut compact = Compact::new();
    let mut compared = 0u64;
    std::thread::scope(|scope| -> Result<(), LogError> {
        scope.spawn(|| {
            stream(
                &path,
                "SELECT idx, data FROM entries ORDER BY idx",
                4096,
                etx,
            )
        });
        scope.spawn(|| {
            stream(
                &path,
                "SELECT chunk, data FROM nodes ORDER BY chunk",
                64,
                ntx,
            )
        });
        let mut nodes = NodeCursor {
            rx: nrx,
            rows: Rows::default(),
            row: 0,
            at: 0,
            done: false,
        };
        let mut expect_id = 0u64;
        let mut nodes_ended = false;
        let mut last_bad_leaf: Option<u64> = None;
        let mut pending: Vec<(u32, u64, Hash)> = Vec::with_capacity(64);
        'entries: for batch in erx.iter() {
            let batch = batch.map_err(fail)?;
            for k in 0..batch.keys.len() {
                if batch.keys[k] != compact.size() {
                    problems.push(Problem::EntryMissing {
                        index: compact.size(),
                    });
                    break 'entries;
                }
                pending.clear();
                compact.push(merkle::leaf_hash(batch.row(k)), |level, index, h| {
                    pending.push((level, index, *h))
                });
                for &(level, index, h) in &pending {
                    let stored = if nodes_ended {
                        None
                    } else {
                        match nodes.next().map_err(fail)? {
                            Some((id, hash)) if id == expect_id => Some(hash),
                            _ => {
                                nodes_ended = true;
                                None
                            }
                        }
                    };
                    expect_id += 1;
                    let Some(stored) = stored else { continue };
                    compared += 1;
                    if stored != h {
                        if level == 0 {
                            problems.push(Problem::EntryAltered { index });
                            last_bad_leaf = Some(index);
                        } else if last_bad_leaf.is_some_and(|b| b >= index << level) {
                            // A consequence of an altered entry below it.
                        } else {
                            problems.push(Problem::NodeAltered { level, index });
                        }
                    }
                }
                while next_cp < checkpoints.len() && checkpoints[next_cp].0 == compact.size() {
                    let (size, signed) = checkpoints[next_cp];
                    let root = compact.root();
                    if root != signed {
                        problems.push(Problem::CheckpointRoot {
                            size,
                            signed: b64(&signed),
                            recomputed: b64(&root),
                        });
                    }
                    next_cp += 1;
                }
            }
        }
        // Hanging up ends the readers if we stopped early.
        drop(erx);
        drop(nodes);
        Ok(())
    })?;
    let total = compact.size();
    // A checkpoint of size 0 signs the empty tree.
    for &(size, signed) in &checkpoints {
        if size == 0 && signed != merkle::empty_root() {
            problems.push(Problem::CheckpointRoot {
                size,
                signed: b64(&signed),
                recomputed: b64(&merkle::empty_root()),
            });
        }
    }
    for &(size, _) in checkpoints.iter().skip(next_cp) {
        if size > total {
            problems.push(Problem::CheckpointBeyondLog { size });
        }
    }
    let expected = node_count(total);
    let found: i64 = store
        .connection()
        .query_row(
            "SELECT COALESCE(SUM(length(data)), 0) / 32 FROM nodes",
            [],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if found.max(0) as u64 != expected {
        problems.push(Problem::NodesIncomplete {
            expected,
            found: found.max(0) as u64,
        });
    }
    Ok(AuditReport {
        origin: store.origin().to_string(),
        entries: total,
        nodes: compared,
        checkpoints: stored.len() as u64,
        root: b64(&compact.root()),
        problems,
    })
}
