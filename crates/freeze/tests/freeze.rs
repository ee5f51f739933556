//! The verified freeze: honest use, and every attack the issue names.

use accord_freeze::declaration::{declare_dishonestly, DeclareInput, Lie};
use accord_freeze::disclosure::OpenedRecord;
use accord_freeze::*;
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
    assert_eq!((v.sites, v.cap, v.freeze), (4, 100, false));
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
    assert!(v.freeze);
    assert!(
        verify(&now.public, None).is_err(),
        "a freeze claim needs its baseline"
    );
}

#[test]
fn refuses_a_total_over_the_cap_or_above_the_baseline() {
    let e = declare(input("US", records(SITES), 77, None), &mut rng(1)).expect_err("over the cap");
    assert!(
        matches!(e, FreezeError::Refused(ref m) if m.contains("the total 78 exceeds the cap 77")),
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
    for s in ["A", "B", "C", "D"] {
        let x = disclose(&d.public, &d.secret, &Selector::Site(s.into())).expect("discloses");
        let v = verify_disclosure(&d.public, &x, &[]).expect("verifies");
        assert!(v.complete);
    }
    let cat = disclose(
        &d.public,
        &d.secret,
        &Selector::Category(Category::NonStrategic),
    )
    .expect("discloses");
    // Category non_strategic is every i % 4 == 2: 2 at A, 6 at B, 1 at C, 10 at D.
    assert_eq!(
        verify_disclosure(&d.public, &cat, &[]).expect("ok").records,
        2 + 6 + 1 + 10
    );
}

#[test]
fn rejects_under_declared_site_disclosing_fewer_records() {
    // 25 records at B, but a commitment to 24: the proofs are consistent with the lie.
    let liar = declare_dishonestly(
        input("US", records(SITES), 100, None),
        &mut rng(4),
        Lie::UnderCount {
            site: "B".into(),
            by: 1,
        },
    )
    .expect("declares");
    verify(&liar.public, None).expect("the lie passes the cap proof");
    let full =
        disclose(&liar.public, &liar.secret, &Selector::Site("B".into())).expect("discloses");
    let e =
        verify_disclosure(&liar.public, &full, &[]).expect_err("25 records against a count of 24");
    assert!(
        e.to_string()
            .contains("25 records disclosed but the committed count is 24"),
        "{e}"
    );
    // Showing only 24: the next leaf is still B's, and says so.
    let mut short = full.clone();
    short.records.pop();
    short.count = 24;
    let e = verify_disclosure(&liar.public, &short, &[]).expect_err("the boundary gives it away");
    assert!(e.to_string().contains("also belongs to it"), "{e}");
    // Lying about the neighbour's site breaks its inclusion proof.
    let mut lie = short.clone();
    if let Some(site) = lie.site.as_mut() {
        for b in &mut site.boundaries {
            if b.index > site.start {
                b.site_index = 2;
            }
        }
    }
    assert!(verify_disclosure(&liar.public, &lie, &[]).is_err());
}

#[test]
fn rejects_record_moved_to_another_site() {
    let d = honest();
    let mut x = disclose(&d.public, &d.secret, &Selector::Id("A-0003".into())).expect("discloses");
    x.records[0].record.site = "B".into();
    let e = verify_disclosure(&d.public, &x, &[]).expect_err("moved");
    assert!(e.to_string().contains("not in the declared tree"), "{e}");
}

#[test]
fn rejects_wrong_salt_and_altered_record() {
    let d = honest();
    let x = disclose(&d.public, &d.secret, &Selector::Id("C-0001".into())).expect("discloses");
    let mut salt = x.clone();
    salt.records[0].salt = "00".repeat(32);
    assert!(verify_disclosure(&d.public, &salt, &[]).is_err());
    let mut altered = x.clone();
    altered.records[0].record.warhead_type = "W88".into();
    assert!(verify_disclosure(&d.public, &altered, &[]).is_err());
    let mut cat = x;
    cat.records[0].record.category = Category::AwaitingDismantlement;
    assert!(verify_disclosure(&d.public, &cat, &[]).is_err());
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
    // A disclosure of the original does not verify against a tampered file.
    let x = disclose(&d.public, &d.secret, &Selector::Site("A".into())).expect("discloses");
    assert!(verify_disclosure(&cap, &x, &[]).is_err());
}

#[test]
fn rejects_dummy_leaf_claimed_as_real_warhead() {
    let d = honest();
    let (index, salt) = d.secret.dummies[0].clone();
    let salt = salt.to_hex();
    let good = disclose(&d.public, &d.secret, &Selector::Id("A-0000".into())).expect("discloses");
    let mut fake = good.clone();
    let proof = {
        let p = disclose(&d.public, &d.secret, &Selector::Site("D".into())).expect("d");
        // The boundary after D is the first dummy: take its proof.
        p.site
            .expect("site")
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
    let e = verify_disclosure(&d.public, &fake, &[]).expect_err("a dummy is not a warhead");
    assert!(e.to_string().contains("not in the declared tree"), "{e}");
}

#[test]
fn rejects_duplicate_identifiers() {
    let text = "{\"id\":\"X\",\"type\":\"W88\",\"category\":\"deployed_strategic\",\"site\":\"A\"}\n{\"id\":\"X\",\"type\":\"W88\",\"category\":\"deployed_strategic\",\"site\":\"B\"}\n";
    let e = parse_records("r.jsonl", text).expect_err("duplicate");
    assert!(e.to_string().contains("duplicate identifier `X`"), "{e}");
    let d = honest();
    let mut x = disclose(&d.public, &d.secret, &Selector::Id("A-0001".into())).expect("discloses");
    let again = x.records[0].clone();
    x.records.push(again);
    assert!(verify_disclosure(&d.public, &x, &[]).is_err());
}

#[test]
fn rejects_replayed_disclosure() {
    let a = honest();
    let b = declare(input("US", records(SITES), 100, None), &mut rng(5)).expect("declares");
    let x = disclose(&a.public, &a.secret, &Selector::Site("A".into())).expect("discloses");
    let e = verify_disclosure(&b.public, &x, &[]).expect_err("another declaration");
    assert!(e.to_string().contains("another declaration"), "{e}");
}

#[test]
fn disclosures_stay_consistent_with_earlier_ones() {
    let d = honest();
    let a = disclose(&d.public, &d.secret, &Selector::Site("A".into())).expect("a");
    let c = disclose(
        &d.public,
        &d.secret,
        &Selector::Category(Category::DeployedStrategic),
    )
    .expect("c");
    verify_disclosure(&d.public, &c, std::slice::from_ref(&a)).expect("consistent");
    let mut forged_earlier = a.clone();
    forged_earlier.records[0].record.site = "Z".into();
    assert!(verify_disclosure(&d.public, &c, &[forged_earlier]).is_err());
}

#[test]
fn challenges_are_recomputable_and_distinct() {
    let d = honest();
    let x = challenge_sites(&d.public, "accord/freeze-2020/US\n7\nabc=\n", 3).expect("draw");
    let y = challenge_sites(&d.public, "accord/freeze-2020/US\n7\nabc=\n", 3).expect("draw");
    assert_eq!(x, y);
    let mut s = x.sites.clone();
    s.sort();
    s.dedup();
    assert_eq!(s.len(), 3);
    let other = challenge_sites(&d.public, "accord/freeze-2020/US\n8\nabd=\n", 4).expect("draw");
    assert_eq!(other.sites.len(), 4);
    assert!(challenge_sites(&d.public, "x", 5).is_err());
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
