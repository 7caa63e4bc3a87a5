//! The service layer's one error: what went wrong in a use case, with the
//! detail a clerk, operator or wallet developer can act on. No HTTP here:
//! the API maps each variant to its stable code and status
//! ([`crate::api::ApiError`]), the CLI to its exit.

use crate::jose::JweRefusal;
use crate::store::StoreError;

/// Why a use case failed. `Display` is the detail sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A request member is wrong; the detail names it.
    #[error("{0}")]
    InvalidRequest(String),
    /// The DCQL query or the catalogue shorthand is unusable.
    #[error("{0}")]
    InvalidQuery(String),
    /// No token, or not a live one.
    #[error("{0}")]
    Unauthorized(String),
    /// The token may not do this (an admin token reading transactions, a
    /// tenant token managing tenants).
    #[error("{0}")]
    Forbidden(String),
    /// No such object (for this tenant).
    #[error("{0} not found")]
    NotFound(String),
    /// An id is already taken.
    #[error("{0}")]
    Conflict(String),
    /// The operator CA has not been made (`ca init`).
    #[error("no operator CA yet: run `tongban-verifier-service ca init` first")]
    CaMissing,
    /// The tenant holds as many pending transactions as allowed.
    #[error("tenant {tenant} already has {limit} pending transactions")]
    TooManyPending {
        /// The tenant.
        tenant: String,
        /// The limit.
        limit: i64,
    },
    /// A same-device outcome was asked for without the response code.
    #[error(
        "this is a same-device transaction: pass the response_code the citizen's browser brought back"
    )]
    ResponseCodeRequired,
    /// The response code does not belong to this transaction.
    #[error("the response_code does not belong to this transaction")]
    ResponseCodeWrong,
    /// The wallet's time to answer ran out.
    #[error("transaction {0} has expired")]
    TransactionExpired(String),
    /// The transaction was answered already (a transaction answers once).
    #[error("transaction {0} was already answered")]
    AlreadyAnswered(String),
    /// The transaction's wallet endpoints were called too often.
    #[error("transaction {0} was called too often; start a new one")]
    TooManyAttempts(String),
    /// The wallet's encrypted response was refused before verification.
    #[error("{0}")]
    Response(JweRefusal),
    /// The wallet's response is not the form OpenID4VP asks for.
    #[error("{0}")]
    ResponseInvalid(String),
    /// The response's `state` is not this transaction's.
    #[error("the response's state does not belong to this transaction")]
    StateMismatch,
    /// An unencrypted `direct_post` response where the tenant asked for
    /// `direct_post.jwt`.
    #[error("this transaction accepts only encrypted responses (direct_post.jwt)")]
    EncryptionRequired,
    /// The trust list does not register the tenant for this request: an
    /// unknown, revoked or expired registration or service item, or claims
    /// beyond the registered service item (the verifier library's code and
    /// detail, which lists the excess).
    #[error("{}: {}", .0.code, .0.detail)]
    NotRegistered(tongban_verifier::Rejection),
    /// The service has no usable trust bundle.
    #[error("{0}")]
    NoTrustBundle(String),
    /// The database is unreachable or failing (logged in full).
    #[error("{detail}")]
    StorageUnavailable {
        /// What a client is told.
        detail: String,
        /// The database's own message, for the operator at the terminal.
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

impl From<JweRefusal> for ServiceError {
    fn from(r: JweRefusal) -> Self {
        ServiceError::Response(r)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Conflict(what) => ServiceError::Conflict(format!("{what} already exists")),
            StoreError::InvalidTransition(what) => ServiceError::AlreadyAnswered(what),
            StoreError::Database(e) => {
                tracing::error!(error = %e, "database error");
                ServiceError::StorageUnavailable {
                    detail: "database error (see the service log)".into(),
                    cause: Some(e.to_string()),
                }
            }
            other => ServiceError::internal(format!("storage: {other}")),
        }
    }
}
