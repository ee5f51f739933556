//! Running the `accord` binary in tests.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `accord ARGS` in `dir`.
pub fn accord(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs")
}

/// Standard output and error together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Standard output as JSON.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}
