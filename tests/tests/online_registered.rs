//! Registered receiving agencies online, across real processes: the zone's
//! operator registers the Qingpu tenant of a running
//! `tongban-verifier-service` in trust list #2 by its certificate
//! (`x509_hash`) with one service item; the service syncs that list from
//! the zone's server; Li Ming's `tongban-wallet` gets the same list with a
//! licence from Wujiang's `tongban-issuer`, whose OpenID4VCI metadata names
//! it (`tongban_trust_list_uri`), verified under the root he pinned.
//!
//! - Within the agreement: accepted; the wallet shows (and `--json` gives)
//!   the registered names, region, service item and purpose.
//! - The service refuses to create what the registration does not cover:
//!   one claim too many (`claims_not_registered`), a tenant whose
//!   certificate is not registered, an ended registration, an agency
//!   removed from the list (`registration_invalid`).
//! - The wallet refuses, on its own, what its newer list does not cover
//!   while the service still runs on the older one: a narrowed service
//!   item (`claims_not_registered`, the excess listed) and a removed
//!   agency (`requester_unknown`); an old list replayed to it
//!   (`trust_list_rollback`). Each refusal leaves the wallet's credentials
//!   and list as they were, with one more line of history.
//! - The list delivered with an offer: not fetched without a pinned root
//!   (never trust on first use); kept when newer and verified; refused and
//!   not kept when older or signed by a key that is not the pinned anchor,
//!   the credential received all the same.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use tongban_e2e::cargo_bin;
use tongban_e2e::cli::{self, json_of, p};
use tongban_e2e::issuer::http;
use tongban_e2e::verifier_service::{BUSINESS_LICENCE, VerifierService, Zone};

const PASS: &str = "registered passphrase";
const ITEM: &str = "310118-QY-0042";
const QINGPU: &str = "https://ywtb.qingpu.example";
const SONGJIANG: &str = "https://ywtb.songjiang.example";

fn wallet(w: &Path, args: &[&str]) -> Output {
    cli::wallet(w, PASS, args)
}

/// `--json ARGS`, which must succeed: its document.
fn wallet_ok(w: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = wallet(w, &all);
    assert!(out.status.success(), "{args:?}: {out:?}");
    json_of(&out)
}

/// What a refusal must leave as it was: the credentials and the list.
fn state(w: &Path) -> (Value, Value) {
    (
        wallet_ok(w, &["list"]),
        wallet_ok(w, &["trust-list", "show"]),
    )
}

fn history(w: &Path) -> Vec<Value> {
    wallet_ok(w, &["history"])["history"]
        .as_array()
        .cloned()
        .unwrap()
}

/// The service item Qingpu registers, granting `claims` of the licence.
fn items(dir: &Path, name: &str, claims: &[&str]) -> PathBuf {
    let file = dir.join(name);
    let items = json!([{
        "id": ITEM,
        "name_zh": "跨省企业迁移登记",
        "name_en": "Cross-province company relocation",
        "purpose_zh": "依据《市场主体登记管理条例》核验营业执照",
        "purpose_en": "Check the business licence under the market entity registration regulation",
        "licences": [{"vct": BUSINESS_LICENCE, "claims": claims, "holder_binding_required": true}]
    }]);
    std::fs::write(&file, serde_json::to_vec_pretty(&items).unwrap()).unwrap();
    file
}

fn ask(svc: &VerifierService, token: &str, claims: &[&str]) -> (u16, Value) {
    let r = svc.try_create(
        token,
        &json!({
            "licence": {"type": "business-licence", "claims": claims},
            "purpose": {"zh": "办理跨省企业迁移登记", "en": "Cross-province company relocation"},
            "service_item": ITEM,
        }),
    );
    (r.status, r.json())
}

/// `present LINK --yes --json` against the service's CA.
fn present(w: &Path, svc: &VerifierService, created: &Value) -> Output {
    wallet(
        w,
        &[
            "--json",
            "present",
            created["authorization_request"].as_str().unwrap(),
            "--verifier-ca",
            p(&svc.ca_pem),
            "--yes",
            "--credential",
            "c1",
        ],
    )
}

