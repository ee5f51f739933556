//! A generated force written as a registry: the notifications validated on
//! the way into a new store, and kept beside it as JSON Lines.

use crate::{generate, year_of_notifications, SynthError, Targets, Template, YearOptions};
use accord_registry::{Meta, Notification, Store, StoreError};
use accord_treaty::Treaty;
use chrono::NaiveDate;
use std::io::Write as _;
use std::path::Path;

/// Why a generated registry could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthStoreError {
    /// The targets cannot be generated.
    #[error(transparent)]
    Generate(#[from] SynthError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the JSON Lines copy failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Generates a force on `date` and, with `year`, a year of notifications
/// after it. Returns them with the provenance line.
pub fn synthesize(
    treaty: &Treaty,
    template: &Template,
    targets: Targets,
    date: NaiveDate,
    seed: u64,
    year: Option<YearOptions>,
) -> Result<(Vec<Notification>, String), SynthStoreError> {
    let force = generate(treaty, template, targets, date, seed)?;
    let mut all = force.notifications.clone();
    if let Some(opts) = year {
        all.extend(year_of_notifications(
            treaty,
            template,
            &force.notifications,
            opts,
        )?);
    }
    Ok((all, force.provenance))
}

/// Writes notifications into a new SYNTHETIC store in `dir` (validated on
/// the way in) and as `dir/notifications.jsonl`.
pub fn write_registry(
    dir: &Path,
    treaty: &Treaty,
    party: &str,
    all: &[Notification],
    provenance: &str,
) -> Result<Store, SynthStoreError> {
    let meta = Meta {
        party: party.to_string(),
        treaty: treaty.id.clone(),
        synthetic: true,
        provenance: provenance.to_string(),
    };
    let mut st = Store::create(dir, meta)?;
    let batch: Vec<(String, Notification)> = all
        .iter()
        .map(|n| (format!("generated #{}", n.number), n.clone()))
        .collect();
    st.append(treaty, &batch)?;
    let path = dir.join("notifications.jsonl");
    let io = |source| SynthStoreError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
    writeln!(f, "# {provenance}").map_err(io)?;
    for n in all {
        writeln!(f, "{}", n.to_json()).map_err(io)?;
    }
    f.flush().map_err(io)?;
    Ok(st)
}
