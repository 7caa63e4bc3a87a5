//! The agency's Ed25519 signatures, computed by AWS-LC.
//!
//! Signing is the largest single cost of issuing a credential: with
//! `ed25519-dalek` it was about a quarter of the service's CPU a
//! credential under load (`docs/performance.md`, issue 16's fifth issuing
//! round), most of it the fixed-base multiplication `r·B`. AWS-LC computes
//! the same signature in about 0.6 of the time on this machine (its field
//! arithmetic is assembly with the x86-64 ADX/BMI2 instructions). Ed25519
//! signatures are deterministic (RFC 8032 §5.1.6), so both libraries give
//! byte-identical signatures for a seed and a message: the tests below
//! check that on random seeds and messages, and every verifier, ours
//! included, checks them exactly as before.
//!
//! Only the issuer signs this way: `tongban-verifier` keeps
//! `ed25519-dalek` (it builds for wasm32, where AWS-LC does not), and the
//! public key, thumbprint and JWK still come from it.

use aws_lc_rs::signature::Ed25519KeyPair;
use tongban_verifier::{Algorithm, Ed25519Signer, PublicKey, SignError, Signer};
use zeroize::Zeroizing;

/// An agency's Ed25519 signing key held by AWS-LC.
pub struct NativeEd25519Signer {
    key: Ed25519KeyPair,
    /// The same key in `ed25519-dalek`'s form: the public key and JWK.
    public: PublicKey,
    kid: Option<String>,
    alg: Algorithm,
}

impl NativeEd25519Signer {
    /// The key of a 32-byte seed (RFC 8032 §5.1.5), with headers naming
    /// `kid` and, when `fully_specified`, the `Ed25519` algorithm name of
    /// RFC 9864 instead of `EdDSA`.
    pub fn from_seed(
        seed: &Zeroizing<[u8; 32]>,
        kid: Option<String>,
        fully_specified: bool,
    ) -> Result<Self, SignError> {
        // Any 32 bytes are a seed; AWS-LC refuses only a wrong length.
        let key = Ed25519KeyPair::from_seed_unchecked(seed.as_slice())
            .map_err(|e| SignError(format!("AWS-LC refused the Ed25519 seed: {e}")))?;
        let public = Ed25519Signer::from_seed(seed, None).public_key();
        Ok(NativeEd25519Signer {
            key,
            public,
            kid,
            alg: if fully_specified {
                Algorithm::Ed25519
            } else {
                Algorithm::EdDsa
            },
        })
    }
}

impl core::fmt::Debug for NativeEd25519Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NativeEd25519Signer")
            .field("public", &self.public.thumbprint())
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Signer for NativeEd25519Signer {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
    fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }
    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(self.key.sign(signing_input).as_ref().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::KeyPair as _;
    use rand_core::{OsRng, RngCore as _};

    #[test]
    fn signs_exactly_as_ed25519_dalek_does() {
        let mut rng = OsRng;
        for n in 0..200usize {
            let mut seed = Zeroizing::new([0u8; 32]);
            rng.fill_bytes(seed.as_mut_slice());
            let mut message = vec![0u8; n * 17 % 3000];
            rng.fill_bytes(&mut message);
            let ours = NativeEd25519Signer::from_seed(&seed, None, false).unwrap();
            let dalek = Ed25519Signer::from_seed(&seed, None);
            assert_eq!(
                ours.sign(&message).unwrap(),
                dalek.sign(&message).unwrap(),
                "seed {:02x?}, message of {} bytes",
                seed.as_slice(),
                message.len()
            );
            assert_eq!(ours.public_key(), dalek.public_key());
            let PublicKey::Ed25519(dalek_public) = dalek.public_key() else {
                panic!("an Ed25519 signer's public key is Ed25519");
            };
            assert_eq!(ours.key.public_key().as_ref(), dalek_public.as_bytes());
        }
    }

    #[test]
    fn its_signatures_verify_and_a_changed_message_does_not() {
        let seed = Zeroizing::new([9u8; 32]);
        let signer = NativeEd25519Signer::from_seed(&seed, Some("k1".into()), false).unwrap();
        let sig = signer.sign(b"header.payload").unwrap();
        let public = signer.public_key();
        assert!(public.verify(Algorithm::EdDsa, b"header.payload", &sig));
        assert!(!public.verify(Algorithm::EdDsa, b"header.payloaD", &sig));
    }

    #[test]
    fn names_its_algorithm_and_key_as_asked() {
        let seed = Zeroizing::new([3u8; 32]);
        let plain = NativeEd25519Signer::from_seed(&seed, Some("k1".into()), false).unwrap();
        assert_eq!(plain.algorithm(), Algorithm::EdDsa);
        assert_eq!(plain.key_id(), Some("k1"));
        let named = NativeEd25519Signer::from_seed(&seed, None, true).unwrap();
        assert_eq!(named.algorithm(), Algorithm::Ed25519);
        assert_eq!(named.key_id(), None);
        // The seed never appears in what is printed, in hex or base64url.
        let printed = format!("{plain:?}");
        assert!(!printed.contains(&"03".repeat(32)), "{printed}");
        assert!(
            !printed.contains(&tongban_verifier::encoding::b64_encode(*seed)),
            "{printed}"
        );
    }
}
