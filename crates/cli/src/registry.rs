//! `accord generate`, `accord check`, `accord registry …`

use accord_registry::notification::parse_file_located;
use accord_registry::{Meta, Store};
use accord_report::table;
use accord_synth::store::write_registry;
use accord_synth::{Targets, YearOptions};
use accord_treaty::Treaty;
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Default treaty: New START as it was in force (signed 2010, extended 2021).
pub(crate) const DEFAULT_TREATY: &str = "new-start-2021";

#[derive(clap::Args)]
pub(crate) struct GenerateArgs {
    /// The party (a party code of the treaty, with a force template: US, RU).
    #[arg(long)]
    party: String,
    /// The date the aggregates hold on (YYYY-MM-DD).
    #[arg(long)]
    date: NaiveDate,
    /// Deployed ICBMs, SLBMs and heavy bombers to reproduce.
    #[arg(long)]
    deployed_delivery_vehicles: u64,
    /// Deployed warheads to reproduce (Article III counting).
    #[arg(long)]
    deployed_warheads: u64,
    /// Deployed and non-deployed launchers and heavy bombers to reproduce.
    #[arg(long)]
    launchers: u64,
    /// Seed: the same seed gives the same registry, item for item.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Directory to create the registry in (must not hold one).
    #[arg(long)]
    out: PathBuf,
    /// Add a year of realistic notifications after the date.
    #[arg(long)]
    year_of_notifications: bool,
    /// How many change notifications to add (implies --year-of-notifications;
    /// up to millions, for benchmarks).
    #[arg(long)]
    notifications: Option<usize>,
    /// Days the added notifications span.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// At most how many of the added notifications to send late, on purpose
    /// (only where that reorders no item's notifications).
    #[arg(long, default_value_t = 0)]
    late: usize,
    /// Treaty (built-in name or path).
    #[arg(long, default_value = DEFAULT_TREATY)]
    treaty: String,
    /// Force template: a party code of a built-in one, or a path.
    #[arg(long)]
    template: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn generate(a: GenerateArgs) -> Result<ExitCode> {
    let treaty = Treaty::load(&a.treaty)?;
    let year = (a.year_of_notifications || a.notifications.is_some()).then(|| YearOptions {
        days: a.days,
        notifications: a
            .notifications
            .unwrap_or(YearOptions::default().notifications),
        late: a.late,
        seed: a.seed,
    });
    let request = accord_synth::store::Request {
        treaty: &treaty,
        party: &a.party,
        date: a.date,
        targets: Targets {
            deployed_delivery_vehicles: a.deployed_delivery_vehicles,
            deployed_warheads: a.deployed_warheads,
            launchers: a.launchers,
        },
        seed: a.seed,
        template: a.template.as_deref().unwrap_or(&a.party),
        year,
        out: &a.out,
    };
    request.check()?;
    let spinner = accord_report::progress::spinner(
        year.is_some_and(|y| y.notifications > 20_000),
        "generating",
    );
    let (all, provenance) = request.notifications()?;
    spinner.set_message(format!("storing {} notifications", all.len()));
    let st = write_registry(&a.out, &treaty, &a.party, &all, &provenance)?;
    spinner.finish_and_clear();
    let report = accord_regime::compliance_of(
        &treaty,
        &st,
        accord_regime::Observations::default(),
        &[a.date],
    )?
    .remove(0);
    let g = accord_synth::store::Generated {
        party: a.party,
        date: a.date,
        treaty: treaty.id.clone(),
        synthetic: true,
        provenance,
        out: a.out,
        seed: a.seed,
        items: st.items()?.len() as u64,
        notifications: all.len() as u64,
        aggregates: report.aggregates.clone(),
    };
    crate::emit(a.json, &g, |g| {
        accord_report::text::generated(g, &treaty, &report)
    })?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(crate) struct CheckArgs {
    /// The registry directory.
    dir: PathBuf,
    /// The date to check (YYYY-MM-DD).
    #[arg(long)]
    date: NaiveDate,
    /// Treaty (built-in name or path); default: the one the registry was made under.
    #[arg(long)]
    treaty: Option<String>,
    /// Count under a named reading of the treaty (e.g. ru-objections).
    #[arg(long)]
    reading: Option<String>,
    /// Print JSON: party, date, the three aggregates, limits, findings.
    #[arg(long)]
    json: bool,
}

pub(crate) fn check(a: CheckArgs) -> Result<ExitCode> {
    let view = accord_regime::view::View::open(&a.dir)?;
    let st = view.registry();
    let treaty = Treaty::load(a.treaty.as_deref().unwrap_or(&st.meta().treaty))?;
    let treaty = a
        .reading
        .as_deref()
        .map_or(Ok(treaty.clone()), |r| treaty.with_reading(r))?;
    let report = view
        .reports(&treaty, &[a.date])?
        .pop()
        .context("no report")?;
    let seen_by = view.node().map(|n| n.display().to_string());
    crate::emit(a.json, &report, |r| {
        accord_report::text::check(&treaty, r, st.meta().synthetic, seen_by.as_deref())
    })?;
    Ok(crate::finding_code(!report.findings.is_empty()))
}

pub(crate) fn print_findings(indent: &str, findings: &[accord_registry::Finding]) {
    print!("{}", table::findings(indent, findings));
}

#[derive(clap::Subcommand)]
pub(crate) enum Cmd {
    /// Create an empty registry for a party.
    Init {
        /// Directory.
        dir: PathBuf,
        /// Party code.
        #[arg(long)]
        party: String,
        /// Treaty.
        #[arg(long, default_value = DEFAULT_TREATY)]
        treaty: String,
    },
    /// Add notifications (JSON Lines, a JSON array, or one JSON object).
    /// All or nothing: a bad one rejects the file and changes nothing.
    Add {
        /// Directory.
        dir: PathBuf,
        /// Notification file.
        file: PathBuf,
    },
    /// Re-fold every stored notification and rewrite the state tables
    /// (exit 1 if they had differed from the notifications).
    Rebuild {
        /// Directory.
        dir: PathBuf,
    },
    /// Write the stored notifications as JSON Lines.
    Export {
        /// Directory.
        dir: PathBuf,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Summarize a registry: what it is and what it holds now.
    Show {
        /// Directory.
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::Init { dir, party, treaty } => {
            let t = Treaty::load(&treaty)?;
            if t.party(&party).is_none() {
                bail!("--party: `{party}` is not a party to {}", t.id);
            }
            Store::create(
                &dir,
                Meta {
                    party: party.clone(),
                    treaty: t.id.clone(),
                    synthetic: false,
                    provenance: "declared by operators".into(),
                },
            )?;
            println!(
                "created an empty {party} registry under {} in {}",
                t.id,
                dir.display()
            );
        }
        Cmd::Add { dir, file } => {
            let mut st = Store::open(&dir)?;
            let treaty = Treaty::load(&st.meta().treaty)?;
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file).with_context(|| name.clone())?;
            let pb = accord_report::progress::spinner(text.len() > 4 << 20, "checking and adding");
            let batch = parse_file_located(&name, &text)?;
            let added = st.append(&treaty, &batch)?;
            pb.finish_and_clear();
            println!(
                "added {added} notifications to {} ({} in all)",
                dir.display(),
                st.len()?
            );
        }
        Cmd::Rebuild { dir } => {
            let mut st = Store::open(&dir)?;
            let treaty = Treaty::load(&st.meta().treaty)?;
            let pb = accord_report::progress::spinner(st.len()? > 100_000, "re-folding");
            let identical = st.rebuild(&treaty)?;
            pb.finish_and_clear();
            if identical {
                println!(
                    "rebuilt {} from {} notifications: identical",
                    dir.display(),
                    st.len()?
                );
            } else {
                println!(
                    "rebuilt {} from {} notifications: the stored state DIFFERED and was replaced",
                    dir.display(),
                    st.len()?
                );
                return Ok(ExitCode::from(1));
            }
        }
        Cmd::Export { dir, out } => {
            let st = Store::open(&dir)?;
            let mut w: Box<dyn std::io::Write> = match &out {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p).with_context(|| p.display().to_string())?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            for (_, body) in st.bodies()? {
                writeln!(w, "{body}")?;
            }
            w.flush()?;
        }
        Cmd::Show { dir, json } => {
            let summary = Store::open(&dir)?.summary()?;
            crate::emit(json, &summary, accord_report::text::registry_summary)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
