//! A running `tongban-issuer serve` for end-to-end tests, and the minimal
//! HTTP/1.1 client the tests talk to it with (the tests crate has no HTTP
//! client dependency; loopback `http://` is all the service needs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::cargo_bin;
use tongban_xtask::issuer_load::ServeProcess;

/// An HTTP response: status, headers (names lower-cased), body (de-chunked).
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (panics when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// One HTTP/1.1 request to an `http://HOST:PORT/…` URL with the given
/// extra headers and body (`Connection: close`).
pub fn http_request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse_response(&raw)
}

/// `http_request` with an optional bearer token and JSON body.
pub fn http(method: &str, url: &str, bearer: Option<&str>, json_body: Option<&Value>) -> Response {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    if json_body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    let body = json_body.map(Value::to_string).unwrap_or_default();
    http_request(method, url, &headers, body.as_bytes())
}

fn parse_response(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .expect("a chunk size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

/// A free loopback port (bound and let go: another process may take it
/// before it is used, so callers retry).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An agency to create before a service's first start.
#[derive(Debug, Clone, Default)]
pub struct AgencySetup {
    /// Its id.
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// GB/T 2260 code.
    pub region: String,
    /// The types it may issue.
    pub vcts: Vec<String>,
    /// `--key-alg` of its signing key (`sm2`; `None`: the default, Ed25519).
    pub key_alg: Option<String>,
}

/// How to start a service.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// `--public-url` (default: where it listens).
    pub public_url: Option<String>,
    /// An agency to create first (default: the bootstrap `demo` agency).
    pub agency: Option<AgencySetup>,
    /// Extra environment (e.g. `TONGBAN_ISSUER_KEY_REFRESH_SECS`).
    pub env: Vec<(String, String)>,
}

/// A `tongban-issuer serve` process on a free loopback port with a fresh
/// data directory; killed (by its PID, through the child handle) on drop.
pub struct IssuerProcess {
    serve: ServeProcess,
    /// `http://127.0.0.1:PORT`, where it listens.
    pub base: String,
    /// The URL wallets reach it at (`--public-url`; `base` unless set).
    pub public_url: String,
    /// An all-scopes admin token of its agency.
    pub token: String,
    /// The agency it hosts (`demo` unless started with one).
    pub agency: String,
    /// A fresh directory holding its data directory and stderr log,
    /// removed on drop.
    pub dir: PathBuf,
}

impl Drop for IssuerProcess {
    fn drop(&mut self) {
        let _ = self.serve.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A new empty directory under the system's temporary directory, named
/// after `prefix`.
pub(crate) fn fresh_dir(prefix: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl IssuerProcess {
    /// Starts the service and waits until `/readyz` answers 200.
    pub fn start() -> IssuerProcess {
        Self::start_with_public_url(None)
    }

    /// As [`start`](Self::start), announcing `public_url` (for example a
    /// proxy in front of it) as the URL wallets reach it at.
    pub fn start_with_public_url(public_url: Option<&str>) -> IssuerProcess {
        Self::start_with(&StartOptions {
            public_url: public_url.map(str::to_owned),
            ..StartOptions::default()
        })
    }

    /// Starts a service hosting `agency` (created with the operator
    /// commands before the first start, so no demonstration agency is
    /// made); [`IssuerProcess::token`] is an all-scopes token of it.
    pub fn start_agency(agency: &AgencySetup, env: &[(&str, &str)]) -> IssuerProcess {
        Self::start_with(&StartOptions {
            agency: Some(agency.clone()),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..StartOptions::default()
        })
    }

    /// Starts a service as `opts` say.
    pub fn start_with(opts: &StartOptions) -> IssuerProcess {
        let bin = cargo_bin("tongban-issuer");
        for _attempt in 0..3 {
            let dir = fresh_dir("tongban-issuer-test");
            let port = free_port();
            let listen = format!("127.0.0.1:{port}");
            let base = format!("http://{listen}");
            let public_url = opts.public_url.clone().unwrap_or_else(|| base.clone());
            let log = dir.join("stderr.log");
            let data = dir.join("data");
            let mut token = String::new();
            if let Some(a) = &opts.agency {
                let run = |args: &[&str]| -> Value {
                    let out = Command::new(&bin)
                        .args(args)
                        .arg("--data-dir")
                        .arg(&data)
                        .args(["--public-url", &public_url, "--json"])
                        .env_remove("TONGBAN_MASTER_KEY")
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "tongban-issuer {args:?}: {}",
                        String::from_utf8_lossy(&out.stdout)
                    );
                    serde_json::from_slice(&out.stdout).unwrap()
                };
                let mut args = vec![
                    "agency",
                    "create",
                    "--id",
                    &a.id,
                    "--name-zh",
                    &a.name_zh,
                    "--name-en",
                    &a.name_en,
                    "--region",
                    &a.region,
                ];
                for v in &a.vcts {
                    args.extend(["--vct", v.as_str()]);
                }
                if let Some(alg) = &a.key_alg {
                    args.extend(["--key-alg", alg.as_str()]);
                }
                run(&args);
                token = run(&["token", "create", "--agency", &a.id, "--scope", "all"])["token"]
                    .as_str()
                    .unwrap()
                    .to_owned();
            }
            let env: Vec<(&str, &str)> = opts
                .env
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            match ServeProcess::start(
                &bin,
                &data,
                None,
                (port, Some(&public_url)),
                &log,
                Duration::from_secs(60),
                &env,
            ) {
                Ok(serve) => {
                    if token.is_empty() {
                        token = serve
                            .token()
                            .expect("the first start prints an admin token");
                    }
                    return IssuerProcess {
                        serve,
                        public_url,
                        base,
                        token,
                        agency: opts
                            .agency
                            .as_ref()
                            .map_or_else(|| "demo".to_owned(), |a| a.id.clone()),
                        dir,
                    };
                }
                Err(e) => eprintln!("tongban-issuer did not come up on {listen} ({e}); retrying"),
            }
        }
        panic!("tongban-issuer serve did not become ready (three attempts)");
    }

    /// SIGTERM, then wait up to `timeout` for the exit (its status), or
    /// kill it and fail.
    pub fn terminate(&mut self, timeout: Duration) -> Result<std::process::ExitStatus, String> {
        self.serve.terminate(timeout)
    }

    /// A URL on the process itself (not through `public_url`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The issuer identifier of its agency.
    pub fn iss(&self) -> String {
        format!("{}/agencies/{}", self.public_url, self.agency)
    }

    /// The data directory (for the operator commands).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `POST /admin/v1/credentials`; must answer 201.
    pub fn admin_issue(&self, body: &Value) -> Value {
        let r = http(
            "POST",
            &self.url("/admin/v1/credentials"),
            Some(&self.token),
            Some(body),
        );
        assert_eq!(r.status, 201, "issue {body}: {}", r.text());
        r.json()
    }
}

impl IssuerProcess {
    /// `POST /admin/v1/credentials/{id}/{action}` (revoke, suspend,
    /// reinstate); must answer 200 with the new status.
    pub fn admin_change(&self, id: &str, action: &str) -> Value {
        let r = http(
            "POST",
            &self.url(&format!("/admin/v1/credentials/{id}/{action}")),
            Some(&self.token),
            Some(&serde_json::json!({"reason": "test"})),
        );
        assert_eq!(r.status, 200, "{action} {id}: {}", r.text());
        r.json()
    }

    /// The agency's published JWKS, written to a file in the process's
    /// directory.
    pub fn jwks_file(&self) -> PathBuf {
        let r = http(
            "GET",
            &format!("{}/jwks.json", self.iss_local()),
            None,
            None,
        );
        assert_eq!(r.status, 200, "jwks: {}", r.text());
        let file = self.dir.join("jwks.json");
        std::fs::write(&file, r.text()).unwrap();
        file
    }

    /// The agency's base URL on the process itself.
    fn iss_local(&self) -> String {
        self.url(&format!("/agencies/{}", self.agency))
    }
}

/// Decodes standard base64 with padding (RFC 4648 §4), as the admin API
/// returns PNG images (`qr_png_base64`).
pub fn base64_standard_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)?;
        acc = (acc << 6) | u32::try_from(v).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}
