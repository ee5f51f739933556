//! Compliance of a party on a date.
//!
//! The state on a date D is the fold of every notification whose change
//! happened on or before D ([`Notification::fold_key`] order). On that state
//! the report gives each limit's value and maximum, whether it binds on D, and
//! the findings: limits exceeded while binding, impossible transitions and
//! data-exchange mismatches up to D, notifications sent after their deadline,
//! and data exchanges past due and never sent.

use crate::finding::{Difference, Finding, FindingKind};
use crate::notification::{Event, Notification};
use crate::state::State;
use accord_treaty::{Deadline, FollowedBy, LimitMax, RvChangeDeadline, Treaty};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A limit on the report's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitCheck {
    /// Limit id.
    pub id: String,
    /// What it limits.
    pub name: String,
    /// The party's value.
    pub value: u64,
    /// The maximum (for a freeze: the party's baseline value, once known).
    pub max: Option<u64>,
    /// Whether it binds on the date.
    pub binding: bool,
    /// First day it binds.
    pub binding_from: NaiveDate,
    /// Binding and over the maximum.
    pub exceeded: bool,
}

/// Compliance of one party on one date.
///
/// Read back strictly: besides the named fields, the only top-level keys
/// allowed are the aggregates, one per limit in `limits`, each a count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "ReportWire")]
pub struct Report {
    /// The party.
    pub party: String,
    /// The date.
    pub date: NaiveDate,
    /// The treaty id.
    pub treaty: String,
    /// The counting reading applied, if not the treaty's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reading: Option<String>,
    /// Whether the treaty is in force on the date.
    pub in_force: bool,
    /// True when the registry was generated (synthetic data).
    pub synthetic: bool,
    /// Every limit's value, by limit id (for New START:
    /// `deployed_delivery_vehicles`, `deployed_warheads`,
    /// `deployed_and_nondeployed_launchers`).
    #[serde(flatten)]
    pub aggregates: BTreeMap<String, u64>,
    /// Each limit on the date.
    pub limits: Vec<LimitCheck>,
    /// Findings, by date.
    pub findings: Vec<Finding>,
}

/// The wire form of a [`Report`], checked by `TryFrom` (serde cannot deny
/// unknown fields beside a flattened map).
#[derive(Deserialize)]
struct ReportWire {
    party: String,
    date: NaiveDate,
    treaty: String,
    in_force: bool,
    synthetic: bool,
    #[serde(default)]
    reading: Option<String>,
    limits: Vec<LimitCheck>,
    findings: Vec<Finding>,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

impl TryFrom<ReportWire> for Report {
    type Error = String;

