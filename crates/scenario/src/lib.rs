//! Proposals and futures (issue #7): the choices of 2020–2026 as data, each
//! party's forces projected year by year under each, and what remains
//! verifiable.
//!
//! A **proposal** (`proposals/*.toml`) names the treaty it runs on (its
//! limits, term, extensions, verification), optionally a predecessor that
//! governs until it enters into force, and optionally a political
//! commitment after expiry (Russia's 2025 offer: the central limits for one
//! more year, unverified). On each date a proposal is in one **regime**:
//!
//! | regime | limits | verification |
//! |---|---|---|
//! | `treaty` | the treaty's (or its predecessor's) binding limits | data exchanges, notifications, inspections |
//! | `observed` | the central limits, as a political commitment | none |
//! | `none` | none | none |
//!
//! The **projection** of a party (see [`force`] for the arithmetic) starts
//! from its force on `--from` and applies its modernisation schedule
//! (`data/futures/PARTY.toml`). While limits bind, the party is held within
//! them. Once none binds (from the day `limits_end`), it loads
//! `upload.per_year` of its upload potential each year, never more than
//! its whole stockpile:
//!
//! ```text
//! projected(d) = min(stockpile, counted(d) + min(1, rate · years(d − limits_end)) · potential(d))
//! ceiling(d)   = min(stockpile, counted(d) + potential(d))
//! ```
#![forbid(unsafe_code)]

pub mod data;
pub mod force;
pub mod report;
pub mod request;
pub mod start;

use accord_treaty::{Record, Treaty};
use chrono::NaiveDate;
use data::{Futures, ProposalFile};
use force::Force;
use serde::Serialize;
use std::collections::BTreeMap;

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// A proposal or futures file.
    #[error(transparent)]
    Data(#[from] data::DataError),
    /// A treaty file.
    #[error("proposal {proposal}: {message}")]
    Treaty {
        /// The proposal.
        proposal: String,
        /// What went wrong.
        message: String,
    },
    /// A party has no starting force.
    #[error(
        "proposal {proposal}: no starting force for {party} (give one with --registry {party}=DIR)"
    )]
    NoForce {
        /// The proposal.
        proposal: String,
        /// The party.
        party: String,
    },
}

/// What a proposal is, with its treaty (and predecessor) loaded.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file.
    pub file: ProposalFile,
    /// Its treaty.
    pub treaty: Treaty,
    /// The treaty that governs before it, if any.
    pub predecessor: Option<Treaty>,
    /// The implementation record applied, if the proposal names one: what
    /// was actually inspected and exchanged.
    pub record: Option<Record>,
}

impl Loaded {
    /// Loads a proposal and its treaties.
    pub fn load(id_or_path: &str) -> Result<Loaded, ScenarioError> {
        let file = data::load_proposal(id_or_path)?;
        let err = |message: String| ScenarioError::Treaty {
            proposal: file.proposal.id.clone(),
            message,
        };
        let treaty = Treaty::load(&file.proposal.treaty).map_err(|e| err(e.to_string()))?;
        let predecessor = match &file.proposal.preceded_by {
            Some(p) => Some(Treaty::load(p).map_err(|e| err(e.to_string()))?),
            None => None,
        };
        if let Some(f) = &file.proposal.freeze_limit {
            if treaty.limit(f).is_none() {
                return Err(err(format!(
                    "freeze_limit `{f}` is not a limit of {}",
                    treaty.id
                )));
            }
        }
        let record = match &file.proposal.record {
            Some(r) => Some(Record::load(r, &treaty).map_err(|e| err(e.to_string()))?),
            None => None,
        };
        Ok(Loaded {
            file,
            treaty,
            predecessor,
            record,
        })
    }

    /// The parties the proposal's treaty binds.
    pub fn parties(&self) -> Vec<String> {
        self.treaty.parties.iter().map(|p| p.code.clone()).collect()
    }

    /// The last day any limit applies under the proposal, plus one: the
    /// treaty's expiry, or the end of the political commitment after it.
    pub fn limits_end(&self) -> NaiveDate {
        let e = self.treaty.expires();
        self.file
            .after
            .as_ref()
            .map_or(e, |a| a.limits_observed_until.max(e))
    }

