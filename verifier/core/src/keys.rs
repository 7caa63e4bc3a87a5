//! Algorithms, public keys (as JWKs) and the [`Signer`] trait.
//!
//! The algorithm set is a closed enum: anything not listed — `none`, every
//! HMAC, RSA, other curves — cannot be represented, so it cannot be accepted.
//! Ed25519 signatures are checked with the equation of [`crate::ed25519`]
//! (canonical, non-small-order keys and `R`, canonical `S`, cofactored);
//! ES256 signatures use the IEEE P1363 form JWS uses.
//! With the `sm` feature, SM2 with SM3 (`alg` `SM2SM3`, GB/T 32918 with
//! GB/T 32905, the signer ID [`SM2_SIGNER_ID`]) signatures are the 64-byte
//! `r‖s` form too, and SM2 keys are the JWK `kty` `EC`, `crv` `SM2`
//! (`specs/credential-format.md` §9).

use ed25519_dalek::Verifier as _;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::encoding::{b64_decode, b64_encode};

/// A JWS signature algorithm Tongban accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `EdDSA` with an Ed25519 key (RFC 8037); what Tongban signs with.
    EdDsa,
    /// The fully specified `Ed25519` of RFC 9864.
    Ed25519,
    /// `ES256`: ECDSA on P-256 with SHA-256 (EU high-assurance profile).
    Es256,
    /// `SM2SM3`: the SM2 signature (GB/T 32918.2) on the SM2 recommended
    /// curve with SM3 (GB/T 32905), signer ID [`SM2_SIGNER_ID`]. No JOSE
    /// name is registered for it; this one is Tongban's
    /// (`specs/credential-format.md` §9).
    #[cfg(feature = "sm")]
    Sm2Sm3,
}

/// The JWS `alg` name of [`Algorithm::Sm2Sm3`].
pub const ALG_SM2SM3: &str = "SM2SM3";

/// The JWK `crv` of an SM2 key (`kty` `EC`): the SM2 recommended curve
/// (GB/T 32918.5, "SM2P256V1").
pub const CRV_SM2: &str = "SM2";

/// The signer's distinguishing identifier (`ID`, with `ENTL` = 128 bits)
/// that enters `Z` of every SM2 signature Tongban makes or checks: the
/// default of GB/T 35276 (SM2 密码算法使用规范, §10), which GM/T 0009 and
/// common SM2 libraries also use when no ID is agreed.
pub const SM2_SIGNER_ID: &str = "1234567812345678";

impl Algorithm {
    /// Parses a JWS `alg` value; anything not on the allow-list is `None`.
    pub fn from_jws(alg: &str) -> Option<Algorithm> {
        match alg {
            "EdDSA" => Some(Algorithm::EdDsa),
            "Ed25519" => Some(Algorithm::Ed25519),
            "ES256" => Some(Algorithm::Es256),
            #[cfg(feature = "sm")]
            ALG_SM2SM3 => Some(Algorithm::Sm2Sm3),
            _ => None,
        }
    }

    /// The JWS `alg` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Ed25519 => "Ed25519",
            Algorithm::Es256 => "ES256",
            #[cfg(feature = "sm")]
            Algorithm::Sm2Sm3 => ALG_SM2SM3,
        }
    }

    /// Whether signatures of this algorithm can be made by `key`.
    pub fn fits(self, key: &PublicKey) -> bool {
        match (self, key) {
            (Algorithm::EdDsa | Algorithm::Ed25519, PublicKey::Ed25519(_)) => true,
            (Algorithm::Es256, PublicKey::P256(_)) => true,
            #[cfg(feature = "sm")]
            (Algorithm::Sm2Sm3, PublicKey::Sm2(_)) => true,
            _ => false,
        }
    }

    /// Whether a key pinned to `self` (a JWK's `alg`) may verify a JWS
    /// whose header says `header`: the same algorithm, where `EdDSA` and
    /// `Ed25519` are one (RFC 9864 §2: the same signatures on the same key).
    pub fn pin_admits(self, header: Algorithm) -> bool {
        let ed = |a| matches!(a, Algorithm::EdDsa | Algorithm::Ed25519);
        self == header || (ed(self) && ed(header))
    }

    /// Whether a trust list must pin keys of this algorithm by name (the
    /// JWK's `alg`): the algorithms without a registered JOSE name, so that
    /// their keys are listed with the name they are used under. SM2SM3.
    pub fn requires_pin(self) -> bool {
        match self {
            Algorithm::EdDsa | Algorithm::Ed25519 | Algorithm::Es256 => false,
            #[cfg(feature = "sm")]
            Algorithm::Sm2Sm3 => true,
        }
    }

    /// Every algorithm this build accepts, in the order documentation
    /// lists them.
    pub fn all() -> &'static [Algorithm] {
        &[
            Algorithm::EdDsa,
            Algorithm::Ed25519,
            Algorithm::Es256,
            #[cfg(feature = "sm")]
            Algorithm::Sm2Sm3,
        ]
    }
}

