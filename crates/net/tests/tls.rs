//! Mutual TLS by pinned keys, attacked from both ends.

mod common;

use accord_net::client::SecurityProblem;
use accord_net::{
    CertRefused, Client, ClientError, ClientLimits, Identity, IdentityOptions, Limits, PinSet,
    Security,
};
use common::*;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

fn client(identity: Option<Identity>) -> Client {
    Client::new(ClientLimits::default(), identity).expect("client")
}

fn url(srv: &Running) -> String {
    format!("https://127.0.0.1:{}", srv.addr.port())
}

#[test]
fn a_pinned_peer_is_identified_by_its_pin_and_a_client_without_a_certificate_is_anonymous() {
    let server = identity();
    let peer = identity();
    let srv = start_tls(Limits::default(), &server, PinSet::from(peer.pin()));
    let as_peer = client(Some(peer.clone()))
        .endpoint(&url(&srv), Security::Pinned(server.pin().into()))
        .expect("endpoint");
    let r = as_peer.get("/peer", &[]).expect("peer request");
    assert_eq!((r.status, r.text()), (200, peer.pin().to_string()));
    let anon = client(None)
        .endpoint(&url(&srv), Security::Pinned(server.pin().into()))
        .expect("endpoint");
    let r = anon.get("/peer", &[]).expect("anonymous request");
    assert_eq!((r.status, r.text().as_str()), (200, "anonymous"));
}

#[test]
fn client_refuses_unpinned_server() {
    let server = identity();
    let impostor_pin = identity().pin();
    let srv = start_tls(Limits::default(), &server, PinSet::new());
    let e = client(None)
        .endpoint(&url(&srv), Security::Pinned(impostor_pin.into()))
        .expect("endpoint")
        .get("/hello", &[])
        .expect_err("unpinned server");
    match e {
        ClientError::ServerRefused { refused, url } => {
            assert_eq!(refused, CertRefused::NotPinned { pin: server.pin() });
            assert!(url.ends_with("/hello"), "{url}");
        }
        other => panic!("expected ServerRefused, got {other}"),
    }
}

#[test]
fn client_refuses_an_expired_server_certificate_even_if_pinned() {
    let day = Duration::from_secs(86_400);
    let t = SystemTime::now();
    let expired = Identity::generate(&IdentityOptions {
        not_before: t - 10 * day,
        not_after: t - day,
        ..IdentityOptions::default()
    })
    .expect("identity");
    let srv = start_tls(Limits::default(), &expired, PinSet::new());
    let e = client(None)
        .endpoint(&url(&srv), Security::Pinned(expired.pin().into()))
        .expect("endpoint")
        .get("/hello", &[])
        .expect_err("expired");
    assert!(matches!(e, ClientError::Tls { .. }), "{e}");
    assert!(e.to_string().to_lowercase().contains("expired"), "{e}");
}

#[test]
fn server_refuses_unpinned_client_cert() {
    let server = identity();
    let peer = identity();
    let stranger = identity();
    let srv = start_tls(Limits::default(), &server, PinSet::from(peer.pin()));
    let r = client(Some(stranger))
        .endpoint(&url(&srv), Security::Pinned(server.pin().into()))
        .expect("endpoint")
        .get("/peer", &[]);
    // TLS 1.3: the client learns of the refusal from the server's alert,
    // at its first read.
    let e = r.expect_err("an unpinned client certificate");
    assert!(
        matches!(e, ClientError::Tls { .. } | ClientError::Http { .. }),
        "{e}"
    );
    assert!(eventually(|| srv.stats.snapshot().handshake_failures == 1));
    assert_eq!(srv.stats.snapshot().requests, 0);
}

#[test]
fn server_refuses_an_expired_client_cert_even_if_pinned() {
    let day = Duration::from_secs(86_400);
    let t = SystemTime::now();
    let server = identity();
    let expired = Identity::generate(&IdentityOptions {
        not_before: t - 10 * day,
        not_after: t - day,
        ..IdentityOptions::default()
    })
    .expect("identity");
    let srv = start_tls(Limits::default(), &server, PinSet::from(expired.pin()));
    let r = client(Some(expired))
        .endpoint(&url(&srv), Security::Pinned(server.pin().into()))
        .expect("endpoint")
        .get("/peer", &[]);
    assert!(r.is_err(), "{r:?}");
    assert!(eventually(|| srv.stats.snapshot().handshake_failures == 1));
    assert_eq!(srv.stats.snapshot().requests, 0);
}

