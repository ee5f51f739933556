//! The published aggregate numbers (State Department fact sheets and others),
//! checked against the limits binding on each row's date.
//!
//! The file is CSV with a header `date,party,<limit id>…,source_url`. A cell
//! is a non-negative integer, `unconfirmed` (no source found) or
//! `not_provided` (the party gave no data). Neither is ever read as zero.
//!
//! Under a reading ([`Treaty::with_reading`]) each published number is
//! adjusted as the reading says (Russia's objections add the 101 US items
//! it holds accountable); with an implementation record every scheduled
//! exchange the record says was not provided (or was withheld) is a
//! `missing_data_exchange` finding, with a row of its own if the file has
//! none for it.

use crate::error::InputError;
use crate::finding::{Finding, FindingKind};
use accord_treaty::record::{ExchangeStatus, Record};
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
    /// The reading the numbers were counted under, if one was applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reading: Option<String>,
    /// The exchange was due and not provided (or withheld), per the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_data_exchange: Option<Finding>,
}

impl CheckedRow {
    /// How many findings the row carries.
    pub fn finding_count(&self) -> usize {
        self.findings.len() + usize::from(self.missing_data_exchange.is_some())
    }
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
    /// Under a reading: the number as published, before the reading's adjustment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<Cell>,
    /// Under a reading: what was added, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjustment: Option<String>,
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
    check_with(rows, treaty, None)
}

/// Checks each row against the limits binding on its date, under the
/// treaty's reading, and adds a `missing_data_exchange` finding for each
/// scheduled exchange the record says was due and not provided.
pub fn check_with(
    rows: &[HistoryRow],
    treaty: &Treaty,
    record: Option<&Record>,
) -> Vec<CheckedRow> {
    let mut out: Vec<CheckedRow> = rows.iter().map(|r| check_row(r, treaty)).collect();
    let Some(record) = record else {
        return out;
    };
    for (as_of, due) in treaty.data_exchange_schedule() {
        for p in &treaty.parties {
            let status = record.exchange_outcome(&p.code, as_of);
            if status == ExchangeStatus::Provided {
                continue;
            }
            let why = record
                .events
                .iter()
                .rev()
                .find(|e| {
                    e.by.contains(&p.code)
                        && e.as_of_from.is_some_and(|a| a <= as_of)
                        && e.as_of_until.is_none_or(|u| as_of <= u)
                })
                .map(|e| (e.summary.clone(), e.source.clone()));
            let (summary, source) = why.unwrap_or_default();
            let words = if status == ExchangeStatus::Withheld {
                "was withheld as a countermeasure"
            } else {
                "was not provided"
            };
            let finding = Finding {
                kind: FindingKind::MissingDataExchange,
                message: format!(
                    "{}'s data exchange as of {as_of} was due by {due} and {words} ({}: {summary})",
                    p.code, record.file
                ),
                date: due,
                notification: None,
                item: None,
                differences: vec![],
            };
            match out
                .iter_mut()
                .find(|r| r.date == as_of && r.party == p.code)
            {
                Some(r) => r.missing_data_exchange = Some(finding),
                None => {
                    let limits = treaty
                        .limits
                        .iter()
                        .filter(|l| l.max.fixed().is_some())
                        .map(|l| RowLimit {
                            id: l.id.clone(),
                            value: Cell::NotProvided,
                            max: l.max.fixed(),
                            binding: treaty.in_force_on(as_of) && l.binding_from <= as_of,
                            above: false,
                            exceeded: false,
                            published: None,
                            adjustment: None,
                        })
                        .collect();
                    out.push(CheckedRow {
                        date: as_of,
                        party: p.code.clone(),
                        in_force: treaty.in_force_on(as_of),
                        limits,
                        findings: vec![],
                        source_url: source,
                        reading: treaty.reading.clone(),
                        missing_data_exchange: Some(finding),
                    });
                }
            }
        }
    }
    // By date; on one date the published rows keep the file's order and the
    // rows of exchanges never made follow them (a stable sort).
    out.sort_by_key(|r| r.date);
    out
}

fn check_row(r: &HistoryRow, treaty: &Treaty) -> CheckedRow {
    let in_force = treaty.in_force_on(r.date);
    let mut findings = vec![];
    let limits = treaty
        .limits
        .iter()
        .filter_map(|l| {
            let (id, published) = (&l.id, *r.values.get(&l.id)?);
            let adj: Vec<_> = treaty
                .published_adjustments()
                .iter()
                .filter(|a| a.party == r.party && &a.limit == id && a.from <= r.date)
                .collect();
            let add: u64 = adj.iter().map(|a| a.add).sum();
            let cell = match published {
                Cell::Value(v) if add > 0 => Cell::Value(v + add),
                c => c,
            };
            let max = l.max.fixed();
            let binding = in_force && l.binding_from <= r.date;
            let above = matches!((cell.value(), max), (Some(v), Some(m)) if v > m);
            let exceeded = binding && above;
            let adjusted = add > 0 && cell != published;
            if exceeded {
                findings.push(format!(
                    "{} {} on {}: {} is above the limit of {} (binding from {}){}",
                    r.party,
                    id,
                    r.date,
                    cell,
                    max.unwrap_or(0),
                    l.binding_from,
                    if adjusted {
                        format!(
                            " under reading {}: published {published} + {}",
                            treaty.reading.as_deref().unwrap_or(""),
                            adj.iter()
                                .map(|a| format!("{} ({})", a.add, a.breakdown))
                                .collect::<Vec<_>>()
                                .join(" + ")
                        )
                    } else {
                        String::new()
                    }
                ));
            }
            Some(RowLimit {
                id: id.clone(),
                value: cell,
                max,
                binding,
                above,
                exceeded,
                published: adjusted.then_some(published),
                adjustment: adjusted.then(|| {
                    adj.iter()
                        .map(|a| format!("+{} ({}) — {}", a.add, a.breakdown, a.source))
                        .collect::<Vec<_>>()
                        .join("; ")
                }),
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
        reading: treaty.reading.clone(),
        missing_data_exchange: None,
    }
}

/// The published history shipped with accord, checked against `treaty`
/// and (when given) its implementation record.
pub fn builtin(treaty: &Treaty, record: Option<&Record>) -> Result<Vec<CheckedRow>, InputError> {
    Ok(check_with(
        &parse(BUILTIN_AGGREGATES_NAME, BUILTIN_AGGREGATES, treaty)?,
        treaty,
        record,
    ))
}
