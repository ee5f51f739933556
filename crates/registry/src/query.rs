//! Server-side queries over a party's log entries, with indexes.
//!
//! The analyst's workbench searches a party's notifications by kind, date
//! range, facility and item, a page at a time, over logs of 100,000 entries
//! and more. Scanning and parsing every notification for each filter would
//! take seconds; instead the entries are kept in a `notification_index`
//! table beside the registry (in the same SQLite file), one row per log
//! entry, with the columns the filters need and an index for each.
//!
//! The registry knows no log: the caller hands it rows with their log
//! indexes, in log order ([`QueryIndex::append`]). Rows are keyed by log
//! index, so the index is always a prefix of the log: [`QueryIndex::size`]
//! says where to continue, and an index that is missing, or that belongs to
//! another log (origin) or is longer than the log, is rebuilt from scratch
//! ([`QueryIndex::reset`]).
//!
//! # What the facility column means
//!
//! The facility a notification names (a declaration, an entry into
//! accountability, a departure from or an arrival at it); for a notification
//! that names only an item (a deployment, a conversion, …), the facility the
//! item was last declared at (entry or arrival) in log order. A data exchange
//! names no facility (a per-facility exchange names many; it is found by
//! kind). An inspection record's facility is its site.

use crate::notification::{Event, Notification};
use crate::store::STORE_FILE;
use crate::StoreError;
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The index's tables: version 2 of the registry's schema
/// ([`crate::store::SCHEMA`]), made by migration in an older registry.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS notification_index (
    log_index  INTEGER PRIMARY KEY,
    number     INTEGER,
    kind       TEXT NOT NULL,
    date       TEXT NOT NULL,
    sent       TEXT,
    deadline   TEXT,
    facility   TEXT,
    item       TEXT,
    other_item TEXT
);
CREATE INDEX IF NOT EXISTS notification_index_kind ON notification_index (kind, date);
CREATE INDEX IF NOT EXISTS notification_index_date ON notification_index (date);
CREATE INDEX IF NOT EXISTS notification_index_facility ON notification_index (facility, date);
CREATE INDEX IF NOT EXISTS notification_index_item ON notification_index (item);
CREATE INDEX IF NOT EXISTS notification_index_other ON notification_index (other_item);
CREATE INDEX IF NOT EXISTS notification_index_number ON notification_index (number);
CREATE TABLE IF NOT EXISTS notification_index_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Most rows one query returns.
pub const MAX_LIMIT: u64 = 1_000;

/// One indexed log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    /// Its index in the party's log.
    pub log_index: u64,
    /// The notification number (none for a record).
    pub number: Option<u64>,
    /// The notification's kind, or the record's (`inspection`).
    pub kind: String,
    /// The date of the change (a record's date).
    pub date: NaiveDate,
    /// When it was sent (none for a record).
    pub sent: Option<NaiveDate>,
    /// Its deadline under the treaty (none for a record).
    pub deadline: Option<NaiveDate>,
    /// The facility (see the module docs).
    pub facility: Option<String>,
    /// The item it concerns.
    pub item: Option<String>,
    /// A second item it names: the launcher of a deployment or entry.
    pub other_item: Option<String>,
}

impl IndexRow {
    /// The row of a notification at `log_index` with its deadline. The
    /// facility of an item-only event is filled in by [`QueryIndex::append`].
    pub fn of_notification(log_index: u64, n: &Notification, deadline: NaiveDate) -> IndexRow {
        let (facility, other_item) = match &n.event {
            Event::FacilityDeclared { facility, .. }
            | Event::Departure { facility, .. }
            | Event::Arrival { facility, .. } => (Some(facility.clone()), None),
            Event::AccountabilityEntry {
                facility, launcher, ..
            } => (Some(facility.clone()), launcher.clone()),
            Event::Deployment { launcher, .. } => (None, launcher.clone()),
            _ => (None, None),
        };
        IndexRow {
            log_index,
            number: Some(n.number),
            kind: n.event.kind().to_string(),
            date: n.date,
            sent: Some(n.sent),
            deadline: Some(deadline),
            facility,
            item: n.event.item().map(str::to_string),
            other_item,
        }
    }

