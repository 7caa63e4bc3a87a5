//! The issuing service end to end through its router, against SQLite and
//! PostgreSQL alike (`both_backends!`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::{Method, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::OsRng;
use serde_json::{Value, json};
use support::{
    DEMO_ISS, Harness, access_token, c_nonce, header_str, offer, offer_parts, post_credential_jwt,
    request_encryption_key, token,
};
use tongban_issuer::audit::{ChainVerifier, SCHEME};
use tongban_protocol::oid4vci::{ProofKeyForm, sign_proof};
use tongban_service_kit::{Clock as _, SystemClock};
use tongban_test_support::jws::sign_json;
use tongban_test_support::oid4vci::key_proof;
use tongban_test_support::sample::{catalogue_claims, catalogue_samples};
use tongban_verifier::status::StatusListToken;
use tongban_verifier::{
    Ed25519Signer, HeldCredential, InMemoryKeys, KeyBinding, KeyWithId, Policy, PublicKey,
    Signer as _, Verdict, verify,
};

fn holder() -> (Ed25519Signer, Value) {
    let s = Ed25519Signer::generate(&mut OsRng, None);
    let jwk = s.public_key().to_jwk();
    (s, jwk)
}

async fn jwks(h: &Harness, agency: &str) -> InMemoryKeys {
    let (s, v) = h.get(&format!("/agencies/{agency}/jwks.json"), None).await;
    assert_eq!(s, StatusCode::OK);
    let mut keys = InMemoryKeys::new();
    for k in KeyWithId::from_jwk_or_set(&v).unwrap() {
        keys.add_issuer_key(format!("https://issuer.test/agencies/{agency}"), k);
    }
    keys
}

/// Presents every claim with a KB-JWT and verifies like a counter would.
fn present_and_verify(
    credential: &str,
    holder: &dyn tongban_verifier::Signer,
    keys: &InMemoryKeys,
) -> tongban_verifier::Report {
    let held = HeldCredential::parse(credential).unwrap();
    // The counter's own wall clock.
    let now = SystemClock.now();
    let kb = KeyBinding {
        signer: holder,
        audience: "https://counter.test".into(),
        nonce: "n-1".into(),
        iat: now,
        transaction_data_hashes: Vec::new(),
    };
    let p = held.present(held.disclosable_paths(), Some(&kb)).unwrap();
    verify(
        &p,
        &Policy::counter(now, "https://counter.test", "n-1"),
        keys,
    )
}

async fn audit_chain_ok(h: &Harness, agency: &str) -> i64 {
    let page = h.svc.audit_page(agency, 0, 100_000).await.unwrap();
    let mut v = ChainVerifier::new(SCHEME, agency);
    for e in page.entries {
        v.push(&e).unwrap();
    }
    v.finish(page.head_seq, &page.head_hash).unwrap()
}

// ---- issuing ------------------------------------------------------------

async fn issued_credentials_verify_at_a_counter(h: &Harness) {
    let (signer, jwk) = holder();
    let v = h.issue("business-licence", 1, &jwk).await;
    assert_eq!(v["status"], "valid");
    assert_eq!(v["vct"], "urn:tongban:business-licence:1");
    assert_eq!(v["status_list"]["uri"], format!("{DEMO_ISS}/status/0"));
    let report = present_and_verify(
        v["credential"].as_str().unwrap(),
        &signer,
        &jwks(h, "demo").await,
    );
    assert_eq!(report.verdict, Verdict::Accepted, "{}", report.to_json());
    // The stored record has no claims, only metadata.
    let (s, got) = h
        .get(
            &format!("/admin/v1/credentials/{}", v["id"].as_str().unwrap()),
            Some(&h.demo),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["licence_id"], "320509-BL-2026-000001");
    assert!(got.get("credential").is_none() && got.get("claims").is_none());
    assert_eq!(
        got["holder_thumbprint"],
        PublicKey::from_jwk(&jwk).unwrap().thumbprint()
    );
}

async fn the_readme_sample_request_issues(h: &Harness) {
    let body: Value = serde_json::from_str(include_str!(
        "../../specs/vectors/sample/issue-request.json"
    ))
    .unwrap();
    let (s, v) = h.post("/admin/v1/credentials", Some(&h.demo), &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

async fn every_catalogue_type_issues(h: &Harness) {
    let (_, jwk) = holder();
    let samples = catalogue_samples();
    for (i, slug) in samples.keys().enumerate() {
        h.issue(slug, 100 + u32::try_from(i).unwrap(), &jwk).await;
    }
    assert_eq!(
        audit_chain_ok(h, "demo").await,
        3 + 8,
        "agency + key + token + 8 issues"
    );
}

async fn schema_violations_are_422_with_every_field(h: &Harness) {
    let (_, jwk) = holder();
    let mut c = Value::Object(catalogue_claims("business-licence", 2));
    c["unified_social_credit_code"] = json!("91320509MA1Q8K3T2D");
    c["establishment_date"] = json!("2019-02-30");
    c.as_object_mut().unwrap().remove("company_name");
    c["colour"] = json!("red");
    let (s, v) = h
        .post(
            "/admin/v1/credentials",
            Some(&h.demo),
            &json!({"vct": "urn:tongban:business-licence:1", "claims": c, "holder_jwk": jwk}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"], "claims_invalid");
    let mut paths: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "colour",
            "company_name",
            "establishment_date",
            "unified_social_credit_code"
        ],
        "{v}"
    );
    assert!(v["message_zh"].as_str().unwrap().contains("字段"));
    // Nothing was stored or audited.
    let (_, list) = h.get("/admin/v1/credentials", Some(&h.demo)).await;
    assert_eq!(list["credentials"].as_array().unwrap().len(), 0);
}

async fn bad_requests_each_have_their_code(h: &Harness) {
    let (_, jwk) = holder();
    let t = h.demo.clone();
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"vct": "urn:tongban:passport:1", "claims": {}, "holder_jwk": jwk}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_vct",
        ),
        (
            json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 3)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "holder_missing",
        ),
        (
            json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 3), "holder_jwk": jwk, "offer": {}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "holder_ambiguous",
        ),
        (
            json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 3), "holder_jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "holder_key_invalid",
        ),
        (
            json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 3), "holder_jwk": jwk, "expires_at": 1000}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validity_invalid",
        ),
        (
            json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 3), "holder_jwk": jwk, "subject": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            json!({"claims": {}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        let (s, v) = h.post("/admin/v1/credentials", Some(&t), &body).await;
        assert_eq!(
            (s, v["error"].as_str().unwrap()),
            (status, code),
            "{body} → {v}"
        );
    }
    // A type the agency may not issue.
    let (s, v) = h
        .post("/admin/v1/credentials", Some(&h.other), &json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 4), "holder_jwk": jwk}))
        .await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::FORBIDDEN, "vct_not_authorised")
    );
    let auth = format!("Bearer {t}");
    // Malformed JSON, wrong media type, oversized body.
    let (s, _, b) = h
        .raw(
            Method::POST,
            "/admin/v1/credentials",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            b"{\"vct\": ".to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap()["error"],
        "malformed_json"
    );
    let (s, _, b) = h
        .raw(
            Method::POST,
            "/admin/v1/credentials",
            &[("authorization", &auth), ("content-type", "text/plain")],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap()["error"],
        "unsupported_media_type"
    );
    let big = format!("{{\"vct\": \"{}\"}}", "x".repeat(70_000));
    let (s, _, b) = h
        .raw(
            Method::POST,
            "/admin/v1/credentials",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            big.into_bytes(),
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap()["error"],
        "body_too_large"
    );
    let (s, v) = h.get("/admin/v1/nothing", Some(&t)).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::NOT_FOUND, "unknown_endpoint")
    );
    let (s, v) = h.get("/types/passport", None).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    // The scope is checked before the body: a read-only token learns nothing.
    let reader = h.token("demo", "read").await;
    let (s, _, _) = h
        .raw(
            Method::POST,
            "/admin/v1/credentials",
            &[
                ("authorization", &format!("Bearer {reader}")),
                ("content-type", "application/json"),
            ],
            b"{".to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn licence_ids_are_unique_even_under_concurrency(h: &Harness) {
    let (_, jwk) = holder();
    h.issue("business-licence", 5, &jwk).await;
    let (s, v) = h
        .post("/admin/v1/credentials", Some(&h.demo), &json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 5), "holder_jwk": jwk}))
        .await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::CONFLICT, "licence_id_taken")
    );
    // Twenty requests race for one new licence id: exactly one wins; twenty
    // others with new licence ids, committed in the same groups, are not
    // taken down by the refused ones, and only stored credentials are in
    // the audit log.
    let before = audit_chain_ok(h, "demo").await;
    let body = json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 6), "holder_jwk": jwk});
    let tasks: Vec<_> = (0..40u32)
        .map(|i| {
            let app = h.app.clone();
            let b = if i % 2 == 0 {
                body.clone()
            } else {
                json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 7000 + i), "holder_jwk": jwk})
            };
            let t = h.demo.clone();
            tokio::spawn(async move { (i % 2, post_status(app, &t, &b).await) })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    let same: Vec<u16> = codes.iter().filter(|c| c.0 == 0).map(|c| c.1).collect();
    assert_eq!(same.iter().filter(|c| **c == 201).count(), 1, "{codes:?}");
    assert_eq!(same.iter().filter(|c| **c == 409).count(), 19, "{codes:?}");
    assert!(
        codes.iter().filter(|c| c.0 == 1).all(|c| c.1 == 201),
        "{codes:?}"
    );
    assert_eq!(audit_chain_ok(h, "demo").await, before + 21);
}

