//! ES256 and batch issuance across real processes: an agency made with
//! `tongban-issuer agency create --key-alg es256` issues to a wallet with
//! an ES256 holder key (`tongban-wallet init --key-alg es256`), which asks
//! for three copies (`receive --batch 3`); each presentation uses a copy
//! never presented (its own key, its own salts), `tongban-verify` accepts
//! every one with the agency's published keys, and a fourth presentation
//! reuses a copy with a warning. One issuer process, one wallet.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use tongban_e2e::cargo_bin;
use tongban_e2e::cli;
use tongban_e2e::issuer::{AgencySetup, IssuerProcess, http};
use tongban_test_support::sample::catalogue_claims;
use tongban_verifier::HeldCredential;

const PASS: &str = "correct horse battery staple";
const AUD: &str = "https://counter.qingpu.example";

fn wallet(dir: &Path, args: &[&str]) -> Output {
    cli::wallet(dir, PASS, args)
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn an_es256_agency_issues_a_batch_to_an_es256_wallet_and_each_copy_verifies_once() {
    let issuer = IssuerProcess::start_agency(
        &AgencySetup {
            id: "qingpu-amr".into(),
            name_zh: "上海市青浦区市场监督管理局".into(),
            name_en: "Qingpu AMR".into(),
            region: "310118".into(),
            vcts: vec!["urn:tongban:business-licence:1".into()],
            key_alg: Some("es256".into()),
        },
        &[],
    );
    let (_, meta) = {
        let r = http(
            "GET",
            &issuer.url("/.well-known/openid-credential-issuer/agencies/qingpu-amr"),
            None,
            None,
        );
        (r.status, serde_json::from_slice::<Value>(&r.body).unwrap())
    };
    let config = &meta["credential_configurations_supported"]["business-licence"];
    assert_eq!(
        config["credential_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(meta["batch_credential_issuance"]["batch_size"], 5);
    let jwks = http(
        "GET",
        &issuer.url("/agencies/qingpu-amr/jwks.json"),
        None,
        None,
    );
    let tmp = tempfile::tempdir().unwrap();
    let jwks_file = tmp.path().join("jwks.json");
    std::fs::write(&jwks_file, &jwks.body).unwrap();

    let w = tmp.path().join("wallet");
    let init = ok_json(&wallet(&w, &["--json", "init", "--key-alg", "es256"]));
    assert_eq!(init["holder_jwk"]["crv"], "P-256");
    let o = issuer.admin_issue(&json!({
        "vct": "urn:tongban:business-licence:1",
        "claims": catalogue_claims("business-licence", 501),
        "offer": {"tx_code": false},
    }));
    let got = ok_json(&wallet(
        &w,
        &[
            "--json",
            "receive",
            o["offer_link"].as_str().unwrap(),
            "--batch",
            "3",
        ],
    ));
    assert_eq!(got["copies"], 3);

    let mut keys = Vec::new();
    for n in 1..=4 {
        let nonce = format!("qp-{n}");
        let out = wallet(
            &w,
            &[
                "--json",
                "present",
                "c1",
                "--disclose",
                "company_name",
                "--aud",
                AUD,
                "--nonce",
                &nonce,
                "--yes",
            ],
        );
        let warned = String::from_utf8_lossy(&out.stderr).contains("were presented before");
        let answer = ok_json(&out);
        assert_eq!(warned, n == 4, "a warning only once every copy was used");
        let presentation = answer["presentation"].as_str().unwrap();
        let issuer_jwt = presentation.split('~').next().unwrap();
        let held = HeldCredential::parse(&format!("{issuer_jwt}~")).unwrap();
        keys.push(held.payload()["cnf"]["jwk"].clone());
        let file = tmp.path().join(format!("p{n}.txt"));
        std::fs::write(&file, answer["transport"].as_str().unwrap()).unwrap();
        let out = Command::new(cargo_bin("tongban-verify"))
            .args(["verify", "--issuer-key"])
            .arg(&jwks_file)
            .args(["--aud", AUD, "--nonce", &nonce, "--json"])
            .arg(&file)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["verdict"], "accepted", "{report}");
        assert_eq!(report["credential"]["alg"], "ES256", "{report}");
    }
    // Three distinct copies, none bound to the wallet's own key; the
    // fourth presentation reused the first.
    assert!(
        keys[..3]
            .iter()
            .all(|k| k["crv"] == "P-256" && *k != init["holder_jwk"])
    );
    assert!(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
    assert_eq!(keys[3], keys[0]);
    let list = ok_json(&wallet(&w, &["--json", "list"]));
    assert_eq!(list[0]["copies"], json!({"total": 3, "unused": 0}));
}
