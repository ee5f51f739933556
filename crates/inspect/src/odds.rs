//! Exact detection odds.
//!
//! # One stage
//!
//! `n` items are drawn without replacement from `N`, of which `r` violate.
//! The chance that none of the `r` is drawn is hypergeometric,
//!
//! ```text
//! P(miss) = C(N−r, n) / C(N, n),    P(detect) = 1 − P(miss).
//! ```
//!
//! Differences of `ln Γ` lose everything at `N = 10¹²` (`ln Γ(10¹²) ≈ 2.6·10¹³`,
//! so one rounding is `~10⁻³` in the logarithm). Instead this follows
//! Loader's saddle-point form (C. Loader, *Fast and Accurate Computation of
//! Binomial Probabilities*, 2000; the method of R's `dhyper`). With
//! `p = n/N`, `q = 1 − p`, `b = N − r`:
//!
//! ```text
//! ln P(miss) = r·ln(1 − p)
//!            + δ(b) − δ(b − n) − δ(N) + δ(N − n)
//!            − bd0(n, b·p) − bd0(b − n, b·q)
//!            + ½·ln(1 + n·r / ((b − n)·N))
//! ```
//!
//! where `δ(m) = ln m! − (m + ½)·ln m + m − ln √(2π)` (Stirling's error) and
//! `bd0(x, M) = x·ln(x/M) + M − x` (the deviance), each evaluated by series
//! where a direct formula would cancel. Every term is either small or
//! computed with `log1p`, so the logarithm is accurate to a few ulps, and
//! `P(detect) = −expm1(ln P(miss))` keeps tiny detection probabilities exact
//! while `ln P(miss)` itself reports miss probabilities far below `1e-300`.
//!
//! # Two stages
//!
//! `m` of `S` sites are drawn uniformly without replacement; in each drawn
//! site `i`, `n_i` of its `N_i` items are drawn, `r_i` of which violate.
//! Then `P(miss) = E[Π_{i drawn} q_i]` with `q_i` the one-stage miss
//! probability of site `i`. Processing sites in order, with `k` the number
//! drawn so far, the chance the next site is drawn is `(m − k)/(S − i)`;
//! a forward pass over `(i, k)` sums these products exactly, in log space.

use serde::Serialize;

/// Why odds cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OddsError {
    /// More violations than items.
    #[error("violations ({r}) exceed the population ({n})")]
    ViolationsExceedPopulation {
        /// Violations.
        r: u64,
        /// Population.
        n: u64,
    },
    /// More samples than items.
    #[error("samples ({k}) exceed the population ({n})")]
    SamplesExceedPopulation {
        /// Samples.
        k: u64,
        /// Population.
        n: u64,
    },
    /// A target outside (0, 1].
    #[error("target {0} is outside (0, 1]")]
    Target(String),
    /// The population is beyond the supported range.
    #[error("population {0} is above the supported 10^15")]
    TooLarge(u64),
    /// Malformed two-stage input.
    #[error("{0}")]
    Stage(String),
}

/// Largest population accepted.
pub const MAX_POPULATION: u64 = 1_000_000_000_000_000;

/// Stirling's error `δ(n) = ln n! − (n + ½) ln n + n − ln √(2π)` for
/// n = 1..=15, computed with mpmath 1.3.0 at 60 significant digits (kept as
/// printed, for traceability; the compiler rounds each to the nearest double).
#[allow(clippy::excessive_precision)]
const STIRLERR: [f64; 16] = [
    0.0,
    0.081_061_466_795_327_258_22,
    0.041_340_695_955_409_294_094,
    0.027_677_925_684_998_339_149,
    0.020_790_672_103_765_093_112,
    0.016_644_691_189_821_192_163,
    0.013_876_128_823_070_747_999,
    0.011_896_709_945_891_770_095,
    0.010_411_265_261_972_096_497,
    0.009_255_462_182_712_732_917_7,
    0.008_330_563_433_362_871_256_5,
    0.007_573_675_487_951_840_795,
    0.006_942_840_107_209_529_865_7,
    0.006_408_994_188_004_207_068_4,
    0.005_951_370_112_758_847_735_6,
    0.005_554_733_551_962_801_371,
];

