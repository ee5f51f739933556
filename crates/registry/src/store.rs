//! The registry store: one SQLite database per party, `DIR/registry.sqlite`.
//!
//! The `notifications` table is the record; `facilities` and `items` hold the
//! current state, which is the fold of the notifications and is rebuilt from
//! them alone by [`Store::rebuild`]. Appends are all-or-nothing: a batch with
//! any bad notification is rejected whole and changes nothing.

use crate::compliance::{self, Report};
use crate::error::{InputError, StoreError};
use crate::finding::Finding;
use crate::notification::{self, Notification};
use crate::state::{Location, State};
use accord_sqlite::{Schema, Synchronous};
use accord_treaty::Treaty;
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// File name of the store inside a registry directory.
pub const STORE_FILE: &str = "registry.sqlite";

/// The registry's tables, versioned (see [`accord_sqlite`]): the file's
/// `application_id` is `ACRG` and its `user_version` the schema version.
///
/// - version 1: `meta`, `notifications` (the record), `facilities`,
///   `records` and `items` (the current state), as every release before
///   versions wrote them; a registry with no version recorded and the
///   `meta` and `notifications` tables is version 1 (running version 1's
///   `CREATE TABLE IF NOT EXISTS` adds `records` to one older still);
/// - version 2: the workbench's query index ([`crate::query`]), which
///   earlier releases created when the index was first opened (an index
///   already there is kept).
pub static SCHEMA: Schema = Schema {
    what: "an accord registry",
    application_id: accord_sqlite::id::REGISTRY,
    v1: "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    number INTEGER PRIMARY KEY,
    date   TEXT NOT NULL,
    sent   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    body   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_by_date ON notifications (date);
CREATE TABLE IF NOT EXISTS facilities (
    id   TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    date TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS items (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    item_type        TEXT NOT NULL,
    status           TEXT NOT NULL,
    facility         TEXT,
    in_transit_from  TEXT,
    launcher         TEXT,
    reentry_vehicles INTEGER NOT NULL
);
",
    migrations: &[crate::query::SCHEMA],
    legacy_tables: &["meta", "notifications"],
    synchronous: Synchronous::Normal,
};

/// What the store says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The party whose declared holdings these are.
    pub party: String,
    /// The treaty id (or path) it was made under.
    pub treaty: String,
    /// Generated data: shown as SYNTHETIC wherever it appears.
    pub synthetic: bool,
    /// For synthetic data: how it was made (generator, seed, targets).
    pub provenance: String,
}

/// A party's registry on disk.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    meta: Meta,
    /// The fold of everything stored, kept once built (see [`Tip`]); with
    /// a chain pending, also of the chain.
    tip: Option<Tip>,
    /// Batches staged by [`Store::stage_chained`], not yet committed.
    chained: usize,
}

/// The fold of every stored notification, kept in memory.
///
/// The fold applies notifications in [`Notification::fold_key`] order. A batch
/// whose keys all come after the last stored key folds to the same state
/// whether it is folded alone onto the tip or with everything from scratch,
/// so it is checked in time proportional to the batch, not to the history:
/// a node taking notifications one at a time stays linear overall. A batch
/// dated before the tip (a late notification of an earlier change) is folded
/// in full, as [`Store::check`] does.
///
/// Operators working concurrently send notifications out of number order: a
/// notification can arrive after one with a later fold key. It still folds
/// onto the tip when it *commutes* with every stored notification after it:
/// it concerns none of the same items, launchers or facilities, and no data
/// exchange comes after it (an exchange checks the totals of its date). The
/// tip keeps the names each recent notification touched ([`Tip::tail`]) to
/// decide this; anything else is folded in full.
struct Tip {
    state: State,
    numbers: HashSet<u64>,
    last: Option<FoldKey>,
    /// The last [`TAIL`] notifications by fold key: whether each is a data
    /// exchange, and the names it touched.
    tail: BTreeMap<FoldKey, (bool, Vec<Box<str>>)>,
    /// Every stored notification with a key above this is in `tail`.
    floor: Option<FoldKey>,
}

type FoldKey = (NaiveDate, bool, u64);

/// How many recent notifications the tip remembers for commutation.
const TAIL: usize = 4096;

