//! Trust across provinces: a trust list signed by the demonstration zone's
//! anchor with three issuers (Shanghai Qingpu 310118, Jiangsu Suzhou Wujiang
//! 320509, Zhejiang Jiaxing Jiashan 330421), their status lists, and the
//! bundle a counter loads. Every failure has its own code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::collections::HashMap;

use serde_json::{Value, json};
use tongban_test_support::clock::{DAY, NOW};
use tongban_test_support::present::{Audience, present};
use tongban_test_support::zone::{self, trusted_key};
use tongban_verifier::bundle::{MANIFEST_FILE, TrustBundle};
use tongban_verifier::trust::Anchor;
use tongban_verifier::*;

const AUD: &str = "https://counter.qingpu.example";
const NONCE: &str = "n-1";
const BL: &str = zone::BUSINESS_LICENCE;
const DL: &str = zone::DRIVING_LICENCE;

struct Agency {
    id: &'static str,
    /// Signs credentials.
    signer: Ed25519Signer,
    /// Signs status list tokens (a second listed key, never rotated here).
    status_signer: Ed25519Signer,
    status_uri: String,
}

struct World {
    anchor: Ed25519Signer,
    agencies: Vec<Agency>,
    list: TrustList,
    statuses: Vec<StatusList>,
    holder: Ed25519Signer,
}

