//! OpenID4VCI 1.0, pre-authorized and authorization code flows, one
//! credential issuer per agency (issuer identifier
//! `<public_url>/agencies/<id>`): the protocol side of the issuer, below
//! HTTP. The messages are
//! [`tongban_protocol::oid4vci`]'s types, the same the wallet reads.
//!
//! - [`metadata`]: the credential issuer's metadata (§12.2, every
//!   configuration with `credential_metadata`, the 1.0 shape) and its
//!   authorization server's (RFC 8414).
//! - [`token`]: the token request (§6,
//!   `grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code`,
//!   `pre-authorized_code`, `tx_code`) and the nonce (§7). Codes are
//!   single-use and short-lived, wrong PINs are counted and lock the
//!   offer; each nonce is single-use.
//! - [`credential`]: the credential request (§8) — the 1.0
//!   `proofs: {"jwt": [..]}` and the draft-15
//!   `proof: {"proof_type": "jwt", "jwt"}` forms; the key proof
//!   (`openid4vci-proof+jwt`, Appendix F.1) checked by
//!   [`tongban_protocol::oid4vci::check_proof`] and its nonce consumed
//!   here; the credential bound to the proof's key.
//! - [`par`], [`authorize`]: the authorization code flow (HAIP 1.0 §4):
//!   pushed authorization requests only (RFC 9126), PKCE `S256`, one
//!   configuration by `scope` or `authorization_details`, `issuer_state`,
//!   the citizen's login at the agency's provider, single-use codes.
//! - [`dpop`]: DPoP (RFC 9449) for both grants: stateless server nonces,
//!   single-use proofs, access tokens bound to the proof's key.
//! - [`client_attestation`]: wallet attestation as client authentication
//!   (OAuth attestation-based client authentication, draft -07) at the
//!   PAR and token endpoints; [`key_attestation`]: key attestations
//!   (Appendix D) in a `jwt` proof's header or as the `attestation` proof
//!   type; both checked by [`provider_chain`] against the wallet provider
//!   roots the agency trusts, as the agency's policy says.
//! - [`encryption`]: §10 — a request carrying
//!   `credential_response_encryption` must itself be encrypted (JWE to the
//!   agency's key), and the response is then a JWE (ECDH-ES with A128GCM or
//!   A256GCM) to the wallet's key. josekit does the JWE.
//!
//! This module keeps the redemption steps on the store: the code (and
//! PIN) exchanged for an access token, single-use nonces, and the
//! credential signed and stored for the access token's offer. Every expiry
//! is judged by the service's clock. Refusals are [`Oid4vciError`]s: the
//! OAuth error a wallet gets, which [`crate::api`] puts on HTTP.

use serde_json::{Map, Value};
use tongban_protocol::oid4vci::ErrorResponse;
use tongban_verifier::PublicKey;

use super::ServiceError;
use crate::store::{CodeRedemption, KeyStorage, NewCredential, OfferRecord};
use crate::tokens::{hash_secret, random_b64};
use nonce::NonceRefusal;

use super::{AgencyRuntime, Service, internal};

mod authorize;
pub(crate) mod client_attestation;
mod credential;
pub(crate) mod dpop;
mod encryption;
mod key_attestation;
mod mac_nonce;
mod metadata;
pub(crate) mod nonce;
mod par;
pub(crate) mod provider_chain;
pub(crate) mod spent;
mod token;

pub use authorize::Redirect;
pub use client_attestation::{
    AttestedClient, ClientAttestationError, ClientAttestationHeaders, form_client_id,
};
pub use credential::{AccessToken, CredentialBody, CredentialReply};
pub use dpop::DpopAt;
pub use key_attestation::KeyAttestationError;
pub use provider_chain::ChainError;

