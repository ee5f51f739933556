//! The node's HTTP API, called through the router (no server, no network).

use accord_log::{open_checkpoint, LogStore, Signer, Witness};
use accord_node::{router, Node, MAX_BODY};
use accord_registry::{Meta, Store};
use accord_treaty::Treaty;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::Arc;
use tower::ServiceExt;

const TOKEN: &str = "op-secret-token";
/// A reader token: the other party's or an observer's.
const READER: &str = "peer-reader-token";

struct Fixture {
    _dir: tempfile::TempDir,
    node: Arc<Node>,
    log_path: std::path::PathBuf,
    signer_seed: [u8; 32],
}

fn fixture(with_witness: Option<&Signer>) -> Fixture {
    let dir = tempfile::tempdir().expect("tmp");
    let treaty = Treaty::load("new-start-2021").expect("treaty");
    let seed = [7u8; 32];
    let signer = Signer::from_seed("accord/new-start-2021/US", seed).expect("key");
    let log_path = dir.path().join("log.sqlite");
    let log =
        LogStore::init(&log_path, "accord/new-start-2021/US", &signer.verifier()).expect("log");
    let reg = Store::create(
        &dir.path().join("reg"),
        Meta {
            party: "US".into(),
            treaty: treaty.id.clone(),
            synthetic: false,
            provenance: "test".into(),
        },
    )
    .expect("registry");
    let witness = with_witness.map(|log_signer| {
        let w = Witness::open(
            &dir.path().join("w.sqlite"),
            Signer::from_seed("w.example/1", [9u8; 32]).expect("key"),
        )
        .expect("w");
        w.add_log(log_signer.name(), &log_signer.verifier())
            .expect("follow");
        w
    });
    let node = Arc::new(
        Node::new(log, reg, treaty, signer, witness, vec![TOKEN.into()])
            .with_readers(vec![READER.into()]),
    );
    Fixture {
        _dir: dir,
        node,
        log_path,
        signer_seed: seed,
    }
}

async fn send(node: &Arc<Node>, req: Request<Body>) -> (StatusCode, String) {
    let resp = router(node.clone()).oneshot(req).await.expect("response");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).to_string())
}

fn post(path: &str, token: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::post(path).header("content-type", "application/json");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.body(body.into()).expect("request")
}

fn facility(number: u64) -> String {
    format!(
        r#"{{"party":"US","number":{number},"date":"2020-09-01","sent":"2020-09-01","event":{{"kind":"facility_declared","facility":"US-MALMSTROM","facility_kind":"icbm_base","name":"Malmstrom AFB"}}}}"#
    )
}

fn silo(number: u64, id: &str) -> String {
    format!(
        r#"{{"party":"US","number":{number},"date":"2020-09-01","sent":"2020-09-02","event":{{"kind":"accountability_entry","item":"{id}","item_kind":"icbm_launcher","item_type":"minuteman-iii-silo","facility":"US-MALMSTROM","status":"non_deployed"}}}}"#
    )
}

fn log_size(f: &Fixture) -> u64 {
    // A second connection sees what the node committed.
    LogStore::open(&f.log_path).expect("open").size()
}

