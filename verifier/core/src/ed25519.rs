//! Ed25519 signature verification: one equation for single signatures and
//! batches, so that both accept exactly the same inputs.
//!
//! A signature `(R, S)` on `M` under the key `A` is accepted when
//!
//! 1. `A` is a canonical encoding (`y < p`) of a curve point that is not of
//!    small order (checked when the key is parsed, [`canonical_key`]);
//! 2. `R` is a canonical encoding of a curve point that is not of small
//!    order;
//! 3. `S` is canonical (`S < ℓ`);
//! 4. the cofactored equation `[8]([S]B − R − [k]A) = 0` holds, with
//!    `k = SHA-512(R ‖ A ‖ M) mod ℓ` over the encodings as given.
//!
//! This is ZIP 215's equation with RFC 8032's encoding rules and the
//! small-order refusals of `verify_strict` added. A batch checks the sum of
//! the equations weighted by 128-bit coefficients derived from a hash of
//! everything in the batch (Fiat–Shamir: they are fixed only after the
//! inputs are), times the cofactor. Because the single check is cofactored
//! too, a batch passes exactly when every signature in it would pass alone
//! (up to the 2⁻¹²⁸ chance of a coefficient cancelling an error), which a
//! cofactorless single check cannot offer. `docs/security.md` ("Ed25519:
//! one equation") gives the argument and how this set differs from
//! ed25519-dalek's `verify_strict`.

use std::collections::HashMap;
use std::sync::OnceLock;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint, VartimeEdwardsPrecomputation};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity as _, VartimePrecomputedMultiscalarMul as _};
use sha2::{Digest as _, Sha512};

/// The point of a canonical encoding: `None` when the encoded `y` is not
/// below `p = 2²⁵⁵ − 19`, when no curve point has that `y`, or when the
/// point is of small order. (The only other non-canonical encodings, `x = 0`
/// with the sign bit set, have `y = ±1`, which are small-order points.)
pub fn canonical_point(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    if !y_is_canonical(bytes) || encodes_small_order(bytes) {
        return None;
    }
    CompressedEdwardsY(*bytes).decompress()
}

/// Whether a key's encoding passes [`canonical_point`]'s rules (used when a
/// key is parsed, so that signature checks need not repeat it).
pub fn canonical_key(key: &ed25519_dalek::VerifyingKey) -> bool {
    y_is_canonical(key.as_bytes()) && !encodes_small_order(key.as_bytes())
}

/// Every encoding with `y < p` that decodes to a point of small order: the
/// eight points of order 1, 2, 4 and 8 (`E(𝔽ₚ) ≅ ℤ/8 × ℤ/ℓ`, so there are
/// exactly eight), each canonically encoded, and the two whose `x = 0`
/// allows the sign bit to be set as well (`y = 1` and `y = −1`). Comparing
/// the 32 bytes replaces decoding and multiplying by the cofactor; the
/// tests prove the list against curve25519-dalek's `is_small_order`.
const SMALL_ORDER_ENCODINGS: [[u8; 32]; 10] = [
    // y = 1: the identity (order 1), sign bit clear and set.
    hex32("0100000000000000000000000000000000000000000000000000000000000000"),
    hex32("0100000000000000000000000000000000000000000000000000000000000080"),
    // y = −1 (order 2), sign bit clear and set.
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
    // y = 0, x = ±√−1 (order 4).
    hex32("0000000000000000000000000000000000000000000000000000000000000000"),
    hex32("0000000000000000000000000000000000000000000000000000000000000080"),
    // The four points of order 8.
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
];

/// Whether `bytes` is one of [`SMALL_ORDER_ENCODINGS`].
fn encodes_small_order(bytes: &[u8; 32]) -> bool {
    SMALL_ORDER_ENCODINGS.contains(bytes)
}

/// 32 bytes from 64 hexadecimal digits. Only used for constants, so a
/// wrong digit stops the build rather than a run.
#[allow(clippy::panic)]
const fn hex32(hex: &str) -> [u8; 32] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hexadecimal digit"),
        }
    }
    let hex = hex.as_bytes();
    assert!(hex.len() == 64, "64 hexadecimal digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (digit(hex[2 * i]) << 4) | digit(hex[2 * i + 1]);
        i += 1;
    }
    out
}

