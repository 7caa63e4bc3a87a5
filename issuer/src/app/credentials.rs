//! Status changes of issued credentials: revoke, suspend, reinstate.

use crate::error::ApiError;
use crate::store::{CredentialRecord, StatusChange};

use super::Service;

impl Service {
    /// Revokes, suspends or reinstates a credential of the agency.
    pub async fn change_status(
        &self,
        agency_id: &str,
        id: &str,
        change: StatusChange,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<CredentialRecord, ApiError> {
        let rec = self
            .store
            .change_status(agency_id, id, change, reason, actor, self.now())
            .await?;
        if let Ok(mut c) = self.status_cache.lock() {
            c.remove(&(agency_id.to_owned(), rec.status_list));
        }
        self.metrics.add(
            "tongban_status_changes_total",
            &[("agency", agency_id), ("action", change.action())],
            1,
        );
        Ok(rec)
    }
}
