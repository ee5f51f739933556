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
        print_status(&v);
    }
    // A finding about any party, a flagged peer, or a witness's evidence
    // is a finding.
    let found = std::iter::once(&v["compliance"])
        .chain(
            v["peers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| &p["compliance"]),
        )
        .any(|c| c["findings"].as_array().is_some_and(|f| !f.is_empty()))
        || v["peers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["flagged"] == true)
        || v["evidence"].as_array().is_some_and(|e| !e.is_empty());
    Ok(crate::finding_code(found))
}

/// The limits and findings of one compliance report.
fn print_compliance(r: &serde_json::Value) {
    for l in r["limits"].as_array().into_iter().flatten() {
        println!(
            "    {:<36} {:>6} / {:<6} {}",
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
    let findings = r["findings"].as_array().map_or(&[][..], Vec::as_slice);
    println!(
        "    findings on {}: {}",
        r["date"].as_str().unwrap_or(""),
        findings.len()
    );
    for f in findings.iter().take(5) {
        println!(
            "      {} {}: {}",
            f["date"].as_str().unwrap_or(""),
            f["kind"].as_str().unwrap_or(""),
            f["message"].as_str().unwrap_or("")
        );
    }
    if findings.len() > 5 {
        println!(
            "      … and {} more (--json lists them all)",
            findings.len() - 5
        );
    }
}

/// `accord status` as a table: the node's own log and compliance, each
/// mirrored peer's, the witnesses' cosignatures and the inspection quotas.
fn print_status(v: &serde_json::Value) {
    if let Some(logs) = v["logs"].as_array() {
        // A witness node.
        println!("witness {}", v["witness"].as_str().unwrap_or("?"));
        for l in logs {
            println!(
                "  {}: cosigned up to size {}",
                l["origin"].as_str().unwrap_or("?"),
                l["size"]
            );
        }
        println!(
            "  evidence of inconsistent checkpoints: {}",
            v["evidence"].as_array().map_or(0, Vec::len)
        );
        return;
    }
    let size_of = |note: &serde_json::Value| {
        note.as_str()
            .and_then(|n| n.lines().nth(1))
            .unwrap_or("none")
            .to_string()
    };
    println!(
        "{} node ({}), treaty {}, on {}",
        v["party"].as_str().unwrap_or("?"),
        v["origin"].as_str().unwrap_or("?"),
        v["treaty"].as_str().unwrap_or("?"),
        v["compliance"]["date"].as_str().unwrap_or("?")
    );
    println!(
        "  own log: {} entries, last signed checkpoint at {}",
        v["tree_size"],
        size_of(&v["checkpoint"])
    );
    print_compliance(&v["compliance"]);
    for p in v["peers"].as_array().into_iter().flatten() {
        println!(
            "  mirror of {} ({}): {} entries verified, peer checkpoint at {}{}",
            p["party"].as_str().unwrap_or("?"),
            p["url"].as_str().unwrap_or("?"),
            p["tree_size"],
            size_of(&p["checkpoint"]),
            if p["flagged"] == true {
                "  FLAGGED: inconsistent (see --json evidence)"
            } else {
                ""
            }
        );
        if let Some(e) = p["link"]["last_error"].as_str() {
            println!(
                "    link: {} failure(s), retry in {} ms: {e}",
                p["link"]["failures"], p["link"]["retry_in_ms"]
            );
        }
        println!("    late deliveries: {}", p["late_deliveries"]);
        print_compliance(&p["compliance"]);
    }
    for w in v["witnesses"].as_array().into_iter().flatten() {
        println!(
            "  witness {} ({}): cosigned size {}{}",
            w["cosigner"].as_str().unwrap_or("(key not configured)"),
            w["url"].as_str().unwrap_or("?"),
            w["acknowledged"],
            match w["last_error"].as_str() {
                Some(e) => format!(", last error: {e}"),
                None if w["verified"] == true => ", verified".to_string(),
                None => String::new(),
            }
        );
    }
    if let Some(k) = v["witness"].as_str() {
        println!("  this node witnesses with {k}");
    }
    if let Some(year) = v["quota"]["treaty_year"].as_u64() {
        let mut uses = vec![];
        for p in v["quota"]["parties"].as_array().into_iter().flatten() {
            for t in p["types"].as_array().into_iter().flatten() {
                uses.push(format!(
                    "{} {} {}/{}",
                    p["inspecting_party"].as_str().unwrap_or("?"),
                    t["type"].as_str().unwrap_or("?"),
                    t["used"],
                    t["quota"]
                ));
            }
        }
        println!("  inspections in treaty year {year}: {}", uses.join(", "));
    }
}
