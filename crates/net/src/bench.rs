//! The transport's benchmark, measured against itself in the same run:
//!
//! 1. **Throughput**: small POSTs (200 bytes) from one kept-alive client,
//!    over mutual TLS (the client presents a pinned certificate) and over
//!    plain HTTP, in alternating rounds so that drift in the machine's
//!    speed falls on both; the ratio mTLS / plaintext (target ≥ 0.8).
//! 2. **Latency under slowloris**: the p99 of a pinned peer's kept-alive
//!    GETs with the server idle, then with `slowloris` connections open
//!    (each has completed a TLS handshake as an anonymous client and drips
//!    one byte of a header line a second, from ten loopback addresses so
//!    the per-address cap does not simply refuse them), optionally with
//!    `public_read_loops` anonymous clients reading as fast as they can;
//!    the ratio loaded / idle (target ≤ 2).
//!
//! Everything runs on loopback on this machine, bounded in count and time.
//! [`run`] is what `accord bench` can call; the example `net_bench` prints
//! it.

use crate::client::{Client, ClientError, ClientLimits, Endpoint, Security};
use crate::identity::{Identity, IdentityError, IdentityOptions};
use crate::pin::PinSet;
use crate::server::{Limits, ServeError, Server, Stats, Transport};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    /// POSTs per transport for the throughput (default 4,000).
    pub requests: usize,
    /// Alternating rounds they are split into (default 8).
    pub rounds: usize,
    /// The POST body's size (default 200 bytes, a small notification).
    pub body_bytes: usize,
    /// GETs timed for each latency measurement (default 5,000).
    pub latency_samples: usize,
    /// Slowloris connections held open (default 200).
    pub slowloris: usize,
    /// Anonymous clients reading in a loop during the loaded measurement
    /// (default 0: the transport alone; the node's own benchmark adds its
    /// public reads).
    pub public_read_loops: usize,
}

impl Default for BenchOptions {
    fn default() -> BenchOptions {
        BenchOptions {
            requests: 4000,
            rounds: 8,
            body_bytes: 200,
            latency_samples: 5000,
            slowloris: 200,
            public_read_loops: 0,
        }
    }
}

/// What was measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// The options run.
    pub options: BenchOptions,
    /// Plain HTTP POSTs per second.
    pub plaintext_rps: f64,
    /// Mutual-TLS POSTs per second.
    pub mtls_rps: f64,
    /// p50 of a peer's GET, idle server (ms).
    pub idle_p50_ms: f64,
    /// p99 of a peer's GET, idle server (ms).
    pub idle_p99_ms: f64,
    /// p50 with the slowloris connections open (ms).
    pub loaded_p50_ms: f64,
    /// p99 with the slowloris connections open (ms).
    pub loaded_p99_ms: f64,
    /// Slowloris connections the server held when the loaded measurement
    /// ended (should be `slowloris`: they were not simply refused).
    pub slowloris_held: u64,
}

impl BenchReport {
    /// mTLS / plaintext throughput (target ≥ 0.8).
    pub fn throughput_ratio(&self) -> f64 {
        self.mtls_rps / self.plaintext_rps
    }

