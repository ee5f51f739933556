//! Declaring, proving and verifying (see the notes for the construction).

use crate::records::{Category, Record};
use crate::{fail, Check, FreezeError, Refusal};
use accord_log::merkle::{Compact, Hash};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use merlin::Transcript;
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

/// The format version of public parts, secrets and disclosures.
///
/// `v2` added the per-category commitments and the category index of every
/// leaf; a `v1` file is refused with [`FreezeError::Version`].
pub const VERSION: &str = "accord-freeze/v2";
/// The prefix of every leaf's data (the version, NUL-terminated).
pub const LEAF_PREFIX: &[u8; 17] = b"accord-freeze/v2\0";
/// Bits of every range proof: counts and differences lie in `[0, 2^32)`.
pub const BITS: usize = 32;
/// Site index of a dummy leaf.
pub const DUMMY_SITE: u32 = u32::MAX;
/// Category index of a dummy leaf.
pub const DUMMY_CATEGORY: u8 = u8::MAX;

/// A site, the commitment to its count, and the commitments to the count of
/// each category there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicSite {
    /// Site name.
    pub site: String,
    /// `C_s = Com(c_s, γ_s)`, compressed Ristretto, base64; the verifier
    /// checks that it is the sum of the four category commitments.
    pub commitment: String,
    /// `C_{s,k} = Com(c_{s,k}, γ_{s,k})` for each category `k`.
    pub categories: CategoryCommitments,
}

/// The four category commitments of a site (compressed Ristretto, base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryCommitments {
    /// `deployed_strategic`.
    pub deployed_strategic: String,
    /// `non_deployed_strategic`.
    pub non_deployed_strategic: String,
    /// `non_strategic`.
    pub non_strategic: String,
    /// `awaiting_dismantlement`.
    pub awaiting_dismantlement: String,
}

impl CategoryCommitments {
    /// The commitment of one category.
    pub fn get(&self, c: Category) -> &str {
        match c {
            Category::DeployedStrategic => &self.deployed_strategic,
            Category::NonDeployedStrategic => &self.non_deployed_strategic,
            Category::NonStrategic => &self.non_strategic,
            Category::AwaitingDismantlement => &self.awaiting_dismantlement,
        }
    }

    fn from_fn(mut f: impl FnMut(Category) -> String) -> CategoryCommitments {
        CategoryCommitments {
            deployed_strategic: f(Category::DeployedStrategic),
            non_deployed_strategic: f(Category::NonDeployedStrategic),
            non_strategic: f(Category::NonStrategic),
            awaiting_dismantlement: f(Category::AwaitingDismantlement),
        }
    }
}

/// An aggregated range proof and the commitments it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapProof {
    /// The proof, base64.
    pub proof: String,
    /// `[C_0..C_{S-1}, cap·B − ΣC_s, identity…]`, base64.
    pub commitments: Vec<String>,
}

/// The baseline a freeze proof refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineRef {
    /// SHA-256 of the baseline's public part (hex).
    pub digest: String,
    /// Its date.
    pub date: String,
}

/// A single range proof that the baseline total minus this total is in `[0, 2^32)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeProof {
    /// The proof, base64.
    pub proof: String,
    /// `ΣC'_s − ΣC_s`, base64.
    pub commitment: String,
}

/// The public part of a declaration: safe to publish and to log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Public {
    /// `accord-freeze/v2`.
    pub version: String,
    /// The declaring party.
    pub party: String,
    /// The treaty.
    pub treaty: String,
    /// As-of date.
    pub date: String,
    /// The log checkpoint the proofs are bound to (signed note text), if any.
    pub checkpoint: Option<String>,
    /// Merkle root of the salted leaves, base64.
    pub root: String,
    /// Leaves, dummies included (a public bound on the number of records).
    pub padded_size: u64,
    /// Sites, sorted, with their count commitments (by site and by category).
    pub sites: Vec<PublicSite>,
    /// The cap the total is proven not to exceed.
    pub cap: u64,
    /// The cap proof.
    pub cap_proof: CapProof,
    /// The baseline, for a freeze.
    pub baseline: Option<BaselineRef>,
    /// The freeze proof.
    pub freeze_proof: Option<FreezeProof>,
}

/// A 256-bit salt: hex in files, bytes in memory, wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Salt(pub [u8; 32]);

impl Salt {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Salt(withheld)")
    }
}

impl Drop for Salt {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Serialize for Salt {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut h = self.to_hex();
        let r = s.serialize_str(&h);
        h.zeroize();
        r
    }
}

