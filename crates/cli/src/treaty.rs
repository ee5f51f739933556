//! `accord treaty …`

use accord_report::table;
use accord_treaty::record::{ExchangeStatus, Record, RecordOnDate};
use accord_treaty::{Deadline, LimitMax, TimelineStatus, Treaty};
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
        Cmd::Record { name, record, json } => {
            let t = Treaty::load(&name)?;
            let Some(r) = record_for(&t, record.as_deref())? else {
                anyhow::bail!(
                    "{} has no built-in implementation record (give one with --record)",
                    t.id
                );
            };
            if json {
                crate::print_json(&r)?;
            } else {
                println!("{} — {} ({})", r.title, t.name, r.file);
                for e in &r.events {
                    let when = match e.precision {
                        accord_treaty::record::Precision::Month => {
                            e.date.format("%Y-%m").to_string()
                        }
                        accord_treaty::record::Precision::Day => e.date.to_string(),
                    };
                    let by = if e.by.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", e.by.join(", "))
                    };
                    println!("  {when:<10} {}{by}: {}", e.kind.as_str(), e.summary);
                    if !e.disputed_by.is_empty() {
                        println!(
                            "             disputed by {}: {}",
                            e.disputed_by.join(", "),
                            e.dispute.as_deref().unwrap_or("")
                        );
                    }
                    println!("             source: {}", e.source);
                }
            }
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
            if json {
                crate::print_json(&tl)?;
            } else {
                let status = match tl.status {
                    TimelineStatus::NotYetInForce => "not yet in force".to_string(),
                    TimelineStatus::InForce => "in force".to_string(),
                    TimelineStatus::Expired => format!("expired on {}", tl.expires),
                    TimelineStatus::Withdrawn => match tl.record.as_ref().and_then(|r| r.withdrawal.clone()) {
                        Some((p, notice, eff)) => format!("no longer in force: {p} withdrew (notice received {notice}, effective {eff}, Article {})", t.withdrawal.as_ref().map_or("", |w| w.article.as_str())),
                        None => "no longer in force (withdrawal)".to_string(),
                    },
                };
                let status = match (&tl.status, tl.record.as_ref().map(|r| &r.suspended)) {
                    (TimelineStatus::InForce, Some(sus)) if !sus.is_empty() => {
                        let s: Vec<String> = sus
                            .iter()
                            .map(|s| {
                                format!(
                                    "{}'s participation suspended since {}{}",
                                    s.party,
                                    s.since,
                                    if s.disputed_by.is_empty() {
                                        String::new()
                                    } else {
                                        format!(
                                            ", which {} holds invalid",
                                            s.disputed_by.join(", ")
                                        )
                                    }
                                )
                            })
                            .collect();
                        format!("{status} ({})", s.join("; "))
                    }
                    _ => status,
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
                if let Some(r) = &tl.record {
                    print_record(r);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_record(r: &RecordOnDate) {
    println!("  what actually held ({}):", r.record);
    let inspections = if r.inspections_conducted {
        "conducted".to_string()
    } else {
        let mut v = vec![];
        if let Some(p) = r.inspections_paused_since {
            v.push(format!("none since {} (paused)", p.format("%Y-%m")));
        }
        for (p, d) in &r.facilities_exempted {
            v.push(format!("{p} exempted its facilities from {d}"));
        }
        v.join("; ")
    };
    println!("    inspections: {inspections}");
    if r.suspended.is_empty() {
        println!("    participation: no party suspended");
    }
    for s in &r.suspended {
        println!(
            "    participation suspended by {} since {}{}",
            s.party,
            s.since,
            if s.disputed_by.is_empty() {
                String::new()
            } else {
                format!(" ({} holds this invalid)", s.disputed_by.join(", "))
            }
        );
    }
    if !r.notifications_withheld.is_empty() {
        let v: Vec<String> = r
            .notifications_withheld
            .iter()
            .map(|(p, d)| format!("{p} since {d}"))
            .collect();
        println!("    treaty notifications withheld: {}", v.join(", "));
    }
    if !r.launch_notifications.is_empty() {
        println!(
            "    launch notifications (1988 agreement) kept by: {}",
            r.launch_notifications.join(", ")
        );
    }
    if let Some((p, notice, eff)) = &r.withdrawal {
        println!("    withdrawal: {p}, notice received {notice}, effective {eff}");
    }
    let word = |s: ExchangeStatus| match s {
        ExchangeStatus::Provided => "provided",
        ExchangeStatus::Pending => "pending",
        ExchangeStatus::NotProvided => "not provided",
        ExchangeStatus::Withheld => "withheld",
    };
    for x in &r.exchanges {
        let missing: Vec<String> = x
            .missing
            .iter()
            .map(|(a, s)| format!("{a} {}", word(*s)))
            .collect();
        println!(
            "    {} data exchanges: last provided as of {}{}{}",
            x.party,
            x.last_provided.map_or("—".to_string(), |d| d.to_string()),
            if missing.is_empty() {
                String::new()
            } else {
                format!("; missing: {}", missing.join(", "))
            },
            x.pending.map_or(String::new(), |(a, due, s)| format!(
                "; as of {a} due by {due}: {}",
                if s == ExchangeStatus::Provided {
                    "expected".to_string()
                } else {
                    format!("will be {}", word(s))
                }
            ))
        );
    }
    if let Some(e) = r.events.last() {
        println!(
            "    latest event: {} {}: {}",
            e.date,
            e.kind.as_str(),
            e.summary
        );
    }
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
    if !t.notification_types.is_empty() {
        println!("\nNotification types (the Protocol's catalogue)");
        for n in &t.notification_types {
            let when = match n.deadline {
                Deadline::AfterEvent(d) => format!("within {d} days"),
                Deadline::InAdvance(d) => format!("at least {d} day(s) in advance"),
                Deadline::NextDataExchange => "with the next data exchange".to_string(),
                Deadline::DataExchangeSchedule => "on the data-exchange schedule".to_string(),
            };
            println!(
                "  {} — {} [{}]: {when}; requires {}",
                n.id,
                n.name,
                n.article,
                if n.required.is_empty() {
                    "nothing".to_string()
                } else {
                    n.required.join(", ")
                }
            );
            if let Some(f) = &n.followed_by {
                println!(
                    "    followed by {} within {} days ({})",
                    f.kind, f.within_days, f.source
                );
            }
        }
    }
    if !t.data_categories.is_empty() {
        println!("\nData categories by facility (Part Two)");
        for c in &t.data_categories {
            let st: Vec<&str> = c.statuses.iter().map(|s| s.as_str()).collect();
            println!(
                "  {}: {} ({} that are {})",
                c.id,
                c.name,
                c.kinds.join(", "),
                st.join(" or ")
            );
        }
    }
    if !t.readings.is_empty() {
        println!("\nCounting readings (accord check/history --reading ID)");
        for r in &t.readings {
            println!(
                "  {}{} — {}, held by {}: {}",
                r.id,
                if r.default { " (default)" } else { "" },
                r.name,
                r.held_by,
                r.summary
            );
            for rt in &r.terms {
                let st: Vec<&str> = rt.term.statuses.iter().map(|s| s.as_str()).collect();
                println!(
                    "    adds to {}: {} that are {}",
                    rt.limit,
                    rt.term.kinds.join(", "),
                    st.join(" or ")
                );
            }
            for p in &r.published {
                println!(
                    "    published {} {} from {}: +{} ({})",
                    p.party, p.limit, p.from, p.add, p.breakdown
                );
            }
            println!("    source: {}", r.source);
        }
    }
    if let Some(w) = &t.withdrawal {
        println!(
            "\nWithdrawal: Article {}, effective {} months after the notice is received",
            w.article, w.notice_months
        );
        println!("  source: {}", w.source);
    }
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
