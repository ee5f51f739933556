//! Who a breach of the protocol is against, as typed data the regime can
//! report: the kind, the date, the party, and plain words.
//!
//! - The checking party must reveal within `rule.reveal_within` seconds of
//!   the witness cosigning the sealed population: a reveal cosigned later
//!   is [`FindingKind::RevealLate`], none by then is
//!   [`FindingKind::RevealWithheld`]. Withholding the reveal is the only
//!   choice the checking party has once it knows the draw (it can abort),
//!   so it is always a finding against it.
//! - The checked party must deliver its sealed population within
//!   `rule.populate_within` seconds of the witness cosigning the
//!   commitment ([`FindingKind::PopulationWithheld`]), and admit the
//!   inspectors or disclose at every drawn site
//!   ([`FindingKind::DrawnSiteRefused`]).

use crate::entry::Purpose;
use crate::verify::{VerifiedCommitment, VerifiedDraw, VerifiedPopulation};
use crate::DrawError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What kind of breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The reveal was cosigned after its deadline (against the checking party).
    RevealLate,
    /// No reveal by the deadline (against the checking party).
    RevealWithheld,
    /// No sealed population by the deadline (against the checked party).
    PopulationWithheld,
    /// The checked party refused a drawn site (against it).
    DrawnSiteRefused,
}

impl FindingKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::RevealLate => "reveal_late",
            FindingKind::RevealWithheld => "reveal_withheld",
            FindingKind::PopulationWithheld => "population_withheld",
            FindingKind::DrawnSiteRefused => "drawn_site_refused",
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding of the draw protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// The date (UTC) it concerns: the deadline missed, or the refusal.
    pub date: NaiveDate,
    /// The party it is against.
    pub against: String,
    /// The draw.
    pub draw: String,
    /// Plain words, with the times.
    pub message: String,
}

/// The UTC date of a Unix time (1970-01-01 for a time out of range).
pub fn date_of(unix: u64) -> NaiveDate {
    i64::try_from(unix)
        .ok()
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

pub(crate) fn reveal_late(p: &Purpose, population_at: u64, revealed_at: u64) -> Option<Finding> {
    let deadline = population_at.saturating_add(p.rule.reveal_within);
    (revealed_at > deadline).then(|| Finding {
        kind: FindingKind::RevealLate,
        date: date_of(deadline),
        against: p.checking.party.clone(),
        draw: p.draw.clone(),
        message: format!(
            "{} revealed its secret for {} at {revealed_at}, {} s after the witness cosigned {}'s sealed population at {population_at}; the deadline is {} s",
            p.checking.party,
            p.draw,
            revealed_at - population_at,
            p.checked.party,
            p.rule.reveal_within
        ),
    })
}

/// At `now` (Unix seconds), with the population sealed and no reveal seen:
/// a [`FindingKind::RevealWithheld`] against the checking party once the
/// deadline has passed.
pub fn reveal_withheld(p: &VerifiedPopulation, now: u64) -> Option<Finding> {
    let purpose = p.commitment().purpose();
    let deadline = p.cosigned_at().saturating_add(purpose.rule.reveal_within);
    (now > deadline).then(|| Finding {
        kind: FindingKind::RevealWithheld,
        date: date_of(deadline),
        against: purpose.checking.party.clone(),
        draw: purpose.draw.clone(),
        message: format!(
            "{} has not revealed its secret for {}: the witness cosigned {}'s sealed population at {}, the deadline of {} s passed at {deadline}",
            purpose.checking.party,
            purpose.draw,
            purpose.checked.party,
            p.cosigned_at(),
            purpose.rule.reveal_within
        ),
    })
}

/// At `now`, with a verified commitment and no sealed population seen: a
/// [`FindingKind::PopulationWithheld`] against the checked party once the
/// deadline has passed.
pub fn population_withheld(c: &VerifiedCommitment, now: u64) -> Option<Finding> {
    let purpose = c.purpose();
    let deadline = c.cosigned_at().saturating_add(purpose.rule.populate_within);
    (now > deadline).then(|| Finding {
        kind: FindingKind::PopulationWithheld,
        date: date_of(deadline),
        against: purpose.checked.party.clone(),
        draw: purpose.draw.clone(),
        message: format!(
            "{} has not sealed its population for {}: the witness cosigned {}'s commitment at {}, the deadline of {} s passed at {deadline}",
            purpose.checked.party,
            purpose.draw,
            purpose.checking.party,
            c.cosigned_at(),
            purpose.rule.populate_within
        ),
    })
}

/// The checked party refused a drawn site on `on`: a finding against it.
/// Only a site the verified draw drew can be refused.
pub fn site_refused(d: &VerifiedDraw, site: &str, on: NaiveDate) -> Result<Finding, DrawError> {
    let purpose = d.purpose();
    let times = d.sites().filter(|s| *s == site).count();
    if times == 0 {
        return Err(DrawError::NotDrawn {
            draw: purpose.draw.clone(),
            site: site.to_string(),
        });
    }
    Ok(Finding {
        kind: FindingKind::DrawnSiteRefused,
        date: on,
        against: purpose.checked.party.clone(),
        draw: purpose.draw.clone(),
        message: format!(
            "{} refused {} at {site}, drawn {times} time(s) in {} (seed {})",
            purpose.checked.party,
            match purpose.kind {
                crate::DrawKind::Inspection => "the inspection",
                crate::DrawKind::FreezeChallenge => "the disclosure",
            },
            purpose.draw,
            d.seed()
        ),
    })
}
