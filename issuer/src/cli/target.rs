//! What every operator command shares: where the configuration and
//! database are (`--config`, `--data-dir`, `--database-url`, …), opening
//! the service on them, and how a failure becomes an exit status.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::Failure;
use tongban_issuer::api::ApiError;
use tongban_issuer::app::{Service, ServiceError};
use tongban_issuer::bootstrap::{self, StartError};
use tongban_issuer::config::{Config, Overrides};
use tongban_service_kit::SystemClock;

/// Where the configuration and database are.
#[derive(Debug, Clone, Args)]
pub(crate) struct Target {
    /// TOML configuration file (keys in specs/issuer-api.md; environment
    /// variables TONGBAN_ISSUER_<KEY> override it).
    #[arg(long, value_name = "FILE", env = "TONGBAN_ISSUER_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Data directory: the SQLite database and, unless TONGBAN_MASTER_KEY
    /// is set, master.key [default: tongban-issuer-data].
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Use PostgreSQL (postgres://user:pass@host/db) instead of SQLite.
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<String>,
    /// The URL this service is reached at; a new agency's issuer id is
    /// <public-url>/agencies/<id> [default: http://<listen>].
    #[arg(long, value_name = "URL")]
    pub(crate) public_url: Option<String>,
    /// Print results as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

impl Target {
    pub(crate) fn config(
        &self,
        listen: Option<String>,
        public_url: Option<String>,
    ) -> Result<Config, Failure> {
        Config::load(
            self.config.as_deref(),
            &Overrides {
                listen,
                data_dir: self.data_dir.clone(),
                database_url: self.database_url.clone(),
                public_url: public_url.or_else(|| self.public_url.clone()),
            },
        )
        .map_err(|e| Failure::usage("config", e.to_string()))
    }
}

impl From<StartError> for Failure {
    fn from(e: StartError) -> Self {
        let code = match &e {
            StartError::Key(_) => "master_key",
            StartError::Store(_) => "database",
            StartError::Io { .. } => "io",
            StartError::Service(e) => return Failure::from(e.clone()),
            _ => "start",
        };
        Failure::usage(code, e.to_string())
    }
}

impl From<ServiceError> for Failure {
    /// The same stable code the API answers with. A database failure shows
    /// the database's own message: the operator is at the terminal and the
    /// commands set up no service log (the API keeps it from clients).
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

pub(crate) async fn open(
    target: &Target,
    create_key: bool,
) -> Result<(Config, Arc<Service>), Failure> {
    let config = target.config(None, None)?;
    if config.database_url.is_none() && !config.sqlite_file().exists() && !create_key {
        return Err(Failure::usage(
            "no_database",
            format!(
                "no database at {}; start the service once (tongban-issuer serve) or pass --data-dir/--database-url",
                config.sqlite_file().display()
            ),
        ));
    }
    let (master, _) = bootstrap::load_master_key(&config, create_key)?;
    let database = bootstrap::open_database(&config).await?;
    let service = Service::new(config.clone(), database, master, SystemClock::shared())?;
    service
        .check_master_key()
        .await
        .map_err(|e| Failure::usage("master_key", e.to_string()))?;
    Ok((config, service))
}
