//! Treaties as data.
//!
//! A treaty is a TOML file in `treaties/`: its parties, the kinds and types
//! of items it counts, its limits with the dates they bind from and the rules
//! that count toward them, its term and extensions, its data-exchange and
//! notification deadlines, and its inspection quotas. [`Treaty::load`] reads
//! one by name (a built-in such as `new-start`) or by path, validates every
//! field, and rejects unknown keys with the file, line and key at fault.
//!
//! ```
//! let t = accord_treaty::Treaty::load("new-start")?;
//! assert_eq!(t.limit("deployed_warheads").map(|l| l.max.fixed()), Some(Some(1550)));
//! let d = chrono::NaiveDate::from_ymd_opt(2020, 10, 20).unwrap();
//! assert_eq!(t.timeline(d).days_left, Some(108));
//! # Ok::<(), accord_treaty::TreatyError>(())
//! ```
#![forbid(unsafe_code)]

mod file;
mod load;
mod model;
pub mod record;
mod timeline;

pub use load::{builtin_names, TreatyError};
pub use model::*;
pub use record::{Record, RecordKind};
pub use timeline::{DeadlineKind, Timeline, TimelineStatus, UpcomingDeadline};

/// Adds whole calendar years to a date (29 Feb maps to 28 Feb).
pub fn add_years(d: chrono::NaiveDate, years: u32) -> chrono::NaiveDate {
    d.checked_add_months(chrono::Months::new(years.saturating_mul(12)))
        .unwrap_or(chrono::NaiveDate::MAX)
}

/// Adds days to a date, saturating at the calendar's end.
pub fn add_days(d: chrono::NaiveDate, days: u32) -> chrono::NaiveDate {
    d.checked_add_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(chrono::NaiveDate::MAX)
}
