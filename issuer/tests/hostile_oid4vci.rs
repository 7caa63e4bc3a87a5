//! What a wallet holding an access token can make the issuer spend through
//! the OpenID4VCI endpoints (`docs/security.md`, "Decompression bombs").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use josekit::jwe::{ECDH_ES, JweHeader};
use josekit::jwk::Jwk;
use rand_core::OsRng;
use serde_json::{Value, json};
use support::{
    DEMO_ISS, Harness, access_token, c_nonce, offer, offer_parts, post_credential_jwt,
    request_encryption_key,
};
use tongban_test_support::oid4vci::key_proof;
use tongban_verifier::Ed25519Signer;

/// An access token for a fresh offer of agency `demo`.
async fn fresh_access_token(h: &Harness, serial: u32) -> String {
    let (code, _) = offer_parts(&offer(h, &h.demo, "business-licence", serial, false).await);
    access_token(h, &code).await
}

fn encrypt(issuer_key: &Jwk, payload: &[u8], zip: Option<&str>) -> String {
    let mut hd = JweHeader::new();
    hd.set_content_encryption("A128GCM");
    hd.set_key_id(issuer_key.key_id().unwrap());
    if let Some(z) = zip {
        hd.set_compression(z);
    }
    josekit::jwe::serialize_compact(
        payload,
        &hd,
        &ECDH_ES.encrypter_from_jwk(issuer_key).unwrap(),
    )
    .unwrap()
}

async fn send(h: &Harness, access: &str, jwe: String) -> (StatusCode, Value) {
    let (s, _, out) = post_credential_jwt(h, access, jwe).await;
    (s, serde_json::from_slice(&out).unwrap_or(Value::Null))
}

/// *Outside review:* a credential request JWE with `zip: DEF` inflated
/// 63 KB to 48 MB (josekit inflates without a limit), replayable for the
/// access token's lifetime. A compressed request is refused from its
/// protected header, before anything is decrypted or inflated; the issuer
/// advertises no `zip_values_supported` (OpenID4VCI 1.0, Credential Issuer Metadata), so `zip` is
/// an encryption parameter it does not accept: `invalid_encryption_parameters`.
async fn a_compressed_credential_request_is_refused_before_it_is_decrypted(h: &Harness) {
    let signer = Ed25519Signer::generate(&mut OsRng, None);
    let issuer_key = request_encryption_key(h, "demo").await;
    let access = fresh_access_token(h, 90).await;
    let now = h.now();
    // A genuine request with 8 MiB of padding in a member the endpoint
    // ignores: deflated, a few KB, well under the body limit.
    let n = c_nonce(h, "demo").await;
    let body = json!({
        "credential_configuration_id": "business-licence",
        "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]},
        "padding": "a".repeat(8 << 20),
    });
    let bomb = encrypt(&issuer_key, body.to_string().as_bytes(), Some("DEF"));
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let (s, v) = send(h, &access, bomb).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("invalid_encryption_parameters")
        ),
        "{v}"
    );
    assert!(
        v["error_description"].as_str().unwrap().contains("zip"),
        "{v}"
    );
    // Refused from the header alone: the same header over a ciphertext that
    // would not even decrypt gets the same answer, not a decryption error.
    let small = encrypt(&issuer_key, b"{}", Some("DEF"));
    let mut parts: Vec<&str> = small.split('.').collect();
    parts[3] = "AAAAAAAAAAAAAAAAAAAAAA";
    let (s, v) = send(h, &access, parts.join(".")).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("invalid_encryption_parameters")
        ),
        "{v}"
    );
    assert!(
        v["error_description"].as_str().unwrap().contains("zip"),
        "{v}"
    );
    // The refusal spent nothing: the same access token, uncompressed, works.
    let n = c_nonce(h, "demo").await;
    let body = json!({
        "credential_configuration_id": "business-licence",
        "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]},
    });
    let (s, v) = send(
        h,
        &access,
        encrypt(&issuer_key, body.to_string().as_bytes(), None),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["credentials"][0]["credential"].is_string(), "{v}");
}

/// A protected header that is not a base64url JSON object is refused as an
/// encryption parameter, before decryption too.
async fn a_request_jwe_with_an_unreadable_header_is_refused(h: &Harness) {
    let issuer_key = request_encryption_key(h, "demo").await;
    let access = fresh_access_token(h, 91).await;
    let good = encrypt(&issuer_key, b"{}", None);
    let mut parts: Vec<&str> = good.split('.').collect();
    for header in ["!!!", "bnVsbA", "W10"] {
        parts[0] = header;
        let (s, v) = send(h, &access, parts.join(".")).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (
                StatusCode::BAD_REQUEST,
                Some("invalid_encryption_parameters")
            ),
            "{header}: {v}"
        );
    }
}

both_backends!(
    a_compressed_credential_request_is_refused_before_it_is_decrypted,
    a_request_jwe_with_an_unreadable_header_is_refused,
);
