//! Running the workspace's command-line tools from a test: the command with
//! the environment every end-to-end test needs, and the checks on what a
//! run printed.
#![allow(clippy::panic)] // test helpers fail loudly

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::cargo_bin;

/// Variables a developer's shell may have set that would change what the
/// tools do (a default wallet, a transaction code, a bundle, an anchor key,
/// a trust-list draft, a browser to open): cleared for every run.
const CLEARED: &[&str] = &[
    "TONGBAN_WALLET",
    "TONGBAN_WALLET_BROWSER",
    "TONGBAN_TX_CODE",
    "TONGBAN_BUNDLE",
    "TONGBAN_ANCHOR_KEY",
    "TONGBAN_TRUST_LIST_DRAFT",
];

/// A command for the workspace binary `bin` (built fresh by
/// [`cargo_bin`]): the wallet passphrase `passphrase`, the wallet's test
/// work factor (`TONGBAN_WALLET_TEST_KDF_LOG_N`, honoured by debug builds
/// only), and the variables of [`CLEARED`] removed. Variables set on the
/// returned command afterwards win.
pub fn command(bin: &str, passphrase: &str) -> Command {
    let mut c = Command::new(cargo_bin(bin));
    c.env("TONGBAN_WALLET_PASSPHRASE", passphrase)
        .env("TONGBAN_WALLET_TEST_KDF_LOG_N", "10");
    for name in CLEARED {
        c.env_remove(name);
    }
    c
}

/// Runs `bin` with `args` ([`command`]) and waits for it.
#[track_caller]
pub fn run(bin: &str, passphrase: &str, args: &[&str]) -> Output {
    match command(bin, passphrase).args(args).output() {
        Ok(out) => out,
        Err(e) => panic!("{bin} did not start: {e}"),
    }
}

/// Runs `tongban-wallet --wallet <dir> <args…>` ([`run`]).
#[track_caller]
pub fn wallet(dir: &Path, passphrase: &str, args: &[&str]) -> Output {
    run(
        "tongban-wallet",
        passphrase,
        &[&["--wallet", p(dir)], args].concat(),
    )
}

/// `out`, after asserting that the run succeeded (the exit status, the
/// standard output and the standard error are printed when it did not).
#[track_caller]
pub fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The standard output as text.
pub fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The whole standard output as one JSON document (anything before or
/// after it fails the test, with both streams printed).
#[track_caller]
pub fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}; exit {:?}):\n{}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A path as an argument.
#[track_caller]
pub fn p(path: &Path) -> &str {
    match path.to_str() {
        Some(s) => s,
        None => panic!("not UTF-8: {}", path.display()),
    }
}