/// Why a JWK was not accepted as a public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwkError {
    /// The JWK is not a JSON object.
    #[error("the JWK is not a JSON object")]
    NotAnObject,
    /// `kty`/`crv` name a key type Tongban does not accept.
    #[error("unsupported key type {0} (accepted: OKP/Ed25519, EC/P-256, EC/SM2)")]
    Unsupported(String),
    /// The JWK's `alg` names an algorithm that is not accepted, or one that
    /// this key cannot make.
    #[error("the JWK's \"alg\" {0:?} is not accepted for this key")]
    AlgMismatch(String),
    /// A required member is missing or not a string.
    #[error("the JWK member {0:?} is missing or not a string")]
    Missing(&'static str),
    /// The JWK carries private key material.
    #[error("the JWK contains private key material (\"d\"); a public key was expected")]
    PrivateMaterial,
    /// A coordinate is not canonical base64url of the right length.
    #[error("the JWK member {0:?} is not canonical base64url of the right length")]
    BadCoordinate(&'static str),
    /// The bytes do not encode a valid point (or a small-order Ed25519 key).
    #[error("the JWK does not encode a valid, non-weak public key")]
    InvalidPoint,
    /// A JWKS whose `keys` is not an array.
    #[error("\"keys\" is not an array")]
    KeysNotArray,
    /// A JWKS with no key.
    #[error("the JWKS holds no keys")]
    EmptySet,
    /// Issuer metadata that only points at its keys (`jwks_uri`); a pinned
    /// key file must hold the keys themselves.
    #[error("the issuer metadata names its keys by \"jwks_uri\" only; save the JWKS it points at")]
    KeysByReference,
}

/// A public key that can verify Tongban signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An Ed25519 key (`kty` `OKP`, `crv` `Ed25519`).
    Ed25519(ed25519_dalek::VerifyingKey),
    /// A P-256 key (`kty` `EC`, `crv` `P-256`).
    P256(p256::ecdsa::VerifyingKey),
    /// An SM2 key (`kty` `EC`, `crv` `SM2`).
    #[cfg(feature = "sm")]
    Sm2(sm2::PublicKey),
}

impl PublicKey {
    /// Parses a public JWK strictly (RFC 7517, RFC 8037).
    pub fn from_jwk(jwk: &Value) -> Result<PublicKey, JwkError> {
        let obj = jwk.as_object().ok_or(JwkError::NotAnObject)?;
        PublicKey::from_jwk_members(obj.contains_key("d"), |name| {
            obj.get(name).and_then(Value::as_str)
        })
    }

    /// [`PublicKey::from_jwk`] on a JWK read into the borrowed tree (the
    /// `cnf.jwk` of a credential under verification): the same rules, no
    /// owned copy.
    pub(crate) fn from_jwk_tree(jwk: &crate::json_tree::Node<'_>) -> Result<PublicKey, JwkError> {
        let crate::json_tree::Node::Object(obj) = jwk else {
            return Err(JwkError::NotAnObject);
        };
        PublicKey::from_jwk_members(obj.contains_key("d"), |name| {
            obj.get(name).and_then(crate::json_tree::Node::as_str)
        })
    }

    /// The rules of [`PublicKey::from_jwk`] over a JWK's string members
    /// (`None` when a member is absent or not a string).
    fn from_jwk_members<'j>(
        has_private_member: bool,
        string_member: impl Fn(&str) -> Option<&'j str>,
    ) -> Result<PublicKey, JwkError> {
        if has_private_member {
            return Err(JwkError::PrivateMaterial);
        }
        let member = |name: &'static str| string_member(name).ok_or(JwkError::Missing(name));
        let coord = |name: &'static str| -> Result<[u8; 32], JwkError> {
            let bytes =
                b64_decode(member(name)?, name).map_err(|_| JwkError::BadCoordinate(name))?;
            bytes.try_into().map_err(|_| JwkError::BadCoordinate(name))
        };
        match (member("kty")?, member("crv")?) {
            ("OKP", "Ed25519") => {
                let key = ed25519_dalek::VerifyingKey::from_bytes(&coord("x")?)
                    .map_err(|_| JwkError::InvalidPoint)?;
                // A canonical encoding of a point not of small order.
                if !crate::ed25519::canonical_key(&key) {
                    return Err(JwkError::InvalidPoint);
                }
                Ok(PublicKey::Ed25519(key))
            }
            ("EC", "P-256") => {
                let (x, y) = (coord("x")?, coord("y")?);
                let point =
                    p256::EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
                let key = p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                    .map_err(|_| JwkError::InvalidPoint)?;
                Ok(PublicKey::P256(key))
            }
            #[cfg(feature = "sm")]
            ("EC", CRV_SM2) => {
                let (x, y) = (coord("x")?, coord("y")?);
                use sm2::elliptic_curve::sec1::FromEncodedPoint as _;
                let point = sm2::EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
                // Refuses points off the curve and the identity.
                let key =
                    Option::<sm2::PublicKey>::from(sm2::PublicKey::from_encoded_point(&point))
                        .ok_or(JwkError::InvalidPoint)?;
                Ok(PublicKey::Sm2(key))
            }
            (kty, crv) => Err(JwkError::Unsupported(format!("{kty}/{crv}"))),
        }
    }

    /// The public JWK with only the required members, in RFC 7638 order.
    pub fn to_jwk(&self) -> Value {
        match self {
            PublicKey::Ed25519(k) => {
                json!({"crv": "Ed25519", "kty": "OKP", "x": b64_encode(k.as_bytes())})
            }
            PublicKey::P256(k) => {
                let point = k.to_encoded_point(false);
                let x = point.x().map(b64_encode).unwrap_or_default();
                let y = point.y().map(b64_encode).unwrap_or_default();
                json!({"crv": "P-256", "kty": "EC", "x": x, "y": y})
            }
            #[cfg(feature = "sm")]
            PublicKey::Sm2(k) => {
                use sm2::elliptic_curve::sec1::ToEncodedPoint as _;
                let point = k.to_encoded_point(false);
                let x = point.x().map(b64_encode).unwrap_or_default();
                let y = point.y().map(b64_encode).unwrap_or_default();
                json!({"crv": CRV_SM2, "kty": "EC", "x": x, "y": y})
            }
        }
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url), a good `kid`.
    pub fn thumbprint(&self) -> String {
        // to_jwk already emits the required members in lexicographic order
        // and compact form, as RFC 7638 §3 requires.
        let canonical = crate::encoding::to_compact_json(&self.to_jwk());
        b64_encode(Sha256::digest(canonical.as_bytes()))
    }

    /// Verifies `signature` over `message` with `alg`. Returns `false` on any
    /// mismatch, malformed signature or failed check; never panics.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        if !alg.fits(self) {
            return false;
        }
        match self {
            PublicKey::Ed25519(key) => {
                crate::ed25519::Prepared::new(key, message, signature).is_some_and(|p| p.verify())
            }
            PublicKey::P256(key) => {
                let Ok(sig) = p256::ecdsa::Signature::from_slice(signature) else {
                    return false;
                };
                key.verify(message, &sig).is_ok()
            }
            #[cfg(feature = "sm")]
            PublicKey::Sm2(key) => {
                // 64 bytes, r and s each in [1, n-1] (GB/T 32918.2 §7.1 B1,
                // B2); t = r + s ≠ 0 is checked by verify (B5).
                let Ok(sig) = sm2::dsa::Signature::from_slice(signature) else {
                    return false;
                };
                let Ok(vk) = sm2::dsa::VerifyingKey::new(SM2_SIGNER_ID, *key) else {
                    return false;
                };
                sm2::dsa::signature::Verifier::verify(&vk, message, &sig).is_ok()
            }
        }
    }

    /// The algorithm this key signs with when nothing else is said: EdDSA
    /// for Ed25519, ES256 for P-256, SM2SM3 for SM2.
    pub fn default_algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::EdDsa,
            PublicKey::P256(_) => Algorithm::Es256,
            #[cfg(feature = "sm")]
            PublicKey::Sm2(_) => Algorithm::Sm2Sm3,
        }
    }
}

