//! Signing keys at rest: sealed under the service's master key
//! ([`tongban_service_kit::master_key`]).
//!
//! Each agency private key (the Ed25519 seed, and the P-256 scalar of its
//! credential-encryption key) is sealed with the agency id and key id as
//! associated data, so a sealed key copied to another agency's row does not
//! open.

use rand_core::OsRng;
use tongban_verifier::{
    Algorithm, Ed25519Signer, P256Signer, PublicKey, Signer as _, Sm2Signer, X5cSigner,
};
use zeroize::Zeroizing;

pub use tongban_service_kit::master_key::{KeyError, MasterKey, SealedFor};

use crate::app::StoredKey;

mod native_ed25519;
pub use native_ed25519::NativeEd25519Signer;

/// The signature algorithm of an agency key, chosen when the key is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum KeyAlg {
    /// Ed25519 (`EdDSA`, or `Ed25519` by [`JwsAlgName`]), the default.
    #[default]
    Ed25519,
    /// ECDSA on P-256 with SHA-256 (`ES256`), what HAIP 1.0 §7 requires
    /// every party to support.
    Es256,
    /// SM2 with SM3 (`SM2SM3`, GB/T 32918/32905;
    /// `specs/credential-format.md` §9).
    Sm2,
}

/// The name an Ed25519 key's JWS headers give its algorithm: `EdDSA`
/// (RFC 8037, the default, what every peer reads) or the fully specified
/// `Ed25519` of RFC 9864. The signatures are the same; verifiers that do
/// not know RFC 9864 refuse `Ed25519` (`docs/interop.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum JwsAlgName {
    /// `EdDSA`.
    #[default]
    Eddsa,
    /// `Ed25519` (RFC 9864).
    Ed25519,
}

/// What a new agency key is: its algorithm and, for Ed25519, the name its
/// headers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyChoice {
    /// The key's algorithm.
    pub alg: KeyAlg,
    /// The `alg` name of an Ed25519 key's headers (ignored for the others;
    /// [`KeyChoice::new`] refuses [`JwsAlgName::Ed25519`] with them).
    pub name: JwsAlgName,
}

/// A key choice that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--jws-alg-name ed25519 names Ed25519 keys only; a {0} key signs under its own name (leave --jws-alg-name out)"
)]
pub struct KeyChoiceError(pub &'static str);

impl KeyChoice {
    /// `alg` with `name` (`None`: `EdDSA` for Ed25519). The `Ed25519` name
    /// with another algorithm is refused.
    pub fn new(alg: KeyAlg, name: Option<JwsAlgName>) -> Result<KeyChoice, KeyChoiceError> {
        match (alg, name) {
            (KeyAlg::Ed25519, n) => Ok(KeyChoice {
                alg,
                name: n.unwrap_or_default(),
            }),
            (_, Some(JwsAlgName::Ed25519)) => Err(KeyChoiceError(alg.jws_alg())),
            (_, _) => Ok(KeyChoice {
                alg,
                name: JwsAlgName::Eddsa,
            }),
        }
    }

    /// The JWS `alg` its key signs under (and its JWK's `alg` pin).
    pub fn jws_alg(self) -> &'static str {
        match (self.alg, self.name) {
            (KeyAlg::Ed25519, JwsAlgName::Ed25519) => Algorithm::Ed25519.as_str(),
            (alg, _) => alg.jws_alg(),
        }
    }

    /// The choice a stored key was made with (by its JWK's `crv` and
    /// `alg`), so a rotation keeps it.
    pub fn of_jwk(jwk: &serde_json::Value) -> Option<KeyChoice> {
        let alg = KeyAlg::of_jwk(jwk)?;
        let name = match jwk.get("alg").and_then(serde_json::Value::as_str) {
            Some("Ed25519") if alg == KeyAlg::Ed25519 => JwsAlgName::Ed25519,
            _ => JwsAlgName::Eddsa,
        };
        Some(KeyChoice { alg, name })
    }
}

