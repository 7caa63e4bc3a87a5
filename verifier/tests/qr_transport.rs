//! The QR transport: exact round trips of every vector and of Tongban's own
//! credentials, multi-part assembly in any order, and every malformed input
//! refused with its own code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::fs;
use std::path::Path;

use tongban_verifier::transport::{self, PREFIX};
use tongban_verifier::*;

fn vectors() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors")
}

fn unwrapped(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap()
        .split_whitespace()
        .collect()
}

/// Every compact presentation and issuance of the RFC 9901 and SD-JWT VC
/// examples, and the sample.
fn all_presentations() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for set in ["rfc9901-examples", "sd-jwt-vc-examples"] {
        for entry in fs::read_dir(vectors().join(set)).unwrap() {
            let dir = entry.unwrap().path();
            for file in ["sd_jwt_presentation.txt", "sd_jwt_issuance.txt"] {
                if dir.join(file).exists() {
                    out.push((
                        format!("{}/{file}", dir.display()),
                        unwrapped(&dir.join(file)),
                    ));
                }
            }
        }
    }
    for file in ["presentation.txt", "credential.txt"] {
        let p = vectors().join("sample").join(file);
        out.push((
            p.display().to_string(),
            fs::read_to_string(&p).unwrap().trim().to_owned(),
        ));
    }
    out
}

#[test]
fn every_vector_round_trips_exactly_and_is_smaller() {
    let all = all_presentations();
    assert!(all.len() >= 30, "{}", all.len());
    for (name, p) in all {
        let t = transport::encode(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(t.starts_with(PREFIX));
        assert!(
            t.bytes()
                .all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b)),
            "{name}: not QR alphanumeric"
        );
        assert_eq!(transport::decode(&t).unwrap(), p, "{name}");
        assert_eq!(transport::from_texts(&[&t]).unwrap(), p, "{name}");
    }
}

#[test]
fn the_sample_still_verifies_after_the_round_trip() {
    let p = fs::read_to_string(vectors().join("sample/presentation.txt")).unwrap();
    let t = transport::encode(p.trim()).unwrap();
    assert!(
        t.len() < p.trim().len(),
        "transport {} chars vs plain {}",
        t.len(),
        p.trim().len()
    );
    let back = transport::decode(&t).unwrap();
    let jwk: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(vectors().join("sample/issuer.jwk.json")).unwrap(),
    )
    .unwrap();
    let mut keys = InMemoryKeys::new();
    keys.pin_for_any_issuer(KeyWithId::from_jwk(&jwk).unwrap());
    let r = verify(
        &back,
        &Policy::counter(
            1_795_572_060,
            "https://counter.qingpu.example",
            "qp-20261125-0001",
        ),
        &keys,
    );
    assert!(r.is_accepted(), "{:?}", r.rejection);
}

#[test]
fn non_canonical_input_is_refused_not_altered() {
    let p = fs::read_to_string(vectors().join("sample/presentation.txt")).unwrap();
    let p = p.trim();
    // A padded signature segment.
    let (jwt, rest) = p.split_once('~').unwrap();
    let bad = format!("{jwt}==~{rest}");
    assert_eq!(
        transport::encode(&bad).unwrap_err().code,
        ErrorCode::TransportNonCanonical
    );
    assert_eq!(
        transport::encode("not an sd-jwt").unwrap_err().code,
        ErrorCode::TransportNonCanonical
    );
}

