//! `tongban-wallet receive OFFER` against a running `tongban-issuer`: the
//! OpenID4VCI 1.0 pre-authorized code flow with and without a PIN
//! (`tx_code`), with an encrypted credential response (the default) and a
//! plain one, from the offer URI and from the issuer's QR image; wrong PINs
//! counted down to a locked offer; the PIN asked on a terminal again after a
//! wrong one; and credentials tampered with between issuer and wallet
//! refused, with the wallet file left byte for byte as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tongban_e2e::cargo_bin;
use tongban_e2e::cli;
use tongban_e2e::issuer::{IssuerProcess, Response, base64_standard_decode, http, http_request};
use tongban_test_support::percent::encode_component;
use tongban_test_support::sample::catalogue_samples;
use tongban_test_support::workspace_root;
use tongban_verifier::encoding::{b64_decode, b64_encode};
use tongban_verifier::*;

const PASS: &str = "correct horse battery staple";
const AUD: &str = "https://counter.qingpu.example";

// ------------------------------------------------------------ helpers

fn wallet_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = cli::command("tongban-wallet", PASS);
    cmd.arg("--wallet")
        .arg(dir)
        .args(args)
        .envs(env.iter().copied());
    cmd.output().unwrap()
}

fn wallet(dir: &Path, args: &[&str]) -> Output {
    wallet_env(dir, args, &[])
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok_json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", text(out));
    // `--json` prints exactly one document on standard output.
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", text(out)))
}

/// The `{"error": {...}}` of a failed `--json` run, and its exit status.
fn err_json(out: &Output) -> (i32, Value) {
    assert!(!out.status.success(), "{}", text(out));
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON error document ({e}): {}", text(out)));
    (out.status.code().unwrap_or(-1), v["error"].clone())
}

fn new_wallet(tmp: &Path) -> PathBuf {
    let w = tmp.join("wallet");
    ok_json(&wallet(&w, &["--json", "init"]));
    w
}

fn wallet_bytes(w: &Path) -> Vec<u8> {
    std::fs::read(w.join("wallet.age")).unwrap()
}

static SERIAL: AtomicU32 = AtomicU32::new(100);

/// The catalogue sample of `slug` with a fresh licence id (ids are unique
/// per agency).
fn claims(slug: &str) -> Value {
    let mut claims = catalogue_samples()[slug].as_object().cloned().unwrap();
    let id = claims["licence_id"].as_str().unwrap().to_owned();
    let (prefix, _) = id.rsplit_once('-').unwrap();
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    claims.insert("licence_id".into(), json!(format!("{prefix}-{serial:06}")));
    Value::Object(claims)
}

fn vct_of(slug: &str) -> String {
    catalogue::Catalogue::builtin()
        .unwrap()
        .by_slug(slug)
        .unwrap()
        .vct
        .clone()
}

/// An offer of a `slug` credential: (the admin API's answer, offer URI).
fn offer(issuer: &IssuerProcess, slug: &str, tx_code: bool) -> (Value, String) {
    let r = issuer.admin_issue(&json!({
        "vct": vct_of(slug),
        "claims": claims(slug),
        "offer": {"tx_code": tx_code},
    }));
    let uri = r["offer_link"].as_str().unwrap().to_owned();
    assert!(uri.starts_with("openid-credential-offer://?credential_offer="));
    assert_eq!(r["tx_code"].is_string(), tx_code, "{r}");
    (r, uri)
}

fn pin(offer: &Value) -> String {
    offer["tx_code"].as_str().unwrap().to_owned()
}

/// A PIN of the right form that is not the right one.
fn wrong_pin(offer: &Value) -> String {
    let right = pin(offer);
    let n: u64 = right.parse().unwrap();
    format!("{:0width$}", (n + 1) % 10u64.pow(6), width = right.len())
}

// ------------------------------------------------------------ receiving

