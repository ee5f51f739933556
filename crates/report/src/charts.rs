//! Charts of a treaty's limits: one panel per fixed limit, and the
//! published aggregate history drawn against them.

use crate::{aggregates_svg, Panel, Series};
use accord_registry::history::CheckedRow;
use accord_treaty::Treaty;

/// One chart panel per fixed limit of the treaty.
pub fn panels(treaty: &Treaty) -> Vec<Panel> {
    treaty
        .limits
        .iter()
        .filter(|l| l.max.fixed().is_some())
        .map(|l| Panel {
            limit: l.id.clone(),
            title: format!("{} (Art. {})", l.name, l.article),
            max: l.max.fixed(),
            binding_from: l.binding_from,
            binding_until: None,
        })
        .collect()
}

/// The published history of every party against the treaty's limits.
pub fn history_chart(rows: &[CheckedRow], treaty: &Treaty) -> Result<String, String> {
    let panels = panels(treaty);
    let mut series = vec![];
    for p in &treaty.parties {
        for panel in &panels {
            let points = rows
                .iter()
                .filter(|r| r.party == p.code)
                .map(|r| {
                    (
                        r.date,
                        r.limits
                            .iter()
                            .find(|l| l.id == panel.limit)
                            .and_then(|l| l.value.value()),
                    )
                })
                .collect();
            series.push(Series {
                label: p.code.clone(),
                limit: panel.limit.clone(),
                points,
            });
        }
    }
    aggregates_svg(
        "New START aggregate data exchanges (published)",
        &panels,
        &series,
        "Sources: the source_url of each row in data/new-start-aggregates.csv. Gaps are unconfirmed or not provided, never zero.",
    )
}
