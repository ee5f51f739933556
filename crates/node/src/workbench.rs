//! The analyst's workbench: the page (from [`accord_workbench`]), its
//! assets, the verifier keys (`GET /keys`), and the queries the page reads
//! (`/workbench/api/...`), for the node's own party and every mirror.
//!
//! Every query over a party's entries runs on the registry's query index
//! ([`accord_registry::query`]), which is brought level with the log (only
//! the entries appended since it was last brought level are read) before
//! each query, so a filter over 100,000 notifications is an indexed SQLite
//! query, not a scan. Rows come with their raw log entries and the signed
//! checkpoint they are under: the page verifies them itself.
//!
//! Compliance, quotas and inspection findings come from
//! [`accord_regime`]; the facility view only counts the items the
//! registry's fold holds, against the data exchange's numbers.

use crate::error::{internal, ApiError};
use crate::reads::Q;
use crate::{blocking, Node};
use accord_api::workbench as wb;
use accord_api::{ReceiptEntry, WitnessStatus};
use accord_log::tiles::{self, TileError};
use accord_log::LogStore;
use accord_regime::{dates, inspection, quota, LogEntry};
use accord_registry::query::{Filter, IndexRow, Order, QueryIndex};
use accord_registry::{Event, Location, Notification, Store};
use accord_treaty::Treaty;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The page's content security policy: scripts, styles and connections
/// from this node only; no inline script or style, no frames, no plugins.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Most rows a page of a query returns.
const MAX_PAGE: u64 = 500;
/// Most rows a download returns (a larger set must be narrowed).
pub const MAX_DOWNLOAD: u64 = 200_000;
/// Entries read from a log per pass while bringing an index level with it.
const SYNC_CHUNK: u64 = 10_000;

fn html_headers() -> [(header::HeaderName, HeaderValue); 5] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ]
}

/// The workbench page (every view is this page; the page routes itself).
#[utoipa::path(
    get,
    path = "/",
    tag = "workbench",
    responses((status = 200, description = "The analyst's workbench", body = String, content_type = "text/html"))
)]
pub(crate) async fn page() -> Response {
    (html_headers(), accord_workbench::PAGE).into_response()
}

/// A view of the workbench (`/workbench/overview`, `/workbench/items/ID`,
/// …): the same page, which shows the view its URL names.
#[utoipa::path(
    get,
    path = "/workbench/{path}",
    tag = "workbench",
    params(("path" = String, Path, description = "The view and its arguments")),
    responses((status = 200, description = "The analyst's workbench", body = String, content_type = "text/html"))
)]
pub(crate) async fn view(Path(_path): Path<String>) -> Response {
    (html_headers(), accord_workbench::PAGE).into_response()
}

/// A script, style sheet or icon of the workbench, built into the binary.
#[utoipa::path(
    get,
    path = "/assets/{name}",
    tag = "workbench",
    params(("name" = String, Path, description = "The asset's file name")),
    responses(
        (status = 200, description = "The asset", body = Vec<u8>),
        (status = 304, description = "Not modified (its hash is the ETag)"),
        (status = 404, description = "No such asset", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(a) = accord_workbench::asset(&name) else {
        return ApiError::NotFound(format!("no asset `{name}`")).into_response();
    };
    let etag = format!("\"{}\"", a.hash);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut h = axum::http::HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if fresh {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    (h, a.body).into_response()
}

/// Every verifier key this node knows: its own log's, each peer's (as
/// configured), its own witness's and each push target's cosigner.
#[utoipa::path(
    get,
    path = "/keys",
    tag = "workbench",
    responses((status = 200, body = wb::Keys))
)]
pub(crate) async fn get_keys(State(node): State<Arc<Node>>) -> Result<Json<wb::Keys>, ApiError> {
    blocking(move || {
        let (own, witness) = {
            let inner = node.lock()?;
            (
                (
                    inner.log.origin().to_string(),
                    inner.log.verifier().to_string(),
                ),
                inner.witness.as_ref().map(|w| w.verifier()),
            )
        };
        let mut logs = vec![wb::LogKey {
            party: node.party.clone(),
            origin: own.0,
            vkey: own.1,
            own: true,
        }];
        for l in &node.links {
            logs.push(wb::LogKey {
                party: l.cfg.party.clone(),
                origin: l.origin.clone(),
                vkey: l.cfg.vkey.to_string(),
                own: false,
            });
        }
        let mut witnesses = vec![];
        if let Some(w) = witness {
            witnesses.push(wb::WitnessKey {
                name: w.name().to_string(),
                vkey: w.to_string(),
                url: None,
                own: true,
            });
        }
        for t in &node.targets {
            if let Some(v) = &t.vkey {
                if !witnesses.iter().any(|w| w.vkey == v.to_string()) {
                    witnesses.push(wb::WitnessKey {
                        name: v.name().to_string(),
                        vkey: v.to_string(),
                        url: Some(t.url.clone()),
                        own: false,
                    });
                }
            }
        }
        Ok(Json(wb::Keys {
            party: node.party.clone(),
            treaty: node.treaty.id.clone(),
            logs,
            witnesses,
        }))
    })
    .await
}

