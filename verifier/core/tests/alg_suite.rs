//! ES256 agencies and the fully specified `Ed25519` name (RFC 9864) end to
//! end in the library (`specs/credential-format.md` §3): an agency whose
//! key is P-256 (pinned `ES256` in the trust list) signs credentials and
//! status list tokens that verify, presented with an ES256 holder key; an
//! Ed25519 agency may name its algorithm `EdDSA` or `Ed25519` and both
//! verify, under either pin; either Ed25519 name on a P-256 key, `ES256`
//! on an Ed25519 key, and malformed ES256 signatures are refused with
//! their codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Map, Value, json};
use tongban_test_support::clock::{DAY, NOW};
use tongban_verifier::encoding::{b64_encode, to_compact_json};
use tongban_verifier::sdjwt::SdJwtParts;
use tongban_verifier::trust::Anchor;
use tongban_verifier::*;

const ISS: &str = "https://amr.qingpu.example";
const VCT: &str = "urn:tongban:business-licence:1";
const AUD: &str = "https://counter.wujiang.example";
const NONCE: &str = "n-es";
const STATUS_URI: &str = "https://amr.qingpu.example/status/0";

fn listed(signer: &dyn Signer, pin: Option<&str>) -> TrustedKey {
    let mut jwk = signer.public_key().to_jwk();
    jwk["kid"] = signer.key_id().unwrap().into();
    if let Some(pin) = pin {
        jwk["alg"] = pin.into();
    }
    TrustedKey {
        jwk,
        not_before: NOW - 365 * DAY,
        not_after: None,
        revoked_at: None,
        compromised_at: None,
    }
}

fn list(keys: Vec<TrustedKey>) -> TrustList {
    TrustList {
        version: 2,
        anchor: Anchor {
            id: "https://trust.yrd.example".into(),
            name_zh: "长三角示范区".into(),
            name_en: "Demonstration zone".into(),
        },
        sequence: 1,
        root_sequence: None,
        verifiers: None,
        issued_at: NOW - DAY,
        next_update: NOW + 7 * DAY,
        issuers: vec![TrustedIssuer {
            id: ISS.into(),
            name_zh: "青浦区市场监督管理局".into(),
            name_en: "Qingpu AMR".into(),
            region: "310118".into(),
            vcts: vec![VCT.into()],
            keys,
            status_lists: vec![STATUS_URI.into()],
        }],
    }
}

fn p256(b: u8, kid: &str) -> P256Signer {
    P256Signer::from_bytes(&[b; 32], Some(kid.into())).unwrap()
}

fn ed(b: u8, kid: &str, fully_specified: bool) -> Ed25519Signer {
    Ed25519Signer::from_seed(&[b; 32], Some(kid.into())).fully_specified(fully_specified)
}

/// The bundle of `list`, signed by a P-256 anchor, with a status list
/// token (all valid) signed by `status_signer`.
fn bundle(list: &TrustList, status_signer: &dyn Signer) -> Result<TrustBundle, Rejection> {
    let anchor = p256(1, "anchor-es");
    let tl = list.sign(&anchor).unwrap();
    let status = StatusList::new(status::Bits::new(2).unwrap(), 64);
    let token = StatusListToken::sign(
        status_signer,
        ISS,
        STATUS_URI,
        NOW - 3600,
        Some(NOW + DAY),
        None,
        &status,
    )
    .unwrap();
    let anchors = [KeyWithId {
        key: anchor.public_key(),
        kid: Some("anchor-es".into()),
    }];
    TrustBundle::assemble(&tl, &[token], &anchors, None, NOW - 3600).map(|(b, _)| b)
}

fn issue(signer: &dyn Signer, holder: &dyn Signer) -> String {
    CredentialBuilder::new(ISS, VCT, NOW - DAY)
        .expires_at(NOW + 365 * DAY)
        .holder_key(holder.public_key())
        .status(json!({"status_list": {"idx": 3, "uri": STATUS_URI}}))
        .claim("company_name", json!("青浦示范有限公司"))
        .claim("unified_social_credit_code", json!("91310118MA1Q8K3T2C"))
        .issue(signer, &mut rand::rngs::OsRng)
        .unwrap()
        .sd_jwt
}

