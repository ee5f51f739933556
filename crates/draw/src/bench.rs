//! The benchmark: verifying a transcript over a population of `n` items
//! (signatures, proofs, commitments, the population's digest, the draw)
//! against the raw Ed25519 verifications it contains, measured in the same
//! run. `accord bench draw` prints it; the target is a ratio of at most 1.5.

use crate::build::{honest_draw, BuildError, Clock, MemoryLog, Side, StatelessWitness};
use crate::entry::{DrawKind, PartyLog, Population, Purpose, Rule};
use crate::transcript::{parse_transcript, raw_key, Keys, Transcript};
use crate::verify::verify;
use accord_log::{Note, Signer, Verifier};
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use rand::SeedableRng;
use serde::Serialize;
use std::time::Instant;

/// What the benchmark measured (seconds are per call, medians).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Items in the population.
    pub items: usize,
    /// Sites in the population.
    pub sites: usize,
    /// Bytes of the transcript's JSON.
    pub transcript_bytes: usize,
    /// Ed25519 verifications a transcript holds (three checkpoints signed
    /// and cosigned, and the seal).
    pub signatures: usize,
    /// `accord_draw::verify` of a parsed transcript.
    pub verify_s: f64,
    /// The same Ed25519 verifications alone (`ed25519-dalek`).
    pub ed25519_s: f64,
    /// `verify_s / ed25519_s` (target ≤ 1.5).
    pub ratio: f64,
    /// CPU time per call of the verification, median over the rounds
    /// (Linux `schedstat`: the time this thread ran, so other load on a
    /// shared machine counts less), when the system reports it.
    pub verify_cpu_s: Option<f64>,
    /// CPU time per call of the raw Ed25519 verifications.
    pub ed25519_cpu_s: Option<f64>,
    /// `verify_cpu_s / ed25519_cpu_s`.
    pub ratio_cpu: Option<f64>,
    /// Parsing the transcript's JSON (reported apart: it is I/O, not
    /// verification).
    pub parse_s: f64,
}

/// An honest inspection-like transcript over `n_items` items at
/// `max(1, n_items / 100)` sites: ten draws with replacement, one item each.
pub fn transcript(n_items: usize) -> Result<(Transcript, Keys), BuildError> {
    let sites = (n_items / 100).max(1);
    let population = Population::of_items((0..sites).map(|s| {
        (
            format!("SITE-{s:04}"),
            (0..n_items / sites + usize::from(s < n_items % sites))
                .map(|i| format!("ITEM-{s:04}-{i:05}"))
                .collect(),
        )
    }));
    let us = Signer::from_seed("accord/bench/US", [1; 32])?;
    let ru = Signer::from_seed("accord/bench/RU", [2; 32])?;
    let w = Signer::from_seed("accord/bench/witness", [3; 32])?;
    let mut rule = Rule::distinct_sites(10.min(sites as u32));
    rule.replacement = true;
    rule.items_per_site = 1;
    let purpose = Purpose {
        draw: "bench/type_one".into(),
        kind: DrawKind::Inspection,
        checking: PartyLog {
            party: "US".into(),
            log: us.name().into(),
        },
        checked: PartyLog {
            party: "RU".into(),
            log: ru.name().into(),
        },
        rule,
    };
    let mut lu = MemoryLog::new(us.name());
    let mut lr = MemoryLog::new(ru.name());
    let (t, _) = honest_draw(
        purpose,
        population,
        None,
        Side {
            log: &mut lu,
            signer: &us,
        },
        Side {
            log: &mut lr,
            signer: &ru,
        },
        &mut StatelessWitness(w.clone()),
        Clock::starting(1_600_000_000),
        &mut rand_chacha::ChaCha20Rng::seed_from_u64(1),
    )?;
    let keys = Keys::new(us.verifier(), ru.verifier(), w.cosigner_verifier())?;
    Ok((t, keys))
}

