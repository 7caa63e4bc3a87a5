//! The service layer: the issuer's use cases, independent of HTTP and of
//! the command line. [`crate::api`], the CLI and [`crate::bootstrap`] call
//! only the methods of [`Service`] (and [`Database`] to open storage); the
//! storage module is private to this layer. Every use case fails with one
//! [`ServiceError`], and reads the time from the
//! [`Clock`](tongban_service_kit::Clock) the service was built with —
//! nothing below here reads the system time.
//!
//! One module per use case: agencies and their keys, admin tokens,
//! issuing (single and batch items), offers, OpenID4VCI redemption (code,
//! access token, nonce, credential), status changes and credential
//! queries, status lists, the audit log, maintenance (purge, readiness).
//!
//! Durability: a credential is returned to the caller only after the
//! transaction holding it and its audit entry committed. Concurrent
//! issuance requests are committed together (group commit): one
//! transaction, one fsync, many credentials — each caller still waits for
//! its own commit.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};
use tongban_verifier::catalogue::Catalogue;

use crate::config::Config;
use crate::keys::{KeyRing, MasterKey};
use crate::metrics::Metrics;
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{NewCredential, Store, StoreError};
use tongban_service_kit::SharedClock;

mod admin_tokens;
mod agencies;
mod audit;
pub mod backup;
mod credential_id;
mod credentials;
mod error;
mod issuing;
pub mod login;
mod maintenance;
mod offers;
mod oid4vci;
mod os_bytes;
pub mod records;
mod status_cache;
mod status_lists;
mod token_cache;
pub use status_lists::StatusLists;

pub use agencies::{AgencyOverview, AgencySpec, AgencyUpdate};
pub use audit::{AuditPage, ChainCheck};
pub use backup::{BackupError, BackupReport, RestoreReport, restore};
pub use error::ServiceError;
pub use issuing::{IssueRequest, Issued, IssuedCredential};
pub use offers::{IssuedOffer, OfferOptions, offer_uri, png_base64, random_digits};
pub use oid4vci::{
    AccessToken, AttestedClient, ChainError, ClientAttestationError, ClientAttestationHeaders,
    CodeExchange, CredentialBody, CredentialReply, DpopAt, KeyAttestationError, Oid4vciError,
    Redirect, form_client_id,
};
pub use records::{ClaimsSource, RecordLoaded, RecordRequest, StoredRecords, SubjectClaims};

pub use crate::store::{
    Agency, Backend, CredentialFilter, CredentialRecord, CredentialStatus, FreshList, KeyStorage,
    OfferRecord, StatusChange, StoredKey, TokenRecord,
};

/// Most credentials committed in one transaction.
pub(crate) const MAX_GROUP: usize = 512;

/// An agency with its keys opened.
pub struct AgencyRuntime {
    /// The agency row.
    pub agency: Agency,
    /// Its signing keys.
    pub keys: KeyRing,
    /// Its credential-request decryption key (josekit JWK with `d`).
    pub enc_private: josekit::jwk::Jwk,
    /// The public part, as published.
    pub enc_public: Map<String, Value>,
}

impl std::fmt::Debug for AgencyRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgencyRuntime")
            .field("agency", &self.agency.id)
            .field("kid", &self.keys.kid)
            .finish_non_exhaustive()
    }
}

/// A credential handed to the commit task, and where its outcome goes.
pub(crate) struct Commit {
    pub(crate) item: NewCredential,
    /// Answered once the group holding the credential is committed (or
    /// refused), with the credential handed back, so it travels to the
    /// commit task and back instead of being copied for it.
    pub(crate) reply: oneshot::Sender<Committed>,
}

/// What the commit task answers: the credential it was given, and whether
/// it is stored.
pub(crate) type Committed = (NewCredential, Result<(), StoreError>);

