//! Serving HTTP/1.1 with bounds on what a stranger can make a service spend.
//!
//! `axum::serve` reads headers for as long as a client cares to send them,
//! keeps as many connections as the process has file descriptors, and waits
//! for a stalled connection forever when asked to stop. [`serve`] is the one
//! accept loop every Tongban service runs instead:
//!
//! * a connection that has not sent a whole request head within
//!   [`ServerLimits::header_read_timeout`] is closed — this also bounds how
//!   long an idle keep-alive connection is held;
//! * a request body that sends nothing for [`ServerLimits::body_idle_timeout`]
//!   fails, and a request whose handler has not answered within
//!   [`ServerLimits::request_timeout`] is answered `408`;
//! * at most [`ServerLimits::max_connections`] connections are open, and at
//!   most [`ServerLimits::max_connections_per_ip`] from one address; past
//!   either, a new connection is closed at once (nothing is read from it),
//!   so one client cannot take the service from everyone else;
//! * on shutdown, no new connection is accepted, connections are asked to
//!   finish their request in flight, and after
//!   [`ServerLimits::shutdown_grace`] whatever is left is dropped.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

/// Bounds on time, connections and shutdown for one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// The longest a client may take to send a request head (and the
    /// longest an idle keep-alive connection is kept).
    pub header_read_timeout: Duration,
    /// The longest a request body may send nothing.
    pub body_idle_timeout: Duration,
    /// The longest a request may take, from its head to its response.
    pub request_timeout: Duration,
    /// Connections open at once, in all.
    pub max_connections: usize,
    /// Connections open at once from one IP address.
    pub max_connections_per_ip: usize,
    /// How long a stopping service waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl Default for ServerLimits {
    /// 10 s for a request head or an idle body, 60 s for a request, 1,024
    /// connections (128 from one address), 10 s to finish on shutdown.
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_connections_per_ip: 128,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// What happened while serving, for the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServeReport {
    /// Connections accepted and served.
    pub accepted: u64,
    /// Connections closed at once because a limit was reached.
    pub refused: u64,
    /// Connections still open when the shutdown grace ran out, dropped.
    pub dropped_at_shutdown: usize,
}

/// Open connections per address.
#[derive(Debug, Default)]
struct PerIp {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place in [`PerIp`], given back when dropped.
struct IpSlot {
    table: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<IpSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = self
            .table
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` under `limits` until `shutdown` completes,
/// then stops as described in the module documentation.
///
/// Errors only if accepting fails in a way that will not pass (a transient
/// accept error, such as running out of file descriptors, is logged and
/// retried after a short pause).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<ServeReport> {
    let app = app
        .layer(RequestBodyTimeoutLayer::new(limits.body_idle_timeout))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ));
    let service = TowerToHyperService::new(app);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_ip = Arc::new(PerIp::default());
    let graceful = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    let mut report = ServeReport::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends pass once connections close.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            report.refused += 1;
            tracing::debug!(%peer, "connection limit reached: closed");
            drop(stream);
            continue;
        };
        let Some(ip_slot) = per_ip.take(peer.ip(), limits.max_connections_per_ip) else {
            report.refused += 1;
            tracing::debug!(%peer, "per-address connection limit reached: closed");
            drop(stream);
            continue;
        };
        report.accepted += 1;
        let _ = stream.set_nodelay(true);
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service.clone());
        let conn = graceful.watch(conn);
        tasks.spawn(async move {
            let _held = (permit, ip_slot);
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(
        open = tasks.len(),
        grace_secs = limits.shutdown_grace.as_secs_f64(),
        "stopping: finishing requests in flight"
    );
    let finished = tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await;
    if finished.is_err() {
        report.dropped_at_shutdown = tasks.len();
        tracing::warn!(
            dropped = tasks.len(),
            "shutdown grace ran out: dropping the connections still open"
        );
    }
    tasks.shutdown().await;
    Ok(report)
}

/// Completes on Ctrl-C or, on Unix, SIGTERM: the usual `shutdown` future.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
