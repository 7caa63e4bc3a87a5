//! Attestations a wallet shows an issuer: the **wallet attestation**
//! (OAuth 2.0 Attestation-Based Client Authentication, draft -07, the
//! version OpenID4VCI 1.0 and HAIP 1.0 cite; OpenID4VCI Appendix E) and the
//! **key attestation** (OpenID4VCI 1.0 Appendix D).
//!
//! - A wallet attestation is a JWT (`typ` [`CLIENT_ATTESTATION_TYP`]) its
//!   wallet provider signed, with `x5c` chaining to the provider's root:
//!   `iss` the provider, `sub` the wallet's `client_id` (shared by every
//!   instance of that wallet, for privacy), `exp`, and `cnf.jwk` the
//!   instance key. With every request that authenticates the client (PAR,
//!   token) the wallet sends it in the [`CLIENT_ATTESTATION_HEADER`] header
//!   and a fresh proof of possession of the instance key
//!   ([`sign_client_attestation_pop`], `typ` [`CLIENT_ATTESTATION_POP_TYP`])
//!   in [`CLIENT_ATTESTATION_POP_HEADER`]: `iss` the `client_id`, `aud` the
//!   authorization server, a unique `jti`, `iat`, and the server's
//!   `challenge` when it issued one.
//! - A key attestation is a JWT (`typ` [`KEY_ATTESTATION_TYP`]) signed by
//!   the wallet's key storage component or its provider, `x5c` again
//!   chaining to a root the issuer trusts, listing the keys it vouches for
//!   (`attested_keys`) and how well they are kept (`key_storage`,
//!   `user_authentication`, Appendix D.2). It travels in a `jwt` key
//!   proof's header ([`KEY_ATTESTATION_HEADER`]) or alone as the
//!   [`PROOF_TYPE_ATTESTATION`] proof type; either way it carries the
//!   issuer's `c_nonce` as `nonce`.
//!
//! Both sides use these types and signers; the checks against trusted
//! roots are the issuer's (they need X.509 path validation and a clock).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tongban_verifier::Signer;
use tongban_verifier::encoding::{b64_encode, to_compact_json};
use tongban_verifier::keys::SignError;

/// The header carrying the wallet attestation (draft -07 §6.1).
pub const CLIENT_ATTESTATION_HEADER: &str = "OAuth-Client-Attestation";
/// The header carrying its proof of possession (draft -07 §6.1).
pub const CLIENT_ATTESTATION_POP_HEADER: &str = "OAuth-Client-Attestation-PoP";
/// `typ` of a wallet (client) attestation JWT (draft -07 §5.1).
pub const CLIENT_ATTESTATION_TYP: &str = "oauth-client-attestation+jwt";
/// `typ` of its proof of possession (draft -07 §5.2).
pub const CLIENT_ATTESTATION_POP_TYP: &str = "oauth-client-attestation-pop+jwt";
/// The token endpoint authentication method of attestation-based client
/// authentication (draft -07 §13.4), listed in
/// `token_endpoint_auth_methods_supported`.
pub const ATTEST_JWT_CLIENT_AUTH: &str = "attest_jwt_client_auth";
/// `typ` of a key attestation JWT (OpenID4VCI 1.0 Appendix D.1).
pub const KEY_ATTESTATION_TYP: &str = "key-attestation+jwt";
/// The JOSE header of a `jwt` key proof that carries a key attestation
/// (Appendix F.1).
pub const KEY_ATTESTATION_HEADER: &str = "key_attestation";
/// The proof type of a key attestation sent without a proof of possession
/// (`proofs.attestation`, Appendix F.3).
pub const PROOF_TYPE_ATTESTATION: &str = "attestation";
/// The attack potential resistance values of Appendix D.2, strongest first.
pub const ATTACK_POTENTIAL_RESISTANCE: [&str; 4] = [
    "iso_18045_high",
    "iso_18045_moderate",
    "iso_18045_enhanced-basic",
    "iso_18045_basic",
];

/// The claims of a key attestation (Appendix D.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyAttestationClaims {
    /// Who made the attestation (the provider or the key storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// When it was made.
    pub iat: i64,
    /// When it and the keys it attests expire (required with the `jwt`
    /// proof type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// The attested public keys, as JWKs (non-empty).
    pub attested_keys: Vec<Value>,
    /// The key storage's attack potential resistance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_storage: Option<Vec<String>>,
    /// The user authentication's attack potential resistance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_authentication: Option<Vec<String>>,
    /// A link to the key storage's certification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification: Option<String>,
    /// The issuer's `c_nonce`, proving the attestation is fresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// `key_attestations_required` of a proof type in the issuer's metadata
/// (§12.2.4): an empty object means "any key attestation".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttestationsRequired {
    /// The `key_storage` values the issuer accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_storage: Option<Vec<String>>,
    /// The `user_authentication` values the issuer accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_authentication: Option<Vec<String>>,
}

/// The claims of a wallet attestation's proof of possession (draft -07
/// §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAttestationPopClaims {
    /// The wallet's `client_id` (the attestation's `sub`).
    pub iss: String,
    /// The authorization server's issuer identifier.
    pub aud: String,
    /// A value never used before.
    pub jti: String,
    /// When it was made.
    pub iat: i64,
    /// The server's challenge, when it issued one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

