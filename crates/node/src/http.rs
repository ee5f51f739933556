//! A small blocking HTTP/1.1 client: what a node needs to talk to its peer
//! and witnesses, and what `accord notify`/`status` need to talk to a node.
//!
//! Nodes speak plain HTTP/1.1 on a private link; each exchange is one
//! request and one `Content-Length` response (the node never chunks), so
//! this is a few lines over a `TcpStream`, not a client library.

use std::io::{BufRead, Read, Write};
use std::time::Duration;

/// Why a request failed before an HTTP status arrived.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL is not `http://host:port[/…]`.
    #[error("`{0}`: expected http://host:port")]
    Url(String),
    /// Connecting, writing or reading failed.
    #[error("{at}: {source}")]
    Io {
        /// host:port.
        at: String,
        /// The error.
        source: std::io::Error,
    },
    /// The server's answer is not HTTP/1.1 as expected.
    #[error("{at}: {message}")]
    Protocol {
        /// host:port.
        at: String,
        /// What was wrong.
        message: String,
    },
}

/// `host:port` of an `http://` URL.
pub fn authority(url: &str) -> Result<String, HttpError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| HttpError::Url(url.to_string()))?;
    let hostport = rest.split('/').next().unwrap_or("");
    if hostport.is_empty() || !hostport.contains(':') {
        return Err(HttpError::Url(url.to_string()));
    }
    Ok(hostport.to_string())
}

/// Writes one HTTP/1.1 request with a `Content-Length` body, in one write
/// (so that head and body leave in one segment on a no-delay socket).
/// `headers` are extra `(name, value)` pairs, e.g. `Authorization`.
pub fn write_request(
    w: &mut impl Write,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    keep_alive: bool,
) -> std::io::Result<()> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: {connection}\r\n");
    for (k, v) in headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    let mut req = head.into_bytes();
    req.extend_from_slice(body);
    w.write_all(&req)
}

/// The largest response body read (a full entry bundle of maximal entries
/// is 256 × 65,537 bytes; nothing a node serves is larger).
pub const MAX_RESPONSE: usize = 32 << 20;

/// Reads one HTTP/1.1 response: its status and body, by `Content-Length`,
/// so a kept-alive connection can carry the next request.
pub fn read_response(r: &mut impl BufRead, at: &str) -> Result<(u16, Vec<u8>), HttpError> {
    let io = |source| HttpError::Io {
        at: at.to_string(),
        source,
    };
    let protocol = |message: String| HttpError::Protocol {
        at: at.to_string(),
        message,
    };
    let mut line = String::new();
    r.read_line(&mut line).map_err(io)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| protocol(format!("no HTTP status (got {line:?})")))?;
    let mut length = None;
    loop {
        line.clear();
        if r.read_line(&mut line).map_err(io)? == 0 {
            return Err(protocol("the connection closed inside the headers".into()));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                let n: usize = v
                    .trim()
                    .parse()
                    .map_err(|_| protocol(format!("content-length `{}`", v.trim())))?;
                if n > MAX_RESPONSE {
                    return Err(protocol(format!("a {n}-byte body is too large")));
                }
                length = Some(n);
            }
        }
    }
    let mut body = vec![];
    match length {
        Some(n) => {
            body.resize(n, 0);
            r.read_exact(&mut body).map_err(io)?;
        }
        None => {
            r.take(MAX_RESPONSE as u64)
                .read_to_end(&mut body)
                .map_err(io)?;
        }
    }
    Ok((status, body))
}

/// One request on a fresh connection (`Connection: close`), with a timeout;
/// returns the status and the body.
pub fn request(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, Vec<u8>), HttpError> {
    let at = authority(url)?;
    let io = |source| HttpError::Io {
        at: at.clone(),
        source,
    };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&at)
        .map_err(io)?
        .next()
        .ok_or_else(|| HttpError::Url(url.to_string()))?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout).map_err(io)?;
    s.set_read_timeout(Some(timeout)).map_err(io)?;
    s.set_write_timeout(Some(timeout)).map_err(io)?;
    write_request(&mut s, &at, method, path, headers, body, false).map_err(io)?;
    read_response(&mut std::io::BufReader::new(s), &at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_response_by_content_length_and_leaves_the_rest() {
        let raw = b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n";
        let mut r = std::io::BufReader::new(&raw[..]);
        let (s, b) = read_response(&mut r, "t").expect("test");
        assert_eq!((s, b.as_slice()), (201, &b"ok"[..]));
        let mut rest = String::new();
        r.read_line(&mut rest).expect("test");
        assert_eq!(rest, "HTTP/1.1 200 OK\r\n");
    }

    #[test]
    fn refuses_a_non_http_url_and_an_oversized_body() {
        assert!(matches!(authority("https://x:1"), Err(HttpError::Url(_))));
        assert!(matches!(authority("http://nohost"), Err(HttpError::Url(_))));
        let raw = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_RESPONSE + 1
        );
        let e = read_response(&mut std::io::BufReader::new(raw.as_bytes()), "t")
            .expect_err("too large");
        assert!(e.to_string().contains("too large"), "{e}");
    }
}
