//! X.509 key resolution (HAIP 1.0): a credential or status list token
//! naming its signer by `x5c` is accepted only when the chain leads to an
//! anchor certificate of the trust list (version 5) at the verification
//! time, the leaf names the credential's issuer and certifies a key the
//! list gives it, and that key passes the list's rules (compromise,
//! window, algorithm pin). `specs/trust-list.md` §1.6.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use rcgen::{BasicConstraints, IsCa, KeyUsagePurpose};
use serde_json::{Value, json};
use tongban_test_support::clock::{DAY, NOW};
use tongban_test_support::pki::{TestCa, ca_params, leaf_params};
use tongban_test_support::present::{Audience, present};
use tongban_test_support::zone::{self, trusted_key};
use tongban_verifier::bundle::TrustBundle;
use tongban_verifier::trust::Anchor;
use tongban_verifier::*;

const AUD: &str = "https://counter.qingpu.example";
const NONCE: &str = "n-1";
const BL: &str = zone::BUSINESS_LICENCE;
const YEAR: i64 = 365 * DAY;

struct World {
    anchor: Ed25519Signer,
    ca: TestCa,
    agencies: Vec<zone::Agency>,
    list: TrustList,
    holder: Ed25519Signer,
}

/// Qingpu and Wujiang, both issuing business licences, each key with its
/// certificate from the zone's CA.
fn world() -> World {
    let ca = TestCa::anchor("YRD zone CA", NOW - YEAR, NOW + 5 * YEAR);
    let agencies: Vec<zone::Agency> = zone::agencies().into_iter().take(2).collect();
    let issuers = agencies
        .iter()
        .map(|a| {
            let mut key = trusted_key(&a.signer, NOW - YEAR, None, None);
            key.x5c = Some(vec![ca.leaf(
                a.id,
                &a.signer.public_key(),
                NOW - YEAR,
                NOW + YEAR,
            )]);
            let mut status_key = trusted_key(&a.status_signer, NOW - YEAR, None, None);
            status_key.x5c = Some(vec![ca.leaf(
                a.id,
                &a.status_signer.public_key(),
                NOW - YEAR,
                NOW + YEAR,
            )]);
            TrustedIssuer {
                id: a.id.into(),
                name_zh: a.name_zh.into(),
                name_en: a.name_en.into(),
                region: a.region.into(),
                vcts: vec![a.vct.into()],
                keys: vec![key, status_key],
                status_lists: vec![],
            }
        })
        .collect();
    let list = TrustList {
        version: trust::TRUST_LIST_VERSION,
        anchor: Anchor {
            id: zone::ANCHOR_ID.into(),
            name_zh: zone::ANCHOR_NAME_ZH.into(),
            name_en: zone::ANCHOR_NAME_EN.into(),
        },
        sequence: 9,
        issued_at: NOW - DAY,
        next_update: NOW + 7 * DAY,
        root_sequence: None,
        verifiers: None,
        issuers,
        x509_anchors: Some(vec![ca.b64()]),
    };
    World {
        anchor: zone::anchor(),
        ca,
        agencies,
        list,
        holder: zone::holder(),
    }
}

impl World {
    fn anchors(&self) -> Vec<KeyWithId> {
        vec![KeyWithId {
            key: self.anchor.public_key(),
            kid: Some(zone::ANCHOR_KID.into()),
        }]
    }

    fn verified(&self) -> VerifiedTrustList {
        VerifiedTrustList::verify(
            &self.list.sign(&self.anchor).unwrap(),
            &self.anchors(),
            None,
        )
        .unwrap()
    }

    /// The chain the list records for agency `a`'s credential key.
    fn chain(&self, a: usize) -> Vec<String> {
        self.list.issuers[a].keys[0].x5c.clone().unwrap()
    }