async fn post_status(app: axum::Router, token: &str, body: &Value) -> u16 {
    post_answer(app, token, body).await.0
}

async fn post_answer(app: axum::Router, token: &str, body: &Value) -> (u16, Value) {
    use tower::ServiceExt as _;
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/admin/v1/credentials")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// 120 requests at once: on PostgreSQL several groups commit at the same
/// time, on separate connections. Every answer is its own credential as
/// committed — its id listed with the licence id it was asked for and the
/// status entry it was answered with, its `credential.issue` entry in the
/// chain naming that entry — no entry is given twice, and the chain is
/// unbroken.
async fn concurrent_issuance_never_reuses_a_status_index(h: &Harness) {
    let (_, jwk) = holder();
    let tasks: Vec<_> = (0..120u32)
        .map(|i| {
            let app = h.app.clone();
            let t = h.demo.clone();
            let b = json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 1000 + i), "holder_jwk": jwk});
            let licence = b["claims"]["licence_id"].as_str().unwrap().to_owned();
            tokio::spawn(async move { (licence, post_answer(app, &t, &b).await) })
        })
        .collect();
    let mut answered = std::collections::HashMap::new();
    for t in tasks {
        let (licence, (status, v)) = t.await.unwrap();
        assert_eq!(status, 201, "{v}");
        assert_eq!(v["licence_id"].as_str(), Some(licence.as_str()), "{v}");
        let at = (
            v["status_list"]["list"].as_i64().unwrap(),
            v["status_list"]["idx"].as_i64().unwrap(),
        );
        answered.insert(v["id"].as_str().unwrap().to_owned(), (licence, at));
    }
    let mut seen = std::collections::HashSet::new();
    let mut after = None;
    loop {
        let q = after
            .map(|a: i64| format!("&after={a}"))
            .unwrap_or_default();
        let (_, page) = h
            .get(&format!("/admin/v1/credentials?limit=50{q}"), Some(&h.demo))
            .await;
        for c in page["credentials"].as_array().unwrap() {
            let key = (
                c["status_list"]["list"].as_i64().unwrap(),
                c["status_list"]["idx"].as_i64().unwrap(),
            );
            assert!(seen.insert(key), "status index {key:?} given twice");
            let (licence, at) = &answered[c["id"].as_str().unwrap()];
            assert_eq!(
                (c["licence_id"].as_str(), key),
                (Some(licence.as_str()), *at)
            );
        }
        match page["next"].as_i64() {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120);
    assert_eq!(audit_chain_ok(h, "demo").await, 3 + 120);
    let page = h.svc.audit_page("demo", 3, 1000).await.unwrap();
    for e in page.entries {
        assert_eq!(e.action, "credential.issue");
        let detail: Value = serde_json::from_str(&e.detail).unwrap();
        let (_, at) = &answered[e.subject.as_str()];
        assert_eq!(
            (
                detail["status_list"].as_i64(),
                detail["status_idx"].as_i64()
            ),
            (Some(at.0), Some(at.1))
        );
    }
}

async fn two_replicas_share_one_database(h: &Harness) {
    let (_, jwk) = holder();
    let replica = h.replica().await;
    let tasks: Vec<_> = (0..60u32)
        .map(|i| {
            let app = if i % 2 == 0 { h.app.clone() } else { replica.clone() };
            let t = h.demo.clone();
            let b = json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 3000 + i), "holder_jwk": jwk});
            tokio::spawn(async move { post_status(app, &t, &b).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let (_, page) = h
        .get("/admin/v1/credentials?limit=1000", Some(&h.demo))
        .await;
    let mut idx: Vec<i64> = page["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status_list"]["idx"].as_i64().unwrap())
        .collect();
    idx.sort_unstable();
    idx.dedup();
    assert_eq!(idx.len(), 60, "no index given twice across replicas");
    assert_eq!(
        audit_chain_ok(h, "demo").await,
        3 + 60,
        "one unbroken chain across replicas"
    );
}

async fn whoami_status(app: axum::Router, token: &str) -> u16 {
    use tower::ServiceExt as _;
    let req = axum::http::Request::builder()
        .uri("/admin/v1/agency")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    app.oneshot(req).await.unwrap().status().as_u16()
}

/// specs/issuer-api.md §3.1: a live token is trusted for
/// `admin_token_cache_secs`; a revocation through one process stops the
/// token there at once, and on another replica within that lifetime.
async fn a_revoked_token_stops_here_at_once_and_elsewhere_within_the_cache_lifetime(h: &Harness) {
    let replica = h.replica().await;
    let t = h.token("demo", "read").await;
    assert_eq!(whoami_status(h.app.clone(), &t).await, 200);
    assert_eq!(whoami_status(replica.clone(), &t).await, 200);
    let id = h.svc.authenticate(&t).await.unwrap().0.id.clone();
    h.svc.revoke_token("demo", &id, "test").await.unwrap();
    assert_eq!(whoami_status(h.app.clone(), &t).await, 401, "this process");
    let ttl = i64::try_from(h.svc.config().admin_token_cache_secs).unwrap();
    assert!(ttl > 0);
    h.clock.advance(ttl - 1);
    assert_eq!(
        whoami_status(replica.clone(), &t).await,
        200,
        "the replica read the token live less than the lifetime ago"
    );
    h.clock.advance(1);
    assert_eq!(whoami_status(replica.clone(), &t).await, 401, "the replica");
    // An unknown token is never cached: a new one works at once everywhere.
    let fresh = h.token("demo", "read").await;
    assert_eq!(whoami_status(replica, &fresh).await, 200);
}

async fn list_filters_and_pages(h: &Harness) {
    let (_, jwk) = holder();
    let ids: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..5 {
            v.push(
                h.issue("business-licence", 20 + i, &jwk).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        v
    };
    h.issue("driving-licence", 1, &jwk).await;
    let (_, r) = h
        .post(
            &format!("/admin/v1/credentials/{}/revoke", ids[1]),
            Some(&h.demo),
            &json!({"reason": "test"}),
        )
        .await;
    assert_eq!(r["status"], "revoked");
    let (_, v) = h
        .get(
            "/admin/v1/credentials?vct=urn:tongban:driving-licence:1",
            Some(&h.demo),
        )
        .await;
    assert_eq!(v["credentials"].as_array().unwrap().len(), 1);
    let (_, v) = h
        .get("/admin/v1/credentials?status=revoked", Some(&h.demo))
        .await;
    assert_eq!(v["credentials"][0]["id"], ids[1]);
    let (_, v) = h
        .get(
            "/admin/v1/credentials?licence_id=320509-BL-2026-000022",
            Some(&h.demo),
        )
        .await;
    assert_eq!(v["credentials"][0]["id"], ids[2]);
    let (_, p1) = h.get("/admin/v1/credentials?limit=4", Some(&h.demo)).await;
    assert_eq!(p1["credentials"].as_array().unwrap().len(), 4);
    let next = p1["next"].as_i64().unwrap();
    let (_, p2) = h
        .get(
            &format!("/admin/v1/credentials?limit=4&after={next}"),
            Some(&h.demo),
        )
        .await;
    assert_eq!(p2["credentials"].as_array().unwrap().len(), 2);
    assert!(p2["next"].is_null());
    let (s, v) = h
        .get("/admin/v1/credentials?status=lost", Some(&h.demo))
        .await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request")
    );
    let (s, _) = h.get("/admin/v1/credentials?limit=0", Some(&h.demo)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = h
        .get("/admin/v1/credentials?colour=red", Some(&h.demo))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

// ---- status -------------------------------------------------------------

async fn status_changes_show_in_the_status_list(h: &Harness) {
    let (_, jwk) = holder();
    let a = h.issue("business-licence", 30, &jwk).await;
    let b = h.issue("business-licence", 31, &jwk).await;
    let c = h.issue("business-licence", 32, &jwk).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    let idx = |v: &Value| usize::try_from(v["status_list"]["idx"].as_i64().unwrap()).unwrap();
    let post = |path: String| async move { h.post(&path, Some(&h.demo), &json!({})).await };
    assert_eq!(
        post(format!("/admin/v1/credentials/{}/revoke", id(&a)))
            .await
            .1["status"],
        "revoked"
    );
    assert_eq!(
        post(format!("/admin/v1/credentials/{}/suspend", id(&b)))
            .await
            .1["status"],
        "suspended"
    );
    // Illegal transitions.
    for (path, what) in [
        (
            format!("/admin/v1/credentials/{}/reinstate", id(&a)),
            "revoked stays revoked",
        ),
        (
            format!("/admin/v1/credentials/{}/suspend", id(&a)),
            "revoked cannot be suspended",
        ),
        (
            format!("/admin/v1/credentials/{}/reinstate", id(&c)),
            "valid cannot be reinstated",
        ),
        (
            format!("/admin/v1/credentials/{}/suspend", id(&b)),
            "suspended twice",
        ),
    ] {
        let (s, v) = post(path).await;
        assert_eq!(
            (s, v["error"].as_str().unwrap()),
            (StatusCode::CONFLICT, "invalid_transition"),
            "{what}"
        );
    }
    let (s, headers, body) = h
        .raw(Method::GET, "/agencies/demo/status/0", &[], vec![])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        header_str(&headers, header::CONTENT_TYPE),
        "application/statuslist+jwt"
    );
    let cc = header_str(&headers, header::CACHE_CONTROL);
    assert!(
        cc.starts_with("public, max-age=") && cc != "public, max-age=0",
        "{cc}"
    );
    let jwt = std::str::from_utf8(&body).unwrap();
    let signed = StatusListToken::parse(jwt).unwrap();
    let keys: Vec<PublicKey> =
        KeyWithId::from_jwk_or_set(&h.get("/agencies/demo/jwks.json", None).await.1)
            .unwrap()
            .into_iter()
            .map(|k| k.key)
            .collect();
    assert!(signed.signed_by_any(&keys));
    let list = &signed.token.list;
    assert_eq!(signed.token.ttl, Some(300));
    assert_eq!(
        (list.get(idx(&a)), list.get(idx(&b)), list.get(idx(&c))),
        (Some(1), Some(2), Some(0))
    );
    // Reinstate: the cached list is dropped and the next fetch shows it.
    assert_eq!(
        post(format!("/admin/v1/credentials/{}/reinstate", id(&b)))
            .await
            .1["status"],
        "valid"
    );
    let (_, _, body) = h
        .raw(Method::GET, "/agencies/demo/status/0", &[], vec![])
        .await;
    let signed = StatusListToken::parse(std::str::from_utf8(&body).unwrap()).unwrap();
    assert_eq!(signed.token.list.get(idx(&b)), Some(0));
    let (s, v) = h.get("/agencies/demo/status/7", None).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::NOT_FOUND, "status_list_not_found")
    );
    let (s, _) = h.get("/agencies/nobody/status/0", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Every change is in the audit log, with its reason.
    let (_, log) = h.get("/admin/v1/audit?limit=1000", Some(&h.demo)).await;
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "credential.revoke")
            .count(),
        1
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "credential.suspend")
            .count(),
        1
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "credential.reinstate")
            .count(),
        1
    );
    audit_chain_ok(h, "demo").await;
}

