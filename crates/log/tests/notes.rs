//! Signed notes, keys, checkpoints and cosignatures.

use accord_log::note::*;

// The example in the documentation of Go's golang.org/x/mod/sumdb/note
// (the reference implementation of C2SP signed notes). Ed25519 is
// deterministic, so signing the same text must give this exact signature.
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

#[test]
fn signs_the_reference_example_byte_for_byte() {
    let s = Signer::parse(GO_SKEY).expect("key");
    assert_eq!(format!("{:08x}", s.key_id()), "c74f20a3");
    assert_eq!(s.verifier().to_string(), GO_VKEY);
    assert_eq!(
        s.sign(GO_TEXT).expect("sign"),
        format!("{GO_TEXT}\n{GO_SIG}\n")
    );
    assert_eq!(s.to_key_file().trim(), GO_SKEY);
}

#[test]
fn opens_the_reference_example() {
    let v = Verifier::parse(GO_VKEY).expect("vkey");
    let n = Note::parse(&format!("{GO_TEXT}\n{GO_SIG}\n")).expect("parse");
    assert_eq!(n.text, GO_TEXT);
    let ok = n.verify(&[v]).expect("verifies");
    assert_eq!(ok[0].name, "PeterNeumann");
}

#[test]
fn rejects_a_note_signed_by_a_wrong_key() {
    let other = Signer::generate("PeterNeumann").expect("key");
    let forged = other.sign(GO_TEXT).expect("sign");
    let v = Verifier::parse(GO_VKEY).expect("vkey");
    // Same name, different key ID: an unknown key, so no known signature.
    assert!(matches!(
        Note::parse(&forged).expect("parse").verify(&[v]),
        Err(NoteError::NoKnownSignature { .. })
    ));
}

#[test]
fn rejects_altered_text() {
    let v = Verifier::parse(GO_VKEY).expect("vkey");
    let n = Note::parse(&format!(
        "{}\n{GO_SIG}\n",
        GO_TEXT.replace("problem,", "problems,")
    ))
    .expect("parse");
    assert!(matches!(
        n.verify(&[v]),
        Err(NoteError::BadSignature { .. })
    ));
}

#[test]
fn rejects_malformed_notes() {
    for bad in [
        format!("{GO_TEXT}{GO_SIG}\n"),              // no blank line
        format!("{GO_TEXT}\n{GO_SIG}"),              // no final newline
        format!("{GO_TEXT}\n- PeterNeumann abc\n"),  // not an em dash
        format!("{GO_TEXT}\n— PeterNeumann !!!\n"),  // not base64
        format!("{GO_TEXT}\n— PeterNeumann AAAA\n"), // too short
        format!("a\tb\n\n{GO_SIG}\n"),               // control character
    ] {
        assert!(Note::parse(&bad).is_err(), "accepted: {bad:?}");
    }
}

#[test]
fn the_secret_never_appears_in_debug_or_verifier_output() {
    let s = Signer::parse(GO_SKEY).expect("key");
    let secret = GO_SKEY.rsplit('+').next().expect("b64");
    let shown = format!("{s:?} {} {:?}", s.verifier(), s.verifier());
    assert!(!shown.contains(secret), "{shown}");
    assert!(shown.contains("secret withheld"));
}

#[test]
fn checkpoint_text_round_trips_and_rejects_malformed() {
    let cp = Checkpoint {
        origin: "accord/new-start/US".into(),
        size: 42,
        hash: [7u8; 32],
        extensions: vec![],
    };
    assert_eq!(Checkpoint::parse(&cp.to_text()).expect("parse"), cp);
    for bad in [
        "accord\n042\nBwcH\n",
        "accord\n-1\n",
        "\n1\nAAAA\n",
        "accord\n1\nAAAA\n",
        "accord\n1\n",
    ] {
        assert!(Checkpoint::parse(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn cosignature_v1_verifies_with_the_0x04_key_and_not_the_0x01_key() {
    let log = Signer::generate("accord/new-start/US").expect("key");
    let wit = Signer::generate("witness.example/w1").expect("key");
    let cp = Checkpoint {
        origin: "accord/new-start/US".into(),
        size: 3,
        hash: [1u8; 32],
        extensions: vec![],
    };
    let mut note = Note::parse(&log.sign(&cp.to_text()).expect("sign")).expect("parse");
    note.add_line(wit.cosign_line(&note.text, 1_700_000_000))
        .expect("add");
    let text = note.to_text();
    let v = open_checkpoint(&text, &log.verifier(), &[wit.cosigner_verifier()]).expect("verifies");
    assert_eq!(v.cosigned_by().len(), 1);
    assert_eq!(v.cosigned_by()[0].timestamp, Some(1_700_000_000));
    // The witness's 0x01 verifier has another key ID: the cosignature is not its.
    let plain = open_checkpoint(&text, &log.verifier(), &[wit.verifier()])
        .expect("log signature still fine");
    assert!(plain.cosigned_by().is_empty());
    assert_eq!(wit.cosigner_verifier().alg(), ALG_COSIGNATURE_V1);
    // The cosigned message is cosignature/v1, the time line, then the note text.
    let tampered = text.replace("\n3\n", "\n4\n");
    assert!(open_checkpoint(&tampered, &log.verifier(), &[]).is_err());
}

#[test]
fn verifier_keys_reject_garbage() {
    for bad in [
        "",
        "name",
        "name+00000000+AAAA",
        "na me+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ] {
        assert!(Verifier::parse(bad).is_err(), "accepted {bad:?}");
    }
}
