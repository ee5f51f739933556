//! Store files: versions, migrations, refusals that change nothing, busy
//! timeouts and modes.

use accord_sqlite::{
    create, id, open, open_or_create, sidecar, FileError, Foreign, Schema, Synchronous,
};
use rusqlite::Connection;
use std::path::Path;

/// A store of two versions: version 2 adds a column and an index.
static NOTES: Schema = Schema {
    what: "an accord test store",
    application_id: id::tag(b"ACTS"),
    v1: "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);",
    migrations: &[
        "ALTER TABLE notes ADD COLUMN seen INTEGER NOT NULL DEFAULT 0;
                   CREATE INDEX notes_seen ON notes (seen);",
    ],
    legacy_tables: &["notes"],
    synchronous: Synchronous::Full,
};

/// The same kind, one migration further, that fails half-way.
static BROKEN: Schema = Schema {
    what: "an accord test store",
    application_id: id::tag(b"ACTS"),
    v1: "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);",
    migrations: &[
        "ALTER TABLE notes ADD COLUMN seen INTEGER NOT NULL DEFAULT 0;
         CREATE INDEX notes_seen ON notes (seen);",
        "CREATE TABLE extra (x); INSERT INTO no_such_table VALUES (1);",
    ],
    legacy_tables: &["notes"],
    synchronous: Synchronous::Full,
};

fn numbers(path: &Path) -> (i32, i64) {
    let c = Connection::open(path).expect("raw");
    (
        c.query_row("PRAGMA application_id", [], |r| r.get(0))
            .expect("app"),
        c.query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version"),
    )
}

/// The schema as SQLite records it, for comparing a migrated store with a new one.
fn schema_sql(conn: &Connection) -> Vec<String> {
    let mut st = conn
        .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        .expect("master");
    let rows = st
        .query_map([], |r| {
            Ok(format!(
                "{} {} {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?.unwrap_or_default()
            ))
        })
        .expect("rows");
    rows.collect::<Result<_, _>>().expect("collect")
}

/// Everything on disk beside and at `path`: the bytes of the file and
/// which sidecars exist.
fn snapshot(path: &Path) -> (Vec<u8>, bool, bool) {
    (
        std::fs::read(path).expect("read"),
        sidecar(path, "-wal").exists(),
        sidecar(path, "-shm").exists(),
    )
}

#[test]
fn a_new_store_records_its_kind_and_version() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("s.sqlite");
    let c = create(&p, &NOTES, |tx| {
        tx.execute("INSERT INTO notes (text) VALUES ('a')", [])
            .map(|_| ())
    })
    .expect("create");
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!(mode, "wal");
    drop(c);
    assert_eq!(numbers(&p), (id::tag(b"ACTS"), 2));
    assert_eq!(NOTES.version(), 2);
    let c = open(&p, &NOTES).expect("reopen");
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM notes WHERE seen = 0", [], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!(n, 1);
    assert!(matches!(
        create(&p, &NOTES, |_| Ok(())),
        Err(FileError::Exists { .. })
    ));
}

#[test]
fn an_unversioned_store_is_version_one_and_migrates_without_loss() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("old.sqlite");
    {
        // As the release before versions were recorded made it.
        let c = Connection::open(&p).expect("raw");
        c.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
             INSERT INTO notes (text) VALUES ('kept'), ('also kept');",
        )
        .expect("old");
    }
    assert_eq!(numbers(&p), (0, 0));
    assert_eq!(accord_sqlite::stored_version(&p, &NOTES).expect("v"), 0);
    let c = open(&p, &NOTES).expect("migrates");
    let texts: Vec<String> = c
        .prepare("SELECT text FROM notes ORDER BY id")
        .expect("st")
        .query_map([], |r| r.get(0))
        .expect("q")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(texts, ["kept", "also kept"]);
    let migrated = schema_sql(&c);
    drop(c);
    assert_eq!(numbers(&p), (id::tag(b"ACTS"), 2));
    let fresh = create(&dir.path().join("new.sqlite"), &NOTES, |_| Ok(())).expect("new");
    assert_eq!(migrated, schema_sql(&fresh));
}

