//! Property tests: folding at once equals applying one by one; a one-pass
//! evaluation at many dates equals evaluating each date alone.

mod common;
use accord_registry::{evaluate, Meta, Notification, State, Store};
use accord_treaty::{FacilityKind, Status};
use common::*;
use proptest::prelude::*;

/// Turns random choices into a valid history over a small universe.
fn history(choices: &[(u8, u8, u8, u8)]) -> Vec<Notification> {
    let t = treaty();
    let mut b = B::new("US", d(2020, 9, 1));
    b.facility("BASE", FacilityKind::IcbmBase)
        .facility("STORE", FacilityKind::Storage);
    for i in 0..4 {
        b.entry(
            &format!("S{i}"),
            "icbm_launcher",
            "minuteman-iii-silo",
            "BASE",
            Status::NonDeployed,
        );
    }
    let mut state = State::new(&t, "US");
    for n in &b.out {
        assert!(state.apply(n).is_none());
    }
    let mut day = 0u64;
    for &(op, a, c, gap) in choices {
        day += u64::from(gap % 4);
        let date = d(2020, 9, 1) + chrono::Days::new(day);
        let m = format!("M{}", a % 6);
        let s = format!("S{}", c % 4);
        let mut cand = B::new("US", date);
        cand.next = b.next;
        match op % 7 {
            0 => cand.entry(&m, "icbm", "minuteman-iii", "BASE", Status::NonDeployed),
            1 => cand.deploy(&m, Some(&s), Some(1 + u32::from(c % 3))),
            2 => cand.remove(&m),
            3 => cand.depart(&m, if a % 2 == 0 { "BASE" } else { "STORE" }),
            4 => cand.arrive(&m, if c % 2 == 0 { "BASE" } else { "STORE" }),
            5 => cand.rv(&m, 1 + u32::from(c % 3)),
            _ => cand.eliminate(&m),
        };
        let mut n = cand.out.remove(0);
        n.sent = date + chrono::Days::new(u64::from(gap % 9));
        let mut trial = state.clone();
        if trial.apply(&n).is_none() {
            state = trial;
            b.next += 1;
            b.out.push(n);
        }
    }
    b.out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn folding_at_once_equals_applying_one_by_one(choices in prop::collection::vec(any::<(u8, u8, u8, u8)>(), 0..120)) {
        let t = treaty();
        let all = history(&choices);
        let meta = Meta { party: "US".into(), treaty: "new-start-2021".into(), synthetic: false, provenance: "prop".into() };
        let d1 = tempfile::tempdir().expect("tmp");
        let d2 = tempfile::tempdir().expect("tmp");
        let mut at_once = Store::create(d1.path(), meta.clone()).expect("create");
        let batch: Vec<_> = all.iter().map(|n| (String::from("p"), n.clone())).collect();
        at_once.append(&t, &batch).expect("append all");
        let mut one_by_one = Store::create(d2.path(), meta).expect("create");
        for n in &all {
            one_by_one.append(&t, &[(String::from("p"), n.clone())]).expect("append one");
        }
        prop_assert_eq!(at_once.items().expect("items"), one_by_one.items().expect("items"));
        let dates = [d(2020, 9, 1), d(2020, 9, 20), d(2020, 11, 1), d(2021, 3, 1)];
        let a = at_once.evaluate(&t, &dates).expect("eval");
        let b = one_by_one.evaluate(&t, &dates).expect("eval");
        for (x, y) in a.iter().zip(&b) {
            prop_assert_eq!(&x.aggregates, &y.aggregates);
            prop_assert_eq!(&x.findings, &y.findings);
        }
    }

    #[test]
    fn one_pass_at_many_dates_equals_each_date_alone(choices in prop::collection::vec(any::<(u8, u8, u8, u8)>(), 0..120)) {
        let t = treaty();
        let all = history(&choices);
        let dates: Vec<_> = (0..12).map(|k| d(2020, 9, 1) + chrono::Days::new(k * 17)).collect();
        let together = evaluate(&t, "US", &all, &dates, false);
        for (i, date) in dates.iter().enumerate() {
            let alone = evaluate(&t, "US", &all, &[*date], false).remove(0);
            prop_assert_eq!(&together[i].aggregates, &alone.aggregates);
            prop_assert_eq!(&together[i].findings, &alone.findings);
            // The incremental aggregates equal a recount of the items.
            let mut s = State::new(&t, "US");
            let mut sorted: Vec<&Notification> = all.iter().filter(|n| n.date <= *date).collect();
            sorted.sort_by_key(|n| n.fold_key());
            for n in sorted { let _ = s.apply(n); }
            let deployed = s.items().iter().filter(|it| s.kind_id(it) == "icbm" && it.status == Status::Deployed).count() as u64;
            let rvs: u64 = s.items().iter().filter(|it| s.kind_id(it) == "icbm" && it.status == Status::Deployed).map(|it| u64::from(it.reentry_vehicles)).sum();
            prop_assert_eq!(alone.aggregates["deployed_delivery_vehicles"], deployed);
            prop_assert_eq!(alone.aggregates["deployed_warheads"], rvs);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The store checks a batch dated after everything stored against its
    /// in-memory tip, not by refolding the history. Every verdict must equal
    /// the full refold's ([`Store::check`]), rejected batches must leave the
    /// store able to take the next one, and the state rows written piecemeal
    /// must equal a rebuild from the notifications alone. Some candidates are
    /// dated before the tip, to exercise the full-fold path too.
    #[test]
    fn the_incremental_check_agrees_with_the_full_refold(choices in prop::collection::vec(any::<(u8, u8, u8, u8)>(), 0..120)) {
        let t = treaty();
        let meta = Meta { party: "US".into(), treaty: "new-start-2021".into(), synthetic: false, provenance: "prop".into() };
        let dir = tempfile::tempdir().expect("tmp");
        let mut store = Store::create(dir.path(), meta).expect("create");
        let mut b = B::new("US", d(2020, 9, 1));
        b.facility("BASE", FacilityKind::IcbmBase)
            .facility("STORE", FacilityKind::Storage);
        for i in 0..4 {
            b.entry(&format!("S{i}"), "icbm_launcher", "minuteman-iii-silo", "BASE", Status::NonDeployed);
        }
        let setup: Vec<_> = b.out.iter().map(|n| (String::from("p"), n.clone())).collect();
        store.append(&t, &setup).expect("setup");
        // A second store takes the same candidates as a node does under load:
        // staged in chains of up to three, each chain committed at once.
        let dir2 = tempfile::tempdir().expect("tmp");
        let mut grouped = Store::create(dir2.path(), Meta { party: "US".into(), treaty: "new-start-2021".into(), synthetic: false, provenance: "prop".into() }).expect("create");
        grouped.append(&t, &setup).expect("setup");
        let mut chain = vec![];
        let mut day = 0u64;
        let mut accepted = 0usize;
        for (k, &(op, a, c, gap)) in choices.iter().enumerate() {
            day += u64::from(gap % 4);
            // One candidate in four is dated up to ten days back: before
            // notifications already stored.
            let back = if gap % 4 == 3 { (4 + u64::from(a % 7)).min(day) } else { 0 };
            let date = d(2020, 9, 1) + chrono::Days::new(day - back);
            let m = format!("M{}", a % 6);
            let s = format!("S{}", c % 4);
            let mut cand = B::new("US", date);
            cand.next = 1000 + k as u64;
            match op % 8 {
                0 => cand.entry(&m, "icbm", "minuteman-iii", "BASE", Status::NonDeployed),
                1 => cand.deploy(&m, Some(&s), Some(1 + u32::from(c % 3))),
                2 => cand.remove(&m),
                3 => cand.depart(&m, if a % 2 == 0 { "BASE" } else { "STORE" }),
                4 => cand.arrive(&m, if c % 2 == 0 { "BASE" } else { "STORE" }),
                5 => cand.rv(&m, 1 + u32::from(c % 3)),
                6 => cand.eliminate(&m),
                // A data exchange: half of them with the true totals of the day.
                _ => {
                    let r = store.evaluate(&t, &[date]).expect("eval").remove(0);
                    let g = |k: &str| r.aggregates.get(k).copied().unwrap_or(0);
                    if c % 2 == 0 {
                        cand.exchange(g("deployed_delivery_vehicles"), g("deployed_warheads"), g("deployed_and_nondeployed_launchers"))
                    } else {
                        cand.exchange(u64::from(c % 3), u64::from(a % 4), 4)
                    }
                }
            };
            let one = [(String::from("p"), cand.out.remove(0))];
            let full = store.check(&t, &one).is_ok();
            let fast = store.append(&t, &one).is_ok();
            prop_assert_eq!(full, fast, "candidate {}: {:?}", k, one[0].1);
            let in_chain = match grouped.stage_chained(&t, &one) {
                Err(accord_registry::StoreError::Deferred) => {
                    grouped.commit_all(&t, std::mem::take(&mut chain)).expect("commit chain");
                    grouped.stage_chained(&t, &one).map(|s| chain.push(s)).is_ok()
                }
                r => r.map(|s| chain.push(s)).is_ok(),
            };
            prop_assert_eq!(in_chain, fast, "chained verdict, candidate {}", k);
            if chain.len() == 3 {
                grouped.commit_all(&t, std::mem::take(&mut chain)).expect("commit chain");
            }
            accepted += usize::from(fast);
        }
        grouped.commit_all(&t, chain).expect("commit chain");
        prop_assert_eq!(store.len().expect("len"), (setup.len() + accepted) as u64);
        prop_assert_eq!(grouped.len().expect("len"), store.len().expect("len"));
        prop_assert_eq!(grouped.items().expect("items"), store.items().expect("items"));
        prop_assert!(grouped.rebuild(&t).expect("rebuild"), "the grouped store's rows differ from a rebuild");
        let rows = store.items().expect("items");
        prop_assert!(store.rebuild(&t).expect("rebuild"), "the rows written piecemeal differ from a rebuild");
        prop_assert_eq!(rows, store.items().expect("items"));
    }
}
