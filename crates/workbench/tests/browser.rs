//! The workbench in a real browser: headless Chromium (Debian's, over W3C
//! WebDriver with chromedriver) against two party nodes on loopback that
//! exchange their logs. Every view is driven; its numbers are compared with
//! the API's; filters, pagination and downloads are checked; the item page
//! against the registry; the keys pinned and a changed key caught; the page
//! served through a proxy that alters one entry and one tile, and the
//! failure shown; axe-core run on every view at 1,400 and 390 px; and
//! screenshots kept under `target/workbench/`.
//!
//! `.ci/run` installs Chromium, chromedriver and axe-core and sets
//! `ACCORD_BROWSER_TESTS=required`; elsewhere a missing browser skips.

mod common;
use common::*;

use accord_node::exchange::Clock;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

fn us_notifications() -> String {
    let mut v = vec![
        r#"{"party":"US","number":1,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"facility_declared","facility":"US-MALMSTROM","facility_kind":"icbm_base","name":"Malmstrom AFB"}}"#.to_string(),
        r#"{"party":"US","number":2,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"facility_declared","facility":"US-WARREN","facility_kind":"icbm_base","name":"F. E. Warren AFB"}}"#.to_string(),
        r#"{"party":"US","number":3,"date":"2021-03-01","sent":"2021-03-02","event":{"kind":"accountability_entry","item":"US-MAL-L0001","item_kind":"icbm_launcher","item_type":"minuteman-iii-silo","facility":"US-MALMSTROM","status":"non_deployed"}}"#.to_string(),
        r#"{"party":"US","number":4,"date":"2021-03-01","sent":"2021-03-02","event":{"kind":"accountability_entry","item":"US-MAL-L0002","item_kind":"icbm_launcher","item_type":"minuteman-iii-silo","facility":"US-MALMSTROM","status":"non_deployed"}}"#.to_string(),
        r#"{"party":"US","number":5,"date":"2021-03-01","sent":"2021-03-02","event":{"kind":"accountability_entry","item":"US-MAL-M0001","item_kind":"icbm","item_type":"minuteman-iii","facility":"US-MALMSTROM","status":"non_deployed"}}"#.to_string(),
        r#"{"party":"US","number":6,"date":"2021-03-01","sent":"2021-03-02","event":{"kind":"accountability_entry","item":"US-MAL-M0002","item_kind":"icbm","item_type":"minuteman-iii","facility":"US-MALMSTROM","status":"non_deployed"}}"#.to_string(),
        r#"{"party":"US","number":7,"date":"2021-03-01","sent":"2021-03-03","event":{"kind":"data_exchange","counts":{"deployed_delivery_vehicles":0,"deployed_warheads":0,"deployed_and_nondeployed_launchers":3}}}"#.to_string(),
        r#"{"party":"US","number":8,"date":"2021-03-03","sent":"2021-03-04","event":{"kind":"deployment","item":"US-MAL-M0001","launcher":"US-MAL-L0001","reentry_vehicles":1}}"#.to_string(),
        r#"{"party":"US","number":9,"date":"2021-03-04","sent":"2021-03-05","event":{"kind":"departure","item":"US-MAL-M0002","facility":"US-MALMSTROM"}}"#.to_string(),
        r#"{"party":"US","number":10,"date":"2021-03-06","sent":"2021-03-07","event":{"kind":"arrival","item":"US-MAL-M0002","facility":"US-WARREN"}}"#.to_string(),
        r#"{"party":"US","number":11,"date":"2021-03-02","sent":"2021-03-15","event":{"kind":"accountability_entry","item":"US-MAL-L0003","item_kind":"icbm_launcher","item_type":"minuteman-iii-silo","facility":"US-MALMSTROM","status":"non_deployed"}}"#.to_string(),
    ];
    for k in 0..60 {
        v.push(format!(
            r#"{{"party":"US","number":{},"date":"2021-03-08","sent":"2021-03-09","event":{{"kind":"accountability_entry","item":"US-WAR-L{:04}","item_kind":"icbm_launcher","item_type":"minuteman-iii-silo","facility":"US-WARREN","status":"non_deployed"}}}}"#,
            12 + k,
            100 + k
        ));
    }
    format!("[{}]", v.join(","))
}

