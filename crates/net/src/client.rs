//! A bounded, blocking HTTP/1.1 client over rustls, for the exchange and
//! push loops (threads), `accord notify` and `accord status`.
//!
//! It is hyper's client connection (the same HTTP implementation the
//! server and axum use) over `tokio-rustls`, driven by a one-thread tokio
//! runtime the [`Client`] owns; the blocking calls hand the request to that
//! runtime and wait on a standard channel, so they work from any thread,
//! even one inside another runtime (where `block_on` would panic).
//!
//! Every cost a server can impose is bounded ([`ClientLimits`]):
//!
//! - connecting (DNS, TCP and the TLS handshake together): `connect_timeout`;
//! - the response head: at most `max_header_bytes` (hyper's read buffer: an
//!   endless header line fails when the buffer is full, it never grows
//!   further) and `read_timeout` to arrive;
//! - the body: at most `max_body_bytes` (a larger `Content-Length` fails
//!   before a byte of it is read; a chunked body is cut as it streams) and
//!   `read_timeout` between two pieces of it;
//! - the whole request: `request_timeout`, so a server dripping a byte a
//!   second cannot hold a loop for ever.
//!
//! TLS is TLS 1.3 with the server's key pinned ([`Security::Pinned`]) and,
//! for a peer or witness, this node's certificate presented. Plain HTTP is
//! only for `http://` URLs on loopback with [`Security::InsecurePlaintext`].
//! Connections are kept alive and reused per [`Endpoint`].

use crate::identity::Identity;
use crate::pin::PinSet;
use crate::verify::CertRefused;
use bytes::Bytes;
pub use http::Method;
use http::{HeaderMap, HeaderName, HeaderValue, Request};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The client's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLimits {
    /// DNS, TCP connect and TLS handshake (default 10 s).
    pub connect_timeout: Duration,
    /// Waiting for the response head, and between pieces of the body
    /// (default 30 s).
    pub read_timeout: Duration,
    /// The whole request (default 60 s).
    pub request_timeout: Duration,
    /// The response head at most (default 64 KiB; at least 8 KiB, hyper's
    /// minimum buffer).
    pub max_header_bytes: usize,
    /// The response body at most (default 32 MiB: a full entry bundle of
    /// maximal entries is 256 × 65,537 bytes, and nothing a node serves is
    /// larger).
    pub max_body_bytes: u64,
    /// Idle connections kept per endpoint (default 4).
    pub max_idle_per_endpoint: usize,
}

impl Default for ClientLimits {
    fn default() -> ClientLimits {
        ClientLimits {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            max_header_bytes: 64 << 10,
            max_body_bytes: 32 << 20,
            max_idle_per_endpoint: 4,
        }
    }
}

/// How an endpoint is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// `https://`, accepting only a server whose key is one of these pins.
    Pinned(PinSet),
    /// `http://` on loopback, unencrypted, only because the configuration
    /// says `insecure_plaintext = true`.
    InsecurePlaintext,
}

/// What is wrong with a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    /// Not a URI.
    Syntax,
    /// Neither `http` nor `https`.
    Scheme,
    /// No host.
    NoHost,
    /// Carries a query or fragment (a base URL has neither).
    Query,
}

impl std::fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UrlProblem::Syntax => "not a URL",
            UrlProblem::Scheme => "expected https://host:port (or http:// on loopback)",
            UrlProblem::NoHost => "no host",
            UrlProblem::Query => "a base URL has no query",
        })
    }
}

/// Why a URL and a [`Security`] do not go together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityProblem {
    /// `http://` to a host that is not loopback.
    PlaintextNotLoopback,
    /// `http://` without `insecure_plaintext`.
    PlaintextNotAllowed,
    /// `https://` with `insecure_plaintext`: say which key to expect.
    HttpsWithoutPins,
    /// `https://` with an empty pin set.
    NoPins,
}

