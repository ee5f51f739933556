//! What is logged and what is hashed: the purpose of a draw, its rule, the
//! secret and its commitment, the population and its digest, and the three
//! log entries (commitment, population, reveal). Every byte string hashed
//! here is spelled out next to the function that hashes it.

use crate::{hex, unhex32, DrawError};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use zeroize::Zeroize;

/// The format version of transcripts and entries.
pub const VERSION: &str = "accord-draw/v1";

/// Longest draw identifier, site name or item identifier, in bytes.
pub const MAX_NAME: usize = 200;

/// Most sites or items in one population.
pub const MAX_POPULATION: usize = 10_000_000;

/// Most site draws in one draw, and most items drawn in all
/// (`sites × items_per_site`): a verifier's work stays bounded whatever a
/// transcript says.
pub const MAX_DRAWS: u64 = 1_000_000;

/// A party and the origin of its log (also the name of its log key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyLog {
    /// The party, e.g. `US`.
    pub party: String,
    /// Its log's origin, e.g. `accord/new-start-2021/US`.
    pub log: String,
}

/// What a draw is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrawKind {
    /// An inspection: sites, then items within each drawn site.
    Inspection,
    /// A freeze challenge: sites of a declaration to disclose.
    FreezeChallenge,
}

impl DrawKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            DrawKind::Inspection => "inspection",
            DrawKind::FreezeChallenge => "freeze_challenge",
        }
    }
}

/// How the draw is made from the seed, fixed by the commitment (so before
/// the population exists, and before anyone knows the seed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// How many site draws.
    pub sites: u32,
    /// Whether a site can be drawn again (inspections: yes; challenges: no).
    pub replacement: bool,
    /// Integer weights by site name (an optimal inspection plan); absent:
    /// every site weighs 1. A population site with no weight weighs 0;
    /// weights of sites not in the population are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<BTreeMap<String, u64>>,
    /// Items drawn (distinct) within each drawn site; all of them when the
    /// site holds fewer.
    pub items_per_site: u32,
    /// Seconds after the witness cosigned the population's checkpoint by
    /// which the reveal must be cosigned (later is a finding against the
    /// checking party).
    pub reveal_within: u64,
    /// Seconds after the witness cosigned the commitment by which the
    /// checked party must deliver its sealed population (later is a finding
    /// against it).
    pub populate_within: u64,
}

/// One day, the default for both deadlines.
pub const DAY: u64 = 86_400;

impl Rule {
    /// `k` distinct sites, uniformly, no items (a freeze challenge).
    pub fn distinct_sites(k: u32) -> Rule {
        Rule {
            sites: k,
            replacement: false,
            weights: None,
            items_per_site: 0,
            reveal_within: DAY,
            populate_within: DAY,
        }
    }

    /// `k` site draws with replacement by integer weights, and
    /// `items_per_site` items within each (an inspection plan).
    pub fn weighted(k: u32, weights: BTreeMap<String, u64>, items_per_site: u32) -> Rule {
        Rule {
            sites: k,
            replacement: true,
            weights: Some(weights),
            items_per_site,
            reveal_within: DAY,
            populate_within: DAY,
        }
    }

    /// Integer weights from probabilities: `round(p · scale)` each (the
    /// conversion happens once, before the commitment; the integers are what
    /// is committed and drawn from). Negative or non-finite probabilities
    /// weigh 0.
    pub fn weights_from_probabilities<'a>(
        probabilities: impl IntoIterator<Item = (&'a str, f64)>,
        scale: u64,
    ) -> BTreeMap<String, u64> {
        probabilities
            .into_iter()
            .map(|(s, p)| {
                let w = if p.is_finite() && p > 0.0 {
                    (p * scale as f64).round().min(u64::MAX as f64 / 2.0) as u64
                } else {
                    0
                };
                (s.to_string(), w)
            })
            .collect()
    }
}

/// The purpose of a draw: who checks whom, for what, and how the draw is
/// made. Committed to (as RFC 8785 JSON) before the population exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    /// A unique identifier of this draw, e.g.
    /// `new-start-2021/2020-09-15/type_one/US-inspects-RU` (no whitespace).
    pub draw: String,
    /// Inspection or freeze challenge.
    pub kind: DrawKind,
    /// The party that checks (commits, then reveals).
    pub checking: PartyLog,
    /// The party that is checked (fixes the population).
    pub checked: PartyLog,
    /// How the draw is made.
    pub rule: Rule,
}

