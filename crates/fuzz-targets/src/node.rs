//! What a node reads from the network and from its operator: the witness
//! endpoint's body, a peer's `Authorization`, the configuration file.

use crate::fixtures::{
    fixture, log_signer, peer_signer, peer_target, signed_checkpoint, witness_signer, LOG_ORIGIN,
    NOW, PEER_NONCE, PEER_ORIGIN, WITNESSED_SIZE,
};
use crate::{invariant, text, Outcome};
use accord_log::merkle::Hash;
use accord_log::witness::encode_hashes;
use accord_log::{Note, Witness};
use accord_node::config::Config;
use accord_node::exchange::{self, check_peer_authorization, Nonces, PeerAuthError};
use accord_node::witness::parse_add_checkpoint;
use std::cell::RefCell;

/// The body `parse_add_checkpoint` reads, written from its parts.
fn body(old: u64, proof: &[Hash], note: &str) -> String {
    let mut s = format!("old {old}\n");
    for h in encode_hashes(proof) {
        s.push_str(&h);
        s.push('\n');
    }
    s.push('\n');
    s.push_str(note);
    s
}

thread_local! {
    static WITNESS_DIR: RefCell<Option<tempfile::TempDir>> = const { RefCell::new(None) };
}

/// A fresh witness following the fixed log, having cosigned `size` (0:
/// nothing yet). Its state is a new file in a scratch directory (a witness
/// state is a file: `Witness::open` takes no `:memory:`), removed first so
/// no input sees another's state; one witness is open at a time.
fn witness(size: u64) -> Witness {
    let path = WITNESS_DIR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let dir = slot.get_or_insert_with(|| fixture(tempfile::tempdir(), "witness directory"));
        let path = dir.path().join("witness.sqlite");
        for end in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(end);
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    fixture(Err::<(), _>(e), "old witness state");
                }
                _ => {}
            }
        }
        path
    });
    let w = fixture(Witness::open(&path, witness_signer().clone()), "witness");
    fixture(w.add_log(LOG_ORIGIN, &log_signer().verifier()), "add_log");
    if size > 0 {
        fixture(
            w.add_checkpoint(&signed_checkpoint(size), 0, &[], NOW),
            "first cosignature",
        );
    }
    w
}

/// The C2SP tlog-witness `add-checkpoint` body (`POST /add-checkpoint`),
/// parsed as the node parses it and shown to a witness that has cosigned
/// nothing, and to one that has cosigned the fixed log at size 4.
///
/// Invariants: the parts write back to a body that parses to the same
/// parts; what a witness cosigns verifies with its key and becomes its
/// latest checkpoint of the log.
pub fn add_checkpoint(data: &[u8]) -> Outcome {
    // The handler refuses a body that is not UTF-8 before parsing it.
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let Ok((old, proof, note)) = parse_add_checkpoint(t) else {
        return Outcome::Rejected;
    };
    let written = body(old, &proof, &note);
    let again = parse_add_checkpoint(&written);
    invariant(
        again.as_ref() == Ok(&(old, proof.clone(), note.clone())),
        || format!("{written:?} parses to {again:?}"),
    );
    let mut cosigned = false;
    for held in [0, WITNESSED_SIZE] {
        let w = witness(held);
        let Ok(line) = w.add_checkpoint(&note, old, &proof, NOW) else {
            continue;
        };
        let n = Note::parse(&note);
        invariant(n.is_ok(), || {
            format!("cosigned a note that does not parse: {n:?}")
        });
        if let Ok(mut n) = n {
            let added = n.add_line(line.clone());
            invariant(added.is_ok(), || {
                format!("its cosignature {line:?}: {added:?}")
            });
            // The fresh line on its own (the note may hold a bad line under
            // the witness's name, which fails the note as a whole).
            let alone = Note::parse(&format!("{}\n{line}\n", n.text));
            let v = alone
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|a| a.verify(&[witness_signer().cosigner_verifier()]));
            invariant(
                v.as_ref()
                    .is_ok_and(|s| s.iter().any(|c| c.timestamp == Some(NOW))),
                || format!("its cosignature does not verify: {v:?}"),
            );
        }
        let latest = w.latest(LOG_ORIGIN);
        invariant(
            matches!(&latest, Ok(Some((size, Some(held_note)))) if *held_note == note && *size >= held),
            || format!("after cosigning, the witness holds {latest:?}"),
        );
        cosigned = true;
    }
    Outcome::of(cosigned)
}