fn present(sd_jwt: &str, holder: &dyn Signer) -> String {
    let held = HeldCredential::parse(sd_jwt).unwrap();
    let kb = KeyBinding {
        signer: holder,
        audience: AUD.into(),
        nonce: NONCE.into(),
        iat: NOW - 5,
        transaction_data_hashes: Vec::new(),
    };
    held.present(&[ClaimPath::parse("company_name").unwrap()], Some(&kb))
        .unwrap()
}

fn policy() -> Policy {
    Policy::counter(NOW, AUD, NONCE)
}

fn rejects(bundle: &TrustBundle, input: &str, code: ErrorCode, at: Check) {
    let r = verify(input, &policy(), bundle);
    assert_eq!(r.code(), Some(code), "{:?}", r.rejection);
    assert_eq!(r.failed_check(), Some(at));
}

/// The credential's issuer JWT with `header`, signed by `signer`, and the
/// signature passed through `sig` (to malform it).
fn reissue(
    sd_jwt: &str,
    header: Value,
    signer: &dyn Signer,
    sig: impl Fn(Vec<u8>) -> Vec<u8>,
) -> String {
    let parts = SdJwtParts::split(sd_jwt, 100).unwrap();
    let parsed = jws::CompactJws::parse(parts.issuer_jwt, "t").unwrap();
    let payload: &Map<String, Value> = &parsed.payload;
    let input = format!(
        "{}.{}",
        b64_encode(to_compact_json(&header)),
        b64_encode(to_compact_json(payload))
    );
    let s = sig(signer.sign(input.as_bytes()).unwrap());
    let mut out = format!("{input}.{}~", b64_encode(s));
    for d in parts.disclosures {
        out.push_str(d);
        out.push('~');
    }
    out
}

#[test]
fn an_es256_agency_with_an_es256_holder_is_accepted_end_to_end() {
    let (issuer, holder) = (p256(2, "qp-es-1"), p256(4, "holder"));
    for pin in [Some("ES256"), None] {
        let b = bundle(&list(vec![listed(&issuer, pin)]), &issuer).unwrap();
        let sd_jwt = issue(&issuer, &holder);
        let held = HeldCredential::parse(&sd_jwt).unwrap();
        assert_eq!(held.payload()["cnf"]["jwk"]["crv"], "P-256");
        let r = verify(&present(&sd_jwt, &holder), &policy(), &b);
        assert!(r.is_accepted(), "{pin:?}: {:?}", r.rejection);
        assert_eq!(r.credential.alg.as_deref(), Some("ES256"));
        let status = r.checks.iter().find(|c| c.check == Check::Status).unwrap();
        assert_eq!(status.outcome, Outcome::Passed);
        // An Ed25519 holder of the same agency's credential too.
        let edh = ed(5, "h", false);
        let r = verify(&present(&issue(&issuer, &edh), &edh), &policy(), &b);
        assert!(r.is_accepted(), "{:?}", r.rejection);
    }
}

#[test]
fn both_ed25519_names_verify_under_either_pin() {
    let holder = ed(4, "h", true);
    for issuer_full in [false, true] {
        let issuer = ed(2, "qp-ed-1", issuer_full);
        for pin in [None, Some("EdDSA"), Some("Ed25519")] {
            let b = bundle(&list(vec![listed(&issuer, pin)]), &issuer).unwrap();
            let sd_jwt = issue(&issuer, &holder);
            let r = verify(&present(&sd_jwt, &holder), &policy(), &b);
            assert!(r.is_accepted(), "{issuer_full} {pin:?}: {:?}", r.rejection);
            let want = if issuer_full { "Ed25519" } else { "EdDSA" };
            assert_eq!(r.credential.alg.as_deref(), Some(want));
        }
    }
}

#[test]
fn an_ed25519_name_on_a_p256_key_and_es256_on_an_ed25519_key_are_refused() {
    let (es, edk) = (p256(2, "qp-es-1"), ed(3, "qp-ed-1", false));
    let holder = ed(4, "h", false);
    let b = bundle(&list(vec![listed(&es, None), listed(&edk, None)]), &es).unwrap();
    let keep = |s: Vec<u8>| s;
    let es_cred = issue(&es, &holder);
    for name in ["EdDSA", "Ed25519"] {
        let h = json!({"alg": name, "typ": "dc+sd-jwt", "kid": "qp-es-1"});
        rejects(
            &b,
            &present(&reissue(&es_cred, h, &es, keep), &holder),
            ErrorCode::AlgKeyMismatch,
            Check::Trust,
        );
    }
    let ed_cred = issue(&edk, &holder);
    let h = json!({"alg": "ES256", "typ": "dc+sd-jwt", "kid": "qp-ed-1"});
    rejects(
        &b,
        &present(&reissue(&ed_cred, h, &edk, keep), &holder),
        ErrorCode::AlgKeyMismatch,
        Check::Trust,
    );
    // A KB-JWT named Ed25519 from a P-256 holder key cannot be made.
    let ph = p256(6, "ph");
    let cred = issue(&es, &ph);
    let bad = present(&cred, &ed(6, "x", true));
    rejects(
        &b,
        &bad,
        ErrorCode::KbSignatureInvalid,
        Check::HolderBinding,
    );
    assert!(verify(&present(&cred, &ph), &policy(), &b).is_accepted());
}