/// Stirling's error `δ(n)` (0 for n = 0, where only `δ(0)·0` terms arise).
fn stirlerr(n: f64) -> f64 {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    if n <= 15.0 {
        return STIRLERR[n as usize];
    }
    let nn = n * n;
    if n > 500.0 {
        return (S0 - S1 / nn) / n;
    }
    if n > 80.0 {
        return (S0 - (S1 - S2 / nn) / nn) / n;
    }
    if n > 35.0 {
        return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
    }
    (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
}

/// The deviance `bd0(x, M) = x ln(x/M) + M − x`, by series near `x = M`.
fn bd0(x: f64, m: f64) -> f64 {
    if x == 0.0 {
        return m;
    }
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        let mut ej = 2.0 * x * v;
        let v2 = v * v;
        for j in 1..1000 {
            ej *= v2;
            let s1 = s + ej / f64::from(2 * j + 1);
            if s1 == s {
                return s1;
            }
            s = s1;
        }
        return s;
    }
    x * (x / m).ln() + m - x
}

/// `ln C(n, k)` by a sum of logarithms (exact to rounding) for small `k`,
/// by Stirling with its error term otherwise.
fn ln_choose(n: u64, k: u64) -> f64 {
    let k = k.min(n - k);
    if k == 0 {
        return 0.0;
    }
    if k <= 64 {
        return (0..k).map(|i| ((n - i) as f64 / (k - i) as f64).ln()).sum();
    }
    let (n, k) = (n as f64, k as f64);
    let l2pi = (2.0 * std::f64::consts::PI).ln() / 2.0;
    (n + 0.5) * n.ln() - (k + 0.5) * k.ln() - (n - k + 0.5) * (n - k).ln() - l2pi + stirlerr(n)
        - stirlerr(k)
        - stirlerr(n - k)
}

fn check(population: u64, violations: u64, samples: u64) -> Result<(), OddsError> {
    if population > MAX_POPULATION {
        return Err(OddsError::TooLarge(population));
    }
    if violations > population {
        return Err(OddsError::ViolationsExceedPopulation {
            r: violations,
            n: population,
        });
    }
    if samples > population {
        return Err(OddsError::SamplesExceedPopulation {
            k: samples,
            n: population,
        });
    }
    Ok(())
}

/// `ln P(miss)`: the natural log of the chance that `samples` items drawn
/// without replacement from `population` include none of `violations`.
/// `-∞` when a miss is impossible.
pub fn ln_p_miss(population: u64, violations: u64, samples: u64) -> Result<f64, OddsError> {
    check(population, violations, samples)?;
    let (nn, r, n) = (population, violations, samples);
    if n == 0 || r == 0 {
        return Ok(0.0);
    }
    if n + r > nn {
        return Ok(f64::NEG_INFINITY);
    }
    let b = nn - r;
    if b == n {
        // Every non-violating item drawn: P(miss) = 1 / C(N, n).
        return Ok(-ln_choose(nn, n));
    }
    let (nf, rf, bf, sf) = (nn as f64, r as f64, b as f64, n as f64);
    let p = sf / nf;
    let q = (nn - n) as f64 / nf;
    let first = rf * (-p).ln_1p();
    let stir =
        (stirlerr(bf) - stirlerr((b - n) as f64)) - (stirlerr(nf) - stirlerr((nn - n) as f64));
    let dev = bd0(sf, bf * p) + bd0((b - n) as f64, bf * q);
    let corr = 0.5 * (sf * rf / ((b - n) as f64 * nf)).ln_1p();
    Ok(first + stir - dev + corr)
}

/// The odds of one stage, with their logarithms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Odds {
    /// Population `N`.
    pub population: u64,
    /// Violating items `r`.
    pub violations: u64,
    /// Items drawn `n`.
    pub samples: u64,
    /// Probability of drawing at least one violating item.
    pub p_detect: f64,
    /// Probability of drawing none.
    pub p_miss: f64,
    /// `log10 P(miss)` (finite far below where `p_miss` underflows; `null` if a miss is impossible).
    pub log10_p_miss: Option<f64>,
}

/// Detection odds of sampling `samples` of `population` with `violations` violating.
pub fn odds(population: u64, violations: u64, samples: u64) -> Result<Odds, OddsError> {
    let l = ln_p_miss(population, violations, samples)?;
    Ok(Odds {
        population,
        violations,
        samples,
        p_detect: -l.exp_m1(),
        p_miss: l.exp(),
        log10_p_miss: l.is_finite().then(|| l / std::f64::consts::LN_10),
    })
}

