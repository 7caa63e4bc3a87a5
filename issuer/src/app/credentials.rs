//! Issued credentials: looking them up, listing them, and their status
//! changes (revoke, suspend, reinstate).

use super::ServiceError;
use crate::store::{CredentialFilter, CredentialRecord, StatusChange};

use super::Service;

impl Service {
    /// One credential of the agency.
    pub async fn credential(
        &self,
        agency_id: &str,
        id: &str,
    ) -> Result<CredentialRecord, ServiceError> {
        Ok(self.store.credential(agency_id, id).await?)
    }

    /// The agency's credentials, filtered and paged: (cursor, record).
    pub async fn list_credentials(
        &self,
        agency_id: &str,
        filter: &CredentialFilter,
    ) -> Result<Vec<(i64, CredentialRecord)>, ServiceError> {
        Ok(self.store.list_credentials(agency_id, filter).await?)
    }

    /// Revokes, suspends or reinstates a credential of the agency.
    pub async fn change_status(
        &self,
        agency_id: &str,
        id: &str,
        change: StatusChange,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<CredentialRecord, ServiceError> {
        let rec = self
            .store
            .change_status(agency_id, id, change, reason, actor, self.now())
            .await?;
        // Committed; before answering, the list's cached token goes and any
        // rebuild that may have read the list before the commit is refused
        // a place in the cache (`status_cache`).
        self.status_cache
            .changed((agency_id.to_owned(), rec.status_list));
        self.metrics.add(
            "tongban_status_changes_total",
            &[("agency", agency_id), ("action", change.action())],
            1,
        );
        Ok(rec)
    }
}
