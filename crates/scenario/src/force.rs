//! A party's strategic force as *systems*: for each missile or bomber type,
//! how many are deployed, how many launchers (or bombers) stand
//! non-deployed, how many warheads the treaty counts on the deployed ones,
//! and how many each can carry.
//!
//! **Upload potential** is what could be added without building anything:
//!
//! ```text
//! potential = Σ_missiles (deployed · capacity − loaded)      reentry vehicles up to capacity
//!           + Σ_bombers  deployed · (weapons − 1)             bomber weapons beyond the one counted
//!           + Σ_all      non_deployed · capacity              launchers and bombers returned, full
//! ```
//!
//! The stockpile bounds it: no party can load warheads it does not have.

use crate::data::{Futures, Step};
use accord_registry::State;
use accord_treaty::{Role, Status, Treaty};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// One delivery system of a party.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct System {
    /// The missile or bomber type (or a modernisation system's name).
    pub name: String,
    /// `icbm`, `slbm` or `heavy_bomber` (the item kind), or `added`.
    pub kind: String,
    /// Deployed missiles (in launchers) or deployed bombers.
    pub deployed: u64,
    /// Non-deployed launchers of this system, or non-deployed bombers
    /// (test items apart: see `test`).
    pub non_deployed: u64,
    /// Test launchers or test heavy bombers: non-deployed and counted in
    /// the launcher limit, but no upload potential (they are test assets).
    #[serde(default)]
    pub test: u64,
    /// Warheads the treaty counts on the deployed ones (reentry vehicles;
    /// one a bomber).
    pub loaded: u64,
    /// Warheads each can carry.
    pub capacity: u32,
    /// Where the capacity comes from.
    pub capacity_source: String,
}

impl System {
    /// An empty system: nothing deployed, non-deployed or loaded yet.
    pub fn empty(name: &str, kind: &str, capacity: u32, capacity_source: String) -> System {
        System {
            name: name.to_string(),
            kind: kind.to_string(),
            deployed: 0,
            non_deployed: 0,
            test: 0,
            loaded: 0,
            capacity,
            capacity_source,
        }
    }

    /// This system's upload potential.
    pub fn potential(&self) -> u64 {
        let cap = u64::from(self.capacity);
        (self.deployed * cap).saturating_sub(self.loaded) + self.non_deployed * cap
    }
}

/// A party's force on a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Force {
    /// The party.
    pub party: String,
    /// The date.
    pub date: NaiveDate,
    /// Its systems, by name.
    pub systems: Vec<System>,
    /// Items under declaration (every item the registry holds).
    pub items: u64,
    /// What had to be assumed while reading the registry.
    pub notes: Vec<String>,
}

/// The three central aggregates and the upload potential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Deployed ICBMs, SLBMs and heavy bombers.
    pub deployed_delivery_vehicles: u64,
    /// Warheads counted as New START counts them.
    pub deployed_warheads: u64,
    /// Deployed and non-deployed launchers and heavy bombers.
    pub deployed_and_nondeployed_launchers: u64,
    /// Warheads that could be added without building anything.
    pub upload_potential: u64,
}

impl Force {
    /// The totals.
    pub fn totals(&self) -> Totals {
        Totals {
            deployed_delivery_vehicles: self.systems.iter().map(|s| s.deployed).sum(),
            deployed_warheads: self.systems.iter().map(|s| s.loaded).sum(),
            deployed_and_nondeployed_launchers: self
                .systems
                .iter()
                .map(|s| s.deployed + s.non_deployed + s.test)
                .sum(),
            upload_potential: self.systems.iter().map(System::potential).sum(),
        }
    }

