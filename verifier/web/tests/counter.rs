//! The page's counter, natively: sync by the CLI's rules (signature,
//! rollback, completeness), store and reload, air-gapped import, verify
//! with and without a request, multi-part scans, revocation, staleness.

#![allow(clippy::unwrap_used, clippy::panic)]

use serde_json::Value;
use tongban_test_support::counter_zone::{CounterZone, REVOKED_IDX, VALID_IDX};
use tongban_verifier::transport;
use tongban_verifier_web::counter::{CounterState, Settings};
use tongban_verifier_web::request::{RequestOptions, make};
use tongban_verifier_web::scan::Progress;

const NOW: i64 = 1_800_000_000;
const URI: &str = "https://amr.wujiang.example/status/1";
const DISCLOSE: [&str; 3] = [
    "company_name",
    "legal_representative",
    "unified_social_credit_code",
];

fn synced(zone: &CounterZone, seq: u64, revoked: bool) -> (CounterState, Value) {
    let mut c = CounterState::new(&zone.anchors().to_string()).unwrap();
    let tl = zone.trust_list(seq, NOW - 60, NOW + 86_400);
    assert_eq!(c.status_urls(&tl).unwrap(), vec![URI.to_owned()]);
    let status = serde_json::to_string(&vec![zone.status_list(NOW - 60, revoked)]).unwrap();
    let stored = c.assemble(&tl, &status, NOW, Settings::default()).unwrap();
    (c, stored)
}

#[test]
fn sync_store_reload_and_verify_against_the_counters_request() {
    let zone = CounterZone::new(URI);
    let (c, stored) = synced(&zone, 3, false);
    assert_eq!(stored["held"], 3);
    assert_eq!(stored["summary"]["stale"], false);
    assert_eq!(stored["summary"]["age_secs"], 0);

    // The stored files load again (as after a reload), with the age moving on.
    let mut again = CounterState::new(&zone.anchors().to_string()).unwrap();
    again.set_held(Some(3));
    let files = stored["files"].to_string();
    let s = again
        .load_stored(&files, NOW + 7200, Settings::default())
        .unwrap();
    assert_eq!(s["age_secs"], 7200);

    let mut rng = rand_core::OsRng;
    let opts = RequestOptions {
        aud: "https://counter.qingpu.example/3".into(),
        vct: Some("urn:tongban:business-licence:1".into()),
        claims: DISCLOSE.iter().map(|c| (*c).to_owned()).collect(),
        ttl_secs: 600,
        signed: None,
    };
    let req = make(&opts, NOW, &mut rng).unwrap().request;
    let cred = zone.credential(NOW - 86_400, VALID_IDX);
    let p = zone.present(&cred, &DISCLOSE, &req.aud, &req.nonce, NOW + 5);
    let single = transport::encode(&p).unwrap();
    let out = c
        .verify(
            std::slice::from_ref(&single),
            Some(&req.to_text()),
            NOW + 10,
            Settings::default(),
        )
        .unwrap();
    let view = &out["view"];
    assert_eq!(view["accepted"], true, "{out:#}");
    assert_eq!(out["report"]["issuer_listing"]["region"], "320509");
    assert_eq!(
        view["facts"][0]["value_zh"],
        "苏州市吴江区市场监督管理局 (320509)"
    );
    let labels: Vec<&str> = view["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["label_zh"].as_str().unwrap())
        .collect();
    assert_eq!(labels.len(), 3);
    assert!(
        view["facts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value_en"] == "holder's signature verified")
    );

    // Another counter's nonce: rejected.
    let other = zone.present(&cred, &DISCLOSE, &req.aud, "n-someone-else-000", NOW + 5);
    let out = c
        .verify(
            &[other],
            Some(&req.to_text()),
            NOW + 10,
            Settings::default(),
        )
        .unwrap();
    assert_eq!(out["view"]["accepted"], false);
    assert_eq!(out["view"]["rejection"]["code"], "kb_nonce_mismatch");

    // Multi-part: collected in any order, then verified.
    let parts = transport::split(&single, 300).unwrap();
    assert!(parts.len() >= 2);
    let mut c = c;
    let mut last = None;
    for p in parts.iter().rev() {
        last = Some(c.scan(p).unwrap());
    }
    let Some(Progress::Complete(texts)) = last else {
        panic!("{last:?}")
    };
    let out = c
        .verify(&texts, Some(&req.to_text()), NOW + 10, Settings::default())
        .unwrap();
    assert_eq!(out["view"]["accepted"], true);
}

