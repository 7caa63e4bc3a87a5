//! The JOSE work of the OpenID4VP endpoints, all through `josekit`:
//!
//! - the request object, a compact JWS with `alg` `ES256`, `typ`
//!   `oauth-authz-req+jwt` and `x5c` holding the tenant's leaf
//!   certificate only (the CA stays out, HAIP 1.0);
//! - each transaction's fresh P-256 key for `direct_post.jwt` (its public
//!   JWK, `use` `enc`, `alg` `ECDH-ES`, goes into `client_metadata.jwks`);
//! - opening the wallet's encrypted response: the protected header is read
//!   and checked first (`alg` `ECDH-ES`, an `enc` the request listed, this
//!   transaction's `kid`, no `zip`), then josekit decrypts.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::{Jwk, KeyPair as _};
use serde_json::{Map, Value};

pub use tongban_protocol::oid4vp::request::{
    JWE_ALG_ECDH_ES as KEY_AGREEMENT, JWE_ENC_VALUES as ENC_VALUES, REQUEST_OBJECT_TYP,
};

/// Why an encrypted response was refused before or while decrypting.
/// Each has a stable code (the API's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JweRefusal {
    /// Not a compact JWE with a readable protected header.
    #[error("the response is not a compact JWE: {0}")]
    Malformed(String),
    /// `alg` is not `ECDH-ES`.
    #[error("the response JWE's alg {0:?} is not ECDH-ES")]
    Alg(String),
    /// `enc` is not one the request listed.
    #[error("the response JWE's enc {0:?} is not one of A128GCM, A256GCM")]
    Enc(String),
    /// The `kid` names another key (another transaction's, or none known).
    #[error("the response JWE is for key {0:?}, not this transaction's")]
    Kid(String),
    /// Compression was asked for (never listed; josekit would inflate without bound).
    #[error("compressed responses (zip) are not accepted")]
    Zip,
    /// It does not decrypt with this transaction's key.
    #[error("the response JWE does not decrypt with this transaction's key")]
    Decrypt,
}

impl JweRefusal {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            JweRefusal::Malformed(_) => "response_malformed",
            JweRefusal::Alg(_) => "response_alg_unsupported",
            JweRefusal::Enc(_) => "response_enc_unsupported",
            JweRefusal::Kid(_) => "response_wrong_key",
            JweRefusal::Zip => "response_compressed",
            JweRefusal::Decrypt => "response_wrong_key",
        }
    }
}

/// Why signing failed (a stored key that does not load: a bug or a
/// tampered row).
#[derive(Debug, thiserror::Error)]
#[error("signing the request object: {0}")]
pub struct SignError(String);

/// Signs request-object claims with the tenant's key; `x5c` = `[leaf]`.
pub fn sign_request_object(
    claims: &Map<String, Value>,
    key_pkcs8: &[u8],
    leaf_der: &[u8],
) -> Result<String, SignError> {
    let signer = josekit::jws::ES256
        .signer_from_der(key_pkcs8)
        .map_err(|e| SignError(e.to_string()))?;
    let mut h = josekit::jws::JwsHeader::new();
    h.set_token_type(REQUEST_OBJECT_TYP);
    h.set_x509_certificate_chain(&vec![leaf_der]);
    let payload = serde_json::to_vec(claims).map_err(|e| SignError(e.to_string()))?;
    josekit::jws::serialize_compact(&payload, &h, &signer).map_err(|e| SignError(e.to_string()))
}

/// A transaction's response-decryption key.
pub struct EphemeralKey {
    /// Its key id.
    pub kid: String,
    /// The private JWK as JSON text (to seal).
    pub private_jwk: zeroize::Zeroizing<String>,
    /// The public JWK for `client_metadata.jwks`.
    pub public_jwk: Map<String, Value>,
}

impl std::fmt::Debug for EphemeralKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EphemeralKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Makes a fresh P-256 key for one transaction.
pub fn new_ephemeral_key(kid: &str) -> Result<EphemeralKey, SignError> {
    let pair = EcKeyPair::generate(EcCurve::P256).map_err(|e| SignError(e.to_string()))?;
    let mut private = pair.to_jwk_key_pair();
    private.set_key_id(kid);
    let mut public = pair.to_jwk_public_key();
    public.set_key_id(kid);
    public.set_key_use("enc");
    public.set_algorithm(KEY_AGREEMENT);
    Ok(EphemeralKey {
        kid: kid.to_owned(),
        private_jwk: zeroize::Zeroizing::new(private.to_string()),
        public_jwk: public.as_ref().clone(),
    })
}

