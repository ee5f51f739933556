//! Proposals and futures as data: `proposals/*.toml` and
//! `data/futures/PARTY.toml`, read strictly (unknown keys and bad values are
//! errors naming the file, the line and the key).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The proposals shipped with accord, in the order they are compared.
const PROPOSALS: &[(&str, &str)] = &[
    (
        "expire-2021",
        include_str!("../../../proposals/expire-2021.toml"),
    ),
    (
        "freeze-2020-us",
        include_str!("../../../proposals/freeze-2020-us.toml"),
    ),
    (
        "freeze-2020-ru",
        include_str!("../../../proposals/freeze-2020-ru.toml"),
    ),
    (
        "extend-2021",
        include_str!("../../../proposals/extend-2021.toml"),
    ),
    (
        "expire-2026",
        include_str!("../../../proposals/expire-2026.toml"),
    ),
    (
        "keep-limits-2026",
        include_str!("../../../proposals/keep-limits-2026.toml"),
    ),
    (
        "trilateral",
        include_str!("../../../proposals/trilateral.toml"),
    ),
];

/// The futures shipped with accord, by party.
const FUTURES: &[(&str, &str)] = &[
    ("US", include_str!("../../../data/futures/US.toml")),
    ("RU", include_str!("../../../data/futures/RU.toml")),
    ("CN", include_str!("../../../data/futures/CN.toml")),
];

/// Why a proposal or futures file was refused.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Not readable.
    #[error("{file}: {message}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
    /// Not valid: the line and what is wrong.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The line (1-based).
        line: usize,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// A proposal: a treaty path, and what holds after it ends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposalFile {
    /// The proposal.
    pub proposal: Proposal,
    /// What holds after the treaty's expiry, if anything.
    pub after: Option<After>,
    /// The terms as they were offered (conditions, verification), each sourced.
    #[serde(default)]
    pub terms: Vec<Term>,
}

/// One term of a proposal, in the words of its sources.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// Identifier, e.g. `verified-freeze`, `china`.
    pub id: String,
    /// What it says.
    pub text: String,
    /// Source.
    pub source: String,
}

/// The proposal's own table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// Identifier, e.g. `freeze-2020-us`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// One paragraph.
    pub summary: String,
    /// The treaty it runs on (built-in name or path).
    pub treaty: String,
    /// `agreed`, `offered, not agreed`, `what happened`, `hypothetical`, …
    pub status: String,
    /// Who offered it.
    #[serde(default)]
    pub offered_by: Option<String>,
    /// When.
    #[serde(
        default,
        deserialize_with = "toml_date::de_opt",
        serialize_with = "toml_date::ser_opt"
    )]
    pub offered: Option<NaiveDate>,
    /// Sources.
    pub source: String,
    /// A limit of the treaty that freezes the whole stockpile, if any.
    #[serde(default)]
    pub freeze_limit: Option<String>,
    /// Whether that freeze is verified (default true); false for a
    /// political freeze: it binds nobody's verification and covers nothing.
    #[serde(default)]
    pub freeze_verified: Option<bool>,
    /// The implementation record applied (what happened: inspections,
    /// exchanges provided), a built-in name or a path.
    #[serde(default)]
    pub record: Option<String>,
    /// The treaty that governs before this one enters into force (a
    /// successor's predecessor), for the parties of that treaty.
    #[serde(default)]
    pub preceded_by: Option<String>,
}

/// A political commitment after expiry: the central limits observed, with
/// or without verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct After {
    /// The central limits are observed up to, not including, this day.
    #[serde(deserialize_with = "toml_date::de", serialize_with = "toml_date::ser")]
    pub limits_observed_until: NaiveDate,
    /// Whether the treaty's verification continues meanwhile.
    pub verified: bool,
    /// Sources.
    pub source: String,
}

/// What a party could do when limits lapse, and what it plans.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Futures {
    /// The party.
    pub party: String,
    /// Its total warhead stockpile: what any upload draws on.
    pub stockpile: Stockpile,
    /// How fast it uploads once no limit binds.
    pub upload: Upload,
    /// Weapons each deployed heavy bomber type can carry.
    #[serde(default)]
    pub bombers: Vec<BomberLoad>,
    /// Modernisation steps.
    #[serde(default)]
    pub modernisation: Vec<Step>,
    /// The aggregates to generate a starting force at when no published
    /// data exchange exists (China).
    #[serde(default)]
    pub start: Option<StartAggregates>,
}

