//! A party's node over HTTP.
//!
//! - `POST /notifications` (operator bearer token): a notification, or an
//!   array of them, validated against the registry and the treaty before
//!   anything is written; then appended durably to the party's log (the
//!   record) and applied to its registry ([`intake`]). A bad one gets a 4xx
//!   naming the field, and nothing is stored.
//! - `POST /inspections` (operator): an inspection made by or of this party,
//!   checked against the inspected party's registry, logged in this node's
//!   log and fed to its registry ([`inspections`]).
//! - `GET /checkpoint`: the latest signed checkpoint (public), with the
//!   cosignatures the witnesses returned.
//! - `POST /add-checkpoint`: the C2SP tlog-witness endpoint, when the node
//!   runs a witness.
//! - `GET /status`, `GET /history`, `GET /exchange`: compliance (from
//!   [`accord_regime`], the one compliance function), the exchange, and the
//!   quotas ([`reads`]).
//! - tiles, proofs, receipts and the feed for operators, readers and peers.
//! - `POST /draws`, `POST /draws/population`, `POST /draws/refusal`
//!   (operators), `POST /draw/commitment`, `/draw/population`,
//!   `/draw/reveal` (the peer's node, authenticated by the signed, cosigned
//!   steps), `GET /draws` and `GET /draws/transcript`: draws neither party
//!   controls, with a neutral witness ([`draws`]).
//! - `GET /`, `GET /workbench/...`: the analyst's workbench, with its
//!   queries and `GET /keys` ([`workbench`]).
//! - `GET /metrics`: counters and state in the Prometheus text format
//!   (public, aggregates only: [`metrics`]).
//! - `GET /openapi.json`: this interface as OpenAPI 3.1, generated from the
//!   handlers and the types of [`accord_api`] ([`openapi`]).
//!
//! Errors are JSON `{"error": {"status", "message", "field"}}` at every
//! status ([`error`]); internal faults are logged, never sent to the client.
//!
//! Locks: the node's (its log, registry and receipts) and each mirror's are
//! taken in one order (the node's first) and never both by a pull; no lock
//! is held across the network.
#![forbid(unsafe_code)]

use accord_log::{LogStore, Signer, Verifier, Witness};
use accord_regime::receipts::{self, Receipt};
use accord_regime::RegimeError;
use accord_registry::{Store, StoreError};
use accord_treaty::Treaty;
use std::sync::{Arc, Mutex, MutexGuard};

mod auth;
pub mod client;
pub mod config;
pub mod draws;
pub mod error;
pub mod exchange;
mod inspections;
mod intake;
mod metrics;
pub mod net;
pub mod openapi;
mod reads;
pub mod witness;
pub mod witness_node;
pub mod workbench;

use error::internal;
pub use error::ApiError;
use exchange::{Clock, ExchangeConfig, Link, Stop, Target};

/// Largest request body accepted, in bytes.
pub const MAX_BODY: usize = 1 << 20;

/// A node's state: its log, registry, treaty, signer, optional witness.
pub struct Node {
    inner: Mutex<Inner>,
    /// Notification batches waiting for the next group commit.
    queue: Mutex<Vec<intake::Job>>,
    tokens: Vec<String>,
    /// Bearer tokens that may read entries (tiles, the feed) but not write:
    /// the peer's and observers'.
    readers: Vec<String>,
    /// The party whose node this is.
    party: String,
    /// The treaty (a copy for the exchange loops and the handlers).
    treaty: Treaty,
    /// The peers and their mirrors.
    links: Vec<Arc<Link>>,
    /// Where checkpoints are pushed: peers' and witnesses' `add-checkpoint`.
    targets: Vec<Arc<Target>>,
    /// The peers' log keys: they authenticate the peers' reads.
    peer_keys: Vec<Verifier>,
    /// The node's date.
    clock: Clock,
    /// Poll interval and first retry delay of the exchange loops.
    interval: std::time::Duration,
    /// A copy of the log key, with which the pull loops sign their reads.
    peer_signer: Signer,
    /// The node's log origin (what peers' signed reads must be bound to).
    origin: String,
    /// The nonces of peers' signed reads seen lately.
    nonces: exchange::Nonces,
    /// TLS (or plain HTTP on loopback) for the listener and the loops.
    net: net::Net,
    /// Counters for `GET /metrics`.
    metrics: metrics::Metrics,
    /// The draws the node takes part in.
    draws: draws::Draws,
    /// The node's party's compliance, kept folded (opened at the first
    /// report); locked after the node's state, never before it.
    tracker: Mutex<Option<accord_regime::tracker::Tracker>>,
    /// Reports (`/status`, `/history`) for anyone but an operator run one
    /// at a time: on two cores, public readers in closed loops would
    /// otherwise take the cores operators' writes need.
    public_reports: tokio::sync::Semaphore,
}

