//! What the node serves to read: its checkpoint, status, history and
//! exchange (public); its entries as tiles, the feed, proofs and receipts
//! (operators, readers, peers).

use crate::error::{internal, ApiError};
use crate::{blocking, Node};
use accord_api as api;
use accord_log::tiles::{self, TileError};
use accord_log::witness::{encode_hashes, ConsistencyProofJson, InclusionProofJson};
use accord_regime::compliance::Observations;
use accord_regime::{dates, inspection, quota};
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use std::sync::Arc;

/// A query string, read strictly; a bad one is the documented JSON 400
/// naming the parameter.
pub(crate) struct Q<T>(pub(crate) T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de).map(Q).map_err(|e| {
            let field = e.path().to_string();
            let message = e.into_inner().to_string();
            let field = match field.as_str() {
                "." => named(&message).unwrap_or(field),
                _ => field,
            };
            ApiError::BadRequest {
                message: format!("query: {message}"),
                field: Some(field),
            }
        })
    }
}

/// The parameter a serde message names.
fn named(message: &str) -> Option<String> {
    ["unknown field `", "missing field `"].iter().find_map(|p| {
        message
            .split_once(p)
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(f, _)| f.to_string())
    })
}

impl Node {
    /// A date from a request, checked against the treaty's life.
    fn date(&self, field: &str, date: Option<NaiveDate>) -> Result<NaiveDate, ApiError> {
        dates::check(&self.treaty, date.unwrap_or_else(|| self.clock.today()))
            .map_err(|e| ApiError::bad(field, e.to_string()))
    }
}

/// The latest signed checkpoint, signing a new one first if the log grew,
/// with the cosignatures the witnesses returned for this size.
#[utoipa::path(
    get,
    path = "/checkpoint",
    tag = "log",
    responses((status = 200, description = "A C2SP signed checkpoint note", body = String, content_type = "text/plain"))
)]
pub(crate) async fn get_checkpoint(State(node): State<Arc<Node>>) -> Result<Response, ApiError> {
    let note = blocking(move || {
        let (note, size) = {
            let mut inner = node.lock()?;
            let crate::Inner { log, signer, .. } = &mut *inner;
            (log.checkpoint(signer).map_err(internal)?, log.size())
        };
        let mut n = accord_log::Note::parse(&note).map_err(internal)?;
        for t in &node.targets {
            let st = t.status();
            if let (true, Some(line)) = (st.verified && st.acknowledged == size, st.cosignature) {
                if n.add_line(line).is_err() {
                    tracing::warn!("a stored cosignature is malformed; not served");
                }
            }
        }
        Ok(n.to_text())
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=2"),
        ],
        note,
    )
        .into_response())
}

/// `?date=YYYY-MM-DD`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct StatusQuery {
    /// The date for compliance (default: today on the node's clock).
    date: Option<NaiveDate>,
}

/// Compliance of the node's party and every mirrored party on a date, with
/// the exchange, the witnesses and the quotas.
#[utoipa::path(
    get,
    path = "/status",
    tag = "status",
    params(StatusQuery),
    responses(
        (status = 200, body = api::Status),
        (status = 400, description = "A malformed or out-of-range date", body = api::ErrorBody),
    )
)]
pub(crate) async fn get_status(
    State(node): State<Arc<Node>>,
    headers: axum::http::HeaderMap,
    Q(q): Q<StatusQuery>,
) -> Result<Json<api::Status>, ApiError> {
    let date = node.date("date", q.date)?;
    let _turn = node.report_turn(&headers).await?;
    let node = node.clone();
    blocking(move || {
        // Each party's report comes from its tracker (the tip, or the
        // nearest snapshot): no refold, and the node's own lock is held only
        // to read the log's head and the inspections.
        let (head, mut sets) = {
            let inner = node.lock()?;
            let head = (
                inner.log.origin().to_string(),
                inner.log.size(),
                inner
                    .log
                    .latest_checkpoint()
                    .map_err(internal)?
                    .map(|(_, n)| n),
                inner.witness.as_ref().map(|w| w.verifier().to_string()),
                match &inner.receipts {
                    Some(r) => Some(api::ReceiptsHead {
                        tree_size: r.size(),
                        checkpoint: r.latest_checkpoint().map_err(internal)?.map(|(_, n)| n),
                    }),
                    None => None,
                },
            );
            (
                head,
                vec![inspection::recorded(&inner.registry).map_err(internal)?],
            )
        };
        let own = node.with_tracker(|t| t.report(date).map_err(internal))?;
        let mut mirrors = vec![];
        for link in &node.links {
            let mut m = link.lock_mirror()?;
            sets.push(inspection::recorded(&m.registry).map_err(internal)?);
            let report = m.report(&node.treaty, date).map_err(internal)?;
            mirrors.push((
                report,
                m.late.clone(),
                m.log.size(),
                m.log.latest_checkpoint().map_err(internal)?.map(|(_, n)| n),
                m.evidence.clone(),
            ));
        }
        let draws = node.draws.records()?;
        // What the node knows besides each party's notifications, by the
        // regime's one rule.
        let inspections = inspection::union(sets);
        let observe = |mut r: accord_registry::Report, late: &[accord_registry::Finding]| {
            accord_regime::compliance::observe(
                &node.treaty,
                &mut r,
                Observations {
                    inspections: &inspections,
                    late_deliveries: late,
                    draws: &draws,
                },
            );
            r
        };
        let own_report = observe(own, &[]);
        let mut peers = vec![];
        for (link, (report, late, tree_size, checkpoint, evidence)) in
            node.links.iter().zip(mirrors)
        {
            peers.push(api::PeerStatus {
                party: link.cfg.party.clone(),
                origin: link.origin.clone(),
                url: link.cfg.url.clone(),
                tree_size,
                checkpoint,
                link: link.status(),
                flagged: !evidence.is_empty(),
                evidence,
                late_deliveries: late.len() as u64,
                compliance: observe(report, &late),
            });
        }
        let mut parties = vec![node.party.clone()];
        parties.extend(node.links.iter().map(|l| l.cfg.party.clone()));
        let (origin, tree_size, checkpoint, witness, receipts) = head;
        Ok(Json(api::Status {
            party: node.party.clone(),
            treaty: node.treaty.id.clone(),
            date,
            origin,
            tree_size,
            checkpoint,
            witness,
            compliance: own_report,
            peers,
            witnesses: node.targets.iter().map(|t| t.witness_status()).collect(),
            receipts,
            quota: quota::quota_use(&node.treaty, &parties, &inspections, date),
        }))
    })
    .await
}

