//! Progressive disclosure: by site, by category at a site, or by category
//! across every site (each proven complete against its commitment), or one
//! record by identifier; and its verification against a verified
//! declaration and every earlier verified disclosure.

use crate::declaration::{
    check_version, digest, dummy_hash, leaf_data, point, record_hash, scalar_from_b64, unhex32,
    Public, Secret, SecretRecord, VerifiedDeclaration, DUMMY_CATEGORY, DUMMY_SITE, VERSION,
};
use crate::records::{Category, Record};
use crate::{fail, Check, FreezeError};
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
    /// Every record of one category at one site, with that category's
    /// count there opened (proven complete).
    SiteCategory(String, Category),
    /// Every record of a category, at every site, with each site's count of
    /// that category opened (proven complete).
    Category(Category),
    /// One record (nothing about completeness).
    Id(String),
}

/// The kind of a disclosure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A site.
    Site,
    /// A category at a site.
    SiteCategory,
    /// A category at every site.
    Category,
    /// One record.
    Id,
}

impl Kind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Site => "site",
            Kind::SiteCategory => "site_category",
            Kind::Category => "category",
            Kind::Id => "id",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

/// A leaf shown only by its site and category indices and its record hash
/// (a neighbour of an opened range).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Boundary {
    /// Leaf index.
    pub index: u64,
    /// Its site index (`4294967295` for a dummy).
    pub site_index: u32,
    /// Its category index (0–3 in `Category::ALL` order, `255` for a dummy).
    pub category_index: u8,
    /// Its record hash, base64.
    pub record_hash: String,
    /// Inclusion proof.
    pub proof: Vec<String>,
}

/// An opened count: of a site (`category` absent) or of one category at a
/// site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    /// Site name.
    pub site: String,
    /// The category, for a category's count.
    pub category: Option<Category>,
    /// The count.
    pub count: u64,
    /// Its blinding, base64 scalar.
    pub blinding: String,
    /// First leaf index of its range (where it would start, when empty).
    pub start: u64,
    /// The leaves just outside its range.
    pub boundaries: Vec<Boundary>,
}

/// A disclosure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    /// `accord-freeze/v2`.
    pub version: String,
    /// SHA-256 of the declaration's public part.
    pub declaration: String,
    /// What kind of disclosure.
    pub kind: Kind,
    /// What was asked for: the site, `CATEGORY at SITE`, the category, or
    /// the identifier.
    pub selector: String,
    /// The counts opened (none for an identifier).
    pub openings: Vec<Opening>,
    /// The records disclosed.
    pub records: Vec<OpenedRecord>,
    /// How many records are disclosed.
    pub count: u64,
}

/// Parses a disclosure, reading its `version` first and naming the field at
/// fault otherwise.
pub fn parse_disclosure(text: &str) -> Result<Disclosure, FreezeError> {
    check_version(text)?;
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        FreezeError::Input(format!(
            "not a disclosure: field `{}`: {}",
            e.path(),
            e.inner()
        ))
    })
}

fn selector_of(site: &str, category: Category) -> String {
    format!("{} at {site}", category.as_str())
}

/// A leaf's key: (site index, category index). Leaves are sorted by it;
/// dummies, `(DUMMY_SITE, DUMMY_CATEGORY)`, come last.
type Key = (u32, u8);

/// Checks one leaf's inclusion under the declared root, naming the check.
type CheckLeaf<'a> =
    dyn Fn(u64, &[u8], &[String], &dyn Fn() -> Check) -> Result<(), FreezeError> + 'a;

