//! The service's master key, and what it seals.
//!
//! The master key is 32 random bytes supplied by file or environment
//! (never stored in the database): 43 base64url characters or 64 hex
//! digits, written to a new file with mode 0600 when a service makes one on
//! first start. Every private key a service keeps at rest is sealed under it
//! with XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`): a random
//! 24-byte nonce, and associated data naming what the key is for and whose
//! it is ([`SealedFor`]), so a sealed key copied into another row does not
//! open. Layout of a sealed blob: version byte `1`, nonce, ciphertext with
//! tag. Each service spells its own associated data (the issuer an agency
//! and key id, the receiving agency's service a purpose and owner); the
//! bytes are the service's, unchanged by the move here.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

const SEALED_VERSION: u8 = 1;

/// Why the master key or a sealed key is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The master key text is not 32 bytes in base64url or hex.
    #[error("the master key must be 32 bytes, written as 43 base64url characters or 64 hex digits")]
    BadMasterKey,
    /// The master key file could not be read or written.
    #[error("master key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A sealed key did not open: wrong master key, or the row was altered.
    #[error(
        "the {key} does not open with this master key (wrong master key, or the stored key was altered)"
    )]
    Unseal {
        /// Which key, in words ([`SealedFor::name`]).
        key: String,
    },
    /// Sealing failed (should not happen).
    #[error("sealing a key failed")]
    Seal,
    /// A stored key opened, but is of a type this service cannot use, or
    /// does not match the public key published beside it.
    #[error("the {key} is of a type this service cannot sign with")]
    KeyType {
        /// Which key, in words ([`SealedFor::name`]).
        key: String,
    },
}

/// What a sealed key is bound to: the associated data sealed with it, and
/// how an error names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedFor {
    aad: Vec<u8>,
    name: String,
}

impl SealedFor {
    /// `aad` is authenticated with the key (a sealed key opens only with
    /// the same bytes); `name` says which key it is in an error, e.g.
    /// `signing key K of agency A`.
    pub fn new(aad: impl Into<Vec<u8>>, name: impl Into<String>) -> Self {
        SealedFor {
            aad: aad.into(),
            name: name.into(),
        }
    }

    /// Which key this is, in words.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The error for a key that does not open.
    pub fn unseal_error(&self) -> KeyError {
        KeyError::Unseal {
            key: self.name.clone(),
        }
    }

    /// The error for a key of a type the service cannot use.
    pub fn key_type_error(&self) -> KeyError {
        KeyError::KeyType {
            key: self.name.clone(),
        }
    }
}

/// The service's master key.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// A 32-byte key for one purpose, derived from the master key:
    /// HMAC-SHA-256(master key, `label`). Different labels give unrelated
    /// keys, and every replica holding the master key derives the same one.
    pub fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        use hmac::Mac as _;
        // HMAC takes a key of any length; 32 bytes cannot fail.
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(self.0.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC accepts a 32-byte key"));
        mac.update(label.as_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&mac.finalize().into_bytes());
        out
    }

    /// A new random master key.
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(k.as_mut());
        MasterKey(k)
    }

    /// Parses base64url (43 characters) or hex (64 digits); surrounding
    /// whitespace is ignored.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let t = text.trim();
        let mut bytes = if t.len() == 64 {
            hex::decode(t).map_err(|_| KeyError::BadMasterKey)?
        } else {
            URL_SAFE_NO_PAD
                .decode(t)
                .map_err(|_| KeyError::BadMasterKey)?
        };
        let out = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyError::BadMasterKey);
        bytes.zeroize();
        Ok(MasterKey(Zeroizing::new(out?)))
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| KeyError::File {
                    path: path.display().to_string(),
                    source,
                })?,
            );
        Self::parse(&text)
    }

    /// Writes the key to a new file (mode 0600; never overwrites).
    pub fn write_new(&self, path: &Path) -> Result<(), KeyError> {
        use std::io::Write as _;
        let err = |source| KeyError::File {
            path: path.display().to_string(),
            source,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(err)?;
        let text = Zeroizing::new(format!("{}\n", URL_SAFE_NO_PAD.encode(self.0.as_ref())));
        f.write_all(text.as_bytes()).map_err(err)?;
        f.sync_all().map_err(err)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }

    /// Seals `secret` (a seed, a PKCS#8 key, a private JWK) for `to`.
    pub fn seal(&self, to: &SealedFor, secret: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &to.aad,
                },
            )
            .map_err(|_| KeyError::Seal)?;
        let mut out = Vec::with_capacity(1 + 24 + ct.len());
        out.push(SEALED_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens what [`MasterKey::seal`] sealed for the same `to`.
    pub fn open(&self, to: &SealedFor, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if sealed.len() < 25 || sealed[0] != SEALED_VERSION {
            return Err(to.unseal_error());
        }
        let nonce: [u8; 24] = sealed[1..25].try_into().map_err(|_| to.unseal_error())?;
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed[25..],
                    aad: &to.aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| to.unseal_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(owner: &str) -> SealedFor {
        SealedFor::new(
            format!("test-key-v1\0{owner}"),
            format!("test key of {owner}"),
        )
    }

    #[test]
    fn a_sealed_key_opens_only_for_its_associated_data_and_master_key() {
        let m = MasterKey::generate();
        let s = m.seal(&to("qingpu"), b"secret").unwrap();
        assert_eq!(m.open(&to("qingpu"), &s).unwrap().as_slice(), b"secret");
        let e = m.open(&to("jiashan"), &s).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the test key of jiashan does not open with this master key (wrong master key, or the stored key was altered)"
        );
        assert!(MasterKey::generate().open(&to("qingpu"), &s).is_err());
        let mut bad = s.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(m.open(&to("qingpu"), &bad).is_err());
        assert!(m.open(&to("qingpu"), &s[..24]).is_err());
        assert!(!s.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn master_keys_parse_in_both_forms() {
        assert!(MasterKey::parse(&"00".repeat(32)).is_ok());
        assert!(MasterKey::parse(&URL_SAFE_NO_PAD.encode([7u8; 32])).is_ok());
        assert!(MasterKey::parse("short").is_err());
        assert!(MasterKey::parse(&URL_SAFE_NO_PAD.encode([7u8; 31])).is_err());
    }

    #[test]
    fn a_written_key_reads_back_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("master.key");
        let m = MasterKey::generate();
        m.write_new(&p).unwrap();
        let s = m.seal(&to("a"), b"x").unwrap();
        assert_eq!(
            MasterKey::read(&p)
                .unwrap()
                .open(&to("a"), &s)
                .unwrap()
                .as_slice(),
            b"x"
        );
        assert!(MasterKey::generate().write_new(&p).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn derived_keys_differ_by_label_and_are_stable() {
        let m = MasterKey::parse(&"ab".repeat(32)).unwrap();
        assert_eq!(*m.derive("a"), *m.derive("a"));
        assert_ne!(*m.derive("a"), *m.derive("b"));
    }
}
