//! C2SP signed notes with Ed25519, C2SP checkpoints, and C2SP
//! `cosignature/v1` cosignatures.
//!
//! - key ID: `SHA-256(name || 0x0A || type || public key)[:4]`, big-endian;
//!   type `0x01` for a log's Ed25519 signatures, `0x04` for a cosigner's
//!   timestamped Ed25519 cosignatures;
//! - verifier key: `name+hex(key ID)+base64(type || public key)`;
//! - signer key file: `PRIVATE+KEY+name+hex(key ID)+base64(0x01 || seed)`;
//! - signature line: `— name base64(key ID || signature)`; for a
//!   cosignature, `— name base64(key ID || u64 BE timestamp || signature)`
//!   over `cosignature/v1\ntime <t>\n` followed by the note text.

use crate::merkle::Hash;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// Signature type byte of a log's Ed25519 note signature.
pub const ALG_ED25519: u8 = 0x01;
/// Signature type byte of a timestamped Ed25519 cosignature.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
/// The em dash that starts a signature line.
const DASH: &str = "\u{2014} ";
/// Largest note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Most signature lines accepted in one note (the spec asks for at least 16).
pub const MAX_SIGNATURES: usize = 64;

/// What is wrong with a note, a key or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note text is malformed.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// A key string or key file is malformed.
    #[error("malformed key: {0}")]
    Key(String),
    /// A signature from a known key failed to verify.
    #[error("signature by {name} (key ID {key_id:08x}) does not verify")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// No signature from any known key.
    #[error("no signature from a known key (known: {known})")]
    NoKnownSignature {
        /// The known key names.
        known: String,
    },
    /// The checkpoint body is malformed.
    #[error("malformed checkpoint: {0}")]
    Checkpoint(String),
}

/// `SHA-256(name || 0x0A || alg || key)[:4]` as a big-endian u32.
pub fn key_id(name: &str, alg: u8, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, alg]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(NoteError::Key(format!(
            "key name `{name}` must be non-empty, with no spaces or '+'"
        )));
    }
    Ok(())
}

/// A private signing key. Its secret never appears in `Debug`, `Display`,
/// errors or JSON; it is wiped from memory when dropped (every clone too:
/// a node's exchange threads sign their requests with a clone).
#[derive(Clone)]
pub struct Signer {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Signer({}, key ID {:08x}, secret withheld)",
            self.name,
            self.key_id()
        )
    }
}

impl Signer {
    /// A fresh key from the operating system's randomness.
    pub fn generate(name: &str) -> Result<Signer, NoteError> {
        check_name(name)?;
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        Ok(Signer {
            name: name.to_string(),
            key,
        })
    }

