//! The page's counter, natively: sync by the CLI's rules (signature,
//! rollback, completeness), store and reload, air-gapped import, verify
//! with and without a request, multi-part scans, revocation, staleness.

#![allow(clippy::unwrap_used, clippy::panic)]

use serde_json::Value;
use tongban_test_support::counter_zone::{CounterZone, REVOKED_IDX, VALID_IDX, operators};
use tongban_verifier::transport;
use tongban_verifier_web::counter::{CounterState, Floors, Settings};
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
    assert_eq!(c.status_urls(&tl, "[]").unwrap(), vec![URI.to_owned()]);
    let status = serde_json::to_string(&vec![zone.status_list(NOW - 60, revoked)]).unwrap();
    let stored = c
        .assemble(&tl, "[]", &status, NOW, Settings::default())
        .unwrap();
    (c, stored)
}

#[test]
fn sync_store_reload_and_verify_against_the_counters_request() {
    let zone = CounterZone::new(URI);
    let (c, stored) = synced(&zone, 3, false);
    assert_eq!(stored["held"]["sequence"], 3);
    assert_eq!(stored["held"]["root_sequence"], 0);
    let t = &stored["summary"]["trust_list"];
    assert_eq!(
        (t["version"].clone(), t["root_sequence"].clone()),
        (2.into(), 0.into())
    );
    assert_eq!(t["threshold"], serde_json::json!({"k": 1, "n": 1}));
    assert_eq!(stored["summary"]["stale"], false);
    assert_eq!(stored["summary"]["age_secs"], 0);

    // The stored files load again (as after a reload), with the age moving on.
    let mut again = CounterState::new(&zone.anchors().to_string()).unwrap();
    again.set_held(Floors {
        sequence: Some(3),
        root_sequence: Some(0),
    });
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
    let err = c.status_urls(&old, "[]").unwrap_err();
    assert_eq!(err.code(), "trust_list_rollback");
    let err = c
        .assemble(&old, "[]", "[]", NOW, Settings::default())
        .unwrap_err();
    assert_eq!(err.code(), "trust_list_rollback");
    let new = zone.trust_list(6, NOW - 60, NOW + 86_400);
    assert_eq!(
        c.assemble(&new, "[]", "[]", NOW, Settings::default())
            .unwrap_err()
            .code(),
        "bundle_incomplete"
    );
    // The bundle held is kept.
    assert_eq!(c.summary(NOW, Settings::default())["sequence"], 5);

    let stranger = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"x"}"#;
    let mut s = CounterState::new(stranger).unwrap();
    assert_eq!(
        s.status_urls(&new, "[]").unwrap_err().code(),
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
    s.set_held(Floors::default());
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

/// The zone governed by three provinces: root 1 is 2-of-3 (pinned), root 2
/// drops Zhejiang's key and keeps k = 2 (published beside the list).
#[test]
fn a_pinned_root_threshold_lists_and_the_chain_walked_with_rollback_floors() {
    let zone = CounterZone::new(URI);
    let [sh, js, zj] = operators();
    let root1 = zone.root(
        1,
        2,
        &[&sh, &js, &zj],
        &[&sh, &js, &zj],
        NOW - 600,
        NOW + 86_400 * 365,
    );
    let status = serde_json::to_string(&vec![zone.status_list(NOW - 60, false)]).unwrap();
    let list_url = "https://trust.yrd.example/zone/trust-list.json";
    let mut c = CounterState::new(&root1).unwrap();

    // One signature of three is not enough; two are, and the summary
    // names them.
    let one = zone.threshold_list(4, 1, &[&sh], NOW - 60, NOW + 86_400);
    assert_eq!(
        c.roots_needed(&one, list_url).unwrap(),
        serde_json::json!([])
    );
    assert_eq!(
        c.status_urls(&one, "[]").unwrap_err().code(),
        "trust_list_threshold_not_met"
    );
    let two = zone.threshold_list(4, 1, &[&sh, &zj], NOW - 60, NOW + 86_400);
    assert_eq!(c.status_urls(&two, "[]").unwrap(), vec![URI.to_owned()]);
    let stored = c
        .assemble(&two, "[]", &status, NOW, Settings::default())
        .unwrap();
    let t = &stored["summary"]["trust_list"];
    assert_eq!(t["version"], 3);
    assert_eq!(t["root_sequence"], 1);
    assert_eq!(t["threshold"], serde_json::json!({"k": 2, "n": 3}));
    let kids: Vec<&str> = t["signed_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["sh-ops-1", "zj-ops-1"]);
    assert_eq!(t["signed_by"][0]["thumbprint"].as_str().unwrap().len(), 43);
    assert_eq!(
        stored["held"],
        serde_json::json!({"sequence": 4, "root_sequence": 1})
    );

    // The verdict names the list, its root and who signed it.
    let p = zone.present(
        &zone.credential(NOW - 86_400, VALID_IDX),
        &DISCLOSE,
        "a",
        "n-12345678",
        NOW,
    );
    let out = c
        .verify(std::slice::from_ref(&p), None, NOW + 5, Settings::default())
        .unwrap();
    assert_eq!(out["view"]["accepted"], true, "{out:#}");
    assert_eq!(
        out["view"]["bundle"]["trust_list"]["signed_by"][1]["kid"],
        "zj-ops-1"
    );
    assert_eq!(out["report"]["bundle"]["trust_list"]["threshold"]["k"], 2);

    // Root 2 (Zhejiang's key removed, signed by 2 of root 1 and 2 of its
    // own) is fetched beside the list when a list needs it.
    let root2 = zone.root(2, 2, &[&sh, &js], &[&sh, &js], NOW - 60, NOW + 86_400 * 365);
    let by_removed = zone.threshold_list(5, 2, &[&sh, &zj], NOW - 30, NOW + 86_400);
    let needed = c.roots_needed(&by_removed, list_url).unwrap();
    assert_eq!(
        needed,
        serde_json::json!([{"sequence": 2, "url": "https://trust.yrd.example/zone/root-2.json"}])
    );
    let roots = serde_json::to_string(&vec![root2.clone()]).unwrap();
    // Without the root the list cannot be judged; with it, a signature by
    // the removed key does not count.
    assert_eq!(
        c.status_urls(&by_removed, "[]").unwrap_err().code(),
        "trust_root_chain_broken"
    );
    assert_eq!(
        c.status_urls(&by_removed, &roots).unwrap_err().code(),
        "trust_anchor_removed"
    );
    let five = zone.threshold_list(5, 2, &[&sh, &js], NOW - 30, NOW + 86_400);
    let stored = c
        .assemble(&five, &roots, &status, NOW + 60, Settings::default())
        .unwrap();
    assert_eq!(
        stored["held"],
        serde_json::json!({"sequence": 5, "root_sequence": 2})
    );
    assert_eq!(stored["summary"]["trust_list"]["roots_followed"], 1);
    // The stored files keep root 2: a reload follows it offline, and the
    // next sync needs nothing more.
    assert!(
        stored["files"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("root-2-"))
    );
    let mut again = CounterState::new(&root1).unwrap();
    again.set_held(Floors {
        sequence: Some(5),
        root_sequence: Some(2),
    });
    let s = again
        .load_stored(&stored["files"].to_string(), NOW + 120, Settings::default())
        .unwrap();
    assert_eq!(s["trust_list"]["root_sequence"], 2);
    let six = zone.threshold_list(6, 2, &[&sh, &js], NOW - 10, NOW + 86_400);
    assert_eq!(
        again.roots_needed(&six, list_url).unwrap(),
        serde_json::json!([])
    );
    assert_eq!(again.status_urls(&six, "[]").unwrap(), vec![URI.to_owned()]);

    // Rollback floors: a bundle under root 1, or an older list, is refused
    // by a counter that held root 2 — on sync, on reload, on import.
    let mut floor = CounterState::new(&root1).unwrap();
    floor.set_held(Floors {
        sequence: Some(5),
        root_sequence: Some(2),
    });
    let seven_under_one = zone.threshold_list(7, 1, &[&sh, &js], NOW - 10, NOW + 86_400);
    assert_eq!(
        floor
            .status_urls(&seven_under_one, "[]")
            .unwrap_err()
            .code(),
        "trust_root_rollback"
    );
    let old_files = {
        let mut fresh = CounterState::new(&root1).unwrap();
        fresh
            .assemble(&two, "[]", &status, NOW, Settings::default())
            .unwrap()["files"]
            .to_string()
    };
    assert_eq!(
        floor
            .load_stored(&old_files, NOW, Settings::default())
            .unwrap_err()
            .code(),
        "trust_root_rollback"
    );
    assert_eq!(
        floor
            .import(&old_files, NOW, Settings::default())
            .unwrap_err()
            .code(),
        "trust_root_rollback"
    );

    // Air-gapped: a trust list, the root a rotation added and the status
    // list, given as files, follow the chain from the pin.
    let mut gap = CounterState::new(&root1).unwrap();
    let files = serde_json::json!({
        "trust-list.json": five,
        "root-2.json": root2,
        "status-320509.jwt": zone.status_list(NOW - 60, false),
    });
    let s = gap
        .import(&files.to_string(), NOW, Settings::default())
        .unwrap();
    assert_eq!(s["summary"]["trust_list"]["root_sequence"], 2);

    // A pinned root must carry its own threshold; a root past its expiry
    // makes the bundle stale.
    let underpinned = zone.root(1, 2, &[&sh, &js, &zj], &[&sh], NOW - 600, NOW + 86_400);
    assert_eq!(
        CounterState::new(&underpinned).unwrap_err().code(),
        "trust_root_chain_broken"
    );
    let short = zone.root(1, 2, &[&sh, &js, &zj], &[&sh, &js], NOW - 600, NOW + 3600);
    let mut c = CounterState::new(&short).unwrap();
    c.assemble(&two, "[]", &status, NOW, Settings::default())
        .unwrap();
    let later = c.summary(NOW + 3700, Settings::default());
    assert_eq!(later["stale"], true);
    assert_eq!(later["stale_parts"][0]["what"], "root");
    let out = c
        .verify(&[p], None, NOW + 3700, Settings::default())
        .unwrap();
    assert_eq!(out["view"]["rejection"]["code"], "status_stale");
}
