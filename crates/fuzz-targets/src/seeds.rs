//! Seed inputs: valid ones made from the fixtures (a fuzzer starting from
//! a signed checkpoint or an honest proof reaches the code behind the
//! signature check), and the repository's own files that each target reads.
//!
//! `examples/write_corpus.rs` writes both into `fuzz/corpus/<target>/`; the
//! stable test also runs [`generated`] directly and asserts that every seed
//! marked accepted is still accepted.

use crate::fixtures::{
    self, entry, example_notifications, fixture, freeze, log_signer, peer_signer, peer_target,
    signed_checkpoint, treaty, tree, with_registry, witness_signer, LOG_ORIGIN, NOW, PEER_NONCE,
    WITNESSED_SIZE,
};
use accord_inspect::record::{conduct, Cheat, InspectionRecord};
use accord_log::merkle;
use accord_log::tiles::push_bundle_entry;
use accord_log::witness::{encode_hashes, ConsistencyProofJson, InclusionProofJson};
use accord_log::{canonical_entry, Note};
use accord_regime::entry::inspection_json;
use chrono::NaiveDate;

/// One generated seed.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The target it is for.
    pub target: &'static str,
    /// Its file name in the corpus (`gen-…`).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Whether the target must accept it.
    pub accepted: bool,
}

/// Files of the repository a target reads, by target: `(target, path from
/// the repository's root)`. They are copied into the corpus as `repo-…`.
pub const REPO_FILES: &[(&str, &str)] = &[
    ("notification", "examples/notification.json"),
    ("treaty", "treaties/new-start.toml"),
    ("treaty", "treaties/new-start-2021.toml"),
    ("treaty", "treaties/freeze-2020.toml"),
    ("treaty", "treaties/trilateral.toml"),
    ("node_config", "examples/us.toml"),
    ("node_config", "examples/ru.toml"),
    ("node_config", "examples/witness.toml"),
    ("keys", "examples/keys/accord_new-start-2021_US.vkey"),
    ("keys", "examples/keys/accord_new-start-2021_RU.vkey"),
    ("keys", "examples/keys/accord_witness_neutral.vkey"),
    ("keys", "examples/keys/accord_witness_US.key"),
    ("history_csv", "data/new-start-aggregates.csv"),
];

/// The RFC 6962 conformance vectors (`crates/log/tests/testdata/rfc6962/`),
/// rewritten as the proof JSON a peer serves: `(consistency or inclusion,
/// file)`. Their roots are not the fixed tree's, so they exercise the
/// refusals.
pub const CONFORMANCE_DIR: &str = "crates/log/tests/testdata/rfc6962";

struct Seeds(Vec<Seed>);

impl Seeds {
    fn add(&mut self, target: &'static str, name: &str, bytes: impl Into<Vec<u8>>, ok: bool) {
        self.0.push(Seed {
            target,
            name: format!("gen-{name}"),
            bytes: bytes.into(),
            accepted: ok,
        });
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    fixture(serde_json::to_string_pretty(v), "seed JSON")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("seed date {y}-{m}-{d}"),
    }
}

/// A Type One inspection of the fixed registry's ICBM base by Russia.
pub fn inspection_record() -> InspectionRecord {
    let on = date(2021, 3, 5);
    let state = with_registry(|s| fixture(s.state_on(treaty(), on), "state"));
    fixture(
        conduct(
            treaty(),
            &state,
            &Cheat::default(),
            "RU-2021-T1-01",
            "RU",
            "type_one",
            "US-MALMSTROM",
            date(2021, 3, 4),
            on,
            vec!["US-MAL-M0001".into()],
        ),
        "inspection",
    )
}

