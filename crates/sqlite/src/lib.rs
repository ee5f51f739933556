//! The files of accord's SQLite stores, opened and created one way for all.
//!
//! Every store (a party's log and its receipts, a witness's state, a
//! registry with its query index) is one SQLite file in WAL mode. Each
//! carries two numbers in the database header:
//!
//! - `PRAGMA application_id` (header offset 68): which kind of store it is,
//!   four ASCII letters read as a big-endian integer ([`id::LOG`] `ACLG`,
//!   [`id::WITNESS`] `ACWT`, [`id::REGISTRY`] `ACRG`);
//! - `PRAGMA user_version` (header offset 60): its schema version.
//!
//! **Versions.** A kind's [`Schema`] is its version-1 tables and a list of
//! migrations, the *i*-th taking version *i* to *i* + 1; the current version
//! is one more than the number of migrations. A new store is made by
//! running exactly that sequence, so a migrated store and a new one have
//! the same tables. A store with neither number set (application id 0,
//! user version 0) but the tables of version 1 was made before versions
//! were recorded: it is version 1. Opening runs the migrations from the
//! stored version to the current one in one `BEGIN IMMEDIATE` transaction,
//! and sets both numbers in it: a failed migration leaves the store as it
//! was.
//!
//! **Refusals that change nothing.** Before SQLite writes a byte, [`open`]
//! refuses, naming the file: a zero-byte file (SQLite would otherwise write a
//! schema into it), a file that does not begin with the SQLite header, an
//! SQLite database of another application or of another kind of accord
//! store, and a store whose version is newer than this binary knows ("made
//! by a newer accord: schema 7, this binary knows up to 3"). The journal
//! mode is set only after the file is known to be a store this binary can
//! read.
//!
//! **Waiting, not failing.** Every connection waits up to [`BUSY_TIMEOUT`]
//! for a lock another connection or process holds (a node writing while
//! `accord check` reads its data directory) before SQLite gives up with
//! `SQLITE_BUSY`.
//!
//! **Modes.** A store this crate creates is mode 0600 from its first byte
//! (created with `O_CREAT|O_EXCL` and that mode, then set exactly, whatever
//! the umask); SQLite gives its `-wal` and `-shm` files the database's
//! mode. Directories it creates are 0700. Opening an existing store
//! narrows a group- or world-accessible file (and its `-wal` and `-shm`) to
//! 0600.
#![forbid(unsafe_code)]

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a connection waits for another's lock before `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The first 16 bytes of every SQLite database file.
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The size of the SQLite database header: a shorter file is no database.
const HEADER: u64 = 100;

/// The application ids of accord's stores.
pub mod id {
    /// Four ASCII letters as the big-endian integer SQLite stores.
    pub const fn tag(t: &[u8; 4]) -> i32 {
        i32::from_be_bytes(*t)
    }
    /// A log (a party's log, a mirror of a peer's, receipts): `ACLG`.
    pub const LOG: i32 = tag(b"ACLG");
    /// A witness's state: `ACWT`.
    pub const WITNESS: i32 = tag(b"ACWT");
    /// A registry and its query index: `ACRG`.
    pub const REGISTRY: i32 = tag(b"ACRG");

    /// Every kind, with what it is called in messages.
    pub const KINDS: &[(i32, &str)] = &[
        (LOG, "an accord log"),
        (WITNESS, "an accord witness state"),
        (REGISTRY, "an accord registry"),
    ];
}

/// How hard SQLite syncs (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// Every commit is on disk when it returns.
    Full,
    /// In WAL mode, commits survive a process crash, not a power loss.
    Normal,
}

/// A kind of store: what it is called, its application id, its tables.
#[derive(Debug)]
pub struct Schema {
    /// What the store is, for messages: `an accord log`.
    pub what: &'static str,
    /// Its `PRAGMA application_id` (see [`id`]).
    pub application_id: i32,
    /// The tables of version 1 (`CREATE TABLE IF NOT EXISTS …`): also run
    /// on an unversioned store, to add any a still older release lacked.
    pub v1: &'static str,
    /// `migrations[i]` takes version `i + 1` to `i + 2`.
    pub migrations: &'static [&'static str],
    /// The tables an unversioned store must have to be taken for version 1.
    pub legacy_tables: &'static [&'static str],
    /// Its `PRAGMA synchronous`.
    pub synchronous: Synchronous,
}