// ---- authentication and tenancy ---------------------------------------

async fn every_admin_route_needs_a_live_token_with_its_scope(h: &Harness) {
    let (_, jwk) = holder();
    let id = h.issue("business-licence", 40, &jwk).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let issue_body = json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 41), "holder_jwk": jwk});
    let routes: Vec<(Method, String, Option<Value>, &str)> = vec![
        (Method::GET, "/admin/v1/agency".into(), None, ""),
        (
            Method::POST,
            "/admin/v1/credentials".into(),
            Some(issue_body.clone()),
            "issue",
        ),
        (Method::GET, "/admin/v1/credentials".into(), None, "read"),
        (
            Method::GET,
            format!("/admin/v1/credentials/{id}"),
            None,
            "read",
        ),
        (
            Method::POST,
            format!("/admin/v1/credentials/{id}/suspend"),
            Some(json!({})),
            "suspend",
        ),
        (
            Method::POST,
            format!("/admin/v1/credentials/{id}/reinstate"),
            Some(json!({})),
            "suspend",
        ),
        (
            Method::POST,
            format!("/admin/v1/credentials/{id}/revoke"),
            Some(json!({})),
            "revoke",
        ),
        (Method::GET, "/admin/v1/audit".into(), None, "audit"),
    ];
    let revoked = h.token("demo", "all").await;
    let rid = h.svc.authenticate(&revoked).await.unwrap().0.id.clone();
    h.svc.revoke_token("demo", &rid, "test").await.unwrap();
    for (m, path, body, scope) in &routes {
        for bad in [
            None,
            Some("tbat_not-a-token"),
            Some("Basic abc"),
            Some(revoked.as_str()),
        ] {
            let (s, v) = h.send(m.clone(), path, bad, body.as_ref()).await;
            assert_eq!(
                (s, v["error"].as_str().unwrap_or("")),
                (StatusCode::UNAUTHORIZED, "unauthorized"),
                "{m} {path} with {bad:?}"
            );
        }
        if scope.is_empty() {
            continue;
        }
        // A token with every other scope is refused.
        let others: Vec<&str> = ["issue", "read", "revoke", "suspend", "audit"]
            .into_iter()
            .filter(|s| s != scope)
            .collect();
        let t = h.token("demo", &others.join(",")).await;
        let (s, v) = h.send(m.clone(), path, Some(&t), body.as_ref()).await;
        assert_eq!(
            (s, v["error"].as_str().unwrap()),
            (StatusCode::FORBIDDEN, "scope_missing"),
            "{m} {path}"
        );
        // And its own scope suffices.
        let t = h.token("demo", scope).await;
        let (s, v) = h.send(m.clone(), path, Some(&t), body.as_ref()).await;
        assert!(s.is_success(), "{m} {path} with scope {scope}: {s} {v}");
    }
    // Batch too.
    let t = h.token("demo", "read").await;
    let (s, _, _) = h
        .raw(
            Method::POST,
            "/admin/v1/credentials/batch",
            &[
                ("authorization", &format!("Bearer {t}")),
                ("content-type", "application/x-ndjson"),
            ],
            b"{}\n".to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = h
        .raw(
            Method::POST,
            "/admin/v1/credentials/batch",
            &[("content-type", "application/x-ndjson")],
            b"{}\n".to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

async fn one_agency_never_sees_or_touches_another_agencys_credentials(h: &Harness) {
    let (_, jwk) = holder();
    let mine = h.issue("business-licence", 50, &jwk).await;
    let id = mine["id"].as_str().unwrap();
    let o = h.other.clone();
    // Every route that names a credential answers as if it did not exist.
    for (m, path) in [
        (Method::GET, format!("/admin/v1/credentials/{id}")),
        (Method::POST, format!("/admin/v1/credentials/{id}/revoke")),
        (Method::POST, format!("/admin/v1/credentials/{id}/suspend")),
        (
            Method::POST,
            format!("/admin/v1/credentials/{id}/reinstate"),
        ),
    ] {
        let body = (m == Method::POST).then(|| json!({}));
        let (s, v) = h.send(m.clone(), &path, Some(&o), body.as_ref()).await;
        assert_eq!(
            (s, v["error"].as_str().unwrap()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{m} {path}"
        );
    }
    // Listing, filtering by its licence id, and the audit log show nothing of it.
    let (_, v) = h.get("/admin/v1/credentials", Some(&o)).await;
    assert_eq!(v["credentials"].as_array().unwrap().len(), 0);
    let (_, v) = h
        .get(
            "/admin/v1/credentials?licence_id=320509-BL-2026-000050",
            Some(&o),
        )
        .await;
    assert_eq!(v["credentials"].as_array().unwrap().len(), 0);
    let (_, v) = h.get("/admin/v1/audit?limit=1000", Some(&o)).await;
    assert!(
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["agency_id"] == "other" && e["subject"] != id),
        "{v}"
    );
    let (_, v) = h.get("/admin/v1/agency", Some(&o)).await;
    assert_eq!(v["agency"]["id"], "other");
    // What `other` issues is signed by `other` and listed only there.
    let (s, v) = h
        .post("/admin/v1/credentials", Some(&o), &json!({"vct": "urn:tongban:driving-licence:1", "claims": catalogue_claims("driving-licence", 51), "holder_jwk": jwk}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v["credential"].as_str().unwrap().len() > 100);
    let (_, v) = h.get("/admin/v1/credentials", Some(&h.demo)).await;
    assert_eq!(v["credentials"].as_array().unwrap().len(), 1);
    // The credential is untouched.
    let (_, v) = h
        .get(&format!("/admin/v1/credentials/{id}"), Some(&h.demo))
        .await;
    assert_eq!(v["status"], "valid");
}

// ---- batch -------------------------------------------------------------

async fn batches_stream_one_result_per_line(h: &Harness) {
    let (_, jwk) = holder();
    let mut body = String::new();
    for i in 0..40u32 {
        let line = match i {
            7 => "{not json".to_owned(),
            13 => json!({"vct": "urn:tongban:business-licence:1", "claims": {}, "holder_jwk": jwk}).to_string(),
            _ => json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 2000 + i), "holder_jwk": jwk}).to_string(),
        };
        body.push_str(&line);
        body.push('\n');
        if i == 20 {
            body.push_str("\n   \n");
        }
    }
    let auth = format!("Bearer {}", h.demo);
    let (s, headers, out) = h
        .raw(
            Method::POST,
            "/admin/v1/credentials/batch",
            &[
                ("authorization", &auth),
                ("content-type", "application/x-ndjson"),
            ],
            body.into_bytes(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        header_str(&headers, header::CONTENT_TYPE),
        "application/x-ndjson"
    );
    let lines: Vec<Value> = std::str::from_utf8(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 41);
    for (i, l) in lines[..40].iter().enumerate() {
        assert_eq!(l["line"], i + 1, "results are in request order");
        let ok = !matches!(i, 7 | 13);
        assert_eq!(l["ok"], ok, "{l}");
    }
    assert_eq!(lines[7]["error"]["error"], "malformed_json");
    assert_eq!(lines[13]["error"]["error"], "claims_invalid");
    assert_eq!(lines[40], json!({"summary": {"ok": 38, "failed": 2}}));
    let (_, v) = h
        .get("/admin/v1/credentials?limit=1000", Some(&h.demo))
        .await;
    assert_eq!(v["credentials"].as_array().unwrap().len(), 38);
    // Wrong media type.
    let (s, _, _) = h
        .raw(
            Method::POST,
            "/admin/v1/credentials/batch",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            b"[]".to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // An overlong line is reported and the rest still runs.
    let long = format!(
        "{}\n{}\n",
        "x".repeat(70_000),
        json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 2999), "holder_jwk": jwk})
    );
    let (_, _, out) = h
        .raw(
            Method::POST,
            "/admin/v1/credentials/batch",
            &[
                ("authorization", &auth),
                ("content-type", "application/x-ndjson"),
            ],
            long.into_bytes(),
        )
        .await;
    let lines: Vec<Value> = std::str::from_utf8(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["error"]["error"], "body_too_large");
    assert_eq!(lines[1]["ok"], true);
}

// ---- keys and metadata ------------------------------------------------

