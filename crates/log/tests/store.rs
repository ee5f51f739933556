//! The durable log: proofs from the store, checkpoints, the audit, and attacks.

use accord_log::merkle::{self, MemoryTree};
use accord_log::note::{open_checkpoint, Signer};
use accord_log::witness::{Evidence, Witness, WitnessError};
use accord_log::{audit, canonical_entry, LogError, LogStore, Problem};

fn entries(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            canonical_entry(&format!(
                r#"{{"number":{i},"party":"US","event":{{"kind":"x"}}}}"#
            ))
            .expect("json")
        })
        .collect()
}

fn new_log(dir: &tempfile::TempDir, n: usize) -> (LogStore, Signer) {
    let signer = Signer::generate("accord/new-start/US").expect("key");
    let mut log = LogStore::init(
        &dir.path().join("log.sqlite"),
        "accord/new-start/US",
        &signer.verifier(),
    )
    .expect("init");
    if n > 0 {
        log.append(&entries(n)).expect("append");
    }
    (log, signer)
}

#[test]
fn canonical_entries_are_rfc8785() {
    assert_eq!(
        canonical_entry(r#"{"b": 1, "a": [1.0, "x"], "c": {"z": null, "y": 1e2}}"#).expect("ok"),
        br#"{"a":[1,"x"],"b":1,"c":{"y":100,"z":null}}"#
    );
    assert!(canonical_entry("[1]").is_err());
    assert!(canonical_entry("nope").is_err());
    assert!(canonical_entry(&format!(r#"{{"x":"{}"}}"#, "a".repeat(70_000))).is_err());
}

#[test]
fn store_proofs_equal_the_memory_tree() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, _) = new_log(&dir, 0);
    let mut mem = MemoryTree::new();
    let all = entries(300);
    for chunk in all.chunks(37) {
        let r = log.append(chunk).expect("append");
        assert_eq!(r.start, mem.size());
        for e in chunk {
            mem.append(e);
        }
    }
    assert_eq!(log.size(), 300);
    assert_eq!(log.root(300).expect("root"), mem.root());
    for (i, n) in [(0, 1), (5, 17), (299, 300), (128, 256), (77, 200)] {
        let p = log.inclusion_proof(i, n).expect("proof");
        assert_eq!(p, merkle::inclusion_proof(&mem, i, n).expect("mem"));
        merkle::verify_inclusion(
            i,
            n,
            &merkle::leaf_hash(&all[i as usize]),
            &p,
            &log.root(n).expect("root"),
        )
        .expect("verifies");
    }
    let c = log.consistency_proof(100, 300).expect("proof");
    merkle::verify_consistency(
        100,
        300,
        &log.root(100).expect("r"),
        &log.root(300).expect("r"),
        &c,
    )
    .expect("verifies");
    assert_eq!(log.entry(42).expect("entry"), all[42]);
    assert!(log.inclusion_proof(3, 301).is_err());
    assert!(log.entry(300).is_err());
}

#[test]
fn rejects_empty_or_oversized_entries_and_appends_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, _) = new_log(&dir, 3);
    let e = log
        .append(&[b"{}".to_vec(), vec![]])
        .expect_err("empty entry");
    assert!(matches!(e, LogError::BadEntry { index: 1, .. }));
    assert!(log.append(&[vec![b'x'; 65_536]]).is_err());
    assert_eq!(log.size(), 3);
    drop(log);
    assert_eq!(
        LogStore::open(&dir.path().join("log.sqlite"))
            .expect("open")
            .size(),
        3
    );
}

#[test]
fn checkpoints_sign_growth_and_repeat_the_latest() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, signer) = new_log(&dir, 10);
    let a = log.checkpoint(&signer).expect("sign");
    assert_eq!(
        log.checkpoint(&signer).expect("again"),
        a,
        "no growth, same note"
    );
    log.append(&entries(5)).expect("append");
    let b = log.checkpoint(&signer).expect("sign");
    let (ca, cb) = (
        open_checkpoint(&a, &signer.verifier(), &[])
            .expect("a")
            .into_checkpoint(),
        open_checkpoint(&b, &signer.verifier(), &[])
            .expect("b")
            .into_checkpoint(),
    );
    assert_eq!((ca.size, cb.size), (10, 15));
    let p = log.consistency_proof(10, 15).expect("proof");
    merkle::verify_consistency(10, 15, &ca.hash, &cb.hash, &p).expect("consistent");
    let other = Signer::generate("accord/new-start/US").expect("key");
    assert!(matches!(
        log.checkpoint(&other),
        Err(LogError::WrongKey { .. })
    ));
}

