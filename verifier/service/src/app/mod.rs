//! The service layer: the receiving agency service's use cases,
//! independent of HTTP and of the command line. [`crate::api`], the CLI
//! and [`crate::bootstrap`] call only the methods of [`Service`] (and
//! [`Database`] to open storage); storage is private to this layer. Every
//! use case fails with one [`ServiceError`] and reads the time from the
//! [`Clock`](tongban_service_kit::Clock) the service was built with.
//!
//! One module per use case: the operator CA and tenants ([`tenants`]),
//! tokens ([`tokens`]), presentation transactions and their outcome
//! ([`transactions`]), the wallet's side (request object, response)
//! ([`wallet`]), checking a `vp_token` ([`verification`]), maintenance and
//! readiness ([`maintenance`]), the audit log ([`audit`]); the group
//! commit of the hot path's state changes is private (`commit`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tongban_service_kit::SharedClock;
use tongban_verifier::catalogue::Catalogue;

use crate::config::Config;
use crate::keys::MasterKey;
use crate::metrics::Metrics;
use crate::notify::Waiters;
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, Write, Written};
use crate::trust::TrustState;

pub mod audit;
mod commit;
mod error;
pub mod limits;
pub mod maintenance;
mod registration;
pub mod tenants;
pub mod tokens;
pub mod transactions;
pub mod verification;
pub mod wallet;

pub use crate::store::{Backend, ClientIdPrefix, Tenant, TokenRecord, TxState};
pub use error::ServiceError;
pub use tenants::{TenantRuntime, TenantSpec};
pub use transactions::{Created, Flow, NewTransaction, OutcomeView, QuerySpec};
pub use wallet::{ResponseReply, WalletResponse};

/// The service.
pub struct Service {
    config: Config,
    store: Arc<dyn Store>,
    master: MasterKey,
    catalogue: &'static Catalogue,
    metrics: Metrics,
    clock: SharedClock,
    waiters: Waiters,
    trust: TrustState,
    tenants: RwLock<HashMap<String, Arc<TenantRuntime>>>,
    attempts: limits::Attempts,
    committer: commit::Committer,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("public_url", &self.config.public_url)
            .finish_non_exhaustive()
    }
}

/// An opened database (SQLite or PostgreSQL, migrations applied): what a
/// [`Service`] is built on. Opaque: only the service layer reaches into it.
#[derive(Clone)]
pub struct Database(Arc<dyn Store>);

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Database").field(&self.0.backend()).finish()
    }
}

/// Why the database could not be opened (the full cause, for the operator).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct OpenError(crate::store::StoreError);

impl Database {
    /// Opens the configured database: PostgreSQL if `database_url` is set,
    /// else SQLite at [`Config::sqlite_file`] (its directory must exist).
    pub async fn open(config: &Config) -> Result<Database, OpenError> {
        Ok(Database(match &config.database_url {
            Some(url) => Arc::new(
                PostgresStore::open(url, config.db_max_connections)
                    .await
                    .map_err(OpenError)?,
            ),
            None => Arc::new(
                SqliteStore::open(&config.sqlite_file())
                    .await
                    .map_err(OpenError)?,
            ),
        }))
    }
}

impl Service {
    /// A service over `database` that reads the time from `clock`. Starts
    /// the group-commit task, so it must be called inside a tokio runtime.
    pub fn new(
        config: Config,
        database: Database,
        master: MasterKey,
        clock: SharedClock,
    ) -> Result<Arc<Self>, ServiceError> {
        let catalogue = Catalogue::builtin().map_err(ServiceError::internal)?;
        let committer = commit::Committer::start(database.0.clone());
        Ok(Arc::new(Service {
            config,
            store: database.0,
            master,
            catalogue,
            metrics: Metrics::default(),
            clock,
            waiters: Waiters::default(),
            trust: TrustState::default(),
            tenants: RwLock::new(HashMap::new()),
            attempts: limits::Attempts::default(),
            committer,
        }))
    }

    /// The configuration the service was started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The service's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The trust bundle in memory.
    pub fn trust(&self) -> &TrustState {
        &self.trust
    }

    /// The licence catalogue.
    pub fn catalogue(&self) -> &'static Catalogue {
        self.catalogue
    }

    /// Now, Unix seconds, by the clock the service was built with.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Commits a state change with whatever else is waiting (group commit).
    async fn commit(&self, write: Write) -> Result<Written, ServiceError> {
        match self.committer.commit(write).await {
            Ok(w) => Ok(w),
            Err(commit::CommitError::Store(e)) => Err(e.into()),
            Err(commit::CommitError::Stopped) => Err(ServiceError::StorageUnavailable {
                detail: "the service is stopping; nothing was recorded".into(),
                cause: None,
            }),
        }
    }

    /// Which database the service runs on.
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }
}
