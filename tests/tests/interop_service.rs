//! The running `tongban-issuer` service against implementations nobody on
//! this team wrote:
//!
//! - an OpenID4VCI wallet client from npm (`@openid4vc/openid4vci` and
//!   `@openid4vc/oauth2` 0.4.6, `tests/interop/js/oid4vci_receive.mjs`)
//!   receives a credential with the pre-authorized code flow and a PIN,
//!   proving possession of an Ed25519 key (proof `alg` EdDSA); a
//!   presentation of that credential, signed with the key the client made,
//!   is accepted by `tongban-verify` with the issuer's published JWKS;
//! - a credential of every catalogue type the service issues verifies, with
//!   its KB-JWT, in `@sd-jwt/sd-jwt-vc` 0.19.0 (which also fetches the live
//!   status list and checks the entry) and in Python `sd-jwt` 0.10.4, with
//!   the issuer key taken from the published JWKS by `kid`;
//! - after revoking and suspending through the admin API, the service's
//!   status list token decodes in `@sd-jwt/jwt-status-list` 0.19.0 with
//!   the same statuses (valid 0, revoked 1, suspended 2), and the npm
//!   verifier refuses presentations of the revoked and suspended ones.
//!
//! Like the other interoperability tests, these install the pinned peers if
//! they are missing (`npm ci`, `pip install -r`) and fail loudly when Node.js
//! 20 / Python 3 are not there; CI installs them in `.ci/run`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use tongban_e2e::cargo_bin;
use tongban_e2e::issuer::{IssuerProcess as Issuer, http};
use tongban_e2e::peers::{node, node_output, python};
use tongban_test_support::sample::{SAMPLE_AUD, catalogue_claims, catalogue_samples};
use tongban_verifier::*;

// ----------------------------------------------------------------- helpers

fn now() -> i64 {
    tongban_cli_support::time::now()
}

fn vct_of(slug: &str) -> String {
    tongban_verifier::catalogue::Catalogue::builtin()
        .unwrap()
        .by_slug(slug)
        .unwrap()
        .vct
        .clone()
}

/// Presents `disclose` (top-level claim names) of `credential` as the
/// holder `holder`, with a KB-JWT for `aud` and `nonce` made now.
fn present(credential: &str, disclose: &[&str], holder: &Ed25519Signer, nonce: &str) -> String {
    let held = HeldCredential::parse(credential).unwrap();
    let paths: Vec<ClaimPath> = disclose
        .iter()
        .map(|p| ClaimPath::parse(p).unwrap())
        .collect();
    let kb = KeyBinding {
        signer: holder,
        audience: SAMPLE_AUD.into(),
        nonce: nonce.into(),
        iat: now(),
        transaction_data_hashes: Vec::new(),
    };
    held.present(&paths, Some(&kb)).unwrap()
}

/// The payload of the issuer-signed JWT of an SD-JWT.
fn issuer_payload(sd_jwt: &str) -> serde_json::Map<String, Value> {
    HeldCredential::parse(sd_jwt).unwrap().payload().clone()
}

