//! Wallet attestation (attestation-based client authentication, draft -07)
//! at the token and PAR endpoints and key attestations (OpenID4VCI 1.0 Appendix D)
//! at the credential endpoint, under agency `demo`'s `required` policy
//! with a test wallet provider's root trusted, and agency `other` left
//! `off` (today's behaviour). One harness per backend runs every case in
//! turn: each refusal first, then the acceptance.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::{DEMO_ISS, Harness, c_nonce, offer, offer_parts};
use tongban_issuer::attestation_policy::{AttestationFile, AttestationPolicy, AttestationRules};
use tongban_issuer::config::Config;
use tongban_protocol::oid4vci::{CredentialRequest, sign_attested_proof};
use tongban_test_support::attestation::{TEST_CLIENT_ID, WalletProvider, p256_key_with_jwk, pop};
use tongban_verifier::{Ed25519Signer, P256Signer, Signer as _};

/// The trusted and an untrusted provider, the wallet's instance key and its
/// attestation, and the root file the configuration names.
struct Fixture {
    trusted: WalletProvider,
    /// Trusted too, but its signing certificate expired.
    stale: WalletProvider,
    untrusted: WalletProvider,
    instance: P256Signer,
    attestation: String,
    _dir: tempfile::TempDir,
}

fn fixture(now: i64) -> (Fixture, impl FnOnce(&mut Config)) {
    let trusted = WalletProvider::new("Acme", now).unwrap();
    let untrusted = WalletProvider::new("Rogue", now).unwrap();
    let stale = WalletProvider::with_leaf_validity("Stale", now, now - 7200, now - 3600).unwrap();
    let (instance, jwk) = p256_key_with_jwk().unwrap();
    let mut public = jwk.clone();
    public.as_object_mut().unwrap().remove("d");
    let attestation = trusted
        .wallet_attestation(&public, now - 60, now + 3600)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("acme-root.pem");
    std::fs::write(&root, &trusted.root_pem).unwrap();
    let stale_root = dir.path().join("stale-root.pem");
    std::fs::write(&stale_root, &stale.root_pem).unwrap();
    let tables = BTreeMap::from([(
        "demo".to_owned(),
        AttestationFile {
            wallet_attestation: Some(AttestationPolicy::Required),
            key_attestation: Some(AttestationPolicy::Required),
            trusted_wallet_providers: vec![root, stale_root],
            key_storage: Some(vec!["iso_18045_high".into(), "iso_18045_moderate".into()]),
            user_authentication: None,
        },
    )]);
    let rules = AttestationRules::resolve(tables).unwrap();
    (
        Fixture {
            trusted,
            stale,
            untrusted,
            instance,
            attestation,
            _dir: dir,
        },
        move |c: &mut Config| c.attestation = rules,
    )
}

const PRE_AUTH: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// A token request with `headers` and extra form pairs.
async fn token(
    h: &Harness,
    agency: &str,
    code: &str,
    headers: &[(&str, &str)],
    extra: &str,
) -> (StatusCode, Value) {
    let body = format!(
        "grant_type={}&pre-authorized_code={}{extra}",
        support_enc(PRE_AUTH),
        support_enc(code)
    );
    let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    let (s, _, out) = h
        .raw(
            Method::POST,
            &format!("/agencies/{agency}/token"),
            &all,
            body.into_bytes(),
        )
        .await;
    (s, serde_json::from_slice(&out).unwrap_or(Value::Null))
}

