//! Project Wycheproof's Ed25519 and ECDSA P-256 (IEEE P1363, as JWS uses)
//! vectors run against Tongban's signature path: the public key through our
//! JWK parser, the signature through `PublicKey::verify` (Ed25519: the
//! cofactored equation of `tongban_verifier::ed25519`). Every "valid" vector must verify and every "invalid"
//! one must not. These files hold no "acceptable" vectors; were one added,
//! Tongban's choice is to reject it (strict verification), and this test
//! accepts either outcome for it only after the choice is written down here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::Path;

use serde_json::Value;
use tongban_verifier::{Algorithm, PublicKey};

fn load(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/vectors/wycheproof")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Some P-256 groups give only the uncompressed point (`04 || x || y`).
fn jwk_from_uncompressed(hex_point: &str) -> Value {
    let p = hex(hex_point);
    assert_eq!((p.len(), p[0]), (65, 4));
    let b64 = tongban_verifier::encoding::b64_encode;
    serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(&p[1..33]), "y": b64(&p[33..])})
}

/// Runs a file; returns (valid, invalid, acceptable) counts checked.
fn run(file: &str, alg: Algorithm) -> (usize, usize, usize) {
    let doc = load(file);
    let (mut valid, mut invalid, mut acceptable) = (0, 0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        // A key our JWK parser refuses (e.g. a small-order Ed25519 point)
        // can verify nothing: every test of the group must then be invalid.
        let jwk = match &group["publicKeyJwk"] {
            Value::Null => {
                jwk_from_uncompressed(group["publicKey"]["uncompressed"].as_str().unwrap())
            }
            jwk => jwk.clone(),
        };
        let key = PublicKey::from_jwk(&jwk);
        for t in group["tests"].as_array().unwrap() {
            let id = t["tcId"].as_u64().unwrap();
            let ok = key.as_ref().is_ok_and(|k| {
                k.verify(
                    alg,
                    &hex(t["msg"].as_str().unwrap()),
                    &hex(t["sig"].as_str().unwrap()),
                )
            });
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert!(
                        ok,
                        "{file} tcId {id} ({}) is valid but was rejected",
                        t["comment"]
                    );
                    valid += 1;
                }
                "invalid" => {
                    assert!(
                        !ok,
                        "{file} tcId {id} ({}) is invalid but was accepted",
                        t["comment"]
                    );
                    invalid += 1;
                }
                _ => {
                    // Tongban's choice for "acceptable": reject.
                    assert!(
                        !ok,
                        "{file} tcId {id} ({}) is only acceptable; Tongban rejects it",
                        t["comment"]
                    );
                    acceptable += 1;
                }
            }
        }
    }
    (valid, invalid, acceptable)
}

#[test]
fn wycheproof_ed25519() {
    let (v, i, a) = run("ed25519_test.json", Algorithm::EdDsa);
    assert_eq!((v, i, a), (88, 63, 0));
}

#[test]
fn wycheproof_ecdsa_p256_p1363() {
    let (v, i, a) = run("ecdsa_secp256r1_sha256_p1363_test.json", Algorithm::Es256);
    assert_eq!((v, i, a), (173, 89, 0));
}
