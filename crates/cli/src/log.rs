//! `accord keygen`, `accord log …`, `accord witness …`

use accord_log::merkle::{self, Hash};
use accord_log::note::{Note, Signer, Verifier};
use accord_log::witness::{
    decode_hashes, encode_hashes, ConsistencyProofJson, Evidence, InclusionProofJson,
};
use accord_log::{audit, verify, LogStore, Witness, WitnessError};
use anyhow::{bail, Context, Result};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct KeygenArgs {
    /// Key name, e.g. `accord/new-start/US` (no spaces or '+'). Files are
    /// named after it, with '/' replaced by '_'.
    #[arg(long)]
    name: String,
    /// Directory for NAME.key (mode 0600) and NAME.vkey.
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn keygen(a: KeygenArgs) -> Result<ExitCode> {
    let (signer, files) = accord_log::keys::generate_key_pair(&a.name, &a.out)?;
    let (key, vkey) = (files.key, files.vkey);
    println!("{}", signer.verifier());
    eprintln!("signer key: {} (mode 0600, keep it secret)", key.display());
    eprintln!("verifier key: {}", vkey.display());
    eprintln!(
        "as a witness (cosignature/v1) this key verifies as: {}",
        signer.cosigner_verifier()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn read_signer(path: &Path) -> Result<Signer> {
    Ok(accord_log::keys::read_signer(path)?)
}

pub(crate) fn read_verifier(path: &Path) -> Result<Verifier> {
    Ok(accord_log::keys::read_verifier(path)?)
}

#[derive(clap::Subcommand)]
pub(crate) enum LogCmd {
    /// Create an empty log. The store remembers where the signer key is.
    Init {
        /// The log's SQLite file (must not exist).
        #[arg(long)]
        store: PathBuf,
        /// Origin line of its checkpoints, e.g. accord/new-start/US.
        #[arg(long)]
        origin: String,
        /// The signer key file (from `accord keygen`).
        #[arg(long)]
        key: PathBuf,
    },
    /// Append JSON objects read from standard input, one a line; each is
    /// canonicalised (RFC 8785) and becomes an entry. Prints each assigned
    /// index once it is durable. A bad line appends nothing (of its batch).
    Append {
        /// The log.
        #[arg(long)]
        store: PathBuf,
        /// Also sign a checkpoint afterwards (printed to standard error).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Entries per durable transaction (default: all of them at once).
        #[arg(long)]
        batch: Option<usize>,
    },
    /// Print the latest signed checkpoint, signing a new one first if the log grew.
    Checkpoint {
        /// The log.
        #[arg(long)]
        store: PathBuf,
        /// Signer key (default: the one named at `log init`).
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Print the stored bytes of an entry, exactly.
    Entry {
        /// The log.
        #[arg(long)]
        store: PathBuf,
        /// Entry index.
        #[arg(long)]
        index: u64,
    },
    /// Make a proof (JSON).
    #[command(subcommand)]
    Prove(ProveCmd),
    /// Verify a proof against a signed checkpoint (exit 1 if it fails).
    #[command(subcommand)]
    Verify(VerifyCmd),
    /// Recompute everything from the entries: leaves, tree, every checkpoint
    /// and its signature. Exit 0 clean, 1 tampering found, 2 bad input.
    Audit {
        /// The log.
        #[arg(long)]
        store: PathBuf,
        /// The log's verifier key (trust this, not the store's copy).
        #[arg(long)]
        vkey: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Subcommand)]
pub(crate) enum ProveCmd {
    /// `{"leaf_index", "tree_size", "hashes"}` for an entry.
    Inclusion {
        /// The log.
        #[arg(long)]
        store: PathBuf,
        /// Entry index.
        #[arg(long)]
        index: u64,
        /// Tree size (default: the current size).
        #[arg(long)]
        size: Option<u64>,
    },
    /// `{"old_size", "new_size", "hashes"}` between two sizes.
    Consistency {
        /// The log.
        #[arg(long)]
        store: PathBuf,
        /// Older size.
        #[arg(long)]
        old: u64,
        /// Newer size (default: the current size).
        #[arg(long)]
        new: Option<u64>,
    },
}

#[derive(clap::Subcommand)]
pub(crate) enum VerifyCmd {
    /// An entry is in the tree a signed checkpoint commits to.
    Inclusion {
        /// The log's verifier key.
        #[arg(long)]
        vkey: PathBuf,
        /// The signed checkpoint note.
        #[arg(long)]
        checkpoint: PathBuf,
        /// The proof JSON.
        #[arg(long)]
        proof: PathBuf,
        /// The entry's bytes (as `log entry` prints them).
        #[arg(long)]
        entry: Option<PathBuf>,
        /// Or its leaf hash, base64.
        #[arg(long)]
        leaf_hash: Option<String>,
    },
    /// A signed checkpoint extends an older signed checkpoint.
    Consistency {
        /// The log's verifier key.
        #[arg(long)]
        vkey: PathBuf,
        /// The newer signed checkpoint.
        #[arg(long)]
        checkpoint: PathBuf,
        /// The older signed checkpoint.
        #[arg(long)]
        old_checkpoint: PathBuf,
        /// The proof JSON.
        #[arg(long)]
        proof: PathBuf,
    },
}

fn key_path_of(log: &LogStore) -> Result<PathBuf> {
    let p = log.key_path().context("reading the log's meta")?;
    p.map(PathBuf::from).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: no signer key recorded; pass --key",
            log.path().display()
        )
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a proof of the expected shape", path.display()))
}

fn hashes(path: &Path, list: &[String]) -> Result<Vec<Hash>> {
    decode_hashes(list).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub(crate) fn run(cmd: LogCmd) -> Result<ExitCode> {
    match cmd {
        LogCmd::Init { store, origin, key } => {
            let signer = read_signer(&key)?;
            let log = LogStore::init(&store, &origin, &signer.verifier())?;
            let abs = std::fs::canonicalize(&key).unwrap_or(key);
            log.set_key_path(&abs.display().to_string())?;
            println!(
                "created log {} for {origin}, verifier key {}",
                store.display(),
                signer.verifier()
            );
        }
        LogCmd::Append { store, key, batch } => {
            let mut log = LogStore::open(&store)?;
            let signer = key.as_deref().map(read_signer).transpose()?;
            let mut out = std::io::stdout().lock();
            let batch = batch.unwrap_or(usize::MAX);
            let stdin = std::io::stdin().lock();
            accord_log::lines::append_lines(&mut log, "stdin", stdin, batch, |i| {
                writeln!(out, "{i}")?;
                out.flush()
            })?;
            if let Some(s) = signer {
                let note = log.checkpoint(&s)?;
                eprint!("{note}");
            }
        }
        LogCmd::Checkpoint { store, key } => {
            let mut log = LogStore::open(&store)?;
            let key = match key {
                Some(k) => k,
                None => key_path_of(&log)?,
            };
            let signer = read_signer(&key)?;
            print!("{}", log.checkpoint(&signer)?);
        }
        LogCmd::Entry { store, index } => {
            let log = LogStore::open(&store)?;
            let mut out = std::io::stdout().lock();
            out.write_all(&log.entry(index)?)?;
            out.flush()?;
        }
        LogCmd::Prove(ProveCmd::Inclusion { store, index, size }) => {
            let log = LogStore::open(&store)?;
            let size = size.unwrap_or(log.size());
            let p = log.inclusion_proof(index, size)?;
            crate::print_json(&InclusionProofJson {
                leaf_index: index,
                tree_size: size,
                hashes: encode_hashes(&p),
            })?;
        }
        LogCmd::Prove(ProveCmd::Consistency { store, old, new }) => {
            let log = LogStore::open(&store)?;
            let new = new.unwrap_or(log.size());
            let p = log.consistency_proof(old, new)?;
            crate::print_json(&ConsistencyProofJson {
                old_size: old,
                new_size: new,
                hashes: encode_hashes(&p),
            })?;
        }
        LogCmd::Verify(VerifyCmd::Inclusion {
            vkey,
            checkpoint,
            proof,
            entry,
            leaf_hash,
        }) => {
            let v = read_verifier(&vkey)?;
            let leaf = match (entry, leaf_hash) {
                (Some(e), None) => {
                    merkle::leaf_hash(&std::fs::read(&e).with_context(|| e.display().to_string())?)
                }
                (None, Some(h)) => decode_hashes(&[h])
                    .map_err(|_| anyhow::anyhow!("--leaf-hash: not a base64 32-byte hash"))?[0],
                _ => bail!("give exactly one of --entry and --leaf-hash"),
            };
            let p: InclusionProofJson = read_json(&proof)?;
            let checked = read_note(&checkpoint).and_then(|n| {
                let cp = verify::checkpoint(&checkpoint.display().to_string(), &n, &v)?;
                verify::inclusion(&cp, &proof.display().to_string(), &p, &leaf)?;
                Ok(cp)
            });
            return verdict(checked.map(|cp| {
                format!(
                    "verified: entry {} is in {} at size {} (signed by {})",
                    p.leaf_index,
                    cp.origin,
                    cp.size,
                    v.name()
                )
            }));
        }
        LogCmd::Verify(VerifyCmd::Consistency {
            vkey,
            checkpoint,
            old_checkpoint,
            proof,
        }) => {
            let v = read_verifier(&vkey)?;
            let p: ConsistencyProofJson = read_json(&proof)?;
            let checked = (|| {
                let new = verify::checkpoint(
                    &checkpoint.display().to_string(),
                    &read_note(&checkpoint)?,
                    &v,
                )?;
                let old = verify::checkpoint(
                    &old_checkpoint.display().to_string(),
                    &read_note(&old_checkpoint)?,
                    &v,
                )?;
                verify::consistency(&old, &new, &proof.display().to_string(), &p)?;
                Ok((old, new))
            })();
            return verdict(checked.map(|(old, new)| {
                format!(
                    "verified: {} at size {} extends size {}",
                    new.origin, new.size, old.size
                )
            }));
        }
        LogCmd::Audit { store, vkey, json } => {
            let v = read_verifier(&vkey)?;
            let log = LogStore::open(&store)?;
            if log.verifier() != &v {
                eprintln!(
                    "note: the store records another verifier key ({}); auditing with {}",
                    log.verifier(),
                    v
                );
            }
            let pb = accord_report::progress::spinner(log.size() > 200_000, "auditing");
            let r = audit(&log, &v)?;
            pb.finish_and_clear();
            crate::emit(json, &r, |r| r.to_string())?;
            return Ok(crate::finding_code(!r.is_clean()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A file's text, as verification input.
fn read_note(path: &Path) -> Result<String, verify::VerifyError> {
    std::fs::read_to_string(path).map_err(|e| verify::VerifyError::Input {
        what: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Exit 0 and the message when verified; 1 when a check failed; 2 (an
/// error) when the input was malformed.
fn verdict(r: Result<String, verify::VerifyError>) -> Result<ExitCode> {
    match r {
        Ok(m) => {
            println!("{m}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ verify::VerifyError::Failed { .. }) => {
            println!("verification FAILED: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(clap::Subcommand)]
pub(crate) enum WitnessCmd {
    /// Create a witness state that cosigns with a key (from `accord keygen`).
    Init {
        /// The witness's SQLite state (must not exist).
        #[arg(long)]
        state: PathBuf,
        /// The witness's signer key.
        #[arg(long)]
        key: PathBuf,
    },
    /// Follow a log: its origin and verifier key.
    AddLog {
        /// Witness state.
        #[arg(long)]
        state: PathBuf,
        /// The log's origin.
        #[arg(long)]
        origin: String,
        /// The log's verifier key.
        #[arg(long)]
        vkey: PathBuf,
    },
    /// Cosign a checkpoint if it extends the last one cosigned for its log
    /// (prints the cosigned note). On a split view: refuse, write evidence, exit 1.
    Cosign {
        /// Witness state.
        #[arg(long)]
        state: PathBuf,
        /// The signed checkpoint note.
        #[arg(long)]
        checkpoint: PathBuf,
        /// The consistency proof JSON from the witness's last size (omit for the first checkpoint).
        #[arg(long)]
        proof: Option<PathBuf>,
        /// Where to write evidence of a split view.
        #[arg(long, default_value = "evidence.json")]
        evidence: PathBuf,
    },
    /// Evidence of a split view.
    #[command(subcommand)]
    Evidence(EvidenceCmd),
}

#[derive(clap::Subcommand)]
pub(crate) enum EvidenceCmd {
    /// Check evidence with the log's verifier key: exit 1 when it shows the
    /// log misbehaved, 0 when it does not, 2 when it is not evidence at all.
    Verify {
        /// The evidence JSON.
        file: PathBuf,
        /// The log's verifier key.
        #[arg(long)]
        vkey: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn open_witness(state: &Path) -> Result<Witness> {
    if !state.is_file() {
        bail!(
            "{}: no witness state (make one with `accord witness init`)",
            state.display()
        );
    }
    let key = Witness::key_path(state)?
        .ok_or_else(|| anyhow::anyhow!("{}: no key recorded", state.display()))?;
    Ok(Witness::open(state, read_signer(Path::new(&key))?)?)
}

pub(crate) fn witness(cmd: WitnessCmd) -> Result<ExitCode> {
    match cmd {
        WitnessCmd::Init { state, key } => {
            if state.exists() {
                bail!("{}: already exists", state.display());
            }
            let signer = read_signer(&key)?;
            let w = Witness::open(&state, signer)?;
            let abs = std::fs::canonicalize(&key).unwrap_or(key);
            w.set_key_path(&abs.display().to_string())?;
            println!("{}", w.verifier());
            eprintln!(
                "witness state {}; its cosignature/v1 verifier key is printed above",
                state.display()
            );
        }
        WitnessCmd::AddLog {
            state,
            origin,
            vkey,
        } => {
            let w = open_witness(&state)?;
            w.add_log(&origin, &read_verifier(&vkey)?)?;
            println!("following {origin}");
        }
        WitnessCmd::Cosign {
            state,
            checkpoint,
            proof,
            evidence,
        } => {
            let w = open_witness(&state)?;
            let note = std::fs::read_to_string(&checkpoint)
                .with_context(|| checkpoint.display().to_string())?;
            let (old, hs) = match &proof {
                Some(p) => {
                    let j: ConsistencyProofJson = read_json(p)?;
                    (j.old_size, hashes(p, &j.hashes)?)
                }
                None => (0, vec![]),
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            match w.add_checkpoint(&note, old, &hs, now) {
                Ok(line) => {
                    let mut n = Note::parse(&note)?;
                    n.add_line(line)?;
                    print!("{}", n.to_text());
                }
                Err(WitnessError::Inconsistent {
                    reason,
                    evidence: ev,
                }) => {
                    std::fs::write(&evidence, serde_json::to_string_pretty(&*ev)?)?;
                    println!("REFUSED: split view: {reason}");
                    println!(
                        "evidence: {} (check it with `accord witness evidence verify`)",
                        evidence.display()
                    );
                    return Ok(ExitCode::from(1));
                }
                Err(e @ WitnessError::BadSignature(_)) => {
                    println!(
                        "REFUSED ({}): {e}",
                        accord_node::error::witness_status(&e).as_u16()
                    );
                    return Ok(ExitCode::from(1));
                }
                Err(e) => bail!(
                    "refused ({}): {e}",
                    accord_node::error::witness_status(&e).as_u16()
                ),
            }
        }
        WitnessCmd::Evidence(EvidenceCmd::Verify { file, vkey, json }) => {
            let v = read_verifier(&vkey)?;
            let ev: Evidence = read_json(&file)?;
            let verdict = ev
                .verify(&v)
                .map_err(|e| anyhow::anyhow!("{}: not evidence: {e}", file.display()))?;
            if json {
                crate::print_json(&verdict)?;
            } else {
                println!("{}", verdict.summary);
            }
            return Ok(crate::finding_code(verdict.misbehaviour));
        }
    }
    Ok(ExitCode::SUCCESS)
}