    /// The regime on `date`, and the treaty that governs it (if any).
    pub fn regime(&self, date: NaiveDate) -> (Regime, Option<&Treaty>) {
        if self.treaty.in_force_on(date) {
            return (Regime::Treaty, Some(&self.treaty));
        }
        if date < self.treaty.entry_into_force {
            if let Some(p) = self.predecessor.as_ref().filter(|p| p.in_force_on(date)) {
                return (Regime::Treaty, Some(p));
            }
            return (Regime::None, None);
        }
        match &self.file.after {
            Some(a) if date < a.limits_observed_until => (
                if a.verified {
                    Regime::Treaty
                } else {
                    Regime::Observed
                },
                Some(&self.treaty),
            ),
            _ => (Regime::None, None),
        }
    }
}

/// What holds on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// A treaty in force: limits and verification.
    Treaty,
    /// The central limits observed politically, unverified.
    Observed,
    /// Nothing.
    None,
}

/// A limit in force on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LimitAt {
    /// The limit's id.
    pub id: String,
    /// Its maximum; null for a freeze at each party's baseline.
    pub max: Option<u64>,
    /// Whether anything verifies it (false for a political freeze and for
    /// limits observed without the treaty).
    pub verified: bool,
}

/// What can be verified on a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    /// Items the parties' registries declare (every missile, launcher and
    /// bomber with its unique identifier), while a treaty requires it.
    pub items_under_declaration: u64,
    /// Data exchanges a year each party owes.
    pub data_exchanges_per_year: u64,
    /// Data exchanges a year each party actually provides (the record's
    /// word where the proposal has one: none from Russia from 1 Mar 2023).
    pub data_exchanges_by_party: BTreeMap<String, u64>,
    /// On-site inspections a year, all parties together: the quotas, or
    /// zero while the record says inspections were not conducted.
    pub inspections_per_year: u64,
    /// Share of the parties' whole stockpiles under a verified freeze: 1
    /// under a verified freeze of every warhead, 0 otherwise (a political
    /// freeze verifies nothing).
    pub freeze_coverage: f64,
    /// Share of the whole stockpiles the treaty's counting declares and
    /// verifies: the counted deployed strategic warheads over the stockpiles
    /// (1 under a verified freeze).
    pub declared_share: f64,
}

/// One party on one date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartyPoint {
    /// Deployed ICBMs, SLBMs and heavy bombers (projected).
    pub deployed_delivery_vehicles: u64,
    /// Deployed warheads (projected; counted as New START counts while a
    /// limit binds, actual loading after).
    pub deployed_warheads: u64,
    /// Deployed and non-deployed launchers and heavy bombers.
    pub deployed_and_nondeployed_launchers: u64,
    /// Warheads that could be added without building anything.
    pub upload_potential: u64,
    /// The most it could deploy: counted plus potential, within its
    /// strategic stockpile.
    pub ceiling: u64,
    /// Its whole stockpile on the date (the futures file's figure, or its trajectory).
    pub stockpile: u64,
    /// Its strategic stockpile on the date (non-strategic excluded): what
    /// any upload draws on.
    pub strategic_stockpile: u64,
    /// The stockpile's uncertainty band `[low, high]` on the date, where the
    /// futures file gives a trajectory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stockpile_band: Option<[u64; 2]>,
    /// Whether the projection was held down by a limit.
    pub held_at_limit: bool,
}

/// One date of a proposal's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearPoint {
    /// The date.
    pub date: NaiveDate,
    /// The regime.
    pub regime: Regime,
    /// The limits in force (empty when none).
    pub limits: Vec<LimitAt>,
    /// What is verifiable.
    pub verification: Verification,
    /// Each party.
    pub parties: BTreeMap<String, PartyPoint>,
}

/// A deadline from `--from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// Plain words.
    pub what: String,
    /// The date.
    pub date: NaiveDate,
    /// Days from `--from`.
    pub days_left: i64,
}

