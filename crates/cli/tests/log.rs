//! The log and witness from the command line, and durability under kill -9.

mod common;
use common::*;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const V: &str = "keys/accord_new-start_US.vkey";

fn setup(dir: &Path, n: usize) {
    assert_eq!(
        accord(
            dir,
            &["keygen", "--name", "accord/new-start/US", "--out", "keys"]
        )
        .status
        .code(),
        Some(0)
    );
    let o = accord(
        dir,
        &[
            "log",
            "init",
            "--store",
            "us.log",
            "--origin",
            "accord/new-start/US",
            "--key",
            "keys/accord_new-start_US.key",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let lines: String = (0..n)
        .map(|i| format!("{{\"n\": {i}, \"party\": \"US\"}}\n"))
        .collect();
    let o = accord_stdin(dir, &["log", "append", "--store", "us.log"], &lines);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

fn write(dir: &Path, name: &str, o: &Output) {
    std::fs::write(dir.join(name), &o.stdout).expect("write");
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_can_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = accord(tmp.path(), &["keygen", "--name", "w1", "--out", "k"]);
    assert_eq!(o.status.code(), Some(0));
    let key = std::fs::read_to_string(tmp.path().join("k/w1.key")).expect("key");
    assert!(
        !text(&o).contains(key.trim()),
        "the private key must not be printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tmp.path().join("k/w1.key"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never overwrites a key.
    assert_eq!(
        accord(tmp.path(), &["keygen", "--name", "w1", "--out", "k"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn append_prints_indexes_and_canonicalises() {
    let tmp = tempfile::tempdir().expect("tmp");
    setup(tmp.path(), 3);
    let o = accord_stdin(
        tmp.path(),
        &["log", "append", "--store", "us.log"],
        "{\"b\": 2, \"a\": 1.0}\n",
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "3\n");
    let e = accord(
        tmp.path(),
        &["log", "entry", "--store", "us.log", "--index", "3"],
    );
    assert_eq!(e.stdout, b"{\"a\":1,\"b\":2}");
}

#[test]
fn bad_entries_append_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    setup(tmp.path(), 3);
    for (input, want) in [
        ("{\"ok\": 1}\nnot json\n", "stdin:2: not JSON"),
        ("[1, 2]\n", "stdin:1: an entry must be a JSON object"),
        (
            &format!("{{\"x\": \"{}\"}}\n", "a".repeat(70_000)),
            "at most 65535 bytes",
        ),
    ] {
        let o = accord_stdin(tmp.path(), &["log", "append", "--store", "us.log"], input);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(want), "want {want}: {}", text(&o));
    }
    let p = accord(
        tmp.path(),
        &[
            "log",
            "prove",
            "inclusion",
            "--store",
            "us.log",
            "--index",
            "2",
        ],
    );
    assert!(
        String::from_utf8_lossy(&p.stdout).contains("\"tree_size\": 3"),
        "{}",
        text(&p)
    );
}

#[test]
fn proofs_verify_and_tampered_proofs_fail() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    setup(d, 20);
    write(
        d,
        "cp20",
        &accord(d, &["log", "checkpoint", "--store", "us.log"]),
    );
    write(
        d,
        "p.json",
        &accord(
            d,
            &[
                "log",
                "prove",
                "inclusion",
                "--store",
                "us.log",
                "--index",
                "7",
            ],
        ),
    );
    write(
        d,
        "e7",
        &accord(d, &["log", "entry", "--store", "us.log", "--index", "7"]),
    );
    let ok = accord(
        d,
        &[
            "log",
            "verify",
            "inclusion",
            "--vkey",
            V,
            "--checkpoint",
            "cp20",
            "--proof",
            "p.json",
            "--entry",
            "e7",
        ],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let proof: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("p.json")).expect("read")).expect("json");
    let mut truncated = proof.clone();
    truncated["hashes"].as_array_mut().expect("array").pop();
    let mut padded = proof.clone();
    padded["hashes"]
        .as_array_mut()
        .expect("array")
        .push(proof["hashes"][0].clone());
    let mut wrong_index = proof.clone();
    wrong_index["leaf_index"] = serde_json::json!(8);
    for (name, bad) in [
        ("truncated", truncated),
        ("padded", padded),
        ("wrong-index", wrong_index),
    ] {
        std::fs::write(d.join(name), bad.to_string()).expect("write");
        let o = accord(
            d,
            &[
                "log",
                "verify",
                "inclusion",
                "--vkey",
                V,
                "--checkpoint",
                "cp20",
                "--proof",
                name,
                "--entry",
                "e7",
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
    }
    // Signed by a wrong key: a failed verification.
    assert_eq!(
        accord(
            d,
            &["keygen", "--name", "accord/new-start/US", "--out", "other"]
        )
        .status
        .code(),
        Some(0)
    );
    let o = accord(
        d,
        &[
            "log",
            "verify",
            "inclusion",
            "--vkey",
            "other/accord_new-start_US.vkey",
            "--checkpoint",
            "cp20",
            "--proof",
            "p.json",
            "--entry",
            "e7",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // A malformed checkpoint is bad input.
    std::fs::write(d.join("bad-cp"), "accord/new-start/US\n20\n").expect("write");
    let o = accord(
        d,
        &[
            "log",
            "verify",
            "inclusion",
            "--vkey",
            V,
            "--checkpoint",
            "bad-cp",
            "--proof",
            "p.json",
            "--entry",
            "e7",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // Impossible sizes are bad input.
    assert_eq!(
        accord(
            d,
            &[
                "log",
                "prove",
                "inclusion",
                "--store",
                "us.log",
                "--index",
                "20"
            ]
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        accord(
            d,
            &[
                "log",
                "prove",
                "consistency",
                "--store",
                "us.log",
                "--old",
                "21"
            ]
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        accord(
            d,
            &[
                "log",
                "prove",
                "consistency",
                "--store",
                "us.log",
                "--old",
                "0"
            ]
        )
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn witness_cosigns_then_refuses_a_split_view_with_checkable_evidence() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    setup(d, 10);
    write(
        d,
        "cp10",
        &accord(d, &["log", "checkpoint", "--store", "us.log"]),
    );
    assert_eq!(
        accord(d, &["keygen", "--name", "witness.example/w1", "--out", "w"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        accord(
            d,
            &[
                "witness",
                "init",
                "--state",
                "w.sqlite",
                "--key",
                "w/witness.example_w1.key"
            ]
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        accord(
            d,
            &[
                "witness",
                "add-log",
                "--state",
                "w.sqlite",
                "--origin",
                "accord/new-start/US",
                "--vkey",
                V
            ]
        )
        .status
        .code(),
        Some(0)
    );
    let o = accord(
        d,
        &[
            "witness",
            "cosign",
            "--state",
            "w.sqlite",
            "--checkpoint",
            "cp10",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches('\u{2014}')
            .count(),
        2,
        "log signature and cosignature"
    );
    // A fork: the same key signs another history of 12 entries.
    let o = accord(
        d,
        &[
            "log",
            "init",
            "--store",
            "fork.log",
            "--origin",
            "accord/new-start/US",
            "--key",
            "keys/accord_new-start_US.key",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let lines: String = (0..12)
        .map(|i| {
            format!(
                "{{\"n\": {i}, \"party\": \"{}\"}}\n",
                if i == 4 { "XX" } else { "US" }
            )
        })
        .collect();
    accord_stdin(d, &["log", "append", "--store", "fork.log"], &lines);
    write(
        d,
        "fork12",
        &accord(d, &["log", "checkpoint", "--store", "fork.log"]),
    );
    write(
        d,
        "c.json",
        &accord(
            d,
            &[
                "log",
                "prove",
                "consistency",
                "--store",
                "fork.log",
                "--old",
                "10",
            ],
        ),
    );
    let o = accord(
        d,
        &[
            "witness",
            "cosign",
            "--state",
            "w.sqlite",
            "--checkpoint",
            "fork12",
            "--proof",
            "c.json",
            "--evidence",
            "ev.json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("split view"));
    let o = accord(
        d,
        &["witness", "evidence", "verify", "ev.json", "--vkey", V],
    );
    assert_eq!(o.status.code(), Some(1), "misbehaviour shown: {}", text(&o));
    let o = accord(d, &["log", "audit", "--store", "us.log", "--vkey", V]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// Kills `accord log append` with SIGKILL at random instants, 50 times: no
/// acknowledged entry is ever lost, and the store always audits clean.
#[test]
fn kill_9_loses_no_acknowledged_entry() {
    use accord_log::{audit, canonical_entry, LogStore, Verifier};
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    setup(d, 0);
    let vkey = Verifier::parse(&std::fs::read_to_string(d.join(V)).expect("vkey")).expect("parse");
    fn entry(i: u64) -> String {
        format!("{{\"i\":{i},\"pad\":\"{}\"}}", "x".repeat(240))
    }
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut total_acked = 0u64;
    for round in 0..50 {
        let start = LogStore::open(&d.join("us.log")).expect("open").size();
        let batch = 1 + rand() % 40;
        let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .current_dir(d)
            .args([
                "log",
                "append",
                "--store",
                "us.log",
                "--batch",
                &batch.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || {
            for k in 0..100_000u64 {
                if writeln!(stdin, "{}", entry(start + k)).is_err() {
                    break;
                }
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(l) = line else { break };
                let Ok(i) = l.trim().parse::<u64>() else {
                    break;
                };
                if tx.send(i).is_err() {
                    break;
                }
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(5 + rand() % 60));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let _ = writer.join();
        let _ = reader.join();
        let acked: Vec<u64> = rx.try_iter().collect();
        let log = LogStore::open(&d.join("us.log")).expect("reopen");
        if let Some(&last) = acked.last() {
            assert!(
                log.size() > last,
                "round {round}: acknowledged {last} but the log has {}",
                log.size()
            );
        }
        for &i in acked.iter().rev().take(3) {
            assert_eq!(
                log.entry(i).expect("entry"),
                canonical_entry(&entry(i)).expect("json"),
                "round {round}, entry {i}"
            );
        }
        let r = audit(&log, &vkey).expect("audit");
        assert!(r.is_clean(), "round {round}: {:?}", r.problems);
        total_acked += acked.len() as u64;
    }
    assert!(
        total_acked > 0,
        "the appender acknowledged nothing in 50 rounds"
    );
}

/// An error names its cause once, not once per layer that quotes it.
#[test]
fn an_error_says_its_cause_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("bad.vkey"), "not a key\n").expect("write");
    std::fs::write(tmp.path().join("cp.txt"), "x\n").expect("write");
    std::fs::write(tmp.path().join("p.json"), "{}").expect("write");
    let o = common::accord(
        tmp.path(),
        &[
            "log",
            "verify",
            "inclusion",
            "--vkey",
            "bad.vkey",
            "--checkpoint",
            "cp.txt",
            "--proof",
            "p.json",
            "--leaf-hash",
            "AAAA",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.vkey"), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("accord: error:"))
        .expect("error line");
    let words: Vec<&str> = line.split(": ").collect();
    let mut seen = std::collections::BTreeSet::new();
    for w in &words {
        assert!(seen.insert(*w), "`{w}` said twice: {line}");
    }
}
