//! Human-readable renderings of the reports, for the command line and the
//! demo: plain text, tables aligned, every figure from the libraries.

use crate::table;
use accord_api::{Status, WitnessNodeStatus};
use accord_inspect::game::{Objective, Plan};
use accord_inspect::model::Violation;
use accord_inspect::{SampleSize, TwoStage};
use accord_regime::planning::{PlanReport, SimulationReport};
use accord_registry::history::{Cell, CheckedRow};
use accord_registry::Report;
use accord_synth::SYNTHETIC;
use accord_treaty::record::{ExchangeStatus, Record, RecordOnDate};
use accord_treaty::{Deadline, LimitMax, Timeline, TimelineStatus, Treaty};
use chrono::NaiveDate;

/// Appends a formatted line to a `String`.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

/// `accord registry show`: what a registry is and holds.
pub fn registry_summary(s: &accord_registry::store::Summary) -> String {
    let mut out = String::new();
    if s.synthetic {
        say!(out, "{SYNTHETIC}");
    }
    say!(
        out,
        "{} registry under {} — {} notifications, {} items",
        s.party,
        s.treaty,
        s.notifications,
        s.items
    );
    say!(out, "  provenance: {}", s.provenance);
    let rows: Vec<Vec<String>> = s
        .counts
        .iter()
        .map(|c| vec![c.kind.clone(), c.status.clone(), c.count.to_string()])
        .collect();
    out.push_str(&table::render(&["kind", "status", "items"], &rows));
    out
}

/// `accord check`: SYNTHETIC first when it is, whose view it is, the report.
pub fn check(t: &Treaty, r: &Report, synthetic: bool, node: Option<&str>) -> String {
    let mut out = String::new();
    if synthetic {
        say!(out, "{SYNTHETIC}");
    }
    if let Some(n) = node {
        say!(out, "as the node in {n} sees it");
    }
    out.push_str(&report(t, r));
    out
}

/// `accord generate`: SYNTHETIC, what was made, its report on the date.
pub fn generated(g: &accord_synth::store::Generated, t: &Treaty, r: &Report) -> String {
    let mut out = String::new();
    say!(out, "{SYNTHETIC}");
    say!(
        out,
        "generated {} registry in {}: {} items, {} notifications (seed {})",
        g.party,
        g.out.display(),
        g.items,
        g.notifications,
        g.seed
    );
    out.push_str(&report(t, r));
    out
}

/// The built-in treaties, a row each.
pub fn treaties(all: &[accord_treaty::Summary]) -> String {
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.name.clone(),
                t.entry_into_force.to_string(),
                t.expires.to_string(),
            ]
        })
        .collect();
    table::render(&["treaty", "name", "in force from", "expires"], &rows)
}

/// An implementation record, event by event.
pub fn record(r: &Record, t: &Treaty) -> String {
    let mut out = String::new();
    say!(out, "{} — {} ({})", r.title, t.name, r.file);
    for e in &r.events {
        let when = match e.precision {
            accord_treaty::record::Precision::Month => e.date.format("%Y-%m").to_string(),
            accord_treaty::record::Precision::Day => e.date.to_string(),
        };
        let by = if e.by.is_empty() {
            String::new()
        } else {
            format!(" [{}]", e.by.join(", "))
        };
        say!(out, "  {when:<10} {}{by}: {}", e.kind.as_str(), e.summary);
        if !e.disputed_by.is_empty() {
            say!(
                out,
                "             disputed by {}: {}",
                e.disputed_by.join(", "),
                e.dispute.as_deref().unwrap_or("")
            );
        }
        say!(out, "             source: {}", e.source);
    }
    out
}