/// The algorithm a JWK pins with its `alg` member (RFC 7517 §4.4), if it
/// has one: it must be an accepted algorithm that `key` can make.
/// A trust list requires it of every SM2 key (`specs/trust-list.md`), so
/// such a key is accepted under that one name only.
pub fn jwk_pinned_alg(jwk: &Value, key: &PublicKey) -> Result<Option<Algorithm>, JwkError> {
    match jwk.get("alg") {
        None => Ok(None),
        Some(Value::String(name)) => match Algorithm::from_jws(name) {
            Some(alg) if alg.fits(key) => Ok(Some(alg)),
            _ => Err(JwkError::AlgMismatch(name.clone())),
        },
        Some(other) => Err(JwkError::AlgMismatch(other.to_string())),
    }
}

/// A JWK with its optional `kid`, as keys are published and pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyWithId {
    /// The key.
    pub key: PublicKey,
    /// Its `kid`, when the JWK has one.
    pub kid: Option<String>,
}

impl KeyWithId {
    /// Parses a public JWK and its `kid`.
    pub fn from_jwk(jwk: &Value) -> Result<KeyWithId, JwkError> {
        let key = PublicKey::from_jwk(jwk)?;
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        Ok(KeyWithId { key, kid })
    }

    /// Parses what an issuer-key file may hold: a public JWK, a JWKS, or
    /// the issuer's SD-JWT VC metadata as its
    /// `/.well-known/jwt-vc-issuer/...` URL serves it (`{"issuer": …,
    /// "jwks": {"keys": [...]}}`). Metadata with only a `jwks_uri` is
    /// refused ([`JwkError::KeysByReference`]): the keys are not in it.
    pub fn from_key_document(doc: &Value) -> Result<Vec<KeyWithId>, JwkError> {
        match (doc.get("jwks"), doc.get("jwks_uri")) {
            (Some(jwks), _) if doc.get("issuer").is_some() => KeyWithId::from_jwk_or_set(jwks),
            (None, Some(_)) if doc.get("issuer").is_some() => Err(JwkError::KeysByReference),
            _ => KeyWithId::from_jwk_or_set(doc),
        }
    }

    /// Parses a public JWK, or a JWKS (`{"keys": [...]}`, not empty), as
    /// key files and published key sets hold them.
    pub fn from_jwk_or_set(doc: &Value) -> Result<Vec<KeyWithId>, JwkError> {
        match doc.get("keys") {
            None => Ok(vec![KeyWithId::from_jwk(doc)?]),
            Some(Value::Array(list)) if list.is_empty() => Err(JwkError::EmptySet),
            Some(Value::Array(list)) => list.iter().map(KeyWithId::from_jwk).collect(),
            Some(_) => Err(JwkError::KeysNotArray),
        }
    }
}

/// Why a signer could not sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing failed: {0}")]
pub struct SignError(pub String);

