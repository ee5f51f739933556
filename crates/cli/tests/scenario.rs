//! `accord scenario`, and a treaty with three parties end to end: generate,
//! log, check, inspect, freeze and compare, with China as the third party.

mod common;
use common::*;

/// The comparison from 20 Oct 2020: one object a proposal, the 2021 expiry
/// 108 days away, an HTML report with its charts.
#[test]
fn compare_from_20_october_2020() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let o = accord(
        d,
        &[
            "scenario",
            "compare",
            "--from",
            "2020-10-20",
            "--json",
            "--html",
            "c.html",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json(&o);
    let ps = v["proposals"].as_array().expect("proposals");
    let names: Vec<&str> = ps.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "expire-2021",
            "freeze-2020-us",
            "freeze-2020-ru",
            "extend-2021",
            "expire-2026",
            "keep-limits-2026",
            "trilateral"
        ]
    );
    let get = |n: &str| ps.iter().find(|p| p["name"] == n).expect("proposal");
    assert_eq!(get("expire-2021")["expires"], "2021-02-05");
    assert_eq!(get("expire-2021")["days_left"], 108);
    assert_eq!(get("freeze-2020-us")["expires"], "2022-02-05");
    assert_eq!(get("freeze-2020-ru")["expires"], "2022-02-05");
    // The two October 2020 freezes as offered: verified (US), political (Russia).
    let cov = |n: &str| {
        get(n)["timeline"]
            .as_array()
            .and_then(|t| t.iter().find(|p| p["date"] == "2021-02-05"))
            .map(|p| p["verification"]["freeze_coverage"].clone())
    };
    assert_eq!(cov("freeze-2020-us"), Some(serde_json::json!(1.0)));
    assert_eq!(cov("freeze-2020-ru"), Some(serde_json::json!(0.0)));
    assert_eq!(get("trilateral")["hypothetical"], true);
    assert_eq!(get("extend-2021")["hypothetical"], false);
    assert_eq!(get("extend-2021")["expires"], "2026-02-05");
    assert_eq!(get("keep-limits-2026")["expires"], "2027-02-05");
    assert_eq!(
        get("trilateral")["parties"],
        serde_json::json!(["US", "RU", "CN"])
    );
    assert_eq!(v["synthetic"], true);
    // The starting forces are the published 1 Sep 2020 numbers, reproduced.
    assert!(v["forces"]["US"]["provenance"]
        .as_str()
        .expect("p")
        .contains("2020-09-01"));
    let html = std::fs::read_to_string(d.join("c.html")).expect("html");
    assert!(html.contains("<svg") && html.contains("SYNTHETIC") && html.contains("ASSUMPTION"));
    // The human table.
    let o = accord(
        d,
        &[
            "scenario",
            "compare",
            "--from",
            "2020-10-20",
            "--years",
            "3",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("expire-2021        2021-02-05       108"),
        "{}",
        text(&o)
    );
    // Bad input: exit 2, nothing written.
    std::fs::write(
        d.join("bad.toml"),
        "party = \"US\"\n[stockpile]\nwarheads = 1\nsource = \"s\"\n[upload]\nper_year = 2\nsource = \"s\"\n",
    )
    .expect("w");
    let o = accord(
        d,
        &[
            "scenario",
            "compare",
            "--from",
            "2020-10-20",
            "--futures",
            "US=bad.toml",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("bad.toml:6: per_year: 2 is not a share from 0 to 1"),
        "{}",
        text(&o)
    );
    for args in [
        vec!["scenario", "compare", "--from", "2020-13-01"],
        vec![
            "scenario",
            "compare",
            "--from",
            "2020-10-20",
            "--proposal",
            "nope",
        ],
        vec![
            "scenario",
            "compare",
            "--from",
            "2020-10-20",
            "--registry",
            "US",
        ],
        vec![
            "scenario",
            "compare",
            "--from",
            "2020-10-20",
            "--years",
            "0",
        ],
    ] {
        let o = accord(d, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
    let o = accord(d, &["scenario", "list"]);
    assert!(text(&o).contains("keep-limits-2026"));
    let o = accord(d, &["scenario", "show", "keep-limits-2026"]);
    assert!(
        text(&o)
            .contains("after expiry: the central limits observed until 2027-02-05 (unverified)"),
        "{}",
        text(&o)
    );
}

fn ok(d: &std::path::Path, args: &[&str]) -> std::process::Output {
    let o = accord(d, args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
    o
}

/// Three parties under the hypothetical trilateral treaty: each generated,
/// China's notifications logged and audited, each checked, China inspected
/// and its stockpile declared under a proven cap, and the comparison run on
/// the three registries.
#[test]
fn a_three_party_treaty_end_to_end() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    for (party, v, w, l) in [
        ("US", "662", "1419", "800"),
        ("RU", "526", "1474", "761"),
        ("CN", "132", "188", "160"),
    ] {
        let dir = party.to_lowercase();
        ok(
            d,
            &[
                "generate",
                "--party",
                party,
                "--treaty",
                "trilateral",
                "--date",
                "2026-03-01",
                "--deployed-delivery-vehicles",
                v,
                "--deployed-warheads",
                w,
                "--launchers",
                l,
                "--out",
                &dir,
            ],
        );
        let o = ok(d, &["check", &dir, "--date", "2026-03-01", "--json"]);
        let r = json(&o);
        assert_eq!(r["treaty"], "trilateral");
        assert_eq!(r["deployed_warheads"].to_string(), w, "{party}");
    }
    // China's notifications, logged, checkpointed and audited.
    ok(
        d,
        &["keygen", "--name", "accord/trilateral/CN", "--out", "keys"],
    );
    ok(
        d,
        &[
            "log",
            "init",
            "--store",
            "cn.log",
            "--origin",
            "accord/trilateral/CN",
            "--key",
            "keys/accord_trilateral_CN.key",
        ],
    );
    let export = ok(d, &["registry", "export", "cn"]);
    let lines = String::from_utf8(export.stdout).expect("utf8");
    let n = lines.lines().count();
    assert!(n > 250, "{n}");
    let o = accord_stdin(d, &["log", "append", "--store", "cn.log"], &lines);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    ok(d, &["log", "checkpoint", "--store", "cn.log"]);
    let o = ok(
        d,
        &[
            "log",
            "audit",
            "--store",
            "cn.log",
            "--vkey",
            "keys/accord_trilateral_CN.vkey",
            "--json",
        ],
    );
    assert_eq!(json(&o)["entries"], n as u64);
    // An optimal inspection plan against China, and a US inspection of it.
    let o = ok(
        d,
        &[
            "inspect",
            "plan",
            "cn",
            "--date",
            "2026-03-01",
            "--violation",
            "extra-rv:2",
            "--json",
        ],
    );
    assert_eq!(json(&o)["plans"].as_array().map(Vec::len), Some(3));
    let rec = serde_json::json!({
        "record": "inspection", "id": "US-2026-T1-01", "inspecting_party": "US", "inspected_party": "CN",
        "inspection_type": "type_one", "site": "CN-KUNMING", "announced": "2026-03-02", "date": "2026-03-03",
        "items_selected": [], "results": [], "undeclared_items": 0, "ambiguities": []
    });
    std::fs::write(d.join("rec.json"), rec.to_string()).expect("w");
    ok(d, &["inspect", "record", "cn", "rec.json"]);
    ok(d, &["check", "cn", "--date", "2026-03-04"]);
    // China's whole stockpile declared, the cap proven and verified.
    let records: String = (0..350)
        .map(|i| format!("{{\"id\":\"CN-W{i:04}\",\"type\":\"CN-warhead\",\"category\":\"deployed_strategic\",\"site\":\"CN-SITE-{}\"}}\n", i % 4))
        .collect();
    std::fs::write(d.join("cn-stockpile.jsonl"), records).expect("w");
    ok(
        d,
        &[
            "freeze",
            "declare",
            "--party",
            "CN",
            "--treaty",
            "trilateral",
            "--date",
            "2026-03-01",
            "--records",
            "cn-stockpile.jsonl",
            "--cap",
            "350",
            "--out",
            "cn-freeze",
        ],
    );
    ok(d, &["freeze", "verify", "cn-freeze/public.json"]);
    // The comparison on the three registries.
    let o = ok(
        d,
        &[
            "scenario",
            "compare",
            "--from",
            "2026-03-01",
            "--proposal",
            "trilateral",
            "--registry",
            "US=us",
            "--registry",
            "RU=ru",
            "--registry",
            "CN=cn",
            "--years",
            "6",
            "--json",
        ],
    );
    let v = json(&o);
    let p = &v["proposals"][0];
    assert_eq!(p["expires"], "2031-02-05");
    assert_eq!(p["days_left"], (chrono_days("2026-03-01", "2031-02-05")));
    let first = &p["timeline"][0];
    assert_eq!(first["regime"], "treaty");
    assert_eq!(first["parties"]["CN"]["deployed_warheads"], 188);
    assert_eq!(first["parties"]["CN"]["deployed_delivery_vehicles"], 132);
    assert_eq!(first["verification"]["inspections_per_year"], 54);
    let last = p["timeline"]
        .as_array()
        .and_then(|t| t.last())
        .expect("last");
    assert_eq!(last["regime"], "none");
    assert!(v["forces"]["CN"]["provenance"]
        .as_str()
        .expect("p")
        .starts_with("registry cn"));
}

fn chrono_days(a: &str, b: &str) -> i64 {
    let p = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    (p(b) - p(a)).num_days()
}
