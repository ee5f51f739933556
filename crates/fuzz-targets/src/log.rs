//! Signed notes, checkpoints, keys, proofs, tile paths and entry bundles:
//! what a peer, a witness or a mirror serves.

use crate::fixtures::{
    entry, log_signer, peer_signer, root, tree, witness_signer, LOG_ORIGIN, NOW, TREE_SIZE,
};
use crate::{invariant, text, Outcome};
use accord_log::merkle::{self, leaf_hash, Hash};
use accord_log::note::{MAX_NOTE_BYTES, MAX_SIGNATURES};
use accord_log::tiles::{self, TILE_WIDTH};
use accord_log::witness::{decode_hashes, ConsistencyProofJson, InclusionProofJson};
use accord_log::{open_checkpoint, Checkpoint, Note, Signer, Verifier};

/// A signed note (a checkpoint as served, a cosigned checkpoint as a
/// witness answers it).
///
/// Invariants: what parses has a text ending in a newline and 1 to 64
/// signatures, and prints back to a note that parses to the same; only the
/// fixed keys' signatures verify; a cosignature added to it verifies.
pub fn note(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let Ok(n) = Note::parse(t) else {
        return Outcome::Rejected;
    };
    invariant(n.text.ends_with('\n'), || format!("text {:?}", n.text));
    invariant((1..=MAX_SIGNATURES).contains(&n.signatures.len()), || {
        format!("{} signatures", n.signatures.len())
    });
    let printed = n.to_text();
    let again = Note::parse(&printed);
    invariant(again.as_ref() == Ok(&n), || {
        format!("{printed:?} parses to {again:?}")
    });
    let known = [
        log_signer().verifier(),
        witness_signer().cosigner_verifier(),
        peer_signer().verifier(),
    ];
    if let Ok(signed) = n.verify(&known) {
        for s in &signed {
            invariant(known.iter().any(|k| k.name() == s.name), || {
                format!("verified by unknown {}", s.name)
            });
        }
    }
    // A witness adds its cosignature line to what it was shown. (The note
    // may already hold a bad line under the witness's name: then the whole
    // note fails, so check the fresh line on its own.)
    let line = witness_signer().cosign_line(&n.text, NOW);
    let mut cosigned = n.clone();
    match cosigned.add_line(line.clone()) {
        Ok(()) => {
            invariant(cosigned.signatures.len() == n.signatures.len() + 1, || {
                "add_line did not add one line".into()
            });
            let alone = Note::parse(&format!("{}\n{line}\n", n.text));
            let v = alone
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|a| a.verify(&[witness_signer().cosigner_verifier()]));
            invariant(
                v.as_ref()
                    .is_ok_and(|s| s.iter().any(|c| c.timestamp == Some(NOW))),
                || format!("a fresh cosignature does not verify: {v:?}"),
            );
        }
        Err(e) => invariant(n.text.len() + 200 > MAX_NOTE_BYTES, || {
            format!("a cosignature cannot be added: {e}")
        }),
    }
    Outcome::Accepted
}

/// A checkpoint body, and a signed checkpoint opened with the fixed log
/// key and the fixed witness as cosigner (as a mirror and a witness open
/// what they are served).
///
/// Invariants: a body that parses prints back to the same bytes; an opened
/// checkpoint's note prints back to one that opens to the same.
pub fn checkpoint(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    if let Ok(cp) = Checkpoint::parse(t) {
        invariant(cp.to_text() == t, || {
            format!("{t:?} prints back as {:?}", cp.to_text())
        });
    }
    let log = log_signer().verifier();
    let cosigners = [witness_signer().cosigner_verifier()];
    match open_checkpoint(t, &log, &cosigners) {
        Ok(v) => {
            let cp = v.checkpoint();
            // Only the fixed log signs, and only the fixed tree's checkpoints.
            invariant(
                cp.origin == LOG_ORIGIN && cp.size <= TREE_SIZE && cp.hash == root(cp.size),
                || format!("opened a checkpoint the fixed log never signed: {cp:?}"),
            );
            let again = open_checkpoint(&v.to_text(), &log, &cosigners);
            invariant(again.as_ref() == Ok(&v), || {
                format!("reopened as {again:?}")
            });
            Outcome::Accepted
        }
        Err(_) => Outcome::Rejected,
    }
}

