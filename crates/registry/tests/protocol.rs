//! The Protocol's notification types (deadlines, required fields, the
//! catalogue), per-facility data exchanges, and old logs byte for byte.

mod common;
use accord_registry::notification::parse_one;
use accord_registry::{compliance, evaluate, store, ConvertedTo, Event, FindingKind, Report};
use accord_treaty::{Deadline, Treaty};
use chrono::{Days, NaiveDate};
use common::*;

fn at(b: &B, date: NaiveDate) -> Report {
    evaluate(&treaty(), &b.party, &b.out, &[date], false).remove(0)
}

fn kinds(r: &Report) -> Vec<FindingKind> {
    r.findings.iter().map(|f| f.kind).collect()
}

/// One event of each kind the catalogue lists, valid on the small US force.
fn sample(kind: &str) -> Event {
    match kind {
        "facility_declared" => Event::FacilityDeclared {
            facility: "NEW".into(),
            facility_kind: accord_treaty::FacilityKind::Storage,
            name: "new".into(),
        },
        "accountability_entry" => Event::AccountabilityEntry {
            item: "M9".into(),
            item_kind: "icbm".into(),
            item_type: "minuteman-iii".into(),
            facility: "MAL".into(),
            status: accord_treaty::Status::NonDeployed,
            launcher: None,
            reentry_vehicles: None,
        },
        "departure" => Event::Departure {
            item: "M2".into(),
            facility: "MAL".into(),
        },
        "arrival" => Event::Arrival {
            item: "M2".into(),
            facility: "HILL".into(),
        },
        "deployment" => Event::Deployment {
            item: "B2".into(),
            launcher: None,
            reentry_vehicles: None,
        },
        "removal_from_deployment" => Event::RemovalFromDeployment { item: "M1".into() },
        "reentry_vehicle_change" => Event::ReentryVehicleChange {
            item: "D1".into(),
            reentry_vehicles: 5,
        },
        "conversion_started" => Event::ConversionStarted {
            item: "T2".into(),
            to: ConvertedTo::NonNuclear,
        },
        "conversion" => Event::Conversion {
            item: "T2".into(),
            to: ConvertedTo::NonNuclear,
        },
        "elimination_started" => Event::EliminationStarted { item: "S2".into() },
        "elimination" => Event::Elimination { item: "S2".into() },
        "removed_from_accountability" => Event::RemovedFromAccountability {
            item: "B2".into(),
            reason: "accident".into(),
        },
        "heavy_bomber_exit" => Event::HeavyBomberExit {
            item: "B1".into(),
            facility: "WHI".into(),
            destination: "Guam".into(),
            expected_return: None,
        },
        "heavy_bomber_return" => Event::HeavyBomberReturn {
            item: "B1".into(),
            facility: "WHI".into(),
        },
        "new_type" => Event::NewType {
            item_type: "sentinel".into(),
            item_kind: "icbm".into(),
            name: "LGM-35A Sentinel".into(),
        },
        "inspection_notice" => Event::InspectionNotice {
            inspection_type: "type_one".into(),
            facility: "RU-KOZELSK".into(),
            point_of_entry: Some("Moscow".into()),
        },
        "exhibition_notice" => Event::ExhibitionNotice {
            item_type: "b-52h".into(),
            facility: "WHI".into(),
        },
        "launch_notification" => Event::LaunchNotification {
            missile_type: "minuteman-iii".into(),
            launch_area: "Vandenberg".into(),
            impact_area: "Kwajalein".into(),
        },
        "data_exchange" => Event::DataExchange {
            counts: [
                ("deployed_delivery_vehicles".to_string(), 3),
                ("deployed_warheads".to_string(), 6),
                ("deployed_and_nondeployed_launchers".to_string(), 8),
            ]
            .into_iter()
            .collect(),
            facilities: Default::default(),
        },
        other => panic!("no sample for {other}"),
    }
}