/// Whether every byte is printable ASCII other than space (0x21–0x7E),
/// eight bytes at a time: for a word `w` of ASCII bytes (no high bit), a
/// byte `b` is at least 0x21 exactly when `b + 0x5F` has its high bit set,
/// and is 0x7F exactly when `b + 0x01` has it (neither addition carries
/// into the next byte, since `b ≤ 0x7F`).
pub(crate) fn graphic_ascii(b: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word_ok = |w: u64| {
        w & HIGH == 0
            && w.wrapping_add(0x5F5F_5F5F_5F5F_5F5F) & HIGH == HIGH
            && w.wrapping_add(0x0101_0101_0101_0101) & HIGH == 0
    };
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        if !word_ok(u64::from_le_bytes(a)) {
            return false;
        }
    }
    let rest = chunks.remainder();
    let mut a = [b'A'; 8];
    a[..rest.len()].copy_from_slice(rest);
    word_ok(u64::from_le_bytes(a))
}

pub(crate) fn check_name(what: &'static str, s: &str) -> Result<(), DrawError> {
    // Printable ASCII without space is the common case: checked a word at
    // a time.
    let ascii = graphic_ascii(s.as_bytes());
    if s.is_empty()
        || s.len() > MAX_NAME
        || (!ascii && s.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(DrawError::Name {
            what,
            name: s.chars().take(MAX_NAME).collect(),
        });
    }
    Ok(())
}

/// Checks a draw identifier as the protocol does: 1 to 200 bytes, no
/// whitespace or control characters (a log entry of another party names
/// its draw with one; a node files the draw under it).
pub fn check_draw_id(id: &str) -> Result<(), DrawError> {
    check_name("draw identifier", id)
}

impl Purpose {
    /// Checks the identifiers and the rule's shape.
    pub fn check(&self) -> Result<(), DrawError> {
        check_name("draw identifier", &self.draw)?;
        for p in [&self.checking, &self.checked] {
            check_name("party", &p.party)?;
            check_name("log origin", &p.log)?;
        }
        if self.checking.party == self.checked.party || self.checking.log == self.checked.log {
            return Err(DrawError::SameParty {
                party: self.checking.party.clone(),
            });
        }
        if let Some(w) = &self.rule.weights {
            for name in w.keys() {
                check_name("weighted site", name)?;
            }
        }
        let items = u64::from(self.rule.sites) * u64::from(self.rule.items_per_site);
        if u64::from(self.rule.sites) > MAX_DRAWS || items > MAX_DRAWS {
            return Err(DrawError::Undrawable {
                problem: crate::Undrawable::TooManyDraws {
                    sites: self.rule.sites,
                    items_per_site: self.rule.items_per_site,
                },
            });
        }
        Ok(())
    }

    /// RFC 8785 bytes of the purpose.
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        let party = |out: &mut Vec<u8>, p: &PartyLog| {
            out.extend_from_slice(b"{\"log\":");
            json_str(out, &p.log);
            out.extend_from_slice(b",\"party\":");
            json_str(out, &p.party);
            out.push(b'}');
        };
        out.extend_from_slice(b"{\"checked\":");
        party(out, &self.checked);
        out.extend_from_slice(b",\"checking\":");
        party(out, &self.checking);
        out.extend_from_slice(b",\"draw\":");
        json_str(out, &self.draw);
        out.extend_from_slice(b",\"kind\":\"");
        out.extend_from_slice(self.kind.as_str().as_bytes());
        let r = &self.rule;
        out.extend_from_slice(b"\",\"rule\":{\"items_per_site\":");
        json_u64(out, u64::from(r.items_per_site));
        out.extend_from_slice(b",\"populate_within\":");
        json_u64(out, r.populate_within);
        out.extend_from_slice(b",\"replacement\":");
        out.extend_from_slice(if r.replacement { b"true" } else { b"false" });
        out.extend_from_slice(b",\"reveal_within\":");
        json_u64(out, r.reveal_within);
        out.extend_from_slice(b",\"sites\":");
        json_u64(out, u64::from(r.sites));
        if let Some(w) = &r.weights {
            out.extend_from_slice(b",\"weights\":{");
            // RFC 8785 sorts keys by UTF-16 code units, not UTF-8 bytes.
            let mut keys: Vec<(&String, &u64)> = w.iter().collect();
            keys.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            for (i, (k, v)) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_str(out, k);
                out.push(b':');
                json_u64(out, *v);
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"}}");
    }
}

