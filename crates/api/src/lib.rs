//! The typed HTTP interface of accord's nodes.
//!
//! Every request and response body of the party node and the witness node
//! is a type here, serialised by the node and deserialised by its clients
//! (`accord status`, `accord notify`, the exchange, the benchmarks). A
//! client reads strictly ([`read`]): a field it does not know, or one that
//! is missing, is an error naming the field, never a silently empty
//! answer. The OpenAPI documents are generated from these types and the
//! node's handlers (`accord_node::openapi`).
#![forbid(unsafe_code)]

use accord_log::witness::Evidence;
use accord_regime::quota::QuotaUse;
use accord_regime::Receipt;
use accord_registry::Report;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod draws;
pub mod workbench;

pub use accord_log::witness::{ConsistencyProofJson, InclusionProofJson};
pub use accord_regime::history::History;

/// Every error answer, at every status: `{"error": {"status", "message", "field"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's status, plain words, and the field at fault when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// The HTTP status code.
    pub status: u16,
    /// What is wrong.
    pub message: String,
    /// The field at fault (a JSON path into the request body, or a query
    /// parameter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `201` to `POST /notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    /// The notification numbers accepted.
    pub numbers: Vec<u64>,
    /// Their log indexes.
    pub indexes: Vec<u64>,
    /// The log's size now.
    pub tree_size: u64,
}

/// `201` to `POST /inspections`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionRecorded {
    /// The inspection id.
    pub recorded: String,
    /// Who was inspected.
    pub inspected_party: String,
    /// Its index in this node's log.
    pub index: u64,
}

/// How a link to a peer stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkStatus {
    /// Last successful round (Unix seconds).
    pub last_ok: Option<u64>,
    /// The last error, if the last round failed.
    pub last_error: Option<String>,
    /// Consecutive failures.
    pub failures: u32,
    /// Milliseconds until the next attempt after a failure.
    pub retry_in_ms: u64,
}

/// How pushing checkpoints to a target stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushStatus {
    /// The size the target acknowledged last.
    pub acknowledged: u64,
    /// The cosignature line it returned for that size (verified when its
    /// key is known).
    pub cosignature: Option<String>,
    /// Whether the cosignature verified with a configured key.
    pub verified: bool,
    /// When (Unix seconds).
    pub last_ok: Option<u64>,
    /// The last error.
    pub last_error: Option<String>,
    /// Consecutive failures.
    pub failures: u32,
}

/// What a pull found wrong with a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// The peer signed a checkpoint that does not extend one it signed before.
    SplitView,
    /// The entries it served do not make the tree it signed.
    BadEntries,
    /// It logged something that is not a valid entry of its own.
    InvalidEntry,
}

impl EvidenceKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::SplitView => "split_view",
            EvidenceKind::BadEntries => "bad_entries",
            EvidenceKind::InvalidEntry => "invalid_entry",
        }
    }
}

impl std::fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Evidence kept against a peer (`peers/PARTY/evidence.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MirrorEvidence {
    /// What was found.
    pub kind: EvidenceKind,
    /// The peer.
    pub party: String,
    /// When it was found (Unix seconds).
    pub found_at: u64,
    /// Plain words.
    pub reason: String,
    /// For a split view: both signed notes and the failing proof, checkable
    /// with `accord witness evidence verify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// For a bad or invalid entry: its index in the peer's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The peer's signed checkpoint it came with.
    pub checkpoint: String,
}

/// A mirrored peer in `GET /status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerStatus {
    /// The peer's party.
    pub party: String,
    /// Its log's origin.
    pub origin: String,
    /// Its node.
    pub url: String,
    /// The mirror's size.
    pub tree_size: u64,
    /// The peer's latest checkpoint the mirror verified.
    pub checkpoint: Option<String>,
    /// The pull loop's state.
    pub link: LinkStatus,
    /// Whether evidence is held against the peer.
    pub flagged: bool,
    /// The evidence.
    pub evidence: Vec<MirrorEvidence>,
    /// Notifications that reached this node after their deadline.
    pub late_deliveries: u64,
    /// The peer's compliance as this node sees it.
    pub compliance: Report,
}

/// A push target (a peer's or a neutral witness's `add-checkpoint`) in `GET /status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WitnessStatus {
    /// Its URL.
    pub url: String,
    /// The cosigner's key name, when configured.
    pub cosigner: Option<String>,
    /// The size it acknowledged last.
    pub acknowledged: u64,
    /// Its cosignature line for that size.
    pub cosignature: Option<String>,
    /// Whether the cosignature verified.
    pub verified: bool,
    /// Last success (Unix seconds).
    pub last_ok: Option<u64>,
    /// Last error.
    pub last_error: Option<String>,
    /// Consecutive failures.
    pub failures: u32,
}

/// The receipts log's head in `GET /status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptsHead {
    /// Its size.
    pub tree_size: u64,
    /// Its latest signed checkpoint.
    pub checkpoint: Option<String>,
}