/// Something that signs JWS signing inputs: a software key today, a
/// hardware security module later.
pub trait Signer {
    /// The `alg` written into headers this signer signs.
    fn algorithm(&self) -> Algorithm;
    /// The `kid` written into headers, if any.
    fn key_id(&self) -> Option<&str>;
    /// The public key that verifies this signer's signatures.
    fn public_key(&self) -> PublicKey;
    /// Signs the JWS signing input (`header.payload`), returning the raw
    /// signature (64 bytes for Ed25519, ES256 and SM2SM3 alike).
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignError>;
    /// The `x5c` written into headers (the signing certificate and its
    /// chain, never the anchor), if any: see [`X5cSigner`].
    fn x5c(&self) -> Option<&[String]> {
        None
    }
}

/// A signer whose JWS carry its certificate chain in `x5c` (HAIP 1.0: an
/// SD-JWT VC and a status list token name their signer by certificate).
pub struct X5cSigner<'a> {
    inner: &'a dyn Signer,
    x5c: Vec<String>,
}

impl<'a> X5cSigner<'a> {
    /// `inner`, writing `x5c` (standard base64 DER, the leaf first, never
    /// the anchor) into every header it signs; an empty chain writes none
    /// (a key without a certificate signs as `inner` does).
    pub fn new(inner: &'a dyn Signer, x5c: Vec<String>) -> Self {
        X5cSigner { inner, x5c }
    }
}

impl std::fmt::Debug for X5cSigner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X5cSigner")
            .field("kid", &self.inner.key_id())
            .field("x5c", &self.x5c.len())
            .finish()
    }
}

impl Signer for X5cSigner<'_> {
    fn algorithm(&self) -> Algorithm {
        self.inner.algorithm()
    }
    fn key_id(&self) -> Option<&str> {
        self.inner.key_id()
    }
    fn public_key(&self) -> PublicKey {
        self.inner.public_key()
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignError> {
        self.inner.sign(signing_input)
    }
    fn x5c(&self) -> Option<&[String]> {
        (!self.x5c.is_empty()).then_some(self.x5c.as_slice())
    }
}

/// An Ed25519 key held in memory (zeroized on drop).
pub struct Ed25519Signer {
    key: ed25519_dalek::SigningKey,
    kid: Option<String>,
    /// The `alg` its headers say: `EdDSA` or the fully specified `Ed25519`.
    alg: Algorithm,
}

impl Ed25519Signer {
    /// A signer from a 32-byte seed; its headers say `EdDSA`.
    pub fn from_seed(seed: &[u8; 32], kid: Option<String>) -> Self {
        Ed25519Signer {
            key: ed25519_dalek::SigningKey::from_bytes(seed),
            kid,
            alg: Algorithm::EdDsa,
        }
    }

    /// The same key, naming its algorithm in the headers it signs as the
    /// fully specified `Ed25519` of RFC 9864 (`true`) or as `EdDSA`
    /// (`false`, the default). The signatures are the same either way.
    pub fn fully_specified(mut self, on: bool) -> Self {
        self.alg = if on {
            Algorithm::Ed25519
        } else {
            Algorithm::EdDsa
        };
        self
    }

    /// A signer from a private JWK (`kty` OKP, `crv` Ed25519, with `d`).
    /// The public `x`, when present, must match `d`. An `alg` of
    /// `Ed25519` makes it sign under that name ([`Self::fully_specified`]);
    /// `EdDSA` or none, under `EdDSA`; any other `alg` is refused.
    pub fn from_private_jwk(jwk: &Value) -> Result<Self, SignError> {
        let obj = jwk
            .as_object()
            .ok_or_else(|| SignError("the key file is not a JSON object".into()))?;
        if obj.get("kty").and_then(Value::as_str) != Some("OKP")
            || obj.get("crv").and_then(Value::as_str) != Some("Ed25519")
        {
            return Err(SignError("the key is not an Ed25519 (OKP) key".into()));
        }
        let d = obj
            .get("d")
            .and_then(Value::as_str)
            .ok_or_else(|| SignError("the JWK has no private part \"d\"".into()))?;
        let seed: [u8; 32] = b64_decode(d, "d")
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| SignError("\"d\" is not 32 bytes of base64url".into()))?;
        let kid = obj.get("kid").and_then(Value::as_str).map(str::to_owned);
        let fully_specified = match obj.get("alg") {
            None => false,
            Some(Value::String(a)) if a == "EdDSA" => false,
            Some(Value::String(a)) if a == "Ed25519" => true,
            Some(other) => {
                return Err(SignError(format!(
                    "the JWK's \"alg\" {other} is not EdDSA or Ed25519"
                )));
            }
        };
        let signer = Ed25519Signer::from_seed(&seed, kid).fully_specified(fully_specified);
        if let Some(x) = obj.get("x")
            && *x != signer.public_key().to_jwk()["x"]
        {
            return Err(SignError("\"x\" does not match \"d\"".into()));
        }
        Ok(signer)
    }

    /// A fresh random key.
    pub fn generate(rng: &mut impl rand_core::CryptoRngCore, kid: Option<String>) -> Self {
        Ed25519Signer {
            key: ed25519_dalek::SigningKey::generate(rng),
            kid,
            alg: Algorithm::EdDsa,
        }
    }

    /// The 32-byte seed (secret: store it encrypted).
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The private JWK (secret), with `kid` when set.
    pub fn to_private_jwk(&self) -> Value {
        let mut jwk = self.public_key().to_jwk();
        if let Value::Object(map) = &mut jwk {
            map.insert("d".into(), Value::String(b64_encode(self.key.to_bytes())));
            if let Some(kid) = &self.kid {
                map.insert("kid".into(), Value::String(kid.clone()));
            }
        }
        jwk
    }
}