/// A peer that sends another peer's certificate but holds only its own key
/// cannot sign the handshake: the server refuses it.
#[test]
fn a_peer_cannot_present_another_peers_pin() {
    let server = identity();
    let victim = identity();
    let attacker_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let srv = start_tls(Limits::default(), &server, PinSet::from(victim.pin()));

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = provider
        .key_provider
        .load_private_key(rustls::pki_types::PrivateKeyDer::Pkcs8(
            attacker_key.serialize_der().into(),
        ))
        .expect("key");
    let forged = rustls::sign::CertifiedKey::new(vec![victim.certificate().clone()], key);
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls13")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(accord_net::PinnedServerVerifier::new(
            server.pin().into(),
        )))
        .with_client_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(forged)));
    let addr = srv.addr;
    let outcome = srv.rt.block_on(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(name, tcp)
            .await?;
        tls.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n\r\n")
            .await?;
        let mut buf = vec![0u8; 1024];
        let n = tls.read(&mut buf).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&buf[..n]).to_string())
    });
    match outcome {
        Ok(text) => assert!(text.is_empty(), "the forger was answered: {text}"),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    assert!(eventually(|| srv.stats.snapshot().handshake_failures == 1));
    assert_eq!(srv.stats.snapshot().requests, 0);
}

#[test]
fn a_garbage_client_hello_is_a_handshake_failure_and_the_server_lives() {
    let server = identity();
    let srv = start_tls(Limits::default(), &server, PinSet::new());
    let (status, _, _) = raw_exchange(srv.addr, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 0, "plain HTTP to a TLS port gets no HTTP answer");
    assert!(eventually(|| srv.stats.snapshot().handshake_failures == 1));
    let r = client(None)
        .endpoint(&url(&srv), Security::Pinned(server.pin().into()))
        .expect("endpoint")
        .get("/hello", &[])
        .expect("after garbage");
    assert_eq!(r.status, 200);
}

#[test]
fn plaintext_is_refused_unless_asked_for_and_on_loopback() {
    let c = client(None);
    let pins = PinSet::from(identity().pin());
    let problem = |r: Result<accord_net::Endpoint, ClientError>| match r {
        Err(ClientError::Security { problem, .. }) => Some(problem),
        _ => None,
    };
    assert_eq!(
        problem(c.endpoint("http://192.0.2.1:7101", Security::InsecurePlaintext)),
        Some(SecurityProblem::PlaintextNotLoopback)
    );
    assert_eq!(
        problem(c.endpoint("http://127.0.0.1:7101", Security::Pinned(pins.clone()))),
        Some(SecurityProblem::PlaintextNotAllowed)
    );
    assert_eq!(
        problem(c.endpoint("https://127.0.0.1:7101", Security::InsecurePlaintext)),
        Some(SecurityProblem::HttpsWithoutPins)
    );
    assert_eq!(
        problem(c.endpoint("https://127.0.0.1:7101", Security::Pinned(PinSet::new()))),
        Some(SecurityProblem::NoPins)
    );
    for ok in [
        "http://127.0.0.1:7101",
        "http://localhost:7101",
        "http://[::1]:7101",
    ] {
        assert!(c.endpoint(ok, Security::InsecurePlaintext).is_ok(), "{ok}");
    }
    assert!(matches!(
        c.endpoint("ftp://127.0.0.1:7101", Security::InsecurePlaintext),
        Err(ClientError::Url { .. })
    ));
    // The same checks without a client, for reading a configuration.
    assert!(matches!(
        accord_net::client::check_url("http://192.0.2.1:7101", &Security::InsecurePlaintext),
        Err(ClientError::Security {
            problem: SecurityProblem::PlaintextNotLoopback,
            ..
        })
    ));
    assert!(
        accord_net::client::check_url("https://ru.example:7102", &Security::Pinned(pins)).is_ok()
    );
}
