//! What the browser tests share: nodes on loopback, a plain HTTP client, a
//! W3C WebDriver session on Debian's chromedriver and Chromium, axe-core,
//! and screenshots under `target/workbench/`.
#![allow(dead_code, unreachable_pub)]

use accord_log::{LogStore, Signer, Verifier, Witness};
use accord_node::exchange::{Clock, ExchangeConfig, PeerConfig, WitnessConfig};
use accord_node::Node;
use accord_registry::{Meta, Store};
use accord_treaty::Treaty;
use base64::Engine as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "workbench-operator-token-0123456789";

/// Whether the browser tests can run here; panics when they must and cannot.
pub fn browser_present() -> bool {
    let ok = Command::new("chromedriver")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert_ne!(
            std::env::var("ACCORD_BROWSER_TESTS").as_deref(),
            Ok("required"),
            "chromedriver is required here (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: no chromedriver (apt-get install chromium chromium-driver)");
    }
    ok
}

/// One HTTP/1.1 request on loopback (a fresh connection, closed after).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body).expect("write body");
    // Read the head, then exactly the body its length says (some servers
    // keep the connection open whatever the request asked).
    let mut raw = vec![];
    let mut buf = [0u8; 65536];
    loop {
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if let Some(len) = len {
                while raw.len() < split + 4 + len {
                    let n = s.read(&mut buf).expect("read");
                    if n == 0 {
                        break;
                    }
                    raw.extend_from_slice(&buf[..n]);
                }
                break;
            }
            if head.contains("transfer-encoding: chunked") && raw.ends_with(b"0\r\n\r\n") {
                break;
            }
        }
        let n = s.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    parse_response(&raw)
}

/// Splits a whole HTTP/1.1 response (Content-Length or chunked).
pub fn parse_response(raw: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        let mut out = vec![];
        let mut rest = &body[..];
        loop {
            let p = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("chunk size");
            let n =
                usize::from_str_radix(String::from_utf8_lossy(&rest[..p]).trim(), 16).expect("hex");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[p + 2..p + 2 + n]);
            rest = &rest[p + 4 + n..];
        }
        body = out;
    }
    (status, headers, body)
}

/// GET a JSON answer with the operator token.
pub fn get_json(port: u16, path: &str) -> serde_json::Value {
    let auth = format!("Bearer {TOKEN}");
    let (s, _, b) = http(port, "GET", path, &[("Authorization", &auth)], b"");
    assert_eq!(s, 200, "{path}: {}", String::from_utf8_lossy(&b));
    serde_json::from_slice(&b).expect("json")
}

/// POST a JSON body with the operator token.
pub fn post(port: u16, path: &str, body: &str) -> (u16, String) {
    let auth = format!("Bearer {TOKEN}");
    let (s, _, b) = http(
        port,
        "POST",
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    );
    (s, String::from_utf8_lossy(&b).into_owned())
}

pub fn signer(party: &str) -> Signer {
    let seed = if party == "US" { 1 } else { 2 };
    Signer::from_seed(&format!("accord/new-start-2021/{party}"), [seed; 32]).expect("signer")
}

pub fn witness_signer(party: &str) -> Signer {
    let seed = if party == "US" { 101 } else { 102 };
    Signer::from_seed(&format!("accord/witness/{party}"), [seed; 32]).expect("witness")
}

/// A party node in `dir` that witnesses and mirrors its peer.
pub fn node(dir: &Path, party: &str, peer: Option<(&str, u16)>, clock: &Clock) -> Arc<Node> {
    let treaty = Treaty::load("new-start-2021").expect("treaty");
    let s = signer(party);
    let log_path = dir.join("log.sqlite");
    let log = if log_path.exists() {
        LogStore::open(&log_path).expect("log")
    } else {
        LogStore::init(&log_path, s.name(), &s.verifier()).expect("log")
    };
    let reg = dir.join("registry");
    let mut registry = if reg.join(accord_registry::store::STORE_FILE).exists() {
        Store::open(&reg).expect("registry")
    } else {
        Store::create(
            &reg,
            Meta {
                party: party.into(),
                treaty: treaty.id.clone(),
                synthetic: true,
                provenance: "workbench browser test".into(),
            },
        )
        .expect("registry")
    };
    accord_node::catch_up(&log, &mut registry, &treaty).expect("catch up");
    let w = Witness::open(&dir.join("witness.sqlite"), witness_signer(party)).expect("witness");
    let mut peers = vec![];
    if let Some((p, port)) = peer {
        let vkey: Verifier = signer(p).verifier();
        w.add_log(&format!("accord/new-start-2021/{p}"), &vkey)
            .expect("follow");
        peers.push(PeerConfig {
            party: p.into(),
            url: format!("http://127.0.0.1:{port}"),
            vkey,
            witness_vkey: Some(witness_signer(p).cosigner_verifier()),
            tls_pin: None,
        });
    }
    let witnesses: Vec<WitnessConfig> = vec![];
    Arc::new(
        Node::new(log, registry, treaty, s, Some(w), vec![TOKEN.into()])
            .with_clock(clock.clone())
            .with_exchange(ExchangeConfig {
                dir: dir.to_path_buf(),
                peers,
                witnesses,
                interval: Duration::from_millis(50),
            })
            .expect("exchange"),
    )
}

