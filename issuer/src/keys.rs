//! Signing keys at rest: sealed under the service's master key
//! ([`tongban_service_kit::master_key`]).
//!
//! Each agency private key (the Ed25519 seed, and the P-256 scalar of its
//! credential-encryption key) is sealed with the agency id and key id as
//! associated data, so a sealed key copied to another agency's row does not
//! open.

use rand_core::OsRng;
use tongban_verifier::{AnySigner, Ed25519Signer, PublicKey, Signer as _, Sm2Signer, X5cSigner};
use zeroize::Zeroizing;

pub use tongban_service_kit::master_key::{KeyError, MasterKey, SealedFor};

use crate::app::StoredKey;

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

/// What an agency's key `kid` is sealed for: the associated data
/// `tongban-signing-key-v1 NUL agency NUL kid`.
pub fn sealed_for(agency: &str, kid: &str) -> SealedFor {
    SealedFor::new(
        format!("tongban-signing-key-v1\0{agency}\0{kid}"),
        format!("signing key {kid} of agency {agency}"),
    )
}

/// Seals a 32-byte private key (an Ed25519 seed, a P-256 scalar) for
/// `(agency, kid)`.
pub fn seal(
    master: &MasterKey,
    agency: &str,
    kid: &str,
    secret: &[u8; 32],
) -> Result<Vec<u8>, KeyError> {
    master.seal(&sealed_for(agency, kid), secret)
}

/// Opens a 32-byte private key sealed for `(agency, kid)`.
pub fn open(
    master: &MasterKey,
    agency: &str,
    kid: &str,
    sealed: &[u8],
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let to = sealed_for(agency, kid);
    let pt = master.open(&to, sealed)?;
    let key = <[u8; 32]>::try_from(pt.as_slice()).map_err(|_| to.unseal_error())?;
    Ok(Zeroizing::new(key))
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
        sealed: seal(master, agency, &kid, &seed)?,
        kid,
        public_jwk: jwk.to_string(),
        created_at: now,
        retired_at: None,
        x5c: None,
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
    /// The signer's certificate chain (`x5c`), when the zone's CA
    /// certified its key.
    pub x5c: Option<Vec<String>>,
}

impl KeyRing {
    /// What signs credentials and status list tokens: the current key,
    /// writing its certificate chain in `x5c` when it has one (HAIP 1.0).
    pub fn jws_signer(&self) -> X5cSigner<'_> {
        X5cSigner::new(&self.signer, self.x5c.clone().unwrap_or_default())
    }

    /// Opens the current (unretired, newest) key and lists all public keys.
    pub fn open(master: &MasterKey, agency: &str, keys: &[StoredKey]) -> Result<KeyRing, KeyError> {
        let current = keys
            .iter()
            .filter(|k| k.retired_at.is_none())
            .max_by_key(|k| k.created_at)
            .or_else(|| keys.last())
            .ok_or_else(|| sealed_for(agency, "(none)").unseal_error())?;
        let seed = open(master, agency, &current.kid, &current.sealed)?;
        let key_type = || sealed_for(agency, &current.kid).key_type_error();
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
            let jwk: serde_json::Value = serde_json::from_str(&k.public_jwk)
                .map_err(|_| sealed_for(agency, &k.kid).unseal_error())?;
            if let Ok(pk) = PublicKey::from_jwk(&jwk) {
                public_keys.push(pk);
            }
            public_jwks.push(jwk);
        }
        let x5c = match &current.x5c {
            Some(text) => Some(serde_json::from_str(text).map_err(|_| key_type())?),
            None => None,
        };
        Ok(KeyRing {
            signer,
            kid: current.kid.clone(),
            public_jwks,
            public_keys,
            x5c,
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
        assert!(open(&m, "a", &k.kid, &k.sealed).is_ok());
        assert!(open(&m, "b", &k.kid, &k.sealed).is_err());
        let other = MasterKey::generate();
        assert!(open(&other, "a", &k.kid, &k.sealed).is_err());
        let mut bad = k.sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(open(&m, "a", &k.kid, &bad).is_err());
    }

    #[test]
    fn the_seed_is_not_in_the_sealed_blob() {
        let m = MasterKey::generate();
        let k = new_signing_key(&m, "a", 1, KeyAlg::Ed25519).unwrap();
        let seed = open(&m, "a", &k.kid, &k.sealed).unwrap();
        assert!(!k.sealed.windows(32).any(|w| w == seed.as_ref()));
        assert!(!k.public_jwk.contains("\"d\""));
    }

    #[test]
    fn a_key_sealed_before_the_master_key_moved_to_the_service_kit_still_opens() {
        // Sealed by the issuer's own keys.rs (before the fold): master key
        // 0xab × 32, nonce 0x05 × 24, agency `wujiang-amr`, kid `kid-1`,
        // seed 0x07 × 32.
        let sealed = hex::decode(
            "01050505050505050505050505050505050505050505050505386c8e3ebf61ce31f5c497e738aa5fdd0ef2e4c2f124058c37a266fab9870dcc710372e8d497b9dfee95adccb14c4f44",
        )
        .unwrap();
        let m = MasterKey::parse(&"ab".repeat(32)).unwrap();
        assert_eq!(
            *open(&m, "wujiang-amr", "kid-1", &sealed).unwrap(),
            [7u8; 32]
        );
        assert!(open(&m, "wujiang-amr", "kid-2", &sealed).is_err());
        let e = open(&m, "qingpu", "kid-1", &sealed)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "the signing key kid-1 of agency qingpu does not open with this master key (wrong master key, or the stored key was altered)"
        );
    }

    #[test]
    fn master_keys_parse_in_both_forms() {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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
