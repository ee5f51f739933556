//! A comparison as asked for: which proposals, from when, for how long, and
//! which starting registries or futures files replace the built-in ones.
//! `accord scenario compare` parses its flags into a [`Request`]; `accord
//! demo` asks for [`Request::builtin`].

use crate::data::{self, Futures};
use crate::force::Force;
use crate::{compare, Comparison, Loaded, ScenarioError, Start};
use accord_treaty::Treaty;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Most years a comparison projects.
pub const MAX_YEARS: u32 = 50;

/// What to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The date compared from.
    pub from: NaiveDate,
    /// Years to project (1 to [`MAX_YEARS`]).
    pub years: u32,
    /// Proposals (built-in ids or paths); empty: every built-in one.
    pub proposals: Vec<String>,
    /// Starting registries instead of generated ones: (party, directory).
    pub registries: Vec<(String, PathBuf)>,
    /// Futures files instead of the built-in ones: (party, file).
    pub futures: Vec<(String, String)>,
    /// Seed of the generated starting forces.
    pub seed: u64,
}

/// Why a request cannot be run (besides the comparison's own errors).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Years out of range.
    #[error("--years: 1 to {MAX_YEARS}")]
    Years,
    /// A `--registry` for a party no compared proposal binds.
    #[error("--registry {0}: no compared proposal binds {0}")]
    UnboundParty(String),
    /// A `--registry` that is another party's.
    #[error("--registry {party}={dir}: the registry is {actual}'s")]
    WrongParty {
        /// The party named.
        party: String,
        /// The directory.
        dir: String,
        /// The registry's party.
        actual: String,
    },
    /// A registry that cannot be read.
    #[error("--registry {party}={dir}: {source}")]
    Registry {
        /// The party.
        party: String,
        /// The directory.
        dir: String,
        /// What the store said.
        source: Box<accord_registry::StoreError>,
    },
    /// A generated starting force could not be made.
    #[error("{0}")]
    Start(String),
    /// The comparison failed.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A proposal or futures file.
    #[error(transparent)]
    Data(#[from] data::DataError),
}

impl Request {
    /// Every built-in proposal from `from`, on generated starting forces.
    pub fn builtin(from: NaiveDate, years: u32, seed: u64) -> Request {
        Request {
            from,
            years,
            proposals: vec![],
            registries: vec![],
            futures: vec![],
            seed,
        }
    }

    /// Loads everything asked for and compares.
    pub fn run(&self) -> Result<Comparison, RequestError> {
        if self.years == 0 || self.years > MAX_YEARS {
            return Err(RequestError::Years);
        }
        let ids: Vec<String> = if self.proposals.is_empty() {
            data::builtin_proposals()
                .into_iter()
                .map(String::from)
                .collect()
        } else {
            self.proposals.clone()
        };
        let proposals: Vec<Loaded> = ids
            .iter()
            .map(|id| Loaded::load(id))
            .collect::<Result<_, _>>()?;
        // Every party of every proposal, with the first treaty that lists it.
        let mut parties: BTreeMap<String, &Treaty> = BTreeMap::new();
        for p in &proposals {
            for party in p.parties() {
                parties.entry(party).or_insert(&p.treaty);
            }
        }
        let mut futures: BTreeMap<String, Futures> = BTreeMap::new();
        for (party, path) in &self.futures {
            futures.insert(party.clone(), data::load_futures(path)?);
        }
        for party in parties.keys() {
            if !futures.contains_key(party) {
                futures.insert(party.clone(), data::load_futures(party)?);
            }
        }
        let mut forces: BTreeMap<String, Start> = BTreeMap::new();
        for (party, dir) in &self.registries {
            let shown = dir.display().to_string();
            let treaty = parties
                .get(party)
                .ok_or_else(|| RequestError::UnboundParty(party.clone()))?;
            let store =
                accord_registry::Store::open(dir).map_err(|source| RequestError::Registry {
                    party: party.clone(),
                    dir: shown.clone(),
                    source: Box::new(source),
                })?;
            if &store.meta().party != party {
                return Err(RequestError::WrongParty {
                    party: party.clone(),
                    dir: shown,
                    actual: store.meta().party.clone(),
                });
            }
            let state =
                store
                    .state_on(treaty, self.from)
                    .map_err(|source| RequestError::Registry {
                        party: party.clone(),
                        dir: shown.clone(),
                        source: Box::new(source),
                    })?;
            let fut = futures
                .get(party)
                .ok_or_else(|| RequestError::Start(format!("{party}: no futures")))?;
            forces.insert(
                party.clone(),
                Start {
                    force: Force::from_state(treaty, &state, fut, self.from),
                    provenance: format!(
                        "registry {shown} on {} ({}{})",
                        self.from,
                        store.meta().provenance,
                        if store.meta().synthetic {
                            ", SYNTHETIC"
                        } else {
                            ""
                        }
                    ),
                    synthetic: store.meta().synthetic,
                },
            );
        }
        for (party, treaty) in &parties {
            if forces.contains_key(party) {
                continue;
            }
            let fut = futures
                .get(party)
                .ok_or_else(|| RequestError::Start(format!("{party}: no futures")))?;
            let s = crate::start::published(treaty, party, self.from, fut, self.seed)
                .map_err(RequestError::Start)?;
            forces.insert(party.clone(), s);
        }
        Ok(compare(&proposals, self.from, self.years, forces, futures)?)
    }
}
