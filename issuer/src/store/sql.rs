//! The SQL both backends run. The text is shared (`$n` placeholders work in
//! SQLite and PostgreSQL alike); the [`impl_store!`] macro instantiates it
//! for each backend's concrete sqlx types, so there is one implementation
//! to read and test.

/// Rows to insert per multi-row `INSERT` (well under both parameter limits).
pub(crate) const INSERT_CHUNK: usize = 400;

/// Implements [`super::Store`] for a struct with `write` and `read` pools of
/// database `$db`.
macro_rules! impl_store {
    ($store:ty, $db:ty, $row:ty, $backend:expr) => {
        mod rows {
            use sqlx::Row as _;

            use crate::audit::AuditEntry;
            use crate::store::{
                Agency, CredentialRecord, CredentialStatus, OfferRecord, OfferState, StoreError,
                StoredKey, TokenRecord,
            };
            use crate::tokens::Scopes;

            type R = $row;

            fn corrupt(what: &str) -> StoreError {
                StoreError::Corrupt(what.to_owned())
            }

            pub(super) fn agency(r: &R) -> Result<Agency, StoreError> {
                let vcts: String = r.try_get("vcts")?;
                Ok(Agency {
                    id: r.try_get("id")?,
                    iss: r.try_get("iss")?,
                    name_zh: r.try_get("name_zh")?,
                    name_en: r.try_get("name_en")?,
                    region: r.try_get("region")?,
                    vcts: serde_json::from_str(&vcts).map_err(|_| corrupt("agencies.vcts"))?,
                    encryption_required: r.try_get::<i64, _>("encryption_required")? != 0,
                    status_list_size: r.try_get("status_list_size")?,
                    index_key: r.try_get("index_key")?,
                    created_at: r.try_get("created_at")?,
                    enc_kid: r.try_get("enc_kid")?,
                    enc_public_jwk: r.try_get("enc_public_jwk")?,
                    enc_sealed: r.try_get("enc_sealed")?,
                })
            }

            pub(super) fn key(r: &R) -> Result<StoredKey, StoreError> {
                Ok(StoredKey {
                    agency_id: r.try_get("agency_id")?,
                    kid: r.try_get("kid")?,
                    public_jwk: r.try_get("public_jwk")?,
                    sealed: r.try_get("sealed")?,
                    created_at: r.try_get("created_at")?,
                    retired_at: r.try_get("retired_at")?,
                })
            }

            pub(super) fn token(r: &R) -> Result<TokenRecord, StoreError> {
                let scopes: String = r.try_get("scopes")?;
                Ok(TokenRecord {
                    id: r.try_get("id")?,
                    agency_id: r.try_get("agency_id")?,
                    scopes: Scopes::parse(&scopes).map_err(|_| corrupt("admin_tokens.scopes"))?,
                    label: r.try_get("label")?,
                    created_at: r.try_get("created_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            }

            pub(super) fn credential(r: &R) -> Result<(i64, CredentialRecord), StoreError> {
                let status: i64 = r.try_get("status")?;
                Ok((
                    r.try_get("row_id")?,
                    CredentialRecord {
                        id: r.try_get("id")?,
                        agency_id: r.try_get("agency_id")?,
                        vct: r.try_get("vct")?,
                        licence_id: r.try_get("licence_id")?,
                        status_list: r.try_get("status_list")?,
                        status_idx: r.try_get("status_idx")?,
                        status: CredentialStatus::from_code(status)
                            .ok_or_else(|| corrupt("credentials.status"))?,
                        holder_thumbprint: r.try_get("holder_thumbprint")?,
                        kid: r.try_get("kid")?,
                        issued_at: r.try_get("issued_at")?,
                        expires_at: r.try_get("expires_at")?,
                        offer_id: r.try_get("offer_id")?,
                    },
                ))
            }

            pub(super) fn offer(r: &R) -> Result<OfferRecord, StoreError> {
                let state: i64 = r.try_get("state")?;
                Ok(OfferRecord {
                    id: r.try_get("id")?,
                    agency_id: r.try_get("agency_id")?,
                    vct: r.try_get("vct")?,
                    claims: r.try_get("claims")?,
                    expires_credential_at: r.try_get("credential_exp")?,
                    not_before_credential: r.try_get("credential_nbf")?,
                    code_hash: r.try_get("code_hash")?,
                    tx_code_hash: r.try_get("tx_code_hash")?,
                    tx_code_length: r.try_get("tx_code_length")?,
                    tx_attempts: r.try_get("tx_attempts")?,
                    code_expires_at: r.try_get("code_expires_at")?,
                    state: OfferState::from_code(state).ok_or_else(|| corrupt("offers.state"))?,
                    access_token_hash: r.try_get("access_token_hash")?,
                    token_expires_at: r.try_get("token_expires_at")?,
                    credential_id: r.try_get("credential_id")?,
                    actor: r.try_get("actor")?,
                    created_at: r.try_get("created_at")?,
                })
            }

            pub(super) fn audit(r: &R) -> Result<AuditEntry, StoreError> {
                Ok(AuditEntry {
                    agency_id: r.try_get("agency_id")?,
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    detail: r.try_get("detail")?,
                    prev_hash: r.try_get("prev_hash")?,
                    hash: r.try_get("hash")?,
                })
            }
        }

        type Conn = <$db as sqlx::Database>::Connection;

        /// Appends entries to the agency's chain inside the caller's
        /// transaction. The `UPDATE … RETURNING` takes the agency row's lock
        /// (PostgreSQL) or runs under the single writer (SQLite), so chains
        /// never fork.
        async fn append_audit(
            conn: &mut Conn,
            agency: &str,
            entries: Vec<crate::audit::PendingEntry>,
            at: i64,
        ) -> Result<(), crate::store::StoreError> {
            use sqlx::Row as _;
            if entries.is_empty() {
                return Ok(());
            }
            let n = i64::try_from(entries.len()).unwrap_or(i64::MAX);
            let row = sqlx::query(
                "UPDATE agencies SET audit_seq = audit_seq + $2 WHERE id = $1 RETURNING audit_seq, audit_head",
            )
            .bind(agency)
            .bind(n)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| crate::store::StoreError::NotFound(format!("agency {agency}")))?;
            let last: i64 = row.try_get(0)?;
            let mut prev: String = row.try_get(1)?;
            let mut chained = Vec::with_capacity(entries.len());
            for (i, e) in entries.into_iter().enumerate() {
                let seq = last - n + 1 + i64::try_from(i).unwrap_or(0);
                let e = e.chain(agency, seq, at, &prev);
                prev = e.hash.clone();
                chained.push(e);
            }
            for chunk in chained.chunks(crate::store::sql::INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO audit_log (agency_id, seq, at, actor, action, subject, detail, prev_hash, hash) ",
                );
                qb.push_values(chunk, |mut b, e| {
                    b.push_bind(e.agency_id.clone())
                        .push_bind(e.seq)
                        .push_bind(e.at)
                        .push_bind(e.actor.clone())
                        .push_bind(e.action.clone())
                        .push_bind(e.subject.clone())
                        .push_bind(e.detail.clone())
                        .push_bind(e.prev_hash.clone())
                        .push_bind(e.hash.clone());
                });
                qb.build().execute(&mut *conn).await?;
            }
            sqlx::query("UPDATE agencies SET audit_head = $2 WHERE id = $1")
                .bind(agency)
                .bind(prev)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        async fn insert_credential_rows(
            conn: &mut Conn,
            items: &[crate::store::NewCredential],
        ) -> Result<(), crate::store::StoreError> {
            for chunk in items.chunks(crate::store::sql::INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO credentials (id, agency_id, vct, licence_id, status_list, status_idx, status, holder_thumbprint, kid, issued_at, expires_at, offer_id) ",
                );
                qb.push_values(chunk, |mut b, c| {
                    let r = &c.record;
                    b.push_bind(r.id.clone())
                        .push_bind(r.agency_id.clone())
                        .push_bind(r.vct.clone())
                        .push_bind(r.licence_id.clone())
                        .push_bind(r.status_list)
                        .push_bind(r.status_idx)
                        .push_bind(r.status.code())
                        .push_bind(r.holder_thumbprint.clone())
                        .push_bind(r.kid.clone())
                        .push_bind(r.issued_at)
                        .push_bind(r.expires_at)
                        .push_bind(r.offer_id.clone());
                });
                qb.build().execute(&mut *conn).await.map_err(|e| {
                    let licence = matches!(&e, sqlx::Error::Database(db)
                        if db.constraint().is_some_and(|c| c.contains("licence_id"))
                            || db.message().contains("licence_id"));
                    crate::store::conflict_or(e, if licence {
                        crate::store::Conflict::LicenceId
                    } else {
                        crate::store::Conflict::StatusIndex
                    })
                })?;
            }
            Ok(())
        }

        fn issue_entry(c: &crate::store::NewCredential) -> crate::audit::PendingEntry {
            let r = &c.record;
            crate::audit::PendingEntry::new(
                c.actor.clone(),
                "credential.issue",
                r.id.clone(),
                serde_json::json!({
                    "vct": r.vct,
                    "licence_id": r.licence_id,
                    "status_list": r.status_list,
                    "status_idx": r.status_idx,
                    "kid": r.kid,
                    "holder": r.holder_thumbprint,
                    "offer": r.offer_id,
                }),
            )
        }

        #[async_trait::async_trait]
        impl crate::store::Store for $store {
            fn backend(&self) -> crate::store::Backend {
                $backend
            }

            async fn ping(&self) -> Result<(), crate::store::StoreError> {
                sqlx::query("SELECT 1").execute(&self.read).await?;
                Ok(())
            }

            async fn create_agency(
                &self,
                a: &crate::store::Agency,
                key: &crate::store::StoredKey,
                actor: &str,
            ) -> Result<(), crate::store::StoreError> {
                let mut tx: sqlx::Transaction<'_, $db> = self.write.begin().await?;
                sqlx::query(
                    "INSERT INTO agencies (id, iss, name_zh, name_en, region, vcts, encryption_required, created_at, audit_head, enc_kid, enc_public_jwk, enc_sealed, status_list_size, index_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(&a.id)
                .bind(&a.iss)
                .bind(&a.name_zh)
                .bind(&a.name_en)
                .bind(&a.region)
                .bind(serde_json::to_string(&a.vcts).unwrap_or_default())
                .bind(i64::from(a.encryption_required))
                .bind(a.created_at)
                .bind(crate::audit::GENESIS)
                .bind(&a.enc_kid)
                .bind(&a.enc_public_jwk)
                .bind(&a.enc_sealed)
                .bind(a.status_list_size)
                .bind(&a.index_key)
                .execute(&mut *tx)
                .await
                .map_err(|e| crate::store::conflict_or(e, crate::store::Conflict::Agency))?;
                sqlx::query(
                    "INSERT INTO signing_keys (agency_id, kid, public_jwk, sealed, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, NULL)",
                )
                .bind(&key.agency_id)
                .bind(&key.kid)
                .bind(&key.public_jwk)
                .bind(&key.sealed)
                .bind(key.created_at)
                .execute(&mut *tx)
                .await?;
                let entries = vec![
                    crate::audit::PendingEntry::new(actor, "agency.create", a.id.clone(), serde_json::json!({
                        "iss": a.iss, "name_zh": a.name_zh, "name_en": a.name_en, "region": a.region,
                        "vcts": a.vcts, "encryption_required": a.encryption_required, "enc_kid": a.enc_kid,
                    })),
                    crate::audit::PendingEntry::new(actor, "key.create", key.kid.clone(), serde_json::json!({"public_jwk": key.public_jwk})),
                ];
                append_audit(&mut *tx, &a.id, entries, a.created_at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_agency(
                &self,
                a: &crate::store::Agency,
                actor: &str,
                at: i64,
            ) -> Result<(), crate::store::StoreError> {
                let mut tx: sqlx::Transaction<'_, $db> = self.write.begin().await?;
                let done = sqlx::query(
                    "UPDATE agencies SET name_zh = $2, name_en = $3, region = $4, vcts = $5, encryption_required = $6 WHERE id = $1",
                )
                .bind(&a.id)
                .bind(&a.name_zh)
                .bind(&a.name_en)
                .bind(&a.region)
                .bind(serde_json::to_string(&a.vcts).unwrap_or_default())
                .bind(i64::from(a.encryption_required))
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(crate::store::StoreError::NotFound(format!("agency {}", a.id)));
                }
                append_audit(&mut *tx, &a.id, vec![crate::audit::PendingEntry::new(actor, "agency.update", a.id.clone(), serde_json::json!({
                    "name_zh": a.name_zh, "name_en": a.name_en, "region": a.region,
                    "vcts": a.vcts, "encryption_required": a.encryption_required,
                }))], at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_agencies(&self) -> Result<Vec<crate::store::Agency>, crate::store::StoreError> {
                let rows = sqlx::query("SELECT * FROM agencies ORDER BY id").fetch_all(&self.read).await?;
                rows.iter().map(rows::agency).collect()
            }

            async fn agency(&self, id: &str) -> Result<crate::store::Agency, crate::store::StoreError> {
                let row = sqlx::query("SELECT * FROM agencies WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| crate::store::StoreError::NotFound(format!("agency {id}")))?;
                rows::agency(&row)
            }

            async fn keys(&self, agency_id: &str) -> Result<Vec<crate::store::StoredKey>, crate::store::StoreError> {
                let rows = sqlx::query("SELECT * FROM signing_keys WHERE agency_id = $1 ORDER BY retired_at IS NULL, retired_at, created_at, kid")
                    .bind(agency_id)
                    .fetch_all(&self.read)
                    .await?;
                rows.iter().map(rows::key).collect()
            }

            async fn rotate_key(
                &self,
                key: &crate::store::StoredKey,
                actor: &str,
            ) -> Result<(), crate::store::StoreError> {
                let mut tx: sqlx::Transaction<'_, $db> = self.write.begin().await?;
                sqlx::query("UPDATE signing_keys SET retired_at = $2 WHERE agency_id = $1 AND retired_at IS NULL")
                    .bind(&key.agency_id)
                    .bind(key.created_at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO signing_keys (agency_id, kid, public_jwk, sealed, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, NULL)",
                )
                .bind(&key.agency_id)
                .bind(&key.kid)
                .bind(&key.public_jwk)
                .bind(&key.sealed)
                .bind(key.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| crate::store::conflict_or(e, crate::store::Conflict::KeyId))?;
                append_audit(&mut *tx, &key.agency_id, vec![crate::audit::PendingEntry::new(actor, "key.rotate", key.kid.clone(), serde_json::json!({"public_jwk": key.public_jwk}))], key.created_at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_token(
                &self,
                t: &crate::store::TokenRecord,
                hash: &str,
                actor: &str,
            ) -> Result<(), crate::store::StoreError> {
                let mut tx: sqlx::Transaction<'_, $db> = self.write.begin().await?;
                sqlx::query(
                    "INSERT INTO admin_tokens (id, agency_id, hash, scopes, label, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, NULL)",
                )
                .bind(&t.id)
                .bind(&t.agency_id)
                .bind(hash)
                .bind(t.scopes.to_string())
                .bind(&t.label)
                .bind(t.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| crate::store::conflict_or(e, crate::store::Conflict::Token))?;
                append_audit(&mut *tx, &t.agency_id, vec![crate::audit::PendingEntry::new(actor, "token.create", t.id.clone(), serde_json::json!({"scopes": t.scopes, "label": t.label}))], t.created_at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn token_by_hash(&self, hash: &str) -> Result<Option<crate::store::TokenRecord>, crate::store::StoreError> {
                let row = sqlx::query("SELECT * FROM admin_tokens WHERE hash = $1 AND revoked_at IS NULL")
                    .bind(hash)
                    .fetch_optional(&self.read)
                    .await?;
                row.as_ref().map(rows::token).transpose()
            }

            async fn list_tokens(&self, agency_id: &str) -> Result<Vec<crate::store::TokenRecord>, crate::store::StoreError> {
                let rows = sqlx::query("SELECT * FROM admin_tokens WHERE agency_id = $1 ORDER BY created_at, id")
                    .bind(agency_id)
                    .fetch_all(&self.read)
                    .await?;
                rows.iter().map(rows::token).collect()
            }

            async fn revoke_token(
                &self,
                agency_id: &str,
                token_id: &str,
                at: i64,
                actor: &str,
            ) -> Result<(), crate::store::StoreError> {
                let mut tx: sqlx::Transaction<'_, $db> = self.write.begin().await?;
                let done = sqlx::query("UPDATE admin_tokens SET revoked_at = $3 WHERE agency_id = $1 AND id = $2 AND revoked_at IS NULL")
                    .bind(agency_id)
                    .bind(token_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(crate::store::StoreError::NotFound(format!("live token {token_id} of agency {agency_id}")));
                }
                append_audit(&mut *tx, agency_id, vec![crate::audit::PendingEntry::new(actor, "token.revoke", token_id, serde_json::json!({}))], at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn reserve_status_indices(&self, agency_id: &str, n: i64) -> Result<i64, crate::store::StoreError> {
                use sqlx::Row as _;
                let row = sqlx::query("UPDATE agencies SET next_status_idx = next_status_idx + $2 WHERE id = $1 RETURNING next_status_idx")
                    .bind(agency_id)
                    .bind(n)
                    .fetch_optional(&self.write)
                    .await?
                    .ok_or_else(|| crate::store::StoreError::NotFound(format!("agency {agency_id}")))?;
                let next: i64 = row.try_get(0)?;
                Ok(next - n)
            }

            async fn insert_credentials(
                &self,
                items: &[crate::store::NewCredential],
                at: i64,
            ) -> Result<(), crate::store::StoreError> {
                let mut tx: sqlx::Transaction<'_, $db> = self.write.begin().await?;
                insert_credential_rows(&mut *tx, items).await?;
                let mut by_agency: std::collections::BTreeMap<&str, Vec<crate::audit::PendingEntry>> = Default::default();
                for c in items {
                    by_agency.entry(c.record.agency_id.as_str()).or_default().push(issue_entry(c));
                }
                for (agency, entries) in by_agency {
                    append_audit(&mut *tx, agency, entries, at).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn licence_id_exists(&self, agency_id: &str, licence_id: &str) -> Result<bool, crate::store::StoreError> {
                let row = sqlx::query("SELECT 1 FROM credentials WHERE agency_id = $1 AND licence_id = $2")
                    .bind(agency_id)
                    .bind(licence_id)
                    .fetch_optional(&self.read)
                    .await?;
                Ok(row.is_some())
            }

            async fn credential(&self, agency_id: &str, id: &str) -> Result<crate::store::CredentialRecord, crate::store::StoreError> {
                let row = sqlx::query("SELECT * FROM credentials WHERE agency_id = $1 AND id = $2")
                    .bind(agency_id)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| crate::store::StoreError::NotFound(format!("credential {id}")))?;
                Ok(rows::credential(&row)?.1)
            }

            async fn list_credentials(
                &self,
                agency_id: &str,
                f: &crate::store::CredentialFilter,
            ) -> Result<Vec<(i64, crate::store::CredentialRecord)>, crate::store::StoreError> {
                let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT * FROM credentials WHERE agency_id = ");
                qb.push_bind(agency_id.to_owned());
                if let Some(v) = &f.vct {
                    qb.push(" AND vct = ").push_bind(v.clone());
                }
                if let Some(s) = f.status {
                    qb.push(" AND status = ").push_bind(s.code());
                }
                if let Some(l) = &f.licence_id {
                    qb.push(" AND licence_id = ").push_bind(l.clone());
                }
                if let Some(t) = f.issued_from {
                    qb.push(" AND issued_at >= ").push_bind(t);
                }
                if let Some(t) = f.issued_until {
                    qb.push(" AND issued_at < ").push_bind(t);
                }
                if let Some(a) = f.after {
                    qb.push(" AND row_id > ").push_bind(a);
                }
                qb.push(" ORDER BY row_id LIMIT ").push_bind(f.limit.clamp(1, 1000));
                let rows = qb.build().fetch_all(&self.read).await?;
                rows.iter().map(rows::credential).collect()
            }

            async fn change_status(
                &self,
                agency_id: &str,
                id: &str,
                change: crate::store::StatusChange,
                reason: Option<&str>,
                actor: &str,
                at: i64,
            ) -> Result<crate::store::CredentialRecord, crate::store::StoreError> {
                let mut tx: sqlx::Transaction<'_, $db> = self.write.begin().await?;
                let row = sqlx::query("SELECT * FROM credentials WHERE agency_id = $1 AND id = $2")
                    .bind(agency_id)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| crate::store::StoreError::NotFound(format!("credential {id}")))?;
                let (_, mut rec) = rows::credential(&row)?;
                let (from, to) = change.transition();
                if !from.contains(&rec.status) {
                    return Err(crate::store::StoreError::InvalidTransition(format!(
                        "the credential is {} and cannot be {}",
                        rec.status.as_str(),
                        match change {
                            crate::store::StatusChange::Revoke => "revoked",
                            crate::store::StatusChange::Suspend => "suspended",
                            crate::store::StatusChange::Reinstate => "reinstated",
                        }
                    )));
                }
                let done = sqlx::query("UPDATE credentials SET status = $4 WHERE agency_id = $1 AND id = $2 AND status = $3")
                    .bind(agency_id)
                    .bind(id)
                    .bind(rec.status.code())
                    .bind(to.code())
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    return Err(crate::store::StoreError::InvalidTransition("the credential changed meanwhile; try again".into()));
                }
                append_audit(&mut *tx, agency_id, vec![crate::audit::PendingEntry::new(actor, change.action(), id, serde_json::json!({
                    "from": rec.status.as_str(), "to": to.as_str(), "reason": reason,
                    "status_list": rec.status_list, "status_idx": rec.status_idx,
                }))], at).await?;
                tx.commit().await?;
                rec.status = to;
                Ok(rec)
            }

            async fn list_statuses(&self, agency_id: &str, list: i64) -> Result<Vec<(i64, i64)>, crate::store::StoreError> {
                use sqlx::Row as _;
                let rows = sqlx::query("SELECT status_idx, status FROM credentials WHERE agency_id = $1 AND status_list = $2 AND status <> 0")
                    .bind(agency_id)
                    .bind(list)
                    .fetch_all(&self.read)
                    .await?;
                rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
            }

            async fn status_list_count(&self, agency_id: &str) -> Result<i64, crate::store::StoreError> {
                use sqlx::Row as _;
                let row = sqlx::query("SELECT COALESCE(MAX(status_list) + 1, 0) FROM credentials WHERE agency_id = $1")
                    .bind(agency_id)
                    .fetch_one(&self.read)
                    .await?;
                Ok(row.try_get::<i64, _>(0)?)
            }

            async fn create_offer(&self, o: &crate::store::OfferRecord) -> Result<(), crate::store::StoreError> {
                let mut tx: sqlx::Transaction<'_, $db> = self.write.begin().await?;
                sqlx::query(
                    "INSERT INTO offers (id, agency_id, vct, claims, credential_exp, credential_nbf, code_hash, tx_code_hash, tx_code_length, tx_attempts, code_expires_at, state, access_token_hash, token_expires_at, credential_id, actor, created_at) VALUES ($1, $2, $3, $4, $5, $12, $6, $7, $8, 0, $9, 0, NULL, NULL, NULL, $10, $11)",
                )
                .bind(&o.id)
                .bind(&o.agency_id)
                .bind(&o.vct)
                .bind(&o.claims)
                .bind(o.expires_credential_at)
                .bind(&o.code_hash)
                .bind(&o.tx_code_hash)
                .bind(o.tx_code_length)
                .bind(o.code_expires_at)
                .bind(&o.actor)
                .bind(o.created_at)
                .bind(o.not_before_credential)
                .execute(&mut *tx)
                .await
                .map_err(|e| crate::store::conflict_or(e, crate::store::Conflict::Offer))?;
                append_audit(&mut *tx, &o.agency_id, vec![crate::audit::PendingEntry::new(o.actor.clone(), "offer.create", o.id.clone(), serde_json::json!({
                    "vct": o.vct, "tx_code": o.tx_code_hash.is_some(), "code_expires_at": o.code_expires_at,
                }))], o.created_at).await?;
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
                now: i64,
            ) -> Result<crate::store::CodeRedemption, crate::store::StoreError> {
                use crate::store::{CodeRedemption, OfferState};
                use sqlx::Row as _;
                let mut tx: sqlx::Transaction<'_, $db> = self.write.begin().await?;
                let Some(row) = sqlx::query("SELECT * FROM offers WHERE agency_id = $1 AND code_hash = $2")
                    .bind(agency_id)
                    .bind(code_hash)
                    .fetch_optional(&mut *tx)
                    .await?
                else {
                    return Ok(CodeRedemption::InvalidCode);
                };
                let offer = rows::offer(&row)?;
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
                        let row = sqlx::query("UPDATE offers SET tx_attempts = tx_attempts + 1 WHERE id = $1 AND state = 0 RETURNING tx_attempts")
                            .bind(&offer.id)
                            .fetch_optional(&mut *tx)
                            .await?;
                        let Some(row) = row else {
                            return Ok(CodeRedemption::InvalidCode);
                        };
                        let attempts: i64 = row.try_get(0)?;
                        let locked = attempts >= max_attempts;
                        if locked {
                            sqlx::query("UPDATE offers SET state = 3, claims = '' WHERE id = $1")
                                .bind(&offer.id)
                                .execute(&mut *tx)
                                .await?;
                        }
                        append_audit(&mut *tx, agency_id, vec![crate::audit::PendingEntry::new(
                            format!("oid4vci:{}", offer.id),
                            if locked { "offer.lock" } else { "offer.wrong_tx_code" },
                            offer.id.clone(),
                            serde_json::json!({"attempts": attempts}),
                        )], now).await?;
                        tx.commit().await?;
                        return Ok(if locked {
                            CodeRedemption::Locked
                        } else {
                            CodeRedemption::WrongTxCode { remaining: max_attempts - attempts }
                        });
                    }
                }
                let done = sqlx::query("UPDATE offers SET state = 1, access_token_hash = $2, token_expires_at = $3 WHERE id = $1 AND state = 0")
                    .bind(&offer.id)
                    .bind(access_token_hash)
                    .bind(token_expires_at)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    return Ok(CodeRedemption::InvalidCode);
                }
                append_audit(&mut *tx, agency_id, vec![crate::audit::PendingEntry::new(
                    format!("oid4vci:{}", offer.id), "offer.token", offer.id.clone(), serde_json::json!({"token_expires_at": token_expires_at}),
                )], now).await?;
                tx.commit().await?;
                let mut granted = offer;
                granted.state = OfferState::TokenIssued;
                granted.access_token_hash = Some(access_token_hash.to_owned());
                granted.token_expires_at = Some(token_expires_at);
                Ok(CodeRedemption::Granted(Box::new(granted)))
            }

            async fn offer_by_access_token(
                &self,
                agency_id: &str,
                access_token_hash: &str,
                now: i64,
            ) -> Result<Option<crate::store::OfferRecord>, crate::store::StoreError> {
                let row = sqlx::query("SELECT * FROM offers WHERE agency_id = $1 AND access_token_hash = $2 AND state = 1 AND token_expires_at >= $3")
                    .bind(agency_id)
                    .bind(access_token_hash)
                    .bind(now)
                    .fetch_optional(&self.read)
                    .await?;
                row.as_ref().map(rows::offer).transpose()
            }

            async fn redeem_offer(
                &self,
                offer_id: &str,
                c: &crate::store::NewCredential,
                at: i64,
            ) -> Result<(), crate::store::StoreError> {
                let mut tx: sqlx::Transaction<'_, $db> = self.write.begin().await?;
                let done = sqlx::query("UPDATE offers SET state = 2, claims = '', credential_id = $2 WHERE id = $1 AND state = 1")
                    .bind(offer_id)
                    .bind(&c.record.id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    return Err(crate::store::StoreError::InvalidTransition("the offer was already redeemed".into()));
                }
                insert_credential_rows(&mut *tx, std::slice::from_ref(c)).await?;
                append_audit(&mut *tx, &c.record.agency_id, vec![issue_entry(c)], at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_nonce(&self, agency_id: &str, nonce_hash: &str, expires_at: i64) -> Result<(), crate::store::StoreError> {
                sqlx::query("INSERT INTO nonces (hash, agency_id, expires_at) VALUES ($1, $2, $3)")
                    .bind(nonce_hash)
                    .bind(agency_id)
                    .bind(expires_at)
                    .execute(&self.write)
                    .await
                    .map_err(|e| crate::store::conflict_or(e, crate::store::Conflict::Nonce))?;
                Ok(())
            }

            async fn consume_nonce(&self, agency_id: &str, nonce_hash: &str, now: i64) -> Result<bool, crate::store::StoreError> {
                let done = sqlx::query("DELETE FROM nonces WHERE hash = $1 AND agency_id = $2 AND expires_at >= $3")
                    .bind(nonce_hash)
                    .bind(agency_id)
                    .bind(now)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn purge_expired(&self, now: i64) -> Result<u64, crate::store::StoreError> {
                let a = sqlx::query("DELETE FROM nonces WHERE expires_at < $1")
                    .bind(now)
                    .execute(&self.write)
                    .await?;
                let b = sqlx::query("UPDATE offers SET state = 4, claims = '' WHERE (state = 0 AND code_expires_at < $1) OR (state = 1 AND token_expires_at < $1)")
                    .bind(now)
                    .execute(&self.write)
                    .await?;
                Ok(a.rows_affected() + b.rows_affected())
            }

            async fn audit_entries(&self, agency_id: &str, after: i64, limit: i64) -> Result<Vec<crate::audit::AuditEntry>, crate::store::StoreError> {
                let rows = sqlx::query("SELECT * FROM audit_log WHERE agency_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                    .bind(agency_id)
                    .bind(after)
                    .bind(limit.clamp(1, 10_000))
                    .fetch_all(&self.read)
                    .await?;
                rows.iter().map(rows::audit).collect()
            }

            async fn audit_head(&self, agency_id: &str) -> Result<(i64, String), crate::store::StoreError> {
                use sqlx::Row as _;
                let row = sqlx::query("SELECT audit_seq, audit_head FROM agencies WHERE id = $1")
                    .bind(agency_id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| crate::store::StoreError::NotFound(format!("agency {agency_id}")))?;
                Ok((row.try_get(0)?, row.try_get(1)?))
            }
        }
    };
}

pub(crate) use impl_store;
