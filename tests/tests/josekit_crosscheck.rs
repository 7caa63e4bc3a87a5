//! `josekit`, an independent JOSE implementation (on OpenSSL), verifies
//! every kind of JWS Tongban emits with the published public keys: the
//! credential, the KB-JWT, a status list token and a trust list.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use josekit::jwk::Jwk;
use josekit::jws::{self, EdDSA};
use tongban_test_support::sample::realistic_presentation;
use tongban_verifier::status::Bits;
use tongban_verifier::trust::Anchor;
use tongban_verifier::*;

/// Verifies a compact JWS with josekit and returns its header `typ`.
fn josekit_verify(jws_text: &str, key: &PublicKey) -> String {
    let jwk = Jwk::from_map(key.to_jwk().as_object().unwrap().clone()).unwrap();
    let verifier = EdDSA.verifier_from_jwk(&jwk).unwrap();
    let (_, header) = jws::deserialize_compact(jws_text, &verifier)
        .unwrap_or_else(|e| panic!("josekit refused {jws_text:.40}…: {e}"));
    header.token_type().unwrap_or_default().to_owned()
}

#[test]
fn josekit_verifies_every_jws_we_emit() {
    let issuer = Ed25519Signer::from_seed(&[0x11; 32], Some("wujiang-amr-2026".into()));
    let holder = Ed25519Signer::from_seed(&[0x22; 32], None);

    let (credential, presentation) =
        realistic_presentation("business-licence", &["company_name"]).unwrap();
    let issuer_jwt = credential.split('~').next().unwrap();
    assert_eq!(
        josekit_verify(issuer_jwt, &issuer.public_key()),
        "dc+sd-jwt"
    );
    let kb = presentation.rsplit('~').next().unwrap();
    assert_eq!(josekit_verify(kb, &holder.public_key()), "kb+jwt");

    let mut list = StatusList::new(Bits::new(2).unwrap(), 100);
    list.set(3, 1);
    let token = StatusListToken::sign(
        &issuer,
        "https://amr.wujiang.example",
        "https://amr.wujiang.example/status/1",
        1_795_572_000,
        None,
        Some(3600),
        &list,
    )
    .unwrap();
    assert_eq!(
        josekit_verify(&token, &issuer.public_key()),
        "statuslist+jwt"
    );

    let anchor = Ed25519Signer::from_seed(&[0xa0; 32], Some("anchor-1".into()));
    let tl = TrustList {
        version: 1,
        anchor: Anchor {
            id: "https://trust.example".into(),
            name_zh: "示范区".into(),
            name_en: "Zone".into(),
        },
        sequence: 1,
        issued_at: 1_795_572_000,
        next_update: 1_796_000_000,
        root_sequence: None,
        verifiers: None,
        issuers: vec![],
        x509_anchors: None,
    };
    let signed = tl.sign(&anchor).unwrap();
    assert_eq!(
        josekit_verify(&signed, &anchor.public_key()),
        "tongban-trust-list+jwt"
    );

    // And josekit refuses a tampered one, as we do.
    let tampered = signed.replacen("eyJ", "eyK", 2);
    let jwk = Jwk::from_map(anchor.public_key().to_jwk().as_object().unwrap().clone()).unwrap();
    assert!(jws::deserialize_compact(&tampered, &EdDSA.verifier_from_jwk(&jwk).unwrap()).is_err());
}