#[test]
fn a_failed_migration_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("s.sqlite");
    drop(create(&p, &NOTES, |_| Ok(())).expect("create"));
    let e = open(&p, &BROKEN).expect_err("migration 2 → 3 fails");
    assert!(
        matches!(e, FileError::Migration { from: 2, to: 3, .. }),
        "{e}"
    );
    let text = e.to_string();
    assert!(
        text.contains("s.sqlite") && text.contains("from schema 2 to 3"),
        "{text}"
    );
    assert_eq!(numbers(&p), (id::tag(b"ACTS"), 2));
    let c = Connection::open(&p).expect("raw");
    let extra: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'extra'",
            [],
            |r| r.get(0),
        )
        .expect("q");
    assert_eq!(
        extra, 0,
        "the first statement of the failed migration rolled back"
    );
}

#[test]
fn a_store_from_a_newer_accord_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("s.sqlite");
    drop(create(&p, &NOTES, |_| Ok(())).expect("create"));
    Connection::open(&p)
        .expect("raw")
        .execute_batch("PRAGMA user_version = 7")
        .expect("bump");
    let before = snapshot(&p);
    let e = open(&p, &NOTES).expect_err("newer");
    assert!(
        matches!(
            e,
            FileError::Newer {
                found: 7,
                known: 2,
                ..
            }
        ),
        "{e}"
    );
    let text = e.to_string();
    assert!(
        text.contains("s.sqlite")
            && text.contains("made by a newer accord: schema 7, this binary knows up to 2"),
        "{text}"
    );
    assert_eq!(snapshot(&p), before);
    assert_eq!(numbers(&p), (id::tag(b"ACTS"), 7));
}

#[test]
fn an_empty_file_is_refused_and_left_empty() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("s.sqlite");
    std::fs::write(&p, b"").expect("touch");
    for e in [
        open(&p, &NOTES).expect_err("empty"),
        open_or_create(&p, &NOTES, |_| Ok(())).expect_err("empty"),
    ] {
        assert!(matches!(e, FileError::Empty { .. }), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("s.sqlite") && text.contains("empty file"),
            "{text}"
        );
    }
    assert_eq!(snapshot(&p), (vec![], false, false));
}

#[test]
fn garbage_is_refused_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    for (name, bytes) in [
        ("short", b"not a database".to_vec()),
        ("text", "garbage\n".repeat(1000).into_bytes()),
        // The right magic, then nonsense: SQLite itself says "not a database".
        ("magic", {
            let mut b = b"SQLite format 3\0".to_vec();
            b.extend(std::iter::repeat_n(0xA5u8, 8192));
            b
        }),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, &bytes).expect("write");
        let e = open(&p, &NOTES).expect_err(name);
        assert!(matches!(e, FileError::NotSqlite { .. }), "{name}: {e}");
        assert!(e.to_string().contains(name), "{e}");
        assert_eq!(snapshot(&p), (bytes, false, false), "{name}");
    }
}

#[test]
fn another_applications_database_is_refused_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    let plain = dir.path().join("plain.sqlite");
    Connection::open(&plain)
        .expect("raw")
        .execute_batch("CREATE TABLE people (name TEXT);")
        .expect("plain");
    let tagged = dir.path().join("tagged.sqlite");
    Connection::open(&tagged)
        .expect("raw")
        .execute_batch("PRAGMA application_id = 1179602516; CREATE TABLE t (x);")
        .expect("tagged");
    let versioned = dir.path().join("versioned.sqlite");
    Connection::open(&versioned)
        .expect("raw")
        .execute_batch("PRAGMA user_version = 3; CREATE TABLE notes (x);")
        .expect("versioned");
    let cases = [
        (&plain, Foreign::Tables(vec!["people".into()])),
        (&tagged, Foreign::Application(1179602516)),
        (&versioned, Foreign::Unversioned(3)),
    ];
    for (p, found) in cases {
        let before = snapshot(p);
        let e = open(p, &NOTES).expect_err("foreign");
        let FileError::Foreign { found: f, .. } = &e else {
            panic!("{e}");
        };
        assert_eq!(f, &found);
        assert!(e.to_string().contains("nothing was changed"), "{e}");
        assert_eq!(snapshot(p), before, "{}", p.display());
    }
}