impl Tip {
    /// Whether a batch with these keys and touched names commutes with
    /// every stored notification after its first key.
    fn commutes(&self, first: FoldKey, batch_exchange: bool, names: &HashSet<Box<str>>) -> bool {
        if batch_exchange || self.floor.is_some_and(|f| first <= f) {
            return false;
        }
        self.tail
            .range((std::ops::Bound::Excluded(first), std::ops::Bound::Unbounded))
            .all(|(_, (exchange, touched))| {
                !exchange && touched.iter().all(|t| !conflicts(t, names))
            })
    }

    fn remember(&mut self, key: FoldKey, exchange: bool, names: Vec<Box<str>>) {
        self.tail.insert(key, (exchange, names));
        while self.tail.len() > TAIL {
            if let Some((k, _)) = self.tail.pop_first() {
                self.floor = self.floor.max(Some(k));
            }
        }
        self.last = self.last.max(Some(key));
    }
}

/// A batch checked by [`Store::stage`], ready for [`Store::commit`].
pub struct Staged {
    batch: Vec<Notification>,
    /// The fold after this batch (kept in the store instead while chained).
    tip: Option<Tip>,
    /// Items and facilities whose rows change; `None`: rewrite them all.
    touched: Option<(BTreeSet<u32>, BTreeSet<u32>)>,
}

impl Staged {
    /// The notifications staged, in the order given.
    pub fn notifications(&self) -> &[Notification] {
        &self.batch
    }

    /// Whether the batch folds onto what is stored in any order: it comes
    /// after everything stored, or commutes with everything stored after
    /// it (see [`Tip`]). Otherwise it needed the full refold.
    pub fn folds_onto_the_tip(&self) -> bool {
        self.touched.is_some()
    }
}

/// One item row of the current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    /// Identifier.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Type.
    pub item_type: String,
    /// Status.
    pub status: String,
    /// Facility (None in transit).
    pub facility: Option<String>,
    /// Facility left, when in transit.
    pub in_transit_from: Option<String>,
    /// Launcher a missile is emplaced in.
    pub launcher: Option<String>,
    /// Declared reentry vehicles.
    pub reentry_vehicles: u32,
}

