//! A raw JWS signer: signs any header and any payload bytes, so a test can
//! break exactly one rule (a forbidden `alg`, a duplicate member, invalid
//! UTF-8) and keep a valid signature over it.

use serde_json::Value;
use tongban_verifier::encoding::{b64_encode, to_compact_json};
use tongban_verifier::{SignError, Signer};

/// `BASE64URL(header).BASE64URL(payload).BASE64URL(signature)` over the
/// compact JSON of `header` and the payload bytes exactly as given.
pub fn sign_raw(
    signer: &dyn Signer,
    header: &Value,
    payload: impl AsRef<[u8]>,
) -> Result<String, SignError> {
    let mut jws = format!(
        "{}.{}",
        b64_encode(to_compact_json(header)),
        b64_encode(payload)
    );
    let signature = signer.sign(jws.as_bytes())?;
    jws.push('.');
    jws.push_str(&b64_encode(signature));
    Ok(jws)
}

/// [`sign_raw`] over the compact JSON of `payload`.
pub fn sign_json(
    signer: &dyn Signer,
    header: &Value,
    payload: &Value,
) -> Result<String, SignError> {
    sign_raw(signer, header, to_compact_json(payload))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tongban_verifier::jws::CompactJws;
    use tongban_verifier::{Algorithm, Signer as _};

    use super::*;
    use crate::keys::sample_issuer;

    #[test]
    fn a_raw_jws_verifies_with_the_signers_key() {
        let signer = sample_issuer();
        let header = json!({"alg": "EdDSA", "typ": "JWT"});
        let jws = sign_json(&signer, &header, &json!({"a": 1})).unwrap();
        let parsed = CompactJws::parse(&jws, "test").unwrap();
        assert!(signer.public_key().verify(
            Algorithm::EdDsa,
            parsed.signing_input.as_bytes(),
            &parsed.signature
        ));
    }

    #[test]
    fn the_payload_is_signed_as_given_even_when_not_utf8() {
        let jws = sign_raw(&sample_issuer(), &json!({}), b"\xff").unwrap();
        assert_eq!(jws.split('.').nth(1), Some("_w"));
    }
}
