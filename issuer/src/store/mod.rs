//! Storage: one trait ([`Store`]), two backends ([`sqlite::SqliteStore`],
//! [`postgres::PostgresStore`]) that run the same SQL, written once and
//! generic over the sqlx database ([`sql`]).
//!
//! Every state change is one transaction that also appends to the agency's
//! hash-chained audit log ([`crate::audit`]). The audit head and the next
//! free status-list index live on the agency's row, so the `UPDATE …
//! RETURNING` that advances them also serialises concurrent writers of one
//! agency — in one process (SQLite has a single writer) and across replicas
//! (PostgreSQL holds the row lock until commit).

use async_trait::async_trait;
use serde::Serialize;

use crate::audit::AuditEntry;
use crate::tokens::Scopes;

pub mod authorization;
pub mod postgres;
pub mod sql;

pub use authorization::{
    AuthorizationRecord, AuthorizationStage, AuthorizationStore, AuthorizedOffer, CodeClaim,
    LoginBinding, SubjectRecord,
};
pub mod sqlite;

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The named row does not exist (or belongs to another agency).
    #[error("not found: {0}")]
    NotFound(String),
    /// A unique value is already taken (licence id, agency id, …).
    #[error("already exists: {0}")]
    Conflict(Conflict),
    /// The requested state change does not apply to the current state.
    #[error("{0}")]
    InvalidTransition(String),
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// SQLite refused or failed on the group writer's connection
    /// (`sql/sqlite_writer.rs`).
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
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

/// Which unique value was already taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Conflict {
    /// An agency id or issuer identifier.
    #[error("an agency with this id or issuer identifier already exists")]
    Agency,
    /// A signing key id.
    #[error("this key id already exists")]
    KeyId,
    /// An admin token.
    #[error("token")]
    Token,
    /// A credential's `licence_id` within its agency.
    #[error("a credential with this licence_id already exists")]
    LicenceId,
    /// A credential's status-list position, or the counter it comes from,
    /// or its id (a bug if it ever happens).
    #[error("a credential with this status index already exists")]
    StatusIndex,
    /// An offer (its id or code).
    #[error("offer")]
    Offer,
}

/// Map a unique-constraint violation to [`StoreError::Conflict`].
pub(crate) fn conflict_or(e: sqlx::Error, what: Conflict) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Conflict(what);
    }
    StoreError::Database(e)
}

/// Status of a credential, as the Token Status List encodes it (2 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// 0x00 VALID.
    Valid,
    /// 0x01 INVALID: revoked, final.
    Revoked,
    /// 0x02 SUSPENDED: can be reinstated.
    Suspended,
}

impl CredentialStatus {
    /// The status-list value.
    pub fn code(self) -> i64 {
        match self {
            CredentialStatus::Valid => 0,
            CredentialStatus::Revoked => 1,
            CredentialStatus::Suspended => 2,
        }
    }

    /// From the status-list value.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(CredentialStatus::Valid),
            1 => Some(CredentialStatus::Revoked),
            2 => Some(CredentialStatus::Suspended),
            _ => None,
        }
    }

    /// The name used in the API (`valid`, `revoked`, `suspended`).
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Valid => "valid",
            CredentialStatus::Revoked => "revoked",
            CredentialStatus::Suspended => "suspended",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Valid, Self::Revoked, Self::Suspended]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A state change an admin can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// Valid or suspended → revoked (final).
    Revoke,
    /// Valid → suspended.
    Suspend,
    /// Suspended → valid.
    Reinstate,
}

impl StatusChange {
    /// The audit action name.
    pub fn action(self) -> &'static str {
        match self {
            StatusChange::Revoke => "credential.revoke",
            StatusChange::Suspend => "credential.suspend",
            StatusChange::Reinstate => "credential.reinstate",
        }
    }

    /// The states it applies to, and the state it leads to.
    pub fn transition(self) -> (&'static [CredentialStatus], CredentialStatus) {
        use CredentialStatus::*;
        match self {
            StatusChange::Revoke => (&[Valid, Suspended], Revoked),
            StatusChange::Suspend => (&[Valid], Suspended),
            StatusChange::Reinstate => (&[Suspended], Valid),
        }
    }
}