#[test]
fn receive_with_a_pin_over_an_encrypted_response_and_present_it_at_a_counter() {
    let issuer = IssuerProcess::start();
    let tmp = tempfile::tempdir().unwrap();
    let w = new_wallet(tmp.path());

    // One credential (--batch 1), bound to the wallet's own holder key; a
    // batch of copies with keys of their own is tests/tests/haip_alg.rs.
    let (o, uri) = offer(&issuer, "business-licence", true);
    let out = wallet(
        &w,
        &[
            "--json",
            "receive",
            &uri,
            "--tx-code",
            &pin(&o),
            "--batch",
            "1",
        ],
    );
    let got = ok_json(&out);
    assert_eq!(got["id"], "c1");
    assert_eq!(got["copies"], 1);
    assert_eq!(got["iss"], issuer.iss());
    assert_eq!(got["vct"], "urn:tongban:business-licence:1");
    assert_eq!(got["type"], "营业执照 Business licence");
    assert_eq!(
        got["via"], "openid4vci (encrypted response)",
        "the issuer supports encryption, so the wallet uses it"
    );
    // Each step is said in plain words on stderr.
    let steps = String::from_utf8_lossy(&out.stderr);
    for step in [
        "Fetching the issuer's metadata",
        "Redeeming the offer",
        "Requesting the credential, encrypted",
        "Verifying the credential",
    ] {
        assert!(steps.contains(step), "{steps}");
    }

    // Stored, bound to this wallet's key: the issuer's record names the
    // wallet's key thumbprint.
    let shown = ok_json(&wallet(&w, &["--json", "show", "c1"]));
    assert_eq!(shown["claims"]["legal_representative"], "李明");
    // The list shows it as a person sees it: type, issuer, region, validity.
    let list = ok_json(&wallet(&w, &["--json", "list"]));
    assert_eq!(list[0]["type"], "营业执照 Business licence");
    assert_eq!(
        list[0]["issuer_name"],
        "通办演示发证机构 Tongban demonstration agency"
    );
    assert_eq!(list[0]["region"]["code"], "320509");
    assert_eq!(list[0]["region"]["name_zh"], "苏州市吴江区");
    assert!(list[0]["exp"].is_i64());
    let listed = text(&wallet(&w, &["list"]));
    assert!(
        listed.contains("苏州市吴江区 Wujiang District, Suzhou (320509)")
            && listed.contains("通办演示发证机构"),
        "{listed}"
    );
    let holder = ok_json(&wallet(&w, &["holder-key"]));
    assert_eq!(shown["claims"]["cnf"]["jwk"], holder);

    // The counter accepts a presentation of it with the issuer's published keys.
    let jwks = tmp.path().join("jwks.json");
    let r = http("GET", &issuer.url("/agencies/demo/jwks.json"), None, None);
    std::fs::write(&jwks, &r.body).unwrap();
    let presentation = tmp.path().join("p.txt");
    let out = wallet(
        &w,
        &[
            "present",
            "c1",
            "--disclose",
            "company_name,legal_representative",
            "--aud",
            AUD,
            "--nonce",
            "qp-1",
            "--qr",
            "plain",
            "--yes",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    std::fs::write(&presentation, &out.stdout).unwrap();
    let out = Command::new(cargo_bin("tongban-verify"))
        .args(["verify", "--issuer-key"])
        .arg(&jwks)
        .args(["--aud", AUD, "--nonce", "qp-1", "--json"])
        .arg(&presentation)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "accepted", "{report}");
    assert_eq!(
        report["claims"]["company_name"],
        "苏州吴江通办示范科技有限公司"
    );

    // The offer is single-use: a second redemption is the issuer's refusal.
    let before = wallet_bytes(&w);
    let (exit, e) = err_json(&wallet(
        &w,
        &["--json", "receive", &uri, "--tx-code", &pin(&o)],
    ));
    assert_eq!(
        (exit, e["code"].as_str()),
        (1, Some("offer_rejected")),
        "{e}"
    );
    assert_eq!(wallet_bytes(&w), before);
}

#[test]
fn receive_without_a_pin_from_the_qr_image_and_in_plain_json() {
    let issuer = IssuerProcess::start();
    let tmp = tempfile::tempdir().unwrap();
    let w = new_wallet(tmp.path());

    // The QR image the issuer made for the offer, as a citizen's screenshot.
    let (o, _) = offer(&issuer, "driving-licence", false);
    let png = tmp.path().join("offer.png");
    std::fs::write(
        &png,
        base64_standard_decode(o["qr_png_base64"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    // No PIN, no terminal, no prompt: it simply arrives.
    let got = ok_json(&wallet(&w, &["--json", "receive", png.to_str().unwrap()]));
    assert_eq!(got["vct"], "urn:tongban:driving-licence:1");
    assert_eq!(got["via"], "openid4vci (encrypted response)");

    // The same flow with a plain JSON response, from the URI in a file.
    let (_, uri) = offer(&issuer, "academic-degree-certificate", false);
    let file = tmp.path().join("offer.txt");
    std::fs::write(&file, format!("{uri}\n")).unwrap();
    let out = wallet(
        &w,
        &[
            "--json",
            "receive",
            file.to_str().unwrap(),
            "--no-encryption",
        ],
    );
    let got = ok_json(&out);
    assert_eq!(got["id"], "c2");
    assert_eq!(got["via"], "openid4vci");
    assert!(String::from_utf8_lossy(&out.stderr).contains("response not encrypted"));

    let list = ok_json(&wallet(&w, &["--json", "list"]));
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["iss"], issuer.iss());

    // An offer naming another issuer identifier than the issuer's own
    // metadata does (here: localhost for 127.0.0.1) is refused before any
    // code is redeemed.
    let (o, _) = offer(&issuer, "business-licence", false);
    let mut forged = o["credential_offer"].clone();
    let other = issuer.iss().replace("127.0.0.1", "localhost");
    forged["credential_issuer"] = json!(other);
    let forged_uri = format!(
        "openid-credential-offer://?credential_offer={}",
        encode_component(&forged.to_string())
    );
    let (exit, e) = err_json(&wallet(&w, &["--json", "receive", &forged_uri]));
    assert_eq!(
        (exit, e["code"].as_str()),
        (2, Some("issuer_metadata_invalid")),
        "{e}"
    );
    // Not a credential offer at all.
    let (exit, e) = err_json(&wallet(
        &w,
        &["--json", "receive", "openid-credential-offer://?nothing=1"],
    ));
    assert_eq!(
        (exit, e["code"].as_str()),
        (2, Some("offer_invalid")),
        "{e}"
    );
}

#[test]
fn a_wrong_pin_is_refused_counted_down_and_locks_the_offer() {
    let issuer = IssuerProcess::start();
    let tmp = tempfile::tempdir().unwrap();
    let w = new_wallet(tmp.path());
    let before = wallet_bytes(&w);
    let (o, uri) = offer(&issuer, "business-licence", true);

    // No PIN and no terminal to ask on: a usage error, nothing sent.
    let (exit, e) = err_json(&wallet(&w, &["--json", "receive", &uri]));
    assert_eq!(
        (exit, e["code"].as_str()),
        (2, Some("tx_code_required")),
        "{e}"
    );
    // A PIN of the wrong form is not sent, so it costs no attempt.
    let (exit, e) = err_json(&wallet(&w, &["--json", "receive", &uri, "--tx-code", "12"]));
    assert_eq!(
        (exit, e["code"].as_str()),
        (2, Some("tx_code_format")),
        "{e}"
    );

    // Wrong PINs: refused (exit 1), attempts counted down by the issuer.
    let wrong = wrong_pin(&o);
    for left in (1..=4).rev() {
        let (exit, e) = err_json(&wallet(
            &w,
            &["--json", "receive", &uri, "--tx-code", &wrong],
        ));
        assert_eq!(
            (exit, e["code"].as_str()),
            (1, Some("tx_code_wrong")),
            "{e}"
        );
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{left} attempt(s) left")),
            "{e}"
        );
    }
    // The fifth locks the offer (TONGBAN_TX_CODE works like --tx-code) …
    let (exit, e) = err_json(&wallet_env(
        &w,
        &["--json", "receive", &uri],
        &[("TONGBAN_TX_CODE", &wrong)],
    ));
    assert_eq!((exit, e["code"].as_str()), (1, Some("offer_locked")), "{e}");
    // … and then even the right PIN is refused.
    let (exit, e) = err_json(&wallet(
        &w,
        &["--json", "receive", &uri, "--tx-code", &pin(&o)],
    ));
    assert_eq!((exit, e["code"].as_str()), (1, Some("offer_locked")), "{e}");
    assert_eq!(wallet_bytes(&w), before, "nothing was stored");
    assert_eq!(ok_json(&wallet(&w, &["--json", "list"])), json!([]));
    // Without --json the error is one line with its code.
    let out = wallet(&w, &["receive", &uri, "--tx-code", &pin(&o)]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("error[offer_locked]"),
        "{}",
        text(&out)
    );
}

/// Runs the wallet on a pseudo-terminal (tests/tools/pty_session.py),
/// answering prompts as a citizen would.
fn on_terminal(dir: &Path, script: &[(&str, &str)], args: &[&str]) -> Output {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), serde_json::to_string(script).unwrap()).unwrap();
    Command::new("python3")
        .arg(workspace_root().join("tests/tools/pty_session.py"))
        .arg(tmp.path())
        .arg("--")
        .arg(cargo_bin("tongban-wallet"))
        .arg("--wallet")
        .arg(dir)
        .args(args)
        .env_remove("TONGBAN_WALLET_PASSPHRASE")
        .env_remove("TONGBAN_TX_CODE")
        .output()
        .unwrap()
}

