//! The tracker gives exactly the reports of the fold over everything, however
//! the batches arrive: in order, out of order but commuting, or out of
//! order needing the full refold — property-tested on SYNTHETIC years.

use accord_regime::tracker::Tracker;
use accord_registry::{compliance::evaluate, Meta, Notification, Store};
use accord_synth::store::synthesize;
use accord_synth::{Targets, Template, YearOptions};
use accord_treaty::Treaty;
use chrono::NaiveDate;
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

/// Posts `all` to a fresh registry in batches of `size`, the batches
/// shuffled within windows of `window` batches (so later changes often
/// arrive first), retrying a refused batch after the others; pushes each
/// committed batch to the tracker; then compares reports on `dates`.
fn case(seed: u64, size: usize, window: usize, dates: &[NaiveDate]) {
    let treaty = Treaty::load("new-start-2021").expect("treaty");
    let template = Template::load("US").expect("template");
    let (mut all, _) = synthesize(
        &treaty,
        &template,
        Targets {
            deployed_delivery_vehicles: 675,
            deployed_warheads: 1457,
            launchers: 800,
        },
        d(2020, 9, 1),
        seed,
        Some(YearOptions {
            days: 365,
            notifications: 300,
            late: 3,
            seed,
        }),
    )
    .expect("generate");
    all.sort_by_key(|n| n.number);
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::create(
        dir.path(),
        Meta {
            party: "US".into(),
            treaty: treaty.id.clone(),
            synthetic: true,
            provenance: "test".into(),
        },
    )
    .expect("store");
    let mut tracker = Tracker::open(&treaty, dir.path()).expect("tracker");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut batches: Vec<Vec<Notification>> = all.chunks(size).map(<[_]>::to_vec).collect();
    for w in batches.chunks_mut(window) {
        w.shuffle(&mut rng);
    }
    let mut queue: std::collections::VecDeque<Vec<Notification>> = batches.into();
    let mut stuck = 0;
    while let Some(b) = queue.pop_front() {
        let located: Vec<(String, Notification)> = b
            .iter()
            .map(|n| (format!("#{}", n.number), n.clone()))
            .collect();
        match store.stage(&treaty, &located) {
            Ok(staged) => {
                let onto = staged.folds_onto_the_tip();
                store.commit(&treaty, staged).expect("commit");
                tracker.push(&b, onto);
                stuck = 0;
            }
            Err(e) => {
                queue.push_back(b);
                stuck += 1;
                if stuck > queue.len() {
                    // Batches that depend on each other both ways (a late
                    // notification numbered after what it precedes): as an
                    // operator would, send what is left as one batch.
                    assert!(queue.len() > 1, "the last batch is refused: {e}");
                    let rest: Vec<Notification> = queue.drain(..).flatten().collect();
                    queue.push_back(rest);
                    stuck = 0;
                }
            }
        }
    }
    let expect = evaluate(&treaty, "US", &all, dates, true);
    let got = tracker.reports(dates).expect("reports");
    for (e, g) in expect.iter().zip(&got) {
        assert_eq!(
            e, g,
            "seed {seed}, batches of {size} in windows of {window}, on {}",
            e.date
        );
    }
}

#[test]
fn in_order_and_shuffled_arrivals_give_the_folds_reports() {
    let dates = [
        d(2020, 8, 31),
        d(2020, 9, 1),
        d(2020, 10, 1),
        d(2020, 12, 17),
        d(2021, 3, 1),
        d(2021, 3, 2),
        d(2021, 6, 30),
        d(2021, 9, 1),
        d(2021, 12, 31),
    ];
    case(1, 50, 1, &dates);
    case(2, 7, 5, &dates);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn the_tracker_equals_the_fold(
        seed in 0u64..500,
        size in 1usize..40,
        window in 1usize..6,
        offsets in proptest::collection::vec(0u64..480, 1..8),
    ) {
        let mut dates: Vec<NaiveDate> = offsets.iter().map(|o| d(2020, 8, 1) + chrono::Days::new(*o)).collect();
        dates.sort();
        case(seed, size, window, &dates);
    }
}
