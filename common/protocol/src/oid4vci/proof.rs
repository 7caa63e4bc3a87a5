//! The JWT key proof (Appendix F.1): the wallet signs it with the key the
//! credential is to be bound to; the issuer checks it (Appendix F.4) and
//! binds the credential to that key.

use serde_json::{Map, Value};
use tongban_verifier::encoding::{b64_encode, to_compact_json};
use tongban_verifier::jws::{CompactJws, media_type_eq};
use tongban_verifier::keys::{Algorithm, JwkError, SignError};
use tongban_verifier::{PublicKey, Signer};

use super::{KEY_ATTESTATION_HEADER, PROOF_TYP, proof_signing_algs};

/// How a proof names its key in the JOSE header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofKeyForm<'a> {
    /// The public key itself (`jwk`): what Tongban's wallet sends and its
    /// issuers accept.
    Jwk,
    /// A key id (`kid`) the issuer can resolve (a DID URL, say).
    Kid(&'a str),
}

/// Signs a key proof: header `typ` [`PROOF_TYP`], the signer's `alg`, and
/// the key as `key` says; payload `aud` (the credential issuer), `iat`
/// and, when the issuer gave one, `nonce`.
pub fn sign_proof(
    signer: &dyn Signer,
    key: ProofKeyForm<'_>,
    aud: &str,
    nonce: Option<&str>,
    iat: i64,
) -> Result<String, SignError> {
    sign_proof_with(signer, key, aud, nonce, iat, None)
}

/// As [`sign_proof`], with a key attestation (Appendix D.1) covering the
/// signer's key in the header's `key_attestation` member.
pub fn sign_attested_proof(
    signer: &dyn Signer,
    aud: &str,
    nonce: Option<&str>,
    iat: i64,
    key_attestation: &str,
) -> Result<String, SignError> {
    sign_proof_with(
        signer,
        ProofKeyForm::Jwk,
        aud,
        nonce,
        iat,
        Some(key_attestation),
    )
}

fn sign_proof_with(
    signer: &dyn Signer,
    key: ProofKeyForm<'_>,
    aud: &str,
    nonce: Option<&str>,
    iat: i64,
    key_attestation: Option<&str>,
) -> Result<String, SignError> {
    let mut header = Map::new();
    header.insert("typ".into(), PROOF_TYP.into());
    header.insert("alg".into(), signer.algorithm().as_str().into());
    match key {
        ProofKeyForm::Jwk => header.insert("jwk".into(), signer.public_key().to_jwk()),
        ProofKeyForm::Kid(kid) => header.insert("kid".into(), kid.into()),
    };
    if let Some(ka) = key_attestation {
        header.insert(KEY_ATTESTATION_HEADER.into(), ka.into());
    }
    let mut payload = Map::new();
    payload.insert("aud".into(), aud.into());
    payload.insert("iat".into(), iat.into());
    if let Some(n) = nonce {
        payload.insert("nonce".into(), n.into());
    }
    let mut out = b64_encode(to_compact_json(&header));
    out.push('.');
    out.push_str(&b64_encode(to_compact_json(&payload)));
    let sig = signer.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&b64_encode(sig));
    Ok(out)
}

/// What the proof's `nonce` must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedNonce<'a> {
    /// Exactly this value.
    Equal(&'a str),
    /// Present, as a string; the caller checks it afterwards (an issuer
    /// consumes it from its store of live nonces) from
    /// [`ProofKey::nonce`].
    Present,
    /// No nonce is required (an issuer without a nonce endpoint); one that
    /// is there is returned unchecked.
    NotRequired,
}

/// How far the proof's `iat` may be from the checker's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IatWindow {
    /// Seconds `iat` may be in the past.
    pub max_age: i64,
    /// Seconds `iat` may be in the future (clock skew).
    pub max_ahead: i64,
}

impl IatWindow {
    /// Tongban's issuer: 60 s ahead, `max_age` seconds old.
    pub const fn with_max_age(max_age: i64) -> IatWindow {
        IatWindow {
            max_age,
            max_ahead: 60,
        }
    }
}

