//! A filled status list moves the agency to the next one: the trust-list
//! operator is told (metric, log, admin field, a public list of the
//! agency's status list URIs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::{Method, StatusCode};
use serde_json::json;
use support::{DEMO_ISS, Harness};

/// *Issuer's note:* a filled status list silently moved to list 1 and the
/// trust-list operator was not told; counters whose trust list named only
/// list 0 then could not check the new credentials.
#[tokio::test]
async fn moving_to_a_new_status_list_is_surfaced() {
    let h = Harness::sqlite_with(|c| c.status_list_size = 16).await;
    let holder = tongban_verifier::Ed25519Signer::generate(&mut rand_core::OsRng, None);
    let jwk = tongban_verifier::Signer::public_key(&holder).to_jwk();
    for serial in 1..=16 {
        h.issue("business-licence", serial, &jwk).await;
    }
    let list0 = format!("{DEMO_ISS}/status/0");
    let list1 = format!("{DEMO_ISS}/status/1");
    let (_, who) = h.get("/admin/v1/agency", Some(&h.demo)).await;
    assert_eq!(who["agency"]["status_lists"], json!([list0]), "{who}");
    assert_eq!(who["agency"]["current_status_list"], list0);
    // The 17th credential opens list 1.
    let v = h.issue("business-licence", 17, &jwk).await;
    assert_eq!(v["status_list"]["uri"], list1);
    let (_, who) = h.get("/admin/v1/agency", Some(&h.demo)).await;
    assert_eq!(
        who["agency"]["status_lists"],
        json!([list0, list1]),
        "{who}"
    );
    assert_eq!(who["agency"]["current_status_list"], list1);
    // The public list the trust-list tooling reads.
    let (s, published) = h.get("/agencies/demo/status", None).await;
    assert_eq!(s, StatusCode::OK, "{published}");
    assert_eq!(
        published,
        json!({"issuer": DEMO_ISS, "status_lists": [list0, list1], "current_status_list": list1})
    );
    let (s, _) = h.get("/agencies/nobody/status", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Counted once, with the agency as the only label.
    let (_, _, m) = h.raw(Method::GET, "/metrics", &[], vec![]).await;
    let m = String::from_utf8(m.to_vec()).unwrap();
    assert!(
        m.contains(r#"tongban_status_lists_opened_total{agency="demo"} 1"#),
        "{m}"
    );
    h.issue("business-licence", 18, &jwk).await;
    let (_, _, m) = h.raw(Method::GET, "/metrics", &[], vec![]).await;
    let m = String::from_utf8(m.to_vec()).unwrap();
    assert!(
        m.contains(r#"tongban_status_lists_opened_total{agency="demo"} 1"#),
        "{m}"
    );
    h.finish().await;
}