/// A pushed authorization request of agency `demo` (which has a citizen
/// login in the harness) for a business licence, with `headers`, as
/// `client_id`.
async fn par(h: &Harness, headers: &[(&str, &str)], client_id: &str) -> (StatusCode, Value) {
    let body = format!(
        "response_type=code&client_id={}&redirect_uri={}&code_challenge={}\
         &code_challenge_method=S256&scope=business-licence",
        support_enc(client_id),
        support_enc("http://127.0.0.1:4711/cb"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
    let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    let (s, _, out) = h
        .raw(Method::POST, "/agencies/demo/par", &all, body.into_bytes())
        .await;
    (s, serde_json::from_slice(&out).unwrap_or(Value::Null))
}

fn support_enc(s: &str) -> String {
    tongban_test_support::percent::encode_component(s)
}

async fn credential(h: &Harness, agency: &str, access: &str, req: &Value) -> (StatusCode, Value) {
    let auth = format!("Bearer {access}");
    let (s, _, out) = h
        .raw(
            Method::POST,
            &format!("/agencies/{agency}/credential"),
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            req.to_string().into_bytes(),
        )
        .await;
    (s, serde_json::from_slice(&out).unwrap_or(Value::Null))
}

/// Asserts a refusal: HTTP status, OAuth error and Tongban's code.
#[track_caller]
fn refused(got: (StatusCode, Value), status: StatusCode, error: &str, code: &str) {
    let (s, v) = got;
    assert_eq!(
        (s, v["error"].as_str(), v["attestation_error"].as_str()),
        (status, Some(error), Some(code)),
        "{v}"
    );
}

async fn run(h: &Harness, f: &Fixture) {
    let now = h.now();
    let unauthorized = StatusCode::UNAUTHORIZED;

    // Metadata says what the agency requires; `other` is unchanged.
    let (_, asm) = h
        .get(
            "/.well-known/oauth-authorization-server/agencies/demo",
            None,
        )
        .await;
    assert_eq!(
        asm["token_endpoint_auth_methods_supported"],
        json!(["attest_jwt_client_auth"])
    );
    assert_eq!(
        asm["pre-authorized_grant_anonymous_access_supported"],
        false
    );
    assert!(asm["client_attestation_signing_alg_values_supported"].is_array());
    let (_, meta) = h
        .get("/.well-known/openid-credential-issuer/agencies/demo", None)
        .await;
    let proofs =
        &meta["credential_configurations_supported"]["business-licence"]["proof_types_supported"];
    assert_eq!(
        proofs["jwt"]["key_attestations_required"],
        json!({"key_storage": ["iso_18045_high", "iso_18045_moderate"]})
    );
    assert!(proofs["attestation"].is_object(), "{proofs}");
    let (_, other) = h
        .get(
            "/.well-known/oauth-authorization-server/agencies/other",
            None,
        )
        .await;
    assert_eq!(
        other["token_endpoint_auth_methods_supported"],
        json!(["none"])
    );
    assert!(
        other
            .get("client_attestation_signing_alg_values_supported")
            .is_none()
    );

    // Token endpoint refusals; a refused request leaves the code usable.
    let (code, _) = offer_parts(&offer(h, &h.demo, "business-licence", 1, false).await);
    let good_pop = |jti: &str| pop(&f.instance, DEMO_ISS, jti, now).unwrap();
    let with = |att: &str, p: &str| -> Vec<(String, String)> {
        vec![
            ("OAuth-Client-Attestation".into(), att.into()),
            ("OAuth-Client-Attestation-PoP".into(), p.into()),
        ]
    };
    let send = |hs: Vec<(String, String)>, extra: &'static str| {
        let code = code.clone();
        async move {
            let refs: Vec<(&str, &str)> =
                hs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            token(h, "demo", &code, &refs, extra).await
        }
    };
    refused(
        send(vec![], "").await,
        unauthorized,
        "invalid_client",
        "wallet_attestation_missing",
    );
    let public = f.instance.public_key().to_jwk();
    let rogue = f
        .untrusted
        .wallet_attestation(&public, now - 60, now + 3600)
        .unwrap();
    refused(
        send(with(&rogue, &good_pop("r1")), "").await,
        unauthorized,
        "invalid_client_attestation",
        "attestation_untrusted_provider",
    );
    let expired = f
        .trusted
        .wallet_attestation(&public, now - 7200, now - 3600)
        .unwrap();
    refused(
        send(with(&expired, &good_pop("r2")), "").await,
        unauthorized,
        "invalid_client_attestation",
        "wallet_attestation_expired",
    );
    let claims = json!({"iss": f.trusted.iss, "sub": TEST_CLIENT_ID, "exp": now + 3600, "cnf": {"jwk": public}});
    let with_root = f
        .trusted
        .sign_wallet_attestation(
            &[f.trusted.leaf_der.clone(), f.trusted.root_der.clone()],
            &claims,
        )
        .unwrap();
    refused(
        send(with(&with_root, &good_pop("r3")), "").await,
        unauthorized,
        "invalid_client_attestation",
        "attestation_chain_includes_anchor",
    );
    let self_signed = tongban_protocol::oid4vci::sign_x5c_jwt(
        &f.untrusted.root_signer,
        tongban_protocol::oid4vci::CLIENT_ATTESTATION_TYP,
        std::slice::from_ref(&f.untrusted.root_der),
        &claims,
    )
    .unwrap();
    refused(
        send(with(&self_signed, &good_pop("r4")), "").await,
        unauthorized,
        "invalid_client_attestation",
        "attestation_leaf_self_signed",
    );
    let stale_att = f
        .stale
        .sign_wallet_attestation(std::slice::from_ref(&f.stale.leaf_der), &claims)
        .unwrap();
    refused(
        send(with(&stale_att, &good_pop("r5")), "").await,
        unauthorized,
        "invalid_client_attestation",
        "attestation_certificate_expired",
    );
    refused(
        send(
            vec![("OAuth-Client-Attestation".into(), f.attestation.clone())],
            "",
        )
        .await,
        unauthorized,
        "invalid_client_attestation",
        "wallet_attestation_pop_missing",
    );
    let (stranger, _) = p256_key_with_jwk().unwrap();
    let wrong_key = pop(&stranger, DEMO_ISS, "r6", now).unwrap();
    refused(
        send(with(&f.attestation, &wrong_key), "").await,
        unauthorized,
        "invalid_client_attestation",
        "wallet_attestation_pop_signature_invalid",
    );
    let wrong_aud = pop(&f.instance, "https://issuer.test/agencies/other", "r7", now).unwrap();
    refused(
        send(with(&f.attestation, &wrong_aud), "").await,
        unauthorized,
        "invalid_client_attestation",
        "wallet_attestation_pop_aud_wrong",
    );
    let stale = pop(&f.instance, DEMO_ISS, "r8", now - 3600).unwrap();
    refused(
        send(with(&f.attestation, &stale), "").await,
        unauthorized,
        "invalid_client_attestation",
        "wallet_attestation_pop_stale",
    );
    refused(
        send(
            with(&f.attestation, &good_pop("r9")),
            "&client_id=someone-else",
        )
        .await,
        unauthorized,
        "invalid_client_attestation",
        "wallet_attestation_client_id_mismatch",
    );

    // Accepted; the same proof again is a replay.
    let accepted = good_pop("ok-1");
    let (s, t) = send(
        with(&f.attestation, &accepted),
        "&client_id=https%3A%2F%2Fwallet.tongban.example%2Fcli",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let access = t["access_token"].as_str().unwrap().to_owned();
    let (code2, _) = offer_parts(&offer(h, &h.demo, "business-licence", 2, false).await);
    let refs = [
        ("OAuth-Client-Attestation", f.attestation.as_str()),
        ("OAuth-Client-Attestation-PoP", accepted.as_str()),
    ];
    refused(
        token(h, "demo", &code2, &refs, "").await,
        unauthorized,
        "invalid_client_attestation",
        "wallet_attestation_pop_replayed",
    );

    // The PAR endpoint authenticates the wallet as the token endpoint does
    // (HAIP 1.0: client authentication at PAR and token endpoints).
    refused(
        par(h, &[], TEST_CLIENT_ID).await,
        unauthorized,
        "invalid_client",
        "wallet_attestation_missing",
    );
    let par_pop = good_pop("par-1");
    let attested = [
        ("OAuth-Client-Attestation", f.attestation.as_str()),
        ("OAuth-Client-Attestation-PoP", par_pop.as_str()),
    ];
    refused(
        par(h, &attested, "someone-else").await,
        unauthorized,
        "invalid_client_attestation",
        "wallet_attestation_client_id_mismatch",
    );
    let par_pop = good_pop("par-2");
    let attested = [
        ("OAuth-Client-Attestation", f.attestation.as_str()),
        ("OAuth-Client-Attestation-PoP", par_pop.as_str()),
    ];
    let (s, v) = par(h, &attested, TEST_CLIENT_ID).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(
        v["request_uri"]
            .as_str()
            .unwrap()
            .starts_with("urn:ietf:params:oauth:request_uri:"),
        "{v}"
    );
    refused(
        par(h, &attested, TEST_CLIENT_ID).await,
        unauthorized,
        "invalid_client_attestation",
        "wallet_attestation_pop_replayed",
    );

    // Key attestations at the credential endpoint.
    let holder = P256Signer::from_bytes(&[9; 32], None).unwrap();
    let holder_jwk = holder.public_key().to_jwk();
    let proof_with = |ka: &str, nonce: &str| {
        sign_attested_proof(&holder, DEMO_ISS, Some(nonce), now, ka).unwrap()
    };
    let req = |proof: String| {
        serde_json::to_value(CredentialRequest::with_jwt_proof("business-licence", proof)).unwrap()
    };
    let invalid = StatusCode::BAD_REQUEST;
    let n = c_nonce(h, "demo").await;
    let plain = tongban_protocol::oid4vci::sign_proof(
        &holder,
        tongban_protocol::oid4vci::ProofKeyForm::Jwk,
        DEMO_ISS,
        Some(&n),
        now,
    )
    .unwrap();
    refused(
        credential(h, "demo", &access, &req(plain)).await,
        invalid,
        "invalid_proof",
        "key_attestation_missing",
    );
    let other_key = Ed25519Signer::from_seed(&[5; 32], None)
        .public_key()
        .to_jwk();
    let ka = f
        .trusted
        .key_attestation(
            &[other_key],
            Some(&n),
            now,
            Some(now + 600),
            &["iso_18045_high"],
        )
        .unwrap();
    refused(
        credential(h, "demo", &access, &req(proof_with(&ka, &n))).await,
        invalid,
        "invalid_proof",
        "key_attestation_key_not_covered",
    );
    let ka = f
        .untrusted
        .key_attestation(
            std::slice::from_ref(&holder_jwk),
            Some(&n),
            now,
            Some(now + 600),
            &["iso_18045_high"],
        )
        .unwrap();
    refused(
        credential(h, "demo", &access, &req(proof_with(&ka, &n))).await,
        invalid,
        "invalid_proof",
        "attestation_untrusted_provider",
    );
    let ka = f
        .trusted
        .key_attestation(
            std::slice::from_ref(&holder_jwk),
            Some("another"),
            now,
            Some(now + 600),
            &["iso_18045_high"],
        )
        .unwrap();
    refused(
        credential(h, "demo", &access, &req(proof_with(&ka, &n))).await,
        invalid,
        "invalid_nonce",
        "key_attestation_nonce_invalid",
    );
    let ka = f
        .trusted
        .key_attestation(
            std::slice::from_ref(&holder_jwk),
            Some(&n),
            now,
            Some(now + 600),
            &["iso_18045_basic"],
        )
        .unwrap();
    refused(
        credential(h, "demo", &access, &req(proof_with(&ka, &n))).await,
        invalid,
        "invalid_proof",
        "key_attestation_level_insufficient",
    );
    let ka = f
        .trusted
        .key_attestation(
            std::slice::from_ref(&holder_jwk),
            Some(&n),
            now,
            Some(now + 600),
            &["iso_18045_high"],
        )
        .unwrap();
    let (s, v) = credential(h, "demo", &access, &req(proof_with(&ka, &n))).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // The `attestation` proof type: no proof of possession, its nonce spent.
    let (code3, _) = offer_parts(&offer(h, &h.demo, "business-licence", 3, false).await);
    let refs = [
        ("OAuth-Client-Attestation", f.attestation.as_str()),
        ("OAuth-Client-Attestation-PoP", &*good_pop("ok-2")),
    ];
    let refs: Vec<(&str, &str)> = refs.iter().map(|(k, v)| (*k, *v)).collect();
    let (s, t) = token(h, "demo", &code3, &refs, "").await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let access3 = t["access_token"].as_str().unwrap();
    let n = c_nonce(h, "demo").await;
    let ka = f
        .trusted
        .key_attestation(
            std::slice::from_ref(&holder_jwk),
            Some(&n),
            now,
            None,
            &["iso_18045_moderate"],
        )
        .unwrap();
    let by_attestation = serde_json::to_value(CredentialRequest::with_attestation_proof(
        "business-licence",
        &ka,
    ))
    .unwrap();
    let (s, v) = credential(h, "demo", access3, &by_attestation).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = credential(h, "demo", access3, &by_attestation).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (unauthorized, Some("invalid_token")),
        "{v}"
    );

    // The `attestation` proof type attesting several keys: one credential
    // per attested key (a batch), each bound to its own key, in order.
    let (code5, _) = offer_parts(&offer(h, &h.demo, "business-licence", 5, false).await);
    let refs = [
        ("OAuth-Client-Attestation", f.attestation.as_str()),
        ("OAuth-Client-Attestation-PoP", &*good_pop("ok-batch")),
    ];
    let refs: Vec<(&str, &str)> = refs.iter().map(|(k, v)| (*k, *v)).collect();
    let (s, t) = token(h, "demo", &code5, &refs, "").await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let access5 = t["access_token"].as_str().unwrap();
    let keys: Vec<Value> = (20u8..23)
        .map(|i| {
            P256Signer::from_bytes(&[i; 32], None)
                .unwrap()
                .public_key()
                .to_jwk()
        })
        .collect();
    let n = c_nonce(h, "demo").await;
    let ka = f
        .trusted
        .key_attestation(&keys, Some(&n), now, None, &["iso_18045_high"])
        .unwrap();
    let batch = serde_json::to_value(CredentialRequest::with_attestation_proof(
        "business-licence",
        &ka,
    ))
    .unwrap();
    let (s, v) = credential(h, "demo", access5, &batch).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let issued = v["credentials"].as_array().unwrap();
    assert_eq!(issued.len(), keys.len(), "{v}");
    for (c, key) in issued.iter().zip(&keys) {
        let jws = c["credential"].as_str().unwrap().split('~').next().unwrap();
        let payload = jws.split('.').nth(1).unwrap();
        let payload: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();
        let cnf = &payload["cnf"]["jwk"];
        assert_eq!((&cnf["x"], &cnf["y"]), (&key["x"], &key["y"]), "{payload}");
    }

    // The storage levels are on the credential rows, in the admin view.
    let (s, list) = h.get("/admin/v1/credentials", Some(&h.demo)).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let levels: Vec<Value> = list["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key_storage"].clone())
        .filter(|k| !k.is_null())
        .collect();
    assert!(
        levels.contains(&json!({"key_storage": ["iso_18045_high"], "user_authentication": ["iso_18045_moderate"]})),
        "{list}"
    );
    assert!(
        levels.contains(&json!({"key_storage": ["iso_18045_moderate"], "user_authentication": ["iso_18045_moderate"]})),
        "{list}"
    );

    // Agency `other` (off): no attestation needed, and the attestation
    // proof type is not taken.
    let (code4, _) = offer_parts(&offer(h, &h.other, "driving-licence", 4, false).await);
    let (s, t) = token(h, "other", &code4, &[], "").await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let n = c_nonce(h, "other").await;
    let ka = f
        .trusted
        .key_attestation(
            std::slice::from_ref(&holder_jwk),
            Some(&n),
            now,
            None,
            &["iso_18045_high"],
        )
        .unwrap();
    let req = serde_json::to_value(CredentialRequest::with_attestation_proof(
        "driving-licence",
        &ka,
    ))
    .unwrap();
    refused(
        credential(h, "other", t["access_token"].as_str().unwrap(), &req).await,
        invalid,
        "invalid_proof",
        "key_attestation_not_accepted",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let now = tongban_service_kit::Clock::now(&tongban_service_kit::SystemClock);
    let (f, edit) = fixture(now);
    let h = Harness::sqlite_with(edit).await;
    run(&h, &f).await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let now = tongban_service_kit::Clock::now(&tongban_service_kit::SystemClock);
    let (f, edit) = fixture(now);
    let Some(h) = Harness::postgres_with(edit).await else {
        return;
    };
    run(&h, &f).await;
    h.finish().await;
}