/// The exchange alone, cheaply (no compliance folds): own size, each
/// mirror's size, link state and flag, each push target's state.
#[utoipa::path(
    get,
    path = "/exchange",
    tag = "status",
    responses((status = 200, body = api::Exchange))
)]
pub(crate) async fn get_exchange(
    State(node): State<Arc<Node>>,
) -> Result<Json<api::Exchange>, ApiError> {
    blocking(move || {
        let tree_size = node.lock()?.log.size();
        let mut peers = vec![];
        for link in &node.links {
            let (tree_size, flagged, late) = {
                let m = link.lock_mirror()?;
                (m.log.size(), !m.evidence.is_empty(), m.late.len() as u64)
            };
            peers.push(api::ExchangePeer {
                party: link.cfg.party.clone(),
                tree_size,
                flagged,
                late_deliveries: late,
                link: link.status(),
            });
        }
        let witnesses = node
            .targets
            .iter()
            .map(|t| {
                let st = t.status();
                api::ExchangeTarget {
                    url: t.url.clone(),
                    acknowledged: st.acknowledged,
                    verified: st.verified,
                    last_error: st.last_error,
                }
            })
            .collect();
        Ok(Json(api::Exchange {
            party: node.party.clone(),
            tree_size,
            peers,
            witnesses,
        }))
    })
    .await
}

/// `?to=YYYY-MM-DD&party=P`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// The last date (default: today on the node's clock).
    to: Option<NaiveDate>,
    /// A peer's party: its mirrored registry.
    party: Option<String>,
}

/// The aggregates on the first of every month from the earliest
/// notification to `to` (at most 240 months), and on `to`.
#[utoipa::path(
    get,
    path = "/history",
    tag = "status",
    params(HistoryQuery),
    responses(
        (status = 200, body = api::History),
        (status = 400, description = "A malformed or out-of-range date, or an unknown party", body = api::ErrorBody),
    )
)]
pub(crate) async fn get_history(
    State(node): State<Arc<Node>>,
    headers: axum::http::HeaderMap,
    Q(q): Q<HistoryQuery>,
) -> Result<Json<api::History>, ApiError> {
    let to = node.date("to", q.to)?;
    let _turn = node.report_turn(&headers).await?;
    let node = node.clone();
    blocking(move || {
        let history = match q.party.as_deref().filter(|p| *p != node.party) {
            None => node.with_tracker(|t| {
                accord_regime::history::tracked(t, &node.party, to).map_err(internal)
            })?,
            Some(p) => {
                let link = node.link(p).ok_or_else(|| {
                    ApiError::bad(
                        "party",
                        format!("`{p}` is neither this node's party nor a peer"),
                    )
                })?;
                let mut m = link.lock_mirror()?;
                let t = m.tracker(&node.treaty).map_err(internal)?;
                accord_regime::history::tracked(t, p, to).map_err(internal)?
            }
        };
        Ok(Json(history))
    })
    .await
}

