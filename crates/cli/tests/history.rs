//! `accord history`: the published rows under each reading, and the
//! exchanges the implementation record says were never provided.

mod common;
use common::*;

#[test]
fn history_raises_missing_data_exchanges_from_the_record() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = accord(tmp.path(), &["history", "--json"]);
    assert_eq!(o.status.code(), Some(1), "a finding: {}", text(&o));
    let j = json(&o);
    let rows = j.as_array().expect("rows");
    assert_eq!(rows.len(), 60, "50 published rows and 10 never made");
    let missing: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r.get("missing_data_exchange").is_some())
        .map(|r| {
            (
                r["date"].as_str().unwrap_or("").to_string(),
                r["party"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(missing.len(), 12);
    assert_eq!(missing[0], ("2023-03-01".to_string(), "US".to_string()));
    assert_eq!(missing[1], ("2023-03-01".to_string(), "RU".to_string()));
    // The published rows keep their place: the last one is still Russia's 1 Mar 2023.
    assert_eq!(rows[49]["party"], "RU");
    assert_eq!(rows[49]["limits"][0]["value"], "not_provided");
    let ru = rows
        .iter()
        .find(|r| r["date"] == "2023-03-01" && r["party"] == "RU")
        .expect("row");
    assert_eq!(ru["missing_data_exchange"]["kind"], "missing_data_exchange");
    assert_eq!(ru["missing_data_exchange"]["date"], "2023-03-31");
    // The treaty as agreed, without the record: no finding.
    let o = accord(tmp.path(), &["history", "--no-record"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn history_under_russias_objections_puts_the_us_101_over() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = accord(
        tmp.path(),
        &["history", "--reading", "ru-objections", "--no-record"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("counted under the reading ru-objections"), "{t}");
    assert!(
        t.contains("2020-09-01  US     675                         1457               901 > 800 !"),
        "{t}"
    );
    assert!(t.contains("findings: 10"), "{t}");
    let j = json(&accord(
        tmp.path(),
        &[
            "history",
            "--reading",
            "ru-objections",
            "--no-record",
            "--json",
        ],
    ));
    let us = j
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|r| r["date"] == "2020-09-01" && r["party"] == "US")
                .cloned()
        })
        .expect("row");
    assert_eq!(us["limits"][2]["value"]["value"], 901);
    assert_eq!(us["limits"][2]["published"]["value"], 800);
    assert_eq!(us["reading"], "ru-objections");
}
