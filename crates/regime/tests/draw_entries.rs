//! The draw protocol's steps as entries of a party's log: each step an
//! honest draw logs parses as that step in the log of the party that took
//! it, in canonical form only, and a step in the other party's log, or
//! re-encoded, is refused.

use accord_draw::{
    honest_draw, Canonical, Clock, DrawKind, MemoryLog, PartyLog, Population, Purpose, Rule, Side,
    StatelessWitness, Transcript,
};
use accord_log::Signer;
use accord_regime::entry::{DrawEntry, EntryProblem};
use accord_regime::{parse_entry, LogEntry};
use rand::SeedableRng;

fn transcript() -> Transcript {
    let us = Signer::from_seed("accord/new-start-2021/US", [1; 32]).expect("key");
    let ru = Signer::from_seed("accord/new-start-2021/RU", [2; 32]).expect("key");
    let w = Signer::from_seed("accord/witness/neutral", [3; 32]).expect("key");
    let mut rule = Rule::distinct_sites(2);
    rule.replacement = true;
    rule.items_per_site = 1;
    let purpose = Purpose {
        draw: "new-start-2021/2021-03-01/type_one/US-inspects-RU".into(),
        kind: DrawKind::Inspection,
        checking: PartyLog {
            party: "US".into(),
            log: us.name().into(),
        },
        checked: PartyLog {
            party: "RU".into(),
            log: ru.name().into(),
        },
        rule,
    };
    let population = Population::of_items((0..3).map(|s| {
        (
            format!("RU-BASE-{s}"),
            (0..4).map(|i| format!("RU-M-{s}{i}")).collect(),
        )
    }));
    let (mut lu, mut lr) = (MemoryLog::new(us.name()), MemoryLog::new(ru.name()));
    honest_draw(
        purpose,
        population,
        None,
        Side {
            log: &mut lu,
            signer: &us,
        },
        Side {
            log: &mut lr,
            signer: &ru,
        },
        &mut StatelessWitness(w),
        Clock::starting(1_614_556_800),
        &mut rand_chacha::ChaCha20Rng::seed_from_u64(7),
    )
    .expect("draw")
    .0
}

#[test]
fn each_logged_step_parses_as_that_step_of_its_party() {
    let t = transcript();
    let steps = [
        (t.commitment_entry.entry.canonical(), "US", "commitment"),
        (t.population_entry.entry.canonical(), "RU", "population"),
        (t.reveal_entry.entry.canonical(), "US", "reveal"),
    ];
    for (bytes, party, step) in steps {
        let e = parse_entry(&bytes, party, "entry", true).expect("parses");
        let LogEntry::Draw(d) = e else {
            panic!("{step}: not a draw step")
        };
        assert_eq!(d.kind(), format!("accord-draw/v1/{step}"));
        assert_eq!(
            d.draw(),
            "new-start-2021/2021-03-01/type_one/US-inspects-RU"
        );
        assert_eq!(
            d.canonical(),
            bytes,
            "{step}: its bytes are the logged ones"
        );
        match (*d, step) {
            (DrawEntry::Commitment(c), "commitment") => assert_eq!(c, t.commitment_entry.entry),
            (DrawEntry::Population(p), "population") => assert_eq!(p, t.population_entry.entry),
            (DrawEntry::Reveal(r), "reveal") => assert_eq!(r, t.reveal_entry.entry),
            (other, _) => panic!("{step} parsed as {}", other.kind()),
        }
    }
}

#[test]
fn rejects_a_commitment_in_the_checked_partys_log() {
    let t = transcript();
    let bytes = t.commitment_entry.entry.canonical();
    let e = parse_entry(&bytes, "RU", "entry", true).expect_err("not RU's step");
    assert!(
        matches!(&e, EntryProblem::NotItsDraw { party, checking, .. } if party == "RU" && checking == "US"),
        "{e}"
    );
}

#[test]
fn rejects_a_step_not_in_canonical_form() {
    let t = transcript();
    let pretty = serde_json::to_string_pretty(&t.reveal_entry.entry).expect("json");
    let e = parse_entry(pretty.as_bytes(), "US", "entry", true).expect_err("not canonical");
    assert!(matches!(e, EntryProblem::NotCanonical), "{e}");
    // Read without the canonical check (a registry's own records), it is
    // the same step.
    assert!(matches!(
        parse_entry(pretty.as_bytes(), "US", "entry", false),
        Ok(LogEntry::Draw(_))
    ));
}

#[test]
fn rejects_a_step_with_a_malformed_secret() {
    let t = transcript();
    let mut v = serde_json::to_value(&t.reveal_entry.entry).expect("json");
    v["secret"] = "not-hex".into();
    let bytes = accord_log::canonical_entry(&v.to_string()).expect("canonical");
    let e = parse_entry(&bytes, "US", "entry", true).expect_err("bad secret");
    assert!(
        matches!(&e, EntryProblem::DrawField { field, .. } if *field == "secret"),
        "{e}"
    );
}