impl std::fmt::Display for SecurityProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecurityProblem::PlaintextNotLoopback => {
                "plain http:// is allowed only to a loopback address (127.0.0.0/8, ::1, localhost)"
            }
            SecurityProblem::PlaintextNotAllowed => {
                "plain http:// needs insecure_plaintext = true (loopback only); use https:// with a pinned key"
            }
            SecurityProblem::HttpsWithoutPins | SecurityProblem::NoPins => {
                "https:// needs the server's pinned key (sha256/…)"
            }
        })
    }
}

/// Which part of a request ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// DNS, TCP and TLS.
    Connect,
    /// Waiting for the response head.
    ResponseHead,
    /// Between two pieces of the body.
    Body,
    /// The whole request.
    Whole,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connecting",
            Phase::ResponseHead => "waiting for the response head",
            Phase::Body => "reading the response body",
            Phase::Whole => "the whole request",
        })
    }
}

/// Why a request failed. Every variant names the URL (peer URLs are not
/// secret); none carries a header value (it may be a token).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is malformed.
    #[error("`{url}`: {problem}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong.
        problem: UrlProblem,
    },
    /// The URL's scheme and the security asked for disagree.
    #[error("`{url}`: {problem}")]
    Security {
        /// The URL.
        url: String,
        /// What is wrong.
        problem: SecurityProblem,
    },
    /// A header given by the caller is not valid HTTP (its value is not
    /// repeated here).
    #[error("header `{name}`: not a valid HTTP header name or value")]
    Header {
        /// The header's name, as given (at most 64 characters).
        name: String,
    },
    /// DNS found no address, or failed.
    #[error("{url}: cannot resolve: {source}")]
    Resolve {
        /// The URL.
        url: String,
        /// The error.
        source: std::io::Error,
    },
    /// TCP connect failed.
    #[error("{url}: cannot connect: {source}")]
    Connect {
        /// The URL.
        url: String,
        /// The error.
        source: std::io::Error,
    },
    /// The server's certificate is not the pinned key's, or is invalid.
    #[error("{url}: the server is refused: {refused}")]
    ServerRefused {
        /// The URL.
        url: String,
        /// Why, with the pin the server presented.
        refused: CertRefused,
    },
    /// The TLS handshake failed otherwise (expired or garbage certificate,
    /// the server refused this client's certificate, not TLS).
    #[error("{url}: TLS handshake failed: {source}")]
    Tls {
        /// The URL.
        url: String,
        /// The error.
        source: std::io::Error,
    },
    /// A phase ran out of time.
    #[error("{url}: timed out {phase} (limit {after:?})")]
    Timeout {
        /// The URL.
        url: String,
        /// Which phase.
        phase: Phase,
        /// The limit.
        after: Duration,
    },
    /// The response head is larger than `max_header_bytes`.
    #[error("{url}: the response head is over {limit} bytes")]
    HeaderTooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The response body is larger than `max_body_bytes`.
    #[error("{url}: the {status} response's body is over {limit} bytes{}", declared.map(|d| format!(" (Content-Length {d})")).unwrap_or_default())]
    BodyTooLarge {
        /// The URL.
        url: String,
        /// The response's status.
        status: u16,
        /// The limit.
        limit: u64,
        /// The `Content-Length` declared, if that is how it was known.
        declared: Option<u64>,
    },
    /// The server broke HTTP/1.1, or the connection failed mid-request.
    #[error("{url}: {source}")]
    Http {
        /// The URL.
        url: String,
        /// hyper's error.
        source: hyper::Error,
    },
    /// The client's runtime could not be started.
    #[error("cannot start the HTTP client's runtime: {0}")]
    Runtime(std::io::Error),
    /// The client's runtime stopped answering (it was shut down).
    #[error("the HTTP client's runtime is gone")]
    Worker,
}

/// A response: status, headers and the whole (bounded) body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct Inner {
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    limits: ClientLimits,
    identity: Option<Identity>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Never blocks, so a client may be dropped anywhere (even in async
        // code, where dropping a runtime the ordinary way panics).
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A blocking HTTP client with one identity (or none).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("limits", &self.inner.limits)
            .field("identity", &self.inner.identity)
            .finish()
    }
}

