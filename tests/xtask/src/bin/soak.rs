//! `soak`: a running `tongban-issuer` under everything the outside review
//! threw at it at once — slow clients holding half-sent headers, a flood of
//! unauthenticated nonce requests, and issuing load — against the same
//! issuing load alone. Reports issuing throughput and latency percentiles
//! of both phases, their p99 ratio, what the attackers got, and the
//! service's resident memory over time (sampled from `/proc`).
//!
//!   soak --issuer target/release/tongban-issuer --quiet-secs 20 --attack-secs 30
//!
//! Loopback only: the service listens on 127.0.0.1; the slow clients come
//! from 127.0.0.2 and the nonce flood from 127.0.0.3 (every 127/8 address
//! is this machine), so the per-address connection limit is what keeps the
//! issuing clients, on 127.0.0.1, served. Every loop is bounded by the
//! phase's deadline. `scripts/soak.sh` builds and runs it.
//!
//! Exit status: 0 the run completed (the numbers are the verdict), 2 usage
//! or the service could not start.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use socket2::{Domain, Socket, Type};
use tongban_xtask::issuer_load::{self, LoadConfig, LoadResult, ServeProcess, Target};

/// Soak tongban-issuer: slow clients + nonce flood + issuing load.
#[derive(Debug, Parser)]
#[command(name = "soak", verbatim_doc_comment)]
struct Cli {
    /// The tongban-issuer binary (a release build).
    #[arg(long)]
    issuer: PathBuf,
    /// Seconds of issuing load alone.
    #[arg(long, default_value_t = 20)]
    quiet_secs: u64,
    /// Seconds of issuing load under attack.
    #[arg(long, default_value_t = 30)]
    attack_secs: u64,
    /// Issuing workers (keep-alive connections) in both phases.
    #[arg(long, default_value_t = 16)]
    workers: usize,
    /// Slow connections the attacker tries to hold open.
    #[arg(long, default_value_t = 2000)]
    slow: usize,
    /// Nonce-flood connections.
    #[arg(long, default_value_t = 4)]
    flooders: usize,
    /// Port to run the service on.
    #[arg(long, default_value_t = 18490)]
    port: u16,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn connect_from(source: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    s.bind(&SocketAddr::from((source, 0)).into())?;
    s.connect_timeout(&to.into(), Duration::from_secs(2))?;
    Ok(s.into())
}

/// Holds up to `n` connections from 127.0.0.2, each with half a header
/// sent, reopening those the service closes, until `deadline`.
fn slow_clients(
    to: SocketAddr,
    n: usize,
    deadline: Instant,
    opened: &AtomicU64,
    closed: &AtomicU64,
) {
    let mut held: Vec<TcpStream> = Vec::with_capacity(n);
    while Instant::now() < deadline {
        // Drop the ones the service closed.
        held.retain_mut(|s| {
            let _ = s.set_nonblocking(true);
            let mut b = [0u8; 64];
            match s.read(&mut b) {
                Ok(0) => {
                    closed.fetch_add(1, Ordering::Relaxed);
                    false
                }
                Ok(_) => true,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
                Err(_) => {
                    closed.fetch_add(1, Ordering::Relaxed);
                    false
                }
            }
        });
        while held.len() < n && Instant::now() < deadline {
            match connect_from([127, 0, 0, 2], to) {
                Ok(mut s) => {
                    opened.fetch_add(1, Ordering::Relaxed);
                    let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
                    held.push(s);
                }
                Err(_) => break,
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asks for nonces on one keep-alive connection from 127.0.0.3 until
/// `deadline`; counts the answers.
fn nonce_flood(to: SocketAddr, deadline: Instant, answered: &AtomicU64, refused: &AtomicU64) {
    let request = b"POST /agencies/demo/nonce HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    let mut buf = vec![0u8; 4096];
    while Instant::now() < deadline {
        let Ok(mut s) = connect_from([127, 0, 0, 3], to) else {
            refused.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        while Instant::now() < deadline {
            if s.write_all(request).is_err() {
                break;
            }
            // One response: headers, then Content-Length bytes.
            let mut got = Vec::new();
            let complete = loop {
                let n = match s.read(&mut buf) {
                    Ok(0) | Err(_) => break false,
                    Ok(n) => n,
                };
                got.extend_from_slice(&buf[..n]);
                if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break head.starts_with("http/1.1 200");
                    }
                }
            };
            if !complete {
                refused.fetch_add(1, Ordering::Relaxed);
                break;
            }
            answered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Resident memory of `pid`, KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn phase(label: &str, r: &LoadResult) -> serde_json::Value {
    json!({
        "phase": label,
        "issued": r.acks.len(),
        "per_second": r.throughput().round(),
        "p50_ms": r.percentile_ms(50.0),
        "p90_ms": r.percentile_ms(90.0),
        "p99_ms": r.percentile_ms(99.0),
        "max_ms": r.percentile_ms(100.0),
        "errors": r.errors,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let dir = std::env::temp_dir().join(format!("tongban-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("soak: {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    let data = dir.join("data");
    let log = dir.join("serve.log");
    let public_url = format!("http://127.0.0.1:{}", cli.port);
    let mut service = match ServeProcess::start(
        &cli.issuer,
        &data,
        None,
        (cli.port, Some(&public_url)),
        &log,
        Duration::from_secs(60),
        &[],
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("soak: the service did not start: {e}");
            return ExitCode::from(2);
        }
    };
    let pid = service.pid();
    let Some(token) = service.token() else {
        eprintln!("soak: the service printed no admin token");
        return ExitCode::from(2);
    };
    let target = Target {
        base: service.base.clone(),
        token,
    };
    let to = SocketAddr::from(([127, 0, 0, 1], cli.port));
    let load = |secs: u64, prefix: u8| {
        issuer_load::run_load(
            &target,
            &LoadConfig {
                workers: cli.workers,
                duration: Some(Duration::from_secs(secs)),
                count: None,
                serial_prefix: prefix,
                error_pause: Duration::from_millis(20),
            },
            &Arc::new(AtomicBool::new(false)),
        )
    };

    // Memory, sampled once a second for the whole run.
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut samples = Vec::new();
            while sampling.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    samples.push((start.elapsed().as_secs(), kib));
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            samples
        })
    };

    eprintln!("soak: {} s of issuing alone", cli.quiet_secs);
    let quiet = load(cli.quiet_secs, 1);
    let rss_before_attack = rss_kib(pid).unwrap_or(0);

    eprintln!(
        "soak: {} s of issuing with {} slow connections and {} nonce flooders",
        cli.attack_secs, cli.slow, cli.flooders
    );
    let deadline = Instant::now() + Duration::from_secs(cli.attack_secs);
    let opened = Arc::new(AtomicU64::new(0));
    let closed = Arc::new(AtomicU64::new(0));
    let nonces = Arc::new(AtomicU64::new(0));
    let nonce_failures = Arc::new(AtomicU64::new(0));
    let mut attackers = Vec::new();
    for _ in 0..4 {
        let (opened, closed) = (opened.clone(), closed.clone());
        let n = cli.slow / 4;
        attackers.push(std::thread::spawn(move || {
            slow_clients(to, n, deadline, &opened, &closed);
        }));
    }
    for _ in 0..cli.flooders {
        let (nonces, failures) = (nonces.clone(), nonce_failures.clone());
        attackers.push(std::thread::spawn(move || {
            nonce_flood(to, deadline, &nonces, &failures);
        }));
    }
    let attacked = load(cli.attack_secs, 2);
    for a in attackers {
        let _ = a.join();
    }
    let rss_after_attack = rss_kib(pid).unwrap_or(0);
    std::thread::sleep(Duration::from_secs(3));
    sampling.store(false, Ordering::Relaxed);
    let samples = sampler.join().unwrap_or_default();
    let rss_max = samples.iter().map(|(_, k)| *k).max().unwrap_or(0);
    let stopped = service.terminate(Duration::from_secs(30));
    let _ = std::fs::remove_dir_all(&dir);

    let ratio = attacked.percentile_ms(99.0) / quiet.percentile_ms(99.0).max(0.001);
    let report = json!({
        "quiet": phase("quiet", &quiet),
        "attacked": phase("attacked", &attacked),
        "p99_ratio": (ratio * 100.0).round() / 100.0,
        "slow_connections_opened": opened.load(Ordering::Relaxed),
        "slow_connections_closed_by_the_service": closed.load(Ordering::Relaxed),
        "nonces_answered": nonces.load(Ordering::Relaxed),
        "nonce_connections_failed": nonce_failures.load(Ordering::Relaxed),
        "rss_kib": {
            "before_attack": rss_before_attack,
            "after_attack": rss_after_attack,
            "max": rss_max,
            "samples": samples.iter().map(|(t, k)| json!([t, k])).collect::<Vec<_>>(),
        },
        "stopped": stopped.map(|s| s.to_string()).unwrap_or_else(|e| e),
    });
    if cli.json {
        println!("{report:#}");
    } else {
        let q = &report["quiet"];
        let a = &report["attacked"];
        println!(
            "issuing alone:      {} credentials, {}/s, p50 {} ms, p99 {} ms, max {} ms",
            q["issued"], q["per_second"], q["p50_ms"], q["p99_ms"], q["max_ms"]
        );
        println!(
            "issuing attacked:   {} credentials, {}/s, p50 {} ms, p99 {} ms, max {} ms",
            a["issued"], a["per_second"], a["p50_ms"], a["p99_ms"], a["max_ms"]
        );
        println!("p99 attacked / alone: {}", report["p99_ratio"]);
        println!(
            "slow connections: {} opened, {} closed by the service; nonces answered: {}",
            report["slow_connections_opened"],
            report["slow_connections_closed_by_the_service"],
            report["nonces_answered"]
        );
        println!(
            "resident memory: {} KiB before the attack, {} KiB after, {} KiB at most",
            rss_before_attack, rss_after_attack, rss_max
        );
    }
    ExitCode::SUCCESS
}