    /// Whether it was sent after its deadline.
    pub fn late(&self) -> bool {
        matches!((self.sent, self.deadline), (Some(s), Some(d)) if s > d)
    }

    /// Whether the facility is named by the entry itself (not inferred from
    /// where its item was).
    fn names_facility(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "facility_declared" | "accountability_entry" | "departure" | "arrival"
        ) || self.number.is_none()
    }
}

/// A filter over the index. Every field left `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this kind.
    pub kind: Option<String>,
    /// Dated on or after.
    pub from: Option<NaiveDate>,
    /// Dated on or before.
    pub to: Option<NaiveDate>,
    /// At this facility.
    pub facility: Option<String>,
    /// Concerning this item (as its item or its launcher).
    pub item: Option<String>,
    /// Only the notification with this number.
    pub number: Option<u64>,
    /// Only late ones (`Some(true)`) or only timely ones (`Some(false)`).
    pub late: Option<bool>,
    /// Only log indexes below this (the size of the checkpoint the rows
    /// are to be verified against).
    pub below: Option<u64>,
}

/// Newest or oldest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Highest log index first.
    #[default]
    Newest,
    /// Lowest log index first.
    Oldest,
}

/// A page of a query: the total that match and the rows asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// How many rows match the filter.
    pub total: u64,
    /// The rows from the offset, at most the limit.
    pub rows: Vec<IndexRow>,
}

/// The query index of one registry (its own connection to the registry's
/// SQLite file).
pub struct QueryIndex {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for QueryIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "QueryIndex({})", self.path.display())
    }
}