/// The leaves of a declaration, rebuilt from its secret (to make proofs).
fn tree_of(
    public: &Public,
    secret: &Secret,
) -> Result<(MemoryTree, Vec<Key>, Vec<Hash>), FreezeError> {
    let site_index: HashMap<&str, u32> = public
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.site.as_str(), i as u32))
        .collect();
    let mut leaves: Vec<Option<(Key, Hash)>> = vec![None; public.padded_size as usize];
    for r in &secret.records {
        let si = *site_index
            .get(r.record.site.as_str())
            .ok_or_else(|| FreezeError::Input(format!("secret: unknown site {}", r.record.site)))?;
        let slot = leaves
            .get_mut(r.index as usize)
            .ok_or_else(|| FreezeError::Input("secret: index beyond the tree".into()))?;
        *slot = Some((
            (si, r.record.category.index()),
            record_hash(&r.salt.0, &r.record),
        ));
    }
    for (i, salt) in &secret.dummies {
        let slot = leaves
            .get_mut(*i as usize)
            .ok_or_else(|| FreezeError::Input("secret: index beyond the tree".into()))?;
        *slot = Some(((DUMMY_SITE, DUMMY_CATEGORY), dummy_hash(&salt.0)));
    }
    let mut tree = MemoryTree::new();
    let mut keys = Vec::with_capacity(leaves.len());
    let mut rhos = Vec::with_capacity(leaves.len());
    for (i, l) in leaves.into_iter().enumerate() {
        let (key, rho) =
            l.ok_or_else(|| FreezeError::Input(format!("secret: leaf {i} is missing")))?;
        tree.append(&leaf_data(key.0, key.1, &rho));
        keys.push(key);
        rhos.push(rho);
    }
    if B64.encode(tree.root()) != public.root {
        return Err(FreezeError::Input(
            "the secret does not rebuild this declaration's root".into(),
        ));
    }
    Ok((tree, keys, rhos))
}

/// Makes a disclosure from the declaring party's secret.
pub fn disclose(
    public: &Public,
    secret: &Secret,
    what: &Selector,
) -> Result<Disclosure, FreezeError> {
    let (tree, keys, rhos) = tree_of(public, secret)?;
    let n = public.padded_size;
    let proof = |i: u64| -> Result<Vec<String>, FreezeError> {
        Ok(encode_hashes(
            &merkle::inclusion_proof(&tree, i, n).map_err(|e| FreezeError::Input(e.to_string()))?,
        ))
    };
    let open = |r: &SecretRecord| -> Result<OpenedRecord, FreezeError> {
        Ok(OpenedRecord {
            index: r.index,
            salt: r.salt.to_hex(),
            record: r.record.clone(),
            proof: proof(r.index)?,
        })
    };
    let opening = |site: &str, category: Option<Category>| -> Result<Opening, FreezeError> {
        let s = secret
            .sites
            .iter()
            .find(|s| s.site == site)
            .ok_or_else(|| FreezeError::Input(format!("no site `{site}` in this declaration")))?;
        let (count, start, blinding) = match category {
            None => (s.count, s.start, s.blinding.clone()),
            Some(c) => {
                let r = s
                    .categories
                    .iter()
                    .find(|r| r.category == c)
                    .ok_or_else(|| {
                        FreezeError::Input(format!("secret: site {site} has no {c:?} range"))
                    })?;
                (r.count, r.start, r.blinding.clone())
            }
        };
        let mut boundaries = vec![];
        for i in [start.checked_sub(1), Some(start + count).filter(|&e| e < n)]
            .into_iter()
            .flatten()
        {
            let (site_index, category_index) = keys[i as usize];
            boundaries.push(Boundary {
                index: i,
                site_index,
                category_index,
                record_hash: B64.encode(rhos[i as usize]),
                proof: proof(i)?,
            });
        }
        Ok(Opening {
            site: site.to_string(),
            category,
            count,
            blinding,
            start,
            boundaries,
        })
    };
    let pick = |f: &dyn Fn(&Record) -> bool| -> Result<Vec<OpenedRecord>, FreezeError> {
        secret
            .records
            .iter()
            .filter(|r| f(&r.record))
            .map(open)
            .collect()
    };
    let (kind, selector, openings, records) = match what {
        Selector::Site(name) => (
            Kind::Site,
            name.clone(),
            vec![opening(name, None)?],
            pick(&|r| r.site == *name)?,
        ),
        Selector::SiteCategory(name, c) => (
            Kind::SiteCategory,
            selector_of(name, *c),
            vec![opening(name, Some(*c))?],
            pick(&|r| r.site == *name && r.category == *c)?,
        ),
        Selector::Category(c) => (
            Kind::Category,
            c.as_str().to_string(),
            public
                .sites
                .iter()
                .map(|s| opening(&s.site, Some(*c)))
                .collect::<Result<Vec<_>, _>>()?,
            pick(&|r| r.category == *c)?,
        ),
        Selector::Id(id) => {
            let r = secret
                .records
                .iter()
                .find(|r| &r.record.id == id)
                .ok_or_else(|| FreezeError::Input(format!("no record `{id}`")))?;
            (Kind::Id, id.clone(), vec![], vec![open(r)?])
        }
    };
    let count = records.len() as u64;
    Ok(Disclosure {
        version: VERSION.to_string(),
        declaration: digest(public),
        kind,
        selector,
        openings,
        records,
        count,
    })
}