/// The wallet refused `created` with `code` before posting anything: exit
/// 1, the code, the credentials and list as `before`, the history one line
/// longer (`lines` before) saying so, and the transaction still pending.
fn assert_wallet_refused(
    w: &Path,
    (svc, token): (&VerifierService, &str),
    created: &Value,
    code: &str,
    (before, lines): (&(Value, Value), usize),
) -> (Value, Value) {
    let out = present(w, svc, created);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let e = json_of(&out);
    assert_eq!(e["error"]["code"], code, "{e}");
    assert_eq!(&state(w), before, "only the history may change");
    let h = history(w);
    assert_eq!(h.len(), lines + 1);
    let last = h.last().cloned().unwrap();
    assert_eq!(
        (last["outcome"].as_str(), last["code"].as_str()),
        (Some("refused"), Some(code)),
        "{last}"
    );
    assert_eq!(last["audience"], created["client_id"]);
    let o = http(
        "GET",
        &svc.url(created["outcome"].as_str().unwrap()),
        Some(token),
        None,
    )
    .json();
    assert_eq!(o["state"], "pending", "the wallet posted nothing: {o}");
    (e, last)
}

/// Receives a licence offer; returns `receive --json`'s document.
fn receive(w: &Path, zone: &Zone, serial: u32) -> Value {
    wallet_ok(w, &["receive", &zone.offer(serial)])
}