/// Verifier keys (`.vkey` files, peers' and witnesses' keys in a config),
/// signer key files and TLS pins.
///
/// Invariants: each prints back to text that parses to the same key; an
/// error about a private key never quotes the key.
pub fn keys(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let mut ok = false;
    // The key part of a signer key file, unless it is a piece of the key
    // errors' own fixed words (then finding it in an error proves nothing).
    let secret = t
        .trim()
        .strip_prefix("PRIVATE+KEY+")
        .and_then(|r| r.splitn(3, '+').nth(2))
        .filter(|k| k.len() >= 8 && !KEY_ERROR_WORDS.iter().any(|w| w.contains(k)));
    match Verifier::parse(t) {
        Ok(v) => {
            let printed = v.to_string();
            let again = Verifier::parse(&printed);
            invariant(again.as_ref() == Ok(&v), || {
                format!("{printed} parses to {again:?}")
            });
            ok = true;
        }
        Err(e) => {
            if let Some(k) = secret {
                invariant(!e.to_string().contains(k), || {
                    format!("a verifier error quotes a private key: {e}")
                });
            }
        }
    }
    match Signer::parse(t) {
        Ok(s) => {
            let file = s.to_key_file();
            let again = Signer::parse(&file);
            invariant(
                again
                    .as_ref()
                    .is_ok_and(|a| a.verifier() == s.verifier() && a.name() == s.name()),
                || format!("a key file does not parse back: {:?}", again.err()),
            );
            invariant(!format!("{s:?}").contains(file.trim()), || {
                "Debug shows the secret".into()
            });
            ok = true;
        }
        Err(e) => {
            if let Some(k) = secret {
                // Found by fuzzing, fixed: fuzz/regressions/keys/.
                invariant(!e.to_string().contains(k), || {
                    format!("a signer error quotes the private key: {e}")
                });
            }
        }
    }
    match t.parse::<accord_net::Pin>() {
        Ok(p) => {
            let printed = p.to_string();
            let again = printed.parse::<accord_net::Pin>();
            invariant(again.as_ref() == Ok(&p), || {
                format!("{printed} parses to {again:?}")
            });
            ok = true;
        }
        Err(e) => {
            invariant(e.to_string().chars().count() < 80 + 200, || {
                "a pin error quotes more than 80 characters of its input".into()
            });
        }
    }
    Outcome::of(ok)
}

/// The fixed words of the key errors (`NoteError::Key` from the parsers).
const KEY_ERROR_WORDS: &[&str] = &[
    "malformed key: a signer key starts with PRIVATE+KEY+",
    "malformed key: expected PRIVATE+KEY+name+keyid+key",
    "malformed key: the key is not base64",
    "malformed key: expected 0x01 followed by a 32-byte Ed25519 seed",
    "malformed key: key name `` must be non-empty, with no spaces or '+'",
    "malformed key: key ID  does not match the key",
];

/// A stand-in root or leaf for sizes beyond the fixed tree.
fn arbitrary(n: u64) -> Hash {
    leaf_hash(&n.to_be_bytes())
}

/// Proof JSON as a peer serves it (`/proof/consistency`, `/proof/inclusion`,
/// freeze disclosures, witness evidence), verified with arbitrary sizes:
/// against the fixed tree where the sizes fit it, against stand-in roots
/// otherwise.
///
/// Invariants: a proof that verifies against the fixed tree is the honest
/// proof (anything else is a second preimage); the honest proof verifies;
/// a computed root is the one the proof then verifies against; the proof
/// length is `inclusion_len`.
pub fn proofs(data: &[u8]) -> Outcome {
    let mut ok = false;
    if let Ok(p) = serde_json::from_slice::<ConsistencyProofJson>(data) {
        ok |= consistency(&p);
    }
    if let Ok(p) = serde_json::from_slice::<InclusionProofJson>(data) {
        ok |= inclusion(&p);
    }
    Outcome::of(ok)
}

