//! Every proof, for every tree size up to 256, against a slow and literal
//! reading of RFC 9162 §2.1 (MTH, PATH, PROOF and SUBPROOF as written).

use accord_log::merkle::*;
use proptest::prelude::*;

/// MTH(D[n]) exactly as the RFC defines it.
fn mth(d: &[Vec<u8>]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => leaf_hash(&d[0]),
        n => {
            let k = (1..n)
                .map(|i| 1usize << i)
                .take_while(|&p| p < n)
                .last()
                .unwrap_or(1);
            let k = if n > 1 && k >= n { k / 2 } else { k };
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return vec![];
    }
    let k = k_of(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

fn entries(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
}

#[test]
fn roots_and_every_proof_for_every_size_up_to_64() {
    let d = entries(64);
    let mut tree = MemoryTree::new();
    assert_eq!(tree.root(), mth(&[]));
    for n in 1..=64 {
        tree.append(&d[n - 1]);
        let root = tree.root();
        assert_eq!(root, mth(&d[..n]), "root of {n}");
        assert_eq!(
            accord_log::merkle::root(&tree, n as u64).expect("root"),
            root
        );
        for m in 0..n {
            let p = inclusion_proof(&tree, m as u64, n as u64).expect("proof");
            assert_eq!(p, path(m, &d[..n]), "PATH({m}, {n})");
            assert_eq!(p.len(), inclusion_len(m as u64, n as u64));
            verify_inclusion(m as u64, n as u64, &leaf_hash(&d[m]), &p, &root).expect("verifies");
        }
        for m in 1..=n {
            let p = consistency_proof(&tree, m as u64, n as u64).expect("proof");
            assert_eq!(
                p,
                if m == n {
                    vec![]
                } else {
                    subproof(m, &d[..n], true)
                },
                "PROOF({m}, {n})"
            );
            verify_consistency(m as u64, n as u64, &mth(&d[..m]), &root, &p).expect("verifies");
        }
    }
}

#[test]
fn postorder_numbers_are_the_order_nodes_complete() {
    let mut seen = vec![];
    let mut c = Compact::new();
    for i in 0..300u64 {
        c.push(leaf_hash(&i.to_be_bytes()), |l, idx, _| {
            seen.push(postorder(l, idx))
        });
    }
    assert_eq!(seen, (0..node_count(300)).collect::<Vec<_>>());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn proofs_agree_with_the_rfc_up_to_256(n in 1usize..=256, a in any::<usize>(), b in any::<usize>()) {
        let d = entries(n);
        let mut tree = MemoryTree::new();
        for e in &d { tree.append(e); }
        prop_assert_eq!(tree.root(), mth(&d));
        let m = a % n;
        let p = inclusion_proof(&tree, m as u64, n as u64).expect("proof");
        prop_assert_eq!(&p, &path(m, &d));
        prop_assert!(verify_inclusion(m as u64, n as u64, &leaf_hash(&d[m]), &p, &tree.root()).is_ok());
        let old = 1 + b % n;
        let c = consistency_proof(&tree, old as u64, n as u64).expect("proof");
        let want = if old == n { vec![] } else { subproof(old, &d, true) };
        prop_assert_eq!(&c, &want);
        prop_assert!(verify_consistency(old as u64, n as u64, &mth(&d[..old]), &tree.root(), &c).is_ok());
    }

    #[test]
    fn any_single_bit_flip_breaks_a_proof(n in 2usize..=256, a in any::<usize>(), which in any::<usize>(), bit in 0usize..256) {
        let d = entries(n);
        let mut tree = MemoryTree::new();
        for e in &d { tree.append(e); }
        let m = a % n;
        let mut p = inclusion_proof(&tree, m as u64, n as u64).expect("proof");
        prop_assume!(!p.is_empty());
        let i = which % p.len();
        p[i][bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(m as u64, n as u64, &leaf_hash(&d[m]), &p, &tree.root()).is_err());
    }

    #[test]
    fn wrong_sizes_and_truncations_are_rejected(n in 3usize..=256, a in any::<usize>()) {
        let d = entries(n);
        let mut tree = MemoryTree::new();
        for e in &d { tree.append(e); }
        let old = 1 + a % (n - 1);
        let c = consistency_proof(&tree, old as u64, n as u64).expect("proof");
        let r1 = mth(&d[..old]);
        let r2 = tree.root();
        // (A claimed size alone can sometimes change without changing the
        // computation — sizes 17 and 18 share one proof shape — which is why
        // a checkpoint signs size and root together. Roots cannot change.)
        let other_old = mth(&d[..old.max(2) - 1]);
        if old > 1 {
            prop_assert!(verify_consistency(old as u64, n as u64, &other_old, &r2, &c).is_err());
        }
        if !c.is_empty() {
            prop_assert!(verify_consistency(old as u64, n as u64, &r1, &r2, &c[..c.len() - 1]).is_err());
        }
        let mut longer = c.clone();
        longer.push(r2);
        prop_assert!(verify_consistency(old as u64, n as u64, &r1, &r2, &longer).is_err());
        prop_assert!(verify_consistency(old as u64, n as u64, &r2, &r1, &c).is_err());
    }
}
