//! Dates from the outside (a query, a request) are checked against the
//! treaty's life before any arithmetic is done with them: twenty years
//! before it entered into force to fifty years after it expired. Anything
//! else is a request error, never a panic in date arithmetic.

use accord_treaty::Treaty;
use chrono::{Datelike, NaiveDate};

/// Years before entry into force a query may ask about.
pub const YEARS_BEFORE: i32 = 20;
/// Years after expiry a query may ask about.
pub const YEARS_AFTER: i32 = 50;

/// A date outside the range a query may ask about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{date} is outside {first} to {last} (the life of {treaty}, with {YEARS_BEFORE} years before and {YEARS_AFTER} after)")]
pub struct DateOutOfRange {
    /// The date asked.
    pub date: NaiveDate,
    /// The first date allowed.
    pub first: NaiveDate,
    /// The last date allowed.
    pub last: NaiveDate,
    /// The treaty.
    pub treaty: String,
}

/// The dates a query may ask about under `treaty`.
pub fn range(treaty: &Treaty) -> (NaiveDate, NaiveDate) {
    let y0 = treaty.entry_into_force.year() - YEARS_BEFORE;
    let y1 = treaty.expires().year() + YEARS_AFTER;
    (
        NaiveDate::from_ymd_opt(y0, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(y1, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}

/// Checks that `date` is one a query may ask about.
pub fn check(treaty: &Treaty, date: NaiveDate) -> Result<NaiveDate, DateOutOfRange> {
    let (first, last) = range(treaty);
    if date < first || date > last {
        return Err(DateOutOfRange {
            date,
            first,
            last,
            treaty: treaty.id.clone(),
        });
    }
    Ok(date)
}
