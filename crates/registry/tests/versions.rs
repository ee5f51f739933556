//! The registry file: schema versions (a registry made before versions, with
//! and without a query index, migrates whole), newer, empty and foreign
//! files refused untouched, busy connections, modes, and notifications too
//! long to be logged.

mod common;
use accord_registry::notification::{parse_file_located, MAX_ENTRY_BYTES};
use accord_registry::query::{Filter, IndexRow, Order, QueryIndex};
use accord_registry::store::STORE_FILE;
use accord_registry::{Event, InputError, Meta, Store, StoreError};
use accord_sqlite::{id, FileError, Foreign};
use accord_treaty::FacilityKind;
use common::*;
use rusqlite::Connection;
use std::path::Path;

/// The registry's tables as the release before schema versions wrote them,
/// verbatim (`crates/registry/src/store.rs`, `SCHEMA`).
const PRE_VERSION_REGISTRY_SQL: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    number INTEGER PRIMARY KEY,
    date   TEXT NOT NULL,
    sent   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    body   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facilities (
    id   TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    date TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS items (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    item_type        TEXT NOT NULL,
    status           TEXT NOT NULL,
    facility         TEXT,
    in_transit_from  TEXT,
    launcher         TEXT,
    reentry_vehicles INTEGER NOT NULL
);
";

/// The query index's tables as that release's workbench added them
/// (`crates/registry/src/query.rs`), on first opening the index.
const PRE_VERSION_INDEX_SQL: &str = "
CREATE TABLE IF NOT EXISTS notification_index (
    log_index  INTEGER PRIMARY KEY,
    number     INTEGER,
    kind       TEXT NOT NULL,
    date       TEXT NOT NULL,
    sent       TEXT,
    deadline   TEXT,
    facility   TEXT,
    item       TEXT,
    other_item TEXT
);
CREATE INDEX IF NOT EXISTS notification_index_kind ON notification_index (kind, date);
CREATE INDEX IF NOT EXISTS notification_index_date ON notification_index (date);
CREATE INDEX IF NOT EXISTS notification_index_facility ON notification_index (facility, date);
CREATE INDEX IF NOT EXISTS notification_index_item ON notification_index (item);
CREATE INDEX IF NOT EXISTS notification_index_other ON notification_index (other_item);
CREATE INDEX IF NOT EXISTS notification_index_number ON notification_index (number);
CREATE TABLE IF NOT EXISTS notification_index_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

fn meta() -> Meta {
    Meta {
        party: "US".into(),
        treaty: "new-start-2021".into(),
        synthetic: false,
        provenance: "test".into(),
    }
}

fn batch(b: &B) -> Vec<(String, accord_registry::Notification)> {
    b.out
        .iter()
        .map(|n| (format!("test #{}", n.number), n.clone()))
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

fn schema_sql(path: &Path) -> Vec<String> {
    let c = Connection::open(path).expect("raw");
    let mut st = c
        .prepare("SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name")
        .expect("master");
    let rows = st
        .query_map([], |r| {
            Ok(format!(
                "{} {} {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?
            ))
        })
        .expect("rows");
    rows.collect::<Result<_, _>>().expect("collect")
}

/// A registry of the small US force in `dir`, in a file made by the
/// pre-version SQL (the rows copied from one made now); with `index`, also
/// the query index an older workbench would have added, with one row.
fn pre_version_registry(root: &Path, index: bool) -> (std::path::PathBuf, Store) {
    let donor_dir = root.join("donor");
    let mut donor = Store::create(&donor_dir, meta()).expect("donor");
    donor
        .append(&treaty(), &batch(&B::small_us()))
        .expect("append");
    let dir = root.join("old");
    std::fs::create_dir(&dir).expect("dir");
    let c = Connection::open(dir.join(STORE_FILE)).expect("raw");
    c.execute_batch(PRE_VERSION_REGISTRY_SQL)
        .expect("old schema");
    if index {
        c.execute_batch(PRE_VERSION_INDEX_SQL).expect("old index");
        c.execute_batch(
            "INSERT INTO notification_index (log_index, number, kind, date, sent, deadline, facility, item)
             VALUES (0, 1, 'facility_declared', '2020-09-01', '2020-09-01', '2020-09-06', 'MAL', NULL);
             INSERT INTO notification_index_meta (key, value) VALUES ('origin', 'accord/new-start-2021/US');",
        )
        .expect("index rows");
    }
    c.execute(
        "ATTACH DATABASE ?1 AS donor",
        [donor_dir.join(STORE_FILE).display().to_string()],
    )
    .expect("attach");
    c.execute_batch(
        "INSERT INTO meta SELECT * FROM donor.meta;
         INSERT INTO notifications SELECT * FROM donor.notifications;
         INSERT INTO facilities SELECT * FROM donor.facilities;
         INSERT INTO items SELECT * FROM donor.items;
         DETACH DATABASE donor;",
    )
    .expect("copy");
    drop(c);
    assert_eq!(numbers(&dir.join(STORE_FILE)), (0, 0));
    (dir, donor)
}

#[test]
fn a_registry_made_before_schema_versions_opens_migrated_and_whole() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir, donor) = pre_version_registry(tmp.path(), false);
    let mut s = Store::open(&dir).expect("opens");
    let file = dir.join(STORE_FILE);
    assert_eq!(numbers(&file), (id::REGISTRY, 2));
    assert_eq!(s.meta(), &meta());
    assert_eq!(
        s.notifications().expect("n"),
        donor.notifications().expect("n")
    );
    assert_eq!(s.items().expect("items"), donor.items().expect("items"));
    assert!(
        s.rebuild(&treaty()).expect("rebuild"),
        "the state is the fold"
    );
    // The migration made the query index (version 2): it is usable at once.
    let q = QueryIndex::open(&dir).expect("index");
    assert_eq!(q.size().expect("size"), 0);
    // And a migrated registry has exactly a new one's tables.
    drop((s, q));
    assert_eq!(
        schema_sql(&file),
        schema_sql(&tmp.path().join("donor").join(STORE_FILE))
    );
    // It goes on as a registry.
    let mut s = Store::open(&dir).expect("reopen");
    let mut more = B::new("US", d(2020, 10, 1));
    more.next = 100;
    more.facility("NEW", FacilityKind::Storage);
    s.append(&treaty(), &batch(&more)).expect("append");
    assert_eq!(numbers(&file), (id::REGISTRY, 2));
}

