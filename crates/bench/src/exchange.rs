//! `accord bench exchange`: how fast a node pulls, verifies and mirrors its
//! peer's log over loopback.
//!
//! The US node's log holds N notifications (a facility and N − 1 silos;
//! SYNTHETIC). Russia's node starts with an empty mirror and pulls: each
//! round fetches the signed checkpoint, a consistency proof and up to 16
//! entry bundles (4,096 entries) over HTTP, signs every read, recomputes the
//! tree against the signed root, parses each entry as a canonical US
//! notification, stages the batch against the mirror registry, appends to
//! the mirror log durably, commits the registry and logs a signed receipt.
//! The time runs from the node's start to the mirror holding all N.
//!
//! The raw primitive, measured in the same run on the same disk, is the
//! log's own durable append of the same N entries in batches of 4,096 (what
//! the mirror's append costs alone).

use accord_log::{canonical_entry, LogStore, Signer};
use accord_node::exchange::{Clock, ExchangeConfig, PeerConfig};
use accord_node::Node;
use accord_registry::{Meta, Store};
use accord_report::table;
use accord_treaty::Treaty;
use anyhow::{bail, Context as _, Result};
use serde::Serialize;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the benchmark found.
#[derive(Debug, Serialize)]
pub(crate) struct ExchangeBench {
    notifications: u64,
    seconds: f64,
    mirrored_per_second: f64,
    raw_append_per_second: f64,
    ratio_to_raw_append: f64,
    receipts: u64,
    roots_equal: bool,
}

/// Notification `number` of the US log: the facility, then the node
/// benchmark's silos.
fn entry(number: u64) -> String {
    if number == 1 {
        crate::node::FACILITY.to_string()
    } else {
        crate::node::silo(number)
    }
}

