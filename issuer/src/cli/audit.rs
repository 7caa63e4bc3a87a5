//! `tongban-issuer audit …`: checking the hash-chained audit log.

use std::process::ExitCode;

use clap::Subcommand;

use super::target::{Target, runtime};
use super::{Failure, finish};
use serde_json::{Value, json};
use tongban_issuer::bootstrap;

/// `audit …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check every agency's chain (or one): each entry's hash, the links,
    /// no gaps, and the end against the head recorded on the agency.
    /// Exit 1 if a chain is broken.
    Verify {
        #[command(flatten)]
        target: Target,
        /// Only this agency.
        #[arg(long)]
        agency: Option<String>,
    },
}

/// `tongban-issuer audit …`.
pub(crate) fn audit(c: AuditCommand) -> ExitCode {
    let AuditCommand::Verify { target, agency } = c;
    let json = target.json;
    let r = runtime().and_then(|rt| rt.block_on(audit_verify(&target, agency)));
    finish(json, r)
}

async fn audit_verify(target: &Target, only: Option<String>) -> Result<(String, Value), Failure> {
    let config = target.config(None, None)?;
    if config.database_url.is_none() && !config.sqlite_file().exists() {
        return Err(Failure::usage(
            "no_database",
            format!("no database at {}", config.sqlite_file().display()),
        ));
    }
    let database = bootstrap::open_database(&config).await?;
    let mut lines = Vec::new();
    let mut results = Vec::new();
    let mut broken = false;
    for check in database.verify_audit(only.as_deref()).await? {
        let id = check.agency;
        match check.result {
            Ok(n) => {
                lines.push(format!("ok      {id}: {n} entries, chain intact"));
                results.push(json!({"agency": id, "ok": true, "entries": n}));
            }
            Err(e) => {
                broken = true;
                lines.push(format!("BROKEN  {id}: {e}"));
                results.push(json!({"agency": id, "ok": false, "error": e.to_string()}));
            }
        }
    }
    if broken {
        return Err(Failure {
            code: "audit_chain_broken",
            message: lines.join("\n"),
            exit: 1,
        });
    }
    Ok((lines.join("\n"), json!({"ok": true, "agencies": results})))
}
