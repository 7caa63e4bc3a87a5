//! Replays the hostile-input corpus of `tests/corpus/` (malformed and
//! malicious presentations, trust lists, status lists and QR payloads):
//! every entry must be refused with exactly its recorded code, and nothing
//! may panic. Regenerate with `cargo run -p tongban-xtask --bin make-corpus`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::Path;

use serde_json::Value;
use tongban_verifier::bundle::TrustBundle;
use tongban_verifier::trust::VerifiedTrustList;
use tongban_verifier::*;

#[test]
fn every_corpus_entry_is_refused_with_its_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let now = index["now"].as_i64().unwrap();
    let policy = Policy::counter(
        now,
        index["aud"].as_str().unwrap(),
        index["nonce"].as_str().unwrap(),
    );
    let mut keys = InMemoryKeys::new();
    keys.add_issuer_key(
        index["issuer"].as_str().unwrap(),
        KeyWithId::from_jwk(&index["issuer_jwk"]).unwrap(),
    );
    // The SM2SM3 cases' issuer key (kid wj-sm2), beside the Ed25519 one.
    if let Some(jwk) = index.get("sm2_issuer_jwk")
        && let Ok(key) = KeyWithId::from_jwk(jwk)
    {
        keys.add_issuer_key(index["issuer"].as_str().unwrap(), key);
    }
    let anchors = [KeyWithId::from_jwk(&index["anchor_jwk"]).unwrap()];
    let held = index["held_trust_list_sequence"].as_u64();
    let trust_list = index["trust_list"].as_str().unwrap();
    let entries = index["entries"].as_array().unwrap();
    assert!(
        entries.len() >= 80,
        "the corpus has {} entries",
        entries.len()
    );
    let mut kinds = std::collections::BTreeMap::new();
    let mut mismatches = Vec::new();
    for e in entries {
        let file = e["file"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let kind = e["kind"].as_str().unwrap();
        *kinds.entry(kind).or_insert(0) += 1;
        let got = match kind {
            "presentation" => verify_bytes(&bytes, &policy, &keys).code(),
            "trust_list" => VerifiedTrustList::verify(&text, &anchors, held)
                .err()
                .map(|r| r.code),
            "status_list" => TrustBundle::assemble(trust_list, &[text], &anchors, None, now)
                .err()
                .map(|r| r.code),
            "transport" => {
                let lines: Vec<&str> = text.lines().collect();
                transport::from_texts(&lines).err().map(|r| r.code)
            }
            other => panic!("unknown kind {other}"),
        };
        if got.map(ErrorCode::code) != e["expect"].as_str() {
            mismatches.push(format!(
                "{file} ({}): got {:?}",
                e["what"],
                got.map(ErrorCode::code)
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(kinds.values().all(|n| *n >= 7), "{kinds:?}");
}