#[test]
fn a_query_index_an_older_workbench_built_survives_the_migration() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir, _) = pre_version_registry(tmp.path(), true);
    // The workbench opens the index first (the node opens its registry
    // before, but either order migrates).
    let mut q = QueryIndex::open(&dir).expect("index");
    assert_eq!(numbers(&dir.join(STORE_FILE)), (id::REGISTRY, 2));
    assert_eq!(
        q.origin().expect("origin").as_deref(),
        Some("accord/new-start-2021/US")
    );
    assert_eq!(q.prepare("accord/new-start-2021/US", 1).expect("prep"), 1);
    let page = q
        .query(&Filter::default(), 0, 10, Order::Oldest)
        .expect("q");
    assert_eq!(page.total, 1);
    assert_eq!(page.rows[0].facility.as_deref(), Some("MAL"));
    let n = Store::open(&dir)
        .expect("store")
        .notifications()
        .expect("n");
    q.append(&mut [IndexRow::of_notification(1, &n[1], d(2020, 9, 6))])
        .expect("continues");
    assert_eq!(q.size().expect("size"), 2);
}

#[test]
fn a_registry_from_a_newer_accord_is_refused_and_left_unchanged() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut s = Store::create(tmp.path(), meta()).expect("create");
    s.append(&treaty(), &batch(&B::small_us())).expect("append");
    drop(s);
    let file = tmp.path().join(STORE_FILE);
    Connection::open(&file)
        .expect("raw")
        .execute_batch("PRAGMA user_version = 7")
        .expect("bump");
    let before = std::fs::read(&file).expect("read");
    let errors = [
        Store::open(tmp.path()).map(|_| ()).expect_err("newer"),
        Store::open_or_create(tmp.path(), meta())
            .map(|_| ())
            .expect_err("newer"),
        QueryIndex::open(tmp.path()).map(|_| ()).expect_err("newer"),
    ];
    for e in errors {
        assert!(
            matches!(
                e,
                StoreError::File(FileError::Newer {
                    found: 7,
                    known: 2,
                    ..
                })
            ),
            "{e}"
        );
        let text = e.to_string();
        assert!(
            text.contains(&file.display().to_string())
                && text.contains("made by a newer accord: schema 7, this binary knows up to 2"),
            "{text}"
        );
    }
    assert_eq!(std::fs::read(&file).expect("read"), before);
    assert_eq!(numbers(&file), (id::REGISTRY, 7));
}

