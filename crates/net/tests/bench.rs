//! The benchmark as a test: a small run that checks the report is sane
//! (always), and the full run that prints (`--ignored`).

use accord_net::bench::{run, BenchOptions};

#[test]
fn a_small_benchmark_run_measures_both_transports_and_holds_the_slowloris() {
    let r = run(&BenchOptions {
        requests: 200,
        rounds: 2,
        latency_samples: 50,
        slowloris: 20,
        ..BenchOptions::default()
    })
    .expect("bench");
    assert!(r.plaintext_rps > 0.0 && r.mtls_rps > 0.0, "{r}");
    assert!(r.idle_p99_ms >= r.idle_p50_ms && r.loaded_p99_ms >= r.loaded_p50_ms);
    assert_eq!(r.slowloris_held, 20, "{r}");
}

#[test]
#[ignore = "a benchmark: run with --ignored --nocapture, in release"]
fn transport_benchmark_prints() {
    let r = run(&BenchOptions::default()).expect("bench");
    println!("{r}");
}
