//! Credential request and response encryption (§10): the request JWE
//! decrypted with the agency's key from `credential_request_encryption`,
//! and the response encrypted to the key the wallet sent in
//! `credential_response_encryption` (ECDH-ES, A128GCM or A256GCM). josekit
//! does the JWE; nothing is hand-rolled.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tongban_protocol::oid4vci::{ENC_VALUES, KEY_AGREEMENT};

use super::super::AgencyRuntime;
use super::{Oid4vciError, refused};

fn bad(description: impl Into<String>) -> Oid4vciError {
    refused("invalid_encryption_parameters", description)
}

/// Refuses a request JWE whose protected header asks for compression,
/// reading the header itself, before anything is decrypted: josekit
/// inflates `zip: DEF` while decrypting with no bound (a 63 KB request grew
/// to 48 MB), and this issuer advertises no `zip_values_supported`
/// (OpenID4VCI 1.0, Credential Issuer Metadata), so `zip` is an encryption parameter it does
/// not accept. The header is at most the body's size (`max_body_bytes`).
fn refuse_compressed(text: &str) -> Result<(), Oid4vciError> {
    let header = text.split('.').next().unwrap_or("");
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| bad("the request JWE's protected header is not base64url"))?;
    let header: Value = serde_json::from_slice(&bytes)
        .map_err(|_| bad("the request JWE's protected header is not JSON"))?;
    let header = header
        .as_object()
        .ok_or_else(|| bad("the request JWE's protected header is not a JSON object"))?;
    if header.contains_key("zip") {
        return Err(bad(
            "compressed requests (JWE zip) are not accepted: this issuer advertises no zip_values_supported",
        ));
    }
    Ok(())
}

/// The plaintext of an encrypted credential request: a compact JWE to the
/// agency's encryption key, with a supported `enc`, no `zip` and, if it
/// names one, the agency's `kid`.
pub(super) fn decrypt_request(rt: &AgencyRuntime, body: &[u8]) -> Result<Vec<u8>, Oid4vciError> {
    let text = std::str::from_utf8(body).map_err(|_| bad("the encrypted request is not text"))?;
    let text = text.trim();
    refuse_compressed(text)?;
    let decrypter = josekit::jwe::ECDH_ES
        .decrypter_from_jwk(&rt.enc_private)
        .map_err(|e| bad(format!("decrypter: {e}")))?;
    let (payload, header) = josekit::jwe::deserialize_compact(text, &decrypter).map_err(|e| {
        bad(format!(
            "the request JWE does not decrypt with this issuer's key: {e}"
        ))
    })?;
    let enc = header.content_encryption().unwrap_or("");
    if !ENC_VALUES.contains(&enc) {
        return Err(bad(format!("request enc {enc:?} is not supported")));
    }
    if let Some(kid) = header.key_id()
        && kid != rt.agency.enc_kid
    {
        return Err(bad(format!(
            "request JWE kid {kid:?} is not this issuer's encryption key"
        )));
    }
    Ok(payload)
}

/// What the wallet asked for in `credential_response_encryption`.
pub(super) struct ResponseEncryption {
    jwk: josekit::jwk::Jwk,
    enc: String,
    kid: Option<String>,
}

impl ResponseEncryption {
    /// Reads and checks `credential_response_encryption` (as JSON, so each
    /// wrong member is named): a public `jwk` with `alg` `ECDH-ES`, a
    /// supported `enc`, no `zip`, and a key that can be encrypted to.
    pub(super) fn parse(v: &Value) -> Result<Self, Oid4vciError> {
        let o = v
            .as_object()
            .ok_or_else(|| bad("credential_response_encryption must be an object"))?;
        let jwk = o
            .get("jwk")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("credential_response_encryption.jwk is missing"))?;
        if jwk.contains_key("d") {
            return Err(bad("the response encryption jwk carries a private key"));
        }
        if jwk.get("alg").and_then(Value::as_str) != Some(KEY_AGREEMENT) {
            return Err(bad(
                "the response encryption jwk must have alg ECDH-ES (OpenID4VCI 1.0 §10)",
            ));
        }
        let enc = o
            .get("enc")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("credential_response_encryption.enc is missing"))?;
        if !ENC_VALUES.contains(&enc) {
            return Err(bad("enc must be A128GCM or A256GCM"));
        }
        if o.contains_key("zip") {
            return Err(bad("compression (zip) is not supported"));
        }
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        let jwk = josekit::jwk::Jwk::from_map(jwk.clone()).map_err(|e| bad(format!("jwk: {e}")))?;
        let parsed = ResponseEncryption {
            jwk,
            enc: enc.to_owned(),
            kid,
        };
        // Prove the key works now, before the offer is spent: a key josekit
        // cannot encrypt to would otherwise fail after the credential was
        // stored and leave the citizen without it.
        parsed.encrypt(b"probe")?;
        Ok(parsed)
    }

    /// `payload` as a compact JWE to the wallet's key.
    pub(super) fn encrypt(&self, payload: &[u8]) -> Result<String, Oid4vciError> {
        let encrypter = josekit::jwe::ECDH_ES
            .encrypter_from_jwk(&self.jwk)
            .map_err(|e| bad(format!("the response encryption key is unusable: {e}")))?;
        let mut h = josekit::jwe::JweHeader::new();
        h.set_content_encryption(&self.enc);
        if let Some(k) = &self.kid {
            h.set_key_id(k);
        }
        josekit::jwe::serialize_compact(payload, &h, &encrypter)
            .map_err(|e| bad(format!("encryption failed: {e}")))
    }
}
