//! HAIP 1.0 §4 on the issuer: the authorization code flow (pushed
//! authorization requests only, PKCE `S256`, one configuration per
//! request, `issuer_state` offers, the citizen's login, single-use codes)
//! and DPoP (RFC 9449) for both grants — each refusal with its OAuth error.
//! The login is [`support::FakeLogin`]; the OpenID Connect relying party
//! meets a real provider in `tests/tests/haip_auth.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::{HeaderMap, Method, StatusCode, header};
use rand_core::OsRng;
use serde_json::{Value, json};
use support::{DEMO_ISS, Harness, LOGIN_URL, header_str};
use tongban_protocol::oauth::dpop::{DpopClaims, sign_dpop};
use tongban_protocol::oauth::pkce::{challenge_s256, verifier_from_random};
use tongban_test_support::oid4vci::key_proof;
use tongban_test_support::sample::catalogue_claims;
use tongban_verifier::{Ed25519Signer, P256Signer, Signer};

const REDIRECT: &str = "http://127.0.0.1:4711/cb";
const CLIENT: &str = "tongban-wallet";

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn form_body(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

async fn post_form(
    h: &Harness,
    path: &str,
    pairs: &[(&str, &str)],
    dpop: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if let Some(p) = dpop {
        headers.push(("dpop", p));
    }
    let (s, hd, b) = h.raw(Method::POST, path, &headers, form_body(pairs)).await;
    (s, hd, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

/// A wallet's side of one authorization: its PKCE verifier and DPoP key.
struct Wallet {
    verifier: String,
    dpop: P256Signer,
    nonce: Option<String>,
    jti: u32,
}

impl Wallet {
    fn new() -> Wallet {
        let mut r = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut OsRng, &mut r);
        Wallet {
            verifier: verifier_from_random(&r),
            dpop: P256Signer::generate(&mut OsRng, None),
            nonce: None,
            jti: 0,
        }
    }

    fn proof(&mut self, htu: &str, access_token: Option<&str>) -> String {
        self.jti += 1;
        let jti = format!("jti-{}-{}", self.jti, self.dpop.public_key().thumbprint());
        sign_dpop(
            &self.dpop,
            &DpopClaims {
                htm: "POST",
                htu,
                iat: now(),
                jti: &jti,
                nonce: self.nonce.as_deref(),
                access_token,
            },
        )
        .unwrap()
    }
}

fn now() -> i64 {
    NOW.with(|n| *n.borrow())
}

thread_local! {
    static NOW: std::cell::RefCell<i64> = const { std::cell::RefCell::new(0) };
}

fn set_now(h: &Harness) {
    let t = h.now();
    NOW.with(|n| *n.borrow_mut() = t);
}

fn par_pairs<'a>(challenge: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("scope", scope),
        ("state", "wallet-state"),
    ]
}

/// Pushes `pairs` with a DPoP proof, answering `use_dpop_nonce` once.
async fn par_with_dpop(h: &Harness, w: &mut Wallet, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
    set_now(h);
    let htu = format!("{DEMO_ISS}/par");
    let p = w.proof(&htu, None);
    let (s, hd, v) = post_form(h, "/agencies/demo/par", pairs, Some(&p)).await;
    if s == StatusCode::BAD_REQUEST && v["error"] == "use_dpop_nonce" {
        w.nonce = Some(header_str(
            &hd,
            header::HeaderName::from_static("dpop-nonce"),
        ));
        let p = w.proof(&htu, None);
        let (s, _, v) = post_form(h, "/agencies/demo/par", pairs, Some(&p)).await;
        return (s, v);
    }
    (s, v)
}

