//! Exact odds against values computed independently.

// The vectors below are quoted digit for digit from mpmath's output, so they
// carry more digits than an f64 holds; rounding them by hand would hide the
// source.
#![allow(clippy::excessive_precision)]

use accord_inspect::odds::*;

/// (N, r, n, p_detect, p_miss), computed with mpmath 1.3.0 at 60 significant
/// digits from lnΓ: P(miss) = exp(lnΓ(N−r+1) + lnΓ(N−n+1) − lnΓ(N+1) − lnΓ(N−r−n+1)),
/// P(detect) = −expm1(ln P(miss)).
const KNOWN: &[(u64, u64, u64, f64, f64)] = &[
    (100, 5, 10, 0.416_247_633_073_848_1, 0.583_752_366_926_151_9),
    (1000, 1, 1, 0.001, 0.999),
    (
        1_000_000,
        10,
        1000,
        0.009_955_164_387_149_6,
        0.990_044_835_612_850_4,
    ),
    (1_000_000_000, 1, 1, 1.0e-9, 0.999_999_999),
    (1_000_000_000_000, 1, 1, 1.0e-12, 0.999_999_999_999),
    (
        1_000_000_000_000,
        1000,
        1_000_000,
        0.000_999_500_666_624_592_37,
        0.999_000_499_333_375_41,
    ),
    (
        1_000_000_000_000,
        1_000_000,
        1_000_000,
        0.632_120_926_708_060_16,
        0.367_879_073_291_939_84,
    ),
    (5000, 2500, 200, 1.0, 9.843_675_938_914_687_3e-63),
    (
        1_000_000_000_000,
        300_000_000,
        1_000_000,
        1.0,
        4.920_883_734_614_828e-131,
    ),
    (50, 1, 49, 0.98, 0.02),
    (1000, 100, 700, 1.0, 6.512_479_442_698_796_2e-59),
];

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / b.abs()
    }
}

#[test]
fn agrees_with_mpmath_to_1e_12_relative() {
    for &(n, r, k, pd, pm) in KNOWN {
        let o = odds(n, r, k).expect("valid");
        assert!(
            rel(o.p_detect, pd) < 1e-12,
            "p_detect({n},{r},{k}) = {} vs {pd}: {}",
            o.p_detect,
            rel(o.p_detect, pd)
        );
        assert!(
            rel(o.p_miss, pm) < 1e-12,
            "p_miss({n},{r},{k}) = {} vs {pm}: {}",
            o.p_miss,
            rel(o.p_miss, pm)
        );
    }
}

#[test]
fn large_population_few_violations_where_scipy_goes_wrong() {
    // mpmath 1.3.0 (60 digits): ln P(miss) = -4.17424117249384705e-6 for
    // N = 790,563,676, R = 2, K = 1,650. scipy 1.17.1 hypergeom.logpmf(0, …)
    // returns +1.9098778381021475e-06 here: a probability above one.
    let l = ln_p_miss(790_563_676, 2, 1650).expect("valid");
    assert!(rel(l, -4.174_241_172_493_847_05e-6) < 1e-12, "{l}");
}

#[test]
fn miss_probabilities_far_below_1e_300_stay_finite_in_log() {
    // mpmath: P(miss) for N = 10^6, r = n = 10^5 is 3.3891808578850723e-4836.
    let o = odds(1_000_000, 100_000, 100_000).expect("valid");
    assert_eq!(o.p_detect, 1.0);
    let want = -4836.0 + 3.389_180_857_885_072_3f64.log10();
    let got = o.log10_p_miss.expect("finite");
    assert!(rel(got, want) < 1e-12, "{got} vs {want}");
}

#[test]
fn edge_cases() {
    assert_eq!(odds(10, 0, 5).expect("ok").p_detect, 0.0);
    assert_eq!(odds(10, 3, 0).expect("ok").p_detect, 0.0);
    let full = odds(50, 1, 50).expect("ok");
    assert_eq!(
        (full.p_detect, full.p_miss, full.log10_p_miss),
        (1.0, 0.0, None)
    );
    assert_eq!(odds(10, 10, 1).expect("ok").p_detect, 1.0);
    // Every clean item drawn: P(miss) = 1 / C(10, 7) = 1/120.
    assert!(rel(odds(10, 3, 7).expect("ok").p_miss, 1.0 / 120.0) < 1e-14);
}

