//! The receiving agency's service end to end in one process: back office
//! → request object → the wallet's encrypted response → verification →
//! outcome, and every refusal on the way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

on_both_backends!(
    tokens_are_scoped_and_tenants_isolated,
    unread_claims_are_erased_after_the_retention,
    an_expired_transaction_refuses_the_wallet_and_reads_expired,
    the_audit_log_says_who_asked_what_and_the_verdict_never_a_value,
    a_same_device_outcome_is_released_only_with_its_response_code,
    a_response_replayed_into_another_transaction_is_refused,
);

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{
    Backend, Harness, PUBLIC_URL, business_licence, driving_licence, encrypt_to, form, presentation,
};

async fn lifecycle(h: Harness) {
    let created = h.create(&h.qingpu, json!({})).await;
    assert_eq!(created["state"], "pending");
    let link = created["authorization_request"].as_str().unwrap();
    assert!(
        link.starts_with("openid4vp://?client_id=x509_hash%3A"),
        "{link}"
    );
    assert!(link.ends_with("&request_uri_method=post"), "{link}");
    assert_eq!(
        created["same_device_link"],
        created["authorization_request"]
    );
    let outcome_path = created["outcome"].as_str().unwrap().to_owned();
    let pending = h.get(&outcome_path, &h.qingpu).await.json();
    assert_eq!(pending["state"], "pending");
    assert!(pending["claims"].is_null());

    let req = h.fetch_request(&created, "wn-1").await;
    let r = h
        .answer(&req, "A128GCM", &Harness::good_payload(&req))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({}), "cross-device: no redirect");

    let first = h.get(&outcome_path, &h.qingpu).await.json();
    assert_eq!(first["state"], "accepted", "{first}");
    let claims = &first["claims"]["licence"][0];
    assert!(claims["company_name"].is_string(), "{first}");
    assert!(claims["legal_representative"].is_string());
    assert!(
        claims.get("unified_social_credit_code").is_none(),
        "only what was asked and disclosed"
    );
    assert_eq!(first["verdict"]["trust_bundle"]["trust_list_sequence"], 7);
    assert_eq!(first["verdict"]["trust_bundle"]["fresh"], true);
    assert_eq!(
        first["verdict"]["presentations"][0]["iss"],
        "https://amr.wujiang.example"
    );
    assert_eq!(first["service_item"], "310000-ZZ-001");
    let second = h.get(&outcome_path, &h.qingpu).await.json();
    assert_eq!(second["state"], "accepted");
    assert!(second["claims"].is_null(), "claims are handed over once");
    assert_eq!(second["claims_erased"], true);
    h.finish().await;
}

#[tokio::test]
async fn a_transaction_is_answered_verified_and_its_claims_read_once_sqlite() {
    lifecycle(Harness::sqlite().await).await;
}

#[tokio::test]
async fn a_transaction_is_answered_verified_and_its_claims_read_once_postgres() {
    if let Some(h) = Harness::open(Backend::Postgres).await {
        lifecycle(h).await;
    }
}