/// Brings `party`'s query index level with its log, up to `upto` entries.
fn sync_index(
    treaty: &Treaty,
    party: &str,
    log: &LogStore,
    registry: &Store,
    upto: u64,
) -> Result<QueryIndex, ApiError> {
    let dir = registry
        .path()
        .parent()
        .ok_or_else(|| internal("the registry has no directory"))?;
    let mut q = QueryIndex::open(dir).map_err(internal)?;
    let upto = upto.min(log.size());
    // Rows past `upto` (the checkpoint) may be indexed already: queries
    // stop at the checkpoint's size.
    let next = q.prepare(log.origin(), log.size()).map_err(internal)?;
    if next >= upto {
        return Ok(q);
    }
    let mut rows: Vec<IndexRow> = Vec::new();
    let mut fail: Option<ApiError> = None;
    let mut take = |i: u64, bytes: &[u8], rows: &mut Vec<IndexRow>, q: &mut QueryIndex| -> bool {
        match accord_regime::parse_entry(bytes, party, &format!("log entry {i}"), false) {
            Ok(e) => rows.push(index_row(treaty, i, &e)),
            Err(e) => {
                fail = Some(internal(format!("log entry {i}: {e}")));
                return false;
            }
        }
        if rows.len() as u64 >= SYNC_CHUNK {
            if let Err(e) = q.append(rows) {
                fail = Some(internal(e));
                return false;
            }
            rows.clear();
        }
        true
    };
    if upto - next > SYNC_CHUNK {
        // Many entries: one sequential scan beats a lookup per entry.
        log.for_each_entry(|i, b| {
            if i < next {
                return true;
            }
            i < upto && take(i, b, &mut rows, &mut q) && i + 1 < upto
        })
        .map_err(internal)?;
    } else {
        for i in next..upto {
            let b = log.entry(i).map_err(internal)?;
            if !take(i, &b, &mut rows, &mut q) {
                break;
            }
        }
    }
    if let Some(e) = fail {
        return Err(e);
    }
    q.append(&mut rows).map_err(internal)?;
    Ok(q)
}

/// Builds (or brings level) the query index of the node's log and of each
/// mirror, a chunk at a time so that no lock is held for long: run once at
/// start, so the first query over a large log does not wait for it.
pub fn warm(node: &Node) {
    let step = |party: Option<usize>| -> Result<bool, ApiError> {
        let run = |log: &LogStore, registry: &Store, party: &str| -> Result<bool, ApiError> {
            let dir = registry
                .path()
                .parent()
                .ok_or_else(|| internal("the registry has no directory"))?;
            let have = QueryIndex::open(dir)
                .map_err(internal)?
                .size()
                .map_err(internal)?;
            let upto = log.size().min(have.saturating_add(SYNC_CHUNK));
            sync_index(&node.treaty, party, log, registry, upto)?;
            Ok(upto >= log.size())
        };
        match party {
            None => {
                let inner = node.lock()?;
                run(&inner.log, &inner.registry, &node.party)
            }
            Some(i) => {
                let link = &node.links[i];
                let m = link.lock_mirror()?;
                run(&m.log, &m.registry, &link.cfg.party)
            }
        }
    };
    for party in std::iter::once(None).chain((0..node.links.len()).map(Some)) {
        loop {
            match step(party) {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => {
                    eprintln!("accord-node: the workbench's query index could not be built: {e:?}");
                    break;
                }
            }
        }
    }
}

