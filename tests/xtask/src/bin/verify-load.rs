//! `verify-load`: completed OpenID4VP verifications per second against a
//! running `tongban-verifier-service serve`, with latency percentiles and
//! the CPU split between the service and this client
//! (`tongban_xtask::verifier_load` says exactly what is timed).
//!
//!   verify-load zone --dir DIR        # trust bundle + anchor key for the service
//!   verify-load run --url http://127.0.0.1:18490 --service-pid PID --count 20000
//!
//! The admin token comes from `--admin-token` or `TONGBAN_VERIFIER_ADMIN_TOKEN`.
//! `scripts/verify-load.sh` starts a fresh service and drives both.
//!
//! Exit status: 0 every verification completed, 1 some failed, 2 usage or
//! setup error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;
use tongban_xtask::verifier_load::{self as vl, Service};

/// Verification load for tongban-verifier-service.
#[derive(Debug, Parser)]
#[command(name = "verify-load", verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Write the demonstration zone's trust bundle (assembled now) to
    /// DIR/trust-bundle and its anchor key to DIR/anchor.jwk.
    Zone {
        /// Where to write.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Prepare transactions and answers (not timed), then time the
    /// responses, then the round trips.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The service's base URL (also its public URL).
    #[arg(long, default_value = "http://127.0.0.1:18490")]
    url: String,
    /// The admin token (tbvs_…) printed at the service's first start.
    #[arg(long, env = "TONGBAN_VERIFIER_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: String,
    /// The service's process id, to read its CPU time from /proc.
    #[arg(long)]
    service_pid: Option<u32>,
    /// Concurrent workers (one keep-alive connection each).
    #[arg(long, default_value_t = 32)]
    workers: usize,
    /// Transactions answered in the timed response phase.
    #[arg(long, default_value_t = 20_000)]
    count: usize,
    /// Transactions in the timed round-trip phase.
    #[arg(long, default_value_t = 10_000)]
    round_trips: usize,
    /// The tenant to make [default: load-<unix time>].
    #[arg(long)]
    tenant: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Zone { dir } => match vl::write_zone(&dir, tongban_cli_support::time::now()) {
            Ok(f) => {
                println!("{}\n{}", f.bundle_dir.display(), f.anchor_file.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("verify-load: {e}");
                ExitCode::from(2)
            }
        },
        Cmd::Run(a) => match run(&a) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("verify-load: {e}");
                ExitCode::from(2)
            }
        },
    }
}

fn say(json: bool, text: &str) {
    if !json {
        eprintln!("{text}");
    }
}

fn run(a: &RunArgs) -> Result<ExitCode, String> {
    let svc = Service {
        base: a.url.trim_end_matches('/').to_owned(),
        admin_token: a.admin_token.clone(),
        pid: a.service_pid,
    };
    let now = tongban_cli_support::time::now();
    let tenant_id = a.tenant.clone().unwrap_or_else(|| format!("load-{now}"));
    let tenant = vl::make_tenant(&svc, &tenant_id)?;
    let sd_jwt = vl::business_licence(now)?;
    let total = a.count + a.round_trips;
    say(
        a.json,
        &format!("== preparing {total} transactions for tenant {tenant_id} (not timed)"),
    );
    let (created_r, created) = vl::create_transactions(&svc, &tenant, total, a.workers);
    say(a.json, &created_r.to_text());
    let (fetch_r, pending) = vl::fetch_requests(&svc, &created, a.workers);
    say(a.json, &fetch_r.to_text());
    if pending.len() < total {
        return Err(format!(
            "only {} of {total} transactions were prepared",
            pending.len()
        ));
    }
    if let Some(p) = pending.first()
        && p.client_id != tenant.client_id
    {
        return Err(format!(
            "the request names client {} not {}",
            p.client_id, tenant.client_id
        ));
    }
    let mut pending = pending;
    let round_pending = pending.split_off(a.count);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());

    say(
        a.json,
        &format!("== making {} wallet answers (not timed)", pending.len()),
    );
    let answers = vl::make_answers(&sd_jwt, pending, tongban_cli_support::time::now(), threads)?;
    say(
        a.json,
        &format!(
            "== timed: {} responses from {} workers",
            answers.len(),
            a.workers
        ),
    );
    let resp_r = vl::run_responses(&svc, &answers, a.workers);
    say(a.json, &resp_r.to_text());
    let check_r = vl::check_outcomes(&svc, &tenant, &answers, a.workers);
    say(a.json, &check_r.to_text());

    say(
        a.json,
        &format!(
            "== making {} wallet answers (not timed)",
            round_pending.len()
        ),
    );
    let round = vl::make_answers(
        &sd_jwt,
        round_pending,
        tongban_cli_support::time::now(),
        threads,
    )?;
    say(
        a.json,
        &format!(
            "== timed: {} round trips from {} workers",
            round.len(),
            a.workers
        ),
    );
    let round_r = vl::run_round_trips(&svc, &tenant, &round, a.workers);
    say(a.json, &round_r.to_text());

    let ok = resp_r.errors.is_empty()
        && check_r.errors.is_empty()
        && round_r.errors.is_empty()
        && resp_r.completed == answers.len()
        && check_r.completed == answers.len()
        && round_r.completed == round.len();
    if a.json {
        println!(
            "{}",
            json!({
                "tenant": tenant_id,
                "prepare": [created_r.to_json(), fetch_r.to_json()],
                "response": resp_r.to_json(),
                "check": check_r.to_json(),
                "round_trip": round_r.to_json(),
                "passed": ok,
            })
        );
    } else {
        println!("{}", resp_r.to_text());
        println!("{}", round_r.to_text());
        println!(
            "check: {} of {} answered transactions read back accepted with their claims",
            check_r.completed,
            answers.len()
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
