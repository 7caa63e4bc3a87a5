//! The operator's commands, run as the real binary in a temporary data
//! directory: the session a new operator follows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use serde_json::Value;

fn run(dir: &std::path::Path, args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("tongban-verifier-service")
        .unwrap()
        .env_remove("TONGBAN_MASTER_KEY")
        .env_remove("TONGBAN_VERIFIER_SERVICE_CONFIG")
        .args(args)
        .args(["--data-dir", dir.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("one JSON document: {text}"));
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn an_operator_makes_the_ca_a_tenant_and_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let (code, ca) = run(&d, &["ca", "init", "--name", "YRD receiving agencies CA"]);
    assert_eq!(code, 0, "{ca}");
    let pem = ca["certificate_pem"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let (code, again) = run(&d, &["ca", "init"]);
    assert_eq!(
        (code, again["error"]["code"].as_str()),
        (2, Some("conflict"))
    );
    let (code, t) = run(
        &d,
        &[
            "tenant",
            "add",
            "--id",
            "qingpu",
            "--name-zh",
            "青浦区行政服务中心",
            "--name-en",
            "Qingpu",
            "--region",
            "310118",
            "--dns",
            "verifier.qingpu.example",
        ],
    );
    assert_eq!(code, 0, "{t}");
    assert!(t["client_id"].as_str().unwrap().starts_with("x509_hash:"));
    let (code, bad) = run(
        &d,
        &[
            "tenant",
            "add",
            "--id",
            "x",
            "--name-zh",
            "x",
            "--name-en",
            "x",
            "--region",
            "31",
            "--dns",
            "x.example",
        ],
    );
    assert_eq!(
        (code, bad["error"]["code"].as_str()),
        (2, Some("invalid_request"))
    );
    let (code, tok) = run(
        &d,
        &["token", "create", "--tenant", "qingpu", "--label", "desk 1"],
    );
    assert_eq!(code, 0, "{tok}");
    let secret = tok["token"].as_str().unwrap();
    assert!(secret.starts_with("tbvs_"));
    let (_, list) = run(&d, &["token", "list"]);
    assert!(
        !list.to_string().contains(secret),
        "secrets are never listed"
    );
    let (code, exported) = run(&d, &["ca", "export"]);
    assert_eq!((code, exported["certificate_pem"].as_str()), (0, Some(pem)));
    let (code, audit) = run(&d, &["audit", "verify"]);
    assert_eq!(code, 0, "{audit}");
    assert_eq!(
        audit["chains"].as_array().unwrap().len(),
        2,
        "the service chain and qingpu's"
    );
}

#[test]
fn help_teaches_the_first_steps() {
    let out = Command::cargo_bin("tongban-verifier-service")
        .unwrap()
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for step in [
        "serve",
        "tenant add",
        "token create --tenant",
        "ca export",
        "trust_list_url",
    ] {
        assert!(text.contains(step), "--help mentions {step}: {text}");
    }
}
