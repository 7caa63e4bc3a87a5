//! DPoP (RFC 9449): the proof a wallet sends in the `DPoP` header with
//! every token request and every use of a DPoP-bound access token, and
//! the checks of RFC 9449 §4.3 an issuer makes.
//!
//! What needs state — that a `jti` is not replayed, that the `nonce` is a
//! live one of the server's — is the caller's: [`check_dpop`] returns the
//! `jti` and `nonce` to judge.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tongban_verifier::encoding::{b64_encode, to_compact_json};
use tongban_verifier::jws::{CompactJws, media_type_eq};
use tongban_verifier::keys::{Algorithm, SignError};
use tongban_verifier::{PublicKey, Signer};

use super::DPOP_TYP;

/// DPoP signing algorithms accepted and advertised
/// (`dpop_signing_alg_values_supported`): ES256 (HAIP 1.0 §6's minimum),
/// and Ed25519 keys under both names.
pub const DPOP_ALGS: [&str; 3] = ["ES256", "EdDSA", "Ed25519"];

/// Longest `jti` accepted (ours are 22 characters; the npm client's 43).
pub const MAX_JTI: usize = 256;

/// `ath`: base64url of the SHA-256 of the access token (RFC 9449 §4.2).
pub fn ath(access_token: &str) -> String {
    b64_encode(Sha256::digest(access_token.as_bytes()))
}

/// The `htu` of a request URL: without query and fragment (RFC 9449 §4.2).
pub fn htu(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// What a proof is signed over.
#[derive(Debug, Clone, Copy)]
pub struct DpopClaims<'a> {
    /// The HTTP method (`POST`).
    pub htm: &'a str,
    /// The request URL (query and fragment are dropped).
    pub htu: &'a str,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// A fresh unique identifier.
    pub jti: &'a str,
    /// The server's nonce, once it gave one.
    pub nonce: Option<&'a str>,
    /// The access token the request carries (then `ath` is its hash).
    pub access_token: Option<&'a str>,
}

/// Signs a DPoP proof with `signer`, its public key in the header.
pub fn sign_dpop(signer: &dyn Signer, claims: &DpopClaims<'_>) -> Result<String, SignError> {
    let mut header = Map::new();
    header.insert("typ".into(), DPOP_TYP.into());
    header.insert("alg".into(), signer.algorithm().as_str().into());
    header.insert("jwk".into(), signer.public_key().to_jwk());
    let mut payload = Map::new();
    payload.insert("jti".into(), claims.jti.into());
    payload.insert("htm".into(), claims.htm.into());
    payload.insert("htu".into(), htu(claims.htu).into());
    payload.insert("iat".into(), claims.iat.into());
    if let Some(n) = claims.nonce {
        payload.insert("nonce".into(), n.into());
    }
    if let Some(t) = claims.access_token {
        payload.insert("ath".into(), ath(t).into());
    }
    let mut out = b64_encode(to_compact_json(&header));
    out.push('.');
    out.push_str(&b64_encode(to_compact_json(&payload)));
    let sig = signer.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&b64_encode(sig));
    Ok(out)
}

/// What the server expects of a proof.
#[derive(Debug, Clone, Copy)]
pub struct DpopExpect<'a> {
    /// The request's method.
    pub htm: &'a str,
    /// The endpoint's URL as the server publishes it (no query).
    pub htu: &'a str,
    /// The server's time.
    pub now: i64,
    /// Seconds `iat` may be in the past.
    pub max_age: i64,
    /// Seconds `iat` may be in the future.
    pub max_ahead: i64,
    /// The access token the request presents, when it presents one: then
    /// `ath` must be its hash.
    pub access_token: Option<&'a str>,
}

/// A proof that passed [`check_dpop`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopProof {
    /// The key's RFC 7638 thumbprint (`jkt`, what a token is bound to).
    pub jkt: String,
    /// The proof's `jti`.
    pub jti: String,
    /// The proof's `iat`.
    pub iat: i64,
    /// The proof's `nonce`, when it has one.
    pub nonce: Option<String>,
}