/// The index row of a log entry.
fn index_row(treaty: &Treaty, i: u64, e: &LogEntry) -> IndexRow {
    match e {
        LogEntry::Notification(n) => {
            IndexRow::of_notification(i, n, accord_registry::compliance::deadline(treaty, n))
        }
        LogEntry::Inspection(r) => IndexRow {
            log_index: i,
            number: None,
            kind: accord_inspect::record::RECORD_KIND.to_string(),
            date: r.date,
            sent: None,
            deadline: None,
            facility: Some(r.site.clone()),
            item: None,
            other_item: None,
        },
    }
}

/// The signed checkpoint of the node's own log (a new one if the log grew),
/// with the cosignatures the witnesses returned for its size.
fn own_checkpoint(node: &Node, inner: &mut crate::Inner) -> Result<(String, u64), ApiError> {
    let crate::Inner { log, signer, .. } = inner;
    let note = log.checkpoint(signer).map_err(internal)?;
    let size = log.size();
    let mut n = accord_log::Note::parse(&note).map_err(internal)?;
    for t in &node.targets {
        let st = t.status();
        if let (true, Some(line)) = (st.verified && st.acknowledged == size, st.cosignature) {
            let _ = n.add_line(line);
        }
    }
    Ok((n.to_text(), size))
}

impl Node {
    /// The party a query names: the node's own (`None`) or a mirrored peer.
    fn query_party(&self, party: Option<&str>) -> Result<Option<usize>, ApiError> {
        match party.filter(|p| *p != self.party) {
            None => Ok(None),
            Some(p) => self
                .links
                .iter()
                .position(|l| l.cfg.party == p)
                .map(Some)
                .ok_or_else(|| {
                    ApiError::bad(
                        "party",
                        format!("`{p}` is neither this node's party nor a peer"),
                    )
                }),
        }
    }

    /// Under `party`'s lock: brings its index level with its signed
    /// checkpoint and runs `f` on its log, registry and index, with its head.
    fn with_index<R>(
        &self,
        party: Option<usize>,
        f: impl FnOnce(&LogStore, &Store, &QueryIndex, &wb::LogHead) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        match party {
            None => {
                let mut inner = self.lock()?;
                let (checkpoint, size) = own_checkpoint(self, &mut inner)?;
                let q = sync_index(&self.treaty, &self.party, &inner.log, &inner.registry, size)?;
                let head = wb::LogHead {
                    party: self.party.clone(),
                    origin: inner.log.origin().to_string(),
                    checkpoint,
                    tree_size: size,
                };
                f(&inner.log, &inner.registry, &q, &head)
            }
            Some(i) => {
                let link = &self.links[i];
                let m = link.lock_mirror()?;
                let (size, checkpoint) = m
                    .log
                    .latest_checkpoint()
                    .map_err(internal)?
                    .unwrap_or((0, String::new()));
                let q = sync_index(&self.treaty, &link.cfg.party, &m.log, &m.registry, size)?;
                let head = wb::LogHead {
                    party: link.cfg.party.clone(),
                    origin: link.origin.clone(),
                    checkpoint,
                    tree_size: size.min(m.log.size()),
                };
                f(&m.log, &m.registry, &q, &head)
            }
        }
    }

    fn query_date(&self, field: &str, date: Option<NaiveDate>) -> Result<NaiveDate, ApiError> {
        dates::check(&self.treaty, date.unwrap_or_else(|| self.clock.today()))
            .map_err(|e| ApiError::bad(field, e.to_string()))
    }
}

/// The rows of an index page with their entries.
fn entry_rows(log: &LogStore, rows: Vec<IndexRow>) -> Result<Vec<wb::EntryRow>, ApiError> {
    rows.into_iter()
        .map(|r| {
            let bytes = log.entry(r.log_index).map_err(internal)?;
            let entry = String::from_utf8(bytes)
                .map_err(|_| internal(format!("log entry {} is not UTF-8", r.log_index)))?;
            Ok(wb::EntryRow {
                late: r.late(),
                index: r.log_index,
                number: r.number,
                kind: r.kind,
                date: r.date,
                sent: r.sent,
                deadline: r.deadline,
                facility: r.facility,
                item: r.item,
                other_item: r.other_item,
                entry,
            })
        })
        .collect()
}

