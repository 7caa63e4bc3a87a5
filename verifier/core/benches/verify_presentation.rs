//! Verification cost of one Tongban presentation, compared with its floor
//! (the two Ed25519 `verify_strict` checks it contains) and with the
//! `sd-jwt-rs` crate verifying the same string; the same presentation on the
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

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jsonwebtoken::DecodingKey;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use sd_jwt_rs::{SDJWTSerializationFormat, SDJWTVerifier};
use serde_json::{Value, json};
use tongban_verifier::encoding::b64_decode;
use tongban_verifier::{
    Algorithm, Check, ClaimPath, CredentialBuilder, Ed25519Signer, HeldCredential, InMemoryKeys,
    KeyBinding, KeyWithId, Outcome, P256Signer, Policy, PublicKey, SdAlg, Signer, Sm2Signer,
    verify, verify_batch,
};

const ISSUER: &str = "https://scjg.sh.gov.cn/issuer";
const VCT: &str = "urn:tongban:business-licence:1";
const KID: &str = "scjg-2026-1";
/// Issued 2026-09-21, expires 2030-03-17. `sd-jwt-rs` (through
/// `jsonwebtoken`) checks `exp` against the system clock, so `EXP` must stay
/// in the future of the machine running the bench.
const IAT: i64 = 1_790_000_000;
const EXP: i64 = 1_900_000_000;
/// The counter's "now" (fixed: the library reads no clock).
const NOW: i64 = 1_795_000_000;
const AUD: &str = "counter-qingpu-07";
const NONCE: &str = "nonce-4f1c9a2e7b";
const BATCH: usize = 64;

/// A unified social credit code (GB 32100) for licence number `variant`,
/// with its check character, so the catalogue's identifier check passes.
fn uscc(variant: usize) -> String {
    const CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let body = format!("91310118MA1J{:04}K", variant % 10_000);
    let sum: usize = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(c, w)| w * CHARS.iter().position(|&x| x == c).unwrap())
        .sum();
    let check = CHARS[(31 - sum % 31) % 31] as char;
    format!("{body}{check}")
}

/// The 12 personal claims of a business licence (营业执照), exactly the
/// properties of `specs/catalogue/business-licence/schema.json`.
fn licence_claims(variant: usize) -> Vec<(&'static str, Value)> {
    vec![
        ("unified_social_credit_code", json!(uscc(variant))),
        ("company_name", json!("上海某某科技有限公司")),
        ("company_type", json!("有限责任公司（自然人投资或控股）")),
        ("legal_representative", json!("张伟")),
        ("registered_capital", json!("人民币1000万元整")),
        ("establishment_date", json!("2018-03-15")),
        ("business_term", json!("2018年03月15日至2048年03月14日")),
        ("address", json!("上海市青浦区华新镇华腾路1288号1幢2层")),
        (
            "business_scope",
            json!(
                "从事信息技术、计算机软件科技领域内的技术开发、技术咨询、技术服务、技术转让；\
                 软件开发；信息系统集成服务；数据处理服务。\
                 （依法须经批准的项目，经相关部门批准后方可开展经营活动）"
            ),
        ),
        (
            "registration_authority",
            json!("上海市青浦区市场监督管理局"),
        ),
        ("issue_date", json!("2023-06-01")),
        (
            "licence_id",
            json!(format!("310118-BL-2023-{:06}", 1000 + variant)),
        ),
    ]
}

/// The 6 of the 12 claims a counter asks for.
const DISCLOSED: [&str; 6] = [
    "unified_social_credit_code",
    "company_name",
    "legal_representative",
    "registered_capital",
    "address",
    "licence_id",
];

/// Issues licence number `variant` to `holder` and presents 6 of its claims
/// to the counter. Salts and decoys come from an RNG seeded with `variant`,
/// so every run measures the same bytes.
fn presentation(issuer: &dyn Signer, holder: &dyn Signer, variant: usize) -> String {
    presentation_with(issuer, holder, variant, SdAlg::Sha256)
}

/// [`presentation`] with the digest algorithm `sd_alg`.
fn presentation_with(
    issuer: &dyn Signer,
    holder: &dyn Signer,
    variant: usize,
    sd_alg: SdAlg,
) -> String {
    let mut builder = CredentialBuilder::new(ISSUER, VCT, IAT)
        .expires_at(EXP)
        .sd_alg(sd_alg)
        .holder_key(holder.public_key());
    for (name, value) in licence_claims(variant) {
        builder = builder.claim(name, value);
    }
    let mut rng = StdRng::seed_from_u64(variant as u64);
    let issued = builder.issue(issuer, &mut rng).unwrap();
    let held = HeldCredential::parse(&issued.sd_jwt).unwrap();
    let paths: Vec<ClaimPath> = DISCLOSED
        .iter()
        .map(|p| ClaimPath::parse(p).unwrap())
        .collect();
    let kb = KeyBinding {
        signer: holder,
        audience: AUD.into(),
        nonce: NONCE.into(),
        iat: NOW - 5,
        transaction_data_hashes: Vec::new(),
    };
    held.present(&paths, Some(&kb)).unwrap()
}