    /// Reads a registry's state: deployed missiles by type (with their
    /// declared reentry vehicles), non-deployed launchers (credited to the
    /// missile type most often emplaced in launchers of their type),
    /// deployed and non-deployed bombers. Test launchers and test heavy
    /// bombers count as non-deployed (inside the launcher limit, with no
    /// upload potential); converted and training items are outside, as the
    /// treaty counts them.
    pub fn from_state(treaty: &Treaty, state: &State, futures: &Futures, date: NaiveDate) -> Force {
        let mut notes = vec![];
        let mut systems: BTreeMap<String, System> = BTreeMap::new();
        let role = |state: &State, item: &accord_registry::Item| {
            treaty.item_kind(state.kind_id(item)).map(|k| k.role)
        };
        // Which missile type stands in which launcher type.
        let mut fills: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        let items = state.items();
        let missile = |name: &str, kind: &str, notes: &mut Vec<String>| -> System {
            let (capacity, capacity_source) = match treaty
                .item_type(name)
                .and_then(|t| t.max_reentry_vehicles.map(|m| (m, t.source.clone())))
            {
                Some((m, src)) => (m, src),
                None => {
                    notes.push(format!(
                        "{name}: no reentry-vehicle capacity in the treaty file; 1 assumed"
                    ));
                    (1, "ASSUMPTION: 1 (no capacity in the treaty file)".into())
                }
            };
            System::empty(name, kind, capacity, capacity_source)
        };
        for it in items {
            if role(state, it) == Some(Role::Missile) && it.status == Status::Deployed {
                let kind = state.kind_id(it).to_string();
                let s = systems
                    .entry(it.item_type.to_string())
                    .or_insert_with(|| missile(&it.item_type, &kind, &mut notes));
                s.deployed += 1;
                s.loaded += u64::from(it.reentry_vehicles);
                if let Some(l) = it.launcher.and_then(|l| items.get(l as usize)) {
                    *fills
                        .entry(l.item_type.to_string())
                        .or_default()
                        .entry(it.item_type.to_string())
                        .or_default() += 1;
                }
            }
        }
        for it in items {
            match role(state, it) {
                Some(Role::Launcher) if matches!(it.status, Status::NonDeployed | Status::Test) => {
                    let test = it.status == Status::Test;
                    let lt = it.item_type.to_string();
                    let target = fills
                        .get(&lt)
                        .and_then(|m| m.iter().max_by_key(|(_, n)| **n).map(|(t, _)| t.clone()));
                    match target {
                        Some(t) => {
                            if let Some(s) = systems.get_mut(&t) {
                                if test {
                                    s.test += 1;
                                } else {
                                    s.non_deployed += 1;
                                }
                            }
                        }
                        None => {
                            let s = systems.entry(lt.clone()).or_insert_with(|| {
                                notes.push(format!(
                                    "{lt}: non-deployed launchers with no deployed missile of a known type; capacity 1 assumed"
                                ));
                                System::empty(
                                    &lt,
                                    state.kind_id(it),
                                    1,
                                    "ASSUMPTION: 1 (no missile type known)".into(),
                                )
                            });
                            if test {
                                s.test += 1;
                            } else {
                                s.non_deployed += 1;
                            }
                        }
                    }
                }
                Some(Role::HeavyBomber)
                    if matches!(
                        it.status,
                        Status::Deployed | Status::NonDeployed | Status::Test
                    ) =>
                {
                    let t = it.item_type.to_string();
                    let s = systems.entry(t.clone()).or_insert_with(|| {
                        let (capacity, capacity_source) =
                            match futures.bombers.iter().find(|b| b.item_type == t) {
                                Some(b) => (b.weapons, b.source.clone()),
                                None => {
                                    notes.push(format!(
                                        "{t}: no bomber weapons in the futures file; 1 assumed"
                                    ));
                                    (1, "ASSUMPTION: 1 (no weapons figure)".into())
                                }
                            };
                        System::empty(&t, state.kind_id(it), capacity, capacity_source)
                    });
                    match it.status {
                        Status::Deployed => {
                            s.deployed += 1;
                            s.loaded += 1;
                        }
                        Status::Test => s.test += 1,
                        _ => s.non_deployed += 1,
                    }
                }
                _ => {}
            }
        }
        Force {
            party: state.party().to_string(),
            date,
            systems: systems.into_values().collect(),
            items: items.len() as u64,
            notes,
        }
    }

    /// The force on `date` after the modernisation steps taken since the
    /// force's own date (each step counted in whole years from its start:
    /// `per_year` on its first day, twice that a year later, …, up to
    /// `until` and to the positions there are to replace). Steps taken
    /// before the force's date are already in it.
    pub fn modernised(&self, steps: &[Step], date: NaiveDate) -> Force {
        let mut f = self.clone();
        f.date = date;
        for s in steps {
            let n = steps_by(s, date).saturating_sub(steps_by(s, self.date));
            if n == 0 {
                continue;
            }
            let ratio = s.launcher_ratio.unwrap_or(1.0);
            let name = s.new_system();
            let mut add = System::empty(&name, "added", s.capacity, s.source.clone());
            match &s.replaces {
                Some(old) => {
                    let Some(o) = f.systems.iter_mut().find(|x| &x.name == old) else {
                        f.notes
                            .push(format!("modernisation: no `{old}` to replace"));
                        continue;
                    };
                    add.kind.clone_from(&o.kind);
                    let total = o.deployed + o.non_deployed;
                    let x = n.min(total);
                    if x == 0 {
                        continue;
                    }
                    // Deployed and non-deployed positions go in proportion.
                    let dx = ((x as f64) * (o.deployed as f64) / (total as f64)).round() as u64;
                    let dx = dx.min(o.deployed);
                    let ndx = (x - dx).min(o.non_deployed);
                    let moved = if o.deployed == 0 {
                        0
                    } else {
                        ((o.loaded as f64) * (dx as f64) / (o.deployed as f64)).round() as u64
                    };
                    o.deployed -= dx;
                    o.non_deployed -= ndx;
                    o.loaded -= moved.min(o.loaded);
                    add.deployed = ((dx as f64) * ratio).round() as u64;
                    add.non_deployed = ((ndx as f64) * ratio).round() as u64;
                    add.loaded = (((moved as f64) * ratio).round() as u64)
                        .min(add.deployed * u64::from(add.capacity));
                }
                None => {
                    add.deployed = n;
                    add.loaded = n * u64::from(s.loading.unwrap_or(1).min(s.capacity));
                }
            }
            match f.systems.iter_mut().find(|x| x.name == name) {
                Some(e) => {
                    e.deployed += add.deployed;
                    e.non_deployed += add.non_deployed;
                    e.loaded += add.loaded;
                }
                None => f.systems.push(add),
            }
        }
        f
    }
}

