//! The counter's browser page in a real browser: Debian's headless
//! Chromium driven by playwright-core (`tests/browser/`, pinned, npm ci)
//! runs `tests/browser/counter_page.mjs` against the built page
//! (`verifier/counter-page/dist`, served as plain static files) and a
//! one-agency zone: sync, a typed scan, a multi-part scan, a tampered
//! presentation, the counter's own request answered by the holder, the
//! fake camera playing a video of a QR code, a revocation after a refresh,
//! a rollback refused, the network cut, a stale bundle. Screenshots of the
//! verdict screens land in `target/counter-page-screenshots/`.
//!
//! The issuer serves the same files at `/counter/`, checked here too.
//!
//! Skipped with a loud message when `/usr/bin/chromium` (or `$CHROMIUM`)
//! or node is missing; `.ci/run` installs both, so CI always runs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tongban_e2e::issuer::{IssuerProcess, http_request};
use tongban_test_support::counter_zone::{CounterZone, REVOKED_IDX, VALID_IDX};
use tongban_test_support::workspace_root;
use tongban_verifier::request::PresentationRequest;
use tongban_verifier::transport;

const DISCLOSE: [&str; 4] = [
    "company_name",
    "legal_representative",
    "unified_social_credit_code",
    "address",
];

fn now() -> i64 {
    tongban_cli_support::time::now()
}

fn chromium() -> Option<PathBuf> {
    let path =
        PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    path.exists().then_some(path)
}

/// `npm ci` in tests/browser when playwright-core is not there yet.
fn ensure_playwright(dir: &Path) {
    if dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return;
    }
    let ok = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "npm ci in {} failed", dir.display());
}

/// A video (YUV4MPEG2, 4:2:0) of two identical frames showing `text` as a
/// QR code, black on white, for Chromium's fake camera.
fn qr_video(text: &str, out: &Path) {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).unwrap();
    let modules = code.width();
    let colors = code.to_colors();
    let (w, h) = (960usize, 720usize);
    let scale = (h - 40) / (modules + 8);
    let size = scale * (modules + 8);
    let (x0, y0) = ((w - size) / 2, (h - size) / 2);
    let mut y_plane = vec![235u8; w * h];
    for (i, c) in colors.iter().enumerate() {
        if *c != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + 4, i / modules + 4);
        for dy in 0..scale {
            let row = (y0 + my * scale + dy) * w;
            let start = row + x0 + mx * scale;
            y_plane[start..start + scale].fill(16);
        }
    }
    let chroma = vec![128u8; (w / 2) * (h / 2)];
    let mut f = std::fs::File::create(out).unwrap();
    writeln!(f, "YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg").unwrap();
    for _ in 0..2 {
        f.write_all(b"FRAME\n").unwrap();
        f.write_all(&y_plane).unwrap();
        f.write_all(&chroma).unwrap();
        f.write_all(&chroma).unwrap();
    }
}

/// Breaks the issuer's signature of a transport text's presentation.
fn tampered(presentation: &str) -> String {
    let (jwt, rest) = presentation.split_once('~').unwrap();
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let sig = &mut parts[2];
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    sig.replace_range(0..1, flipped);
    format!("{}~{rest}", parts.join("."))
}

