//! The SM2/SM3 suite end to end in the library (`specs/credential-format.md`
//! §9): an SM2 trust anchor signs the trust list, an agency lists SM2 keys
//! pinned to `SM2SM3`, signs an SM3-digested credential and an SM2 status
//! list token, a holder with an SM2 key presents it; and every way of
//! using an SM2 key under another name, or another key under SM2's name,
//! is refused with its own code.
#![cfg(feature = "sm")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Map, Value, json};
use tongban_test_support::clock::{DAY, NOW};
use tongban_verifier::encoding::{b64_encode, to_compact_json};
use tongban_verifier::sdjwt::SdJwtParts;
use tongban_verifier::trust::Anchor;
use tongban_verifier::*;

const ISS: &str = "https://amr.jiashan.example";
const VCT: &str = "urn:tongban:business-licence:1";
const AUD: &str = "https://counter.qingpu.example";
const NONCE: &str = "n-sm";
const STATUS_URI: &str = "https://amr.jiashan.example/status/1";

struct World {
    anchor: Sm2Signer,
    issuer: Sm2Signer,
    status_signer: Sm2Signer,
    holder: Sm2Signer,
    list: TrustList,
}

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
        x5c: None,
    }
}

fn world() -> World {
    let sm2 = |b: u8, kid: &str| Sm2Signer::from_bytes(&[b; 32], Some(kid.into())).unwrap();
    let (issuer, status_signer) = (sm2(2, "js-sm2-1"), sm2(3, "js-sm2-status"));
    let list = TrustList {
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
            name_zh: "嘉善县市场监督管理局".into(),
            name_en: "Jiashan AMR".into(),
            region: "330421".into(),
            vcts: vec![VCT.into()],
            keys: vec![
                listed(&issuer, Some("SM2SM3")),
                listed(&status_signer, Some("SM2SM3")),
            ],
            status_lists: vec![STATUS_URI.into()],
        }],
        x509_anchors: None,
    };
    World {
        anchor: sm2(1, "anchor-sm2"),
        issuer,
        status_signer,
        holder: sm2(4, "holder"),
        list,
    }
}

impl World {
    fn bundle(&self) -> Result<TrustBundle, Rejection> {
        let tl = self.list.sign(&self.anchor).unwrap();
        let status = StatusList::new(status::Bits::new(1).unwrap(), 100);
        let token = StatusListToken::sign(
            &self.status_signer,
            ISS,
            STATUS_URI,
            NOW - 3600,
            Some(NOW + DAY),
            None,
            &status,
        )
        .unwrap();
        let anchors = [KeyWithId {
            key: self.anchor.public_key(),
            kid: Some("anchor-sm2".into()),
        }];
        TrustBundle::assemble(&tl, &[token], &anchors, None, NOW - 3600).map(|(b, _)| b)
    }

    fn issued(&self, signer: &dyn Signer) -> IssuedCredential {
        CredentialBuilder::new(ISS, VCT, NOW - DAY)
            .expires_at(NOW + 365 * DAY)
            .holder_key(self.holder.public_key())
            .status(json!({"status_list": {"idx": 3, "uri": STATUS_URI}}))
            .claim("company_name", json!("嘉善示范有限公司"))
            .claim("unified_social_credit_code", json!("91320509MA1Q8K3T2C"))
            .sd_alg(SdAlg::Sm3)
            .issue(signer, &mut rand::rngs::OsRng)
            .unwrap()
    }

    fn present(&self, sd_jwt: &str, holder: &dyn Signer) -> String {
        let held = HeldCredential::parse(sd_jwt).unwrap();
        let kb = KeyBinding {
            signer: holder,
            audience: AUD.into(),
            nonce: NONCE.into(),
            iat: NOW - 5,
            transaction_data_hashes: Vec::new(),
        };
        let paths = [ClaimPath::parse("company_name").unwrap()];
        held.present(&paths, Some(&kb)).unwrap()
    }
}

fn policy() -> Policy {
    Policy::counter(NOW, AUD, NONCE)
}

fn rejects(bundle: &TrustBundle, input: &str, code: ErrorCode, at: Check) {
    let r = verify(input, &policy(), bundle);
    assert_eq!(r.code(), Some(code), "{:?}", r.rejection);
    assert_eq!(r.failed_check(), Some(at));
}

/// A compact JWS with exactly this header, signed by `signer`.
fn jws(header: Value, payload: &Map<String, Value>, signer: &dyn Signer) -> String {
    let input = format!(
        "{}.{}",
        b64_encode(to_compact_json(&header)),
        b64_encode(to_compact_json(payload))
    );
    let sig = signer.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64_encode(sig))
}

