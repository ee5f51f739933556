//! Notifications: the events that change a party's declared holdings.
//!
//! On the wire a notification is one JSON object; a file of them is JSON
//! Lines (one object a line). Parsing is strict: unknown fields, missing
//! fields, negative or fractional counts are errors naming the file, the line
//! and the field.

use crate::error::InputError;
use accord_treaty::{FacilityKind, Role, Status, Treaty};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The largest notification, in bytes of its RFC 8785 canonical JSON
/// ([`Notification::entry_len`]): 65,535.
///
/// Every notification a registry accepts is logged, and a log entry is at
/// most 65,535 bytes so that it fits the two-byte length prefix of a C2SP
/// tlog-tiles entry bundle (`accord_log::MAX_ENTRY_BYTES`). The registry
/// does not depend on the log, so the bound is stated again here;
/// `crates/regime/tests/entry_bound.rs` checks that the two agree and that
/// `entry_len` is the length the log measures.
pub const MAX_ENTRY_BYTES: usize = 65_535;

/// One notification from a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// The notifying party (`US`, `RU`, …).
    pub party: String,
    /// The party's notification number: unique, assigned in the order sent.
    pub number: u64,
    /// When the change occurred (for a data exchange: the as-of date).
    pub date: NaiveDate,
    /// When the notification was sent.
    pub sent: NaiveDate,
    /// What happened.
    pub event: Event,
}

/// What a heavy bomber or launcher is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConvertedTo {
    /// Equipped for non-nuclear armaments (status `converted`).
    NonNuclear,
    /// A test item (status `test`).
    Test,
    /// What its party declares a training item, not a launcher (status
    /// `training`: the US "training silos"; Russia disputes it).
    Training,
}

/// The change a notification reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// A facility is declared.
    FacilityDeclared {
        /// Its identifier.
        facility: String,
        /// Its kind.
        facility_kind: FacilityKind,
        /// Its name.
        name: String,
    },
    /// An item enters accountability (new, or in the initial declaration).
    AccountabilityEntry {
        /// Unique identifier.
        item: String,
        /// Item kind (a treaty item kind).
        item_kind: String,
        /// Item type (a treaty item type).
        item_type: String,
        /// Where it is.
        facility: String,
        /// Its status.
        status: Status,
        /// For a deployed missile: the launcher it is emplaced in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        launcher: Option<String>,
        /// For a deployed missile: its declared reentry vehicles.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reentry_vehicles: Option<u32>,
    },
    /// An item leaves a facility.
    Departure {
        /// The item.
        item: String,
        /// The facility it leaves.
        facility: String,
    },
    /// An item arrives at a facility.
    Arrival {
        /// The item.
        item: String,
        /// The facility it reaches.
        facility: String,
    },
    /// A missile is emplaced in a launcher, or a heavy bomber becomes deployed.
    Deployment {
        /// The item.
        item: String,
        /// For a missile: the launcher.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        launcher: Option<String>,
        /// For a missile: its declared reentry vehicles.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reentry_vehicles: Option<u32>,
    },
    /// A missile is removed from its launcher, or a heavy bomber from deployment.
    RemovalFromDeployment {
        /// The item.
        item: String,
    },
    /// The declared reentry vehicles of a deployed missile change.
    ReentryVehicleChange {
        /// The missile.
        item: String,
        /// Its new declared number.
        reentry_vehicles: u32,
    },
    /// An item is converted.
    Conversion {
        /// The item.
        item: String,
        /// What it becomes.
        to: ConvertedTo,
    },
    /// An item is eliminated (removed from accountability).
    Elimination {
        /// The item.
        item: String,
    },
    /// The twice-yearly aggregate numbers, as of `date`.
    DataExchange {
        /// One number per limit id of the treaty.
        counts: BTreeMap<String, u64>,
        /// The Part Two categories by facility: facility id → category id
        /// → number (absent in a three-total exchange).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        facilities: BTreeMap<String, BTreeMap<String, u64>>,
    },
    /// A conversion begins (the item still counts as before).
    ConversionStarted {
        /// The item.
        item: String,
        /// What it will become.
        to: ConvertedTo,
    },
    /// An elimination begins (the item still counts as before).
    EliminationStarted {
        /// The item.
        item: String,
    },
    /// An item leaves accountability by accident, disablement beyond
    /// repair or placement on static display (Part Four, Section II, 3(a)).
    RemovedFromAccountability {
        /// The item.
        item: String,
        /// Why (accident, disablement, static display).
        reason: String,
    },
    /// A heavy bomber leaves national territory for more than 24 hours.
    HeavyBomberExit {
        /// The bomber.
        item: String,
        /// The facility it leaves from.
        facility: String,
        /// Where it goes.
        destination: String,
        /// When it is expected back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_return: Option<NaiveDate>,
    },
    /// A heavy bomber returns to national territory.
    HeavyBomberReturn {
        /// The bomber.
        item: String,
        /// The facility it returns to.
        facility: String,
    },
    /// A new type of ICBM, SLBM or heavy bomber.
    NewType {
        /// The type's identifier.
        item_type: String,
        /// Its kind.
        item_kind: String,
        /// Its name.
        name: String,
    },
    /// The inspecting party's notice of an inspection (`date`: arrival).
    InspectionNotice {
        /// The inspection type (`type_one`, `type_two`).
        inspection_type: String,
        /// The other party's facility to be inspected.
        facility: String,
        /// Point of entry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        point_of_entry: Option<String>,
    },
    /// An exhibition (`date`: the day of the exhibition).
    ExhibitionNotice {
        /// What is exhibited.
        item_type: String,
        /// Where.
        facility: String,
    },
    /// A planned ICBM or SLBM launch (`date`: the launch), under the 1988
    /// Ballistic Missile Launch Notification Agreement.
    LaunchNotification {
        /// The missile type.
        missile_type: String,
        /// Launch area.
        launch_area: String,
        /// Impact area.
        impact_area: String,
    },
}

