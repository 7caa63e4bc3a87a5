//! A running `tongban-verifier-service serve` for end-to-end tests: a
//! fresh data directory, the operator CA made with `ca init` before the
//! first start, a configuration file naming the trust list it syncs
//! itself, and the admin token the first start prints once (read from its
//! log). Tenants and their tokens are made through the admin API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tongban_xtask::issuer_load::ServeProcess;

use crate::cargo_bin;
use crate::issuer::{free_port, fresh_dir, http};

/// How to start the service.
#[derive(Debug, Clone, Default)]
pub struct ServiceSetup {
    /// The signed trust list's URL (`trust_list_url`).
    pub trust_list_url: String,
    /// The trust anchor's public JWK file (`anchor_key_files`).
    pub anchor_key_file: PathBuf,
    /// Where wallets reach the service (a proxy in front of it), if not
    /// where it listens.
    pub public_url: Option<String>,
    /// More configuration, as `TONGBAN_VERIFIER_SERVICE_<KEY>` variables
    /// (e.g. `("TRANSACTION_TTL_SECS", "2")`).
    pub env: Vec<(String, String)>,
}

/// The service process; killed (by its PID, through the child handle) on drop.
pub struct VerifierService {
    serve: ServeProcess,
    /// `http://127.0.0.1:PORT`, where it listens.
    pub base: String,
    /// Its port.
    pub port: u16,
    /// The admin token its first start printed.
    pub admin: String,
    /// The operator CA certificate (PEM file) wallets are told to trust.
    pub ca_pem: PathBuf,
    /// Its directory (data directory, configuration, log), removed on drop.
    pub dir: PathBuf,
}

/// The `tbvs_…` token in the first start's log.
fn admin_token_in(log: &str) -> Option<String> {
    log.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .find(|w| w.starts_with("tbvs_") && w.len() > 10)
        .map(str::to_owned)
}

