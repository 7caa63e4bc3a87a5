//! Any text as a signed trust list: refused with a code, never a panic,
//! never accepted without the anchor's signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_verifier::KeyWithId;
use tongban_verifier::trust::VerifiedTrustList;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let jwk = serde_json::json!({"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    let Ok(anchor) = KeyWithId::from_jwk(&jwk) else { return };
    assert!(VerifiedTrustList::verify(text, &[anchor], Some(1)).is_err());
});
