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

/// The other party: where its node is and its log's key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Peer {
    party: String,
    url: String,
    vkey: PathBuf,
    /// The cosigner key of the witness the peer's node runs, if any.
    witness_vkey: Option<PathBuf>,
}

/// A witness this node pushes checkpoints to, and its cosigner key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessTarget {
    url: String,
    vkey: PathBuf,
}

/// What the node is.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Mode {
    /// A party's node (the default).
    #[default]
    Party,
    /// A neutral witness: `add-checkpoint` and `status` only.
    Witness,
}

/// The node's configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// `party` (default) or `witness`.
    #[serde(default)]
    mode: Mode,
    /// The party whose node this is.
    party: Option<String>,
    /// Treaty (built-in name or path).
    treaty: Option<String>,
    /// Address to listen on, e.g. 127.0.0.1:7101.
    listen: String,
    /// Directory for log.sqlite, registry/ and witness.sqlite.
    data_dir: PathBuf,
    /// The party's signer key file.
    key: Option<PathBuf>,
    /// Bearer tokens of the party's operators.
    #[serde(default)]
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
    /// The other parties' nodes, mirrored.
    #[serde(default)]
    peers: Vec<Peer>,
    /// Witnesses to push checkpoints to.
    #[serde(default)]
    witnesses: Vec<WitnessTarget>,
    /// Exchange poll interval and first retry delay, in milliseconds.
    #[serde(default = "default_interval")]
    interval_ms: u64,
    /// A simulated date for the node's clock (exercises and tests); the
    /// system clock otherwise.
    simulated_date: Option<chrono::NaiveDate>,
}

fn default_interval() -> u64 {
    1000
}

/// `Some(value)` or an error naming the missing key.
fn need<'a, T>(v: &'a Option<T>, config: &std::path::Path, key: &str) -> Result<&'a T> {
    v.as_ref().ok_or_else(|| {
        anyhow::anyhow!(
            "{}: `{key}` is required for a party's node",
            config.display()
        )
    })
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
    if !(50..=600_000).contains(&cfg.interval_ms) {
        bail!("{}: interval_ms: expected 50 to 600000", a.config.display());
    }
    if cfg.mode == Mode::Witness {
        return run_witness(&a.config, &cfg, &at);
    }
    if cfg.operator_tokens.is_empty() {
        bail!(
            "{}: operator_tokens: a party's node needs at least one",
            a.config.display()
        );
    }
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
    let party = need(&cfg.party, &a.config, "party")?;
    let treaty = Treaty::load(need(&cfg.treaty, &a.config, "treaty")?)?;
    if treaty.party(party).is_none() {
        bail!(
            "{}: party `{party}` is not a party to {}",
            a.config.display(),
            treaty.id
        );
    }
    let key = at(need(&cfg.key, &a.config, "key")?);
    let signer = crate::log::read_signer(&key)?;
    let dir = at(&cfg.data_dir);
    std::fs::create_dir_all(&dir)?;
    let origin = crate::regime::origin(&treaty.id, party);
    let log_path = dir.join("log.sqlite");
    let log = LogStore::open_or_init(&log_path, &origin, &signer.verifier())
        .with_context(|| format!("{}: key {}", log_path.display(), key.display()))?;
    let mut registry = Store::open_or_create(
        &dir.join("registry"),
        Meta {
            party: party.clone(),
            treaty: treaty.id.clone(),
            synthetic: false,
            provenance: "declared by operators through the node".into(),
        },
    )?;
    let caught = accord_node::catch_up(&log, &mut registry, &treaty)
        .with_context(|| format!("{}: the registry and the log disagree", dir.display()))?;
    if caught > 0 {
        eprintln!("applied {caught} logged notification(s) the registry lacked");
    }
    let witness = match &cfg.witness_key {
        Some(k) => Some(open_witness(&dir, &at(k), &cfg.follows, &at)?),
        None => None,
    };
    let mut peers = vec![];
    for (i, p) in cfg.peers.iter().enumerate() {
        if &p.party == party {
            bail!(
                "{}: peers[{i}]: `{}` is this node's own party",
                a.config.display(),
                p.party
            );
        }
        accord_node::http::authority(&p.url)
            .with_context(|| format!("{}: peers[{i}].url", a.config.display()))?;
        peers.push(accord_node::exchange::PeerConfig {
            party: p.party.clone(),
            url: p.url.clone(),
            vkey: crate::log::read_verifier(&at(&p.vkey))?,
            witness_vkey: match &p.witness_vkey {
                Some(w) => Some(crate::log::read_verifier(&at(w))?.as_cosigner()),
                None => None,
            },
        });
    }
    let mut witnesses = vec![];
    for (i, w) in cfg.witnesses.iter().enumerate() {
        accord_node::http::authority(&w.url)
            .with_context(|| format!("{}: witnesses[{i}].url", a.config.display()))?;
        witnesses.push(accord_node::exchange::WitnessConfig {
            url: w.url.clone(),
            // keygen's verifier file (type 0x01) or the cosigner form it prints (0x04).
            vkey: crate::log::read_verifier(&at(&w.vkey))?.as_cosigner(),
        });
    }
    let clock = match cfg.simulated_date {
        Some(d) => accord_node::exchange::Clock::fixed(d),
        None => accord_node::exchange::Clock::system(),
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
        .with_readers(cfg.reader_tokens.clone())
        .with_clock(clock)
        .with_exchange(accord_node::exchange::ExchangeConfig {
            dir: dir.clone(),
            peers,
            witnesses,
            interval: std::time::Duration::from_millis(cfg.interval_ms),
        })
        .with_context(|| format!("{}: peers", a.config.display()))?,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(accord_node::serve(node, &cfg.listen))
        .with_context(|| format!("serving on {}", cfg.listen))?;
    eprintln!("accord node stopped");
    Ok(ExitCode::SUCCESS)
}

