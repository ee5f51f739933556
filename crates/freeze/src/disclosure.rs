//! Progressive disclosure: by site (proven complete), by category or by
//! identifier; and its verification against the public commitment and every
//! earlier disclosure.

use crate::declaration::{
    digest, dummy_hash, leaf_data, point, record_hash, scalar_from_b64, unhex32, Public, Secret,
    DUMMY_SITE,
};
use crate::records::{Category, Record};
use crate::{fail, FreezeError};
use accord_log::merkle::{self, leaf_hash, Hash, MemoryTree};
use accord_log::witness::{decode_hashes, encode_hashes};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bulletproofs::PedersenGens;
use curve25519_dalek::scalar::Scalar;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What to disclose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every record at a site, with its count opened (proven complete).
    Site(String),
    /// Every record of a category.
    Category(Category),
    /// One record.
    Id(String),
}

/// A disclosed record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenedRecord {
    /// Leaf index.
    pub index: u64,
    /// Salt, hex.
    pub salt: String,
    /// The record.
    pub record: Record,
    /// Inclusion proof, base64 hashes.
    pub proof: Vec<String>,
}

/// A leaf shown only by its site index and record hash (a site's neighbour).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Boundary {
    /// Leaf index.
    pub index: u64,
    /// Its site index (`4294967295` for a dummy).
    pub site_index: u32,
    /// Its record hash, base64.
    pub record_hash: String,
    /// Inclusion proof.
    pub proof: Vec<String>,
}

/// The opened count of a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenedSite {
    /// Site name.
    pub site: String,
    /// Its count.
    pub count: u64,
    /// Its blinding, base64 scalar.
    pub blinding: String,
    /// First leaf index.
    pub start: u64,
    /// The leaves just outside its range.
    pub boundaries: Vec<Boundary>,
}

/// A disclosure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    /// `accord-freeze/v1`.
    pub version: String,
    /// SHA-256 of the declaration's public part.
    pub declaration: String,
    /// `site`, `category` or `id`.
    pub kind: String,
    /// What was asked for.
    pub selector: String,
    /// For a site: its opened count and boundaries.
    pub site: Option<OpenedSite>,
    /// The records disclosed.
    pub records: Vec<OpenedRecord>,
    /// How many records are disclosed.
    pub count: u64,
}

/// The leaves of a declaration, rebuilt from its secret (to make proofs).
fn tree_of(public: &Public, secret: &Secret) -> Result<(MemoryTree, Vec<Hash>), FreezeError> {
    let site_index: HashMap<&str, u32> = public
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.site.as_str(), i as u32))
        .collect();
    let mut leaves: Vec<Option<[u8; 53]>> = vec![None; public.padded_size as usize];
    for r in &secret.records {
        let salt = &r.salt.0;
        let si = *site_index
            .get(r.record.site.as_str())
            .ok_or_else(|| FreezeError::Input(format!("secret: unknown site {}", r.record.site)))?;
        let slot = leaves
            .get_mut(r.index as usize)
            .ok_or_else(|| FreezeError::Input("secret: index beyond the tree".into()))?;
        *slot = Some(leaf_data(si, &record_hash(salt, &r.record)));
    }
    for (i, salt) in &secret.dummies {
        let salt = salt.0;
        let slot = leaves
            .get_mut(*i as usize)
            .ok_or_else(|| FreezeError::Input("secret: index beyond the tree".into()))?;
        *slot = Some(leaf_data(DUMMY_SITE, &dummy_hash(&salt)));
    }
    let mut tree = MemoryTree::new();
    let mut rhos = vec![];
    for (i, l) in leaves.into_iter().enumerate() {
        let l = l.ok_or_else(|| FreezeError::Input(format!("secret: leaf {i} is missing")))?;
        let mut rho = [0u8; 32];
        rho.copy_from_slice(&l[l.len() - 32..]);
        rhos.push(rho);
        tree.append(&l);
    }
    if B64.encode(tree.root()) != public.root {
        return Err(FreezeError::Input(
            "the secret does not rebuild this declaration's root".into(),
        ));
    }
    Ok((tree, rhos))
}

