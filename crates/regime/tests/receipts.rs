//! Receipts of batches with many late deliveries: logged as several
//! entries of the same range, read back as one set of late numbers.

use accord_log::{LogStore, Signer, MAX_ENTRY_BYTES};
use accord_regime::receipts::{self, Receipt};

fn receipt(late: Vec<u64>) -> Receipt {
    Receipt {
        kind: "receipt".into(),
        origin: "accord/new-start-2021/RU".into(),
        first: 0,
        end: 40_000,
        root: "00".repeat(32),
        checkpoint_size: 40_000,
        received: "2021-03-01".parse().expect("date"),
        received_unix: 1_614_556_800,
        late,
        recovered: true,
    }
}

#[test]
fn a_recovery_with_twenty_thousand_late_entries_is_logged_whole() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = Signer::from_seed("accord/new-start-2021/US/receipts", [7; 32]).expect("key");
    let mut log =
        LogStore::init(&dir.path().join("receipts.sqlite"), s.name(), &s.verifier()).expect("log");
    // 20,000 numbers of up to 16 digits: over 300 KB of late numbers.
    let late: Vec<u64> = (0..20_000u64)
        .map(|i| 1_000_000_000_000_000 + i * 7)
        .collect();
    receipts::append(&mut log, &s, &receipt(late.clone())).expect("append");
    assert!(log.size() > 1, "split into {} entries", log.size());
    for i in 0..log.size() {
        assert!(log.entry(i).expect("entry").len() <= MAX_ENTRY_BYTES);
    }
    let back = receipts::read(&log).expect("read");
    let union: Vec<u64> = back.iter().flat_map(|r| r.late.clone()).collect();
    assert_eq!(union, late);
    assert!(back
        .iter()
        .all(|r| r.first == 0 && r.end == 40_000 && r.recovered));
    assert_eq!(receipts::covered(&back, "accord/new-start-2021/RU"), 40_000);
}

#[test]
fn a_small_receipt_is_one_entry() {
    let r = receipt(vec![3, 5, 8]);
    assert_eq!(receipts::split(&r), vec![r.clone()]);
    assert_eq!(receipts::split(&receipt(vec![])).len(), 1);
}
