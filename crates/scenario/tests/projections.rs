//! Projections: known answers on hand-built forces, the US upload potential
//! of 1 Sep 2020 from its published breakdown, and properties of the fold.

use accord_scenario::data::{load_futures, Futures, Stockpile, Upload};
use accord_scenario::force::{Force, System};
use accord_scenario::{compare, project, Loaded, Regime, Start};
use chrono::NaiveDate;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn system(name: &str, deployed: u64, non_deployed: u64, loaded: u64, capacity: u32) -> System {
    System {
        name: name.into(),
        kind: "icbm".into(),
        deployed,
        non_deployed,
        test: 0,
        loaded,
        capacity,
        capacity_source: "hand-built".into(),
    }
}

fn futures(party: &str, stockpile: u64, rate: f64) -> Futures {
    Futures {
        party: party.into(),
        stockpile: Stockpile {
            warheads: stockpile,
            source: "hand-built".into(),
            strategic: None,
            strategic_source: None,
            trajectory: vec![],
        },
        upload: Upload {
            per_year: rate,
            source: "hand-built".into(),
        },
        bombers: vec![],
        modernisation: vec![],
        start: None,
    }
}

fn start(party: &str, systems: Vec<System>, date: NaiveDate) -> Start {
    Start {
        force: Force {
            party: party.into(),
            date,
            systems,
            items: 1000,
            notes: vec![],
        },
        provenance: "hand-built".into(),
        synthetic: true,
    }
}

/// After New START lapses on 5 Feb 2021 a party with 100 warheads on 100
/// missiles of capacity 4 and 20 empty launchers (potential 300 + 80 = 380)
/// loads a quarter of it a year: 100, 195, 290, 385, 480, 480; a stockpile
/// of 300 caps it.
#[test]
fn expiry_uploads_a_share_a_year_within_the_stockpile() {
    let from = d("2021-02-05");
    let p = Loaded::load("expire-2021").expect("proposal");
    let mut forces = BTreeMap::new();
    forces.insert(
        "US".to_string(),
        start("US", vec![system("m", 100, 20, 100, 4)], from),
    );
    forces.insert(
        "RU".to_string(),
        start("RU", vec![system("r", 100, 20, 100, 4)], from),
    );
    let mut fut = BTreeMap::new();
    fut.insert("US".to_string(), futures("US", 10_000, 0.25));
    fut.insert("RU".to_string(), futures("RU", 300, 0.25));
    let o = project(&p, from, 5, &forces, &fut).expect("projection");
    assert_eq!(o.expires, Some(from));
    assert_eq!(o.days_left, Some(0));
    let us: Vec<u64> = o
        .timeline
        .iter()
        .map(|y| y.parties["US"].deployed_warheads)
        .collect();
    assert_eq!(us, vec![100, 195, 290, 385, 480, 480]);
    let ru: Vec<u64> = o
        .timeline
        .iter()
        .map(|y| y.parties["RU"].deployed_warheads)
        .collect();
    assert_eq!(ru, vec![100, 195, 290, 300, 300, 300]);
    assert!(o
        .timeline
        .iter()
        .all(|y| y.regime == Regime::None && y.limits.is_empty()));
    assert_eq!(o.timeline[0].parties["US"].ceiling, 480);
    assert_eq!(o.timeline[0].parties["RU"].ceiling, 300);
    // Delivery vehicles: the 20 non-deployed launchers come back a quarter a year.
    let dv: Vec<u64> = o
        .timeline
        .iter()
        .map(|y| y.parties["US"].deployed_delivery_vehicles)
        .collect();
    assert_eq!(dv, vec![100, 105, 110, 115, 120, 120]);
}

