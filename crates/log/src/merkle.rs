//! The Merkle tree of RFC 9162 §2.1, its proofs, and their verification.
//!
//! Notation: a tree of `n` leaves `D[0..n]`; `MTH(D[a..b])` is the hash of the
//! subtree over leaves `a..b`. A *complete* subtree has `2^h` leaves starting
//! at a multiple of `2^h`; it is named `(level h, index a / 2^h)` and its hash
//! never changes once the log has grown past it. Every other `MTH` in a proof
//! lies on the tree's right edge and is combined from complete subtrees, so a
//! store that keeps every complete subtree answers any proof with
//! `O(log n)` lookups and no re-hashing of leaves.
//!
//! - leaf hash: `SHA-256(0x00 || entry)`
//! - interior: `SHA-256(0x01 || left || right)`
//! - empty tree: `SHA-256("")`
//!
//! For `n > 1`, `k` is the largest power of two smaller than `n`, and
//! `MTH(D[0..n]) = H(0x01 || MTH(D[0..k]) || MTH(D[k..n]))`.

use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// Domain prefix of a leaf hash.
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain prefix of an interior node hash.
pub const NODE_PREFIX: u8 = 0x01;

/// `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(entry);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Why a proof does not verify, or cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The sizes or index are impossible.
    #[error("impossible sizes: {0}")]
    Sizes(String),
    /// The proof has the wrong number of hashes.
    #[error("wrong proof length: {got} hashes, expected {want}")]
    Length {
        /// Hashes given.
        got: usize,
        /// Hashes the sizes call for.
        want: usize,
    },
    /// The computed root differs from the expected root.
    #[error("root mismatch: expected {}, computed {}", hex(.expected), hex(.computed))]
    RootMismatch {
        /// The root the proof was checked against.
        expected: Hash,
        /// The root the proof leads to.
        computed: Hash,
    },
    /// The store lacks a node the proof needs.
    #[error("missing node (level {level}, index {index})")]
    MissingNode {
        /// Level.
        level: u32,
        /// Index.
        index: u64,
    },
}

/// Lower-case hex of a hash (for messages).
pub fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn largest_pow2_below(n: u64) -> u64 {
    debug_assert!(n > 1);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Where the hashes of complete subtrees come from.
pub trait NodeSource {
    /// The hash of the complete subtree at `(level, index)`.
    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError>;
}

/// Computes `MTH(D[begin..end])` from complete subtrees, memoising the
/// right-edge ranges a proof asks for more than once.
struct Mth<'a, S: NodeSource + ?Sized> {
    src: &'a S,
    memo: HashMap<(u64, u64), Hash>,
}

impl<S: NodeSource + ?Sized> Mth<'_, S> {
    fn get(&mut self, begin: u64, end: u64) -> Result<Hash, ProofError> {
        let n = end - begin;
        if n.is_power_of_two() && begin.is_multiple_of(n) {
            return self.src.node(n.trailing_zeros(), begin / n);
        }
        if let Some(h) = self.memo.get(&(begin, end)) {
            return Ok(*h);
        }
        let k = largest_pow2_below(n);
        let left = self.get(begin, begin + k)?;
        let right = self.get(begin + k, end)?;
        let h = node_hash(&left, &right);
        self.memo.insert((begin, end), h);
        Ok(h)
    }
}