/// Aggregates for a generated starting force.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartAggregates {
    /// Deployed ICBMs, SLBMs and heavy bombers.
    pub deployed_delivery_vehicles: u64,
    /// Deployed warheads (counted).
    pub deployed_warheads: u64,
    /// Deployed and non-deployed launchers and heavy bombers.
    pub launchers: u64,
    /// Source (or ASSUMPTION).
    pub source: String,
}

/// A stockpile figure.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stockpile {
    /// Warheads of every category.
    pub warheads: u64,
    /// Source.
    pub source: String,
    /// The strategic stockpile (deployed plus strategic reserve,
    /// non-strategic excluded): what an upload can draw on. Absent: all.
    #[serde(default)]
    pub strategic: Option<u64>,
    /// Its source.
    #[serde(default)]
    pub strategic_source: Option<String>,
    /// A stockpile that changes: dated points with an uncertainty band
    /// (China). When given, it replaces `warheads` and `strategic`.
    #[serde(default)]
    pub trajectory: Vec<TrajectoryPoint>,
}

/// One dated estimate of a stockpile, with its band.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrajectoryPoint {
    /// The date.
    #[serde(deserialize_with = "toml_date::de", serialize_with = "toml_date::ser")]
    pub date: NaiveDate,
    /// The lowest estimate.
    pub low: u64,
    /// The central estimate.
    pub central: u64,
    /// The highest estimate.
    pub high: u64,
    /// Sources (or ASSUMPTION).
    pub source: String,
}

impl Stockpile {
    /// The trajectory at `date`: `(low, central, high)`, interpolated
    /// linearly by day between points, held before the first and after the
    /// last.
    fn at(&self, date: NaiveDate) -> Option<(u64, u64, u64)> {
        let t = &self.trajectory;
        let first = t.first()?;
        if date <= first.date {
            return Some((first.low, first.central, first.high));
        }
        for w in t.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            if date <= b.date {
                let span = (b.date - a.date).num_days().max(1) as f64;
                let x = (date - a.date).num_days() as f64 / span;
                let lerp = |p: u64, q: u64| (p as f64 + (q as f64 - p as f64) * x).round() as u64;
                return Some((
                    lerp(a.low, b.low),
                    lerp(a.central, b.central),
                    lerp(a.high, b.high),
                ));
            }
        }
        t.last().map(|l| (l.low, l.central, l.high))
    }

    /// The whole stockpile on `date`.
    pub fn total_on(&self, date: NaiveDate) -> u64 {
        self.at(date).map_or(self.warheads, |(_, c, _)| c)
    }

    /// The strategic stockpile on `date`: what an upload can draw on.
    pub fn strategic_on(&self, date: NaiveDate) -> u64 {
        self.at(date)
            .map_or(self.strategic.unwrap_or(self.warheads), |(_, c, _)| c)
    }

    /// The uncertainty band `[low, high]` on `date`, if the stockpile has a trajectory.
    pub fn band_on(&self, date: NaiveDate) -> Option<[u64; 2]> {
        self.at(date).map(|(l, _, h)| [l, h])
    }
}

/// The upload rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// Share of the potential loaded each year once no limit binds, 0 to 1.
    pub per_year: f64,
    /// Source (or ASSUMPTION).
    pub source: String,
}

/// A bomber type's weapons capacity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BomberLoad {
    /// The treaty item type.
    pub item_type: String,
    /// Weapons it can carry.
    pub weapons: u32,
    /// Source (or ASSUMPTION).
    pub source: String,
}

/// A modernisation step: positions of a type replaced by a new system, or
/// a new system added.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The missile or bomber type replaced.
    #[serde(default)]
    pub replaces: Option<String>,
    /// Or: the name of a system added.
    #[serde(default)]
    pub adds: Option<String>,
    /// The new system's name (for `replaces`).
    #[serde(default)]
    pub system: Option<String>,
    /// The first year's date.
    #[serde(deserialize_with = "toml_date::de", serialize_with = "toml_date::ser")]
    pub start: NaiveDate,
    /// Positions replaced (or added) a year.
    pub per_year: u64,
    /// Launchers of the new system per launcher replaced (default 1).
    #[serde(default)]
    pub launcher_ratio: Option<f64>,
    /// Warheads each new position can carry.
    pub capacity: u32,
    /// Warheads loaded on each added position (for `adds`).
    #[serde(default)]
    pub loading: Option<u32>,
    /// No more steps from this day.
    #[serde(
        default,
        deserialize_with = "toml_date::de_opt",
        serialize_with = "toml_date::ser_opt"
    )]
    pub until: Option<NaiveDate>,
    /// Source (or ASSUMPTION).
    pub source: String,
}

