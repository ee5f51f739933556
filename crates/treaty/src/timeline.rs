//! Where a treaty stands on a given date.

use crate::record::{Record, RecordOnDate};
use crate::{LimitMax, Treaty};
use chrono::NaiveDate;
use serde::Serialize;

/// Whether the treaty is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineStatus {
    /// Before entry into force.
    NotYetInForce,
    /// In force.
    InForce,
    /// On or after expiry.
    Expired,
    /// A party's withdrawal has taken effect (the record holds its notice).
    Withdrawn,
}

/// A limit and whether it binds on the date.
#[derive(Debug, Clone, Serialize)]
pub struct LimitOnDate {
    /// The limit's id.
    pub id: String,
    /// Its maximum (null for a freeze at the baseline).
    pub max: Option<u64>,
    /// True for a freeze at the party's own baseline.
    pub baseline: bool,
    /// First day it binds.
    pub binding_from: NaiveDate,
    /// Whether it binds on the date.
    pub binding: bool,
}

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// The central limits begin to bind.
    LimitsBind,
    /// A data exchange is due.
    DataExchangeDue,
    /// The treaty expires.
    Expiry,
}

/// An upcoming deadline.
#[derive(Debug, Clone, Serialize)]
pub struct UpcomingDeadline {
    /// What it is.
    pub kind: DeadlineKind,
    /// Its date.
    pub date: NaiveDate,
    /// Days from the timeline's date.
    pub days_left: i64,
    /// Plain words.
    pub what: String,
}

/// The treaty on a date.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// The treaty id.
    pub treaty: String,
    /// The date asked about.
    pub date: NaiveDate,
    /// In force, not yet, or expired.
    pub status: TimelineStatus,
    /// Entry into force.
    pub entry_into_force: NaiveDate,
    /// Expiry with every extension in the file (first day not in force).
    pub expires: NaiveDate,
    /// Expiry counting only extensions agreed by the date.
    pub expires_as_known_on_date: NaiveDate,
    /// Days from the date to expiry, while in force (or before).
    pub days_left: Option<i64>,
    /// The limits and whether each binds.
    pub limits: Vec<LimitOnDate>,
    /// Extensions agreed by the date.
    pub extensions_used: u32,
    /// Whether another extension can still be agreed on the date.
    pub extension_possible: bool,
    /// The longest extension still possible, in years.
    pub extension_max_years: u32,
    /// Treaty year (1-based) containing the date, with its first and last day.
    pub treaty_year: Option<(u32, NaiveDate, NaiveDate)>,
    /// The next deadlines after the date.
    pub upcoming: Vec<UpcomingDeadline>,
    /// What actually held on the date, from the implementation record
    /// (present when a record was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordOnDate>,
}

impl Treaty {
    /// Where the treaty stands on `date`, and what actually held then
    /// according to `record`: suspensions, inspections, exchanges, and a
    /// withdrawal that has taken effect.
    pub fn timeline_with(&self, record: Option<&Record>, date: NaiveDate) -> Timeline {
        let mut tl = self.timeline(date);
        if let Some(r) = record {
            let on = r.on(self, date);
            if let Some((_, _, effective)) = on.withdrawal {
                if date >= effective && tl.status == TimelineStatus::InForce {
                    tl.status = TimelineStatus::Withdrawn;
                    tl.days_left = None;
                    tl.extension_possible = false;
                    tl.extension_max_years = 0;
                    for l in &mut tl.limits {
                        l.binding = false;
                    }
                    tl.upcoming.clear();
                }
            }
            let schedule = self.data_exchange_schedule();
            for u in tl
                .upcoming
                .iter_mut()
                .filter(|u| u.kind == DeadlineKind::DataExchangeDue)
            {
                let Some(&(as_of, _)) = schedule.iter().find(|(_, due)| *due == u.date) else {
                    continue;
                };
                let not: Vec<String> = self
                    .parties
                    .iter()
                    .filter_map(|p| match r.exchange_outcome(&p.code, as_of) {
                        crate::record::ExchangeStatus::NotProvided => {
                            Some(format!("{} will not provide it", p.code))
                        }
                        crate::record::ExchangeStatus::Withheld => {
                            Some(format!("{} withholds it", p.code))
                        }
                        _ => None,
                    })
                    .collect();
                if !not.is_empty() {
                    u.what = format!("{} (per the record: {})", u.what, not.join("; "));
                }
            }
            tl.record = Some(on);
        }
        tl
    }

    /// Where the treaty stands on `date`.
    pub fn timeline(&self, date: NaiveDate) -> Timeline {
        let expires = self.expires();
        let status = if date < self.entry_into_force {
            TimelineStatus::NotYetInForce
        } else if date < expires {
            TimelineStatus::InForce
        } else {
            TimelineStatus::Expired
        };
        let in_force = status == TimelineStatus::InForce;
        let used = self.extensions.iter().filter(|e| e.agreed <= date).count() as u32;
        let extension_possible =
            status != TimelineStatus::Expired && used < self.extension_rule.max_count;
        let mut upcoming = vec![];
        for l in &self.limits {
            if l.binding_from > date && l.binding_from < expires {
                upcoming.push(UpcomingDeadline {
                    kind: DeadlineKind::LimitsBind,
                    date: l.binding_from,
                    days_left: (l.binding_from - date).num_days(),
                    what: format!("limit `{}` begins to bind", l.id),
                });
            }
        }
        if let Some((as_of, due)) = self
            .data_exchange_schedule()
            .into_iter()
            .find(|(_, due)| *due >= date)
        {
            upcoming.push(UpcomingDeadline {
                kind: DeadlineKind::DataExchangeDue,
                date: due,
                days_left: (due - date).num_days(),
                what: format!("data exchange as of {as_of} is due"),
            });
        }
        if status != TimelineStatus::Expired {
            upcoming.push(UpcomingDeadline {
                kind: DeadlineKind::Expiry,
                date: expires,
                days_left: (expires - date).num_days(),
                what: "the treaty expires".to_string(),
            });
        }
        upcoming.sort_by_key(|u| u.date);
        Timeline {
            treaty: self.id.clone(),
            date,
            status,
            entry_into_force: self.entry_into_force,
            expires,
            expires_as_known_on_date: self.expires_as_known_on(date),
            days_left: (status != TimelineStatus::Expired).then(|| (expires - date).num_days()),
            limits: self
                .limits
                .iter()
                .map(|l| LimitOnDate {
                    id: l.id.clone(),
                    max: l.max.fixed(),
                    baseline: l.max == LimitMax::Baseline,
                    binding_from: l.binding_from,
                    binding: in_force && l.binding_from <= date,
                })
                .collect(),
            extensions_used: used,
            extension_possible,
            extension_max_years: if extension_possible {
                self.extension_rule.max_years
            } else {
                0
            },
            treaty_year: self.treaty_year(date).map(|(k, s, e)| (k + 1, s, e)),
            upcoming,
            record: None,
        }
    }
}