/// The smallest sample whose detection probability reaches `target`.
pub fn sample_size(population: u64, violations: u64, target: f64) -> Result<u64, OddsError> {
    if !(target > 0.0 && target <= 1.0) {
        return Err(OddsError::Target(target.to_string()));
    }
    check(population, violations, 0)?;
    if violations == 0 {
        return Err(OddsError::Target(format!(
            "{target} cannot be reached with no violations"
        )));
    }
    let (mut lo, mut hi) = (0u64, population - violations + 1);
    // Detection is monotone in the sample size: binary search.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if -ln_p_miss(population, violations, mid)?.exp_m1() >= target {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

/// One site in a two-stage draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Stage {
    /// Items at the site.
    pub population: u64,
    /// Violating items there.
    pub violations: u64,
    /// Items drawn if the site is drawn.
    pub samples: u64,
}

/// `ln P(miss)` when `sites_drawn` of the sites are drawn uniformly without
/// replacement and then sampled as each [`Stage`] says.
pub fn ln_p_miss_two_stage(sites: &[Stage], sites_drawn: usize) -> Result<f64, OddsError> {
    let s = sites.len();
    if sites_drawn > s {
        return Err(OddsError::Stage(format!(
            "{sites_drawn} sites drawn of {s}"
        )));
    }
    let lq: Vec<f64> = sites
        .iter()
        .map(|x| ln_p_miss(x.population, x.violations, x.samples))
        .collect::<Result<_, _>>()?;
    // f[k] = ln E[Π q over drawn sites so far; exactly k drawn so far].
    let m = sites_drawn;
    let mut f = vec![f64::NEG_INFINITY; m + 1];
    f[0] = 0.0;
    for (i, &lqi) in lq.iter().enumerate() {
        let left = (s - i) as f64;
        for k in (0..=m.min(i + 1)).rev() {
            // Not drawn: from state k, chance (S−i−(m−k))/(S−i).
            let stay = if k <= i && (m - k) as f64 <= left {
                let pn = ((left - (m - k) as f64) / left).ln();
                f[k] + pn
            } else {
                f64::NEG_INFINITY
            };
            // Drawn: from state k−1, chance (m−k+1)/(S−i), times q_i.
            let take = if k >= 1 {
                let pd = ((m - k + 1) as f64 / left).ln();
                f[k - 1] + pd + lqi
            } else {
                f64::NEG_INFINITY
            };
            f[k] = log_add(stay, take);
        }
    }
    Ok(f[m])
}

fn log_add(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

/// The smallest sample reaching a target (`accord inspect sample-size --json`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SampleSize {
    /// Items.
    pub population: u64,
    /// Violating items among them.
    pub violations: u64,
    /// The detection probability asked for.
    pub target: f64,
    /// Items to draw.
    pub samples: u64,
    /// The detection probability that many reaches (≥ `target`).
    pub p_detect: f64,
}

/// [`sample_size`] with the probability it reaches.
pub fn sample_size_report(
    population: u64,
    violations: u64,
    target: f64,
) -> Result<SampleSize, OddsError> {
    let samples = sample_size(population, violations, target)?;
    Ok(SampleSize {
        population,
        violations,
        target,
        samples,
        p_detect: odds(population, violations, samples)?.p_detect,
    })
}

/// The odds of a two-stage draw (`accord inspect two-stage --json`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TwoStage {
    /// Sites.
    pub sites: usize,
    /// Sites drawn.
    pub draw: usize,
    /// Chance at least one violation is found.
    pub p_detect: f64,
    /// Chance none is.
    pub p_miss: f64,
    /// `log10 P(miss)`.
    pub log10_p_miss: f64,
}

/// [`ln_p_miss_two_stage`] as probabilities.
pub fn two_stage(sites: &[Stage], draw: usize) -> Result<TwoStage, OddsError> {
    let l = ln_p_miss_two_stage(sites, draw)?;
    Ok(TwoStage {
        sites: sites.len(),
        draw,
        // 1 − e^l without cancellation when l is near 0.
        p_detect: -l.exp_m1(),
        p_miss: l.exp(),
        log10_p_miss: l / std::f64::consts::LN_10,
    })
}
