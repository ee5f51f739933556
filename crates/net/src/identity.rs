//! A node's TLS identity: a key, a self-signed certificate for it, and the
//! key's [`Pin`].
//!
//! [`tls_init`] makes one and writes it to a directory (the library side of
//! `accord tls init`); [`Identity::load`] reads it back and refuses a key
//! file that anyone but its owner can read. The certificate is self-signed
//! because no authority vouches for a party's node: its peers pin its key
//! (see [`crate::pin`]), and the certificate only carries that key, its
//! validity dates and the TLS key usages.
//!
//! Files written by [`tls_init`] into `DIR` (created `0700`, and set to
//! `0700` if it exists, whatever the umask):
//!
//! | file | content | mode |
//! |---|---|---|
//! | `DIR/tls.key` | the private key, PKCS#8 PEM (ECDSA P-256) | `0600` |
//! | `DIR/tls.crt` | the self-signed certificate, PEM | `0644` |
//! | `DIR/tls.pin` | the pin, `sha256/BASE64` and a newline | `0644` |
//!
//! An existing `tls.key` is never overwritten: a new key is a new identity
//! that every peer has to pin again.

use crate::pin::Pin;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The largest key or certificate file read (a P-256 key is about 240
/// bytes of PEM, a certificate about 600).
pub const MAX_PEM_FILE: u64 = 64 << 10;

/// How long a certificate made by [`tls_init`] is valid by default: five
/// years (1,826 days). Renewing keeps the key, so the pin survives.
pub const DEFAULT_VALIDITY: Duration = Duration::from_secs(1826 * 86_400);

/// The names a certificate made by default carries. Peers check the pin,
/// not the name, so this only matters to tools such as `curl`.
pub const DEFAULT_NAMES: &[&str] = &["localhost"];

/// Why an identity could not be made, written or read. No variant carries
/// any byte of a key.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A file or directory operation failed.
    #[error("{}: cannot {op}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done (`create`, `read`, `write`, `chmod`).
        op: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// `tls init` found a key already there.
    #[error("{}: a TLS key already exists; a new key is a new identity every peer must pin again, so remove it yourself if that is what you want", path.display())]
    AlreadyExists {
        /// The key file.
        path: PathBuf,
    },
    /// The key file can be read or written by its group or others.
    #[error("{}: the TLS key has mode {mode:04o}, so its group or others can read or change it; run `chmod 600 {}`", path.display(), path.display())]
    KeyPermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Not a regular file.
    #[error("{}: not a regular file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// Larger than [`MAX_PEM_FILE`].
    #[error("{}: larger than {limit} bytes, not a PEM key or certificate", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// The key file holds no PEM private key the TLS library can use (the
    /// parser's detail is withheld: it could quote the key).
    #[error("{}: not a PEM private key (PKCS#8, PKCS#1 or SEC1) of a supported type", path.display())]
    KeyFormat {
        /// The key file.
        path: PathBuf,
    },
    /// The certificate file holds no PEM certificate.
    #[error("{}: not a PEM certificate: {source}", path.display())]
    CertificatePem {
        /// The certificate file.
        path: PathBuf,
        /// The PEM error.
        source: rustls::pki_types::pem::Error,
    },
    /// The certificate is not X.509 as the TLS library reads it.
    #[error("{}: not a usable X.509 certificate: {source}", path.display())]
    Certificate {
        /// The certificate file.
        path: PathBuf,
        /// The parser's error.
        source: webpki::Error,
    },
    /// The key is not the certificate's.
    #[error("{} is not the key of the certificate {}", key.display(), cert.display())]
    KeyMismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
    },
    /// Making the key or certificate failed.
    #[error("cannot generate a TLS identity: {0}")]
    Generate(#[from] rcgen::Error),
    /// A generated certificate could not be read back (a bug).
    #[error("the generated certificate does not parse: {0}")]
    Generated(webpki::Error),
    /// A generated key could not be loaded (a bug).
    #[error("the generated key cannot be used: {0}")]
    GeneratedKey(rustls::Error),
}

/// The paths `tls init` writes in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// `DIR/tls.key`.
    pub key: PathBuf,
    /// `DIR/tls.crt`.
    pub cert: PathBuf,
    /// `DIR/tls.pin`.
    pub pin: PathBuf,
}

impl TlsFiles {
    /// The files in `dir`.
    pub fn in_dir(dir: &Path) -> TlsFiles {
        TlsFiles {
            key: dir.join("tls.key"),
            cert: dir.join("tls.crt"),
            pin: dir.join("tls.pin"),
        }
    }
}

/// What a new certificate says.
#[derive(Debug, Clone)]
pub struct IdentityOptions {
    /// DNS names or IP addresses for the subject alternative names.
    pub names: Vec<String>,
    /// Valid from.
    pub not_before: SystemTime,
    /// Valid until.
    pub not_after: SystemTime,
}