#[test]
fn the_pin_is_asked_on_a_terminal_and_again_after_a_wrong_one() {
    let issuer = IssuerProcess::start();
    let tmp = tempfile::tempdir().unwrap();
    let w = new_wallet(tmp.path());
    let (o, uri) = offer(&issuer, "business-licence", true);
    // The prompt ends with the form the offer announces.
    let prompt = "(6 digits / 6位数字): ";
    let wrong = wrong_pin(&o);
    let right = pin(&o);
    let out = on_terminal(
        &w,
        &[
            ("Wallet passphrase", PASS),
            (prompt, "12"),   // a slip: not sent
            (prompt, &wrong), // sent, refused: 4 attempts left
            (prompt, &right),
        ],
        &["receive", &uri],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("请输入发证机构另行发送的数字码 / Enter the PIN"),
        "{screen}"
    );
    assert!(
        screen.contains("the offer expects 6 digits"),
        "a slip is explained: {screen}"
    );
    assert!(
        screen.contains("The PIN is wrong; 4 attempt(s) left"),
        "the slip cost no attempt: {screen}"
    );
    assert!(screen.contains("stored as c1"), "{screen}");
    assert!(!screen.contains(&right), "the PIN is not echoed: {screen}");

    // An empty answer gives up, and nothing is stored.
    let (_, uri) = offer(&issuer, "business-licence", true);
    let out = on_terminal(
        &w,
        &[("Wallet passphrase", PASS), (prompt, "")],
        &["receive", &uri],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{screen}");
    assert!(screen.contains("error[tx_code_not_entered]"), "{screen}");
    assert_eq!(
        ok_json(&wallet(&w, &["--json", "list"]))
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

// ------------------------------------------------------------ tampering

/// What the man in the middle changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tamper {
    /// Nothing.
    Pass,
    /// A disclosure's value in a plain credential response.
    Disclosure,
    /// The issuer-signed payload (a later `exp`) in a plain response.
    Payload,
    /// One character of the ciphertext of an encrypted response.
    Ciphertext,
    /// The issuer's published signing key (jwt-vc-issuer metadata).
    IssuerKey,
}

/// A proxy on `listener` in front of `upstream` that changes answers as
/// `mode` says. It serves until the test process ends.
fn proxy(listener: TcpListener, upstream: String, mode: Arc<Mutex<Tamper>>) {
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let upstream = upstream.clone();
            let mode = *mode.lock().unwrap();
            std::thread::spawn(move || forward(stream, &upstream, mode));
        }
    });
}

