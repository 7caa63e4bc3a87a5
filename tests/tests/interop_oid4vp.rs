//! OpenID4VP 1.0 both ways with an implementation nobody on this team
//! wrote: `@openid4vc/openid4vp` 0.4.6 (OWF oid4vc-ts, npm, pinned with a
//! lockfile in `tests/interop/js/`), with `@sd-jwt/sd-jwt-vc` 0.19.0 for the
//! presentation and `jose` 6.2.18 for the JOSE the library leaves to
//! callbacks.
//!
//! - **The npm wallet answers our service** (`oid4vp_wallet.mjs`): it
//!   receives a Wujiang business licence from the running `tongban-issuer`
//!   over OpenID4VCI (`oid4vci_receive.mjs`), resolves the `openid4vp://`
//!   link of a `tongban-verifier-service` transaction (request by
//!   reference, POST, `x509_hash`, the leaf checked against the operator
//!   CA), and posts a `direct_post.jwt` response; the service accepts it
//!   and the back office reads the claims. Declining, it posts
//!   `access_denied` and the outcome reads `refused`.
//! - **Our wallet answers the npm verifier** (`oid4vp_verifier.mjs`):
//!   the script signs its request object with a leaf certificate and key
//!   this test makes with `rcgen` (P-256) under a CA the wallet is told to
//!   trust (`--verifier-ca`), and verifies our encrypted response, the
//!   issuer signature against the issuer's published JWKS, and the KB-JWT
//!   (`nonce`, `aud` = its client identifier).
//!
//! What the peer does differently, and how each side treats it (nothing
//! here is leniency of ours beyond what OpenID4VP 1.0 allows):
//!
//! - Its wallet's POST to `request_uri` (0.4.6, `fetchJarRequestObject`)
//!   sends the wallet metadata's members as separate form fields instead
//!   of one `wallet_metadata` parameter, and never sends `wallet_nonce`.
//!   Both parameters are OPTIONAL (§5.10.1); our service reads unknown form
//!   fields as absent, signs a request without `wallet_nonce`, and the
//!   peer wallet then expects no echo.
//! - Its wallet declines with an unencrypted error response (`error`,
//!   `error_description`, `state` as a form); §8.3 lets a wallet send an
//!   error response without encryption, and our service records it as the
//!   citizen's refusal only when `state` matches.
//! - Its verifier puts the request URI in the request object's `aud`
//!   unless told otherwise; the script sets `https://self-issued.me/v2`
//!   (§5.8, static discovery), which is what our wallet requires.
//! - Both scripts set `allowInsecureUrls`: the endpoints are plain http on
//!   127.0.0.1, which our programs accept for loopback only.
//!
//! Node.js 20 and npm are required (`npm ci` on first use, as CI does);
//! without them these tests fail loudly rather than pass silently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use tongban_e2e::cli;
use tongban_e2e::issuer::http;
use tongban_e2e::peers::{ensure_js, js_dir, node, node_output};
use tongban_e2e::verifier_service::{BUSINESS_LICENCE, Zone};

const PASS: &str = "interop passphrase";

fn ask(svc: &tongban_e2e::verifier_service::VerifierService, token: &str) -> Value {
    svc.create(
        token,
        &json!({
            "licence": {"type": "business-licence", "claims": ["company_name", "legal_representative"]},
            "purpose": {"zh": "办理企业迁移登记", "en": "Company relocation registration"},
            "service_item": "310118-QY-0042",
        }),
    )
}

