//! Private keys at rest: sealed under the service's master key.
//!
//! The master key is 32 random bytes supplied by file or environment
//! (never stored in the database). Every private key the service keeps —
//! the operator CA's, each tenant's request-signing key, each
//! transaction's response-decryption key — is sealed with
//! XChaCha20-Poly1305 under it: a random 24-byte nonce, and the key's
//! purpose and owner as associated data, so a sealed key copied into
//! another row does not open. Layout: version byte `1`, nonce, ciphertext
//! with tag.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

const SEALED_VERSION: u8 = 1;

/// What a sealed key is for: part of its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The operator CA's signing key (owner: `ca`).
    CaKey,
    /// A tenant's request-object signing key (owner: the tenant id).
    RequestSigning,
    /// A transaction's response-decryption key (owner: the transaction id).
    ResponseDecryption,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::CaKey => "ca",
            Purpose::RequestSigning => "request-signing",
            Purpose::ResponseDecryption => "response-decryption",
        }
    }
}

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
        "the {purpose} key of {owner} does not open with this master key (wrong master key, or the stored key was altered)"
    )]
    Unseal {
        /// What the key is for.
        purpose: &'static str,
        /// Whose it is.
        owner: String,
    },
    /// Sealing failed (should not happen).
    #[error("sealing a key failed")]
    Seal,
}

/// The service's master key.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
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

    /// Seals `secret` (a PKCS#8 key, a private JWK) for `(purpose, owner)`.
    pub fn seal(&self, purpose: Purpose, owner: &str, secret: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let aad = aad(purpose, owner);
        let ct = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .map_err(|_| KeyError::Seal)?;
        let mut out = Vec::with_capacity(1 + 24 + ct.len());
        out.push(SEALED_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens what [`MasterKey::seal`] sealed for the same `(purpose, owner)`.
    pub fn open(
        &self,
        purpose: Purpose,
        owner: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let fail = || KeyError::Unseal {
            purpose: purpose.label(),
            owner: owner.to_owned(),
        };
        if sealed.len() < 25 || sealed[0] != SEALED_VERSION {
            return Err(fail());
        }
        let nonce: [u8; 24] = sealed[1..25].try_into().map_err(|_| fail())?;
        let aad = aad(purpose, owner);
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed[25..],
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| fail())
    }
}

fn aad(purpose: Purpose, owner: &str) -> Vec<u8> {
    format!(
        "tongban-verifier-service-key-v1\0{}\0{owner}",
        purpose.label()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_for_its_purpose_and_owner() {
        let m = MasterKey::generate();
        let s = m
            .seal(Purpose::RequestSigning, "qingpu", b"secret")
            .unwrap();
        assert_eq!(
            m.open(Purpose::RequestSigning, "qingpu", &s)
                .unwrap()
                .as_slice(),
            b"secret"
        );
        assert!(m.open(Purpose::RequestSigning, "jiashan", &s).is_err());
        assert!(m.open(Purpose::ResponseDecryption, "qingpu", &s).is_err());
        assert!(
            MasterKey::generate()
                .open(Purpose::RequestSigning, "qingpu", &s)
                .is_err()
        );
        let mut bad = s.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(m.open(Purpose::RequestSigning, "qingpu", &bad).is_err());
        assert!(!s.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn master_keys_parse_in_both_forms() {
        assert!(MasterKey::parse(&"00".repeat(32)).is_ok());
        assert!(MasterKey::parse(&URL_SAFE_NO_PAD.encode([7u8; 32])).is_ok());
        assert!(MasterKey::parse("short").is_err());
    }
}