/// An RFC 8785 string: serde_json's escaping is RFC 8785's (`"`, `\\`, and
/// the C0 controls; everything else as it is), and a string with nothing
/// to escape is written as it is.
fn json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// An integer, as RFC 8785 writes it (every u64 here is below 2^53 or
/// exact in decimal: the entries hold counts, indices and seconds).
fn json_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(n.to_string().as_bytes());
}

/// The RFC 8785 bytes of a log entry: its leaf. Written directly (the
/// objects are fixed, their keys are written in sorted order) and checked
/// against `serde_json_canonicalizer` by a property test.
pub trait Canonical {
    /// The bytes.
    fn canonical(&self) -> Vec<u8>;
}

impl Canonical for CommitmentEntry {
    fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(384);
        out.extend_from_slice(b"{\"commitment\":");
        json_str(&mut out, &self.commitment);
        out.extend_from_slice(b",\"entry\":");
        json_str(&mut out, self.entry.as_str());
        out.extend_from_slice(b",\"purpose\":");
        self.purpose.write(&mut out);
        out.push(b'}');
        out
    }
}

impl Canonical for PopulationEntry {
    fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(320);
        out.extend_from_slice(b"{\"commitment\":");
        json_str(&mut out, &self.commitment);
        out.extend_from_slice(b",\"draw\":");
        json_str(&mut out, &self.draw);
        out.extend_from_slice(b",\"entry\":");
        json_str(&mut out, self.entry.as_str());
        out.extend_from_slice(b",\"items\":");
        json_u64(&mut out, self.items);
        out.extend_from_slice(b",\"population\":");
        json_str(&mut out, &self.population);
        out.extend_from_slice(b",\"sites\":");
        json_u64(&mut out, self.sites);
        if let Some(s) = &self.subject {
            out.extend_from_slice(b",\"subject\":");
            json_str(&mut out, s);
        }
        out.push(b'}');
        out
    }
}

impl Canonical for RevealEntry {
    fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"{\"draw\":");
        json_str(&mut out, &self.draw);
        out.extend_from_slice(b",\"entry\":");
        json_str(&mut out, self.entry.as_str());
        out.extend_from_slice(b",\"seal\":");
        json_str(&mut out, &self.seal);
        out.extend_from_slice(b",\"secret\":");
        json_str(&mut out, &self.secret);
        out.push(b'}');
        out
    }
}

/// A fresh 256-bit secret of the checking party: wiped when dropped, never
/// printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret([u8; 32]);

impl Secret {
    /// A fresh secret from a CSPRNG.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Secret {
        let mut s = [0u8; 32];
        rng.fill_bytes(&mut s);
        Secret(s)
    }

    /// From bytes (tests, and a node restoring its state).
    pub fn from_bytes(b: [u8; 32]) -> Secret {
        Secret(b)
    }

    /// From 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Secret> {
        unhex32(s).map(Secret)
    }

    /// 64 lower-case hex digits (what the reveal logs).
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(withheld)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

fn put(h: &mut Sha256, b: &[u8]) {
    h.update((b.len() as u32).to_be_bytes());
    h.update(b);
}

/// The commitment to a secret:
///
/// ```text
/// SHA-256( "accord-draw/v1/commitment" 0x00
///          ‖ u32be(|P|) ‖ P        P = RFC 8785 JSON of the purpose
///          ‖ u32be(|c|) ‖ c        c = the checking party's name (UTF-8)
///          ‖ u32be(|d|) ‖ d        d = the checked party's name
///          ‖ secret                32 bytes )
/// ```
///
/// Hiding (the secret is 256 random bits) and binding (SHA-256 collision
/// resistance); the purpose and the parties are inside, so a commitment made
/// for one draw opens no other.
pub fn commitment(purpose: &Purpose, secret: &Secret) -> Result<[u8; 32], DrawError> {
    let p = purpose.canonical();
    let mut h = Sha256::new();
    h.update(b"accord-draw/v1/commitment\0");
    put(&mut h, &p);
    put(&mut h, purpose.checking.party.as_bytes());
    put(&mut h, purpose.checked.party.as_bytes());
    h.update(secret.0);
    Ok(h.finalize().into())
}

/// A site of the population and its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSite {
    /// The site.
    pub site: String,
    /// Its items (sorted, unique); empty for a freeze challenge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}

/// The population a draw is made over: sites, sorted and unique, each with
/// its items, sorted and unique. Sorting makes it canonical: the same set
/// always has the same digest and gives the same draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// The sites.
    pub sites: Vec<PopulationSite>,
}