/// Why an OpenID4VCI request was refused: the OAuth error (RFC 6749 §5.2,
/// OpenID4VCI §6.3, §8.3.1) the wallet is answered with, or a failure of
/// the service itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Oid4vciError {
    /// The request is refused (a bad request): the OAuth error body.
    #[error("{}: {}", .0.error, .0.error_description.as_deref().unwrap_or_default())]
    Refused(ErrorResponse),
    /// No usable access token (`invalid_token`): the description.
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    /// A DPoP proof is missing, refused, or lacks the server's nonce
    /// (RFC 9449 §7.1, §8, §9): the error, and a fresh nonce for the
    /// `DPoP-Nonce` header.
    #[error("{}: {}", .body.error, .body.error_description.as_deref().unwrap_or_default())]
    Dpop {
        /// The OAuth error body (`invalid_dpop_proof`, `use_dpop_nonce`).
        body: ErrorResponse,
        /// A fresh DPoP nonce.
        nonce: String,
        /// At the credential endpoint (401 with `WWW-Authenticate: DPoP`)
        /// rather than the token or PAR endpoint (400).
        resource: bool,
    },
    /// Client authentication failed (`invalid_client`,
    /// `invalid_client_attestation`): the OAuth error body, answered with
    /// 401.
    #[error("{}: {}", .0.error, .0.error_description.as_deref().unwrap_or_default())]
    ClientAuthentication(ErrorResponse),
    /// The service failed, or the agency is unknown.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// A refusal with OAuth error `error` and its description.
pub(crate) fn refused(error: &str, description: impl Into<String>) -> Oid4vciError {
    Oid4vciError::Refused(ErrorResponse::new(error, description))
}

/// The outcome of presenting a pre-authorized code (and PIN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeExchange {
    /// Code and PIN good: a fresh access token, bound to the offer.
    Granted {
        /// The access token (shown once; stored as a hash).
        access_token: String,
        /// Its lifetime, seconds.
        expires_in: i64,
    },
    /// No such code, or it expired, or it was used.
    InvalidCode,
    /// The offer needs a PIN and none was sent.
    TxCodeMissing,
    /// Wrong PIN; this many attempts are left.
    WrongTxCode {
        /// Attempts left before the code locks.
        remaining: i64,
    },
    /// Too many wrong PINs: the offer is locked.
    Locked,
}

impl Service {
    /// Exchanges a pre-authorized code (and PIN) of the agency's offer for
    /// an access token (OpenID4VCI §6).
    pub async fn exchange_code(
        &self,
        agency_id: &str,
        code: &str,
        tx_code: Option<&str>,
        dpop_jkt: Option<&str>,
    ) -> Result<CodeExchange, ServiceError> {
        let access = random_b64(32);
        let t = self.now();
        let ttl = self.config.access_token_ttl_secs;
        let outcome = self
            .store
            .redeem_code(
                agency_id,
                &hash_secret(code),
                tx_code.map(hash_secret).as_deref(),
                self.config.tx_code_max_attempts,
                &hash_secret(&access),
                t + ttl,
                dpop_jkt,
                t,
            )
            .await?;
        let (exchange, metric) = match outcome {
            CodeRedemption::Granted(_) => (
                CodeExchange::Granted {
                    access_token: access,
                    expires_in: ttl,
                },
                Some("granted"),
            ),
            CodeRedemption::InvalidCode => (CodeExchange::InvalidCode, None),
            CodeRedemption::TxCodeMissing => (CodeExchange::TxCodeMissing, None),
            CodeRedemption::WrongTxCode { remaining } => (
                CodeExchange::WrongTxCode { remaining },
                Some("wrong_tx_code"),
            ),
            CodeRedemption::Locked => (CodeExchange::Locked, None),
        };
        if let Some(outcome) = metric {
            self.metrics.add(
                "tongban_oid4vci_tokens_total",
                &[("agency", agency_id), ("outcome", outcome)],
                1,
            );
        }
        Ok(exchange)
    }

