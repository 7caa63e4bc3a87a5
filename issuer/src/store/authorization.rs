//! What the authorization code flow keeps: pushed authorization requests
//! through their stages (pushed, at the login, code issued, redeemed), and
//! the agency's records by subject. Single use is enforced by the database
//! (one conditional `UPDATE … RETURNING` per step), so it holds across
//! replicas on PostgreSQL: a `request_uri`, a login `state` and a code each
//! move their row forward exactly once.

use async_trait::async_trait;

use super::{OfferRecord, StoreError};

/// Where a pushed authorization request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationStage {
    /// Pushed; its `request_uri` not yet used.
    Pushed,
    /// The `request_uri` was used; the citizen is at the login.
    AtLogin,
    /// The login came back and is being finished.
    FinishingLogin,
    /// A code was issued.
    CodeIssued,
    /// The code was exchanged for an access token.
    Redeemed,
    /// Refused (login failed, no record); nothing more happens.
    Refused,
}

impl AuthorizationStage {
    /// The stored code.
    pub fn code(self) -> i64 {
        match self {
            AuthorizationStage::Pushed => 0,
            AuthorizationStage::AtLogin => 1,
            AuthorizationStage::CodeIssued => 2,
            AuthorizationStage::Redeemed => 3,
            AuthorizationStage::Refused => 4,
            AuthorizationStage::FinishingLogin => 5,
        }
    }

    /// From the stored code.
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            0 => AuthorizationStage::Pushed,
            1 => AuthorizationStage::AtLogin,
            2 => AuthorizationStage::CodeIssued,
            3 => AuthorizationStage::Redeemed,
            4 => AuthorizationStage::Refused,
            5 => AuthorizationStage::FinishingLogin,
            _ => return None,
        })
    }
}

/// A pushed authorization request (RFC 9126) and what followed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRecord {
    /// Random id.
    pub id: String,
    /// The agency (the authorization server).
    pub agency_id: String,
    /// SHA-256 of the `request_uri`.
    pub request_uri_hash: String,
    /// The wallet's `client_id`.
    pub client_id: String,
    /// The wallet's `redirect_uri`.
    pub redirect_uri: String,
    /// The PKCE `S256` challenge.
    pub code_challenge: String,
    /// The credential type asked for.
    pub vct: String,
    /// Whether the wallet asked with `authorization_details` (then the
    /// token response carries them).
    pub by_details: bool,
    /// The issuer-initiated offer (`issuer_state`), or the offer made at
    /// the token request.
    pub offer_id: Option<String>,
    /// The wallet's `state`.
    pub client_state: Option<String>,
    /// The DPoP key the code (and its token) is bound to.
    pub dpop_jkt: Option<String>,
    /// Where it stands.
    pub stage: AuthorizationStage,
    /// The current stage's deadline (Unix seconds).
    pub expires_at: i64,
    /// The login's OpenID Connect `nonce`.
    pub login_nonce: Option<String>,
    /// The login's PKCE verifier (towards the agency's provider).
    pub login_verifier: Option<String>,
    /// The authenticated subject, once logged in.
    pub subject: Option<String>,
    /// Pushed at.
    pub created_at: i64,
}

/// What the authorization endpoint records when it sends the citizen to
/// the login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginBinding {
    /// SHA-256 of the login's `state`.
    pub state_hash: String,
    /// The OpenID Connect `nonce`.
    pub nonce: String,
    /// The PKCE verifier towards the provider.
    pub verifier: String,
    /// When the login must be back.
    pub expires_at: i64,
}

/// The outcome of presenting an authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeClaim {
    /// Live and now spent.
    Claimed(Box<AuthorizationRecord>),
    /// Spent before (RFC 6749 §4.1.2: tokens issued from it should go).
    Reused(Box<AuthorizationRecord>),
    /// Unknown or expired.
    Unknown,
}

