//! `tongban-issuer backup` and `restore`: a consistent copy of a running
//! issuer's SQLite database, and putting one back after a loss.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use super::target::{Target, actor, runtime};
use super::{Failure, finish};
use tongban_issuer::app::{BackupError, BackupReport, FreshList, RestoreReport};
use tongban_issuer::bootstrap;
use tongban_service_kit::{Clock as _, SystemClock};

/// `backup` arguments.
#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    #[command(flatten)]
    target: Target,
    /// The backup file to write (must not exist). Safe while the service
    /// runs: the copy is one consistent snapshot.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// `restore` arguments.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    #[command(flatten)]
    target: Target,
    /// The backup file to restore (SQLite). The data directory must hold no
    /// database: move a damaged one away first.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "fresh_status_lists_only"
    )]
    from: Option<PathBuf>,
    /// Only move every agency to a fresh status list: the step that remains
    /// after restoring a PostgreSQL database with pg_restore.
    #[arg(long, conflicts_with = "from")]
    fresh_status_lists_only: bool,
}

impl From<BackupError> for Failure {
    fn from(e: BackupError) -> Self {
        let code = match &e {
            BackupError::NotSqlite => "backup_not_sqlite",
            BackupError::Exists(_) => "exists",
            BackupError::Missing(_) => "not_found",
            BackupError::Io { .. } => "io",
            BackupError::ChainBroken { .. } => "audit_chain_broken",
            _ => "database",
        };
        Failure::usage(code, e.to_string())
    }
}

/// `tongban-issuer backup`.
pub(crate) fn backup(a: BackupArgs) -> ExitCode {
    let json = a.target.json;
    let r = runtime().and_then(|rt| rt.block_on(run_backup(&a)));
    finish(json, r)
}

async fn run_backup(a: &BackupArgs) -> Result<(String, Value), Failure> {
    let config = a.target.config(None, None)?;
    if config.database_url.is_some() {
        return Err(BackupError::NotSqlite.into());
    }
    if !config.sqlite_file().exists() {
        return Err(Failure::usage(
            "no_database",
            format!("no database at {}", config.sqlite_file().display()),
        ));
    }
    let database = bootstrap::open_database(&config).await?;
    let report: BackupReport = database.backup_to(&a.out).await?;
    let mut text = format!(
        "backup written to {} ({} bytes, mode 0600), every audit chain verified:\n",
        report.file.display(),
        report.bytes
    );
    for s in &report.agencies {
        text.push_str(&format!(
            "  {}: {} audit entries\n",
            s.agency, s.audit_entries
        ));
    }
    text.push_str(
        "The signing keys in it are sealed with the master key: keep the master key backed up apart from it.",
    );
    Ok((
        text,
        json!({
            "file": report.file,
            "bytes": report.bytes,
            "agencies": report.agencies.iter().map(|s| json!({"agency": s.agency, "audit_entries": s.audit_entries})).collect::<Vec<_>>(),
        }),
    ))
}

/// `tongban-issuer restore`.
pub(crate) fn restore(a: RestoreArgs) -> ExitCode {
    let json = a.target.json;
    let r = runtime().and_then(|rt| rt.block_on(run_restore(&a)));
    finish(json, r)
}

fn fresh_lines(lists: &[FreshList]) -> (String, Vec<Value>) {
    let mut text = String::new();
    let mut values = Vec::new();
    for f in lists {
        text.push_str(&format!(
            "  {}: status indices continue at {} (were at {}): a fresh status list\n",
            f.agency_id, f.to, f.from
        ));
        values.push(json!({"agency": f.agency_id, "from": f.from, "to": f.to}));
    }
    (text, values)
}

async fn run_restore(a: &RestoreArgs) -> Result<(String, Value), Failure> {
    let config = a.target.config(None, None)?;
    let now = SystemClock.now();
    if a.fresh_status_lists_only {
        let database = bootstrap::open_database(&config).await?;
        let lists = database.fresh_status_lists(&actor(), now).await?;
        let (text, values) = fresh_lines(&lists);
        return Ok((
            format!("every agency moved to a fresh status list:\n{text}"),
            json!({"fresh_lists": values}),
        ));
    }
    let Some(from) = &a.from else {
        return Err(Failure::usage("usage", "give --from FILE"));
    };
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        Failure::usage("io", format!("creating {}: {e}", config.data_dir.display()))
    })?;
    let report: RestoreReport = tongban_issuer::app::restore(&config, from, &actor(), now).await?;
    let (fresh, values) = fresh_lines(&report.fresh_lists);
    let mut text = format!(
        "restored {} from {}, every audit chain verified:\n",
        report.file.display(),
        from.display()
    );
    for s in &report.agencies {
        text.push_str(&format!(
            "  {}: {} audit entries\n",
            s.agency, s.audit_entries
        ));
    }
    text.push_str(&fresh);
    text.push_str(
        "Credentials issued after the backup was taken are not in it: reissue them if their holders come back. Start the service with the same master key.",
    );
    Ok((
        text,
        json!({
            "file": report.file,
            "from": from,
            "agencies": report.agencies.iter().map(|s| json!({"agency": s.agency, "audit_entries": s.audit_entries})).collect::<Vec<_>>(),
            "fresh_lists": values,
        }),
    ))
}
