//! The national-cryptography suite against its standards:
//!
//! - GB/T 32905-2016 (SM3), the two examples of its Appendix A;
//! - GB/T 32918.2-2016 (SM2 signatures), the worked example of Appendix A
//!   (the Fp-256 example curve, ID `ALICE123@YAHOO.COM`, the message
//!   `message digest`, the fixed random `k`): a reference implementation of
//!   the standard's equations, written here over big integers, reproduces
//!   the published `r` and `s`;
//! - the same reference implementation on the recommended curve
//!   (GB/T 32918.5) and the signer ID of `specs/credential-format.md` §9
//!   checks the crate both ways over a JWS signing input: it verifies what
//!   `Sm2Signer` signs, and the library verifies what it signs.
#![cfg(feature = "sm")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use num_bigint::BigUint;
use sm3::{Digest as _, Sm3};
use tongban_verifier::encoding::b64_encode;
use tongban_verifier::keys::SM2_SIGNER_ID;
use tongban_verifier::{Algorithm, PublicKey, Signer as _, Sm2Signer};

fn hex(s: &str) -> BigUint {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    BigUint::parse_bytes(clean.as_bytes(), 16).unwrap()
}

/// 32 bytes, big-endian.
fn be32(x: &BigUint) -> [u8; 32] {
    let b = x.to_bytes_be();
    let mut out = [0u8; 32];
    out[32 - b.len()..].copy_from_slice(&b);
    out
}

struct Curve {
    p: BigUint,
    a: BigUint,
    b: BigUint,
    n: BigUint,
    g: (BigUint, BigUint),
}

type Point = Option<(BigUint, BigUint)>;

impl Curve {
    fn inv(&self, x: &BigUint, m: &BigUint) -> BigUint {
        x.modpow(&(m - 2u32), m)
    }

    fn add(&self, p1: &Point, p2: &Point) -> Point {
        let (Some((x1, y1)), Some((x2, y2))) = (p1, p2) else {
            return p1.clone().or_else(|| p2.clone());
        };
        let p = &self.p;
        let lambda = if x1 == x2 {
            if (y1 + y2) % p == BigUint::ZERO {
                return None;
            }
            (BigUint::from(3u32) * x1 * x1 + &self.a) * self.inv(&(BigUint::from(2u32) * y1), p) % p
        } else {
            ((y2 + p - y1) % p) * self.inv(&((x2 + p - x1) % p), p) % p
        };
        let x3 = (&lambda * &lambda + p + p - x1 - x2) % p;
        let y3 = (&lambda * ((x1 + p - &x3) % p) + p - y1) % p;
        Some((x3, y3))
    }

    fn mul(&self, k: &BigUint, pt: &Point) -> Point {
        let mut acc: Point = None;
        for i in (0..k.bits()).rev() {
            acc = self.add(&acc, &acc);
            if k.bit(i) {
                acc = self.add(&acc, pt);
            }
        }
        acc
    }

    /// Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GB/T 32918.2 §5.5).
    fn z(&self, id: &str, public: &(BigUint, BigUint)) -> [u8; 32] {
        let mut h = Sm3::new();
        h.update(((id.len() * 8) as u16).to_be_bytes());
        h.update(id.as_bytes());
        for v in [&self.a, &self.b, &self.g.0, &self.g.1, &public.0, &public.1] {
            h.update(be32(v));
        }
        h.finalize().into()
    }

    fn e(&self, id: &str, public: &(BigUint, BigUint), msg: &[u8]) -> BigUint {
        let mut h = Sm3::new();
        h.update(self.z(id, public));
        h.update(msg);
        BigUint::from_bytes_be(&h.finalize())
    }

    /// GB/T 32918.2 §6.1, A1–A7, with the given k.
    fn sign(&self, d: &BigUint, id: &str, msg: &[u8], k: &BigUint) -> (BigUint, BigUint) {
        let n = &self.n;
        let public = self.mul(d, &Some(self.g.clone())).unwrap();
        let e = self.e(id, &public, msg);
        let (x1, _) = self.mul(k, &Some(self.g.clone())).unwrap();
        let r = (e + x1) % n;
        let s = self.inv(&((BigUint::from(1u32) + d) % n), n) * ((k + n - (&r * d) % n) % n) % n;
        (r, s)
    }

