//! The counter's browser page against the real thing: a `tongban-issuer`
//! service (Wujiang's agency), a zone governed by three provinces'
//! operators (a root of trust of 2 of 3 keys, made, signed and published
//! with `tongban-issuer trust-list root …`, and a trust list proposed,
//! signed by two operators and published), a citizen's `tongban-wallet`
//! that receives business licences over OpenID4VCI and presents them as QR
//! PNG images, and Debian's headless Chromium whose fake camera plays a
//! video made from those PNGs.
//!
//! `tests/browser/counter_page_issuer.mjs` serves the page as plain static
//! files with the zone's `trust-list.json` and `root-<n>.json` beside it,
//! and passes every other path to the issuer (a reverse proxy: the issuer's
//! public URL is the proxy's, as in a deployment). The clerk's day: the
//! pinned root and the 2-of-3 list synced; the counter's request answered
//! by the wallet's QR code through the camera; a multi-part presentation
//! (three QR codes in the wallet's PNG) through the camera; a tampered
//! presentation; a root rotation (root 2 fetched beside the list, a list
//! signed by an operator only root 2 names); a revocation through the
//! issuer's admin API reaching the page with a bundle refresh from the
//! issuer's real status list; the network cut and the page reloaded from
//! its service worker, still verifying. Screenshots of the verdicts land in
//! `target/counter-page-screenshots/`; the in-page timings (first camera
//! frame to verdict, and the verifier's time per presentation over many
//! runs) and the presentation with its bundle land in
//! `target/counter-page-perf/` for `scripts/counter-page-perf.sh`.
//!
//! Skipped with a loud message when Chromium or node is missing; `.ci/run`
//! installs both.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use tongban_e2e::cli::{self, p};
use tongban_e2e::issuer::{AgencySetup, IssuerProcess, StartOptions, http};
use tongban_test_support::sample::catalogue_claims;
use tongban_test_support::workspace_root;
use tongban_verifier::transport;

const PASS: &str = "counter page passphrase";
const BL: &str = "urn:tongban:business-licence:1";
const COUNTER: &str = "https://counter.qingpu.example/7";
const ANCHOR_ID: &str = "https://trust.yrd.example";

fn run(bin: &str, args: &[&str]) -> Output {
    cli::run(bin, PASS, args)
}

fn ok(out: Output) -> String {
    cli::stdout_of(&cli::ok(out))
}

fn chromium() -> Option<PathBuf> {
    let path =
        PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    path.exists().then_some(path)
}

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
        .is_ok_and(|s| s.success());
    assert!(ok, "npm ci in {} failed", dir.display());
}

/// The zone's operators, working in `dir` with the real operator commands.
struct Operators {
    dir: PathBuf,
}

