//! Maintenance and readiness: pending transactions past their time become
//! expired (their decryption keys forgotten), disclosed claims nobody read
//! are erased after `claims_retention_secs`; `/readyz` needs the database
//! and a fresh trust bundle.

use serde::Serialize;

use super::{Service, ServiceError};
use crate::trust::{Freshness, TrustState};

/// What one maintenance run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Maintained {
    /// Transactions that expired.
    pub expired: u64,
    /// Transactions whose unread claims were erased.
    pub erased: u64,
}

/// Whether the service can take traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readiness {
    /// The database answers.
    pub database: bool,
    /// The trust bundle, if any.
    pub trust_bundle: Option<Freshness>,
    /// Why the last refresh failed, if it did.
    pub last_sync_error: Option<String>,
    /// Both are good.
    pub ready: bool,
}

impl Service {
    /// One maintenance run, at the service clock's now.
    pub async fn maintain(&self) -> Result<Maintained, ServiceError> {
        let now = self.now();
        let (expired, erased) = self.store.maintain(now).await?;
        self.attempts.forget_expired(now);
        if expired + erased > 0 {
            tracing::info!(expired, erased, "maintenance");
        }
        Ok(Maintained { expired, erased })
    }

    /// Database and trust bundle.
    pub async fn readiness(&self) -> Readiness {
        let database = self.store.ping().await.is_ok();
        let trust_bundle = self
            .trust
            .current()
            .map(|b| TrustState::freshness(&b, self.now(), self.config.max_bundle_age_secs));
        let ready = database && trust_bundle.as_ref().is_some_and(|f| f.fresh);
        Readiness {
            database,
            trust_bundle,
            last_sync_error: self.trust.last_error(),
            ready,
        }
    }
}