struct Inner {
    log: LogStore,
    registry: Store,
    treaty: Treaty,
    signer: Signer,
    witness: Option<Witness>,
    /// The log holds entries the registry lacks (a registry write failed
    /// after the log's): caught up before the next write.
    lagging: bool,
    /// Receipts of what the peers delivered (a log of its own, signed with
    /// the node's key), when the node exchanges with peers.
    receipts: Option<LogStore>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Node({}, {} operator tokens, {} reader tokens, secrets withheld)",
            self.party,
            self.tokens.len(),
            self.readers.len()
        )
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The registry is not the log's fold (it holds more, or an entry the
    /// registry lacks cannot be applied), or the receipts are unreadable.
    #[error(transparent)]
    Regime(#[from] RegimeError),
    /// The log could not be read.
    #[error(transparent)]
    Log(#[from] accord_log::LogError),
    /// The registry could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A peer is not a party to the treaty.
    #[error("peer `{party}` is not a party to {treaty}")]
    UnknownPeer {
        /// The peer's party code.
        party: String,
        /// The treaty.
        treaty: String,
    },
    /// The network (TLS identity, pins, client) could not be set up.
    #[error(transparent)]
    Net(#[from] net::NetError),
    /// A peer's key is this node's own.
    #[error("peer `{0}` has this node's own log key")]
    OwnKey(String),
    /// A peer is listed twice (or is this node's own party).
    #[error("peer `{0}` is listed twice, or is this node's own party")]
    DuplicatePeer(String),
    /// Two peers have the same log key: either could read as the other.
    #[error("peers `{first}` and `{second}` have the same log key")]
    SharedPeerKey {
        /// The peer listed first.
        first: String,
        /// The peer listed later.
        second: String,
    },
    /// A mirror's directory or stores could not be opened.
    #[error("the mirror of {party}: {source}")]
    Mirror {
        /// The peer.
        party: String,
        /// What failed.
        source: Box<exchange::SyncError>,
    },
    /// The node's lock was poisoned before it started (cannot happen).
    #[error("the node's state is poisoned")]
    Poisoned,
}

/// Whether two verifiers hold the same public key, whatever their names
/// (the key is the last `+`-separated field of a verifier's text).
fn same_key(a: &Verifier, b: &Verifier) -> bool {
    let key = |v: &Verifier| v.to_string().rsplit('+').next().map(str::to_string);
    key(a) == key(b)
}

/// Brings `registry` level with `log` (see [`accord_regime::feed::catch_up`]).
pub fn catch_up(log: &LogStore, registry: &mut Store, treaty: &Treaty) -> Result<u64, StartError> {
    let party = registry.meta().party.clone();
    Ok(accord_regime::feed::catch_up(
        log, registry, treaty, &party,
    )?)
}

impl Node {
    /// A node over an opened log and registry of the same party.
    pub fn new(
        log: LogStore,
        registry: Store,
        treaty: Treaty,
        signer: Signer,
        witness: Option<Witness>,
        tokens: Vec<String>,
    ) -> Node {
        let peer_signer = signer.clone();
        let party = registry.meta().party.clone();
        let origin = log.origin().to_string();
        Node {
            inner: Mutex::new(Inner {
                log,
                registry,
                treaty: treaty.clone(),
                signer,
                witness,
                lagging: false,
                receipts: None,
            }),
            queue: Mutex::new(vec![]),
            tokens,
            readers: vec![],
            party,
            treaty,
            links: vec![],
            targets: vec![],
            peer_keys: vec![],
            clock: Clock::system(),
            interval: std::time::Duration::from_secs(1),
            peer_signer,
            origin,
            nonces: exchange::Nonces::default(),
            net: net::Net::insecure_plaintext(),
            metrics: metrics::Metrics::default(),
            draws: draws::Draws::default(),
            tracker: Mutex::new(None),
            public_reports: tokio::sync::Semaphore::new(1),
        }
    }

    /// Speaks TLS (or plain HTTP on loopback) as `net` says. Call it before
    /// [`Node::with_exchange`], which reaches the peers with it. The
    /// default is plain HTTP on loopback (tests and exercises).
    pub fn with_net(mut self, net: net::Net) -> Node {
        self.net = net;
        self
    }

    /// Runs the node on `clock` (a simulated date for exercises and tests).
    pub fn with_clock(mut self, clock: Clock) -> Node {
        self.clock = clock;
        self
    }

    /// Adds tokens that may read the log's entries (tiles and the feed) but
    /// never write: the other party's and neutral observers'.
    pub fn with_readers(mut self, readers: Vec<String>) -> Node {
        self.readers = readers;
        self
    }

    /// Adds peers (mirrored) and witnesses (pushed to); opens the mirrors
    /// under `cfg.dir/peers/` and the receipts log `cfg.dir/receipts.sqlite`.
    /// The loops start with [`start_exchange`] (which [`serve_until`] calls).
    pub fn with_exchange(mut self, cfg: ExchangeConfig) -> Result<Node, StartError> {
        let (own_origin, vkey) = {
            let inner = self.inner.get_mut().map_err(|_| StartError::Poisoned)?;
            (inner.log.origin().to_string(), inner.log.verifier().clone())
        };
        let client = self.net.client()?;
        let rpath = cfg.dir.join(receipts::RECEIPTS_FILE);
        let mut receipts_log =
            LogStore::open_or_init(&rpath, &format!("{own_origin}/receipts"), &vkey)?;
        // Late deliveries, from the receipts (signed, so the findings are
        // reproducible from what the node logged).
        let all = receipts::read(&receipts_log)?;
        let mut gaps = vec![];
        // A node of a SYNTHETIC exercise labels what it mirrors SYNTHETIC.
        let synthetic = self.lock().is_ok_and(|i| i.registry.meta().synthetic);
        for peer in &cfg.peers {
            if self.treaty.party(&peer.party).is_none() {
                return Err(StartError::UnknownPeer {
                    party: peer.party.clone(),
                    treaty: self.treaty.id.clone(),
                });
            }
            if same_key(&peer.vkey, &vkey) {
                return Err(StartError::OwnKey(peer.party.clone()));
            }
            if peer.party == self.party || self.links.iter().any(|l| l.cfg.party == peer.party) {
                return Err(StartError::DuplicatePeer(peer.party.clone()));
            }
            if let Some(l) = self
                .links
                .iter()
                .find(|l| same_key(&l.cfg.vkey, &peer.vkey))
            {
                return Err(StartError::SharedPeerKey {
                    first: l.cfg.party.clone(),
                    second: peer.party.clone(),
                });
            }
            let endpoint = self.net.endpoint(&client, &peer.url, peer.tls_pin)?;
            let (origin, mut mirror) =
                exchange::open_mirror(&cfg.dir, &self.treaty, peer, synthetic).map_err(|e| {
                    StartError::Mirror {
                        party: peer.party.clone(),
                        source: Box::new(e),
                    }
                })?;
            let notes = mirror.registry.notifications()?;
            mirror.late = receipts::late_deliveries(&self.treaty, &all, &origin, &notes);
            // Stopped between a mirror append and its receipt: the receipt
            // for the gap is logged now (marked recovered), so the receipts
            // always cover the mirror.
            let covered = receipts::covered(&all, &origin);
            let size = mirror.log.size();
            if size > covered {
                let received = self.clock.today();
                let entries = exchange::notifications_in(&mirror, covered, size)?;
                let late: Vec<u64> = entries
                    .iter()
                    .filter(|n| receipts::is_late(&self.treaty, n, received))
                    .map(|n| n.number)
                    .collect();
                for n in entries.iter().filter(|n| late.contains(&n.number)) {
                    mirror
                        .late
                        .push(receipts::late_finding(&self.treaty, n, received));
                }
                let checkpoint_size = mirror
                    .log
                    .latest_checkpoint()?
                    .map_or(size, |(s, _)| s.max(size));
                gaps.push(Receipt {
                    kind: "receipt".into(),
                    origin: origin.clone(),
                    first: covered,
                    end: size,
                    root: accord_log::merkle::hex(&mirror.log.root(size)?),
                    checkpoint_size,
                    received,
                    received_unix: exchange::unix_now(),
                    late,
                    recovered: true,
                });
            }
            self.peer_keys.push(peer.vkey.clone());
            self.targets.push(Arc::new(Target::new(
                peer.url.clone(),
                peer.witness_vkey.clone(),
                endpoint.clone(),
            )));
            self.links
                .push(Arc::new(Link::new(peer.clone(), origin, mirror, endpoint)));
        }
        let anonymous = self.net.anonymous_client()?;
        let mut neutral = vec![];
        for w in &cfg.witnesses {
            let endpoint = self.net.endpoint(&anonymous, &w.url, w.tls_pin)?;
            let t = Arc::new(Target::new(w.url.clone(), Some(w.vkey.clone()), endpoint));
            neutral.push(t.clone());
            self.targets.push(t);
        }
        let peer_keys: Vec<(String, Verifier)> = cfg
            .peers
            .iter()
            .map(|p| (p.party.clone(), p.vkey.clone()))
            .collect();
        self.draws = draws::Draws::open(&cfg.dir, (&self.party, &vkey), &peer_keys, neutral)?;
        self.interval = cfg.interval;
        let inner = self.inner.get_mut().map_err(|_| StartError::Poisoned)?;
        for r in gaps {
            receipts::append(&mut receipts_log, &inner.signer, &r)?;
        }
        inner.receipts = Some(receipts_log);
        Ok(self)
    }

    /// The node's state, locked. Never fails: a lock poisoned by a panic
    /// is recovered ([`Node::state`]); the `Result` is the handlers' shape.
    fn lock(&self) -> Result<MutexGuard<'_, Inner>, ApiError> {
        Ok(self.state())
    }

    /// The node's state, locked; a lock poisoned by a panic while it was
    /// held is recovered, not left to answer 500 forever.
    ///
    /// What a panic can leave behind: the log and the registry write in
    /// SQLite transactions, which roll back when they are dropped during
    /// the unwinding, so the durable state is whole; the log's size is set
    /// only after its commit. What may be stale is in memory: the
    /// registry's folded tip (or a staged chain) and the compliance
    /// tracker. So the tip is dropped (`Store::abort`: the next check
    /// refolds from the stored rows), the tracker is dropped (reopened at
    /// the next report), and the registry is marked lagging, so the next
    /// write first catches it up with the log (a panic between the log's
    /// append and the registry's write leaves it one batch behind).
    fn state(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| {
            let mut inner = poisoned.into_inner();
            inner.registry.abort();
            inner.lagging = true;
            self.inner.clear_poison();
            // The tracker may have missed what was committed: refolded.
            *self.tracker_lock() = None;
            tracing::error!("the node's lock was poisoned by a panic; recovered (registry tip dropped, caught up before the next write)");
            inner
        })
    }

    /// Runs `f` on the node's party's tracker, opening it first if needed
    /// (a second connection to the registry: reports never wait for the
    /// node's state).
    fn with_tracker<R>(
        &self,
        f: impl FnOnce(&mut accord_regime::tracker::Tracker) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut t = {
            // Opened under the node's lock, so that no batch is committed
            // between what it reads and what it is told.
            let inner = self.lock()?;
            let mut t = self.tracker_lock();
            if t.is_none() {
                let dir = inner
                    .registry
                    .path()
                    .parent()
                    .ok_or_else(|| internal("the registry has no directory"))?;
                *t = Some(
                    accord_regime::tracker::Tracker::open(&self.treaty, dir).map_err(internal)?,
                );
            }
            t
        };
        match t.as_mut() {
            Some(tr) => f(tr),
            None => Err(internal("no tracker")),
        }
    }

    /// Opens and folds every party's tracker (at start, off the request path).
    fn warm_trackers(&self) -> Result<(), ApiError> {
        self.with_tracker(|_| Ok(()))?;
        for l in &self.links {
            l.lock_mirror()?.tracker(&self.treaty).map_err(internal)?;
        }
        Ok(())
    }

    /// Tells the tracker what was committed (or that it must refold).
    pub(crate) fn tracked(&self, batches: &[(Vec<accord_registry::Notification>, bool)]) {
        if let Some(tr) = self.tracker_lock().as_mut() {
            for (b, onto) in batches {
                tr.push(b, *onto);
            }
        }
    }

    /// The tracker must refold everything (the registry was caught up).
    pub(crate) fn untrack(&self) {
        if let Some(tr) = self.tracker_lock().as_mut() {
            tr.invalidate();
        }
    }

    /// The tracker, locked; after a panic while it was held it is dropped
    /// (reopened, refolded from the registry, at the next report).
    fn tracker_lock(&self) -> MutexGuard<'_, Option<accord_regime::tracker::Tracker>> {
        self.tracker.lock().unwrap_or_else(|poisoned| {
            let mut t = poisoned.into_inner();
            *t = None;
            self.tracker.clear_poison();
            t
        })
    }

    /// The link to `party`'s node.
    fn link(&self, party: &str) -> Option<&Arc<Link>> {
        self.links.iter().find(|l| l.cfg.party == party)
    }
}

