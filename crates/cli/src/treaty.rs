//! `accord treaty …`

use accord_treaty::record::Record;
use accord_treaty::Treaty;
use anyhow::Result;
use chrono::NaiveDate;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub(crate) enum Cmd {
    /// List the built-in treaties.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a treaty: parties, limits and how they count, dates, deadlines, quotas.
    Show {
        /// A built-in name (new-start, new-start-2021, freeze-2020) or a path to a TOML file.
        name: String,
        /// Print the validated model as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Where a treaty stands on a date: in force?, limits binding, days to
    /// expiry, whether an extension is still possible, next deadlines; and,
    /// from its implementation record, what actually held: suspensions and
    /// by whom, inspections, notifications, what was exchanged.
    Timeline {
        /// A built-in name or a path.
        name: String,
        /// The date (YYYY-MM-DD).
        #[arg(long)]
        date: NaiveDate,
        /// The implementation record (default: the built-in one for this treaty, if any).
        #[arg(long)]
        record: Option<String>,
        /// Leave the implementation record out (the treaty as agreed only).
        #[arg(long, conflicts_with = "record")]
        no_record: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The implementation record: what happened under a treaty, event by event.
    Record {
        /// A built-in name or a path.
        name: String,
        /// The record (default: the built-in one for this treaty).
        #[arg(long)]
        record: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The record to use: the one named, or the treaty's built-in one.
pub(crate) fn record_for(t: &Treaty, path: Option<&str>) -> Result<Option<Record>> {
    match path {
        Some(p) => Ok(Some(Record::load(p, t)?)),
        None => Ok(Record::builtin_for(t).transpose()?),
    }
}

pub(crate) fn run(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::List { json } => {
            let all: Vec<Treaty> = accord_treaty::builtin_names()
                .into_iter()
                .map(Treaty::load)
                .collect::<Result<_, _>>()?;
            let v: Vec<accord_treaty::Summary> = all.iter().map(Treaty::summary).collect();
            crate::emit(json, &v, |v| accord_report::text::treaties(v))?;
        }
        Cmd::Show { name, json } => {
            let t = Treaty::load(&name)?;
            crate::emit(json, &t, accord_report::text::treaty)?;
        }
        Cmd::Record { name, record, json } => {
            let t = Treaty::load(&name)?;
            let Some(r) = record_for(&t, record.as_deref())? else {
                anyhow::bail!(
                    "{} has no built-in implementation record (give one with --record)",
                    t.id
                );
            };
            crate::emit(json, &r, |v| accord_report::text::record(v, &t))?;
        }
        Cmd::Timeline {
            name,
            date,
            record,
            no_record,
            json,
        } => {
            let t = Treaty::load(&name)?;
            let rec = if no_record {
                None
            } else {
                record_for(&t, record.as_deref())?
            };
            let tl = t.timeline_with(rec.as_ref(), date);
            crate::emit(json, &tl, |v| accord_report::text::timeline(&t, v, date))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