/// An issuing agency hosted by this service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agency {
    /// Short id used in URLs (`wujiang-amr`).
    pub id: String,
    /// Its issuer identifier (`iss`), a URL.
    pub iss: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// GB/T 2260 region code.
    pub region: String,
    /// The `vct`s it may issue.
    pub vcts: Vec<String>,
    /// Whether wallets must ask for an encrypted credential response.
    pub encryption_required: bool,
    /// Entries per status list, fixed when the agency is created (changing
    /// it later would move indices between lists).
    pub status_list_size: i64,
    /// Key of the permutation that places credentials in status lists
    /// ([`crate::status_index`]), hex.
    #[serde(skip)]
    pub index_key: String,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// Key id of its credential-request encryption key (P-256, ECDH-ES).
    pub enc_kid: String,
    /// That key's public JWK (JSON text).
    pub enc_public_jwk: String,
    /// That key's private scalar, sealed under the master key.
    #[serde(skip)]
    pub enc_sealed: Vec<u8>,
}

/// A signing key as stored: public part in clear, private part sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The agency.
    pub agency_id: String,
    /// Key id (the JWK thumbprint).
    pub kid: String,
    /// Public JWK (JSON text).
    pub public_jwk: String,
    /// The private key sealed under the master key ([`crate::keys`]).
    pub sealed: Vec<u8>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// When it stopped signing new credentials (still published).
    pub retired_at: Option<i64>,
    /// The certificate chain the zone's CA issued for the key (JSON array
    /// of standard base64 DER, the leaf first), put in `x5c`.
    pub x5c: Option<String>,
}

/// An admin token as stored (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// Public id of the token (shown in lists and the audit log).
    pub id: String,
    /// The agency it acts for.
    pub agency_id: String,
    /// What it may do.
    pub scopes: Scopes,
    /// A label for people.
    pub label: String,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Revoked (Unix seconds), if it was.
    pub revoked_at: Option<i64>,
}