/// A running node and how to stop it.
pub struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub fn serve(
    rt: &tokio::runtime::Runtime,
    node: Arc<Node>,
    listener: std::net::TcpListener,
) -> Running {
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let done = rt.spawn(async move {
        listener.set_nonblocking(true)?;
        let l = tokio::net::TcpListener::from_std(listener)?;
        accord_node::serve_until(node, l, async {
            let _ = rx.await;
        })
        .await
    });
    Running {
        stop: Some(stop),
        done: Some(done),
    }
}

pub fn halt(rt: &tokio::runtime::Runtime, mut r: Running) {
    if let Some(s) = r.stop.take() {
        let _ = s.send(());
    }
    if let Some(d) = r.done.take() {
        rt.block_on(d).expect("join").expect("served");
    }
}

pub fn bind() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    (l, port)
}

/// Waits until `f` is true (at most `secs`).
pub fn until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(secs), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A WebDriver session on headless Chromium.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

impl Browser {
    pub fn start(width: u32, height: u32) -> Browser {
        let (driver, port) = {
            let mut tries = 0;
            loop {
                let p = bind().1;
                let child = Command::new("chromedriver")
                    .arg(format!("--port={p}"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("chromedriver");
                let t = Instant::now();
                let mut up = false;
                while t.elapsed() < Duration::from_secs(10) {
                    if TcpStream::connect(("127.0.0.1", p)).is_ok() {
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
                let _ = child.wait();
                tries += 1;
                assert!(tries < 3, "chromedriver did not start");
            }
        };
        let mut b = Browser {
            driver,
            port,
            session: String::new(),
        };
        let v = b.wd(
            "POST",
            "/session",
            serde_json::json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", format!("--window-size={width},{height}")]
                }
            }}}),
        );
        b.session = v["sessionId"].as_str().expect("session").to_string();
        b
    }

    fn wd(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let (status, _, text) = http(
            self.port,
            method,
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        let v: serde_json::Value = serde_json::from_slice(&text)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", String::from_utf8_lossy(&text)));
        assert_eq!(status, 200, "{method} {path}: {v}");
        v["value"].clone()
    }

    fn at(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub fn goto(&self, url: &str) {
        self.wd("POST", &self.at("/url"), serde_json::json!({ "url": url }));
    }

    pub fn back(&self) {
        self.wd("POST", &self.at("/back"), serde_json::json!({}));
    }

    pub fn resize(&self, width: u32, height: u32) {
        self.wd(
            "POST",
            &self.at("/window/rect"),
            serde_json::json!({"width": width, "height": height}),
        );
    }

    /// Runs a script (a function body) and returns what it returns.
    pub fn js(&self, script: &str) -> serde_json::Value {
        self.wd(
            "POST",
            &self.at("/execute/sync"),
            serde_json::json!({"script": script, "args": []}),
        )
    }

    /// Runs an async script: the body gets `done` as its last argument.
    pub fn js_async(&self, script: &str) -> serde_json::Value {
        self.wd(
            "POST",
            &self.at("/timeouts"),
            serde_json::json!({"script": 120000}),
        );
        self.wd(
            "POST",
            &self.at("/execute/async"),
            serde_json::json!({"script": script, "args": []}),
        )
    }

    /// Waits until the view is rendered and verified; returns its timings.
    pub fn ready(&self) -> serde_json::Value {
        let t = Instant::now();
        loop {
            let v = self.js("const a = window.__accord; return a && a.ready ? {view: a.view, timings: a.timings} : null;");
            if !v.is_null() {
                return v;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "the view never became ready: {}",
                self.js("return document.getElementById('view').innerText")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for `script` to return something other than null.
    pub fn wait(&self, script: &str) -> serde_json::Value {
        let t = Instant::now();
        loop {
            let v = self.js(script);
            if !v.is_null() {
                return v;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "never: {script}: {}",
                self.js("return document.getElementById('view').innerText")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clicks the element a CSS selector finds.
    pub fn click(&self, css: &str) {
        let e = self.wd(
            "POST",
            &self.at("/element"),
            serde_json::json!({"using": "css selector", "value": css}),
        );
        let id = e
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .expect("element")
            .to_string();
        self.wd(
            "POST",
            &self.at(&format!("/element/{id}/click")),
            serde_json::json!({}),
        );
    }

    /// Keeps a screenshot as `target/workbench/NAME.png`.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.wd("GET", &self.at("/screenshot"), serde_json::Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64"))
            .expect("png");
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/workbench");
        std::fs::create_dir_all(&dir).expect("dir");
        let out = dir.join(format!("{name}.png"));
        std::fs::write(&out, &bytes).expect("screenshot");
        out
    }

    /// Runs axe-core (WCAG 2.1 A and AA) on the page; returns the violations.
    pub fn axe(&self, source: &str) -> serde_json::Value {
        self.js(&format!("{source}\n;return 1;"));
        self.js_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
               .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))
               .catch(e => done([{id: 'axe-error', help: String(e)}]));",
        )
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = http(
                self.port,
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                b"",
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The source of axe-core, installed from npm at test time (`.ci/run` puts
/// it under `target/npm`; `ACCORD_AXE` may name another copy). Never served
/// by the node.
pub fn axe_source() -> Option<String> {
    let path = std::env::var("ACCORD_AXE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/npm/node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(_) => {
            assert_ne!(
                std::env::var("ACCORD_BROWSER_TESTS").as_deref(),
                Ok("required"),
                "axe-core is required here: npm install --prefix target/npm axe-core@4 (looked at {})",
                path.display()
            );
            eprintln!(
                "axe-core not found at {}: accessibility not checked",
                path.display()
            );
            None
        }
    }
}

/// One test with a browser at a time (two Chromiums on two cores would
/// spoil the timings).
pub static BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());
