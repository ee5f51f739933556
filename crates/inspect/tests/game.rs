//! Plans, the simulation, and inspection records on a generated registry.

use accord_inspect::game::{evaluate, optimal, proportional, uniform, Objective, Site};
use accord_inspect::model::{sites, Violation};
use accord_inspect::record::{conduct, deployed_missiles, findings, Cheat, InspectionRecord};
use accord_inspect::sim::simulate;
use accord_registry::{FindingKind, State};
use accord_synth::{generate, Targets, Template};
use accord_treaty::{Status, Treaty};
use chrono::NaiveDate;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

fn state(party: &str) -> (Treaty, State) {
    let t = Treaty::load("new-start-2021").expect("treaty");
    let targets = if party == "US" {
        Targets {
            deployed_delivery_vehicles: 675,
            deployed_warheads: 1457,
            launchers: 800,
        }
    } else {
        Targets {
            deployed_delivery_vehicles: 510,
            deployed_warheads: 1447,
            launchers: 764,
        }
    };
    let f = generate(
        &t,
        &Template::load(party).expect("template"),
        targets,
        d(2020, 9, 1),
        7,
    )
    .expect("force");
    let (s, findings) = accord_registry::store::fold(&t, party, &f.notifications);
    assert!(findings.is_empty());
    (t, s)
}

fn site(name: &str, items: u64, violating: u64, gain: f64) -> Site {
    Site {
        facility: name.into(),
        items,
        violating,
        samples: 1,
        gain,
        warheads: items,
    }
}

#[test]
fn optimal_plan_leaves_the_cheater_indifferent_across_its_support() {
    let s = vec![
        site("A", 150, 5, 10.0),
        site("B", 100, 5, 20.0),
        site("C", 80, 5, 40.0),
        site("D", 40, 5, 1.0),
    ];
    let p = optimal(&s, 10, Objective::Gain).expect("plan");
    let sum: f64 = p.sites.iter().map(|x| x.probability).sum();
    assert!((sum - 1.0).abs() < 1e-12);
    let support: Vec<_> = p.sites.iter().filter(|x| x.probability > 1e-9).collect();
    for x in &support {
        assert!(
            (x.expected_undetected_gain - p.expected_undetected_gain).abs()
                < 1e-9 * p.expected_undetected_gain,
            "{x:?}"
        );
    }
    for x in p.sites.iter().filter(|x| x.probability <= 1e-9) {
        assert!(x.expected_undetected_gain <= p.expected_undetected_gain + 1e-12);
    }
}

#[test]
fn optimal_beats_uniform_proportional_and_a_brute_force_grid() {
    let s = vec![
        site("A", 150, 3, 6.0),
        site("B", 120, 3, 12.0),
        site("C", 40, 3, 12.0),
    ];
    let k = 10;
    let best = optimal(&s, k, Objective::Gain)
        .expect("plan")
        .expected_undetected_gain;
    assert!(
        best <= uniform(&s, k, Objective::Gain)
            .expect("plan")
            .expected_undetected_gain
            + 1e-12
    );
    assert!(
        best <= proportional(&s, k, Objective::Gain)
            .expect("plan")
            .expected_undetected_gain
            + 1e-12
    );
    // Every plan on a 1/200 grid of the simplex does no better.
    let steps = 200;
    for a in 0..=steps {
        for b in 0..=(steps - a) {
            let x = [
                a as f64 / steps as f64,
                b as f64 / steps as f64,
                (steps - a - b) as f64 / steps as f64,
            ];
            let v = evaluate("grid", &s, &x, k, Objective::Gain)
                .expect("plan")
                .expected_undetected_gain;
            assert!(v >= best - 1e-9, "grid point {x:?} gives {v} < {best}");
        }
    }
}

#[test]
fn one_inspection_matches_the_closed_form() {
    // k = 1, equal detection d = 0.1: sum over the support of (1 − v/g_j)/d = 1.
    // Both sites in the support: g = (10, 11) gives 19 = v (1 + 10/11), v = 209/21.
    let s = vec![site("A", 100, 10, 10.0), site("B", 100, 10, 11.0)];
    let p = optimal(&s, 1, Objective::Gain).expect("plan");
    assert!(
        (p.expected_undetected_gain - 209.0 / 21.0).abs() < 1e-9,
        "{}",
        p.expected_undetected_gain
    );
    // g = (10, 20): even always inspecting B leaves it worth 20 × 0.9 = 18 > 10,
    // so A leaves the support and v = 18 with B inspected every time.
    let s = vec![site("A", 100, 10, 10.0), site("B", 100, 10, 20.0)];
    let p = optimal(&s, 1, Objective::Gain).expect("plan");
    assert!(
        (p.expected_undetected_gain - 18.0).abs() < 1e-9,
        "{}",
        p.expected_undetected_gain
    );
    assert!((p.sites[1].probability - 1.0).abs() < 1e-9);
}

