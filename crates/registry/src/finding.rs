//! Findings: what a compliance check reports.

use crate::notification::Notification;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a finding. Stable names: they appear in JSON.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// A limit in force is exceeded.
    LimitExceeded,
    /// A notification was sent after its deadline.
    LateNotification,
    /// A scheduled data exchange is past due and was never sent.
    MissingDataExchange,
    /// A notification the treaty requires to follow another (an arrival
    /// after a departure) was not made within its period.
    MissingNotification,
    /// A data exchange's numbers differ from the item-level state on its date.
    DataExchangeMismatch,
    /// A notification names an item that never entered accountability.
    UnknownItem,
    /// A notification names a facility that was never declared.
    UnknownFacility,
    /// An identifier entered accountability twice.
    DuplicateIdentifier,
    /// An eliminated item (or launcher) is deployed.
    DeployingEliminated,
    /// A missile declares more reentry vehicles than its type carries.
    TooManyReentryVehicles,
    /// An item is reported in two places (or moves from where it is not).
    ItemInTwoPlaces,
    /// An item's type is not one the treaty lists for that kind and party.
    UnknownItemType,
    /// Any other impossible change of state.
    InvalidTransition,
    /// More inspections of a type in a treaty year than the quota allows.
    InspectionQuotaExceeded,
    /// An inspection counted more (or fewer) reentry vehicles than declared.
    ReentryVehicleDiscrepancy,
    /// An inspection found items the party never declared.
    UndeclaredItems,
    /// An inspection found an item in another status than declared.
    StatusDiscrepancy,
    /// A notification reached the other party's node after its deadline
    /// (raised by the receiving node, from its signed receipts).
    LateDelivery,
    /// A draw's reveal was cosigned after its deadline (against the
    /// checking party; `accord-draw`).
    RevealLate,
    /// A draw's reveal was not made by its deadline (against the checking
    /// party).
    RevealWithheld,
    /// A draw's population was not sealed by its deadline (against the
    /// checked party).
    PopulationWithheld,
    /// A drawn site was refused (against the checked party).
    DrawnSiteRefused,
}

impl FindingKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::LimitExceeded => "limit_exceeded",
            FindingKind::LateNotification => "late_notification",
            FindingKind::MissingDataExchange => "missing_data_exchange",
            FindingKind::MissingNotification => "missing_notification",
            FindingKind::DataExchangeMismatch => "data_exchange_mismatch",
            FindingKind::UnknownItem => "unknown_item",
            FindingKind::UnknownFacility => "unknown_facility",
            FindingKind::DuplicateIdentifier => "duplicate_identifier",
            FindingKind::DeployingEliminated => "deploying_eliminated",
            FindingKind::TooManyReentryVehicles => "too_many_reentry_vehicles",
            FindingKind::ItemInTwoPlaces => "item_in_two_places",
            FindingKind::UnknownItemType => "unknown_item_type",
            FindingKind::InvalidTransition => "invalid_transition",
            FindingKind::InspectionQuotaExceeded => "inspection_quota_exceeded",
            FindingKind::ReentryVehicleDiscrepancy => "reentry_vehicle_discrepancy",
            FindingKind::UndeclaredItems => "undeclared_items",
            FindingKind::StatusDiscrepancy => "status_discrepancy",
            FindingKind::LateDelivery => "late_delivery",
            FindingKind::RevealLate => "reveal_late",
            FindingKind::RevealWithheld => "reveal_withheld",
            FindingKind::PopulationWithheld => "population_withheld",
            FindingKind::DrawnSiteRefused => "drawn_site_refused",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A data-exchange number that differs from the item-level state: a total
/// (by limit) or, in a per-facility exchange, one category at one facility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Difference {
    /// The limit id (empty for a facility difference, and then not serialized).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub limit: String,
    /// The facility, for a facility difference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility: Option<String>,
    /// The Part Two data category, for a facility difference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// What the data exchange declared.
    pub declared: u64,
    /// What the items add up to on that date.
    pub item_level: u64,
}

/// One finding, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// Plain words, with the numbers.
    pub message: String,
    /// The date it concerns.
    pub date: NaiveDate,
    /// The notification that raised it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<u64>,
    /// The item concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// For a data-exchange mismatch: each difference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
}

impl Finding {
    /// A finding raised by a notification.
    pub fn about(kind: FindingKind, n: &Notification, message: String) -> Finding {
        Finding {
            kind,
            message: format!("notification {}: {message}", n.number),
            date: n.date,
            notification: Some(n.number),
            item: n.event.item().map(str::to_string),
            differences: vec![],
        }
    }
}
