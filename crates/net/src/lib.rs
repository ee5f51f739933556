//! The transport of a party's node.
#![forbid(unsafe_code)]

pub mod bench;
pub mod client;
pub mod errors;
pub mod identity;
pub mod layers;
pub mod pin;
pub mod server;
pub mod tls;
pub mod verify;

pub use client::{Client, ClientError, ClientLimits, Endpoint, Reply, Security};
pub use errors::{json_error, jsonify_error};
pub use identity::{tls_init, Identity, IdentityError, IdentityOptions, TlsFiles};
pub use layers::{AuthLayer, RequestLogLayer};
pub use pin::{Pin, PinError, PinSet};
pub use server::{
    serve, Limits, Peer, RemoteAddr, ServeError, Server, Stats, StatsSnapshot, Transport,
};
pub use verify::{CertRefused, PinnedClientVerifier, PinnedServerVerifier};
