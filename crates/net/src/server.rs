//! A bounded HTTP/1.1 server for an axum [`Router`], over TLS with pinned
//! client keys (or, on loopback only, plain HTTP when the caller insists).
//!
//! # What is bounded, and how
//!
//! Every connection is in one of these phases, and each phase has a
//! deadline after which the connection is closed (see [`Limits`] for the
//! defaults):
//!
//! | phase | ends when | deadline |
//! |---|---|---|
//! | handshake | the TLS handshake completes | `handshake_timeout` |
//! | fresh | the first request's head has been read | `header_timeout` from the handshake |
//! | head | the request's head has been read | `header_timeout` from its first byte |
//! | busy | the response has been written | `request_timeout` from the head |
//! | idle (keep-alive) | the next request's first byte | `idle_timeout` |
//!
//! A request body must arrive within `body_timeout` of the head, and be at
//! most `max_body_bytes`: a `Content-Length` above it is answered 413 before
//! a byte of the body is read, and a chunked body is cut at the limit, as
//! it streams (the handler never sees more). Heads over `max_header_bytes`
//! or `max_headers` are answered 431, URIs over `max_uri_bytes` 414, bodies
//! too slow 408, all with the JSON error body; any other error response the
//! router gives in plain text (404, 405, axum's rejections) is rewritten to
//! the JSON body too. Below all this, hyper's own read buffer
//! ([`Limits::hard_head_limit`]) is the backstop: a head larger than that
//! gets hyper's bare 431 and the connection is closed, so no head costs
//! more memory than that.
//!
//! # Connection caps: why an attacker cannot lock operators out
//!
//! At most `max_connections` connections are open, and at most
//! `max_connections_per_ip` from one address. When a new connection would
//! exceed either cap, the server **evicts** the connection, among those the
//! cap counts, that has gone longest without a request being handled
//! (a connection mid-handshake, waiting for or dripping a head, idle
//! between requests, or still receiving a body). A connection whose request
//! is being handled is never evicted; if every counted connection is, the
//! new one is refused. So slow and idle connections (slowloris) can never
//! hold the server: the newest connection, an operator's, always gets in
//! and its request, once read, runs to completion. The counts are kept
//! under one mutex held only for the bookkeeping, never across an await.
//!
//! # Panics
//!
//! Each request's handler runs as a task of its own: a panic in it is
//! answered `500` with the JSON body (`"internal error"`, the detail only
//! in the log) and nothing else stops. State the handler held a lock on is
//! the handler's business (the node must not hold locks across fallible
//! work).
//!
//! # What handlers see
//!
//! Each request carries in its extensions the [`Peer`] (the pin of the
//! client's certificate, or anonymous), the [`RemoteAddr`], and axum's
//! `ConnectInfo<SocketAddr>`.

use crate::errors::{json_error_close, jsonify_error};
use crate::pin::Pin;
use axum::body::Body;
use axum::Router;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Body as _, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin as StdPin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

/// The server's limits. The defaults suit a treaty node: a few peers and
/// witnesses, a few operators, public readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most (default 512; keep it well under the
    /// process's file limit).
    pub max_connections: usize,
    /// Open connections from one IP address at most (default 32).
    pub max_connections_per_ip: usize,
    /// The TLS handshake (default 10 s).
    pub handshake_timeout: Duration,
    /// Reading a request's head, from its first byte (the first request's
    /// from the handshake) (default 10 s).
    pub header_timeout: Duration,
    /// An idle keep-alive connection (default 60 s).
    pub idle_timeout: Duration,
    /// Receiving a request's body, from the end of its head (default 30 s;
    /// answered 408).
    pub body_timeout: Duration,
    /// A whole request, from the end of its head to the last byte of the
    /// response written (default 120 s; the connection is closed).
    pub request_timeout: Duration,
    /// Header bytes (names, values and separators) at most (default
    /// 16 KiB; answered 431).
    pub max_header_bytes: usize,
    /// Header fields at most (default 64; answered 431).
    pub max_headers: usize,
    /// Request-target bytes at most (default 8 KiB; answered 414).
    pub max_uri_bytes: usize,
    /// Request body bytes at most (default 1 MiB; answered 413).
    pub max_body_bytes: u64,
    /// How long in-flight requests may finish after shutdown (default 5 s).
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            max_connections_per_ip: 32,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(120),
            max_header_bytes: 16 << 10,
            max_headers: 64,
            max_uri_bytes: 8 << 10,
            max_body_bytes: 1 << 20,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

