//! The `tongban-verify` binary driven as a clerk or a script would, on the
//! sample in `specs/vectors/sample/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/vectors/sample")
        .join(name)
}

fn tongban_verify(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tongban-verify"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn tongban-verify");
    if let Some(input) = stdin {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("wait")
}

const AT: &str = "2026-11-25T10:01:00+08:00";

fn counter_args<'a>(key: &'a str, nonce: &'a str) -> Vec<&'a str> {
    vec![
        "verify",
        "--issuer-key",
        key,
        "--aud",
        "https://counter.qingpu.example",
        "--nonce",
        nonce,
        "--at",
        AT,
    ]
}

#[test]
fn accepts_the_sample_and_shows_the_disclosed_fields() {
    let key = sample("issuer.jwk.json");
    let pres = sample("presentation.txt");
    let mut args = counter_args(key.to_str().unwrap(), "qp-20261125-0001");
    args.push(pres.to_str().unwrap());
    let out = tongban_verify(&args, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("核验通过 ACCEPTED"));
    assert!(stdout.contains("苏州吴江通办示范科技有限公司"));
    assert!(stdout.contains("https://amr.wujiang.example"));
    // Undisclosed fields never appear.
    assert!(!stdout.contains("business_scope"));
}

#[test]
fn json_report_from_stdin() {
    let key = sample("issuer.jwk.json");
    let pres = std::fs::read(sample("presentation.txt")).unwrap();
    let mut args = counter_args(key.to_str().unwrap(), "qp-20261125-0001");
    args.extend(["--json", "-"]);
    let out = tongban_verify(&args, Some(&pres));
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["verdict"], "accepted");
    assert_eq!(report["claims"]["legal_representative"], "李明");
    assert_eq!(report["checks"].as_array().unwrap().len(), 11);
    assert_eq!(report["disclosed"].as_array().unwrap().len(), 6);
}

#[test]
fn rejects_a_replayed_presentation_with_exit_1_and_a_reason() {
    let key = sample("issuer.jwk.json");
    let pres = sample("presentation.txt");
    let mut args = counter_args(key.to_str().unwrap(), "another-request");
    args.extend(["--json", pres.to_str().unwrap()]);
    let out = tongban_verify(&args, None);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "rejected");
    assert_eq!(report["rejection"]["code"], "kb_nonce_mismatch");
    assert_eq!(report["rejection"]["check"], "nonce_audience");
    assert!(
        report["rejection"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("nonce")
    );
    assert!(report["claims"].is_null());
}

#[test]
fn rejects_when_checked_too_late_for_the_holder_signature() {
    let key = sample("issuer.jwk.json");
    let pres = sample("presentation.txt");
    let out = tongban_verify(
        &[
            "verify",
            "--issuer-key",
            key.to_str().unwrap(),
            "--aud",
            "https://counter.qingpu.example",
            "--nonce",
            "qp-20261125-0001",
            "--at",
            "2026-11-25T11:00:00+08:00",
            "--lang",
            "en",
            pres.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("REJECTED") && stdout.contains("kb_iat_invalid"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("核验"),
        "--lang en prints no Chinese labels"
    );
}

#[test]
fn credential_file_without_holder_binding() {
    let key = sample("issuer.jwk.json");
    let cred = sample("credential.txt");
    let out = tongban_verify(
        &[
            "verify",
            "--no-holder-binding",
            "--issuer-key",
            key.to_str().unwrap(),
            "--at",
            AT,
            cred.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn usage_errors_exit_2() {
    let key = sample("issuer.jwk.json");
    // No --aud/--nonce and no --no-holder-binding.
    let out = tongban_verify(
        &["verify", "--issuer-key", key.to_str().unwrap(), "x"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    // Unreadable input file, with a stable code.
    let mut args = counter_args(key.to_str().unwrap(), "n");
    args.push("/nonexistent/presentation.txt");
    let out = tongban_verify(&args, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[input_unreadable]"));
    // A key file that is not a public key.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jwk.json");
    std::fs::write(&bad, r#"{"kty":"oct","k":"c2VjcmV0"}"#).unwrap();
    let pres = sample("presentation.txt");
    let mut args = counter_args(bad.to_str().unwrap(), "n");
    args.extend(["--json", pres.to_str().unwrap()]);
    let out = tongban_verify(&args, None);
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "key_file_invalid");
    // A bad --at.
    let mut args = vec![
        "verify",
        "--issuer-key",
        key.to_str().unwrap(),
        "--no-holder-binding",
        "--at",
        "tomorrow",
    ];
    let cred = sample("credential.txt");
    args.push(cred.to_str().unwrap());
    let out = tongban_verify(&args, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[usage]"));
    // Empty standard input.
    let mut args = counter_args(key.to_str().unwrap(), "n");
    args.push("-");
    let out = tongban_verify(&args, Some(b"  \n"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn garbage_input_is_a_rejection_not_a_crash() {
    let key = sample("issuer.jwk.json");
    let mut args = counter_args(key.to_str().unwrap(), "n");
    args.push("-");
    for junk in [&b"\xff\xfe\x00"[..], b"hello", b"a.b.c~", &[b'~'; 5000]] {
        let out = tongban_verify(&args, Some(junk));
        assert_eq!(
            out.status.code(),
            Some(1),
            "{:?}",
            String::from_utf8_lossy(junk)
        );
    }
}

#[test]
fn codes_lists_every_rejection_code() {
    let out = tongban_verify(&["codes", "--json"], None);
    assert_eq!(out.status.code(), Some(0));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        tongban_verifier::ErrorCode::ALL.len()
    );
}

#[test]
fn help_teaches() {
    let out = tongban_verify(&["verify", "--help"], None);
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--issuer-key",
        "--aud",
        "--nonce",
        "--at",
        "--json",
        "Exit status",
        "Example",
    ] {
        assert!(help.contains(needle), "help lacks {needle}");
    }
}

#[test]
fn a_nonce_starting_with_a_hyphen_is_a_value_not_an_option() {
    // One request nonce in 64 used to start with `-`; as the value of
    // --nonce it is the nonce to expect, checked like any other.
    let key = sample("issuer.jwk.json");
    let pres = sample("presentation.txt");
    let mut args = counter_args(key.to_str().unwrap(), "-x8f3aQm3p0bWk3Y2cA");
    args.extend(["--json", pres.to_str().unwrap()]);
    let out = tongban_verify(&args, None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rejection"]["code"], "kb_nonce_mismatch");
}

#[test]
fn issuer_key_accepts_the_issuers_own_metadata_document() {
    // What GET /.well-known/jwt-vc-issuer/agencies/<id> serves
    // (specs/issuer-api.md): the issuer id and its JWKS inline.
    let jwk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample("issuer.jwk.json")).unwrap()).unwrap();
    let doc = serde_json::json!({
        "issuer": "https://amr.wujiang.example",
        "jwks": {"keys": [jwk]},
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwt-vc-issuer.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let pres = sample("presentation.txt");
    let mut args = counter_args(file.to_str().unwrap(), "qp-20261125-0001");
    args.push(pres.to_str().unwrap());
    let out = tongban_verify(&args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A metadata document that only points at its keys cannot be pinned.
    std::fs::write(
        &file,
        r#"{"issuer":"https://amr.wujiang.example","jwks_uri":"https://amr.wujiang.example/jwks.json"}"#,
    )
    .unwrap();
    let out = tongban_verify(&args, None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("key_file_invalid"), "{stderr}");
    assert!(stderr.contains("jwks_uri"), "{stderr}");
}
