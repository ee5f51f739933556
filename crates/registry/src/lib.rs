//! The item-level registry of a party's declared holdings.
//!
//! Notifications ([`Notification`]) are the events; a party's state on any
//! date is the fold of its notifications up to that date ([`State`]);
//! compliance on a date ([`compliance::evaluate`]) is the state measured
//! against the limits binding then, with the findings. A [`Store`] keeps the
//! notifications and the folded state in SQLite. [`history`] checks the
//! published aggregate numbers.
#![forbid(unsafe_code)]

pub mod compliance;
mod error;
mod finding;
pub mod history;
pub mod notification;
pub mod query;
mod state;
pub mod store;

pub use compliance::{evaluate, Evaluator, FoldKey, LimitCheck, Report};
pub use error::{InputError, StoreError};
pub use finding::{Difference, Finding, FindingKind};
pub use notification::{ConvertedTo, Event, Notification};
pub use state::{Facility, Item, Location, State};
pub use store::{Meta, Store};
