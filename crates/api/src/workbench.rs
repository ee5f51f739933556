//! The workbench's queries: the types of `GET /keys` and of the
//! `/workbench/api/...` answers the analyst's page reads.
//!
//! Everything the page shows from a log comes with what it needs to be
//! checked in the browser: the raw entry bytes (the RFC 8785 canonical JSON
//! the log holds), their log index, and the signed checkpoint they are
//! under, so the page verifies the signature with the pinned key and the
//! inclusion proof it computes from the log's tiles.

use crate::{MirrorEvidence, ReceiptEntry, WitnessStatus};
use accord_regime::quota::QuotaUse;
use accord_registry::Finding;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A log's verifier key in `GET /keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogKey {
    /// The party whose log it is.
    pub party: String,
    /// The log's origin (the key's name).
    pub origin: String,
    /// The C2SP verifier key, `name+hex(key ID)+base64(0x01 || key)`.
    pub vkey: String,
    /// Whether it is this node's own log (else a mirrored peer's, as
    /// configured at this node).
    pub own: bool,
}

/// A witness's cosigner key in `GET /keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WitnessKey {
    /// The key's name.
    pub name: String,
    /// The C2SP verifier key, `name+hex(key ID)+base64(0x04 || key)`.
    pub vkey: String,
    /// Where it is pushed to, for a push target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether it is the witness this node runs itself.
    pub own: bool,
}

/// `GET /keys`: every verifier key this node knows, for clients to pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// The node's party.
    pub party: String,
    /// The treaty id.
    pub treaty: String,
    /// The node's log and each mirrored peer's.
    pub logs: Vec<LogKey>,
    /// The witnesses: the node's own and its push targets' cosigners.
    pub witnesses: Vec<WitnessKey>,
}

/// One log entry as the workbench lists it, with its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRow {
    /// Its index in the party's log.
    pub index: u64,
    /// The notification number (none for a record).
    pub number: Option<u64>,
    /// The kind (a notification kind, or `inspection` for a record).
    pub kind: String,
    /// The date of the change.
    pub date: NaiveDate,
    /// When it was sent.
    pub sent: Option<NaiveDate>,
    /// Its deadline under the treaty.
    pub deadline: Option<NaiveDate>,
    /// Whether it was sent after its deadline.
    pub late: bool,
    /// The facility it names, or where its item was.
    pub facility: Option<String>,
    /// The item it concerns.
    pub item: Option<String>,
    /// A second item it names (a launcher).
    pub other_item: Option<String>,
    /// The log entry, exactly as logged (RFC 8785 canonical JSON).
    pub entry: String,
}

/// How many entries of a kind the log holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KindCount {
    /// The kind.
    pub kind: String,
    /// How many.
    pub count: u64,
}

/// The signed checkpoint a page of entries is to be verified against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogHead {
    /// The party.
    pub party: String,
    /// The log's origin.
    pub origin: String,
    /// The signed note (with the cosignatures the node holds), covering
    /// every entry listed with it.
    pub checkpoint: String,
    /// The checkpoint's size.
    pub tree_size: u64,
}

/// `GET /workbench/api/notifications`: one page of a filtered query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryPage {
    /// The log and its checkpoint.
    pub head: LogHead,
    /// How many entries match the filter.
    pub total: u64,
    /// The first row's position among them.
    pub offset: u64,
    /// The page size asked.
    pub limit: u64,
    /// The rows.
    pub rows: Vec<EntryRow>,
    /// Every kind in the log, with counts (for the filter's choices).
    pub kinds: Vec<KindCount>,
    /// Whether the party's data is synthetic.
    pub synthetic: bool,
}

/// A count of items of one kind, type and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemCount {
    /// The item kind.
    pub kind: String,
    /// The item type.
    pub item_type: String,
    /// The status.
    pub status: String,
    /// How many.
    pub count: u64,
}

/// A data category at a facility: what the items add up to, and what the
/// data exchange declared there, when it declares per facility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryCount {
    /// The category id.
    pub id: String,
    /// What the items there add up to on the data exchange's as-of date
    /// (on the date asked when there is no exchange).
    pub found: u64,
    /// What the data exchange declared for it, if it gives this number.
    pub declared: Option<u64>,
}

