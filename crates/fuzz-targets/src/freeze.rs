//! The freeze's published files: a declaration's public part and its
//! disclosures, as another party reads and verifies them.

use crate::fixtures::freeze as fixed;
use crate::{invariant, text, Outcome};
use accord_freeze::declaration::{digest, parse_public};
use accord_freeze::disclosure::parse_disclosure;
use accord_freeze::{verify, verify_disclosure};

/// A declaration's public part (`public.json`, read with `parse_public`),
/// verified on its own and as a freeze against the fixed baseline.
///
/// Invariants: it writes back to JSON that parses to itself; the fixed
/// declarations verify; a verified declaration reports its own digest,
/// party and cap.
pub fn freeze_public(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let Ok(p) = parse_public(t) else {
        return Outcome::Rejected;
    };
    let json = serde_json::to_string(&p).unwrap_or_default();
    let again = parse_public(&json);
    invariant(again.as_ref().is_ok_and(|a| *a == p), || {
        format!("{json} parses back as {again:?}")
    });
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
            v.digest() == digest(&p) && v.party() == p.party && v.cap() == p.cap,
            || format!("verified as {v:?}"),
        );
        ok = true;
    }
    Outcome::of(ok)
}

/// A disclosure (read with `parse_disclosure`), verified against the fixed
/// baseline with its earlier disclosures, and against the frozen
/// declaration (of which it is not).
///
/// Invariants: it writes back to JSON that parses to itself; the fixed
/// disclosures verify; a verified disclosure is of the baseline and counts
/// the records it holds; none verifies against another declaration.
pub fn freeze_disclosure(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let Ok(d) = parse_disclosure(t) else {
        return Outcome::Rejected;
    };
    let json = serde_json::to_string(&d).unwrap_or_default();
    let again = parse_disclosure(&json);
    invariant(again.as_ref().is_ok_and(|a| *a == d), || {
        format!("{json} parses back as {again:?}")
    });
    let f = fixed();
    let verdict = verify_disclosure(&f.verified_baseline, &d, &f.verified_disclosures);
    if f.disclosures.contains(&d) {
        invariant(verdict.is_ok(), || {
            format!("a fixed disclosure fails: {verdict:?}")
        });
    }
    if let Ok(v) = &verdict {
        invariant(
            v.count() == d.records.len() as u64 && v.declaration() == f.verified_baseline.digest(),
            || format!("verified as {v:?}"),
        );
    }
    let other = verify_disclosure(&f.verified_frozen, &d, &[]);
    invariant(
        other.is_err() || d.declaration == f.verified_frozen.digest(),
        || "a disclosure of the baseline verifies against the frozen declaration".into(),
    );
    Outcome::of(verdict.is_ok())
}
