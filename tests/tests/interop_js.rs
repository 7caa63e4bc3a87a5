//! Interoperability with an implementation nobody on this team wrote:
//! `@sd-jwt/sd-jwt-vc` and `@sd-jwt/jwt-status-list` 0.19.0 (npm, pinned
//! with a lockfile in `tests/interop/js/`), run by Node.js.
//!
//! - Tongban's presentation (the sample: Ed25519 issuer and holder, KB-JWT)
//!   verifies in the peer, with the same disclosed claims.
//! - The peer's credential and presentation (Ed25519, KB-JWT) verify in
//!   Tongban under the SD-JWT VC profile.
//! - Tongban's status list token decodes in the peer with the same statuses.
//!
//! Node.js and npm are required (CI installs the packages with `npm ci`);
//! without them these tests fail loudly rather than pass silently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use serde_json::Value;
use tongban_test_support::sample::{SAMPLE_AUD, SAMPLE_NONCE, SAMPLE_PRESENTED_AT, sample_dir};
use tongban_verifier::status::Bits;
use tongban_verifier::*;

/// Runs the npm peer's `interop.mjs` (installed on first use).
fn node(args: &[&str]) -> Value {
    tongban_e2e::peers::node("interop.mjs", args)
}

#[test]
fn our_presentation_verifies_in_the_peer() {
    let p = sample_dir().join("presentation.txt");
    let jwk = sample_dir().join("issuer.jwk.json");
    let now = (SAMPLE_PRESENTED_AT + 60).to_string();
    let v = node(&[
        "verify",
        p.to_str().unwrap(),
        jwk.to_str().unwrap(),
        SAMPLE_AUD,
        SAMPLE_NONCE,
        &now,
    ]);
    assert_eq!(v["ok"], true);
    assert_eq!(v["claims"]["company_name"], "苏州吴江通办示范科技有限公司");
    assert_eq!(v["claims"]["legal_representative"], "李明");
    assert!(
        v["claims"].get("business_scope").is_none(),
        "undisclosed claims stay hidden"
    );
    assert_eq!(v["kb"]["nonce"], SAMPLE_NONCE);
}

#[test]
fn the_peers_presentation_verifies_in_tongban() {
    let now = 1_795_572_000_i64;
    let made = node(&["make", &now.to_string(), SAMPLE_AUD, "peer-nonce-1"]);
    let mut keys = InMemoryKeys::new();
    keys.add_issuer_key(
        "https://peer.example/issuer",
        KeyWithId::from_jwk(&made["issuer_jwk"]).unwrap(),
    );
    let presentation = made["presentation"].as_str().unwrap();
    let report = verify(
        presentation,
        &Policy::counter(now + 10, SAMPLE_AUD, "peer-nonce-1"),
        &keys,
    );
    assert!(report.is_accepted(), "{:?}", report.rejection);
    let claims = report.claims.unwrap();
    assert_eq!(claims["company_name"], "嘉善互通测试有限公司");
    assert!(claims.get("legal_representative").is_none());
    // Our checks stay strict with the peer's output: a wrong nonce is refused.
    let report = verify(
        presentation,
        &Policy::counter(now + 10, SAMPLE_AUD, "other"),
        &keys,
    );
    assert_eq!(report.code(), Some(ErrorCode::KbNonceMismatch));
    // The peer's issued credential (no KB-JWT) verifies without holder binding.
    let report = verify(
        made["credential"].as_str().unwrap(),
        &Policy::without_holder_binding(now + 10),
        &keys,
    );
    assert!(report.is_accepted(), "{:?}", report.rejection);
}

#[test]
fn our_status_list_decodes_in_the_peer() {
    for bits in [1u8, 2, 4, 8] {
        let mut list = StatusList::new(Bits::new(bits).unwrap(), 10_000);
        let max = if bits == 8 { 255 } else { (1u8 << bits) - 1 };
        let set = [(0usize, 1u8), (7, max), (4999, 1), (9999, max)];
        for (i, v) in set {
            assert!(list.set(i, v));
        }
        let signer = Ed25519Signer::from_seed(&[5; 32], Some("k".into()));
        let jwt = StatusListToken::sign(
            &signer,
            "https://amr.wujiang.example",
            "https://amr.wujiang.example/status/1",
            1_795_572_000,
            None,
            Some(3600),
            &list,
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("status.jwt");
        std::fs::write(&file, &jwt).unwrap();
        let v = node(&[
            "status",
            file.to_str().unwrap(),
            "0",
            "1",
            "7",
            "4999",
            "9999",
        ]);
        let got: Vec<u64> = v["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_u64().unwrap())
            .collect();
        assert_eq!(
            got,
            vec![1, 0, u64::from(max), 1, u64::from(max)],
            "bits {bits}"
        );
    }
}

/// A presentation made by `tongban-wallet` (the real binary) verifies in the peer.
#[test]
fn a_wallet_presentation_verifies_in_the_peer() {
    let tmp = tempfile::tempdir().unwrap();
    let wallet = |args: &[&str]| {
        let out = tongban_e2e::cli::wallet(&tmp.path().join("w"), "interop passphrase", args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let init: Value = serde_json::from_str(wallet(&["--json", "init"]).trim()).unwrap();
    let issuer = Ed25519Signer::from_seed(&[0x31; 32], None);
    let key_file = tmp.path().join("issuer.jwk.json");
    std::fs::write(&key_file, issuer.public_key().to_jwk().to_string()).unwrap();
    let now = tongban_cli_support::time::now();
    let claims = tongban_test_support::sample::catalogue_samples()["business-licence"]
        .as_object()
        .cloned()
        .unwrap();
    let issued = CredentialBuilder::new(
        "https://amr.wujiang.example",
        "urn:tongban:business-licence:1",
        now - 60,
    )
    .expires_at(now + 86_400)
    .holder_key(PublicKey::from_jwk(&init["holder_jwk"]).unwrap())
    .claims(claims)
    .issue(&issuer, &mut rand::rngs::OsRng)
    .unwrap();
    let cred = tmp.path().join("c.sdjwt");
    std::fs::write(&cred, issued.sd_jwt).unwrap();
    wallet(&[
        "receive",
        "--file",
        cred.to_str().unwrap(),
        "--issuer-key",
        key_file.to_str().unwrap(),
    ]);
    let presentation = wallet(&[
        "present",
        "c1",
        "--disclose",
        "company_name,address",
        "--aud",
        SAMPLE_AUD,
        "--nonce",
        "w-nonce-1",
        "--qr",
        "plain",
        "--yes",
    ]);
    let p = tmp.path().join("p.txt");
    std::fs::write(&p, presentation.trim()).unwrap();
    let v = node(&[
        "verify",
        p.to_str().unwrap(),
        key_file.to_str().unwrap(),
        SAMPLE_AUD,
        "w-nonce-1",
        &now.to_string(),
    ]);
    assert_eq!(v["claims"]["address"], "苏州市吴江区黎里镇汾湖大道1号");
    assert!(v["claims"].get("legal_representative").is_none());
}
