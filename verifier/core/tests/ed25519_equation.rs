//! Tongban's Ed25519 equation (`tongban_verifier::ed25519`: canonical
//! encodings, no small-order `A` or `R`, canonical `S`, cofactored) against
//! ed25519-dalek's `verify_strict`, and single against batch verification.
//!
//! * Speccheck-style edge cases (the categories of "Taming the many
//!   EdDSAs", Chalkias, Garillot and Nikolaenko, 2020), built here from a
//!   known secret scalar and the curve's torsion points: each case's verdict
//!   is fixed for both verifiers, so every difference between them is listed
//!   and explained (`docs/security.md`, "Ed25519: one equation").
//! * A differential run over random keys, messages and signatures, honest
//!   and mutated: the two verifiers must agree on every one.
//! * Batches: a batch passes exactly when each of its signatures passes alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand::rngs::StdRng;
use rand::{Rng as _, RngCore as _, SeedableRng as _};
use sha2::{Digest as _, Sha512};
use tongban_verifier::ed25519::{Prepared, canonical_point, verify_batch};
use tongban_verifier::{Algorithm, PublicKey, encoding::b64_encode};

/// Tongban's verdict: the key through the JWK parser, the signature through
/// `PublicKey::verify`.
fn tongban(a: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": b64_encode(a)});
    PublicKey::from_jwk(&jwk).is_ok_and(|k| k.verify(Algorithm::EdDsa, msg, sig))
}

/// ed25519-dalek's `verify_strict` verdict.
fn strict(a: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    VerifyingKey::from_bytes(a).is_ok_and(|k| {
        k.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig))
            .is_ok()
    })
}

fn k_of(r: &[u8; 32], a: &[u8; 32], msg: &[u8]) -> Scalar {
    let h = Sha512::new()
        .chain_update(r)
        .chain_update(a)
        .chain_update(msg)
        .finalize();
    Scalar::from_bytes_mod_order_wide(&h.into())
}

fn sig_bytes(r: &[u8; 32], s: &[u8; 32]) -> [u8; 64] {
    let mut sig = [0; 64];
    sig[..32].copy_from_slice(r);
    sig[32..].copy_from_slice(s);
    sig
}

/// The order-8 point `T` (`EIGHT_TORSION[1]`) times `j`.
fn torsion(j: u8) -> EdwardsPoint {
    EIGHT_TORSION[usize::from(j % 8)]
}