/// A credential as the issuer keeps it: metadata only. The claims are not
/// kept once the credential is signed (the agency's own register holds them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialRecord {
    /// Credential id: `cred_` and the issuing millisecond followed by 80
    /// random bits (`app/credential_id.rs`); older ids are 128 random bits.
    pub id: String,
    /// The issuing agency.
    pub agency_id: String,
    /// Its type.
    pub vct: String,
    /// The `licence_id` claim, unique per agency.
    pub licence_id: Option<String>,
    /// Status list number.
    pub status_list: i64,
    /// Index in that list.
    pub status_idx: i64,
    /// Current status.
    pub status: CredentialStatus,
    /// JWK thumbprint of the holder key (`cnf`), if bound.
    pub holder_thumbprint: Option<String>,
    /// Key id that signed it.
    pub kid: String,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`, if any.
    pub expires_at: Option<i64>,
    /// The OpenID4VCI offer it was issued through, if any.
    pub offer_id: Option<String>,
    /// The batch it is a copy of (the id of the batch's first copy), when
    /// it was issued in a batch (OpenID4VCI `proofs` with several keys);
    /// a status change of any copy changes them all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// What the wallet's key attestation said of the holder key's storage,
    /// when it sent one.
    pub key_storage: Option<KeyStorage>,
}

/// The storage level a key attestation (OpenID4VCI 1.0 Appendix D.2)
/// stated for a credential's holder key, as recorded on its row.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyStorage {
    /// `key_storage`: the key storage's attack potential resistance.
    #[serde(default)]
    pub key_storage: Vec<String>,
    /// `user_authentication`: that of the user authentication.
    #[serde(default)]
    pub user_authentication: Vec<String>,
}

/// A credential ready to be stored, with its audit detail.
#[derive(Debug, Clone)]
pub struct NewCredential {
    /// The row.
    pub record: CredentialRecord,
    /// The agency's counter `g` its status position was computed from
    /// ([`crate::status_index::position`]): unique per agency in the
    /// database, which keeps the position unique (a bijection of `g`).
    pub status_seq: i64,
    /// Who asked (token id, or `oid4vci:<offer id>`).
    pub actor: String,
}

/// Filters for [`Store::list_credentials`].
#[derive(Debug, Clone, Default)]
pub struct CredentialFilter {
    /// Only this type.
    pub vct: Option<String>,
    /// Only this status.
    pub status: Option<CredentialStatus>,
    /// Only this licence id (with the other copies of its batch).
    pub licence_id: Option<String>,
    /// Issued at or after (Unix seconds).
    pub issued_from: Option<i64>,
    /// Issued before (Unix seconds).
    pub issued_until: Option<i64>,
    /// Page after this cursor (from a previous page).
    pub after: Option<i64>,
    /// At most this many (1..=1000).
    pub limit: i64,
}

/// An OpenID4VCI offer waiting for a wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferRecord {
    /// Offer id.
    pub id: String,
    /// The agency.
    pub agency_id: String,
    /// The credential type.
    pub vct: String,
    /// Claims to sign, as JSON text (deleted once redeemed).
    pub claims: String,
    /// Requested validity (`exp`), if any.
    pub expires_credential_at: Option<i64>,
    /// Requested start of validity (`nbf`), if any.
    pub not_before_credential: Option<i64>,
    /// SHA-256 of the pre-authorized code.
    pub code_hash: String,
    /// SHA-256 of the transaction code (PIN), if one is required.
    pub tx_code_hash: Option<String>,
    /// Length of the PIN (for the offer's `tx_code.length`).
    pub tx_code_length: Option<i64>,
    /// Wrong PINs so far.
    pub tx_attempts: i64,
    /// When the pre-authorized code expires.
    pub code_expires_at: i64,
    /// Where the offer stands.
    pub state: OfferState,
    /// SHA-256 of the access token, once issued.
    pub access_token_hash: Option<String>,
    /// When the access token expires.
    pub token_expires_at: Option<i64>,
    /// The credential issued through it.
    pub credential_id: Option<String>,
    /// Who created the offer (token id).
    pub actor: String,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// The grant it is redeemed through.
    pub grant: OfferGrant,
    /// The citizen's subject at the agency's login (authorization code
    /// grants; for an issuer-initiated one, who alone may redeem it).
    pub subject: Option<String>,
    /// SHA-256 of its `issuer_state` (issuer-initiated authorization code).
    pub issuer_state_hash: Option<String>,
    /// The DPoP key (RFC 7638 thumbprint) its access token is bound to.
    pub dpop_jkt: Option<String>,
}

/// The grant an offer is redeemed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferGrant {
    /// The pre-authorized code (and PIN) in the offer.
    PreAuthorized,
    /// The authorization code, from an issuer-initiated offer's
    /// `issuer_state`.
    IssuerInitiatedCode,
    /// The authorization code, asked for by the wallet; the claims came
    /// from the agency's record.
    WalletInitiatedCode,
}

impl OfferGrant {
    /// The stored code.
    pub fn code(self) -> i64 {
        match self {
            OfferGrant::PreAuthorized => 0,
            OfferGrant::IssuerInitiatedCode => 1,
            OfferGrant::WalletInitiatedCode => 2,
        }
    }

    /// From the stored code.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(OfferGrant::PreAuthorized),
            1 => Some(OfferGrant::IssuerInitiatedCode),
            2 => Some(OfferGrant::WalletInitiatedCode),
            _ => None,
        }
    }
}

/// Where an offer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferState {
    /// Waiting for the token request.
    Pending,
    /// The code was exchanged for an access token.
    TokenIssued,
    /// The credential was issued.
    Redeemed,
    /// Too many wrong PINs; the code no longer works.
    Locked,
    /// Expired unused; its claims were deleted.
    Expired,
}

impl OfferState {
    /// The stored code.
    pub fn code(self) -> i64 {
        match self {
            OfferState::Pending => 0,
            OfferState::TokenIssued => 1,
            OfferState::Redeemed => 2,
            OfferState::Locked => 3,
            OfferState::Expired => 4,
        }
    }

    /// From the stored code.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(OfferState::Pending),
            1 => Some(OfferState::TokenIssued),
            2 => Some(OfferState::Redeemed),
            3 => Some(OfferState::Locked),
            4 => Some(OfferState::Expired),
            _ => None,
        }
    }
}

/// The outcome of presenting a pre-authorized code (and PIN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// Code and PIN good: the access token (its hash) is now bound.
    Granted(Box<OfferRecord>),
    /// No such code, or it expired, or it was used.
    InvalidCode,
    /// Wrong PIN; this many attempts are left.
    WrongTxCode {
        /// Attempts left before the code locks.
        remaining: i64,
    },
    /// Too many wrong PINs.
    Locked,
    /// The offer needs a PIN and none was sent.
    TxCodeMissing,
}

/// Summary for `/readyz` and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The storage the service runs on.
#[async_trait]
pub trait Store: AuthorizationStore + Send + Sync + 'static {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// A cheap query proving the database answers (and, on SQLite, that
    /// the thread committing issued credentials runs).
    async fn ping(&self) -> Result<(), StoreError>;

    // ---- agencies and keys --------------------------------------------

    /// Creates an agency with its first signing key (one transaction, audited).
    async fn create_agency(
        &self,
        agency: &Agency,
        key: &StoredKey,
        actor: &str,
    ) -> Result<(), StoreError>;

    /// Changes an agency's names, region, types or encryption requirement.
    async fn update_agency(&self, agency: &Agency, actor: &str, at: i64) -> Result<(), StoreError>;

    /// All agencies, by id.
    async fn list_agencies(&self) -> Result<Vec<Agency>, StoreError>;

    /// One agency.
    async fn agency(&self, id: &str) -> Result<Agency, StoreError>;

    /// Every key of the agency, oldest first (retired ones included).
    async fn keys(&self, agency_id: &str) -> Result<Vec<StoredKey>, StoreError>;

    /// Adds a new key and retires the current one (one transaction, audited).
    async fn rotate_key(&self, key: &StoredKey, actor: &str) -> Result<(), StoreError>;

    /// Sets the certificate chain of key `kid` (`x5c`, JSON array text;
    /// audited as `key.certificate`, at `at`).
    async fn set_key_certificate(
        &self,
        agency_id: &str,
        kid: &str,
        x5c: &str,
        actor: &str,
        at: i64,
    ) -> Result<(), StoreError>;

    // ---- admin tokens --------------------------------------------------

    /// Stores a token's hash.
    async fn create_token(
        &self,
        token: &TokenRecord,
        hash: &str,
        actor: &str,
    ) -> Result<(), StoreError>;

    /// Finds a live (not revoked) token by hash.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// The agency's tokens.
    async fn list_tokens(&self, agency_id: &str) -> Result<Vec<TokenRecord>, StoreError>;

    /// Revokes a token.
    async fn revoke_token(
        &self,
        agency_id: &str,
        token_id: &str,
        at: i64,
        actor: &str,
    ) -> Result<(), StoreError>;

    // ---- credentials ---------------------------------------------------

    /// Reserves `n` consecutive status-list indices for the agency and
    /// returns the first. Committed on return: never handed out twice, even
    /// if the caller dies before using them.
    async fn reserve_status_indices(&self, agency_id: &str, n: i64) -> Result<i64, StoreError>;

    /// Stores credentials with their `credential.issue` audit entries in
    /// one transaction. A credential whose licence id is already taken (by
    /// an earlier credential, or an earlier item of `items`) is not stored
    /// and has no audit entry; its place in the answer says why, and the
    /// others are stored all the same — the unique constraint is the check,
    /// with no read before the insert. On a database error nothing is
    /// stored.
    async fn insert_credentials(
        &self,
        items: &[NewCredential],
        at: i64,
    ) -> Result<Vec<Result<(), Conflict>>, StoreError>;

    /// Whether the agency has issued a credential with this licence id
    /// (one lookup on the unique index): the check an offer makes when it
    /// is created.
    async fn licence_id_exists(
        &self,
        agency_id: &str,
        licence_id: &str,
    ) -> Result<bool, StoreError>;

    /// One credential of the agency.
    async fn credential(&self, agency_id: &str, id: &str) -> Result<CredentialRecord, StoreError>;

    /// Credentials of the agency matching the filter, in issue order.
    /// Each comes with its cursor (pass it as [`CredentialFilter::after`]
    /// for the next page).
    async fn list_credentials(
        &self,
        agency_id: &str,
        filter: &CredentialFilter,
    ) -> Result<Vec<(i64, CredentialRecord)>, StoreError>;

    /// Applies a status change (one transaction, audited). A copy of a
    /// batch changes with every other copy of it (an audit entry each);
    /// the record returned is the one named.
    async fn change_status(
        &self,
        agency_id: &str,
        id: &str,
        change: StatusChange,
        reason: Option<&str>,
        actor: &str,
        at: i64,
    ) -> Result<CredentialRecord, StoreError>;

    /// The non-zero statuses of one list: `(index, status)`.
    async fn list_statuses(
        &self,
        agency_id: &str,
        list: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError>;

    /// How many status lists the agency has started (highest list + 1).
    async fn status_list_count(&self, agency_id: &str) -> Result<i64, StoreError>;

    // ---- OpenID4VCI ----------------------------------------------------

    /// Stores a new offer (audited).
    async fn create_offer(&self, offer: &OfferRecord) -> Result<(), StoreError>;

    /// Exchanges a pre-authorized code (and PIN) for an access token.
    #[allow(clippy::too_many_arguments)]
    async fn redeem_code(
        &self,
        agency_id: &str,
        code_hash: &str,
        tx_code_hash: Option<&str>,
        max_attempts: i64,
        access_token_hash: &str,
        token_expires_at: i64,
        dpop_jkt: Option<&str>,
        now: i64,
    ) -> Result<CodeRedemption, StoreError>;

    /// The offer an unexpired, unused access token belongs to.
    async fn offer_by_access_token(
        &self,
        agency_id: &str,
        access_token_hash: &str,
        now: i64,
    ) -> Result<Option<OfferRecord>, StoreError>;

    /// Stores the credentials issued for an offer (one, or the copies of a
    /// batch), marks the offer redeemed (naming the first) and forgets its
    /// claims (and, for a wallet-initiated authorization code offer, the
    /// agency's record it came from), in one transaction. Fails with
    /// [`StoreError::InvalidTransition`] if the offer was redeemed meanwhile.
    async fn redeem_offer(
        &self,
        offer_id: &str,
        credentials: &[NewCredential],
        at: i64,
    ) -> Result<(), StoreError>;

    /// Deletes expired nonces and offers' claims; returns rows touched.
    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError>;

    // ---- audit ---------------------------------------------------------

    /// Audit entries of the agency with `seq > after`, at most `limit`.
    async fn audit_entries(
        &self,
        agency_id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// The agency's chain head: (last seq, last hash).
    async fn audit_head(&self, agency_id: &str) -> Result<(i64, String), StoreError>;

    // ---- backup and restore ---------------------------------------------

    /// Writes a consistent copy of the whole database to the new file
    /// `path` while others keep reading and writing (SQLite's `VACUUM
    /// INTO`). Returns `false`, writing nothing, on a backend that has its
    /// own tools for this (PostgreSQL: `pg_dump`).
    async fn backup_into(&self, path: &str) -> Result<bool, StoreError>;

    /// For a database just restored from a backup: moves every agency's
    /// status-index counter to the first index of the status list after
    /// the one it was in, with an audit entry (`status.fresh_list`) per
    /// agency, so credentials issued after the backup was taken (which the
    /// restored database does not know) never share an index with new
    /// ones. One transaction.
    async fn advance_to_fresh_status_lists(
        &self,
        actor: &str,
        at: i64,
    ) -> Result<Vec<FreshList>, StoreError>;
}

/// One agency moved to a fresh status list after a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreshList {
    /// The agency.
    pub agency_id: String,
    /// Its status-index counter before (as in the backup).
    pub from: i64,
    /// Its counter now: the first index of a list no earlier credential
    /// can be on.
    pub to: i64,
}