impl Limits {
    /// hyper's read buffer, the backstop for a head: four times the header
    /// and URI limits together, and at least hyper's minimum of 8 KiB.
    pub fn hard_head_limit(&self) -> usize {
        self.max_header_bytes
            .saturating_add(self.max_uri_bytes)
            .saturating_mul(4)
            .max(8192)
    }

    fn check(&self) -> Result<(), ServeError> {
        let zero = |field| Err(ServeError::Limit { field });
        if self.max_connections == 0 {
            return zero("max_connections");
        }
        if self.max_connections_per_ip == 0 {
            return zero("max_connections_per_ip");
        }
        for (field, d) in [
            ("handshake_timeout", self.handshake_timeout),
            ("header_timeout", self.header_timeout),
            ("idle_timeout", self.idle_timeout),
            ("body_timeout", self.body_timeout),
            ("request_timeout", self.request_timeout),
        ] {
            if d.is_zero() {
                return zero(field);
            }
        }
        if self.max_headers == 0 {
            return zero("max_headers");
        }
        Ok(())
    }
}

/// How the listener speaks.
#[derive(Clone)]
pub enum Transport {
    /// TLS with this configuration (see [`crate::tls::server_config`]).
    Tls(Arc<rustls::ServerConfig>),
    /// Plain HTTP: only on a loopback address, and logged as insecure.
    InsecurePlaintext,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Tls(_) => "Tls",
            Transport::InsecurePlaintext => "InsecurePlaintext",
        })
    }
}

/// Why the server would not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Plain HTTP was asked for on an address other hosts can reach.
    #[error("refusing plain HTTP on {addr}: insecure_plaintext is allowed only on a loopback address; configure TLS")]
    PlaintextNotLoopback {
        /// The listener's address.
        addr: SocketAddr,
    },
    /// The listener's address could not be read.
    #[error("cannot read the listener's address: {0}")]
    LocalAddr(std::io::Error),
    /// A limit is zero.
    #[error("limits: `{field}` must be greater than zero")]
    Limit {
        /// The limit.
        field: &'static str,
    },
}

/// Who is on the other end of a request's connection: the pin of the
/// client's certificate, which the TLS handshake verified (only pinned keys
/// get through it, and only with a valid handshake signature), or no one.
///
/// Only the server makes one, from a completed handshake, so a handler
/// that finds a pinned `Peer` in its request knows the pin was verified:
///
/// ```compile_fail
/// let forged = accord_net::Peer { pin: None };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pin: Option<Pin>,
}

impl Peer {
    const ANONYMOUS: Peer = Peer { pin: None };

    /// The verified pin of the client's key; `None` for a client without a
    /// certificate (or on plain HTTP).
    pub fn pin(&self) -> Option<Pin> {
        self.pin
    }

    /// Whether the client presented no certificate.
    pub fn is_anonymous(&self) -> bool {
        self.pin.is_none()
    }
}

/// The client's address, in each request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

/// Counters of a running server (for `/metrics`), all since it started.
#[derive(Debug, Default)]
pub struct Stats {
    open: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
    evicted: AtomicU64,
    handshake_failures: AtomicU64,
    timeouts: [AtomicU64; 5],
    requests: AtomicU64,
    rejected: AtomicU64,
    accept_errors: AtomicU64,
}

