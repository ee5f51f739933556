//! The implementation record: what actually happened under a treaty, as
//! sourced, dated events (`data/implementation/*.toml`).
//!
//! A treaty file says what the parties agreed; the record says what they
//! did: inspections paused, facilities exempted from inspection,
//! participation suspended (and who disputes that), data exchanges not
//! provided or withheld, countermeasures, notices of withdrawal, expiry.
//! [`Record::on`] folds the events up to a date into what held on it, and
//! [`Record::exchange_status`] says of each scheduled data exchange whether
//! it was provided.
//!
//! The file is read strictly: unknown keys, unknown kinds or parties, an
//! as-of date that is not on the treaty's schedule, or an event outside the
//! treaty's life are errors naming the file, the line and the field.

use crate::load::Source;
use crate::{Treaty, TreatyError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The records shipped with accord, by treaty id.
const BUILTIN: &[(&str, &str, &str)] = &[(
    "new-start-2021",
    "data/implementation/new-start.toml",
    include_str!("../../../data/implementation/new-start.toml"),
)];

/// What kind of thing happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// On-site inspections stop (by agreement or otherwise) until `until`, if given.
    InspectionsPaused,
    /// The parties plan to resume inspections on this date (informational).
    InspectionsResumptionPlanned,
    /// A party exempts its facilities from inspection activities.
    FacilitiesExempted,
    /// A party declares the suspension of its participation.
    ParticipationSuspended,
    /// A party provides no data exchange for the as-of dates from
    /// `as_of_from` (through `as_of_until`, or every later one).
    DataExchangesNotProvided,
    /// A party withholds data exchanges as a countermeasure (from
    /// `as_of_from`, through `as_of_until` or every later one).
    DataExchangesWithheld,
    /// A party stops sending the treaty's notifications.
    NotificationsWithheld,
    /// Countermeasures taken by a party (described in `summary`).
    Countermeasures,
    /// A party keeps notifying ICBM and SLBM launches under the 1988
    /// Ballistic Missile Launch Notification Agreement.
    LaunchNotificationsContinued,
    /// A party declares it will keep to the central limits.
    LimitsObservedDeclared,
    /// An offer made (informational).
    Offer,
    /// A party's notice of withdrawal under the treaty's withdrawal article,
    /// received by the other party on `date`.
    WithdrawalNotice,
    /// The treaty expires (its `date` must be the treaty's expiry).
    Expiry,
    /// Anything else worth recording (informational).
    Note,
}

impl RecordKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::InspectionsPaused => "inspections_paused",
            RecordKind::InspectionsResumptionPlanned => "inspections_resumption_planned",
            RecordKind::FacilitiesExempted => "facilities_exempted",
            RecordKind::ParticipationSuspended => "participation_suspended",
            RecordKind::DataExchangesNotProvided => "data_exchanges_not_provided",
            RecordKind::DataExchangesWithheld => "data_exchanges_withheld",
            RecordKind::NotificationsWithheld => "notifications_withheld",
            RecordKind::Countermeasures => "countermeasures",
            RecordKind::LaunchNotificationsContinued => "launch_notifications_continued",
            RecordKind::LimitsObservedDeclared => "limits_observed_declared",
            RecordKind::Offer => "offer",
            RecordKind::WithdrawalNotice => "withdrawal_notice",
            RecordKind::Expiry => "expiry",
            RecordKind::Note => "note",
        }
    }
}

/// How precisely a date is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// The day is known.
    #[default]
    Day,
    /// Only the month is known (the date is its first day).
    Month,
}

/// One event of the record.
#[derive(Debug, Clone, Serialize)]
pub struct RecordEvent {
    /// When it happened (or took effect).
    pub date: NaiveDate,
    /// How precisely `date` is known.
    pub precision: Precision,
    /// What happened.
    pub kind: RecordKind,
    /// The parties that did it.
    pub by: Vec<String>,
    /// For data exchanges: the first as-of date concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of_from: Option<NaiveDate>,
    /// For data exchanges: the last as-of date concerned (none: every later one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of_until: Option<NaiveDate>,
    /// For a state (inspections paused …): the first day it no longer held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// Parties that hold the act invalid.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disputed_by: Vec<String>,
    /// What the disputing party says, with its source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispute: Option<String>,
    /// Plain words.
    pub summary: String,
    /// Source.
    pub source: String,
    /// Line in the file.
    pub line: usize,
}