impl Event {
    /// The snake_case kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::FacilityDeclared { .. } => "facility_declared",
            Event::AccountabilityEntry { .. } => "accountability_entry",
            Event::Departure { .. } => "departure",
            Event::Arrival { .. } => "arrival",
            Event::Deployment { .. } => "deployment",
            Event::RemovalFromDeployment { .. } => "removal_from_deployment",
            Event::ReentryVehicleChange { .. } => "reentry_vehicle_change",
            Event::Conversion { .. } => "conversion",
            Event::Elimination { .. } => "elimination",
            Event::DataExchange { .. } => "data_exchange",
            Event::ConversionStarted { .. } => "conversion_started",
            Event::EliminationStarted { .. } => "elimination_started",
            Event::RemovedFromAccountability { .. } => "removed_from_accountability",
            Event::HeavyBomberExit { .. } => "heavy_bomber_exit",
            Event::HeavyBomberReturn { .. } => "heavy_bomber_return",
            Event::NewType { .. } => "new_type",
            Event::InspectionNotice { .. } => "inspection_notice",
            Event::ExhibitionNotice { .. } => "exhibition_notice",
            Event::LaunchNotification { .. } => "launch_notification",
        }
    }

    /// Every kind of event the registry knows, with its fields: what a
    /// treaty's notification catalogue may name and require.
    pub const KINDS: &'static [(&'static str, &'static [&'static str])] = &[
        ("facility_declared", &["facility", "facility_kind", "name"]),
        (
            "accountability_entry",
            &[
                "item",
                "item_kind",
                "item_type",
                "facility",
                "status",
                "launcher",
                "reentry_vehicles",
            ],
        ),
        ("departure", &["item", "facility"]),
        ("arrival", &["item", "facility"]),
        ("deployment", &["item", "launcher", "reentry_vehicles"]),
        ("removal_from_deployment", &["item"]),
        ("reentry_vehicle_change", &["item", "reentry_vehicles"]),
        ("conversion", &["item", "to"]),
        ("elimination", &["item"]),
        ("data_exchange", &["counts", "facilities"]),
        ("conversion_started", &["item", "to"]),
        ("elimination_started", &["item"]),
        ("removed_from_accountability", &["item", "reason"]),
        (
            "heavy_bomber_exit",
            &["item", "facility", "destination", "expected_return"],
        ),
        ("heavy_bomber_return", &["item", "facility"]),
        ("new_type", &["item_type", "item_kind", "name"]),
        (
            "inspection_notice",
            &["inspection_type", "facility", "point_of_entry"],
        ),
        ("exhibition_notice", &["item_type", "facility"]),
        (
            "launch_notification",
            &["missile_type", "launch_area", "impact_area"],
        ),
    ];

    /// The fields of each kind that may be absent (the rest are required
    /// by the notification's shape).
    pub const OPTIONAL: &'static [(&'static str, &'static [&'static str])] = &[
        ("accountability_entry", &["launcher", "reentry_vehicles"]),
        ("deployment", &["launcher", "reentry_vehicles"]),
        ("data_exchange", &["facilities"]),
        ("heavy_bomber_exit", &["expected_return"]),
        ("inspection_notice", &["point_of_entry"]),
    ];

    /// Whether the event announces something ahead (its `date` is the
    /// announced day and it is sent before it).
    pub fn announces(&self) -> bool {
        matches!(
            self,
            Event::InspectionNotice { .. }
                | Event::ExhibitionNotice { .. }
                | Event::LaunchNotification { .. }
        )
    }

    /// The item the event concerns, if any.
    pub fn item(&self) -> Option<&str> {
        match self {
            Event::AccountabilityEntry { item, .. }
            | Event::Departure { item, .. }
            | Event::Arrival { item, .. }
            | Event::Deployment { item, .. }
            | Event::RemovalFromDeployment { item }
            | Event::ReentryVehicleChange { item, .. }
            | Event::Conversion { item, .. }
            | Event::Elimination { item }
            | Event::ConversionStarted { item, .. }
            | Event::EliminationStarted { item }
            | Event::RemovedFromAccountability { item, .. }
            | Event::HeavyBomberExit { item, .. }
            | Event::HeavyBomberReturn { item, .. } => Some(item),
            Event::FacilityDeclared { .. }
            | Event::DataExchange { .. }
            | Event::NewType { .. }
            | Event::InspectionNotice { .. }
            | Event::ExhibitionNotice { .. }
            | Event::LaunchNotification { .. } => None,
        }
    }
}