    /// A presentation of agency `a`'s credential signed by `signer` with
    /// `x5c` in its header (none: the `kid` path).
    fn present_with(&self, a: usize, signer: &dyn Signer, x5c: Option<Vec<String>>) -> String {
        let mut rng = rand::rngs::OsRng;
        let b = CredentialBuilder::new(self.agencies[a].id, BL, NOW - DAY)
            .expires_at(NOW + YEAR)
            .holder_key(self.holder.public_key())
            .claim("licence_id", json!("320509-BL-2026-000001"));
        let issued = match x5c {
            Some(x5c) => b.issue(&X5cSigner::new(signer, x5c), &mut rng),
            None => b.issue(signer, &mut rng),
        }
        .unwrap();
        let to = Audience {
            aud: AUD,
            nonce: NONCE,
            iat: NOW - 5,
        };
        present(&issued.sd_jwt, &["licence_id"], &self.holder, to).unwrap()
    }

    fn present(&self, a: usize, x5c: Vec<String>) -> String {
        self.present_with(a, &self.agencies[a].signer, Some(x5c))
    }
}

fn policy() -> Policy {
    Policy::counter(NOW, AUD, NONCE)
}

#[track_caller]
fn rejects(trust: &VerifiedTrustList, input: &str, code: ErrorCode) {
    let r = verify(input, &policy(), trust);
    assert_eq!(r.code(), Some(code), "{:?}", r.rejection);
    assert_eq!(r.failed_check(), Some(Check::Trust));
}

fn header_of(presentation: &str) -> Value {
    let h = presentation.split('.').next().unwrap();
    serde_json::from_slice(&encoding::b64_decode(h, "h").unwrap()).unwrap()
}

#[test]
fn a_chain_to_the_anchor_certificate_is_accepted_and_the_header_keeps_the_kid() {
    let w = world();
    let trust = w.verified();
    let p = w.present(0, w.chain(0));
    let h = header_of(&p);
    assert_eq!(
        h["x5c"],
        json!(w.chain(0)),
        "the leaf only, never the anchor"
    );
    assert_eq!(h["kid"], "qp-1");
    let r = verify(&p, &policy(), &trust);
    assert!(r.is_accepted(), "{:?}", r.rejection);
}

#[test]
fn a_chain_through_an_intermediate_is_accepted() {
    let w = world();
    let mut sub = ca_params("YRD issuing CA 1", NOW - YEAR, NOW + YEAR);
    sub.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let sub = w.ca.intermediate(sub);
    let a = &w.agencies[0];
    let leaf = sub.leaf(a.id, &a.signer.public_key(), NOW - DAY, NOW + DAY);
    let r = verify(
        &w.present(0, vec![leaf, sub.b64()]),
        &policy(),
        &w.verified(),
    );
    assert!(r.is_accepted(), "{:?}", r.rejection);
}

#[test]
fn a_kid_only_credential_still_verifies_under_a_version_5_list() {
    let w = world();
    let p = w.present_with(0, &w.agencies[0].signer, None);
    assert!(header_of(&p).get("x5c").is_none());
    assert!(verify(&p, &policy(), &w.verified()).is_accepted());
}

#[test]
fn a_chain_that_carries_the_anchor_is_refused() {
    let w = world();
    let mut with_anchor = w.chain(0);
    with_anchor.push(w.ca.b64());
    rejects(
        &w.verified(),
        &w.present(0, with_anchor),
        ErrorCode::X5cIncludesAnchor,
    );
    rejects(
        &w.verified(),
        &w.present(0, vec![w.ca.b64()]),
        ErrorCode::X5cIncludesAnchor,
    );
}

