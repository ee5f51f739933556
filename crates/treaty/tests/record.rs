//! Readings, the notification catalogue, withdrawal, and the implementation
//! record: known answers from the sources, and bad input refused with file,
//! line and field.

use accord_treaty::record::{ExchangeStatus, Record};
use accord_treaty::{Deadline, Status, TimelineStatus, Treaty, TreatyError};
use chrono::NaiveDate;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

fn extended() -> Treaty {
    Treaty::load("new-start-2021").expect("built-in loads")
}

fn record() -> Record {
    Record::builtin_for(&extended())
        .expect("a built-in record")
        .expect("it loads")
}

#[test]
fn readings_are_named_and_sourced() {
    let t = extended();
    let ids: Vec<&str> = t.readings().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["us", "ru-objections"]);
    assert!(t.readings().iter().all(|r| r.source.contains("http")));
    let ru = t.with_reading("ru-objections").expect("reading");
    assert_eq!(ru.reading.as_deref(), Some("ru-objections"));
    let l = ru
        .limit("deployed_and_nondeployed_launchers")
        .expect("limit");
    let statuses: Vec<Status> = l.count.iter().flat_map(|c| c.statuses.clone()).collect();
    assert!(statuses.contains(&Status::Converted) && statuses.contains(&Status::Training));
    // Applying a reading twice, or another one after it, never stacks terms.
    let again = ru.with_reading("ru-objections").expect("reading");
    assert_eq!(
        again
            .limit("deployed_and_nondeployed_launchers")
            .map(|l| l.count.len()),
        Some(3)
    );
    assert_eq!(
        ru.name,
        "New START (extended 2021) (reading: ru-objections)"
    );
    let back = ru.with_reading("us").expect("reading");
    assert_eq!(
        (back.name.as_str(), back.reading.as_deref()),
        ("New START (extended 2021)", None)
    );
    assert_eq!(
        back.limit("deployed_and_nondeployed_launchers")
            .map(|l| l.count.len()),
        Some(1)
    );
    let adj = ru.published_adjustments();
    assert_eq!((adj[0].party.as_str(), adj[0].add), ("US", 101));
    assert!(matches!(
        t.with_reading("cn"),
        Err(TreatyError::UnknownReading { ref known, .. }) if known == "us, ru-objections"
    ));
}

#[test]
fn every_notification_type_has_its_deadline() {
    let t = extended();
    let deadline = |k: &str| t.notification_type(k).map(|n| n.deadline);
    assert_eq!(deadline("departure"), Some(Deadline::AfterEvent(5)));
    assert_eq!(
        deadline("reentry_vehicle_change"),
        Some(Deadline::NextDataExchange)
    );
    assert_eq!(
        deadline("data_exchange"),
        Some(Deadline::DataExchangeSchedule)
    );
    assert_eq!(
        deadline("launch_notification"),
        Some(Deadline::InAdvance(1))
    );
    assert!(t
        .notification_types
        .iter()
        .all(|n| n.source.contains("http") || n.source.contains("ASSUMPTION")));
    assert!(t.data_categories.len() >= 15);
}

#[test]
fn rejects_a_notification_type_without_a_deadline() {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../treaties/new-start.toml"),
    )
    .expect("read");
    let bad = src.replacen(
        "id = \"heavy_bomber_exit\"\nname = \"exit of a heavy bomber from national territory for more than 24 hours\"\narticle = \"Protocol Part Four (heavy bombers outside national territory)\"\ndeadline_days = 5\n",
        "id = \"heavy_bomber_exit\"\nname = \"exit\"\narticle = \"x\"\n",
        1,
    );
    assert_ne!(bad, src);
    let e = Treaty::from_str("t.toml", &bad)
        .expect_err("no deadline")
        .to_string();
    assert!(e.starts_with("t.toml:"), "{e}");
    assert!(
        e.contains("notification_types[") && e.contains("needs exactly one deadline"),
        "{e}"
    );
    let line: usize = e
        .split(':')
        .nth(1)
        .and_then(|x| x.parse().ok())
        .expect("line");
    assert!(
        bad.lines()
            .nth(line - 1)
            .is_some_and(|l| l.contains("heavy_bomber_exit") || l.contains("notification_types")),
        "{e}"
    );
}

#[test]
fn timeline_2020_06_01_in_force_inspections_paused() {
    let t = extended();
    let r = record();
    let tl = t.timeline_with(Some(&r), d(2020, 6, 1));
    assert_eq!(tl.status, TimelineStatus::InForce);
    let on = tl.record.expect("record");
    assert!(!on.inspections_conducted);
    assert_eq!(on.inspections_paused_since, Some(d(2020, 3, 1)));
    assert!(on.suspended.is_empty() && on.facilities_exempted.is_empty());
    for p in &on.exchanges {
        assert_eq!(p.last_provided, Some(d(2020, 3, 1)), "{}", p.party);
        assert!(p.missing.is_empty());
    }
}