/// `(signing input, signature)` of a compact JWS, split by hand.
fn signing_input_and_signature(jws: &str) -> (&[u8], Vec<u8>) {
    let (input, sig) = jws.rsplit_once('.').unwrap();
    (input.as_bytes(), b64_decode(sig, "signature").unwrap())
}

fn issuer_x(issuer: &Ed25519Signer) -> String {
    issuer.public_key().to_jwk()["x"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn sd_jwt_rs_verify(presentation: String, x: String) -> sd_jwt_rs::error::Result<SDJWTVerifier> {
    SDJWTVerifier::new(
        presentation,
        Box::new(move |_, _| DecodingKey::from_ed_components(&x).unwrap()),
        Some(AUD.to_owned()),
        Some(NONCE.to_owned()),
        SDJWTSerializationFormat::Compact,
    )
}

fn benches(c: &mut Criterion) {
    let issuer = Ed25519Signer::from_seed(&[0x11; 32], Some(KID.into()));
    let holder = Ed25519Signer::from_seed(&[0x22; 32], None);
    let mut keys = InMemoryKeys::new();
    keys.add_issuer_key(
        ISSUER,
        KeyWithId {
            key: issuer.public_key(),
            kid: Some(KID.into()),
        },
    );
    let policy = Policy::counter(NOW, AUD, NONCE);
    let pres = presentation(&issuer, &holder, 0);

    // Once, before timing anything: every contender must accept.
    let report = verify(&pres, &policy, &keys);
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

    let parts: Vec<&str> = pres.split('~').collect();
    let (iss_input, iss_sig) = signing_input_and_signature(parts[0]);
    let (kb_input, kb_sig) = signing_input_and_signature(parts[parts.len() - 1]);
    let (iss_key, holder_key): (PublicKey, PublicKey) = (issuer.public_key(), holder.public_key());
    assert!(iss_key.verify(Algorithm::EdDsa, iss_input, &iss_sig));
    assert!(holder_key.verify(Algorithm::EdDsa, kb_input, &kb_sig));

    let x = issuer_x(&issuer);
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
        b.iter(|| verify(black_box(&pres), black_box(&policy), black_box(&keys)));
    });
    group.bench_function("two_verify_strict", |b| {
        b.iter(|| {
            let a = iss_key.verify(Algorithm::EdDsa, black_box(iss_input), black_box(&iss_sig));
            let k = holder_key.verify(Algorithm::EdDsa, black_box(kb_input), black_box(&kb_sig));
            a & k
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
    let sm_report = verify(&sm_pres, &policy, &sm_keys);
    assert!(
        sm_report.is_accepted(),
        "SM2/SM3 rejected: {:?}",
        sm_report.rejection
    );
    group.bench_function("tongban_sm2_sm3", |b| {
        b.iter(|| verify(black_box(&sm_pres), black_box(&policy), black_box(&sm_keys)));
    });
    group.finish();

    // One signature verification per algorithm, over the same signing
    // input (the issuer JWT's).
    let p256 = P256Signer::from_bytes(&[0x33; 32], None).unwrap();
    let mut group = c.benchmark_group("signature_verify");
    group.throughput(Throughput::Elements(1));
    for (name, signer, alg) in [
        ("ed25519", &issuer as &dyn Signer, Algorithm::EdDsa),
        ("es256", &p256 as &dyn Signer, Algorithm::Es256),
        ("sm2sm3", &sm_issuer as &dyn Signer, Algorithm::Sm2Sm3),
    ] {
        let sig = signer.sign(iss_input).unwrap();
        let key = signer.public_key();
        assert!(key.verify(alg, iss_input, &sig), "{name}");
        group.bench_function(name, |b| {
            b.iter(|| key.verify(alg, black_box(iss_input), black_box(&sig)));
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
        .map(|(i, h)| presentation(&issuer, h, i))
        .collect();
    let inputs: Vec<&[u8]> = many.iter().map(|p| p.as_bytes()).collect();
    let reports = verify_batch(&inputs, &policy, &keys);
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
        b.iter(|| verify_batch(black_box(&inputs), black_box(&policy), black_box(&keys)));
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