#[test]
fn a_chain_that_does_not_reach_the_anchor_is_refused() {
    let w = world();
    let a = &w.agencies[0];
    // Another CA of the same name: the signature does not verify.
    let rogue = TestCa::anchor("YRD zone CA", NOW - YEAR, NOW + YEAR);
    let forged = rogue.leaf(a.id, &a.signer.public_key(), NOW - DAY, NOW + DAY);
    rejects(
        &w.verified(),
        &w.present(0, vec![forged]),
        ErrorCode::X5cAnchorUnreached,
    );
    // A CA of another name.
    let other = TestCa::anchor("Elsewhere CA", NOW - YEAR, NOW + YEAR);
    let leaf = other.leaf(a.id, &a.signer.public_key(), NOW - DAY, NOW + DAY);
    rejects(
        &w.verified(),
        &w.present(0, vec![leaf]),
        ErrorCode::X5cAnchorUnreached,
    );
    // An intermediate left out of the chain.
    let sub =
        w.ca.intermediate(ca_params("YRD issuing CA 1", NOW - YEAR, NOW + YEAR));
    let leaf = sub.leaf(a.id, &a.signer.public_key(), NOW - DAY, NOW + DAY);
    rejects(
        &w.verified(),
        &w.present(0, vec![leaf.clone()]),
        ErrorCode::X5cAnchorUnreached,
    );
    // The chain out of order: the leaf's issuer is not the next element.
    let other_sub =
        w.ca.intermediate(ca_params("YRD issuing CA 2", NOW - YEAR, NOW + YEAR));
    rejects(
        &w.verified(),
        &w.present(0, vec![leaf, other_sub.b64()]),
        ErrorCode::X5cChainBroken,
    );
    // A list without anchor certificates cannot resolve any x5c.
    let mut old = w.list.clone();
    old.x509_anchors = None;
    for k in old.issuers.iter_mut().flat_map(|i| i.keys.iter_mut()) {
        k.x5c = None;
    }
    let trust =
        VerifiedTrustList::verify(&old.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap();
    rejects(
        &trust,
        &w.present(0, w.chain(0)),
        ErrorCode::X5cAnchorUnreached,
    );
}

#[test]
fn a_self_signed_leaf_is_refused() {
    let w = world();
    let a = &w.agencies[0];
    let own = TestCa::anchor_with(leaf_params(a.id, NOW - DAY, NOW + DAY));
    rejects(
        &w.verified(),
        &w.present(0, vec![own.b64()]),
        ErrorCode::X5cSelfSigned,
    );
}

#[test]
fn a_leaf_for_another_key_is_refused() {
    let w = world();
    let a = &w.agencies[0];
    // Certified by the zone's CA, but for a key the list does not give Qingpu
    // (the signature is the certified key's: the chain alone decides nothing).
    let stray = Ed25519Signer::from_seed(&[0x55; 32], Some("qp-1".into()));
    let leaf = w.ca.leaf(a.id, &stray.public_key(), NOW - DAY, NOW + DAY);
    let p = w.present_with(0, &stray, Some(vec![leaf]));
    rejects(&w.verified(), &p, ErrorCode::X5cKeyNotListed);
    // The certificate of Qingpu's status key on a credential whose kid names
    // its credential key: the leaf key must be the one the kid names.
    let status_chain = w.list.issuers[0].keys[1].x5c.clone().unwrap();
    let p = w.present_with(0, &a.signer, Some(status_chain));
    rejects(&w.verified(), &p, ErrorCode::X5cKeyNotListed);
}

#[test]
fn a_leaf_whose_key_did_not_sign_is_refused_at_the_signature() {
    let w = world();
    // Qingpu's own chain on a credential signed by a stranger claiming it.
    let stray = Ed25519Signer::from_seed(&[0x56; 32], Some("qp-1".into()));
    let p = w.present_with(0, &stray, Some(w.chain(0)));
    let r = verify(&p, &policy(), &w.verified());
    assert_eq!(r.code(), Some(ErrorCode::SignatureInvalid));
}

#[test]
fn a_leaf_for_another_agency_is_refused() {
    let w = world();
    // Wujiang's certificate (its own key, listed for Wujiang) on a
    // credential that says Qingpu issued it.
    let wujiang = &w.agencies[1];
    let p = w.present_with(0, &wujiang.signer, Some(w.chain(1)));
    rejects(&w.verified(), &p, ErrorCode::X5cIssuerMismatch);
    // Qingpu's key certified in Wujiang's name.
    let a = &w.agencies[0];
    let leaf =
        w.ca.leaf(wujiang.id, &a.signer.public_key(), NOW - DAY, NOW + DAY);
    rejects(
        &w.verified(),
        &w.present(0, vec![leaf]),
        ErrorCode::X5cIssuerMismatch,
    );
}

#[test]
fn an_expired_or_not_yet_valid_certificate_is_refused() {
    let w = world();
    let a = &w.agencies[0];
    let expired =
        w.ca.leaf(a.id, &a.signer.public_key(), NOW - YEAR, NOW - DAY);
    rejects(
        &w.verified(),
        &w.present(0, vec![expired]),
        ErrorCode::X5cCertificateExpired,
    );
    let future =
        w.ca.leaf(a.id, &a.signer.public_key(), NOW + DAY, NOW + YEAR);
    rejects(
        &w.verified(),
        &w.present(0, vec![future]),
        ErrorCode::X5cCertificateExpired,
    );
    // The anchor itself out of date.
    let mut world2 = world();
    let old_ca = TestCa::anchor("YRD zone CA", NOW - 2 * YEAR, NOW - DAY);
    world2.list.x509_anchors = Some(vec![old_ca.b64()]);
    for k in world2
        .list
        .issuers
        .iter_mut()
        .flat_map(|i| i.keys.iter_mut())
    {
        k.x5c = None;
    }
    let leaf = old_ca.leaf(a.id, &a.signer.public_key(), NOW - YEAR, NOW + DAY);
    rejects(
        &world2.verified(),
        &world2.present(0, vec![leaf]),
        ErrorCode::X5cCertificateExpired,
    );
}

#[test]
fn wrong_ca_flags_are_refused() {
    let w = world();
    let a = &w.agencies[0];
    let key = a.signer.public_key();
    // A leaf that says it is a CA.
    let mut p = leaf_params(a.id, NOW - DAY, NOW + DAY);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    rejects(
        &w.verified(),
        &w.present(0, vec![w.ca.issue(p, &key)]),
        ErrorCode::X5cBasicConstraintsInvalid,
    );
    // A leaf that may not sign.
    let mut p = leaf_params(a.id, NOW - DAY, NOW + DAY);
    p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
    rejects(
        &w.verified(),
        &w.present(0, vec![w.ca.issue(p, &key)]),
        ErrorCode::X5cKeyUsageInvalid,
    );
    // An intermediate that is not a CA.
    let mut not_ca = ca_params("YRD issuing CA 1", NOW - YEAR, NOW + YEAR);
    not_ca.is_ca = IsCa::ExplicitNoCa;
    let sub = w.ca.intermediate(not_ca);
    let leaf = sub.leaf(a.id, &key, NOW - DAY, NOW + DAY);
    rejects(
        &w.verified(),
        &w.present(0, vec![leaf, sub.b64()]),
        ErrorCode::X5cBasicConstraintsInvalid,
    );
    // An intermediate without keyCertSign.
    let mut no_sign = ca_params("YRD issuing CA 1", NOW - YEAR, NOW + YEAR);
    no_sign.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let sub = w.ca.intermediate(no_sign);
    let leaf = sub.leaf(a.id, &key, NOW - DAY, NOW + DAY);
    rejects(
        &w.verified(),
        &w.present(0, vec![leaf, sub.b64()]),
        ErrorCode::X5cKeyUsageInvalid,
    );
    // Two intermediates under an intermediate of path length 0.
    let mut sub1 = ca_params("YRD issuing CA 1", NOW - YEAR, NOW + YEAR);
    sub1.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let sub1 = w.ca.intermediate(sub1);
    let sub2 = sub1.intermediate(ca_params("YRD issuing CA 2", NOW - YEAR, NOW + YEAR));
    let leaf = sub2.leaf(a.id, &key, NOW - DAY, NOW + DAY);
    rejects(
        &w.verified(),
        &w.present(0, vec![leaf, sub2.b64(), sub1.b64()]),
        ErrorCode::X5cBasicConstraintsInvalid,
    );
}

#[test]
fn a_compromised_or_retired_key_refuses_its_certificate_too() {
    let mut w = world();
    w.list.issuers[0].keys[0].compromised_at = Some(NOW - 2 * DAY);
    rejects(
        &w.verified(),
        &w.present(0, w.chain(0)),
        ErrorCode::KeyRevoked,
    );
    let mut w = world();
    w.list.issuers[0].keys[0].not_after = Some(NOW - 2 * DAY);
    rejects(
        &w.verified(),
        &w.present(0, w.chain(0)),
        ErrorCode::KeyNotValidAtIssuance,
    );
}

#[test]
fn malformed_x5c_values_are_refused() {
    let w = world();
    for bad in [
        json!("MIIB"),
        json!([]),
        json!(["MIIB"]),
        json!(["not base64!"]),
        json!([7]),
        json!([
            w.chain(0)[0],
            w.chain(0)[0],
            w.chain(0)[0],
            w.chain(0)[0],
            w.chain(0)[0]
        ]),
    ] {
        let h = json!({"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": "qp-1", "x5c": bad});
        let p = tongban_test_support::jws::sign_raw(
            &w.agencies[0].signer,
            &h,
            json!({"iss": w.agencies[0].id, "vct": BL, "iat": NOW - DAY}).to_string(),
        )
        .unwrap();
        rejects(&w.verified(), &format!("{p}~"), ErrorCode::X5cMalformed);
    }
}

#[test]
fn jwk_jku_and_x5u_stay_refused_beside_x5c() {
    let w = world();
    for member in ["jwk", "jku", "x5u"] {
        let mut h = json!({"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": "qp-1", "x5c": w.chain(0)});
        h[member] = json!("x");
        let p = tongban_test_support::jws::sign_raw(&w.agencies[0].signer, &h, b"{}").unwrap();
        let r = verify(&format!("{p}~"), &policy(), &w.verified());
        assert_eq!(r.code(), Some(ErrorCode::HeaderKeyInjection), "{member}");
    }
}

#[test]
fn a_version_5_list_checks_its_certificates() {
    let w = world();
    let sign = |l: &TrustList| l.sign(&w.anchor).unwrap();
    // An anchor that is not a CA certificate.
    let mut l = w.list.clone();
    l.x509_anchors = Some(vec![w.chain(0)[0].clone()]);
    let err = VerifiedTrustList::verify(&sign(&l), &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListMalformed, "{}", err.detail);
    // A key whose recorded chain certifies another key.
    let mut l = w.list.clone();
    l.issuers[0].keys[0].x5c = Some(w.chain(1));
    let err = VerifiedTrustList::verify(&sign(&l), &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListMalformed, "{}", err.detail);
    // Version 5 members in a version 4 list.
    let mut l = w.list.clone();
    l.version = 4;
    let err = VerifiedTrustList::verify(&sign(&l), &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListMalformed, "{}", err.detail);
    // The list holds every certificate by digest (for the QR transport).
    let trust = w.verified();
    let leaf = x509::Certificate::from_b64(&w.chain(0)[0]).unwrap();
    assert!(trust.holds_certificate(leaf.sha256()));
    assert_eq!(
        trust.certificate_by_digest(&leaf.sha256()[..8]),
        Some(&leaf)
    );
}

#[test]
fn status_list_tokens_with_x5c_are_checked_the_same_way() {
    let mut w = world();
    for (i, a) in w.agencies.iter().enumerate() {
        w.list.issuers[i].status_lists = vec![format!("{}/status/1", a.id)];
    }
    let list = StatusList::new(status::Bits::new(2).unwrap(), 100);
    let token = |a: usize, x5c: Vec<String>| {
        let ag = &w.agencies[a];
        StatusListToken::sign(
            &X5cSigner::new(&ag.status_signer, x5c),
            ag.id,
            &format!("{}/status/1", ag.id),
            NOW - 60,
            Some(NOW + DAY),
            None,
            &list,
        )
        .unwrap()
    };
    let status_chain = |a: usize| w.list.issuers[a].keys[1].x5c.clone().unwrap();
    let tl = w.list.sign(&w.anchor).unwrap();
    let good = vec![token(0, status_chain(0)), token(1, status_chain(1))];
    TrustBundle::assemble(&tl, &good, &w.anchors(), None, NOW).unwrap();
    // Wujiang's certificate on Qingpu's token.
    let bad = vec![token(0, status_chain(1)), token(1, status_chain(1))];
    let err = TrustBundle::assemble(&tl, &bad, &w.anchors(), None, NOW).unwrap_err();
    assert_eq!(err.code, ErrorCode::StatusListSignatureInvalid);
    assert!(err.detail.contains("x5c_issuer_mismatch"), "{}", err.detail);
    // The anchor in a token's x5c.
    let mut with_anchor = status_chain(0);
    with_anchor.push(w.ca.b64());
    let bad = vec![token(0, with_anchor), token(1, status_chain(1))];
    let err = TrustBundle::assemble(&tl, &bad, &w.anchors(), None, NOW).unwrap_err();
    assert!(err.detail.contains("x5c_includes_anchor"), "{}", err.detail);
}

#[test]
fn a_p256_anchor_signs_with_ecdsa() {
    let mut w = world();
    let ca = TestCa::anchor_p256("YRD zone CA (P-256)", NOW - YEAR, NOW + YEAR);
    w.list.x509_anchors = Some(vec![ca.b64()]);
    let a = &w.agencies[0];
    let leaf = ca.leaf(a.id, &a.signer.public_key(), NOW - DAY, NOW + DAY);
    w.list.issuers[0].keys[0].x5c = Some(vec![leaf.clone()]);
    w.list.issuers[0].keys[1].x5c = None;
    w.list.issuers[1].keys.iter_mut().for_each(|k| k.x5c = None);
    let r = verify(&w.present(0, vec![leaf]), &policy(), &w.verified());
    assert!(r.is_accepted(), "{:?}", r.rejection);
}

#[test]
fn an_es256_key_and_the_ed25519_name_resolve_by_certificate_too() {
    // An ES256 agency: its P-256 key listed (pinned ES256) and certified.
    let mut w = world();
    let es = P256Signer::from_bytes(&[5; 32], Some("qp-es".into())).unwrap();
    let a = &w.agencies[0];
    let leaf = w.ca.leaf(a.id, &es.public_key(), NOW - DAY, NOW + DAY);
    let mut jwk = es.public_key().to_jwk();
    jwk["kid"] = "qp-es".into();
    jwk["alg"] = "ES256".into();
    w.list.issuers[0].keys.push(TrustedKey {
        jwk,
        not_before: NOW - YEAR,
        not_after: None,
        revoked_at: None,
        compromised_at: None,
        x5c: Some(vec![leaf.clone()]),
    });
    let p = w.present_with(0, &es, Some(vec![leaf.clone()]));
    let h = header_of(&p);
    assert_eq!((&h["alg"], &h["kid"]), (&json!("ES256"), &json!("qp-es")));
    let r = verify(&p, &policy(), &w.verified());
    assert!(r.is_accepted(), "{:?}", r.rejection);
    // The P-256 certificate does not lend its key to an Ed25519 signature.
    let ed = Ed25519Signer::from_seed(&[6; 32], None);
    rejects(
        &w.verified(),
        &w.present_with(0, &ed, Some(vec![leaf])),
        ErrorCode::AlgKeyMismatch,
    );
    // An Ed25519 agency signing under the RFC 9864 name, its key listed
    // under `EdDSA`: the same chain resolves it.
    let a = &w.agencies[0].signer;
    let full =
        Ed25519Signer::from_seed(&a.seed(), a.key_id().map(Into::into)).fully_specified(true);
    let p = w.present_with(0, &full, Some(w.chain(0)));
    assert_eq!(header_of(&p)["alg"], "Ed25519");
    let r = verify(&p, &policy(), &w.verified());
    assert!(r.is_accepted(), "{:?}", r.rejection);
}

#[test]
fn a_forged_intermediate_signature_is_refused() {
    let w = world();
    let a = &w.agencies[0];
    // Two intermediates of one name; the leaf is the second's, the chain
    // carries the first.
    let sub =
        w.ca.intermediate(ca_params("YRD issuing CA 1", NOW - YEAR, NOW + YEAR));
    let twin =
        w.ca.intermediate(ca_params("YRD issuing CA 1", NOW - YEAR, NOW + YEAR));
    let leaf = twin.leaf(a.id, &a.signer.public_key(), NOW - DAY, NOW + DAY);
    rejects(
        &w.verified(),
        &w.present(0, vec![leaf, sub.b64()]),
        ErrorCode::X5cSignatureInvalid,
    );
}

#[test]
fn a_key_of_another_algorithm_is_refused() {
    let w = world();
    let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let leaf =
        w.ca.issue_for(leaf_params(w.agencies[0].id, NOW - DAY, NOW + DAY), &p384);
    rejects(
        &w.verified(),
        &w.present(0, vec![leaf]),
        ErrorCode::X5cAlgorithmUnsupported,
    );
}

#[test]
fn an_unknown_critical_extension_is_refused() {
    let w = world();
    let a = &w.agencies[0];
    let mut p = leaf_params(a.id, NOW - DAY, NOW + DAY);
    let mut ext =
        rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![5, 0]);
    ext.set_criticality(true);
    p.custom_extensions = vec![ext];
    let leaf = w.ca.issue(p, &a.signer.public_key());
    rejects(
        &w.verified(),
        &w.present(0, vec![leaf]),
        ErrorCode::X5cCriticalExtensionUnknown,
    );
}

