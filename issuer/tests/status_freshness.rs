//! A status list token served by the issuer is never nearly used up: its
//! `exp` lies well beyond its `ttl`, the cache signs a new one once the
//! cached one has used half its lifetime, and `Cache-Control: max-age`
//! never reaches past the token's `ttl`. Time is moved by hand
//! (`ManualClock`), so every boundary is exact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::{Method, StatusCode, header};
use support::{Harness, header_str};
use tongban_verifier::{Ed25519Signer, Signer as _, StatusListToken};

/// Issues one credential, so that status list 0 exists.
async fn one_credential(h: &Harness) {
    let holder = Ed25519Signer::from_seed(&[7; 32], None)
        .public_key()
        .to_jwk();
    h.issue("business-licence", 1, &holder).await;
}

/// Fetches `/agencies/demo/status/0`: the token's `(iat, exp, ttl)` and the
/// response's `max-age`.
async fn fetch(h: &Harness) -> (i64, i64, u64, u64) {
    let (s, headers, body) = h
        .raw(Method::GET, "/agencies/demo/status/0", &[], vec![])
        .await;
    assert_eq!(s, StatusCode::OK);
    let cc = header_str(&headers, header::CACHE_CONTROL);
    let max_age: u64 = cc
        .strip_prefix("public, max-age=")
        .unwrap_or_else(|| panic!("{cc}"))
        .parse()
        .unwrap();
    let signed = StatusListToken::parse(std::str::from_utf8(&body).unwrap()).unwrap();
    let t = signed.token;
    (
        t.iat,
        t.exp.expect("an exp"),
        t.ttl.expect("a ttl"),
        max_age,
    )
}

#[tokio::test]
async fn a_served_token_never_has_used_up_more_than_half_its_lifetime() {
    // A tight configuration on purpose: the ttl is most of the lifetime.
    let (ttl, lifetime) = (3600_u64, 4000_i64);
    let h = Harness::sqlite_with(|c| {
        c.status_list_ttl_secs = ttl;
        c.status_list_lifetime_secs = 4000;
    })
    .await;
    one_credential(&h).await;
    let start = h.now();
    let mut signed_at = Vec::new();
    for step in 0..40 {
        h.clock.set(start + step * 250);
        let now = h.now();
        let (iat, exp, token_ttl, max_age) = fetch(&h).await;
        assert_eq!((token_ttl, exp - iat), (ttl, lifetime));
        assert!(
            exp - now >= lifetime / 2,
            "at +{}s the served token has {}s of its {lifetime}s left",
            now - start,
            exp - now
        );
        assert!(max_age > 0, "at +{}s", now - start);
        assert!(
            i64::try_from(max_age).unwrap() <= iat + i64::try_from(ttl).unwrap() - now,
            "max-age {max_age} reaches past the token's ttl"
        );
        assert!(
            now + i64::try_from(max_age).unwrap() <= exp - lifetime / 2,
            "a cache keeping it for max-age would hold a nearly used-up token"
        );
        if signed_at.last() != Some(&iat) {
            signed_at.push(iat);
        }
    }
    // The cache still works: not a new signature on every request.
    assert!(signed_at.len() < 20, "{signed_at:?}");
    h.finish().await;
}

#[tokio::test]
async fn a_token_fetched_just_before_its_ttl_ends_lasts_a_counter_a_day() {
    // The defaults: ttl 300 s, lifetime one day.
    let h = Harness::sqlite().await;
    one_credential(&h).await;
    let start = h.now();
    let (iat, _, ttl, _) = fetch(&h).await;
    assert_eq!(ttl, 300);
    h.clock.set(iat + 299);
    let (iat2, exp, _, max_age) = fetch(&h).await;
    assert_eq!(iat2, iat, "still the cached token");
    assert_eq!(max_age, 1, "cached only for what is left of its ttl");
    // A counter syncing now keeps it usable for its 24 h maximum age, less
    // the few seconds since iat: exp is a day after iat.
    assert_eq!(exp - iat, 86_400);
    assert!(exp - h.now() >= 86_400 - 300);
    h.clock.set(iat + 300);
    let (iat3, _, _, _) = fetch(&h).await;
    assert!(iat3 >= start + 300, "re-signed once the ttl has passed");
    h.finish().await;
}