/// Under the extended treaty a force above the limits is held within them,
/// and everything is verifiable; from 5 Feb 2026 nothing is.
#[test]
fn the_treaty_holds_forces_within_its_limits_and_verifies_them() {
    let from = d("2021-02-05");
    let p = Loaded::load("extend-2021").expect("proposal");
    let mut forces = BTreeMap::new();
    forces.insert(
        "US".to_string(),
        start("US", vec![system("m", 800, 50, 1600, 4)], from),
    );
    forces.insert(
        "RU".to_string(),
        start("RU", vec![system("r", 500, 0, 1400, 4)], from),
    );
    let mut fut = BTreeMap::new();
    fut.insert("US".to_string(), futures("US", 5000, 0.5));
    fut.insert("RU".to_string(), futures("RU", 5000, 0.5));
    let o = project(&p, from, 6, &forces, &fut).expect("projection");
    assert_eq!(
        (o.expires, o.days_left),
        (Some(d("2026-02-05")), Some(1826))
    );
    let first = &o.timeline[0];
    assert_eq!(first.regime, Regime::Treaty);
    let us = &first.parties["US"];
    assert_eq!(
        (us.deployed_delivery_vehicles, us.deployed_warheads),
        (700, 1550)
    );
    assert_eq!(us.deployed_and_nondeployed_launchers, 800);
    assert!(us.held_at_limit);
    assert!(!first.parties["RU"].held_at_limit);
    assert_eq!(first.verification.inspections_per_year, 36);
    assert_eq!(first.verification.items_under_declaration, 2000);
    assert_eq!(first.verification.data_exchanges_per_year, 2);
    let lapse = o
        .timeline
        .iter()
        .find(|y| y.date == d("2026-02-05"))
        .expect("the expiry is a point");
    assert_eq!(lapse.regime, Regime::None);
    assert_eq!(lapse.verification.inspections_per_year, 0);
    // On expiry day nothing is uploaded yet; a year later half the potential.
    assert_eq!(lapse.parties["RU"].deployed_warheads, 1400);
    let last = o.timeline.last().expect("last");
    assert_eq!(last.date, d("2027-02-05"));
    assert_eq!(
        last.parties["RU"].deployed_warheads,
        1400 + (2000 - 1400) / 2
    );
}

/// Russia's 2025 offer: the limits hold for a year after expiry, but
/// nothing is verified; the freeze of 2020 covers every warhead.
#[test]
fn observed_limits_are_unverified_and_a_freeze_covers_every_warhead() {
    let from = d("2025-10-01");
    let p = Loaded::load("keep-limits-2026").expect("proposal");
    let mut forces = BTreeMap::new();
    forces.insert(
        "US".to_string(),
        start("US", vec![system("m", 600, 0, 1500, 4)], from),
    );
    forces.insert(
        "RU".to_string(),
        start("RU", vec![system("r", 500, 0, 1500, 4)], from),
    );
    let mut fut = BTreeMap::new();
    fut.insert("US".to_string(), futures("US", 3800, 0.25));
    fut.insert("RU".to_string(), futures("RU", 4310, 0.25));
    let o = project(&p, from, 3, &forces, &fut).expect("projection");
    assert_eq!(o.expires, Some(d("2027-02-05")));
    assert_eq!(o.days_left, Some((d("2027-02-05") - from).num_days()));
    let observed = o
        .timeline
        .iter()
        .find(|y| y.date == d("2026-02-05"))
        .expect("point");
    assert_eq!(observed.regime, Regime::Observed);
    assert_eq!(observed.limits.len(), 3);
    assert_eq!(observed.verification.inspections_per_year, 0);
    assert_eq!(observed.verification.items_under_declaration, 0);
    assert!(o
        .deadlines
        .iter()
        .any(|x| x.date == d("2027-02-05") && x.what.contains("unverified")));

    let f = Loaded::load("freeze-2020-us").expect("proposal");
    let from = d("2020-10-20");
    let o = project(&f, from, 2, &forces, &fut).expect("projection");
    assert_eq!((o.expires, o.days_left), (Some(d("2022-02-05")), Some(473)));
    let frozen = o
        .timeline
        .iter()
        .find(|y| y.date == d("2021-02-05"))
        .expect("point");
    assert!(frozen
        .limits
        .iter()
        .any(|l| l.id == "total_warhead_stockpile" && l.max.is_none()));
    assert_eq!(frozen.verification.freeze_coverage, 1.0);
    assert_eq!(frozen.verification.declared_share, 1.0);
    // Russia's offer: the same freeze, political and unverified: it covers nothing.
    let r = Loaded::load("freeze-2020-ru").expect("proposal");
    let o_ru = project(&r, from, 2, &forces, &fut).expect("projection");
    let political = o_ru
        .timeline
        .iter()
        .find(|y| y.date == d("2021-02-05"))
        .expect("point");
    assert_eq!(political.verification.freeze_coverage, 0.0);
    let freeze = political
        .limits
        .iter()
        .find(|l| l.id == "total_warhead_stockpile")
        .expect("the freeze is a limit of the offer");
    assert!(!freeze.verified);
    assert!(political
        .limits
        .iter()
        .filter(|l| l.id != "total_warhead_stockpile")
        .all(|l| l.verified));
    let want_ru = (1500.0 + 1500.0) / (3800.0 + 4310.0);
    assert!((political.verification.declared_share - want_ru).abs() < 1e-12);
    assert!(o_ru.terms.iter().any(|t| t.id == "no-verification"));
    assert!(o.terms.iter().any(|t| t.id == "verified-freeze"));
    // Before the freeze binds only the deployed strategic warheads are counted.
    let before = &o.timeline[0];
    let want = (1500.0 + 1500.0) / (3800.0 + 4310.0);
    assert_eq!(before.verification.freeze_coverage, 0.0);
    assert!((before.verification.declared_share - want).abs() < 1e-12);
}