/// A signature by the secret scalar `a` on `msg` for the key
/// `A = aB + [ja]T` with nonce point `R = rB + [jr]T`: `S = r + k·a`.
/// Returns `(A, sig, cofactorless equation holds)`.
fn torsioned(rng: &mut StdRng, ja: u8, jr: u8, msg: &[u8]) -> ([u8; 32], [u8; 64], bool) {
    let a = Scalar::from(rng.r#gen::<u128>()) * Scalar::from(rng.r#gen::<u128>());
    let r = Scalar::from(rng.r#gen::<u128>()) * Scalar::from(rng.r#gen::<u128>());
    let big_a = (a * B + torsion(ja)).compress().to_bytes();
    let big_r = (r * B + torsion(jr)).compress().to_bytes();
    let k = k_of(&big_r, &big_a, msg);
    let s = r + k * a;
    // [S]B − [k]A = rB − [k·ja]T, which is R when jr + k·ja ≡ 0 (mod 8);
    // k is reduced mod ℓ first, as every verifier here does.
    let k_mod_8 = k.as_bytes()[0] % 8;
    let cofactorless = (u32::from(jr) + u32::from(k_mod_8) * u32::from(ja)) % 8 == 0;
    (big_a, sig_bytes(&big_r, s.as_bytes()), cofactorless)
}

/// Draws until the cofactorless equation holds (`want`) or fails.
fn torsioned_until(rng: &mut StdRng, ja: u8, jr: u8, want: bool) -> ([u8; 32], Vec<u8>, [u8; 64]) {
    loop {
        let msg: Vec<u8> = (0..16).map(|_| rng.r#gen()).collect();
        let (a, sig, cofactorless) = torsioned(rng, ja, jr, &msg);
        if cofactorless == want {
            return (a, msg, sig);
        }
    }
}

/// The first `y` in `2..19` that encodes a point which is not of small
/// order: its non-canonical encoding is `y + p`.
fn non_canonical_encoding() -> [u8; 32] {
    for y in 2u8..19 {
        let mut canonical = [0u8; 32];
        canonical[0] = y;
        if let Some(p) = CompressedEdwardsY(canonical).decompress()
            && !p.is_small_order()
        {
            // y + p = y + 2²⁵⁵ − 19: low byte y − 19 + 256 = y + 237, then
            // all ff, top byte 7f.
            let mut enc = [0xffu8; 32];
            enc[0] = y + 237;
            enc[31] = 0x7f;
            assert_eq!(CompressedEdwardsY(enc).decompress(), Some(p));
            return enc;
        }
    }
    panic!("no small y encodes a point")
}

struct Case {
    name: &'static str,
    a: [u8; 32],
    msg: Vec<u8>,
    sig: [u8; 64],
    tongban: bool,
    strict: bool,
}

fn cases() -> Vec<Case> {
    let mut rng = StdRng::seed_from_u64(215);
    let mut out = Vec::new();
    let msg = b"speccheck".to_vec();

    // 0. Small-order A and R, S = 0: passes every equation.
    let (a, r) = (
        torsion(1).compress().to_bytes(),
        torsion(2).compress().to_bytes(),
    );
    out.push(Case {
        name: "small-order A, small-order R, S = 0",
        a,
        msg: msg.clone(),
        sig: sig_bytes(&r, &[0; 32]),
        tongban: false,
        strict: false,
    });
    // 1. Small-order A, mixed-order R, cofactored equation holds.
    let r_scalar = Scalar::from(7u64);
    let r_point = (r_scalar * B + torsion(3)).compress().to_bytes();
    out.push(Case {
        name: "small-order A, mixed-order R",
        a,
        msg: msg.clone(),
        sig: sig_bytes(&r_point, r_scalar.as_bytes()),
        tongban: false,
        strict: false,
    });
    // 2. Mixed-order A, small-order R: S = k·a.
    let a_scalar = Scalar::from(11u64);
    let a_mixed = (a_scalar * B + torsion(1)).compress().to_bytes();
    let r_small = torsion(4).compress().to_bytes();
    let s = k_of(&r_small, &a_mixed, &msg) * a_scalar;
    out.push(Case {
        name: "mixed-order A, small-order R",
        a: a_mixed,
        msg: msg.clone(),
        sig: sig_bytes(&r_small, s.as_bytes()),
        tongban: false,
        strict: false,
    });
    // 3. Mixed-order A and R, the cofactorless equation holds.
    let (a3, m3, s3) = torsioned_until(&mut rng, 1, 5, true);
    out.push(Case {
        name: "mixed-order A, mixed-order R, cofactorless holds",
        a: a3,
        msg: m3,
        sig: s3,
        tongban: true,
        strict: true,
    });
    // 4. Mixed-order A and R, only the cofactored equation holds: the
    //    first of the two documented differences.
    let (a4, m4, s4) = torsioned_until(&mut rng, 1, 5, false);
    out.push(Case {
        name: "mixed-order A, mixed-order R, only cofactored holds",
        a: a4,
        msg: m4,
        sig: s4,
        tongban: true,
        strict: false,
    });
    // 4b. An honest (torsion-free) key, R with a torsion component: the
    //     second form of the same difference; only the key's owner can
    //     make it.
    let (a4b, m4b, s4b) = torsioned_until(&mut rng, 0, 3, false);
    out.push(Case {
        name: "torsion-free A, mixed-order R, only cofactored holds",
        a: a4b,
        msg: m4b,
        sig: s4b,
        tongban: true,
        strict: false,
    });
    // 5. An honest signature, then S + ℓ and S with the top bit set.
    let key = SigningKey::from_bytes(&[9; 32]);
    let honest = key.sign(&msg).to_bytes();
    let a5 = key.verifying_key().to_bytes();
    out.push(Case {
        name: "honest signature",
        a: a5,
        msg: msg.clone(),
        sig: honest,
        tongban: true,
        strict: true,
    });
    let s5 = Scalar::from_canonical_bytes(honest[32..].try_into().unwrap()).unwrap();
    let mut s_plus_l = [0u8; 32];
    // S + ℓ as a 256-bit integer (S < ℓ < 2²⁵³, so it fits).
    let l: [u8; 32] = (Scalar::ZERO - Scalar::ONE).to_bytes();
    let mut carry = 1u16; // ℓ = (ℓ − 1) + 1
    for (i, out_byte) in s_plus_l.iter_mut().enumerate() {
        let sum = u16::from(s5.as_bytes()[i]) + u16::from(l[i]) + carry;
        *out_byte = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    out.push(Case {
        name: "S + ℓ",
        a: a5,
        msg: msg.clone(),
        sig: sig_bytes(honest[..32].try_into().unwrap(), &s_plus_l),
        tongban: false,
        strict: false,
    });
    let mut s_high = honest;
    s_high[63] |= 0x80;
    out.push(Case {
        name: "S with the top bit set",
        a: a5,
        msg: msg.clone(),
        sig: s_high,
        tongban: false,
        strict: false,
    });
    // 6. Non-canonical R: the identity as y = 1 + p, with S = k·a for a
    //    mixed-order A (ZIP 215 would accept it).
    let mut one_plus_p = [0xffu8; 32];
    one_plus_p[0] = 0xee;
    one_plus_p[31] = 0x7f;
    let s = k_of(&one_plus_p, &a_mixed, &msg) * a_scalar;
    out.push(Case {
        name: "non-canonical R (the identity as y = 1 + p)",
        a: a_mixed,
        msg: msg.clone(),
        sig: sig_bytes(&one_plus_p, s.as_bytes()),
        tongban: false,
        strict: false,
    });
    // 7. Non-canonical R of a point that is not of small order.
    let enc = non_canonical_encoding();
    out.push(Case {
        name: "non-canonical R (y + p)",
        a: a5,
        msg: msg.clone(),
        sig: sig_bytes(&enc, &honest[32..].try_into().unwrap()),
        tongban: false,
        strict: false,
    });
    // 8. Non-canonical A: the identity as y = 1 + p, and a point that is
    //    not of small order.
    out.push(Case {
        name: "non-canonical A (the identity as y = 1 + p)",
        a: one_plus_p,
        msg: msg.clone(),
        sig: sig_bytes(&torsion(0).compress().to_bytes(), &[0; 32]),
        tongban: false,
        strict: false,
    });
    out.push(Case {
        name: "non-canonical A (y + p)",
        a: enc,
        msg,
        sig: honest,
        tongban: false,
        strict: false,
    });
    out
}

#[test]
fn speccheck_style_cases_have_the_documented_verdicts() {
    let all = cases();
    for c in &all {
        assert_eq!(
            (tongban(&c.a, &c.msg, &c.sig), strict(&c.a, &c.msg, &c.sig)),
            (c.tongban, c.strict),
            "{}: (tongban, verify_strict)",
            c.name
        );
    }
    // The differences are exactly the two "only cofactored holds" cases.
    let differ: Vec<&str> = all
        .iter()
        .filter(|c| c.tongban != c.strict)
        .map(|c| c.name)
        .collect();
    assert_eq!(
        differ,
        [
            "mixed-order A, mixed-order R, only cofactored holds",
            "torsion-free A, mixed-order R, only cofactored holds"
        ]
    );
    // The non-canonical encoding decodes (ed25519-dalek accepts it as a
    // key) and is refused by Tongban's rule.
    assert!(
        CompressedEdwardsY(non_canonical_encoding())
            .decompress()
            .is_some()
    );
    assert!(canonical_point(&non_canonical_encoding()).is_none());
}

#[test]
fn a_batch_passes_exactly_when_each_signature_passes_alone() {
    let key = SigningKey::from_bytes(&[5; 32]);
    let honest = key.sign(b"batch").to_bytes();
    let honest = Prepared::new(&key.verifying_key(), b"batch", &honest).unwrap();
    for c in cases() {
        let Ok(vk) = VerifyingKey::from_bytes(&c.a) else {
            continue;
        };
        let Some(p) = Prepared::new(&vk, &c.msg, &c.sig) else {
            // Undecodable: refused before any equation, in both modes.
            assert!(!c.tongban, "{}", c.name);
            continue;
        };
        assert_eq!(p.verify(), c.tongban, "{} alone", c.name);
        for batch in [
            vec![honest, p],
            vec![p, honest],
            vec![honest, p, honest, honest],
        ] {
            assert_eq!(verify_batch(&batch), c.tongban, "{} in a batch", c.name);
        }
    }
}

#[test]
fn tongban_and_verify_strict_agree_on_random_and_mutated_signatures() {
    let mut rng = StdRng::seed_from_u64(8032);
    let mut batch = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for i in 0..64 {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let key = SigningKey::from_bytes(&seed);
        let a = key.verifying_key().to_bytes();
        let msg: Vec<u8> = (0..rng.gen_range(0..200)).map(|_| rng.r#gen()).collect();
        let sig = key.sign(&msg).to_bytes();
        let mut variants = vec![(a, msg.clone(), sig)];
        // One flipped bit in the signature, the message or the key.
        let mut s = sig;
        s[rng.gen_range(0..64)] ^= 1 << rng.gen_range(0..8);
        variants.push((a, msg.clone(), s));
        if !msg.is_empty() {
            let mut m = msg.clone();
            let at = rng.gen_range(0..m.len());
            m[at] ^= 1;
            variants.push((a, m, sig));
        }
        let mut k = a;
        k[rng.gen_range(0..32)] ^= 1 << rng.gen_range(0..8);
        variants.push((k, msg.clone(), sig));
        // Random bytes for the whole signature, and for the key.
        let mut garbage = [0u8; 64];
        rng.fill_bytes(&mut garbage);
        variants.push((a, msg.clone(), garbage));
        let mut random_key = [0u8; 32];
        rng.fill_bytes(&mut random_key);
        variants.push((random_key, msg, sig));
        for (a, m, s) in &variants {
            let verdict = tongban(a, m, s);
            assert_eq!(verdict, strict(a, m, s), "run {i}: key {a:?} sig {s:?}");
            if verdict {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
        if i % 4 == 0 {
            batch.push(Prepared::new(&key.verifying_key(), &variants[0].1, &sig).unwrap());
        }
    }
    assert_eq!(accepted, 64);
    assert!(rejected > 250);
    assert!(verify_batch(&batch));
}
