//! Where the registry and the log meet on disk and on size: the registry's
//! bound on a notification is the log's bound on an entry, measured the way
//! the log measures it; and neither store takes the other's file for its own.

use accord_log::{canonical_entry, EntryError, LogStore, Signer};
use accord_registry::notification::MAX_ENTRY_BYTES;
use accord_registry::{Event, Meta, Notification, Store};
use accord_treaty::FacilityKind;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// The length the log gives a notification's entry.
fn logged_len(n: &Notification) -> usize {
    match canonical_entry(&n.to_json()) {
        Ok(bytes) => bytes.len(),
        Err(EntryError::TooLong { len }) => len,
        Err(e) => panic!("a notification is always an entry: {e}"),
    }
}

fn declaration(number: u64, name: String) -> Notification {
    Notification {
        party: "US".into(),
        number,
        date: "2021-03-01".parse().expect("date"),
        sent: "2021-03-01".parse().expect("date"),
        event: Event::FacilityDeclared {
            facility: "F".into(),
            facility_kind: FacilityKind::Storage,
            name,
        },
    }
}

#[test]
fn the_registrys_bound_is_the_logs() {
    assert_eq!(MAX_ENTRY_BYTES, accord_log::MAX_ENTRY_BYTES);
}

#[test]
fn what_the_registry_accepts_the_log_appends_and_a_byte_more_neither() {
    let base = declaration(1, String::new()).entry_len();
    let fits = declaration(1, "x".repeat(MAX_ENTRY_BYTES - base));
    let over = declaration(2, "x".repeat(MAX_ENTRY_BYTES + 1 - base));
    assert_eq!(fits.entry_len(), MAX_ENTRY_BYTES);
    let treaty = accord_treaty::Treaty::load("new-start-2021").expect("treaty");
    assert!(fits.validate(&treaty, "t:1").is_ok());
    assert!(over.validate(&treaty, "t:2").is_err());
    let dir = tempfile::tempdir().expect("tmp");
    let signer = Signer::generate("accord/new-start-2021/US").expect("key");
    let mut log = LogStore::init(
        &dir.path().join("log.sqlite"),
        signer.name(),
        &signer.verifier(),
    )
    .expect("log");
    let entry = canonical_entry(&fits.to_json()).expect("fits");
    assert_eq!(log.append(&[entry]).expect("appends"), 0..1);
    assert!(matches!(
        canonical_entry(&over.to_json()),
        Err(EntryError::TooLong { len }) if len == MAX_ENTRY_BYTES + 1
    ));
}

/// Text with what JSON escapes: quotes, backslashes, control characters,
/// and characters outside ASCII (written raw by both).
fn awkward_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just('"'),
            Just('\\'),
            Just('/'),
            Just('\n'),
            Just('\u{1}'),
            Just('\u{1f}'),
            Just('\u{7f}'),
            Just('é'),
            Just('\u{2028}'),
            Just('🚀'),
            any::<char>(),
        ],
        0..40,
    )
    .prop_map(|c| c.into_iter().collect())
}

/// Numbers across the range where doubles stop being exact.
fn awkward_number() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..1000u64,
        (1u64 << 53) - 2..(1u64 << 53) + 2,
        any::<u64>(),
        Just(9_999_999_999_999_999_999),
        Just(u64::MAX),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn entry_len_is_the_length_the_log_measures(
        number in awkward_number(),
        name in awkward_text(),
        counts in prop::collection::btree_map(awkward_text(), awkward_number(), 0..4),
        by_facility in prop::collection::btree_map(
            awkward_text(),
            prop::collection::btree_map(awkward_text(), awkward_number(), 0..3),
            0..3,
        ),
    ) {
        let n = declaration(number, name);
        prop_assert_eq!(n.entry_len(), logged_len(&n));
        let x = Notification {
            event: Event::DataExchange { counts: counts.into_iter().collect::<BTreeMap<_, _>>(), facilities: by_facility },
            ..n
        };
        prop_assert_eq!(x.entry_len(), logged_len(&x));
    }
}

#[test]
fn a_log_is_not_a_registry_nor_a_registry_a_log() {
    let dir = tempfile::tempdir().expect("tmp");
    let signer = Signer::generate("accord/new-start-2021/US").expect("key");
    let log_path = dir.path().join("log.sqlite");
    drop(LogStore::init(&log_path, signer.name(), &signer.verifier()).expect("log"));
    let reg = dir.path().join("reg");
    drop(
        Store::create(
            &reg,
            Meta {
                party: "US".into(),
                treaty: "new-start-2021".into(),
                synthetic: false,
                provenance: "test".into(),
            },
        )
        .expect("registry"),
    );
    // A log where a registry should be.
    let wrong = dir.path().join("wrong");
    std::fs::create_dir(&wrong).expect("dir");
    std::fs::copy(&log_path, wrong.join("registry.sqlite")).expect("copy");
    let e = Store::open(&wrong).map(|_| ()).expect_err("a log");
    assert!(
        e.to_string().ends_with(
            "registry.sqlite: not an accord registry: it is an accord log; nothing was changed"
        ),
        "{e}"
    );
    // A registry where a log should be.
    let e = LogStore::open(&reg.join("registry.sqlite")).expect_err("a registry");
    assert!(
        e.to_string().ends_with(
            "registry.sqlite: not an accord log: it is an accord registry; nothing was changed"
        ),
        "{e}"
    );
}