#[test]
fn an_empty_registry_file_is_refused_and_stays_empty() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join(STORE_FILE);
    std::fs::write(&file, b"").expect("touch");
    let errors = [
        Store::open(tmp.path()).map(|_| ()).expect_err("empty"),
        Store::open_or_create(tmp.path(), meta())
            .map(|_| ())
            .expect_err("empty"),
        QueryIndex::open(tmp.path()).map(|_| ()).expect_err("empty"),
    ];
    for e in errors {
        assert!(
            matches!(e, StoreError::File(FileError::Empty { .. })),
            "{e}"
        );
        let text = e.to_string();
        assert!(
            text.contains("registry.sqlite: empty file (0 bytes), not an accord registry"),
            "{text}"
        );
        assert!(!text.contains("corrupt"), "{text}");
    }
    assert_eq!(std::fs::metadata(&file).expect("stat").len(), 0);
    assert!(!tmp.path().join("registry.sqlite-wal").exists());
}

#[test]
fn a_foreign_database_garbage_or_a_log_is_not_a_registry_and_is_left_alone() {
    let tmp = tempfile::tempdir().expect("tmp");
    type Make = Box<dyn Fn(&Path)>;
    let cases: [(&str, Make); 3] = [
        (
            "other",
            Box::new(|p: &Path| {
                Connection::open(p)
                    .expect("raw")
                    .execute_batch("CREATE TABLE cities (name TEXT);")
                    .expect("other");
            }),
        ),
        (
            "garbage",
            Box::new(|p: &Path| std::fs::write(p, [0x42u8; 4096]).expect("write")),
        ),
        (
            // What a log file looks like to the registry.
            "log",
            Box::new(|p: &Path| {
                Connection::open(p)
                    .expect("raw")
                    .execute_batch(&format!(
                        "PRAGMA application_id = {}; PRAGMA user_version = 1; CREATE TABLE entries (idx);",
                        id::LOG
                    ))
                    .expect("log");
            }),
        ),
    ];
    for (name, make) in cases {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).expect("dir");
        let file = dir.join(STORE_FILE);
        make(&file);
        let before = std::fs::read(&file).expect("read");
        let e = Store::open(&dir).map(|_| ()).expect_err(name);
        assert!(matches!(e, StoreError::File(_)), "{name}: {e}");
        assert!(e.to_string().contains("not an accord registry"), "{e}");
        if name == "log" {
            assert!(
                matches!(
                    e,
                    StoreError::File(FileError::Foreign {
                        found: Foreign::OtherStore("an accord log"),
                        ..
                    })
                ),
                "{e}"
            );
        }
        assert_eq!(std::fs::read(&file).expect("read"), before, "{name}");
    }
}