/// The credential's issuer JWT re-signed with `header` and `payload` edits.
fn reissue(
    sd_jwt: &str,
    header: Value,
    edit: impl Fn(&mut Map<String, Value>),
    signer: &dyn Signer,
) -> String {
    let parts = SdJwtParts::split(sd_jwt, 100).unwrap();
    let parsed = jws::CompactJws::parse(parts.issuer_jwt, "t").unwrap();
    let mut payload = parsed.payload.clone();
    edit(&mut payload);
    let mut out = jws(header, &payload, signer);
    out.push('~');
    for d in parts.disclosures {
        out.push_str(d);
        out.push('~');
    }
    out
}

#[test]
fn an_sm2_sm3_credential_is_accepted_end_to_end() {
    let w = world();
    let bundle = w.bundle().unwrap();
    let issued = w.issued(&w.issuer);
    let held = HeldCredential::parse(&issued.sd_jwt).unwrap();
    assert_eq!(held.sd_alg(), SdAlg::Sm3);
    assert_eq!(held.payload()["_sd_alg"], "sm3");
    assert_eq!(held.payload()["cnf"]["jwk"]["crv"], "SM2");
    let p = w.present(&issued.sd_jwt, &w.holder);
    let r = verify(&p, &policy(), &bundle);
    assert!(r.is_accepted(), "{:?}", r.rejection);
    assert_eq!(r.credential.alg.as_deref(), Some("SM2SM3"));
    let status = r.checks.iter().find(|c| c.check == Check::Status).unwrap();
    assert_eq!(status.outcome, Outcome::Passed);
    assert_eq!(r.claims.unwrap()["company_name"], "嘉善示范有限公司");
}

#[test]
fn sm2_keys_in_a_trust_list_must_be_pinned_to_sm2sm3() {
    let w = world();
    let mut unpinned = w.list.clone();
    unpinned.issuers[0].keys[0] = listed(&w.issuer, None);
    assert_eq!(
        unpinned.validate().unwrap_err().code,
        ErrorCode::TrustListMalformed
    );
    for wrong in ["ES256", "EdDSA", "SM2", "RS256"] {
        let mut l = w.list.clone();
        l.issuers[0].keys[0] = listed(&w.issuer, Some(wrong));
        assert_eq!(
            l.validate().unwrap_err().code,
            ErrorCode::TrustListMalformed,
            "{wrong}"
        );
    }
    // A P-256 key pinned to SM2SM3 is as wrong.
    let p = P256Signer::from_bytes(&[9; 32], Some("p".into())).unwrap();
    let mut l = w.list.clone();
    l.issuers[0].keys.push(listed(&p, Some("SM2SM3")));
    assert!(l.validate().is_err());
    assert!(w.list.validate().is_ok());
}

#[test]
fn alg_confusion_between_sm2_and_es256_is_refused() {
    let w = world();
    let p256 = P256Signer::from_bytes(&[9; 32], Some("js-p256".into())).unwrap();
    let mut list = w.list.clone();
    list.issuers[0].keys.push(listed(&p256, Some("ES256")));
    let w = World { list, ..w };
    let bundle = w.bundle().unwrap();
    let issued = w.issued(&w.issuer);
    let keep = |_: &mut Map<String, Value>| {};
    // The SM2 key's credential relabelled ES256: no listed key fits.
    let h = json!({"alg": "ES256", "typ": "dc+sd-jwt", "kid": "js-sm2-1"});
    let relabelled = reissue(&issued.sd_jwt, h, keep, &w.issuer);
    rejects(
        &bundle,
        &w.present(&relabelled, &w.holder),
        ErrorCode::AlgKeyMismatch,
        Check::Trust,
    );
    // The P-256 key's signature claimed as SM2SM3 under the P-256 kid.
    let h = json!({"alg": "SM2SM3", "typ": "dc+sd-jwt", "kid": "js-p256"});
    let claimed = reissue(&issued.sd_jwt, h, keep, &p256);
    rejects(
        &bundle,
        &w.present(&claimed, &w.holder),
        ErrorCode::AlgKeyMismatch,
        Check::Trust,
    );
    // An ES256 signature under the SM2 kid, labelled SM2SM3: not valid.
    let h = json!({"alg": "SM2SM3", "typ": "dc+sd-jwt", "kid": "js-sm2-1"});
    let forged = reissue(&issued.sd_jwt, h, keep, &p256);
    rejects(
        &bundle,
        &w.present(&forged, &w.holder),
        ErrorCode::SignatureInvalid,
        Check::Signature,
    );
    // Other spellings are not in the closed set.
    for alg in ["SM2", "sm2sm3", "SM2-SM3", "SM3withSM2"] {
        let h = json!({"alg": alg, "typ": "dc+sd-jwt", "kid": "js-sm2-1"});
        let other = reissue(&issued.sd_jwt, h, keep, &w.issuer);
        rejects(
            &bundle,
            &w.present(&other, &w.holder),
            ErrorCode::AlgUnsupported,
            Check::HeaderPolicy,
        );
    }
    // The genuine one passes with the same bundle.
    assert!(verify(&w.present(&issued.sd_jwt, &w.holder), &policy(), &bundle).is_accepted());
}

