//! The stores through the binary: empty, foreign and newer files refused
//! with exit 2 and left as they were; new stores owner-only under any
//! umask; notifications too long to be logged refused at `registry add`.

mod common;
use common::{accord, accord_stdin, text};
use std::path::{Path, PathBuf};

const ORIGIN: &str = "accord/new-start-2021/US";

/// Everything at and beside a store file, to show a command changed nothing.
fn snapshot(file: &Path) -> (Vec<u8>, bool, bool) {
    let side = |s: &str| {
        let mut p = file.as_os_str().to_owned();
        p.push(s);
        PathBuf::from(p).exists()
    };
    (
        std::fs::read(file).expect("read"),
        side("-wal"),
        side("-shm"),
    )
}

/// A key pair in `d/keys` and a log and a registry made by the binary.
fn setup(d: &Path) -> (PathBuf, PathBuf) {
    let o = accord(d, &["keygen", "--name", ORIGIN, "--out", "keys"]);
    assert!(o.status.success(), "{}", text(&o));
    let key = d.join("keys/accord_new-start-2021_US.key");
    let vkey = d.join("keys/accord_new-start-2021_US.vkey");
    (key, vkey)
}

/// What a bad store file can be, and the words its refusal must contain.
fn bad_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let foreign = {
        let t = tempfile::tempdir().expect("tmp");
        let p = t.path().join("x.sqlite");
        rusqlite::Connection::open(&p)
            .expect("raw")
            .execute_batch("CREATE TABLE photos (path TEXT); INSERT INTO photos VALUES ('a.jpg');")
            .expect("foreign");
        std::fs::read(&p).expect("read")
    };
    vec![
        ("empty", vec![], "empty file (0 bytes)"),
        (
            "garbage",
            b"PK\x03\x04 this is a zip file, honestly\n".repeat(50),
            "not an SQLite database",
        ),
        (
            "foreign",
            foreign,
            "an SQLite database without its tables (it has photos)",
        ),
    ]
}

/// Runs a command on a store that is `bytes`, and checks: exit 2, the
/// file named with `words`, nothing on disk changed.
fn refused(d: &Path, file: &Path, args: &[&str], stdin: Option<&str>, words: &str) {
    let before = snapshot(file);
    let o = match stdin {
        Some(input) => accord_stdin(d, args, input),
        None => accord(d, args),
    };
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {out}");
    assert!(
        out.contains(&file.display().to_string())
            || out.contains(file.file_name().and_then(|f| f.to_str()).unwrap_or("?")),
        "{args:?} names the file: {out}"
    );
    assert!(out.contains(words), "{args:?}: {out}");
    assert!(out.contains("nothing was changed"), "{args:?}: {out}");
    assert!(!out.contains("corrupt"), "{args:?}: {out}");
    assert_eq!(
        snapshot(file),
        before,
        "{args:?} changed {}",
        file.display()
    );
}

#[test]
fn an_empty_or_foreign_registry_file_is_refused_by_check_and_registry_add_and_show() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    std::fs::write(
        d.join("n.jsonl"),
        r#"{"party":"US","number":1,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"facility_declared","facility":"F","facility_kind":"storage","name":"F"}}
"#,
    )
    .expect("notifications");
    for (name, bytes, words) in bad_files() {
        let reg = d.join(format!("reg-{name}"));
        std::fs::create_dir(&reg).expect("dir");
        let file = reg.join("registry.sqlite");
        std::fs::write(&file, &bytes).expect("write");
        let r = reg.to_str().expect("utf-8");
        refused(d, &file, &["check", r, "--date", "2021-06-01"], None, words);
        refused(d, &file, &["registry", "add", r, "n.jsonl"], None, words);
        refused(d, &file, &["registry", "show", r], None, words);
        refused(d, &file, &["registry", "show", r, "--json"], None, words);
    }
}

#[test]
fn an_empty_or_foreign_log_file_is_refused_by_log_audit_append_and_checkpoint() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let (key, vkey) = setup(d);
    let (key, vkey) = (key.to_str().expect("utf-8"), vkey.to_str().expect("utf-8"));
    for (name, bytes, words) in bad_files() {
        let file = d.join(format!("{name}.log"));
        std::fs::write(&file, &bytes).expect("write");
        let s = file.to_str().expect("utf-8");
        refused(
            d,
            &file,
            &["log", "audit", "--store", s, "--vkey", vkey],
            None,
            words,
        );
        refused(
            d,
            &file,
            &["log", "append", "--store", s, "--key", key],
            Some("{\"a\":1}\n"),
            words,
        );
        refused(
            d,
            &file,
            &["log", "checkpoint", "--store", s, "--key", key],
            None,
            words,
        );
    }
}

