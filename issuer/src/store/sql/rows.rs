//! One `FromRow` struct per table the store reads, each turned into the
//! store's public type by `into_*`. The structs mirror the columns (names
//! and SQL-level types); the conversions hold what SQL cannot say: JSON
//! text, scopes, states as enums. A value this version does not know is
//! [`StoreError::Corrupt`], never a panic.

use crate::audit::AuditEntry;
use crate::store::{
    Agency, AuthorizationRecord, AuthorizationStage, CredentialRecord, CredentialStatus,
    OfferGrant, OfferRecord, OfferState, StoreError, StoredKey, SubjectRecord, TokenRecord,
};
use crate::tokens::Scopes;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

/// A row of `agencies` (the counters `next_status_idx`, `audit_seq` and
/// `audit_head` are read by the queries that advance them).
#[derive(sqlx::FromRow)]
pub struct AgencyRow {
    id: String,
    iss: String,
    name_zh: String,
    name_en: String,
    region: String,
    vcts: String,
    encryption_required: i64,
    status_list_size: i64,
    index_key: String,
    created_at: i64,
    enc_kid: String,
    enc_public_jwk: String,
    enc_sealed: Vec<u8>,
}

impl AgencyRow {
    pub(super) fn into_agency(self) -> Result<Agency, StoreError> {
        Ok(Agency {
            id: self.id,
            iss: self.iss,
            name_zh: self.name_zh,
            name_en: self.name_en,
            region: self.region,
            vcts: serde_json::from_str(&self.vcts).map_err(|_| corrupt("agencies.vcts"))?,
            encryption_required: self.encryption_required != 0,
            status_list_size: self.status_list_size,
            index_key: self.index_key,
            created_at: self.created_at,
            enc_kid: self.enc_kid,
            enc_public_jwk: self.enc_public_jwk,
            enc_sealed: self.enc_sealed,
        })
    }
}

/// A row of `signing_keys`.
#[derive(sqlx::FromRow)]
pub struct KeyRow {
    agency_id: String,
    kid: String,
    public_jwk: String,
    sealed: Vec<u8>,
    created_at: i64,
    retired_at: Option<i64>,
    #[sqlx(default)]
    x5c: Option<String>,
}

impl KeyRow {
    pub(super) fn into_key(self) -> StoredKey {
        StoredKey {
            agency_id: self.agency_id,
            kid: self.kid,
            public_jwk: self.public_jwk,
            sealed: self.sealed,
            created_at: self.created_at,
            retired_at: self.retired_at,
            x5c: self.x5c,
        }
    }
}

