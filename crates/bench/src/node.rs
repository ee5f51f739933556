//! `accord bench node`: sustained durable notifications per second through
//! a real node on loopback, with concurrent clients, and the p50/p99 time
//! from sending a notification to its acknowledgement (which the node gives
//! only once the entry is durable in its log).
//!
//! The raw primitive, measured in the same run on the same disk, is the log's
//! own durable append of one entry at a time ([`LogStore::append`]); the
//! ratio says what HTTP, validation and the registry cost on top.

use accord_log::{canonical_entry, LogStore, Signer};
use accord_node::Node;
use accord_registry::notification::parse_one;
use accord_registry::{Meta, Store};
use accord_report::table;
use accord_treaty::Treaty;
use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::io::BufReader;
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-operator-token";
const AUTH: &str = "Bearer bench-operator-token";

/// What the benchmark found.
#[derive(Debug, Serialize)]
pub(crate) struct NodeBench {
    notifications: u64,
    clients: usize,
    seconds: f64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    raw_append_per_second: f64,
    ratio_to_raw_append: f64,
    log_size: u64,
    registry_items: usize,
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

/// One keep-alive HTTP/1.1 POST; returns the status.
fn post(stream: &mut TcpStream, reader: &mut BufReader<TcpStream>, body: &str) -> Result<u16> {
    accord_node::http::write_request(
        stream,
        "bench",
        "POST",
        "/notifications",
        &[("Authorization", AUTH)],
        body.as_bytes(),
        true,
    )?;
    Ok(accord_node::http::read_response(reader, "bench")?.0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

pub(crate) fn run(notifications: u64, clients: usize, json: bool) -> Result<ExitCode> {
    if notifications == 0 || clients == 0 {
        bail!("--notifications and --clients must be at least 1");
    }
    let dir = std::env::temp_dir().join(format!("accord-bench-node-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let result = measure(&dir, notifications, clients);
    let _ = std::fs::remove_dir_all(&dir);
    let r = result?;
    if json {
        accord_report::print_json(&r)?;
    } else {
        println!(
            "{}",
            table::render(
                &["measure", "value"],
                &[
                    vec!["notifications".into(), r.notifications.to_string()],
                    vec!["concurrent clients".into(), r.clients.to_string()],
                    vec!["sustained".into(), format!("{:.0} /s", r.per_second)],
                    vec!["ack latency p50".into(), format!("{:.2} ms", r.p50_ms)],
                    vec!["ack latency p99".into(), format!("{:.2} ms", r.p99_ms)],
                    vec!["ack latency max".into(), format!("{:.2} ms", r.max_ms)],
                    vec![
                        "raw log append, one entry (same run)".into(),
                        format!("{:.0} /s", r.raw_append_per_second)
                    ],
                    vec![
                        "node ÷ raw append".into(),
                        format!("{:.2}×", r.ratio_to_raw_append)
                    ],
                ]
            )
        );
        println!(
            "checked after the run: log {} entries, registry {} items (every notification acknowledged and applied)",
            r.log_size, r.registry_items
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn measure(dir: &std::path::Path, notifications: u64, clients: usize) -> Result<NodeBench> {
    let treaty = Treaty::load("new-start-2021")?;
    let signer = Signer::from_seed("accord/bench/US", [3u8; 32])?;
    // The raw primitive first: one durable append per entry.
    let raw_n = notifications.min(2_000);
    let raw_per_second = {
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
    let node = Arc::new(Node::new(
        log,
        registry,
        treaty.clone(),
        signer,
        None,
        vec![TOKEN.into()],
    ));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let port = listener.local_addr()?.port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(accord_node::serve_until(node, listener, async {
        let _ = stopped.await;
    }));
    let connect = || -> Result<(TcpStream, BufReader<TcpStream>)> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let r = BufReader::new(s.try_clone()?);
        Ok((s, r))
    };
    // The facility every silo names.
    {
        let (mut s, mut r) = connect()?;
        let st = post(&mut s, &mut r, FACILITY)?;
        if st != 201 {
            bail!("the node refused the facility: {st}");
        }
    }
    let next = Arc::new(AtomicU64::new(2));
    let last = notifications + 1;
    let pb = ProgressBar::new(notifications);
    pb.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} notifications {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let next = next.clone();
            let pb = pb.clone();
            let (mut s, mut r) = connect()?;
            Ok(std::thread::spawn(move || -> Result<Vec<Duration>> {
                let mut lat = vec![];
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n > last {
                        return Ok(lat);
                    }
                    let body = silo(n);
                    let t = Instant::now();
                    let st = post(&mut s, &mut r, &body)?;
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
    let per_second = notifications as f64 / seconds;
    Ok(NodeBench {
        notifications,
        clients,
        seconds,
        per_second,
        p50_ms: percentile(&lat, 0.50),
        p99_ms: percentile(&lat, 0.99),
        max_ms: lat.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        raw_append_per_second: raw_per_second,
        ratio_to_raw_append: per_second / raw_per_second,
        log_size: log.size(),
        registry_items: items,
    })
}