impl Client {
    /// A client presenting `identity` to servers that ask (peers and
    /// witnesses; `None` for an operator's or an observer's client).
    pub fn new(limits: ClientLimits, identity: Option<Identity>) -> Result<Client, ClientError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("accord-net-client")
            .enable_all()
            .build()
            .map_err(ClientError::Runtime)?;
        Ok(Client {
            inner: Arc::new(Inner {
                handle: runtime.handle().clone(),
                runtime: Some(runtime),
                limits,
                identity,
            }),
        })
    }

    /// An endpoint at `url` (`https://host:port[/prefix]`, or `http://` on
    /// loopback with [`Security::InsecurePlaintext`]).
    pub fn endpoint(&self, url: &str, security: Security) -> Result<Endpoint, ClientError> {
        let p = parse(url, &security)?;
        let tls = match security {
            Security::Pinned(pins) => {
                let cfg = crate::tls::client_config(pins, self.inner.identity.as_ref()).map_err(
                    |_| ClientError::Security {
                        url: url.to_string(),
                        problem: SecurityProblem::NoPins,
                    },
                )?;
                let name = ServerName::try_from(p.host.clone()).map_err(|_| ClientError::Url {
                    url: url.to_string(),
                    problem: UrlProblem::NoHost,
                })?;
                Some((tokio_rustls::TlsConnector::from(cfg), name))
            }
            Security::InsecurePlaintext => None,
        };
        Ok(Endpoint {
            shared: Arc::new(EndpointShared {
                client: self.inner.clone(),
                base: url.trim_end_matches('/').to_string(),
                host: p.host,
                port: p.port,
                authority: p.authority,
                prefix: p.prefix,
                tls,
                idle: Mutex::new(vec![]),
            }),
        })
    }
}

/// Checks a URL against the security it will be used with, as
/// [`Client::endpoint`] does, without a client (for validating a
/// configuration file when it is read).
pub fn check_url(url: &str, security: &Security) -> Result<(), ClientError> {
    parse(url, security).map(|_| ())
}

struct Parsed {
    host: String,
    port: u16,
    authority: String,
    prefix: String,
}

fn parse(url: &str, security: &Security) -> Result<Parsed, ClientError> {
    let bad = |problem| ClientError::Url {
        url: url.to_string(),
        problem,
    };
    let sec = |problem| ClientError::Security {
        url: url.to_string(),
        problem,
    };
    let uri: http::Uri = url.parse().map_err(|_| bad(UrlProblem::Syntax))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(bad(UrlProblem::Scheme)),
    };
    let authority = uri.authority().ok_or_else(|| bad(UrlProblem::NoHost))?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if host.is_empty() {
        return Err(bad(UrlProblem::NoHost));
    }
    if uri.query().is_some() {
        return Err(bad(UrlProblem::Query));
    }
    match (tls, security) {
        (true, Security::Pinned(pins)) if pins.is_empty() => {
            return Err(sec(SecurityProblem::NoPins))
        }
        (true, Security::Pinned(_)) => {}
        (true, Security::InsecurePlaintext) => return Err(sec(SecurityProblem::HttpsWithoutPins)),
        (false, Security::Pinned(_)) => return Err(sec(SecurityProblem::PlaintextNotAllowed)),
        (false, Security::InsecurePlaintext) => {
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(sec(SecurityProblem::PlaintextNotLoopback));
            }
        }
    }
    Ok(Parsed {
        port: authority.port_u16().unwrap_or(if tls { 443 } else { 80 }),
        authority: authority.as_str().to_string(),
        prefix: uri.path().trim_end_matches('/').to_string(),
        host,
    })
}

struct EndpointShared {
    client: Arc<Inner>,
    base: String,
    host: String,
    port: u16,
    authority: String,
    prefix: String,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

/// One server, reached with one [`Security`]; requests reuse its
/// kept-alive connections. Cheap to clone.
#[derive(Clone)]
pub struct Endpoint {
    shared: Arc<EndpointShared>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.shared.base)
            .field("tls", &self.shared.tls.is_some())
            .finish()
    }
}

impl Endpoint {
    /// The base URL.
    pub fn url(&self) -> &str {
        &self.shared.base
    }

    /// The `host:port` requests carry as their `Host`.
    pub fn authority(&self) -> &str {
        &self.shared.authority
    }

