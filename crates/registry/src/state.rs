//! A party's declared holdings, as the fold of its notifications.
//!
//! `State::apply` takes one notification and either changes the state or,
//! when the change is impossible (an unknown item, a duplicate identifier,
//! deploying an eliminated item, one item in two places, …), leaves the state
//! as it was and reports a [`Finding`]. A declared number of reentry vehicles
//! above the type's capacity is applied (it is what the party declared, and
//! what counts) and reported.
//!
//! Aggregates are kept incrementally: a table of item counts and declared
//! reentry vehicles per (kind, status), updated on every change, so the value
//! of any limit on any date is a sum over a handful of cells.

use crate::finding::{Finding, FindingKind};
use crate::notification::{ConvertedTo, Event, Notification};
use accord_treaty::{Each, FacilityKind, Role, Status, Treaty};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Where an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// At a facility (index into the state's facilities).
    At(u32),
    /// Between facilities, having left this one.
    InTransit {
        /// The facility it left.
        from: u32,
    },
}

/// One item in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Unique identifier.
    pub id: Box<str>,
    /// Index of its kind in the treaty.
    pub kind: u8,
    /// Its type (as declared).
    pub item_type: Box<str>,
    /// Status.
    pub status: Status,
    /// Location.
    pub location: Location,
    /// For a missile: the launcher it is emplaced in.
    pub launcher: Option<u32>,
    /// For a launcher: the missile emplaced in it.
    pub payload: Option<u32>,
    /// Declared reentry vehicles (missiles emplaced in a launcher).
    pub reentry_vehicles: u32,
}

/// A facility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facility {
    /// Identifier.
    pub id: Box<str>,
    /// Kind.
    pub kind: FacilityKind,
    /// Name.
    pub name: Box<str>,
}

#[derive(Debug, Clone)]
struct KindInfo {
    role: Role,
    launcher_kind: Option<u8>,
}

/// Counting terms compiled to indexes: (kind, status, each).
#[derive(Debug, Clone)]
struct CompiledLimit {
    id: String,
    terms: Vec<(u8, Status, Each)>,
}

/// A Part Two data category compiled to indexes: (kind, status) cells.
#[derive(Debug, Clone)]
struct CompiledCategory {
    id: String,
    cells: Vec<(u8, Status)>,
    each: Each,
}

/// The state of one party's registry.
#[derive(Debug, Clone)]
pub struct State {
    party: String,
    kinds: Vec<KindInfo>,
    kind_ids: Vec<String>,
    max_rv: HashMap<String, u32>,
    /// type id -> (kind id, party)
    types: HashMap<String, (String, String)>,
    limits: Vec<CompiledLimit>,
    items: Vec<Item>,
    ids: HashMap<Box<str>, u32>,
    facilities: Vec<Facility>,
    facility_ids: HashMap<Box<str>, u32>,
    /// counts[kind][status]
    counts: Vec<[u64; Status::COUNT]>,
    /// declared reentry vehicles, summed, [kind][status]
    rvs: Vec<[u64; Status::COUNT]>,
    /// Items whose conversion has begun, and what they become.
    converting: HashMap<u32, ConvertedTo>,
    /// Items whose elimination has begun.
    eliminating: HashSet<u32>,
    /// Heavy bombers outside national territory.
    abroad: HashSet<u32>,
    /// The treaty's Part Two data categories.
    categories: Vec<CompiledCategory>,
}

