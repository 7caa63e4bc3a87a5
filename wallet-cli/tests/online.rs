//! `present LINK` against a verifier played by a small in-test HTTP server:
//! it serves a request object signed with an rcgen certificate (after
//! checking the wallet's POST of its metadata and nonce), receives the
//! response, decrypts it with josekit and checks the VP token with
//! `tongban_protocol::oid4vp::verify_vp_token`. Refusals post
//! `access_denied` (or nothing, when the request is not trusted), and never
//! change the wallet file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/verifier.rs"]
mod fixtures;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tongban_protocol::oid4vp::request::transaction_data_hash;
use tongban_protocol::oid4vp::{
    AuthorizationRequest, AuthorizationResponse, DcqlQuery, Expectations, verify_vp_token,
};
use tongban_verifier::{
    CredentialBuilder, Ed25519Signer, InMemoryKeys, KeyWithId, Policy, PublicKey, Signer as _,
};

const PASS: &str = "correct horse battery";
const VCT: &str = "urn:example:licence";
const ISS: &str = "https://amr.wujiang.example";
const NONCE: &str = "n-qp-0001";

fn wallet(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tongban-wallet"))
        .arg("--wallet")
        .arg(dir)
        .args(args)
        .env("TONGBAN_WALLET_PASSPHRASE", PASS)
        .env("TONGBAN_WALLET_TEST_KDF_LOG_N", "10")
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn issuer() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[0x21; 32], None)
}