/// `GET /status` of a party's node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Status {
    /// The node's party.
    pub party: String,
    /// The treaty id.
    pub treaty: String,
    /// The date of the compliance reports.
    pub date: NaiveDate,
    /// The node's log origin.
    pub origin: String,
    /// The node's log size.
    pub tree_size: u64,
    /// Its latest signed checkpoint.
    pub checkpoint: Option<String>,
    /// The verifier key of the witness this node runs, if any.
    pub witness: Option<String>,
    /// The node's own party's compliance.
    pub compliance: Report,
    /// Each mirrored peer.
    pub peers: Vec<PeerStatus>,
    /// Each push target.
    pub witnesses: Vec<WitnessStatus>,
    /// The receipts log, when the node exchanges.
    pub receipts: Option<ReceiptsHead>,
    /// Inspection quotas in the treaty year of `date`.
    pub quota: QuotaUse,
}

/// A peer in `GET /exchange`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangePeer {
    /// The peer's party.
    pub party: String,
    /// The mirror's size.
    pub tree_size: u64,
    /// Whether evidence is held against it.
    pub flagged: bool,
    /// Late deliveries seen.
    pub late_deliveries: u64,
    /// The pull loop's state.
    pub link: LinkStatus,
}

/// A push target in `GET /exchange`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeTarget {
    /// Its URL.
    pub url: String,
    /// The size it acknowledged.
    pub acknowledged: u64,
    /// Whether its cosignature verified.
    pub verified: bool,
    /// Its last error.
    pub last_error: Option<String>,
}

/// `GET /exchange`: the exchange alone, cheaply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// The node's party.
    pub party: String,
    /// The node's log size.
    pub tree_size: u64,
    /// Each peer.
    pub peers: Vec<ExchangePeer>,
    /// Each push target.
    pub witnesses: Vec<ExchangeTarget>,
}

/// One entry of `GET /notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedEntry {
    /// Its log index.
    pub index: u64,
    /// The entry: a notification, or a record the party logged.
    #[schema(value_type = Object)]
    pub notification: serde_json::Value,
}

/// `GET /notifications`: the latest entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Feed {
    /// Whose log.
    pub party: String,
    /// Its size.
    pub tree_size: u64,
    /// The entries.
    pub entries: Vec<FeedEntry>,
}

/// One receipt in `GET /receipts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptEntry {
    /// Its index in the receipts log.
    pub index: u64,
    /// The receipt.
    pub receipt: Receipt,
}

/// `GET /receipts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipts {
    /// The receipts log's origin.
    pub origin: String,
    /// Its size.
    pub tree_size: u64,
    /// Its latest signed checkpoint.
    pub checkpoint: Option<String>,
    /// The latest receipts, newest first.
    pub receipts: Vec<ReceiptEntry>,
}

/// A followed log in a witness node's `GET /status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WitnessedLog {
    /// The log's origin.
    pub origin: String,
    /// The size last cosigned.
    pub size: u64,
    /// That checkpoint with the cosignature.
    pub checkpoint: Option<String>,
}

/// `GET /status` of a witness node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WitnessNodeStatus {
    /// Always `witness`.
    pub mode: String,
    /// The witness's cosigner key.
    pub witness: String,
    /// Each followed log.
    pub logs: Vec<WitnessedLog>,
    /// Evidence of split views kept.
    pub evidence: Vec<Evidence>,
}

/// A body a client could not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: field `{field}`: {message}")]
pub struct ReadError {
    /// What was being read (e.g. `GET /status`).
    pub what: String,
    /// The field at fault (a JSON path; `.` for the whole body).
    pub field: String,
    /// What serde said.
    pub message: String,
}

/// Reads a JSON body strictly into `T`, naming the field at fault.
pub fn read<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ReadError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // An unknown or missing field names itself in the message.
        let field = match (path.as_str(), named_field(&message)) {
            (".", Some(f)) => f,
            (p, Some(f)) if !p.ends_with(&f) => format!("{p}.{f}"),
            (p, _) => p.to_string(),
        };
        ReadError {
            what: what.to_string(),
            field,
            message,
        }
    })
}

/// The field a serde message names (`unknown field `x``, `missing field `x``).
fn named_field(message: &str) -> Option<String> {
    ["unknown field `", "missing field `"].iter().find_map(|p| {
        message
            .split_once(p)
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(f, _)| f.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_field_is_an_error_naming_it() {
        let body = br#"{"party":"US","tree_size":3,"peers":[],"witnesses":[],"extra":1}"#;
        let e = read::<Exchange>("GET /exchange", body).expect_err("unknown field");
        assert_eq!(e.field, "extra");
        let body = br#"{"party":"US","tree_size":3,"peers":[]}"#;
        let e = read::<Exchange>("GET /exchange", body).expect_err("missing field");
        assert_eq!(e.field, "witnesses");
        let body = br#"{"party":"US","tree_size":3,"peers":[{"party":"RU","tree_size":1,"flagged":false,"late_deliveries":0,"link":{"last_ok":null,"last_error":null,"failures":0,"retry_in_ms":0,"oops":2}}],"witnesses":[]}"#;
        let e = read::<Exchange>("GET /exchange", body).expect_err("nested unknown");
        assert_eq!(e.field, "peers[0].link.oops");
    }
}
