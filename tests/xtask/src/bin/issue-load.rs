//! `issue-load`: issuing load against a running `tongban-issuer serve` over
//! keep-alive connections, reporting throughput and latency percentiles;
//! and the check that every acknowledged credential is in the database
//! (admin list) and the audit log, with no status index given twice.
//!
//!   issue-load run --url http://127.0.0.1:8080 --seconds 20 --acks acks.txt --check
//!   issue-load check --url http://127.0.0.1:8080 --acks acks.txt
//!
//! The admin token comes from `--token` or `TONGBAN_ADMIN_TOKEN`.
//! `scripts/load.sh` starts a fresh service and drives both.
//!
//! Exit status: 0 done (and the check passed), 1 the check failed or
//! nothing was issued, 2 usage error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use tongban_xtask::issuer_load::{self, LoadConfig, Target};

/// Issuing load for tongban-issuer, and the durability check.
#[derive(Debug, Parser)]
#[command(name = "issue-load", verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Issue business licences from N workers, each on its own keep-alive
    /// connection, for a time or a count.
    Run(RunArgs),
    /// Check acknowledged credentials (from `run --acks`) against the
    /// admin list and the audit log.
    Check {
        #[command(flatten)]
        target: TargetArgs,
        /// File written by `run --acks`.
        #[arg(long, value_name = "FILE")]
        acks: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct TargetArgs {
    /// The service's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Admin token (tbat_…) with scopes issue, read and audit.
    #[arg(long, env = "TONGBAN_ADMIN_TOKEN", hide_env_values = true)]
    token: String,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Concurrent workers (one connection each).
    #[arg(long, default_value_t = 32)]
    workers: usize,
    /// Run this long (seconds) [default: 20 unless --count].
    #[arg(long)]
    seconds: Option<f64>,
    /// Stop after this many requests in all.
    #[arg(long)]
    count: Option<u64>,
    /// First digit (1–9) of every licence serial; use another one for a
    /// second run on the same database (licence ids are unique per agency).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=9))]
    serial_prefix: u8,
    /// Write the acknowledged credentials here (`id list idx` a line).
    #[arg(long, value_name = "FILE")]
    acks: Option<PathBuf>,
    /// Then check them against the admin list and the audit log.
    #[arg(long)]
    check: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn target(t: &TargetArgs) -> Target {
    Target {
        base: t.url.trim_end_matches('/').to_owned(),
        token: t.token.clone(),
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Run(a) => run(&a),
        Cmd::Check {
            target: t,
            acks,
            json,
        } => match issuer_load::read_acks(&acks) {
            Ok(list) => {
                let r = issuer_load::check(&target(&t), &list);
                if json {
                    println!("{}", r.to_json());
                } else {
                    println!("{}", r.to_text());
                }
                if r.passed() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("{}: {e}", acks.display());
                ExitCode::from(2)
            }
        },
    }
}

fn run(a: &RunArgs) -> ExitCode {
    let duration = match (a.seconds, a.count) {
        (Some(s), _) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
        (Some(_), _) => {
            eprintln!("--seconds must be positive");
            return ExitCode::from(2);
        }
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs(20)),
    };
    let cfg = LoadConfig {
        workers: a.workers.max(1),
        duration,
        count: a.count,
        serial_prefix: a.serial_prefix,
        ..LoadConfig::default()
    };
    let t = target(&a.target);
    let result = issuer_load::run_load(&t, &cfg, &Arc::new(AtomicBool::new(false)));
    if let Some(path) = &a.acks
        && let Err(e) = issuer_load::write_acks(path, &result.acks)
    {
        eprintln!("{}: {e}", path.display());
        return ExitCode::from(2);
    }
    let report = a.check.then(|| issuer_load::check(&t, &result.acks));
    if a.json {
        println!(
            "{}",
            json!({"load": result.to_json(), "check": report.as_ref().map(|r| r.to_json())})
        );
    } else {
        println!("{}", result.to_text());
        if let Some(r) = &report {
            println!("{}", r.to_text());
        }
    }
    if result.acks.is_empty() || report.is_some_and(|r| !r.passed()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