/// A treaty's implementation record.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// The treaty id it records.
    pub treaty: String,
    /// Title.
    pub title: String,
    /// General source.
    pub source: String,
    /// The events, by date.
    pub events: Vec<RecordEvent>,
    /// The file it was read from.
    pub file: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordFile {
    treaty: String,
    title: String,
    source: String,
    #[serde(default)]
    events: Vec<Spanned<EventFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventFile {
    date: toml::value::Datetime,
    #[serde(default)]
    precision: Precision,
    kind: String,
    #[serde(default)]
    by: Vec<String>,
    as_of_from: Option<toml::value::Datetime>,
    as_of_until: Option<toml::value::Datetime>,
    until: Option<toml::value::Datetime>,
    #[serde(default)]
    disputed_by: Vec<String>,
    dispute: Option<String>,
    summary: String,
    source: String,
}

/// Whether a scheduled data exchange was provided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeStatus {
    /// Provided (the record says nothing against it).
    Provided,
    /// Not yet due on the date asked about.
    Pending,
    /// Due and not provided.
    NotProvided,
    /// Due and withheld as a countermeasure.
    Withheld,
}

/// One party's data exchanges on a date.
#[derive(Debug, Clone, Serialize)]
pub struct PartyExchanges {
    /// The party.
    pub party: String,
    /// The last as-of date whose exchange was provided and due by the date.
    pub last_provided: Option<NaiveDate>,
    /// As-of dates due by the date and not provided (or withheld), with the status.
    pub missing: Vec<(NaiveDate, ExchangeStatus)>,
    /// The exchange under way on the date (as of, due), if any, and what
    /// the record says of it.
    pub pending: Option<(NaiveDate, NaiveDate, ExchangeStatus)>,
}

/// A suspension of participation in force on a date.
#[derive(Debug, Clone, Serialize)]
pub struct Suspension {
    /// The party.
    pub party: String,
    /// Since.
    pub since: NaiveDate,
    /// Parties that hold it invalid.
    pub disputed_by: Vec<String>,
    /// Their words and source.
    pub dispute: Option<String>,
}

/// What the record says held on a date.
#[derive(Debug, Clone, Serialize)]
pub struct RecordOnDate {
    /// The record's file.
    pub record: String,
    /// Inspections were being conducted (not paused, no facilities exempted).
    pub inspections_conducted: bool,
    /// Since when inspections had been paused.
    pub inspections_paused_since: Option<NaiveDate>,
    /// Parties exempting their facilities from inspection, and since when.
    pub facilities_exempted: Vec<(String, NaiveDate)>,
    /// Suspensions of participation.
    pub suspended: Vec<Suspension>,
    /// Parties withholding the treaty's notifications, and since when.
    pub notifications_withheld: Vec<(String, NaiveDate)>,
    /// Parties still notifying launches under the 1988 agreement.
    pub launch_notifications: Vec<String>,
    /// A withdrawal notice received and its effective date.
    pub withdrawal: Option<(String, NaiveDate, NaiveDate)>,
    /// Each party's data exchanges.
    pub exchanges: Vec<PartyExchanges>,
    /// Every event on or before the date, by date.
    pub events: Vec<RecordEvent>,
}

impl Record {
    /// The built-in record for a treaty id, if accord ships one.
    pub fn builtin_for(treaty: &Treaty) -> Option<Result<Record, TreatyError>> {
        BUILTIN
            .iter()
            .find(|(id, _, _)| *id == treaty.id)
            .map(|(_, name, text)| Record::from_str(name, text, treaty))
    }

    /// Loads a record from a file path (or the built-in name
    /// `data/implementation/new-start.toml`) and checks it against `treaty`.
    pub fn load(path: &str, treaty: &Treaty) -> Result<Record, TreatyError> {
        if let Some((_, name, text)) = BUILTIN.iter().find(|(_, n, _)| *n == path) {
            return Record::from_str(name, text, treaty);
        }
        let text = std::fs::read_to_string(path).map_err(|source| TreatyError::Read {
            path: path.to_string(),
            source,
        })?;
        Record::from_str(path, &text, treaty)
    }

