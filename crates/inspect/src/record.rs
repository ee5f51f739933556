//! Inspections in the regime: records, what the treaty allows, quotas, and
//! the findings an inspection's results raise.
//!
//! A record is stored in the inspected party's registry (kind
//! `inspection`) and appended, as canonical JSON, to the inspecting party's
//! log. Type One inspections (ICBM, submarine and air bases) pick deployed
//! missiles and count their reentry vehicles; Type Two inspections (storage,
//! production, test, conversion and elimination facilities) confirm the
//! numbers and status of the items at the site. Both count items at the site,
//! so undeclared items there are found.

use accord_registry::{Finding, FindingKind, Location, State};
use accord_treaty::{Role, Status, Treaty};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The registry record kind of an inspection.
pub const RECORD_KIND: &str = "inspection";

/// One inspected item: declared against found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemResult {
    /// The item.
    pub item: String,
    /// Its declared status.
    pub declared_status: Status,
    /// The status found.
    pub found_status: Status,
    /// Declared reentry vehicles (missiles counted in a Type One inspection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_reentry_vehicles: Option<u32>,
    /// Reentry vehicles counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_reentry_vehicles: Option<u32>,
}

/// An inspection: announcement, site, type, items selected, results, ambiguities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionRecord {
    /// Always `inspection` (tells log entries apart).
    pub record: String,
    /// Unique id, e.g. `US-2020-T1-03`.
    pub id: String,
    /// Who inspects.
    pub inspecting_party: String,
    /// Who is inspected.
    pub inspected_party: String,
    /// `type_one` or `type_two` (a treaty inspection id).
    pub inspection_type: String,
    /// The facility inspected.
    pub site: String,
    /// When it was announced.
    pub announced: NaiveDate,
    /// When it took place.
    pub date: NaiveDate,
    /// Items the inspectors selected.
    pub items_selected: Vec<String>,
    /// What they found on each.
    pub results: Vec<ItemResult>,
    /// Items found at the site that the registry does not hold there.
    pub undeclared_items: u64,
    /// Anything the inspectors could not resolve.
    pub ambiguities: Vec<String>,
}

/// Why an inspection is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("inspection {id} refused: {reason}")]
pub struct Refusal {
    /// The inspection id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// What a cheating party actually holds, beyond its declarations (simulation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cheat {
    /// Extra reentry vehicles actually loaded, by missile.
    pub extra_reentry_vehicles: BTreeMap<String, u32>,
    /// Undeclared items kept, by facility.
    pub undeclared_items: BTreeMap<String, u64>,
    /// The true status of items whose status is misreported.
    pub misreported_status: BTreeMap<String, Status>,
}

/// Checks what the treaty allows: in force on the date, a known type, two
/// different parties, a declared site of the inspected party of a kind that
/// type may visit, announced no later than it happens.
pub fn validate(treaty: &Treaty, state: &State, rec: &InspectionRecord) -> Result<(), Refusal> {
    let refuse = |reason: String| Refusal {
        id: rec.id.clone(),
        reason,
    };
    if rec.record != RECORD_KIND {
        return Err(refuse(format!("`record` must be \"{RECORD_KIND}\"")));
    }
    if !treaty.in_force_on(rec.date) {
        return Err(refuse(format!(
            "{} is outside the life of {} ({} to {})",
            rec.date,
            treaty.id,
            treaty.entry_into_force,
            treaty.expires()
        )));
    }
    if rec.announced > rec.date {
        return Err(refuse(format!(
            "announced {} after it took place {}",
            rec.announced, rec.date
        )));
    }
    let Some(kind) = treaty
        .inspections
        .iter()
        .find(|i| i.id == rec.inspection_type)
    else {
        let known: Vec<&str> = treaty.inspections.iter().map(|i| i.id.as_str()).collect();
        return Err(refuse(format!(
            "`{}` is not an inspection type of {} ({})",
            rec.inspection_type,
            treaty.id,
            known.join(", ")
        )));
    };
    for p in [&rec.inspecting_party, &rec.inspected_party] {
        if treaty.party(p).is_none() {
            return Err(refuse(format!("`{p}` is not a party to {}", treaty.id)));
        }
    }
    if rec.inspecting_party == rec.inspected_party {
        return Err(refuse("a party does not inspect itself".into()));
    }
    if state.party() != rec.inspected_party {
        return Err(refuse(format!(
            "the registry is {}'s, not {}'s",
            state.party(),
            rec.inspected_party
        )));
    }
    let Some(fac) = state.facilities().iter().find(|f| *f.id == *rec.site) else {
        return Err(refuse(format!(
            "{} is not a declared facility of {}",
            rec.site, rec.inspected_party
        )));
    };
    if !kind.facility_kinds.contains(&fac.kind) {
        let allowed: Vec<&str> = kind.facility_kinds.iter().map(|k| k.as_str()).collect();
        return Err(refuse(format!(
            "a {} inspection may visit {}; {} is a {}",
            kind.name,
            allowed.join(", "),
            rec.site,
            fac.kind
        )));
    }
    Ok(())
}

