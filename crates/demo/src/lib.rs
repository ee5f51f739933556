//! `accord demo`: the whole treaty cycle on an embedded store, told as it
//! happens (or as one JSON document), and `accord demo --serve`: three nodes
//! exchanging it over HTTP. The demo only presents: every figure comes from
//! the libraries (compliance from the regime's one function).
#![forbid(unsafe_code)]

mod draws;
mod keys;
mod serve;

use accord_registry::{Event, Report};
use accord_report::table;
use accord_report::{aggregates_svg, Html, Series};
use accord_synth::store::{synthesize, write_registry};
use accord_synth::{Targets, Template, YearOptions, SYNTHETIC};
use accord_treaty::Treaty;
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// `accord demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory for the registries and the report (replaced if it holds an earlier demo).
    #[arg(long, default_value = "accord-demo")]
    out: PathBuf,
    /// Seed for the synthetic forces and their year.
    #[arg(long, default_value_t = 2020)]
    seed: u64,
    /// Print a JSON summary (every report) instead of the narrative.
    #[arg(long)]
    json: bool,
    /// Instead: run both parties' nodes in this process (fresh keys and
    /// tokens), feed each its year over HTTP, cross-witness, print the
    /// workbench URLs, and serve until Ctrl-C.
    #[arg(long, conflicts_with = "json")]
    serve: bool,
    /// With --serve: the US node's port; Russia's is the next (0: any free ports).
    #[arg(long, default_value_t = 7101, requires = "serve")]
    port_base: u16,
}

const MARKER: &str = ".accord-demo";

/// The published numbers as of 1 Sep 2020 (data/new-start-aggregates.csv).
const START: [(&str, u64, u64, u64); 2] = [("US", 675, 1457, 800), ("RU", 510, 1447, 764)];
const START_SOURCE: &str =
    "https://www.globalsecurity.org/wmd/library/news/usa/2020/usa-201201-state01.htm";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
}

fn prepare(out: &Path) -> Result<()> {
    if out.exists() {
        if !out.join(MARKER).exists() {
            bail!(
                "--out: {} exists and is not an earlier accord demo; choose another directory",
                out.display()
            );
        }
        std::fs::remove_dir_all(out)
            .with_context(|| format!("removing the earlier demo in {}", out.display()))?;
    }
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    std::fs::write(out.join(MARKER), "made by `accord demo`; safe to delete\n")?;
    Ok(())
}