/// Why a DPoP proof was refused (OAuth error `invalid_dpop_proof`, RFC
/// 9449 §7.1 and §5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// Not a compact JWS with JSON header and payload.
    #[error("the DPoP proof is not a compact JWS: {0}")]
    Malformed(String),
    /// `typ` is not `dpop+jwt`.
    #[error("the DPoP proof's typ must be dpop+jwt")]
    Typ,
    /// `alg` is not accepted.
    #[error("the DPoP proof's alg {0:?} is not accepted (ES256, EdDSA, Ed25519 are)")]
    Alg(String),
    /// `crit` is present.
    #[error("the DPoP proof's header lists crit extensions; none are understood")]
    Crit,
    /// `jwk` is missing, not a public key, or carries a private part.
    #[error("the DPoP proof's jwk is missing or not a public key")]
    Jwk,
    /// `alg` does not fit the key, or the signature does not verify.
    #[error("the DPoP proof's signature does not verify with its jwk")]
    Signature,
    /// `jti` missing, not a string, or too long.
    #[error("the DPoP proof's jti is missing or longer than {MAX_JTI} characters")]
    Jti,
    /// `htm` is not the request's method.
    #[error("the DPoP proof's htm {found:?} is not this request's method {expected}")]
    Htm {
        /// The proof's `htm`.
        found: String,
        /// The method.
        expected: String,
    },
    /// `htu` is not the endpoint's URL.
    #[error("the DPoP proof's htu {found:?} is not this endpoint {expected}")]
    Htu {
        /// The proof's `htu`.
        found: String,
        /// The endpoint.
        expected: String,
    },
    /// `iat` missing or outside the window.
    #[error("the DPoP proof's iat is missing or too far from the server's time ({now})")]
    Iat {
        /// The server's time.
        now: i64,
    },
    /// `ath` missing or not the access token's hash.
    #[error("the DPoP proof's ath is missing or is not the hash of the access token sent")]
    Ath,
}

