//! Inspection plans as a zero-sum game, solved exactly.
//!
//! # The game
//!
//! Sites `j = 1..S`. If the cheater violates at site `j` (say, loads extra
//! reentry vehicles on `r_j` of its `N_j` deployed missiles), it gains `g_j`
//! (the extra warheads) unless caught. One inspection at site `j` picks
//! `n_j` items uniformly and catches the violation with the exact
//! hypergeometric probability `d_j = P(detect; N_j, r_j, n_j)`.
//!
//! The inspector spends `k` inspections a treaty year, each at a site drawn
//! independently with probabilities `x = (x_1..x_S)`, `Σx = 1`, the item
//! within the site uniformly. A violation at `j` then goes undetected with
//! probability `(1 − x_j d_j)^k`, and the cheater's expected gain is
//! `u_j(x) = g_j (1 − x_j d_j)^k`. The cheater answers with the site that
//! maximises `u_j`; the inspector chooses `x` to minimise that maximum:
//!
//! ```text
//! v* = min_x max_j g_j (1 − x_j d_j)^k.
//! ```
//!
//! # The exact solution
//!
//! Each `u_j` is decreasing in `x_j` alone. For a target value `v`, site `j`
//! needs at least `x_j(v) = (1 − (v/g_j)^(1/k)) / d_j` when `g_j > v` (and
//! nothing otherwise). `Σ_j x_j(v)` is continuous and strictly decreasing in
//! `v` where positive, so the optimum is the unique `v*` with
//! `Σ_j x_j(v*) = 1` (or, if even `v = max g` needs no inspections, zero).
//! At `v*` every site in the support leaves the cheater exactly indifferent
//! (`u_j = v*`), and every site outside it is worth at most `v*`: no unilateral
//! change of `x` lowers the maximum, which is the minimax condition. A site
//! with `d_j = 0` cannot be protected: `v* ≥ g_j` for it.
//!
//! # Two objectives
//!
//! With `--objective gain` the weights are the gains `g_j` above: the
//! inspector minimises the cheater's expected undetected gain. With
//! `--objective detection` (the default) every site where the violation is
//! possible weighs 1: the cheater goes where it is least likely to be caught,
//! and the inspector maximises that smallest detection probability,
//! `max_x min_j 1 − (1 − x_j d_j)^k`. Both are the same program with
//! different weights `w_j`, solved the same way.
//!
//! `v*` is found by bisection on the exact monotone function to the last bit
//! of a double, so the plan is exact to floating-point precision. Within a
//! site, drawing missiles uniformly is optimal by symmetry: any other rule
//! lets the cheater load the missile least likely to be drawn.

use crate::odds::{odds, OddsError};
use serde::Serialize;

/// What the inspector optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Maximise the probability of catching the cheater's best response.
    Detection,
    /// Minimise the cheater's expected undetected gain.
    Gain,
}

impl Objective {
    /// Parses `detection` or `gain`.
    pub fn parse(s: &str) -> Result<Objective, String> {
        match s {
            "detection" => Ok(Objective::Detection),
            "gain" => Ok(Objective::Gain),
            other => Err(format!("`{other}`: expected detection or gain")),
        }
    }

    fn weight(self, s: &Site) -> f64 {
        match self {
            Objective::Detection => {
                if s.gain > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Objective::Gain => s.gain,
        }
    }
}

/// A site as the game sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Site {
    /// Facility id.
    pub facility: String,
    /// Items an inspection chooses among (deployed missiles for an RV inspection).
    pub items: u64,
    /// Items the cheater would alter if it cheats here.
    pub violating: u64,
    /// Items an inspection examines.
    pub samples: u64,
    /// What the cheater gains if undetected here.
    pub gain: f64,
    /// Warheads declared at the site (for the proportional plan).
    pub warheads: u64,
}

impl Site {
    /// The chance one inspection here catches the violation.
    pub fn detect_per_inspection(&self) -> Result<f64, OddsError> {
        if self.items == 0 {
            return Ok(0.0);
        }
        Ok(odds(
            self.items,
            self.violating.min(self.items),
            self.samples.min(self.items),
        )?
        .p_detect)
    }
}

/// A randomised plan and how it fares against the cheater's best response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// How the plan was made: `optimal`, `uniform` or `proportional`.
    pub name: String,
    /// What the cheater's best response is judged by.
    pub objective: Objective,
    /// Inspections per treaty year.
    pub inspections: u32,
    /// Each site's probability of being drawn for an inspection.
    pub sites: Vec<PlannedSite>,
    /// The cheater's best response to this plan.
    pub best_response: String,
    /// Chance the violation is caught within the year, at the best response.
    pub p_detect: f64,
    /// The cheater's expected undetected gain at the best response (the game's value).
    pub expected_undetected_gain: f64,
}

/// A site in a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedSite {
    /// Facility id.
    pub facility: String,
    /// Probability of being drawn for each inspection.
    pub probability: f64,
    /// Chance one inspection here catches a violation here.
    pub detect_per_inspection: f64,
    /// Chance a violation here is caught within the year.
    pub p_detect_year: f64,
    /// The cheater's expected undetected gain if it cheats here.
    pub expected_undetected_gain: f64,
}

