//! Storage: one trait ([`Store`]), two backends (SQLite, the embedded
//! default, and PostgreSQL for replicas) running the same SQL, written once
//! and generic over the sqlx database ([`sql`]), as in the issuer.
//!
//! Every state change is one transaction that also appends to a
//! hash-chained audit log ([`crate::audit`]). A presentation transaction
//! is answered by one conditional `UPDATE … WHERE state = 'pending' AND
//! expires_at > now`: of two answers racing (in one process or across
//! replicas) exactly one changes the row.

use async_trait::async_trait;
use serde::Serialize;

use crate::audit::{AuditEntry, PendingEntry};
use crate::tokens::TokenScope;

pub mod postgres;
pub mod sql;
pub mod sqlite;
#[cfg(test)]
mod tests;

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The named row does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A unique value is already taken.
    #[error("already exists: {0}")]
    Conflict(String),
    /// The state change does not apply to the current state.
    #[error("{0}")]
    InvalidTransition(String),
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The migrations could not be applied.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Stored data is not what this version expects.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<tongban_service_kit::db::OpenError> for StoreError {
    fn from(e: tongban_service_kit::db::OpenError) -> Self {
        match e {
            tongban_service_kit::db::OpenError::Database(e) => StoreError::Database(e),
            tongban_service_kit::db::OpenError::Migrate(e) => StoreError::Migrate(e),
        }
    }
}

pub(crate) fn conflict_or(e: sqlx::Error, what: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Conflict(what.to_owned());
    }
    StoreError::Database(e)
}

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The operator CA as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaRecord {
    /// Its common name.
    pub common_name: String,
    /// Its certificate, DER.
    pub cert_der: Vec<u8>,
    /// Its PKCS#8 key sealed under the master key.
    pub sealed_key: Vec<u8>,
    /// Created (Unix seconds).
    pub created_at: i64,
}

/// How a tenant identifies itself to wallets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientIdPrefix {
    /// `x509_hash:<SHA-256 of the leaf>` (the default).
    X509Hash,
    /// `x509_san_dns:<the leaf's dNSName>`.
    X509SanDns,
}

impl ClientIdPrefix {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientIdPrefix::X509Hash => "x509_hash",
            ClientIdPrefix::X509SanDns => "x509_san_dns",
        }
    }

    /// Parses the name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::X509Hash, Self::X509SanDns]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A receiving agency hosted by the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    /// Short id (`qingpu-ywtb`).
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// GB/T 2260 region code.
    pub region: String,
    /// The `dNSName` of its certificate.
    pub dns: String,
    /// Which client identifier it uses.
    pub client_id_prefix: ClientIdPrefix,
    /// Whether wallets may answer with unencrypted `direct_post`.
    pub allow_plain_direct_post: bool,
    /// Its request-signing certificate, DER.
    #[serde(skip)]
    pub cert_der: Vec<u8>,
    /// Its PKCS#8 key sealed under the master key.
    #[serde(skip)]
    pub sealed_key: Vec<u8>,
    /// Created (Unix seconds).
    pub created_at: i64,
}

/// A token as stored (the secret itself never is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// Public id.
    pub id: String,
    /// What it may do.
    pub scope: TokenScope,
    /// A label for people.
    pub label: String,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Revoked (Unix seconds), if it was.
    pub revoked_at: Option<i64>,
}

/// Where a transaction stands, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxState {
    /// Waiting for the wallet.
    Pending,
    /// The presentation was verified.
    Accepted,
    /// The citizen declined (`access_denied`).
    Refused,
    /// The presentation failed verification; the outcome has the codes.
    Rejected,
    /// The wallet answered with another error.
    Failed,
    /// Nobody answered in time.
    Expired,
}

