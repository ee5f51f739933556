//! A party's aggregates over time: the first of every month from its first
//! notification to a date, and on that date (what the node's `/history` and
//! the dashboard's chart show).

use crate::compliance::{compliance, Observations};
use accord_registry::{LimitCheck, Notification};
use accord_treaty::Treaty;
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most monthly points: twenty years.
pub const MAX_POINTS: usize = 240;

/// One point: the aggregates on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// The date.
    pub date: NaiveDate,
    /// Each limit's value, by limit id.
    pub values: BTreeMap<String, u64>,
}

/// A party's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// The party.
    pub party: String,
    /// The limits as they stand on the last date.
    pub limits: Option<Vec<LimitCheck>>,
    /// The points, in date order (the last is `to`).
    pub points: Vec<Point>,
}

/// The dates of a history to `to`: the first of each month from the first
/// notification's (at most [`MAX_POINTS`], the latest), then `to`.
pub fn dates(first: Option<NaiveDate>, to: NaiveDate) -> Vec<NaiveDate> {
    let mut dates = vec![];
    if let Some(first) = first.filter(|f| *f <= to) {
        // Start late enough that at most MAX_POINTS months remain.
        let floor = to
            .checked_sub_months(Months::new(MAX_POINTS as u32))
            .unwrap_or(first)
            .max(first);
        let mut d = NaiveDate::from_ymd_opt(floor.year(), floor.month(), 1).unwrap_or(floor);
        while d < to {
            if d >= first {
                dates.push(d);
            }
            match d.checked_add_months(Months::new(1)) {
                Some(next) => d = next,
                None => break,
            }
        }
        let keep = dates.len().saturating_sub(MAX_POINTS);
        dates.drain(..keep);
    }
    dates.push(to);
    dates
}

/// The history of a party's notifications to `to`.
pub fn history(
    treaty: &Treaty,
    party: &str,
    notifications: &[Notification],
    synthetic: bool,
    to: NaiveDate,
) -> History {
    let first = notifications.iter().map(|n| n.date).min();
    let ds = dates(first, to);
    let reports = compliance(
        treaty,
        party,
        notifications,
        synthetic,
        Observations::default(),
        &ds,
    );
    of_reports(party, reports)
}

/// The history of a party kept by a tracker, to `to`: the same points,
/// each from the tracker's snapshots.
pub fn tracked(
    tracker: &mut crate::tracker::Tracker,
    party: &str,
    to: NaiveDate,
) -> Result<History, crate::RegimeError> {
    let ds = dates(tracker.first_date(), to);
    Ok(of_reports(party, tracker.reports(&ds)?))
}

/// A history from its reports (in date order).
fn of_reports(party: &str, reports: Vec<accord_registry::Report>) -> History {
    History {
        party: party.to_string(),
        limits: reports.last().map(|r| r.limits.clone()),
        points: reports
            .into_iter()
            .map(|r| Point {
                date: r.date,
                values: r.aggregates,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test date")
    }

    #[test]
    fn monthly_points_then_the_date() {
        assert_eq!(
            dates(Some(d(2020, 9, 1)), d(2020, 11, 15)),
            vec![
                d(2020, 9, 1),
                d(2020, 10, 1),
                d(2020, 11, 1),
                d(2020, 11, 15)
            ]
        );
        assert_eq!(dates(None, d(2021, 1, 1)), vec![d(2021, 1, 1)]);
        assert_eq!(
            dates(Some(d(2022, 1, 1)), d(2021, 1, 1)),
            vec![d(2021, 1, 1)]
        );
    }

    #[test]
    fn far_dates_never_panic_and_stay_bounded() {
        for to in [NaiveDate::MAX, d(262_142, 12, 31), NaiveDate::MIN] {
            let ds = dates(Some(d(2011, 2, 5)), to);
            assert!(ds.len() <= MAX_POINTS + 1, "{to}: {}", ds.len());
            assert_eq!(ds.last(), Some(&to));
        }
        let ds = dates(Some(NaiveDate::MIN), NaiveDate::MAX);
        assert!(ds.len() <= MAX_POINTS + 1);
    }
}