#[test]
fn multi_part_in_any_order() {
    let p = fs::read_to_string(vectors().join("sample/credential.txt")).unwrap();
    let single = transport::encode(p.trim()).unwrap();
    let parts = transport::split(&single, 600).unwrap();
    assert!(parts.len() >= 3, "{}", parts.len());
    assert!(parts.iter().all(|x| x.len() <= 600));
    let mut refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    refs.reverse();
    refs.swap(0, 1);
    assert_eq!(transport::from_texts(&refs).unwrap(), p.trim());
    // A single code that fits stays single.
    assert_eq!(
        transport::split(&single, 100_000).unwrap(),
        vec![single.clone()]
    );

    // Missing, duplicate, mixed, tampered.
    let code = |texts: &[&str]| transport::from_texts(texts).unwrap_err().code;
    assert_eq!(code(&refs[1..]), ErrorCode::TransportPartMissing);
    let mut dup = refs.clone();
    dup.push(refs[0]);
    assert_eq!(code(&dup), ErrorCode::TransportPartDuplicate);
    let other = fs::read_to_string(vectors().join("sample/presentation.txt")).unwrap();
    let other_parts = transport::split(&transport::encode(other.trim()).unwrap(), 600).unwrap();
    let mut mixed = refs.clone();
    mixed[0] = &other_parts[0];
    assert_eq!(code(&mixed), ErrorCode::TransportPartMixed);
    let tampered = &parts[1];
    let last = tampered.chars().last().unwrap();
    let swapped = format!(
        "{}{}",
        &tampered[..tampered.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let mut t = vec![parts[0].as_str(), swapped.as_str()];
    t.extend(parts[2..].iter().map(String::as_str));
    assert_eq!(code(&t), ErrorCode::TransportDigestMismatch);
    assert_eq!(
        code(&[parts[0].as_str(), single.as_str()]),
        ErrorCode::TransportPartMixed
    );
    assert_eq!(code(&["TB1M:1/2:ABC"]), ErrorCode::TransportMalformed);
    assert_eq!(code(&["TB1M:3/2:AB:CD"]), ErrorCode::TransportMalformed);
}

#[test]
fn malformed_transport_texts() {
    let p = fs::read_to_string(vectors().join("sample/presentation.txt")).unwrap();
    let t = transport::encode(p.trim()).unwrap();
    let code = |s: &str| transport::decode(s).unwrap_err().code;
    assert_eq!(code("TB2:ABC"), ErrorCode::TransportPrefixUnknown);
    assert_eq!(code("TB1:abc"), ErrorCode::TransportBase45Invalid);
    assert_eq!(
        code(&t[..t.len() - 1]),
        ErrorCode::TransportBase45Invalid,
        "a dangling character"
    );
    assert_eq!(
        code(&t[..t.len() - 3]),
        ErrorCode::TransportMalformed,
        "truncated"
    );
    // Random but valid base45 is not a deflate stream of a presentation.
    assert_eq!(
        code(&format!(
            "{PREFIX}{}",
            transport::base45_encode(b"\x00\x05hello")
        )),
        ErrorCode::TransportMalformed
    );
    // A zip bomb: 10 MB of zeros deflate to a few KB.
    let bomb = miniz_oxide::deflate::compress_to_vec(&vec![0u8; 10_000_000], 10);
    assert_eq!(
        code(&format!("{PREFIX}{}", transport::base45_encode(&bomb))),
        ErrorCode::TransportTooLarge
    );
    // Trailing bytes after a valid body.
    let raw = transport::base45_decode(&t[PREFIX.len()..]).unwrap();
    let mut body = miniz_oxide::inflate::decompress_to_vec(&raw).unwrap();
    body.push(0);
    let re = miniz_oxide::deflate::compress_to_vec(&body, 10);
    assert_eq!(
        code(&format!("{PREFIX}{}", transport::base45_encode(&re))),
        ErrorCode::TransportMalformed
    );
}

#[test]
fn no_transport_input_panics() {
    let p = fs::read_to_string(vectors().join("sample/presentation.txt")).unwrap();
    let t = transport::encode(p.trim()).unwrap();
    let bytes = t.as_bytes();
    for cut in 0..bytes.len() {
        let _ = transport::decode(std::str::from_utf8(&bytes[..cut]).unwrap());
    }
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut state = 0x1234_5678_9abc_def1u64;
    for _ in 0..2000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut m = bytes.to_vec();
        let at = PREFIX.len() + (state as usize) % (m.len() - PREFIX.len());
        m[at] = alphabet[(state >> 40) as usize % 45];
        let s = String::from_utf8(m).unwrap();
        if let Ok(back) = transport::decode(&s) {
            // A change that still decodes must change the presentation (and
            // so fail its signature), never silently equal the original.
            assert!(back != p.trim() || s == t);
        }
    }
}
