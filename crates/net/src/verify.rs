//! Certificate verification by pinned key, both ways.
//!
//! There is no web PKI between parties: a node is whoever holds the key
//! pinned in its peers' configuration. Verification of a presented
//! end-entity certificate is therefore:
//!
//! 1. it parses as X.509 (RFC 5280), else `BadEncoding`;
//! 2. the SHA-256 of its `SubjectPublicKeyInfo` is one of the pins, else
//!    [`CertRefused::NotPinned`] (carrying the pin presented, as evidence);
//! 3. it is valid now (`notBefore ≤ now ≤ notAfter`), self-signed by that
//!    key, and its extended key usage (if any) allows the role: this is the
//!    ordinary path validation of `rustls-webpki`, run with the certificate
//!    itself as the only trust anchor, so dates and signature are checked
//!    by the same code that checks web certificates;
//! 4. the TLS handshake signature (TLS 1.3 `CertificateVerify`) is verified
//!    with the certificate's key by rustls' own functions. This is what
//!    makes a pin an identity: a peer that sends another peer's certificate
//!    cannot sign the handshake transcript without that peer's private key.
//!
//! Intermediate certificates, names, OCSP and SCTs are ignored: the pin
//! names the key directly.

use crate::pin::{Pin, PinSet};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::sync::Arc;

/// Why a presented certificate was refused (inside
/// `rustls::CertificateError::Other`, so it reaches the caller's error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertRefused {
    /// The certificate's key is not pinned.
    #[error("the certificate's key {pin} is not pinned")]
    NotPinned {
        /// The pin of the key presented.
        pin: Pin,
    },
    /// Path validation of the pinned certificate failed.
    #[error("the certificate with key {pin} is not valid: {reason}")]
    Invalid {
        /// The pin of the key presented.
        pin: Pin,
        /// The validator's reason.
        reason: webpki::Error,
    },
}

impl CertRefused {
    /// Finds a refusal inside an I/O error from a TLS stream (tokio-rustls
    /// wraps `rustls::Error` in `std::io::Error`).
    pub fn find(e: &(dyn std::error::Error + 'static)) -> Option<CertRefused> {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = cur {
            if let Some(rustls::Error::InvalidCertificate(CertificateError::Other(o))) =
                err.downcast_ref::<rustls::Error>()
            {
                if let Some(r) = o.0.downcast_ref::<CertRefused>() {
                    return Some(r.clone());
                }
            }
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if let Some(inner) = io.get_ref() {
                    cur = Some(inner);
                    continue;
                }
            }
            cur = err.source();
        }
        None
    }
}

fn refused(r: CertRefused) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(r))))
}

/// Steps 1–3 of the module documentation; returns the pin.
fn check(
    end_entity: &CertificateDer<'_>,
    pins: &PinSet,
    now: UnixTime,
    algs: &WebPkiSupportedAlgorithms,
    usage: webpki::KeyUsage,
) -> Result<Pin, rustls::Error> {
    let ee = webpki::EndEntityCert::try_from(end_entity)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let pin = Pin::of_spki(ee.subject_public_key_info().as_ref());
    if !pins.contains(&pin) {
        return Err(refused(CertRefused::NotPinned { pin }));
    }
    let anchor = webpki::anchor_from_trusted_cert(end_entity)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    match ee.verify_for_usage(algs.all, &[anchor], &[], now, usage, None, None) {
        Ok(_) => Ok(pin),
        Err(webpki::Error::CertExpired { .. }) => {
            Err(rustls::Error::InvalidCertificate(CertificateError::Expired))
        }
        Err(webpki::Error::CertNotValidYet { .. }) => Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidYet,
        )),
        Err(reason) => Err(refused(CertRefused::Invalid { pin, reason })),
    }
}

/// A client's verifier of the server: accepts exactly the pinned keys.
#[derive(Debug)]
pub struct PinnedServerVerifier {
    pins: PinSet,
    algs: WebPkiSupportedAlgorithms,
}