/// One proposal, compared.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The proposal's id, e.g. `freeze-2020`.
    pub name: String,
    /// Its display name.
    pub title: String,
    /// `agreed`, `what happened`, `hypothetical`, …
    pub status: String,
    /// True for a proposal nobody made (status `hypothetical`): shown as such.
    pub hypothetical: bool,
    /// One paragraph.
    pub summary: String,
    /// Its terms as offered, each sourced.
    pub terms: Vec<data::Term>,
    /// The implementation record it follows, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Its treaty's id.
    pub treaty: String,
    /// The parties it binds.
    pub parties: Vec<String>,
    /// The day the last limit stops applying (the treaty's expiry, or the
    /// end of a political commitment after it). Null only when no limit of
    /// the proposal ever applies.
    pub expires: Option<NaiveDate>,
    /// Days from `--from` to `expires` (0 once passed).
    pub days_left: Option<i64>,
    /// The treaty's own expiry (legal obligations and verification end).
    pub treaty_expires: NaiveDate,
    /// Upcoming deadlines from `--from`.
    pub deadlines: Vec<Deadline>,
    /// The projection.
    pub timeline: Vec<YearPoint>,
    /// Sources.
    pub sources: Vec<String>,
}

/// A starting force and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Start {
    /// The force.
    pub force: Force,
    /// How it was made (a generated SYNTHETIC registry at a published row,
    /// or a given registry).
    pub provenance: String,
    /// Whether it is synthetic.
    pub synthetic: bool,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The date compared from.
    pub from: NaiveDate,
    /// Years projected.
    pub years: u32,
    /// Whether any starting force is synthetic.
    pub synthetic: bool,
    /// Starting forces, by party.
    pub forces: BTreeMap<String, Start>,
    /// The futures used, by party.
    pub futures: BTreeMap<String, Futures>,
    /// One object a proposal.
    pub proposals: Vec<Outcome>,
}

/// The dates projected: `from`, each anniversary up to `years`, and every
/// day a regime changes in between (so that steps show as steps).
fn dates(p: &Loaded, from: NaiveDate, years: u32) -> Vec<NaiveDate> {
    let end = add_years(from, years);
    let mut d: Vec<NaiveDate> = (0..=years).map(|k| add_years(from, k)).collect();
    let mut changes = vec![
        p.treaty.entry_into_force,
        p.treaty.expires(),
        p.limits_end(),
    ];
    if let Some(pre) = &p.predecessor {
        changes.push(pre.expires());
    }
    for t in [&p.treaty].into_iter().chain(p.predecessor.as_ref()) {
        for l in &t.limits {
            changes.push(l.binding_from);
        }
    }
    d.extend(changes.into_iter().filter(|c| *c > from && *c < end));
    d.sort_unstable();
    d.dedup();
    d
}

/// `date` plus `years` (29 Feb becomes 28 Feb).
pub fn add_years(date: NaiveDate, years: u32) -> NaiveDate {
    accord_treaty::add_years(date, years)
}

/// Years from `a` to `b`: whole anniversaries, plus the days since the last
/// one over 365 (so each anniversary is an exact whole number).
pub fn years_between(a: NaiveDate, b: NaiveDate) -> f64 {
    if b <= a {
        return 0.0;
    }
    let whole = force::whole_years(a, b);
    let last = add_years(a, whole as u32);
    whole as f64 + (b - last).num_days() as f64 / 365.0
}

