//! Trust across provinces, end to end with the real binaries: the operator
//! builds and signs a trust list for the Yangtze River Delta demonstration
//! zone with `tongban-issuer trust-list`, a Qingpu counter syncs a bundle
//! with `tongban-verify sync` (from a loopback HTTP server) or
//! `bundle import`, and verifies presentations offline against it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tongban_e2e::cli;
use tongban_e2e::serve_http as serve;
use tongban_test_support::keys::public_jwk;
use tongban_test_support::present::{Audience, present};
use tongban_test_support::zone::{self, Agency};
use tongban_verifier::status::Bits;
use tongban_verifier::*;

const DAY: i64 = 86_400;
const AUD: &str = "https://counter.qingpu.example";
const NONCE: &str = "qp-0001";
const BL: &str = zone::BUSINESS_LICENCE;

fn run(bin: &str, args: &[&str]) -> Output {
    cli::run(bin, "", args)
}

fn ok(out: &Output) -> String {
    cli::stdout_of(&cli::ok(out.clone()))
}

struct Zone {
    dir: tempfile::TempDir,
    agencies: Vec<Agency>,
    base: String,
    served: Arc<Mutex<Vec<(String, String)>>>,
    statuses: Vec<StatusList>,
    holder: Ed25519Signer,
}

impl Zone {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn status_uri(&self, i: usize) -> String {
        format!("{}/status/{}", self.base, self.agencies[i].region)
    }

    /// The operator's session: anchor key, draft, three issuers, signed list.
    fn operator_setup(&self) {
        ok(&run(
            "tongban-issuer",
            &[
                "trust-list",
                "anchor-key",
                "--out",
                &self.p("anchor.key.json"),
                "--public-out",
                &self.p("anchor.jwk.json"),
                "--kid",
                "yrd-1",
            ],
        ));
        ok(&run(
            "tongban-issuer",
            &[
                "trust-list",
                "init",
                "--list",
                &self.p("zone.json"),
                "--anchor-id",
                zone::ANCHOR_ID,
                "--name-zh",
                zone::ANCHOR_NAME_ZH,
                "--name-en",
                zone::ANCHOR_NAME_EN,
            ],
        ));
        for (i, a) in self.agencies.iter().enumerate() {
            let jwk = public_jwk(&a.signer);
            let jwk_file = self.path(&format!("{}.jwk.json", a.region));
            std::fs::write(&jwk_file, jwk.to_string()).unwrap();
            let uri = self.status_uri(i);
            ok(&run(
                "tongban-issuer",
                &[
                    "trust-list",
                    "add-issuer",
                    "--list",
                    &self.p("zone.json"),
                    "--id",
                    a.id,
                    "--name-zh",
                    a.name_zh,
                    "--name-en",
                    a.name_en,
                    "--region",
                    a.region,
                    "--vct",
                    a.vct,
                    "--jwk",
                    jwk_file.to_str().unwrap(),
                    "--status-list",
                    &uri,
                    "--not-before",
                    "2020-01-01T00:00:00Z",
                ],
            ));
        }
        self.sign_list();
    }

