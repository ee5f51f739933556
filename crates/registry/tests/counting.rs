//! Article III counting on hand-built registries, and every finding kind.

mod common;
use accord_registry::{evaluate, FindingKind, Report};
use accord_treaty::Status;
use common::*;

fn at(b: &B, date: chrono::NaiveDate) -> Report {
    evaluate(&treaty(), &b.party, &b.out, &[date], false).remove(0)
}

fn kinds(r: &Report) -> Vec<FindingKind> {
    r.findings.iter().map(|f| f.kind).collect()
}

#[test]
fn deployed_missile_counts_its_declared_reentry_vehicles() {
    let b = B::small_us();
    let r = at(&b, d(2020, 9, 1));
    // M1 (1 RV) + D1 (4 RVs) + one for the deployed bomber B1.
    assert_eq!(r.aggregates["deployed_warheads"], 6);
    assert_eq!(r.aggregates["deployed_delivery_vehicles"], 3);
    assert!(r.is_clean(), "{:?}", r.findings);
}

#[test]
fn launchers_count_deployed_non_deployed_and_test_but_not_converted() {
    let b = B::small_us();
    let r = at(&b, d(2020, 9, 1));
    // S1, S2, T1, T2, B1, B2, and the test launcher TL and test bomber B3
    // (test items are non-deployed, inside the 800) = 8; the converted
    // bomber B4 is outside the limit.
    assert_eq!(r.aggregates["deployed_and_nondeployed_launchers"], 8);
    // Under Russia's objections the converted bomber counts too.
    let ru = treaty().with_reading("ru-objections").expect("reading");
    let r = evaluate(&ru, &b.party, &b.out, &[d(2020, 9, 1)], false).remove(0);
    assert_eq!(r.aggregates["deployed_and_nondeployed_launchers"], 9);
}

#[test]
fn non_deployed_missiles_count_toward_nothing() {
    let mut b = B::small_us();
    b.entry("M9", "icbm", "minuteman-iii", "MAL", Status::NonDeployed);
    let r = at(&b, d(2020, 9, 1));
    assert_eq!(r.aggregates["deployed_delivery_vehicles"], 3);
    assert_eq!(r.aggregates["deployed_warheads"], 6);
}

#[test]
fn removing_a_missile_empties_its_launcher_which_stays_counted() {
    let mut b = B::small_us();
    b.on(d(2020, 10, 1)).remove("M1");
    let r = at(&b, d(2020, 10, 1));
    assert_eq!(r.aggregates["deployed_delivery_vehicles"], 2);
    assert_eq!(r.aggregates["deployed_warheads"], 5);
    assert_eq!(r.aggregates["deployed_and_nondeployed_launchers"], 8);
    // The state before the removal is unchanged.
    assert_eq!(at(&b, d(2020, 9, 30)).aggregates["deployed_warheads"], 6);
}

#[test]
fn heavy_bomber_counts_one_warhead_whatever_it_carries() {
    let mut b = B::small_us();
    b.deploy("B2", None, None);
    let r = at(&b, d(2020, 9, 1));
    assert_eq!(r.aggregates["deployed_warheads"], 7);
}

#[test]
fn converting_a_bomber_removes_it_from_the_launcher_count() {
    let mut b = B::small_us();
    b.on(d(2020, 9, 2))
        .convert("B2", accord_registry::ConvertedTo::NonNuclear);
    assert_eq!(
        at(&b, d(2020, 9, 2)).aggregates["deployed_and_nondeployed_launchers"],
        7
    );
}

#[test]
fn elimination_removes_a_launcher() {
    let mut b = B::small_us();
    b.on(d(2020, 9, 3)).eliminate("S2");
    assert_eq!(
        at(&b, d(2020, 9, 3)).aggregates["deployed_and_nondeployed_launchers"],
        7
    );
}

#[test]
fn reentry_vehicle_change_changes_the_warhead_count() {
    let mut b = B::small_us();
    b.on(d(2020, 9, 5)).rv("D1", 6);
    assert_eq!(at(&b, d(2020, 9, 5)).aggregates["deployed_warheads"], 8);
}

