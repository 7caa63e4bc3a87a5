//! The status counter of credentials stored before migration 0006.
//!
//! Since 0006 a credential's status position is kept unique by the
//! database through the agency's counter `g` it was computed from
//! (`status_seq`, unique per agency; [`crate::status_index`]). Rows stored
//! before have no `status_seq`: the partial index
//! `credentials_legacy_position` keeps their positions unique among
//! themselves, and this step, run each time the store is opened, computes
//! their `g` by inverting the permutation and sets it, so the counter's
//! index covers them too. Once it has run, it finds nothing to do.

use sqlx::{Encode, Executor, FromRow, IntoArguments, Pool, Transaction, Type};

use super::Dialect;
use crate::status_index;
use crate::store::{Conflict, StoreError, conflict_or};

/// Rows set per transaction.
const CHUNK: i64 = 1_000;

/// Sets `status_seq` on every credential that has none; returns how many.
/// A position no counter maps to (an index outside its list), or a counter
/// another credential already holds, is an error: two credentials would
/// share an entry of a status list.
pub(in crate::store) async fn backfill_status_seq<DB>(pool: &Pool<DB>) -> Result<u64, StoreError>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'r> (i64, i64, i64, String, i64): FromRow<'r, DB::Row>,
{
    let mut done = 0u64;
    loop {
        let mut tx: Transaction<'_, DB> = pool.begin().await?;
        // Ordered as the partial index `credentials_legacy_position` (whose
        // rows are exactly those without a counter), so the database reads
        // that index, which is empty once this has run, instead of scanning
        // every credential at each start.
        let rows: Vec<(i64, i64, i64, String, i64)> = sqlx::query_as(
            "SELECT c.row_id, c.status_list, c.status_idx, a.index_key, a.status_list_size \
             FROM credentials c JOIN agencies a ON a.id = c.agency_id \
             WHERE c.status_seq IS NULL \
             ORDER BY c.agency_id, c.status_list, c.status_idx LIMIT $1",
        )
        .bind(CHUNK)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(done);
        }
        for (row_id, list, idx, key, size) in rows {
            let g = status_index::counter(key.as_bytes(), list, idx, size).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "credential row {row_id}: status position ({list}, {idx}) is outside \
                     the agency's lists of {size}"
                ))
            })?;
            sqlx::query(
                "UPDATE credentials SET status_seq = $1 WHERE row_id = $2 AND status_seq IS NULL",
            )
            .bind(g)
            .bind(row_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, Conflict::StatusIndex))?;
            done += 1;
        }
        tx.commit().await?;
    }
}

#[cfg(test)]
mod tests {
    //! Rows stored before migration 0006 (by the SQL the service ran then),
    //! the store opened over them: each gets its counter, still revokes,
    //! suspends and shows in its status list, and its counter is refused to
    //! a new credential. SQLite always; PostgreSQL when
    //! `TONGBAN_TEST_DATABASE_URL` is set.

    use std::str::FromStr as _;

    use sqlx::migrate::Migrator;

    use crate::audit::GENESIS;
    use crate::status_index::position;
    use crate::store::postgres::PostgresStore;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{
        Conflict, CredentialRecord, CredentialStatus, NewCredential, StatusChange, Store,
    };
    use tongban_test_support::postgres::FreshDatabase;

    const KEY: &str = "6b6579";
    const SIZE: i64 = 16;
    /// The counters of the credentials stored before 0006: lists 0 and 1.
    const OLD: [i64; 5] = [0, 1, 2, 3, 17];

    /// The migrations before 0006.
    fn before_0006(mut m: Migrator) -> Migrator {
        m.migrations = m
            .migrations
            .iter()
            .filter(|x| x.version < 6)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        m
    }

    /// The statements the service ran before 0006 for an agency and the
    /// credentials of [`OLD`] (no `status_seq`).
    fn legacy_rows() -> Vec<String> {
        let mut sql = vec![format!(
            "INSERT INTO agencies (id, iss, name_zh, name_en, region, vcts, status_list_size, \
             index_key, created_at, next_status_idx, audit_head, enc_kid, enc_public_jwk, \
             enc_sealed) VALUES ('a', 'https://i.test/agencies/a', '甲', 'A', '320509', '[]', \
             {SIZE}, '{KEY}', 1, 24, '{GENESIS}', 'e', '{{}}', '\\x00')"
        )];
        for g in OLD {
            let (list, idx) = position(KEY.as_bytes(), g, SIZE);
            sql.push(format!(
                "INSERT INTO credentials (id, agency_id, vct, licence_id, status_list, \
                 status_idx, status, kid, issued_at) \
                 VALUES ('old{g}', 'a', 'v', 'L{g}', {list}, {idx}, 0, 'k', 1)"
            ));
        }
        sql
    }