    fn try_from(w: ReportWire) -> Result<Self, Self::Error> {
        let mut aggregates = BTreeMap::new();
        for (k, v) in w.rest {
            if !w.limits.iter().any(|l| l.id == k) {
                return Err(format!("unknown field `{k}`"));
            }
            let n = v
                .as_u64()
                .ok_or_else(|| format!("field `{k}`: expected a count, got {v}"))?;
            aggregates.insert(k, n);
        }
        if let Some(l) = w.limits.iter().find(|l| !aggregates.contains_key(&l.id)) {
            return Err(format!("missing field `{}`", l.id));
        }
        Ok(Report {
            party: w.party,
            date: w.date,
            treaty: w.treaty,
            in_force: w.in_force,
            synthetic: w.synthetic,
            reading: w.reading,
            aggregates,
            limits: w.limits,
            findings: w.findings,
        })
    }
}

impl Report {
    /// Whether the report has no findings.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The deadline of a notification under the treaty: its catalogue entry's
/// rule when the treaty has one for its kind, otherwise the general rule of
/// `[notifications]`. For a notification sent ahead of what it announces
/// (a launch, an inspection) this is the last day it may be sent.
pub fn deadline(treaty: &Treaty, n: &Notification) -> NaiveDate {
    let next_exchange = |regular: NaiveDate| {
        treaty
            .next_data_exchange(n.date)
            .map_or(regular, |(_, due)| due)
    };
    let schedule = || {
        treaty
            .data_exchange_due(n.date)
            .unwrap_or_else(|| accord_treaty::add_days(n.date, treaty.data_exchanges.due_days))
    };
    let regular = accord_treaty::add_days(n.date, treaty.notifications.deadline_days);
    if let Some(t) = treaty.notification_type(n.event.kind()) {
        return match t.deadline {
            Deadline::AfterEvent(days) => accord_treaty::add_days(n.date, days),
            Deadline::InAdvance(days) => n
                .date
                .checked_sub_days(chrono::Days::new(u64::from(days)))
                .unwrap_or(NaiveDate::MIN),
            Deadline::NextDataExchange => next_exchange(regular),
            Deadline::DataExchangeSchedule => schedule(),
        };
    }
    match &n.event {
        Event::DataExchange { .. } => schedule(),
        Event::ReentryVehicleChange { .. }
            if treaty.notifications.reentry_vehicle_changes
                == RvChangeDeadline::NextDataExchange =>
        {
            next_exchange(regular)
        }
        _ => regular,
    }
}

/// Evaluates a party's notifications on each of `dates`, in one pass.
///
/// `notifications` may be in any order; they are folded in
/// [`Notification::fold_key`] order. Returns one report per date, in the
/// order of `dates`.
pub fn evaluate(
    treaty: &Treaty,
    party: &str,
    notifications: &[Notification],
    dates: &[NaiveDate],
    synthetic: bool,
) -> Vec<Report> {
    let mut order: Vec<&Notification> = notifications.iter().collect();
    order.sort_by_key(|n| n.fold_key());
    let mut wanted: Vec<(usize, NaiveDate)> = dates.iter().copied().enumerate().collect();
    wanted.sort_by_key(|&(_, d)| d);
    let mut ev = Evaluator::new(treaty, party, synthetic);
    let mut next = 0usize;
    let mut out: Vec<(usize, Report)> = Vec::with_capacity(dates.len());
    for (slot, date) in wanted {
        while next < order.len() && order[next].date <= date {
            ev.apply(treaty, order[next]);
            next += 1;
        }
        out.push((slot, ev.report(treaty, date)));
    }
    out.sort_by_key(|(slot, _)| *slot);
    out.into_iter().map(|(_, r)| r).collect()
}

/// The fold key of a notification: see [`Notification::fold_key`].
pub type FoldKey = (NaiveDate, bool, u64);

/// A party's compliance, folded one notification at a time.
///
/// Feed it notifications in [`Notification::fold_key`] order; it can then
/// report on any date on or after the last one fed and before the next one
/// to come, in time independent of how many were fed: the state keeps its
/// aggregates incrementally, the findings raised so far are kept, and the
/// date-dependent findings (missing exchanges, overdue follow-ups, limits
/// exceeded) are derived on the report's date. A clone is a snapshot:
/// [`evaluate`] is this fold over a sorted slice, and the regime keeps
/// clones at month boundaries so a report on any date replays only what
/// came after the nearest one.
#[derive(Debug, Clone)]
pub struct Evaluator {
    party: String,
    synthetic: bool,
    state: State,
    /// Impossible transitions and data-exchange mismatches so far.
    transitions: Vec<Finding>,
    /// Notifications sent after their deadline, so far.
    late: Vec<Finding>,
    /// Notifications that must be followed by another for the same item:
    /// item → (kind expected, by when, the notification waiting).
    expected: HashMap<String, Vec<(String, NaiveDate, Notification)>>,
    /// The kinds that expect a follow-up.
    follows: Vec<(String, FollowedBy)>,
    baselines: BTreeMap<String, u64>,
    first_date: Option<NaiveDate>,
    exchanged: HashSet<NaiveDate>,
    last: Option<FoldKey>,
    applied: u64,
}

impl Evaluator {
    /// Nothing folded yet.
    pub fn new(treaty: &Treaty, party: &str, synthetic: bool) -> Evaluator {
        Evaluator {
            party: party.to_string(),
            synthetic,
            state: State::new(treaty, party),
            transitions: vec![],
            late: vec![],
            expected: HashMap::new(),
            follows: treaty
                .notification_types
                .iter()
                .filter_map(|t| t.followed_by.as_ref().map(|f| (t.id.clone(), f.clone())))
                .collect(),
            baselines: BTreeMap::new(),
            first_date: None,
            exchanged: HashSet::new(),
            last: None,
            applied: 0,
        }
    }

    /// The fold key of the last notification folded.
    pub fn last(&self) -> Option<FoldKey> {
        self.last
    }

    /// How many notifications were folded.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// The state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The date of the first change folded.
    pub fn first_date(&self) -> Option<NaiveDate> {
        self.first_date
    }

    /// Folds the next notification (fold-key order: after [`Evaluator::last`]).
    pub fn apply(&mut self, treaty: &Treaty, n: &Notification) {
        debug_assert!(self.last.is_none_or(|l| l <= n.fold_key()));
        self.fold(treaty, n);
    }

