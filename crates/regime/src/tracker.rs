//! A party's compliance kept folded, so that reports cost the change since
//! the nearest snapshot, not the history.
//!
//! The tracker holds an [`Evaluator`] with every stored notification folded
//! (the tip), and a snapshot at the first of every month the history spans
//! (the evaluator with every notification dated on or before that day). A
//! report on a date on or after the last notification's is the tip's; on a
//! first of the month, its snapshot's; on any other date, the nearest
//! snapshot's with the month's notifications replayed from the registry.
//!
//! Batches are pushed as they are committed. One that the registry folded
//! onto its tip (it comes after everything stored, or commutes with
//! everything stored after it: `Staged::folds_onto_the_tip`) is folded onto
//! the tracker's tip and onto any snapshot it falls before, in the order it
//! came; any other (a change dated before others that it does not commute
//! with) drops the snapshots from its date and refolds from the one before,
//! lazily, at the next report. Both give exactly the report that
//! `accord_registry::compliance::evaluate` gives on the same notifications:
//! a test keeps them equal.

use crate::error::RegimeError;
use accord_registry::compliance::{Evaluator, FoldKey};
use accord_registry::{Notification, Report, Store};
use accord_treaty::{LimitMax, Treaty};
use chrono::{Datelike, Months, NaiveDate};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The first day of the month after `d`'s.
fn next_month(d: NaiveDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?.checked_add_months(Months::new(1))
}

/// A party's folded compliance (see the module docs).
pub struct Tracker {
    treaty: Treaty,
    party: String,
    synthetic: bool,
    /// A connection of its own to the party's registry, for replays.
    reader: Store,
    tip: Evaluator,
    /// First of the month → the evaluator with everything dated on or
    /// before it (months without a change share one).
    snapshots: BTreeMap<NaiveDate, Arc<Evaluator>>,
    /// The date of the latest change folded.
    last_date: Option<NaiveDate>,
    /// Snapshots from this date on, and the tip, need refolding.
    stale_from: Option<NaiveDate>,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tracker({}, {} folded, {} snapshots)",
            self.party,
            self.tip.applied(),
            self.snapshots.len()
        )
    }
}

impl Tracker {
    /// A tracker of the registry in `dir`, everything stored folded.
    pub fn open(treaty: &Treaty, dir: &Path) -> Result<Tracker, RegimeError> {
        let reader = Store::open(dir)?;
        let party = reader.meta().party.clone();
        let synthetic = reader.meta().synthetic;
        let mut t = Tracker {
            tip: Evaluator::new(treaty, &party, synthetic),
            treaty: treaty.clone(),
            party,
            synthetic,
            reader,
            snapshots: BTreeMap::new(),
            last_date: None,
            stale_from: None,
        };
        t.refold(None)?;
        Ok(t)
    }

    /// How many notifications are folded.
    pub fn folded(&self) -> u64 {
        self.tip.applied()
    }

    /// Folds `n` onto the tip, keeping a snapshot at every first of the
    /// month it passes.
    fn advance(&mut self, n: &Notification) {
        if let Some(last) = self.last_date.filter(|l| n.date > *l) {
            let shared = Arc::new(self.tip.clone());
            let mut m = next_month(last);
            while let Some(b) = m.filter(|b| *b < n.date) {
                self.snapshots.insert(b, shared.clone());
                m = next_month(b);
            }
            // The first of `last`'s own month, when `last` is that day.
            if last.day() == 1 {
                self.snapshots.insert(last, shared);
            }
        }
        self.tip.apply(&self.treaty, n);
        self.last_date = self.last_date.max(Some(n.date));
    }

    /// Refolds from the nearest snapshot before `from` (all, if `None`).
    fn refold(&mut self, from: Option<NaiveDate>) -> Result<(), RegimeError> {
        let base = from.and_then(|d| {
            self.snapshots
                .range(..d)
                .next_back()
                .map(|(k, v)| (*k, v.clone()))
        });
        self.snapshots = match &base {
            Some((k, _)) => self
                .snapshots
                .range(..=*k)
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            None => BTreeMap::new(),
        };
        let after = base.as_ref().map(|(k, _)| *k);
        self.tip = match &base {
            Some((_, e)) => (**e).clone(),
            None => Evaluator::new(&self.treaty, &self.party, self.synthetic),
        };
        self.last_date = after;
        for n in self.reader.notifications_between(after, None)? {
            self.advance(&n);
        }
        self.stale_from = None;
        Ok(())
    }