#[test]
fn rollback_wrong_anchor_and_missing_status_lists_are_refused() {
    let zone = CounterZone::new(URI);
    let (mut c, _) = synced(&zone, 5, false);
    let old = zone.trust_list(4, NOW - 60, NOW + 86_400);
    let err = c.status_urls(&old).unwrap_err();
    assert_eq!(err.code(), "trust_list_rollback");
    let err = c
        .assemble(&old, "[]", NOW, Settings::default())
        .unwrap_err();
    assert_eq!(err.code(), "trust_list_rollback");
    let new = zone.trust_list(6, NOW - 60, NOW + 86_400);
    assert_eq!(
        c.assemble(&new, "[]", NOW, Settings::default())
            .unwrap_err()
            .code(),
        "bundle_incomplete"
    );
    // The bundle held is kept.
    assert_eq!(c.summary(NOW, Settings::default())["sequence"], 5);

    let stranger = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"x"}"#;
    let mut s = CounterState::new(stranger).unwrap();
    assert_eq!(
        s.status_urls(&new).unwrap_err().code(),
        "trust_list_anchor_unknown"
    );
    assert_eq!(
        CounterState::new("{}").unwrap_err().code(),
        "anchors_invalid"
    );
    assert_eq!(
        s.verify(&["TB1:x".into()], None, NOW, Settings::default())
            .unwrap_err()
            .code(),
        "no_bundle"
    );
    s.set_held(None);
}

#[test]
fn air_gapped_import_revocation_and_the_stale_policy() {
    let zone = CounterZone::new(URI);
    let mut c = CounterState::new(&zone.anchors().to_string()).unwrap();
    // A trust list and its status list, as files from a USB stick.
    let files = serde_json::json!({
        "trust-list.jwt": zone.trust_list(2, NOW - 60, NOW + 86_400),
        "status-320509.jwt": zone.status_list(NOW - 60, true),
    });
    let stored = c
        .import(&files.to_string(), NOW, Settings::default())
        .unwrap();
    assert_eq!(stored["summary"]["sequence"], 2);
    // The bundle directory's own files import too, keeping their age.
    let mut d = CounterState::new(&zone.anchors().to_string()).unwrap();
    let s = d
        .import(&stored["files"].to_string(), NOW + 600, Settings::default())
        .unwrap();
    assert_eq!(s["summary"]["age_secs"], 600);

    let revoked = zone.present(
        &zone.credential(NOW - 86_400, REVOKED_IDX),
        &["company_name"],
        "a",
        "n-12345678",
        NOW,
    );
    let out = c
        .verify(&[revoked], None, NOW + 5, Settings::default())
        .unwrap();
    assert_eq!(
        out["view"]["rejection"]["code"], "status_revoked",
        "{out:#}"
    );

    // Two days later the status list is stale: rejected, or a warning under `warn`.
    let valid = zone.present(
        &zone.credential(NOW - 86_400, VALID_IDX),
        &["company_name"],
        "a",
        "n-12345678",
        NOW + 2 * 86_400,
    );
    let later = NOW + 2 * 86_400 + 5;
    assert_eq!(c.summary(later, Settings::default())["stale"], true);
    let out = c
        .verify(
            std::slice::from_ref(&valid),
            None,
            later,
            Settings::default(),
        )
        .unwrap();
    assert_eq!(out["view"]["rejection"]["code"], "status_stale");
    let warn = Settings {
        stale_warn: true,
        ..Settings::default()
    };
    let out = c.verify(&[valid], None, later, warn).unwrap();
    assert_eq!(out["view"]["accepted"], true);
    assert_eq!(out["view"]["warnings"][0]["code"], "status_stale");

    // Something that is not ours.
    let out = c
        .verify(&["hello".into()], None, NOW, Settings::default())
        .unwrap();
    assert_eq!(out["view"]["rejection"]["code"], "transport_prefix_unknown");
}
