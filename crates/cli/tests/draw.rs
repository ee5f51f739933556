//! `accord draw verify` and `accord freeze challenge --transcript` as the
//! issue specifies them: exit 0 verified, 1 naming the failed check, 2 for a
//! malformed transcript naming the field.

mod common;
use common::*;

use accord_draw::sample;
use accord_draw::*;
use accord_log::{Note, Signer};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::path::Path;

const T0: u64 = 1_600_128_000;

struct Keyset {
    us: Signer,
    ru: Signer,
    w: Signer,
}

fn keyset(dir: &Path) -> Keyset {
    let k = Keyset {
        us: Signer::from_seed("accord/new-start-2021/US", [1; 32]).expect("key"),
        ru: Signer::from_seed("accord/new-start-2021/RU", [2; 32]).expect("key"),
        w: Signer::from_seed("accord/witness/neutral", [3; 32]).expect("key"),
    };
    for (f, s) in [("us.vkey", &k.us), ("ru.vkey", &k.ru), ("w.vkey", &k.w)] {
        // As `accord keygen` writes them: the witness's too (type 0x01).
        std::fs::write(dir.join(f), format!("{}\n", s.verifier())).expect("write");
    }
    k
}

fn purpose(kind: DrawKind, rule: Rule) -> Purpose {
    Purpose {
        draw: "new-start-2021/2020-09-15/type_one/US-inspects-RU".into(),
        kind,
        checking: PartyLog {
            party: "US".into(),
            log: "accord/new-start-2021/US".into(),
        },
        checked: PartyLog {
            party: "RU".into(),
            log: "accord/new-start-2021/RU".into(),
        },
        rule,
    }
}

fn population() -> Population {
    Population::of_items((0..6).map(|s| {
        (
            format!("RU-BASE-{s}"),
            (0..4).map(|i| format!("RU-ICBM-{s}{i:02}")).collect(),
        )
    }))
}

fn rule() -> Rule {
    let mut r = Rule::distinct_sites(3);
    r.replacement = true;
    r.items_per_site = 1;
    r
}

fn unhex(s: &str) -> [u8; 32] {
    let mut o = [0u8; 32];
    for (i, x) in o.iter_mut().enumerate() {
        *x = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
    }
    o
}