/// Positions a step has moved by `date`.
fn steps_by(s: &Step, date: NaiveDate) -> u64 {
    let last = s.until.map_or(date, |u| u.min(date));
    if last < s.start {
        return 0;
    }
    s.per_year.saturating_mul(whole_years(s.start, last) + 1)
}

/// Whole years from `a` to `b` (0 if `b` is before the first anniversary).
pub fn whole_years(a: NaiveDate, b: NaiveDate) -> u64 {
    use chrono::Datelike;
    if b < a {
        return 0;
    }
    let mut y = (b.year() - a.year()) as i64;
    if (b.month(), b.day()) < (a.month(), a.day()) {
        y -= 1;
    }
    y.max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(name: &str, deployed: u64, non_deployed: u64, loaded: u64, capacity: u32) -> System {
        System {
            name: name.into(),
            kind: "icbm".into(),
            deployed,
            non_deployed,
            test: 0,
            loaded,
            capacity,
            capacity_source: "test".into(),
        }
    }

    fn force(systems: Vec<System>) -> Force {
        Force {
            party: "XX".into(),
            date: NaiveDate::from_ymd_opt(2021, 1, 1).expect("date"),
            systems,
            items: 0,
            notes: vec![],
        }
    }

    #[test]
    fn potential_is_capacity_less_loading_plus_returned_launchers() {
        // 10 missiles of capacity 3 carrying 12, 4 empty launchers: 30 − 12 + 12.
        let f = force(vec![sys("a", 10, 4, 12, 3), sys("bomber", 5, 1, 5, 20)]);
        let t = f.totals();
        assert_eq!(t.deployed_delivery_vehicles, 15);
        assert_eq!(t.deployed_warheads, 17);
        assert_eq!(t.deployed_and_nondeployed_launchers, 20);
        assert_eq!(t.upload_potential, (30 - 12 + 12) + (100 - 5 + 20));
    }

    #[test]
    fn a_replacement_moves_positions_in_whole_years() {
        let f = force(vec![sys("old", 20, 4, 40, 2)]);
        let step = Step {
            replaces: Some("old".into()),
            adds: None,
            system: Some("new".into()),
            start: NaiveDate::from_ymd_opt(2022, 1, 1).expect("d"),
            per_year: 6,
            launcher_ratio: Some(0.5),
            capacity: 10,
            loading: None,
            until: None,
            source: "test".into(),
        };
        let before = f.modernised(
            std::slice::from_ref(&step),
            NaiveDate::from_ymd_opt(2021, 12, 31).expect("d"),
        );
        assert_eq!(before.systems, f.systems);
        // 1 Jan 2023: two years' steps, 12 of 24 positions: 10 deployed, 2 not.
        let g = f.modernised(&[step], NaiveDate::from_ymd_opt(2023, 1, 1).expect("d"));
        let old = &g.systems[0];
        assert_eq!((old.deployed, old.non_deployed, old.loaded), (10, 2, 20));
        let new = &g.systems[1];
        assert_eq!(
            (new.deployed, new.non_deployed, new.loaded, new.capacity),
            (5, 1, 10, 10)
        );
        // old: 10·2 − 20 + 2·2 = 4; new: 5·10 − 10 + 1·10 = 50.
        assert_eq!(g.totals().upload_potential, 4 + 50);
    }

    #[test]
    fn whole_years_counts_anniversaries() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).expect("d");
        assert_eq!(whole_years(d(2021, 2, 5), d(2022, 2, 4)), 0);
        assert_eq!(whole_years(d(2021, 2, 5), d(2022, 2, 5)), 1);
        assert_eq!(whole_years(d(2021, 2, 5), d(2020, 2, 5)), 0);
    }
}
