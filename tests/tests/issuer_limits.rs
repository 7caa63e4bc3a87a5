//! What a hostile network can make a running `tongban-issuer` spend
//! (`docs/security.md`, "Slow clients and connection exhaustion"): half
//! headers are cut off, connections past the per-address limit are closed
//! unread and the service answers again as soon as they go, and SIGTERM
//! stops the process within its shutdown grace even with a request stalled
//! mid-body.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tongban_e2e::issuer::{IssuerProcess, StartOptions};

fn start(env: &[(&str, &str)]) -> IssuerProcess {
    IssuerProcess::start_with(&StartOptions {
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..StartOptions::default()
    })
}

fn addr(p: &IssuerProcess) -> String {
    p.base.trim_start_matches("http://").to_owned()
}

/// Reads until the peer closes or `limit` passes: (answer, time taken).
fn read_to_close(s: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let t = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    (String::from_utf8_lossy(&buf).into_owned(), t.elapsed())
}

fn healthz(p: &IssuerProcess) -> bool {
    let Ok(mut s) = TcpStream::connect(addr(p)) else {
        return false;
    };
    let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    read_to_close(&mut s, Duration::from_secs(5))
        .0
        .starts_with("HTTP/1.1 200")
}

#[test]
fn slow_clients_cannot_hold_the_issuer() {
    let issuer = start(&[
        ("TONGBAN_ISSUER_HEADER_READ_TIMEOUT_SECS", "4"),
        ("TONGBAN_ISSUER_MAX_CONNECTIONS_PER_IP", "6"),
    ]);
    assert!(healthz(&issuer));
    // Six connections that each send half a header take this address's share.
    let mut held: Vec<TcpStream> = (0..6)
        .map(|_| {
            let mut s = TcpStream::connect(addr(&issuer)).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            s
        })
        .collect();
    // A seventh is closed at once, unanswered: no file descriptor is held.
    // On a loaded machine the service may not have accepted all six yet
    // (one run in CI served a seventh 300 ms after them), so a seventh is
    // tried again, well within the header timeout that frees the six.
    let mut answers = Vec::new();
    let refused = (0..10).any(|_| {
        std::thread::sleep(Duration::from_millis(250));
        let mut seventh = TcpStream::connect(addr(&issuer)).unwrap();
        let _ = seventh.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let (answer, took) = read_to_close(&mut seventh, Duration::from_secs(1));
        answers.push((answer.lines().next().unwrap_or("").to_owned(), took));
        answer.is_empty() && took < Duration::from_secs(1)
    });
    assert!(
        refused,
        "a seventh connection was never refused at once: {answers:?}"
    );
    // The half headers are cut off after the header timeout …
    for s in &mut held {
        let (answer, took) = read_to_close(s, Duration::from_secs(8));
        assert!(!answer.contains(" 200 "), "{answer}");
        assert!(took < Duration::from_secs(7), "held {took:?}");
    }
    // … and the service answers everyone again.
    assert!(healthz(&issuer));
}

#[test]
fn sigterm_stops_the_issuer_within_its_grace_despite_a_stalled_upload() {
    let mut issuer = start(&[
        ("TONGBAN_ISSUER_SHUTDOWN_GRACE_SECS", "2"),
        ("TONGBAN_ISSUER_BODY_IDLE_TIMEOUT_SECS", "30"),
        ("TONGBAN_ISSUER_REQUEST_TIMEOUT_SECS", "300"),
    ]);
    // A batch upload that trickles one byte at a time keeps a request in
    // flight for as long as the client likes.
    let mut s = TcpStream::connect(addr(&issuer)).unwrap();
    let head = format!(
        "POST /admin/v1/credentials/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000000\r\n\r\n",
        issuer.token
    );
    s.write_all(head.as_bytes()).unwrap();
    let trickle = std::thread::spawn(move || {
        for _ in 0..100 {
            if s.write_all(b" ").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    std::thread::sleep(Duration::from_millis(600));
    let t = Instant::now();
    let status = issuer
        .terminate(Duration::from_secs(20))
        .expect("the issuer exits after SIGTERM");
    let took = t.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(8),
        "exited {took:?} after SIGTERM"
    );
    let _ = trickle.join();
}