impl Notification {
    /// The order in which notifications fold: by the date of the change;
    /// on one date, data exchanges last (they describe the end of that day);
    /// then by notification number.
    pub fn fold_key(&self) -> (NaiveDate, bool, u64) {
        (
            self.date,
            matches!(self.event, Event::DataExchange { .. }),
            self.number,
        )
    }

    /// The JSON text of this notification (compact, fields in a fixed order).
    pub fn to_json(&self) -> String {
        // Serializing plain structs, maps and strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Its length as a log entry: the bytes of its RFC 8785 canonical JSON.
    ///
    /// RFC 8785 writes what compact JSON writes, with the keys sorted, so
    /// the length is that of [`Notification::to_json`], except for numbers:
    /// RFC 8785 prints every number as the IEEE 754 double nearest to it,
    /// the way ECMAScript does (§3.2.2.3). An integer up to 2^53 is exact;
    /// a larger one prints as the double's shortest round-trip digits
    /// padded with zeros (below 10^21 there is no exponent), which is as
    /// many digits, or one more where rounding carries to a power of ten:
    /// 9,999,999,999,999,999,999 prints as 10000000000000000000. Strings
    /// are escaped alike (the same short escapes and `\u00XX` for other
    /// control characters).
    pub fn entry_len(&self) -> usize {
        fn excess(v: &serde_json::Value) -> usize {
            match v {
                serde_json::Value::Number(n) => n.as_u64().map_or(0, |u| {
                    // Rust prints an integral f64 below 10^21 the ECMAScript way.
                    let js = format!("{}", u as f64).len();
                    js.saturating_sub(u.to_string().len())
                }),
                serde_json::Value::Array(a) => a.iter().map(excess).sum(),
                serde_json::Value::Object(m) => m.values().map(excess).sum(),
                _ => 0,
            }
        }
        // Serializing plain structs, maps and strings cannot fail.
        let value = serde_json::to_value(self).unwrap_or_default();
        self.to_json().len() + excess(&value)
    }

    /// Checks what can be checked without the registry: its size as a log
    /// entry ([`MAX_ENTRY_BYTES`]), the party, the item kind and type, the
    /// dates against the treaty's life, the data-exchange keys. `at` names
    /// the place in errors (`file:line`).
    pub fn validate(&self, treaty: &Treaty, at: &str) -> Result<(), InputError> {
        let bad = |field: &str, message: String| InputError::Invalid {
            at: at.to_string(),
            field: field.to_string(),
            message,
        };
        let bytes = self.entry_len();
        if bytes > MAX_ENTRY_BYTES {
            return Err(InputError::TooLarge {
                at: at.to_string(),
                bytes,
            });
        }
        if treaty.party(&self.party).is_none() {
            let known: Vec<&str> = treaty.parties.iter().map(|p| p.code.as_str()).collect();
            return Err(bad(
                "party",
                format!(
                    "`{}` is not a party to {} ({})",
                    self.party,
                    treaty.id,
                    known.join(", ")
                ),
            ));
        }
        if !treaty.in_force_on(self.date) {
            return Err(bad(
                "date",
                format!(
                    "{} is outside the life of {} ({} to {})",
                    self.date,
                    treaty.id,
                    treaty.entry_into_force,
                    treaty.expires()
                ),
            ));
        }
        if let Some(nt) = treaty.notification_type(self.event.kind()) {
            // Only fields that may be absent need looking at; the others
            // are there whenever the notification parsed.
            let optional = Event::OPTIONAL
                .iter()
                .find(|(k, _)| *k == self.event.kind())
                .map_or(&[][..], |(_, f)| *f);
            let unknown = Event::KINDS
                .iter()
                .find(|(k, _)| *k == self.event.kind())
                .map_or(&[][..], |(_, f)| *f);
            let check: Vec<&String> = nt
                .required
                .iter()
                .filter(|f| optional.contains(&f.as_str()) || !unknown.contains(&f.as_str()))
                .collect();
            let value = if check.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::to_value(&self.event).unwrap_or_default()
            };
            for field in check {
                if value.get(field).is_none_or(|v| v.is_null()) {
                    return Err(bad(
                        &format!("event.{field}"),
                        format!(
                            "required for a {} notification ({}; {})",
                            nt.id, nt.name, nt.article
                        ),
                    ));
                }
            }
        } else if !treaty.notification_types.is_empty() {
            let known: Vec<&str> = treaty
                .notification_types
                .iter()
                .map(|t| t.id.as_str())
                .collect();
            return Err(bad(
                "event.kind",
                format!(
                    "`{}` is not a notification type of {} ({})",
                    self.event.kind(),
                    treaty.id,
                    known.join(", ")
                ),
            ));
        }
        if self.sent < self.date && !self.event.announces() {
            return Err(bad(
                "sent",
                format!(
                    "sent {} before the change it reports ({})",
                    self.sent, self.date
                ),
            ));
        }
        match &self.event {
            Event::AccountabilityEntry {
                item,
                item_kind,
                item_type,
                status,
                launcher,
                reentry_vehicles,
                ..
            } => {
                if item.is_empty() {
                    return Err(bad("event.item", "empty identifier".to_string()));
                }
                let Some(kind) = treaty.item_kind(item_kind) else {
                    return Err(bad(
                        "event.item_kind",
                        format!("`{item_kind}` is not an item kind of {}", treaty.id),
                    ));
                };
                if let Some(ty) = treaty.item_type(item_type) {
                    if ty.kind != *item_kind {
                        return Err(bad(
                            "event.item_type",
                            format!("`{item_type}` is a {} type, not {item_kind}", ty.kind),
                        ));
                    }
                }
                if *status == Status::Eliminated {
                    return Err(bad(
                        "event.status",
                        "an item cannot enter accountability already eliminated".to_string(),
                    ));
                }
                let deployed_missile = kind.role == Role::Missile && *status == Status::Deployed;
                if deployed_missile && (launcher.is_none() || reentry_vehicles.is_none()) {
                    return Err(bad(
                        "event.launcher",
                        "a deployed missile needs `launcher` and `reentry_vehicles`".to_string(),
                    ));
                }
                if !deployed_missile && (launcher.is_some() || reentry_vehicles.is_some()) {
                    return Err(bad(
                        "event.launcher",
                        "only a deployed missile has `launcher` and `reentry_vehicles`".to_string(),
                    ));
                }
            }
            Event::DataExchange { counts, facilities } => {
                for (fac, cats) in facilities {
                    if fac.is_empty() {
                        return Err(bad(
                            "event.facilities",
                            "empty facility identifier".to_string(),
                        ));
                    }
                    for cat in cats.keys() {
                        if treaty.data_category(cat).is_none() {
                            let known: Vec<&str> = treaty
                                .data_categories
                                .iter()
                                .map(|c| c.id.as_str())
                                .collect();
                            return Err(bad(
                                &format!("event.facilities.{fac}.{cat}"),
                                format!(
                                    "not a data category of {} ({})",
                                    treaty.id,
                                    if known.is_empty() {
                                        "it defines none".to_string()
                                    } else {
                                        known.join(", ")
                                    }
                                ),
                            ));
                        }
                    }
                }
                for key in counts.keys() {
                    if treaty.limit(key).is_none() {
                        let known: Vec<&str> =
                            treaty.limits.iter().map(|l| l.id.as_str()).collect();
                        return Err(bad(
                            &format!("event.counts.{key}"),
                            format!("not a limit of {} ({})", treaty.id, known.join(", ")),
                        ));
                    }
                }
                for l in &treaty.limits {
                    if l.max.fixed().is_some() && !counts.contains_key(&l.id) {
                        return Err(bad(
                            &format!("event.counts.{}", l.id),
                            "missing".to_string(),
                        ));
                    }
                }
            }
            Event::FacilityDeclared { facility, .. } if facility.is_empty() => {
                return Err(bad("event.facility", "empty identifier".to_string()));
            }
            Event::NewType { item_kind, .. } if treaty.item_kind(item_kind).is_none() => {
                return Err(bad(
                    "event.item_kind",
                    format!("`{item_kind}` is not an item kind of {}", treaty.id),
                ));
            }
            Event::InspectionNotice {
                inspection_type, ..
            } if !treaty.inspections.iter().any(|i| &i.id == inspection_type) => {
                return Err(bad(
                    "event.inspection_type",
                    format!(
                        "`{inspection_type}` is not an inspection type of {}",
                        treaty.id
                    ),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Parses one notification; on error, names the field at fault.
pub fn parse_one(text: &str, at: &str) -> Result<Notification, InputError> {
    match serde_json::from_str::<Notification>(text) {
        Ok(n) => Ok(n),
        Err(fast) => {
            // Parse again, slowly, only to find the path of the field at fault.
            let mut de = serde_json::Deserializer::from_str(text);
            let mut field = match serde_path_to_error::deserialize::<_, Notification>(&mut de) {
                Err(e) => e.path().to_string(),
                Ok(_) => String::from("."),
            };
            if field == "event" {
                if let Some(inner) = locate_in_event(text, &fast.to_string()) {
                    field = format!("event.{inner}");
                }
            }
            Err(InputError::Json {
                at: at.to_string(),
                field,
                message: strip_position(&fast.to_string()),
            })
        }
    }
}

/// The event's variants are internally tagged, so serde reports errors
/// inside them at `event`. Find the field whose value is the literal the
/// error quotes (`integer \`-4\``, `floating point \`4.5\``, `string "x"`).
fn locate_in_event(text: &str, message: &str) -> Option<String> {
    let literal = if let Some(i) = message.find('`') {
        let rest = &message[i + 1..];
        rest[..rest.find('`')?].to_string()
    } else if let Some(i) = message.find("string \"") {
        let rest = &message[i + 7..];
        rest[..rest[1..].find('"')? + 2].to_string()
    } else {
        return None;
    };
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let event = value.get("event")?.as_object()?;
    fn find(prefix: &str, v: &serde_json::Value, literal: &str) -> Option<String> {
        match v {
            serde_json::Value::Object(m) => m.iter().find_map(|(k, v)| {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                find(&p, v, literal)
            }),
            // Compare the JSON rendering (a string keeps its quotes), not the value.
            other => {
                let rendered = serde_json::to_string(other).unwrap_or_default();
                (rendered == literal).then(|| prefix.to_string())
            }
        }
    }
    event
        .iter()
        .filter(|(k, _)| k.as_str() != "kind")
        .find_map(|(k, v)| find(k, v, &literal))
}

fn strip_position(m: &str) -> String {
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m.to_string(),
    }
}

/// Parses JSON Lines (blank lines and lines starting with `#` are skipped),
/// or a JSON array, or a single JSON object. Errors name `file:line`.
pub fn parse_file(file: &str, text: &str) -> Result<Vec<Notification>, InputError> {
    Ok(parse_file_located(file, text)?
        .into_iter()
        .map(|(_, n)| n)
        .collect())
}

/// Like [`parse_file`], keeping where each notification came from
/// (`file:line`, or `file: element i` in an array).
pub fn parse_file_located(
    file: &str,
    text: &str,
) -> Result<Vec<(String, Notification)>, InputError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let values: Vec<serde_json::Value> =
            serde_json::from_str(text).map_err(|e| InputError::Json {
                at: format!("{file}:{}", e.line()),
                field: ".".to_string(),
                message: strip_position(&e.to_string()),
            })?;
        return values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let at = format!("{file}: element {i}");
                parse_one(&v.to_string(), &at).map(|n| (at, n))
            })
            .collect();
    }
    if trimmed.starts_with('{') && !text.trim().contains('\n') || looks_like_one_object(text) {
        let at = format!("{file}:1");
        return Ok(vec![(at.clone(), parse_one(text, &at)?)]);
    }
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let at = format!("{file}:{}", i + 1);
        let n = parse_one(l, &at)?;
        out.push((at, n));
    }
    Ok(out)
}

/// A pretty-printed single object spans many lines; JSON Lines never starts a
/// line with `}`.
fn looks_like_one_object(text: &str) -> bool {
    text.trim_start().starts_with('{') && text.lines().any(|l| l.trim_start().starts_with('}'))
}