    /// Folds a notification that comes before others already folded but
    /// commutes with every one of them (it concerns other items and
    /// facilities, no data exchange follows it, and it is not before the
    /// first change): the registry decides that (`Staged::folds_onto_the_tip`).
    pub fn apply_out_of_order(&mut self, treaty: &Treaty, n: &Notification) {
        self.fold(treaty, n);
    }

    fn fold(&mut self, treaty: &Treaty, n: &Notification) {
        self.first_date = Some(self.first_date.map_or(n.date, |f| f.min(n.date)));
        self.last = self.last.max(Some(n.fold_key()));
        self.applied += 1;
        capture_baselines(treaty, &self.state, n.date, &mut self.baselines);
        let due = deadline(treaty, n);
        if n.sent > due {
            let when = if n.sent >= n.date {
                format!("{} days after the change", (n.sent - n.date).num_days())
            } else {
                format!("{} days before it", (n.date - n.sent).num_days())
            };
            self.late.push(Finding::about(
                FindingKind::LateNotification,
                n,
                format!(
                    "{} of {} sent {}, {when}; due by {}",
                    n.event.kind(),
                    n.date,
                    n.sent,
                    due
                ),
            ));
        }
        if let Some(f) = self.state.apply(n) {
            self.transitions.push(f);
        } else if let Some(item) = n.event.item() {
            if let Some(waiting) = (!self.expected.is_empty())
                .then(|| self.expected.get_mut(item))
                .flatten()
            {
                waiting.retain(|(k, by, _)| !(k == n.event.kind() && n.date <= *by));
                if waiting.is_empty() {
                    self.expected.remove(item);
                }
            }
            let kind = n.event.kind();
            if let Some((_, fb)) = self.follows.iter().find(|(k, _)| k == kind) {
                let by = accord_treaty::add_days(n.date, fb.within_days);
                let kind = fb.kind.clone();
                self.expected
                    .entry(item.to_string())
                    .or_default()
                    .push((kind, by, n.clone()));
            }
        }
        if let Event::DataExchange { counts, facilities } = &n.event {
            self.exchanged.insert(n.date);
            self.transitions
                .extend(compare_exchange(&self.state, n, counts, facilities));
        }
    }

