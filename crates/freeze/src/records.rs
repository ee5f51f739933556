//! Stockpile records: JSON Lines `{id, type, category, site}` or CSV with
//! the header `id,type,category,site`.

use crate::FreezeError;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// A warhead's category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// On deployed strategic delivery vehicles.
    DeployedStrategic,
    /// Strategic, in storage or reserve.
    NonDeployedStrategic,
    /// Non-strategic (tactical), deployed or stored.
    NonStrategic,
    /// Retired, awaiting dismantlement.
    AwaitingDismantlement,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 4] = [
        Category::DeployedStrategic,
        Category::NonDeployedStrategic,
        Category::NonStrategic,
        Category::AwaitingDismantlement,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::DeployedStrategic => "deployed_strategic",
            Category::NonDeployedStrategic => "non_deployed_strategic",
            Category::NonStrategic => "non_strategic",
            Category::AwaitingDismantlement => "awaiting_dismantlement",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Its position in [`Category::ALL`]: the category index of its leaves,
    /// and the order of a site's category ranges.
    pub fn index(self) -> u8 {
        match self {
            Category::DeployedStrategic => 0,
            Category::NonDeployedStrategic => 1,
            Category::NonStrategic => 2,
            Category::AwaitingDismantlement => 3,
        }
    }

    /// The category of an index (`None` beyond 3).
    pub fn from_index(i: u8) -> Option<Category> {
        Category::ALL.get(usize::from(i)).copied()
    }
}

/// One declared warhead.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Unique identifier.
    pub id: String,
    /// Warhead type.
    #[serde(rename = "type")]
    pub warhead_type: String,
    /// Category.
    pub category: Category,
    /// Site.
    pub site: String,
}

impl Record {
    /// The canonical bytes hashed into the record's leaf (RFC 8785 JSON).
    ///
    /// A record is a flat object of four strings whose keys sort as
    /// `category < id < site < type`, so its RFC 8785 form is written
    /// directly (serde_json's string escaping is RFC 8785's); a property test
    /// checks this against `serde_json_canonicalizer` on arbitrary records.
    pub fn canonical(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(64 + self.id.len() + self.warhead_type.len() + self.site.len());
        self.canonical_into(&mut out);
        out
    }

    /// [`Record::canonical`], written into a reused buffer (cleared first).
    pub fn canonical_into(&self, out: &mut Vec<u8>) {
        out.clear();
        out.push(b'{');
        for (i, (key, v)) in [
            ("category", self.category.as_str()),
            ("id", self.id.as_str()),
            ("site", self.site.as_str()),
            ("type", self.warhead_type.as_str()),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":");
            if v.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
                // Writing to a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, v);
            } else {
                // Nothing to escape: RFC 8785 writes the string as it is.
                out.push(b'"');
                out.extend_from_slice(v.as_bytes());
                out.push(b'"');
            }
        }
        out.push(b'}');
    }
}

fn check(r: &Record, at: &str) -> Result<(), FreezeError> {
    for (field, v) in [("id", &r.id), ("type", &r.warhead_type), ("site", &r.site)] {
        if v.is_empty() || v.len() > 200 || v.chars().any(char::is_control) {
            return Err(FreezeError::Input(format!(
                "{at}: field `{field}`: must be 1 to 200 printable characters"
            )));
        }
    }
    Ok(())
}

/// Parses records from JSON Lines or CSV (`id,type,category,site`); errors
/// name `file:line` and the field; duplicate identifiers are refused.
pub fn parse_records(file: &str, text: &str) -> Result<Vec<Record>, FreezeError> {
    let mut out = vec![];
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if first.starts_with('{') {
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let at = format!("{file}:{}", i + 1);
            let r: Record = serde_json::from_str(l).map_err(|e| {
                let m = e.to_string();
                FreezeError::Input(format!(
                    "{at}: {}",
                    m.split(" at line ").next().unwrap_or(&m)
                ))
            })?;
            check(&r, &at)?;
            out.push(r);
        }
    } else {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .map_err(|e| FreezeError::Input(format!("{file}:1: {e}")))?
            .clone();
        let want = ["id", "type", "category", "site"];
        if headers.iter().collect::<Vec<_>>() != want {
            return Err(FreezeError::Input(format!(
                "{file}:1: the header must be id,type,category,site"
            )));
        }
        for rec in rdr.records() {
            let rec = rec.map_err(|e| FreezeError::Input(format!("{file}: {e}")))?;
            let line = rec.position().map_or(0, |p| p.line());
            let at = format!("{file}:{line}");
            let get = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
            let category = Category::parse(&get(2)).ok_or_else(|| {
                FreezeError::Input(format!(
                    "{at}: field `category`: `{}`: expected deployed_strategic, non_deployed_strategic, non_strategic or awaiting_dismantlement",
                    get(2)
                ))
            })?;
            let r = Record {
                id: get(0),
                warhead_type: get(1),
                category,
                site: get(3),
            };
            check(&r, &at)?;
            out.push(r);
        }
    }
    let mut seen = HashSet::new();
    for r in &out {
        if !seen.insert(r.id.as_str()) {
            return Err(FreezeError::Input(format!(
                "{file}: duplicate identifier `{}`",
                r.id
            )));
        }
    }
    if out.is_empty() {
        return Err(FreezeError::Input(format!("{file}: no records")));
    }
    Ok(out)
}