#[test]
fn a_clerk_verifies_in_chromium_online_offline_and_with_a_stale_bundle() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "SKIPPED: no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)"
        );
        return;
    };
    let root = workspace_root();
    let browser_dir = root.join("tests/browser");
    ensure_playwright(&browser_dir);
    let fixtures = tempfile::tempdir().unwrap();
    let fix = |name: &str, text: &str| std::fs::write(fixtures.path().join(name), text).unwrap();
    let shots = root.join("target/counter-page-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    // The script starts its server first and says its origin; the
    // fixtures (whose status list URI names that origin) follow, then
    // "ready" on its standard input.
    let t = now();
    let mut child = Command::new("node")
        .arg(browser_dir.join("counter_page.mjs"))
        .arg(root.join("verifier/counter-page/dist"))
        .arg(fixtures.path())
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let base = first["base"].as_str().unwrap().to_owned();

    let zone = CounterZone::new(format!("{base}/status/1"));
    fix(
        "trust-list-1.jwt",
        &zone.trust_list(1, t - 120, t + 7 * 86_400),
    );
    fix(
        "trust-list-2.jwt",
        &zone.trust_list(2, t - 60, t + 7 * 86_400),
    );
    fix("status-valid.jwt", &zone.status_list(t - 120, false));
    fix("status-revoked.jwt", &zone.status_list(t - 60, true));
    fix(
        "config.json",
        &json!({"trust_list_url": format!("{base}/trust-list.jwt"), "anchors": zone.anchors(), "audience": "https://counter.qingpu.example/7"}).to_string(),
    );
    let valid = zone.credential(t - 86_400, VALID_IDX);
    let p = zone.present(
        &valid,
        &DISCLOSE,
        "https://counter.wujiang.example/2",
        "n-elsewhere-0001",
        t - 30,
    );
    let single = transport::encode(&p).unwrap();
    fix("single.txt", &single);
    fix(
        "parts.txt",
        &transport::split(&single, 400).unwrap().join("\n"),
    );
    fix("tampered.txt", &tampered(&p));
    let revoked = zone.credential(t - 86_400, REVOKED_IDX);
    fix(
        "revoked.txt",
        &transport::encode(&zone.present(&revoked, &DISCLOSE, "x", "n-elsewhere-0002", t - 30))
            .unwrap(),
    );
    qr_video(&single, &fixtures.path().join("camera.y4m"));
    writeln!(stdin, "ready").unwrap();

    let mut log = Vec::new();
    let mut done = false;
    for line in lines {
        let line = line.unwrap();
        eprintln!("{line}");
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if v["need"] == "answer" {
            // The holder's wallet answers the page's request.
            let req = PresentationRequest::parse(v["request"].as_str().unwrap()).unwrap();
            let claims: Vec<&str> = req.claims.iter().map(String::as_str).collect();
            let answer = zone.present(&valid, &claims, &req.aud, &req.nonce, now());
            writeln!(stdin, "{}", transport::encode(&answer).unwrap()).unwrap();
        }
        if v["done"] == true {
            done = true;
        }
        log.push(v);
    }
    let status = child.wait().unwrap();
    let failed: Vec<&Value> = log
        .iter()
        .filter(|v| v.get("failed").is_some() || v.get("error").is_some())
        .collect();
    assert!(
        done && status.success() && failed.is_empty(),
        "browser steps failed: {failed:#?}"
    );
    for step in [
        "typed scan accepted",
        "multi-part presentation accepted",
        "tampered presentation rejected",
        "answer to the request accepted",
        "camera scan accepted",
        "revoked after refresh",
        "rollback refused, bundle #2 kept",
        "verified offline",
        "stale bundle rejects under the default policy",
    ] {
        assert!(
            log.iter().any(|v| v["ok"] == step),
            "step {step:?} did not pass"
        );
    }
    for shot in [
        "counter-fixture-accepted.png",
        "counter-fixture-rejected.png",
        "counter-stale.png",
    ] {
        assert!(shots.join(shot).exists(), "{shot}");
    }
}

#[test]
fn the_issuer_serves_the_counter_page() {
    let issuer = IssuerProcess::start();
    let page = http_request("GET", &issuer.url("/counter/"), &[], b"");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.body, tongban_counter_page::file("").unwrap().bytes);
    let wasm = http_request("GET", &issuer.url("/counter/verifier_bg.wasm"), &[], b"");
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(
        wasm.body,
        tongban_counter_page::file("verifier_bg.wasm")
            .unwrap()
            .bytes
    );
    assert_eq!(
        http_request("GET", &issuer.url("/counter/config.json"), &[], b"").status,
        404
    );
    std::fs::write(
        issuer.data_dir().join("counter-config.json"),
        "{\"audience\":\"x\"}",
    )
    .unwrap();
    let cfg = http_request("GET", &issuer.url("/counter/config.json"), &[], b"");
    assert_eq!(cfg.status, 200);
    assert_eq!(cfg.json()["audience"], "x");
}