/// `?limit=N&party=P`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct FeedQuery {
    /// How many (default 20, at most 1,000).
    limit: Option<u64>,
    /// A peer's party: its mirrored log instead of the node's own.
    party: Option<String>,
}

impl Node {
    /// Runs `f` on the log and registry of `party`: the node's own (`None`
    /// or its party) or a peer's mirror.
    fn with_party<R>(
        &self,
        party: Option<&str>,
        f: impl FnOnce(&accord_log::LogStore, &accord_registry::Store) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        match party.filter(|p| *p != self.party) {
            None => {
                let inner = self.lock()?;
                f(&inner.log, &inner.registry)
            }
            Some(p) => {
                let link = self.link(p).ok_or_else(|| {
                    ApiError::bad(
                        "party",
                        format!("`{p}` is neither this node's party nor a peer"),
                    )
                })?;
                let m = link.lock_mirror()?;
                f(&m.log, &m.registry)
            }
        }
    }
}

/// The latest entries, newest first (operators, readers and peers: entries
/// are confidential between the parties).
#[utoipa::path(
    get,
    path = "/notifications",
    tag = "log",
    params(FeedQuery),
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, body = api::Feed),
        (status = 401, description = "No credentials", body = api::ErrorBody),
        (status = 403, description = "Credentials that may not read entries", body = api::ErrorBody),
    )
)]
pub(crate) async fn get_notifications(
    State(node): State<Arc<Node>>,
    Q(q): Q<FeedQuery>,
) -> Result<Json<api::Feed>, ApiError> {
    let limit = q.limit.unwrap_or(20).min(1000);
    blocking(move || {
        node.with_party(q.party.as_deref(), |log, registry| {
            let size = log.size();
            let mut entries = vec![];
            for index in (size.saturating_sub(limit)..size).rev() {
                let bytes = log.entry(index).map_err(internal)?;
                let notification = serde_json::from_slice(&bytes).map_err(internal)?;
                entries.push(api::FeedEntry {
                    index,
                    notification,
                });
            }
            Ok(Json(api::Feed {
                party: registry.meta().party.clone(),
                tree_size: size,
                entries,
            }))
        })
    })
    .await
}

/// `?limit=N`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReceiptsQuery {
    /// How many (default 20, at most 1,000).
    limit: Option<u64>,
}

/// The latest receipts this node logged for what its peers delivered,
/// newest first, with the signed checkpoint of the receipts log.
#[utoipa::path(
    get,
    path = "/receipts",
    tag = "exchange",
    params(ReceiptsQuery),
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, body = api::Receipts),
        (status = 401, description = "No credentials", body = api::ErrorBody),
        (status = 404, description = "This node exchanges with no peer", body = api::ErrorBody),
    )
)]
pub(crate) async fn get_receipts(
    State(node): State<Arc<Node>>,
    Q(q): Q<ReceiptsQuery>,
) -> Result<Json<api::Receipts>, ApiError> {
    let limit = q.limit.unwrap_or(20).min(1000);
    blocking(move || {
        let inner = node.lock()?;
        let Some(log) = &inner.receipts else {
            return Err(ApiError::NotFound(
                "this node exchanges with no peer".into(),
            ));
        };
        let size = log.size();
        let mut receipts = vec![];
        for index in (size.saturating_sub(limit)..size).rev() {
            let receipt =
                serde_json::from_slice(&log.entry(index).map_err(internal)?).map_err(internal)?;
            receipts.push(api::ReceiptEntry { index, receipt });
        }
        Ok(Json(api::Receipts {
            origin: log.origin().to_string(),
            tree_size: size,
            checkpoint: log.latest_checkpoint().map_err(internal)?.map(|(_, n)| n),
            receipts,
        }))
    })
    .await
}

/// `?old=&new=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ConsistencyQuery {
    /// The older size.
    old: u64,
    /// The newer size (at most the log's).
    new: u64,
}

/// An RFC 9162 consistency proof between two sizes of the node's log.
#[utoipa::path(
    get,
    path = "/proof/consistency",
    tag = "log",
    params(ConsistencyQuery),
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, body = ConsistencyProofJson),
        (status = 400, description = "Sizes out of range; `field` names which", body = api::ErrorBody),
        (status = 401, description = "No credentials", body = api::ErrorBody),
    )
)]
pub(crate) async fn get_consistency(
    State(node): State<Arc<Node>>,
    Q(q): Q<ConsistencyQuery>,
) -> Result<Json<ConsistencyProofJson>, ApiError> {
    blocking(move || {
        let inner = node.lock()?;
        let size = inner.log.size();
        if q.old > q.new || q.new > size {
            return Err(ApiError::bad(
                if q.new > size { "new" } else { "old" },
                format!(
                    "need old ≤ new ≤ {size} (the log's size); got {} and {}",
                    q.old, q.new
                ),
            ));
        }
        let hashes = if q.old == 0 || q.old == q.new {
            vec![]
        } else {
            inner
                .log
                .consistency_proof(q.old, q.new)
                .map_err(internal)?
        };
        Ok(Json(ConsistencyProofJson {
            old_size: q.old,
            new_size: q.new,
            hashes: encode_hashes(&hashes),
        }))
    })
    .await
}