#[test]
fn timeline_2022_09_01_exempted_and_an_exchange_under_way() {
    let on = record().on(&extended(), d(2022, 9, 1));
    assert_eq!(
        on.facilities_exempted,
        vec![("RU".to_string(), d(2022, 8, 8))]
    );
    for p in &on.exchanges {
        assert_eq!(p.last_provided, Some(d(2022, 3, 1)));
        assert_eq!(
            p.pending,
            Some((d(2022, 9, 1), d(2022, 10, 1), ExchangeStatus::Provided))
        );
    }
}

#[test]
fn timeline_2023_06_01_in_force_suspended_by_russia_disputed_by_the_us() {
    let t = extended();
    let tl = t.timeline_with(Some(&record()), d(2023, 6, 1));
    assert_eq!(tl.status, TimelineStatus::InForce);
    let on = tl.record.expect("record");
    assert_eq!(on.suspended.len(), 1);
    let s = &on.suspended[0];
    assert_eq!((s.party.as_str(), s.since), ("RU", d(2023, 2, 28)));
    assert_eq!(s.disputed_by, vec!["US".to_string()]);
    let ex = |p: &str| on.exchanges.iter().find(|x| x.party == p).expect("party");
    assert_eq!(ex("RU").last_provided, Some(d(2022, 9, 1)));
    assert_eq!(
        ex("RU").missing,
        vec![(d(2023, 3, 1), ExchangeStatus::NotProvided)]
    );
    assert_eq!(
        ex("US").missing,
        vec![(d(2023, 3, 1), ExchangeStatus::Withheld)]
    );
    let withheld: Vec<&str> = on
        .notifications_withheld
        .iter()
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(withheld, vec!["RU", "US"]);
    assert_eq!(
        on.launch_notifications,
        vec!["RU".to_string(), "US".to_string()]
    );
}

#[test]
fn timeline_2026_02_06_expired() {
    let t = extended();
    let tl = t.timeline_with(Some(&record()), d(2026, 2, 6));
    assert_eq!(tl.status, TimelineStatus::Expired);
    let on = tl.record.expect("record");
    let ru = on.exchanges.iter().find(|x| x.party == "RU").expect("RU");
    // Six exchanges due from 1 Mar 2023 to 1 Sep 2025, none provided.
    assert_eq!(ru.missing.len(), 6);
    assert_eq!(ru.missing.last().map(|m| m.0), Some(d(2025, 9, 1)));
    assert!(on
        .events
        .iter()
        .any(|e| e.kind == accord_treaty::RecordKind::Expiry));
}

#[test]
fn a_withdrawal_notice_ends_the_treaty_three_months_on() {
    let t = extended();
    let text = "treaty = \"new-start-2021\"\ntitle = \"t\"\nsource = \"s\"\n[[events]]\ndate = 2024-01-10\nkind = \"withdrawal_notice\"\nby = [\"US\"]\nsummary = \"hypothetical\"\nsource = \"test\"\n";
    let r = Record::from_str("w.toml", text, &t).expect("record");
    assert_eq!(t.withdrawal_effective(d(2024, 1, 10)), Some(d(2024, 4, 10)));
    assert_eq!(
        t.timeline_with(Some(&r), d(2024, 4, 9)).status,
        TimelineStatus::InForce
    );
    let after = t.timeline_with(Some(&r), d(2024, 4, 10));
    assert_eq!(after.status, TimelineStatus::Withdrawn);
    assert!(after.limits.iter().all(|l| !l.binding));
}

#[test]
fn rejects_an_event_outside_the_treatys_life() {
    let t = extended();
    let text = "treaty = \"new-start-2021\"\ntitle = \"t\"\nsource = \"s\"\n\n[[events]]\ndate = 2027-01-10\nkind = \"note\"\nsummary = \"after expiry\"\nsource = \"test\"\n";
    let e = Record::from_str("r.toml", text, &t)
        .expect_err("outside")
        .to_string();
    assert_eq!(
        e,
        "r.toml:6: `events[0].date`: 2027-01-10 is outside the life of new-start-2021 (2011-02-05 to 2026-02-05)"
    );
    let bad_as_of = text.replace("2027-01-10", "2023-01-10").replace(
        "kind = \"note\"",
        "kind = \"data_exchanges_not_provided\"\nby = [\"RU\"]\nas_of_from = 2023-02-01",
    );
    let e = Record::from_str("r.toml", &bad_as_of, &t)
        .expect_err("as-of")
        .to_string();
    assert!(
        e.contains("`events[0].as_of_from`") && e.contains("not a scheduled data exchange"),
        "{e}"
    );
    let bad_kind = text
        .replace("2027-01-10", "2023-01-10")
        .replace("\"note\"", "\"paused\"");
    let e = Record::from_str("r.toml", &bad_kind, &t)
        .expect_err("kind")
        .to_string();
    assert!(
        e.contains("r.toml:7: `events[0].kind`: `paused` is not a kind of event"),
        "{e}"
    );
    let e = Record::from_str("r.toml", &text.replace("note\"", "note\"\nbyy = 1"), &t)
        .expect_err("key")
        .to_string();
    assert!(e.contains("unknown field `byy`"), "{e}");
}
