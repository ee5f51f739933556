//! `accord scenario`: the proposals of 2020–2026 compared, with every
//! assumption visible and sourced (issue #7).

use accord_scenario::data::{self, Futures};
use accord_scenario::force::Force;
use accord_scenario::{Loaded, Start};
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use std::collections::BTreeMap;
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

/// Every built-in proposal from `from`, on generated starting forces (what
/// `accord demo` ends with).
pub(crate) fn compare_builtin(
    from: NaiveDate,
    years: u32,
    seed: u64,
) -> Result<accord_scenario::Comparison> {
    build(&CompareArgs {
        from,
        years,
        proposals: vec![],
        registries: vec![],
        futures: vec![],
        seed,
        html: None,
        json: false,
    })
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
    if a.years == 0 || a.years > 50 {
        bail!("--years: 1 to 50");
    }
    let ids: Vec<String> = if a.proposals.is_empty() {
        data::builtin_proposals()
            .into_iter()
            .map(String::from)
            .collect()
    } else {
        a.proposals.clone()
    };
    let proposals: Vec<Loaded> = ids
        .iter()
        .map(|id| Loaded::load(id))
        .collect::<Result<_, _>>()?;
    // Every party of every proposal, with the first treaty that lists it.
    let mut parties: BTreeMap<String, &accord_treaty::Treaty> = BTreeMap::new();
    for p in &proposals {
        for party in p.parties() {
            parties.entry(party).or_insert(&p.treaty);
        }
    }
    let mut futures: BTreeMap<String, Futures> = BTreeMap::new();
    for f in &a.futures {
        let (party, path) = pair("--futures", f)?;
        futures.insert(party.to_string(), data::load_futures(path)?);
    }
    for party in parties.keys() {
        if !futures.contains_key(party) {
            futures.insert(party.clone(), data::load_futures(party)?);
        }
    }
    let mut forces: BTreeMap<String, Start> = BTreeMap::new();
    for r in &a.registries {
        let (party, dir) = pair("--registry", r)?;
        let treaty = parties.get(party).ok_or_else(|| {
            anyhow::anyhow!("--registry {party}: no compared proposal binds {party}")
        })?;
        let store = accord_registry::Store::open(std::path::Path::new(dir))
            .with_context(|| format!("--registry {party}={dir}"))?;
        if store.meta().party != party {
            bail!(
                "--registry {party}={dir}: the registry is {}'s",
                store.meta().party
            );
        }
        let state = store.state_on(treaty, a.from)?;
        let fut = futures
            .get(party)
            .ok_or_else(|| anyhow::anyhow!("{party}: no futures"))?;
        forces.insert(
            party.to_string(),
            Start {
                force: Force::from_state(treaty, &state, fut, a.from),
                provenance: format!(
                    "registry {dir} on {} ({}{})",
                    a.from,
                    store.meta().provenance,
                    if store.meta().synthetic {
                        ", SYNTHETIC"
                    } else {
                        ""
                    }
                ),
                synthetic: store.meta().synthetic,
            },
        );
    }
    for (party, treaty) in &parties {
        if forces.contains_key(party) {
            continue;
        }
        let fut = futures
            .get(party)
            .ok_or_else(|| anyhow::anyhow!("{party}: no futures"))?;
        let s = accord_scenario::start::published(treaty, party, a.from, fut, a.seed)
            .map_err(anyhow::Error::msg)?;
        forces.insert(party.clone(), s);
    }
    Ok(accord_scenario::compare(
        &proposals, a.from, a.years, forces, futures,
    )?)
}
