//! A declaration on disk: `DIR/public.json` (published, logged) and
//! `DIR/secret/declaration.json` (directory 0700, file 0600, never
//! overwritten). Errors name the file and never echo secret contents.

use crate::declaration::{Public, Secret};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Why a declaration file cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A declaration is never overwritten.
    #[error("{path} exists; a declaration is never overwritten")]
    Exists {
        /// The directory.
        path: PathBuf,
    },
    /// The file is not what it should be (for the secret part, the parser's
    /// words are withheld: they could quote secret values).
    #[error("{path}: not a declaration's {part}{detail}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// `public part` or `secret part`.
        part: &'static str,
        /// `: what serde said`, for the public part only.
        detail: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a declaration's public part.
pub fn read_public(path: &Path) -> Result<Public, FileError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    crate::declaration::parse_public(&text).map_err(|e| FileError::Malformed {
        path: path.to_path_buf(),
        part: "public part",
        detail: format!(": {e}"),
    })
}

/// Reads a declaration's secret part from its `secret/` directory.
pub fn read_secret(dir: &Path) -> Result<Secret, FileError> {
    let path = dir.join("declaration.json");
    let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(io(&path))?);
    serde_json::from_str(&text).map_err(|_| FileError::Malformed {
        path: path.clone(),
        part: "secret part",
        detail: String::new(),
    })
}

/// Writes a declaration into the new directory `out`: `public.json`, and
/// `secret/declaration.json` (directory 0700, file 0600).
pub fn write_declaration(out: &Path, public: &Public, secret: &Secret) -> Result<(), FileError> {
    if out.exists() {
        return Err(FileError::Exists {
            path: out.to_path_buf(),
        });
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    let sdir = out.join("secret");
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(&sdir).map_err(io(&sdir))?;
    // Plain data: serialising cannot fail.
    let text = Zeroizing::new(serde_json::to_string(secret).unwrap_or_default());
    let spath = sdir.join("declaration.json");
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let mut f = o.open(&spath).map_err(io(&spath))?;
    f.write_all(text.as_bytes()).map_err(io(&spath))?;
    f.sync_all().map_err(io(&spath))?;
    let ppath = out.join("public.json");
    let public_text = serde_json::to_string_pretty(public).unwrap_or_default() + "\n";
    std::fs::write(&ppath, public_text).map_err(io(&ppath))?;
    Ok(())
}
