//! A tenant asks only within its registration in the trust list
//! (`specs/trust-list.md` §1.5): the service refuses to create a
//! transaction for an unregistered certificate or service item, or asking
//! beyond the registered claims, before anything is stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use serde_json::{Value, json};
use support::{BL, Harness, zone_bundle_with};
use tongban_test_support::clock::{DAY, NOW};
use tongban_verifier::relying_party::{
    LicenceGrant, ServiceItem, TrustedCertificate, TrustedVerifier,
};

const ITEM: &str = "310000-ZZ-001";

fn agency(x509_hash: &str, claims: &[&str], compromised: Option<i64>) -> TrustedVerifier {
    TrustedVerifier {
        id: "https://amr.qingpu.example".into(),
        name_zh: "上海市青浦区市场监督管理局".into(),
        name_en: "Qingpu AMR".into(),
        region: "310118".into(),
        keys: vec![],
        certificates: vec![TrustedCertificate {
            x509_hash: x509_hash.into(),
            not_before: NOW - DAY,
            not_after: None,
            compromised_at: compromised,
        }],
        dns_names: vec![],
        not_before: NOW - DAY,
        not_after: None,
        service_items: vec![ServiceItem {
            id: ITEM.into(),
            name_zh: "企业迁移登记".into(),
            name_en: "Company relocation".into(),
            purpose_zh: "核验企业".into(),
            purpose_en: "Verify the company".into(),
            licences: vec![LicenceGrant {
                vct: BL.into(),
                claims: claims.iter().map(|c| (*c).to_owned()).collect(),
                holder_binding_required: true,
            }],
        }],
    }
}

fn register(h: &Harness, v: Vec<TrustedVerifier>) {
    h.svc.trust().set(zone_bundle_with(|l| {
        l.version = 4;
        l.verifiers = Some(v);
    }));
}

async fn try_create(h: &Harness, token: &str, claims: &[&str], item: &str) -> (StatusCode, Value) {
    let body = json!({
        "licence": {"type": "business-licence", "claims": claims},
        "purpose": {"zh": "办理企业迁移登记", "en": "Company relocation registration"},
        "service_item": item,
    });
    let r = h.post_json("/api/v1/transactions", token, &body).await;
    (r.status, r.json())
}

#[tokio::test]
async fn a_tenant_asks_only_within_its_registered_service_item() {
    let h = Harness::sqlite().await;
    // An older list registers no one: nothing is checked.
    let created = h.create(&h.qingpu, json!({})).await;
    let hash = created["client_id"]
        .as_str()
        .unwrap()
        .strip_prefix("x509_hash:")
        .unwrap()
        .to_owned();
    register(
        &h,
        vec![agency(
            &hash,
            &["company_name", "legal_representative"],
            None,
        )],
    );
    // Within the agreement.
    let (status, _) = try_create(&h, &h.qingpu, &["company_name"], ITEM).await;
    assert_eq!(status, StatusCode::CREATED);
    // One claim too many: refused, the excess named.
    let (status, e) = try_create(
        &h,
        &h.qingpu,
        &["company_name", "unified_social_credit_code"],
        ITEM,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(e["code"], "claims_not_registered", "{e}");
    assert!(e.to_string().contains("unified_social_credit_code"), "{e}");
    // A service item the agency has not registered.
    let (status, e) = try_create(&h, &h.qingpu, &["company_name"], "other-item").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(e["code"], "registration_invalid", "{e}");
    assert!(e.to_string().contains("service_item_unregistered"), "{e}");
    // A tenant whose certificate is not listed.
    let (status, e) = try_create(&h, &h.jiashan, &["company_name"], ITEM).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(e["code"], "registration_invalid", "{e}");
    // The certificate reported compromised.
    register(&h, vec![agency(&hash, &["company_name"], Some(NOW - 10))]);
    let (status, e) = try_create(&h, &h.qingpu, &["company_name"], ITEM).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(e.to_string().contains("requester_key_revoked"), "{e}");
    h.finish().await;
}

#[tokio::test]
async fn an_x509_san_dns_tenant_is_matched_by_its_registered_dns_name() {
    let h = Harness::sqlite().await;
    // The zone registers the agency by the DNS name its certificates carry
    // (jiashan signs as x509_san_dns:verifier.test), not by one hash.
    let mut by_name = agency(
        &tongban_verifier::encoding::b64_encode([9u8; 32]),
        &["company_name"],
        None,
    );
    by_name.certificates.clear();
    by_name.dns_names = vec!["verifier.test".into()];
    register(&h, vec![by_name.clone()]);
    let (status, e) = try_create(&h, &h.jiashan, &["company_name"], ITEM).await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    assert_eq!(e["client_id"], "x509_san_dns:verifier.test");
    let (status, e) = try_create(
        &h,
        &h.jiashan,
        &["company_name", "unified_social_credit_code"],
        ITEM,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(e["code"], "claims_not_registered", "{e}");
    // The x509_hash tenant is not the registered agency.
    let (status, e) = try_create(&h, &h.qingpu, &["company_name"], ITEM).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(e.to_string().contains("requester_unknown"), "{e}");
    // Another name registered: jiashan is unknown.
    by_name.dns_names = vec!["other.verifier.test".into()];
    register(&h, vec![by_name]);
    let (status, e) = try_create(&h, &h.jiashan, &["company_name"], ITEM).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(e["code"], "registration_invalid", "{e}");
    // A second x509_san_dns tenant would show wallets the same client id.
    let r = h
        .post_json(
            "/api/v1/tenants",
            &h.admin,
            &json!({"id": "jiaxing", "name_zh": "嘉兴", "name_en": "Jiaxing", "region": "330400",
                    "dns": "verifier.test", "client_id_prefix": "x509_san_dns"}),
        )
        .await;
    assert_eq!(r.code(), "conflict", "{}", r.text());
    h.finish().await;
}