/// Runs `tongban-verify verify --json`; returns (exit code, report).
fn tongban_verify(args: &[&str], presentation: &Path) -> (i32, Value) {
    let out = Command::new(cargo_bin("tongban-verify"))
        .args(["verify", "--json"])
        .args(args)
        .arg(presentation)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "tongban-verify printed no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

// ------------------------------------------------------------------- tests

/// `@openid4vc/openid4vci` receives a credential from the service with the
/// pre-authorized code flow and a PIN; the credential is bound to the key
/// the npm client proved, and a presentation of it is accepted by
/// `tongban-verify` with the JWKS the service publishes.
#[test]
fn an_npm_openid4vci_wallet_receives_a_credential_tongban_verify_accepts() {
    let issuer = Issuer::start();
    let offer = issuer.admin_issue(&json!({
        "vct": "urn:tongban:business-licence:1",
        "claims": catalogue_claims("business-licence", 777),
        "offer": {"tx_code": true},
    }));
    let uri = offer["offer_link"].as_str().unwrap();
    let pin = offer["tx_code"].as_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let received = tmp.path().join("received.json");
    let summary = node(
        "oid4vci_receive.mjs",
        &[uri, pin, received.to_str().unwrap()],
    );
    assert_eq!(summary["credential_issuer"], Value::String(issuer.iss()));
    assert_eq!(summary["credential_configuration_id"], "business-licence");
    // The client read the metadata as OpenID4VCI 1.0 (not a draft).
    assert_eq!(summary["issuer_metadata_version"], "V1");

    let got: Value = serde_json::from_str(&std::fs::read_to_string(&received).unwrap()).unwrap();
    assert_eq!(got["tx_code_requested"], true);
    let credential = got["credential"].as_str().unwrap();
    let holder = Ed25519Signer::from_private_jwk(&got["holder_private_jwk"]).unwrap();
    // Bound to the key the npm client proved possession of.
    let payload = issuer_payload(credential);
    assert_eq!(payload["iss"], Value::String(issuer.iss()));
    assert_eq!(payload["vct"], "urn:tongban:business-licence:1");
    assert_eq!(payload["cnf"]["jwk"], holder.public_key().to_jwk());
    assert_eq!(got["holder_public_jwk"]["x"], payload["cnf"]["jwk"]["x"]);

    let presentation = present(
        credential,
        &["company_name", "unified_social_credit_code", "licence_id"],
        &holder,
        "oid4vci-nonce-1",
    );
    let p = tmp.path().join("presentation.txt");
    std::fs::write(&p, &presentation).unwrap();
    let jwks = issuer.jwks_file();
    let jwks = jwks.to_str().unwrap();
    let (code, report) = tongban_verify(
        &[
            "--issuer-key",
            jwks,
            "--aud",
            SAMPLE_AUD,
            "--nonce",
            "oid4vci-nonce-1",
        ],
        &p,
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "accepted");
    assert_eq!(report["credential"]["iss"], Value::String(issuer.iss()));
    assert_eq!(report["credential"]["key_binding"], true);
    assert_eq!(
        report["claims"]["company_name"],
        "苏州吴江通办示范科技有限公司"
    );
    assert_eq!(report["claims"]["licence_id"], "320509-BL-2026-000777");
    assert!(
        report["claims"].get("legal_representative").is_none(),
        "undisclosed claims stay hidden"
    );
    let disclosed: Vec<&str> = report["disclosed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(disclosed.len(), 3, "{disclosed:?}");

    // Our checks stay strict: another counter's nonce is refused.
    let (code, report) = tongban_verify(
        &[
            "--issuer-key",
            jwks,
            "--aud",
            SAMPLE_AUD,
            "--nonce",
            "another-nonce",
        ],
        &p,
    );
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["rejection"]["code"], "kb_nonce_mismatch");

    // The offer was used up: the same client cannot redeem it again.
    let again = node_output(
        "oid4vci_receive.mjs",
        &[uri, pin, tmp.path().join("again.json").to_str().unwrap()],
    );
    assert!(!again.status.success(), "a used offer was redeemed twice");
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("invalid_grant"), "{err}");
}

/// A credential of every catalogue type, issued by the service straight to
/// a holder key, verifies in `@sd-jwt/sd-jwt-vc` and in Python `sd-jwt`
/// (issuer signature with the published JWKS, disclosures, KB-JWT).
#[test]
fn service_credentials_verify_in_the_npm_and_python_peers() {
    let issuer = Issuer::start();
    let jwks = issuer.jwks_file();
    let tmp = tempfile::tempdir().unwrap();
    let holder = Ed25519Signer::generate(&mut rand::rngs::OsRng, None);
    for (n, slug) in catalogue_samples().keys().enumerate() {
        let claims = catalogue_claims(slug, 900 + u32::try_from(n).unwrap());
        let issued = issuer.admin_issue(&json!({
            "vct": vct_of(slug),
            "claims": claims,
            "holder_jwk": holder.public_key().to_jwk(),
        }));
        let credential = issued["credential"].as_str().unwrap();
        // Every other claim disclosed; the others must stay hidden.
        let names: Vec<&str> = claims.keys().map(String::as_str).collect();
        let disclose: Vec<&str> = names.iter().step_by(2).copied().collect();
        let hidden: Vec<&str> = names.iter().skip(1).step_by(2).copied().collect();
        let nonce = format!("svc-nonce-{n}");
        let presentation = present(credential, &disclose, &holder, &nonce);
        let p = tmp.path().join(format!("{slug}.txt"));
        std::fs::write(&p, &presentation).unwrap();
        let p = p.to_str().unwrap();

        let js = node(
            "interop.mjs",
            &[
                "verify",
                p,
                jwks.to_str().unwrap(),
                SAMPLE_AUD,
                &nonce,
                // The peer's own clock at each check (see interop.mjs).
                "-",
            ],
        );
        let py = python(&["verify", p, jwks.to_str().unwrap(), SAMPLE_AUD, &nonce]);
        for (peer, v) in [("npm", &js), ("python", &py)] {
            assert_eq!(v["ok"], true, "{peer} {slug}");
            assert_eq!(v["claims"]["iss"], Value::String(issuer.iss()), "{peer}");
            assert_eq!(v["claims"]["vct"], Value::String(vct_of(slug)), "{peer}");
            for name in &disclose {
                assert_eq!(v["claims"][name], claims[*name], "{peer} {slug} {name}");
            }
            for name in &hidden {
                assert!(
                    v["claims"].get(name).is_none(),
                    "{peer} {slug}: {name} was not disclosed"
                );
            }
        }
        assert_eq!(js["kb"]["nonce"], Value::String(nonce.clone()));
        assert_eq!(js["kb"]["aud"], SAMPLE_AUD);
        // The npm peer fetched the service's status list and found 0.
        assert_eq!(
            js["status"]["status_list"]["uri"], issued["status_list"]["uri"],
            "{slug}"
        );
    }
}

