//! `present --json` writes exactly one JSON document to standard output,
//! whatever `--qr` says, and `--nonce` takes values that start with `-`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use tongban_verifier::{CredentialBuilder, Ed25519Signer, PublicKey, Signer as _};

const PASS: &str = "correct horse battery";
const AUD: &str = "https://counter.qingpu.example";

fn wallet(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tongban-wallet"))
        .arg("--wallet")
        .arg(dir)
        .args(args)
        .env("TONGBAN_WALLET_PASSPHRASE", PASS)
        .env("TONGBAN_WALLET_TEST_KDF_LOG_N", "10")
        .output()
        .unwrap()
}

/// The whole of standard output as one JSON document (fails on anything
/// before or after it).
fn only_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A wallet holding one credential (`c1`) with a `company_name`.
fn wallet_with_credential(tmp: &Path) -> std::path::PathBuf {
    let w = tmp.join("wallet");
    let init = only_json(&wallet(&w, &["--json", "init"]));
    let holder = PublicKey::from_jwk(&init["holder_jwk"]).unwrap();
    let issuer = Ed25519Signer::from_seed(&[0x11; 32], None);
    let now = tongban_cli_support::time::now();
    let issued = CredentialBuilder::new("https://i.example", "urn:example:licence", now - 60)
        .holder_key(holder)
        .claim("company_name", json!("通办示范有限公司"))
        .issue(&issuer, &mut rand::rngs::OsRng)
        .unwrap();
    let cred = tmp.join("licence.sdjwt");
    std::fs::write(&cred, issued.sd_jwt).unwrap();
    let key = tmp.join("issuer.jwk.json");
    std::fs::write(&key, issuer.public_key().to_jwk().to_string()).unwrap();
    only_json(&wallet(
        &w,
        &[
            "--json",
            "receive",
            "--file",
            cred.to_str().unwrap(),
            "--issuer-key",
            key.to_str().unwrap(),
        ],
    ));
    w
}

#[test]
fn present_json_prints_one_document_and_takes_a_hyphen_led_nonce() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_credential(tmp.path());
    let present = |extra: &[&str]| {
        let mut args = vec![
            "--json",
            "present",
            "c1",
            "--disclose",
            "company_name",
            "--aud",
            AUD,
            "--yes",
        ];
        args.extend_from_slice(extra);
        wallet(&w, &args)
    };

    // The default --qr text: no QR text before the JSON.
    let v = only_json(&present(&["--nonce", "-x9abc"]));
    assert_eq!(v["nonce"], "-x9abc", "a nonce may start with '-'");
    assert_eq!(v["nonce_generated_by_wallet"], false);
    assert!(v["transport"].as_str().unwrap().starts_with("TB1:"));
    assert!(v.get("qr_file").is_none());

    // The other text forms print nothing else either.
    for form in ["plain", "terminal"] {
        let v = only_json(&present(&["--nonce", "n-1", "--qr", form]));
        assert_eq!(v["nonce"], "n-1", "{form}");
    }

    // An image is still written, and its path is in the JSON.
    for (form, ext) in [("png", "png"), ("svg", "svg")] {
        let file = tmp.path().join(format!("present.{ext}"));
        let v = only_json(&present(&[
            "--nonce",
            "n-2",
            "--qr",
            &format!("{form}:{}", file.display()),
        ]));
        assert_eq!(v["qr_file"], file.to_str().unwrap(), "{form}");
        assert_eq!(v["qr_codes"], 1, "{form}");
        assert!(std::fs::metadata(&file).unwrap().len() > 0, "{form}");
    }
}