/// A copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Connections open now.
    pub open: u64,
    /// Connections accepted.
    pub accepted: u64,
    /// Connections refused at the caps (every counted connection busy).
    pub refused: u64,
    /// Connections closed to admit a newer one.
    pub evicted: u64,
    /// TLS handshakes that failed (an unpinned or invalid certificate, not
    /// TLS, no common parameters).
    pub handshake_failures: u64,
    /// Connections closed for a slow handshake.
    pub handshake_timeouts: u64,
    /// Connections closed for a slow request head (slowloris).
    pub header_timeouts: u64,
    /// Idle keep-alive connections closed.
    pub idle_timeouts: u64,
    /// Connections closed for a request over `request_timeout`.
    pub request_timeouts: u64,
    /// Requests answered 408 for a slow body.
    pub body_timeouts: u64,
    /// Requests read.
    pub requests: u64,
    /// Requests answered 413, 414 or 431 by the limits.
    pub rejected: u64,
    /// Errors from `accept` (e.g. out of file descriptors).
    pub accept_errors: u64,
}

#[derive(Clone, Copy)]
enum Timeout {
    Handshake = 0,
    Header = 1,
    Idle = 2,
    Request = 3,
    Body = 4,
}

impl Stats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            open: g(&self.open),
            accepted: g(&self.accepted),
            refused: g(&self.refused),
            evicted: g(&self.evicted),
            handshake_failures: g(&self.handshake_failures),
            handshake_timeouts: g(&self.timeouts[Timeout::Handshake as usize]),
            header_timeouts: g(&self.timeouts[Timeout::Header as usize]),
            idle_timeouts: g(&self.timeouts[Timeout::Idle as usize]),
            request_timeouts: g(&self.timeouts[Timeout::Request as usize]),
            body_timeouts: g(&self.timeouts[Timeout::Body as usize]),
            requests: g(&self.requests),
            rejected: g(&self.rejected),
            accept_errors: g(&self.accept_errors),
        }
    }

    fn inc(a: &AtomicU64) {
        a.fetch_add(1, Ordering::Relaxed);
    }

    fn timed_out(&self, t: Timeout) {
        Stats::inc(&self.timeouts[t as usize]);
    }
}

/// A mutex that a panic elsewhere cannot make unusable: the data behind it
/// is counters and phases, valid after any partial update.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `t + d`, or a year after `t` if that overflows (a limit of
/// `Duration::MAX` means "no limit", not a panic).
fn after(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(365 * 86_400)))
        .unwrap_or(t)
}

/// Where a connection is (see the module documentation).
#[derive(Debug)]
struct Phase {
    handshaking: bool,
    /// No request yet on this connection.
    fresh: bool,
    /// A head has begun arriving (and not yet been handed to the router).
    head_started: bool,
    /// Requests being handled (hyper handles one at a time; a count keeps
    /// this right whatever it does).
    busy: u32,
    /// The busy request's body has not been received in full.
    body_pending: bool,
    /// When the current phase began.
    since: Instant,
}

struct Conn {
    id: u64,
    ip: IpAddr,
    kill: Notify,
    phase: Mutex<Phase>,
}

impl Conn {
    /// When this connection last began to wait on its client, if it may be
    /// evicted (it is not handling a request whose body is in).
    fn evictable_since(&self) -> Option<Instant> {
        let p = lock(&self.phase);
        (p.busy == 0 || p.body_pending).then_some(p.since)
    }

    fn deadline(&self, l: &Limits) -> (Instant, Timeout) {
        let p = lock(&self.phase);
        let (limit, kind) = if p.handshaking {
            (l.handshake_timeout, Timeout::Handshake)
        } else if p.busy > 0 {
            (l.request_timeout, Timeout::Request)
        } else if p.fresh || p.head_started {
            (l.header_timeout, Timeout::Header)
        } else {
            (l.idle_timeout, Timeout::Idle)
        };
        (after(p.since, limit), kind)
    }

    fn handshake_done(&self) {
        let mut p = lock(&self.phase);
        p.handshaking = false;
        p.since = Instant::now();
    }