async fn rotation_keeps_old_credentials_verifiable(h: &Harness) {
    let (signer, jwk) = holder();
    let before = h.issue("business-licence", 60, &jwk).await;
    let old_kid = before["kid"].as_str().unwrap().to_owned();
    let new_kid = h.svc.rotate_key("demo", "test").await.unwrap();
    assert_ne!(old_kid, new_kid);
    let after = h.issue("business-licence", 61, &jwk).await;
    assert_eq!(after["kid"], new_kid);
    let (_, set) = h.get("/agencies/demo/jwks.json", None).await;
    let kids: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()));
    assert!(
        set["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("d").is_none())
    );
    let keys = jwks(h, "demo").await;
    for c in [&before, &after] {
        let r = present_and_verify(c["credential"].as_str().unwrap(), &signer, &keys);
        assert_eq!(r.verdict, Verdict::Accepted, "{}", r.to_json());
    }
    let (_, v) = h
        .get("/.well-known/jwt-vc-issuer/agencies/demo", None)
        .await;
    assert_eq!(v["issuer"], DEMO_ISS);
    assert_eq!(v["jwks"]["keys"].as_array().unwrap().len(), 2);
    let (_, log) = h.get("/admin/v1/audit?limit=1000", Some(&h.demo)).await;
    assert!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "key.rotate" && e["subject"] == new_kid)
    );
}

async fn public_metadata_follows_the_standards(h: &Harness) {
    let (s, m) = h
        .get("/.well-known/openid-credential-issuer/agencies/demo", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["credential_issuer"], DEMO_ISS);
    assert_eq!(m["credential_endpoint"], format!("{DEMO_ISS}/credential"));
    assert_eq!(m["nonce_endpoint"], format!("{DEMO_ISS}/nonce"));
    let configs = m["credential_configurations_supported"]
        .as_object()
        .unwrap();
    assert_eq!(configs.len(), 8);
    for (id, c) in configs {
        assert_eq!(c["format"], "dc+sd-jwt", "{id}");
        assert!(c["vct"].as_str().unwrap().starts_with("urn:tongban:"));
        let meta = &c["credential_metadata"];
        let locales: Vec<&str> = meta["display"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["locale"].as_str().unwrap())
            .collect();
        assert_eq!(locales, ["zh-CN", "en-US"]);
        for claim in meta["claims"].as_array().unwrap() {
            assert!(
                claim["path"].is_array() && claim["display"].as_array().unwrap().len() == 2,
                "{claim}"
            );
        }
    }
    let enc = &m["credential_request_encryption"];
    assert!(enc["jwks"]["keys"][0]["kid"].is_string() && enc["jwks"]["keys"][0].get("d").is_none());
    assert_eq!(
        m["credential_response_encryption"]["alg_values_supported"],
        json!(["ECDH-ES"])
    );
    let (_, other) = h
        .get("/.well-known/openid-credential-issuer/agencies/other", None)
        .await;
    assert_eq!(
        other["credential_configurations_supported"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
    let (_, a) = h
        .get(
            "/.well-known/oauth-authorization-server/agencies/demo",
            None,
        )
        .await;
    assert_eq!(
        a["issuer"], m["credential_issuer"],
        "RFC 8414 §3.3: issuer equals the identifier"
    );
    assert_eq!(a["token_endpoint"], format!("{DEMO_ISS}/token"));
    let (s, _) = h
        .get(
            "/.well-known/openid-credential-issuer/agencies/nobody",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, types) = h.get("/types", None).await;
    assert_eq!(types["types"].as_array().unwrap().len(), 8);
    let (s, tm) = h.get("/types/business-licence", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(tm["vct"], "urn:tongban:business-licence:1");
    let (_, ag) = h.get("/agencies", None).await;
    assert_eq!(ag["agencies"].as_array().unwrap().len(), 2);
    let (s, v) = h.get("/readyz", None).await;
    assert_eq!(
        (s, v["status"].as_str().unwrap()),
        (StatusCode::OK, "ready")
    );
    let (s, _, body) = h.raw(Method::GET, "/healthz", &[], vec![]).await;
    assert_eq!((s, &body[..]), (StatusCode::OK, &b"ok\n"[..]));
    let (_, _, body) = h.raw(Method::GET, "/metrics", &[], vec![]).await;
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        text.contains(
            "tongban_http_requests_total{route=\"/types\",method=\"GET\",status=\"200\"} 1"
        ),
        "{text}"
    );
    let (s, doc) = h.get("/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
}

// ---- OpenID4VCI ---------------------------------------------------------

async fn credential_request(
    h: &Harness,
    agency: &str,
    access: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let auth = format!("Bearer {access}");
    let (s, headers, out) = h
        .raw(
            Method::POST,
            &format!("/agencies/{agency}/credential"),
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.to_string().into_bytes(),
        )
        .await;
    if s == StatusCode::UNAUTHORIZED {
        assert!(
            header_str(&headers, header::WWW_AUTHENTICATE)
                .starts_with("Bearer error=\"invalid_token\"")
        );
    }
    (s, serde_json::from_slice(&out).unwrap_or(Value::Null))
}

async fn the_pre_authorized_code_flow_issues_to_the_proof_key(h: &Harness) {
    let (signer, _) = holder();
    let o = offer(h, &h.demo, "business-licence", 70, true).await;
    let pin = o["tx_code"].as_str().unwrap().to_owned();
    assert_eq!(pin.len(), 6);
    assert!(!o["qr_png_base64"].as_str().unwrap().is_empty());
    let (code, offer_obj) = offer_parts(&o);
    assert_eq!(offer_obj["credential_issuer"], DEMO_ISS);
    assert_eq!(
        offer_obj["credential_configuration_ids"],
        json!(["business-licence"])
    );
    assert_eq!(
        offer_obj["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["tx_code"]["length"],
        6
    );
    // No PIN, a wrong PIN, then the right one.
    let (s, v) = token(h, "demo", &code, None).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    let (s, v) = token(h, "demo", &code, Some(wrong)).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("4 attempt"),
        "{v}"
    );
    let (s, t) = token(h, "demo", &code, Some(&pin)).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert!(t["expires_in"].as_i64().unwrap() <= 300);
    let access = t["access_token"].as_str().unwrap().to_owned();
    // The code is single-use; the token does not work at another agency.
    let (s, v) = token(h, "demo", &code, Some(&pin)).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    let now = h.now();
    let n = c_nonce(h, "demo").await;
    let (s, _) = credential_request(h, "other", &access, &json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]}})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Proof problems, each its own error; none consumes the access token.
    let other_key = Ed25519Signer::generate(&mut OsRng, None);
    let mut forged = key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap();
    forged.truncate(forged.rfind('.').unwrap());
    forged.push('.');
    forged.push_str(&URL_SAFE_NO_PAD.encode(other_key.sign(b"x").unwrap()));
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"credential_configuration_id": "business-licence"}),
            "invalid_proof",
        ),
        (
            json!({"credential_configuration_id": "driving-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]}}),
            "unknown_credential_configuration",
        ),
        (
            json!({"credential_identifier": "x", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]}}),
            "unknown_credential_identifier",
        ),
        (
            json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, "https://elsewhere.test", Some(&n), now).unwrap()]}}),
            "invalid_proof",
        ),
        (
            json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now - 3600).unwrap()]}}),
            "invalid_proof",
        ),
        (
            json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, None, now).unwrap()]}}),
            "invalid_nonce",
        ),
        (
            json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some("made-up"), now).unwrap()]}}),
            "invalid_nonce",
        ),
        (
            json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [forged]}}),
            "invalid_proof",
        ),
        (
            json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [sign_json(&signer, &json!({"typ": "JWT", "alg": "EdDSA", "jwk": signer.public_key().to_jwk()}), &json!({"aud": DEMO_ISS, "iat": now, "nonce": n})).unwrap()]}}),
            "invalid_proof",
        ),
        (
            json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [sign_json(&signer, &json!({"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "kid": "k", "jwk": signer.public_key().to_jwk()}), &json!({"aud": DEMO_ISS, "iat": now, "nonce": n})).unwrap()]}}),
            "invalid_proof",
        ),
        (
            json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": ["a", "b"]}}),
            "invalid_proof",
        ),
        (
            json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]}, "proof": {"proof_type": "jwt", "jwt": "x"}}),
            "invalid_credential_request",
        ),
    ];
    for (body, code) in cases {
        let (s, v) = credential_request(h, "demo", &access, &body).await;
        assert_eq!(
            (s, v["error"].as_str().unwrap_or("")),
            (StatusCode::BAD_REQUEST, code),
            "{body} → {v}"
        );
    }
    // The good request (a fresh nonce: a nonce is spent by the first proof that carries it).
    let n = c_nonce(h, "demo").await;
    let (s, v) = credential_request(h, "demo", &access, &json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]}})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let cred = v["credentials"][0]["credential"].as_str().unwrap();
    let held = HeldCredential::parse(cred).unwrap();
    assert_eq!(
        held.payload()["cnf"]["jwk"],
        signer.public_key().to_jwk(),
        "bound to the proof's key"
    );
    assert_eq!(held.claims()["licence_id"], "320509-BL-2026-000070");
    let r = present_and_verify(cred, &signer, &jwks(h, "demo").await);
    assert_eq!(r.verdict, Verdict::Accepted, "{}", r.to_json());
    // Single use: the token and the nonce are spent.
    let n2 = c_nonce(h, "demo").await;
    let (s, _) = credential_request(h, "demo", &access, &json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n2), now).unwrap()]}})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The offer's claims are gone from the database; the credential is listed.
    let (_, list) = h.get("/admin/v1/credentials", Some(&h.demo)).await;
    assert_eq!(list["credentials"][0]["offer_id"], o["offer_id"]);
    audit_chain_ok(h, "demo").await;
}

