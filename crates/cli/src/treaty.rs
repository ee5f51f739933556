//! `accord treaty …`

use accord_report::table;
use accord_treaty::{LimitMax, TimelineStatus, Treaty};
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
    /// expiry, whether an extension is still possible, next deadlines.
    Timeline {
        /// A built-in name or a path.
        name: String,
        /// The date (YYYY-MM-DD).
        #[arg(long)]
        date: NaiveDate,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::List { json } => {
            let all: Vec<Treaty> = accord_treaty::builtin_names()
                .into_iter()
                .map(Treaty::load)
                .collect::<Result<_, _>>()?;
            if json {
                let v: Vec<_> = all
                    .iter()
                    .map(|t| serde_json::json!({"id": t.id, "name": t.name, "entry_into_force": t.entry_into_force, "expires": t.expires()}))
                    .collect();
                crate::print_json(&v)?;
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.clone(),
                            t.name.clone(),
                            t.entry_into_force.to_string(),
                            t.expires().to_string(),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    table::render(&["treaty", "name", "in force from", "expires"], &rows)
                );
            }
        }
        Cmd::Show { name, json } => {
            let t = Treaty::load(&name)?;
            if json {
                crate::print_json(&t)?;
            } else {
                print_treaty(&t);
            }
        }
        Cmd::Timeline { name, date, json } => {
            let t = Treaty::load(&name)?;
            let tl = t.timeline(date);
            if json {
                crate::print_json(&tl)?;
            } else {
                let status = match tl.status {
                    TimelineStatus::NotYetInForce => "not yet in force".to_string(),
                    TimelineStatus::InForce => "in force".to_string(),
                    TimelineStatus::Expired => format!("expired on {}", tl.expires),
                };
                println!("{} on {date}: {status}", t.name);
                if let Some(days) = tl.days_left {
                    println!("  expires {} — {days} days left", tl.expires);
                    if tl.expires_as_known_on_date != tl.expires {
                        println!(
                            "  (as known on {date}, before the extension agreed later: {}, {} days)",
                            tl.expires_as_known_on_date,
                            (tl.expires_as_known_on_date - date).num_days()
                        );
                    }
                }
                if let Some((k, s, e)) = tl.treaty_year {
                    println!("  treaty year {k}: {s} to {}", e.pred_opt().unwrap_or(e));
                }
                println!(
                    "  extension: {}",
                    if tl.extension_possible {
                        format!(
                            "still possible, up to {} years ({} of {} used)",
                            tl.extension_max_years, tl.extensions_used, t.extension_rule.max_count
                        )
                    } else {
                        format!(
                            "no longer possible ({} of {} used)",
                            tl.extensions_used, t.extension_rule.max_count
                        )
                    }
                );
                let rows: Vec<Vec<String>> = tl
                    .limits
                    .iter()
                    .map(|l| {
                        vec![
                            l.id.clone(),
                            l.max
                                .map_or_else(|| "baseline (freeze)".to_string(), |m| m.to_string()),
                            l.binding_from.to_string(),
                            if l.binding {
                                "binding".into()
                            } else {
                                "not binding".into()
                            },
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    table::render(&["limit", "max", "binding from", "on this date"], &rows)
                );
                if !tl.upcoming.is_empty() {
                    println!("  next deadlines:");
                    for u in &tl.upcoming {
                        println!("    {} ({} days): {}", u.date, u.days_left, u.what);
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_treaty(t: &Treaty) {
    println!("{} — {}", t.name, t.full_name);
    println!("  id {} · files {}", t.id, t.files.join(" + "));
    println!(
        "  signed {} · in force {} · term {} years · expires {}",
        t.signed,
        t.entry_into_force,
        t.term_years,
        t.expires()
    );
    println!(
        "  extensions: at most {} of at most {} years; {}",
        t.extension_rule.max_count,
        t.extension_rule.max_years,
        if t.extensions.is_empty() {
            "none agreed".to_string()
        } else {
            t.extensions
                .iter()
                .map(|e| {
                    format!(
                        "{} years {} {}",
                        e.years,
                        if e.proposed { "proposed" } else { "agreed" },
                        e.agreed
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
    );
    println!(
        "  parties: {}",
        t.parties
            .iter()
            .map(|p| format!("{} ({})", p.code, p.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("  source: {}", t.source);
    println!("\nLimits");
    for l in &t.limits {
        let max = match l.max {
            LimitMax::Fixed(m) => m.to_string(),
            LimitMax::Baseline => "each party's own value on the day it binds (freeze)".into(),
        };
        println!("  {} — Article {}: {}", l.id, l.article, l.name);
        println!("    max {max}, binding from {}", l.binding_from);
        for c in &l.count {
            let st: Vec<&str> = c.statuses.iter().map(|s| s.as_str()).collect();
            let each = match c.each {
                accord_treaty::Each::One => "one each",
                accord_treaty::Each::DeclaredReentryVehicles => "its declared reentry vehicles",
            };
            println!(
                "    counts {} that are {}: {each}  [{}]",
                c.kinds.join(", "),
                st.join(" or "),
                c.article
            );
        }
        println!("    source: {}", l.source);
    }
    println!("\nItem kinds and types");
    for k in &t.item_kinds {
        let types: Vec<String> = t
            .item_types
            .iter()
            .filter(|ty| ty.kind == k.id)
            .map(|ty| match ty.max_reentry_vehicles {
                Some(m) => format!("{} ({}, ≤{m} RVs)", ty.name, ty.party),
                None => format!("{} ({})", ty.name, ty.party),
            })
            .collect();
        println!(
            "  {}: {}",
            k.name,
            if types.is_empty() {
                "—".into()
            } else {
                types.join(", ")
            }
        );
    }
    let dx = &t.data_exchanges;
    println!("\nData exchanges");
    println!(
        "  initial as of entry into force, due within {} days; then as of {} each year from {}, due within {} days",
        dx.initial_due_days,
        dx.as_of.iter().map(|(m, d)| format!("{m:02}-{d:02}")).collect::<Vec<_>>().join(" and "),
        dx.first_regular_as_of,
        dx.due_days
    );
    println!("  source: {}", dx.source);
    println!("\nNotifications");
    println!(
        "  within {} days of a change; reentry-vehicle changes: {}",
        t.notifications.deadline_days,
        match t.notifications.reentry_vehicle_changes {
            accord_treaty::RvChangeDeadline::NextDataExchange => "with the next data exchange",
            accord_treaty::RvChangeDeadline::DeadlineDays => "like any change",
        }
    );
    println!("  source: {}", t.notifications.source);
    println!("\nInspections per treaty year");
    for i in &t.inspections {
        let kinds: Vec<&str> = i.facility_kinds.iter().map(|k| k.as_str()).collect();
        println!(
            "  {}: {} at {}",
            i.name,
            i.per_treaty_year,
            kinds.join(", ")
        );
    }
}