impl PinnedServerVerifier {
    /// Accepts a server whose key is one of `pins` (usually one: the peer
    /// the client means to reach).
    pub fn new(pins: PinSet) -> PinnedServerVerifier {
        PinnedServerVerifier {
            pins,
            algs: crate::identity::provider().signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for PinnedServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        check(
            end_entity,
            &self.pins,
            now,
            &self.algs,
            webpki::KeyUsage::server_auth(),
        )
        .map(|_| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// A server's verifier of clients: a client may present no certificate
/// (operators and observers, who authenticate with tokens, and anyone
/// reading public data); a client that presents one must hold a pinned key.
#[derive(Debug)]
pub struct PinnedClientVerifier {
    pins: PinSet,
    algs: WebPkiSupportedAlgorithms,
}

impl PinnedClientVerifier {
    /// Accepts client certificates whose key is in `pins`, and clients
    /// without a certificate.
    pub fn new(pins: PinSet) -> PinnedClientVerifier {
        PinnedClientVerifier {
            pins,
            algs: crate::identity::provider().signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for PinnedClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        check(
            end_entity,
            &self.pins,
            now,
            &self.algs,
            webpki::KeyUsage::client_auth(),
        )
        .map(|_| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Identity, IdentityOptions};
    use std::time::{Duration, SystemTime};

    fn now() -> UnixTime {
        UnixTime::now()
    }

    fn algs() -> WebPkiSupportedAlgorithms {
        crate::identity::provider().signature_verification_algorithms
    }

    #[test]
    fn a_pinned_certificate_is_accepted_for_both_roles() {
        let id = Identity::generate(&IdentityOptions::default()).expect("test");
        let pins = PinSet::from(id.pin());
        for usage in [
            webpki::KeyUsage::server_auth(),
            webpki::KeyUsage::client_auth(),
        ] {
            assert_eq!(
                check(id.certificate(), &pins, now(), &algs(), usage).ok(),
                Some(id.pin())
            );
        }
    }

    #[test]
    fn an_unpinned_key_is_refused_naming_its_pin() {
        let id = Identity::generate(&IdentityOptions::default()).expect("test");
        let other = Identity::generate(&IdentityOptions::default()).expect("test");
        let e = check(
            id.certificate(),
            &PinSet::from(other.pin()),
            now(),
            &algs(),
            webpki::KeyUsage::server_auth(),
        )
        .expect_err("unpinned");
        assert_eq!(
            CertRefused::find(&e),
            Some(CertRefused::NotPinned { pin: id.pin() })
        );
    }

    #[test]
    fn an_expired_or_not_yet_valid_pinned_certificate_is_refused() {
        let day = Duration::from_secs(86_400);
        let t = SystemTime::now();
        let expired = Identity::generate(&IdentityOptions {
            not_before: t - 10 * day,
            not_after: t - day,
            ..IdentityOptions::default()
        })
        .expect("test");
        let future = Identity::generate(&IdentityOptions {
            not_before: t + day,
            not_after: t + 10 * day,
            ..IdentityOptions::default()
        })
        .expect("test");
        let pins: PinSet = [expired.pin(), future.pin()].into_iter().collect();
        let usage = webpki::KeyUsage::client_auth();
        assert!(matches!(
            check(expired.certificate(), &pins, now(), &algs(), usage),
            Err(rustls::Error::InvalidCertificate(CertificateError::Expired))
        ));
        assert!(matches!(
            check(future.certificate(), &pins, now(), &algs(), usage),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidYet
            ))
        ));
    }

    #[test]
    fn garbage_certificates_are_refused() {
        let pins = PinSet::from(Pin::of_spki(b"x"));
        for bytes in [&b""[..], b"\x30\x03\x02\x01\x00", &[0xff; 300]] {
            let der = CertificateDer::from(bytes.to_vec());
            assert!(matches!(
                check(&der, &pins, now(), &algs(), webpki::KeyUsage::server_auth()),
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::BadEncoding
                ))
            ));
        }
    }

    #[test]
    fn a_certificate_whose_signature_was_tampered_with_is_refused() {
        let id = Identity::generate(&IdentityOptions::default()).expect("test");
        let mut der = id.certificate().to_vec();
        // The signature is the last element of the certificate: flip a bit
        // in its final byte. The key, and so the pin, are unchanged.
        if let Some(b) = der.last_mut() {
            *b ^= 1;
        }
        let der = CertificateDer::from(der);
        let r = check(
            &der,
            &PinSet::from(id.pin()),
            now(),
            &algs(),
            webpki::KeyUsage::server_auth(),
        );
        assert!(r.is_err(), "{r:?}");
    }
}