impl core::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("public", &b64_encode(self.key.verifying_key().as_bytes()))
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Signer for Ed25519Signer {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
    fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }
    fn public_key(&self) -> PublicKey {
        PublicKey::Ed25519(self.key.verifying_key())
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignError> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(signing_input).to_bytes().to_vec())
    }
}

/// A P-256 key held in memory, signing ES256 (for holders and interop).
pub struct P256Signer {
    key: p256::ecdsa::SigningKey,
    kid: Option<String>,
}

impl P256Signer {
    /// A signer from a 32-byte secret scalar.
    pub fn from_bytes(secret: &[u8; 32], kid: Option<String>) -> Result<Self, SignError> {
        let key = p256::ecdsa::SigningKey::from_bytes(secret.into())
            .map_err(|_| SignError("not a valid P-256 secret scalar".into()))?;
        Ok(P256Signer { key, kid })
    }

    /// A signer from a private JWK (`kty` EC, `crv` P-256, with `d`). The
    /// public `x`/`y`, when present, must match `d`.
    pub fn from_private_jwk(jwk: &Map<String, Value>) -> Result<Self, SignError> {
        let d = jwk
            .get("d")
            .and_then(Value::as_str)
            .ok_or_else(|| SignError("the JWK has no \"d\"".into()))?;
        let bytes: [u8; 32] = b64_decode(d, "d")
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| SignError("\"d\" is not 32 bytes of base64url".into()))?;
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        let signer = P256Signer::from_bytes(&bytes, kid)?;
        let public = signer.public_key().to_jwk();
        for member in ["x", "y"] {
            if let Some(v) = jwk.get(member)
                && *v != public[member]
            {
                return Err(SignError(format!("\"{member}\" does not match \"d\"")));
            }
        }
        Ok(signer)
    }

    /// A fresh random key.
    pub fn generate(rng: &mut impl rand_core::CryptoRngCore, kid: Option<String>) -> Self {
        P256Signer {
            key: p256::ecdsa::SigningKey::random(rng),
            kid,
        }
    }

    /// The 32-byte secret scalar (secret: store it encrypted).
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    /// The private JWK (secret), with `kid` when set.
    pub fn to_private_jwk(&self) -> Value {
        let mut jwk = self.public_key().to_jwk();
        if let Value::Object(map) = &mut jwk {
            map.insert("d".into(), Value::String(b64_encode(self.secret_bytes())));
            if let Some(kid) = &self.kid {
                map.insert("kid".into(), Value::String(kid.clone()));
            }
        }
        jwk
    }
}

impl core::fmt::Debug for P256Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("P256Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer for P256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Es256
    }
    fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }
    fn public_key(&self) -> PublicKey {
        PublicKey::P256(*self.key.verifying_key())
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignError> {
        use p256::ecdsa::signature::Signer as _;
        let sig: p256::ecdsa::Signature = self.key.sign(signing_input);
        Ok(sig.to_bytes().to_vec())
    }
}

/// An SM2 key held in memory, signing `SM2SM3` with the signer ID
/// [`SM2_SIGNER_ID`]. The per-signature `k` is derived from the key and
/// the message as in RFC 6979 (with SM3), so signing needs no RNG and a
/// repeated `k` cannot happen.
#[cfg(feature = "sm")]
pub struct Sm2Signer {
    key: sm2::dsa::SigningKey,
    kid: Option<String>,
}

#[cfg(feature = "sm")]
impl Sm2Signer {
    /// A signer from a 32-byte secret scalar (big-endian, in [1, n-1]).
    pub fn from_bytes(secret: &[u8; 32], kid: Option<String>) -> Result<Self, SignError> {
        let key = sm2::dsa::SigningKey::from_bytes(SM2_SIGNER_ID, secret.into())
            .map_err(|_| SignError("not a valid SM2 secret scalar".into()))?;
        Ok(Sm2Signer { key, kid })
    }

    /// A signer from a private JWK (`kty` EC, `crv` SM2, with `d`). The
    /// public `x`/`y`, when present, must match `d`.
    pub fn from_private_jwk(jwk: &Map<String, Value>) -> Result<Self, SignError> {
        let d = jwk
            .get("d")
            .and_then(Value::as_str)
            .ok_or_else(|| SignError("the JWK has no \"d\"".into()))?;
        let bytes: [u8; 32] = b64_decode(d, "d")
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| SignError("\"d\" is not 32 bytes of base64url".into()))?;
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        let signer = Sm2Signer::from_bytes(&bytes, kid)?;
        let public = signer.public_key().to_jwk();
        for member in ["x", "y"] {
            if let Some(v) = jwk.get(member)
                && *v != public[member]
            {
                return Err(SignError(format!("\"{member}\" does not match \"d\"")));
            }
        }
        Ok(signer)
    }

    /// A fresh random key.
    pub fn generate(rng: &mut impl rand_core::CryptoRngCore, kid: Option<String>) -> Self {
        let secret = sm2::SecretKey::random(rng);
        // A random secret key is a non-zero scalar: its signing key exists.
        let key = sm2::dsa::SigningKey::new(SM2_SIGNER_ID, &secret)
            .unwrap_or_else(|_| unreachable!("a SecretKey is a valid SM2 signing key"));
        Sm2Signer { key, kid }
    }

    /// The 32-byte secret scalar (secret: store it encrypted).
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    /// The private JWK (secret), with `kid` when set.
    pub fn to_private_jwk(&self) -> Value {
        let mut jwk = self.public_key().to_jwk();
        if let Value::Object(map) = &mut jwk {
            map.insert("d".into(), Value::String(b64_encode(self.secret_bytes())));
            if let Some(kid) = &self.kid {
                map.insert("kid".into(), Value::String(kid.clone()));
            }
        }
        jwk
    }
}

