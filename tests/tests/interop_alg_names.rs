//! Which algorithm names the peers read (`docs/interop.md` keeps the
//! table): Tongban presentations whose issuer JWT and KB-JWT are signed
//! `EdDSA`, the fully specified `Ed25519` of RFC 9864 (an agency's
//! `--jws-alg-name ed25519`, a wallet's `init --jws-alg-name ed25519`), or
//! `ES256` (an agency's `--key-alg es256`, a wallet's `--key-alg es256`),
//! given to the pinned npm peers (jose 6.2.18 alone, and
//! `@sd-jwt/sd-jwt-vc` 0.19.0 with jose as its verifier) and the Python
//! peer (`sd-jwt` 0.10.4 on jwcrypto 1.5.6). sd-jwt-rs 0.7.1 is pinned in
//! `verifier/core/tests/peer_sd_jwt_rs.rs`. When a peer changes its mind
//! this test fails: update the table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use tongban_e2e::peers::{node, python_script};
use tongban_verifier::*;

const AUD: &str = "https://counter.qingpu.example";
const NONCE: &str = "n-alg";

/// A presentation of every claim by `issuer` to `holder`, stamped now
/// (the peers read their own clocks), and the issuer's JWK, as files.
fn files(
    dir: &std::path::Path,
    name: &str,
    issuer: &dyn Signer,
    holder: &dyn Signer,
) -> (String, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let issued = CredentialBuilder::new(
        "https://amr.qingpu.example",
        "urn:tongban:business-licence:1",
        now - 60,
    )
    .expires_at(now + 86_400)
    .holder_key(holder.public_key())
    .claim("company_name", json!("青浦互通有限公司"))
    .issue(issuer, &mut rand::rngs::OsRng)
    .unwrap();
    let held = HeldCredential::parse(&issued.sd_jwt).unwrap();
    let kb = KeyBinding {
        signer: holder,
        audience: AUD.into(),
        nonce: NONCE.into(),
        iat: now,
        transaction_data_hashes: Vec::new(),
    };
    let p = held.present(held.disclosable_paths(), Some(&kb)).unwrap();
    let (pf, kf) = (
        dir.join(format!("{name}.txt")),
        dir.join(format!("{name}.jwk.json")),
    );
    std::fs::write(&pf, p).unwrap();
    std::fs::write(&kf, issuer.public_key().to_jwk().to_string()).unwrap();
    (
        pf.to_str().unwrap().to_owned(),
        kf.to_str().unwrap().to_owned(),
    )
}

fn accepted(v: &Value) -> bool {
    v["ok"] == true
}

#[test]
fn the_peers_read_eddsa_and_es256_and_only_jose_reads_ed25519() {
    let dir = tempfile::tempdir().unwrap();
    let ed =
        |seed: u8, full: bool| Ed25519Signer::from_seed(&[seed; 32], None).fully_specified(full);
    let es = |seed: u8| P256Signer::from_bytes(&[seed; 32], None).unwrap();
    type Case = (&'static str, Box<dyn Signer>, Box<dyn Signer>);
    let cases: [Case; 3] = [
        ("EdDSA", Box::new(ed(1, false)), Box::new(ed(2, false))),
        ("Ed25519", Box::new(ed(1, true)), Box::new(ed(2, true))),
        ("ES256", Box::new(es(3)), Box::new(es(4))),
    ];
    let mut table = Vec::new();
    for (name, issuer, holder) in &cases {
        let (p, k) = files(dir.path(), name, issuer.as_ref(), holder.as_ref());
        let js = node("alg_names.mjs", &[&p, &k, AUD, NONCE]);
        let py = python_script("alg_names.py", &[&p, &k, AUD, NONCE]);
        table.push((
            *name,
            accepted(&js["jose"]),
            accepted(&js["sd_jwt_vc"]),
            accepted(&py),
            format!("{js} {py}"),
        ));
    }
    // (name, jose, @sd-jwt/sd-jwt-vc + jose, Python sd-jwt)
    let want = [
        ("EdDSA", true, true, true),
        ("Ed25519", true, true, false),
        ("ES256", true, true, true),
    ];
    for ((name, jose, sd, py, detail), (wname, wjose, wsd, wpy)) in table.iter().zip(want) {
        assert_eq!(
            (*name, *jose, *sd, *py),
            (wname, wjose, wsd, wpy),
            "{detail}"
        );
    }
    // The Python peer's refusal is jwcrypto's: the name is not one it knows.
    assert!(
        table[1].4.contains("Algorithm not allowed"),
        "{}",
        table[1].4
    );
}
