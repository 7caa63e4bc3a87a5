//! What a wallet holding an access token can make the issuer spend through
//! the OpenID4VCI endpoints (`docs/security.md`, "Decompression bombs").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::{Method, StatusCode};
use josekit::jwe::{ECDH_ES, JweHeader};
use josekit::jwk::Jwk;
use rand_core::OsRng;
use serde_json::{Value, json};
use support::{DEMO_ISS, Harness};
use tongban_test_support::oid4vci::key_proof;
use tongban_test_support::sample::catalogue_claims;
use tongban_verifier::Ed25519Signer;

async fn access_token(h: &Harness, serial: u32) -> String {
    let (s, v) = h
        .post("/admin/v1/credentials", Some(&h.demo), &json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", serial), "offer": {"tx_code": false}}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let code = v["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        ["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _, t) = h
        .form(
            "/agencies/demo/token",
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                ),
                ("pre-authorized_code", &code),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    t["access_token"].as_str().unwrap().to_owned()
}

async fn c_nonce(h: &Harness) -> String {
    let (s, _, body) = h
        .raw(Method::POST, "/agencies/demo/nonce", &[], vec![])
        .await;
    assert_eq!(s, StatusCode::OK);
    serde_json::from_slice::<Value>(&body).unwrap()["c_nonce"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn issuer_request_key(h: &Harness) -> Jwk {
    let (_, meta) = h
        .get("/.well-known/openid-credential-issuer/agencies/demo", None)
        .await;
    Jwk::from_map(
        meta["credential_request_encryption"]["jwks"]["keys"][0]
            .as_object()
            .unwrap()
            .clone(),
    )
    .unwrap()
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
    let auth = format!("Bearer {access}");
    let (s, _, out) = h
        .raw(
            Method::POST,
            "/agencies/demo/credential",
            &[
                ("authorization", &auth),
                ("content-type", "application/jwt"),
            ],
            jwe.into_bytes(),
        )
        .await;
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
    let issuer_key = issuer_request_key(h).await;
    let access = access_token(h, 90).await;
    let now = h.now();
    // A genuine request with 8 MiB of padding in a member the endpoint
    // ignores: deflated, a few KB, well under the body limit.
    let n = c_nonce(h).await;
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
    let n = c_nonce(h).await;
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
    let issuer_key = issuer_request_key(h).await;
    let access = access_token(h, 91).await;
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
