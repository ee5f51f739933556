//! The exchange between two party nodes over real HTTP on loopback: push,
//! pull, verification, mirrors, receipts, late deliveries, and the attacks
//! a peer (or a tampering link) could try.

use accord_log::{canonical_entry, open_checkpoint, LogStore, Signer, Verifier, Witness};
use accord_node::exchange::PeerTarget;
use accord_node::exchange::{Clock, ExchangeConfig, PeerConfig, WitnessConfig};
use accord_node::Node;
use accord_registry::{Meta, Store};
use accord_treaty::Treaty;
use chrono::NaiveDate;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "operator-token-0123456789";

fn date(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn signer(party: &str, seed: u8) -> Signer {
    Signer::from_seed(&format!("accord/new-start-2021/{party}"), [seed; 32]).expect("signer")
}

fn witness_signer(party: &str, seed: u8) -> Signer {
    Signer::from_seed(&format!("accord/witness/{party}"), [seed; 32]).expect("witness")
}

/// A party's node in `dir`: it witnesses and mirrors `peer`.
fn node(
    dir: &Path,
    party: &str,
    seed: u8,
    peer: Option<(&str, u16, Verifier)>,
    witnesses: Vec<WitnessConfig>,
    clock: &Clock,
) -> Arc<Node> {
    let treaty = Treaty::load("new-start-2021").expect("treaty");
    let s = signer(party, seed);
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
                provenance: "test".into(),
            },
        )
        .expect("registry")
    };
    accord_node::catch_up(&log, &mut registry, &treaty).expect("catch up");
    let w = Witness::open(
        &dir.join("witness.sqlite"),
        witness_signer(party, seed + 100),
    )
    .expect("witness");
    let mut peers = vec![];
    if let Some((p, port, vkey)) = peer {
        w.add_log(&format!("accord/new-start-2021/{p}"), &vkey)
            .expect("follow");
        let seed_of = if p == "US" { 101 } else { 102 };
        peers.push(PeerConfig {
            party: p.into(),
            url: format!("http://127.0.0.1:{port}"),
            vkey,
            witness_vkey: Some(witness_signer(p, seed_of).cosigner_verifier()),
            tls_pin: None,
        });
    }
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

/// A running server and how to stop it.
struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

fn serve(
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
    Running { stop, done }
}

fn halt(rt: &tokio::runtime::Runtime, r: Running) {
    let _ = r.stop.send(());
    rt.block_on(r.done).expect("join").expect("served");
}

fn bind() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    (l, port)
}

