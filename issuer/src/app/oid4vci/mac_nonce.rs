//! The one layout of the issuer's stateless nonces (the `c_nonce`s of
//! [`super::nonce`] and the DPoP nonces of [`super::dpop`]):
//!
//! ```text
//! base64url( version ‖ expires_at (8 bytes, big-endian) ‖ random (R) ‖ tag (16) )
//! tag = HMAC-SHA-256(K, label ‖ agency ‖ 0x00 ‖ expires_at ‖ random)[..16]
//! ```
//!
//! `K` is derived from the master key, so every replica mints and opens
//! the same nonces and none is stored. Each use has its own version byte,
//! label and key, so a nonce of one kind never opens as the other. Expiry
//! and single use are the caller's rules: [`MacNonce::open`] only says
//! whether this service minted the nonce for the agency, and until when.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore as _};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Bytes of the MAC kept in a nonce.
const TAG: usize = 16;

/// Mints and opens nonces of one kind, with `R` random bytes each.
pub(crate) struct MacNonce<const R: usize> {
    key: Zeroizing<[u8; 32]>,
    version: u8,
    label: &'static [u8],
}

impl<const R: usize> std::fmt::Debug for MacNonce<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MacNonce")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl<const R: usize> MacNonce<R> {
    /// Nonces under `key`, marked with `version` and MAC'd under `label`.
    pub(crate) fn new(key: Zeroizing<[u8; 32]>, version: u8, label: &'static [u8]) -> Self {
        MacNonce {
            key,
            version,
            label,
        }
    }

    /// The MAC over a nonce's agency, expiry and random part.
    fn mac(&self, agency: &str, expires_at: i64, random: &[u8; R]) -> Hmac<Sha256> {
        // HMAC takes a key of any length; 32 bytes cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC accepts a 32-byte key"));
        mac.update(self.label);
        mac.update(agency.as_bytes());
        mac.update(&[0]);
        mac.update(&expires_at.to_be_bytes());
        mac.update(random);
        mac
    }

    /// A new nonce for `agency` that says it expires at `expires_at`.
    pub(crate) fn mint(&self, agency: &str, expires_at: i64) -> String {
        let mut random = [0u8; R];
        OsRng.fill_bytes(&mut random);
        let mut raw = Vec::with_capacity(1 + 8 + R + TAG);
        raw.push(self.version);
        raw.extend_from_slice(&expires_at.to_be_bytes());
        raw.extend_from_slice(&random);
        raw.extend_from_slice(
            &self
                .mac(agency, expires_at, &random)
                .finalize()
                .into_bytes()[..TAG],
        );
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The expiry and random part of `nonce`, if this service minted it for
    /// `agency` (the tag compared in constant time); `None` otherwise.
    pub(crate) fn open(&self, agency: &str, nonce: &str) -> Option<(i64, [u8; R])> {
        let raw = URL_SAFE_NO_PAD.decode(nonce).ok()?;
        if raw.len() != 1 + 8 + R + TAG || raw[0] != self.version {
            return None;
        }
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&raw[1..9]);
        let expires_at = i64::from_be_bytes(exp);
        let mut random = [0u8; R];
        random.copy_from_slice(&raw[9..9 + R]);
        self.mac(agency, expires_at, &random)
            .verify_truncated_left(&raw[9 + R..])
            .ok()?;
        Some((expires_at, random))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_opens_for_its_agency_kind_and_key_only() {
        let a = MacNonce::<8>::new(Zeroizing::new([1; 32]), 9, b"a");
        let n = a.mint("demo", 1_000);
        let (exp, _) = a.open("demo", &n).unwrap();
        assert_eq!(exp, 1_000);
        assert!(a.open("other", &n).is_none(), "another agency");
        let other_label = MacNonce::<8>::new(Zeroizing::new([1; 32]), 9, b"b");
        assert!(other_label.open("demo", &n).is_none(), "another kind");
        let other_key = MacNonce::<8>::new(Zeroizing::new([2; 32]), 9, b"a");
        assert!(other_key.open("demo", &n).is_none(), "another key");
        let longer = MacNonce::<16>::new(Zeroizing::new([1; 32]), 9, b"a");
        assert!(longer.open("demo", &n).is_none(), "another length");
        let mut raw = URL_SAFE_NO_PAD.decode(&n).unwrap();
        raw[3] ^= 1;
        assert!(
            a.open("demo", &URL_SAFE_NO_PAD.encode(&raw)).is_none(),
            "a changed expiry"
        );
    }
}