    fn sign_list(&self) {
        let out = ok(&run(
            "tongban-issuer",
            &[
                "trust-list",
                "sign",
                "--list",
                &self.p("zone.json"),
                "--anchor-key",
                &self.p("anchor.key.json"),
                "--out",
                &self.p("trust-list.jwt"),
                "--json",
            ],
        ));
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v["sequence"].as_u64().unwrap() >= 1);
        self.publish();
    }

    /// What the agencies and the operator publish: the trust list and each
    /// agency's status list token (signed by the agency's key).
    fn publish(&self) {
        let now = tongban_cli_support::time::now();
        let mut files = vec![(
            "/trust-list.jwt".to_string(),
            std::fs::read_to_string(self.path("trust-list.jwt")).unwrap(),
        )];
        for (i, a) in self.agencies.iter().enumerate() {
            let jwt = StatusListToken::sign(
                &a.signer,
                a.id,
                &self.status_uri(i),
                now - 60,
                Some(now + DAY),
                Some(3600),
                &self.statuses[i],
            )
            .unwrap();
            std::fs::write(self.path(&format!("status-{}.jwt", a.region)), &jwt).unwrap();
            files.push((format!("/status/{}", a.region), jwt));
        }
        *self.served.lock().unwrap() = files;
    }

    fn present(&self, i: usize, vct: &str, idx: u64) -> PathBuf {
        let a = &self.agencies[i];
        let now = tongban_cli_support::time::now();
        let issued = CredentialBuilder::new(a.id, vct, now - DAY)
            .expires_at(now + 365 * DAY)
            .holder_key(self.holder.public_key())
            .status(json!({"status_list": {"idx": idx, "uri": self.status_uri(i)}}))
            .claim("company_name", json!("示范科技有限公司"))
            .claim("legal_representative", json!("王芳"))
            .issue(&a.signer, &mut rand::rngs::OsRng)
            .unwrap();
        let to = Audience {
            aud: AUD,
            nonce: NONCE,
            iat: now,
        };
        let p = present(&issued.sd_jwt, &["company_name"], &self.holder, to).unwrap();
        let file = self.path(&format!("presentation-{i}-{idx}.txt"));
        std::fs::write(&file, p).unwrap();
        file
    }

    fn verify(&self, presentation: &Path, extra: &[&str]) -> (Option<i32>, Value) {
        let bundle = self.p("bundle");
        let anchor = self.p("anchor.jwk.json");
        let mut args = vec![
            "verify",
            "--bundle",
            &bundle,
            "--anchor-key",
            &anchor,
            "--aud",
            AUD,
            "--nonce",
            NONCE,
            "--json",
        ];
        args.extend_from_slice(extra);
        let p = presentation.display().to_string();
        args.push(&p);
        let out = run("tongban-verify", &args);
        (
            out.status.code(),
            serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        )
    }

    fn sync(&self) -> Output {
        run(
            "tongban-verify",
            &[
                "sync",
                "--trust-list",
                &format!("{}/trust-list.jwt", self.base),
                "--anchor-key",
                &self.p("anchor.jwk.json"),
                "--bundle",
                &self.p("bundle"),
            ],
        )
    }
}

fn zone() -> Zone {
    let served = Arc::new(Mutex::new(Vec::new()));
    let base = serve(served.clone()).unwrap();
    let z = Zone {
        dir: tempfile::tempdir().unwrap(),
        agencies: zone::agencies(),
        base,
        served,
        statuses: (0..3)
            .map(|_| StatusList::new(Bits::new(2).unwrap(), 4096))
            .collect(),
        holder: zone::holder(),
    };
    z.operator_setup();
    z
}