async fn the_draft_15_proof_request_and_no_pin_offers_work(h: &Harness) {
    let (signer, _) = holder();
    let o = offer(h, &h.demo, "driving-licence", 71, false).await;
    assert!(o["tx_code"].is_null());
    let (code, offer_obj) = offer_parts(&o);
    assert!(
        offer_obj["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
            .get("tx_code")
            .is_none()
    );
    let (s, t) = token(h, "demo", &code, None).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let n = c_nonce(h, "demo").await;
    let p = key_proof(&signer, DEMO_ISS, Some(&n), h.now()).unwrap();
    let (s, v) = credential_request(h, "demo", t["access_token"].as_str().unwrap(), &json!({"credential_configuration_id": "driving-licence", "proof": {"proof_type": "jwt", "jwt": p}})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = token(h, "demo", "no-such-code", None).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    let (s, _, v) = h
        .form(
            "/agencies/demo/token",
            &[("grant_type", "password"), ("username", "x")],
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "unsupported_grant_type")
    );
    let (s, _, _) = h
        .raw(
            Method::POST,
            "/agencies/demo/token",
            &[("content-type", "application/json")],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn wrong_pins_lock_the_offer(h: &Harness) {
    let o = offer(h, &h.demo, "business-licence", 72, true).await;
    let pin = o["tx_code"].as_str().unwrap().to_owned();
    let (code, _) = offer_parts(&o);
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let (s, v) = token(h, "demo", &code, Some(wrong)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v["tx_code_attempts_remaining"], left, "{v}");
        if left > 0 {
            assert!(
                v["error_description"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("{left} attempt")),
                "{v}"
            );
        } else {
            assert!(
                v["error_description"].as_str().unwrap().contains("locked"),
                "{v}"
            );
        }
    }
    let (s, v) = token(h, "demo", &code, Some(&pin)).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert!(v["error_description"].as_str().unwrap().contains("locked"));
}

async fn encrypted_requests_get_encrypted_responses(h: &Harness) {
    use josekit::jwe::{ECDH_ES, JweHeader};
    use josekit::jwk::Jwk;
    let (signer, _) = holder();
    let issuer_key = request_encryption_key(h, "demo").await;
    let wallet = Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
    let mut wallet_pub = wallet.to_public_key().unwrap();
    wallet_pub.set_algorithm("ECDH-ES");
    wallet_pub.set_key_id("wallet-1");
    let pub_json: Value = serde_json::from_str(&wallet_pub.to_string()).unwrap();
    let encrypt = |v: &Value| {
        let mut hd = JweHeader::new();
        hd.set_content_encryption("A128GCM");
        hd.set_key_id(issuer_key.key_id().unwrap());
        josekit::jwe::serialize_compact(
            v.to_string().as_bytes(),
            &hd,
            &ECDH_ES.encrypter_from_jwk(&issuer_key).unwrap(),
        )
        .unwrap()
    };
    let send = |access: String, body: String, ct: &'static str| async move {
        let auth = format!("Bearer {access}");
        h.raw(
            Method::POST,
            "/agencies/demo/credential",
            &[("authorization", &auth), ("content-type", ct)],
            body.into_bytes(),
        )
        .await
    };
    let get_access = |serial: u32| async move {
        let o = offer(h, &h.demo, "business-licence", serial, false).await;
        let (code, _) = offer_parts(&o);
        token(h, "demo", &code, None).await.1["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let access = get_access(80).await;
    let now = h.now();
    // Asking for an encrypted response in a plaintext request is refused (§8.2).
    let n = c_nonce(h, "demo").await;
    let body = json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]}, "credential_response_encryption": {"jwk": pub_json, "enc": "A128GCM"}});
    let (s, _, out) = send(access.clone(), body.to_string(), "application/json").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_slice::<Value>(&out).unwrap()["error"],
        "invalid_encryption_parameters"
    );
    // Bad encryption parameters.
    for bad in [
        json!({"jwk": pub_json, "enc": "A128CBC-HS256"}),
        json!({"enc": "A128GCM"}),
        json!({"jwk": pub_json, "enc": "A128GCM", "zip": "DEF"}),
    ] {
        let n = c_nonce(h, "demo").await;
        let body = json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]}, "credential_response_encryption": bad});
        let (s, _, out) = send(access.clone(), encrypt(&body), "application/jwt").await;
        assert_eq!(
            (
                s,
                serde_json::from_slice::<Value>(&out).unwrap()["error"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            ),
            (
                StatusCode::BAD_REQUEST,
                "invalid_encryption_parameters".to_owned()
            ),
            "{bad}"
        );
    }
    let (s, _, _) = send(access.clone(), "eyJ.not.a.jwe.x".into(), "application/jwt").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // The real thing.
    let n = c_nonce(h, "demo").await;
    let body = json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]}, "credential_response_encryption": {"jwk": pub_json, "enc": "A256GCM"}});
    let (s, headers, out) = send(access.clone(), encrypt(&body), "application/jwt").await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    assert_eq!(
        header_str(&headers, header::CONTENT_TYPE),
        "application/jwt"
    );
    let (plain, hd) = josekit::jwe::deserialize_compact(
        std::str::from_utf8(&out).unwrap(),
        &ECDH_ES.decrypter_from_jwk(&wallet).unwrap(),
    )
    .unwrap();
    assert_eq!(hd.content_encryption(), Some("A256GCM"));
    assert_eq!(hd.key_id(), Some("wallet-1"));
    let v: Value = serde_json::from_slice(&plain).unwrap();
    let r = present_and_verify(
        v["credentials"][0]["credential"].as_str().unwrap(),
        &signer,
        &jwks(h, "demo").await,
    );
    assert_eq!(r.verdict, Verdict::Accepted);
    // An agency that requires encryption refuses plaintext.
    h.svc
        .create_agency(
            &tongban_issuer::app::AgencySpec {
                id: "sealed".into(),
                name_zh: "加密机构".into(),
                name_en: "Encrypting agency".into(),
                region: "310118".into(),
                vcts: vec!["urn:tongban:business-licence:1".into()],
                encryption_required: true,
                key_alg: Default::default(),
                jws_alg_name: None,
            },
            "test",
        )
        .await
        .unwrap();
    let (_, m) = h
        .get(
            "/.well-known/openid-credential-issuer/agencies/sealed",
            None,
        )
        .await;
    assert_eq!(
        m["credential_response_encryption"]["encryption_required"],
        true
    );
    assert_eq!(
        m["credential_request_encryption"]["encryption_required"],
        true
    );
    let t = h.token("sealed", "issue").await;
    let o = offer(h, &t, "business-licence", 82, false).await;
    let (code, _) = offer_parts(&o);
    let access = token(h, "sealed", &code, None).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let n = c_nonce(h, "sealed").await;
    let (s, v) = credential_request(h, "sealed", &access, &json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, "https://issuer.test/agencies/sealed", Some(&n), now).unwrap()]}})).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_encryption_parameters")
    );
}

async fn offers_are_checked_before_anything_is_spent(h: &Harness) {
    let (signer, jwk) = holder();
    // A licence id already issued cannot be offered again.
    h.issue("business-licence", 90, &jwk).await;
    let (s, v) = h
        .post("/admin/v1/credentials", Some(&h.demo), &json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 90), "offer": {}}))
        .await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::CONFLICT, "licence_id_taken")
    );
    // not_before and expires_at of an offer reach the credential.
    let now = h.now();
    let (s, o) = h
        .post(
            "/admin/v1/credentials",
            Some(&h.demo),
            &json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 91), "offer": {"tx_code": false}, "not_before": now - 10, "expires_at": now + 86_400}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let (code, _) = offer_parts(&o);
    let access = token(h, "demo", &code, None).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // An unusable response-encryption key is refused before the offer is spent.
    let issuer_key = request_encryption_key(h, "demo").await;
    let off_curve = json!({"kty": "EC", "crv": "P-256", "alg": "ECDH-ES", "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])});
    let n = c_nonce(h, "demo").await;
    let body = json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]}, "credential_response_encryption": {"jwk": off_curve, "enc": "A128GCM"}});
    let mut hd = josekit::jwe::JweHeader::new();
    hd.set_content_encryption("A128GCM");
    let jwe = josekit::jwe::serialize_compact(
        body.to_string().as_bytes(),
        &hd,
        &josekit::jwe::ECDH_ES
            .encrypter_from_jwk(&issuer_key)
            .unwrap(),
    )
    .unwrap();
    let (s, _, out) = post_credential_jwt(h, &access, jwe).await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&out).unwrap()["error"],
        "invalid_encryption_parameters"
    );
    // …so the same access token still works.
    let n = c_nonce(h, "demo").await;
    let (s, v) = credential_request(h, "demo", &access, &json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [key_proof(&signer, DEMO_ISS, Some(&n), now).unwrap()]}})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let held = HeldCredential::parse(v["credentials"][0]["credential"].as_str().unwrap()).unwrap();
    assert_eq!(held.payload()["nbf"], now - 10);
    assert_eq!(held.payload()["exp"], now + 86_400);
}

