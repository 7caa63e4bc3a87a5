//! The scrypt work factor of a new wallet file: `age` picks about one
//! second's worth on the device, and only a debug build (the test suite's)
//! lets `TONGBAN_WALLET_TEST_KDF_LOG_N` lower it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

/// `log_n` of the wallet file's scrypt stanza (`-> scrypt <salt> <log_n>`).
fn work_factor(dir: &Path) -> u8 {
    let bytes = std::fs::read(dir.join("wallet.age")).unwrap();
    let header = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
    let stanza = header
        .lines()
        .find(|l| l.starts_with("-> scrypt "))
        .unwrap_or_else(|| panic!("no scrypt stanza in {header:?}"));
    stanza.rsplit(' ').next().unwrap().parse().unwrap()
}

fn init(dir: &Path, test_log_n: Option<&str>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tongban-wallet"));
    cmd.arg("--wallet")
        .arg(dir)
        .arg("init")
        .env("TONGBAN_WALLET_PASSPHRASE", "correct horse battery")
        .env_remove("TONGBAN_WALLET_TEST_KDF_LOG_N");
    if let Some(n) = test_log_n {
        cmd.env("TONGBAN_WALLET_TEST_KDF_LOG_N", n);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_test_work_factor_applies_in_a_debug_build_and_only_within_its_range() {
    let dir = tempfile::tempdir().unwrap();
    let lowered = dir.path().join("lowered");
    init(&lowered, Some("4"));
    assert_eq!(work_factor(&lowered), 4);
    // Out of range or not a number: age's own choice, as with no variable.
    for (name, value) in [("big", "17"), ("word", "four")] {
        let file = dir.path().join(name);
        init(&file, Some(value));
        assert!(work_factor(&file) > 4, "{value}: {}", work_factor(&file));
    }
}
