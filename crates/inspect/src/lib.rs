//! Inspections: exact detection odds, inspection plans as a zero-sum game,
//! Monte Carlo of a treaty year, and inspection records in the regime.
#![forbid(unsafe_code)]

pub mod odds;

pub use odds::{ln_p_miss, odds, sample_size, Odds, OddsError, Stage};