impl Schema {
    /// The version this binary writes.
    pub const fn version(&self) -> u32 {
        1 + self.migrations.len() as u32
    }
}

/// What a file that is not the store expected turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Foreign {
    /// Another kind of accord store (what it is).
    OtherStore(&'static str),
    /// Another application's SQLite database (its application id).
    Application(i32),
    /// An SQLite database with a user version but no application id: not
    /// one accord made.
    Unversioned(i64),
    /// An SQLite database without the store's tables (the tables it has,
    /// at most [`MAX_LISTED`]).
    Tables(Vec<String>),
}

/// How many table names a [`Foreign::Tables`] keeps.
pub const MAX_LISTED: usize = 16;

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Foreign::OtherStore(what) => write!(f, "it is {what}"),
            Foreign::Application(id) => {
                write!(f, "an SQLite database of another application (application_id {id:#010x}")?;
                let b = id.to_be_bytes();
                if b.iter().all(|c| c.is_ascii_graphic()) {
                    write!(f, ", \"{}\"", String::from_utf8_lossy(&b))?;
                }
                write!(f, ")")
            }
            Foreign::Unversioned(v) => write!(
                f,
                "an SQLite database of another application (user_version {v}, no accord application_id)"
            ),
            Foreign::Tables(t) if t.is_empty() => {
                write!(f, "an SQLite database with no tables")
            }
            Foreign::Tables(t) => write!(
                f,
                "an SQLite database without its tables (it has {}{})",
                t.join(", "),
                if t.len() >= MAX_LISTED { ", …" } else { "" }
            ),
        }
    }
}

/// Why a store file could not be opened or created. Every variant names
/// the file; a refusal has changed nothing on disk.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file is empty: nothing was ever stored in it.
    #[error("{}: empty file (0 bytes), not {what}; nothing was changed", .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
        /// What it should have been.
        what: &'static str,
    },
    /// The path is a directory or another non-file.
    #[error("{}: not a file, so not {what}", .path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it should have been.
        what: &'static str,
    },
    /// The file is not an SQLite database at all.
    #[error("{}: not {what}: not an SQLite database; nothing was changed", .path.display())]
    NotSqlite {
        /// The file.
        path: PathBuf,
        /// What it should have been.
        what: &'static str,
    },
    /// An SQLite database, but not this kind of store.
    #[error("{}: not {what}: {found}; nothing was changed", .path.display())]
    Foreign {
        /// The file.
        path: PathBuf,
        /// What it should have been.
        what: &'static str,
        /// What it is.
        found: Foreign,
    },
    /// A store of a schema version this binary does not know.
    #[error(
        "{}: made by a newer accord: schema {found}, this binary knows up to {known} ({what}); nothing was changed: open it with a newer accord",
        .path.display()
    )]
    Newer {
        /// The file.
        path: PathBuf,
        /// What it is.
        what: &'static str,
        /// Its version.
        found: i64,
        /// The newest version this binary knows.
        known: u32,
    },
    /// A migration failed; the transaction rolled back.
    #[error("{}: migrating {what} from schema {from} to {to}: {source}; nothing was changed", .path.display())]
    Migration {
        /// The file.
        path: PathBuf,
        /// What it is.
        what: &'static str,
        /// The stored version (1 for an unversioned store).
        from: u32,
        /// The version it was being taken to.
        to: u32,
        /// What SQLite said (boxed: a migration failure is rare, and every
        /// store error carries this enum).
        source: Box<rusqlite::Error>,
    },
    /// A new store was asked for where a file already is.
    #[error("{}: already exists (will not overwrite it)", .path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The file system failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("{}: {source}", .path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// The error.
        source: rusqlite::Error,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> FileError + '_ {
    move |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// SQLite errors on `path`; "file is not a database" is [`FileError::NotSqlite`].