    /// From a 32-byte seed (tests).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Signer, NoteError> {
        check_name(name)?;
        Ok(Signer {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Parses `PRIVATE+KEY+name+hexid+base64(0x01 || seed)`.
    pub fn parse(text: &str) -> Result<Signer, NoteError> {
        let t = text.trim();
        let rest = t
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| NoteError::Key("a signer key starts with PRIVATE+KEY+".into()))?;
        // A name has no '+'; base64 may: split from the left.
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hexid), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::Key("expected PRIVATE+KEY+name+keyid+key".into()));
        };
        let raw = B64
            .decode(b64)
            .map_err(|_| NoteError::Key("the key is not base64".into()))?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(NoteError::Key(
                "expected 0x01 followed by a 32-byte Ed25519 seed".into(),
            ));
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&raw[1..]);
        let s = Signer::from_seed(name, seed)?;
        zeroize::Zeroize::zeroize(&mut seed);
        if format!("{:08x}", s.key_id()) != hexid {
            // The field is echoed only when it is a key ID: anything else
            // there may be key material (a key pasted twice, say).
            let is_id = hexid.len() == 8 && hexid.bytes().all(|b| b.is_ascii_hexdigit());
            return Err(NoteError::Key(if is_id {
                format!("key ID {hexid} does not match the key")
            } else {
                "the key ID is not 8 hex digits".into()
            }));
        }
        Ok(s)
    }

    /// The key file text (secret!). Write it with mode 0600.
    pub fn to_key_file(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        let s = format!(
            "PRIVATE+KEY+{}+{:08x}+{}\n",
            self.name,
            self.key_id(),
            B64.encode(&raw)
        );
        zeroize::Zeroize::zeroize(&mut raw);
        s
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID for note signatures (type 0x01).
    pub fn key_id(&self) -> u32 {
        key_id(&self.name, ALG_ED25519, self.key.verifying_key().as_bytes())
    }

    /// The verifier key for this signer's note signatures.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            alg: ALG_ED25519,
            key: self.key.verifying_key(),
        }
    }

    /// The verifier key for this signer's cosignatures (type 0x04).
    pub fn cosigner_verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            alg: ALG_COSIGNATURE_V1,
            key: self.key.verifying_key(),
        }
    }

    /// Signs note text: returns the signature line (without newline).
    pub fn sign_line(&self, text: &str) -> String {
        let sig = self.key.sign(text.as_bytes());
        let mut raw = self.key_id().to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        format!("{DASH}{} {}", self.name, B64.encode(raw))
    }

    /// Signs note text: the whole signed note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        Ok(format!("{text}\n{}\n", self.sign_line(text)))
    }

    /// A `cosignature/v1` signature line over a checkpoint's note text.
    pub fn cosign_line(&self, text: &str, timestamp: u64) -> String {
        let msg = cosigned_message(text, timestamp);
        let sig = self.key.sign(msg.as_bytes());
        let id = key_id(
            &self.name,
            ALG_COSIGNATURE_V1,
            self.key.verifying_key().as_bytes(),
        );
        let mut raw = id.to_be_bytes().to_vec();
        raw.extend_from_slice(&timestamp.to_be_bytes());
        raw.extend_from_slice(&sig.to_bytes());
        format!("{DASH}{} {}", self.name, B64.encode(raw))
    }
}

fn cosigned_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// A public verifier key.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    alg: u8,
    key: VerifyingKey,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string())
    }
}

impl fmt::Display for Verifier {
    /// `name+hex(key ID)+base64(type || public key)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![self.alg];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id(), B64.encode(raw))
    }
}

impl Verifier {
    /// Parses `name+hexid+base64(type || key)`, for type 0x01 or 0x04.
    pub fn parse(text: &str) -> Result<Verifier, NoteError> {
        let t = text.trim();
        // Never echo the input: a private key passed by mistake must not be printed.
        if t.starts_with("PRIVATE+KEY+") {
            return Err(NoteError::Key(
                "this is a private signer key, not a verifier key (use the .vkey file)".into(),
            ));
        }
        // A name has no '+'; base64 may: split from the left.
        let mut parts = t.splitn(3, '+');
        let (Some(name), Some(hexid), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::Key(
                "expected a verifier key, name+keyid+key".into(),
            ));
        };
        check_name(name)?;
        let raw = B64
            .decode(b64)
            .map_err(|_| NoteError::Key("the key is not base64".into()))?;
        if raw.len() != 33 || !(raw[0] == ALG_ED25519 || raw[0] == ALG_COSIGNATURE_V1) {
            return Err(NoteError::Key(
                "expected type 0x01 or 0x04 and a 32-byte Ed25519 key".into(),
            ));
        }
        let mut k = [0u8; 32];
        k.copy_from_slice(&raw[1..]);
        let key = VerifyingKey::from_bytes(&k)
            .map_err(|_| NoteError::Key("not an Ed25519 public key".into()))?;
        let v = Verifier {
            name: name.to_string(),
            alg: raw[0],
            key,
        };
        if format!("{:08x}", v.key_id()) != hexid.to_ascii_lowercase() || hexid.len() != 8 {
            return Err(NoteError::Key(format!(
                "key ID {hexid} does not match the key"
            )));
        }
        Ok(v)
    }

    /// The same key as a witness's cosigner verifier (type 0x04): what a
    /// `cosignature/v1` line made with it verifies against.
    pub fn as_cosigner(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            alg: ALG_COSIGNATURE_V1,
            key: self.key,
        }
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Signature type byte.
    pub fn alg(&self) -> u8 {
        self.alg
    }

    /// Key ID.
    pub fn key_id(&self) -> u32 {
        key_id(&self.name, self.alg, self.key.as_bytes())
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed(
            "note text must end with a newline".into(),
        ));
    }
    if text.len() > MAX_NOTE_BYTES {
        return Err(NoteError::Malformed(format!(
            "note is over {MAX_NOTE_BYTES} bytes"
        )));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed(
            "control characters other than newline".into(),
        ));
    }
    Ok(())
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLine {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: u32,
    /// The bytes after the key ID.
    pub signature: Vec<u8>,
    /// The line as written.
    pub line: String,
}