impl State {
    /// An empty registry for `party` under `treaty`.
    pub fn new(treaty: &Treaty, party: &str) -> State {
        let kind_ids: Vec<String> = treaty.item_kinds.iter().map(|k| k.id.clone()).collect();
        let index = |id: &str| kind_ids.iter().position(|k| k == id).map(|i| i as u8);
        let kinds = treaty
            .item_kinds
            .iter()
            .map(|k| KindInfo {
                role: k.role,
                launcher_kind: k.launcher_kind.as_deref().and_then(index),
            })
            .collect();
        let limits = treaty
            .limits
            .iter()
            .map(|l| CompiledLimit {
                id: l.id.clone(),
                terms: l
                    .count
                    .iter()
                    .flat_map(|t| {
                        t.kinds.iter().flat_map(move |k| {
                            t.statuses
                                .iter()
                                .filter_map(move |s| index(k).map(|ki| (ki, *s, t.each)))
                        })
                    })
                    .collect(),
            })
            .collect();
        let categories = treaty
            .data_categories
            .iter()
            .map(|c| CompiledCategory {
                id: c.id.clone(),
                cells: c
                    .kinds
                    .iter()
                    .filter_map(|k| index(k))
                    .flat_map(|ki| c.statuses.iter().map(move |s| (ki, *s)))
                    .collect(),
                each: c.each,
            })
            .collect();
        State {
            converting: HashMap::new(),
            eliminating: HashSet::new(),
            abroad: HashSet::new(),
            categories,
            party: party.to_string(),
            counts: vec![[0; Status::COUNT]; kind_ids.len()],
            rvs: vec![[0; Status::COUNT]; kind_ids.len()],
            kinds,
            kind_ids,
            max_rv: treaty
                .item_types
                .iter()
                .filter_map(|t| t.max_reentry_vehicles.map(|m| (t.id.clone(), m)))
                .collect(),
            types: treaty
                .item_types
                .iter()
                .map(|t| (t.id.clone(), (t.kind.clone(), t.party.clone())))
                .collect(),
            limits,
            items: vec![],
            ids: HashMap::new(),
            facilities: vec![],
            facility_ids: HashMap::new(),
        }
    }

    /// The party.
    pub fn party(&self) -> &str {
        &self.party
    }

    /// All items, in order of entry.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// All facilities, in order of declaration.
    pub fn facilities(&self) -> &[Facility] {
        &self.facilities
    }

