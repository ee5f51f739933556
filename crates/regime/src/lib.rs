//! The regime: where the treaty, the registry, the log and the inspections
//! meet, and the one place compliance is assembled.
//!
//! The path data takes, for every party, at every node:
//!
//! ```text
//! notification → registry::validate → log::append → checkpoint (signed, cosigned)
//!   → log::verify (the other party, anyone) → registry (fed from the log: [`feed`])
//!   → regime ([`compliance`]: + inspections, quotas, late deliveries) → report
//! ```
//!
//! The registry knows no log and the log knows no treaty: this crate joins
//! them. It owns
//!
//! - what a log entry is ([`entry`]): a notification or a record the party
//!   logged;
//! - feeding a registry from a log, own or mirrored, and catching it up
//!   after a crash ([`feed`]);
//! - recording inspections, checked against the inspected party's registry
//!   and logged ([`inspection`]);
//! - receipts and late deliveries ([`receipts`]);
//! - the one compliance function, with the documented rule of who a finding
//!   is against ([`compliance`]), quotas ([`quota`]) and histories
//!   ([`history`]).
#![forbid(unsafe_code)]

pub mod compliance;
pub mod dates;
pub mod entry;
mod error;
pub mod feed;
pub mod history;
pub mod inspection;
pub mod planning;
pub mod quota;
pub mod receipts;
pub mod tracker;
pub mod view;

/// The treaty commands default to: New START as it was in force (signed
/// 2010, extended 2021).
pub const DEFAULT_TREATY: &str = "new-start-2021";

pub use compliance::{compliance, compliance_of, Observations};
pub use entry::{parse_entry, EntryProblem, LogEntry};
pub use error::RegimeError;
pub use receipts::Receipt;
