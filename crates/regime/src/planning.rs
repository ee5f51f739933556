//! Inspection planning on a registry: the game's sites on a date, the three
//! plans side by side, and a simulation of a plan — what `accord inspect
//! plan` and `accord inspect simulate` report (the binary only prints it).
//!
//! The sites and the quota come from `accord_inspect::model::game` on the
//! registry's state on the date; the plans are the game's optimum (the
//! inspector's minimax strategy), uniform and proportional to warheads; the
//! simulation draws `trials` treaty years from a plan against the cheater's
//! best response to it and checks the exact detection probability lies in
//! the simulated rate's 99.9 % interval.

use crate::error::RegimeError;
use accord_inspect::game::{self, Objective, Plan, Site};
use accord_inspect::model::{self, Violation};
use accord_inspect::Simulation;
use accord_registry::Store;
use accord_treaty::Treaty;
use chrono::NaiveDate;
use serde::Serialize;

/// The plans of a party's registry on a date (`accord inspect plan --json`).
#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    /// The inspected party.
    pub party: String,
    /// The date of the registry's state.
    pub date: NaiveDate,
    /// Whether the registry is SYNTHETIC.
    pub synthetic: bool,
    /// The violation, as given (`extra-rv:R`, `undeclared:U`).
    pub violation: String,
    /// The violation, parsed.
    #[serde(skip)]
    pub kind: Violation,
    /// What the plans optimise.
    pub objective: Objective,
    /// Inspections a year the plans use.
    pub inspections: u32,
    /// The treaty's yearly quota of the inspection type.
    pub quota: u32,
    /// Optimal, uniform and proportional, in that order.
    pub plans: [Plan; 3],
}

/// Which plan to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    /// The game's optimum.
    Optimal,
    /// Every site alike.
    Uniform,
    /// In proportion to the warheads at a site.
    Proportional,
}

impl PlanKind {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            PlanKind::Optimal => "optimal",
            PlanKind::Uniform => "uniform",
            PlanKind::Proportional => "proportional",
        }
    }
}

/// A simulated plan (`accord inspect simulate --json`).
#[derive(Debug, Clone, Serialize)]
pub struct SimulationReport {
    /// The inspected party.
    pub party: String,
    /// The date of the registry's state.
    pub date: NaiveDate,
    /// Whether the registry is SYNTHETIC.
    pub synthetic: bool,
    /// The plan simulated.
    pub plan: String,
    /// The violation, as given.
    pub violation: String,
    /// The violation, parsed.
    #[serde(skip)]
    pub kind: Violation,
    /// Inspections a year.
    pub inspections: u32,
    /// Where the cheater cheats: its best response to the plan.
    pub cheat_site: String,
    /// What the trials found.
    pub simulation: Simulation,
}

/// A violation as given on the command line (`extra-rv:R`, `undeclared:U`).
pub fn violation(s: &str) -> Result<Violation, RegimeError> {
    Violation::parse(s).map_err(|message| RegimeError::Violation {
        given: s.to_string(),
        message,
    })
}

fn sites(
    st: &Store,
    t: &Treaty,
    date: NaiveDate,
    v: Violation,
) -> Result<(Vec<Site>, u32), RegimeError> {
    let state = st.state_on(t, date)?;
    Ok(model::game(t, &state, v)?)
}

fn one(sites: &[Site], k: u32, o: Objective, kind: PlanKind) -> Result<Plan, RegimeError> {
    Ok(match kind {
        PlanKind::Optimal => game::optimal(sites, k, o)?,
        PlanKind::Uniform => game::uniform(sites, k, o)?,
        PlanKind::Proportional => game::proportional(sites, k, o)?,
    })
}

/// The three plans against `violation` on `date`, with `inspections` a
/// year (default: the treaty's quota of the inspection type).
pub fn plans(
    st: &Store,
    t: &Treaty,
    date: NaiveDate,
    violation_text: &str,
    objective: Objective,
    inspections: Option<u32>,
) -> Result<PlanReport, RegimeError> {
    let v = violation(violation_text)?;
    let (s, quota) = sites(st, t, date, v)?;
    let k = inspections.unwrap_or(quota);
    Ok(PlanReport {
        party: st.meta().party.clone(),
        date,
        synthetic: st.meta().synthetic,
        violation: violation_text.to_string(),
        kind: v,
        objective,
        inspections: k,
        quota,
        plans: [
            one(&s, k, objective, PlanKind::Optimal)?,
            one(&s, k, objective, PlanKind::Uniform)?,
            one(&s, k, objective, PlanKind::Proportional)?,
        ],
    })
}

/// What to simulate.
#[derive(Debug, Clone, Copy)]
pub struct Trials {
    /// Treaty years to draw (at least 1).
    pub trials: u64,
    /// The draws' seed.
    pub seed: u64,
}

/// Simulates `kind` against the cheater's best response to it.
#[allow(clippy::too_many_arguments)]
pub fn simulate(
    st: &Store,
    t: &Treaty,
    date: NaiveDate,
    violation_text: &str,
    objective: Objective,
    inspections: Option<u32>,
    kind: PlanKind,
    trials: Trials,
) -> Result<SimulationReport, RegimeError> {
    if trials.trials == 0 {
        return Err(RegimeError::NoTrials);
    }
    let v = violation(violation_text)?;
    let (s, quota) = sites(st, t, date, v)?;
    let k = inspections.unwrap_or(quota);
    let p = one(&s, k, objective, kind)?;
    let x: Vec<f64> = p.sites.iter().map(|s| s.probability).collect();
    let c = p
        .sites
        .iter()
        .position(|s| s.facility == p.best_response)
        .unwrap_or(0);
    let sim = accord_inspect::simulate(&s, &x, c, k, trials.trials, trials.seed, p.p_detect);
    Ok(SimulationReport {
        party: st.meta().party.clone(),
        date,
        synthetic: st.meta().synthetic,
        plan: kind.name().to_string(),
        violation: violation_text.to_string(),
        kind: v,
        inspections: k,
        cheat_site: p.best_response,
        simulation: sim,
    })
}
