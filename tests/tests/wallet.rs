//! The citizen's wallet with the real binaries: create it, receive a
//! credential bound to its key, present two fields as a QR image, and have
//! the counter verify that image offline; wrong passphrases, foreign
//! credentials, declined consent, backup and restore.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use tongban_e2e::cargo_bin;
use tongban_e2e::cli;
use tongban_test_support::sample::catalogue_samples;
use tongban_verifier::*;

const PASS: &str = "correct horse battery staple";
const AUD: &str = "https://counter.qingpu.example";

fn wallet(dir: &Path, pass: &str, args: &[&str]) -> Output {
    cli::wallet(dir, pass, args)
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // `--json` prints exactly one document on standard output.
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// `receive --file CRED --issuer-key KEY --json`: the import path.
fn receive_file(w: &Path, pass: &str, cred: &Path, key: &Path) -> Output {
    wallet(
        w,
        pass,
        &[
            "--json",
            "receive",
            "--file",
            cred.to_str().unwrap(),
            "--issuer-key",
            key.to_str().unwrap(),
        ],
    )
}

fn issue_to(holder: &Value, issuer: &Ed25519Signer, dir: &Path) -> std::path::PathBuf {
    let claims = catalogue_samples()["business-licence"]
        .as_object()
        .cloned()
        .unwrap();
    let now = tongban_cli_support::time::now();
    let issued = CredentialBuilder::new(
        "https://amr.wujiang.example",
        "urn:tongban:business-licence:1",
        now - 60,
    )
    .expires_at(now + 365 * 86_400)
    .holder_key(PublicKey::from_jwk(holder).unwrap())
    .claims(claims)
    .issue(issuer, &mut rand::rngs::OsRng)
    .unwrap();
    let file = dir.join("licence.sdjwt");
    std::fs::write(&file, issued.sd_jwt).unwrap();
    file
}

#[test]
fn receive_present_as_qr_and_verify_at_the_counter() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("wallet");
    let init = ok_json(&wallet(&w, PASS, &["--json", "init"]));
    let holder = init["holder_jwk"].clone();

    let issuer = Ed25519Signer::from_seed(&[0x11; 32], Some("wujiang-amr-2026".into()));
    let mut jwk = issuer.public_key().to_jwk();
    jwk["kid"] = json!("wujiang-amr-2026");
    let key_file = tmp.path().join("issuer.jwk.json");
    std::fs::write(&key_file, jwk.to_string()).unwrap();
    let cred = issue_to(&holder, &issuer, tmp.path());

    let got = ok_json(&receive_file(&w, PASS, &cred, &key_file));
    assert_eq!(got["id"], "c1");
    let list = ok_json(&wallet(&w, PASS, &["--json", "list"]));
    assert_eq!(list[0]["type"], "营业执照 Business licence");
    let shown = ok_json(&wallet(&w, PASS, &["--json", "show", "c1"]));
    assert_eq!(shown["claims"]["legal_representative"], "李明");

    let png = tmp.path().join("present.png");
    let out = wallet(
        &w,
        PASS,
        &[
            "present",
            "c1",
            "--disclose",
            "company_name,legal_representative",
            "--aud",
            AUD,
            "--nonce",
            "qp-77",
            "--qr",
            &format!("png:{}", png.display()),
            "--yes",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(cargo_bin("tongban-verify"))
        .args([
            "verify",
            "--issuer-key",
            key_file.to_str().unwrap(),
            "--aud",
            AUD,
            "--nonce",
            "qp-77",
            "--json",
            png.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "accepted", "{report}");
    let mut disclosed: Vec<&str> = report["disclosed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    disclosed.sort_unstable();
    assert_eq!(disclosed, ["company_name", "legal_representative"]);

    // On the screen (Unicode blocks) and as SVG.
    let out = wallet(
        &w,
        PASS,
        &[
            "present",
            "c1",
            "--disclose",
            "company_name",
            "--aud",
            AUD,
            "--nonce",
            "n-2",
            "--qr",
            "terminal",
            "--yes",
        ],
    );
    assert!(out.status.success());
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains('█') || screen.contains('▀') || screen.contains('▄'),
        "{screen}"
    );
    let svg = tmp.path().join("present.svg");
    let out = wallet(
        &w,
        PASS,
        &[
            "present",
            "c1",
            "--disclose",
            "company_name",
            "--aud",
            AUD,
            "--nonce",
            "n-3",
            "--qr",
            &format!("svg:{}", svg.display()),
            "--yes",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        svg_text.starts_with("<?xml") && svg_text.contains("<svg") && svg_text.contains("<path"),
        "{svg_text:.200}"
    );

    // Without a request the wallet picks the nonce and says so.
    let v = ok_json(&wallet(
        &w,
        PASS,
        &[
            "--json",
            "present",
            "c1",
            "--disclose",
            "company_name",
            "--aud",
            AUD,
            "--yes",
        ],
    ));
    assert_eq!(v["nonce_generated_by_wallet"], true);
    assert!(v["transport"].as_str().unwrap().starts_with("TB1:"));

    // Without --yes and without a terminal there is no consent.
    let out = wallet(
        &w,
        PASS,
        &["present", "c1", "--disclose", "company_name", "--aud", AUD],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_wallet_refuses_what_it_should() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("wallet");
    ok_json(&wallet(&w, PASS, &["--json", "init"]));
    // A second init never overwrites.
    assert_eq!(wallet(&w, PASS, &["init"]).status.code(), Some(2));
    // Wrong passphrase: a clear code, and the file untouched.
    let before = std::fs::read(w.join("wallet.age")).unwrap();
    let out = wallet(&w, "wrong", &["--json", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrong_passphrase"));
    assert_eq!(std::fs::read(w.join("wallet.age")).unwrap(), before);

    // A credential bound to someone else's key is refused.
    let issuer = Ed25519Signer::from_seed(&[0x11; 32], None);
    let key_file = tmp.path().join("issuer.jwk.json");
    std::fs::write(&key_file, issuer.public_key().to_jwk().to_string()).unwrap();
    let stranger = Ed25519Signer::from_seed(&[0x99; 32], None)
        .public_key()
        .to_jwk();
    let cred = issue_to(&stranger, &issuer, tmp.path());
    let out = receive_file(&w, PASS, &cred, &key_file);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("credential_refused"));
    // So is one that does not verify with the given key.
    let other_key = tmp.path().join("other.jwk.json");
    std::fs::write(
        &other_key,
        Ed25519Signer::from_seed(&[0x12; 32], None)
            .public_key()
            .to_jwk()
            .to_string(),
    )
    .unwrap();
    let out = wallet(
        &w,
        PASS,
        &[
            "receive",
            "--file",
            cred.to_str().unwrap(),
            "--issuer-key",
            other_key.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));

    // Backup and restore into a new directory with the same passphrase.
    let backup = tmp.path().join("backup.age");
    assert!(
        wallet(&w, PASS, &["export", backup.to_str().unwrap()])
            .status
            .success()
    );
    let w2 = tmp.path().join("restored");
    assert!(
        wallet(&w2, PASS, &["import", backup.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(ok_json(&wallet(&w2, PASS, &["--json", "list"])), json!([]));
    assert_eq!(
        wallet(&w2, "wrong", &["import", backup.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    // Deleting an unknown credential is a clear error.
    let out = wallet(&w, PASS, &["--json", "delete", "c9", "--yes"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("credential_not_found"));
}

#[test]
fn a_counter_request_answered_from_its_qr_code() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("wallet");
    let holder = ok_json(&wallet(&w, PASS, &["--json", "init"]))["holder_jwk"].clone();
    let issuer = Ed25519Signer::from_seed(&[0x11; 32], None);
    let key_file = tmp.path().join("issuer.jwk.json");
    std::fs::write(&key_file, issuer.public_key().to_jwk().to_string()).unwrap();
    let cred = issue_to(&holder, &issuer, tmp.path());
    ok_json(&receive_file(&w, PASS, &cred, &key_file));

    // The counter makes a request and shows it as a QR image.
    let req_file = tmp.path().join("request.txt");
    let req_png = tmp.path().join("request.png");
    let verify_bin = cargo_bin("tongban-verify");
    let out = Command::new(&verify_bin)
        .args([
            "request",
            "--aud",
            AUD,
            "--vct",
            "urn:tongban:business-licence:1",
            "--claims",
            "company_name,registered_capital",
        ])
        .arg("--out")
        .arg(&req_file)
        .arg("--qr")
        .arg(format!("png:{}", req_png.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Asking for a claim the type does not have is a usage error.
    let out = Command::new(&verify_bin)
        .args([
            "request",
            "--aud",
            AUD,
            "--vct",
            "urn:tongban:business-licence:1",
            "--claims",
            "blood_type",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // The citizen's wallet scans the request image and answers it.
    let answer = tmp.path().join("answer.png");
    let out = wallet(
        &w,
        PASS,
        &[
            "present",
            "c1",
            "--request",
            req_png.to_str().unwrap(),
            "--qr",
            &format!("png:{}", answer.display()),
            "--yes",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The counter verifies the answer against its request.
    let out = Command::new(&verify_bin)
        .args([
            "verify",
            "--issuer-key",
            key_file.to_str().unwrap(),
            "--request",
            req_file.to_str().unwrap(),
            "--json",
            answer.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "accepted", "{report}");
    assert_eq!(report["claims"]["registered_capital"], "500万元人民币");

    // Another counter's request does not validate this answer.
    let other = tmp.path().join("other.txt");
    assert!(
        Command::new(&verify_bin)
            .args(["request", "--aud", AUD, "--claims", "company_name"])
            .arg("--out")
            .arg(&other)
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = Command::new(&verify_bin)
        .args([
            "verify",
            "--issuer-key",
            key_file.to_str().unwrap(),
            "--request",
            other.to_str().unwrap(),
            "--json",
            answer.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rejection"]["code"], "kb_nonce_mismatch");

    // A request for another licence type is refused by the wallet.
    let dl = tmp.path().join("dl.txt");
    assert!(
        Command::new(&verify_bin)
            .args([
                "request",
                "--aud",
                AUD,
                "--vct",
                "urn:tongban:driving-licence:1",
                "--claims",
                "name"
            ])
            .arg("--out")
            .arg(&dl)
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = wallet(
        &w,
        PASS,
        &["present", "c1", "--request", dl.to_str().unwrap(), "--yes"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn status_is_checked_online_and_recorded() {
    use std::sync::{Arc, Mutex};
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("wallet");
    let holder = ok_json(&wallet(&w, PASS, &["--json", "init"]))["holder_jwk"].clone();
    let issuer = Ed25519Signer::from_seed(&[0x11; 32], Some("wj-1".into()));
    let key_file = tmp.path().join("issuer.jwk.json");
    std::fs::write(&key_file, issuer.public_key().to_jwk().to_string()).unwrap();

    let served = Arc::new(Mutex::new(Vec::new()));
    let base = tongban_e2e::serve_http(served.clone()).unwrap();
    let uri = format!("{base}/status/1");
    let publish = |value: u8| {
        let mut list = StatusList::new(status::Bits::new(2).unwrap(), 64);
        list.set(5, value);
        let jwt = StatusListToken::sign(
            &issuer,
            "https://amr.wujiang.example",
            &uri,
            tongban_cli_support::time::now(),
            None,
            Some(600),
            &list,
        )
        .unwrap();
        *served.lock().unwrap() = vec![("/status/1".to_string(), jwt)];
    };
    let now = tongban_cli_support::time::now();
    let claims = catalogue_samples()["business-licence"]
        .as_object()
        .cloned()
        .unwrap();
    let issued = CredentialBuilder::new(
        "https://amr.wujiang.example",
        "urn:tongban:business-licence:1",
        now - 60,
    )
    .holder_key(PublicKey::from_jwk(&holder).unwrap())
    .status(json!({"status_list": {"idx": 5, "uri": uri}}))
    .claims(claims)
    .issue(&issuer, &mut rand::rngs::OsRng)
    .unwrap();
    let cred = tmp.path().join("c.sdjwt");
    std::fs::write(&cred, issued.sd_jwt).unwrap();
    ok_json(&receive_file(&w, PASS, &cred, &key_file));

    publish(0);
    assert_eq!(
        ok_json(&wallet(
            &w,
            PASS,
            &[
                "--json",
                "status",
                "c1",
                "--issuer-key",
                key_file.to_str().unwrap()
            ]
        ))["status"],
        "valid"
    );
    publish(2);
    assert_eq!(
        ok_json(&wallet(
            &w,
            PASS,
            &[
                "--json",
                "status",
                "c1",
                "--issuer-key",
                key_file.to_str().unwrap()
            ]
        ))["status"],
        "suspended"
    );
    let list = ok_json(&wallet(&w, PASS, &["--json", "list"]));
    assert_eq!(list[0]["last_status"]["status"], "suspended");
    // A status list signed by someone else is refused.
    let other = tmp.path().join("other.jwk.json");
    std::fs::write(
        &other,
        Ed25519Signer::from_seed(&[0x44; 32], None)
            .public_key()
            .to_jwk()
            .to_string(),
    )
    .unwrap();
    let out = wallet(
        &w,
        PASS,
        &[
            "--json",
            "status",
            "c1",
            "--issuer-key",
            other.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

/// Drives the wallet's prompts on a pseudo-terminal (Python's `pty`), as a
/// citizen at a terminal would: the passphrase twice at init, once to open,
/// and the consent question before presenting.
fn on_terminal(dir: &Path, script: &[(&str, &str)], args: &[&str]) -> Output {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), serde_json::to_string(script).unwrap()).unwrap();
    let tool = tongban_test_support::workspace_root().join("tests/tools/pty_session.py");
    Command::new("python3")
        .arg(tool)
        .arg(tmp.path())
        .arg("--")
        .arg(cargo_bin("tongban-wallet"))
        .arg("--wallet")
        .arg(dir)
        .args(args)
        .env_remove("TONGBAN_WALLET_PASSPHRASE")
        .output()
        .unwrap()
}

#[test]
fn interactive_prompts_on_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("wallet");
    let pass = "terminal passphrase 1";
    // Two different passphrases are refused, and nothing is created.
    let out = on_terminal(
        &w,
        &[("Wallet passphrase", pass), ("Again", "something else")],
        &["init"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!w.join("wallet.age").exists());
    let out = on_terminal(
        &w,
        &[("Wallet passphrase", pass), ("Again", pass)],
        &["init"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("wallet created"));

    let holder = ok_json(&wallet(&w, pass, &["--json", "holder-key"]));
    let issuer = Ed25519Signer::from_seed(&[0x11; 32], None);
    let key_file = tmp.path().join("issuer.jwk.json");
    std::fs::write(&key_file, issuer.public_key().to_jwk().to_string()).unwrap();
    let cred = issue_to(&holder, &issuer, tmp.path());
    ok_json(&receive_file(&w, pass, &cred, &key_file));

    // Consent asked and given on the terminal.
    let out = on_terminal(
        &w,
        &[("Wallet passphrase", pass), ("Present these fields?", "y")],
        &[
            "present",
            "c1",
            "--disclose",
            "company_name",
            "--aud",
            AUD,
            "--nonce",
            "n-9",
        ],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("will disclose") && screen.contains("名称 Name") && screen.contains("TB1:"),
        "{screen}"
    );
    // Consent refused: nothing is presented.
    let out = on_terminal(
        &w,
        &[("Wallet passphrase", pass), ("Present these fields?", "n")],
        &[
            "present",
            "c1",
            "--disclose",
            "company_name",
            "--aud",
            AUD,
            "--nonce",
            "n-10",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("TB1:"));
}
