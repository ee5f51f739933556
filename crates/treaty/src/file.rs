//! The on-disk shape of a treaty file: exactly the keys a file may hold.
//!
//! Every struct denies unknown keys, so a misspelt key is an error with the
//! file and line, not a silently ignored setting. Tables that a derived
//! treaty (`based_on = "…"`) may leave out are `Option`s here; the loader
//! merges them with the base and then checks that nothing required is missing.

use serde::Deserialize;
use toml::Spanned;

/// A date written as a TOML local date (`2011-02-05`).
pub(crate) type TomlDate = toml::value::Datetime;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TreatyFile {
    pub(crate) based_on: Option<Spanned<String>>,
    pub(crate) treaty: Spanned<TreatySection>,
    pub(crate) extension: Option<Spanned<ExtensionRuleFile>>,
    #[serde(default)]
    pub(crate) extensions: Vec<Spanned<ExtensionFile>>,
    #[serde(default)]
    pub(crate) parties: Vec<Spanned<PartyFile>>,
    #[serde(default)]
    pub(crate) item_kinds: Vec<Spanned<ItemKindFile>>,
    #[serde(default)]
    pub(crate) item_types: Vec<Spanned<ItemTypeFile>>,
    #[serde(default)]
    pub(crate) limits: Vec<Spanned<LimitFile>>,
    pub(crate) data_exchanges: Option<Spanned<DataExchangeFile>>,
    pub(crate) notifications: Option<Spanned<NotificationRuleFile>>,
    #[serde(default)]
    pub(crate) inspections: Vec<Spanned<InspectionFile>>,
    #[serde(default)]
    pub(crate) notification_types: Vec<Spanned<NotificationTypeFile>>,
    #[serde(default)]
    pub(crate) data_categories: Vec<Spanned<DataCategoryFile>>,
    #[serde(default)]
    pub(crate) readings: Vec<Spanned<ReadingFile>>,
    pub(crate) withdrawal: Option<Spanned<WithdrawalFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TreatySection {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) full_name: String,
    pub(crate) signed: TomlDate,
    pub(crate) entry_into_force: TomlDate,
    pub(crate) term_years: i64,
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtensionRuleFile {
    pub(crate) max_count: i64,
    pub(crate) max_years: i64,
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtensionFile {
    pub(crate) agreed: TomlDate,
    pub(crate) years: i64,
    #[serde(default)]
    pub(crate) proposed: bool,
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PartyFile {
    pub(crate) code: String,
    pub(crate) name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemKindFile {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) launcher_kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemTypeFile {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) party: String,
    pub(crate) max_reentry_vehicles: Option<i64>,
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitFile {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) article: String,
    pub(crate) max: toml::Value,
    pub(crate) binding_from: TomlDate,
    pub(crate) source: String,
    pub(crate) count: Vec<CountFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountFile {
    pub(crate) kinds: Vec<String>,
    pub(crate) statuses: Vec<String>,
    pub(crate) each: String,
    pub(crate) article: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataExchangeFile {
    pub(crate) as_of: Vec<String>,
    pub(crate) first_regular_as_of: TomlDate,
    pub(crate) due_days: i64,
    pub(crate) initial_due_days: i64,
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotificationRuleFile {
    pub(crate) deadline_days: i64,
    pub(crate) reentry_vehicle_changes: String,
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InspectionFile {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) per_treaty_year: i64,
    pub(crate) facility_kinds: Vec<String>,
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FollowedByFile {
    pub(crate) kind: String,
    pub(crate) within_days: i64,
    pub(crate) source: String,
}

/// Exactly one of `deadline_days`, `advance_days` or `deadline` is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotificationTypeFile {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) article: String,
    pub(crate) deadline_days: Option<i64>,
    pub(crate) advance_days: Option<i64>,
    pub(crate) deadline: Option<String>,
    #[serde(default)]
    pub(crate) required: Vec<String>,
    pub(crate) followed_by: Option<FollowedByFile>,
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataCategoryFile {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kinds: Vec<String>,
    pub(crate) statuses: Vec<String>,
    pub(crate) each: String,
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadingCountFile {
    pub(crate) limit: String,
    pub(crate) kinds: Vec<String>,
    pub(crate) statuses: Vec<String>,
    pub(crate) each: String,
    pub(crate) article: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PublishedFile {
    pub(crate) party: String,
    pub(crate) limit: String,
    pub(crate) add: i64,
    pub(crate) from: TomlDate,
    pub(crate) breakdown: String,
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadingFile {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) held_by: String,
    #[serde(default)]
    pub(crate) default: bool,
    pub(crate) summary: String,
    #[serde(default)]
    pub(crate) count: Vec<ReadingCountFile>,
    #[serde(default)]
    pub(crate) published: Vec<PublishedFile>,
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WithdrawalFile {
    pub(crate) article: String,
    pub(crate) notice_months: i64,
    pub(crate) source: String,
}
