//! `accord scenario`: the proposals of 2020–2026 compared, with every
//! assumption visible and sourced (issue #7).

use accord_scenario::data;
use accord_scenario::Loaded;
use anyhow::{Context, Result};
use chrono::NaiveDate;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub(crate) enum Cmd {
    /// Compare proposals from a date: limits in force over time, projected
    /// forces, what remains verifiable, and days left to each deadline.
    ///
    /// Starting forces are SYNTHETIC registries generated at each party's
    /// latest published data exchange on or before --from (or given with
    /// --registry). Projections follow data/futures/PARTY.toml (stockpile,
    /// upload rate, bomber loads, modernisation), every figure sourced or
    /// marked as an assumption.
    Compare(CompareArgs),
    /// List the proposals shipped with accord.
    List,
    /// Show one proposal: its treaty, its terms and its sources.
    Show {
        /// A built-in proposal id or a path.
        proposal: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub(crate) struct CompareArgs {
    /// The date compared from, e.g. 2020-10-20 (108 days before 5 Feb 2021).
    #[arg(long)]
    from: NaiveDate,
    /// Years to project.
    #[arg(long, default_value_t = 10)]
    years: u32,
    /// Proposals (built-in ids or paths); default: every built-in one.
    #[arg(long = "proposal")]
    proposals: Vec<String>,
    /// A party's starting registry instead of a generated one: PARTY=DIR.
    #[arg(long = "registry")]
    registries: Vec<String>,
    /// A party's futures file instead of the built-in one: PARTY=FILE.
    #[arg(long = "futures")]
    futures: Vec<String>,
    /// Seed of the generated starting forces.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Write the HTML report (with SVG charts) here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Print JSON: {from, years, synthetic, forces, futures, proposals: [{name, title, expires, days_left, …}]}.
    #[arg(long)]
    json: bool,
}

fn pair<'a>(flag: &str, s: &'a str) -> Result<(&'a str, &'a str)> {
    s.split_once('=')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .ok_or_else(|| anyhow::anyhow!("{flag} `{s}`: expected PARTY=PATH"))
}

pub(crate) fn run(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::List => {
            for id in data::builtin_proposals() {
                let p = data::load_proposal(id)?;
                println!("{:<18} {:<22} {}", id, p.proposal.status, p.proposal.name);
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Show { proposal, json } => {
            let l = Loaded::load(&proposal)?;
            if json {
                crate::print_json(&l.file)?;
            } else {
                let p = &l.file.proposal;
                println!("{} ({})", p.name, p.id);
                println!("  {}", p.summary);
                println!(
                    "  treaty {} ({}), in force {} to {}; parties {}",
                    l.treaty.id,
                    l.treaty.name,
                    l.treaty.entry_into_force,
                    l.treaty.expires(),
                    l.parties().join(", ")
                );
                if let Some(pre) = &l.predecessor {
                    println!("  until then: {} (to {})", pre.name, pre.expires());
                }
                if let Some(a) = &l.file.after {
                    println!(
                        "  after expiry: the central limits observed until {} ({})",
                        a.limits_observed_until,
                        if a.verified { "verified" } else { "unverified" }
                    );
                    println!("    source: {}", a.source);
                }
                println!("  status: {}", p.status);
                println!("  source: {}", p.source);
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Compare(a) => compare(a),
    }
}

fn compare(a: CompareArgs) -> Result<ExitCode> {
    let c = build(&a)?;
    if let Some(path) = &a.html {
        let page = accord_scenario::report::html(&c).map_err(anyhow::Error::msg)?;
        std::fs::write(path, page).with_context(|| path.display().to_string())?;
    }
    if a.json {
        crate::print_json(&c)?;
    } else {
        print!("{}", accord_scenario::report::table(&c));
        if let Some(path) = &a.html {
            println!("Report: {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn build(a: &CompareArgs) -> Result<accord_scenario::Comparison> {
    let pairs = |flag: &str, list: &[String]| -> Result<Vec<(String, String)>> {
        list.iter()
            .map(|s| pair(flag, s).map(|(p, v)| (p.to_string(), v.to_string())))
            .collect()
    };
    let request = accord_scenario::request::Request {
        from: a.from,
        years: a.years,
        proposals: a.proposals.clone(),
        registries: pairs("--registry", &a.registries)?
            .into_iter()
            .map(|(p, d)| (p, PathBuf::from(d)))
            .collect(),
        futures: pairs("--futures", &a.futures)?,
        seed: a.seed,
    };
    Ok(request.run()?)
}
