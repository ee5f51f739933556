//! Shared fixtures of the attack tests: a node served on loopback (plain
//! HTTP or TLS) with chosen limits, clients, raw sockets, and a hostile
//! server that plays a malicious peer or witness.
#![allow(dead_code, unreachable_pub)]

use accord_log::{LogStore, Signer, Witness};
use accord_net::{Client, ClientLimits, Endpoint, Identity, Limits, Pin, Reply, Security};
use accord_node::exchange::{Clock, ExchangeConfig, PeerConfig, WitnessConfig};
use accord_node::net::Net;
use accord_node::Node;
use accord_registry::{Meta, Store};
use accord_treaty::Treaty;
use chrono::NaiveDate;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "operator-token-0123456789";
pub const READER: &str = "reader-token-0123456789";
/// The date the nodes live on (a simulated clock), and what they post.
pub const TODAY: &str = "2021-03-02";
pub const ON: &str = "2021-03-01";

pub fn date(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

pub fn signer(party: &str, seed: u8) -> Signer {
    Signer::from_seed(&format!("accord/new-start-2021/{party}"), [seed; 32]).expect("signer")
}

pub fn witness_signer(name: &str, seed: u8) -> Signer {
    Signer::from_seed(&format!("accord/witness/{name}"), [seed; 32]).expect("witness")
}

pub fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

pub fn facility(party: &str, number: u64, facility: &str, on: &str) -> String {
    format!(
        r#"{{"party":"{party}","number":{number},"date":"{on}","sent":"{on}","event":{{"kind":"facility_declared","facility":"{facility}","facility_kind":"icbm_base","name":"{facility}"}}}}"#
    )
}

pub fn silo(party: &str, number: u64, facility: &str, on: &str) -> String {
    let t = if party == "US" {
        "minuteman-iii-silo"
    } else {
        "icbm-silo-ru"
    };
    format!(
        r#"{{"party":"{party}","number":{number},"date":"{on}","sent":"{on}","event":{{"kind":"accountability_entry","item":"{party}-L{number:06}","item_kind":"icbm_launcher","item_type":"{t}","facility":"{facility}","status":"non_deployed"}}}}"#
    )
}

/// Short limits, so that the timeouts show within a test.
pub fn quick_limits() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(800),
        idle_timeout: Duration::from_secs(2),
        body_timeout: Duration::from_millis(800),
        handshake_timeout: Duration::from_secs(2),
        ..Limits::default()
    }
}

/// How to build a node.
pub struct Opts {
    pub party: &'static str,
    pub seed: u8,
    pub peers: Vec<PeerConfig>,
    pub witnesses: Vec<WitnessConfig>,
    /// Run a witness (following the peers' logs).
    pub witness: bool,
    pub interval: Duration,
    pub limits: Limits,
    /// TLS with this identity; plain HTTP on loopback otherwise.
    pub tls: Option<Identity>,
    /// Extra routes (fault injection).
    pub extra: axum::Router,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            party: "US",
            seed: 1,
            peers: vec![],
            witnesses: vec![],
            witness: false,
            interval: Duration::from_millis(200),
            limits: Limits::default(),
            tls: None,
            extra: axum::Router::new(),
        }
    }
}

/// A peer of the node at `url` (plain HTTP unless `pin`).
pub fn peer(party: &str, url: &str, seed: u8, pin: Option<Pin>) -> PeerConfig {
    PeerConfig {
        party: party.into(),
        url: url.into(),
        vkey: signer(party, seed).verifier(),
        witness_vkey: None,
        tls_pin: pin,
    }
}