/// A category the facilities are compared in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// One facility on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityView {
    /// Its identifier.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// Its items by kind, type and status on the date asked.
    pub items: Vec<ItemCount>,
    /// Items that left it and have not arrived anywhere.
    pub in_transit_from: u64,
    /// Each category on the exchange's date, found against declared.
    pub categories: Vec<CategoryCount>,
    /// Whether a declared number differs from what the items add up to.
    pub mismatch: bool,
}

/// The data exchange a facility view compares against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRef {
    /// Its notification number.
    pub number: u64,
    /// Its as-of date.
    pub date: NaiveDate,
    /// Its log index, when indexed.
    pub index: Option<u64>,
    /// Whether it gives numbers per facility (else totals only).
    pub per_facility: bool,
    /// The totals it declared, by limit id.
    pub totals: BTreeMap<String, u64>,
}

/// `GET /workbench/api/facilities`: every facility on a date against the
/// latest data exchange on or before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Facilities {
    /// The party.
    pub party: String,
    /// The date.
    pub date: NaiveDate,
    /// Whether the data is synthetic.
    pub synthetic: bool,
    /// The treaty's limits: the categories of the totals.
    pub categories: Vec<Category>,
    /// The Protocol's Part Two categories (the treaty's data categories):
    /// the columns of each facility, as a per-facility data exchange
    /// declares them.
    pub facility_categories: Vec<Category>,
    /// The latest data exchange on or before the date.
    pub exchange: Option<ExchangeRef>,
    /// Each facility.
    pub facilities: Vec<FacilityView>,
    /// Each category over all facilities (in transit included), found
    /// against the exchange's total.
    pub totals: Vec<CategoryCount>,
}

/// Where an item was, and in what status, on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemState {
    /// Its kind.
    pub kind: String,
    /// Its type.
    pub item_type: String,
    /// Its status.
    pub status: String,
    /// The facility it is at (none in transit).
    pub facility: Option<String>,
    /// The facility it left, in transit.
    pub in_transit_from: Option<String>,
    /// The launcher a missile is emplaced in.
    pub launcher: Option<String>,
    /// The missile a launcher holds.
    pub payload: Option<String>,
    /// Declared reentry vehicles.
    pub reentry_vehicles: u32,
}

/// `GET /workbench/api/item`: an item's whole history and its state on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPage {
    /// The log and its checkpoint.
    pub head: LogHead,
    /// The item.
    pub id: String,
    /// The date of `state`.
    pub date: NaiveDate,
    /// Its state on the date (none: not in the registry then).
    pub state: Option<ItemState>,
    /// Every entry that names it, oldest first (at most 1,000).
    pub history: Vec<EntryRow>,
    /// How many entries name it.
    pub total: u64,
    /// Whether the data is synthetic.
    pub synthetic: bool,
}

/// An inspection record with where it was logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionEntry {
    /// The record.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
}

/// `GET /workbench/api/inspections`: a party's inspections, made and
/// received, on a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Inspections {
    /// The party.
    pub party: String,
    /// The date.
    pub date: NaiveDate,
    /// Quota use in the treaty year of the date.
    pub quota: QuotaUse,
    /// Every inspection by or of the party on or before the date.
    pub records: Vec<InspectionEntry>,
    /// The findings inspections raise against the party (the regime's rule).
    pub findings: Vec<Finding>,
    /// Draw transcripts (issue 14): none yet.
    #[schema(value_type = Vec<Object>)]
    pub transcripts: Vec<serde_json::Value>,
}

/// A log's size on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SizePoint {
    /// The date.
    pub date: NaiveDate,
    /// The size.
    pub size: u64,
}

/// One log's growth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogSeries {
    /// The party.
    pub party: String,
    /// The origin.
    pub origin: String,
    /// Its size now.
    pub tree_size: u64,
    /// Its size over time: for the node's own log by the date entries were
    /// sent; for a mirror by the date the node received them (receipts).
    pub points: Vec<SizePoint>,
    /// Late deliveries (a mirror's).
    pub late: Vec<Finding>,
    /// Evidence held against the peer.
    pub evidence: Vec<MirrorEvidence>,
}

/// `GET /workbench/api/exchange`: both logs over time, receipts, late
/// deliveries, witnesses and evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeTimeline {
    /// The node's party.
    pub party: String,
    /// The node's own log, then each mirror.
    pub logs: Vec<LogSeries>,
    /// The latest receipts (at most 100), newest first.
    pub receipts: Vec<ReceiptEntry>,
    /// The receipts log's size.
    pub receipts_size: u64,
    /// Each push target, with the size it cosigned.
    pub witnesses: Vec<WitnessStatus>,
}
