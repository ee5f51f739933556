//! `GET /metrics`: the node's state and counters in the Prometheus text
//! format (version 0.0.4), for a scraper.
//!
//! **Public**, like `/exchange` and `/status`: every series is an aggregate
//! (a count, a size, a lag, a failure count) of what those already show, or
//! a count of the transport's connections. No entry, notification, token,
//! key or request detail is in it. A scrape takes the node's lock and each
//! mirror's only to read a size held in memory, never across any other
//! work.
//!
//! | series | type | labels | what |
//! |---|---|---|---|
//! | `accord_log_size` | gauge | | entries in the node's log |
//! | `accord_intake_notifications_accepted_total` | counter | | notifications logged and acknowledged (201) |
//! | `accord_intake_requests_total` | counter | `status` | `POST /notifications` answered, by status (201, 400, 401, 403, 409, 413, 422, 500) |
//! | `accord_http_server_errors_total` | counter | | responses with a 5xx status, handlers that panicked included |
//! | `accord_exchange_peer_signed_size` | gauge | `peer` | the size of the latest checkpoint the peer signed that this node verified |
//! | `accord_exchange_mirror_size` | gauge | `peer` | entries of the peer's log this node holds |
//! | `accord_exchange_lag_entries` | gauge | `peer` | signed size − mirror size |
//! | `accord_exchange_seconds_since_pull` | gauge | `peer` | seconds since the last good pull round (`+Inf`: none yet) |
//! | `accord_exchange_pull_failures` | gauge | `peer` | consecutive failed pull rounds |
//! | `accord_exchange_flagged` | gauge | `peer` | 1 when evidence against the peer is held |
//! | `accord_witness_acknowledged_size` | gauge | `target` | the size the target (a peer's or a witness's `add-checkpoint`) last acknowledged |
//! | `accord_witness_lag_entries` | gauge | `target` | log size − acknowledged size |
//! | `accord_witness_failures` | gauge | `target` | consecutive failed pushes |
//! | `accord_net_connections_open` | gauge | | connections open now |
//! | `accord_net_connections_accepted_total` | counter | | connections accepted |
//! | `accord_net_connections_refused_total` | counter | | refused at the caps (every counted connection busy) |
//! | `accord_net_connections_evicted_total` | counter | | closed to admit a newer one |
//! | `accord_net_tls_handshake_failures_total` | counter | | TLS handshakes that failed |
//! | `accord_net_timeouts_total` | counter | `phase` | connections or requests closed for slowness: `handshake`, `header`, `idle`, `request`, `body` |
//! | `accord_net_requests_total` | counter | | requests read |
//! | `accord_net_requests_rejected_total` | counter | | answered 413, 414 or 431 by the limits, before the router |
//! | `accord_net_accept_errors_total` | counter | | errors from `accept` (e.g. out of file descriptors) |
//!
//! The transport's series appear once the node serves through
//! [`crate::serve_until`] (a router driven directly has no transport).

use crate::error::{internal, ApiError};
use crate::{blocking, relock, Node};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

type Labels = Vec<(&'static str, String)>;

/// The node's own counters (the rest is read from its state at a scrape).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    accepted: Counter,
    intake: Family<Labels, Counter>,
    server_errors: Counter,
    /// The running server's counters.
    transport: Mutex<Option<Arc<accord_net::Stats>>>,
}

impl Metrics {
    /// Counts an answer to `POST /notifications`: its status, and the
    /// notifications it acknowledged.
    pub(crate) fn intake(&self, status: StatusCode, accepted: usize) {
        self.intake
            .get_or_create(&vec![("status", status.as_u16().to_string())])
            .inc();
        self.accepted.inc_by(accepted as u64);
    }

    /// Counts a 5xx response.
    pub(crate) fn server_error(&self) {
        self.server_errors.inc();
    }

    /// Keeps the running server's counters.
    pub(crate) fn set_transport(&self, stats: Arc<accord_net::Stats>) {
        *relock(&self.transport) = Some(stats);
    }
}

/// Counts a response that is never made because its handler panicked: the
/// request's future is dropped while the thread unwinds.
pub(crate) struct PanicGuard {
    counter: Option<Counter>,
}

impl PanicGuard {
    fn new(m: &Metrics) -> PanicGuard {
        PanicGuard {
            counter: Some(m.server_errors.clone()),
        }
    }

    fn disarm(mut self) {
        self.counter = None;
    }
}

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if let Some(c) = self.counter.take() {
            if std::thread::panicking() {
                c.inc();
            }
        }
    }
}

/// The middleware that counts 5xx responses (and panics) for every route.
pub(crate) async fn count_errors(
    node: Arc<Node>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let guard = PanicGuard::new(&node.metrics);
    let resp = next.run(req).await;
    guard.disarm();
    if resp.status().is_server_error() {
        node.metrics.server_error();
    }
    resp
}

fn gauge(r: &mut Registry, name: &str, help: &str, value: i64) {
    let g: Gauge = Gauge::default();
    g.set(value);
    r.register(name, help, g);
}

fn counter(r: &mut Registry, name: &str, help: &str, value: u64) {
    let c: Counter = Counter::default();
    c.inc_by(value);
    r.register(name, help, c);
}