/// `specs/qr-transport.md` §2.7: the issuer's certificate the verifier
/// holds travels by reference and is put back byte for byte.
#[test]
fn a_held_certificate_travels_by_reference_in_the_qr_transport() {
    let w = world();
    let trust = w.verified();
    let kid_only = w.present_with(0, &w.agencies[0].signer, None);
    let with_x5c = w.present(0, w.chain(0));
    let leaf = x509::Certificate::from_b64(&w.chain(0)[0]).unwrap();
    let held = [*leaf.sha256()];

    // Without a held certificate the body stays version 2.
    let plain = transport::encode(&with_x5c).unwrap();
    assert_eq!(
        transport::base45_decode(&plain[4..]).unwrap()[0],
        transport::V2_TAG
    );
    assert!(
        transport::encode_referencing(&with_x5c, &held)
            .unwrap()
            .len()
            < plain.len()
    );
    assert_eq!(
        transport::encode_referencing(&kid_only, &held).unwrap(),
        transport::encode(&kid_only).unwrap()
    );

    let by_ref = transport::encode_referencing(&with_x5c, &held).unwrap();
    assert_eq!(
        transport::base45_decode(&by_ref[4..]).unwrap()[0],
        transport::V3_TAG
    );
    let back = transport::decode_with(&by_ref, &trust).unwrap();
    assert_eq!(back, with_x5c, "byte-identical");
    assert!(verify(&back, &policy(), &trust).is_accepted());
    // Multi-part, too.
    let parts = transport::split(&by_ref, 300).unwrap();
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    assert_eq!(transport::from_texts_with(&refs, &trust).unwrap(), with_x5c);

    // A verifier without the certificate refuses, and says why.
    for err in [
        transport::decode(&by_ref).unwrap_err(),
        transport::decode_with(&by_ref, &transport::NoCertificates).unwrap_err(),
    ] {
        assert_eq!(err.code, ErrorCode::TransportCertificateUnknown);
    }
    let mut other = w.list.clone();
    other.issuers[0].keys[0].x5c = None;
    let trust_without =
        VerifiedTrustList::verify(&other.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap();
    assert_eq!(
        transport::decode_with(&by_ref, &trust_without)
            .unwrap_err()
            .code,
        ErrorCode::TransportCertificateUnknown
    );
    println!(
        "QR transport characters: kid only {}, x5c by value {}, x5c by reference {}",
        transport::encode(&kid_only).unwrap().len(),
        plain.len(),
        by_ref.len()
    );
}
