//! The QR transport: exact round trips of every vector and of Tongban's own
//! credentials in both body versions, the version-2 vectors of
//! `specs/vectors/transport/`, multi-part assembly in any order, and every
//! malformed input refused with its own code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::fs;
use std::path::Path;

use rand::SeedableRng as _;
use serde_json::{Value, json};
use tongban_verifier::transport::{self, PREFIX};
use tongban_verifier::*;

fn vectors() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/vectors")
}

fn unwrapped(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap()
        .split_whitespace()
        .collect()
}

fn sample(file: &str) -> String {
    fs::read_to_string(vectors().join("sample").join(file))
        .unwrap()
        .trim()
        .to_owned()
}

/// Every compact presentation and issuance of the RFC 9901 and SD-JWT VC
/// examples, and the sample.
fn all_presentations() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for set in ["rfc9901-examples", "sd-jwt-vc-examples"] {
        let mut dirs: Vec<_> = fs::read_dir(vectors().join(set))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        for dir in dirs {
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
        out.push((format!("sample/{file}"), sample(file)));
    }
    out
}

fn is_alphanumeric(t: &str) -> bool {
    t.bytes()
        .all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b))
}

#[test]
fn every_vector_round_trips_exactly_in_both_versions() {
    let all = all_presentations();
    assert!(all.len() >= 30, "{}", all.len());
    for (name, p) in all {
        let t2 = transport::encode(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        let t1 = transport::encode_v1(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        for t in [&t2, &t1] {
            assert!(t.starts_with(PREFIX));
            assert!(is_alphanumeric(t), "{name}: not QR alphanumeric");
            assert_eq!(transport::decode(t).unwrap(), p, "{name}");
            assert_eq!(transport::from_texts(&[t]).unwrap(), p, "{name}");
        }
        assert!(
            t2.len() < t1.len(),
            "{name}: version 2 {} chars, version 1 {}",
            t2.len(),
            t1.len()
        );
        // The body's first byte tells the versions apart.
        let b2 = transport::base45_decode(&t2[PREFIX.len()..]).unwrap();
        let b1 = transport::base45_decode(&t1[PREFIX.len()..]).unwrap();
        assert_eq!(b2[0], transport::V2_TAG);
        assert_ne!(
            b1[0] & 0x06,
            0x06,
            "{name}: a version-1 stream's block type"
        );
    }
}

#[test]
fn version_1_vectors_still_decode() {
    assert_eq!(
        transport::decode(&sample("presentation.tb1-v1.txt")).unwrap(),
        sample("presentation.txt")
    );
    let parts = sample("credential.parts-v1.txt");
    let lines: Vec<&str> = parts.lines().collect();
    assert!(lines.len() >= 3);
    assert_eq!(
        transport::from_texts(&lines).unwrap(),
        sample("credential.txt")
    );
    // And the current sample files hold version 2.
    let t = sample("presentation.tb1.txt");
    assert_eq!(transport::decode(&t).unwrap(), sample("presentation.txt"));
    assert_eq!(t, transport::encode(&sample("presentation.txt")).unwrap());
}

#[test]
fn the_sample_still_verifies_after_the_round_trip() {
    let p = sample("presentation.txt");
    let t = transport::encode(&p).unwrap();
    // The sample is a typical request (6 of 12 claims with a KB-JWT): it
    // must fit a version-25 code at ECC M (1,451 alphanumeric characters).
    assert!(t.len() <= 1451, "transport {} chars", t.len());
    let back = transport::decode(&t).unwrap();
    let jwk: Value = serde_json::from_str(&sample("issuer.jwk.json")).unwrap();
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

/// Credentials of several shapes made here: both holder key types, nested
/// claims (recursive disclosures), arrays, decoys, with and without a
/// KB-JWT, nothing disclosed.
#[test]
fn tongban_credentials_of_every_shape_round_trip_and_verify() {
    let issuer = Ed25519Signer::from_seed(&[7; 32], Some("k-2026".into()));
    let ed_holder = Ed25519Signer::from_seed(&[8; 32], None);
    let p_holder = P256Signer::from_bytes(&[9; 32], None).unwrap();
    let holders: [&dyn Signer; 2] = [&ed_holder, &p_holder];
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut keys = InMemoryKeys::new();
    keys.pin_for_any_issuer(KeyWithId {
        key: issuer.public_key(),
        kid: Some("k-2026".into()),
    });
    let claims = json!({
        "company_name": "上海某某科技有限公司",
        "address": {"province": "上海市", "district": "青浦区", "street": "盈港东路1号"},
        "business_scope": ["软件开发", "信息技术咨询服务"],
        "registered_capital": "500万元人民币",
        "issue_date": "2026-11-20",
    });
    let wanted: [&[&str]; 4] = [
        &[],
        &["company_name"],
        &["company_name", "address.district", "issue_date"],
        &[
            "company_name",
            "address",
            "business_scope",
            "registered_capital",
            "issue_date",
        ],
    ];
    for holder in holders {
        for decoys in [Decoys::RoundUp(4), Decoys::Exactly(9), Decoys::Exactly(0)] {
            // Not a catalogue type, so the nested claims meet no schema.
            let issued = CredentialBuilder::new(
                "https://amr.qingpu.example",
                "urn:example:nested-licence:1",
                1_795_136_400,
            )
            .expires_at(1_952_902_800)
            .holder_key(holder.public_key())
            .status(
                json!({"status_list": {"idx": 7, "uri": "https://amr.qingpu.example/status/0"}}),
            )
            .claims(claims.as_object().unwrap().clone())
            .decoys(decoys)
            .issue(&issuer, &mut rng)
            .unwrap();
            let t = transport::encode(&issued.sd_jwt).unwrap();
            assert_eq!(transport::decode(&t).unwrap(), issued.sd_jwt);
            let held = HeldCredential::parse(&issued.sd_jwt).unwrap();
            for paths in wanted {
                let paths: Vec<ClaimPath> =
                    paths.iter().map(|p| ClaimPath::parse(p).unwrap()).collect();
                let kb = KeyBinding {
                    signer: holder,
                    audience: "https://counter.example".into(),
                    nonce: "n-1".into(),
                    iat: 1_795_572_000,
                    transaction_data_hashes: Vec::new(),
                };
                for kb in [Some(&kb), None] {
                    let p = held.present(&paths, kb).unwrap();
                    let t = transport::encode(&p).unwrap();
                    let back = transport::decode(&t).unwrap();
                    assert_eq!(back, p);
                    if kb.is_some() {
                        let r = verify(
                            &back,
                            &Policy::counter(1_795_572_060, "https://counter.example", "n-1"),
                            &keys,
                        );
                        assert!(r.is_accepted(), "{:?}", r.rejection);
                    }
                }
            }
        }
    }
}

#[test]
fn non_canonical_input_is_refused_not_altered() {
    let p = sample("presentation.txt");
    // A padded signature segment.
    let (jwt, rest) = p.split_once('~').unwrap();
    let bad = format!("{jwt}==~{rest}");
    // Non-zero unused bits in the last character of a segment.
    let (head, _) = p.rsplit_once('.').unwrap();
    let sig = p.rsplit('.').next().unwrap();
    let last = sig.chars().last().unwrap();
    let bumped = format!(
        "{head}.{}{}",
        &sig[..sig.len() - 1],
        if last == 'B' { 'C' } else { 'B' }
    );
    for bad in [
        bad.as_str(),
        bumped.as_str(),
        "not an sd-jwt",
        "a.b~",
        "a.b.c~d.e~",
    ] {
        for enc in [transport::encode, transport::encode_v1] {
            assert_eq!(
                enc(bad).unwrap_err().code,
                ErrorCode::TransportNonCanonical,
                "{bad}"
            );
        }
    }
    // Too large for version 2.
    let huge = format!(
        "eyJhIjoiYiJ9.{}.c2ln~",
        "A".repeat(transport::MAX_PRESENTATION)
    );
    assert_eq!(
        transport::encode(&huge).unwrap_err().code,
        ErrorCode::TransportTooLarge
    );
}

#[test]
fn multi_part_in_any_order() {
    let p = sample("credential.txt");
    let single = transport::encode(&p).unwrap();
    let parts = transport::split(&single, 300).unwrap();
    assert!(parts.len() >= 3, "{}", parts.len());
    assert!(parts.iter().all(|x| x.len() <= 300));
    let mut refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    refs.reverse();
    refs.swap(0, 1);
    assert_eq!(transport::from_texts(&refs).unwrap(), p);
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
    let other = sample("presentation.txt");
    let other_parts = transport::split(&transport::encode(&other).unwrap(), 300).unwrap();
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

/// A version-2 transport text from a text stream and raw bytes, compressed
/// by `miniz_oxide` (without the dictionary: a stream that does not refer
/// to it inflates the same with it).
fn v2_text(stream: &[u8], raw: &[u8]) -> String {
    let mut body = vec![transport::V2_TAG];
    body.extend(miniz_oxide::deflate::compress_to_vec(stream, 10));
    body.extend_from_slice(raw);
    format!("{PREFIX}{}", transport::base45_encode(&body))
}

#[test]
fn malformed_transport_texts() {
    let p = sample("presentation.txt");
    let t = transport::encode(&p).unwrap();
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
    assert_eq!(code(PREFIX), ErrorCode::TransportMalformed, "empty");
    // Random but valid base45 is not a deflate stream of a presentation.
    assert_eq!(
        code(&format!(
            "{PREFIX}{}",
            transport::base45_encode(b"\x00\x05hello")
        )),
        ErrorCode::TransportMalformed
    );
    // A zip bomb: 2 MB of zeros deflate to 2 KB, in either version.
    let bomb = miniz_oxide::deflate::compress_to_vec(&vec![0u8; 2_000_000], 10);
    assert_eq!(
        code(&format!("{PREFIX}{}", transport::base45_encode(&bomb))),
        ErrorCode::TransportTooLarge
    );
    let mut bomb2 = vec![transport::V2_TAG];
    bomb2.extend_from_slice(&bomb);
    assert_eq!(
        code(&format!("{PREFIX}{}", transport::base45_encode(&bomb2))),
        ErrorCode::TransportTooLarge
    );
    // Trailing bytes after a valid version-1 body.
    let v1 = transport::encode_v1(&p).unwrap();
    let raw = transport::base45_decode(&v1[PREFIX.len()..]).unwrap();
    let mut body = miniz_oxide::inflate::decompress_to_vec(&raw).unwrap();
    body.push(0);
    let re = miniz_oxide::deflate::compress_to_vec(&body, 10);
    assert_eq!(
        code(&format!("{PREFIX}{}", transport::base45_encode(&re))),
        ErrorCode::TransportMalformed
    );

    // Version 2: the sample's own streams, then altered ones.
    let (stream, raw) = transport::v2_streams(&p).unwrap();
    assert_eq!(transport::decode(&v2_text(&stream, &raw)).unwrap(), p);
    let mut more = raw.clone();
    more.push(0);
    assert_eq!(
        code(&v2_text(&stream, &more)),
        ErrorCode::TransportMalformed,
        "raw bytes left over"
    );
    assert_eq!(
        code(&v2_text(&stream, &raw[..raw.len() - 1])),
        ErrorCode::TransportMalformed,
        "raw bytes missing"
    );
    // An unknown version tag: a later version (0x07 is version 3).
    for tag in [0x0Eu8, 0x0F, 0xFE] {
        assert_eq!(
            code(&format!(
                "{PREFIX}{}",
                transport::base45_encode(&[tag, 0, 0])
            )),
            ErrorCode::TransportPrefixUnknown,
            "{tag:#x}"
        );
    }
    // Each malformed stream of the vectors file.
    for v in v2_vector_file()["invalid"].as_array().unwrap() {
        assert_eq!(
            transport::decode(v["transport"].as_str().unwrap())
                .unwrap_err()
                .code
                .code(),
            v["code"].as_str().unwrap(),
            "{}",
            v["name"]
        );
    }
}

#[test]
fn no_transport_input_panics() {
    let p = sample("presentation.txt");
    let jwk: Value = serde_json::from_str(&sample("issuer.jwk.json")).unwrap();
    let mut keys = InMemoryKeys::new();
    keys.pin_for_any_issuer(KeyWithId::from_jwk(&jwk).unwrap());
    let policy = Policy::counter(
        1_795_572_060,
        "https://counter.qingpu.example",
        "qp-20261125-0001",
    );
    for t in [
        transport::encode(&p).unwrap(),
        transport::encode_v1(&p).unwrap(),
    ] {
        let bytes = t.as_bytes();
        for cut in 0..bytes.len() {
            let _ = transport::decode(std::str::from_utf8(&bytes[..cut]).unwrap());
        }
        let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        let mut state = 0x1234_5678_9abc_def1u64;
        // Signature checks are slow in a debug build: check a sample.
        let mut verified = 0;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut m = bytes.to_vec();
            let at = PREFIX.len() + (state as usize) % (m.len() - PREFIX.len());
            m[at] = alphabet[(state >> 40) as usize % 45];
            let s = String::from_utf8(m).unwrap();
            if let Ok(back) = transport::decode(&s) {
                // DEFLATE has more than one stream for a text (a copy from
                // another place holding the same bytes), so a change may
                // decode to the very same presentation. A change that
                // decodes to anything else must fail verification.
                if back != p && verified < 100 {
                    verified += 1;
                    assert!(!verify(&back, &policy, &keys).is_accepted(), "{s}");
                }
            }
        }
    }
}

// ---- version-2 vectors (specs/vectors/transport/v2.json) -----------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn v2_vector_path() -> std::path::PathBuf {
    vectors().join("transport/v2.json")
}

fn v2_vector_file() -> Value {
    serde_json::from_str(&fs::read_to_string(v2_vector_path()).unwrap()).unwrap()
}

/// The presentations of the valid vectors: real ones, and made-up ones
/// for the corners of the format (they do not verify, they only round-trip).
fn valid_cases() -> Vec<(&'static str, String)> {
    let rfc = |dir: &str, file: &str| unwrapped(&vectors().join(dir).join(file));
    let fake_sig = b64(&[0x5a; 64]);
    let header = b64(br#"{"alg":"EdDSA","typ":"dc+sd-jwt"}"#);
    let d1 = b64(br#"["c2FsdHNhbHRzYWx0c2FsdA","a","b"]"#);
    let d1_digest = {
        use sha2::Digest as _;
        b64(&sha2::Sha256::digest(d1.as_bytes()))
    };
    let non_canonical_43 = "A".repeat(42) + "B";
    let payload = b64(format!(
        r#"{{"_sd":["{d1_digest}","{non_canonical_43}","{}"],"x":"{}"}}"#,
        b64(&[1; 32]),
        b64(&[2; 48])
    )
    .as_bytes());
    let not_text = b64(&[0xff, 0xfe, 0x1e, 0x00]);
    vec![
        ("sample presentation", sample("presentation.txt")),
        ("sample credential (no KB-JWT)", sample("credential.txt")),
        (
            "RFC 9901 simple (ES256, JSON with spaces)",
            rfc("rfc9901-examples/simple", "sd_jwt_presentation.txt"),
        ),
        (
            "RFC 9901 address_only_recursive (digests inside disclosures)",
            rfc(
                "rfc9901-examples/address_only_recursive",
                "sd_jwt_issuance.txt",
            ),
        ),
        (
            "RFC 9901 arf-pid (array elements)",
            rfc("rfc9901-examples/arf-pid", "sd_jwt_presentation.txt"),
        ),
        (
            "SD-JWT VC 01",
            rfc("sd-jwt-vc-examples/01", "sd_jwt_presentation.txt"),
        ),
        (
            "made up: a disclosure twice, a non-canonical 43-character run, 32 and 48 raw bytes",
            format!("{header}.{payload}.{fake_sig}~{d1}~{d1}~"),
        ),
        (
            "made up: a disclosure that is not UTF-8 text",
            format!("{header}.{payload}.{fake_sig}~{d1}~{not_text}~"),
        ),
    ]
}

/// Malformed version-2 bodies: (name, text stream, raw bytes, code).
fn invalid_cases() -> Vec<(&'static str, Vec<u8>, Vec<u8>, &'static str)> {
    let p = sample("presentation.txt");
    let (stream, raw) = transport::v2_streams(&p).unwrap();
    let header = br#"{"alg":"EdDSA"}"#.to_vec();
    // <header>.<payload with a digest of disclosure k>.<raw 1-byte sig>~<d0>~<d1>~
    let with = |payload: &[u8], d0: &[u8], d1: &[u8]| {
        let mut s = header.clone();
        s.push(0x1F);
        s.extend_from_slice(payload);
        s.extend_from_slice(&[0x1F, 0x1D, 0x01, 0x1E]);
        s.extend_from_slice(d0);
        s.push(0x1E);
        s.extend_from_slice(d1);
        s.push(0x1E);
        s
    };
    let mut text_32 = stream.clone();
    // The sample's first 32-byte run (cnf.jwk.x) written out as text.
    let at = text_32.iter().position(|&b| b == 0x18).unwrap();
    let x: Vec<u8> = b64(&raw[..32]).into_bytes();
    text_32.splice(at..=at, x);
    vec![
        (
            "a 32-byte base64url run left as text",
            text_32,
            raw[32..].to_vec(),
            "transport_malformed",
        ),
        (
            "two disclosures whose digests refer to each other",
            with(br#"{"_sd":[""]}"#, b"[\"\x19\x01\"]", b"[\"\x19\x00\"]"),
            vec![0],
            "transport_malformed",
        ),
        (
            "a digest of a disclosure that is not there",
            with(b"[\"\x19\x05\"]", b"[1]", b"[2]"),
            vec![0],
            "transport_malformed",
        ),
        (
            "sd_hash outside the KB-JWT",
            with(b"[\"\x1C\"]", b"[1]", b"[2]"),
            vec![0],
            "transport_malformed",
        ),
        (
            "a reserved byte in the text",
            with(b"[\x10]", b"[1]", b"[2]"),
            vec![0],
            "transport_malformed",
        ),
        (
            "a length that is not minimal",
            with(b"[1]", b"[1]", b"[2]")
                .into_iter()
                .flat_map(|b| if b == 0x1D { vec![0x1D, 0x81] } else { vec![b] })
                .map(|b| if b == 0x01 { 0x00 } else { b })
                .collect(),
            vec![0],
            "transport_malformed",
        ),
        (
            "digests that expand beyond the presentation bound",
            [0x19u8, 0x00].repeat(120_000),
            vec![],
            "transport_too_large",
        ),
        (
            "more text than the body bound",
            vec![b'a'; transport::MAX_BODY + 1],
            vec![],
            "transport_too_large",
        ),
    ]
}

fn build_v2_vectors() -> Value {
    use sha2::Digest as _;
    let valid: Vec<Value> = valid_cases()
        .into_iter()
        .map(|(name, p)| {
            let (stream, raw) = transport::v2_streams(&p).unwrap();
            json!({
                "name": name,
                "presentation": p,
                "text_stream_hex": hex(&stream),
                "raw_hex": hex(&raw),
                "transport": transport::encode(&p).unwrap(),
            })
        })
        .collect();
    let invalid: Vec<Value> = invalid_cases()
        .into_iter()
        .map(|(name, stream, raw, code)| {
            json!({
                "name": name,
                "text_stream_hex": if stream.len() > 4096 { Value::Null } else { hex(&stream).into() },
                "raw_hex": hex(&raw),
                "transport": v2_text(&stream, &raw),
                "code": code,
            })
        })
        .collect();
    json!({
        "description": "QR transport version 2 (specs/qr-transport.md §2). valid: decoding `transport` MUST give `presentation`, whose text stream and raw bytes are `text_stream_hex` and `raw_hex`; `transport` is what Tongban's compressor writes (another compressor may write another, equally valid text). invalid: decoding MUST fail with `code`. Regenerate: TONGBAN_WRITE_VECTORS=1 cargo test -p tongban-verifier --test qr_transport",
        "dictionary": "specs/qr-transport-dictionary-2.bin",
        "dictionary_sha256": hex(&sha2::Sha256::digest(transport::V2_DICTIONARY)),
        "valid": valid,
        "invalid": invalid,
    })
}

#[test]
fn version_2_vectors_are_reproducible_and_decode() {
    let built = build_v2_vectors();
    let text = serde_json::to_string_pretty(&built).unwrap() + "\n";
    if std::env::var_os("TONGBAN_WRITE_VECTORS").is_some() {
        fs::create_dir_all(v2_vector_path().parent().unwrap()).unwrap();
        fs::write(v2_vector_path(), &text).unwrap();
    }
    let file = v2_vector_file();
    assert!(
        file == built,
        "specs/vectors/transport/v2.json differs; run: TONGBAN_WRITE_VECTORS=1 cargo test -p tongban-verifier --test qr_transport"
    );
    // Decode what is on disk, independently of how it was made.
    for v in file["valid"].as_array().unwrap() {
        let p = v["presentation"].as_str().unwrap();
        assert_eq!(
            transport::decode(v["transport"].as_str().unwrap()).unwrap(),
            p,
            "{}",
            v["name"]
        );
        let (stream, raw) = transport::v2_streams(p).unwrap();
        assert_eq!(stream, unhex(v["text_stream_hex"].as_str().unwrap()));
        assert_eq!(raw, unhex(v["raw_hex"].as_str().unwrap()));
        // Any DEFLATE stream of the same text decodes too.
        assert_eq!(transport::decode(&v2_text(&stream, &raw)).unwrap(), p);
    }
}

#[test]
fn the_dictionary_is_the_specified_file() {
    use sha2::Digest as _;
    let on_disk = fs::read(vectors().join("../qr-transport-dictionary-2.bin")).unwrap();
    assert_eq!(on_disk, transport::V2_DICTIONARY);
    let spec = fs::read_to_string(vectors().join("../qr-transport.md")).unwrap();
    let digest = hex(&sha2::Sha256::digest(transport::V2_DICTIONARY));
    assert!(
        spec.contains(&digest),
        "specs/qr-transport.md must give the dictionary's SHA-256 {digest}"
    );
    assert!(
        spec.contains(&format!("{} bytes", transport::V2_DICTIONARY.len())),
        "specs/qr-transport.md must give the dictionary's length"
    );
}

#[test]
fn texts_longer_than_any_qr_code_can_carry_are_refused_before_decoding() {
    // Valid base45 all the way (groups of "000" are zero bytes), so only
    // the length bound can refuse it; 64 MiB of it once took 700 MB.
    let long = format!(
        "{PREFIX}{}",
        "000".repeat(transport::MAX_TEXT_CHARS / 3 + 1)
    );
    for result in [
        transport::decode(&long),
        transport::from_texts(&[long.as_str()]),
    ] {
        assert_eq!(result.unwrap_err().code, ErrorCode::TransportTooLarge);
    }
    // The largest whole that MAX_PARTS codes carry is still read (and
    // refused for what it is, not for its length).
    let most = format!(
        "{PREFIX}{}",
        "000".repeat((transport::MAX_TEXT_CHARS - PREFIX.len()) / 3)
    );
    assert!(most.len() <= transport::MAX_TEXT_CHARS);
    assert_ne!(
        transport::decode(&most).unwrap_err().code,
        ErrorCode::TransportTooLarge
    );
    // A part longer than one QR code, and more parts than allowed.
    let single = transport::encode(&sample("presentation.txt")).unwrap();
    let mut parts = transport::split(&single, 400).unwrap();
    parts[0].push_str(&"0".repeat(transport::MAX_CODE_CHARS));
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    assert_eq!(
        transport::assemble(&refs).unwrap_err().code,
        ErrorCode::TransportTooLarge
    );
    let many = vec!["TB1M:1/2:00:0"; transport::MAX_PARTS + 1];
    assert_eq!(
        transport::assemble(&many).unwrap_err().code,
        ErrorCode::TransportTooLarge
    );
}
