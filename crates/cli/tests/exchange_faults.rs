//! Load and faults: 20,000 notifications through two `accord serve`
//! processes while the receiving node is killed (SIGKILL) and restarted
//! twice. Afterwards each mirror is its peer's log entry for entry, every
//! log and receipts log audits clean, the receipts cover the mirrors, and
//! no acknowledged notification is lost or stored twice.

mod common;
use accord_log::{audit, LogStore, Verifier};
use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

const US_TOKEN: &str = "us-operator-token-0123456789";
const RU_TOKEN: &str = "ru-operator-token-0123456789";
const US_TOTAL: u64 = 20_000;
const RU_TOTAL: u64 = 2_001;

fn notification(party: &str, number: u64) -> String {
    let (fac, t) = if party == "US" {
        ("US-MALMSTROM", "minuteman-iii-silo")
    } else {
        ("RU-UZHUR", "icbm-silo-ru")
    };
    if number == 1 {
        return format!(
            r#"{{"party":"{party}","number":1,"date":"2021-03-01","sent":"2021-03-01","event":{{"kind":"facility_declared","facility":"{fac}","facility_kind":"icbm_base","name":"{fac}"}}}}"#
        );
    }
    format!(
        r#"{{"party":"{party}","number":{number},"date":"2021-03-01","sent":"2021-03-01","event":{{"kind":"accountability_entry","item":"{party}-L{number:06}","item_kind":"icbm_launcher","item_type":"{t}","facility":"{fac}","status":"non_deployed"}}}}"#
    )
}

/// Posts numbers `range` as one batch; `Some(true)` acknowledged now,
/// `Some(false)` acknowledged before (a 409 replay: batches are atomic),
/// `None` not acknowledged (the node is down or died mid-request).
fn post(port: u16, token: &str, party: &str, range: std::ops::Range<u64>) -> Option<bool> {
    let body = format!(
        "[{}]",
        range
            .map(|n| notification(party, n))
            .collect::<Vec<_>>()
            .join(",")
    );
    match accord_node::client::request(
        &format!("http://127.0.0.1:{port}"),
        &accord_node::client::Reach::InsecurePlaintext,
        "POST",
        "/notifications",
        Some(token),
        body.as_bytes(),
    ) {
        Ok((201, _)) => Some(true),
        Ok((409, _)) => Some(false),
        Ok((s, b)) => panic!("{party}: {s} {}", String::from_utf8_lossy(&b)),
        Err(_) => None,
    }
}

fn config(d: &Path, party: &str, other: &str, ports: (u16, u16), token: &str) {
    let lower = party.to_lowercase();
    std::fs::write(
        d.join(format!("{lower}.toml")),
        format!(
            "party = \"{party}\"\ntreaty = \"new-start-2021\"\nlisten = \"127.0.0.1:{}\"\ndata_dir = \"{lower}-data\"\nkey = \"keys/accord_new-start-2021_{party}.key\"\noperator_tokens = [\"{token}\"]\ninterval_ms = 100\ninsecure_plaintext = true\nsimulated_date = \"2021-03-03\"\npeers = [{{ party = \"{other}\", url = \"http://127.0.0.1:{}\", vkey = \"keys/accord_new-start-2021_{other}.vkey\" }}]\n",
            ports.0, ports.1
        ),
    )
    .expect("config");
}

fn vkey(d: &Path, party: &str) -> Verifier {
    let text = std::fs::read_to_string(d.join(format!("keys/accord_new-start-2021_{party}.vkey")))
        .expect("vkey");
    Verifier::parse(text.trim()).expect("parse vkey")
}

/// The numbers in a log, in order.
fn numbers(log: &LogStore) -> Vec<u64> {
    let mut out = vec![];
    log.for_each_entry(|_, e| {
        let v: serde_json::Value = serde_json::from_slice(e).expect("json");
        out.push(v["number"].as_u64().expect("number"));
        true
    })
    .expect("entries");
    out
}

