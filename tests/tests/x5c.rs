//! HAIP 1.0 X.509 key resolution across real processes: the trust-list
//! operator's CA certifies an agency's listed key (`tongban-issuer
//! trust-list ca init|certify`), the agency installs the chain (`key
//! certificate`), its credentials and status list tokens carry `x5c`, a
//! wallet holding the trust list presents one QR code with the certificate
//! by reference, and `tongban-verify` checks the chain to the anchor
//! certificate of its synced bundle. A credential issued before the
//! certificate (kid only) still verifies; a counter whose bundle predates
//! the certificate refuses the by-reference code with its own code. The
//! agency then rotates to an ES256 key, certified and installed the same
//! way, and its ES256 credentials verify by their chain too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tongban_e2e::cli::{self, json_of, ok, p};
use tongban_e2e::issuer::{AgencySetup, IssuerProcess};
use tongban_e2e::serve_http;
use tongban_test_support::sample::catalogue_claims;

const PASS: &str = "x5c passphrase";
const COUNTER: &str = "https://counter.qingpu.example";
const BL: &str = "urn:tongban:business-licence:1";

fn run(bin: &str, args: &[&str]) -> Output {
    cli::run(bin, PASS, args)
}

/// Polls `ready` (every 50 ms, for at most 10 s): what a running service
/// picks up from its database within its refresh time.
#[track_caller]
fn eventually(what: &str, mut ready: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ready() {
        assert!(std::time::Instant::now() < until, "not within 10 s: {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn header_of(sd_jwt: &str) -> Value {
    let h = sd_jwt.split('.').next().unwrap();
    serde_json::from_slice(&tongban_verifier::encoding::b64_decode(h, "h").unwrap()).unwrap()
}

#[test]
fn an_x5c_credential_travels_in_one_code_and_verifies_to_the_anchor_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    let files = Arc::new(Mutex::new(Vec::new()));
    let base = serve_http(files.clone()).unwrap();
    let publish = |name: &str, file: &Path| {
        let body = std::fs::read_to_string(file).unwrap();
        let mut f = files.lock().unwrap();
        f.retain(|(n, _)| n != name);
        f.push((name.to_owned(), body));
    };
    let issuer = IssuerProcess::start_agency(
        &AgencySetup {
            id: "wujiang-amr".into(),
            name_zh: "苏州市吴江区市场监督管理局".into(),
            name_en: "Wujiang AMR".into(),
            region: "320509".into(),
            vcts: vec![BL.into()],
            key_alg: None,
        },
        &[
            ("TONGBAN_ISSUER_KEY_REFRESH_SECS", "0"),
            ("TONGBAN_ISSUER_STATUS_LIST_TTL_SECS", "1"),
        ],
    );
    let iss = issuer.iss();
    let wallet = path("wallet");
    let w = |args: &[&str]| {
        let mut full = vec!["--wallet", p(&wallet)];
        full.extend_from_slice(args);
        run("tongban-wallet", &full)
    };
    ok(w(&["init"]));
    let receive = |serial: u32| -> String {
        let o = issuer.admin_issue(&json!({"vct": BL, "claims": catalogue_claims("business-licence", serial), "offer": {"tx_code": false}}));
        let out = ok(w(&["--json", "receive", o["offer_link"].as_str().unwrap()]));
        json_of(&out)["id"].as_str().unwrap().to_owned()
    };
    // Issued before any certificate: the kid path.
    let old = receive(1);

    // The operator: one anchor key, a draft with the agency, the zone's CA
    // (its certificate goes into the draft), the agency's key certified.
    let op = |args: &[&str]| json_of(&ok(run("tongban-issuer", args)));
    let (draft, anchor, anchor_pub) = (path("zone.json"), path("anchor.key"), path("anchor.pub"));
    op(&[
        "trust-list",
        "anchor-key",
        "--out",
        p(&anchor),
        "--public-out",
        p(&anchor_pub),
        "--json",
    ]);
    op(&[
        "trust-list",
        "init",
        "--list",
        p(&draft),
        "--anchor-id",
        "https://trust.yrd.example",
        "--name-zh",
        "示范区",
        "--name-en",
        "YRD",
        "--json",
    ]);
    op(&[
        "trust-list",
        "add-issuer",
        "--list",
        p(&draft),
        "--id",
        &iss,
        "--name-zh",
        "吴江",
        "--name-en",
        "Wujiang AMR",
        "--region",
        "320509",
        "--vct",
        BL,
        "--jwks-url",
        &format!("{iss}/jwks.json"),
        "--yes",
        "--status-list",
        &format!("{iss}/status/0"),
        "--not-before",
        "1700000000",
        "--json",
    ]);
    let kid = json_of(&ok(run(
        "tongban-issuer",
        &[
            "key",
            "list",
            "--data-dir",
            p(&issuer.data_dir()),
            "--agency",
            "wujiang-amr",
            "--json",
        ],
    )))["keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let ca = path("ca.json");
    let init = op(&[
        "trust-list",
        "ca",
        "init",
        "--out",
        p(&ca),
        "--list",
        p(&draft),
        "--common-name",
        "YRD zone CA",
        "--json",
    ]);
    assert!(init["certificate"].is_string(), "{init}");
    // The CA file is the operator's secret.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&ca).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let chain_pem = path("wujiang.chain.pem");
    let certified = op(&[
        "trust-list",
        "ca",
        "certify",
        "--ca",
        p(&ca),
        "--list",
        p(&draft),
        "--id",
        &iss,
        "--kid",
        &kid,
        "--out",
        p(&chain_pem),
        "--json",
    ]);
    let x5c = certified["x5c"].clone();
    assert_eq!(
        x5c.as_array().map(Vec::len),
        Some(1),
        "the leaf only: {certified}"
    );
    assert_ne!(x5c[0], init["certificate"], "never the anchor");

    // The agency installs it; what it signs from now on carries x5c.
    ok(run(
        "tongban-issuer",
        &[
            "key",
            "certificate",
            "--data-dir",
            p(&issuer.data_dir()),
            "--agency",
            "wujiang-amr",
            "--chain",
            p(&chain_pem),
            "--json",
        ],
    ));
    // So does its status list token, once the service has read the
    // certificate (key_refresh_secs, 1 s) and the token signed before it
    // has had its ttl (1 s).
    let status = || {
        let r = tongban_e2e::issuer::http("GET", &format!("{iss}/status/0"), None, None);
        assert_eq!(r.status, 200);
        header_of(&r.text())
    };
    eventually("a status list token with x5c", || status()["x5c"] == x5c);
    let new = receive(2);

    // The list is signed and served; the counter syncs its bundle, the
    // wallet keeps the same list.
    let list = path("trust-list.jwt");
    op(&[
        "trust-list",
        "sign",
        "--list",
        p(&draft),
        "--anchor-key",
        p(&anchor),
        "--out",
        p(&list),
        "--json",
    ]);
    publish("/trust-list.jwt", &list);
    let bundle = path("bundle");
    let sync = |b: &Path| {
        ok(run(
            "tongban-verify",
            &[
                "sync",
                "--trust-list",
                &format!("{base}/trust-list.jwt"),
                "--anchor-key",
                p(&anchor_pub),
                "--bundle",
                p(b),
            ],
        ))
    };
    sync(&bundle);
    ok(w(&[
        "trust-list",
        "import",
        "--file",
        p(&list),
        "--anchor-key",
        p(&anchor_pub),
    ]));

    // One code each; the x5c credential's certificate goes by reference.
    let present = |id: &str, name: &str| -> (Value, std::path::PathBuf) {
        let png = path(&format!("{name}.png"));
        let out = ok(w(&[
            "--json",
            "present",
            id,
            "--disclose",
            "company_name",
            "--aud",
            COUNTER,
            "--nonce",
            "n-1",
            "--yes",
            "--qr",
            &format!("png:{}", p(&png)),
        ]));
        (json_of(&out), png)
    };
    let (old_p, old_file) = present(&old, "old");
    let (new_p, new_file) = present(&new, "new");
    assert!(
        header_of(old_p["presentation"].as_str().unwrap())
            .get("x5c")
            .is_none()
    );
    assert_eq!(
        header_of(new_p["presentation"].as_str().unwrap())["x5c"],
        x5c
    );
    for v in [&old_p, &new_p] {
        assert_eq!(v["qr_codes"], 1, "one code: {v}");
    }
    println!(
        "QR characters: kid only {}, with x5c by reference {}",
        old_p["transport"].as_str().unwrap().len(),
        new_p["transport"].as_str().unwrap().len()
    );
    let verify = |b: &Path, f: &Path| {
        let out = run(
            "tongban-verify",
            &[
                "verify",
                "--json",
                "--bundle",
                p(b),
                "--anchor-key",
                p(&anchor_pub),
                "--aud",
                COUNTER,
                "--nonce",
                "n-1",
                p(f),
            ],
        );
        (out.status.code(), json_of(&out))
    };
    for f in [&old_file, &new_file] {
        let (rc, r) = verify(&bundle, f);
        assert_eq!(
            (rc, r["verdict"].as_str()),
            (Some(0), Some("accepted")),
            "{r}"
        );
    }

    // A counter whose bundle predates the certificate (a list without it)
    // refuses the by-reference code, and says so.
    let mut older: Value = serde_json::from_slice(&std::fs::read(&draft).unwrap()).unwrap();
    for k in older["issuers"][0]["keys"].as_array_mut().unwrap() {
        k.as_object_mut().unwrap().remove("x5c");
    }
    older["sequence"] = json!(0);
    std::fs::write(path("older.json"), older.to_string()).unwrap();
    let older_list = path("older.jwt");
    op(&[
        "trust-list",
        "sign",
        "--list",
        p(&path("older.json")),
        "--anchor-key",
        p(&anchor),
        "--out",
        p(&older_list),
        "--json",
    ]);
    publish("/trust-list.jwt", &older_list);
    let stale_bundle = path("stale-bundle");
    sync(&stale_bundle);
    let (rc, r) = verify(&stale_bundle, &new_file);
    assert_eq!(rc, Some(1), "{r}");
    assert_eq!(
        r["rejection"]["code"], "transport_certificate_unknown",
        "{r}"
    );

    // The agency moves to ES256: its new P-256 key is listed, certified by
    // the same CA and installed; what it signs now is ES256 with x5c, and
    // the counter resolves it by the chain as well.
    let es_kid = json_of(&ok(run(
        "tongban-issuer",
        &[
            "key",
            "rotate",
            "--data-dir",
            p(&issuer.data_dir()),
            "--agency",
            "wujiang-amr",
            "--key-alg",
            "es256",
            "--json",
        ],
    )))["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    // The service picks the new key up within key_refresh_secs (1 s).
    let jwks = || tongban_e2e::issuer::http("GET", &format!("{iss}/jwks.json"), None, None).text();
    eventually("the new key in the JWKS", || jwks().contains(&es_kid));
    op(&[
        "trust-list",
        "update-issuer",
        "--list",
        p(&draft),
        "--id",
        &iss,
        "--jwks-url",
        &format!("{iss}/jwks.json"),
        "--yes",
        "--json",
    ]);
    let es_pem = path("wujiang.es256.pem");
    let es_x5c = op(&[
        "trust-list",
        "ca",
        "certify",
        "--ca",
        p(&ca),
        "--list",
        p(&draft),
        "--id",
        &iss,
        "--kid",
        &es_kid,
        "--out",
        p(&es_pem),
        "--json",
    ])["x5c"]
        .clone();
    ok(run(
        "tongban-issuer",
        &[
            "key",
            "certificate",
            "--data-dir",
            p(&issuer.data_dir()),
            "--agency",
            "wujiang-amr",
            "--chain",
            p(&es_pem),
            "--json",
        ],
    ));
    op(&[
        "trust-list",
        "sign",
        "--list",
        p(&draft),
        "--anchor-key",
        p(&anchor),
        "--out",
        p(&list),
        "--json",
    ]);
    publish("/trust-list.jwt", &list);
    sync(&bundle);
    ok(w(&[
        "trust-list",
        "import",
        "--file",
        p(&list),
        "--anchor-key",
        p(&anchor_pub),
    ]));
    // Its status list token too, once the 1 s ttl of the one signed before
    // has passed and the service has read the certificate.
    eventually("an ES256 status list token with x5c", || {
        let h = status();
        (&h["alg"], &h["x5c"]) == (&json!("ES256"), &es_x5c)
    });
    let es = receive(3);
    let (es_p, es_file) = present(&es, "es256");
    let h = header_of(es_p["presentation"].as_str().unwrap());
    assert_eq!(
        (&h["alg"], &h["kid"], &h["x5c"]),
        (&json!("ES256"), &json!(es_kid), &es_x5c)
    );
    assert_eq!(es_p["qr_codes"], 1, "one code: {es_p}");
    // The list's change keeps the kid-only credential; the ES256 one is
    // judged by its chain.
    for f in [&old_file, &es_file] {
        let (rc, r) = verify(&bundle, f);
        assert_eq!(
            (rc, r["verdict"].as_str()),
            (Some(0), Some("accepted")),
            "{r}"
        );
    }
}