/// The root of a tree of `size` leaves.
pub fn root<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<Hash, ProofError> {
    if size == 0 {
        return Ok(empty_root());
    }
    Mth {
        src,
        memo: HashMap::new(),
    }
    .get(0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves
/// (RFC 9162 §2.1.3.1, `PATH(m, D[n])`), leaf-side first.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::Sizes(format!(
            "leaf index {index} is not below tree size {size}"
        )));
    }
    let mut mth = Mth {
        src,
        memo: HashMap::new(),
    };
    let mut path = vec![];
    // Walk from the root down, then reverse: PATH lists the leaf's sibling first.
    let (mut m, mut begin, mut end) = (index, 0u64, size);
    while end - begin > 1 {
        let k = largest_pow2_below(end - begin);
        if m < k {
            path.push(mth.get(begin + k, end)?);
            end = begin + k;
        } else {
            path.push(mth.get(begin, begin + k)?);
            m -= k;
            begin += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof between sizes `old` and `new` (RFC 9162 §2.1.4.1,
/// `PROOF(m, D[n])`), leaf-side first.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    src: &S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProofError> {
    if old == 0 || old > new {
        return Err(ProofError::Sizes(format!(
            "no consistency proof from size {old} to size {new}"
        )));
    }
    if old == new {
        return Ok(vec![]);
    }
    let mut mth = Mth {
        src,
        memo: HashMap::new(),
    };
    let mut path = vec![];
    // SUBPROOF(m, D[begin..end], b), iteratively.
    let (mut m, mut begin, mut end, mut complete) = (old, 0u64, new, true);
    loop {
        let n = end - begin;
        if m == n {
            if !complete {
                path.push(mth.get(begin, end)?);
            }
            break;
        }
        let k = largest_pow2_below(n);
        if m <= k {
            path.push(mth.get(begin + k, end)?);
            end = begin + k;
        } else {
            path.push(mth.get(begin, begin + k)?);
            m -= k;
            begin += k;
            complete = false;
        }
    }
    path.reverse();
    Ok(path)
}

/// Computes the root an inclusion proof leads to (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::Sizes(format!(
            "leaf index {index} is not below tree size {size}"
        )));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::Length {
                got: proof.len(),
                want: inclusion_len(index, size),
            });
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::Length {
            got: proof.len(),
            want: inclusion_len(index, size),
        });
    }
    Ok(r)
}

/// Verifies that `leaf` is at `index` in the tree of `size` leaves with `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion_proof(index, size, leaf, proof)?;
    if &computed != root {
        return Err(ProofError::RootMismatch {
            expected: *root,
            computed,
        });
    }
    Ok(())
}

/// The number of hashes in an inclusion proof.
pub fn inclusion_len(index: u64, size: u64) -> usize {
    if index >= size {
        return 0;
    }
    let (mut m, mut n, mut len) = (index, size, 0);
    while n > 1 {
        let k = largest_pow2_below(n);
        if m < k {
            n = k;
        } else {
            m -= k;
            n -= k;
        }
        len += 1;
    }
    len
}

/// Verifies that the tree of `new` leaves with `new_root` extends the tree of
/// `old` leaves with `old_root` (RFC 9162 §2.1.4.2).
///
/// A proof from size 0 is refused: it would prove nothing.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    verify_consistency_raw(old, new, old_root, new_root, proof)
}

/// [`verify_consistency`] on roots as received (byte strings): with equal
/// sizes the roots are compared as given; otherwise each must be 32 bytes.
pub fn verify_consistency_raw(
    old: u64,
    new: u64,
    old_root: &[u8],
    new_root: &[u8],
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old == 0 {
        return Err(ProofError::Sizes(
            "a consistency proof from the empty tree proves nothing".into(),
        ));
    }
    if old > new {
        return Err(ProofError::Sizes(format!(
            "old size {old} is larger than new size {new}"
        )));
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::Length {
                got: proof.len(),
                want: 0,
            });
        }
        if old_root != new_root {
            return Err(ProofError::Sizes("equal sizes with different roots".into()));
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(ProofError::Length { got: 0, want: 1 });
    }
    let as_hash = |r: &[u8], which: &str| -> Result<Hash, ProofError> {
        r.try_into().map_err(|_| {
            ProofError::Sizes(format!("the {which} root is {} bytes, not 32", r.len()))
        })
    };
    let (old_root, new_root) = (&as_hash(old_root, "old")?, &as_hash(new_root, "new")?);
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return Err(ProofError::Length {
                got: proof.len(),
                want: proof.len() - 1,
            });
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::Length {
            got: proof.len(),
            want: proof.len() + 1,
        });
    }
    if &fr != old_root {
        return Err(ProofError::RootMismatch {
            expected: *old_root,
            computed: fr,
        });
    }
    if &sr != new_root {
        return Err(ProofError::RootMismatch {
            expected: *new_root,
            computed: sr,
        });
    }
    Ok(())
}