/// `y < p`, where `y` is the low 255 bits of `bytes` (little-endian). The
/// encodings of `y ≥ p` are `ed ff … ff 7f` to `ff ff … ff 7f` (with or
/// without the sign bit): the top byte's low 7 bits all set, every middle
/// byte `ff`, and the first byte at least `0xed`.
fn y_is_canonical(bytes: &[u8; 32]) -> bool {
    !(bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff) && bytes[0] >= 0xed)
}

/// One signature ready for the equation: `R` decoded and checked, `S`
/// canonical, `k` computed.
#[derive(Clone, Copy)]
pub struct Prepared {
    r: EdwardsPoint,
    r_bytes: [u8; 32],
    s: Scalar,
    s_bytes: [u8; 32],
    k: Scalar,
    a: EdwardsPoint,
    a_bytes: [u8; 32],
}

impl Prepared {
    /// Decodes `signature` (64 bytes `R ‖ S`) for `key` and `message`; `None`
    /// when it can never verify (wrong length, non-canonical `R` or `S`,
    /// small-order `R`, or a key that fails [`canonical_key`]: checked here
    /// too, for keys built without the JWK parser).
    pub fn new(
        key: &ed25519_dalek::VerifyingKey,
        message: &[u8],
        signature: &[u8],
    ) -> Option<Prepared> {
        if !canonical_key(key) {
            return None;
        }
        let sig: &[u8; 64] = signature.try_into().ok()?;
        let (r_half, s_half) = sig.split_at(32);
        let r_bytes: [u8; 32] = r_half.try_into().ok()?;
        let s_bytes: [u8; 32] = s_half.try_into().ok()?;
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
        let r = canonical_point(&r_bytes)?;
        let a_bytes = key.to_bytes();
        let mut h = Sha512::new();
        h.update(r_bytes);
        h.update(a_bytes);
        h.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        Some(Prepared {
            r,
            r_bytes,
            s,
            s_bytes,
            k,
            a: key.to_edwards(),
            a_bytes,
        })
    }

    /// The single check: `[8]([S]B − R − [k]A) = 0`.
    pub fn verify(&self) -> bool {
        let sb_minus_ka =
            EdwardsPoint::vartime_double_scalar_mul_basepoint(&-self.k, &self.a, &self.s);
        (sb_minus_ka - self.r).mul_by_cofactor().is_identity()
    }
}

/// The basepoint's table for the batch equation, built once.
fn basepoint_table() -> &'static VartimeEdwardsPrecomputation {
    static TABLE: OnceLock<VartimeEdwardsPrecomputation> = OnceLock::new();
    TABLE.get_or_init(|| VartimeEdwardsPrecomputation::new([ED25519_BASEPOINT_POINT]))
}

/// From this many dynamic points on, Pippenger's method (where
/// curve25519-dalek itself switches from Straus's).
const PIPPENGER_FROM_POINTS: usize = 190;

/// The batch check: `[8] Σ zᵢ([Sᵢ]B − Rᵢ − [kᵢ]Aᵢ) = 0`, with `z₀ = 1` and
/// the other `zᵢ` 128-bit values from SHA-512 over every `R`, `S`, `A` and
/// `k` of the batch (`k` binds the message). `true` for an empty batch.
///
/// The sum is the same group element however its terms are grouped, so
/// the verdict does not depend on how it is computed; two groupings make it
/// cheaper:
/// - each `Rᵢ` enters as `zᵢ(−Rᵢ)`: the scalar stays `zᵢ` (128 bits)
///   instead of `−zᵢ mod ℓ` (253 bits), which halves that point's
///   additions; `R₀` (with `z₀ = 1`) is subtracted once from the sum;
/// - signatures under the same key share one term, `(Σ zᵢkᵢ)(−A)`: a batch
///   of presentations from one issuer has one issuer-key point, not one per
///   presentation.
pub fn verify_batch(batch: &[Prepared]) -> bool {
    let Some((first, rest)) = batch.split_first() else {
        return true;
    };
    if rest.is_empty() {
        return first.verify();
    }
    let zs = coefficients(batch);
    let mut b_coefficient = Scalar::ZERO;
    let mut r_scalars = Vec::with_capacity(batch.len());
    let mut r_points = Vec::with_capacity(batch.len());
    let mut keys = KeyTerms::with_capacity(batch.len());
    for (i, (p, z)) in batch.iter().zip(&zs).enumerate() {
        b_coefficient += z * p.s;
        // `z₀ = 1`: the first `R` is subtracted from the sum below, not
        // given a table and a digit expansion in the multiplication.
        if i > 0 {
            r_scalars.push(*z);
            r_points.push(-p.r);
        }
        keys.add(&p.a_bytes, &p.a, z * p.k);
    }
    let (k_scalars, k_points) = keys.into_terms();
    let scalars = r_scalars.iter().chain(&k_scalars);
    let points = r_points.iter().chain(&k_points);
    let sum = if r_points.len() + k_points.len() >= PIPPENGER_FROM_POINTS {
        use curve25519_dalek::traits::VartimeMultiscalarMul as _;
        EdwardsPoint::vartime_multiscalar_mul(
            std::iter::once(&b_coefficient).chain(scalars),
            std::iter::once(&ED25519_BASEPOINT_POINT).chain(points),
        )
    } else {
        basepoint_table().vartime_mixed_multiscalar_mul([&b_coefficient], scalars, points)
    };
    (sum - first.r).mul_by_cofactor().is_identity()
}