async fn every_credential_carries_exp(h: &Harness) {
    let (_, jwk) = holder();
    let v = h.issue("business-licence", 95, &jwk).await;
    let held = HeldCredential::parse(v["credential"].as_str().unwrap()).unwrap();
    let (iat, exp) = (
        held.payload()["iat"].as_i64().unwrap(),
        held.payload()["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 1826 * 86_400, "the configured default validity");
    assert_eq!(v["expires_at"], exp);
    // A reason needs a JSON body.
    let id = v["id"].as_str().unwrap();
    let auth = format!("Bearer {}", h.demo);
    let (s, _, _) = h
        .raw(
            Method::POST,
            &format!("/admin/v1/credentials/{id}/suspend"),
            &[("authorization", &auth), ("content-type", "text/plain")],
            b"because".to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, _, _) = h
        .raw(
            Method::POST,
            &format!("/admin/v1/credentials/{id}/suspend"),
            &[("authorization", &auth)],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "an empty body needs no content type");
}

// ---- batch issuance and algorithms ---------------------------------------

/// The salts of a credential's disclosures and the digests of its `_sd`
/// (decoys included).
fn salts_and_digests(sd_jwt: &str) -> (Vec<String>, Vec<String>) {
    let held = HeldCredential::parse(sd_jwt).unwrap();
    let digests = held.payload()["_sd"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect();
    let salts = sd_jwt
        .split('~')
        .skip(1)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let bytes = URL_SAFE_NO_PAD.decode(d).unwrap();
            let v: Value = serde_json::from_slice(&bytes).unwrap();
            v[0].as_str().unwrap().to_owned()
        })
        .collect();
    (salts, digests)
}

/// The status list entries of the agency's list 0 at `indices`.
async fn statuses(h: &Harness, agency: &str, indices: &[usize]) -> Vec<Option<u8>> {
    let (s, _, body) = h
        .raw(
            Method::GET,
            &format!("/agencies/{agency}/status/0"),
            &[],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let signed = StatusListToken::parse(std::str::from_utf8(&body).unwrap()).unwrap();
    indices.iter().map(|i| signed.token.list.get(*i)).collect()
}

async fn a_batch_binds_each_copy_to_its_own_key_and_revokes_together(h: &Harness) {
    let (_, m) = h
        .get("/.well-known/openid-credential-issuer/agencies/demo", None)
        .await;
    assert_eq!(m["batch_credential_issuance"], json!({"batch_size": 5}));
    let c = &m["credential_configurations_supported"]["business-licence"];
    assert_eq!(
        c["credential_signing_alg_values_supported"],
        json!(["EdDSA"])
    );
    assert_eq!(
        c["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"],
        json!(["EdDSA", "Ed25519", "ES256", "SM2SM3"])
    );
    // Three holder keys of three kinds, one nonce.
    let ed = Ed25519Signer::generate(&mut OsRng, None);
    let ed_named = Ed25519Signer::generate(&mut OsRng, None).fully_specified(true);
    let es = tongban_verifier::P256Signer::generate(&mut OsRng, None);
    let holders: [&dyn tongban_verifier::Signer; 3] = [&ed, &es, &ed_named];
    let o = offer(h, &h.demo, "business-licence", 90, false).await;
    let access = access_token(h, &offer_parts(&o).0).await;
    let n = c_nonce(h, "demo").await;
    let proofs: Vec<String> = holders
        .iter()
        .map(|k| sign_proof(*k, ProofKeyForm::Jwk, DEMO_ISS, Some(&n), h.now()).unwrap())
        .collect();
    let (s, v) = credential_request(
        h,
        "demo",
        &access,
        &json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": proofs}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let creds: Vec<&str> = v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["credential"].as_str().unwrap())
        .collect();
    assert_eq!(creds.len(), 3);
    let keys = jwks(h, "demo").await;
    let mut all_salts = std::collections::HashSet::new();
    let mut all_digests = std::collections::HashSet::new();
    let mut indices = Vec::new();
    for (cred, holder) in creds.iter().zip(holders) {
        let held = HeldCredential::parse(cred).unwrap();
        assert_eq!(held.payload()["cnf"]["jwk"], holder.public_key().to_jwk());
        assert_eq!(held.claims()["licence_id"], "320509-BL-2026-000090");
        indices.push(
            usize::try_from(
                held.payload()["status"]["status_list"]["idx"]
                    .as_u64()
                    .unwrap(),
            )
            .unwrap(),
        );
        let (salts, digests) = salts_and_digests(cred);
        let n = (salts.len(), digests.len());
        all_salts.extend(salts);
        all_digests.extend(digests);
        assert_eq!((all_salts.len() % n.0, all_digests.len() % n.1), (0, 0));
        let r = present_and_verify(cred, holder, &keys);
        assert_eq!(r.verdict, Verdict::Accepted, "{}", r.to_json());
        // Another copy's key does not answer for this one.
        let other = if std::ptr::eq(holder, holders[0]) {
            holders[1]
        } else {
            holders[0]
        };
        assert_eq!(
            present_and_verify(cred, other, &keys).verdict,
            Verdict::Rejected
        );
    }
    let (salts_each, digests_each) = salts_and_digests(creds[0]);
    assert_eq!(
        all_salts.len(),
        3 * salts_each.len(),
        "no salt repeats across copies"
    );
    assert_eq!(
        all_digests.len(),
        3 * digests_each.len(),
        "no digest or decoy repeats"
    );
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices.len(), 3, "each copy its own status index");
    // One licence: listed by its id with its copies, the licence id on the first only.
    let (_, list) = h
        .get(
            "/admin/v1/credentials?licence_id=320509-BL-2026-000090",
            Some(&h.demo),
        )
        .await;
    let rows = list["credentials"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{list}");
    let batch = rows[0]["id"].as_str().unwrap();
    assert!(
        rows.iter()
            .all(|r| r["batch_id"] == batch && r["offer_id"] == o["offer_id"])
    );
    assert_eq!(rows[0]["licence_id"], "320509-BL-2026-000090");
    assert!(rows[1..].iter().all(|r| r["licence_id"].is_null()));
    // Suspending the second copy suspends all three; revoking the third revokes all.
    let second = rows[1]["id"].as_str().unwrap();
    let third = rows[2]["id"].as_str().unwrap();
    let (s, v) = h
        .post(
            &format!("/admin/v1/credentials/{second}/suspend"),
            Some(&h.demo),
            &json!({}),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str().unwrap()),
        (StatusCode::OK, "suspended"),
        "{v}"
    );
    assert_eq!(statuses(h, "demo", &indices).await, [Some(2); 3]);
    let (s, _) = h
        .post(
            &format!("/admin/v1/credentials/{third}/revoke"),
            Some(&h.demo),
            &json!({"reason": "withdrawn"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(statuses(h, "demo", &indices).await, [Some(1); 3]);
    let (_, list) = h
        .get(
            "/admin/v1/credentials?licence_id=320509-BL-2026-000090",
            Some(&h.demo),
        )
        .await;
    assert!(
        list["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "revoked")
    );
    // The licence id stays taken: no second licence under it.
    let (_, jwk) = holder();
    let (s, v) = h
        .post("/admin/v1/credentials", Some(&h.demo), &json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 90), "holder_jwk": jwk}))
        .await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::CONFLICT, "licence_id_taken"),
        "{v}"
    );
    // Every copy's issue and change is in the chain.
    let (_, log) = h.get("/admin/v1/audit?limit=1000", Some(&h.demo)).await;
    let count = |action: &str| {
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                let detail: Value = serde_json::from_str(e["detail"].as_str().unwrap()).unwrap();
                e["action"] == action && detail["batch"] == batch
            })
            .count()
    };
    assert_eq!(
        (
            count("credential.issue"),
            count("credential.suspend"),
            count("credential.revoke")
        ),
        (3, 3, 3)
    );
    audit_chain_ok(h, "demo").await;
}

async fn batches_over_the_limit_with_mixed_nonces_or_one_key_twice_are_refused(h: &Harness) {
    let o = offer(h, &h.demo, "business-licence", 91, false).await;
    let access = access_token(h, &offer_parts(&o).0).await;
    let now = h.now();
    let keys: Vec<Ed25519Signer> = (0..6)
        .map(|_| Ed25519Signer::generate(&mut OsRng, None))
        .collect();
    let n = c_nonce(h, "demo").await;
    let proofs = |ks: &[Ed25519Signer], nonce: &str| -> Vec<String> {
        ks.iter()
            .map(|k| key_proof(k, DEMO_ISS, Some(nonce), now).unwrap())
            .collect()
    };
    let body = |p: Vec<String>| json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": p}});
    let n2 = c_nonce(h, "demo").await;
    let mut mixed = proofs(&keys[..2], &n);
    mixed.push(key_proof(&keys[2], DEMO_ISS, Some(&n2), now).unwrap());
    let mut twice = proofs(&keys[..2], &n);
    twice.push(key_proof(&keys[0], DEMO_ISS, Some(&n), now).unwrap());
    for (what, p, code, says) in [
        (
            "six proofs, batch_size 5",
            proofs(&keys, &n),
            "invalid_proof",
            "batch_size (5)",
        ),
        ("mixed nonces", mixed, "invalid_proof", "same c_nonce"),
        ("one key twice", twice, "invalid_proof", "same key"),
    ] {
        let (s, v) = credential_request(h, "demo", &access, &body(p)).await;
        assert_eq!(
            (s, v["error"].as_str().unwrap()),
            (StatusCode::BAD_REQUEST, code),
            "{what}: {v}"
        );
        assert!(
            v["error_description"].as_str().unwrap().contains(says),
            "{what}: {v}"
        );
    }
    // None of them spent the nonce or the access token: five proofs pass.
    let (s, v) = credential_request(h, "demo", &access, &body(proofs(&keys[..5], &n))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["credentials"].as_array().unwrap().len(), 5);
}