impl Store {
    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Creates a new, empty registry in `dir` (which may exist, but must not
    /// hold one): the directory 0700 if it is made here, the file 0600, its
    /// tables and its meta in one transaction.
    pub fn create(dir: &Path, meta: Meta) -> Result<Store, StoreError> {
        accord_sqlite::create_private_dir(dir)?;
        let path = dir.join(STORE_FILE);
        if path.exists() {
            return Err(StoreError::Io {
                path: path.display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "a registry already exists here",
                ),
            });
        }
        let conn = accord_sqlite::create(&path, &SCHEMA, |tx| {
            for (k, v) in [
                ("party", meta.party.as_str()),
                ("treaty", meta.treaty.as_str()),
                ("synthetic", if meta.synthetic { "true" } else { "false" }),
                ("provenance", meta.provenance.as_str()),
            ] {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    params![k, v],
                )?;
            }
            Ok(())
        })?;
        Ok(Store {
            conn,
            path,
            meta,
            tip: None,
            chained: 0,
        })
    }

    /// Opens the registry in `dir`, or creates it with `meta` if there is none.
    pub fn open_or_create(dir: &Path, meta: Meta) -> Result<Store, StoreError> {
        if dir.join(STORE_FILE).exists() {
            Store::open(dir)
        } else {
            Store::create(dir, meta)
        }
    }

    /// Opens the registry in `dir`, migrating it to the current [`SCHEMA`].
    /// A `registry.sqlite` that is empty, not SQLite, another kind of store
    /// or of a newer schema is refused ([`StoreError::File`]) and left as
    /// it was.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join(STORE_FILE);
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: dir.display().to_string(),
            });
        }
        let conn = accord_sqlite::open(&path, &SCHEMA)?;
        let get = |k: &'static str| -> Result<String, StoreError> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                .optional()
                .map_err(|source| StoreError::Sqlite {
                    path: path.display().to_string(),
                    source,
                })?
                .ok_or_else(|| StoreError::MissingMeta {
                    path: path.display().to_string(),
                    key: k,
                })
        };
        let meta = Meta {
            party: get("party")?,
            treaty: get("treaty")?,
            synthetic: get("synthetic")? == "true",
            provenance: get("provenance")?,
        };
        Ok(Store {
            conn,
            path,
            meta,
            tip: None,
            chained: 0,
        })
    }

    /// The store's metadata.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of notifications stored.
    pub fn len(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM notifications", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n.max(0) as u64)
            .map_err(self.sql())
    }

    /// Whether the store holds no notification.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// The stored notification bodies (JSON), in number order.
    pub fn bodies(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT number, body FROM notifications ORDER BY number")
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(self.sql())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sql())
    }

    /// The stored notifications dated after `after` and on or before
    /// `until` (unbounded where `None`), in fold order.
    pub fn notifications_between(
        &self,
        after: Option<NaiveDate>,
        until: Option<NaiveDate>,
    ) -> Result<Vec<Notification>, StoreError> {
        // ISO dates compare as text; "~" sorts after every digit.
        let from = after.map_or_else(String::new, |d| d.to_string());
        let to = until.map_or_else(|| "~".to_string(), |d| d.to_string());
        let mut stmt = self
            .conn
            .prepare_cached("SELECT number, body FROM notifications WHERE date > ?1 AND date <= ?2")
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([from, to], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(self.sql())?;
        let mut out = vec![];
        for row in rows {
            let (number, body) = row.map_err(self.sql())?;
            out.push(
                notification::parse_one(&body, &format!("stored notification {number}")).map_err(
                    |e| StoreError::Corrupt {
                        path: self.path.display().to_string(),
                        number,
                        message: e.to_string(),
                    },
                )?,
            );
        }
        out.sort_by_key(|n| n.fold_key());
        Ok(out)
    }

    /// Every stored notification, in number order.
    pub fn notifications(&self) -> Result<Vec<Notification>, StoreError> {
        self.bodies()?
            .into_iter()
            .map(|(number, body)| {
                notification::parse_one(&body, &format!("stored notification {number}")).map_err(
                    |e| StoreError::Corrupt {
                        path: self.path.display().to_string(),
                        number,
                        message: e.to_string(),
                    },
                )
            })
            .collect()
    }

    /// What needs no fold: each notification alone against the treaty, its
    /// party, and its number against `stored` and the rest of the batch.
    fn validate_batch(
        &self,
        treaty: &Treaty,
        batch: &[(String, Notification)],
        stored: &HashSet<u64>,
    ) -> Result<(), StoreError> {
        let mut fresh = HashSet::new();
        for (at, n) in batch {
            n.validate(treaty, at)?;
            if n.party != self.meta.party {
                return Err(InputError::Invalid {
                    at: at.clone(),
                    field: "party".to_string(),
                    message: format!("`{}` in a registry of {}", n.party, self.meta.party),
                }
                .into());
            }
            if stored.contains(&n.number) || !fresh.insert(n.number) {
                return Err(InputError::Invalid {
                    at: at.clone(),
                    field: "number".to_string(),
                    message: format!("notification number {} is already used", n.number),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Checks a batch without storing it: everything [`Store::append`]
    /// refuses, this refuses; on success, the state after the batch.
    pub fn check(
        &self,
        treaty: &Treaty,
        batch: &[(String, Notification)],
    ) -> Result<State, StoreError> {
        let existing = self.notifications()?;
        let numbers: HashSet<u64> = existing.iter().map(|n| n.number).collect();
        self.validate_batch(treaty, batch, &numbers)?;
        let before: HashSet<(Option<u64>, String)> =
            transition_findings(treaty, &self.meta.party, &existing)
                .into_iter()
                .map(|f| (f.notification, f.message))
                .collect();
        let mut all = existing;
        all.extend(batch.iter().map(|(_, n)| n.clone()));
        let (state, after) = fold(treaty, &self.meta.party, &all);
        if let Some(f) = after
            .into_iter()
            .find(|f| !before.contains(&(f.notification, f.message.clone())))
        {
            let number = f.notification.unwrap_or(0);
            let at = batch
                .iter()
                .find(|(_, n)| Some(n.number) == f.notification)
                .map_or_else(|| "batch".to_string(), |(a, _)| a.clone());
            return Err(InputError::Rejected {
                at,
                number,
                finding: Box::new(f),
            }
            .into());
        }
        Ok(state)
    }

    /// Appends a batch. Every notification is checked against the treaty (bad
    /// input) and, folded with everything already stored, must raise no
    /// finding of an impossible transition that was not there before. Late
    /// notifications are accepted (lateness is a finding, not bad input). On
    /// any error nothing is stored. [`Store::stage`], then [`Store::commit`].
    pub fn append(
        &mut self,
        treaty: &Treaty,
        batch: &[(String, Notification)],
    ) -> Result<usize, StoreError> {
        let staged = self.stage(treaty, batch)?;
        self.commit(treaty, staged)
    }

    /// Checks a batch as [`Store::append`] would, without writing: the same
    /// verdicts as [`Store::check`], in time proportional to the batch when
    /// it is dated on or after everything stored (see [`Tip`]). Nothing is
    /// stored until [`Store::commit`]; a staged batch that is dropped changes
    /// nothing on disk.
    pub fn stage(
        &mut self,
        treaty: &Treaty,
        batch: &[(String, Notification)],
    ) -> Result<Staged, StoreError> {
        let mut order: Vec<&(String, Notification)> = batch.iter().collect();
        order.sort_by_key(|(_, n)| n.fold_key());
        let tip = match self.tip.take() {
            Some(t) => t,
            // The store alone does not hold the chain: wait for its commit.
            None if self.chained > 0 => return Err(StoreError::Deferred),
            None => self.build_tip(treaty, &[])?,
        };
        if let Err(e) = self.validate_batch(treaty, batch, &tip.numbers) {
            self.tip = Some(tip);
            return Err(e);
        }
        let in_order = match (tip.last, order.first()) {
            (Some(last), Some((_, first))) => first.fold_key() > last,
            _ => true,
        };
        let tip = if in_order {
            tip
        } else {
            match self.stage_commuting(tip, &order) {
                Ok(staged) => {
                    return Ok(Staged {
                        batch: batch.iter().map(|(_, n)| n.clone()).collect(),
                        tip: Some(staged.0),
                        touched: Some(staged.1),
                    })
                }
                Err(Some(e)) => return Err(e),
                Err(None) if self.chained > 0 => return Err(StoreError::Deferred),
                Err(None) => return self.stage_full(treaty, batch),
            }
        };
        let mut tip = tip;
        let mut items = BTreeSet::new();
        let mut facilities = BTreeSet::new();
        for (at, n) in order {
            let t = apply_tracked(&mut tip.state, n);
            if let Some(f) = t.finding {
                // The tip may be partly folded: drop it (the next call
                // rebuilds it from the store, which is unchanged).
                return Err(InputError::Rejected {
                    at: at.clone(),
                    number: n.number,
                    finding: Box::new(f),
                }
                .into());
            }
            items.extend(t.items);
            facilities.extend(t.facility);
            tip.numbers.insert(n.number);
            tip.remember(n.fold_key(), is_exchange(n), t.names);
        }
        Ok(Staged {
            batch: batch.iter().map(|(_, n)| n.clone()).collect(),
            tip: Some(tip),
            touched: Some((items, facilities)),
        })
    }

    /// An out-of-order batch, folded onto the tip if it commutes with what
    /// follows it. `Err(None)`: it does not (or its verdict depends on the
    /// order), so fold in full; the tip has been dropped.
    #[allow(clippy::type_complexity)]
    fn stage_commuting(
        &mut self,
        mut tip: Tip,
        order: &[&(String, Notification)],
    ) -> Result<(Tip, (BTreeSet<u32>, BTreeSet<u32>)), Option<StoreError>> {
        let Some((_, first)) = order.first() else {
            return Err(None);
        };
        let first = first.fold_key();
        let exchange = order.iter().any(|(_, n)| is_exchange(n));
        let mut items = BTreeSet::new();
        let mut facilities = BTreeSet::new();
        let mut all_names: HashSet<Box<str>> = HashSet::new();
        let mut remembered = vec![];
        let mut rejected = None;
        for (at, n) in order {
            let t = apply_tracked(&mut tip.state, n);
            all_names.extend(t.names.iter().cloned());
            if let Some(f) = t.finding {
                rejected = Some(InputError::Rejected {
                    at: at.clone(),
                    number: n.number,
                    finding: Box::new(f),
                });
                break;
            }
            items.extend(t.items);
            facilities.extend(t.facility);
            remembered.push((n.fold_key(), is_exchange(n), t.names, n.number));
        }
        if !tip.commutes(first, exchange, &all_names) {
            // self.tip stays None: rebuilt from the store when next needed.
            return Err(None);
        }
        if let Some(e) = rejected {
            return Err(Some(e.into()));
        }
        for (key, ex, names, number) in remembered {
            tip.numbers.insert(number);
            tip.remember(key, ex, names);
        }
        Ok((tip, (items, facilities)))
    }

    /// Stages a batch by folding everything stored with it.
    fn stage_full(
        &mut self,
        treaty: &Treaty,
        batch: &[(String, Notification)],
    ) -> Result<Staged, StoreError> {
        self.check(treaty, batch)?;
        let batch: Vec<Notification> = batch.iter().map(|(_, n)| n.clone()).collect();
        let tip = self.build_tip(treaty, &batch)?;
        Ok(Staged {
            batch,
            tip: Some(tip),
            touched: None,
        })
    }

    /// Writes a staged batch in one transaction: its notifications and the
    /// rows of the state they changed. On error nothing is stored.
    pub fn commit(&mut self, treaty: &Treaty, staged: Staged) -> Result<usize, StoreError> {
        self.commit_all(treaty, vec![staged])
    }

    /// Stages a batch on top of batches already staged and not committed
    /// (group commit: many requests, one log append, one transaction). The
    /// verdict is [`Store::stage`]'s for the store plus the chain. A batch
    /// that would need the full refold is [`StoreError::Deferred`]: commit
    /// the chain, then stage it again. After any error the chain so far is
    /// still whole and can be committed (or dropped with [`Store::abort`]).
    pub fn stage_chained(
        &mut self,
        treaty: &Treaty,
        batch: &[(String, Notification)],
    ) -> Result<Staged, StoreError> {
        let mut staged = self.stage(treaty, batch)?;
        self.tip = staged.tip.take();
        self.chained += 1;
        Ok(staged)
    }

    /// Forgets a chain that will not be committed (its log append failed).
    pub fn abort(&mut self) {
        self.tip = None;
        self.chained = 0;
    }

    /// Writes staged batches (one, or a chain in the order staged) in one
    /// transaction. On error nothing is stored and the tip is dropped.
    pub fn commit_all(
        &mut self,
        treaty: &Treaty,
        staged: Vec<Staged>,
    ) -> Result<usize, StoreError> {
        let result = self.write_all(treaty, &staged);
        let chained = std::mem::take(&mut self.chained);
        match result {
            Ok(n) => {
                if chained == 0 {
                    // A single batch carries its own tip.
                    self.tip = staged.into_iter().last().and_then(|s| s.tip);
                }
                Ok(n)
            }
            Err(e) => {
                self.tip = None;
                Err(e)
            }
        }
    }

    fn write_all(&mut self, treaty: &Treaty, staged: &[Staged]) -> Result<usize, StoreError> {
        let path = self.path.display().to_string();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        // The state after the last batch: its own tip, or the chain's; if a
        // failed batch later in the chain took the chain's fold with it,
        // everything is folded again (rare: only after a rejection).
        let refolded;
        let mut full = staged.iter().any(|s| s.touched.is_none());
        let state = match staged.last().and_then(|s| s.tip.as_ref()) {
            Some(t) => &t.state,
            None => match self.tip.as_ref() {
                Some(t) => &t.state,
                None => {
                    let mut all = self.notifications()?;
                    all.extend(staged.iter().flat_map(|s| s.batch.iter().cloned()));
                    refolded = fold(treaty, &self.meta.party, &all).0;
                    full = true;
                    &refolded
                }
            },
        };
        let tx = self.conn.transaction().map_err(err)?;
        let mut n = 0;
        {
            let mut ins = tx
                .prepare_cached("INSERT INTO notifications (number, date, sent, kind, body) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(err)?;
            for s in staged {
                for x in &s.batch {
                    ins.execute(params![
                        x.number as i64,
                        x.date.to_string(),
                        x.sent.to_string(),
                        x.event.kind(),
                        x.to_json()
                    ])
                    .map_err(err)?;
                    n += 1;
                }
            }
        }
        if full {
            write_state(&tx, state).map_err(err)?;
        } else {
            let mut items = BTreeSet::new();
            let mut facilities = BTreeSet::new();
            for (i, f) in staged.iter().filter_map(|s| s.touched.as_ref()) {
                items.extend(i);
                facilities.extend(f);
            }
            write_facilities(&tx, state, facilities.into_iter()).map_err(err)?;
            write_items(&tx, state, items.into_iter()).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(n)
    }

    /// Folds everything stored, and `extra`, into a fresh tip, remembering
    /// the names the last [`TAIL`] notifications touched.
    fn build_tip(&self, treaty: &Treaty, extra: &[Notification]) -> Result<Tip, StoreError> {
        let mut all = self.notifications()?;
        all.extend_from_slice(extra);
        all.sort_by_key(|n| n.fold_key());
        let mut tip = Tip {
            state: State::new(treaty, &self.meta.party),
            numbers: all.iter().map(|n| n.number).collect(),
            last: None,
            tail: BTreeMap::new(),
            floor: None,
        };
        let remembered = all.len().saturating_sub(TAIL);
        for (k, n) in all.iter().enumerate() {
            if k < remembered {
                let _ = tip.state.apply(n);
                tip.floor = Some(n.fold_key());
                tip.last = Some(n.fold_key());
            } else {
                let t = apply_tracked(&mut tip.state, n);
                tip.remember(n.fold_key(), is_exchange(n), t.names);
            }
        }
        Ok(tip)
    }

    /// Re-folds every stored notification and rewrites the current-state
    /// tables. Returns whether the rebuilt state equals what was stored.
    pub fn rebuild(&mut self, treaty: &Treaty) -> Result<bool, StoreError> {
        let before = self.items()?;
        let all = self.notifications()?;
        let (state, _) = fold(treaty, &self.meta.party, &all);
        let path = self.path.display().to_string();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        write_state(&tx, &state).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(self.items()? == before)
    }

    /// The current items, by identifier.
    pub fn items(&self) -> Result<Vec<ItemRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, kind, item_type, status, facility, in_transit_from, launcher, reentry_vehicles
                 FROM items ORDER BY id",
            )
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ItemRow {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    item_type: r.get(2)?,
                    status: r.get(3)?,
                    facility: r.get(4)?,
                    in_transit_from: r.get(5)?,
                    launcher: r.get(6)?,
                    reentry_vehicles: r.get(7)?,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sql())
    }

    /// Compliance on each date.
    pub fn evaluate(
        &self,
        treaty: &Treaty,
        dates: &[NaiveDate],
    ) -> Result<Vec<Report>, StoreError> {
        let all = self.notifications()?;
        Ok(compliance::evaluate(
            treaty,
            &self.meta.party,
            &all,
            dates,
            self.meta.synthetic,
        ))
    }

    /// Stores a record of another kind (an inspection, say) by id; the
    /// registry keeps it, the crate that owns the kind gives it meaning.
    /// An id already stored is refused.
    pub fn put_record(
        &self,
        kind: &str,
        id: &str,
        date: NaiveDate,
        body: &str,
    ) -> Result<(), StoreError> {
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO records (kind, id, date, body) VALUES (?1, ?2, ?3, ?4)",
                params![kind, id, date.to_string(), body],
            )
            .map_err(self.sql())?;
        if n == 0 {
            return Err(InputError::Invalid {
                at: format!("{kind} {id}"),
                field: "id".to_string(),
                message: format!("a {kind} with id {id} is already recorded"),
            }
            .into());
        }
        Ok(())
    }

    /// Whether notification `number` is stored.
    pub fn has_notification(&self, number: u64) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT 1 FROM notifications WHERE number = ?1",
                [number as i64],
                |_| Ok(()),
            )
            .optional()
            .map(|x| x.is_some())
            .map_err(self.sql())
    }

    /// Whether a record of `kind` with `id` is stored.
    pub fn has_record(&self, kind: &str, id: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT 1 FROM records WHERE kind = ?1 AND id = ?2",
                params![kind, id],
                |_| Ok(()),
            )
            .optional()
            .map(|x| x.is_some())
            .map_err(self.sql())
    }

    /// Every record of a kind, `(id, body)`, by date then id.
    pub fn records(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT id, body FROM records WHERE kind = ?1 ORDER BY date, id")
            .map_err(self.sql())?;
        let rows = st
            .query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.sql())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sql())
    }

    /// The state on a date: the fold of every notification dated on or before it.
    pub fn state_on(&self, treaty: &Treaty, date: NaiveDate) -> Result<State, StoreError> {
        let mut all = self.notifications()?;
        all.retain(|n| n.date <= date);
        Ok(fold(treaty, &self.meta.party, &all).0)
    }

    /// Runs raw SQL (tests and tamper demonstrations only).
    #[doc(hidden)]
    pub fn execute_raw(&self, sql: &str) -> Result<usize, StoreError> {
        self.conn.execute(sql, []).map_err(self.sql())
    }
}

