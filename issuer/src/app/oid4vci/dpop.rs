//! DPoP (RFC 9449) on the issuer: server nonces, `jti` replay, and the
//! check of a request's proof against the endpoint it reached.
//!
//! Nonces are stateless, in the style of the `c_nonce`s ([`super::nonce`];
//! both are [`super::mac_nonce::MacNonce`]s):
//!
//! ```text
//! base64url( 0x02 ‖ expires_at (8 bytes, big-endian) ‖ random (8) ‖ tag (16) )
//! tag = HMAC-SHA-256(K, "tongban dpop nonce v1" ‖ agency ‖ 0x00 ‖ expires_at ‖ random)[..16]
//! ```
//!
//! with `K` derived from the master key, so every replica mints and
//! accepts the same nonces and none is stored. A DPoP nonce is a freshness
//! value, not single-use (RFC 9449 §8): a wallet uses it until it expires.
//! What makes a proof single-use is its `jti`, remembered (as a 16-byte
//! digest with the key's thumbprint) until the proof's `iat` leaves the
//! window, in a bounded in-memory set per process ([`super::spent`], as
//! for `c_nonce`s and attestation PoPs): full, it refuses
//! (fails closed) rather than forgets. Only proofs that carry a live nonce
//! and verify reach the set. On several replicas a proof could be replayed
//! once on each within its short window; the access token it protects is
//! still redeemed once, in the database.

use sha2::{Digest, Sha256};
use tongban_protocol::oauth::dpop::{DpopError, DpopExpect, check_dpop};
use tongban_protocol::oauth::{INVALID_DPOP_PROOF, USE_DPOP_NONCE};
use tongban_protocol::oid4vci::ErrorResponse;
use zeroize::Zeroizing;

use super::Oid4vciError;
use super::mac_nonce::MacNonce;
use super::spent::{SpendRefusal, SpentSet};
use crate::app::Service;

const VERSION: u8 = 2;
const LABEL: &[u8] = b"tongban dpop nonce v1";
/// Seconds a proof's `iat` may be ahead of the service's clock.
const MAX_AHEAD: i64 = 60;
/// The most `jti`s remembered at once.
pub const MAX_SEEN: usize = 1 << 20;

/// Mints DPoP nonces and remembers spent `jti`s.
pub struct DpopGuard {
    nonces: MacNonce<8>,
    seen: SpentSet<[u8; 16]>,
}

impl std::fmt::Debug for DpopGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopGuard").finish_non_exhaustive()
    }
}

/// Why a `jti` was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JtiRefusal {
    /// Seen before.
    Replayed,
    /// Too many recent proofs to remember another.
    Busy,
}

impl DpopGuard {
    /// A guard under `key` (derived from the master key).
    pub fn new(key: Zeroizing<[u8; 32]>) -> Self {
        DpopGuard {
            nonces: MacNonce::new(key, VERSION, LABEL),
            seen: SpentSet::new(MAX_SEEN),
        }
    }

    /// A nonce for `agency`'s endpoints, accepted until `expires_at`.
    pub fn nonce(&self, agency: &str, expires_at: i64) -> String {
        self.nonces.mint(agency, expires_at)
    }

    /// Whether `nonce` is one of ours for `agency`, unexpired at `now`.
    pub fn nonce_is_live(&self, agency: &str, nonce: &str, now: i64) -> bool {
        self.nonces
            .open(agency, nonce)
            .is_some_and(|(expires_at, _)| expires_at >= now)
    }

    /// Records a proof's `jti` (with its key) until `keep_until`.
    pub fn first_use(
        &self,
        jkt: &str,
        jti: &str,
        keep_until: i64,
        now: i64,
    ) -> Result<(), JtiRefusal> {
        let digest = Sha256::new()
            .chain_update(jkt.as_bytes())
            .chain_update([0])
            .chain_update(jti.as_bytes())
            .finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        self.seen
            .spend(id, keep_until, now)
            .map_err(|refusal| match refusal {
                SpendRefusal::Replayed => JtiRefusal::Replayed,
                SpendRefusal::Busy => JtiRefusal::Busy,
            })
    }

    /// Forgets `jti`s past their window; returns how many.
    pub fn purge(&self, now: i64) -> usize {
        self.seen.purge(now)
    }
}

/// Where a proof is checked: the token and PAR endpoints answer an
/// authorization server's error (400), the credential endpoint a resource
/// server's (401 with `WWW-Authenticate: DPoP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpopAt<'a> {
    /// The token or PAR endpoint.
    AuthorizationServer,
    /// The credential endpoint, with the access token presented.
    Resource {
        /// The access token the request carries.
        access_token: &'a str,
    },
}

impl Service {
    /// A fresh DPoP nonce of the agency (sent as `DPoP-Nonce`).
    pub fn dpop_nonce(&self, agency_id: &str) -> String {
        self.dpop.nonce(
            agency_id,
            self.now() + self.config.authorization.dpop_nonce_ttl_secs,
        )
    }

    /// The refusal of a DPoP proof, with a fresh nonce.
    fn dpop_refused(
        &self,
        agency_id: &str,
        at: DpopAt<'_>,
        error: &str,
        description: String,
    ) -> Oid4vciError {
        Oid4vciError::Dpop {
            body: ErrorResponse::new(error, description),
            nonce: self.dpop_nonce(agency_id),
            resource: matches!(at, DpopAt::Resource { .. }),
        }
    }

