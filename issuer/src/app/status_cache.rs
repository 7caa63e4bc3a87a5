//! The process's cache of signed status list tokens, generation-counted so
//! that a status change is never hidden by a rebuild that read the list
//! before it.
//!
//! Each list has a generation. A status change bumps it (and drops the
//! cached token) after its commit and before it answers. A rebuild notes
//! the generation when it misses, reads and signs the list, and may cache
//! its token only if the generation is still the one it noted: a token
//! built from a read that a change may have overtaken is served to the
//! request that built it, never to anyone after the change was answered.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Which list: (agency id, list number).
pub(crate) type ListKey = (String, i64);

struct Cached {
    token: String,
    /// Unix seconds, by the service's clock.
    fresh_until: i64,
}

#[derive(Default)]
struct Slot {
    generation: u64,
    token: Option<Cached>,
}

/// What [`StatusCache::lookup`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A token still fresh, and the seconds it has left.
    Hit { token: String, left: u64 },
    /// Nothing fresh: rebuild, and offer the result with this generation.
    Miss { generation: u64 },
}

/// Signed status list tokens by list, each with its list's generation.
#[derive(Default)]
pub(crate) struct StatusCache {
    lists: Mutex<HashMap<ListKey, Slot>>,
}

impl StatusCache {
    fn lists(&self) -> MutexGuard<'_, HashMap<ListKey, Slot>> {
        // The map stays consistent whatever a panicking holder did (each
        // change is one assignment), so a poisoned lock is still used: a
        // status change must never skip its invalidation.
        self.lists.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached token of `key` if it is fresh at `now`, else the
    /// generation a rebuild starts from.
    pub(crate) fn lookup(&self, key: &ListKey, now: i64) -> Lookup {
        let lists = self.lists();
        let Some(slot) = lists.get(key) else {
            return Lookup::Miss { generation: 0 };
        };
        if let Some(c) = &slot.token {
            let left = u64::try_from(c.fresh_until.saturating_sub(now)).unwrap_or(0);
            if left > 0 {
                return Lookup::Hit {
                    token: c.token.clone(),
                    left,
                };
            }
        }
        Lookup::Miss {
            generation: slot.generation,
        }
    }

    /// A status in `key` changed (and is committed): the cached token is
    /// dropped and every rebuild started before now is refused a place.
    pub(crate) fn changed(&self, key: ListKey) {
        let mut lists = self.lists();
        let slot = lists.entry(key).or_default();
        slot.generation = slot.generation.wrapping_add(1);
        slot.token = None;
    }

    /// Caches `token` (fresh until `fresh_until`) for `key` if no status of
    /// the list changed since the rebuild's lookup saw `generation`;
    /// whether it was cached.
    pub(crate) fn offer(
        &self,
        key: ListKey,
        generation: u64,
        token: String,
        fresh_until: i64,
    ) -> bool {
        let mut lists = self.lists();
        let slot = lists.entry(key).or_default();
        if slot.generation != generation {
            return false;
        }
        slot.token = Some(Cached { token, fresh_until });
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key() -> ListKey {
        ("demo".into(), 0)
    }

    #[test]
    fn a_rebuild_overtaken_by_a_change_is_not_cached() {
        let c = StatusCache::default();
        let Lookup::Miss { generation } = c.lookup(&key(), 100) else {
            panic!("empty cache hit");
        };
        // The rebuild read the list; a change commits and answers.
        c.changed(key());
        assert!(!c.offer(key(), generation, "before".into(), 400));
        assert_eq!(c.lookup(&key(), 100), Lookup::Miss { generation: 1 });
        // A rebuild started after the change is cached.
        assert!(c.offer(key(), 1, "after".into(), 400));
        assert_eq!(
            c.lookup(&key(), 100),
            Lookup::Hit {
                token: "after".into(),
                left: 300
            }
        );
        // And expires by the clock.
        assert_eq!(c.lookup(&key(), 400), Lookup::Miss { generation: 1 });
    }

    #[test]
    fn lists_have_their_own_generations() {
        let c = StatusCache::default();
        c.changed(("demo".into(), 1));
        assert!(c.offer(key(), 0, "list 0".into(), 10));
        assert!(matches!(c.lookup(&key(), 0), Lookup::Hit { .. }));
    }
}