fn forward(mut stream: std::net::TcpStream, upstream: &str, mode: Tamper) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("GET").to_owned(),
        parts.next().unwrap_or("/").to_owned(),
    );
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let pass: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(n, _)| matches!(n.as_str(), "authorization" | "content-type" | "accept"))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let mut resp = http_request(&method, &format!("{upstream}{path}"), &pass, &body);
    tamper(mode, &path, &mut resp);
    let head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        resp.status,
        resp.header("content-type")
            .unwrap_or("application/octet-stream"),
        resp.body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&resp.body);
}

fn tamper(mode: Tamper, path: &str, resp: &mut Response) {
    let credential = path.ends_with("/credential") && resp.status == 200;
    match mode {
        Tamper::Disclosure | Tamper::Payload if credential => {
            let mut v = resp.json();
            let sd_jwt = v["credentials"][0]["credential"].as_str().unwrap();
            let mut parts: Vec<String> = sd_jwt.split('~').map(str::to_owned).collect();
            if mode == Tamper::Disclosure {
                // The legal representative's name, re-encoded with the same salt.
                for d in &mut parts[1..] {
                    let Ok(bytes) = b64_decode(d, "disclosure") else {
                        continue;
                    };
                    let Ok(mut arr) = serde_json::from_slice::<Value>(&bytes) else {
                        continue; // the empty part after the last `~`
                    };
                    if arr[1] == "legal_representative" {
                        arr[2] = json!("王五");
                        *d = b64_encode(arr.to_string());
                    }
                }
            } else {
                let jwt: Vec<&str> = parts[0].split('.').collect();
                let mut payload: Value =
                    serde_json::from_slice(&b64_decode(jwt[1], "payload").unwrap()).unwrap();
                payload["exp"] = json!(4_102_444_800_i64); // 2100
                parts[0] = format!("{}.{}.{}", jwt[0], b64_encode(payload.to_string()), jwt[2]);
            }
            v["credentials"][0]["credential"] = json!(parts.join("~"));
            resp.body = v.to_string().into_bytes();
        }
        Tamper::Ciphertext if credential => {
            let jwe = resp.text();
            let mut segments: Vec<String> = jwe.split('.').map(str::to_owned).collect();
            assert_eq!(segments.len(), 5, "a compact JWE: {jwe}");
            let c = segments[3].remove(0);
            segments[3].insert(0, if c == 'A' { 'B' } else { 'A' });
            resp.body = segments.join(".").into_bytes();
        }
        Tamper::IssuerKey if path.starts_with("/.well-known/jwt-vc-issuer") => {
            let mut v = resp.json();
            let kid = v["jwks"]["keys"][0]["kid"].clone();
            let mut forged = Ed25519Signer::from_seed(&[0x66; 32], None)
                .public_key()
                .to_jwk();
            forged["kid"] = kid;
            v["jwks"]["keys"] = json!([forged]);
            resp.body = v.to_string().into_bytes();
        }
        _ => {}
    }
}

