//! The SQLite store: append, reopen, rebuild, and bad input that changes nothing.

mod common;
use accord_registry::notification::parse_file;
use accord_registry::{InputError, Meta, Store, StoreError};
use common::*;

fn meta() -> Meta {
    Meta {
        party: "US".into(),
        treaty: "new-start-2021".into(),
        synthetic: false,
        provenance: "test".into(),
    }
}

fn batch(b: &B) -> Vec<(String, accord_registry::Notification)> {
    b.out
        .iter()
        .map(|n| (format!("test #{}", n.number), n.clone()))
        .collect()
}

fn fresh(b: &B) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut s = Store::create(dir.path(), meta()).expect("create");
    s.append(&treaty(), &batch(b)).expect("append");
    (dir, s)
}

#[test]
fn append_reopen_and_evaluate() {
    let b = B::small_us();
    let (dir, s) = fresh(&b);
    assert_eq!(s.len().expect("len"), b.out.len() as u64);
    drop(s);
    let s = Store::open(dir.path()).expect("reopen");
    assert_eq!(s.meta(), &meta());
    let r = s
        .evaluate(&treaty(), &[d(2020, 9, 1)])
        .expect("evaluate")
        .remove(0);
    assert_eq!(r.aggregates["deployed_warheads"], 6);
    assert_eq!(s.notifications().expect("read"), b.out);
}

#[test]
fn rebuild_from_notifications_alone_is_identical() {
    let mut b = B::small_us();
    b.on(d(2020, 9, 20)).remove("M1").depart("M1", "MAL");
    let (_dir, mut s) = fresh(&b);
    let items = s.items().expect("items");
    assert_eq!(
        items
            .iter()
            .find(|i| i.id == "M1")
            .and_then(|i| i.in_transit_from.clone()),
        Some("MAL".into())
    );
    assert!(s.rebuild(&treaty()).expect("rebuild"));
    assert_eq!(s.items().expect("items"), items);
}

#[test]
fn rebuild_repairs_a_tampered_state_table() {
    let (_dir, mut s) = fresh(&B::small_us());
    let before = s.items().expect("items");
    s.execute_raw("UPDATE items SET reentry_vehicles = 3 WHERE id = 'M1'")
        .expect("tamper");
    assert!(
        !s.rebuild(&treaty()).expect("rebuild"),
        "rebuild must notice the difference"
    );
    assert_eq!(s.items().expect("items"), before);
}

fn rejected(b: &B, extra: accord_registry::Notification) -> StoreError {
    let (_dir, mut s) = fresh(b);
    let n = s.len().expect("len");
    let items = s.items().expect("items");
    let e = s
        .append(&treaty(), &[("extra.jsonl:1".into(), extra)])
        .expect_err("must be rejected");
    assert_eq!(s.len().expect("len"), n, "nothing stored");
    assert_eq!(s.items().expect("items"), items, "state unchanged");
    e
}

#[test]
fn rejects_unknown_party_and_changes_nothing() {
    let b = B::small_us();
    let mut n = b.out[0].clone();
    n.party = "FR".into();
    n.number = 999;
    let e = rejected(&b, n).to_string();
    assert!(
        e.contains("extra.jsonl:1: field `party`: `FR` is not a party"),
        "{e}"
    );
}

#[test]
fn rejects_date_outside_the_treaty_life() {
    let b = B::small_us();
    let mut n = b.out[0].clone();
    n.number = 999;
    n.date = d(2026, 2, 5);
    n.sent = n.date;
    let e = rejected(&b, n).to_string();
    assert!(
        e.contains("field `date`: 2026-02-05 is outside the life of new-start-2021"),
        "{e}"
    );
}

#[test]
fn rejects_duplicate_notification_number() {
    let b = B::small_us();
    let n = b.out[3].clone();
    let e = rejected(&b, n).to_string();
    assert!(
        e.contains("field `number`: notification number 4 is already used"),
        "{e}"
    );
}

