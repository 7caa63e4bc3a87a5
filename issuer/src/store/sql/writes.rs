//! Steps that several transactions share: appending to an agency's audit
//! chain, inserting a signing key, and inserting credential rows. They run on the caller's
//! connection, inside the caller's transaction.

use std::collections::{BTreeMap, HashSet};

use sqlx::{Database, Encode, Executor, IntoArguments, Type};

use super::Dialect;
use super::statement::{Placeholders, Statement};

use crate::audit::{AuditEntry, PendingEntry, SCHEME};
use crate::store::{Conflict, NewCredential, StoreError, StoredKey, conflict_or};

/// Rows to insert per multi-row `INSERT` (well under both parameter limits).
pub(super) const INSERT_CHUNK: usize = 400;

/// Moves an agency's audit counter on by `$2` entries for agency `$1`,
/// answering the new counter and the chain's head before them.
pub(super) const RESERVE_AUDIT_SEQ: &str = "UPDATE agencies SET audit_seq = audit_seq + $2 \
     WHERE id = $1 RETURNING audit_seq, audit_head";

/// Sets agency `$1`'s audit chain head to `$2`.
pub(super) const SET_AUDIT_HEAD: &str = "UPDATE agencies SET audit_head = $2 WHERE id = $1";

/// A row if agency `$1` has issued a credential with licence id `$2` (one
/// lookup on the unique index).
pub(super) const LICENCE_ID_TAKEN: &str =
    "SELECT 1 FROM credentials WHERE agency_id = $1 AND licence_id = $2";

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
    DB: Dialect,
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
    let (last, mut prev): (i64, String) = sqlx::query_as(RESERVE_AUDIT_SEQ)
        .bind(agency)
        .bind(n)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("agency {agency}")))?;
    let chained = link_entries(agency, entries, last, &mut prev, at);
    for chunk in chained.chunks(INSERT_CHUNK) {
        audit_values(DB::PLACEHOLDERS, chunk)
            .query::<DB>()
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(SET_AUDIT_HEAD)
        .bind(agency)
        .bind(prev)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Links `entries` to an agency's chain whose counter was just moved on by
/// their number to `last` and whose head was `prev`; `prev` ends as the
/// new head.
pub(super) fn link_entries(
    agency: &str,
    entries: Vec<PendingEntry>,
    last: i64,
    prev: &mut String,
    at: i64,
) -> Vec<AuditEntry> {
    let n = i64::try_from(entries.len()).unwrap_or(i64::MAX);
    let mut chained: Vec<AuditEntry> = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let seq = last - n + 1 + i64::try_from(i).unwrap_or(0);
        let e = e.link(SCHEME, agency, seq, at, prev);
        prev.clone_from(&e.hash);
        chained.push(e);
    }
    chained
}

/// `INSERT INTO audit_log … VALUES` for these linked entries.
pub(super) fn audit_values(placeholders: Placeholders, chunk: &[AuditEntry]) -> Statement<'_> {
    Statement::insert_values(
        "INSERT INTO audit_log \
         (agency_id, seq, at, actor, action, subject, detail, prev_hash, hash)",
        placeholders,
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
}

/// The attested key storage of each row (migration 0002), as stored: the
/// JSON of the key attestation's storage level, or NULL.
pub(super) fn key_attestations(chunk: &[NewCredential]) -> Vec<Option<String>> {
    chunk
        .iter()
        .map(|c| {
            c.record
                .key_storage
                .as_ref()
                .map(|k| serde_json::to_string(k).unwrap_or_default())
        })
        .collect()
}