impl Population {
    /// Sites with no items (a freeze challenge over a declaration's sites),
    /// sorted.
    pub fn of_sites<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Population {
        let mut sites: Vec<PopulationSite> = names
            .into_iter()
            .map(|s| PopulationSite {
                site: s.as_ref().to_string(),
                items: vec![],
            })
            .collect();
        sites.sort_by(|a, b| a.site.cmp(&b.site));
        Population { sites }
    }

    /// Sites with their items; both sorted here.
    pub fn of_items(sites: impl IntoIterator<Item = (String, Vec<String>)>) -> Population {
        let mut sites: Vec<PopulationSite> = sites
            .into_iter()
            .map(|(site, mut items)| {
                items.sort();
                PopulationSite { site, items }
            })
            .collect();
        sites.sort_by(|a, b| a.site.cmp(&b.site));
        Population { sites }
    }

    /// The number of items in all.
    pub fn items(&self) -> u64 {
        self.sites.iter().map(|s| s.items.len() as u64).sum()
    }

    /// Checks the population is canonical: 1 to 10,000,000 sites and items,
    /// names of 1 to 200 bytes without whitespace, sites and each site's
    /// items strictly increasing (so unique: an item listed twice would be
    /// drawn twice as often).
    pub fn check(&self) -> Result<(), DrawError> {
        self.checked_digest().map(|_| ())
    }

    /// The digest the population entry logs:
    ///
    /// ```text
    /// SHA-256( "accord-draw/v1/population" 0x00 ‖ u32be(number of sites)
    ///          ‖ for each site: u8(|name|) ‖ name ‖ u32be(number of items)
    ///                           ‖ for each item: u8(|id|) ‖ id )
    /// ```
    ///
    /// (names are at most 200 bytes, so one length byte is enough and the
    /// encoding is injective). A population that is not canonical has a
    /// digest too; [`Population::checked_digest`] refuses it.
    pub fn digest(&self) -> [u8; 32] {
        self.walk(false).unwrap_or_default()
    }

    /// [`Population::check`] and [`Population::digest`] in one pass.
    pub fn checked_digest(&self) -> Result<[u8; 32], DrawError> {
        use crate::PopulationProblem as P;
        if self.sites.is_empty() {
            return Err(DrawError::Population { problem: P::Empty });
        }
        if self.sites.len() > MAX_POPULATION || self.items() > MAX_POPULATION as u64 {
            return Err(DrawError::Population {
                problem: P::TooLarge,
            });
        }
        self.walk(true)
    }

    /// Hashes the names in digest order; with `checked`, checks each name
    /// and the order on the way (the hot loop of a verification: items are
    /// checked bytewise, and only a site with a non-ASCII item name is
    /// checked again character by character).
    fn walk(&self, checked: bool) -> Result<[u8; 32], DrawError> {
        use crate::PopulationProblem as P;
        let mut h = Sha256::new();
        h.update(b"accord-draw/v1/population\0");
        h.update((self.sites.len() as u32).to_be_bytes());
        // One buffer, hashed in large updates: the population is the one
        // big input of a verification.
        let mut buf = Vec::with_capacity(64 * 1024);
        let put = |buf: &mut Vec<u8>, s: &[u8]| {
            buf.push(s.len().min(255) as u8);
            buf.extend_from_slice(s);
        };
        for (i, s) in self.sites.iter().enumerate() {
            if checked {
                check_name("site", &s.site)?;
                if i > 0 && self.sites[i - 1].site >= s.site {
                    return Err(DrawError::Population {
                        problem: P::SitesNotSorted {
                            site: s.site.clone(),
                        },
                    });
                }
            }
            put(&mut buf, s.site.as_bytes());
            buf.extend_from_slice(&(s.items.len() as u32).to_be_bytes());
            let mut ascii = true;
            let mut prev: &[u8] = &[];
            for (j, it) in s.items.iter().enumerate() {
                let b = it.as_bytes();
                if checked {
                    if b.is_empty() || b.len() > MAX_NAME {
                        check_name("item", it)?;
                    }
                    ascii &= graphic_ascii(b);
                    if j > 0 && prev >= b {
                        return Err(DrawError::Population {
                            problem: P::ItemsNotSorted {
                                site: s.site.clone(),
                                item: it.clone(),
                            },
                        });
                    }
                    prev = b;
                }
                put(&mut buf, b);
                if buf.len() >= 60 * 1024 {
                    h.update(&buf);
                    buf.clear();
                }
            }
            if checked && !ascii {
                for it in &s.items {
                    check_name("item", it)?;
                }
            }
        }
        h.update(&buf);
        Ok(h.finalize().into())
    }
}

