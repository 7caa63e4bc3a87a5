//! The process's cache of live admin tokens, by the SHA-256 of their
//! secret, so an admin request does not read the token from the database
//! every time.
//!
//! An entry lives `admin_token_cache_secs` (by the service's clock) from
//! the read that found the token live; only live tokens are kept, so a new
//! token works at once and an unknown secret is always looked up. A
//! revocation made through this process (`Service::revoke_token`) drops
//! the token after its commit and before it answers, so the next request
//! here is refused. A revocation made elsewhere (`tongban-issuer token
//! revoke`, another replica) is seen when the entry expires: within the
//! lifetime.
//!
//! A generation counter keeps a read that a revocation overtook from
//! caching what it read: a lookup notes the generation when it misses, and
//! its record is kept only if no revocation came in between (the same rule
//! as the status-list cache).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::store::TokenRecord;

/// Most tokens kept at once; past it, expired entries are dropped, and if
/// that is not enough, all of them (a service has a handful of tokens).
const MAX_ENTRIES: usize = 4096;

struct Entry {
    token: Arc<TokenRecord>,
    /// Unix seconds, by the service's clock: usable while `now` is below.
    fresh_until: i64,
}

#[derive(Default)]
struct Inner {
    generation: u64,
    entries: HashMap<String, Entry>,
}

/// What [`TokenCache::lookup`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A live token, read at most the cache's lifetime ago.
    Hit(Arc<TokenRecord>),
    /// Read the database, and offer a live result with this generation.
    Miss { generation: u64 },
}

/// Live admin tokens by the hash of their secret.
pub(crate) struct TokenCache {
    inner: Mutex<Inner>,
    /// Seconds an entry is used; 0 turns the cache off.
    ttl: i64,
}

impl TokenCache {
    /// A cache whose entries live `ttl_secs` (0: nothing is kept).
    pub(crate) fn new(ttl_secs: u64) -> Self {
        TokenCache {
            inner: Mutex::new(Inner::default()),
            ttl: i64::try_from(ttl_secs).unwrap_or(i64::MAX),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Every change is one assignment or one map operation, so the map
        // is consistent whatever a panicking holder did; a revocation must
        // never skip its invalidation.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached live token with this hash, if it is fresh at `now`.
    pub(crate) fn lookup(&self, hash: &str, now: i64) -> Lookup {
        let inner = self.inner();
        match inner.entries.get(hash) {
            Some(e) if now < e.fresh_until => Lookup::Hit(e.token.clone()),
            _ => Lookup::Miss {
                generation: inner.generation,
            },
        }
    }

    /// Keeps a token found live by a read made at `read_at`, unless a
    /// revocation came after the lookup that returned `generation`.
    pub(crate) fn offer(&self, hash: &str, token: Arc<TokenRecord>, read_at: i64, generation: u64) {
        if self.ttl == 0 || token.revoked_at.is_some() {
            return;
        }
        let mut inner = self.inner();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.retain(|_, e| read_at < e.fresh_until);
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
        }
        inner.entries.insert(
            hash.to_owned(),
            Entry {
                token,
                fresh_until: read_at.saturating_add(self.ttl),
            },
        );
    }

    /// Drops the token with this id (it was revoked) and stops any read
    /// made before now from being cached.
    pub(crate) fn forget(&self, token_id: &str) {
        let mut inner = self.inner();
        inner.generation += 1;
        inner.entries.retain(|_, e| e.token.id != token_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::Scopes;

    fn token(id: &str) -> Arc<TokenRecord> {
        Arc::new(TokenRecord {
            id: id.into(),
            agency_id: "a".into(),
            scopes: Scopes::all(),
            label: String::new(),
            created_at: 0,
            revoked_at: None,
        })
    }

    fn generation(l: Lookup) -> u64 {
        match l {
            Lookup::Miss { generation } => generation,
            Lookup::Hit(_) => panic!("expected a miss"),
        }
    }

    #[test]
    fn a_live_token_is_kept_for_its_lifetime_and_no_longer() {
        let c = TokenCache::new(5);
        let g = generation(c.lookup("h", 100));
        c.offer("h", token("tok_1"), 100, g);
        assert_eq!(c.lookup("h", 104), Lookup::Hit(token("tok_1")));
        assert!(matches!(c.lookup("h", 105), Lookup::Miss { .. }));
        assert!(matches!(c.lookup("other", 100), Lookup::Miss { .. }));
    }

    #[test]
    fn a_revocation_here_drops_the_token_and_a_read_it_overtook_is_not_kept() {
        let c = TokenCache::new(5);
        let g = generation(c.lookup("h", 100));
        c.offer("h", token("tok_1"), 100, g);
        let before = generation(c.lookup("h2", 100));
        c.forget("tok_1");
        assert!(matches!(c.lookup("h", 101), Lookup::Miss { .. }));
        // A read that started before the revocation found the token live.
        c.offer("h", token("tok_1"), 101, before);
        assert!(matches!(c.lookup("h", 101), Lookup::Miss { .. }));
    }

    #[test]
    fn lifetime_zero_keeps_nothing() {
        let c = TokenCache::new(0);
        let g = generation(c.lookup("h", 100));
        c.offer("h", token("tok_1"), 100, g);
        assert!(matches!(c.lookup("h", 100), Lookup::Miss { .. }));
    }
}