/// The complete subtrees a tree of `size` leaves decomposes into, largest
/// first, as `(level, index)`.
pub fn decomposition(size: u64) -> Vec<(u32, u64)> {
    let mut out = vec![];
    let mut begin = 0u64;
    for level in (0..64u32).rev() {
        if size & (1u64 << level) != 0 {
            out.push((level, begin >> level));
            begin += 1u64 << level;
        }
    }
    out
}

/// The position of the complete subtree `(level, index)` in the order nodes
/// complete as leaves are appended (each leaf, then the subtrees it
/// completes, lowest first). A store that writes nodes in that order can
/// find any node by this number, and an audit can stream them.
pub fn postorder(level: u32, index: u64) -> u64 {
    let last_leaf = ((index + 1) << level) - 1;
    2 * last_leaf - u64::from(last_leaf.count_ones()) + u64::from(level)
}

/// Number of complete subtrees (leaves included) in a tree of `size` leaves.
pub fn node_count(size: u64) -> u64 {
    2 * size - u64::from(size.count_ones())
}

/// An append-only accumulator of complete subtrees: the right edge of a tree
/// (a *compact range*), `O(log n)` hashes.
#[derive(Debug, Clone, Default)]
pub struct Compact {
    size: u64,
    /// (level, hash), levels strictly decreasing.
    stack: Vec<(u32, Hash)>,
}

impl Compact {
    /// An empty tree.
    pub fn new() -> Compact {
        Compact::default()
    }

    /// Resumes from the decomposition of a tree of `size` leaves (hashes
    /// largest subtree first, as [`decomposition`] lists them).
    pub fn from_parts(size: u64, hashes: &[Hash]) -> Option<Compact> {
        let parts = decomposition(size);
        (parts.len() == hashes.len()).then(|| Compact {
            size,
            stack: parts
                .iter()
                .zip(hashes)
                .map(|(&(l, _), h)| (l, *h))
                .collect(),
        })
    }

    /// Leaves so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; calls `completed(level, index, hash)` for the
    /// leaf and for every subtree it completes, in postorder.
    pub fn push(&mut self, leaf: Hash, mut completed: impl FnMut(u32, u64, &Hash)) {
        let index = self.size;
        completed(0, index, &leaf);
        let mut cur = (0u32, leaf);
        while let Some(&(l, h)) = self.stack.last() {
            if l != cur.0 {
                break;
            }
            self.stack.pop();
            let parent = node_hash(&h, &cur.1);
            let level = l + 1;
            completed(level, index >> level, &parent);
            cur = (level, parent);
        }
        self.stack.push(cur);
        self.size += 1;
    }

    /// The root of the tree so far.
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        match it.next() {
            None => empty_root(),
            Some(&(_, first)) => it.fold(first, |acc, (_, h)| node_hash(h, &acc)),
        }
    }
}

/// An in-memory tree that keeps every complete subtree (tests, tools).
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    nodes: Vec<Hash>,
    compact: Compact,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// Appends an entry.
    pub fn append(&mut self, entry: &[u8]) {
        self.append_leaf(leaf_hash(entry));
    }

    /// Appends a leaf hash.
    pub fn append_leaf(&mut self, leaf: Hash) {
        let nodes = &mut self.nodes;
        self.compact.push(leaf, |_, _, h| nodes.push(*h));
    }

    /// Leaves.
    pub fn size(&self) -> u64 {
        self.compact.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.compact.root()
    }
}

impl NodeSource for MemoryTree {
    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError> {
        let id = postorder(level, index);
        self.nodes
            .get(usize::try_from(id).unwrap_or(usize::MAX))
            .copied()
            .ok_or(ProofError::MissingNode { level, index })
    }
}
