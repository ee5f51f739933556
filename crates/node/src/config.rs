//! A node's configuration file (`accord serve --config FILE`, TOML), read
//! strictly: unknown keys, missing keys and bad values are errors naming the
//! file, the line and the key, and never quoting a secret.

use crate::exchange::{Clock, ExchangeConfig, PeerConfig, WitnessConfig};
use crate::witness_node::WitnessNode;
use crate::{Node, StartError};
use accord_log::keys::{read_signer, read_verifier, KeyError};
use accord_log::{LogError, LogStore, Witness, WitnessError};
use accord_registry::{Meta, Store, StoreError};
use accord_treaty::Treaty;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A log this node witnesses.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Follow {
    /// Its origin.
    pub origin: String,
    /// Its verifier key file.
    pub vkey: PathBuf,
}

/// The other party: where its node is and its log's key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    /// Its party code.
    pub party: String,
    /// Its node's URL.
    pub url: String,
    /// Its log's verifier key file.
    pub vkey: PathBuf,
    /// The cosigner key of the witness the peer's node runs, if any.
    pub witness_vkey: Option<PathBuf>,
    /// The pin of its node's TLS key (`sha256/…`, from its `tls.pin`).
    pub tls_pin: Option<String>,
}

/// A witness this node pushes checkpoints to, and its cosigner key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessTarget {
    /// Its URL.
    pub url: String,
    /// Its cosigner key file.
    pub vkey: PathBuf,
    /// The pin of its TLS key (`sha256/…`).
    pub tls_pin: Option<String>,
}

/// What the node is.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A party's node (the default).
    #[default]
    Party,
    /// A neutral witness: `add-checkpoint` and `status` only.
    Witness,
}

/// The node's configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `party` (default) or `witness`.
    #[serde(default)]
    pub mode: Mode,
    /// The party whose node this is.
    pub party: Option<String>,
    /// Treaty (built-in name or path).
    pub treaty: Option<String>,
    /// Address to listen on, e.g. 127.0.0.1:7101.
    pub listen: String,
    /// Directory for log.sqlite, registry/ and witness.sqlite.
    pub data_dir: PathBuf,
    /// The party's signer key file.
    pub key: Option<PathBuf>,
    /// Bearer tokens of the party's operators.
    #[serde(default)]
    pub operator_tokens: Vec<String>,
    /// Bearer tokens that may read entries (tiles, the feed) but not write:
    /// the other party's and observers'.
    #[serde(default)]
    pub reader_tokens: Vec<String>,
    /// The witness's own key, if this node witnesses others' logs.
    pub witness_key: Option<PathBuf>,
    /// Logs witnessed.
    #[serde(default)]
    pub follows: Vec<Follow>,
    /// The other parties' nodes, mirrored.
    #[serde(default)]
    pub peers: Vec<Peer>,
    /// Witnesses to push checkpoints to.
    #[serde(default)]
    pub witnesses: Vec<WitnessTarget>,
    /// Exchange poll interval and first retry delay, in milliseconds.
    #[serde(default = "default_interval")]
    pub interval_ms: u64,
    /// A simulated date for the node's clock (exercises and tests); the
    /// system clock otherwise.
    pub simulated_date: Option<chrono::NaiveDate>,
    /// The node's TLS key and certificate (`accord tls init`); default
    /// `DATA_DIR/tls`.
    pub tls_dir: Option<PathBuf>,
    /// Plain HTTP instead of TLS: on a loopback address only, for tests and
    /// exercises; nothing crossing the link is encrypted or authenticated.
    #[serde(default)]
    pub insecure_plaintext: bool,
}

fn default_interval() -> u64 {
    1000
}