#[test]
fn finds_limit_exceeded_only_while_binding() {
    let mut b = B::new("US", d(2017, 9, 1));
    b.facility("KB", accord_treaty::FacilityKind::SubmarineBase);
    // 200 Trident with 8 RVs = 1,600 deployed warheads.
    for i in 0..200 {
        b.entry(
            &format!("T{i}"),
            "slbm_launcher",
            "ohio-tube",
            "KB",
            Status::NonDeployed,
        )
        .entry(
            &format!("D{i}"),
            "slbm",
            "trident-ii-d5",
            "KB",
            Status::NonDeployed,
        )
        .deploy(&format!("D{i}"), Some(&format!("T{i}")), Some(8));
    }
    for date in [d(2017, 9, 1), d(2018, 3, 1), d(2018, 9, 1)] {
        b.on(date).exchange(200, 1600, 200);
    }
    let before = at(&b, d(2018, 2, 4));
    assert_eq!(before.aggregates["deployed_warheads"], 1600);
    assert!(before.is_clean(), "{:?}", before.findings);
    let after = at(&b, d(2019, 3, 1));
    assert_eq!(kinds(&after), vec![FindingKind::LimitExceeded]);
    assert!(after.findings[0]
        .message
        .contains("1600 is above the limit of 1550"));
}

#[test]
fn finds_late_notification() {
    let mut b = B::small_us();
    b.on(d(2020, 9, 10)).remove("M1").sent_late(9);
    let r = at(&b, d(2020, 9, 30));
    assert_eq!(kinds(&r), vec![FindingKind::LateNotification]);
    assert!(
        r.findings[0]
            .message
            .contains("9 days after the change; due by 2020-09-15"),
        "{}",
        r.findings[0].message
    );
    // Five days is on time.
    let mut ok = B::small_us();
    ok.on(d(2020, 9, 10)).remove("M1").sent_late(5);
    assert!(at(&ok, d(2020, 9, 30)).is_clean());
}

#[test]
fn reentry_vehicle_change_is_due_with_the_next_data_exchange() {
    let mut b = B::small_us();
    b.on(d(2020, 9, 10)).rv("D1", 5).sent_late(20);
    assert!(at(&b, d(2020, 12, 1))
        .findings
        .iter()
        .all(|f| f.kind != FindingKind::LateNotification));
}

#[test]
fn finds_unknown_item() {
    let mut b = B::small_us();
    b.remove("M77");
    assert_eq!(
        kinds(&at(&b, d(2020, 9, 1))),
        vec![FindingKind::UnknownItem]
    );
}

#[test]
fn finds_duplicate_identifier() {
    let mut b = B::small_us();
    b.entry("M1", "icbm", "minuteman-iii", "MAL", Status::NonDeployed);
    let r = at(&b, d(2020, 9, 1));
    assert_eq!(kinds(&r), vec![FindingKind::DuplicateIdentifier]);
    // The state is unchanged by the rejected entry.
    assert_eq!(r.aggregates["deployed_warheads"], 6);
}

#[test]
fn finds_deploying_an_eliminated_item() {
    let mut b = B::small_us();
    b.on(d(2020, 9, 2))
        .eliminate("M2")
        .deploy("M2", Some("S2"), Some(1));
    assert_eq!(
        kinds(&at(&b, d(2020, 9, 2))),
        vec![FindingKind::DeployingEliminated]
    );
}

#[test]
fn finds_more_reentry_vehicles_than_the_type_carries() {
    let mut b = B::small_us();
    b.deploy("M2", Some("S2"), Some(4));
    let r = at(&b, d(2020, 9, 1));
    assert_eq!(kinds(&r), vec![FindingKind::TooManyReentryVehicles]);
    assert!(r.findings[0].message.contains("at most 3"));
    // What was declared is what counts.
    assert_eq!(r.aggregates["deployed_warheads"], 10);
}

#[test]
fn finds_one_item_in_two_places() {
    let mut b = B::small_us();
    b.on(d(2020, 9, 2))
        .depart("B2", "WHI")
        .arrive("B2", "HILL")
        .arrive("B2", "DM");
    let r = at(&b, d(2020, 9, 2));
    assert_eq!(kinds(&r), vec![FindingKind::ItemInTwoPlaces]);
    assert!(r.findings[0]
        .message
        .contains("registered at HILL and never departed"));
    let mut c = B::small_us();
    c.on(d(2020, 9, 2)).depart("B2", "HILL");
    assert_eq!(
        kinds(&at(&c, d(2020, 9, 2))),
        vec![FindingKind::ItemInTwoPlaces]
    );
}