/// Authorizes the pushed `request_uri` and logs in as `subject`: the
/// wallet's redirect's query.
async fn login(h: &Harness, request_uri: &str, subject: &str) -> Vec<(String, String)> {
    let (s, hd, _) = h
        .raw(
            Method::GET,
            &format!(
                "/agencies/demo/authorize?client_id={}&request_uri={}",
                enc(CLIENT),
                enc(request_uri)
            ),
            &[],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let to = header_str(&hd, header::LOCATION);
    let state = to
        .strip_prefix(&format!("{LOGIN_URL}?state="))
        .unwrap()
        .to_owned();
    let (s, hd, _) = h
        .raw(
            Method::GET,
            &format!(
                "/agencies/demo/login/callback?code={}&state={state}",
                enc(&format!("sub:{subject}"))
            ),
            &[],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let back = header_str(&hd, header::LOCATION);
    let (base, query) = back.split_once('?').unwrap();
    assert_eq!(base, REDIRECT);
    url_pairs(query)
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (
                percent_encoding::percent_decode_str(k)
                    .decode_utf8_lossy()
                    .into_owned(),
                percent_encoding::percent_decode_str(&v.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
        .collect()
}

fn get<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

async fn load_record(h: &Harness, subject: &str, serial: u32) {
    let (s, v) = h
        .post(
            "/admin/v1/records",
            Some(&h.demo),
            &json!({"subject": subject, "vct": "urn:tongban:business-licence:1",
                    "claims": catalogue_claims("business-licence", serial)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["scope"], "business-licence");
}

/// The token request of the code grant, with a DPoP proof when `dpop`.
async fn code_token(
    h: &Harness,
    w: &mut Wallet,
    code: &str,
    verifier: Option<&str>,
    dpop: bool,
) -> (StatusCode, HeaderMap, Value) {
    set_now(h);
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", CLIENT),
    ];
    if let Some(v) = verifier {
        pairs.push(("code_verifier", v));
    }
    let proof = dpop.then(|| w.proof(&format!("{DEMO_ISS}/token"), None));
    post_form(h, "/agencies/demo/token", &pairs, proof.as_deref()).await
}

/// A credential request with `authorization` and an optional DPoP header.
async fn credential(
    h: &Harness,
    authorization: &str,
    dpop: Option<&str>,
    body: &Value,
) -> (StatusCode, HeaderMap, Value) {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("authorization", authorization),
    ];
    if let Some(p) = dpop {
        headers.push(("dpop", p));
    }
    let (s, hd, b) = h
        .raw(
            Method::POST,
            "/agencies/demo/credential",
            &headers,
            body.to_string().into_bytes(),
        )
        .await;
    (s, hd, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

async fn c_nonce(h: &Harness) -> (String, String) {
    let (s, hd, b) = h
        .raw(Method::POST, "/agencies/demo/nonce", &[], vec![])
        .await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_slice(&b).unwrap();
    let dpop_nonce = header_str(&hd, header::HeaderName::from_static("dpop-nonce"));
    assert!(
        !dpop_nonce.is_empty(),
        "HAIP 1.0 §4: the nonce endpoint gives a DPoP-Nonce"
    );
    (v["c_nonce"].as_str().unwrap().to_owned(), dpop_nonce)
}

fn credential_body(holder: &Ed25519Signer, c_nonce: &str, at: i64) -> Value {
    json!({"credential_configuration_id": "business-licence",
           "proofs": {"jwt": [key_proof(holder, DEMO_ISS, Some(c_nonce), at).unwrap()]}})
}

async fn the_authorization_server_metadata_offers_par_pkce_and_dpop(h: &Harness) {
    let (_, a) = h
        .get(
            "/.well-known/oauth-authorization-server/agencies/demo",
            None,
        )
        .await;
    assert_eq!(
        a["pushed_authorization_request_endpoint"],
        format!("{DEMO_ISS}/par")
    );
    assert_eq!(a["authorization_endpoint"], format!("{DEMO_ISS}/authorize"));
    assert_eq!(a["require_pushed_authorization_requests"], true);
    assert_eq!(a["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(a["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        a["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "Ed25519"])
    );
    assert_eq!(
        a["grant_types_supported"],
        json!([
            "authorization_code",
            "urn:ietf:params:oauth:grant-type:pre-authorized_code"
        ])
    );
    assert!(
        a["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("business-licence"))
    );
    // HAIP 1.0 §4.1: a scope for every configuration.
    let (_, m) = h
        .get("/.well-known/openid-credential-issuer/agencies/demo", None)
        .await;
    for (id, c) in m["credential_configurations_supported"]
        .as_object()
        .unwrap()
    {
        assert_eq!(c["scope"], json!(id), "{id}");
    }
    // An agency without a login offers the pre-authorized grant only.
    let (_, o) = h
        .get(
            "/.well-known/oauth-authorization-server/agencies/other",
            None,
        )
        .await;
    assert!(o.get("pushed_authorization_request_endpoint").is_none());
    assert_eq!(
        o["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "Ed25519"])
    );
    let (s, _, v) = post_form(h, "/agencies/other/par", &[("response_type", "code")], None).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_response_type"))
    );
}

async fn a_wallet_initiated_flow_with_dpop_issues_the_citizens_record(h: &Harness) {
    load_record(h, "citizen-1", 401).await;
    let mut w = Wallet::new();
    let challenge = challenge_s256(&w.verifier);
    let pairs = par_pairs(&challenge, "business-licence");
    let (s, par) = par_with_dpop(h, &mut w, &pairs).await;
    assert_eq!(s, StatusCode::CREATED, "{par}");
    let request_uri = par["request_uri"].as_str().unwrap();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(par["expires_in"], 60);
    let back = login(h, request_uri, "citizen-1").await;
    assert_eq!(get(&back, "state"), Some("wallet-state"));
    assert_eq!(get(&back, "iss"), Some(DEMO_ISS), "RFC 9207");
    let code = get(&back, "code").unwrap().to_owned();
    let verifier = w.verifier.clone();
    let (s, hd, t) = code_token(h, &mut w, &code, Some(&verifier), true).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "DPoP");
    assert!(t.get("authorization_details").is_none(), "asked by scope");
    let access = t["access_token"].as_str().unwrap().to_owned();
    w.nonce = Some(header_str(
        &hd,
        header::HeaderName::from_static("dpop-nonce"),
    ));
    let holder = Ed25519Signer::generate(&mut OsRng, None);
    let (n, _) = c_nonce(h).await;
    let body = credential_body(&holder, &n, h.now());
    // Bound: refused as a bearer token, and with the DPoP scheme but no proof.
    let (s, hd, v) = credential(h, &format!("Bearer {access}"), None, &body).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token")),
        "{v}"
    );
    assert!(header_str(&hd, header::WWW_AUTHENTICATE).starts_with("Bearer "));
    let (s, hd, v) = credential(h, &format!("DPoP {access}"), None, &body).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_dpop_proof")),
        "{v}"
    );
    assert!(header_str(&hd, header::WWW_AUTHENTICATE).starts_with("DPoP "));
    // Another key's proof.
    let mut thief = Wallet::new();
    thief.nonce = w.nonce.clone();
    let p = thief.proof(&format!("{DEMO_ISS}/credential"), Some(&access));
    let (s, _, v) = credential(h, &format!("DPoP {access}"), Some(&p), &body).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_dpop_proof")),
        "{v}"
    );
    // A proof without ath (not over this token), and one for another endpoint.
    let p = w.proof(&format!("{DEMO_ISS}/credential"), None);
    let (s, _, v) = credential(h, &format!("DPoP {access}"), Some(&p), &body).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_dpop_proof")),
        "{v}"
    );
    let p = w.proof(&format!("{DEMO_ISS}/token"), Some(&access));
    let (s, _, v) = credential(h, &format!("DPoP {access}"), Some(&p), &body).await;
    assert!(
        v["error_description"].as_str().unwrap().contains("htu"),
        "{v}"
    );
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The right proof.
    let p = w.proof(&format!("{DEMO_ISS}/credential"), Some(&access));
    let (s, _, v) = credential(h, &format!("DPoP {access}"), Some(&p), &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        v["credentials"][0]["credential"]
            .as_str()
            .unwrap()
            .contains('~')
    );
    // The record was forgotten with its issuance: the next login is denied.
    let mut w2 = Wallet::new();
    let ch2 = challenge_s256(&w2.verifier);
    let pairs = par_pairs(&ch2, "business-licence");
    let (_, par) = par_with_dpop(h, &mut w2, &pairs).await;
    let back = login(h, par["request_uri"].as_str().unwrap(), "citizen-1").await;
    assert_eq!(get(&back, "error"), Some("access_denied"));
    assert_eq!(get(&back, "iss"), Some(DEMO_ISS));
}

async fn an_issuer_initiated_offer_is_for_its_citizen_and_honours_authorization_details(
    h: &Harness,
) {
    let (s, o) = h
        .post(
            "/admin/v1/credentials",
            Some(&h.demo),
            &json!({"vct": "urn:tongban:business-licence:1",
                    "claims": catalogue_claims("business-licence", 402),
                    "offer": {"grant": "authorization_code", "subject": "citizen-2"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let grants = &o["credential_offer"]["grants"];
    assert!(
        grants
            .get("urn:ietf:params:oauth:grant-type:pre-authorized_code")
            .is_none()
    );
    let issuer_state = grants["authorization_code"]["issuer_state"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(o["tx_code"].is_null());
    assert!(
        o["offer_link"]
            .as_str()
            .unwrap()
            .starts_with("openid-credential-offer://")
    );
    assert!(
        !o["qr_png_base64"].as_str().unwrap().is_empty(),
        "cross-device: the QR"
    );
    // A PIN or no subject is refused for this grant.
    for bad in [
        json!({"grant": "authorization_code", "subject": "x", "tx_code": true}),
        json!({"grant": "authorization_code"}),
        json!({"grant": "implicit"}),
    ] {
        let (s, v) = h
            .post("/admin/v1/credentials", Some(&h.demo), &json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 403), "offer": bad}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    }
    let details =
        json!([{"type": "openid_credential", "credential_configuration_id": "business-licence"}])
            .to_string();
    // Another citizen logging in is denied.
    let mut w = Wallet::new();
    let challenge = challenge_s256(&w.verifier);
    let mut pairs = par_pairs(&challenge, "business-licence");
    pairs.retain(|(k, _)| *k != "scope");
    pairs.push(("authorization_details", &details));
    pairs.push(("issuer_state", &issuer_state));
    let (s, _, par) = post_form(h, "/agencies/demo/par", &pairs, None).await;
    assert_eq!(s, StatusCode::CREATED, "{par}");
    let back = login(h, par["request_uri"].as_str().unwrap(), "citizen-9").await;
    assert_eq!(get(&back, "error"), Some("access_denied"));
    // Its own citizen gets a code; no DPoP: a bearer token.
    let (_, _, par) = post_form(h, "/agencies/demo/par", &pairs, None).await;
    let back = login(h, par["request_uri"].as_str().unwrap(), "citizen-2").await;
    let code = get(&back, "code").unwrap().to_owned();
    let verifier = w.verifier.clone();
    let (s, _, t) = code_token(h, &mut w, &code, Some(&verifier), false).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    let detail = &t["authorization_details"][0];
    assert_eq!(detail["credential_configuration_id"], "business-licence");
    let identifier = detail["credential_identifiers"][0].as_str().unwrap();
    assert_eq!(identifier, o["offer_id"].as_str().unwrap());
    let access = t["access_token"].as_str().unwrap();
    let holder = Ed25519Signer::generate(&mut OsRng, None);
    let (n, _) = c_nonce(h).await;
    let proof = key_proof(&holder, DEMO_ISS, Some(&n), h.now()).unwrap();
    let (s, _, v) = credential(
        h,
        &format!("Bearer {access}"),
        None,
        &json!({"credential_identifier": "offer_other", "proofs": {"jwt": [proof.clone()]}}),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("unknown_credential_identifier")
        )
    );
    let (s, _, v) = credential(
        h,
        &format!("Bearer {access}"),
        None,
        &json!({"credential_identifier": identifier, "proofs": {"jwt": [proof]}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The offer is spent: its issuer_state no longer opens a request.
    let (s, _, v) = post_form(h, "/agencies/demo/par", &pairs, None).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request")),
        "{v}"
    );
}

/// A change to a pushed request's form.
type Change = dyn Fn(&mut Vec<(&str, &str)>);

async fn par_refuses_missing_or_plain_pkce_and_unknown_configurations(h: &Harness) {
    let w = Wallet::new();
    let challenge = challenge_s256(&w.verifier);
    let base = par_pairs(&challenge, "business-licence");
    let push = |change: &Change| {
        let mut p = base.clone();
        change(&mut p);
        async move { post_form(h, "/agencies/demo/par", &p, None).await }
    };
    let cases: Vec<(&str, Box<Change>, &str)> = vec![
        (
            "no code_challenge",
            Box::new(|p| p.retain(|(k, _)| *k != "code_challenge")),
            "invalid_request",
        ),
        (
            "no method (plain by default)",
            Box::new(|p| p.retain(|(k, _)| *k != "code_challenge_method")),
            "invalid_request",
        ),
        (
            "plain",
            Box::new(|p| {
                p.retain(|(k, _)| *k != "code_challenge_method");
                p.push(("code_challenge_method", "plain"));
            }),
            "invalid_request",
        ),
        (
            "a plain-looking challenge",
            Box::new(|p| {
                p.retain(|(k, _)| *k != "code_challenge");
                p.push(("code_challenge", "too-short"));
            }),
            "invalid_request",
        ),
        (
            "unknown scope",
            Box::new(|p| {
                p.retain(|(k, _)| *k != "scope");
                p.push(("scope", "passport"));
            }),
            "invalid_scope",
        ),
        (
            "no scope",
            Box::new(|p| p.retain(|(k, _)| *k != "scope")),
            "invalid_scope",
        ),
        (
            "two configurations",
            Box::new(|p| {
                p.retain(|(k, _)| *k != "scope");
                p.push(("scope", "business-licence driving-licence"));
            }),
            "invalid_request",
        ),
        (
            "bad details",
            Box::new(|p| p.push(("authorization_details", "[{\"type\":\"x\"}]"))),
            "invalid_authorization_details",
        ),
        (
            "request_uri in PAR",
            Box::new(|p| p.push(("request_uri", "urn:x"))),
            "invalid_request",
        ),
        (
            "response_type token",
            Box::new(|p| {
                p.retain(|(k, _)| *k != "response_type");
                p.push(("response_type", "token"));
            }),
            "unsupported_response_type",
        ),
        (
            "http redirect",
            Box::new(|p| {
                p.retain(|(k, _)| *k != "redirect_uri");
                p.push(("redirect_uri", "http://wallet.example/cb"));
            }),
            "invalid_request",
        ),
        (
            "resource elsewhere",
            Box::new(|p| p.push(("resource", "https://elsewhere.example"))),
            "invalid_target",
        ),
        (
            "unknown issuer_state",
            Box::new(|p| p.push(("issuer_state", "forged"))),
            "invalid_request",
        ),
        (
            "repeated",
            Box::new(|p| p.push(("client_id", "again"))),
            "invalid_request",
        ),
    ];
    for (what, change, error) in cases {
        let (s, _, v) = push(change.as_ref()).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(error)),
            "{what}: {v}"
        );
    }
    // The body is small.
    let big = "x".repeat(9 * 1024);
    let mut p = base.clone();
    p.push(("state", &big));
    let (s, _, _) = post_form(h, "/agencies/demo/par", &p, None).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
}

async fn a_request_uri_is_used_once_before_it_expires(h: &Harness) {
    let w = Wallet::new();
    let challenge = challenge_s256(&w.verifier);
    let pairs = par_pairs(&challenge, "business-licence");
    let authorize = |uri: String, client: &'static str| async move {
        h.raw(
            Method::GET,
            &format!(
                "/agencies/demo/authorize?client_id={client}&request_uri={}",
                enc(&uri)
            ),
            &[],
            vec![],
        )
        .await
    };
    let (_, _, par) = post_form(h, "/agencies/demo/par", &pairs, None).await;
    let uri = par["request_uri"].as_str().unwrap().to_owned();
    let (s, _, page) = authorize(uri.clone(), "someone-else").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "another client's request_uri");
    assert!(String::from_utf8_lossy(&page).contains("invalid_request_uri"));
    let (s, _, _) = authorize(uri.clone(), CLIENT).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _, page) = authorize(uri, CLIENT).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "reused");
    assert!(String::from_utf8_lossy(&page).contains("invalid_request_uri"));
    // Expired: good through its last second, refused after.
    let (_, _, a) = post_form(h, "/agencies/demo/par", &pairs, None).await;
    let (_, _, b) = post_form(h, "/agencies/demo/par", &pairs, None).await;
    h.clock.advance(60);
    let (s, _, _) = authorize(a["request_uri"].as_str().unwrap().to_owned(), CLIENT).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    h.clock.advance(1);
    let (s, _, _) = authorize(b["request_uri"].as_str().unwrap().to_owned(), CLIENT).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Without a pushed request: nothing.
    let (s, _, _) = h
        .raw(
            Method::GET,
            &format!(
                "/agencies/demo/authorize?client_id={CLIENT}&response_type=code&redirect_uri={}",
                enc(REDIRECT)
            ),
            &[],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn the_number_of_pending_requests_is_bounded(h: &Harness) {
    let w = Wallet::new();
    let challenge = challenge_s256(&w.verifier);
    let pairs = par_pairs(&challenge, "business-licence");
    for _ in 0..20 {
        let (s, _, v) = post_form(h, "/agencies/demo/par", &pairs, None).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, _, v) = post_form(h, "/agencies/demo/par", &pairs, None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    // Expired ones no longer count.
    h.clock.advance(61);
    let (s, _, _) = post_form(h, "/agencies/demo/par", &pairs, None).await;
    assert_eq!(s, StatusCode::CREATED);
}

/// A code for `citizen` (record loaded), pushed without DPoP.
async fn a_code(h: &Harness, w: &Wallet, subject: &str, serial: u32) -> String {
    load_record(h, subject, serial).await;
    let challenge = challenge_s256(&w.verifier);
    let pairs = par_pairs(&challenge, "business-licence");
    let (_, _, par) = post_form(h, "/agencies/demo/par", &pairs, None).await;
    let back = login(h, par["request_uri"].as_str().unwrap(), subject).await;
    get(&back, "code").unwrap().to_owned()
}

async fn the_code_needs_its_verifier_and_is_used_once(h: &Harness) {
    let mut w = Wallet::new();
    // Missing verifier: refused without spending the code.
    let code = a_code(h, &w, "citizen-3", 404).await;
    let (s, _, v) = code_token(h, &mut w, &code, None, false).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request")),
        "{v}"
    );
    // A wrong verifier: refused, and the code is spent.
    let other = verifier_from_random(&[1; 32]);
    let (s, _, v) = code_token(h, &mut w, &code, Some(&other), false).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{v}"
    );
    let verifier = w.verifier.clone();
    let (s, _, v) = code_token(h, &mut w, &code, Some(&verifier), false).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{v}"
    );
    // Reuse: the second exchange is refused and the first token withdrawn.
    let code = a_code(h, &w, "citizen-4", 405).await;
    let (s, _, t) = code_token(h, &mut w, &code, Some(&verifier), false).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let (s, _, v) = code_token(h, &mut w, &code, Some(&verifier), false).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{v}"
    );
    let holder = Ed25519Signer::generate(&mut OsRng, None);
    let (n, _) = c_nonce(h).await;
    let access = t["access_token"].as_str().unwrap();
    let (s, _, v) = credential(
        h,
        &format!("Bearer {access}"),
        None,
        &credential_body(&holder, &n, h.now()),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token")),
        "{v}"
    );
    // Expired after authorization_code_ttl_secs; wrong redirect_uri.
    let code = a_code(h, &w, "citizen-5", 406).await;
    h.clock.advance(61);
    let (s, _, v) = code_token(h, &mut w, &code, Some(&verifier), false).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{v}"
    );
    let code = a_code(h, &w, "citizen-6", 407).await;
    let (s, _, v) = post_form(
        h,
        "/agencies/demo/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:1/other"),
            ("client_id", CLIENT),
            ("code_verifier", &verifier),
        ],
        None,
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{v}"
    );
}

