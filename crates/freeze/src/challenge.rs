//! Which sites must be disclosed.
//!
//! [`challenge_from_checkpoint`] draws them from one signed checkpoint of the
//! declaring party's log: anyone can recompute it, but the declaring party
//! writes that log and can grind it (see the notes). The draw protocol of
//! `accord-draw`, where the challenging party commits to a secret first, is
//! what a challenge should use.

use crate::declaration::{hex, VerifiedDeclaration};
use crate::{fail, Check, FreezeError};
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