fn outcome(
    svc: &tongban_e2e::verifier_service::VerifierService,
    token: &str,
    created: &Value,
) -> Value {
    let path = created["outcome"].as_str().unwrap();
    for _ in 0..10 {
        let v = http(
            "GET",
            &svc.url(&format!("{path}?wait=20")),
            Some(token),
            None,
        )
        .json();
        if v["state"] != "pending" {
            return v;
        }
    }
    panic!("still pending: {path}");
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_npm_wallet_answers_our_service_and_it_accepts() {
    let zone = Zone::wujiang();
    let svc = zone.service(None, &[]);
    svc.add_tenant(
        "qingpu-ywtb",
        "上海市青浦区行政服务中心",
        "Qingpu Administrative Service Centre",
        "310118",
    );
    let token = svc.tenant_token("qingpu-ywtb");
    let tmp = tempfile::tempdir().unwrap();
    let held = tmp.path().join("npm-wallet.json");
    let got = node(
        "oid4vci_receive.mjs",
        &[&zone.offer(31), "-", held.to_str().unwrap()],
    );
    assert_eq!(
        got["credential_configuration_id"], "business-licence",
        "{got}"
    );

    let created = ask(&svc, &token);
    let out = node_output(
        "oid4vp_wallet.mjs",
        &[
            created["authorization_request"].as_str().unwrap(),
            held.to_str().unwrap(),
            svc.ca_pem.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    let answered: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answered["status"], 200, "{answered}");
    assert_eq!(answered["client_id"], created["client_id"]);
    assert_eq!(answered["response_mode"], "direct_post.jwt");
    let o = outcome(&svc, &token, &created);
    assert_eq!(o["state"], "accepted", "{o}");
    let sample = tongban_test_support::sample::catalogue_claims("business-licence", 31);
    let claims = &o["claims"]["licence"][0];
    assert_eq!(claims["company_name"], sample["company_name"], "{o}");
    assert_eq!(
        claims["legal_representative"],
        sample["legal_representative"]
    );
    assert!(claims.get("address").is_none(), "only what was asked: {o}");
    assert_eq!(o["verdict"]["presentations"][0]["iss"], zone.issuer.iss());

    // Our service stays strict with the peer: a second answer to the
    // answered transaction is refused (its request URI answers 409).
    let again = node_output(
        "oid4vp_wallet.mjs",
        &[
            created["authorization_request"].as_str().unwrap(),
            held.to_str().unwrap(),
            svc.ca_pem.to_str().unwrap(),
        ],
    );
    assert!(!again.status.success(), "{}", show(&again));

    // Declining.
    let created = ask(&svc, &token);
    let out = node_output(
        "oid4vp_wallet.mjs",
        &[
            created["authorization_request"].as_str().unwrap(),
            held.to_str().unwrap(),
            svc.ca_pem.to_str().unwrap(),
            "decline",
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    let o = outcome(&svc, &token, &created);
    assert_eq!(o["state"], "refused", "{o}");
    assert_eq!(o["verdict"]["wallet_error"], "access_denied");
}

/// A verifier CA and a P-256 leaf it issued for `dns`: writes
/// `ca.pem`, `leaf.pem` and `leaf.key.pem` (PKCS#8) into `dir`.
fn verifier_pki(dir: &Path, dns: &str) {
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "npm verifier test CA");
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut leaf = rcgen::CertificateParams::new(vec![dns.to_owned()]).unwrap();
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, format!("{dns} request signer"));
    let leaf = leaf.signed_by(&key, &ca, &ca_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("leaf.pem"), leaf.pem()).unwrap();
    std::fs::write(dir.join("leaf.key.pem"), key.serialize_pem()).unwrap();
}

/// The running npm verifier, killed (by its own handle) if the test ends
/// before it does.
struct NpmVerifier {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Drop for NpmVerifier {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl NpmVerifier {
    /// Its second line: the result.
    fn result(&mut self) -> Value {
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        let _ = self.child.wait();
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the npm verifier's result ({e}): {line:?}"))
    }
}

/// Starts `oid4vp_verifier.mjs`; returns it and its first line (the link).
fn npm_verifier(dir: &Path, jwks: &Path, claims: &str) -> (NpmVerifier, Value) {
    ensure_js();
    let p = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let mut child = Command::new("node")
        .arg("oid4vp_verifier.mjs")
        .args([
            &p("leaf.pem"),
            &p("leaf.key.pem"),
            jwks.to_str().unwrap(),
            BUSINESS_LICENCE,
            claims,
        ])
        .current_dir(js_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node is required for the interoperability tests (install Node.js 20)");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let link: Value = serde_json::from_str(&first)
        .unwrap_or_else(|e| panic!("the npm verifier's first line ({e}): {first:?}"));
    (NpmVerifier { child, out }, link)
}

fn wallet(w: &Path, args: &[&str]) -> Output {
    cli::wallet(w, PASS, args)
}

#[test]
fn our_wallet_answers_the_npm_verifier_and_it_accepts() {
    let zone = Zone::wujiang();
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("wallet-li");
    assert!(wallet(&w, &["init"]).status.success());
    let out = wallet(&w, &["--json", "receive", &zone.offer(32)]);
    assert!(out.status.success(), "{}", show(&out));
    verifier_pki(tmp.path(), "verifier.npm.example");
    let jwks = zone.issuer.jwks_file();
    let ca = tmp.path().join("ca.pem");

    let (mut peer, first) = npm_verifier(tmp.path(), &jwks, "company_name,legal_representative");
    let link = first["link"].as_str().unwrap();
    let out = wallet(
        &w,
        &[
            "--json",
            "present",
            link,
            "--yes",
            "--verifier-ca",
            ca.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["client_id"], first["client_id"]);
    assert_eq!(report["response_mode"], "direct_post.jwt");
    let result = peer.result();
    assert_eq!(result["ok"], true, "{result}");
    let sample = tongban_test_support::sample::catalogue_claims("business-licence", 32);
    assert_eq!(
        result["claims"]["company_name"], sample["company_name"],
        "{result}"
    );
    assert_eq!(
        result["claims"]["legal_representative"],
        sample["legal_representative"]
    );
    assert!(
        result["claims"].get("address").is_none(),
        "only what was asked: {result}"
    );
    assert_eq!(result["kb"]["aud"], first["client_id"]);
    assert_eq!(result["enc"], report["enc"]);

    // Declining: the peer receives access_denied with its state, and the
    // wallet changes only by a "declined" line in its history.
    let listed = |args: &[&str]| -> Value {
        let out = wallet(&w, args);
        assert!(out.status.success(), "{}", show(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let held = listed(&["--json", "list"]);
    let lines = listed(&["--json", "history"])["history"]
        .as_array()
        .unwrap()
        .len();
    let (mut peer, first) = npm_verifier(tmp.path(), &jwks, "company_name");
    let out = wallet(
        &w,
        &[
            "--json",
            "present",
            first["link"].as_str().unwrap(),
            "--decline",
            "--verifier-ca",
            ca.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let result = peer.result();
    assert_eq!(result["wallet_error"], "access_denied", "{result}");
    assert_eq!(result["state_matches"], true);
    assert_eq!(listed(&["--json", "list"]), held);
    let history = listed(&["--json", "history"])["history"].clone();
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), lines + 1);
    assert_eq!(
        history.last().unwrap()["outcome"],
        "declined",
        "{history:?}"
    );
}