impl<'de> Deserialize<'de> for Salt {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Salt, D::Error> {
        let mut h = String::deserialize(d)?;
        let b = unhex32(&h).ok_or_else(|| serde::de::Error::custom("a salt is 64 hex digits"));
        h.zeroize();
        b.map(Salt)
    }
}

/// One record as the declaring party keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRecord {
    /// Leaf index.
    pub index: u64,
    /// Salt.
    pub salt: Salt,
    /// The record.
    pub record: Record,
}

/// A site as the declaring party keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSite {
    /// Site name.
    pub site: String,
    /// Its count `c_s`.
    pub count: u64,
    /// First leaf index.
    pub start: u64,
    /// Blinding `γ_s = Σ_k γ_{s,k}`, base64 scalar.
    pub blinding: String,
    /// Its four category ranges, in [`Category::ALL`] order.
    pub categories: Vec<SecretRange>,
}

/// One category's range at a site, as the declaring party keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRange {
    /// The category.
    pub category: Category,
    /// Its count `c_{s,k}`.
    pub count: u64,
    /// First leaf index (where the range would start when it is empty).
    pub start: u64,
    /// Blinding `γ_{s,k}`, base64 scalar.
    pub blinding: String,
}

/// The secret part: never published, wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// SHA-256 of the public part this belongs to (hex).
    pub declaration: String,
    /// The records, by leaf index.
    pub records: Vec<SecretRecord>,
    /// The sites, sorted.
    pub sites: Vec<SecretSite>,
    /// Dummy leaves: (index, salt).
    pub dummies: Vec<(u64, Salt)>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Secret({} records, {} sites, contents withheld)",
            self.records.len(),
            self.sites.len()
        )
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Salts wipe themselves; blindings are strings.
        for s in &mut self.sites {
            s.blinding.zeroize();
            for c in &mut s.categories {
                c.blinding.zeroize();
            }
        }
    }
}

/// A declaration: what is published, and what is kept.
#[derive(Debug)]
pub struct Declaration {
    /// Public part.
    pub public: Public,
    /// Secret part.
    pub secret: Secret,
}

/// A declaration whose proofs verified. Only [`verify`] makes one, and the
/// functions that rely on a verified declaration (disclosures, challenges)
/// take one.
///
/// It cannot be built by hand:
///
/// ```compile_fail,E0451
/// let v = accord_freeze::VerifiedDeclaration {
///     public: todo!(),
///     digest: String::new(),
///     freeze: true,
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDeclaration {
    public: Public,
    digest: String,
    freeze: bool,
}

impl VerifiedDeclaration {
    /// The public part that verified.
    pub fn public(&self) -> &Public {
        &self.public
    }

    /// SHA-256 (hex) of the RFC 8785 form of the public part.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The declaring party.
    pub fn party(&self) -> &str {
        &self.public.party
    }

    /// The number of sites.
    pub fn sites(&self) -> usize {
        self.public.sites.len()
    }

    /// The site names, sorted (site index order).
    pub fn site_names(&self) -> impl Iterator<Item = &str> {
        self.public.sites.iter().map(|s| s.site.as_str())
    }

    /// The proven bound on the total.
    pub fn cap(&self) -> u64 {
        self.public.cap
    }

    /// Whether a freeze against a baseline was proven too.
    pub fn freeze(&self) -> bool {
        self.freeze
    }
}

impl Serialize for VerifiedDeclaration {
    /// `{digest, party, sites, cap, freeze}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            digest: &'a str,
            party: &'a str,
            sites: usize,
            cap: u64,
            freeze: bool,
        }
        View {
            digest: &self.digest,
            party: &self.public.party,
            sites: self.public.sites.len(),
            cap: self.public.cap,
            freeze: self.freeze,
        }
        .serialize(s)
    }
}

/// Parses a public part, reading its `version` first (an older format gets
/// [`FreezeError::Version`], not a missing-field error) and naming the field
/// at fault otherwise.
pub fn parse_public(text: &str) -> Result<Public, FreezeError> {
    check_version(text)?;
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        FreezeError::Input(format!(
            "not a declaration's public part: field `{}`: {}",
            e.path(),
            e.inner()
        ))
    })
}

/// Reads the `version` of a JSON file of the freeze before anything else.
pub(crate) fn check_version(text: &str) -> Result<(), FreezeError> {
    #[derive(Deserialize)]
    struct Versioned {
        version: Option<serde_json::Value>,
    }
    let v: Versioned =
        serde_json::from_str(text).map_err(|e| FreezeError::Input(format!("not JSON: {e}")))?;
    match v.version {
        Some(serde_json::Value::String(s)) if s == VERSION => Ok(()),
        Some(serde_json::Value::String(s)) => Err(FreezeError::Version { found: s }),
        Some(other) => Err(FreezeError::Input(format!(
            "field `version`: {other} is not a string"
        ))),
        None => Err(FreezeError::Input("field `version` is missing".into())),
    }
}

