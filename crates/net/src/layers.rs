//! Tower layers the node mounts on its router.
//!
//! - [`AuthLayer`]: authenticate from the head alone, before a byte of the
//!   body is read. An unauthenticated request is answered at once (the
//!   check's response, with `Connection: close`), its body never polled:
//!   hyper sends no `100 Continue` and the connection is closed rather than
//!   drained, so 200 unauthenticated 1 MiB posts cost 200 heads, not
//!   200 MiB.
//! - [`RequestLogLayer`]: one `tracing` event per request (method, path,
//!   status, latency, peer pin, remote address) at `INFO`, `WARN` for 5xx.

use crate::server::{Peer, RemoteAddr};
use axum::body::Body;
use axum::response::IntoResponse;
use http::request::Parts;
use http::{header, HeaderValue, Request, Response};
use std::future::Future;
use std::pin::Pin as StdPin;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};

type BoxFuture<T> = StdPin<Box<dyn Future<Output = T> + Send>>;

/// Runs `check` on a request's head before the inner service (and so before
/// the body is read). `check` may add extensions (who the operator is);
/// its `Err` (anything that is a response: the node's `ApiError`) is sent
/// as it is, with `Connection: close`.
#[derive(Clone)]
pub struct AuthLayer<F> {
    check: F,
}

impl<F, E> AuthLayer<F>
where
    F: Fn(&mut Parts) -> Result<(), E> + Clone + Send + Sync + 'static,
    E: IntoResponse,
{
    /// A layer running `check`.
    pub fn new(check: F) -> AuthLayer<F> {
        AuthLayer { check }
    }
}

impl<F> std::fmt::Debug for AuthLayer<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthLayer")
    }
}

impl<S, F: Clone> Layer<S> for AuthLayer<F> {
    type Service = Auth<S, F>;

    fn layer(&self, inner: S) -> Auth<S, F> {
        Auth {
            inner,
            check: self.check.clone(),
        }
    }
}

/// The service of [`AuthLayer`].
#[derive(Clone)]
pub struct Auth<S, F> {
    inner: S,
    check: F,
}

impl<S, F> std::fmt::Debug for Auth<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth")
    }
}

impl<S, F, E, B> Service<Request<B>> for Auth<S, F>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    F: Fn(&mut Parts) -> Result<(), E> + Clone + Send + Sync + 'static,
    E: IntoResponse,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        match (self.check)(&mut parts) {
            Err(e) => {
                let mut refusal = e.into_response();
                refusal
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                drop(body);
                Box::pin(std::future::ready(Ok(refusal)))
            }
            Ok(()) => {
                // The ready service handles this request; a clone takes its
                // place (tower's usual dance).
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(inner.call(Request::from_parts(parts, body)))
            }
        }
    }
}

/// Logs every request with `tracing` (target `accord_net::request`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestLogLayer;

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog { inner }
    }
}

/// The service of [`RequestLogLayer`].
#[derive(Debug, Clone)]
pub struct RequestLog<S> {
    inner: S,
}

/// The longest path logged (the rest is cut; the URI limit bounds it
/// anyway).
const MAX_LOGGED_PATH: usize = 200;

impl<S, B, RB> Service<Request<B>> for RequestLog<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<RB>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let method = req.method().clone();
        // The path only: a query may carry what a log should not keep.
        let path: String = req.uri().path().chars().take(MAX_LOGGED_PATH).collect();
        let peer = req
            .extensions()
            .get::<Peer>()
            .and_then(Peer::pin)
            .map(|p| p.to_string());
        let remote = req.extensions().get::<RemoteAddr>().map(|r| r.0);
        let start = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let r = fut.await;
            let ms = start.elapsed().as_secs_f64() * 1e3;
            let peer = peer.as_deref().unwrap_or("-");
            let remote = remote.map_or_else(|| "-".to_string(), |a| a.to_string());
            match &r {
                Ok(resp) if resp.status().is_server_error() => tracing::warn!(
                    target: "accord_net::request",
                    %method, %path, status = resp.status().as_u16(), latency_ms = ms, %peer, %remote,
                    "request"
                ),
                Ok(resp) => tracing::info!(
                    target: "accord_net::request",
                    %method, %path, status = resp.status().as_u16(), latency_ms = ms, %peer, %remote,
                    "request"
                ),
                Err(_) => tracing::warn!(
                    target: "accord_net::request",
                    %method, %path, latency_ms = ms, %peer, %remote,
                    "request failed in the service"
                ),
            }
            r
        })
    }
}
