//! Writes the seed corpora: `fuzz/corpus/<target>/gen-*` (made from the
//! fixtures), `repo-*` (the repository's own files each target reads) and
//! `rfc6962-*` (the conformance vectors, as proof JSON). Files of other
//! names (inputs the fuzzer found and someone kept) are left alone.
//!
//! ```text
//! cargo run -p accord-fuzz-targets --example write_corpus
//! ```

use accord_fuzz_targets::seeds::{generated, CONFORMANCE_DIR, REPO_FILES};
use accord_fuzz_targets::TARGETS;
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let corpus = repo.join("fuzz/corpus");
    let mut written = 0;
    for t in TARGETS {
        let dir = corpus.join(t.name);
        std::fs::create_dir_all(&dir)?;
        for e in std::fs::read_dir(&dir)? {
            let p = e?.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if ["gen-", "repo-", "rfc6962-"]
                .iter()
                .any(|g| name.starts_with(g))
            {
                std::fs::remove_file(&p)?;
            }
        }
    }
    for s in generated() {
        std::fs::write(corpus.join(s.target).join(&s.name), &s.bytes)?;
        written += 1;
    }
    for (target, path) in REPO_FILES {
        let name = format!("repo-{}", path.replace('/', "-"));
        std::fs::copy(repo.join(path), corpus.join(target).join(name))?;
        written += 1;
    }
    for (kind, file) in conformance(&repo.join(CONFORMANCE_DIR))? {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file)?)?;
        let hashes = v.get("proof").cloned().unwrap_or(serde_json::Value::Null);
        let hashes = if hashes.is_null() {
            serde_json::json!([])
        } else {
            hashes
        };
        let proof = match kind {
            "consistency" => serde_json::json!({
                "old_size": v["size1"], "new_size": v["size2"], "hashes": hashes,
            }),
            _ => serde_json::json!({
                "leaf_index": v["leafIdx"], "tree_size": v["treeSize"], "hashes": hashes,
            }),
        };
        let rel = file.strip_prefix(repo.join(CONFORMANCE_DIR))?;
        let name = format!("rfc6962-{}", rel.display().to_string().replace('/', "-"));
        std::fs::write(
            corpus.join("proofs").join(name),
            serde_json::to_string_pretty(&proof)?,
        )?;
        written += 1;
    }
    println!("wrote {written} seed files under {}", corpus.display());
    Ok(())
}

/// The happy paths, and every vector of `additional` and `single-entry`.
fn conformance(dir: &Path) -> Result<Vec<(&'static str, PathBuf)>> {
    let mut out = vec![];
    for kind in ["consistency", "inclusion"] {
        for f in files_under(&dir.join(kind))? {
            let rel = f.strip_prefix(dir)?.to_string_lossy().to_string();
            if rel.contains("/additional/")
                || rel.contains("/single-entry/")
                || rel.ends_with("/happy-path.json")
            {
                out.push((kind, f));
            }
        }
    }
    Ok(out)
}

/// Every `.json` file under `dir`, sorted.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            out.extend(files_under(&p)?);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}
