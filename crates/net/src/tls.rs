//! rustls configurations for the two ends: TLS 1.3 only, the *ring*
//! provider, ALPN `http/1.1`, and the pinned-key verifiers of
//! [`crate::verify`].

use crate::identity::{provider, Identity};
use crate::pin::PinSet;
use crate::verify::{PinnedClientVerifier, PinnedServerVerifier};
use std::sync::Arc;

/// Why a TLS configuration could not be built (the provider refused the
/// protocol versions: not expected with *ring* and TLS 1.3).
#[derive(Debug, thiserror::Error)]
#[error("cannot configure TLS: {0}")]
pub struct TlsConfigError(#[from] rustls::Error);

/// A server configuration: this node's identity, and the client keys that
/// identify peers (clients without a certificate are admitted as
/// anonymous).
pub fn server_config(
    identity: &Identity,
    client_pins: PinSet,
) -> Result<Arc<rustls::ServerConfig>, TlsConfigError> {
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(Arc::new(PinnedClientVerifier::new(client_pins)))
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(
            identity.certified_key(),
        )));
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// A client configuration: the server keys accepted, and the certificate
/// presented (a peer's or witness's identity; none for an operator).
pub fn client_config(
    server_pins: PinSet,
    identity: Option<&Identity>,
) -> Result<Arc<rustls::ClientConfig>, TlsConfigError> {
    let b = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServerVerifier::new(server_pins)));
    let mut cfg = match identity {
        Some(id) => b.with_client_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(
            id.certified_key(),
        ))),
        None => b.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
