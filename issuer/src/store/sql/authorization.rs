//! `impl AuthorizationStore for SqlStore<DB>`: the authorization code
//! flow's statements. Each step is one conditional `UPDATE … RETURNING`,
//! so a `request_uri`, a login `state` and a code are each used once even
//! with several replicas on one PostgreSQL.

use async_trait::async_trait;
use sqlx::{Encode, Executor, FromRow, IntoArguments, Type};

use super::rows::{AuthorizationRow, OfferRow, SubjectRecordRow};
use super::writes::append_audit;
use super::{Dialect, SqlStore};
use crate::audit::PendingEntry;
use crate::store::{
    AuthorizationRecord, AuthorizationStage, AuthorizationStore, AuthorizedOffer, CodeClaim,
    Conflict, LoginBinding, OfferGrant, OfferRecord, OfferState, StoreError, SubjectRecord,
    conflict_or,
};

/// How long a finished request is kept past its deadline, so that a code
/// presented again is recognised (and its token withdrawn).
const KEEP_SECS: i64 = 3600;

#[async_trait]
impl<DB> AuthorizationStore for SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (i64, String): FromRow<'r, DB::Row>,
    for<'r> OfferRow: FromRow<'r, DB::Row>,
    for<'r> AuthorizationRow: FromRow<'r, DB::Row>,
    for<'r> SubjectRecordRow: FromRow<'r, DB::Row>,
{
    async fn pending_authorizations(&self, agency_id: &str, now: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM authorization_requests \
             WHERE agency_id = $1 AND stage IN ($2, $3, $4) AND expires_at >= $5",
        )
        .bind(agency_id)
        .bind(AuthorizationStage::Pushed.code())
        .bind(AuthorizationStage::AtLogin.code())
        .bind(AuthorizationStage::FinishingLogin.code())
        .bind(now)
        .fetch_one(&self.read)
        .await?;
        Ok(n)
    }

    async fn push_authorization(&self, r: &AuthorizationRecord) -> Result<(), StoreError> {
        let mut conn = self.write_conn().await?;
        sqlx::query(
            "INSERT INTO authorization_requests (id, agency_id, request_uri_hash, client_id, \
             redirect_uri, code_challenge, vct, by_details, offer_id, client_state, dpop_jkt, \
             stage, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(r.id.as_str())
        .bind(r.agency_id.as_str())
        .bind(r.request_uri_hash.as_str())
        .bind(r.client_id.as_str())
        .bind(r.redirect_uri.as_str())
        .bind(r.code_challenge.as_str())
        .bind(r.vct.as_str())
        .bind(i64::from(r.by_details))
        .bind(r.offer_id.as_deref())
        .bind(r.client_state.as_deref())
        .bind(r.dpop_jkt.as_deref())
        .bind(AuthorizationStage::Pushed.code())
        .bind(r.expires_at)
        .bind(r.created_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn start_login(
        &self,
        agency_id: &str,
        request_uri_hash: &str,
        client_id: &str,
        login: &LoginBinding,
        now: i64,
    ) -> Result<Option<AuthorizationRecord>, StoreError> {
        let mut conn = self.write_conn().await?;
        let row: Option<AuthorizationRow> = sqlx::query_as(
            "UPDATE authorization_requests SET stage = $4, login_state_hash = $5, \
             login_nonce = $6, login_verifier = $7, expires_at = $8 \
             WHERE agency_id = $1 AND request_uri_hash = $2 AND client_id = $3 \
             AND stage = $9 AND expires_at >= $10 RETURNING *",
        )
        .bind(agency_id)
        .bind(request_uri_hash)
        .bind(client_id)
        .bind(AuthorizationStage::AtLogin.code())
        .bind(login.state_hash.as_str())
        .bind(login.nonce.as_str())
        .bind(login.verifier.as_str())
        .bind(login.expires_at)
        .bind(AuthorizationStage::Pushed.code())
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(AuthorizationRow::into_record).transpose()
    }

    async fn finish_login(
        &self,
        agency_id: &str,
        login_state_hash: &str,
        now: i64,
    ) -> Result<Option<AuthorizationRecord>, StoreError> {
        let mut conn = self.write_conn().await?;
        let row: Option<AuthorizationRow> = sqlx::query_as(
            "UPDATE authorization_requests SET stage = $3 \
             WHERE agency_id = $1 AND login_state_hash = $2 AND stage = $4 \
             AND expires_at >= $5 RETURNING *",
        )
        .bind(agency_id)
        .bind(login_state_hash)
        .bind(AuthorizationStage::FinishingLogin.code())
        .bind(AuthorizationStage::AtLogin.code())
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(AuthorizationRow::into_record).transpose()
    }

    async fn grant_code(
        &self,
        id: &str,
        code_hash: &str,
        subject: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.write_conn().await?;
        let done = sqlx::query(
            "UPDATE authorization_requests SET stage = $2, code_hash = $3, subject = $4, \
             expires_at = $5, login_verifier = NULL WHERE id = $1 AND stage = $6",
        )
        .bind(id)
        .bind(AuthorizationStage::CodeIssued.code())
        .bind(code_hash)
        .bind(subject)
        .bind(expires_at)
        .bind(AuthorizationStage::FinishingLogin.code())
        .execute(&mut *conn)
        .await?;
        if DB::rows_affected(&done) != 1 {
            return Err(StoreError::InvalidTransition(
                "the authorization request is no longer at the login".into(),
            ));
        }
        Ok(())
    }

    async fn refuse_authorization(&self, id: &str) -> Result<(), StoreError> {
        let mut conn = self.write_conn().await?;
        sqlx::query(
            "UPDATE authorization_requests SET stage = $2, login_verifier = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(AuthorizationStage::Refused.code())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn claim_code(
        &self,
        agency_id: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<CodeClaim, StoreError> {
        let mut conn = self.write_conn().await?;
        let row: Option<AuthorizationRow> = sqlx::query_as(
            "UPDATE authorization_requests SET stage = $3 \
             WHERE agency_id = $1 AND code_hash = $2 AND stage = $4 AND expires_at >= $5 \
             RETURNING *",
        )
        .bind(agency_id)
        .bind(code_hash)
        .bind(AuthorizationStage::Redeemed.code())
        .bind(AuthorizationStage::CodeIssued.code())
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return Ok(CodeClaim::Claimed(Box::new(row.into_record()?)));
        }
        let spent: Option<AuthorizationRow> = sqlx::query_as(
            "SELECT * FROM authorization_requests \
             WHERE agency_id = $1 AND code_hash = $2 AND stage = $3",
        )
        .bind(agency_id)
        .bind(code_hash)
        .bind(AuthorizationStage::Redeemed.code())
        .fetch_optional(&self.read)
        .await?;
        Ok(match spent {
            Some(row) => CodeClaim::Reused(Box::new(row.into_record()?)),
            None => CodeClaim::Unknown,
        })
    }

    async fn authorized_token(
        &self,
        auth: &AuthorizationRecord,
        offer: AuthorizedOffer<'_>,
        subject: &str,
        access_token_hash: &str,
        token_expires_at: i64,
        dpop_jkt: Option<&str>,
        now: i64,
    ) -> Result<Option<OfferRecord>, StoreError> {
        let mut tx = self.begin_write().await?;
        let offer_id = match offer {
            AuthorizedOffer::Existing(id) => {
                let done = sqlx::query(
                    "UPDATE offers SET state = $3, access_token_hash = $4, token_expires_at = $5, \
                     subject = $6, dpop_jkt = $7 \
                     WHERE id = $1 AND agency_id = $2 AND state = $8 AND grant_type = $9 \
                     AND code_expires_at >= $10",
                )
                .bind(id)
                .bind(auth.agency_id.as_str())
                .bind(OfferState::TokenIssued.code())
                .bind(access_token_hash)
                .bind(token_expires_at)
                .bind(subject)
                .bind(dpop_jkt)
                .bind(OfferState::Pending.code())
                .bind(OfferGrant::IssuerInitiatedCode.code())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if DB::rows_affected(&done) != 1 {
                    return Ok(None);
                }
                id.to_owned()
            }
            AuthorizedOffer::New(o) => {
                sqlx::query(
                    "INSERT INTO offers (id, agency_id, vct, claims, credential_exp, \
                     credential_nbf, code_hash, tx_code_hash, tx_code_length, tx_attempts, \
                     code_expires_at, state, access_token_hash, token_expires_at, credential_id, \
                     actor, created_at, grant_type, subject, issuer_state_hash, dpop_jkt) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, 0, $8, $9, $10, $11, NULL, \
                     $12, $13, $14, $15, NULL, $16)",
                )
                .bind(o.id.as_str())
                .bind(o.agency_id.as_str())
                .bind(o.vct.as_str())
                .bind(o.claims.as_str())
                .bind(o.expires_credential_at)
                .bind(o.not_before_credential)
                .bind(o.code_hash.as_str())
                .bind(o.code_expires_at)
                .bind(OfferState::TokenIssued.code())
                .bind(access_token_hash)
                .bind(token_expires_at)
                .bind(o.actor.as_str())
                .bind(o.created_at)
                .bind(OfferGrant::WalletInitiatedCode.code())
                .bind(subject)
                .bind(dpop_jkt)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_or(e, Conflict::Offer))?;
                o.id.clone()
            }
        };
        sqlx::query("UPDATE authorization_requests SET offer_id = $2 WHERE id = $1")
            .bind(auth.id.as_str())
            .bind(offer_id.as_str())
            .execute(&mut *tx)
            .await?;
        let entry = PendingEntry::new(
            format!("oid4vci:{offer_id}"),
            "offer.token",
            offer_id.clone(),
            serde_json::json!({
                "token_expires_at": token_expires_at, "dpop": dpop_jkt.is_some(),
                "grant": "authorization_code", "vct": auth.vct,
            }),
        );
        append_audit(&mut *tx, &auth.agency_id, vec![entry], now).await?;
        let row: OfferRow = sqlx::query_as("SELECT * FROM offers WHERE id = $1")
            .bind(offer_id.as_str())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        row.into_offer().map(Some)
    }

    async fn revoke_authorization_token(
        &self,
        auth: &AuthorizationRecord,
        now: i64,
    ) -> Result<u64, StoreError> {
        let Some(offer_id) = auth.offer_id.as_deref() else {
            return Ok(0);
        };
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE offers SET state = $3, claims = '' WHERE id = $1 AND agency_id = $2 \
             AND state = $4 AND grant_type <> $5",
        )
        .bind(offer_id)
        .bind(auth.agency_id.as_str())
        .bind(OfferState::Expired.code())
        .bind(OfferState::TokenIssued.code())
        .bind(OfferGrant::PreAuthorized.code())
        .execute(&mut *tx)
        .await?;
        let n = DB::rows_affected(&done);
        if n > 0 {
            let entry = PendingEntry::new(
                format!("oid4vci:{offer_id}"),
                "offer.token_withdrawn",
                offer_id,
                serde_json::json!({"reason": "authorization code presented twice"}),
            );
            append_audit(&mut *tx, &auth.agency_id, vec![entry], now).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn offer_by_issuer_state(
        &self,
        agency_id: &str,
        issuer_state_hash: &str,
        now: i64,
    ) -> Result<Option<OfferRecord>, StoreError> {
        let row: Option<OfferRow> = sqlx::query_as(
            "SELECT * FROM offers WHERE agency_id = $1 AND issuer_state_hash = $2 \
             AND grant_type = $3 AND state = $4 AND code_expires_at >= $5",
        )
        .bind(agency_id)
        .bind(issuer_state_hash)
        .bind(OfferGrant::IssuerInitiatedCode.code())
        .bind(OfferState::Pending.code())
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        row.map(OfferRow::into_offer).transpose()
    }

    async fn offer_by_id(
        &self,
        agency_id: &str,
        offer_id: &str,
    ) -> Result<Option<OfferRecord>, StoreError> {
        let row: Option<OfferRow> =
            sqlx::query_as("SELECT * FROM offers WHERE agency_id = $1 AND id = $2")
                .bind(agency_id)
                .bind(offer_id)
                .fetch_optional(&self.read)
                .await?;
        row.map(OfferRow::into_offer).transpose()
    }

    async fn put_subject_record(&self, r: &SubjectRecord) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM subject_records WHERE agency_id = $1 AND subject = $2 AND vct = $3",
        )
        .bind(r.agency_id.as_str())
        .bind(r.subject.as_str())
        .bind(r.vct.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO subject_records (agency_id, subject, vct, claims, credential_exp, \
             credential_nbf, expires_at, actor, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(r.agency_id.as_str())
        .bind(r.subject.as_str())
        .bind(r.vct.as_str())
        .bind(r.claims.as_str())
        .bind(r.credential_exp)
        .bind(r.credential_nbf)
        .bind(r.expires_at)
        .bind(r.actor.as_str())
        .bind(r.created_at)
        .execute(&mut *tx)
        .await?;
        let entry = PendingEntry::new(
            r.actor.clone(),
            "record.put",
            r.subject.clone(),
            serde_json::json!({"vct": r.vct, "expires_at": r.expires_at}),
        );
        append_audit(&mut *tx, &r.agency_id, vec![entry], r.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn subject_record(
        &self,
        agency_id: &str,
        subject: &str,
        vct: &str,
        now: i64,
    ) -> Result<Option<SubjectRecord>, StoreError> {
        let row: Option<SubjectRecordRow> = sqlx::query_as(
            "SELECT * FROM subject_records WHERE agency_id = $1 AND subject = $2 AND vct = $3 \
             AND expires_at >= $4",
        )
        .bind(agency_id)
        .bind(subject)
        .bind(vct)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(SubjectRecordRow::into_record))
    }

    async fn purge_authorizations(&self, now: i64) -> Result<u64, StoreError> {
        let mut conn = self.write_conn().await?;
        let requests = sqlx::query("DELETE FROM authorization_requests WHERE expires_at < $1")
            .bind(now - KEEP_SECS)
            .execute(&mut *conn)
            .await?;
        let records = sqlx::query("DELETE FROM subject_records WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(DB::rows_affected(&requests) + DB::rows_affected(&records))
    }
}
