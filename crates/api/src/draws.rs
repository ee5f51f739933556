//! The draw protocol over HTTP (`accord_draw`): what operators post to
//! start a draw, give a population or record a refusal; what the two
//! parties' nodes post to each other (each step logged, signed and
//! cosigned: authenticated by its content); and how a node shows a draw.
//!
//! ```text
//! checking party's node                       checked party's node
//! POST /draws (operator)
//!   commit, log, cosign ── POST /draw/commitment ──►  verify, (inspection: population from
//!                                                      its registry) log, cosign, seal
//!   verify, reveal, log ◄── CommitmentAnswer ───────  (freeze challenge: `awaiting`, then its
//!                                                      operator's POST /draws/population, which
//!                          ◄── POST /draw/population ─ posts the sealed population; the answer
//!                          ─── Logged<RevealEntry> ──► is the logged reveal)
//!                       ── POST /draw/reveal ──────►  assemble and verify the transcript
//! GET /draws, GET /draws/transcript?draw=ID on either node
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use accord_draw::{
    CommitmentEntry, DrawKind, Logged, Population, PopulationEntry, RevealEntry, Rule, Transcript,
};
pub use accord_regime::draws::Populated;

/// `POST /draws` (the checking party's operator): start a draw. The node
/// commits to a fresh secret, logs the commitment, has the neutral witness
/// cosign it, and posts it to the checked party's node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartDraw {
    /// A unique identifier (1 to 200 bytes, no whitespace), e.g.
    /// `new-start-2021/2021-03-01/type_one/US-inspects-RU`.
    pub draw: String,
    /// `inspection` or `freeze_challenge`.
    #[schema(value_type = String)]
    pub kind: DrawKind,
    /// The checked party (a peer of this node).
    pub checked: String,
    /// How the draw is made: `{sites, replacement, weights?, items_per_site,
    /// reveal_within, populate_within}`.
    #[schema(value_type = Object)]
    pub rule: Rule,
}

/// `POST /draws/population` (the checked party's operator): the population
/// of a draw awaiting it (a freeze challenge: the declaration's sites,
/// `accord_freeze::challenge_population`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GivePopulation {
    /// The draw.
    pub draw: String,
    /// Its population: `{sites: [{site, items?}]}`, sorted and unique.
    #[schema(value_type = Object)]
    pub population: Population,
    /// What the population is of (a freeze declaration's digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// `POST /draws/refusal` (an operator): the checked party refused a drawn
/// site on a date (a finding against it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRefusal {
    /// The draw.
    pub draw: String,
    /// The site refused (one the draw drew).
    pub site: String,
    /// When.
    pub date: NaiveDate,
}

/// The checked party's answer to `POST /draw/commitment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case", deny_unknown_fields)]
pub enum CommitmentAnswer {
    /// The sealed population, now (an inspection: from its registry).
    Populated(Box<Populated>),
    /// Its operator gives the population later (`POST /draws/population`).
    Awaiting {
        /// The draw.
        draw: String,
    },
}

/// One site draw, and the items drawn within it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickView {
    /// The site.
    pub site: String,
    /// The items drawn there, in draw order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}

/// A finding of the draw protocol, with the party it is against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawFinding {
    /// `reveal_late`, `reveal_withheld`, `population_withheld` or
    /// `drawn_site_refused`.
    pub kind: String,
    /// The date it concerns.
    pub date: NaiveDate,
    /// The party it is against.
    pub against: String,
    /// Plain words, with the times.
    pub message: String,
}

/// A draw as a node holds it, every step verified with its configured keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawView {
    /// The identifier.
    pub draw: String,
    /// `inspection` or `freeze_challenge`.
    pub kind: String,
    /// This node's part: `checking` or `checked`.
    pub role: String,
    /// The checking party.
    pub checking: String,
    /// The checked party.
    pub checked: String,
    /// `committed`, `sealed` or `drawn`.
    pub stage: String,
    /// The witness's key name.
    pub witness: String,
    /// The witness's time on the commitment (Unix seconds).
    pub commitment_cosigned_at: u64,
    /// The witness's time on the sealed population.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population_cosigned_at: Option<u64>,
    /// The witness's time on the reveal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revealed_at: Option<u64>,
    /// Sites in the population, once sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sites: Option<u64>,
    /// What the population is of, if said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The seed, once drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// The draws, in order, once drawn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub picks: Vec<PickView>,
    /// The protocol's findings now, against either party.
    pub findings: Vec<DrawFinding>,
    /// The last failure to reach the peer with this draw's next step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_error: Option<String>,
}

/// `GET /draws`: every draw this node takes part in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Draws {
    /// The node's party.
    pub party: String,
    /// The draws, by identifier.
    pub draws: Vec<DrawView>,
}
