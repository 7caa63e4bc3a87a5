//! Stateless `c_nonce`s (OpenID4VCI §7): minted without touching the
//! database, checked by their MAC, made single-use by a small in-memory
//! set of the nonces already spent.
//!
//! The nonce endpoint is unauthenticated. When every nonce was a durable
//! row, one client made 83,000 of them in a minute and slowed issuing
//! (every row took the single SQLite writer and an fsync). Now a nonce is
//!
//! ```text
//! base64url( 0x01 ‖ expires_at (8 bytes, big-endian) ‖ random (16) ‖ tag (16) )
//! tag = HMAC-SHA-256(K, "tongban c_nonce v1" ‖ agency ‖ 0x00 ‖ expires_at ‖ random)[..16]
//! ```
//!
//! (a [`super::mac_nonce::MacNonce`], the layout the DPoP nonces share)
//! with `K` derived from the master key, so every replica mints and checks
//! the same nonces and a restart forgets nothing that matters: a nonce
//! carries its own expiry. Minting costs one HMAC and no I/O.
//!
//! Single use: a nonce is spent when a credential request's proof carries
//! it; the spent set keeps it until its expiry (then it is refused for
//! being expired anyway). The set lives in each process, so on several
//! replicas a nonce could be spent once on each — harmless, because the
//! access token it is used with redeems its offer exactly once, in the
//! database. Only requests holding a valid access token reach the set, so
//! strangers cannot grow it; it is bounded all the same ([`MAX_SPENT`]), and
//! when full it refuses (fails closed) rather than forgets.

use zeroize::Zeroizing;

use super::mac_nonce::MacNonce;
use super::spent::{SpendRefusal, SpentSet};

const VERSION: u8 = 1;
const LABEL: &[u8] = b"tongban c_nonce v1";

/// The most spent nonces remembered at once.
pub const MAX_SPENT: usize = 1 << 20;

/// Why a nonce was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceRefusal {
    /// Not a nonce this service minted for this agency.
    Unknown,
    /// Past its expiry.
    Expired,
    /// Already spent.
    Spent,
    /// Too many nonces spent recently to remember another; try again.
    Busy,
}

/// Mints and checks the `c_nonce`s of one service.
pub struct Nonces {
    minted: MacNonce<16>,
    spent: SpentSet<[u8; 16]>,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces").finish_non_exhaustive()
    }
}

impl Nonces {
    /// Nonces under `key` (derived from the master key).
    pub fn new(key: Zeroizing<[u8; 32]>) -> Self {
        Nonces {
            minted: MacNonce::new(key, VERSION, LABEL),
            spent: SpentSet::new(MAX_SPENT),
        }
    }

    /// A new nonce for `agency`, valid until `expires_at`.
    pub fn mint(&self, agency: &str, expires_at: i64) -> String {
        self.minted.mint(agency, expires_at)
    }

    /// Spends `nonce` of `agency` at `now`: accepted once, if this service
    /// minted it for that agency and it has not expired.
    pub fn spend(&self, agency: &str, nonce: &str, now: i64) -> Result<(), NonceRefusal> {
        let (expires_at, random) = self
            .minted
            .open(agency, nonce)
            .ok_or(NonceRefusal::Unknown)?;
        if expires_at < now {
            return Err(NonceRefusal::Expired);
        }
        self.spent
            .spend(random, expires_at, now)
            .map_err(|refusal| match refusal {
                SpendRefusal::Replayed => NonceRefusal::Spent,
                SpendRefusal::Busy => NonceRefusal::Busy,
            })
    }

    /// Forgets spent nonces that have expired (they are refused as expired
    /// anyway); returns how many.
    pub fn purge(&self, now: i64) -> usize {
        self.spent.purge(now)
    }

    #[cfg(test)]
    fn spent_len(&self) -> usize {
        self.spent.remembered()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn nonces() -> Nonces {
        Nonces::new(Zeroizing::new([7; 32]))
    }

    #[test]
    fn a_nonce_is_spent_once_before_its_expiry_by_its_agency_only() {
        let n = nonces();
        let a = n.mint("demo", 1_000);
        assert_eq!(n.spend("other", &a, 10), Err(NonceRefusal::Unknown));
        assert_eq!(n.spend("demo", &a, 10), Ok(()));
        assert_eq!(n.spend("demo", &a, 10), Err(NonceRefusal::Spent));
        let b = n.mint("demo", 1_000);
        assert_eq!(n.spend("demo", &b, 1_001), Err(NonceRefusal::Expired));
        assert_eq!(
            n.spend("demo", &b, 1_000),
            Ok(()),
            "valid at its last second"
        );
    }

    #[test]
    fn forged_and_altered_nonces_are_unknown() {
        let n = nonces();
        let good = n.mint("demo", 1_000);
        // Another key's nonce.
        let foreign = Nonces::new(Zeroizing::new([8; 32])).mint("demo", 1_000);
        assert_eq!(n.spend("demo", &foreign, 10), Err(NonceRefusal::Unknown));
        // A later expiry written in by hand.
        let mut raw = URL_SAFE_NO_PAD.decode(&good).unwrap();
        raw[1..9].copy_from_slice(&9_999i64.to_be_bytes());
        let stretched = URL_SAFE_NO_PAD.encode(&raw);
        assert_eq!(n.spend("demo", &stretched, 10), Err(NonceRefusal::Unknown));
        for junk in ["", "AAAA", "not base64!", &good[..good.len() - 2]] {
            assert_eq!(
                n.spend("demo", junk, 10),
                Err(NonceRefusal::Unknown),
                "{junk}"
            );
        }
        assert_eq!(n.spent_len(), 0, "refused nonces are not remembered");
    }

    #[test]
    fn minting_remembers_nothing_and_purging_forgets_only_the_expired() {
        let n = nonces();
        for _ in 0..10_000 {
            let _ = n.mint("demo", 1_000);
        }
        assert_eq!(n.spent_len(), 0, "minting costs no memory");
        let early = n.mint("demo", 100);
        let late = n.mint("demo", 1_000);
        n.spend("demo", &early, 50).unwrap();
        n.spend("demo", &late, 50).unwrap();
        assert_eq!(n.purge(500), 1);
        assert_eq!(n.spend("demo", &late, 600), Err(NonceRefusal::Spent));
    }
}
