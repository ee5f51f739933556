//! The figure of an inspection plan: the probability each site is drawn,
//! and the chance of detection against inspections spent for several sizes
//! of the violation (each point an exact optimal plan), in one SVG.

use accord_inspect::game::{self, Objective, Plan};
use accord_inspect::model::{self, Violation};
use accord_inspect::odds::OddsError;
use accord_registry::State;
use accord_treaty::Treaty;
use chrono::NaiveDate;

/// Why the figure could not be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FigureError {
    /// A plan could not be solved.
    #[error(transparent)]
    Odds(#[from] OddsError),
    /// The chart could not be drawn.
    #[error("drawing: {0}")]
    Draw(String),
}

/// The plan and the detection curves as one SVG document. `state` is the
/// inspected party's registry state on `date`; `synthetic` labels it.
#[allow(clippy::too_many_arguments)]
pub fn plan_svg(
    treaty: &Treaty,
    state: &State,
    synthetic: bool,
    date: NaiveDate,
    v: Violation,
    plan: &Plan,
    quota: u32,
    o: Objective,
) -> Result<String, FigureError> {
    let party = state.party();
    let bars: Vec<(String, f64)> = plan
        .sites
        .iter()
        .map(|s| (s.facility.clone(), s.probability))
        .collect();
    let synthetic = if synthetic {
        " (SYNTHETIC registry)"
    } else {
        ""
    };
    let a = crate::bars_svg(
        &format!("Optimal plan: probability each site is drawn, {party} on {date}{synthetic}"),
        &bars,
        "probability per inspection",
        &format!(
            "Against {}; {} inspections a year; exact minimax of the inspection game.",
            v.describe(),
            plan.inspections
        ),
    )
    .map_err(FigureError::Draw)?;
    let sizes: Vec<u64> = match v {
        Violation::ExtraReentryVehicles { .. } => vec![1, 2, 5, 10],
        Violation::UndeclaredItems { .. } => vec![1],
    };
    let mut curves = vec![];
    for r in sizes {
        let vr = match v {
            Violation::ExtraReentryVehicles { .. } => {
                Violation::ExtraReentryVehicles { missiles: r }
            }
            other => other,
        };
        let sites = model::sites(treaty, state, vr);
        let mut pts = vec![];
        for k in 0..=(quota * 2).max(4) {
            pts.push((f64::from(k), game::optimal(&sites, k, o)?.p_detect));
        }
        curves.push((vr.describe(), pts));
    }
    let b = crate::curves_svg(
        &format!("Detection probability against inspections spent, {party} on {date}{synthetic}"),
        "inspections in the treaty year",
        "P(detect) at the cheater's best response",
        &curves,
        "Optimal plan for each number of inspections; exact hypergeometric odds.",
    )
    .map_err(FigureError::Draw)?;
    // One file, two figures stacked.
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"{}\">\n<g>{a}</g>\n<g transform=\"translate(0,{})\">{b}</g>\n</svg>\n",
        svg_height(&a) + 480,
        svg_height(&a)
    ))
}

fn svg_height(svg: &str) -> u32 {
    svg.split("height=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .and_then(|h| h.parse().ok())
        .unwrap_or(400)
}
