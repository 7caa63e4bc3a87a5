//! HAIP 1.0 §4 across real processes: `tongban-issuer` with an agency whose
//! citizens log in at a real OpenID provider (npm `oidc-provider`, pinned
//! in `tests/interop/js`, started here with a test citizen it logs in at
//! once), and two wallets running the authorization code flow against it:
//!
//! - `tongban-wallet receive`, with a wallet attestation and key attester
//!   from a test wallet provider the agency requires: an issuer-initiated
//!   offer (`issuer_state`) and a wallet-initiated request (`--issuer
//!   --type`, the claims from a record loaded by the admin API), PAR +
//!   PKCE + DPoP + the wallet attestation, a batch of copies each with its
//!   key attested, the login in a
//!   headless browser (`browser.mjs`, given as `--browser`) that comes back
//!   to the wallet's loopback port; a second request for a spent record is
//!   refused with `authorization_denied`.
//! - `@openid4vc/openid4vci` 0.4.6 (`oid4vci_auth_code.mjs`): PAR, PKCE
//!   S256, DPoP on PAR, token and credential requests, answering
//!   `use_dpop_nonce`.
//!
//! Node.js and npm are required (the packages install from the lockfile).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::{Value, json};
use tongban_e2e::attested::import_attestation;
use tongban_e2e::cli::{self, json_of};
use tongban_e2e::issuer::{IssuerProcess, StartOptions, free_port, http};
use tongban_e2e::peers::{ensure_js, js_dir};
use tongban_test_support::attestation::{TEST_CLIENT_ID, WalletProvider};
use tongban_test_support::sample::catalogue_claims;
use tongban_verifier::*;

const PASS: &str = "correct horse battery staple";
const SUBJECT: &str = "330102199001011234";
const CLIENT_ID: &str = "tongban-demo";
const CLIENT_SECRET: &str = "provider-secret-for-tests";