/// Where a treaty stands on a date, and what actually held.
pub fn timeline(t: &Treaty, tl: &Timeline, date: NaiveDate) -> String {
    let mut out = String::new();
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
                            format!(", which {} holds invalid", s.disputed_by.join(", "))
                        }
                    )
                })
                .collect();
            format!("{status} ({})", s.join("; "))
        }
        _ => status,
    };
    say!(out, "{} on {date}: {status}", t.name);
    if let Some(days) = tl.days_left {
        say!(out, "  expires {} — {days} days left", tl.expires);
        if tl.expires_as_known_on_date != tl.expires {
            say!(
                out,
                "  (as known on {date}, before the extension agreed later: {}, {} days)",
                tl.expires_as_known_on_date,
                (tl.expires_as_known_on_date - date).num_days()
            );
        }
    }
    if let Some((k, s, e)) = tl.treaty_year {
        say!(
            out,
            "  treaty year {k}: {s} to {}",
            e.pred_opt().unwrap_or(e)
        );
    }
    say!(
        out,
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
    out.push_str(&table::render(
        &["limit", "max", "binding from", "on this date"],
        &rows,
    ));
    if !tl.upcoming.is_empty() {
        say!(out, "  next deadlines:");
        for u in &tl.upcoming {
            say!(out, "    {} ({} days): {}", u.date, u.days_left, u.what);
        }
    }
    if let Some(r) = &tl.record {
        out.push_str(&record_on_date(r));
    }
    out
}