#[test]
fn refuses_to_sign_a_rewritten_tree() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, signer) = new_log(&dir, 8);
    log.checkpoint(&signer).expect("sign");
    // Rewrite the subtree over the 8 signed entries, then grow the log: the
    // new root would not extend the signed one, so the log will not sign it.
    log.tamper_node(merkle::postorder(3, 0), &[0u8; 32])
        .expect("tamper");
    log.append(&entries(2)).expect("append");
    assert!(matches!(
        log.checkpoint(&signer),
        Err(LogError::WouldEquivocate(_))
    ));
}

#[test]
fn audit_of_an_untouched_log_is_clean() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, signer) = new_log(&dir, 100);
    log.checkpoint(&signer).expect("sign");
    log.append(&entries(23)).expect("append");
    log.checkpoint(&signer).expect("sign");
    let r = audit(&log, &signer.verifier()).expect("audit");
    assert!(r.is_clean(), "{:?}", r.problems);
    assert_eq!(
        (r.entries, r.nodes, r.checkpoints),
        (123, merkle::node_count(123), 2)
    );
}

#[test]
fn audit_names_an_altered_entry() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, signer) = new_log(&dir, 50);
    log.checkpoint(&signer).expect("sign");
    log.execute_raw(
        "UPDATE entries SET data = CAST('{\"number\":17,\"party\":\"XX\"}' AS BLOB) WHERE idx = 17",
        &[],
    )
    .expect("tamper");
    let r = audit(&log, &signer.verifier()).expect("audit");
    // The entry, and the checkpoint signed over it, are named; the subtrees
    // above the entry are its consequences and are not listed again.
    assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
    assert_eq!(r.problems[0], Problem::EntryAltered { index: 17 });
    assert!(matches!(
        r.problems[1],
        Problem::CheckpointRoot { size: 50, .. }
    ));
}

#[test]
fn audit_names_a_rewritten_history_at_the_checkpoint() {
    // The attacker alters entry 5 and recomputes every node: the tree is
    // self-consistent, but the signed checkpoint no longer matches.
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, signer) = new_log(&dir, 20);
    log.checkpoint(&signer).expect("sign");
    let mut all = entries(20);
    all[5] = canonical_entry(r#"{"number":5,"party":"US","event":{"kind":"y"}}"#).expect("json");
    let mut mem = MemoryTree::new();
    for e in &all {
        mem.append(e);
    }
    log.execute_raw("UPDATE entries SET data = ?1 WHERE idx = 5", &[&all[5]])
        .expect("tamper");
    for id in 0..merkle::node_count(20) {
        let (l, i) = (0..32u32)
            .flat_map(|l| (0..(20u64 >> l)).map(move |i| (l, i)))
            .find(|&(l, i)| merkle::postorder(l, i) == id)
            .expect("node");
        let h = merkle::NodeSource::node(&mem, l, i).expect("node");
        log.tamper_node(id, &h).expect("tamper");
    }
    let r = audit(&log, &signer.verifier()).expect("audit");
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(matches!(
        r.problems[0],
        Problem::CheckpointRoot { size: 20, .. }
    ));
}

#[test]
fn audit_names_an_altered_node_and_a_forged_checkpoint() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, signer) = new_log(&dir, 16);
    log.checkpoint(&signer).expect("sign");
    log.tamper_node(merkle::postorder(2, 1), &[0u8; 32])
        .expect("tamper");
    let forger = Signer::generate("accord/new-start/US").expect("key");
    let fake = accord_log::Checkpoint {
        origin: "accord/new-start/US".into(),
        size: 16,
        hash: [0u8; 32],
        extensions: vec![],
    };
    log.execute_raw(
        "UPDATE checkpoints SET note = ?1 WHERE size = 16",
        &[&forger.sign(&fake.to_text()).expect("sign")],
    )
    .expect("tamper");
    let r = audit(&log, &signer.verifier()).expect("audit");
    assert!(
        r.problems
            .contains(&Problem::NodeAltered { level: 2, index: 1 }),
        "{:?}",
        r.problems
    );
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::CheckpointSignature { size: 16, .. })),
        "{:?}",
        r.problems
    );
}