/// Evaluates a plan `x` (one probability per site) with `k` inspections.
pub fn evaluate(
    name: &str,
    sites: &[Site],
    x: &[f64],
    k: u32,
    objective: Objective,
) -> Result<Plan, OddsError> {
    let mut planned = vec![];
    for (s, &p) in sites.iter().zip(x) {
        let d = s.detect_per_inspection()?;
        let miss = (1.0 - p * d).max(0.0).powi(k as i32);
        planned.push(PlannedSite {
            facility: s.facility.clone(),
            probability: p,
            detect_per_inspection: d,
            p_detect_year: 1.0 - miss,
            expected_undetected_gain: s.gain * miss,
        });
    }
    // The cheater's best response: the largest weighted chance of getting
    // away with it; ties go to the larger gain, then the least-watched site.
    let best = planned
        .iter()
        .zip(sites)
        .enumerate()
        .filter(|(_, (_, s))| objective.weight(s) > 0.0)
        .max_by(|(_, (a, sa)), (_, (b, sb))| {
            let ua = objective.weight(sa) * (1.0 - a.p_detect_year);
            let ub = objective.weight(sb) * (1.0 - b.p_detect_year);
            ua.total_cmp(&ub)
                .then(
                    a.expected_undetected_gain
                        .total_cmp(&b.expected_undetected_gain),
                )
                .then(b.p_detect_year.total_cmp(&a.p_detect_year))
        })
        .map(|(i, _)| i);
    let (best_response, p_detect, value) = match best {
        Some(i) => (
            planned[i].facility.clone(),
            planned[i].p_detect_year,
            planned[i].expected_undetected_gain,
        ),
        None => (String::new(), 0.0, 0.0),
    };
    Ok(Plan {
        name: name.to_string(),
        objective,
        inspections: k,
        sites: planned,
        best_response,
        p_detect,
        expected_undetected_gain: value,
    })
}

/// The minimax plan (see the module notes).
pub fn optimal(sites: &[Site], k: u32, objective: Objective) -> Result<Plan, OddsError> {
    let d: Vec<f64> = sites
        .iter()
        .map(Site::detect_per_inspection)
        .collect::<Result<_, _>>()?;
    let w: Vec<f64> = sites.iter().map(|s| objective.weight(s)).collect();
    let gmax = w.iter().copied().fold(0.0f64, f64::max);
    // Sites that cannot be protected bound the value from below.
    let floor = w
        .iter()
        .zip(&d)
        .filter(|(_, &dj)| dj <= 0.0)
        .map(|(&wj, _)| wj)
        .fold(0.0f64, f64::max);
    let kf = f64::from(k.max(1));
    let need = |v: f64| -> Vec<f64> {
        w.iter()
            .zip(&d)
            .map(|(&wj, &dj)| {
                if dj <= 0.0 || wj <= v || wj <= 0.0 {
                    0.0
                } else {
                    (1.0 - (v / wj).powf(1.0 / kf)) / dj
                }
            })
            .collect()
    };
    let x = if k == 0 || gmax <= 0.0 || sites.is_empty() {
        vec![1.0 / sites.len().max(1) as f64; sites.len()]
    } else {
        let total = |v: f64| need(v).iter().sum::<f64>();
        let (mut lo, mut hi) = (floor, gmax);
        if total(lo) <= 1.0 {
            hi = lo;
        } else {
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if mid <= lo || mid >= hi {
                    break;
                }
                if total(mid) > 1.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
        }
        let mut x = need(hi);
        let sum: f64 = x.iter().sum();
        // Spread any slack (rounding, or a value pinned by an unprotectable
        // site) uniformly over protectable sites: it cannot raise the maximum.
        let slack = 1.0 - sum;
        let protectable = d.iter().filter(|&&dj| dj > 0.0).count().max(1) as f64;
        for (xi, &dj) in x.iter_mut().zip(&d) {
            if dj > 0.0 || d.iter().all(|&z| z <= 0.0) {
                *xi += slack / protectable;
            }
            *xi = xi.max(0.0);
        }
        let s2: f64 = x.iter().sum();
        x.iter().map(|v| v / s2).collect()
    };
    evaluate("optimal", sites, &x, k, objective)
}

/// Every site equally likely.
pub fn uniform(sites: &[Site], k: u32, objective: Objective) -> Result<Plan, OddsError> {
    let x = vec![1.0 / sites.len().max(1) as f64; sites.len()];
    evaluate("uniform", sites, &x, k, objective)
}

/// Sites in proportion to their declared warheads.
pub fn proportional(sites: &[Site], k: u32, objective: Objective) -> Result<Plan, OddsError> {
    let total: u64 = sites.iter().map(|s| s.warheads).sum();
    let x: Vec<f64> = if total == 0 {
        vec![1.0 / sites.len().max(1) as f64; sites.len()]
    } else {
        sites
            .iter()
            .map(|s| s.warheads as f64 / total as f64)
            .collect()
    };
    evaluate("proportional", sites, &x, k, objective)
}
