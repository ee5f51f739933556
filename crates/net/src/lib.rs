//! The transport of a party's node: TLS identities pinned by key, mutual
//! TLS, a bounded HTTP/1.1 server for an axum `Router`, and a bounded
//! blocking client.
//!
//! - [`identity`]: `tls init` as a library ([`tls_init`]), loading with
//!   permission checks ([`Identity::load`]).
//! - [`pin`]: a key's pin, `sha256/BASE64` of its `SubjectPublicKeyInfo`.
//! - [`verify`]: rustls verifiers that accept exactly the pinned keys, both
//!   ways; [`tls`]: the configurations built on them.
//! - [`server`]: [`serve`] with [`Limits`] (timeouts per phase, connection
//!   caps with eviction, header/URI/body caps answered with the JSON error
//!   body), the [`Peer`] and [`RemoteAddr`] of every request.
//! - [`layers`]: [`AuthLayer`] (authenticate before the body is read) and
//!   [`RequestLogLayer`] (`tracing`, one event per request).
//! - [`client`]: [`Client`] and [`Endpoint`], blocking, bounded, pinned.
//! - [`bench`]: the transport benchmark.
//!
//! A peer reading another node over mutual TLS:
//!
//! ```
//! use accord_net::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let node = Identity::generate(&IdentityOptions::default())?;
//! let peer = Identity::generate(&IdentityOptions::default())?;
//!
//! // The node: its identity, and the peer's pin as the one client key it
//! // knows.
//! let rt = tokio::runtime::Runtime::new()?;
//! let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
//! let addr = listener.local_addr()?;
//! let router = axum::Router::new().route(
//!     "/checkpoint",
//!     axum::routing::get(|axum::Extension(p): axum::Extension<Peer>| async move {
//!         format!("hello {}", p.pin().map_or("anonymous".into(), |p| p.to_string()))
//!     }),
//! );
//! let tls = tls::server_config(&node, PinSet::from(peer.pin()))?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = rt.spawn(serve(listener, router, Limits::default(), Transport::Tls(tls), async {
//!     let _ = stopped.await;
//! }));
//!
//! // The peer: its identity, and the node's pin as the one server key it
//! // accepts.
//! let client = Client::new(ClientLimits::default(), Some(peer.clone()))?;
//! let node_ep = client.endpoint(&format!("https://{addr}"), Security::Pinned(node.pin().into()))?;
//! let reply = node_ep.get("/checkpoint", &[])?;
//! assert_eq!(reply.status, 200);
//! assert_eq!(reply.text(), format!("hello {}", peer.pin()));
//!
//! let _ = stop.send(());
//! rt.block_on(server)??;
//! # Ok(())
//! # }
//! ```
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
