//! Inspections: exact detection odds, inspection plans as a zero-sum game
//! solved exactly, Monte Carlo of a treaty year, and inspection records in
//! the regime (quotas, what the treaty allows, the findings results raise).
#![forbid(unsafe_code)]

pub mod game;
pub mod model;
pub mod odds;
pub mod record;
pub mod sim;

pub use game::{optimal, proportional, uniform, Objective, Plan, Site};
pub use model::Violation;
pub use odds::{ln_p_miss, odds, sample_size, Odds, OddsError, SampleSize, Stage, TwoStage};
pub use record::{Cheat, InspectionRecord, Refusal};
pub use sim::{simulate, Simulation};