#[test]
fn audit_notices_deleted_entries() {
    let dir = tempfile::tempdir().expect("tmp");
    let (log, signer) = new_log(&dir, 10);
    log.execute_raw("DELETE FROM entries WHERE idx = 4", &[])
        .expect("tamper");
    let r = audit(&log, &signer.verifier()).expect("audit");
    assert!(
        r.problems.contains(&Problem::EntryMissing { index: 4 }),
        "{:?}",
        r.problems
    );
}

#[test]
fn witness_cosigns_a_consistent_log() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, signer) = new_log(&dir, 10);
    let w = Witness::open(
        &dir.path().join("w.sqlite"),
        Signer::generate("witness.example/w1").expect("key"),
    )
    .expect("w");
    w.add_log(log.origin(), &signer.verifier()).expect("add");
    let a = log.checkpoint(&signer).expect("sign");
    w.add_checkpoint(&a, 0, &[], 1)
        .expect("first checkpoint, trusted on first use");
    log.append(&entries(7)).expect("append");
    let b = log.checkpoint(&signer).expect("sign");
    let line = w
        .add_checkpoint(&b, 10, &log.consistency_proof(10, 17).expect("p"), 2)
        .expect("cosigns");
    let mut note = accord_log::Note::parse(&b).expect("parse");
    note.add_line(line).expect("line");
    let v =
        open_checkpoint(&note.to_text(), &signer.verifier(), &[w.verifier()]).expect("verifies");
    assert_eq!(v.cosigned_by()[0].timestamp, Some(2));
    assert_eq!(
        w.latest(log.origin()).expect("state").map(|x| x.0),
        Some(17)
    );
}

#[test]
fn witness_refuses_unknown_logs_wrong_keys_and_stale_sizes() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, signer) = new_log(&dir, 4);
    let w = Witness::open(
        &dir.path().join("w.sqlite"),
        Signer::generate("w").expect("key"),
    )
    .expect("w");
    let a = log.checkpoint(&signer).expect("sign");
    assert_eq!(
        refusal(&w.add_checkpoint(&a, 0, &[], 1).expect_err("unknown")),
        "unknown_log"
    );
    w.add_log(
        log.origin(),
        &Signer::generate("accord/new-start/US")
            .expect("k")
            .verifier(),
    )
    .expect("add");
    assert_eq!(
        refusal(&w.add_checkpoint(&a, 0, &[], 1).expect_err("wrong key")),
        "bad_signature"
    );
    w.add_log(log.origin(), &signer.verifier()).expect("add");
    w.add_checkpoint(&a, 0, &[], 1).expect("ok");
    assert_eq!(
        refusal(&w.add_checkpoint(&a, 0, &[], 1).expect_err("stale")),
        "old_size_mismatch"
    );
    assert_eq!(
        refusal(
            &w.add_checkpoint("garbage", 4, &[], 1)
                .expect_err("malformed")
        ),
        "malformed"
    );
}

