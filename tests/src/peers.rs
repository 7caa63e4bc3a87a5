//! The peer implementations the interoperability tests run: the pinned npm
//! packages in `tests/interop/js` and the Python `sd-jwt` in
//! `tests/interop/py`, installed on first use (as `.ci/run` does up front)
//! and driven through their scripts, which print one JSON object.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Once;

use serde_json::Value;

use tongban_test_support::workspace_root;

/// The npm peers' directory.
pub fn js_dir() -> PathBuf {
    workspace_root().join("tests/interop/js")
}

/// The Python peer's directory.
pub fn py_dir() -> PathBuf {
    workspace_root().join("tests/interop/py")
}

/// Installs the npm peers from the lockfile if any is missing.
pub fn ensure_js() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let nm = js_dir().join("node_modules");
        let installed = [
            "@sd-jwt/sd-jwt-vc",
            "@sd-jwt/jwt-status-list",
            "@openid4vc/openid4vci",
            "@openid4vc/oauth2",
            "@openid4vc/openid4vp",
            "jose",
            "oidc-provider",
        ]
        .iter()
        .all(|p| nm.join(p).join("package.json").exists());
        if !installed {
            eprintln!("installing the npm peers (npm ci in tests/interop/js)");
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(js_dir())
                .status()
                .expect(
                    "npm is required for the interoperability tests (install Node.js 20 and npm)",
                );
            assert!(status.success(), "npm ci failed in tests/interop/js");
        }
    });
}

/// The Python peer, installed if missing.
pub fn ensure_py() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let present = Command::new("python3")
            .args(["-c", "import sd_jwt, jwcrypto, gmssl"])
            .status()
            .expect("python3 is required for the interoperability tests");
        if !present.success() {
            eprintln!("installing the Python peer (pip install -r requirements.txt)");
            let status = Command::new("python3")
                .args(["-m", "pip", "install", "-q", "-r", "requirements.txt"])
                .current_dir(py_dir())
                .status()
                .expect("pip is required for the interoperability tests");
            assert!(
                status.success(),
                "pip install -r tests/interop/py/requirements.txt failed"
            );
        }
    });
}

/// Runs a Node.js script of `tests/interop/js`; returns its output whatever
/// the exit status.
pub fn node_output(script: &str, args: &[&str]) -> Output {
    ensure_js();
    Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(js_dir())
        .output()
        .expect("node is required for the interoperability tests (install Node.js 20)")
}

/// Runs a Node.js script that must succeed and print one JSON object.
pub fn node(script: &str, args: &[&str]) -> Value {
    let out = node_output(script, args);
    assert!(
        out.status.success(),
        "node {script} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs a Python script of `tests/interop/py`, which must succeed and
/// print one JSON object.
pub fn python_script(script: &str, args: &[&str]) -> Value {
    ensure_py();
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .current_dir(py_dir())
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{script} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `sm2_peer.py` (Python `gmssl`, an independent SM2/SM3
/// implementation), which must succeed and print one JSON object.
pub fn python_sm2(args: &[&str]) -> Value {
    ensure_py();
    let out = Command::new("python3")
        .arg("sm2_peer.py")
        .args(args)
        .current_dir(py_dir())
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "sm2_peer.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `interop.py`, which must succeed and print one JSON object.
pub fn python(args: &[&str]) -> Value {
    ensure_py();
    let out = Command::new("python3")
        .arg("interop.py")
        .args(args)
        .current_dir(py_dir())
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "interop.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
