//! HAIP wallet and key attestations across real processes: a
//! `tongban-issuer` whose agency `demo` requires both (its configuration
//! trusting a test wallet provider's root), and `tongban-wallet` with an
//! attestation imported from that provider — received, with the key
//! storage level recorded on the credential's row — and from an untrusted
//! provider — refused at the token endpoint, the wallet left as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use tongban_e2e::attested::import_attestation;
use tongban_e2e::cli;
use tongban_e2e::issuer::{IssuerProcess, StartOptions, http};
use tongban_test_support::attestation::WalletProvider;
use tongban_test_support::sample::catalogue_claims;

const PASS: &str = "correct horse battery staple";

fn wallet(dir: &Path, args: &[&str]) -> Output {
    cli::wallet(dir, PASS, &[&["--json"], args].concat())
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A wallet in `dir/w` holding an attestation from `provider`, with a key
/// attester it certified (storage `iso_18045_high`).
fn attested_wallet(dir: &Path, provider: &WalletProvider, now: i64) {
    let out = wallet(&dir.join("w"), &["init"]);
    assert!(out.status.success(), "{}", text(&out));
    import_attestation(&dir.join("w"), PASS, dir, provider, now);
}

#[test]
fn an_attested_wallet_receives_where_attestations_are_required_and_an_untrusted_one_is_refused() {
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let trusted = WalletProvider::new("Acme", now).unwrap();
    let rogue = WalletProvider::new("Rogue", now).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("acme-root.pem");
    std::fs::write(&root, &trusted.root_pem).unwrap();
    let config = tmp.path().join("issuer.toml");
    std::fs::write(
        &config,
        format!(
            "[attestation.demo]\nwallet_attestation = \"required\"\nkey_attestation = \"required\"\n\
             trusted_wallet_providers = [{:?}]\nkey_storage = [\"iso_18045_high\"]\n",
            root.to_str().unwrap()
        ),
    )
    .unwrap();
    let issuer = IssuerProcess::start_with(&StartOptions {
        env: vec![(
            "TONGBAN_ISSUER_CONFIG".into(),
            config.to_str().unwrap().into(),
        )],
        ..StartOptions::default()
    });
    let serial = std::cell::Cell::new(0);
    let offer = || {
        serial.set(serial.get() + 1);
        issuer.admin_issue(&json!({
            "vct": "urn:tongban:business-licence:1",
            "claims": catalogue_claims("business-licence", serial.get()),
            "offer": {"tx_code": false},
        }))["offer_link"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // Accepted: the wallet attestation at the token endpoint, the key
    // attestation in the proof; the level is on the credential's row.
    let good = tmp.path().join("good");
    std::fs::create_dir_all(&good).unwrap();
    attested_wallet(&good, &trusted, now);
    let out = wallet(&good.join("w"), &["receive", &offer()]);
    assert!(out.status.success(), "{}", text(&out));
    let list = http(
        "GET",
        &issuer.url("/admin/v1/credentials"),
        Some(&issuer.token),
        None,
    )
    .json();
    // A batch (the issuer's batch_size by default): every copy's key was
    // attested in its own proof, and every row records the level.
    let rows = list["credentials"].as_array().unwrap();
    assert!(rows.len() >= 2, "a batch was received: {list}");
    for row in rows {
        assert_eq!(
            row["key_storage"],
            json!({"key_storage": ["iso_18045_high"], "user_authentication": ["iso_18045_moderate"]}),
            "{list}"
        );
    }

    // Refused: a provider the agency does not trust; nothing stored.
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    attested_wallet(&bad, &rogue, now);
    let before = std::fs::read(bad.join("w/wallet.age")).unwrap();
    let out = wallet(&bad.join("w"), &["receive", &offer()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        e.to_string().contains("attestation_untrusted_provider"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read(bad.join("w/wallet.age")).unwrap(), before);
}
