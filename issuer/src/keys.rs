//! Signing keys at rest: sealed under the service's master key.
//!
//! The master key is 32 random bytes supplied by file or environment (never
//! stored in the database). Each agency private key (the Ed25519 seed) is
//! sealed with XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`): a
//! random 24-byte nonce, and the agency id and key id as associated data, so
//! a sealed key copied to another agency's row does not open. Layout of a
//! sealed blob: version byte `1`, nonce, ciphertext with tag.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use tongban_verifier::{AnySigner, Ed25519Signer, PublicKey, Signer as _, Sm2Signer};
use zeroize::{Zeroize, Zeroizing};

use crate::app::StoredKey;

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
        "the signing key {kid} of agency {agency} does not open with this master key (wrong master key, or the stored key was altered)"
    )]
    Unseal {
        /// The agency.
        agency: String,
        /// The key id.
        kid: String,
    },
    /// Sealing failed (should not happen).
    #[error("sealing a key failed")]
    Seal,
    /// A stored key's public JWK names no key type this service signs with.
    #[error("the signing key {kid} of agency {agency} is of a type this service cannot sign with")]
    KeyType {
        /// The agency.
        agency: String,
        /// The key id.
        kid: String,
    },
}

/// The signature algorithm of an agency key, chosen when the key is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum KeyAlg {
    /// Ed25519 (`EdDSA`), the default.
    #[default]
    Ed25519,
    /// SM2 with SM3 (`SM2SM3`, GB/T 32918/32905;
    /// `specs/credential-format.md` §9).
    Sm2,
}

impl KeyAlg {
    /// The JWS `alg` its keys sign with.
    pub fn jws_alg(self) -> &'static str {
        match self {
            KeyAlg::Ed25519 => "EdDSA",
            KeyAlg::Sm2 => tongban_verifier::keys::ALG_SM2SM3,
        }
    }

    /// The algorithm of a stored public JWK (by its `crv`).
    pub fn of_jwk(jwk: &serde_json::Value) -> Option<KeyAlg> {
        match jwk.get("crv").and_then(serde_json::Value::as_str) {
            Some("Ed25519") => Some(KeyAlg::Ed25519),
            Some(tongban_verifier::keys::CRV_SM2) => Some(KeyAlg::Sm2),
            _ => None,
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

    /// Seals an Ed25519 seed for `(agency, kid)`.
    pub fn seal(&self, agency: &str, kid: &str, seed: &[u8; 32]) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let aad = aad(agency, kid);
        let ct = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: seed,
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

    /// Opens a sealed seed.
    pub fn open(
        &self,
        agency: &str,
        kid: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, KeyError> {
        let fail = || KeyError::Unseal {
            agency: agency.to_owned(),
            kid: kid.to_owned(),
        };
        if sealed.len() < 25 || sealed[0] != SEALED_VERSION {
            return Err(fail());
        }
        let aad = aad(agency, kid);
        let nonce: [u8; 24] = sealed[1..25].try_into().map_err(|_| fail())?;
        let pt = Zeroizing::new(
            self.cipher()
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: &sealed[25..],
                        aad: &aad,
                    },
                )
                .map_err(|_| fail())?,
        );
        let seed = <[u8; 32]>::try_from(pt.as_slice()).map_err(|_| fail())?;
        Ok(Zeroizing::new(seed))
    }
}

fn aad(agency: &str, kid: &str) -> Vec<u8> {
    format!("tongban-signing-key-v1\0{agency}\0{kid}").into_bytes()
}

/// Makes a new signing key of algorithm `alg` for an agency, sealed for
/// storage. Its public JWK carries `alg` (the pin a trust list copies).
pub fn new_signing_key(
    master: &MasterKey,
    agency: &str,
    now: i64,
    alg: KeyAlg,
) -> Result<StoredKey, KeyError> {
    let (public, seed) = match alg {
        KeyAlg::Ed25519 => {
            let tmp = Ed25519Signer::generate(&mut OsRng, None);
            (tmp.public_key(), Zeroizing::new(tmp.seed()))
        }
        KeyAlg::Sm2 => {
            let tmp = Sm2Signer::generate(&mut OsRng, None);
            (tmp.public_key(), Zeroizing::new(tmp.secret_bytes()))
        }
    };
    let kid = public.thumbprint();
    let mut jwk = public.to_jwk();
    if let Some(o) = jwk.as_object_mut() {
        o.insert("kid".into(), kid.clone().into());
        o.insert("alg".into(), alg.jws_alg().into());
        o.insert("use".into(), "sig".into());
    }
    Ok(StoredKey {
        agency_id: agency.to_owned(),
        sealed: master.seal(agency, &kid, &seed)?,
        kid,
        public_jwk: jwk.to_string(),
        created_at: now,
        retired_at: None,
    })
}

/// An agency's keys, opened: the signer of new credentials and every
/// published public key.
#[derive(Debug)]
pub struct KeyRing {
    /// Signs new credentials and status lists (Ed25519 or SM2).
    pub signer: AnySigner,
    /// Key id of [`KeyRing::signer`].
    pub kid: String,
    /// Every key (current and retired) as published JWKs.
    pub public_jwks: Vec<serde_json::Value>,
    /// Every key's public key.
    pub public_keys: Vec<PublicKey>,
}