fn world() -> World {
    let zone = zone::agencies();
    let status_uri = |a: &zone::Agency| format!("{}/status/1", a.id);
    let issuers = zone
        .iter()
        .map(|a| TrustedIssuer {
            id: a.id.into(),
            name_zh: a.name_zh.into(),
            name_en: a.name_en.into(),
            region: a.region.into(),
            vcts: vec![a.vct.into()],
            keys: vec![
                trusted_key(&a.signer, NOW - 365 * DAY, None, None),
                trusted_key(&a.status_signer, NOW - 365 * DAY, None, None),
            ],
            status_lists: vec![status_uri(a)],
        })
        .collect();
    let list = TrustList {
        version: 1,
        anchor: Anchor {
            id: zone::ANCHOR_ID.into(),
            name_zh: zone::ANCHOR_NAME_ZH.into(),
            name_en: zone::ANCHOR_NAME_EN.into(),
        },
        sequence: 7,
        issued_at: NOW - DAY,
        next_update: NOW + 7 * DAY,
        root_sequence: None,
        verifiers: None,
        issuers,
    };
    let agencies = zone
        .into_iter()
        .map(|a| Agency {
            id: a.id,
            status_uri: status_uri(&a),
            signer: a.signer,
            status_signer: a.status_signer,
        })
        .collect();
    let statuses = (0..3)
        .map(|_| StatusList::new(status::Bits::new(2).unwrap(), 1000))
        .collect();
    World {
        anchor: zone::anchor(),
        agencies,
        list,
        statuses,
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

    fn status_jwts(&self, iat: i64, ttl: Option<u64>) -> Vec<String> {
        self.agencies
            .iter()
            .zip(&self.statuses)
            .map(|(a, l)| {
                StatusListToken::sign(
                    &a.status_signer,
                    a.id,
                    &a.status_uri,
                    iat,
                    Some(iat + DAY),
                    ttl,
                    l,
                )
                .unwrap()
            })
            .collect()
    }

    fn bundle(&self) -> Result<(TrustBundle, tongban_verifier::bundle::BundleFiles), Rejection> {
        let tl = self.list.sign(&self.anchor).unwrap();
        TrustBundle::assemble(
            &tl,
            &self.status_jwts(NOW - 3600, Some(43_200)),
            &self.anchors(),
            None,
            NOW - 3600,
        )
    }

    /// A presentation of a credential from agency `a` (index), with `vct`,
    /// status index `idx`, issued at `iat`.
    fn present(&self, a: usize, vct: &str, idx: u64, iat: i64) -> String {
        self.present_with(
            &self.agencies[a].signer,
            self.agencies[a].id,
            &self.agencies[a].status_uri,
            vct,
            idx,
            iat,
        )
    }

    fn present_with(
        &self,
        signer: &Ed25519Signer,
        iss: &str,
        uri: &str,
        vct: &str,
        idx: u64,
        iat: i64,
    ) -> String {
        let mut rng = rand::rngs::OsRng;
        let issued = CredentialBuilder::new(iss, vct, iat)
            .expires_at(NOW + 365 * DAY)
            .holder_key(self.holder.public_key())
            .status(json!({"status_list": {"idx": idx, "uri": uri}}))
            .claim("licence_id", json!("320509-BL-2026-000001"))
            .issue(signer, &mut rng)
            .unwrap();
        let to = Audience {
            aud: AUD,
            nonce: NONCE,
            iat: NOW - 5,
        };
        present(&issued.sd_jwt, &["licence_id"], &self.holder, to).unwrap()
    }
}

fn policy() -> Policy {
    Policy::counter(NOW, AUD, NONCE)
}

fn check(bundle: &TrustBundle, input: &str, code: ErrorCode, at: Check) {
    let r = verify(input, &policy(), bundle);
    assert_eq!(r.code(), Some(code), "{:?}", r.rejection);
    assert_eq!(r.failed_check(), Some(at));
}

#[test]
fn an_authorised_credential_passes_with_status_checked() {
    let w = world();
    let (bundle, files) = w.bundle().unwrap();
    assert_eq!(
        files.last().unwrap().0,
        MANIFEST_FILE,
        "the manifest is written last"
    );
    let r = verify(&w.present(1, BL, 5, NOW - DAY), &policy(), &bundle);
    assert!(r.is_accepted(), "{:?}", r.rejection);
    let status = r.checks.iter().find(|c| c.check == Check::Status).unwrap();
    assert_eq!(status.outcome, Outcome::Passed);
    // The Jiashan police may issue driving licences.
    assert!(verify(&w.present(2, DL, 0, NOW - DAY), &policy(), &bundle).is_accepted());
}

#[test]
fn unlisted_issuer() {
    let w = world();
    let (bundle, _) = w.bundle().unwrap();
    let rogue = Ed25519Signer::from_seed(&[9; 32], Some("r-1".into()));
    let p = w.present_with(
        &rogue,
        "https://amr.rogue.example",
        "https://amr.rogue.example/s",
        BL,
        0,
        NOW - DAY,
    );
    check(&bundle, &p, ErrorCode::IssuerUnknown, Check::Trust);
}

#[test]
fn issuer_not_authorised_for_the_vct() {
    let w = world();
    let (bundle, _) = w.bundle().unwrap();
    // Jiashan traffic police issuing a business licence.
    check(
        &bundle,
        &w.present(2, BL, 0, NOW - DAY),
        ErrorCode::VctNotAuthorised,
        Check::Trust,
    );
}

#[test]
fn revoked_key_refuses_credentials_issued_at_or_after_revocation() {
    let mut w = world();
    let revoked_at = NOW - 10 * DAY;
    w.list.issuers[1].keys[0].revoked_at = Some(revoked_at);
    let (bundle, _) = w.bundle().unwrap();
    check(
        &bundle,
        &w.present(1, BL, 1, revoked_at),
        ErrorCode::KeyRevoked,
        Check::Trust,
    );
    check(
        &bundle,
        &w.present(1, BL, 1, NOW - DAY),
        ErrorCode::KeyRevoked,
        Check::Trust,
    );
    // A version 1 list's `revoked_at` marks a compromised key: whoever holds
    // the key chooses `iat`, so a credential "issued before the compromise"
    // is refused too (it was accepted before: the backdating defect).
    check(
        &bundle,
        &w.present(1, BL, 1, revoked_at - 1),
        ErrorCode::KeyRevoked,
        Check::Trust,
    );
}

#[test]
fn compromised_key_refuses_a_backdated_credential_without_status() {
    // The attack: the key is stolen, the agency reports it compromised, the
    // thief signs a credential with an iat long before and no status claim.
    let mut w = world();
    w.list.version = 2;
    w.list.issuers[1].keys[0].compromised_at = Some(NOW - 10 * DAY);
    let (bundle, _) = w.bundle().unwrap();
    let a = &w.agencies[1];
    let backdated = present_without_status(&w, &a.signer, a.id, NOW - 300 * DAY);
    check(&bundle, &backdated, ErrorCode::KeyRevoked, Check::Trust);
    // With a status reference too: every credential of the key is refused.
    check(
        &bundle,
        &w.present(1, BL, 1, NOW - 300 * DAY),
        ErrorCode::KeyRevoked,
        Check::Trust,
    );
    // The agency's other (status) key still signs its status list: the
    // bundle loads, and the other agencies are unaffected.
    assert!(verify(&w.present(0, BL, 1, NOW - DAY), &policy(), &bundle).is_accepted());
}

#[test]
fn retired_key_keeps_credentials_issued_before_and_refuses_after() {
    let mut w = world();
    w.list.version = 2;
    w.list.issuers[1].keys[0].not_after = Some(NOW - 30 * DAY);
    let (bundle, _) = w.bundle().unwrap();
    assert!(verify(&w.present(1, BL, 1, NOW - 31 * DAY), &policy(), &bundle).is_accepted());
    check(
        &bundle,
        &w.present(1, BL, 1, NOW - 30 * DAY),
        ErrorCode::KeyNotValidAtIssuance,
        Check::Trust,
    );
}

#[test]
fn compromised_and_revoked_at_belong_to_their_own_versions() {
    let w = world();
    // Version 2 names a compromise `compromised_at`; version 1's
    // `revoked_at` is refused there, so a list cannot say it both ways.
    let mut bad = w.list.clone();
    bad.version = 2;
    bad.issuers[1].keys[0].revoked_at = Some(NOW);
    let err =
        VerifiedTrustList::verify(&bad.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListMalformed);
    let mut bad = w.list.clone();
    bad.issuers[1].keys[0].compromised_at = Some(NOW);
    let err =
        VerifiedTrustList::verify(&bad.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListMalformed);
    // A version this verifier does not know (5) is refused.
    let mut bad = w.list.clone();
    bad.version = trust::TRUST_LIST_VERSION + 1;
    let err =
        VerifiedTrustList::verify(&bad.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListMalformed);
    // Upgrading a version 1 list carries `revoked_at` over as a compromise.
    let mut old = w.list.clone();
    old.issuers[1].keys[0].revoked_at = Some(NOW - DAY);
    old.upgrade();
    assert_eq!(old.version, trust::TRUST_LIST_VERSION);
    assert_eq!(old.issuers[1].keys[0].revoked_at, None);
    assert_eq!(old.issuers[1].keys[0].compromised_at, Some(NOW - DAY));
    assert!(VerifiedTrustList::verify(&old.sign(&w.anchor).unwrap(), &w.anchors(), None).is_ok());
}

#[test]
fn receiving_agencies_are_a_version_4_section_and_older_lists_still_read() {
    use tongban_verifier::relying_party::{LicenceGrant, ServiceItem, TrustedVerifier};
    let w = world();
    let agency = TrustedVerifier {
        id: "https://amr.qingpu.example".into(),
        name_zh: "青浦区市场监督管理局".into(),
        name_en: "Qingpu AMR".into(),
        region: "310118".into(),
        keys: vec![trusted_key(&w.anchor, NOW - DAY, None, None)],
        certificates: vec![],
        dns_names: vec![],
        not_before: NOW - DAY,
        not_after: None,
        service_items: vec![ServiceItem {
            id: "food-01".into(),
            name_zh: "食品经营许可".into(),
            name_en: "Food business permit".into(),
            purpose_zh: "核验".into(),
            purpose_en: "Verify".into(),
            licences: vec![LicenceGrant {
                vct: BL.into(),
                claims: vec!["company_name".into()],
                holder_binding_required: true,
            }],
        }],
    };
    let mut v4 = w.list.clone();
    v4.version = 4;
    v4.verifiers = Some(vec![agency.clone()]);
    let ok = VerifiedTrustList::verify(&v4.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap();
    assert!(ok.list().registers_verifiers());
    assert_eq!(
        ok.list().verifier(&agency.id).unwrap().name_en,
        "Qingpu AMR"
    );
    // A version 3 list cannot carry the section (an older verifier would
    // not know to enforce it).
    let mut v3 = v4.clone();
    v3.version = 3;
    let err =
        VerifiedTrustList::verify(&v3.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListMalformed);
    // A version 3 list without it still reads, and registers no one.
    v3.verifiers = None;
    let old = VerifiedTrustList::verify(&v3.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap();
    assert!(!old.list().registers_verifiers());
    // Two agencies with one id are malformed.
    let mut twice = v4.clone();
    twice.verifiers = Some(vec![agency.clone(), agency]);
    let err =
        VerifiedTrustList::verify(&twice.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListMalformed);
}

#[test]
fn an_online_requester_is_named_by_its_certificate_hash_or_its_dns_name() {
    use tongban_verifier::relying_party::{
        LicenceGrant, ServiceItem, TrustedCertificate, TrustedVerifier,
    };
    let w = world();
    let hash = tongban_verifier::encoding::b64_encode([7u8; 32]);
    let agency = |id: &str, dns: &[&str]| TrustedVerifier {
        id: id.into(),
        name_zh: "青浦区行政服务中心".into(),
        name_en: "Qingpu service centre".into(),
        region: "310118".into(),
        keys: vec![],
        certificates: vec![],
        dns_names: dns.iter().map(|d| (*d).to_owned()).collect(),
        not_before: NOW - DAY,
        not_after: None,
        service_items: vec![ServiceItem {
            id: "qy-01".into(),
            name_zh: "企业迁移".into(),
            name_en: "Relocation".into(),
            purpose_zh: "核验".into(),
            purpose_en: "Verify".into(),
            licences: vec![LicenceGrant {
                vct: BL.into(),
                claims: vec!["company_name".into()],
                holder_binding_required: true,
            }],
        }],
    };
    let mut by_hash = agency("https://qingpu.example", &[]);
    by_hash.certificates.push(TrustedCertificate {
        x509_hash: hash.clone(),
        not_before: NOW - DAY,
        not_after: None,
        compromised_at: None,
    });
    let by_name = agency("https://jiashan.example", &["ywtb.jiashan.example"]);
    let mut v4 = w.list.clone();
    v4.version = 4;
    v4.verifiers = Some(vec![by_hash, by_name.clone()]);
    let ok = VerifiedTrustList::verify(&v4.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap();
    let l = ok.list();
    let who = |client_id: &str| l.registered_by_client_id(client_id, "qy-01", NOW);
    assert_eq!(
        who(&format!("x509_hash:{hash}")).unwrap().verifier,
        "https://qingpu.example"
    );
    // A DNS name is matched without regard to case (DNS is
    // case-insensitive); any other name, prefix or item is refused.
    assert_eq!(
        who("x509_san_dns:YWTB.Jiashan.example").unwrap().verifier,
        "https://jiashan.example"
    );
    for (client_id, code) in [
        (
            "x509_san_dns:other.jiashan.example",
            ErrorCode::RequesterUnknown,
        ),
        (
            "redirect_uri:https://ywtb.jiashan.example",
            ErrorCode::RequesterUnknown,
        ),
        ("ywtb.jiashan.example", ErrorCode::RequesterUnknown),
    ] {
        assert_eq!(who(client_id).unwrap_err().code, code, "{client_id}");
    }
    assert_eq!(
        l.registered_by_client_id("x509_san_dns:ywtb.jiashan.example", "other", NOW)
            .unwrap_err()
            .code,
        ErrorCode::ServiceItemUnregistered
    );
    // Names are lower-case host names, each registered to one agency.
    for bad in [
        vec![agency("https://a.example", &["YWTB.jiashan.example"])],
        vec![agency("https://a.example", &["-x.example"])],
        vec![agency("https://a.example", &["localhost"])],
        vec![
            by_name.clone(),
            agency("https://a.example", &["ywtb.jiashan.example"]),
        ],
    ] {
        let mut l = w.list.clone();
        l.version = 4;
        l.verifiers = Some(bad);
        let err =
            VerifiedTrustList::verify(&l.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap_err();
        assert_eq!(err.code, ErrorCode::TrustListMalformed, "{}", err.detail);
    }
}

/// A presentation of a credential with no `status` claim.
fn present_without_status(w: &World, signer: &Ed25519Signer, iss: &str, iat: i64) -> String {
    let issued = CredentialBuilder::new(iss, BL, iat)
        .expires_at(NOW + 365 * DAY)
        .holder_key(w.holder.public_key())
        .claim("licence_id", json!("320509-BL-2026-000001"))
        .issue(signer, &mut rand::rngs::OsRng)
        .unwrap();
    let to = Audience {
        aud: AUD,
        nonce: NONCE,
        iat: NOW - 5,
    };
    present(&issued.sd_jwt, &["licence_id"], &w.holder, to).unwrap()
}

#[test]
fn an_issuer_that_publishes_status_lists_must_reference_one() {
    let mut w = world();
    let a = &w.agencies[1];
    let p = present_without_status(&w, &a.signer, a.id, NOW - DAY);
    let (bundle, _) = w.bundle().unwrap();
    check(&bundle, &p, ErrorCode::StatusMissing, Check::Status);
    // The bare trust list (no status lists carried) knows it too.
    let tl = w.list.sign(&w.anchor).unwrap();
    let trust = VerifiedTrustList::verify(&tl, &w.anchors(), None).unwrap();
    assert_eq!(
        verify(&p, &policy(), &trust).code(),
        Some(ErrorCode::StatusMissing)
    );
    // An issuer that publishes none may issue credentials without status.
    w.list.issuers[1].status_lists.clear();
    let tl = w.list.sign(&w.anchor).unwrap();
    let trust = VerifiedTrustList::verify(&tl, &w.anchors(), None).unwrap();
    let r = verify(&p, &policy(), &trust);
    assert!(r.is_accepted(), "{:?}", r.rejection);
}

#[test]
fn key_outside_its_window_and_unknown_kid() {
    let mut w = world();
    w.list.issuers[1].keys[0].not_after = Some(NOW - 30 * DAY);
    let (bundle, _) = w.bundle().unwrap();
    check(
        &bundle,
        &w.present(1, BL, 1, NOW - DAY),
        ErrorCode::KeyNotValidAtIssuance,
        Check::Trust,
    );
    check(
        &bundle,
        &w.present(1, BL, 1, NOW - 400 * DAY),
        ErrorCode::KeyNotValidAtIssuance,
        Check::Trust,
    );
    // Wujiang's own key (zone seed 32) under a kid the list does not name.
    let other = Ed25519Signer::from_seed(&[32; 32], Some("wj-9".into()));
    let p = w.present_with(
        &other,
        w.agencies[1].id,
        &w.agencies[1].status_uri,
        BL,
        1,
        NOW - 40 * DAY,
    );
    check(&bundle, &p, ErrorCode::KeyUnknown, Check::Trust);
}

#[test]
fn key_rotation_keeps_old_credentials_valid() {
    let mut w = world();
    let new = Ed25519Signer::from_seed(&[22; 32], Some("wj-2".into()));
    w.list.issuers[1].keys[0].not_after = Some(NOW - 30 * DAY);
    w.list.issuers[1]
        .keys
        .push(trusted_key(&new, NOW - 30 * DAY, None, None));
    let (bundle, _) = w.bundle().unwrap();
    assert!(verify(&w.present(1, BL, 1, NOW - 60 * DAY), &policy(), &bundle).is_accepted());
    let p = w.present_with(
        &new,
        w.agencies[1].id,
        &w.agencies[1].status_uri,
        BL,
        2,
        NOW - DAY,
    );
    assert!(verify(&p, &policy(), &bundle).is_accepted());
}

#[test]
fn revoked_suspended_and_unknown_statuses() {
    let mut w = world();
    w.statuses[1].set(3, 1);
    w.statuses[1].set(4, 2);
    w.statuses[1].set(6, 3);
    let (bundle, _) = w.bundle().unwrap();
    check(
        &bundle,
        &w.present(1, BL, 3, NOW - DAY),
        ErrorCode::StatusRevoked,
        Check::Status,
    );
    check(
        &bundle,
        &w.present(1, BL, 4, NOW - DAY),
        ErrorCode::StatusSuspended,
        Check::Status,
    );
    check(
        &bundle,
        &w.present(1, BL, 6, NOW - DAY),
        ErrorCode::StatusUnknown,
        Check::Status,
    );
    check(
        &bundle,
        &w.present(1, BL, 5000, NOW - DAY),
        ErrorCode::StatusIndexOutOfRange,
        Check::Status,
    );
}

#[test]
fn suspended_then_reinstated() {
    let mut w = world();
    w.statuses[1].set(4, 2);
    let (bundle, _) = w.bundle().unwrap();
    let p = w.present(1, BL, 4, NOW - DAY);
    check(&bundle, &p, ErrorCode::StatusSuspended, Check::Status);
    w.statuses[1].set(4, 0);
    let (bundle, _) = w.bundle().unwrap();
    assert!(verify(&p, &policy(), &bundle).is_accepted());
}

#[test]
fn status_list_missing_or_of_another_issuer() {
    let w = world();
    let (bundle, _) = w.bundle().unwrap();
    let a = &w.agencies[1];
    let p = w.present_with(
        &a.signer,
        a.id,
        "https://amr.wujiang.example/status/99",
        BL,
        0,
        NOW - DAY,
    );
    check(&bundle, &p, ErrorCode::StatusListMissing, Check::Status);
    let p = w.present_with(&a.signer, a.id, &w.agencies[0].status_uri, BL, 0, NOW - DAY);
    check(
        &bundle,
        &p,
        ErrorCode::StatusListIssuerMismatch,
        Check::Status,
    );
}

#[test]
fn stale_bundle_rejects_by_default_and_warns_if_configured() {
    let w = world();
    let (bundle, _) = w.bundle().unwrap();
    let p = w.present(1, BL, 1, NOW - DAY);
    // The lists' exp is a day after their iat (NOW - 1 h): stale 23 h from
    // now. (Their ttl, 12 h, only says when to refetch; judging freshness by
    // it was the defect that rejected a just-synced counter's credentials.)
    let later = NOW + DAY;
    let mut pol = Policy::counter(later, AUD, NONCE);
    pol.kb_max_age_secs = u32::MAX / 2;
    let r = verify(&p, &pol, &bundle);
    assert_eq!(r.code(), Some(ErrorCode::StatusStale));
    pol.stale = StalePolicy::Warn;
    let r = verify(&p, &pol, &bundle);
    assert!(r.is_accepted());
    assert_eq!(r.warnings[0].code, ErrorCode::StatusStale);
    // A stricter maximum age makes a fresh-by-ttl list stale too.
    let mut pol = policy();
    pol.max_status_age_secs = 600;
    assert_eq!(
        verify(&p, &pol, &bundle).code(),
        Some(ErrorCode::StatusStale)
    );
    // A revocation is final even from a stale list.
    let mut w2 = world();
    w2.statuses[1].set(1, 1);
    let (bundle, _) = w2.bundle().unwrap();
    let mut pol = Policy::counter(later, AUD, NONCE);
    pol.kb_max_age_secs = u32::MAX / 2;
    assert_eq!(
        verify(&w2.present(1, BL, 1, NOW - DAY), &pol, &bundle).code(),
        Some(ErrorCode::StatusRevoked)
    );
}

#[test]
fn a_list_synced_just_before_its_ttl_ends_stays_usable_for_the_max_age() {
    // The issuer signed at T with ttl 300 s and exp T + 1 day; the counter
    // fetched it at T + 299 s, 1 s before the refetch hint. Fixed times.
    let w = world();
    let t = NOW - 200;
    let tl = w.list.sign(&w.anchor).unwrap();
    let jwts: Vec<String> = w
        .agencies
        .iter()
        .zip(&w.statuses)
        .map(|(a, l)| {
            StatusListToken::sign(
                &a.status_signer,
                a.id,
                &a.status_uri,
                t,
                Some(t + DAY),
                Some(300),
                l,
            )
            .unwrap()
        })
        .collect();
    let (bundle, _) = TrustBundle::assemble(&tl, &jwts, &w.anchors(), None, t + 299).unwrap();
    let p = w.present(1, BL, 1, NOW - DAY);
    let at = |now: i64, max_age: u32| {
        let mut pol = Policy::counter(now, AUD, NONCE);
        pol.kb_max_age_secs = u32::MAX / 2;
        pol.max_status_age_secs = max_age;
        verify(&p, &pol, &bundle)
    };
    let default_max_age = policy::DEFAULT_STATUS_MAX_AGE_SECS;
    assert_eq!(default_max_age, 86_400);
    // Seconds, minutes and hours after the ttl: still fresh.
    for now in [t + 301, t + 3600, t + 12 * 3600, t + DAY - 1] {
        let r = at(now, default_max_age);
        assert!(r.is_accepted(), "at T+{}: {:?}", now - t, r.rejection);
    }
    // At exp: stale.
    assert_eq!(
        at(t + DAY, default_max_age).code(),
        Some(ErrorCode::StatusStale)
    );
    // The counter's own maximum age applies from the token's iat.
    assert!(at(t + 3599, 3600).is_accepted());
    assert_eq!(at(t + 3601, 3600).code(), Some(ErrorCode::StatusStale));
    // Without exp, the maximum age alone bounds it.
    let jwts: Vec<String> = w
        .agencies
        .iter()
        .zip(&w.statuses)
        .map(|(a, l)| {
            StatusListToken::sign(&a.status_signer, a.id, &a.status_uri, t, None, Some(300), l)
                .unwrap()
        })
        .collect();
    let (bundle, _) = TrustBundle::assemble(&tl, &jwts, &w.anchors(), None, t + 299).unwrap();
    let mut pol = Policy::counter(t + DAY + 1, AUD, NONCE);
    pol.kb_max_age_secs = u32::MAX / 2;
    assert_eq!(
        verify(&p, &pol, &bundle).code(),
        Some(ErrorCode::StatusStale)
    );
    pol.now = t + DAY - 1;
    assert!(verify(&p, &pol, &bundle).is_accepted());
}

#[test]
fn trust_list_past_next_update_is_stale() {
    let mut w = world();
    w.list.next_update = NOW - 1;
    let (bundle, _) = w.bundle().unwrap();
    check(
        &bundle,
        &w.present(1, BL, 1, NOW - DAY),
        ErrorCode::StatusStale,
        Check::Status,
    );
}

#[test]
fn rolled_back_trust_list_is_refused() {
    let w = world();
    let tl = w.list.sign(&w.anchor).unwrap();
    let err = TrustBundle::assemble(&tl, &w.status_jwts(NOW, None), &w.anchors(), Some(8), NOW)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListRollback);
    // The same sequence (a re-sync) is fine.
    assert!(
        TrustBundle::assemble(&tl, &w.status_jwts(NOW, None), &w.anchors(), Some(7), NOW).is_ok()
    );
}

#[test]
fn trust_list_from_an_unknown_or_false_anchor() {
    let w = world();
    let other = Ed25519Signer::from_seed(&[0xbb; 32], Some("other".into()));
    let tl = w.list.sign(&other).unwrap();
    let err = VerifiedTrustList::verify(&tl, &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListAnchorUnknown);
    let forged = Ed25519Signer::from_seed(&[0xbb; 32], Some(zone::ANCHOR_KID.into()));
    let tl = w.list.sign(&forged).unwrap();
    let err = VerifiedTrustList::verify(&tl, &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListSignatureInvalid);
}

#[test]
fn malformed_trust_lists() {
    let w = world();
    let mut bad = w.list.clone();
    bad.issuers[0].region = "31011".into();
    let err =
        VerifiedTrustList::verify(&bad.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListMalformed);
    let mut bad = w.list.clone();
    bad.issuers[1].id = bad.issuers[0].id.clone();
    let err =
        VerifiedTrustList::verify(&bad.sign(&w.anchor).unwrap(), &w.anchors(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::TrustListMalformed);
    // Unknown fields are refused (deny_unknown_fields), as is a wrong typ.
    let mut v = serde_json::to_value(&w.list).unwrap();
    v["extra"] = json!(1);
    let jws = jws::sign_compact(&w.anchor, trust::TYP_TRUST_LIST, &v).unwrap();
    assert_eq!(
        VerifiedTrustList::verify(&jws, &w.anchors(), None)
            .unwrap_err()
            .code,
        ErrorCode::TrustListMalformed
    );
    let v = serde_json::to_value(&w.list).unwrap();
    let jws = jws::sign_compact(&w.anchor, "JWT", &v).unwrap();
    assert_eq!(
        VerifiedTrustList::verify(&jws, &w.anchors(), None)
            .unwrap_err()
            .code,
        ErrorCode::TrustListMalformed
    );
}

#[test]
fn status_list_tokens_are_checked_on_assembly() {
    let w = world();
    let tl = w.list.sign(&w.anchor).unwrap();
    // Signed by the wrong issuer's key.
    let mut jwts = w.status_jwts(NOW, None);
    let a = &w.agencies[0];
    jwts[0] = StatusListToken::sign(
        &w.agencies[1].status_signer,
        a.id,
        &a.status_uri,
        NOW,
        None,
        None,
        &w.statuses[0],
    )
    .unwrap();
    let err = TrustBundle::assemble(&tl, &jwts, &w.anchors(), None, NOW).unwrap_err();
    assert_eq!(err.code, ErrorCode::StatusListSignatureInvalid);
    // A list no listed issuer publishes.
    let mut jwts = w.status_jwts(NOW, None);
    jwts.push(
        StatusListToken::sign(
            &a.signer,
            a.id,
            "https://elsewhere.example/s",
            NOW,
            None,
            None,
            &w.statuses[0],
        )
        .unwrap(),
    );
    let err = TrustBundle::assemble(&tl, &jwts, &w.anchors(), None, NOW).unwrap_err();
    assert_eq!(err.code, ErrorCode::StatusListIssuerUnknown);
    // A missing list.
    let jwts = w.status_jwts(NOW, None)[..2].to_vec();
    let err = TrustBundle::assemble(&tl, &jwts, &w.anchors(), None, NOW).unwrap_err();
    assert_eq!(err.code, ErrorCode::BundleIncomplete);
    // A malformed token.
    let mut jwts = w.status_jwts(NOW, None);
    jwts[0] = "not.a.token".into();
    let err = TrustBundle::assemble(&tl, &jwts, &w.anchors(), None, NOW).unwrap_err();
    assert_eq!(err.code, ErrorCode::StatusListMalformed);
}

fn load(files: &HashMap<String, Vec<u8>>, anchors: &[KeyWithId]) -> Result<TrustBundle, Rejection> {
    let manifest = files.get(MANIFEST_FILE).cloned().unwrap_or_default();
    TrustBundle::load(&manifest, &mut |name| files.get(name).cloned(), anchors)
}

#[test]
fn bundle_round_trip_and_tampering() {
    let w = world();
    let (_, files) = w.bundle().unwrap();
    let files: HashMap<String, Vec<u8>> = files.into_iter().collect();
    let bundle = load(&files, &w.anchors()).unwrap();
    assert!(verify(&w.present(1, BL, 1, NOW - DAY), &policy(), &bundle).is_accepted());
    assert_eq!(bundle.age(NOW), 3600);

    // A tampered status list file: refused whole.
    let mut t = files.clone();
    let name = t.keys().find(|k| k.starts_with("status-")).unwrap().clone();
    t.get_mut(&name).unwrap()[10] ^= 1;
    assert_eq!(
        load(&t, &w.anchors()).unwrap_err().code,
        ErrorCode::BundleFileTampered
    );
    // A missing file.
    let mut t = files.clone();
    t.remove(&name);
    assert_eq!(
        load(&t, &w.anchors()).unwrap_err().code,
        ErrorCode::BundleFileMissing
    );
    // A manifest that is not JSON, or names a path outside the bundle.
    let mut t = files.clone();
    t.insert(MANIFEST_FILE.into(), b"{".to_vec());
    assert_eq!(
        load(&t, &w.anchors()).unwrap_err().code,
        ErrorCode::BundleManifestInvalid
    );
    let mut t = files.clone();
    let m = String::from_utf8(t[MANIFEST_FILE].clone())
        .unwrap()
        .replace(&name, "../../etc/passwd");
    t.insert(MANIFEST_FILE.into(), m.into_bytes());
    assert_eq!(
        load(&t, &w.anchors()).unwrap_err().code,
        ErrorCode::BundleManifestInvalid
    );
    // Loaded with the wrong anchor.
    let other = vec![KeyWithId {
        key: Ed25519Signer::from_seed(&[5; 32], None).public_key(),
        kid: None,
    }];
    assert_eq!(
        load(&files, &other).unwrap_err().code,
        ErrorCode::TrustListSignatureInvalid
    );
}

#[test]
fn credential_without_iat_under_a_trust_list() {
    let w = world();
    let (bundle, _) = w.bundle().unwrap();
    // Hand-made payload without iat, correctly signed.
    let a = &w.agencies[1];
    let d = Disclosure::create(
        "s".into(),
        Some("licence_id".into()),
        json!("320509-BL-2026-000001"),
    );
    let payload = json!({"iss": a.id, "vct": BL, "exp": NOW + DAY, "cnf": {"jwk": w.holder.public_key().to_jwk()},
                         "_sd": [d.digest], "_sd_alg": "sha-256"});
    let jwt = jws::sign_compact(&a.signer, "dc+sd-jwt", &payload).unwrap();
    let sd = format!("{jwt}~{}~", d.encoded);
    let kb = json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sdjwt::sha256_b64(&sd)});
    let p = format!(
        "{sd}{}",
        jws::sign_compact(&w.holder, "kb+jwt", &kb).unwrap()
    );
    check(&bundle, &p, ErrorCode::IatMissing, Check::Trust);
}

#[test]
fn malformed_status_claim() {
    let w = world();
    let (bundle, _) = w.bundle().unwrap();
    let a = &w.agencies[1];
    let mut rng = rand::rngs::OsRng;
    let issued = CredentialBuilder::new(a.id, BL, NOW - DAY)
        .holder_key(w.holder.public_key())
        .status(json!({"status_list": {"idx": -1, "uri": a.status_uri}}))
        .claim("x", json!(1))
        .issue(&a.signer, &mut rng)
        .unwrap();
    let r = verify(
        &issued.sd_jwt,
        &Policy::without_holder_binding(NOW),
        &bundle,
    );
    assert_eq!(r.code(), Some(ErrorCode::ClaimTypeInvalid));
}

// ---- Token Status List vectors ----------------------------------------------

fn vector(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../specs/vectors/statuslist")
            .join(name),
    )
    .unwrap()
}

/// The `byte_array = [...]` line of a vector file.
fn byte_array(text: &str) -> Vec<u8> {
    let line = text.lines().find(|l| l.starts_with("byte_array")).unwrap();
    let inner = line.split('[').nth(1).unwrap().split(']').next().unwrap();
    inner
        .split(',')
        .map(|b| u8::from_str_radix(b.trim().trim_start_matches("0x"), 16).unwrap())
        .collect()
}

/// The JSON object of a vector file, with wrapped strings joined.
fn json_part(text: &str) -> Value {
    let start = text.find('{').unwrap();
    let joined: String = text[start..].split_whitespace().collect();
    serde_json::from_str(&joined).unwrap()
}

/// The `lst` bytes of a CBOR `{"bits": n, "lst": bytes}` vector (hex).
fn cbor_lst(text: &str) -> (u8, Vec<u8>) {
    let hex: String = text
        .lines()
        .filter(|l| !l.contains('=') && !l.contains(':'))
        .flat_map(|l| l.split_whitespace())
        .collect();
    let b: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    // a2 64 "bits" <uint> 63 "lst" <bstr>
    assert_eq!(&b[..6], &[0xa2, 0x64, b'b', b'i', b't', b's']);
    let bits = b[6];
    assert_eq!(&b[7..11], &[0x63, b'l', b's', b't']);
    let (len, start) = match b[11] {
        n @ 0x40..=0x57 => (usize::from(n - 0x40), 12),
        0x58 => (usize::from(b[12]), 13),
        0x59 => (usize::from(u16::from_be_bytes([b[12], b[13]])), 14),
        0x5a => (
            u32::from_be_bytes([b[12], b[13], b[14], b[15]]) as usize,
            16,
        ),
        other => panic!("unexpected CBOR head {other:#x}"),
    };
    (bits, b[start..start + len].to_vec())
}

#[test]
fn status_list_encoding_vectors_json_and_cbor() {
    for (json_file, cbor_file) in [
        (
            "status_list_encoding_json.md",
            "status_list_encoding_cbor.md",
        ),
        (
            "status_list_encoding2_json.md",
            "status_list_encoding2_cbor.md",
        ),
    ] {
        let text = vector(json_file);
        let expected = byte_array(&text);
        let list = StatusList::from_json(&json_part(&text), 1 << 20).unwrap();
        assert_eq!(list.as_bytes(), expected.as_slice(), "{json_file}");
        // Our own encoding decodes to the same bytes.
        assert_eq!(
            StatusList::from_json(&list.to_json(), 1 << 20).unwrap(),
            list
        );
        let cbor = vector(cbor_file);
        assert_eq!(byte_array(&cbor), expected);
        let (bits, lst) = cbor_lst(&cbor);
        assert_eq!(bits, list.bits().get());
        assert_eq!(
            miniz_oxide::inflate::decompress_to_vec_zlib(&lst).unwrap(),
            expected,
            "{cbor_file}"
        );
    }
}

#[test]
fn status_list_long_vectors() {
    // draft-ietf-oauth-status-list's 2^20-entry examples and the entries
    // it sets; every other entry is 0.
    let one_bit: &[(usize, u8)] = &[
        (0, 1),
        (1993, 1),
        (25460, 1),
        (159495, 1),
        (495669, 1),
        (554353, 1),
        (645645, 1),
        (723232, 1),
        (854545, 1),
        (934534, 1),
        (1000345, 1),
    ];
    let two_bit: &[(usize, u8)] = &[
        (0, 1),
        (1993, 2),
        (25460, 1),
        (159495, 3),
        (495669, 1),
        (554353, 1),
        (645645, 2),
        (723232, 1),
        (854545, 1),
        (934534, 2),
        (1000345, 3),
    ];
    for (file, cbor, expected) in [
        (
            "status_list_encoding1_long_json.md",
            "status_list_encoding1_long_cbor.md",
            one_bit,
        ),
        (
            "status_list_encoding2_long_json.md",
            "status_list_encoding2_long_cbor.md",
            two_bit,
        ),
    ] {
        let list = StatusList::from_json(&json_part(&vector(file)), 1 << 22).unwrap();
        assert_eq!(list.len(), 1 << 20, "{file}");
        let set: Vec<(usize, u8)> = (0..list.len())
            .filter_map(|i| list.get(i).filter(|v| *v != 0).map(|v| (i, v)))
            .collect();
        assert_eq!(set, expected, "{file}");
        let back = StatusList::from_json(&list.to_json(), 1 << 22).unwrap();
        assert_eq!(back, list);
        let (_, lst) = cbor_lst(&vector(cbor));
        assert_eq!(
            miniz_oxide::inflate::decompress_to_vec_zlib(&lst).unwrap(),
            list.as_bytes(),
            "{cbor}"
        );
    }
    // The 4-bit example sets these 15 entries.
    let four_bit: &[(usize, u8)] = &[
        (0, 1),
        (1993, 2),
        (35460, 3),
        (459495, 4),
        (595669, 5),
        (754353, 6),
        (845645, 7),
        (923232, 8),
        (924445, 9),
        (934534, 10),
        (1000345, 12),
        (1004534, 11),
        (1030203, 13),
        (1030204, 14),
        (1030205, 15),
    ];
    let list = StatusList::from_json(
        &json_part(&vector("status_list_encoding4_json.md")),
        1 << 22,
    )
    .unwrap();
    let set: Vec<(usize, u8)> = (0..list.len())
        .filter_map(|i| list.get(i).filter(|v| *v != 0).map(|v| (i, v)))
        .collect();
    assert_eq!(set, four_bit);
    assert_eq!(
        StatusList::from_json(&list.to_json(), 1 << 22).unwrap(),
        list
    );
    // The 8-bit example sets 255 entries, each value 1..=255 exactly once.
    let list = StatusList::from_json(
        &json_part(&vector("status_list_encoding8_json.md")),
        1 << 22,
    )
    .unwrap();
    assert_eq!(list.len(), 1 << 20);
    let mut values: Vec<u8> = (0..list.len())
        .filter_map(|i| list.get(i).filter(|v| *v != 0))
        .collect();
    values.sort_unstable();
    assert_eq!(values, (1..=255).collect::<Vec<u8>>());
    assert_eq!(
        StatusList::from_json(&list.to_json(), 1 << 22).unwrap(),
        list
    );
    for file in [
        "status_list_encoding4_cbor.md",
        "status_list_encoding8_cbor.md",
    ] {
        let json = vector(&file.replace("cbor", "json"));
        let list = StatusList::from_json(&json_part(&json), 1 << 22).unwrap();
        let (bits, lst) = cbor_lst(&vector(file));
        assert_eq!(bits, list.bits().get());
        assert_eq!(
            miniz_oxide::inflate::decompress_to_vec_zlib(&lst).unwrap(),
            list.as_bytes(),
            "{file}"
        );
    }
}

#[test]
fn status_list_token_vector_claims() {
    // The example token of the draft (ES256; its key is not published in the
    // vector set, so the claims and list are checked, not the signature).
    let raw: String = vector("status_list_jwt_raw.md")
        .split_whitespace()
        .collect();
    let jws = jws::CompactJws::parse(&raw, "t").unwrap();
    assert_eq!(jws.header["typ"], "statuslist+jwt");
    let token = StatusListToken::from_claims(&jws.payload).unwrap();
    assert_eq!(token.uri, "https://example.com/statuslists/1");
    assert_eq!(token.ttl, Some(43_200));
    assert_eq!(token.list.as_bytes(), [0xb9, 0xa3]);
    // ttl is when to fetch a new copy, not when this one stops counting.
    assert_eq!(token.refetch_at(), Some(1_686_920_170 + 43_200));
    assert_eq!(token.exp, Some(2_291_720_170));
    assert_eq!(token.fresh_until(86_400), 1_686_920_170 + 86_400);
}

/// The CWT forms of the draft's examples (Tongban uses the JWT form; these
/// check that the status list they carry, and the reference a CWT token
/// makes to it, mean what the JWT and JSON forms mean).
#[test]
fn status_list_cwt_vectors() {
    use ciborium::Value as Cbor;
    fn hex_file(name: &str) -> Vec<u8> {
        let hex: String = vector(name).split_whitespace().collect();
        (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }
    /// COSE_Sign1 (tag 18) → its payload, decoded.
    fn cose_payload(bytes: &[u8]) -> Vec<(Cbor, Cbor)> {
        let Cbor::Tag(18, inner) = ciborium::from_reader::<Cbor, _>(bytes).unwrap() else {
            panic!("not COSE_Sign1")
        };
        let Cbor::Array(parts) = *inner else {
            panic!("not an array")
        };
        let Cbor::Bytes(payload) = &parts[2] else {
            panic!("no payload")
        };
        match ciborium::from_reader::<Cbor, _>(payload.as_slice()).unwrap() {
            Cbor::Map(m) => m,
            _ => panic!("payload is not a map"),
        }
    }
    fn get(m: &[(Cbor, Cbor)], key: i128) -> &Cbor {
        &m.iter()
            .find(|(k, _)| k.as_integer().map(i128::from) == Some(key))
            .unwrap()
            .1
    }
    fn text(m: &[(Cbor, Cbor)], key: &str) -> Cbor {
        m.iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .unwrap()
            .1
            .clone()
    }

    // The status list CWT: sub (2), ttl (65534), status_list (65533).
    let sl = cose_payload(&hex_file("status_list_cwt.md"));
    assert_eq!(
        get(&sl, 2).as_text(),
        Some("https://example.com/statuslists/1")
    );
    assert_eq!(get(&sl, 65534).as_integer().map(i128::from), Some(43_200));
    let Cbor::Map(list) = get(&sl, 65533) else {
        panic!("no status_list")
    };
    assert_eq!(text(list, "bits").as_integer().map(i128::from), Some(1));
    let Cbor::Bytes(lst) = text(list, "lst") else {
        panic!("no lst")
    };
    let bytes = miniz_oxide::inflate::decompress_to_vec_zlib(&lst).unwrap();
    assert_eq!(
        bytes,
        [0xb9, 0xa3],
        "the same list as the JSON and JWT forms"
    );
    let decoded = StatusList::from_bytes(status::Bits::new(1).unwrap(), bytes);

    // The referenced token CWT points at entry 0 of that list, which is 1 (invalid).
    let rt = cose_payload(&hex_file("referenced_token_cwt.md"));
    let Cbor::Map(status) = get(&rt, 65535) else {
        panic!("no status claim")
    };
    let Cbor::Map(reference) = text(status, "status_list") else {
        panic!("no status_list reference")
    };
    assert_eq!(
        text(&reference, "uri").as_text(),
        Some("https://example.com/statuslists/1")
    );
    let idx = usize::try_from(i128::from(text(&reference, "idx").as_integer().unwrap())).unwrap();
    assert_eq!(decoded.get(idx), Some(1));
}