    fn read_bytes(&self) {
        let mut p = lock(&self.phase);
        if p.busy == 0 && !p.head_started && !p.handshaking {
            p.head_started = true;
            if !p.fresh {
                p.since = Instant::now();
            }
        }
    }

    fn begin_request(self: &Arc<Self>, has_body: bool) -> Busy {
        let mut p = lock(&self.phase);
        p.busy += 1;
        p.fresh = false;
        p.head_started = false;
        p.body_pending = has_body;
        p.since = Instant::now();
        Busy(self.clone())
    }

    fn body_done(&self) {
        lock(&self.phase).body_pending = false;
    }
}

/// Held while a request is handled (until its response body is dropped).
struct Busy(Arc<Conn>);

impl Drop for Busy {
    fn drop(&mut self) {
        let mut p = lock(&self.0.phase);
        p.busy = p.busy.saturating_sub(1);
        if p.busy == 0 {
            p.body_pending = false;
            p.since = Instant::now();
        }
    }
}

#[derive(Default)]
struct Registry {
    next: u64,
    conns: HashMap<u64, Arc<Conn>>,
    per_ip: HashMap<IpAddr, usize>,
}

impl Registry {
    fn remove(&mut self, id: u64) -> bool {
        let Some(c) = self.conns.remove(&id) else {
            return false;
        };
        if let Some(n) = self.per_ip.get_mut(&c.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_ip.remove(&c.ip);
            }
        }
        true
    }

    fn stalest<'a>(conns: impl Iterator<Item = &'a Arc<Conn>>) -> Option<u64> {
        conns
            .filter_map(|c| c.evictable_since().map(|s| (s, c.id)))
            .min()
            .map(|(_, id)| id)
    }
}

struct Shared {
    limits: Limits,
    stats: Arc<Stats>,
    registry: Mutex<Registry>,
    gone: Notify,
}

/// Removes a connection from the registry when its task ends.
struct Registration {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut r = lock(&self.shared.registry);
        if r.remove(self.id) {
            self.shared
                .stats
                .open
                .store(r.conns.len() as u64, Ordering::Relaxed);
        }
        drop(r);
        self.shared.gone.notify_waiters();
    }
}

impl Shared {
    /// Admits a connection from `ip`, evicting the stalest one the caps
    /// count if need be; `None` if every counted connection is busy.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<(Arc<Conn>, Registration)> {
        let l = &self.limits;
        let mut r = lock(&self.registry);
        let victim = if r.per_ip.get(&ip).copied().unwrap_or(0) >= l.max_connections_per_ip {
            Some(Registry::stalest(r.conns.values().filter(|c| c.ip == ip))?)
        } else if r.conns.len() >= l.max_connections {
            Some(Registry::stalest(r.conns.values())?)
        } else {
            None
        };
        if let Some(id) = victim {
            if let Some(c) = r.conns.get(&id) {
                c.kill.notify_one();
            }
            r.remove(id);
            Stats::inc(&self.stats.evicted);
        }
        r.next += 1;
        let id = r.next;
        let conn = Arc::new(Conn {
            id,
            ip,
            kill: Notify::new(),
            phase: Mutex::new(Phase {
                handshaking: true,
                fresh: true,
                head_started: false,
                busy: 0,
                body_pending: false,
                since: Instant::now(),
            }),
        });
        r.conns.insert(id, conn.clone());
        *r.per_ip.entry(ip).or_insert(0) += 1;
        self.stats
            .open
            .store(r.conns.len() as u64, Ordering::Relaxed);
        Stats::inc(&self.stats.accepted);
        drop(r);
        Some((
            conn,
            Registration {
                shared: self.clone(),
                id,
            },
        ))
    }

    fn kill_all(&self) {
        for c in lock(&self.registry).conns.values() {
            c.kill.notify_one();
        }
    }

    fn open(&self) -> usize {
        lock(&self.registry).conns.len()
    }
}