#[test]
fn detection_objective_maximises_the_worst_case_detection_probability() {
    let (t, s) = state("RU");
    let sites = sites(&t, &s, Violation::ExtraReentryVehicles { missiles: 5 });
    let p = optimal(&sites, 10, Objective::Detection).expect("plan");
    let u = uniform(&sites, 10, Objective::Detection).expect("plan");
    let w = proportional(&sites, 10, Objective::Detection).expect("plan");
    assert!(
        p.p_detect >= u.p_detect - 1e-12 && p.p_detect >= w.p_detect - 1e-12,
        "{} {} {}",
        p.p_detect,
        u.p_detect,
        w.p_detect
    );
    // Every site where the violation is possible is caught at least that
    // often; sites where it is not (missiles already at capacity) get nothing.
    for (x, site) in p.sites.iter().zip(&sites) {
        if site.gain > 0.0 {
            assert!(x.p_detect_year >= p.p_detect - 1e-9, "{x:?}");
        } else {
            assert!(x.probability < 1e-9, "{x:?}");
        }
    }
}

#[test]
fn plans_on_a_real_force_prefer_the_submarine_bases() {
    let (t, s) = state("US");
    let sites = sites(&t, &s, Violation::ExtraReentryVehicles { missiles: 5 });
    assert_eq!(
        sites.len(),
        5,
        "3 ICBM bases and 2 submarine bases: {sites:?}"
    );
    let p = optimal(&sites, 10, Objective::Gain).expect("plan");
    let u = uniform(&sites, 10, Objective::Gain).expect("plan");
    let w = proportional(&sites, 10, Objective::Gain).expect("plan");
    assert!(p.expected_undetected_gain <= u.expected_undetected_gain + 1e-12);
    assert!(p.expected_undetected_gain <= w.expected_undetected_gain + 1e-12);
    let subs: f64 = p
        .sites
        .iter()
        .filter(|x| x.facility.contains("BANGOR") || x.facility.contains("KINGSBAY"))
        .map(|x| x.probability)
        .sum();
    assert!(subs > 0.5, "Trident bases carry most of the plan: {subs}");
}

#[test]
fn monte_carlo_agrees_with_the_exact_value() {
    let (t, s) = state("RU");
    let sites = sites(&t, &s, Violation::ExtraReentryVehicles { missiles: 8 });
    let p = optimal(&sites, 10, Objective::Gain).expect("plan");
    let x: Vec<f64> = p.sites.iter().map(|x| x.probability).collect();
    let c = p
        .sites
        .iter()
        .position(|x| x.facility == p.best_response)
        .expect("best response");
    let sim = simulate(&sites, &x, c, 10, 40_000, 11, p.p_detect);
    assert!(
        sim.agrees,
        "exact {} outside [{}, {}] (rate {})",
        p.p_detect, sim.ci_low, sim.ci_high, sim.rate
    );
    // Several samples per inspection, too.
    let mut multi = sites.clone();
    for m in &mut multi {
        m.samples = 3.min(m.items);
    }
    let p3 = optimal(&multi, 4, Objective::Gain).expect("plan");
    let x3: Vec<f64> = p3.sites.iter().map(|x| x.probability).collect();
    let c3 = p3
        .sites
        .iter()
        .position(|x| x.facility == p3.best_response)
        .expect("best");
    let sim3 = simulate(&multi, &x3, c3, 4, 40_000, 12, p3.p_detect);
    assert!(
        sim3.agrees,
        "exact {} outside [{}, {}]",
        p3.p_detect, sim3.ci_low, sim3.ci_high
    );
}

#[allow(clippy::too_many_arguments)] // mirrors `conduct`, which takes the record's fields
fn record(
    t: &Treaty,
    s: &State,
    cheat: &Cheat,
    id: &str,
    ty: &str,
    site: &str,
    date: NaiveDate,
    sel: Vec<String>,
) -> InspectionRecord {
    conduct(t, s, cheat, id, "US", ty, site, date, date, sel).expect("allowed")
}

