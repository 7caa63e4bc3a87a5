#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The issuer shuts down gracefully (SIGTERM) and survives SIGKILL under
//! issuing load: every credential it
//! acknowledged (201) before the kill is there after a restart on the same
//! data, with the status index it was acknowledged with and its
//! `credential.issue` audit entry; no status index was given twice (before
//! and after the restart together); `tongban-issuer audit verify` passes;
//! and issuing works again after the restart.
//!
//! SQLite always; PostgreSQL when `TONGBAN_TEST_DATABASE_URL` is set (a
//! fresh database is created from it with `psql` and dropped afterwards).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tongban_e2e::cargo_bin;
use tongban_xtask::issuer_load::{self, LoadConfig, ServeProcess, Target};

/// How long the load runs before the kill.
const LOAD_BEFORE_KILL: Duration = Duration::from_secs(2);
/// Workers (connections) of the load.
const WORKERS: usize = 8;

/// Starts the service on `port` (announcing `public_url`); when the port
/// cannot be had (another process took it meanwhile), on a fresh one with
/// the same public URL.
fn start(
    bin: &Path,
    data: &Path,
    database_url: Option<&str>,
    (port, public_url): (u16, &str),
    log: &Path,
) -> ServeProcess {
    let t = Instant::now();
    let mut port = port;
    for attempt in 1.. {
        match ServeProcess::start(
            bin,
            data,
            database_url,
            (port, Some(public_url)),
            log,
            Duration::from_secs(60),
            &[],
        ) {
            Ok(p) => {
                eprintln!(
                    "tongban-issuer serve (pid {}) ready on port {port} in {:.2} s",
                    p.pid(),
                    t.elapsed().as_secs_f64()
                );
                return p;
            }
            Err(e) if attempt < 3 => {
                eprintln!("tongban-issuer serve on port {port} failed ({e}); another port");
                port = issuer_load::free_port().unwrap();
            }
            Err(e) => panic!("tongban-issuer serve: {e}"),
        }
    }
    unreachable!()
}

/// How the service is stopped under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// SIGKILL: nothing gets to finish.
    Kill,
    /// SIGTERM: graceful shutdown finishes the requests in flight (their
    /// commits included) and exits 0.
    Term,
}

fn crash_and_recover(label: &str, database_url: Option<&str>) {
    stop_and_recover(label, database_url, Stop::Kill);
}

fn stop_and_recover(label: &str, database_url: Option<&str>, how: Stop) {
    let bin = cargo_bin("tongban-issuer"); // builds the binaries (not timed)
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let port = issuer_load::free_port().unwrap();
    let public_url = format!("http://127.0.0.1:{port}");

    let mut service = start(&bin, &data, database_url, (port, &public_url), &log);
    let pid = service.pid();
    let mut target = Target {
        base: service.base.clone(),
        token: service
            .token()
            .expect("the first start prints an admin token"),
    };

    // Load from WORKERS keep-alive connections until told to stop; the
    // kill lands while requests (and so group commits) are in flight.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (target, stop) = (target.clone(), stop.clone());
        std::thread::spawn(move || {
            let cfg = LoadConfig {
                workers: WORKERS,
                duration: None,
                count: None,
                serial_prefix: 1,
                error_pause: Duration::from_millis(20),
            };
            issuer_load::run_load(&target, &cfg, &stop)
        })
    };
    std::thread::sleep(LOAD_BEFORE_KILL);
    match how {
        Stop::Kill => service.kill().expect("SIGKILL the service"),
        Stop::Term => {
            let status = service
                .terminate(Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("[{label}] SIGTERM under load: {e}"));
            assert!(
                status.success(),
                "[{label}] exit after SIGTERM under load: {status}"
            );
        }
    }
    // Let the workers see the dead connections before they stop.
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let before = load.join().expect("the load thread");
    eprintln!(
        "[{label}] before stopping pid {pid}: {}",
        before.to_text().replace('\n', "; ")
    );
    assert!(
        before.acks.len() >= 20,
        "[{label}] too little was issued before the kill to prove anything: {}",
        before.to_text()
    );
    let unexpected: Vec<_> = before
        .errors
        .keys()
        .filter(|k| !k.starts_with("transport"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "[{label}] errors other than the dropped connections: {:?}",
        before.errors
    );

    // Restart on the same data; the token is stored (hashed) in the database.
    let mut service = start(&bin, &data, database_url, (port, &public_url), &log);
    target.base = service.base.clone();
    let after = issuer_load::run_load(
        &target,
        &LoadConfig {
            workers: 4,
            duration: None,
            count: Some(40),
            serial_prefix: 2,
            error_pause: Duration::from_millis(20),
        },
        &Arc::new(AtomicBool::new(false)),
    );
    assert_eq!(
        after.acks.len(),
        40,
        "[{label}] issuing after the restart: {}",
        after.to_text()
    );

    let mut all = before.acks.clone();
    all.extend(after.acks.iter().cloned());
    let report = issuer_load::check(&target, &all);
    eprintln!("[{label}] {}", report.to_text().replace('\n', "; "));
    assert!(
        report.passed(),
        "[{label}] after the restart: {}\n{:#}",
        report.to_text(),
        report.to_json()
    );
    assert!(report.listed >= all.len());

    let status = service
        .terminate(Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("[{label}] SIGTERM: {e}"));
    assert!(status.success(), "[{label}] exit after SIGTERM: {status}");
    let mut verify = Command::new(&bin);
    verify.args(["audit", "verify", "--data-dir"]).arg(&data);
    if let Some(url) = database_url {
        verify.args(["--database-url", url]);
    }
    let out = verify.output().unwrap();
    assert!(
        out.status.success(),
        "[{label}] tongban-issuer audit verify: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "[{label}] audit verify: {}; the test took {:.1} s (after the build)",
        String::from_utf8_lossy(&out.stdout).trim(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn sqlite_shuts_down_gracefully_under_load() {
    stop_and_recover("sqlite, SIGTERM", None, Stop::Term);
}

#[test]
fn sqlite_survives_sigkill_under_load() {
    crash_and_recover("sqlite", None);
}

/// A fresh database on the server of `TONGBAN_TEST_DATABASE_URL`, dropped
/// on drop.
struct FreshDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl FreshDatabase {
    fn create(admin_url: &str) -> FreshDatabase {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("tongban_crash_{}_{nanos}", std::process::id());
        psql(admin_url, &format!("CREATE DATABASE {name}"));
        let (base, query) = match admin_url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin_url, String::new()),
        };
        let (prefix, _) = base.rsplit_once('/').expect("a URL with a database");
        FreshDatabase {
            admin_url: admin_url.to_owned(),
            url: format!("{prefix}/{name}{query}"),
            name,
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-q", &self.admin_url, "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .output()
        .unwrap_or_else(|e| {
            panic!("TONGBAN_TEST_DATABASE_URL is set but psql cannot run ({e}); install postgresql-client")
        });
    assert!(
        out.status.success(),
        "psql {sql:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn postgres_survives_sigkill_under_load() {
    let Ok(admin_url) = std::env::var("TONGBAN_TEST_DATABASE_URL") else {
        eprintln!(
            "\n*** PostgreSQL crash test NOT RUN: TONGBAN_TEST_DATABASE_URL is not set. \
             .ci/run starts PostgreSQL 15 and sets it; locally: pg_ctlcluster 15 main start and \
             export TONGBAN_TEST_DATABASE_URL=postgres://tongban:tongban@127.0.0.1:5432/postgres ***\n"
        );
        return;
    };
    let db = FreshDatabase::create(&admin_url);
    crash_and_recover("postgres", Some(&db.url));
}