/// An opened count, as verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenedCount {
    /// The site.
    pub site: String,
    /// The category, for a category's count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The count, proven to be every record its commitment counts.
    pub count: u64,
}

/// A disclosure that verified against a [`VerifiedDeclaration`]. Only
/// [`verify_disclosure`] makes one; later disclosures are checked against
/// the verified earlier ones.
///
/// It cannot be built by hand:
///
/// ```compile_fail,E0451
/// let v = accord_freeze::VerifiedDisclosure {
///     declaration: String::new(),
///     kind: accord_freeze::Kind::Site,
///     selector: String::new(),
///     records: vec![],
///     counts: vec![],
///     complete: true,
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDisclosure {
    declaration: String,
    kind: Kind,
    selector: String,
    records: Vec<OpenedRecord>,
    counts: Vec<OpenedCount>,
    complete: bool,
}

impl VerifiedDisclosure {
    /// SHA-256 of the declaration it discloses.
    pub fn declaration(&self) -> &str {
        &self.declaration
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// What was disclosed.
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// How many records were verified.
    pub fn count(&self) -> u64 {
        self.records.len() as u64
    }

    /// The records, each verified against the declaration's root.
    pub fn records(&self) -> &[OpenedRecord] {
        &self.records
    }

    /// The counts opened, each proven complete.
    pub fn counts(&self) -> &[OpenedCount] {
        &self.counts
    }

    /// Whether the disclosure is proven to hold every record its
    /// commitments count (every kind but an identifier).
    pub fn complete(&self) -> bool {
        self.complete
    }
}

impl Serialize for VerifiedDisclosure {
    /// `{kind, selector, records, complete, counts}` (`records` is the number).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            kind: Kind,
            selector: &'a str,
            records: u64,
            complete: bool,
            counts: &'a [OpenedCount],
        }
        View {
            kind: self.kind,
            selector: &self.selector,
            records: self.count(),
            complete: self.complete,
            counts: &self.counts,
        }
        .serialize(s)
    }
}

