//! The transparency-dev/merkle vectors (Apache-2.0; see testdata/rfc6962/NOTICE.md):
//! accept every `wantErr: false`, reject every `wantErr: true`.

use accord_log::merkle::{verify_consistency_raw, verify_inclusion, Hash};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).expect("testdata") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn hash(v: &Value) -> Option<Hash> {
    B64.decode(v.as_str()?).ok()?.try_into().ok()
}

fn proof(v: &Value) -> Option<Vec<Hash>> {
    match v {
        Value::Null => Some(vec![]),
        Value::Array(a) => a.iter().map(hash).collect(),
        _ => None,
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata/rfc6962")
}

#[test]
fn every_inclusion_vector() {
    let all = files(&root().join("inclusion"));
    assert!(all.len() > 50, "{} files", all.len());
    for f in &all {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(f).expect("read")).expect("json");
        let want_err = v["wantErr"].as_bool().expect("wantErr");
        let result = (|| -> Result<(), String> {
            let idx = v["leafIdx"].as_i64().ok_or("leafIdx")?;
            let size = v["treeSize"].as_i64().ok_or("treeSize")?;
            let (idx, size) = (
                u64::try_from(idx).map_err(|_| "negative")?,
                u64::try_from(size).map_err(|_| "negative")?,
            );
            let leaf = hash(&v["leafHash"]).ok_or("leafHash")?;
            let root = hash(&v["root"]).ok_or("root")?;
            let p = proof(&v["proof"]).ok_or("proof")?;
            verify_inclusion(idx, size, &leaf, &p, &root).map_err(|e| e.to_string())
        })();
        assert_eq!(
            result.is_err(),
            want_err,
            "{}: {:?} ({})",
            f.display(),
            result,
            v["desc"]
        );
    }
}

#[test]
fn every_consistency_vector() {
    let all = files(&root().join("consistency"));
    assert!(all.len() > 50, "{} files", all.len());
    for f in &all {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(f).expect("read")).expect("json");
        let want_err = v["wantErr"].as_bool().expect("wantErr");
        let result = (|| -> Result<(), String> {
            let s1 = u64::try_from(v["size1"].as_i64().ok_or("size1")?).map_err(|_| "negative")?;
            let s2 = u64::try_from(v["size2"].as_i64().ok_or("size2")?).map_err(|_| "negative")?;
            // Roots as received: the vectors use short placeholders where they do not matter.
            let r1 = B64
                .decode(v["root1"].as_str().ok_or("root1")?)
                .map_err(|_| "root1")?;
            let r2 = B64
                .decode(v["root2"].as_str().ok_or("root2")?)
                .map_err(|_| "root2")?;
            let p = proof(&v["proof"]).ok_or("proof")?;
            verify_consistency_raw(s1, s2, &r1, &r2, &p).map_err(|e| e.to_string())
        })();
        assert_eq!(
            result.is_err(),
            want_err,
            "{}: {:?} ({})",
            f.display(),
            result,
            v["desc"]
        );
    }
}
