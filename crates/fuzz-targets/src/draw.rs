//! Draw transcripts (`accord draw verify FILE`).

use crate::fixtures::draw as fixed;
use crate::{invariant, text, Outcome};
use accord_draw::transcript::Keys;
use accord_draw::{parse_transcript, verify};

/// A draw's transcript, parsed and verified with the fixed draw's keys
/// (pinned from the keys it names, and as given).
///
/// Invariants: it writes back to JSON that parses to itself; the fixed
/// transcript verifies; a verified draw is the transcript's own seed and
/// picks, and the transcript names the pinned keys.
pub fn draw_transcript(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let Ok(tr) = parse_transcript(t) else {
        return Outcome::Rejected;
    };
    let json = serde_json::to_string(&tr).unwrap_or_default();
    let again = parse_transcript(&json);
    invariant(again.as_ref().is_ok_and(|a| *a == tr), || {
        format!("{json} parses back as {again:?}")
    });
    let f = fixed();
    let pinned = [
        f.keys.checking().clone(),
        f.keys.checked().clone(),
        f.keys.witness().clone(),
    ];
    if let Ok(keys) = Keys::pin(&tr.keys, &pinned) {
        invariant(keys == f.keys, || format!("pinned as {keys:?}"));
    }
    let verdict = verify(&tr, &f.keys);
    if tr == f.transcript {
        invariant(verdict.is_ok(), || {
            format!("the fixed draw fails: {verdict:?}")
        });
    }
    if let Ok(v) = &verdict {
        invariant(
            v.seed() == tr.draw.seed && v.picks() == tr.draw.picks,
            || format!("verified as seed {} picks {:?}", v.seed(), v.picks()),
        );
        invariant(Keys::pin(&tr.keys, &pinned).is_ok(), || {
            "verified a transcript naming other keys".into()
        });
    }
    Outcome::of(verdict.is_ok())
}
