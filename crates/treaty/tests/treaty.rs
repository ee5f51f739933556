//! The treaty model: the built-in files, the timeline, and bad input.

use accord_treaty::{Each, LimitMax, Status, TimelineStatus, Treaty, TreatyError};
use chrono::NaiveDate;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

fn new_start() -> Treaty {
    Treaty::load("new-start").expect("built-in new-start loads")
}

#[test]
fn new_start_has_the_article_ii_limits() {
    let t = new_start();
    let got: Vec<(&str, Option<u64>, NaiveDate)> = t
        .limits
        .iter()
        .map(|l| (l.id.as_str(), l.max.fixed(), l.binding_from))
        .collect();
    assert_eq!(
        got,
        vec![
            ("deployed_delivery_vehicles", Some(700), d(2018, 2, 5)),
            ("deployed_warheads", Some(1550), d(2018, 2, 5)),
            (
                "deployed_and_nondeployed_launchers",
                Some(800),
                d(2018, 2, 5)
            ),
        ]
    );
    let w = t.limit("deployed_warheads").expect("warhead limit");
    assert_eq!(w.count[0].each, Each::DeclaredReentryVehicles);
    assert_eq!(w.count[1].kinds, vec!["heavy_bomber".to_string()]);
    assert_eq!(w.count[1].each, Each::One);
    let l = t
        .limit("deployed_and_nondeployed_launchers")
        .expect("launchers");
    // Test launchers and test heavy bombers are non-deployed items, inside the 800.
    assert_eq!(
        l.count[0].statuses,
        vec![Status::Deployed, Status::NonDeployed, Status::Test]
    );
    assert_eq!(t.parties.len(), 2);
    assert_eq!(
        t.inspections.iter().map(|i| i.per_treaty_year).sum::<u32>(),
        18
    );
    assert_eq!(t.notifications.deadline_days, 5);
}

#[test]
fn expiry_dates_of_each_builtin() {
    assert_eq!(new_start().expires(), d(2021, 2, 5));
    assert_eq!(
        Treaty::load("new-start-2021").expect("loads").expires(),
        d(2026, 2, 5)
    );
    let f = Treaty::load("freeze-2020").expect("loads");
    assert_eq!(f.expires(), d(2022, 2, 5));
    assert_eq!(
        f.limit("total_warhead_stockpile").map(|l| l.max),
        Some(LimitMax::Baseline)
    );
    // The derived treaty keeps the base's limits.
    assert_eq!(f.limits.len(), 4);
}

#[test]
fn timeline_20_october_2020_has_108_days_left() {
    let tl = new_start().timeline(d(2020, 10, 20));
    assert_eq!(tl.status, TimelineStatus::InForce);
    assert_eq!(tl.days_left, Some(108));
    assert!(tl.extension_possible);
    assert_eq!(tl.extension_max_years, 5);
    assert!(tl.limits.iter().all(|l| l.binding));
    assert_eq!(tl.treaty_year.map(|y| y.0), Some(10));
}

#[test]
fn limits_do_not_bind_before_5_february_2018() {
    let t = new_start();
    assert_eq!(t.binding_limits(d(2018, 2, 4)).count(), 0);
    assert_eq!(t.binding_limits(d(2018, 2, 5)).count(), 3);
}

#[test]
fn extension_used_up_after_2021() {
    let t = Treaty::load("new-start-2021").expect("loads");
    let before = t.timeline(d(2021, 2, 2));
    assert!(before.extension_possible);
    assert_eq!(before.expires_as_known_on_date, d(2021, 2, 5));
    let after = t.timeline(d(2025, 9, 22));
    assert!(!after.extension_possible);
    assert_eq!(after.extensions_used, 1);
    assert_eq!(after.days_left, Some(136));
    assert!(t.in_force_on(d(2026, 2, 4)));
    assert!(!t.in_force_on(d(2026, 2, 5)));
    assert_eq!(t.timeline(d(2026, 2, 5)).status, TimelineStatus::Expired);
}

#[test]
fn data_exchange_schedule_starts_with_the_initial_exchange() {
    let s = new_start().data_exchange_schedule();
    assert_eq!(s[0], (d(2011, 2, 5), d(2011, 3, 22)));
    assert_eq!(s[1], (d(2011, 9, 1), d(2011, 10, 1)));
    assert_eq!(s[2], (d(2012, 3, 1), d(2012, 3, 31)));
    assert_eq!(
        *s.last().expect("non-empty"),
        (d(2020, 9, 1), d(2020, 10, 1))
    );
    assert_eq!(s.len(), 1 + 19);
}

const MINI: &str = r#"
[treaty]
id = "mini"
name = "Mini"
full_name = "A minimal treaty"
signed = 2010-04-08
entry_into_force = 2011-02-05
term_years = 10
source = "test"

[extension]
max_count = 1
max_years = 5
source = "test"

[[parties]]
code = "US"
name = "A"

[[item_kinds]]
id = "icbm"
name = "ICBM"
role = "missile"
launcher_kind = "icbm_launcher"

[[item_kinds]]
id = "icbm_launcher"
name = "ICBM launcher"
role = "launcher"

