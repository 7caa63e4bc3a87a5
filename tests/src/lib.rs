//! End-to-end support for Tongban's tests: the workspace's binaries built
//! fresh, a running issuer service ([`issuer`]), a running receiving
//! agency's service ([`verifier_service`]), the interoperability peers
//! ([`peers`]), a wallet given an attestation ([`attested`]), the
//! tools run from a test ([`cli`]) and a loopback HTTP server. The fixtures themselves
//! (keys, the sample, realistic credentials) are `tongban-test-support`'s.
#![forbid(unsafe_code)]

pub mod attested;
pub mod cli;
pub mod issuer;
pub mod peers;
pub mod verifier_service;

use std::path::PathBuf;

use tongban_test_support::workspace_root;

/// The path of a workspace binary, built (once per test process) with
/// `cargo build --bins` so the tests never run a stale one.
pub fn cargo_bin(name: &str) -> PathBuf {
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "tongban-verify",
                "-p",
                "tongban-issuer",
                "-p",
                "tongban-wallet",
                "-p",
                "tongban-verifier-service",
                "--bins",
            ])
            .current_dir(workspace_root())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "cargo build --bins failed"
        );
    });
    // target/debug/deps/<test binary> -> target/debug/<name>
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    dir.join(name)
}

/// A tiny HTTP/1.1 server on 127.0.0.1 serving a path → body map that the
/// caller can change; it answers until the test process ends. Returns the
/// base URL (`http://127.0.0.1:PORT`).
pub fn serve_http(
    files: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
) -> std::io::Result<String> {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_owned();
            let body = files
                .lock()
                .ok()
                .and_then(|f| f.iter().find(|(p, _)| *p == path).map(|(_, b)| b.clone()));
            let response = match body {
                Some(b) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                    b.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .into(),
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    Ok(format!("http://{addr}"))
}
