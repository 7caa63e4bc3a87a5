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

/// The path of a URL on `https://gov.example`, as the router sees it.
fn path_of(url: &serde_json::Value) -> String {
    url.as_str()
        .unwrap()
        .strip_prefix("https://gov.example")
        .unwrap_or_else(|| panic!("{url} is not on the public URL"))
        .to_owned()
}

/// *Issuer's note:* a `public_url` with a path was unsupported. Every URL
/// the service publishes is now served by its router as published: issuer
/// ids under the path, well-known URIs by path insertion, status lists,
/// JWKS and type metadata.
#[tokio::test]
async fn a_public_url_with_a_path_is_served_as_published() {
    let h = Harness::sqlite_with(|c| c.public_url = "https://gov.example/licences".into()).await;
    let iss = "https://gov.example/licences/agencies/demo";
    // Well-known URIs by path insertion (RFC 8414 §3, OpenID4VCI §12.2.2,
    // SD-JWT VC): between the host and the issuer's path.
    let (s, m) = h
        .get(
            "/.well-known/openid-credential-issuer/licences/agencies/demo",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["credential_issuer"], iss);
    let (s, a) = h
        .get(
            "/.well-known/oauth-authorization-server/licences/agencies/demo",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["issuer"], iss);
    let (s, j) = h
        .get("/.well-known/jwt-vc-issuer/licences/agencies/demo", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["issuer"], iss);
    // The endpoints the metadata names answer at their published paths.
    let (s, _, n) = h
        .raw(
            axum::http::Method::POST,
            &path_of(&m["nonce_endpoint"]),
            &[],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&n));
    let (s, _, t) = h
        .form(
            &path_of(&a["token_endpoint"]),
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                ),
                ("pre-authorized_code", "nothing"),
            ],
        )
        .await;
    assert_eq!(
        (s, t["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "the token endpoint answers as itself: {t}"
    );
    // A credential issued through the prefixed admin API names a status
    // list the router serves.
    let holder = tongban_verifier::Ed25519Signer::generate(&mut rand_core::OsRng, None);
    let (s, v) = h
        .post(
            "/licences/admin/v1/credentials",
            Some(&h.demo),
            &serde_json::json!({"vct": "urn:tongban:business-licence:1", "claims": tongban_test_support::sample::catalogue_claims("business-licence", 1), "holder_jwk": tongban_verifier::Signer::public_key(&holder).to_jwk()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let uri = &v["status_list"]["uri"];
    assert!(uri.as_str().unwrap().starts_with(iss), "{uri}");
    let (s, headers, _) = h
        .raw(axum::http::Method::GET, &path_of(uri), &[], vec![])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        support::header_str(&headers, axum::http::header::CONTENT_TYPE),
        "application/statuslist+jwt"
    );
    // The agency listing's JWKS and the catalogue's type metadata too.
    let (s, list) = h.get("/licences/agencies", None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let demo = list["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "demo")
        .unwrap()
        .clone();
    let (s, _) = h.get(&path_of(&demo["jwks_uri"]), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, types) = h.get("/licences/types", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = h.get(&path_of(&types["types"][0]["metadata"]), None).await;
    assert_eq!(s, StatusCode::OK);
    // The root forms stay, for a proxy that strips the prefix.
    let (s, _) = h
        .get("/.well-known/jwt-vc-issuer/agencies/demo", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    h.finish().await;
}