    /// Parses and checks a record's text; `name` is used in errors.
    pub fn from_str(name: &str, text: &str, treaty: &Treaty) -> Result<Record, TreatyError> {
        let src = Source {
            name: name.to_string(),
            text: text.to_string(),
        };
        let file: Spanned<RecordFile> = toml::from_str(text).map_err(|e| TreatyError::Parse {
            file: name.to_string(),
            line: e.span().map_or(1, |s| src.line(s)),
            message: e.message().to_string(),
        })?;
        let span = file.span();
        let file = file.into_inner();
        let invalid =
            |span: std::ops::Range<usize>, key: String, message: String| TreatyError::Invalid {
                file: name.to_string(),
                line: src.key_line(span, &key),
                key,
                message,
            };
        if file.treaty != treaty.id {
            return Err(invalid(
                span,
                "treaty".into(),
                format!(
                    "this record is of `{}`, not of `{}`",
                    file.treaty, treaty.id
                ),
            ));
        }
        let schedule = treaty.data_exchange_schedule();
        let mut events = vec![];
        for (i, e) in file.events.into_iter().enumerate() {
            let span = e.span();
            let line = src.line(span.clone());
            let e = e.into_inner();
            let key = |k: &str| format!("events[{i}].{k}");
            let bad = |k: &str, m: String| invalid(span.clone(), key(k), m);
            let date = to_date(&e.date).ok_or_else(|| {
                bad(
                    "date",
                    format!("expected a date like 2023-02-21, found {}", e.date),
                )
            })?;
            let kind: RecordKind = serde::Deserialize::deserialize(toml::Value::String(
                e.kind.clone(),
            ))
            .map_err(|_: toml::de::Error| {
                bad("kind", format!("`{}` is not a kind of event", e.kind))
            })?;
            let (start, end) = (treaty.entry_into_force, treaty.expires());
            if date < start || date > end {
                return Err(bad(
                    "date",
                    format!(
                        "{date} is outside the life of {} ({start} to {end})",
                        treaty.id
                    ),
                ));
            }
            if kind == RecordKind::Expiry && date != end {
                return Err(bad(
                    "date",
                    format!("{} expires on {end}, not on {date}", treaty.id),
                ));
            }
            for p in e.by.iter().chain(&e.disputed_by) {
                if treaty.party(p).is_none() {
                    return Err(bad(
                        if e.by.contains(p) {
                            "by"
                        } else {
                            "disputed_by"
                        },
                        format!("`{p}` is not a party to {}", treaty.id),
                    ));
                }
            }
            let needs_party = !matches!(
                kind,
                RecordKind::Expiry | RecordKind::Note | RecordKind::InspectionsResumptionPlanned
            );
            if needs_party && e.by.is_empty() {
                return Err(bad("by", "name the party (or parties) that did it".into()));
            }
            let as_of = |k: &str,
                         v: &Option<toml::value::Datetime>|
             -> Result<Option<NaiveDate>, TreatyError> {
                let Some(v) = v else { return Ok(None) };
                let d = to_date(v).ok_or_else(|| bad(k, format!("`{v}` is not a date")))?;
                if !schedule.iter().any(|(a, _)| *a == d) {
                    return Err(bad(
                        k,
                        format!("{d} is not a scheduled data exchange of {}", treaty.id),
                    ));
                }
                Ok(Some(d))
            };
            let as_of_from = as_of("as_of_from", &e.as_of_from)?;
            let as_of_until = as_of("as_of_until", &e.as_of_until)?;
            let exchanges = matches!(
                kind,
                RecordKind::DataExchangesNotProvided | RecordKind::DataExchangesWithheld
            );
            if exchanges != as_of_from.is_some() {
                return Err(bad(
                    "as_of_from",
                    if exchanges {
                        "required for an event about data exchanges".into()
                    } else {
                        "only an event about data exchanges has as-of dates".into()
                    },
                ));
            }
            if let (Some(a), Some(b)) = (as_of_from, as_of_until) {
                if b < a {
                    return Err(bad("as_of_until", format!("{b} is before as_of_from {a}")));
                }
            }
            let until = match &e.until {
                Some(u) => {
                    let d =
                        to_date(u).ok_or_else(|| bad("until", format!("`{u}` is not a date")))?;
                    if d <= date {
                        return Err(bad(
                            "until",
                            format!("{d} is not after the event's date {date}"),
                        ));
                    }
                    Some(d)
                }
                None => None,
            };
            if kind == RecordKind::WithdrawalNotice && treaty.withdrawal.is_none() {
                return Err(bad(
                    "kind",
                    format!("{} provides no right of withdrawal", treaty.id),
                ));
            }
            if e.source.trim().is_empty() {
                return Err(bad("source", "every event needs its source".into()));
            }
            events.push(RecordEvent {
                date,
                precision: e.precision,
                kind,
                by: e.by,
                as_of_from,
                as_of_until,
                until,
                disputed_by: e.disputed_by,
                dispute: e.dispute,
                summary: e.summary,
                source: e.source,
                line,
            });
        }
        events.sort_by_key(|e| (e.date, e.line));
        Ok(Record {
            treaty: file.treaty,
            title: file.title,
            source: file.source,
            events,
            file: name.to_string(),
        })
    }

    /// What the record says of `party`'s data exchange as of `as_of`, on
    /// `date` (due on `due`).
    pub fn exchange_status(
        &self,
        party: &str,
        as_of: NaiveDate,
        due: NaiveDate,
        date: NaiveDate,
    ) -> ExchangeStatus {
        let mark = self.events.iter().rev().find(|e| {
            matches!(
                e.kind,
                RecordKind::DataExchangesNotProvided | RecordKind::DataExchangesWithheld
            ) && e.by.iter().any(|p| p == party)
                && e.as_of_from.is_some_and(|a| a <= as_of)
                && e.as_of_until.is_none_or(|u| as_of <= u)
        });
        if date <= due {
            return ExchangeStatus::Pending;
        }
        match mark.map(|e| e.kind) {
            Some(RecordKind::DataExchangesWithheld) => ExchangeStatus::Withheld,
            Some(_) => ExchangeStatus::NotProvided,
            None => ExchangeStatus::Provided,
        }
    }