fn consistency(p: &ConsistencyProofJson) -> bool {
    let Ok(hashes) = decode_hashes(&p.hashes) else {
        return false;
    };
    let (old, new) = (p.old_size, p.new_size);
    let fits = old <= new && new <= TREE_SIZE;
    let (r_old, r_new) = if fits {
        (root(old), root(new))
    } else {
        (arbitrary(old), arbitrary(new))
    };
    let verdict = merkle::verify_consistency(old, new, &r_old, &r_new, &hashes);
    let raw = merkle::verify_consistency_raw(old, new, &r_old, &r_new, &hashes);
    invariant(verdict == raw, || format!("{verdict:?} but raw {raw:?}"));
    // Roots of the wrong length are refused, not sliced.
    let _ = merkle::verify_consistency_raw(old, new, &r_old[..31], &r_new, &hashes);
    if fits && old >= 1 {
        let honest = crate::fixtures::fixture(
            merkle::consistency_proof(tree(), old, new),
            "consistency proof",
        );
        let h = merkle::verify_consistency(old, new, &r_old, &r_new, &honest);
        invariant(h.is_ok(), || {
            format!("the honest proof {old} -> {new} fails: {h:?}")
        });
        if verdict.is_ok() {
            invariant(hashes == honest, || {
                format!("a proof {old} -> {new} other than the honest one verifies")
            });
        }
    }
    verdict.is_ok()
}

fn inclusion(p: &InclusionProofJson) -> bool {
    let Ok(hashes) = decode_hashes(&p.hashes) else {
        return false;
    };
    let (index, size) = (p.leaf_index, p.tree_size);
    let leaf = if index < TREE_SIZE {
        leaf_hash(&entry(index))
    } else {
        arbitrary(index)
    };
    let r = if size <= TREE_SIZE {
        root(size)
    } else {
        arbitrary(size)
    };
    let verdict = merkle::verify_inclusion(index, size, &leaf, &hashes, &r);
    match merkle::root_from_inclusion_proof(index, size, &leaf, &hashes) {
        Ok(computed) => {
            invariant(hashes.len() == merkle::inclusion_len(index, size), || {
                format!(
                    "{} hashes accepted for leaf {index} of {size}, expected {}",
                    hashes.len(),
                    merkle::inclusion_len(index, size)
                )
            });
            let again = merkle::verify_inclusion(index, size, &leaf, &hashes, &computed);
            invariant(again.is_ok(), || {
                format!("does not verify against its own root: {again:?}")
            });
            invariant(verdict.is_ok() == (computed == r), || {
                format!(
                    "verdict {verdict:?} against a computed root equal: {}",
                    computed == r
                )
            });
        }
        Err(e) => invariant(verdict.is_err(), || format!("verifies though {e}")),
    }
    if index < size && size <= TREE_SIZE {
        let honest = crate::fixtures::fixture(
            merkle::inclusion_proof(tree(), index, size),
            "inclusion proof",
        );
        invariant(honest.len() == merkle::inclusion_len(index, size), || {
            "honest length".into()
        });
        let h = merkle::verify_inclusion(index, size, &leaf, &honest, &r);
        invariant(h.is_ok(), || format!("the honest proof fails: {h:?}"));
        if verdict.is_ok() {
            invariant(hashes == honest, || {
                format!("a proof of leaf {index} of {size} other than the honest one verifies")
            });
        }
    }
    verdict.is_ok()
}

/// A tile path (what follows `tile/` in a request).
///
/// Invariants: what parses prints back to the same path; the width is 1 to
/// 256 and the level at most 63.
pub fn tile_path(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let Ok(p) = tiles::parse(t) else {
        return Outcome::Rejected;
    };
    invariant((1..=TILE_WIDTH).contains(&p.width), || format!("{p:?}"));
    invariant(p.level.is_none_or(|l| l <= 63), || format!("{p:?}"));
    let printed = tiles::path(p);
    invariant(printed == format!("tile/{t}"), || {
        format!("tile/{t} prints back as {printed}")
    });
    Outcome::Accepted
}

/// An entry bundle as a peer serves it.
///
/// Invariants: at most 256 entries, and writing them again gives the same
/// bytes.
pub fn bundle(data: &[u8]) -> Outcome {
    let Ok(entries) = tiles::parse_bundle(data) else {
        return Outcome::Rejected;
    };
    invariant(entries.len() as u64 <= TILE_WIDTH, || {
        format!("{} entries", entries.len())
    });
    let mut again = vec![];
    for e in &entries {
        let pushed = tiles::push_bundle_entry(&mut again, e);
        invariant(pushed.is_ok(), || format!("an entry of {} bytes", e.len()));
    }
    invariant(again == data, || {
        "the bundle does not write back to its bytes".into()
    });
    Outcome::Accepted
}