/// A note split into text and signature lines (nothing verified yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The text, ending in a newline.
    pub text: String,
    /// The signature lines.
    pub signatures: Vec<SignatureLine>,
}

impl Note {
    /// Splits a signed note.
    pub fn parse(note: &str) -> Result<Note, NoteError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(NoteError::Malformed(format!(
                "note is over {MAX_NOTE_BYTES} bytes"
            )));
        }
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| NoteError::Malformed("no blank line before the signatures".into()))?;
        let text = &note[..split + 1];
        check_text(text)?;
        let sigs = &note[split + 2..];
        if !sigs.ends_with('\n') {
            return Err(NoteError::Malformed(
                "the last signature line must end with a newline".into(),
            ));
        }
        let mut signatures = vec![];
        for line in sigs.lines() {
            let rest = line
                .strip_prefix(DASH)
                .ok_or_else(|| NoteError::Malformed(format!("`{line}` is not a signature line")))?;
            let (name, b64) = rest.split_once(' ').ok_or_else(|| {
                NoteError::Malformed(format!("`{line}`: expected name and signature"))
            })?;
            check_name(name).map_err(|e| NoteError::Malformed(e.to_string()))?;
            let raw = B64
                .decode(b64)
                .map_err(|_| NoteError::Malformed(format!("signature of {name} is not base64")))?;
            if raw.len() < 5 {
                return Err(NoteError::Malformed(format!(
                    "signature of {name} is too short"
                )));
            }
            signatures.push(SignatureLine {
                name: name.to_string(),
                key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
                signature: raw[4..].to_vec(),
                line: line.to_string(),
            });
        }
        if signatures.is_empty() {
            return Err(NoteError::Malformed("no signature lines".into()));
        }
        if signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::Malformed(format!(
                "more than {MAX_SIGNATURES} signatures"
            )));
        }
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }

    /// Verifies the note: every signature from a known key must verify, and
    /// at least one must exist. Returns the names that signed. Unknown keys
    /// are ignored. `0x04` verifiers check cosignatures.
    pub fn verify(&self, known: &[Verifier]) -> Result<Vec<CheckedSignature>, NoteError> {
        let mut ok = vec![];
        for s in &self.signatures {
            let Some(v) = known
                .iter()
                .find(|v| v.name == s.name && v.key_id() == s.key_id)
            else {
                continue;
            };
            let bad = || NoteError::BadSignature {
                name: s.name.clone(),
                key_id: s.key_id,
            };
            match v.alg {
                ALG_ED25519 => {
                    let sig = Signature::from_slice(&s.signature).map_err(|_| bad())?;
                    v.key
                        .verify(self.text.as_bytes(), &sig)
                        .map_err(|_| bad())?;
                    ok.push(CheckedSignature {
                        name: s.name.clone(),
                        timestamp: None,
                    });
                }
                _ => {
                    if s.signature.len() != 72 {
                        return Err(bad());
                    }
                    let mut t = [0u8; 8];
                    t.copy_from_slice(&s.signature[..8]);
                    let ts = u64::from_be_bytes(t);
                    if ts > i64::MAX as u64 {
                        return Err(bad());
                    }
                    let sig = Signature::from_slice(&s.signature[8..]).map_err(|_| bad())?;
                    v.key
                        .verify(cosigned_message(&self.text, ts).as_bytes(), &sig)
                        .map_err(|_| bad())?;
                    ok.push(CheckedSignature {
                        name: s.name.clone(),
                        timestamp: Some(ts),
                    });
                }
            }
        }
        if ok.is_empty() {
            return Err(NoteError::NoKnownSignature {
                known: known
                    .iter()
                    .map(|v| v.name.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(ok)
    }

    /// The note with its signatures, as text.
    pub fn to_text(&self) -> String {
        let mut s = format!("{}\n", self.text);
        for sig in &self.signatures {
            s.push_str(&sig.line);
            s.push('\n');
        }
        s
    }

    /// Adds a signature line (e.g. a cosignature) made by a signer.
    pub fn add_line(&mut self, line: String) -> Result<(), NoteError> {
        let parsed = Note::parse(&format!("{}\n{line}\n", self.text))?;
        self.signatures.extend(parsed.signatures);
        Ok(())
    }
}

/// A signature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSignature {
    /// Who signed.
    pub name: String,
    /// For a cosignature: its timestamp.
    pub timestamp: Option<u64>,
}

/// A C2SP tlog-checkpoint: origin, tree size, root hash (and extension lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin, e.g. `accord/new-start/US`.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub hash: Hash,
    /// Extension lines (none written by accord).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.hash)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses the note text of a checkpoint.
    pub fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        let bad = |m: &str| NoteError::Checkpoint(m.to_string());
        let mut lines = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("must end with a newline"))?
            .split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("empty origin line"))?;
        let size_s = lines.next().ok_or_else(|| bad("missing size line"))?;
        if size_s.is_empty()
            || !size_s.bytes().all(|b| b.is_ascii_digit())
            || (size_s.len() > 1 && size_s.starts_with('0'))
        {
            return Err(bad(&format!(
                "size `{size_s}` is not a decimal without leading zeros"
            )));
        }
        let size: u64 = size_s
            .parse()
            .map_err(|_| bad(&format!("size `{size_s}` is too large")))?;
        let hash_s = lines.next().ok_or_else(|| bad("missing root hash line"))?;
        let raw = B64
            .decode(hash_s)
            .map_err(|_| bad("root hash is not base64"))?;
        let hash: Hash = raw
            .try_into()
            .map_err(|_| bad("root hash is not 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            hash,
            extensions,
        })
    }
}

