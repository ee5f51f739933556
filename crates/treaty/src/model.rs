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
    /// The Protocol's notification types, each with its own deadline and
    /// required fields (empty for a treaty file that has no catalogue: then
    /// [`Treaty::notifications`] alone gives the deadlines).
    pub notification_types: Vec<NotificationType>,
    /// The categories of data a data exchange gives for each facility
    /// (Protocol Part Two), empty if the treaty defines none.
    pub data_categories: Vec<DataCategory>,
    /// Named interpretations of the counting rules (the parties' readings).
    pub readings: Vec<Reading>,
    /// The reading the limits above follow, when one other than the
    /// default was applied with [`Treaty::with_reading`] (the treaty's name
    /// then says so too); `None`: the treaty's own counting (its default
    /// reading, if it names one).
    pub reading: Option<String>,
    /// The right of withdrawal, if the treaty provides one.
    pub withdrawal: Option<WithdrawalRule>,
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
    /// Declared by its party as a training item that is not a launcher (the
    /// US "training silos"): counted or not as the reading says. Russia holds
    /// them to be non-deployed silo training launchers of ICBMs.
    Training,
}

impl Status {
    /// How many statuses there are.
    pub const COUNT: usize = 6;

    /// Every status, in order.
    pub const ALL: [Status; Status::COUNT] = [
        Status::Deployed,
        Status::NonDeployed,
        Status::Test,
        Status::Converted,
        Status::Eliminated,
        Status::Training,
    ];

    /// The snake_case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Deployed => "deployed",
            Status::NonDeployed => "non_deployed",
            Status::Test => "test",
            Status::Converted => "converted",
            Status::Eliminated => "eliminated",
            Status::Training => "training",
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
    /// The reading that added this term (`None`: the treaty's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reading: Option<String>,
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

/// When a notification of a type is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "rule", content = "days")]
pub enum Deadline {
    /// Within this many days after the change it reports (its `date`).
    AfterEvent(u32),
    /// At least this many days before the event it announces (its `date`):
    /// a launch notification "no less than 24 hours in advance" is sent on
    /// an earlier day than the launch (dates carry no time of day).
    InAdvance(u32),
    /// With the next regular data exchange (New START's rule for changes in
    /// warhead data).
    NextDataExchange,
    /// On the data-exchange schedule (the as-of date's due date).
    DataExchangeSchedule,
}

/// A notification that must follow another, and how soon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowedBy {
    /// The kind that must follow (for the same item).
    pub kind: String,
    /// Days after the first notification's `date` by which the second's
    /// change must have happened.
    pub within_days: u32,
    /// Source (or ASSUMPTION).
    pub source: String,
}

/// One notification type of the Protocol (New START Part Four) as data.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationType {
    /// The kind, as it appears in a notification's `event.kind`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where the treaty provides for it (e.g. "Protocol Part Four, Section II, paragraph 3").
    pub article: String,
    /// When it is due.
    pub deadline: Deadline,
    /// Fields of the event that must be present (and not null).
    pub required: Vec<String>,
    /// A notification that must follow this one for the same item.
    pub followed_by: Option<FollowedBy>,
    /// Source of the deadline and fields (or ASSUMPTION, and why).
    pub source: String,
}

/// A category of data given for each facility in a data exchange
/// (Protocol Part Two): items of these kinds in these statuses, counted
/// one each or by their declared reentry vehicles.
#[derive(Debug, Clone, Serialize)]
pub struct DataCategory {
    /// Identifier, the key in a data exchange's `facilities` map.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Item kinds.
    pub kinds: Vec<String>,
    /// Statuses.
    pub statuses: Vec<Status>,
    /// What each item contributes.
    pub each: Each,
    /// Source.
    pub source: String,
}

/// A counting term a reading adds to a limit.
#[derive(Debug, Clone, Serialize)]
pub struct ReadingTerm {
    /// The limit it adds to.
    pub limit: String,
    /// The term.
    pub term: CountTerm,
}

/// What a reading changes in a party's published aggregate numbers (the
/// items it disputes are not in the published totals).
#[derive(Debug, Clone, Serialize)]
pub struct PublishedAdjustment {
    /// The party whose published numbers it adjusts.
    pub party: String,
    /// The limit.
    pub limit: String,
    /// Added to the published number.
    pub add: u64,
    /// From this as-of date on.
    pub from: NaiveDate,
    /// How the number is made up, in the words of the source.
    pub breakdown: String,
    /// Source.
    pub source: String,
}