/// A value for an `i64` gauge (sizes never come near `i64::MAX`).
fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The registry of one scrape.
fn registry(node: &Node) -> Registry {
    let mut r = Registry::default();
    let log_size = node.state().log.size();
    gauge(
        &mut r,
        "accord_log_size",
        "Entries in the node's log",
        i(log_size),
    );
    r.register(
        "accord_intake_notifications_accepted",
        "Notifications logged and acknowledged (201)",
        node.metrics.accepted.clone(),
    );
    r.register(
        "accord_intake_requests",
        "POST /notifications answered, by status",
        node.metrics.intake.clone(),
    );
    r.register(
        "accord_http_server_errors",
        "Responses with a 5xx status, handlers that panicked included",
        node.metrics.server_errors.clone(),
    );

    let now = crate::exchange::unix_now();
    let signed: Family<Labels, Gauge> = Family::default();
    let mirrored: Family<Labels, Gauge> = Family::default();
    let lag: Family<Labels, Gauge> = Family::default();
    let since: Family<Labels, Gauge<f64, AtomicU64>> = Family::default();
    let failures: Family<Labels, Gauge> = Family::default();
    let flagged: Family<Labels, Gauge> = Family::default();
    for link in &node.links {
        let l = vec![("peer", link.cfg.party.clone())];
        let (size, evidence) = {
            let m = link.mirror();
            (m.log.size(), !m.evidence.is_empty())
        };
        let peer_size = link.signed_size().max(size);
        let st = link.status();
        signed.get_or_create(&l).set(i(peer_size));
        mirrored.get_or_create(&l).set(i(size));
        lag.get_or_create(&l).set(i(peer_size - size));
        since.get_or_create(&l).set(
            st.last_ok
                .map_or(f64::INFINITY, |t| now.saturating_sub(t) as f64),
        );
        failures.get_or_create(&l).set(i64::from(st.failures));
        flagged.get_or_create(&l).set(i64::from(evidence));
    }
    r.register(
        "accord_exchange_peer_signed_size",
        "The size of the latest checkpoint the peer signed that this node verified",
        signed,
    );
    r.register(
        "accord_exchange_mirror_size",
        "Entries of the peer's log this node holds",
        mirrored,
    );
    r.register(
        "accord_exchange_lag_entries",
        "The peer's signed size minus the mirror's size",
        lag,
    );
    r.register(
        "accord_exchange_seconds_since_pull",
        "Seconds since the last good pull round from the peer (+Inf: none yet)",
        since,
    );
    r.register(
        "accord_exchange_pull_failures",
        "Consecutive failed pull rounds",
        failures,
    );
    r.register(
        "accord_exchange_flagged",
        "1 when evidence against the peer is held",
        flagged,
    );

    let acked: Family<Labels, Gauge> = Family::default();
    let behind: Family<Labels, Gauge> = Family::default();
    let push_failures: Family<Labels, Gauge> = Family::default();
    for t in &node.targets {
        let l = vec![("target", t.url.clone())];
        let st = t.status();
        acked.get_or_create(&l).set(i(st.acknowledged));
        behind
            .get_or_create(&l)
            .set(i(log_size.saturating_sub(st.acknowledged)));
        push_failures.get_or_create(&l).set(i64::from(st.failures));
    }
    r.register(
        "accord_witness_acknowledged_size",
        "The size the push target last acknowledged",
        acked,
    );
    r.register(
        "accord_witness_lag_entries",
        "The log's size minus the size the push target acknowledged",
        behind,
    );
    r.register(
        "accord_witness_failures",
        "Consecutive failed pushes to the target",
        push_failures,
    );

    if let Some(stats) = relock(&node.metrics.transport).as_ref() {
        let s = stats.snapshot();
        gauge(
            &mut r,
            "accord_net_connections_open",
            "Connections open now",
            i(s.open),
        );
        for (name, help, v) in [
            (
                "accord_net_connections_accepted",
                "Connections accepted",
                s.accepted,
            ),
            (
                "accord_net_connections_refused",
                "Connections refused at the caps (every counted connection busy)",
                s.refused,
            ),
            (
                "accord_net_connections_evicted",
                "Connections closed to admit a newer one",
                s.evicted,
            ),
            (
                "accord_net_tls_handshake_failures",
                "TLS handshakes that failed",
                s.handshake_failures,
            ),
            ("accord_net_requests", "Requests read", s.requests),
            (
                "accord_net_requests_rejected",
                "Requests answered 413, 414 or 431 by the limits, before the router",
                s.rejected,
            ),
            (
                "accord_net_accept_errors",
                "Errors from accept (e.g. out of file descriptors)",
                s.accept_errors,
            ),
        ] {
            counter(&mut r, name, help, v);
        }
        let timeouts: Family<Labels, Counter> = Family::default();
        for (phase, v) in [
            ("handshake", s.handshake_timeouts),
            ("header", s.header_timeouts),
            ("idle", s.idle_timeouts),
            ("request", s.request_timeouts),
            ("body", s.body_timeouts),
        ] {
            timeouts
                .get_or_create(&vec![("phase", phase.into())])
                .inc_by(v);
        }
        r.register(
            "accord_net_timeouts",
            "Connections or requests closed for slowness, by phase",
            timeouts,
        );
    }
    r
}

/// The node's metrics in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "status",
    responses((
        status = 200,
        description = "Prometheus text format 0.0.4: the log's size; intake (accepted, answered by status); 5xx responses; per peer the exchange lag, seconds since the last good pull, failures and flag; per push target the acknowledged size, lag and failures; the transport's connection, timeout and rejection counters. Aggregates only: no entry, token or key",
        body = String,
        content_type = "text/plain; version=0.0.4"
    ))
)]
pub(crate) async fn get_metrics(State(node): State<Arc<Node>>) -> Result<Response, ApiError> {
    let text = blocking(move || {
        let mut out = String::new();
        prometheus_text::encode(&mut out, &registry(&node)).map_err(internal)?;
        Ok(out)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response())
}