/// SHA-256 (hex) of the RFC 8785 form of a public part.
pub fn digest(p: &Public) -> String {
    let bytes = serde_json_canonicalizer::to_vec(p).unwrap_or_default();
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `H("accord-freeze/record/v1" ‖ σ ‖ canonical record)`.
pub fn record_hash(salt: &[u8; 32], r: &Record) -> Hash {
    record_hash_with(salt, r, &mut Vec::new())
}

/// [`record_hash`] with a reused buffer for the canonical record.
pub fn record_hash_with(salt: &[u8; 32], r: &Record, buf: &mut Vec<u8>) -> Hash {
    r.canonical_into(buf);
    let mut h = Sha256::new();
    h.update(b"accord-freeze/record/v1");
    h.update(salt);
    h.update(&buf[..]);
    h.finalize().into()
}

/// `H("accord-freeze/dummy/v1" ‖ σ)`.
pub fn dummy_hash(salt: &[u8; 32]) -> Hash {
    let mut h = Sha256::new();
    h.update(b"accord-freeze/dummy/v1");
    h.update(salt);
    h.finalize().into()
}

/// Leaf data: `"accord-freeze/v2\0" ‖ u32 BE site index ‖ u8 category
/// index ‖ ρ` (54 bytes). A dummy's indices are [`DUMMY_SITE`] and
/// [`DUMMY_CATEGORY`].
pub fn leaf_data(site_index: u32, category_index: u8, rho: &Hash) -> [u8; 54] {
    let mut v = [0u8; 54];
    v[..17].copy_from_slice(LEAF_PREFIX);
    v[17..21].copy_from_slice(&site_index.to_be_bytes());
    v[21] = category_index;
    v[22..].copy_from_slice(rho);
    v
}

pub(crate) fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

pub(crate) fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

pub(crate) fn scalar_b64(s: &Scalar) -> String {
    B64.encode(s.as_bytes())
}

pub(crate) fn scalar_from_b64(s: &str) -> Option<Scalar> {
    let b: [u8; 32] = B64.decode(s).ok()?.try_into().ok()?;
    Option::from(Scalar::from_canonical_bytes(b))
}

pub(crate) fn point(
    s: &str,
    what: impl Fn() -> Check,
) -> Result<(CompressedRistretto, RistrettoPoint), FreezeError> {
    let b: [u8; 32] = B64
        .decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| fail(what(), "not a base64 32-byte point"))?;
    let c = CompressedRistretto(b);
    let p = c
        .decompress()
        .ok_or_else(|| fail(what(), "not a valid Ristretto point"))?;
    Ok((c, p))
}

/// The RFC 9162 root of `leaves` (leaf hashes). A power-of-two tree splits
/// into two perfect halves, hashed on two threads (RFC 9162 splits at the
/// largest power of two below the size, which is the half).
fn tree_root(leaves: &[Hash]) -> Hash {
    let fold = |part: &[Hash]| {
        let mut c = Compact::new();
        for h in part {
            c.push(*h, |_, _, _| {});
        }
        c.root()
    };
    let n = leaves.len();
    if n >= 1 << 12 && n.is_power_of_two() {
        let (a, b) = leaves.split_at(n / 2);
        let (ra, rb) = std::thread::scope(|s| {
            let ha = s.spawn(|| fold(a));
            let rb = fold(b);
            (ha.join(), rb)
        });
        match ra {
            Ok(ra) => accord_log::merkle::node_hash(&ra, &rb),
            Err(_) => fold(leaves),
        }
    } else {
        fold(leaves)
    }
}

/// FNV-1a, for the declaring party's own records (no adversary chooses
/// these keys, so flooding resistance buys nothing here).
#[derive(Default, Clone, Copy)]
struct Fnv;

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The transcript every proof of a declaration runs on.
fn transcript(p: &Public, which: &'static [u8]) -> Transcript {
    let mut t = Transcript::new(b"accord-freeze v2");
    t.append_message(b"proof", which);
    t.append_message(b"party", p.party.as_bytes());
    t.append_message(b"treaty", p.treaty.as_bytes());
    t.append_message(b"date", p.date.as_bytes());
    t.append_message(
        b"checkpoint",
        p.checkpoint.as_deref().unwrap_or("").as_bytes(),
    );
    t.append_message(b"root", p.root.as_bytes());
    t.append_u64(b"padded_size", p.padded_size);
    for s in &p.sites {
        t.append_message(b"site", s.site.as_bytes());
        t.append_message(b"commitment", s.commitment.as_bytes());
        for c in Category::ALL {
            t.append_message(b"category", c.as_str().as_bytes());
            t.append_message(b"commitment", s.categories.get(c).as_bytes());
        }
    }
    t.append_u64(b"cap", p.cap);
    if let Some(b) = &p.baseline {
        t.append_message(b"baseline", b.digest.as_bytes());
    }
    t
}

