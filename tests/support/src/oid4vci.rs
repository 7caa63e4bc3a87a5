//! The OpenID4VCI key proof (`openid4vci-proof+jwt`, OpenID4VCI 1.0
//! Appendix F.1) a wallet sends with a credential request, signed by the
//! protocol crate's own builder, the one the wallet uses.

use tongban_protocol::oid4vci::{ProofKeyForm, sign_proof};
use tongban_verifier::{Ed25519Signer, SignError};

/// A key proof signed by `signer`, carrying its public JWK in the header
/// (`{"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk"}`), for the
/// issuer `aud` with `iat`, and the issuer's `c_nonce` when given.
pub fn key_proof(
    signer: &Ed25519Signer,
    aud: &str,
    nonce: Option<&str>,
    iat: i64,
) -> Result<String, SignError> {
    sign_proof(signer, ProofKeyForm::Jwk, aud, nonce, iat)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tongban_verifier::Signer as _;
    use tongban_verifier::jws::CompactJws;

    use super::*;
    use crate::jws::sign_json;
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

    #[test]
    fn the_proof_is_the_jws_of_its_header_and_payload_members() {
        // Byte for byte what a test signing the members itself gets.
        let holder = sample_holder();
        let header = json!({"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk": holder.public_key().to_jwk()});
        let payload = json!({"aud": "https://issuer.test", "iat": 5, "nonce": "n-1"});
        assert_eq!(
            key_proof(&holder, "https://issuer.test", Some("n-1"), 5).unwrap(),
            sign_json(&holder, &header, &payload).unwrap()
        );
    }
}
