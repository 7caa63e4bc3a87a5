//! Where the issuer's metadata is and what it says: RFC 8414's required
//! members, and a `public_url` with a path (`https://h/licences`) served
//! through the router, well-known URIs by path insertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use support::Harness;

/// RFC 8414 §2: `response_types_supported` is REQUIRED.
#[tokio::test]
async fn authorization_server_metadata_has_every_required_member() {
    let h = Harness::sqlite().await;
    let (s, a) = h
        .get(
            "/.well-known/oauth-authorization-server/agencies/demo",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    for member in ["issuer", "token_endpoint", "response_types_supported"] {
        assert!(!a[member].is_null(), "{member} missing: {a}");
    }
    assert_eq!(a["response_types_supported"], serde_json::json!(["code"]));
    h.finish().await;
}
