//! The counter's browser page at `/counter/`: the embedded build, and a
//! `config.json` written from the service's own trust configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use support::{Harness, PUBLIC_URL};

#[tokio::test]
async fn the_page_and_its_wasm_are_served_and_config_follows_the_trust_settings() {
    let h = Harness::sqlite().await;
    let page = h
        .call(axum::http::Method::GET, "/counter/", None, None, Vec::new())
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(
        &page.body[..],
        tongban_counter_page::file("").unwrap().bytes
    );
    let wasm = h
        .call(
            axum::http::Method::GET,
            "/counter/verifier_bg.wasm",
            None,
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(wasm.headers["content-type"], "application/wasm");
    assert!(wasm.body.starts_with(b"\0asm"));
    let none = h
        .call(
            axum::http::Method::GET,
            "/counter/nothing.js",
            None,
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    // No trust list configured: the page sets itself up by hand.
    let cfg = h
        .call(
            axum::http::Method::GET,
            "/counter/config.json",
            None,
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(cfg.status, StatusCode::NOT_FOUND);
    h.finish().await;

    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("anchor.json");
    let jwk = tongban_test_support::keys::public_jwk(&tongban_test_support::zone::anchor());
    std::fs::write(&anchor, jwk.to_string()).unwrap();
    let h = Harness::sqlite_with(&[
        ("trust_list_url", "https://trust.yrd.example/trust-list.jwt"),
        ("anchor_key_files", anchor.to_str().unwrap()),
    ])
    .await;
    let cfg = h
        .call(
            axum::http::Method::GET,
            "/counter/config.json",
            None,
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(cfg.status, StatusCode::OK, "{}", cfg.text());
    let v = cfg.json();
    assert_eq!(
        v["trust_list_url"],
        "https://trust.yrd.example/trust-list.jwt"
    );
    assert_eq!(v["anchors"][0], jwk);
    assert_eq!(v["audience"], format!("{PUBLIC_URL}/counter"));
    h.finish().await;
}
