//! Receiving agencies in the trust list, end to end with the real binaries:
//! the operator registers an agency and its service item
//! (`tongban-issuer trust-list add-verifier`), signs the list, the citizen's
//! wallet imports it, the counter signs its request with its registered key
//! (`tongban-verify request --sign-key`), and the wallet shows who asks and
//! refuses what the agreement does not cover: one claim too many, a forged
//! signature, an unknown agency, a revoked key, an expired registration, an
//! old list replayed. Every refusal leaves the wallet unchanged except a
//! line of history.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use tongban_e2e::cli::{self, json_of, ok, p};
use tongban_test_support::sample::catalogue_samples;
use tongban_verifier::*;

const PASS: &str = "correct horse battery staple";
const AUD: &str = "https://counter.qingpu.example/window-3";
const ISS: &str = "https://amr.wujiang.example";
const VCT: &str = "urn:tongban:business-licence:1";
const QINGPU: &str = "https://amr.qingpu.example";
const ITEM: &str = "310118-food-permit";

fn run(bin: &str, args: &[&str]) -> Output {
    cli::run(bin, PASS, args)
}

/// The zone: an anchor, one issuer, the Qingpu agency with its counter key
/// and one service item, signed as list #1.
struct Zone {
    dir: PathBuf,
    draft: PathBuf,
    anchor_key: PathBuf,
    anchor_pub: PathBuf,
    counter_key: PathBuf,
    issuer: Ed25519Signer,
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

fn private_jwk(s: &Ed25519Signer, kid: &str) -> Value {
    let mut jwk = s.to_private_jwk();
    jwk["kid"] = json!(kid);
    jwk
}

fn public_jwk(s: &Ed25519Signer, kid: &str) -> Value {
    let mut jwk = s.public_key().to_jwk();
    jwk["kid"] = json!(kid);
    jwk
}

fn items(claims: &[&str]) -> Value {
    json!([{
        "id": ITEM,
        "name_zh": "食品经营许可证核发",
        "name_en": "Food business permit",
        "purpose_zh": "依据《食品安全法》第三十五条核验经营主体",
        "purpose_en": "Verify the business under Food Safety Law art. 35",
        "licences": [{"vct": VCT, "claims": claims, "holder_binding_required": true}]
    }])
}

impl Zone {
    fn new(dir: &Path) -> Zone {
        let z = Zone {
            dir: dir.to_owned(),
            draft: dir.join("draft.json"),
            anchor_key: dir.join("anchor.jwk"),
            anchor_pub: dir.join("anchor.pub.jwk"),
            counter_key: dir.join("counter.jwk"),
            issuer: Ed25519Signer::from_seed(&[0x11; 32], Some("wj-1".into())),
        };
        ok(run(
            "tongban-issuer",
            &[
                "trust-list",
                "anchor-key",
                "--out",
                p(&z.anchor_key),
                "--public-out",
                p(&z.anchor_pub),
                "--kid",
                "yrd-1",
            ],
        ));
        ok(run(
            "tongban-issuer",
            &[
                "trust-list",
                "init",
                "--list",
                p(&z.draft),
                "--anchor-id",
                "https://trust.yrd.example",
                "--name-zh",
                "长三角示范区",
                "--name-en",
                "YRD zone",
            ],
        ));
        let issuer_pub = dir.join("issuer.pub.jwk");
        write_json(&issuer_pub, &public_jwk(&z.issuer, "wj-1"));
        ok(run(
            "tongban-issuer",
            &[
                "trust-list",
                "add-issuer",
                "--list",
                p(&z.draft),
                "--id",
                ISS,
                "--name-zh",
                "苏州市吴江区市场监督管理局",
                "--name-en",
                "Wujiang AMR",
                "--region",
                "320509",
                "--vct",
                VCT,
                "--jwk",
                p(&issuer_pub),
                "--not-before",
                "1700000000",
            ],
        ));
        let counter = Ed25519Signer::from_seed(&[0x31; 32], None);
        write_json(&z.counter_key, &private_jwk(&counter, "qp-counter-1"));
        let counter_pub = dir.join("counter.pub.jwk");
        write_json(&counter_pub, &public_jwk(&counter, "qp-counter-1"));
        let items_file = dir.join("items.json");
        write_json(
            &items_file,
            &items(&["company_name", "unified_social_credit_code"]),
        );
        let added = json_of(&ok(run(
            "tongban-issuer",
            &[
                "trust-list",
                "add-verifier",
                "--json",
                "--list",
                p(&z.draft),
                "--id",
                QINGPU,
                "--name-zh",
                "上海市青浦区市场监督管理局",
                "--name-en",
                "Qingpu Administration for Market Regulation",
                "--region",
                "310118",
                "--jwk",
                p(&counter_pub),
                "--service-items",
                p(&items_file),
                "--not-before",
                "1700000000",
            ],
        )));
        assert_eq!(added["verifier"]["service_items"][0]["id"], ITEM);
        z
    }