/// Items at a facility on the registry (not eliminated).
fn items_at<'a>(state: &'a State, site: &str) -> Vec<&'a accord_registry::Item> {
    let Some(fi) = state.facilities().iter().position(|f| &*f.id == site) else {
        return vec![];
    };
    state
        .items()
        .iter()
        .filter(|it| it.location == Location::At(fi as u32) && it.status != Status::Eliminated)
        .collect()
}

/// Deployed missiles at a facility: the candidates of a Type One RV count.
pub fn deployed_missiles(treaty: &Treaty, state: &State, site: &str) -> Vec<String> {
    items_at(state, site)
        .into_iter()
        .filter(|it| {
            it.status == Status::Deployed
                && treaty.item_kind(state.kind_id(it)).map(|k| k.role) == Some(Role::Missile)
        })
        .map(|it| it.id.to_string())
        .collect()
}

/// Conducts an inspection on the declared state against the truth (declared
/// plus `cheat`): the selected items' status and reentry vehicles, and the
/// site's undeclared items.
#[allow(clippy::too_many_arguments)]
pub fn conduct(
    treaty: &Treaty,
    state: &State,
    cheat: &Cheat,
    id: &str,
    inspecting: &str,
    inspection_type: &str,
    site: &str,
    announced: NaiveDate,
    date: NaiveDate,
    selected: Vec<String>,
) -> Result<InspectionRecord, Refusal> {
    let mut rec = InspectionRecord {
        record: RECORD_KIND.to_string(),
        id: id.to_string(),
        inspecting_party: inspecting.to_string(),
        inspected_party: state.party().to_string(),
        inspection_type: inspection_type.to_string(),
        site: site.to_string(),
        announced,
        date,
        items_selected: selected.clone(),
        results: vec![],
        undeclared_items: cheat.undeclared_items.get(site).copied().unwrap_or(0),
        ambiguities: vec![],
    };
    validate(treaty, state, &rec)?;
    let here: HashMap<&str, &accord_registry::Item> = items_at(state, site)
        .into_iter()
        .map(|it| (&*it.id, it))
        .collect();
    for item in &selected {
        let Some(it) = here.get(item.as_str()) else {
            rec.ambiguities.push(format!(
                "{item} was selected but the registry does not hold it at {site}"
            ));
            continue;
        };
        let is_missile = treaty.item_kind(state.kind_id(it)).map(|k| k.role) == Some(Role::Missile);
        let counted = inspection_type == "type_one" && is_missile && it.status == Status::Deployed;
        let declared_rv = counted.then_some(it.reentry_vehicles);
        let found_rv =
            declared_rv.map(|d| d + cheat.extra_reentry_vehicles.get(item).copied().unwrap_or(0));
        rec.results.push(ItemResult {
            item: item.clone(),
            declared_status: it.status,
            found_status: cheat
                .misreported_status
                .get(item)
                .copied()
                .unwrap_or(it.status),
            declared_reentry_vehicles: declared_rv,
            found_reentry_vehicles: found_rv,
        });
    }
    Ok(rec)
}

/// The findings raised by a set of inspection records, up to `date`:
/// discrepancies against the inspected party, and quotas exceeded by the
/// inspecting party (per treaty year and type).
pub fn findings(treaty: &Treaty, records: &[InspectionRecord], date: NaiveDate) -> Vec<Finding> {
    let mut out = vec![];
    let mut used: HashMap<(String, u32, String), u32> = HashMap::new();
    let mut sorted: Vec<&InspectionRecord> = records.iter().filter(|r| r.date <= date).collect();
    sorted.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    for r in sorted {
        let f = |kind, message: String, item: Option<String>| Finding {
            kind,
            message: format!(
                "inspection {} ({} of {} at {}): {message}",
                r.id, r.inspecting_party, r.inspected_party, r.site
            ),
            date: r.date,
            notification: None,
            item,
            differences: vec![],
        };
        if let Some((year, start, _)) = treaty.treaty_year(r.date) {
            let quota = treaty
                .inspections
                .iter()
                .find(|i| i.id == r.inspection_type)
                .map_or(0, |i| i.per_treaty_year);
            let n = used
                .entry((r.inspecting_party.clone(), year, r.inspection_type.clone()))
                .or_insert(0);
            *n += 1;
            if *n > quota {
                out.push(f(
                    FindingKind::InspectionQuotaExceeded,
                    format!("{} {} inspection {n} in the treaty year from {start}; the quota is {quota}", r.inspecting_party, r.inspection_type),
                    None,
                ));
            }
        }
        for x in &r.results {
            if let (Some(d), Some(found)) = (x.declared_reentry_vehicles, x.found_reentry_vehicles)
            {
                if d != found {
                    out.push(f(
                        FindingKind::ReentryVehicleDiscrepancy,
                        format!(
                            "{} declared with {d} reentry vehicles; inspectors counted {found}",
                            x.item
                        ),
                        Some(x.item.clone()),
                    ));
                }
            }
            if x.declared_status != x.found_status {
                out.push(f(
                    FindingKind::StatusDiscrepancy,
                    format!(
                        "{} declared {}; found {}",
                        x.item, x.declared_status, x.found_status
                    ),
                    Some(x.item.clone()),
                ));
            }
        }
        if r.undeclared_items > 0 {
            out.push(f(
                FindingKind::UndeclaredItems,
                format!("{} undeclared item(s) at the site", r.undeclared_items),
                None,
            ));
        }
    }
    out
}
