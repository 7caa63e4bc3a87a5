//! Any bytes as a presentation: verification must return a report, never
//! panic, and never accept (no valid signature can be found by chance).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_verifier::{InMemoryKeys, KeyWithId, Policy, verify_bytes};

fuzz_target!(|data: &[u8]| {
    let jwk = serde_json::json!({"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "wj-1"});
    let mut keys = InMemoryKeys::new();
    if let Ok(k) = KeyWithId::from_jwk(&jwk) {
        keys.pin_for_any_issuer(k);
    }
    let report = verify_bytes(data, &Policy::counter(1_795_572_000, "https://counter.example", "n"), &keys);
    assert!(!report.is_accepted());
});
