//! One function per parser that takes bytes from outside: the other party,
//! a witness, an operator's file, the network.
//!
//! The cargo-fuzz targets in `fuzz/fuzz_targets/` call these functions and
//! nothing else, and so does the stable test (`tests/corpus.rs`), which runs
//! every file of `fuzz/corpus/<target>/` and every kept crash of
//! `fuzz/regressions/<target>/` through them on the stable toolchain. The
//! fuzzer and the test can therefore never drift apart.
//!
//! A target feeds its input to the parser and, where the parser accepts it,
//! checks what must then hold (a panic is the finding):
//!
//! - no input panics, hangs or allocates without bound;
//! - what parses, serialises to something that parses to the same value
//!   (and, for the strict text formats, to the same bytes);
//! - a canonical entry is exactly the canonical form of what it parses to;
//! - a proof that verifies against the fixed tree is the honest proof;
//! - what a witness cosigns verifies with the witness's key;
//! - an error never quotes a secret (a signer key, a token).
//!
//! Each target returns whether the input was [`Outcome::Accepted`], so the
//! stable test can also assert that the valid seeds stay valid.
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering};

mod draw;
pub mod fixtures;
mod freeze;
mod log;
mod node;
mod regime;
mod registry;
pub mod seeds;
mod treaty;

/// What a target made of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The parser (and the checks after it) accepted the input.
    Accepted,
    /// The parser refused it with an error (the expected fate of most inputs).
    Rejected,
}

impl Outcome {
    /// `Accepted` when `ok`.
    pub fn of(ok: bool) -> Outcome {
        if ok {
            Outcome::Accepted
        } else {
            Outcome::Rejected
        }
    }
}

/// A fuzz target: its name (the file in `fuzz/fuzz_targets/` and the
/// directory in `fuzz/corpus/`), its function, and what it parses.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The name.
    pub name: &'static str,
    /// Runs one input.
    pub run: fn(&[u8]) -> Outcome,
    /// The entry points it drives.
    pub parses: &'static str,
}

/// Every target, in the order `.ci/fuzz` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "notification",
        run: notification,
        parses: "accord_registry::notification::{parse_one, parse_file_located}",
    },
    Target {
        name: "log_entry",
        run: log_entry,
        parses: "accord_regime::parse_entry (canonical and not)",
    },
    Target {
        name: "note",
        run: note,
        parses: "accord_log::Note::parse, Note::verify",
    },
    Target {
        name: "checkpoint",
        run: checkpoint,
        parses: "accord_log::Checkpoint::parse, open_checkpoint with a fixed key",
    },
    Target {
        name: "keys",
        run: keys,
        parses: "accord_log::{Verifier, Signer}::parse, accord_net::Pin::from_str",
    },
    Target {
        name: "proofs",
        run: proofs,
        parses: "{Consistency,Inclusion}ProofJson, decode_hashes, merkle::verify_*",
    },
    Target {
        name: "tile_path",
        run: tile_path,
        parses: "accord_log::tiles::parse",
    },
    Target {
        name: "bundle",
        run: bundle,
        parses: "accord_log::tiles::parse_bundle",
    },
    Target {
        name: "add_checkpoint",
        run: add_checkpoint,
        parses: "accord_node::witness::parse_add_checkpoint, Witness::add_checkpoint",
    },
    Target {
        name: "peer_authorization",
        run: peer_authorization,
        parses: "accord_node::exchange::check_peer_authorization",
    },
    Target {
        name: "treaty",
        run: treaty,
        parses: "accord_treaty::Treaty::from_str and the treaty's date functions",
    },
    Target {
        name: "node_config",
        run: node_config,
        parses: "accord_node::config::Config (toml, Config::load)",
    },
    Target {
        name: "inspection",
        run: inspection,
        parses: "InspectionRecord (accord_api::read), accord_regime::inspection::check",
    },
    Target {
        name: "freeze_public",
        run: freeze_public,
        parses: "accord_freeze::Public (serde), accord_freeze::verify",
    },
    Target {
        name: "freeze_disclosure",
        run: freeze_disclosure,
        parses: "accord_freeze::Disclosure (serde), accord_freeze::verify_disclosure",
    },
    Target {
        name: "draw_transcript",
        run: draw_transcript,
        parses: "accord_draw::parse_transcript, Keys::pin, accord_draw::verify",
    },
    Target {
        name: "api_read",
        run: api_read,
        parses: "accord_api::read::<T> for every response type",
    },
    Target {
        name: "history_csv",
        run: history_csv,
        parses: "accord_registry::history::{parse, check}",
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

pub use draw::draw_transcript;
pub use freeze::{freeze_disclosure, freeze_public};
pub use log::{bundle, checkpoint, keys, note, proofs, tile_path};
pub use node::{add_checkpoint, node_config, peer_authorization};
pub use regime::{api_read, inspection, log_entry};
pub use registry::{history_csv, notification};
pub use treaty::treaty;

/// Stops with the broken invariant: this is what the fuzzer reports.
#[track_caller]
pub(crate) fn invariant(holds: bool, what: impl FnOnce() -> String) {
    if !holds {
        panic!("invariant broken: {}", what());
    }
}

static KNOWN_BUGS_FATAL: AtomicBool = AtomicBool::new(false);

/// Makes the known bugs' invariants (bugs found in other crates, not yet
/// fixed: `fuzz/known/README.md`) panic like any other. By default they
/// are checked and pass silently, so that a fuzzer finding a known bug
/// again keeps fuzzing its target instead of stopping at the first input.
/// The stable test `known_crashes_are_fixed` turns this on.
pub fn make_known_bugs_fatal() {
    KNOWN_BUGS_FATAL.store(true, Ordering::Relaxed);
}

/// An invariant a known bug breaks: see [`make_known_bugs_fatal`]. None
/// is known now (`fuzz/known/README.md`); kept for the next one.
#[track_caller]
#[allow(dead_code)]
pub(crate) fn known_bug(holds: bool, what: impl FnOnce() -> String) {
    if !holds && KNOWN_BUGS_FATAL.load(Ordering::Relaxed) {
        panic!("known bug: {}", what());
    }
}

/// That an entry's canonical form parses back to it (integers beyond
/// `2^53 - 1`, which the canonical form would round, are refused by
/// `canonical_entry`: found by these targets, fixed, in fuzz/regressions/).
#[track_caller]
pub(crate) fn canonical_round_trip(holds: bool, _json: &str, what: impl FnOnce() -> String) {
    invariant(holds, what);
}

/// The input as text, if it is UTF-8 (every text parser takes `&str`; the
/// HTTP handlers refuse other bodies before parsing).
pub(crate) fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}
