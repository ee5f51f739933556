//! The published aggregate numbers (State Department fact sheets and others),
//! checked against the limits binding on each row's date.
//!
//! The file is CSV with a header `date,party,<limit id>…,source_url`. A cell
//! is a non-negative integer, `unconfirmed` (no source found) or
//! `not_provided` (the party gave no data). Neither is ever read as zero.

use crate::error::InputError;
use accord_treaty::Treaty;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// The published New START aggregates shipped with accord (`data/new-start-aggregates.csv`).
pub const BUILTIN_AGGREGATES: &str = include_str!("../../../data/new-start-aggregates.csv");

/// The name under which the built-in file is known.
pub const BUILTIN_AGGREGATES_NAME: &str = "data/new-start-aggregates.csv";

/// One cell of the published data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// A published number.
    Value(u64),
    /// No source found for this number.
    Unconfirmed,
    /// The party did not provide it.
    NotProvided,
}

impl Cell {
    /// The number, if published.
    pub fn value(self) -> Option<u64> {
        match self {
            Cell::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Value(v) => write!(f, "{v}"),
            Cell::Unconfirmed => f.write_str("unconfirmed"),
            Cell::NotProvided => f.write_str("not_provided"),
        }
    }
}

/// One published row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    /// As-of date.
    pub date: NaiveDate,
    /// Party.
    pub party: String,
    /// Each published cell, by limit id.
    pub values: BTreeMap<String, Cell>,
    /// Where it comes from.
    pub source_url: String,
    /// Line in the file.
    pub line: usize,
}

/// A row checked against the limits binding on its date.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedRow {
    /// As-of date.
    pub date: NaiveDate,
    /// Party.
    pub party: String,
    /// Whether the treaty was in force on the date.
    pub in_force: bool,
    /// Each limit: the cell, the maximum, whether it binds, whether exceeded.
    pub limits: Vec<RowLimit>,
    /// Findings (a binding limit exceeded).
    pub findings: Vec<String>,
    /// Source.
    pub source_url: String,
}

/// One limit on one row.
#[derive(Debug, Clone, Serialize)]
pub struct RowLimit {
    /// Limit id.
    pub id: String,
    /// The published cell.
    pub value: Cell,
    /// The limit's maximum.
    pub max: Option<u64>,
    /// Whether it binds on the row's date.
    pub binding: bool,
    /// Above the maximum (whether or not binding).
    pub above: bool,
    /// Binding and above: a finding.
    pub exceeded: bool,
}

/// Parses the aggregates CSV. Errors name `file:line` and the column.
pub fn parse(file: &str, text: &str, treaty: &Treaty) -> Result<Vec<HistoryRow>, InputError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| InputError::Invalid {
            at: format!("{file}:1"),
            field: "header".to_string(),
            message: e.to_string(),
        })?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(di), Some(pi), Some(si)) = (col("date"), col("party"), col("source_url")) else {
        return Err(InputError::Invalid {
            at: format!("{file}:1"),
            field: "header".to_string(),
            message: "needs the columns date, party and source_url".to_string(),
        });
    };
    let mut limit_cols = vec![];
    for (i, h) in headers.iter().enumerate() {
        if i == di || i == pi || i == si {
            continue;
        }
        if treaty.limit(h).is_none() {
            return Err(InputError::Invalid {
                at: format!("{file}:1"),
                field: h.to_string(),
                message: format!("not a limit of {}", treaty.id),
            });
        }
        limit_cols.push((i, h.to_string()));
    }
    let mut rows = vec![];
    for rec in rdr.records() {
        let rec = rec.map_err(|e| InputError::Invalid {
            at: format!("{file}:{}", e.position().map_or(0, |p| p.line())),
            field: "row".to_string(),
            message: e.to_string(),
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let at = format!("{file}:{line}");
        let bad = |field: &str, message: String| InputError::Invalid {
            at: at.clone(),
            field: field.to_string(),
            message,
        };
        let get = |i: usize| rec.get(i).unwrap_or("").trim();
        let date = NaiveDate::parse_from_str(get(di), "%Y-%m-%d")
            .map_err(|_| bad("date", format!("`{}` is not a date (YYYY-MM-DD)", get(di))))?;
        let party = get(pi).to_string();
        if treaty.party(&party).is_none() {
            return Err(bad(
                "party",
                format!("`{party}` is not a party to {}", treaty.id),
            ));
        }
        let mut values = BTreeMap::new();
        for (i, name) in &limit_cols {
            let raw = get(*i);
            let cell = match raw {
                "unconfirmed" => Cell::Unconfirmed,
                "not_provided" => Cell::NotProvided,
                _ => Cell::Value(raw.parse::<u64>().map_err(|_| {
                    bad(
                        name,
                        format!("`{raw}`: expected a non-negative integer, `unconfirmed` or `not_provided`"),
                    )
                })?),
            };
            values.insert(name.clone(), cell);
        }
        let source_url = get(si).to_string();
        if source_url.is_empty() {
            return Err(bad("source_url", "every row needs its source".to_string()));
        }
        if rows
            .iter()
            .any(|r: &HistoryRow| r.date == date && r.party == party)
        {
            return Err(bad("date", format!("a second row for {party} on {date}")));
        }
        rows.push(HistoryRow {
            date,
            party,
            values,
            source_url,
            line,
        });
    }
    Ok(rows)
}

/// Checks each row against the limits binding on its date.
pub fn check(rows: &[HistoryRow], treaty: &Treaty) -> Vec<CheckedRow> {
    rows.iter()
        .map(|r| {
            let in_force = treaty.in_force_on(r.date);
            let mut findings = vec![];
            let limits = treaty
                .limits
                .iter()
                .filter_map(|l| {
                    let (id, cell) = (&l.id, r.values.get(&l.id)?);
                    let max = l.max.fixed();
                    let binding = in_force && l.binding_from <= r.date;
                    let above = matches!((cell.value(), max), (Some(v), Some(m)) if v > m);
                    let exceeded = binding && above;
                    if exceeded {
                        findings.push(format!(
                            "{} {} on {}: {} is above the limit of {} (binding from {})",
                            r.party,
                            id,
                            r.date,
                            cell,
                            max.unwrap_or(0),
                            l.binding_from
                        ));
                    }
                    Some(RowLimit {
                        id: id.clone(),
                        value: *cell,
                        max,
                        binding,
                        above,
                        exceeded,
                    })
                })
                .collect();
            CheckedRow {
                date: r.date,
                party: r.party.clone(),
                in_force,
                limits,
                findings,
                source_url: r.source_url.clone(),
            }
        })
        .collect()
}

/// The published history shipped with accord, checked against `treaty`.
pub fn builtin(treaty: &Treaty) -> Result<Vec<CheckedRow>, InputError> {
    Ok(check(
        &parse(BUILTIN_AGGREGATES_NAME, BUILTIN_AGGREGATES, treaty)?,
        treaty,
    ))
}