    /// Loaded / idle p99 (target ≤ 2).
    pub fn p99_ratio(&self) -> f64 {
        self.loaded_p99_ms / self.idle_p99_ms
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        writeln!(
            f,
            "accord-net transport benchmark (loopback; one kept-alive client; {} POSTs of {} bytes per transport in {} alternating rounds)",
            o.requests, o.body_bytes, o.rounds
        )?;
        writeln!(
            f,
            "  plaintext HTTP/1.1    {:>9.0} req/s",
            self.plaintext_rps
        )?;
        writeln!(
            f,
            "  mutual TLS 1.3        {:>9.0} req/s   {:.2}x plaintext (target >= 0.8x)",
            self.mtls_rps,
            self.throughput_ratio()
        )?;
        writeln!(
            f,
            "  peer GET over mTLS, {} samples each:",
            o.latency_samples
        )?;
        writeln!(
            f,
            "    idle                              p50 {:>6.3} ms   p99 {:>6.3} ms",
            self.idle_p50_ms, self.idle_p99_ms
        )?;
        writeln!(
            f,
            "    {:>3} slowloris open{:<14}  p50 {:>6.3} ms   p99 {:>6.3} ms   p99 {:.2}x idle (target <= 2x)",
            o.slowloris,
            if o.public_read_loops > 0 {
                format!(", {} read loops", o.public_read_loops)
            } else {
                String::new()
            },
            self.loaded_p50_ms,
            self.loaded_p99_ms,
            self.p99_ratio()
        )?;
        write!(
            f,
            "    slowloris connections held by the server at the end: {}",
            self.slowloris_held
        )
    }
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Making identities failed.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Building TLS configurations failed.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsConfigError),
    /// The server would not start.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// A request failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Sockets or the runtime failed.
    #[error("benchmark I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A reply was not what the server sends.
    #[error("unexpected reply {status} to {what}")]
    Reply {
        /// What was asked.
        what: &'static str,
        /// The status.
        status: u16,
    },
}

fn router() -> Router {
    Router::new().route("/hello", get(|| async { "hi" })).route(
        "/notifications",
        post(|b: Bytes| async move { format!("{{\"bytes\":{}}}", b.len()) }),
    )
}

struct Bench {
    _rt: tokio::runtime::Runtime,
    plain: SocketAddr,
    tls: SocketAddr,
    tls_stats: Arc<Stats>,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl Bench {
    fn start(server_id: &Identity, peer: &Identity) -> Result<Bench, BenchError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let cfg = crate::tls::server_config(server_id, PinSet::from(peer.pin()))?;
        let mut stops = vec![];
        let mut start = |transport| -> Result<(SocketAddr, Arc<Stats>), BenchError> {
            let l = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
            let addr = l.local_addr()?;
            let server = Server::new(Limits::default(), transport);
            let stats = server.stats();
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            rt.spawn(server.serve(l, router(), async {
                let _ = rx.await;
            }));
            stops.push(tx);
            Ok((addr, stats))
        };
        let (plain, _) = start(Transport::InsecurePlaintext)?;
        let (tls, tls_stats) = start(Transport::Tls(cfg))?;
        Ok(Bench {
            _rt: rt,
            plain,
            tls,
            tls_stats,
            stops,
        })
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        for s in self.stops.drain(..) {
            let _ = s.send(());
        }
    }
}

fn posts(ep: &Endpoint, n: usize, body: &Bytes) -> Result<Duration, BenchError> {
    let t = Instant::now();
    for _ in 0..n {
        let r = ep.post("/notifications", &[], body.clone())?;
        if r.status != 200 {
            return Err(BenchError::Reply {
                what: "POST /notifications",
                status: r.status,
            });
        }
    }
    Ok(t.elapsed())
}

fn latencies(ep: &Endpoint, n: usize) -> Result<(f64, f64), BenchError> {
    let n = n.max(1);
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = ep.get("/hello", &[])?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        if r.status != 200 {
            return Err(BenchError::Reply {
                what: "GET /hello",
                status: r.status,
            });
        }
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    Ok((at(0.50), at(0.99)))
}

