//! The client against hostile servers written here: each costs the client a
//! small, fixed amount of memory and time.

use accord_net::client::Phase;
use accord_net::{Client, ClientError, ClientLimits, Security};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that reads one request head and then runs `act` on the socket,
/// counting the bytes it managed to write.
struct Hostile {
    addr: SocketAddr,
    written: Arc<AtomicU64>,
    _rt: tokio::runtime::Runtime,
}

fn hostile<F, Fut>(act: F) -> Hostile
where
    F: Fn(tokio::net::TcpStream, Arc<AtomicU64>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("rt");
    let l = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    let written = Arc::new(AtomicU64::new(0));
    let w = written.clone();
    let act = Arc::new(act);
    rt.spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let act = act.clone();
            let w = w.clone();
            tokio::spawn(async move {
                let mut head = vec![];
                let mut b = [0u8; 1024];
                while !head.windows(4).any(|x| x == b"\r\n\r\n") {
                    match s.read(&mut b).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&b[..n]),
                    }
                }
                act(s, w).await;
            });
        }
    });
    Hostile {
        addr,
        written,
        _rt: rt,
    }
}

/// Writes `chunk` until the peer goes or `cap` bytes are out (the test
/// stays bounded even if the client misbehaves).
async fn flood(s: &mut tokio::net::TcpStream, w: &AtomicU64, chunk: &[u8], cap: u64) {
    while w.load(Ordering::Relaxed) < cap {
        if s.write_all(chunk).await.is_err() {
            return;
        }
        w.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    }
}

fn get(addr: SocketAddr, limits: ClientLimits) -> Result<accord_net::Reply, ClientError> {
    Client::new(limits, None)
        .expect("client")
        .endpoint(&format!("http://{addr}"), Security::InsecurePlaintext)
        .expect("endpoint")
        .get("/checkpoint", &[])
}

const CAP: u64 = 64 << 20;

#[test]
fn client_refuses_endless_header_line() {
    let h = hostile(|mut s, w| async move {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nX-Endless: ").await;
        flood(&mut s, &w, &[b'a'; 16 << 10], CAP).await;
    });
    let t = Instant::now();
    let e = get(h.addr, ClientLimits::default()).expect_err("endless header");
    assert!(
        matches!(e, ClientError::HeaderTooLarge { limit, .. } if limit == 64 << 10),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    // The client stopped reading near its limit: the server could not push
    // the 64 MiB it tried (socket buffers hold a few MiB at most).
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        h.written.load(Ordering::Relaxed) < CAP,
        "the client kept reading"
    );
}

#[test]
fn client_refuses_huge_body() {
    // Declared: refused from the head, before a byte of the body.
    let h = hostile(|mut s, w| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 400000000\r\n\r\n")
            .await;
        flood(&mut s, &w, &[b'b'; 64 << 10], CAP).await;
    });
    let e = get(h.addr, ClientLimits::default()).expect_err("huge body");
    assert!(
        matches!(
            e,
            ClientError::BodyTooLarge {
                status: 200,
                declared: Some(400_000_000),
                ..
            }
        ),
        "{e}"
    );
    // Undeclared (chunked, endless): cut at the limit as it streams.
    let h = hostile(|mut s, w| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        let chunk = format!("{:x}\r\n{}\r\n", 64 << 10, "c".repeat(64 << 10));
        flood(&mut s, &w, chunk.as_bytes(), CAP).await;
    });
    let limits = ClientLimits {
        max_body_bytes: 1 << 20,
        ..ClientLimits::default()
    };
    let e = get(h.addr, limits).expect_err("endless chunked body");
    assert!(
        matches!(
            e,
            ClientError::BodyTooLarge {
                declared: None,
                limit: 1048576,
                ..
            }
        ),
        "{e}"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(h.written.load(Ordering::Relaxed) < CAP);
}

#[test]
fn client_gives_up_on_a_slow_drip() {
    // A byte of the head every 50 ms: each read is quick, the head never
    // ends; the response-head deadline ends it.
    let h = hostile(|mut s, _| async move {
        for b in b"HTTP/1.1 200 OK\r\nX: "
            .iter()
            .chain([b'a'; 10_000].iter())
        {
            if s.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let limits = ClientLimits {
        read_timeout: Duration::from_millis(500),
        ..ClientLimits::default()
    };
    let t = Instant::now();
    let e = get(h.addr, limits).expect_err("drip");
    assert!(
        matches!(
            e,
            ClientError::Timeout {
                phase: Phase::ResponseHead,
                ..
            }
        ),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    // A body dripped a byte at a time: the whole-request deadline ends it.
    let h = hostile(|mut s, _| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            .await;
        for _ in 0..100_000 {
            if s.write_all(b"d").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let limits = ClientLimits {
        request_timeout: Duration::from_millis(800),
        ..ClientLimits::default()
    };
    let t = Instant::now();
    let e = get(h.addr, limits).expect_err("drip");
    assert!(
        matches!(
            e,
            ClientError::Timeout {
                phase: Phase::Whole,
                ..
            }
        ),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn client_reports_a_server_that_is_not_http() {
    let h = hostile(|mut s, _| async move {
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
    });
    let e = get(h.addr, ClientLimits::default()).expect_err("not HTTP");
    assert!(matches!(e, ClientError::Http { .. }), "{e}");
    assert!(e.to_string().contains("/checkpoint"), "{e}");
}

#[test]
fn client_reports_a_refused_connection_with_its_url() {
    // Bind and drop: the port is then (almost surely) closed.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    let e = get(addr, ClientLimits::default()).expect_err("closed port");
    assert!(matches!(e, ClientError::Connect { .. }), "{e}");
    assert!(e.to_string().contains(&addr.to_string()), "{e}");
}

#[test]
fn a_client_can_be_used_and_dropped_inside_an_async_runtime() {
    let h = hostile(|mut s, _| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .await;
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let addr = h.addr;
    let r = rt.block_on(async move {
        // Blocking inside async code is poor form, but must not panic.
        get(addr, ClientLimits::default())
    });
    assert_eq!(r.expect("reply").text(), "ok");
}

#[test]
fn header_values_are_never_echoed_in_errors() {
    let c = Client::new(ClientLimits::default(), None).expect("client");
    let ep = c
        .endpoint("http://127.0.0.1:9", Security::InsecurePlaintext)
        .expect("endpoint");
    let e = ep
        .get("/x", &[("Authorization", "Bearer secret\ntoken")])
        .expect_err("bad header");
    let text = format!("{e} {e:?}");
    assert!(matches!(e, ClientError::Header { .. }), "{text}");
    assert!(!text.contains("secret"), "{text}");
}
