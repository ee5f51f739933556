//! `accord history`

use accord_registry::history::{
    self, Cell, CheckedRow, BUILTIN_AGGREGATES, BUILTIN_AGGREGATES_NAME,
};
use accord_report::table;
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
        let ids: Vec<String> = treaty
            .limits
            .iter()
            .filter(|l| l.max.fixed().is_some())
            .map(|l| l.id.clone())
            .collect();
        let mut head = vec!["date", "party"];
        head.extend(ids.iter().map(String::as_str));
        head.push("status");
        let table_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                let mut v = vec![r.date.to_string(), r.party.clone()];
                for id in &ids {
                    let cell = r.limits.iter().find(|l| &l.id == id);
                    v.push(match cell {
                        Some(l) => match (l.value, l.max) {
                            (Cell::Value(x), Some(m)) if l.exceeded => format!("{x} > {m} !"),
                            (Cell::Value(x), Some(m)) if l.above => format!("{x} > {m}"),
                            (c, _) => c.to_string(),
                        },
                        None => "—".into(),
                    });
                }
                let some_value = r.limits.iter().any(|l| l.value.value().is_some());
                v.push(if r.missing_data_exchange.is_some() {
                    "MISSING EXCHANGE".into()
                } else if !r.in_force {
                    "treaty not in force".into()
                } else if !some_value {
                    "no numbers published".into()
                } else if !r.findings.is_empty() {
                    "FINDING".into()
                } else if r.limits.iter().any(|l| l.binding) {
                    if r.limits.iter().all(|l| l.value.value().is_some()) {
                        "limits bind: ok".into()
                    } else {
                        "limits bind: ok where published".into()
                    }
                } else {
                    "limits not yet binding".into()
                });
                v
            })
            .collect();
        println!(
            "Published New START aggregates under {}{} (limits bind from {})",
            treaty.name,
            treaty
                .reading
                .as_ref()
                .and_then(|r| treaty.reading_named(r))
                .map_or(String::new(), |r| format!(
                    ", counted under the reading {} ({})",
                    r.id, r.name
                )),
            treaty
                .limits
                .first()
                .map_or(String::new(), |l| l.binding_from.to_string())
        );
        print!("{}", table::render(&head, &table_rows));
        println!("  `x > m` above the limit before it binds (no finding); `x > m !` above a binding limit (a finding)");
        if findings == 0 {
            println!("  findings: none");
        } else {
            println!("  findings: {findings}");
            for r in &rows {
                for f in &r.findings {
                    println!("    [limit_exceeded] {f}");
                }
                if let Some(f) = &r.missing_data_exchange {
                    println!("    [{}] {}: {}", f.kind, f.date, f.message);
                }
            }
        }
        if let Some(p) = &a.svg {
            println!("  chart: {}", p.display());
        }
    }
    Ok(crate::finding_code(findings > 0))
}