/// A named interpretation of the counting rules: the terms it adds to the
/// treaty's limits, and what that makes of the published numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Reading {
    /// Identifier, e.g. `us` or `ru-objections`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The party that holds it.
    pub held_by: String,
    /// Whether it is the treaty's own counting as written (no terms added).
    pub default: bool,
    /// One paragraph.
    pub summary: String,
    /// Counting terms added to the limits.
    pub terms: Vec<ReadingTerm>,
    /// Adjustments of published numbers.
    pub published: Vec<PublishedAdjustment>,
    /// Source.
    pub source: String,
}

/// The right to withdraw (New START Article XIV(3)).
#[derive(Debug, Clone, Serialize)]
pub struct WithdrawalRule {
    /// Article.
    pub article: String,
    /// Months from the other party's receipt of the notice to withdrawal.
    pub notice_months: u32,
    /// Source (the notice period is marked if unconfirmed).
    pub source: String,
}

impl Treaty {
    /// The notification type for an event kind, if the treaty has a catalogue entry for it.
    pub fn notification_type(&self, kind: &str) -> Option<&NotificationType> {
        self.notification_types.iter().find(|t| t.id == kind)
    }

    /// The data category with this id.
    pub fn data_category(&self, id: &str) -> Option<&DataCategory> {
        self.data_categories.iter().find(|c| c.id == id)
    }

    /// The named interpretations of the counting rules, with their sources.
    pub fn readings(&self) -> &[Reading] {
        &self.readings
    }

    /// The reading with this id.
    pub fn reading_named(&self, id: &str) -> Option<&Reading> {
        self.readings.iter().find(|r| r.id == id)
    }

    /// The treaty whose counting rules follow the reading `id`: its terms
    /// are added to the limits (replacing any reading applied before), so
    /// every function taking `&Treaty` computes under that reading.
    ///
    /// ```
    /// let t = accord_treaty::Treaty::load("new-start")?.with_reading("ru-objections")?;
    /// assert_eq!(t.reading.as_deref(), Some("ru-objections"));
    /// let l = t.limit("deployed_and_nondeployed_launchers").unwrap();
    /// assert!(l.count.iter().any(|c| c.statuses.contains(&accord_treaty::Status::Training)));
    /// # Ok::<(), accord_treaty::TreatyError>(())
    /// ```
    pub fn with_reading(&self, id: &str) -> Result<Treaty, crate::TreatyError> {
        let Some(r) = self.reading_named(id) else {
            return Err(crate::TreatyError::UnknownReading {
                treaty: self.id.clone(),
                reading: id.to_string(),
                known: self
                    .readings
                    .iter()
                    .map(|r| r.id.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let mut t = self.clone();
        for l in &mut t.limits {
            l.count.retain(|c| c.reading.is_none());
            for rt in r.terms.iter().filter(|rt| rt.limit == l.id) {
                l.count.push(rt.term.clone());
            }
        }
        if let Some(old) = &self.reading {
            if let Some(base) = t.name.strip_suffix(&format!(" (reading: {old})")) {
                t.name = base.to_string();
            }
        }
        if !r.default {
            t.name = format!("{} (reading: {})", t.name, r.id);
        }
        t.reading = (!r.default).then(|| r.id.clone());
        Ok(t)
    }

    /// The published adjustments of the reading applied, if any.
    pub fn published_adjustments(&self) -> &[PublishedAdjustment] {
        self.reading
            .as_deref()
            .and_then(|id| self.reading_named(id))
            .map_or(&[], |r| r.published.as_slice())
    }

    /// The day a withdrawal takes effect when the other party receives the
    /// notice on `received`; `None` if the treaty provides no withdrawal.
    pub fn withdrawal_effective(&self, received: NaiveDate) -> Option<NaiveDate> {
        let w = self.withdrawal.as_ref()?;
        received.checked_add_months(chrono::Months::new(w.notice_months))
    }
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

    /// Its identity and dates (`accord treaty list --json`).
    pub fn summary(&self) -> Summary {
        Summary {
            id: self.id.clone(),
            name: self.name.clone(),
            entry_into_force: self.entry_into_force,
            expires: self.expires(),
        }
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

/// A treaty's identity and dates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Its file's id (`new-start-2021`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Entry into force.
    pub entry_into_force: NaiveDate,
    /// The first day it is no longer in force, every extension counted.
    pub expires: NaiveDate,
}