impl KeyAlg {
    /// The JWS `alg` its keys sign with by default.
    pub fn jws_alg(self) -> &'static str {
        match self {
            KeyAlg::Ed25519 => Algorithm::EdDsa.as_str(),
            KeyAlg::Es256 => Algorithm::Es256.as_str(),
            KeyAlg::Sm2 => tongban_verifier::keys::ALG_SM2SM3,
        }
    }

    /// The algorithm of a stored public JWK (by its `kty` and `crv`).
    pub fn of_jwk(jwk: &serde_json::Value) -> Option<KeyAlg> {
        let member = |m: &str| jwk.get(m).and_then(serde_json::Value::as_str);
        match (member("kty"), member("crv")) {
            (Some("OKP"), Some("Ed25519")) => Some(KeyAlg::Ed25519),
            (Some("EC"), Some("P-256")) => Some(KeyAlg::Es256),
            (Some("EC"), Some(tongban_verifier::keys::CRV_SM2)) => Some(KeyAlg::Sm2),
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

/// Makes a new signing key as `choice` says for an agency, sealed for
/// storage. Its public JWK carries the `alg` it signs under (the pin a
/// trust list copies: `EdDSA` or `Ed25519`, `ES256`, `SM2SM3`).
pub fn new_signing_key(
    master: &MasterKey,
    agency: &str,
    now: i64,
    choice: KeyChoice,
) -> Result<StoredKey, KeyError> {
    let (public, seed) = match choice.alg {
        KeyAlg::Ed25519 => {
            let tmp = Ed25519Signer::generate(&mut OsRng, None);
            (tmp.public_key(), Zeroizing::new(tmp.seed()))
        }
        KeyAlg::Es256 => {
            let tmp = P256Signer::generate(&mut OsRng, None);
            (tmp.public_key(), Zeroizing::new(tmp.secret_bytes()))
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
        o.insert("alg".into(), choice.jws_alg().into());
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

/// The signer of an agency's current key: Ed25519 through AWS-LC
/// ([`NativeEd25519Signer`], the same signatures at about 0.6 of the
/// cost), P-256 and SM2 as `tongban-verifier` signs them.
#[derive(Debug)]
pub enum AgencySigner {
    /// Ed25519 (`EdDSA`, or `Ed25519` by [`JwsAlgName`]).
    Ed25519(NativeEd25519Signer),
    /// ES256.
    Es256(P256Signer),
    /// SM2SM3.
    Sm2(Sm2Signer),
}

impl AgencySigner {
    fn inner(&self) -> &dyn tongban_verifier::Signer {
        match self {
            AgencySigner::Ed25519(s) => s,
            AgencySigner::Es256(s) => s,
            AgencySigner::Sm2(s) => s,
        }
    }
}

impl tongban_verifier::Signer for AgencySigner {
    fn algorithm(&self) -> Algorithm {
        self.inner().algorithm()
    }
    fn key_id(&self) -> Option<&str> {
        self.inner().key_id()
    }
    fn public_key(&self) -> PublicKey {
        self.inner().public_key()
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, tongban_verifier::SignError> {
        self.inner().sign(signing_input)
    }
}

/// An agency's keys, opened: the signer of new credentials and every
/// published public key.
#[derive(Debug)]
pub struct KeyRing {
    /// Signs new credentials and status lists (Ed25519, P-256 or SM2).
    pub signer: AgencySigner,
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
    /// What signs credentials and status list tokens: the current key
    /// (Ed25519, ES256 or SM2), writing its certificate chain in `x5c` when
    /// it has one (HAIP 1.0).
    pub fn jws_signer(&self) -> X5cSigner<'_> {
        X5cSigner::new(&self.signer, self.x5c.clone().unwrap_or_default())
    }

    /// The choice the signing key was made with (algorithm and name).
    pub fn choice(&self) -> KeyChoice {
        let alg = match self.signer.algorithm() {
            Algorithm::EdDsa | Algorithm::Ed25519 => KeyAlg::Ed25519,
            Algorithm::Es256 => KeyAlg::Es256,
            Algorithm::Sm2Sm3 => KeyAlg::Sm2,
        };
        let name = match self.signer.algorithm() {
            Algorithm::Ed25519 => JwsAlgName::Ed25519,
            _ => JwsAlgName::Eddsa,
        };
        KeyChoice { alg, name }
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
        let choice = KeyChoice::of_jwk(&current_jwk).ok_or_else(key_type)?;
        let signer = match choice.alg {
            KeyAlg::Ed25519 => AgencySigner::Ed25519(
                NativeEd25519Signer::from_seed(&seed, kid, choice.name == JwsAlgName::Ed25519)
                    .map_err(|_| key_type())?,
            ),
            KeyAlg::Es256 => {
                AgencySigner::Es256(P256Signer::from_bytes(&seed, kid).map_err(|_| key_type())?)
            }
            KeyAlg::Sm2 => {
                AgencySigner::Sm2(Sm2Signer::from_bytes(&seed, kid).map_err(|_| key_type())?)
            }
        };
        // The sealed secret must be the published key's (fail closed).
        let public = signer.public_key().to_jwk();
        if public["x"] != current_jwk["x"] || public.get("y") != current_jwk.get("y") {
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
        let k = new_signing_key(&m, "a", 1, KeyChoice::default()).unwrap();
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
        let k = new_signing_key(&m, "a", 1, KeyChoice::default()).unwrap();
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
        let mut old = new_signing_key(&m, "a", 1, KeyChoice::default()).unwrap();
        old.retired_at = Some(5);
        let new = new_signing_key(&m, "a", 5, KeyChoice::default()).unwrap();
        let ring = KeyRing::open(&m, "a", &[old.clone(), new.clone()]).unwrap();
        assert_eq!(ring.kid, new.kid);
        assert_eq!(ring.public_jwks.len(), 2);
    }

    #[test]
    fn an_sm2_key_opens_as_an_sm2_signer_and_publishes_its_pin() {
        let m = MasterKey::generate();
        let mut old = new_signing_key(&m, "a", 1, KeyChoice::default()).unwrap();
        old.retired_at = Some(5);
        let new = new_signing_key(&m, "a", 5, KeyChoice::new(KeyAlg::Sm2, None).unwrap()).unwrap();
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

    #[test]
    fn an_es256_key_opens_as_a_p256_signer_and_publishes_its_pin() {
        let m = MasterKey::generate();
        let k = new_signing_key(&m, "a", 1, KeyChoice::new(KeyAlg::Es256, None).unwrap()).unwrap();
        let jwk: serde_json::Value = serde_json::from_str(&k.public_jwk).unwrap();
        assert_eq!(
            (jwk["kty"].as_str(), jwk["crv"].as_str()),
            (Some("EC"), Some("P-256"))
        );
        assert_eq!(jwk["alg"], "ES256");
        assert!(!k.public_jwk.contains("\"d\""));
        let ring = KeyRing::open(&m, "a", std::slice::from_ref(&k)).unwrap();
        assert_eq!(ring.signer.algorithm(), Algorithm::Es256);
        assert_eq!(ring.choice(), KeyChoice::new(KeyAlg::Es256, None).unwrap());
        let sig = ring.signer.sign(b"m").unwrap();
        assert_eq!(sig.len(), 64);
        assert!(ring.public_keys[0].verify(Algorithm::Es256, b"m", &sig));
        // A sealed scalar under another key's published JWK does not open.
        let other =
            new_signing_key(&m, "a", 1, KeyChoice::new(KeyAlg::Es256, None).unwrap()).unwrap();
        let swapped = StoredKey {
            public_jwk: other.public_jwk.clone(),
            ..k
        };
        assert!(KeyRing::open(&m, "a", &[swapped]).is_err());
    }

    #[test]
    fn an_ed25519_key_signs_under_the_name_it_was_made_with() {
        let m = MasterKey::generate();
        let full = KeyChoice::new(KeyAlg::Ed25519, Some(JwsAlgName::Ed25519)).unwrap();
        let k = new_signing_key(&m, "a", 1, full).unwrap();
        let jwk: serde_json::Value = serde_json::from_str(&k.public_jwk).unwrap();
        assert_eq!(jwk["alg"], "Ed25519");
        let ring = KeyRing::open(&m, "a", &[k]).unwrap();
        assert_eq!(ring.signer.algorithm(), Algorithm::Ed25519);
        assert_eq!(ring.choice(), full);
        assert_eq!(
            KeyChoice::new(KeyAlg::Ed25519, None).unwrap().jws_alg(),
            "EdDSA"
        );
        // The Ed25519 name belongs to Ed25519 keys only.
        for alg in [KeyAlg::Es256, KeyAlg::Sm2] {
            assert!(KeyChoice::new(alg, Some(JwsAlgName::Ed25519)).is_err());
            assert!(KeyChoice::new(alg, Some(JwsAlgName::Eddsa)).is_ok());
        }
    }
}
