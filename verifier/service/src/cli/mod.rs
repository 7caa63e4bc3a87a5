//! The command-line front end (binary-only modules): each command parses
//! its arguments and calls the service layer, which validates.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use serde_json::{Value, json};
use tongban_service_kit::SystemClock;
use tongban_verifier_service::api::ApiError;
use tongban_verifier_service::app::{Service, ServiceError};
use tongban_verifier_service::bootstrap::{self, StartError};
use tongban_verifier_service::config::{Config, Overrides};

pub(crate) mod admin;
pub(crate) mod serve;

/// A command that failed: a stable code, a sentence, the exit status.
pub(crate) struct Failure {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) exit: u8,
}

impl Failure {
    /// A refused command (exit 2).
    pub(crate) fn usage(code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            exit: 2,
        }
    }
}

impl From<StartError> for Failure {
    fn from(e: StartError) -> Self {
        let code = match &e {
            StartError::Key(_) => "master_key",
            StartError::Store(_) => "database",
            StartError::Io { .. } => "io",
            StartError::Trust(_) => "trust_anchors",
            StartError::Service(e) => return Failure::from(e.clone()),
            _ => "start",
        };
        Failure::usage(code, e.to_string())
    }
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        let cause = match &e {
            ServiceError::StorageUnavailable {
                cause: Some(cause), ..
            } => Some(format!("database error: {cause}")),
            _ => None,
        };
        let e = ApiError::from(e);
        Failure::usage(e.code.code(), cause.unwrap_or(e.detail))
    }
}

/// Prints a result — text for people, or `--json` — and turns it into the
/// exit status.
pub(crate) fn finish(json: bool, r: Result<(String, Value), Failure>) -> ExitCode {
    match r {
        Ok((text, value)) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
            } else {
                println!("{text}");
            }
            ExitCode::SUCCESS
        }
        Err(f) => {
            if json {
                println!(
                    "{}",
                    json!({"error": {"code": f.code, "message": f.message}})
                );
            } else {
                eprintln!("tongban-verifier-service: error[{}]: {}", f.code, f.message);
            }
            ExitCode::from(f.exit)
        }
    }
}

/// Where the configuration and database are.
#[derive(Debug, Clone, Args)]
pub(crate) struct Target {
    /// TOML configuration file (environment variables
    /// TONGBAN_VERIFIER_SERVICE_<KEY> override it).
    #[arg(long, value_name = "FILE", env = "TONGBAN_VERIFIER_SERVICE_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Data directory: the SQLite database, the trust bundle and, unless
    /// TONGBAN_MASTER_KEY is set, master.key [default: tongban-verifier-service-data].
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Use PostgreSQL (postgres://user:pass@host/db) instead of SQLite.
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<String>,
    /// The URL wallets and back offices reach this service at (request and
    /// response URIs derive from it) [default: http://<listen>].
    #[arg(long, value_name = "URL")]
    pub(crate) public_url: Option<String>,
    /// Print results as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

impl Target {
    pub(crate) fn config(&self, listen: Option<String>) -> Result<Config, Failure> {
        Config::load(
            self.config.as_deref(),
            &Overrides {
                listen,
                data_dir: self.data_dir.clone(),
                database_url: self.database_url.clone(),
                public_url: self.public_url.clone(),
            },
        )
        .map_err(|e| Failure::usage("config", e.to_string()))
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage("runtime", e.to_string()))
}

pub(crate) fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "operator".into())
    )
}

/// Opens the service on the target's database (creating the master key
/// and database when `create`).
pub(crate) async fn open(target: &Target, create: bool) -> Result<Arc<Service>, Failure> {
    let config = target.config(None)?;
    if config.database_url.is_none() && !config.sqlite_file().exists() && !create {
        return Err(Failure::usage(
            "no_database",
            format!(
                "no database at {}; run `tongban-verifier-service ca init` or `serve` first, or pass --data-dir/--database-url",
                config.sqlite_file().display()
            ),
        ));
    }
    let (master, _) = bootstrap::load_master_key(&config, create)?;
    let database = bootstrap::open_database(&config).await?;
    Ok(Service::new(
        config,
        database,
        master,
        SystemClock::shared(),
    )?)
}