/// Locks a mutex over plain data (a status, a queue, a nonce cache), which
/// is valid after any partial update: a panic elsewhere while it was held
/// does not make it unusable.
pub(crate) fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| {
        m.clear_poison();
        poisoned.into_inner()
    })
}

impl Node {
    /// Fault injection, for the attack tests only (the node never calls
    /// it): panics while holding the node's lock, its queue's, and every
    /// mirror's, link status's and push target's, as a bug in a handler
    /// would. After it every lock must recover.
    #[doc(hidden)]
    pub fn panic_holding_locks(&self, why: &str) -> ! {
        let _inner = self.inner.lock();
        let _tracker = self.tracker.lock();
        let _queue = self.queue.lock();
        let _links: Vec<_> = self
            .links
            .iter()
            .map(|l| (l.mirror.lock(), l.status.lock()))
            .collect();
        let _targets: Vec<_> = self.targets.iter().map(|t| t.status.lock()).collect();
        let _nonces = self.nonces.0.lock();
        panic!("injected fault: {why}");
    }
}

/// Runs blocking store work off the async threads.
pub(crate) async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
}

/// The router (tests call it directly, without a server): every request is
/// authenticated from its head before its body is read; 5xx answers (and
/// handlers that panic) are counted for `/metrics`.
pub fn router(node: Arc<Node>) -> axum::Router {
    router_with(node, axum::Router::new())
}