fn day(s: &str) -> rusqlite::Result<NaiveDate> {
    s.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn opt_day(s: Option<String>) -> rusqlite::Result<Option<NaiveDate>> {
    s.as_deref().map(day).transpose()
}

impl QueryIndex {
    /// Opens the index in the registry directory `dir` (its own connection;
    /// the tables are the registry's).
    pub fn open(dir: &Path) -> Result<QueryIndex, StoreError> {
        let path = dir.join(STORE_FILE);
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: dir.display().to_string(),
            });
        }
        // The registry's own open: the index tables are in its schema
        // (version 2), and an older registry is migrated here.
        let conn = accord_sqlite::open(&path, &crate::store::SCHEMA)?;
        Ok(QueryIndex { conn, path })
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// The log origin the index was built from, if any.
    pub fn origin(&self) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT value FROM notification_index_meta WHERE key = 'origin'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql())
    }

    /// How many log entries are indexed (the next log index to append).
    pub fn size(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT COALESCE(MAX(log_index) + 1, 0) FROM notification_index",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(self.sql())
    }

    /// Empties the index and records the log it will be built from.
    pub fn reset(&mut self, origin: &str) -> Result<(), StoreError> {
        let path = self.path.display().to_string();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute("DELETE FROM notification_index", [])
            .map_err(err)?;
        tx.execute(
            "INSERT OR REPLACE INTO notification_index_meta (key, value) VALUES ('origin', ?1)",
            [origin],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Whether the index can continue `origin`'s log of `log_size` entries;
    /// if not (missing, another log's, or longer than the log), it is reset.
    /// Returns the log index to continue from.
    pub fn prepare(&mut self, origin: &str, log_size: u64) -> Result<u64, StoreError> {
        let size = self.size()?;
        if self.origin()?.as_deref() != Some(origin) || size > log_size {
            self.reset(origin)?;
            return Ok(0);
        }
        Ok(size)
    }

    /// Appends rows, which must continue the index in log order (the first
    /// row's log index is [`QueryIndex::size`], each next one more), in one
    /// transaction. Fills the facility of item-only notifications from where
    /// their item was last declared to be.
    pub fn append(&mut self, rows: &mut [IndexRow]) -> Result<(), StoreError> {
        let mut next = self.size()?;
        let mut at: HashMap<String, Option<String>> = HashMap::new();
        let path = self.path.display().to_string();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut last = tx
                .prepare_cached(
                    "SELECT facility FROM notification_index
                     WHERE item = ?1 AND facility IS NOT NULL AND kind IN ('accountability_entry', 'arrival')
                     ORDER BY log_index DESC LIMIT 1",
                )
                .map_err(err)?;
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO notification_index
                     (log_index, number, kind, date, sent, deadline, facility, item, other_item)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(err)?;
            for row in rows.iter_mut() {
                if row.log_index != next {
                    return Err(StoreError::Corrupt {
                        path: path.clone(),
                        number: row.number.map_or(-1, |n| n as i64),
                        message: format!(
                            "query index: log entry {} appended where {next} was due",
                            row.log_index
                        ),
                    });
                }
                next += 1;
                if let Some(item) = row.item.clone() {
                    if row.facility.is_none() && !row.names_facility() {
                        let known = match at.get(&item) {
                            Some(f) => f.clone(),
                            None => last
                                .query_row([&item], |r| r.get::<_, String>(0))
                                .optional()
                                .map_err(err)?,
                        };
                        row.facility = known;
                    }
                    if matches!(row.kind.as_str(), "accountability_entry" | "arrival") {
                        at.insert(item.clone(), row.facility.clone());
                    } else {
                        at.entry(item).or_insert_with(|| row.facility.clone());
                    }
                }
                ins.execute(params![
                    row.log_index as i64,
                    row.number.map(|n| n as i64),
                    row.kind,
                    row.date.to_string(),
                    row.sent.map(|d| d.to_string()),
                    row.deadline.map(|d| d.to_string()),
                    row.facility,
                    row.item,
                    row.other_item,
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// The rows matching `filter`, `limit` (at most [`MAX_LIMIT`]) from
    /// `offset`, in `order`, with the total that match.
    pub fn query(
        &self,
        filter: &Filter,
        offset: u64,
        limit: u64,
        order: Order,
    ) -> Result<Page, StoreError> {
        self.select(filter, offset, limit.min(MAX_LIMIT), order)
    }

    /// Every row matching `filter`, in `order`, if there are at most `cap`;
    /// `Err(total)` inside the `Ok` if there are more.
    pub fn all(
        &self,
        filter: &Filter,
        order: Order,
        cap: u64,
    ) -> Result<Result<Vec<IndexRow>, u64>, StoreError> {
        let page = self.select(filter, 0, cap, order)?;
        if page.total > cap {
            return Ok(Err(page.total));
        }
        Ok(Ok(page.rows))
    }

    fn select(
        &self,
        filter: &Filter,
        offset: u64,
        limit: u64,
        order: Order,
    ) -> Result<Page, StoreError> {
        let (clause, args) = where_clause(filter);
        let total: i64 = self
            .conn
            .query_row(
                &format!("SELECT COUNT(*) FROM notification_index{clause}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )
            .map_err(self.sql())?;
        let dir = match order {
            Order::Newest => "DESC",
            Order::Oldest => "ASC",
        };
        let mut all = args;
        all.push(limit.min(i64::MAX as u64).to_string());
        all.push(offset.min(i64::MAX as u64).to_string());
        let n = all.len();
        let sql = format!(
            "SELECT log_index, number, kind, date, sent, deadline, facility, item, other_item
             FROM notification_index{clause} ORDER BY log_index {dir}
             LIMIT CAST(?{} AS INTEGER) OFFSET CAST(?{} AS INTEGER)",
            n - 1,
            n
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(self.sql())?;
        let rows = st
            .query_map(rusqlite::params_from_iter(all.iter()), |r| {
                Ok(IndexRow {
                    log_index: r.get::<_, i64>(0)?.max(0) as u64,
                    number: r.get::<_, Option<i64>>(1)?.map(|n| n.max(0) as u64),
                    kind: r.get(2)?,
                    date: day(&r.get::<_, String>(3)?)?,
                    sent: opt_day(r.get(4)?)?,
                    deadline: opt_day(r.get(5)?)?,
                    facility: r.get(6)?,
                    item: r.get(7)?,
                    other_item: r.get(8)?,
                })
            })
            .map_err(self.sql())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.sql())?;
        Ok(Page {
            total: total.max(0) as u64,
            rows,
        })
    }

    /// The number of entries of each kind, by kind.
    pub fn kinds(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT kind, COUNT(*) FROM notification_index GROUP BY kind ORDER BY kind",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
            })
            .map_err(self.sql())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sql())
    }

    /// The log's size on each date entries were sent: `(date, entries sent
    /// on or before it)`, for notifications (records carry no sent date).
    pub fn sizes_by_sent(&self) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT sent, MAX(log_index) + 1 FROM notification_index
                 WHERE sent IS NOT NULL GROUP BY sent ORDER BY sent",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    day(&r.get::<_, String>(0)?)?,
                    r.get::<_, i64>(1)?.max(0) as u64,
                ))
            })
            .map_err(self.sql())?;
        let mut out: Vec<(NaiveDate, u64)> = vec![];
        for row in rows {
            let (d, size) = row.map_err(self.sql())?;
            // A late notification logged after later ones: the size never shrinks.
            let size = out.last().map_or(size, |(_, s)| size.max(*s));
            out.push((d, size));
        }
        Ok(out)
    }
}

