//! A bounded in-memory set of values already used, each kept until the
//! moment it could no longer be accepted anyway: the replay guard of the
//! spent `c_nonce`s ([`super::nonce`]), of DPoP proofs ([`super::dpop`],
//! by `jti` and key) and of the wallet attestation's proof of possession
//! (`jti`).
//!
//! Only what passed its own checks reaches the set — a `c_nonce` this
//! service minted, a verified DPoP proof carrying a live server nonce, a
//! PoP signed by the instance key of a trusted provider's attestation — so
//! strangers cannot grow it at will; it is bounded all the same, and when full of live entries it
//! refuses (fails closed) rather than forgets. Each replica keeps its own
//! set: the same proof could be accepted once per replica within its short
//! window — a pre-authorized code or authorization code still redeems once,
//! in the database.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};

/// Why a value could not be spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpendRefusal {
    /// It was spent before.
    Replayed,
    /// Too many live values are remembered to take another; try again.
    Busy,
}

/// Values spent, by a fixed-size key (by default a SHA-256, see
/// [`SpentSet::key`]), with the time each may be forgotten.
pub struct SpentSet<K = [u8; 32]> {
    spent: Mutex<HashMap<K, i64>>,
    max: usize,
}

impl<K> std::fmt::Debug for SpentSet<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpentSet")
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl SpentSet {
    /// The key of a value made of `parts` (each length-prefixed, so no two
    /// different lists collide).
    pub fn key(parts: &[&str]) -> [u8; 32] {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_be_bytes());
            h.update(p.as_bytes());
        }
        h.finalize().into()
    }
}

impl<K: Hash + Eq> SpentSet<K> {
    /// An empty set holding at most `max` live values.
    pub fn new(max: usize) -> Self {
        SpentSet {
            spent: Mutex::new(HashMap::new()),
            max,
        }
    }

    /// Spends `key` at `now`, remembering it until `until`.
    pub fn spend(&self, key: K, until: i64, now: i64) -> Result<(), SpendRefusal> {
        let mut spent = self
            .spent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if spent.get(&key).is_some_and(|exp| *exp >= now) {
            return Err(SpendRefusal::Replayed);
        }
        if spent.len() >= self.max {
            spent.retain(|_, exp| *exp >= now);
            if spent.len() >= self.max {
                return Err(SpendRefusal::Busy);
            }
        }
        spent.insert(key, until);
        Ok(())
    }

    /// Forgets values past their time; returns how many.
    pub fn purge(&self, now: i64) -> usize {
        let mut spent = self
            .spent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = spent.len();
        spent.retain(|_, exp| *exp >= now);
        before - spent.len()
    }

    /// How many values are remembered now.
    #[cfg(test)]
    pub fn remembered(&self) -> usize {
        self.spent.lock().map_or(0, |s| s.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_spent_once_while_live_and_a_full_set_refuses() {
        let s: SpentSet = SpentSet::new(2);
        let a = SpentSet::key(&["demo", "j1"]);
        assert_ne!(a, SpentSet::key(&["demoj", "1"]), "parts are delimited");
        assert_eq!(s.spend(a, 100, 10), Ok(()));
        assert_eq!(s.spend(a, 100, 50), Err(SpendRefusal::Replayed));
        assert_eq!(s.spend(SpentSet::key(&["b"]), 100, 10), Ok(()));
        assert_eq!(
            s.spend(SpentSet::key(&["c"]), 100, 10),
            Err(SpendRefusal::Busy),
            "full of live values: refused, not forgotten"
        );
        // Past their time the old ones make room.
        assert_eq!(s.spend(SpentSet::key(&["c"]), 300, 200), Ok(()));
        assert_eq!(s.purge(301), 1);
    }
}