    /// GB/T 32918.2 §7.1, B1–B7.
    fn verify(
        &self,
        public: &(BigUint, BigUint),
        id: &str,
        msg: &[u8],
        r: &BigUint,
        s: &BigUint,
    ) -> bool {
        let n = &self.n;
        let zero = BigUint::ZERO;
        if *r == zero || r >= n || *s == zero || s >= n {
            return false;
        }
        let e = self.e(id, public, msg);
        let t = (r + s) % n;
        if t == zero {
            return false;
        }
        let sum = self.add(
            &self.mul(s, &Some(self.g.clone())),
            &self.mul(&t, &Some(public.clone())),
        );
        let Some((x1, _)) = sum else { return false };
        (e + x1) % n == *r
    }
}

/// The example curve of GB/T 32918.2-2016 Appendix A (Fp-256).
fn example_curve() -> Curve {
    Curve {
        p: hex("8542D69E 4C044F18 E8B92435 BF6FF7DE 45728391 5C45517D 722EDB8B 08F1DFC3"),
        a: hex("787968B4 FA32C3FD 2417842E 73BBFEFF 2F3C848B 6831D7E0 EC65228B 3937E498"),
        b: hex("63E4C6D3 B23B0C84 9CF84241 484BFE48 F61D59A5 B16BA06E 6E12D1DA 27C5249A"),
        n: hex("8542D69E 4C044F18 E8B92435 BF6FF7DD 29772063 0485628D 5AE74EE7 C32E79B7"),
        g: (
            hex("421DEBD6 1B62EAB6 746434EB C3CC315E 32220B3B ADD50BDC 4C4E6C14 7FEDD43D"),
            hex("0680512B CBB42C07 D47349D2 153B70C4 E5D7FDFC BFA36EA1 A85841B9 E46E09A2"),
        ),
    }
}

/// The recommended curve of GB/T 32918.5-2017 (SM2P256V1).
fn recommended_curve() -> Curve {
    Curve {
        p: hex("FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 00000000 FFFFFFFF FFFFFFFF"),
        a: hex("FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 00000000 FFFFFFFF FFFFFFFC"),
        b: hex("28E9FA9E 9D9F5E34 4D5A9E4B CF6509A7 F39789F5 15AB8F92 DDBCBD41 4D940E93"),
        n: hex("FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF 7203DF6B 21C6052B 53BBF409 39D54123"),
        g: (
            hex("32C4AE2C 1F198119 5F990446 6A39C994 8FE30BBF F2660BE1 715A4589 334C74C7"),
            hex("BC3736A2 F4F6779C 59BDCEE3 6B692153 D0A9877C C62A4740 02DF32E5 2139F0A0"),
        ),
    }
}

#[test]
fn gbt_32905_sm3_example_1_abc() {
    assert_eq!(
        Sm3::digest(b"abc").to_vec(),
        hex("66C7F0F4 62EEEDD9 D1F2D46B DC10E4E2 4167C487 5CF2F7A2 297DA02B 8F4BA8E0")
            .to_bytes_be()
    );
}

#[test]
fn gbt_32905_sm3_example_2_512_bits() {
    assert_eq!(
        Sm3::digest("abcd".repeat(16).as_bytes()).to_vec(),
        hex("DEBE9FF9 2275B8A1 38604889 C18E5A4D 6FDB70E5 387E5765 293DCBA3 9C0C5732")
            .to_bytes_be()
    );
}

#[test]
fn sm3_sd_alg_digest_is_base64url_sm3() {
    use tongban_verifier::SdAlg;
    assert_eq!(
        SdAlg::Sm3.digest_b64("abc"),
        b64_encode(Sm3::digest(b"abc"))
    );
    assert_eq!(SdAlg::from_name("sm3"), Some(SdAlg::Sm3));
    assert_eq!(SdAlg::from_name("SM3"), None);
}