#[test]
fn another_kind_of_accord_store_is_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("log.sqlite");
    let log = Schema {
        what: "an accord log",
        application_id: id::LOG,
        v1: "CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY);",
        migrations: &[],
        legacy_tables: &["entries"],
        synchronous: Synchronous::Full,
    };
    drop(create(&p, &log, |_| Ok(())).expect("log"));
    let e = open(&p, &NOTES).expect_err("not a test store");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: not an accord test store: it is an accord log; nothing was changed",
            p.display()
        )
    );
}

#[test]
fn a_writer_in_another_connection_is_waited_for_not_busy() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("s.sqlite");
    let holder = create(&p, &NOTES, |_| Ok(())).expect("create");
    holder.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let released = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = released.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(400));
        holder
            .execute_batch("INSERT INTO notes (text) VALUES ('first'); COMMIT;")
            .expect("commit");
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let other = open(&p, &NOTES).expect("open while locked");
    // A second writer waits for the first instead of failing SQLITE_BUSY.
    other
        .execute("INSERT INTO notes (text) VALUES ('second')", [])
        .expect("waits, then writes");
    assert!(released.load(std::sync::atomic::Ordering::SeqCst));
    t.join().expect("thread");
    let texts: Vec<String> = other
        .prepare("SELECT text FROM notes ORDER BY id")
        .expect("st")
        .query_map([], |r| r.get(0))
        .expect("q")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(texts, ["first", "second"]);
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).expect("stat").permissions().mode() & 0o777
}

/// Run in a child under `umask 000`, the most permissive: every file and
/// directory a store makes must still be owner-only.
#[cfg(unix)]
#[test]
fn stores_are_0600_and_their_directories_0700_whatever_the_umask() {
    const CHILD: &str = "ACCORD_SQLITE_MODES_CHILD";
    if let Some(dir) = std::env::var_os(CHILD) {
        let p = Path::new(&dir).join("a/b/s.sqlite");
        let c = create(&p, &NOTES, |_| Ok(())).expect("create");
        c.execute("INSERT INTO notes (text) VALUES ('x')", [])
            .expect("write");
        // Keep the -wal and -shm for the parent to see.
        std::mem::forget(c);
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let exe = std::env::current_exe().expect("exe");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(exe)
        .args([
            "--exact",
            "stores_are_0600_and_their_directories_0700_whatever_the_umask",
            "--test-threads=1",
        ])
        .env(CHILD, dir.path())
        .status()
        .expect("child");
    assert!(status.success());
    let p = dir.path().join("a/b/s.sqlite");
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    assert_eq!(mode(&dir.path().join("a/b")), 0o700);
    assert_eq!(mode(&p), 0o600);
    assert!(sidecar(&p, "-wal").exists(), "the child left its WAL");
    assert_eq!(mode(&sidecar(&p, "-wal")), 0o600);
    assert_eq!(mode(&sidecar(&p, "-shm")), 0o600);
}

#[cfg(unix)]
#[test]
fn opening_narrows_a_store_others_can_read() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("s.sqlite");
    drop(create(&p, &NOTES, |_| Ok(())).expect("create"));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let c = open(&p, &NOTES).expect("open");
    assert_eq!(mode(&p), 0o600);
    assert_eq!(mode(&sidecar(&p, "-shm")), 0o600);
    drop(c);
}

#[test]
fn a_failed_creation_leaves_no_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("s.sqlite");
    let e = create(&p, &NOTES, |tx| {
        tx.execute("INSERT INTO no_such_table VALUES (1)", [])
            .map(|_| ())
    })
    .expect_err("init fails");
    assert!(matches!(e, FileError::Sqlite { .. }), "{e}");
    assert!(!p.exists() && !sidecar(&p, "-wal").exists() && !sidecar(&p, "-shm").exists());
}