/// Folds notifications (any order) to the final state, with the findings of
/// impossible transitions and data-exchange mismatches.
pub fn fold(treaty: &Treaty, party: &str, all: &[Notification]) -> (State, Vec<Finding>) {
    let mut order: Vec<&Notification> = all.iter().collect();
    order.sort_by_key(|n| n.fold_key());
    let mut state = State::new(treaty, party);
    let mut findings = vec![];
    for n in order {
        if let Some(f) = state.apply(n) {
            findings.push(f);
        }
    }
    (state, findings)
}

fn transition_findings(treaty: &Treaty, party: &str, all: &[Notification]) -> Vec<Finding> {
    fold(treaty, party, all).1
}

/// The items a notification touches in `state`: its item, and that item's
/// launcher or payload. Called before and after applying, so that both the
/// old and the new partner are rewritten.
fn related(state: &State, n: &Notification, out: &mut BTreeSet<u32>) {
    let launcher = match &n.event {
        crate::notification::Event::AccountabilityEntry { launcher, .. }
        | crate::notification::Event::Deployment { launcher, .. } => launcher.as_deref(),
        _ => None,
    };
    for id in [n.event.item(), launcher].into_iter().flatten() {
        if let Some(i) = state.item_index(id) {
            out.insert(i);
            let it = &state.items()[i as usize];
            out.extend(it.launcher);
            out.extend(it.payload);
        }
    }
}