/// After revoking and suspending through the admin API, the service's
/// status list token decodes in `@sd-jwt/jwt-status-list` with the same
/// statuses, and the npm verifier refuses the revoked and suspended ones.
#[test]
fn service_status_list_decodes_in_the_npm_peer_with_the_same_statuses() {
    let issuer = Issuer::start();
    let holder = Ed25519Signer::generate(&mut rand::rngs::OsRng, None);
    // What to do with each credential, and the status it must then have.
    let plan: [(&[&str], u64); 7] = [
        (&[], 0),
        (&["revoke"], 1),
        (&["suspend"], 2),
        (&[], 0),
        (&["suspend", "reinstate"], 0),
        (&["suspend", "revoke"], 1),
        (&["revoke"], 1),
    ];
    let mut issued = Vec::new();
    for (n, (actions, _)) in plan.iter().enumerate() {
        let r = issuer.admin_issue(&json!({
            "vct": "urn:tongban:business-licence:1",
            "claims": catalogue_claims("business-licence", 500 + u32::try_from(n).unwrap()),
            "holder_jwk": holder.public_key().to_jwk(),
        }));
        assert_eq!(r["status_list"]["list"], 0);
        let id = r["id"].as_str().unwrap().to_owned();
        for a in *actions {
            issuer.admin_change(&id, a);
        }
        issued.push(r);
    }
    let list_url = issuer.url("/agencies/demo/status/0");
    for r in &issued {
        assert_eq!(r["status_list"]["uri"], Value::String(list_url.clone()));
    }
    let resp = http("GET", &list_url, None, None);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        resp.header("content-type"),
        Some("application/statuslist+jwt")
    );
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("status.jwt");
    std::fs::write(&file, &resp.body).unwrap();

    // The token is the service's, signed with the published key its kid
    // names, for the URI the credentials carry.
    let token = resp.text();
    let signed = StatusListToken::parse(token.trim()).unwrap();
    let kid = signed.jws.header["kid"].as_str().unwrap();
    let keys: Vec<PublicKey> = KeyWithId::from_jwk_or_set(
        &serde_json::from_slice(&std::fs::read(issuer.jwks_file()).unwrap()).unwrap(),
    )
    .unwrap()
    .into_iter()
    .filter(|k| k.kid.as_deref() == Some(kid))
    .map(|k| k.key)
    .collect();
    assert!(signed.signed_by_any(&keys), "status list signature");
    assert_eq!(signed.token.uri, list_url);

    let idx: Vec<String> = issued
        .iter()
        .map(|r| r["status_list"]["idx"].as_u64().unwrap().to_string())
        .collect();
    let mut args = vec!["status", file.to_str().unwrap()];
    args.extend(idx.iter().map(String::as_str));
    let v = node("interop.mjs", &args);
    let got: Vec<u64> = v["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap())
        .collect();
    let want: Vec<u64> = plan.iter().map(|(_, s)| *s).collect();
    assert_eq!(got, want, "statuses at indices {idx:?}");
    // Tongban's own reading of the token agrees.
    let ours: Vec<u64> = idx
        .iter()
        .map(|i| u64::from(signed.token.list.get(i.parse().unwrap()).unwrap()))
        .collect();
    assert_eq!(ours, want);

    // The admin API reports the same.
    for (r, (_, s)) in issued.iter().zip(&plan) {
        let id = r["id"].as_str().unwrap();
        let now_rec = http(
            "GET",
            &issuer.url(&format!("/admin/v1/credentials/{id}")),
            Some(&issuer.token),
            None,
        )
        .json();
        let name = ["valid", "revoked", "suspended"][usize::try_from(*s).unwrap()];
        assert_eq!(now_rec["status"], name, "{id}");
    }

    // The npm verifier fetches the same list itself: it accepts the valid
    // credentials and refuses the revoked and suspended ones.
    let jwks = issuer.jwks_file();
    for (n, (r, (_, s))) in issued.iter().zip(&plan).enumerate() {
        let nonce = format!("status-nonce-{n}");
        let presentation = present(
            r["credential"].as_str().unwrap(),
            &["company_name"],
            &holder,
            &nonce,
        );
        let p = tmp.path().join(format!("p{n}.txt"));
        std::fs::write(&p, presentation).unwrap();
        let out = node_output(
            "interop.mjs",
            &[
                "verify",
                p.to_str().unwrap(),
                jwks.to_str().unwrap(),
                SAMPLE_AUD,
                &nonce,
                // The peer's own clock at each check (see interop.mjs).
                "-",
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        if *s == 0 {
            assert!(out.status.success(), "credential {n}: {err}");
        } else {
            assert!(
                !out.status.success(),
                "credential {n} (status {s}) accepted"
            );
            assert!(err.contains("Status is not valid"), "credential {n}: {err}");
        }
    }
}