#[test]
fn bad_input_is_refused() {
    assert!(matches!(
        odds(10, 11, 1),
        Err(OddsError::ViolationsExceedPopulation { .. })
    ));
    assert!(matches!(
        odds(10, 1, 11),
        Err(OddsError::SamplesExceedPopulation { .. })
    ));
    assert!(matches!(sample_size(10, 1, 0.0), Err(OddsError::Target(_))));
    assert!(matches!(sample_size(10, 1, 1.5), Err(OddsError::Target(_))));
    assert!(matches!(
        sample_size(10, 1, f64::NAN),
        Err(OddsError::Target(_))
    ));
    assert!(matches!(
        odds(2_000_000_000_000_000, 1, 1),
        Err(OddsError::TooLarge(_))
    ));
}

#[test]
fn sample_size_is_the_smallest_reaching_the_target() {
    // IAEA-style: 90 % detection of 5 defects among 100 items. Expected values
    // computed independently: 37 with scipy 1.17.1 (hypergeom.sf), and
    // 223,144 by bisection over mpmath 1.3.0 lnΓ at 50 digits.
    let n = sample_size(100, 5, 0.9).expect("ok");
    assert_eq!(n, 37);
    assert!(odds(100, 5, n).expect("ok").p_detect >= 0.9);
    assert!(odds(100, 5, n - 1).expect("ok").p_detect < 0.9);
    assert_eq!(sample_size(100, 5, 1.0).expect("ok"), 96);
    assert_eq!(
        sample_size(1_000_000_000_000, 1_000_000, 0.2).expect("ok"),
        223_144
    );
}

/// Brute force: the exact expectation over every m-subset of sites.
fn brute_two_stage(sites: &[Stage], m: usize) -> f64 {
    let s = sites.len();
    let (mut total, mut count) = (0.0, 0u64);
    for mask in 0u32..(1 << s) {
        if mask.count_ones() as usize != m {
            continue;
        }
        let mut prod = 1.0;
        for (i, x) in sites.iter().enumerate() {
            if mask & (1 << i) != 0 {
                prod *= odds(x.population, x.violations, x.samples)
                    .expect("ok")
                    .p_miss;
            }
        }
        total += prod;
        count += 1;
    }
    total / count as f64
}

#[test]
fn two_stage_equals_brute_force() {
    let sites = [
        Stage {
            population: 150,
            violations: 3,
            samples: 1,
        },
        Stage {
            population: 150,
            violations: 0,
            samples: 1,
        },
        Stage {
            population: 120,
            violations: 10,
            samples: 2,
        },
        Stage {
            population: 46,
            violations: 46,
            samples: 1,
        },
        Stage {
            population: 20,
            violations: 1,
            samples: 5,
        },
        Stage {
            population: 8,
            violations: 2,
            samples: 3,
        },
    ];
    for m in 0..=sites.len() {
        let got = ln_p_miss_two_stage(&sites, m).expect("ok").exp();
        let want = brute_two_stage(&sites, m);
        assert!(
            (got - want).abs() <= 1e-14 + 1e-12 * want,
            "m = {m}: {got} vs {want}"
        );
    }
    assert!(ln_p_miss_two_stage(&sites, 7).is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

    #[test]
    fn agrees_with_the_product_formula(n in 1u64..2000, a in 0u64..2000, b in 0u64..2000) {
        let r = a % (n + 1);
        let k = b % (n + 1);
        // Direct product, fine at these sizes: Π_{i<k} (N−r−i)/(N−i).
        let mut direct = 0.0f64;
        let mut zero = false;
        for i in 0..k {
            if n - i <= r { zero = true; break; }
            direct += ((n - r - i) as f64 / (n - i) as f64).ln();
        }
        let got = ln_p_miss(n, r, k).expect("valid");
        if zero || (r > 0 && k + r > n) {
            proptest::prop_assert_eq!(got, f64::NEG_INFINITY);
        } else {
            proptest::prop_assert!((got - direct).abs() <= 1e-11 * direct.abs().max(1e-300) + 1e-13, "{} vs {}", got, direct);
        }
    }

    #[test]
    fn detection_grows_with_samples_and_violations(n in 2u64..1_000_000_000_000, r in 1u64..1000, k in 1u64..1000) {
        let r = r.min(n - 1);
        let k = k.min(n - r);
        let p = odds(n, r, k).expect("ok").p_detect;
        proptest::prop_assert!((0.0..=1.0).contains(&p));
        if k < n - r {
            proptest::prop_assert!(odds(n, r, k + 1).expect("ok").p_detect >= p);
        }
        if r < n - k {
            proptest::prop_assert!(odds(n, r + 1, k).expect("ok").p_detect >= p);
        }
    }
}
