//! `accord inspect …`

use accord_inspect::game::{self, Objective, Plan, Site};
use accord_inspect::model::{self, Violation};
use accord_inspect::odds::{self, Stage};
use accord_inspect::record::InspectionRecord;
use accord_registry::Store;
use accord_treaty::Treaty;
use anyhow::{bail, Context, Result};
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

/// The game's sites for a registry on a date, and the default number of inspections.
fn game_for(
    st: &Store,
    t: &Treaty,
    date: NaiveDate,
    violation: Violation,
) -> Result<(Vec<Site>, u32)> {
    Ok(model::game(t, &st.state_on(t, date)?, violation)?)
}

pub(crate) fn plans(sites: &[Site], k: u32, o: Objective) -> Result<[Plan; 3]> {
    Ok([
        game::optimal(sites, k, o)?,
        game::uniform(sites, k, o)?,
        game::proportional(sites, k, o)?,
    ])
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
            let n = odds::sample_size(population, violations, target)?;
            let reached = odds::odds(population, violations, n)?.p_detect;
            if json {
                crate::print_json(&serde_json::json!({
                    "population": population, "violations": violations, "target": target,
                    "samples": n, "p_detect": reached,
                }))?;
            } else {
                println!("sample {n} of {population} to detect at least one of {violations} with probability ≥ {target} (reaches {reached})");
            }
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
            let l = odds::ln_p_miss_two_stage(&s, draw)?;
            let (pd, pm) = (-l.exp_m1(), l.exp());
            if json {
                crate::print_json(
                    &serde_json::json!({"sites": s.len(), "draw": draw, "p_detect": pd, "p_miss": pm, "log10_p_miss": l / std::f64::consts::LN_10}),
                )?;
            } else {
                println!(
                    "drawing {draw} of {} sites: P(detect) = {pd}, P(miss) = {pm}",
                    s.len()
                );
            }
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
            let v =
                Violation::parse(&violation).map_err(|e| anyhow::anyhow!("--violation: {e}"))?;
            let o = Objective::from(obj);
            let (st, t) = open(&dir)?;
            let (sites, quota) = game_for(&st, &t, date, v)?;
            let k = inspections.unwrap_or(quota);
            let ps = plans(&sites, k, o)?;
            if let Some(path) = &svg {
                let state = st.state_on(&t, date)?;
                let svg = accord_report::figure::plan_svg(
                    &t,
                    &state,
                    st.meta().synthetic,
                    date,
                    v,
                    &ps[0],
                    quota,
                    o,
                )?;
                std::fs::write(path, svg).with_context(|| path.display().to_string())?;
            }
            if json {
                crate::print_json(&serde_json::json!({
                    "party": st.meta().party, "date": date, "synthetic": st.meta().synthetic,
                    "violation": violation, "objective": o, "inspections": k, "plans": ps,
                }))?;
            } else {
                print_plans(&st, date, v, k, &ps);
                if let Some(p) = &svg {
                    println!("  charts: {}", p.display());
                }
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
            let v =
                Violation::parse(&violation).map_err(|e| anyhow::anyhow!("--violation: {e}"))?;
            let o = Objective::from(obj);
            if trials == 0 {
                bail!("--trials: at least 1");
            }
            let (st, t) = open(&dir)?;
            let (sites, quota) = game_for(&st, &t, date, v)?;
            let k = inspections.unwrap_or(quota);
            let p = match plan {
                PlanArg::Optimal => game::optimal(&sites, k, o)?,
                PlanArg::Uniform => game::uniform(&sites, k, o)?,
                PlanArg::Proportional => game::proportional(&sites, k, o)?,
            };
            let plan = format!("{plan:?}").to_lowercase();
            let x: Vec<f64> = p.sites.iter().map(|s| s.probability).collect();
            let c = p
                .sites
                .iter()
                .position(|s| s.facility == p.best_response)
                .unwrap_or(0);
            let pb = accord_report::progress::spinner(trials > 200_000, "simulating");
            let sim = accord_inspect::simulate(&sites, &x, c, k, trials, seed, p.p_detect);
            pb.finish_and_clear();
            if json {
                crate::print_json(&serde_json::json!({
                    "party": st.meta().party, "date": date, "synthetic": st.meta().synthetic, "plan": plan,
                    "violation": violation, "inspections": k, "cheat_site": p.best_response, "simulation": sim,
                }))?;
            } else {
                println!(
                    "{} treaty years of {k} inspections ({plan} plan) against {} at {}, {}:",
                    sim.trials,
                    v.describe(),
                    p.best_response,
                    if st.meta().synthetic {
                        "SYNTHETIC registry"
                    } else {
                        "declared registry"
                    }
                );
                println!(
                    "  caught {} times: rate {:.5}, 99.9 % interval [{:.5}, {:.5}]; exact {:.5}: {}",
                    sim.detected,
                    sim.rate,
                    sim.ci_low,
                    sim.ci_high,
                    sim.exact,
                    if sim.agrees { "agrees" } else { "DISAGREES" }
                );
            }
            return Ok(crate::finding_code(!sim.agrees));
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

pub(crate) fn print_plans(st: &Store, date: NaiveDate, v: Violation, k: u32, ps: &[Plan; 3]) {
    if st.meta().synthetic {
        println!("{}", accord_synth::SYNTHETIC);
    }
    print!(
        "{}",
        accord_report::text::plans(&st.meta().party, date, v, k, ps)
    );
}