#[test]
fn the_catalogue_names_only_known_kinds_and_fields() {
    for name in accord_treaty::builtin_names() {
        let t = Treaty::load(name).expect("loads");
        for nt in &t.notification_types {
            let Some((_, fields)) = Event::KINDS.iter().find(|(k, _)| *k == nt.id) else {
                panic!("{name}: `{}` is not a kind the registry knows", nt.id);
            };
            for r in &nt.required {
                assert!(fields.contains(&r.as_str()), "{name}: {}.{r}", nt.id);
            }
        }
    }
    // And New START's catalogue covers every kind.
    let t = treaty();
    for (k, _) in Event::KINDS {
        assert!(t.notification_type(k).is_some(), "{k} missing");
    }
}

#[test]
fn each_notification_type_on_time_and_late() {
    let t = treaty();
    for nt in &t.notification_types {
        for late in [false, true] {
            let mut b = B::small_us();
            // A data exchange is dated on the schedule; the rest in the month.
            let date = if nt.id == "data_exchange" {
                d(2020, 9, 1)
            } else {
                d(2020, 9, 12)
            };
            if nt.id == "heavy_bomber_return" {
                b.on(d(2020, 9, 10)).push(sample("heavy_bomber_exit"));
            }
            if nt.id == "arrival" {
                b.on(d(2020, 9, 10)).push(sample("departure"));
            }
            if nt.id == "conversion" || nt.id == "elimination" {
                let start = if nt.id == "conversion" {
                    "conversion_started"
                } else {
                    "elimination_started"
                };
                b.on(d(2020, 9, 10)).push(sample(start));
            }
            b.on(date).push(sample(&nt.id));
            let n = b.out.last_mut().expect("pushed");
            let due = compliance::deadline(&t, n);
            match nt.deadline {
                Deadline::AfterEvent(days) => assert_eq!(due, date + Days::new(u64::from(days))),
                Deadline::InAdvance(days) => assert_eq!(due, date - Days::new(u64::from(days))),
                Deadline::NextDataExchange => assert_eq!(due, d(2021, 3, 31)),
                Deadline::DataExchangeSchedule => assert_eq!(due, d(2020, 10, 1)),
            }
            n.sent = if late { due + Days::new(1) } else { due };
            let number = n.number;
            n.validate(&t, "test")
                .unwrap_or_else(|e| panic!("{}: {e}", nt.id));
            let r = at(&b, d(2021, 9, 30));
            let late_for_it = r
                .findings
                .iter()
                .any(|f| f.kind == FindingKind::LateNotification && f.notification == Some(number));
            assert_eq!(late_for_it, late, "{} late={late}: {:?}", nt.id, r.findings);
            let others: Vec<_> = r
                .findings
                .iter()
                .filter(|f| {
                    let expected = matches!(
                        f.kind,
                        FindingKind::LateNotification | FindingKind::MissingDataExchange
                    ) || (nt.id == "departure"
                        && f.kind == FindingKind::MissingNotification);
                    !expected
                })
                .collect();
            assert!(others.is_empty(), "{}: {others:?}", nt.id);
        }
    }
}

#[test]
fn a_launch_notification_sent_on_the_day_of_the_launch_is_late() {
    let mut b = B::small_us();
    b.on(d(2020, 9, 20)).push(sample("launch_notification"));
    let r = at(&b, d(2020, 9, 30));
    assert_eq!(kinds(&r), vec![FindingKind::LateNotification]);
    assert!(
        r.findings[0]
            .message
            .contains("0 days after the change; due by 2020-09-19"),
        "{}",
        r.findings[0].message
    );
}

#[test]
fn rejects_a_notification_without_its_required_field() {
    let t = treaty();
    let mut b = B::small_us();
    b.on(d(2020, 9, 12)).push(Event::InspectionNotice {
        inspection_type: "type_one".into(),
        facility: "RU-KOZELSK".into(),
        point_of_entry: None,
    });
    let e = b
        .out
        .last()
        .expect("n")
        .validate(&t, "n.jsonl:3")
        .expect_err("required");
    assert_eq!(
        e.to_string(),
        "n.jsonl:3: field `event.point_of_entry`: required for a inspection_notice notification (notification of intent to conduct an inspection; Protocol Parts Four and Five)"
    );
}