/// A checkpoint whose log signature verified. Only [`open_checkpoint`] makes
/// one, so a function that takes one knows the signature was checked:
///
/// ```compile_fail
/// # use accord_log::note::{Checkpoint, Note, VerifiedCheckpoint};
/// fn forge(checkpoint: Checkpoint, note: Note) -> VerifiedCheckpoint {
///     VerifiedCheckpoint { checkpoint, note, cosigned_by: vec![] } // private fields
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
    cosigned_by: Vec<CheckedSignature>,
}

impl VerifiedCheckpoint {
    /// The checkpoint (origin, size, root).
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The note it came in, with every signature line.
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// The cosignatures that verified (names and timestamps), in the order
    /// of the cosigner keys given to [`open_checkpoint`].
    pub fn cosigned_by(&self) -> &[CheckedSignature] {
        &self.cosigned_by
    }

    /// The note's text as signed, with every signature line.
    pub fn to_text(&self) -> String {
        self.note.to_text()
    }

    /// The checkpoint alone.
    pub fn into_checkpoint(self) -> Checkpoint {
        self.checkpoint
    }
}

/// Parses a signed checkpoint note, verifies the log's signature (`log`
/// must be a type 0x01 key whose name is the origin), and any cosignatures
/// from `cosigners`.
pub fn open_checkpoint(
    note: &str,
    log: &Verifier,
    cosigners: &[Verifier],
) -> Result<VerifiedCheckpoint, NoteError> {
    let n = Note::parse(note)?;
    let cp = Checkpoint::parse(&n.text)?;
    if log.alg != ALG_ED25519 {
        return Err(NoteError::Key(
            "the log's verifier key must be of type 0x01".into(),
        ));
    }
    n.verify(std::slice::from_ref(log))?;
    let cosigned_by = if cosigners.is_empty() {
        vec![]
    } else {
        match n.verify(cosigners) {
            Ok(c) => c,
            Err(NoteError::NoKnownSignature { .. }) => vec![],
            Err(e) => return Err(e),
        }
    };
    Ok(VerifiedCheckpoint {
        checkpoint: cp,
        note: n,
        cosigned_by,
    })
}