/// Makes a disclosure from the declaring party's secret.
pub fn disclose(
    public: &Public,
    secret: &Secret,
    what: &Selector,
) -> Result<Disclosure, FreezeError> {
    let (tree, rhos) = tree_of(public, secret)?;
    let n = public.padded_size;
    let proof = |i: u64| -> Result<Vec<String>, FreezeError> {
        Ok(encode_hashes(
            &merkle::inclusion_proof(&tree, i, n).map_err(|e| FreezeError::Input(e.to_string()))?,
        ))
    };
    let open = |r: &crate::declaration::SecretRecord| -> Result<OpenedRecord, FreezeError> {
        Ok(OpenedRecord {
            index: r.index,
            salt: r.salt.to_hex(),
            record: r.record.clone(),
            proof: proof(r.index)?,
        })
    };
    let (kind, selector, site, records) = match what {
        Selector::Site(name) => {
            let s = secret
                .sites
                .iter()
                .find(|s| &s.site == name)
                .ok_or_else(|| {
                    FreezeError::Input(format!("no site `{name}` in this declaration"))
                })?;
            let mut boundaries = vec![];
            let leaf_site = |i: u64| -> u32 {
                secret
                    .records
                    .iter()
                    .find(|r| r.index == i)
                    .and_then(|r| public.sites.iter().position(|p| p.site == r.record.site))
                    .map_or(DUMMY_SITE, |x| x as u32)
            };
            for i in [
                s.start.checked_sub(1),
                Some(s.start + s.count).filter(|&e| e < n),
            ]
            .into_iter()
            .flatten()
            {
                boundaries.push(Boundary {
                    index: i,
                    site_index: leaf_site(i),
                    record_hash: B64.encode(rhos[i as usize]),
                    proof: proof(i)?,
                });
            }
            let recs = secret
                .records
                .iter()
                .filter(|r| r.record.site == *name)
                .map(open)
                .collect::<Result<Vec<_>, _>>()?;
            (
                "site",
                name.clone(),
                Some(OpenedSite {
                    site: name.clone(),
                    count: s.count,
                    blinding: s.blinding.clone(),
                    start: s.start,
                    boundaries,
                }),
                recs,
            )
        }
        Selector::Category(c) => (
            "category",
            c.as_str().to_string(),
            None,
            secret
                .records
                .iter()
                .filter(|r| r.record.category == *c)
                .map(open)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Selector::Id(id) => {
            let r = secret
                .records
                .iter()
                .find(|r| &r.record.id == id)
                .ok_or_else(|| FreezeError::Input(format!("no record `{id}`")))?;
            ("id", id.clone(), None, vec![open(r)?])
        }
    };
    let count = records.len() as u64;
    Ok(Disclosure {
        version: crate::declaration::VERSION.to_string(),
        declaration: digest(public),
        kind: kind.to_string(),
        selector,
        site,
        records,
        count,
    })
}

/// What a verified disclosure established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedDisclosure {
    /// `site`, `category` or `id`.
    pub kind: String,
    /// What was disclosed.
    pub selector: String,
    /// Records verified.
    pub records: u64,
    /// For a site: its count is proven complete.
    pub complete: bool,
}

