//! The transport of a party's node.
#![forbid(unsafe_code)]

pub mod identity;
pub mod pin;
pub mod tls;
pub mod verify;

pub use identity::{tls_init, Identity, IdentityError, IdentityOptions, TlsFiles};
pub use pin::{Pin, PinError, PinSet};
pub use verify::{CertRefused, PinnedClientVerifier, PinnedServerVerifier};
