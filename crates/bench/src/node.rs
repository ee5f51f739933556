//! `accord bench node`: sustained durable notifications per second through
//! a real node on loopback, with concurrent clients, and the p50/p99 time
//! from sending a notification to its acknowledgement (which the node gives
//! only once the entry is durable in its log). Measured three times in one
//! run, each on a fresh node:
//!
//! 1. over plain HTTP (loopback; the baseline);
//! 2. over mutual TLS (each client presents a pinned certificate);
//! 3. over mutual TLS while 200 slowloris connections drip header bytes and
//!    8 anonymous clients read the public `/history` and `/status` as fast
//!    as they can.
//!
//! The ratios say what TLS costs (target ≥ 0.8× plaintext) and what an
//! attacker on the public side costs operators (target p99 ≤ 2× idle). The
//! raw primitive, measured in the same run on the same disk, is the log's
//! own durable append of one entry at a time ([`LogStore::append`]).

use accord_log::{canonical_entry, LogStore, Signer};
use accord_net::{Client, ClientLimits, Endpoint, Identity, IdentityOptions, Security};
use accord_node::exchange::{ExchangeConfig, PeerConfig};
use accord_node::net::Net;
use accord_node::Node;
use accord_registry::notification::parse_one;
use accord_registry::{Meta, Store};
use accord_report::table;
use accord_treaty::Treaty;
use anyhow::{bail, Result};
use serde::Serialize;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-operator-token";
const AUTH: &str = "Bearer bench-operator-token";

/// One run's measurements.
#[derive(Debug, Serialize)]
pub(crate) struct Run {
    transport: &'static str,
    slowloris: usize,
    read_loops: usize,
    seconds: f64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Public reads answered while it ran.
    reads: u64,
    log_size: u64,
    registry_items: usize,
}

/// What the benchmark found.
#[derive(Debug, Serialize)]
pub(crate) struct NodeBench {
    notifications: u64,
    clients: usize,
    raw_append_per_second: f64,
    plaintext: Run,
    mtls: Run,
    mtls_under_attack: Run,
    /// mTLS ÷ plaintext throughput (target ≥ 0.8).
    ratio_mtls_to_plaintext: f64,
    /// Under attack ÷ idle p99, over mTLS (target ≤ 2).
    ratio_p99_attack_to_idle: f64,
    /// Plaintext throughput ÷ the raw one-entry durable append.
    ratio_to_raw_append: f64,
}

/// Notification 1: the facility every silo names.
pub(crate) const FACILITY: &str = r#"{"party":"US","number":1,"date":"2021-03-01","sent":"2021-03-01","event":{"kind":"facility_declared","facility":"US-MALMSTROM","facility_kind":"icbm_base","name":"Malmstrom AFB"}}"#;