async fn dpop_proofs_need_a_live_nonce_the_right_target_and_a_fresh_jti(h: &Harness) {
    let mut w = Wallet::new();
    let code = a_code(h, &w, "citizen-7", 408).await;
    let verifier = w.verifier.clone();
    let token_pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", CLIENT),
        ("code_verifier", verifier.as_str()),
    ];
    let token_url = format!("{DEMO_ISS}/token");
    set_now(h);
    // No nonce: use_dpop_nonce with one, and the code is not spent.
    let p = w.proof(&token_url, None);
    let (s, hd, v) = post_form(h, "/agencies/demo/token", &token_pairs, Some(&p)).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("use_dpop_nonce")),
        "{v}"
    );
    let nonce = header_str(&hd, header::HeaderName::from_static("dpop-nonce"));
    assert!(!nonce.is_empty());
    // A stale nonce: the same answer.
    w.nonce = Some(nonce);
    h.clock.advance(301);
    set_now(h);
    let p = w.proof(&token_url, None);
    let (s, hd, v) = post_form(h, "/agencies/demo/token", &token_pairs, Some(&p)).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("use_dpop_nonce")),
        "{v}"
    );
    w.nonce = Some(header_str(
        &hd,
        header::HeaderName::from_static("dpop-nonce"),
    ));
    // The code expired meanwhile; take a fresh one (the nonce still lives).
    let code = a_code(h, &w, "citizen-8", 409).await;
    let token_pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", CLIENT),
        ("code_verifier", verifier.as_str()),
    ];
    // Wrong htu, wrong htm.
    let p = w.proof(&format!("{DEMO_ISS}/par"), None);
    let (s, _, v) = post_form(h, "/agencies/demo/token", &token_pairs, Some(&p)).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_dpop_proof")),
        "{v}"
    );
    let get_proof = sign_dpop(
        &w.dpop,
        &DpopClaims {
            htm: "GET",
            htu: &token_url,
            iat: h.now(),
            jti: "get-1",
            nonce: w.nonce.as_deref(),
            access_token: None,
        },
    )
    .unwrap();
    let (s, _, v) = post_form(h, "/agencies/demo/token", &token_pairs, Some(&get_proof)).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_dpop_proof")),
        "{v}"
    );
    assert!(
        v["error_description"].as_str().unwrap().contains("htm"),
        "{v}"
    );
    // A good proof, then the same proof again (replayed jti).
    let p = w.proof(&token_url, None);
    let (s, _, t) = post_form(h, "/agencies/demo/token", &token_pairs, Some(&p)).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "DPoP");
    let access = t["access_token"].as_str().unwrap().to_owned();
    let (s, _, v) = post_form(h, "/agencies/demo/token", &token_pairs, Some(&p)).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_dpop_proof")),
        "{v}"
    );
    // At the credential endpoint: a stale nonce is a 401 with DPoP-Nonce.
    let holder = Ed25519Signer::generate(&mut OsRng, None);
    let (n, fresh) = c_nonce(h).await;
    let body = credential_body(&holder, &n, h.now());
    let stale = w
        .nonce
        .replace("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into());
    let p = w.proof(&format!("{DEMO_ISS}/credential"), Some(&access));
    let (s, hd, v) = credential(h, &format!("DPoP {access}"), Some(&p), &body).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("use_dpop_nonce")),
        "{v}"
    );
    assert!(header_str(&hd, header::WWW_AUTHENTICATE).contains("use_dpop_nonce"));
    assert!(!header_str(&hd, header::HeaderName::from_static("dpop-nonce")).is_empty());
    drop(stale);
    w.nonce = Some(fresh);
    let p = w.proof(&format!("{DEMO_ISS}/credential"), Some(&access));
    let (s, _, v) = credential(h, &format!("DPoP {access}"), Some(&p), &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn a_code_pushed_with_dpop_is_bound_to_its_key(h: &Harness) {
    load_record(h, "citizen-10", 410).await;
    let mut w = Wallet::new();
    let challenge = challenge_s256(&w.verifier);
    let pairs = par_pairs(&challenge, "business-licence");
    let (_, par) = par_with_dpop(h, &mut w, &pairs).await;
    let back = login(h, par["request_uri"].as_str().unwrap(), "citizen-10").await;
    let code = get(&back, "code").unwrap().to_owned();
    let verifier = w.verifier.clone();
    // Without a proof: refused (RFC 9449 §10).
    let (s, _, v) = code_token(h, &mut w, &code, Some(&verifier), false).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_dpop_proof")),
        "{v}"
    );
}