#[test]
fn refuses_what_the_treaty_does_not_allow() {
    let (t, s) = state("RU");
    let c = Cheat::default();
    let e = conduct(
        &t,
        &s,
        &c,
        "x",
        "US",
        "type_one",
        "RU-VOTKINSK",
        d(2020, 10, 1),
        d(2020, 10, 1),
        vec![],
    )
    .expect_err("wrong kind");
    assert!(e.reason.contains("a Type One inspection may visit icbm_base, submarine_base, air_base; RU-VOTKINSK is a production"), "{e}");
    let e = conduct(
        &t,
        &s,
        &c,
        "x",
        "US",
        "type_one",
        "RU-KOZELSK",
        d(2026, 3, 1),
        d(2026, 3, 1),
        vec![],
    )
    .expect_err("expired");
    assert!(e.reason.contains("outside the life"), "{e}");
    let e = conduct(
        &t,
        &s,
        &c,
        "x",
        "RU",
        "type_one",
        "RU-KOZELSK",
        d(2020, 10, 1),
        d(2020, 10, 1),
        vec![],
    )
    .expect_err("self");
    assert!(e.reason.contains("does not inspect itself"), "{e}");
    let e = conduct(
        &t,
        &s,
        &c,
        "x",
        "US",
        "type_three",
        "RU-KOZELSK",
        d(2020, 10, 1),
        d(2020, 10, 1),
        vec![],
    )
    .expect_err("type");
    assert!(e.reason.contains("not an inspection type"), "{e}");
}

#[test]
fn catches_extra_reentry_vehicles_undeclared_items_and_misreported_status() {
    let (t, s) = state("RU");
    let missiles = deployed_missiles(&t, &s, "RU-GADZHIYEVO");
    let mut cheat = Cheat::default();
    cheat.extra_reentry_vehicles.insert(missiles[0].clone(), 2);
    cheat.undeclared_items.insert("RU-VOTKINSK".into(), 4);
    let nd = s
        .items()
        .iter()
        .find(|i| {
            i.status == Status::NonDeployed
                && s.facility(match i.location {
                    accord_registry::Location::At(f) => f,
                    accord_registry::Location::InTransit { from } => from,
                })
                .id
                .as_ref()
                    == "RU-VOTKINSK"
        })
        .expect("item");
    cheat
        .misreported_status
        .insert(nd.id.to_string(), Status::Deployed);
    let recs = vec![
        record(
            &t,
            &s,
            &cheat,
            "T1-clean",
            "type_one",
            "RU-GADZHIYEVO",
            d(2020, 10, 1),
            vec![missiles[1].clone()],
        ),
        record(
            &t,
            &s,
            &cheat,
            "T1-caught",
            "type_one",
            "RU-GADZHIYEVO",
            d(2020, 10, 2),
            vec![missiles[0].clone()],
        ),
        record(
            &t,
            &s,
            &cheat,
            "T2",
            "type_two",
            "RU-VOTKINSK",
            d(2020, 10, 3),
            vec![nd.id.to_string()],
        ),
    ];
    let f = findings(&t, &recs, d(2020, 12, 1));
    let kinds: Vec<FindingKind> = f.iter().map(|x| x.kind).collect();
    assert_eq!(
        kinds,
        vec![
            FindingKind::ReentryVehicleDiscrepancy,
            FindingKind::StatusDiscrepancy,
            FindingKind::UndeclaredItems
        ]
    );
    assert!(
        f[0].message
            .contains(&format!("{} declared with", missiles[0])),
        "{}",
        f[0].message
    );
    assert_eq!(
        recs[1].results[0].found_reentry_vehicles,
        recs[1].results[0].declared_reentry_vehicles.map(|x| x + 2)
    );
}

#[test]
fn the_eleventh_type_one_inspection_of_a_treaty_year_exceeds_the_quota() {
    let (t, s) = state("RU");
    let c = Cheat::default();
    let mut recs = vec![];
    for i in 0..11 {
        recs.push(record(
            &t,
            &s,
            &c,
            &format!("T1-{i:02}"),
            "type_one",
            "RU-KOZELSK",
            d(2020, 9, 10) + chrono::Days::new(i * 7),
            vec![],
        ));
    }
    let f = findings(&t, &recs, d(2021, 1, 1));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, FindingKind::InspectionQuotaExceeded);
    assert!(
        f[0].message
            .contains("inspection 11 in the treaty year from 2020-02-05; the quota is 10"),
        "{}",
        f[0].message
    );
    // The next treaty year starts afresh.
    let mut next = recs[..10].to_vec();
    next.push(record(
        &t,
        &s,
        &c,
        "T1-next",
        "type_one",
        "RU-KOZELSK",
        d(2021, 2, 10),
        vec![],
    ));
    assert!(findings(&t, &next, d(2021, 3, 1)).is_empty());
}