    /// The item with this identifier.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.ids.get(id).map(|&i| &self.items[i as usize])
    }

    /// The index of a facility, for [`State::facility`].
    pub fn facility_index(&self, id: &str) -> Option<u32> {
        self.facility_ids.get(id).copied()
    }

    /// The index of an item, for [`State::items`].
    pub fn item_index(&self, id: &str) -> Option<u32> {
        self.ids.get(id).copied()
    }

    /// The kind id of an item.
    pub fn kind_id(&self, item: &Item) -> &str {
        &self.kind_ids[item.kind as usize]
    }

    /// The facility at an index.
    pub fn facility(&self, index: u32) -> &Facility {
        &self.facilities[index as usize]
    }

    /// The identifier of the item at an index.
    pub fn item_id(&self, index: u32) -> &str {
        &self.items[index as usize].id
    }

    /// The value of a limit, by id.
    pub fn value(&self, limit: &str) -> Option<u64> {
        self.limits
            .iter()
            .find(|l| l.id == limit)
            .map(|l| self.value_of(l))
    }

    fn value_of(&self, l: &CompiledLimit) -> u64 {
        l.terms
            .iter()
            .map(|&(k, s, each)| match each {
                Each::One => self.counts[k as usize][s.index()],
                Each::DeclaredReentryVehicles => self.rvs[k as usize][s.index()],
            })
            .sum()
    }

    /// Every limit's value, by id (fixed and baseline limits alike).
    pub fn aggregates(&self) -> BTreeMap<String, u64> {
        self.limits
            .iter()
            .map(|l| (l.id.clone(), self.value_of(l)))
            .collect()
    }

    /// Number of items of a kind in a status.
    pub fn count(&self, kind: &str, status: Status) -> u64 {
        self.kind_ids
            .iter()
            .position(|k| k == kind)
            .map_or(0, |k| self.counts[k][status.index()])
    }

    /// The Part Two categories by facility, from the items (items in
    /// transit are at no facility): facility id → category id → number.
    /// Categories with nothing in them are left out.
    pub fn by_facility(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for it in &self.items {
            let Location::At(f) = it.location else {
                continue;
            };
            for c in &self.categories {
                if c.cells.contains(&(it.kind, it.status)) {
                    let add = match c.each {
                        Each::One => 1,
                        Each::DeclaredReentryVehicles => u64::from(it.reentry_vehicles),
                    };
                    if add > 0 {
                        *out.entry(self.facilities[f as usize].id.to_string())
                            .or_default()
                            .entry(c.id.clone())
                            .or_default() += add;
                    }
                }
            }
        }
        out
    }

    /// Whether the item at an index is a heavy bomber outside national territory.
    pub fn is_abroad(&self, index: u32) -> bool {
        self.abroad.contains(&index)
    }

    fn set_status(&mut self, i: u32, status: Status) {
        let it = &mut self.items[i as usize];
        let (k, old, rv) = (it.kind as usize, it.status, u64::from(it.reentry_vehicles));
        it.status = status;
        self.counts[k][old.index()] -= 1;
        self.rvs[k][old.index()] -= rv;
        self.counts[k][status.index()] += 1;
        self.rvs[k][status.index()] += rv;
    }

    fn set_rv(&mut self, i: u32, rv: u32) {
        let it = &mut self.items[i as usize];
        let (k, s) = (it.kind as usize, it.status.index());
        self.rvs[k][s] = self.rvs[k][s] - u64::from(it.reentry_vehicles) + u64::from(rv);
        it.reentry_vehicles = rv;
    }

    /// Applies one notification. Returns `None` when applied cleanly, or the
    /// finding it raises (in which case the state is unchanged, except for a
    /// reentry-vehicle count above capacity, which is applied and reported).
    pub fn apply(&mut self, n: &Notification) -> Option<Finding> {
        let f = |kind: FindingKind, message: String| Some(Finding::about(kind, n, message));
        match &n.event {
            Event::FacilityDeclared {
                facility,
                facility_kind,
                name,
            } => {
                if self.facility_ids.contains_key(facility.as_str()) {
                    return f(
                        FindingKind::DuplicateIdentifier,
                        format!("facility {facility} is declared twice"),
                    );
                }
                let idx = self.facilities.len() as u32;
                self.facility_ids.insert(facility.as_str().into(), idx);
                self.facilities.push(Facility {
                    id: facility.as_str().into(),
                    kind: *facility_kind,
                    name: name.as_str().into(),
                });
                None
            }
            Event::AccountabilityEntry {
                item,
                item_kind,
                item_type,
                facility,
                status,
                launcher,
                reentry_vehicles,
            } => {
                if self.ids.contains_key(item.as_str()) {
                    return f(
                        FindingKind::DuplicateIdentifier,
                        format!("item {item} enters accountability but {item} is already in the registry"),
                    );
                }
                let Some(kind) = self.kind_ids.iter().position(|k| k == item_kind) else {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("item kind `{item_kind}` is not in the treaty"),
                    );
                };
                let Some(&fac) = self.facility_ids.get(facility.as_str()) else {
                    return f(
                        FindingKind::UnknownFacility,
                        format!(
                            "item {item} enters at facility {facility}, which was never declared"
                        ),
                    );
                };
                let idx = self.items.len() as u32;
                let mut launcher_idx = None;
                if let Some(l) = launcher {
                    match self.check_launcher(n, idx, kind as u8, l, fac) {
                        Ok(li) => launcher_idx = Some(li),
                        Err(finding) => return Some(finding),
                    }
                }
                self.ids.insert(item.as_str().into(), idx);
                self.items.push(Item {
                    id: item.as_str().into(),
                    kind: kind as u8,
                    item_type: item_type.as_str().into(),
                    status: *status,
                    location: Location::At(fac),
                    launcher: None,
                    payload: None,
                    reentry_vehicles: 0,
                });
                self.counts[kind][status.index()] += 1;
                if let Some(li) = launcher_idx {
                    self.emplace(idx, li);
                }
                if let Some(rv) = reentry_vehicles {
                    self.set_rv(idx, *rv);
                    return self.check_capacity(n, idx, *rv);
                }
                match self.types.get(item_type.as_str()) {
                    Some((k, p)) if k == item_kind && *p == self.party => None,
                    Some((k, p)) => f(
                        FindingKind::UnknownItemType,
                        format!("{item} is declared as `{item_type}`, a {k} type of {p}, but enters as a {item_kind} of {}", self.party),
                    ),
                    None => f(
                        FindingKind::UnknownItemType,
                        format!("{item} is of type `{item_type}`, which the treaty does not list"),
                    ),
                }
            }
            Event::Departure { item, facility } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                let it = &self.items[i as usize];
                if let Some(fi) = self.eliminated(n, i) {
                    return Some(fi);
                }
                let Some(&fac) = self.facility_ids.get(facility.as_str()) else {
                    return f(
                        FindingKind::UnknownFacility,
                        format!("{item} departs {facility}, which was never declared"),
                    );
                };
                if self.abroad.contains(&i) {
                    return f(
                        FindingKind::ItemInTwoPlaces,
                        format!("{item} departs {facility} but is outside national territory"),
                    );
                }
                match it.location {
                    Location::At(here) if here == fac => {}
                    Location::At(here) => {
                        return f(
                            FindingKind::ItemInTwoPlaces,
                            format!(
                                "{item} departs {facility} but is registered at {}",
                                self.facilities[here as usize].id
                            ),
                        )
                    }
                    Location::InTransit { from } => {
                        return f(
                            FindingKind::ItemInTwoPlaces,
                            format!(
                            "{item} departs {facility} but left {} and has not arrived anywhere",
                            self.facilities[from as usize].id
                        ),
                        )
                    }
                }
                if it.status == Status::Deployed {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item} departs {facility} while deployed (remove it from deployment first)"),
                    );
                }
                if it.payload.is_some() || it.launcher.is_some() {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item} departs {facility} while emplaced in or holding a missile"),
                    );
                }
                self.items[i as usize].location = Location::InTransit { from: fac };
                None
            }
            Event::Arrival { item, facility } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                if let Some(fi) = self.eliminated(n, i) {
                    return Some(fi);
                }
                let Some(&fac) = self.facility_ids.get(facility.as_str()) else {
                    return f(
                        FindingKind::UnknownFacility,
                        format!("{item} arrives at {facility}, which was never declared"),
                    );
                };
                match self.items[i as usize].location {
                    Location::InTransit { .. } => {
                        self.items[i as usize].location = Location::At(fac);
                        None
                    }
                    Location::At(here) => f(
                        FindingKind::ItemInTwoPlaces,
                        format!(
                            "{item} arrives at {facility} but is registered at {} and never departed",
                            self.facilities[here as usize].id
                        ),
                    ),
                }
            }
            Event::Deployment {
                item,
                launcher,
                reentry_vehicles,
            } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                let it = &self.items[i as usize];
                if it.status == Status::Eliminated {
                    return f(
                        FindingKind::DeployingEliminated,
                        format!("{item} is deployed but was eliminated"),
                    );
                }
                if it.status == Status::Deployed {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item} is deployed but is already deployed"),
                    );
                }
                if matches!(it.status, Status::Converted | Status::Test) {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item} is deployed but is a {} item", it.status),
                    );
                }
                let Location::At(fac) = it.location else {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item} is deployed while in transit"),
                    );
                };
                let role = self.kinds[it.kind as usize].role;
                match role {
                    Role::Missile => {
                        let (Some(l), Some(rv)) = (launcher, reentry_vehicles) else {
                            return f(
                                FindingKind::InvalidTransition,
                                format!("missile {item} is deployed without naming its launcher and reentry vehicles"),
                            );
                        };
                        let li = match self.check_launcher(n, i, it.kind, l, fac) {
                            Ok(li) => li,
                            Err(finding) => return Some(finding),
                        };
                        self.set_status(i, Status::Deployed);
                        self.emplace(i, li);
                        self.set_rv(i, *rv);
                        self.check_capacity(n, i, *rv)
                    }
                    Role::HeavyBomber => {
                        if launcher.is_some() || reentry_vehicles.is_some() {
                            return f(
                                FindingKind::InvalidTransition,
                                format!("heavy bomber {item}: a deployment names no launcher or reentry vehicles"),
                            );
                        }
                        self.set_status(i, Status::Deployed);
                        None
                    }
                    Role::Launcher | Role::Warhead => f(
                        FindingKind::InvalidTransition,
                        format!(
                            "{item} is a {}: deploy the missile into it instead",
                            self.kind_ids[it.kind as usize]
                        ),
                    ),
                }
            }
            Event::RemovalFromDeployment { item } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                let it = &self.items[i as usize];
                if it.status != Status::Deployed {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item} is removed from deployment but is {}", it.status),
                    );
                }
                match self.kinds[it.kind as usize].role {
                    Role::Missile => {
                        if let Some(l) = it.launcher {
                            self.items[l as usize].payload = None;
                            self.set_status(l, Status::NonDeployed);
                        }
                        self.items[i as usize].launcher = None;
                        self.set_rv(i, 0);
                        self.set_status(i, Status::NonDeployed);
                        None
                    }
                    Role::HeavyBomber => {
                        self.set_status(i, Status::NonDeployed);
                        None
                    }
                    _ => f(
                        FindingKind::InvalidTransition,
                        format!("{item}: remove the missile from this launcher instead"),
                    ),
                }
            }
            Event::ReentryVehicleChange {
                item,
                reentry_vehicles,
            } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                let it = &self.items[i as usize];
                if self.kinds[it.kind as usize].role != Role::Missile
                    || it.status != Status::Deployed
                {
                    return f(
                        FindingKind::InvalidTransition,
                        format!(
                            "reentry vehicles of {item} change, but it is not a deployed missile"
                        ),
                    );
                }
                self.set_rv(i, *reentry_vehicles);
                self.check_capacity(n, i, *reentry_vehicles)
            }
            Event::Conversion { item, to } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                if let Some(fi) = self.eliminated(n, i) {
                    return Some(fi);
                }
                let it = &self.items[i as usize];
                if it.status == Status::Deployed {
                    return f(
                        FindingKind::InvalidTransition,
                        format!(
                            "{item} is converted while deployed (remove it from deployment first)"
                        ),
                    );
                }
                let role = self.kinds[it.kind as usize].role;
                if !matches!(role, Role::HeavyBomber | Role::Launcher) {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item}: only heavy bombers and launchers are converted"),
                    );
                }
                let status = match to {
                    ConvertedTo::NonNuclear => Status::Converted,
                    ConvertedTo::Test => Status::Test,
                    ConvertedTo::Training => Status::Training,
                };
                self.converting.remove(&i);
                self.set_status(i, status);
                None
            }
            Event::Elimination { item } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                if let Some(fi) = self.eliminated(n, i) {
                    return Some(fi);
                }
                let it = &self.items[i as usize];
                if it.status == Status::Deployed || it.payload.is_some() {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item} is eliminated while deployed or loaded"),
                    );
                }
                self.eliminating.remove(&i);
                self.set_status(i, Status::Eliminated);
                None
            }
            Event::DataExchange { .. } => None,
            Event::ConversionStarted { item, to } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                if let Some(fi) = self.eliminated(n, i) {
                    return Some(fi);
                }
                let it = &self.items[i as usize];
                if !matches!(
                    self.kinds[it.kind as usize].role,
                    Role::HeavyBomber | Role::Launcher
                ) {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item}: only heavy bombers and launchers are converted"),
                    );
                }
                if matches!(it.status, Status::Converted | Status::Training) {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item} begins conversion but is already {}", it.status),
                    );
                }
                if self.converting.contains_key(&i) {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item} begins conversion twice"),
                    );
                }
                self.converting.insert(i, *to);
                None
            }
            Event::EliminationStarted { item } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                if let Some(fi) = self.eliminated(n, i) {
                    return Some(fi);
                }
                if !self.eliminating.insert(i) {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item} begins elimination twice"),
                    );
                }
                None
            }
            Event::RemovedFromAccountability { item, .. } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                if let Some(fi) = self.eliminated(n, i) {
                    return Some(fi);
                }
                let it = &self.items[i as usize];
                if it.payload.is_some() || it.launcher.is_some() {
                    return f(
                        FindingKind::InvalidTransition,
                        format!(
                            "{item} leaves accountability while emplaced in or holding a missile"
                        ),
                    );
                }
                self.abroad.remove(&i);
                self.converting.remove(&i);
                self.eliminating.remove(&i);
                self.set_status(i, Status::Eliminated);
                None
            }
            Event::HeavyBomberExit { item, facility, .. } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                if let Some(fi) = self.eliminated(n, i) {
                    return Some(fi);
                }
                let it = &self.items[i as usize];
                if self.kinds[it.kind as usize].role != Role::HeavyBomber {
                    return f(
                        FindingKind::InvalidTransition,
                        format!(
                            "{item} is a {}, not a heavy bomber",
                            self.kind_ids[it.kind as usize]
                        ),
                    );
                }
                let Some(&fac) = self.facility_ids.get(facility.as_str()) else {
                    return f(
                        FindingKind::UnknownFacility,
                        format!("{item} leaves national territory from {facility}, which was never declared"),
                    );
                };
                if self.abroad.contains(&i) {
                    return f(
                        FindingKind::ItemInTwoPlaces,
                        format!("{item} leaves national territory but has not returned since it last left"),
                    );
                }
                if it.location != Location::At(fac) {
                    return f(
                        FindingKind::ItemInTwoPlaces,
                        format!("{item} leaves national territory from {facility} but is not registered there"),
                    );
                }
                self.abroad.insert(i);
                None
            }
            Event::HeavyBomberReturn { item, facility } => {
                let i = match self.lookup(n, item) {
                    Ok(i) => i,
                    Err(finding) => return Some(finding),
                };
                let Some(&fac) = self.facility_ids.get(facility.as_str()) else {
                    return f(
                        FindingKind::UnknownFacility,
                        format!("{item} returns to {facility}, which was never declared"),
                    );
                };
                if !self.abroad.remove(&i) {
                    return f(
                        FindingKind::InvalidTransition,
                        format!("{item} returns to national territory but never left it"),
                    );
                }
                self.items[i as usize].location = Location::At(fac);
                None
            }
            Event::NewType { .. }
            | Event::InspectionNotice { .. }
            | Event::ExhibitionNotice { .. }
            | Event::LaunchNotification { .. } => None,
        }
    }

    /// The index of an item, or the unknown-item finding.
    fn lookup(&self, n: &Notification, item: &str) -> Result<u32, Finding> {
        self.ids.get(item).copied().ok_or_else(|| {
            Finding::about(
                FindingKind::UnknownItem,
                n,
                format!(
                    "{} names item {item}, which never entered accountability",
                    n.event.kind()
                ),
            )
        })
    }

    fn eliminated(&self, n: &Notification, i: u32) -> Option<Finding> {
        let it = &self.items[i as usize];
        (it.status == Status::Eliminated).then(|| {
            Finding::about(
                FindingKind::InvalidTransition,
                n,
                format!("{} of {}, which was eliminated", n.event.kind(), it.id),
            )
        })
    }

    fn check_launcher(
        &self,
        n: &Notification,
        missile: u32,
        missile_kind: u8,
        launcher: &str,
        fac: u32,
    ) -> Result<u32, Finding> {
        let bad = |kind, m: String| Finding::about(kind, n, m);
        let Some(&li) = self.ids.get(launcher) else {
            return Err(bad(
                FindingKind::UnknownItem,
                format!("launcher {launcher} never entered accountability"),
            ));
        };
        let l = &self.items[li as usize];
        let want = self.kinds[missile_kind as usize].launcher_kind;
        if Some(l.kind) != want {
            return Err(bad(
                FindingKind::InvalidTransition,
                format!(
                    "{launcher} is a {}, not a launcher for this missile",
                    self.kind_ids[l.kind as usize]
                ),
            ));
        }
        if l.status == Status::Eliminated {
            return Err(bad(
                FindingKind::DeployingEliminated,
                format!("launcher {launcher} was eliminated"),
            ));
        }
        if matches!(l.status, Status::Converted) {
            return Err(bad(
                FindingKind::InvalidTransition,
                format!("launcher {launcher} was converted"),
            ));
        }
        if let Some(p) = l.payload {
            if p != missile {
                return Err(bad(
                    FindingKind::InvalidTransition,
                    format!(
                        "launcher {launcher} already holds {}",
                        self.items[p as usize].id
                    ),
                ));
            }
        }
        if l.location != Location::At(fac) {
            return Err(bad(
                FindingKind::ItemInTwoPlaces,
                format!(
                    "launcher {launcher} is not at the missile's facility {}",
                    self.facilities[fac as usize].id
                ),
            ));
        }
        Ok(li)
    }

    fn emplace(&mut self, missile: u32, launcher: u32) {
        self.items[missile as usize].launcher = Some(launcher);
        self.items[launcher as usize].payload = Some(missile);
        // A launcher holding a missile is deployed (test launchers stay test).
        if self.items[launcher as usize].status == Status::NonDeployed {
            self.set_status(launcher, Status::Deployed);
        }
    }

    fn check_capacity(&self, n: &Notification, i: u32, rv: u32) -> Option<Finding> {
        let it = &self.items[i as usize];
        let max = self.max_rv.get(&*it.item_type).copied();
        match max {
            Some(m) if rv > m => Some(Finding::about(
                FindingKind::TooManyReentryVehicles,
                n,
                format!(
                    "{} declares {rv} reentry vehicles; a {} carries at most {m}",
                    it.id, it.item_type
                ),
            )),
            None => Some(Finding::about(
                FindingKind::UnknownItemType,
                n,
                format!(
                    "{} is of type `{}`, which the treaty does not list",
                    it.id, it.item_type
                ),
            )),
            _ => None,
        }
    }
}