const RU: &str = r#"[
  {"party":"RU","number":1,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"facility_declared","facility":"RU-UZHUR","facility_kind":"icbm_base","name":"Uzhur"}},
  {"party":"RU","number":2,"date":"2021-03-01","sent":"2021-03-02","event":{"kind":"accountability_entry","item":"RU-UZH-L0001","item_kind":"icbm_launcher","item_type":"icbm-silo-ru","facility":"RU-UZHUR","status":"non_deployed"}},
  {"party":"RU","number":3,"date":"2021-03-01","sent":"2021-03-02","event":{"kind":"accountability_entry","item":"RU-UZH-L0002","item_kind":"icbm_launcher","item_type":"icbm-silo-ru","facility":"RU-UZHUR","status":"non_deployed"}}
]"#;

/// How the proxy tampers.
const HONEST: u8 = 0;
const ALTER_ENTRY: u8 = 1;
const ALTER_TILE: u8 = 2;

/// A proxy in front of a node that, by mode, alters one entry in the
/// notifications it relays or one byte of one hash tile.
fn proxy(upstream: u16, mode: Arc<AtomicU8>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let mode = mode.clone();
            std::thread::spawn(move || {
                let mut buf = vec![];
                let mut tmp = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut tmp) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                let mut lines = head.split("\r\n");
                let first = lines.next().unwrap_or_default().to_string();
                let path = first.split(' ').nth(1).unwrap_or("/").to_string();
                let method = first.split(' ').next().unwrap_or("GET").to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .filter(|(k, _)| {
                        !["host", "connection", "content-length"]
                            .contains(&k.to_ascii_lowercase().as_str())
                    })
                    .collect();
                let hs: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let (status, rh, mut body) = http(upstream, &method, &path, &hs, b"");
                let m = mode.load(Ordering::SeqCst);
                if m == ALTER_ENTRY && path.starts_with("/workbench/api/notifications") {
                    let mut v: serde_json::Value = serde_json::from_slice(&body).expect("json");
                    if let Some(e) = v.pointer_mut("/rows/0/entry") {
                        // Same fields, other bytes: the columns agree, the leaf does not.
                        let s = e.as_str().unwrap_or_default().replacen("}", " }", 1);
                        *e = serde_json::Value::String(s);
                    }
                    body = serde_json::to_vec(&v).expect("json");
                }
                if m == ALTER_TILE
                    && path.starts_with("/workbench/api/tile/US/0/")
                    && !body.is_empty()
                {
                    body[0] ^= 0x01;
                }
                let mut out = format!(
                    "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
                    body.len()
                );
                for (k, v) in rh {
                    if !["content-length", "connection", "transfer-encoding"].contains(&k.as_str())
                    {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                }
                out.push_str("\r\n");
                let _ = c.write_all(out.as_bytes());
                let _ = c.write_all(&body);
            });
        }
    });
    port
}

const VIEWS: [&str; 7] = [
    "overview",
    "facilities",
    "notifications",
    "compliance",
    "exchange",
    "inspections",
    "keys",
];