/// Which entry of the protocol a log entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    /// The checking party's commitment.
    #[serde(rename = "accord-draw/v1/commitment")]
    Commitment,
    /// The checked party's population.
    #[serde(rename = "accord-draw/v1/population")]
    Population,
    /// The checking party's reveal.
    #[serde(rename = "accord-draw/v1/reveal")]
    Reveal,
}

impl EntryKind {
    /// The name, as logged.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Commitment => "accord-draw/v1/commitment",
            EntryKind::Population => "accord-draw/v1/population",
            EntryKind::Reveal => "accord-draw/v1/reveal",
        }
    }
}

/// Logged by the checking party, in its own log, before the population
/// exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentEntry {
    /// `accord-draw/v1/commitment`.
    pub entry: EntryKind,
    /// What is drawn, and how.
    pub purpose: Purpose,
    /// [`commitment`], hex.
    pub commitment: String,
}

/// Logged by the checked party, in its own log, after it has seen the
/// commitment (which it quotes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationEntry {
    /// `accord-draw/v1/population`.
    pub entry: EntryKind,
    /// The draw identifier.
    pub draw: String,
    /// The commitment it answers, hex (so this entry cannot predate it).
    pub commitment: String,
    /// [`Population::digest`], hex.
    pub population: String,
    /// Sites in the population.
    pub sites: u64,
    /// Items in the population.
    pub items: u64,
    /// What the population is of, e.g. the SHA-256 of a freeze declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Logged by the checking party, in its own log, after the population's
/// checkpoint is cosigned and sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealEntry {
    /// `accord-draw/v1/reveal`.
    pub entry: EntryKind,
    /// The draw identifier.
    pub draw: String,
    /// The secret, hex.
    pub secret: String,
    /// SHA-256 of the checked party's seal (the whole signed note), hex: the
    /// reveal answers that population checkpoint and cosignature, no other.
    pub seal: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pop(items: &[&str]) -> Population {
        Population {
            sites: vec![PopulationSite {
                site: "S".into(),
                items: items.iter().map(|s| s.to_string()).collect(),
            }],
        }
    }

    #[test]
    fn graphic_ascii_is_0x21_to_0x7e() {
        for b in 0..=255u8 {
            for len in [1usize, 7, 8, 9, 16, 17] {
                for pos in [0, len - 1, len / 2] {
                    let mut v = vec![b'm'; len];
                    v[pos] = b;
                    assert_eq!(
                        graphic_ascii(&v),
                        (0x21..=0x7e).contains(&b),
                        "{b:#x} {len} {pos}"
                    );
                }
            }
        }
        assert!(graphic_ascii(b""));
    }

    #[test]
    fn names_are_printable_and_items_unique() {
        assert!(pop(&["a", "b", "é-1"]).check().is_ok());
        for bad in [
            &["a b"][..],
            &["a\u{9b}[31m"],
            &["x\u{85}"],
            &[""],
            &["b", "a"],
            &["a", "a"],
        ] {
            assert!(pop(bad).check().is_err(), "{bad:?}");
        }
        let long = "x".repeat(201);
        assert!(pop(&[&long]).check().is_err());
        assert!(pop(&[&"x".repeat(200)]).check().is_ok());
        // The digest is of the order given: a different list, a different digest.
        assert_ne!(pop(&["a", "b"]).digest(), pop(&["ab"]).digest());
        assert_ne!(pop(&["a", "b"]).digest(), pop(&["b", "a"]).digest());
    }

    #[test]
    fn the_commitment_binds_the_purpose_and_the_secret() {
        let p = Purpose {
            draw: "d".into(),
            kind: DrawKind::FreezeChallenge,
            checking: PartyLog {
                party: "US".into(),
                log: "l/US".into(),
            },
            checked: PartyLog {
                party: "RU".into(),
                log: "l/RU".into(),
            },
            rule: Rule::distinct_sites(2),
        };
        let s = Secret::from_bytes([1; 32]);
        let c = commitment(&p, &s).expect("commitment");
        let mut q = p.clone();
        q.rule.sites = 3;
        assert_ne!(commitment(&q, &s).expect("c"), c);
        assert_ne!(commitment(&p, &Secret::from_bytes([2; 32])).expect("c"), c);
        assert_eq!(commitment(&p, &s).expect("c"), c);
        assert_eq!(format!("{s:?}"), "Secret(withheld)");
        assert_eq!(Secret::from_hex(&s.to_hex()), Some(s));
        assert!(
            Secret::from_hex(&"AB".repeat(32)).is_none(),
            "lower-case only"
        );
    }
}