async fn an_es256_agency_signs_es256_and_may_rotate_to_the_ed25519_name(h: &Harness) {
    use tongban_issuer::keys::{JwsAlgName, KeyAlg};
    h.svc
        .create_agency(
            &tongban_issuer::app::AgencySpec {
                id: "p256".into(),
                name_zh: "椭圆曲线机构".into(),
                name_en: "P-256 agency".into(),
                region: "310118".into(),
                vcts: vec!["urn:tongban:business-licence:1".into()],
                encryption_required: false,
                key_alg: KeyAlg::Es256,
                jws_alg_name: None,
            },
            "test",
        )
        .await
        .unwrap();
    let iss = "https://issuer.test/agencies/p256";
    let (_, m) = h
        .get("/.well-known/openid-credential-issuer/agencies/p256", None)
        .await;
    let c = &m["credential_configurations_supported"]["business-licence"];
    assert_eq!(
        c["credential_signing_alg_values_supported"],
        json!(["ES256"])
    );
    let (_, set) = h.get("/agencies/p256/jwks.json", None).await;
    assert_eq!(
        (&set["keys"][0]["crv"], &set["keys"][0]["alg"]),
        (&json!("P-256"), &json!("ES256"))
    );
    let t = h.token("p256", "all").await;
    let issue_one = |serial: u32, holder: &'static str| {
        let t = t.clone();
        async move {
            let o = offer(h, &t, "business-licence", serial, false).await;
            let access = token(h, "p256", &offer_parts(&o).0, None).await.1["access_token"]
                .as_str()
                .unwrap()
                .to_owned();
            let n = c_nonce(h, "p256").await;
            let k = tongban_verifier::P256Signer::generate(&mut OsRng, Some(holder.into()));
            let p = sign_proof(&k, ProofKeyForm::Jwk, iss, Some(&n), h.now()).unwrap();
            let (s, v) = credential_request(
                h,
                "p256",
                &access,
                &json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [p]}}),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{v}");
            (
                v["credentials"][0]["credential"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                k,
            )
        }
    };
    let (es_cred, es_holder) = issue_one(92, "h1").await;
    let header = |c: &str| {
        tongban_verifier::jws::CompactJws::parse(c.split('~').next().unwrap(), "c")
            .unwrap()
            .header
    };
    assert_eq!(header(&es_cred)["alg"], "ES256");
    assert_eq!(
        present_and_verify(&es_cred, &es_holder, &jwks(h, "p256").await).verdict,
        Verdict::Accepted
    );
    let (_, _, body) = h
        .raw(Method::GET, "/agencies/p256/status/0", &[], vec![])
        .await;
    let signed = StatusListToken::parse(std::str::from_utf8(&body).unwrap()).unwrap();
    assert_eq!(signed.alg.as_str(), "ES256");
    // The Ed25519 name belongs to Ed25519 keys: refused for a P-256 rotation.
    let e = h
        .svc
        .rotate_key_to("p256", "test", None, Some(JwsAlgName::Ed25519))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Ed25519 keys only"), "{e}");
    h.svc
        .rotate_key_to(
            "p256",
            "test",
            Some(KeyAlg::Ed25519),
            Some(JwsAlgName::Ed25519),
        )
        .await
        .unwrap();
    let (_, m) = h
        .get("/.well-known/openid-credential-issuer/agencies/p256", None)
        .await;
    assert_eq!(
        m["credential_configurations_supported"]["business-licence"]["credential_signing_alg_values_supported"],
        json!(["Ed25519"])
    );
    let (ed_cred, ed_holder) = issue_one(93, "h2").await;
    assert_eq!(header(&ed_cred)["alg"], "Ed25519");
    // A plain rotation keeps the name; both old credentials still verify.
    h.svc.rotate_key("p256", "test").await.unwrap();
    let (_, set) = h.get("/agencies/p256/jwks.json", None).await;
    let mut algs: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    algs.sort_unstable();
    assert_eq!(algs, ["ES256", "Ed25519", "Ed25519"]);
    let keys = jwks(h, "p256").await;
    for (c, k) in [(&es_cred, &es_holder), (&ed_cred, &ed_holder)] {
        assert_eq!(present_and_verify(c, k, &keys).verdict, Verdict::Accepted);
    }
}

/// HAIP 1.0 X.509 key resolution for an ES256 agency: the zone's CA (here
/// an Ed25519 anchor over an intermediate) certifies its P-256 key, the
/// agency installs the chain, and its credentials and status list tokens
/// then carry `x5c` (leaf and intermediate, never the anchor), which a
/// counter validates to the anchor certificate of its trust list.
async fn a_certified_es256_agency_signs_with_its_chain_in_x5c(h: &Harness) {
    use base64::engine::general_purpose::STANDARD;
    use tongban_issuer::keys::KeyAlg;
    use tongban_test_support::pki::{TestCa, ca_params};
    use tongban_test_support::zone;
    use tongban_verifier::trust::{Anchor, TRUST_LIST_VERSION};
    use tongban_verifier::{ErrorCode, TrustList, TrustedIssuer, TrustedKey, VerifiedTrustList};
    const DAY: i64 = 86_400;
    h.svc
        .create_agency(
            &tongban_issuer::app::AgencySpec {
                id: "p256x5c".into(),
                name_zh: "证书机构".into(),
                name_en: "Certified P-256 agency".into(),
                region: "310118".into(),
                vcts: vec!["urn:tongban:business-licence:1".into()],
                encryption_required: false,
                key_alg: KeyAlg::Es256,
                jws_alg_name: None,
            },
            "test",
        )
        .await
        .unwrap();
    let iss = "https://issuer.test/agencies/p256x5c";
    let (_, set) = h.get("/agencies/p256x5c/jwks.json", None).await;
    let jwk = set["keys"][0].clone();
    let kid = jwk["kid"].as_str().unwrap().to_owned();
    let key = PublicKey::from_jwk(&jwk).unwrap();
    // Certificates are judged on the counter's wall clock.
    let now = SystemClock.now();
    let ca = TestCa::anchor("YRD zone CA", now - 30 * DAY, now + 365 * DAY);
    let sub = ca.intermediate(ca_params("YRD issuing CA", now - 30 * DAY, now + 365 * DAY));
    let leaf = sub.leaf(iss, &key, now - DAY, now + 90 * DAY);
    let der = |b64: &str| STANDARD.decode(b64).unwrap();
    // What is not the key's chain is refused: another agency's name, the
    // anchor carried along.
    let other = sub.leaf(
        "https://issuer.test/agencies/demo",
        &key,
        now - DAY,
        now + DAY,
    );
    for bad in [
        vec![der(&other), sub.der().to_vec()],
        vec![der(&leaf), sub.der().to_vec(), ca.der().to_vec()],
    ] {
        assert!(
            h.svc
                .set_key_certificate("p256x5c", &kid, &bad, "test")
                .await
                .is_err()
        );
    }
    let chain = vec![leaf.clone(), sub.b64()];
    let installed = h
        .svc
        .set_key_certificate("p256x5c", &kid, &[der(&leaf), sub.der().to_vec()], "test")
        .await
        .unwrap();
    assert_eq!(installed, chain);

    let t = h.token("p256x5c", "all").await;
    let holder = tongban_verifier::P256Signer::generate(&mut OsRng, Some("h1".into()));
    let (s, v) = h
        .post(
            "/admin/v1/credentials",
            Some(&t),
            &json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 94), "holder_jwk": holder.public_key().to_jwk()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let credential = v["credential"].as_str().unwrap();
    let header_of = |jws: &str| -> Value {
        let h = jws.split('.').next().unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
    };
    let header = header_of(credential);
    assert_eq!(
        (&header["alg"], &header["kid"], &header["x5c"]),
        (&json!("ES256"), &json!(kid), &json!(chain)),
        "leaf and intermediate, never the anchor"
    );
    let (_, _, body) = h
        .raw(Method::GET, "/agencies/p256x5c/status/0", &[], vec![])
        .await;
    let status = header_of(std::str::from_utf8(&body).unwrap());
    assert_eq!(
        (&status["alg"], &status["x5c"]),
        (&json!("ES256"), &json!(chain))
    );

    // The counter's trust list: the agency's key (no chain recorded: the
    // header's is what is validated) and, or not, the anchor certificate.
    let anchor = zone::anchor();
    let trust = |x509_anchors: Option<Vec<String>>| {
        let list = TrustList {
            version: TRUST_LIST_VERSION,
            anchor: Anchor {
                id: zone::ANCHOR_ID.into(),
                name_zh: zone::ANCHOR_NAME_ZH.into(),
                name_en: zone::ANCHOR_NAME_EN.into(),
            },
            sequence: 1,
            issued_at: now - DAY,
            next_update: now + 7 * DAY,
            root_sequence: None,
            verifiers: None,
            issuers: vec![TrustedIssuer {
                id: iss.into(),
                name_zh: "证书机构".into(),
                name_en: "Certified P-256 agency".into(),
                region: "310118".into(),
                vcts: vec!["urn:tongban:business-licence:1".into()],
                keys: vec![TrustedKey {
                    jwk: jwk.clone(),
                    not_before: now - 30 * DAY,
                    not_after: None,
                    revoked_at: None,
                    compromised_at: None,
                    x5c: None,
                }],
                status_lists: vec![],
            }],
            x509_anchors,
        };
        let anchors = [KeyWithId {
            key: anchor.public_key(),
            kid: Some(zone::ANCHOR_KID.into()),
        }];
        VerifiedTrustList::verify(&list.sign(&anchor).unwrap(), &anchors, None).unwrap()
    };
    let held = HeldCredential::parse(credential).unwrap();
    let kb = KeyBinding {
        signer: &holder,
        audience: "https://counter.test".into(),
        nonce: "n-1".into(),
        iat: now,
        transaction_data_hashes: Vec::new(),
    };
    let p = held.present(held.disclosable_paths(), Some(&kb)).unwrap();
    let policy = Policy::counter(now, "https://counter.test", "n-1");
    let r = verify(&p, &policy, &trust(Some(vec![ca.b64()])));
    assert_eq!(r.verdict, Verdict::Accepted, "{}", r.to_json());
    // Judged by its chain: without the anchor certificate it is refused.
    let r = verify(&p, &policy, &trust(None));
    assert_eq!(
        r.code(),
        Some(ErrorCode::X5cAnchorUnreached),
        "{}",
        r.to_json()
    );
}

