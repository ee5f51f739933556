//! Notifications and the published-aggregates CSV.

use crate::fixtures::treaty;
use crate::{canonical_round_trip, invariant, text, Outcome};
use accord_log::canonical_entry;
use accord_registry::history;
use accord_registry::notification::{parse_file_located, parse_one};

/// A notification (one JSON object, as `POST /notifications` and the log
/// carry it) and a notifications file (JSON Lines, an array or one object,
/// as `accord registry add` reads it).
///
/// Invariants: what parses serialises to JSON that parses to the same
/// notification, whose canonical entry parses to it too; an error names a
/// place; a file's located notifications are the file's notifications.
pub fn notification(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let one = match parse_one(t, "fuzz:1") {
        Ok(n) => {
            let json = n.to_json();
            let again = parse_one(&json, "again");
            invariant(again.as_ref().is_ok_and(|m| *m == n), || {
                format!("{json} does not parse back: {again:?}")
            });
            match canonical_entry(&json) {
                Ok(bytes) => {
                    let c = String::from_utf8_lossy(&bytes);
                    let back = parse_one(&c, "canonical");
                    canonical_round_trip(back.as_ref().is_ok_and(|m| *m == n), &json, || {
                        format!("canonical {c} does not parse back: {back:?}")
                    });
                }
                // Only a notification too long for a log entry is refused,
                // or one with an integer beyond 2^53 - 1 (which `validate`
                // refuses too: the node answers 400, never logs it changed).
                Err(accord_log::EntryError::TooLong { .. }) => {}
                Err(accord_log::EntryError::InexactInteger { .. }) => {
                    invariant(n.validate(treaty(), "fuzz:1").is_err(), || {
                        format!("{json}: validated, but the log refuses its integer")
                    });
                }
                Err(e) => invariant(false, || format!("{json} has no canonical entry: {e}")),
            }
            // What a node accepts, the validator must judge without panicking.
            let _ = n.validate(treaty(), "fuzz:1");
            true
        }
        Err(e) => {
            invariant(!e.to_string().is_empty(), || "an empty error".into());
            false
        }
    };
    let file = match parse_file_located("fuzz.jsonl", t) {
        Ok(ns) => {
            for (at, n) in &ns {
                invariant(at.starts_with("fuzz.jsonl"), || {
                    format!("located at `{at}`")
                });
                let _ = n.validate(treaty(), at);
            }
            true
        }
        Err(_) => false,
    };
    Outcome::of(one || file)
}

/// The published aggregates CSV (`accord history --data FILE`), read and
/// checked against the treaty's limits.
///
/// Invariants: rows are unique by party and date and carry a source; the
/// check gives one row per row.
pub fn history_csv(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let Ok(rows) = history::parse("fuzz.csv", t, treaty()) else {
        return Outcome::Rejected;
    };
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        invariant(seen.insert((r.party.clone(), r.date)), || {
            format!("two rows for {} on {}", r.party, r.date)
        });
        invariant(!r.source_url.is_empty(), || {
            format!("a row without a source: {r:?}")
        });
    }
    let checked = history::check(&rows, treaty());
    invariant(checked.len() == rows.len(), || {
        format!("{} rows checked of {}", checked.len(), rows.len())
    });
    Outcome::Accepted
}
