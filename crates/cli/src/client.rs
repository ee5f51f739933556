//! `accord notify` and `accord status`: talk to a node.
//!
//! Nodes speak plain HTTP/1.1 on a private link (loopback here); the client
//! needs one request and one response, so it is a small blocking exchange
//! over a `TcpStream` (`Connection: close`, `Content-Length`), not a client
//! library.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, Write};
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

/// `host:port` of an `http://` URL.
fn authority(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("--node: `{url}`: expected http://host:port"))?;
    let hostport = rest.split('/').next().unwrap_or("");
    if hostport.is_empty() || !hostport.contains(':') {
        bail!("--node: `{url}`: expected http://host:port");
    }
    Ok(hostport.to_string())
}

/// Writes one HTTP/1.1 request with a `Content-Length` body, in one write
/// (so that head and body leave in one segment on a no-delay socket).
pub(crate) fn write_request(
    w: &mut impl Write,
    host: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
    keep_alive: bool,
) -> std::io::Result<()> {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: {connection}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    w.write_all(&req)
}

/// Reads one HTTP/1.1 response: its status and its body, by
/// `Content-Length` (the node never chunks), so a kept-alive connection can
/// carry the next request.
pub(crate) fn read_response(r: &mut impl BufRead) -> Result<(u16, String)> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("the node sent no HTTP status (got {line:?})"))?;
    let mut length = None;
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            bail!("the node closed the connection inside the headers");
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = Some(v.trim().parse::<usize>().context("content-length")?);
            }
        }
    }
    let mut body = vec![];
    match length {
        Some(n) => {
            body.resize(n, 0);
            r.read_exact(&mut body)?;
        }
        None => {
            r.read_to_end(&mut body)?;
        }
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// One HTTP/1.1 request on a fresh connection; returns the status and the body.
pub(crate) fn request(
    url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<(u16, String)> {
    let hostport = authority(url)?;
    let mut s = std::net::TcpStream::connect(&hostport)
        .with_context(|| format!("cannot reach the node at {hostport}"))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write_request(&mut s, &hostport, method, path, token, body, false)?;
    read_response(&mut std::io::BufReader::new(s))
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
