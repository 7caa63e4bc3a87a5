//! Verification cost of one Tongban presentation, compared with its floor
//! (the two Ed25519 `verify_strict` checks it contains) and with the
//! `sd-jwt-rs` crate verifying the same string (and with ring's two Ed25519
//! checks, sd-jwt-rs's own floor); the same presentation on the
//! national suite (SM2SM3 issuer and holder keys, SM3 digests); one
//! signature verification per algorithm (EdDSA, ES256, SM2SM3); plus the
//! per-presentation cost of `verify_batch` over 64 presentations.
//!
//! Run: `cargo bench -p tongban-verifier --bench verify_presentation`.
//! Results are recorded in `docs/performance.md`.

// A benchmark is not library code: failing loudly on a broken setup is what
// we want, so the workspace lints against unwrap/expect/panic are lifted here
// (and criterion's macros generate undocumented items).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod fixture;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use fixture::{
    BATCH, DISCLOSED, Fixture, ISSUER, KID, issuer_x, presentation, presentation_with,
    sd_jwt_rs_verify,
};
use serde_json::json;
use tongban_verifier::ed25519::{Prepared, verify_batch as ed25519_batch};
use tongban_verifier::{
    Algorithm, Check, Ed25519Signer, InMemoryKeys, KeyWithId, Outcome, P256Signer, SdAlg, Signer,
    Sm2Signer, verify, verify_batch,
};