/// Every Ed25519 verification `verify` makes on a transcript, as raw
/// (key, message, signature) triples.
fn signatures(t: &Transcript, keys: &Keys) -> Vec<(VerifyingKey, Vec<u8>, Signature)> {
    let mut out = vec![];
    let vk = |v: &Verifier| VerifyingKey::from_bytes(&raw_key(v)).ok();
    let mut add = |v: &Verifier, msg: Vec<u8>, sig: &[u8]| {
        if let (Some(k), Ok(s)) = (vk(v), Signature::from_slice(sig)) {
            out.push((k, msg, s));
        }
    };
    for (note, log) in [
        (&t.commitment_entry.checkpoint, keys.checking()),
        (&t.population_entry.checkpoint, keys.checked()),
        (&t.reveal_entry.checkpoint, keys.checking()),
    ] {
        let Ok(n) = Note::parse(note) else { continue };
        for s in &n.signatures {
            if s.name == log.name() {
                add(log, n.text.as_bytes().to_vec(), &s.signature);
            } else if s.name == keys.witness().name() && s.signature.len() == 72 {
                let mut ts = [0u8; 8];
                ts.copy_from_slice(&s.signature[..8]);
                let msg = format!(
                    "cosignature/v1\ntime {}\n{}",
                    u64::from_be_bytes(ts),
                    n.text
                );
                add(keys.witness(), msg.into_bytes(), &s.signature[8..]);
            }
        }
    }
    if let Ok(n) = Note::parse(&t.seal) {
        for s in &n.signatures {
            add(keys.checked(), n.text.as_bytes().to_vec(), &s.signature);
        }
    }
    out
}

/// The raw Ed25519 verifications of a transcript (for profilers).
#[doc(hidden)]
pub fn raw_signatures(t: &Transcript, keys: &Keys) -> Vec<(VerifyingKey, Vec<u8>, Signature)> {
    signatures(t, keys)
}

/// Nanoseconds this thread has run on a CPU (Linux), if known.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Measures verification of an honest transcript over `n_items` items
/// against its raw Ed25519 verifications, alternating the two in `rounds`
/// rounds of `batch` calls each (so both see the same machine load), and
/// reports the medians per call.
pub fn verify_transcript(
    n_items: usize,
    rounds: usize,
    batch: usize,
) -> Result<Report, BuildError> {
    let (t, keys) = transcript(n_items)?;
    let json = serde_json::to_string(&t).unwrap_or_default();
    let sigs = signatures(&t, &keys);
    // Warm up, and check both do what is measured.
    verify(&t, &keys)?;
    let ok = sigs.iter().all(|(k, m, s)| k.verify(m, s).is_ok());
    debug_assert!(ok, "every raw signature verifies");
    let (mut v, mut e, mut p) = (vec![], vec![], vec![]);
    let (mut v_cpu, mut e_cpu) = (Some(vec![]), Some(vec![]));
    // Per-round CPU seconds per call, or None once the system stops saying.
    let add = |acc: &mut Option<Vec<f64>>, a: Option<u64>, b: Option<u64>, calls: usize| match (
        acc.as_mut(),
        a,
        b,
    ) {
        (Some(v), Some(a), Some(b)) => v.push(b.saturating_sub(a) as f64 / 1e9 / calls as f64),
        _ => *acc = None,
    };
    let batch = batch.max(1);
    let rounds = rounds.max(1);
    for _ in 0..rounds {
        let (c0, t0) = (cpu_ns(), Instant::now());
        for _ in 0..batch {
            std::hint::black_box(verify(std::hint::black_box(&t), &keys)?);
        }
        v.push(t0.elapsed().as_secs_f64() / batch as f64);
        add(&mut v_cpu, c0, cpu_ns(), batch);
        let (c0, t0) = (cpu_ns(), Instant::now());
        for _ in 0..batch {
            for (k, m, s) in &sigs {
                std::hint::black_box(k.verify(std::hint::black_box(m), s).is_ok());
            }
        }
        e.push(t0.elapsed().as_secs_f64() / batch as f64);
        add(&mut e_cpu, c0, cpu_ns(), batch);
        let t0 = Instant::now();
        std::hint::black_box(parse_transcript(&json).ok());
        p.push(t0.elapsed().as_secs_f64());
    }
    let (verify_s, ed25519_s) = (median(v), median(e));
    let verify_cpu_s = v_cpu.map(median);
    let ed25519_cpu_s = e_cpu.map(median);
    Ok(Report {
        items: t.population.items() as usize,
        sites: t.population.sites.len(),
        transcript_bytes: json.len(),
        signatures: sigs.len(),
        verify_s,
        ed25519_s,
        ratio: if ed25519_s > 0.0 {
            verify_s / ed25519_s
        } else {
            0.0
        },
        parse_s: median(p),
        verify_cpu_s,
        ed25519_cpu_s,
        ratio_cpu: match (verify_cpu_s, ed25519_cpu_s) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        },
    })
}