/// One notification applied to `state`, with what it touched: the item rows
/// to rewrite, the facility it declared, and its names for commutation.
struct Tracked {
    items: BTreeSet<u32>,
    facility: Option<u32>,
    names: Vec<Box<str>>,
    /// The finding it raised (the state is then unchanged, see [`State::apply`]).
    finding: Option<Finding>,
}

fn apply_tracked(state: &mut State, n: &Notification) -> Tracked {
    let mut items = BTreeSet::new();
    related(state, n, &mut items);
    let finding = state.apply(n);
    related(state, n, &mut items);
    let facility = match &n.event {
        crate::notification::Event::FacilityDeclared { facility, .. } => {
            state.facility_index(facility)
        }
        _ => None,
    };
    let names = names(state, n, &items);
    Tracked {
        items,
        facility,
        names,
        finding,
    }
}

fn is_exchange(n: &Notification) -> bool {
    matches!(n.event, crate::notification::Event::DataExchange { .. })
}

/// Whether a stored notification's touched name `t` conflicts with a batch's
/// names: the same item, or the same facility where either side declares it
/// (`fw:`, a write) rather than only naming it (`fr:`, a read). Reads commute.
fn conflicts(t: &str, names: &HashSet<Box<str>>) -> bool {
    if let Some(f) = t.strip_prefix("fw:") {
        names.contains(t) || names.contains(format!("fr:{f}").as_str())
    } else if let Some(f) = t.strip_prefix("fr:") {
        names.contains(format!("fw:{f}").as_str())
    } else {
        names.contains(t)
    }
}