/// The issue's anchor: from 20 Oct 2020 the 5 Feb 2021 expiry is 108 days.
#[test]
fn days_left_from_20_october_2020_to_the_2021_expiry_is_108() {
    let from = d("2020-10-20");
    let p = Loaded::load("expire-2021").expect("proposal");
    let mut forces = BTreeMap::new();
    for party in ["US", "RU"] {
        forces.insert(
            party.to_string(),
            start(party, vec![system("m", 1, 0, 1, 1)], from),
        );
    }
    let mut fut = BTreeMap::new();
    fut.insert("US".to_string(), futures("US", 10, 0.1));
    fut.insert("RU".to_string(), futures("RU", 10, 0.1));
    let c = compare(&[p], from, 1, forces, fut).expect("compare");
    let o = &c.proposals[0];
    assert_eq!(
        (o.name.as_str(), o.expires, o.days_left),
        ("expire-2021", Some(d("2021-02-05")), Some(108))
    );
    assert!(o
        .deadlines
        .iter()
        .any(|x| x.date == d("2021-02-05") && x.days_left == 108));
}

/// The United States on 1 Sep 2020 (675 / 1,457 / 800): its upload
/// potential from the declared loadings and the sourced type capacities.
///
/// Published breakdown (State Dept, 1 Sep 2020, in `data/forces/US.toml`):
/// 397 deployed Minuteman III with one warhead each in 454 silos (57
/// non-deployed, 4 of them test silos); 230 deployed Trident II with 1,012
/// warheads in 280 tubes (50 non-deployed); 12 + 8 B-2A (1 test) and
/// 36 + 10 B-52H (4 test) deployed + non-deployed. Test items have no
/// upload potential.
/// Capacities: MM-III 3 (Mk-12A, an assumption), D5 8 (US Navy), B-2A 16
/// (assumption), B-52H 20.
#[test]
fn us_upload_potential_on_1_september_2020() {
    let treaty = accord_treaty::Treaty::load("new-start").expect("treaty");
    let fut = load_futures("US").expect("futures");
    let s = accord_scenario::start::published(&treaty, "US", d("2020-10-20"), &fut, 7)
        .expect("generated");
    assert!(s.provenance.contains("2020-09-01") && s.provenance.contains("675 / 1457 / 800"));
    let t = s.force.totals();
    assert_eq!(
        (
            t.deployed_delivery_vehicles,
            t.deployed_warheads,
            t.deployed_and_nondeployed_launchers
        ),
        (675, 1457, 800)
    );
    let by = |n: &str| {
        s.force
            .systems
            .iter()
            .find(|x| x.name == n)
            .unwrap_or_else(|| panic!("{n}"))
            .clone()
    };
    // The 57 non-deployed silos of the fact sheet are 53 empty operational
    // silos and 4 test silos; test items count in the 800 but carry no
    // upload potential.
    let mm = by("minuteman-iii");
    assert_eq!(
        (
            mm.deployed,
            mm.non_deployed,
            mm.test,
            mm.loaded,
            mm.capacity
        ),
        (397, 53, 4, 397, 3)
    );
    let d5 = by("trident-ii-d5");
    assert_eq!(
        (d5.deployed, d5.non_deployed, d5.loaded, d5.capacity),
        (230, 50, 1012, 8)
    );
    let b2 = by("b-2a");
    assert_eq!(
        (
            b2.deployed,
            b2.non_deployed,
            b2.test,
            b2.loaded,
            b2.capacity
        ),
        (12, 7, 1, 12, 16)
    );
    let b52 = by("b-52h");
    assert_eq!(
        (
            b52.deployed,
            b52.non_deployed,
            b52.test,
            b52.loaded,
            b52.capacity
        ),
        (36, 6, 4, 36, 20)
    );
    let missiles = 397 * (3 - 1) + (230 * 8 - 1012);
    let bombers = 12 * (16 - 1) + 36 * (20 - 1);
    let returned = 53 * 3 + 50 * 8 + 7 * 16 + 6 * 20;
    assert_eq!((missiles, bombers, returned), (1622, 864, 791));
    assert_eq!(t.upload_potential, 3277);
    assert!(s.force.notes.is_empty(), "{:?}", s.force.notes);
}