#[test]
fn twenty_thousand_notifications_survive_two_kills_of_the_receiver() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    for p in ["US", "RU"] {
        let name = format!("accord/new-start-2021/{p}");
        let o = accord(d, &["keygen", "--name", &name, "--out", "keys"]);
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
    config(d, "US", "RU", (pu, pr), US_TOKEN);
    config(d, "RU", "US", (pr, pu), RU_TOKEN);
    let (mut us, _) = start(d, "us.toml");
    let (mut ru, _) = start(d, "ru.toml");
    let started = Instant::now();
    // Russia's operators post throughout, retrying what was not
    // acknowledged, while Russia's node is killed under them.
    // Its k-th batch of 20 waits for the US's k-th batch, so that it is
    // posting while the node is down.
    use std::sync::atomic::{AtomicU64, Ordering};
    let us_batches = std::sync::Arc::new(AtomicU64::new(0));
    let ru_poster = {
        let progress = us_batches.clone();
        std::thread::spawn(move || {
            let mut next = 1;
            let mut retries = 0u64;
            let mut k = 0;
            while next <= RU_TOTAL {
                while progress.load(Ordering::SeqCst) < k.min(99) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                let end = (next + 20).min(RU_TOTAL + 1);
                match post(pr, RU_TOKEN, "RU", next..end) {
                    Some(_) => {
                        next = end;
                        k += 1;
                    }
                    None => {
                        retries += 1;
                        assert!(retries < 10_000, "Russia's node never came back");
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
            retries
        })
    };
    // The United States posts 20,000 in batches of 200; Russia's node
    // (which is pulling them) is killed at two points and restarted.
    let mut kills = 0;
    let mut first = 1;
    let mut batch = 0;
    while first <= US_TOTAL {
        let end = (first + 200).min(US_TOTAL + 1);
        assert_eq!(post(pu, US_TOKEN, "US", first..end), Some(true));
        first = end;
        batch += 1;
        us_batches.store(batch, Ordering::SeqCst);
        if batch == 30 || batch == 65 {
            ru.kill().expect("kill -9");
            ru.wait().expect("reaped");
            kills += 1;
            // Down for a while (the US node backs off), then back.
            std::thread::sleep(Duration::from_millis(if batch == 30 { 200 } else { 1500 }));
            ru = start(d, "ru.toml").0;
        }
    }
    assert_eq!(kills, 2);
    let retries = ru_poster.join().expect("poster");
    assert!(retries > 0, "Russia's operators never met the node down");
    // Both mirrors converge.
    let converged = Instant::now();
    loop {
        let (_, a) = http(pr, "GET", "/status?date=2021-03-03", None, "");
        let (_, b) = http(pu, "GET", "/status?date=2021-03-03", None, "");
        let a: serde_json::Value = serde_json::from_str(&a).expect("json");
        let b: serde_json::Value = serde_json::from_str(&b).expect("json");
        if a["peers"][0]["tree_size"] == US_TOTAL && b["peers"][0]["tree_size"] == RU_TOTAL {
            assert_eq!(a["peers"][0]["flagged"], false);
            assert_eq!(
                a["peers"][0]["compliance"]["deployed_and_nondeployed_launchers"],
                US_TOTAL - 1
            );
            break;
        }
        assert!(
            converged.elapsed() < Duration::from_secs(120),
            "no convergence: RU mirrors {} of {US_TOTAL}, US mirrors {} of {RU_TOTAL}",
            a["peers"][0]["tree_size"],
            b["peers"][0]["tree_size"]
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "20,000 + 2,001 notifications, 2 kills, {retries} refused posts retried: converged in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for c in [&mut us, &mut ru] {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &c.id().to_string()])
            .status();
        assert!(c.wait().expect("wait").success());
    }
    // On disk: every log audits clean with its party's key; each mirror
    // is its peer's log (same size, same root); each party's numbers are
    // there exactly once.
    let (uv, rv) = (vkey(d, "US"), vkey(d, "RU"));
    for (path, key, size) in [
        ("us-data/log.sqlite", &uv, US_TOTAL),
        ("ru-data/peers/US/log.sqlite", &uv, US_TOTAL),
        ("ru-data/log.sqlite", &rv, RU_TOTAL),
        ("us-data/peers/RU/log.sqlite", &rv, RU_TOTAL),
    ] {
        let log = LogStore::open(&d.join(path)).expect("open");
        assert_eq!(log.size(), size, "{path}");
        let report = audit(&log, key).expect("audit");
        assert!(report.is_clean(), "{path}: {report:?}");
        let n = numbers(&log);
        let set: BTreeSet<u64> = n.iter().copied().collect();
        assert_eq!(set.len() as u64, size, "{path}: a number twice");
        assert_eq!(set.first().copied(), Some(1));
        assert_eq!(set.last().copied(), Some(size));
    }
    for (own, mirror) in [
        ("us-data/log.sqlite", "ru-data/peers/US/log.sqlite"),
        ("ru-data/log.sqlite", "us-data/peers/RU/log.sqlite"),
    ] {
        let a = LogStore::open(&d.join(own)).expect("own");
        let b = LogStore::open(&d.join(mirror)).expect("mirror");
        assert_eq!(
            a.root(a.size()).expect("root"),
            b.root(b.size()).expect("root"),
            "{mirror}"
        );
    }
    // The receipts (signed by the receiver) cover each mirror without a gap
    // or an overlap, kills included.
    for (path, key, size) in [
        ("ru-data/receipts.sqlite", &rv, US_TOTAL),
        ("us-data/receipts.sqlite", &uv, RU_TOTAL),
    ] {
        let log = LogStore::open(&d.join(path)).expect("receipts");
        assert!(audit(&log, key).expect("audit").is_clean(), "{path}");
        let mut ranges = vec![];
        log.for_each_entry(|_, e| {
            let v: serde_json::Value = serde_json::from_slice(e).expect("json");
            ranges.push((
                v["first"].as_u64().expect("f"),
                v["end"].as_u64().expect("e"),
            ));
            true
        })
        .expect("entries");
        assert_eq!(ranges.first().map(|r| r.0), Some(0), "{path}");
        assert!(
            ranges.windows(2).all(|w| w[0].1 == w[1].0),
            "{path}: {ranges:?}"
        );
        assert_eq!(ranges.last().map(|r| r.1), Some(size), "{path}");
    }
}