/// A configured server; [`Server::serve`] runs it.
#[derive(Debug)]
pub struct Server {
    limits: Limits,
    transport: Transport,
    stats: Arc<Stats>,
}

impl Server {
    /// A server with these limits and transport.
    pub fn new(limits: Limits, transport: Transport) -> Server {
        Server {
            limits,
            transport,
            stats: Arc::new(Stats::default()),
        }
    }

    /// Its counters (live while it runs).
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Serves `router` on `listener` until `shutdown` completes, then lets
    /// requests in flight finish for `shutdown_grace` and closes the rest.
    /// Refuses to start with plain HTTP on a non-loopback address.
    pub async fn serve(
        self,
        listener: TcpListener,
        router: Router,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServeError> {
        self.limits.check()?;
        let local = listener.local_addr().map_err(ServeError::LocalAddr)?;
        let tls = match &self.transport {
            Transport::Tls(cfg) => {
                tracing::info!(addr = %local, "accord-net: serving HTTPS (TLS 1.3, pinned client keys)");
                Some(tokio_rustls::TlsAcceptor::from(cfg.clone()))
            }
            Transport::InsecurePlaintext => {
                if !local.ip().is_loopback() {
                    return Err(ServeError::PlaintextNotLoopback { addr: local });
                }
                tracing::warn!(
                    addr = %local,
                    "INSECURE: serving plain HTTP (insecure_plaintext = true): tokens, peer \
                     requests and notifications cross this link unencrypted and unauthenticated; \
                     loopback only, never between parties"
                );
                None
            }
        };
        let shared = Arc::new(Shared {
            limits: self.limits,
            stats: self.stats,
            registry: Mutex::new(Registry::default()),
            gone: Notify::new(),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, remote)) => {
                        let Some((conn, reg)) = shared.admit(remote.ip()) else {
                            Stats::inc(&shared.stats.refused);
                            tracing::debug!(%remote, "connection refused: every connection counted by the caps is busy");
                            drop(tcp);
                            continue;
                        };
                        let ctx = ConnCtx {
                            shared: shared.clone(),
                            conn,
                            remote,
                            router: router.clone(),
                            stop: stop_rx.clone(),
                        };
                        tokio::spawn(run_connection(tcp, tls.clone(), ctx, reg));
                    }
                    Err(e) => {
                        // Out of file descriptors, or a connection reset
                        // before it was accepted: wait a little, carry on.
                        Stats::inc(&shared.stats.accept_errors);
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
        drop(listener);
        let _ = stop_tx.send(true);
        let grace = after(Instant::now(), shared.limits.shutdown_grace).into();
        while shared.open() > 0 {
            let gone = shared.gone.notified();
            tokio::select! {
                () = gone => {}
                () = tokio::time::sleep_until(grace) => break,
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
        shared.kill_all();
        Ok(())
    }
}

/// [`Server::serve`] in one call.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    transport: Transport,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    Server::new(limits, transport)
        .serve(listener, router, shutdown)
        .await
}

struct ConnCtx {
    shared: Arc<Shared>,
    conn: Arc<Conn>,
    remote: SocketAddr,
    router: Router,
    stop: watch::Receiver<bool>,
}

async fn run_connection(
    tcp: TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    ctx: ConnCtx,
    _registration: Registration,
) {
    let _ = tcp.set_nodelay(true);
    let Some(acceptor) = tls else {
        ctx.conn.handshake_done();
        serve_http(tcp, Peer::ANONYMOUS, ctx).await;
        return;
    };
    let limit = ctx.shared.limits.handshake_timeout;
    let handshake = tokio::select! {
        r = tokio::time::timeout(limit, acceptor.accept(tcp)) => r,
        () = ctx.conn.kill.notified() => return,
    };
    match handshake {
        Err(_) => ctx.shared.stats.timed_out(Timeout::Handshake),
        Ok(Err(e)) => {
            Stats::inc(&ctx.shared.stats.handshake_failures);
            tracing::debug!(remote = %ctx.remote, error = %e, "TLS handshake failed");
        }
        Ok(Ok(stream)) => {
            let peer = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|c| Pin::of_certificate(c).ok())
                .map_or(Peer::ANONYMOUS, |pin| Peer { pin: Some(pin) });
            ctx.conn.handshake_done();
            serve_http(stream, peer, ctx).await;
        }
    }
}

async fn serve_http<I>(io: I, peer: Peer, mut ctx: ConnCtx)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = &ctx.shared.limits;
    let io = TokioIo::new(Tracked {
        inner: io,
        conn: ctx.conn.clone(),
    });
    let service = ConnService {
        router: ctx.router.clone(),
        peer,
        remote: ctx.remote,
        conn: ctx.conn.clone(),
        shared: ctx.shared.clone(),
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // hyper's own clock starts when it waits for a head, idle included:
        // a backstop behind the phases above (at most a day: hyper adds it
        // to the clock unchecked).
        .header_read_timeout(
            limits
                .idle_timeout
                .saturating_add(limits.header_timeout)
                .min(Duration::from_secs(86_400)),
        )
        .max_buf_size(limits.hard_head_limit())
        .max_headers(limits.max_headers.saturating_mul(2))
        .keep_alive(true);
    let http = builder.serve_connection(io, service);
    tokio::pin!(http);
    let mut stopping = *ctx.stop.borrow();
    if stopping {
        http.as_mut().graceful_shutdown();
    }
    loop {
        let (deadline, kind) = ctx.conn.deadline(limits);
        tokio::select! {
            r = http.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(remote = %ctx.remote, error = %e, "connection ended with an error");
                }
                return;
            }
            () = ctx.conn.kill.notified() => return,
            _ = ctx.stop.changed(), if !stopping => {
                stopping = true;
                http.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(deadline.into()) => {
                let (now_deadline, now_kind) = ctx.conn.deadline(limits);
                if Instant::now() >= now_deadline {
                    let _ = kind;
                    ctx.shared.stats.timed_out(now_kind);
                    tracing::debug!(remote = %ctx.remote, "connection closed: timeout");
                    return;
                }
            }
        }
    }
}

/// The connection's I/O, noting when bytes of a new request arrive.
struct Tracked<I> {
    inner: I,
    conn: Arc<Conn>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Tracked<I> {
    fn poll_read(
        self: StdPin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = StdPin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.conn.read_bytes();
        }
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Tracked<I> {
    fn poll_write(
        self: StdPin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        StdPin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: StdPin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        StdPin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: StdPin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        StdPin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: StdPin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        StdPin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[derive(Clone)]
struct ConnService {
    router: Router,
    peer: Peer,
    remote: SocketAddr,
    conn: Arc<Conn>,
    shared: Arc<Shared>,
}

type BoxFuture<T> = StdPin<Box<dyn Future<Output = T> + Send>>;

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<Body>, Infallible>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(req).await) })
    }
}

