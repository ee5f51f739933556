//! The durable log: one SQLite file (WAL, `synchronous = FULL`).
//!
//! - `entries(idx, data)`: the entries, exactly as appended;
//! - `nodes(chunk, data)`: every complete subtree's hash, leaves included,
//!   in [`postorder`]: node `id` is bytes `32·(id mod 256)..` of chunk
//!   `id / 256`. Postorder is the order nodes complete, so an append only
//!   extends the last chunk and adds new ones; a proof reads 32 bytes per
//!   node by primary key; an audit streams 256 nodes a row in the order it
//!   recomputes them;
//! - `checkpoints(size, note)`: every checkpoint the log signed.
//!
//! An append writes its entries and the nodes they complete in one
//! transaction; it returns (and the command line acknowledges) only after the
//! commit is on disk. A process killed at any instant leaves the last
//! committed state, which audits clean.

use crate::merkle::{
    self, decomposition, node_count, postorder, Compact, Hash, NodeSource, ProofError,
};
use crate::note::{open_checkpoint, Checkpoint, NoteError, Signer, Verifier};
use accord_sqlite::{FileError, Schema, Synchronous};
use rusqlite::{params, Connection, OptionalExtension};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Node hashes per row of the `nodes` table.
pub const NODES_PER_CHUNK: u64 = 256;

/// Largest entry accepted, in bytes: 65,535, so that every entry fits the
/// two-byte length prefix of a C2SP tlog-tiles entry bundle.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// The log's tables, versioned (see [`accord_sqlite`]): a log file's
/// `application_id` is `ACLG` and its `user_version` the schema version.
///
/// Version 1 is the layout above, as every release has written it; a log
/// with no version recorded and these tables is version 1. There is no
/// migration yet: the next layout change adds one to `migrations` (and
/// never edits `v1`).
pub static SCHEMA: Schema = Schema {
    what: "an accord log",
    application_id: accord_sqlite::id::LOG,
    v1: "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (chunk INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
",
    migrations: &[],
    legacy_tables: &["meta", "entries", "nodes"],
    synchronous: Synchronous::Full,
};

/// Errors of the log store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// SQLite failed.
    #[error("{path}: {source}")]
    Sqlite {
        /// The store.
        path: String,
        /// The error.
        source: rusqlite::Error,
    },
    /// There is no log at the path, or it is not one.
    #[error("{path}: {message}")]
    NotALog {
        /// The path.
        path: String,
        /// Why.
        message: String,
    },
    /// An entry was refused; nothing was appended.
    #[error("entry {index} of the batch: {message}")]
    BadEntry {
        /// Position in the batch.
        index: usize,
        /// Why.
        message: String,
    },
    /// A proof could not be made or does not hold.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// A note or key problem.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The log will not sign: its tree disagrees with what it signed before.
    #[error("refusing to sign: {0}")]
    WouldEquivocate(String),
    /// The file is not a log this binary can open (empty, not SQLite,
    /// another kind of store, or a newer schema); nothing was changed.
    #[error(transparent)]
    File(#[from] FileError),
    /// The key does not belong to this log.
    #[error("the key {key} is not this log's key ({log})")]
    WrongKey {
        /// The key given.
        key: String,
        /// The log's verifier key.
        log: String,
    },
}

/// A log on disk.
pub struct LogStore {
    conn: Connection,
    path: PathBuf,
    origin: String,
    vkey: Verifier,
    size: u64,
}

impl std::fmt::Debug for LogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "LogStore({}, {}, size {})",
            self.path.display(),
            self.origin,
            self.size
        )
    }
}