/// [`router`] with `extra` routes (fault injection in the attack tests)
/// under the same layers.
fn router_with(node: Arc<Node>, extra: axum::Router) -> axum::Router {
    let n = node.clone();
    let counted = node.clone();
    openapi::party_routes()
        .build(node)
        .merge(extra)
        .layer(accord_net::AuthLayer::new(
            move |parts: &mut axum::http::request::Parts| {
                let decision = auth::before_body(&n, parts);
                if let Err(e) = &decision {
                    if parts.method == axum::http::Method::POST
                        && parts.uri.path() == "/notifications"
                    {
                        n.metrics.intake(e.status(), 0);
                    }
                }
                decision
            },
        ))
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                metrics::count_errors(counted.clone(), req, next)
            },
        ))
}

/// Serves on a listener already bound until `shutdown` completes (tests and
/// benchmarks bind port 0 and read the port back), with the bounded server
/// of `accord-net` over the node's TLS (or plain HTTP on loopback).
pub async fn serve_until(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_until(node, listener, axum::Router::new(), shutdown).await
}

/// [`serve_until`] with `extra` routes beside the node's: fault injection
/// for the attack tests only (a route that panics, as a bug in a handler
/// would). The node never mounts any.
#[doc(hidden)]
pub async fn serve_with_until(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    extra: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let pins: accord_net::PinSet = node.links.iter().filter_map(|l| l.cfg.tls_pin).collect();
    let transport = node.net.transport(pins).map_err(std::io::Error::other)?;
    let limits = node.net.limits().clone();
    let exchange = start_exchange(&node);
    let warming = node.clone();
    tokio::task::spawn_blocking(move || {
        // The trackers first (the first /status needs them), then the
        // workbench's indexes.
        if let Err(e) = warming.warm_trackers() {
            tracing::warn!(error = ?e, "could not fold the registries at start");
        }
        workbench::warm(&warming)
    });
    let app = router_with(node.clone(), extra).layer(accord_net::RequestLogLayer);
    let server = accord_net::Server::new(limits, transport);
    node.metrics.set_transport(server.stats());
    let served = server
        .serve(listener, app, shutdown)
        .await
        .map_err(std::io::Error::other);
    let _ = tokio::task::spawn_blocking(move || exchange.stop()).await;
    served
}