#[test]
fn the_holder_key_binding_follows_the_sm2_cnf_key() {
    let w = world();
    let bundle = w.bundle().unwrap();
    let issued = w.issued(&w.issuer);
    // Another SM2 key signs the KB-JWT: not the holder.
    let other = Sm2Signer::from_bytes(&[8; 32], None).unwrap();
    rejects(
        &bundle,
        &w.present(&issued.sd_jwt, &other),
        ErrorCode::KbSignatureInvalid,
        Check::HolderBinding,
    );
    // A P-256 key cannot answer for an SM2 cnf.
    let p = P256Signer::from_bytes(&[9; 32], None).unwrap();
    rejects(
        &bundle,
        &w.present(&issued.sd_jwt, &p),
        ErrorCode::KbSignatureInvalid,
        Check::HolderBinding,
    );
}

#[test]
fn sm3_digests_are_required_where_sm3_is_declared() {
    let w = world();
    let bundle = w.bundle().unwrap();
    let issued = w.issued(&w.issuer);
    let h = json!({"alg": "SM2SM3", "typ": "dc+sd-jwt", "kid": "js-sm2-1"});
    // The same SM3 digests declared as sha-256: no disclosure matches.
    let sha = reissue(
        &issued.sd_jwt,
        h.clone(),
        |p| drop(p.insert("_sd_alg".into(), json!("sha-256"))),
        &w.issuer,
    );
    rejects(
        &bundle,
        &w.present_unchecked(&sha),
        ErrorCode::DisclosureUnreferenced,
        Check::Disclosures,
    );
    for name in ["SM3", "sm-3", "sm3-256"] {
        let bad = reissue(
            &issued.sd_jwt,
            h.clone(),
            |p| drop(p.insert("_sd_alg".into(), json!(name))),
            &w.issuer,
        );
        rejects(
            &bundle,
            &w.present_unchecked(&bad),
            ErrorCode::SdAlgUnsupported,
            Check::Disclosures,
        );
    }
    // A KB-JWT whose sd_hash is SHA-256 over an SM3 credential.
    let parts = w.present(&issued.sd_jwt, &w.holder);
    let cut = parts.rfind('~').unwrap() + 1;
    let sd = &parts[..cut];
    let mut kb = Map::new();
    kb.insert("iat".into(), json!(NOW - 5));
    kb.insert("aud".into(), json!(AUD));
    kb.insert("nonce".into(), json!(NONCE));
    kb.insert("sd_hash".into(), json!(SdAlg::Sha256.digest_b64(sd)));
    let kb = jws(json!({"alg": "SM2SM3", "typ": "kb+jwt"}), &kb, &w.holder);
    rejects(
        &bundle,
        &format!("{sd}{kb}"),
        ErrorCode::KbSdHashMismatch,
        Check::HolderBinding,
    );
}

impl World {
    /// A presentation of every disclosure, KB-JWT over SHA-256-or-SM3 as
    /// declared, made without processing (the credential may be broken).
    fn present_unchecked(&self, sd_jwt: &str) -> String {
        let mut kb = Map::new();
        kb.insert("iat".into(), json!(NOW - 5));
        kb.insert("aud".into(), json!(AUD));
        kb.insert("nonce".into(), json!(NONCE));
        kb.insert("sd_hash".into(), json!(SdAlg::Sm3.digest_b64(sd_jwt)));
        let kb = jws(json!({"alg": "SM2SM3", "typ": "kb+jwt"}), &kb, &self.holder);
        format!("{sd_jwt}{kb}")
    }
}