    /// Signs the next list from the draft; returns its file.
    fn sign(&self, name: &str) -> PathBuf {
        let out = self.dir.join(name);
        ok(run(
            "tongban-issuer",
            &[
                "trust-list",
                "sign",
                "--list",
                p(&self.draft),
                "--anchor-key",
                p(&self.anchor_key),
                "--out",
                p(&out),
            ],
        ));
        out
    }

    fn operator(&self, args: &[&str]) {
        let mut all = vec!["trust-list"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--list", p(&self.draft)]);
        ok(run("tongban-issuer", &all));
    }
}

/// A wallet holding the Qingpu business licence `c1`.
fn wallet_with_licence(z: &Zone) -> PathBuf {
    let w = z.dir.join("wallet");
    let init = json_of(&ok(run(
        "tongban-wallet",
        &["--wallet", p(&w), "--json", "init"],
    )));
    let claims = catalogue_samples()["business-licence"]
        .as_object()
        .cloned()
        .unwrap();
    let now = tongban_cli_support::time::now();
    let issued = CredentialBuilder::new(ISS, VCT, now - 60)
        .expires_at(now + 365 * 86_400)
        .holder_key(PublicKey::from_jwk(&init["holder_jwk"]).unwrap())
        .claims(claims)
        .issue(&z.issuer, &mut rand::rngs::OsRng)
        .unwrap();
    let cred = z.dir.join("licence.sdjwt");
    std::fs::write(&cred, issued.sd_jwt).unwrap();
    let key = z.dir.join("issuer.pub.jwk");
    ok(run(
        "tongban-wallet",
        &[
            "--wallet",
            p(&w),
            "receive",
            "--file",
            p(&cred),
            "--issuer-key",
            p(&key),
        ],
    ));
    w
}

fn wallet(w: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--wallet", p(w)];
    all.extend_from_slice(args);
    run("tongban-wallet", &all)
}

/// A counter request, signed with `key` (as `verifier`) unless `None`.
fn request(dir: &Path, name: &str, claims: &str, key: Option<(&Path, &str)>) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec![
        "request",
        "--aud",
        AUD,
        "--vct",
        VCT,
        "--claims",
        claims,
        "--out",
        p(&out),
    ];
    if let Some((key, verifier)) = key {
        args.extend_from_slice(&[
            "--sign-key",
            p(key),
            "--verifier",
            verifier,
            "--service-item",
            ITEM,
        ]);
    }
    ok(run("tongban-verify", &args));
    out
}

fn present(w: &Path, req: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["--json", "present", "c1", "--request", p(req), "--yes"];
    args.extend_from_slice(extra);
    wallet(w, &args)
}

/// What must not change on a refusal: the credentials and the trust list.
fn state(w: &Path) -> (Value, Value) {
    (
        json_of(&ok(wallet(w, &["--json", "list"]))),
        json_of(&ok(wallet(w, &["--json", "trust-list", "show"]))),
    )
}

fn history(w: &Path) -> Vec<Value> {
    json_of(&ok(wallet(w, &["--json", "history"])))["history"]
        .as_array()
        .cloned()
        .unwrap()
}

/// A refusal with `code`: exit 1, the code in the JSON error, the wallet's
/// credentials and trust list unchanged, one more history line saying so.
fn assert_refused(w: &Path, out: &Output, code: &str) -> Value {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["error"]["code"], code, "{e}");
    let last = history(w).last().cloned().unwrap();
    assert_eq!(last["outcome"], "refused");
    assert_eq!(last["code"], code);
    e
}