proptest! {
    /// Whatever the force, stockpile and rate: the projection never passes
    /// the ceiling, the ceiling never passes the stockpile, and once no limit
    /// binds the projection never falls.
    #[test]
    fn projections_stay_under_the_ceiling_and_never_fall_after_lapse(
        deployed in 0u64..500, non_deployed in 0u64..100, per in 1u64..5,
        capacity in 1u32..10, stockpile in 0u64..6000, rate in 0.0f64..1.0,
    ) {
        let loaded = (deployed * per).min(deployed * u64::from(capacity));
        let from = d("2021-02-05");
        let p = Loaded::load("expire-2021").expect("proposal");
        let mut forces = BTreeMap::new();
        let mut fut = BTreeMap::new();
        for party in ["US", "RU"] {
            forces.insert(party.to_string(), start(party, vec![system("m", deployed, non_deployed, loaded, capacity)], from));
            fut.insert(party.to_string(), futures(party, stockpile, rate));
        }
        let o = project(&p, from, 8, &forces, &fut).expect("projection");
        let mut last = 0;
        for y in &o.timeline {
            let x = &y.parties["US"];
            prop_assert!(x.deployed_warheads <= x.ceiling);
            prop_assert!(x.ceiling <= x.stockpile);
            prop_assert!(x.deployed_warheads >= last);
            last = x.deployed_warheads;
        }
        prop_assert_eq!(o.timeline[0].parties["US"].deployed_warheads, loaded.min(stockpile));
    }

    /// A replacement conserves positions (times its launcher ratio) and
    /// never loads more than the new capacity.
    #[test]
    fn replacements_conserve_positions(
        deployed in 0u64..300, non_deployed in 0u64..60, per_year in 1u64..50,
        years in 0u32..12, capacity in 1u32..12,
    ) {
        let from = d("2021-01-01");
        let f = Force { party: "US".into(), date: from, systems: vec![system("old", deployed, non_deployed, deployed * 2, 2)], items: 0, notes: vec![] };
        let step = accord_scenario::data::Step {
            replaces: Some("old".into()), adds: None, system: Some("new".into()),
            start: from, per_year, launcher_ratio: None, capacity, loading: None, until: None,
            source: "test".into(),
        };
        let g = f.modernised(&[step], accord_scenario::add_years(from, years));
        let total: u64 = g.systems.iter().map(|s| s.deployed + s.non_deployed).sum();
        prop_assert_eq!(total, deployed + non_deployed);
        for s in &g.systems {
            prop_assert!(s.loaded <= s.deployed * u64::from(s.capacity));
        }
        let moved = g.systems.iter().find(|s| s.name == "new").map_or(0, |s| s.deployed + s.non_deployed);
        // The force is dated on the step's first day: that year's move is
        // already in it.
        prop_assert_eq!(moved, (per_year * u64::from(years)).min(deployed + non_deployed));
    }
}

