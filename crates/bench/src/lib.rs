//! `accord bench`: speed measured against the raw primitive in the same run
//! (these machines are noisy: the ratios are what to compare).
//!
//! `accord bench replay`: replay speed, measured against serde_json in the same run.
//!
//! The parent generates the notifications and writes them as JSON Lines;
//! a child process (this binary again) does the measuring, so its peak
//! memory is the replay's own and not the generator's.

#![forbid(unsafe_code)]

mod draw;
mod exchange;
mod log;
mod node;
mod status;

use accord_registry::notification::parse_one;
use accord_registry::{compliance, Event, Meta, Notification, Store};
use accord_report::progress::spinner;
use accord_report::table;
use accord_synth::{Targets, Template, YearOptions};
use accord_treaty::Treaty;
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// `accord bench …`.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Generate N notifications, then replay them and evaluate compliance at
    /// every data-exchange date; report notifications per second, peak memory,
    /// and the ratio to serde_json parsing the same lines.
    Replay {
        /// Change notifications to generate.
        #[arg(long, default_value_t = 1_000_000)]
        notifications: usize,
        /// Days they span (from 1 Sep 2020; must end before the treaty expires).
        #[arg(long, default_value_t = 1800)]
        days: u32,
        /// Runs of each measurement (the median is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Also time the SQLite path (ingest with validation, and replay from the store).
        #[arg(long)]
        sqlite: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The log: durable append throughput (batches of 1, 100, 10,000) against
    /// raw SQLite commits of the same rows; a full audit of N entries against
    /// the SHA-256 floor; inclusion and consistency proof latency at N.
    Log {
        /// Entries in the audited log.
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
        /// Runs of the audit and the floor (the median is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Exact odds: evaluations per second for random (N, R, K) with N up to
    /// 10^9 on one core, beside scipy.stats.hypergeom on the same triples
    /// (when Python with scipy is present); and Monte Carlo trials per second.
    Odds {
        /// Evaluations.
        #[arg(long, default_value_t = 1_000_000)]
        evaluations: usize,
        /// Monte Carlo treaty years to simulate.
        #[arg(long, default_value_t = 1_000_000)]
        trials: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The freeze: committing N records against SHA-256 over the same bytes;
    /// cap proofs for 16, 64 and 256 sites against the bulletproofs crate's
    /// own verification of a proof of the same size; verifying a disclosure
    /// of 1,000 records.
    Freeze {
        /// Records to commit.
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A node on loopback: sustained durable notifications per second from
    /// concurrent clients, with p50/p99 acknowledgement latency, against the
    /// log's raw one-entry durable append in the same run.
    Node {
        /// Notifications to send.
        #[arg(long, default_value_t = 20_000)]
        notifications: u64,
        /// Concurrent clients (each one keep-alive connection).
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Slowloris connections during the attack run.
        #[arg(long, default_value_t = 200)]
        slowloris: usize,
        /// Anonymous clients reading /history and /status in a loop during
        /// the attack run.
        #[arg(long, default_value_t = 8)]
        read_loops: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Two nodes on loopback: how fast one pulls, verifies and mirrors the
    /// other's log (signed reads, consistency, the tree against the signed
    /// root, every entry parsed and staged, durable mirror, receipts), against
    /// the log's raw durable append of the same entries in the same run.
    Exchange {
        /// Notifications in the peer's log.
        #[arg(long, default_value_t = 20_000)]
        notifications: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// What a `/status` poll costs as the history grows (small against
    /// large, in the same run), and what continuous polling costs the
    /// operators who write (write p99 with pollers against none).
    Status {
        /// Notifications in the small registry.
        #[arg(long, default_value_t = 10_000)]
        small: u64,
        /// Notifications in the large registry.
        #[arg(long, default_value_t = 1_000_000)]
        large: u64,
        /// Clients polling `/status` during the second write run.
        #[arg(long, default_value_t = 8)]
        pollers: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verifying a draw's transcript (signatures, proofs, commitment, the
    /// population's digest, the draw recomputed) over a population of ITEMS,
    /// against the raw Ed25519 verifications it holds, interleaved in the
    /// same run (target: at most 1.5×).
    Draw {
        /// Items in the population (at ITEMS / 100 sites).
        #[arg(long, default_value_t = 4000)]
        items: usize,
        /// Rounds (the medians are reported).
        #[arg(long, default_value_t = 31)]
        rounds: usize,
        /// Calls of each per round.
        #[arg(long, default_value_t = 20)]
        batch: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// (internal) audit a log in its own process; used by `bench log`.
    #[command(hide = true)]
    AuditFile {
        /// The log store.
        store: PathBuf,
        /// Its verifier key.
        vkey: PathBuf,
    },
    /// (internal) measure a JSON Lines file; used by `bench replay`.
    #[command(hide = true)]
    ReplayFile {
        /// The JSON Lines file.
        file: PathBuf,
        /// Runs.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// value | typed | replay | sqlite
        #[arg(long)]
        phase: String,
    },
}

/// What one replay measurement found.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Measured {
    notifications: usize,
    bytes: usize,
    data_exchange_dates: usize,
    serde_value_parse_s: f64,
    serde_value_peak_mib: f64,
    serde_typed_parse_s: f64,
    replay_s: f64,
    replay_notifications_per_s: f64,
    ratio_replay_to_serde_value: f64,
    ratio_replay_to_serde_typed: f64,
    replay_peak_mib: f64,
    sqlite_ingest_s: Option<f64>,
    sqlite_replay_s: Option<f64>,
    sqlite_peak_mib: Option<f64>,
    findings: usize,
}

pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

pub(crate) fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Runs a benchmark.
pub fn run(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::Replay {
            notifications,
            days,
            repeat,
            sqlite,
            json,
        } => {
            let treaty = Treaty::load(accord_regime::DEFAULT_TREATY)?;
            let template = Template::load("US").map_err(anyhow::Error::msg)?;
            let start = NaiveDate::from_ymd_opt(2020, 9, 1).unwrap_or(NaiveDate::MIN);
            let pb = spinner(
                true,
                &format!("generating {notifications} notifications (synthetic, seed 1)"),
            );
            let targets = Targets {
                deployed_delivery_vehicles: 675,
                deployed_warheads: 1457,
                launchers: 800,
            };
            let (all, _) = accord_synth::store::synthesize(
                &treaty,
                &template,
                targets,
                start,
                1,
                Some(YearOptions {
                    days,
                    notifications,
                    late: 0,
                    seed: 1,
                }),
            )?;
            if let Some(end) = all.iter().map(|n| n.date).max() {
                if !treaty.in_force_on(end) {
                    bail!("--days: the notifications would run to {end}, past the treaty's expiry");
                }
            }
            let dir = std::env::temp_dir().join(format!("accord-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let file = dir.join("notifications.jsonl");
            {
                let mut f = std::io::BufWriter::new(std::fs::File::create(&file)?);
                for n in &all {
                    writeln!(f, "{}", n.to_json())?;
                }
                f.flush()?;
            }
            drop(all);
            let exe = std::env::current_exe()?;
            let phase = |name: &str| -> Result<Phase> {
                pb.set_message(format!("measuring {name} ({repeat} runs)"));
                let out = std::process::Command::new(&exe)
                    .args(["bench", "replay-file"])
                    .arg(&file)
                    .args(["--repeat", &repeat.to_string(), "--phase", name])
                    .output()
                    .context("running the measuring child")?;
                if !out.status.success() {
                    bail!(
                        "measuring child ({name}) failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                Ok(serde_json::from_slice(&out.stdout)?)
            };
            let value = phase("value")?;
            let typed = phase("typed")?;
            let replay = phase("replay")?;
            let sql = if sqlite { Some(phase("sqlite")?) } else { None };
            pb.finish_and_clear();
            let _ = std::fs::remove_dir_all(&dir);
            let m = Measured {
                notifications: replay.notifications,
                bytes: replay.bytes,
                data_exchange_dates: replay.data_exchange_dates,
                serde_value_parse_s: value.seconds,
                serde_value_peak_mib: value.peak_mib,
                serde_typed_parse_s: typed.seconds,
                replay_s: replay.seconds,
                replay_notifications_per_s: replay.notifications as f64 / replay.seconds,
                ratio_replay_to_serde_value: replay.seconds / value.seconds,
                ratio_replay_to_serde_typed: replay.seconds / typed.seconds,
                replay_peak_mib: replay.peak_mib,
                sqlite_ingest_s: sql.as_ref().and_then(|p| p.ingest_s),
                sqlite_replay_s: sql.as_ref().map(|p| p.seconds),
                sqlite_peak_mib: sql.as_ref().map(|p| p.peak_mib),
                findings: replay.findings,
            };
            if json {
                accord_report::print_json(&m)?;
            } else {
                print_measured(&m);
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Log {
            entries,
            repeat,
            json,
        } => crate::log::run(entries, repeat, json),
        Cmd::Odds {
            evaluations,
            trials,
            json,
        } => crate::log::odds(evaluations, trials, json),
        Cmd::Freeze { records, json } => crate::log::freeze(records, json),
        Cmd::Node {
            notifications,
            clients,
            slowloris,
            read_loops,
            json,
        } => crate::node::run(notifications, clients, slowloris, read_loops, json),
        Cmd::Exchange {
            notifications,
            json,
        } => crate::exchange::run(notifications, json),
        Cmd::Status {
            small,
            large,
            pollers,
            json,
        } => crate::status::run(small, large, pollers, json),
        Cmd::Draw {
            items,
            rounds,
            batch,
            json,
        } => crate::draw::run(items, rounds, batch, json),
        Cmd::AuditFile { store, vkey } => crate::log::audit_child(&store, &vkey),
        Cmd::ReplayFile {
            file,
            repeat,
            phase,
        } => {
            let m = measure(&file, repeat.max(1), &phase)?;
            accord_report::print_json(&m)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_measured(m: &Measured) {
    println!(
        "replay of {} SYNTHETIC notifications ({:.1} MiB of JSON Lines), compliance at {} data-exchange dates",
        m.notifications,
        m.bytes as f64 / 1048576.0,
        m.data_exchange_dates
    );
    let mut rows = vec![
        vec![
            "serde_json → Value (the raw primitive)".to_string(),
            format!("{:.3}", m.serde_value_parse_s),
            "1.00".into(),
            format!("{:.0}", m.serde_value_peak_mib),
        ],
        vec![
            "serde_json → Notification (typed)".to_string(),
            format!("{:.3}", m.serde_typed_parse_s),
            format!("{:.2}", m.serde_typed_parse_s / m.serde_value_parse_s),
            String::new(),
        ],
        vec![
            "replay: parse + fold + evaluate".to_string(),
            format!("{:.3}", m.replay_s),
            format!("{:.2}", m.ratio_replay_to_serde_value),
            format!("{:.0}", m.replay_peak_mib),
        ],
    ];
    if let (Some(i), Some(r)) = (m.sqlite_ingest_s, m.sqlite_replay_s) {
        rows.push(vec![
            "SQLite: validated ingest".into(),
            format!("{i:.3}"),
            format!("{:.2}", i / m.serde_value_parse_s),
            String::new(),
        ]);
        rows.push(vec![
            "SQLite: read + replay".into(),
            format!("{r:.3}"),
            format!("{:.2}", r / m.serde_value_parse_s),
            format!("{:.0}", m.sqlite_peak_mib.unwrap_or(0.0)),
        ]);
    }
    print!(
        "{}",
        table::render(
            &["stage (median)", "seconds", "× serde Value", "peak MiB"],
            &rows
        )
    );
    println!(
        "  replay: {:.0} notifications/s; {:.2}× serde_json → Value, {:.2}× serde_json → typed (target ≤ 3×); findings {}",
        m.replay_notifications_per_s, m.ratio_replay_to_serde_value, m.ratio_replay_to_serde_typed, m.findings
    );
}

/// serde_json alone: every line into `T`, kept until all are parsed.
fn parse_all<T: serde::de::DeserializeOwned>(lines: &[&str]) -> Result<()> {
    let v: Vec<T> = lines
        .iter()
        .map(|l| serde_json::from_str(l))
        .collect::<Result<_, _>>()?;
    std::hint::black_box(v);
    Ok(())
}

/// One phase, measured in its own process.
#[derive(Debug, Serialize, Deserialize)]
struct Phase {
    notifications: usize,
    bytes: usize,
    data_exchange_dates: usize,
    seconds: f64,
    peak_mib: f64,
    ingest_s: Option<f64>,
    findings: usize,
}

fn measure(file: &PathBuf, repeat: usize, phase: &str) -> Result<Phase> {
    let treaty = Treaty::load(accord_regime::DEFAULT_TREATY)?;
    let text = std::fs::read_to_string(file)?;
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let time = |f: &mut dyn FnMut() -> Result<()>| -> Result<f64> {
        let mut xs = vec![];
        for _ in 0..repeat {
            let t = Instant::now();
            f()?;
            xs.push(t.elapsed().as_secs_f64());
        }
        Ok(median(xs))
    };
    let mut findings = 0;
    let mut dates_n = 0;
    let mut ingest_s = None;
    let seconds = match phase {
        "value" => time(&mut || parse_all::<serde_json::Value>(&lines))?,
        "typed" => time(&mut || parse_all::<Notification>(&lines))?,
        "replay" => time(&mut || {
            let all: Vec<Notification> = lines
                .iter()
                .enumerate()
                .map(|(i, l)| parse_one(l, &format!("line {}", i + 1)))
                .collect::<Result<_, _>>()?;
            let dates: Vec<NaiveDate> = all
                .iter()
                .filter(|n| matches!(n.event, Event::DataExchange { .. }))
                .map(|n| n.date)
                .collect();
            let party = all.first().map(|n| n.party.clone()).unwrap_or_default();
            let reports = compliance::evaluate(&treaty, &party, &all, &dates, true);
            findings = reports.iter().map(|r| r.findings.len()).max().unwrap_or(0);
            dates_n = dates.len();
            Ok(())
        })?,
        "sqlite" => {
            let parsed: Vec<(String, Notification)> = lines
                .iter()
                .enumerate()
                .map(|(i, l)| parse_one(l, &format!("line {}", i + 1)).map(|n| (String::new(), n)))
                .collect::<Result<_, _>>()?;
            let party = parsed
                .first()
                .map(|n| n.1.party.clone())
                .unwrap_or_default();
            let dir = file.with_extension("store");
            let _ = std::fs::remove_dir_all(&dir);
            let meta = Meta {
                party,
                treaty: treaty.id.clone(),
                synthetic: true,
                provenance: "bench".into(),
            };
            let t = Instant::now();
            let mut st = Store::create(&dir, meta)?;
            st.append(&treaty, &parsed)?;
            ingest_s = Some(t.elapsed().as_secs_f64());
            let dates: Vec<NaiveDate> = parsed
                .iter()
                .filter(|n| matches!(n.1.event, Event::DataExchange { .. }))
                .map(|n| n.1.date)
                .collect();
            drop(parsed);
            let s = time(&mut || {
                std::hint::black_box(st.evaluate(&treaty, &dates)?);
                Ok(())
            })?;
            drop(st);
            let _ = std::fs::remove_dir_all(&dir);
            s
        }
        other => bail!("--phase: `{other}`: expected value, typed, replay or sqlite"),
    };
    Ok(Phase {
        notifications: lines.len(),
        bytes: text.len(),
        data_exchange_dates: dates_n,
        seconds,
        peak_mib: peak_mib(),
        ingest_s,
        findings,
    })
}
