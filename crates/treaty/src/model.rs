//! The validated treaty model.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A treaty, validated: every reference resolves, every number is in range.
#[derive(Debug, Clone, Serialize)]
pub struct Treaty {
    /// Short identifier, e.g. `new-start`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The formal title.
    pub full_name: String,
    /// Date of signature.
    pub signed: NaiveDate,
    /// Date of entry into force.
    pub entry_into_force: NaiveDate,
    /// Initial term in years.
    pub term_years: u32,
    /// Where the dates and term come from.
    pub source: String,
    /// How many extensions, and of how long, the treaty allows.
    pub extension_rule: ExtensionRule,
    /// Extensions agreed (or, for a proposal, proposed).
    pub extensions: Vec<Extension>,
    /// The parties.
    pub parties: Vec<Party>,
    /// Kinds of item the treaty counts.
    pub item_kinds: Vec<ItemKind>,
    /// Named types (Minuteman III, RS-24 Yars, …).
    pub item_types: Vec<ItemType>,
    /// Numerical limits and their counting rules.
    pub limits: Vec<Limit>,
    /// When data exchanges are taken and due.
    pub data_exchanges: DataExchangeRule,
    /// Notification deadlines.
    pub notifications: NotificationRule,
    /// Inspection types and yearly quotas.
    pub inspections: Vec<InspectionType>,
    /// The files this treaty was read from, base first.
    pub files: Vec<String>,
}

/// How a treaty may be extended.
#[derive(Debug, Clone, Serialize)]
pub struct ExtensionRule {
    /// Extensions allowed in all.
    pub max_count: u32,
    /// Longest single extension, in years.
    pub max_years: u32,
    /// Source.
    pub source: String,
}

/// One extension.
#[derive(Debug, Clone, Serialize)]
pub struct Extension {
    /// When it was agreed (or proposed).
    pub agreed: NaiveDate,
    /// Its length in years.
    pub years: u32,
    /// True for an extension that was only proposed.
    pub proposed: bool,
    /// Source.
    pub source: String,
}

/// A party to the treaty.
#[derive(Debug, Clone, Serialize)]
pub struct Party {
    /// Code, e.g. `US`, `RU`.
    pub code: String,
    /// Name.
    pub name: String,
}

/// What part an item kind plays in counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A ballistic missile (ICBM, SLBM), deployed when emplaced in a launcher.
    Missile,
    /// A launcher (silo, mobile launcher, launch tube).
    Launcher,
    /// A heavy bomber: its own launcher and delivery vehicle.
    HeavyBomber,
    /// A nuclear warhead (for stockpile limits).
    Warhead,
}

/// A kind of item.
#[derive(Debug, Clone, Serialize)]
pub struct ItemKind {
    /// Identifier, e.g. `icbm`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its role in counting.
    pub role: Role,
    /// For a missile kind, the kind of launcher it is emplaced in.
    pub launcher_kind: Option<String>,
}

/// A named type of item.
#[derive(Debug, Clone, Serialize)]
pub struct ItemType {
    /// Identifier, e.g. `minuteman-iii`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// The party that fields it.
    pub party: String,
    /// For a missile: the most reentry vehicles it can carry.
    pub max_reentry_vehicles: Option<u32>,
    /// Source.
    pub source: String,
}

/// Status of an item, in the treaty's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Deployed: a missile in a launcher, a loaded launcher, an operational bomber.
    Deployed,
    /// Non-deployed: held, stored, under repair, empty.
    NonDeployed,
    /// A test or training item.
    Test,
    /// Converted (e.g. a heavy bomber equipped for non-nuclear armaments).
    Converted,
    /// Eliminated: removed from accountability.
    Eliminated,
}

impl Status {
    /// Every status, in order.
    pub const ALL: [Status; 5] = [
        Status::Deployed,
        Status::NonDeployed,
        Status::Test,
        Status::Converted,
        Status::Eliminated,
    ];

