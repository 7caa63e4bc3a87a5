//! `impl Store for SqlStore<DB>`: every query the store runs, in trait
//! order.

use async_trait::async_trait;
use sqlx::{Encode, Executor, FromRow, IntoArguments, Type};

use super::rows::{
    AgencyRow, AuditRow, AuthorizationRow, CredentialRow, KeyRow, OfferRow, SubjectRecordRow,
    TokenRow,
};
use super::statement::Statement;
use super::writes::{
    LICENCE_ID_TAKEN, append_audit, insert_credential_rows, insert_signing_key, issue_entry,
};
use super::{Dialect, GroupCommit as _, SqlStore};
use crate::audit::{AuditEntry, GENESIS, PendingEntry};
use crate::store::{
    Agency, Backend, CodeRedemption, Conflict, CredentialFilter, CredentialRecord,
    CredentialStatus, FreshList, NewCredential, OfferGrant, OfferRecord, OfferState, StatusChange,
    Store, StoreError, StoredKey, TokenRecord, conflict_or,
};

#[async_trait]
impl<DB> Store for SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (i64, i64): FromRow<'r, DB::Row>,
    for<'r> (i64, String): FromRow<'r, DB::Row>,
    for<'r> (String, i64, i64): FromRow<'r, DB::Row>,
    for<'r> AgencyRow: FromRow<'r, DB::Row>,
    for<'r> KeyRow: FromRow<'r, DB::Row>,
    for<'r> TokenRow: FromRow<'r, DB::Row>,
    for<'r> CredentialRow: FromRow<'r, DB::Row>,
    for<'r> OfferRow: FromRow<'r, DB::Row>,
    for<'r> AuditRow: FromRow<'r, DB::Row>,
    for<'r> AuthorizationRow: FromRow<'r, DB::Row>,
    for<'r> SubjectRecordRow: FromRow<'r, DB::Row>,
{
    fn backend(&self) -> Backend {
        DB::BACKEND
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.groups.check_running()?;
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn create_agency(
        &self,
        a: &Agency,
        key: &StoredKey,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO agencies (id, iss, name_zh, name_en, region, vcts, encryption_required, \
             created_at, audit_head, enc_kid, enc_public_jwk, enc_sealed, status_list_size, \
             index_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(a.id.as_str())
        .bind(a.iss.as_str())
        .bind(a.name_zh.as_str())
        .bind(a.name_en.as_str())
        .bind(a.region.as_str())
        .bind(serde_json::to_string(&a.vcts).unwrap_or_default())
        .bind(i64::from(a.encryption_required))
        .bind(a.created_at)
        .bind(GENESIS)
        .bind(a.enc_kid.as_str())
        .bind(a.enc_public_jwk.as_str())
        .bind(a.enc_sealed.as_slice())
        .bind(a.status_list_size)
        .bind(a.index_key.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, Conflict::Agency))?;
        insert_signing_key(&mut *tx, key).await?;
        let entries = vec![
            PendingEntry::new(
                actor,
                "agency.create",
                a.id.clone(),
                serde_json::json!({
                    "iss": a.iss, "name_zh": a.name_zh, "name_en": a.name_en, "region": a.region,
                    "vcts": a.vcts, "encryption_required": a.encryption_required,
                    "enc_kid": a.enc_kid,
                }),
            ),
            PendingEntry::new(
                actor,
                "key.create",
                key.kid.clone(),
                serde_json::json!({"public_jwk": key.public_jwk}),
            ),
        ];
        append_audit(&mut *tx, &a.id, entries, a.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_agency(&self, a: &Agency, actor: &str, at: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE agencies \
             SET name_zh = $2, name_en = $3, region = $4, vcts = $5, encryption_required = $6 \
             WHERE id = $1",
        )
        .bind(a.id.as_str())
        .bind(a.name_zh.as_str())
        .bind(a.name_en.as_str())
        .bind(a.region.as_str())
        .bind(serde_json::to_string(&a.vcts).unwrap_or_default())
        .bind(i64::from(a.encryption_required))
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound(format!("agency {}", a.id)));
        }
        let entry = PendingEntry::new(
            actor,
            "agency.update",
            a.id.clone(),
            serde_json::json!({
                "name_zh": a.name_zh, "name_en": a.name_en, "region": a.region,
                "vcts": a.vcts, "encryption_required": a.encryption_required,
            }),
        );
        append_audit(&mut *tx, &a.id, vec![entry], at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_agencies(&self) -> Result<Vec<Agency>, StoreError> {
        let rows: Vec<AgencyRow> = sqlx::query_as("SELECT * FROM agencies ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(AgencyRow::into_agency).collect()
    }

    async fn agency(&self, id: &str) -> Result<Agency, StoreError> {
        let row: AgencyRow = sqlx::query_as("SELECT * FROM agencies WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("agency {id}")))?;
        row.into_agency()
    }

    async fn keys(&self, agency_id: &str) -> Result<Vec<StoredKey>, StoreError> {
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT * FROM signing_keys WHERE agency_id = $1 \
             ORDER BY retired_at IS NULL, retired_at, created_at, kid",
        )
        .bind(agency_id)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(KeyRow::into_key).collect())
    }

    async fn rotate_key(&self, key: &StoredKey, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE signing_keys SET retired_at = $2 WHERE agency_id = $1 AND retired_at IS NULL",
        )
        .bind(key.agency_id.as_str())
        .bind(key.created_at)
        .execute(&mut *tx)
        .await?;
        insert_signing_key(&mut *tx, key)
            .await
            .map_err(|e| conflict_or(e, Conflict::KeyId))?;
        let entry = PendingEntry::new(
            actor,
            "key.rotate",
            key.kid.clone(),
            serde_json::json!({"public_jwk": key.public_jwk}),
        );
        append_audit(&mut *tx, &key.agency_id, vec![entry], key.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_key_certificate(
        &self,
        agency_id: &str,
        kid: &str,
        x5c: &str,
        actor: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("UPDATE signing_keys SET x5c = $3 WHERE agency_id = $1 AND kid = $2")
                .bind(agency_id)
                .bind(kid)
                .bind(x5c)
                .execute(&mut *tx)
                .await?;
        if DB::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound(format!(
                "key {kid} of agency {agency_id}"
            )));
        }
        let entry = PendingEntry::new(
            actor,
            "key.certificate",
            kid.to_owned(),
            serde_json::json!({"x5c": x5c}),
        );
        append_audit(&mut *tx, agency_id, vec![entry], at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_token(
        &self,
        t: &TokenRecord,
        hash: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO admin_tokens (id, agency_id, hash, scopes, label, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        )
        .bind(t.id.as_str())
        .bind(t.agency_id.as_str())
        .bind(hash)
        .bind(t.scopes.to_string())
        .bind(t.label.as_str())
        .bind(t.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, Conflict::Token))?;
        let entry = PendingEntry::new(
            actor,
            "token.create",
            t.id.clone(),
            serde_json::json!({"scopes": t.scopes, "label": t.label}),
        );
        append_audit(&mut *tx, &t.agency_id, vec![entry], t.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenRow> =
            sqlx::query_as("SELECT * FROM admin_tokens WHERE hash = $1 AND revoked_at IS NULL")
                .bind(hash)
                .fetch_optional(&self.read)
                .await?;
        row.map(TokenRow::into_token).transpose()
    }

    async fn list_tokens(&self, agency_id: &str) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(
            "SELECT * FROM admin_tokens WHERE agency_id = $1 ORDER BY created_at, id",
        )
        .bind(agency_id)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(TokenRow::into_token).collect()
    }

    async fn revoke_token(
        &self,
        agency_id: &str,
        token_id: &str,
        at: i64,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE admin_tokens SET revoked_at = $3 \
             WHERE agency_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(agency_id)
        .bind(token_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound(format!(
                "live token {token_id} of agency {agency_id}"
            )));
        }
        let entry = PendingEntry::new(actor, "token.revoke", token_id, serde_json::json!({}));
        append_audit(&mut *tx, agency_id, vec![entry], at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reserve_status_indices(&self, agency_id: &str, n: i64) -> Result<i64, StoreError> {
        let mut conn = self.write_conn().await?;
        let (next,): (i64,) = sqlx::query_as(
            "UPDATE agencies SET next_status_idx = next_status_idx + $2 WHERE id = $1 \
             RETURNING next_status_idx",
        )
        .bind(agency_id)
        .bind(n)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("agency {agency_id}")))?;
        Ok(next - n)
    }

    async fn insert_credentials(
        &self,
        items: &[NewCredential],
        at: i64,
    ) -> Result<Vec<Result<(), Conflict>>, StoreError> {
        self.groups.insert(items, at).await
    }

    async fn licence_id_exists(
        &self,
        agency_id: &str,
        licence_id: &str,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(LICENCE_ID_TAKEN)
            .bind(agency_id)
            .bind(licence_id)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.is_some())
    }

    async fn credential(&self, agency_id: &str, id: &str) -> Result<CredentialRecord, StoreError> {
        let row: CredentialRow =
            sqlx::query_as("SELECT * FROM credentials WHERE agency_id = $1 AND id = $2")
                .bind(agency_id)
                .bind(id)
                .fetch_optional(&self.read)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("credential {id}")))?;
        Ok(row.into_record()?.1)
    }

    async fn list_credentials(
        &self,
        agency_id: &str,
        f: &CredentialFilter,
    ) -> Result<Vec<(i64, CredentialRecord)>, StoreError> {
        let mut select = Statement::new(
            "SELECT * FROM credentials WHERE agency_id = ",
            DB::PLACEHOLDERS,
        );
        select.push_bind(agency_id);
        if let Some(v) = &f.vct {
            select.push(" AND vct = ").push_bind(v.as_str());
        }
        if let Some(s) = f.status {
            select.push(" AND status = ").push_bind(s.code());
        }
        if let Some(l) = &f.licence_id {
            // The licence's copies: only a batch's first copy carries the
            // licence id; the others name it as their batch.
            select
                .push(" AND (licence_id = ")
                .push_bind(l.as_str())
                .push(" OR batch_id IN (SELECT id FROM credentials WHERE agency_id = ")
                .push_bind(agency_id)
                .push(" AND licence_id = ")
                .push_bind(l.as_str())
                .push("))");
        }
        if let Some(t) = f.issued_from {
            select.push(" AND issued_at >= ").push_bind(t);
        }
        if let Some(t) = f.issued_until {
            select.push(" AND issued_at < ").push_bind(t);
        }
        if let Some(a) = f.after {
            select.push(" AND row_id > ").push_bind(a);
        }
        select
            .push(" ORDER BY row_id LIMIT ")
            .push_bind(f.limit.clamp(1, 1000));
        let rows: Vec<CredentialRow> = select.query_as().fetch_all(&self.read).await?;
        rows.into_iter().map(CredentialRow::into_record).collect()
    }

    async fn change_status(
        &self,
        agency_id: &str,
        id: &str,
        change: StatusChange,
        reason: Option<&str>,
        actor: &str,
        at: i64,
    ) -> Result<CredentialRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let row: CredentialRow =
            sqlx::query_as("SELECT * FROM credentials WHERE agency_id = $1 AND id = $2")
                .bind(agency_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("credential {id}")))?;
        let (_, mut rec) = row.into_record()?;
        let (from, to) = change.transition();
        if !from.contains(&rec.status) {
            return Err(StoreError::InvalidTransition(format!(
                "the credential is {} and cannot be {}",
                rec.status.as_str(),
                match change {
                    StatusChange::Revoke => "revoked",
                    StatusChange::Suspend => "suspended",
                    StatusChange::Reinstate => "reinstated",
                }
            )));
        }
        // The copies a change applies to: the credential alone, or every
        // copy of its batch (they share one status, changed together).
        let copies: Vec<CredentialRecord> = match &rec.batch_id {
            None => vec![rec.clone()],
            Some(batch) => {
                let rows: Vec<CredentialRow> = sqlx::query_as(
                    "SELECT * FROM credentials WHERE agency_id = $1 AND batch_id = $2 \
                     ORDER BY row_id",
                )
                .bind(agency_id)
                .bind(batch.as_str())
                .fetch_all(&mut *tx)
                .await?;
                rows.into_iter()
                    .map(|r| r.into_record().map(|(_, c)| c))
                    .collect::<Result<_, _>>()?
            }
        };
        let done = match &rec.batch_id {
            None => {
                sqlx::query(
                    "UPDATE credentials SET status = $4 \
                     WHERE agency_id = $1 AND id = $2 AND status = $3",
                )
                .bind(agency_id)
                .bind(id)
                .bind(rec.status.code())
                .bind(to.code())
                .execute(&mut *tx)
                .await?
            }
            Some(batch) => {
                sqlx::query(
                    "UPDATE credentials SET status = $4 \
                     WHERE agency_id = $1 AND batch_id = $2 AND status = $3",
                )
                .bind(agency_id)
                .bind(batch.as_str())
                .bind(rec.status.code())
                .bind(to.code())
                .execute(&mut *tx)
                .await?
            }
        };
        if DB::rows_affected(&done) != u64::try_from(copies.len()).unwrap_or(u64::MAX) {
            return Err(StoreError::InvalidTransition(
                "the credential changed meanwhile; try again".into(),
            ));
        }
        let entries = copies
            .iter()
            .map(|c| {
                let mut detail = serde_json::json!({
                    "from": rec.status.as_str(), "to": to.as_str(), "reason": reason,
                    "status_list": c.status_list, "status_idx": c.status_idx,
                });
                if let Some(batch) = &c.batch_id {
                    detail["batch"] = batch.as_str().into();
                }
                PendingEntry::new(actor, change.action(), c.id.as_str(), detail)
            })
            .collect();
        append_audit(&mut *tx, agency_id, entries, at).await?;
        tx.commit().await?;
        rec.status = to;
        Ok(rec)
    }

    async fn list_statuses(
        &self,
        agency_id: &str,
        list: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT status_idx, status FROM credentials \
             WHERE agency_id = $1 AND status_list = $2 AND status <> $3",
        )
        .bind(agency_id)
        .bind(list)
        .bind(CredentialStatus::Valid.code())
        .fetch_all(&self.read)
        .await?;
        Ok(rows)
    }

    async fn status_list_count(&self, agency_id: &str) -> Result<i64, StoreError> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(status_list) + 1, 0) FROM credentials WHERE agency_id = $1",
        )
        .bind(agency_id)
        .fetch_one(&self.read)
        .await?;
        Ok(count)
    }

    async fn create_offer(&self, o: &OfferRecord) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO offers (id, agency_id, vct, claims, credential_exp, credential_nbf, \
             code_hash, tx_code_hash, tx_code_length, tx_attempts, code_expires_at, state, \
             access_token_hash, token_expires_at, credential_id, actor, created_at, \
             grant_type, subject, issuer_state_hash) \
             VALUES ($1, $2, $3, $4, $5, $12, $6, $7, $8, 0, $9, $13, NULL, NULL, NULL, $10, $11, \
             $14, $15, $16)",
        )
        .bind(o.id.as_str())
        .bind(o.agency_id.as_str())
        .bind(o.vct.as_str())
        .bind(o.claims.as_str())
        .bind(o.expires_credential_at)
        .bind(o.code_hash.as_str())
        .bind(o.tx_code_hash.as_deref())
        .bind(o.tx_code_length)
        .bind(o.code_expires_at)
        .bind(o.actor.as_str())
        .bind(o.created_at)
        .bind(o.not_before_credential)
        .bind(OfferState::Pending.code())
        .bind(o.grant.code())
        .bind(o.subject.as_deref())
        .bind(o.issuer_state_hash.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, Conflict::Offer))?;
        let entry = PendingEntry::new(
            o.actor.clone(),
            "offer.create",
            o.id.clone(),
            serde_json::json!({
                "vct": o.vct, "tx_code": o.tx_code_hash.is_some(),
                "code_expires_at": o.code_expires_at, "grant": o.grant,
            }),
        );
        append_audit(&mut *tx, &o.agency_id, vec![entry], o.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

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
    ) -> Result<CodeRedemption, StoreError> {
        // A code nobody was given is answered from a reader: strangers
        // guessing codes never queue on the single SQLite writer.
        let (known,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM offers WHERE agency_id = $1 AND code_hash = $2 \
                 AND grant_type = $3",
        )
        .bind(agency_id)
        .bind(code_hash)
        .bind(OfferGrant::PreAuthorized.code())
        .fetch_one(&self.read)
        .await?;
        if known == 0 {
            return Ok(CodeRedemption::InvalidCode);
        }
        let mut tx = self.begin_write().await?;
        let row: Option<OfferRow> =
            sqlx::query_as("SELECT * FROM offers WHERE agency_id = $1 AND code_hash = $2")
                .bind(agency_id)
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(row) = row else {
            return Ok(CodeRedemption::InvalidCode);
        };
        let offer = row.into_offer()?;
        match offer.state {
            OfferState::Locked => return Ok(CodeRedemption::Locked),
            OfferState::Pending if offer.code_expires_at >= now => {}
            _ => return Ok(CodeRedemption::InvalidCode),
        }
        if let Some(expected) = &offer.tx_code_hash {
            let Some(given) = tx_code_hash else {
                return Ok(CodeRedemption::TxCodeMissing);
            };
            if given != expected {
                let attempts: Option<(i64,)> = sqlx::query_as(
                    "UPDATE offers SET tx_attempts = tx_attempts + 1 \
                     WHERE id = $1 AND state = $2 RETURNING tx_attempts",
                )
                .bind(offer.id.as_str())
                .bind(OfferState::Pending.code())
                .fetch_optional(&mut *tx)
                .await?;
                let Some((attempts,)) = attempts else {
                    return Ok(CodeRedemption::InvalidCode);
                };
                let locked = attempts >= max_attempts;
                if locked {
                    sqlx::query("UPDATE offers SET state = $2, claims = '' WHERE id = $1")
                        .bind(offer.id.as_str())
                        .bind(OfferState::Locked.code())
                        .execute(&mut *tx)
                        .await?;
                }
                let entry = PendingEntry::new(
                    format!("oid4vci:{}", offer.id),
                    if locked {
                        "offer.lock"
                    } else {
                        "offer.wrong_tx_code"
                    },
                    offer.id.clone(),
                    serde_json::json!({"attempts": attempts}),
                );
                append_audit(&mut *tx, agency_id, vec![entry], now).await?;
                tx.commit().await?;
                return Ok(if locked {
                    CodeRedemption::Locked
                } else {
                    CodeRedemption::WrongTxCode {
                        remaining: max_attempts - attempts,
                    }
                });
            }
        }
        let done = sqlx::query(
            "UPDATE offers SET state = $4, access_token_hash = $2, token_expires_at = $3, \
             dpop_jkt = $6 WHERE id = $1 AND state = $5",
        )
        .bind(offer.id.as_str())
        .bind(access_token_hash)
        .bind(token_expires_at)
        .bind(OfferState::TokenIssued.code())
        .bind(OfferState::Pending.code())
        .bind(dpop_jkt)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&done) != 1 {
            return Ok(CodeRedemption::InvalidCode);
        }
        let entry = PendingEntry::new(
            format!("oid4vci:{}", offer.id),
            "offer.token",
            offer.id.clone(),
            serde_json::json!({"token_expires_at": token_expires_at, "dpop": dpop_jkt.is_some()}),
        );
        append_audit(&mut *tx, agency_id, vec![entry], now).await?;
        tx.commit().await?;
        let mut granted = offer;
        granted.state = OfferState::TokenIssued;
        granted.access_token_hash = Some(access_token_hash.to_owned());
        granted.token_expires_at = Some(token_expires_at);
        granted.dpop_jkt = dpop_jkt.map(str::to_owned);
        Ok(CodeRedemption::Granted(Box::new(granted)))
    }

    async fn offer_by_access_token(
        &self,
        agency_id: &str,
        access_token_hash: &str,
        now: i64,
    ) -> Result<Option<OfferRecord>, StoreError> {
        let row: Option<OfferRow> = sqlx::query_as(
            "SELECT * FROM offers WHERE agency_id = $1 AND access_token_hash = $2 \
             AND state = $4 AND token_expires_at >= $3",
        )
        .bind(agency_id)
        .bind(access_token_hash)
        .bind(now)
        .bind(OfferState::TokenIssued.code())
        .fetch_optional(&self.read)
        .await?;
        row.map(OfferRow::into_offer).transpose()
    }

    async fn redeem_offer(
        &self,
        offer_id: &str,
        credentials: &[NewCredential],
        at: i64,
    ) -> Result<(), StoreError> {
        let first = credentials
            .first()
            .ok_or_else(|| StoreError::InvalidTransition("no credential to store".into()))?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE offers SET state = $3, claims = '', credential_id = $2 \
             WHERE id = $1 AND state = $4",
        )
        .bind(offer_id)
        .bind(first.record.id.as_str())
        .bind(OfferState::Redeemed.code())
        .bind(OfferState::TokenIssued.code())
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&done) != 1 {
            return Err(StoreError::InvalidTransition(
                "the offer was already redeemed".into(),
            ));
        }
        // A wallet-initiated authorization code offer came from the
        // agency's record of the citizen: issued, it is forgotten.
        sqlx::query(
            "DELETE FROM subject_records WHERE EXISTS (SELECT 1 FROM offers o \
             WHERE o.id = $1 AND o.grant_type = $2 AND o.agency_id = subject_records.agency_id \
             AND o.subject = subject_records.subject AND o.vct = subject_records.vct)",
        )
        .bind(offer_id)
        .bind(OfferGrant::WalletInitiatedCode.code())
        .execute(&mut *tx)
        .await?;
        insert_credential_rows(&mut *tx, credentials).await?;
        let entries = credentials.iter().map(issue_entry).collect();
        append_audit(&mut *tx, &first.record.agency_id, entries, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut conn = self.write_conn().await?;
        let nonces = sqlx::query("DELETE FROM nonces WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *conn)
            .await?;
        let offers = sqlx::query(
            "UPDATE offers SET state = $2, claims = '' \
             WHERE (state = $3 AND code_expires_at < $1) OR (state = $4 AND token_expires_at < $1)",
        )
        .bind(now)
        .bind(OfferState::Expired.code())
        .bind(OfferState::Pending.code())
        .bind(OfferState::TokenIssued.code())
        .execute(&mut *conn)
        .await?;
        Ok(DB::rows_affected(&nonces) + DB::rows_affected(&offers))
    }

    async fn audit_entries(
        &self,
        agency_id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT * FROM audit_log WHERE agency_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(agency_id)
        .bind(after)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(AuditRow::into_entry).collect())
    }

    async fn audit_head(&self, agency_id: &str) -> Result<(i64, String), StoreError> {
        let head: (i64, String) =
            sqlx::query_as("SELECT audit_seq, audit_head FROM agencies WHERE id = $1")
                .bind(agency_id)
                .fetch_optional(&self.read)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("agency {agency_id}")))?;
        Ok(head)
    }

    async fn backup_into(&self, path: &str) -> Result<bool, StoreError> {
        if DB::BACKEND != Backend::Sqlite {
            return Ok(false);
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.read)
            .await?;
        Ok(true)
    }

    async fn advance_to_fresh_status_lists(
        &self,
        actor: &str,
        at: i64,
    ) -> Result<Vec<FreshList>, StoreError> {
        let mut tx = self.begin_write().await?;
        let counters: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT id, next_status_idx, status_list_size FROM agencies ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut moved = Vec::with_capacity(counters.len());
        for (agency_id, from, size) in counters {
            let to = (from / size.max(1) + 1) * size.max(1);
            sqlx::query("UPDATE agencies SET next_status_idx = $2 WHERE id = $1")
                .bind(agency_id.as_str())
                .bind(to)
                .execute(&mut *tx)
                .await?;
            let entry = PendingEntry::new(
                actor,
                "status.fresh_list",
                agency_id.as_str(),
                serde_json::json!({"from": from, "to": to, "list": to / size.max(1)}),
            );
            append_audit(&mut *tx, &agency_id, vec![entry], at).await?;
            moved.push(FreshList {
                agency_id,
                from,
                to,
            });
        }
        tx.commit().await?;
        Ok(moved)
    }
}
