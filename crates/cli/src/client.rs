//! `accord notify` and `accord status`: talk to a node. Answers are read
//! as the typed responses of `accord-api`, strictly: an answer whose shape
//! is not the documented one is an error naming the field (exit 2), never
//! an empty report.

use accord_api::{Status, WitnessNodeStatus};
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

/// Which node, and how its key is known.
#[derive(clap::Args)]
pub(crate) struct NodeArgs {
    /// The node, e.g. https://127.0.0.1:7101.
    #[arg(long)]
    node: String,
    /// The pin of the node's TLS key (`sha256/…`, its `tls.pin`): nothing
    /// else is trusted.
    #[arg(long, conflicts_with_all = ["pin_file", "insecure_plaintext"])]
    pin: Option<accord_net::Pin>,
    /// A file holding the pin (the node's `tls.pin`).
    #[arg(long, conflicts_with = "insecure_plaintext")]
    pin_file: Option<PathBuf>,
    /// Plain HTTP to a node on loopback (exercises and tests only).
    #[arg(long)]
    insecure_plaintext: bool,
}

impl NodeArgs {
    fn reach(&self) -> Result<accord_node::client::Reach> {
        use accord_node::client::Reach;
        if self.insecure_plaintext {
            return Ok(Reach::InsecurePlaintext);
        }
        let pin = match (&self.pin, &self.pin_file) {
            (Some(p), _) => *p,
            (None, Some(f)) => {
                let t = std::fs::read_to_string(f).with_context(|| f.display().to_string())?;
                t.trim()
                    .parse()
                    .with_context(|| format!("{}: not a pin", f.display()))?
            }
            (None, None) => bail!(
                "--pin or --pin-file is required (the node's TLS key pin), or --insecure-plaintext for a loopback node"
            ),
        };
        Ok(Reach::Pinned(pin))
    }
}

#[derive(clap::Args)]
pub(crate) struct NotifyArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// A file holding an operator token of that node (better than --token,
    /// which other users can see in the process list).
    #[arg(long, env = "ACCORD_TOKEN_FILE", conflicts_with = "token")]
    token_file: Option<PathBuf>,
    /// An operator token (visible in the process list: prefer --token-file
    /// or the ACCORD_TOKEN environment variable).
    #[arg(long, env = "ACCORD_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Notifications: JSON Lines, a JSON array, or one JSON object.
    file: PathBuf,
}

#[derive(clap::Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// Compliance on this date (default: today on the node's clock).
    #[arg(long)]
    date: Option<chrono::NaiveDate>,
    /// Print the node's JSON.
    #[arg(long)]
    json: bool,
}

/// The operator token, from a file or the environment or the flag.
fn token(a: &NotifyArgs) -> Result<String> {
    if let Some(p) = &a.token_file {
        let t = std::fs::read_to_string(p).with_context(|| p.display().to_string())?;
        let t = t.trim();
        if t.is_empty() {
            bail!("{}: empty token file", p.display());
        }
        return Ok(t.to_string());
    }
    a.token
        .clone()
        .context("--token-file FILE (or ACCORD_TOKEN_FILE, ACCORD_TOKEN) is required")
}

pub(crate) fn notify(a: NotifyArgs) -> Result<ExitCode> {
    let name = a.file.display().to_string();
    let text = std::fs::read_to_string(&a.file).with_context(|| name.clone())?;
    // Parsed here first, so a bad line is named by file and line.
    let batch = accord_registry::notification::parse_file_located(&name, &text)?;
    let body = format!(
        "[{}]",
        batch
            .iter()
            .map(|(_, n)| n.to_json())
            .collect::<Vec<_>>()
            .join(",")
    );
    let token = token(&a)?;
    match accord_node::client::call::<accord_api::Accepted>(
        &a.node.node,
        &a.node.reach()?,
        "POST",
        "/notifications",
        Some(&token),
        body.as_bytes(),
    ) {
        Ok(r) => {
            println!(
                "accepted {} notification(s) at log indexes {}–{}; the log holds {}",
                r.numbers.len(),
                r.indexes.first().copied().unwrap_or(0),
                r.indexes.last().copied().unwrap_or(0),
                r.tree_size
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(accord_node::client::ClientError::Refused {
            status,
            message,
            field,
            ..
        }) => {
            let at = field.map(|f| format!(" (field `{f}`)")).unwrap_or_default();
            println!("refused ({status}): {message}{at}");
            // A refusal is bad input: nothing was stored.
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn status(a: StatusArgs) -> Result<ExitCode> {
    let path = match a.date {
        Some(d) => format!("/status?date={d}"),
        None => "/status".to_string(),
    };
    let (code, bytes) =
        accord_node::client::request(&a.node.node, &a.node.reach()?, "GET", &path, None, b"")
            .with_context(|| format!("cannot reach {}", a.node.node))?;
    let what = format!("GET {path}");
    if code != 200 {
        let e: accord_api::ErrorBody = accord_api::read(&what, &bytes)?;
        bail!("the node answered {code}: {}", e.error.message);
    }
    // A witness node says so; everything else must be a party's status.
    let probe: serde_json::Value = accord_api::read(&what, &bytes)?;
    if probe.get("mode").and_then(|m| m.as_str()) == Some("witness") {
        let w: WitnessNodeStatus = accord_api::read(&what, &bytes)?;
        crate::emit(a.json, &w, accord_report::text::witness_node)?;
        return Ok(crate::finding_code(!w.evidence.is_empty()));
    }
    let v: Status = accord_api::read(&what, &bytes)?;
    crate::emit(a.json, &v, accord_report::text::node_status)?;
    // A finding about any party, or a flagged peer, is a finding.
    let found = !v.compliance.findings.is_empty()
        || v.peers
            .iter()
            .any(|p| p.flagged || !p.compliance.findings.is_empty());
    Ok(crate::finding_code(found))
}