impl Step {
    /// The system the step creates.
    pub fn new_system(&self) -> String {
        self.adds
            .clone()
            .or_else(|| self.system.clone())
            .unwrap_or_else(|| {
                format!(
                    "{} (replacement)",
                    self.replaces.clone().unwrap_or_default()
                )
            })
    }
}

/// TOML dates (`2020-10-20`, a TOML local date) or strings, as dates.
mod toml_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    fn from_value<E: serde::de::Error>(v: toml::Value) -> Result<NaiveDate, E> {
        let s = match v {
            toml::Value::Datetime(d) => d.to_string(),
            toml::Value::String(s) => s,
            other => {
                return Err(E::custom(format!(
                    "expected a date, got {}",
                    other.type_str()
                )))
            }
        };
        s.parse()
            .map_err(|_| E::custom(format!("`{s}` is not a date (YYYY-MM-DD)")))
    }

    pub(super) fn de<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        from_value(toml::Value::deserialize(d)?)
    }

    pub(super) fn de_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        Option::<toml::Value>::deserialize(d)?
            .map(from_value)
            .transpose()
    }

    pub(super) fn ser<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&d.to_string())
    }

    pub(super) fn ser_opt<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&d.to_string()),
            None => s.serialize_none(),
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, DataError> {
    toml::from_str(text).map_err(|e| DataError::Invalid {
        file: file.to_string(),
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        message: e.message().to_string(),
    })
}

/// The line of `key = ` in `text` (1 if absent).
fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}

/// Reads a proposal (built-in id or path).
pub fn load_proposal(id_or_path: &str) -> Result<ProposalFile, DataError> {
    let (file, text) = match PROPOSALS.iter().find(|(id, _)| *id == id_or_path) {
        Some((id, t)) => (format!("proposals/{id}.toml"), (*t).to_string()),
        None => (
            id_or_path.to_string(),
            std::fs::read_to_string(id_or_path).map_err(|e| DataError::Read {
                file: id_or_path.to_string(),
                message: format!(
                    "not a built-in proposal ({}) and not readable: {e}",
                    builtin_proposals().join(", ")
                ),
            })?,
        ),
    };
    parse_proposal(&file, &text)
}

/// Parses and checks a proposal's text.
pub fn parse_proposal(file: &str, text: &str) -> Result<ProposalFile, DataError> {
    let p: ProposalFile = parse(file, text)?;
    let bad = |key: &str, message: String| DataError::Invalid {
        file: file.to_string(),
        line: key_line(text, key),
        message: format!("{key}: {message}"),
    };
    if p.proposal.id.is_empty() || p.proposal.id.contains(char::is_whitespace) {
        return Err(bad("id", "a non-empty identifier without spaces".into()));
    }
    if p.proposal.source.trim().is_empty() {
        return Err(bad("source", "every proposal needs its source".into()));
    }
    for t in &p.terms {
        if t.source.trim().is_empty() {
            return Err(bad("source", format!("term `{}` needs its source", t.id)));
        }
    }
    if p.proposal.freeze_verified.is_some() && p.proposal.freeze_limit.is_none() {
        return Err(bad(
            "freeze_verified",
            "only a proposal with a freeze_limit says whether it is verified".into(),
        ));
    }
    if let Some(a) = &p.after {
        if a.source.trim().is_empty() {
            return Err(bad(
                "source",
                "the `after` commitment needs its source".into(),
            ));
        }
    }
    Ok(p)
}

/// The built-in proposals, in comparison order.
pub fn builtin_proposals() -> Vec<&'static str> {
    PROPOSALS.iter().map(|(id, _)| *id).collect()
}

/// Reads a party's futures (built-in party code or path).
pub fn load_futures(party_or_path: &str) -> Result<Futures, DataError> {
    let (file, text) =
        match FUTURES.iter().find(|(p, _)| *p == party_or_path) {
            Some((p, t)) => (format!("data/futures/{p}.toml"), (*t).to_string()),
            None => (
                party_or_path.to_string(),
                std::fs::read_to_string(party_or_path).map_err(|e| DataError::Read {
                    file: party_or_path.to_string(),
                    message: format!(
                    "no built-in futures for `{party_or_path}` (have: {}), and not readable: {e}",
                    FUTURES.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(", ")
                ),
                })?,
            ),
        };
    parse_futures(&file, &text)
}