#[test]
fn sync_then_verify_offline_across_provinces() {
    let mut z = zone();
    let out = z.sync();
    let text = ok(&out);
    assert!(
        text.contains("3 issuers") && text.contains("3 status lists"),
        "{text}"
    );

    // A Wujiang business licence checked at a Qingpu counter.
    let (code, report) = z.verify(&z.present(1, BL, 10), &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["issuer_listing"]["region"], "320509");
    assert_eq!(
        report["issuer_listing"]["name_zh"],
        "苏州市吴江区市场监督管理局"
    );
    assert!(report["bundle"]["age_secs"].as_i64().unwrap() >= 0);
    let status = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "status")
        .unwrap();
    assert_eq!(status["outcome"], "passed");
    let schema = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "schema")
        .unwrap();
    assert_eq!(schema["outcome"], "passed");

    // The clerk's view shows the issuer and the bundle's age.
    let p = z.present(1, BL, 11);
    let out = run(
        "tongban-verify",
        &[
            "verify",
            "--bundle",
            &z.p("bundle"),
            "--anchor-key",
            &z.p("anchor.jwk.json"),
            "--aud",
            AUD,
            "--nonce",
            NONCE,
            p.to_str().unwrap(),
        ],
    );
    let human = ok(&out);
    assert!(
        human.contains("苏州市吴江区市场监督管理局") && human.contains("信任包 Trust bundle: #1"),
        "{human}"
    );

    // Jiashan police may not issue business licences.
    let (code, report) = z.verify(&z.present(2, BL, 1), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(report["rejection"]["code"], "vct_not_authorised");

    // Revoke one credential and suspend another at Wujiang, republish,
    // re-sync: both are refused with their own codes.
    let revoked = z.present(1, BL, 20);
    let suspended = z.present(1, BL, 21);
    assert_eq!(z.verify(&revoked, &[]).0, Some(0));
    z.statuses[1].set(20, 1);
    z.statuses[1].set(21, 2);
    z.publish();
    ok(&z.sync());
    let (code, report) = z.verify(&revoked, &[]);
    assert_eq!(
        (code, report["rejection"]["code"].as_str()),
        (Some(1), Some("status_revoked"))
    );
    let (code, report) = z.verify(&suspended, &[]);
    assert_eq!(
        (code, report["rejection"]["code"].as_str()),
        (Some(1), Some("status_suspended"))
    );

    // Two hours later, past the lists' ttl (one hour) but not their exp (a
    // day): still fresh; the ttl only says when to refetch.
    let fresh = z.present(1, BL, 30);
    let two_hours = (tongban_cli_support::time::now() + 7200).to_string();
    let (code, report) = z.verify(&fresh, &["--at", &two_hours, "--kb-max-age", "100000"]);
    assert_eq!(code, Some(0), "{report}");
    // A counter that sets a shorter maximum age finds them stale.
    let (code, report) = z.verify(
        &fresh,
        &[
            "--at",
            &two_hours,
            "--kb-max-age",
            "100000",
            "--status-max-age",
            "1h",
        ],
    );
    assert_eq!(
        (code, report["rejection"]["code"].as_str()),
        (Some(1), Some("status_stale"))
    );
    // A stale bundle: checked two days later (past the lists' exp).
    let later = (tongban_cli_support::time::now() + 2 * DAY).to_string();
    let (code, report) = z.verify(&fresh, &["--at", &later, "--kb-max-age", "300000"]);
    assert_eq!(
        (code, report["rejection"]["code"].as_str()),
        (Some(1), Some("status_stale"))
    );
    let (code, report) = z.verify(
        &fresh,
        &["--at", &later, "--kb-max-age", "300000", "--stale", "warn"],
    );
    assert_eq!(code, Some(0));
    assert_eq!(report["warnings"][0]["code"], "status_stale");
}