/// `INSERT INTO credentials … VALUES` for these rows, without the tail;
/// `key_attestations` is [`key_attestations`] of the same chunk.
pub(super) fn credential_values<'a>(
    placeholders: Placeholders,
    chunk: &'a [NewCredential],
    key_attestations: &'a [Option<String>],
) -> Statement<'a> {
    Statement::insert_values(
        "INSERT INTO credentials (id, agency_id, vct, licence_id, status_list, status_idx, \
         status, holder_thumbprint, kid, issued_at, expires_at, offer_id, batch_id, \
         key_attestation, status_seq)",
        placeholders,
        chunk.iter().zip(key_attestations).map(|(c, ka)| {
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
                c.status_seq.into(),
            ]
        }),
    )
}

/// Inserts the credentials' rows (a multi-row `INSERT` per chunk). A taken
/// licence id or status position is a [`Conflict`].
pub(super) async fn insert_credential_rows<DB>(
    conn: &mut DB::Connection,
    items: &[NewCredential],
) -> Result<(), StoreError>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
{
    for chunk in items.chunks(INSERT_CHUNK) {
        let key_attestations = key_attestations(chunk);
        credential_values(DB::PLACEHOLDERS, chunk, &key_attestations)
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

/// Inserts the rows whose unique values (id, licence id, status counter)
/// are free, skipping the others — the unique constraints are the check,
/// so there is no read before — and says which were stored, in order. A
/// row that repeats an earlier row's licence id in the same call is
/// skipped too. Usually every row is stored, which the count of inserted
/// rows shows; only when it falls short are the stored ids read back.
pub(super) async fn insert_free_credential_rows<DB>(
    conn: &mut DB::Connection,
    items: &[NewCredential],
) -> Result<Vec<bool>, StoreError>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'r> (String, i64, i64): sqlx::FromRow<'r, DB::Row>,
{
    let mut stored = Vec::with_capacity(items.len());
    for chunk in items.chunks(INSERT_CHUNK) {
        let key_attestations = key_attestations(chunk);
        let mut insert = credential_values(DB::PLACEHOLDERS, chunk, &key_attestations);
        insert.push(" ON CONFLICT DO NOTHING");
        let done = insert.query::<DB>().execute(&mut *conn).await?;
        if usize::try_from(DB::rows_affected(&done)).ok() == Some(chunk.len()) {
            stored.extend(std::iter::repeat_n(true, chunk.len()));
            continue;
        }
        let rows: Vec<(String, i64, i64)> = stored_rows_select(DB::PLACEHOLDERS, chunk)
            .query_as::<DB, (String, i64, i64)>()
            .fetch_all(&mut *conn)
            .await?;
        stored.extend(which_stored(chunk, &rows));
    }
    Ok(stored)
}

/// A group of credentials inside the caller's transaction, the ordinary
/// way: the rows whose unique values are free, the audit entries of those
/// stored (each agency's chain reserved under its row's lock, in agency
/// order), then why each other one was refused.
pub(super) async fn insert_credentials_in<DB>(
    conn: &mut DB::Connection,
    items: &[NewCredential],
    at: i64,
) -> Result<Vec<Result<(), Conflict>>, StoreError>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'r> (i64, String): sqlx::FromRow<'r, DB::Row>,
    for<'r> (String, i64, i64): sqlx::FromRow<'r, DB::Row>,
{
    let stored = insert_free_credential_rows(&mut *conn, items).await?;
    for (agency, entries) in issue_entries_by_agency(stored_items(items, &stored)) {
        append_audit(&mut *conn, agency, entries, at).await?;
    }
    let mut out = Vec::with_capacity(items.len());
    for (item, stored) in items.iter().zip(stored) {
        out.push(if stored {
            Ok(())
        } else {
            Err(refusal(&mut *conn, item).await?)
        });
    }
    Ok(out)
}

/// The items that [`insert_free_credential_rows`] says were stored.
pub(super) fn stored_items<'a>(
    items: &'a [NewCredential],
    stored: &'a [bool],
) -> impl Iterator<Item = &'a NewCredential> + 'a {
    items
        .iter()
        .zip(stored)
        .filter(|(_, s)| **s)
        .map(|(c, _)| c)
}

/// `SELECT id, status_list, status_idx` of the rows with the chunk's ids:
/// what [`insert_free_credential_rows`] reads back when fewer rows went in
/// than were sent.
pub(super) fn stored_rows_select(
    placeholders: Placeholders,
    chunk: &[NewCredential],
) -> Statement<'_> {
    let mut select = Statement::new(
        "SELECT id, status_list, status_idx FROM credentials WHERE id IN (",
        placeholders,
    );
    for (i, c) in chunk.iter().enumerate() {
        if i > 0 {
            select.push(", ");
        }
        select.push_bind(c.record.id.as_str());
    }
    select.push(")");
    select
}