/// Runs the demo.
pub fn run(a: Args) -> Result<ExitCode> {
    if a.serve {
        return serve::run(&a.out, a.seed, a.port_base);
    }
    let clock = Instant::now();
    let treaty = Treaty::load("new-start-2021")?;
    let signed = Treaty::load("new-start")?;
    prepare(&a.out)?;
    let date = d(2020, 9, 1);
    let say = |s: &str| {
        if !a.json {
            println!("{s}");
        }
    };
    say("accord demo — New START on an embedded SQLite store, no network");
    say(&format!("  {SYNTHETIC}"));
    say("");
    say(
        "1. The treaty as data (treaties/new-start.toml, extended by treaties/new-start-2021.toml)",
    );
    for l in &treaty.limits {
        say(&format!(
            "   Art. {:8} {:<86} {:>5}  binding from {}",
            l.article,
            l.name,
            l.max.fixed().unwrap_or(0),
            l.binding_from
        ));
    }
    let tl = signed.timeline(d(2020, 10, 20));
    say(&format!(
        "   On 20 Oct 2020 New START as signed had {} days left (expiry {}); extension still possible: {} (up to {} years).",
        tl.days_left.unwrap_or(0),
        tl.expires,
        if tl.extension_possible { "yes" } else { "no" },
        tl.extension_max_years
    ));
    say(&format!(
        "   As extended on 3 Feb 2021 it ran to {}.",
        treaty.expires()
    ));
    say("");

    say(&format!(
        "2. Both parties generated at the published 1 Sep 2020 numbers ({START_SOURCE}),"
    ));
    say("   then a year of notifications each (swaps, depot visits, reloads, eliminations, data exchanges);");
    say("   one US notification is sent late on purpose, to show what a finding looks like.");
    let mut reports: Vec<(String, Vec<Report>)> = vec![];
    let mut counts = vec![];
    let mut logs: Vec<accord_regime::feed::PartyLog> = vec![];
    for (i, (party, v, w, l)) in START.iter().enumerate() {
        let template = Template::load(party).map_err(anyhow::Error::msg)?;
        let year = YearOptions {
            days: 365,
            late: usize::from(*party == "US"),
            seed: a.seed + i as u64,
            ..YearOptions::default()
        };
        let targets = Targets {
            deployed_delivery_vehicles: *v,
            deployed_warheads: *w,
            launchers: *l,
        };
        let (all, provenance) = synthesize(
            &treaty,
            &template,
            targets,
            date,
            a.seed + i as u64,
            Some(year),
        )?;
        let dir = a.out.join(party);
        std::fs::create_dir_all(&dir)?;
        // Every notification goes into the party's signed log first; the
        // registry is then fed from the log, checked against its checkpoint.
        let origin = accord_log::origin(&treaty.id, party);
        let (_, _, signer) = keys::demo_key(&origin, &a.out.join("keys"), a.seed)?;
        let plog =
            accord_regime::feed::log_notifications(&dir.join("log.sqlite"), &origin, signer, &all)?;
        let from_log = accord_regime::feed::notifications_of(accord_regime::feed::read_verified(
            &plog.store,
            party,
        )?);
        let mut st = write_registry(&dir, &treaty, party, &from_log, &provenance)?;
        logs.push(plog);
        let dates: Vec<NaiveDate> = {
            let mut x: Vec<NaiveDate> = all
                .iter()
                .filter(|n| matches!(n.event, Event::DataExchange { .. }))
                .map(|n| n.date)
                .collect();
            x.push(d(2021, 10, 1));
            x.sort();
            x.dedup();
            x
        };
        let r = accord_regime::compliance_of(
            &treaty,
            &st,
            accord_regime::Observations::default(),
            &dates,
        )?;
        let identical = st.rebuild(&treaty)?;
        counts.push((
            party.to_string(),
            st.items()?.len(),
            all.len(),
            identical,
            dir,
        ));
        reports.push((party.to_string(), r));
    }
    for (party, items, n, _, dir) in &counts {
        say(&format!(
            "   {party}: {items} items, {n} notifications → {}/log.sqlite (signed) → {}/registry.sqlite",
            dir.display(),
            dir.display()
        ));
    }
    say("");

    say("3. Each party against the limits at every data exchange (item-level fold on each as-of date)");
    for (party, rs) in &reports {
        say(&format!("   {party}"));
        let ids: Vec<String> = treaty.limits.iter().map(|l| l.id.clone()).collect();
        let rows: Vec<Vec<String>> = rs
            .iter()
            .map(|r| {
                let mut row = vec![r.date.to_string()];
                for id in &ids {
                    let lc = r.limits.iter().find(|l| &l.id == id);
                    row.push(lc.map_or_else(String::new, |l| {
                        format!(
                            "{}{}",
                            table::against(l.value, l.max),
                            if l.exceeded { " !" } else { "" }
                        )
                    }));
                }
                row.push(r.findings.len().to_string());
                row
            })
            .collect();
        let mut head = vec!["as of"];
        head.extend(ids.iter().map(String::as_str));
        head.push("findings");
        if !a.json {
            for line in table::render(&head, &rows).lines() {
                println!("   {line}");
            }
        }
    }
    say("");
    say("4. Findings on 1 Oct 2021");
    for (party, rs) in &reports {
        if let Some(last) = rs.last() {
            if !a.json {
                print!(
                    "{}",
                    table::findings(&format!("   {party} "), &last.findings)
                );
            }
        }
    }
    say("");

    let history_rows = accord_registry::history::builtin(
        &treaty,
        accord_treaty::record::Record::builtin_for(&treaty)
            .transpose()?
            .as_ref(),
    )?;
    let since: Vec<_> = history_rows
        .iter()
        .filter(|r| r.date >= d(2018, 2, 5))
        .collect();
    let hist_findings: usize = history_rows.iter().map(|r| r.finding_count()).sum();
    say("5. The published history (data/new-start-aggregates.csv, every row sourced)");
    let missing = history_rows
        .iter()
        .filter(|r| r.missing_data_exchange.is_some())
        .count();
    say(&format!(
        "   {} rows; {} from 5 Feb 2018 on, when the limits bound: limits exceeded {}; data exchanges due and not provided {} (from 1 Mar 2023: data/implementation/new-start.toml).",
        history_rows.len(),
        since.len(),
        hist_findings - missing,
        missing
    ));
    say("   Russia's 1,566 deployed warheads on 1 Sep 2011 were above 1,550, before the limits bound: not a finding.");
    say("");

    let log_summary = show_logs(&a, &treaty, &logs, &reports, &say)?;
    let mut neutral = draws::Neutral::open(&a.out, a.seed, &logs)?;
    let inspections = inspection_year(&a, &treaty, &mut logs, &mut neutral, &say)?;
    let freeze = freeze_round(&a, &mut logs, &mut neutral, &say)?;

    let report_path = a.out.join("report.html");
    let (agg_svg, hist_svg) = write_report(&a.out, &treaty, &reports, &history_rows, &inspections)?;
    let all_identical = counts.iter().all(|c| c.3);
    say(&format!(
        "9. Rebuilt both registries from their notifications alone: {}.",
        if all_identical {
            "identical"
        } else {
            "DIFFERENT"
        }
    ));
    // 10. The choice of October 2020, and after: every proposal compared.
    let from = NaiveDate::from_ymd_opt(2020, 10, 20).context("date")?;
    let scenarios = accord_scenario::request::Request::builtin(from, 10, a.seed).run()?;
    let scenarios_path = a.out.join("scenarios.html");
    std::fs::write(
        &scenarios_path,
        accord_scenario::report::html(&scenarios).map_err(anyhow::Error::msg)?,
    )?;
    say("10. The proposals compared from 20 Oct 2020 (accord scenario compare --from 2020-10-20):");
    for line in accord_scenario::report::table(&scenarios).lines() {
        say(&format!("  {line}"));
    }
    say(&format!(
        "Report: {}  (charts: {}, {}; proposals: {})",
        report_path.display(),
        agg_svg.display(),
        hist_svg.display(),
        scenarios_path.display()
    ));
    say(&format!("Done in {:.1} s.", clock.elapsed().as_secs_f64()));
    if a.json {
        let v: Vec<_> = reports
            .iter()
            .map(|(p, rs)| serde_json::json!({"party": p, "reports": rs}))
            .collect();
        accord_report::print_json(&serde_json::json!({
            "synthetic": true,
            "treaty": treaty.id,
            "parties": v,
            "history": {"rows": history_rows.len(), "findings": hist_findings},
            "rebuild_identical": all_identical,
            "logs": log_summary,
            "inspections": inspections,
            "freeze": freeze,
            "report": report_path,
            "scenarios": scenarios.proposals.iter().map(|p| serde_json::json!({
                "name": p.name, "expires": p.expires, "days_left": p.days_left,
            })).collect::<Vec<_>>(),
        }))?;
    }
    if !all_identical {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Section 6: the signed, witnessed logs; one inclusion proof end to end;
/// and what the audit says when a stored notification is altered.
fn show_logs(
    a: &Args,
    treaty: &Treaty,
    logs: &[accord_regime::feed::PartyLog],
    reports: &[(String, Vec<Report>)],
    say: &dyn Fn(&str),
) -> Result<serde_json::Value> {
    use accord_log::merkle;
    use accord_log::note::open_checkpoint;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    say("6. The tamper-evident exchange: each party's notifications in a signed Merkle log (RFC 9162,");
    say("   C2SP checkpoints), cosigned by the other party as witness (C2SP cosignature/v1)");
    let [us, ru] = logs else {
        bail!("expected two parties")
    };
    // Each party witnesses the other's log, with a key of its own for that.
    let witness = |party: &str| -> Result<accord_log::Witness> {
        let name = format!("{}/witness", accord_log::origin(&treaty.id, party));
        let (_, _, key) = keys::demo_key(&name, &a.out.join("keys"), a.seed)?;
        // A witness's cosignatures verify with its type 0x04 key.
        let cosigner = a.out.join("keys").join(format!(
            "{}.cosigner.vkey",
            accord_log::keys::key_stem(&name)
        ));
        std::fs::write(cosigner, format!("{}\n", key.cosigner_verifier()))?;
        Ok(accord_log::Witness::open(
            &a.out.join(party).join("witness.sqlite"),
            key,
        )?)
    };
    let (w_us, w_ru) = (witness("US")?, witness("RU")?);
    let us_cosigned = accord_regime::feed::witness_all(&w_ru, us, now)?;
    let ru_cosigned = accord_regime::feed::witness_all(&w_us, ru, now)?;
    std::fs::write(a.out.join("US/checkpoint.txt"), &us_cosigned)?;
    std::fs::write(a.out.join("RU/checkpoint.txt"), &ru_cosigned)?;
    for (party, note) in [("US", &us_cosigned), ("RU", &ru_cosigned)] {
        say(&format!(
            "   {party}'s latest checkpoint, signed by {party} and cosigned by the other party:"
        ));
        for line in note.lines() {
            say(&format!("     {line}"));
        }
    }
    let us_ok = open_checkpoint(&us_cosigned, &us.signer.verifier(), &[w_ru.verifier()])?;
    say(&format!(
        "   verified: {}'s signature and {} cosignature(s) on size {}; the witness checked {} consistency proofs on the way",
        us_ok.checkpoint().origin,
        us_ok.cosigned_by().len(),
        us_ok.checkpoint().size,
        us.checkpoints.len().saturating_sub(1)
    ));

    // One notification, end to end: the late one.
    let late = reports
        .iter()
        .find(|(p, _)| p == "US")
        .and_then(|(_, rs)| rs.last())
        .and_then(|r| {
            r.findings
                .iter()
                .find(|f| f.kind == accord_registry::FindingKind::LateNotification)
        })
        .and_then(|f| f.notification);
    let Some(number) = late else {
        bail!("the demo's late notification is missing")
    };
    let Some(&index) = us.index_of.get(&number) else {
        bail!("notification {number} is not in the log")
    };
    let size = us_ok.checkpoint().size;
    let entry = us.store.entry(index)?;
    let proof = us.store.inclusion_proof(index, size)?;
    let leaf = merkle::leaf_hash(&entry);
    merkle::verify_inclusion(index, size, &leaf, &proof, &us_ok.checkpoint().hash)?;
    say(&format!("   inclusion proof, end to end, for US notification {number} (the late one) at log index {index}:"));
    say(&format!(
        "     entry (RFC 8785 canonical JSON): {}",
        String::from_utf8_lossy(&entry)
    ));
    say(&format!(
        "     leaf hash SHA-256(0x00 || entry) = {}",
        merkle::hex(&leaf)
    ));
    say(&format!(
        "     {} hashes lead to the root {} signed at size {size} by US and cosigned by RU: VERIFIED",
        proof.len(),
        merkle::hex(&us_ok.checkpoint().hash)
    ));

    // The US quietly "fixes" its late notification in its own store.
    let tampered = a.out.join("US/log-tampered.sqlite");
    us.store.execute_raw(
        &format!(
            "VACUUM INTO '{}'",
            tampered.display().to_string().replace('\'', "''")
        ),
        &[],
    )?;
    let copy = accord_log::LogStore::open(&tampered)?;
    let text = String::from_utf8_lossy(&entry).to_string();
    let mut v: serde_json::Value = serde_json::from_str(&text)?;
    v["sent"] = v["date"].clone();
    let forged = accord_log::canonical_entry(&v.to_string()).map_err(anyhow::Error::msg)?;
    copy.execute_raw(
        "UPDATE entries SET data = ?1 WHERE idx = ?2",
        &[&forged, &(index as i64)],
    )?;
    let report = accord_log::audit(&copy, &us.signer.verifier())?;
    say(&format!(
        "   tampering: a copy of the US log with notification {number}'s `sent` date rewritten to look on time ({}):",
        tampered.display()
    ));
    say(&format!(
        "     accord log audit → {} problem(s), exit 1:",
        report.problems.len()
    ));
    for p in report.problems.iter().take(4) {
        say(&format!("       {p}"));
    }
    if report.problems.len() > 4 {
        say(&format!(
            "       … and {} more checkpoints signed over it",
            report.problems.len() - 4
        ));
    }
    say("");
    Ok(serde_json::json!({
        "US": {"checkpoint": us_cosigned, "entries": us.store.size()},
        "RU": {"checkpoint": ru_cosigned, "entries": ru.store.size()},
        "inclusion": {"notification": number, "leaf_index": index, "tree_size": size,
                      "hashes": accord_log::witness::encode_hashes(&proof), "verified": true},
        "tamper_audit": report,
    }))
}

fn write_report(
    out: &Path,
    treaty: &Treaty,
    reports: &[(String, Vec<Report>)],
    history_rows: &[accord_registry::history::CheckedRow],
    inspections: &serde_json::Value,
) -> Result<(PathBuf, PathBuf)> {
    let panels = accord_report::charts::panels(treaty);
    let mut series = vec![];
    for (party, rs) in reports {
        for p in &panels {
            series.push(Series {
                label: format!("{party} (synthetic)"),
                limit: p.limit.clone(),
                points: rs
                    .iter()
                    .map(|r| (r.date, r.aggregates.get(&p.limit).copied()))
                    .collect(),
            });
        }
    }
    let agg = aggregates_svg(
        "SYNTHETIC forces at each data exchange, against New START's limits",
        &panels,
        &series,
        "Synthetic: generated by accord from the published 1 Sep 2020 numbers; the items are not real.",
    )
    .map_err(anyhow::Error::msg)?;
    let hist =
        accord_report::charts::history_chart(history_rows, treaty).map_err(anyhow::Error::msg)?;
    let agg_path = out.join("aggregates.svg");
    let hist_path = out.join("history.svg");
    std::fs::write(&agg_path, &agg)?;
    std::fs::write(&hist_path, &hist)?;

    let mut h = Html::default();
    h.h(1, "accord — New START compliance report");
    h.banner(SYNTHETIC);
    h.p(&format!(
        "Treaty: {} ({}), in force {} to {}. Limits: {}.",
        treaty.name,
        treaty.full_name,
        treaty.entry_into_force,
        treaty.expires(),
        treaty
            .limits
            .iter()
            .map(|l| format!(
                "{} ≤ {} from {}",
                l.id,
                l.max.fixed().unwrap_or(0),
                l.binding_from
            ))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    h.h(2, "Each party at every data exchange (synthetic)");
    h.svg(&agg);
    for (party, rs) in reports {
        h.h(3, party);
        let mut head = vec!["as of".to_string()];
        head.extend(treaty.limits.iter().map(|l| l.id.clone()));
        head.push("findings".into());
        let rows: Vec<Vec<String>> = rs
            .iter()
            .map(|r| {
                let mut row = vec![r.date.to_string()];
                for l in &r.limits {
                    row.push(format!(
                        "{}{}",
                        table::against(l.value, l.max),
                        if l.exceeded { " EXCEEDED" } else { "" }
                    ));
                }
                row.push(if r.findings.is_empty() {
                    "none".into()
                } else {
                    format!("{} finding(s)", r.findings.len())
                });
                row
            })
            .collect();
        let head_ref: Vec<&str> = head.iter().map(String::as_str).collect();
        h.table(&head_ref, &rows);
        if let Some(last) = rs.last() {
            if !last.findings.is_empty() {
                h.p(&format!("Findings up to {}:", last.date));
                h.list(
                    &last
                        .findings
                        .iter()
                        .map(|f| format!("[{}] {}", f.kind, f.message))
                        .collect::<Vec<_>>(),
                );
            }
        }
    }
    h.h(2, "An inspection year (synthetic)");
    h.p("Each party spends 10 Type One and 8 Type Two inspections on the other. Type One sites are drawn from the optimal plan (the exact minimax of the inspection game) and, within a site, the missile uniformly, with randomness neither party controls: the inspector commits to a secret in its log before the inspected party fixes the population in its own, a neutral witness cosigns each step, and the transcript (accord draw verify) lets anyone recompute the draw. Probabilities are exact: the chance the plan catches the cheater's best response.");
    let mut rows = vec![];
    let mut found = vec![];
    if let Some(m) = inspections.as_object() {
        for (k, v) in m {
            let p = |name: &str| {
                v[name]["p_detect"]
                    .as_f64()
                    .map_or(String::new(), |x| format!("{x:.3}"))
            };
            rows.push(vec![
                k.replace('_', " "),
                v["plan"]["best_response"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                p("plan"),
                p("uniform"),
                p("proportional"),
                v["findings"].as_array().map_or(0, Vec::len).to_string(),
            ]);
            for f in v["findings"].as_array().into_iter().flatten() {
                found.push(format!(
                    "[{}] {}",
                    f["kind"].as_str().unwrap_or(""),
                    f["message"].as_str().unwrap_or("")
                ));
            }
        }
    }
    h.table(
        &[
            "inspections",
            "cheater's best response",
            "P(catch) optimal",
            "uniform",
            "∝ warheads",
            "findings",
        ],
        &rows,
    );
    if !found.is_empty() {
        h.list(&found);
    }
    h.h(2, "Published aggregate data exchanges, 2011–2023");
    h.svg(&hist);
    let rows: Vec<Vec<String>> = history_rows
        .iter()
        .map(|r| {
            let mut row = vec![r.date.to_string(), r.party.clone()];
            row.extend(r.limits.iter().map(|l| l.value.to_string()));
            row.push(if r.findings.is_empty() {
                String::new()
            } else {
                r.findings.join("; ")
            });
            row.push(r.source_url.clone());
            row
        })
        .collect();
    let mut head = vec!["date", "party"];
    head.extend(treaty.limits.iter().map(|l| l.id.as_str()));
    head.push("finding");
    head.push("source");
    h.table(&head, &rows);
    h.p("Cells reading unconfirmed or not_provided are shown as such, never as zero.");
    let page = h.page("accord — New START compliance report");
    std::fs::write(out.join("report.html"), page)?;
    Ok((agg_path, hist_path))
}

/// Section 7: an inspection year. Each party spends its quotas on the other
/// (10 Type One, 8 Type Two in treaty year 10). The sites and items are
/// drawn with the protocol neither party controls (`accord-draw`): Type One
/// by the optimal plan's weights over the deployed missiles at each site on
/// the year's start, Type Two uniformly over the sites the type may visit,
/// five items each. Russia secretly loads extra reentry vehicles on missiles
/// at its best-response base; the US inspections catch it.
fn inspection_year(
    a: &Args,
    treaty: &Treaty,
    logs: &mut [accord_regime::feed::PartyLog],
    neutral: &mut draws::Neutral,
    say: &dyn Fn(&str),
) -> Result<serde_json::Value> {
    use accord_draw::{DrawKind, Population, Purpose, Rule};
    use accord_inspect::game::{self, Objective};
    use accord_inspect::model::{self, Violation};
    use accord_inspect::record::{self, Cheat};

    let year_start = d(2020, 9, 15);
    let (ty, from, to) = treaty
        .treaty_year(year_start)
        .ok_or_else(|| anyhow::anyhow!("no treaty year"))?;
    say(&format!(
        "7. An inspection year (treaty year {}: {from} to {}), SYNTHETIC: each party spends its quotas on the other",
        ty + 1,
        to.pred_opt().unwrap_or(to)
    ));
    let violation = Violation::ExtraReentryVehicles { missiles: 30 };
    let mut out = serde_json::Map::new();
    for (inspector, inspected) in [("US", "RU"), ("RU", "US")] {
        let st = accord_registry::Store::open(&a.out.join(inspected))?;
        let state0 = st.state_on(treaty, year_start)?;
        let sites = model::sites(treaty, &state0, violation);
        let k = treaty
            .inspections
            .iter()
            .find(|i| i.id == "type_one")
            .map_or(0, |i| i.per_treaty_year);
        let k2 = treaty
            .inspections
            .iter()
            .find(|i| i.id == "type_two")
            .map_or(0, |i| i.per_treaty_year);
        let plan = game::optimal(&sites, k, Objective::Detection)?;
        let uni = game::uniform(&sites, k, Objective::Detection)?;
        let prop = game::proportional(&sites, k, Objective::Detection)?;
        // The cheat (Russia only): 2 extra reentry vehicles on up to 30 deployed
        // missiles with room, at its best response to the plan.
        let mut cheat = Cheat::default();
        if inspected == "RU" {
            let base = plan.best_response.clone();
            let mut loaded = 0;
            for m in record::deployed_missiles(treaty, &state0, &base) {
                let Some(it) = state0.item(&m) else { continue };
                let cap = treaty
                    .item_type(&it.item_type)
                    .and_then(|t| t.max_reentry_vehicles)
                    .unwrap_or(0);
                if it.reentry_vehicles + 2 <= cap && loaded < 30 {
                    cheat.extra_reentry_vehicles.insert(m, 2);
                    loaded += 1;
                }
            }
        }
        // The draws: the inspector commits, the inspected party fixes the
        // population in its log, the inspector reveals; the neutral witness
        // cosigns each step.
        let (ii, di) = (
            usize::from(inspector != "US"),
            usize::from(inspected != "US"),
        );
        let checking = draws::party_log(inspector, logs, ii)?;
        let checked = draws::party_log(inspected, logs, di)?;
        let purpose = |ty: &str, rule: Rule| Purpose {
            draw: format!(
                "{}/{year_start}/{ty}/{inspector}-inspects-{inspected}",
                treaty.id
            ),
            kind: DrawKind::Inspection,
            checking: checking.clone(),
            checked: checked.clone(),
            rule,
        };
        let one_rule = Rule::weighted(
            k,
            Rule::weights_from_probabilities(
                plan.sites
                    .iter()
                    .map(|s| (s.facility.as_str(), s.probability)),
                1_000_000,
            ),
            1,
        );
        let one_pop = Population::of_items(plan.sites.iter().map(|s| {
            (
                s.facility.clone(),
                record::deployed_missiles(treaty, &state0, &s.facility),
            )
        }));
        let t = draws::unix(year_start) + if inspector == "US" { 0 } else { 600 };
        let one = neutral.draw(
            logs,
            ii,
            di,
            purpose("type_one", one_rule),
            one_pop,
            None,
            t,
            &format!("inspection-{year_start}-{inspector}-inspects-{inspected}-type-one"),
        )?;
        let span = (to.pred_opt().unwrap_or(to) - year_start).num_days().max(1) as u64;
        let mut records = vec![];
        for (i, pick) in (0..k).zip(one.draw.picks()) {
            let date = year_start + chrono::Days::new(span * u64::from(i) / u64::from(k + k2));
            let site = pick.site.clone();
            let state = st.state_on(treaty, date)?;
            let id = format!("{inspector}-{}-T1-{:02}", from.format("%Y"), i + 1);
            records.push(record::conduct(
                treaty,
                &state,
                &cheat,
                &id,
                inspector,
                "type_one",
                &site,
                date - chrono::Days::new(1),
                date,
                pick.items.clone(),
            )?);
        }
        // Type Two: sites drawn uniformly among those the type may visit
        // (with replacement); up to 5 items confirmed at each.
        let two_kinds = treaty
            .inspections
            .iter()
            .find(|i| i.id == "type_two")
            .map(|i| i.facility_kinds.clone())
            .unwrap_or_default();
        let two_pop = Population::of_items(
            state0
                .facilities()
                .iter()
                .enumerate()
                .filter(|(_, f)| two_kinds.contains(&f.kind))
                .map(|(fi, f)| {
                    let items = state0
                        .items()
                        .iter()
                        .filter(|it| {
                            it.location == accord_registry::Location::At(fi as u32)
                                && it.status != accord_treaty::Status::Eliminated
                        })
                        .map(|it| it.id.to_string())
                        .collect();
                    (f.id.to_string(), items)
                }),
        );
        let mut made = vec![one];
        if k2 > 0 && !two_pop.sites.is_empty() {
            let mut two_rule = Rule::distinct_sites(k2);
            two_rule.replacement = true;
            two_rule.items_per_site = 5;
            let two = neutral.draw(
                logs,
                ii,
                di,
                purpose("type_two", two_rule),
                two_pop,
                None,
                t + 300,
                &format!("inspection-{year_start}-{inspector}-inspects-{inspected}-type-two"),
            )?;
            for (i, pick) in (0..k2).zip(two.draw.picks()) {
                let date =
                    year_start + chrono::Days::new(span * u64::from(k + i) / u64::from(k + k2));
                let state = st.state_on(treaty, date)?;
                let id = format!("{inspector}-{}-T2-{:02}", from.format("%Y"), i + 1);
                records.push(record::conduct(
                    treaty,
                    &state,
                    &cheat,
                    &id,
                    inspector,
                    "type_two",
                    &pick.site,
                    date - chrono::Days::new(1),
                    date,
                    pick.items.clone(),
                )?);
            }
            made.push(two);
        }
        // Records go into the inspected party's registry and the inspecting party's log.
        let ilog = if inspector == "US" { 0 } else { 1 };
        for r in &records {
            accord_regime::inspection::log_and_store(Some(&mut logs[ilog].store), &st, r)?;
        }
        let signer = &logs[ilog].signer;
        let cp = logs[ilog].store.checkpoint(signer)?;
        logs[ilog].checkpoints.push(cp);
        // Against the inspected party (what was found) and the inspector
        // (its quotas), by the regime's one rule.
        let mut findings =
            accord_regime::compliance::inspection_findings(treaty, inspected, &records, to);
        findings.extend(accord_regime::compliance::inspection_findings(
            treaty, inspector, &records, to,
        ));
        say(&format!(
            "   {inspector} inspects {inspected}: optimal plan catches the best response ({}) with P = {:.3} (uniform {:.3}, ∝ warheads {:.3});",
            plan.best_response, plan.p_detect, uni.p_detect, prop.p_detect
        ));
        say(&format!(
            "     sites and items drawn with the protocol neither party controls; {k} Type One, {k2} Type Two:"
        ));
        for m in &made {
            m.tell(neutral, say);
        }
        let mut by_site: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
        for r in records.iter().filter(|r| r.inspection_type == "type_one") {
            *by_site.entry(r.site.as_str()).or_default() += 1;
        }
        say(&format!(
            "     Type One at {}",
            by_site
                .iter()
                .map(|(s, n)| format!("{s} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if !cheat.extra_reentry_vehicles.is_empty() {
            say(&format!(
                "     (the cheat: {inspected} secretly loaded 2 extra reentry vehicles on {} missiles at {})",
                cheat.extra_reentry_vehicles.len(),
                plan.best_response
            ));
            if !by_site.contains_key(plan.best_response.as_str()) {
                // The odds, not a failure: the plan catches it with P.
                say(&format!(
                    "     this year's draw sent no Type One inspection to {}: the cheat goes undetected, as it does with probability {:.3} under the optimal plan (another --seed draws another year)",
                    plan.best_response,
                    1.0 - plan.p_detect
                ));
            }
        }
        if findings.is_empty() {
            say("     findings: none");
        } else {
            for f in &findings {
                say(&format!("     [{}] {}", f.kind, f.message));
            }
        }
        out.insert(
            format!("{inspector}_inspects_{inspected}"),
            serde_json::json!({"plan": plan, "uniform": uni, "proportional": prop, "records": records, "findings": findings,
                "draws": made.iter().map(draws::Made::json).collect::<Vec<_>>()}),
        );
    }
    say(&format!(
        "   the records are in each inspected registry (`accord check RU --date {to}` shows them) and in each inspector's log"
    ));
    say("");
    Ok(serde_json::Value::Object(out))
}

/// A SYNTHETIC 2020 stockpile: `(site, category, type, count)` rows whose
/// totals follow the Bulletin's Nuclear Notebook 2020 (US 3,800: about 1,600
/// deployed strategic, 150 non-strategic in Europe; Russia 4,310: 1,570
/// deployed strategic, 870 strategic reserve, 1,870 non-strategic). The split
/// among sites and types is an assumption.
fn stockpile(party: &str) -> Vec<(&'static str, accord_freeze::Category, &'static str, usize)> {
    use accord_freeze::Category::*;
    match party {
        // https://thebulletin.org/2020/01/united-states-nuclear-forces-2020/ ;
        // MM-III W78/W87 and Trident W76-1/W76-2/W88: https://atomicarchive.com/almanac/forces/us-forces.html
        "US" => vec![
            ("US-MALMSTROM", DeployedStrategic, "W78", 67),
            ("US-MALMSTROM", DeployedStrategic, "W87", 66),
            ("US-MINOT", DeployedStrategic, "W78", 67),
            ("US-MINOT", DeployedStrategic, "W87", 66),
            ("US-WARREN", DeployedStrategic, "W78", 66),
            ("US-WARREN", DeployedStrategic, "W87", 68),
            ("US-BANGOR", DeployedStrategic, "W76-1", 380),
            ("US-BANGOR", DeployedStrategic, "W88", 140),
            ("US-KINGSBAY", DeployedStrategic, "W76-1", 330),
            ("US-KINGSBAY", DeployedStrategic, "W76-2", 50),
            ("US-WHITEMAN", DeployedStrategic, "B83-1", 100),
            ("US-BARKSDALE", DeployedStrategic, "W80-1", 100),
            ("US-MINOT-AB", DeployedStrategic, "W80-1", 100),
            ("US-EUROPE", NonStrategic, "B61-3/4", 150),
            ("US-KIRTLAND", NonStrategic, "B61-3/4", 80),
            ("US-KIRTLAND", NonDeployedStrategic, "W76-1", 700),
            ("US-KIRTLAND", NonDeployedStrategic, "W78", 300),
            ("US-SWFPAC", NonDeployedStrategic, "W76-1", 350),
            ("US-SWFLANT", NonDeployedStrategic, "W88", 240),
            ("US-NELLIS", NonDeployedStrategic, "B61-7", 380),
        ],
        // https://defconwarningsystem.com/2020/03/13/russian-nuclear-forces-2020
        _ => vec![
            ("RU-DOMBAROVSKY", DeployedStrategic, "RV-SS-18", 120),
            ("RU-UZHUR", DeployedStrategic, "RV-SS-18", 170),
            ("RU-KOZELSK", DeployedStrategic, "RV-SS-27-2", 60),
            ("RU-TATISHCHEVO", DeployedStrategic, "RV-SS-27-1", 60),
            ("RU-BARNAUL", DeployedStrategic, "RV-SS-27-2", 70),
            ("RU-IRKUTSK", DeployedStrategic, "RV-SS-27-2", 70),
            ("RU-NOVOSIBIRSK", DeployedStrategic, "RV-SS-27-2", 70),
            ("RU-NIZHNYTAGIL", DeployedStrategic, "RV-SS-27-2", 70),
            ("RU-TEYKOVO", DeployedStrategic, "RV-SS-27-2", 55),
            ("RU-YOSHKAROLA", DeployedStrategic, "RV-SS-27-2", 55),
            ("RU-GADZHIYEVO", DeployedStrategic, "RV-Sineva", 250),
            ("RU-GADZHIYEVO", DeployedStrategic, "RV-Bulava", 130),
            ("RU-VILYUCHINSK", DeployedStrategic, "RV-Bulava", 240),
            ("RU-ENGELS", DeployedStrategic, "ALCM", 100),
            ("RU-UKRAINKA", DeployedStrategic, "ALCM", 50),
            ("RU-STORE-01", NonDeployedStrategic, "RV-SS-27-2", 300),
            ("RU-STORE-02", NonDeployedStrategic, "RV-Bulava", 300),
            ("RU-STORE-03", NonDeployedStrategic, "ALCM", 270),
            ("RU-STORE-04", NonStrategic, "non-strategic", 320),
            ("RU-STORE-05", NonStrategic, "non-strategic", 320),
            ("RU-STORE-06", NonStrategic, "non-strategic", 310),
            ("RU-STORE-07", NonStrategic, "non-strategic", 310),
            ("RU-STORE-08", NonStrategic, "non-strategic", 310),
            ("RU-STORE-09", NonStrategic, "non-strategic", 300),
        ],
    }
}

fn stockpile_records(party: &str) -> Vec<accord_freeze::Record> {
    let mut out = vec![];
    let mut n = 0;
    for (site, category, ty, count) in stockpile(party) {
        for _ in 0..count {
            n += 1;
            out.push(accord_freeze::Record {
                id: format!("{party}-WH-{n:05}"),
                warhead_type: ty.into(),
                category,
                site: site.into(),
            });
        }
    }
    out
}

/// Section 8: the verified freeze. Each party declares its whole stockpile
/// (baseline, 5 Feb 2021), then again on 1 Aug 2021 with cap and freeze
/// proofs; each public part goes into the party's log and is cosigned; the
/// other party challenges sites drawn with the protocol neither party
/// controls over the declaration's sites; the disclosures are verified and
/// compared with what inspectors count.
fn freeze_round(
    a: &Args,
    logs: &mut [accord_regime::feed::PartyLog],
    neutral: &mut draws::Neutral,
    say: &dyn Fn(&str),
) -> Result<serde_json::Value> {
    use accord_draw::{DrawKind, Purpose, Rule};
    use accord_freeze::declaration::DeclareInput;
    use accord_freeze::{
        challenge_population, challenge_sites, declare, disclose, verify, verify_disclosure,
        Selector,
    };
    use rand::SeedableRng;
    say("8. The verified freeze (the October 2020 offer, treaty freeze-2020), SYNTHETIC stockpiles of the 2020 size");
    say("   (Nuclear Notebook 2020: US about 3,800, Russia about 4,310 warheads; sites and types assumed):");
    let challenged = 10;
    let mut out = serde_json::Map::new();
    for (pi, party) in ["US", "RU"].into_iter().enumerate() {
        let other = if party == "US" { "RU" } else { "US" };
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(a.seed ^ (0xF0 + pi as u64));
        let truth = stockpile_records(party);
        let total0 = truth.len() as u64;
        let dir0 = a.out.join(party).join("freeze-2021-02-05");
        let dir1 = a.out.join(party).join("freeze-2021-08-01");
        let t0 = std::time::Instant::now();
        let cp0 = logs[pi].checkpoints.last().cloned();
        let base = declare(
            DeclareInput {
                party,
                treaty: "freeze-2020",
                date: "2021-02-05",
                records: truth.clone(),
                cap: total0,
                padded_size: None,
                checkpoint: cp0,
                baseline: None,
            },
            &mut rng,
        )?;
        // Six months on: the US retires 20; Russia keeps every warhead but
        // leaves one undeclared at each of four sites.
        let (declared1, hidden): (Vec<accord_freeze::Record>, Vec<String>) = if party == "US" {
            (truth[..truth.len() - 20].to_vec(), vec![])
        } else {
            let hide_at = ["RU-STORE-02", "RU-STORE-05", "RU-GADZHIYEVO", "RU-BARNAUL"];
            let mut keep = vec![];
            let mut hidden = vec![];
            for r in &truth {
                if hide_at.contains(&r.site.as_str()) && !hidden.contains(&r.site) {
                    hidden.push(r.site.clone());
                    continue;
                }
                keep.push(r.clone());
            }
            (keep, hidden)
        };
        let total1 = declared1.len() as u64;
        let now = declare(
            DeclareInput {
                party,
                treaty: "freeze-2020",
                date: "2021-08-01",
                records: declared1,
                cap: total0,
                padded_size: None,
                checkpoint: logs[pi].checkpoints.last().cloned(),
                baseline: Some((&base.public, &base.secret)),
            },
            &mut rng,
        )?;
        let prove_s = t0.elapsed().as_secs_f64();
        accord_freeze::files::write_declaration(&dir0, &base.public, &base.secret)?;
        accord_freeze::files::write_declaration(&dir1, &now.public, &now.secret)?;
        let t1 = std::time::Instant::now();
        verify(&base.public, None)?;
        let v = verify(&now.public, Some(&base.public))?;
        let verify_s = t1.elapsed().as_secs_f64();
        // Both public parts go into the party's log; the other party cosigns.
        let entries = [&base.public, &now.public]
            .iter()
            .map(|p| {
                accord_log::canonical_entry(&serde_json::to_string(p).unwrap_or_default())
                    .map_err(anyhow::Error::msg)
            })
            .collect::<Result<Vec<_>>>()?;
        logs[pi].store.append(&entries)?;
        let note = logs[pi].store.checkpoint(&logs[pi].signer)?;
        let wname = format!("{}/witness", accord_log::origin("new-start-2021", other));
        let witness = accord_log::Witness::open(
            &a.out.join(other).join("witness.sqlite"),
            keys::demo_signer(&wname, a.seed)?,
        )?;
        let last = witness.latest(logs[pi].store.origin())?.map_or(0, |x| x.0);
        let size = accord_log::Checkpoint::parse(&accord_log::Note::parse(&note)?.text)?.size;
        let proof = if last == 0 || last == size {
            vec![]
        } else {
            logs[pi].store.consistency_proof(last, size)?
        };
        let now_ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let line = witness.add_checkpoint(&note, last, &proof, now_ts)?;
        let mut cosigned = accord_log::Note::parse(&note)?;
        cosigned.add_line(line)?;
        logs[pi].checkpoints.push(note.clone());
        // The challenge: drawn with the protocol over the declaration's
        // sites (the population entry names the declaration's digest).
        let oi = 1 - pi;
        let (population, subject) = challenge_population(&v);
        let purpose = Purpose {
            draw: format!("freeze-2020/2021-08-01/freeze_challenge/{other}-challenges-{party}"),
            kind: DrawKind::FreezeChallenge,
            checking: draws::party_log(other, logs, oi)?,
            checked: draws::party_log(party, logs, pi)?,
            rule: Rule::distinct_sites(challenged as u32),
        };
        let made = neutral.draw(
            logs,
            oi,
            pi,
            purpose,
            population,
            Some(subject),
            draws::unix(d(2021, 8, 1)) + 600 * pi as u64,
            &format!("freeze-2021-08-01-{other}-challenges-{party}"),
        )?;
        let ch = challenge_sites(&v, &made.draw)?;
        let mut disclosed: Vec<accord_freeze::VerifiedDisclosure> = vec![];
        let mut findings = vec![];
        for site in &ch.sites {
            let d = disclose(&now.public, &now.secret, &Selector::Site(site.clone()))?;
            let vd = verify_disclosure(&v, &d, &disclosed)?;
            let found = d.count + hidden.iter().filter(|h| *h == site).count() as u64;
            if found != d.count {
                findings.push(format!(
                    "[undeclared_items] {other}'s inspectors at {site} count {found} warheads; {party}'s verified disclosure opens its commitment to {}",
                    d.count
                ));
            }
            disclosed.push(vd);
        }
        let odds = accord_inspect::odds(
            now.public.sites.len() as u64,
            hidden.len() as u64,
            challenged as u64,
        )?;
        say(&format!(
            "   {party}: baseline {total0} and now {total1} records at {} sites, padded to {}; cap {} and freeze proven ({:.2} s to declare both, {:.3} s to verify); public parts in {party}'s log, cosigned by {other}",
            now.public.sites.len(),
            now.public.padded_size,
            v.cap(),
            prove_s,
            verify_s
        ));
        say(&format!(
            "     {other} challenges {challenged} sites of the declaration at {party}'s log size {size}, drawn with the protocol: {}; each disclosure verified complete against its commitment",
            ch.sites.join(", ")
        ));
        made.tell(neutral, say);
        if hidden.is_empty() {
            say("     inspectors' counts match every disclosure");
        } else {
            say(&format!(
                "     ({party} secretly kept one undeclared warhead at each of {}: {} challenges of {} sites find at least one with P = {:.3})",
                hidden.join(", "),
                challenged,
                now.public.sites.len(),
                odds.p_detect
            ));
            for f in &findings {
                say(&format!("     {f}"));
            }
            if findings.is_empty() {
                say("     this challenge missed them");
            }
        }
        out.insert(
            party.to_string(),
            serde_json::json!({"baseline_total": total0, "declared_total": total1, "sites": now.public.sites.len(),
                "challenge": ch, "findings": findings, "p_catch": odds.p_detect, "cosigned_checkpoint": cosigned.to_text(),
                "draw": made.json()}),
        );
    }
    say("");
    Ok(serde_json::Value::Object(out))
}