fn benches(c: &mut Criterion) {
    let f = Fixture::new();
    let (issuer, keys, policy, pres) = (&f.issuer, &f.keys, &f.policy, &f.pres);
    // Once, before timing anything: every contender must accept.
    let report = verify(pres, policy, keys);
    assert!(
        report.is_accepted(),
        "tongban rejected: {:?}",
        report.rejection
    );
    assert_eq!(report.disclosed.len(), DISCLOSED.len());
    // The measurement includes the catalogue's schema check: it must run.
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.check == Check::Schema && c.outcome == Outcome::Passed),
        "the schema check did not run: {:?}",
        report.checks
    );
    assert_eq!(
        report.claims.as_ref().unwrap()["company_name"],
        json!("上海某某科技有限公司")
    );

    let fl = f.floors();
    assert!(
        fl.iss_key
            .verify(Algorithm::EdDsa, fl.iss_input, &fl.iss_sig)
    );
    assert!(
        fl.holder_key
            .verify(Algorithm::EdDsa, fl.kb_input, &fl.kb_sig)
    );
    assert!(fl.iss_vk.verify_strict(fl.iss_input, &fl.iss_dalek).is_ok());
    assert!(
        fl.holder_vk
            .verify_strict(fl.kb_input, &fl.kb_dalek)
            .is_ok()
    );

    let x = issuer_x(issuer);
    let verified = match sd_jwt_rs_verify(pres.clone(), x.clone()) {
        Ok(v) => v,
        Err(e) => panic!("sd-jwt-rs rejected the presentation: {e:?}"),
    };
    assert_eq!(
        verified.verified_claims["company_name"],
        json!("上海某某科技有限公司")
    );

    let mut group = c.benchmark_group("verify_presentation");
    group.throughput(Throughput::Elements(1));
    group.bench_function("tongban", |b| {
        b.iter(|| verify(black_box(pres), black_box(policy), black_box(keys)));
    });
    // The floor as the issue set it: ed25519-dalek's `verify_strict`, twice
    // (keys parsed, signatures decoded).
    group.bench_function("two_verify_strict", |b| {
        b.iter(|| {
            let a = fl
                .iss_vk
                .verify_strict(black_box(fl.iss_input), black_box(&fl.iss_dalek));
            let k = fl
                .holder_vk
                .verify_strict(black_box(fl.kb_input), black_box(&fl.kb_dalek));
            a.is_ok() & k.is_ok()
        });
    });
    // Tongban's single check (`PublicKey::verify`, the cofactored equation
    // of `tongban_verifier::ed25519`), twice.
    group.bench_function("two_verify_cofactored", |b| {
        b.iter(|| {
            let a = fl.iss_key.verify(
                Algorithm::EdDsa,
                black_box(fl.iss_input),
                black_box(&fl.iss_sig),
            );
            let k = fl.holder_key.verify(
                Algorithm::EdDsa,
                black_box(fl.kb_input),
                black_box(&fl.kb_sig),
            );
            a & k
        });
    });
    // What `verify` does for the two signatures: decode both, one batch
    // equation. The floor of `verify` now.
    group.bench_function("one_equation", |b| {
        b.iter(|| {
            let both = [
                Prepared::new(&fl.iss_vk, black_box(fl.iss_input), black_box(&fl.iss_sig)).unwrap(),
                Prepared::new(&fl.holder_vk, black_box(fl.kb_input), black_box(&fl.kb_sig))
                    .unwrap(),
            ];
            ed25519_batch(&both)
        });
    });
    // sd-jwt-rs's own floor: its two Ed25519 checks are ring's (through
    // jsonwebtoken), keys parsed, signatures decoded.
    let iss_ring =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, fl.iss_vk.to_bytes());
    let kb_ring =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, fl.holder_vk.to_bytes());
    assert!(iss_ring.verify(fl.iss_input, &fl.iss_sig).is_ok());
    assert!(kb_ring.verify(fl.kb_input, &fl.kb_sig).is_ok());
    group.bench_function("two_ring_verify", |b| {
        b.iter(|| {
            let a = iss_ring.verify(black_box(fl.iss_input), black_box(&fl.iss_sig));
            let k = kb_ring.verify(black_box(fl.kb_input), black_box(&fl.kb_sig));
            a.is_ok() & k.is_ok()
        });
    });
    group.bench_function("sd_jwt_rs", |b| {
        // SDJWTVerifier::new takes the presentation by value; the copy of
        // the string and of the key's `x` is made outside the timed part.
        b.iter_batched(
            || (pres.clone(), x.clone()),
            |(p, x)| sd_jwt_rs_verify(p, x).map(|v| v.verified_claims),
            BatchSize::SmallInput,
        );
    });
    // The same presentation on the national suite: SM2SM3 issuer and
    // holder signatures, SM3 disclosure digests and sd_hash.
    let sm_issuer = Sm2Signer::from_bytes(&[0x11; 32], Some(KID.into())).unwrap();
    let sm_holder = Sm2Signer::from_bytes(&[0x22; 32], None).unwrap();
    let mut sm_keys = InMemoryKeys::new();
    sm_keys.add_issuer_key(
        ISSUER,
        KeyWithId {
            key: sm_issuer.public_key(),
            kid: Some(KID.into()),
        },
    );
    let sm_pres = presentation_with(&sm_issuer, &sm_holder, 0, SdAlg::Sm3);
    let sm_report = verify(&sm_pres, policy, &sm_keys);
    assert!(
        sm_report.is_accepted(),
        "SM2/SM3 rejected: {:?}",
        sm_report.rejection
    );
    group.bench_function("tongban_sm2_sm3", |b| {
        b.iter(|| verify(black_box(&sm_pres), black_box(policy), black_box(&sm_keys)));
    });
    group.finish();

    // One signature verification per algorithm, over the same signing
    // input (the issuer JWT's).
    let p256 = P256Signer::from_bytes(&[0x33; 32], None).unwrap();
    let mut group = c.benchmark_group("signature_verify");
    group.throughput(Throughput::Elements(1));
    for (name, signer, alg) in [
        ("ed25519", issuer as &dyn Signer, Algorithm::EdDsa),
        ("es256", &p256 as &dyn Signer, Algorithm::Es256),
        ("sm2sm3", &sm_issuer as &dyn Signer, Algorithm::Sm2Sm3),
    ] {
        let sig = signer.sign(fl.iss_input).unwrap();
        let key = signer.public_key();
        assert!(key.verify(alg, fl.iss_input, &sig), "{name}");
        group.bench_function(name, |b| {
            b.iter(|| key.verify(alg, black_box(fl.iss_input), black_box(&sig)));
        });
    }
    group.finish();

    // 64 distinct credentials, each bound to its own holder key, all
    // presented to the same counter with the same nonce.
    let holders: Vec<Ed25519Signer> = (0..BATCH)
        .map(|i| Ed25519Signer::from_seed(&[u8::try_from(i).unwrap() + 0x40; 32], None))
        .collect();
    let many: Vec<String> = holders
        .iter()
        .enumerate()
        .map(|(i, h)| presentation(issuer, h, i))
        .collect();
    let inputs: Vec<&[u8]> = many.iter().map(|p| p.as_bytes()).collect();
    let reports = verify_batch(&inputs, policy, keys);
    assert_eq!(reports.len(), BATCH);
    for r in &reports {
        assert!(r.is_accepted(), "batch rejected: {:?}", r.rejection);
    }

    let mut group = c.benchmark_group("verify_batch");
    group.throughput(Throughput::Elements(BATCH as u64));
    // One iteration verifies 64 presentations (a few ms): fewer samples
    // keep the run within the measurement time.
    group.sample_size(30);
    group.bench_function("per_presentation", |b| {
        b.iter(|| verify_batch(black_box(&inputs), black_box(policy), black_box(keys)));
    });
    group.finish();
}

criterion_group! {
    name = verify_presentation;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(verify_presentation);