    /// What the record says of `party`'s exchange as of `as_of` whatever the
    /// date: provided, not provided or withheld.
    pub fn exchange_outcome(&self, party: &str, as_of: NaiveDate) -> ExchangeStatus {
        self.exchange_status(party, as_of, as_of, NaiveDate::MAX)
    }

    /// Whether on-site inspections were being conducted on `date`.
    pub fn inspections_conducted(&self, date: NaiveDate) -> bool {
        self.on_inner(None, date).inspections_conducted
    }

    /// What held on `date` under `treaty`.
    pub fn on(&self, treaty: &Treaty, date: NaiveDate) -> RecordOnDate {
        self.on_inner(Some(treaty), date)
    }

    fn on_inner(&self, treaty: Option<&Treaty>, date: NaiveDate) -> RecordOnDate {
        let past: Vec<&RecordEvent> = self.events.iter().filter(|e| e.date <= date).collect();
        let holds = |e: &&&RecordEvent| e.until.is_none_or(|u| date < u);
        let paused = past
            .iter()
            .filter(|e| e.kind == RecordKind::InspectionsPaused)
            .filter(holds)
            .map(|e| e.date)
            .min();
        let mut exempted: Vec<(String, NaiveDate)> = vec![];
        let mut suspended = vec![];
        let mut withheld: Vec<(String, NaiveDate)> = vec![];
        let mut launch = vec![];
        let mut withdrawal = None;
        for e in past.iter().filter(holds) {
            match e.kind {
                RecordKind::FacilitiesExempted => {
                    for p in &e.by {
                        if !exempted.iter().any(|(q, _)| q == p) {
                            exempted.push((p.clone(), e.date));
                        }
                    }
                }
                RecordKind::ParticipationSuspended => {
                    for p in &e.by {
                        if !suspended.iter().any(|s: &Suspension| &s.party == p) {
                            suspended.push(Suspension {
                                party: p.clone(),
                                since: e.date,
                                disputed_by: e.disputed_by.clone(),
                                dispute: e.dispute.clone(),
                            });
                        }
                    }
                }
                RecordKind::NotificationsWithheld => {
                    for p in &e.by {
                        if !withheld.iter().any(|(q, _)| q == p) {
                            withheld.push((p.clone(), e.date));
                        }
                    }
                }
                RecordKind::LaunchNotificationsContinued => {
                    for p in &e.by {
                        if !launch.contains(p) {
                            launch.push(p.clone());
                        }
                    }
                }
                RecordKind::WithdrawalNotice => {
                    if let (Some(t), Some(p)) = (treaty, e.by.first()) {
                        if let Some(eff) = t.withdrawal_effective(e.date) {
                            withdrawal.get_or_insert((p.clone(), e.date, eff));
                        }
                    }
                }
                _ => {}
            }
        }
        let mut exchanges = vec![];
        if let Some(t) = treaty {
            let schedule = t.data_exchange_schedule();
            for p in &t.parties {
                let mut last = None;
                let mut missing = vec![];
                let mut pending = None;
                for &(as_of, due) in schedule.iter().filter(|(a, _)| *a <= date) {
                    match self.exchange_status(&p.code, as_of, due, date) {
                        ExchangeStatus::Provided => last = Some(as_of),
                        ExchangeStatus::Pending => {
                            pending = Some((as_of, due, self.exchange_outcome(&p.code, as_of)))
                        }
                        s => missing.push((as_of, s)),
                    }
                }
                exchanges.push(PartyExchanges {
                    party: p.code.clone(),
                    last_provided: last,
                    missing,
                    pending,
                });
            }
        }
        RecordOnDate {
            record: self.file.clone(),
            inspections_conducted: paused.is_none() && exempted.is_empty(),
            inspections_paused_since: paused,
            facilities_exempted: exempted,
            suspended,
            notifications_withheld: withheld,
            launch_notifications: launch,
            withdrawal,
            exchanges,
            events: past.into_iter().cloned().collect(),
        }
    }
}

fn to_date(d: &toml::value::Datetime) -> Option<NaiveDate> {
    match (d.date, d.time, d.offset) {
        (Some(x), None, None) => {
            NaiveDate::from_ymd_opt(i32::from(x.year), u32::from(x.month), u32::from(x.day))
        }
        _ => None,
    }
}