    /// Checks the `DPoP` header of a request to `htu` (the endpoint's
    /// published URL) with method `POST`: `None` when the request has no
    /// proof, else the thumbprint of the key it proves. A proof without a
    /// live nonce of the agency is answered `use_dpop_nonce` with one; a
    /// replayed `jti` is refused.
    pub fn check_dpop_proof(
        &self,
        agency_id: &str,
        htu: &str,
        proof: Option<&str>,
        at: DpopAt<'_>,
    ) -> Result<Option<String>, Oid4vciError> {
        let Some(proof) = proof else {
            return Ok(None);
        };
        let now = self.now();
        let max_age = self.config.authorization.dpop_nonce_ttl_secs;
        let access_token = match at {
            DpopAt::Resource { access_token } => Some(access_token),
            DpopAt::AuthorizationServer => None,
        };
        let checked = check_dpop(
            proof,
            &DpopExpect {
                htm: "POST",
                htu,
                now,
                max_age,
                max_ahead: MAX_AHEAD,
                access_token,
            },
        )
        .map_err(|e: DpopError| {
            self.dpop_refused(agency_id, at, INVALID_DPOP_PROOF, e.to_string())
        })?;
        match checked.nonce.as_deref() {
            Some(n) if self.dpop.nonce_is_live(agency_id, n, now) => {}
            Some(_) => {
                return Err(self.dpop_refused(
                    agency_id,
                    at,
                    USE_DPOP_NONCE,
                    "the DPoP proof's nonce is stale or not this server's; use the one in DPoP-Nonce".into(),
                ));
            }
            None => {
                return Err(self.dpop_refused(
                    agency_id,
                    at,
                    USE_DPOP_NONCE,
                    "this server requires a nonce in DPoP proofs; use the one in DPoP-Nonce".into(),
                ));
            }
        }
        let keep_until = checked.iat.saturating_add(max_age);
        match self.dpop.first_use(&checked.jkt, &checked.jti, keep_until, now) {
            Ok(()) => Ok(Some(checked.jkt)),
            Err(JtiRefusal::Replayed) => Err(self.dpop_refused(
                agency_id,
                at,
                INVALID_DPOP_PROOF,
                "the DPoP proof's jti was used before; sign a new proof for every request".into(),
            )),
            Err(JtiRefusal::Busy) => Err(Oid4vciError::Service(
                crate::app::ServiceError::StorageUnavailable {
                    detail: "too many DPoP proofs were seen in the last minutes to check another; try again shortly".into(),
                    cause: None,
                },
            )),
        }
    }

    /// The refusal of a request that lacks the DPoP proof its access token
    /// or code requires.
    pub(crate) fn dpop_missing(&self, agency_id: &str, at: DpopAt<'_>) -> Oid4vciError {
        self.dpop_refused(
            agency_id,
            at,
            INVALID_DPOP_PROOF,
            "this grant is bound to a DPoP key; send a DPoP proof signed by it".into(),
        )
    }

    /// The refusal of a proof by another key than the one bound.
    pub(crate) fn dpop_wrong_key(&self, agency_id: &str, at: DpopAt<'_>) -> Oid4vciError {
        self.dpop_refused(
            agency_id,
            at,
            INVALID_DPOP_PROOF,
            "the DPoP proof is signed by another key than the one this grant is bound to".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn guard() -> DpopGuard {
        DpopGuard::new(Zeroizing::new([3; 32]))
    }

    #[test]
    fn a_nonce_is_live_until_its_expiry_for_its_agency_and_reusable() {
        let g = guard();
        let n = g.nonce("demo", 1_000);
        assert!(g.nonce_is_live("demo", &n, 999));
        assert!(
            g.nonce_is_live("demo", &n, 1_000),
            "reusable, and valid at its last second"
        );
        assert!(!g.nonce_is_live("demo", &n, 1_001));
        assert!(!g.nonce_is_live("other", &n, 10));
        let foreign = DpopGuard::new(Zeroizing::new([4; 32])).nonce("demo", 1_000);
        assert!(!g.nonce_is_live("demo", &foreign, 10));
        let mut raw = URL_SAFE_NO_PAD.decode(&n).unwrap();
        raw[1..9].copy_from_slice(&9_999i64.to_be_bytes());
        assert!(
            !g.nonce_is_live("demo", &URL_SAFE_NO_PAD.encode(&raw), 10),
            "a stretched expiry"
        );
        for junk in ["", "AAAA", "!!"] {
            assert!(!g.nonce_is_live("demo", junk, 10));
        }
    }

    #[test]
    fn a_jti_is_used_once_per_key_within_its_window() {
        let g = guard();
        assert_eq!(g.first_use("k1", "j", 100, 10), Ok(()));
        assert_eq!(g.first_use("k1", "j", 100, 20), Err(JtiRefusal::Replayed));
        assert_eq!(g.first_use("k2", "j", 100, 20), Ok(()), "another key's jti");
        assert_eq!(g.purge(101), 2);
        assert_eq!(
            g.first_use("k1", "j", 300, 200),
            Ok(()),
            "past the window the iat check refuses it anyway"
        );
    }
}
