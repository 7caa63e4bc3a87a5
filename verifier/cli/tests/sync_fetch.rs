//! `tongban-verify sync` fetches by Tongban's rules: https (plain http only
//! to this machine), and no redirect to another origin — a trust-list URL
//! must not be able to send the counter's requests anywhere else.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/vectors/sample")
        .join(name)
}

/// A one-line HTTP server on loopback that answers every request with
/// `answer` and counts the requests.
fn server(answer: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let mut stream = stream;
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (base, hits)
}

fn sync(url: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_tongban-verify"))
        .args([
            "sync",
            "--trust-list",
            url,
            "--anchor-key",
            sample("issuer.jwk.json").to_str().unwrap(),
            "--bundle",
            dir.path().join("bundle").to_str().unwrap(),
            "--timeout",
            "5",
            "--json",
        ])
        .output()
        .unwrap()
}

fn code(out: &Output) -> String {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["error"]["code"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_redirect_to_another_origin_is_not_followed() {
    let (elsewhere, elsewhere_hits) =
        server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi".into());
    let (base, _) = server(format!(
        "HTTP/1.1 302 Found\r\nLocation: {elsewhere}/internal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ));
    let out = sync(&format!("{base}/trust-list.jwt"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(code(&out), "fetch_redirect_refused");
    assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0, "never contacted");
}

#[test]
fn plain_http_is_refused_except_to_this_machine() {
    // Refused before any connection: no network needed.
    let out = sync("http://trust.example/trust-list.jwt");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(code(&out), "fetch_insecure_url");
    let out = sync("http://169.254.169.254/latest/meta-data");
    assert_eq!(code(&out), "fetch_insecure_url");
}