/// The names a notification touches, for commutation: its items (as found by
/// [`related`]) as `item:ID`, and the facility it declares (`fw:ID`) or
/// names (`fr:ID`).
fn names(state: &State, n: &Notification, items: &BTreeSet<u32>) -> Vec<Box<str>> {
    use crate::notification::Event;
    let mut out: Vec<Box<str>> = items
        .iter()
        .map(|&i| format!("item:{}", state.item_id(i)).into())
        .collect();
    // Names not (yet) in the state still conflict: an item entered twice.
    for id in [n.event.item()].into_iter().flatten() {
        out.push(format!("item:{id}").into());
    }
    match &n.event {
        // Declaring a facility writes it; naming one only reads that it exists.
        Event::FacilityDeclared { facility, .. } => out.push(format!("fw:{facility}").into()),
        Event::AccountabilityEntry { facility, .. }
        | Event::Departure { facility, .. }
        | Event::Arrival { facility, .. }
        | Event::HeavyBomberExit { facility, .. }
        | Event::HeavyBomberReturn { facility, .. } => out.push(format!("fr:{facility}").into()),
        _ => {}
    }
    if let Event::AccountabilityEntry {
        launcher: Some(l), ..
    }
    | Event::Deployment {
        launcher: Some(l), ..
    } = &n.event
    {
        out.push(format!("item:{l}").into());
    }
    out
}

