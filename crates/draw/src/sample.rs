//! The draw: a documented function of the seed, the population and the
//! rule, that anyone can recompute.
//!
//! - The stream is ChaCha20 (RFC 8439's block function, 20 rounds) keyed
//!   with the 32-byte seed, 64-bit block counter from 0, 64-bit nonce 0, as
//!   `rand_chacha 0.3`'s `ChaCha20Rng::from_seed`. Each draw takes 64-bit
//!   words `x = w[2i] | w[2i+1] << 32` from the keystream's little-endian
//!   32-bit words, in order (a known-answer test pins the first word to
//!   RFC 8439 appendix A.1).
//! - A uniform integer below `n` is drawn by rejection: let `r = 2^64 mod n`;
//!   take the next `x`; if `x ≥ 2^64 − r` draw again, else return `x mod n`.
//!   Every value below `n` then has exactly `⌊2^64 / n⌋` preimages: no
//!   modulo bias. A draw is rejected with probability `r / 2^64 < n / 2^64`.
//! - Sites: weight `w_i` per population site in order (1 each for a uniform
//!   rule; the rule's integer weight, or 0, for a weighted one); `W = Σ w_i`.
//!   Each of the `k` site draws takes `u` below `W` and picks the first site
//!   whose running sum of weights exceeds `u`. Without replacement the
//!   picked site's weight then drops to 0 (successive sampling; uniform
//!   weights make it a uniform `k`-subset in uniform order).
//! - Items: right after each site draw, `m = min(items_per_site, |items|)`
//!   distinct items of that site by partial Fisher–Yates over its sorted
//!   item list: for `t` in `0..m`, swap position `t` with `t + below(|items|
//!   − t)`; the first `m` positions, in that order, are the items drawn.

use crate::entry::{Population, Rule};
use crate::{DrawError, Undrawable};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

/// One site draw and the items drawn within it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pick {
    /// The site.
    pub site: String,
    /// The items drawn there, in draw order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}

/// A uniform integer below `n` (`n ≥ 1`) by rejection sampling.
pub fn below(rng: &mut ChaCha20Rng, n: u64) -> u64 {
    // r = 2^64 mod n, computed without 128-bit arithmetic.
    let r = (u64::MAX % n + 1) % n;
    loop {
        let x = rng.next_u64();
        // Accept x < 2^64 − r, i.e. x ≤ u64::MAX − r (when r = 0, all x).
        if r == 0 || x <= u64::MAX - r {
            return x % n;
        }
    }
}

