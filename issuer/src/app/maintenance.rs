//! Maintenance: purging what expired, and whether the database answers.

use super::{Backend, Service, ServiceError};

impl Service {
    /// Deletes expired nonces, forgets the claims of expired offers, the
    /// finished authorization requests and expired records, and the DPoP
    /// `jti`s past their window, as of the service's clock; returns the
    /// rows (and entries) touched.
    pub async fn purge_expired(&self) -> Result<u64, ServiceError> {
        let now = self.now();
        let forgotten =
            (self.nonces.purge(now) + self.dpop.purge(now) + self.spent_pops.purge(now)) as u64;
        let authorizations = self.store.purge_authorizations(now).await?;
        Ok(self.store.purge_expired(now).await? + authorizations + forgotten)
    }

    /// Which database this is, and whether it answers (the failure in full,
    /// for the readiness probe).
    pub async fn readiness(&self) -> (Backend, Result<(), String>) {
        let backend = self.store.backend();
        (backend, self.store.ping().await.map_err(|e| e.to_string()))
    }
}