#[tokio::test]
async fn accepts_notifications_logging_them_before_acknowledging() {
    let f = fixture(None);
    let (s, body) = send(
        &f.node,
        post(
            "/notifications",
            Some(TOKEN),
            format!("[{},{}]", facility(1), silo(2, "S1")),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["indexes"], serde_json::json!([0, 1]));
    assert_eq!(log_size(&f), 2);
    let (s, note) = send(
        &f.node,
        Request::get("/checkpoint")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let signer = Signer::from_seed("accord/new-start-2021/US", f.signer_seed).expect("key");
    let cp = open_checkpoint(&note, &signer.verifier(), &[])
        .expect("a verifiable checkpoint")
        .into_checkpoint();
    assert_eq!(cp.size, 2);
    let (s, status) = send(
        &f.node,
        Request::get("/status?date=2020-09-01")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let st: serde_json::Value = serde_json::from_str(&status).expect("json");
    assert_eq!(st["tree_size"], 2);
    assert_eq!(st["compliance"]["deployed_and_nondeployed_launchers"], 1);
}

#[tokio::test]
async fn refuses_unauthenticated_and_wrong_party_writes() {
    let f = fixture(None);
    assert_eq!(
        send(&f.node, post("/notifications", None, facility(1)))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&f.node, post("/notifications", Some("guess"), facility(1)))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let ru = facility(1).replace("\"party\":\"US\"", "\"party\":\"RU\"");
    let (s, body) = send(&f.node, post("/notifications", Some(TOKEN), ru)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(log_size(&f), 0, "nothing stored");
}

#[tokio::test]
async fn malformed_input_is_a_400_naming_the_field_and_stores_nothing() {
    let f = fixture(None);
    let (s, body) = send(&f.node, post("/notifications", Some(TOKEN), "{not json")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let missing = facility(1).replace("\"name\":\"Malmstrom AFB\"", "\"nom\":\"x\"");
    let (s, body) = send(&f.node, post("/notifications", Some(TOKEN), missing)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let e: serde_json::Value = serde_json::from_str(&body).expect("json error body");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nom")),
        "{body}"
    );
    assert_eq!(log_size(&f), 0);
}

#[tokio::test]
async fn replayed_and_impossible_notifications_store_nothing() {
    let f = fixture(None);
    assert_eq!(
        send(&f.node, post("/notifications", Some(TOKEN), facility(1)))
            .await
            .0,
        StatusCode::CREATED
    );
    let (s, body) = send(&f.node, post("/notifications", Some(TOKEN), facility(1))).await;
    assert_eq!(s, StatusCode::CONFLICT, "a replayed number: {body}");
    let unknown = r#"{"party":"US","number":5,"date":"2020-09-03","sent":"2020-09-03","event":{"kind":"removal_from_deployment","item":"NOPE"}}"#;
    let (s, body) = send(&f.node, post("/notifications", Some(TOKEN), unknown)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("never entered accountability"), "{body}");
    let outside = facility(6).replace("2020-09-01", "2027-01-01");
    assert_eq!(
        send(&f.node, post("/notifications", Some(TOKEN), outside))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(log_size(&f), 1, "only the first was stored");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let f = fixture(None);
    let big = format!("[{}]", vec![facility(1); MAX_BODY / 100].join(","));
    assert!(big.len() > MAX_BODY);
    assert_eq!(
        send(&f.node, post("/notifications", Some(TOKEN), big))
            .await
            .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(log_size(&f), 0);
}

#[tokio::test]
async fn add_checkpoint_follows_c2sp_tlog_witness() {
    // The node witnesses a log; a second log store plays the peer.
    let peer_signer = Signer::from_seed("accord/new-start-2021/RU", [3u8; 32]).expect("key");
    let f = fixture(Some(&peer_signer));
    let dir = tempfile::tempdir().expect("tmp");
    let mut peer = LogStore::init(
        &dir.path().join("ru.sqlite"),
        "accord/new-start-2021/RU",
        &peer_signer.verifier(),
    )
    .expect("log");
    peer.append(&[b"{\"a\":1}".to_vec(), b"{\"a\":2}".to_vec()])
        .expect("append");
    let cp2 = peer.checkpoint(&peer_signer).expect("sign");
    let req = |body: String| {
        Request::post("/add-checkpoint")
            .body(Body::from(body))
            .expect("req")
    };
    let (s, line) = send(&f.node, req(format!("old 0\n\n{cp2}"))).await;
    assert_eq!(s, StatusCode::OK, "{line}");
    assert!(line.starts_with("\u{2014} w.example/1 "), "{line}");
    // Stale old size: 409 with the latest size.
    let (s, body) = send(&f.node, req(format!("old 0\n\n{cp2}"))).await;
    assert_eq!((s, body.as_str()), (StatusCode::CONFLICT, "2\n"));
    // Old size above the checkpoint's: 400.
    assert_eq!(
        send(&f.node, req(format!("old 9\n\n{cp2}"))).await.0,
        StatusCode::BAD_REQUEST
    );
    // Unknown origin: 404. A forged signature: 403.
    let other = Signer::from_seed("accord/x/ZZ", [4u8; 32]).expect("k");
    let fake = other
        .sign("accord/x/ZZ\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
        .expect("sign");
    assert_eq!(
        send(&f.node, req(format!("old 0\n\n{fake}"))).await.0,
        StatusCode::NOT_FOUND
    );
    let forger = Signer::from_seed("accord/new-start-2021/RU", [5u8; 32]).expect("k");
    let forged = forger
        .sign(&accord_log::Note::parse(&cp2).expect("note").text)
        .expect("sign");
    assert_eq!(
        send(&f.node, req(format!("old 2\n\n{forged}"))).await.0,
        StatusCode::FORBIDDEN
    );
    // A fork: the same key signs another history of 3: the proof fails, 422.
    let mut fork = LogStore::init(
        &dir.path().join("fork.sqlite"),
        "accord/new-start-2021/RU",
        &peer_signer.verifier(),
    )
    .expect("log");
    fork.append(&[
        b"{\"a\":1}".to_vec(),
        b"{\"b\":2}".to_vec(),
        b"{\"a\":3}".to_vec(),
    ])
    .expect("append");
    let cp3 = fork.checkpoint(&peer_signer).expect("sign");
    let proof = fork.consistency_proof(2, 3).expect("proof");
    let lines: String = accord_log::witness::encode_hashes(&proof)
        .iter()
        .map(|h| format!("{h}\n"))
        .collect();
    assert_eq!(
        send(&f.node, req(format!("old 2\n{lines}\n{cp3}"))).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Malformed bodies: 400.
    assert_eq!(
        send(&f.node, req("nonsense".into())).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn openapi_documents_every_route() {
    let f = fixture(None);
    let (s, body) = send(
        &f.node,
        Request::get("/openapi.json")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        vec![
            "/",
            "/add-checkpoint",
            "/assets/{name}",
            "/checkpoint",
            "/exchange",
            "/history",
            "/inspections",
            "/keys",
            "/metrics",
            "/notifications",
            "/openapi.json",
            "/proof/consistency",
            "/proof/inclusion",
            "/receipts",
            "/status",
            "/tile/{path}",
            "/workbench/api/exchange",
            "/workbench/api/facilities",
            "/workbench/api/inspections",
            "/workbench/api/item",
            "/workbench/api/notifications",
            "/workbench/api/tile/{party}/{path}",
            "/workbench/{path}",
        ]
    );
    // Each documented path and method is routed (not a 404 or 405 from the router).
    for (path, method) in [
        ("/checkpoint", "GET"),
        ("/status", "GET"),
        ("/openapi.json", "GET"),
        ("/history", "GET"),
        ("/exchange", "GET"),
        ("/", "GET"),
    ] {
        let (s, _) = send(
            &f.node,
            Request::builder()
                .method(method)
                .uri(path)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{method} {path}");
    }
    // The feed is for operators only.
    let (s, _) = send(
        &f.node,
        Request::get("/notifications")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the feed needs a token");
    for (path, method) in [
        ("/proof/consistency?old=0&new=0", "GET"),
        ("/proof/inclusion?index=0&size=1", "GET"),
        ("/receipts", "GET"),
        ("/inspections", "POST"),
    ] {
        let (s, _) = send(
            &f.node,
            Request::builder()
                .method(method)
                .uri(path)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "{method} {path} needs credentials"
        );
    }
}

/// A node killed after logging but before its registry was written restarts
/// with log entries the registry lacks: `catch_up` applies them in order, and
/// a registry that is ahead of its log is refused rather than guessed at.
#[test]
fn restart_catches_the_registry_up_with_the_log() {
    let dir = tempfile::tempdir().expect("tmp");
    let treaty = Treaty::load("new-start-2021").expect("treaty");
    let signer = Signer::from_seed("accord/new-start-2021/US", [7u8; 32]).expect("key");
    let mut log = LogStore::init(
        &dir.path().join("log.sqlite"),
        "accord/new-start-2021/US",
        &signer.verifier(),
    )
    .expect("log");
    let meta = Meta {
        party: "US".into(),
        treaty: treaty.id.clone(),
        synthetic: false,
        provenance: "test".into(),
    };
    let mut reg = Store::create(&dir.path().join("reg"), meta.clone()).expect("registry");
    // Three notifications logged; the registry saw only the first.
    let texts = [
        facility(1),
        silo(2, "US-MAL-L0001"),
        silo(3, "US-MAL-L0002"),
    ];
    let entries: Vec<Vec<u8>> = texts
        .iter()
        .map(|t| {
            let n = accord_registry::notification::parse_one(t, "t").expect("parse");
            accord_log::canonical_entry(&n.to_json()).expect("canonical")
        })
        .collect();
    log.append(&entries).expect("append");
    let first = accord_registry::notification::parse_one(&texts[0], "t").expect("parse");
    reg.append(&treaty, &[("t".into(), first)]).expect("first");
    assert_eq!(
        accord_node::catch_up(&log, &mut reg, &treaty).expect("catch up"),
        2
    );
    assert_eq!(reg.len().expect("len"), 3);
    assert_eq!(reg.items().expect("items").len(), 2);
    // Level now: nothing more to do.
    assert_eq!(
        accord_node::catch_up(&log, &mut reg, &treaty).expect("again"),
        0
    );
    // A registry ahead of its log is a different record.
    let empty = LogStore::init(
        &dir.path().join("other.sqlite"),
        "accord/new-start-2021/US",
        &signer.verifier(),
    )
    .expect("log");
    let e = accord_node::catch_up(&empty, &mut reg, &treaty).expect_err("diverged");
    assert!(
        matches!(
            e,
            accord_node::StartError::Regime(accord_regime::RegimeError::Diverged {
                registry: 3,
                log: 0
            })
        ),
        "{e}"
    );
}

/// Concurrent requests share one log append (group commit). Replays and
/// another party's notifications mixed into the same group are refused one
/// by one; every good one is logged exactly once, at the index it was told.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_commit_refuses_the_bad_and_keeps_the_good() {
    let f = fixture(None);
    let (s, body) = send(&f.node, post("/notifications", Some(TOKEN), facility(1))).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let mut tasks = vec![];
    for k in 0..60u64 {
        let body = match k % 6 {
            // A replay: every one of these carries number 1000.
            0 => silo(1000, &format!("R{k}")),
            // Another party's notification.
            1 => silo(2000 + k, &format!("X{k}")).replace("\"party\":\"US\"", "\"party\":\"RU\""),
            _ => silo(2000 + k, &format!("G{k}")),
        };
        let node = f.node.clone();
        tasks.push(tokio::spawn(async move {
            let (s, b) = send(&node, post("/notifications", Some(TOKEN), body)).await;
            (k, s, b)
        }));
    }
    let mut created = 0;
    let mut indexes = std::collections::BTreeSet::new();
    let mut replays_accepted = 0;
    for t in tasks {
        let (k, s, b) = t.await.expect("task");
        match k % 6 {
            0 if s == StatusCode::CREATED => replays_accepted += 1,
            0 => assert_eq!(s, StatusCode::CONFLICT, "{b}"),
            1 => assert_eq!(s, StatusCode::FORBIDDEN, "{b}"),
            _ => assert_eq!(s, StatusCode::CREATED, "{b}"),
        }
        if s == StatusCode::CREATED {
            created += 1;
            let v: serde_json::Value = serde_json::from_str(&b).expect("json");
            assert!(indexes.insert(v["indexes"][0].as_u64().expect("index")));
        }
    }
    assert_eq!(replays_accepted, 1, "number 1000 is taken exactly once");
    assert_eq!(created, 40 + 1);
    assert_eq!(log_size(&f), 1 + 41);
    // The indexes handed out are exactly the log's, each once.
    assert_eq!(indexes, (1..42).collect());
    // And the registry took exactly the same.
    let (s, status) = send(
        &f.node,
        Request::get("/status?date=2020-09-02")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let st: serde_json::Value = serde_json::from_str(&status).expect("json");
    assert_eq!(st["compliance"]["deployed_and_nondeployed_launchers"], 41);
}

/// The feed, the history and the dashboard agree with what was posted.
#[tokio::test]
async fn feed_history_and_dashboard() {
    let f = fixture(None);
    let body = format!(
        "[{},{},{}]",
        facility(1),
        silo(2, "S1"),
        silo(3, "S2")
            .replace("2020-09-01", "2020-11-03")
            .replace("2020-09-02", "2020-11-04")
    );
    let (s, b) = send(&f.node, post("/notifications", Some(TOKEN), body)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let get = |uri: &str, token: Option<&str>| {
        let mut r = Request::get(uri);
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.body(Body::empty()).expect("req")
    };
    let (s, feed) = send(&f.node, get("/notifications?limit=2", Some(TOKEN))).await;
    assert_eq!(s, StatusCode::OK, "{feed}");
    let v: serde_json::Value = serde_json::from_str(&feed).expect("json");
    assert_eq!(v["tree_size"], 3);
    assert_eq!(v["entries"].as_array().expect("entries").len(), 2);
    assert_eq!(v["entries"][0]["index"], 2, "newest first");
    assert_eq!(v["entries"][0]["notification"]["number"], 3);
    let (s, _) = send(&f.node, get("/notifications", Some("wrong-token"))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, hist) = send(&f.node, get("/history?to=2020-12-15", None)).await;
    assert_eq!(s, StatusCode::OK, "{hist}");
    let h: serde_json::Value = serde_json::from_str(&hist).expect("json");
    let points = h["points"].as_array().expect("points");
    let dates: Vec<&str> = points
        .iter()
        .map(|p| p["date"].as_str().expect("date"))
        .collect();
    assert_eq!(
        dates,
        vec![
            "2020-09-01",
            "2020-10-01",
            "2020-11-01",
            "2020-12-01",
            "2020-12-15"
        ]
    );
    let launchers: Vec<u64> = points
        .iter()
        .map(|p| {
            p["values"]["deployed_and_nondeployed_launchers"]
                .as_u64()
                .expect("n")
        })
        .collect();
    assert_eq!(launchers, vec![1, 1, 1, 2, 2]);
    assert_eq!(h["limits"].as_array().expect("limits").len(), 3);
    let (s, page) = send(&f.node, get("/", None)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"tree-size\""));
    // Self-contained: no external scripts, styles or fonts.
    assert!(!page.contains("src=\"http"), "no external resources");
    assert!(!page.contains("href=\"http"), "no external resources");
}

/// The log served as C2SP tlog-tiles: a client holding only the signed
/// checkpoint, the entry bundles and the tiles recomputes the signed root;
/// tiles not yet complete are 404; paths are checked; tiles need a token.
#[tokio::test]
async fn serves_the_log_as_tiles_that_recompute_the_signed_root() {
    use accord_log::merkle::{leaf_hash, node_hash, MemoryTree};
    let f = fixture(None);
    // 600 entries: two full level-0 tiles and a partial one of 88.
    let mut all = vec![facility(1)];
    all.extend((2..=600).map(|k| silo(k, &format!("T{k:04}"))));
    for chunk in all.chunks(150) {
        let (s, b) = send(
            &f.node,
            post(
                "/notifications",
                Some(TOKEN),
                format!("[{}]", chunk.join(",")),
            ),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let (_, note) = send(
        &f.node,
        Request::get("/checkpoint")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    let signer = Signer::from_seed("accord/new-start-2021/US", f.signer_seed).expect("key");
    let cp = open_checkpoint(&note, &signer.verifier(), &[])
        .expect("checkpoint")
        .into_checkpoint();
    assert_eq!(cp.size, 600);
    let tile = |path: &str| {
        let node = f.node.clone();
        let req = Request::get(format!("/tile/{path}"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .expect("req");
        async move {
            let resp = router(node).oneshot(req).await.expect("response");
            let status = resp.status();
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            (status, body.to_vec())
        }
    };
    // Entries from the bundles.
    let mut entries: Vec<Vec<u8>> = vec![];
    for p in ["entries/000", "entries/001", "entries/002.p/88"] {
        let (s, bytes) = tile(p).await;
        assert_eq!(s, StatusCode::OK, "{p}");
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            entries.push(rest[2..2 + n].to_vec());
            rest = &rest[2 + n..];
        }
    }
    assert_eq!(entries.len(), 600);
    // Level-0 tiles are the leaf hashes of those entries.
    let mut leaves = vec![];
    for p in ["0/000", "0/001", "0/002.p/88"] {
        let (s, bytes) = tile(p).await;
        assert_eq!(s, StatusCode::OK, "{p}");
        leaves.extend(bytes.chunks(32).map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        }));
    }
    let expect: Vec<[u8; 32]> = entries.iter().map(|e| leaf_hash(e)).collect();
    assert_eq!(leaves, expect);
    // The level-1 tile holds the two complete 256-leaf subtrees.
    let (s, l1) = tile("1/000.p/2").await;
    assert_eq!(s, StatusCode::OK);
    let subtree = |r: std::ops::Range<usize>| {
        let mut t = MemoryTree::new();
        for e in &entries[r] {
            t.append(e);
        }
        t.root()
    };
    let (a, b) = (subtree(0..256), subtree(256..512));
    assert_eq!(&l1[..32], &a[..]);
    assert_eq!(&l1[32..], &b[..]);
    // From the tiles alone: root = H(H(a, b), rest), rest from the partial tile.
    let mut rest = MemoryTree::new();
    for e in &entries[512..] {
        rest.append(e);
    }
    assert_eq!(node_hash(&node_hash(&a, &b), &rest.root()), cp.hash);
    // Not complete yet, malformed, unauthenticated.
    assert_eq!(tile("0/002").await.0, StatusCode::NOT_FOUND);
    assert_eq!(tile("1/000").await.0, StatusCode::NOT_FOUND);
    assert_eq!(tile("0/2").await.0, StatusCode::BAD_REQUEST);
    let (s, _) = send(
        &f.node,
        Request::get("/tile/0/000")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// A reader (the peer, an observer) reads entries but cannot write.
#[tokio::test]
async fn a_reader_token_reads_entries_but_cannot_write() {
    let f = fixture(None);
    let (s, b) = send(&f.node, post("/notifications", Some(TOKEN), facility(1))).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = send(&f.node, post("/notifications", Some(READER), silo(2, "S1"))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert!(b.contains("may read entries but not write"), "{b}");
    assert_eq!(log_size(&f), 1, "nothing stored");
    for uri in ["/notifications", "/tile/entries/000.p/1", "/tile/0/000.p/1"] {
        let (s, b) = send(
            &f.node,
            Request::get(uri)
                .header("authorization", format!("Bearer {READER}"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{uri}: {b}");
    }
}

/// The facility view and the compliance report count a per-facility data
/// exchange one way (the registry's `State::by_facility`): the facility the
/// exchange misdeclares is the one highlighted and the one in the finding.
#[tokio::test]
async fn facility_view_and_status_agree_on_a_per_facility_mismatch() {
    let f = fixture(None);
    let exchange = r#"{"party":"US","number":4,"date":"2020-09-02","sent":"2020-09-02","event":{"kind":"data_exchange","counts":{"deployed_delivery_vehicles":0,"deployed_warheads":0,"deployed_and_nondeployed_launchers":2},"facilities":{"US-MALMSTROM":{"non_deployed_icbm_launchers":3}}}}"#;
    let body = format!(
        "[{},{},{},{exchange}]",
        facility(1),
        silo(2, "US-MT-A01"),
        silo(3, "US-MT-A02")
    );
    let (s, b) = send(&f.node, post("/notifications", Some(TOKEN), body)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let get = |path: &str| {
        Request::get(path)
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .expect("req")
    };
    let (s, b) = send(&f.node, get("/workbench/api/facilities?date=2020-09-03")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let v: accord_api::workbench::Facilities = serde_json::from_str(&b).expect("facilities");
    let m = v
        .facilities
        .iter()
        .find(|x| x.id == "US-MALMSTROM")
        .expect("facility");
    assert!(m.mismatch);
    let c = m
        .categories
        .iter()
        .find(|c| c.id == "non_deployed_icbm_launchers")
        .expect("column");
    assert_eq!((c.found, c.declared), (2, Some(3)));
    assert!(v
        .facility_categories
        .iter()
        .any(|c| c.id == "non_deployed_icbm_launchers"));
    let (s, b) = send(&f.node, get("/status?date=2020-09-03")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let st: accord_api::Status = serde_json::from_str(&b).expect("status");
    let mismatches: Vec<_> = st
        .compliance
        .findings
        .iter()
        .filter(|x| x.kind.as_str() == "data_exchange_mismatch")
        .flat_map(|x| x.differences.iter())
        .filter_map(|d| {
            Some((
                d.facility.clone()?,
                d.category.clone()?,
                d.declared,
                d.item_level,
            ))
        })
        .collect();
    assert_eq!(
        mismatches,
        vec![(
            "US-MALMSTROM".to_string(),
            "non_deployed_icbm_launchers".to_string(),
            3,
            2
        )]
    );
}