impl Default for IdentityOptions {
    /// [`DEFAULT_NAMES`], valid from a day ago (clock skew) for
    /// [`DEFAULT_VALIDITY`].
    fn default() -> IdentityOptions {
        let now = SystemTime::now();
        IdentityOptions {
            names: DEFAULT_NAMES.iter().map(|s| s.to_string()).collect(),
            not_before: now - Duration::from_secs(86_400),
            not_after: now + DEFAULT_VALIDITY,
        }
    }
}

/// A certificate and its key, ready for a TLS server or client.
#[derive(Clone)]
pub struct Identity {
    certified: Arc<CertifiedKey>,
    pin: Pin,
}

impl std::fmt::Debug for Identity {
    /// The pin only: never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("pin", &self.pin).finish()
    }
}

/// The crypto provider every configuration in this crate uses: *ring*
/// (pure Rust and assembly, builds with the C compiler, no cmake).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

struct Generated {
    identity: Identity,
    cert_pem: String,
    key_pem: String,
}

fn generate(opts: &IdentityOptions) -> Result<Generated, IdentityError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(opts.names.clone())?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, "accord node");
    params.distinguished_name = dn;
    params.not_before = opts.not_before.into();
    params.not_after = opts.not_after.into();
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params.self_signed(&key)?;
    let der = cert.der().clone();
    let pin = Pin::of_certificate(&der).map_err(IdentityError::Generated)?;
    let key_der = PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let certified = CertifiedKey::from_der(vec![der], key_der, &provider())
        .map_err(IdentityError::GeneratedKey)?;
    Ok(Generated {
        identity: Identity {
            certified: Arc::new(certified),
            pin,
        },
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

impl Identity {
    /// A new key and self-signed certificate in memory (tests, benchmarks
    /// and `demo --serve`, which need no files).
    pub fn generate(opts: &IdentityOptions) -> Result<Identity, IdentityError> {
        Ok(generate(opts)?.identity)
    }

    /// Reads a key and its certificate (PEM). Refuses a key file with any
    /// group or other permission bit, a file over [`MAX_PEM_FILE`], and a
    /// key that is not the certificate's.
    pub fn load(files: &TlsFiles) -> Result<Identity, IdentityError> {
        Identity::load_files(&files.cert, &files.key)
    }

    /// [`Identity::load`] with the two paths given separately.
    pub fn load_files(cert_path: &Path, key_path: &Path) -> Result<Identity, IdentityError> {
        let key_bytes = read_bounded(key_path, true)?;
        let key =
            PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|_| IdentityError::KeyFormat {
                path: key_path.to_path_buf(),
            })?;
        drop(key_bytes);
        let cert_bytes = read_bounded(cert_path, false)?;
        let cert = CertificateDer::from_pem_slice(&cert_bytes).map_err(|source| {
            IdentityError::CertificatePem {
                path: cert_path.to_path_buf(),
                source,
            }
        })?;
        let pin = Pin::of_certificate(&cert).map_err(|source| IdentityError::Certificate {
            path: cert_path.to_path_buf(),
            source,
        })?;
        let certified =
            CertifiedKey::from_der(vec![cert], key, &provider()).map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => IdentityError::KeyMismatch {
                    key: key_path.to_path_buf(),
                    cert: cert_path.to_path_buf(),
                },
                _ => IdentityError::KeyFormat {
                    path: key_path.to_path_buf(),
                },
            })?;
        Ok(Identity {
            certified: Arc::new(certified),
            pin,
        })
    }

    /// The pin of this identity's key: what peers put in their config.
    pub fn pin(&self) -> Pin {
        self.pin
    }

    /// The DER certificate.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        // A CertifiedKey is only built here from one certificate.
        &self.certified.cert[0]
    }

    pub(crate) fn certified_key(&self) -> Arc<CertifiedKey> {
        self.certified.clone()
    }
}

/// Makes a key and certificate with `opts` and writes them to `dir` as
/// [`TlsFiles::in_dir`] names them (see the module documentation for the
/// modes); returns the files and the pin.
pub fn tls_init(dir: &Path, opts: &IdentityOptions) -> Result<(TlsFiles, Pin), IdentityError> {
    let files = TlsFiles::in_dir(dir);
    private_dir(dir)?;
    if files.key.exists() {
        return Err(IdentityError::AlreadyExists { path: files.key });
    }
    let g = generate(opts)?;
    write_new(&files.key, g.key_pem.as_bytes(), 0o600)?;
    write_new(&files.cert, g.cert_pem.as_bytes(), 0o644)?;
    write_new(
        &files.pin,
        format!("{}\n", g.identity.pin).as_bytes(),
        0o644,
    )?;
    Ok((files, g.identity.pin))
}

/// Creates `dir` (and its parents) `0700`, and sets `dir` itself to `0700`
/// whatever the umask or its previous mode.
pub fn private_dir(dir: &Path) -> Result<(), IdentityError> {
    let io = |op, source| IdentityError::Io {
        path: dir.to_path_buf(),
        op,
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io("create", e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| io("chmod", e))
}

/// Writes a new file (never an existing one) with exactly `mode`.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), IdentityError> {
    let io = |op, source| IdentityError::Io {
        path: path.to_path_buf(),
        op,
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                IdentityError::AlreadyExists {
                    path: path.to_path_buf(),
                }
            } else {
                io("create", e)
            }
        })?;
    // The umask may have taken bits away (or a 0277 umask the owner's
    // write bit): set the mode asked for, before anything is written.
    f.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| io("chmod", e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| io("write", e))
}