    /// `GET path` (path with its query, e.g. `/checkpoint`).
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Result<Reply, ClientError> {
        self.request(Method::GET, path, headers, Bytes::new())
    }

    /// `POST path` with `body` (`Content-Type: application/json` unless a
    /// header says otherwise).
    pub fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Reply, ClientError> {
        self.request(Method::POST, path, headers, body.into())
    }

    /// One request; blocks until the reply, an error, or
    /// `request_timeout`.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Reply, ClientError> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| ClientError::Header {
                name: k.chars().take(64).collect(),
            })?;
            let value = HeaderValue::from_str(v).map_err(|_| ClientError::Header {
                name: k.chars().take(64).collect(),
            })?;
            map.append(name, value);
        }
        let limits = &self.shared.client.limits;
        let whole = limits.request_timeout;
        let url = format!("{}{path}", self.shared.base);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let shared = self.shared.clone();
        let target = format!("{}{path}", self.shared.prefix);
        let url2 = url.clone();
        self.shared.client.handle.spawn(async move {
            let r = tokio::time::timeout(whole, shared.exchange(method, target, map, body, &url2))
                .await
                .unwrap_or_else(|_| {
                    Err(ClientError::Timeout {
                        url: url2.clone(),
                        phase: Phase::Whole,
                        after: whole,
                    })
                });
            let _ = tx.send(r);
        });
        match rx.recv_timeout(whole.saturating_add(Duration::from_secs(5))) {
            Ok(r) => r,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(ClientError::Timeout {
                url,
                phase: Phase::Whole,
                after: whole,
            }),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(ClientError::Worker),
        }
    }
}

fn http_error(url: &str, limits: &ClientLimits, e: hyper::Error) -> ClientError {
    if e.is_parse_too_large() {
        ClientError::HeaderTooLarge {
            url: url.to_string(),
            limit: head_buffer(limits),
        }
    } else {
        ClientError::Http {
            url: url.to_string(),
            source: e,
        }
    }
}

fn head_buffer(l: &ClientLimits) -> usize {
    l.max_header_bytes.max(8192)
}

