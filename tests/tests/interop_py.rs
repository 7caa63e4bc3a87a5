//! Interoperability with the Python `sd-jwt` 0.10.4 library (OpenWallet
//! Foundation), pinned in `tests/interop/py/requirements.txt`:
//!
//! - Tongban's presentation verifies in the peer, with the same claims;
//! - the peer's Ed25519 credential and KB-JWT presentation verify in Tongban.
//!
//! The peer checks KB-JWTs with ES256 unless told otherwise; its driver
//! (`interop.py`) says `EdDSA` explicitly and documents why. Python 3 is
//! required (CI installs the packages with pip); without it these tests
//! fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use tongban_e2e::peers::python;
use tongban_test_support::sample::{SAMPLE_AUD, SAMPLE_NONCE, sample_dir};
use tongban_verifier::*;

#[test]
fn our_presentation_verifies_in_the_python_peer() {
    let p = sample_dir().join("presentation.txt");
    let jwk = sample_dir().join("issuer.jwk.json");
    let v = python(&[
        "verify",
        p.to_str().unwrap(),
        jwk.to_str().unwrap(),
        SAMPLE_AUD,
        SAMPLE_NONCE,
    ]);
    assert_eq!(v["ok"], true);
    assert_eq!(
        v["claims"]["unified_social_credit_code"],
        "91320509MA1Q8K3T2C"
    );
    assert!(v["claims"].get("address").is_none());
}

#[test]
fn the_python_peers_presentation_verifies_in_tongban() {
    // The peer stamps its KB-JWT with its own clock, so the credential is
    // made around the real time.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let made = python(&["make", &now.to_string(), SAMPLE_AUD, "py-nonce-1"]);
    let mut keys = InMemoryKeys::new();
    keys.add_issuer_key(
        "https://py-peer.example/issuer",
        KeyWithId::from_jwk(&made["issuer_jwk"]).unwrap(),
    );
    // The peer's KB-JWT iat is its own clock's "now": check at that time.
    let p = made["presentation"].as_str().unwrap();
    let kb_payload = p.rsplit('~').next().unwrap().split('.').nth(1).unwrap();
    let kb = encoding::b64_json(kb_payload, "kb").unwrap();
    let at = kb["iat"].as_i64().unwrap();
    let report = verify(p, &Policy::counter(at, SAMPLE_AUD, "py-nonce-1"), &keys);
    assert!(report.is_accepted(), "{:?}", report.rejection);
    let claims = report.claims.unwrap();
    assert_eq!(claims["company_name"], "青浦互通测试有限公司");
    assert!(claims.get("legal_representative").is_none());
    // The peer writes JSON with ", " separators and \u-escapes; our checks
    // read its bytes exactly as signed.
    let report = verify(
        made["credential"].as_str().unwrap(),
        &Policy::without_holder_binding(at),
        &keys,
    );
    assert!(report.is_accepted(), "{:?}", report.rejection);
}
