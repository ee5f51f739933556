//! Every published history row against the limits binding on its date.

use accord_registry::history::{self, Cell, BUILTIN_AGGREGATES};
use accord_treaty::Treaty;
use chrono::NaiveDate;

fn rows() -> Vec<history::CheckedRow> {
    let t = Treaty::load("new-start-2021").expect("treaty");
    let rows =
        history::parse("data/new-start-aggregates.csv", BUILTIN_AGGREGATES, &t).expect("parses");
    history::check(&rows, &t)
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

#[test]
fn every_row_parses_with_its_source() {
    let r = rows();
    assert_eq!(r.len(), 50);
    assert!(r.iter().all(|x| x.source_url.starts_with("http")));
}

#[test]
fn every_row_from_5_february_2018_is_compliant() {
    let r = rows();
    let since: Vec<_> = r.iter().filter(|x| x.date >= d(2018, 2, 5)).collect();
    assert_eq!(since.len(), 22);
    for x in since {
        assert!(x.limits.iter().all(|l| l.binding), "{} {}", x.date, x.party);
        assert!(
            x.findings.is_empty(),
            "{} {}: {:?}",
            x.date,
            x.party,
            x.findings
        );
    }
}

#[test]
fn russia_1566_warheads_in_2011_is_above_the_limit_but_no_finding() {
    let r = rows();
    let row = r
        .iter()
        .find(|x| x.date == d(2011, 9, 1) && x.party == "RU")
        .expect("row");
    let w = row
        .limits
        .iter()
        .find(|l| l.id == "deployed_warheads")
        .expect("warheads");
    assert_eq!(w.value, Cell::Value(1566));
    assert!(w.above && !w.binding && !w.exceeded);
    assert!(row.findings.is_empty());
}

#[test]
fn the_same_row_after_2018_is_a_finding() {
    let t = Treaty::load("new-start-2021").expect("treaty");
    let text =
        BUILTIN_AGGREGATES.replace("2011-09-01,RU,516,1566,871", "2019-06-01,RU,516,1566,871");
    let rows = history::check(&history::parse("x.csv", &text, &t).expect("parses"), &t);
    let row = rows.iter().find(|x| x.date == d(2019, 6, 1)).expect("row");
    // Both the 1,566 warheads and the 871 launchers are now findings.
    assert_eq!(row.findings.len(), 2);
    assert!(
        row.findings[0]
            .contains("deployed_warheads on 2019-06-01: 1566 is above the limit of 1550"),
        "{}",
        row.findings[0]
    );
    assert!(
        row.findings[1].contains("871 is above the limit of 800"),
        "{}",
        row.findings[1]
    );
}

#[test]
fn unconfirmed_and_not_provided_are_never_zero() {
    let r = rows();
    let ru = r
        .iter()
        .find(|x| x.date == d(2023, 3, 1) && x.party == "RU")
        .expect("row");
    assert!(ru.limits.iter().all(|l| l.value == Cell::NotProvided));
    let us = r
        .iter()
        .find(|x| x.date == d(2012, 9, 1) && x.party == "US")
        .expect("row");
    let v: Vec<Cell> = us.limits.iter().map(|l| l.value).collect();
    assert!(v.contains(&Cell::Unconfirmed) && v.contains(&Cell::Value(1722)));
}

#[test]
fn rows_after_expiry_of_the_unextended_treaty_bind_nothing() {
    let t = Treaty::load("new-start").expect("treaty");
    let rows = history::check(
        &history::parse("x.csv", BUILTIN_AGGREGATES, &t).expect("parses"),
        &t,
    );
    let late = rows.iter().find(|x| x.date == d(2022, 3, 1)).expect("row");
    assert!(!late.in_force && late.limits.iter().all(|l| !l.binding));
}

fn err(text: &str) -> String {
    let t = Treaty::load("new-start-2021").expect("treaty");
    match history::parse("bad.csv", text, &t) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str = "date,party,deployed_delivery_vehicles,deployed_warheads,deployed_and_nondeployed_launchers,source_url\n";

#[test]
fn rejects_negative_count_naming_line_and_column() {
    let e = err(&format!(
        "{HEAD}2011-02-05,US,882,1800,1124,http://x\n2011-02-05,RU,521,-5,865,http://x\n"
    ));
    assert!(
        e.starts_with("bad.csv:3: field `deployed_warheads`: `-5`"),
        "{e}"
    );
}

#[test]
fn rejects_unknown_party_bad_date_and_unknown_column() {
    assert!(
        err(&format!("{HEAD}2011-02-05,UK,1,1,1,http://x\n")).contains("bad.csv:2: field `party`")
    );
    assert!(
        err(&format!("{HEAD}2011-02-30,US,1,1,1,http://x\n")).contains("bad.csv:2: field `date`")
    );
    assert!(err("date,party,warheads,source_url\n").contains("field `warheads`: not a limit"));
    assert!(err(&format!("{HEAD}2011-02-05,US,1,1,1,\n")).contains("field `source_url`"));
}

fn checked(reading: Option<&str>) -> Vec<history::CheckedRow> {
    let t = Treaty::load("new-start-2021").expect("treaty");
    let t = match reading {
        Some(r) => t.with_reading(r).expect("reading"),
        None => t,
    };
    let rows =
        history::parse("data/new-start-aggregates.csv", BUILTIN_AGGREGATES, &t).expect("parses");
    let record = accord_treaty::Record::builtin_for(&t)
        .expect("record")
        .expect("loads");
    history::check_with(&rows, &t, Some(&record))
}

/// Russia's arithmetic: the published US 800 plus 56 Trident II tubes, 41
/// B-52H and 4 training silos is 901, 101 over Article II.1(c).
#[test]
fn under_russias_objections_every_us_row_since_2018_is_101_over() {
    let r = checked(Some("ru-objections"));
    let us: Vec<_> = r
        .iter()
        .filter(|x| x.party == "US" && x.date >= d(2018, 2, 5) && x.date <= d(2023, 3, 1))
        .filter(|x| {
            x.limits.iter().any(|l| {
                l.id == "deployed_and_nondeployed_launchers"
                    && l.published == Some(Cell::Value(800))
            })
        })
        .collect();
    assert_eq!(us.len(), 10, "every US row that publishes 800");
    for x in us {
        let l = x
            .limits
            .iter()
            .find(|l| l.id == "deployed_and_nondeployed_launchers")
            .expect("limit");
        assert_eq!(
            (l.value, l.exceeded),
            (Cell::Value(901), true),
            "{}",
            x.date
        );
        assert!(
            x.findings[0].contains("901 is above the limit of 800"),
            "{:?}",
            x.findings
        );
        assert!(x.findings[0].contains("published 800 + 101 (56 Trident II SLBM launchers + 41 B-52H heavy bombers + 4 silo training launchers)"), "{:?}", x.findings);
    }
    // Russia's own rows are unchanged.
    assert!(r
        .iter()
        .filter(|x| x.party == "RU")
        .all(|x| x.findings.is_empty()));
}

#[test]
fn russia_provided_no_data_from_1_march_2023_and_the_us_withheld_its_own() {
    let r = checked(None);
    let missing: Vec<(NaiveDate, &str)> = r
        .iter()
        .filter_map(|x| {
            x.missing_data_exchange
                .as_ref()
                .map(|_| (x.date, x.party.as_str()))
        })
        .collect();
    let dates = [
        d(2023, 3, 1),
        d(2023, 9, 1),
        d(2024, 3, 1),
        d(2024, 9, 1),
        d(2025, 3, 1),
        d(2025, 9, 1),
    ];
    let want: Vec<(NaiveDate, &str)> = dates.iter().flat_map(|&a| [(a, "US"), (a, "RU")]).collect();
    assert_eq!(missing, want);
    let ru = r
        .iter()
        .find(|x| x.date == d(2023, 3, 1) && x.party == "RU")
        .and_then(|x| x.missing_data_exchange.as_ref())
        .expect("finding");
    assert_eq!(ru.kind, accord_registry::FindingKind::MissingDataExchange);
    assert_eq!(ru.date, d(2023, 3, 31));
    assert!(ru.message.contains("was not provided"), "{}", ru.message);
    let us = r
        .iter()
        .find(|x| x.date == d(2023, 3, 1) && x.party == "US")
        .and_then(|x| x.missing_data_exchange.as_ref())
        .expect("finding");
    assert!(
        us.message.contains("withheld as a countermeasure"),
        "{}",
        us.message
    );
    // The 50 published rows and 10 rows for the exchanges never made.
    assert_eq!(r.len(), 60);
    // Nothing was missing before 2023.
    assert!(r
        .iter()
        .filter(|x| x.date < d(2023, 3, 1))
        .all(|x| x.missing_data_exchange.is_none()));
}