impl KeyRing {
    /// Opens the current (unretired, newest) key and lists all public keys.
    pub fn open(master: &MasterKey, agency: &str, keys: &[StoredKey]) -> Result<KeyRing, KeyError> {
        let current = keys
            .iter()
            .filter(|k| k.retired_at.is_none())
            .max_by_key(|k| k.created_at)
            .or_else(|| keys.last())
            .ok_or_else(|| KeyError::Unseal {
                agency: agency.to_owned(),
                kid: "(none)".into(),
            })?;
        let seed = master.open(agency, &current.kid, &current.sealed)?;
        let key_type = || KeyError::KeyType {
            agency: agency.to_owned(),
            kid: current.kid.clone(),
        };
        let current_jwk: serde_json::Value =
            serde_json::from_str(&current.public_jwk).map_err(|_| key_type())?;
        let kid = Some(current.kid.clone());
        let signer = match KeyAlg::of_jwk(&current_jwk).ok_or_else(key_type)? {
            KeyAlg::Ed25519 => AnySigner::Ed25519(Ed25519Signer::from_seed(&seed, kid)),
            KeyAlg::Sm2 => {
                AnySigner::Sm2(Sm2Signer::from_bytes(&seed, kid).map_err(|_| key_type())?)
            }
        };
        // The sealed secret must be the published key's (fail closed).
        if signer.public_key().to_jwk()["x"] != current_jwk["x"] {
            return Err(key_type());
        }
        let mut public_jwks = Vec::new();
        let mut public_keys = Vec::new();
        for k in keys {
            let jwk: serde_json::Value =
                serde_json::from_str(&k.public_jwk).map_err(|_| KeyError::Unseal {
                    agency: agency.to_owned(),
                    kid: k.kid.clone(),
                })?;
            if let Ok(pk) = PublicKey::from_jwk(&jwk) {
                public_keys.push(pk);
            }
            public_jwks.push(jwk);
        }
        Ok(KeyRing {
            signer,
            kid: current.kid.clone(),
            public_jwks,
            public_keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_for_its_agency_and_kid() {
        let m = MasterKey::generate();
        let k = new_signing_key(&m, "a", 1, KeyAlg::Ed25519).unwrap();
        assert!(m.open("a", &k.kid, &k.sealed).is_ok());
        assert!(m.open("b", &k.kid, &k.sealed).is_err());
        let other = MasterKey::generate();
        assert!(other.open("a", &k.kid, &k.sealed).is_err());
        let mut bad = k.sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(m.open("a", &k.kid, &bad).is_err());
    }

    #[test]
    fn the_seed_is_not_in_the_sealed_blob() {
        let m = MasterKey::generate();
        let k = new_signing_key(&m, "a", 1, KeyAlg::Ed25519).unwrap();
        let seed = m.open("a", &k.kid, &k.sealed).unwrap();
        assert!(!k.sealed.windows(32).any(|w| w == seed.as_ref()));
        assert!(!k.public_jwk.contains("\"d\""));
    }

    #[test]
    fn master_keys_parse_in_both_forms() {
        let hex64 = "00".repeat(32);
        assert!(MasterKey::parse(&hex64).is_ok());
        assert!(MasterKey::parse(&URL_SAFE_NO_PAD.encode([7u8; 32])).is_ok());
        assert!(MasterKey::parse("short").is_err());
        assert!(MasterKey::parse(&URL_SAFE_NO_PAD.encode([7u8; 31])).is_err());
    }

    #[test]
    fn the_ring_signs_with_the_newest_unretired_key_and_publishes_all() {
        let m = MasterKey::generate();
        let mut old = new_signing_key(&m, "a", 1, KeyAlg::Ed25519).unwrap();
        old.retired_at = Some(5);
        let new = new_signing_key(&m, "a", 5, KeyAlg::Ed25519).unwrap();
        let ring = KeyRing::open(&m, "a", &[old.clone(), new.clone()]).unwrap();
        assert_eq!(ring.kid, new.kid);
        assert_eq!(ring.public_jwks.len(), 2);
    }

    #[test]
    fn an_sm2_key_opens_as_an_sm2_signer_and_publishes_its_pin() {
        let m = MasterKey::generate();
        let mut old = new_signing_key(&m, "a", 1, KeyAlg::Ed25519).unwrap();
        old.retired_at = Some(5);
        let new = new_signing_key(&m, "a", 5, KeyAlg::Sm2).unwrap();
        let jwk: serde_json::Value = serde_json::from_str(&new.public_jwk).unwrap();
        assert_eq!(jwk["crv"], "SM2");
        assert_eq!(jwk["alg"], "SM2SM3");
        let ring = KeyRing::open(&m, "a", &[old, new.clone()]).unwrap();
        assert_eq!(ring.signer.algorithm(), tongban_verifier::Algorithm::Sm2Sm3);
        assert_eq!(ring.kid, new.kid);
        assert_eq!(ring.public_keys.len(), 2);
        let sig = ring.signer.sign(b"m").unwrap();
        assert!(ring.public_keys[1].verify(tongban_verifier::Algorithm::Sm2Sm3, b"m", &sig));
    }
}