#[cfg(feature = "sm")]
impl core::fmt::Debug for Sm2Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sm2Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "sm")]
impl Signer for Sm2Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Sm2Sm3
    }
    fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }
    fn public_key(&self) -> PublicKey {
        PublicKey::Sm2(sm2::PublicKey::from(self.key.verifying_key()))
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignError> {
        let sig: sm2::dsa::Signature =
            sm2::dsa::signature::Signer::try_sign(&self.key, signing_input)
                .map_err(|_| SignError("SM2 signing failed".into()))?;
        Ok(sig.to_bytes().to_vec())
    }
}

/// A software key of any accepted kind, chosen at run time (an agency's
/// key, a wallet's holder key).
#[derive(Debug)]
#[non_exhaustive]
pub enum AnySigner {
    /// Ed25519 (`EdDSA`).
    Ed25519(Ed25519Signer),
    /// P-256 (`ES256`).
    P256(P256Signer),
    /// SM2 (`SM2SM3`).
    #[cfg(feature = "sm")]
    Sm2(Sm2Signer),
}

impl AnySigner {
    /// A signer from a private JWK of any accepted kind (OKP/Ed25519,
    /// EC/P-256, EC/SM2, with `d`).
    pub fn from_private_jwk(jwk: &Value) -> Result<Self, SignError> {
        let obj = jwk
            .as_object()
            .ok_or_else(|| SignError("the key file is not a JSON object".into()))?;
        let member = |m: &str| obj.get(m).and_then(Value::as_str).unwrap_or_default();
        match (member("kty"), member("crv")) {
            ("OKP", "Ed25519") => Ed25519Signer::from_private_jwk(jwk).map(AnySigner::Ed25519),
            ("EC", "P-256") => P256Signer::from_private_jwk(obj).map(AnySigner::P256),
            #[cfg(feature = "sm")]
            ("EC", CRV_SM2) => Sm2Signer::from_private_jwk(obj).map(AnySigner::Sm2),
            (kty, crv) => Err(SignError(format!(
                "unsupported private key {kty}/{crv} (accepted: OKP/Ed25519, EC/P-256, EC/SM2)"
            ))),
        }
    }

    fn inner(&self) -> &dyn Signer {
        match self {
            AnySigner::Ed25519(s) => s,
            AnySigner::P256(s) => s,
            #[cfg(feature = "sm")]
            AnySigner::Sm2(s) => s,
        }
    }
}