/// Parses and checks a futures file.
pub fn parse_futures(file: &str, text: &str) -> Result<Futures, DataError> {
    let f: Futures = parse(file, text)?;
    let bad = |key: &str, message: String| DataError::Invalid {
        file: file.to_string(),
        line: key_line(text, key),
        message: format!("{key}: {message}"),
    };
    if let Some(st) = f.stockpile.strategic {
        if st > f.stockpile.warheads {
            return Err(bad(
                "strategic",
                format!(
                    "{st} is more than the whole stockpile of {}",
                    f.stockpile.warheads
                ),
            ));
        }
        if f.stockpile
            .strategic_source
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
        {
            return Err(bad("strategic", "needs its strategic_source".into()));
        }
    }
    for (i, p) in f.stockpile.trajectory.iter().enumerate() {
        if !(p.low <= p.central && p.central <= p.high) {
            return Err(bad(
                "central",
                format!(
                    "trajectory point {i} ({}): low ≤ central ≤ high, found {} / {} / {}",
                    p.date, p.low, p.central, p.high
                ),
            ));
        }
        if i > 0 && p.date <= f.stockpile.trajectory[i - 1].date {
            return Err(bad(
                "date",
                format!(
                    "trajectory point {i} ({}) is not after the one before",
                    p.date
                ),
            ));
        }
        if p.source.trim().is_empty() {
            return Err(bad(
                "source",
                format!("trajectory point {i} needs its source"),
            ));
        }
    }
    if !(0.0..=1.0).contains(&f.upload.per_year) || f.upload.per_year.is_nan() {
        return Err(bad(
            "per_year",
            format!("{} is not a share from 0 to 1", f.upload.per_year),
        ));
    }
    for b in &f.bombers {
        if b.weapons == 0 {
            return Err(bad("weapons", format!("{}: at least 1", b.item_type)));
        }
    }
    for s in &f.modernisation {
        if s.replaces.is_some() == s.adds.is_some() {
            return Err(bad(
                "replaces",
                "each modernisation step either `replaces` a type or `adds` a system".into(),
            ));
        }
        if s.per_year == 0 {
            return Err(bad(
                "per_year",
                "a step moves at least one position a year".into(),
            ));
        }
        if s.capacity == 0 {
            return Err(bad("capacity", "at least 1".into()));
        }
        if let Some(r) = s.launcher_ratio {
            if !(r > 0.0 && r <= 4.0) {
                return Err(bad(
                    "launcher_ratio",
                    format!("{r} is not above 0 and at most 4"),
                ));
            }
        }
        if s.loading.is_some_and(|l| l > s.capacity) {
            return Err(bad("loading", "above the capacity".into()));
        }
        if s.source.trim().is_empty() {
            return Err(bad(
                "source",
                "every step needs its source or ASSUMPTION".into(),
            ));
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_reads_and_is_sourced() {
        for id in builtin_proposals() {
            let p = load_proposal(id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(p.proposal.id, id);
            assert!(p.proposal.source.contains("http"), "{id}");
        }
        for party in ["US", "RU", "CN"] {
            let f = load_futures(party).unwrap_or_else(|e| panic!("{party}: {e}"));
            assert_eq!(f.party, party);
            for s in &f.modernisation {
                assert!(s.source.contains("http") || s.source.contains("ASSUMPTION"));
            }
        }
    }

    #[test]
    fn bad_files_name_the_line_and_key() {
        let e = parse_futures(
            "f.toml",
            "party = \"US\"\n[stockpile]\nwarheads = 1\nsource = \"s\"\n[upload]\nper_year = 1.5\nsource = \"s\"\n",
        )
        .expect_err("rate");
        assert_eq!(
            e.to_string(),
            "f.toml:6: per_year: 1.5 is not a share from 0 to 1"
        );
        let e = parse_proposal("p.toml", "[proposal]\nid = \"x\"\nnme = \"y\"\n").expect_err("key");
        assert!(
            e.to_string().starts_with("p.toml:3: unknown field `nme`"),
            "{e}"
        );
    }
}