#[test]
fn rejects_a_kind_the_treaty_has_no_notification_type_for() {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../treaties/new-start.toml"),
    )
    .expect("read");
    let a = src
        .find("[[notification_types]]\nid = \"new_type\"")
        .expect("entry");
    let b = a + src[a + 10..].find("[[notification_types]]").expect("next") + 10;
    let t = Treaty::from_str("t.toml", &format!("{}{}", &src[..a], &src[b..])).expect("loads");
    let mut x = B::small_us();
    x.on(d(2020, 9, 12)).push(sample("new_type"));
    let e = x
        .out
        .last()
        .expect("n")
        .validate(&t, "n:1")
        .expect_err("unknown");
    assert!(
        e.to_string()
            .contains("field `event.kind`: `new_type` is not a notification type of new-start"),
        "{e}"
    );
}

#[test]
fn per_facility_mismatch_with_equal_totals_names_facility_category_and_numbers() {
    let t = treaty();
    let mut b = B::small_us();
    let (state, _) = store::fold(&t, "US", &b.out);
    let mut by = state.by_facility();
    assert_eq!(
        by["MAL"]["non_deployed_icbm_launchers"], 2,
        "S2 and the test silo"
    );
    assert_eq!(by["MAL"]["test_icbm_launchers"], 1);
    assert_eq!(by["WHI"]["non_deployed_heavy_bombers"], 2);
    // The truthful exchange is clean.
    let facilities: Vec<(String, Vec<(String, u64)>)> = by
        .iter()
        .map(|(f, c)| (f.clone(), c.iter().map(|(k, v)| (k.clone(), *v)).collect()))
        .collect();
    let as_refs =
        |f: &[(String, Vec<(String, u64)>)]| -> Vec<(String, Vec<(String, u64)>)> { f.to_vec() };
    let push = |b: &mut B, f: &[(String, Vec<(String, u64)>)]| {
        let cats: Vec<(&str, Vec<(&str, u64)>)> = f
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    v.iter().map(|(c, n)| (c.as_str(), *n)).collect(),
                )
            })
            .collect();
        let refs: Vec<(&str, &[(&str, u64)])> =
            cats.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        b.exchange_by_facility(3, 6, 8, &refs);
    };
    let mut clean = B::small_us();
    push(&mut clean, &as_refs(&facilities));
    assert!(at(&clean, d(2020, 9, 1)).is_clean());
    // Declare the non-deployed Minuteman III at Kings Bay instead of Malmstrom.
    let m = by.get_mut("MAL").expect("MAL");
    m.remove("non_deployed_icbms");
    by.get_mut("KB")
        .expect("KB")
        .insert("non_deployed_icbms".into(), 1);
    let moved: Vec<(String, Vec<(String, u64)>)> = by
        .iter()
        .map(|(f, c)| (f.clone(), c.iter().map(|(k, v)| (k.clone(), *v)).collect()))
        .collect();
    push(&mut b, &moved);
    let r = at(&b, d(2020, 9, 1));
    assert_eq!(
        kinds(&r),
        vec![FindingKind::DataExchangeMismatch; 2],
        "{:?}",
        r.findings
    );
    let diffs: Vec<(Option<&str>, Option<&str>, u64, u64)> = r
        .findings
        .iter()
        .flat_map(|f| &f.differences)
        .map(|x| {
            (
                x.facility.as_deref(),
                x.category.as_deref(),
                x.declared,
                x.item_level,
            )
        })
        .collect();
    assert_eq!(
        diffs,
        vec![
            (Some("KB"), Some("non_deployed_icbms"), 1, 0),
            (Some("MAL"), Some("non_deployed_icbms"), 0, 1),
        ]
    );
    assert!(r.findings[0]
        .message
        .contains("at KB, non_deployed_icbms declared 1 but items there add up to 0"));
}