/// The SQL `WHERE` clause of a filter and its arguments (all text; the
/// dates are ISO 8601, so text order is date order).
fn where_clause(f: &Filter) -> (String, Vec<String>) {
    let mut terms = vec![];
    let mut args: Vec<String> = vec![];
    let mut arg = |v: String| {
        args.push(v);
        args.len()
    };
    if let Some(k) = &f.kind {
        terms.push(format!("kind = ?{}", arg(k.clone())));
    }
    if let Some(d) = f.from {
        terms.push(format!("date >= ?{}", arg(d.to_string())));
    }
    if let Some(d) = f.to {
        terms.push(format!("date <= ?{}", arg(d.to_string())));
    }
    if let Some(x) = &f.facility {
        terms.push(format!("facility = ?{}", arg(x.clone())));
    }
    if let Some(i) = &f.item {
        let n = arg(i.clone());
        terms.push(format!("(item = ?{n} OR other_item = ?{n})"));
    }
    if let Some(n) = f.number {
        terms.push(format!(
            "number = CAST(?{} AS INTEGER)",
            arg(n.min(i64::MAX as u64).to_string())
        ));
    }
    if let Some(b) = f.below {
        terms.push(format!(
            "log_index < CAST(?{} AS INTEGER)",
            arg(b.min(i64::MAX as u64).to_string())
        ));
    }
    match f.late {
        Some(true) => terms.push("sent > deadline".to_string()),
        Some(false) => terms.push("(deadline IS NULL OR sent <= deadline)".to_string()),
        None => {}
    }
    let clause = if terms.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", terms.join(" AND "))
    };
    (clause, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Meta, Store};

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn note(number: u64, date: &str, event: serde_json::Value) -> Notification {
        serde_json::from_value(serde_json::json!({
            "party": "US", "number": number, "date": date, "sent": date, "event": event
        }))
        .expect("notification")
    }

    fn index() -> (tempfile::TempDir, QueryIndex) {
        let tmp = tempfile::tempdir().expect("tmp");
        Store::create(
            tmp.path(),
            Meta {
                party: "US".into(),
                treaty: "new-start-2021".into(),
                synthetic: true,
                provenance: "test".into(),
            },
        )
        .expect("store");
        let q = QueryIndex::open(tmp.path()).expect("index");
        (tmp, q)
    }

    fn rows() -> Vec<IndexRow> {
        let ns = [
            note(
                1,
                "2021-03-01",
                serde_json::json!({"kind": "facility_declared", "facility": "F1", "facility_kind": "icbm_base", "name": "One"}),
            ),
            note(
                2,
                "2021-03-01",
                serde_json::json!({"kind": "facility_declared", "facility": "F2", "facility_kind": "icbm_base", "name": "Two"}),
            ),
            note(
                3,
                "2021-03-02",
                serde_json::json!({"kind": "accountability_entry", "item": "M1", "item_kind": "icbm", "item_type": "minuteman-iii", "facility": "F1", "status": "non_deployed"}),
            ),
            note(
                4,
                "2021-03-03",
                serde_json::json!({"kind": "departure", "item": "M1", "facility": "F1"}),
            ),
            note(
                5,
                "2021-03-05",
                serde_json::json!({"kind": "arrival", "item": "M1", "facility": "F2"}),
            ),
            note(
                6,
                "2021-03-07",
                serde_json::json!({"kind": "elimination", "item": "M1"}),
            ),
        ];
        ns.iter()
            .enumerate()
            .map(|(i, n)| {
                let mut r = IndexRow::of_notification(i as u64, n, d("2021-03-06"));
                if n.number == 6 {
                    r.sent = Some(d("2021-03-20"));
                    r.deadline = Some(d("2021-03-12"));
                }
                r
            })
            .collect()
    }

    #[test]
    fn filters_pages_and_counts_and_infers_the_facility_of_item_only_events() {
        let (_t, mut q) = index();
        assert_eq!(q.prepare("accord/new-start-2021/US", 6).expect("prep"), 0);
        q.append(&mut rows()).expect("append");
        assert_eq!(q.size().expect("size"), 6);
        let item = q
            .query(
                &Filter {
                    item: Some("M1".into()),
                    ..Filter::default()
                },
                0,
                10,
                Order::Oldest,
            )
            .expect("query");
        assert_eq!(item.total, 4);
        let numbers: Vec<u64> = item.rows.iter().filter_map(|r| r.number).collect();
        assert_eq!(numbers, vec![3, 4, 5, 6]);
        // The elimination names no facility: M1 had arrived at F2.
        assert_eq!(item.rows[3].facility.as_deref(), Some("F2"));
        let at_f1 = q
            .query(
                &Filter {
                    facility: Some("F1".into()),
                    ..Filter::default()
                },
                0,
                10,
                Order::Newest,
            )
            .expect("query");
        let numbers: Vec<u64> = at_f1.rows.iter().filter_map(|r| r.number).collect();
        assert_eq!(numbers, vec![4, 3, 1]);
        let page = q
            .query(
                &Filter {
                    from: Some(d("2021-03-02")),
                    to: Some(d("2021-03-05")),
                    ..Filter::default()
                },
                1,
                1,
                Order::Oldest,
            )
            .expect("query");
        assert_eq!(page.total, 3);
        assert_eq!(page.rows.len(), 1);
        assert_eq!(page.rows[0].number, Some(4));
        let late = q
            .query(
                &Filter {
                    late: Some(true),
                    ..Filter::default()
                },
                0,
                10,
                Order::Oldest,
            )
            .expect("query");
        assert_eq!(late.total, 1);
        assert!(late.rows[0].late());
        let kinds = q.kinds().expect("kinds");
        assert!(kinds.contains(&("facility_declared".to_string(), 2)));
    }

    #[test]
    fn rejects_rows_that_skip_a_log_index() {
        let (_t, mut q) = index();
        let mut r = rows();
        r.remove(2);
        assert!(q.append(&mut r).is_err());
        // Nothing was written: the transaction rolled back.
        assert_eq!(q.size().expect("size"), 0);
    }

    #[test]
    fn an_index_of_another_log_or_longer_than_the_log_is_rebuilt() {
        let (_t, mut q) = index();
        q.prepare("accord/new-start-2021/US", 6).expect("prep");
        q.append(&mut rows()).expect("append");
        assert_eq!(q.prepare("accord/new-start-2021/US", 9).expect("same"), 6);
        assert_eq!(
            q.prepare("accord/new-start-2021/US", 3).expect("shorter"),
            0
        );
        q.append(&mut rows()).expect("again");
        assert_eq!(q.prepare("accord/new-start-2021/RU", 9).expect("other"), 0);
        assert_eq!(q.size().expect("size"), 0);
    }

    #[test]
    fn sizes_by_sent_never_shrink() {
        let (_t, mut q) = index();
        q.prepare("o", 6).expect("prep");
        q.append(&mut rows()).expect("append");
        let s = q.sizes_by_sent().expect("sizes");
        assert!(s.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].0 < w[1].0));
        assert_eq!(s.last().map(|x| x.1), Some(6));
    }
}