    /// A batch just committed to the registry. `folds_onto_the_tip`: the
    /// registry's verdict (`Staged::folds_onto_the_tip`).
    pub fn push(&mut self, batch: &[Notification], folds_onto_the_tip: bool) {
        let Some(first) = batch.iter().map(|n| n.date).min() else {
            return;
        };
        let in_order = {
            let min: Option<FoldKey> = batch.iter().map(|n| n.fold_key()).min();
            self.tip.last().is_none_or(|l| min.is_some_and(|k| k > l))
        };
        if self.stale_from.is_none() && in_order {
            let mut b: Vec<&Notification> = batch.iter().collect();
            b.sort_by_key(|n| n.fold_key());
            for n in b {
                self.advance(n);
            }
            return;
        }
        if self.stale_from.is_none() && folds_onto_the_tip && self.commutes_back(first) {
            // It commutes with everything after it: fold it onto the tip,
            // and each notification onto every snapshot dated on or after
            // it (a snapshot holds what is dated on or before its day; the
            // rest of the batch is replayed after it from the registry).
            for n in batch {
                self.tip.apply_out_of_order(&self.treaty, n);
            }
            for (day, snap) in self.snapshots.range_mut(first..) {
                let mut e = (**snap).clone();
                for n in batch.iter().filter(|n| n.date <= *day) {
                    e.apply_out_of_order(&self.treaty, n);
                }
                *snap = Arc::new(e);
            }
            self.last_date = self.last_date.max(batch.iter().map(|n| n.date).max());
            return;
        }
        self.stale_from = Some(self.stale_from.map_or(first, |s| s.min(first)));
    }

    /// Whether a commuting batch dated from `first` may be folded out of
    /// order without changing a report: it is not before the first change
    /// (the first date is part of the state) and no freeze baseline was
    /// captured from a state it belongs to.
    fn commutes_back(&self, first: NaiveDate) -> bool {
        let after_first = self.tip.first_date().is_some_and(|f| first >= f);
        let baseline_safe = self.treaty.limits.iter().all(|l| {
            l.max != LimitMax::Baseline
                || first > l.binding_from
                || self.last_date.is_none_or(|d| d <= l.binding_from)
        });
        after_first && baseline_safe
    }

    /// Refolds if a batch out of order asked for it.
    fn fresh(&mut self) -> Result<(), RegimeError> {
        if let Some(from) = self.stale_from {
            self.refold(Some(from))?;
        }
        Ok(())
    }

    /// The party's report on `date`, from its notifications alone (add what
    /// the observer knows with [`crate::compliance::observe`]).
    pub fn report(&mut self, date: NaiveDate) -> Result<Report, RegimeError> {
        self.fresh()?;
        if self.last_date.is_none_or(|l| l <= date) {
            return Ok(self.tip.report(&self.treaty, date));
        }
        let base = self
            .snapshots
            .range(..=date)
            .next_back()
            .map(|(k, v)| (*k, v.clone()));
        let (after, mut e) = match base {
            Some((k, snap)) if k == date => return Ok(snap.report(&self.treaty, date)),
            Some((k, snap)) => (Some(k), (*snap).clone()),
            None => (
                None,
                Evaluator::new(&self.treaty, &self.party, self.synthetic),
            ),
        };
        for n in self.reader.notifications_between(after, Some(date))? {
            e.apply(&self.treaty, &n);
        }
        Ok(e.report(&self.treaty, date))
    }

    /// Reports on each of `dates`.
    pub fn reports(&mut self, dates: &[NaiveDate]) -> Result<Vec<Report>, RegimeError> {
        dates.iter().map(|d| self.report(*d)).collect()
    }

    /// The date of the first change folded.
    pub fn first_date(&self) -> Option<NaiveDate> {
        self.tip.first_date()
    }

    /// Forgets everything folded: refolded at the next report (after the
    /// registry was caught up from its log, say).
    pub fn invalidate(&mut self) {
        self.stale_from = Some(NaiveDate::MIN);
        self.snapshots.clear();
    }
}
