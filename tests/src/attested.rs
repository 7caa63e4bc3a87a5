//! A `tongban-wallet` given a wallet attestation and a key attester by a
//! test wallet provider (`tongban_test_support::attestation`), as the
//! wallet attestation and authorization code tests need one.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers fail loudly

use std::path::Path;

use tongban_test_support::attestation::{WalletProvider, p256_key_with_jwk};

/// Imports into the (initialised) wallet at `wallet`, opened with
/// `passphrase`, an attestation from `provider` for a fresh instance key,
/// valid around `now`, and a key attester it certified (storage
/// `iso_18045_high`, user authentication `iso_18045_moderate`). The files
/// handed to `tongban-wallet attestation import` are written to `files`.
///
/// Panics when anything fails (a test helper).
pub fn import_attestation(
    wallet: &Path,
    passphrase: &str,
    files: &Path,
    provider: &WalletProvider,
    now: i64,
) {
    let (_, instance) = p256_key_with_jwk().unwrap();
    let mut public = instance.clone();
    public.as_object_mut().unwrap().remove("d");
    let (_, attester) = p256_key_with_jwk().unwrap();
    let chain = provider
        .certify_pem("CLI key storage", &attester, now)
        .unwrap();
    let attestation = provider
        .wallet_attestation(&public, now - 60, now + 3600)
        .unwrap();
    let written = [
        ("wa.jwt", attestation),
        ("instance.jwk.json", instance.to_string()),
        ("attester.jwk.json", attester.to_string()),
        ("attester-chain.pem", chain),
    ];
    for (name, body) in &written {
        std::fs::write(files.join(name), body).unwrap_or_else(|e| panic!("writing {name}: {e}"));
    }
    let out = crate::cli::command("tongban-wallet", passphrase)
        .arg("--wallet")
        .arg(wallet)
        .args(["--json", "attestation", "import"])
        .arg("--wallet-attestation")
        .arg(files.join("wa.jwt"))
        .arg("--instance-key")
        .arg(files.join("instance.jwk.json"))
        .arg("--key-attester-key")
        .arg(files.join("attester.jwk.json"))
        .arg("--key-attester-chain")
        .arg(files.join("attester-chain.pem"))
        .args([
            "--key-storage",
            "iso_18045_high",
            "--user-authentication",
            "iso_18045_moderate",
        ])
        .output()
        .unwrap_or_else(|e| panic!("running tongban-wallet: {e}"));
    assert!(
        out.status.success(),
        "attestation import: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