/// A bounded identifier from a query (an item, facility or kind).
fn ident(field: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    match v.filter(|s| !s.is_empty()) {
        Some(s) if s.len() > 128 || s.chars().any(char::is_control) => Err(ApiError::bad(
            field,
            "at most 128 characters, none of them control characters",
        )),
        other => Ok(other),
    }
}

/// The format of a query's answer.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    /// One page, as `EntryPage`.
    #[default]
    Page,
    /// Every matching row as a JSON array of `EntryRow` (a download).
    Json,
    /// Every matching row as CSV (a download).
    Csv,
}

/// `?party&kind&from&to&facility&item&late&offset&limit&order&format`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct EntryQuery {
    /// A peer's party: its mirror (default: this node's party).
    party: Option<String>,
    /// Only this kind (a notification kind, or `inspection`).
    kind: Option<String>,
    /// Dated on or after.
    from: Option<NaiveDate>,
    /// Dated on or before.
    to: Option<NaiveDate>,
    /// At this facility.
    facility: Option<String>,
    /// Naming this item.
    item: Option<String>,
    /// Only late (`true`) or only timely (`false`) notifications.
    late: Option<bool>,
    /// Only the notification with this number.
    number: Option<u64>,
    /// Rows to skip (default 0).
    offset: Option<u64>,
    /// Rows in the page (default 50, at most 500).
    limit: Option<u64>,
    /// `newest` (default) or `oldest` first.
    order: Option<String>,
    /// `page` (default), or `json` or `csv` for every matching row (at most 200,000).
    format: Option<Format>,
}

/// A party's log entries, filtered, a page at a time (or all, to download),
/// with the signed checkpoint they are under.
#[utoipa::path(
    get,
    path = "/workbench/api/notifications",
    tag = "workbench",
    params(EntryQuery),
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, body = wb::EntryPage, description = "A page; with `format=json` an array of `EntryRow`, with `format=csv` text/csv"),
        (status = 400, description = "A bad parameter, named, or a download over 200,000 rows", body = accord_api::ErrorBody),
        (status = 401, description = "No credentials", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn get_entries(
    State(node): State<Arc<Node>>,
    Q(q): Q<EntryQuery>,
) -> Result<Response, ApiError> {
    let party = node.query_party(q.party.as_deref())?;
    let from = q
        .from
        .map(|d| node.query_date("from", Some(d)))
        .transpose()?;
    let to = q.to.map(|d| node.query_date("to", Some(d))).transpose()?;
    let order = match q.order.as_deref() {
        None | Some("newest") => Order::Newest,
        Some("oldest") => Order::Oldest,
        Some(o) => {
            return Err(ApiError::bad(
                "order",
                format!("`{o}`: expected newest or oldest"),
            ))
        }
    };
    let mut filter = Filter {
        kind: ident("kind", q.kind)?,
        from,
        to,
        facility: ident("facility", q.facility)?,
        item: ident("item", q.item)?,
        late: q.late,
        number: q.number,
        below: None,
    };
    let format = q.format.unwrap_or_default();
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    blocking(move || {
        node.with_index(party, |log, registry, index, head| {
            filter.below = Some(head.tree_size);
            match format {
                Format::Page => {
                    let page = index
                        .query(&filter, offset, limit, order)
                        .map_err(internal)?;
                    let kinds = index
                        .kinds()
                        .map_err(internal)?
                        .into_iter()
                        .map(|(kind, count)| wb::KindCount { kind, count })
                        .collect();
                    Ok(Json(wb::EntryPage {
                        head: head.clone(),
                        total: page.total,
                        offset,
                        limit,
                        rows: entry_rows(log, page.rows)?,
                        kinds,
                        synthetic: registry.meta().synthetic,
                    })
                    .into_response())
                }
                Format::Json | Format::Csv => {
                    let rows = match index.all(&filter, order, MAX_DOWNLOAD).map_err(internal)? {
                        Ok(rows) => rows,
                        Err(total) => {
                            return Err(ApiError::bad(
                                "format",
                                format!("{total} rows match; a download holds at most {MAX_DOWNLOAD}: narrow the filter"),
                            ))
                        }
                    };
                    let rows = entry_rows(log, rows)?;
                    let name = format!(
                        "{}-notifications.{}",
                        head.party,
                        if matches!(format, Format::Csv) { "csv" } else { "json" }
                    );
                    let (ctype, body) = if matches!(format, Format::Csv) {
                        ("text/csv; charset=utf-8", csv(&rows))
                    } else {
                        (
                            "application/json",
                            serde_json::to_string(&rows).map_err(internal)?,
                        )
                    };
                    Ok((
                        [
                            (header::CONTENT_TYPE, ctype.to_string()),
                            (
                                header::CONTENT_DISPOSITION,
                                format!("attachment; filename=\"{name}\""),
                            ),
                        ],
                        body,
                    )
                        .into_response())
                }
            }
        })
    })
    .await
}

/// Rows as CSV (RFC 4180: fields with a comma, quote or line break quoted,
/// quotes doubled).
fn csv(rows: &[wb::EntryRow]) -> String {
    fn field(out: &mut String, s: &str) {
        if s.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&s.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(s);
        }
    }
    let mut out = String::from(
        "index,number,kind,date,sent,deadline,late,facility,item,other_item,entry\r\n",
    );
    let opt = |d: &Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    for r in rows {
        let cols = [
            r.index.to_string(),
            r.number.map(|n| n.to_string()).unwrap_or_default(),
            r.kind.clone(),
            r.date.to_string(),
            opt(&r.sent),
            opt(&r.deadline),
            r.late.to_string(),
            r.facility.clone().unwrap_or_default(),
            r.item.clone().unwrap_or_default(),
            r.other_item.clone().unwrap_or_default(),
            r.entry.clone(),
        ];
        for (i, c) in cols.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, c);
        }
        out.push_str("\r\n");
    }
    out
}