/// Every generated seed.
pub fn generated() -> Vec<Seed> {
    let mut s = Seeds(vec![]);
    let notes: Vec<String> = example_notifications()
        .iter()
        .map(|(_, n)| n.to_json())
        .collect();

    // notification
    for (i, n) in notes.iter().enumerate() {
        s.add("notification", &format!("example-{i}"), n.as_str(), true);
    }
    s.add("notification", "jsonl", notes.join("\n"), true);
    s.add(
        "notification",
        "negative-number",
        notes[0].replace("\"number\":1", "\"number\":-1"),
        false,
    );

    // log_entry
    let rec = inspection_record();
    for (i, n) in notes.iter().enumerate() {
        let c = fixture(canonical_entry(n), "canonical entry");
        s.add("log_entry", &format!("canonical-{i}"), c, true);
    }
    s.add(
        "log_entry",
        "inspection",
        fixture(
            canonical_entry(&inspection_json(&rec)),
            "canonical inspection",
        ),
        true,
    );
    s.add(
        "log_entry",
        "not-canonical",
        json(&example_notifications()[0].1),
        true,
    );

    // note and checkpoint
    let cp4 = signed_checkpoint(4);
    let mut cosigned = fixture(Note::parse(&cp4), "note");
    let text = cosigned.text.clone();
    fixture(
        cosigned.add_line(witness_signer().cosign_line(&text, NOW)),
        "cosignature",
    );
    let cosigned = cosigned.to_text();
    s.add("note", "checkpoint-4", cp4.as_str(), true);
    s.add("note", "cosigned-4", cosigned.as_str(), true);
    s.add(
        "note",
        "peer-request",
        fixture(
            peer_signer().sign(&accord_node::exchange::peer_request_text(
                &peer_target(),
                NOW,
                PEER_NONCE,
            )),
            "peer note",
        ),
        true,
    );
    for size in [1, 4, 64] {
        s.add(
            "checkpoint",
            &format!("signed-{size}"),
            signed_checkpoint(size),
            true,
        );
    }
    s.add("checkpoint", "cosigned-4", cosigned.as_str(), true);
    s.add(
        "checkpoint",
        "body-only",
        fixture(Note::parse(&cp4), "note").text,
        false,
    );

    // keys
    s.add(
        "keys",
        "log-vkey",
        log_signer().verifier().to_string(),
        true,
    );
    s.add(
        "keys",
        "witness-vkey",
        witness_signer().cosigner_verifier().to_string(),
        true,
    );
    s.add("keys", "log-key-file", log_signer().to_key_file(), true);
    s.add(
        "keys",
        "pin",
        accord_net::Pin::from_bytes([7; 32]).to_string(),
        true,
    );

    // proofs
    for (old, new) in [(1, 1), (1, 2), (3, 7), (4, 8), (5, 64), (63, 64)] {
        let p = ConsistencyProofJson {
            old_size: old,
            new_size: new,
            hashes: encode_hashes(&fixture(
                merkle::consistency_proof(tree(), old, new),
                "consistency",
            )),
        };
        s.add(
            "proofs",
            &format!("consistency-{old}-{new}"),
            json(&p),
            true,
        );
    }
    for (index, size) in [(0, 1), (0, 2), (5, 7), (63, 64), (17, 33)] {
        let p = InclusionProofJson {
            leaf_index: index,
            tree_size: size,
            hashes: encode_hashes(&fixture(
                merkle::inclusion_proof(tree(), index, size),
                "inclusion",
            )),
        };
        s.add(
            "proofs",
            &format!("inclusion-{index}-{size}"),
            json(&p),
            true,
        );
    }

    // tile_path
    for (i, p) in [
        "0/000",
        "0/001.p/88",
        "1/x001/234",
        "entries/x001/x234/067.p/7",
        "entries/000.p/4",
        "63/x018/x446/x744/x073/x709/x551/615",
    ]
    .iter()
    .enumerate()
    {
        s.add("tile_path", &format!("path-{i}"), *p, true);
    }

    // bundle
    for n in [1u64, 4, 64] {
        let mut b = vec![];
        for i in 0..n {
            fixture(push_bundle_entry(&mut b, &entry(i)), "bundle");
        }
        s.add("bundle", &format!("entries-{n}"), b, true);
    }
    let mut b = vec![];
    for n in &notes {
        let c = fixture(canonical_entry(n), "canonical entry");
        fixture(push_bundle_entry(&mut b, &c), "bundle");
    }
    s.add("bundle", "example-notifications", b, true);

    // add_checkpoint
    let body = |old: u64, new: u64| {
        let proof = if old == 0 {
            vec![]
        } else {
            fixture(merkle::consistency_proof(tree(), old, new), "proof")
        };
        let mut t = format!("old {old}\n");
        for h in encode_hashes(&proof) {
            t.push_str(&h);
            t.push('\n');
        }
        t.push('\n');
        t.push_str(&signed_checkpoint(new));
        t
    };
    s.add("add_checkpoint", "first-4", body(0, WITNESSED_SIZE), true);
    s.add("add_checkpoint", "4-to-8", body(WITNESSED_SIZE, 8), true);
    s.add("add_checkpoint", "4-to-64", body(WITNESSED_SIZE, 64), true);
    s.add(
        "add_checkpoint",
        "4-to-4",
        body(WITNESSED_SIZE, WITNESSED_SIZE),
        true,
    );
    s.add("add_checkpoint", "stale-0-to-8", body(0, 8), true);

    // peer_authorization
    let target = peer_target();
    let header = |t: &accord_node::exchange::PeerTarget<'_>, ts: u64| {
        accord_node::exchange::peer_authorization(peer_signer(), t, ts, PEER_NONCE)
    };
    s.add("peer_authorization", "fresh", header(&target, NOW), true);
    let other_path = accord_node::exchange::PeerTarget {
        path: "/tile/0/000",
        ..peer_target()
    };
    s.add(
        "peer_authorization",
        "other-path",
        header(&other_path, NOW),
        false,
    );
    let other_host = accord_node::exchange::PeerTarget {
        host: "ru.node.invalid:7102",
        ..peer_target()
    };
    s.add(
        "peer_authorization",
        "other-node",
        header(&other_host, NOW),
        false,
    );
    s.add(
        "peer_authorization",
        "stale",
        header(&target, NOW - 3600),
        false,
    );

    // inspection
    s.add("inspection", "type-one", json(&rec), true);
    let mut unknown = rec.clone();
    unknown.items_selected = vec!["US-NOT-AN-ITEM".into()];
    s.add("inspection", "unknown-item", json(&unknown), false);

    // freeze
    let f = freeze();
    s.add("freeze_public", "baseline", json(&f.baseline.public), true);
    s.add("freeze_public", "frozen", json(&f.frozen.public), true);
    for (i, d) in f.disclosures.iter().enumerate() {
        s.add(
            "freeze_disclosure",
            &format!("disclosure-{i}"),
            json(d),
            true,
        );
    }

    // draw_transcript
    let d = crate::fixtures::draw();
    s.add("draw_transcript", "honest", json(&d.transcript), true);
    let mut other = d.transcript.clone();
    other.draw.picks.reverse();
    s.add("draw_transcript", "picks-reordered", json(&other), false);

    // api_read
    api_seeds(&mut s);

    // history_csv
    s.add(
        "history_csv",
        "two-rows",
        "date,party,deployed_warheads,source_url\n\
         2018-02-05,US,1350,https://2009-2017.state.gov/t/avc/newstart/\n\
         2018-02-05,RU,unconfirmed,https://2009-2017.state.gov/t/avc/newstart/\n",
        true,
    );

    // treaty: a file based on a built-in one, and one that is not TOML.
    s.add(
        "treaty",
        "based-on-builtin",
        "based_on = \"new-start\"\n\n[treaty]\nid = \"fuzz-extended\"\n\
         name = \"New START, extended for the fuzzer\"\n\
         full_name = \"New START with a five-year extension\"\n\
         signed = 2010-04-08\nentry_into_force = 2011-02-05\nterm_years = 10\n\
         source = \"fuzz seed\"\n\n[[extensions]]\nagreed = 2021-02-03\nyears = 5\n\
         source = \"fuzz seed\"\n",
        true,
    );
    s.add("treaty", "not-toml", "[treaty\nid = ", false);

    // node_config: the smallest party node, and the token given as
    // a string (refused without quoting it).
    let party = "party = \"US\"\ntreaty = \"new-start-2021\"\nlisten = \"127.0.0.1:7101\"\n\
                 data_dir = \"us-data\"\nkey = \"keys/us.key\"\n";
    s.add(
        "node_config",
        "party-minimal",
        format!("{party}operator_tokens = [\"operator-token-0123456789\"]\n"),
        true,
    );
    s.add(
        "node_config",
        "token-as-a-string",
        format!("{party}operator_tokens = \"operator-token-0123456789\"\n"),
        false,
    );
    s.0
}

