//! Log entries as a mirror reads them, inspection records as a node takes
//! them, and every typed response a client reads.

use crate::fixtures::{treaty, with_registry};
use crate::{canonical_round_trip, invariant, Outcome};
use accord_inspect::record::{InspectionRecord, RECORD_KIND};
use accord_log::EntryError;
use accord_regime::entry::inspection_json;
use accord_regime::{inspection, parse_entry, LogEntry};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The party whose log the entries are read as.
const PARTY: &str = "US";

/// An entry of a party's log as a mirror reads it from a peer's bundle,
/// strictly (canonical bytes required) and not.
///
/// Invariants: a strict parse is a loose parse; an entry's canonical bytes
/// parse strictly to the same entry; the strict parse accepts exactly the
/// canonical bytes.
pub fn log_entry(data: &[u8]) -> Outcome {
    let loose = parse_entry(data, PARTY, "fuzz entry 0", false);
    let strict = parse_entry(data, PARTY, "fuzz entry 0", true);
    if let Ok(s) = &strict {
        invariant(loose.as_ref().is_ok_and(|l| l == s), || {
            format!("strict {s:?} but loose {loose:?}")
        });
    }
    let Ok(entry) = &loose else {
        return Outcome::Rejected;
    };
    match entry.to_bytes() {
        Ok(bytes) => {
            let again = parse_entry(&bytes, PARTY, "canonical", true);
            let json = String::from_utf8_lossy(data);
            canonical_round_trip(again.as_ref().is_ok_and(|a| a == entry), &json, || {
                format!(
                    "the canonical form {} parses to {again:?}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            invariant(strict.is_ok() == (bytes == data), || {
                format!("strict {strict:?}, canonical form equal: {}", bytes == data)
            });
        }
        // Input over the entry limit parses but can never be logged; nor
        // an integer beyond 2^53 - 1 (refused, never changed).
        Err(EntryError::TooLong { .. } | EntryError::InexactInteger { .. }) => {}
        Err(e) => invariant(false, || format!("{entry:?} has no canonical form: {e}")),
    }
    Outcome::Accepted
}

/// An inspection record as `POST /inspections` reads it, checked against
/// the fixed registry of the United States as `accord inspect record` and
/// the node check it, then its findings and quota use.
///
/// Invariants: the record serialises to JSON that reads back to it, and to
/// a log entry that parses back to it; what the check accepts is an
/// inspection of the registry's party.
pub fn inspection(data: &[u8]) -> Outcome {
    let Ok(rec) = accord_api::read::<InspectionRecord>("inspection record", data) else {
        return Outcome::Rejected;
    };
    let json = inspection_json(&rec);
    let again = accord_api::read::<InspectionRecord>("again", json.as_bytes());
    invariant(again.as_ref() == Ok(&rec), || {
        format!("{json} reads back as {again:?}")
    });
    if rec.record == RECORD_KIND {
        let entry = LogEntry::Inspection(Box::new(rec.clone()));
        if let Ok(bytes) = entry.to_bytes() {
            for party in [&rec.inspecting_party, &rec.inspected_party] {
                let e = parse_entry(&bytes, party, "inspection", true);
                canonical_round_trip(e.as_ref().is_ok_and(|e| *e == entry), &json, || {
                    format!("logged as {party}'s, it parses to {e:?}")
                });
            }
        }
    }
    let checked = with_registry(|store| inspection::check(treaty(), store, &[], &rec));
    if checked.is_err() {
        return Outcome::Rejected;
    }
    invariant(rec.inspected_party == "US", || {
        format!(
            "an inspection of {} checked against the US registry",
            rec.inspected_party
        )
    });
    let all = [rec.clone()];
    let _ = accord_regime::compliance::inspection_findings(treaty(), "US", &all, rec.date);
    let parties = vec!["US".to_string(), "RU".to_string()];
    let _ = accord_regime::quota::quota_use(treaty(), &parties, &all, rec.date);
    Outcome::Accepted
}

/// Reads `data` as `T`; if it reads, what it serialises to must read too
/// (and, with `eq`, to the same value).
fn read_one<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(
    what: &str,
    data: &[u8],
    eq: bool,
) -> bool {
    let Ok(v) = accord_api::read::<T>(what, data) else {
        return false;
    };
    let json = serde_json::to_vec(&v);
    invariant(json.is_ok(), || format!("{what}: {v:?} does not serialise"));
    if let Ok(json) = json {
        let again = accord_api::read::<T>(what, &json);
        invariant(again.is_ok(), || {
            format!(
                "{what}: {} does not read back: {again:?}",
                String::from_utf8_lossy(&json)
            )
        });
        if eq {
            invariant(again.as_ref().is_ok_and(|a| *a == v), || {
                format!("{what}: reads back as {again:?}, not {v:?}")
            });
        }
    }
    true
}

/// Every response body a client reads from a node or a witness
/// (`accord_api::read`, strict: unknown and missing fields are errors).
///
/// Invariants: what reads, serialises to JSON that reads back to the same
/// value (for `Feed`, whose entries are any JSON, numbers included, that
/// it reads back at all).
pub fn api_read(data: &[u8]) -> Outcome {
    use accord_api::*;
    let ok = [
        read_one::<Status>("GET /status", data, true),
        read_one::<Exchange>("GET /exchange", data, true),
        read_one::<Feed>("GET /notifications", data, false),
        read_one::<Receipts>("GET /receipts", data, true),
        read_one::<WitnessNodeStatus>("GET /status (witness)", data, true),
        read_one::<Accepted>("POST /notifications", data, true),
        read_one::<InspectionRecorded>("POST /inspections", data, true),
        read_one::<ErrorBody>("an error", data, true),
        read_one::<History>("GET /history", data, false),
        read_one::<ConsistencyProofJson>("GET /proof/consistency", data, true),
        read_one::<InclusionProofJson>("GET /proof/inclusion", data, true),
    ];
    Outcome::of(ok.iter().any(|&b| b))
}