#[test]
fn finds_unknown_facility_and_unknown_type() {
    let mut b = B::small_us();
    b.entry(
        "X1",
        "icbm",
        "minuteman-iii",
        "NOWHERE",
        Status::NonDeployed,
    )
    .entry("X2", "icbm", "rs-24-yars", "MAL", Status::NonDeployed);
    assert_eq!(
        kinds(&at(&b, d(2020, 9, 1))),
        vec![FindingKind::UnknownFacility, FindingKind::UnknownItemType]
    );
}

#[test]
fn finds_invalid_transitions() {
    let mut b = B::small_us();
    b.deploy("M2", Some("S1"), Some(1)) // S1 already holds M1
        .remove("B2") // not deployed
        .depart("M1", "MAL"); // deployed items do not move
    let k = kinds(&at(&b, d(2020, 9, 1)));
    assert_eq!(k, vec![FindingKind::InvalidTransition; 3]);
}

#[test]
fn finds_data_exchange_mismatch_with_the_differences() {
    let mut b = B::small_us();
    b.exchange(3, 7, 8);
    let r = at(&b, d(2020, 9, 1));
    assert_eq!(kinds(&r), vec![FindingKind::DataExchangeMismatch]);
    let diff = &r.findings[0].differences;
    assert_eq!(diff.len(), 1);
    assert_eq!(
        (diff[0].limit.as_str(), diff[0].declared, diff[0].item_level),
        ("deployed_warheads", 7, 6)
    );
}

#[test]
fn data_exchange_describes_the_end_of_its_day() {
    // A change on the as-of date, notified later than the exchange itself,
    // still belongs to the state the exchange describes.
    let mut b = B::small_us();
    b.exchange(2, 5, 8);
    b.on(d(2020, 9, 1)).remove("M1");
    let r = at(&b, d(2020, 9, 1));
    assert!(r.is_clean(), "{:?}", r.findings);
}

#[test]
fn finds_missing_data_exchange() {
    let b = B::small_us();
    let r = at(&b, d(2021, 4, 1));
    // Due 2020-10-01 (as of 2020-09-01) and 2021-03-31 (as of 2021-03-01).
    assert_eq!(kinds(&r), vec![FindingKind::MissingDataExchange; 2]);
    let mut c = B::small_us();
    c.exchange(3, 6, 8);
    c.on(d(2021, 3, 1)).exchange(3, 6, 8);
    assert!(at(&c, d(2021, 4, 1)).is_clean());
}

#[test]
fn freeze_limit_binds_at_the_baseline() {
    let t = accord_treaty::Treaty::load("freeze-2020").expect("loads");
    let mut b = B::new("US", d(2020, 11, 1));
    b.facility("PX", accord_treaty::FacilityKind::Storage);
    for i in 0..10 {
        b.entry(
            &format!("W{i}"),
            "warhead",
            "warhead-us",
            "PX",
            Status::NonDeployed,
        );
    }
    b.on(d(2021, 6, 1))
        .entry("W10", "warhead", "warhead-us", "PX", Status::NonDeployed);
    let r = evaluate(&t, "US", &b.out, &[d(2021, 3, 1), d(2021, 6, 1)], false);
    let lim = |r: &Report| {
        r.limits
            .iter()
            .find(|l| l.id == "total_warhead_stockpile")
            .cloned()
            .expect("freeze")
    };
    assert_eq!((lim(&r[0]).value, lim(&r[0]).max), (10, Some(10)));
    assert!(r[0]
        .findings
        .iter()
        .all(|f| f.kind != FindingKind::LimitExceeded));
    assert_eq!(
        (lim(&r[1]).value, lim(&r[1]).max, lim(&r[1]).exceeded),
        (11, Some(10), true)
    );
}

#[test]
fn reports_come_back_in_the_order_asked() {
    let mut b = B::small_us();
    b.on(d(2020, 10, 1)).remove("M1");
    let r = evaluate(
        &treaty(),
        "US",
        &b.out,
        &[d(2020, 10, 1), d(2020, 9, 1)],
        false,
    );
    assert_eq!(r[0].aggregates["deployed_warheads"], 5);
    assert_eq!(r[1].aggregates["deployed_warheads"], 6);
}