/// An `Authorization: Accord-Peer TS NONCE NAME SIG` header value, checked
/// against the fixed peer's key for one target (origin, TLS key, host,
/// method, path) and time, with a fresh nonce memory.
///
/// Invariants: what is accepted was signed by the fixed peer, and is
/// refused as a replay the second time; a header the peer makes now is
/// accepted.
pub fn peer_authorization(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let peers = [peer_signer().verifier()];
    let target = peer_target();
    let nonces = Nonces::default();
    let verdict = check_peer_authorization(t, &target, &peers, NOW, &nonces);
    if let Ok(name) = &verdict {
        invariant(name == PEER_ORIGIN, || format!("accepted as {name}"));
        let again = check_peer_authorization(t, &target, &peers, NOW, &nonces);
        invariant(again == Err(PeerAuthError::Replayed), || {
            format!("the same header a second time: {again:?}")
        });
    }
    let fresh = exchange::peer_authorization(peer_signer(), &target, NOW, PEER_NONCE);
    let f = check_peer_authorization(&fresh, &target, &peers, NOW, &Nonces::default());
    invariant(f.is_ok(), || format!("a fresh header is refused: {f:?}"));
    Outcome::of(verdict.is_ok())
}

/// A token no input contains by chance: put in place of every token before
/// loading, it must appear in no error.
const CANARY: &str = "canary-token-5e1f0c7d9a3b4e28";

thread_local! {
    static SCRATCH: RefCell<Option<tempfile::TempDir>> = const { RefCell::new(None) };
}

/// Loads `text` as a configuration file with [`Config::load`] (the only
/// loader, which reads a path).
fn load(text: &str) -> Result<(), String> {
    SCRATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        let dir = slot.get_or_insert_with(|| fixture(tempfile::tempdir(), "scratch directory"));
        let path = dir.path().join("node.toml");
        fixture(std::fs::write(&path, text), "config file");
        Config::load(&path).map(|_| ()).map_err(|e| e.to_string())
    })
}

fn mentions_canary(v: &toml::Value) -> bool {
    match v {
        toml::Value::String(s) => s.to_ascii_lowercase().contains("canary"),
        toml::Value::Array(a) => a.iter().any(mentions_canary),
        toml::Value::Table(t) => t
            .iter()
            .any(|(k, v)| k.to_ascii_lowercase().contains("canary") || mentions_canary(v)),
        _ => false,
    }
}

fn plant(v: &mut toml::Value) {
    match v {
        toml::Value::String(s) => *s = CANARY.to_string(),
        toml::Value::Array(a) => a.iter_mut().for_each(plant),
        toml::Value::Table(t) => t.iter_mut().for_each(|(_, v)| plant(v)),
        _ => {}
    }
}

/// A node's configuration file (`accord serve --config FILE`).
///
/// Invariants: what the TOML reader refuses, the loader refuses; with every
/// token replaced by a canary, no error quotes the canary (a token given in
/// the wrong shape must not be printed).
pub fn node_config(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let parsed = toml::from_str::<Config>(t);
    let loaded = load(t);
    invariant(parsed.is_ok() || loaded.is_err(), || {
        "the loader accepts what the TOML reader refuses".into()
    });
    if let Ok(mut table) = toml::from_str::<toml::Table>(t) {
        if !mentions_canary(&toml::Value::Table(table.clone())) {
            let mut planted = false;
            for key in ["operator_tokens", "reader_tokens"] {
                if let Some(v) = table.get_mut(key) {
                    plant(v);
                    planted = true;
                }
            }
            if planted {
                if let Ok(text) = toml::to_string(&table) {
                    if let Err(e) = load(&text) {
                        invariant(!e.contains(CANARY), || {
                            format!("an error quotes a token: {e}")
                        });
                    }
                }
            }
        }
    }
    Outcome::of(loaded.is_ok())
}
