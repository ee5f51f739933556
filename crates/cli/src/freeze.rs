//! `accord freeze …`

use accord_freeze::declaration::DeclareInput;
use accord_freeze::{
    challenge_from_checkpoint, declare, disclose, parse_disclosure, parse_public, parse_records,
    verify, verify_disclosure, Category, Disclosure, FreezeError, Public, Secret, Selector,
    VerifiedDeclaration, VerifiedDisclosure,
};
use anyhow::{bail, Context, Result};
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub(crate) enum Cmd {
    /// Commit to a complete stockpile declaration and prove the cap (and a
    /// freeze against a baseline). Writes DIR/public.json and DIR/secret/.
    /// Refuses (exit 1) when the total exceeds the cap or the baseline's total.
    Declare {
        /// The declaring party.
        #[arg(long)]
        party: String,
        /// Records: JSON Lines `{id, type, category, site}` or CSV `id,type,category,site`.
        #[arg(long)]
        records: PathBuf,
        /// The cap on the total.
        #[arg(long)]
        cap: u64,
        /// Output directory (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// A baseline declaration directory: also prove total ≤ its total.
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Treaty.
        #[arg(long, default_value = "freeze-2020")]
        treaty: String,
        /// As-of date.
        #[arg(long, default_value = "2021-02-05")]
        date: chrono::NaiveDate,
        /// Leaves in all (a public bound on the records; default: next power of two).
        #[arg(long)]
        padded_size: Option<u64>,
        /// A signed checkpoint of the party's log to bind the proofs to.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Verify every proof of a declaration (exit 1 naming the proof that fails).
    Verify {
        /// DIR/public.json.
        public: PathBuf,
        /// The baseline's public.json, for a freeze.
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disclose a site, a category at a site, a category at every site (each
    /// proven complete against its commitment), or one record.
    Disclose {
        /// DIR/secret of the declaration.
        #[arg(long)]
        secret: PathBuf,
        /// A site (with --category: that category at that site).
        #[arg(long, conflicts_with = "id")]
        site: Option<String>,
        /// A category (alone: that category at every site).
        #[arg(long, conflicts_with = "id")]
        category: Option<String>,
        /// An identifier.
        #[arg(long)]
        id: Option<String>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a disclosure against the declaration (its proofs are verified
    /// first) and earlier disclosures.
    VerifyDisclosure {
        /// DIR/public.json.
        public: PathBuf,
        /// The baseline's public.json, when the declaration proves a freeze.
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// The disclosure.
        file: PathBuf,
        /// Earlier disclosures of the same declaration.
        #[arg(long, num_args = 1..)]
        earlier: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The sites to disclose: from a draw's transcript (`--transcript`, with
    /// `--vkey` pins: a draw neither party controls, see `accord draw`), or
    /// from a signed checkpoint of the declaring party's log that includes
    /// the declaration (`--checkpoint`, `--log-key`, `--count`; the
    /// declaring party writes that log and can grind this draw).
    Challenge {
        /// DIR/public.json.
        public: PathBuf,
        /// The baseline's public.json, when the declaration proves a freeze.
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// A freeze challenge's draw transcript.
        #[arg(long, conflicts_with_all = ["checkpoint", "log_key", "count"], requires = "vkeys")]
        transcript: Option<PathBuf>,
        /// With --transcript: a verifier key the draw may use (repeat).
        #[arg(long = "vkey")]
        vkeys: Vec<PathBuf>,
        /// The signed (ideally cosigned) checkpoint note.
        #[arg(long, requires_all = ["log_key", "count"])]
        checkpoint: Option<PathBuf>,
        /// The declaring log's verifier key (the checkpoint must verify with it).
        #[arg(long)]
        log_key: Option<PathBuf>,
        /// Sites to draw from the checkpoint.
        #[arg(long)]
        count: Option<usize>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The chance that K challenges find at least one of R hidden or misdeclared items among N.
    Odds(crate::inspect::OddsArgs),
}

pub(crate) fn read_public(path: &Path) -> Result<Public> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    parse_public(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn read_disclosure(path: &Path) -> Result<Disclosure> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    parse_disclosure(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The verified declaration, or the failed check printed (exit 1).
fn verified(
    public: &Path,
    baseline: Option<&Path>,
) -> Result<Result<VerifiedDeclaration, ExitCode>> {
    let p = read_public(public)?;
    let b = baseline.map(read_public).transpose()?;
    match verify(&p, b.as_ref()) {
        Ok(v) => Ok(Ok(v)),
        Err(e @ FreezeError::Verification { .. }) => {
            println!("{}: {e}", public.display());
            Ok(Err(ExitCode::from(1)))
        }
        Err(e) => bail!("{e}"),
    }
}

fn read_secret(dir: &Path) -> Result<Secret> {
    Ok(accord_freeze::files::read_secret(dir)?)
}

fn write_declaration(out: &Path, public: &Public, secret: &Secret) -> Result<()> {
    Ok(accord_freeze::files::write_declaration(
        out, public, secret,
    )?)
}

fn input_error(e: FreezeError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub(crate) fn run(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::Declare {
            party,
            records,
            cap,
            out,
            baseline,
            treaty,
            date,
            padded_size,
            checkpoint,
        } => {
            let name = records.display().to_string();
            let text = std::fs::read_to_string(&records).with_context(|| name.clone())?;
            let recs = parse_records(&name, &text).map_err(input_error)?;
            let base = match &baseline {
                Some(dir) => Some((
                    read_public(&dir.join("public.json"))?,
                    read_secret(&dir.join("secret"))?,
                )),
                None => None,
            };
            let cp = checkpoint
                .as_ref()
                .map(std::fs::read_to_string)
                .transpose()
                .context("--checkpoint")?;
            let mut rng =
                rand_chacha::ChaCha20Rng::from_rng(rand::rngs::OsRng).context("randomness")?;
            let date_s = date.to_string();
            // Proving takes about a second per thousand records: a spinner.
            let many = recs.len() > 500;
            let input = DeclareInput {
                party: &party,
                treaty: &treaty,
                date: &date_s,
                records: recs,
                cap,
                padded_size,
                checkpoint: cp,
                baseline: base.as_ref().map(|(p, s)| (p, s)),
            };
            let pb = accord_report::progress::spinner(many, "committing and proving");
            let declared = declare(input, &mut rng);
            pb.finish_and_clear();
            match declared {
                Ok(d) => {
                    write_declaration(&out, &d.public, &d.secret)?;
                    println!(
                        "declared {} records of {party} at {} sites (padded to {}); total ≤ {cap}{} proven",
                        d.secret.records.len(),
                        d.public.sites.len(),
                        d.public.padded_size,
                        if d.public.freeze_proof.is_some() { " and ≤ the baseline" } else { "" }
                    );
                    println!(
                        "  public: {}/public.json   secret (keep it): {}/secret/ (mode 0700/0600)",
                        out.display(),
                        out.display()
                    );
                }
                Err(e @ FreezeError::Refused(_)) => {
                    println!("{}", e.to_string().replacen("refused: ", "REFUSED: ", 1));
                    return Ok(ExitCode::from(1));
                }
                Err(e) => bail!("{e}"),
            }
        }
        Cmd::Verify {
            public,
            baseline,
            json,
        } => {
            let p = read_public(&public)?;
            let b = baseline.as_deref().map(read_public).transpose()?;
            match verify(&p, b.as_ref()) {
                Ok(v) => crate::emit(json, &v, |v| format!("{v}\n"))?,
                Err(e @ FreezeError::Verification { .. }) => {
                    println!("{e}");
                    return Ok(ExitCode::from(1));
                }
                Err(e) => bail!("{e}"),
            }
        }
        Cmd::Disclose {
            secret,
            site,
            category,
            id,
            out,
        } => {
            let s = read_secret(&secret)?;
            let pub_path = secret
                .parent()
                .map(|d| d.join("public.json"))
                .unwrap_or_else(|| PathBuf::from("public.json"));
            let p = read_public(&pub_path)?;
            let cat = |c: &str| {
                Category::parse(c).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--category: `{c}` is not a category (deployed_strategic, non_deployed_strategic, non_strategic, awaiting_dismantlement)"
                    )
                })
            };
            let what = match (site, category, id) {
                (Some(s), None, None) => Selector::Site(s),
                (Some(s), Some(c), None) => Selector::SiteCategory(s, cat(&c)?),
                (None, Some(c), None) => Selector::Category(cat(&c)?),
                (None, None, Some(i)) => Selector::Id(i),
                _ => bail!("give --site, --category, both, or --id"),
            };
            let d = disclose(&p, &s, &what).map_err(input_error)?;
            std::fs::write(&out, serde_json::to_string_pretty(&d)? + "\n")?;
            println!(
                "disclosed {} record(s) ({} {}) to {}",
                d.count,
                d.kind,
                d.selector,
                out.display()
            );
        }
        Cmd::VerifyDisclosure {
            public,
            baseline,
            file,
            earlier,
            json,
        } => {
            let v = match verified(&public, baseline.as_deref())? {
                Ok(v) => v,
                Err(code) => return Ok(code),
            };
            let d = read_disclosure(&file)?;
            let before: Vec<Disclosure> = earlier
                .iter()
                .map(|f| read_disclosure(f))
                .collect::<Result<_>>()?;
            // Each earlier disclosure is verified in turn, against those before it.
            let mut checked: Vec<VerifiedDisclosure> = vec![];
            for (f, e) in earlier.iter().zip(&before) {
                match verify_disclosure(&v, e, &checked) {
                    Ok(x) => checked.push(x),
                    Err(e @ FreezeError::Verification { .. }) => {
                        println!("{} (earlier): {e}", f.display());
                        return Ok(ExitCode::from(1));
                    }
                    Err(e) => bail!("{e}"),
                }
            }
            match verify_disclosure(&v, &d, &checked) {
                Ok(x) => crate::emit(json, &x, |x| format!("{x}\n"))?,
                Err(e @ FreezeError::Verification { .. }) => {
                    println!("{e}");
                    return Ok(ExitCode::from(1));
                }
                Err(e) => bail!("{e}"),
            }
        }
        Cmd::Challenge {
            public,
            baseline,
            transcript,
            vkeys,
            checkpoint,
            log_key,
            count,
            json,
        } => {
            let v = match verified(&public, baseline.as_deref())? {
                Ok(v) => v,
                Err(code) => return Ok(code),
            };
            let c = match (transcript, checkpoint, log_key, count) {
                (Some(t), None, None, None) => {
                    let draw = match crate::draw::load_verified(&t, &vkeys)? {
                        Ok(d) => d,
                        Err(e) => {
                            println!("{}: FAILED {}: {e}", t.display(), e.check());
                            return Ok(ExitCode::from(1));
                        }
                    };
                    match accord_freeze::challenge_sites(&v, &draw) {
                        Ok(c) => c,
                        Err(e) => {
                            println!("{}: {e}", t.display());
                            return Ok(ExitCode::from(1));
                        }
                    }
                }
                (None, Some(checkpoint), Some(log_key), Some(count)) => {
                    let note = std::fs::read_to_string(&checkpoint)
                        .with_context(|| checkpoint.display().to_string())?;
                    let key = crate::log::read_verifier(&log_key)?;
                    let cp = match accord_log::open_checkpoint(&note, &key, &[]) {
                        Ok(cp) => cp,
                        Err(e) => {
                            println!("{}: {e}", checkpoint.display());
                            return Ok(ExitCode::from(1));
                        }
                    };
                    challenge_from_checkpoint(&v, &cp, count).map_err(input_error)?
                }
                _ => bail!(
                    "give --transcript with --vkey, or --checkpoint with --log-key and --count"
                ),
            };
            crate::emit(json, &c, |c| c.to_string())?;
        }
        Cmd::Odds(a) => crate::inspect::print_odds(&a)?,
    }
    Ok(ExitCode::SUCCESS)
}
