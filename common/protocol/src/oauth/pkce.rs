//! PKCE (RFC 7636) with the `S256` method only: `plain` gives no
//! protection when the authorization request is seen, and HAIP 1.0 (via
//! FAPI 2.0) requires `S256`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Why a PKCE value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkceError {
    /// The verifier is not 43 to 128 unreserved characters (RFC 7636 §4.1).
    #[error("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")]
    VerifierSyntax,
    /// The challenge is not 43 characters of base64url (an S256 digest).
    #[error("code_challenge must be the 43-character base64url SHA-256 of the code_verifier")]
    ChallengeSyntax,
    /// The verifier does not hash to the challenge.
    #[error("the code_verifier does not match the code_challenge of the authorization request")]
    Mismatch,
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

/// Whether `verifier` has the syntax of RFC 7636 §4.1.
pub fn verifier_is_valid(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len()) && verifier.bytes().all(unreserved)
}

/// Whether `challenge` can be an `S256` challenge: base64url without
/// padding of 32 bytes (43 characters).
pub fn challenge_is_valid(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A verifier from 32 random bytes the caller drew (43 characters).
pub fn verifier_from_random(random: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// The `S256` challenge of a verifier: `BASE64URL(SHA-256(verifier))`.
pub fn challenge_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Checks a token request's `code_verifier` against the `S256`
/// `code_challenge` of its authorization request.
pub fn verify_s256(verifier: &str, challenge: &str) -> Result<(), PkceError> {
    if !verifier_is_valid(verifier) {
        return Err(PkceError::VerifierSyntax);
    }
    if !challenge_is_valid(challenge) {
        return Err(PkceError::ChallengeSyntax);
    }
    // Both sides are public once the code is spent; a plain comparison of
    // the digests is enough (the code itself is single-use).
    if challenge_s256(verifier) == challenge {
        Ok(())
    } else {
        Err(PkceError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_rfc_7636_appendix_b_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(challenge_s256(verifier), challenge);
        assert_eq!(verify_s256(verifier, challenge), Ok(()));
    }

    #[test]
    fn a_wrong_or_malformed_verifier_is_refused() {
        let v = verifier_from_random(&[9; 32]);
        let c = challenge_s256(&v);
        assert_eq!(v.len(), 43);
        let other = verifier_from_random(&[8; 32]);
        assert_eq!(verify_s256(&other, &c), Err(PkceError::Mismatch));
        assert_eq!(verify_s256("short", &c), Err(PkceError::VerifierSyntax));
        let spaced = format!("{} ", &v[..43]);
        assert_eq!(verify_s256(&spaced, &c), Err(PkceError::VerifierSyntax));
        assert_eq!(
            verify_s256(&v, &v[..42]),
            Err(PkceError::ChallengeSyntax),
            "a plain challenge (the verifier itself) is not an S256 digest"
        );
        assert!(!challenge_is_valid(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
    }
}