#[test]
fn rollback_and_tampering_are_refused_and_the_old_bundle_stays() {
    let z = zone();
    ok(&z.sync());
    let first_list = std::fs::read_to_string(z.path("trust-list.jwt")).unwrap();
    // The operator signs #2; the counter syncs it.
    z.sign_list();
    ok(&z.sync());
    let good = z.present(0, BL, 1);
    assert_eq!(z.verify(&good, &[]).0, Some(0));

    // An attacker serves the old list #1: refused, the bundle keeps #2.
    z.served.lock().unwrap()[0].1 = first_list;
    let out = z.sync();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("trust_list_rollback"));
    let (code, report) = z.verify(&good, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(report["bundle"]["sequence"], 2);

    // A status list tampered on the counter's disk: the bundle is refused whole.
    let bundle = z.path("bundle");
    let victim = std::fs::read_dir(&bundle)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("status-"))
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&victim).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x01;
    std::fs::write(&victim, bytes).unwrap();
    let out = run(
        "tongban-verify",
        &[
            "verify",
            "--bundle",
            bundle.to_str().unwrap(),
            "--anchor-key",
            &z.p("anchor.jwk.json"),
            "--aud",
            AUD,
            "--nonce",
            NONCE,
            good.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bundle_file_tampered"));
    // A fresh sync (of the genuine list again) repairs it.
    z.publish();
    ok(&z.sync());
    assert_eq!(z.verify(&good, &[]).0, Some(0));
}

#[test]
fn air_gapped_import_show_and_key_revocation() {
    let z = zone();
    let mut args = vec![
        "bundle".to_string(),
        "import".into(),
        "--trust-list".into(),
        z.p("trust-list.jwt"),
        "--anchor-key".into(),
        z.p("anchor.jwk.json"),
        "--bundle".into(),
        z.p("bundle"),
    ];
    for a in &z.agencies {
        args.push("--status-list".into());
        args.push(z.p(&format!("status-{}.jwt", a.region)));
    }
    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&run("tongban-verify", &args_ref));
    let shown = ok(&run(
        "tongban-verify",
        &[
            "bundle",
            "show",
            "--bundle",
            &z.p("bundle"),
            "--anchor-key",
            &z.p("anchor.jwk.json"),
            "--json",
        ],
    ));
    let v: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(v["issuers"].as_array().unwrap().len(), 3);
    assert_eq!(v["status_lists"].as_array().unwrap().len(), 3);

    let p = z.present(1, BL, 3);
    assert_eq!(z.verify(&p, &[]).0, Some(0));

    // Wujiang's key is compromised: the operator revokes it from now on.
    ok(&run(
        "tongban-issuer",
        &[
            "trust-list",
            "update-issuer",
            "--list",
            &z.p("zone.json"),
            "--id",
            z.agencies[1].id,
            "--revoke-key",
            "wj-1",
            "--at",
            "2020-06-01T00:00:00Z",
        ],
    ));
    z.sign_list();
    // A missing status list is refused on import (incomplete bundle).
    let out = run(
        "tongban-verify",
        &[
            "bundle",
            "import",
            "--trust-list",
            &z.p("trust-list.jwt"),
            "--anchor-key",
            &z.p("anchor.jwk.json"),
            "--bundle",
            &z.p("bundle"),
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "bundle_incomplete");
    // Wujiang's own status list is now signed by a revoked key: the whole
    // sync is refused, and the operator must drop or re-key the agency.
    let out = z.sync();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("status_list_signature_invalid"));
    ok(&run(
        "tongban-issuer",
        &[
            "trust-list",
            "remove-issuer",
            "--list",
            &z.p("zone.json"),
            "--id",
            z.agencies[1].id,
        ],
    ));
    z.sign_list();
    ok(&z.sync());
    let (code, report) = z.verify(&p, &[]);
    assert_eq!(
        (code, report["rejection"]["code"].as_str()),
        (Some(1), Some("issuer_unknown"))
    );
}