/// Why a configuration is refused, or a node cannot be built from it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Not TOML of the expected shape.
    #[error("{path}:{line}: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// What the parser said, with any quoted value withheld.
        message: String,
    },
    /// A key's value is refused.
    #[error("{path}: {key}: {message}")]
    Key {
        /// The file.
        path: PathBuf,
        /// The key (e.g. `peers[0].url`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A key file.
    #[error("{path}: {source}")]
    KeyFile {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong with the key file.
        source: KeyError,
    },
    /// The treaty.
    #[error("{path}: treaty: {message}")]
    Treaty {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The node's log.
    #[error("{path}: {source}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// The error.
        source: LogError,
    },
    /// The node's registry.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The witness state.
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// The registry and the log disagree, or the exchange cannot start.
    #[error("{dir}: {source}")]
    Start {
        /// The data directory.
        dir: PathBuf,
        /// What failed.
        source: Box<StartError>,
    },
    /// The TLS identity cannot be loaded.
    #[error("{path}: TLS: {source}")]
    Identity {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong.
        source: accord_net::IdentityError,
    },
    /// The data directory cannot be made.
    #[error("{path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: KeyError,
    },
}

/// Withholds quoted values from a parser's message: a token or key given in
/// the wrong shape must not be printed.
fn withhold(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(i) = rest.find(['"', '\'']) {
        let q = rest[i..].chars().next().unwrap_or('"');
        out.push_str(&rest[..i]);
        match rest[i + 1..].find(q) {
            Some(j) => {
                out.push_str("(value withheld)");
                rest = &rest[i + 1 + j + 1..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A pin from the configuration (`None` when not given).
fn pin_of(s: &Option<String>) -> Result<Option<accord_net::Pin>, String> {
    s.as_deref()
        .map(|p| p.parse::<accord_net::Pin>().map_err(|e| e.to_string()))
        .transpose()
}

/// A node ready to serve.
#[derive(Debug)]
pub enum Built {
    /// A party's node.
    Party {
        /// The node.
        node: Arc<Node>,
        /// Where to listen.
        listen: String,
        /// Log entries the registry lacked, applied at start.
        caught_up: u64,
    },
    /// A neutral witness.
    Witness {
        /// The node.
        node: Arc<WitnessNode>,
        /// Where to listen.
        listen: String,
    },
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<(Config, PathBuf), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let cfg: Config = toml::from_str(&text).map_err(|e| {
            let line = e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            ConfigError::Toml {
                path: path.to_path_buf(),
                line,
                message: withhold(e.message()),
            }
        })?;
        // Relative paths are relative to the configuration file.
        let base = path.parent().map(PathBuf::from).unwrap_or_default();
        cfg.check(path)?;
        Ok((cfg, base))
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let key = |key: &str, message: &str| ConfigError::Key {
            path: path.to_path_buf(),
            key: key.to_string(),
            message: message.to_string(),
        };
        if !(50..=600_000).contains(&self.interval_ms) {
            return Err(key("interval_ms", "expected 50 to 600000"));
        }
        if self.mode == Mode::Witness {
            for (k, set) in [
                ("party", self.party.is_some()),
                ("treaty", self.treaty.is_some()),
                ("key", self.key.is_some()),
                ("operator_tokens", !self.operator_tokens.is_empty()),
                ("reader_tokens", !self.reader_tokens.is_empty()),
                ("peers", !self.peers.is_empty()),
                ("witnesses", !self.witnesses.is_empty()),
            ] {
                if set {
                    return Err(key(k, "is for a party's node, not a witness"));
                }
            }
            if self.witness_key.is_none() {
                return Err(key("witness_key", "is required for a witness"));
            }
            if self.follows.is_empty() {
                return Err(key("follows", "a witness needs at least one log"));
            }
            return Ok(());
        }
        if self.operator_tokens.is_empty() {
            return Err(key("operator_tokens", "a party's node needs at least one"));
        }
        for (k, tokens) in [
            ("operator_tokens", &self.operator_tokens),
            ("reader_tokens", &self.reader_tokens),
        ] {
            if tokens.iter().any(|t| t.len() < 16) {
                return Err(key(k, "each token needs at least 16 characters"));
            }
        }
        if self
            .reader_tokens
            .iter()
            .any(|t| self.operator_tokens.contains(t))
        {
            return Err(key(
                "reader_tokens",
                "a token cannot be both an operator's and a reader's",
            ));
        }
        for (k, v) in [
            ("party", self.party.is_some()),
            ("treaty", self.treaty.is_some()),
            ("key", self.key.is_some()),
        ] {
            if !v {
                return Err(key(k, "is required for a party's node"));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, p) in self.peers.iter().enumerate() {
            if Some(&p.party) == self.party.as_ref() {
                return Err(key(&format!("peers[{i}]"), "this node's own party"));
            }
            if !seen.insert(p.party.clone()) {
                return Err(key(&format!("peers[{i}]"), "a peer listed twice"));
            }
            let pin = pin_of(&p.tls_pin).map_err(|e| key(&format!("peers[{i}].tls_pin"), &e))?;
            self.check_url(&p.url, pin)
                .map_err(|e| key(&format!("peers[{i}].url"), &e))?;
        }
        for (i, w) in self.witnesses.iter().enumerate() {
            let pin =
                pin_of(&w.tls_pin).map_err(|e| key(&format!("witnesses[{i}].tls_pin"), &e))?;
            self.check_url(&w.url, pin)
                .map_err(|e| key(&format!("witnesses[{i}].url"), &e))?;
        }
        Ok(())
    }

    /// A URL with its pin, as the client will use it.
    fn check_url(&self, url: &str, pin: Option<accord_net::Pin>) -> Result<(), String> {
        let security = match pin {
            Some(p) => accord_net::Security::Pinned(p.into()),
            None if self.insecure_plaintext => accord_net::Security::InsecurePlaintext,
            None => {
                return Err("tls_pin is required (or insecure_plaintext = true on loopback)".into())
            }
        };
        accord_net::client::check_url(url, &security).map_err(|e| e.to_string())
    }
    /// Opens the stores and keys and builds the node (`path` is the
    /// configuration file, for messages; `base` its directory).
    pub fn build(&self, path: &Path, base: &Path) -> Result<Built, ConfigError> {
        let at = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                base.join(p)
            }
        };
        let key_file = |source| ConfigError::KeyFile {
            path: path.to_path_buf(),
            source,
        };
        let dir = at(&self.data_dir);
        accord_log::keys::create_private_dir(&dir).map_err(|source| ConfigError::Dir {
            path: dir.clone(),
            source,
        })?;
        let net = if self.insecure_plaintext {
            crate::net::Net::insecure_plaintext()
        } else {
            let tls = self.tls_dir.as_ref().map_or_else(|| dir.join("tls"), at);
            let identity = accord_net::Identity::load(&accord_net::TlsFiles::in_dir(&tls))
                .map_err(|source| ConfigError::Identity {
                    path: path.to_path_buf(),
                    source,
                })?;
            crate::net::Net::tls(identity)
        };
        let bad_pin = |key: String, message: String| ConfigError::Key {
            path: path.to_path_buf(),
            key,
            message,
        };
        let open_witness = |k: &PathBuf| -> Result<Witness, ConfigError> {
            let w = Witness::open(
                &dir.join("witness.sqlite"),
                read_signer(&at(k)).map_err(key_file)?,
            )?;
            for f in &self.follows {
                w.add_log(&f.origin, &read_verifier(&at(&f.vkey)).map_err(key_file)?)?;
            }
            Ok(w)
        };
        if self.mode == Mode::Witness {
            let k = self.witness_key.as_ref().ok_or_else(|| ConfigError::Key {
                path: path.to_path_buf(),
                key: "witness_key".into(),
                message: "is required for a witness".into(),
            })?;
            let w = open_witness(k)?;
            return Ok(Built::Witness {
                node: Arc::new(
                    WitnessNode::new(w, self.follows.iter().map(|f| f.origin.clone()).collect())
                        .with_net(net),
                ),
                listen: self.listen.clone(),
            });
        }
        let missing = |k: &str| ConfigError::Key {
            path: path.to_path_buf(),
            key: k.to_string(),
            message: "is required for a party's node".into(),
        };
        let party = self.party.as_ref().ok_or_else(|| missing("party"))?;
        let treaty =
            Treaty::load(self.treaty.as_ref().ok_or_else(|| missing("treaty"))?).map_err(|e| {
                ConfigError::Treaty {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                }
            })?;
        if treaty.party(party).is_none() {
            return Err(ConfigError::Key {
                path: path.to_path_buf(),
                key: "party".into(),
                message: format!("`{party}` is not a party to {}", treaty.id),
            });
        }
        let signer =
            read_signer(&at(self.key.as_ref().ok_or_else(|| missing("key"))?)).map_err(key_file)?;
        let origin = accord_log::origin(&treaty.id, party);
        let log_path = dir.join("log.sqlite");
        let log =
            LogStore::open_or_init(&log_path, &origin, &signer.verifier()).map_err(|source| {
                ConfigError::Log {
                    path: log_path.clone(),
                    source,
                }
            })?;
        let mut registry = Store::open_or_create(
            &dir.join("registry"),
            Meta {
                party: party.clone(),
                treaty: treaty.id.clone(),
                synthetic: false,
                provenance: "declared by operators through the node".into(),
            },
        )?;
        let start = |source| ConfigError::Start {
            dir: dir.clone(),
            source: Box::new(source),
        };
        let caught_up = crate::catch_up(&log, &mut registry, &treaty).map_err(start)?;
        let witness = match &self.witness_key {
            Some(k) => Some(open_witness(k)?),
            None => None,
        };
        let mut peers = vec![];
        for (i, p) in self.peers.iter().enumerate() {
            peers.push(PeerConfig {
                party: p.party.clone(),
                url: p.url.clone(),
                vkey: read_verifier(&at(&p.vkey)).map_err(key_file)?,
                witness_vkey: match &p.witness_vkey {
                    Some(w) => Some(read_verifier(&at(w)).map_err(key_file)?.as_cosigner()),
                    None => None,
                },
                tls_pin: pin_of(&p.tls_pin)
                    .map_err(|e| bad_pin(format!("peers[{i}].tls_pin"), e))?,
            });
        }
        let mut witnesses = vec![];
        for (i, w) in self.witnesses.iter().enumerate() {
            witnesses.push(WitnessConfig {
                url: w.url.clone(),
                // keygen's verifier file (type 0x01) or the cosigner form it prints (0x04).
                vkey: read_verifier(&at(&w.vkey)).map_err(key_file)?.as_cosigner(),
                tls_pin: pin_of(&w.tls_pin)
                    .map_err(|e| bad_pin(format!("witnesses[{i}].tls_pin"), e))?,
            });
        }
        let clock = match self.simulated_date {
            Some(d) => Clock::fixed(d),
            None => Clock::system(),
        };
        let node = Node::new(
            log,
            registry,
            treaty,
            signer,
            witness,
            self.operator_tokens.clone(),
        )
        .with_readers(self.reader_tokens.clone())
        .with_clock(clock)
        .with_net(net)
        .with_exchange(ExchangeConfig {
            dir: dir.clone(),
            peers,
            witnesses,
            interval: std::time::Duration::from_millis(self.interval_ms),
        })
        .map_err(start)?;
        Ok(Built::Party {
            node: Arc::new(node),
            listen: self.listen.clone(),
            caught_up,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_messages_never_quote_a_value() {
        assert_eq!(
            withhold(r#"invalid type: string "s3cret-token-0123", expected a sequence"#),
            "invalid type: string (value withheld), expected a sequence"
        );
        assert_eq!(withhold("missing field `listen`"), "missing field `listen`");
    }
}
