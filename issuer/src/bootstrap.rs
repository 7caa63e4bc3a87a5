//! Starting the service: the master key, the database, the demonstration
//! agency of a fresh data directory, and `serve` itself with graceful
//! shutdown.

use std::sync::Arc;
use std::time::Duration;

use tongban_service_kit::startup::{self, StartupError};

use crate::app::{Agency, AgencySpec, Database, OpenError, Service, ServiceError};
use crate::config::Config;
use crate::keys::{KeyError, MasterKey};
use crate::tokens::{NewToken, Scopes};

pub use tongban_service_kit::startup::{KeySource, MASTER_KEY_ENV};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The master key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The database.
    #[error("database: {0}")]
    Store(#[from] OpenError),
    /// Creating the data directory or binding the port.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Setting up an agency or token.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StartupError> for StartError {
    fn from(e: StartupError) -> Self {
        match e {
            StartupError::Key(e) => StartError::Key(e),
            StartupError::Io { what, source } => StartError::Io { what, source },
        }
    }
}

/// Loads the master key: `TONGBAN_MASTER_KEY`, else the configured file,
/// else `<data_dir>/master.key` — generated there if `create` and absent.
pub fn load_master_key(
    config: &Config,
    create: bool,
) -> Result<(MasterKey, KeySource), StartError> {
    Ok(startup::load_master_key(
        std::env::var(MASTER_KEY_ENV).ok(),
        config.master_key_file.as_deref(),
        &config.data_dir,
        create,
    )?)
}

/// Creates the data directory (mode 0700) if absent.
fn ensure_data_dir(config: &Config) -> Result<(), StartError> {
    Ok(startup::ensure_data_dir(&config.data_dir)?)
}

/// Opens the configured database (SQLite in the data directory unless a
/// PostgreSQL URL is set) and applies migrations. For SQLite, the data
/// directory and the database files are first made private
/// ([`secure_data_files`]); what had to be tightened, or a directory others
/// can read, is warned about on standard error and in the log.
pub async fn open_database(config: &Config) -> Result<Database, StartError> {
    if config.database_url.is_none() {
        ensure_data_dir(config)?;
        for warning in secure_data_files(config)? {
            tracing::warn!("{warning}");
            eprintln!("tongban-issuer: warning: {warning}");
        }
    }
    Ok(Database::open(config).await?)
}

/// Makes the SQLite database files private before SQLite opens them: the
/// database file is created with mode 0600 if absent (SQLite gives its
/// `-wal` and `-shm` files the mode of the database file), and an existing
/// database, WAL or shared-memory file that group or others can read is
/// set to 0600. Returns a sentence for each file it tightened, and one if
/// the data directory itself is open to group or others (left as the
/// operator set it: it may be shared on purpose, but it should not be).
pub fn secure_data_files(config: &Config) -> Result<Vec<String>, StartError> {
    let mut warnings = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let io = |what: String| move |source| StartError::Io { what, source };
        let dir = &config.data_dir;
        let mode = std::fs::metadata(dir)
            .map_err(io(format!("reading {}", dir.display())))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            warnings.push(format!(
                "the data directory {} has mode {:o}: group and others can reach the database (pending offers' personal data, token hashes); chmod 700 it",
                dir.display(),
                mode & 0o777
            ));
        }
        let db = config.sqlite_file();
        if !db.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&db)
                .map_err(io(format!("creating {}", db.display())))?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(io(format!("chmod 600 {}", file.display())))?;
                warnings.push(format!(
                    "{} had mode {:o}; set to 600",
                    file.display(),
                    mode & 0o777
                ));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = config;
    Ok(warnings)
}

/// The demonstration agency a fresh data directory starts with.
pub fn demo_agency(service: &Service) -> AgencySpec {
    AgencySpec {
        id: "demo".into(),
        name_zh: "通办演示发证机构".into(),
        name_en: "Tongban demonstration agency".into(),
        region: "310118".into(),
        vcts: service
            .catalogue()
            .types()
            .iter()
            .map(|t| t.vct.clone())
            .collect(),
        encryption_required: false,
        key_alg: Default::default(),
        jws_alg_name: None,
    }
}

/// On a database with no agency, creates the demonstration agency and an
/// all-scopes admin token; returns them (the token is shown once).
pub async fn bootstrap_demo(service: &Service) -> Result<Option<(Agency, NewToken)>, StartError> {
    if !service.list_agencies().await?.is_empty() {
        return Ok(None);
    }
    let agency = service
        .create_agency(&demo_agency(service), "bootstrap")
        .await?;
    let token = service
        .create_token(&agency.id, Scopes::all(), "bootstrap admin", "bootstrap")
        .await?;
    Ok(Some((agency, token)))
}

/// Runs the HTTP service until Ctrl-C or SIGTERM, then finishes the
/// requests in flight (their commits included) and returns.
pub async fn serve(
    service: Arc<Service>,
    listener: tokio::net::TcpListener,
) -> Result<(), StartError> {
    let purge = {
        let s = service.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(e) = s.purge_expired().await {
                    tracing::warn!(error = %e, "purging expired offers and nonces failed");
                }
            }
        })
    };
    let limits = service.config().server;
    let app = crate::api::router(service);
    let result = startup::serve_until_signal(listener, app, limits).await;
    purge.abort();
    result?;
    Ok(())
}