    /// The report on `date`: every notification folded must be dated on or
    /// before it, and every one dated on or before it must be folded.
    pub fn report(&self, treaty: &Treaty, date: NaiveDate) -> Report {
        let party = self.party.as_str();
        // Nothing after `date` is folded: the state is the state on `date`,
        // and a baseline binding by then is this state's value if no change
        // came after the day it began to bind (else it was captured then).
        let mut baselines = self.baselines.clone();
        capture_baselines(
            treaty,
            &self.state,
            date.succ_opt().unwrap_or(date),
            &mut baselines,
        );
        let mut findings: Vec<Finding> = self.transitions.clone();
        findings.extend(self.late.iter().filter(|f| f.date <= date).cloned());
        let mut overdue: Vec<(&String, &String, NaiveDate, &Notification)> = self
            .expected
            .iter()
            .flat_map(|(item, v)| v.iter().map(move |(k, by, n)| (item, k, *by, n)))
            .filter(|e| e.2 < date)
            .collect();
        overdue.sort_by_key(|e| (e.2, e.3.number));
        for (item, kind, by, n) in overdue {
            let mut f = Finding::about(
                FindingKind::MissingNotification,
                n,
                format!(
                    "{} of {item} on {}: no {kind} followed by {by} ({})",
                    n.event.kind(),
                    n.date,
                    treaty
                        .notification_type(n.event.kind())
                        .and_then(|t| t.followed_by.as_ref())
                        .map_or("", |fb| fb.source.as_str())
                ),
            );
            f.date = by;
            findings.push(f);
        }
        if let Some(first) = self.first_date {
            for (as_of, due) in treaty.data_exchange_schedule() {
                if as_of >= first && due < date && !self.exchanged.contains(&as_of) {
                    findings.push(Finding {
                        kind: FindingKind::MissingDataExchange,
                        message: format!(
                            "the data exchange as of {as_of} was due by {due} and was never sent"
                        ),
                        date: due,
                        notification: None,
                        item: None,
                        differences: vec![],
                    });
                }
            }
        }
        let aggregates = self.state.aggregates();
        let limits: Vec<LimitCheck> = treaty
            .limits
            .iter()
            .map(|l| {
                let value = aggregates.get(&l.id).copied().unwrap_or(0);
                let binding = treaty.in_force_on(date) && l.binding_from <= date;
                let max = match l.max {
                    LimitMax::Fixed(m) => Some(m),
                    LimitMax::Baseline => baselines.get(&l.id).copied(),
                };
                LimitCheck {
                    id: l.id.clone(),
                    name: l.name.clone(),
                    value,
                    max,
                    binding,
                    binding_from: l.binding_from,
                    exceeded: binding && max.is_some_and(|m| value > m),
                }
            })
            .collect();
        for l in limits.iter().filter(|l| l.exceeded) {
            findings.push(Finding {
                kind: FindingKind::LimitExceeded,
                message: format!(
                    "{} {}: {} is above the limit of {} ({})",
                    party,
                    l.id,
                    l.value,
                    l.max.unwrap_or(0),
                    treaty.limit(&l.id).map_or("", |x| x.article.as_str())
                ),
                date,
                notification: None,
                item: None,
                differences: vec![],
            });
        }
        findings.sort_by_key(|f| (f.date, f.notification, f.kind));
        Report {
            party: party.to_string(),
            date,
            treaty: treaty.id.clone(),
            reading: treaty.reading.clone(),
            in_force: treaty.in_force_on(date),
            synthetic: self.synthetic,
            aggregates,
            limits,
            findings,
        }
    }
}

/// Records, for each baseline (freeze) limit, the party's value at the end of
/// the day it begins to bind: called before the first change dated after it.
fn capture_baselines(
    treaty: &Treaty,
    state: &State,
    upcoming: NaiveDate,
    baselines: &mut BTreeMap<String, u64>,
) {
    for l in &treaty.limits {
        if l.max == LimitMax::Baseline
            && upcoming > l.binding_from
            && !baselines.contains_key(&l.id)
        {
            baselines.insert(l.id.clone(), state.value(&l.id).unwrap_or(0));
        }
    }
}

/// Compares a data exchange with the item-level state on its date: each
/// total, and when the exchange gives them, each Part Two category at each
/// facility. Totals differing give one finding with every difference; each
/// facility and category differing gives its own finding naming the
/// facility, the category and both numbers, even when the totals agree.
fn compare_exchange(
    state: &State,
    n: &Notification,
    counts: &BTreeMap<String, u64>,
    facilities: &BTreeMap<String, BTreeMap<String, u64>>,
) -> Vec<Finding> {
    let mut out = vec![];
    let differences: Vec<Difference> = counts
        .iter()
        .filter_map(|(limit, &declared)| {
            let item_level = state.value(limit).unwrap_or(0);
            (declared != item_level).then(|| Difference {
                limit: limit.clone(),
                facility: None,
                category: None,
                declared,
                item_level,
            })
        })
        .collect();
    if !differences.is_empty() {
        let words: Vec<String> = differences
            .iter()
            .map(|d| {
                format!(
                    "{} declared {} but items add up to {}",
                    d.limit, d.declared, d.item_level
                )
            })
            .collect();
        let mut f = Finding::about(
            FindingKind::DataExchangeMismatch,
            n,
            format!("data exchange as of {}: {}", n.date, words.join("; ")),
        );
        f.differences = differences;
        out.push(f);
    }
    if facilities.is_empty() {
        return out;
    }
    let found = state.by_facility();
    let empty = BTreeMap::new();
    let names: std::collections::BTreeSet<&String> =
        facilities.keys().chain(found.keys()).collect();
    for fac in names {
        let declared = facilities.get(fac).unwrap_or(&empty);
        let items = found.get(fac).unwrap_or(&empty);
        let cats: std::collections::BTreeSet<&String> =
            declared.keys().chain(items.keys()).collect();
        for cat in cats {
            let (d, i) = (
                declared.get(cat).copied().unwrap_or(0),
                items.get(cat).copied().unwrap_or(0),
            );
            if d != i {
                let mut f = Finding::about(
                    FindingKind::DataExchangeMismatch,
                    n,
                    format!(
                        "data exchange as of {}: at {fac}, {cat} declared {d} but items there add up to {i}",
                        n.date
                    ),
                );
                f.differences = vec![Difference {
                    limit: String::new(),
                    facility: Some(fac.clone()),
                    category: Some(cat.clone()),
                    declared: d,
                    item_level: i,
                }];
                out.push(f);
            }
        }
    }
    out
}