#[test]
fn an_sm2_anchor_and_sm2_status_lists_are_checked() {
    let w = world();
    // Another SM2 key in the anchor's place.
    let tl = w.list.sign(&w.anchor).unwrap();
    let impostor = KeyWithId {
        key: Sm2Signer::from_bytes(&[7; 32], None).unwrap().public_key(),
        kid: Some("anchor-sm2".into()),
    };
    assert_eq!(
        VerifiedTrustList::verify(&tl, &[impostor], None)
            .unwrap_err()
            .code,
        ErrorCode::TrustListSignatureInvalid
    );
    // A status list signed by the credential key's sibling outside the
    // list is refused on assembly.
    let outsider = Sm2Signer::from_bytes(&[6; 32], Some("js-sm2-status".into())).unwrap();
    let token = StatusListToken::sign(
        &outsider,
        ISS,
        STATUS_URI,
        NOW - 3600,
        Some(NOW + DAY),
        None,
        &StatusList::new(status::Bits::new(1).unwrap(), 100),
    )
    .unwrap();
    let anchors = [KeyWithId {
        key: w.anchor.public_key(),
        kid: Some("anchor-sm2".into()),
    }];
    assert_eq!(
        TrustBundle::assemble(&tl, &[token], &anchors, None, NOW)
            .err()
            .unwrap()
            .code,
        ErrorCode::StatusListSignatureInvalid
    );
}

/// QR transport sizes of one business licence on each suite (recorded in
/// `specs/qr-transport.md` §7.1): Ed25519/SHA-256 against SM2/SM3, full
/// disclosure and six claims. SM2 signatures are 64 bytes like Ed25519's;
/// the SM2 holder key has two coordinates (64 bytes, not 32); SM3 digests
/// cannot be recomputed by transport version 2, so they travel as bytes.
#[test]
fn qr_transport_sizes_per_suite() {
    let claims = tongban_test_support::sample::catalogue_claims("business-licence", 1);
    let names: Vec<String> = claims.keys().cloned().collect();
    let ed_issuer = Ed25519Signer::from_seed(&[1; 32], Some("wj-1".into()));
    let ed_holder = Ed25519Signer::from_seed(&[2; 32], None);
    let sm_issuer = Sm2Signer::from_bytes(&[1; 32], Some("wj-1".into())).unwrap();
    let sm_holder = Sm2Signer::from_bytes(&[2; 32], None).unwrap();
    let suites: [(&str, &dyn Signer, &dyn Signer, SdAlg); 3] = [
        ("Ed25519 / sha-256", &ed_issuer, &ed_holder, SdAlg::Sha256),
        ("SM2SM3 / sha-256", &sm_issuer, &sm_holder, SdAlg::Sha256),
        ("SM2SM3 / sm3", &sm_issuer, &sm_holder, SdAlg::Sm3),
    ];
    let mut sizes = Vec::new();
    for (label, issuer, holder, sd_alg) in suites {
        let issued = CredentialBuilder::new(ISS, VCT, NOW - DAY)
            .expires_at(NOW + 365 * DAY)
            .holder_key(holder.public_key())
            .status(json!({"status_list": {"idx": 3, "uri": STATUS_URI}}))
            .claims(claims.clone())
            .sd_alg(sd_alg)
            .issue(issuer, &mut rand::rngs::OsRng)
            .unwrap();
        let held = HeldCredential::parse(&issued.sd_jwt).unwrap();
        for n in [names.len(), 6] {
            let paths: Vec<ClaimPath> = names[..n]
                .iter()
                .map(|p| ClaimPath::parse(p).unwrap())
                .collect();
            let kb = KeyBinding {
                signer: holder,
                audience: AUD.into(),
                nonce: NONCE.into(),
                iat: NOW - 5,
                transaction_data_hashes: Vec::new(),
            };
            let p = held.present(&paths, Some(&kb)).unwrap();
            let qr = transport::encode(&p).unwrap();
            let chars = qr.len();
            println!(
                "{label}: {n} claims: {} bytes plain, {chars} chars v2",
                p.len()
            );
            sizes.push((label, n, p.len(), chars));
        }
    }
    // SM2 signatures with SHA-256 digests cost under a tenth more (the
    // holder key's second coordinate); SM3 digests, which transport version
    // 2 carries instead of recomputing, up to three quarters more, and the
    // presentation still fits one code (version 40 holds 3,391 characters).
    for i in 0..2 {
        let ed = sizes[i].3;
        assert!(
            sizes[i + 2].3 * 10 <= ed * 11,
            "{:?} against {ed}",
            sizes[i + 2]
        );
        assert!(
            sizes[i + 4].3 * 4 <= ed * 7,
            "{:?} against {ed}",
            sizes[i + 4]
        );
        assert!(sizes[i + 4].3 < 3391);
    }
}
