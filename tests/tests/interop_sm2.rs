//! The SM2SM3 suite against an independent implementation: Python `gmssl`
//! 3.2.2, pinned in `tests/interop/py/requirements.txt` and driven by
//! `tests/interop/py/sm2_peer.py` (specs/credential-format.md §9.2).
//!
//! - the peer verifies the SM2 signature of a credential Tongban issued,
//!   over our JWS signing input, and refuses it once a byte changes;
//! - the peer signs the signing input of a Tongban credential with its own
//!   key, and Tongban accepts the credential under the peer's public key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use serde_json::json;
use tongban_e2e::peers::python_sm2;
use tongban_verifier::*;

const ISS: &str = "https://amr.jiashan.example";
const VCT: &str = "urn:tongban:business-licence:1";
const NOW: i64 = 1_795_572_000;

fn credential(signer: &dyn Signer) -> IssuedCredential {
    CredentialBuilder::new(ISS, VCT, NOW - 3600)
        .expires_at(NOW + 86_400)
        .claim("company_name", json!("嘉善互通测试有限公司"))
        .sd_alg(SdAlg::Sm3)
        .issue(signer, &mut rand::rngs::OsRng)
        .unwrap()
}

#[test]
fn the_peer_verifies_our_sm2_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let signer = Sm2Signer::generate(&mut rand::rngs::OsRng, Some("js-sm2".into()));
    let issued = credential(&signer);
    let jwt = issued.sd_jwt.split('~').next().unwrap();
    let (jws_file, jwk_file) = (dir.path().join("c.jwt"), dir.path().join("k.jwk"));
    std::fs::write(&jws_file, jwt).unwrap();
    std::fs::write(&jwk_file, signer.public_key().to_jwk().to_string()).unwrap();
    let v = python_sm2(&[
        "verify",
        jws_file.to_str().unwrap(),
        jwk_file.to_str().unwrap(),
    ]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["payload"]["_sd_alg"], "sm3");
    // One payload character changed: the peer refuses it too.
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let last = parts[1].pop().unwrap();
    parts[1].push(if last == 'A' { 'B' } else { 'A' });
    std::fs::write(&jws_file, parts.join(".")).unwrap();
    let v = python_sm2(&[
        "verify",
        jws_file.to_str().unwrap(),
        jwk_file.to_str().unwrap(),
    ]);
    assert_eq!(v["ok"], false, "{v}");
}

/// A signer whose signatures the peer makes.
struct PeerSigner {
    secret_hex: String,
    public: PublicKey,
    dir: std::path::PathBuf,
}

impl Signer for PeerSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Sm2Sm3
    }
    fn key_id(&self) -> Option<&str> {
        Some("peer-sm2")
    }
    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignError> {
        let file = self.dir.join("signing-input");
        std::fs::write(&file, signing_input).unwrap();
        let out = python_sm2(&["sign", &self.secret_hex, file.to_str().unwrap()]);
        Ok(encoding::b64_decode(out["signature"].as_str().unwrap(), "sig").unwrap())
    }
}

#[test]
fn the_peers_sm2_signatures_verify_in_tongban() {
    let dir = tempfile::tempdir().unwrap();
    let secret_hex = "5a".repeat(32);
    let jwk = python_sm2(&["public", &secret_hex])["jwk"].clone();
    let peer = PeerSigner {
        secret_hex,
        public: PublicKey::from_jwk(&jwk).unwrap(),
        dir: dir.path().to_path_buf(),
    };
    // The same secret gives the same public key in both implementations.
    let ours = Sm2Signer::from_bytes(&[0x5a; 32], None).unwrap();
    assert_eq!(ours.public_key(), peer.public);
    let issued = credential(&peer);
    let mut keys = InMemoryKeys::new();
    let mut pinned = jwk.clone();
    pinned["kid"] = "peer-sm2".into();
    keys.add_issuer_key(ISS, KeyWithId::from_jwk(&pinned).unwrap());
    let mut policy = Policy::counter(NOW, "https://counter.example", "n");
    policy.holder_binding = HolderBinding::NotRequired;
    let report = verify(&issued.sd_jwt, &policy, &keys);
    assert!(report.is_accepted(), "{:?}", report.rejection);
    assert_eq!(report.credential.alg.as_deref(), Some("SM2SM3"));
    assert_eq!(
        report.claims.unwrap()["company_name"],
        "嘉善互通测试有限公司"
    );
}