#[test]
fn registered_agencies_online_through_the_service_and_the_wallet() {
    let tmp = tempfile::tempdir().unwrap();
    let zone = Zone::wujiang();
    let svc = zone.service(None, &[("SYNC_INTERVAL_SECS", "1")]);
    let hash = |client_id: &str| client_id.strip_prefix("x509_hash:").unwrap().to_owned();
    let qingpu_id = svc.add_tenant(
        "qingpu-ywtb",
        "上海市青浦区行政服务中心",
        "Qingpu Administrative Service Centre",
        "310118",
    );
    let jiading_id = svc.add_tenant(
        "jiading-ywtb",
        "上海市嘉定区行政服务中心",
        "Jiading Administrative Service Centre",
        "310114",
    );
    let songjiang_id = svc.add_tenant(
        "songjiang-ywtb",
        "上海市松江区行政服务中心",
        "Songjiang Administrative Service Centre",
        "310117",
    );
    let (qingpu, jiading, songjiang) = (
        svc.tenant_token("qingpu-ywtb"),
        svc.tenant_token("jiading-ywtb"),
        svc.tenant_token("songjiang-ywtb"),
    );

    // The list delivered with an offer, before the citizen pinned a root:
    // nothing is fetched, the licence is received.
    let li = tmp.path().join("li");
    wallet_ok(&li, &["init"]);
    let got = receive(&li, &zone, 1);
    assert_eq!(got["vct"], BUSINESS_LICENCE);
    assert_eq!(got["trust_list"]["status"], "not_fetched", "{got}");
    assert_eq!(got["trust_list"]["uri"], zone.list_url.as_str());
    assert_eq!(
        wallet(&li, &["trust-list", "show"]).status.code(),
        Some(2),
        "no list without a pin"
    );
    // He pins the zone's root with list #1 (no agencies registered yet).
    let shown = wallet_ok(
        &li,
        &[
            "trust-list",
            "import",
            "--file",
            p(&zone.first_list),
            "--anchor-key",
            p(&zone.anchor_jwk),
        ],
    );
    assert_eq!(shown["sequence"], 1);
    assert_eq!(shown["registers_verifiers"], false);

    // List #2 registers Qingpu's certificate with one service item, and
    // Songjiang with a registration that ended an hour ago; Jiading is
    // not registered. The service syncs it.
    let now = tongban_cli_support::time::now();
    let granted = items(
        tmp.path(),
        "items.json",
        &["company_name", "unified_social_credit_code"],
    );
    zone.operator(&[
        "add-verifier",
        "--id",
        QINGPU,
        "--name-zh",
        "上海市青浦区行政服务中心",
        "--name-en",
        "Qingpu Administrative Service Centre",
        "--region",
        "310118",
        "--x509-hash",
        &hash(&qingpu_id),
        "--service-items",
        p(&granted),
        "--not-before",
        &(now - 86_400).to_string(),
    ]);
    zone.operator(&[
        "add-verifier",
        "--id",
        SONGJIANG,
        "--name-zh",
        "上海市松江区行政服务中心",
        "--name-en",
        "Songjiang Administrative Service Centre",
        "--region",
        "310117",
        "--x509-hash",
        &hash(&songjiang_id),
        "--service-items",
        p(&granted),
        "--not-before",
        &(now - 86_400).to_string(),
        "--not-after",
        &(now - 3600).to_string(),
    ]);
    let list2 = zone.sign("trust-list-2.jwt");
    zone.publish(&list2);
    svc.await_trust_list(2);

    // The wallet gets #2 with its next licence: verified under the pin,
    // newer, kept.
    let got = receive(&li, &zone, 2);
    assert_eq!(
        (
            got["trust_list"]["status"].as_str(),
            got["trust_list"]["sequence"].as_u64()
        ),
        (Some("stored"), Some(2)),
        "{got}"
    );
    let shown = wallet_ok(&li, &["trust-list", "show"]);
    assert_eq!(shown["sequence"], 2);
    assert_eq!(shown["verifiers"][0]["id"], QINGPU);
    assert_eq!(
        shown["verifiers"][0]["certificates"][0]["x509_hash"],
        hash(&qingpu_id).as_str()
    );
    let held = wallet_ok(&li, &["list"]);
    assert_eq!(held.as_array().unwrap().len(), 2);

    // 1. Within the agreement: accepted, the registered agency shown.
    let (status, created) = ask(&svc, &qingpu, &["company_name"]);
    assert_eq!(status, 201, "{created}");
    let out = present(&li, &svc, &created);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for shown in [
        "Registered requester",
        "上海市青浦区行政服务中心",
        "Qingpu Administrative Service Centre",
        "310118",
        ITEM,
        "跨省企业迁移登记",
        "市场主体登记管理条例",
    ] {
        assert!(stderr.contains(shown), "{shown} not shown:\n{stderr}");
    }
    let report = json_of(&out);
    let r = &report["requester"];
    assert_eq!(r["registered"], true, "{report}");
    assert_eq!(r["verifier"], QINGPU);
    assert_eq!(r["name_zh"], "上海市青浦区行政服务中心");
    assert_eq!(r["name_en"], "Qingpu Administrative Service Centre");
    assert_eq!(r["region"], "310118");
    assert_eq!(r["service_item"]["id"], ITEM);
    assert_eq!(
        r["service_item"]["name_en"],
        "Cross-province company relocation"
    );
    assert!(
        r["service_item"]["purpose_zh"]
            .as_str()
            .unwrap()
            .contains("市场主体登记管理条例")
    );
    let o = http(
        "GET",
        &svc.url(&format!("{}?wait=20", created["outcome"].as_str().unwrap())),
        Some(&qingpu),
        None,
    )
    .json();
    assert_eq!(o["state"], "accepted", "{o}");
    let last = history(&li).last().cloned().unwrap();
    assert_eq!(
        (last["verifier"].as_str(), last["service_item"].as_str()),
        (Some(QINGPU), Some(ITEM))
    );
    assert_eq!(last["requester_verified"], true);
    // The accepted presentation used one of c1's copies: the baseline for
    // "only the history may change" is the wallet as it is now.
    let held = wallet_ok(&li, &["list"]);
    assert_eq!(held[0]["copies"]["unused"], 4, "{held}");

    // 2. The service refuses what the registration does not cover.
    let (status, e) = ask(&svc, &qingpu, &["company_name", "legal_representative"]);
    assert_eq!(
        (status, e["code"].as_str()),
        (403, Some("claims_not_registered")),
        "{e}"
    );
    assert!(e.to_string().contains("legal_representative"), "{e}");
    for (who, token) in [("jiading", &jiading), ("songjiang", &songjiang)] {
        let (status, e) = ask(&svc, token, &["company_name"]);
        assert_eq!(
            (status, e["code"].as_str()),
            (403, Some("registration_invalid")),
            "{who}: {e}"
        );
    }
    let (_, e) = ask(&svc, &jiading, &["company_name"]);
    assert!(e.to_string().contains("requester_unknown"), "{e}");
    let (_, e) = ask(&svc, &songjiang, &["company_name"]);
    assert!(
        e.to_string().contains("requester_registration_expired"),
        "{e}"
    );
    assert!(jiading_id.starts_with("x509_hash:"));

    // 3. The wallet refuses on its own what its newer list does not cover,
    //    while the service still runs on #2. List #3 narrows the item to
    //    the company name (signed, not yet published).
    let narrowed = items(tmp.path(), "narrowed.json", &["company_name"]);
    zone.operator(&[
        "update-verifier",
        "--id",
        QINGPU,
        "--service-items",
        p(&narrowed),
    ]);
    let list3 = zone.sign("trust-list-3.jwt");
    let shown = wallet_ok(&li, &["trust-list", "import", "--file", p(&list3)]);
    assert_eq!(shown["sequence"], 3);
    let (status, created) = ask(
        &svc,
        &qingpu,
        &["company_name", "unified_social_credit_code"],
    );
    assert_eq!(status, 201, "the service still holds #2: {created}");
    let (e, last) = assert_wallet_refused(
        &li,
        (&svc, &qingpu),
        &created,
        "claims_not_registered",
        (&(held.clone(), shown), 1),
    );
    assert_eq!(
        e["error"]["excess"],
        json!([format!("{BUSINESS_LICENCE} unified_social_credit_code")])
    );
    assert_eq!(last["verifier"], QINGPU);
    assert_eq!(
        last["excess"],
        json!([format!("{BUSINESS_LICENCE} unified_social_credit_code")])
    );

    // List #4 removes Qingpu: the wallet no longer knows who asks.
    zone.operator(&["remove-verifier", "--id", QINGPU]);
    let list4 = zone.sign("trust-list-4.jwt");
    let shown = wallet_ok(&li, &["trust-list", "import", "--file", p(&list4)]);
    let before = (held, shown);
    let (status, created) = ask(&svc, &qingpu, &["company_name"]);
    assert_eq!(status, 201, "{created}");
    assert_wallet_refused(
        &li,
        (&svc, &qingpu),
        &created,
        "requester_unknown",
        (&before, 2),
    );

    // An old list replayed to the wallet, where Qingpu was registered.
    let out = wallet(
        &li,
        &["--json", "trust-list", "import", "--file", p(&list2)],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(json_of(&out)["error"]["code"], "trust_list_rollback");
    assert_eq!(state(&li), before);

    // The same old list delivered with an offer (#2 is what is served):
    // refused and not kept, the licence received all the same.
    let got = receive(&li, &zone, 3);
    assert_eq!(
        (
            got["trust_list"]["status"].as_str(),
            got["trust_list"]["code"].as_str()
        ),
        (Some("refused"), Some("trust_list_rollback")),
        "{got}"
    );
    assert_eq!(wallet_ok(&li, &["trust-list", "show"]), before.1);
    assert_eq!(
        wallet_ok(&li, &["list"]).as_array().unwrap().len(),
        3,
        "the licence is received all the same"
    );
    // A list #5 signed by a key that is not the zone's anchor.
    let forger = tmp.path().join("forger.key.json");
    let out = Command::new(cargo_bin("tongban-issuer"))
        .args(["trust-list", "anchor-key", "--out", p(&forger)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let forged_draft = tmp.path().join("forged-draft.json");
    std::fs::copy(&zone.draft, &forged_draft).unwrap();
    let forged = tmp.path().join("forged.jwt");
    let out = Command::new(cargo_bin("tongban-issuer"))
        .args(["trust-list", "sign", "--list", p(&forged_draft)])
        .args(["--anchor-key", p(&forger), "--out", p(&forged)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    zone.publish(&forged);
    let got = receive(&li, &zone, 4);
    assert_eq!(got["trust_list"]["status"], "refused", "{got}");
    assert!(
        got["trust_list"]["code"]
            .as_str()
            .unwrap()
            .starts_with("trust_list_"),
        "{got}"
    );
    assert_eq!(wallet_ok(&li, &["trust-list", "show"]), before.1);

    // 4. Once #4 is published, the service refuses Qingpu too.
    zone.publish(&list4);
    svc.await_trust_list(4);
    let (status, e) = ask(&svc, &qingpu, &["company_name"]);
    assert_eq!(
        (status, e["code"].as_str()),
        (403, Some("registration_invalid")),
        "{e}"
    );
}
