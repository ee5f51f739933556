//! `accord notify` and `accord status`: talk to a node.
//!
//! Nodes speak plain HTTP/1.1 on a private link (loopback here); the client
//! needs one request and one response, so it is a small blocking exchange
//! over a `TcpStream` (`Connection: close`, `Content-Length`), not a client
//! library.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub(crate) struct NotifyArgs {
    /// The node, e.g. http://127.0.0.1:7101.
    #[arg(long)]
    node: String,
    /// An operator token of that node.
    #[arg(long)]
    token: String,
    /// A notification (JSON object) or an array of them.
    file: PathBuf,
}

#[derive(clap::Args)]
pub(crate) struct StatusArgs {
    /// The node, e.g. http://127.0.0.1:7101.
    #[arg(long)]
    node: String,
    /// Compliance on this date (default: today).
    #[arg(long)]
    date: Option<chrono::NaiveDate>,
    /// Print the node's JSON.
    #[arg(long)]
    json: bool,
}

/// One request on a fresh connection; returns the status and the body as text.
pub(crate) fn request(
    url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<(u16, String)> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| ("Authorization", a))
        .into_iter()
        .collect();
    let (status, bytes) =
        accord_node::http::request(url, method, path, &headers, body, Duration::from_secs(60))
            .map_err(|e| match e {
                accord_node::http::HttpError::Url(u) => {
                    anyhow::anyhow!("--node: `{u}`: expected http://host:port")
                }
                other => anyhow::anyhow!("cannot reach the node: {other}"),
            })?;
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

pub(crate) fn notify(a: NotifyArgs) -> Result<ExitCode> {
    let body = std::fs::read(&a.file).with_context(|| a.file.display().to_string())?;
    let (status, text) = request(&a.node, "POST", "/notifications", Some(&a.token), &body)?;
    match status {
        201 => {
            println!("accepted: {}", text.trim());
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            println!("refused ({status}): {}", text.trim());
            // A refusal is bad input: nothing was stored.
            Ok(ExitCode::from(2))
        }
    }
}

pub(crate) fn status(a: StatusArgs) -> Result<ExitCode> {
    let path = match a.date {
        Some(d) => format!("/status?date={d}"),
        None => "/status".to_string(),
    };
    let (code, text) = request(&a.node, "GET", &path, None, b"")?;
    if code != 200 {
        bail!("the node answered {code}: {}", text.trim());
    }
    let v: serde_json::Value =
        serde_json::from_str(&text).context("the node's status is not JSON")?;
    if a.json {
        crate::print_json(&v)?;
    } else {
        println!(
            "{} ({}), log {} entries; treaty {}",
            v["party"].as_str().unwrap_or("?"),
            v["origin"].as_str().unwrap_or("?"),
            v["tree_size"],
            v["treaty"].as_str().unwrap_or("?")
        );
        if let Some(w) = v["witness"].as_str() {
            println!("  witnessing with {w}");
        }
        let r = &v["compliance"];
        for l in r["limits"].as_array().into_iter().flatten() {
            println!(
                "  {:<36} {:>6} / {:<6} {}",
                l["id"].as_str().unwrap_or(""),
                l["value"],
                l["max"],
                if l["exceeded"] == true {
                    "EXCEEDED"
                } else {
                    ""
                }
            );
        }
        println!(
            "  findings on {}: {}",
            r["date"].as_str().unwrap_or(""),
            r["findings"].as_array().map_or(0, Vec::len)
        );
    }
    let found = v["compliance"]["findings"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    Ok(crate::finding_code(found))
}
