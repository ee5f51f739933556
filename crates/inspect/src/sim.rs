//! Monte Carlo of a treaty year against a cheater.
//!
//! Each trial draws the year's inspections from the plan (site by its
//! probability, then items uniformly without replacement within the site)
//! and asks whether any inspection examined a violating item. The empirical
//! rate comes with a Wilson score interval, to be compared with the exact
//! value `1 − (1 − x_c d_c)^k`.

use crate::game::Site;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;

/// What a simulation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Simulation {
    /// Trials run.
    pub trials: u64,
    /// Trials in which the violation was caught.
    pub detected: u64,
    /// `detected / trials`.
    pub rate: f64,
    /// 99.9 % Wilson score interval for the rate.
    pub ci_low: f64,
    /// Upper end of the interval.
    pub ci_high: f64,
    /// The exact detection probability.
    pub exact: f64,
    /// Whether the exact value lies inside the interval.
    pub agrees: bool,
    /// Seed used.
    pub seed: u64,
}

/// Wilson score interval for `k` successes in `n` trials at normal quantile `z`.
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Draws an index by cumulative probabilities.
fn draw(cum: &[f64], rng: &mut ChaCha20Rng) -> usize {
    let u: f64 = rng.gen();
    cum.partition_point(|&c| c <= u)
        .min(cum.len().saturating_sub(1))
}

/// Whether `samples` items drawn without replacement from `items` include one
/// of the first `violating` (Floyd's algorithm; no allocation for one sample).
fn catches(items: u64, violating: u64, samples: u64, rng: &mut ChaCha20Rng) -> bool {
    if items == 0 || violating == 0 || samples == 0 {
        return false;
    }
    if samples == 1 {
        return rng.gen_range(0..items) < violating;
    }
    let mut chosen = std::collections::HashSet::new();
    for j in (items - samples.min(items))..items {
        let t = rng.gen_range(0..=j);
        let pick = if chosen.contains(&t) { j } else { t };
        chosen.insert(pick);
        if pick < violating {
            return true;
        }
    }
    false
}

/// Simulates `trials` treaty years of `k` inspections drawn from plan `x`
/// against a violation at site `cheat`.
pub fn simulate(
    sites: &[Site],
    x: &[f64],
    cheat: usize,
    k: u32,
    trials: u64,
    seed: u64,
    exact: f64,
) -> Simulation {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut cum = Vec::with_capacity(x.len());
    let mut acc = 0.0;
    for p in x {
        acc += p;
        cum.push(acc);
    }
    let mut detected = 0u64;
    for _ in 0..trials {
        let mut caught = false;
        for _ in 0..k {
            let j = draw(&cum, &mut rng);
            if j == cheat {
                let s = &sites[j];
                if catches(s.items, s.violating, s.samples, &mut rng) {
                    caught = true;
                }
            }
        }
        detected += u64::from(caught);
    }
    // z for a two-sided 99.9 % interval.
    let (lo, hi) = wilson(detected, trials, 3.290_526_731_491_926);
    Simulation {
        trials,
        detected,
        rate: detected as f64 / trials.max(1) as f64,
        ci_low: lo,
        ci_high: hi,
        exact,
        agrees: (lo..=hi).contains(&exact),
        seed,
    }
}