#[test]
fn an_append_waits_for_another_processs_write_instead_of_failing_busy() {
    let tmp = tempfile::tempdir().expect("tmp");
    let holder = Store::create(tmp.path(), meta()).expect("create");
    let mut writer = Store::open(tmp.path()).expect("second connection");
    holder.execute_raw("BEGIN IMMEDIATE").expect("lock");
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        holder.execute_raw("COMMIT").expect("commit");
        holder
    });
    let b = B::small_us();
    let started = std::time::Instant::now();
    assert_eq!(
        writer
            .append(&treaty(), &batch(&b))
            .expect("waits, then writes"),
        b.out.len()
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(250));
    drop(t.join().expect("thread"));
    assert_eq!(
        Store::open(tmp.path()).expect("reader").len().expect("len"),
        b.out.len() as u64
    );
}

#[cfg(unix)]
#[test]
fn a_new_registry_is_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data/registry");
    let mut s = Store::create(&dir, meta()).expect("create");
    s.append(&treaty(), &batch(&B::small_us())).expect("append");
    assert_eq!(mode(&tmp.path().join("data")), 0o700);
    assert_eq!(mode(&dir), 0o700);
    for f in [
        "registry.sqlite",
        "registry.sqlite-wal",
        "registry.sqlite-shm",
    ] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
}

/// A facility declaration whose canonical JSON is exactly `len` bytes.
fn declaration_of_length(len: usize) -> accord_registry::Notification {
    let mut b = B::new("US", d(2020, 9, 1));
    b.facility("BIG", FacilityKind::Storage);
    let mut n = b.out.remove(0);
    let base = n.entry_len() - "BIG".len();
    n.event = Event::FacilityDeclared {
        facility: "BIG".into(),
        facility_kind: FacilityKind::Storage,
        name: "n".repeat(len - base),
    };
    assert_eq!(n.entry_len(), len);
    n
}

#[test]
fn a_notification_too_long_to_be_logged_is_refused_naming_the_line_and_the_size() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut s = Store::create(tmp.path(), meta()).expect("create");
    // One that fits, then one a byte over, as a file of JSON Lines.
    let fits = declaration_of_length(MAX_ENTRY_BYTES);
    let mut over = declaration_of_length(MAX_ENTRY_BYTES + 1);
    over.number = 2;
    let text = format!("{}\n{}\n", fits.to_json(), over.to_json());
    let parsed = parse_file_located("n.jsonl", &text).expect("parses");
    let e = s.append(&treaty(), &parsed).expect_err("too long");
    assert!(
        matches!(
            &e,
            StoreError::Input(InputError::TooLarge { at, bytes: 65_536 }) if at == "n.jsonl:2"
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "n.jsonl:2: the notification is 65536 bytes as a log entry (RFC 8785 canonical JSON); a log entry is at most 65535 bytes"
    );
    assert_eq!(s.len().expect("len"), 0, "all or nothing");
    s.append(&treaty(), &parsed[..1])
        .expect("the one that fits is accepted");
    // 2 MB, as in the report: refused before anything else is checked.
    let mut huge = declaration_of_length(2_000_000);
    huge.number = 3;
    let e = s
        .append(&treaty(), &[("big.json:1".into(), huge)])
        .expect_err("2 MB");
    assert!(
        e.to_string()
            .starts_with("big.json:1: the notification is 2000000 bytes"),
        "{e}"
    );
    assert_eq!(s.len().expect("len"), 1);
}

#[test]
fn entry_len_counts_numbers_as_rfc_8785_prints_them() {
    let mut b = B::new("US", d(2020, 9, 1));
    b.facility("F", FacilityKind::Storage);
    let mut n = b.out.remove(0);
    // Exact up to 2^53.
    n.number = 1 << 53;
    assert_eq!(n.entry_len(), n.to_json().len());
    // 19 nines round to the double 10^19: twenty digits.
    n.number = 9_999_999_999_999_999_999;
    assert_eq!(n.entry_len(), n.to_json().len() + 1);
    // u64::MAX prints as 18446744073709552000: as many digits.
    n.number = u64::MAX;
    assert_eq!(n.entry_len(), n.to_json().len());
}
