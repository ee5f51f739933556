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

/// A registry to generate, as `accord generate` asks for it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The treaty.
    pub treaty: &'a Treaty,
    /// The party.
    pub party: &'a str,
    /// The date the aggregates hold on.
    pub date: NaiveDate,
    /// The aggregates to reproduce.
    pub targets: Targets,
    /// The seed.
    pub seed: u64,
    /// The force template: a party code of a built-in one, or a path.
    pub template: &'a str,
    /// A year (or more) of notifications after the date.
    pub year: Option<YearOptions>,
    /// The new registry's directory.
    pub out: &'a Path,
}

/// Why a generation request is refused before anything is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Not a party to the treaty.
    #[error("--party: `{party}` is not a party to {treaty}")]
    Party {
        /// The party.
        party: String,
        /// The treaty.
        treaty: String,
    },
    /// The date is outside the treaty's life.
    #[error("--date: {date} is outside the life of {treaty} ({from} to {to})")]
    Date {
        /// The date.
        date: NaiveDate,
        /// The treaty.
        treaty: String,
        /// Entry into force.
        from: NaiveDate,
        /// Expiry.
        to: NaiveDate,
    },
    /// The directory holds a registry already.
    #[error("--out: {0} already holds a registry; choose a new directory")]
    Exists(String),
    /// The template cannot be loaded.
    #[error("--template: {0}")]
    TemplateLoad(String),
    /// The template is another party's.
    #[error("--template: the template is for {template}, not {party}")]
    Template {
        /// The template's party.
        template: String,
        /// The party asked.
        party: String,
    },
    /// The notifications would run past expiry.
    #[error("--days: the notifications would run to {end}, past the treaty's expiry {expiry}")]
    PastExpiry {
        /// The last date.
        end: NaiveDate,
        /// Expiry.
        expiry: NaiveDate,
    },
}

impl Request<'_> {
    /// Refuses what cannot be generated, before anything is made; returns
    /// the template.
    pub fn check(&self) -> Result<Template, RequestError> {
        let t = self.treaty;
        if t.party(self.party).is_none() {
            return Err(RequestError::Party {
                party: self.party.to_string(),
                treaty: t.id.clone(),
            });
        }
        if !t.in_force_on(self.date) {
            return Err(RequestError::Date {
                date: self.date,
                treaty: t.id.clone(),
                from: t.entry_into_force,
                to: t.expires(),
            });
        }
        if self.out.join(accord_registry::store::STORE_FILE).exists() {
            return Err(RequestError::Exists(self.out.display().to_string()));
        }
        let template =
            Template::load(self.template).map_err(|e| RequestError::TemplateLoad(e.to_string()))?;
        if template.party != self.party {
            return Err(RequestError::Template {
                template: template.party.clone(),
                party: self.party.to_string(),
            });
        }
        Ok(template)
    }

    /// Generates the notifications (after [`Request::check`]), refusing a
    /// year that would run past the treaty's expiry.
    pub fn notifications(&self) -> Result<(Vec<Notification>, String), GenerateError> {
        let template = self.check()?;
        let (all, provenance) = synthesize(
            self.treaty,
            &template,
            self.targets,
            self.date,
            self.seed,
            self.year,
        )?;
        if let Some(end) = all.iter().map(|n| n.date).max() {
            if !self.treaty.in_force_on(end) {
                return Err(RequestError::PastExpiry {
                    end,
                    expiry: self.treaty.expires(),
                }
                .into());
            }
        }
        Ok((all, provenance))
    }
}

/// Why a registry was not generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The request is refused.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Generation or storage failed.
    #[error(transparent)]
    Store(#[from] SynthStoreError),
}

/// What `accord generate` made (`--json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Generated {
    /// The party.
    pub party: String,
    /// The date its numbers are reproduced on.
    pub date: chrono::NaiveDate,
    /// The treaty.
    pub treaty: String,
    /// Always true: generated data.
    pub synthetic: bool,
    /// Where the numbers and the template come from.
    pub provenance: String,
    /// The registry directory.
    pub out: std::path::PathBuf,
    /// The seed.
    pub seed: u64,
    /// Items made.
    pub items: u64,
    /// Notifications made.
    pub notifications: u64,
    /// The aggregates on `date`, as the one compliance function counts them.
    pub aggregates: std::collections::BTreeMap<String, u64>,
}