fn http(port: u16, method: &str, path: &str, auth: Option<&str>, body: &str) -> (u16, String) {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    let ep = accord_net::Client::new(accord_net::ClientLimits::default(), None)
        .expect("client")
        .endpoint(
            &format!("http://127.0.0.1:{port}"),
            accord_net::Security::InsecurePlaintext,
        )
        .expect("endpoint");
    let method = accord_net::client::Method::from_bytes(method.as_bytes()).expect("method");
    let r = ep
        .request(method, path, &headers, body.as_bytes().to_vec().into())
        .expect("request");
    (r.status, r.text())
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

fn status(port: u16, on: &str) -> Value {
    let (s, b) = http(port, "GET", &format!("/status?date={on}"), None, "");
    assert_eq!(s, 200, "{b}");
    serde_json::from_str(&b).expect("json")
}

/// Waits until `f` holds (at most 30 s).
fn until(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(30), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn facility(party: &str, number: u64, facility: &str, on: &str) -> String {
    format!(
        r#"{{"party":"{party}","number":{number},"date":"{on}","sent":"{on}","event":{{"kind":"facility_declared","facility":"{facility}","facility_kind":"icbm_base","name":"{facility}"}}}}"#
    )
}

fn silo(party: &str, number: u64, facility: &str, on: &str) -> String {
    let t = if party == "US" {
        "minuteman-iii-silo"
    } else {
        "icbm-silo-ru"
    };
    format!(
        r#"{{"party":"{party}","number":{number},"date":"{on}","sent":"{on}","event":{{"kind":"accountability_entry","item":"{party}-L{number:06}","item_kind":"icbm_launcher","item_type":"{t}","facility":"{facility}","status":"non_deployed"}}}}"#
    )
}

/// Posts `count` silos numbered from `first` in batches of 100.
fn post_silos(port: u16, party: &str, first: u64, count: u64, on: &str) {
    let fac = format!("{party}-BASE");
    let all: Vec<String> = (first..first + count)
        .map(|n| silo(party, n, &fac, on))
        .collect();
    for chunk in all.chunks(100) {
        let (s, b) = http(
            port,
            "POST",
            "/notifications",
            Some(&bearer()),
            &format!("[{}]", chunk.join(",")),
        );
        assert_eq!(s, 201, "{b}");
    }
}

fn root_of(note: &str, vkey: &Verifier) -> (u64, [u8; 32]) {
    let cp = open_checkpoint(note, vkey, &[])
        .expect("verifies")
        .into_checkpoint();
    (cp.size, cp.hash)
}

/// The US and Russian nodes (seeds 1 and 2), each mirroring the other,
/// served on loopback on a simulated clock.
struct Pair {
    rt: tokio::runtime::Runtime,
    us_dir: tempfile::TempDir,
    ru_dir: tempfile::TempDir,
    pu: u16,
    pr: u16,
    us_v: Verifier,
    ru_v: Verifier,
    clock: Clock,
    a: Running,
    b: Running,
}

fn pair(on: &str) -> Pair {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (us_dir, ru_dir) = (
        tempfile::tempdir().expect("t"),
        tempfile::tempdir().expect("t"),
    );
    let ((lu, pu), (lr, pr)) = (bind(), bind());
    let clock = Clock::fixed(date(on));
    let (us_v, ru_v) = (signer("US", 1).verifier(), signer("RU", 2).verifier());
    let us = node(
        us_dir.path(),
        "US",
        1,
        Some(("RU", pr, ru_v.clone())),
        vec![],
        &clock,
    );
    let ru = node(
        ru_dir.path(),
        "RU",
        2,
        Some(("US", pu, us_v.clone())),
        vec![],
        &clock,
    );
    let (a, b) = (serve(&rt, us, lu), serve(&rt, ru, lr));
    Pair {
        rt,
        us_dir,
        ru_dir,
        pu,
        pr,
        us_v,
        ru_v,
        clock,
        a,
        b,
    }
}

#[test]
fn two_nodes_mirror_each_other_witness_and_receipt_every_batch() {
    let Pair {
        rt,
        us_dir: _us_dir,
        ru_dir,
        pu,
        pr,
        us_v,
        ru_v,
        clock,
        a,
        b,
    } = pair("2021-03-02");
    let on = "2021-03-01";
    let (s, body) = http(
        pu,
        "POST",
        "/notifications",
        Some(&bearer()),
        &facility("US", 1, "US-BASE", on),
    );
    assert_eq!(s, 201, "{body}");
    let (s, body) = http(
        pr,
        "POST",
        "/notifications",
        Some(&bearer()),
        &facility("RU", 1, "RU-BASE", on),
    );
    assert_eq!(s, 201, "{body}");
    post_silos(pu, "US", 2, 700, on);
    post_silos(pr, "RU", 2, 300, on);
    until("both mirrors converge", || {
        let (u, r) = (status(pu, on), status(pr, on));
        r["peers"][0]["tree_size"] == 701 && u["peers"][0]["tree_size"] == 301
    });
    // The mirror's signed checkpoint is the peer's own, root for root.
    let (u, r) = (status(pu, on), status(pr, on));
    let mirrored = r["peers"][0]["checkpoint"].as_str().expect("note");
    let own = u["checkpoint"].as_str().expect("note");
    assert_eq!(root_of(mirrored, &us_v), root_of(own, &us_v));
    assert_eq!(r["peers"][0]["flagged"], false);
    // The mirror's registry folds to the same aggregates as the peer's own.
    assert_eq!(
        r["peers"][0]["compliance"]["deployed_and_nondeployed_launchers"],
        u["compliance"]["deployed_and_nondeployed_launchers"]
    );
    assert_eq!(u["compliance"]["deployed_and_nondeployed_launchers"], 700);
    assert_eq!(
        u["peers"][0]["compliance"]["deployed_and_nondeployed_launchers"],
        300
    );
    // Receipts: contiguous from 0 to 701, in a log signed by Russia's key.
    let (s, body) = http(pr, "GET", "/receipts?limit=1000", Some(&bearer()), "");
    assert_eq!(s, 200, "{body}");
    let rec: Value = serde_json::from_str(&body).expect("json");
    let mut ranges: Vec<(u64, u64)> = rec["receipts"]
        .as_array()
        .expect("receipts")
        .iter()
        .map(|x| {
            (
                x["receipt"]["first"].as_u64().expect("first"),
                x["receipt"]["end"].as_u64().expect("end"),
            )
        })
        .collect();
    ranges.sort_unstable();
    assert_eq!(ranges.first().map(|r| r.0), Some(0));
    assert!(ranges.windows(2).all(|w| w[0].1 == w[1].0), "{ranges:?}");
    assert_eq!(ranges.last().map(|r| r.1), Some(701));
    let rnote = rec["checkpoint"].as_str().expect("receipts checkpoint");
    assert!(rnote.starts_with("accord/new-start-2021/RU/receipts\n"));
    open_checkpoint(rnote, &ru_v, &[]).expect("the receipts log is signed by Russia");
    // Nothing was late on 2 March (due by 6 March).
    assert_eq!(r["peers"][0]["late_deliveries"], 0);
    // Each node cosigned the other's checkpoint; it is served with it.
    until("Russia's cosignature on the US checkpoint", || {
        let (_, note) = http(pu, "GET", "/checkpoint", None, "");
        note.contains("\u{2014} accord/witness/RU ")
            && note.starts_with("accord/new-start-2021/US\n701\n")
    });
    let (_, note) = http(pu, "GET", "/checkpoint", None, "");
    let ru_w = witness_signer("RU", 102).cosigner_verifier();
    let vc = open_checkpoint(&note, &us_v, &[ru_w]).expect("verifies");
    assert_eq!(vc.cosigned_by().len(), 1);
    // Delivered late: Russia's clock says 1 April; these were due by 14 March.
    clock.set(date("2021-04-01"));
    post_silos(pu, "US", 702, 5, "2021-03-09");
    until("late deliveries are findings", || {
        status(pr, "2021-04-01")["peers"][0]["late_deliveries"] == 5
    });
    let r = status(pr, "2021-04-01");
    let late: Vec<&Value> = r["peers"][0]["compliance"]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "late_delivery")
        .collect();
    assert_eq!(late.len(), 5);
    assert!(late[0]["message"]
        .as_str()
        .expect("message")
        .contains("was due by 2021-03-14 and reached this node on 2021-04-01"));
    halt(&rt, a);
    halt(&rt, b);
    // Restarted, the late findings come back from the signed receipts.
    let (lr, pr2) = bind();
    let ru = node(
        ru_dir.path(),
        "RU",
        2,
        Some(("US", pu, us_v)),
        vec![],
        &clock,
    );
    let b = serve(&rt, ru, lr);
    let r = status(pr2, "2021-04-01");
    assert_eq!(r["peers"][0]["late_deliveries"], 5);
    assert_eq!(r["peers"][0]["tree_size"], 706);
    halt(&rt, b);
}

/// Reads of entries need an operator or reader token, or the peer's
/// signature over this very request, made in the last five minutes.
#[test]
fn peer_reads_need_the_peer_key_on_this_request() {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let dir = tempfile::tempdir().expect("t");
    let (l, port) = bind();
    let clock = Clock::fixed(date("2021-03-02"));
    let ru = signer("RU", 2);
    let us = node(
        dir.path(),
        "US",
        1,
        Some(("RU", 9, ru.verifier())),
        vec![],
        &clock,
    );
    let run = serve(&rt, us, l);
    let (s, _) = http(
        port,
        "POST",
        "/notifications",
        Some(&bearer()),
        &facility("US", 1, "US-BASE", "2021-03-01"),
    );
    assert_eq!(s, 201);
    let path = "/tile/entries/000.p/1";
    assert_eq!(http(port, "GET", path, None, "").0, 401);
    let host = format!("127.0.0.1:{port}");
    let host_s: &str = &host;
    let at = |path: &'static str, method: &'static str| PeerTarget {
        origin: "accord/new-start-2021/US",
        key: "plaintext",
        host: host_s,
        method,
        path,
    };
    let now = accord_node::exchange::unix_now();
    let sign = |s: &Signer, t: PeerTarget<'_>, ts: u64, nonce: &str| {
        accord_node::exchange::peer_authorization(s, &t, ts, nonce)
    };
    let good = sign(
        &ru,
        at(path, "GET"),
        now,
        "0123456789abcdef0123456789abcdef",
    );
    assert_eq!(http(port, "GET", path, Some(&good), "").0, 200);
    // The same signed request again: its nonce was seen.
    let (s, b) = http(port, "GET", path, Some(&good), "");
    assert_eq!(s, 403, "{b}");
    assert!(b.contains("replayed"), "{b}");
    // On another path, or signed long ago, or by another key.
    let other = sign(
        &ru,
        at(path, "GET"),
        now,
        "1123456789abcdef0123456789abcdef",
    );
    let (s, b) = http(port, "GET", "/tile/0/000.p/1", Some(&other), "");
    assert_eq!(s, 403, "{b}");
    let stale = sign(
        &ru,
        at(path, "GET"),
        now - 600,
        "2123456789abcdef0123456789abcdef",
    );
    assert_eq!(http(port, "GET", path, Some(&stale), "").0, 403);
    let stranger = signer("RU", 9);
    let forged = sign(
        &stranger,
        at(path, "GET"),
        now,
        "3123456789abcdef0123456789abcdef",
    );
    assert_eq!(http(port, "GET", path, Some(&forged), "").0, 403);
    // The peer's key reads; it never writes.
    let sig = sign(
        &ru,
        at("/notifications", "POST"),
        now,
        "4123456789abcdef0123456789abcdef",
    );
    assert_eq!(
        http(
            port,
            "POST",
            "/notifications",
            Some(&sig),
            &facility("US", 2, "US-B2", "2021-03-01")
        )
        .0,
        401
    );
    halt(&rt, run);
}