fn protected_header(jwe: &str) -> Result<Map<String, Value>, JweRefusal> {
    if jwe.split('.').count() != 5 {
        return Err(JweRefusal::Malformed("not five dot-separated parts".into()));
    }
    let head = jwe.split('.').next().unwrap_or("");
    let bytes = URL_SAFE_NO_PAD
        .decode(head)
        .map_err(|_| JweRefusal::Malformed("the protected header is not base64url".into()))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JweRefusal::Malformed(
            "the protected header is not a JSON object".into(),
        )),
    }
}

/// Opens the wallet's encrypted response with the transaction's key
/// (`private_jwk`, kid `kid`). The header is checked before anything is
/// decrypted; a header without `kid` is accepted only if the key opens it.
pub fn open_response(jwe: &str, kid: &str, private_jwk: &str) -> Result<Vec<u8>, JweRefusal> {
    let jwe = jwe.trim();
    let h = protected_header(jwe)?;
    let s = |k: &str| h.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    if h.contains_key("zip") {
        return Err(JweRefusal::Zip);
    }
    if s("alg") != KEY_AGREEMENT {
        return Err(JweRefusal::Alg(s("alg")));
    }
    if !ENC_VALUES.contains(&s("enc").as_str()) {
        return Err(JweRefusal::Enc(s("enc")));
    }
    if h.contains_key("kid") && s("kid") != kid {
        return Err(JweRefusal::Kid(s("kid")));
    }
    let jwk = Jwk::from_bytes(private_jwk.as_bytes()).map_err(|_| JweRefusal::Decrypt)?;
    let decrypter = josekit::jwe::ECDH_ES
        .decrypter_from_jwk(&jwk)
        .map_err(|_| JweRefusal::Decrypt)?;
    josekit::jwe::deserialize_compact(jwe, &decrypter)
        .map(|(payload, _)| payload)
        .map_err(|_| JweRefusal::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt(
        public: &Map<String, Value>,
        enc: &str,
        kid: Option<&str>,
        payload: &[u8],
    ) -> String {
        let jwk = Jwk::from_map(public.clone()).unwrap();
        let e = josekit::jwe::ECDH_ES.encrypter_from_jwk(&jwk).unwrap();
        let mut h = josekit::jwe::JweHeader::new();
        h.set_content_encryption(enc);
        if let Some(k) = kid {
            h.set_key_id(k);
        }
        josekit::jwe::serialize_compact(payload, &h, &e).unwrap()
    }

    #[test]
    fn both_listed_encs_open_and_others_are_refused_before_decrypting() {
        let k = new_ephemeral_key("k1").unwrap();
        assert_eq!(k.public_jwk["use"], "enc");
        assert_eq!(k.public_jwk["alg"], "ECDH-ES");
        assert!(!k.public_jwk.contains_key("d"));
        for enc in ENC_VALUES {
            let jwe = encrypt(&k.public_jwk, enc, Some("k1"), b"{}");
            assert_eq!(open_response(&jwe, "k1", &k.private_jwk).unwrap(), b"{}");
        }
        let jwe = encrypt(&k.public_jwk, "A192GCM", Some("k1"), b"{}");
        assert_eq!(
            open_response(&jwe, "k1", &k.private_jwk),
            Err(JweRefusal::Enc("A192GCM".into()))
        );
        let jwe = encrypt(&k.public_jwk, "A128GCM", Some("k2"), b"{}");
        assert_eq!(
            open_response(&jwe, "k1", &k.private_jwk),
            Err(JweRefusal::Kid("k2".into()))
        );
        let other = new_ephemeral_key("k1").unwrap();
        let jwe = encrypt(&other.public_jwk, "A128GCM", Some("k1"), b"{}");
        assert_eq!(
            open_response(&jwe, "k1", &k.private_jwk),
            Err(JweRefusal::Decrypt)
        );
        assert!(matches!(
            open_response("a.b.c", "k1", &k.private_jwk),
            Err(JweRefusal::Malformed(_))
        ));
    }
}