/// The offer an authorization code's access token redeems.
#[derive(Debug, Clone, Copy)]
pub enum AuthorizedOffer<'a> {
    /// The issuer-initiated offer named by `issuer_state` (its id).
    Existing(&'a str),
    /// A new offer made from the agency's record (wallet-initiated).
    New(&'a OfferRecord),
}

/// One citizen's claims for one credential type, from the agency's
/// records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRecord {
    /// The agency.
    pub agency_id: String,
    /// The subject the agency's login names the citizen by.
    pub subject: String,
    /// The credential type.
    pub vct: String,
    /// The claims, JSON text.
    pub claims: String,
    /// The credential's `exp`, if set.
    pub credential_exp: Option<i64>,
    /// The credential's `nbf`, if set.
    pub credential_nbf: Option<i64>,
    /// When the record is forgotten unused.
    pub expires_at: i64,
    /// Who loaded it (token id).
    pub actor: String,
    /// Loaded at.
    pub created_at: i64,
}

/// The authorization code flow's storage (part of every
/// [`Store`](super::Store)).
#[async_trait]
pub trait AuthorizationStore {
    /// Pushed requests of the agency not yet finished and not expired.
    async fn pending_authorizations(&self, agency_id: &str, now: i64) -> Result<i64, StoreError>;

    /// Stores a pushed request.
    async fn push_authorization(&self, r: &AuthorizationRecord) -> Result<(), StoreError>;

    /// Uses a `request_uri` (once, before it expires, by its `client_id`)
    /// and records the login it leads to.
    async fn start_login(
        &self,
        agency_id: &str,
        request_uri_hash: &str,
        client_id: &str,
        login: &LoginBinding,
        now: i64,
    ) -> Result<Option<AuthorizationRecord>, StoreError>;

    /// Takes the request a login `state` belongs to (once, in time).
    async fn finish_login(
        &self,
        agency_id: &str,
        login_state_hash: &str,
        now: i64,
    ) -> Result<Option<AuthorizationRecord>, StoreError>;

    /// Records the code issued after a finished login.
    async fn grant_code(
        &self,
        id: &str,
        code_hash: &str,
        subject: &str,
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// Marks a request refused.
    async fn refuse_authorization(&self, id: &str) -> Result<(), StoreError>;

    /// Spends a code.
    async fn claim_code(
        &self,
        agency_id: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<CodeClaim, StoreError>;

    /// Binds a fresh access token to the offer of a spent code (the
    /// issuer-initiated one, or a new one from the agency's record), in
    /// one audited transaction. `None` when the existing offer is no
    /// longer pending.
    #[allow(clippy::too_many_arguments)]
    async fn authorized_token(
        &self,
        auth: &AuthorizationRecord,
        offer: AuthorizedOffer<'_>,
        subject: &str,
        access_token_hash: &str,
        token_expires_at: i64,
        dpop_jkt: Option<&str>,
        now: i64,
    ) -> Result<Option<OfferRecord>, StoreError>;

    /// Withdraws the unused access token issued from a request's code (a
    /// code presented twice); returns how many.
    async fn revoke_authorization_token(
        &self,
        auth: &AuthorizationRecord,
        now: i64,
    ) -> Result<u64, StoreError>;

    /// The pending, unexpired authorization code offer of the agency with
    /// this `issuer_state` (its hash).
    async fn offer_by_issuer_state(
        &self,
        agency_id: &str,
        issuer_state_hash: &str,
        now: i64,
    ) -> Result<Option<OfferRecord>, StoreError>;

    /// One offer of the agency, by id.
    async fn offer_by_id(
        &self,
        agency_id: &str,
        offer_id: &str,
    ) -> Result<Option<OfferRecord>, StoreError>;

    /// Loads (or replaces) a citizen's record (audited, without values).
    async fn put_subject_record(&self, r: &SubjectRecord) -> Result<(), StoreError>;

    /// A citizen's unexpired record of one type.
    async fn subject_record(
        &self,
        agency_id: &str,
        subject: &str,
        vct: &str,
        now: i64,
    ) -> Result<Option<SubjectRecord>, StoreError>;

    /// Forgets finished and expired requests (kept an hour past their
    /// deadline, to recognise a reused code) and expired records.
    async fn purge_authorizations(&self, now: i64) -> Result<u64, StoreError>;
}
