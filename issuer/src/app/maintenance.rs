//! Maintenance: purging what expired, and whether the database answers.

use super::{Backend, Service, ServiceError};

impl Service {
    /// Deletes expired nonces and forgets the claims of expired offers, as
    /// of the service's clock; returns the rows touched.
    pub async fn purge_expired(&self) -> Result<u64, ServiceError> {
        let now = self.now();
        let forgotten = (self.nonces.purge(now) + self.spent_pops.purge(now)) as u64;
        Ok(self.store.purge_expired(now).await? + forgotten)
    }

    /// Which database this is, and whether it answers (the failure in full,
    /// for the readiness probe).
    pub async fn readiness(&self) -> (Backend, Result<(), String>) {
        let backend = self.store.backend();
        (backend, self.store.ping().await.map_err(|e| e.to_string()))
    }
}