/// A proof that passed [`check_proof`]: the key to bind the credential to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofKey {
    /// The holder's public key (from the `jwk` header).
    pub key: PublicKey,
    /// The algorithm the proof is signed with.
    pub alg: Algorithm,
    /// The proof's `iat`.
    pub iat: i64,
    /// The proof's `nonce`, when it has one.
    pub nonce: Option<String>,
    /// The key attestation in the header (`key_attestation`, Appendix
    /// D.1), unchecked: the issuer checks it against the roots it trusts.
    pub key_attestation: Option<String>,
}

/// Why a key proof was refused. The messages are what an issuer puts in
/// `error_description`; [`error_code`](Self::error_code) is the OAuth
/// error (`invalid_proof`, or `invalid_nonce` for the nonce).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// Not a compact JWS with JSON header and payload.
    #[error("{0}")]
    Malformed(String),
    /// `typ` is missing or not [`PROOF_TYP`].
    #[error("proof typ must be {PROOF_TYP}")]
    Typ,
    /// `alg` is missing or not one of [`proof_signing_algs`].
    #[error("proof alg {0:?} is not accepted ({algs})", algs = proof_signing_algs().join(", "))]
    Alg(String),
    /// The header lists `crit` extensions.
    #[error("proof header lists crit extensions; none are understood")]
    Crit,
    /// The header carries none, or several, of `kid`, `jwk`, `x5c`.
    #[error("the proof header must carry exactly one of kid, jwk, x5c")]
    KeyMembers,
    /// The key is given as `kid` or `x5c`, which Tongban does not resolve.
    #[error("only the jwk key form is supported (no DID or certificate resolution)")]
    KeyForm,
    /// The `jwk` is not a usable public key.
    #[error("proof jwk: {0}")]
    Jwk(JwkError),
    /// `alg` is for another kind of key than the `jwk`.
    #[error("alg {0} does not fit the proof key")]
    AlgKeyMismatch(String),
    /// The signature does not verify with the `jwk`.
    #[error("the proof signature does not verify with its jwk")]
    Signature,
    /// `aud` is missing.
    #[error("proof aud is missing")]
    AudMissing,
    /// `aud` is not the credential issuer.
    #[error("proof aud {found} is not this issuer ({expected})")]
    AudMismatch {
        /// The proof's `aud`, as JSON.
        found: String,
        /// The credential issuer identifier.
        expected: String,
    },
    /// `iat` is missing or not an integer.
    #[error("proof iat is missing or not an integer")]
    IatMissing,
    /// `iat` is outside the window.
    #[error("proof iat {iat} is outside the accepted window (now {now})")]
    IatOutsideWindow {
        /// The proof's `iat`.
        iat: i64,
        /// The checker's time.
        now: i64,
    },
    /// A nonce is required and the proof has none.
    #[error("proof nonce is missing; get one from the nonce endpoint")]
    NonceMissing,
    /// The nonce is not the expected one (or, for an issuer, not a live
    /// one of its own).
    #[error(
        "the c_nonce is unknown, expired or already used; get a new one from the nonce endpoint"
    )]
    NonceInvalid,
    /// The header's `key_attestation` is not a string (a compact JWT).
    #[error("the proof header's key_attestation must be a compact JWT string")]
    KeyAttestationNotString,
}

impl ProofError {
    /// The OAuth error code (§8.3.1.2): `invalid_nonce` for a missing or
    /// wrong nonce, `invalid_proof` for everything else.
    pub fn error_code(&self) -> &'static str {
        match self {
            ProofError::NonceMissing | ProofError::NonceInvalid => "invalid_nonce",
            _ => "invalid_proof",
        }
    }
}