/// Which of the chunk's items are stored, given the rows
/// [`stored_rows_select`] read: our row, not an older one with the same
/// id, since its status position (unique per agency, as the counter
/// behind it is) is the one this item was given.
pub(super) fn which_stored<'a>(
    chunk: &'a [NewCredential],
    rows: &'a [(String, i64, i64)],
) -> impl Iterator<Item = bool> + 'a {
    let rows: HashSet<(&str, i64, i64)> = rows
        .iter()
        .map(|(id, list, idx)| (id.as_str(), *list, *idx))
        .collect();
    chunk.iter().map(move |c| {
        let r = &c.record;
        rows.contains(&(r.id.as_str(), r.status_list, r.status_idx))
    })
}

/// Why a row [`insert_free_credential_rows`] skipped was refused: its
/// licence id is taken, or else (a bug if it ever happens) its status
/// position or id.
pub(super) async fn refusal<DB>(
    conn: &mut DB::Connection,
    item: &NewCredential,
) -> Result<Conflict, StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
{
    let Some(licence) = item.record.licence_id.as_deref() else {
        return Ok(Conflict::StatusIndex);
    };
    let taken = sqlx::query(LICENCE_ID_TAKEN)
        .bind(item.record.agency_id.as_str())
        .bind(licence)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    Ok(if taken {
        Conflict::LicenceId
    } else {
        Conflict::StatusIndex
    })
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
pub(super) fn issue_entries_by_agency<'a>(
    items: impl IntoIterator<Item = &'a NewCredential>,
) -> BTreeMap<&'a str, Vec<PendingEntry>> {
    let mut by_agency: BTreeMap<&str, Vec<PendingEntry>> = BTreeMap::new();
    for c in items {
        by_agency
            .entry(c.record.agency_id.as_str())
            .or_default()
            .push(issue_entry(c));
    }
    by_agency
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{credential, store_with_agency};
    use crate::store::{Conflict, Store};

    #[tokio::test]
    async fn a_taken_licence_id_refuses_only_its_credential_and_writes_no_audit_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_agency(dir.path()).await;
        let (entries, _) = store.audit_head("a").await.unwrap();
        // The second repeats the first's licence id in the same group.
        let group = [
            credential("c1", "L1", 1),
            credential("c2", "L1", 2),
            credential("c3", "L2", 3),
        ];
        let outcomes = store.insert_credentials(&group, 2).await.unwrap();
        assert_eq!(outcomes, vec![Ok(()), Err(Conflict::LicenceId), Ok(())]);
        // Against a stored one.
        let outcomes = store
            .insert_credentials(&[credential("c4", "L2", 4), credential("c5", "L3", 5)], 3)
            .await
            .unwrap();
        assert_eq!(outcomes, vec![Err(Conflict::LicenceId), Ok(())]);
        let stored: Vec<String> = store
            .list_credentials(
                "a",
                &crate::store::CredentialFilter {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .into_iter()
            .map(|(_, c)| c.id)
            .collect();
        assert_eq!(stored, ["c1", "c3", "c5"]);
        let audit = store.audit_entries("a", entries, 100).await.unwrap();
        let subjects: Vec<&str> = audit.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(subjects, ["c1", "c3", "c5"]);
    }
}