    fn new_credential(id: &str, g: i64) -> NewCredential {
        let (list, idx) = position(KEY.as_bytes(), g, SIZE);
        NewCredential {
            record: CredentialRecord {
                id: id.into(),
                agency_id: "a".into(),
                vct: "v".into(),
                licence_id: None,
                status_list: list,
                status_idx: idx,
                status: CredentialStatus::Valid,
                holder_thumbprint: None,
                kid: "k".into(),
                issued_at: 2,
                expires_at: None,
                offer_id: None,
                batch_id: None,
                key_storage: None,
            },
            status_seq: g,
            actor: "test".into(),
        }
    }

    /// What must hold once the store has opened the legacy rows.
    async fn check(store: &dyn Store) {
        let at = |g: i64| position(KEY.as_bytes(), g, SIZE);
        // Revoke one in list 0, suspend the one in list 1: both show.
        store
            .change_status("a", "old1", StatusChange::Revoke, None, "test", 3)
            .await
            .unwrap();
        store
            .change_status("a", "old17", StatusChange::Suspend, None, "test", 3)
            .await
            .unwrap();
        assert_eq!(
            store.list_statuses("a", 0).await.unwrap(),
            vec![(at(1).1, CredentialStatus::Revoked.code())]
        );
        assert_eq!(
            store.list_statuses("a", 1).await.unwrap(),
            vec![(at(17).1, CredentialStatus::Suspended.code())]
        );
        // Their counters are taken: a new credential given one is refused
        // by the database (and so is a second one with the same new
        // counter), whatever else is free.
        let outcomes = store
            .insert_credentials(
                &[
                    new_credential("new2", 2),
                    new_credential("new24", 24),
                    new_credential("again24", 24),
                    new_credential("new25", 25),
                ],
                4,
            )
            .await
            .unwrap();
        assert_eq!(
            outcomes,
            vec![
                Err(Conflict::StatusIndex),
                Ok(()),
                Err(Conflict::StatusIndex),
                Ok(())
            ]
        );
        assert_eq!(store.status_list_count("a").await.unwrap(), 2);
    }

    #[tokio::test]
    async fn sqlite_rows_from_before_0006_get_their_counter_and_keep_working() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.sqlite3");
        {
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str("sqlite://")
                .unwrap()
                .filename(&file)
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
            before_0006(sqlx::migrate!("./migrations/sqlite"))
                .run(&pool)
                .await
                .unwrap();
            for s in legacy_rows() {
                sqlx::query(&s.replace("'\\x00'", "x'00'"))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            pool.close().await;
        }
        let store = SqliteStore::open(&file).await.unwrap();
        let seqs: Vec<(String, i64)> =
            sqlx::query_as("SELECT id, status_seq FROM credentials ORDER BY row_id")
                .fetch_all(&store.write)
                .await
                .unwrap();
        let want: Vec<(String, i64)> = OLD.iter().map(|g| (format!("old{g}"), *g)).collect();
        assert_eq!(seqs, want);
        check(&store).await;
        // Opened again: nothing left to do.
        assert_eq!(super::backfill_status_seq(&store.write).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn postgres_rows_from_before_0006_get_their_counter_and_keep_working() {
        let Some(db) = FreshDatabase::create("tongban_b", "backfill").await else {
            return;
        };
        let db_url = db.url().to_owned();
        {
            let pool = sqlx::PgPool::connect(&db_url).await.unwrap();
            before_0006(sqlx::migrate!("./migrations/postgres"))
                .run(&pool)
                .await
                .unwrap();
            for s in legacy_rows() {
                sqlx::query(&s).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
        let store = PostgresStore::open(&db_url, 2).await.unwrap();
        let seqs: Vec<(String, i64)> =
            sqlx::query_as("SELECT id, status_seq FROM credentials ORDER BY row_id")
                .fetch_all(&store.write)
                .await
                .unwrap();
        let want: Vec<(String, i64)> = OLD.iter().map(|g| (format!("old{g}"), *g)).collect();
        assert_eq!(seqs, want);
        check(&store).await;
        assert_eq!(super::backfill_status_seq(&store.write).await.unwrap(), 0);
        store.write.close().await;
        db.drop_now().await;
    }
}