fn write_state(tx: &rusqlite::Transaction<'_>, state: &State) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM facilities", [])?;
    tx.execute("DELETE FROM items", [])?;
    write_facilities(tx, state, 0..state.facilities().len() as u32)?;
    write_items(tx, state, 0..state.items().len() as u32)
}

fn write_facilities(
    tx: &rusqlite::Transaction<'_>,
    state: &State,
    which: impl Iterator<Item = u32>,
) -> rusqlite::Result<()> {
    let mut f = tx
        .prepare_cached("INSERT OR REPLACE INTO facilities (id, kind, name) VALUES (?1, ?2, ?3)")?;
    for x in which {
        let fac = state.facility(x);
        f.execute(params![&*fac.id, fac.kind.as_str(), &*fac.name])?;
    }
    Ok(())
}

fn write_items(
    tx: &rusqlite::Transaction<'_>,
    state: &State,
    which: impl Iterator<Item = u32>,
) -> rusqlite::Result<()> {
    let mut i = tx.prepare_cached(
        "INSERT OR REPLACE INTO items (id, kind, item_type, status, facility, in_transit_from, launcher, reentry_vehicles)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for x in which {
        let it = &state.items()[x as usize];
        let (facility, from) = match it.location {
            Location::At(x) => (Some(&*state.facility(x).id), None),
            Location::InTransit { from } => (None, Some(&*state.facility(from).id)),
        };
        i.execute(params![
            &*it.id,
            state.kind_id(it),
            &*it.item_type,
            it.status.as_str(),
            facility,
            from,
            it.launcher.map(|l| state.item_id(l)),
            it.reentry_vehicles
        ])?;
    }
    Ok(())
}

