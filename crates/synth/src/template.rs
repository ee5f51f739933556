//! Force templates: where a party's items are, in what proportions, with
//! what loadings, and how many of each there are at most.
//!
//! A template names its **classes** (a hull class and its tubes, a regiment
//! and its launchers), its **groups** (missiles of one type in launchers of
//! one type at one facility, or bombers of one type), each with the most
//! whole **units** it has (hulls, regiments; silos and aircraft are units of
//! one), and its **inventory**: the most items of a type that exist, each
//! sourced. A generated force allocates whole units, never more than a
//! group's units and never more of a type than the inventory.
//!
//! Read strictly: an unknown key, a hull with more tubes than its class, a
//! group whose units exceed the inventory, are errors naming the file, the
//! line and the field.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

const BUILTIN: &[(&str, &str)] = &[
    ("US", include_str!("../../../data/forces/US.toml")),
    ("RU", include_str!("../../../data/forces/RU.toml")),
    ("CN", include_str!("../../../data/forces/CN.toml")),
];

/// Why a template was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// Neither a built-in template nor a readable file.
    #[error("no built-in force template for `{name}` (have: {known}), and it is not a readable file: {source}")]
    Read {
        /// What was asked for.
        name: String,
        /// The built-in parties.
        known: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, or a wrong, missing or unknown key.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The line (1-based).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A value that contradicts the rest of the template.
    #[error("{file}:{line}: `{field}`: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The line (1-based).
        line: usize,
        /// The field, as a path (`groups[3].launchers_per_unit`).
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// A force template (see `data/forces/*.toml`).
#[derive(Debug, Clone)]
pub struct Template {
    /// The party.
    pub party: String,
    /// Prefix of every identifier.
    pub code: String,
    /// Facilities.
    pub facilities: Vec<FacilityT>,
    /// Hull classes and regiment types.
    pub classes: Vec<Class>,
    /// The most of each type that exists.
    pub inventory: Vec<Inventory>,
    /// Groups of delivery vehicles (with their launchers) at one facility.
    pub groups: Vec<Group>,
    /// Items kept at fixed numbers (test, training, converted items;
    /// non-deployed missiles).
    pub extras: Vec<Extra>,
    /// Where items go for maintenance and elimination.
    pub maintenance: Maintenance,
    /// The file it was read from.
    pub file: String,
}

/// A facility in a template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacilityT {
    /// Identifier.
    pub id: String,
    /// Facility kind (snake_case).
    pub kind: String,
    /// Name.
    pub name: String,
    /// Source or "assumption".
    pub source: String,
}

/// A hull class (tubes a hull) or a regiment type (launchers a regiment).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Class {
    /// Identifier.
    pub id: String,
    /// Launchers (tubes) each unit of the class has.
    pub launchers: u32,
    /// Source.
    pub source: String,
}

/// The most items of a type that exist (in the statuses given).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// The item type.
    pub item_type: String,
    /// The most that exist.
    pub max: u64,
    /// The statuses it covers (default: every status but eliminated).
    #[serde(default)]
    pub statuses: Vec<String>,
    /// Source.
    pub source: String,
}

/// A group: missiles of one type in launchers of one type, or bombers of one type, at one facility.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Facility id.
    pub facility: String,
    /// For a missile group: the missile type.
    pub missile_type: Option<String>,
    /// For a missile group: the launcher type.
    pub launcher_type: Option<String>,
    /// For a bomber group: the bomber type.
    pub bomber_type: Option<String>,
    /// Short code used in identifiers.
    pub code: String,
    /// Relative share of deployed delivery vehicles.
    pub deployed_share: u32,
    /// Relative share of non-deployed launchers (or bombers).
    pub non_deployed_share: u32,
    /// Accountable launchers per unit (tubes a hull, launchers a regiment).
    pub launchers_per_unit: Option<u32>,
    /// The hull class or regiment type of its units.
    pub class: Option<String>,
    /// Launchers of each unit converted (no longer accountable).
    pub converted_per_unit: Option<u32>,
    /// The most whole units it has (hulls, regiments; silos and aircraft
    /// when `launchers_per_unit` is 1 or absent). Absent: not capped.
    pub units: Option<u32>,
    /// Realistic loading band `[min, max]` of reentry vehicles.
    pub reentry_vehicles: Option<[u32; 2]>,
    /// Source.
    pub source: String,
}