#[tokio::test]
async fn the_request_object_is_signed_by_the_tenants_ca_issued_leaf_and_names_it_by_hash() {
    let h = Harness::sqlite().await;
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "wallet-nonce-42").await;
    assert_eq!(req.header["typ"], "oauth-authz-req+jwt");
    assert_eq!(req.header["alg"], "ES256");
    let x5c = req.header["x5c"].as_array().unwrap();
    assert_eq!(x5c.len(), 1, "the leaf only; the CA is not sent");
    let leaf = req.leaf_der();
    let hash = URL_SAFE_NO_PAD.encode(Sha256::digest(&leaf));
    assert_eq!(req.client_id(), format!("x509_hash:{hash}"));
    assert_eq!(created["client_id"], req.client_id());
    // The signature verifies with the leaf's key, and the leaf chains to /ca.pem.
    let cert = openssl::x509::X509::from_der(&leaf).unwrap();
    let spki = cert.public_key().unwrap().public_key_to_der().unwrap();
    let verifier = josekit::jws::ES256.verifier_from_der(&spki).unwrap();
    josekit::jws::deserialize_compact(&req.jws, &verifier).unwrap();
    let ca_pem = h.call(Method::GET, "/ca.pem", None, None, vec![]).await;
    let ca = openssl::x509::X509::from_pem(&ca_pem.body).unwrap();
    assert_eq!(ca.issued(&cert), openssl::x509::X509VerifyResult::OK);
    assert!(cert.verify(&ca.public_key().unwrap()).unwrap());
    assert!(
        !cert.verify(&cert.public_key().unwrap()).unwrap(),
        "not self-signed"
    );
    // The claims.
    let c = &req.claims;
    assert_eq!(c["wallet_nonce"], "wallet-nonce-42");
    assert_eq!(c["response_type"], "vp_token");
    assert_eq!(c["response_mode"], "direct_post.jwt");
    assert_eq!(c["aud"], "https://self-issued.me/v2");
    assert_eq!(
        c["response_uri"],
        format!(
            "{PUBLIC_URL}/oid4vp/response/{}",
            created["id"].as_str().unwrap()
        )
    );
    assert_eq!(
        c["dcql_query"]["credentials"][0]["meta"]["vct_values"][0],
        support::BL
    );
    let jwk = req.jwk();
    assert_eq!(jwk["use"], "enc");
    assert_eq!(jwk["alg"], "ECDH-ES");
    assert_eq!(jwk["crv"], "P-256");
    assert!(jwk["kid"].is_string() && !jwk.contains_key("d"));
    assert_eq!(
        c["client_metadata"]["encrypted_response_enc_values_supported"],
        json!(["A128GCM", "A256GCM"])
    );
    assert_eq!(
        c["client_metadata"]["vp_formats_supported"]["dc+sd-jwt"]["kb-jwt_alg_values"],
        json!(["EdDSA", "ES256"])
    );
    assert_eq!(
        c["tongban_purpose"]["verifier_name_zh"],
        "青浦区行政服务中心"
    );
    assert_eq!(c["tongban_purpose"]["service_item"], "310000-ZZ-001");
    // Content type, and GET too.
    let path = created["request_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(PUBLIC_URL)
        .unwrap();
    let r = h.call(Method::GET, path, None, None, vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/oauth-authz-req+jwt");
    // A second transaction has its own key.
    let other = h
        .fetch_request(&h.create(&h.qingpu, json!({})).await, "n")
        .await;
    assert_ne!(other.jwk()["x"], jwk["x"]);
    assert_ne!(other.nonce(), req.nonce());
}

#[tokio::test]
async fn an_x509_san_dns_tenant_is_named_by_its_dns_name() {
    let h = Harness::sqlite().await;
    let created = h.create(&h.jiashan, json!({})).await;
    assert_eq!(created["client_id"], "x509_san_dns:verifier.test");
    let req = h.fetch_request(&created, "n").await;
    assert_eq!(req.client_id(), "x509_san_dns:verifier.test");
    let r = h
        .answer(&req, "A256GCM", &Harness::good_payload(&req))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn a256gcm_is_accepted_and_an_unlisted_enc_or_another_key_is_refused_without_closing() {
    let h = Harness::sqlite().await;
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    let path = req.claims["response_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(PUBLIC_URL)
        .unwrap()
        .to_owned();
    let payload = Harness::good_payload(&req);
    let kid = req.jwk()["kid"].as_str().unwrap().to_owned();
    // A192GCM is not listed.
    let jwe = encrypt_to(&req.jwk(), "A192GCM", Some(&kid), &payload);
    let r = h.post_form(&path, &form(&[("response", &jwe)])).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "response_enc_unsupported".into())
    );
    assert_eq!(r.json()["error"], "invalid_request");
    // A wrong kid.
    let jwe = encrypt_to(&req.jwk(), "A128GCM", Some("not-this-one"), &payload);
    let r = h.post_form(&path, &form(&[("response", &jwe)])).await;
    assert_eq!(r.code(), "response_wrong_key");
    // Another transaction's key, with this transaction's kid.
    let other = h
        .fetch_request(&h.create(&h.qingpu, json!({})).await, "n")
        .await;
    let jwe = encrypt_to(&other.jwk(), "A128GCM", Some(&kid), &payload);
    let r = h.post_form(&path, &form(&[("response", &jwe)])).await;
    assert_eq!(r.code(), "response_wrong_key");
    // Unencrypted where encryption is required.
    let vp = payload["vp_token"].to_string();
    let r = h
        .post_form(&path, &form(&[("vp_token", &vp), ("state", req.state())]))
        .await;
    assert_eq!(r.code(), "encryption_required");
    // Still pending; then A256GCM is accepted.
    assert_eq!(
        h.get(created["outcome"].as_str().unwrap(), &h.qingpu)
            .await
            .json()["state"],
        "pending"
    );
    let r = h.answer(&req, "A256GCM", &payload).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn a_response_replayed_into_another_transaction_is_refused(h: Harness) {
    let a = h
        .fetch_request(&h.create(&h.qingpu, json!({})).await, "n")
        .await;
    let b_created = h.create(&h.qingpu, json!({})).await;
    let b = h.fetch_request(&b_created, "n").await;
    let for_a = Harness::good_payload(&a);
    // A's JWE posted to B: not B's key.
    let jwe = encrypt_to(&a.jwk(), "A128GCM", a.jwk()["kid"].as_str(), &for_a);
    let b_path = b.claims["response_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(PUBLIC_URL)
        .unwrap()
        .to_owned();
    let r = h.post_form(&b_path, &form(&[("response", &jwe)])).await;
    assert_eq!(r.code(), "response_wrong_key");
    // A's content re-encrypted to B: A's state is not B's.
    let r = h.answer(&b, "A128GCM", &for_a).await;
    assert_eq!(r.code(), "state_mismatch");
    // With B's state but A's presentation (A's nonce): the key binding fails.
    let mut replay = for_a.clone();
    replay["state"] = b.state().into();
    let r = h.answer(&b, "A128GCM", &replay).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "presentation_rejected".into()),
        "{}",
        r.text()
    );
    let outcome = h
        .get(b_created["outcome"].as_str().unwrap(), &h.qingpu)
        .await
        .json();
    assert_eq!(outcome["state"], "rejected");
    assert_eq!(outcome["verdict"]["codes"][0], "presentation_rejected");
    assert!(
        outcome["verdict"]["codes"][1]
            .as_str()
            .unwrap()
            .contains("nonce"),
        "{outcome}"
    );
    h.finish().await;
}

#[tokio::test]
async fn a_transaction_answers_once() {
    let h = Harness::sqlite().await;
    let req = h
        .fetch_request(&h.create(&h.qingpu, json!({})).await, "n")
        .await;
    let payload = Harness::good_payload(&req);
    assert_eq!(
        h.answer(&req, "A128GCM", &payload).await.status,
        StatusCode::OK
    );
    let r = h.answer(&req, "A128GCM", &payload).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "transaction_already_answered".into())
    );
    let path = req.claims["response_uri"]
        .as_str()
        .unwrap()
        .replace("/response/", "/request/");
    let r = h
        .post_form(path.strip_prefix(PUBLIC_URL).unwrap(), "")
        .await;
    assert_eq!(r.code(), "transaction_already_answered");
}