#[test]
fn a_registry_from_a_newer_accord_is_refused_naming_both_versions() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let o = accord(d, &["registry", "init", "reg", "--party", "US"]);
    assert!(o.status.success(), "{}", text(&o));
    let file = d.join("reg/registry.sqlite");
    rusqlite::Connection::open(&file)
        .expect("raw")
        .execute_batch("PRAGMA user_version = 7")
        .expect("bump");
    refused(
        d,
        &file,
        &["registry", "show", "reg"],
        None,
        "made by a newer accord: schema 7, this binary knows up to 2",
    );
    refused(
        d,
        &file,
        &["check", "reg", "--date", "2021-06-01"],
        None,
        "made by a newer accord: schema 7",
    );
}

#[test]
fn registry_add_refuses_a_notification_that_could_never_be_logged() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let o = accord(d, &["registry", "init", "reg", "--party", "US"]);
    assert!(o.status.success(), "{}", text(&o));
    // 2 MB, as in the report; the line before it is fine.
    let ok = r#"{"party":"US","number":1,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"facility_declared","facility":"F","facility_kind":"storage","name":"F"}}"#;
    let big = format!(
        r#"{{"party":"US","number":2,"date":"2021-03-01","sent":"2021-03-01","event":{{"kind":"facility_declared","facility":"G","facility_kind":"storage","name":"{}"}}}}"#,
        "x".repeat(2_000_000)
    );
    std::fs::write(d.join("big.jsonl"), format!("{ok}\n{big}\n")).expect("write");
    let o = accord(d, &["registry", "add", "reg", "big.jsonl"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    let size = big.len();
    assert!(
        out.contains(&format!(
            "big.jsonl:2: the notification is {size} bytes as a log entry (RFC 8785 canonical JSON); a log entry is at most 65535 bytes"
        )),
        "{out}"
    );
    assert!(
        out.len() < 2_000,
        "the notification is not echoed: {} bytes",
        out.len()
    );
    let o = accord(d, &["registry", "show", "reg", "--json"]);
    assert_eq!(common::json(&o)["notifications"], 0, "all or nothing");
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `accord ARGS` under `umask 022` (the usual default: files 0644,
/// directories 0755 unless the program says otherwise).
#[cfg(unix)]
fn accord_umask_022(d: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new("sh")
        .current_dir(d)
        .arg("-c")
        .arg("umask 022; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .output()
        .expect("runs")
}

#[cfg(unix)]
#[test]
fn stores_made_under_umask_022_are_0600_in_0700_directories() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let (key, _) = setup(d);
    let key = key.to_str().expect("utf-8");
    let run = |args: &[&str]| {
        let o = accord_umask_022(d, args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    };
    run(&["registry", "init", "data/registry", "--party", "US"]);
    run(&[
        "log",
        "init",
        "--store",
        "logs/us/log.sqlite",
        "--origin",
        ORIGIN,
        "--key",
        key,
    ]);
    run(&[
        "witness",
        "init",
        "--state",
        "w/witness.sqlite",
        "--key",
        key,
    ]);
    let o = {
        let mut c = std::process::Command::new("sh");
        c.current_dir(d)
            .arg("-c")
            .arg("umask 022; echo '{\"a\":1}' | exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_accord"))
            .args(["log", "append", "--store", "logs/us/log.sqlite"]);
        c.output().expect("append")
    };
    assert!(o.status.success(), "{}", text(&o));
    for dir in ["data", "data/registry", "logs", "logs/us", "w"] {
        assert_eq!(mode(&d.join(dir)), 0o700, "{dir}");
    }
    for file in [
        "data/registry/registry.sqlite",
        "logs/us/log.sqlite",
        "w/witness.sqlite",
    ] {
        assert_eq!(mode(&d.join(file)), 0o600, "{file}");
    }
    // A store made by an older accord (0644) is narrowed when next opened.
    use std::os::unix::fs::PermissionsExt as _;
    let log = d.join("logs/us/log.sqlite");
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let o = accord_umask_022(d, &["log", "checkpoint", "--store", "logs/us/log.sqlite"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(mode(&log), 0o600);
}