/// `?party&date`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DateQuery {
    /// A peer's party: its mirror (default: this node's party).
    party: Option<String>,
    /// The date (default: today on the node's clock).
    date: Option<NaiveDate>,
}

/// A party's notifications, read under its lock (parsing is done outside).
fn notifications_of(
    node: &Node,
    party: Option<usize>,
) -> Result<(Vec<Notification>, bool), ApiError> {
    let read = |r: &Store| -> Result<(Vec<Notification>, bool), ApiError> {
        Ok((r.notifications().map_err(internal)?, r.meta().synthetic))
    };
    match party {
        None => read(&node.lock()?.registry),
        Some(i) => read(&node.links[i].lock_mirror()?.registry),
    }
}

/// The treaty's limits (the totals a data exchange gives), and its
/// Part Two data categories (what a per-facility exchange gives for each
/// facility): the two sets of columns the facility view compares.
fn categories(treaty: &Treaty) -> (Vec<wb::Category>, Vec<wb::Category>) {
    let limits = treaty
        .limits
        .iter()
        .map(|l| wb::Category {
            id: l.id.clone(),
            name: l.name.clone(),
        })
        .collect();
    let data = treaty
        .data_categories
        .iter()
        .map(|c| wb::Category {
            id: c.id.clone(),
            name: c.name.clone(),
        })
        .collect();
    (limits, data)
}