impl Group {
    /// Accountable launchers (or bombers) each unit has.
    pub fn per_unit(&self) -> u32 {
        self.launchers_per_unit.unwrap_or(1).max(1)
    }

    /// The most launchers (or bombers) the group can have, if capped.
    pub fn cap(&self) -> Option<u64> {
        self.units
            .map(|u| u64::from(u) * u64::from(self.per_unit()))
    }

    /// Whether the group allocates whole units of more than one launcher.
    pub fn whole_units(&self) -> bool {
        self.units.is_some() && self.per_unit() > 1
    }
}

/// Items kept at a fixed number.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extra {
    /// Facility id.
    pub facility: String,
    /// Item kind.
    pub kind: String,
    /// Item type.
    pub item_type: String,
    /// Status.
    pub status: String,
    /// How many.
    pub count: u32,
    /// Source.
    pub source: String,
}

/// Maintenance destinations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Maintenance {
    /// Missile type → storage facility for spares.
    pub missile_storage: BTreeMap<String, String>,
    /// Depot for heavy bombers.
    pub bomber_depot: String,
    /// Elimination facility.
    pub elimination: String,
    /// Source.
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    party: String,
    code: String,
    facilities: Vec<FacilityT>,
    #[serde(default)]
    classes: Vec<Spanned<Class>>,
    #[serde(default)]
    inventory: Vec<Spanned<Inventory>>,
    groups: Vec<Spanned<Group>>,
    #[serde(default)]
    extras: Vec<Spanned<Extra>>,
    maintenance: Maintenance,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line of `key =` inside `span`, else the span's first line.
fn key_line(text: &str, span: std::ops::Range<usize>, key: &str) -> usize {
    let first = line_of(text, span.start);
    let end = span.end.min(text.len());
    let start = span.start.min(end);
    text[start..end]
        .lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map_or(first, |i| first + i)
}

impl Template {
    /// The built-in template of a party, or a template file at a path.
    pub fn load(party_or_path: &str) -> Result<Template, TemplateError> {
        let (name, text) = match BUILTIN.iter().find(|(p, _)| *p == party_or_path) {
            Some((p, t)) => (format!("data/forces/{p}.toml"), (*t).to_string()),
            None => {
                let text = std::fs::read_to_string(party_or_path).map_err(|source| {
                    TemplateError::Read {
                        name: party_or_path.to_string(),
                        known: BUILTIN
                            .iter()
                            .map(|(p, _)| *p)
                            .collect::<Vec<_>>()
                            .join(", "),
                        source,
                    }
                })?;
                (party_or_path.to_string(), text)
            }
        };
        Template::from_str(&name, &text)
    }