/// Projects one proposal.
pub fn project(
    p: &Loaded,
    from: NaiveDate,
    years: u32,
    forces: &BTreeMap<String, Start>,
    futures: &BTreeMap<String, Futures>,
) -> Result<Outcome, ScenarioError> {
    let id = p.file.proposal.id.clone();
    let parties = p.parties();
    for party in &parties {
        if !forces.contains_key(party) || !futures.contains_key(party) {
            return Err(ScenarioError::NoForce {
                proposal: id.clone(),
                party: party.clone(),
            });
        }
    }
    let limits_end = p.limits_end();
    let mut timeline = vec![];
    for date in dates(p, from, years) {
        let (regime, governing) = p.regime(date);
        let limits: Vec<LimitAt> = match (regime, governing) {
            (Regime::Treaty, Some(t)) => t
                .binding_limits(date)
                .map(|l| LimitAt {
                    id: l.id.clone(),
                    max: l.max.fixed(),
                    verified: p.file.proposal.freeze_limit.as_ref() != Some(&l.id)
                        || p.file.proposal.freeze_verified.unwrap_or(true),
                })
                .collect(),
            (Regime::Observed, Some(t)) => t
                .limits
                .iter()
                .filter_map(|l| {
                    l.max.fixed().map(|m| LimitAt {
                        id: l.id.clone(),
                        max: Some(m),
                        verified: false,
                    })
                })
                .collect(),
            _ => vec![],
        };
        let cap = |id: &str| limits.iter().find(|l| l.id == id).and_then(|l| l.max);
        let frozen = p
            .file
            .proposal
            .freeze_limit
            .as_ref()
            .is_some_and(|f| limits.iter().any(|l| &l.id == f));
        let verified_freeze = frozen && p.file.proposal.freeze_verified.unwrap_or(true);
        let mut points = BTreeMap::new();
        let (mut counted, mut stock) = (0u64, 0u64);
        for party in &parties {
            let (Some(start), Some(fut)) = (forces.get(party), futures.get(party)) else {
                continue;
            };
            let f = start.force.modernised(&fut.modernisation, date);
            let t = f.totals();
            let total = fut.stockpile.total_on(date);
            let stockpile = fut.stockpile.strategic_on(date);
            let ceiling = stockpile.min(t.deployed_warheads + t.upload_potential);
            let mut held = false;
            let (dv, w) = if limits.is_empty() {
                let share =
                    (fut.upload.per_year * years_between(limits_end.max(from), date)).min(1.0);
                let uploaded = (share * t.upload_potential as f64).round() as u64;
                let returned = (share
                    * f.systems.iter().map(|s| s.non_deployed).sum::<u64>() as f64)
                    .round() as u64;
                (
                    t.deployed_delivery_vehicles + returned,
                    stockpile.min(t.deployed_warheads + uploaded),
                )
            } else {
                let mut dv = t.deployed_delivery_vehicles;
                let mut w = t.deployed_warheads;
                if let Some(m) = cap("deployed_delivery_vehicles") {
                    held |= dv > m;
                    dv = dv.min(m);
                }
                if let Some(m) = cap("deployed_warheads") {
                    held |= w > m;
                    w = w.min(m);
                }
                // Nobody deploys warheads it does not have.
                (dv, w.min(stockpile))
            };
            let launchers = match cap("deployed_and_nondeployed_launchers") {
                Some(m) => {
                    held |= t.deployed_and_nondeployed_launchers > m;
                    t.deployed_and_nondeployed_launchers.min(m)
                }
                None => t.deployed_and_nondeployed_launchers,
            };
            counted += w;
            stock += total;
            points.insert(
                party.clone(),
                PartyPoint {
                    deployed_delivery_vehicles: dv,
                    deployed_warheads: w,
                    deployed_and_nondeployed_launchers: launchers,
                    upload_potential: t.upload_potential,
                    ceiling,
                    stockpile: total,
                    strategic_stockpile: stockpile,
                    stockpile_band: fut.stockpile.band_on(date),
                    held_at_limit: held,
                },
            );
        }
        let verification = match (regime, governing) {
            (Regime::Treaty, Some(t)) => {
                let bound: Vec<&String> = parties.iter().filter(|x| t.party(x).is_some()).collect();
                let owed = t.data_exchanges.as_of.len() as u64;
                // What the record says was provided: the exchanges of the
                // year from this date.
                let next_year = add_years(date, 1);
                let by_party = bound
                    .iter()
                    .map(|x| {
                        let n = match p.record.as_ref().filter(|r| r.treaty == t.id) {
                            Some(r) => t
                                .data_exchange_schedule()
                                .iter()
                                .filter(|(a, _)| *a >= date && *a < next_year)
                                .filter(|(a, _)| {
                                    r.exchange_outcome(x, *a)
                                        == accord_treaty::record::ExchangeStatus::Provided
                                })
                                .count() as u64,
                            None => owed,
                        };
                        ((*x).clone(), n)
                    })
                    .collect();
                let inspecting = p
                    .record
                    .as_ref()
                    .filter(|r| r.treaty == t.id)
                    .is_none_or(|r| r.inspections_conducted(date));
                Verification {
                    items_under_declaration: bound
                        .iter()
                        .filter_map(|x| forces.get(*x))
                        .map(|s| s.force.items)
                        .sum(),
                    data_exchanges_per_year: owed,
                    data_exchanges_by_party: by_party,
                    inspections_per_year: if inspecting {
                        t.inspections
                            .iter()
                            .map(|i| u64::from(i.per_treaty_year))
                            .sum::<u64>()
                            * bound.len() as u64
                    } else {
                        0
                    },
                    freeze_coverage: if verified_freeze { 1.0 } else { 0.0 },
                    declared_share: if verified_freeze {
                        1.0
                    } else if stock == 0 {
                        0.0
                    } else {
                        counted as f64 / stock as f64
                    },
                }
            }
            _ => Verification {
                items_under_declaration: 0,
                data_exchanges_per_year: 0,
                data_exchanges_by_party: BTreeMap::new(),
                inspections_per_year: 0,
                freeze_coverage: 0.0,
                declared_share: 0.0,
            },
        };
        timeline.push(YearPoint {
            date,
            regime,
            limits,
            verification,
            parties: points,
        });
    }
    // Deadlines: the governing treaty's, from `from`, and the end of any
    // commitment after it.
    let mut deadlines = vec![];
    let (_, governing) = p.regime(from);
    for t in governing
        .into_iter()
        .chain((p.treaty.entry_into_force > from).then_some(&p.treaty))
    {
        for u in t.timeline(from).upcoming {
            deadlines.push(Deadline {
                what: format!("{}: {}", t.name, u.what),
                date: u.date,
                days_left: u.days_left,
            });
        }
    }
    if let Some(a) = &p.file.after {
        if a.limits_observed_until > from {
            deadlines.push(Deadline {
                what: format!(
                    "the central limits are no longer observed ({})",
                    if a.verified {
                        "verified"
                    } else {
                        "unverified political commitment"
                    }
                ),
                date: a.limits_observed_until,
                days_left: (a.limits_observed_until - from).num_days(),
            });
        }
    }
    deadlines.sort_by_key(|d| d.date);
    deadlines.dedup_by(|a, b| a.date == b.date && a.what == b.what);
    let mut sources = vec![p.file.proposal.source.clone(), p.treaty.source.clone()];
    if let Some(a) = &p.file.after {
        sources.push(a.source.clone());
    }
    let any_limit = p.treaty.limits.iter().any(|l| l.max.fixed().is_some());
    Ok(Outcome {
        name: id,
        title: p.file.proposal.name.clone(),
        status: p.file.proposal.status.clone(),
        hypothetical: p.file.proposal.status == "hypothetical",
        summary: p.file.proposal.summary.clone(),
        terms: p.file.terms.clone(),
        record: p.record.as_ref().map(|r| r.file.clone()),
        treaty: p.treaty.id.clone(),
        parties,
        expires: any_limit.then_some(limits_end),
        days_left: any_limit.then(|| (limits_end - from).num_days().max(0)),
        treaty_expires: p.treaty.expires(),
        deadlines,
        timeline,
        sources,
    })
}

/// Compares proposals from `from` over `years`.
pub fn compare(
    proposals: &[Loaded],
    from: NaiveDate,
    years: u32,
    forces: BTreeMap<String, Start>,
    futures: BTreeMap<String, Futures>,
) -> Result<Comparison, ScenarioError> {
    let outcomes = proposals
        .iter()
        .map(|p| project(p, from, years, &forces, &futures))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Comparison {
        from,
        years,
        synthetic: forces.values().any(|s| s.synthetic),
        forces,
        futures,
        proposals: outcomes,
    })
}