/// Why a request was refused before the router saw it.
fn precheck(req: &Request<Incoming>, l: &Limits) -> Option<(StatusCode, String)> {
    let uri = req.uri();
    let uri_len = uri.path_and_query().map_or(0, |p| p.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len());
    if uri_len > l.max_uri_bytes {
        return Some((
            StatusCode::URI_TOO_LONG,
            format!(
                "the request target is {uri_len} bytes; at most {} are read",
                l.max_uri_bytes
            ),
        ));
    }
    let headers = req.headers();
    if headers.len() > l.max_headers {
        return Some((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "{} header fields; at most {} are read",
                headers.len(),
                l.max_headers
            ),
        ));
    }
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if bytes > l.max_header_bytes {
        return Some((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the headers are {bytes} bytes; at most {} are read",
                l.max_header_bytes
            ),
        ));
    }
    let declared = req.body().size_hint().lower();
    if declared > l.max_body_bytes {
        return Some((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is {declared} bytes (Content-Length); at most {} are read",
                l.max_body_bytes
            ),
        ));
    }
    None
}

impl ConnService {
    async fn handle(self, req: Request<Incoming>) -> Response<Body> {
        let shared = &self.shared;
        let limits = &shared.limits;
        let busy = self.conn.begin_request(!req.body().is_end_stream());
        Stats::inc(&shared.stats.requests);
        if let Some((status, message)) = precheck(&req, limits) {
            Stats::inc(&shared.stats.rejected);
            tracing::debug!(remote = %self.remote, %status, "request refused by the limits");
            return with_guard(json_error_close(status, &message), busy);
        }
        let flags = Arc::new(BodyFlags::default());
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(self.peer);
        parts.extensions.insert(RemoteAddr(self.remote));
        parts
            .extensions
            .insert(axum::extract::ConnectInfo(self.remote));
        let body = Body::new(Bounded {
            inner: body,
            seen: 0,
            limit: limits.max_body_bytes,
            deadline: Box::pin(tokio::time::sleep(limits.body_timeout)),
            flags: flags.clone(),
            conn: self.conn.clone(),
            done: false,
        });
        let req = Request::from_parts(parts, body);
        // The router runs as a task of its own, so that a panic in a handler
        // is caught (as the task's JoinError) and answered 500, and the
        // connection and the server go on.
        let resp = match tokio::spawn(tower::ServiceExt::oneshot(self.router, req)).await {
            Ok(Ok(r)) => r,
            Ok(Err(never)) => match never {},
            Err(e) => {
                tracing::error!(remote = %self.remote, error = %e, "a handler panicked; answered 500");
                return with_guard(
                    json_error_close(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
                    busy,
                );
            }
        };
        let resp = if flags.too_large.load(Ordering::Relaxed) {
            Stats::inc(&shared.stats.rejected);
            json_error_close(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the body is over {} bytes; reading stopped there",
                    limits.max_body_bytes
                ),
            )
        } else if flags.timed_out.load(Ordering::Relaxed) {
            shared.stats.timed_out(Timeout::Body);
            json_error_close(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the body did not arrive within {} s",
                    limits.body_timeout.as_secs_f64()
                ),
            )
        } else {
            jsonify_error(resp).await
        };
        with_guard(resp, busy)
    }
}

