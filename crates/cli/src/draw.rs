//! `accord draw …`: parse, print, exit codes; the protocol is `accord-draw`.

use accord_draw::{parse_transcript, verify, DrawError, Keys, VerifiedDraw};
use anyhow::{Context, Result};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Largest transcript read, in bytes.
const MAX_TRANSCRIPT_BYTES: u64 = 256 * 1024 * 1024;

#[derive(clap::Subcommand)]
pub(crate) enum Cmd {
    /// Verify a draw's transcript: the commitment predates the population's
    /// checkpoint in the witness's view, the reveal opens the commitment,
    /// every signature verifies, the population is the logged one and the
    /// draw is the seed's. Exit 0 verified, 1 naming the failed check (or a
    /// finding, such as a late reveal), 2 for a malformed transcript naming
    /// the field.
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// The transcript (`*-transcript.json`).
    transcript: PathBuf,
    /// A verifier key the draw may use (repeat: the checking party's log,
    /// the checked party's log, the witness). Keys named in the transcript
    /// are trusted only when pinned here.
    #[arg(long = "vkey", required = true)]
    vkeys: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::Verify(a) => verify_cmd(&a),
    }
}

/// Reads, pins and verifies a transcript. `Ok(Err(e))` is a failed check
/// (exit 1); `Err` is bad input (exit 2).
pub(crate) fn load_verified(
    path: &Path,
    vkeys: &[PathBuf],
) -> Result<std::result::Result<VerifiedDraw, DrawError>> {
    let mut text = String::new();
    std::fs::File::open(path)
        .with_context(|| path.display().to_string())?
        .take(MAX_TRANSCRIPT_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| path.display().to_string())?;
    if text.len() as u64 > MAX_TRANSCRIPT_BYTES {
        anyhow::bail!(
            "{}: over {MAX_TRANSCRIPT_BYTES} bytes; not a transcript",
            path.display()
        );
    }
    let t = parse_transcript(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a draw transcript: {e}", path.display()))?;
    let pinned = vkeys
        .iter()
        .map(|p| crate::log::read_verifier(p))
        .collect::<Result<Vec<_>>>()?;
    Ok(Keys::pin(&t.keys, &pinned).and_then(|keys| verify(&t, &keys)))
}

fn verify_cmd(a: &VerifyArgs) -> Result<ExitCode> {
    let v = match load_verified(&a.transcript, &a.vkeys)? {
        Ok(v) => v,
        Err(e) => {
            if a.json {
                crate::print_json(&serde_json::json!({
                    "verified": false,
                    "check": e.check(),
                    "error": e.to_string(),
                }))?;
            } else {
                println!("{}: FAILED {}: {e}", a.transcript.display(), e.check());
            }
            return Ok(ExitCode::from(1));
        }
    };
    if a.json {
        crate::print_json(&v)?;
    } else {
        let p = v.purpose();
        println!(
            "verified: draw {} ({}), {} checks {}, witness {}",
            p.draw,
            p.kind.as_str(),
            p.checking.party,
            p.checked.party,
            v.witness()
        );
        println!(
            "  commitment cosigned {}; population {}; reveal {}",
            accord_draw::transcript::utc(v.commitment_cosigned_at()),
            accord_draw::transcript::utc(v.population_cosigned_at()),
            accord_draw::transcript::utc(v.revealed_at())
        );
        if let Some(s) = v.subject() {
            println!("  population of {s}: {} sites", v.population_sites().len());
        }
        println!("  seed {}", v.seed());
        for (i, pick) in v.picks().iter().enumerate() {
            if pick.items.is_empty() {
                println!("  {:>3}. {}", i + 1, pick.site);
            } else {
                println!("  {:>3}. {}: {}", i + 1, pick.site, pick.items.join(", "));
            }
        }
        for f in v.findings() {
            println!("  [{}] against {}: {}", f.kind, f.against, f.message);
        }
    }
    Ok(crate::finding_code(!v.findings().is_empty()))
}
