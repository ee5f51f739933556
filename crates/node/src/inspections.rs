//! `POST /inspections` (operator): an inspection this party made of a peer,
//! or one a peer made of it.

use crate::error::{from_inspection, internal, ApiError};
use crate::{blocking, Node};
use accord_api::InspectionRecorded;
use accord_inspect::record::InspectionRecord;
use accord_regime::inspection;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use std::sync::Arc;

/// Records an inspection. It is checked against the inspected party's
/// registry (the mirror, for a peer) on its date, as the treaty allows it;
/// then appended to this node's log and fed to its registry. Its findings
/// join the inspected party's compliance; it counts against the inspecting
/// party's quota.
#[utoipa::path(
    post,
    path = "/inspections",
    tag = "inspections",
    request_body(
        content = Object,
        description = "An inspection record (see the README's inspection format)",
        content_type = "application/json"
    ),
    security(("operator" = [])),
    responses(
        (status = 201, description = "Checked, logged and recorded", body = InspectionRecorded),
        (status = 400, description = "Malformed; `field` names it", body = accord_api::ErrorBody),
        (status = 401, description = "No operator token", body = accord_api::ErrorBody),
        (status = 403, description = "Neither made nor received by this node's party", body = accord_api::ErrorBody),
        (status = 409, description = "An inspection id already recorded", body = accord_api::ErrorBody),
        (status = 422, description = "Not allowed by the treaty on that date and site", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn post_inspection(
    State(node): State<Arc<Node>>,
    body: Bytes,
) -> Result<(StatusCode, Json<InspectionRecorded>), ApiError> {
    let rec: InspectionRecord =
        accord_api::read("inspection record", &body).map_err(|e| ApiError::BadRequest {
            message: format!("inspection record: {}", e.message),
            field: Some(e.field),
        })?;
    if rec.inspecting_party != node.party && rec.inspected_party != node.party {
        return Err(ApiError::Forbidden(format!(
            "this node records inspections made by or of {}",
            node.party
        )));
    }
    if rec.inspected_party != node.party && node.link(&rec.inspected_party).is_none() {
        return Err(ApiError::Unprocessable {
            message: format!("{} is not a peer of this node", rec.inspected_party),
            field: Some("inspected_party".into()),
        });
    }
    let n = node.clone();
    let recorded = blocking(move || {
        let mut inner = n.lock()?;
        inner.catch_up_if_lagging()?;
        // Every inspection this node knows: its own log's and each mirror's.
        let mut sets = vec![inspection::recorded(&inner.registry).map_err(internal)?];
        for l in &n.links {
            sets.push(inspection::recorded(&l.lock_mirror()?.registry).map_err(internal)?);
        }
        let known = inspection::union(sets);
        if rec.inspected_party == n.party {
            inspection::check(&n.treaty, &inner.registry, &known, &rec)
        } else {
            let link = n
                .link(&rec.inspected_party)
                .ok_or_else(|| internal("no link"))?;
            let m = link.lock_mirror()?;
            inspection::check(&n.treaty, &m.registry, &known, &rec)
        }
        .map_err(from_inspection)?;
        let crate::Inner { log, registry, .. } = &mut *inner;
        let index = inspection::log_and_store(Some(log), registry, &rec)
            .map_err(from_inspection)?
            .ok_or_else(|| internal("the record was not logged"))?;
        Ok(InspectionRecorded {
            recorded: rec.id.clone(),
            inspected_party: rec.inspected_party.clone(),
            index,
        })
    })
    .await?;
    node.log_grew();
    Ok((StatusCode::CREATED, Json(recorded)))
}