/// Signs a compact JWS with header `typ`, the signer's `alg` and `extra`
/// members, over `payload`.
fn sign_jws(
    signer: &dyn Signer,
    typ: &str,
    extra: Map<String, Value>,
    payload: &Value,
) -> Result<String, SignError> {
    let mut header = Map::new();
    header.insert("typ".into(), typ.into());
    header.insert("alg".into(), signer.algorithm().as_str().into());
    header.extend(extra);
    let mut out = b64_encode(to_compact_json(&Value::Object(header)));
    out.push('.');
    out.push_str(&b64_encode(to_compact_json(payload)));
    let sig = signer.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&b64_encode(sig));
    Ok(out)
}

/// The `x5c` header value of DER certificates: standard base64, with
/// padding (RFC 7515 §4.1.6).
pub fn x5c_value(chain: &[Vec<u8>]) -> Value {
    use base64::Engine as _;
    Value::Array(
        chain
            .iter()
            .map(|der| Value::String(base64::engine::general_purpose::STANDARD.encode(der)))
            .collect(),
    )
}

/// Signs a JWT with `typ` and the certificate chain `x5c` (the signer's
/// certificate first, never the root) in its header: how a wallet provider
/// signs a wallet attestation and a key storage signs a key attestation.
pub fn sign_x5c_jwt(
    signer: &dyn Signer,
    typ: &str,
    x5c: &[Vec<u8>],
    payload: &Value,
) -> Result<String, SignError> {
    let mut extra = Map::new();
    extra.insert("x5c".into(), x5c_value(x5c));
    sign_jws(signer, typ, extra, payload)
}

/// Signs a wallet attestation's proof of possession with the instance key
/// (the attestation's `cnf.jwk`).
pub fn sign_client_attestation_pop(
    instance_key: &dyn Signer,
    claims: &ClientAttestationPopClaims,
) -> Result<String, SignError> {
    let payload = serde_json::to_value(claims).map_err(|e| SignError(e.to_string()))?;
    sign_jws(
        instance_key,
        CLIENT_ATTESTATION_POP_TYP,
        Map::new(),
        &payload,
    )
}

/// Signs a key attestation (`typ` [`KEY_ATTESTATION_TYP`]) with the key
/// storage's key, whose certificate chain is `x5c`.
pub fn sign_key_attestation(
    attester: &dyn Signer,
    x5c: &[Vec<u8>],
    claims: &KeyAttestationClaims,
) -> Result<String, SignError> {
    let payload = serde_json::to_value(claims).map_err(|e| SignError(e.to_string()))?;
    sign_x5c_jwt(attester, KEY_ATTESTATION_TYP, x5c, &payload)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use tongban_verifier::Ed25519Signer;
    use tongban_verifier::jws::CompactJws;

    #[test]
    fn a_pop_is_typed_and_verifies_with_the_instance_key() {
        let key = Ed25519Signer::from_seed(&[3; 32], None);
        let pop = sign_client_attestation_pop(
            &key,
            &ClientAttestationPopClaims {
                iss: "wallet".into(),
                aud: "https://issuer.example/agencies/a".into(),
                jti: "j1".into(),
                iat: 100,
                challenge: None,
            },
        )
        .unwrap();
        let jws = CompactJws::parse(&pop, "pop").unwrap();
        assert_eq!(jws.header["typ"], CLIENT_ATTESTATION_POP_TYP);
        assert_eq!(jws.payload["jti"], "j1");
        assert!(!jws.payload.contains_key("challenge"));
        assert!(key.public_key().verify(
            key.algorithm(),
            jws.signing_input.as_bytes(),
            &jws.signature
        ));
    }

    #[test]
    fn a_key_attestation_carries_its_chain_in_standard_base64() {
        let key = Ed25519Signer::from_seed(&[4; 32], None);
        let jwt = sign_key_attestation(
            &key,
            &[vec![0xfb, 0xff], vec![1]],
            &KeyAttestationClaims {
                iss: None,
                iat: 1,
                exp: Some(2),
                attested_keys: vec![key.public_key().to_jwk()],
                key_storage: Some(vec!["iso_18045_high".into()]),
                user_authentication: None,
                certification: None,
                nonce: Some("n".into()),
            },
        )
        .unwrap();
        let jws = CompactJws::parse(&jwt, "ka").unwrap();
        assert_eq!(jws.header["typ"], KEY_ATTESTATION_TYP);
        assert_eq!(jws.header["x5c"], serde_json::json!(["+/8=", "AQ=="]));
        let claims: KeyAttestationClaims =
            serde_json::from_value(Value::Object(jws.payload)).unwrap();
        assert_eq!(claims.nonce.as_deref(), Some("n"));
        assert!(claims.user_authentication.is_none());
    }

    #[test]
    fn the_attestation_proof_type_holds_exactly_one_jwt() {
        use crate::oid4vci::{CredentialRequest, ProofSelectError};
        let r = CredentialRequest::with_attestation_proof("c", "a.b.c");
        assert_eq!(r.attestation_proof(), Some(Ok("a.b.c")));
        let jwt = CredentialRequest::with_jwt_proof("c", "x.y.z");
        assert_eq!(jwt.attestation_proof(), None);
        let two: CredentialRequest = serde_json::from_value(serde_json::json!({
            "credential_configuration_id": "c", "proofs": {"attestation": ["a", "b"]}
        }))
        .unwrap();
        assert_eq!(
            two.attestation_proof(),
            Some(Err(ProofSelectError::AttestationNotOne))
        );
        let mixed: CredentialRequest = serde_json::from_value(serde_json::json!({
            "credential_configuration_id": "c", "proofs": {"attestation": ["a"], "jwt": ["b"]}
        }))
        .unwrap();
        assert_eq!(
            mixed.attestation_proof(),
            Some(Err(ProofSelectError::NotOneProofType))
        );
    }
}