/// Counts of items by (kind, status) from stored rows: a quick summary.
pub fn summarize(rows: &[ItemRow]) -> BTreeMap<(String, String), u64> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry((r.kind.clone(), r.status.clone())).or_insert(0) += 1;
    }
    m
}

/// What a registry is and holds now (`accord registry show --json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// The party.
    pub party: String,
    /// The treaty it was made under.
    pub treaty: String,
    /// Whether it is SYNTHETIC.
    pub synthetic: bool,
    /// Where its data came from.
    pub provenance: String,
    /// Notifications stored.
    pub notifications: u64,
    /// Items it holds.
    pub items: u64,
    /// Items by kind and status.
    pub counts: Vec<KindCount>,
}

/// Items of a kind in a status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KindCount {
    /// Item kind.
    pub kind: String,
    /// Status.
    pub status: String,
    /// How many.
    pub count: u64,
}

impl Store {
    /// What the registry is and holds now.
    pub fn summary(&self) -> Result<Summary, StoreError> {
        let items = self.items()?;
        let m = self.meta();
        Ok(Summary {
            party: m.party.clone(),
            treaty: m.treaty.clone(),
            synthetic: m.synthetic,
            provenance: m.provenance.clone(),
            notifications: self.len()?,
            items: items.len() as u64,
            counts: summarize(&items)
                .into_iter()
                .map(|((kind, status), count)| KindCount {
                    kind,
                    status,
                    count,
                })
                .collect(),
        })
    }
}