/// A peer that signs a checkpoint which does not extend the one it signed
/// before is flagged, with both signed notes and the failing proof as
/// evidence, and nothing of the new history is applied.
#[test]
fn detects_split_view() {
    let Pair {
        rt,
        us_dir: _honest,
        ru_dir,
        pu,
        pr,
        us_v,
        ru_v,
        clock,
        a,
        b,
    } = pair("2021-03-02");
    let forked = tempfile::tempdir().expect("t");
    let on = "2021-03-01";
    http(
        pu,
        "POST",
        "/notifications",
        Some(&bearer()),
        &facility("US", 1, "US-BASE", on),
    );
    post_silos(pu, "US", 2, 9, on);
    until("Russia mirrors 10", || {
        status(pr, on)["peers"][0]["tree_size"] == 10
    });
    halt(&rt, a);
    // The same key, another history: a different 10th entry, then more.
    let us2 = node(
        forked.path(),
        "US",
        1,
        Some(("RU", pr, ru_v.clone())),
        vec![],
        &clock,
    );
    let l2 = std::net::TcpListener::bind(("127.0.0.1", pu)).expect("rebind the US port");
    let a2 = serve(&rt, us2, l2);
    http(
        pu,
        "POST",
        "/notifications",
        Some(&bearer()),
        &facility("US", 1, "US-BASE", on),
    );
    post_silos(pu, "US", 2, 8, on);
    post_silos(pu, "US", 50, 4, on);
    until("Russia flags the United States", || {
        status(pr, on)["peers"][0]["flagged"] == true
    });
    let r = status(pr, on);
    let p = &r["peers"][0];
    assert_eq!(p["tree_size"], 10, "nothing of the fork is applied");
    let ev = &p["evidence"][0];
    assert_eq!(ev["kind"], "split_view");
    let evidence: accord_log::Evidence =
        serde_json::from_value(ev["evidence"].clone()).expect("evidence");
    let verdict = evidence.verify(&us_v).expect("checkable");
    assert!(verdict.both_signed && verdict.proof_fails, "{verdict:?}");
    assert!(p["link"]["last_error"]
        .as_str()
        .expect("error")
        .contains("inconsistent"));
    // Kept once, on disk, however often the loop retries.
    std::thread::sleep(Duration::from_millis(300));
    let text =
        std::fs::read_to_string(ru_dir.path().join("peers/US/evidence.jsonl")).expect("kept");
    assert_eq!(text.lines().count(), 1);
    halt(&rt, a2);
    halt(&rt, b);
    let _ = ru_v;
}