#[test]
fn detects_split_view() {
    // The log shows the witness one history, then signs another that forks
    // from it: same key, same origin, inconsistent trees.
    let dir = tempfile::tempdir().expect("tmp");
    let (mut honest, signer) = new_log(&dir, 8);
    let w = Witness::open(
        &dir.path().join("w.sqlite"),
        Signer::generate("witness.example/w1").expect("key"),
    )
    .expect("w");
    w.add_log(honest.origin(), &signer.verifier()).expect("add");
    let a = honest.checkpoint(&signer).expect("sign");
    w.add_checkpoint(&a, 0, &[], 1).expect("cosign");

    let fork_dir = tempfile::tempdir().expect("tmp");
    let mut fork = LogStore::init(
        &fork_dir.path().join("fork.sqlite"),
        honest.origin(),
        &signer.verifier(),
    )
    .expect("init");
    let mut other = entries(8);
    other[3] =
        canonical_entry(r#"{"number":3,"party":"US","event":{"kind":"rewritten"}}"#).expect("json");
    fork.append(&other).expect("append");
    fork.append(&entries(12)[8..]).expect("append");
    let b = fork.checkpoint(&signer).expect("sign");
    let proof = fork.consistency_proof(8, 12).expect("proof");
    let e = w.add_checkpoint(&b, 8, &proof, 2).expect_err("must refuse");
    assert_eq!(refusal(&e), "inconsistent_proof");
    let WitnessError::Inconsistent { evidence, .. } = e else {
        panic!("expected evidence")
    };
    let verdict = evidence.verify(&signer.verifier()).expect("checkable");
    assert!(verdict.both_signed && verdict.proof_fails && verdict.misbehaviour);
    assert_eq!(w.evidence().expect("kept").len(), 1);
    // The witness still holds the honest size.
    assert_eq!(
        w.latest(honest.origin()).expect("state").map(|x| x.0),
        Some(8)
    );
}

#[test]
fn detects_split_view_at_equal_size() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut honest, signer) = new_log(&dir, 5);
    let w = Witness::open(
        &dir.path().join("w.sqlite"),
        Signer::generate("w").expect("key"),
    )
    .expect("w");
    w.add_log(honest.origin(), &signer.verifier()).expect("add");
    w.add_checkpoint(&honest.checkpoint(&signer).expect("sign"), 0, &[], 1)
        .expect("cosign");
    let fork_dir = tempfile::tempdir().expect("tmp");
    let mut fork = LogStore::init(
        &fork_dir.path().join("f.sqlite"),
        honest.origin(),
        &signer.verifier(),
    )
    .expect("init");
    fork.append(&entries(6)[1..]).expect("append");
    let e = w
        .add_checkpoint(&fork.checkpoint(&signer).expect("sign"), 5, &[], 2)
        .expect_err("refuse");
    // Equal sizes with different roots: no proof in the evidence (the node
    // answers 409, as C2SP tlog-witness says).
    assert_eq!(refusal(&e), "inconsistent_equal_size");
    let WitnessError::Inconsistent { evidence, .. } = e else {
        panic!("expected evidence")
    };
    let v = evidence.verify(&signer.verifier()).expect("check");
    assert!(
        v.same_size_different_roots && v.misbehaviour,
        "{}",
        v.summary
    );
}

#[test]
fn evidence_with_a_forged_note_is_not_evidence() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, signer) = new_log(&dir, 5);
    let a = log.checkpoint(&signer).expect("sign");
    let forger = Signer::generate("accord/new-start/US").expect("key");
    let fake = accord_log::Checkpoint {
        origin: log.origin().into(),
        size: 5,
        hash: [9u8; 32],
        extensions: vec![],
    };
    let ev = Evidence {
        origin: log.origin().into(),
        older: a,
        newer: forger.sign(&fake.to_text()).expect("sign"),
        proof: None,
        reason: "x".into(),
    };
    assert!(
        ev.verify(&signer.verifier()).is_err(),
        "a forged checkpoint proves nothing"
    );
}

#[test]
fn the_largest_entry_fits_a_tile_bundle_length_prefix() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut log, _) = new_log(&dir, 0);
    assert_eq!(accord_log::MAX_ENTRY_BYTES, usize::from(u16::MAX));
    assert_eq!(log.append(&[vec![b'x'; 65_535]]).expect("fits"), 0..1);
    assert!(log.append(&[vec![b'x'; 65_536]]).is_err());
}

/// Which refusal a witness error is (the node maps each to its C2SP status).
fn refusal(e: &WitnessError) -> &'static str {
    match e {
        WitnessError::UnknownLog(_) => "unknown_log",
        WitnessError::BadSignature(_) => "bad_signature",
        WitnessError::OldSizeMismatch { .. } => "old_size_mismatch",
        WitnessError::Inconsistent { evidence, .. } if evidence.proof.is_none() => {
            "inconsistent_equal_size"
        }
        WitnessError::Inconsistent { .. } => "inconsistent_proof",
        WitnessError::Malformed(_) => "malformed",
        _ => "other",
    }
}