fn read_bounded(path: &Path, private: bool) -> Result<Vec<u8>, IdentityError> {
    let io = |op, source| IdentityError::Io {
        path: path.to_path_buf(),
        op,
        source,
    };
    let f = std::fs::File::open(path).map_err(|e| io("read", e))?;
    let meta = f.metadata().map_err(|e| io("read", e))?;
    if !meta.is_file() {
        return Err(IdentityError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mode = meta.permissions().mode() & 0o7777;
    if private && mode & 0o077 != 0 {
        return Err(IdentityError::KeyPermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    let mut bytes = vec![];
    f.take(MAX_PEM_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io("read", e))?;
    if bytes.len() as u64 > MAX_PEM_FILE {
        return Err(IdentityError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_PEM_FILE,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("test").permissions().mode() & 0o7777
    }

    #[test]
    fn tls_init_writes_a_private_key_0600_in_a_0700_dir() {
        let tmp = tempfile::tempdir().expect("test");
        let dir = tmp.path().join("node").join("tls");
        // A directory left world-writable is tightened, not trusted.
        std::fs::create_dir_all(&dir).expect("test");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("test");
        let (files, pin) = tls_init(&dir, &IdentityOptions::default()).expect("init");
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&files.key), 0o600);
        assert_eq!(mode(&files.cert), 0o644);
        let pin_text = std::fs::read_to_string(&files.pin).expect("test");
        assert_eq!(pin_text, format!("{pin}\n"));
        let loaded = Identity::load(&files).expect("load");
        assert_eq!(loaded.pin(), pin);
        assert_eq!(Pin::of_certificate(loaded.certificate()), Ok(pin));
    }

    #[test]
    fn tls_init_never_overwrites_a_key() {
        let tmp = tempfile::tempdir().expect("test");
        let (files, _) = tls_init(tmp.path(), &IdentityOptions::default()).expect("init");
        let before = std::fs::read(&files.key).expect("test");
        let e = tls_init(tmp.path(), &IdentityOptions::default()).expect_err("exists");
        assert!(matches!(e, IdentityError::AlreadyExists { .. }), "{e}");
        assert_eq!(std::fs::read(&files.key).expect("test"), before);
    }

    #[test]
    fn a_group_readable_key_is_refused_without_printing_it() {
        let tmp = tempfile::tempdir().expect("test");
        let (files, _) = tls_init(tmp.path(), &IdentityOptions::default()).expect("init");
        let key = std::fs::read_to_string(&files.key).expect("test");
        for m in [0o640, 0o604, 0o660, 0o644] {
            std::fs::set_permissions(&files.key, std::fs::Permissions::from_mode(m)).expect("test");
            let e = Identity::load(&files).expect_err("readable");
            assert!(matches!(e, IdentityError::KeyPermissions { mode, .. } if mode == m));
            let text = format!("{e} {e:?}");
            assert!(text.contains("chmod 600"), "{text}");
            for line in key.lines().filter(|l| !l.starts_with("-----")) {
                assert!(!text.contains(line), "the error quotes the key: {text}");
            }
        }
    }

    #[test]
    fn a_garbage_key_or_certificate_is_refused_without_quoting_the_key() {
        let tmp = tempfile::tempdir().expect("test");
        let (files, _) = tls_init(tmp.path(), &IdentityOptions::default()).expect("init");
        let secret = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUU0VDUkVU\n-----END PRIVATE KEY-----\n";
        std::fs::write(&files.key, secret).expect("test");
        let e = Identity::load(&files).expect_err("garbage key");
        assert!(matches!(e, IdentityError::KeyFormat { .. }), "{e}");
        assert!(!format!("{e}{e:?}").contains("U0VDUkVU"));

        let tmp = tempfile::tempdir().expect("test");
        let (files, _) = tls_init(tmp.path(), &IdentityOptions::default()).expect("init");
        std::fs::write(
            &files.cert,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .expect("test");
        let e = Identity::load(&files).expect_err("garbage cert");
        assert!(matches!(e, IdentityError::Certificate { .. }), "{e}");
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let a = tempfile::tempdir().expect("test");
        let b = tempfile::tempdir().expect("test");
        let (fa, _) = tls_init(a.path(), &IdentityOptions::default()).expect("init");
        let (fb, _) = tls_init(b.path(), &IdentityOptions::default()).expect("init");
        let e = Identity::load_files(&fa.cert, &fb.key).expect_err("mismatch");
        assert!(matches!(e, IdentityError::KeyMismatch { .. }), "{e}");
    }

    #[test]
    fn debug_shows_the_pin_and_not_the_key() {
        let id = Identity::generate(&IdentityOptions::default()).expect("test");
        assert_eq!(
            format!("{id:?}"),
            format!("Identity {{ pin: {:?} }}", id.pin())
        );
    }
}
