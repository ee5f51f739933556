//! The dashboard in a real browser: headless Chromium driven over W3C
//! WebDriver (chromedriver), against `accord serve` on loopback.
//!
//! The test needs Debian's `chromium` and `chromium-driver`. `.ci/run`
//! installs them and sets `ACCORD_BROWSER_TESTS=required`, so there a
//! missing browser fails the test; elsewhere it is skipped with a note.
//! The screenshot is kept at `target/dashboard.png`.

mod common;
use base64::Engine as _;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "dashboard-operator-token";

fn driver_present() -> bool {
    Command::new("chromedriver")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A W3C WebDriver call; returns the response's `value`.
fn wd(port: u16, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (status, text) = http(port, method, path, None, &body);
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"));
    assert_eq!(status, 200, "{method} {path}: {text}");
    v["value"].clone()
}

/// Runs `script` in the page until it returns something `done` accepts.
fn wait_for(
    port: u16,
    session: &str,
    script: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let v = wd(
            port,
            "POST",
            &format!("/session/{session}/execute/sync"),
            serde_json::json!({"script": script, "args": []}),
        );
        if done(&v) {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the page never showed it: {script} -> {v}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

const VALUES: &str = "const ids = ['deployed_delivery_vehicles', 'deployed_warheads', \
    'deployed_and_nondeployed_launchers']; \
    const get = p => { const e = ids.map(i => document.getElementById('value-' + p + '-' + i)); \
      return e.some(x => !x) ? null : e.map(x => Number(x.dataset.value)); }; \
    if (!get('US')) return null; \
    return { values: get('US'), peer: get('RU'), \
             tree: document.getElementById('tree-size').textContent, \
             feed: document.querySelectorAll('#feed-US tbody tr').length, \
             peer_feed: document.querySelectorAll('#feed-RU tbody tr').length, \
             quota_rows: document.querySelectorAll('#quota tbody tr').length, \
             witnesses: document.querySelector('#witnesses tbody').textContent };";

#[test]
fn the_dashboard_shows_the_api_and_updates_without_a_reload() {
    if !driver_present() {
        assert_ne!(
            std::env::var("ACCORD_BROWSER_TESTS").as_deref(),
            Ok("required"),
            "chromedriver is required here (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: no chromedriver (apt-get install chromium chromium-driver)");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    for p in ["US", "RU"] {
        let name = format!("accord/new-start-2021/{p}");
        let o = accord(d, &["keygen", "--name", &name, "--out", "keys"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    // Two nodes that exchange: the US dashboard shows Russia's mirror too.
    let (pu, pr) = {
        let a = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let b = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        (
            a.local_addr().expect("a").port(),
            b.local_addr().expect("b").port(),
        )
    };
    for (p, o, mine, theirs) in [("US", "RU", pu, pr), ("RU", "US", pr, pu)] {
        std::fs::write(
            d.join(format!("{p}.toml")),
            format!("party = \"{p}\"\ntreaty = \"new-start-2021\"\nlisten = \"127.0.0.1:{mine}\"\ndata_dir = \"{p}-data\"\nkey = \"keys/accord_new-start-2021_{p}.key\"\noperator_tokens = [\"{TOKEN}\"]\ninterval_ms = 100\ninsecure_plaintext = true\npeers = [{{ party = \"{o}\", url = \"http://127.0.0.1:{theirs}\", vkey = \"keys/accord_new-start-2021_{o}.vkey\" }}]\n"),
        )
        .expect("config");
    }
    let (mut node, port) = start(d, "US.toml");
    let (mut ru_node, ru_port) = start(d, "RU.toml");
    let ru_first = r#"[
      {"party":"RU","number":1,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"facility_declared","facility":"RU-UZHUR","facility_kind":"icbm_base","name":"Uzhur"}},
      {"party":"RU","number":2,"date":"2021-03-01","sent":"2021-03-02","event":{"kind":"accountability_entry","item":"RU-UZH-L0001","item_kind":"icbm_launcher","item_type":"icbm-silo-ru","facility":"RU-UZHUR","status":"non_deployed"}},
      {"party":"RU","number":3,"date":"2021-03-01","sent":"2021-03-02","event":{"kind":"accountability_entry","item":"RU-UZH-L0002","item_kind":"icbm_launcher","item_type":"icbm-silo-ru","facility":"RU-UZHUR","status":"non_deployed"}}
    ]"#;
    let (s, b) = http(ru_port, "POST", "/notifications", Some(TOKEN), ru_first);
    assert_eq!(s, 201, "{b}");
    // A facility and a deployed ICBM in its silo, so all three limits count.
    let first = r#"[
      {"party":"US","number":1,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"facility_declared","facility":"US-MALMSTROM","facility_kind":"icbm_base","name":"Malmstrom AFB"}},
      {"party":"US","number":2,"date":"2021-03-01","sent":"2021-03-02","event":{"kind":"accountability_entry","item":"US-MAL-L0001","item_kind":"icbm_launcher","item_type":"minuteman-iii-silo","facility":"US-MALMSTROM","status":"non_deployed"}},
      {"party":"US","number":3,"date":"2021-03-01","sent":"2021-03-02","event":{"kind":"accountability_entry","item":"US-MAL-M0001","item_kind":"icbm","item_type":"minuteman-iii","facility":"US-MALMSTROM","status":"non_deployed"}},
      {"party":"US","number":4,"date":"2021-03-03","sent":"2021-03-04","event":{"kind":"deployment","item":"US-MAL-M0001","launcher":"US-MAL-L0001","reentry_vehicles":1}}
    ]"#;
    let (s, b) = http(port, "POST", "/notifications", Some(TOKEN), first);
    assert_eq!(s, 201, "{b}");

    // chromedriver on a port of its own choosing is not reported, so pick a
    // free one and retry if another process takes it first.
    let (mut driver, dport) = {
        let mut tries = 0;
        loop {
            let p = std::net::TcpListener::bind("127.0.0.1:0")
                .expect("bind")
                .local_addr()
                .expect("addr")
                .port();
            let child = Command::new("chromedriver")
                .arg(format!("--port={p}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver");
            let t = Instant::now();
            let mut up = false;
            while t.elapsed() < Duration::from_secs(10) {
                if std::net::TcpStream::connect(("127.0.0.1", p)).is_ok() {
                    up = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if up {
                break (child, p);
            }
            let mut child = child;
            let _ = child.kill();
            tries += 1;
            assert!(tries < 3, "chromedriver did not start");
        }
    };
    let session = wd(
        dport,
        "POST",
        "/session",
        serde_json::json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1100"]
            }
        }}}),
    );
    let sid = session["sessionId"].as_str().expect("session").to_string();
    let date = "2021-03-10";
    wd(
        dport,
        "POST",
        &format!("/session/{sid}/url"),
        serde_json::json!({"url": format!("http://127.0.0.1:{port}/?date={date}#token={TOKEN}")}),
    );
    // The numbers shown are the API's numbers: the US's own, and Russia's
    // as the US node mirrored them (equal to Russia's own node's).
    let shown = wait_for(dport, &sid, VALUES, |v| {
        v["feed"] == 4 && v["peer_feed"] == 3 && v["peer"].is_array()
    });
    let (s, ru_status) = http(ru_port, "GET", &format!("/status?date={date}"), None, "");
    assert_eq!(s, 200);
    let ru_st: serde_json::Value = serde_json::from_str(&ru_status).expect("json");
    let ru_api: Vec<u64> = [
        "deployed_delivery_vehicles",
        "deployed_warheads",
        "deployed_and_nondeployed_launchers",
    ]
    .iter()
    .map(|k| ru_st["compliance"][k].as_u64().expect("value"))
    .collect();
    assert_eq!(ru_api, vec![0, 0, 2]);
    assert_eq!(shown["peer"], serde_json::json!(ru_api));
    // Quota use: two inspecting parties × two inspection types.
    assert_eq!(shown["quota_rows"], 4);
    // Russia's node is this log's peer; its witness key is not configured.
    assert!(
        shown["witnesses"]
            .as_str()
            .expect("text")
            .contains(&format!("127.0.0.1:{pr}")),
        "{shown}"
    );
    let (s, status) = http(port, "GET", &format!("/status?date={date}"), None, "");
    assert_eq!(s, 200);
    let st: serde_json::Value = serde_json::from_str(&status).expect("json");
    let api: Vec<u64> = [
        "deployed_delivery_vehicles",
        "deployed_warheads",
        "deployed_and_nondeployed_launchers",
    ]
    .iter()
    .map(|k| st["compliance"][k].as_u64().expect("value"))
    .collect();
    assert_eq!(api, vec![1, 1, 1]);
    assert_eq!(shown["values"], serde_json::json!(api));
    assert_eq!(shown["tree"], "4");

    // A notification arrives; the open page changes without a reload.
    let marker = wd(
        dport,
        "POST",
        &format!("/session/{sid}/execute/sync"),
        serde_json::json!({"script": "window.__same_page = 42; return 1;", "args": []}),
    );
    assert_eq!(marker, 1);
    let second = r#"{"party":"US","number":5,"date":"2021-03-05","sent":"2021-03-06","event":{"kind":"accountability_entry","item":"US-MAL-L0002","item_kind":"icbm_launcher","item_type":"minuteman-iii-silo","facility":"US-MALMSTROM","status":"non_deployed"}}"#;
    let (s, b) = http(port, "POST", "/notifications", Some(TOKEN), second);
    assert_eq!(s, 201, "{b}");
    let after = wait_for(dport, &sid, VALUES, |v| v["tree"] == "5" && v["feed"] == 5);
    assert_eq!(after["values"], serde_json::json!([1, 1, 2]));
    let same = wd(
        dport,
        "POST",
        &format!("/session/{sid}/execute/sync"),
        serde_json::json!({"script": "return window.__same_page || null;", "args": []}),
    );
    assert_eq!(same, 42, "the page was reloaded");

    // Keep a screenshot.
    let png = wd(
        dport,
        "GET",
        &format!("/session/{sid}/screenshot"),
        serde_json::Value::Null,
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().expect("base64"))
        .expect("png");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/dashboard.png");
    std::fs::write(&out, &bytes).expect("screenshot");

    let _ = http(dport, "DELETE", &format!("/session/{sid}"), None, "");
    let _ = driver.kill();
    let _ = driver.wait();
    let _ = Command::new("kill")
        .args(["-INT", &node.id().to_string()])
        .status();
    assert!(node.wait().expect("wait").success());
    let _ = Command::new("kill")
        .args(["-INT", &ru_node.id().to_string()])
        .status();
    assert!(ru_node.wait().expect("wait").success());
}
