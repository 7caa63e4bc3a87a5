//! The SM2SM3 path (specs/credential-format.md §9): any bytes as an SM2
//! public JWK's coordinates, a signature and a message must never panic,
//! and never verify (no valid signature is found by chance); and any bytes
//! as a presentation signed `SM2SM3`-looking, checked against a pinned SM2
//! key, must never be accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_verifier::encoding::b64_encode;
use tongban_verifier::{Algorithm, InMemoryKeys, KeyWithId, Policy, PublicKey, verify_bytes};

/// A fixed SM2 public key (the corpus's `wj-sm2`).
const X: &str = "TrIOD_wwV9DsT5MXx5HqXK4kE_b58RAWW0yrdp9R6ag";
const Y: &str = "LBocEjS0_KbQ7c80ILFvV5kea9dK4BByF6yroN8h2To";

fuzz_target!(|data: &[u8]| {
    // Arbitrary coordinates: parsed strictly, never a panic.
    if data.len() >= 64 {
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "SM2",
            "x": b64_encode(&data[..32]), "y": b64_encode(&data[32..64]),
        });
        if let Ok(key) = PublicKey::from_jwk(&jwk) {
            let (sig, msg) = data[64..].split_at(data.len().saturating_sub(64).min(64));
            assert!(!key.verify(Algorithm::Sm2Sm3, msg, sig));
        }
    }
    let jwk = serde_json::json!({"kty": "EC", "crv": "SM2", "x": X, "y": Y, "kid": "wj-sm2"});
    let Ok(pinned) = KeyWithId::from_jwk(&jwk) else {
        return;
    };
    if let Some((sig, msg)) = data.split_first_chunk::<64>() {
        assert!(!pinned.key.verify(Algorithm::Sm2Sm3, msg, sig));
    }
    let mut keys = InMemoryKeys::new();
    keys.pin_for_any_issuer(pinned);
    let policy = Policy::counter(1_795_572_000, "https://counter.example", "n");
    assert!(!verify_bytes(data, &policy, &keys).is_accepted());
});
