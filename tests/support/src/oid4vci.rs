//! The OpenID4VCI key proof (`openid4vci-proof+jwt`, OpenID4VCI 1.0
//! Appendix F.1) a wallet sends with a credential request.

use serde_json::json;
use tongban_verifier::{Ed25519Signer, SignError, Signer as _};

use crate::jws::sign_json;

/// A key proof signed by `signer`, carrying its public JWK in the header,
/// for the issuer `aud`, with the issuer's `c_nonce` when given.
pub fn key_proof(
    signer: &Ed25519Signer,
    aud: &str,
    nonce: Option<&str>,
    iat: i64,
) -> Result<String, SignError> {
    let mut payload = json!({"aud": aud, "iat": iat});
    if let Some(n) = nonce {
        payload["nonce"] = json!(n);
    }
    let header =
        json!({"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk": signer.public_key().to_jwk()});
    sign_json(signer, &header, &payload)
}

#[cfg(test)]
mod tests {
    use tongban_verifier::jws::CompactJws;

    use super::*;
    use crate::keys::sample_holder;

    #[test]
    fn the_proof_names_its_type_key_audience_and_nonce() {
        let holder = sample_holder();
        let proof = key_proof(&holder, "https://issuer.test", Some("n-1"), 5).unwrap();
        let jws = CompactJws::parse(&proof, "proof").unwrap();
        assert_eq!(jws.header["typ"], "openid4vci-proof+jwt");
        assert_eq!(jws.header["jwk"], holder.public_key().to_jwk());
        assert_eq!(jws.payload["aud"], "https://issuer.test");
        assert_eq!(jws.payload["nonce"], "n-1");
        let without = key_proof(&holder, "https://issuer.test", None, 5).unwrap();
        let jws = CompactJws::parse(&without, "proof").unwrap();
        assert!(!jws.payload.contains_key("nonce"));
    }
}
