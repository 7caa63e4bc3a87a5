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
    if !y_is_canonical(bytes) {
        return None;
    }
    let point = CompressedEdwardsY(*bytes).decompress()?;
    (!point.is_small_order()).then_some(point)
}

/// Whether a key's encoding passes [`canonical_point`]'s rules (used when a
/// key is parsed, so that signature checks need not repeat it).
pub fn canonical_key(key: &ed25519_dalek::VerifyingKey) -> bool {
    y_is_canonical(key.as_bytes()) && !key.is_weak()
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

/// Batches above this size use Pippenger's method (where curve25519-dalek
/// itself switches from Straus's): one dynamic point per `R` and per `A`.
const PIPPENGER_FROM_SIGNATURES: usize = 95;

/// The batch check: `[8] Σ zᵢ([Sᵢ]B − Rᵢ − [kᵢ]Aᵢ) = 0`, with `z₀ = 1` and
/// the other `zᵢ` 128-bit values from SHA-512 over every `R`, `S`, `A` and
/// `k` of the batch (`k` binds the message). `true` for an empty batch.
pub fn verify_batch(batch: &[Prepared]) -> bool {
    let Some((first, rest)) = batch.split_first() else {
        return true;
    };
    if rest.is_empty() {
        return first.verify();
    }
    let zs = coefficients(batch);
    let mut b_coefficient = Scalar::ZERO;
    let mut scalars = Vec::with_capacity(2 * batch.len());
    let mut points = Vec::with_capacity(2 * batch.len());
    for (p, z) in batch.iter().zip(&zs) {
        b_coefficient += z * p.s;
        scalars.push(-z);
        points.push(p.r);
        scalars.push(-(z * p.k));
        points.push(p.a);
    }
    let sum = if batch.len() >= PIPPENGER_FROM_SIGNATURES {
        use curve25519_dalek::traits::VartimeMultiscalarMul as _;
        EdwardsPoint::vartime_multiscalar_mul(
            std::iter::once(&b_coefficient).chain(&scalars),
            std::iter::once(&ED25519_BASEPOINT_POINT).chain(&points),
        )
    } else {
        basepoint_table().vartime_mixed_multiscalar_mul([&b_coefficient], &scalars, &points)
    };
    sum.mul_by_cofactor().is_identity()
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
}