    /// The snake_case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Deployed => "deployed",
            Status::NonDeployed => "non_deployed",
            Status::Test => "test",
            Status::Converted => "converted",
            Status::Eliminated => "eliminated",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Index into [`Status::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Kind of facility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityKind {
    /// ICBM base.
    IcbmBase,
    /// Submarine base.
    SubmarineBase,
    /// Air base for heavy bombers.
    AirBase,
    /// Storage facility.
    Storage,
    /// Production facility.
    Production,
    /// Test range.
    TestRange,
    /// Conversion or elimination facility.
    ConversionElimination,
}

impl FacilityKind {
    /// Every facility kind.
    pub const ALL: [FacilityKind; 7] = [
        FacilityKind::IcbmBase,
        FacilityKind::SubmarineBase,
        FacilityKind::AirBase,
        FacilityKind::Storage,
        FacilityKind::Production,
        FacilityKind::TestRange,
        FacilityKind::ConversionElimination,
    ];

    /// The snake_case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            FacilityKind::IcbmBase => "icbm_base",
            FacilityKind::SubmarineBase => "submarine_base",
            FacilityKind::AirBase => "air_base",
            FacilityKind::Storage => "storage",
            FacilityKind::Production => "production",
            FacilityKind::TestRange => "test_range",
            FacilityKind::ConversionElimination => "conversion_elimination",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<FacilityKind> {
        FacilityKind::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for FacilityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The maximum of a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitMax {
    /// A fixed number.
    Fixed(u64),
    /// The party's own value on the day the limit begins to bind (a freeze).
    Baseline,
}

impl LimitMax {
    /// The fixed number, if any.
    pub fn fixed(self) -> Option<u64> {
        match self {
            LimitMax::Fixed(n) => Some(n),
            LimitMax::Baseline => None,
        }
    }
}

/// What each counted item contributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Each {
    /// One per item.
    One,
    /// The reentry vehicles declared for that missile.
    DeclaredReentryVehicles,
}

/// One counting term: items of these kinds in these statuses count this much.
#[derive(Debug, Clone, Serialize)]
pub struct CountTerm {
    /// Item kinds counted.
    pub kinds: Vec<String>,
    /// Statuses counted.
    pub statuses: Vec<Status>,
    /// What each contributes.
    pub each: Each,
    /// The article (and source) that says so.
    pub article: String,
}

/// A numerical limit.
#[derive(Debug, Clone, Serialize)]
pub struct Limit {
    /// Identifier; also the key used in data exchanges and JSON reports.
    pub id: String,
    /// What it limits, in the treaty's words.
    pub name: String,
    /// Article.
    pub article: String,
    /// Maximum.
    pub max: LimitMax,
    /// First day on which it binds.
    pub binding_from: NaiveDate,
    /// Source.
    pub source: String,
    /// How items count toward it.
    pub count: Vec<CountTerm>,
}

/// When the data exchanges are taken and when they are due.
#[derive(Debug, Clone, Serialize)]
pub struct DataExchangeRule {
    /// Month and day of each regular exchange (e.g. 3-1 and 9-1).
    pub as_of: Vec<(u32, u32)>,
    /// The first regular exchange.
    pub first_regular_as_of: NaiveDate,
    /// Days after the as-of date within which a regular exchange is due.
    pub due_days: u32,
    /// Days after entry into force within which the initial exchange is due.
    pub initial_due_days: u32,
    /// Source.
    pub source: String,
}

/// When a change of reentry vehicles must be notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RvChangeDeadline {
    /// In the next data exchange (New START's rule).
    NextDataExchange,
    /// Like any other change, within the notification deadline.
    DeadlineDays,
}

/// Notification deadlines.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationRule {
    /// Days after a change within which it must be notified.
    pub deadline_days: u32,
    /// The rule for changes of declared reentry vehicles.
    pub reentry_vehicle_changes: RvChangeDeadline,
    /// Source.
    pub source: String,
}

/// An inspection type and its yearly quota.
#[derive(Debug, Clone, Serialize)]
pub struct InspectionType {
    /// Identifier, e.g. `type_one`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Inspections allowed per treaty year.
    pub per_treaty_year: u32,
    /// Facility kinds where it may take place.
    pub facility_kinds: Vec<FacilityKind>,
    /// Source.
    pub source: String,
}

impl Treaty {
    /// The limit with this id.
    pub fn limit(&self, id: &str) -> Option<&Limit> {
        self.limits.iter().find(|l| l.id == id)
    }

    /// The party with this code.
    pub fn party(&self, code: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.code == code)
    }

    /// The item kind with this id.
    pub fn item_kind(&self, id: &str) -> Option<&ItemKind> {
        self.item_kinds.iter().find(|k| k.id == id)
    }

    /// The item type with this id.
    pub fn item_type(&self, id: &str) -> Option<&ItemType> {
        self.item_types.iter().find(|t| t.id == id)
    }

    /// Expiry with every extension in the file: the first day it is no longer in force.
    pub fn expires(&self) -> NaiveDate {
        let years: u32 = self.extensions.iter().map(|e| e.years).sum();
        crate::add_years(self.entry_into_force, self.term_years + years)
    }

    /// Expiry as known on `date`: counting only extensions agreed on or before it.
    pub fn expires_as_known_on(&self, date: NaiveDate) -> NaiveDate {
        let years: u32 = self
            .extensions
            .iter()
            .filter(|e| e.agreed <= date)
            .map(|e| e.years)
            .sum();
        crate::add_years(self.entry_into_force, self.term_years + years)
    }

    /// In force on `date`: from entry into force up to, not including, expiry.
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        date >= self.entry_into_force && date < self.expires()
    }

    /// Limits binding on `date` (the treaty in force and the limit's date reached).
    pub fn binding_limits(&self, date: NaiveDate) -> impl Iterator<Item = &Limit> {
        let in_force = self.in_force_on(date);
        self.limits
            .iter()
            .filter(move |l| in_force && l.binding_from <= date)
    }

    /// Every scheduled data exchange `(as_of, due)` while the treaty is in force,
    /// the initial one first.
    pub fn data_exchange_schedule(&self) -> Vec<(NaiveDate, NaiveDate)> {
        let rule = &self.data_exchanges;
        let expires = self.expires();
        let mut out = vec![(
            self.entry_into_force,
            crate::add_days(self.entry_into_force, rule.initial_due_days),
        )];
        for year in rule.first_regular_as_of.year()..=expires.year() {
            for &(m, d) in &rule.as_of {
                if let Some(as_of) = NaiveDate::from_ymd_opt(year, m, d) {
                    if as_of >= rule.first_regular_as_of && as_of < expires {
                        out.push((as_of, crate::add_days(as_of, rule.due_days)));
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// The scheduled data exchange whose as-of date is `as_of`, with its due date.
    pub fn data_exchange_due(&self, as_of: NaiveDate) -> Option<NaiveDate> {
        if as_of == self.entry_into_force {
            return Some(crate::add_days(as_of, self.data_exchanges.initial_due_days));
        }
        let (m, d) = (as_of.month0() + 1, as_of.day0() + 1);
        self.data_exchanges
            .as_of
            .contains(&(m, d))
            .then(|| crate::add_days(as_of, self.data_exchanges.due_days))
    }

    /// The first scheduled data exchange taken on or after `date`.
    pub fn next_data_exchange(&self, date: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        self.data_exchange_schedule()
            .into_iter()
            .find(|(as_of, _)| *as_of >= date)
    }

    /// The treaty year containing `date` (0-based) and its first and last-plus-one day.
    pub fn treaty_year(&self, date: NaiveDate) -> Option<(u32, NaiveDate, NaiveDate)> {
        if !self.in_force_on(date) {
            return None;
        }
        let mut k = 0u32;
        loop {
            let start = crate::add_years(self.entry_into_force, k);
            let end = crate::add_years(self.entry_into_force, k + 1);
            if date < end {
                return Some((k, start, end));
            }
            k += 1;
        }
    }
}

use chrono::Datelike;