/// The service.
pub struct Service {
    config: Config,
    store: Arc<dyn Store>,
    master: MasterKey,
    catalogue: &'static Catalogue,
    metrics: Metrics,
    agencies: RwLock<HashMap<String, (Instant, Arc<AgencyRuntime>)>>,
    allocators: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Range<i64>>>>>,
    committer: mpsc::Sender<Commit>,
    status_cache: status_cache::StatusCache,
    token_cache: token_cache::TokenCache,
    /// The highest status list this process has seen each agency use.
    lists_seen: Mutex<HashMap<String, i64>>,
    nonces: oid4vci::nonce::Nonces,
    dpop: oid4vci::dpop::DpopGuard,
    login: Arc<dyn login::CitizenLogin>,
    claims: Arc<dyn ClaimsSource>,
    /// The wallet attestation proofs (`jti`) already used.
    spent_pops: oid4vci::spent::SpentSet,
    clock: SharedClock,
}

/// What a service can be given in place of its own parts (tests, or an
/// agency answering from its own register).
#[derive(Default)]
pub struct Plugins {
    /// How citizens log in; default: OpenID Connect per `[login.<agency>]`.
    pub login: Option<Arc<dyn login::CitizenLogin>>,
    /// Where claims by subject come from; default: the records loaded by
    /// the admin API.
    pub claims: Option<Arc<dyn ClaimsSource>>,
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugins")
            .field("login", &self.login.is_some())
            .field("claims", &self.claims.is_some())
            .finish()
    }
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
pub struct OpenError(StoreError);

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

/// An unexpected failure: logged in full, reported without detail.
pub(crate) fn internal(what: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(what)
}

impl Service {
    /// A service over `database` that reads the time from `clock`; starts
    /// the commit task (needs a tokio runtime).
    pub fn new(
        config: Config,
        database: Database,
        master: MasterKey,
        clock: SharedClock,
    ) -> Result<Arc<Self>, ServiceError> {
        Self::with_plugins(config, database, master, clock, Plugins::default())
    }

    /// As [`Service::new`], with some of its parts given.
    pub fn with_plugins(
        config: Config,
        database: Database,
        master: MasterKey,
        clock: SharedClock,
        plugins: Plugins,
    ) -> Result<Arc<Self>, ServiceError> {
        let store = database.0;
        let login = plugins.login.unwrap_or_else(|| {
            Arc::new(login::OidcLogin::new(
                config.authorization.logins.clone(),
                clock.clone(),
            ))
        });
        let claims = plugins
            .claims
            .unwrap_or_else(|| Arc::new(StoredRecords(store.clone())));
        let dpop = oid4vci::dpop::DpopGuard::new(master.derive("tongban dpop nonce key v1"));
        let catalogue = Catalogue::builtin().map_err(internal)?;
        let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
        let committers = issuing::committers(store.backend(), config.db_max_connections);
        tokio::spawn(issuing::run_committer(
            store.clone(),
            clock.clone(),
            rx,
            committers,
        ));
        let nonces = oid4vci::nonce::Nonces::new(master.derive("tongban c_nonce key v1"));
        let token_cache = token_cache::TokenCache::new(config.admin_token_cache_secs);
        Ok(Arc::new(Service {
            config,
            store,
            nonces,
            dpop,
            login,
            claims,
            spent_pops: oid4vci::spent::SpentSet::new(oid4vci::client_attestation::MAX_SPENT_POPS),
            master,
            catalogue,
            metrics: Metrics::default(),
            agencies: RwLock::new(HashMap::new()),
            allocators: Mutex::new(HashMap::new()),
            committer: tx,
            status_cache: status_cache::StatusCache::default(),
            token_cache,
            lists_seen: Mutex::new(HashMap::new()),
            clock,
        }))
    }

    /// The configuration the service was started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The licence catalogue.
    pub fn catalogue(&self) -> &'static Catalogue {
        self.catalogue
    }

    /// The service's metrics (request counts and times, issuance counters).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The database the service runs on.
    pub fn database(&self) -> Database {
        Database(self.store.clone())
    }

    /// Now, Unix seconds, by the clock the service was built with.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
