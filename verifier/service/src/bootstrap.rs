//! Starting the service: the master key, the database, the admin token of
//! a fresh database (printed once), the operator CA of a fresh database,
//! the trust bundle and its schedule, maintenance, and `serve` with
//! graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use tongban_service_kit::startup::{self, StartupError};

use crate::app::{Database, OpenError, Service, ServiceError};
use crate::config::Config;
use crate::keys::{KeyError, MasterKey};
use crate::tokens::{NewToken, TokenScope};
use crate::trust::{self, BundleSource, DirectorySource, TrustListSource};

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
    /// The trust anchors.
    #[error("{0}")]
    Trust(String),
    /// Setting up a token or the CA.
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
pub fn ensure_data_dir(config: &Config) -> Result<(), StartError> {
    Ok(startup::ensure_data_dir(&config.data_dir)?)
}

/// Opens the configured database (SQLite in the data directory unless a
/// PostgreSQL URL is set) and applies migrations.
pub async fn open_database(config: &Config) -> Result<Database, StartError> {
    if config.database_url.is_none() {
        ensure_data_dir(config)?;
    }
    Ok(Database::open(config).await?)
}

/// On a database with no token at all, creates the operator CA (if
/// absent) and an admin token; returns the token (shown once).
pub async fn bootstrap_admin(service: &Service) -> Result<Option<NewToken>, StartError> {
    if !service.list_tokens().await?.is_empty() {
        return Ok(None);
    }
    if matches!(service.ca_certificate().await, Err(ServiceError::CaMissing)) {
        service
            .init_ca("Tongban receiving agencies operator CA", "bootstrap")
            .await?;
    }
    let token = service
        .create_token(TokenScope::Admin, "bootstrap admin", "bootstrap")
        .await?;
    Ok(Some(token))
}

/// The trust bundle source the configuration names: the trust list at
/// `trust_list_url`, or the bundle directory re-read.
pub fn bundle_source(config: &Config) -> Result<Arc<dyn BundleSource>, StartError> {
    let anchors = trust::read_anchor_keys(&config.anchor_key_files).map_err(StartError::Trust)?;
    if config.trust_list_url.is_some() && anchors.is_empty() {
        return Err(StartError::Trust(
            "trust_list_url needs anchor_key_files: the trust list is verified against the anchor's key".into(),
        ));
    }
    Ok(match &config.trust_list_url {
        Some(url) => Arc::new(TrustListSource::new(
            url.clone(),
            anchors,
            config.bundle_dir.clone(),
        )),
        None => Arc::new(DirectorySource {
            dir: config.bundle_dir.clone(),
            anchors,
        }),
    })
}

/// Runs the HTTP service until Ctrl-C or SIGTERM, with the trust bundle
/// refreshed and maintenance run on their schedules; then finishes the
/// requests in flight and returns.
pub async fn serve(
    service: Arc<Service>,
    source: Arc<dyn BundleSource>,
    listener: tokio::net::TcpListener,
) -> Result<(), StartError> {
    let config = service.config().clone();
    let sync = {
        let s = service.clone();
        let dir = config.bundle_dir.clone();
        tokio::spawn(async move {
            // The first refresh ran before serving; the next is one interval on.
            let every = Duration::from_secs(config.sync_interval_secs);
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tick.tick().await;
                let held = trust::held_sequence(&dir);
                let _ = trust::refresh_once(s.trust(), source.clone(), held, s.now()).await;
            }
        })
    };
    let maintenance = {
        let s = service.clone();
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(Duration::from_secs(config.maintenance_interval_secs));
            loop {
                tick.tick().await;
                if let Err(e) = s.maintain().await {
                    tracing::warn!(error = %e, "maintenance failed");
                }
            }
        })
    };
    let limits = config.server;
    let app = crate::api::router(service);
    let result = startup::serve_until_signal(listener, app, limits).await;
    sync.abort();
    maintenance.abort();
    result?;
    Ok(())
}
