//! What an observer holds, opened from disk: one party's registry and
//! everything else that bears on its compliance.
//!
//! A registry on its own is a view of itself. A registry inside a node's
//! data directory (`DATA/registry`, or a mirror's `DATA/peers/P/registry`)
//! is seen as that node sees it: with the inspections recorded in every
//! registry of the node, the draws it takes part in (`DATA/draws/`,
//! verified with the keys of the node's own log and of its mirrors), and,
//! for a mirror, the late deliveries in the node's signed receipts
//! (`DATA/receipts.sqlite`). So `accord check` on a node's registry gives
//! exactly the node's `GET /status`.

use crate::compliance::{compliance_of, inspections_in, Observations};
use crate::draws::{self, DrawRecord};
use crate::error::RegimeError;
use crate::receipts::{self, Receipt, RECEIPTS_FILE};
use accord_log::LogStore;
use accord_registry::{Report, Store};
use accord_treaty::Treaty;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// A party's registry and what its observer knows.
pub struct View {
    registry: Store,
    others: Vec<Store>,
    receipts: Vec<Receipt>,
    draws: Vec<DrawRecord>,
    node: Option<PathBuf>,
    mirror: bool,
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "View({}, {} other registries, {} receipts)",
            self.registry.path().display(),
            self.others.len(),
            self.receipts.len()
        )
    }
}

/// The node data directory a registry directory belongs to, if any, and
/// whether it is a mirror.
fn node_root(dir: &Path) -> Option<(PathBuf, bool)> {
    let dir = dir.canonicalize().ok()?;
    if dir.file_name()? != "registry" {
        return None;
    }
    let parent = dir.parent()?;
    // DATA/peers/P/registry (a mirror also has its log beside it: test
    // this first).
    if let Some(peers) = parent
        .parent()
        .filter(|p| p.file_name() == Some("peers".as_ref()))
    {
        let root = peers.parent()?;
        if root.join("registry").is_dir() || root.join(RECEIPTS_FILE).is_file() {
            return Some((root.to_path_buf(), true));
        }
    }
    // DATA/registry beside DATA/log.sqlite.
    if parent.join("log.sqlite").is_file() {
        return Some((parent.to_path_buf(), false));
    }
    None
}

impl View {
    /// Opens the registry in `dir`, with its node's other registries and
    /// receipts when it lives in a node's data directory.
    pub fn open(dir: &Path) -> Result<View, RegimeError> {
        let registry = Store::open(dir)?;
        let Some((root, mirror)) = node_root(dir) else {
            return Ok(View {
                registry,
                others: vec![],
                receipts: vec![],
                draws: vec![],
                node: None,
                mirror: false,
            });
        };
        let mut dirs = vec![root.join("registry")];
        if let Ok(rd) = std::fs::read_dir(root.join("peers")) {
            let mut peers: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("registry"))
                .filter(|p| p.is_dir())
                .collect();
            peers.sort();
            dirs.extend(peers);
        }
        let me = dir.canonicalize().ok();
        let mut others = vec![];
        for d in &dirs {
            if d.canonicalize().ok() != me {
                others.push(Store::open(d)?);
            }
        }
        // The draws, verified with the log keys the node holds (its own
        // log's and each mirror's).
        let mut pinned = vec![];
        for log in std::iter::once(root.join("log.sqlite")).chain(
            dirs.iter()
                .skip(1)
                .filter_map(|d| d.parent().map(|p| p.join("log.sqlite"))),
        ) {
            if log.is_file() {
                pinned.push(LogStore::open(&log)?.verifier().clone());
            }
        }
        let draws = draws::load(&root.join(draws::DRAWS_DIR), |f| {
            DrawRecord::pin(f, &pinned)
        })?;
        let rpath = root.join(RECEIPTS_FILE);
        let receipts = if rpath.is_file() {
            receipts::read(&LogStore::open(&rpath)?)?
        } else {
            vec![]
        };
        Ok(View {
            registry,
            others,
            receipts,
            draws,
            node: Some(root),
            mirror,
        })
    }

    /// The party's registry.
    pub fn registry(&self) -> &Store {
        &self.registry
    }

    /// The node data directory this view is of, if any.
    pub fn node(&self) -> Option<&Path> {
        self.node.as_deref()
    }

    /// Every draw the observer takes part in, verified.
    pub fn draws(&self) -> &[DrawRecord] {
        &self.draws
    }

    /// Every inspection the observer knows, each id once.
    pub fn inspections(
        &self,
    ) -> Result<Vec<accord_inspect::record::InspectionRecord>, RegimeError> {
        inspections_in(std::iter::once(&self.registry).chain(&self.others))
    }

    /// The party's compliance on each of `dates`, as its observer sees it.
    pub fn reports(
        &self,
        treaty: &Treaty,
        dates: &[NaiveDate],
    ) -> Result<Vec<Report>, RegimeError> {
        let inspections = self.inspections()?;
        let late = if self.mirror {
            let m = self.registry.meta();
            let notes = self.registry.notifications()?;
            receipts::late_deliveries(
                treaty,
                &self.receipts,
                &accord_log::origin(&m.treaty, &m.party),
                &notes,
            )
        } else {
            vec![]
        };
        compliance_of(
            treaty,
            &self.registry,
            Observations {
                inspections: &inspections,
                late_deliveries: &late,
                draws: &self.draws,
            },
            dates,
        )
    }
}
