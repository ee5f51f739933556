//! `accord freeze …`

use accord_freeze::declaration::DeclareInput;
use accord_freeze::{
    challenge_sites, declare, disclose, parse_records, verify, verify_disclosure, Category,
    Disclosure, FreezeError, Public, Secret, Selector,
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
    /// Disclose a site (proven complete), a category, or one record.
    Disclose {
        /// DIR/secret of the declaration.
        #[arg(long)]
        secret: PathBuf,
        /// A site.
        #[arg(long, group = "what")]
        site: Option<String>,
        /// A category.
        #[arg(long, group = "what")]
        category: Option<String>,
        /// An identifier.
        #[arg(long, group = "what")]
        id: Option<String>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a disclosure against the declaration and earlier disclosures.
    VerifyDisclosure {
        /// DIR/public.json.
        public: PathBuf,
        /// The disclosure.
        file: PathBuf,
        /// Earlier disclosures of the same declaration.
        #[arg(long, num_args = 1..)]
        earlier: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Draw the sites to disclose from a signed checkpoint that includes the declaration.
    Challenge {
        /// DIR/public.json.
        public: PathBuf,
        /// The signed (ideally cosigned) checkpoint note.
        #[arg(long)]
        checkpoint: PathBuf,
        /// Sites to draw.
        #[arg(long)]
        count: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The chance that K challenges find at least one of R hidden or misdeclared items among N.
    Odds(crate::inspect::OddsArgs),
}

fn read_public(path: &Path) -> Result<Public> {
    Ok(accord_freeze::files::read_public(path)?)
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
            match declare(input, &mut rng) {
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
                Err(FreezeError::Refused(m)) => {
                    println!("REFUSED: {m}");
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
                Ok(v) => {
                    if json {
                        crate::print_json(&v)?;
                    } else {
                        println!(
                            "verified: {}'s declaration ({} sites): total ≤ {}{}",
                            v.party,
                            v.sites,
                            v.cap,
                            if v.freeze {
                                ", and ≤ the baseline's total"
                            } else {
                                ""
                            }
                        );
                    }
                }
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
            let what = match (site, category, id) {
                (Some(s), None, None) => Selector::Site(s),
                (None, Some(c), None) => Selector::Category(
                    Category::parse(&c)
                        .ok_or_else(|| anyhow::anyhow!("--category: `{c}` is not a category"))?,
                ),
                (None, None, Some(i)) => Selector::Id(i),
                _ => bail!("give exactly one of --site, --category and --id"),
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
            file,
            earlier,
            json,
        } => {
            let p = read_public(&public)?;
            let read = |f: &Path| -> Result<Disclosure> {
                let t = std::fs::read_to_string(f).with_context(|| f.display().to_string())?;
                serde_json::from_str(&t)
                    .with_context(|| format!("{}: not a disclosure", f.display()))
            };
            let d = read(&file)?;
            let before: Vec<Disclosure> = earlier.iter().map(|f| read(f)).collect::<Result<_>>()?;
            match verify_disclosure(&p, &d, &before) {
                Ok(v) => {
                    if json {
                        crate::print_json(&v)?;
                    } else {
                        println!(
                            "verified: {} record(s) of {} {}{}",
                            v.records,
                            v.kind,
                            v.selector,
                            if v.complete {
                                ", proven to be every record the site's commitment counts"
                            } else {
                                ""
                            }
                        );
                    }
                }
                Err(e @ FreezeError::Verification { .. }) => {
                    println!("{e}");
                    return Ok(ExitCode::from(1));
                }
                Err(e) => bail!("{e}"),
            }
        }
        Cmd::Challenge {
            public,
            checkpoint,
            count,
            json,
        } => {
            let p = read_public(&public)?;
            let note = std::fs::read_to_string(&checkpoint)
                .with_context(|| checkpoint.display().to_string())?;
            let c = challenge_sites(&p, &note, count).map_err(input_error)?;
            if json {
                crate::print_json(&c)?;
            } else {
                println!("seed SHA-256(checkpoint) = {}", c.seed);
                for s in &c.sites {
                    println!("  {s}");
                }
            }
        }
        Cmd::Odds(a) => crate::inspect::print_odds(&a)?,
    }
    Ok(ExitCode::SUCCESS)
}
