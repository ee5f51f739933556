//! `accord serve`: a real node on loopback, spoken to in plain HTTP/1.1.

mod common;
use common::*;
use std::process::Command;

#[test]
fn a_node_takes_notifications_and_serves_its_checkpoint() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    assert_eq!(
        accord(
            d,
            &[
                "keygen",
                "--name",
                "accord/new-start-2021/US",
                "--out",
                "keys"
            ]
        )
        .status
        .code(),
        Some(0)
    );
    let token = "operator-token-0123456789";
    std::fs::write(
        d.join("us.toml"),
        format!("party = \"US\"\ntreaty = \"new-start-2021\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \"data\"\nkey = \"keys/accord_new-start-2021_US.key\"\noperator_tokens = [\"{token}\"]\ninsecure_plaintext = true\n"),
    )
    .expect("config");
    let (mut child, port) = start(d, "us.toml");
    let n = r#"{"party":"US","number":1,"date":"2020-09-01","sent":"2020-09-01","event":{"kind":"facility_declared","facility":"US-MALMSTROM","facility_kind":"icbm_base","name":"Malmstrom AFB"}}"#;
    assert_eq!(http(port, "POST", "/notifications", None, n).0, 401);
    let (s, body) = http(port, "POST", "/notifications", Some(token), n);
    assert_eq!(s, 201, "{body}");
    let (s, note) = http(port, "GET", "/checkpoint", None, "");
    assert_eq!(s, 200);
    assert!(note.starts_with("accord/new-start-2021/US\n1\n"), "{note}");
    let (s, status) = http(port, "GET", "/status?date=2020-09-01", None, "");
    assert_eq!(s, 200);
    assert!(status.contains("\"tree_size\":1"), "{status}");
    // The client commands.
    std::fs::write(
        d.join("n2.json"),
        n.replace("\"number\":1", "\"number\":2")
            .replace("US-MALMSTROM", "US-MINOT"),
    )
    .expect("w");
    let url = format!("http://127.0.0.1:{port}");
    let plain = "--insecure-plaintext";
    let o = accord(
        d,
        &["notify", "--node", &url, plain, "--token", token, "n2.json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = accord(
        d,
        &["notify", "--node", &url, plain, "--token", token, "n2.json"],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "a replay is refused: {}",
        text(&o)
    );
    assert!(text(&o).contains("409"), "{}", text(&o));
    let o = accord(
        d,
        &[
            "status",
            "--node",
            &url,
            plain,
            "--date",
            "2020-09-01",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["tree_size"], 2);
    // Ctrl-C stops it cleanly.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let code = child.wait().expect("wait");
    assert!(code.success(), "stopped with {code}");
    // The log it kept audits clean.
    let o = accord(
        d,
        &[
            "log",
            "audit",
            "--store",
            "data/log.sqlite",
            "--vkey",
            "keys/accord_new-start-2021_US.vkey",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_bad_config_names_the_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("c.toml"),
        "party = \"US\"\ntreaty = \"new-start-2021\"\nlisten = \"127.0.0.1:1\"\nportt = 3\n",
    )
    .expect("w");
    let o = accord(tmp.path(), &["serve", "--config", "c.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("c.toml:4: unknown field `portt`"),
        "{}",
        text(&o)
    );
}

/// Three free loopback ports (bound and released: a node binds each next).
fn free_ports() -> Vec<u16> {
    let ls: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    ls.iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect()
}

/// Polls `accord status --json` until `f` holds (at most 60 s).
fn until_status(
    d: &std::path::Path,
    url: &str,
    pin_file: &str,
    f: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let t = std::time::Instant::now();
    loop {
        let o = accord(
            d,
            &[
                "status",
                "--node",
                url,
                "--pin-file",
                pin_file,
                "--date",
                "2021-03-05",
                "--json",
            ],
        );
        let v = json(&o);
        if f(&v) {
            return v;
        }
        assert!(t.elapsed().as_secs() < 60, "timed out; last status: {v}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The README's quickstart: `examples/` as shipped — the US and Russian
/// nodes and the neutral witness, speaking mutual TLS with the keys pinned
/// in their configurations — on free ports (so tests never fight a node
/// the user runs on 7101–7103).
#[test]
fn the_examples_run_as_the_readme_says() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let ex = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let copy_dir = |from: &std::path::Path, to: &std::path::Path| {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("dir") {
            let p = e.expect("entry").path();
            let t = to.join(p.file_name().expect("name"));
            std::fs::copy(&p, &t).expect("copy");
            // As the README says: git keeps no modes, and a node refuses a
            // key others can read (`chmod 600 examples/keys/*.key
            // examples/tls/*/tls.key`).
            #[cfg(unix)]
            if t.extension().is_some_and(|e| e == "key") {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o600))
                    .expect("chmod");
            }
        }
    };
    copy_dir(&ex.join("keys"), &d.join("keys"));
    for n in ["us", "ru", "witness"] {
        copy_dir(&ex.join("tls").join(n), &d.join("tls").join(n));
    }
    std::fs::copy(ex.join("notification.json"), d.join("notification.json")).expect("copy");
    let ports = free_ports();
    for name in ["us.toml", "ru.toml", "witness.toml"] {
        let mut cfg = std::fs::read_to_string(ex.join(name)).expect("config");
        for (i, default) in ["7101", "7102", "7103"].iter().enumerate() {
            cfg = cfg.replace(
                &format!("127.0.0.1:{default}"),
                &format!("127.0.0.1:{}", ports[i]),
            );
        }
        // A quick exchange for the test (the examples poll every second).
        if name != "witness.toml" {
            cfg.push_str("interval_ms = 100\n");
        }
        std::fs::write(d.join(name), cfg).expect("w");
    }
    let mut children = vec![];
    for name in ["witness.toml", "us.toml", "ru.toml"] {
        let (child, _) = start(d, name);
        children.push(child);
    }
    let us = format!("https://127.0.0.1:{}", ports[0]);
    let ru = format!("https://127.0.0.1:{}", ports[1]);
    let (us_pin, ru_pin) = ("tls/us/tls.pin", "tls/ru/tls.pin");
    let pin = |f: &str| std::fs::read_to_string(d.join(f)).expect("pin");
    let token = "us-operator-example-token";
    let notify = |node: &str, pin_file: &str, token: &str| {
        accord(
            d,
            &[
                "notify",
                "--node",
                node,
                "--pin-file",
                pin_file,
                "--token",
                token,
                "notification.json",
            ],
        )
    };
    let o = notify(&us, us_pin, token);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The US operator's token means nothing to Russia's node.
    let o = notify(&ru, ru_pin, token);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("403"), "{}", text(&o));
    // A client that pins another key does not talk to the US node at all.
    let o = notify(&us, ru_pin, token);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("pin"), "{}", text(&o));
    let o = accord(
        d,
        &[
            "status",
            "--node",
            &us,
            "--pin-file",
            us_pin,
            "--date",
            "2021-03-05",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json(&o);
    assert_eq!(v["tree_size"], 4);
    assert_eq!(v["compliance"]["deployed_warheads"], 1);
    assert_eq!(v["compliance"]["deployed_delivery_vehicles"], 1);
    assert_eq!(v["compliance"]["deployed_and_nondeployed_launchers"], 1);
    // Russia's node pulls, verifies and mirrors the US log over mutual TLS;
    // its status shows the US figures from the mirror, and a receipt was
    // logged.
    let r = until_status(d, &ru, ru_pin, |v| v["peers"][0]["tree_size"] == 4);
    assert_eq!(r["peers"][0]["compliance"]["deployed_warheads"], 1);
    assert_eq!(r["peers"][0]["flagged"], false);
    assert!(r["receipts"]["tree_size"].as_u64().expect("receipts") >= 1);
    // The US checkpoint is cosigned by Russia's witness and the neutral one.
    let u = until_status(d, &us, us_pin, |v| {
        v["witnesses"].as_array().is_some_and(|w| {
            w.len() == 2
                && w.iter()
                    .all(|t| t["acknowledged"] == 4 && t["verified"] == true)
        })
    });
    assert_eq!(u["peers"][0]["party"], "RU");
    let (s, note) = https(ports[0], &pin(us_pin), "GET", "/checkpoint", None, "");
    assert_eq!(s, 200);
    assert!(note.contains("\u{2014} accord/witness/RU "), "{note}");
    assert!(note.contains("\u{2014} accord/witness/neutral "), "{note}");
    let (s, w) = https(
        ports[2],
        &pin("tls/witness/tls.pin"),
        "GET",
        "/status",
        None,
        "",
    );
    assert_eq!(s, 200, "{w}");
    assert!(w.contains("\"size\":4"), "{w}");
    // The human status names the mirror and the witnesses.
    let o = accord(
        d,
        &[
            "status",
            "--node",
            &ru,
            "--pin-file",
            ru_pin,
            "--date",
            "2021-03-05",
        ],
    );
    assert!(text(&o).contains("mirror of US"), "{}", text(&o));
    // An observer reads the US log's entries with its reader token, and
    // cannot write.
    let reader = "observer-reader-example-token-us";
    let (s, b) = https(
        ports[0],
        &pin(us_pin),
        "GET",
        "/tile/entries/000.p/4",
        Some(reader),
        "",
    );
    assert_eq!(s, 200, "{b}");
    let o = notify(&us, us_pin, reader);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // Plain HTTP to a TLS node gets nowhere.
    let o = accord(
        d,
        &[
            "status",
            "--node",
            &us.replace("https", "http"),
            "--insecure-plaintext",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    for mut c in children {
        let _ = Command::new("kill")
            .args(["-INT", &c.id().to_string()])
            .status();
        assert!(c.wait().expect("wait").success());
    }
}

/// `accord bench node`, small: every notification is acknowledged, logged
/// once and applied, and the figures are there.
#[test]
fn bench_node_checks_what_it_measured() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = accord(
        tmp.path(),
        &[
            "bench",
            "node",
            "--notifications",
            "300",
            "--clients",
            "4",
            "--slowloris",
            "20",
            "--read-loops",
            "2",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json(&o);
    assert_eq!(v["notifications"], 300);
    for run in ["plaintext", "mtls", "mtls_under_attack"] {
        let r = &v[run];
        assert_eq!(r["log_size"], 301, "{run}");
        assert_eq!(r["registry_items"], 300, "{run}");
        assert!(r["per_second"].as_f64().expect("rate") > 0.0);
        assert!(r["p99_ms"].as_f64().expect("p99") >= r["p50_ms"].as_f64().expect("p50"));
    }
    assert!(v["mtls_under_attack"]["reads"].as_u64().expect("reads") > 0);
    assert!(v["ratio_mtls_to_plaintext"].as_f64().expect("ratio") > 0.0);
}

/// `accord demo --serve`: both nodes come up, take their years over HTTP,
/// cross-witness, print working dashboard links, and stop on Ctrl-C.
#[test]
fn demo_serve_runs_both_nodes_until_ctrl_c() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().expect("tmp");
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .current_dir(tmp.path())
        .args(["demo", "--serve", "--port-base", "0", "--out", "served"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("demo");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = String::new();
    let mut links: Vec<(u16, String)> = vec![];
    let mut last_port = 0u16;
    while links.len() < 3 {
        let mut line = String::new();
        let n = out.read_line(&mut line).expect("read");
        assert!(n > 0, "the demo exited early:\n{seen}");
        seen.push_str(&line);
        if let Some(url) = line.split_whitespace().find(|w| w.starts_with("https://")) {
            last_port = url
                .trim_start_matches("https://127.0.0.1:")
                .split('/')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("port");
        }
        if let Some(pin) = line.split_whitespace().find(|w| w.starts_with("sha256/")) {
            links.push((last_port, pin.trim_end_matches(')').to_string()));
        }
    }
    assert!(seen.contains("SYNTHETIC"), "{seen}");
    // Each node mirrored the other's year, and both witnesses cosigned.
    assert!(seen.contains("US node: own log 2917 entries, its checkpoint cosigned by 2 of 2 witnesses; mirror of RU 2241 entries, 0 late, consistent"), "{seen}");
    assert!(seen.contains("RU node: own log 2241 entries, its checkpoint cosigned by 2 of 2 witnesses; mirror of US 2917 entries, 0 late, consistent"), "{seen}");
    let (wport, wpin) = links.pop().expect("witness link");
    let (s, body) = https(wport, &wpin, "GET", "/status", None, "");
    assert_eq!(s, 200, "{body}");
    assert!(
        body.contains("\"size\":2917") && body.contains("\"size\":2241"),
        "{body}"
    );
    for (port, pin) in &links {
        let (s, body) = https(*port, pin, "GET", "/status?date=2021-09-01", None, "");
        assert_eq!(s, 200);
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert!(v["tree_size"].as_u64().expect("size") > 1000, "{body}");
        assert!(v["checkpoint"].is_string(), "{body}");
        let (s, page) = https(*port, pin, "GET", "/", None, "");
        assert_eq!(s, 200);
        assert!(page.contains("accord node"));
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert!(child.wait().expect("wait").success());
}

/// `accord bench exchange`, small: everything mirrored, verified, receipted,
/// and the mirror's root equals the peer's.
#[test]
fn bench_exchange_checks_what_it_mirrored() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = accord(
        tmp.path(),
        &["bench", "exchange", "--notifications", "600", "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json(&o);
    assert_eq!(v["notifications"], 600);
    assert_eq!(v["roots_equal"], true);
    assert!(v["receipts"].as_u64().expect("receipts") >= 1);
    assert!(v["mirrored_per_second"].as_f64().expect("rate") > 0.0);
}
