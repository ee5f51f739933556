//! `accord inspect …`

use accord_inspect::game::Objective;
use accord_inspect::odds::{self, Stage};
use accord_inspect::record::InspectionRecord;
use accord_regime::planning::{self, PlanKind, Trials};
use accord_registry::Store;
use accord_treaty::Treaty;
use anyhow::{Context, Result};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub(crate) enum Cmd {
    /// The chance that K items sampled without replacement from N include at
    /// least one of R violating items (exact; N up to 10^15).
    Odds(OddsArgs),
    /// The smallest sample reaching a target detection probability.
    SampleSize {
        /// N.
        #[arg(long)]
        population: u64,
        /// R.
        #[arg(long)]
        violations: u64,
        /// Target probability in (0, 1] (IAEA conventions: 0.9 high, 0.2 low).
        #[arg(long)]
        target: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Two stages: M of the sites drawn, then items within each (a JSON file
    /// of `[{"population", "violations", "samples"}, …]`).
    TwoStage {
        /// The sites file.
        #[arg(long)]
        sites: PathBuf,
        /// Sites drawn, M.
        #[arg(long)]
        draw: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The optimal randomised plan against a cheater's best response, beside
    /// a uniform and a proportional-to-warheads plan.
    Plan {
        /// The inspected party's registry.
        dir: PathBuf,
        /// The date of the registry state to plan against.
        #[arg(long)]
        date: NaiveDate,
        /// What the cheater can do: extra-rv:R (R missiles at one base carry
        /// extra reentry vehicles) or undeclared:U (U items hidden at a site).
        #[arg(long, default_value = "extra-rv:1")]
        violation: String,
        /// What the plan optimises.
        #[arg(long, value_enum, default_value_t = ObjectiveArg::Detection)]
        objective: ObjectiveArg,
        /// Inspections a year (default: the treaty quota for the type).
        #[arg(long)]
        inspections: Option<u32>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Draw the site probabilities and detection against inspections spent.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Monte Carlo of a treaty year against the cheater's best response; exit
    /// 1 if the exact value falls outside the 99.9 % interval.
    Simulate {
        /// The inspected party's registry.
        dir: PathBuf,
        /// The date of the registry state.
        #[arg(long)]
        date: NaiveDate,
        /// Violation model (see `plan`).
        #[arg(long, default_value = "extra-rv:1")]
        violation: String,
        /// The plan simulated.
        #[arg(long, value_enum, default_value_t = PlanArg::Optimal)]
        plan: PlanArg,
        /// What the plan optimises (see `plan`).
        #[arg(long, value_enum, default_value_t = ObjectiveArg::Detection)]
        objective: ObjectiveArg,
        /// Inspections a year (default: the treaty quota).
        #[arg(long)]
        inspections: Option<u32>,
        /// Trials.
        #[arg(long)]
        trials: u64,
        /// Seed.
        #[arg(long)]
        seed: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record an inspection (JSON) in the inspected party's registry, after
    /// checking the treaty allows it.
    Record {
        /// The inspected party's registry.
        dir: PathBuf,
        /// The inspection record file.
        file: PathBuf,
        /// Also append it to the inspecting party's log (a log store).
        #[arg(long)]
        log: Option<PathBuf>,
    },
    /// Findings from the recorded inspections up to a date (exit 1 if any).
    Findings {
        /// The inspected party's registry.
        dir: PathBuf,
        /// The date.
        #[arg(long)]
        date: NaiveDate,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// What an inspection plan optimises.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum ObjectiveArg {
    /// Maximise the chance of catching the cheater's best response.
    Detection,
    /// Minimise the cheater's expected undetected gain.
    Gain,
}

impl From<ObjectiveArg> for Objective {
    fn from(o: ObjectiveArg) -> Objective {
        match o {
            ObjectiveArg::Detection => Objective::Detection,
            ObjectiveArg::Gain => Objective::Gain,
        }
    }
}

/// A plan of where to inspect.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum PlanArg {
    /// The exact minimax plan of the inspection game.
    Optimal,
    /// Every site alike.
    Uniform,
    /// In proportion to the warheads at each site.
    Proportional,
}

/// N, R, K: shared by `inspect odds` and `freeze odds`.
#[derive(clap::Args)]
pub(crate) struct OddsArgs {
    /// Items in the population, N.
    #[arg(long)]
    population: u64,
    /// Violating items, R.
    #[arg(long)]
    violations: u64,
    /// Items sampled, K.
    #[arg(long)]
    samples: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Prints the exact odds of one draw.
pub(crate) fn print_odds(a: &OddsArgs) -> Result<()> {
    let o = odds::odds(a.population, a.violations, a.samples)?;
    if a.json {
        crate::print_json(&o)?;
    } else {
        // Below the smallest double, say it as a power of ten.
        let miss = if o.p_miss > 0.0 {
            o.p_miss.to_string()
        } else {
            o.log10_p_miss
                .map_or_else(|| "0".to_string(), |l| format!("10^{l:.6}"))
        };
        println!(
            "sampling {} of {} with {} violating: P(detect) = {}, P(miss) = {miss}",
            a.samples, a.population, a.violations, o.p_detect
        );
    }
    Ok(())
}

fn open(dir: &Path) -> Result<(Store, Treaty)> {
    let st = Store::open(dir)?;
    let t = Treaty::load(&st.meta().treaty)?;
    Ok((st, t))
}

/// The recorded inspections of a registry.
pub(crate) fn run(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::Odds(a) => print_odds(&a)?,
        Cmd::SampleSize {
            population,
            violations,
            target,
            json,
        } => {
            let r = odds::sample_size_report(population, violations, target)?;
            crate::emit(json, &r, accord_report::text::sample_size)?;
        }
        Cmd::TwoStage { sites, draw, json } => {
            let text =
                std::fs::read_to_string(&sites).with_context(|| sites.display().to_string())?;
            let s: Vec<Stage> = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{}: expected [{{\"population\", \"violations\", \"samples\"}}, …]",
                    sites.display()
                )
            })?;
            let r = odds::two_stage(&s, draw)?;
            crate::emit(json, &r, accord_report::text::two_stage)?;
        }
        Cmd::Plan {
            dir,
            date,
            violation,
            objective: obj,
            inspections,
            json,
            svg,
        } => {
            let (st, t) = open(&dir)?;
            let r = planning::plans(&st, &t, date, &violation, obj.into(), inspections)?;
            if let Some(path) = &svg {
                let state = st.state_on(&t, date)?;
                let svg = accord_report::figure::plan_svg(
                    &t,
                    &state,
                    r.synthetic,
                    date,
                    r.kind,
                    &r.plans[0],
                    r.quota,
                    r.objective,
                )?;
                std::fs::write(path, svg).with_context(|| path.display().to_string())?;
            }
            crate::emit(json, &r, accord_report::text::plan_report)?;
            if let (Some(p), false) = (&svg, json) {
                println!("  charts: {}", p.display());
            }
        }
        Cmd::Simulate {
            dir,
            date,
            violation,
            plan,
            objective: obj,
            inspections,
            trials,
            seed,
            json,
        } => {
            let (st, t) = open(&dir)?;
            let kind = match plan {
                PlanArg::Optimal => PlanKind::Optimal,
                PlanArg::Uniform => PlanKind::Uniform,
                PlanArg::Proportional => PlanKind::Proportional,
            };
            let pb = accord_report::progress::spinner(trials > 200_000, "simulating");
            let r = planning::simulate(
                &st,
                &t,
                date,
                &violation,
                obj.into(),
                inspections,
                kind,
                Trials { trials, seed },
            );
            pb.finish_and_clear();
            let r = r?;
            crate::emit(json, &r, accord_report::text::simulation)?;
            return Ok(crate::finding_code(!r.simulation.agrees));
        }
        Cmd::Record { dir, file, log } => {
            let (st, t) = open(&dir)?;
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file).with_context(|| name.clone())?;
            let rec: InspectionRecord = accord_api::read(&name, text.as_bytes())?;
            let recorded = accord_regime::inspection::recorded(&st)?;
            accord_regime::inspection::check(&t, &st, &recorded, &rec)?;
            // Appended to the inspector's log first (if asked), then stored.
            let mut l = log.as_deref().map(accord_log::LogStore::open).transpose()?;
            let logged = accord_regime::inspection::log_and_store(l.as_mut(), &st, &rec)?;
            println!(
                "recorded inspection {} of {} at {} on {}",
                rec.id, rec.inspected_party, rec.site, rec.date
            );
            if let (Some(i), Some(p)) = (logged, &log) {
                println!("  appended to {} as entry {i}", p.display());
            }
        }
        Cmd::Findings { dir, date, json } => {
            let view = accord_regime::view::View::open(&dir)?;
            let t = Treaty::load(&view.registry().meta().treaty)?;
            let f = accord_regime::compliance::inspection_findings(
                &t,
                &view.registry().meta().party,
                &view.inspections()?,
                date,
            );
            if json {
                crate::print_json(&f)?;
            } else {
                crate::registry::print_findings("  ", &f);
            }
            return Ok(crate::finding_code(!f.is_empty()));
        }
    }
    Ok(ExitCode::SUCCESS)
}
