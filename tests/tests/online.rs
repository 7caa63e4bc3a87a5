//! Online presentation across real processes, as 跨省通办 works from home:
//! Wujiang's market regulator (Jiangsu) issues a business licence over
//! OpenID4VCI to Li Ming's `tongban-wallet`; a Shanghai receiving agency,
//! 青浦区行政服务中心, hosted by `tongban-verifier-service` (which syncs the
//! zone's signed trust list itself), asks for it over OpenID4VP 1.0; the
//! wallet answers the `openid4vp://` link (as text, and as the QR PNG the
//! service draws); the back office long-polls the outcome and reads the
//! verified claims once.
//!
//! Then every refusal, each with its stable code, the outcome's state, and
//! the wallet file unchanged byte for byte: the citizen declining; a
//! request the wallet holds nothing for (another licence type, a claim the
//! licence lacks); unsigned, tampered and untrusted request objects served
//! by a forger (the wallet posts nothing); the wallet's own response
//! replayed (recorded by a proxy between wallet and service) into the
//! answered transaction and into another; a hand-made response for another
//! agency's client identifier, with a wrong nonce, under another
//! transaction's key, with an unlisted `enc`, missing a claim the query
//! requires; an expired transaction; an oversize body. The same-device
//! flow releases the outcome only with the browser's `response_code`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use rand::rngs::OsRng;
use serde_json::{Map, Value, json};
use tongban_e2e::cli::{self, json_of};
use tongban_e2e::issuer::{Response, http, http_request};
use tongban_e2e::verifier_service::{BUSINESS_LICENCE, VerifierService, Zone};
use tongban_test_support::percent::encode_component;
use tongban_verifier::encoding::{b64_decode, b64_encode};
use tongban_verifier::{ClaimPath, Ed25519Signer, HeldCredential, KeyBinding, Signer as _};

const PASS: &str = "online passphrase";
const QINGPU: (&str, &str, &str, &str) = (
    "qingpu-ywtb",
    "上海市青浦区行政服务中心",
    "Qingpu Administrative Service Centre",
    "310118",
);
const JIADING: (&str, &str, &str, &str) = (
    "jiading-ywtb",
    "上海市嘉定区行政服务中心",
    "Jiading Administrative Service Centre",
    "310114",
);

// ------------------------------------------------------------ the wallet

fn wallet(w: &Path, args: &[&str]) -> Output {
    cli::wallet(w, PASS, args)
}

/// `present LINK --json --verifier-ca CA` with `extra`; (exit status, JSON).
fn present(w: &Path, link: &str, ca: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "--json",
        "present",
        link,
        "--verifier-ca",
        ca.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = wallet(w, &args);
    (out.status.code().unwrap_or(-1), json_of(&out))
}

/// `--json COMMAND` (`list`, `history`, `trust-list show`): its document.
fn wallet_json(w: &Path, command: &str) -> Value {
    let mut args = vec!["--json"];
    args.extend(command.split(' '));
    let out = wallet(w, &args);
    assert!(out.status.success(), "{out:?}");
    json_of(&out)
}

fn wallet_bytes(w: &Path) -> Vec<u8> {
    std::fs::read(w.join("wallet.age")).unwrap()
}

/// A wallet at `dir/name` holding a Wujiang business licence received over
/// OpenID4VCI from the running issuer.
fn citizen(zone: &Zone, dir: &Path, name: &str, serial: u32) -> PathBuf {
    let w = dir.join(name);
    let out = wallet(&w, &["init"]);
    assert!(out.status.success(), "{out:?}");
    let out = wallet(&w, &["--json", "receive", &zone.offer(serial)]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_of(&out)["vct"], BUSINESS_LICENCE);
    w
}

// ------------------------------------------------------- the back office

fn ask(svc: &VerifierService, token: &str, claims: &[&str], extra: Value) -> Value {
    let mut body = json!({
        "licence": {"type": "business-licence", "claims": claims},
        "purpose": {"zh": "办理跨省企业迁移登记，核验营业执照", "en": "Cross-province company relocation: check the business licence"},
        "service_item": "310118-QY-0042",
    });
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    svc.create(token, &body)
}