    /// A fresh single-use `c_nonce` for the agency (OpenID4VCI §7), valid
    /// for `nonce_ttl_secs`: stateless ([`nonce`]), no database write.
    pub async fn new_nonce(&self, agency_id: &str) -> Result<String, ServiceError> {
        Ok(self
            .nonces
            .mint(agency_id, self.now() + self.config.nonce_ttl_secs))
    }

    /// Spends a `c_nonce`: true if this service minted it for the agency,
    /// it has not expired and was not spent before — and now it is spent.
    pub async fn consume_nonce(&self, agency_id: &str, nonce: &str) -> Result<bool, ServiceError> {
        match self.nonces.spend(agency_id, nonce, self.now()) {
            Ok(()) => Ok(true),
            Err(NonceRefusal::Unknown | NonceRefusal::Expired | NonceRefusal::Spent) => Ok(false),
            Err(NonceRefusal::Busy) => Err(ServiceError::StorageUnavailable {
                detail: "too many nonces were spent in the last minutes to check another; try again shortly".into(),
                cause: None,
            }),
        }
    }

    /// The offer an unexpired, unused access token of the agency belongs to.
    pub async fn offer_for_access_token(
        &self,
        agency_id: &str,
        access_token: &str,
    ) -> Result<Option<OfferRecord>, ServiceError> {
        Ok(self
            .store
            .offer_by_access_token(agency_id, &hash_secret(access_token), self.now())
            .await?)
    }

    /// Signs and stores the credentials of a redeemed offer, one bound to
    /// each of `holders` (one key, or a batch's keys, OpenID4VCI 1.0 §8.2),
    /// in the order given. The copies of a batch each have their own salts,
    /// decoys and status index, share a `batch_id` (the first copy's id),
    /// and only the first carries the licence id; all are stored in one
    /// transaction with the offer's redemption. Beside each key is what a
    /// key attestation covering it stated (`None` without one), recorded on
    /// that copy's row.
    pub async fn redeem_offer(
        &self,
        rt: &AgencyRuntime,
        offer: &OfferRecord,
        holders: &[(PublicKey, Option<KeyStorage>)],
    ) -> Result<Vec<String>, ServiceError> {
        let lt = self
            .catalogue
            .by_vct(&offer.vct)
            .ok_or_else(|| ServiceError::UnknownVct(offer.vct.clone()))?;
        if let Some(exp) = offer.expires_credential_at
            && exp <= self.now()
        {
            return Err(ServiceError::ValidityInvalid(format!(
                "the offered credential would have expired at {exp}; ask the agency for a new offer"
            )));
        }
        let claims: Map<String, Value> = serde_json::from_str(&offer.claims).map_err(internal)?;
        let mut items = Vec::with_capacity(holders.len());
        let mut credentials = Vec::with_capacity(holders.len());
        let mut batch_id: Option<String> = None;
        for (holder, key_storage) in holders {
            let super::issuing::Signed {
                mut record,
                credential,
                status_seq,
                ..
            } = self
                .sign(
                    rt,
                    lt,
                    claims.clone(),
                    holder.clone(),
                    offer.expires_credential_at,
                    offer.not_before_credential,
                    Some(&offer.id),
                )
                .await?;
            if holders.len() > 1 {
                let batch = batch_id.get_or_insert_with(|| record.id.clone());
                if *batch != record.id {
                    record.licence_id = None;
                }
                record.batch_id = Some(batch.clone());
            }
            record.key_storage = key_storage.clone();
            items.push(NewCredential {
                record,
                status_seq,
                actor: format!("oid4vci:{}", offer.id),
            });
            credentials.push(credential);
        }
        self.store
            .redeem_offer(&offer.id, &items, self.now())
            .await?;
        self.metrics.add(
            "tongban_credentials_issued_total",
            &[("agency", &rt.agency.id), ("vct", lt.slug)],
            u64::try_from(items.len()).unwrap_or(u64::MAX),
        );
        Ok(credentials)
    }
}
