//! Starting forces: a SYNTHETIC registry generated at the party's latest
//! published data exchange on or before the date (every number of that row
//! sourced in `data/new-start-aggregates.csv`), or at the futures file's
//! `[start]` aggregates when the party publishes none.

use crate::data::Futures;
use crate::force::Force;
use crate::Start;
use accord_registry::history::{self, BUILTIN_AGGREGATES, BUILTIN_AGGREGATES_NAME};
use accord_synth::{Targets, Template};
use accord_treaty::Treaty;
use chrono::NaiveDate;

/// Generates `party`'s starting force on `from` under `treaty`.
pub fn published(
    treaty: &Treaty,
    party: &str,
    from: NaiveDate,
    futures: &Futures,
    seed: u64,
) -> Result<Start, String> {
    let reference = Treaty::load("new-start").map_err(|e| e.to_string())?;
    let rows = history::parse(BUILTIN_AGGREGATES_NAME, BUILTIN_AGGREGATES, &reference)
        .map_err(|e| e.to_string())?;
    let value = |r: &history::HistoryRow, id: &str| r.values.get(id).and_then(|c| c.value());
    let row = rows
        .iter()
        .filter(|r| r.party == party && r.date <= from)
        .filter_map(|r| {
            Some((
                r,
                value(r, "deployed_delivery_vehicles")?,
                value(r, "deployed_warheads")?,
                value(r, "deployed_and_nondeployed_launchers")?,
            ))
        })
        .max_by_key(|(r, ..)| r.date);
    let (date, targets, provenance) = match (row, &futures.start) {
        (Some((r, v, w, l)), _) => (
            r.date,
            Targets {
                deployed_delivery_vehicles: v,
                deployed_warheads: w,
                launchers: l,
            },
            format!(
                "SYNTHETIC registry generated at {party}'s published data exchange of {} ({v} / {w} / {l}; {}:{} — {})",
                r.date, BUILTIN_AGGREGATES_NAME, r.line, r.source_url
            ),
        ),
        (None, Some(s)) => (
            from,
            Targets {
                deployed_delivery_vehicles: s.deployed_delivery_vehicles,
                deployed_warheads: s.deployed_warheads,
                launchers: s.launchers,
            },
            format!(
                "SYNTHETIC registry generated at assumed aggregates {} / {} / {} ({})",
                s.deployed_delivery_vehicles, s.deployed_warheads, s.launchers, s.source
            ),
        ),
        (None, None) => {
            return Err(format!(
                "{party}: no published data exchange on or before {from} and no [start] in its futures file"
            ))
        }
    };
    let template = Template::load(party).map_err(|e| e.to_string())?;
    let force = accord_synth::generate(treaty, &template, targets, date, seed)
        .map_err(|e| format!("{party}: {e}"))?;
    // The starting aggregates are the regime's, as for every other report;
    // a force that does not reproduce its targets is refused, not projected.
    let report = accord_regime::compliance(
        treaty,
        party,
        &force.notifications,
        true,
        accord_regime::Observations::default(),
        &[date],
    );
    let got = report.first().map(|r| {
        [
            "deployed_delivery_vehicles",
            "deployed_warheads",
            "deployed_and_nondeployed_launchers",
        ]
        .map(|id| r.aggregates.get(id).copied().unwrap_or(0))
    });
    let want = [
        targets.deployed_delivery_vehicles,
        targets.deployed_warheads,
        targets.launchers,
    ];
    if got != Some(want) {
        return Err(format!(
            "{party}: the generated force on {date} counts {got:?}, not the targets {want:?}"
        ));
    }
    let (state, _) = accord_registry::store::fold(treaty, party, &force.notifications);
    Ok(Start {
        force: Force::from_state(treaty, &state, futures, from),
        provenance,
        synthetic: true,
    })
}
