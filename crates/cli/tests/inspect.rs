//! `accord inspect` as the issue specifies it, and bad input.

mod common;
use common::*;

#[test]
fn odds_and_sample_size_json() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = accord(
        tmp.path(),
        &[
            "inspect",
            "odds",
            "--population",
            "100",
            "--violations",
            "5",
            "--samples",
            "10",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let p = json(&o)["p_detect"].as_f64().expect("p_detect");
    // mpmath 1.3.0: 0.4162476330738481
    assert!((p - 0.416_247_633_073_848_1).abs() < 1e-15, "{p}");
    let o = accord(
        tmp.path(),
        &[
            "inspect",
            "sample-size",
            "--population",
            "100",
            "--violations",
            "5",
            "--target",
            "0.9",
            "--json",
        ],
    );
    assert_eq!(json(&o)["samples"], 37);
}

#[test]
fn bad_input_exits_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    for args in [
        vec![
            "inspect",
            "odds",
            "--population",
            "10",
            "--violations",
            "11",
            "--samples",
            "1",
        ],
        vec![
            "inspect",
            "odds",
            "--population",
            "10",
            "--violations",
            "1",
            "--samples",
            "11",
        ],
        vec![
            "inspect",
            "odds",
            "--population",
            "-10",
            "--violations",
            "1",
            "--samples",
            "1",
        ],
        vec![
            "inspect",
            "odds",
            "--population",
            "10.5",
            "--violations",
            "1",
            "--samples",
            "1",
        ],
        vec![
            "inspect",
            "sample-size",
            "--population",
            "10",
            "--violations",
            "1",
            "--target",
            "0",
        ],
        vec![
            "inspect",
            "sample-size",
            "--population",
            "10",
            "--violations",
            "1",
            "--target",
            "1.01",
        ],
        vec![
            "inspect",
            "plan",
            "no-such-registry",
            "--date",
            "2020-09-01",
        ],
        vec![
            "inspect",
            "simulate",
            "no-such-registry",
            "--date",
            "2020-09-01",
            "--trials",
            "10",
            "--seed",
            "1",
        ],
    ] {
        let o = accord(tmp.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
}

#[test]
fn plan_simulate_record_and_findings_on_a_registry() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let o = accord(
        d,
        &[
            "generate",
            "--party",
            "RU",
            "--date",
            "2020-09-01",
            "--deployed-delivery-vehicles",
            "510",
            "--deployed-warheads",
            "1447",
            "--launchers",
            "764",
            "--out",
            "ru",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = accord(
        d,
        &[
            "inspect",
            "plan",
            "ru",
            "--date",
            "2020-09-01",
            "--violation",
            "extra-rv:5",
            "--json",
            "--svg",
            "plan.svg",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j = json(&o);
    let plans = j["plans"].as_array().expect("plans");
    assert_eq!(plans.len(), 3);
    let p = |i: usize| plans[i]["p_detect"].as_f64().expect("p");
    assert!(
        p(0) >= p(1) && p(0) >= p(2),
        "optimal {} uniform {} proportional {}",
        p(0),
        p(1),
        p(2)
    );
    assert!(std::fs::read_to_string(d.join("plan.svg"))
        .expect("svg")
        .contains("<svg"));
    assert_eq!(
        accord(
            d,
            &[
                "inspect",
                "plan",
                "ru",
                "--date",
                "2020-09-01",
                "--violation",
                "bogus:1"
            ]
        )
        .status
        .code(),
        Some(2)
    );

    let o = accord(
        d,
        &[
            "inspect",
            "simulate",
            "ru",
            "--date",
            "2020-09-01",
            "--violation",
            "extra-rv:5",
            "--trials",
            "20000",
            "--seed",
            "5",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["simulation"]["agrees"], true);

    // A record the treaty would not allow is refused; a good one is stored.
    let rec = |site: &str, id: &str| {
        serde_json::json!({
            "record": "inspection", "id": id, "inspecting_party": "US", "inspected_party": "RU",
            "inspection_type": "type_one", "site": site, "announced": "2020-10-01", "date": "2020-10-02",
            "items_selected": [], "results": [], "undeclared_items": 3, "ambiguities": []
        })
        .to_string()
    };
    std::fs::write(d.join("bad.json"), rec("RU-VOTKINSK", "x1")).expect("write");
    let o = accord(d, &["inspect", "record", "ru", "bad.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("RU-VOTKINSK is a production"),
        "{}",
        text(&o)
    );
    std::fs::write(d.join("ok.json"), rec("RU-KOZELSK", "x2")).expect("write");
    assert_eq!(
        accord(d, &["inspect", "record", "ru", "ok.json"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        accord(d, &["inspect", "record", "ru", "ok.json"])
            .status
            .code(),
        Some(2),
        "an id is recorded once"
    );
    let o = accord(
        d,
        &[
            "inspect",
            "findings",
            "ru",
            "--date",
            "2020-12-01",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)[0]["kind"], "undeclared_items");
}
