//! The verified freeze: honest use, and every attack the issue names.

use accord_freeze::declaration::{declare_dishonestly, DeclareInput, Lie};
use accord_freeze::disclosure::OpenedRecord;
use accord_freeze::*;
use accord_log::{open_checkpoint, Signer};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn records(sites: &[(&str, usize)]) -> Vec<Record> {
    let cats = [
        Category::DeployedStrategic,
        Category::NonDeployedStrategic,
        Category::NonStrategic,
        Category::AwaitingDismantlement,
    ];
    let mut out = vec![];
    for (s, n) in sites {
        for i in 0..*n {
            out.push(Record {
                id: format!("{s}-{i:04}"),
                warhead_type: "W76-1".into(),
                category: cats[i % 4],
                site: (*s).into(),
            });
        }
    }
    out
}

fn input<'a>(
    party: &'a str,
    recs: Vec<Record>,
    cap: u64,
    baseline: Option<(&'a Public, &'a Secret)>,
) -> DeclareInput<'a> {
    DeclareInput {
        party,
        treaty: "freeze-2020",
        date: "2021-02-05",
        records: recs,
        cap,
        padded_size: None,
        checkpoint: Some("cp\n".into()),
        baseline,
    }
}

const SITES: &[(&str, usize)] = &[("A", 10), ("B", 25), ("C", 3), ("D", 40)];

fn honest() -> Declaration {
    declare(input("US", records(SITES), 100, None), &mut rng(1)).expect("declares")
}

#[test]
fn an_honest_declaration_verifies_and_hides_its_counts() {
    let d = honest();
    let v = verify(&d.public, None).expect("verifies");
    assert_eq!((v.sites(), v.cap(), v.freeze()), (4, 100, false));
    assert_eq!(v.party(), "US");
    assert_eq!(v.digest(), accord_freeze::declaration::digest(&d.public));
    assert_eq!(d.public.padded_size, 128);
    // Nothing in the public part gives a count away.
    let text = serde_json::to_string(&d.public).expect("json");
    for n in ["\"10\"", "\"25\"", ":78,", ":78}"] {
        assert!(!text.contains(n), "{n} in {text}");
    }
    assert!(!format!("{:?}", d.secret).contains(&d.secret.records[0].salt.to_hex()));
}

#[test]
fn a_freeze_against_the_baseline_verifies() {
    let base = honest();
    let now = declare(
        input(
            "US",
            records(&[("A", 10), ("B", 20), ("D", 40)]),
            100,
            Some((&base.public, &base.secret)),
        ),
        &mut rng(2),
    )
    .expect("declares");
    let v = verify(&now.public, Some(&base.public)).expect("verifies");
    assert!(v.freeze());
    assert!(
        verify(&now.public, None).is_err(),
        "a freeze claim needs its baseline"
    );
}

