//! The server's bounds, against real sockets on loopback: each test would
//! hang or be refused nothing under a plain `axum::serve`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tongban_service_kit::{ServeReport, ServerLimits, serve};

fn app() -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "late"
            }),
        )
        .route("/echo", post(|body: String| async move { body }))
}

fn limits() -> ServerLimits {
    ServerLimits {
        header_read_timeout: Duration::from_millis(300),
        body_idle_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(600),
        max_connections: 4,
        max_connections_per_ip: 3,
        shutdown_grace: Duration::from_millis(500),
    }
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<ServeReport>,
}

async fn start(limits: ServerLimits) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let done = tokio::spawn(async move {
        serve(listener, app(), limits, async {
            let _ = rx.await;
        })
        .await
        .unwrap()
    });
    Running {
        addr,
        stop: Some(tx),
        done,
    }
}

impl Running {
    async fn stop(mut self) -> (ServeReport, Duration) {
        let t = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        let report = tokio::time::timeout(Duration::from_secs(10), self.done)
            .await
            .expect("serve returns after its shutdown grace")
            .unwrap();
        (report, t.elapsed())
    }
}

/// Reads until the peer closes (or 5 s pass): what it answered.
async fn read_to_close(s: &mut TcpStream) -> (String, Duration) {
    let t = Instant::now();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    (String::from_utf8_lossy(&buf).into_owned(), t.elapsed())
}

async fn get_ok(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return false;
    };
    let _ = s
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    read_to_close(&mut s).await.0.starts_with("HTTP/1.1 200")
}

#[tokio::test]
async fn half_a_header_is_cut_off_after_the_header_timeout() {
    let server = start(limits()).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let (answer, waited) = read_to_close(&mut s).await;
    assert!(waited < Duration::from_secs(4), "closed after {waited:?}");
    assert!(
        !answer.contains("200"),
        "no answer to half a request: {answer}"
    );
    // An idle keep-alive connection is let go the same way.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    let (_, waited) = read_to_close(&mut idle).await;
    assert!(
        waited < Duration::from_secs(4),
        "idle connection held {waited:?}"
    );
    assert!(get_ok(server.addr).await);
    server.stop().await;
}

#[tokio::test]
async fn connections_past_the_limits_are_closed_and_the_service_stays_up() {
    let server = start(ServerLimits {
        header_read_timeout: Duration::from_secs(30),
        ..limits()
    })
    .await;
    // Three stalled connections fill this address's share …
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // … so a fourth from it is closed at once, unanswered.
    let mut extra = TcpStream::connect(server.addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let (answer, waited) = read_to_close(&mut extra).await;
    assert!(answer.is_empty(), "refused, not served: {answer}");
    assert!(waited < Duration::from_secs(2));
    // Once the stalled ones go, the service answers again.
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(get_ok(server.addr).await);
    let (report, _) = server.stop().await;
    assert!(report.refused >= 1, "{report:?}");
}

#[tokio::test]
async fn the_total_connection_limit_holds_across_addresses() {
    let server = start(ServerLimits {
        header_read_timeout: Duration::from_secs(30),
        max_connections: 2,
        ..limits()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!get_ok(server.addr).await, "a third connection is refused");
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(get_ok(server.addr).await);
    server.stop().await;
}

#[tokio::test]
async fn a_slow_handler_is_answered_408_after_the_request_timeout() {
    let server = start(limits()).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, waited) = read_to_close(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(waited < Duration::from_secs(4));
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_stops_sending_fails_after_the_body_timeout() {
    let server = start(ServerLimits {
        request_timeout: Duration::from_secs(30),
        ..limits()
    })
    .await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\nonly ten b",
    )
    .await
    .unwrap();
    let (answer, waited) = read_to_close(&mut s).await;
    assert!(waited < Duration::from_secs(4), "held {waited:?}");
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn shutdown_drops_a_stalled_request_after_the_grace_period() {
    let server = start(ServerLimits {
        request_timeout: Duration::from_secs(3600),
        ..limits()
    })
    .await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (report, took) = server.stop().await;
    assert!(took < Duration::from_secs(3), "stopped after {took:?}");
    assert_eq!(report.dropped_at_shutdown, 1, "{report:?}");
    let (answer, _) = read_to_close(&mut s).await;
    assert!(!answer.contains("late"));
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish_within_the_grace_period() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let app = Router::new().route(
        "/work",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            "done"
        }),
    );
    let done = tokio::spawn(serve(
        listener,
        app,
        ServerLimits {
            shutdown_grace: Duration::from_secs(5),
            ..limits()
        },
        async {
            let _ = rx.await;
        },
    ));
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /work HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = tx.send(());
    let (answer, _) = read_to_close(&mut s).await;
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"),
        "{answer}"
    );
    let report = done.await.unwrap().unwrap();
    assert_eq!(report.dropped_at_shutdown, 0);
}
