//! The zone's list under a 2-of-3 root: which signatures count, and the
//! root's rollback and expiry through a bundle.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use tongban_verifier::bundle::{Held, TrustBundle};
use tongban_verifier::root::{RootKey, TRUST_ROOT_VERSION, TYP_TRUST_ROOT, TrustRoot};
use tongban_verifier::trust::{Anchor, TYP_TRUST_LIST, TrustList};
use tongban_verifier::*;

const NOW: i64 = 1_800_000_000;

fn op(seed: u8, kid: &str) -> Ed25519Signer {
    Ed25519Signer::from_seed(&[seed; 32], Some(kid.into()))
}

fn anchor() -> Anchor {
    Anchor {
        id: "https://trust.yrd.example".into(),
        name_zh: "示范区".into(),
        name_en: "Zone".into(),
    }
}

fn root(seq: u64, k: u32, keys: &[&Ed25519Signer], by: &[&Ed25519Signer]) -> String {
    let r = TrustRoot {
        version: TRUST_ROOT_VERSION,
        anchor: anchor(),
        sequence: seq,
        issued_at: NOW - 100,
        expires: NOW + 1000,
        threshold: k,
        keys: keys
            .iter()
            .map(|s| {
                let mut jwk = s.public_key().to_jwk();
                jwk["kid"] = Value::String(s.key_id().unwrap().into());
                RootKey { jwk }
            })
            .collect(),
    };
    let mut doc = r.proposal();
    for s in by {
        doc.add_signature(*s, TYP_TRUST_ROOT).unwrap();
    }
    doc.to_json_text()
}

fn list(seq: u64, root_seq: u64, by: &[&Ed25519Signer]) -> String {
    let l = TrustList {
        version: 3,
        anchor: anchor(),
        sequence: seq,
        issued_at: NOW - 10,
        next_update: NOW + 100,
        issuers: vec![],
        root_sequence: Some(root_seq),
        verifiers: None,
        x509_anchors: None,
    };
    let mut doc = l.proposal().unwrap();
    for s in by {
        doc.add_signature(*s, TYP_TRUST_LIST).unwrap();
    }
    doc.to_json_text()
}

#[test]
fn two_of_three_distinct_keys_and_unknown_signers_ignored() {
    let (sh, js, zj, rogue) = (op(1, "sh"), op(2, "js"), op(3, "zj"), op(9, "sh"));
    let pin = TrustAnchors::pin_root(&root(1, 2, &[&sh, &js, &zj], &[&sh, &js])).unwrap();
    let v =
        |by: &[&Ed25519Signer]| trust::VerifiedTrustList::verify_under(&list(1, 1, by), &pin, None);
    assert_eq!(v(&[&sh, &js]).unwrap().signed_by().len(), 2);
    assert_eq!(v(&[&sh, &js, &zj]).unwrap().signed_by().len(), 3);
    assert_eq!(
        v(&[&zj]).unwrap_err().code,
        ErrorCode::TrustListThresholdNotMet
    );
    assert_eq!(
        v(&[&zj, &zj]).unwrap_err().code,
        ErrorCode::TrustListThresholdNotMet
    );
    // A stranger using an operator's kid: its signature fails, it does not count.
    assert_eq!(
        v(&[&zj, &rogue]).unwrap_err().code,
        ErrorCode::TrustListSignatureInvalid
    );
    let stranger = op(8, "xx");
    assert_eq!(v(&[&zj, &stranger, &js]).unwrap().signed_by().len(), 2);
    assert_eq!(
        v(&[&stranger]).unwrap_err().code,
        ErrorCode::TrustListAnchorUnknown
    );
    // A version 2 compact list under a single pinned key (k = 1) still verifies.
    let old = TrustList {
        version: 2,
        anchor: anchor(),
        sequence: 1,
        issued_at: NOW - 10,
        next_update: NOW + 100,
        issuers: vec![],
        root_sequence: None,
        verifiers: None,
        x509_anchors: None,
    };
    let compact = old.sign(&sh).unwrap();
    let bare = [KeyWithId {
        key: sh.public_key(),
        kid: Some("sh".into()),
    }];
    assert!(trust::VerifiedTrustList::verify(&compact, &bare, None).is_ok());
    // ... and not under the 2-of-3 root.
    assert_eq!(
        trust::VerifiedTrustList::verify_under(&compact, &pin, None)
            .unwrap_err()
            .code,
        ErrorCode::TrustListThresholdNotMet
    );
}

#[test]
fn root_rollback_and_expiry_through_a_bundle() {
    let (sh, js, zj, ah) = (op(1, "sh"), op(2, "js"), op(3, "zj"), op(4, "ah"));
    let r1 = root(1, 2, &[&sh, &js, &zj], &[&sh, &js]);
    let r2 = root(2, 2, &[&sh, &js, &ah], &[&sh, &zj, &ah]);
    let pin = TrustAnchors::pin_root(&r1).unwrap();
    let (bundle, files) = TrustBundle::assemble_under(
        &list(2, 2, &[&ah, &js]),
        std::slice::from_ref(&r2),
        &[],
        &pin,
        Held::default(),
        NOW,
    )
    .unwrap();
    assert_eq!(bundle.manifest().root_sequence, 2);
    assert!(files.iter().any(|(n, _)| n.starts_with("root-2-")));
    assert_eq!(bundle.anchors().expires(), Some(NOW + 1000));
    // Held root 2: a list under root 1 alone (no roots given) is a rollback of the root.
    let held = Held {
        sequence: Some(2),
        root_sequence: Some(2),
    };
    let err = TrustBundle::assemble_under(&list(3, 1, &[&sh, &js]), &[], &[], &pin, held, NOW)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustRootRollback);
    // The bundle reloads offline from its files under the old pin.
    let manifest = files
        .iter()
        .find(|(n, _)| n == "manifest.json")
        .unwrap()
        .1
        .clone();
    let loaded = TrustBundle::load_under(
        &manifest,
        &mut |name| {
            files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, b)| b.clone())
        },
        &pin,
    )
    .unwrap();
    assert_eq!(loaded.anchors().sequence(), 2);
    // Zhejiang's removed key cannot make up the threshold under root 2.
    let err = TrustBundle::assemble_under(
        &list(3, 2, &[&zj, &sh]),
        &[r2],
        &[],
        &pin,
        Held::default(),
        NOW,
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustAnchorRemoved);
}
