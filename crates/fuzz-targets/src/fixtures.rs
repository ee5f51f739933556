//! The fixed world the targets check their inputs against: keys made from
//! fixed seeds, a tree of fixed entries, the New START treaty, a small
//! registry and two freeze declarations made with a seeded generator.
//!
//! Everything here is deterministic, so a seed written to the corpus by
//! `examples/write_corpus.rs` (a signed checkpoint, a valid proof, a freeze
//! disclosure) is valid again in every later run of the fuzzer and of the
//! stable test.

use accord_freeze::{declare, disclose, verify, verify_disclosure, Category, Declaration};
use accord_freeze::{DeclareInput, Disclosure, Public, Record, Secret, Selector};
use accord_freeze::{VerifiedDeclaration, VerifiedDisclosure};
use accord_log::merkle::{self, Hash, MemoryTree};
use accord_log::{Checkpoint, Signer};
use accord_registry::{Meta, Notification, Store};
use accord_treaty::Treaty;
use rand::SeedableRng;
use std::cell::RefCell;
use std::fmt::Display;
use std::sync::OnceLock;

/// The origin of the fixed log: the United States' log under New START as
/// extended in 2021 (the name of its key, as a checkpoint's signer must be).
pub const LOG_ORIGIN: &str = "accord/new-start-2021/US";
/// The origin of the fixed peer's log.
pub const PEER_ORIGIN: &str = "accord/new-start-2021/RU";
/// The fixed witness's key name.
pub const WITNESS_NAME: &str = "witness.fuzz.invalid";
/// The treaty every target reads against.
pub const TREATY: &str = "new-start-2021";
/// Leaves in the fixed tree.
pub const TREE_SIZE: u64 = 64;
/// The size the fixed witness has already cosigned when a target starts.
pub const WITNESSED_SIZE: u64 = 4;
/// The nonce of the fixed peer's generated reads.
pub const PEER_NONCE: &str = "0123456789abcdef0123456789abcdef";
/// The witness's clock (Unix seconds) in the targets.
pub const NOW: u64 = 1_614_556_800;

/// A fixture that cannot be built is a bug in this crate: stop loudly.
pub(crate) fn fixture<T, E: Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("fixture {what}: {e}"),
    }
}

fn signer(cell: &'static OnceLock<Signer>, name: &str, seed: u8) -> &'static Signer {
    cell.get_or_init(|| fixture(Signer::from_seed(name, [seed; 32]), name))
}

/// The fixed log's signer (its key is `LOG_ORIGIN`).
pub fn log_signer() -> &'static Signer {
    static S: OnceLock<Signer> = OnceLock::new();
    signer(&S, LOG_ORIGIN, 0x11)
}

/// The fixed witness's signer (it cosigns with type 0x04).
pub fn witness_signer() -> &'static Signer {
    static S: OnceLock<Signer> = OnceLock::new();
    signer(&S, WITNESS_NAME, 0x22)
}

/// The fixed peer's signer (signs `Accord-Peer` reads).
pub fn peer_signer() -> &'static Signer {
    static S: OnceLock<Signer> = OnceLock::new();
    signer(&S, PEER_ORIGIN, 0x33)
}

/// What the fixed peer's reads are checked for: a read of the fixed log's
/// entries at its node (TLS key pinned as 32 bytes of 7s).
pub fn peer_target() -> accord_node::exchange::PeerTarget<'static> {
    static KEY: OnceLock<String> = OnceLock::new();
    accord_node::exchange::PeerTarget {
        origin: LOG_ORIGIN,
        key: KEY.get_or_init(|| accord_net::Pin::from_bytes([7; 32]).to_string()),
        host: "us.node.invalid:7101",
        method: "GET",
        path: "/tile/entries/000.p/4",
    }
}

/// Entry `i` of the fixed tree: a short canonical JSON object.
pub fn entry(i: u64) -> Vec<u8> {
    format!("{{\"entry\":{i}}}").into_bytes()
}

/// The fixed tree of [`TREE_SIZE`] entries.
pub fn tree() -> &'static MemoryTree {
    static T: OnceLock<MemoryTree> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = MemoryTree::new();
        for i in 0..TREE_SIZE {
            t.append(&entry(i));
        }
        t
    })
}

/// The fixed tree's root at `size` (at most [`TREE_SIZE`]).
pub fn root(size: u64) -> Hash {
    fixture(merkle::root(tree(), size), "root")
}

/// The fixed log's signed checkpoint at `size`.
pub fn signed_checkpoint(size: u64) -> String {
    let cp = Checkpoint {
        origin: LOG_ORIGIN.to_string(),
        size,
        hash: root(size),
        extensions: vec![],
    };
    fixture(log_signer().sign(&cp.to_text()), "checkpoint")
}

/// New START as extended in 2021.
pub fn treaty() -> &'static Treaty {
    static T: OnceLock<Treaty> = OnceLock::new();
    T.get_or_init(|| fixture(Treaty::load(TREATY), TREATY))
}

/// The repository's example notifications (`examples/notification.json`):
/// a United States ICBM base, a launcher and a missile, deployed.
pub const EXAMPLE_NOTIFICATIONS: &str = include_str!("../../../examples/notification.json");

/// [`EXAMPLE_NOTIFICATIONS`], parsed, with where each came from.
pub fn example_notifications() -> &'static [(String, Notification)] {
    static N: OnceLock<Vec<(String, Notification)>> = OnceLock::new();
    N.get_or_init(|| {
        fixture(
            accord_registry::notification::parse_file_located(
                "examples/notification.json",
                EXAMPLE_NOTIFICATIONS,
            ),
            "example notifications",
        )
    })
}

