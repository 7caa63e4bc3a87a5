//! What sd-jwt-rs 0.7.1 (the Rust peer, with jsonwebtoken 9) does with the
//! algorithm names Tongban signs under (`docs/interop.md`): it verifies an
//! issuer JWT named `EdDSA` and one signed `ES256`, and refuses the fully
//! specified `Ed25519` of RFC 9864 before any signature is checked, because
//! jsonwebtoken's closed `Algorithm` has no such name. Agencies that must be
//! read by it keep the default `--jws-alg-name eddsa`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jsonwebtoken::DecodingKey;
use sd_jwt_rs::{SDJWTSerializationFormat, SDJWTVerifier};
use serde_json::json;
use tongban_verifier::*;

const ISS: &str = "https://amr.wujiang.example";
const AUD: &str = "https://counter.qingpu.example";
const NONCE: &str = "n-peer";

/// A presentation of every claim, at the system's time (sd-jwt-rs reads
/// the system clock for `exp` and the KB-JWT's `iat`).
fn presentation(issuer: &dyn Signer, holder: &dyn Signer) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let issued = CredentialBuilder::new(ISS, "urn:tongban:business-licence:1", now - 60)
        .expires_at(now + 86_400)
        .holder_key(holder.public_key())
        .claim("company_name", json!("吴江互通有限公司"))
        .issue(issuer, &mut rand::rngs::OsRng)
        .unwrap();
    let held = HeldCredential::parse(&issued.sd_jwt).unwrap();
    let kb = KeyBinding {
        signer: holder,
        audience: AUD.into(),
        nonce: NONCE.into(),
        iat: now,
        transaction_data_hashes: Vec::new(),
    };
    held.present(held.disclosable_paths(), Some(&kb)).unwrap()
}

fn peer(presentation: String, key: DecodingKey) -> Result<String, String> {
    SDJWTVerifier::new(
        presentation,
        Box::new(move |_, _| key.clone()),
        Some(AUD.to_owned()),
        Some(NONCE.to_owned()),
        SDJWTSerializationFormat::Compact,
    )
    .map(|v| v.verified_claims["company_name"].to_string())
    .map_err(|e| format!("{e:?}"))
}

fn component(jwk: &serde_json::Value, m: &str) -> String {
    jwk[m].as_str().unwrap().to_owned()
}

#[test]
fn sd_jwt_rs_reads_eddsa_and_es256_and_refuses_the_ed25519_name() {
    let holder = Ed25519Signer::from_seed(&[0x22; 32], None);
    for (name, fully_specified) in [("EdDSA", false), ("Ed25519", true)] {
        let issuer = Ed25519Signer::from_seed(&[0x11; 32], None).fully_specified(fully_specified);
        let key = DecodingKey::from_ed_components(&component(&issuer.public_key().to_jwk(), "x"))
            .unwrap();
        let got = peer(presentation(&issuer, &holder), key);
        match name {
            "EdDSA" => assert_eq!(got.as_deref(), Ok("\"吴江互通有限公司\"")),
            // "unknown variant `Ed25519`, expected one of … `EdDSA`": the
            // header does not parse.
            _ => assert!(
                got.as_ref()
                    .is_err_and(|e| e.contains("unknown variant `Ed25519`")),
                "sd-jwt-rs now reads Ed25519 ({got:?}): update docs/interop.md"
            ),
        }
    }
    let es = P256Signer::from_bytes(&[0x33; 32], None).unwrap();
    let jwk = es.public_key().to_jwk();
    let key =
        DecodingKey::from_ec_components(&component(&jwk, "x"), &component(&jwk, "y")).unwrap();
    assert_eq!(
        peer(presentation(&es, &holder), key).as_deref(),
        Ok("\"吴江互通有限公司\"")
    );
}
