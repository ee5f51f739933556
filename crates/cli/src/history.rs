//! `accord history`

use accord_registry::history::{self, CheckedRow, BUILTIN_AGGREGATES, BUILTIN_AGGREGATES_NAME};
use accord_treaty::Treaty;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The aggregates CSV (default: the published New START data shipped with accord).
    #[arg(long)]
    aggregates: Option<PathBuf>,
    /// Treaty (built-in name or path).
    #[arg(long, default_value = crate::registry::DEFAULT_TREATY)]
    treaty: String,
    /// Print JSON: one object per row.
    #[arg(long)]
    json: bool,
    /// Also draw the three aggregates for every party against the limits.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Count under a named reading of the treaty (see `accord treaty show`):
    /// `ru-objections` adds the items Russia holds accountable.
    #[arg(long)]
    reading: Option<String>,
    /// The implementation record (default: the treaty's built-in one): each
    /// exchange it says was due and not provided is a missing_data_exchange.
    #[arg(long)]
    record: Option<String>,
    /// Leave the implementation record out.
    #[arg(long, conflicts_with = "record")]
    no_record: bool,
}

/// Reads and checks the aggregates against `treaty` (under its reading)
/// and the record.
pub(crate) fn load_with(
    aggregates: Option<&PathBuf>,
    treaty: &Treaty,
    record: Option<&accord_treaty::Record>,
) -> Result<Vec<CheckedRow>> {
    let (name, text) = match aggregates {
        Some(p) => (
            p.display().to_string(),
            std::fs::read_to_string(p).with_context(|| p.display().to_string())?,
        ),
        None => (
            BUILTIN_AGGREGATES_NAME.to_string(),
            BUILTIN_AGGREGATES.to_string(),
        ),
    };
    let rows = history::parse(&name, &text, treaty)?;
    Ok(history::check_with(&rows, treaty, record))
}

/// The history chart.
pub(crate) fn chart(rows: &[CheckedRow], treaty: &Treaty) -> Result<String> {
    accord_report::charts::history_chart(rows, treaty).map_err(anyhow::Error::msg)
}

pub(crate) fn run(a: Args) -> Result<ExitCode> {
    let treaty = Treaty::load(&a.treaty)?;
    let treaty = match &a.reading {
        Some(r) => treaty.with_reading(r)?,
        None => treaty,
    };
    let record = if a.no_record {
        None
    } else {
        crate::treaty::record_for(&treaty, a.record.as_deref())?
    };
    let rows = load_with(a.aggregates.as_ref(), &treaty, record.as_ref())?;
    if let Some(path) = &a.svg {
        std::fs::write(path, chart(&rows, &treaty)?).with_context(|| path.display().to_string())?;
    }
    let findings: usize = rows.iter().map(|r| r.finding_count()).sum();
    if a.json {
        crate::print_json(&rows)?;
    } else {
        print!("{}", accord_report::text::history(&treaty, &rows));
        if let Some(p) = &a.svg {
            println!("  chart: {}", p.display());
        }
    }
    Ok(crate::finding_code(findings > 0))
}