#[test]
fn rejects_duplicate_identifier_on_append() {
    let mut b = B::small_us();
    let mut extra = B::new("US", d(2020, 9, 2));
    extra.next = 500;
    extra.entry(
        "M1",
        "icbm",
        "minuteman-iii",
        "MAL",
        accord_treaty::Status::NonDeployed,
    );
    let e = rejected(&b, extra.out.remove(0));
    match e {
        StoreError::Input(InputError::Rejected {
            number, finding, ..
        }) => {
            assert_eq!(number, 500);
            assert_eq!(
                finding.kind,
                accord_registry::FindingKind::DuplicateIdentifier
            );
        }
        other => panic!("expected a rejection, got {other}"),
    }
    b.out.clear();
}

#[test]
fn rejects_a_late_arrival_that_would_break_later_history() {
    // Eliminating M2 on a date before it was deployed makes the stored
    // deployment impossible: rejected, though the elimination alone is fine.
    let mut b = B::small_us();
    b.on(d(2020, 9, 10)).deploy("M2", Some("S2"), Some(1));
    let mut extra = B::new("US", d(2020, 9, 5));
    extra.next = 600;
    extra.eliminate("M2");
    let e = rejected(&b, extra.out.remove(0)).to_string();
    assert!(e.contains("eliminated"), "{e}");
}

#[test]
fn accepts_a_late_notification_as_a_finding_not_an_error() {
    let b = B::small_us();
    let (_dir, mut s) = fresh(&b);
    let mut extra = B::new("US", d(2020, 9, 3));
    extra.next = 700;
    extra.remove("M1").sent_late(12);
    s.append(&treaty(), &batch(&extra))
        .expect("late is accepted");
    let r = s
        .evaluate(&treaty(), &[d(2020, 9, 20)])
        .expect("eval")
        .remove(0);
    assert_eq!(r.findings.len(), 1);
    assert_eq!(
        r.findings[0].kind,
        accord_registry::FindingKind::LateNotification
    );
}

fn parse_err(text: &str) -> String {
    match parse_file("n.jsonl", text) {
        Ok(_) => panic!("expected a parse error"),
        Err(e) => e.to_string(),
    }
}

const GOOD: &str = r#"{"party":"US","number":1,"date":"2020-09-01","sent":"2020-09-02","event":{"kind":"reentry_vehicle_change","item":"D1","reentry_vehicles":4}}"#;

#[test]
fn parses_json_lines_array_and_single_object() {
    assert_eq!(
        parse_file("n.jsonl", &format!("# comment\n\n{GOOD}\n{GOOD}\n"))
            .expect("jsonl")
            .len(),
        2
    );
    assert_eq!(
        parse_file("n.json", &format!("[{GOOD},{GOOD}]"))
            .expect("array")
            .len(),
        2
    );
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(GOOD).expect("json"),
    )
    .expect("pretty");
    assert_eq!(parse_file("n.json", &pretty).expect("object").len(), 1);
}

#[test]
fn rejects_negative_count_naming_line_and_field() {
    let e = parse_err(&format!(
        "{GOOD}\n{}",
        GOOD.replace("\"reentry_vehicles\":4", "\"reentry_vehicles\":-4")
    ));
    assert!(
        e.starts_with("n.jsonl:2: field `event.reentry_vehicles`:"),
        "{e}"
    );
    assert!(e.contains("-4"), "{e}");
}

#[test]
fn rejects_non_integer_count() {
    let e = parse_err(&GOOD.replace("\"reentry_vehicles\":4", "\"reentry_vehicles\":4.5"));
    assert!(e.contains("field `event.reentry_vehicles`"), "{e}");
}

#[test]
fn rejects_missing_field() {
    let e = parse_err(&GOOD.replace("\"item\":\"D1\",", ""));
    assert!(e.contains("missing field `item`"), "{e}");
}

#[test]
fn rejects_unknown_field_and_misspelt_kind() {
    let e = parse_err(&GOOD.replace("\"sent\"", "\"snet\""));
    assert!(e.contains("unknown field `snet`"), "{e}");
    let e = parse_err(&GOOD.replace("reentry_vehicle_change", "reentry_vehicle_chnage"));
    assert!(e.contains("reentry_vehicle_chnage"), "{e}");
}

#[test]
fn rejects_bad_date() {
    let e = parse_err(&GOOD.replace("2020-09-01", "2020-13-01"));
    assert!(e.contains("field `date`"), "{e}");
}
