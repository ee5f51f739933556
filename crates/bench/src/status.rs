//! `accord bench status`: what a `/status` poll costs as the history grows,
//! and what continuous polling costs the operators who write.
//!
//! Two nodes on loopback hold a SYNTHETIC US force with `small` and with
//! `large` notifications (generated years, every one validated into the
//! registry). For each, the median time of `GET /status` (the node's clock
//! after the last notification: the report is the tracker's tip). Then, on
//! the large node, operators post notifications with no one polling, and
//! again while `pollers` clients poll `/status` as fast as they can: the
//! ratio of the two p99s. Targets: large ÷ small ≤ 2 (the work is the
//! change since the last snapshot, not the history) and p99 polled ÷ idle
//! ≤ 2 (reads never hold up intake).

use accord_log::{LogStore, Signer};
use accord_net::{Client, ClientLimits, Endpoint, Security};
use accord_node::exchange::Clock;
use accord_node::Node;
use accord_registry::{Meta, Notification, Store};
use accord_report::progress::spinner;
use accord_report::table;
use accord_synth::{Targets, Template, YearOptions};
use accord_treaty::Treaty;
use anyhow::{bail, Result};
use chrono::NaiveDate;
use serde::Serialize;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-operator-token";

/// What was measured.
#[derive(Debug, Serialize)]
pub(crate) struct StatusBench {
    small: u64,
    large: u64,
    status_small_ms: f64,
    status_large_ms: f64,
    /// Large ÷ small (target ≤ 2).
    ratio_large_to_small: f64,
    pollers: usize,
    writes: usize,
    write_p99_idle_ms: f64,
    write_p99_polled_ms: f64,
    /// Polled ÷ idle (target ≤ 2).
    ratio_polled_to_idle: f64,
    polls_answered: u64,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
}

/// A registry of `n` SYNTHETIC notifications (the force on 1 Sep 2020 and
/// years of changes after it) in `dir`.
fn registry(dir: &std::path::Path, treaty: &Treaty, n: u64) -> Result<Vec<Notification>> {
    let template = Template::load("US").map_err(anyhow::Error::msg)?;
    let (all, provenance) = accord_synth::store::synthesize(
        treaty,
        &template,
        Targets {
            deployed_delivery_vehicles: 675,
            deployed_warheads: 1457,
            launchers: 800,
        },
        d(2020, 9, 1),
        3,
        Some(YearOptions {
            days: 1800,
            notifications: n as usize,
            late: 0,
            seed: 3,
        }),
    )?;
    let mut st = Store::create(
        dir,
        Meta {
            party: "US".into(),
            treaty: treaty.id.clone(),
            synthetic: true,
            provenance,
        },
    )?;
    let mut sorted = all.clone();
    sorted.sort_by_key(|x| x.number);
    for chunk in sorted.chunks(20_000) {
        let batch: Vec<(String, Notification)> = chunk
            .iter()
            .map(|x| (format!("#{}", x.number), x.clone()))
            .collect();
        st.append(treaty, &batch)?;
    }
    Ok(all)
}

/// A node over the registry in `dir` (plaintext loopback: the poll itself
/// is measured), its clock after `last`.
struct Running {
    rt: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    url: String,
}

impl Running {
    fn start(dir: &std::path::Path, treaty: &Treaty, last: NaiveDate) -> Result<Running> {
        let signer = Signer::from_seed("accord/bench/US", [5u8; 32])?;
        let log = LogStore::open_or_init(
            &dir.join("log.sqlite"),
            "accord/bench/US",
            &signer.verifier(),
        )?;
        let registry = Store::open(&dir.join("registry"))?;
        let node = Arc::new(
            Node::new(
                log,
                registry,
                treaty.clone(),
                signer,
                None,
                vec![TOKEN.into()],
            )
            .with_clock(Clock::fixed(last)),
        );
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = rt.spawn(accord_node::serve_until(node, listener, async {
            let _ = stopped.await;
        }));
        Ok(Running {
            rt,
            stop: Some(stop),
            server: Some(server),
            url,
        })
    }

    fn endpoint(&self) -> Result<Endpoint> {
        Ok(Client::new(ClientLimits::default(), None)?
            .endpoint(&self.url, Security::InsecurePlaintext)?)
    }

    fn stop(mut self) -> Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            self.rt.block_on(h)??;
        }
        Ok(())
    }
}

/// The median time of `GET /status` over `n` calls, after a warm-up call
/// (which folds the registry once, at start).
fn status_ms(ep: &Endpoint, n: usize) -> Result<f64> {
    let first = ep.get("/status", &[])?;
    if first.status != 200 {
        bail!("/status answered {}: {}", first.status, first.text());
    }
    let mut t = vec![];
    for _ in 0..n {
        let s = Instant::now();
        let r = ep.get("/status", &[])?;
        t.push(s.elapsed().as_secs_f64() * 1e3);
        if r.status != 200 {
            bail!("/status answered {}", r.status);
        }
    }
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}