pub(crate) fn run(notifications: u64, json: bool) -> Result<ExitCode> {
    if notifications < 2 {
        bail!("--notifications must be at least 2");
    }
    let dir = std::env::temp_dir().join(format!("accord-bench-exchange-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let result = measure(&dir, notifications);
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
                    vec!["notifications mirrored".into(), r.notifications.to_string()],
                    vec!["seconds".into(), format!("{:.2}", r.seconds)],
                    vec![
                        "pulled, verified, mirrored".into(),
                        format!("{:.0} /s", r.mirrored_per_second)
                    ],
                    vec![
                        "raw log append, batches of 4,096 (same run)".into(),
                        format!("{:.0} /s", r.raw_append_per_second)
                    ],
                    vec![
                        "mirror ÷ raw append".into(),
                        format!("{:.2}×", r.ratio_to_raw_append)
                    ],
                ]
            )
        );
        println!(
            "checked after the run: the mirror's root equals the peer's ({}); {} receipts logged",
            if r.roots_equal { "yes" } else { "NO" },
            r.receipts
        );
    }
    Ok(if r.roots_equal {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn empty_registry(dir: &std::path::Path, party: &str, treaty: &Treaty) -> Result<Store> {
    Ok(Store::create(
        dir,
        Meta {
            party: party.into(),
            treaty: treaty.id.clone(),
            synthetic: true,
            provenance: "accord bench exchange".into(),
        },
    )?)
}

fn measure(dir: &std::path::Path, n: u64) -> Result<ExchangeBench> {
    let treaty = Treaty::load("new-start-2021")?;
    let us = Signer::from_seed("accord/new-start-2021/US", [5u8; 32])?;
    let ru = Signer::from_seed("accord/new-start-2021/RU", [6u8; 32])?;
    let entries: Vec<Vec<u8>> = (1..=n)
        .map(|i| canonical_entry(&entry(i)))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("canonical JSON: {e}"))?;
    // The raw primitive: the same entries, durably, in batches of 4,096.
    let raw_per_second = {
        let mut log = LogStore::init(&dir.join("raw.sqlite"), "accord/bench/raw", &us.verifier())?;
        let t = Instant::now();
        for c in entries.chunks(4096) {
            log.append(c)?;
        }
        n as f64 / t.elapsed().as_secs_f64()
    };
    // The US log, filled and signed (what its operators would have posted).
    let us_dir = dir.join("us");
    let ru_dir = dir.join("ru");
    std::fs::create_dir_all(&us_dir)?;
    std::fs::create_dir_all(&ru_dir)?;
    {
        let mut log = LogStore::init(&us_dir.join("log.sqlite"), us.name(), &us.verifier())?;
        for c in entries.chunks(4096) {
            log.append(c)?;
        }
        log.checkpoint(&us)?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let lu = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let lr = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let (pu, pr) = (lu.local_addr()?.port(), lr.local_addr()?.port());
    let clock = Clock::fixed(chrono::NaiveDate::from_ymd_opt(2021, 3, 3).unwrap_or_default());
    // Both nodes speak mutual TLS, each pinning the other's key.
    let us_id = accord_net::Identity::generate(&accord_net::IdentityOptions::default())?;
    let ru_id = accord_net::Identity::generate(&accord_net::IdentityOptions::default())?;
    let peer = |party: &str, port: u16, s: &Signer, pin: accord_net::Pin| PeerConfig {
        party: party.into(),
        url: format!("https://127.0.0.1:{port}"),
        vkey: s.verifier(),
        witness_vkey: None,
        tls_pin: Some(pin),
    };
    let us_node = Node::new(
        LogStore::open(&us_dir.join("log.sqlite"))?,
        empty_registry(&us_dir.join("registry"), "US", &treaty)?,
        treaty.clone(),
        us.clone(),
        None,
        vec!["bench-operator-token-us".into()],
    )
    .with_clock(clock.clone())
    .with_net(accord_node::net::Net::tls(us_id.clone()))
    .with_exchange(ExchangeConfig {
        dir: us_dir.clone(),
        peers: vec![peer("RU", pr, &ru, ru_id.pin())],
        witnesses: vec![],
        // The US node need not pull (Russia's log stays empty).
        interval: Duration::from_secs(60),
    })?;
    let ru_node = Node::new(
        LogStore::init(&ru_dir.join("log.sqlite"), ru.name(), &ru.verifier())?,
        empty_registry(&ru_dir.join("registry"), "RU", &treaty)?,
        treaty.clone(),
        ru,
        None,
        vec!["bench-operator-token-ru".into()],
    )
    .with_clock(clock)
    .with_net(accord_node::net::Net::tls(ru_id.clone()))
    .with_exchange(ExchangeConfig {
        dir: ru_dir.clone(),
        peers: vec![peer("US", pu, &us, us_id.pin())],
        witnesses: vec![],
        interval: Duration::from_millis(20),
    })?;
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut servers = vec![];
    // The US node first; Russia's starts with the clock.
    {
        let mut rx = stop.subscribe();
        servers.push(rt.spawn(accord_node::serve_until(
            Arc::new(us_node),
            lu,
            async move {
                let _ = rx.recv().await;
            },
        )));
    }
    let pb = indicatif::ProgressBar::new(n);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} mirrored {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    {
        let mut rx = stop.subscribe();
        servers.push(rt.spawn(accord_node::serve_until(
            Arc::new(ru_node),
            lr,
            async move {
                let _ = rx.recv().await;
            },
        )));
    }
    let url = format!("https://127.0.0.1:{pr}");
    let reach = accord_node::client::Reach::Pinned(ru_id.pin());
    let seconds = loop {
        let v: accord_api::Exchange =
            accord_node::client::call(&url, &reach, "GET", "/exchange", None, b"")?;
        let peer = v.peers.first().context("Russia's node has no peer")?;
        let have = peer.tree_size;
        pb.set_position(have);
        if have >= n {
            break start.elapsed().as_secs_f64();
        }
        if peer.flagged {
            bail!(
                "Russia's node flagged the US: {}",
                peer.link.last_error.as_deref().unwrap_or("")
            );
        }
        if start.elapsed() > Duration::from_secs(600) {
            bail!("not mirrored after 600 s: {have} of {n}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    pb.finish_and_clear();
    let _ = stop.send(());
    for s in servers {
        rt.block_on(s)??;
    }
    let a = LogStore::open(&us_dir.join("log.sqlite"))?;
    let b = LogStore::open(&ru_dir.join("peers/US/log.sqlite"))?;
    let receipts = LogStore::open(&ru_dir.join("receipts.sqlite"))?.size();
    let roots_equal = a.size() == b.size() && a.root(a.size())? == b.root(b.size())?;
    let per_second = n as f64 / seconds;
    Ok(ExchangeBench {
        notifications: n,
        seconds,
        mirrored_per_second: per_second,
        raw_append_per_second: raw_per_second,
        ratio_to_raw_append: per_second / raw_per_second,
        receipts,
        roots_equal,
    })
}
