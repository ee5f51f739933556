//! `accord serve --config FILE`: run a party's node.

use accord_log::{LogStore, Verifier, Witness};
use accord_registry::{Meta, Store};
use accord_treaty::Treaty;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The node's configuration (TOML; see the README).
    #[arg(long)]
    config: PathBuf,
}

/// A log this node witnesses.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Follow {
    origin: String,
    vkey: PathBuf,
}

/// The node's configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The party whose node this is.
    party: String,
    /// Treaty (built-in name or path).
    treaty: String,
    /// Address to listen on, e.g. 127.0.0.1:7101.
    listen: String,
    /// Directory for log.sqlite, registry/ and witness.sqlite.
    data_dir: PathBuf,
    /// The party's signer key file.
    key: PathBuf,
    /// Bearer tokens of the party's operators.
    operator_tokens: Vec<String>,
    /// Bearer tokens that may read entries (tiles, the feed) but not write:
    /// the other party's and observers'.
    #[serde(default)]
    reader_tokens: Vec<String>,
    /// The witness's own key, if this node witnesses others' logs.
    witness_key: Option<PathBuf>,
    /// Logs witnessed.
    #[serde(default)]
    follows: Vec<Follow>,
}

pub(crate) fn run(a: Args) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(&a.config).with_context(|| a.config.display().to_string())?;
    let cfg: Config = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(1, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        anyhow::anyhow!("{}:{line}: {}", a.config.display(), e.message())
    })?;
    // Relative paths are relative to the configuration file.
    let base = a.config.parent().map(PathBuf::from).unwrap_or_default();
    let at = |p: &PathBuf| {
        if p.is_absolute() {
            p.clone()
        } else {
            base.join(p)
        }
    };
    for (key, tokens) in [
        ("operator_tokens", &cfg.operator_tokens),
        ("reader_tokens", &cfg.reader_tokens),
    ] {
        if tokens.iter().any(|t| t.len() < 16) {
            bail!(
                "{}: {key}: each token needs at least 16 characters",
                a.config.display()
            );
        }
    }
    if cfg
        .reader_tokens
        .iter()
        .any(|t| cfg.operator_tokens.contains(t))
    {
        bail!(
            "{}: reader_tokens: a token cannot be both an operator's and a reader's",
            a.config.display()
        );
    }
    let treaty = Treaty::load(&cfg.treaty)?;
    if treaty.party(&cfg.party).is_none() {
        bail!(
            "{}: party `{}` is not a party to {}",
            a.config.display(),
            cfg.party,
            treaty.id
        );
    }
    let signer = crate::log::read_signer(&at(&cfg.key))?;
    let dir = at(&cfg.data_dir);
    std::fs::create_dir_all(&dir)?;
    let origin = crate::regime::origin(&treaty.id, &cfg.party);
    let log_path = dir.join("log.sqlite");
    let log = if log_path.exists() {
        LogStore::open(&log_path)?
    } else {
        LogStore::init(&log_path, &origin, &signer.verifier())?
    };
    if log.verifier() != &signer.verifier() {
        bail!("{}: the key is not this log's key", at(&cfg.key).display());
    }
    let reg_dir = dir.join("registry");
    let registry = if reg_dir.join(accord_registry::store::STORE_FILE).exists() {
        Store::open(&reg_dir)?
    } else {
        Store::create(
            &reg_dir,
            Meta {
                party: cfg.party.clone(),
                treaty: treaty.id.clone(),
                synthetic: false,
                provenance: "declared by operators through the node".into(),
            },
        )?
    };
    let mut registry = registry;
    let caught = accord_node::catch_up(&log, &mut registry, &treaty)
        .with_context(|| format!("{}: the registry and the log disagree", dir.display()))?;
    if caught > 0 {
        eprintln!("applied {caught} logged notification(s) the registry lacked");
    }
    let witness = match &cfg.witness_key {
        Some(k) => {
            let w = Witness::open(
                &dir.join("witness.sqlite"),
                crate::log::read_signer(&at(k))?,
            )?;
            for f in &cfg.follows {
                let v: Verifier = crate::log::read_verifier(&at(&f.vkey))?;
                w.add_log(&f.origin, &v)?;
            }
            Some(w)
        }
        None => None,
    };
    let node = Arc::new(
        accord_node::Node::new(
            log,
            registry,
            treaty,
            signer,
            witness,
            cfg.operator_tokens.clone(),
        )
        .with_readers(cfg.reader_tokens.clone()),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(accord_node::serve(node, &cfg.listen))
        .with_context(|| format!("serving on {}", cfg.listen))?;
    eprintln!("accord node stopped");
    Ok(ExitCode::SUCCESS)
}
