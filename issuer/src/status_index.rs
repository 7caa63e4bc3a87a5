//! Where a credential's entry sits in its agency's status lists.
//!
//! The Token Status List draft (privacy considerations, "Correlation Risks
//! and Tracking") recommends non-sequential indices, so that a list does not
//! reveal the order and volume of issuance. The service still hands out a
//! dense counter `g` per agency — that is what makes allocation
//! collision-free across replicas (the service layer, [`crate::app`],
//! reserves blocks of it in the database) —
//! and places it with a keyed pseudo-random permutation:
//!
//! - list = `g / size`, slot = `g % size`;
//! - index = `P(slot)`, where `P` is a 4-round Feistel network keyed by the
//!   agency's `index_key` and the list number, over the smallest power-of-two
//!   domain with an even number of bits that holds `size`, walked back into
//!   `[0, size)` (cycle walking).
//!
//! `P` is a bijection on `[0, size)`, so two credentials never share an
//! index; without the key the order cannot be recovered.
//!
//! Because `(list, index)` is a bijective function of `g` (for the agency's
//! fixed key and list size, neither of which can change), the database keeps
//! a credential's position unique by keeping `g` unique: the
//! `(agency_id, status_seq)` index (migration 0006). That index is appended
//! to in issuing order, where one on the permuted position took a random
//! page per credential. [`counter`] inverts [`position`] for rows stored
//! before `g` was (see `store::sql::backfill`).

use sha2::{Digest, Sha256};

/// Feistel rounds.
const ROUNDS: u8 = 4;

/// The (list, index) of the `g`-th credential of an agency.
pub fn position(key: &[u8], g: i64, size: i64) -> (i64, i64) {
    let size = size.max(1);
    let g = g.max(0);
    let list = g / size;
    let slot = g % size;
    let idx = permute(key, list, slot.unsigned_abs(), size.unsigned_abs());
    (list, i64::try_from(idx).unwrap_or(0))
}

/// The counter `g` whose [`position`] is `(list, idx)`: the inverse of
/// [`position`] for the same key and size, or `None` when `idx` is outside
/// `[0, size)` or `list` is negative (no `g` has that position).
pub fn counter(key: &[u8], list: i64, idx: i64, size: i64) -> Option<i64> {
    if size < 1 || list < 0 || !(0..size).contains(&idx) {
        return None;
    }
    let slot = unpermute(key, list, idx.unsigned_abs(), size.unsigned_abs());
    list.checked_mul(size)?
        .checked_add(i64::try_from(slot).ok()?)
}

/// The half width and mask of the Feistel network over `[0, n)`.
fn domain(n: u64) -> (u32, u64) {
    let mut bits = 64 - (n.saturating_sub(1)).leading_zeros();
    bits = bits.max(2);
    if bits % 2 == 1 {
        bits += 1;
    }
    let half = bits / 2;
    (half, (1u64 << half) - 1)
}

fn permute(key: &[u8], list: i64, x: u64, n: u64) -> u64 {
    let (half, mask) = domain(n);
    let mut y = x;
    loop {
        y = feistel(key, list, y, half, mask);
        if y < n {
            return y;
        }
    }
}

/// The inverse of [`permute`]: the network run backwards, walking the
/// same cycle the other way until it is back in `[0, n)`.
fn unpermute(key: &[u8], list: i64, y: u64, n: u64) -> u64 {
    let (half, mask) = domain(n);
    let mut x = y;
    loop {
        x = feistel_inverse(key, list, x, half, mask);
        if x < n {
            return x;
        }
    }
}

/// The round function: 64 bits of SHA-256 over the key, list, round and
/// right half.
fn round_fn(key: &[u8], list: i64, round: u8, r: u64, mask: u64) -> u64 {
    let mut h = Sha256::new();
    h.update(b"tongban-status-index-v1");
    h.update(key);
    h.update(list.to_be_bytes());
    h.update([round]);
    h.update(r.to_be_bytes());
    let d = h.finalize();
    let mut f = [0u8; 8];
    f.copy_from_slice(&d[..8]);
    u64::from_be_bytes(f) & mask
}

fn feistel(key: &[u8], list: i64, x: u64, half: u32, mask: u64) -> u64 {
    let (mut l, mut r) = ((x >> half) & mask, x & mask);
    for round in 0..ROUNDS {
        let f = round_fn(key, list, round, r, mask);
        (l, r) = (r, l ^ f);
    }
    (l << half) | r
}

fn feistel_inverse(key: &[u8], list: i64, y: u64, half: u32, mask: u64) -> u64 {
    let (mut l, mut r) = ((y >> half) & mask, y & mask);
    for round in (0..ROUNDS).rev() {
        // Forward: (l, r) -> (r, l ^ f(r)); so back: (l', r') -> (r' ^ f(l'), l').
        let f = round_fn(key, list, round, l, mask);
        (l, r) = (r ^ f, l);
    }
    (l << half) | r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_is_a_permutation_of_its_slots() {
        for size in [16i64, 20, 100, 1000, 1024, 4096, 5000] {
            let mut seen = vec![false; usize::try_from(size).unwrap()];
            for g in size..2 * size {
                let (list, idx) = position(b"key", g, size);
                assert_eq!(list, 1);
                let i = usize::try_from(idx).unwrap();
                assert!(!seen[i], "size {size}: index {idx} given twice");
                seen[i] = true;
            }
            assert!(seen.iter().all(|s| *s), "size {size}: not every index used");
        }
    }

    #[test]
    fn counter_inverts_position() {
        for size in [16i64, 20, 100, 1000, 1024, 5000, 131_072] {
            for g in (0..3 * size).step_by(usize::try_from(size / 16).unwrap().max(1)) {
                let (list, idx) = position(b"key", g, size);
                assert_eq!(
                    counter(b"key", list, idx, size),
                    Some(g),
                    "size {size}, g {g}"
                );
            }
        }
        assert_eq!(counter(b"key", 0, 16, 16), None);
        assert_eq!(counter(b"key", 0, -1, 16), None);
        assert_eq!(counter(b"key", -1, 0, 16), None);
    }

    #[test]
    fn indices_do_not_follow_issuing_order() {
        let first: Vec<i64> = (0..10).map(|g| position(b"key", g, 131_072).1).collect();
        assert_ne!(first, (0..10).collect::<Vec<_>>());
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_ne!(first, sorted, "{first:?}");
        // Another key, another order; another list, another order.
        let other: Vec<i64> = (0..10).map(|g| position(b"other", g, 131_072).1).collect();
        assert_ne!(first, other);
        let next_list: Vec<i64> = (131_072..131_082)
            .map(|g| position(b"key", g, 131_072).1)
            .collect();
        assert_ne!(first, next_list);
    }
}