fn get(svc: &VerifierService, token: &str, path: &str) -> Response {
    http("GET", &svc.url(path), Some(token), None)
}

/// Long-polls the outcome (`?wait=20`, again while pending): the first
/// read that is no longer pending.
fn await_outcome(svc: &VerifierService, token: &str, created: &Value) -> Value {
    let path = created["outcome"].as_str().unwrap();
    for _ in 0..10 {
        let r = get(svc, token, &format!("{path}?wait=20"));
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        if v["state"] != "pending" {
            return v;
        }
    }
    panic!("still pending after ten long-polls: {path}");
}

/// The outcome read once, without waiting.
fn outcome(svc: &VerifierService, token: &str, created: &Value) -> Value {
    let r = get(svc, token, created["outcome"].as_str().unwrap());
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn link(created: &Value) -> &str {
    created["authorization_request"].as_str().unwrap()
}

// ------------------------------------------- a proxy that records posts

/// A loopback HTTP proxy in front of the service (its public URL): passes
/// every request on (one per connection) and keeps the body of each POST
/// by path, so a test can replay what the wallet sent.
struct Proxy {
    url: String,
    backend: Arc<Mutex<String>>,
    posts: Arc<Mutex<Vec<Posted>>>,
}

/// A POST the proxy passed on: its path and body.
type Posted = (String, Vec<u8>);

/// One HTTP/1.1 request: its request line, headers and body.
struct Incoming {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request.
fn read_request(stream: &TcpStream) -> Option<Incoming> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h == "\r\n" {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_owned(), v.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Incoming {
        line: line.trim_end().to_owned(),
        headers,
        body,
    })
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let backend = Arc::new(Mutex::new(String::new()));
        let posts = Arc::new(Mutex::new(Vec::new()));
        let (b, p) = (backend.clone(), posts.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (b, p) = (b.clone(), p.clone());
                std::thread::spawn(move || {
                    let mut client = client;
                    let Some(Incoming {
                        line,
                        headers,
                        body,
                    }) = read_request(&client)
                    else {
                        return;
                    };
                    let mut parts = line.split(' ');
                    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    if method == "POST" {
                        p.lock().unwrap().push((path.to_owned(), body.clone()));
                    }
                    let addr = b.lock().unwrap().clone();
                    let Ok(mut up) = TcpStream::connect(&addr) else {
                        return;
                    };
                    let mut head = format!("{line}\r\n");
                    for (n, v) in &headers {
                        if !n.eq_ignore_ascii_case("connection") {
                            head.push_str(&format!("{n}: {v}\r\n"));
                        }
                    }
                    head.push_str("Connection: close\r\n\r\n");
                    let mut answer = Vec::new();
                    if up.write_all(head.as_bytes()).is_ok()
                        && up.write_all(&body).is_ok()
                        && up.read_to_end(&mut answer).is_ok()
                    {
                        let _ = client.write_all(&answer);
                    }
                    let _ = client.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Proxy {
            url,
            backend,
            posts,
        }
    }

    fn forward_to(&self, svc: &VerifierService) {
        *self.backend.lock().unwrap() = format!("127.0.0.1:{}", svc.port);
    }

    /// The bodies posted to `path`.
    fn posted(&self, path: &str) -> Vec<Vec<u8>> {
        self.posts
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .collect()
    }
}

// ------------------------------------------------ a hand-made wallet

fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn post_form(url: &str, body: &str) -> Response {
    http_request(
        "POST",
        url,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
}

fn decode_json(part: &str) -> Map<String, Value> {
    serde_json::from_slice(&b64_decode(part, "a JWS part").unwrap()).unwrap()
}

/// A request object as fetched (POST with a wallet nonce), not checked:
/// the wallet's checks are the real wallet's business.
struct Fetched {
    jws: String,
    claims: Map<String, Value>,
}

impl Fetched {
    fn get(request_uri: &str, wallet_nonce: &str) -> Fetched {
        let r = post_form(
            request_uri,
            &form_body(&[
                ("wallet_nonce", wallet_nonce),
                (
                    "wallet_metadata",
                    "{\"vp_formats_supported\":{\"dc+sd-jwt\":{}}}",
                ),
            ]),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let jws = r.text();
        let claims = decode_json(jws.split('.').nth(1).unwrap());
        Fetched { jws, claims }
    }

    fn s(&self, name: &str) -> String {
        self.claims[name].as_str().unwrap().to_owned()
    }

    fn jwk(&self) -> Map<String, Value> {
        self.claims["client_metadata"]["jwks"]["keys"][0]
            .as_object()
            .unwrap()
            .clone()
    }
}

/// A JWE (ECDH-ES, `enc`) of `payload` to `jwk`, with `kid`.
fn encrypt(jwk: &Map<String, Value>, enc: &str, kid: &str, payload: &Value) -> String {
    let key = josekit::jwk::Jwk::from_map(jwk.clone()).unwrap();
    let encrypter = josekit::jwe::ECDH_ES.encrypter_from_jwk(&key).unwrap();
    let mut h = josekit::jwe::JweHeader::new();
    h.set_content_encryption(enc);
    h.set_key_id(kid);
    josekit::jwe::serialize_compact(payload.to_string().as_bytes(), &h, &encrypter).unwrap()
}

/// A holder the test controls, with a Wujiang licence bound to its key.
struct HandWallet {
    holder: Ed25519Signer,
    credential: String,
}

impl HandWallet {
    fn new(zone: &Zone) -> HandWallet {
        let holder = Ed25519Signer::generate(&mut OsRng, None);
        let issued = zone.issuer.admin_issue(&json!({"vct": BUSINESS_LICENCE,
            "claims": tongban_test_support::sample::catalogue_claims("business-licence", 77),
            "holder_jwk": holder.public_key().to_jwk()}));
        HandWallet {
            holder,
            credential: issued["credential"].as_str().unwrap().to_owned(),
        }
    }

    /// A presentation of `claims` with a KB-JWT for `aud` and `nonce`.
    fn presentation(&self, claims: &[&str], aud: &str, nonce: &str) -> String {
        let held = HeldCredential::parse(&self.credential).unwrap();
        let paths: Vec<ClaimPath> = claims
            .iter()
            .map(|c| ClaimPath::parse(c).unwrap())
            .collect();
        let kb = KeyBinding {
            signer: &self.holder,
            audience: aud.into(),
            nonce: nonce.into(),
            iat: tongban_cli_support::time::now(),
            transaction_data_hashes: Vec::new(),
        };
        held.present(&paths, Some(&kb)).unwrap()
    }

    /// The response payload for `req`: `claims` presented for `aud` and `nonce`.
    fn payload(&self, req: &Fetched, claims: &[&str], aud: &str, nonce: &str) -> Value {
        json!({"vp_token": {"licence": [self.presentation(claims, aud, nonce)]}, "state": req.s("state")})
    }

    /// Posts `jwe` to the request's response URI.
    fn post(req: &Fetched, jwe: &str) -> Response {
        post_form(&req.s("response_uri"), &form_body(&[("response", jwe)]))
    }
}

fn code(r: &Response) -> String {
    r.json()["code"].as_str().unwrap_or_default().to_owned()
}

// ------------------------------------------------------- a forged verifier

/// A verifier that is not who it claims: serves `make(wallet_nonce,
/// base)` as the request object at `/request`, and records every path the
/// wallet calls (it must never reach `/response`).
fn forger(
    make: impl Fn(&str, &str) -> String + Send + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (s, b) = (seen.clone(), base.clone());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let Some(Incoming { line, body, .. }) = read_request(&stream) else {
                continue;
            };
            let path = line.split(' ').nth(1).unwrap_or("").to_owned();
            s.lock().unwrap().push(path.clone());
            let nonce = String::from_utf8_lossy(&body)
                .split('&')
                .find_map(|kv| kv.strip_prefix("wallet_nonce=").map(percent_decode))
                .unwrap_or_default();
            let (ctype, answer) = if path == "/request" {
                ("application/oauth-authz-req+jwt", make(&nonce, &b))
            } else {
                ("application/json", "{}".to_owned())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (base, seen)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn openid4vp_link(client_id: &str, request_uri: &str) -> String {
    format!(
        "openid4vp://?client_id={}&request_uri={}&request_uri_method=post",
        encode_component(client_id),
        encode_component(request_uri)
    )
}

/// A CA nobody trusts and a leaf it issued: (leaf DER, leaf key PKCS#8 PEM).
fn untrusted_leaf() -> (Vec<u8>, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Look-alike agencies CA");
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["qingpu-ywtb.verifier.example".to_owned()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    (leaf.der().to_vec(), key.serialize_pem())
}

fn x509_hash(der: &[u8]) -> String {
    format!("x509_hash:{}", b64_encode(openssl::sha::sha256(der)))
}

fn es256_x5c(payload: &Map<String, Value>, leaf: &[u8], key_pem: &str) -> String {
    let mut h = josekit::jws::JwsHeader::new();
    h.set_token_type("oauth-authz-req+jwt");
    h.set_x509_certificate_chain(&vec![leaf.to_vec()]);
    let signer = josekit::jws::ES256.signer_from_pem(key_pem).unwrap();
    josekit::jws::serialize_compact(
        Value::Object(payload.clone()).to_string().as_bytes(),
        &h,
        &signer,
    )
    .unwrap()
}

// ------------------------------------------------------------------ tests

#[test]
fn a_shanghai_agency_reads_a_jiangsu_licence_online_and_every_refusal_holds() {
    let zone = Zone::wujiang();
    let proxy = Proxy::start();
    let svc = zone.service(Some(&proxy.url), &[]);
    proxy.forward_to(&svc);
    let qingpu_id = svc.add_tenant(QINGPU.0, QINGPU.1, QINGPU.2, QINGPU.3);
    let jiading_id = svc.add_tenant(JIADING.0, JIADING.1, JIADING.2, JIADING.3);
    assert!(qingpu_id.starts_with("x509_hash:"), "{qingpu_id}");
    let qingpu = svc.tenant_token(QINGPU.0);
    let jiading = svc.tenant_token(JIADING.0);
    let ready = http("GET", &svc.url("/readyz"), None, None).json();
    assert_eq!(
        ready["trust_bundle"]["fresh"], true,
        "synced itself: {ready}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let li = citizen(&zone, tmp.path(), "wallet-li", 1);
    let ca = &svc.ca_pem;
    let asked = [
        "company_name",
        "unified_social_credit_code",
        "legal_representative",
    ];

    // 1. Cross-device, the link as text: the back office waits on a
    //    long-poll while the citizen answers.
    let created = ask(&svc, &qingpu, &asked, json!({}));
    assert_eq!(created["client_id"], qingpu_id.as_str());
    assert!(link(&created).starts_with("openid4vp://?client_id=x509_hash%3A"));
    let waiting = {
        let (url, token, c) = (svc.url(""), qingpu.clone(), created.clone());
        std::thread::spawn(move || {
            let path = c["outcome"].as_str().unwrap();
            for _ in 0..10 {
                let v = http("GET", &format!("{url}{path}?wait=20"), Some(&token), None).json();
                if v["state"] != "pending" {
                    return v;
                }
            }
            panic!("still pending")
        })
    };
    let (rc, report) = present(&li, link(&created), ca, &["--yes"]);
    assert_eq!(rc, 0, "{report}");
    assert_eq!(report["status"], "presented");
    assert_eq!(report["client_id"], qingpu_id.as_str());
    assert_eq!(report["response_mode"], "direct_post.jwt");
    assert_eq!(report["purpose"]["verifier_name_zh"], QINGPU.1);
    assert!(
        report["redirect_uri"].is_null(),
        "cross-device: no redirect"
    );
    let first = waiting.join().unwrap();
    assert_eq!(first["state"], "accepted", "{first}");
    let claims = &first["claims"]["licence"][0];
    let sample = tongban_test_support::sample::catalogue_claims("business-licence", 1);
    for c in asked {
        assert_eq!(claims[c], sample[c], "{c}: {first}");
    }
    assert!(
        claims.get("address").is_none(),
        "only what was asked: {first}"
    );
    assert_eq!(
        first["verdict"]["presentations"][0]["iss"],
        zone.issuer.iss()
    );
    assert_eq!(first["verdict"]["trust_bundle"]["fresh"], true);
    assert_eq!(first["service_item"], "310118-QY-0042");
    let second = outcome(&svc, &qingpu, &created);
    assert_eq!(second["state"], "accepted");
    assert!(second["claims"].is_null(), "read once: {second}");
    assert_eq!(second["claims_erased"], true);
    // Another agency does not see it.
    assert_eq!(
        get(&svc, &jiading, created["outcome"].as_str().unwrap()).status,
        404
    );

    // 2. Cross-device, the QR code the service draws, as a PNG.
    let created = ask(&svc, &qingpu, &asked, json!({}));
    let png = get(&svc, &qingpu, created["qr_png"].as_str().unwrap());
    assert_eq!(png.header("content-type"), Some("image/png"));
    let png_file = tmp.path().join("qingpu-qr.png");
    std::fs::write(&png_file, &png.body).unwrap();
    let (rc, report) = present(&li, png_file.to_str().unwrap(), ca, &["--yes"]);
    assert_eq!(rc, 0, "{report}");
    let o = await_outcome(&svc, &qingpu, &created);
    assert_eq!(o["state"], "accepted", "{o}");
    assert!(o["claims"]["licence"][0]["company_name"].is_string());

    // 3. Replay: the wallet's own response, recorded by the proxy, posted
    //    again to the answered transaction and into a new one.
    let response_path = format!("/oid4vp/response/{}", created["id"].as_str().unwrap());
    let recorded = proxy.posted(&response_path);
    assert_eq!(recorded.len(), 1, "one response posted");
    let replay = |to: &str| {
        http_request(
            "POST",
            &svc.url(to),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &recorded[0],
        )
    };
    let r = replay(&response_path);
    assert_eq!(
        (r.status, code(&r)),
        (409, "transaction_already_answered".into()),
        "{}",
        r.text()
    );
    let other = ask(&svc, &qingpu, &asked, json!({}));
    let r = replay(&format!(
        "/oid4vp/response/{}",
        other["id"].as_str().unwrap()
    ));
    assert_eq!(
        (r.status, code(&r)),
        (400, "response_wrong_key".into()),
        "{}",
        r.text()
    );
    assert_eq!(
        outcome(&svc, &qingpu, &other)["state"],
        "pending",
        "a stranger's post changes nothing"
    );
    // The citizen can still answer it.
    let (rc, report) = present(&li, link(&other), ca, &["--yes"]);
    assert_eq!(rc, 0, "{report}");
    assert_eq!(await_outcome(&svc, &qingpu, &other)["state"], "accepted");

    // 4. Same-device: the wallet is sent back to the agency's page with a
    //    response code, and only that code releases the outcome.
    let created = ask(
        &svc,
        &qingpu,
        &["company_name"],
        json!({"flow": "same_device", "redirect_page": "https://ywtb.qingpu.example/return"}),
    );
    let (rc, report) = present(&li, link(&created), ca, &["--yes"]);
    assert_eq!(rc, 0, "{report}");
    let redirect = report["redirect_uri"].as_str().unwrap();
    let response_code = redirect
        .strip_prefix("https://ywtb.qingpu.example/return#response_code=")
        .unwrap_or_else(|| panic!("{redirect}"));
    let path = created["outcome"].as_str().unwrap();
    let r = get(&svc, &qingpu, path);
    assert_eq!((r.status, code(&r)), (403, "response_code_required".into()));
    let r = get(
        &svc,
        &qingpu,
        &format!("{path}?response_code=AAAAAAAAAAAAAAAAAAAAAA"),
    );
    assert_eq!(code(&r), "response_code_wrong");
    let o = get(
        &svc,
        &qingpu,
        &format!("{path}?response_code={response_code}"),
    )
    .json();
    assert_eq!(o["state"], "accepted", "{o}");
    assert_eq!(
        o["claims"]["licence"][0]["company_name"],
        sample["company_name"]
    );

    // 5. The refusals on the wallet's side: nothing is stored or changed
    //    (a decline leaves a line of history, and nothing else).
    let held = wallet_json(&li, "list");

    // The citizen declines: the agency is told access_denied.
    let created = ask(&svc, &qingpu, &asked, json!({}));
    let (rc, e) = present(&li, link(&created), ca, &["--decline"]);
    assert_eq!(
        (rc, e["error"]["code"].as_str()),
        (1, Some("declined")),
        "{e}"
    );
    assert_eq!(e["error"]["posted"], "access_denied");
    let o = await_outcome(&svc, &qingpu, &created);
    assert_eq!(o["state"], "refused", "{o}");
    assert_eq!(o["verdict"]["wallet_error"], "access_denied");
    assert!(o["claims"].is_null());
    assert_eq!(wallet_json(&li, "list"), held);
    let last = wallet_json(&li, "history")["history"]
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(
        (last["outcome"].as_str(), last["audience"].as_str()),
        (Some("declined"), created["client_id"].as_str()),
        "{last}"
    );
    let before = wallet_bytes(&li);

    // DCQL: a licence type the wallet does not hold; nothing is told
    // without the citizen's say-so, then told with --tell-if-none.
    let dl = json!({"licence": {"type": "driving-licence", "claims": ["name", "vehicle_class"]}});
    let created = ask(&svc, &qingpu, &[], dl.clone());
    let (rc, e) = present(&li, link(&created), ca, &["--yes"]);
    assert_eq!(
        (rc, e["error"]["code"].as_str()),
        (1, Some("no_matching_credential")),
        "{e}"
    );
    assert!(e["error"]["posted"].is_null());
    assert_eq!(outcome(&svc, &qingpu, &created)["state"], "pending");
    let (rc, e) = present(&li, link(&created), ca, &["--tell-if-none"]);
    assert_eq!(
        (rc, e["error"]["posted"].as_str()),
        (1, Some("access_denied")),
        "{e}"
    );
    assert_eq!(await_outcome(&svc, &qingpu, &created)["state"], "refused");
    // DCQL: a claim the licence does not have.
    let created = ask(&svc, &qingpu, &["company_name", "shareholders"], json!({}));
    let (rc, e) = present(&li, link(&created), ca, &["--yes"]);
    assert_eq!(
        (rc, e["error"]["code"].as_str()),
        (1, Some("no_matching_credential")),
        "{e}"
    );
    assert_eq!(outcome(&svc, &qingpu, &created)["state"], "pending");
    assert_eq!(wallet_bytes(&li), before);

    // A forger serves request objects in Qingpu's name; the wallet posts
    // nothing to any of them.
    let genuine = Fetched::get(
        ask(&svc, &qingpu, &asked, json!({}))["request_uri"]
            .as_str()
            .unwrap(),
        "forger-saw-this",
    );
    let genuine_claims = genuine.claims.clone();
    let forged_payload = move |nonce: &str, base: &str| {
        let mut p = genuine_claims.clone();
        p.insert("wallet_nonce".into(), nonce.into());
        p.insert("response_uri".into(), format!("{base}/response").into());
        p
    };
    let header = genuine.jws.split('.').next().unwrap().to_owned();
    let signature = genuine.jws.split('.').nth(2).unwrap().to_owned();
    let (leaf, leaf_key) = untrusted_leaf();
    let look_alike = x509_hash(&leaf);
    type Forgery = Box<dyn Fn(&str, &str) -> String + Send>;
    let forgeries: Vec<(&str, &str, Forgery)> = vec![
        (
            "unsigned",
            "request_alg_unsupported",
            Box::new({
                let f = forged_payload.clone();
                move |n, b| {
                    let h = b64_encode(
                        json!({"alg": "none", "typ": "oauth-authz-req+jwt"}).to_string(),
                    );
                    format!("{h}.{}.", b64_encode(Value::Object(f(n, b)).to_string()))
                }
            }),
        ),
        (
            "tampered (Qingpu's header and signature, the forger's response URI)",
            "request_signature_invalid",
            Box::new({
                let f = forged_payload.clone();
                let (h, s) = (header.clone(), signature.clone());
                move |n, b| format!("{h}.{}.{s}", b64_encode(Value::Object(f(n, b)).to_string()))
            }),
        ),
        (
            "signed by a CA the wallet does not trust",
            "verifier_ca_untrusted",
            Box::new({
                let f = forged_payload.clone();
                let (leaf, key, id) = (leaf.clone(), leaf_key.clone(), look_alike.clone());
                move |n, b| {
                    let mut p = f(n, b);
                    p.insert("client_id".into(), id.clone().into());
                    es256_x5c(&p, &leaf, &key)
                }
            }),
        ),
    ];
    for (what, expected, make) in forgeries {
        let client_id = if expected == "verifier_ca_untrusted" {
            look_alike.clone()
        } else {
            qingpu_id.clone()
        };
        let (base, seen) = forger(make);
        let forged_link = openid4vp_link(&client_id, &format!("{base}/request"));
        let (rc, e) = present(&li, &forged_link, ca, &["--yes"]);
        assert_eq!(
            (rc, e["error"]["code"].as_str()),
            (1, Some(expected)),
            "{what}: {e}"
        );
        assert!(e["error"]["posted"].is_null(), "{what}: {e}");
        assert_eq!(
            *seen.lock().unwrap(),
            ["/request"],
            "{what}: nothing posted"
        );
        assert_eq!(wallet_bytes(&li), before, "{what}");
    }

    // 6. The refusals on the service's side, with responses made by hand.
    let hand = HandWallet::new(&zone);
    let good = |req: &Fetched| hand.payload(req, &asked, &req.s("client_id"), &req.s("nonce"));

    // For another client identifier: made for Qingpu, posted to Jiading's
    // transaction (its state, nonce and key).
    let created = ask(&svc, &jiading, &asked, json!({}));
    let req = Fetched::get(created["request_uri"].as_str().unwrap(), "w1");
    assert_eq!(req.s("client_id"), jiading_id);
    let p = hand.payload(&req, &asked, &qingpu_id, &req.s("nonce"));
    let kid = req.jwk()["kid"].as_str().unwrap().to_owned();
    let r = HandWallet::post(&req, &encrypt(&req.jwk(), "A128GCM", &kid, &p));
    assert_eq!(
        (r.status, code(&r)),
        (400, "presentation_rejected".into()),
        "{}",
        r.text()
    );
    let o = outcome(&svc, &jiading, &created);
    assert_eq!(o["state"], "rejected", "{o}");
    assert_eq!(
        o["verdict"]["codes"],
        json!(["presentation_rejected", "kb_aud_mismatch"]),
        "{o}"
    );
    assert!(o["claims"].is_null());

    // A wrong nonce.
    let created = ask(&svc, &qingpu, &asked, json!({}));
    let req = Fetched::get(created["request_uri"].as_str().unwrap(), "w2");
    let p = hand.payload(&req, &asked, &qingpu_id, "a-nonce-of-another-day");
    let kid = req.jwk()["kid"].as_str().unwrap().to_owned();
    let r = HandWallet::post(&req, &encrypt(&req.jwk(), "A256GCM", &kid, &p));
    assert_eq!(code(&r), "presentation_rejected", "{}", r.text());
    let o = outcome(&svc, &qingpu, &created);
    assert_eq!(
        o["verdict"]["codes"],
        json!(["presentation_rejected", "kb_nonce_mismatch"]),
        "{o}"
    );

    // Under another transaction's key, and with an unlisted enc: refused
    // without closing the transaction, which then takes a good answer.
    let created = ask(&svc, &qingpu, &asked, json!({}));
    let req = Fetched::get(created["request_uri"].as_str().unwrap(), "w3");
    let elsewhere = Fetched::get(
        ask(&svc, &qingpu, &asked, json!({}))["request_uri"]
            .as_str()
            .unwrap(),
        "w4",
    );
    let kid = req.jwk()["kid"].as_str().unwrap().to_owned();
    let r = HandWallet::post(
        &req,
        &encrypt(&elsewhere.jwk(), "A128GCM", &kid, &good(&req)),
    );
    assert_eq!(
        (r.status, code(&r)),
        (400, "response_wrong_key".into()),
        "{}",
        r.text()
    );
    let r = HandWallet::post(&req, &encrypt(&req.jwk(), "A192GCM", &kid, &good(&req)));
    assert_eq!(
        (r.status, code(&r)),
        (400, "response_enc_unsupported".into()),
        "{}",
        r.text()
    );
    assert_eq!(outcome(&svc, &qingpu, &created)["state"], "pending");
    let r = HandWallet::post(&req, &encrypt(&req.jwk(), "A128GCM", &kid, &good(&req)));
    assert_eq!(
        r.status,
        200,
        "the hand-made wallet is right otherwise: {}",
        r.text()
    );
    assert_eq!(outcome(&svc, &qingpu, &created)["state"], "accepted");

    // DCQL: a presentation missing a claim the query requires.
    let created = ask(&svc, &qingpu, &asked, json!({}));
    let req = Fetched::get(created["request_uri"].as_str().unwrap(), "w5");
    let p = hand.payload(&req, &["company_name"], &qingpu_id, &req.s("nonce"));
    let kid = req.jwk()["kid"].as_str().unwrap().to_owned();
    let r = HandWallet::post(&req, &encrypt(&req.jwk(), "A128GCM", &kid, &p));
    assert_eq!(
        r.json()["codes"],
        json!(["dcql_claim_missing"]),
        "{}",
        r.text()
    );
    assert_eq!(outcome(&svc, &qingpu, &created)["state"], "rejected");

    // The audit chains hold, and no claim value is in them.
    let log = get(&svc, &qingpu, "/api/v1/audit").text();
    assert!(log.contains("transaction.claims_read"), "{log}");
    assert!(!log.contains(sample["company_name"].as_str().unwrap()));
    drop(svc);
}

#[test]
fn an_expired_transaction_and_an_oversize_body_are_refused() {
    let zone = Zone::wujiang();
    let svc = zone.service(
        None,
        &[
            ("TRANSACTION_TTL_SECS", "5"),
            ("MAX_RESPONSE_BYTES", "8192"),
        ],
    );
    svc.add_tenant(QINGPU.0, QINGPU.1, QINGPU.2, QINGPU.3);
    let qingpu = svc.tenant_token(QINGPU.0);
    let tmp = tempfile::tempdir().unwrap();
    let li = citizen(&zone, tmp.path(), "wallet-li", 2);
    let before = wallet_bytes(&li);
    let asked = ["company_name"];

    // The wallet comes after the transaction expired: the request is gone.
    let created = ask(&svc, &qingpu, &asked, json!({}));
    std::thread::sleep(std::time::Duration::from_secs(6));
    let (rc, e) = present(&li, link(&created), &svc.ca_pem, &["--yes"]);
    assert_eq!(
        (rc, e["error"]["code"].as_str()),
        (1, Some("request_expired")),
        "{e}"
    );
    assert!(e["error"]["posted"].is_null());
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("transaction_expired"),
        "{e}"
    );
    assert_eq!(outcome(&svc, &qingpu, &created)["state"], "expired");
    assert_eq!(wallet_bytes(&li), before);

    // A wallet that fetched in time but answers too late.
    let hand = HandWallet::new(&zone);
    let created = ask(&svc, &qingpu, &asked, json!({}));
    let req = Fetched::get(created["request_uri"].as_str().unwrap(), "w");
    let p = hand.payload(&req, &asked, &req.s("client_id"), &req.s("nonce"));
    let jwe = encrypt(
        &req.jwk(),
        "A128GCM",
        req.jwk()["kid"].as_str().unwrap(),
        &p,
    );
    std::thread::sleep(std::time::Duration::from_secs(6));
    let r = HandWallet::post(&req, &jwe);
    assert_eq!(
        (r.status, code(&r)),
        (410, "transaction_expired".into()),
        "{}",
        r.text()
    );
    assert_eq!(outcome(&svc, &qingpu, &created)["state"], "expired");

    // A body over max_response_bytes.
    let created = ask(&svc, &qingpu, &asked, json!({}));
    let response_uri = svc.url(&format!(
        "/oid4vp/response/{}",
        created["id"].as_str().unwrap()
    ));
    let big = form_body(&[("response", &"a".repeat(9000))]);
    let r = post_form(&response_uri, &big);
    assert_eq!(
        (r.status, code(&r)),
        (413, "body_too_large".into()),
        "{}",
        r.text()
    );
    assert_eq!(outcome(&svc, &qingpu, &created)["state"], "pending");
}