/// Checks a DPoP proof (RFC 9449 §4.3, steps 1–11 but the nonce and `jti`
/// replay, which are the caller's): a JWS; `typ` `dpop+jwt`; an accepted
/// asymmetric `alg`; no `crit`; a public `jwk` fitting `alg` that verifies
/// the signature; `jti`; `htm` and `htu` those of the request; `iat`
/// within the window; `ath` when an access token is presented.
pub fn check_dpop(jwt: &str, expect: &DpopExpect<'_>) -> Result<DpopProof, DpopError> {
    let jws =
        CompactJws::parse(jwt, "DPoP proof").map_err(|e| DpopError::Malformed(e.to_string()))?;
    let h = &jws.header;
    match h.get("typ").and_then(Value::as_str) {
        Some(t) if media_type_eq(t, DPOP_TYP) => {}
        _ => return Err(DpopError::Typ),
    }
    let alg_name = h.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg = Algorithm::from_jws(alg_name)
        .filter(|_| DPOP_ALGS.contains(&alg_name))
        .ok_or_else(|| DpopError::Alg(alg_name.to_owned()))?;
    if h.contains_key("crit") {
        return Err(DpopError::Crit);
    }
    let jwk = h.get("jwk").ok_or(DpopError::Jwk)?;
    if jwk.get("d").is_some() {
        return Err(DpopError::Jwk);
    }
    let key = PublicKey::from_jwk(jwk).map_err(|_| DpopError::Jwk)?;
    if !alg.fits(&key) || !key.verify(alg, jws.signing_input.as_bytes(), &jws.signature) {
        return Err(DpopError::Signature);
    }
    let p = &jws.payload;
    let jti = match p.get("jti").and_then(Value::as_str) {
        Some(j) if !j.is_empty() && j.len() <= MAX_JTI => j.to_owned(),
        _ => return Err(DpopError::Jti),
    };
    match p.get("htm").and_then(Value::as_str) {
        Some(m) if m == expect.htm => {}
        other => {
            return Err(DpopError::Htm {
                found: other.unwrap_or_default().to_owned(),
                expected: expect.htm.to_owned(),
            });
        }
    }
    match p.get("htu").and_then(Value::as_str) {
        Some(u) if htu(u) == htu(expect.htu) => {}
        other => {
            return Err(DpopError::Htu {
                found: other.unwrap_or_default().to_owned(),
                expected: htu(expect.htu).to_owned(),
            });
        }
    }
    let iat = p
        .get("iat")
        .and_then(Value::as_i64)
        .filter(|iat| {
            *iat <= expect.now.saturating_add(expect.max_ahead)
                && *iat >= expect.now.saturating_sub(expect.max_age)
        })
        .ok_or(DpopError::Iat { now: expect.now })?;
    if let Some(token) = expect.access_token {
        match p.get("ath").and_then(Value::as_str) {
            Some(a) if a == ath(token) => {}
            _ => return Err(DpopError::Ath),
        }
    }
    let nonce = p.get("nonce").and_then(Value::as_str).map(str::to_owned);
    Ok(DpopProof {
        jkt: key.thumbprint(),
        jti,
        iat,
        nonce,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;
    use tongban_verifier::{Ed25519Signer, P256Signer};

    const URL: &str = "https://i.example/agencies/a/token";
    const NOW: i64 = 1_800_000_000;

    fn expect() -> DpopExpect<'static> {
        DpopExpect {
            htm: "POST",
            htu: URL,
            now: NOW,
            max_age: 300,
            max_ahead: 60,
            access_token: None,
        }
    }

    fn claims() -> DpopClaims<'static> {
        DpopClaims {
            htm: "POST",
            htu: URL,
            iat: NOW,
            jti: "j-1",
            nonce: Some("n-1"),
            access_token: None,
        }
    }

    fn forge(header: &Value, payload: &Value, signer: &dyn Signer) -> String {
        let mut out = b64_encode(to_compact_json(header));
        out.push('.');
        out.push_str(&b64_encode(to_compact_json(payload)));
        let sig = signer.sign(out.as_bytes()).unwrap();
        out.push('.');
        out.push_str(&b64_encode(sig));
        out
    }

    #[test]
    fn a_signed_proof_passes_and_names_its_key() {
        for signer in [
            Box::new(P256Signer::from_bytes(&[3; 32], None).unwrap()) as Box<dyn Signer>,
            Box::new(Ed25519Signer::from_seed(&[4; 32], None)),
        ] {
            let jwt = sign_dpop(signer.as_ref(), &claims()).unwrap();
            let p = check_dpop(&jwt, &expect()).unwrap();
            assert_eq!(p.jkt, signer.public_key().thumbprint());
            assert_eq!(p.jti, "j-1");
            assert_eq!(p.nonce.as_deref(), Some("n-1"));
        }
    }

    #[test]
    fn htm_htu_iat_and_ath_are_those_of_the_request() {
        let s = P256Signer::from_bytes(&[3; 32], None).unwrap();
        let wrong_htm = sign_dpop(
            &s,
            &DpopClaims {
                htm: "GET",
                ..claims()
            },
        )
        .unwrap();
        assert!(matches!(
            check_dpop(&wrong_htm, &expect()),
            Err(DpopError::Htm { .. })
        ));
        let wrong_htu = sign_dpop(
            &s,
            &DpopClaims {
                htu: "https://i.example/agencies/a/credential",
                ..claims()
            },
        )
        .unwrap();
        assert!(matches!(
            check_dpop(&wrong_htu, &expect()),
            Err(DpopError::Htu { .. })
        ));
        // A query on the proof's or the server's URL is not compared.
        let with_query = sign_dpop(
            &s,
            &DpopClaims {
                htu: "https://i.example/agencies/a/token?x=1",
                ..claims()
            },
        )
        .unwrap();
        assert!(check_dpop(&with_query, &expect()).is_ok());
        let old = sign_dpop(
            &s,
            &DpopClaims {
                iat: NOW - 301,
                ..claims()
            },
        )
        .unwrap();
        assert_eq!(
            check_dpop(&old, &expect()),
            Err(DpopError::Iat { now: NOW })
        );
        let ahead = sign_dpop(
            &s,
            &DpopClaims {
                iat: NOW + 61,
                ..claims()
            },
        )
        .unwrap();
        assert_eq!(
            check_dpop(&ahead, &expect()),
            Err(DpopError::Iat { now: NOW })
        );
        // ath: required when a token is presented, and it must be the token's.
        let with_token = DpopExpect {
            access_token: Some("at-1"),
            ..expect()
        };
        let no_ath = sign_dpop(&s, &claims()).unwrap();
        assert_eq!(check_dpop(&no_ath, &with_token), Err(DpopError::Ath));
        let other_ath = sign_dpop(
            &s,
            &DpopClaims {
                access_token: Some("at-2"),
                ..claims()
            },
        )
        .unwrap();
        assert_eq!(check_dpop(&other_ath, &with_token), Err(DpopError::Ath));
        let good = sign_dpop(
            &s,
            &DpopClaims {
                access_token: Some("at-1"),
                ..claims()
            },
        )
        .unwrap();
        assert!(check_dpop(&good, &with_token).is_ok());
    }

    #[test]
    fn the_header_must_be_a_dpop_header_with_a_public_key() {
        let s = P256Signer::from_bytes(&[3; 32], None).unwrap();
        let payload = json!({"jti": "j", "htm": "POST", "htu": URL, "iat": NOW});
        let header = |change: &dyn Fn(&mut Map<String, Value>)| {
            let mut h = json!({"typ": DPOP_TYP, "alg": "ES256", "jwk": s.public_key().to_jwk()});
            change(h.as_object_mut().unwrap());
            forge(&h, &payload, &s)
        };
        assert!(check_dpop(&header(&|_| {}), &expect()).is_ok());
        assert_eq!(
            check_dpop(
                &header(&|h| {
                    h.insert("typ".into(), json!("JWT"));
                }),
                &expect()
            ),
            Err(DpopError::Typ)
        );
        assert_eq!(
            check_dpop(
                &header(&|h| {
                    h.insert("alg".into(), json!("HS256"));
                }),
                &expect()
            ),
            Err(DpopError::Alg("HS256".into()))
        );
        assert_eq!(
            check_dpop(
                &header(&|h| {
                    h.insert("crit".into(), json!(["x"]));
                }),
                &expect()
            ),
            Err(DpopError::Crit)
        );
        assert_eq!(
            check_dpop(
                &header(&|h| {
                    h.remove("jwk");
                }),
                &expect()
            ),
            Err(DpopError::Jwk)
        );
        assert_eq!(
            check_dpop(
                &header(&|h| {
                    h["jwk"]["d"] = json!("AAAA");
                }),
                &expect()
            ),
            Err(DpopError::Jwk),
            "a private key in the header is refused"
        );
        // Another key's jwk: the signature does not verify.
        let other = P256Signer::from_bytes(&[5; 32], None).unwrap();
        assert_eq!(
            check_dpop(
                &header(&|h| {
                    h.insert("jwk".into(), other.public_key().to_jwk());
                }),
                &expect()
            ),
            Err(DpopError::Signature)
        );
        let no_jti = forge(
            &json!({"typ": DPOP_TYP, "alg": "ES256", "jwk": s.public_key().to_jwk()}),
            &json!({"htm": "POST", "htu": URL, "iat": NOW}),
            &s,
        );
        assert_eq!(check_dpop(&no_jti, &expect()), Err(DpopError::Jti));
        assert!(matches!(
            check_dpop("a.b", &expect()),
            Err(DpopError::Malformed(_))
        ));
    }

    #[test]
    fn ath_is_the_rfc_9449_example() {
        // RFC 9449 §7.1: the access token and its ath.
        assert_eq!(
            ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
