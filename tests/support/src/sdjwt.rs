//! The pieces of a hand-built SD-JWT presentation, for tests that must
//! control every byte: the issuer-signed JWT's header and payload, the
//! disclosures after it, and the KB-JWT's header and payload.
//!
//! Sign the pieces with [`crate::jws`]; build well-formed presentations
//! with [`crate::present`] instead.

use serde_json::{Map, Value, json};
use tongban_verifier::sdjwt::sha256_b64;

/// The header of an issuer-signed SD-JWT VC: EdDSA, `typ` `dc+sd-jwt`.
pub fn issuer_header(kid: &str) -> Value {
    json!({"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": kid})
}

/// The header of a KB-JWT: EdDSA, `typ` `kb+jwt`.
pub fn kb_header() -> Value {
    json!({"alg": "EdDSA", "typ": "kb+jwt"})
}

/// A valid credential payload: issued an hour before `now`, expiring a day
/// after it, bound to `holder_jwk`, with the `_sd` digests sorted.
pub fn credential_payload(
    iss: &str,
    vct: &str,
    now: i64,
    holder_jwk: Value,
    mut digests: Vec<String>,
) -> Map<String, Value> {
    digests.sort_unstable();
    let payload = json!({
        "iss": iss, "iat": now - 3600, "exp": now + 86_400, "vct": vct,
        "cnf": {"jwk": holder_jwk}, "_sd": digests, "_sd_alg": "sha-256"
    });
    payload.as_object().cloned().unwrap_or_default()
}

/// `jwt~d1~d2~…~`: the issuer-signed JWT with the encoded disclosures
/// appended, ready for a KB-JWT (or none).
pub fn with_disclosures(jwt: &str, encoded: &[&str]) -> String {
    let mut sd = format!("{jwt}~");
    for d in encoded {
        sd.push_str(d);
        sd.push('~');
    }
    sd
}

/// A KB-JWT payload over `sd` (the presentation up to and including its
/// last `~`).
pub fn kb_payload(iat: i64, aud: &str, nonce: &str, sd: &str) -> Map<String, Value> {
    let payload = json!({"iat": iat, "aud": aud, "nonce": nonce, "sd_hash": sha256_b64(sd)});
    payload.as_object().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disclosures_follow_the_jwt_each_closed_by_a_tilde() {
        assert_eq!(with_disclosures("h.p.s", &[]), "h.p.s~");
        assert_eq!(with_disclosures("h.p.s", &["a", "b"]), "h.p.s~a~b~");
    }

    #[test]
    fn the_payload_lists_its_digests_sorted() {
        let p = credential_payload("i", "v", 10, json!({}), vec!["b".into(), "a".into()]);
        assert_eq!(p["_sd"], json!(["a", "b"]));
        assert_eq!(
            (p["iat"].as_i64(), p["exp"].as_i64()),
            (Some(-3590), Some(86_410))
        );
    }
}