/// A peer whose log holds an entry that is not one of its own valid
/// notifications (here: one of Russia's, under the US key) is flagged and
/// nothing of the batch is applied.
#[test]
fn rejects_a_logged_entry_that_is_not_the_peers_notification() {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (us_dir, ru_dir) = (
        tempfile::tempdir().expect("t"),
        tempfile::tempdir().expect("t"),
    );
    let ((lu, pu), (lr, pr)) = (bind(), bind());
    let clock = Clock::fixed(date("2021-03-02"));
    let us_s = signer("US", 1);
    let us_v = us_s.verifier();
    // Forge the US log directly: a valid entry, then Russia's notification.
    {
        let mut log =
            LogStore::init(&us_dir.path().join("log.sqlite"), us_s.name(), &us_v).expect("log");
        let entries: Vec<Vec<u8>> = [
            facility("US", 1, "US-BASE", "2021-03-01"),
            facility("RU", 7, "RU-BASE", "2021-03-01"),
        ]
        .iter()
        .map(|e| canonical_entry(e).expect("canonical"))
        .collect();
        log.append(&entries).expect("append");
        log.checkpoint(&us_s).expect("sign");
    }
    let treaty = Treaty::load("new-start-2021").expect("treaty");
    let registry = Store::create(
        &us_dir.path().join("registry"),
        Meta {
            party: "US".into(),
            treaty: treaty.id.clone(),
            synthetic: true,
            provenance: "forged".into(),
        },
    )
    .expect("registry");
    let log = LogStore::open(&us_dir.path().join("log.sqlite")).expect("log");
    // (It lets Russia read with its key, as an honest node would.)
    let forged = Arc::new(
        Node::new(log, registry, treaty, us_s, None, vec![TOKEN.into()])
            .with_exchange(ExchangeConfig {
                dir: us_dir.path().to_path_buf(),
                peers: vec![PeerConfig {
                    party: "RU".into(),
                    url: "http://127.0.0.1:9".into(),
                    vkey: signer("RU", 2).verifier(),
                    witness_vkey: None,
                    tls_pin: None,
                }],
                witnesses: vec![],
                interval: Duration::from_secs(60),
            })
            .expect("exchange"),
    );
    let ru = node(
        ru_dir.path(),
        "RU",
        2,
        Some(("US", pu, us_v)),
        vec![],
        &clock,
    );
    let (a, b) = (serve(&rt, forged, lu), serve(&rt, ru, lr));
    until("Russia flags the entry", || {
        status(pr, "2021-03-02")["peers"][0]["flagged"] == true
    });
    let p = &status(pr, "2021-03-02")["peers"][0];
    assert_eq!(p["tree_size"], 0, "the whole batch is refused");
    assert_eq!(p["evidence"][0]["kind"], "invalid_entry");
    assert_eq!(p["evidence"][0]["index"], 1);
    assert!(p["evidence"][0]["reason"]
        .as_str()
        .expect("reason")
        .contains("a notification of RU, not US"));
    halt(&rt, a);
    halt(&rt, b);
}

