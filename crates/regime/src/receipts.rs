//! Receipts: what a node logs for each batch of a peer's log it mirrors, in
//! a signed log of its own (`receipts.sqlite`), and the late deliveries they
//! record.
//!
//! A notification that reaches the receiving node after its treaty
//! deadline is a `late_delivery` finding against the sender. The receipt
//! says which numbers were late and on what date they arrived, so the
//! findings are rebuilt from the signed receipts alone, the same way by the
//! node at start, by `/status`, and by `accord check` on the node's data
//! directory.

use crate::error::RegimeError;
use accord_log::{canonical_entry, LogStore, Signer};
use accord_registry::{compliance::deadline, Finding, FindingKind, Notification};
use accord_treaty::Treaty;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The file name of a node's receipts log in its data directory.
pub const RECEIPTS_FILE: &str = "receipts.sqlite";

/// A receipt: what the node logs for each batch it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always `receipt`.
    pub kind: String,
    /// The peer's log.
    pub origin: String,
    /// First index received.
    pub first: u64,
    /// One past the last.
    pub end: u64,
    /// The mirror's root at `end` (hex).
    pub root: String,
    /// The peer's signed size it was checked against.
    pub checkpoint_size: u64,
    /// The date received, on the node's clock.
    pub received: NaiveDate,
    /// When, in Unix seconds (system clock).
    pub received_unix: u64,
    /// Numbers delivered after their deadline.
    pub late: Vec<u64>,
    /// Logged at start for entries mirrored just before the node stopped
    /// (their `received` is the restart's date, an upper bound).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovered: bool,
}

/// The finding for a notification delivered after its deadline.
pub fn late_finding(treaty: &Treaty, n: &Notification, received: NaiveDate) -> Finding {
    let due = deadline(treaty, n);
    Finding {
        kind: FindingKind::LateDelivery,
        message: format!(
            "{} notification {} ({}) was due by {due} and reached this node on {received}",
            n.party,
            n.number,
            n.event.kind()
        ),
        date: received,
        notification: Some(n.number),
        item: None,
        differences: vec![],
    }
}

/// Whether a notification received on `received` is late.
pub fn is_late(treaty: &Treaty, n: &Notification, received: NaiveDate) -> bool {
    received > deadline(treaty, n)
}

/// Every receipt in a receipts log, in order.
pub fn read(log: &LogStore) -> Result<Vec<Receipt>, RegimeError> {
    let mut all = vec![];
    let mut broken = None;
    log.for_each_entry(|i, bytes| match serde_json::from_slice::<Receipt>(bytes) {
        Ok(r) => {
            all.push(r);
            true
        }
        Err(e) => {
            broken = Some(RegimeError::Receipt {
                path: log.path().display().to_string(),
                index: i,
                message: e.to_string(),
            });
            false
        }
    })?;
    match broken {
        Some(e) => Err(e),
        None => Ok(all),
    }
}

/// The late deliveries of the log `origin` that `receipts` record, for the
/// mirrored notifications `notes`.
pub fn late_deliveries(
    treaty: &Treaty,
    receipts: &[Receipt],
    origin: &str,
    notes: &[Notification],
) -> Vec<Finding> {
    let by_number: HashMap<u64, &Notification> = notes.iter().map(|n| (n.number, n)).collect();
    receipts
        .iter()
        .filter(|r| r.origin == origin)
        .flat_map(|r| {
            r.late
                .iter()
                .filter_map(|k| by_number.get(k))
                .map(|n| late_finding(treaty, n, r.received))
        })
        .collect()
}

/// The first index of `origin`'s log not covered by a receipt.
pub fn covered(receipts: &[Receipt], origin: &str) -> u64 {
    receipts
        .iter()
        .filter(|r| r.origin == origin)
        .map(|r| r.end)
        .max()
        .unwrap_or(0)
}

/// The bytes of the late numbers one receipt carries at most: with the
/// rest of a receipt (origin, root, dates: under 1 KiB) it stays well under
/// a log entry's 65,535 canonical bytes.
const LATE_BYTES_PER_RECEIPT: usize = 60_000;

/// Splits a receipt whose late numbers would not fit in one log entry into
/// receipts of the same range, each naming some of them (in order): readers
/// take the union ([`late_deliveries`] does), and [`covered`] the range.
pub fn split(r: &Receipt) -> Vec<Receipt> {
    let mut parts = vec![];
    let mut late = vec![];
    let mut bytes = 0;
    for &n in &r.late {
        // The number's digits and its comma.
        let len = n.checked_ilog10().unwrap_or(0) as usize + 2;
        if bytes + len > LATE_BYTES_PER_RECEIPT && !late.is_empty() {
            parts.push(Receipt {
                late: std::mem::take(&mut late),
                ..r.clone()
            });
            bytes = 0;
        }
        late.push(n);
        bytes += len;
    }
    parts.push(Receipt { late, ..r.clone() });
    parts
}

/// Appends a receipt to the receipts log (canonical JSON, durable; as
/// several receipts of the same range when its late numbers would not fit
/// in one entry: [`split`]) and signs the log's new checkpoint.
pub fn append(log: &mut LogStore, signer: &Signer, r: &Receipt) -> Result<(), RegimeError> {
    let entries = split(r)
        .iter()
        .map(|part| {
            // Plain data with string keys: serialising cannot fail.
            let json = serde_json::to_string(part).unwrap_or_default();
            canonical_entry(&json).map_err(|problem| RegimeError::UnloggableReceipt {
                origin: r.origin.clone(),
                first: r.first,
                problem,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    log.append(&entries)?;
    log.checkpoint(signer)?;
    Ok(())
}