#[test]
fn issuer_tool_refuses_bad_changes_without_writing() {
    let z = zone();
    let before = std::fs::read(z.path("zone.json")).unwrap();
    let out = run(
        "tongban-issuer",
        &[
            "trust-list",
            "add-issuer",
            "--list",
            &z.p("zone.json"),
            "--id",
            z.agencies[0].id,
            "--name-zh",
            "x",
            "--name-en",
            "x",
            "--region",
            "310118",
            "--vct",
            BL,
            "--jwk",
            &z.p("310118.jwk.json"),
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "issuer_exists");
    let out = run(
        "tongban-issuer",
        &[
            "trust-list",
            "update-issuer",
            "--list",
            &z.p("zone.json"),
            "--id",
            z.agencies[0].id,
            "--region",
            "31",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read(z.path("zone.json")).unwrap(),
        before,
        "nothing written"
    );
    // The anchor key is never overwritten.
    let out = run(
        "tongban-issuer",
        &["trust-list", "anchor-key", "--out", &z.p("anchor.key.json")],
    );
    assert_eq!(out.status.code(), Some(2));
    // Key rotation from the agency's published JWKS: the new kid is added,
    // the known one kept.
    let new = Ed25519Signer::from_seed(&[34; 32], Some("qp-2".into()));
    let mut jwks =
        json!({"keys": [z.agencies[0].signer.public_key().to_jwk(), new.public_key().to_jwk()]});
    jwks["keys"][0]["kid"] = json!("qp-1");
    jwks["keys"][1]["kid"] = json!("qp-2");
    z.served
        .lock()
        .unwrap()
        .push(("/qp/jwks.json".into(), jwks.to_string()));
    let out = ok(&run(
        "tongban-issuer",
        &[
            "trust-list",
            "update-issuer",
            "--list",
            &z.p("zone.json"),
            "--id",
            z.agencies[0].id,
            "--jwks-url",
            &format!("{}/qp/jwks.json", z.base),
            "--yes",
            "--json",
        ],
    ));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["added_keys"], json!(["qp-2"]));
    assert_eq!(v["issuer"]["keys"].as_array().unwrap().len(), 2);
    // A signed list verifies with `show --signed`.
    let shown = ok(&run(
        "tongban-issuer",
        &[
            "trust-list",
            "show",
            "--signed",
            &z.p("trust-list.jwt"),
            "--anchor-public-key",
            &z.p("anchor.jwk.json"),
            "--json",
        ],
    ));
    let v: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(v["verified"], true);
}

/// The zone's three provinces govern the list together: 2 of 3 operators
/// must sign. Then Zhejiang's operator leaves (a new root with Anhui's),
/// and a counter pinned to the first root follows the rotation offline
/// from a bundle.
#[test]
fn three_provinces_sign_two_of_three_and_rotate_offline() {
    let z = zone();
    let tl = |args: &[&str]| run("tongban-issuer", &[&["trust-list"], args].concat());
    // Each province's operator makes an anchor key.
    for p in ["sh", "js", "zj", "ah"] {
        ok(&tl(&[
            "anchor-key",
            "--out",
            &z.p(&format!("{p}.key.json")),
            "--public-out",
            &z.p(&format!("{p}.jwk.json")),
            "--kid",
            &format!("{p}-ops-1"),
        ]));
    }
    // Root 1: Shanghai, Jiangsu, Zhejiang, 2 of 3.
    ok(&tl(&[
        "root",
        "propose",
        "--out",
        &z.p("root1.proposal.json"),
        "--key",
        &z.p("sh.jwk.json"),
        "--key",
        &z.p("js.jwk.json"),
        "--key",
        &z.p("zj.jwk.json"),
        "--threshold",
        "2",
        "--anchor-id",
        zone::ANCHOR_ID,
        "--name-zh",
        zone::ANCHOR_NAME_ZH,
        "--name-en",
        zone::ANCHOR_NAME_EN,
    ]));
    for p in ["sh", "js"] {
        ok(&tl(&[
            "root",
            "sign",
            "--proposal",
            &z.p("root1.proposal.json"),
            "--key",
            &z.p(&format!("{p}.key.json")),
        ]));
    }
    ok(&tl(&[
        "root",
        "publish",
        "--proposal",
        &z.p("root1.proposal.json"),
        "--out",
        &z.p("root-1.json"),
    ]));

    // A list proposal: refused with one signature, refused with the same
    // key twice, published with two; a stolen single key cannot publish.
    let propose = |name: &str| {
        ok(&tl(&[
            "propose",
            "--list",
            &z.p("zone.json"),
            "--root",
            &z.p("root-1.json"),
            "--out",
            &z.p(name),
        ]))
    };
    propose("p1.json");
    let sign = |name: &str, who: &str| {
        tl(&[
            "sign",
            "--proposal",
            &z.p(name),
            "--key",
            &z.p(&format!("{who}.key.json")),
            "--root",
            &z.p("root-1.json"),
            "--json",
        ])
    };
    let publish = |name: &str, out: &str| {
        tl(&[
            "publish",
            "--proposal",
            &z.p(name),
            "--root",
            &z.p("root-1.json"),
            "--out",
            &z.p(out),
            "--json",
        ])
    };
    ok(&sign("p1.json", "zj"));
    let before = std::fs::read(z.path("p1.json")).unwrap();
    let out = sign("p1.json", "zj");
    assert_eq!(out.status.code(), Some(2));
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "already_signed");
    let out = sign("p1.json", "ah");
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "signer_not_anchor");
    assert_eq!(
        std::fs::read(z.path("p1.json")).unwrap(),
        before,
        "nothing written"
    );
    let out = publish("p1.json", "trust-list.json");
    assert_eq!(out.status.code(), Some(2));
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "trust_list_threshold_not_met");
    assert!(!z.path("trust-list.json").exists(), "nothing written");
    // The reviewer's view: the diff against the list signed at setup.
    let shown = ok(&tl(&[
        "show",
        "--proposal",
        &z.p("p1.json"),
        "--root",
        &z.p("root-1.json"),
        "--diff",
        &z.p("trust-list.jwt"),
        "--json",
    ]));
    let v: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(v["ready"], false);
    assert_eq!(v["threshold"]["k"], 2);
    let shown = ok(&tl(&[
        "show",
        "--proposal",
        &z.p("p1.json"),
        "--root",
        &z.p("root-1.json"),
        "--diff",
        &z.p("trust-list.jwt"),
    ]));
    assert!(
        shown.contains("签名") && shown.contains("signatures: 1/3"),
        "{shown}"
    );
    ok(&sign("p1.json", "sh"));
    let published: Value =
        serde_json::from_str(&ok(&publish("p1.json", "trust-list.json"))).unwrap();
    assert_eq!(published["signed_by"].as_array().unwrap().len(), 2);
    assert_eq!(published["version"], 5);

    // A counter pinned to root 1 imports it.
    let import = |list: &str, roots: &[&str], bundle: &str| {
        let mut args: Vec<String> = vec![
            "bundle".into(),
            "import".into(),
            "--trust-list".into(),
            z.p(list),
            "--anchor-key".into(),
            z.p("root-1.json"),
            "--bundle".into(),
            z.p(bundle),
            "--json".into(),
        ];
        for r in roots {
            args.push("--root".into());
            args.push(z.p(r));
        }
        for a in &z.agencies {
            args.push("--status-list".into());
            args.push(z.p(&format!("status-{}.jwt", a.region)));
        }
        let r: Vec<&str> = args.iter().map(String::as_str).collect();
        run("tongban-verify", &r)
    };
    let shown: Value =
        serde_json::from_str(&ok(&import("trust-list.json", &[], "bundle"))).unwrap();
    assert_eq!(shown["version"], 5);
    assert_eq!(shown["signed_by"].as_array().unwrap().len(), 2);
    assert_eq!(shown["threshold"]["k"], 2);

    // Zhejiang's operator leaves, Anhui's joins: root 2 is signed by 2 of
    // root 1's keys and 2 of its own.
    ok(&tl(&[
        "root",
        "propose",
        "--out",
        &z.p("root2.proposal.json"),
        "--previous",
        &z.p("root-1.json"),
        "--key",
        &z.p("sh.jwk.json"),
        "--key",
        &z.p("js.jwk.json"),
        "--key",
        &z.p("ah.jwk.json"),
        "--threshold",
        "2",
    ]));
    for p in ["ah", "zj"] {
        ok(&tl(&[
            "root",
            "sign",
            "--proposal",
            &z.p("root2.proposal.json"),
            "--key",
            &z.p(&format!("{p}.key.json")),
            "--previous",
            &z.p("root-1.json"),
        ]));
    }
    let out = tl(&[
        "root",
        "publish",
        "--proposal",
        &z.p("root2.proposal.json"),
        "--previous",
        &z.p("root-1.json"),
        "--out",
        &z.p("root-2.json"),
        "--json",
    ]);
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        err["error"]["code"], "trust_root_chain_broken",
        "one old key is not 2 of 3"
    );
    assert!(!z.path("root-2.json").exists());
    ok(&tl(&[
        "root",
        "sign",
        "--proposal",
        &z.p("root2.proposal.json"),
        "--key",
        &z.p("sh.key.json"),
        "--previous",
        &z.p("root-1.json"),
    ]));
    ok(&tl(&[
        "root",
        "publish",
        "--proposal",
        &z.p("root2.proposal.json"),
        "--previous",
        &z.p("root-1.json"),
        "--out",
        &z.p("root-2.json"),
    ]));
    // The next list is signed under root 2 by Anhui and Jiangsu.
    ok(&tl(&[
        "propose",
        "--list",
        &z.p("zone.json"),
        "--root",
        &z.p("root-2.json"),
        "--out",
        &z.p("p2.json"),
    ]));
    for p in ["ah", "js"] {
        ok(&tl(&[
            "sign",
            "--proposal",
            &z.p("p2.json"),
            "--key",
            &z.p(&format!("{p}.key.json")),
        ]));
    }
    ok(&tl(&[
        "publish",
        "--proposal",
        &z.p("p2.json"),
        "--root",
        &z.p("root-2.json"),
        "--out",
        &z.p("trust-list-2.json"),
    ]));
    // Zhejiang's departed key (with one current key) cannot make a list count.
    ok(&tl(&[
        "propose",
        "--list",
        &z.p("zone.json"),
        "--root",
        &z.p("root-2.json"),
        "--out",
        &z.p("p3.json"),
    ]));
    for p in ["zj", "sh"] {
        ok(&tl(&[
            "sign",
            "--proposal",
            &z.p("p3.json"),
            "--key",
            &z.p(&format!("{p}.key.json")),
        ]));
    }
    let p3 = std::fs::read_to_string(z.path("p3.json")).unwrap();
    std::fs::write(z.path("trust-list-3.json"), &p3).unwrap();

    // Without root 2 the counter pinned to root 1 cannot take list 2.
    let out = import("trust-list-2.json", &[], "bundle");
    assert_eq!(out.status.code(), Some(2));
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "trust_root_chain_broken");
    // An online counter takes it with root 2 ...
    ok(&import("trust-list-2.json", &["root-2.json"], "online"));
    // ... and an air-gapped counter pinned to root 1 follows the rotation
    // from a copy of that bundle, offline.
    let copy = z.path("copied");
    std::fs::create_dir(&copy).unwrap();
    for e in std::fs::read_dir(z.path("online")).unwrap().flatten() {
        std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
    }
    let shown: Value = serde_json::from_str(&ok(&run(
        "tongban-verify",
        &[
            "bundle",
            "show",
            "--bundle",
            &z.p("copied"),
            "--anchor-key",
            &z.p("root-1.json"),
            "--json",
        ],
    )))
    .unwrap();
    assert_eq!(shown["root"]["sequence"], 2);
    let kids: Vec<&str> = shown["signed_by"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["kid"].as_str())
        .collect();
    assert_eq!(kids, ["ah-ops-1", "js-ops-1"]);
    // The list with the departed key's signature is refused.
    let out = import("trust-list-3.json", &[], "online");
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "trust_anchor_removed");
    // Signed by one more current operator, that list counts (the departed
    // key's signature is ignored) and the counter takes it; list 2 after
    // it is a rollback.
    ok(&tl(&[
        "sign",
        "--proposal",
        &z.p("p3.json"),
        "--key",
        &z.p("js.key.json"),
    ]));
    ok(&tl(&[
        "publish",
        "--proposal",
        &z.p("p3.json"),
        "--root",
        &z.p("root-2.json"),
        "--out",
        &z.p("trust-list-3.json"),
    ]));
    ok(&import("trust-list-3.json", &[], "online"));
    let out = import("trust-list-2.json", &[], "online");
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "trust_list_rollback");
    // A verification from the copied bundle names the list and its signers.
    let p = z.present(0, BL, 5);
    let out = run(
        "tongban-verify",
        &[
            "verify",
            "--bundle",
            &z.p("copied"),
            "--anchor-key",
            &z.p("root-1.json"),
            "--aud",
            AUD,
            "--nonce",
            NONCE,
            "--json",
            p.to_str().unwrap(),
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert_eq!(report["bundle"]["trust_list"]["version"], 5);
    assert_eq!(report["bundle"]["trust_list"]["root_sequence"], 2);
    assert_eq!(
        report["bundle"]["trust_list"]["signed_by"],
        json!(["ah-ops-1", "js-ops-1"])
    );
}