/// What happened: no inspection after March 2020, no Russian data from
/// 1 Mar 2023 (and none from the US, withheld), then nothing.
#[test]
fn expire_2026_counts_what_actually_happened() {
    let from = d("2020-10-20");
    let p = Loaded::load("expire-2026").expect("proposal");
    assert!(p.record.is_some());
    let mut forces = BTreeMap::new();
    let mut fut = BTreeMap::new();
    for party in ["US", "RU"] {
        forces.insert(
            party.to_string(),
            start(party, vec![system("m", 500, 50, 1400, 4)], from),
        );
        fut.insert(party.to_string(), futures(party, 4000, 0.25));
    }
    let c = compare(&[p], from, 6, forces, fut).expect("compare");
    let o = &c.proposals[0];
    assert!(o
        .timeline
        .iter()
        .all(|y| y.verification.inspections_per_year == 0));
    let at = |date: &str| {
        o.timeline
            .iter()
            .find(|y| y.date == d(date))
            .expect("point")
    };
    let first = at("2020-10-20");
    assert_eq!(first.verification.data_exchanges_by_party["RU"], 2);
    let y2022 = at("2022-10-20");
    // 1 Mar 2023 is not provided; 1 Sep 2023 neither.
    assert_eq!(y2022.verification.data_exchanges_by_party["RU"], 0);
    assert_eq!(y2022.verification.data_exchanges_by_party["US"], 0);
    assert_eq!(
        y2022.verification.data_exchanges_per_year, 2,
        "owed all the same"
    );
    let table = accord_scenario::report::table(&c);
    assert!(table.contains("expire-2026"), "{table}");
    let line = table
        .lines()
        .find(|l| l.contains("expire-2026"))
        .expect("row");
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cols[cols.iter().position(|c| *c == "limits").expect("regime") + 1],
        "0",
        "{line}"
    );
}

/// Upload ceilings from what exists: never above the strategic stockpile
/// (Russia 1,570 + 870 = 2,440; the US at most 3,650), from the forces
/// generated at 1 Sep 2020.
#[test]
fn ceilings_stay_within_the_strategic_stockpiles() {
    let treaty = accord_treaty::Treaty::load("new-start").expect("treaty");
    let from = d("2020-10-20");
    let mut forces = BTreeMap::new();
    let mut fut = BTreeMap::new();
    for party in ["US", "RU"] {
        let f = load_futures(party).expect("futures");
        forces.insert(
            party.to_string(),
            accord_scenario::start::published(&treaty, party, from, &f, 7).expect("start"),
        );
        fut.insert(party.to_string(), f);
    }
    let p = Loaded::load("expire-2021").expect("proposal");
    let o = project(&p, from, 10, &forces, &fut).expect("projection");
    for y in &o.timeline {
        assert!(
            y.parties["RU"].ceiling <= 2440,
            "{}: {}",
            y.date,
            y.parties["RU"].ceiling
        );
        assert!(
            y.parties["US"].ceiling <= 3650,
            "{}: {}",
            y.date,
            y.parties["US"].ceiling
        );
        for x in y.parties.values() {
            assert!(x.deployed_warheads <= x.ceiling && x.ceiling <= x.strategic_stockpile);
            assert!(x.strategic_stockpile <= x.stockpile);
        }
    }
    assert_eq!(
        o.timeline.last().map(|y| y.parties["RU"].ceiling),
        Some(2440)
    );
}

#[test]
fn chinas_stockpile_follows_its_trajectory_with_its_band() {
    let cn = load_futures("CN").expect("futures");
    assert_eq!(cn.stockpile.total_on(d("2024-01-01")), 500);
    assert_eq!(cn.stockpile.band_on(d("2024-01-01")), Some([500, 500]));
    assert_eq!(cn.stockpile.total_on(d("2030-01-01")), 1000);
    assert_eq!(cn.stockpile.band_on(d("2031-06-01")), Some([500, 1000]));
    assert_eq!(cn.stockpile.total_on(d("2021-01-01")), 350);
    assert_eq!(cn.stockpile.band_on(d("2021-01-01")), Some([200, 350]));
    // Halfway from 2024 to 2027: 500 → 700.
    let mid = cn.stockpile.total_on(d("2025-07-02"));
    assert!((599..=601).contains(&mid), "{mid}");
}