/// Verifies a disclosure against a verified declaration and every earlier
/// verified disclosure of it (goal 4 of the notes). The only way to make a
/// [`VerifiedDisclosure`].
pub fn verify_disclosure(
    declaration: &VerifiedDeclaration,
    d: &Disclosure,
    earlier: &[VerifiedDisclosure],
) -> Result<VerifiedDisclosure, FreezeError> {
    let public = declaration.public();
    if d.version != VERSION {
        return Err(fail(
            Check::Version,
            format!("`{}`, expected {VERSION}", d.version),
        ));
    }
    let dg = declaration.digest();
    if d.declaration != dg {
        return Err(fail(
            Check::Declaration,
            "the disclosure is of another declaration",
        ));
    }
    let root: Hash = B64
        .decode(&public.root)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| fail(Check::Root, "malformed"))?;
    let n = public.padded_size;
    let site_index: HashMap<&str, u32> = public
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.site.as_str(), i as u32))
        .collect();
    let check_leaf = |index: u64,
                      data: &[u8],
                      proof: &[String],
                      what: &dyn Fn() -> Check|
     -> Result<(), FreezeError> {
        let p = decode_hashes(proof).map_err(|e| fail(what(), e))?;
        merkle::verify_inclusion(index, n, &leaf_hash(data), &p, &root).map_err(|e| {
            fail(
                what(),
                format!("leaf {index} is not in the declared tree ({e})"),
            )
        })
    };
    // Every record: its leaf recomputes, with its site and category, under
    // the root.
    let mut seen_ids: HashMap<&str, u64> = HashMap::new();
    let mut by_index: HashMap<u64, &OpenedRecord> = HashMap::new();
    for r in &d.records {
        let what = || Check::Record {
            id: r.record.id.clone(),
        };
        let salt = unhex32(&r.salt).ok_or_else(|| fail(what(), "the salt is not 32 hex bytes"))?;
        let si = *site_index
            .get(r.record.site.as_str())
            .ok_or_else(|| fail(what(), format!("site {} is not declared", r.record.site)))?;
        check_leaf(
            r.index,
            &leaf_data(
                si,
                r.record.category.index(),
                &record_hash(&salt, &r.record),
            ),
            &r.proof,
            &what,
        )?;
        if let Some(prev) = seen_ids.insert(r.record.id.as_str(), r.index) {
            return Err(fail(
                Check::DuplicateIdentifier,
                format!(
                    "{} is disclosed at leaves {prev} and {}",
                    r.record.id, r.index
                ),
            ));
        }
        by_index.insert(r.index, r);
    }
    // The kind and its parts; the selector must say what the openings are.
    let shape_ok = match d.kind {
        Kind::Site => {
            d.openings.len() == 1
                && d.openings[0].category.is_none()
                && d.selector == d.openings[0].site
        }
        Kind::SiteCategory => match d.openings.as_slice() {
            [o] => o
                .category
                .is_some_and(|c| d.selector == selector_of(&o.site, c)),
            _ => false,
        },
        Kind::Category => {
            let c = Category::parse(&d.selector);
            c.is_some()
                && d.openings.len() == public.sites.len()
                && d.openings
                    .iter()
                    .zip(&public.sites)
                    .all(|(o, s)| o.site == s.site && o.category == c)
        }
        Kind::Id => {
            d.openings.is_empty() && d.records.len() == 1 && d.records[0].record.id == d.selector
        }
    };
    if !shape_ok {
        return Err(fail(
            Check::Kind,
            match d.kind {
                Kind::Category => format!(
                    "a category disclosure opens that category's commitment at every one of the {} sites, in order",
                    public.sites.len()
                ),
                k => format!("`{k}` with the wrong parts, or a selector that is not what is opened"),
            },
        ));
    }
    let committed = d
        .openings
        .iter()
        .fold(0u64, |t, o| t.saturating_add(o.count));
    if d.kind != Kind::Id && d.records.len() as u64 != committed {
        let what = match d.openings.as_slice() {
            [o] => Check::Opening {
                site: o.site.clone(),
                category: o.category,
            },
            _ => Check::Kind,
        };
        return Err(fail(
            what,
            format!(
                "{} records disclosed but the committed count is {committed}",
                d.records.len()
            ),
        ));
    }
    // Every opening: its count opens its commitment, its records are exactly
    // its range, and the leaves just outside belong to something else.
    let mut counts = vec![];
    for o in &d.openings {
        verify_opening(public, o, &site_index, &by_index, &check_leaf)?;
        counts.push(OpenedCount {
            site: o.site.clone(),
            category: o.category,
            count: o.count,
        });
    }
    if d.count != d.records.len() as u64 {
        return Err(fail(
            Check::Kind,
            format!(
                "`count` says {} but {} records are disclosed",
                d.count,
                d.records.len()
            ),
        ));
    }
    // Consistency with every earlier disclosure of this declaration.
    let mut before_index: HashMap<u64, &OpenedRecord> = HashMap::new();
    let mut before_id: HashMap<&str, &OpenedRecord> = HashMap::new();
    for e in earlier.iter().filter(|e| e.declaration == dg) {
        for b in &e.records {
            before_index.insert(b.index, b);
            before_id.insert(b.record.id.as_str(), b);
        }
    }
    for a in &d.records {
        if let Some(b) = before_index.get(&a.index) {
            if a.record != b.record || a.salt != b.salt {
                return Err(fail(
                    Check::Consistency,
                    format!("leaf {} was disclosed before as another record", a.index),
                ));
            }
        }
        if let Some(b) = before_id.get(a.record.id.as_str()) {
            if a.index != b.index || a.record.site != b.record.site {
                return Err(fail(
                    Check::Consistency,
                    format!(
                        "{} was disclosed before at {} (leaf {}), now at {} (leaf {})",
                        a.record.id, b.record.site, b.index, a.record.site, a.index
                    ),
                ));
            }
        }
    }
    Ok(VerifiedDisclosure {
        declaration: dg.to_string(),
        kind: d.kind,
        selector: d.selector.clone(),
        records: d.records.clone(),
        counts,
        complete: d.kind != Kind::Id,
    })
}