/// A link that alters entry bundles in transit (the checkpoint and proofs
/// intact) is caught: the entries do not make the signed tree.
#[test]
fn rejects_tiles_that_do_not_make_the_signed_tree() {
    use axum::body::Body;
    use axum::extract::{Request, State};
    use axum::response::{IntoResponse, Response};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (us_dir, ru_dir) = (
        tempfile::tempdir().expect("t"),
        tempfile::tempdir().expect("t"),
    );
    let ((lu, pu), (lr, pr)) = (bind(), bind());
    let clock = Clock::fixed(date("2021-03-02"));
    let ru_v = signer("RU", 2).verifier();
    let us_v = signer("US", 1).verifier();
    let us = node(
        us_dir.path(),
        "US",
        1,
        Some(("RU", 9, ru_v)),
        vec![],
        &clock,
    );
    // The tampering link: every entry bundle gets its last byte changed.
    async fn tamper(State(real): State<axum::Router>, req: Request) -> Response {
        // A fresh request (the proxy's own path parameters stay behind).
        let (parts, body) = req.into_parts();
        let mut fresh = Request::new(body);
        *fresh.method_mut() = parts.method;
        *fresh.uri_mut() = parts.uri;
        *fresh.headers_mut() = parts.headers;
        let resp = real.oneshot(fresh).await.expect("infallible");
        let (parts, body) = resp.into_parts();
        let mut bytes = body.collect().await.expect("body").to_bytes().to_vec();
        if let Some(b) = bytes.last_mut() {
            *b = if *b == b'}' { b' ' } else { b'}' };
        }
        Response::from_parts(parts, Body::from(bytes)).into_response()
    }
    let real = accord_node::router(us.clone());
    let app = axum::Router::new()
        .route("/tile/entries/{*p}", axum::routing::get(tamper))
        .with_state(real.clone())
        .fallback_service(real);
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let proxy = rt.spawn(async move {
        lu.set_nonblocking(true).expect("nb");
        let l = tokio::net::TcpListener::from_std(lu).expect("l");
        axum::serve(l, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    let ru = node(
        ru_dir.path(),
        "RU",
        2,
        Some(("US", pu, us_v)),
        vec![],
        &clock,
    );
    let b = serve(&rt, ru, lr);
    http(
        pu,
        "POST",
        "/notifications",
        Some(&bearer()),
        &facility("US", 1, "US-BASE", "2021-03-01"),
    );
    until("Russia flags the link", || {
        status(pr, "2021-03-02")["peers"][0]["flagged"] == true
    });
    let p = &status(pr, "2021-03-02")["peers"][0];
    assert_eq!(p["tree_size"], 0);
    assert_eq!(p["evidence"][0]["kind"], "bad_entries");
    let _ = stop.send(());
    rt.block_on(proxy).expect("join").expect("served");
    halt(&rt, b);
}

/// A peer that is down is retried with growing delays; when it comes up
/// the mirror converges.
#[test]
fn a_peer_that_is_down_is_retried_with_backoff_then_converges() {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (us_dir, ru_dir) = (
        tempfile::tempdir().expect("t"),
        tempfile::tempdir().expect("t"),
    );
    let ((lu, pu), (lr, pr)) = (bind(), bind());
    drop(lu); // The US node is not up yet.
    let clock = Clock::fixed(date("2021-03-02"));
    let (us_v, ru_v) = (signer("US", 1).verifier(), signer("RU", 2).verifier());
    let ru = node(
        ru_dir.path(),
        "RU",
        2,
        Some(("US", pu, us_v)),
        vec![],
        &clock,
    );
    let b = serve(&rt, ru, lr);
    until("failures pile up", || {
        status(pr, "2021-03-02")["peers"][0]["link"]["failures"].as_u64() >= Some(3)
    });
    let st = status(pr, "2021-03-02");
    let link = &st["peers"][0]["link"];
    assert!(
        link["retry_in_ms"].as_u64().expect("retry") >= 200,
        "{link}"
    );
    assert!(link["last_error"]
        .as_str()
        .expect("err")
        .contains("unreachable"));
    let l = std::net::TcpListener::bind(("127.0.0.1", pu)).expect("bind");
    let us = node(
        us_dir.path(),
        "US",
        1,
        Some(("RU", pr, ru_v)),
        vec![],
        &clock,
    );
    let a = serve(&rt, us, l);
    http(
        pu,
        "POST",
        "/notifications",
        Some(&bearer()),
        &facility("US", 1, "US-BASE", "2021-03-01"),
    );
    post_silos(pu, "US", 2, 50, "2021-03-01");
    // The mirror grows before the pull that grew it is counted a success:
    // wait for both (the failures must come back to 0 once it converges).
    until("the mirror converges and its link recovers", || {
        let st = status(pr, "2021-03-02");
        st["peers"][0]["tree_size"] == 51 && st["peers"][0]["link"]["failures"] == 0
    });
    assert_eq!(status(pr, "2021-03-02")["peers"][0]["tree_size"], 51);
    halt(&rt, a);
    halt(&rt, b);
}

/// Inspections go to the inspected party's registry (the mirror, for a
/// peer): their findings join its compliance, and they count against the
/// inspecting party's quota. Replays and impossible records are refused.
#[test]
fn inspections_of_a_peer_count_against_the_quota_and_raise_findings() {
    let Pair {
        rt,
        us_dir: _us_dir,
        ru_dir: _ru_dir,
        pu,
        pr,
        a,
        b,
        ..
    } = pair("2021-03-02");
    let ru_year = r#"[
      {"party":"RU","number":1,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"facility_declared","facility":"RU-UZHUR","facility_kind":"icbm_base","name":"Uzhur"}},
      {"party":"RU","number":2,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"accountability_entry","item":"RU-L1","item_kind":"icbm_launcher","item_type":"icbm-silo-ru","facility":"RU-UZHUR","status":"non_deployed"}},
      {"party":"RU","number":3,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"accountability_entry","item":"RU-M1","item_kind":"icbm","item_type":"r-36m2","facility":"RU-UZHUR","status":"non_deployed"}},
      {"party":"RU","number":4,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"deployment","item":"RU-M1","launcher":"RU-L1","reentry_vehicles":4}}
    ]"#;
    let (s, body) = http(pr, "POST", "/notifications", Some(&bearer()), ru_year);
    assert_eq!(s, 201, "{body}");
    until("the US mirrors Russia", || {
        status(pu, "2021-03-02")["peers"][0]["tree_size"] == 4
    });
    let record = |id: &str, found: u32| {
        format!(
            r#"{{"record":"inspection","id":"{id}","inspecting_party":"US","inspected_party":"RU","inspection_type":"type_one","site":"RU-UZHUR","announced":"2021-03-02","date":"2021-03-02","items_selected":["RU-M1"],"results":[{{"item":"RU-M1","declared_status":"deployed","found_status":"deployed","declared_reentry_vehicles":4,"found_reentry_vehicles":{found}}}],"undeclared_items":0,"ambiguities":[]}}"#
        )
    };
    let (s, body) = http(
        pu,
        "POST",
        "/inspections",
        Some(&bearer()),
        &record("US-T1-01", 5),
    );
    assert_eq!(s, 201, "{body}");
    let (s, body) = http(
        pu,
        "POST",
        "/inspections",
        Some(&bearer()),
        &record("US-T1-01", 5),
    );
    assert_eq!(s, 409, "a replay: {body}");
    let bad = record("US-T1-02", 4).replace("\"site\"", "\"sight\"");
    let (s, body) = http(pu, "POST", "/inspections", Some(&bearer()), &bad);
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("\"field\":\"sight\""), "{body}");
    let early = record("US-T1-03", 4).replace("2021-03-02", "2010-01-01");
    let (s, body) = http(pu, "POST", "/inspections", Some(&bearer()), &early);
    assert_eq!(s, 422, "before entry into force: {body}");
    let st = status(pu, "2021-03-02");
    let ru_findings: Vec<&str> = st["peers"][0]["compliance"]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert_eq!(ru_findings, vec!["reentry_vehicle_discrepancy"]);
    // New START's 11th treaty year: 5 Feb 2021 to 4 Feb 2022.
    assert_eq!(st["quota"]["treaty_year"], 11);
    assert_eq!(st["quota"]["from"], "2021-02-05");
    assert_eq!(st["quota"]["to"], "2022-02-04");
    let us_t1 = &st["quota"]["parties"][0];
    assert_eq!(us_t1["inspecting_party"], "US");
    assert_eq!(us_t1["types"][0]["type"], "type_one");
    assert_eq!(us_t1["types"][0]["used"], 1);
    assert_eq!(us_t1["types"][0]["quota"], 10);
    assert_eq!(st["quota"]["parties"][1]["types"][0]["used"], 0);
    halt(&rt, a);
    halt(&rt, b);
}