/// Verifies a disclosure against the public part and every earlier disclosure
/// of the same declaration (goal 4 of the notes).
pub fn verify_disclosure(
    public: &Public,
    d: &Disclosure,
    earlier: &[Disclosure],
) -> Result<VerifiedDisclosure, FreezeError> {
    let dg = digest(public);
    if d.declaration != dg {
        return Err(fail(
            "declaration",
            "the disclosure is of another declaration",
        ));
    }
    let root: Hash = B64
        .decode(&public.root)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| fail("root", "malformed"))?;
    let n = public.padded_size;
    let site_index: HashMap<&str, u32> = public
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.site.as_str(), i as u32))
        .collect();
    let check_leaf =
        |index: u64, data: &[u8], proof: &[String], what: &str| -> Result<(), FreezeError> {
            let p = decode_hashes(proof).map_err(|e| fail(what, e))?;
            merkle::verify_inclusion(index, n, &leaf_hash(data), &p, &root).map_err(|e| {
                fail(
                    what,
                    format!("leaf {index} is not in the declared tree ({e})"),
                )
            })
        };
    // Every record: its leaf recomputes, with its site, under the root.
    let mut seen_ids: HashMap<&str, u64> = HashMap::new();
    for r in &d.records {
        let what = format!("record {}", r.record.id);
        let salt = unhex32(&r.salt).ok_or_else(|| fail(&what, "the salt is not 32 hex bytes"))?;
        let si = *site_index
            .get(r.record.site.as_str())
            .ok_or_else(|| fail(&what, format!("site {} is not declared", r.record.site)))?;
        check_leaf(
            r.index,
            &leaf_data(si, &record_hash(&salt, &r.record)),
            &r.proof,
            &what,
        )?;
        if let Some(prev) = seen_ids.insert(r.record.id.as_str(), r.index) {
            return Err(fail(
                "duplicate identifier",
                format!(
                    "{} is disclosed at leaves {prev} and {}",
                    r.record.id, r.index
                ),
            ));
        }
    }
    match (d.kind.as_str(), &d.site) {
        ("site", Some(s)) => {
            let what = format!("site {}", s.site);
            let si = *site_index
                .get(s.site.as_str())
                .ok_or_else(|| fail(&what, "not declared"))?;
            let gamma: Scalar = scalar_from_b64(&s.blinding)
                .ok_or_else(|| fail(&what, "the blinding is not a scalar"))?;
            let (c, _) = point(&public.sites[si as usize].commitment, &what)?;
            if PedersenGens::default()
                .commit(Scalar::from(s.count), gamma)
                .compress()
                != c
            {
                return Err(fail(
                    &what,
                    format!("the opened count {} does not open its commitment", s.count),
                ));
            }
            if d.records.len() as u64 != s.count {
                return Err(fail(
                    &what,
                    format!(
                        "{} records disclosed but the committed count is {}",
                        d.records.len(),
                        s.count
                    ),
                ));
            }
            let mut idx: Vec<u64> = d.records.iter().map(|r| r.index).collect();
            idx.sort_unstable();
            if idx
                .iter()
                .enumerate()
                .any(|(k, &i)| i != s.start + k as u64)
            {
                return Err(fail(
                    &what,
                    "the records are not the contiguous range from its start",
                ));
            }
            if d.records.iter().any(|r| r.record.site != s.site) {
                return Err(fail(&what, "a disclosed record is at another site"));
            }
            // The neighbours prove nothing of this site lies just outside.
            let need: Vec<u64> = [
                s.start.checked_sub(1),
                Some(s.start + s.count).filter(|&e| e < n),
            ]
            .into_iter()
            .flatten()
            .collect();
            for i in need {
                let b =
                    s.boundaries.iter().find(|b| b.index == i).ok_or_else(|| {
                        fail(&what, format!("the boundary leaf {i} is not shown"))
                    })?;
                let rho: Hash = B64
                    .decode(&b.record_hash)
                    .ok()
                    .and_then(|v| v.try_into().ok())
                    .ok_or_else(|| fail(&what, "a boundary record hash is malformed"))?;
                check_leaf(
                    i,
                    &leaf_data(b.site_index, &rho),
                    &b.proof,
                    &format!("{what}, boundary leaf {i}"),
                )?;
                let ok = if i < s.start {
                    b.site_index < si
                } else {
                    b.site_index > si
                };
                if !ok {
                    return Err(fail(
                        &what,
                        format!("leaf {i}, just outside its range, also belongs to it: more records are there than its count of {}", s.count),
                    ));
                }
            }
        }
        ("category", None) | ("id", None) => {}
        (k, _) => return Err(fail("kind", format!("`{k}` with the wrong parts"))),
    }
    // Consistency with every earlier disclosure of this declaration.
    for e in earlier.iter().filter(|e| e.declaration == dg) {
        for a in &d.records {
            for b in &e.records {
                if a.index == b.index && (a.record != b.record || a.salt != b.salt) {
                    return Err(fail(
                        "consistency",
                        format!("leaf {} was disclosed before as another record", a.index),
                    ));
                }
                if a.record.id == b.record.id
                    && (a.index != b.index || a.record.site != b.record.site)
                {
                    return Err(fail(
                        "consistency",
                        format!(
                            "{} was disclosed before at {} (leaf {}), now at {} (leaf {})",
                            a.record.id, b.record.site, b.index, a.record.site, a.index
                        ),
                    ));
                }
            }
        }
    }
    Ok(VerifiedDisclosure {
        kind: d.kind.clone(),
        selector: d.selector.clone(),
        records: d.records.len() as u64,
        complete: d.kind == "site",
    })
}
