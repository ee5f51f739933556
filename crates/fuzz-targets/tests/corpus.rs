//! The fuzz corpora as a stable test: every seed, every repository file a
//! target reads, and every crash a fuzzer found and someone kept, through
//! the same functions the cargo-fuzz targets call.
//!
//! - `fuzz/corpus/<target>/`: seeds (`gen-*`, `repo-*`, `rfc6962-*`, and
//!   inputs found by fuzzing and kept);
//! - `fuzz/regressions/<target>/`: crashes found, and fixed: they must pass;
//! - `fuzz/known/<target>/`: crashes found in code outside the fuzz crate's
//!   scope, not yet fixed (each explained in `fuzz/known/README.md`); the
//!   ignored test `known_crashes_are_fixed` runs them.

use accord_fuzz_targets::seeds::{generated, REPO_FILES};
use accord_fuzz_targets::{target, Outcome, TARGETS};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The input files of `dir/<target>/` (no dot files, no README).
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            !n.starts_with('.') && !n.ends_with(".md")
        })
        .collect();
    out.sort();
    out
}

/// What went wrong with one input.
struct Failure {
    file: String,
    why: String,
}

/// Longest one input may take in this (unoptimised) build before it counts
/// as a hang; libFuzzer's own limit in `.ci/fuzz` is 10 s optimised.
const SLOW: Duration = Duration::from_secs(60);

fn run(name: &str, bytes: &[u8], file: String, failures: &mut Vec<Failure>) -> Option<Outcome> {
    let Some(t) = target(name) else {
        failures.push(Failure {
            file,
            why: format!("no target `{name}`"),
        });
        return None;
    };
    let start = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| (t.run)(bytes)));
    let took = start.elapsed();
    if took > SLOW {
        failures.push(Failure {
            file: file.clone(),
            why: format!("took {took:?}"),
        });
    }
    match r {
        Ok(o) => Some(o),
        Err(p) => {
            let why = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            failures.push(Failure { file, why });
            None
        }
    }
}

/// Runs every file of `root/<target>/` through its target.
fn run_dir(root: &str) -> (usize, Vec<Failure>) {
    let mut failures = vec![];
    let mut n = 0;
    for t in TARGETS {
        for f in inputs(&repo().join(root).join(t.name)) {
            let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let shown = format!(
                "{root}/{}/{}",
                t.name,
                f.file_name().unwrap_or_default().to_string_lossy()
            );
            run(t.name, &bytes, shown, &mut failures);
            n += 1;
        }
    }
    (n, failures)
}

fn report(what: &str, failures: &[Failure]) {
    if !failures.is_empty() {
        let lines: Vec<String> = failures
            .iter()
            .map(|f| format!("  {}: {}", f.file, f.why))
            .collect();
        panic!("{} {what} failed:\n{}", failures.len(), lines.join("\n"));
    }
}

#[test]
fn every_target_has_a_fuzz_target_file_and_a_seed_corpus() {
    let manifest =
        std::fs::read_to_string(repo().join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    for t in TARGETS {
        let src = repo().join(format!("fuzz/fuzz_targets/{}.rs", t.name));
        let text =
            std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        assert!(
            text.contains(&format!("accord_fuzz_targets::{}(", t.name)),
            "{} does not call accord_fuzz_targets::{}",
            src.display(),
            t.name
        );
        assert!(
            manifest.contains(&format!("name = \"{}\"", t.name)),
            "fuzz/Cargo.toml has no [[bin]] {}",
            t.name
        );
        let seeds = inputs(&repo().join("fuzz/corpus").join(t.name));
        assert!(
            seeds.len() >= 2,
            "fuzz/corpus/{} has {} seeds",
            t.name,
            seeds.len()
        );
    }
    // No stray target: every file in fuzz_targets/ is one of TARGETS.
    for f in inputs(&repo().join("fuzz/fuzz_targets")) {
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        assert!(target(stem).is_some(), "{} is not in TARGETS", f.display());
    }
    for d in ["corpus", "regressions", "known"] {
        let Ok(rd) = std::fs::read_dir(repo().join("fuzz").join(d)) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if e.path().is_dir() {
                assert!(target(&name).is_some(), "fuzz/{d}/{name} is not a target");
            }
        }
    }
}

#[test]
fn every_corpus_file_runs_without_breaking_an_invariant() {
    let (n, failures) = run_dir("fuzz/corpus");
    report("corpus inputs", &failures);
    assert!(n >= 2 * TARGETS.len(), "only {n} corpus files");
}

#[test]
fn every_kept_crash_runs_without_breaking_an_invariant() {
    let (_, failures) = run_dir("fuzz/regressions");
    report("kept crashes", &failures);
}

#[test]
#[ignore = "crashes found in other crates, not yet fixed: see fuzz/known/README.md"]
fn known_crashes_are_fixed() {
    accord_fuzz_targets::make_known_bugs_fatal();
    let (n, failures) = run_dir("fuzz/known");
    report("known crashes", &failures);
    println!("{n} known crashes now pass: move them to fuzz/regressions/");
}

#[test]
fn generated_seeds_are_accepted_or_refused_as_marked() {
    let mut failures = vec![];
    let seeds = generated();
    for s in &seeds {
        let file = format!("{}/{}", s.target, s.name);
        if let Some(o) = run(s.target, &s.bytes, file.clone(), &mut failures) {
            let want = Outcome::of(s.accepted);
            if o != want {
                failures.push(Failure {
                    file,
                    why: format!("{o:?}, expected {want:?}"),
                });
            }
        }
    }
    report("generated seeds", &failures);
    for t in TARGETS {
        assert!(
            seeds.iter().any(|s| s.target == t.name && s.accepted),
            "no accepted seed for {}",
            t.name
        );
    }
}

#[test]
fn the_repository_files_each_target_reads_are_accepted() {
    let mut failures = vec![];
    for (name, path) in REPO_FILES {
        let bytes = std::fs::read(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let file = format!("{name} <- {path}");
        if let Some(o) = run(name, &bytes, file.clone(), &mut failures) {
            if o != Outcome::Accepted {
                failures.push(Failure {
                    file,
                    why: "refused".into(),
                });
            }
        }
    }
    report("repository files", &failures);
}

#[test]
fn the_harness_reports_refusals_as_outcomes_and_unknown_targets_as_failures() {
    // A refused input is an outcome, not a failure; a target that does not
    // exist is a failure, not a silent pass.
    let mut failures = vec![];
    let o = run(
        "proofs",
        br#"{"old_size": 1, "new_size": 2, "hashes": ["AA=="]}"#,
        "x".into(),
        &mut failures,
    );
    assert!(failures.is_empty());
    assert_eq!(o, Some(Outcome::Rejected));
    let o = run("no_such_target", b"", "y".into(), &mut failures);
    assert_eq!(o, None);
    assert_eq!(failures.len(), 1);
}
