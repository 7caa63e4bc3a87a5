//! End-to-end support for Tongban's tests: the reproducible sample
//! credential and presentation used by the README's first command,
//! helpers that locate the workspace, and a running issuer service
//! ([`issuer`]).
#![forbid(unsafe_code)]

pub mod corpus;
pub mod issuer;
pub mod issuer_load;
pub mod peers;

use std::path::PathBuf;

use rand::SeedableRng as _;
use serde_json::{Value, json};
use tongban_verifier::{
    ClaimPath, CredentialBuilder, Ed25519Signer, HeldCredential, KeyBinding, Signer as _,
};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Where the sample lives in the repository.
pub fn sample_dir() -> PathBuf {
    workspace_root().join("specs/vectors/sample")
}

/// The sample's issuer: a market supervision bureau in Suzhou Wujiang (320509).
pub const SAMPLE_ISSUER: &str = "https://amr.wujiang.example";
/// The sample's licence type.
pub const SAMPLE_VCT: &str = "urn:tongban:business-licence:1";
/// The counter (audience) the sample presentation was made for: Shanghai Qingpu.
pub const SAMPLE_AUD: &str = "https://counter.qingpu.example";
/// The nonce of the counter's request.
pub const SAMPLE_NONCE: &str = "qp-20261125-0001";
/// When the sample presentation was made: 2026-11-25T10:00:00+08:00.
pub const SAMPLE_PRESENTED_AT: i64 = 1_795_572_000;
/// The claims the counter asked for.
pub const SAMPLE_DISCLOSED: [&str; 6] = [
    "unified_social_credit_code",
    "company_name",
    "legal_representative",
    "company_type",
    "establishment_date",
    "registration_authority",
];

/// The sample files, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// `issuer.jwk.json`: the issuer's public key.
    pub issuer_jwk: String,
    /// `credential.txt`: the credential as issued (all disclosures).
    pub credential: String,
    /// `presentation.txt`: six claims disclosed, with a KB-JWT.
    pub presentation: String,
    /// `presentation.tb1.txt`: the presentation in the QR transport.
    pub presentation_transport: String,
    /// `credential.parts.txt`: the credential in the QR transport, split
    /// into parts of at most 700 characters, one per line.
    pub credential_parts: String,
}

/// The sample's business-licence claims (fictional; identifiers carry
/// valid check characters).
pub fn sample_claims() -> serde_json::Map<String, Value> {
    let claims = json!({
        "unified_social_credit_code": "91320509MA1Q8K3T2C",
        "company_name": "苏州吴江通办示范科技有限公司",
        "legal_representative": "李明",
        "company_type": "有限责任公司(自然人投资或控股)",
        "registered_capital": "500万元人民币",
        "establishment_date": "2019-06-18",
        "business_term": "2019-06-18至长期",
        "address": "苏州市吴江区黎里镇汾湖大道1号",
        "business_scope": "软件开发；信息技术咨询服务；数据处理服务",
        "registration_authority": "苏州市吴江区市场监督管理局",
        "issue_date": "2026-11-20",
        "licence_id": "320509-BL-2026-000001"
    });
    claims.as_object().cloned().unwrap_or_default()
}

/// Builds the sample deterministically (fixed seeds, a seeded RNG for the
/// salts; Ed25519 signatures are deterministic).
pub fn generate() -> Result<Sample, Box<dyn std::error::Error>> {
    let issuer = sample_issuer();
    let mut rng = rand::rngs::StdRng::seed_from_u64(20_261_125);
    let issued = CredentialBuilder::new(SAMPLE_ISSUER, SAMPLE_VCT, 1_795_136_400)
        .expires_at(1_952_902_800)
        .holder_key(sample_holder().public_key())
        .claims(sample_claims())
        .issue(&issuer, &mut rng)?;
    let presentation = present_to_sample_counter(&issued.sd_jwt, &SAMPLE_DISCLOSED)?;
    let mut jwk = issuer.public_key().to_jwk();
    jwk["kid"] = Value::String("wujiang-amr-2026".into());
    let presentation_transport = tongban_verifier::transport::encode(&presentation)?;
    let parts = tongban_verifier::transport::split(
        &tongban_verifier::transport::encode(&issued.sd_jwt)?,
        700,
    )?;
    Ok(Sample {
        issuer_jwk: serde_json::to_string_pretty(&jwk)? + "\n",
        credential: issued.sd_jwt + "\n",
        presentation: presentation + "\n",
        presentation_transport: presentation_transport + "\n",
        credential_parts: parts.join("\n") + "\n",
    })
}