impl Signer for AnySigner {
    fn algorithm(&self) -> Algorithm {
        self.inner().algorithm()
    }
    fn key_id(&self) -> Option<&str> {
        self.inner().key_id()
    }
    fn public_key(&self) -> PublicKey {
        self.inner().public_key()
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignError> {
        self.inner().sign(signing_input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwk_round_trip_and_strictness() {
        let signer = Ed25519Signer::from_seed(&[7; 32], Some("k1".into()));
        let back = Ed25519Signer::from_private_jwk(&signer.to_private_jwk()).unwrap();
        assert_eq!(back.public_key(), signer.public_key());
        assert_eq!(back.key_id(), Some("k1"));
        let mut wrong = signer.to_private_jwk();
        wrong["x"] = Ed25519Signer::from_seed(&[8; 32], None)
            .public_key()
            .to_jwk()["x"]
            .clone();
        assert!(Ed25519Signer::from_private_jwk(&wrong).is_err());
        let jwk = signer.public_key().to_jwk();
        assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), signer.public_key());
        assert_eq!(
            PublicKey::from_jwk(&signer.to_private_jwk()).unwrap_err(),
            JwkError::PrivateMaterial
        );
        let mut bad = jwk.clone();
        bad["x"] = Value::String("AAAA".into());
        assert_eq!(
            PublicKey::from_jwk(&bad).unwrap_err(),
            JwkError::BadCoordinate("x")
        );
        // The identity point is a small-order (weak) key.
        let mut weak = jwk.clone();
        let mut identity = [0u8; 32];
        identity[0] = 1;
        weak["x"] = Value::String(b64_encode(identity));
        assert_eq!(
            PublicKey::from_jwk(&weak).unwrap_err(),
            JwkError::InvalidPoint
        );
        assert!(matches!(
            PublicKey::from_jwk(&json!({"kty":"RSA","crv":"x"})),
            Err(JwkError::Unsupported(_))
        ));
    }

    #[test]
    fn jwk_or_jwks_documents() {
        let a = Ed25519Signer::from_seed(&[1; 32], Some("a".into()))
            .public_key()
            .to_jwk();
        let b = Ed25519Signer::from_seed(&[2; 32], None)
            .public_key()
            .to_jwk();
        assert_eq!(KeyWithId::from_jwk_or_set(&a).unwrap().len(), 1);
        let set = KeyWithId::from_jwk_or_set(&json!({"keys": [a, b]})).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(
            KeyWithId::from_jwk_or_set(&json!({"keys": []})).unwrap_err(),
            JwkError::EmptySet
        );
        assert_eq!(
            KeyWithId::from_jwk_or_set(&json!({"keys": {}})).unwrap_err(),
            JwkError::KeysNotArray
        );
        assert_eq!(
            KeyWithId::from_jwk_or_set(&json!({"keys": [{"kty": "oct"}]})).unwrap_err(),
            JwkError::Missing("crv")
        );
    }

    #[test]
    fn signatures_verify_only_with_their_algorithm() {
        let ed = Ed25519Signer::from_seed(&[1; 32], None);
        let sig = ed.sign(b"msg").unwrap();
        assert!(ed.public_key().verify(Algorithm::EdDsa, b"msg", &sig));
        assert!(ed.public_key().verify(Algorithm::Ed25519, b"msg", &sig));
        assert!(!ed.public_key().verify(Algorithm::Es256, b"msg", &sig));
        assert!(!ed.public_key().verify(Algorithm::EdDsa, b"msh", &sig));
        assert!(!ed.public_key().verify(Algorithm::EdDsa, b"msg", &sig[..63]));

        let ec = P256Signer::from_bytes(&[3; 32], None).unwrap();
        let sig = ec.sign(b"msg").unwrap();
        assert_eq!(sig.len(), 64);
        assert!(ec.public_key().verify(Algorithm::Es256, b"msg", &sig));
        assert!(!ec.public_key().verify(Algorithm::EdDsa, b"msg", &sig));
        let jwk = ec.public_key().to_jwk();
        assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), ec.public_key());
    }

    #[test]
    fn an_ed25519_signer_names_its_alg_as_asked() {
        let plain = Ed25519Signer::from_seed(&[1; 32], None);
        assert_eq!(plain.algorithm(), Algorithm::EdDsa);
        let full = Ed25519Signer::from_seed(&[1; 32], None).fully_specified(true);
        assert_eq!(full.algorithm(), Algorithm::Ed25519);
        // Same key, same (deterministic) signature under either name.
        assert_eq!(plain.sign(b"m").unwrap(), full.sign(b"m").unwrap());
        let mut jwk = full.to_private_jwk();
        jwk["alg"] = "Ed25519".into();
        let back = AnySigner::from_private_jwk(&jwk).unwrap();
        assert_eq!(back.algorithm(), Algorithm::Ed25519);
        jwk["alg"] = "EdDSA".into();
        assert_eq!(
            AnySigner::from_private_jwk(&jwk).unwrap().algorithm(),
            Algorithm::EdDsa
        );
        for other in ["ES256", "ed25519", "none"] {
            jwk["alg"] = other.into();
            assert!(AnySigner::from_private_jwk(&jwk).is_err(), "{other}");
        }
    }

    #[test]
    fn p256_private_jwks_round_trip_and_must_match() {
        let s = P256Signer::from_bytes(&[3; 32], Some("p".into())).unwrap();
        let private = s.to_private_jwk();
        assert_eq!(private["crv"], "P-256");
        let back = AnySigner::from_private_jwk(&private).unwrap();
        assert_eq!(back.public_key(), s.public_key());
        assert_eq!(back.algorithm(), Algorithm::Es256);
        assert_eq!(back.key_id(), Some("p"));
        assert_eq!(s.secret_bytes(), [3; 32]);
        let mut wrong = private.clone();
        wrong["y"] = P256Signer::from_bytes(&[4; 32], None)
            .unwrap()
            .public_key()
            .to_jwk()["y"]
            .clone();
        assert!(AnySigner::from_private_jwk(&wrong).is_err());
        assert!(P256Signer::from_bytes(&[0; 32], None).is_err(), "d = 0");
    }

    #[test]
    fn rfc8037_thumbprint() {
        // RFC 8037 appendix A.3.
        let jwk =
            json!({"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(
            PublicKey::from_jwk(&jwk).unwrap().thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[cfg(feature = "sm")]
    mod sm2_keys {
        use super::*;

        /// The order n of the SM2 recommended curve (GB/T 32918.5).
        const N: [u8; 32] = [
            0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xFF, 0xFF, 0x72, 0x03, 0xDF, 0x6B, 0x21, 0xC6, 0x05, 0x2B, 0x53, 0xBB, 0xF4, 0x09,
            0x39, 0xD5, 0x41, 0x23,
        ];

        fn signer() -> Sm2Signer {
            Sm2Signer::from_bytes(&[5; 32], Some("sm".into())).unwrap()
        }

        #[test]
        fn sm2_private_and_public_jwks_round_trip() {
            let s = signer();
            let jwk = s.public_key().to_jwk();
            assert_eq!(jwk["crv"], "SM2");
            assert_eq!(jwk["kty"], "EC");
            assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), s.public_key());
            let private = s.to_private_jwk();
            let back = AnySigner::from_private_jwk(&private).unwrap();
            assert_eq!(back.public_key(), s.public_key());
            assert_eq!(back.algorithm(), Algorithm::Sm2Sm3);
            assert_eq!(back.key_id(), Some("sm"));
            let mut wrong = private.clone();
            wrong["y"] = Sm2Signer::from_bytes(&[6; 32], None)
                .unwrap()
                .public_key()
                .to_jwk()["y"]
                .clone();
            assert!(AnySigner::from_private_jwk(&wrong).is_err());
            assert!(Sm2Signer::from_bytes(&[0; 32], None).is_err(), "d = 0");
            assert!(Sm2Signer::from_bytes(&N, None).is_err(), "d = n");
        }

        #[test]
        fn an_sm2_point_is_not_a_p256_point_and_back() {
            // The same coordinates under the other curve name are not a
            // point of that curve: no key is read as the other kind.
            let mut jwk = signer().public_key().to_jwk();
            jwk["crv"] = "P-256".into();
            assert_eq!(
                PublicKey::from_jwk(&jwk).unwrap_err(),
                JwkError::InvalidPoint
            );
            let mut p = P256Signer::from_bytes(&[3; 32], None)
                .unwrap()
                .public_key()
                .to_jwk();
            p["crv"] = "SM2".into();
            assert_eq!(PublicKey::from_jwk(&p).unwrap_err(), JwkError::InvalidPoint);
            let mut off = signer().public_key().to_jwk();
            off["y"] = off["x"].clone();
            assert_eq!(
                PublicKey::from_jwk(&off).unwrap_err(),
                JwkError::InvalidPoint
            );
            for crv in ["sm2", "SM2P256V1", "secp256k1"] {
                let mut other = signer().public_key().to_jwk();
                other["crv"] = crv.into();
                assert!(
                    matches!(PublicKey::from_jwk(&other), Err(JwkError::Unsupported(_))),
                    "{crv}"
                );
            }
        }

        #[test]
        fn sm2_signatures_verify_only_as_sm2sm3() {
            let s = signer();
            let sig = s.sign(b"msg").unwrap();
            assert_eq!(sig.len(), 64);
            let k = s.public_key();
            assert!(k.verify(Algorithm::Sm2Sm3, b"msg", &sig));
            for other in [Algorithm::Es256, Algorithm::EdDsa, Algorithm::Ed25519] {
                assert!(!k.verify(other, b"msg", &sig), "{other:?}");
            }
            assert!(!k.verify(Algorithm::Sm2Sm3, b"msh", &sig));
            // A P-256 key never verifies under SM2SM3, nor an SM2 one under ES256.
            let p = P256Signer::from_bytes(&[3; 32], None).unwrap();
            let psig = p.sign(b"msg").unwrap();
            assert!(!p.public_key().verify(Algorithm::Sm2Sm3, b"msg", &psig));
            assert!(!k.verify(Algorithm::Es256, b"msg", &psig));
            assert!(!Algorithm::Es256.fits(&k));
            assert!(!Algorithm::Sm2Sm3.fits(&p.public_key()));
        }

        #[test]
        fn sm2_signatures_out_of_range_or_malformed_are_refused() {
            let s = signer();
            let sig = s.sign(b"msg").unwrap();
            let k = s.public_key();
            let with = |r: &[u8], s_: &[u8]| [r, s_].concat();
            let (r, sv) = sig.split_at(32);
            let zero = [0u8; 32];
            let ones = [0xFFu8; 32];
            let mut n_minus_r = [0u8; 32];
            // n - r (mod n) as big-endian bytes: with s = n - r, t = 0 (B5).
            let mut borrow = 0i16;
            for i in (0..32).rev() {
                let d = i16::from(N[i]) - i16::from(r[i]) - borrow;
                n_minus_r[i] = d.rem_euclid(256) as u8;
                borrow = i16::from(d < 0);
            }
            for (name, bad) in [
                ("r = 0", with(&zero, sv)),
                ("s = 0", with(r, &zero)),
                ("r = n", with(&N, sv)),
                ("s = n", with(r, &N)),
                ("r > n", with(&ones, sv)),
                ("s > n", with(r, &ones)),
                ("r + s = n", with(r, &n_minus_r)),
                ("short", sig[..63].to_vec()),
                ("long", [&sig[..], &[0]].concat()),
                ("swapped", with(sv, r)),
            ] {
                assert!(!k.verify(Algorithm::Sm2Sm3, b"msg", &bad), "{name}");
            }
        }

        #[test]
        fn a_jwk_alg_pins_its_key() {
            let k = signer().public_key();
            let mut jwk = k.to_jwk();
            assert_eq!(jwk_pinned_alg(&jwk, &k), Ok(None));
            jwk["alg"] = "SM2SM3".into();
            assert_eq!(jwk_pinned_alg(&jwk, &k), Ok(Some(Algorithm::Sm2Sm3)));
            for other in ["ES256", "EdDSA", "SM2", "none"] {
                jwk["alg"] = other.into();
                assert!(jwk_pinned_alg(&jwk, &k).is_err(), "{other}");
            }
            assert!(Algorithm::EdDsa.pin_admits(Algorithm::Ed25519));
            assert!(!Algorithm::Es256.pin_admits(Algorithm::Sm2Sm3));
            assert!(Algorithm::Sm2Sm3.requires_pin());
            assert_eq!(Algorithm::from_jws("SM2SM3"), Some(Algorithm::Sm2Sm3));
            assert_eq!(Algorithm::from_jws("sm2sm3"), None);
        }
    }
}