#[test]
fn a_pin_to_one_family_refuses_the_other() {
    let edk = ed(3, "qp-ed-1", true);
    // An Ed25519 key pinned ES256 is a malformed list.
    assert_eq!(
        list(vec![listed(&edk, Some("ES256"))])
            .validate()
            .unwrap_err()
            .code,
        ErrorCode::TrustListMalformed
    );
    let es = p256(2, "qp-es-1");
    for wrong in ["EdDSA", "Ed25519", "SM2SM3"] {
        assert!(
            list(vec![listed(&es, Some(wrong))]).validate().is_err(),
            "{wrong}"
        );
    }
}

#[test]
fn malformed_es256_signatures_are_refused() {
    let es = p256(2, "qp-es-1");
    let holder = ed(4, "h", false);
    let b = bundle(&list(vec![listed(&es, Some("ES256"))]), &es).unwrap();
    let cred = issue(&es, &holder);
    let h = json!({"alg": "ES256", "typ": "dc+sd-jwt", "kid": "qp-es-1"});
    // DER instead of r‖s, a byte short or long, r = 0, s = 0, s = n.
    let der = |s: Vec<u8>| {
        p256::ecdsa::Signature::from_slice(&s)
            .unwrap()
            .to_der()
            .as_bytes()
            .to_vec()
    };
    const N: [u8; 32] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63,
        0x25, 0x51,
    ];
    type Malform = Box<dyn Fn(Vec<u8>) -> Vec<u8>>;
    let cases: [(&str, Malform); 6] = [
        ("der", Box::new(der)),
        ("short", Box::new(|s: Vec<u8>| s[..63].to_vec())),
        ("long", Box::new(|s: Vec<u8>| [&s[..], &[0]].concat())),
        (
            "r = 0",
            Box::new(|s: Vec<u8>| [&[0u8; 32][..], &s[32..]].concat()),
        ),
        (
            "s = 0",
            Box::new(|s: Vec<u8>| [&s[..32], &[0u8; 32][..]].concat()),
        ),
        ("s = n", Box::new(|s: Vec<u8>| [&s[..32], &N[..]].concat())),
    ];
    for (name, f) in cases {
        let r = verify(
            &present(&reissue(&cred, h.clone(), &es, f), &holder),
            &policy(),
            &b,
        );
        assert_eq!(r.code(), Some(ErrorCode::SignatureInvalid), "{name}");
    }
    // A high-S signature (n - s) is a valid ECDSA signature: JOSE does not
    // require low S, and neither does Tongban.
    let high_s = |s: Vec<u8>| {
        let sig = p256::ecdsa::Signature::from_slice(&s).unwrap();
        let (r, s) = sig.split_scalars();
        p256::ecdsa::Signature::from_scalars(r, -*s)
            .unwrap()
            .to_bytes()
            .to_vec()
    };
    let r = verify(
        &present(&reissue(&cred, h, &es, high_s), &holder),
        &policy(),
        &b,
    );
    assert!(r.is_accepted(), "{:?}", r.rejection);
}

#[test]
fn status_list_tokens_signed_es256_or_named_ed25519_are_read() {
    let es = p256(2, "qp-es-1");
    let edk = ed(3, "qp-ed-1", true);
    let l = list(vec![
        listed(&es, Some("ES256")),
        listed(&edk, Some("EdDSA")),
    ]);
    assert!(bundle(&l, &es).is_ok());
    assert!(bundle(&l, &edk).is_ok());
    // Signed by a key the issuer does not list: refused.
    assert!(bundle(&l, &p256(9, "qp-es-1")).is_err());
}
