//! Benchmarks of the trust bundle: loading (verifying) a bundle of 30
//! issuers, each with a 2^20-entry status list, and a status lookup.
//! The numbers are written into docs/performance.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // a benchmark may fail loudly

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use tongban_verifier::bundle::{MANIFEST_FILE, TrustBundle};
use tongban_verifier::status::Bits;
use tongban_verifier::trust::Anchor;
use tongban_verifier::*;

const NOW: i64 = 1_795_572_000;
const ISSUERS: usize = 30;
const ENTRIES: usize = 1 << 20;

struct Fixture {
    files: HashMap<String, Vec<u8>>,
    anchors: Vec<KeyWithId>,
    status_uri: String,
    iss: String,
}

/// 30 issuers, each with a 2-bit list of 2^20 entries of which about 1 in
/// 100 is revoked or suspended (spread by a fixed pseudo-random sequence, so
/// the lists compress like real ones rather than like zeros).
fn fixture() -> Fixture {
    let anchor = Ed25519Signer::from_seed(&[0xa0; 32], Some("anchor".into()));
    let signers: Vec<Ed25519Signer> = (0..ISSUERS)
        .map(|i| Ed25519Signer::from_seed(&[i as u8 + 1; 32], Some(format!("k{i}"))))
        .collect();
    let issuers: Vec<TrustedIssuer> = signers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut jwk = s.public_key().to_jwk();
            jwk["kid"] = json!(format!("k{i}"));
            TrustedIssuer {
                id: format!("https://issuer-{i}.example"),
                name_zh: format!("示范签发机构{i}"),
                name_en: format!("Issuer {i}"),
                region: "320509".into(),
                vcts: vec!["urn:tongban:business-licence:1".into()],
                keys: vec![TrustedKey {
                    jwk,
                    not_before: 0,
                    not_after: None,
                    revoked_at: None,
                    compromised_at: None,
                    x5c: None,
                }],
                status_lists: vec![format!("https://issuer-{i}.example/status/1")],
            }
        })
        .collect();
    let list = TrustList {
        version: 1,
        anchor: Anchor {
            id: "https://trust.example".into(),
            name_zh: "示范区".into(),
            name_en: "Zone".into(),
        },
        sequence: 1,
        issued_at: NOW - 60,
        next_update: NOW + 86_400,
        root_sequence: None,
        verifiers: None,
        issuers,
        x509_anchors: None,
    };
    let tl = list.sign(&anchor).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let jwts: Vec<String> = signers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut l = StatusList::new(Bits::new(2).unwrap(), ENTRIES);
            for _ in 0..ENTRIES / 100 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                l.set((state as usize) % ENTRIES, 1 + (state >> 40) as u8 % 2);
            }
            StatusListToken::sign(
                s,
                &format!("https://issuer-{i}.example"),
                &format!("https://issuer-{i}.example/status/1"),
                NOW - 60,
                Some(NOW + 86_400),
                Some(3600),
                &l,
            )
            .unwrap()
        })
        .collect();
    let anchors = vec![KeyWithId {
        key: anchor.public_key(),
        kid: Some("anchor".into()),
    }];
    let (_, files) = TrustBundle::assemble(&tl, &jwts, &anchors, None, NOW).unwrap();
    let size: usize = files.iter().map(|(_, b)| b.len()).sum();
    let lists: usize = files
        .iter()
        .filter(|(n, _)| n.starts_with("status-"))
        .map(|(_, b)| b.len())
        .sum();
    eprintln!(
        "bundle: {} files, {size} bytes on disk ({} bytes of status list tokens, {} per issuer on average)",
        files.len(),
        lists,
        lists / ISSUERS
    );
    Fixture {
        files: files.into_iter().collect(),
        anchors,
        status_uri: "https://issuer-7.example/status/1".into(),
        iss: "https://issuer-7.example".into(),
    }
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    let mut g = c.benchmark_group("trust_bundle");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("load_30_issuers_1m_entries", |b| {
        b.iter(|| {
            let manifest = f.files[MANIFEST_FILE].clone();
            TrustBundle::load(&manifest, &mut |n| f.files.get(n).cloned(), &f.anchors).unwrap()
        })
    });
    g.finish();

    let bundle = TrustBundle::load(
        &f.files[MANIFEST_FILE],
        &mut |n| f.files.get(n).cloned(),
        &f.anchors,
    )
    .unwrap();
    let mut g = c.benchmark_group("status");
    g.bench_function("lookup", |b| {
        let mut idx = 0u64;
        b.iter(|| {
            idx = (idx + 7919) % ENTRIES as u64;
            black_box(bundle.status(&StatusQuery {
                iss: &f.iss,
                uri: &f.status_uri,
                idx,
                now: NOW,
                max_age_secs: policy::DEFAULT_STATUS_MAX_AGE_SECS,
            }))
        })
    });
    g.finish();
}

criterion_group!(trust, benches);
criterion_main!(trust);