/// The OpenID provider process, killed (by its handle) on drop.
struct Provider {
    child: Child,
    /// Its issuer URL.
    _url: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    fn start(port: u16, redirect_uri: &str) -> Provider {
        ensure_js();
        let mut child = Command::new("node")
            .args([
                "oidc_provider.mjs",
                &port.to_string(),
                CLIENT_ID,
                CLIENT_SECRET,
                redirect_uri,
                SUBJECT,
            ])
            .current_dir(js_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node is required (install Node.js 20)");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).unwrap();
        // Keep reading: a provider writing to a closed pipe would die.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the OpenID provider did not start ({e}): {line:?}"));
        assert_eq!(ready["ready"], true);
        Provider {
            child,
            _url: ready["issuer"].as_str().unwrap().to_owned(),
        }
    }
}

/// An issuer whose `demo` agency logs citizens in at a provider on
/// `provider_port`, and that provider; `more` is added to the issuer's
/// configuration file.
fn issuer_with_login(tmp: &Path, more: &str) -> (IssuerProcess, Provider) {
    let provider_port = free_port();
    let config = tmp.join("issuer.toml");
    std::fs::write(
        &config,
        format!(
            "[login.demo]\nissuer = \"http://127.0.0.1:{provider_port}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n{more}"
        ),
    )
    .unwrap();
    let issuer = IssuerProcess::start_with(&StartOptions {
        env: vec![(
            "TONGBAN_ISSUER_CONFIG".into(),
            config.to_str().unwrap().to_owned(),
        )],
        ..StartOptions::default()
    });
    let provider = Provider::start(
        provider_port,
        &format!("{}/agencies/demo/login/callback", issuer.public_url),
    );
    (issuer, provider)
}

/// A `--browser` program: the headless browser, its output in `log`.
fn browser_program(tmp: &Path) -> PathBuf {
    let script = tmp.join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec node {} \"$1\" >> {} 2>&1\n",
            js_dir().join("browser.mjs").display(),
            tmp.join("browser.log").display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

fn wallet(dir: &Path, args: &[&str]) -> Output {
    cli::wallet(dir, PASS, args)
}

/// `s` percent-encoded as a form value (`:` and `/` escaped).
fn url_component(s: &str) -> String {
    tongban_test_support::percent::encode_component(s)
}

fn code_offer(issuer: &IssuerProcess, serial: u32) -> String {
    let r = issuer.admin_issue(&json!({
        "vct": "urn:tongban:business-licence:1",
        "claims": catalogue_claims("business-licence", serial),
        "offer": {"grant": "authorization_code", "subject": SUBJECT},
    }));
    assert!(
        r["credential_offer"]["grants"]["authorization_code"]["issuer_state"].is_string(),
        "{r}"
    );
    r["offer_link"].as_str().unwrap().to_owned()
}

#[test]
fn our_wallet_receives_with_the_authorization_code_flow() {
    let tmp = tempfile::tempdir().unwrap();
    // The agency requires wallet and key attestations (HAIP 1.0 §4.4.1,
    // §4.5.1): the wallet authenticates at PAR and token, and attests the
    // key of every copy of its batch.
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let provider_ca = WalletProvider::new("Acme", now).unwrap();
    let root = tmp.path().join("acme-root.pem");
    std::fs::write(&root, &provider_ca.root_pem).unwrap();
    let (issuer, provider) = issuer_with_login(
        tmp.path(),
        &format!(
            "\n[attestation.demo]\nwallet_attestation = \"required\"\nkey_attestation = \"required\"\n\
             trusted_wallet_providers = [{:?}]\n",
            root.to_str().unwrap()
        ),
    );
    let (_, meta) = {
        let r = http(
            "GET",
            &issuer.url("/.well-known/oauth-authorization-server/agencies/demo"),
            None,
            None,
        );
        (r.status, r.json())
    };
    assert_eq!(meta["require_pushed_authorization_requests"], true);
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        json!(["attest_jwt_client_auth"])
    );
    let browser = browser_program(tmp.path());
    let browser = browser.to_str().unwrap();
    let w = tmp.path().join("wallet");
    assert!(wallet(&w, &["--json", "init"]).status.success());
    import_attestation(&w, PASS, tmp.path(), &provider_ca, now);

    // Issuer-initiated: the offer's issuer_state, the citizen it names.
    let offer = code_offer(&issuer, 501);
    let out = wallet(
        &w,
        &[
            "--json",
            "receive",
            &offer,
            "--browser",
            browser,
            "--login-timeout",
            "60",
        ],
    );
    let got = json_of(&out);
    assert!(
        out.status.success(),
        "{got}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(got["vct"], "urn:tongban:business-licence:1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}/authorize?client_id={}&request_uri=",
            issuer.iss(),
            // The attestation's sub is the wallet's client_id.
            url_component(TEST_CLIENT_ID)
        )),
        "the URL is printed: {stderr}"
    );

    // Wallet-initiated: the agency's record of the citizen.
    let r = http(
        "POST",
        &issuer.url("/admin/v1/records"),
        Some(&issuer.token),
        Some(
            &json!({"subject": SUBJECT, "vct": "urn:tongban:business-licence:1",
                     "claims": catalogue_claims("business-licence", 502)}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let iss = issuer.iss();
    let args = [
        "--json",
        "receive",
        "--issuer",
        &iss,
        "--type",
        "business-licence",
        "--browser",
        browser,
        "--login-timeout",
        "60",
    ];
    let out = wallet(&w, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The record is spent with its issuance: the next request is denied.
    let out = wallet(&w, &args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_of(&out)["error"]["code"], "authorization_denied");

    // Both credentials are in the wallet, each a batch of copies whose
    // rows record the storage level the key attestations stated.
    let list = json_of(&wallet(&w, &["--json", "list"]));
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    let rows = http(
        "GET",
        &issuer.url("/admin/v1/credentials"),
        Some(&issuer.token),
        None,
    )
    .json();
    let rows = rows["credentials"].as_array().unwrap();
    assert!(rows.len() > 2, "batches were received: {rows:?}");
    for row in rows {
        assert_eq!(
            row["key_storage"]["key_storage"],
            json!(["iso_18045_high"]),
            "{row}"
        );
    }
    drop(provider);
}

#[test]
fn the_npm_client_runs_the_authorization_code_flow_with_par_pkce_and_dpop() {
    let tmp = tempfile::tempdir().unwrap();
    let (issuer, provider) = issuer_with_login(tmp.path(), "");
    let offer = code_offer(&issuer, 503);
    let out_file = tmp.path().join("npm.json");
    let out = Command::new("node")
        .args(["oid4vci_auth_code.mjs", &offer, out_file.to_str().unwrap()])
        .current_dir(js_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "node oid4vci_auth_code.mjs: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(got["token_type"], "DPoP");
    assert_eq!(got["pkce_method"], "S256");
    assert_eq!(got["iss_in_response"], issuer.iss(), "RFC 9207");
    assert!(
        got["request_uri"]
            .as_str()
            .unwrap()
            .starts_with("urn:ietf:params:oauth:request_uri:")
    );
    let proofs = got["dpop_proofs"].as_array().unwrap();
    for endpoint in ["/par", "/token", "/credential"] {
        assert!(
            proofs
                .iter()
                .any(|p| p["htu"].as_str().unwrap().ends_with(endpoint) && p["nonce"] == true),
            "a DPoP proof with the server's nonce at {endpoint}: {proofs:?}"
        );
    }
    assert!(
        proofs.iter().any(|p| p["ath"] == true),
        "the credential request's proof covers the token"
    );
    // The credential verifies against the agency's keys, bound to the npm holder key.
    let jwks = http("GET", &issuer.url("/agencies/demo/jwks.json"), None, None).json();
    let mut keys = InMemoryKeys::new();
    for k in KeyWithId::from_jwk_or_set(&jwks).unwrap() {
        keys.add_issuer_key(issuer.iss(), k);
    }
    let credential = got["credential"].as_str().unwrap();
    let report = verify(
        credential,
        &Policy::without_holder_binding(tongban_cli_support::time::now()),
        &keys,
    );
    assert!(report.is_accepted(), "{:?}", report.rejection);
    let payload = HeldCredential::parse(credential).unwrap().payload().clone();
    assert_eq!(payload["cnf"]["jwk"]["x"], got["holder_public_jwk"]["x"]);
    drop(provider);
}