#[test]
fn refuses_a_total_over_the_cap_or_above_the_baseline() {
    let e = declare(input("US", records(SITES), 77, None), &mut rng(1)).expect_err("over the cap");
    assert!(
        matches!(
            e,
            FreezeError::Refused(Refusal::OverCap { total: 78, cap: 77 })
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("the total 78 exceeds the cap 77"),
        "{e}"
    );
    let base = honest();
    let e = declare(
        input(
            "US",
            records(&[("A", 79)]),
            100,
            Some((&base.public, &base.secret)),
        ),
        &mut rng(3),
    )
    .expect_err("grew");
    assert!(e.to_string().contains("exceeds the baseline's 78"), "{e}");
}

#[test]
fn site_disclosure_proves_the_site_complete() {
    let d = honest();
    let v = verify(&d.public, None).expect("verifies");
    for (s, n) in SITES {
        let x = disclose(&d.public, &d.secret, &Selector::Site((*s).into())).expect("discloses");
        let vd = verify_disclosure(&v, &x, &[]).expect("verifies");
        assert!(vd.complete());
        assert_eq!(vd.count(), *n as u64);
        assert_eq!(vd.kind(), Kind::Site);
    }
}

#[test]
fn category_disclosures_prove_the_category_complete() {
    let d = honest();
    let v = verify(&d.public, None).expect("verifies");
    let cat = disclose(
        &d.public,
        &d.secret,
        &Selector::Category(Category::NonStrategic),
    )
    .expect("discloses");
    // Category non_strategic is every i % 4 == 2: 2 at A, 6 at B, 1 at C, 10 at D.
    let vc = verify_disclosure(&v, &cat, &[]).expect("ok");
    assert!(vc.complete());
    assert_eq!(vc.count(), 2 + 6 + 1 + 10);
    let per_site: Vec<(String, u64)> = vc
        .counts()
        .iter()
        .map(|c| (c.site.clone(), c.count))
        .collect();
    assert_eq!(
        per_site,
        vec![
            ("A".to_string(), 2),
            ("B".to_string(), 6),
            ("C".to_string(), 1),
            ("D".to_string(), 10)
        ]
    );
    // One category at one site: C holds records 0, 1, 2, so one of each of
    // the first three categories and no awaiting_dismantlement.
    for (c, want) in [
        (Category::DeployedStrategic, 1),
        (Category::NonDeployedStrategic, 1),
        (Category::NonStrategic, 1),
        (Category::AwaitingDismantlement, 0),
    ] {
        let x = disclose(&d.public, &d.secret, &Selector::SiteCategory("C".into(), c))
            .expect("discloses");
        let vx = verify_disclosure(&v, &x, &[]).expect("verifies");
        assert_eq!((vx.count(), vx.complete()), (want, true), "{c:?}");
        assert!(vx.records().iter().all(|r| r.record.category == c));
    }
    // An identifier is not a complete anything.
    let one = disclose(&d.public, &d.secret, &Selector::Id("B-0003".into())).expect("id");
    assert!(!verify_disclosure(&v, &one, &[]).expect("ok").complete());
}

#[test]
fn rejects_incomplete_category_disclosure() {
    let d = honest();
    let v = verify(&d.public, None).expect("verifies");
    let full = disclose(
        &d.public,
        &d.secret,
        &Selector::SiteCategory("D".into(), Category::NonDeployedStrategic),
    )
    .expect("discloses");
    assert_eq!(full.count, 10);
    verify_disclosure(&v, &full, &[]).expect("the whole category verifies");

    // Leaving one record out, keeping the opened count: the range has a hole.
    let mut short = full.clone();
    short.records.remove(4);
    short.count = 9;
    let e = verify_disclosure(&v, &short, &[]).expect_err("a record left out");
    assert!(
        e.to_string()
            .contains("9 records disclosed but the committed count is 10"),
        "{e}"
    );

    // Leaving the last one out and claiming a count of 9: the commitment does not open.
    let mut fewer = full.clone();
    fewer.records.pop();
    fewer.count = 9;
    fewer.openings[0].count = 9;
    let e = verify_disclosure(&v, &fewer, &[]).expect_err("the count is committed");
    assert!(
        e.to_string().contains("does not open its commitment"),
        "{e}"
    );

    // A declarer that committed one fewer: the next leaf gives it away.
    let liar = declare_dishonestly(
        input("US", records(SITES), 100, None),
        &mut rng(6),
        Lie::UnderCount {
            site: "D".into(),
            category: Category::NonDeployedStrategic,
            by: 1,
        },
    )
    .expect("declares");
    let lv = verify(&liar.public, None).expect("the lie passes the cap proof");
    let mut x = disclose(
        &liar.public,
        &liar.secret,
        &Selector::SiteCategory("D".into(), Category::NonDeployedStrategic),
    )
    .expect("discloses");
    x.records.pop();
    x.count = 9;
    let e = verify_disclosure(&lv, &x, &[]).expect_err("the boundary gives it away");
    assert!(e.to_string().contains("also belongs to it"), "{e}");
    assert!(
        e.to_string()
            .contains("site D, category non_deployed_strategic"),
        "{e}"
    );

    // A category across sites must open every site's commitment to it.
    let mut across = disclose(
        &d.public,
        &d.secret,
        &Selector::Category(Category::AwaitingDismantlement),
    )
    .expect("discloses");
    let dropped = across.openings.remove(1);
    across.records.retain(|r| r.record.site != dropped.site);
    across.count = across.records.len() as u64;
    let e = verify_disclosure(&v, &across, &[]).expect_err("a site skipped");
    assert!(e.to_string().contains("at every one of the 4 sites"), "{e}");

    // A record of another category slipped into the range fails its leaf or
    // its category.
    let mut mixed = full;
    mixed.records[0].record.category = Category::DeployedStrategic;
    assert!(verify_disclosure(&v, &mixed, &[]).is_err());
}

#[test]
fn rejects_under_declared_site_disclosing_fewer_records() {
    // 25 records at B, but a commitment to 24: the proofs are consistent with the lie.
    let liar = declare_dishonestly(
        input("US", records(SITES), 100, None),
        &mut rng(4),
        Lie::UnderCount {
            site: "B".into(),
            category: Category::AwaitingDismantlement,
            by: 1,
        },
    )
    .expect("declares");
    let lv = verify(&liar.public, None).expect("the lie passes the cap proof");
    let full =
        disclose(&liar.public, &liar.secret, &Selector::Site("B".into())).expect("discloses");
    let e = verify_disclosure(&lv, &full, &[]).expect_err("25 records against a count of 24");
    assert!(
        e.to_string()
            .contains("25 records disclosed but the committed count is 24"),
        "{e}"
    );
    // Showing only 24: the next leaf is still B's, and says so.
    let mut short = full.clone();
    short.records.pop();
    short.count = 24;
    let e = verify_disclosure(&lv, &short, &[]).expect_err("the boundary gives it away");
    assert!(e.to_string().contains("also belongs to it"), "{e}");
    // Lying about the neighbour's site breaks its inclusion proof.
    let mut lie = short.clone();
    let site = &mut lie.openings[0];
    for b in &mut site.boundaries {
        if b.index > site.start {
            b.site_index = 2;
        }
    }
    let e = verify_disclosure(&lv, &lie, &[]).expect_err("a neighbour's key is bound");
    assert!(e.to_string().contains("not in the declared tree"), "{e}");
}

#[test]
fn rejects_record_moved_to_another_site() {
    let d = honest();
    let v = verify(&d.public, None).expect("verifies");
    let mut x = disclose(&d.public, &d.secret, &Selector::Id("A-0003".into())).expect("discloses");
    x.records[0].record.site = "B".into();
    let e = verify_disclosure(&v, &x, &[]).expect_err("moved");
    assert!(e.to_string().contains("not in the declared tree"), "{e}");
}

#[test]
fn rejects_wrong_salt_and_altered_record() {
    let d = honest();
    let v = verify(&d.public, None).expect("verifies");
    let x = disclose(&d.public, &d.secret, &Selector::Id("C-0001".into())).expect("discloses");
    let mut salt = x.clone();
    salt.records[0].salt = "00".repeat(32);
    assert!(verify_disclosure(&v, &salt, &[]).is_err());
    let mut altered = x.clone();
    altered.records[0].record.warhead_type = "W88".into();
    assert!(verify_disclosure(&v, &altered, &[]).is_err());
    let mut cat = x;
    cat.records[0].record.category = Category::AwaitingDismantlement;
    assert!(verify_disclosure(&v, &cat, &[]).is_err());
}

#[test]
fn rejects_proof_replayed_from_another_declaration_or_party() {
    let a = honest();
    let b = declare(input("US", records(SITES), 100, None), &mut rng(9)).expect("declares");
    let mut replay = b.public.clone();
    replay.cap_proof = a.public.cap_proof.clone();
    assert!(
        verify(&replay, None).is_err(),
        "another declaration's proof"
    );
    let mut other_party = a.public.clone();
    other_party.party = "RU".into();
    let e = verify(&other_party, None).expect_err("bound to the party");
    assert!(e.to_string().contains("cap proof"), "{e}");
    let mut other_checkpoint = a.public.clone();
    other_checkpoint.checkpoint = Some("another log state\n".into());
    assert!(
        verify(&other_checkpoint, None).is_err(),
        "bound to the checkpoint"
    );
}

#[test]
fn rejects_tampered_public_file() {
    let d = honest();
    let mut root = d.public.clone();
    root.root = d.public.sites[0].commitment.clone();
    assert!(verify(&root, None).is_err());
    let mut cap = d.public.clone();
    cap.cap = 78;
    assert!(verify(&cap, None).is_err(), "a lower cap than proven");
    let mut swapped = d.public.clone();
    swapped.sites.swap(0, 1);
    assert!(verify(&swapped, None).is_err());
    let mut com = d.public.clone();
    com.sites[1].commitment = d.public.sites[2].commitment.clone();
    assert!(verify(&com, None).is_err());
    // Category commitments that no longer sum to the site's.
    let mut cats = d.public.clone();
    cats.sites[1].categories.non_strategic =
        d.public.sites[1].categories.deployed_strategic.clone();
    let e = verify(&cats, None).expect_err("the sum is checked");
    assert!(
        e.to_string().contains(
            "commitment of B: the site's commitment is not the sum of its category commitments"
        ),
        "{e}"
    );
    // Category commitments swapped between categories (the sum still holds):
    // the proofs absorb every category commitment.
    let mut swapped_cats = d.public.clone();
    let c = &mut swapped_cats.sites[1].categories;
    std::mem::swap(&mut c.non_strategic, &mut c.deployed_strategic);
    let e = verify(&swapped_cats, None).expect_err("bound to the proof");
    assert!(e.to_string().contains("cap proof"), "{e}");
}

#[test]
fn rejects_dummy_leaf_claimed_as_real_warhead() {
    let d = honest();
    let v = verify(&d.public, None).expect("verifies");
    let (index, salt) = d.secret.dummies[0].clone();
    let salt = salt.to_hex();
    let good = disclose(&d.public, &d.secret, &Selector::Id("A-0000".into())).expect("discloses");
    let mut fake = good.clone();
    let proof = {
        let p = disclose(&d.public, &d.secret, &Selector::Site("D".into())).expect("d");
        // The boundary after D is the first dummy: take its proof.
        p.openings[0]
            .boundaries
            .iter()
            .find(|b| b.index == index)
            .expect("dummy boundary")
            .proof
            .clone()
    };
    fake.records = vec![OpenedRecord {
        index,
        salt,
        record: Record {
            id: "HIDDEN-1".into(),
            warhead_type: "W76-1".into(),
            category: Category::NonDeployedStrategic,
            site: "D".into(),
        },
        proof,
    }];
    let e = verify_disclosure(&v, &fake, &[]).expect_err("a dummy is not a warhead");
    assert!(e.to_string().contains("not in the declared tree"), "{e}");
}

#[test]
fn rejects_duplicate_identifiers() {
    let text = "{\"id\":\"X\",\"type\":\"W88\",\"category\":\"deployed_strategic\",\"site\":\"A\"}\n{\"id\":\"X\",\"type\":\"W88\",\"category\":\"deployed_strategic\",\"site\":\"B\"}\n";
    let e = parse_records("r.jsonl", text).expect_err("duplicate");
    assert!(e.to_string().contains("duplicate identifier `X`"), "{e}");
    let d = honest();
    let v = verify(&d.public, None).expect("verifies");
    let mut x = disclose(&d.public, &d.secret, &Selector::Id("A-0001".into())).expect("discloses");
    let again = x.records[0].clone();
    x.records.push(again);
    assert!(verify_disclosure(&v, &x, &[]).is_err());
}

#[test]
fn rejects_replayed_disclosure() {
    let a = honest();
    let b = declare(input("US", records(SITES), 100, None), &mut rng(5)).expect("declares");
    let x = disclose(&a.public, &a.secret, &Selector::Site("A".into())).expect("discloses");
    let vb = verify(&b.public, None).expect("verifies");
    let e = verify_disclosure(&vb, &x, &[]).expect_err("another declaration");
    assert!(e.to_string().contains("another declaration"), "{e}");
}

#[test]
fn disclosures_stay_consistent_with_earlier_ones() {
    let d = honest();
    let v = verify(&d.public, None).expect("verifies");
    let a = disclose(&d.public, &d.secret, &Selector::Site("A".into())).expect("a");
    let va = verify_disclosure(&v, &a, &[]).expect("a verifies");
    let c = disclose(
        &d.public,
        &d.secret,
        &Selector::Category(Category::DeployedStrategic),
    )
    .expect("c");
    let vc = verify_disclosure(&v, &c, std::slice::from_ref(&va)).expect("consistent");
    let id = disclose(&d.public, &d.secret, &Selector::Id("A-0004".into())).expect("id");
    verify_disclosure(&v, &id, &[va, vc]).expect("the same record again, the same leaf");
    // A forged earlier disclosure cannot become a verified one, so it cannot
    // be held against a later one.
    let mut forged_earlier = a.clone();
    forged_earlier.records[0].record.site = "Z".into();
    assert!(verify_disclosure(&v, &forged_earlier, &[]).is_err());
}

fn signed_checkpoint(size: u64) -> accord_log::VerifiedCheckpoint {
    let signer = Signer::from_seed("accord/freeze-2020/US", [7; 32]).expect("key");
    let cp = accord_log::Checkpoint {
        origin: "accord/freeze-2020/US".into(),
        size,
        hash: [size as u8; 32],
        extensions: vec![],
    };
    let note = signer.sign(&cp.to_text()).expect("signs");
    open_checkpoint(&note, &signer.verifier(), &[]).expect("verifies")
}

#[test]
fn challenges_are_recomputable_and_distinct() {
    let d = honest();
    let v = verify(&d.public, None).expect("verifies");
    let cp = signed_checkpoint(7);
    let x = challenge_from_checkpoint(&v, &cp, 3).expect("draw");
    let y = challenge_from_checkpoint(&v, &cp, 3).expect("draw");
    assert_eq!(x, y);
    let mut s = x.sites.clone();
    s.sort();
    s.dedup();
    assert_eq!(s.len(), 3);
    let other = challenge_from_checkpoint(&v, &signed_checkpoint(8), 4).expect("draw");
    assert_eq!(other.sites.len(), 4);
    assert!(challenge_from_checkpoint(&v, &cp, 5).is_err());
}

#[test]
fn refuses_an_old_format_with_a_clear_error() {
    let d = honest();
    let text = serde_json::to_string(&d.public).expect("json");
    assert_eq!(parse_public(&text).expect("parses"), d.public);
    // A v1 file: no category commitments, and the old version.
    let mut old: serde_json::Value = serde_json::from_str(&text).expect("json");
    old["version"] = "accord-freeze/v1".into();
    for s in old["sites"].as_array_mut().expect("sites") {
        s.as_object_mut().expect("site").remove("categories");
    }
    let e = parse_public(&old.to_string()).expect_err("v1");
    assert!(matches!(e, FreezeError::Version { ref found } if found == "accord-freeze/v1"));
    assert!(
        e.to_string().contains("before per-category commitments"),
        "{e}"
    );
    // The field at fault is named.
    let mut bad: serde_json::Value = serde_json::from_str(&text).expect("json");
    bad["sites"][2]["categories"]["non_strategic"] = 5.into();
    let e = parse_public(&bad.to_string()).expect_err("a number");
    assert!(
        e.to_string().contains("sites[2].categories.non_strategic"),
        "{e}"
    );
    let x = disclose(&d.public, &d.secret, &Selector::Site("A".into())).expect("x");
    let mut xv: serde_json::Value = serde_json::to_value(&x).expect("json");
    xv["version"] = "accord-freeze/v1".into();
    assert!(matches!(
        parse_disclosure(&xv.to_string()),
        Err(FreezeError::Version { .. })
    ));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]

    #[test]
    fn cap_proofs_hold_exactly_when_the_total_is_within_the_cap(a in 1usize..30, b in 1usize..30, slack in 0u64..5, seed in proptest::prelude::any::<u64>()) {
        let recs = records(&[("P", a), ("Q", b)]);
        let total = (a + b) as u64;
        let d = declare(input("RU", recs.clone(), total + slack, None), &mut rng(seed)).expect("declares");
        proptest::prop_assert!(verify(&d.public, None).is_ok());
        proptest::prop_assert!(declare(input("RU", recs, total - 1, None), &mut rng(seed)).is_err());
    }

    #[test]
    fn every_category_at_every_site_discloses_exactly_its_records(a in 0usize..12, b in 1usize..12, seed in proptest::prelude::any::<u64>()) {
        let recs = records(&[("P", a), ("Q", b)]);
        let d = declare(input("RU", recs.clone(), 100, None), &mut rng(seed)).expect("declares");
        let v = verify(&d.public, None).expect("verifies");
        let mut earlier = vec![];
        for site in v.site_names().map(str::to_string).collect::<Vec<_>>() {
            for c in Category::ALL {
                let x = disclose(&d.public, &d.secret, &Selector::SiteCategory(site.clone(), c)).expect("discloses");
                let vx = verify_disclosure(&v, &x, &earlier).expect("verifies");
                let want = recs.iter().filter(|r| r.site == site && r.category == c).count() as u64;
                proptest::prop_assert_eq!(vx.count(), want);
                earlier.push(vx);
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    #[test]
    fn canonical_records_are_rfc8785(id in "\\PC{1,20}", ty in "[ -~]{1,12}", site in "\\PC{1,16}", c in 0usize..4) {
        let r = Record { id, warhead_type: ty, category: Category::ALL[c], site };
        let oracle = serde_json_canonicalizer::to_vec(&r).expect("canonical");
        proptest::prop_assert_eq!(r.canonical(), oracle);
    }
}

mod drawn {
    use super::*;
    use accord_draw::{
        honest_draw, verify as verify_draw, Clock, DrawKind, Keys, MemoryLog, PartyLog, Purpose,
        Rule, Side, StatelessWitness,
    };

    fn purpose(kind: DrawKind, k: u32) -> Purpose {
        Purpose {
            draw: "freeze-2020/2021-08-01/RU-challenges-US".into(),
            kind,
            checking: PartyLog {
                party: "RU".into(),
                log: "accord/freeze-2020/RU".into(),
            },
            checked: PartyLog {
                party: "US".into(),
                log: "accord/freeze-2020/US".into(),
            },
            rule: Rule::distinct_sites(k),
        }
    }

    fn run(
        kind: DrawKind,
        population: accord_draw::Population,
        subject: Option<String>,
    ) -> accord_draw::VerifiedDraw {
        let ru = Signer::from_seed("accord/freeze-2020/RU", [4; 32]).expect("key");
        let us = Signer::from_seed("accord/freeze-2020/US", [5; 32]).expect("key");
        let w = Signer::from_seed("accord/freeze-2020/witness", [6; 32]).expect("key");
        let (t, v) = honest_draw(
            purpose(kind, 2),
            population,
            subject,
            Side {
                log: &mut MemoryLog::new(ru.name()),
                signer: &ru,
            },
            Side {
                log: &mut MemoryLog::new(us.name()),
                signer: &us,
            },
            &mut StatelessWitness(w.clone()),
            Clock::starting(1_612_483_200),
            &mut rng(11),
        )
        .expect("draw");
        let keys = Keys::new(ru.verifier(), us.verifier(), w.verifier()).expect("keys");
        assert_eq!(verify_draw(&t, &keys).expect("verifies"), v);
        v
    }

    #[test]
    fn a_challenge_drawn_by_the_protocol_is_the_declarations_sites() {
        let d = honest();
        let v = verify(&d.public, None).expect("verifies");
        let (population, subject) = challenge_population(&v);
        let draw = run(
            DrawKind::FreezeChallenge,
            population.clone(),
            Some(subject.clone()),
        );
        let c = challenge_sites(&v, &draw).expect("a challenge of this declaration");
        assert_eq!(c.sites.len(), 2);
        assert_ne!(c.sites[0], c.sites[1]);
        assert_eq!(c.draw.as_deref(), Some(draw.id()));
        for s in &c.sites {
            let x = disclose(&d.public, &d.secret, &Selector::Site(s.clone())).expect("x");
            assert!(verify_disclosure(&v, &x, &[]).expect("ok").complete());
        }
        // Another declaration, no subject, another kind: refused.
        let other = declare(input("US", records(SITES), 100, None), &mut rng(8)).expect("d");
        let vo = verify(&other.public, None).expect("verifies");
        let e = challenge_sites(&vo, &draw).expect_err("another declaration");
        assert!(e.to_string().contains("not of"), "{e}");
        let none = run(DrawKind::FreezeChallenge, population.clone(), None);
        assert!(challenge_sites(&v, &none).is_err());
        let inspection = run(DrawKind::Inspection, population, Some(subject.clone()));
        let e = challenge_sites(&v, &inspection).expect_err("an inspection draw");
        assert!(e.to_string().contains("not a freeze challenge"), "{e}");
        let fewer = run(
            DrawKind::FreezeChallenge,
            accord_draw::Population::of_sites(["A", "B", "C"]),
            Some(subject),
        );
        let e = challenge_sites(&v, &fewer).expect_err("a site left out");
        assert!(
            e.to_string().contains("not the declaration's site list"),
            "{e}"
        );
    }
}