/// Checks a key proof (Appendix F.4), in this order: a compact JWS; `typ`
/// [`PROOF_TYP`]; `alg` one of [`proof_signing_algs`]; no `crit`; exactly one of
/// `kid`, `jwk`, `x5c`, and it is `jwk`; the `jwk` a public key fitting
/// `alg`; the signature; `aud` equal to `expected_aud`; `iat` an integer
/// inside `window` around `now`; the nonce as `expected_nonce` says.
/// Returns the key to bind the credential to.
pub fn check_proof(
    jwt: &str,
    expected_aud: &str,
    expected_nonce: ExpectedNonce<'_>,
    now: i64,
    window: IatWindow,
) -> Result<ProofKey, ProofError> {
    let jws = CompactJws::parse(jwt, "proof").map_err(|e| ProofError::Malformed(e.to_string()))?;
    let h = &jws.header;
    match h.get("typ").and_then(Value::as_str) {
        Some(t) if media_type_eq(t, PROOF_TYP) => {}
        _ => return Err(ProofError::Typ),
    }
    let alg_name = h.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg = Algorithm::from_jws(alg_name).ok_or_else(|| ProofError::Alg(alg_name.to_owned()))?;
    if h.contains_key("crit") {
        return Err(ProofError::Crit);
    }
    let key_members = ["kid", "jwk", "x5c"]
        .iter()
        .filter(|m| h.contains_key(**m))
        .count();
    if key_members != 1 {
        return Err(ProofError::KeyMembers);
    }
    let jwk = h.get("jwk").ok_or(ProofError::KeyForm)?;
    let key = PublicKey::from_jwk(jwk).map_err(ProofError::Jwk)?;
    if !alg.fits(&key) {
        return Err(ProofError::AlgKeyMismatch(alg_name.to_owned()));
    }
    if !key.verify(alg, jws.signing_input.as_bytes(), &jws.signature) {
        return Err(ProofError::Signature);
    }
    let p = &jws.payload;
    match p.get("aud") {
        Some(Value::String(a)) if a == expected_aud => {}
        Some(a) => {
            return Err(ProofError::AudMismatch {
                found: a.to_string(),
                expected: expected_aud.to_owned(),
            });
        }
        None => return Err(ProofError::AudMissing),
    }
    let iat = p
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(ProofError::IatMissing)?;
    if iat > now.saturating_add(window.max_ahead) || iat < now.saturating_sub(window.max_age) {
        return Err(ProofError::IatOutsideWindow { iat, now });
    }
    let nonce = p.get("nonce").and_then(Value::as_str).map(str::to_owned);
    match (expected_nonce, nonce.as_deref()) {
        (ExpectedNonce::NotRequired, _) => {}
        (ExpectedNonce::Equal(_) | ExpectedNonce::Present, None) => {
            return Err(ProofError::NonceMissing);
        }
        (ExpectedNonce::Equal(want), Some(got)) if got != want => {
            return Err(ProofError::NonceInvalid);
        }
        (ExpectedNonce::Equal(_) | ExpectedNonce::Present, Some(_)) => {}
    }
    let key_attestation = match h.get(KEY_ATTESTATION_HEADER) {
        None => None,
        Some(Value::String(ka)) => Some(ka.clone()),
        Some(_) => return Err(ProofError::KeyAttestationNotString),
    };
    Ok(ProofKey {
        key,
        alg,
        iat,
        nonce,
        key_attestation,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;
    use tongban_verifier::{Ed25519Signer, P256Signer};

    const AUD: &str = "https://i.example/agencies/demo";
    const NOW: i64 = 1_800_000_000;
    const WINDOW: IatWindow = IatWindow::with_max_age(300);

    fn holder() -> Ed25519Signer {
        Ed25519Signer::from_seed(&[7; 32], None)
    }

    /// A JWS with exactly this header and payload, signed by `signer`.
    fn forge(header: &Value, payload: &Value, signer: &dyn Signer) -> String {
        let mut out = b64_encode(to_compact_json(header));
        out.push('.');
        out.push_str(&b64_encode(to_compact_json(payload)));
        let sig = signer.sign(out.as_bytes()).unwrap();
        out.push('.');
        out.push_str(&b64_encode(sig));
        out
    }

    fn good_header() -> Value {
        json!({"typ": PROOF_TYP, "alg": "EdDSA", "jwk": holder().public_key().to_jwk()})
    }

    fn good_payload() -> Value {
        json!({"aud": AUD, "iat": NOW, "nonce": "n-1"})
    }

    fn check(jwt: &str) -> Result<ProofKey, ProofError> {
        check_proof(jwt, AUD, ExpectedNonce::Equal("n-1"), NOW, WINDOW)
    }

    fn with_header(change: impl FnOnce(&mut Map<String, Value>)) -> Result<ProofKey, ProofError> {
        let mut h = good_header();
        change(h.as_object_mut().unwrap());
        check(&forge(&h, &good_payload(), &holder()))
    }

    fn with_payload(change: impl FnOnce(&mut Map<String, Value>)) -> Result<ProofKey, ProofError> {
        let mut p = good_payload();
        change(p.as_object_mut().unwrap());
        check(&forge(&good_header(), &p, &holder()))
    }

    #[test]
    fn a_signed_proof_carries_the_holder_key_and_passes() {
        let h = holder();
        let jwt = sign_proof(&h, ProofKeyForm::Jwk, AUD, Some("n-1"), NOW).unwrap();
        let jws = CompactJws::parse(&jwt, "proof").unwrap();
        assert_eq!(Value::Object(jws.header.clone()), good_header());
        assert!(!jws.header.contains_key("kid"));
        assert_eq!(Value::Object(jws.payload.clone()), good_payload());
        let got = check(&jwt).unwrap();
        assert_eq!(got.key, h.public_key());
        assert_eq!(got.alg, Algorithm::EdDsa);
        assert_eq!(got.iat, NOW);
        assert_eq!(got.nonce.as_deref(), Some("n-1"));
        // ES256 keys too.
        let p = P256Signer::from_bytes(&[3; 32], None).unwrap();
        let jwt = sign_proof(&p, ProofKeyForm::Jwk, AUD, Some("n-1"), NOW).unwrap();
        assert_eq!(check(&jwt).unwrap().alg, Algorithm::Es256);
        // The fully specified Ed25519 name, and typ with its media type prefix.
        assert!(
            with_header(|h| {
                h.insert("alg".into(), json!("Ed25519"));
                h.insert("typ".into(), json!("application/openid4vci-proof+jwt"));
            })
            .is_ok()
        );
    }

    #[test]
    fn a_kid_proof_names_its_key_and_is_refused_by_the_jwk_only_checker() {
        let jwt = sign_proof(
            &holder(),
            ProofKeyForm::Kid("did:example:1#k"),
            AUD,
            None,
            NOW,
        )
        .unwrap();
        let jws = CompactJws::parse(&jwt, "proof").unwrap();
        assert_eq!(jws.header["kid"], "did:example:1#k");
        assert!(!jws.header.contains_key("jwk"));
        assert!(!jws.payload.contains_key("nonce"));
        assert_eq!(check(&jwt), Err(ProofError::KeyForm));
    }

    #[test]
    fn the_proof_must_be_a_compact_jws() {
        assert!(matches!(check("a.b"), Err(ProofError::Malformed(_))));
        assert!(matches!(check("!!.e30.AA"), Err(ProofError::Malformed(_))));
    }

    #[test]
    fn the_typ_must_be_the_proof_typ() {
        assert_eq!(
            with_header(|h| {
                h.remove("typ");
            }),
            Err(ProofError::Typ)
        );
        assert_eq!(
            with_header(|h| {
                h.insert("typ".into(), json!("JWT"));
            }),
            Err(ProofError::Typ)
        );
    }

    #[test]
    fn only_the_listed_algorithms_are_accepted() {
        for alg in [json!("HS256"), json!("none"), json!("ES384"), json!(1)] {
            let got = with_header(|h| {
                h.insert("alg".into(), alg.clone());
            });
            assert!(matches!(got, Err(ProofError::Alg(_))), "{alg}: {got:?}");
        }
        assert!(matches!(
            with_header(|h| {
                h.remove("alg");
            }),
            Err(ProofError::Alg(_))
        ));
        assert_eq!(
            ProofError::Alg("HS256".into()).to_string(),
            "proof alg \"HS256\" is not accepted (EdDSA, Ed25519, ES256, SM2SM3)"
        );
    }

    #[test]
    fn crit_extensions_are_refused() {
        assert_eq!(
            with_header(|h| {
                h.insert("crit".into(), json!(["b64"]));
            }),
            Err(ProofError::Crit)
        );
    }

    #[test]
    fn exactly_one_of_kid_jwk_x5c_and_it_is_jwk() {
        assert_eq!(
            with_header(|h| {
                h.remove("jwk");
            }),
            Err(ProofError::KeyMembers)
        );
        assert_eq!(
            with_header(|h| {
                h.insert("kid".into(), json!("k1"));
            }),
            Err(ProofError::KeyMembers)
        );
        assert_eq!(
            with_header(|h| {
                h.insert("x5c".into(), json!(["MII"]));
            }),
            Err(ProofError::KeyMembers)
        );
        assert_eq!(
            with_header(|h| {
                h.remove("jwk");
                h.insert("x5c".into(), json!(["MII"]));
            }),
            Err(ProofError::KeyForm)
        );
    }

    #[test]
    fn the_jwk_must_be_a_public_key_fitting_the_alg() {
        assert!(matches!(
            with_header(|h| {
                h.insert("jwk".into(), json!({"kty": "RSA", "n": "x", "e": "AQAB"}));
            }),
            Err(ProofError::Jwk(_))
        ));
        let p256 = P256Signer::from_bytes(&[3; 32], None).unwrap();
        assert_eq!(
            with_header(|h| {
                h.insert("jwk".into(), p256.public_key().to_jwk());
            }),
            Err(ProofError::AlgKeyMismatch("EdDSA".into()))
        );
    }

    #[test]
    fn the_signature_must_verify_with_the_jwk() {
        let other = Ed25519Signer::from_seed(&[8; 32], None);
        let jwt = forge(&good_header(), &good_payload(), &other);
        assert_eq!(check(&jwt), Err(ProofError::Signature));
    }

    #[test]
    fn the_aud_must_be_the_issuer() {
        assert_eq!(
            with_payload(|p| {
                p.remove("aud");
            }),
            Err(ProofError::AudMissing)
        );
        assert_eq!(
            with_payload(|p| {
                p.insert("aud".into(), json!("https://other.example"));
            }),
            Err(ProofError::AudMismatch {
                found: "\"https://other.example\"".into(),
                expected: AUD.into()
            })
        );
        assert!(matches!(
            with_payload(|p| {
                p.insert("aud".into(), json!([AUD]));
            }),
            Err(ProofError::AudMismatch { .. })
        ));
    }

    #[test]
    fn the_iat_must_be_an_integer_inside_the_window() {
        assert_eq!(
            with_payload(|p| {
                p.remove("iat");
            }),
            Err(ProofError::IatMissing)
        );
        assert_eq!(
            with_payload(|p| {
                p.insert("iat".into(), json!("1800000000"));
            }),
            Err(ProofError::IatMissing)
        );
        for (iat, ok) in [
            (NOW - 300, true),
            (NOW - 301, false),
            (NOW + 60, true),
            (NOW + 61, false),
        ] {
            let got = with_payload(|p| {
                p.insert("iat".into(), json!(iat));
            });
            assert_eq!(got.is_ok(), ok, "iat {iat}: {got:?}");
            if !ok {
                assert_eq!(got, Err(ProofError::IatOutsideWindow { iat, now: NOW }));
            }
        }
    }

    #[test]
    fn the_nonce_is_checked_as_asked() {
        let no_nonce = {
            let mut p = good_payload();
            p.as_object_mut().unwrap().remove("nonce");
            forge(&good_header(), &p, &holder())
        };
        let wrong = {
            let mut p = good_payload();
            p["nonce"] = json!("n-2");
            forge(&good_header(), &p, &holder())
        };
        let run = |jwt: &str, n| check_proof(jwt, AUD, n, NOW, WINDOW);
        assert_eq!(
            run(&no_nonce, ExpectedNonce::Present),
            Err(ProofError::NonceMissing)
        );
        assert_eq!(
            run(&no_nonce, ExpectedNonce::Equal("n-1")),
            Err(ProofError::NonceMissing)
        );
        assert_eq!(
            run(&wrong, ExpectedNonce::Equal("n-1")),
            Err(ProofError::NonceInvalid)
        );
        assert_eq!(
            run(&wrong, ExpectedNonce::Present)
                .unwrap()
                .nonce
                .as_deref(),
            Some("n-2"),
            "the caller checks it"
        );
        assert_eq!(
            run(&no_nonce, ExpectedNonce::NotRequired).unwrap().nonce,
            None
        );
        assert_eq!(ProofError::NonceMissing.error_code(), "invalid_nonce");
        assert_eq!(ProofError::NonceInvalid.error_code(), "invalid_nonce");
        assert_eq!(ProofError::Signature.error_code(), "invalid_proof");
    }
}
