//! Pins: a node is identified by the key in its certificate, not by a name
//! or a certificate authority.
//!
//! A **pin** is the SHA-256 digest of the certificate's DER-encoded
//! `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7: the algorithm identifier and
//! the public key, nothing else), written `sha256/` followed by the 32-byte
//! digest in standard base64 with padding (RFC 4648 §4, 44 characters):
//!
//! ```text
//! sha256/3kWsUTZ0mRmtqDaQZJuGwvaBpvHhN1vHbJ7qqnQ1Jfk=
//! ```
//!
//! This is the digest HTTP public key pinning (RFC 7469 §2.4) and
//! `curl --pinnedpubkey sha256//…` compute, so an operator can check a pin
//! with standard tools:
//!
//! ```text
//! openssl x509 -in tls.crt -pubkey -noout | openssl pkey -pubin -outform der \
//!   | openssl dgst -sha256 -binary | base64
//! ```
//!
//! Because the pin covers the key and not the certificate, a node can renew
//! its certificate (new dates, new names) with the same key and keep its pin;
//! a new key is a new identity and must be pinned again by every peer.

use base64::Engine as _;
use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// The prefix of a pin's text form.
pub const PIN_PREFIX: &str = "sha256/";

/// The SHA-256 digest of a certificate's `SubjectPublicKeyInfo`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pin([u8; 32]);

/// Why a pin's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// It does not start with `sha256/`.
    #[error("pin `{text}`: expected `sha256/` followed by 44 characters of base64")]
    Prefix {
        /// The text given (a pin is public; it is safe to echo).
        text: String,
    },
    /// What follows the prefix is not standard base64.
    #[error("pin `{text}`: the digest is not standard base64 with padding")]
    Base64 {
        /// The text given.
        text: String,
    },
    /// The digest is not 32 bytes.
    #[error("pin `{text}`: the digest is {len} bytes, expected 32 (SHA-256)")]
    Length {
        /// The text given.
        text: String,
        /// The decoded length.
        len: usize,
    },
}

impl Pin {
    /// The pin of a DER-encoded `SubjectPublicKeyInfo`.
    pub fn of_spki(spki_der: &[u8]) -> Pin {
        Pin(Sha256::digest(spki_der).into())
    }

    /// The pin of a DER certificate's key, or why the certificate cannot be
    /// parsed (X.509 as RFC 5280 and the web PKI profile read it).
    pub fn of_certificate(cert: &CertificateDer<'_>) -> Result<Pin, webpki::Error> {
        let ee = webpki::EndEntityCert::try_from(cert)?;
        Ok(Pin::of_spki(ee.subject_public_key_info().as_ref()))
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The pin from its 32 digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Pin {
        Pin(bytes)
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PIN_PREFIX)?;
        f.write_str(&base64::engine::general_purpose::STANDARD.encode(self.0))
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin({self})")
    }
}

impl FromStr for Pin {
    type Err = PinError;

    fn from_str(s: &str) -> Result<Pin, PinError> {
        let text = || s.chars().take(80).collect::<String>();
        let b64 = s
            .strip_prefix(PIN_PREFIX)
            .ok_or_else(|| PinError::Prefix { text: text() })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| PinError::Base64 { text: text() })?;
        let len = bytes.len();
        let digest: [u8; 32] = bytes
            .try_into()
            .map_err(|_| PinError::Length { text: text(), len })?;
        Ok(Pin(digest))
    }
}

/// The keys a node accepts on the other end of a connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PinSet(BTreeSet<Pin>);

impl PinSet {
    /// No pins: no certificate is accepted (a server with an empty set
    /// still admits clients without certificates, anonymously).
    pub fn new() -> PinSet {
        PinSet::default()
    }

    /// Adds a pin; returns whether it was new.
    pub fn insert(&mut self, pin: Pin) -> bool {
        self.0.insert(pin)
    }

    /// Whether `pin` is in the set.
    pub fn contains(&self, pin: &Pin) -> bool {
        self.0.contains(pin)
    }

    /// How many pins.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pins, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Pin> {
        self.0.iter()
    }
}

impl FromIterator<Pin> for PinSet {
    fn from_iter<I: IntoIterator<Item = Pin>>(iter: I) -> PinSet {
        PinSet(iter.into_iter().collect())
    }
}

impl From<Pin> for PinSet {
    fn from(pin: Pin) -> PinSet {
        PinSet(BTreeSet::from([pin]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_text_round_trips_and_matches_the_sha256_of_the_spki() {
        // SHA-256 of the empty string, a known answer (FIPS 180-4 example).
        let p = Pin::of_spki(b"");
        assert_eq!(
            p.to_string(),
            "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(p.to_string().parse::<Pin>(), Ok(p));
    }

    #[test]
    fn malformed_pins_are_refused_with_the_reason() {
        assert!(matches!(
            "sha1/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".parse::<Pin>(),
            Err(PinError::Prefix { .. })
        ));
        assert!(matches!(
            "sha256/not base64!".parse::<Pin>(),
            Err(PinError::Base64 { .. })
        ));
        assert_eq!(
            "sha256/AAAA".parse::<Pin>(),
            Err(PinError::Length {
                text: "sha256/AAAA".into(),
                len: 3
            })
        );
    }
}