/// A row of `admin_tokens` (its `hash` is only ever a search key).
#[derive(sqlx::FromRow)]
pub struct TokenRow {
    id: String,
    agency_id: String,
    scopes: String,
    label: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl TokenRow {
    pub(super) fn into_token(self) -> Result<TokenRecord, StoreError> {
        Ok(TokenRecord {
            id: self.id,
            agency_id: self.agency_id,
            scopes: Scopes::parse(&self.scopes).map_err(|_| corrupt("admin_tokens.scopes"))?,
            label: self.label,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        })
    }
}

/// A row of `credentials`, with its `row_id` (the listing cursor).
#[derive(sqlx::FromRow)]
pub struct CredentialRow {
    row_id: i64,
    id: String,
    agency_id: String,
    vct: String,
    licence_id: Option<String>,
    status_list: i64,
    status_idx: i64,
    status: i64,
    holder_thumbprint: Option<String>,
    kid: String,
    issued_at: i64,
    expires_at: Option<i64>,
    offer_id: Option<String>,
    batch_id: Option<String>,
    key_attestation: Option<String>,
}

impl CredentialRow {
    /// The record with its cursor.
    pub(super) fn into_record(self) -> Result<(i64, CredentialRecord), StoreError> {
        let status = CredentialStatus::from_code(self.status)
            .ok_or_else(|| corrupt("credentials.status"))?;
        Ok((
            self.row_id,
            CredentialRecord {
                id: self.id,
                agency_id: self.agency_id,
                vct: self.vct,
                licence_id: self.licence_id,
                status_list: self.status_list,
                status_idx: self.status_idx,
                status,
                holder_thumbprint: self.holder_thumbprint,
                kid: self.kid,
                issued_at: self.issued_at,
                expires_at: self.expires_at,
                offer_id: self.offer_id,
                batch_id: self.batch_id,
                key_storage: self
                    .key_attestation
                    .map(|j| serde_json::from_str(&j))
                    .transpose()
                    .map_err(|_| corrupt("credentials.key_attestation"))?,
            },
        ))
    }
}

/// A row of `offers`.
#[derive(sqlx::FromRow)]
pub struct OfferRow {
    id: String,
    agency_id: String,
    vct: String,
    claims: String,
    credential_exp: Option<i64>,
    credential_nbf: Option<i64>,
    code_hash: String,
    tx_code_hash: Option<String>,
    tx_code_length: Option<i64>,
    tx_attempts: i64,
    code_expires_at: i64,
    state: i64,
    access_token_hash: Option<String>,
    token_expires_at: Option<i64>,
    credential_id: Option<String>,
    actor: String,
    created_at: i64,
    grant_type: i64,
    subject: Option<String>,
    issuer_state_hash: Option<String>,
    dpop_jkt: Option<String>,
}

impl OfferRow {
    pub(super) fn into_offer(self) -> Result<OfferRecord, StoreError> {
        Ok(OfferRecord {
            id: self.id,
            agency_id: self.agency_id,
            vct: self.vct,
            claims: self.claims,
            expires_credential_at: self.credential_exp,
            not_before_credential: self.credential_nbf,
            code_hash: self.code_hash,
            tx_code_hash: self.tx_code_hash,
            tx_code_length: self.tx_code_length,
            tx_attempts: self.tx_attempts,
            code_expires_at: self.code_expires_at,
            state: OfferState::from_code(self.state).ok_or_else(|| corrupt("offers.state"))?,
            access_token_hash: self.access_token_hash,
            token_expires_at: self.token_expires_at,
            credential_id: self.credential_id,
            actor: self.actor,
            created_at: self.created_at,
            grant: OfferGrant::from_code(self.grant_type)
                .ok_or_else(|| corrupt("offers.grant_type"))?,
            subject: self.subject,
            issuer_state_hash: self.issuer_state_hash,
            dpop_jkt: self.dpop_jkt,
        })
    }
}

/// A row of `authorization_requests`.
#[derive(sqlx::FromRow)]
pub struct AuthorizationRow {
    id: String,
    agency_id: String,
    request_uri_hash: String,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    vct: String,
    by_details: i64,
    offer_id: Option<String>,
    client_state: Option<String>,
    dpop_jkt: Option<String>,
    stage: i64,
    expires_at: i64,
    login_nonce: Option<String>,
    login_verifier: Option<String>,
    subject: Option<String>,
    created_at: i64,
}

impl AuthorizationRow {
    pub(super) fn into_record(self) -> Result<AuthorizationRecord, StoreError> {
        Ok(AuthorizationRecord {
            id: self.id,
            agency_id: self.agency_id,
            request_uri_hash: self.request_uri_hash,
            client_id: self.client_id,
            redirect_uri: self.redirect_uri,
            code_challenge: self.code_challenge,
            vct: self.vct,
            by_details: self.by_details != 0,
            offer_id: self.offer_id,
            client_state: self.client_state,
            dpop_jkt: self.dpop_jkt,
            stage: AuthorizationStage::from_code(self.stage)
                .ok_or_else(|| corrupt("authorization_requests.stage"))?,
            expires_at: self.expires_at,
            login_nonce: self.login_nonce,
            login_verifier: self.login_verifier,
            subject: self.subject,
            created_at: self.created_at,
        })
    }
}

/// A row of `subject_records`.
#[derive(sqlx::FromRow)]
pub struct SubjectRecordRow {
    agency_id: String,
    subject: String,
    vct: String,
    claims: String,
    credential_exp: Option<i64>,
    credential_nbf: Option<i64>,
    expires_at: i64,
    actor: String,
    created_at: i64,
}

impl SubjectRecordRow {
    pub(super) fn into_record(self) -> SubjectRecord {
        SubjectRecord {
            agency_id: self.agency_id,
            subject: self.subject,
            vct: self.vct,
            claims: self.claims,
            credential_exp: self.credential_exp,
            credential_nbf: self.credential_nbf,
            expires_at: self.expires_at,
            actor: self.actor,
            created_at: self.created_at,
        }
    }
}

/// A row of `audit_log`.
#[derive(sqlx::FromRow)]
pub struct AuditRow {
    agency_id: String,
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    subject: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    pub(super) fn into_entry(self) -> AuditEntry {
        AuditEntry {
            chain: self.agency_id,
            seq: self.seq,
            at: self.at,
            actor: self.actor,
            action: self.action,
            subject: self.subject,
            detail: self.detail,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential_row(status: i64) -> CredentialRow {
        CredentialRow {
            row_id: 7,
            id: "c1".into(),
            agency_id: "demo".into(),
            vct: "v".into(),
            licence_id: None,
            status_list: 0,
            status_idx: 3,
            status,
            holder_thumbprint: None,
            kid: "k".into(),
            issued_at: 1,
            expires_at: None,
            offer_id: None,
            batch_id: None,
            key_attestation: None,
        }
    }

    fn offer_row(state: i64) -> OfferRow {
        OfferRow {
            id: "o1".into(),
            agency_id: "demo".into(),
            vct: "v".into(),
            claims: "{}".into(),
            credential_exp: None,
            credential_nbf: None,
            code_hash: "h".into(),
            tx_code_hash: None,
            tx_code_length: None,
            tx_attempts: 0,
            code_expires_at: 1,
            state,
            access_token_hash: None,
            token_expires_at: None,
            credential_id: None,
            actor: "a".into(),
            created_at: 1,
            grant_type: 0,
            subject: None,
            issuer_state_hash: None,
            dpop_jkt: None,
        }
    }

    #[test]
    fn a_stored_status_maps_to_its_enum_and_keeps_its_cursor() {
        let (cursor, rec) = credential_row(CredentialStatus::Suspended.code())
            .into_record()
            .unwrap();
        assert_eq!(cursor, 7);
        assert_eq!(rec.status, CredentialStatus::Suspended);
    }

    #[test]
    fn an_unknown_credential_status_is_a_corrupt_row_not_a_panic() {
        let err = credential_row(9).into_record().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(what) if what == "credentials.status"));
    }

    #[test]
    fn an_unknown_offer_state_is_a_corrupt_row_not_a_panic() {
        assert_eq!(
            offer_row(OfferState::Locked.code())
                .into_offer()
                .unwrap()
                .state,
            OfferState::Locked
        );
        let err = offer_row(-1).into_offer().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(what) if what == "offers.state"));
    }
}
