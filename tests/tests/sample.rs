//! The README's sample must be what `make-sample` writes, and must verify.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use tongban_test_support::sample::{
    SAMPLE_AUD, SAMPLE_NONCE, SAMPLE_PRESENTED_AT, generate, sample_dir,
};
use tongban_verifier::{InMemoryKeys, KeyWithId, Policy, verify};

#[test]
fn sample_is_reproducible() {
    let s = generate().expect("generate");
    let dir = sample_dir();
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).expect(n);
    assert_eq!(
        read("issuer.jwk.json"),
        s.issuer_jwk,
        "run: cargo run -p tongban-xtask --bin make-sample"
    );
    assert_eq!(read("credential.txt"), s.credential);
    assert_eq!(read("presentation.txt"), s.presentation);
    assert_eq!(read("presentation.tb1.txt"), s.presentation_transport);
    assert_eq!(read("credential.parts.txt"), s.credential_parts);
}

#[test]
fn sample_verifies_and_discloses_exactly_six_claims() {
    let s = generate().expect("generate");
    let jwk: serde_json::Value = serde_json::from_str(&s.issuer_jwk).expect("jwk");
    let mut keys = InMemoryKeys::new();
    keys.add_issuer_key(
        tongban_test_support::sample::SAMPLE_ISSUER,
        KeyWithId::from_jwk(&jwk).expect("key"),
    );
    let policy = Policy::counter(SAMPLE_PRESENTED_AT + 60, SAMPLE_AUD, SAMPLE_NONCE);
    let report = verify(s.presentation.trim(), &policy, &keys);
    assert!(report.is_accepted(), "{:?}", report.rejection);
    let mut disclosed = report.disclosed.clone();
    disclosed.sort();
    let mut want: Vec<String> = tongban_test_support::sample::SAMPLE_DISCLOSED
        .iter()
        .map(|s| s.to_string())
        .collect();
    want.sort();
    assert_eq!(disclosed, want);
}

#[test]
fn corpus_is_reproducible() {
    let dir = tongban_test_support::workspace_root().join("verifier/core/tests/corpus");
    for e in tongban_xtask::corpus::build() {
        let on_disk = std::fs::read(dir.join(&e.file)).expect(&e.file);
        assert!(
            on_disk == e.bytes,
            "{} differs; run: cargo run -p tongban-xtask --bin make-corpus",
            e.file
        );
    }
}
