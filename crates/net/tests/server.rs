//! Attacks on the server, each named for the attack, on loopback, bounded
//! in count and time.

mod common;

use accord_net::{Client, ClientLimits, Limits, PinSet, Security, Transport};
use common::*;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn quick() -> Limits {
    Limits {
        handshake_timeout: Duration::from_millis(500),
        header_timeout: Duration::from_millis(500),
        idle_timeout: Duration::from_millis(800),
        body_timeout: Duration::from_millis(500),
        ..Limits::default()
    }
}

fn plain_client() -> Client {
    Client::new(ClientLimits::default(), None).expect("client")
}

#[test]
fn slowloris_connections_are_closed() {
    let srv = start(quick(), Transport::InsecurePlaintext);
    // 20 connections each dripping a header line a byte every 100 ms: the
    // head never completes, and each is closed at header_timeout.
    let mut drips: Vec<_> = (0..20)
        .map(|_| {
            let mut s = connect_from("127.0.0.1", srv.addr).expect("connect");
            s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .expect("write");
            s
        })
        .collect();
    let start = Instant::now();
    let mut closed = vec![false; drips.len()];
    while start.elapsed() < Duration::from_secs(3) && closed.iter().any(|c| !c) {
        for (i, s) in drips.iter_mut().enumerate() {
            if !closed[i] && s.write_all(b"a").is_err() {
                closed[i] = true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        closed.iter().all(|c| *c),
        "still open after {:?}",
        start.elapsed()
    );
    assert!(start.elapsed() >= Duration::from_millis(400));
    assert!(eventually(|| srv.stats.snapshot().header_timeouts >= 20));

    // A connection that sends nothing at all is closed too.
    let mut silent = connect_from("127.0.0.1", srv.addr).expect("connect");
    let (after, _) = closed_within(&mut silent, Duration::from_secs(3)).expect("closed");
    assert!(after >= Duration::from_millis(400), "{after:?}");

    // An idle keep-alive connection is closed at idle_timeout.
    let mut ka = connect_from("127.0.0.1", srv.addr).expect("connect");
    ka.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let (status, _, body) = read_response(&mut ka);
    assert_eq!((status, body.as_str()), (200, "hi"));
    let (after, _) = closed_within(&mut ka, Duration::from_secs(3)).expect("closed");
    assert!(after >= Duration::from_millis(600), "{after:?}");
    assert!(eventually(|| srv.stats.snapshot().idle_timeouts >= 1));
}

#[test]
fn a_tcp_connection_that_never_starts_tls_is_closed_at_the_handshake_timeout() {
    let server = identity();
    let srv = start_tls(quick(), &server, PinSet::new());
    let mut s = connect_from("127.0.0.1", srv.addr).expect("connect");
    let (after, _) = closed_within(&mut s, Duration::from_secs(3)).expect("closed");
    assert!(after >= Duration::from_millis(400), "{after:?}");
    assert!(eventually(|| srv.stats.snapshot().handshake_timeouts == 1));
}

#[test]
fn connection_cap_holds_and_operators_still_get_in() {
    let limits = Limits {
        max_connections: 16,
        max_connections_per_ip: 6,
        ..Limits::default()
    };
    let srv = start(limits, Transport::InsecurePlaintext);
    let op = plain_client()
        .endpoint(&format!("http://{}", srv.addr), Security::InsecurePlaintext)
        .expect("endpoint");
    // 4 attacking addresses × 30 connections, each sending half a head and
    // holding it (header_timeout is 10 s: they stay for the whole test).
    let mut attackers = vec![];
    for round in 0..3 {
        for ip in ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"] {
            for _ in 0..10 {
                if let Ok(mut s) = connect_from(ip, srv.addr) {
                    let _ = s.write_all(b"GET /hello HTTP/1.1\r\nX: ");
                    attackers.push(s);
                }
            }
        }
        let open = srv.stats.snapshot().open;
        assert!(open <= 16, "round {round}: {open} connections open");
        // The operator, from another address, gets in every time, fast.
        let t = Instant::now();
        let r = op.get("/hello", &[]).expect("operator request");
        assert_eq!((r.status, r.text().as_str()), (200, "hi"));
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }
    let s = srv.stats.snapshot();
    assert!(s.open <= 16, "{s:?}");
    assert!(s.evicted >= 100, "{s:?}");
    // What is still open: no more than the cap, and no address more than
    // its share.
    let mut alive = std::collections::HashMap::new();
    for a in &mut attackers {
        if closed_within(a, Duration::from_millis(20)).is_none() {
            *alive
                .entry(a.local_addr().expect("addr").ip())
                .or_insert(0usize) += 1;
        }
    }
    assert!(alive.values().sum::<usize>() <= 16, "{alive:?}");
    assert!(alive.values().all(|n| *n <= 6), "{alive:?}");
}

#[test]
fn a_request_being_handled_is_never_evicted() {
    let limits = Limits {
        max_connections: 4,
        max_connections_per_ip: 4,
        ..Limits::default()
    };
    let srv = start(limits, Transport::InsecurePlaintext);
    let url = format!("http://{}", srv.addr);
    let slow = std::thread::spawn(move || {
        plain_client()
            .endpoint(&url, Security::InsecurePlaintext)
            .expect("endpoint")
            .get("/slow", &[])
            .map(|r| r.status)
    });
    std::thread::sleep(Duration::from_millis(150));
    let mut flood = vec![];
    for _ in 0..40 {
        if let Ok(s) = connect_from("127.0.0.1", srv.addr) {
            flood.push(s);
        }
    }
    assert_eq!(slow.join().expect("thread").expect("slow request"), 200);
    assert!(srv.stats.snapshot().open <= 4);
}

#[test]
fn oversized_header_is_431_json() {
    let srv = start(Limits::default(), Transport::InsecurePlaintext);
    let big = "a".repeat(20 << 10);
    let (status, head, body) = raw_exchange(
        srv.addr,
        format!("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes(),
    );
    assert_eq!(status, 431, "{head}");
    assert!(head.to_ascii_lowercase().contains("application/json"));
    assert_eq!(json_error(&body).0, 431);
    // Too many fields is 431 too.
    let many: String = (0..100).map(|i| format!("X-{i}: v\r\n")).collect();
    let (status, _, body) = raw_exchange(
        srv.addr,
        format!("GET /hello HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes(),
    );
    assert_eq!((status, json_error(&body).0), (431, 431));
    // Past the backstop hyper's buffer stops reading: a bare 431, closed.
    let huge = "a".repeat(Limits::default().hard_head_limit() + 10);
    let (status, _, _) = raw_exchange(
        srv.addr,
        format!("GET /hello HTTP/1.1\r\nHost: x\r\nX-Huge: {huge}\r\n\r\n").as_bytes(),
    );
    assert_eq!(status, 431);
    // And the node lives.
    let (status, _, body) = raw_exchange(srv.addr, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((status, body.as_str()), (200, "hi"));
}

#[test]
fn oversized_uri_is_414_json() {
    let srv = start(Limits::default(), Transport::InsecurePlaintext);
    let path = format!("/hello?{}", "q".repeat(9 << 10));
    let (status, _, body) = raw_exchange(
        srv.addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    );
    assert_eq!(status, 414);
    assert_eq!(json_error(&body).0, 414);
}

#[test]
fn oversized_body_is_413_before_buffering() {
    let srv = start(Limits::default(), Transport::InsecurePlaintext);
    // A 100 MB Content-Length: the head alone is sent, and the answer comes
    // at once, without the server waiting for (or reading) the body.
    let mut s = connect_from("127.0.0.1", srv.addr).expect("connect");
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        .expect("write");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let t = Instant::now();
    let (status, head, body) = read_response(&mut s);
    assert_eq!(status, 413, "{head}");
    assert!(t.elapsed() < Duration::from_secs(1));
    assert_eq!(json_error(&body).0, 413);
    assert!(head.to_ascii_lowercase().contains("connection: close"));

    // A chunked body is cut at the limit as it streams: 413 JSON once
    // 1 MiB has passed, whatever the handler does with the error.
    let mut s = connect_from("127.0.0.1", srv.addr).expect("connect");
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .expect("write");
    let chunk = format!("{:x}\r\n{}\r\n", 64 << 10, "b".repeat(64 << 10));
    for _ in 0..17 {
        if s.write_all(chunk.as_bytes()).is_err() {
            break;
        }
    }
    let (status, _, body) = read_response(&mut s);
    assert_eq!((status, json_error(&body).0), (413, 413));
    assert_eq!(srv.stats.snapshot().rejected, 2);
}

#[test]
fn unauthenticated_post_is_refused_before_its_body_is_read() {
    let srv = start(Limits::default(), Transport::InsecurePlaintext);
    let before = OPERATOR_BODIES_READ.load(Ordering::SeqCst);
    // The head announces 512 KiB (under the limit) and no body follows:
    // the 401 comes from the head alone.
    let mut s = connect_from("127.0.0.1", srv.addr).expect("connect");
    s.write_all(b"POST /op HTTP/1.1\r\nHost: x\r\nContent-Length: 524288\r\n\r\n")
        .expect("write");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let (status, _, body) = read_response(&mut s);
    assert_eq!((status, json_error(&body).0), (401, 401));
    // Even with Expect: 100-continue, no 100 is sent to the unauthenticated.
    let (status, head, _) = raw_exchange(
        srv.addr,
        b"POST /op HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
    );
    assert_eq!(status, 401, "{head}");
    assert_eq!(OPERATOR_BODIES_READ.load(Ordering::SeqCst), before);
    // The operator's post is read.
    let r = plain_client()
        .endpoint(&format!("http://{}", srv.addr), Security::InsecurePlaintext)
        .expect("endpoint")
        .post("/op", &[("Authorization", "Bearer operator")], "0123456789")
        .expect("post");
    assert_eq!((r.status, r.text().as_str()), (200, "10"));
}

#[test]
fn slow_body_is_408_json() {
    let srv = start(quick(), Transport::InsecurePlaintext);
    let mut s = connect_from("127.0.0.1", srv.addr).expect("connect");
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        .expect("write");
    s.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    for _ in 0..3 {
        let _ = s.write_all(b"x");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, _, body) = read_response(&mut s);
    assert_eq!((status, json_error(&body).0), (408, 408));
    assert!(eventually(|| srv.stats.snapshot().body_timeouts == 1));
}

#[test]
fn router_errors_in_plain_text_become_json() {
    let srv = start(Limits::default(), Transport::InsecurePlaintext);
    let (status, _, body) = raw_exchange(srv.addr, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((status, json_error(&body).0), (404, 404));
    let (status, head, body) = raw_exchange(srv.addr, b"DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((status, json_error(&body).0), (405, 405));
    assert!(head.to_ascii_lowercase().contains("allow:"), "{head}");
}

#[test]
fn a_panicking_handler_is_500_json_and_the_server_lives() {
    let srv = start(Limits::default(), Transport::InsecurePlaintext);
    let (status, _, body) = raw_exchange(srv.addr, b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 500);
    assert_eq!(json_error(&body), (500, "internal error".to_string()));
    for _ in 0..3 {
        let (status, _, body) = raw_exchange(srv.addr, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((status, body.as_str()), (200, "hi"));
    }
}

#[test]
fn plaintext_is_refused_off_loopback() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let r = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("0.0.0.0:0")
            .await
            .expect("bind");
        accord_net::serve(
            l,
            common::router(),
            Limits::default(),
            Transport::InsecurePlaintext,
            std::future::pending(),
        )
        .await
    });
    assert!(
        matches!(r, Err(accord_net::ServeError::PlaintextNotLoopback { .. })),
        "{r:?}"
    );
}

#[test]
fn keep_alive_reuses_one_connection() {
    let srv = start(Limits::default(), Transport::InsecurePlaintext);
    let ep = plain_client()
        .endpoint(&format!("http://{}", srv.addr), Security::InsecurePlaintext)
        .expect("endpoint");
    for i in 0..20 {
        let r = ep.post("/echo", &[], format!("body {i}")).expect("post");
        assert_eq!(r.text(), format!("body {i}"));
    }
    assert_eq!(srv.stats.snapshot().accepted, 1);
}

#[test]
fn unlimited_limits_do_not_overflow() {
    let forever = Duration::MAX;
    let srv = start(
        Limits {
            handshake_timeout: forever,
            header_timeout: forever,
            idle_timeout: forever,
            body_timeout: forever,
            request_timeout: forever,
            shutdown_grace: Duration::from_millis(100),
            max_header_bytes: usize::MAX,
            max_uri_bytes: usize::MAX,
            max_body_bytes: u64::MAX,
            ..Limits::default()
        },
        Transport::InsecurePlaintext,
    );
    let limits = ClientLimits {
        connect_timeout: forever,
        read_timeout: forever,
        request_timeout: forever,
        ..ClientLimits::default()
    };
    let r = Client::new(limits, None)
        .expect("client")
        .endpoint(&format!("http://{}", srv.addr), Security::InsecurePlaintext)
        .expect("endpoint")
        .post("/echo", &[], "x")
        .expect("post");
    assert_eq!(r.text(), "x");
}
