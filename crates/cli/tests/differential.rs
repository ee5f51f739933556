//! One answer everywhere: `accord check` on a node's registries and the
//! node's own `GET /status` give the same aggregates, limits and findings
//! (kind, date, message, order), for the node's party and for each mirror.
//!
//! Two `accord serve` processes exchange SYNTHETIC years (generated forces,
//! a year of notifications each, some sent late on purpose); the US node
//! records eleven Type One inspections of the US by Russia in one treaty
//! year (a quota overrun, Russia's) with a reentry-vehicle discrepancy, and
//! three of Russia by the US (through its mirror); Russia's node receives
//! the US log after the deadlines (late deliveries). Then, on many dates,
//! every report is compared.

mod common;
use accord_inspect::record::{conduct, deployed_missiles, Cheat};
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

const US_TOKEN: &str = "us-operator-token-differential";
const RU_TOKEN: &str = "ru-operator-token-differential";

fn config(d: &Path, party: &str, other: &str, ports: (u16, u16), token: &str, date: &str) {
    let lower = party.to_lowercase();
    std::fs::write(
        d.join(format!("{lower}.toml")),
        format!(
            "party = \"{party}\"\ntreaty = \"new-start-2021\"\nlisten = \"127.0.0.1:{}\"\ndata_dir = \"{lower}-data\"\nkey = \"keys/accord_new-start-2021_{party}.key\"\noperator_tokens = [\"{token}\"]\ninterval_ms = 100\ninsecure_plaintext = true\nsimulated_date = \"{date}\"\npeers = [{{ party = \"{other}\", url = \"http://127.0.0.1:{}\", vkey = \"keys/accord_new-start-2021_{other}.vkey\" }}]\n",
            ports.0, ports.1
        ),
    )
    .expect("config");
}

/// Posts a generated registry's notifications in batches of 400.
fn feed(d: &Path, port: u16, token: &str, dir: &str) {
    let text = std::fs::read_to_string(d.join(dir).join("notifications.jsonl")).expect("jsonl");
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    for chunk in lines.chunks(400) {
        let body = format!("[{}]", chunk.join(","));
        let (s, b) = http(port, "POST", "/notifications", Some(token), &body);
        assert_eq!(s, 201, "{dir}: {b}");
    }
}

fn exchange_done(port: u16, own: u64, peer: u64) -> bool {
    let (s, b) = http(port, "GET", "/exchange", None, "");
    if s != 200 {
        return false;
    }
    let v: serde_json::Value = serde_json::from_str(&b).expect("json");
    v["tree_size"] == own && v["peers"][0]["tree_size"] == peer
}

