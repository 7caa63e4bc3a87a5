//! Every licence type of the catalogue, with realistic claims: the sample
//! claims pass their schema in full, credentials of every type verify, and
//! survive the QR transport.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use tongban_test_support::sample::{
    SAMPLE_AUD, SAMPLE_NONCE, SAMPLE_PRESENTED_AT, catalogue_samples, realistic_presentation,
};
use tongban_verifier::catalogue::Catalogue;
use tongban_verifier::catalogue::schema::Mode;
use tongban_verifier::*;

#[test]
fn every_type_has_valid_sample_claims() {
    let catalogue = Catalogue::builtin().unwrap();
    let samples = catalogue_samples();
    assert_eq!(samples.len(), catalogue.types().len());
    for t in catalogue.types() {
        let claims = samples[t.slug].as_object().unwrap();
        let v = t.validate(claims, Mode::Complete);
        assert!(v.is_empty(), "{}: {v:?}", t.slug);
        // Dropping a required claim is caught by the issuer-side check.
        let mut missing = claims.clone();
        missing.remove("licence_id");
        assert!(
            t.validate(&missing, Mode::Complete)
                .iter()
                .any(|x| x.keyword == "required")
        );
    }
}

#[test]
fn credentials_of_every_type_verify_directly_and_through_the_qr_transport() {
    let catalogue = Catalogue::builtin().unwrap();
    let holder_binding = Policy::counter(SAMPLE_PRESENTED_AT + 30, SAMPLE_AUD, SAMPLE_NONCE);
    let issuer = Ed25519Signer::from_seed(&[0x11; 32], Some("wujiang-amr-2026".into()));
    let mut keys = InMemoryKeys::new();
    keys.add_issuer_key(
        tongban_test_support::sample::SAMPLE_ISSUER,
        KeyWithId {
            key: issuer.public_key(),
            kid: Some("wujiang-amr-2026".into()),
        },
    );
    for t in catalogue.types() {
        let names: Vec<&str> = t.claims.iter().map(|c| c.name.as_str()).collect();
        let (_, p) = realistic_presentation(t.slug, &names[..3]).unwrap();
        let r = verify(&p, &holder_binding, &keys);
        assert!(r.is_accepted(), "{}: {:?}", t.slug, r.rejection);
        assert_eq!(r.disclosed.len(), 3);
        let back = transport::decode(&transport::encode(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