/// Runs an operator command on `data` with `--json`; it must succeed.
pub fn operator(data: &Path, args: &[&str]) -> Value {
    let out = Command::new(cargo_bin("tongban-verifier-service"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .arg("--json")
        .env_remove("TONGBAN_MASTER_KEY")
        .env_remove("TONGBAN_VERIFIER_SERVICE_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tongban-verifier-service {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

impl VerifierService {
    /// `ca init`, then `serve` (up to three ports tried) until `/readyz`
    /// answers 200 — that is, until it has synced a fresh trust bundle.
    pub fn start(setup: &ServiceSetup) -> VerifierService {
        let bin = cargo_bin("tongban-verifier-service");
        let dir = fresh_dir("tongban-verifier-service-test");
        let data = dir.join("data");
        let ca = operator(
            &data,
            &["ca", "init", "--name", "长三角示范区受理机构 CA (test)"],
        );
        let ca_pem = dir.join("operator-ca.pem");
        std::fs::write(&ca_pem, ca["certificate_pem"].as_str().unwrap()).unwrap();
        let config = dir.join("verifier-service.toml");
        std::fs::write(
            &config,
            format!(
                "trust_list_url = {}\nanchor_key_files = [{}]\nmaintenance_interval_secs = 1\n",
                toml_string(&setup.trust_list_url),
                toml_string(setup.anchor_key_file.to_str().unwrap())
            ),
        )
        .unwrap();
        let mut env: Vec<(String, String)> = setup
            .env
            .iter()
            .map(|(k, v)| (format!("TONGBAN_VERIFIER_SERVICE_{k}"), v.clone()))
            .collect();
        env.push((
            "TONGBAN_VERIFIER_SERVICE_CONFIG".into(),
            config.to_str().unwrap().into(),
        ));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let log = dir.join("stderr.log");
        for _attempt in 0..3 {
            let port = free_port();
            match ServeProcess::start(
                &bin,
                &data,
                None,
                (port, setup.public_url.as_deref()),
                &log,
                Duration::from_secs(90),
                &env,
            ) {
                Ok(serve) => {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    let admin = admin_token_in(&text).unwrap_or_else(|| {
                        panic!("no admin token in the first start's log:\n{text}")
                    });
                    return VerifierService {
                        serve,
                        base: format!("http://127.0.0.1:{port}"),
                        port,
                        admin,
                        ca_pem,
                        dir,
                    };
                }
                Err(e) => {
                    eprintln!("tongban-verifier-service did not come up on {port} ({e}); retrying")
                }
            }
        }
        panic!("tongban-verifier-service serve did not become ready (three attempts)");
    }

    /// A URL on the process itself.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Adds a receiving agency through the admin API; returns its client id.
    pub fn add_tenant(&self, id: &str, name_zh: &str, name_en: &str, region: &str) -> String {
        let r = http(
            "POST",
            &self.url("/api/v1/tenants"),
            Some(&self.admin),
            Some(
                &json!({"id": id, "name_zh": name_zh, "name_en": name_en, "region": region,
                         "dns": format!("{id}.verifier.example")}),
            ),
        );
        assert_eq!(r.status, 201, "tenant {id}: {}", r.text());
        r.json()["client_id"].as_str().unwrap().to_owned()
    }

    /// A back-office token of `tenant` (its secret).
    pub fn tenant_token(&self, tenant: &str) -> String {
        let r = http(
            "POST",
            &self.url("/api/v1/tokens"),
            Some(&self.admin),
            Some(&json!({"tenant": tenant, "label": "back office (test)"})),
        );
        assert_eq!(r.status, 201, "token for {tenant}: {}", r.text());
        r.json()["token"].as_str().unwrap().to_owned()
    }

    /// `POST /api/v1/transactions`; must answer 201.
    pub fn create(&self, token: &str, body: &Value) -> Value {
        let r = http(
            "POST",
            &self.url("/api/v1/transactions"),
            Some(token),
            Some(body),
        );
        assert_eq!(r.status, 201, "create {body}: {}", r.text());
        r.json()
    }

    /// `POST /api/v1/transactions`, whatever it answers.
    pub fn try_create(&self, token: &str, body: &Value) -> crate::issuer::Response {
        http(
            "POST",
            &self.url("/api/v1/transactions"),
            Some(token),
            Some(body),
        )
    }

    /// Polls `/readyz` (the service syncs every `SYNC_INTERVAL_SECS`) until
    /// its bundle holds trust list `sequence`; at most 30 s.
    pub fn await_trust_list(&self, sequence: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let r = http("GET", &self.url("/readyz"), None, None).json();
            if r["trust_bundle"]["trust_list_sequence"] == sequence {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the service did not sync trust list #{sequence}: {r}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The service's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.serve.pid()
    }
}

impl Drop for VerifierService {
    fn drop(&mut self) {
        let _ = self.serve.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// The business licence's type.
pub const BUSINESS_LICENCE: &str = "urn:tongban:business-licence:1";

/// A one-agency demonstration zone for the online tests: Wujiang's market
/// regulator (Jiangsu, 320509) issuing business licences from a running
/// `tongban-issuer`, listed in a trust list signed by a fresh anchor and
/// served over loopback HTTP (the issuer's metadata names it as
/// `tongban_trust_list_uri`). One licence is issued up front so the
/// agency's status list exists before anyone syncs. The draft stays, so a
/// test can change the list ([`Zone::operator`]), sign the next one
/// ([`Zone::sign`]) and serve it ([`Zone::publish`]).
pub struct Zone {
    /// The issuing service.
    pub issuer: crate::issuer::IssuerProcess,
    /// The signed trust list's URL.
    pub list_url: String,
    /// The anchor's public JWK file.
    pub anchor_jwk: PathBuf,
    /// The anchor's private JWK file.
    pub anchor_key: PathBuf,
    /// The operator's draft of the list.
    pub draft: PathBuf,
    /// The first signed list (sequence 1), as served at the start.
    pub first_list: PathBuf,
    /// What the loopback server serves, by path.
    pub files: Arc<Mutex<Vec<(String, String)>>>,
    /// The zone's working directory, removed on drop.
    pub dir: PathBuf,
}

impl Drop for Zone {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `tongban-issuer ARGS`; it must succeed.
fn issuer_tool(args: &[&str]) {
    let out = Command::new(cargo_bin("tongban-issuer"))
        .args(args)
        .env_remove("TONGBAN_TRUST_LIST_DRAFT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tongban-issuer {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Zone {
    /// Starts Wujiang's issuer and publishes the signed list naming it.
    pub fn wujiang() -> Zone {
        let files: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let base = crate::serve_http(files.clone()).unwrap();
        let list_url = format!("{base}/trust-list.jwt");
        let issuer = crate::issuer::IssuerProcess::start_agency(
            &crate::issuer::AgencySetup {
                id: "wujiang-amr".into(),
                name_zh: "苏州市吴江区市场监督管理局".into(),
                name_en: "Wujiang Administration for Market Regulation".into(),
                region: "320509".into(),
                vcts: vec![BUSINESS_LICENCE.into()],
                ..Default::default()
            },
            &[("TONGBAN_ISSUER_TRUST_LIST_URL", &list_url)],
        );
        let mut holder = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut holder);
        let holder = tongban_verifier::Ed25519Signer::from_seed(&holder, None);
        issuer.admin_issue(&json!({"vct": BUSINESS_LICENCE,
            "claims": tongban_test_support::sample::catalogue_claims("business-licence", 900),
            "holder_jwk": tongban_verifier::Signer::public_key(&holder).to_jwk()}));
        let dir = fresh_dir("tongban-online-zone");
        let path = |n: &str| dir.join(n).to_str().unwrap().to_owned();
        issuer_tool(&[
            "trust-list",
            "anchor-key",
            "--out",
            &path("anchor.key.json"),
            "--public-out",
            &path("anchor.jwk.json"),
        ]);
        issuer_tool(&[
            "trust-list",
            "init",
            "--list",
            &path("zone.json"),
            "--anchor-id",
            "https://trust.yrd.example",
            "--name-zh",
            "长三角生态绿色一体化发展示范区",
            "--name-en",
            "Yangtze River Delta demonstration zone",
        ]);
        let iss = issuer.iss();
        issuer_tool(&[
            "trust-list",
            "add-issuer",
            "--list",
            &path("zone.json"),
            "--id",
            &iss,
            "--name-zh",
            "苏州市吴江区市场监督管理局",
            "--name-en",
            "Wujiang Administration for Market Regulation",
            "--region",
            "320509",
            "--vct",
            BUSINESS_LICENCE,
            "--jwks-url",
            &format!("{iss}/jwks.json"),
            "--status-list",
            &format!("{iss}/status/0"),
            // The test is the operator who compared the thumbprints.
            "--yes",
        ]);
        let zone = Zone {
            issuer,
            list_url,
            anchor_jwk: dir.join("anchor.jwk.json"),
            anchor_key: dir.join("anchor.key.json"),
            draft: dir.join("zone.json"),
            first_list: dir.join("trust-list.jwt"),
            files,
            dir,
        };
        zone.sign("trust-list.jwt");
        zone.publish(&zone.first_list);
        zone
    }

    /// `tongban-issuer trust-list ARGS --list DRAFT`: changes the draft.
    pub fn operator(&self, args: &[&str]) {
        let mut all = vec!["trust-list"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--list", self.draft.to_str().unwrap()]);
        issuer_tool(&all);
    }

    /// Signs the next list from the draft into `name` (not served).
    pub fn sign(&self, name: &str) -> PathBuf {
        let out = self.dir.join(name);
        issuer_tool(&[
            "trust-list",
            "sign",
            "--list",
            self.draft.to_str().unwrap(),
            "--anchor-key",
            self.anchor_key.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        out
    }

    /// Serves `file` as the zone's list from now on.
    pub fn publish(&self, file: &Path) {
        self.publish_text(std::fs::read_to_string(file).unwrap());
    }

    /// Serves `text` as the zone's list from now on.
    pub fn publish_text(&self, text: String) {
        let mut files = self.files.lock().unwrap();
        files.retain(|(p, _)| p != "/trust-list.jwt");
        files.push(("/trust-list.jwt".to_owned(), text));
    }

    /// A service syncing this zone's list, configured with `env`
    /// (`TONGBAN_VERIFIER_SERVICE_<KEY>` without the prefix), reached by
    /// wallets at `public_url` if given.
    pub fn service(&self, public_url: Option<&str>, env: &[(&str, &str)]) -> VerifierService {
        VerifierService::start(&ServiceSetup {
            trust_list_url: self.list_url.clone(),
            anchor_key_file: self.anchor_jwk.clone(),
            public_url: public_url.map(str::to_owned),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })
    }

    /// A licence offer from Wujiang (serial `serial`, no PIN): the
    /// `openid-credential-offer://` link.
    pub fn offer(&self, serial: u32) -> String {
        let o = self.issuer.admin_issue(&json!({"vct": BUSINESS_LICENCE,
            "claims": tongban_test_support::sample::catalogue_claims("business-licence", serial),
            "offer": {"tx_code": false}}));
        o["offer_link"].as_str().unwrap().to_owned()
    }
}
