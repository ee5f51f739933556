//! Inspection quotas: how many of each type a party has used in the treaty
//! year of a date (Protocol Part Five: 10 Type One and 8 Type Two a year).

use accord_inspect::record::InspectionRecord;
use accord_treaty::Treaty;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One inspection type's use by one party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeUse {
    /// The type id (`type_one`, `type_two`).
    #[serde(rename = "type")]
    pub inspection_type: String,
    /// Its name.
    pub name: String,
    /// Inspections of this type made in the treaty year, up to the date.
    pub used: u32,
    /// The quota per treaty year.
    pub quota: u32,
}

/// One inspecting party's use of its quotas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyUse {
    /// The inspecting party.
    pub inspecting_party: String,
    /// Each type.
    pub types: Vec<TypeUse>,
}

/// Quota use in the treaty year of a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaUse {
    /// The treaty year, counted from 1 (none outside the treaty's life).
    pub treaty_year: Option<u32>,
    /// Its first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// Its last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// Each party's use.
    pub parties: Vec<PartyUse>,
}

/// Inspections used against each type's quota by each of `parties` in the
/// treaty year of `date` (up to `date`).
pub fn quota_use(
    treaty: &Treaty,
    parties: &[String],
    inspections: &[InspectionRecord],
    date: NaiveDate,
) -> QuotaUse {
    let Some((year, start, end)) = treaty.treaty_year(date) else {
        return QuotaUse {
            treaty_year: None,
            from: None,
            to: None,
            parties: vec![],
        };
    };
    let parties = parties
        .iter()
        .map(|p| PartyUse {
            inspecting_party: p.clone(),
            types: treaty
                .inspections
                .iter()
                .map(|t| TypeUse {
                    inspection_type: t.id.clone(),
                    name: t.name.clone(),
                    used: inspections
                        .iter()
                        .filter(|r| {
                            &r.inspecting_party == p
                                && r.inspection_type == t.id
                                && r.date >= start
                                && r.date < end
                                && r.date <= date
                        })
                        .count() as u32,
                    quota: t.per_treaty_year,
                })
                .collect(),
        })
        .collect();
    QuotaUse {
        treaty_year: Some(year + 1),
        from: Some(start),
        to: Some(end.pred_opt().unwrap_or(end)),
        parties,
    }
}
