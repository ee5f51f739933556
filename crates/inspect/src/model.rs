//! From a party's registry to the sites of an inspection game.

use crate::game::Site;
use accord_registry::{Location, State};
use accord_treaty::{FacilityKind, Role, Status, Treaty};
use std::collections::BTreeMap;

/// What the cheater can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// Load extra reentry vehicles (up to each type's capacity) on this many
    /// deployed missiles at one base. Caught by a Type One inspection that
    /// picks one of them to count. Gain: the extra warheads.
    ExtraReentryVehicles {
        /// Missiles loaded.
        missiles: u64,
    },
    /// Keep this many undeclared items at one site. Caught by any inspection
    /// of that site (Type Two confirms the numbers of non-deployed items).
    UndeclaredItems {
        /// Items hidden.
        items: u64,
    },
}

impl Violation {
    /// Parses `extra-rv:R` or `undeclared:U`.
    pub fn parse(s: &str) -> Result<Violation, String> {
        let (kind, n) = s.split_once(':').unwrap_or((s, "1"));
        let n: u64 = n
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("`{s}`: the count after ':' must be a positive integer"))?;
        match kind {
            "extra-rv" => Ok(Violation::ExtraReentryVehicles { missiles: n }),
            "undeclared" => Ok(Violation::UndeclaredItems { items: n }),
            other => Err(format!("`{other}`: expected extra-rv:R or undeclared:U")),
        }
    }

    /// The inspection type that looks for it.
    pub fn inspection_type(self) -> &'static str {
        match self {
            Violation::ExtraReentryVehicles { .. } => "type_one",
            Violation::UndeclaredItems { .. } => "type_two",
        }
    }

    /// Words.
    pub fn describe(self) -> String {
        match self {
            Violation::ExtraReentryVehicles { missiles } => {
                format!(
                    "extra reentry vehicles loaded on {missiles} deployed missile(s) at one base"
                )
            }
            Violation::UndeclaredItems { items } => {
                format!("{items} undeclared item(s) kept at one site")
            }
        }
    }
}

/// What a facility holds, for the game.
#[derive(Debug, Clone, Default)]
struct Tally {
    /// Deployed missiles: (declared reentry vehicles, type capacity).
    missiles: Vec<(u32, u32)>,
    /// Warheads counted there.
    warheads: u64,
    /// Items there.
    items: u64,
}

/// The sites of the game for a party's state, under a treaty and a violation model.
pub fn sites(treaty: &Treaty, state: &State, violation: Violation) -> Vec<Site> {
    let allowed: Vec<FacilityKind> = treaty
        .inspections
        .iter()
        .find(|i| i.id == violation.inspection_type())
        .map(|i| i.facility_kinds.clone())
        .unwrap_or_default();
    let mut per: BTreeMap<u32, Tally> = BTreeMap::new();
    for it in state.items() {
        let Location::At(f) = it.location else {
            continue;
        };
        if it.status == Status::Eliminated {
            continue;
        }
        let e = per.entry(f).or_default();
        e.items += 1;
        let role = treaty.item_kind(state.kind_id(it)).map(|k| k.role);
        if role == Some(Role::Missile) && it.status == Status::Deployed {
            let cap = treaty
                .item_type(&it.item_type)
                .and_then(|t| t.max_reentry_vehicles)
                .unwrap_or(it.reentry_vehicles);
            e.missiles.push((it.reentry_vehicles, cap));
            e.warheads += u64::from(it.reentry_vehicles);
        }
        if role == Some(Role::HeavyBomber) && it.status == Status::Deployed {
            e.warheads += 1;
        }
    }
    let mut out = vec![];
    for (i, fac) in state.facilities().iter().enumerate() {
        if !allowed.contains(&fac.kind) {
            continue;
        }
        let Tally {
            missiles,
            warheads,
            items,
        } = per.get(&(i as u32)).cloned().unwrap_or_default();
        match violation {
            Violation::ExtraReentryVehicles { missiles: r } => {
                if missiles.is_empty() {
                    continue;
                }
                let mut headroom: Vec<u32> =
                    missiles.iter().map(|(d, c)| c.saturating_sub(*d)).collect();
                headroom.sort_unstable_by(|a, b| b.cmp(a));
                let r = r.min(missiles.len() as u64);
                let gain: u64 = headroom
                    .iter()
                    .take(r as usize)
                    .map(|&h| u64::from(h))
                    .sum();
                out.push(Site {
                    facility: fac.id.to_string(),
                    items: missiles.len() as u64,
                    violating: r,
                    samples: 1,
                    gain: gain as f64,
                    warheads,
                });
            }
            Violation::UndeclaredItems { items: u } => out.push(Site {
                facility: fac.id.to_string(),
                items: 1,
                violating: 1,
                samples: 1,
                gain: u as f64,
                warheads: warheads.max(items),
            }),
        }
    }
    out
}

/// No site where a violation could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{party}: no site of {inspection_type} where this violation could be made")]
pub struct NoSite {
    /// The inspected party.
    pub party: String,
    /// The inspection type that would find it.
    pub inspection_type: &'static str,
}

/// The inspection game for `violation` on `state`: its sites, and the
/// treaty's yearly quota of the inspection type that finds it.
pub fn game(
    treaty: &Treaty,
    state: &State,
    violation: Violation,
) -> Result<(Vec<Site>, u32), NoSite> {
    let sites = sites(treaty, state, violation);
    if sites.is_empty() {
        return Err(NoSite {
            party: state.party().to_string(),
            inspection_type: violation.inspection_type(),
        });
    }
    let quota = treaty
        .inspections
        .iter()
        .find(|i| i.id == violation.inspection_type())
        .map_or(0, |i| i.per_treaty_year);
    Ok((sites, quota))
}
