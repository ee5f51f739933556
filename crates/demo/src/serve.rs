//! `accord demo --serve`: the two parties' nodes and a neutral witness in
//! one process, on loopback, with fresh keys and fresh operator tokens.
//! Each party's node takes its SYNTHETIC year of notifications through its
//! operator API (real HTTP, group commit, durable log) in date order, on a
//! simulated clock that follows the year; the nodes exchange them (pull,
//! verify, mirror, receipt) and push their checkpoints to each other and to
//! the witness for cosignatures. The workbenches stay up until Ctrl-C.

use accord_log::{LogStore, Signer, Witness};
use accord_net::{Endpoint, Identity, IdentityOptions, Pin};
use accord_node::exchange::{Clock, ExchangeConfig, PeerConfig, WitnessConfig};
use accord_node::net::Net;
use accord_node::witness_node::WitnessNode;
use accord_node::Node;
use accord_registry::Notification;
use accord_registry::{Meta, Store};
use accord_synth::store::synthesize;
use accord_synth::{Targets, Template, YearOptions, SYNTHETIC};
use accord_treaty::Treaty;
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use rand::RngCore;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// The published 1 Sep 2020 aggregates the forces are generated at (the
/// same as `accord demo`).
const START: [(&str, u64, u64, u64); 2] = [("US", 675, 1457, 800), ("RU", 510, 1447, 764)];

/// The node on `port`, whose TLS key has `pin` (one client for the run:
/// its connections are kept alive).
fn endpoint(port: u16, pin: Pin) -> Result<Endpoint> {
    Ok(accord_node::client::endpoint(
        &format!("https://127.0.0.1:{port}"),
        &accord_node::client::Reach::Pinned(pin),
    )?)
}