impl EndpointShared {
    fn take_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(s) = idle.pop() {
            if !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    fn put_idle(&self, s: SendRequest<Full<Bytes>>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.client.limits.max_idle_per_endpoint {
            idle.push(s);
        }
    }

    async fn connect(&self, url: &str) -> Result<SendRequest<Full<Bytes>>, ClientError> {
        let limits = &self.client.limits;
        let timeout = |_| ClientError::Timeout {
            url: url.to_string(),
            phase: Phase::Connect,
            after: limits.connect_timeout,
        };
        tokio::time::timeout(limits.connect_timeout, self.connect_inner(url))
            .await
            .map_err(timeout)?
    }

    async fn connect_inner(&self, url: &str) -> Result<SendRequest<Full<Bytes>>, ClientError> {
        let limits = &self.client.limits;
        let addrs: Vec<_> = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|source| ClientError::Resolve {
                url: url.to_string(),
                source,
            })?
            .collect();
        let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
        let mut tcp = None;
        for a in addrs {
            match tokio::net::TcpStream::connect(a).await {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let tcp = tcp.ok_or_else(|| ClientError::Connect {
            url: url.to_string(),
            source: last,
        })?;
        let _ = tcp.set_nodelay(true);
        let mut builder = hyper::client::conn::http1::Builder::new();
        builder.max_buf_size(head_buffer(limits)).max_headers(128);
        let sender = match &self.tls {
            Some((connector, name)) => {
                let stream =
                    connector.connect(name.clone(), tcp).await.map_err(
                        |e| match CertRefused::find(&e) {
                            Some(refused) => ClientError::ServerRefused {
                                url: url.to_string(),
                                refused,
                            },
                            None => ClientError::Tls {
                                url: url.to_string(),
                                source: e,
                            },
                        },
                    )?;
                let (sender, conn) = builder
                    .handshake(TokioIo::new(stream))
                    .await
                    .map_err(|e| http_error(url, limits, e))?;
                tokio::spawn(conn);
                sender
            }
            None => {
                let (sender, conn) = builder
                    .handshake(TokioIo::new(tcp))
                    .await
                    .map_err(|e| http_error(url, limits, e))?;
                tokio::spawn(conn);
                sender
            }
        };
        Ok(sender)
    }

    fn build(
        &self,
        method: &Method,
        target: &str,
        headers: &HeaderMap,
        body: &Bytes,
        url: &str,
    ) -> Result<Request<Full<Bytes>>, ClientError> {
        let mut req = Request::new(Full::new(body.clone()));
        *req.method_mut() = method.clone();
        *req.uri_mut() = target.parse().map_err(|_| ClientError::Url {
            url: url.to_string(),
            problem: UrlProblem::Syntax,
        })?;
        let h = req.headers_mut();
        h.extend(headers.clone());
        if let Ok(v) = HeaderValue::from_str(&self.authority) {
            h.insert(http::header::HOST, v);
        }
        if !body.is_empty() && !h.contains_key(http::header::CONTENT_TYPE) {
            h.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        Ok(req)
    }

    async fn exchange(
        self: Arc<Self>,
        method: Method,
        target: String,
        headers: HeaderMap,
        body: Bytes,
        url: &str,
    ) -> Result<Reply, ClientError> {
        let limits = &self.client.limits;
        let idempotent = matches!(method, Method::GET | Method::HEAD);
        let mut retried = false;
        loop {
            let (mut sender, reused) = match self.take_idle() {
                Some(s) => (s, true),
                None => (self.connect(url).await?, false),
            };
            if reused
                && tokio::time::timeout(limits.read_timeout, sender.ready())
                    .await
                    .map_or(true, |r| r.is_err())
            {
                continue;
            }
            let req = self.build(&method, &target, &headers, &body, url)?;
            let head = tokio::time::timeout(limits.read_timeout, sender.try_send_request(req));
            let resp = match head.await {
                Err(_) => {
                    return Err(ClientError::Timeout {
                        url: url.to_string(),
                        phase: Phase::ResponseHead,
                        after: limits.read_timeout,
                    })
                }
                Ok(Ok(r)) => r,
                Ok(Err(mut e)) => {
                    // A kept-alive connection the server closed meanwhile:
                    // once more on a fresh one, if the request was not sent
                    // or is safe to repeat.
                    let unsent = e.take_message().is_some();
                    let err = e.into_error();
                    if reused && !retried && (unsent || (idempotent && !err.is_parse_too_large())) {
                        retried = true;
                        continue;
                    }
                    return Err(http_error(url, limits, err));
                }
            };
            let status = resp.status().as_u16();
            let keep = !resp
                .headers()
                .get(http::header::CONNECTION)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("close"));
            let (parts, mut incoming) = resp.into_parts();
            let too_large = |declared| ClientError::BodyTooLarge {
                url: url.to_string(),
                status,
                limit: limits.max_body_bytes,
                declared,
            };
            let declared = http_body::Body::size_hint(&incoming).exact();
            if let Some(d) = declared.filter(|d| *d > limits.max_body_bytes) {
                return Err(too_large(Some(d)));
            }
            let mut buf = Vec::with_capacity(
                usize::try_from(declared.unwrap_or(0).min(1 << 20)).unwrap_or(0),
            );
            loop {
                let frame = tokio::time::timeout(limits.read_timeout, incoming.frame()).await;
                match frame {
                    Err(_) => {
                        return Err(ClientError::Timeout {
                            url: url.to_string(),
                            phase: Phase::Body,
                            after: limits.read_timeout,
                        })
                    }
                    Ok(None) => break,
                    Ok(Some(Err(e))) => return Err(http_error(url, limits, e)),
                    Ok(Some(Ok(f))) => {
                        if let Some(d) = f.data_ref() {
                            if buf.len() as u64 + d.len() as u64 > limits.max_body_bytes {
                                return Err(too_large(None));
                            }
                            buf.extend_from_slice(d);
                        }
                    }
                }
            }
            if keep {
                self.put_idle(sender);
            }
            return Ok(Reply {
                status,
                headers: parts.headers,
                body: Bytes::from(buf),
            });
        }
    }
}
