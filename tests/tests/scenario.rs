//! The cross-province scenario of the Yangtze River Delta demonstration
//! zone, across real processes on loopback (the automated twin of
//! `scripts/demo.sh`):
//!
//! a root of trust the three provinces govern 2 of 3; three issuing
//! services, one per province, SQLite each; the agencies registered in a
//! trust list two provinces sign; a business licence from
//! Wujiang and a driving licence from Jiashan received by citizens' wallets
//! over OpenID4VCI; a Qingpu counter that syncs its bundle, asks for fields,
//! and verifies the wallet's QR answer with no network at all; then
//! suspension and reinstatement, key rotation (old credentials still
//! verify), an issuer outside the list and a type outside an agency's
//! listing, someone else's credential (holder binding fails), and a
//! revocation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use rand::rngs::OsRng;
use serde_json::{Value, json};
use tongban_e2e::cli::{self, json_of, ok, p};
use tongban_e2e::issuer::{AgencySetup, IssuerProcess, http};
use tongban_e2e::{cargo_bin, serve_http};
use tongban_test_support::sample::catalogue_claims;
use tongban_verifier::{Ed25519Signer, HeldCredential, KeyBinding, Signer as _};

const PASS: &str = "scenario passphrase";
const COUNTER: &str = "https://counter.qingpu.example";
const BL: &str = "urn:tongban:business-licence:1";
const DL: &str = "urn:tongban:driving-licence:1";
const MC: &str = "urn:tongban:marriage-certificate:1";

fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = cli::command(bin, PASS);
    c.args(args).envs(env.iter().copied());
    c.output().unwrap()
}

