//! `accord treaty timeline` with the implementation record, `treaty record`,
//! `treaty show` with the catalogue and readings, and `check --reading`.

mod common;
use common::*;

#[test]
fn timeline_says_what_actually_held() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = accord(
        tmp.path(),
        &[
            "treaty",
            "timeline",
            "new-start-2021",
            "--date",
            "2023-06-01",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains(
            "in force (RU's participation suspended since 2023-02-28, which US holds invalid)"
        ),
        "{t}"
    );
    assert!(
        t.contains(
            "inspections: none since 2020-03 (paused); RU exempted its facilities from 2022-08-08"
        ),
        "{t}"
    );
    assert!(
        t.contains(
            "RU data exchanges: last provided as of 2022-09-01; missing: 2023-03-01 not provided"
        ),
        "{t}"
    );
    assert!(
        t.contains("(per the record: US withholds it; RU will not provide it)"),
        "{t}"
    );
    let j = json(&accord(
        tmp.path(),
        &[
            "treaty",
            "timeline",
            "new-start-2021",
            "--date",
            "2023-06-01",
            "--json",
        ],
    ));
    assert_eq!(j["status"], "in_force");
    assert_eq!(j["record"]["suspended"][0]["party"], "RU");
    assert_eq!(j["record"]["inspections_conducted"], false);
    // Without the record: the treaty as agreed.
    let j = json(&accord(
        tmp.path(),
        &[
            "treaty",
            "timeline",
            "new-start-2021",
            "--date",
            "2023-06-01",
            "--no-record",
            "--json",
        ],
    ));
    assert!(j.get("record").is_none());
}

#[test]
fn a_record_with_an_event_outside_the_treatys_life_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("r.toml"),
        "treaty = \"new-start-2021\"\ntitle = \"t\"\nsource = \"s\"\n[[events]]\ndate = 2030-01-01\nkind = \"note\"\nsummary = \"x\"\nsource = \"y\"\n",
    )
    .expect("write");
    let o = accord(
        tmp.path(),
        &[
            "treaty",
            "timeline",
            "new-start-2021",
            "--date",
            "2023-06-01",
            "--record",
            "r.toml",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains(
            "r.toml:5: `events[0].date`: 2030-01-01 is outside the life of new-start-2021"
        ),
        "{}",
        text(&o)
    );
}

#[test]
fn record_lists_the_events_with_their_sources() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = accord(tmp.path(), &["treaty", "record", "new-start-2021"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("2023-02-28 participation_suspended [RU]"), "{t}");
    assert!(t.contains("disputed by US"), "{t}");
    assert!(t.contains("2026-02-05 expiry"), "{t}");
    let o = accord(tmp.path(), &["treaty", "record", "new-start"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "no record for the treaty as signed"
    );
}

#[test]
fn show_lists_the_catalogue_the_readings_and_withdrawal() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = text(&accord(tmp.path(), &["treaty", "show", "new-start"]));
    assert!(
        t.contains("launch_notification — ICBM or SLBM launch"),
        "{t}"
    );
    assert!(t.contains("at least 1 day(s) in advance"), "{t}");
    assert!(
        t.contains("ru-objections — Russian Federation's objections"),
        "{t}"
    );
    assert!(t.contains("+101 (56 Trident II SLBM launchers + 41 B-52H heavy bombers + 4 silo training launchers)"), "{t}");
    assert!(t.contains("Withdrawal: Article XIV(3)"), "{t}");
}

#[test]
fn check_under_russias_reading_finds_the_101() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = accord(
        tmp.path(),
        &[
            "generate",
            "--party",
            "US",
            "--date",
            "2020-09-01",
            "--deployed-delivery-vehicles",
            "675",
            "--deployed-warheads",
            "1457",
            "--launchers",
            "800",
            "--seed",
            "7",
            "--out",
            "us",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = accord(tmp.path(), &["check", "us", "--date", "2020-09-01"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = accord(
        tmp.path(),
        &[
            "check",
            "us",
            "--date",
            "2020-09-01",
            "--reading",
            "ru-objections",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["reading"], "ru-objections");
    assert_eq!(j["deployed_and_nondeployed_launchers"], 901);
    let o = accord(
        tmp.path(),
        &["check", "us", "--date", "2020-09-01", "--reading", "cn"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("has no reading `cn` (readings: us, ru-objections)"),
        "{}",
        text(&o)
    );
}

/// `accord … | head`: output into a pipe already closed ends quietly with
/// exit 0, whichever command prints (these print with `println!`).
#[test]
fn a_closed_pipe_is_not_a_panic() {
    let tmp = tempfile::tempdir().expect("tmp");
    for args in [
        &["treaty", "show", "new-start-2021"][..],
        &[
            "treaty",
            "timeline",
            "new-start-2021",
            "--date",
            "2023-06-01",
        ][..],
        &["history"][..],
    ] {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
            .current_dir(tmp.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // The reading end closes before anything is written.
        drop(c.stdout.take());
        let o = c.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
    }
}