/// Posts `n` new silos, one at a time; their acknowledgement times.
fn writes(ep: &Endpoint, from: u64, n: usize, date: NaiveDate) -> Result<Vec<Duration>> {
    let auth = format!("Bearer {TOKEN}");
    let mut lat = vec![];
    for k in 0..n as u64 {
        let number = from + k;
        let body = format!(
            r#"{{"party":"US","number":{number},"date":"{date}","sent":"{date}","event":{{"kind":"accountability_entry","item":"US-STATUS-L{number:08}","item_kind":"icbm_launcher","item_type":"minuteman-iii-silo","facility":"US-MALMSTROM","status":"non_deployed"}}}}"#
        );
        let t = Instant::now();
        let r = ep.post("/notifications", &[("Authorization", &auth)], body)?;
        lat.push(t.elapsed());
        if r.status != 201 {
            bail!("write {number}: {} {}", r.status, r.text());
        }
    }
    lat.sort_unstable();
    Ok(lat)
}

fn p99(lat: &[Duration]) -> f64 {
    let i = ((lat.len() as f64 - 1.0) * 0.99).round() as usize;
    lat.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

pub(crate) fn run(small: u64, large: u64, pollers: usize, json: bool) -> Result<ExitCode> {
    if small == 0 || large < small {
        bail!("--small must be at least 1 and --large at least --small");
    }
    let treaty = Treaty::load(accord_regime::DEFAULT_TREATY)?;
    let root = std::env::temp_dir().join(format!("accord-bench-status-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    let result = (|| -> Result<StatusBench> {
        let mut ms = vec![];
        let mut last_large = (0u64, d(2021, 3, 1));
        for (name, n) in [("small", small), ("large", large)] {
            let dir = root.join(name);
            std::fs::create_dir_all(&dir)?;
            let pb = spinner(
                n > 50_000,
                &format!("generating and storing {n} notifications"),
            );
            let all = registry(&dir.join("registry"), &treaty, n)?;
            pb.finish_and_clear();
            let last = all.iter().map(|x| x.date).max().unwrap_or(d(2021, 3, 1));
            let max_number = all.iter().map(|x| x.number).max().unwrap_or(0);
            let node = Running::start(&dir, &treaty, last)?;
            ms.push(status_ms(&node.endpoint()?, 30)?);
            node.stop()?;
            last_large = (max_number, last);
        }
        // The large node again: writes alone, then writes under polling,
        // each a day after the history (so they come after everything).
        let (max_number, last) = last_large;
        let last = last.succ_opt().unwrap_or(last);
        let node = Running::start(&root.join("large"), &treaty, last)?;
        let ep = node.endpoint()?;
        status_ms(&ep, 1)?;
        let n_writes = 400;
        let idle = writes(&ep, max_number + 1, n_writes, last)?;
        let polling = Arc::new(AtomicBool::new(true));
        let polls = Arc::new(AtomicU64::new(0));
        let handles: Vec<_> = (0..pollers)
            .map(|_| -> Result<_> {
                let ep = node.endpoint()?;
                let (polling, polls) = (polling.clone(), polls.clone());
                Ok(std::thread::spawn(move || {
                    while polling.load(Ordering::Relaxed) {
                        if ep.get("/status", &[]).is_ok_and(|r| r.status == 200) {
                            polls.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }))
            })
            .collect::<Result<_>>()?;
        std::thread::sleep(Duration::from_millis(500));
        let polled = writes(&ep, max_number + 1 + n_writes as u64, n_writes, last);
        polling.store(false, Ordering::Relaxed);
        for h in handles {
            let _ = h.join();
        }
        let polled = polled?;
        node.stop()?;
        Ok(StatusBench {
            small,
            large,
            status_small_ms: ms[0],
            status_large_ms: ms[1],
            ratio_large_to_small: ms[1] / ms[0],
            pollers,
            writes: n_writes,
            write_p99_idle_ms: p99(&idle),
            write_p99_polled_ms: p99(&polled),
            ratio_polled_to_idle: p99(&polled) / p99(&idle),
            polls_answered: polls.load(Ordering::Relaxed),
        })
    })();
    let _ = std::fs::remove_dir_all(&root);
    let r = result?;
    if json {
        accord_report::print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    print!(
        "{}",
        table::render(
            &["measure", "value"],
            &[
                vec![
                    format!("GET /status, {} notifications (median)", r.small),
                    format!("{:.2} ms", r.status_small_ms)
                ],
                vec![
                    format!("GET /status, {} notifications (median)", r.large),
                    format!("{:.2} ms", r.status_large_ms)
                ],
                vec![
                    "large ÷ small (target ≤ 2×)".into(),
                    format!("{:.2}×", r.ratio_large_to_small)
                ],
                vec![
                    format!("operator write p99, {} writes, no polling", r.writes),
                    format!("{:.2} ms", r.write_p99_idle_ms)
                ],
                vec![
                    format!(
                        "… with {} clients polling /status ({} polls)",
                        r.pollers, r.polls_answered
                    ),
                    format!("{:.2} ms", r.write_p99_polled_ms)
                ],
                vec![
                    "polled ÷ idle (target ≤ 2×)".into(),
                    format!("{:.2}×", r.ratio_polled_to_idle)
                ],
            ]
        )
    );
    Ok(ExitCode::SUCCESS)
}