/// The path of a workspace binary, built (once per test process) with
/// `cargo build --bins` so the tests never run a stale one.
pub fn cargo_bin(name: &str) -> PathBuf {
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "tongban-verify",
                "-p",
                "tongban-issuer",
                "-p",
                "tongban-wallet",
                "--bins",
            ])
            .current_dir(workspace_root())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "cargo build --bins failed"
        );
    });
    // target/debug/deps/<test binary> -> target/debug/<name>
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    dir.join(name)
}

/// Realistic sample claims for every licence type of the catalogue, by
/// type slug (`tests/src/samples.json`; every value passes its schema).
pub fn catalogue_samples() -> serde_json::Map<String, Value> {
    serde_json::from_str(include_str!("samples.json")).unwrap_or_default()
}

/// A realistic credential of catalogue type `slug` with the sample claims,
/// issued in Wujiang with a status entry and bound to a holder key, and a
/// presentation of it disclosing `disclose` (claim names) with a KB-JWT.
/// Returns `(issued credential, presentation)`.
pub fn realistic_presentation(
    slug: &str,
    disclose: &[&str],
) -> Result<(String, String), Box<dyn std::error::Error>> {
    let catalogue = tongban_verifier::catalogue::Catalogue::builtin()?;
    let kind = catalogue.by_slug(slug).ok_or("no such type")?;
    let claims = catalogue_samples()
        .get(slug)
        .and_then(Value::as_object)
        .cloned()
        .ok_or("no sample for the type")?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let issued = CredentialBuilder::new(SAMPLE_ISSUER, &kind.vct, 1_795_136_400)
        .expires_at(1_952_902_800)
        .holder_key(sample_holder().public_key())
        .status(serde_json::json!({"status_list": {"idx": 123_456, "uri": "https://amr.wujiang.example/status/1"}}))
        .claims(claims)
        .issue(&sample_issuer(), &mut rng)?;
    let presentation = present_to_sample_counter(&issued.sd_jwt, disclose)?;
    Ok((issued.sd_jwt, presentation))
}

/// The sample's issuer key (Wujiang, kid `wujiang-amr-2026`).
fn sample_issuer() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[0x11; 32], Some("wujiang-amr-2026".into()))
}

/// The sample's holder key.
fn sample_holder() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[0x22; 32], None)
}

/// Presents `disclose` of an issued credential as the sample holder, to the
/// sample counter, at the sample's time.
fn present_to_sample_counter(
    sd_jwt: &str,
    disclose: &[&str],
) -> Result<String, Box<dyn std::error::Error>> {
    let holder = sample_holder();
    let held = HeldCredential::parse(sd_jwt)?;
    let paths: Vec<ClaimPath> = disclose
        .iter()
        .filter_map(|p| ClaimPath::parse(p))
        .collect();
    let kb = KeyBinding {
        signer: &holder,
        audience: SAMPLE_AUD.into(),
        nonce: SAMPLE_NONCE.into(),
        iat: SAMPLE_PRESENTED_AT,
    };
    Ok(held.present(&paths, Some(&kb))?)
}

/// The smallest QR version (1–40) that holds `text` at error correction
/// level M, or `None` if none does.
pub fn qr_version_m(text: &str) -> Option<i16> {
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .ok()?
        .version()
    {
        qrcode::Version::Normal(v) => Some(v),
        qrcode::Version::Micro(_) => Some(0),
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 serving a path → body map that the
/// caller can change; it answers until the test process ends. Returns the
/// base URL (`http://127.0.0.1:PORT`).
pub fn serve_http(
    files: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
) -> std::io::Result<String> {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_owned();
            let body = files
                .lock()
                .ok()
                .and_then(|f| f.iter().find(|(p, _)| *p == path).map(|(_, b)| b.clone()));
            let response = match body {
                Some(b) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                    b.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .into(),
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    Ok(format!("http://{addr}"))
}