/// Runs `tongban-verify verify` with no network: in a new, empty network
/// namespace when the machine allows it (as CI's root does), else with every
/// proxy variable pointing at an unroutable address. Either way a fetch
/// would fail.
fn verify_offline(args: &[&str]) -> Output {
    let bin = cargo_bin("tongban-verify");
    let isolated = Command::new("unshare")
        .args(["-n", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut c = if isolated {
        let mut c = Command::new("unshare");
        c.arg("-n").arg(&bin);
        c
    } else {
        eprintln!("(no network namespace here: verifying behind an unroutable proxy instead)");
        Command::new(&bin)
    };
    for k in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        c.env(k, "http://192.0.2.1:9");
    }
    c.args(args).env_remove("TONGBAN_BUNDLE").output().unwrap()
}

struct Zone {
    dir: tempfile::TempDir,
    files: Arc<Mutex<Vec<(String, String)>>>,
    list_url: String,
}

impl Zone {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn operator(&self, args: &[&str]) -> Output {
        ok(run("tongban-issuer", args, &[]))
    }

    /// The next list, governed 2 of 3: proposed from the draft, signed by
    /// two of the three provinces' operators (Shanghai and `second`),
    /// published, and served.
    fn sign_and_publish_by(&self, second: &str) {
        let proposal = self.path("proposal.json");
        let root = self.path("root-1.json");
        self.operator(&[
            "trust-list",
            "propose",
            "--list",
            p(&self.path("zone.json")),
            "--root",
            p(&root),
            "--out",
            p(&proposal),
        ]);
        for who in ["sh", second] {
            self.operator(&[
                "trust-list",
                "sign",
                "--proposal",
                p(&proposal),
                "--key",
                p(&self.path(&format!("{who}.key.json"))),
                "--root",
                p(&root),
            ]);
        }
        let out = self.path("trust-list.json");
        self.operator(&[
            "trust-list",
            "publish",
            "--proposal",
            p(&proposal),
            "--root",
            p(&root),
            "--out",
            p(&out),
        ]);
        // The proposal is spent; the next change is proposed afresh.
        std::fs::remove_file(&proposal).unwrap();
        let list = std::fs::read_to_string(out).unwrap();
        let mut f = self.files.lock().unwrap();
        f.retain(|(path, _)| path != "/trust-list.jwt");
        f.push(("/trust-list.jwt".into(), list));
    }

    fn sign_and_publish(&self) {
        self.sign_and_publish_by("js");
    }

    fn sync(&self) {
        ok(run(
            "tongban-verify",
            &[
                "sync",
                "--trust-list",
                &self.list_url,
                "--anchor-key",
                p(&self.path("root-1.json")),
                "--bundle",
                p(&self.path("bundle")),
            ],
            &[],
        ));
    }

    /// A counter request for `claims` of `vct`; returns the request file.
    fn request(&self, name: &str, vct: &str, claims: &str) -> PathBuf {
        let file = self.path(&format!("{name}.request.txt"));
        let png = self.path(&format!("{name}.request.png"));
        ok(run(
            "tongban-verify",
            &[
                "request",
                "--aud",
                COUNTER,
                "--vct",
                vct,
                "--claims",
                claims,
                "--out",
                p(&file),
                "--qr",
                &format!("png:{}", p(&png)),
            ],
            &[],
        ));
        file
    }

    /// Verifies an answer offline against the bundle and a request.
    fn verify(&self, request: &Path, answer: &Path) -> (i32, Value) {
        let out = verify_offline(&[
            "verify",
            "--json",
            "--bundle",
            p(&self.path("bundle")),
            "--anchor-key",
            p(&self.path("root-1.json")),
            "--request",
            p(request),
            p(answer),
        ]);
        (out.status.code().unwrap_or(-1), json_of(&out))
    }
}

fn code(report: &Value) -> &str {
    report["rejection"]["code"].as_str().unwrap_or("")
}

fn wallet(w: &Path, args: &[&str]) -> Output {
    let mut full = vec!["--wallet", p(w)];
    full.extend_from_slice(args);
    run("tongban-wallet", &full, &[])
}

/// Offers `slug` from `issuer` and has the wallet at `w` receive it.
fn receive(issuer: &IssuerProcess, w: &Path, slug: &str, serial: u32, with_pin: bool) -> String {
    let o = issuer.admin_issue(&json!({"vct": format!("urn:tongban:{slug}:1"), "claims": catalogue_claims(slug, serial), "offer": {"tx_code": with_pin}}));
    let link = o["offer_link"].as_str().unwrap();
    let mut args = vec!["--json", "receive", link];
    let pin = o["tx_code"].as_str().map(str::to_owned);
    if let Some(pin) = &pin {
        args.extend(["--tx-code", pin.as_str()]);
    }
    json_of(&ok(wallet(w, &args)))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The wallet answers a request file as a QR PNG.
fn answer(w: &Path, id: &str, request: &Path, png: &Path) {
    ok(wallet(
        w,
        &[
            "present",
            id,
            "--request",
            p(request),
            "--yes",
            "--qr",
            &format!("png:{}", p(png)),
        ],
    ));
}

fn admin(issuer: &IssuerProcess, action: &str, id: &str) {
    let r = http(
        "POST",
        &issuer.url(&format!("/admin/v1/credentials/{id}/{action}")),
        Some(&issuer.token),
        Some(&json!({"reason": "scenario"})),
    );
    assert_eq!(r.status, 200, "{action}: {}", r.text());
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

#[test]
fn the_demonstration_zone_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let files = Arc::new(Mutex::new(Vec::new()));
    let base = serve_http(files.clone()).unwrap();
    let zone = Zone {
        dir,
        files,
        list_url: format!("{base}/trust-list.jwt"),
    };

    // 1. The zone's root of trust, governed by the three provinces'
    //    operators 2 of 3 (each makes their own key; two sign the root),
    //    served beside the list as root-1.json, and an empty list.
    for who in ["sh", "js", "zj"] {
        zone.operator(&[
            "trust-list",
            "anchor-key",
            "--out",
            p(&zone.path(&format!("{who}.key.json"))),
            "--public-out",
            p(&zone.path(&format!("{who}.jwk.json"))),
            "--kid",
            &format!("{who}-ops-1"),
        ]);
    }
    let root_proposal = zone.path("root.proposal.json");
    zone.operator(&[
        "trust-list",
        "root",
        "propose",
        "--out",
        p(&root_proposal),
        "--key",
        p(&zone.path("sh.jwk.json")),
        "--key",
        p(&zone.path("js.jwk.json")),
        "--key",
        p(&zone.path("zj.jwk.json")),
        "--threshold",
        "2",
        "--anchor-id",
        "https://trust.yrd.example",
        "--name-zh",
        "长三角生态绿色一体化发展示范区",
        "--name-en",
        "Yangtze River Delta demonstration zone",
    ]);
    for who in ["sh", "js"] {
        zone.operator(&[
            "trust-list",
            "root",
            "sign",
            "--proposal",
            p(&root_proposal),
            "--key",
            p(&zone.path(&format!("{who}.key.json"))),
        ]);
    }
    zone.operator(&[
        "trust-list",
        "root",
        "publish",
        "--proposal",
        p(&root_proposal),
        "--out",
        p(&zone.path("root-1.json")),
    ]);
    {
        let root = std::fs::read_to_string(zone.path("root-1.json")).unwrap();
        zone.files
            .lock()
            .unwrap()
            .push(("/root-1.json".into(), root));
    }
    zone.operator(&[
        "trust-list",
        "init",
        "--list",
        p(&zone.path("zone.json")),
        "--anchor-id",
        "https://trust.yrd.example",
        "--name-zh",
        "长三角生态绿色一体化发展示范区",
        "--name-en",
        "Yangtze River Delta demonstration zone",
    ]);

    // 2. Three provincial services. Qingpu's service lets its agency issue
    //    business licences too, but the zone lists it for marriage
    //    certificates only. Keys are re-read every second (rotation below).
    let fast_keys = [("TONGBAN_ISSUER_KEY_REFRESH_SECS", "1")];
    let agency = |id: &str, zh: &str, en: &str, region: &str, vcts: &[&str]| AgencySetup {
        id: id.into(),
        name_zh: zh.into(),
        name_en: en.into(),
        region: region.into(),
        vcts: vcts.iter().map(|v| (*v).to_owned()).collect(),
        key_alg: None,
    };
    let qingpu = IssuerProcess::start_agency(
        &agency(
            "qingpu-ca",
            "上海市青浦区民政局",
            "Qingpu Civil Affairs Bureau",
            "310118",
            &[MC, BL],
        ),
        &fast_keys,
    );
    let wujiang = IssuerProcess::start_agency(
        &agency(
            "wujiang-amr",
            "苏州市吴江区市场监督管理局",
            "Wujiang AMR",
            "320509",
            &[BL],
        ),
        &fast_keys,
    );
    // Zhejiang's service runs on the national suite: Jiashan's key is SM2
    // (credentials and status lists signed SM2SM3) and its disclosures are
    // SM3-digested; its citizen's wallet holds an SM2 key
    // (specs/credential-format.md §9).
    let jiashan = IssuerProcess::start_agency(
        &AgencySetup {
            key_alg: Some("sm2".into()),
            ..agency(
                "jiashan-tp",
                "嘉善县公安局交通警察大队",
                "Jiashan Traffic Police",
                "330421",
                &[DL],
            )
        },
        &[fast_keys[0], ("TONGBAN_ISSUER_SD_ALG", "sm3")],
    );

    // 3. Registered and signed.
    for (i, zh, en, region, vct, status) in [
        (
            &qingpu,
            "上海市青浦区民政局",
            "Qingpu Civil Affairs Bureau",
            "310118",
            MC,
            true,
        ),
        (
            &wujiang,
            "苏州市吴江区市场监督管理局",
            "Wujiang AMR",
            "320509",
            BL,
            true,
        ),
        (
            &jiashan,
            "嘉善县公安局交通警察大队",
            "Jiashan Traffic Police",
            "330421",
            DL,
            true,
        ),
    ] {
        let iss = i.iss();
        let jwks = format!("{iss}/jwks.json");
        let status_list = format!("{iss}/status/0");
        let draft = zone.path("zone.json");
        let mut args = vec![
            "trust-list",
            "add-issuer",
            "--list",
            p(&draft),
            "--id",
            &iss,
            "--name-zh",
            zh,
            "--name-en",
            en,
            "--region",
            region,
            "--vct",
            vct,
            "--jwks-url",
            &jwks,
            // The operator has compared the printed thumbprints.
            "--yes",
        ];
        if status {
            args.extend(["--status-list", &status_list]);
        }
        zone.operator(&args);
    }
    zone.sign_and_publish();

    // 4. Citizens receive licences over OpenID4VCI.
    let li = zone.path("wallet-li");
    let wang = zone.path("wallet-wang");
    ok(wallet(&li, &["init"]));
    let wang_init = json_of(&ok(wallet(&wang, &["--json", "init", "--key-alg", "sm2"])));
    assert_eq!(wang_init["holder_jwk"]["crv"], "SM2", "{wang_init}");
    let li_bl = receive(&wujiang, &li, "business-licence", 1, true);
    let wang_dl = receive(&jiashan, &wang, "driving-licence", 1, false);
    // Qingpu's marriage certificate keeps its status list alive for sync.
    qingpu.admin_issue(&json!({"vct": MC, "claims": catalogue_claims("marriage-certificate", 1), "holder_jwk": Ed25519Signer::generate(&mut OsRng, None).public_key().to_jwk()}));

    // 5. The Qingpu counter syncs (its only online step).
    zone.sync();

    // 6. It asks for three fields; Li answers with a QR code; verified offline.
    let req = zone.request(
        "bl",
        BL,
        "company_name,unified_social_credit_code,legal_representative",
    );
    let li_png = zone.path("li.png");
    answer(&li, &li_bl, &req, &li_png);
    let (rc, r) = zone.verify(&req, &li_png);
    assert_eq!((rc, r["verdict"].as_str().unwrap()), (0, "accepted"), "{r}");
    // The verdict says which list it relied on, and that two of the three
    // provinces signed it.
    let list = &r["bundle"]["trust_list"];
    assert_eq!(list["threshold"], json!({"k": 2, "n": 3}), "{r}");
    assert_eq!(list["signed_by"].as_array().map(Vec::len), Some(2), "{r}");
    let mut disclosed: Vec<&str> = r["disclosed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    disclosed.sort_unstable();
    assert_eq!(
        disclosed,
        [
            "company_name",
            "legal_representative",
            "unified_social_credit_code"
        ],
        "exactly the requested claims"
    );
    assert_eq!(r["issuer_listing"]["region"], "320509");
    assert!(r["bundle"]["age_secs"].is_i64());
    // The same answer against a fresh request (a new nonce) is a replay.
    let req2 = zone.request(
        "bl2",
        BL,
        "company_name,unified_social_credit_code,legal_representative",
    );
    let (rc, r) = zone.verify(&req2, &li_png);
    assert_eq!((rc, code(&r)), (1, "kb_nonce_mismatch"), "{r}");

    // 7. Suspended, then reinstated: Jiashan's driving licence.
    let dl_req = zone.request("dl", DL, "name,vehicle_class,valid_until");
    let wang_png = zone.path("wang.png");
    answer(&wang, &wang_dl, &dl_req, &wang_png);
    let (_, sm) = zone.verify(&dl_req, &wang_png);
    assert_eq!(sm["verdict"], "accepted", "{sm}");
    assert_eq!(sm["credential"]["alg"], "SM2SM3", "{sm}");
    let dl_admin = admin_id_of_licence(&jiashan, "330421-DL-2026-000001");
    admin(&jiashan, "suspend", &dl_admin);
    zone.sync();
    let (rc, r) = zone.verify(&dl_req, &wang_png);
    assert_eq!((rc, code(&r)), (1, "status_suspended"), "{r}");
    admin(&jiashan, "reinstate", &dl_admin);
    zone.sync();
    assert_eq!(zone.verify(&dl_req, &wang_png).1["verdict"], "accepted");

    // 8. Key rotation at Wujiang: the operator lists the new key too; the
    //    licence signed with the old key still verifies, and so does one
    //    signed with the new key.
    let rotated = json_of(&ok(run(
        "tongban-issuer",
        &[
            "key",
            "rotate",
            "--agency",
            "wujiang-amr",
            "--data-dir",
            p(&wujiang.data_dir()),
            "--json",
        ],
        &[],
    )));
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    zone.operator(&[
        "trust-list",
        "update-issuer",
        "--list",
        p(&zone.path("zone.json")),
        "--id",
        &wujiang.iss(),
        "--jwks-url",
        &format!("{}/jwks.json", wujiang.iss()),
        "--yes",
    ]);
    // This time Shanghai and Zhejiang sign: any two of the three.
    zone.sign_and_publish_by("zj");
    zone.sync();
    let li_bl2 = receive(&wujiang, &li, "business-licence", 2, true);
    let req3 = zone.request("bl3", BL, "company_name");
    let (png_old, png_new) = (zone.path("li-old.png"), zone.path("li-new.png"));
    answer(&li, &li_bl, &req3, &png_old);
    let (_, r) = zone.verify(&req3, &png_old);
    assert_eq!(r["verdict"], "accepted", "old key: {r}");
    let req4 = zone.request("bl4", BL, "company_name");
    answer(&li, &li_bl2, &req4, &png_new);
    let (_, r) = zone.verify(&req4, &png_new);
    assert_eq!(r["verdict"], "accepted", "new key: {r}");
    assert_eq!(r["credential"]["kid"], new_kid);

    // 9. Unauthorised issuers: Qingpu for a type it is not listed for, and a
    //    service nobody listed.
    let zhao = zone.path("wallet-zhao");
    ok(wallet(&zhao, &["init"]));
    let qingpu_bl = receive(&qingpu, &zhao, "business-licence", 7, false);
    let req5 = zone.request("bl5", BL, "company_name");
    let zhao_png = zone.path("zhao.png");
    answer(&zhao, &qingpu_bl, &req5, &zhao_png);
    let (rc, r) = zone.verify(&req5, &zhao_png);
    assert_eq!((rc, code(&r)), (1, "vct_not_authorised"), "{r}");
    let rogue = IssuerProcess::start();
    let rogue_bl = receive(&rogue, &zhao, "business-licence", 8, false);
    let req6 = zone.request("bl6", BL, "company_name");
    answer(&zhao, &rogue_bl, &req6, &zhao_png);
    let (rc, r) = zone.verify(&req6, &zhao_png);
    assert_eq!((rc, code(&r)), (1, "issuer_unknown"), "{r}");

    // 10. Someone else's credential: Zhao holds a copy of a licence bound to
    //     Li's key and signs the key binding with his own.
    let li_key = json_of(&ok(wallet(&li, &["holder-key"])));
    let copy = wujiang.admin_issue(
        &json!({"vct": BL, "claims": catalogue_claims("business-licence", 3), "holder_jwk": li_key}),
    );
    let held = HeldCredential::parse(copy["credential"].as_str().unwrap()).unwrap();
    let req7 = zone.request("bl7", BL, "company_name");
    let request_text = std::fs::read_to_string(&req7).unwrap();
    let request =
        tongban_verifier::request::PresentationRequest::parse(request_text.trim()).unwrap();
    let zhao_key = Ed25519Signer::generate(&mut OsRng, None);
    let kb = KeyBinding {
        signer: &zhao_key,
        audience: request.aud.clone(),
        nonce: request.nonce.clone(),
        iat: tongban_cli_support::time::now(),
        transaction_data_hashes: Vec::new(),
    };
    let paths: Vec<_> = held
        .disclosable_paths()
        .iter()
        .filter(|p| p.to_string() == "company_name")
        .cloned()
        .collect();
    let stolen = held.present(&paths, Some(&kb)).unwrap();
    let stolen_file = zone.path("stolen.txt");
    std::fs::write(&stolen_file, &stolen).unwrap();
    let (rc, r) = zone.verify(&req7, &stolen_file);
    assert_eq!((rc, code(&r)), (1, "kb_signature_invalid"), "{r}");

    // 11. Revocation: Wujiang revokes Li's first licence; after a re-sync the
    //     counter rejects it, while the second one still verifies.
    admin(
        &wujiang,
        "revoke",
        &admin_id_of_licence(&wujiang, "320509-BL-2026-000001"),
    );
    zone.sync();
    let (rc, r) = zone.verify(&req3, &png_old);
    assert_eq!((rc, code(&r)), (1, "status_revoked"), "{r}");
    let (_, r) = zone.verify(&req4, &png_new);
    assert_eq!(r["verdict"], "accepted");
    drop((qingpu, wujiang, jiashan, rogue));
}

/// `scripts/demo.sh`, the newcomer's one command, keeps working.
#[test]
fn the_demo_script_runs() {
    let out = Command::new("bash")
        .arg(tongban_test_support::workspace_root().join("scripts/demo.sh"))
        .env_remove("TONGBAN_WALLET_PASSPHRASE")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "1. The demonstration zone's trust anchor",
        "6. The counter asks",
        "核验通过",
        "7. Online: a Shanghai agency asks for the Jiangsu licence",
        "the back office reads the outcome: accepted",
        "status_revoked",
        "== Done",
    ] {
        assert!(
            text.contains(step),
            "{step:?} missing from the demo's output:\n{text}"
        );
    }
}