#[test]
fn gbt_32918_2_appendix_a_signature_example() {
    let c = example_curve();
    let id = "ALICE123@YAHOO.COM";
    let d = hex("128B2FA8 BD433C6C 068C8D80 3DFF7979 2A519A55 171B1B65 0C23661D 15897263");
    let k = hex("6CB28D99 385C175C 94F94E93 4817663F C176D925 DD72B727 260DBAAE 1FB2F96F");
    let public = c.mul(&d, &Some(c.g.clone())).unwrap();
    assert_eq!(
        public.0,
        hex("0AE4C779 8AA0F119 471BEE11 825BE462 02BB79E2 A5844495 E97C04FF 4DF2548A")
    );
    assert_eq!(
        public.1,
        hex("7C0240F8 8F1CD4E1 6352A73C 17B7F16F 07353E53 A176D684 A9FE0C6B B798E857")
    );
    let (r, s) = c.sign(&d, id, b"message digest", &k);
    assert_eq!(
        r,
        hex("40F1EC59 F793D9F4 9E09DCEF 49130D41 94F79FB1 EED2CAA5 5BACDB49 C4E755D1")
    );
    assert_eq!(
        s,
        hex("6FC6DAC3 2C5D5CF1 0C77DFB2 0F7C2EB6 67A45787 2FB09EC5 6327A67E C7DEEBE7")
    );
    assert!(c.verify(&public, id, b"message digest", &r, &s));
    assert!(!c.verify(&public, id, b"message digesT", &r, &s));
    assert!(!c.verify(&public, "1234567812345678", b"message digest", &r, &s));
}

/// A JWS signing input as Tongban signs it.
const SIGNING_INPUT: &[u8] =
    b"eyJhbGciOiJTTTJTTTMiLCJ0eXAiOiJkYytzZC1qd3QiLCJraWQiOiJzbSJ9.eyJpc3MiOiJodHRwczovL2FtciJ9";

#[test]
fn our_sm2_signatures_verify_under_the_reference_on_the_recommended_curve() {
    let c = recommended_curve();
    let d_bytes = [0x3Au8; 32];
    let signer = Sm2Signer::from_bytes(&d_bytes, None).unwrap();
    let d = BigUint::from_bytes_be(&d_bytes);
    let public = c.mul(&d, &Some(c.g.clone())).unwrap();
    let jwk = signer.public_key().to_jwk();
    assert_eq!(jwk["x"], b64_encode(be32(&public.0)), "same public key");
    assert_eq!(jwk["y"], b64_encode(be32(&public.1)));
    let sig = signer.sign(SIGNING_INPUT).unwrap();
    let (r, s) = (
        BigUint::from_bytes_be(&sig[..32]),
        BigUint::from_bytes_be(&sig[32..]),
    );
    assert!(c.verify(&public, SM2_SIGNER_ID, SIGNING_INPUT, &r, &s));
    assert!(
        !c.verify(&public, "ALICE123@YAHOO.COM", SIGNING_INPUT, &r, &s),
        "ID is in Z"
    );
}

#[test]
fn reference_sm2_signatures_verify_with_the_library() {
    let c = recommended_curve();
    let d = hex("3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8");
    let k = hex("59276E27 D506861A 16680F3A D9C02DCC EF3CC1FA 3CDBE4CE 6D54B80D EAC1BC21");
    let public = c.mul(&d, &Some(c.g.clone())).unwrap();
    let jwk = serde_json::json!({
        "kty": "EC", "crv": "SM2",
        "x": b64_encode(be32(&public.0)), "y": b64_encode(be32(&public.1)),
    });
    let key = PublicKey::from_jwk(&jwk).unwrap();
    let (r, s) = c.sign(&d, SM2_SIGNER_ID, SIGNING_INPUT, &k);
    let sig = [be32(&r), be32(&s)].concat();
    assert!(key.verify(Algorithm::Sm2Sm3, SIGNING_INPUT, &sig));
    assert!(!key.verify(Algorithm::Es256, SIGNING_INPUT, &sig));
    let mut tampered = SIGNING_INPUT.to_vec();
    tampered[0] ^= 1;
    assert!(!key.verify(Algorithm::Sm2Sm3, &tampered, &sig));
    // Signed with another ID, the signature is not ours.
    let (r2, s2) = c.sign(&d, "ALICE123@YAHOO.COM", SIGNING_INPUT, &k);
    assert!(!key.verify(
        Algorithm::Sm2Sm3,
        SIGNING_INPUT,
        &[be32(&r2), be32(&s2)].concat()
    ));
}