async fn the_pre_authorized_grant_binds_its_token_to_a_dpop_key_too(h: &Harness) {
    let (s, o) = h
        .post(
            "/admin/v1/credentials",
            Some(&h.demo),
            &json!({"vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 411), "offer": {"tx_code": false}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let code = o["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut w = Wallet::new();
    let (_, dpop_nonce) = c_nonce(h).await;
    w.nonce = Some(dpop_nonce);
    set_now(h);
    let p = w.proof(&format!("{DEMO_ISS}/token"), None);
    let (s, _, t) = post_form(
        h,
        "/agencies/demo/token",
        &[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", &code),
        ],
        Some(&p),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "DPoP");
    let access = t["access_token"].as_str().unwrap();
    let holder = Ed25519Signer::generate(&mut OsRng, None);
    let (n, _) = c_nonce(h).await;
    let body = credential_body(&holder, &n, h.now());
    let (s, _, v) = credential(h, &format!("Bearer {access}"), None, &body).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token")),
        "{v}"
    );
    let p = w.proof(&format!("{DEMO_ISS}/credential"), Some(access));
    let (s, _, v) = credential(h, &format!("DPoP {access}"), Some(&p), &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn records_are_checked_like_issue_requests(h: &Harness) {
    let good = catalogue_claims("business-licence", 412);
    for (token, body, status) in [
        (
            &h.demo,
            json!({"subject": "", "vct": "urn:tongban:business-licence:1", "claims": good}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &h.demo,
            json!({"subject": "s", "vct": "urn:tongban:business-licence:1", "claims": {}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &h.demo,
            json!({"subject": "s", "vct": "urn:tongban:passport:1", "claims": good}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &h.other,
            json!({"subject": "s", "vct": "urn:tongban:business-licence:1", "claims": good}),
            StatusCode::FORBIDDEN,
        ),
        (
            &h.demo,
            json!({"subject": "s", "vct": "urn:tongban:business-licence:1", "claims": good}),
            StatusCode::CREATED,
        ),
    ] {
        let (s, v) = h.post("/admin/v1/records", Some(token), &body).await;
        assert_eq!(s, status, "{body}: {v}");
    }
    let read_only = h.token("demo", "read").await;
    let (s, _) = h
        .post("/admin/v1/records", Some(&read_only), &json!({"subject": "s", "vct": "urn:tongban:business-licence:1", "claims": catalogue_claims("business-licence", 413)}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both_backends!(
    the_authorization_server_metadata_offers_par_pkce_and_dpop,
    a_wallet_initiated_flow_with_dpop_issues_the_citizens_record,
    an_issuer_initiated_offer_is_for_its_citizen_and_honours_authorization_details,
    par_refuses_missing_or_plain_pkce_and_unknown_configurations,
    a_request_uri_is_used_once_before_it_expires,
    the_number_of_pending_requests_is_bounded,
    the_code_needs_its_verifier_and_is_used_once,
    dpop_proofs_need_a_live_nonce_the_right_target_and_a_fresh_jti,
    a_code_pushed_with_dpop_is_bound_to_its_key,
    the_pre_authorized_grant_binds_its_token_to_a_dpop_key_too,
    records_are_checked_like_issue_requests,
);