/// A node being served on loopback, on a runtime of its own; dropping it
/// stops it.
pub struct Served {
    pub node: Arc<Node>,
    pub addr: SocketAddr,
    pub pin: Option<Pin>,
    pub clock: Clock,
    pub dir: tempfile::TempDir,
    rt: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Served {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A client for this node (anonymous; over TLS when it speaks TLS).
    pub fn client(&self) -> Http {
        match self.pin {
            Some(p) => Http::tls(self.addr, p, None),
            None => Http::plain(self.addr),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let (Some(rt), Some(done)) = (self.rt.take(), self.done.take()) {
            let _ = rt.block_on(done);
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// Builds the node of `o` in a fresh directory (its own log, registry and
/// optional witness) and serves it on 127.0.0.1.
pub fn start(o: Opts) -> Served {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Clock::fixed(date(TODAY));
    let node = build(dir.path(), &clock, &o).expect("node");
    let pin = o.tls.as_ref().map(Identity::pin);
    serve(node, pin, dir, clock, o.extra)
}

/// The node of `o` in `dir`, or why it would not start.
pub fn build(
    dir: &std::path::Path,
    clock: &Clock,
    o: &Opts,
) -> Result<Node, accord_node::StartError> {
    let treaty = Treaty::load("new-start-2021").expect("treaty");
    let s = signer(o.party, o.seed);
    let log =
        LogStore::open_or_init(&dir.join("log.sqlite"), s.name(), &s.verifier()).expect("log");
    let mut registry = Store::open_or_create(
        &dir.join("registry"),
        Meta {
            party: o.party.into(),
            treaty: treaty.id.clone(),
            synthetic: true,
            provenance: "attack test".into(),
        },
    )
    .expect("registry");
    accord_node::catch_up(&log, &mut registry, &treaty).expect("catch up");
    let witness = o.witness.then(|| {
        let w = Witness::open(&dir.join("witness.sqlite"), witness_signer(o.party, o.seed))
            .expect("witness");
        for p in &o.peers {
            w.add_log(&format!("accord/new-start-2021/{}", p.party), &p.vkey)
                .expect("follow");
        }
        w
    });
    let net = match &o.tls {
        Some(id) => Net::tls(id.clone()),
        None => Net::insecure_plaintext(),
    }
    .with_limits(o.limits.clone());
    Node::new(log, registry, treaty, s, witness, vec![TOKEN.into()])
        .with_readers(vec![READER.into()])
        .with_clock(clock.clone())
        .with_net(net)
        .with_exchange(ExchangeConfig {
            dir: dir.to_path_buf(),
            peers: o.peers.clone(),
            witnesses: o.witnesses.clone(),
            interval: o.interval,
        })
}

fn serve(
    node: Node,
    pin: Option<Pin>,
    dir: tempfile::TempDir,
    clock: Clock,
    extra: axum::Router,
) -> Served {
    let node = Arc::new(node);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let n = node.clone();
    let done = rt.spawn(async move {
        listener.set_nonblocking(true)?;
        let l = tokio::net::TcpListener::from_std(listener)?;
        accord_node::serve_with_until(n, l, extra, async {
            let _ = rx.await;
        })
        .await
    });
    let served = Served {
        node,
        addr,
        pin,
        clock,
        dir,
        rt: Some(rt),
        stop: Some(stop),
        done: Some(done),
    };
    until("the node answers", || {
        served
            .client()
            .try_get("/checkpoint", None)
            .is_ok_and(|r| r.status == 200)
    });
    served
}

/// Waits until `f` holds (at most 30 s).
pub fn until(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(30), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A client of one node.
pub struct Http {
    ep: Endpoint,
}

impl Http {
    pub fn plain(addr: SocketAddr) -> Http {
        let c = Client::new(ClientLimits::default(), None).expect("client");
        Http {
            ep: c
                .endpoint(&format!("http://{addr}"), Security::InsecurePlaintext)
                .expect("endpoint"),
        }
    }

    pub fn tls(addr: SocketAddr, pin: Pin, identity: Option<Identity>) -> Http {
        let c = Client::new(ClientLimits::default(), identity).expect("client");
        Http {
            ep: c
                .endpoint(&format!("https://{addr}"), Security::Pinned(pin.into()))
                .expect("endpoint"),
        }
    }

    /// The `Host` the client sends.
    pub fn authority(&self) -> String {
        self.ep.authority().to_string()
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Reply, accord_net::ClientError> {
        let m = accord_net::client::Method::from_bytes(method.as_bytes()).expect("method");
        self.ep
            .request(m, path, headers, body.as_bytes().to_vec().into())
    }

    pub fn try_get(
        &self,
        path: &str,
        auth: Option<&str>,
    ) -> Result<Reply, accord_net::ClientError> {
        let h: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        self.request("GET", path, &h, "")
    }

    pub fn get(&self, path: &str, auth: Option<&str>) -> Reply {
        self.try_get(path, auth).expect("GET")
    }

    pub fn post(&self, path: &str, auth: Option<&str>, body: &str) -> Reply {
        let mut h: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
        if let Some(a) = auth {
            h.push(("Authorization", a));
        }
        self.request("POST", path, &h, body).expect("POST")
    }

    /// Posts notifications as the operator.
    pub fn notify(&self, body: &str) -> Reply {
        self.post("/notifications", Some(&bearer()), body)
    }

    pub fn json(&self, path: &str, auth: Option<&str>) -> serde_json::Value {
        let r = self.get(path, auth);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        serde_json::from_slice(&r.body).expect("json")
    }
}

/// Asserts that `r` is the documented JSON error body at `status`, and
/// returns it.
pub fn json_error(r: &Reply, status: u16) -> serde_json::Value {
    assert_eq!(r.status, status, "{}", r.text());
    json_error_text(
        &r.text(),
        status,
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
    )
}

/// Asserts that `body` is the documented JSON error body at `status`.
pub fn json_error_text(body: &str, status: u16, content_type: Option<&str>) -> serde_json::Value {
    if let Some(ct) = content_type {
        assert!(ct.starts_with("application/json"), "{status}: {ct}: {body}");
    }
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{status} not JSON ({e}): {body}"));
    assert_eq!(v["error"]["status"], status, "{body}");
    assert!(v["error"]["message"].is_string(), "{body}");
    v
}

/// The node serves an operator and the public (checkpoint, status,
/// exchange, a write, a read of entries, history of every party).
pub fn serves_every_route(s: &Served, next_number: u64) {
    let c = s.client();
    for path in ["/checkpoint", "/exchange", "/metrics", "/openapi.json", "/"] {
        let r = c.get(path, None);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    }
    c.json(&format!("/status?date={ON}"), None);
    c.json(&format!("/history?to={ON}"), None);
    for p in &s.node_peers() {
        c.json(&format!("/history?to={ON}&party={p}"), None);
    }
    let r = c.notify(&facility(
        "US",
        next_number,
        &format!("US-F{next_number}"),
        ON,
    ));
    assert_eq!(r.status, 201, "{}", r.text());
    let r = c.get("/notifications?limit=5", Some(&bearer()));
    assert_eq!(r.status, 200, "{}", r.text());
}

impl Served {
    /// The peers' parties, from `/exchange`.
    pub fn node_peers(&self) -> Vec<String> {
        let v = self.client().json("/exchange", None);
        v["peers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["party"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The node's log, opened on a second connection.
    pub fn log(&self) -> LogStore {
        LogStore::open(&self.dir.path().join("log.sqlite")).expect("log")
    }
}

/// Sends `bytes` on a fresh connection and reads the answer: its status and
/// body (up to `Content-Length`, or the close), within `timeout`.
pub fn raw(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(timeout)).expect("timeout");
    let _ = s.write_all(bytes);
    read_response(&mut s)
}

/// Reads one response from `s` (status 0 if none came).
pub fn read_response(s: &mut TcpStream) -> (u16, String) {
    let mut buf = vec![];
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(usize::MAX);
            if buf.len() - end - 4 >= len {
                break;
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 1 << 20 {
            break;
        }
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A TCP connection from `from` (a loopback address) to `to`.
pub fn connect_from(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let sock = socket2_connect(from, to)?;
    Ok(sock)
}

fn socket2_connect(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    // std has no bind-before-connect; tokio's TcpSocket does.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let from: SocketAddr = format!("{from}:0").parse().map_err(std::io::Error::other)?;
    let s = rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4()?;
        sock.bind(from)?;
        sock.connect(to).await
    })?;
    let std = s.into_std()?;
    std.set_nonblocking(false)?;
    Ok(std)
}

/// The process's resident memory now and at its peak, in MiB.
pub fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

/// What a hostile server does with a request.
#[derive(Clone)]
pub enum Act {
    /// An ordinary answer.
    Reply {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// A header line that never ends (up to `HOSTILE_CAP` bytes).
    EndlessHeader,
    /// A body without a length that never ends (up to `HOSTILE_CAP` bytes).
    EndlessBody,
}

/// The most a hostile server sends on one connection.
pub const HOSTILE_CAP: u64 = 400 << 20;

impl Act {
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Act {
        Act::Reply {
            status: 200,
            content_type,
            body: body.into(),
        }
    }

    pub fn status(status: u16) -> Act {
        Act::Reply {
            status,
            content_type: "application/json",
            body: format!(r#"{{"error":{{"status":{status},"message":"hostile"}}}}"#).into_bytes(),
        }
    }
}

type Handler = dyn Fn(&str, &str, &[u8]) -> Act + Send + Sync;

/// A malicious peer or witness: a raw HTTP/1.1 server on 127.0.0.1 that
/// does what its handler says, one request per connection, and counts
/// what it was asked and what it sent.
pub struct Hostile {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<(Instant, String)>>>,
    pub sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Hostile {
    pub fn start(handler: impl Fn(&str, &str, &[u8]) -> Act + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits = Arc::new(Mutex::new(vec![]));
        let sent = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (h, se, st) = (hits.clone(), sent.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (h, se, st, handler) = (h.clone(), se.clone(), st.clone(), handler.clone());
                std::thread::spawn(move || serve_hostile(conn, &*handler, &h, &se, &st));
            }
        });
        Hostile {
            addr,
            hits,
            sent,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// When each request for a path starting with `prefix` came.
    pub fn hits(&self, prefix: &str) -> Vec<Instant> {
        self.hits
            .lock()
            .expect("hits")
            .iter()
            .filter(|(_, p)| p.starts_with(prefix))
            .map(|(t, _)| *t)
            .collect()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_hostile(
    mut conn: TcpStream,
    handler: &Handler,
    hits: &Mutex<Vec<(Instant, String)>>,
    sent: &AtomicU64,
    stop: &AtomicBool,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = conn.set_write_timeout(Some(Duration::from_secs(5)));
    let mut buf = vec![];
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(e) = find(&buf, b"\r\n\r\n") {
            break e;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 64 << 10 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let mut words = head.split(' ');
    let method = words.next().unwrap_or_default().to_string();
    let path = words.next().unwrap_or_default().to_string();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0)
        .min(2 << 20);
    let mut body = buf[end + 4..].to_vec();
    while body.len() < len {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    if let Ok(mut h) = hits.lock() {
        h.push((Instant::now(), path.clone()));
    }
    let flood = |conn: &mut TcpStream, prefix: &[u8]| {
        if conn.write_all(prefix).is_err() {
            return;
        }
        let block = vec![b'a'; 64 << 10];
        let mut total = 0u64;
        while total < HOSTILE_CAP && !stop.load(Ordering::SeqCst) {
            if conn.write_all(&block).is_err() {
                return;
            }
            total += block.len() as u64;
            sent.fetch_add(block.len() as u64, Ordering::Relaxed);
        }
    };
    match handler(&method, &path, &body) {
        Act::Reply {
            status,
            content_type,
            body,
        } => {
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
        }
        Act::EndlessHeader => flood(&mut conn, b"HTTP/1.1 200 OK\r\nX-Endless: "),
        Act::EndlessBody => flood(
            &mut conn,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        ),
    }
}
