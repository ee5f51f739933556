//! The freeze's published files: a declaration's public part and its
//! disclosures, as another party reads and verifies them.

use crate::fixtures::freeze as fixed;
use crate::{invariant, Outcome};
use accord_freeze::declaration::digest;
use accord_freeze::{verify, verify_disclosure, Disclosure, Public};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Reads JSON as `read_public` does, and checks it writes back to itself.
fn read<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(data: &[u8]) -> Option<T> {
    let v: T = serde_json::from_slice(data).ok()?;
    let json = serde_json::to_string(&v);
    let again = json
        .as_ref()
        .ok()
        .map(|j| serde_json::from_str::<T>(j).map_err(|e| e.to_string()));
    invariant(matches!(&again, Some(Ok(a)) if *a == v), || {
        format!("{json:?} reads back as {again:?}")
    });
    Some(v)
}

/// A declaration's public part (`public.json`), verified on its own and
/// as a freeze against the fixed baseline.
///
/// Invariants: it writes back to itself; the fixed declarations verify;
/// a verified declaration reports its own digest, party and cap.
pub fn freeze_public(data: &[u8]) -> Outcome {
    let Some(p) = read::<Public>(data) else {
        return Outcome::Rejected;
    };
    let f = fixed();
    let alone = verify(&p, None);
    let frozen = verify(&p, Some(&f.baseline.public));
    if p == f.baseline.public {
        invariant(alone.is_ok(), || format!("the baseline fails: {alone:?}"));
    }
    if p == f.frozen.public {
        invariant(frozen.is_ok(), || format!("the freeze fails: {frozen:?}"));
    }
    let mut ok = false;
    for v in [&alone, &frozen].into_iter().flatten() {
        invariant(
            v.digest == digest(&p) && v.party == p.party && v.cap == p.cap,
            || format!("verified as {v:?}"),
        );
        ok = true;
    }
    Outcome::of(ok)
}

/// A disclosure, verified against the fixed baseline with its earlier
/// disclosures, and against the frozen declaration (of which it is not).
///
/// Invariants: it writes back to itself; the fixed disclosures verify; a
/// verified disclosure counts the records it holds; none verifies against
/// another declaration.
pub fn freeze_disclosure(data: &[u8]) -> Outcome {
    let Some(d) = read::<Disclosure>(data) else {
        return Outcome::Rejected;
    };
    let f = fixed();
    let verdict = verify_disclosure(&f.baseline.public, &d, &f.disclosures);
    if f.disclosures.contains(&d) {
        invariant(verdict.is_ok(), || {
            format!("a fixed disclosure fails: {verdict:?}")
        });
    }
    if let Ok(v) = &verdict {
        invariant(v.records == d.records.len() as u64, || format!("{v:?}"));
    }
    let other = verify_disclosure(&f.frozen.public, &d, &[]);
    invariant(
        other.is_err() || d.declaration == digest(&f.frozen.public),
        || "a disclosure of the baseline verifies against the frozen declaration".into(),
    );
    Outcome::of(verdict.is_ok())
}
