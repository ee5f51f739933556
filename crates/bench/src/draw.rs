//! `accord bench draw`: verifying a draw's transcript (signatures, inclusion
//! proofs, the commitment, the population's digest, the draw recomputed)
//! against the raw Ed25519 verifications the transcript holds, interleaved
//! in the same run (`accord_draw::bench`). Target: a ratio of at most 1.5.

use accord_report::table;
use anyhow::Result;
use std::process::ExitCode;

/// The target for verify ÷ Ed25519.
const TARGET: f64 = 1.5;

fn us(s: f64) -> String {
    format!("{:.1} µs", s * 1e6)
}

pub(crate) fn run(items: usize, rounds: usize, batch: usize, json: bool) -> Result<ExitCode> {
    let r = accord_draw::bench::verify_transcript(items, rounds, batch)?;
    if json {
        accord_report::print_json(&serde_json::json!({
            "report": r,
            "target_ratio": TARGET,
            "within_target": r.ratio <= TARGET,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "verify a draw transcript: {} items at {} sites, {} bytes of JSON, {} Ed25519 signatures",
        r.items, r.sites, r.transcript_bytes, r.signatures
    );
    println!("  medians of {rounds} rounds of {batch} calls each, the two interleaved:");
    let cpu = |x: Option<f64>| x.map_or_else(|| "n/a".to_string(), us);
    let rows = vec![
        vec![
            "accord_draw::verify".to_string(),
            us(r.verify_s),
            cpu(r.verify_cpu_s),
        ],
        vec![
            format!("its {} Ed25519 verifications alone", r.signatures),
            us(r.ed25519_s),
            cpu(r.ed25519_cpu_s),
        ],
        vec![
            "parsing the JSON (not counted)".to_string(),
            us(r.parse_s),
            String::new(),
        ],
    ];
    for line in table::render(&["per call", "wall", "CPU (this thread)"], &rows).lines() {
        println!("  {line}");
    }
    println!(
        "  ratio verify ÷ Ed25519: {:.2} wall{} (target ≤ {TARGET}: {})",
        r.ratio,
        r.ratio_cpu
            .map_or_else(String::new, |c| format!(", {c:.2} CPU")),
        if r.ratio <= TARGET {
            "met"
        } else {
            "NOT met on this run"
        }
    );
    println!("  (a shared machine's load moves the wall ratio; the CPU ratio counts it less)");
    Ok(ExitCode::SUCCESS)
}
