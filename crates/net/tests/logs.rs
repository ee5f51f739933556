//! What the transport logs: every request, and plain HTTP loudly.

mod common;

use accord_net::{Limits, Transport};
use common::*;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn requests_are_logged_and_plain_http_is_logged_as_insecure() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_global_default(subscriber);
    let srv = start(Limits::default(), Transport::InsecurePlaintext);
    let (status, _, _) = raw_exchange(srv.addr, b"GET /hello?secret=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 200);
    let (status, _, _) = raw_exchange(srv.addr, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 404);
    drop(srv);
    let text = String::from_utf8(logs.0.lock().expect("log buffer").clone()).expect("utf-8");
    assert!(
        text.contains("WARN") && text.contains("INSECURE: serving plain HTTP"),
        "{text}"
    );
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("accord_net::request"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains("method=GET") && lines[0].contains("path=/hello"),
        "{text}"
    );
    assert!(
        lines[0].contains("status=200") && lines[0].contains("latency_ms="),
        "{text}"
    );
    assert!(lines[1].contains("status=404"), "{text}");
    assert!(!text.contains("secret"), "the query is not logged: {text}");
}
