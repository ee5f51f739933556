//! `accord demo --serve`: the two parties' nodes in one process, on
//! loopback, with fresh keys and fresh operator tokens. Each node takes its
//! party's SYNTHETIC year of notifications through its operator API (real
//! HTTP, group commit, durable log), then each witnesses the other's
//! checkpoint over the C2SP tlog-witness endpoint. The dashboards stay up
//! until Ctrl-C.

use crate::registry::synthesize;
use accord_log::{LogStore, Signer, Witness};
use accord_node::Node;
use accord_registry::{Meta, Store};
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

/// One request to the node on `port`.
fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<(u16, String)> {
    let url = format!("http://127.0.0.1:{port}");
    crate::client::request(&url, method, path, token, body.as_bytes())
}

fn token() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs the two nodes; `base` is the first port (0: any free ports).
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
        .map(|(p, ..)| crate::regime::origin(&treaty.id, p))
        .collect();
    let signers: Vec<Signer> = origins
        .iter()
        .map(|o| Signer::generate(o))
        .collect::<Result<_, _>>()?;
    let verifiers: Vec<_> = signers.iter().map(Signer::verifier).collect();
    let mut signers = signers.into_iter();
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut ports = vec![];
    let mut tokens = vec![];
    let mut servers = vec![];
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
            Signer::generate(&format!("accord/witness/{party}"))?,
        )?;
        let other = 1 - i;
        witness.add_log(&origins[other], &verifiers[other])?;
        let t = token();
        let node = Arc::new(Node::new(
            log,
            registry,
            treaty.clone(),
            signer,
            Some(witness),
            vec![t.clone()],
        ));
        let addr = format!("127.0.0.1:{}", if base == 0 { 0 } else { base + i as u16 });
        let listener = rt
            .block_on(tokio::net::TcpListener::bind(&addr))
            .with_context(|| format!("cannot listen on {addr} (try --port-base 0)"))?;
        ports.push(listener.local_addr()?.port());
        tokens.push(t);
        let mut rx = stop.subscribe();
        servers.push(
            rt.spawn(accord_node::serve_until(node, listener, async move {
                let _ = rx.recv().await;
            })),
        );
    }
    println!("accord demo --serve: two party nodes on loopback, fresh keys");
    println!("  {SYNTHETIC}");
    let date = NaiveDate::from_ymd_opt(2020, 9, 1).unwrap_or(NaiveDate::MIN);
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
        let started = std::time::Instant::now();
        for chunk in all.chunks(200) {
            let body = serde_json::to_string(chunk)?;
            let (s, b) = request(ports[i], "POST", "/notifications", Some(&tokens[i]), &body)?;
            if s != 201 {
                bail!("{party}'s node refused a batch ({s}): {b}");
            }
        }
        println!(
            "  {party}: {} notifications posted to its node in {:.2} s",
            all.len(),
            started.elapsed().as_secs_f64()
        );
    }
    // Each node witnesses the other's log over HTTP (C2SP tlog-witness).
    for i in 0..2 {
        let other = 1 - i;
        let (s, cp) = request(ports[i], "GET", "/checkpoint", None, "")?;
        if s != 200 {
            bail!("no checkpoint from {}: {s}", START[i].0);
        }
        let (s, cosig) = request(
            ports[other],
            "POST",
            "/add-checkpoint",
            None,
            &format!("old 0\n\n{cp}"),
        )?;
        if s != 200 {
            bail!("{}'s node would not cosign: {s} {cosig}", START[other].0);
        }
        let size = cp.lines().nth(1).unwrap_or("?");
        println!(
            "  {}'s checkpoint at size {size} cosigned by {}'s node: {}",
            START[i].0,
            START[other].0,
            cosig
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(60)
                .collect::<String>()
        );
    }
    println!();
    for (i, (party, ..)) in START.iter().enumerate() {
        println!(
            "  {party} dashboard: http://127.0.0.1:{}/?date=2021-09-01#token={}",
            ports[i], tokens[i]
        );
    }
    println!(
        "  (the token in the link is that node's operator token; it stays in the browser tab)"
    );
    println!("  Ctrl-C stops both nodes.");
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