/// Inputs to a declaration.
#[derive(Debug)]
pub struct DeclareInput<'a> {
    /// The party.
    pub party: &'a str,
    /// The treaty.
    pub treaty: &'a str,
    /// As-of date (YYYY-MM-DD).
    pub date: &'a str,
    /// The records.
    pub records: Vec<Record>,
    /// The cap.
    pub cap: u64,
    /// Leaves in all (default: the next power of two, at least 16).
    pub padded_size: Option<u64>,
    /// The log checkpoint to bind the proofs to.
    pub checkpoint: Option<String>,
    /// A baseline declaration to prove a freeze against.
    pub baseline: Option<(&'a Public, &'a Secret)>,
}

/// Declares: commits to every record, proves the cap (and the freeze), and
/// refuses when the total exceeds the cap or the baseline's total.
pub fn declare<R: RngCore + CryptoRng>(
    input: DeclareInput<'_>,
    rng: &mut R,
) -> Result<Declaration, FreezeError> {
    build(input, rng, None)
}

/// A lie a dishonest declarer tells (attack tests only).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub enum Lie {
    /// Commit to fewer records of a category at a site than its leaves hold
    /// (the site's count, the sum, is then short by as many).
    UnderCount {
        /// The site.
        site: String,
        /// The category.
        category: Category,
        /// By how many.
        by: u64,
    },
}

/// Declares with a lie (attack tests only): the proofs are made honestly
/// for the lying counts.
#[doc(hidden)]
pub fn declare_dishonestly<R: RngCore + CryptoRng>(
    input: DeclareInput<'_>,
    rng: &mut R,
    lie: Lie,
) -> Result<Declaration, FreezeError> {
    build(input, rng, Some(lie))
}