/// The proofs the node serves verify against its signed checkpoints.
#[test]
fn served_proofs_verify_against_the_signed_roots() {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let dir = tempfile::tempdir().expect("t");
    let (l, port) = bind();
    let clock = Clock::fixed(date("2021-03-02"));
    let us = node(dir.path(), "US", 1, None, vec![], &clock);
    let run = serve(&rt, us, l);
    let v = signer("US", 1).verifier();
    http(
        port,
        "POST",
        "/notifications",
        Some(&bearer()),
        &facility("US", 1, "US-BASE", "2021-03-01"),
    );
    post_silos(port, "US", 2, 6, "2021-03-01");
    let (size7, root7) = root_of(&http(port, "GET", "/checkpoint", None, "").1, &v);
    post_silos(port, "US", 8, 13, "2021-03-01");
    let (size20, root20) = root_of(&http(port, "GET", "/checkpoint", None, "").1, &v);
    assert_eq!((size7, size20), (7, 20));
    let (s, body) = http(
        port,
        "GET",
        "/proof/consistency?old=7&new=20",
        Some(&bearer()),
        "",
    );
    assert_eq!(s, 200, "{body}");
    let p: accord_log::witness::ConsistencyProofJson = serde_json::from_str(&body).expect("json");
    let hashes = accord_log::witness::decode_hashes(&p.hashes).expect("hashes");
    accord_log::merkle::verify_consistency(7, 20, &root7, &root20, &hashes).expect("consistent");
    let (s, body) = http(
        port,
        "GET",
        "/proof/inclusion?index=3&size=20",
        Some(&bearer()),
        "",
    );
    assert_eq!(s, 200, "{body}");
    let p: accord_log::witness::InclusionProofJson = serde_json::from_str(&body).expect("json");
    let hashes = accord_log::witness::decode_hashes(&p.hashes).expect("hashes");
    let entry = canonical_entry(&silo("US", 4, "US-BASE", "2021-03-01")).expect("entry");
    accord_log::merkle::verify_inclusion(
        3,
        20,
        &accord_log::merkle::leaf_hash(&entry),
        &hashes,
        &root20,
    )
    .expect("included");
    let (s, body) = http(
        port,
        "GET",
        "/proof/consistency?old=7&new=21",
        Some(&bearer()),
        "",
    );
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("\"field\":\"new\""), "{body}");
    halt(&rt, run);
}

