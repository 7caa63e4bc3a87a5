//! The SQL both backends run, written once as Rust generic over the sqlx
//! database (the issuer's pattern, `issuer/src/store/sql/mod.rs` explains
//! why not a macro and not `sqlx::Any`): [`SqlStore<DB>`] implements
//! [`Store`] for SQLite and PostgreSQL alike, with `$N` placeholders, which
//! both accept.

use async_trait::async_trait;
use sqlx::{
    Database, Encode, Executor, FromRow, IntoArguments, Pool, Postgres, Sqlite, Transaction, Type,
};

use super::{
    Answer, Backend, CaRecord, ClientIdPrefix, Store, StoreError, Tenant, TokenRecord,
    TransactionRecord, TxState, Write, WriteResult, Written, conflict_or,
};
use crate::audit::{AuditEntry, GENESIS, PendingEntry};
use crate::tokens::TokenScope;

/// A store on the pools of one sqlx database: the writer and the readers
/// (the same pool on PostgreSQL; one connection and a read-only pool on
/// SQLite).
#[derive(Debug)]
pub struct SqlStore<DB: Database> {
    pub(in crate::store) write: Pool<DB>,
    pub(in crate::store) read: Pool<DB>,
}

/// What the shared SQL needs to know about a backend beyond sqlx's
/// `Database` trait.
pub trait Dialect: Database {
    /// Which backend this is.
    const BACKEND: Backend;
    /// Rows an `UPDATE` changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

impl Dialect for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

impl Dialect for Postgres {
    const BACKEND: Backend = Backend::Postgres;
    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

#[derive(FromRow)]
struct CaRow {
    common_name: String,
    cert_der: Vec<u8>,
    sealed_key: Vec<u8>,
    created_at: i64,
}

#[derive(FromRow)]
struct TenantRow {
    id: String,
    name_zh: String,
    name_en: String,
    region: String,
    dns: String,
    client_id_prefix: String,
    allow_plain_direct_post: i64,
    cert_der: Vec<u8>,
    sealed_key: Vec<u8>,
    created_at: i64,
}

impl TenantRow {
    fn into_tenant(self) -> Result<Tenant, StoreError> {
        Ok(Tenant {
            client_id_prefix: ClientIdPrefix::parse(&self.client_id_prefix).ok_or_else(|| {
                StoreError::Corrupt(format!("tenant {}: client_id_prefix", self.id))
            })?,
            id: self.id,
            name_zh: self.name_zh,
            name_en: self.name_en,
            region: self.region,
            dns: self.dns,
            allow_plain_direct_post: self.allow_plain_direct_post != 0,
            cert_der: self.cert_der,
            sealed_key: self.sealed_key,
            created_at: self.created_at,
        })
    }
}

#[derive(FromRow)]
struct TokenRow {
    id: String,
    tenant_id: Option<String>,
    label: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<TokenRow> for TokenRecord {
    fn from(r: TokenRow) -> Self {
        TokenRecord {
            id: r.id,
            scope: r.tenant_id.map_or(TokenScope::Admin, TokenScope::Tenant),
            label: r.label,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(FromRow)]
struct TxRow {
    id: String,
    tenant_id: String,
    token_id: String,
    state: String,
    flow: String,
    nonce: String,
    state_param: String,
    dcql: String,
    transaction_data: Option<String>,
    purpose: String,
    response_mode: String,
    enc_kid: String,
    enc_sealed: Vec<u8>,
    enc_public_jwk: String,
    redirect_page: Option<String>,
    response_code_hash: Option<String>,
    created_at: i64,
    expires_at: i64,
    answered_at: Option<i64>,
    outcome: Option<String>,
    claims: Option<String>,
    claims_erase_at: Option<i64>,
}

impl TxRow {
    fn into_record(self) -> Result<TransactionRecord, StoreError> {
        Ok(TransactionRecord {
            state: TxState::parse(&self.state)
                .ok_or_else(|| StoreError::Corrupt(format!("transaction {}: state", self.id)))?,
            id: self.id,
            tenant_id: self.tenant_id,
            token_id: self.token_id,
            flow: self.flow,
            nonce: self.nonce,
            state_param: self.state_param,
            dcql: self.dcql,
            transaction_data: self.transaction_data,
            purpose: self.purpose,
            response_mode: self.response_mode,
            enc_kid: self.enc_kid,
            enc_sealed: self.enc_sealed,
            enc_public_jwk: self.enc_public_jwk,
            redirect_page: self.redirect_page,
            response_code_hash: self.response_code_hash,
            created_at: self.created_at,
            expires_at: self.expires_at,
            answered_at: self.answered_at,
            outcome: self.outcome,
            claims: self.claims,
            claims_erase_at: self.claims_erase_at,
        })
    }
}

#[derive(FromRow)]
struct AuditRow {
    chain: String,
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    subject: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

/// Appends one entry to its chain inside the caller's transaction.
async fn append_audit<DB>(
    conn: &mut DB::Connection,
    entry: PendingEntry,
    at: i64,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'r> (i64, String): FromRow<'r, DB::Row>,
{
    append_audits::<DB>(conn, vec![(&entry, at)]).await
}

/// The most audit entries one `INSERT` carries (9 values each).
const AUDIT_ROWS_PER_INSERT: usize = 32;

/// Appends entries (each with its time) to their chains inside the
/// caller's transaction, in the order given within each chain. Per chain,
/// the head row's `UPDATE … RETURNING` reserves all the sequence numbers
/// at once and serialises writers of that chain (the row lock on
/// PostgreSQL, the single writer on SQLite); chains are locked in name
/// order, so two writers cannot wait on each other.
async fn append_audits<DB>(
    conn: &mut DB::Connection,
    entries: Vec<(&PendingEntry, i64)>,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'r> (i64, String): FromRow<'r, DB::Row>,
{
    let mut by_chain: std::collections::BTreeMap<&str, Vec<(&PendingEntry, i64)>> =
        std::collections::BTreeMap::new();
    for (e, at) in entries {
        by_chain.entry(e.chain.as_str()).or_default().push((e, at));
    }
    for (chain, entries) in by_chain {
        let n = i64::try_from(entries.len())
            .map_err(|_| StoreError::Corrupt("too many audit entries".into()))?;
        sqlx::query(
            "INSERT INTO audit_heads (chain, seq, head) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING",
        )
        .bind(chain)
        .bind(GENESIS)
        .execute(&mut *conn)
        .await?;
        let (last, mut prev): (i64, String) = sqlx::query_as(
            "UPDATE audit_heads SET seq = seq + $2 WHERE chain = $1 RETURNING seq, head",
        )
        .bind(chain)
        .bind(n)
        .fetch_one(&mut *conn)
        .await?;
        let mut seq = last - n;
        let mut linked = Vec::with_capacity(entries.len());
        for (e, at) in entries {
            seq += 1;
            let e = e.clone().link(seq, at, &prev);
            prev.clone_from(&e.hash);
            linked.push(e);
        }
        for rows in linked.chunks(AUDIT_ROWS_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO audit_log (chain, seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ",
            );
            for i in 0..rows.len() {
                let b = i * 9;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9
                ));
            }
            let mut q = sqlx::query(&sql);
            for e in rows {
                q = q
                    .bind(e.chain.as_str())
                    .bind(e.seq)
                    .bind(e.at)
                    .bind(e.actor.as_str())
                    .bind(e.action.as_str())
                    .bind(e.subject.as_str())
                    .bind(e.detail.as_str())
                    .bind(e.prev_hash.as_str())
                    .bind(e.hash.as_str());
            }
            q.execute(&mut *conn).await?;
        }
        sqlx::query("UPDATE audit_heads SET head = $2 WHERE chain = $1")
            .bind(chain)
            .bind(prev.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Inserts a new transaction.
async fn insert_transaction<DB>(
    conn: &mut DB::Connection,
    t: &TransactionRecord,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "INSERT INTO transactions (id, tenant_id, token_id, state, flow, nonce, state_param, \
         dcql, transaction_data, purpose, response_mode, enc_kid, enc_sealed, enc_public_jwk, \
         redirect_page, response_code_hash, created_at, expires_at, answered_at, outcome, \
         claims, claims_erase_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULL, $16, \
         $17, NULL, NULL, NULL, NULL)",
    )
    .bind(t.id.as_str())
    .bind(t.tenant_id.as_str())
    .bind(t.token_id.as_str())
    .bind(t.state.as_str())
    .bind(t.flow.as_str())
    .bind(t.nonce.as_str())
    .bind(t.state_param.as_str())
    .bind(t.dcql.as_str())
    .bind(t.transaction_data.as_deref())
    .bind(t.purpose.as_str())
    .bind(t.response_mode.as_str())
    .bind(t.enc_kid.as_str())
    .bind(t.enc_sealed.as_slice())
    .bind(t.enc_public_jwk.as_str())
    .bind(t.redirect_page.as_deref())
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| conflict_or(e, "transaction"))?;
    Ok(())
}

/// Answers a pending, unexpired transaction (one conditional `UPDATE`, so
/// of two racing answers exactly one changes the row); forgets its
/// decryption key. `false` if it was answered or has expired.
async fn answer_transaction<DB>(
    conn: &mut DB::Connection,
    id: &str,
    a: &Answer,
    now: i64,
) -> Result<bool, StoreError>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
{
    let done = sqlx::query(
        "UPDATE transactions SET state = $2, outcome = $3, claims = $4, claims_erase_at = $5, \
         response_code_hash = $6, answered_at = $7, enc_sealed = $8 \
         WHERE id = $1 AND state = 'pending' AND expires_at > $7",
    )
    .bind(id)
    .bind(a.state.as_str())
    .bind(a.outcome.as_str())
    .bind(a.claims.as_deref())
    .bind(a.claims_erase_at)
    .bind(a.response_code_hash.as_deref())
    .bind(now)
    .bind(&[][..])
    .execute(&mut *conn)
    .await?;
    Ok(DB::rows_affected(&done) == 1)
}

/// Takes a transaction's claims and erases them. Only the reader whose
/// `UPDATE` changes the row gets the claims: a concurrent reader (another
/// replica) finds them gone.
async fn take_claims<DB>(conn: &mut DB::Connection, id: &str) -> Result<Option<String>, StoreError>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'r> (Option<String>,): FromRow<'r, DB::Row>,
{
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT claims FROM transactions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let done = sqlx::query(
        "UPDATE transactions SET claims = NULL, claims_erase_at = NULL \
         WHERE id = $1 AND claims IS NOT NULL",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(row
        .filter(|_| DB::rows_affected(&done) == 1)
        .and_then(|(c,)| c))
}

#[async_trait]
impl<DB> Store for SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (i64, String): FromRow<'r, DB::Row>,
    for<'r> (Option<String>,): FromRow<'r, DB::Row>,
    for<'r> CaRow: FromRow<'r, DB::Row>,
    for<'r> TenantRow: FromRow<'r, DB::Row>,
    for<'r> TokenRow: FromRow<'r, DB::Row>,
    for<'r> TxRow: FromRow<'r, DB::Row>,
    for<'r> AuditRow: FromRow<'r, DB::Row>,
{
    fn backend(&self) -> Backend {
        DB::BACKEND
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn ca(&self) -> Result<Option<CaRecord>, StoreError> {
        let row: Option<CaRow> = sqlx::query_as(
            "SELECT common_name, cert_der, sealed_key, created_at FROM operator_ca WHERE id = 1",
        )
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| CaRecord {
            common_name: r.common_name,
            cert_der: r.cert_der,
            sealed_key: r.sealed_key,
            created_at: r.created_at,
        }))
    }

    async fn init_ca(&self, ca: &CaRecord, audit: PendingEntry) -> Result<(), StoreError> {
        let mut tx: Transaction<'_, DB> = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO operator_ca (id, common_name, cert_der, sealed_key, created_at) \
             VALUES (1, $1, $2, $3, $4)",
        )
        .bind(ca.common_name.as_str())
        .bind(ca.cert_der.as_slice())
        .bind(ca.sealed_key.as_slice())
        .bind(ca.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "the operator CA"))?;
        append_audit::<DB>(&mut tx, audit, ca.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_tenant(&self, t: &Tenant, audit: PendingEntry) -> Result<(), StoreError> {
        let mut tx: Transaction<'_, DB> = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO tenants (id, name_zh, name_en, region, dns, client_id_prefix, \
             allow_plain_direct_post, cert_der, sealed_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(t.id.as_str())
        .bind(t.name_zh.as_str())
        .bind(t.name_en.as_str())
        .bind(t.region.as_str())
        .bind(t.dns.as_str())
        .bind(t.client_id_prefix.as_str())
        .bind(i64::from(t.allow_plain_direct_post))
        .bind(t.cert_der.as_slice())
        .bind(t.sealed_key.as_slice())
        .bind(t.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, &format!("tenant {}", t.id)))?;
        append_audit::<DB>(&mut tx, audit, t.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<TenantRow> = sqlx::query_as("SELECT * FROM tenants ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(TenantRow::into_tenant).collect()
    }

    async fn tenant(&self, id: &str) -> Result<Tenant, StoreError> {
        let row: TenantRow = sqlx::query_as("SELECT * FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("tenant {id}")))?;
        row.into_tenant()
    }

    async fn create_token(
        &self,
        t: &TokenRecord,
        hash: &str,
        audit: PendingEntry,
    ) -> Result<(), StoreError> {
        let mut tx: Transaction<'_, DB> = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO tokens (id, hash, tenant_id, label, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(t.id.as_str())
        .bind(hash)
        .bind(t.scope.tenant())
        .bind(t.label.as_str())
        .bind(t.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "token"))?;
        append_audit::<DB>(&mut tx, audit, t.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT id, tenant_id, label, created_at, revoked_at FROM tokens \
             WHERE hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(TokenRecord::from))
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(
            "SELECT id, tenant_id, label, created_at, revoked_at FROM tokens ORDER BY created_at, id",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(TokenRecord::from).collect())
    }

    async fn revoke_token(&self, id: &str, at: i64, audit: PendingEntry) -> Result<(), StoreError> {
        let mut tx: Transaction<'_, DB> = self.write.begin().await?;
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        if DB::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound(format!("live token {id}")));
        }
        append_audit::<DB>(&mut tx, audit, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pending_count(&self, tenant: &str, now: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM transactions WHERE tenant_id = $1 AND state = 'pending' AND expires_at > $2",
        )
        .bind(tenant)
        .bind(now)
        .fetch_one(&self.read)
        .await?;
        Ok(n)
    }

    async fn transaction(&self, id: &str) -> Result<TransactionRecord, StoreError> {
        let row: TxRow = sqlx::query_as("SELECT * FROM transactions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("transaction {id}")))?;
        row.into_record()
    }

    async fn write_group(&self, writes: &[Write]) -> Result<Vec<WriteResult>, StoreError> {
        let mut tx: Transaction<'_, DB> = self.write.begin().await?;
        let mut results = Vec::with_capacity(writes.len());
        let mut audits = Vec::with_capacity(writes.len());
        for w in writes {
            match w {
                Write::Create { record, audit } => {
                    insert_transaction::<DB>(&mut tx, record).await?;
                    audits.push((audit, record.created_at));
                    results.push(Ok(Written::Created));
                }
                Write::Answer {
                    id,
                    answer,
                    now,
                    audit,
                } => {
                    if answer_transaction::<DB>(&mut tx, id, answer, *now).await? {
                        audits.push((audit, *now));
                        results.push(Ok(Written::Answered));
                    } else {
                        results.push(Err(StoreError::InvalidTransition(format!(
                            "transaction {id} was already answered or has expired"
                        ))));
                    }
                }
                Write::TakeClaims { id, now, audit } => {
                    let claims = take_claims::<DB>(&mut tx, id).await?;
                    if claims.is_some() {
                        audits.push((audit, *now));
                    }
                    results.push(Ok(Written::Claims(claims)));
                }
            }
        }
        append_audits::<DB>(&mut tx, audits).await?;
        tx.commit().await?;
        Ok(results)
    }

    async fn maintain(&self, now: i64) -> Result<(u64, u64), StoreError> {
        let mut tx: Transaction<'_, DB> = self.write.begin().await?;
        let expired = sqlx::query(
            "UPDATE transactions SET state = 'expired', enc_sealed = $2 \
             WHERE state = 'pending' AND expires_at <= $1",
        )
        .bind(now)
        .bind(&[][..])
        .execute(&mut *tx)
        .await?;
        let erased = sqlx::query(
            "UPDATE transactions SET claims = NULL, claims_erase_at = NULL \
             WHERE claims IS NOT NULL AND claims_erase_at <= $1",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((DB::rows_affected(&expired), DB::rows_affected(&erased)))
    }

    async fn audit_entries(
        &self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT * FROM audit_log WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(chain)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                chain: r.chain,
                seq: r.seq,
                at: r.at,
                actor: r.actor,
                action: r.action,
                subject: r.subject,
                detail: r.detail,
                prev_hash: r.prev_hash,
                hash: r.hash,
            })
            .collect())
    }

    async fn audit_head(&self, chain: &str) -> Result<(i64, String), StoreError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, head FROM audit_heads WHERE chain = $1")
                .bind(chain)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.unwrap_or_else(|| (0, GENESIS.to_owned())))
    }
}