    /// Parses and checks a template's text; `name` is used in errors.
    pub fn from_str(name: &str, text: &str) -> Result<Template, TemplateError> {
        let f: TemplateFile = toml::from_str(text).map_err(|e| TemplateError::Parse {
            file: name.to_string(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().to_string(),
        })?;
        let bad = |span: std::ops::Range<usize>, field: String, message: String| {
            let leaf = field.rsplit('.').next().unwrap_or(&field).to_string();
            TemplateError::Invalid {
                file: name.to_string(),
                line: key_line(text, span, &leaf),
                field,
                message,
            }
        };
        let classes: Vec<Class> = f.classes.iter().map(|c| c.get_ref().clone()).collect();
        for (i, c) in f.classes.iter().enumerate() {
            if c.get_ref().launchers == 0 {
                return Err(bad(
                    c.span(),
                    format!("classes[{i}].launchers"),
                    "a class has at least one launcher".into(),
                ));
            }
        }
        let has_facility = |id: &str| f.facilities.iter().any(|x| x.id == id);
        for (i, g) in f.groups.iter().enumerate() {
            let (span, g) = (g.span(), g.get_ref());
            let key = |k: &str| format!("groups[{i}].{k}");
            if !has_facility(&g.facility) {
                return Err(bad(
                    span,
                    key("facility"),
                    format!("`{}` is not a facility of the template", g.facility),
                ));
            }
            let converted = g.converted_per_unit.unwrap_or(0);
            match g.class.as_deref() {
                Some(cid) => {
                    let Some(c) = classes.iter().find(|c| c.id == cid) else {
                        return Err(bad(
                            span,
                            key("class"),
                            format!("`{cid}` is not a class of the template"),
                        ));
                    };
                    if g.per_unit() + converted != c.launchers {
                        return Err(bad(
                            span,
                            key("launchers_per_unit"),
                            format!(
                                "{} accountable + {converted} converted launchers a unit, but a {cid} has {}",
                                g.per_unit(),
                                c.launchers
                            ),
                        ));
                    }
                }
                None if converted > 0 => {
                    return Err(bad(
                        span,
                        key("converted_per_unit"),
                        "converted launchers need the unit's class".into(),
                    ))
                }
                None => {}
            }
            if let Some([lo, hi]) = g.reentry_vehicles {
                if lo == 0 || lo > hi {
                    return Err(bad(
                        span,
                        key("reentry_vehicles"),
                        format!("[{lo}, {hi}] is not a band from at least 1"),
                    ));
                }
            }
        }
        for (i, x) in f.extras.iter().enumerate() {
            if !has_facility(&x.get_ref().facility) {
                return Err(bad(
                    x.span(),
                    format!("extras[{i}].facility"),
                    format!(
                        "`{}` is not a facility of the template",
                        x.get_ref().facility
                    ),
                ));
            }
        }
        let groups: Vec<Group> = f.groups.iter().map(|g| g.get_ref().clone()).collect();
        let extras: Vec<Extra> = f.extras.iter().map(|g| g.get_ref().clone()).collect();
        // The inventory bounds what the groups and extras can hold.
        for (i, inv) in f.inventory.iter().enumerate() {
            let (span, inv) = (inv.span(), inv.get_ref());
            let covers = |s: &str| {
                if inv.statuses.is_empty() {
                    s != "eliminated"
                } else {
                    inv.statuses.iter().any(|x| x == s)
                }
            };
            let mut most: u64 = 0;
            let mut capped = true;
            for g in &groups {
                let launchers = g.launcher_type.as_deref() == Some(&inv.item_type)
                    || g.bomber_type.as_deref() == Some(&inv.item_type);
                if launchers && (covers("deployed") || covers("non_deployed")) {
                    match g.cap() {
                        Some(c) => most += c,
                        None => capped = false,
                    }
                }
                if g.missile_type.as_deref() == Some(&inv.item_type) && covers("deployed") {
                    match g.cap() {
                        Some(c) => most += c,
                        None => capped = false,
                    }
                }
                if g.launcher_type.as_deref() == Some(&inv.item_type) && covers("converted") {
                    most += u64::from(g.units.unwrap_or(0))
                        * u64::from(g.converted_per_unit.unwrap_or(0));
                }
            }
            for x in &extras {
                if x.item_type == inv.item_type && covers(&x.status) {
                    most += u64::from(x.count);
                }
            }
            if capped && most > inv.max {
                return Err(bad(
                    span,
                    format!("inventory[{i}].max"),
                    format!(
                        "the groups and extras hold up to {most} `{}`, more than the {} that exist",
                        inv.item_type, inv.max
                    ),
                ));
            }
        }
        Ok(Template {
            party: f.party,
            code: f.code,
            facilities: f.facilities,
            classes,
            inventory: f.inventory.into_iter().map(Spanned::into_inner).collect(),
            groups,
            extras,
            maintenance: f.maintenance,
            file: name.to_string(),
        })
    }
}