#[test]
fn the_workbench_shows_the_api_verified_in_the_browser() {
    if !browser_present() {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let tmp = tempfile::tempdir().expect("tmp");
    let clock = Clock::fixed("2021-03-20".parse().expect("date"));
    let (lu, pu) = bind();
    let (lr, pr) = bind();
    let us_dir = tmp.path().join("US");
    let ru_dir = tmp.path().join("RU");
    std::fs::create_dir_all(&us_dir).expect("dir");
    std::fs::create_dir_all(&ru_dir).expect("dir");
    let us = node(&us_dir, "US", Some(("RU", pr)), &clock);
    let ru = node(&ru_dir, "RU", Some(("US", pu)), &clock);
    let su = serve(&rt, us, lu);
    let sr = serve(&rt, ru, lr);
    let (s, b) = post(pu, "/notifications", &us_notifications());
    assert_eq!(s, 201, "{b}");
    let (s, b) = post(pr, "/notifications", RU);
    assert_eq!(s, 201, "{b}");
    until(
        30,
        "the US node mirrors Russia's log and both cosign",
        || {
            let st = get_json(pu, "/status?date=2021-03-20");
            let (_, _, cp) = http(pu, "GET", "/checkpoint", &[], b"");
            st["peers"][0]["tree_size"] == 3
                && String::from_utf8_lossy(&cp).contains("accord/witness/RU")
        },
    );
    // The page's headers: a CSP without 'unsafe-inline'.
    let (s, h, page) = http(pu, "GET", "/workbench/overview", &[], b"");
    assert_eq!(s, 200);
    let csp = h
        .iter()
        .find(|(k, _)| k == "content-security-policy")
        .map(|(_, v)| v.clone())
        .expect("a CSP");
    assert!(
        !csp.contains("unsafe-inline") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!String::from_utf8_lossy(&page).contains("<script>"));

    eprintln!("KEYS {}", get_json(pu, "/keys"));
    eprintln!(
        "CP {}",
        String::from_utf8_lossy(&http(pu, "GET", "/checkpoint", &[], b"").2)
    );
    let b = Browser::start(1400, 1000);
    let base = format!("http://127.0.0.1:{pu}");
    let date = "2021-03-20";
    b.goto(&format!(
        "{base}/workbench/overview?date={date}#token={TOKEN}"
    ));
    b.ready();
    // The token is kept in the tab, never in the URL.
    let loc = b.js("return [location.href, sessionStorage.getItem('accord.token')];");
    assert!(!loc[0].as_str().expect("href").contains(TOKEN), "{loc}");
    assert_eq!(loc[1], TOKEN);
    // Overview: the numbers are /status's, for the node's party and the mirror.
    let st = get_json(pu, &format!("/status?date={date}"));
    let values = |party: &str| {
        b.wait(&format!(
            "const e = [...document.querySelectorAll('[id^=\"value-{party}-\"]')]; return e.length === 3 ? Object.fromEntries(e.map(x => [x.id.slice(9), Number(x.dataset.value)])) : null;"
        ))
    };
    let shown = values("US");
    for (k, v) in shown.as_object().expect("values") {
        assert_eq!(st["compliance"][k], *v, "US {k}");
    }
    // The data-exchange mismatch is a finding, linked to its notification.
    let finding = b.wait("const a = [...document.querySelectorAll('#view a')].find(a => a.textContent === 'notification 7'); return a ? a.getAttribute('href') : null;");
    assert!(
        finding.as_str().expect("href").contains("number=7"),
        "{finding}"
    );
    let cp = b.wait("const v = document.querySelector('[data-checkpoint=US]'); return v && !v.classList.contains('pending') ? [v.className, v.textContent] : null;");
    assert_eq!(cp[0], "verify ok", "{cp}");
    assert!(
        cp[1]
            .as_str()
            .expect("text")
            .contains("cosigned by accord/witness/RU"),
        "{cp}"
    );
    b.goto(&format!("{base}/workbench/overview?date={date}&party=RU"));
    b.ready();
    let shown = values("RU");
    for (k, v) in shown.as_object().expect("values") {
        assert_eq!(st["peers"][0]["compliance"][k], *v, "RU {k}");
    }

    // Notifications: the page's rows are the API's, each verified here.
    b.goto(&format!("{base}/workbench/notifications?date={date}"));
    b.ready();
    let api = get_json(pu, "/workbench/api/notifications?limit=50");
    assert_eq!(api["total"], 71);
    let rows = b.js("return [...document.querySelectorAll('table.entries tbody tr')].map(r => [Number(r.dataset.index), r.querySelector('td.v').dataset.verified]);");
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 50);
    for (r, a) in rows.iter().zip(api["rows"].as_array().expect("rows")) {
        assert_eq!(r[0], a["index"]);
        assert_eq!(r[1], "true", "row {r}");
    }
    // The next page, then a filter through the form.
    b.click(".pager a");
    b.ready();
    let n = b.js("return document.querySelectorAll('table.entries tbody tr').length;");
    assert_eq!(n, 21);
    assert!(b
        .js("return location.search")
        .as_str()
        .expect("q")
        .contains("offset=50"));
    b.js("document.getElementById('f-kind').value = 'departure'; document.getElementById('f-facility').value = 'US-MALMSTROM'; document.querySelector('#filters button[type=submit]').click(); return 1;");
    b.ready();
    let numbers = b.js("return [...document.querySelectorAll('table.entries tbody tr')].map(r => Number(r.children[1].textContent.replaceAll(',', '')));");
    let api = get_json(
        pu,
        "/workbench/api/notifications?kind=departure&facility=US-MALMSTROM",
    );
    let api_numbers: Vec<serde_json::Value> = api["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["number"].clone())
        .collect();
    assert_eq!(numbers, serde_json::Value::Array(api_numbers.clone()));
    assert_eq!(api_numbers, vec![serde_json::json!(9)]);
    // Late ones only.
    b.goto(&format!(
        "{base}/workbench/notifications?date={date}&late=true"
    ));
    b.ready();
    let late = b.js("return [...document.querySelectorAll('table.entries tbody tr')].map(r => Number(r.children[1].textContent));");
    assert_eq!(late, serde_json::json!([11]));
    // Downloads of the filtered set parse, and hold every row.
    b.goto(&format!(
        "{base}/workbench/notifications?date={date}&kind=accountability_entry"
    ));
    b.ready();
    b.click("button[data-format=csv]");
    let csv = b.wait(
        "const d = window.__accord.lastDownload; return d && d.format === 'csv' ? d.text : null;",
    );
    let csv = csv.as_str().expect("csv");
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(
        lines[0],
        "index,number,kind,date,sent,deadline,late,facility,item,other_item,entry"
    );
    assert_eq!(lines.len(), 1 + 65, "65 accountability entries");
    assert!(lines[1..]
        .iter()
        .all(|l| l.contains(",accountability_entry,")));
    b.click("button[data-format=json]");
    let json = b.wait(
        "const d = window.__accord.lastDownload; return d && d.format === 'json' ? d.text : null;",
    );
    let rows: serde_json::Value =
        serde_json::from_str(json.as_str().expect("json")).expect("parses");
    assert_eq!(rows.as_array().expect("array").len(), 65);

    // The item page: its history is every entry naming it, as the registry
    // holds them; its place moves with the date control.
    b.goto(&format!(
        "{base}/workbench/items/US-MAL-M0002?date=2021-03-05"
    ));
    b.ready();
    let hist = b.js("return [...document.querySelectorAll('table.entries tbody tr')].map(r => [Number(r.children[1].textContent), r.querySelector('td.v').dataset.verified]);");
    assert_eq!(
        hist,
        serde_json::json!([[6, "true"], [9, "true"], [10, "true"]])
    );
    let api = get_json(pu, "/workbench/api/item?id=US-MAL-M0002&date=2021-03-05");
    assert_eq!(api["state"]["in_transit_from"], "US-MALMSTROM");
    let where_ = b.js("return document.getElementById('item-state').textContent;");
    assert!(
        where_
            .as_str()
            .expect("text")
            .contains("in transit from US-MALMSTROM"),
        "{where_}"
    );
    b.js("const d = document.getElementById('date'); d.value = '2021-03-10'; d.dispatchEvent(new Event('change')); return 1;");
    b.ready();
    let at = b.wait("const e = document.querySelector('#item-state [data-facility]'); return e ? e.dataset.facility : null;");
    assert_eq!(at, "US-WARREN");
    assert!(b
        .js("return location.search")
        .as_str()
        .expect("q")
        .contains("date=2021-03-10"));
    // Back: the same item on the earlier date.
    b.back();
    b.ready();
    assert!(b
        .js("return location.search")
        .as_str()
        .expect("q")
        .contains("date=2021-03-05"));
    assert!(b
        .js("return document.getElementById('item-state').textContent")
        .as_str()
        .expect("t")
        .contains("in transit"));

    // Facilities: each count is the API's; the exchange's totals compared.
    b.goto(&format!("{base}/workbench/facilities?date={date}"));
    b.ready();
    let api = get_json(pu, &format!("/workbench/api/facilities?date={date}"));
    // Every facility's every column, as the page shows it.
    let found = b.js("return Object.fromEntries([...document.querySelectorAll('table.facilities tbody tr')].map(r => [r.dataset.facility, Object.fromEntries([...r.querySelectorAll('td[data-category]')].map(c => [c.dataset.category, Number(c.dataset.found)]))]));");
    assert!(!api["facility_categories"]
        .as_array()
        .expect("columns")
        .is_empty());
    for f in api["facilities"].as_array().expect("facilities") {
        let id = f["id"].as_str().expect("id");
        for c in f["categories"].as_array().expect("cats") {
            let cat = c["id"].as_str().expect("cat");
            assert_eq!(found[id][cat], c["found"], "{id} {cat}");
        }
    }
    // On the exchange's date (1 March) Malmstrom held two silos; the third
    // entered on 2 March.
    assert_eq!(found["US-MALMSTROM"]["non_deployed_icbm_launchers"], 2);
    assert_eq!(found["US-WARREN"]["non_deployed_icbm_launchers"], 0);

    // Compliance over time: the chart, its data exchange, values on keys.
    b.goto(&format!("{base}/workbench/compliance?date={date}"));
    b.ready();
    let chart = b.js("const s = document.querySelector('svg.chart'); s.focus(); s.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowLeft'})); return [s.querySelectorAll('path.series').length, s.querySelectorAll('line.marker').length, s.dataset.readout];");
    assert_eq!(chart[0], 3);
    assert_eq!(chart[1], 1, "the data exchange is marked");
    assert!(
        chart[2].as_str().expect("readout").starts_with("2021-03-"),
        "{chart}"
    );

    // Keys: pin them all; a key that changes later is a loud warning.
    b.goto(&format!("{base}/workbench/keys?date={date}"));
    b.ready();
    b.click("#pin-all");
    b.ready();
    let states =
        b.js("return [...document.querySelectorAll('[data-state]')].map(e => e.dataset.state);");
    assert!(
        states
            .as_array()
            .expect("states")
            .iter()
            .all(|s| s == "pinned"),
        "{states}"
    );
    b.js("const p = JSON.parse(localStorage.getItem('accord.pins')); p['accord/new-start-2021/US'].vkey = p['accord/new-start-2021/RU'].vkey.replace('accord/new-start-2021/RU', 'accord/new-start-2021/US'); localStorage.setItem('accord.pins', JSON.stringify(p)); return 1;");
    b.goto(&format!("{base}/workbench/overview?date={date}"));
    b.ready();
    let alarm =
        b.js("const a = document.getElementById('key-changed'); return a ? a.textContent : null;");
    assert!(
        alarm
            .as_str()
            .is_some_and(|t| t.contains("KEY CHANGED") && t.contains("accord/new-start-2021/US")),
        "{alarm}"
    );
    let cp = b.wait("const v = document.querySelector('[data-checkpoint=US]'); return v && !v.classList.contains('pending') ? v.className : null;");
    assert_eq!(cp, "verify bad");
    b.js("localStorage.removeItem('accord.pins'); return 1;");

    // Every view at both widths: no accessibility violation, a screenshot.
    let axe = axe_source();
    for (width, height, tag) in [(1400, 1000, "1400"), (390, 844, "390")] {
        b.resize(width, height);
        for v in VIEWS {
            b.goto(&format!("{base}/workbench/{v}?date={date}"));
            b.ready();
            b.screenshot(&format!("{v}-{tag}"));
            if let Some(src) = &axe {
                let violations = b.axe(src);
                assert_eq!(violations, serde_json::json!([]), "{v} at {width} px");
            }
        }
        b.goto(&format!("{base}/workbench/items/US-MAL-M0001?date={date}"));
        b.ready();
        b.screenshot(&format!("item-{tag}"));
        if let Some(src) = &axe {
            assert_eq!(b.axe(src), serde_json::json!([]), "item at {width} px");
        }
        // No horizontal scrolling of the page itself (tables scroll in their boxes).
        let overflow = b.js(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
        );
        assert!(
            overflow.as_i64().expect("px") <= 0,
            "the page scrolls sideways at {width} px: {overflow}"
        );
    }
    b.resize(1400, 1000);

    // Through a tampering proxy: one altered entry, then one altered tile.
    let mode = Arc::new(AtomicU8::new(HONEST));
    let pp = proxy(pu, mode.clone());
    let via = format!("http://127.0.0.1:{pp}");
    b.goto(&format!(
        "{via}/workbench/notifications?date={date}#token={TOKEN}"
    ));
    b.ready();
    let bad = b.js("return document.querySelectorAll('td.v.bad').length;");
    assert_eq!(bad, 0, "honest through the proxy");
    mode.store(ALTER_ENTRY, Ordering::SeqCst);
    b.goto(&format!(
        "{via}/workbench/notifications?date={date}&offset=0"
    ));
    b.ready();
    let bad = b.js("return [...document.querySelectorAll('td.v.bad')].map(c => [c.closest('tr').dataset.index, c.textContent]);");
    let bad = bad.as_array().expect("bad");
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0][0], "70", "the newest row was altered");
    assert!(
        bad[0][1]
            .as_str()
            .expect("text")
            .contains("entry 70: its bytes are not the logged entry"),
        "{bad:?}"
    );
    let good = b.js("return document.querySelectorAll('td.v.ok').length;");
    assert_eq!(good, 49);
    b.screenshot("tampered-entry-1400");
    mode.store(ALTER_TILE, Ordering::SeqCst);
    b.goto(&format!(
        "{via}/workbench/notifications?date={date}&kind=accountability_entry"
    ));
    b.ready();
    let bad = b.js("return [...document.querySelectorAll('td.v.bad')].map(c => c.textContent);");
    let bad = bad.as_array().expect("bad");
    assert!(!bad.is_empty(), "the altered tile is caught");
    assert!(
        bad.iter().all(|t| t.as_str().is_some_and(|t| t
            .contains("does not reach the signed root")
            && t.contains("tile/0/000.p/"))),
        "{bad:?}"
    );
    let red = b.js(
        "const c = document.querySelector('td.v.bad'); return getComputedStyle(c).backgroundColor;",
    );
    assert_eq!(red, "rgb(164, 22, 26)", "shown in red");
    b.screenshot("tampered-tile-1400");
    drop(b);
    halt(&rt, su);
    halt(&rt, sr);
}