// ---- expiry, on the service's clock -------------------------------------

/// A credential request for `access` with a fresh proof over `nonce`.
async fn redeem(
    h: &Harness,
    access: &str,
    nonce: &str,
    signer: &Ed25519Signer,
) -> (StatusCode, Value) {
    let p = key_proof(signer, DEMO_ISS, Some(nonce), h.now()).unwrap();
    credential_request(
        h,
        "demo",
        access,
        &json!({"credential_configuration_id": "business-licence", "proofs": {"jwt": [p]}}),
    )
    .await
}

async fn a_pre_authorized_code_expires_after_offer_ttl_secs(h: &Harness) {
    let ttl = h.svc.config().offer_ttl_secs;
    let (live, _) = offer_parts(&offer(h, &h.demo, "business-licence", 300, false).await);
    let (late, _) = offer_parts(&offer(h, &h.demo, "business-licence", 301, false).await);
    // Good through its last second…
    h.clock.advance(ttl);
    access_token(h, &live).await;
    // …and refused one second later.
    h.clock.advance(1);
    let (s, v) = token(h, "demo", &late, None).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_grant"),
        "{v}"
    );
}

async fn an_access_token_expires_after_access_token_ttl_secs(h: &Harness) {
    let (signer, _) = holder();
    let ttl = h.svc.config().access_token_ttl_secs;
    let (code, _) = offer_parts(&offer(h, &h.demo, "business-licence", 310, false).await);
    let expired = access_token(h, &code).await;
    let (code, _) = offer_parts(&offer(h, &h.demo, "business-licence", 311, false).await);
    let live = access_token(h, &code).await;
    h.clock.advance(ttl + 1);
    let n = c_nonce(h, "demo").await;
    let (s, v) = redeem(h, &expired, &n, &signer).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "invalid_token"),
        "{v}"
    );
    // The refusal spent neither the nonce nor anything else; at its last
    // second the other token, made at the same time, is still good.
    h.clock.advance(-1);
    let (s, v) = redeem(h, &live, &n, &signer).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn a_nonce_expires_after_nonce_ttl_secs(h: &Harness) {
    let (signer, _) = holder();
    let ttl = h.svc.config().nonce_ttl_secs;
    let stale = c_nonce(h, "demo").await;
    let last_second = c_nonce(h, "demo").await;
    h.clock.advance(ttl + 1);
    let (code, _) = offer_parts(&offer(h, &h.demo, "business-licence", 320, false).await);
    let access = access_token(h, &code).await;
    let (s, v) = redeem(h, &access, &stale, &signer).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_nonce"),
        "{v}"
    );
    // The access token survives the refusal; a nonce at its last second works.
    h.clock.advance(-1);
    let (s, v) = redeem(h, &access, &last_second, &signer).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn an_offered_credential_past_its_expires_at_is_not_issued(h: &Harness) {
    let (signer, _) = holder();
    let exp = h.now() + 100;
    let (s, o) = h
        .post(
            "/admin/v1/credentials",
            Some(&h.demo),
            &json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 330), "offer": {"tx_code": false}, "expires_at": exp}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let (code, _) = offer_parts(&o);
    h.clock.advance(100);
    let access = access_token(h, &code).await;
    let n = c_nonce(h, "demo").await;
    let (s, v) = redeem(h, &access, &n, &signer).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "credential_request_denied"),
        "{v}"
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains(&format!("would have expired at {exp}")),
        "{v}"
    );
    // And an expires_at that has passed is refused when the offer is made.
    let (s, v) = h
        .post(
            "/admin/v1/credentials",
            Some(&h.demo),
            &json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 331), "offer": {}, "expires_at": h.now()}),
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validity_invalid"),
        "{v}"
    );
}

async fn purge_expired_removes_what_expired_and_keeps_the_rest(h: &Harness) {
    let (signer, _) = holder();
    let t0 = h.now();
    let (old_code, _) = offer_parts(&offer(h, &h.demo, "business-licence", 340, false).await);
    let old_nonce = c_nonce(h, "demo").await;
    h.clock.set(t0 + 400);
    let (new_code, _) = offer_parts(&offer(h, &h.demo, "business-licence", 341, false).await);
    let new_nonce = c_nonce(h, "demo").await;
    // The old code (600 s) and the old nonce (300 s) are past; the new ones
    // not. Only the offer is a row to purge: nonces are stateless (they
    // carry their own expiry), so an expired one needs no purging.
    h.clock.set(t0 + 650);
    assert_eq!(h.svc.purge_expired().await.unwrap(), 1);
    assert_eq!(
        h.svc.purge_expired().await.unwrap(),
        0,
        "nothing left to purge"
    );
    // What had not expired was kept.
    let access = access_token(h, &new_code).await;
    let (s, v) = redeem(h, &access, &new_nonce, &signer).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The expired nonce is refused.
    let (code, _) = offer_parts(&offer(h, &h.demo, "business-licence", 342, false).await);
    let access = access_token(h, &code).await;
    let (s, v) = redeem(h, &access, &old_nonce, &signer).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_nonce"),
        "{v}"
    );
    // The spent nonce is remembered until it expires, then forgotten (an
    // expired nonce is refused anyway).
    let (code, _) = offer_parts(&offer(h, &h.demo, "business-licence", 343, false).await);
    let access = access_token(h, &code).await;
    let (s, v) = redeem(h, &access, &new_nonce, &signer).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_nonce"),
        "a spent nonce: {v}"
    );
    h.clock.set(t0 + 400 + 301);
    assert_eq!(h.svc.purge_expired().await.unwrap(), 1, "the spent nonce");
    // What had expired is gone: even with the clock back where it was
    // live, the old code does not work.
    h.clock.set(t0 + 1);
    let (s, v) = token(h, "demo", &old_code, None).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_grant"),
        "{v}"
    );
}

async fn a_status_list_token_is_re_signed_when_its_ttl_has_passed(h: &Harness) {
    let (_, jwk) = holder();
    h.issue("business-licence", 350, &jwk).await;
    let ttl = i64::try_from(h.svc.config().status_list_ttl_secs).unwrap();
    let lifetime = i64::try_from(h.svc.config().status_list_lifetime_secs).unwrap();
    let fetch = || async {
        let (s, headers, body) = h
            .raw(Method::GET, "/agencies/demo/status/0", &[], vec![])
            .await;
        assert_eq!(s, StatusCode::OK);
        let jwt = String::from_utf8(body.to_vec()).unwrap();
        let payload = jwt.split('.').nth(1).unwrap().to_owned();
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        (jwt, claims, header_str(&headers, header::CACHE_CONTROL))
    };
    let t0 = h.now();
    let (first, c, cache) = fetch().await;
    assert_eq!(
        (c["iat"].as_i64(), c["exp"].as_i64()),
        (Some(t0), Some(t0 + lifetime))
    );
    assert_eq!(cache, format!("public, max-age={ttl}"));
    // Within the ttl the same token is served, with the time left.
    h.clock.advance(ttl - 10);
    let (again, _, cache) = fetch().await;
    assert_eq!(again, first);
    assert_eq!(cache, "public, max-age=10");
    // Once it has passed, a new one is signed at the new time.
    h.clock.advance(10);
    let (fresh, c, _) = fetch().await;
    assert_ne!(fresh, first);
    assert_eq!(c["iat"].as_i64(), Some(t0 + ttl));
}

both_backends!(
    offers_are_checked_before_anything_is_spent,
    every_credential_carries_exp,
    issued_credentials_verify_at_a_counter,
    every_catalogue_type_issues,
    the_readme_sample_request_issues,
    schema_violations_are_422_with_every_field,
    bad_requests_each_have_their_code,
    licence_ids_are_unique_even_under_concurrency,
    concurrent_issuance_never_reuses_a_status_index,
    two_replicas_share_one_database,
    a_revoked_token_stops_here_at_once_and_elsewhere_within_the_cache_lifetime,
    list_filters_and_pages,
    status_changes_show_in_the_status_list,
    every_admin_route_needs_a_live_token_with_its_scope,
    one_agency_never_sees_or_touches_another_agencys_credentials,
    batches_stream_one_result_per_line,
    rotation_keeps_old_credentials_verifiable,
    public_metadata_follows_the_standards,
    the_pre_authorized_code_flow_issues_to_the_proof_key,
    the_draft_15_proof_request_and_no_pin_offers_work,
    wrong_pins_lock_the_offer,
    encrypted_requests_get_encrypted_responses,
    a_pre_authorized_code_expires_after_offer_ttl_secs,
    an_access_token_expires_after_access_token_ttl_secs,
    a_nonce_expires_after_nonce_ttl_secs,
    an_offered_credential_past_its_expires_at_is_not_issued,
    purge_expired_removes_what_expired_and_keeps_the_rest,
    a_status_list_token_is_re_signed_when_its_ttl_has_passed,
    a_batch_binds_each_copy_to_its_own_key_and_revokes_together,
    batches_over_the_limit_with_mixed_nonces_or_one_key_twice_are_refused,
    an_es256_agency_signs_es256_and_may_rotate_to_the_ed25519_name,
    a_certified_es256_agency_signs_with_its_chain_in_x5c,
);