/// Keeps the connection busy until hyper has written (and dropped) the
/// response body.
fn with_guard(resp: Response<Body>, busy: Busy) -> Response<Body> {
    resp.map(|inner| Body::new(Guarded { inner, _busy: busy }))
}

/// A response body holding the connection's [`Busy`] mark; forwards the
/// size hint, so a `Content-Length` stays one.
struct Guarded {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: StdPin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        StdPin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[derive(Default)]
struct BodyFlags {
    too_large: AtomicBool,
    timed_out: AtomicBool,
}

/// Why a request body stopped (what a handler reading it sees; the server
/// then answers 413 or 408 itself).
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Over `max_body_bytes`.
    #[error("the request body is over {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Not complete within `body_timeout`.
    #[error("the request body did not arrive in time")]
    TimedOut,
    /// The connection failed.
    #[error("reading the request body: {0}")]
    Transport(#[from] hyper::Error),
}

/// The request body as handlers get it: cut at the size limit and the
/// deadline, as it streams.
struct Bounded {
    inner: Incoming,
    seen: u64,
    limit: u64,
    deadline: StdPin<Box<tokio::time::Sleep>>,
    flags: Arc<BodyFlags>,
    conn: Arc<Conn>,
    done: bool,
}

impl http_body::Body for Bounded {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: StdPin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.done = true;
            this.flags.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(BodyError::TimedOut)));
        }
        match StdPin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.done = true;
                this.conn.body_done();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                Poll::Ready(Some(Err(BodyError::Transport(e))))
            }
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    this.seen = this.seen.saturating_add(d.len() as u64);
                    if this.seen > this.limit {
                        this.done = true;
                        this.flags.too_large.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(BodyError::TooLarge { limit: this.limit })));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