thread_local! {
    // The directory lives as long as the store (dropped at thread exit; a
    // fuzzer's main thread leaves it in $TMPDIR, which `.ci/fuzz` sets to a
    // directory it removes).
    static REGISTRY: RefCell<Option<(tempfile::TempDir, Store)>> = const { RefCell::new(None) };
}

/// Runs `f` on a registry of the United States holding the example
/// notifications (one per thread, made on first use, never written after).
pub fn with_registry<R>(f: impl FnOnce(&Store) -> R) -> R {
    REGISTRY.with(|cell| {
        let mut slot = cell.borrow_mut();
        let (_, store) = slot.get_or_insert_with(|| {
            let dir = fixture(tempfile::tempdir(), "registry directory");
            let meta = Meta {
                party: "US".into(),
                treaty: TREATY.into(),
                synthetic: false,
                provenance: "accord-fuzz-targets fixture: examples/notification.json".into(),
            };
            let mut store = fixture(Store::create(dir.path(), meta), "registry");
            fixture(
                store.append(treaty(), example_notifications()),
                "registry append",
            );
            (dir, store)
        });
        f(store)
    })
}

/// Two declarations of a freeze and disclosures of the first.
#[derive(Debug)]
pub struct Freeze {
    /// The baseline: 3 warheads at site A, 2 at B, cap 10.
    pub baseline: Declaration,
    /// A freeze against it: 2 at A, 2 at B, cap 10.
    pub frozen: Declaration,
    /// Disclosures of the baseline: site A, a category at site B, a
    /// category, one identifier.
    pub disclosures: Vec<Disclosure>,
    /// The baseline, verified.
    pub verified_baseline: VerifiedDeclaration,
    /// The freeze, verified against the baseline.
    pub verified_frozen: VerifiedDeclaration,
    /// The disclosures, each verified with the ones before it.
    pub verified_disclosures: Vec<VerifiedDisclosure>,
}

fn records(sites: &[(&str, usize)]) -> Vec<Record> {
    let cats = [
        Category::DeployedStrategic,
        Category::NonDeployedStrategic,
        Category::NonStrategic,
        Category::AwaitingDismantlement,
    ];
    let mut out = vec![];
    for (s, n) in sites {
        for i in 0..*n {
            out.push(Record {
                id: format!("{s}-{i:04}"),
                warhead_type: "W76-1".into(),
                category: cats[i % cats.len()],
                site: (*s).into(),
            });
        }
    }
    out
}

fn input<'a>(
    recs: Vec<Record>,
    checkpoint: String,
    baseline: Option<(&'a Public, &'a Secret)>,
) -> DeclareInput<'a> {
    DeclareInput {
        party: "US",
        treaty: "freeze-2020",
        date: "2021-02-05",
        records: recs,
        cap: 10,
        padded_size: None,
        checkpoint: Some(checkpoint),
        baseline,
    }
}

/// The fixed freeze (made once per process: a few range proofs).
pub fn freeze() -> &'static Freeze {
    static F: OnceLock<Freeze> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2021);
        let baseline = fixture(
            declare(
                input(records(&[("A", 3), ("B", 2)]), signed_checkpoint(4), None),
                &mut rng,
            ),
            "baseline declaration",
        );
        let frozen = fixture(
            declare(
                input(
                    records(&[("A", 2), ("B", 2)]),
                    signed_checkpoint(8),
                    Some((&baseline.public, &baseline.secret)),
                ),
                &mut rng,
            ),
            "frozen declaration",
        );
        let disclosures: Vec<Disclosure> = [
            Selector::Site("A".into()),
            Selector::SiteCategory("B".into(), Category::DeployedStrategic),
            Selector::Category(Category::NonDeployedStrategic),
            Selector::Id("B-0001".into()),
        ]
        .iter()
        .map(|s| {
            fixture(
                disclose(&baseline.public, &baseline.secret, s),
                "disclosure",
            )
        })
        .collect();
        let verified_baseline = fixture(verify(&baseline.public, None), "baseline verifies");
        let verified_frozen = fixture(
            verify(&frozen.public, Some(&baseline.public)),
            "freeze verifies",
        );
        let mut verified_disclosures = vec![];
        for d in &disclosures {
            let v = fixture(
                verify_disclosure(&verified_baseline, d, &verified_disclosures),
                "disclosure verifies",
            );
            verified_disclosures.push(v);
        }
        Freeze {
            baseline,
            frozen,
            disclosures,
            verified_baseline,
            verified_frozen,
            verified_disclosures,
        }
    })
}

/// An honest draw: ten sites drawn with replacement from a population of
/// 400 items at 4 sites (the benchmark's transcript, made from fixed seeds),
/// with the keys its verifier pins.
#[derive(Debug)]
pub struct Draw {
    /// The transcript.
    pub transcript: accord_draw::Transcript,
    /// The pinned keys.
    pub keys: accord_draw::transcript::Keys,
}

/// The fixed draw.
pub fn draw() -> &'static Draw {
    static D: OnceLock<Draw> = OnceLock::new();
    D.get_or_init(|| {
        let (transcript, keys) = fixture(accord_draw::bench::transcript(400), "draw");
        Draw { transcript, keys }
    })
}
