//! Fair challenges: which sites must be disclosed, drawn from a signed
//! checkpoint that includes the declaration (see the notes, goal 5).

use crate::declaration::Public;
use crate::FreezeError;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A challenge and how it was drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Challenge {
    /// SHA-256 of the checkpoint note (hex): the seed.
    pub seed: String,
    /// The sites drawn, in draw order.
    pub sites: Vec<String>,
}

/// Draws `count` distinct sites: ChaCha20 seeded with SHA-256 of the
/// checkpoint note, partial Fisher–Yates over the sorted site list.
pub fn challenge_sites(
    public: &Public,
    checkpoint_note: &str,
    count: usize,
) -> Result<Challenge, FreezeError> {
    if count > public.sites.len() {
        return Err(FreezeError::Input(format!(
            "{count} sites asked of {}",
            public.sites.len()
        )));
    }
    let seed: [u8; 32] = Sha256::digest(checkpoint_note.as_bytes()).into();
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed);
    let mut names: Vec<String> = public.sites.iter().map(|s| s.site.clone()).collect();
    for i in 0..count {
        let j = rng.gen_range(i..names.len());
        names.swap(i, j);
    }
    names.truncate(count);
    Ok(Challenge {
        seed: seed.iter().map(|b| format!("{b:02x}")).collect(),
        sites: names,
    })
}