impl TxState {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            TxState::Pending => "pending",
            TxState::Accepted => "accepted",
            TxState::Refused => "refused",
            TxState::Rejected => "rejected",
            TxState::Failed => "failed",
            TxState::Expired => "expired",
        }
    }

    /// Parses the name.
    pub fn parse(s: &str) -> Option<Self> {
        use TxState::*;
        [Pending, Accepted, Refused, Rejected, Failed, Expired]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A presentation transaction as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRecord {
    /// Id (random, 128 bits), also in the request and response URIs.
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The token that created it.
    pub token_id: String,
    /// Where it stands (as stored; a pending one past `expires_at` is expired).
    pub state: TxState,
    /// `cross_device` or `same_device`.
    pub flow: String,
    /// The request's nonce.
    pub nonce: String,
    /// The request's `state`.
    pub state_param: String,
    /// The DCQL query (JSON text).
    pub dcql: String,
    /// `transaction_data` (JSON array text), if any.
    pub transaction_data: Option<String>,
    /// Purpose and service item (JSON text).
    pub purpose: String,
    /// `direct_post.jwt` or `direct_post`.
    pub response_mode: String,
    /// Its response-decryption key's id.
    pub enc_kid: String,
    /// That key, sealed (emptied once answered).
    pub enc_sealed: Vec<u8>,
    /// That key's public JWK (JSON text).
    pub enc_public_jwk: String,
    /// The back office's page for same-device redirects.
    pub redirect_page: Option<String>,
    /// SHA-256 (hex) of the same-device `response_code`, once answered.
    pub response_code_hash: Option<String>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// When the wallet's time runs out.
    pub expires_at: i64,
    /// When it was answered.
    pub answered_at: Option<i64>,
    /// The verdict (JSON text, never claim values).
    pub outcome: Option<String>,
    /// The verified claims (JSON text) until read or erased.
    pub claims: Option<String>,
    /// When the claims are erased if never read.
    pub claims_erase_at: Option<i64>,
}

/// The answer to a pending transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The new state (not pending or expired).
    pub state: TxState,
    /// The verdict (JSON text).
    pub outcome: String,
    /// The verified claims (JSON text), if accepted.
    pub claims: Option<String>,
    /// When they are erased if never read.
    pub claims_erase_at: Option<i64>,
    /// SHA-256 (hex) of the same-device response code.
    pub response_code_hash: Option<String>,
}

/// One state change of a transaction, committed together with others
/// that arrive at the same time (group commit), each with its audit entry.
#[derive(Debug, Clone)]
pub enum Write {
    /// Stores a new transaction.
    Create {
        /// The transaction.
        record: Box<TransactionRecord>,
        /// Its `transaction.create` entry.
        audit: PendingEntry,
    },
    /// Answers a pending, unexpired transaction and forgets its decryption
    /// key; [`StoreError::InvalidTransition`] if it was answered or expired.
    Answer {
        /// The transaction.
        id: String,
        /// The answer.
        answer: Answer,
        /// Now (Unix seconds): it must not have expired.
        now: i64,
        /// Its `transaction.answer` entry.
        audit: PendingEntry,
    },
    /// Hands over a transaction's claims and erases them (once): the
    /// result is the claims, or `None` if there are none (any more).
    TakeClaims {
        /// The transaction.
        id: String,
        /// Now (Unix seconds).
        now: i64,
        /// Its `transaction.claims_read` entry (only if claims were taken).
        audit: PendingEntry,
    },
}

/// What one [`Write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The transaction was stored.
    Created,
    /// The answer was recorded.
    Answered,
    /// The claims taken (and erased), if there were any.
    Claims(Option<String>),
}

/// The result of one write of a group.
pub type WriteResult = Result<Written, StoreError>;

/// The storage the service runs on.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// A cheap query proving the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The operator CA, if made.
    async fn ca(&self) -> Result<Option<CaRecord>, StoreError>;

    /// Stores the operator CA (once; a second is a conflict).
    async fn init_ca(&self, ca: &CaRecord, audit: PendingEntry) -> Result<(), StoreError>;

    /// Stores a tenant.
    async fn create_tenant(&self, t: &Tenant, audit: PendingEntry) -> Result<(), StoreError>;

    /// Every tenant, by id.
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;

    /// One tenant.
    async fn tenant(&self, id: &str) -> Result<Tenant, StoreError>;

    /// Stores a token's hash.
    async fn create_token(
        &self,
        t: &TokenRecord,
        hash: &str,
        audit: PendingEntry,
    ) -> Result<(), StoreError>;

    /// A live (unrevoked) token by the hash of its secret.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Every token.
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// Revokes a token.
    async fn revoke_token(&self, id: &str, at: i64, audit: PendingEntry) -> Result<(), StoreError>;

    /// Pending, unexpired transactions of a tenant.
    async fn pending_count(&self, tenant: &str, now: i64) -> Result<i64, StoreError>;

    /// One transaction.
    async fn transaction(&self, id: &str) -> Result<TransactionRecord, StoreError>;

    /// Applies `writes` in order in one database transaction (one
    /// commit, one fsync for all: group commit). A write's own refusal (an
    /// answer to a transaction that is no longer pending) is its result
    /// and does not stop the others; a database error fails the whole
    /// group and nothing of it is committed.
    async fn write_group(&self, writes: &[Write]) -> Result<Vec<WriteResult>, StoreError>;

    /// Marks pending transactions past their time expired (forgetting
    /// their keys) and erases claims past their retention. Returns (expired,
    /// erased).
    async fn maintain(&self, now: i64) -> Result<(u64, u64), StoreError>;

    /// A chain's entries with `seq > after`, at most `limit`.
    async fn audit_entries(
        &self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// A chain's head: (last seq, last hash).
    async fn audit_head(&self, chain: &str) -> Result<(i64, String), StoreError>;
}