async fn an_expired_transaction_refuses_the_wallet_and_reads_expired(h: Harness) {
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    h.clock.advance(301);
    let r = h
        .answer(&req, "A128GCM", &Harness::good_payload(&req))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::GONE, "transaction_expired".into())
    );
    let path = created["request_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(PUBLIC_URL)
        .unwrap()
        .to_owned();
    assert_eq!(h.post_form(&path, "").await.code(), "transaction_expired");
    assert_eq!(
        h.get(created["outcome"].as_str().unwrap(), &h.qingpu)
            .await
            .json()["state"],
        "expired"
    );
    let m = h.svc.maintain().await.unwrap();
    assert_eq!(m.expired, 1);
    assert_eq!(
        h.get(created["outcome"].as_str().unwrap(), &h.qingpu)
            .await
            .json()["state"],
        "expired"
    );
    h.finish().await;
}

#[tokio::test]
async fn oversize_bodies_are_refused() {
    let h =
        Harness::sqlite_with(&[("max_response_bytes", "4096"), ("max_body_bytes", "2048")]).await;
    let req = h
        .fetch_request(&h.create(&h.qingpu, json!({})).await, "n")
        .await;
    let path = req.claims["response_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(PUBLIC_URL)
        .unwrap()
        .to_owned();
    let big = "a".repeat(5000);
    let r = h.post_form(&path, &form(&[("response", &big)])).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large".into())
    );
    let r = h
        .post_json(
            "/api/v1/transactions",
            &h.qingpu,
            &json!({"service_item": "x".repeat(3000)}),
        )
        .await;
    assert_eq!(r.code(), "body_too_large");
    let r = h
        .post_form(
            "/oid4vp/request/whatever",
            &form(&[("wallet_metadata", &"x".repeat(3000))]),
        )
        .await;
    assert_eq!(r.code(), "body_too_large");
}