/// Every facility on a date: its items by kind, type and status, and each
/// category as the items add up against the latest data exchange.
#[utoipa::path(
    get,
    path = "/workbench/api/facilities",
    tag = "workbench",
    params(DateQuery),
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, body = wb::Facilities),
        (status = 400, description = "A bad party or date", body = accord_api::ErrorBody),
        (status = 401, description = "No credentials", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn get_facilities(
    State(node): State<Arc<Node>>,
    Q(q): Q<DateQuery>,
) -> Result<Json<wb::Facilities>, ApiError> {
    let party = node.query_party(q.party.as_deref())?;
    let date = node.query_date("date", q.date)?;
    blocking(move || {
        let (mut all, synthetic) = notifications_of(&node, party)?;
        let party_code = party.map_or(node.party.clone(), |i| node.links[i].cfg.party.clone());
        all.retain(|n| n.date <= date);
        let exchange = all
            .iter()
            .filter(|n| matches!(n.event, Event::DataExchange { .. }))
            .max_by_key(|n| (n.date, n.number))
            .cloned();
        let (state, _) = accord_registry::store::fold(&node.treaty, &party_code, &all);
        // The exchange describes its as-of date: compare it with the items
        // on that date (the items listed are those of the date asked).
        let asof_state = match &exchange {
            Some(x) => {
                let before: Vec<Notification> =
                    all.iter().filter(|n| n.date <= x.date).cloned().collect();
                accord_registry::store::fold(&node.treaty, &party_code, &before).0
            }
            None => state.clone(),
        };
        let (limit_cats, data_cats) = categories(&node.treaty);
        // What the exchange declared per facility, when it does (a
        // per-facility exchange's `event.facilities`), read from its JSON.
        let declared: BTreeMap<String, BTreeMap<String, u64>> = exchange
            .as_ref()
            .and_then(|n| serde_json::from_str::<serde_json::Value>(&n.to_json()).ok())
            .and_then(|v| v.pointer("/event/facilities").cloned())
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let totals_declared: BTreeMap<String, u64> = match exchange.as_ref().map(|n| &n.event) {
            Some(Event::DataExchange { counts, .. }) => counts.clone(),
            _ => BTreeMap::new(),
        };
        let nf = state.facilities().len();
        let mut items: Vec<BTreeMap<(String, String, String), u64>> = vec![BTreeMap::new(); nf];
        let mut transit = vec![0u64; nf];
        for it in state.items() {
            let fac = match it.location {
                Location::At(f) => f as usize,
                Location::InTransit { from } => {
                    transit[from as usize] += 1;
                    continue;
                }
            };
            *items[fac]
                .entry((
                    state.kind_id(it).to_string(),
                    it.item_type.to_string(),
                    it.status.as_str().to_string(),
                ))
                .or_insert(0) += 1;
        }
        // What the items at each facility add up to in each data category
        // on the exchange's date, by facility id: the registry's one count
        // (the same the data-exchange reconciliation compares).
        let found = asof_state.by_facility();
        let per_facility = !declared.is_empty();
        // The columns: the categories anything is in, found or declared.
        let data_cats: Vec<wb::Category> = data_cats
            .into_iter()
            .filter(|c| {
                found
                    .values()
                    .chain(declared.values())
                    .any(|m| m.get(&c.id).is_some_and(|n| *n > 0))
            })
            .collect();
        let facilities = state
            .facilities()
            .iter()
            .enumerate()
            .map(|(f, fac)| {
                let decl = declared.get(&*fac.id);
                let here = found.get(&*fac.id);
                let categories: Vec<wb::CategoryCount> = data_cats
                    .iter()
                    .map(|cat| wb::CategoryCount {
                        id: cat.id.clone(),
                        found: here.and_then(|r| r.get(&cat.id).copied()).unwrap_or(0),
                        // A per-facility exchange leaves out what is zero
                        // (the reconciliation's reading too).
                        declared: per_facility
                            .then(|| decl.and_then(|d| d.get(&cat.id).copied()).unwrap_or(0)),
                    })
                    .collect();
                wb::FacilityView {
                    id: fac.id.to_string(),
                    name: fac.name.to_string(),
                    kind: fac.kind.as_str().to_string(),
                    mismatch: categories
                        .iter()
                        .any(|c| c.declared.is_some_and(|d| d != c.found)),
                    items: items[f]
                        .iter()
                        .map(|((kind, item_type, status), count)| wb::ItemCount {
                            kind: kind.clone(),
                            item_type: item_type.clone(),
                            status: status.clone(),
                            count: *count,
                        })
                        .collect(),
                    in_transit_from: transit[f],
                    categories,
                }
            })
            .collect();
        let totals = limit_cats
            .iter()
            .map(|cat| wb::CategoryCount {
                id: cat.id.clone(),
                found: asof_state.value(&cat.id).unwrap_or(0),
                declared: totals_declared.get(&cat.id).copied(),
            })
            .collect();
        Ok(Json(wb::Facilities {
            party: party_code,
            date,
            synthetic,
            categories: limit_cats,
            facility_categories: data_cats,
            exchange: exchange.map(|n| wb::ExchangeRef {
                number: n.number,
                date: n.date,
                index: None,
                per_facility: !declared.is_empty(),
                totals: totals_declared,
            }),
            facilities,
            totals,
        }))
    })
    .await
}

/// `?party&id&date`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ItemQuery {
    /// A peer's party: its mirror (default: this node's party).
    party: Option<String>,
    /// The item's unique identifier.
    id: String,
    /// The date of its state (default: today on the node's clock).
    date: Option<NaiveDate>,
}