/// Opens `n` slowloris connections to `addr` over TLS from 127.0.0.2–11,
/// each dripping a byte a second (their drips spread evenly over the
/// second, as independent attackers' would be) until `stop` says so.
pub fn slowloris(
    addr: SocketAddr,
    server_pin: PinSet,
    n: usize,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<std::thread::JoinHandle<()>, BenchError> {
    let cfg = crate::tls::client_config(server_pin, None)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(std::thread::spawn(move || {
        rt.block_on(async move {
            use tokio::io::AsyncWriteExt;
            let connector = tokio_rustls::TlsConnector::from(cfg);
            let mut tasks = vec![];
            for i in 0..n {
                let connector = connector.clone();
                let mut stop = stop.clone();
                let offset = Duration::from_secs(1).mul_f64(i as f64 / n.max(1) as f64);
                tasks.push(tokio::spawn(async move {
                    let from: SocketAddr = match format!("127.0.0.{}:0", 2 + i % 10).parse() {
                        Ok(a) => a,
                        Err(_) => return,
                    };
                    let Ok(sock) = tokio::net::TcpSocket::new_v4() else {
                        return;
                    };
                    if sock.bind(from).is_err() {
                        return;
                    }
                    let Ok(tcp) = sock.connect(addr).await else {
                        return;
                    };
                    let Ok(name) = rustls::pki_types::ServerName::try_from("localhost") else {
                        return;
                    };
                    let Ok(mut tls) = connector.connect(name, tcp).await else {
                        return;
                    };
                    if tls
                        .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                        .await
                        .is_err()
                    {
                        return;
                    }
                    let mut tick = tokio::time::interval_at(
                        tokio::time::Instant::now() + offset,
                        Duration::from_secs(1),
                    );
                    loop {
                        tokio::select! {
                            _ = stop.changed() => return,
                            _ = tick.tick() => {
                                if tls.write_all(b"a").await.is_err() || tls.flush().await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        });
    }))
}

/// Runs the benchmark (a few seconds with the defaults).
pub fn run(options: &BenchOptions) -> Result<BenchReport, BenchError> {
    let server_id = Identity::generate(&IdentityOptions::default())?;
    let peer = Identity::generate(&IdentityOptions::default())?;
    let bench = Bench::start(&server_id, &peer)?;
    let server_pin = PinSet::from(server_id.pin());
    let peer_client = Client::new(ClientLimits::default(), Some(peer))?;
    let plain = Client::new(ClientLimits::default(), None)?.endpoint(
        &format!("http://{}", bench.plain),
        Security::InsecurePlaintext,
    )?;
    let mtls = peer_client.endpoint(
        &format!("https://{}", bench.tls),
        Security::Pinned(server_pin.clone()),
    )?;
    let body = Bytes::from(vec![b'n'; options.body_bytes]);
    // Warm up both (connections, handshakes, caches).
    posts(&plain, 200, &body)?;
    posts(&mtls, 200, &body)?;
    let rounds = options.rounds.max(1);
    let per = (options.requests / rounds).max(1);
    let (mut t_plain, mut t_tls) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..rounds {
        t_plain += posts(&plain, per, &body)?;
        t_tls += posts(&mtls, per, &body)?;
    }
    let total = (per * rounds) as f64;
    let plaintext_rps = total / t_plain.as_secs_f64();
    let mtls_rps = total / t_tls.as_secs_f64();

    let (idle_p50_ms, idle_p99_ms) = latencies(&mtls, options.latency_samples)?;

    let stop = Arc::new(AtomicBool::new(false));
    let (stop_attack, attack_stopped) = tokio::sync::watch::channel(false);
    let attack = slowloris(
        bench.tls,
        server_pin.clone(),
        options.slowloris,
        attack_stopped,
    )?;
    let mut readers = vec![];
    for _ in 0..options.public_read_loops {
        let ep = Client::new(ClientLimits::default(), None)?.endpoint(
            &format!("https://{}", bench.tls),
            Security::Pinned(server_pin.clone()),
        )?;
        let stop = stop.clone();
        readers.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = ep.get("/hello", &[]);
            }
        }));
    }
    // Wait (at most 5 s) until the server holds them all.
    let want = options.slowloris as u64 + 1;
    let t = Instant::now();
    while bench.tls_stats.snapshot().open < want && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let loaded = latencies(&mtls, options.latency_samples);
    let slowloris_held = bench
        .tls_stats
        .snapshot()
        .open
        .saturating_sub(1 + options.public_read_loops as u64);
    stop.store(true, Ordering::Relaxed);
    let _ = stop_attack.send(true);
    let _ = attack.join();
    for r in readers {
        let _ = r.join();
    }
    let (loaded_p50_ms, loaded_p99_ms) = loaded?;
    Ok(BenchReport {
        options: options.clone(),
        plaintext_rps,
        mtls_rps,
        idle_p50_ms,
        idle_p99_ms,
        loaded_p50_ms,
        loaded_p99_ms,
        slowloris_held,
    })
}