fn token() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs the three nodes; `base` is the first port (0: any free ports).
pub(crate) fn run(out: &Path, seed: u64, base: u16) -> Result<ExitCode> {
    let treaty = Treaty::load("new-start-2021")?;
    // Only OUT/nodes is ours: an earlier `accord demo` beside it is kept.
    if out.join("nodes").exists() {
        std::fs::remove_dir_all(out.join("nodes"))?;
    }
    std::fs::create_dir_all(out.join("nodes"))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let origins: Vec<String> = START
        .iter()
        .map(|(p, ..)| accord_log::origin(&treaty.id, p))
        .collect();
    let signers: Vec<Signer> = origins
        .iter()
        .map(|o| Signer::generate(o))
        .collect::<Result<_, _>>()?;
    let verifiers: Vec<_> = signers.iter().map(Signer::verifier).collect();
    let party_witnesses: Vec<Signer> = START
        .iter()
        .map(|(p, ..)| Signer::generate(&format!("accord/witness/{p}")))
        .collect::<Result<_, _>>()?;
    let party_witness_v: Vec<_> = party_witnesses
        .iter()
        .map(Signer::cosigner_verifier)
        .collect();
    let neutral = Signer::generate("accord/witness/neutral")?;
    let neutral_v = neutral.cosigner_verifier();
    // Every node speaks TLS with a fresh identity; each pins the others'.
    let ids: Vec<Identity> = (0..3)
        .map(|_| Identity::generate(&IdentityOptions::default()))
        .collect::<Result<_, _>>()?;
    let pins: Vec<Pin> = ids.iter().map(Identity::pin).collect();
    // Bind all three first: each node needs the others' addresses.
    let mut listeners = vec![];
    for i in 0..3u16 {
        let addr = format!("127.0.0.1:{}", if base == 0 { 0 } else { base + i });
        listeners.push(
            rt.block_on(tokio::net::TcpListener::bind(&addr))
                .with_context(|| format!("cannot listen on {addr} (try --port-base 0)"))?,
        );
    }
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()?;
    let mut listeners = listeners.into_iter();
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let clock = Clock::fixed(NaiveDate::from_ymd_opt(2020, 9, 1).unwrap_or(NaiveDate::MIN));
    let mut tokens = vec![];
    let mut servers = vec![];
    let mut signers = signers.into_iter();
    let mut party_witnesses = party_witnesses.into_iter();
    for (i, (party, ..)) in START.iter().enumerate() {
        let dir = out.join("nodes").join(party);
        std::fs::create_dir_all(&dir)?;
        let signer = signers.next().context("one signer per party")?;
        let log = LogStore::init(&dir.join("log.sqlite"), &origins[i], &verifiers[i])?;
        let registry = Store::create(
            &dir.join("registry"),
            Meta {
                party: party.to_string(),
                treaty: treaty.id.clone(),
                synthetic: true,
                provenance: format!("accord demo --serve, seed {seed}"),
            },
        )?;
        let witness = Witness::open(
            &dir.join("witness.sqlite"),
            party_witnesses.next().context("one witness per party")?,
        )?;
        let other = 1 - i;
        witness.add_log(&origins[other], &verifiers[other])?;
        let t = token();
        let node = Node::new(
            log,
            registry,
            treaty.clone(),
            signer,
            Some(witness),
            vec![t.clone()],
        )
        .with_clock(clock.clone())
        .with_net(Net::tls(ids[i].clone()))
        .with_exchange(ExchangeConfig {
            dir: dir.clone(),
            peers: vec![PeerConfig {
                party: START[other].0.to_string(),
                url: format!("https://127.0.0.1:{}", ports[other]),
                vkey: verifiers[other].clone(),
                witness_vkey: Some(party_witness_v[other].clone()),
                tls_pin: Some(pins[other]),
            }],
            witnesses: vec![WitnessConfig {
                url: format!("https://127.0.0.1:{}", ports[2]),
                vkey: neutral_v.clone(),
                tls_pin: Some(pins[2]),
            }],
            interval: std::time::Duration::from_millis(100),
        })?;
        tokens.push(t);
        let mut rx = stop.subscribe();
        let listener = listeners.next().context("one listener per node")?;
        servers.push(rt.spawn(accord_node::serve_until(
            Arc::new(node),
            listener,
            async move {
                let _ = rx.recv().await;
            },
        )));
    }
    {
        let dir = out.join("nodes").join("witness");
        std::fs::create_dir_all(&dir)?;
        let w = Witness::open(&dir.join("witness.sqlite"), neutral)?;
        for (o, v) in origins.iter().zip(&verifiers) {
            w.add_log(o, v)?;
        }
        let node =
            Arc::new(WitnessNode::new(w, origins.clone()).with_net(Net::tls(ids[2].clone())));
        let mut rx = stop.subscribe();
        let listener = listeners.next().context("the witness's listener")?;
        servers.push(rt.spawn(accord_node::witness_node::serve_until(
            node,
            listener,
            async move {
                let _ = rx.recv().await;
            },
        )));
    }
    println!("accord demo --serve: the US and Russian nodes and a neutral witness on loopback, fresh keys");
    println!("  {SYNTHETIC}");
    let date = NaiveDate::from_ymd_opt(2020, 9, 1).unwrap_or(NaiveDate::MIN);
    let mut years = vec![];
    for (i, (party, v, w, l)) in START.iter().enumerate() {
        let template = Template::load(party).map_err(anyhow::Error::msg)?;
        let year = YearOptions {
            days: 365,
            seed: seed + i as u64,
            ..YearOptions::default()
        };
        let targets = Targets {
            deployed_delivery_vehicles: *v,
            deployed_warheads: *w,
            launchers: *l,
        };
        let (all, _) = synthesize(
            &treaty,
            &template,
            targets,
            date,
            seed + i as u64,
            Some(year),
        )?;
        years.push(all);
    }
    // Both years in the order sent, in steps of up to 200 a party: the
    // clock moves to each step's last sending date, the step is posted, and
    // the next waits until each node has mirrored the other (so nothing is
    // delivered late on the simulated clock).
    let eps = [endpoint(ports[0], pins[0])?, endpoint(ports[1], pins[1])?];
    let started = std::time::Instant::now();
    let mut next = [0usize; 2];
    let bar = indicatif::ProgressBar::new((years[0].len() + years[1].len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("  exchanging {bar:40} {pos}/{len} notifications")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    while next[0] < years[0].len() || next[1] < years[1].len() {
        // The next three days of sending.
        let Some(first) = (0..2)
            .filter_map(|i| years[i].get(next[i]))
            .map(|n| n.sent)
            .min()
        else {
            break;
        };
        let window_end = first + chrono::Days::new(2);
        clock.set(window_end);
        for i in 0..2 {
            let take: Vec<&Notification> = years[i][next[i]..]
                .iter()
                .take_while(|n| n.sent <= window_end)
                .collect();
            for chunk in take.chunks(200) {
                let body = serde_json::to_string(chunk)?;
                let (s, b) = accord_node::client::request_on(
                    &eps[i],
                    "POST",
                    "/notifications",
                    Some(&tokens[i]),
                    body.as_bytes(),
                )?;
                if s != 201 {
                    bail!(
                        "{}'s node refused a batch ({s}): {}",
                        START[i].0,
                        String::from_utf8_lossy(&b)
                    );
                }
            }
            next[i] += take.len();
            bar.inc(take.len() as u64);
        }
        wait_mirrored(&eps, &next)?;
    }
    bar.finish_and_clear();
    println!(
        "  {} US and {} Russian notifications posted, exchanged, verified and mirrored in {:.2} s",
        years[0].len(),
        years[1].len(),
        started.elapsed().as_secs_f64()
    );
    // Wait for the cosignatures of the final checkpoints.
    let t = std::time::Instant::now();
    let cosigned = |v: &accord_api::Status| {
        v.witnesses
            .iter()
            .filter(|x| x.verified && x.acknowledged == v.tree_size)
            .count()
    };
    let statuses = loop {
        let st: Vec<accord_api::Status> =
            (0..2).map(|i| status_of(&eps[i])).collect::<Result<_>>()?;
        if st.iter().all(|v| cosigned(v) == v.witnesses.len()) || t.elapsed().as_secs() > 20 {
            break st;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    for (i, v) in statuses.iter().enumerate() {
        let Some(p) = v.peers.first() else {
            bail!("{}'s node has no peer", START[i].0);
        };
        println!(
            "  {} node: own log {} entries, its checkpoint cosigned by {} of {} witnesses; mirror of {} {} entries, {} late, {}; {} receipts",
            START[i].0,
            v.tree_size,
            cosigned(v),
            v.witnesses.len(),
            p.party,
            p.tree_size,
            p.late_deliveries,
            if p.flagged { "FLAGGED" } else { "consistent" },
            v.receipts.as_ref().map_or(0, |r| r.tree_size),
        );
    }
    println!();
    for (i, (party, ..)) in START.iter().enumerate() {
        println!(
            "  {party} workbench: https://127.0.0.1:{}/workbench/overview?date=2021-09-01#token={}",
            ports[i], tokens[i]
        );
        println!("    its TLS key pin: {}", pins[i]);
    }
    println!(
        "  witness status: https://127.0.0.1:{}/status (pin {})",
        ports[2], pins[2]
    );
    println!(
        "  (the certificates are self-signed: the browser asks before it shows a page; the pins above\n   are what to compare. The token in the link is that node's operator token: the page keeps it in the tab and
   removes it from the address bar)"
    );
    println!("  Ctrl-C stops the three nodes.");
    std::io::stdout().flush()?;
    rt.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    let _ = stop.send(());
    for s in servers {
        rt.block_on(s)??;
    }
    println!(
        "stopped; the nodes' stores are in {}",
        out.join("nodes").display()
    );
    Ok(ExitCode::SUCCESS)
}

fn status_of(ep: &Endpoint) -> Result<accord_api::Status> {
    get(ep, "/status?date=2021-09-01")
}

/// A typed GET, read strictly.
fn get<T: serde::de::DeserializeOwned>(ep: &Endpoint, path: &str) -> Result<T> {
    Ok(accord_node::client::call_on(ep, "GET", path, None, b"")?)
}

/// Waits until each node's mirror holds what the other was sent.
fn wait_mirrored(eps: &[Endpoint], sent: &[usize; 2]) -> Result<()> {
    let t = std::time::Instant::now();
    loop {
        let a: accord_api::Exchange = get(&eps[0], "/exchange")?;
        let b: accord_api::Exchange = get(&eps[1], "/exchange")?;
        let mirrored = |e: &accord_api::Exchange| e.peers.first().map_or(0, |p| p.tree_size);
        if mirrored(&a) == sent[1] as u64 && mirrored(&b) == sent[0] as u64 {
            return Ok(());
        }
        if t.elapsed().as_secs() > 60 {
            bail!(
                "the nodes did not converge: US mirrors {} of {}, Russia {} of {}",
                mirrored(&a),
                sent[1],
                mirrored(&b),
                sent[0]
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