/// The key terms of a batch, `(Σ zᵢkᵢ)(−A)` per distinct key encoding, in
/// the order the keys first appear.
struct KeyTerms {
    encodings: Vec<[u8; 32]>,
    points: Vec<EdwardsPoint>,
    scalars: Vec<Scalar>,
    /// Where each encoding is, once the batch has more keys than a linear
    /// search should walk.
    index: Option<HashMap<[u8; 32], usize>>,
}

/// Up to this many distinct keys, a key is found by comparing encodings.
const LINEAR_KEYS: usize = 8;

impl KeyTerms {
    fn with_capacity(n: usize) -> KeyTerms {
        KeyTerms {
            encodings: Vec::with_capacity(n),
            points: Vec::with_capacity(n),
            scalars: Vec::with_capacity(n),
            index: None,
        }
    }

    fn position(&self, encoding: &[u8; 32]) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(encoding).copied(),
            None => self.encodings.iter().position(|e| e == encoding),
        }
    }

    fn add(&mut self, encoding: &[u8; 32], point: &EdwardsPoint, scalar: Scalar) {
        if let Some(i) = self.position(encoding) {
            self.scalars[i] += scalar;
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(*encoding, self.encodings.len());
        } else if self.encodings.len() == LINEAR_KEYS {
            let mut index: HashMap<[u8; 32], usize> = self
                .encodings
                .iter()
                .enumerate()
                .map(|(i, e)| (*e, i))
                .collect();
            index.insert(*encoding, self.encodings.len());
            self.index = Some(index);
        }
        self.encodings.push(*encoding);
        self.points.push(-point);
        self.scalars.push(scalar);
    }

    fn into_terms(self) -> (Vec<Scalar>, Vec<EdwardsPoint>) {
        (self.scalars, self.points)
    }
}

