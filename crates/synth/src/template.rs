//! Force templates: where a party's items are, in what proportions, with what loadings.

use serde::Deserialize;
use std::collections::BTreeMap;

const BUILTIN: &[(&str, &str)] = &[
    ("US", include_str!("../../../data/forces/US.toml")),
    ("RU", include_str!("../../../data/forces/RU.toml")),
    ("CN", include_str!("../../../data/forces/CN.toml")),
];

/// A force template (see `data/forces/*.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The party.
    pub party: String,
    /// Prefix of every identifier.
    pub code: String,
    /// Facilities.
    pub facilities: Vec<FacilityT>,
    /// Groups of delivery vehicles (with their launchers) at one facility.
    pub groups: Vec<Group>,
    /// Items outside the central limits, kept at fixed numbers.
    #[serde(default)]
    pub extras: Vec<Extra>,
    /// Where items go for maintenance and elimination.
    pub maintenance: Maintenance,
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
    /// Launchers per unit (tubes a boat, launchers a regiment), for identifiers.
    pub launchers_per_unit: Option<u32>,
    /// Realistic loading band `[min, max]` of reentry vehicles.
    pub reentry_vehicles: Option<[u32; 2]>,
    /// Source.
    pub source: String,
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

impl Template {
    /// The built-in template of a party, or a template file at a path.
    pub fn load(party_or_path: &str) -> Result<Template, String> {
        let (name, text) = match BUILTIN.iter().find(|(p, _)| *p == party_or_path) {
            Some((p, t)) => (format!("data/forces/{p}.toml"), (*t).to_string()),
            None => {
                let text = std::fs::read_to_string(party_or_path).map_err(|e| {
                    format!(
                        "no built-in force template for `{party_or_path}` (have: {}), and it is not a readable file: {e}",
                        BUILTIN.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(", ")
                    )
                })?;
                (party_or_path.to_string(), text)
            }
        };
        toml::from_str(&text).map_err(|e| {
            let line = e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            format!("{name}:{line}: {}", e.message())
        })
    }
}
