//! Shared fixtures: identities, a test router, a server on a runtime of its
//! own, raw sockets from chosen loopback addresses.
#![allow(dead_code, unreachable_pub)]

use accord_net::{
    AuthLayer, Identity, IdentityOptions, Limits, Peer, PinSet, Server, Stats, Transport,
};
use axum::body::Bytes;
use axum::routing::{get, post};
use axum::Router;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn identity() -> Identity {
    Identity::generate(&IdentityOptions::default()).expect("identity")
}

/// Counts how often an operator handler ran (and so read its body).
pub static OPERATOR_BODIES_READ: AtomicUsize = AtomicUsize::new(0);

pub fn router() -> Router {
    let operator = Router::new()
        .route(
            "/op",
            post(|b: Bytes| async move {
                OPERATOR_BODIES_READ.fetch_add(1, Ordering::SeqCst);
                format!("{}", b.len())
            }),
        )
        .route_layer(AuthLayer::new(
            |parts: &mut http::request::Parts| match parts.headers.get(http::header::AUTHORIZATION)
            {
                Some(v) if v == "Bearer operator" => Ok(()),
                _ => Err((
                    http::StatusCode::UNAUTHORIZED,
                    "an operator bearer token is required",
                )),
            },
        ));
    Router::new()
        .route("/hello", get(|| async { "hi" }))
        .route(
            "/peer",
            get(|axum::Extension(p): axum::Extension<Peer>| async move {
                p.pin()
                    .map_or_else(|| "anonymous".to_string(), |pin| pin.to_string())
            }),
        )
        .route("/echo", post(|b: Bytes| async move { b }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(600)).await;
                "done"
            }),
        )
        .route(
            "/panic",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("injected panic");
                }
                "unreachable"
            }),
        )
        .merge(operator)
        .layer(accord_net::RequestLogLayer)
}

/// A running server; dropping it shuts it down.
pub struct Running {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    pub rt: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<Result<(), accord_net::ServeError>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            let _ = self.rt.block_on(d);
        }
    }
}

pub fn start(limits: Limits, transport: Transport) -> Running {
    start_router(router(), limits, transport)
}

pub fn start_router(router: Router, limits: Limits, transport: Transport) -> Running {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = Server::new(limits, transport);
    let stats = server.stats();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let done = rt.spawn(server.serve(listener, router, async {
        let _ = rx.await;
    }));
    Running {
        addr,
        stats,
        rt,
        stop: Some(tx),
        done: Some(done),
    }
}

/// A TLS server with `server`'s identity admitting `client_pins`.
pub fn start_tls(limits: Limits, server: &Identity, client_pins: PinSet) -> Running {
    let cfg = accord_net::tls::server_config(server, client_pins).expect("tls");
    start(limits, Transport::Tls(cfg))
}

/// A blocking TCP connection from the loopback address `from`
/// (127.0.0.2, …: Linux routes all of 127/8 to lo).
pub fn connect_from(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let sock = socket_from(from)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let s = rt.block_on(sock.connect(to))?;
    let s = s.into_std()?;
    s.set_nonblocking(false)?;
    Ok(s)
}

fn socket_from(from: &str) -> std::io::Result<tokio::net::TcpSocket> {
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.bind(format!("{from}:0").parse().map_err(std::io::Error::other)?)?;
    Ok(sock)
}

/// Whether the server closed `s` within `within` (reads until EOF or an
/// error; bytes the server sends first are returned).
pub fn closed_within(s: &mut TcpStream, within: Duration) -> Option<(Duration, Vec<u8>)> {
    let start = Instant::now();
    let mut got = vec![];
    let mut buf = [0u8; 4096];
    loop {
        let left = within.checked_sub(start.elapsed())?;
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        match s.read(&mut buf) {
            Ok(0) => return Some((start.elapsed(), got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return None
            }
            Err(_) => return Some((start.elapsed(), got)),
        }
    }
}

/// Sends raw bytes and reads one response head and its Content-Length body.
pub fn raw_exchange(to: SocketAddr, bytes: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(to).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(bytes).expect("write");
    read_response(&mut s)
}

pub fn read_response(s: &mut TcpStream) -> (u16, String, String) {
    let mut data = vec![];
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(end) = find(&data, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while data.len() < end + 4 + len {
                let n = s.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
            }
            let body = String::from_utf8_lossy(&data[end + 4..]).to_string();
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            return (status, head, body);
        }
    }
    (0, String::from_utf8_lossy(&data).to_string(), String::new())
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// The JSON error body's status and message.
pub fn json_error(body: &str) -> (u64, String) {
    let v: serde_json::Value = serde_json::from_str(body).expect("a JSON error body");
    (
        v["error"]["status"].as_u64().expect("status"),
        v["error"]["message"].as_str().expect("message").to_string(),
    )
}

/// Waits up to 2 s for `cond` (counters are bumped just after the socket
/// closes, so a test may see the close first).
pub fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}