#[test]
fn a_registered_counter_is_named_and_held_to_its_agreement() {
    let tmp = tempfile::tempdir().unwrap();
    let z = Zone::new(tmp.path());
    let list1 = z.sign("trust-list-1.jwt");
    let w = wallet_with_licence(&z);
    let shown = json_of(&ok(wallet(
        &w,
        &[
            "--json",
            "trust-list",
            "import",
            "--file",
            p(&list1),
            "--anchor-key",
            p(&z.anchor_pub),
        ],
    )));
    assert_eq!(shown["version"], 5);
    assert_eq!(shown["verifiers"][0]["id"], QINGPU);

    // Within the agreement: accepted, the registered names shown.
    let key = (z.counter_key.as_path(), QINGPU);
    let req = request(tmp.path(), "ok.tbr", "company_name", Some(key));
    let out = ok(present(&w, &req, &[]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for shown in [
        "上海市青浦区市场监督管理局",
        "Qingpu Administration for Market Regulation",
        "310118",
        "食品经营许可证核发",
        "Food business permit",
        "食品安全法",
    ] {
        assert!(stderr.contains(shown), "{shown} not shown:\n{stderr}");
    }
    let h = history(&w);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["outcome"], "presented");
    assert_eq!(h[0]["verifier"], QINGPU);
    assert_eq!(h[0]["service_item"], ITEM);
    assert_eq!(h[0]["claims"], json!(["company_name"]));
    assert_eq!(h[0]["requester_verified"], true);

    // One claim too many: refused, the excess listed, nothing but history changed.
    let before = state(&w);
    let req = request(
        tmp.path(),
        "greedy.tbr",
        "company_name,legal_representative",
        Some(key),
    );
    let e = assert_refused(&w, &present(&w, &req, &[]), "claims_not_registered");
    assert_eq!(
        e["error"]["excess"],
        json!([format!("{VCT} legal_representative")])
    );
    assert_eq!(state(&w), before);
    // The citizen may insist; the history says so.
    ok(present(&w, &req, &["--allow-unregistered"]));
    let last = history(&w).last().cloned().unwrap();
    assert_eq!(last["outcome"], "presented");
    assert_eq!(last["allow_unregistered"], true);
    assert_eq!(
        last["excess"],
        json!([format!("{VCT} legal_representative")])
    );

    // An unsigned request still works, marked as an unverified requester.
    let req = request(tmp.path(), "unsigned.tbr", "company_name", None);
    let out = ok(present(&w, &req, &[]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("UNVERIFIED REQUESTER"));
    assert_eq!(history(&w).last().unwrap()["requester_verified"], false);

    // Forged: another key under the registered kid.
    let thief = Ed25519Signer::from_seed(&[0x66; 32], None);
    let thief_key = tmp.path().join("thief.jwk");
    write_json(&thief_key, &private_jwk(&thief, "qp-counter-1"));
    let before = state(&w);
    let req = request(
        tmp.path(),
        "forged.tbr",
        "company_name",
        Some((&thief_key, QINGPU)),
    );
    assert_refused(&w, &present(&w, &req, &[]), "request_signature_invalid");
    // An agency the list does not know.
    let req = request(
        tmp.path(),
        "stranger.tbr",
        "company_name",
        Some((&z.counter_key, "https://amr.fake.example")),
    );
    assert_refused(&w, &present(&w, &req, &[]), "requester_unknown");
    assert_eq!(state(&w), before);

    // The counter's key is reported compromised: list #2 refuses it.
    z.operator(&[
        "update-verifier",
        "--id",
        QINGPU,
        "--compromised",
        "qp-counter-1",
    ]);
    let list2 = z.sign("trust-list-2.jwt");
    ok(wallet(&w, &["trust-list", "import", "--file", p(&list2)]));
    let before = state(&w);
    let req = request(tmp.path(), "revoked.tbr", "company_name", Some(key));
    assert_refused(&w, &present(&w, &req, &[]), "requester_key_revoked");
    assert_eq!(state(&w), before);

    // Replaying list #1 (where the key was good) is refused: rollback.
    let out = wallet(&w, &["--json", "trust-list", "import", "--file", p(&list1)]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(json_of(&out)["error"]["code"], "trust_list_rollback");
    assert_eq!(state(&w), before);
}

#[test]
fn an_expired_registration_and_a_removed_agency_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let z = Zone::new(tmp.path());
    let now = tongban_cli_support::time::now();
    // The registration ended an hour ago.
    let ended = (now - 3600).to_string();
    z.operator(&["update-verifier", "--id", QINGPU, "--not-after", &ended]);
    let list1 = z.sign("trust-list-1.jwt");
    let w = wallet_with_licence(&z);
    ok(wallet(
        &w,
        &[
            "trust-list",
            "import",
            "--file",
            p(&list1),
            "--anchor-key",
            p(&z.anchor_pub),
        ],
    ));
    let key = (z.counter_key.as_path(), QINGPU);
    let req = request(tmp.path(), "late.tbr", "company_name", Some(key));
    assert_refused(
        &w,
        &present(&w, &req, &[]),
        "requester_registration_expired",
    );

    // Renewed in list #2, then removed in list #3: refused again, and #2
    // cannot be replayed to bring it back.
    let later = (now + 86_400).to_string();
    z.operator(&["update-verifier", "--id", QINGPU, "--not-after", &later]);
    let list2 = z.sign("trust-list-2.jwt");
    ok(wallet(&w, &["trust-list", "import", "--file", p(&list2)]));
    ok(present(&w, &req, &[]));
    z.operator(&["remove-verifier", "--id", QINGPU]);
    let list3 = z.sign("trust-list-3.jwt");
    ok(wallet(&w, &["trust-list", "import", "--file", p(&list3)]));
    assert_refused(&w, &present(&w, &req, &[]), "requester_unknown");
    let out = wallet(&w, &["--json", "trust-list", "import", "--file", p(&list2)]);
    assert_eq!(json_of(&out)["error"]["code"], "trust_list_rollback");
    assert_refused(&w, &present(&w, &req, &[]), "requester_unknown");
}