#[test]
fn check_on_a_nodes_registries_equals_its_status_on_every_date() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    for p in ["US", "RU"] {
        let name = format!("accord/new-start-2021/{p}");
        let o = accord(d, &["keygen", "--name", &name, "--out", "keys"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    for (p, v, w, l, late) in [
        ("US", "675", "1457", "800", "3"),
        ("RU", "510", "1447", "764", "2"),
    ] {
        let o = accord(
            d,
            &[
                "generate",
                "--party",
                p,
                "--date",
                "2020-09-01",
                "--deployed-delivery-vehicles",
                v,
                "--deployed-warheads",
                w,
                "--launchers",
                l,
                "--seed",
                "11",
                "--out",
                &format!("gen-{p}"),
                "--year-of-notifications",
                "--late",
                late,
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let (pu, pr) = {
        let a = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let b = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        (
            a.local_addr().expect("a").port(),
            b.local_addr().expect("b").port(),
        )
    };
    // The US node's clock is after the year; Russia's a month later still,
    // so the US notifications reach it after their deadlines.
    config(d, "US", "RU", (pu, pr), US_TOKEN, "2021-09-30");
    config(d, "RU", "US", (pr, pu), RU_TOKEN, "2021-10-31");
    let (mut us, _) = start(d, "us.toml");
    let (mut ru, _) = start(d, "ru.toml");
    feed(d, pu, US_TOKEN, "gen-US");
    feed(d, pr, RU_TOKEN, "gen-RU");

    // Inspections, checked against the generated (declared) state.
    let treaty = accord_treaty::Treaty::load("new-start-2021").expect("treaty");
    let mut posted = 0u64;
    let date = chrono::NaiveDate::from_ymd_opt(2020, 11, 2).expect("date");
    let us_reg = accord_registry::Store::open(&d.join("gen-US")).expect("us");
    let state = us_reg.state_on(&treaty, date).expect("state");
    let bases: Vec<String> = state
        .facilities()
        .iter()
        .filter(|f| !deployed_missiles(&treaty, &state, &f.id).is_empty())
        .map(|f| f.id.to_string())
        .collect();
    for i in 0..11u32 {
        let site = &bases[i as usize % bases.len()];
        let missile = deployed_missiles(&treaty, &state, site)[0].clone();
        let mut cheat = Cheat::default();
        if i == 3 {
            cheat.extra_reentry_vehicles.insert(missile.clone(), 1);
        }
        let day = date + chrono::Days::new(u64::from(i) * 7);
        let rec = conduct(
            &treaty,
            &state,
            &cheat,
            &format!("RU-2020-T1-{i:02}"),
            "RU",
            "type_one",
            site,
            day - chrono::Days::new(1),
            day,
            vec![missile],
        )
        .expect("conduct");
        let (s, b) = http(
            pu,
            "POST",
            "/inspections",
            Some(US_TOKEN),
            &serde_json::to_string(&rec).expect("json"),
        );
        assert_eq!(s, 201, "{b}");
        posted += 1;
    }
    let count = |dir: &str| {
        let t = std::fs::read_to_string(d.join(dir).join("notifications.jsonl")).expect("jsonl");
        t.lines().filter(|l| !l.starts_with('#')).count() as u64
    };
    let (n_us, ru_total) = (count("gen-US"), count("gen-RU"));
    // The US inspects Russia through its mirror, once the mirror has it.
    let start_wait = Instant::now();
    while !exchange_done(pu, n_us + posted, ru_total) {
        assert!(
            start_wait.elapsed() < Duration::from_secs(120),
            "the US never mirrored Russia"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let ru_reg = accord_registry::Store::open(&d.join("gen-RU")).expect("ru");
    let ru_state = ru_reg.state_on(&treaty, date).expect("state");
    let ru_base = ru_state
        .facilities()
        .iter()
        .find(|f| !deployed_missiles(&treaty, &ru_state, &f.id).is_empty())
        .map(|f| f.id.to_string())
        .expect("a Russian base");
    let ru_missile = deployed_missiles(&treaty, &ru_state, &ru_base)[0].clone();
    for i in 0..2u32 {
        let day = date + chrono::Days::new(30 + u64::from(i));
        let rec = conduct(
            &treaty,
            &ru_state,
            &Cheat::default(),
            &format!("US-2020-T1-{i:02}"),
            "US",
            "type_one",
            &ru_base,
            day - chrono::Days::new(1),
            day,
            vec![ru_missile.clone()],
        )
        .expect("conduct");
        let (s, b) = http(
            pu,
            "POST",
            "/inspections",
            Some(US_TOKEN),
            &serde_json::to_string(&rec).expect("json"),
        );
        assert_eq!(s, 201, "{b}");
    }
    let us_total = n_us + posted + 2;
    let wait = Instant::now();
    while !(exchange_done(pu, us_total, ru_total) && exchange_done(pr, ru_total, us_total)) {
        assert!(
            wait.elapsed() < Duration::from_secs(120),
            "the nodes never converged"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let mut kinds = std::collections::BTreeSet::new();
    for (port, own, peer) in [(pu, "us", "RU"), (pr, "ru", "US")] {
        for date in [
            "2020-09-01",
            "2020-11-30",
            "2021-01-15",
            "2021-03-01",
            "2021-06-30",
            "2021-09-01",
            "2021-10-15",
        ] {
            let (s, b) = http(port, "GET", &format!("/status?date={date}"), None, "");
            assert_eq!(s, 200, "{b}");
            let status: serde_json::Value = serde_json::from_str(&b).expect("status");
            for (dir, node_report) in [
                (format!("{own}-data/registry"), &status["compliance"]),
                (
                    format!("{own}-data/peers/{peer}/registry"),
                    &status["peers"][0]["compliance"],
                ),
            ] {
                let o = accord(d, &["check", &dir, "--date", date, "--json"]);
                assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
                let check = json(&o);
                assert_eq!(
                    &check, node_report,
                    "{dir} on {date}: check and /status differ"
                );
                assert_eq!(
                    o.status.code() == Some(1),
                    !check["findings"].as_array().expect("findings").is_empty()
                );
                for f in check["findings"].as_array().expect("findings") {
                    kinds.insert(f["kind"].as_str().expect("kind").to_string());
                }
            }
        }
    }
    // The comparison covered every kind of finding the setup raises.
    for k in [
        "late_notification",
        "late_delivery",
        "inspection_quota_exceeded",
        "reentry_vehicle_discrepancy",
    ] {
        assert!(kinds.contains(k), "no {k} in {kinds:?}");
    }
    // The quota overrun is Russia's (the inspecting party), never the US's.
    let o = accord(
        d,
        &[
            "check",
            "us-data/registry",
            "--date",
            "2021-03-01",
            "--json",
        ],
    );
    let us_findings = json(&o)["findings"].clone();
    assert!(us_findings
        .as_array()
        .expect("f")
        .iter()
        .all(|f| f["kind"] != "inspection_quota_exceeded"));
    let o = accord(
        d,
        &[
            "check",
            "us-data/peers/RU/registry",
            "--date",
            "2021-03-01",
            "--json",
        ],
    );
    assert!(json(&o)["findings"]
        .as_array()
        .expect("f")
        .iter()
        .any(|f| f["kind"] == "inspection_quota_exceeded"));
    for c in [&mut us, &mut ru] {
        let _ = c.kill();
        let _ = c.wait();
    }
}