/// A party's node under the hypothetical trilateral treaty, mirroring every
/// other party.
fn tri_node(
    dir: &Path,
    party: &str,
    seed: u8,
    peers: &[(&str, u16, u8)],
    clock: &Clock,
) -> Arc<Node> {
    let treaty = Treaty::load("trilateral").expect("treaty");
    let name = |p: &str, s: u8| {
        Signer::from_seed(&format!("accord/trilateral/{p}"), [s; 32]).expect("signer")
    };
    let s = name(party, seed);
    let log = LogStore::init(&dir.join("log.sqlite"), s.name(), &s.verifier()).expect("log");
    let registry = Store::create(
        &dir.join("registry"),
        Meta {
            party: party.into(),
            treaty: treaty.id.clone(),
            synthetic: true,
            provenance: "test".into(),
        },
    )
    .expect("registry");
    let peers = peers
        .iter()
        .map(|(p, port, sd)| PeerConfig {
            party: (*p).into(),
            url: format!("http://127.0.0.1:{port}"),
            vkey: name(p, *sd).verifier(),
            witness_vkey: None,
            tls_pin: None,
        })
        .collect();
    Arc::new(
        Node::new(log, registry, treaty, s, None, vec![TOKEN.into()])
            .with_clock(clock.clone())
            .with_exchange(ExchangeConfig {
                dir: dir.to_path_buf(),
                peers,
                witnesses: vec![],
                interval: Duration::from_millis(50),
            })
            .expect("exchange"),
    )
}

