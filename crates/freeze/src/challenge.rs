//! Which sites must be disclosed.
//!
//! [`challenge_sites`] takes them from a verified draw of the protocol in
//! `accord-draw`: the challenging party committed to a secret before the
//! declaring party fixed its site list in its log, so neither controls the
//! draw. [`challenge_population`] is the population the declaring party
//! logs for it.
//!
//! [`challenge_from_checkpoint`] draws them from one signed checkpoint of the
//! declaring party's log instead: anyone can recompute it, but the declaring
//! party writes that log and can grind it (see the notes).

use crate::declaration::{hex, VerifiedDeclaration};
use crate::{fail, Check, FreezeError};
use accord_draw::{DrawKind, Population, VerifiedDraw};
use accord_log::VerifiedCheckpoint;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A challenge and how it was drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Challenge {
    /// The draw it came from (the protocol's draw identifier), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draw: Option<String>,
    /// The seed (hex).
    pub seed: String,
    /// The sites drawn, in draw order.
    pub sites: Vec<String>,
}

/// The population of a challenge of `declaration`: its sites, and the
/// subject the population entry names (the declaration's digest).
pub fn challenge_population(declaration: &VerifiedDeclaration) -> (Population, String) {
    (
        Population::of_sites(declaration.site_names()),
        declaration.digest().to_string(),
    )
}

/// The sites a verified draw challenges in a verified declaration: the draw
/// must be a freeze challenge of this party, over exactly this
/// declaration's sites, with this declaration's digest as its subject.
pub fn challenge_sites(
    declaration: &VerifiedDeclaration,
    draw: &VerifiedDraw,
) -> Result<Challenge, FreezeError> {
    let no = |detail: String| Err(fail(Check::Challenge, detail));
    let p = draw.purpose();
    if p.kind != DrawKind::FreezeChallenge {
        return no(format!(
            "draw {} is an {}, not a freeze challenge",
            p.draw,
            p.kind.as_str()
        ));
    }
    if p.checked.party != declaration.party() {
        return no(format!(
            "draw {} checks {}, but the declaration is {}'s",
            p.draw,
            p.checked.party,
            declaration.party()
        ));
    }
    if draw.subject() != Some(declaration.digest()) {
        return no(format!(
            "draw {} is over the sites of declaration {}, not of {}",
            p.draw,
            draw.subject().unwrap_or("(none named)"),
            declaration.digest()
        ));
    }
    if !draw
        .population_sites()
        .iter()
        .map(String::as_str)
        .eq(declaration.site_names())
    {
        return no(format!(
            "draw {}'s population ({} sites) is not the declaration's site list ({} sites)",
            p.draw,
            draw.population_sites().len(),
            declaration.sites()
        ));
    }
    Ok(Challenge {
        draw: Some(p.draw.clone()),
        seed: draw.seed(),
        sites: draw.sites().map(str::to_string).collect(),
    })
}

/// Draws `count` distinct sites of a verified declaration from a verified
/// checkpoint: ChaCha20 seeded with SHA-256 of the checkpoint's note (every
/// signature line included, as it came), partial Fisher–Yates over the
/// sorted site list.
///
/// The declaring party controls that note (it writes the log it signs), so
/// it can grind this draw; use it only where both parties accept that, and
/// the draw protocol everywhere else.
pub fn challenge_from_checkpoint(
    declaration: &VerifiedDeclaration,
    checkpoint: &VerifiedCheckpoint,
    count: usize,
) -> Result<Challenge, FreezeError> {
    if count > declaration.sites() {
        return Err(fail(
            Check::Challenge,
            format!("{count} sites asked of {}", declaration.sites()),
        ));
    }
    let seed: [u8; 32] = Sha256::digest(checkpoint.note().to_text().as_bytes()).into();
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed);
    let mut names: Vec<String> = declaration.site_names().map(str::to_string).collect();
    for i in 0..count {
        let j = rng.gen_range(i..names.len());
        names.swap(i, j);
    }
    names.truncate(count);
    Ok(Challenge {
        draw: None,
        seed: hex(&seed),
        sites: names,
    })
}

/// The draw (or the checkpoint's seed), then a site a line.
impl std::fmt::Display for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.draw {
            Some(d) => writeln!(f, "draw {d}, seed {}", self.seed)?,
            None => writeln!(f, "seed SHA-256(checkpoint) = {}", self.seed)?,
        }
        for s in &self.sites {
            writeln!(f, "  {s}")?;
        }
        Ok(())
    }
}