/// Runs the node on `listen` until Ctrl-C.
pub async fn serve(node: Arc<Node>, listen: &str) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let scheme = if node.net.pin().is_some() {
        "https"
    } else {
        "http"
    };
    eprintln!(
        "accord node listening on {scheme}://{}",
        listener.local_addr()?
    );
    if let Some(pin) = node.net.pin() {
        eprintln!("its TLS key pin: {pin}");
    }
    serve_until(node, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// The exchange loops of a running node; [`Exchange::stop`] ends them.
#[derive(Debug)]
pub struct Exchange {
    stop: Arc<Stop>,
    node: Arc<Node>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Exchange {
    /// Stops the loops and waits for them (a pull in flight finishes first).
    pub fn stop(self) {
        self.stop.set();
        for l in &self.node.links {
            l.wake.signal();
        }
        for t in &self.node.targets {
            t.wake.signal();
        }
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Starts one pull loop per peer and one push loop per peer and witness.
pub fn start_exchange(node: &Arc<Node>) -> Exchange {
    let stop = Arc::new(Stop::default());
    let mut threads = vec![];
    for (i, _) in node.links.iter().enumerate() {
        let (n, s) = (node.clone(), stop.clone());
        threads.push(std::thread::spawn(move || n.pull_loop(i, &s)));
    }
    for (i, _) in node.targets.iter().enumerate() {
        let (n, s) = (node.clone(), stop.clone());
        threads.push(std::thread::spawn(move || n.push_loop(i, &s)));
    }
    Exchange {
        stop,
        node: node.clone(),
        threads,
    }
}

impl Node {
    /// A turn for a public report (see `public_reports`); operators go
    /// straight on (`None`).
    pub(crate) async fn report_turn(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> Result<Option<tokio::sync::SemaphorePermit<'_>>, ApiError> {
        if auth::is_operator(self, headers) {
            return Ok(None);
        }
        self.public_reports
            .acquire()
            .await
            .map(Some)
            .map_err(|_| internal("the public reports' semaphore is closed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(dir: &std::path::Path) -> Arc<Node> {
        let treaty = Treaty::load("new-start-2021").expect("treaty");
        let signer = Signer::from_seed("accord/new-start-2021/US", [1; 32]).expect("signer");
        let log = LogStore::init(&dir.join("log.sqlite"), signer.name(), &signer.verifier())
            .expect("log");
        let registry = Store::create(
            &dir.join("registry"),
            accord_registry::Meta {
                party: "US".into(),
                treaty: treaty.id.clone(),
                synthetic: true,
                provenance: "test".into(),
            },
        )
        .expect("registry");
        Arc::new(Node::new(log, registry, treaty, signer, None, vec![]))
    }

    /// A panic while the node's lock is held may have come between a
    /// registry commit and the tracker's update: the recovery drops the
    /// tracker, marks the registry lagging, and clears the poison.
    #[test]
    fn a_poisoned_node_lock_drops_the_tracker_and_marks_the_registry_lagging() {
        let dir = tempfile::tempdir().expect("tmp");
        let n = node(dir.path());
        n.with_tracker(|_| Ok(())).expect("tracker");
        assert!(n.tracker_lock().is_some());
        let m = n.clone();
        let panicked = std::thread::spawn(move || {
            let _held = m.inner.lock();
            panic!("injected");
        })
        .join();
        assert!(panicked.is_err());
        assert!(n.inner.is_poisoned());
        assert!(n.state().lagging);
        assert!(!n.inner.is_poisoned());
        assert!(n.tracker_lock().is_none());
        // Reopened at the next report.
        n.with_tracker(|_| Ok(())).expect("tracker");
        assert!(n.tracker_lock().is_some());
    }

    /// A panic while the tracker's own lock is held drops the tracker.
    #[test]
    fn a_poisoned_tracker_lock_drops_the_tracker() {
        let dir = tempfile::tempdir().expect("tmp");
        let n = node(dir.path());
        n.with_tracker(|_| Ok(())).expect("tracker");
        let m = n.clone();
        let panicked = std::thread::spawn(move || {
            let _held = m.tracker.lock();
            panic!("injected");
        })
        .join();
        assert!(panicked.is_err());
        assert!(n.tracker_lock().is_none());
        assert!(!n.tracker.is_poisoned());
    }
}