/// The draw of `rule` over `population` from `seed` (see the module docs).
pub fn draw(seed: &[u8; 32], population: &Population, rule: &Rule) -> Result<Vec<Pick>, DrawError> {
    let bad = |problem| Err(DrawError::Undrawable { problem });
    if u64::from(rule.sites) > crate::entry::MAX_DRAWS
        || u64::from(rule.sites) * u64::from(rule.items_per_site) > crate::entry::MAX_DRAWS
    {
        return bad(Undrawable::TooManyDraws {
            sites: rule.sites,
            items_per_site: rule.items_per_site,
        });
    }
    let mut weights: Vec<u64> = match &rule.weights {
        None => vec![1; population.sites.len()],
        Some(w) => population
            .sites
            .iter()
            .map(|s| w.get(&s.site).copied().unwrap_or(0))
            .collect(),
    };
    let mut total: u64 = 0;
    for w in &weights {
        total = match total.checked_add(*w) {
            Some(t) if t <= 1 << 63 => t,
            _ => return bad(Undrawable::WeightsTooLarge),
        };
    }
    if total == 0 && rule.sites > 0 {
        return bad(Undrawable::NoWeight);
    }
    let positive = weights.iter().filter(|w| **w > 0).count();
    if !rule.replacement && rule.sites as usize > positive {
        return bad(Undrawable::TooFewSites {
            asked: rule.sites,
            available: positive as u64,
        });
    }
    let mut rng = ChaCha20Rng::from_seed(*seed);
    let mut picks = Vec::with_capacity(rule.sites as usize);
    let mut order: Vec<usize> = vec![];
    for _ in 0..rule.sites {
        let u = below(&mut rng, total);
        let mut acc = 0u64;
        let mut chosen = 0usize;
        for (i, w) in weights.iter().enumerate() {
            acc += w;
            if u < acc {
                chosen = i;
                break;
            }
        }
        let site = &population.sites[chosen];
        if !rule.replacement {
            total -= weights[chosen];
            weights[chosen] = 0;
        }
        let n = site.items.len();
        let m = (rule.items_per_site as usize).min(n);
        let mut items = Vec::with_capacity(m);
        if m > 0 {
            order.clear();
            order.extend(0..n);
            for t in 0..m {
                let j = t + below(&mut rng, (n - t) as u64) as usize;
                order.swap(t, j);
                items.push(site.items[order[t]].clone());
            }
        }
        picks.push(Pick {
            site: site.site.clone(),
            items,
        });
    }
    Ok(picks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_rfc_8439_chacha20() {
        // RFC 8439 appendix A.1, test vector #1: key 0, nonce 0, counter 0;
        // keystream 76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28 …
        let mut rng = ChaCha20Rng::from_seed([0; 32]);
        assert_eq!(rng.next_u64(), 0x903d_f1a0_ade0_b876);
        assert_eq!(rng.next_u64(), 0x28bd_8653_e56a_5d40);
    }

    #[test]
    fn below_rejects_the_biased_tail() {
        // n = 2^63 + 1: r = 2^63 − 1, so about half of all words are
        // rejected, and every accepted value is below n.
        let n = (1u64 << 63) + 1;
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        for _ in 0..1000 {
            assert!(below(&mut rng, n) < n);
        }
        // n = 1 always gives 0; a power of two rejects nothing.
        assert_eq!(below(&mut rng, 1), 0);
        let mut a = ChaCha20Rng::from_seed([9; 32]);
        let mut b = ChaCha20Rng::from_seed([9; 32]);
        assert_eq!(below(&mut a, 1 << 20), b.next_u64() % (1 << 20));
    }

    #[test]
    fn distinct_sites_without_replacement() {
        let pop = Population::of_sites(["A", "B", "C", "D", "E"]);
        let picks = draw(&[1; 32], &pop, &Rule::distinct_sites(5)).expect("draw");
        let mut s: Vec<&str> = picks.iter().map(|p| p.site.as_str()).collect();
        s.sort();
        assert_eq!(s, ["A", "B", "C", "D", "E"]);
        let e = draw(&[1; 32], &pop, &Rule::distinct_sites(6)).expect_err("too many");
        assert!(matches!(
            e,
            DrawError::Undrawable {
                problem: Undrawable::TooFewSites {
                    asked: 6,
                    available: 5
                }
            }
        ));
    }

    #[test]
    fn zero_weights_are_never_drawn() {
        let pop = Population::of_sites(["A", "B", "C"]);
        let w = [
            ("A".to_string(), 0),
            ("B".to_string(), 5),
            ("Z".to_string(), 9),
        ]
        .into_iter()
        .collect();
        let picks = draw(&[3; 32], &pop, &Rule::weighted(50, w, 0)).expect("draw");
        assert!(picks.iter().all(|p| p.site == "B"));
    }

    #[test]
    fn items_are_distinct_within_a_pick() {
        let pop =
            Population::of_items([("S".to_string(), (0..10).map(|i| format!("i{i}")).collect())]);
        let mut rule = Rule::distinct_sites(1);
        rule.items_per_site = 10;
        let picks = draw(&[5; 32], &pop, &rule).expect("draw");
        let mut items = picks[0].items.clone();
        items.sort();
        items.dedup();
        assert_eq!(items.len(), 10);
        rule.items_per_site = 99;
        assert_eq!(
            draw(&[5; 32], &pop, &rule).expect("draw")[0].items.len(),
            10
        );
    }

    #[test]
    fn a_verifier_does_bounded_work() {
        let pop = Population::of_sites(["A"]);
        let mut rule = Rule::distinct_sites(u32::MAX);
        rule.replacement = true;
        assert!(matches!(
            draw(&[0; 32], &pop, &rule),
            Err(DrawError::Undrawable {
                problem: Undrawable::TooManyDraws { .. }
            })
        ));
        rule.sites = 1000;
        rule.items_per_site = 1001;
        assert!(draw(&[0; 32], &pop, &rule).is_err());
    }
}