/// Opens the witness state in `dir` and follows the configured logs.
fn open_witness(
    dir: &std::path::Path,
    key: &std::path::Path,
    follows: &[Follow],
    at: &dyn Fn(&PathBuf) -> PathBuf,
) -> Result<Witness> {
    let w = Witness::open(&dir.join("witness.sqlite"), crate::log::read_signer(key)?)?;
    for f in follows {
        let v: Verifier = crate::log::read_verifier(&at(&f.vkey))?;
        w.add_log(&f.origin, &v)?;
    }
    Ok(w)
}

/// A neutral witness's node.
fn run_witness(
    config: &std::path::Path,
    cfg: &Config,
    at: &dyn Fn(&PathBuf) -> PathBuf,
) -> Result<ExitCode> {
    for (key, set) in [
        ("party", cfg.party.is_some()),
        ("treaty", cfg.treaty.is_some()),
        ("key", cfg.key.is_some()),
        ("operator_tokens", !cfg.operator_tokens.is_empty()),
        ("reader_tokens", !cfg.reader_tokens.is_empty()),
        ("peers", !cfg.peers.is_empty()),
        ("witnesses", !cfg.witnesses.is_empty()),
    ] {
        if set {
            bail!(
                "{}: `{key}` is for a party's node, not a witness",
                config.display()
            );
        }
    }
    let key = cfg.witness_key.as_ref().ok_or_else(|| {
        anyhow::anyhow!(
            "{}: `witness_key` is required for a witness",
            config.display()
        )
    })?;
    if cfg.follows.is_empty() {
        bail!(
            "{}: follows: a witness needs at least one log",
            config.display()
        );
    }
    let dir = at(&cfg.data_dir);
    std::fs::create_dir_all(&dir)?;
    let w = open_witness(&dir, &at(key), &cfg.follows, at)?;
    let node = Arc::new(accord_node::witness_node::WitnessNode::new(
        w,
        cfg.follows.iter().map(|f| f.origin.clone()).collect(),
    ));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&cfg.listen).await?;
        eprintln!(
            "accord witness listening on http://{}",
            listener.local_addr()?
        );
        accord_node::witness_node::serve_until(node, listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    })
    .with_context(|| format!("serving on {}", cfg.listen))?;
    eprintln!("accord witness stopped");
    Ok(ExitCode::SUCCESS)
}
