//! Key files and log names: where a party's signer key lives on disk, how it
//! is written (owner-only, never overwritten) and read (refused if others
//! can read it), and how a party's log is named.
//!
//! - `NAME.key`: the signer key file, [`Signer::to_key_file`], mode 0600;
//! - `NAME.vkey`: the verifier key, [`Verifier`]'s text, one line;
//! - `NAME` is the key name with `/` replaced by `_`
//!   (`accord/new-start/US` → `accord_new-start_US.key`).
//!
//! No error here ever contains key material: a file that is not a key is
//! named, never echoed.

use crate::note::{NoteError, Signer, Verifier};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The origin of a party's log under a treaty: `accord/TREATY/PARTY`.
pub fn origin(treaty: &str, party: &str) -> String {
    format!("accord/{treaty}/{party}")
}

/// The file stem for a key name.
pub fn key_stem(name: &str) -> String {
    name.replace('/', "_")
}

/// What went wrong with a key file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A key file already exists: keys are never overwritten.
    #[error("{path} exists (will not overwrite a key)")]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a key of the kind expected (its text is not shown).
    #[error("{path}: not a {what}: {source}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// `signer key` or `verifier key`.
        what: &'static str,
        /// What the parser said (never the key).
        source: NoteError,
    },
    /// A private key that someone other than its owner can read.
    #[error(
        "{path} is readable by others (mode {mode:o}); a signer key must be mode 0600: chmod 600 it"
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `dir` (and its parents) readable by its owner only (0700 on
/// Unix, whatever the umask); an existing directory keeps its mode.
pub fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir).map_err(io(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    Ok(())
}

/// Writes a new file readable and writable by its owner only (0600 on
/// Unix, whatever the umask), durably; refuses to replace an existing one.
pub fn write_secret(path: &Path, text: &str) -> Result<(), KeyError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let mut f = o.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            KeyError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    #[cfg(unix)]
    {
        // The umask may have narrowed the mode further, never widened it;
        // set it exactly.
        use std::os::unix::fs::PermissionsExt as _;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io(path))?;
    }
    f.write_all(text.as_bytes()).map_err(io(path))?;
    f.sync_all().map_err(io(path))?;
    Ok(())
}

/// The paths a key pair is written to in `dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    /// `NAME.key` (secret).
    pub key: PathBuf,
    /// `NAME.vkey`.
    pub vkey: PathBuf,
}

impl KeyFiles {
    /// Where the key pair of `name` lives in `dir`.
    pub fn in_dir(dir: &Path, name: &str) -> KeyFiles {
        let stem = key_stem(name);
        KeyFiles {
            key: dir.join(format!("{stem}.key")),
            vkey: dir.join(format!("{stem}.vkey")),
        }
    }
}

/// Writes `signer`'s key file (0600) and verifier key into `dir` (created
/// 0700 if missing). Refuses to overwrite either.
pub fn write_key_pair(signer: &Signer, dir: &Path) -> Result<KeyFiles, KeyError> {
    create_private_dir(dir)?;
    let files = KeyFiles::in_dir(dir, signer.name());
    if files.vkey.exists() {
        return Err(KeyError::Exists { path: files.vkey });
    }
    write_secret(&files.key, &signer.to_key_file())?;
    std::fs::write(&files.vkey, format!("{}\n", signer.verifier())).map_err(io(&files.vkey))?;
    Ok(files)
}

/// Makes a fresh key named `name` and writes it into `dir`.
pub fn generate_key_pair(name: &str, dir: &Path) -> Result<(Signer, KeyFiles), KeyError> {
    let signer = Signer::generate(name).map_err(|source| KeyError::Malformed {
        path: dir.to_path_buf(),
        what: "key name",
        source,
    })?;
    let files = write_key_pair(&signer, dir)?;
    Ok((signer, files))
}

/// Refuses a secret file that its group or others can read or write.
pub fn check_private(path: &Path) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .map_err(io(path))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    Ok(())
}

/// Reads a signer key file, refusing one that others can read.
pub fn read_signer(path: &Path) -> Result<Signer, KeyError> {
    check_private(path)?;
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    Signer::parse(&text).map_err(|source| KeyError::Malformed {
        path: path.to_path_buf(),
        what: "signer key",
        source,
    })
}

/// Reads a verifier key file.
pub fn read_verifier(path: &Path) -> Result<Verifier, KeyError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    Verifier::parse(&text).map_err(|source| KeyError::Malformed {
        path: path.to_path_buf(),
        what: "verifier key",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_pairs_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().expect("test");
        let keys = dir.path().join("keys");
        let (signer, files) = generate_key_pair("accord/t/US", &keys).expect("test");
        assert_eq!(files.key, keys.join("accord_t_US.key"));
        assert_eq!(
            read_signer(&files.key).expect("test").verifier(),
            signer.verifier()
        );
        assert_eq!(read_verifier(&files.vkey).expect("test"), signer.verifier());
        assert!(matches!(
            write_key_pair(&signer, &keys),
            Err(KeyError::Exists { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).expect("test").permissions().mode() & 0o777;
            assert_eq!(mode(&files.key), 0o600);
            assert_eq!(mode(&keys), 0o700);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_world_readable_signer_key_is_refused_without_echoing_it() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("test");
        let (signer, files) = generate_key_pair("accord/t/RU", dir.path()).expect("test");
        std::fs::set_permissions(&files.key, std::fs::Permissions::from_mode(0o644)).expect("test");
        let e = read_signer(&files.key).expect_err("exposed");
        let text = e.to_string();
        assert!(text.contains("mode 644"), "{text}");
        assert!(!text.contains(signer.to_key_file().trim()), "{text}");
    }

    #[test]
    fn a_malformed_key_file_is_named_not_echoed() {
        let dir = tempfile::tempdir().expect("test");
        let p = dir.path().join("x.vkey");
        std::fs::write(&p, "PRIVATE+KEY+secretstuff").expect("test");
        let e = read_verifier(&p).expect_err("not a vkey").to_string();
        assert!(e.contains("x.vkey") && !e.contains("secretstuff"), "{e}");
    }
}