/// A wallet holding `c1`, a licence with three claims.
fn wallet_with_licence(tmp: &Path) -> PathBuf {
    let w = tmp.join("wallet");
    let init = json_of(&wallet(&w, &["--json", "init"]));
    let holder = PublicKey::from_jwk(&init["holder_jwk"]).unwrap();
    let now = tongban_cli_support::time::now();
    let issued = CredentialBuilder::new(ISS, VCT, now - 60)
        .holder_key(holder)
        .claim("company_name", json!("苏州吴江示例有限公司"))
        .claim("legal_representative", json!("李明"))
        .claim("address", json!("苏州市吴江区"))
        .issue(&issuer(), &mut rand::rngs::OsRng)
        .unwrap();
    let cred = tmp.join("licence.sdjwt");
    std::fs::write(&cred, issued.sd_jwt).unwrap();
    let key = tmp.join("issuer.jwk.json");
    std::fs::write(&key, issuer().public_key().to_jwk().to_string()).unwrap();
    let out = wallet(
        &w,
        &[
            "receive",
            "--file",
            cred.to_str().unwrap(),
            "--issuer-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    w
}

/// What the verifier saw.
#[derive(Default)]
struct Seen {
    /// The form the wallet posted to the request URI.
    request_post: Option<Vec<(String, String)>>,
    /// The Accept header of that request.
    request_accept: Option<String>,
    /// The form posted to the response URI.
    response: Option<Vec<(String, String)>>,
}

/// The verifier: signs its request object for the wallet nonce it is sent.
struct Verifier {
    base: String,
    client_id: String,
    ca_file: PathBuf,
    private_key: josekit::jwk::Jwk,
    payload: Value,
    seen: Arc<Mutex<Seen>>,
}

impl Verifier {
    fn link(&self) -> String {
        AuthorizationRequest::by_reference(&self.client_id, &format!("{}/request", self.base))
            .to_uri()
    }

    fn response_form(&self) -> Option<Vec<(String, String)>> {
        self.seen.lock().unwrap().response.clone()
    }
}

fn form(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Starts the verifier; `edit` changes the request object before it is
/// signed (after `wallet_nonce` is set).
fn verifier(tmp: &Path, edit: fn(&mut Value)) -> Verifier {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let pki = fixtures::pki("Shanghai Verifier CA", "verifier.qingpu.example");
    let ca_file = tmp.join("verifier-ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let client_id = fixtures::x509_hash(&pki.leaf_der);
    let (private_key, public) = fixtures::encryption_key("enc-7");
    let payload = fixtures::request_payload(
        &client_id,
        &format!("{base}/response"),
        NONCE,
        None,
        &public,
        VCT,
        &["company_name", "legal_representative"],
    );
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (seen2, payload2) = (seen.clone(), payload.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
            let (mut length, mut accept) = (0usize, String::new());
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                let (name, value) = h.split_once(':').unwrap_or((&h, ""));
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap(),
                    "accept" => accept = value.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let body = form(&String::from_utf8(body).unwrap());
            let (status, ctype, answer) = match path.as_str() {
                "/request" => {
                    let mut p = payload2.clone();
                    if let Some(n) = field(&body, "wallet_nonce") {
                        p["wallet_nonce"] = json!(n);
                    }
                    edit(&mut p);
                    let jws =
                        fixtures::sign(&p, "oauth-authz-req+jwt", &[&pki.leaf_der], &pki.leaf_key);
                    let mut s = seen2.lock().unwrap();
                    s.request_post = Some(body);
                    s.request_accept = Some(accept);
                    ("200 OK", "application/oauth-authz-req+jwt", jws)
                }
                "/response" => {
                    seen2.lock().unwrap().response = Some(body);
                    (
                        "200 OK",
                        "application/json",
                        json!({"redirect_uri": "https://service.qingpu.example/done#response_code=rc-1"})
                            .to_string(),
                    )
                }
                _ => ("404 Not Found", "text/plain", String::new()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    Verifier {
        base,
        client_id,
        ca_file,
        private_key,
        payload,
        seen,
    }
}

fn wallet_bytes(w: &Path) -> Vec<u8> {
    std::fs::read(w.join("wallet.age")).unwrap()
}

fn no_edit(_: &mut Value) {}

#[test]
fn the_wallet_answers_a_signed_request_with_an_encrypted_vp_token() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_licence(tmp.path());
    let v = verifier(tmp.path(), no_edit);
    let added = wallet(
        &w,
        &["--json", "verifier-ca", "add", v.ca_file.to_str().unwrap()],
    );
    assert!(added.status.success(), "{added:?}");
    let listed = json_of(&wallet(&w, &["--json", "verifier-ca", "list"]));
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // The link as a PNG of the QR code on the agency's page.
    let link_file = tmp.path().join("link.png");
    tongban_cli_support::qr::write_png(&link_file, &[v.link()]).unwrap();
    let out = wallet(
        &w,
        &["--json", "present", link_file.to_str().unwrap(), "--yes"],
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    assert_eq!(report["status"], "presented");
    assert_eq!(report["client_id"], v.client_id);
    assert_eq!(report["enc"], "A256GCM");
    assert_eq!(
        report["redirect_uri"],
        "https://service.qingpu.example/done#response_code=rc-1"
    );
    assert_eq!(report["presented"][0]["credential"], "c1");
    assert_eq!(report["purpose"]["service_item"], "企业设立登记");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("青浦区行政服务中心"), "{stderr}");

    // The request URI was asked by POST with the wallet's metadata.
    {
        let seen = v.seen.lock().unwrap();
        let post = seen.request_post.as_ref().unwrap();
        assert!(field(post, "wallet_nonce").is_some_and(|n| n.len() >= 16));
        let meta: Value = serde_json::from_str(field(post, "wallet_metadata").unwrap()).unwrap();
        assert!(meta["vp_formats_supported"]["dc+sd-jwt"].is_object());
        assert_eq!(
            seen.request_accept.as_deref(),
            Some("application/oauth-authz-req+jwt")
        );
    }

    // The verifier decrypts and checks the answer.
    let posted = v.response_form().unwrap();
    let jwe = field(&posted, "response").unwrap();
    let (plain, header) = josekit::jwe::deserialize_compact(
        jwe,
        &josekit::jwe::ECDH_ES
            .decrypter_from_jwk(&v.private_key)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header.key_id(), Some("enc-7"));
    assert_eq!(header.content_encryption(), Some("A256GCM"));
    let response: AuthorizationResponse = serde_json::from_slice(&plain).unwrap();
    assert_eq!(response.state.as_deref(), Some("state-1"));
    let query: DcqlQuery = serde_json::from_value(v.payload["dcql_query"].clone()).unwrap();
    let mut keys = InMemoryKeys::new();
    keys.add_issuer_key(
        ISS,
        KeyWithId {
            key: issuer().public_key(),
            kid: None,
        },
    );
    let mut policy = Policy::counter(tongban_cli_support::time::now(), "", "");
    policy.check_schema = false;
    let verified = verify_vp_token(
        &query,
        &response.vp_token,
        &Expectations {
            client_id: &v.client_id,
            nonce: NONCE,
            transaction_data: &[],
        },
        &policy,
        &keys,
    )
    .unwrap();
    assert_eq!(verified.len(), 1);
    let names = verified[0].report.disclosed.clone();
    assert!(names.contains(&"company_name".to_string()), "{names:?}");
    assert!(
        !names.contains(&"address".to_string()),
        "only what was asked leaves the wallet: {names:?}"
    );
}

#[test]
fn declining_posts_access_denied_and_records_who_asked_for_what() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_licence(tmp.path());
    let v = verifier(tmp.path(), no_edit);
    let held = json_of(&wallet(&w, &["--json", "list"]));
    // The link in a text file.
    let link_file = tmp.path().join("link.txt");
    std::fs::write(&link_file, format!("{}\n", v.link())).unwrap();
    let out = wallet(
        &w,
        &[
            "--json",
            "present",
            link_file.to_str().unwrap(),
            "--decline",
            "--verifier-ca",
            v.ca_file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let e = json_of(&out);
    assert_eq!(e["error"]["code"], "declined");
    assert_eq!(e["error"]["posted"], "access_denied");
    let posted = v.response_form().unwrap();
    assert_eq!(field(&posted, "error"), Some("access_denied"));
    assert_eq!(field(&posted, "state"), Some("state-1"));
    // Nothing but a line of history: the recipient, what it asked,
    // declined, nothing presented.
    assert_eq!(json_of(&wallet(&w, &["--json", "list"])), held);
    let h = history(&w);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0]["channel"], "online");
    assert_eq!(h[0]["outcome"], "declined");
    assert_eq!(h[0]["audience"], v.client_id.as_str());
    assert!(!h[0]["claims"].as_array().unwrap().is_empty(), "{h:?}");
    assert!(h[0]["credentials"].is_null(), "nothing presented: {h:?}");
    let text = String::from_utf8_lossy(&wallet(&w, &["history"]).stdout).into_owned();
    assert!(text.contains("online declined"), "{text}");

    // Without a terminal and without --yes, nobody consented: declined too.
    let v = verifier(tmp.path(), no_edit);
    let out = wallet(
        &w,
        &[
            "present",
            &v.link(),
            "--verifier-ca",
            v.ca_file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        field(&v.response_form().unwrap(), "error"),
        Some("access_denied")
    );
    assert_eq!(json_of(&wallet(&w, &["--json", "list"])), held);
    let h = history(&w);
    assert_eq!(h.len(), 2);
    assert_eq!(h[1]["outcome"], "declined");
}

#[test]
fn an_untrusted_request_is_refused_and_nothing_is_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_licence(tmp.path());
    let v = verifier(tmp.path(), no_edit);
    let before = wallet_bytes(&w);
    // No verifier CA trusted at all: fail closed.
    let out = wallet(&w, &["--json", "present", &v.link(), "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(json_of(&out)["error"]["code"], "verifier_ca_untrusted");
    assert!(
        v.response_form().is_none(),
        "nothing is posted to an untrusted party"
    );

    // The request does not echo the wallet nonce (a replayed request).
    fn replayed(p: &mut Value) {
        p["wallet_nonce"] = json!("an-old-nonce");
    }
    let v = verifier(tmp.path(), replayed);
    let out = wallet(
        &w,
        &[
            "--json",
            "present",
            &v.link(),
            "--yes",
            "--verifier-ca",
            v.ca_file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(json_of(&out)["error"]["code"], "wallet_nonce_mismatch");
    assert!(v.response_form().is_none());
    assert_eq!(wallet_bytes(&w), before);
}

#[test]
fn nothing_matching_is_told_only_when_asked_and_unknown_transaction_data_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_licence(tmp.path());
    fn other_type(p: &mut Value) {
        p["dcql_query"]["credentials"][0]["meta"]["vct_values"] = json!(["urn:example:other"]);
    }
    let v = verifier(tmp.path(), other_type);
    let ca = v.ca_file.to_str().unwrap().to_owned();
    let out = wallet(
        &w,
        &[
            "--json",
            "present",
            &v.link(),
            "--yes",
            "--verifier-ca",
            &ca,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(json_of(&out)["error"]["code"], "no_matching_credential");
    assert!(
        v.response_form().is_none(),
        "not told without the citizen's say-so"
    );

    let v = verifier(tmp.path(), other_type);
    let ca = v.ca_file.to_str().unwrap().to_owned();
    let out = wallet(
        &w,
        &[
            "--json",
            "present",
            &v.link(),
            "--tell-if-none",
            "--verifier-ca",
            &ca,
        ],
    );
    assert_eq!(json_of(&out)["error"]["posted"], "access_denied");
    assert_eq!(
        field(&v.response_form().unwrap(), "error"),
        Some("access_denied")
    );

    fn payment(p: &mut Value) {
        let td = tongban_verifier::encoding::b64_encode(
            json!({"type": "urn:example:payment", "credential_ids": ["licence"]}).to_string(),
        );
        p["transaction_data"] = json!([td]);
    }
    let v = verifier(tmp.path(), payment);
    let ca = v.ca_file.to_str().unwrap().to_owned();
    let out = wallet(
        &w,
        &[
            "--json",
            "present",
            &v.link(),
            "--yes",
            "--verifier-ca",
            &ca,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(json_of(&out)["error"]["code"], "invalid_transaction_data");
    assert_eq!(
        field(&v.response_form().unwrap(), "error"),
        Some("invalid_transaction_data")
    );
}

#[test]
fn application_transaction_data_is_hashed_into_the_kb_jwt() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_licence(tmp.path());
    fn application(p: &mut Value) {
        p["transaction_data"] = json!([application_td()]);
    }
    let v = verifier(tmp.path(), application);
    let ca = v.ca_file.to_str().unwrap().to_owned();
    let out = wallet(
        &w,
        &[
            "--json",
            "present",
            &v.link(),
            "--yes",
            "--verifier-ca",
            &ca,
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        json_of(&out)["authorized_applications"],
        json!(["QP-2026-0001"])
    );
    let posted = v.response_form().unwrap();
    let (plain, _) = josekit::jwe::deserialize_compact(
        field(&posted, "response").unwrap(),
        &josekit::jwe::ECDH_ES
            .decrypter_from_jwk(&v.private_key)
            .unwrap(),
    )
    .unwrap();
    let response: AuthorizationResponse = serde_json::from_slice(&plain).unwrap();
    let presentation = &response.vp_token["licence"][0];
    let kb = presentation.rsplit('~').next().unwrap();
    let payload: Value = serde_json::from_slice(
        &tongban_verifier::encoding::b64_decode(kb.split('.').nth(1).unwrap(), "kb").unwrap(),
    )
    .unwrap();
    assert_eq!(
        payload["transaction_data_hashes"],
        json!([transaction_data_hash(&application_td())])
    );
    assert_eq!(payload["aud"], v.client_id);
    assert_eq!(payload["nonce"], NONCE);
}

fn application_td() -> String {
    tongban_verifier::encoding::b64_encode(
        json!({"type": "urn:tongban:transaction-data:application:1", "credential_ids": ["licence"],
               "application_id": "QP-2026-0001", "summary_zh": "企业设立登记申请",
               "summary_en": "company registration application"})
        .to_string(),
    )
}

#[test]
fn several_matching_credentials_need_a_choice() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_licence(tmp.path());
    // A second licence of the same type.
    let out = wallet(
        &w,
        &[
            "receive",
            "--file",
            tmp.path().join("licence.sdjwt").to_str().unwrap(),
            "--issuer-key",
            tmp.path().join("issuer.jwk.json").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let v = verifier(tmp.path(), no_edit);
    let ca = v.ca_file.to_str().unwrap().to_owned();
    let out = wallet(
        &w,
        &[
            "--json",
            "present",
            &v.link(),
            "--yes",
            "--verifier-ca",
            &ca,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(json_of(&out)["error"]["code"], "credential_not_matching");
    assert!(v.response_form().is_none());
    let out = wallet(
        &w,
        &[
            "--json",
            "present",
            &v.link(),
            "--yes",
            "--verifier-ca",
            &ca,
            "--credential",
            "c2",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_of(&out)["presented"][0]["credential"], "c2");
}

/// The zone's anchor for the registered-requester tests.
fn anchor() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[0x51; 32], Some("yrd-1".into()))
}

/// A trust list (sequence `seq`) registering `agency`, signed by
/// [`anchor`], and imported into the wallet; returns the import's output.
fn import_list(
    tmp: &Path,
    w: &Path,
    seq: u64,
    agency: tongban_verifier::relying_party::TrustedVerifier,
) -> Output {
    use tongban_verifier::trust::{Anchor, TRUST_LIST_VERSION, TrustList};
    let now = tongban_cli_support::time::now();
    let list = TrustList {
        version: TRUST_LIST_VERSION,
        anchor: Anchor {
            id: "https://trust.yrd.example".into(),
            name_zh: "长三角示范区".into(),
            name_en: "YRD zone".into(),
        },
        sequence: seq,
        issued_at: now - 60,
        next_update: now + 86_400,
        issuers: vec![],
        root_sequence: None,
        verifiers: Some(vec![agency]),
        x509_anchors: None,
    };
    let file = tmp.join(format!("trust-list-{seq}.jwt"));
    std::fs::write(&file, list.sign(&anchor()).unwrap()).unwrap();
    let pin = tmp.join("anchor.pub.jwk");
    let mut jwk = anchor().public_key().to_jwk();
    jwk["kid"] = json!("yrd-1");
    std::fs::write(&pin, jwk.to_string()).unwrap();
    wallet(
        w,
        &[
            "--json",
            "trust-list",
            "import",
            "--file",
            file.to_str().unwrap(),
            "--anchor-key",
            pin.to_str().unwrap(),
        ],
    )
}

/// The Qingpu centre registered with the certificate `client_id` names,
/// for the mock verifier's service item, granted `claims` of [`VCT`].
fn registered(
    client_id: &str,
    claims: &[&str],
    compromised_at: Option<i64>,
    not_after: Option<i64>,
) -> tongban_verifier::relying_party::TrustedVerifier {
    use tongban_verifier::relying_party::*;
    let now = tongban_cli_support::time::now();
    TrustedVerifier {
        id: "https://qingpu.example".into(),
        name_zh: "上海市青浦区行政服务中心".into(),
        name_en: "Qingpu Administrative Service Centre (registered)".into(),
        region: "310118".into(),
        keys: vec![],
        certificates: vec![TrustedCertificate {
            x509_hash: client_id.strip_prefix("x509_hash:").unwrap().into(),
            not_before: now - 86_400,
            not_after: None,
            compromised_at,
        }],
        dns_names: vec![],
        not_before: now - 86_400,
        not_after,
        service_items: vec![ServiceItem {
            id: "企业设立登记".into(),
            name_zh: "企业设立登记（已登记）".into(),
            name_en: "Company registration".into(),
            purpose_zh: "依据《市场主体登记管理条例》".into(),
            purpose_en: "Market entity registration regulation".into(),
            licences: vec![LicenceGrant {
                vct: VCT.into(),
                claims: claims.iter().map(|c| (*c).to_owned()).collect(),
                holder_binding_required: true,
            }],
        }],
    }
}

fn history(w: &Path) -> Vec<Value> {
    json_of(&wallet(w, &["--json", "history"]))["history"]
        .as_array()
        .cloned()
        .unwrap()
}

/// The online request is refused with `code`: nothing posted to the
/// agency, the credentials unchanged, one history line.
fn assert_online_refused(w: &Path, v: &Verifier, code: &str) -> Value {
    let before = json_of(&wallet(w, &["--json", "list"]));
    let lines = history(w).len();
    let out = wallet(
        w,
        &[
            "--json",
            "present",
            &v.link(),
            "--yes",
            "--verifier-ca",
            v.ca_file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let e = json_of(&out);
    assert_eq!(e["error"]["code"], code, "{e}");
    assert!(v.response_form().is_none(), "nothing is sent to the agency");
    assert_eq!(json_of(&wallet(w, &["--json", "list"])), before);
    let h = history(w);
    assert_eq!(h.len(), lines + 1);
    assert_eq!(h[lines]["outcome"], "refused");
    assert_eq!(h[lines]["channel"], "online");
    assert_eq!(h[lines]["code"], code);
    e
}

#[test]
fn a_registered_agency_online_is_named_from_the_trust_list_and_held_to_it() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_licence(tmp.path());
    let v = verifier(tmp.path(), no_edit);
    let ok = import_list(
        tmp.path(),
        &w,
        1,
        registered(
            &v.client_id,
            &["company_name", "legal_representative"],
            None,
            None,
        ),
    );
    assert!(ok.status.success(), "{ok:?}");
    let out = wallet(
        &w,
        &[
            "--json",
            "present",
            &v.link(),
            "--yes",
            "--verifier-ca",
            v.ca_file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for shown in [
        "上海市青浦区行政服务中心",
        "Qingpu Administrative Service Centre (registered)",
        "310118",
        "企业设立登记（已登记）",
        "市场主体登记管理条例",
    ] {
        assert!(stderr.contains(shown), "{shown} not shown:\n{stderr}");
    }
    let h = history(&w);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["outcome"], "presented");
    assert_eq!(h[0]["channel"], "online");
    assert_eq!(h[0]["verifier"], "https://qingpu.example");
    assert_eq!(h[0]["audience"], v.client_id);
    assert_eq!(
        h[0]["claims"],
        json!(["company_name", "legal_representative"])
    );
}

#[test]
fn an_online_request_beyond_or_outside_the_registration_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_licence(tmp.path());
    let now = tongban_cli_support::time::now();
    // One claim too many.
    let v = verifier(tmp.path(), no_edit);
    assert!(
        import_list(
            tmp.path(),
            &w,
            1,
            registered(&v.client_id, &["company_name"], None, None)
        )
        .status
        .success()
    );
    let e = assert_online_refused(&w, &v, "claims_not_registered");
    assert_eq!(
        e["error"]["excess"],
        json!([format!("{VCT} legal_representative")])
    );
    // An agency (certificate) the list does not know.
    let other = "x509_hash:".to_owned() + &"A".repeat(43);
    assert!(
        import_list(
            tmp.path(),
            &w,
            2,
            registered(&other, &["company_name"], None, None)
        )
        .status
        .success()
    );
    let v = verifier(tmp.path(), no_edit);
    assert_online_refused(&w, &v, "requester_unknown");
    // Its certificate reported compromised.
    let v = verifier(tmp.path(), no_edit);
    let revoked = registered(
        &v.client_id,
        &["company_name", "legal_representative"],
        Some(now - 60),
        None,
    );
    assert!(import_list(tmp.path(), &w, 3, revoked).status.success());
    assert_online_refused(&w, &v, "requester_key_revoked");
    // Its registration ended.
    let v = verifier(tmp.path(), no_edit);
    let ended = registered(
        &v.client_id,
        &["company_name", "legal_representative"],
        None,
        Some(now - 60),
    );
    assert!(import_list(tmp.path(), &w, 4, ended).status.success());
    assert_online_refused(&w, &v, "requester_registration_expired");
    // An old list replayed is refused, the wallet unchanged.
    let replay = import_list(
        tmp.path(),
        &w,
        1,
        registered(
            &v.client_id,
            &["company_name", "legal_representative"],
            None,
            None,
        ),
    );
    assert_eq!(json_of(&replay)["error"]["code"], "trust_list_rollback");
    assert_online_refused(&w, &v, "requester_registration_expired");
}