impl Operators {
    fn f(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn issuer(&self, args: &[&str]) -> String {
        ok(run("tongban-issuer", args))
    }

    /// One anchor key per province's operator.
    fn keys(&self, kids: &[&str]) {
        for kid in kids {
            self.issuer(&[
                "trust-list",
                "anchor-key",
                "--out",
                &self.f(&format!("{kid}.key.json")),
                "--public-out",
                &self.f(&format!("{kid}.pub.json")),
                "--kid",
                kid,
            ]);
        }
    }

    /// Root `n` of `members`, k = 2, signed by `signers` (old and new
    /// operators), published as `root-<n>.json`.
    fn root(&self, n: u32, members: &[&str], signers: &[&str]) -> String {
        let proposal = self.f(&format!("root-{n}.proposal.json"));
        let mut args = vec![
            "trust-list".to_owned(),
            "root".into(),
            "propose".into(),
            "--out".into(),
            proposal.clone(),
            "--threshold".into(),
            "2".into(),
        ];
        for m in members {
            args.extend(["--key".into(), self.f(&format!("{m}.pub.json"))]);
        }
        let previous = (n > 1).then(|| self.f(&format!("root-{}.json", n - 1)));
        match &previous {
            Some(prev) => args.extend(["--previous".into(), prev.clone()]),
            None => args.extend([
                "--anchor-id".into(),
                ANCHOR_ID.into(),
                "--name-zh".into(),
                "长三角生态绿色一体化发展示范区".into(),
                "--name-en".into(),
                "Yangtze River Delta demonstration zone".into(),
            ]),
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.issuer(&args);
        for s in signers {
            let key = self.f(&format!("{s}.key.json"));
            let mut a = vec![
                "trust-list",
                "root",
                "sign",
                "--proposal",
                &proposal,
                "--key",
                &key,
            ];
            if let Some(prev) = &previous {
                a.extend(["--previous", prev.as_str()]);
            }
            self.issuer(&a);
        }
        let out = self.f(&format!("root-{n}.json"));
        let mut a = vec![
            "trust-list",
            "root",
            "publish",
            "--proposal",
            &proposal,
            "--out",
            &out,
        ];
        if let Some(prev) = &previous {
            a.extend(["--previous", prev.as_str()]);
        }
        self.issuer(&a);
        std::fs::read_to_string(out).unwrap()
    }

    /// The next list of the draft under root `n`, signed by `signers`.
    fn list(&self, n: u32, signers: &[&str], seq: u32) -> String {
        let root = self.f(&format!("root-{n}.json"));
        let proposal = self.f(&format!("list-{seq}.proposal.json"));
        self.issuer(&[
            "trust-list",
            "propose",
            "--list",
            &self.f("zone.json"),
            "--root",
            &root,
            "--out",
            &proposal,
        ]);
        for s in signers {
            self.issuer(&[
                "trust-list",
                "sign",
                "--proposal",
                &proposal,
                "--anchor-key",
                &self.f(&format!("{s}.key.json")),
                "--root",
                &root,
            ]);
        }
        let out = self.f(&format!("trust-list-{seq}.json"));
        self.issuer(&[
            "trust-list",
            "publish",
            "--proposal",
            &proposal,
            "--root",
            &root,
            "--out",
            &out,
        ]);
        std::fs::read_to_string(out).unwrap()
    }
}

/// The QR codes of a wallet's PNG (side by side, white between them), each
/// as a grayscale image: the columns of the image split at the runs of
/// white at least two quiet zones wide.
fn codes_of_png(png: &Path) -> Vec<image::GrayImage> {
    let img = image::open(png).unwrap().to_luma8();
    let (w, h) = img.dimensions();
    let white: Vec<bool> = (0..w)
        .map(|x| (0..h).all(|y| img.get_pixel(x, y)[0] > 128))
        .collect();
    let mut codes = Vec::new();
    let mut x = 0;
    while x < w {
        while x < w && white[x as usize] {
            x += 1;
        }
        let start = x;
        let mut end = x;
        // A code ends where 24 or more white columns follow (a quiet zone
        // is 16 pixels on each side; inside a code, the timing pattern
        // never leaves 8 white columns).
        while end < w {
            let run = (end..w).take_while(|c| white[*c as usize]).count() as u32;
            if run >= 24 || end + run >= w {
                break;
            }
            end += run.max(1);
        }
        if end > start {
            let pad = 16.min(start);
            let x0 = start - pad;
            let x1 = (end + 16).min(w);
            codes.push(image::imageops::crop_imm(&img, x0, 0, x1 - x0, h).to_image());
        }
        x = end;
    }
    codes
}

/// A video (YUV4MPEG2, 4:2:0, 10 frames a second) for Chromium's fake
/// camera: each QR code of the wallet's PNG in turn, scaled up by whole
/// pixels and centred, `frames` frames each — a citizen holding the phone
/// to the camera and swiping to the next code.
fn video_of_png(png: &Path, out: &Path, frames: usize) -> usize {
    let (w, h) = (1280u32, 960u32);
    let codes = codes_of_png(png);
    let mut f = std::fs::File::create(out).unwrap();
    writeln!(f, "YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg").unwrap();
    let chroma = vec![128u8; (w as usize / 2) * (h as usize / 2)];
    for code in &codes {
        let (cw, ch) = code.dimensions();
        let scale = ((h - 40) / ch).min((w - 40) / cw).max(1);
        let (sw, sh) = (cw * scale, ch * scale);
        let (x0, y0) = ((w - sw) / 2, (h - sh) / 2);
        let mut y_plane = vec![235u8; (w * h) as usize];
        for y in 0..sh {
            for x in 0..sw {
                let v = code.get_pixel(x / scale, y / scale)[0];
                // Studio range, as a camera delivers it.
                y_plane[((y0 + y) * w + x0 + x) as usize] = if v > 128 { 235 } else { 16 };
            }
        }
        for _ in 0..frames {
            f.write_all(b"FRAME\n").unwrap();
            f.write_all(&y_plane).unwrap();
            f.write_all(&chroma).unwrap();
            f.write_all(&chroma).unwrap();
        }
    }
    codes.len()
}

/// Breaks the issuer's signature inside a transport text.
fn tampered(text: &str) -> String {
    let sd = transport::decode(text).unwrap();
    let (jwt, rest) = sd.split_once('~').unwrap();
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let flipped = if parts[2].starts_with('A') { "B" } else { "A" };
    parts[2].replace_range(0..1, flipped);
    transport::encode(&format!("{}~{rest}", parts.join("."))).unwrap()
}

/// A business scope of 2000 characters (the catalogue's limit) that does
/// not compress (drawn from 3000 common CJK characters by a fixed
/// generator), so that the presentation needs several QR codes (three): the longest a
/// citizen can hold.
fn long_business_scope() -> String {
    let mut x: u32 = 2_026;
    (0..2000)
        .map(|i| {
            if i % 40 == 39 {
                return '；';
            }
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from_u32(0x4E00 + (x >> 8) % 3000).unwrap()
        })
        .collect()
}

fn admin_id_of_licence(issuer: &IssuerProcess, licence_id: &str) -> String {
    let r = http(
        "GET",
        &issuer.url(&format!("/admin/v1/credentials?licence_id={licence_id}")),
        Some(&issuer.token),
        None,
    );
    r.json()["credentials"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Offers a business licence with `claims` and has the wallet receive it;
/// returns the wallet's id and the issuer's admin id of the credential.
fn receive(
    issuer: &IssuerProcess,
    wallet: &Path,
    claims: &serde_json::Map<String, Value>,
) -> (String, String) {
    let o = issuer.admin_issue(&json!({"vct": BL, "claims": claims, "offer": {"tx_code": true}}));
    let link = o["offer_link"].as_str().unwrap();
    let pin = o["tx_code"].as_str().unwrap();
    let out = ok(run(
        "tongban-wallet",
        &[
            "--wallet",
            p(wallet),
            "--json",
            "receive",
            link,
            "--tx-code",
            pin,
        ],
    ));
    let id = serde_json::from_str::<Value>(&out).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let licence = claims["licence_id"].as_str().unwrap();
    (id, admin_id_of_licence(issuer, licence))
}

/// The wallet presents `id` as a QR PNG (`--qr png:FILE`); returns the
/// transport text and the number of codes.
fn present(wallet: &Path, id: &str, how: &[&str], png: &Path) -> (String, u64) {
    let qr = format!("png:{}", p(png));
    let mut args = vec!["--wallet", p(wallet), "--json", "present", id, "--yes"];
    args.extend_from_slice(how);
    args.extend(["--qr", &qr]);
    let v: Value = serde_json::from_str(&ok(run("tongban-wallet", &args))).unwrap();
    (
        v["transport"].as_str().unwrap().to_owned(),
        v["qr_codes"].as_u64().unwrap(),
    )
}

#[test]
fn a_clerk_verifies_a_real_wallets_qr_codes_under_a_two_of_three_zone() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "SKIPPED: no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)"
        );
        return;
    };
    let root = workspace_root();
    let browser_dir = root.join("tests/browser");
    ensure_playwright(&browser_dir);
    let work = tempfile::tempdir().unwrap();
    let fix = work.path().join("served");
    std::fs::create_dir_all(&fix).unwrap();
    let shots = root.join("target/counter-page-screenshots");
    let perf = root.join("target/counter-page-perf");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::create_dir_all(&perf).unwrap();
    let camera = fix.join("camera.y4m");
    // The fake camera needs a video at launch; each camera session reads
    // the file again, and the test writes the wallet's QR codes into it.
    std::fs::write(&camera, b"").unwrap();

    let mut child = Command::new("node")
        .arg(browser_dir.join("counter_page_issuer.mjs"))
        .arg(root.join("verifier/counter-page/dist"))
        .arg(&fix)
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

    // Wujiang's issuing service, reached through the page's origin.
    let issuer = IssuerProcess::start_with(&StartOptions {
        public_url: Some(base.clone()),
        agency: Some(AgencySetup {
            id: "wujiang-amr".into(),
            name_zh: "苏州市吴江区市场监督管理局".into(),
            name_en: "Wujiang Administration for Market Regulation".into(),
            region: "320509".into(),
            vcts: vec![BL.into()],
            key_alg: None,
        }),
        env: Vec::new(),
    });
    writeln!(stdin, "{}", json!({"issuer": issuer.base})).unwrap();

    // The zone: three provinces' operators, root 1 of k = 2, the agency
    // listed with its published keys and status list, two signatures.
    let ops = Operators {
        dir: work.path().join("operators"),
    };
    std::fs::create_dir_all(&ops.dir).unwrap();
    ops.keys(&["sh-ops-1", "js-ops-1", "zj-ops-1", "ah-ops-1"]);
    let root1 = ops.root(
        1,
        &["sh-ops-1", "js-ops-1", "zj-ops-1"],
        &["sh-ops-1", "js-ops-1", "zj-ops-1"],
    );
    ops.issuer(&[
        "trust-list",
        "init",
        "--list",
        &ops.f("zone.json"),
        "--anchor-id",
        ANCHOR_ID,
        "--name-zh",
        "长三角生态绿色一体化发展示范区",
        "--name-en",
        "Yangtze River Delta demonstration zone",
    ]);
    let iss = issuer.iss();
    ops.issuer(&[
        "trust-list",
        "add-issuer",
        "--list",
        &ops.f("zone.json"),
        "--id",
        &iss,
        "--name-zh",
        "苏州市吴江区市场监督管理局",
        "--name-en",
        "Wujiang Administration for Market Regulation",
        "--region",
        "320509",
        "--vct",
        BL,
        "--jwks-url",
        &format!("{iss}/jwks.json"),
        "--yes",
        "--status-list",
        &format!("{iss}/status/0"),
    ]);
    let list1 = ops.list(1, &["sh-ops-1", "zj-ops-1"], 1);
    std::fs::write(fix.join("root-1.json"), &root1).unwrap();
    std::fs::write(fix.join("trust-list.json"), &list1).unwrap();
    let pinned: Value = serde_json::from_str(&root1).unwrap();
    std::fs::write(
        fix.join("config.json"),
        json!({"trust_list_url": format!("{base}/trust-list.json"), "anchors": pinned, "audience": COUNTER})
            .to_string(),
    )
    .unwrap();

    // Citizens' wallets receive business licences over OpenID4VCI.
    let wallet = work.path().join("wallet");
    ok(run("tongban-wallet", &["--wallet", p(&wallet), "init"]));
    let (li_bl, li_admin) = receive(&issuer, &wallet, &catalogue_claims("business-licence", 1));
    let mut big = catalogue_claims("business-licence", 2);
    big.insert(
        "business_scope".into(),
        Value::String(long_business_scope()),
    );
    let (big_bl, _) = receive(&issuer, &wallet, &big);
    writeln!(stdin, "{}", json!({"ready": true})).unwrap();

    let mut log = Vec::new();
    let mut done = false;
    let mut answer_text = String::new();
    for line in lines {
        let line = line.unwrap();
        eprintln!("{line}");
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        let reply = match v["need"].as_str() {
            // The wallet answers the page's request with a QR PNG, which
            // the camera then sees.
            Some("answer") => {
                let png = work.path().join("answer.png");
                let req = v["request"].as_str().unwrap();
                let (text, codes) = present(&wallet, &li_bl, &["--request", req], &png);
                assert_eq!(codes, 1);
                video_of_png(&png, &camera, 2);
                answer_text = text.clone();
                Some(json!({"transport": text}))
            }
            // A presentation too large for one code: the wallet's PNG holds
            // two, which the camera sees one after the other.
            Some("multipart") => {
                let png = work.path().join("multipart.png");
                let (text, codes) = present(
                    &wallet,
                    &big_bl,
                    &[
                        "--disclose",
                        "company_name,legal_representative,business_scope",
                        "--aud",
                        COUNTER,
                    ],
                    &png,
                );
                assert!(codes >= 2, "{codes} codes");
                assert_eq!(video_of_png(&png, &camera, 6) as u64, codes);
                std::fs::copy(&png, shots.join("wallet-multipart.png")).unwrap();
                Some(json!({"transport": text, "codes": codes, "tampered": tampered(&text)}))
            }
            // Root 2: Zhejiang's operator hands over to Anhui's; list 2 is
            // signed by Jiangsu and Anhui, whose key only root 2 names.
            Some("rotate") => {
                let root2 = ops.root(
                    2,
                    &["sh-ops-1", "js-ops-1", "ah-ops-1"],
                    &["sh-ops-1", "js-ops-1", "ah-ops-1"],
                );
                let list2 = ops.list(2, &["js-ops-1", "ah-ops-1"], 2);
                std::fs::write(fix.join("root-2.json"), root2).unwrap();
                std::fs::write(fix.join("trust-list.json"), list2).unwrap();
                Some(json!({}))
            }
            // The agency revokes the first licence.
            Some("revoke") => {
                issuer.admin_change(&li_admin, "revoke");
                Some(json!({"transport": answer_text}))
            }
            _ => None,
        };
        if let Some(r) = reply {
            writeln!(stdin, "{r}").unwrap();
        }
        if let Some(p) = v.get("perf") {
            std::fs::write(
                perf.join("browser.json"),
                serde_json::to_string_pretty(p).unwrap(),
            )
            .unwrap();
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
        "synced the 2-of-3 list under the pinned root",
        "the wallet's answer to the request, through the camera, accepted",
        "the wallet's multi-part presentation, through the camera, accepted",
        "tampered presentation rejected",
        "root 2 followed, list signed by an operator only root 2 names",
        "revoked after a refresh from the issuer's status list",
        "verified offline",
    ] {
        assert!(
            log.iter().any(|v| v["ok"] == step),
            "step {step:?} did not pass"
        );
    }
}