fn build<R: RngCore + CryptoRng>(
    input: DeclareInput<'_>,
    rng: &mut R,
    lie: Option<Lie>,
) -> Result<Declaration, FreezeError> {
    let total = input.records.len() as u64;
    if total > input.cap {
        return Err(FreezeError::Refused(Refusal::OverCap {
            total,
            cap: input.cap,
        }));
    }
    let base_total: Option<u64> = input
        .baseline
        .map(|(_, s)| s.sites.iter().map(|x| x.count).sum());
    if let Some(t0) = base_total {
        if total > t0 {
            return Err(FreezeError::Refused(Refusal::AboveBaseline {
                total,
                baseline: t0,
            }));
        }
    }
    // Group by (site, category) in one pass (input order within a group,
    // sites in name order, categories in `Category::ALL` order): each
    // record's site index once, each group's vector allocated at its exact
    // size, each record moved once. Group `g` is site `g / 4`, category
    // `g % 4`.
    let mut names: Vec<String> = vec![];
    let site_of: Vec<u32> = {
        let mut seen: std::collections::HashMap<&str, u32, Fnv> =
            std::collections::HashMap::default();
        input
            .records
            .iter()
            .map(|r| {
                *seen.entry(r.site.as_str()).or_insert_with(|| {
                    names.push(r.site.clone());
                    (names.len() - 1) as u32
                })
            })
            .collect()
    };
    if names.len() >= DUMMY_SITE as usize {
        return Err(FreezeError::Input("too many sites".into()));
    }
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_unstable_by(|&x, &y| names[x].cmp(&names[y]));
    let mut rank = vec![0usize; names.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    let group_of: Vec<u32> = input
        .records
        .iter()
        .zip(&site_of)
        .map(|(r, &i)| (rank[i as usize] * 4 + usize::from(r.category.index())) as u32)
        .collect();
    drop(site_of);
    let mut sizes = vec![0usize; names.len() * 4];
    for &g in &group_of {
        sizes[g as usize] += 1;
    }
    let mut by_group: Vec<Vec<Record>> = sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
    for (r, g) in input.records.into_iter().zip(group_of) {
        by_group[g as usize].push(r);
    }
    let site_names: Vec<String> = order.iter().map(|&i| names[i].clone()).collect();
    drop(names);
    let padded = input
        .padded_size
        .unwrap_or_else(|| total.max(16).next_power_of_two());
    if padded < total {
        return Err(FreezeError::Input(format!(
            "padded size {padded} is below the {total} records"
        )));
    }

    let pc = PedersenGens::default();
    let mut secret_records = Vec::with_capacity(total as usize);
    let mut secret_sites = vec![];
    let mut dummies = vec![];
    let mut public_sites = vec![];
    let mut values: Vec<u64> = vec![];
    let mut blindings: Vec<Scalar> = vec![];
    let mut index = 0u64;
    // Salts come from per-chunk ChaCha20 generators seeded, in order, from
    // `rng` (so a seeded declaration is reproducible); the record hashes, the
    // leaves and the two halves of the tree are computed on every core.
    let n_real = by_group.iter().map(Vec::len).sum::<usize>();
    let n_all = padded as usize;
    let flat: Vec<(u32, u8, &Record)> = by_group
        .iter()
        .enumerate()
        .flat_map(|(g, v)| v.iter().map(move |r| ((g / 4) as u32, (g % 4) as u8, r)))
        .collect();
    let mut salts: Vec<[u8; 32]> = vec![[0u8; 32]; n_all];
    let mut leaves: Vec<Hash> = vec![[0u8; 32]; n_all];
    let mut id_hashes: Vec<(u64, u32)> = vec![(0, 0); n_real];
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = n_all.div_ceil(threads).max(1);
    let seeds: Vec<[u8; 32]> = (0..n_all.div_ceil(chunk))
        .map(|_| {
            let mut s = [0u8; 32];
            rng.fill_bytes(&mut s);
            s
        })
        .collect();
    std::thread::scope(|scope| {
        let mut idh = id_hashes.chunks_mut(chunk);
        for (c, ((out, sl), seed)) in leaves
            .chunks_mut(chunk)
            .zip(salts.chunks_mut(chunk))
            .zip(&seeds)
            .enumerate()
        {
            let flat = &flat;
            let ids = idh.next().unwrap_or_default();
            scope.spawn(move || {
                use rand::SeedableRng as _;
                use std::hash::{BuildHasher as _, Hasher as _};
                // ChaCha12: a CSPRNG (rand's StdRng), faster than ChaCha20.
                let mut local = rand_chacha::ChaCha12Rng::from_seed(*seed);
                let mut buf = Vec::with_capacity(128);
                for (j, (o, salt)) in out.iter_mut().zip(sl.iter_mut()).enumerate() {
                    local.fill_bytes(salt);
                    let i = c * chunk + j;
                    let data = match flat.get(i) {
                        Some((si, ci, r)) => {
                            let mut h = Fnv.build_hasher();
                            h.write(r.id.as_bytes());
                            if let Some(slot) = ids.get_mut(j) {
                                *slot = (h.finish(), i as u32);
                            }
                            leaf_data(*si, *ci, &record_hash_with(salt, r, &mut buf))
                        }
                        None => leaf_data(DUMMY_SITE, DUMMY_CATEGORY, &dummy_hash(salt)),
                    };
                    *o = accord_log::merkle::leaf_hash(&data);
                }
            });
        }
    });
    // Duplicate identifiers: sort the id hashes; equal neighbours are
    // compared as strings (a hash collision alone is not a duplicate).
    id_hashes.sort_unstable();
    for w in id_hashes.windows(2) {
        if w[0].0 == w[1].0 && flat[w[0].1 as usize].2.id == flat[w[1].1 as usize].2.id {
            return Err(FreezeError::Input(format!(
                "duplicate identifier `{}`",
                flat[w[0].1 as usize].2.id
            )));
        }
    }
    drop(flat);
    let root = tree_root(&leaves);
    drop(leaves);
    // Commitments: C_{s,k} = Com(c_{s,k}, γ_{s,k}) for each category, and
    // C_s = Com(c_s, Σ_k γ_{s,k}) = Σ_k C_{s,k} for the site.
    let mut k = 0usize;
    let mut groups = by_group.into_iter();
    for site in site_names {
        let site_start = index;
        let mut ranges = Vec::with_capacity(4);
        let mut cat_points = Vec::with_capacity(4);
        let mut site_count = 0u64;
        let mut site_gamma = Scalar::ZERO;
        for category in Category::ALL {
            let start = index;
            for r in groups.next().unwrap_or_default() {
                secret_records.push(SecretRecord {
                    index,
                    salt: Salt(salts[k]),
                    record: r,
                });
                k += 1;
                index += 1;
            }
            let mut count = index - start;
            if let Some(Lie::UnderCount {
                site: ls,
                category: lc,
                by,
            }) = &lie
            {
                if *ls == site && *lc == category {
                    count = count.saturating_sub(*by);
                }
            }
            let gamma = Scalar::random(rng);
            cat_points
                .push(B64.encode(pc.commit(Scalar::from(count), gamma).compress().as_bytes()));
            ranges.push(SecretRange {
                category,
                count,
                start,
                blinding: scalar_b64(&gamma),
            });
            site_count += count;
            site_gamma += gamma;
        }
        let c = pc.commit(Scalar::from(site_count), site_gamma).compress();
        let mut cats = cat_points.into_iter();
        public_sites.push(PublicSite {
            site: site.clone(),
            commitment: B64.encode(c.as_bytes()),
            categories: CategoryCommitments::from_fn(|_| cats.next().unwrap_or_default()),
        });
        secret_sites.push(SecretSite {
            site,
            count: site_count,
            start: site_start,
            blinding: scalar_b64(&site_gamma),
            categories: ranges,
        });
        values.push(site_count);
        blindings.push(site_gamma);
        site_gamma.zeroize();
    }
    debug_assert_eq!(k, n_real);
    for (i, salt) in salts.iter().enumerate().skip(n_real) {
        dummies.push((i as u64, Salt(*salt)));
    }
    for s in &mut salts {
        s.zeroize();
    }

    let mut public = Public {
        version: VERSION.to_string(),
        party: input.party.to_string(),
        treaty: input.treaty.to_string(),
        date: input.date.to_string(),
        checkpoint: input.checkpoint,
        root: B64.encode(root),
        padded_size: padded,
        sites: public_sites,
        cap: input.cap,
        cap_proof: CapProof {
            proof: String::new(),
            commitments: vec![],
        },
        baseline: input.baseline.map(|(p, _)| BaselineRef {
            digest: digest(p),
            date: p.date.clone(),
        }),
        freeze_proof: None,
    };

    // Cap proof: [c_s…, cap − T, 0…], blindings [γ_s…, −Σγ, 0…].
    let sum_gamma: Scalar = blindings.iter().sum();
    let committed: u64 = values.iter().sum();
    values.push(input.cap - committed);
    blindings.push(-sum_gamma);
    let m = values.len().next_power_of_two();
    values.resize(m, 0);
    blindings.resize(m, Scalar::ZERO);
    let bp = BulletproofGens::new(BITS, m);
    let mut t = transcript(&public, b"cap");
    let (proof, commitments) =
        RangeProof::prove_multiple_with_rng(&bp, &pc, &mut t, &values, &blindings, BITS, rng)
            .map_err(|e| FreezeError::Input(format!("cap proof: {e}")))?;
    for b in &mut blindings {
        b.zeroize();
    }
    public.cap_proof = CapProof {
        proof: B64.encode(proof.to_bytes()),
        commitments: commitments
            .iter()
            .map(|c| B64.encode(c.as_bytes()))
            .collect(),
    };

    // Freeze proof: T0 − T with blinding Σγ' − Σγ.
    if let (Some((_, bsecret)), Some(t0)) = (input.baseline, base_total) {
        let mut g0 = Scalar::ZERO;
        for s in &bsecret.sites {
            g0 += scalar_from_b64(&s.blinding)
                .ok_or_else(|| FreezeError::Input("baseline secret: a bad blinding".into()))?;
        }
        let mut blind = g0 - sum_gamma;
        let bp1 = BulletproofGens::new(BITS, 1);
        let mut t = transcript(&public, b"freeze");
        let (proof, c) =
            RangeProof::prove_single_with_rng(&bp1, &pc, &mut t, t0 - committed, &blind, BITS, rng)
                .map_err(|e| FreezeError::Input(format!("freeze proof: {e}")))?;
        blind.zeroize();
        public.freeze_proof = Some(FreezeProof {
            proof: B64.encode(proof.to_bytes()),
            commitment: B64.encode(c.as_bytes()),
        });
    }
    let secret = Secret {
        declaration: digest(&public),
        records: secret_records,
        sites: secret_sites,
        dummies,
    };
    Ok(Declaration { public, secret })
}

/// Verifies every proof of a public part; `baseline` is required exactly
/// when the declaration claims a freeze. The only way to make a
/// [`VerifiedDeclaration`].
///
/// Checks, in order: the version; the root and structure; the sites sorted
/// and unique; each site's commitment `C_s` is the sum of its four category
/// commitments `C_{s,k}`; the cap proof over `[C_0, …, C_{S−1}, cap·B − ΣC_s,
/// identity…]`; the freeze proof over `ΣC'_s − ΣC_s` against the baseline.
pub fn verify(p: &Public, baseline: Option<&Public>) -> Result<VerifiedDeclaration, FreezeError> {
    if p.version != VERSION {
        return Err(fail(
            Check::Version,
            format!("`{}`, expected {VERSION}", p.version),
        ));
    }
    let root: Vec<u8> = B64
        .decode(&p.root)
        .map_err(|_| fail(Check::Root, "not base64"))?;
    if root.len() != 32 {
        return Err(fail(Check::Root, "not 32 bytes"));
    }
    if p.padded_size == 0 || p.sites.is_empty() {
        return Err(fail(Check::Structure, "no leaves or no sites"));
    }
    if p.sites.len() >= DUMMY_SITE as usize {
        return Err(fail(Check::Structure, "too many sites"));
    }
    if p.sites.windows(2).any(|w| w[0].site >= w[1].site) {
        return Err(fail(Check::Sites, "not sorted and unique"));
    }
    let pc = PedersenGens::default();
    let mut sum = RistrettoPoint::identity();
    let mut site_points = vec![];
    for s in &p.sites {
        let what = || Check::Commitment {
            site: s.site.clone(),
        };
        let (c, pt) = point(&s.commitment, what)?;
        // C_s must be Σ_k C_{s,k}: the site's count is the sum of its
        // category counts, and the cap and freeze proofs over C_s bind them.
        let mut cats = RistrettoPoint::identity();
        for k in Category::ALL {
            cats += point(s.categories.get(k), what)?.1;
        }
        if cats != pt {
            return Err(fail(
                what(),
                "the site's commitment is not the sum of its category commitments",
            ));
        }
        sum += pt;
        site_points.push(c);
    }
    // Cap proof.
    let s = p.sites.len();
    let m = (s + 1).next_power_of_two();
    let cp = &p.cap_proof;
    if cp.commitments.len() != m {
        return Err(fail(
            Check::CapProof,
            format!("{} commitments, expected {m}", cp.commitments.len()),
        ));
    }
    // Compressed only: the bulletproofs verifier decompresses them itself.
    let mut comms = vec![];
    for (i, c) in cp.commitments.iter().enumerate() {
        let b: [u8; 32] = B64
            .decode(c)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| {
                fail(
                    Check::CapProofCommitment { index: i },
                    "not a base64 32-byte point",
                )
            })?;
        comms.push(CompressedRistretto(b));
    }
    if comms[..s] != site_points[..] {
        return Err(fail(
            Check::CapProof,
            "its commitments are not the sites' commitments",
        ));
    }
    let rest = (pc.commit(Scalar::from(p.cap), Scalar::ZERO) - sum).compress();
    if comms[s] != rest {
        return Err(fail(
            Check::CapProof,
            "the cap commitment is not cap·B − ΣC_s",
        ));
    }
    if comms[s + 1..]
        .iter()
        .any(|c| *c != CompressedRistretto::identity())
    {
        return Err(fail(
            Check::CapProof,
            "a padding commitment is not the identity",
        ));
    }
    let proof = RangeProof::from_bytes(
        &B64.decode(&cp.proof)
            .map_err(|_| fail(Check::CapProof, "not base64"))?,
    )
    .map_err(|e| fail(Check::CapProof, e.to_string()))?;
    let bp = BulletproofGens::new(BITS, m);
    proof
        .verify_multiple(&bp, &pc, &mut transcript(p, b"cap"), &comms, BITS)
        .map_err(|_| {
            fail(
                Check::CapProof,
                format!(
                    "does not verify: the total is not shown to be at most {}",
                    p.cap
                ),
            )
        })?;
    // Freeze proof.
    let freeze = match (&p.baseline, &p.freeze_proof, baseline) {
        (None, None, None) => false,
        (Some(_), Some(_), None) => {
            return Err(fail(
                Check::FreezeProof,
                "this declaration claims a freeze: give its baseline",
            ))
        }
        (None, None, Some(_)) => {
            return Err(fail(
                Check::FreezeProof,
                "this declaration proves no freeze against a baseline",
            ))
        }
        (Some(r), Some(fp), Some(b)) => {
            if digest(b) != r.digest {
                return Err(fail(
                    Check::FreezeProof,
                    "the baseline given is not the one this declaration refers to",
                ));
            }
            if b.party != p.party || b.treaty != p.treaty {
                return Err(fail(
                    Check::FreezeProof,
                    "the baseline is another party's or treaty's",
                ));
            }
            if b.version != VERSION {
                return Err(fail(
                    Check::FreezeProof,
                    format!("the baseline is `{}`, expected {VERSION}", b.version),
                ));
            }
            let mut bsum = RistrettoPoint::identity();
            for s in &b.sites {
                bsum += point(&s.commitment, || Check::Commitment {
                    site: format!("{} (baseline)", s.site),
                })?
                .1;
            }
            let (c, _) = point(&fp.commitment, || Check::FreezeProof)?;
            if c != (bsum - sum).compress() {
                return Err(fail(
                    Check::FreezeProof,
                    "its commitment is not ΣC'_s − ΣC_s",
                ));
            }
            let proof = RangeProof::from_bytes(
                &B64.decode(&fp.proof)
                    .map_err(|_| fail(Check::FreezeProof, "not base64"))?,
            )
            .map_err(|e| fail(Check::FreezeProof, e.to_string()))?;
            proof
                .verify_single(
                    &BulletproofGens::new(BITS, 1),
                    &pc,
                    &mut transcript(p, b"freeze"),
                    &c,
                    BITS,
                )
                .map_err(|_| {
                    fail(
                        Check::FreezeProof,
                        "does not verify: the total is not shown to be at most the baseline's",
                    )
                })?;
            true
        }
        _ => {
            return Err(fail(
                Check::FreezeProof,
                "a baseline without a freeze proof, or the reverse",
            ))
        }
    };
    Ok(VerifiedDeclaration {
        digest: digest(p),
        public: p.clone(),
        freeze,
    })
}

