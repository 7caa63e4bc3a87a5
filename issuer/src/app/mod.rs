//! The issuing service's core, independent of HTTP: agencies and their
//! opened keys, claim validation, status-index allocation, signing, group
//! commit, status-list tokens and OpenID4VCI offers.
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

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tongban_verifier::catalogue::Catalogue;

use crate::config::Config;
use crate::error::{ApiCode, ApiError};
use crate::keys::{KeyRing, MasterKey};
use crate::metrics::Metrics;
use crate::store::{Agency, NewCredential, Store, StoreError};
use tongban_service_kit::SharedClock;

mod agencies;
mod credentials;
mod issuing;
mod offers;
mod oid4vci;
mod status_lists;

pub use agencies::AgencySpec;
pub use issuing::{IssueRequest, Issued, IssuedCredential};
pub use offers::{IssuedOffer, OfferOptions, offer_uri, png_base64, random_digits};

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
    pub enc_public: Value,
}

impl std::fmt::Debug for AgencyRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgencyRuntime")
            .field("agency", &self.agency.id)
            .field("kid", &self.keys.kid)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Commit {
    pub(crate) item: NewCredential,
    pub(crate) reply: oneshot::Sender<Result<(), StoreError>>,
}

pub(crate) struct CachedStatus {
    token: String,
    /// Unix seconds, by the service's clock.
    fresh_until: i64,
}

/// The service.
pub struct Service {
    /// Configuration.
    pub config: Config,
    /// Storage.
    pub store: Arc<dyn Store>,
    master: MasterKey,
    /// The licence catalogue.
    pub catalogue: &'static Catalogue,
    /// Metrics.
    pub metrics: Metrics,
    agencies: RwLock<HashMap<String, (Instant, Arc<AgencyRuntime>)>>,
    allocators: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Range<i64>>>>>,
    committer: mpsc::Sender<Commit>,
    status_cache: Mutex<HashMap<(String, i64), CachedStatus>>,
    clock: SharedClock,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("public_url", &self.config.public_url)
            .finish_non_exhaustive()
    }
}

pub(crate) fn internal(what: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %what, "internal error");
    ApiError::new(ApiCode::Internal, "internal error (see the service log)")
}

impl Service {
    /// A service over `store` that reads the time from `clock`; starts the
    /// commit task (needs a tokio runtime).
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        master: MasterKey,
        clock: SharedClock,
    ) -> Result<Arc<Self>, ApiError> {
        let catalogue = Catalogue::builtin().map_err(internal)?;
        let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(issuing::run_committer(store.clone(), clock.clone(), rx));
        Ok(Arc::new(Service {
            config,
            store,
            master,
            catalogue,
            metrics: Metrics::default(),
            agencies: RwLock::new(HashMap::new()),
            allocators: Mutex::new(HashMap::new()),
            committer: tx,
            status_cache: Mutex::new(HashMap::new()),
            clock,
        }))
    }

    /// Now, Unix seconds, by the clock the service was built with.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The master key (for the CLI's key operations).
    pub fn master(&self) -> &MasterKey {
        &self.master
    }
}