fn api_seeds(s: &mut Seeds) {
    use accord_api::*;
    let on = date(2021, 3, 5);
    let reports = with_registry(|st| fixture(st.evaluate(treaty(), &[on]), "report"));
    let Some(report) = reports.into_iter().next() else {
        panic!("no report");
    };
    let parties = vec!["US".to_string(), "RU".to_string()];
    let status = Status {
        party: "US".into(),
        treaty: fixtures::TREATY.into(),
        date: on,
        origin: LOG_ORIGIN.into(),
        tree_size: 4,
        checkpoint: Some(signed_checkpoint(4)),
        witness: Some(witness_signer().cosigner_verifier().to_string()),
        compliance: report,
        peers: vec![],
        witnesses: vec![],
        receipts: None,
        quota: accord_regime::quota::quota_use(treaty(), &parties, &[], on),
    };
    s.add("api_read", "status", json(&status), true);
    let notes: Vec<accord_registry::Notification> = example_notifications()
        .iter()
        .map(|(_, n)| n.clone())
        .collect();
    let history = accord_regime::history::history(treaty(), "US", &notes, false, on);
    s.add("api_read", "history", json(&history), true);
    let feed = Feed {
        party: "US".into(),
        tree_size: 1,
        entries: vec![FeedEntry {
            index: 0,
            notification: fixture(serde_json::from_str(&notes[0].to_json()), "feed"),
        }],
    };
    s.add("api_read", "feed", json(&feed), true);
    s.add(
        "api_read",
        "accepted",
        json(&Accepted {
            numbers: vec![1, 2],
            indexes: vec![0, 1],
            tree_size: 2,
        }),
        true,
    );
    s.add(
        "api_read",
        "error",
        json(&ErrorBody {
            error: ErrorDetail {
                status: 400,
                message: "query: unknown field `x`".into(),
                field: Some("x".into()),
            },
        }),
        true,
    );
    s.add(
        "api_read",
        "exchange",
        json(&Exchange {
            party: "US".into(),
            tree_size: 4,
            peers: vec![],
            witnesses: vec![],
        }),
        true,
    );
    s.add(
        "api_read",
        "witness-status",
        json(&WitnessNodeStatus {
            mode: "witness".into(),
            witness: witness_signer().cosigner_verifier().to_string(),
            logs: vec![WitnessedLog {
                origin: LOG_ORIGIN.into(),
                size: 4,
                checkpoint: Some(signed_checkpoint(4)),
            }],
            evidence: vec![],
        }),
        true,
    );
}