/// An item's whole history (every entry that names it, with its bytes) and
/// where it was, in what status, on a date.
#[utoipa::path(
    get,
    path = "/workbench/api/item",
    tag = "workbench",
    params(ItemQuery),
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, body = wb::ItemPage),
        (status = 400, description = "A bad party, id or date", body = accord_api::ErrorBody),
        (status = 401, description = "No credentials", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn get_item(
    State(node): State<Arc<Node>>,
    Q(q): Q<ItemQuery>,
) -> Result<Json<wb::ItemPage>, ApiError> {
    let party = node.query_party(q.party.as_deref())?;
    let date = node.query_date("date", q.date)?;
    let id = ident("id", Some(q.id))?.ok_or_else(|| ApiError::bad("id", "empty"))?;
    blocking(move || {
        let filter = Filter {
            item: Some(id.clone()),
            ..Filter::default()
        };
        let (head, total, history, mut all, synthetic) =
            node.with_index(party, |log, registry, index, head| {
                let mut f = filter.clone();
                f.below = Some(head.tree_size);
                let page = index
                    .query(&f, 0, accord_registry::query::MAX_LIMIT, Order::Oldest)
                    .map_err(internal)?;
                Ok((
                    head.clone(),
                    page.total,
                    entry_rows(log, page.rows)?,
                    registry.notifications().map_err(internal)?,
                    registry.meta().synthetic,
                ))
            })?;
        all.retain(|n| n.date <= date);
        let (state, _) = accord_registry::store::fold(&node.treaty, &head.party, &all);
        let item = state.item(&id).map(|it| {
            let (facility, from) = match it.location {
                Location::At(f) => (Some(state.facility(f).id.to_string()), None),
                Location::InTransit { from } => (None, Some(state.facility(from).id.to_string())),
            };
            wb::ItemState {
                kind: state.kind_id(it).to_string(),
                item_type: it.item_type.to_string(),
                status: it.status.as_str().to_string(),
                facility,
                in_transit_from: from,
                launcher: it.launcher.map(|l| state.item_id(l).to_string()),
                payload: it.payload.map(|p| state.item_id(p).to_string()),
                reentry_vehicles: it.reentry_vehicles,
            }
        });
        Ok(Json(wb::ItemPage {
            head,
            id,
            date,
            state: item,
            history,
            total,
            synthetic,
        }))
    })
    .await
}

/// A party's inspections, made and received, up to a date, with quota use
/// and the findings the regime draws from them.
#[utoipa::path(
    get,
    path = "/workbench/api/inspections",
    tag = "workbench",
    params(DateQuery),
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, body = wb::Inspections),
        (status = 400, description = "A bad party or date", body = accord_api::ErrorBody),
        (status = 401, description = "No credentials", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn get_inspections(
    State(node): State<Arc<Node>>,
    Q(q): Q<DateQuery>,
) -> Result<Json<wb::Inspections>, ApiError> {
    let party = node.query_party(q.party.as_deref())?;
    let date = node.query_date("date", q.date)?;
    blocking(move || {
        let party_code = party.map_or(node.party.clone(), |i| node.links[i].cfg.party.clone());
        let mut sets = vec![inspection::recorded(&node.lock()?.registry).map_err(internal)?];
        for l in &node.links {
            sets.push(inspection::recorded(&l.lock_mirror()?.registry).map_err(internal)?);
        }
        let all = inspection::union(sets);
        let mut parties = vec![node.party.clone()];
        parties.extend(node.links.iter().map(|l| l.cfg.party.clone()));
        let findings =
            accord_regime::compliance::inspection_findings(&node.treaty, &party_code, &all, date);
        let records = all
            .iter()
            .filter(|r| {
                r.date <= date
                    && (r.inspected_party == party_code || r.inspecting_party == party_code)
            })
            .map(|r| {
                Ok(wb::InspectionEntry {
                    record: serde_json::to_value(r).map_err(internal)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(Json(wb::Inspections {
            quota: quota::quota_use(&node.treaty, &parties, &all, date),
            party: party_code,
            date,
            records,
            findings,
            transcripts: vec![],
        }))
    })
    .await
}

/// Both logs over time (the node's own by date sent, each mirror by date
/// received), the latest receipts, late deliveries, evidence and witnesses.
#[utoipa::path(
    get,
    path = "/workbench/api/exchange",
    tag = "workbench",
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, body = wb::ExchangeTimeline),
        (status = 401, description = "No credentials", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn get_exchange_timeline(
    State(node): State<Arc<Node>>,
) -> Result<Json<wb::ExchangeTimeline>, ApiError> {
    blocking(move || {
        let own = node.with_index(None, |_, _, index, head| {
            Ok(wb::LogSeries {
                party: head.party.clone(),
                origin: head.origin.clone(),
                tree_size: head.tree_size,
                points: index
                    .sizes_by_sent()
                    .map_err(internal)?
                    .into_iter()
                    .map(|(date, size)| wb::SizePoint { date, size })
                    .collect(),
                late: vec![],
                evidence: vec![],
            })
        })?;
        let (all, latest, receipts_size) = {
            let inner = node.lock()?;
            match &inner.receipts {
                Some(r) => {
                    let all = accord_regime::receipts::read(r).map_err(internal)?;
                    let size = r.size();
                    let latest: Vec<ReceiptEntry> = all
                        .iter()
                        .enumerate()
                        .rev()
                        .take(100)
                        .map(|(i, r)| ReceiptEntry {
                            index: i as u64,
                            receipt: r.clone(),
                        })
                        .collect();
                    (all, latest, size)
                }
                None => (vec![], vec![], 0),
            }
        };
        let mut logs = vec![own];
        for l in &node.links {
            let (tree_size, late, evidence) = {
                let m = l.lock_mirror()?;
                (m.log.size(), m.late.clone(), m.evidence.clone())
            };
            let mut points: Vec<wb::SizePoint> = vec![];
            for r in all.iter().filter(|r| r.origin == l.origin) {
                match points.last_mut() {
                    Some(p) if p.date == r.received => p.size = p.size.max(r.end),
                    _ => {
                        let size = points.last().map_or(r.end, |p| p.size.max(r.end));
                        points.push(wb::SizePoint {
                            date: r.received,
                            size,
                        });
                    }
                }
            }
            logs.push(wb::LogSeries {
                party: l.cfg.party.clone(),
                origin: l.origin.clone(),
                tree_size,
                points,
                late,
                evidence,
            });
        }
        let witnesses: Vec<WitnessStatus> =
            node.targets.iter().map(|t| t.witness_status()).collect();
        Ok(Json(wb::ExchangeTimeline {
            party: node.party.clone(),
            logs,
            receipts: latest,
            receipts_size,
            witnesses,
        }))
    })
    .await
}

/// A C2SP tlog-tiles tile or entry bundle of `party`'s log: the node's own
/// or a mirror's (which is the peer's log byte for byte).
#[utoipa::path(
    get,
    path = "/workbench/api/tile/{party}/{path}",
    tag = "workbench",
    params(
        ("party" = String, Path, description = "The party whose log"),
        ("path" = String, Path, description = "The tile path after `tile/`, as C2SP tlog-tiles spells it"),
    ),
    security(("operator" = []), ("reader" = []), ("peer" = [])),
    responses(
        (status = 200, description = "The tile's bytes", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 400, description = "A malformed tile path or unknown party", body = accord_api::ErrorBody),
        (status = 401, description = "No credentials", body = accord_api::ErrorBody),
        (status = 404, description = "Not in the log at its size (yet)", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn get_party_tile(
    State(node): State<Arc<Node>>,
    Path((party, path)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let which = node.query_party(Some(&party))?;
    let t = tiles::parse(&path).map_err(|e| ApiError::bad("path", format!("tile/{path}: {e}")))?;
    let bytes = blocking(move || {
        let read = |log: &LogStore| {
            tiles::read(log, t).map_err(|e| match e {
                e @ TileError::NotYet { .. } => ApiError::NotFound(e.to_string()),
                other => internal(other),
            })
        };
        match which {
            None => read(&node.lock()?.log),
            Some(i) => read(&node.links[i].lock_mirror()?.log),
        }
    })
    .await?;
    let cache = if t.width == tiles::TILE_WIDTH {
        "private, max-age=31536000, immutable"
    } else {
        "private, no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}