/// One opened count: `Com(count, blinding)` is its commitment (`C_s` for a
/// site, `C_{s,k}` for a category there); the records at `[start, start +
/// count)` are all disclosed and all of that site (and category); the leaf
/// at `start − 1` sorts before the range's key and the leaf at `start +
/// count` after it, each shown by its key and record hash with an inclusion
/// proof. Leaves sort by `(site index, category index)`, so a range is
/// complete when its neighbours are of other keys.
fn verify_opening(
    public: &Public,
    o: &Opening,
    site_index: &HashMap<&str, u32>,
    by_index: &HashMap<u64, &OpenedRecord>,
    check_leaf: &CheckLeaf<'_>,
) -> Result<(), FreezeError> {
    let what = || Check::Opening {
        site: o.site.clone(),
        category: o.category,
    };
    let n = public.padded_size;
    let si = *site_index
        .get(o.site.as_str())
        .ok_or_else(|| fail(what(), "not declared"))?;
    let ps = &public.sites[si as usize];
    let gamma: Scalar =
        scalar_from_b64(&o.blinding).ok_or_else(|| fail(what(), "the blinding is not a scalar"))?;
    let committed = match o.category {
        None => &ps.commitment,
        Some(c) => ps.categories.get(c),
    };
    let (c, _) = point(committed, what)?;
    if PedersenGens::default()
        .commit(Scalar::from(o.count), gamma)
        .compress()
        != c
    {
        return Err(fail(
            what(),
            format!("the opened count {} does not open its commitment", o.count),
        ));
    }
    let end = o
        .start
        .checked_add(o.count)
        .filter(|&e| e <= n)
        .ok_or_else(|| fail(what(), "its range runs past the tree"))?;
    // The key range: a site is (s, 0)..=(s, 3), a category (s, k)..=(s, k).
    let (lo, hi): (Key, Key) = match o.category {
        None => ((si, 0), (si, 3)),
        Some(c) => ((si, c.index()), (si, c.index())),
    };
    let mut last_category = 0u8;
    for i in o.start..end {
        let r = by_index.get(&i).ok_or_else(|| {
            fail(
                what(),
                "the records are not the contiguous range from its start",
            )
        })?;
        if r.record.site != o.site {
            return Err(fail(what(), "a disclosed record is at another site"));
        }
        let ci = r.record.category.index();
        if ci < lo.1 || ci > hi.1 {
            return Err(fail(
                what(),
                format!(
                    "leaf {i} is of another category ({})",
                    r.record.category.as_str()
                ),
            ));
        }
        if ci < last_category {
            return Err(fail(
                what(),
                format!("leaf {i} is out of category order: the declaration is not sorted"),
            ));
        }
        last_category = ci;
    }
    // The neighbours prove nothing of this range lies just outside.
    let need: Vec<u64> = [o.start.checked_sub(1), Some(end).filter(|&e| e < n)]
        .into_iter()
        .flatten()
        .collect();
    for i in need {
        let bwhat = || Check::Boundary {
            site: o.site.clone(),
            category: o.category,
            index: i,
        };
        let b = o
            .boundaries
            .iter()
            .find(|b| b.index == i)
            .ok_or_else(|| fail(what(), format!("the boundary leaf {i} is not shown")))?;
        let rho: Hash = B64
            .decode(&b.record_hash)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| fail(bwhat(), "its record hash is malformed"))?;
        let key: Key = (b.site_index, b.category_index);
        let valid_key = key == (DUMMY_SITE, DUMMY_CATEGORY)
            || ((b.site_index as usize) < public.sites.len() && b.category_index <= 3);
        if !valid_key {
            return Err(fail(
                bwhat(),
                format!("({}, {}) is no leaf's key", b.site_index, b.category_index),
            ));
        }
        check_leaf(
            i,
            &leaf_data(b.site_index, b.category_index, &rho),
            &b.proof,
            &bwhat,
        )?;
        let outside = if i < o.start { key < lo } else { key > hi };
        if !outside {
            return Err(fail(
                what(),
                format!(
                    "leaf {i}, just outside its range, also belongs to it: more records are there than its count of {}",
                    o.count
                ),
            ));
        }
    }
    Ok(())
}

/// One line: what the verification established.
impl std::fmt::Display for VerifiedDisclosure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "verified: {} record(s) of {} {}{}",
            self.count(),
            self.kind(),
            self.selector(),
            if self.complete() {
                ", proven to be every record its commitments count"
            } else {
                ""
            }
        )
    }
}