/// `?index=&size=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct InclusionQuery {
    /// The entry's index.
    index: u64,
    /// The tree size (at most the log's).
    size: u64,
}

/// An RFC 9162 inclusion proof of one entry in a size of the node's log.
#[utoipa::path(
    get,
    path = "/proof/inclusion",
    tag = "log",
    params(InclusionQuery),
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, body = InclusionProofJson),
        (status = 400, description = "Index or size out of range; `field` names which", body = api::ErrorBody),
        (status = 401, description = "No credentials", body = api::ErrorBody),
    )
)]
pub(crate) async fn get_inclusion(
    State(node): State<Arc<Node>>,
    Q(q): Q<InclusionQuery>,
) -> Result<Json<InclusionProofJson>, ApiError> {
    blocking(move || {
        let inner = node.lock()?;
        let size = inner.log.size();
        if q.index >= q.size || q.size > size {
            return Err(ApiError::bad(
                if q.size > size { "size" } else { "index" },
                format!(
                    "need index < size ≤ {size} (the log's size); got {} and {}",
                    q.index, q.size
                ),
            ));
        }
        let hashes = inner
            .log
            .inclusion_proof(q.index, q.size)
            .map_err(internal)?;
        Ok(Json(InclusionProofJson {
            leaf_index: q.index,
            tree_size: q.size,
            hashes: encode_hashes(&hashes),
        }))
    })
    .await
}

/// A C2SP tlog-tiles tile or entry bundle (`tile/L/N[.p/W]`,
/// `tile/entries/N[.p/W]`).
#[utoipa::path(
    get,
    path = "/tile/{path}",
    tag = "log",
    params(("path" = String, Path, description = "The tile path after `tile/`, as C2SP tlog-tiles spells it")),
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, description = "The tile's bytes; an entry bundle is gzip-compressed (`Content-Encoding: gzip`) when the request's `Accept-Encoding` takes gzip", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 400, description = "A malformed tile path", body = api::ErrorBody),
        (status = 401, description = "No credentials", body = api::ErrorBody),
        (status = 404, description = "Not in the log at its size (yet)", body = api::ErrorBody),
    )
)]
pub(crate) async fn get_tile(
    State(node): State<Arc<Node>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let t = tiles::parse(&path).map_err(|e| ApiError::bad("path", format!("tile/{path}: {e}")))?;
    // Entry bundles are JSON text and compress several times over; hash
    // tiles are hashes, which do not.
    let bundle = t.level.is_none();
    let gzip = bundle && accepts_gzip(&headers);
    let bytes = blocking(move || {
        let bytes = {
            let inner = node.lock()?;
            tiles::read(&inner.log, t).map_err(|e| match e {
                e @ TileError::NotYet { .. } => ApiError::NotFound(e.to_string()),
                other => internal(other),
            })?
        };
        // Compressed with no lock held, off the async threads.
        if gzip {
            gzip_bytes(&bytes).map_err(internal)
        } else {
            Ok(bytes)
        }
    })
    .await?;
    // A full tile never changes; a partial one is replaced as the log grows.
    let cache = if t.width == tiles::TILE_WIDTH {
        "private, max-age=31536000, immutable"
    } else {
        "private, no-cache"
    };
    let mut resp = (
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response();
    if bundle {
        let h = resp.headers_mut();
        h.insert(
            header::VARY,
            header::HeaderValue::from_static("accept-encoding"),
        );
        if gzip {
            h.insert(
                header::CONTENT_ENCODING,
                header::HeaderValue::from_static("gzip"),
            );
        }
    }
    Ok(resp)
}

/// Whether `Accept-Encoding` takes gzip (RFC 9110 §12.5.3): `gzip` (or
/// `x-gzip`) with a weight above zero, or else `*` with one. Unparsable
/// weights count as zero.
pub(crate) fn accepts_gzip(headers: &axum::http::HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let q = parts
                .find_map(|p| {
                    let p = p.trim();
                    p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="))
                })
                .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(q);
            } else if coding == "*" {
                any = Some(q);
            }
        }
    }
    gzip.or(any).is_some_and(|q| q > 0.0)
}

/// `bytes` as a gzip member (RFC 1952), at the default level.
fn gzip_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        flate2::Compression::default(),
    );
    e.write_all(bytes)?;
    e.finish()
}
