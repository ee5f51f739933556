//! The routes and their OpenAPI documents, generated from the handlers and
//! the types of `accord_api`.
//!
//! The routers are built only through [`Routes`], which records each
//! (method, path) it mounts, so a test walks exactly what the router holds
//! and checks it against the document (both ways).

use crate::error::ApiError;
use axum::routing::MethodRouter;
use axum::Router;
use utoipa::OpenApi;

/// A router under construction, with the table of what it mounts.
pub struct Routes<S> {
    router: Router<S>,
    table: Vec<(&'static str, &'static str)>,
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    fn new() -> Self {
        Routes {
            router: Router::new(),
            table: vec![],
        }
    }

    /// Mounts `methods` of `path` (axum syntax, e.g. `/tile/{*path}`).
    fn add(mut self, path: &'static str, methods: &[&'static str], mr: MethodRouter<S>) -> Self {
        for m in methods {
            self.table.push((m, path));
        }
        self.router = self.router.route(path, mr);
        self
    }

    /// Every (method, path) mounted, in the OpenAPI spelling of the path
    /// (`{*path}` as `{path}`).
    pub fn table(&self) -> Vec<(String, String)> {
        let mut t: Vec<(String, String)> = self
            .table
            .iter()
            .map(|(m, p)| (m.to_string(), p.replace("{*", "{")))
            .collect();
        t.sort();
        t
    }

    /// The router, with the body limit and JSON answers for unknown paths
    /// and methods.
    pub fn build(self, state: S) -> Router {
        self.router
            .fallback(|| async { ApiError::NotFound("no such path".into()) })
            .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
            .layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY))
            .with_state(state)
    }
}

/// The party node's routes.
pub fn party_routes() -> Routes<std::sync::Arc<crate::Node>> {
    use crate::{inspections, intake, metrics, reads, witness, workbench};
    use axum::routing::{get, post};
    Routes::new()
        .add("/", &["get"], get(workbench::page))
        .add("/workbench/{*path}", &["get"], get(workbench::view))
        .add("/assets/{name}", &["get"], get(workbench::asset))
        .add("/keys", &["get"], get(workbench::get_keys))
        .add(
            "/workbench/api/notifications",
            &["get"],
            get(workbench::get_entries),
        )
        .add(
            "/workbench/api/facilities",
            &["get"],
            get(workbench::get_facilities),
        )
        .add("/workbench/api/item", &["get"], get(workbench::get_item))
        .add(
            "/workbench/api/inspections",
            &["get"],
            get(workbench::get_inspections),
        )
        .add(
            "/workbench/api/exchange",
            &["get"],
            get(workbench::get_exchange_timeline),
        )
        .add(
            "/workbench/api/tile/{party}/{*path}",
            &["get"],
            get(workbench::get_party_tile),
        )
        .add(
            "/notifications",
            &["get", "post"],
            post(intake::post_notifications).get(reads::get_notifications),
        )
        .add("/history", &["get"], get(reads::get_history))
        .add(
            "/inspections",
            &["post"],
            post(inspections::post_inspection),
        )
        .add("/proof/consistency", &["get"], get(reads::get_consistency))
        .add("/proof/inclusion", &["get"], get(reads::get_inclusion))
        .add("/receipts", &["get"], get(reads::get_receipts))
        .add("/tile/{*path}", &["get"], get(reads::get_tile))
        .add("/checkpoint", &["get"], get(reads::get_checkpoint))
        .add("/add-checkpoint", &["post"], post(witness::add_checkpoint))
        .add("/status", &["get"], get(reads::get_status))
        .add("/exchange", &["get"], get(reads::get_exchange))
        .add("/metrics", &["get"], get(metrics::get_metrics))
        .add("/openapi.json", &["get"], get(party_document))
}

/// The witness node's routes.
pub fn witness_routes() -> Routes<std::sync::Arc<crate::witness_node::WitnessNode>> {
    use crate::witness_node;
    use axum::routing::{get, post};
    Routes::new()
        .add(
            "/add-checkpoint",
            &["post"],
            post(witness_node::add_checkpoint),
        )
        .add("/status", &["get"], get(witness_node::status))
        .add("/openapi.json", &["get"], get(witness_document))
}

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "operator",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An operator token: writes and reads"))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "reader",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A reader token: reads entries, never writes"))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "peer",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Accord-Peer TS NAME SIG`: an Ed25519 signature by the peer's log key over the method, path and time",
            ))),
        );
    }
}

/// The party node's interface.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "accord party node",
        description = "A party's node: operators' notifications and inspections, the signed log as C2SP tlog-tiles with proofs, the C2SP tlog-witness endpoint, the exchange with peers, and compliance from the regime. Every error is `{\"error\": {\"status\", \"message\", \"field\"}}`."
    ),
    paths(
        crate::workbench::page,
        crate::workbench::view,
        crate::workbench::asset,
        crate::workbench::get_keys,
        crate::workbench::get_entries,
        crate::workbench::get_facilities,
        crate::workbench::get_item,
        crate::workbench::get_inspections,
        crate::workbench::get_exchange_timeline,
        crate::workbench::get_party_tile,
        crate::intake::post_notifications,
        crate::reads::get_notifications,
        crate::reads::get_history,
        crate::inspections::post_inspection,
        crate::reads::get_consistency,
        crate::reads::get_inclusion,
        crate::reads::get_receipts,
        crate::reads::get_tile,
        crate::reads::get_checkpoint,
        crate::witness::add_checkpoint,
        crate::reads::get_status,
        crate::reads::get_exchange,
        crate::metrics::get_metrics,
        party_document,
    ),
    modifiers(&Security)
)]
pub struct PartyApi;

/// The witness node's interface.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "accord witness node",
        description = "A neutral witness: the C2SP tlog-witness endpoint and its status. Every error is `{\"error\": {\"status\", \"message\", \"field\"}}`."
    ),
    paths(
        crate::witness_node::add_checkpoint,
        crate::witness_node::status,
        witness_document,
    )
)]
pub struct WitnessApi;

/// This interface as OpenAPI 3.1.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
async fn party_document() -> axum::response::Response {
    document(PartyApi::openapi())
}

/// This interface as OpenAPI 3.1.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
async fn witness_document() -> axum::response::Response {
    document(WitnessApi::openapi())
}

fn document(doc: utoipa::openapi::OpenApi) -> axum::response::Response {
    use axum::response::IntoResponse;
    match doc.to_pretty_json() {
        Ok(text) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            text,
        )
            .into_response(),
        Err(e) => crate::error::internal(e).into_response(),
    }
}

/// Every (method, path) a document describes.
pub fn documented(doc: &utoipa::openapi::OpenApi) -> Vec<(String, String)> {
    let mut out = vec![];
    for (path, item) in &doc.paths.paths {
        let ops = [
            ("get", item.get.is_some()),
            ("post", item.post.is_some()),
            ("put", item.put.is_some()),
            ("delete", item.delete.is_some()),
            ("patch", item.patch.is_some()),
        ];
        for (m, present) in ops {
            if present {
                out.push((m.to_string(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_of_the_party_node_is_documented_and_every_documented_route_routed() {
        assert_eq!(party_routes().table(), documented(&PartyApi::openapi()));
    }

    #[test]
    fn every_route_of_the_witness_node_is_documented_and_every_documented_route_routed() {
        assert_eq!(witness_routes().table(), documented(&WitnessApi::openapi()));
    }
}
