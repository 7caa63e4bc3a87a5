//! Steps that several transactions share: appending to an agency's audit
//! chain, inserting a signing key, and inserting credential rows. They run on the caller's
//! connection, inside the caller's transaction.

use std::collections::BTreeMap;

use sqlx::{Database, Encode, Executor, IntoArguments, Type};

use super::statement::Statement;

use crate::audit::{AuditEntry, PendingEntry, SCHEME};
use crate::store::{Conflict, NewCredential, StoreError, StoredKey, conflict_or};

/// Rows to insert per multi-row `INSERT` (well under both parameter limits).
const INSERT_CHUNK: usize = 400;

/// Inserts a new (current) signing key inside the caller's transaction; an
/// agency's first key and every rotated one.
pub(super) async fn insert_signing_key<DB>(
    conn: &mut DB::Connection,
    key: &StoredKey,
) -> Result<(), sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "INSERT INTO signing_keys (agency_id, kid, public_jwk, sealed, created_at, retired_at) \
         VALUES ($1, $2, $3, $4, $5, NULL)",
    )
    .bind(key.agency_id.as_str())
    .bind(key.kid.as_str())
    .bind(key.public_jwk.as_str())
    .bind(key.sealed.as_slice())
    .bind(key.created_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Appends entries to the agency's chain inside the caller's transaction.
/// The `UPDATE … RETURNING` takes the agency row's lock (PostgreSQL) or runs
/// under the single writer (SQLite), so chains never fork.
pub(super) async fn append_audit<DB>(
    conn: &mut DB::Connection,
    agency: &str,
    entries: Vec<PendingEntry>,
    at: i64,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'r> (i64, String): sqlx::FromRow<'r, DB::Row>,
{
    if entries.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(entries.len()).unwrap_or(i64::MAX);
    let (last, mut prev): (i64, String) = sqlx::query_as(
        "UPDATE agencies SET audit_seq = audit_seq + $2 WHERE id = $1 \
         RETURNING audit_seq, audit_head",
    )
    .bind(agency)
    .bind(n)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("agency {agency}")))?;
    let mut chained: Vec<AuditEntry> = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let seq = last - n + 1 + i64::try_from(i).unwrap_or(0);
        let e = e.link(SCHEME, agency, seq, at, &prev);
        prev.clone_from(&e.hash);
        chained.push(e);
    }
    for chunk in chained.chunks(INSERT_CHUNK) {
        Statement::insert_values(
            "INSERT INTO audit_log \
             (agency_id, seq, at, actor, action, subject, detail, prev_hash, hash)",
            chunk.iter().map(|e| {
                [
                    e.chain.as_str().into(),
                    e.seq.into(),
                    e.at.into(),
                    e.actor.as_str().into(),
                    e.action.as_str().into(),
                    e.subject.as_str().into(),
                    e.detail.as_str().into(),
                    e.prev_hash.as_str().into(),
                    e.hash.as_str().into(),
                ]
            }),
        )
        .query::<DB>()
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE agencies SET audit_head = $2 WHERE id = $1")
        .bind(agency)
        .bind(prev)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Inserts the credentials' rows (a multi-row `INSERT` per chunk). A taken
/// licence id or status position is a [`Conflict`].
pub(super) async fn insert_credential_rows<DB>(
    conn: &mut DB::Connection,
    items: &[NewCredential],
) -> Result<(), StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
{
    for chunk in items.chunks(INSERT_CHUNK) {
        let key_attestations: Vec<Option<String>> = chunk
            .iter()
            .map(|c| {
                c.record
                    .key_storage
                    .as_ref()
                    .map(|k| serde_json::to_string(k).unwrap_or_default())
            })
            .collect();
        let insert = Statement::insert_values(
            "INSERT INTO credentials (id, agency_id, vct, licence_id, status_list, status_idx, \
             status, holder_thumbprint, kid, issued_at, expires_at, offer_id, batch_id, \
             key_attestation)",
            chunk.iter().zip(&key_attestations).map(|(c, ka)| {
                let r = &c.record;
                [
                    r.id.as_str().into(),
                    r.agency_id.as_str().into(),
                    r.vct.as_str().into(),
                    r.licence_id.as_deref().into(),
                    r.status_list.into(),
                    r.status_idx.into(),
                    r.status.code().into(),
                    r.holder_thumbprint.as_deref().into(),
                    r.kid.as_str().into(),
                    r.issued_at.into(),
                    r.expires_at.into(),
                    r.offer_id.as_deref().into(),
                    r.batch_id.as_deref().into(),
                    ka.as_deref().into(),
                ]
            }),
        );
        insert
            .query::<DB>()
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                let licence = matches!(&e, sqlx::Error::Database(db)
                if db.constraint().is_some_and(|c| c.contains("licence_id"))
                    || db.message().contains("licence_id"));
                conflict_or(
                    e,
                    if licence {
                        Conflict::LicenceId
                    } else {
                        Conflict::StatusIndex
                    },
                )
            })?;
    }
    Ok(())
}

/// The `credential.issue` audit entry of a stored credential.
pub(super) fn issue_entry(c: &NewCredential) -> PendingEntry {
    let r = &c.record;
    let mut detail = serde_json::json!({
        "vct": r.vct,
        "licence_id": r.licence_id,
        "status_list": r.status_list,
        "status_idx": r.status_idx,
        "kid": r.kid,
        "holder": r.holder_thumbprint,
        "offer": r.offer_id,
    });
    // Only a copy of a batch says so: a single credential's entry keeps
    // the form it always had.
    if let Some(batch) = &r.batch_id {
        detail["batch"] = batch.as_str().into();
    }
    PendingEntry::new(c.actor.clone(), "credential.issue", r.id.clone(), detail)
}

/// The `credential.issue` entries of a batch, grouped by agency (each
/// agency's chain is appended once per transaction).
pub(super) fn issue_entries_by_agency(
    items: &[NewCredential],
) -> BTreeMap<&str, Vec<PendingEntry>> {
    let mut by_agency: BTreeMap<&str, Vec<PendingEntry>> = BTreeMap::new();
    for c in items {
        by_agency
            .entry(c.record.agency_id.as_str())
            .or_default()
            .push(issue_entry(c));
    }
    by_agency
}
