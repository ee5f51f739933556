//! The demo's keys: derived from a public seed, so a demo run is
//! reproducible (its signatures, and the randomness drawn from them). They
//! are not secret and must never sign anything real.

use accord_log::keys::{write_key_pair, KeyFiles};
use accord_log::Signer;
use anyhow::Result;
use std::path::{Path, PathBuf};

/// The demo key of a name and seed, without writing it.
pub(crate) fn demo_signer(name: &str, seed: u64) -> Result<Signer> {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(b"accord demo key, not secret\n");
    h.update(seed.to_be_bytes());
    h.update(name.as_bytes());
    Ok(Signer::from_seed(name, h.finalize().into())?)
}

/// Writes the demo key of a name and seed into `out`; its key file, its
/// verifier key file, and the signer.
pub(crate) fn demo_key(name: &str, out: &Path, seed: u64) -> Result<(PathBuf, PathBuf, Signer)> {
    let signer = demo_signer(name, seed)?;
    let KeyFiles { key, vkey } = write_key_pair(&signer, out)?;
    Ok((key, vkey, signer))
}