/// One line: what the verification established.
impl std::fmt::Display for VerifiedDeclaration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "verified: {}'s declaration ({} sites): total ≤ {}{}",
            self.party(),
            self.sites(),
            self.cap(),
            if self.freeze() {
                ", and ≤ the baseline's total"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A malicious prover: commits to `counts` and proves whatever it can.
    /// `None` when the bulletproofs prover itself refuses.
    fn forged(counts: &[u64], cap: u64) -> Option<Public> {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(99);
        let pc = PedersenGens::default();
        let gammas: Vec<Scalar> = counts.iter().map(|_| Scalar::random(&mut rng)).collect();
        let sites: Vec<PublicSite> = counts
            .iter()
            .zip(&gammas)
            .enumerate()
            .map(|(i, (c, g))| {
                let com = B64.encode(pc.commit(Scalar::from(*c), *g).compress().as_bytes());
                let zero = B64.encode(RistrettoPoint::identity().compress().as_bytes());
                PublicSite {
                    site: format!("S{i}"),
                    commitment: com.clone(),
                    // Everything in one category; the others commit to zero.
                    categories: CategoryCommitments::from_fn(|k| {
                        if k == Category::DeployedStrategic {
                            com.clone()
                        } else {
                            zero.clone()
                        }
                    }),
                }
            })
            .collect();
        let mut p = Public {
            version: VERSION.into(),
            party: "XX".into(),
            treaty: "t".into(),
            date: "2021-01-01".into(),
            checkpoint: None,
            root: B64.encode([0u8; 32]),
            padded_size: 16,
            sites,
            cap,
            cap_proof: CapProof {
                proof: String::new(),
                commitments: vec![],
            },
            baseline: None,
            freeze_proof: None,
        };
        let sum: u64 = counts.iter().fold(0u64, |a, c| a.wrapping_add(*c));
        let mut values = counts.to_vec();
        values.push(cap.wrapping_sub(sum));
        let mut blinds = gammas.clone();
        blinds.push(-gammas.iter().sum::<Scalar>());
        let m = values.len().next_power_of_two();
        values.resize(m, 0);
        blinds.resize(m, Scalar::ZERO);
        let bp = BulletproofGens::new(BITS, m);
        let (proof, comms) = RangeProof::prove_multiple_with_rng(
            &bp,
            &pc,
            &mut transcript(&p, b"cap"),
            &values,
            &blinds,
            BITS,
            &mut rng,
        )
        .ok()?;
        p.cap_proof = CapProof {
            proof: B64.encode(proof.to_bytes()),
            commitments: comms.iter().map(|c| B64.encode(c.as_bytes())).collect(),
        };
        Some(p)
    }

    #[test]
    fn honest_forger_baseline_verifies() {
        // The forger's machinery is sound when it tells the truth.
        let p = forged(&[5, 7], 20).expect("proves");
        assert!(verify(&p, None).is_ok());
    }

    #[test]
    fn rejects_counts_at_or_above_2_pow_32() {
        // The bulletproofs prover does make these proofs (from the low 32
        // bits); it is the verifier that must reject them.
        for count in [1u64 << 32, (1u64 << 32) + 5, u64::MAX] {
            let p = forged(&[count], u64::MAX).expect("the forger makes a proof");
            let e = verify(&p, None).expect_err("a count outside [0, 2^32)");
            assert!(e.to_string().contains("cap proof"), "{e}");
        }
    }

    #[test]
    fn rejects_a_total_over_the_cap_with_a_forged_proof() {
        // cap − T is negative: the forger can only offer the u64 that wraps,
        // whose commitment is not the verifier's cap·B − ΣC_s.
        let p = forged(&[50, 60], 100).expect("the forger makes a proof");
        let e = verify(&p, None).expect_err("110 > 100");
        assert!(e.to_string().contains("cap proof"), "{e}");
    }
}