#[test]
fn a_departure_never_followed_by_an_arrival_is_a_missing_notification() {
    let mut b = B::small_us();
    b.exchange(3, 6, 8);
    b.on(d(2020, 9, 10)).depart("M2", "MAL");
    assert!(at(&b, d(2020, 10, 10)).is_clean(), "30 days are allowed");
    let r = at(&b, d(2020, 10, 11));
    assert_eq!(
        kinds(&r),
        vec![FindingKind::MissingNotification],
        "{:?}",
        r.findings
    );
    assert!(
        r.findings[0]
            .message
            .contains("no arrival followed by 2020-10-10"),
        "{}",
        r.findings[0].message
    );
    b.on(d(2020, 10, 9)).arrive("M2", "HILL");
    assert!(at(&b, d(2021, 1, 1))
        .findings
        .iter()
        .all(|f| f.kind != FindingKind::MissingNotification));
}

#[test]
fn a_heavy_bomber_abroad_cannot_leave_again_or_move() {
    let mut b = B::small_us();
    b.on(d(2020, 9, 10)).push(sample("heavy_bomber_exit"));
    b.on(d(2020, 9, 11)).push(sample("heavy_bomber_exit"));
    assert_eq!(
        kinds(&at(&b, d(2020, 9, 11))),
        vec![FindingKind::ItemInTwoPlaces]
    );
    let mut c = B::small_us();
    c.on(d(2020, 9, 10)).push(sample("heavy_bomber_return"));
    assert_eq!(
        kinds(&at(&c, d(2020, 9, 11))),
        vec![FindingKind::InvalidTransition]
    );
}

#[test]
fn old_kinds_parse_and_serialize_byte_for_byte() {
    let lines = [
        r#"{"party":"US","number":1,"date":"2020-09-01","sent":"2020-09-01","event":{"kind":"facility_declared","facility":"MAL","facility_kind":"icbm_base","name":"Malmstrom AFB"}}"#,
        r#"{"party":"US","number":2,"date":"2020-09-01","sent":"2020-09-01","event":{"kind":"accountability_entry","item":"S1","item_kind":"icbm_launcher","item_type":"minuteman-iii-silo","facility":"MAL","status":"non_deployed"}}"#,
        r#"{"party":"US","number":3,"date":"2020-09-01","sent":"2020-09-01","event":{"kind":"accountability_entry","item":"M1","item_kind":"icbm","item_type":"minuteman-iii","facility":"MAL","status":"deployed","launcher":"S1","reentry_vehicles":1}}"#,
        r#"{"party":"US","number":4,"date":"2020-09-03","sent":"2020-09-04","event":{"kind":"removal_from_deployment","item":"M1"}}"#,
        r#"{"party":"US","number":5,"date":"2020-09-03","sent":"2020-09-04","event":{"kind":"departure","item":"M1","facility":"MAL"}}"#,
        r#"{"party":"US","number":6,"date":"2020-09-05","sent":"2020-09-05","event":{"kind":"arrival","item":"M1","facility":"MAL"}}"#,
        r#"{"party":"US","number":7,"date":"2020-09-06","sent":"2020-09-06","event":{"kind":"deployment","item":"M1","launcher":"S1","reentry_vehicles":1}}"#,
        r#"{"party":"US","number":8,"date":"2020-09-07","sent":"2020-09-07","event":{"kind":"reentry_vehicle_change","item":"M1","reentry_vehicles":2}}"#,
        r#"{"party":"US","number":9,"date":"2020-09-08","sent":"2020-09-08","event":{"kind":"conversion","item":"S2","to":"non_nuclear"}}"#,
        r#"{"party":"US","number":10,"date":"2020-09-08","sent":"2020-09-08","event":{"kind":"elimination","item":"S3"}}"#,
        r#"{"party":"US","number":11,"date":"2021-03-01","sent":"2021-03-20","event":{"kind":"data_exchange","counts":{"deployed_and_nondeployed_launchers":800,"deployed_delivery_vehicles":675,"deployed_warheads":1457}}}"#,
    ];
    for l in lines {
        let n = parse_one(l, "old.jsonl").expect("parses");
        assert_eq!(n.to_json(), l);
    }
}