fn sql<'a>(path: &'a Path, what: &'static str) -> impl Fn(rusqlite::Error) -> FileError + 'a {
    move |source| match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => FileError::NotSqlite {
            path: path.to_path_buf(),
            what,
        },
        _ => FileError::Sqlite {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// `path` with `suffix` appended (`-wal`, `-shm`).
pub fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Creates `dir` and any missing parents, each readable by its owner only
/// (0700 on Unix, whatever the umask). Directories that exist keep their
/// mode.
pub fn create_private_dir(dir: &Path) -> Result<(), FileError> {
    let mut missing = vec![];
    let mut at = Some(dir);
    while let Some(p) = at {
        if p.as_os_str().is_empty() || p.is_dir() {
            break;
        }
        missing.push(p);
        at = p.parent();
    }
    for p in missing.into_iter().rev() {
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            b.mode(0o700);
        }
        match b.create(p) {
            Ok(()) => {}
            // Made meanwhile by someone else: keep its mode.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && p.is_dir() => continue,
            Err(e) => return Err(io(p)(e)),
        }
        set_mode(p, 0o700).map_err(io(p))?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// Narrows the store and its `-wal` and `-shm` to 0600 if its group or
/// others have any access. Best effort: a store another user owns, which
/// this process may only read, is left as it is.
fn narrow(path: &Path) {
    #[cfg(unix)]
    for p in [
        path.to_path_buf(),
        sidecar(path, "-wal"),
        sidecar(path, "-shm"),
    ] {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(m) = std::fs::metadata(&p) {
            if m.permissions().mode() & 0o077 != 0 {
                let _ = set_mode(&p, 0o600);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn connect(path: &Path, what: &'static str) -> Result<Connection, FileError> {
    // Read-write, never create: a missing file is the caller's to make.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql(path, what))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql(path, what))?;
    Ok(conn)
}

fn configure(conn: &Connection, path: &Path, schema: &Schema) -> Result<(), FileError> {
    let err = sql(path, schema.what);
    // Returns the mode now in force (a read-only file keeps its own).
    let _: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(&err)?;
    conn.execute_batch(match schema.synchronous {
        Synchronous::Full => "PRAGMA synchronous = FULL",
        Synchronous::Normal => "PRAGMA synchronous = NORMAL",
    })
    .map_err(&err)
}

/// The header numbers: `(application_id, user_version)`.
fn numbers(conn: &Connection) -> rusqlite::Result<(i32, i64)> {
    let app = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok((app, version))
}

fn tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut st = conn.prepare(&format!(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name LIMIT {MAX_LISTED}"
    ))?;
    let rows = st.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// The store's version: 0 for an unversioned store with version 1's
/// tables, else its `user_version` (possibly above this binary's).
fn identify(conn: &Connection, path: &Path, schema: &Schema) -> Result<i64, FileError> {
    let err = sql(path, schema.what);
    let foreign = |found| FileError::Foreign {
        path: path.to_path_buf(),
        what: schema.what,
        found,
    };
    let (app, version) = numbers(conn).map_err(&err)?;
    if app == schema.application_id && version >= 1 {
        return Ok(version);
    }
    if app == schema.application_id || (app == 0 && version == 0) {
        // Made before versions were recorded: version 1 if it has its tables.
        let have = tables(conn).map_err(&err)?;
        let complete = if have.len() < MAX_LISTED {
            schema
                .legacy_tables
                .iter()
                .all(|t| have.iter().any(|h| h == t))
        } else {
            // Listing was cut short: ask for each.
            let mut all = true;
            for t in schema.legacy_tables {
                all &= conn
                    .query_row(
                        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                        [t],
                        |_| Ok(()),
                    )
                    .is_ok();
            }
            all
        };
        return if complete {
            Ok(0)
        } else {
            Err(foreign(Foreign::Tables(have)))
        };
    }
    if app == 0 {
        return Err(foreign(Foreign::Unversioned(version)));
    }
    Err(foreign(
        id::KINDS
            .iter()
            .find(|(i, _)| *i == app)
            .map_or(Foreign::Application(app), |(_, w)| Foreign::OtherStore(w)),
    ))
}

/// Takes a store from `from` (0: unversioned) to the current version in
/// one immediate transaction.
fn migrate(
    conn: &mut Connection,
    path: &Path,
    schema: &Schema,
    from: i64,
) -> Result<(), FileError> {
    let to = schema.version();
    let failed = |source| FileError::Migration {
        path: path.to_path_buf(),
        what: schema.what,
        from: from.max(1) as u32,
        to,
        source: Box::new(source),
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(path, schema.what))?;
    // Another process may have migrated it while this one waited.
    let from = match numbers(&tx).map_err(failed)? {
        (app, v) if app == schema.application_id && v >= i64::from(to) => {
            if v > i64::from(to) {
                return Err(FileError::Newer {
                    path: path.to_path_buf(),
                    what: schema.what,
                    found: v,
                    known: to,
                });
            }
            return Ok(());
        }
        _ => from,
    };
    if from == 0 {
        tx.execute_batch(schema.v1).map_err(failed)?;
    }
    let done = (from.max(1) - 1) as usize;
    for step in schema.migrations.iter().skip(done) {
        tx.execute_batch(step).map_err(failed)?;
    }
    stamp(&tx, schema).map_err(failed)?;
    tx.commit().map_err(failed)
}

fn stamp(tx: &Transaction<'_>, schema: &Schema) -> rusqlite::Result<()> {
    // Pragmas take no bound parameters; both values are integers.
    tx.execute_batch(&format!(
        "PRAGMA application_id = {}; PRAGMA user_version = {};",
        schema.application_id,
        schema.version()
    ))
}

/// Refuses, before SQLite opens it, a file that is empty or does not begin
/// with the SQLite header.
fn check_file(path: &Path, what: &'static str) -> Result<(), FileError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if !meta.is_file() {
        return Err(FileError::NotAFile {
            path: path.to_path_buf(),
            what,
        });
    }
    // A zero-byte database is one SQLite would write a schema into (and
    // it deletes a `-wal` beside it): refuse it untouched.
    if meta.len() == 0 {
        return Err(FileError::Empty {
            path: path.to_path_buf(),
            what,
        });
    }
    let mut head = Vec::with_capacity(MAGIC.len());
    std::fs::File::open(path)
        .map_err(io(path))?
        .take(MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(io(path))?;
    if meta.len() < HEADER || head != MAGIC {
        return Err(FileError::NotSqlite {
            path: path.to_path_buf(),
            what,
        });
    }
    Ok(())
}

/// Opens an existing store of `schema`'s kind, migrating it to the current
/// version. Refuses, changing nothing, a file that is empty, not SQLite,
/// not this kind of store, or newer than this binary (see the crate docs).
pub fn open(path: &Path, schema: &Schema) -> Result<Connection, FileError> {
    check_file(path, schema.what)?;
    let mut conn = connect(path, schema.what)?;
    let version = identify(&conn, path, schema)?;
    let known = schema.version();
    if version > i64::from(known) {
        return Err(FileError::Newer {
            path: path.to_path_buf(),
            what: schema.what,
            found: version,
            known,
        });
    }
    configure(&conn, path, schema)?;
    if version < i64::from(known) {
        migrate(&mut conn, path, schema, version)?;
    }
    narrow(path);
    Ok(conn)
}

/// Creates a new store of `schema`'s kind at `path` (its missing parent
/// directories 0700, the file 0600), with the current schema; `init` fills
/// it in the same transaction. Refuses an existing file. On any error the
/// file is removed again.
pub fn create(
    path: &Path,
    schema: &Schema,
    init: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<()>,
) -> Result<Connection, FileError> {
    if let Some(parent) = path.parent() {
        create_private_dir(parent)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    match o.open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(FileError::Exists {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(io(path)(e)),
    }
    let made = (|| -> Result<Connection, FileError> {
        // The umask may have narrowed the mode, never widened it: set it
        // exactly before SQLite copies it to the -wal and -shm.
        set_mode(path, 0o600).map_err(io(path))?;
        let mut conn = connect(path, schema.what)?;
        configure(&conn, path, schema)?;
        let err = sql(path, schema.what);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        tx.execute_batch(schema.v1).map_err(&err)?;
        for step in schema.migrations {
            tx.execute_batch(step).map_err(&err)?;
        }
        stamp(&tx, schema).map_err(&err)?;
        init(&tx).map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(conn)
    })();
    if made.is_err() {
        for p in [
            path.to_path_buf(),
            sidecar(path, "-wal"),
            sidecar(path, "-shm"),
        ] {
            let _ = std::fs::remove_file(p);
        }
    }
    made
}

/// Opens the store at `path` if there is a file there, or creates it.
pub fn open_or_create(
    path: &Path,
    schema: &Schema,
    init: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<()>,
) -> Result<Connection, FileError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path, schema, init),
        _ => open(path, schema),
    }
}

/// A store's schema version as recorded (0: unversioned), read without
/// changing anything; for reports.
pub fn stored_version(path: &Path, schema: &Schema) -> Result<i64, FileError> {
    check_file(path, schema.what)?;
    let conn = connect(path, schema.what)?;
    identify(&conn, path, schema)
}