/// The notification numbered `number`: a new silo entering accountability
/// at Malmstrom (each one independent of the others, so any arrival order
/// is valid).
pub(crate) fn silo(number: u64) -> String {
    format!(
        r#"{{"party":"US","number":{number},"date":"2021-03-01","sent":"2021-03-02","event":{{"kind":"accountability_entry","item":"US-BENCH-L{number:07}","item_kind":"icbm_launcher","item_type":"minuteman-iii-silo","facility":"US-MALMSTROM","status":"non_deployed"}}}}"#
    )
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

pub(crate) fn run(
    notifications: u64,
    clients: usize,
    slowloris: usize,
    read_loops: usize,
    json: bool,
) -> Result<ExitCode> {
    if notifications == 0 || clients == 0 {
        bail!("--notifications and --clients must be at least 1");
    }
    let dir = std::env::temp_dir().join(format!("accord-bench-node-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let result = measure_all(&dir, notifications, clients, slowloris, read_loops);
    let _ = std::fs::remove_dir_all(&dir);
    let r = result?;
    if json {
        accord_report::print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    let row = |name: &str, x: &Run| {
        vec![
            name.to_string(),
            format!("{:.0} /s", x.per_second),
            format!("{:.2} ms", x.p50_ms),
            format!("{:.2} ms", x.p99_ms),
            format!("{:.2} ms", x.max_ms),
            x.reads.to_string(),
        ]
    };
    println!(
        "{} notifications from {} concurrent clients, each run on a fresh node on loopback:",
        r.notifications, r.clients
    );
    print!(
        "{}",
        table::render(
            &[
                "transport",
                "sustained",
                "ack p50",
                "ack p99",
                "max",
                "public reads served"
            ],
            &[
                row("plain HTTP", &r.plaintext),
                row("mutual TLS", &r.mtls),
                row(
                    &format!(
                        "mutual TLS + {} slowloris + {} read loops",
                        r.mtls_under_attack.slowloris, r.mtls_under_attack.read_loops
                    ),
                    &r.mtls_under_attack
                ),
            ]
        )
    );
    println!(
        "  mTLS ÷ plaintext throughput: {:.2}× (target ≥ 0.8×)",
        r.ratio_mtls_to_plaintext
    );
    println!(
        "  p99 under attack ÷ idle (mTLS): {:.2}× (target ≤ 2×)",
        r.ratio_p99_attack_to_idle
    );
    println!(
        "  plaintext ÷ the raw one-entry durable log append ({:.0} /s, same run): {:.2}×",
        r.raw_append_per_second, r.ratio_to_raw_append
    );
    println!("checked after each run: the log holds every notification, the registry every item");
    Ok(ExitCode::SUCCESS)
}

fn measure_all(
    dir: &std::path::Path,
    notifications: u64,
    clients: usize,
    slowloris: usize,
    read_loops: usize,
) -> Result<NodeBench> {
    let signer = Signer::from_seed("accord/bench/US", [3u8; 32])?;
    // The raw primitive first: one durable append per entry.
    let raw_n = notifications.min(2_000);
    let raw_append_per_second = {
        let mut log = LogStore::init(
            &dir.join("raw.sqlite"),
            "accord/bench/raw",
            &signer.verifier(),
        )?;
        let entries: Vec<Vec<u8>> = (0..raw_n)
            .map(|i| canonical_entry(&silo(i + 2)))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("canonical JSON: {e}"))?;
        let t = Instant::now();
        for e in &entries {
            log.append(std::slice::from_ref(e))?;
        }
        raw_n as f64 / t.elapsed().as_secs_f64()
    };
    let plaintext = measure(&dir.join("plain"), notifications, clients, false, 0, 0)?;
    let mtls = measure(&dir.join("mtls"), notifications, clients, true, 0, 0)?;
    let mtls_under_attack = measure(
        &dir.join("attack"),
        notifications,
        clients,
        true,
        slowloris,
        read_loops,
    )?;
    Ok(NodeBench {
        notifications,
        clients,
        raw_append_per_second,
        ratio_mtls_to_plaintext: mtls.per_second / plaintext.per_second,
        ratio_p99_attack_to_idle: mtls_under_attack.p99_ms / mtls.p99_ms,
        ratio_to_raw_append: plaintext.per_second / raw_append_per_second,
        plaintext,
        mtls,
        mtls_under_attack,
    })
}

/// A fresh node (TLS or not) and its operators' endpoints.
fn measure(
    dir: &std::path::Path,
    notifications: u64,
    clients: usize,
    tls: bool,
    slowloris: usize,
    read_loops: usize,
) -> Result<Run> {
    std::fs::create_dir_all(dir)?;
    let treaty = Treaty::load("new-start-2021")?;
    let signer = Signer::from_seed("accord/bench/US", [3u8; 32])?;
    let log_path = dir.join("log.sqlite");
    let log = LogStore::init(&log_path, "accord/bench/US", &signer.verifier())?;
    let reg_dir = dir.join("registry");
    let registry = Store::create(
        &reg_dir,
        Meta {
            party: "US".into(),
            treaty: treaty.id.clone(),
            synthetic: true,
            provenance: "accord bench node".into(),
        },
    )?;
    let server_id = Identity::generate(&IdentityOptions::default())?;
    // The operators present a pinned certificate (mutual TLS), as a peer would.
    let client_id = Identity::generate(&IdentityOptions::default())?;
    let mut node = Node::new(
        log,
        registry,
        treaty.clone(),
        signer,
        None,
        vec![TOKEN.into()],
    );
    if tls {
        // The client's pin is admitted as a peer's (it is never dialled).
        let peer = Signer::from_seed("accord/bench/RU", [4u8; 32])?;
        node = node
            .with_net(Net::tls(server_id.clone()))
            .with_exchange(ExchangeConfig {
                dir: dir.to_path_buf(),
                peers: vec![PeerConfig {
                    party: "RU".into(),
                    url: "https://127.0.0.1:9".into(),
                    vkey: peer.verifier(),
                    witness_vkey: None,
                    tls_pin: Some(client_id.pin()),
                }],
                witnesses: vec![],
                interval: Duration::from_secs(3600),
            })?;
    }
    let node = Arc::new(node);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(accord_node::serve_until(node, listener, async {
        let _ = stopped.await;
    }));
    let endpoint = |id: Option<&Identity>| -> Result<Endpoint> {
        let client = Client::new(ClientLimits::default(), id.cloned())?;
        Ok(if tls {
            client.endpoint(
                &format!("https://{addr}"),
                Security::Pinned(server_id.pin().into()),
            )?
        } else {
            client.endpoint(&format!("http://{addr}"), Security::InsecurePlaintext)?
        })
    };
    let post = |ep: &Endpoint, body: String| -> Result<u16> {
        Ok(ep
            .post("/notifications", &[("Authorization", AUTH)], body)?
            .status)
    };
    let st = post(&endpoint(Some(&client_id))?, FACILITY.to_string())?;
    if st != 201 {
        bail!("the node refused the facility: {st}");
    }
    // The attack: slowloris connections and public read loops.
    let (attack_stop, attack_stopped) = tokio::sync::watch::channel(false);
    let drips = if slowloris > 0 {
        Some(accord_net::bench::slowloris(
            addr,
            server_id.pin().into(),
            slowloris,
            attack_stopped,
        )?)
    } else {
        None
    };
    let reading = Arc::new(AtomicBool::new(true));
    let reads = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..read_loops)
        .map(|i| -> Result<_> {
            let ep = endpoint(None)?;
            let (reading, reads) = (reading.clone(), reads.clone());
            Ok(std::thread::spawn(move || {
                let path = if i % 2 == 0 {
                    "/history?to=2021-03-01"
                } else {
                    "/status?date=2021-03-01"
                };
                while reading.load(Ordering::Relaxed) {
                    if ep.get(path, &[]).is_ok_and(|r| r.status == 200) {
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }))
        })
        .collect::<Result<_>>()?;
    if slowloris > 0 || read_loops > 0 {
        std::thread::sleep(Duration::from_secs(2));
    }
    let next = Arc::new(AtomicU64::new(2));
    let last = notifications + 1;
    let pb = accord_report::progress::bar(true, notifications, "notifications");
    let start = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let next = next.clone();
            let pb = pb.clone();
            let ep = endpoint(Some(&client_id))?;
            Ok(std::thread::spawn(move || -> Result<Vec<Duration>> {
                let mut lat = vec![];
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n > last {
                        return Ok(lat);
                    }
                    let t = Instant::now();
                    let st = post(&ep, silo(n))?;
                    lat.push(t.elapsed());
                    if st != 201 {
                        bail!("notification {n}: the node answered {st}");
                    }
                    pb.inc(1);
                }
            }))
        })
        .collect::<Result<_>>()?;
    let mut lat = vec![];
    for w in workers {
        match w.join() {
            Ok(r) => lat.extend(r?),
            Err(_) => bail!("a client thread panicked"),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    reading.store(false, Ordering::Relaxed);
    for r in readers {
        let _ = r.join();
    }
    let _ = attack_stop.send(true);
    if let Some(d) = drips {
        let _ = d.join();
    }
    let _ = stop.send(());
    rt.block_on(server)??;
    lat.sort_unstable();
    // Check the result, reading the stores as a restarted node would.
    let log = LogStore::open(&log_path)?;
    let registry = Store::open(&reg_dir)?;
    let items = registry.items()?.len();
    if log.size() != notifications + 1 || items as u64 != notifications {
        bail!(
            "after the run the log holds {} entries and the registry {} items; expected {} and {}",
            log.size(),
            items,
            notifications + 1,
            notifications
        );
    }
    // Every entry is one of ours, in some order.
    let mut seen = 0u64;
    log.for_each_entry(|_, bytes| {
        if let Ok(t) = std::str::from_utf8(bytes) {
            if parse_one(t, "entry").is_ok() {
                seen += 1;
            }
        }
        true
    })?;
    if seen != log.size() {
        bail!(
            "{} of {} log entries do not parse",
            log.size() - seen,
            log.size()
        );
    }
    Ok(Run {
        transport: if tls { "mutual TLS" } else { "plain HTTP" },
        slowloris,
        read_loops,
        seconds,
        per_second: notifications as f64 / seconds,
        p50_ms: percentile(&lat, 0.50),
        p99_ms: percentile(&lat, 0.99),
        max_ms: lat.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        reads: reads.load(Ordering::Relaxed),
        log_size: log.size(),
        registry_items: items,
    })
}