impl LogStore {
    fn sql(&self) -> impl Fn(rusqlite::Error) -> LogError + '_ {
        move |source| LogError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Creates a new, empty log for `origin`, signed by the key whose
    /// verifier is `vkey`: the file mode 0600, any directory it needs 0700.
    pub fn init(path: &Path, origin: &str, vkey: &Verifier) -> Result<LogStore, LogError> {
        if path.exists() {
            return Err(LogError::NotALog {
                path: path.display().to_string(),
                message: "already exists".into(),
            });
        }
        if origin.is_empty() || origin.contains('\n') {
            return Err(LogError::NotALog {
                path: path.display().to_string(),
                message: "origin must be one non-empty line".into(),
            });
        }
        // The file (0600, its directories 0700), its tables and its meta
        // in one transaction: a log exists whole or not at all.
        let conn = accord_sqlite::create(path, &SCHEMA, |tx| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('origin', ?1), ('vkey', ?2)",
                params![origin, vkey.to_string()],
            )
            .map(|_| ())
        })?;
        Ok(LogStore {
            conn,
            path: path.to_path_buf(),
            origin: origin.to_string(),
            vkey: vkey.clone(),
            size: 0,
        })
    }

    /// Opens a log, migrating it to the current [`SCHEMA`]. A file that is
    /// empty, not SQLite, another kind of store or of a newer schema is
    /// refused ([`LogError::File`]) and left as it was.
    pub fn open(path: &Path) -> Result<LogStore, LogError> {
        if !path.is_file() {
            return Err(LogError::NotALog {
                path: path.display().to_string(),
                message: "no log here (make one with `accord log init`)".into(),
            });
        }
        let conn = accord_sqlite::open(path, &SCHEMA)?;
        let get = |k: &str| -> Result<String, LogError> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                .optional()
                .map_err(|source| LogError::Sqlite {
                    path: path.display().to_string(),
                    source,
                })?
                .ok_or_else(|| LogError::NotALog {
                    path: path.display().to_string(),
                    message: format!("meta `{k}` missing"),
                })
        };
        let origin = get("origin")?;
        let vkey = Verifier::parse(&get("vkey")?)?;
        let size: i64 = conn
            .query_row("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries", [], |r| {
                r.get(0)
            })
            .map_err(|source| LogError::Sqlite {
                path: path.display().to_string(),
                source,
            })?;
        Ok(LogStore {
            conn,
            path: path.to_path_buf(),
            origin,
            vkey,
            size: size.max(0) as u64,
        })
    }

    /// Opens the log at `path`, or creates it empty if there is none. An
    /// existing log must be `origin`'s, signed by `vkey`.
    pub fn open_or_init(path: &Path, origin: &str, vkey: &Verifier) -> Result<LogStore, LogError> {
        if !path.exists() {
            return LogStore::init(path, origin, vkey);
        }
        let log = LogStore::open(path)?;
        if log.vkey != *vkey {
            return Err(LogError::WrongKey {
                key: vkey.to_string(),
                log: log.vkey.to_string(),
            });
        }
        if log.origin != origin {
            return Err(LogError::NotALog {
                path: path.display().to_string(),
                message: format!("it is the log of `{}`, not `{origin}`", log.origin),
            });
        }
        Ok(log)
    }

    /// Records where the signer key file is (the path, never the key).
    pub fn set_key_path(&self, path: &str) -> Result<(), LogError> {
        self.conn
            .execute("INSERT INTO meta (key, value) VALUES ('key_path', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [path])
            .map_err(self.sql())?;
        Ok(())
    }

    /// The recorded signer key path, if any.
    pub fn key_path(&self) -> Result<Option<String>, LogError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'key_path'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.sql())
    }

    /// The origin line of this log's checkpoints.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The log's verifier key.
    pub fn verifier(&self) -> &Verifier {
        &self.vkey
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends entries in one durable transaction; returns their indexes.
    /// Every entry must be 1 to [`MAX_ENTRY_BYTES`] bytes, or nothing is appended.
    pub fn append(&mut self, entries: &[Vec<u8>]) -> Result<Range<u64>, LogError> {
        for (i, e) in entries.iter().enumerate() {
            if e.is_empty() || e.len() > MAX_ENTRY_BYTES {
                return Err(LogError::BadEntry {
                    index: i,
                    message: format!(
                        "{} bytes; an entry is 1 to {MAX_ENTRY_BYTES} bytes",
                        e.len()
                    ),
                });
            }
        }
        let start = self.size;
        let parts: Vec<Hash> = decomposition(start)
            .into_iter()
            .map(|(l, i)| self.node(l, i))
            .collect::<Result<_, _>>()?;
        let mut compact = Compact::from_parts(start, &parts).ok_or_else(|| LogError::NotALog {
            path: self.path.display().to_string(),
            message: "tree state unreadable".into(),
        })?;
        // The new nodes are contiguous in postorder, from node_count(start).
        let mut fresh: Vec<u8> = Vec::with_capacity(entries.len() * 64);
        for e in entries {
            compact.push(merkle::leaf_hash(e), |_, _, h| fresh.extend_from_slice(h));
        }
        let path = self.path.display().to_string();
        let err = |source| LogError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut put_entry = tx
                .prepare_cached("INSERT INTO entries (idx, data) VALUES (?1, ?2)")
                .map_err(err)?;
            for (k, e) in entries.iter().enumerate() {
                put_entry
                    .execute(params![(start + k as u64) as i64, e])
                    .map_err(err)?;
            }
            let mut id = node_count(start);
            let mut rest: &[u8] = &fresh;
            let offset = id % NODES_PER_CHUNK;
            if offset != 0 {
                // Complete the last, partial chunk.
                let take = (((NODES_PER_CHUNK - offset) * 32) as usize).min(rest.len());
                // (SQLite's `||` would turn the blob into text: extend it here.)
                let chunk = (id / NODES_PER_CHUNK) as i64;
                let mut data: Vec<u8> = tx
                    .prepare_cached("SELECT data FROM nodes WHERE chunk = ?1")
                    .and_then(|mut st| st.query_row([chunk], |r| r.get(0)))
                    .map_err(err)?;
                data.extend_from_slice(&rest[..take]);
                tx.prepare_cached("UPDATE nodes SET data = ?2 WHERE chunk = ?1")
                    .and_then(|mut st| st.execute(params![chunk, data]))
                    .map_err(err)?;
                id += (take / 32) as u64;
                rest = &rest[take..];
            }
            let mut put = tx
                .prepare_cached("INSERT INTO nodes (chunk, data) VALUES (?1, ?2)")
                .map_err(err)?;
            for c in rest.chunks((NODES_PER_CHUNK * 32) as usize) {
                put.execute(params![(id / NODES_PER_CHUNK) as i64, c])
                    .map_err(err)?;
                id += (c.len() / 32) as u64;
            }
        }
        tx.commit().map_err(err)?;
        self.size = start + entries.len() as u64;
        Ok(start..self.size)
    }

    /// The stored bytes of entry `index`.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        self.conn
            .prepare_cached("SELECT data FROM entries WHERE idx = ?1")
            .and_then(|mut s| s.query_row([index as i64], |r| r.get(0)).optional())
            .map_err(self.sql())?
            .ok_or_else(|| {
                LogError::Proof(ProofError::Sizes(format!(
                    "no entry {index}: the log has {} entries",
                    self.size
                )))
            })
    }

    /// The root of the tree at `size` (at most the current size).
    pub fn root(&self, size: u64) -> Result<Hash, LogError> {
        self.check_size(size)?;
        Ok(merkle::root(self, size)?)
    }

    fn check_size(&self, size: u64) -> Result<(), LogError> {
        if size > self.size {
            return Err(LogError::Proof(ProofError::Sizes(format!(
                "size {size} is beyond the log's {} entries",
                self.size
            ))));
        }
        Ok(())
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(size)?;
        Ok(merkle::inclusion_proof(self, index, size)?)
    }

    /// The consistency proof from `old` to `new` entries.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(new)?;
        Ok(merkle::consistency_proof(self, old, new)?)
    }

    /// Every stored checkpoint `(size, note)`, by size.
    pub fn checkpoints(&self) -> Result<Vec<(u64, String)>, LogError> {
        let mut st = self
            .conn
            .prepare("SELECT size, note FROM checkpoints ORDER BY size")
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// The latest signed checkpoint, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, LogError> {
        self.conn
            .query_row(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()
            .map_err(self.sql())
    }

    /// Signs a checkpoint of the current tree if the tree has grown since the
    /// last one, and returns the latest signed checkpoint note.
    ///
    /// The log never signs two checkpoints of one size with different roots,
    /// nor one its stored tree cannot prove consistent with the last one.
    pub fn checkpoint(&mut self, signer: &Signer) -> Result<String, LogError> {
        if signer.verifier() != self.vkey {
            return Err(LogError::WrongKey {
                key: signer.verifier().to_string(),
                log: self.vkey.to_string(),
            });
        }
        let root = self.root(self.size)?;
        if let Some((size, note)) = self.latest_checkpoint()? {
            let last = open_checkpoint(&note, &self.vkey, &[])?.into_checkpoint();
            if size == self.size {
                if last.hash != root {
                    return Err(LogError::WouldEquivocate(format!(
                        "the tree at size {size} has root {} but the log signed {}",
                        merkle::hex(&root),
                        merkle::hex(&last.hash)
                    )));
                }
                return Ok(note);
            }
            if size > self.size {
                return Err(LogError::WouldEquivocate(format!(
                    "the log signed size {size} but holds only {} entries",
                    self.size
                )));
            }
            if size > 0 {
                let proof = self.consistency_proof(size, self.size)?;
                merkle::verify_consistency(size, self.size, &last.hash, &root, &proof).map_err(|e| {
                    LogError::WouldEquivocate(format!("the stored tree is not consistent with the checkpoint at size {size}: {e}"))
                })?;
            }
        }
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size: self.size,
            hash: root,
            extensions: vec![],
        };
        let note = signer.sign(&cp.to_text())?;
        self.conn
            .execute(
                "INSERT INTO checkpoints (size, note) VALUES (?1, ?2)",
                params![self.size as i64, note],
            )
            .map_err(self.sql())?;
        Ok(note)
    }

    /// Stores a checkpoint another party signed over this log's entries (a
    /// mirror of the peer's log keeps the peer's notes). The note must verify
    /// with this log's key, its size must be held and its root must be this
    /// tree's root at that size; otherwise nothing is stored.
    pub fn record_checkpoint(&self, note: &str) -> Result<(), LogError> {
        let cp = open_checkpoint(note, &self.vkey, &[])?.into_checkpoint();
        if cp.origin != self.origin {
            return Err(LogError::WouldEquivocate(format!(
                "the checkpoint is for `{}`, not `{}`",
                cp.origin, self.origin
            )));
        }
        if cp.size > self.size {
            return Err(LogError::WouldEquivocate(format!(
                "the checkpoint is at size {} but the log holds {} entries",
                cp.size, self.size
            )));
        }
        let root = self.root(cp.size)?;
        if root != cp.hash {
            return Err(LogError::WouldEquivocate(format!(
                "the checkpoint's root at size {} is not this tree's",
                cp.size
            )));
        }
        self.conn
            .execute(
                "INSERT INTO checkpoints (size, note) VALUES (?1, ?2) ON CONFLICT(size) DO UPDATE SET note = excluded.note",
                params![cp.size as i64, note],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    /// Streams `(index, data)` of every entry, in order.
    pub fn for_each_entry(&self, mut f: impl FnMut(u64, &[u8]) -> bool) -> Result<(), LogError> {
        let mut st = self
            .conn
            .prepare("SELECT idx, data FROM entries ORDER BY idx")
            .map_err(self.sql())?;
        let mut rows = st.query([]).map_err(self.sql())?;
        while let Some(r) = rows.next().map_err(self.sql())? {
            let idx: i64 = r.get(0).map_err(self.sql())?;
            let data = r
                .get_ref(1)
                .map_err(self.sql())?
                .as_blob()
                .map_err(|e| self.sql()(e.into()))?;
            if !f(idx as u64, data) {
                break;
            }
        }
        Ok(())
    }

    /// Overwrites the stored hash of node `id` (tamper tests and demonstrations only).
    #[doc(hidden)]
    pub fn tamper_node(&self, id: u64, hash: &Hash) -> Result<(), LogError> {
        let off = (id % NODES_PER_CHUNK * 32) as usize;
        let mut data: Vec<u8> = self
            .conn
            .query_row(
                "SELECT data FROM nodes WHERE chunk = ?1",
                [(id / NODES_PER_CHUNK) as i64],
                |r| r.get(0),
            )
            .map_err(self.sql())?;
        if data.len() < off + 32 {
            return Err(LogError::Proof(ProofError::MissingNode {
                level: 0,
                index: id,
            }));
        }
        data[off..off + 32].copy_from_slice(hash);
        self.conn
            .execute(
                "UPDATE nodes SET data = ?2 WHERE chunk = ?1",
                params![(id / NODES_PER_CHUNK) as i64, data],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    /// Two cursors at once, for the streaming audit.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Runs raw SQL (tamper tests and demonstrations only).
    #[doc(hidden)]
    pub fn execute_raw(&self, sql: &str, p: &[&dyn rusqlite::ToSql]) -> Result<usize, LogError> {
        self.conn.execute(sql, p).map_err(self.sql())
    }
}

impl NodeSource for LogStore {
    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError> {
        let id = postorder(level, index);
        let missing = ProofError::MissingNode { level, index };
        // substr is 1-based; it returns fewer bytes past the end of the blob.
        let blob: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT substr(data, ?2, 32) FROM nodes WHERE chunk = ?1")
            .and_then(|mut s| {
                s.query_row(
                    params![
                        (id / NODES_PER_CHUNK) as i64,
                        (id % NODES_PER_CHUNK * 32 + 1) as i64
                    ],
                    |r| r.get(0),
                )
                .optional()
            })
            .map_err(|_| missing.clone())?;
        blob.and_then(|b| b.try_into().ok()).ok_or(missing)
    }
}