/// The protocol's steps, with the draw recomputed from whatever the steps
/// logged (so a transcript breaks exactly where a test breaks a step).
fn transcript(k: &Keyset, clock: Clock, wrong_secret: bool) -> Transcript {
    let keys = Keys::new(k.us.verifier(), k.ru.verifier(), k.w.verifier()).expect("keys");
    let mut lu = MemoryLog::new(k.us.name());
    let mut lr = MemoryLog::new(k.ru.name());
    let mut wit = StatelessWitness(k.w.clone());
    let (secret, ce) = commit(
        purpose(DrawKind::Inspection, rule()),
        &mut ChaCha20Rng::seed_from_u64(1),
    )
    .expect("commit");
    let c = log_entry(&mut lu, &k.us, &mut wit, ce, clock.commit).expect("log");
    let vc = verify_commitment(&c, &keys).expect("verifies");
    let pop = population();
    let pe = population_entry(&vc, &pop, None).expect("entry");
    let p = log_entry(&mut lr, &k.ru, &mut wit, pe, clock.populate).expect("log");
    let sealed = seal(&k.ru, &p, keys.witness()).expect("seal");
    let secret = if wrong_secret {
        Secret::from_bytes([0x5A; 32])
    } else {
        secret
    };
    let seal_digest: String = {
        use sha2::Digest as _;
        sha2::Sha256::digest(sealed.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let re = RevealEntry {
        entry: accord_draw::entry::EntryKind::Reveal,
        draw: c.entry.purpose.draw.clone(),
        secret: secret.to_hex(),
        seal: seal_digest,
    };
    let r = log_entry(&mut lu, &k.us, &mut wit, re, clock.reveal).expect("log");
    let note = Note::parse(&p.checkpoint).expect("note");
    let line = note.signatures.last().expect("cosignature").line.clone();
    let sd = seed(&unhex(&c.entry.commitment), &secret, &note.text, &line);
    let picks = sample::draw(&sd, &pop, &c.entry.purpose.rule).expect("draw");
    Transcript {
        version: VERSION.into(),
        keys: keys.named(),
        commitment_entry: c,
        population_entry: p,
        population: pop,
        seal: sealed,
        reveal_entry: r,
        draw: Draw {
            seed: sd.iter().map(|b| format!("{b:02x}")).collect(),
            picks,
        },
    }
}

fn write(dir: &Path, name: &str, t: &Transcript) {
    std::fs::write(
        dir.join(name),
        serde_json::to_string_pretty(t).expect("json"),
    )
    .expect("write");
}

fn verify_file(dir: &Path, name: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "draw", "verify", name, "--vkey", "us.vkey", "--vkey", "ru.vkey", "--vkey", "w.vkey",
    ];
    args.extend_from_slice(extra);
    accord(dir, &args)
}

#[test]
fn verifies_an_honest_transcript() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let k = keyset(d);
    let t = transcript(&k, Clock::starting(T0), false);
    write(d, "type-one-transcript.json", &t);
    let o = verify_file(d, "type-one-transcript.json", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("verified: draw new-start-2021/2020-09-15/type_one/US-inspects-RU (inspection), US checks RU, witness accord/witness/neutral"), "{out}");
    assert!(out.contains("2020-09-15 00:00:00 UTC"), "{out}");
    for p in &t.draw.picks {
        assert!(
            out.contains(&format!("{}: {}", p.site, p.items[0])),
            "{out}"
        );
    }
    let o = verify_file(d, "type-one-transcript.json", &["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(j["verified"], true);
    assert_eq!(j["seed"], t.draw.seed.as_str());
    assert_eq!(j["picks"].as_array().map(Vec::len), Some(3));
    assert_eq!(j["population_cosigned_at"], T0 + 60);
}

#[test]
fn each_failed_check_exits_1_naming_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let k = keyset(d);
    let honest = transcript(&k, Clock::starting(T0), false);
    let mut cases: Vec<(&str, Transcript, &str)> = vec![];
    cases.push((
        "open",
        transcript(&k, Clock::starting(T0), true),
        "reveal_does_not_open",
    ));
    cases.push((
        "after",
        transcript(
            &k,
            Clock {
                commit: T0 + 100,
                populate: T0 + 50,
                reveal: T0 + 200,
            },
            false,
        ),
        "commitment_after_checkpoint",
    ));
    let mut bare = honest.clone();
    let mut note = Note::parse(&bare.population_entry.checkpoint).expect("note");
    note.signatures.retain(|s| s.name != k.w.name());
    bare.population_entry.checkpoint = note.to_text();
    cases.push(("uncosigned", bare, "not_cosigned"));
    let mut pop = honest.clone();
    pop.population.sites[0].items.pop();
    cases.push(("population", pop, "population_mismatch"));
    let mut draw = honest.clone();
    draw.draw.picks.swap(0, 2);
    if draw.draw.picks == honest.draw.picks {
        draw.draw.picks[0].items = vec!["RU-ICBM-099".into()];
    }
    cases.push(("draw", draw, "draw_mismatch"));
    for (name, t, check) in cases {
        let file = format!("{name}-transcript.json");
        write(d, &file, &t);
        let o = verify_file(d, &file, &[]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
        assert!(
            text(&o).contains(&format!("FAILED {check}")),
            "{name}: {}",
            text(&o)
        );
        let o = verify_file(d, &file, &["--json"]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(
            (j["verified"].as_bool(), j["check"].as_str()),
            (Some(false), Some(check))
        );
    }
    // Keys are pinned by the verifier, never taken from the file.
    write(d, "honest-transcript.json", &honest);
    let o = accord(
        d,
        &[
            "draw",
            "verify",
            "honest-transcript.json",
            "--vkey",
            "us.vkey",
            "--vkey",
            "ru.vkey",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("FAILED key_not_pinned"), "{}", text(&o));
    // A late reveal: the draw is sound, the finding is the checking party's.
    let late = transcript(
        &k,
        Clock {
            commit: T0,
            populate: T0 + 60,
            reveal: T0 + 60 + DAY + 5,
        },
        false,
    );
    write(d, "late-transcript.json", &late);
    let o = verify_file(d, "late-transcript.json", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("verified: draw"), "{}", text(&o));
    assert!(
        text(&o).contains("[reveal_late] against US"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_malformed_transcript_exits_2_naming_the_field() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let k = keyset(d);
    let t = transcript(&k, Clock::starting(T0), false);
    let mut v = serde_json::to_value(&t).expect("json");
    v["population_entry"]["entry"]["sites"] = "six".into();
    std::fs::write(d.join("bad-transcript.json"), v.to_string()).expect("write");
    let o = verify_file(d, "bad-transcript.json", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(
            "bad-transcript.json: not a draw transcript: field `population_entry.entry.sites`"
        ),
        "{}",
        text(&o)
    );
    let mut v = serde_json::to_value(&t).expect("json");
    v["reveal_entry"]["entry"]["nonce"] = 1.into();
    std::fs::write(d.join("extra-transcript.json"), v.to_string()).expect("write");
    let o = verify_file(d, "extra-transcript.json", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unknown field `nonce`"), "{}", text(&o));
    std::fs::write(d.join("notjson-transcript.json"), "{").expect("write");
    assert_eq!(
        verify_file(d, "notjson-transcript.json", &[]).status.code(),
        Some(2)
    );
    assert_eq!(verify_file(d, "missing.json", &[]).status.code(), Some(2));
    std::fs::write(d.join("notakey.vkey"), "PRIVATE+KEY+x").expect("write");
    write(d, "t.json", &t);
    let o = accord(d, &["draw", "verify", "t.json", "--vkey", "notakey.vkey"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn a_freeze_challenge_from_a_transcript() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let k = keyset(d);
    let mut recs = String::new();
    for i in 0..60 {
        recs.push_str(&format!(
            "{{\"id\":\"W-{i:03}\",\"type\":\"W76-1\",\"category\":\"non_deployed_strategic\",\"site\":\"SITE-{}\"}}\n",
            i % 6
        ));
    }
    std::fs::write(d.join("r.jsonl"), recs).expect("write");
    let o = accord(
        d,
        &[
            "freeze",
            "declare",
            "--party",
            "RU",
            "--records",
            "r.jsonl",
            "--cap",
            "60",
            "--out",
            "decl",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let public = accord_freeze::parse_public(
        &std::fs::read_to_string(d.join("decl/public.json")).expect("read"),
    )
    .expect("public");
    let v = accord_freeze::verify(&public, None).expect("verifies");
    let (pop, subject) = accord_freeze::challenge_population(&v);
    let (t, draw) = honest_draw(
        purpose(DrawKind::FreezeChallenge, Rule::distinct_sites(2)),
        pop,
        Some(subject),
        Side {
            log: &mut MemoryLog::new(k.us.name()),
            signer: &k.us,
        },
        Side {
            log: &mut MemoryLog::new(k.ru.name()),
            signer: &k.ru,
        },
        &mut StatelessWitness(k.w.clone()),
        Clock::starting(T0),
        &mut ChaCha20Rng::seed_from_u64(3),
    )
    .expect("draw");
    write(d, "challenge-transcript.json", &t);
    let o = accord(
        d,
        &[
            "freeze",
            "challenge",
            "decl/public.json",
            "--transcript",
            "challenge-transcript.json",
            "--vkey",
            "us.vkey",
            "--vkey",
            "ru.vkey",
            "--vkey",
            "w.vkey",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let drawn: Vec<&str> = draw.sites().collect();
    assert_eq!(
        j["sites"]
            .as_array()
            .expect("sites")
            .iter()
            .filter_map(|s| s.as_str())
            .collect::<Vec<_>>(),
        drawn
    );
    assert_eq!(j["draw"], draw.id());
    // The same transcript against another declaration: exit 1.
    let o = accord(
        d,
        &[
            "freeze",
            "declare",
            "--party",
            "RU",
            "--records",
            "r.jsonl",
            "--cap",
            "61",
            "--out",
            "other",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = accord(
        d,
        &[
            "freeze",
            "challenge",
            "other/public.json",
            "--transcript",
            "challenge-transcript.json",
            "--vkey",
            "us.vkey",
            "--vkey",
            "ru.vkey",
            "--vkey",
            "w.vkey",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("challenge"), "{}", text(&o));
}
