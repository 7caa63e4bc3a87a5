//! Less common flows: transaction data bound by the KB-JWT, plain
//! `direct_post` where the operator allows it, two answers racing, and the
//! event stream of a pending transaction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

on_both_backends!(of_two_racing_answers_exactly_one_is_recorded);

use axum::http::StatusCode;
use serde_json::json;
use support::{Harness, PUBLIC_URL, business_licence, form};
use tongban_protocol::oid4vp::request::transaction_data_hash;
use tongban_test_support::clock::NOW;
use tongban_test_support::zone;
use tongban_verifier::{ClaimPath, HeldCredential, KeyBinding};
use tongban_verifier_service::app::{ClientIdPrefix, TenantSpec};
use tongban_verifier_service::tokens::TokenScope;

fn with_hashes(req: &support::RequestObject, hashes: Vec<String>) -> String {
    let held = HeldCredential::parse(&business_licence()).unwrap();
    let paths: Vec<ClaimPath> = ["company_name", "legal_representative"]
        .iter()
        .filter_map(|p| ClaimPath::parse(p))
        .collect();
    let holder = zone::holder();
    let kb = KeyBinding {
        signer: &holder,
        audience: req.client_id().into(),
        nonce: req.nonce().into(),
        iat: NOW,
        transaction_data_hashes: hashes,
    };
    held.present(&paths, Some(&kb)).unwrap()
}

#[tokio::test]
async fn transaction_data_must_be_signed_by_the_holder() {
    let h = Harness::sqlite().await;
    let td = json!([{
        "type": "urn:tongban:transaction-data:application:1",
        "credential_ids": ["licence"],
        "application_id": "QP-2026-000123",
        "summary_zh": "企业迁移登记申请",
        "summary_en": "Company relocation application",
    }]);
    let bad = h
        .post_json("/api/v1/transactions", &h.qingpu, &json!({
            "licence": {"type": "business-licence", "claims": ["company_name"]},
            "purpose": {"zh": "办事", "en": "Service"}, "service_item": "s",
            "transaction_data": [{"type": "urn:tongban:transaction-data:application:1", "credential_ids": ["nope"],
                "application_id": "x", "summary_zh": "x", "summary_en": "x"}],
        }))
        .await;
    assert_eq!(bad.code(), "invalid_request", "{}", bad.text());
    let req = h
        .fetch_request(
            &h.create(&h.qingpu, json!({"transaction_data": td})).await,
            "n",
        )
        .await;
    let sent: Vec<String> = serde_json::from_value(req.claims["transaction_data"].clone()).unwrap();
    assert_eq!(sent.len(), 1);
    // Without the hash: rejected.
    let p = with_hashes(&req, vec![]);
    let r = h
        .answer(
            &req,
            "A128GCM",
            &json!({"vp_token": {"licence": [p]}, "state": req.state()}),
        )
        .await;
    assert_eq!(
        r.json()["codes"],
        json!(["transaction_data_mismatch"]),
        "{}",
        r.text()
    );
    // With it: accepted.
    let req = h
        .fetch_request(
            &h.create(&h.qingpu, json!({"transaction_data": td})).await,
            "n",
        )
        .await;
    let sent: Vec<String> = serde_json::from_value(req.claims["transaction_data"].clone()).unwrap();
    let p = with_hashes(&req, vec![transaction_data_hash(&sent[0])]);
    let r = h
        .answer(
            &req,
            "A128GCM",
            &json!({"vp_token": {"licence": [p]}, "state": req.state()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn plain_direct_post_only_where_the_operator_allows_it() {
    let h = Harness::sqlite().await;
    let spec = |id: &str| TenantSpec {
        id: id.into(),
        name_zh: "测试".into(),
        name_en: "Test".into(),
        region: "310118".into(),
        dns: "plain.verifier.test".into(),
        client_id_prefix: ClientIdPrefix::X509Hash,
        allow_plain_direct_post: true,
    };
    let e = h
        .svc
        .create_tenant(&spec("plain"), "test")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("allow_plain_direct_post"), "{e}");

    let h = Harness::sqlite_with(&[("allow_plain_direct_post", "true")]).await;
    h.svc.create_tenant(&spec("plain"), "test").await.unwrap();
    let token = h
        .svc
        .create_token(TokenScope::Tenant("plain".into()), "t", "t")
        .await
        .unwrap()
        .secret;
    let created = h.create(&token, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    assert_eq!(req.claims["response_mode"], "direct_post");
    assert!(
        req.claims["client_metadata"].get("jwks").is_none(),
        "no key when nothing is encrypted"
    );
    let payload = Harness::good_payload(&req);
    let path = req.claims["response_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(PUBLIC_URL)
        .unwrap()
        .to_owned();
    let vp = payload["vp_token"].to_string();
    let r = h
        .post_form(&path, &form(&[("vp_token", &vp), ("state", req.state())]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        h.get(created["outcome"].as_str().unwrap(), &token)
            .await
            .json()["state"],
        "accepted"
    );
}

async fn of_two_racing_answers_exactly_one_is_recorded(h: Harness) {
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    let payload = Harness::good_payload(&req);
    let (a, b) = tokio::join!(
        h.answer(&req, "A128GCM", &payload),
        h.answer(&req, "A256GCM", &payload)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        a.text(),
        b.text()
    );
    let log = h.get("/api/v1/audit", &h.qingpu).await.json();
    let answers = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "transaction.answer")
        .count();
    assert_eq!(answers, 1);
    h.finish().await;
}

#[tokio::test]
async fn the_event_stream_sends_pending_then_the_outcome() {
    let h = Harness::sqlite().await;
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    let events = format!("{}/events", created["outcome"].as_str().unwrap());
    let (stream, answer) = tokio::join!(h.get(&events, &h.qingpu), async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        h.answer(&req, "A128GCM", &Harness::good_payload(&req))
            .await
    });
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(stream.headers["content-type"], "text/event-stream");
    let text = stream.text();
    let pending = text.find("\"pending\"").expect("a pending event first");
    let accepted = text.find("\"accepted\"").expect("then the outcome");
    assert!(pending < accepted, "{text}");
    assert!(
        text.contains("company_name"),
        "the outcome carries the claims once: {text}"
    );
}

#[tokio::test]
async fn a_transaction_takes_a_bounded_number_of_wallet_calls() {
    let h = Harness::sqlite_with(&[("max_wallet_calls_per_transaction", "3")]).await;
    let created = h.create(&h.qingpu, json!({})).await;
    let req = h.fetch_request(&created, "n").await;
    let path = req.claims["response_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(PUBLIC_URL)
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        let r = h
            .post_form(&path, &form(&[("response", "a.b.c.d.e")]))
            .await;
        assert_eq!(r.code(), "response_malformed");
    }
    let r = h
        .post_form(&path, &form(&[("response", "a.b.c.d.e")]))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into())
    );
    let r = h
        .answer(&req, "A128GCM", &Harness::good_payload(&req))
        .await;
    assert_eq!(
        r.code(),
        "too_many_attempts",
        "spent: even a good answer is refused"
    );
    for _ in 0..2 {
        h.fetch_request(&created, "n").await;
    }
    let request_path = created["request_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(PUBLIC_URL)
        .unwrap()
        .to_owned();
    assert_eq!(
        h.post_form(&request_path, "").await.code(),
        "too_many_attempts"
    );
}
