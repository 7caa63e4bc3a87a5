//! Signers from fixed seeds. Ed25519 signatures are deterministic, so
//! everything signed with these keys is reproducible byte for byte.

use serde_json::{Value, json};
use tongban_verifier::{Ed25519Signer, Signer as _};

/// The `kid` of the sample's issuer key.
pub const SAMPLE_ISSUER_KID: &str = "wujiang-amr-2026";

/// The sample's issuer key (Wujiang, kid [`SAMPLE_ISSUER_KID`]).
pub fn sample_issuer() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[0x11; 32], Some(SAMPLE_ISSUER_KID.into()))
}

/// The sample's holder key.
pub fn sample_holder() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[0x22; 32], None)
}

/// An issuer, a holder and a trust anchor from fixed seeds.
pub struct FixedKeys {
    /// Signs credentials and status lists.
    pub issuer: Ed25519Signer,
    /// Holds the credentials and signs KB-JWTs.
    pub holder: Ed25519Signer,
    /// Signs trust lists.
    pub anchor: Ed25519Signer,
}

impl FixedKeys {
    /// The keys of the hostile-input corpus: issuer kid `wj-1`, anchor kid
    /// `anchor-1`.
    pub fn corpus() -> FixedKeys {
        FixedKeys {
            issuer: Ed25519Signer::from_seed(&[0xc1; 32], Some("wj-1".into())),
            holder: Ed25519Signer::from_seed(&[0xc2; 32], None),
            anchor: Ed25519Signer::from_seed(&[0xc3; 32], Some("anchor-1".into())),
        }
    }
}

/// The public JWK of `signer`, with its `kid` (as the last member) when it
/// has one: what a trust list or a JWKS publishes.
pub fn public_jwk(signer: &Ed25519Signer) -> Value {
    let mut jwk = signer.public_key().to_jwk();
    if let Some(kid) = signer.key_id() {
        jwk["kid"] = json!(kid);
    }
    jwk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_jwk_carries_the_kid_and_no_private_part() {
        let jwk = public_jwk(&sample_issuer());
        assert_eq!(jwk["kid"], SAMPLE_ISSUER_KID);
        assert_eq!(jwk["kty"], "OKP");
        assert!(jwk.get("d").is_none());
        assert!(public_jwk(&sample_holder()).get("kid").is_none());
    }
}
