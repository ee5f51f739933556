//! The log and witness files: schema versions, stores made before versions
//! were recorded, newer, empty and foreign files, busy connections, modes.

use accord_log::note::Signer;
use accord_log::witness::{Witness, WitnessError};
use accord_log::{audit, canonical_entry, LogError, LogStore};
use accord_sqlite::{id, FileError, Foreign};
use rusqlite::Connection;
use std::path::Path;

/// The log's tables as the release before schema versions wrote them,
/// verbatim (`crates/log/src/store.rs`, `SCHEMA` and `open_conn`).
const PRE_VERSION_LOG_SQL: &str = "
PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (chunk INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
";

/// The witness state's tables before schema versions (`witness.rs`).
const PRE_VERSION_WITNESS_SQL: &str = "
PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS logs (origin TEXT PRIMARY KEY, vkey TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0, note TEXT);
CREATE TABLE IF NOT EXISTS evidence (id INTEGER PRIMARY KEY, origin TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
";

const ORIGIN: &str = "accord/new-start/US";

fn entries(from: usize, n: usize) -> Vec<Vec<u8>> {
    (from..from + n)
        .map(|i| canonical_entry(&format!(r#"{{"number":{i},"party":"US"}}"#)).expect("json"))
        .collect()
}

fn numbers(path: &Path) -> (i32, i64) {
    let c = Connection::open(path).expect("raw");
    (
        c.query_row("PRAGMA application_id", [], |r| r.get(0))
            .expect("app"),
        c.query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version"),
    )
}

/// A log of 300 entries with two checkpoints, in a file made by the
/// pre-version SQL: the rows are a current log's, copied table by table.
fn pre_version_log(dir: &Path, signer: &Signer) -> std::path::PathBuf {
    let donor = dir.join("donor.sqlite");
    let mut log = LogStore::init(&donor, ORIGIN, &signer.verifier()).expect("init");
    log.append(&entries(0, 200)).expect("append");
    log.checkpoint(signer).expect("cp");
    log.append(&entries(200, 100)).expect("append");
    log.checkpoint(signer).expect("cp");
    log.set_key_path("/keys/us.key").expect("key path");
    drop(log);
    let old = dir.join("old.sqlite");
    let c = Connection::open(&old).expect("raw");
    c.execute_batch(PRE_VERSION_LOG_SQL).expect("old schema");
    c.execute("ATTACH DATABASE ?1 AS donor", [donor.display().to_string()])
        .expect("attach");
    c.execute_batch(
        "INSERT INTO meta SELECT * FROM donor.meta;
         INSERT INTO entries SELECT * FROM donor.entries;
         INSERT INTO nodes SELECT * FROM donor.nodes;
         INSERT INTO checkpoints SELECT * FROM donor.checkpoints;
         DETACH DATABASE donor;",
    )
    .expect("copy");
    drop(c);
    assert_eq!(numbers(&old), (0, 0), "as the old release left it");
    old
}

#[test]
fn a_log_made_before_schema_versions_opens_migrated_and_whole() {
    let dir = tempfile::tempdir().expect("tmp");
    let signer = Signer::generate(ORIGIN).expect("key");
    let old = pre_version_log(dir.path(), &signer);
    let donor = LogStore::open(&dir.path().join("donor.sqlite")).expect("donor");
    let mut log = LogStore::open(&old).expect("opens");
    assert_eq!(numbers(&old), (id::LOG, 1));
    assert_eq!(log.size(), 300);
    assert_eq!(log.origin(), ORIGIN);
    assert_eq!(log.key_path().expect("kp").as_deref(), Some("/keys/us.key"));
    assert_eq!(log.root(300).expect("root"), donor.root(300).expect("root"));
    assert_eq!(
        log.checkpoints().expect("cps"),
        donor.checkpoints().expect("cps")
    );
    for i in [0, 199, 299] {
        assert_eq!(log.entry(i).expect("e"), donor.entry(i).expect("e"));
    }
    let r = audit(&log, &signer.verifier()).expect("audit");
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!((r.entries, r.checkpoints), (300, 2));
    // And it goes on as a log.
    assert_eq!(log.append(&entries(300, 5)).expect("append"), 300..305);
    log.checkpoint(&signer).expect("cp");
    drop(log);
    let again = LogStore::open(&old).expect("reopen");
    assert_eq!(again.size(), 305);
    assert_eq!(numbers(&old), (id::LOG, 1));
}

#[test]
fn a_log_from_a_newer_accord_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    let signer = Signer::generate(ORIGIN).expect("key");
    let p = dir.path().join("log.sqlite");
    let mut log = LogStore::init(&p, ORIGIN, &signer.verifier()).expect("init");
    log.append(&entries(0, 3)).expect("append");
    drop(log);
    Connection::open(&p)
        .expect("raw")
        .execute_batch("PRAGMA user_version = 7")
        .expect("bump");
    let before = std::fs::read(&p).expect("read");
    for e in [
        LogStore::open(&p).expect_err("newer"),
        LogStore::open_or_init(&p, ORIGIN, &signer.verifier()).expect_err("newer"),
    ] {
        assert!(
            matches!(
                e,
                LogError::File(FileError::Newer {
                    found: 7,
                    known: 1,
                    ..
                })
            ),
            "{e}"
        );
        let text = e.to_string();
        assert!(text.starts_with(&p.display().to_string()), "{text}");
        assert!(
            text.contains("made by a newer accord: schema 7, this binary knows up to 1"),
            "{text}"
        );
    }
    assert_eq!(std::fs::read(&p).expect("read"), before);
    assert_eq!(numbers(&p), (id::LOG, 7));
}

#[test]
fn an_empty_log_file_is_refused_and_stays_empty() {
    let dir = tempfile::tempdir().expect("tmp");
    let signer = Signer::generate(ORIGIN).expect("key");
    let p = dir.path().join("log.sqlite");
    std::fs::write(&p, b"").expect("touch");
    for e in [
        LogStore::open(&p).expect_err("empty"),
        LogStore::open_or_init(&p, ORIGIN, &signer.verifier()).expect_err("empty"),
    ] {
        assert!(matches!(e, LogError::File(FileError::Empty { .. })), "{e}");
        assert!(
            e.to_string()
                .contains("log.sqlite: empty file (0 bytes), not an accord log"),
            "{e}"
        );
    }
    assert_eq!(std::fs::metadata(&p).expect("stat").len(), 0);
    assert!(!dir.path().join("log.sqlite-wal").exists());
}

#[test]
fn a_witness_state_is_not_taken_for_a_log_nor_a_log_for_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let w = dir.path().join("w.sqlite");
    drop(Witness::open(&w, Signer::generate("witness.example/w").expect("key")).expect("w"));
    let before = std::fs::read(&w).expect("read");
    let e = LogStore::open(&w).expect_err("a witness state");
    assert!(
        matches!(
            &e,
            LogError::File(FileError::Foreign {
                found: Foreign::OtherStore("an accord witness state"),
                ..
            })
        ),
        "{e}"
    );
    assert_eq!(std::fs::read(&w).expect("read"), before);
    // And the other way round.
    let signer = Signer::generate(ORIGIN).expect("key");
    let l = dir.path().join("log.sqlite");
    drop(LogStore::init(&l, ORIGIN, &signer.verifier()).expect("log"));
    let e =
        Witness::open(&l, Signer::generate("witness.example/w").expect("key")).expect_err("a log");
    assert!(
        e.to_string()
            .contains("not an accord witness state: it is an accord log"),
        "{e}"
    );
}

#[test]
fn a_foreign_sqlite_file_or_garbage_is_not_a_log_and_is_left_alone() {
    let dir = tempfile::tempdir().expect("tmp");
    let other = dir.path().join("other.sqlite");
    Connection::open(&other)
        .expect("raw")
        .execute_batch("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x');")
        .expect("other");
    let garbage = dir.path().join("garbage.sqlite");
    std::fs::write(&garbage, "this is not a database\n".repeat(100)).expect("write");
    for p in [&other, &garbage] {
        let before = std::fs::read(p).expect("read");
        let e = LogStore::open(p).expect_err("not a log");
        assert!(matches!(e, LogError::File(_)), "{e}");
        assert!(e.to_string().contains("not an accord log"), "{e}");
        assert_eq!(std::fs::read(p).expect("read"), before);
    }
}

#[test]
fn a_witness_state_made_before_schema_versions_keeps_what_it_cosigned() {
    let dir = tempfile::tempdir().expect("tmp");
    let signer = Signer::generate(ORIGIN).expect("key");
    let mut log =
        LogStore::init(&dir.path().join("log.sqlite"), ORIGIN, &signer.verifier()).expect("log");
    log.append(&entries(0, 10)).expect("append");
    let note = log.checkpoint(&signer).expect("cp");
    let p = dir.path().join("w.sqlite");
    let c = Connection::open(&p).expect("raw");
    c.execute_batch(PRE_VERSION_WITNESS_SQL).expect("old");
    c.execute(
        "INSERT INTO logs (origin, vkey, size, note) VALUES (?1, ?2, 10, ?3)",
        rusqlite::params![ORIGIN, signer.verifier().to_string(), note],
    )
    .expect("row");
    c.execute(
        "INSERT INTO meta (key, value) VALUES ('key_path', '/keys/w.key')",
        [],
    )
    .expect("meta");
    drop(c);
    assert_eq!(
        Witness::key_path(&p).expect("kp").as_deref(),
        Some("/keys/w.key")
    );
    let w = Witness::open(&p, Signer::generate("witness.example/w").expect("key")).expect("w");
    assert_eq!(numbers(&p), (id::WITNESS, 1));
    assert_eq!(w.latest(ORIGIN).expect("latest"), Some((10, Some(note))));
    // It goes on witnessing from where it was.
    log.append(&entries(10, 5)).expect("append");
    let next = log.checkpoint(&signer).expect("cp");
    w.add_checkpoint(&next, 10, &log.consistency_proof(10, 15).expect("p"), 1)
        .expect("cosigns");
}

#[test]
fn an_empty_witness_state_is_refused_even_for_its_key_path() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("w.sqlite");
    std::fs::write(&p, b"").expect("touch");
    let e = Witness::key_path(&p).expect_err("empty");
    assert!(
        matches!(e, WitnessError::File(FileError::Empty { .. })),
        "{e}"
    );
    let e =
        Witness::open(&p, Signer::generate("witness.example/w").expect("key")).expect_err("empty");
    assert!(e.to_string().contains("w.sqlite: empty file"), "{e}");
    assert_eq!(std::fs::metadata(&p).expect("stat").len(), 0);
}

#[test]
fn an_append_waits_for_another_connections_write_instead_of_failing_busy() {
    let dir = tempfile::tempdir().expect("tmp");
    let signer = Signer::generate(ORIGIN).expect("key");
    let p = dir.path().join("log.sqlite");
    let holder = LogStore::init(&p, ORIGIN, &signer.verifier()).expect("init");
    let mut writer = LogStore::open(&p).expect("second connection");
    // The first connection holds the write lock, as a node's commit does.
    holder.execute_raw("BEGIN IMMEDIATE", &[]).expect("lock");
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        holder.execute_raw("COMMIT", &[]).expect("commit");
        holder
    });
    let started = std::time::Instant::now();
    assert_eq!(
        writer.append(&entries(0, 2)).expect("waits, then appends"),
        0..2
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(250));
    drop(t.join().expect("thread"));
    // A reader in a third connection meanwhile never waits (WAL).
    let reader = LogStore::open(&p).expect("reader");
    assert_eq!(reader.size(), 2);
}

#[cfg(unix)]
#[test]
fn a_new_log_is_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    let dir = tempfile::tempdir().expect("tmp");
    let signer = Signer::generate(ORIGIN).expect("key");
    // Its directory does not exist yet: the log makes it, 0700.
    let p = dir.path().join("data/peers/RU/log.sqlite");
    let mut log = LogStore::init(&p, ORIGIN, &signer.verifier()).expect("init");
    log.append(&entries(0, 1)).expect("append");
    assert_eq!(mode(&p), 0o600);
    assert_eq!(
        mode(&dir.path().join("data/peers/RU/log.sqlite-wal")),
        0o600
    );
    assert_eq!(
        mode(&dir.path().join("data/peers/RU/log.sqlite-shm")),
        0o600
    );
    for d in ["data", "data/peers", "data/peers/RU"] {
        assert_eq!(mode(&dir.path().join(d)), 0o700, "{d}");
    }
}
