//! The service layer's one error: what went wrong in a use case, with the
//! precise detail a clerk or operator can act on. No HTTP here: the API
//! maps each variant to its stable code and status
//! ([`crate::api::ApiError`]), the CLI to its exit.

use tongban_verifier::catalogue::schema::Violation;

use crate::store::{Conflict, StoreError};

/// Why a use case failed. `Display` is the detail sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A request member is wrong (an agency id, a region code, an id already
    /// taken); the detail names it.
    #[error("{0}")]
    InvalidRequest(String),
    /// The admin token is unknown or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// No agency with this id on this service.
    #[error("agency {agency:?}")]
    UnknownAgency {
        /// The id asked for.
        agency: String,
    },
    /// No such object (for this agency); the detail names it.
    #[error("{0} not found")]
    NotFound(String),
    /// A licence type that is not in the catalogue.
    #[error("{0}")]
    UnknownVct(String),
    /// The agency is not registered for this licence type.
    #[error("{0}")]
    VctNotAuthorised(String),
    /// The claims break the type's schema.
    #[error("failing fields: {}", .violations.iter().map(|v| v.path.as_str()).collect::<Vec<_>>().join(", "))]
    ClaimsInvalid {
        /// Each failing field and why.
        violations: Vec<Violation>,
    },
    /// Neither a holder key nor an offer.
    #[error("{0}")]
    HolderMissing(String),
    /// Both a holder key and an offer.
    #[error("{0}")]
    HolderAmbiguous(String),
    /// The holder key is not a usable public JWK.
    #[error("{0}")]
    HolderKeyInvalid(String),
    /// An impossible validity window.
    #[error("{0}")]
    ValidityInvalid(String),
    /// The agency already issued this licence id.
    #[error("{0}")]
    LicenceIdTaken(String),
    /// The credential's (or offer's) state does not allow the change.
    #[error("{0}")]
    InvalidTransition(String),
    /// The agency has no such status list.
    #[error("{0}")]
    StatusListNotFound(String),
    /// The master key does not open the keys already stored.
    #[error("{0}")]
    WrongMasterKey(String),
    /// The agency's citizen login (its OpenID Connect provider) cannot be
    /// used right now; the detail says why.
    #[error("{0}")]
    LoginUnavailable(String),
    /// The database is unreachable or failing (logged in full).
    #[error("{detail}")]
    StorageUnavailable {
        /// What a client is told (`Display`): never the database's words.
        detail: String,
        /// The database's own message, for the operator at the command
        /// line, which keeps no service log; `None` when the failure is the
        /// service's (shutting down).
        cause: Option<String>,
    },
    /// Anything else (logged in full).
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// An unexpected failure: logged in full, reported without detail.
    pub(crate) fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %what, "internal error");
        ServiceError::Internal("internal error (see the service log)".into())
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Conflict(what @ Conflict::LicenceId) => {
                ServiceError::LicenceIdTaken(what.to_string())
            }
            StoreError::Conflict(what @ Conflict::StatusIndex) => {
                tracing::error!(%what, "status index collision");
                ServiceError::Internal("status index collision (see the service log)".into())
            }
            StoreError::Conflict(what) => {
                ServiceError::InvalidRequest(format!("already exists: {what}"))
            }
            StoreError::InvalidTransition(what) => ServiceError::InvalidTransition(what),
            StoreError::Database(e) => database_error(&e),
            StoreError::Sqlite(e) => database_error(&e),
            other => {
                tracing::error!(error = %other, "storage error");
                ServiceError::Internal("storage error (see the service log)".into())
            }
        }
    }
}

/// A database that refused or failed: the cause goes to the log and to the
/// operator's side of the error, not to the client.
fn database_error(e: &dyn std::fmt::Display) -> ServiceError {
    tracing::error!(error = %e, "database error");
    ServiceError::StorageUnavailable {
        detail: "database error (see the service log)".into(),
        cause: Some(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_failure_keeps_its_cause_for_the_operator_and_hides_it_from_clients() {
        let e = ServiceError::from(StoreError::Database(sqlx::Error::PoolTimedOut));
        assert_eq!(e.to_string(), "database error (see the service log)");
        let ServiceError::StorageUnavailable { cause, .. } = e else {
            unreachable!("a database error is StorageUnavailable")
        };
        assert_eq!(
            cause,
            Some(sqlx::Error::PoolTimedOut.to_string()),
            "the cause is kept"
        );
    }
}