[[limits]]
id = "deployed"
name = "deployed"
article = "II"
max = 700
binding_from = 2018-02-05
source = "test"

[[limits.count]]
kinds = ["icbm"]
statuses = ["deployed"]
each = "one"
article = "III"

[data_exchanges]
as_of = ["03-01", "09-01"]
first_regular_as_of = 2011-09-01
due_days = 30
initial_due_days = 45
source = "test"

[notifications]
deadline_days = 5
reentry_vehicle_changes = "next_data_exchange"
source = "test"
"#;

fn err_of(text: &str) -> String {
    match Treaty::from_str("mini.toml", text) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn minimal_treaty_loads() {
    let t = Treaty::from_str("mini.toml", MINI).expect("loads");
    assert_eq!(t.limits[0].max, LimitMax::Fixed(700));
}

#[test]
fn rejects_unknown_key_with_line() {
    let text = MINI.replace("max = 700", "max = 700\nmaxx = 3");
    let e = err_of(&text);
    assert!(e.starts_with("mini.toml:"), "{e}");
    assert!(e.contains("unknown field `maxx`"), "{e}");
    let line: usize = e
        .split(':')
        .nth(1)
        .and_then(|x| x.parse().ok())
        .expect("line number");
    assert_eq!(text.lines().nth(line - 1).map(str::trim), Some("maxx = 3"));
}

#[test]
fn rejects_negative_limit_naming_the_key() {
    let e = err_of(&MINI.replace("max = 700", "max = -700"));
    assert!(e.contains("`limits[0].max`"), "{e}");
    assert!(e.contains("at least 0"), "{e}");
    assert!(e.starts_with("mini.toml:35:"), "{e}");
}

#[test]
fn rejects_non_integer_limit() {
    let e = err_of(&MINI.replace("max = 700", "max = 7.5"));
    assert!(e.contains("limits[0].max"), "{e}");
}

#[test]
fn rejects_missing_field() {
    let e = err_of(&MINI.replace("term_years = 10\n", ""));
    assert!(e.contains("missing field `term_years`"), "{e}");
}

#[test]
fn rejects_unknown_kind_in_counting_rule() {
    let e = err_of(&MINI.replace("kinds = [\"icbm\"]", "kinds = [\"icmb\"]"));
    assert!(e.contains("`icmb` is not an item kind"), "{e}");
}

#[test]
fn rejects_unknown_status() {
    let e = err_of(&MINI.replace("statuses = [\"deployed\"]", "statuses = [\"deploid\"]"));
    assert!(e.contains("`deploid`"), "{e}");
}

#[test]
fn rejects_overlong_extension() {
    let text = format!("{MINI}\n[[extensions]]\nagreed = 2021-02-03\nyears = 6\nsource = \"x\"\n");
    let e = err_of(&text);
    assert!(e.contains("extensions[0].years"), "{e}");
    assert!(e.contains("at most 5"), "{e}");
}

#[test]
fn rejects_second_extension() {
    let text = format!(
        "{MINI}\n[[extensions]]\nagreed = 2021-02-03\nyears = 1\nsource = \"x\"\n[[extensions]]\nagreed = 2021-06-03\nyears = 1\nsource = \"x\"\n"
    );
    let e = err_of(&text);
    assert!(e.contains("2 extensions, but the treaty allows 1"), "{e}");
}

#[test]
fn rejects_duplicate_party() {
    let text = MINI.replace(
        "[[parties]]\ncode = \"US\"\nname = \"A\"",
        "[[parties]]\ncode = \"US\"\nname = \"A\"\n[[parties]]\ncode = \"US\"\nname = \"B\"",
    );
    let e = err_of(&text);
    assert!(e.contains("`US` appears twice"), "{e}");
}

#[test]
fn rejects_bad_date() {
    let e = err_of(&MINI.replace("binding_from = 2018-02-05", "binding_from = \"soon\""));
    assert!(e.starts_with("mini.toml:36: `binding_from`"), "{e}");
}

#[test]
fn unknown_name_lists_builtins() {
    match Treaty::load("new-strat") {
        Err(TreatyError::Unknown { known, .. }) => assert!(known.contains("new-start-2021")),
        other => panic!("expected Unknown, got {other:?}"),
    }
}

#[test]
fn based_on_resolves_next_to_the_file() {
    let dir = std::env::temp_dir().join(format!("accord-treaty-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    std::fs::write(dir.join("mini.toml"), MINI).expect("write");
    let child = "based_on = \"mini\"\n[treaty]\nid = \"child\"\nname = \"C\"\nfull_name = \"C\"\nsigned = 2010-04-08\nentry_into_force = 2011-02-05\nterm_years = 10\nsource = \"x\"\n[[extensions]]\nagreed = 2021-01-01\nyears = 2\nsource = \"x\"\n";
    let path = dir.join("child.toml");
    std::fs::write(&path, child).expect("write");
    let t = Treaty::load(path.to_str().expect("utf8")).expect("child loads");
    assert_eq!(t.id, "child");
    assert_eq!(t.expires(), d(2023, 2, 5));
    assert_eq!(t.limits.len(), 1);
    assert_eq!(t.files.len(), 2);
    std::fs::remove_dir_all(&dir).ok();
}