/// What an implementation record says held on a date.
pub fn record_on_date(r: &RecordOnDate) -> String {
    let mut out = String::new();
    say!(out, "  what actually held ({}):", r.record);
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
    say!(out, "    inspections: {inspections}");
    if r.suspended.is_empty() {
        say!(out, "    participation: no party suspended");
    }
    for s in &r.suspended {
        say!(
            out,
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
        say!(out, "    treaty notifications withheld: {}", v.join(", "));
    }
    if !r.launch_notifications.is_empty() {
        say!(
            out,
            "    launch notifications (1988 agreement) kept by: {}",
            r.launch_notifications.join(", ")
        );
    }
    if let Some((p, notice, eff)) = &r.withdrawal {
        say!(
            out,
            "    withdrawal: {p}, notice received {notice}, effective {eff}"
        );
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
        say!(
            out,
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
        say!(
            out,
            "    latest event: {} {}: {}",
            e.date,
            e.kind.as_str(),
            e.summary
        );
    }
    out
}

/// A treaty: parties, limits and how they count, dates, deadlines, quotas.
pub fn treaty(t: &Treaty) -> String {
    let mut out = String::new();
    say!(out, "{} — {}", t.name, t.full_name);
    say!(out, "  id {} · files {}", t.id, t.files.join(" + "));
    say!(
        out,
        "  signed {} · in force {} · term {} years · expires {}",
        t.signed,
        t.entry_into_force,
        t.term_years,
        t.expires()
    );
    say!(
        out,
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
    say!(
        out,
        "  parties: {}",
        t.parties
            .iter()
            .map(|p| format!("{} ({})", p.code, p.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    say!(out, "  source: {}", t.source);
    say!(out, "\nLimits");
    for l in &t.limits {
        let max = match l.max {
            LimitMax::Fixed(m) => m.to_string(),
            LimitMax::Baseline => "each party's own value on the day it binds (freeze)".into(),
        };
        say!(out, "  {} — Article {}: {}", l.id, l.article, l.name);
        say!(out, "    max {max}, binding from {}", l.binding_from);
        for c in &l.count {
            let st: Vec<&str> = c.statuses.iter().map(|s| s.as_str()).collect();
            let each = match c.each {
                accord_treaty::Each::One => "one each",
                accord_treaty::Each::DeclaredReentryVehicles => "its declared reentry vehicles",
            };
            say!(
                out,
                "    counts {} that are {}: {each}  [{}]",
                c.kinds.join(", "),
                st.join(" or "),
                c.article
            );
        }
        say!(out, "    source: {}", l.source);
    }
    say!(out, "\nItem kinds and types");
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
        say!(
            out,
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
    say!(out, "\nData exchanges");
    say!(out,
        "  initial as of entry into force, due within {} days; then as of {} each year from {}, due within {} days",
        dx.initial_due_days,
        dx.as_of.iter().map(|(m, d)| format!("{m:02}-{d:02}")).collect::<Vec<_>>().join(" and "),
        dx.first_regular_as_of,
        dx.due_days
    );
    say!(out, "  source: {}", dx.source);
    say!(out, "\nNotifications");
    say!(
        out,
        "  within {} days of a change; reentry-vehicle changes: {}",
        t.notifications.deadline_days,
        match t.notifications.reentry_vehicle_changes {
            accord_treaty::RvChangeDeadline::NextDataExchange => "with the next data exchange",
            accord_treaty::RvChangeDeadline::DeadlineDays => "like any change",
        }
    );
    say!(out, "  source: {}", t.notifications.source);
    if !t.notification_types.is_empty() {
        say!(out, "\nNotification types (the Protocol's catalogue)");
        for n in &t.notification_types {
            let when = match n.deadline {
                Deadline::AfterEvent(d) => format!("within {d} days"),
                Deadline::InAdvance(d) => format!("at least {d} day(s) in advance"),
                Deadline::NextDataExchange => "with the next data exchange".to_string(),
                Deadline::DataExchangeSchedule => "on the data-exchange schedule".to_string(),
            };
            say!(
                out,
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
                say!(
                    out,
                    "    followed by {} within {} days ({})",
                    f.kind,
                    f.within_days,
                    f.source
                );
            }
        }
    }
    if !t.data_categories.is_empty() {
        say!(out, "\nData categories by facility (Part Two)");
        for c in &t.data_categories {
            let st: Vec<&str> = c.statuses.iter().map(|s| s.as_str()).collect();
            say!(
                out,
                "  {}: {} ({} that are {})",
                c.id,
                c.name,
                c.kinds.join(", "),
                st.join(" or ")
            );
        }
    }
    if !t.readings.is_empty() {
        say!(
            out,
            "\nCounting readings (accord check/history --reading ID)"
        );
        for r in &t.readings {
            say!(
                out,
                "  {}{} — {}, held by {}: {}",
                r.id,
                if r.default { " (default)" } else { "" },
                r.name,
                r.held_by,
                r.summary
            );
            for rt in &r.terms {
                let st: Vec<&str> = rt.term.statuses.iter().map(|s| s.as_str()).collect();
                say!(
                    out,
                    "    adds to {}: {} that are {}",
                    rt.limit,
                    rt.term.kinds.join(", "),
                    st.join(" or ")
                );
            }
            for p in &r.published {
                say!(
                    out,
                    "    published {} {} from {}: +{} ({})",
                    p.party,
                    p.limit,
                    p.from,
                    p.add,
                    p.breakdown
                );
            }
            say!(out, "    source: {}", r.source);
        }
    }
    if let Some(w) = &t.withdrawal {
        say!(
            out,
            "\nWithdrawal: Article {}, effective {} months after the notice is received",
            w.article,
            w.notice_months
        );
        say!(out, "  source: {}", w.source);
    }
    say!(out, "\nInspections per treaty year");
    for i in &t.inspections {
        let kinds: Vec<&str> = i.facility_kinds.iter().map(|k| k.as_str()).collect();
        say!(
            out,
            "  {}: {} at {}",
            i.name,
            i.per_treaty_year,
            kinds.join(", ")
        );
    }
    out
}

/// A compliance report: the limits on its date and its findings.
pub fn report(treaty: &Treaty, r: &Report) -> String {
    let mut out = String::new();
    say!(
        out,
        "{} on {} under {}{}",
        r.party,
        r.date,
        treaty.name,
        if r.in_force {
            ""
        } else {
            " (not in force on this date)"
        }
    );
    let rows: Vec<Vec<String>> = r
        .limits
        .iter()
        .map(|l| {
            vec![
                l.id.clone(),
                l.value.to_string(),
                l.max.map_or_else(|| "—".into(), |m| m.to_string()),
                if l.binding {
                    "yes".into()
                } else {
                    format!("from {}", l.binding_from)
                },
                if l.exceeded {
                    "EXCEEDED".into()
                } else if l.max.is_some_and(|m| l.value > m) {
                    "above (not binding)".into()
                } else {
                    "ok".into()
                },
            ]
        })
        .collect();
    out.push_str(&table::render(
        &["limit", "value", "max", "binding", "status"],
        &rows,
    ));
    out.push_str(&table::findings("  ", &r.findings));
    out
}

/// Inspection plans side by side: optimal, uniform, proportional.
pub fn plans(party: &str, date: NaiveDate, v: Violation, k: u32, ps: &[Plan; 3]) -> String {
    let mut out = String::new();
    say!(
        out,
        "{} on {date}: {} inspections a year against {}; objective: {}",
        party,
        k,
        v.describe(),
        match ps[0].objective {
            Objective::Detection => "maximise the chance of catching the cheater's best response",
            Objective::Gain => "minimise the cheater's expected undetected gain",
        }
    );
    let rows: Vec<Vec<String>> = ps[0]
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| {
            vec![
                s.facility.clone(),
                format!("{:.4}", s.probability),
                format!("{:.4}", ps[1].sites[i].probability),
                format!("{:.4}", ps[2].sites[i].probability),
                format!("{:.4}", s.detect_per_inspection),
                format!("{:.1}", s.expected_undetected_gain),
            ]
        })
        .collect();
    out.push_str(&table::render(
        &[
            "site",
            "optimal",
            "uniform",
            "∝ warheads",
            "catch / inspection",
            "cheater's gain (optimal)",
        ],
        &rows,
    ));
    for p in ps {
        say!(out,
            "  {:<13} best response {:<18} P(detect in the year) {:.4}   expected undetected gain {:.2}",
            p.name, p.best_response, p.p_detect, p.expected_undetected_gain
        );
    }
    say!(
        out,
        "  within a site, the missile to inspect is drawn uniformly (optimal by symmetry)"
    );
    out
}

/// `accord inspect plan`: the plans, SYNTHETIC first when it is.
pub fn plan_report(r: &PlanReport) -> String {
    let mut out = String::new();
    if r.synthetic {
        say!(out, "{}", SYNTHETIC);
    }
    out.push_str(&plans(&r.party, r.date, r.kind, r.inspections, &r.plans));
    out
}

/// `accord inspect simulate`: the trials against the exact probability.
pub fn simulation(r: &SimulationReport) -> String {
    let mut out = String::new();
    let s = &r.simulation;
    say!(
        out,
        "{} treaty years of {} inspections ({} plan) against {} at {}, {}:",
        s.trials,
        r.inspections,
        r.plan,
        r.kind.describe(),
        r.cheat_site,
        if r.synthetic {
            "SYNTHETIC registry"
        } else {
            "declared registry"
        }
    );
    say!(
        out,
        "  caught {} times: rate {:.5}, 99.9 % interval [{:.5}, {:.5}]; exact {:.5}: {}",
        s.detected,
        s.rate,
        s.ci_low,
        s.ci_high,
        s.exact,
        if s.agrees { "agrees" } else { "DISAGREES" }
    );
    out
}

/// `accord inspect sample-size`.
pub fn sample_size(r: &SampleSize) -> String {
    format!(
        "sample {} of {} to detect at least one of {} with probability ≥ {} (reaches {})\n",
        r.samples, r.population, r.violations, r.target, r.p_detect
    )
}

/// `accord inspect two-stage`.
pub fn two_stage(r: &TwoStage) -> String {
    format!(
        "drawing {} of {} sites: P(detect) = {}, P(miss) = {}\n",
        r.draw, r.sites, r.p_detect, r.p_miss
    )
}

/// The limits and findings of one compliance report.
fn compliance_lines(out: &mut String, r: &Report) {
    for l in &r.limits {
        say!(
            out,
            "    {:<36} {:>6} / {:<6} {}",
            l.id,
            l.value,
            l.max.map_or_else(|| "—".to_string(), |m| m.to_string()),
            if l.exceeded { "EXCEEDED" } else { "" }
        );
    }
    say!(out, "    findings on {}: {}", r.date, r.findings.len());
    for f in r.findings.iter().take(5) {
        say!(out, "      {} {}: {}", f.date, f.kind, f.message);
    }
    if r.findings.len() > 5 {
        say!(
            out,
            "      … and {} more (--json lists them all)",
            r.findings.len() - 5
        );
    }
}

/// A witness node's status.
pub fn witness_node(w: &WitnessNodeStatus) -> String {
    let mut out = String::new();
    say!(out, "witness {}", w.witness);
    for l in &w.logs {
        say!(out, "  {}: cosigned up to size {}", l.origin, l.size);
    }
    say!(
        out,
        "  evidence of inconsistent checkpoints: {}",
        w.evidence.len()
    );
    out
}

/// The size line of a signed checkpoint note.
fn size_of(note: Option<&String>) -> String {
    note.and_then(|n| n.lines().nth(1))
        .unwrap_or("none")
        .to_string()
}

/// `accord status` as a table: the node's own log and compliance, each
/// mirrored peer's, the witnesses' cosignatures and the inspection quotas.
/// A party node's status: its log and compliance, each mirror, the
/// witnesses, the quotas.
pub fn node_status(v: &Status) -> String {
    let mut out = String::new();
    say!(
        out,
        "{} node ({}), treaty {}, on {}",
        v.party,
        v.origin,
        v.treaty,
        v.compliance.date
    );
    say!(
        out,
        "  own log: {} entries, last signed checkpoint at {}",
        v.tree_size,
        size_of(v.checkpoint.as_ref())
    );
    compliance_lines(&mut out, &v.compliance);
    for p in &v.peers {
        say!(
            out,
            "  mirror of {} ({}): {} entries verified, peer checkpoint at {}{}",
            p.party,
            p.url,
            p.tree_size,
            size_of(p.checkpoint.as_ref()),
            if p.flagged {
                "  FLAGGED: inconsistent (see --json evidence)"
            } else {
                ""
            }
        );
        if let Some(e) = &p.link.last_error {
            say!(
                out,
                "    link: {} failure(s), retry in {} ms: {e}",
                p.link.failures,
                p.link.retry_in_ms
            );
        }
        say!(out, "    late deliveries: {}", p.late_deliveries);
        compliance_lines(&mut out, &p.compliance);
    }
    for w in &v.witnesses {
        say!(
            out,
            "  witness {} ({}): cosigned size {}{}",
            w.cosigner.as_deref().unwrap_or("(key not configured)"),
            w.url,
            w.acknowledged,
            match &w.last_error {
                Some(e) => format!(", last error: {e}"),
                None if w.verified => ", verified".to_string(),
                None => String::new(),
            }
        );
    }
    if let Some(k) = &v.witness {
        say!(out, "  this node witnesses with {k}");
    }
    if let Some(year) = v.quota.treaty_year {
        let uses: Vec<String> = v
            .quota
            .parties
            .iter()
            .flat_map(|p| {
                p.types.iter().map(move |t| {
                    format!(
                        "{} {} {}/{}",
                        p.inspecting_party, t.inspection_type, t.used, t.quota
                    )
                })
            })
            .collect();
        say!(
            out,
            "  inspections in treaty year {year}: {}",
            uses.join(", ")
        );
    }
    out
}

/// The published aggregates against the limits, row by row, with the
/// findings (`accord history`).
pub fn history(treaty: &Treaty, rows: &[CheckedRow]) -> String {
    let mut out = String::new();
    let findings: usize = rows.iter().map(|r| r.finding_count()).sum();
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
    say!(
        out,
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
    out.push_str(&table::render(&head, &table_rows));
    say!(out, "  `x > m` above the limit before it binds (no finding); `x > m !` above a binding limit (a finding)");
    if findings == 0 {
        say!(out, "  findings: none");
    } else {
        say!(out, "  findings: {findings}");
        for r in rows {
            for f in &r.findings {
                say!(out, "    [limit_exceeded] {f}");
            }
            if let Some(f) = &r.missing_data_exchange {
                say!(out, "    [{}] {}: {}", f.kind, f.date, f.message);
            }
        }
    }
    out
}