/// Three parties (the US, Russia and China under the trilateral treaty):
/// each node mirrors both others, and every status shows all three.
#[test]
fn three_parties_mirror_each_other() {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("t")).collect();
    let binds: Vec<(std::net::TcpListener, u16)> = (0..3).map(|_| bind()).collect();
    let ports: Vec<u16> = binds.iter().map(|b| b.1).collect();
    let parties = [("US", 1u8), ("RU", 2), ("CN", 3)];
    let clock = Clock::fixed(date("2026-03-02"));
    let mut running = vec![];
    for ((i, (party, seed)), (l, _)) in parties.iter().enumerate().zip(binds) {
        let peers: Vec<(&str, u16, u8)> = parties
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, (p, s))| (*p, ports[j], *s))
            .collect();
        let n = tri_node(dirs[i].path(), party, *seed, &peers, &clock);
        running.push(serve(&rt, n, l));
    }
    let on = "2026-03-01";
    for (i, (party, _)) in parties.iter().enumerate() {
        let fac = format!("{party}-BASE");
        let (s, b) = http(
            ports[i],
            "POST",
            "/notifications",
            Some(&bearer()),
            &facility(party, 1, &fac, on),
        );
        assert_eq!(s, 201, "{b}");
    }
    // China's silos are its own type.
    let cn: Vec<String> = (2..12)
        .map(|n| {
            format!(
                r#"{{"party":"CN","number":{n},"date":"{on}","sent":"{on}","event":{{"kind":"accountability_entry","item":"CN-L{n:03}","item_kind":"icbm_launcher","item_type":"icbm-silo-cn","facility":"CN-BASE","status":"non_deployed"}}}}"#
            )
        })
        .collect();
    let (s, b) = http(
        ports[2],
        "POST",
        "/notifications",
        Some(&bearer()),
        &format!("[{}]", cn.join(",")),
    );
    assert_eq!(s, 201, "{b}");
    post_silos(ports[0], "US", 2, 5, on);
    until("every node mirrors both others", || {
        (0..3).all(|i| {
            let st = status(ports[i], "2026-03-02");
            st["peers"].as_array().is_some_and(|ps| {
                ps.len() == 2
                    && ps.iter().all(|p| {
                        let want = match p["party"].as_str() {
                            Some("US") => 6,
                            Some("CN") => 11,
                            _ => 1,
                        };
                        p["tree_size"] == want
                    })
            })
        })
    });
    let st = status(ports[0], "2026-03-02");
    let cn = st["peers"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["party"] == "CN"))
        .expect("China's mirror");
    assert_eq!(cn["compliance"]["deployed_and_nondeployed_launchers"], 10);
    assert_eq!(cn["compliance"]["treaty"], "trilateral");
    let inspecting: Vec<&str> = st["quota"]["parties"]
        .as_array()
        .expect("quota")
        .iter()
        .filter_map(|p| p["inspecting_party"].as_str())
        .collect();
    assert_eq!(inspecting, ["US", "RU", "CN"]);
    for r in running {
        halt(&rt, r);
    }
}