#[tokio::test]
async fn access_denied_is_recorded_as_the_citizens_refusal() {
    let h = Harness::sqlite().await;
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    let path = req.claims["response_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(PUBLIC_URL)
        .unwrap()
        .to_owned();
    let r = h
        .post_form(
            &path,
            &form(&[("error", "access_denied"), ("state", "not-the-state")]),
        )
        .await;
    assert_eq!(
        r.code(),
        "state_mismatch",
        "a stranger cannot decline for the citizen"
    );
    let r = h
        .post_form(
            &path,
            &form(&[
                ("error", "access_denied"),
                ("error_description", "citizen declined"),
                ("state", req.state()),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let o = h
        .get(created["outcome"].as_str().unwrap(), &h.qingpu)
        .await
        .json();
    assert_eq!(o["state"], "refused");
    assert_eq!(o["verdict"]["wallet_error"], "access_denied");
    // An encrypted error from another wallet is a failure, not a refusal.
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    let r = h
        .answer(
            &req,
            "A128GCM",
            &json!({"error": "invalid_request", "state": req.state()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        h.get(created["outcome"].as_str().unwrap(), &h.qingpu)
            .await
            .json()["state"],
        "failed"
    );
}

async fn a_same_device_outcome_is_released_only_with_its_response_code(h: Harness) {
    let r = h.post_json("/api/v1/transactions", &h.qingpu, &json!({
        "licence": {"type": "business-licence", "claims": ["company_name"]},
        "purpose": {"zh": "办事", "en": "Service"}, "service_item": "s", "flow": "same_device",
    })).await;
    assert_eq!(
        r.code(),
        "invalid_request",
        "same-device needs the back office's page"
    );
    let created = h
        .create(
            &h.qingpu,
            json!({"flow": "same_device", "redirect_page": "https://ywtb.qingpu.example/return"}),
        )
        .await;
    let req = h.fetch_request(&created, "n").await;
    let r = h
        .answer(&req, "A128GCM", &Harness::good_payload(&req))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let redirect = r.json()["redirect_uri"].as_str().unwrap().to_owned();
    let code = redirect
        .strip_prefix("https://ywtb.qingpu.example/return#response_code=")
        .unwrap()
        .to_owned();
    assert_eq!(URL_SAFE_NO_PAD.decode(&code).unwrap().len(), 16, "128 bits");
    let outcome = created["outcome"].as_str().unwrap();
    let r = h.get(outcome, &h.qingpu).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "response_code_required".into())
    );
    let r = h
        .get(
            &format!("{outcome}?response_code=AAAAAAAAAAAAAAAAAAAAAA"),
            &h.qingpu,
        )
        .await;
    assert_eq!(r.code(), "response_code_wrong");
    let o = h
        .get(&format!("{outcome}?response_code={code}"), &h.qingpu)
        .await
        .json();
    assert_eq!(o["state"], "accepted");
    assert!(o["claims"]["licence"][0]["company_name"].is_string());
    h.finish().await;
}

async fn tokens_are_scoped_and_tenants_isolated(h: Harness) {
    let created = h.create(&h.qingpu, json!({})).await;
    let outcome = created["outcome"].as_str().unwrap();
    let r = h.get(outcome, &h.jiashan).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "not_found".into()),
        "another tenant's transaction does not exist for you"
    );
    assert_eq!(
        h.get(&format!("{outcome}/qr.png"), &h.jiashan).await.status,
        StatusCode::NOT_FOUND
    );
    let r = h.get(outcome, &h.admin).await;
    assert_eq!(
        r.code(),
        "forbidden",
        "the admin token reads no transaction"
    );
    let r = h.get("/api/v1/tenants", &h.qingpu).await;
    assert_eq!(r.code(), "forbidden");
    let r = h.call(Method::GET, outcome, None, None, vec![]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.contains_key("www-authenticate"));
    assert_eq!(h.get(outcome, "tbvs_forged").await.code(), "unauthorized");
    // The admin makes a token, which works until revoked.
    let t = h
        .post_json(
            "/api/v1/tokens",
            &h.admin,
            &json!({"tenant": "qingpu", "label": "desk 2"}),
        )
        .await
        .json();
    let secret = t["token"].as_str().unwrap().to_owned();
    assert_eq!(h.get(outcome, &secret).await.status, StatusCode::OK);
    let listed = h.get("/api/v1/tokens", &h.admin).await.text();
    assert!(!listed.contains(&secret), "no secret is ever listed");
    let r = h
        .post_json(
            &format!("/api/v1/tokens/{}/revoke", t["id"].as_str().unwrap()),
            &h.admin,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(h.get(outcome, &secret).await.code(), "unauthorized");
    // Tenants through the API.
    let r = h.post_json("/api/v1/tenants", &h.admin, &json!({"id": "wujiang", "name_zh": "吴江区", "name_en": "Wujiang", "region": "320509", "dns": "wujiang.verifier.test"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert!(
        r.json()["client_id"]
            .as_str()
            .unwrap()
            .starts_with("x509_hash:")
    );
    let r = h.post_json("/api/v1/tenants", &h.admin, &json!({"id": "wujiang", "name_zh": "x", "name_en": "x", "region": "320509", "dns": "w.test"})).await;
    assert_eq!(r.code(), "conflict");
    let r = h.post_json("/api/v1/tenants", &h.admin, &json!({"id": "x", "name_zh": "x", "name_en": "x", "region": "320509", "dns": "elsewhere.test", "client_id_prefix": "x509_san_dns"})).await;
    assert_eq!(
        r.code(),
        "invalid_request",
        "x509_san_dns must name the response URI's host"
    );
    h.finish().await;
}

async fn unread_claims_are_erased_after_the_retention(h: Harness) {
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    assert_eq!(
        h.answer(&req, "A128GCM", &Harness::good_payload(&req))
            .await
            .status,
        StatusCode::OK
    );
    h.clock.advance(599);
    assert_eq!(h.svc.maintain().await.unwrap().erased, 0);
    h.clock.advance(2);
    assert_eq!(h.svc.maintain().await.unwrap().erased, 1);
    let o = h
        .get(created["outcome"].as_str().unwrap(), &h.qingpu)
        .await
        .json();
    assert_eq!(o["state"], "accepted");
    assert!(o["claims"].is_null());
    assert_eq!(o["claims_erased"], true);
    h.finish().await;
}

#[tokio::test]
async fn a_long_poll_wakes_when_the_answer_lands() {
    let h = Harness::sqlite().await;
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    let outcome = format!("{}?wait=30", created["outcome"].as_str().unwrap());
    let started = std::time::Instant::now();
    let (poll, answer) = tokio::join!(h.get(&outcome, &h.qingpu), async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        h.answer(&req, "A128GCM", &Harness::good_payload(&req))
            .await
    });
    assert_eq!(answer.status, StatusCode::OK);
    let o = poll.json();
    assert_eq!(o["state"], "accepted", "{o}");
    assert!(o["claims"]["licence"].is_array());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "woken, not polled: {:?}",
        started.elapsed()
    );
    // The event stream of an answered transaction: one state event, then the end.
    let ev = h
        .get(
            &format!("{}/events", created["outcome"].as_str().unwrap()),
            &h.qingpu,
        )
        .await;
    assert_eq!(ev.status, StatusCode::OK);
    assert!(ev.text().contains("event: state"), "{}", ev.text());
    assert!(ev.text().contains("\"accepted\""));
}

#[tokio::test]
async fn a_malformed_query_parameter_gets_a_json_error_with_its_code() {
    let h = Harness::sqlite().await;
    let created = h.create(&h.qingpu, json!({})).await;
    let r = h
        .get(
            &format!("{}?wait=abc", created["outcome"].as_str().unwrap()),
            &h.qingpu,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.json();
    assert_eq!(body["code"], "invalid_request", "{body}");
    assert!(body["message_zh"].is_string());
    let r = h.get("/api/v1/audit?after=x", &h.qingpu).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["code"], "invalid_request");
    h.finish().await;
}

#[tokio::test]
async fn a_wrong_type_or_a_missing_claim_is_rejected_with_its_code() {
    let h = Harness::sqlite().await;
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    let p = presentation(
        &driving_licence(),
        &["licence_id"],
        req.client_id(),
        req.nonce(),
    );
    let r = h
        .answer(
            &req,
            "A128GCM",
            &json!({"vp_token": {"licence": [p]}, "state": req.state()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["codes"],
        json!(["dcql_wrong_type"]),
        "{}",
        r.text()
    );
    let o = h
        .get(created["outcome"].as_str().unwrap(), &h.qingpu)
        .await
        .json();
    assert_eq!(o["state"], "rejected");
    assert!(o["claims"].is_null());
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    let p = presentation(
        &business_licence(),
        &["company_name"],
        req.client_id(),
        req.nonce(),
    );
    let r = h
        .answer(
            &req,
            "A128GCM",
            &json!({"vp_token": {"licence": [p]}, "state": req.state()}),
        )
        .await;
    assert_eq!(
        r.json()["codes"],
        json!(["dcql_claim_missing"]),
        "{}",
        r.text()
    );
}

async fn the_audit_log_says_who_asked_what_and_the_verdict_never_a_value(h: Harness) {
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    h.answer(&req, "A128GCM", &Harness::good_payload(&req))
        .await;
    let claims = h
        .get(created["outcome"].as_str().unwrap(), &h.qingpu)
        .await
        .json()["claims"]["licence"][0]
        .clone();
    let log = h.get("/api/v1/audit", &h.qingpu).await.json();
    let text = log.to_string();
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "tenant.create",
            "token.create",
            "transaction.create",
            "transaction.answer",
            "transaction.claims_read"
        ]
    );
    assert!(text.contains("310000-ZZ-001") && text.contains("company_name"));
    for name in ["company_name", "legal_representative"] {
        let v = claims[name].as_str().unwrap();
        assert!(
            !text.contains(v),
            "a claim value leaked into the audit log: {v}"
        );
    }
    for check in h.svc.verify_audit().await.unwrap() {
        assert!(check.error.is_none(), "{check:?}");
    }
    h.finish().await;
}

#[tokio::test]
async fn readiness_needs_a_fresh_bundle_and_every_answer_needs_one() {
    let h = Harness::sqlite().await;
    let r = h.call(Method::GET, "/readyz", None, None, vec![]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let req = h
        .fetch_request(&h.create(&h.qingpu, json!({})).await, "n")
        .await;
    h.clock.advance(86_400);
    let r = h.call(Method::GET, "/readyz", None, None, vec![]).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["trust_bundle"]["fresh"], false);
    let _ = req;
    let req = h
        .fetch_request(&h.create(&h.qingpu, json!({})).await, "n")
        .await;
    let r = h
        .answer(&req, "A128GCM", &Harness::good_payload(&req))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "trust_bundle_unavailable".into()
        )
    );
}

#[tokio::test]
async fn qr_codes_openapi_and_metrics() {
    let h = Harness::sqlite().await;
    let created = h.create(&h.qingpu, json!({})).await;
    let png = h.get(created["qr_png"].as_str().unwrap(), &h.qingpu).await;
    assert_eq!(png.headers["content-type"], "image/png");
    assert!(png.body.starts_with(b"\x89PNG"));
    let texts = tongban_cli_support::qr::decode_image(&png.body).unwrap();
    assert_eq!(texts, [created["authorization_request"].as_str().unwrap()]);
    let svg = h.get(created["qr_svg"].as_str().unwrap(), &h.qingpu).await;
    assert!(svg.text().contains("<svg"));
    let doc = h
        .call(Method::GET, "/openapi.json", None, None, vec![])
        .await
        .json();
    for (_, path, _) in tongban_verifier_service::api::ROUTES {
        assert!(doc["paths"].get(*path).is_some(), "{path}");
    }
    let m = h
        .call(Method::GET, "/metrics", None, None, vec![])
        .await
        .text();
    assert!(m.contains("tongban_vp_transactions_created_total"), "{m}");
    let v: Value = h
        .call(Method::GET, "/healthz", None, None, vec![])
        .await
        .json();
    assert_eq!(v["status"], "ok");
}