/// `z₀ = 1`, then one 128-bit coefficient per further signature: four from
/// each 64-byte block, the first block being SHA-512 over the whole batch
/// (the seed) and block `j` SHA-512 over the seed and `j`.
fn coefficients(batch: &[Prepared]) -> Vec<Scalar> {
    let mut h = Sha512::new();
    h.update(b"tongban ed25519 batch v1");
    h.update((batch.len() as u64).to_le_bytes());
    for p in batch {
        h.update(p.r_bytes);
        h.update(p.s_bytes);
        h.update(p.a_bytes);
        h.update(p.k.as_bytes());
    }
    let seed = h.finalize();
    let mut zs = Vec::with_capacity(batch.len());
    zs.push(Scalar::ONE);
    let mut block = seed;
    let mut j = 0u64;
    loop {
        for chunk in block.chunks_exact(16) {
            if zs.len() == batch.len() {
                return zs;
            }
            let mut z = [0u8; 16];
            z.copy_from_slice(chunk);
            // A zero coefficient would leave its signature unchecked.
            zs.push(Scalar::from(u128::from_le_bytes(z).max(1)));
        }
        j += 1;
        block = Sha512::new()
            .chain_update(seed)
            .chain_update(j.to_le_bytes())
            .finalize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_at_or_above_p_is_not_canonical() {
        let mut p = [0xff; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(!y_is_canonical(&p));
        let mut below = p;
        below[0] = 0xec;
        assert!(y_is_canonical(&below));
        p[31] = 0xff; // sign bit set
        assert!(!y_is_canonical(&p));
        assert!(y_is_canonical(&[0; 32]));
    }

    #[test]
    fn coefficients_are_one_then_distinct() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let batch: Vec<Prepared> = (0u8..9)
            .map(|i| {
                use ed25519_dalek::Signer as _;
                let sig = key.sign(&[i]);
                Prepared::new(&key.verifying_key(), &[i], &sig.to_bytes()).unwrap()
            })
            .collect();
        let zs = coefficients(&batch);
        assert_eq!(zs.len(), 9);
        assert_eq!(zs[0], Scalar::ONE);
        for (i, a) in zs.iter().enumerate() {
            for b in &zs[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert!(verify_batch(&batch));
        assert!(batch.iter().all(Prepared::verify));
    }

    /// Signatures of many keys, some sharing a key, past the linear key
    /// search: the batch passes exactly when every signature passes alone,
    /// whichever signature is broken.
    #[test]
    fn grouped_keys_give_the_verdict_of_the_single_checks() {
        use ed25519_dalek::Signer as _;
        let keys: Vec<_> = (1u8..=12)
            .map(|i| ed25519_dalek::SigningKey::from_bytes(&[i; 32]))
            .collect();
        let signed: Vec<(usize, Vec<u8>, [u8; 64])> = (0..30usize)
            .map(|i| {
                let key = i % 3 * 5 % keys.len() + i % 7; // repeats and spread
                let key = key % keys.len();
                let msg = vec![i as u8; 1 + i % 5];
                (key, msg.clone(), keys[key].sign(&msg).to_bytes())
            })
            .collect();
        let prepare = |sigs: &[(usize, Vec<u8>, [u8; 64])]| -> Vec<Prepared> {
            sigs.iter()
                .map(|(k, m, s)| Prepared::new(&keys[*k].verifying_key(), m, s).unwrap())
                .collect()
        };
        assert!(verify_batch(&prepare(&signed)));
        for broken in [0, 1, 13, 29] {
            let mut sigs = signed.clone();
            sigs[broken].1.push(0xff); // the message no longer matches
            let batch = prepare(&sigs);
            assert!(!batch[broken].verify());
            assert!(!verify_batch(&batch), "signature {broken} broken");
            assert!(!verify_batch(&batch[..2.max(broken + 1)]));
        }
    }

    /// The list holds exactly the small-order encodings: each decodes to a
    /// point of small order, the eight canonical ones are distinct points
    /// closed under addition (so, being eight, the whole torsion
    /// subgroup), and for points with and without a torsion component the
    /// list agrees with curve25519-dalek's `is_small_order`.
    #[test]
    fn the_small_order_list_is_the_torsion_subgroup() {
        let torsion: Vec<EdwardsPoint> = SMALL_ORDER_ENCODINGS
            .iter()
            .map(|e| CompressedEdwardsY(*e).decompress().expect("a point"))
            .collect();
        assert!(torsion.iter().all(EdwardsPoint::is_small_order));
        let canonical: Vec<EdwardsPoint> = SMALL_ORDER_ENCODINGS
            .iter()
            .zip(&torsion)
            .filter(|(e, p)| p.compress().as_bytes() == *e)
            .map(|(_, p)| *p)
            .collect();
        assert_eq!(canonical.len(), 8);
        for (i, a) in canonical.iter().enumerate() {
            assert!(canonical[i + 1..].iter().all(|b| a != b));
            for b in &canonical {
                assert!(canonical.contains(&(a + b)));
            }
        }
        for seed in 0u8..40 {
            let p = ED25519_BASEPOINT_POINT * Scalar::from_bytes_mod_order([seed + 1; 32]);
            for t in &canonical {
                for q in [p + t, *t] {
                    let e = q.compress();
                    assert_eq!(encodes_small_order(e.as_bytes()), q.is_small_order());
                    assert_eq!(canonical_point(e.as_bytes()).is_some(), !q.is_small_order());
                }
            }
        }
    }
}