#[test]
fn a_tampered_credential_is_refused_and_the_wallet_left_untouched() {
    // The issuer announces the proxy's URL as its own, so the wallet sees
    // only what the proxy lets through.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let front = format!("http://{}", listener.local_addr().unwrap());
    let issuer = IssuerProcess::start_with_public_url(Some(&front));
    let mode = Arc::new(Mutex::new(Tamper::Pass));
    proxy(listener, issuer.base.clone(), mode.clone());

    let tmp = tempfile::tempdir().unwrap();
    let w = new_wallet(tmp.path());
    let before = wallet_bytes(&w);
    for (how, plain, code, reason) in [
        (
            Tamper::Disclosure,
            true,
            "credential_refused",
            Some("disclosure_unreferenced"),
        ),
        (
            Tamper::Payload,
            true,
            "credential_refused",
            Some("signature_invalid"),
        ),
        (Tamper::Ciphertext, false, "encryption_failed", None),
        (
            Tamper::IssuerKey,
            false,
            "credential_refused",
            Some("signature_invalid"),
        ),
    ] {
        *mode.lock().unwrap() = how;
        let (o, uri) = offer(&issuer, "business-licence", true);
        let mut args = vec!["--json", "receive", &uri];
        let p = pin(&o);
        args.extend(["--tx-code", &p]);
        if plain {
            args.push("--no-encryption");
        }
        let (exit, e) = err_json(&wallet(&w, &args));
        assert_eq!(e["code"].as_str(), Some(code), "{how:?}: {e}");
        assert_eq!(e["reason"].as_str(), reason, "{how:?}: {e}");
        assert_eq!(
            exit,
            if code == "credential_refused" { 1 } else { 2 },
            "{how:?}"
        );
        assert_eq!(wallet_bytes(&w), before, "{how:?}: the wallet is untouched");
    }
    // With nothing changed, the same path delivers.
    *mode.lock().unwrap() = Tamper::Pass;
    let (o, uri) = offer(&issuer, "business-licence", true);
    let got = ok_json(&wallet(
        &w,
        &["--json", "receive", &uri, "--tx-code", &pin(&o)],
    ));
    assert_eq!(got["iss"], format!("{front}/agencies/demo"));
}
